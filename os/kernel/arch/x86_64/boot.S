/*
 * boot.S — from the boot loader to C.
 *
 * GRUB (multiboot2) and QEMU -kernel (multiboot1) both enter _start32 in 32-bit protected mode
 * with paging off, the magic in eax and the boot information's physical address in ebx.
 * We build throw-away page tables that map the first 1 GiB three times (identity, the direct
 * map at 0xffff800000000000 and the kernel window at 0xffffffff80000000), enable PAE, long
 * mode and paging, load a minimal 64-bit GDT and jump to the higher half, where kmain()
 * gets (magic, info). C replaces these tables with the real ones in paging_init().
 */
#define MB1_MAGIC   0x1BADB002
#define MB1_FLAGS   0x00000003      /* page-aligned modules, memory map */
#define MB2_MAGIC   0xE85250D6

    .section .multiboot, "a"
    .align 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)

    .align 8
mb2_header:
    .long MB2_MAGIC
    .long 0                         /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + (mb2_header_end - mb2_header))
    .align 8                        /* module alignment tag */
    .short 6, 0
    .long 8
    .align 8                        /* end tag */
    .short 0, 0
    .long 8
mb2_header_end:

    .section .boot.text, "ax"
    .code32
    .globl _start32
_start32:
    cli
    cld
    mov %eax, %esi                  /* magic */
    mov %ebx, %edi                  /* boot information */
    mov $boot_stack32_top, %esp

    /* Zero the early page tables (6 pages). */
    push %edi
    mov $early_pml4, %edi
    mov $(6 * 1024), %ecx
    xor %eax, %eax
    rep stosl
    pop %edi

    /* PML4[0] and PML4[256] -> low PDPT; PML4[511] -> high PDPT. */
    mov $early_pdpt_low, %eax
    or $3, %eax
    mov %eax, early_pml4
    mov %eax, early_pml4 + 256 * 8
    mov $early_pdpt_high, %eax
    or $3, %eax
    mov %eax, early_pml4 + 511 * 8
    /* low PDPT[0] and high PDPT[510] -> PD mapping 0..1 GiB with 2 MiB pages. */
    mov $early_pd, %eax
    or $3, %eax
    mov %eax, early_pdpt_low
    mov %eax, early_pdpt_high + 510 * 8
    mov $early_pd, %ebx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                  /* present, writable, 2 MiB */
    mov %eax, (%ebx, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    mov $early_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4

    /* EFER: long mode, and NX if the CPU has it. */
    mov $0x80000001, %eax
    cpuid
    xor %ebx, %ebx
    bt $20, %edx
    jnc 2f
    mov $0x800, %ebx
2:  mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax
    or %ebx, %eax
    wrmsr

    mov %cr0, %eax
    or $0x80010001, %eax            /* PG | WP | PE */
    mov %eax, %cr0

    lgdt early_gdt_ptr
    ljmp $0x08, $long_mode_low

    .code64
long_mode_low:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $long_mode_high, %rax
    jmp *%rax

    .section .boot.data, "aw"
    .align 16
early_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 64-bit code */
    .quad 0x00cf92000000ffff        /* data */
early_gdt_end:
early_gdt_ptr:
    .short early_gdt_end - early_gdt - 1
    .long early_gdt

    .section .boot.bss, "aw", @nobits
    .align 4096
early_pml4:      .skip 4096
early_pdpt_low:  .skip 4096
early_pdpt_high: .skip 4096
early_pd:        .skip 4096
                 .skip 8192         /* zeroed with the tables; spare */
boot_stack32:    .skip 4096
boot_stack32_top:

    .text
    .code64
long_mode_high:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %edi, %eax                  /* info */
    mov %esi, %edi                  /* arg 1: magic */
    mov %eax, %esi                  /* arg 2: info physical address */
    call kmain
3:  cli
    hlt
    jmp 3b

    .bss
    .align 16
    .globl boot_stack_top
boot_stack: .skip 32768
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
