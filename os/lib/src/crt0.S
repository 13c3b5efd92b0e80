/* crt0.S — process and thread entry points for LaneOS programs.
 *
 * The kernel enters _start with rdi = struct lane_startup * and a 16-byte aligned rsp (no return
 * address). `call` pushes one, so __lanes_start sees the usual ABI alignment. New threads enter
 * __lanes_thread_entry with rdi = their lanes_thread_t and rsp = the top of their stack; we
 * realign rsp ourselves rather than trust the caller's arithmetic.
 */
    .text
    .globl _start
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined rip
    xorl %ebp, %ebp
    andq $-16, %rsp
    call __lanes_start
    ud2
    .cfi_endproc
    .size _start, . - _start

    .globl __lanes_thread_entry
    .type __lanes_thread_entry, @function
__lanes_thread_entry:
    .cfi_startproc
    .cfi_undefined rip
    xorl %ebp, %ebp
    andq $-16, %rsp
    call __lanes_thread_main
    ud2
    .cfi_endproc
    .size __lanes_thread_entry, . - __lanes_thread_entry

    .section .note.GNU-stack, "", @progbits
