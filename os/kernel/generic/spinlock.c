/*
 * spinlock.c — spinlocks that also keep interrupts off on the CPU holding them.
 *
 * As in xv6, pushcli/popcli count nesting per CPU and remember whether interrupts were on
 * before the outermost lock, so an interrupt handler can never try to take a lock its own CPU
 * already holds. The scheduler keeps its run-queue lock across switch_context; the thread that
 * resumes releases it (sched_finish_switch). The outermost release also sends the reschedule
 * IPIs decided under the locks (sched.c resched_ipi_later): never while a lock is held.
 */
#include <kernel/kernel.h>

HOT_DATA static int early_ncli, early_intena;
HOT_DATA bool percpu_up;     /* set once the boot CPU's GS base points at its struct cpu */
static inline bool percpu_ready(void)
{
    return percpu_up;
}

/* Before the boot CPU's GS base is set (early boot, one CPU): the nesting lives here. */
static __attribute__((noinline, cold)) void pushcli_early(bool on)
{
    if (early_ncli++ == 0)
        early_intena = on;
}

static __attribute__((noinline, cold)) void popcli_early(void)
{
    if (--early_ncli == 0 && early_intena)
        sti();
}

static __attribute__((noinline, cold, noreturn)) void popcli_bad(bool on)
{
    panic(on ? "popcli: interrupts enabled" : "popcli: unbalanced");
}

/* The reschedule IPIs the locked section now ending decided (sched.c resched_ipi_later): sent
 * as this CPU's last lock goes, interrupts still off. Only this CPU touches its mask, and only
 * with interrupts off. */
static __attribute__((noinline)) void send_resched_later(struct cpu *c)
{
    uint64_t m = c->resched_later;
    c->resched_later = 0;
    while (m) {
        int id = __builtin_ctzll(m);
        m &= m - 1;
        if (cpus[id])
            lapic_send_ipi_irqs_off(cpus[id]->apic_id, VEC_RESCHED);
    }
}

/* This CPU's last lock is gone (nesting back to 0, interrupts still off): the IPIs, then
 * interrupts back on if they were before the first lock. */
static inline __attribute__((always_inline)) void outermost_released(struct cpu *c)
{
    if (__builtin_expect(c->resched_later != 0, 0))
        send_resched_later(c);
    if (c->intena)
        sti();
}

/* The fast paths are a handful of instructions each: every lock of every IPC round trip goes
 * through them (issue 19: ~30 lock/unlock pairs per round trip were 2,000 instructions). */
static inline __attribute__((always_inline)) void pushcli_inline(void)
{
    bool on = irqs_on();
    cli();
    if (__builtin_expect(!percpu_ready(), 0)) {
        pushcli_early(on);
        return;
    }
    struct cpu *c = this_cpu();
    if (c->ncli++ == 0)
        c->intena = on;
}

static inline __attribute__((always_inline)) void popcli_inline(void)
{
    if (__builtin_expect(!percpu_ready(), 0)) {
        popcli_early();
        return;
    }
    struct cpu *c = this_cpu();
    bool on = irqs_on();
    int n = --c->ncli;
    if (__builtin_expect(on || n < 0, 0))
        popcli_bad(on);
    if (n == 0)
        outermost_released(c);
}

HOT void pushcli(void)
{
    pushcli_inline();
}

HOT void popcli(void)
{
    popcli_inline();
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

static __attribute__((noinline, cold)) void spin_lock_bad(struct spinlock *l, bool stuck)
{
    if (!panicking)
        panic(stuck ? "spin_lock: %s stuck" : "spin_lock: %s already held by this CPU", l->name ? l->name : "?");
}

/* Contended: spin, then take it. */
static __attribute__((noinline)) void spin_wait(struct spinlock *l, struct cpu *me)
{
    uint64_t spins = 0;
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
        while (l->locked) {
            pause();
            if (++spins == 4000000000ULL)
                spin_lock_bad(l, true);
        }
    }
    l->owner = me;
}

/* Early boot (no per-CPU data yet): the general path. */
static __attribute__((noinline, cold)) void spin_lock_early(struct spinlock *l, bool on)
{
    pushcli_early(on);
    if (l->locked && l->owner == NULL)
        spin_lock_bad(l, false);
    spin_wait(l, NULL);
}

/* The CPU's own struct cpu, not volatile: constant while interrupts are off (one load). */
static inline struct cpu *this_cpu_irqs_off(void)
{
    struct cpu *c;
    __asm__("mov %%gs:0, %0" : "=r"(c));
    return c;
}

/*
 * spin_lock and spin_unlock are what every lock costs (an IPC round trip takes ~20 locks), so
 * their fast paths are straight-line, leaf code (issue 19): pushcli inlined, every unusual case
 * (early boot, contention, misuse) a call away. No frame pointer: they call nothing on the
 * fast path. (A misuse panic's backtrace then shows spin_lock/spin_unlock and the caller's caller;
 * the lock's name in the message says which lock.)
 */
#define LOCK_FAST __attribute__((optimize("omit-frame-pointer")))

HOT LOCK_FAST void spin_lock(struct spinlock *l)
{
    uint64_t fl = read_flags();
    cli();
    if (__builtin_expect(!percpu_ready(), 0)) {
        spin_lock_early(l, fl & 0x200);
        return;
    }
    struct cpu *me = this_cpu_irqs_off();
    if (me->ncli++ == 0)
        me->intena = (int)(fl & 0x200);            /* (only ever tested for nonzero) */
    if (__builtin_expect(l->locked && l->owner == me, 0))
        spin_lock_bad(l, false);
    if (__builtin_expect(__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0, 0)) {
        spin_wait(l, me);
        return;
    }
    l->owner = me;
}

static __attribute__((noinline, cold)) void spin_unlock_bad(struct spinlock *l)
{
    if (!panicking)
        panic("spin_unlock: %s not held", l->name ? l->name : "?");
}

static __attribute__((noinline, cold)) void spin_unlock_early(struct spinlock *l)
{
    if (!spin_holding(l))
        spin_unlock_bad(l);
    l->owner = NULL;
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    popcli_early();
}

HOT LOCK_FAST void spin_unlock(struct spinlock *l)
{
    if (__builtin_expect(!percpu_ready(), 0)) {
        spin_unlock_early(l);
        return;
    }
    struct cpu *me = this_cpu_irqs_off();
    if (__builtin_expect(l->owner != me || !l->locked, 0))
        spin_unlock_bad(l);
    l->owner = NULL;
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    uint64_t fl = read_flags();
    int n = --me->ncli;
    if (__builtin_expect((fl & 0x200) || n < 0, 0))
        popcli_bad(fl & 0x200);
    if (n == 0)
        outermost_released(me);
}
