/*
 * balance.c — the load balancer (Managarm's, see kernel/balance.h) and thread affinity.
 *
 * The one place where load is measured: every balance interval (balance_interval_ms, 100 ms)
 * the kernel thread "balancer" (on cpu0) advances each thread's decaying runnable/blocked
 * counters to now under its CPU's run-queue lock, takes load_value() as the thread's load and
 * sums them into the CPU's load (sched_cpu[].load). That sum is what sysfs shows as
 * cpuN/load, what the trace records (load_sample, class load; balance_round and balance_cpu,
 * class sched) and what placement (sched_pick_cpu) and the balancer use.
 *
 * Then, if enabled, balance_plan() decides the moves (under-loaded CPUs pull from over-loaded
 * ones; zero-load and affinity-excluded threads stay; a move must lower the larger of the two
 * loads) and sched_migrate_locked() carries each out: a queued or blocked thread moves at
 * once, the running one at its next scheduling point (trace: migrate, reason balance, with the
 * two CPUs' loads, the thread's load, the ideal and the round). Idle stealing (sched.c) stays
 * as it was, its own reason: it fills an idle CPU between rounds.
 *
 * Affinity: t->affinity (bit N = CPU N) is inherited by new threads and processes; steal,
 * balance and placement respect it. sched_set_affinity() moves a thread whose CPU the new mask
 * excludes to the least loaded allowed CPU (reason affinity). Syscalls thread_get_affinity and
 * thread_set_affinity (kernel.toml 60, 61) take a THREAD handle (READ / CONTROL) or THREAD_SELF.
 *
 * sysfs: /sys/kernel/sched/ enabled(w) balance_interval_ms(w) decay(w) rounds ideal migrations.
 * Writes need the system capability (sysfs_write's rule). Each user thread has
 * /sys/kernel/sched/threads/TID/ with pid cpu load affinity migrations while it exists (added
 * by thread_start, removed when it is reaped; none once the node pool is full).
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>

#define BAL_MAX_CAND 256
#define BAL_MAX_MOVES 64

HOT_DATA uint32_t load_decay = LOAD_DECAY_DEFAULT;
HOT_DATA static volatile uint32_t balance_enabled = 1;
static volatile uint32_t balance_interval_ms = 100;
static uint32_t balance_round, balance_ideal;
static uint64_t balance_moves;

HOT void sched_load_advance(struct thread *t, uint64_t now, bool runnable)
{
    load_advance(&t->lacct, now, runnable, __atomic_load_n(&load_decay, __ATOMIC_RELAXED));
}

void sched_emit_migrate(struct thread *t, struct cpu *from, struct cpu *to)
{
    trace_emit_migrate(t->tid, (uint16_t)from->id, (uint16_t)to->id, t->mig.reason, t->mig.load_from,
                       t->mig.load_to, t->load, t->mig.ideal, t->mig.round, t->affinity);
}

/* ---- one round ---- */

static struct thread *cand[BAL_MAX_CAND];
static struct bal_thread cand_bt[BAL_MAX_CAND];
static struct bal_move moves[BAL_MAX_MOVES];

static void balance_once(uint64_t now, uint64_t dt, uint64_t *last_idle)
{
    uint32_t before[MAX_CPUS] = { 0 }, after[MAX_CPUS] = { 0 }, nth[MAX_CPUS] = { 0 }, nloaded[MAX_CPUS] = { 0 };
    uint64_t online = sched_online_mask();
    uint32_t n = 0, round = ++balance_round;
    for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++) {
        struct cpu *c = cpus[i];
        if (!(online >> i & 1))
            continue;
        spin_lock(&c->rq_lock);
        uint32_t sum = 0;
        struct sched_cpu *sc = &sched_cpu[i];
        for (struct list *l = sc->threads.next; l && l != &sc->threads; l = l->next) {
            struct thread *t = container_of(l, struct thread, cpu_link);
            sched_load_advance(t, now, t->state == T_RUNNING || t->state == T_READY);
            t->load = load_value(&t->lacct);
            sum += t->load;
            nloaded[i] += t->load > 0;
            /* candidates: a load, somewhere else to go, not already on the move */
            if (n < BAL_MAX_CAND && t->load && !t->migrate_to && (t->affinity & online & ~(1ull << i))) {
                kobj_get(&t->obj);
                cand[n] = t;
                cand_bt[n++] = (struct bal_thread){ .cpu = i, .load = t->load, .allowed = t->affinity };
            }
        }
        sc->load = sum;
        __atomic_store_n(&sc->placed, 0, __ATOMIC_RELAXED);
        nth[i] = sc->nthreads;
        uint64_t idle = c->idle_ns;
        if (c->current == c->idle)
            idle += now - c->idle->run_start;
        uint32_t rq = (uint32_t)c->rq_len;
        spin_unlock(&c->rq_lock);
        uint64_t d = idle > last_idle[i] ? idle - last_idle[i] : 0;
        last_idle[i] = idle;
        d = MIN(d, dt);
        before[i] = after[i] = sum;
        trace_emit_load_sample(i, rq, sum, 0, dt - d, d);
    }
    uint32_t ideal = 0, nm = 0;
    bool on = __atomic_load_n(&balance_enabled, __ATOMIC_RELAXED);
    if (on) {
        nm = balance_plan(ncpus, online, after, cand_bt, n, moves, BAL_MAX_MOVES, &ideal);
    } else {
        uint32_t dummy[MAX_CPUS];
        memcpy(dummy, before, sizeof dummy);
        balance_plan(ncpus, online, dummy, cand_bt, n, moves, 0, &ideal);
    }
    balance_ideal = ideal;
    uint64_t total = 0;
    uint32_t nonline = 0;
    for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++) {
        total += before[i];
        nonline += online >> i & 1;
    }
    trace_emit_balance_round(round, nonline, ideal, nm, total, on,
                             balance_interval_ms);
    for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++)
        if (online >> i & 1)
            trace_emit_balance_cpu(round, i, before[i], after[i], nth[i], nloaded[i]);
    for (uint32_t k = 0; k < nm; k++) {
        struct bal_move *m = &moves[k];
        struct thread *t = cand[m->thread];
        struct cpu *from = cpus[m->from], *to = cpus[m->to];
        sched_lock_two(from, to);
        if (t->cpu == from && (t->affinity >> m->to & 1) && !t->migrate_to) {
            t->mig = (struct migration){ .reason = TRACE_MIGRATE_REASON_BALANCE, .load_from = m->load_from,
                                         .load_to = m->load_to, .ideal = ideal, .round = round };
            sched_migrate_locked(t, from, to);
            balance_moves++;
        }
        sched_unlock_two(from, to);
    }
    for (uint32_t k = 0; k < n; k++)
        kobj_put(&cand[k]->obj);
}

static void balancer(void *arg)
{
    (void)arg;
    static uint64_t last_idle[MAX_CPUS];
    uint64_t last = clock_ns();
    for (;;) {
        sleep_ns((uint64_t)__atomic_load_n(&balance_interval_ms, __ATOMIC_RELAXED) * 1000000ull);
        uint64_t now = clock_ns();
        balance_once(now, now - last, last_idle);
        last = now;
    }
}

/* ---- affinity ---- */

int64_t sched_set_affinity(struct thread *t, uint64_t mask)
{
    mask &= sched_online_mask();
    if (!mask)
        return LANES_E_INVAL;
    for (;;) {
        struct cpu *from = thread_lock_rq(t);
        t->affinity = mask;
        if (t->migrate_to && !(mask >> t->migrate_to->id & 1))
            t->migrate_to = NULL;
        bool ok = mask >> from->id & 1;
        spin_unlock(&from->rq_lock);
        if (ok || t->state == T_DEAD)
            return 0;
        uint32_t load[MAX_CPUS];
        for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++)
            load[i] = __atomic_load_n(&sched_cpu[i].load, __ATOMIC_RELAXED);
        int best = balance_least_loaded(ncpus, mask, load);
        if (best < 0)
            return LANES_E_INVAL;
        struct cpu *to = cpus[best];
        sched_lock_two(from, to);
        if (t->cpu != from) {               /* moved meanwhile: look again */
            sched_unlock_two(from, to);
            continue;
        }
        if (!t->started) {
            __atomic_store_n(&t->cpu, to, __ATOMIC_RELEASE);     /* not on any list yet */
        } else {
            t->mig = (struct migration){ .reason = TRACE_MIGRATE_REASON_AFFINITY, .load_from = load[from->id],
                                         .load_to = load[to->id] };
            sched_migrate_locked(t, from, to);
        }
        sched_unlock_two(from, to);
        return 0;
    }
}

static int64_t affinity_target(int64_t h, uint32_t right, struct kobj **o, struct thread **t)
{
    if ((int32_t)h == LANES_THREAD_SELF) {
        *o = NULL;
        *t = current();
        return 0;
    }
    int64_t r = handle_lookup(&current()->proc->handles, (int32_t)h, LANES_OBJ_THREAD, right, o, NULL);
    if (r)
        return r;
    *t = container_of(*o, struct thread, obj);
    return 0;
}

int64_t balance_sys_get_affinity(uint64_t h, uint64_t umask)
{
    struct kobj *o;
    struct thread *t;
    int64_t r = affinity_target((int64_t)h, LANES_RIGHT_READ, &o, &t);
    if (r)
        return r;
    uint64_t m = t->affinity & sched_online_mask();
    if (o)
        kobj_put(o);
    if (!user_range_ok(umask, sizeof m) || copy_to_user(umask, &m, sizeof m))
        return LANES_E_FAULT;
    return 0;
}

int64_t balance_sys_set_affinity(uint64_t h, uint64_t mask)
{
    struct kobj *o;
    struct thread *t;
    int64_t r = affinity_target((int64_t)h, LANES_RIGHT_CONTROL, &o, &t);
    if (r)
        return r;
    r = sched_set_affinity(t, mask);
    if (o)
        kobj_put(o);
    if (!r && (int32_t)h == LANES_THREAD_SELF && t->migrate_to)
        schedule();                         /* move now: return on an allowed CPU */
    return r;
}

/* ---- sysfs: /sys/kernel/sched ---- */

static size_t show_u32(char *b, size_t cap, uint32_t v) { return sysfs_print(b, cap, "%u\n", v); }
static size_t show_enabled(struct sysfs_node *n, char *b, size_t cap) { (void)n; return show_u32(b, cap, balance_enabled); }
static size_t show_interval(struct sysfs_node *n, char *b, size_t cap) { (void)n; return show_u32(b, cap, balance_interval_ms); }
static size_t show_decay(struct sysfs_node *n, char *b, size_t cap) { (void)n; return show_u32(b, cap, load_decay); }
static size_t show_rounds(struct sysfs_node *n, char *b, size_t cap) { (void)n; return show_u32(b, cap, balance_round); }
static size_t show_ideal(struct sysfs_node *n, char *b, size_t cap) { (void)n; return show_u32(b, cap, balance_ideal); }
static size_t show_moves(struct sysfs_node *n, char *b, size_t cap) { (void)n; return sysfs_print(b, cap, "%lu\n", balance_moves); }

static bool parse_dec(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > 100000000)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static int64_t store_enabled(struct sysfs_node *n, const char *v, size_t len)
{
    uint64_t x;
    if (!parse_dec(v, len, &x) || x > 1)
        return LANES_E_INVAL;
    balance_enabled = (uint32_t)x;
    (void)n;
    return 0;
}

static int64_t store_interval(struct sysfs_node *n, const char *v, size_t len)
{
    uint64_t x;
    if (!parse_dec(v, len, &x) || x < 10 || x > 10000)      /* 10 ms .. 10 s */
        return LANES_E_INVAL;
    balance_interval_ms = (uint32_t)x;
    (void)n;
    return 0;
}

static int64_t store_decay(struct sysfs_node *n, const char *v, size_t len)
{
    uint64_t x;
    if (!parse_dec(v, len, &x) || x < 1 || x > 255)         /* ×x/256 per second */
        return LANES_E_INVAL;
    load_decay = (uint32_t)x;
    (void)n;
    return 0;
}

static const struct sysfs_attr sched_attrs[] = {
    { "enabled", show_enabled, store_enabled },
    { "balance_interval_ms", show_interval, store_interval },
    { "decay", show_decay, store_decay },
    { "rounds", show_rounds, NULL },
    { "ideal", show_ideal, NULL },
    { "migrations", show_moves, NULL },
};

/* per thread: /sys/kernel/sched/threads/TID */
static struct thread *node_thread(struct sysfs_node *n) { return sysfs_node_arg(n); }
static size_t show_t_pid(struct sysfs_node *n, char *b, size_t cap) { return sysfs_print(b, cap, "%u\n", node_thread(n)->proc->pid); }
static size_t show_t_cpu(struct sysfs_node *n, char *b, size_t cap) { return sysfs_print(b, cap, "%u\n", node_thread(n)->cpu->id); }
static size_t show_t_load(struct sysfs_node *n, char *b, size_t cap) { return sysfs_print(b, cap, "%u\n", node_thread(n)->load); }
static size_t show_t_aff(struct sysfs_node *n, char *b, size_t cap)
{
    return sysfs_print(b, cap, "0x%lx\n", node_thread(n)->affinity & sched_online_mask());
}
static size_t show_t_moves(struct sysfs_node *n, char *b, size_t cap) { return sysfs_print(b, cap, "%u\n", node_thread(n)->migrations); }

static const struct sysfs_attr thread_attrs[] = {
    { "pid", show_t_pid, NULL },
    { "cpu", show_t_cpu, NULL },
    { "load", show_t_load, NULL },
    { "affinity", show_t_aff, NULL },
    { "migrations", show_t_moves, NULL },
};

static bool sysfs_up;

void balance_thread_added(struct thread *t)
{
    if (!sysfs_up || t->is_kernel)
        return;
    char path[SYSFS_PATH_MAX];
    sysfs_print(path, sizeof path, "/sys/kernel/sched/threads/%u", t->tid);
    t->sysfs = sysfs_add(path, thread_attrs, ARRAY_SIZE(thread_attrs), t);
}

void balance_thread_gone(struct thread *t)
{
    if (t->sysfs)
        sysfs_remove(t->sysfs);
    t->sysfs = NULL;
}

static void sched_sysfs_init(void)
{
    sysfs_add("/sys/kernel/sched", sched_attrs, ARRAY_SIZE(sched_attrs), NULL);
    sysfs_up = true;
}
SYSFS_PROVIDER(51, sched, sched_sysfs_init, NULL);

void balance_init(void)
{
    struct thread *t = thread_create_kernel(balancer, NULL, cpus[0]);
    if (t)
        thread_start(t);
    else
        pr_warn("balance: cannot start the balancer (loads stay 0, no balancing)");
}
