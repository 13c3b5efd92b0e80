/*
 * spinlock.c — spinlocks that also keep interrupts off on the CPU holding them.
 *
 * As in xv6, pushcli/popcli count nesting per CPU and remember whether interrupts were on
 * before the outermost lock, so an interrupt handler can never try to take a lock its own CPU
 * already holds. The scheduler keeps its run-queue lock across switch_context; the thread that
 * resumes releases it (sched_finish_switch).
 */
#include <kernel/kernel.h>

static int early_ncli, early_intena;
bool percpu_up;     /* set once the boot CPU's GS base points at its struct cpu */
static inline bool percpu_ready(void)
{
    return percpu_up;
}

void pushcli(void)
{
    bool on = irqs_on();
    cli();
    if (!percpu_ready()) {
        if (early_ncli++ == 0)
            early_intena = on;
        return;
    }
    struct cpu *c = this_cpu();
    if (c->ncli++ == 0)
        c->intena = on;
}

void popcli(void)
{
    if (!percpu_ready()) {
        if (--early_ncli == 0 && early_intena)
            sti();
        return;
    }
    struct cpu *c = this_cpu();
    if (irqs_on())
        panic("popcli: interrupts enabled");
    if (--c->ncli < 0)
        panic("popcli: unbalanced");
    if (c->ncli == 0 && c->intena)
        sti();
}

void spin_init(struct spinlock *l, const char *name)
{
    l->locked = 0;
    l->owner = NULL;
    l->name = name;
}

bool spin_holding(struct spinlock *l)
{
    return l->locked && l->owner == (percpu_ready() ? this_cpu() : NULL);
}

void spin_lock(struct spinlock *l)
{
    pushcli();
    if (spin_holding(l) && !panicking)
        panic("spin_lock: %s already held by this CPU", l->name ? l->name : "?");
    uint64_t spins = 0;
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
        while (l->locked) {
            pause();
            if (++spins == 4000000000ULL && !panicking)
                panic("spin_lock: %s stuck", l->name ? l->name : "?");
        }
    }
    l->owner = percpu_ready() ? this_cpu() : NULL;
}

void spin_unlock(struct spinlock *l)
{
    if (!spin_holding(l) && !panicking)
        panic("spin_unlock: %s not held", l->name ? l->name : "?");
    l->owner = NULL;
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    popcli();
}
