/*
 * trampoline.S — where application processors start (copied to physical 0x8000).
 *
 * A STARTUP IPI starts an AP in 16-bit real mode at 0x8000 (vector 0x08). It loads a small
 * GDT, enters protected mode, enables PAE, loads the kernel PML4 (which identity-maps low
 * memory while APs boot), sets EFER.LME/NXE and paging, far-jumps to 64-bit code and calls
 * the C entry ap_main(cpu) on its own stack. smp.c fills the parameter block at the end.
 */
#define TRAMP_BASE 0x8000
#define T(x) (TRAMP_BASE + (x) - trampoline_start)

    .section .rodata
    .globl trampoline_start, trampoline_end, trampoline_params
    .code16
trampoline_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl T(tramp_gdt_ptr)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $T(tramp32)

    .code32
tramp32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov T(tp_cr3), %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax
    orl T(tp_efer_extra), %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0
    ljmp $0x18, $T(tramp64)

    .code64
tramp64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov T(tp_stack), %rsp
    mov T(tp_cpu), %rdi
    mov T(tp_entry), %rax
    xor %ebp, %ebp
    call *%rax
1:  hlt
    jmp 1b

    .align 16
tramp_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
tramp_gdt_ptr:
    .short 31
    .long T(tramp_gdt)

    .align 8
trampoline_params:
tp_cr3:        .quad 0
tp_stack:      .quad 0
tp_entry:      .quad 0
tp_cpu:        .quad 0
tp_efer_extra: .quad 0
trampoline_end:

    .section .note.GNU-stack, "", @progbits
