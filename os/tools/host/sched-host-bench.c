/* sched-host-bench — Linux running LaneOS's `spin` experiment, the baseline of sched-bench: as /init
 * of Debian's own Linux kernel booted in the same QEMU as LaneOS (tools/linuxguest.py), or on a host.
 *
 * The same program as os/programs/spin, with the same work unit (20000 iterations of an empty
 * volatile loop) and the same start: the main thread pins itself to CPU 0, starts N threads there
 * (they inherit the mask, so they start on CPU 0), then allows every CPU for each of them and for
 * itself. Per run:
 *   spread    N spinners (time-bound): guest ms until every CPU holds N / CPUs of them (each
 *             thread stores sched_getcpu() after every unit; polled every 10 ms; the first of ten
 *             even polls in a row, like schedtests spread)
 *   t1        one thread doing WORK units: its makespan (ms)
 *   tn        N threads doing WORK units each: the makespan (ms); ideal = N / CPUs x t1
 * Times are the guest's CLOCK_MONOTONIC. As PID 1 it reads "N WORK RUNS" from /args and powers the
 * machine off at the end, so QEMU exits. Prints one line:
 *   SCHED-LINUX-JSON {"cpus":C,"threads":N,"work":W,"spread_ms":[..],"t1_ms":[..],"tn_ms":[..]}
 * (-1 for a spread that did not happen within 5 s).
 * Build: cc -O2 -pthread -o sched-host-bench sched-host-bench.c   Usage: sched-host-bench [N [WORK [RUNS]]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/reboot.h>

#define MAXT 64

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

struct worker {
    pthread_t th;
    volatile int cpu;
    volatile long work;
    long units;                 /* 0: until stop */
};

static struct worker w[MAXT];
static volatile int stop;

static void *worker_main(void *arg)
{
    struct worker *me = arg;
    me->cpu = sched_getcpu();
    while (!stop && (!me->units || me->work < me->units)) {
        for (volatile int i = 0; i < 20000; i++)
            ;
        me->work++;
        me->cpu = sched_getcpu();
    }
    return NULL;
}

/* Starts n workers on CPU 0, then allows every CPU (as spin does). */
static void start(int n, long units, cpu_set_t *all)
{
    cpu_set_t zero;
    CPU_ZERO(&zero);
    CPU_SET(0, &zero);
    sched_setaffinity(0, sizeof zero, &zero);
    stop = 0;
    for (int i = 0; i < n; i++) {
        w[i].work = 0;
        w[i].units = units;
        w[i].cpu = -1;
        pthread_create(&w[i].th, NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_setaffinity_np(w[i].th, sizeof *all, all);
    sched_setaffinity(0, sizeof *all, all);
}

static void join(int n)
{
    for (int i = 0; i < n; i++)
        pthread_join(w[i].th, NULL);
}

static long long spread_ms(int n, int ncpu, cpu_set_t *all)
{
    long long t0 = now_ns(), at = -1;
    int stable = 0;
    start(n, 0, all);
    while (now_ns() - t0 < 5000000000LL && stable < 10) {
        sleep_ms(10);
        int count[MAXT] = { 0 };
        for (int i = 0; i < n; i++)
            if (w[i].cpu >= 0 && w[i].cpu < MAXT)
                count[w[i].cpu]++;
        int even = 1;
        for (int c = 0; c < ncpu; c++)
            even &= count[c] == n / ncpu;
        stable = even ? stable + 1 : 0;
        if (even && stable == 1)
            at = (now_ns() - t0) / 1000000;
    }
    stop = 1;
    join(n);
    return stable >= 10 ? at : -1;
}

static long long makespan_ms(int n, long units, cpu_set_t *all)
{
    long long t0 = now_ns();
    start(n, units, all);
    join(n);
    return (now_ns() - t0) / 1000000;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8;
    long work = argc > 2 ? atol(argv[2]) : 1000;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    int init = getpid() == 1;
    if (init) {                                 /* the Linux guest: arguments in /args */
        FILE *f = fopen("/args", "r");
        char line[64];
        if (f && fgets(line, sizeof line, f))
            sscanf(line, "%d %ld %d", &n, &work, &runs);
        if (f)
            fclose(f);
    }
    if (n < 1 || n > MAXT)
        n = 8;
    if (runs < 1 || runs > 20)
        runs = 3;
    cpu_set_t all;                              /* (no /sys in the guest: ask the scheduler) */
    int ncpu = sched_getaffinity(0, sizeof all, &all) ? 1 : CPU_COUNT(&all);
    long long sp[20], t1[20], tn[20];
    for (int r = 0; r < runs; r++) {
        sp[r] = spread_ms(n, ncpu, &all);
        t1[r] = makespan_ms(1, work, &all);
        tn[r] = makespan_ms(n, work, &all);
    }
    printf("SCHED-LINUX-JSON {\"cpus\":%d,\"threads\":%d,\"work\":%ld", ncpu, n, work);
    const char *names[3] = { "spread_ms", "t1_ms", "tn_ms" };
    long long *vals[3] = { sp, t1, tn };
    for (int k = 0; k < 3; k++) {
        printf(",\"%s\":[", names[k]);
        for (int r = 0; r < runs; r++)
            printf("%s%lld", r ? "," : "", vals[k][r]);
        printf("]");
    }
    printf("}\n");
    if (init) {
        fflush(stdout);
        sync();
        reboot(RB_POWER_OFF);                   /* QEMU exits; PID 1 must never return */
    }
    return 0;
}
