/* schedtests — in-guest tests of the load balancer and CPU affinity (kernel/generic/balance.c,
 * sched.c; libc sched_setaffinity), run by os-test ("sched" configurations, 1 and 4 CPUs, TCG).
 *
 * Reported like usertests: "test NAME: ok (note)" or "test NAME: FAILED (why)", then exactly
 * "N passed, N failed"; the exit status is the number of failures.
 * Spinners are started on one CPU the way `spin` does it: the main thread pins itself there,
 * starts them (they inherit the affinity, so placement keeps them there), then allows every CPU
 * for each. Where threads are is read from the kernel (thread_list: each thread's CPU).
 * Covered: the affinity syscalls and their errors; 2 x CPUs spinners spread to 2 per CPU within
 * a bounded time, and do not with the balancer switched off (idle stealing alone leaves the
 * surplus on CPU 0: the balancer is what spreads them); a pinned thread never runs elsewhere
 * (10,000 samples) while its CPU is overloaded; zero-load (blocked) threads stay put; a 10 %
 * duty-cycle thread is not dragged around; no spinner starves; after 1 s of guest time each CPU
 * holds its fair share (+-10 %) of the spinners' runtime (share); /sys/kernel/sched tunables;
 * a server woken by a synchronous request runs on its caller's CPU (wake_affine).
 * On 1 CPU the multi-CPU tests check what is left to check (nothing moves, masks of absent
 * CPUs are refused). Usage: schedtests [NAME-PREFIX...]. Its manifest asks for the system
 * capability (writing /sys/kernel/sched/enabled).
 */
#include <lanes.h>
#include <lanes/ipc.h>
#include <lanes/testing.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LANES_MANIFEST("system");

#define MAXW 32
#define E(r) lanes_strerror(r)

static struct lane_sysinfo sysinfo;
static int32_t system_cap;
static uint64_t all_mask;

struct worker {
    lanes_thread_t th;
    volatile uint32_t tid, ready;
    volatile uint64_t work, samples, wrong;
    uint32_t pin_cpu;       /* for the pinned sampler */
    uint32_t duty;          /* percent, 0 = spin */
    volatile uint32_t changes;
};

static struct worker w[MAXW];
static volatile uint32_t stop;
static volatile uint32_t sleepers_go;

static void spinner(void *arg)
{
    struct worker *me = arg;
    me->tid = (uint32_t)lanes_sys_thread_self();
    me->ready = 1;
    uint32_t last = lanes_cpu_id();
    while (!stop) {
        if (me->duty) {
            uint64_t t = lanes_now_ns() + LANES_MS(10) * me->duty / 100;
            while (lanes_now_ns() < t && !stop)
                ;
            lanes_sys_sleep(LANES_MS(10) * (100 - me->duty) / 100);
        } else {
            for (volatile int i = 0; i < 5000; i++)
                ;
        }
        me->work++;
        uint32_t c = lanes_cpu_id();
        if (c != last) {
            me->changes++;
            last = c;
        }
    }
}

/* Samples its CPU in a tight loop: must always be pin_cpu. */
static void sampler(void *arg)
{
    struct worker *me = arg;
    me->tid = (uint32_t)lanes_sys_thread_self();
    me->ready = 1;
    while (!stop) {
        if (lanes_sys_cpu_id() != (int64_t)me->pin_cpu)
            me->wrong++;
        me->samples++;
    }
}

static void sleeper(void *arg)
{
    struct worker *me = arg;
    me->tid = (uint32_t)lanes_sys_thread_self();
    me->ready = 1;
    while (!sleepers_go)
        lanes_sys_futex_wait((const void *)&sleepers_go, 0, LANES_SEC(30));
}

static int set_self(uint64_t mask)
{
    cpu_set_t s = { mask };
    return sched_setaffinity(0, sizeof s, &s);
}

/* Starts n threads of fn on CPU `cpu` (pinned there, then allowed everywhere unless keep). */
static bool start_on(uint32_t first, uint32_t n, uint32_t cpu, void (*fn)(void *), bool keep_pinned)
{
    if (set_self(1ull << cpu) < 0)
        return false;
    for (uint32_t i = first; i < first + n; i++) {
        w[i].ready = 0;
        if (lanes_thread_start(&w[i].th, fn, &w[i], 0) < 0)
            return false;
    }
    for (uint32_t i = first; i < first + n; i++)
        while (!w[i].ready)
            lanes_sys_sleep(LANES_MS(1));
    if (!keep_pinned)
        for (uint32_t i = first; i < first + n; i++) {
            cpu_set_t s = { all_mask };
            if (sched_setaffinity(w[i].th.handle, sizeof s, &s) < 0)
                return false;
        }
    return set_self(all_mask) == 0;
}

static void stop_all(uint32_t n)
{
    stop = 1;
    sleepers_go = 1;
    lanes_sys_futex_wake((const void *)&sleepers_go, 1000);
    for (uint32_t i = 0; i < n; i++)
        if (w[i].th.stack)
            lanes_thread_join(&w[i].th, LANES_SEC(30));
    stop = 0;
    sleepers_go = 0;
    memset(w, 0, sizeof w);
}

static struct lane_thread_record rec[256];

/* The kernel's record of thread tid (NULL if gone). */
static struct lane_thread_record *find(uint32_t tid)
{
    int64_t n = lanes_sys_thread_list(rec, 256);
    for (int64_t k = 0; k < n && k < 256; k++)
        if (rec[k].tid == tid)
            return &rec[k];
    return NULL;
}

/* Threads of w[first..first+n) per CPU, from the kernel. */
static void per_cpu(uint32_t first, uint32_t n, uint32_t *count)
{
    memset(count, 0, sizeof(uint32_t) * 64);
    int64_t nr = lanes_sys_thread_list(rec, 256);
    for (uint32_t i = first; i < first + n; i++)
        for (int64_t k = 0; k < nr && k < 256; k++)
            if (rec[k].tid == w[i].tid && rec[k].cpu < 64)
                count[rec[k].cpu]++;
}

static uint64_t sysnum(const char *path)
{
    char b[64];
    int64_t r = lanes_sys_sysfs_read(path, strlen(path), b, sizeof b - 1);
    b[r > 0 ? r : 0] = 0;
    return r > 0 ? strtoull(b, NULL, 10) : UINT64_MAX;
}

static int64_t syswrite(const char *path, const char *val)
{
    return lanes_sys_sysfs_write(system_cap, path, strlen(path), val, strlen(val));
}

/* ---- tests ---- */

static bool t_affinity_api(void)
{
    cpu_set_t s;
    REQUIRE(sched_getaffinity(0, sizeof s, &s) == 0, "getaffinity(self)");
    REQUIRE(s.bits == all_mask, "own mask %llx, want every CPU %llx", (unsigned long long)s.bits,
            (unsigned long long)all_mask);
    uint32_t last = sysinfo.ncpus - 1;
    /* pinned to CPU 0 first, so that the pin to the last CPU always moves the thread (an
     * "affinity" migration in the trace, which the recorded scheduler-view test looks for: placed
     * on the least-loaded CPU, the thread may already be on the last one) */
    REQUIRE(set_self(1) == 0 && lanes_sys_cpu_id() == 0, "pin self to CPU 0 (on CPU %lld)",
            (long long)lanes_sys_cpu_id());
    REQUIRE(set_self(1ull << last) == 0, "pin self to CPU %u", last);
    for (int i = 0; i < 200; i++) {
        REQUIRE(lanes_sys_cpu_id() == last, "running on CPU %lld after pinning to %u (sample %d)",
                (long long)lanes_sys_cpu_id(), last, i);
        if (i % 50 == 0)
            lanes_sys_sleep(LANES_MS(1));
    }
    REQUIRE(sched_getaffinity(0, sizeof s, &s) == 0 && s.bits == 1ull << last, "mask reads back");
    int64_t r = set_self(0);
    REQUIRE(r == LANES_E_INVAL, "empty mask: %s", E(r));
    r = set_self(1ull << 63 & ~all_mask ? 1ull << 63 : 0);
    REQUIRE(r == LANES_E_INVAL, "mask of an absent CPU only: %s", E(r));
    r = lanes_sys_thread_set_affinity(12345, 1);
    REQUIRE(r == LANES_E_BADHANDLE, "bad handle: %s", E(r));
    int64_t proc = lanes_sys_process_self();
    r = lanes_sys_thread_set_affinity((int32_t)proc, 1);
    REQUIRE(r == LANES_E_TYPE, "process handle: %s", E(r));
    lanes_sys_handle_close((int32_t)proc);
    /* a thread handle without CONTROL may read but not set */
    REQUIRE(lanes_thread_start(&w[0].th, sleeper, &w[0], 0) == 0, "thread_start");
    int64_t ro = lanes_sys_handle_dup(w[0].th.handle, LANES_RIGHT_READ | LANES_RIGHT_WAIT);
    REQUIRE(ro >= 0, "dup: %s", E(ro));
    uint64_t m = 0;
    r = lanes_sys_thread_get_affinity((int32_t)ro, &m);
    REQUIRE(r == 0 && m == 1ull << last, "read through a READ handle: %s, mask %llx (inherited)", E(r),
            (unsigned long long)m);
    r = lanes_sys_thread_set_affinity((int32_t)ro, 1);
    REQUIRE(r == LANES_E_ACCESS, "set without CONTROL: %s", E(r));
    r = lanes_sys_thread_get_affinity((int32_t)ro, (void *)8);
    REQUIRE(r == LANES_E_FAULT, "bad pointer: %s", E(r));
    lanes_sys_handle_close((int32_t)ro);
    stop_all(1);
    REQUIRE(set_self(all_mask) == 0, "unpin");
    return true;
}

static bool t_spread(void)
{
    uint32_t n = sysinfo.ncpus;
    uint32_t nth = 2 * n > MAXW ? MAXW : 2 * n;
    uint64_t moved0 = sysnum("/sys/kernel/sched/migrations");
    REQUIRE(start_on(0, nth, 0, spinner, false), "starting %u spinners on CPU 0", nth);
    uint64_t t0 = lanes_now_ns();
    uint32_t count[64];
    int stable = 0;
    uint64_t spread_at = 0;
    /* polled every 10 ms, the first of 10 even polls in a row (os/tools/host/sched-host-bench.c
     * measures Linux the same way for sched-bench) */
    while (lanes_now_ns() - t0 < LANES_SEC(5) && stable < 10) {
        lanes_sys_sleep(LANES_MS(10));
        per_cpu(0, nth, count);
        bool even = true;
        for (uint32_t c = 0; c < n; c++)
            even &= count[c] == nth / n;
        stable = even ? stable + 1 : 0;
        if (even && stable == 1)
            spread_at = lanes_now_ns() - t0;
    }
    char dist[80] = "";
    for (uint32_t c = 0; c < n && c < 16; c++)
        snprintf(dist + strlen(dist), sizeof dist - strlen(dist), "%s%u", c ? "/" : "", count[c]);
    uint64_t moved = sysnum("/sys/kernel/sched/migrations") - moved0;
    stop_all(nth);
    if (n == 1) {
        REQUIRE(moved == 0, "1 CPU: %llu balance moves", (unsigned long long)moved);
        snprintf(why, sizeof why, "1 CPU: %u spinners, no moves", nth);
        return true;
    }
    REQUIRE(stable >= 10, "%u spinners not spread evenly within 5 s: per CPU %s", nth, dist);
    REQUIRE(moved >= 1, "spread without a balance move (stealing alone cannot do it)");
    snprintf(why, sizeof why, "%u spinners on CPU 0 -> %s after %llu ms, %llu balance moves", nth, dist,
             (unsigned long long)(spread_at / 1000000), (unsigned long long)moved);
    return true;
}

/* `spin 8` on 4 CPUs as the issue states it (2 spinners per CPU, all started on CPU 0): after
 * 1 s of guest time, each CPU's share of the spinners' runtime over the next second is within
 * +-10 % of its fair share (25 % on 4 CPUs: 22.5..27.5 %), and each spinner gets >= 20 % of a
 * CPU. Runtime is the kernel's per-thread CPU time (thread_list, guest clock), attributed to the
 * CPU the thread is on at each 5 ms sample; a loaded host slows the guest but does not skew
 * guest-time shares (a vCPU the host leaves waiting still holds its thread, and both clocks
 * are the guest's). */
static bool t_share(void)
{
    uint32_t n = sysinfo.ncpus;
    uint32_t nth = 2 * n > MAXW ? MAXW : 2 * n;
    REQUIRE(start_on(0, nth, 0, spinner, false), "starting %u spinners on CPU 0", nth);
    lanes_sys_sleep(LANES_SEC(1));
    uint64_t last_t[MAXW], per_cpu_ns[64] = { 0 }, per_thr[MAXW] = { 0 }, unknown = 0;
    for (uint32_t i = 0; i < nth; i++) {
        struct lane_thread_record *r = find(w[i].tid);
        last_t[i] = r ? r->cpu_time_ns : 0;
    }
    uint64_t t0 = lanes_now_ns(), samples = 0;
    while (lanes_now_ns() - t0 < LANES_SEC(1)) {
        lanes_sys_sleep(LANES_MS(5));
        int64_t nr = lanes_sys_thread_list(rec, 256);
        samples++;
        for (uint32_t i = 0; i < nth; i++)
            for (int64_t k = 0; k < nr && k < 256; k++)
                if (rec[k].tid == w[i].tid) {
                    uint64_t d = rec[k].cpu_time_ns - last_t[i];
                    last_t[i] = rec[k].cpu_time_ns;
                    per_thr[i] += d;
                    if (rec[k].cpu < 64)
                        per_cpu_ns[rec[k].cpu] += d;
                    else
                        unknown += d;
                }
    }
    uint64_t window = lanes_now_ns() - t0;
    stop_all(nth);
    uint64_t total = unknown;
    for (uint32_t c = 0; c < n && c < 64; c++)
        total += per_cpu_ns[c];
    REQUIRE(total > 0, "the spinners ran for 0 ns");
    char dist[128] = "";
    bool even = true;
    for (uint32_t c = 0; c < n && c < 64; c++) {
        /* share in 1/1000; fair = 1000/n; within +-10 % of it */
        uint64_t share = per_cpu_ns[c] * 1000 / total;
        even &= share * n * 10 >= 9000 && share * n * 10 <= 11000;
        if (c < 16)
            snprintf(dist + strlen(dist), sizeof dist - strlen(dist), "%s%llu.%llu", c ? "/" : "",
                     (unsigned long long)(share / 10), (unsigned long long)(share % 10));
    }
    REQUIRE(even, "per-CPU shares of the spinners' runtime (%%) %s, each should be %u +-10 %% of it", dist,
            100 / n);
    uint64_t lo = UINT64_MAX;
    uint32_t lo_i = 0;
    for (uint32_t i = 0; i < nth; i++)
        if (per_thr[i] < lo) {
            lo = per_thr[i];
            lo_i = i;
        }
    /* no starvation: >= 20 % of a CPU each (fair is 50 %: 2 per CPU) */
    REQUIRE(lo * 5 >= window, "spinner %u got %llu ms of CPU in %llu ms (< 20 %%)", lo_i,
            (unsigned long long)(lo / 1000000), (unsigned long long)(window / 1000000));
    snprintf(why, sizeof why, "%u spinners, 1 s after the start: per-CPU shares %s %% over %llu ms (%llu samples); "
             "least %llu%% of a CPU", nth, dist, (unsigned long long)(window / 1000000), (unsigned long long)samples,
             (unsigned long long)(lo * 100 / window));
    return true;
}

static bool t_balance_off(void)
{
    uint32_t n = sysinfo.ncpus;
    if (n == 1) {
        REQUIRE(syswrite("/sys/kernel/sched/enabled", "0") == 0, "switch off");
        REQUIRE(syswrite("/sys/kernel/sched/enabled", "1") == 0, "switch on");
        snprintf(why, sizeof why, "1 CPU: switch works, nothing to balance");
        return true;
    }
    uint32_t nth = 2 * n > MAXW ? MAXW : 2 * n;
    int64_t r = syswrite("/sys/kernel/sched/enabled", "0");
    REQUIRE(r == 0, "enabled=0: %s", E(r));
    bool ok = start_on(0, nth, 0, spinner, false);
    lanes_sys_sleep(LANES_MS(1500));
    uint32_t count[64];
    per_cpu(0, nth, count);
    syswrite("/sys/kernel/sched/enabled", "1");
    /* switched on again, the same threads spread */
    uint64_t t0 = lanes_now_ns();
    uint32_t after[64];
    bool even = false;
    while (!even && lanes_now_ns() - t0 < LANES_SEC(5)) {
        lanes_sys_sleep(LANES_MS(50));
        per_cpu(0, nth, after);
        even = true;
        for (uint32_t c = 0; c < n; c++)
            even &= after[c] == nth / n;
    }
    uint64_t took = lanes_now_ns() - t0;
    stop_all(nth);
    REQUIRE(ok, "starting spinners");
    REQUIRE(count[0] > nth / n, "balancer off: CPU 0 kept %u of %u (stealing alone should leave the surplus)",
            count[0], nth);
    REQUIRE(even, "balancer on again: not spread within 5 s");
    snprintf(why, sizeof why, "off: CPU 0 kept %u of %u for 1.5 s; on: spread in %llu ms", count[0], nth,
             (unsigned long long)(took / 1000000));
    return true;
}

static bool t_pinned(void)
{
    uint32_t n = sysinfo.ncpus;
    uint32_t cpu = n > 1 ? 1 : 0;
    uint32_t nth = 2 * n > MAXW - 1 ? MAXW - 1 : 2 * n;
    w[0].pin_cpu = cpu;
    REQUIRE(start_on(0, 1, cpu, sampler, true), "start the pinned sampler");
    REQUIRE(start_on(1, nth, cpu, spinner, false), "start %u spinners on CPU %u", nth, cpu);
    uint64_t t0 = lanes_now_ns();
    while ((w[0].samples < 10000 || lanes_now_ns() - t0 < LANES_SEC(1)) && lanes_now_ns() - t0 < LANES_SEC(20))
        lanes_sys_sleep(LANES_MS(50));
    struct lane_thread_record *r = find(w[0].tid);
    uint32_t kcpu = r ? r->cpu : 99;
    uint32_t count[64];
    per_cpu(1, nth, count);
    uint64_t samples = w[0].samples, wrong = w[0].wrong;
    stop_all(nth + 1);
    REQUIRE(samples >= 10000, "only %llu samples in 20 s", (unsigned long long)samples);
    REQUIRE(wrong == 0, "the pinned thread ran elsewhere in %llu of %llu samples", (unsigned long long)wrong,
            (unsigned long long)samples);
    REQUIRE(kcpu == cpu, "kernel has the pinned thread on CPU %u", kcpu);
    if (n > 1)
        REQUIRE(count[cpu] < nth, "no pressure: all %u spinners stayed on CPU %u", nth, cpu);
    snprintf(why, sizeof why, "%llu samples all on CPU %u; %u of %u spinners left it", (unsigned long long)samples,
             cpu, nth - count[cpu], nth);
    return true;
}

static bool t_zero_load(void)
{
    uint32_t n = sysinfo.ncpus;
    uint32_t ns = 3, nth = 2 * n > MAXW - ns ? MAXW - ns : 2 * n;
    REQUIRE(start_on(0, ns, 0, sleeper, false), "start sleepers on CPU 0");
    /* Blocked since they started: runnable ~1 ms against seconds blocked, and the runnable
     * part decays; after about 2.5 s their load rounds to 0 (kernel/balance.h), so no round may
     * take them however uneven the CPUs are. How long exactly depends on how long they waited
     * for CPU 0 when they started (long on a loaded host): wait until the kernel shows 0 for
     * each (/sys/kernel/sched/threads/TID/load), up to 20 s. */
    lanes_sys_sleep(LANES_MS(2500));
    uint64_t load = 0;
    for (int k = 0; k < 175; k++) {
        load = 0;
        for (uint32_t i = 0; i < ns; i++) {
            char path[64];
            snprintf(path, sizeof path, "/sys/kernel/sched/threads/%u/load", w[i].tid);
            uint64_t l = sysnum(path);
            load += l == UINT64_MAX ? 0 : l;
        }
        if (load == 0)
            break;
        lanes_sys_sleep(LANES_MS(100));
    }
    REQUIRE(load == 0, "blocked threads' load still %llu after 20 s", (unsigned long long)load);
    /* (while their load was still above 0 a round may have moved them to an idle CPU: that is
     * the rule; from now on it is 0) */
    uint32_t where[8];
    for (uint32_t i = 0; i < ns; i++) {
        struct lane_thread_record *r = find(w[i].tid);
        where[i] = r ? r->cpu : 99;
    }
    REQUIRE(start_on(ns, nth, 0, spinner, false), "start spinners on CPU 0");
    lanes_sys_sleep(LANES_MS(1500));
    uint32_t spc[64], kept = 0;
    for (uint32_t i = 0; i < ns; i++) {
        struct lane_thread_record *r = find(w[i].tid);
        kept += r && r->cpu == where[i];
    }
    per_cpu(ns, nth, spc);
    stop_all(ns + nth);
    REQUIRE(kept == ns, "zero-load threads moved: %u of %u stayed", kept, ns);
    if (n > 1)
        REQUIRE(spc[0] < nth, "spinners did not move: no pressure");
    snprintf(why, sizeof why, "%u blocked threads stayed put while %u of %u spinners left CPU 0", ns,
             nth - spc[0], nth);
    return true;
}

static bool t_duty(void)
{
    uint32_t n = sysinfo.ncpus;
    /* one spinner per CPU (placement spreads them), plus a 10 % thread */
    for (uint32_t i = 0; i < n && i < MAXW - 1; i++) {
        w[i].ready = 0;
        REQUIRE(lanes_thread_start(&w[i].th, spinner, &w[i], 0) == 0, "spinner");
    }
    uint32_t d = n < MAXW - 1 ? n : MAXW - 1;
    w[d].duty = 10;
    REQUIRE(lanes_thread_start(&w[d].th, spinner, &w[d], 0) == 0, "duty thread");
    lanes_sys_sleep(LANES_MS(500));
    uint32_t c0 = w[d].changes;
    lanes_sys_sleep(LANES_SEC(3));
    uint32_t moves = w[d].changes - c0;
    uint64_t work = w[d].work;
    stop_all(d + 1);
    REQUIRE(work > 50, "the 10%% thread ran only %llu cycles", (unsigned long long)work);
    REQUIRE(moves < 3, "the 10%% thread changed CPU %u times in 3 s", moves);
    snprintf(why, sizeof why, "10%% thread: %u CPU changes in 3 s beside %u spinners", moves, n);
    return true;
}

static bool t_no_starve(void)
{
    uint32_t n = sysinfo.ncpus;
    uint32_t nth = 2 * n > MAXW ? MAXW : 2 * n;
    REQUIRE(start_on(0, nth, 0, spinner, false), "start");
    uint64_t before[MAXW];
    lanes_sys_sleep(LANES_MS(500));
    for (uint32_t i = 0; i < nth; i++) {
        struct lane_thread_record *r = find(w[i].tid);
        before[i] = r ? r->cpu_time_ns : 0;
    }
    lanes_sys_sleep(LANES_SEC(2));
    uint64_t got[MAXW], sum = 0, lo = UINT64_MAX;
    for (uint32_t i = 0; i < nth; i++) {
        struct lane_thread_record *r = find(w[i].tid);
        got[i] = r ? r->cpu_time_ns - before[i] : 0;
        sum += got[i];
        lo = got[i] < lo ? got[i] : lo;
    }
    stop_all(nth);
    uint64_t mean = sum / nth;
    /* fair share is half a CPU each; TCG's virtual CPUs get uneven host time, so compare with
     * the mean rather than the clock */
    REQUIRE(lo * 10 >= mean * 4, "a spinner got %llu ms of CPU in 2 s, the mean %llu ms", (unsigned long long)(lo / 1000000),
            (unsigned long long)(mean / 1000000));
    snprintf(why, sizeof why, "%u spinners: least %llu ms, mean %llu ms of CPU in 2 s", nth,
             (unsigned long long)(lo / 1000000), (unsigned long long)(mean / 1000000));
    return true;
}

static bool t_sysfs(void)
{
    REQUIRE(sysnum("/sys/kernel/sched/balance_interval_ms") == 100, "interval default 100");
    REQUIRE(sysnum("/sys/kernel/sched/decay") == 184, "decay default 184");
    REQUIRE(sysnum("/sys/kernel/sched/enabled") == 1, "enabled default 1");
    uint64_t r0 = sysnum("/sys/kernel/sched/rounds");
    lanes_sys_sleep(LANES_MS(350));
    uint64_t r1 = sysnum("/sys/kernel/sched/rounds");
    REQUIRE(r1 >= r0 + 2, "rounds %llu -> %llu in 350 ms", (unsigned long long)r0, (unsigned long long)r1);
    int64_t e;
    REQUIRE((e = syswrite("/sys/kernel/sched/balance_interval_ms", "50")) == 0, "interval 50: %s", E(e));
    REQUIRE(sysnum("/sys/kernel/sched/balance_interval_ms") == 50, "interval reads back");
    REQUIRE(syswrite("/sys/kernel/sched/balance_interval_ms", "5") == LANES_E_INVAL, "interval 5 refused");
    REQUIRE(syswrite("/sys/kernel/sched/balance_interval_ms", "100") == 0, "interval 100");
    REQUIRE(syswrite("/sys/kernel/sched/decay", "0") == LANES_E_INVAL, "decay 0 refused");
    REQUIRE(syswrite("/sys/kernel/sched/decay", "256") == LANES_E_INVAL, "decay 256 refused");
    REQUIRE(syswrite("/sys/kernel/sched/enabled", "2") == LANES_E_INVAL, "enabled 2 refused");
    REQUIRE(lanes_sys_sysfs_write(-1, "/sys/kernel/sched/enabled", 25, "0", 1) < 0, "write without the capability");
    REQUIRE(sysnum("/sys/kernel/sched/enabled") == 1, "still enabled");
    for (uint32_t i = 0; i < sysinfo.ncpus; i++) {
        char p[64];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/load", i);
        REQUIRE(sysnum(p) != UINT64_MAX, "%s", p);
    }
    /* per thread: a spinner pinned to the last CPU shows that CPU, its mask and a load near 1024 */
    uint32_t last = sysinfo.ncpus - 1;
    REQUIRE(start_on(0, 1, last, spinner, true), "start a pinned spinner");
    lanes_sys_sleep(LANES_MS(600));
    char p[80];
    snprintf(p, sizeof p, "/sys/kernel/sched/threads/%u/cpu", w[0].tid);
    uint64_t cpu = sysnum(p);
    snprintf(p, sizeof p, "/sys/kernel/sched/threads/%u/load", w[0].tid);
    uint64_t load = sysnum(p);
    snprintf(p, sizeof p, "/sys/kernel/sched/threads/%u/pid", w[0].tid);
    uint64_t pid = sysnum(p);
    char aff[32];
    snprintf(p, sizeof p, "/sys/kernel/sched/threads/%u/affinity", w[0].tid);
    int64_t r = lanes_sys_sysfs_read(p, strlen(p), aff, sizeof aff - 1);
    aff[r > 0 ? r : 0] = 0;
    uint32_t tid = w[0].tid;
    stop_all(1);
    REQUIRE(cpu == last, "threads/%u/cpu = %llu, pinned to %u", tid, (unsigned long long)cpu, last);
    REQUIRE(load >= 900 && load <= 1024, "threads/%u/load = %llu for a spinner", tid, (unsigned long long)load);
    REQUIRE(pid != UINT64_MAX && pid > 0, "threads/%u/pid", tid);
    char want[32];
    snprintf(want, sizeof want, "0x%llx\n", 1ull << last);
    REQUIRE(!strcmp(aff, want), "threads/%u/affinity = %s", tid, aff);
    lanes_sys_sleep(LANES_MS(100));
    snprintf(p, sizeof p, "/sys/kernel/sched/threads/%u/cpu", tid);
    REQUIRE(sysnum(p) == UINT64_MAX, "the node of thread %u is gone after it ended", tid);
    snprintf(why, sizeof why, "thread %u: cpu %llu, load %llu, affinity %.*s", tid, (unsigned long long)cpu,
             (unsigned long long)load, (int)strcspn(aff, "\n"), aff);
    return true;
}

/* 64 bytes of buf sent on lane, then (recv: chained) a 64-byte inline receive, submitted with
 * ipc_submit_wait on q under tag: what the client's request and the server's reply-and-take-the-
 * next of the round-trip tests below make. */
static int64_t send_then_recv(int32_t lane, const uint8_t *buf, bool recv, struct lanes_queue *q, uint64_t tag)
{
    struct lane_ipc_action a[2] = {
        { .type = LANES_IPC_ACTION_SEND, .flags = recv ? LANES_IPC_FLAG_CHAIN : 0, .buf = (uint64_t)(uintptr_t)buf,
          .len = 64, .handle = -1 },
        { .type = LANES_IPC_ACTION_RECV_INLINE, .handle = -1 },
    };
    return lanes_sys_ipc_submit_wait(lane, a, recv ? 2 : 1, q->handle, tag, LANES_SEC(30));
}

/* A server thread of the round-trip tests: its first receive (tag 1) posted on lane, then ready
 * (wrong = 1 if the receive could not be posted). */
static bool server_start(struct worker *me, int32_t lane, struct lanes_queue *q)
{
    me->tid = (uint32_t)lanes_sys_thread_self();
    struct lane_ipc_action recv = { .type = LANES_IPC_ACTION_RECV_INLINE, .handle = -1 };
    int64_t r = lanes_sys_ipc_submit(lane, &recv, 1, q->handle, 1);
    me->wrong = r ? 1 : 0;
    me->ready = 1;
    return !r;
}

/* ---- wake-affine: a synchronous request pulls its server onto the caller's CPU ----
 * A server thread starts pinned to the last CPU, waits there for a request (ipc queue wait),
 * and is then allowed every CPU; the client, pinned to CPU 0, makes WA_ROUNDS 64-byte round
 * trips with ipc_submit_wait (the server answers with the CPU it ran on, the same way). The
 * kernel moves the blocked server to the client's CPU at the first request (migrate reason
 * wake): >= 2/3 of the answers must come from CPU 0 (the balancer may move it off again with
 * 4 CPUs; 248 of 300 were seen on a loaded host, 0 before), and the kernel must have sent at most
 * WA_ROUNDS / 2 reschedule IPIs meanwhile (/sys/kernel/sched/wakeups/ipi, the whole system: the
 * rest of the system's wake-ups count too: 79 were seen once with 4 CPUs).
 * Before, the server stayed on its CPU and each request and each reply was a cross-CPU
 * wake-up (an IPI to a halted CPU: milliseconds under TCG on a busy host). Counts, not time:
 * the median round trip is only checked against the 10 ms time slice. */
#define WA_ROUNDS 300
static struct lanes_queue wa_q;
static int32_t wa_lane[2];

static void wa_server(void *arg)
{
    struct worker *me = arg;
    static uint8_t rep[64];
    if (!server_start(me, wa_lane[1], &wa_q))
        return;
    struct lane_ipc_completion c;
    for (uint32_t i = 0; i < WA_ROUNDS; i++) {
        if (lanes_queue_next(&wa_q, &c, LANES_SEC(30)) || c.status) {
            me->wrong = 2;
            return;
        }
        uint32_t cpu = lanes_cpu_id();
        memcpy(rep, &cpu, 4);
        if (send_then_recv(wa_lane[1], rep, i + 1 < WA_ROUNDS, &wa_q, 1) < 0) {
            me->wrong = 3;
            return;
        }
    }
    lanes_queue_next(&wa_q, &c, LANES_SEC(5));      /* the last reply's own completion */
}

/* The counters of one wake-up kind: count ipis sum_ns max_ns and the histogram (sched_wake.c). */
static uint64_t wake_ipis(void)
{
    char b[256];
    const char *p = "/sys/kernel/sched/wakeups/ipi";
    int64_t r = lanes_sys_sysfs_read(p, strlen(p), b, sizeof b - 1);
    if (r <= 0)
        return UINT64_MAX;
    b[r] = 0;
    char *e;
    strtoull(b, &e, 10);
    return strtoull(e, NULL, 10);
}

static bool t_wake_affine(void)
{
    if (sysinfo.ncpus < 2) {
        snprintf(why, sizeof why, "1 CPU: nothing to pull");
        return true;
    }
    uint32_t last = sysinfo.ncpus - 1;
    REQUIRE(lanes_queue_init(&wa_q, 64) == 0, "queue for the server");
    REQUIRE(lanes_stream(wa_lane) == 0, "lane pair");
    struct lanes_queue cq;
    REQUIRE(lanes_queue_init(&cq, 64) == 0, "queue for the client");
    REQUIRE(start_on(0, 1, last, wa_server, true), "start the server on CPU %u", last);
    lanes_sys_sleep(LANES_MS(50));                  /* it waits for the first request now */
    REQUIRE(!w[0].wrong, "server: first receive failed");
    struct lane_thread_record *sr = find(w[0].tid);
    REQUIRE(sr && sr->cpu == last, "server on CPU %d before the first request, want %u", sr ? (int)sr->cpu : -1, last);
    cpu_set_t s = { all_mask };
    REQUIRE(sched_setaffinity(w[0].th.handle, sizeof s, &s) == 0, "allow the server every CPU");
    REQUIRE(set_self(1) == 0, "pin the client to CPU 0");
    static uint8_t req[64];
    static uint64_t lat[WA_ROUNDS];
    uint32_t on0 = 0, n = 0;
    uint64_t ipi0 = wake_ipis();
    for (uint32_t i = 0; i < WA_ROUNDS; i++) {
        uint64_t t0 = lanes_now_ns();
        int64_t r = send_then_recv(wa_lane[0], req, true, &cq, 7);
        struct lane_ipc_completion c;
        if (r > 0)
            r = lanes_queue_next(&cq, &c, LANES_SEC(30));
        if (r || c.status)
            break;
        lat[i] = lanes_now_ns() - t0;
        uint32_t cpu;
        memcpy(&cpu, lanes_ipc_data(&c, 1), 4);
        on0 += cpu == 0;
        n++;
    }
    uint64_t ipi1 = wake_ipis();
    uint32_t wrong = (uint32_t)w[0].wrong;
    stop_all(1);
    set_self(all_mask);
    lanes_sys_handle_close(wa_lane[0]);
    lanes_sys_handle_close(wa_lane[1]);
    REQUIRE(n == WA_ROUNDS, "round trip %u of %u failed (server %u)", n + 1, WA_ROUNDS, wrong);
    for (uint32_t i = 1; i < n; i++)                /* insertion sort: the median */
        for (uint32_t j = i; j && lat[j - 1] > lat[j]; j--) {
            uint64_t t = lat[j];
            lat[j] = lat[j - 1];
            lat[j - 1] = t;
        }
    uint64_t med = lat[n / 2];
    REQUIRE(on0 * 3 >= n * 2, "the server answered from CPU 0 in %u of %u round trips (want >= 2/3): it was "
            "not moved to its caller's CPU", on0, n);
    REQUIRE(ipi0 != UINT64_MAX && ipi1 != UINT64_MAX, "/sys/kernel/sched/wakeups/ipi unreadable");
    uint64_t ipis = ipi1 - ipi0;
    REQUIRE(ipis <= WA_ROUNDS / 2, "%llu reschedule IPIs during %u round trips on one CPU", (unsigned long long)ipis, n);
    REQUIRE(med < LANES_MS(10), "median round trip %llu us, a 10 ms time slice at most",
            (unsigned long long)(med / 1000));
    snprintf(why, sizeof why, "server on CPU 0 in %u/%u round trips, %llu IPIs, median %llu us", on0, n,
             (unsigned long long)ipis, (unsigned long long)(med / 1000));
    return true;
}

/* ---- hand-off: a thread woken by one that gives way runs first, on its waker's slice ----
 * On CPU 0: a spinner, and a client (us) and a server that answer each other with
 * ipc_submit_wait for HS_MS (the server as posix and fs do: the reply alone — its own completion
 * is queued at once, so it gives way to the client — then its next receive). The kernel queues
 * each woken one first (sched.c make_ready) and runs both on what is left of the slice, so the
 * pair runs about half the CPU and the spinner the other half. Before, each request and each reply queued behind the spinner's 10 ms
 * slice: ~50 round trips a second. Both sides are checked: >= HS_MIN_RTS round trips (the pair
 * is not made to wait for the spinner) and >= 1/4 of the window for the spinner (the pair, which
 * keeps waking each other, does not starve it). */
#define HS_MS 1000
#define HS_MIN_RTS 200
static struct lanes_queue hs_q;
static int32_t hs_lane[2];

static void hs_server(void *arg)
{
    struct worker *me = arg;
    static uint8_t rep[64];
    if (!server_start(me, hs_lane[1], &hs_q))
        return;
    struct lane_ipc_completion c;
    while (!stop) {
        int64_t r = lanes_queue_next(&hs_q, &c, LANES_MS(100));
        if (r == LANES_E_TIMEOUT)
            continue;
        if (r || c.tag != 1)
            continue;                       /* (tag 2: a reply's own completion) */
        if (c.status) {                     /* (our client closed its end: the test is over) */
            me->wrong = 2;
            return;
        }
        /* the reply alone, then the next receive: as posix and fs answer (the reply's own
         * completion is queued at once, so the server gives way to its client, sched.c) */
        struct lane_ipc_action recv = { .type = LANES_IPC_ACTION_RECV_INLINE, .handle = -1 };
        if (send_then_recv(hs_lane[1], rep, false, &hs_q, 2) < 0 ||
            lanes_sys_ipc_submit(hs_lane[1], &recv, 1, hs_q.handle, 1)) {
            me->wrong = 3;
            return;
        }
        me->work++;
    }
}

static bool t_handoff(void)
{
    REQUIRE(lanes_queue_init(&hs_q, 64) == 0, "queue for the server");
    REQUIRE(lanes_stream(hs_lane) == 0, "lane pair");
    struct lanes_queue cq;
    REQUIRE(lanes_queue_init(&cq, 64) == 0, "queue for the client");
    REQUIRE(start_on(0, 1, 0, hs_server, true), "start the server on CPU 0");
    REQUIRE(start_on(1, 1, 0, spinner, true), "start the spinner on CPU 0");
    REQUIRE(set_self(1) == 0, "pin the client to CPU 0");
    lanes_sys_sleep(LANES_MS(50));
    struct lane_thread_record *sr = find(w[1].tid);
    uint64_t spin0 = sr ? sr->cpu_time_ns : 0, t0 = lanes_now_ns();
    static uint8_t req[64];
    uint32_t n = 0;
    int64_t r = 0;
    while (lanes_now_ns() - t0 < LANES_MS(HS_MS)) {
        r = send_then_recv(hs_lane[0], req, true, &cq, 7);
        struct lane_ipc_completion c;
        if (r > 0)
            r = lanes_queue_next(&cq, &c, LANES_SEC(30));
        if (r || c.status)
            break;
        n++;
    }
    uint64_t window = lanes_now_ns() - t0;
    sr = find(w[1].tid);
    uint64_t spun = sr && sr->cpu_time_ns > spin0 ? sr->cpu_time_ns - spin0 : 0;
    uint32_t wrong = (uint32_t)w[0].wrong;
    lanes_sys_handle_close(hs_lane[0]);             /* ends the server's wait for a request */
    stop_all(2);
    set_self(all_mask);
    lanes_sys_handle_close(hs_lane[1]);
    REQUIRE(!r && !wrong, "round trip %u failed: %s (server %u)", n + 1, E(r), wrong);
    REQUIRE(n >= HS_MIN_RTS, "%u round trips in %llu ms beside a spinner on one CPU (want >= %u): each waited "
            "for the spinner's slice", n, (unsigned long long)(window / 1000000), HS_MIN_RTS);
    REQUIRE(spun * 4 >= window, "the spinner ran %llu of %llu ms beside the pair (want >= 1/4)",
            (unsigned long long)(spun / 1000000), (unsigned long long)(window / 1000000));
    snprintf(why, sizeof why, "%u round trips in %llu ms; the spinner ran %llu%% of it", n,
             (unsigned long long)(window / 1000000), (unsigned long long)(spun * 100 / window));
    return true;
}

static const struct lanes_test tests[] = {
    { "affinity_api", t_affinity_api },
    { "sysfs", t_sysfs },
    { "spread", t_spread },
    { "share", t_share },
    { "balance_off", t_balance_off },
    { "pinned", t_pinned },
    { "zero_load", t_zero_load },
    { "duty", t_duty },
    { "no_starve", t_no_starve },
    { "wake_affine", t_wake_affine },
    { "handoff", t_handoff },
};
#define NTESTS (sizeof tests / sizeof tests[0])

int main(int argc, char **argv)
{
    system_cap = lanes_handle_by_tag("system");
    lanes_sys_sysinfo(&sysinfo);
    all_mask = sysinfo.ncpus >= 64 ? ~0ull : (1ull << sysinfo.ncpus) - 1;
    printf("schedtests: %u tests on %u CPUs\n", (unsigned)NTESTS, sysinfo.ncpus);
    struct lanes_tests results = { 0, 0 };
    lanes_test_table(&results, tests, NTESTS, argc, argv, NULL);
    return lanes_test_summary(&results, "schedtests", argc);
}
