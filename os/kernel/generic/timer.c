/*
 * timer.c — per-CPU timer lists and the LAPIC one-shot.
 *
 * A thread that blocks with a deadline is put, sorted, on its CPU's timer list (remembered in
 * t->timer_cpu, since an idle CPU may steal the thread once it is runnable again). The timer interrupt wakes every expired thread with LANES_E_TIMEOUT (holding the
 * timer lock, so a thread that has removed itself can never be woken late), ends the current
 * time slice if it is over and other threads are waiting, and re-arms the LAPIC for the
 * earliest of slice end and next deadline (only when the one already armed would fire too
 * late: an early tick just re-arms). An idle CPU with no timers arms nothing.
 */
#include <kernel/kernel.h>

void timer_add(struct thread *t, uint64_t deadline)
{
    struct cpu *c = t->cpu;
    spin_lock(&c->timer_lock);
    t->timer_cpu = c;
    t->deadline = deadline;
    struct thread **pp = &c->timers.head;
    while (*pp && (*pp)->deadline <= deadline)
        pp = &(*pp)->timer_next;
    t->timer_next = *pp;
    *pp = t;
    t->timer_linked = true;
    bool first = c->timers.head == t;
    spin_unlock(&c->timer_lock);
    if (first && c == this_cpu())
        timer_rearm();
}

void timer_remove(struct thread *t)
{
    struct cpu *c = t->timer_cpu;
    if (!c)
        return;
    spin_lock(&c->timer_lock);
    if (t->timer_linked) {
        for (struct thread **pp = &c->timers.head; *pp; pp = &(*pp)->timer_next) {
            if (*pp == t) {
                *pp = t->timer_next;
                break;
            }
        }
        t->timer_linked = false;
    }
    spin_unlock(&c->timer_lock);
}

HOT void timer_rearm(void)
{
    struct cpu *c = this_cpu();
    if (!lapic_hz)
        return;
    pushcli();
    uint64_t next = UINT64_MAX;
    if (c->current && c->current != c->idle)
        next = c->slice_end;
    struct thread *h = c->timers.head;
    if (h && h->deadline < next)
        next = h->deadline;
    /* Reprogramming the LAPIC is an MMIO write (a trap under virtualization): keep an armed
     * one-shot that fires no later than needed; firing early only re-arms (timer_tick). So a
     * context switch, which moves slice_end later, normally leaves the timer alone. */
    uint64_t now = clock_ns();
    if (c->timer_armed && c->timer_armed <= now)
        c->timer_armed = 0;             /* has fired (or its interrupt is pending) */
    if (next == UINT64_MAX) {
        /* nothing due: an armed one-shot may still fire once, and then stays off */
    } else if (!c->timer_armed || c->timer_armed > next) {
        lapic_timer_oneshot(next > now ? next - now : 1);
        c->timer_armed = next;
    }
    popcli();
}

void timer_tick(void)
{
    struct cpu *c = this_cpu();
    uint64_t now = clock_ns();
    spin_lock(&c->timer_lock);
    while (c->timers.head && c->timers.head->deadline <= now) {
        struct thread *t = c->timers.head;
        c->timers.head = t->timer_next;
        t->timer_linked = false;
        thread_wake(t, LANES_E_TIMEOUT);
    }
    spin_unlock(&c->timer_lock);
    if (c->current != c->idle && now >= c->slice_end) {
        if (c->rq_head)
            c->need_resched = 1;
        else
            c->slice_end = now + SLICE_NS;
    }
    timer_rearm();
}
