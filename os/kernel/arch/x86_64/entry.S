/*
 * entry.S — every way into and out of the kernel once it runs in long mode.
 *
 *  - 256 interrupt stubs: push a zero error code where the CPU does not, push the vector,
 *    then isr_common saves the general registers into a struct regs (see arch.h), switches
 *    GS if we came from user mode and calls trap_dispatch(regs). trap_return undoes it.
 *  - syscall_entry: the `syscall` instruction lands here with interrupts masked (FMASK).
 *    We swap to the kernel GS, move to the thread's kernel stack, build the same struct regs
 *    (vector = 0x100) and call syscall_dispatch(regs) (syscall_dispatch_untraced while the
 *    syscall trace class is off); we leave with sysretq (or iretq if the
 *    frame was changed to something sysret cannot return to).
 *  - int80_entry: the same system call through a DPL 3 interrupt gate (vector 0x80), for
 *    hosts whose `syscall` is broken; builds the same frame, leaves through trap_return.
 *  - switch_context(&old_rsp, new_rsp): saves callee-saved registers on the old stack and
 *    resumes the new one. A new thread's stack starts in thread_entry_trampoline.
 *  - user_copy/user_fill: memcpy/memset for user memory whose faulting instructions are listed
 *    in the .fixup table, so a bad user pointer makes them return -1 instead of panicking.
 *    With SMAP (cpu.c sets CR4.SMAP when the CPU has it) they, and user_load32, are the only
 *    code that opens user memory to the kernel: STAC on entry, CLAC on every way out. Every
 *    entry from an interrupt, exception or int $0x80 does CLAC (those gates keep the
 *    interrupted RFLAGS.AC, which user mode can set); `syscall` clears AC through FMASK.
 */
    .text
    .code64

/* USER_OPEN = stac, USER_CLOSE = clac, only when cpu.c found SMAP (smap_on): on a CPU without
 * it they raise #UD. Both clobber the flags. */
.macro USER_OPEN
    testb $1, smap_on(%rip)
    jz 8f
    stac
8:
.endm
.macro USER_CLOSE
    testb $1, smap_on(%rip)
    jz 8f
    clac
8:
.endm

.macro ISR_NOERR n
    .align 16
isr_\n:
    pushq $0
    pushq $\n
    jmp isr_common
.endm
.macro ISR_ERR n
    .align 16
isr_\n:
    pushq $\n
    jmp isr_common
.endm

    .section .text.debugger, "ax", @progbits   /* the interrupt path, up to the debugger's stub */
.altmacro
.macro ISR_ANY n
    .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
        ISR_ERR %n
    .else
        ISR_NOERR %n
    .endif
.endm
.set i, 0
.rept 256
    ISR_ANY %i
    .set i, i + 1
.endr

.macro ISR_ADDR n
    .quad isr_\n
.endm
    .section .rodata
    .align 8
    .globl isr_stubs
isr_stubs:
.set i, 0
.rept 256
    ISR_ADDR %i
    .set i, i + 1
.endr
.noaltmacro

    .section .text.debugger, "ax", @progbits
.macro PUSH_REGS
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
.endm
.macro POP_REGS
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

isr_common:
    testb $3, 24(%rsp)              /* CS of the interrupted context */
    jz 1f
    swapgs
1:  PUSH_REGS
    cld
    USER_CLOSE
    mov %rsp, %rdi
    push 136(%rsp)                  /* fake frame for backtraces: interrupted rip... */
    push 72(%rsp)                   /* ...and interrupted rbp */
    mov %rsp, %rbp
    call trap_dispatch
    add $16, %rsp
    .globl trap_return
trap_return:
    cli
    POP_REGS
    add $16, %rsp                   /* vector, error */
    testb $3, 8(%rsp)
    jz 2f
    swapgs
2:  iretq
    .globl trap_return_end
trap_return_end:

    .section .text.hot, "ax", @progbits     /* (hot.h: HOT) */
    .globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:16
    mov %gs:8, %rsp
    /* [syscall_entry, syscall_entry_kstack) and [syscall_sysret_user, syscall_sysret_end) run
     * on the user's stack in kernel mode (and partly with the user's GS): a #DB or #BP there would
     * push its frame onto the user stack. The kernel debugger plants no breakpoint there and
     * parks no CPU there (gdbstub_arch.c gdb_arch_code, gdb_arch_nmi_defers): a stopping NMI
     * that lands there parks the CPU at trap_dispatch's park point once interrupts are on).
     * Their ends are assembler-local labels, listed in syscall_user_stack below: a global label
     * here would name every frame above it in a backtrace (gdb, panics) instead of syscall_entry. */
.Lsyscall_entry_kstack:
    pushq $0x1b                     /* ss */
    pushq %gs:16                    /* rsp */
    push %r11                       /* rflags */
    pushq $0x23                     /* cs */
    push %rcx                       /* rip */
    pushq $0                        /* error */
    pushq $0x100                    /* vector: syscall */
    PUSH_REGS
    cld
    mov %rsp, %rdi
    push 120+16(%rsp)               /* fake frame for backtraces through user rip */
    push $0
    mov %rsp, %rbp
    /* tracing syscalls (TRACE_CLASS_SYSCALL, bit 3 of trace_classes: generic/syscall.c checks
     * the bit number)? syscall_dispatch records them; else the variant without: one call either way */
    testl $8, trace_classes(%rip)
    jz 1f
    call syscall_dispatch
    jmp 2f
1:  call syscall_dispatch_untraced
2:  add $16, %rsp
    cli
    /* alert_return (sys_signal.c) restores every register, rcx and r11 too: only iret can */
    cmpq $0x100, 120(%rsp)
    jne trap_return
    /* sysret needs a canonical user rip and the user code segment; otherwise iret. */
    mov 120+16(%rsp), %rcx
    mov %rcx, %rax
    shr $47, %rax
    jnz trap_return
    cmpq $0x23, 120+24(%rsp)
    jne trap_return
    mov 120+32(%rsp), %r11          /* rflags */
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    add $8, %rsp                    /* r11 */
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    add $8, %rsp                    /* rcx */
    pop %rbx
    pop %rax
    mov 40(%rsp), %rsp              /* user rsp (vector, error, rip, cs, rflags, rsp) */
.Lsyscall_sysret_user:
    swapgs
    sysretq
.Lsyscall_sysret_end:

    .section .rodata
    .balign 8
    .globl syscall_user_stack
syscall_user_stack:                 /* [start, end) pairs: gdbstub_arch.c on_user_stack */
    .quad syscall_entry, .Lsyscall_entry_kstack, .Lsyscall_sysret_user, .Lsyscall_sysret_end
    .section .text.hot, "ax", @progbits

/*
 * int80_entry: `int $LANES_SYSCALL_VECTOR` (0x80, a DPL 3 interrupt gate) — the same system
 * call ABI as `syscall` for hosts where `syscall` is broken (see trap.c and kinfo.c). The CPU
 * has already switched to the thread's kernel stack (TSS rsp0) and pushed ss, rsp, rflags,
 * cs, rip with interrupts masked; we complete the same struct regs as syscall_entry (vector
 * VEC_SYSCALL) and leave through trap_return (iretq). rcx and r11 come back unchanged, but
 * the ABI still lets the kernel clobber them, as `syscall` does.
 */
    .globl int80_entry
int80_entry:
    testb $3, 8(%rsp)               /* CS of the caller: only user mode may get here */
    jz 1f
    swapgs
    pushq $0                        /* error */
    pushq $0x100                    /* vector: syscall */
    PUSH_REGS
    cld
    USER_CLOSE
    mov %rsp, %rdi
    push 136(%rsp)                  /* fake frame for backtraces through user rip */
    push $0
    mov %rsp, %rbp
    testl $8, trace_classes(%rip)   /* as syscall_entry does */
    jz 2f
    call syscall_dispatch
    jmp 3f
2:  call syscall_dispatch_untraced
3:  add $16, %rsp
    jmp trap_return
1:  pushq $0                        /* from the kernel: a bug; report it as a #GP */
    pushq $13
    jmp isr_common

/* void switch_context(uint64_t *save_rsp, uint64_t new_rsp) */
    .globl switch_context
switch_context:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* First code a new thread runs: r12 = kernel function (0 for user threads), r13 = argument. */
    .globl thread_entry_trampoline
thread_entry_trampoline:
    call sched_first_run
    test %r12, %r12
    jz trap_return                  /* user thread: the trap frame is right above us */
    mov %r13, %rdi
    xor %ebp, %ebp
    call *%r12
    call thread_exit
    ud2

/* int user_copy(void *dst, const void *src, size_t n): 0, or -1 if an access faulted. */
    .globl user_copy
user_copy:
    USER_OPEN
    mov %rdx, %rcx
    shr $3, %rcx
1:  rep movsq                       /* eight bytes per iteration, then the tail */
    mov %rdx, %rcx
    and $7, %rcx
2:  rep movsb
    USER_CLOSE
    xor %eax, %eax
    ret
3:  USER_CLOSE
    mov $-1, %eax
    ret
    .section .fixup, "a"
    .quad 1b, 3b
    .quad 2b, 3b
    .text

/* int user_fill(void *dst, int c, size_t n) */
    .globl user_fill
user_fill:
    USER_OPEN
    movzbl %sil, %eax
    mov $0x0101010101010101, %rcx
    imul %rcx, %rax
    mov %rdx, %rcx
    shr $3, %rcx
1:  rep stosq
    mov %rdx, %rcx
    and $7, %rcx
2:  rep stosb
    USER_CLOSE
    xor %eax, %eax
    ret
3:  USER_CLOSE
    mov $-1, %eax
    ret
    .section .fixup, "a"
    .quad 1b, 3b
    .quad 2b, 3b
    .text

/* int user_load32(uint32_t *out, const uint32_t *uaddr): atomic 32-bit read of user memory
 * (every futex wait: hot.h). */
    .section .text.hot, "ax", @progbits
    .globl user_load32
user_load32:
    USER_OPEN
1:  mov (%rsi), %eax
    USER_CLOSE
    mov %eax, (%rdi)
    xor %eax, %eax
    ret
2:  USER_CLOSE
    mov $-1, %eax
    ret
    .section .fixup, "a"
    .quad 1b, 2b
    .text

/* int smap_probe_nostac(uint32_t *out, uint64_t uaddr): test only (ktest smap_smep) — the same
 * read as user_load32 without STAC, i.e. what any other kernel code touching user memory does.
 * Under SMAP it faults and returns -1 through its fixup entry. */
    .globl smap_probe_nostac
smap_probe_nostac:
1:  mov (%rsi), %eax
    mov %eax, (%rdi)
    xor %eax, %eax
    ret
2:  mov $-1, %eax
    ret
    .section .fixup, "a"
    .quad 1b, 2b
    .text

    .section .note.GNU-stack, "", @progbits
