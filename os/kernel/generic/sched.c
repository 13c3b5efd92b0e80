/*
 * sched.c — per-CPU run queues, context switches, blocking and waking.
 *
 * Each CPU has a FIFO run queue, an idle thread and a list of the threads that belong to it
 * (sched_cpu[id].threads: running, queued or blocked there). A thread starts on the least
 * loaded CPU its affinity allows (sched_pick_cpu: "placement"); the rq_lock of t->cpu protects
 * its scheduling state. t->cpu changes only with both CPUs' queue locks held (lower CPU id
 * first, sched_lock_two), in sched_migrate_locked, for four reasons: a CPU about to idle
 * steals a queued thread ("steal"), the load balancer (balance.c) moves a thread to an
 * under-loaded CPU ("balance"), a new affinity excludes the thread's CPU ("affinity"), or a
 * synchronous wake-up pulls a blocked thread onto the waker's CPU ("wake", wake_affine).
 * A queued or blocked thread moves at once; a running one gets migrate_to and moves at its
 * next scheduling point: schedule_locked switches it out without queueing it (in_transit) and
 * sched_finish_switch, on the next thread, hands it to the new CPU's queue.
 * schedule() takes the lock, requeues the current thread if it is still
 * runnable, picks the next one (or idle), switches address space, TSS stack, I/O bitmap, FS
 * base and FPU state, and switches stacks; the thread that resumes releases the lock
 * (sched_finish_switch) and frees a predecessor that died.
 *
 * Blocking: thread_block(lock, state, deadline) marks the caller BLOCKED/SLEEPING/STOPPED under
 * the rq lock, drops the caller's lock and schedules. thread_wake() makes it READY again: a
 * synchronous waker (current->wake_sync: it waits right after) first pulls it onto its own CPU
 * (wake_affine, migrate reason "wake"); on the waker's CPU a thread woken by one that gives way
 * (a synchronous waker, an event's raiser: make_ready) is queued first and runs on what is left of
 * its waker's slice; else it is queued on its CPU, which, if idle, is made to
 * reschedule (need_resched, plus an IPI unless it is still polling before it halts:
 * idle_polling below) and, if busy, is preempted when its thread has run WAKE_PREEMPT_NS.
 * sched_wake.c counts each kind and its wake-to-run latency. Wake reasons: 0 (woken), LANES_E_TIMEOUT
 * (deadline, timer.c), LANES_E_INTERRUPTED (thread_interrupt, kill, stop). An interrupt that
 * finds the thread not blocked stays pending and cancels its next wait.
 *
 * Accounting: cpu_ns is time on a CPU, runnable_ns time runnable (running or in a run queue),
 * both in ns of the monotonic clock. The load balancer's input is t->lacct (kernel/balance.h):
 * decaying runnable and blocked time, advanced here at every change between runnable and not
 * (make_ready: it was blocked; schedule_locked: prev was running) and by the balancer.
 * Preemption: the LAPIC timer ends a 10 ms slice by setting need_resched, honoured on the way
 * out of the interrupt if the interrupted code had interrupts enabled.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>

struct spinlock sched_all_lock = SPINLOCK_INIT("threads");
struct list all_threads = { &all_threads, &all_threads };
HOT_DATA_RW struct sched_cpu sched_cpu[MAX_CPUS];
extern const uint8_t *fpu_initial_state;

static void rq_push(struct cpu *c, struct thread *t)
{
    if (t->on_rq)
        panic("rq_push: thread %u is already on a run queue", t->tid);
    t->on_rq = true;
    t->rq_next = NULL;
    if (c->rq_tail)
        c->rq_tail->rq_next = t;
    else
        c->rq_head = t;
    c->rq_tail = t;
    c->rq_len++;
}

static void rq_push_head(struct cpu *c, struct thread *t)
{
    if (t->on_rq)
        panic("rq_push: thread %u is already on a run queue", t->tid);
    t->on_rq = true;
    t->rq_next = c->rq_head;
    c->rq_head = t;
    if (!c->rq_tail)
        c->rq_tail = t;
    c->rq_len++;
}

static struct thread *rq_pop(struct cpu *c)
{
    struct thread *t = c->rq_head;
    if (t) {
        c->rq_head = t->rq_next;
        if (!c->rq_head)
            c->rq_tail = NULL;
        c->rq_len--;
        t->rq_next = NULL;
        t->on_rq = false;
    }
    return t;
}

/* Take t out of the middle of c's queue. */
static void rq_remove(struct cpu *c, struct thread *t)
{
    struct thread **pp = &c->rq_head, *prev = NULL;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->rq_next;
    }
    if (!*pp)
        panic("rq_remove: thread %u is not on cpu%u's queue", t->tid, c->id);
    *pp = t->rq_next;
    if (c->rq_tail == t)
        c->rq_tail = prev;
    c->rq_len--;
    t->rq_next = NULL;
    t->on_rq = false;
}

static void kick_idle_cpu(struct cpu *busy, uint64_t allowed);

/*
 * An idle CPU first polls its run queue for a short while (IDLE_POLL_NS) before it halts, with
 * idle_polling[id] set: a wake-up from another CPU then needs no IPI (setting need_resched is
 * enough) and the woken thread runs within the poll loop's latency, instead of waiting for an
 * IPI and a halted (virtual) CPU to be scheduled again by the host. Both sides order their
 * store before their load (fences), so a CPU that stops polling sees the new work or the
 * waker sees polling == 0 and sends the IPI.
 */
#define IDLE_POLL_NS 50000ull   /* 50 us */
HOT_DATA_RW static volatile bool idle_polling[MAX_CPUS];

/*
 * A reschedule IPI decided under a run-queue lock goes out when this CPU's last lock is
 * released (spinlock.c), not while the lock is held. The IPI wakes the target's virtual CPU;
 * a host that then runs that vCPU thread instead of ours (two host cores, more runnable
 * threads) left the target spinning on the very run-queue lock we held until the host gave us
 * the CPU back: a host time slice, ~4 ms. The trace of the slowest kill -> EINTR across two
 * CPUs showed exactly that (sig-bench --smp 2: both CPUs silent for 4.4 ms after the wake-up,
 * the target's CPU switching 130 us after ours went idle). Linux's remote wake-ups avoid it the
 * same way (ttwu_queue: the IPI is sent without the remote run-queue lock). Interrupts are off
 * here (a lock is held), so this CPU's mask is ours alone.
 */
static inline void resched_ipi_later(struct cpu *c)
{
    struct cpu *me = this_cpu();
    if (me->ncli == 0)
        lapic_send_ipi(c->apic_id, VEC_RESCHED);    /* (no lock held: nothing would send it) */
    else
        me->resched_later |= 1ull << c->id;
}

/* c runs its idle thread: get it to schedule soon. True if that took an IPI. */
static bool resched_idle_cpu(struct cpu *c)
{
    if (c == this_cpu()) {
        c->need_resched = 1;
        return false;
    }
    c->need_resched = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!idle_polling[c->id]) {
        resched_ipi_later(c);
        return true;
    }
    return false;
}

/*
 * A thread queued on c, which runs something else: preempt that if it has run for
 * WAKE_PREEMPT_NS (a CPU-bound thread; a woken one has been waiting), like Linux's wake-up
 * preemption with its granularity — but only if the woken thread is the only one queued, so it
 * is the one that runs next. (The queues are FIFO: with others queued ahead, preempting would
 * only send the running thread to the back and run one of them — two spinners and a thread
 * waking every 5 ms got 1/3 and 2/3 of the CPU that way.) Threads that only run briefly between
 * waits are never preempted by this, and a CPU gets at most one such IPI per WAKE_PREEMPT_NS
 * (the next thread's run_start is later; need_resched already set sends none).
 */
#define WAKE_PREEMPT_NS 1000000ull   /* 1 ms */

static bool wake_preempt(struct cpu *c, uint64_t now)
{
    struct thread *cur = c->current;
    if (cur == c->idle || c->need_resched || now - cur->run_start < WAKE_PREEMPT_NS)
        return false;
    c->need_resched = 1;
    if (c != this_cpu()) {
        resched_ipi_later(c);
        wake_note_ipi(WAKE_BUSY);
    }
    return true;
}

/*
 * Must hold t->cpu->rq_lock. sync: the waker waits right after and t was pulled onto its CPU
 * (wake_affine): t runs when the waker blocks, nothing to preempt or kick.
 */
HOT static void make_ready(struct thread *t, int reason, bool sync)
{
    TRACE_IRQS_ARE_OFF();                   /* rq_lock */
    struct cpu *c = t->cpu;
    /* Only a thread that is switched out and waiting (or new) may become ready: a running or
     * queued one would then be run twice (see thread_kick). */
    if (t->state != T_BLOCKED && t->state != T_SLEEPING && t->state != T_STOPPED)
        panic("make_ready: thread %u is in state %d", t->tid, t->state);
    t->state = T_READY;
    t->wake_reason = reason;
    t->ready_since = clock_ns();
    sched_load_advance(t, t->ready_since, false);
    /* Woken on this CPU by a thread that gives way — a synchronous waker (it waits next) or an
     * event's raiser (preempted now, requeued right behind): t goes first and runs on what is
     * left of the waker's slice, so a chain across servers (kill -> posix -> fs -> the target)
     * reaches its end before the rest of their work (kernel/README, "Threads and scheduling"). */
    struct cpu *me = this_cpu();
    struct thread *w = me->current;
    bool first = w && (w->wake_sync | w->wake_first) && c == me && w != t && w != c->idle && !t->is_kernel;
    if (first) {
        rq_push_head(c, t);
        t->slice_given = true;
        if (w->wake_first) {
            c->need_resched = 1;
            w->requeue_first = true;
        } else {
            w->woke_first = true;
        }
    } else {
        rq_push(c, t);
    }
    /* (the arguments are evaluated only while tracing, so after the per-CPU areas exist) */
    trace_emit_wakeup(t->tid, ({ struct thread *cur_ = this_cpu()->current; cur_ ? cur_->tid : 0; }), c->id, reason,
                      trace_take_wake_cause());
    if (sync) {
        t->wake_kind = WAKE_AFFINE;
    } else if (c->current == c->idle) {
        /* an idle CPU: get it to schedule (an IPI unless it is ours or still polling) */
        t->wake_kind = c == this_cpu() ? WAKE_LOCAL : resched_idle_cpu(c) ? WAKE_IPI : WAKE_POLL;
        if (c == this_cpu())
            c->need_resched = 1;
        else if (t->wake_kind == WAKE_IPI)
            wake_note_ipi(WAKE_IPI);
    } else {
        /* a busy CPU: preempt a long runner, or let an idle CPU t may run on steal it (not
         * a thread queued first: it runs here as soon as its waker waits or yields) */
        t->wake_kind = c == this_cpu() ? WAKE_LOCAL : WAKE_BUSY;
        bool next = first || (c->rq_head == t && wake_preempt(c, t->ready_since));
        if (ncpus > 1 && !next)
            kick_idle_cpu(c, t->affinity);
    }
}

/* Lock the run queue of the CPU t belongs to (t->cpu may change until we hold it). */
struct cpu *thread_lock_rq(struct thread *t)
{
    for (;;) {
        struct cpu *c = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        spin_lock(&c->rq_lock);
        if (c == t->cpu)
            return c;
        spin_unlock(&c->rq_lock);
    }
}

/* Start a new thread (thread_start): exactly once, whatever happened to it before. */
void sched_enqueue(struct thread *t)
{
    struct cpu *c = thread_lock_rq(t);
    if (t->started || t->state != T_STOPPED)
        panic("sched_enqueue: thread %u started twice (state %d)", t->tid, t->state);
    t->started = true;
    t->lacct = (struct load_acct){ .stamp = clock_ns() };
    sched_thread_attach(c, t);
    make_ready(t, 0, false);
    spin_unlock(&c->rq_lock);
}

/* How long a thread pulled by wake_affine is left to its waker's CPU before an idle CPU may take it. */
#define SYNC_STEAL_GRACE_NS 1000000ull

/* Take the oldest runnable thread of a busy CPU for `me` (called by an idling CPU). */
static bool steal(struct cpu *me)
{
    for (uint32_t i = 1; i < ncpus; i++) {
        struct cpu *v = cpus[(me->id + i) % ncpus];
        if (!v || !v->online || v->rq_len == 0 || v->current == v->idle)
            continue;
        struct cpu *first = me->id < v->id ? me : v, *second = me->id < v->id ? v : me;
        spin_lock(&first->rq_lock);
        spin_lock(&second->rq_lock);
        struct thread *t = NULL;
        if (v->rq_len > 0 && v->current != v->idle && !me->rq_head) {
            /* the oldest thread whose affinity allows this CPU — but not one a synchronous
             * wake-up has just pulled onto v (wake_affine): v's waker is about to block and run
             * it there; taken here, the request and its reply would cross CPUs after all */
            uint64_t now = clock_ns();
            for (t = v->rq_head; t && (!(t->affinity >> me->id & 1) ||
                                       (t->wake_kind == WAKE_AFFINE && now - t->ready_since < SYNC_STEAL_GRACE_NS));
                 t = t->rq_next)
                ;
            if (t) {
                t->mig = (struct migration){ .reason = TRACE_MIGRATE_REASON_STEAL,
                                             .load_from = (uint32_t)v->rq_len, .load_to = (uint32_t)me->rq_len };
                sched_migrate_locked(t, v, me);
            }
        }
        spin_unlock(&second->rq_lock);
        spin_unlock(&first->rq_lock);
        if (t)
            return true;
    }
    return false;
}

/* A CPU got more work while busy: wake an idle CPU so it can steal it (one the queued thread's
 * affinity allows: kicking another would only wake it for nothing). */
static void kick_idle_cpu(struct cpu *busy, uint64_t allowed)
{
    for (uint32_t i = 1; i < ncpus; i++) {
        struct cpu *c = cpus[(busy->id + i) % ncpus];
        if (c && c->online && (allowed >> c->id & 1) && c->current == c->idle && !c->rq_head) {
            resched_idle_cpu(c);
            return;
        }
    }
}

uint64_t sched_online_mask(void)
{
    uint64_t m = 0;
    for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++)
        if (cpus[i] && cpus[i]->online)
            m |= 1ull << i;
    return m;
}

/* Placement: the least loaded online CPU in allowed (the balancer's last loads, plus LOAD_ONE
 * for each thread placed there since, so a burst of new threads spreads), else this one. */
struct cpu *sched_pick_cpu(uint64_t allowed)
{
    uint32_t load[MAX_CPUS];
    uint64_t ok = allowed & sched_online_mask();
    for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++)
        load[i] = __atomic_load_n(&sched_cpu[i].load, __ATOMIC_RELAXED)
                  + __atomic_load_n(&sched_cpu[i].placed, __ATOMIC_RELAXED) * LOAD_ONE;
    int best = balance_least_loaded(ncpus, ok, load);
    if (best < 0)
        return this_cpu();
    __atomic_fetch_add(&sched_cpu[best].placed, 1, __ATOMIC_RELAXED);
    return cpus[best];
}

void sched_thread_attach(struct cpu *c, struct thread *t)
{
    if (!sched_cpu[c->id].threads.next)
        list_init(&sched_cpu[c->id].threads);       /* a CPU whose sched_init_cpu is still to come */
    list_add_tail(&sched_cpu[c->id].threads, &t->cpu_link);
    sched_cpu[c->id].nthreads++;
}

void sched_thread_detach(struct cpu *c, struct thread *t)
{
    list_del(&t->cpu_link);
    list_init(&t->cpu_link);
    sched_cpu[c->id].nthreads--;
}

void sched_lock_two(struct cpu *a, struct cpu *b)
{
    if (a == b) {
        spin_lock(&a->rq_lock);
        return;
    }
    spin_lock(&(a->id < b->id ? a : b)->rq_lock);
    spin_lock(&(a->id < b->id ? b : a)->rq_lock);
}

void sched_unlock_two(struct cpu *a, struct cpu *b)
{
    if (a != b)
        spin_unlock(&(a->id < b->id ? b : a)->rq_lock);
    spin_unlock(&(a->id < b->id ? a : b)->rq_lock);
}

/*
 * Move t from `from` to `to` (both rq locks held; t->mig says why, for the trace). A queued,
 * blocked or in-transit thread moves now (true); the one running on `from` gets migrate_to and
 * moves at its next scheduling point (false; `from` is asked to reschedule).
 */
bool sched_migrate_locked(struct thread *t, struct cpu *from, struct cpu *to)
{
    if (t->cpu != from || from == to || t->state == T_DEAD || !t->started || t->is_idle)
        return false;
    if (from->current == t) {
        t->migrate_to = to;
        from->need_resched = 1;
        if (from != this_cpu())
            resched_ipi_later(from);
        return false;
    }
    if (t->on_rq)
        rq_remove(from, t);
    sched_thread_detach(from, t);
    __atomic_store_n(&t->cpu, to, __ATOMIC_RELEASE);
    sched_thread_attach(to, t);
    t->migrate_to = NULL;
    t->migrations++;
    sysfs_count_migration(to->id);
    sched_emit_migrate(t, from, to);
    if (t->state == T_READY) {
        rq_push(to, t);
        if (to->current == to->idle)
            resched_idle_cpu(to);
    }
    return true;
}

/* Why a thread that is not idle was switched out, by the state it leaves in (ctx_switch). */
HOT_RODATA static const uint8_t switch_reason[] = {
    [T_RUNNING] = TRACE_SWITCH_REASON_BLOCKED, [T_READY] = TRACE_SWITCH_REASON_YIELDED,
    [T_BLOCKED] = TRACE_SWITCH_REASON_BLOCKED, [T_SLEEPING] = TRACE_SWITCH_REASON_BLOCKED,
    [T_STOPPED] = TRACE_SWITCH_REASON_BLOCKED, [T_DEAD] = TRACE_SWITCH_REASON_EXITED,
};

/* Called with c->rq_lock held. */
HOT static void schedule_locked(void)
{
    TRACE_IRQS_ARE_OFF();                   /* rq_lock */
    struct cpu *c = this_cpu();
    struct thread *prev = c->current;
    uint64_t now = clock_ns();
    int preempted = c->need_resched;
    struct thread *next = NULL;
    if (prev->state == T_RUNNING && !prev->is_idle) {
        prev->state = T_READY;
        prev->ready_since = now;
        if (prev->migrate_to && prev->migrate_to != c) {
            /* in transit: see below */
        } else if (prev->requeue_first && c->rq_head && c->slice_end > now) {
            next = rq_pop(c);                       /* the thread it woke, then it, */
            rq_push_head(c, prev);
            prev->slice_given = true;               /* still on the same slice */
        } else {
            rq_push(c, prev);
        }
    }
    if (prev->requeue_first)
        prev->requeue_first = false;
    if (!next)
        next = rq_pop(c);
    /* A thread queued first runs on its waker's slice; once that is over it queues behind the
     * others like any thread (else a pair that keeps waking each other never lets them run). */
    while (next && next->slice_given && c->slice_end <= now && c->rq_head) {
        next->slice_given = false;
        rq_push(c, next);
        next = rq_pop(c);
    }
    if (!next)
        next = prev->state == T_RUNNING ? prev : c->idle;
    if (!prev->is_idle) {
        uint64_t ran = now - prev->run_start;
        prev->cpu_ns += ran;
        prev->runnable_ns += ran;
        sched_load_advance(prev, now, true);
        if (prev->state == T_DEAD)
            sched_thread_detach(c, prev);
        else if (prev->migrate_to && prev->migrate_to != c)
            sched_cpu[c->id].in_transit = prev;     /* sched_finish_switch moves it */
        else
            prev->migrate_to = NULL;
    } else {
        c->idle_ns += now - prev->run_start;
    }
    if (next->state == T_READY && !next->is_idle) {
        next->runnable_ns += now - next->ready_since;
        if (next->wake_kind)
            wake_note_run(next, now - next->ready_since);
    }
    next->state = T_RUNNING;
    next->run_start = now;
    if (!next->slice_given || c->slice_end <= now)
        c->slice_end = now + SLICE_NS;
    next->slice_given = false;
    c->need_resched = 0;
    if (next == prev) {
        spin_unlock(&c->rq_lock);
        timer_rearm();
        return;
    }
    c->current = next;
    c->prev = prev;
    sysfs_count_run(c->id);
    cpu_set_kstack(next->kstack_top);
    if (!prev->is_kernel)
        fpu_save(prev->fpu);
    struct process *np = next->proc;
    vm_activate(np->vm);
    if (!next->is_kernel) {
        if (np->iopb) {
            if (c->iopb_proc != np || c->iopb_gen != np->iopb_gen) {
                tss_load_iopb(np->iopb);
                c->iopb_proc = np;
                c->iopb_gen = np->iopb_gen;
            } else {
                tss_iopb_enable(true);      /* its bitmap is still in the TSS: no 8 KiB copy */
            }
        } else if (c->iopb_proc) {
            /* Switch the bitmap off but keep it (and iopb_proc/gen) for the driver's next
             * turn: a driver server like the console runs between most other threads. */
            tss_iopb_enable(false);
        }
        set_user_tls(next->fs_base);
        fpu_restore(next->fpu);
    }
    /* The interrupt-disable nesting belongs to the thread, not the CPU: keep ours. */
    int intena = c->intena, ncli = c->ncli;
    trace_emit_ctx_switch(prev->tid, prev->proc->pid, next->tid, np->pid,       /* (every thread has a proc) */
                          prev->is_idle ? TRACE_SWITCH_REASON_IDLE
                          : preempted && prev->state == T_READY ? TRACE_SWITCH_REASON_PREEMPTED
                          : switch_reason[prev->state],
                          (uint8_t)prev->state, 0, (uint32_t)c->rq_len);
    switch_context(&prev->rsp, next->rsp);
    c = this_cpu();
    c->intena = intena;
    c->ncli = ncli;
    sched_finish_switch();
}

void thread_reap(struct thread *t);

/* First thing a thread does after switch_context returns into it. */
HOT void sched_finish_switch(void)
{
    struct cpu *c = this_cpu();
    struct thread *prev = c->prev;
    c->prev = NULL;
    /* Whether prev died, decided while we still hold the run-queue lock it was switched out
     * under: after the unlock, a prev that was only preempted or blocked can be woken, stolen
     * by another CPU, run and exit there; reading T_DEAD then reaped it a second time (or
     * while it was still running on that CPU) and freed its kernel stack twice (the second
     * time NULL: "pmm_free: page 0x800000000000 is not allocated"). */
    bool dead = prev && prev->state == T_DEAD;
    struct thread *moving = sched_cpu[c->id].in_transit;
    sched_cpu[c->id].in_transit = NULL;
    spin_unlock(&c->rq_lock);
    if (dead)
        thread_reap(prev);
    if (moving) {
        /* Switched out to migrate (a balance or affinity move decided while it ran). Whoever
         * holds both locks first moves it: here, or an affinity change in between. */
        struct cpu *to = __atomic_load_n(&moving->migrate_to, __ATOMIC_ACQUIRE);
        if (to) {
            sched_lock_two(c, to);
            if (moving->migrate_to == to)
                sched_migrate_locked(moving, c, to);
            sched_unlock_two(c, to);
        }
    }
    timer_rearm();
}

/* New threads: interrupts on once the lock is released (user threads iret with their flags). */
void sched_first_run(void)
{
    struct cpu *c = this_cpu();
    c->intena = 1;
    c->ncli = 1;        /* just the run-queue lock */
    sched_finish_switch();
}

void sched_switch_away_locked(void)
{
    schedule_locked();
}

void schedule(void)
{
    pushcli();          /* this_cpu() only with interrupts off: a preemption could move us */
    struct cpu *c = this_cpu();
    spin_lock(&c->rq_lock);
    schedule_locked();
    popcli();
}

void sched_yield(void)
{
    schedule();
}

HOT int thread_block(struct spinlock *held, int state, uint64_t deadline)
{
    struct thread *t = current();
    pushcli();
    /* t->cpu only after interrupts are off: read before, a preemption in between could have
     * moved us (idle stealing) and we would lock another CPU's run queue. */
    struct cpu *c = t->cpu;
    if (deadline == 0) {
        if (held)
            spin_unlock(held);
        popcli();
        return LANES_E_TIMEOUT;
    }
    t->wait_seq++;
    bool timed = deadline != UINT64_MAX;
    if (timed)
        timer_add(t, deadline);
    spin_lock(&c->rq_lock);
    if (t->killed || (state != T_STOPPED && (t->interrupt_pending || t->stop))) {
        if (state != T_STOPPED)
            t->interrupt_pending = 0;
        spin_unlock(&c->rq_lock);
        if (held)
            spin_unlock(held);
        if (timed)
            timer_remove(t);
        popcli();
        return LANES_E_INTERRUPTED;
    }
    t->state = state;
    t->wake_reason = 0;
    if (held)
        spin_unlock(held);
    schedule_locked();
    if (timed)
        timer_remove(t);
    popcli();
    return t->wake_reason;
}

/*
 * Wake-affine (Linux's WF_SYNC wake-up): the waker waits right after (current->wake_sync, set
 * by ipc_submit_wait around its submission: a client's request wakes its server). Waking t
 * where it last ran would then cost a cross-CPU wake-up twice (request and reply) — an IPI to a
 * halted CPU, which under TCG on a busy host takes milliseconds — while this CPU is about to go
 * idle anyway. So a blocked t that may run here is moved here (migrate reason wake) and queued,
 * if at most WAKE_AFFINE_QUEUED threads are queued here (more: it would wait behind them, left
 * where it is; 0 was too strict: a writer and a reader pinned to one CPU keep one of them queued
 * nearly always, and a server the balancer had moved away never came back). True if it was
 * woken so; sched_wake.c counts the synchronous wake-ups that pulled nothing, by why.
 */
#define WAKE_AFFINE_QUEUED 1

static bool wake_affine(struct thread *t, int reason)
{
    if (ncpus < 2)
        return false;
    pushcli();
    struct cpu *me = this_cpu();
    struct thread *w = me->current;
    if (!w || !w->wake_sync || w == t || t->is_kernel) {
        popcli();
        return false;
    }
    int skip = -1;
    struct cpu *from = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
    if (from == me && me->rq_len <= WAKE_AFFINE_QUEUED) {
        /* already here (pulled by an earlier request): nothing to move, but queued as a
         * synchronous wake-up all the same — no idle CPU is kicked to steal it (and steal()
         * leaves it a grace period), since the waker blocks now and it runs here next. (More
         * queued here: the ordinary wake-up, which may hand it to an idle CPU.) */
        spin_lock(&me->rq_lock);
        bool here = t->cpu == me && (t->state == T_BLOCKED || t->state == T_SLEEPING);
        if (here)
            make_ready(t, reason, true);
        spin_unlock(&me->rq_lock);
        wake_note_sync_skip(WAKE_SKIP_HERE);        /* (pulled nothing: counted as before) */
        popcli();
        return here;
    }
    if (from == me)
        skip = WAKE_SKIP_HERE;
    else if (!(t->affinity >> me->id & 1))
        skip = WAKE_SKIP_AFFINITY;
    else if (me->rq_len > WAKE_AFFINE_QUEUED)
        skip = WAKE_SKIP_QUEUED;
    else {
        sched_lock_two(from, me);
        if (t->cpu != from || (t->state != T_BLOCKED && t->state != T_SLEEPING) || t->migrate_to)
            skip = WAKE_SKIP_RUNNING;
        else if (me->rq_len > WAKE_AFFINE_QUEUED)
            skip = WAKE_SKIP_QUEUED;
        else {
            t->mig = (struct migration){ .reason = TRACE_MIGRATE_REASON_WAKE, .load_from = (uint32_t)from->rq_len };
            if (sched_migrate_locked(t, from, me))
                make_ready(t, reason, true);
            else
                skip = WAKE_SKIP_RUNNING;
        }
        sched_unlock_two(from, me);
    }
    if (skip >= 0)
        wake_note_sync_skip(skip);
    popcli();
    return skip < 0;
}

HOT bool thread_wake(struct thread *t, int reason)
{
    if (wake_affine(t, reason))
        return true;
    bool woke = false;
    struct cpu *c = thread_lock_rq(t);
    if (t->state == T_BLOCKED || t->state == T_SLEEPING) {
        make_ready(t, reason, false);
        woke = true;
    }
    spin_unlock(&c->rq_lock);
    return woke;
}

void thread_interrupt(struct thread *t)
{
    struct cpu *c = thread_lock_rq(t);
    if (t->state == T_BLOCKED || t->state == T_SLEEPING)
        make_ready(t, LANES_E_INTERRUPTED, false);
    else if (t->state != T_DEAD)
        t->interrupt_pending = 1;
    spin_unlock(&c->rq_lock);
}

/* The caller (current) queued a thread first on its CPU as a synchronous waker, and will not
 * wait after all: that thread runs now, the caller right after it. (Only if it is still at the
 * head: an idle CPU may have taken it meanwhile, and the caller does not give way to another.) */
void sched_yield_to_woken(void)
{
    pushcli();
    struct cpu *c = this_cpu();
    struct thread *me = c->current;
    spin_lock(&c->rq_lock);
    if (c->rq_head && c->rq_head->slice_given) {
        me->requeue_first = true;
        c->need_resched = 1;
    }
    spin_unlock(&c->rq_lock);
    popcli();
}

/* thread_interrupt for a signal's alert (sys_signal.c thread_alert): a thread it wakes on this
 * CPU runs before the caller, which is preempted on its way back to user mode and queued right
 * behind it (make_ready's wake_first, as for an event's raise). A signal's
 * delivery is latency a user sees (Ctrl-C, kill): as Linux's wake-up preemption gives a thread
 * that slept the CPU at once, the target returns EINTR (or its partial count) and runs its
 * handler before the caller — posix — goes on with the rest of its request (its reply to the
 * killer, the next accept). sig-bench: kill -> EINTR 16,772 -> ~10,100 instructions. */
void thread_interrupt_preempt(struct thread *t)
{
    struct thread *me = current();
    me->wake_first = true;          /* (make_ready: t first, we right behind it) */
    thread_interrupt(t);
    me->wake_first = false;
}

/* After setting t->killed or t->stop: get the thread to notice soon. */
void thread_kick(struct thread *t)
{
    struct cpu *c = thread_lock_rq(t);
    /* A thread attached to its process but not yet started (thread_create_user ... thread_start)
     * is STOPPED too: leave it to thread_start, which makes it ready once (it then dies on
     * its way to user mode). Made ready here as well, it would be queued twice and run twice:
     * two exits, two reaps (the second freed the NULL kernel stack: pmm_free 0x800000000000). */
    if (t->state == T_BLOCKED || t->state == T_SLEEPING || (t->state == T_STOPPED && t->killed && t->started))
        make_ready(t, LANES_E_INTERRUPTED, false);
    else if (t->state == T_RUNNING && c != this_cpu())
        resched_ipi_later(c);
    spin_unlock(&c->rq_lock);
}

int64_t wait_on(struct waitq *q, struct spinlock *lock, uint64_t deadline)
{
    struct waiter w = { .t = current() };
    list_add_tail(&q->head, &w.link);
    int r = thread_block(lock, T_BLOCKED, deadline);
    spin_lock(lock);
    if (w.link.next != &w.link)
        list_del(&w.link);
    return r;
}

int wake_n(struct waitq *q, int n)
{
    int woken = 0;
    while (woken < n && !list_empty(&q->head)) {
        struct waiter *w = container_of(q->head.next, struct waiter, link);
        struct thread *t = w->t;
        list_del(&w->link);
        thread_wake(t, 0);
        woken++;
    }
    return woken;
}

int wake_all(struct waitq *q)
{
    return wake_n(q, 1 << 30);
}

HOT uint64_t deadline_from_timeout(uint64_t timeout_ns)
{
    if (timeout_ns == LANES_TIMEOUT_INFINITE)
        return UINT64_MAX;
    if (timeout_ns == 0)
        return 0;
    uint64_t now = clock_ns();
    return timeout_ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + timeout_ns;
}

int64_t sleep_ns(uint64_t ns)
{
    if (ns == 0) {
        schedule();
        return 0;
    }
    int r = thread_block(NULL, T_SLEEPING, deadline_from_timeout(ns));
    return r == LANES_E_TIMEOUT ? 0 : (r ? r : 0);
}

/* Before a thread returns to user mode: die if killed, stop if stopped, yield if asked. */
HOT void sched_check_user_return(struct regs *r)
{
    trace_kick_check();
    for (;;) {
        struct thread *t = current();
        if (t->killed)
            thread_exit();
        if (t->stop) {
            thread_block(NULL, T_STOPPED, UINT64_MAX);
            continue;
        }
        if (this_cpu()->need_resched) {
            schedule();
            continue;
        }
        if (t->alert_pending && t->alert_entry && r && (r->cs & 3) == 3) {
            t->alert_pending = 0;
            if (!signal_deliver_alert(r))
                process_terminate(t->proc, LANES_PROC_STATE_KILLED, -1, NULL);
            continue;               /* (killed: die above; else nothing left to do) */
        }
        break;
    }
    if (current()->utrace)
        utrace_to_user(current());  /* (records it writes from now on are newer than any here) */
}

void thread_continue(struct thread *t)
{
    struct cpu *c = thread_lock_rq(t);
    if (t->state == T_STOPPED && t->started && !t->stop)
        make_ready(t, 0, false);
    spin_unlock(&c->rq_lock);
}

#define IDLE_BALANCE_NS 10000000ull  /* 10 ms, one time slice */

__attribute__((noreturn)) void idle_loop(void)
{
    for (;;) {
        struct cpu *c = this_cpu();
        cli();
        if (c->rq_head || c->need_resched || (ncpus > 1 && steal(c))) {
            sti();
            schedule();
            continue;
        }
        if (ncpus > 1) {
            /* Poll a little before halting (see idle_polling); interrupts stay on. */
            idle_polling[c->id] = true;
            sti();
            uint64_t until = clock_ns() + IDLE_POLL_NS;
            while (!c->rq_head && !c->need_resched && clock_ns() < until)
                pause();
            cli();
            idle_polling[c->id] = false;
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (c->rq_head || c->need_resched || steal(c)) {
                sti();
                schedule();
                continue;
            }
        }
        /* Balance tick: on an SMP machine an idle CPU looks for work to steal at least every
         * IDLE_BALANCE_NS, so a runnable thread never waits on a busy CPU's queue just because
         * the wake-up IPI was skipped while this CPU was still switching to idle. */
        if (ncpus > 1) {
            uint64_t tick = clock_ns() + IDLE_BALANCE_NS;
            if (!c->timer_armed || c->timer_armed > tick) {
                lapic_timer_oneshot(IDLE_BALANCE_NS);
                c->timer_armed = tick;
            }
        }
        idle_wait();
    }
}

void sched_init_cpu(struct cpu *c)
{
    struct thread *t = kmalloc(sizeof *t);
    if (!t)
        panic("sched: no memory for the idle thread");
    kobj_init(&t->obj, LANES_OBJ_THREAD, NULL);
    t->tid = 0;
    t->proc = kernel_process;
    t->cpu = c;
    t->state = T_RUNNING;
    t->is_idle = t->is_kernel = true;
    t->kstack = (uint8_t *)c->idle_stack;
    t->kstack_top = c->idle_stack + KSTACK_SIZE;
    t->run_start = clock_ns();
    waitq_init(&t->exitq);
    list_init(&t->proc_link);
    list_init(&t->all_link);
    list_init(&t->cpu_link);
    if (!sched_cpu[c->id].threads.next)
        list_init(&sched_cpu[c->id].threads);
    c->idle = t;
    c->current = t;
    c->loaded_vm = NULL;
    cpu_set_kstack(t->kstack_top);
    (void)fpu_initial_state;
}
