/*
 * syscall.c — the system call table (numbers and arguments from os/abi/kernel.toml).
 *
 * syscall_entry (entry.S) saves the user registers and calls syscall_dispatch (which records
 * syscall_enter/exit) or, while the syscall class is not traced, syscall_dispatch_untraced,
 * with interrupts off; we turn them on, run the call with rdi, rsi, rdx, r10, r8, r9 as
 * arguments, put the result in rax and, before returning, let the thread die, stop or yield
 * if it must.
 * The calls themselves live in one small file per family (Managarm style), each defining
 * sys_NAME for the NAME of kernel.toml (declared in syscall.h):
 *   sys_thread.c   threads and time        sys_process.c  processes, supervisors
 *   sys_memory.c   handles, memory, futex  sys_console.c  log, console, COM1 hand-over
 *   ioport_irq.c   I/O-port and IRQ objects  sys_system.c  introspection, control, trace, sysfs
 *   sys_inspect.c  reading another process (regions, memory, stopped threads' registers)
 *   ipc/sys.c      the IPC calls (numbers 64..)
 * Every handle is looked up in the caller's own table with the rights the call needs
 * (handle_get, handle.c); every user pointer goes through usercopy.c.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/ipc.h>
#include "syscall.h"

typedef int64_t (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
#define ENTRY(num, name, nargs) [num] = sys_##name,
HOT_RODATA static const syscall_fn table[LANES_SYS_COUNT] = { LANES_SYSCALLS(ENTRY) };

static inline void dispatch(struct regs *r, uint64_t nr)
{
    if (nr < LANES_SYS_COUNT && table[nr])
        r->rax = table[nr](r->rdi, r->rsi, r->rdx, r->r10, r->r8);
    else if (nr >= LANES_SYS_IPC_STREAM_CREATE && nr < LANES_IPC_SYS_COUNT)
        r->rax = (uint64_t)ipc_syscall(r);      /* IPC lanes: generic/ipc/sys.c */
    else
        r->rax = (uint64_t)(int64_t)LANES_E_NOSYS;
}

/* With the syscall's enter and exit records: entry.S (syscall_entry and int80_entry) calls this
 * one while the syscall class is traced (the default) and syscall_dispatch_untraced below
 * otherwise, so the enter record need not test the class again (and the untraced path stays
 * short); the exit record does, in case tracing was switched off during the call. Interrupts are off on the way in (the syscall instruction masks them
 * through FMASK, the int 0x80 gate clears them) and off again for the exit record (the way
 * out, entry.S's sysret or trap_return, turns them off anyway, and sched_check_user_return
 * serves interrupts too): neither record saves, clears and restores them. */
_Static_assert(TRACE_CLASS_SYSCALL == 8, "entry.S tests bit 3 of trace_classes");
HOT void syscall_dispatch(struct regs *r)
{
    uint64_t nr = r->rax;
    struct thread *me = current();
    if (me->utrace)
        utrace_drain(me);                   /* libc's records of this call come before it */
    uint32_t tid = me->tid;
    uint64_t eid;
    {
        TRACE_IRQS_ARE_OFF();
        TRACE_CLASS_IS_ON();
        eid = trace_emit_syscall_enter((uint32_t)nr, tid, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
    }
    sti();
    dispatch(r, nr);
    /* nr stays in a register to here, so a debugger shows it anywhere in this function (else
     * gcc reads r->rax twice and tells gdb nr is "optimized out"): the first function most
     * kernel debugging sessions stop in */
    __asm__ volatile("" ::"r"(nr));
    cli();
    {
        TRACE_IRQS_ARE_OFF();               /* (the class may have gone off meanwhile: `trace off`) */
        trace_emit_syscall_exit((uint32_t)nr, tid, (int64_t)r->rax, eid);
    }
    sched_check_user_return(r);
    /* not a tail call: else gcc copies the epilogue into both sides of the exit record's class
     * test, and gdb puts a breakpoint on the line above at the copy that tracing never runs */
    __asm__ volatile("");
}

void syscall_dispatch_untraced(struct regs *r)
{
    struct thread *me = current();
    if (me->utrace)
        utrace_drain(me);
    sti();
    dispatch(r, r->rax);
    sched_check_user_return(r);
}
