/* spin — N busy threads, all started on CPU 0, for the load balancer to spread
 * (os/kernel/generic/balance.c; watch it with `top`, /sys/kernel/sched or the scheduler view).
 *
 *   spin N [SECONDS] [--duty PERCENT] [--work UNITS]
 *
 * The main thread pins itself to CPU 0, starts the threads there (they inherit its affinity,
 * so placement puts them on CPU 0), then allows every CPU again for each of them: from then
 * on only idle stealing and the balancer move them. Each thread loops (with --duty, busy
 * PERCENT of every 10 ms and asleep the rest) for SECONDS (default 10; 0 = until it is
 * killed) and counts its work. At the end spin prints, per thread, the CPU it
 * was on just before the end (the kernel's view, thread_list), how often it saw its CPU change
 * (lanes_cpu_id) and its share of the work, and the makespan. With --work each thread ends after
 * UNITS units of work instead (the makespan of a fixed amount of work: os/tools/sched-bench).
 * Meanwhile the main thread polls /sys every 20 ms and reports when every CPU's load first came
 * within 10 % of the ideal ("balanced after N ms").
 */
#include <lanes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64

struct worker {
    lanes_thread_t th;
    volatile uint64_t work;
    volatile uint32_t cpu, changes;
    uint32_t index, tid;
};

static struct worker w[MAX_THREADS];
static volatile int stop;
static uint32_t duty = 100;
static uint64_t work_units;     /* 0: run for the given time */

static void busy_until(uint64_t t)
{
    while (lanes_now_ns() < t && !stop)
        for (volatile int i = 0; i < 2000; i++)
            ;
}

static void worker_main(void *arg)
{
    struct worker *me = arg;
    me->tid = (uint32_t)lanes_sys_thread_self();
    uint32_t cpu = lanes_cpu_id();
    me->cpu = cpu;
    while (!stop && (!work_units || me->work < work_units)) {
        if (duty >= 100) {
            for (volatile int i = 0; i < 20000; i++)
                ;
        } else {
            uint64_t now = lanes_now_ns();
            busy_until(now + LANES_MS(10) * duty / 100);
            lanes_sys_sleep(LANES_MS(10) * (100 - duty) / 100);
        }
        me->work++;
        uint32_t c = lanes_cpu_id();
        if (c != cpu) {
            me->changes++;
            cpu = c;
            me->cpu = c;
        }
    }
}

int main(int argc, char **argv)
{
    uint32_t n = 0;
    uint64_t seconds = 10;
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--work") && i + 1 < argc) {
            work_units = (uint64_t)atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--duty") && i + 1 < argc) {
            duty = (uint32_t)atoi(argv[++i]);
            if (duty < 1 || duty > 100) {
                printf("spin: --duty takes a percentage 1..100, not %s\n", argv[i]);
                return 2;
            }
        } else if (pos == 0) {
            n = (uint32_t)atoi(argv[i]);
            pos++;
        } else if (pos == 1) {
            seconds = (uint64_t)atoi(argv[i]);
            pos++;
        } else {
            printf("usage: spin N [SECONDS] [--duty PERCENT] [--work UNITS]\n");
            return 2;
        }
    }
    if (n < 1 || n > MAX_THREADS) {
        printf("usage: spin N [SECONDS] [--duty PERCENT]   (N = 1..%d busy threads, started on CPU 0)\n", MAX_THREADS);
        return 2;
    }
    cpu_set_t all, zero;
    sched_getaffinity(0, sizeof all, &all);
    CPU_ZERO(&zero);
    CPU_SET(0, &zero);
    int r = sched_setaffinity(0, sizeof zero, &zero);
    if (r < 0) {
        printf("spin: cannot pin to CPU 0: %s\n", lanes_strerror(r));
        return 1;
    }
    uint64_t t0 = lanes_now_ns();
    for (uint32_t i = 0; i < n; i++) {
        w[i].index = i;
        int64_t e = lanes_thread_start(&w[i].th, worker_main, &w[i], 0);
        if (e < 0) {
            printf("spin: thread %u: %s\n", i, lanes_strerror(e));
            stop = 1;
            n = i;
            break;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        sched_setaffinity(w[i].th.handle, sizeof all, &all);
    sched_setaffinity(0, sizeof all, &all);
    printf("spin: %u thread%s on CPU 0 (duty %u%%), %s\n", n, n == 1 ? "" : "s", duty,
           seconds ? "running" : "until killed");
    /* poll the loads until the end (time, or every thread done with its work) */
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);
    int64_t balanced_ms = -1;
    for (;;) {
        lanes_sys_sleep(LANES_MS(20));
        uint64_t now = lanes_now_ns();
        if (balanced_ms < 0 && si.ncpus > 1) {
            char b[32];
            int64_t r = lanes_sys_sysfs_read("/sys/kernel/sched/ideal", 23, b, sizeof b - 1);
            b[r > 0 ? r : 0] = 0;
            uint64_t ideal = strtoull(b, NULL, 10);
            bool ok = ideal > 0;
            for (uint32_t c = 0; c < si.ncpus && ok; c++) {
                char p[64];
                snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/load", c);
                r = lanes_sys_sysfs_read(p, strlen(p), b, sizeof b - 1);
                b[r > 0 ? r : 0] = 0;
                uint64_t l = strtoull(b, NULL, 10);
                ok = l * 10 >= ideal * 9 && l * 10 <= ideal * 11;
            }
            if (ok)
                balanced_ms = (int64_t)((now - t0) / 1000000);
        }
        if (work_units) {
            bool done = true;
            for (uint32_t i = 0; i < n; i++)
                done &= w[i].work >= work_units;
            if (done)
                break;
        } else if (seconds && now - t0 >= LANES_SEC(seconds)) {
            break;
        }
    }
    /* where the kernel has them now (before they end) */
    static struct lane_thread_record rec[256];
    int64_t nrec = lanes_sys_thread_list(rec, 256);
    uint32_t kcpu[MAX_THREADS];
    for (uint32_t i = 0; i < n; i++) {
        kcpu[i] = UINT32_MAX;
        for (int64_t k = 0; k < nrec && k < 256; k++)
            if (rec[k].tid == w[i].tid)
                kcpu[i] = rec[k].cpu;
    }
    stop = 1;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        lanes_thread_join(&w[i].th, LANES_SEC(10));
        total += w[i].work;
    }
    uint64_t span = lanes_now_ns() - t0;
    printf("thread   tid  cpu  moves  work%%\n");
    for (uint32_t i = 0; i < n; i++)
        printf("%6u  %4u  %3u  %5u  %5llu\n", i, w[i].tid, kcpu[i], w[i].changes,
               (unsigned long long)(total ? w[i].work * 1000 / total : 0));
    printf("spin: makespan %llu ms (work shares in 1/1000)\n", (unsigned long long)(span / 1000000));
    if (balanced_ms >= 0)
        printf("spin: balanced after %lld ms (every CPU's load within 10%% of the ideal)\n", (long long)balanced_ms);
    else
        printf("spin: never balanced within 10%% of the ideal\n");
    return 0;
}
