/*
 * sys_signal.c — the kernel's share of POSIX signals (issue 14): mechanism only, no policy.
 * Which signal, which thread, masks, handlers and default actions all live in the POSIX server
 * (os/programs/posix/signal.c) and libc (os/lib/src/signal.c); the kernel offers:
 *
 *   thread_alert(process, tid, flags)  interrupt a thread wherever it waits (an IPC queue wait,
 *                               a sleep, a futex: the wait ends INTERRUPTED — or its next one
 *                               does, if it is running) and have it run its *alert entry* on its
 *                               way back to user mode; with ALERT_WAIT_ONLY only the wait ends
 *                               (posix, for a thread it knows is inside a call: the call's end
 *                               delivers, the entry would only look and return — ~1,000
 *                               instructions per signal). Needs SIGNAL on the PROCESS handle.
 *   alert_entry(entry)          the calling thread's alert entry (libc's signal trampoline).
 *                               Delivery (signal_deliver_alert, from sched_check_user_return)
 *                               saves every user register as a lane_alert_frame below the
 *                               user's red zone and enters `entry` with rdi = that frame, as if
 *                               called; libc builds the siginfo/ucontext frame from it.
 *   alert_return(frame)         sigreturn: restore all registers (rcx and r11 too, so the way
 *                               out is iret — entry.S checks regs.vector) from a frame the
 *                               handler may have changed; rip/rsp must be user addresses and
 *                               only harmless rflags bits are taken.
 *   process_stop(process, 0/1)  SIGSTOP/SIGCONT: every thread stops on its way to user mode.
 *   trace_user(type, body, len) a record of class `signal` (trace.toml 160..175) written by
 *                               libc, posix or fs: size and type checked, the header is ours;
 *                               after a sys_begin / cancel_raise / cancel_ack the kernel adds
 *                               a call_site record: where in user code it was written
 *                               (generic/utrace.c, which also drains libc's staging pages).
 *
 * Nothing user space passes here can panic the kernel: handles are looked up with their
 * rights, every pointer goes through usercopy.c, and a user stack the frame cannot be written
 * to kills the process (as Linux's SIGSEGV on a bad signal stack would).
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include "syscall.h"

/* ---- trace_user ----
 * (the checks and the records are generic/utrace.c's, shared with the staging page; the call
 * stays here, where the IDE's "Break on next cancellation" puts its breakpoint: a0 == 165) */

SYS(trace_user)
{
    UNUSED_ARGS;
    return utrace_record(a0, a1, a2);
}

/* ---- alerts ---- */

SYS(thread_alert)
{
    UNUSED_ARGS;
    struct kobj *o;
    if (a2 & ~(uint64_t)LANES_ALERT_WAIT_ONLY)
        return LANES_E_INVAL;
    int64_t r = handle_get(a0, LANES_OBJ_PROCESS, LANES_RIGHT_SIGNAL, &o, NULL);
    if (r)
        return r;
    struct process *p = container_of(o, struct process, obj);
    r = LANES_E_NOENT;
    spin_lock(&p->lock);
    list_for_each(it, &p->threads) {
        struct thread *t = container_of(it, struct thread, proc_link);
        if (t->tid != (uint32_t)a1 || t->exited)
            continue;
        bool entry = !(a2 & LANES_ALERT_WAIT_ONLY);
        if (entry)
            t->alert_pending = 1;
        thread_interrupt_preempt(t);    /* a wait ends now (and, here, runs first), or the next one at once */
        if (entry)
            thread_kick(t);         /* running on another CPU: to user mode soon */
        r = 0;
        break;
    }
    spin_unlock(&p->lock);
    kobj_put(o);
    return r;
}

SYS(alert_entry)
{
    UNUSED_ARGS;
    if (a0 && (a0 >= USER_TOP || !vm_check_exec(self()->vm, a0)))
        return LANES_E_FAULT;
    current()->alert_entry = a0;
    return 0;
}

_Static_assert(sizeof(struct lane_alert_frame) == 18 * 8, "alert frame: 15 registers, rip, rflags, rsp");

/* On the way to user mode with an alert pending: push the frame, enter the alert entry.
 * Interrupts are off here (sched_check_user_return); the copy may fault in a page. */
bool signal_deliver_alert(struct regs *r)
{
    struct lane_alert_frame f = {
        .r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .r11 = r->r11, .r10 = r->r10,
        .r9 = r->r9, .r8 = r->r8, .rbp = r->rbp, .rdi = r->rdi, .rsi = r->rsi, .rdx = r->rdx,
        .rcx = r->rcx, .rbx = r->rbx, .rax = r->rax, .rip = r->rip, .rflags = r->rflags, .rsp = r->rsp,
    };
    uint64_t at = (r->rsp - 128 - sizeof f) & ~15ull;
    if (r->rsp < 4096 || r->rsp > USER_TOP || !user_range_ok(at - 8, sizeof f + 8))
        return false;
    struct { uint64_t ret; struct lane_alert_frame f; } out = { 0, f };
    sti();
    int64_t e = copy_to_user(at - 8, &out, sizeof out);
    cli();
    if (e)
        return false;
    r->rsp = at - 8;
    r->rip = current()->alert_entry;
    r->rdi = at;
    r->rflags &= ~0x500ull;         /* DF, TF clear, as for a call */
    return true;
}

#define USER_FLAGS 0xdd5ull         /* CF PF AF ZF SF TF DF OF */

SYS(alert_return)
{
    UNUSED_ARGS;
    struct thread *t = current();
    struct regs *r = (struct regs *)(t->kstack_top - sizeof(struct regs));
    if (r->vector != VEC_SYSCALL || r->cs != 0x23)
        return LANES_E_INVAL;       /* (not entered through the syscall frame we know) */
    struct lane_alert_frame f;
    if (!user_range_ok(a0, sizeof f) || copy_from_user(&f, a0, sizeof f))
        return LANES_E_FAULT;
    if (f.rip >= USER_TOP || f.rsp >= USER_TOP)
        return LANES_E_INVAL;
    r->r15 = f.r15; r->r14 = f.r14; r->r13 = f.r13; r->r12 = f.r12; r->r11 = f.r11; r->r10 = f.r10;
    r->r9 = f.r9; r->r8 = f.r8; r->rbp = f.rbp; r->rdi = f.rdi; r->rsi = f.rsi; r->rdx = f.rdx;
    r->rcx = f.rcx; r->rbx = f.rbx; r->rip = f.rip; r->rsp = f.rsp;
    r->rflags = (r->rflags & ~USER_FLAGS) | (f.rflags & USER_FLAGS) | 0x202;
    r->vector = VEC_SYSCALL + 1;    /* leave through iret (entry.S), with rcx/r11 as restored */
    return (int64_t)f.rax;          /* becomes rax */
}

/* ---- stop / continue ---- */

SYS(process_stop)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_PROCESS, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    struct process *p = container_of(o, struct process, obj);
    if (p == kernel_process || a1 > 1) {
        kobj_put(o);
        return p == kernel_process ? LANES_E_ACCESS : LANES_E_INVAL;
    }
    spin_lock(&p->lock);
    if (p->state != LANES_PROC_STATE_RUNNING || p->ending) {
        r = a1 ? 0 : LANES_E_INVAL;
    } else {
        list_for_each(it, &p->threads) {
            struct thread *t = container_of(it, struct thread, proc_link);
            t->stop = (int)a1;
            if (a1)
                thread_kick(t);
            else
                thread_continue(t);
        }
    }
    spin_unlock(&p->lock);
    kobj_put(o);
    return r;
}
