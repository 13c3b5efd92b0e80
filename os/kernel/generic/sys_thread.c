/*
 * sys_thread.c — the thread and time system calls: exit, thread_exit, thread_create,
 * thread_wait, thread_self, thread_interrupt, set_tls, yield, sleep, clock, cpu_id,
 * thread_get_affinity, thread_set_affinity (the work is in balance.c).
 *
 * A new thread starts only once its handle is installed (else it is discarded unseen); its
 * entry must be executable and its stack writable in the caller's address space, so a bad
 * argument is an error here rather than a fault later. thread_wait ends when the thread has
 * exited, at the deadline or when the waiter is interrupted (thread_interrupt, sched.c).
 * set_tls sets the thread's FS base, saved and restored by the context switch (sched.c).
 */
#include <kernel/kernel.h>
#include "syscall.h"

SYS(exit)
{
    UNUSED_ARGS;
    process_terminate(self(), LANES_PROC_STATE_EXITED, (int32_t)a0, NULL);
    thread_exit();
}

SYS(thread_exit) { UNUSED_ARGS; thread_exit(); }

static void thread_discard(struct thread *t)
{
    struct process *p = t->proc;
    spin_lock(&p->lock);
    list_del(&t->proc_link);
    p->nthreads--;
    spin_unlock(&p->lock);
    spin_lock(&sched_all_lock);
    list_del(&t->all_link);
    spin_unlock(&sched_all_lock);
    t->state = T_DEAD;
    pmm_free_contig(V2P(t->kstack), KSTACK_SIZE / PAGE_SIZE);
    kobj_put(&t->obj);
}

SYS(thread_create)
{
    UNUSED_ARGS;
    if (!user_range_ok(a0, 1) || a1 > USER_TOP || a1 < 8)
        return LANES_E_FAULT;
    /* The entry must be executable and the stack writable, or the thread would only fault. */
    if (!vm_check_exec(self()->vm, a0) || !vm_translate(self()->vm, a1 - 8, true))
        return LANES_E_FAULT;
    struct thread *t = thread_create_user(self(), a0, a1, a2, 0, NULL);
    if (!t)
        return self()->state == LANES_PROC_STATE_RUNNING ? LANES_E_NOMEM : LANES_E_DEAD;
    int64_t h = handle_install(&self()->handles, &t->obj, LANES_RIGHT_ALL);
    if (h < 0) {
        thread_discard(t);
        return h;
    }
    thread_start(t);
    return h;
}

SYS(thread_wait)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_THREAD, LANES_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    struct thread *t = container_of(o, struct thread, obj);
    if (t == current()) {
        kobj_put(o);
        return LANES_E_INVAL;
    }
    uint64_t deadline = deadline_from_timeout(a1);
    struct process *p = t->proc;
    spin_lock(&p->lock);
    r = 0;
    while (!t->exited) {
        r = wait_on(&t->exitq, &p->lock, deadline);
        if (r)
            break;
    }
    if (t->exited)
        r = 0;
    spin_unlock(&p->lock);
    kobj_put(o);
    return r;
}

SYS(yield) { UNUSED_ARGS; schedule(); return 0; }
SYS(sleep) { UNUSED_ARGS; return sleep_ns(a0); }
SYS(clock) { UNUSED_ARGS; return (int64_t)clock_ns(); }
SYS(clock_info)
{
    UNUSED_ARGS;
    struct lane_clock_info ci = { 0 };
    clock_params(&ci.tsc_base, &ci.ns_mult, &ci.tsc_hz);
    return copy_to_user(a0, &ci, sizeof ci);
}
SYS(cpu_id) { UNUSED_ARGS; return this_cpu()->id; }

SYS(thread_self) { UNUSED_ARGS; return current()->tid; }

SYS(set_tls)
{
    UNUSED_ARGS;
    if (a0 >= USER_TOP)
        return LANES_E_INVAL;
    current()->fs_base = a0;
    set_user_tls(a0);
    return 0;
}

SYS(thread_interrupt)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_THREAD, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    thread_interrupt(container_of(o, struct thread, obj));
    kobj_put(o);
    return 0;
}

/* ---- CPU affinity (generic/balance.c) ---- */
int64_t balance_sys_get_affinity(uint64_t h, uint64_t umask);
int64_t balance_sys_set_affinity(uint64_t h, uint64_t mask);
SYS(thread_get_affinity) { UNUSED_ARGS; return balance_sys_get_affinity(a0, a1); }
SYS(thread_set_affinity) { UNUSED_ARGS; return balance_sys_set_affinity(a0, a1); }
