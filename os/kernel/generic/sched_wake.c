/*
 * sched_wake.c — how long woken threads wait before they run, by the kind of wake-up.
 *
 * make_ready (sched.c) classifies each wake-up of a blocked, sleeping or stopped thread by
 * where the thread is queued, seen from the waker, and schedule_locked reports the time from
 * the wake-up to the moment the thread runs (wake_note_run). Kinds:
 *
 *   local    queued on the waker's own CPU
 *   affine   pulled onto the waker's CPU by the wake-up (wake-affine, sched.c)
 *   poll     another CPU, idle and still polling its queue: no IPI needed
 *   ipi      another CPU, idle (halted): a reschedule IPI was sent
 *   busy     another CPU running something else: queued behind it (an IPI only when the
 *            thread is to preempt it, see sched.c)
 *
 * /sys/kernel/sched/wakeups/KIND (one attribute per kind; `format` names the columns): count,
 * IPIs sent, latency sum / max (ns) and a histogram (< 50 us, < 500 us, < 2 ms, < 8 ms,
 * >= 8 ms: the last is the scale of a timer tick); `sync_skipped` counts synchronous wake-ups
 * that pulled nothing, by why. Counters only grow; readers take differences.
 */
#include <kernel/kernel.h>
#include <kernel/sysfs.h>

static const uint64_t bucket_ns[] = { 50000, 500000, 2000000, 8000000 };
#define NBUCKETS (ARRAY_SIZE(bucket_ns) + 1)

HOT_DATA_RW static struct {
    uint64_t count, ipis, sum_ns, max_ns, hist[NBUCKETS];
} stats[WAKE_KINDS];

/* Synchronous wake-ups that pulled nothing, by why (wake_affine in sched.c). */
HOT_DATA_RW static uint64_t sync_skips[WAKE_SKIPS];

void wake_note_sync_skip(int why)
{
    if (why >= 0 && why < WAKE_SKIPS)
        __atomic_fetch_add(&sync_skips[why], 1, __ATOMIC_RELAXED);
}

void wake_note_ipi(int kind)
{
    if (kind > 0 && kind < WAKE_KINDS)
        __atomic_fetch_add(&stats[kind].ipis, 1, __ATOMIC_RELAXED);
}

/* t runs now, `lat` ns after it was woken (kind t->wake_kind, then cleared). */
HOT void wake_note_run(struct thread *t, uint64_t lat)
{
    int k = t->wake_kind;
    t->wake_kind = 0;
    if (k <= 0 || k >= WAKE_KINDS)
        return;
    __atomic_fetch_add(&stats[k].count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&stats[k].sum_ns, lat, __ATOMIC_RELAXED);
    uint64_t m = __atomic_load_n(&stats[k].max_ns, __ATOMIC_RELAXED);
    while (lat > m && !__atomic_compare_exchange_n(&stats[k].max_ns, &m, lat, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    size_t b = 0;
    while (b < ARRAY_SIZE(bucket_ns) && lat >= bucket_ns[b])
        b++;
    __atomic_fetch_add(&stats[k].hist[b], 1, __ATOMIC_RELAXED);
}

static size_t show_kind(int k, char *b, size_t cap)
{
    size_t len = sysfs_print(b, cap, "%lu %lu %lu %lu", stats[k].count, stats[k].ipis, stats[k].sum_ns, stats[k].max_ns);
    for (size_t i = 0; i < NBUCKETS; i++)
        len += sysfs_print(b + len, cap - len, " %lu", stats[k].hist[i]);
    return len + sysfs_print(b + len, cap - len, "\n");
}
#define SHOW(k)                                                                                  \
    static size_t show_##k(struct sysfs_node *n, char *b, size_t cap) { (void)n; return show_kind(WAKE_##k, b, cap); }
SHOW(LOCAL)
SHOW(AFFINE)
SHOW(POLL)
SHOW(IPI)
SHOW(BUSY)

static size_t show_format(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "count ipis sum_ns max_ns <50us <500us <2ms <8ms >=8ms\n");
}

/* here: already on the waker's CPU; queued: the waker's CPU has other threads queued; running:
 * the wakee was not blocked (running or queued: nothing to wake); affinity: may not run here */
static size_t show_sync_skips(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "here %lu queued %lu running %lu affinity %lu\n", sync_skips[WAKE_SKIP_HERE],
                       sync_skips[WAKE_SKIP_QUEUED], sync_skips[WAKE_SKIP_RUNNING], sync_skips[WAKE_SKIP_AFFINITY]);
}

static const struct sysfs_attr wake_attrs[] = {
    { "sync_skipped", show_sync_skips, NULL },
    { "format", show_format, NULL },
    { "local", show_LOCAL, NULL },
    { "affine", show_AFFINE, NULL },
    { "poll", show_POLL, NULL },
    { "ipi", show_IPI, NULL },
    { "busy", show_BUSY, NULL },
};

static void wake_sysfs_init(void)
{
    sysfs_add("/sys/kernel/sched/wakeups", wake_attrs, ARRAY_SIZE(wake_attrs), NULL);
}
SYSFS_PROVIDER(52, sched_wake, wake_sysfs_init, NULL);
