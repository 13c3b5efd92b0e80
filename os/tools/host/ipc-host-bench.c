/* ipc-host-bench — Linux's IPC round trip, the baseline for LaneOS's ipc-bench: on the host, and
 * as /init of Debian's own Linux kernel booted in the same QEMU as LaneOS (tools/linuxguest.py).
 *
 * A 64-byte request and a 64-byte reply between two processes (fork), over a pair of pipes
 * and over a Unix socket pair (SOCK_STREAM), N round trips each after a warm-up.
 * Each round trip is timed on its own, so the median is printed next to the mean (the median
 * is what a loaded build machine does not distort). The pipe pair is also measured with both
 * processes pinned to one CPU and to two different CPUs (the guest's smp=1 / smp=2 cases).
 * As PID 1 (the Linux guest) it reads its arguments from /args and powers the machine off at the
 * end, so QEMU exits.
 * Prints one line: HOST-IPC-JSON {"pipe_rtt_ns":..,"pipe_rtt_median_ns":..,"pipe_rtt_p99_ns":..,"unix_rtt_ns":..,
 *   "unix_rtt_median_ns":..,"pipe_same_cpu_rtt_ns":..,..._median_ns, "pipe_cross_cpu_rtt_ns":..,
 *   ..._median_ns, "rounds":N}   (-1 where a case could not run, e.g. cross-CPU on one CPU)
 * Build: cc -O2 -o ipc-host-bench ipc-host-bench.c      Usage: ipc-host-bench [N]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/wait.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int full(int fd, char *b, int n, int wr)
{
    int done = 0;
    while (done < n) {
        ssize_t r = wr ? write(fd, b + done, n - done) : read(fd, b + done, n - done);
        if (r <= 0)
            return -1;
        done += (int)r;
    }
    return 0;
}

struct result { long long mean_ns, median_ns, p99_ns; };

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);     /* best effort: unpinned if it fails */
}

/* Mean and median ns per round trip; crd/cwr: client's read/write fds, srd/swr: server's.
 * client_cpu/server_cpu: pin the two processes (-1: leave them to the host scheduler). */
static struct result run(int crd, int cwr, int srd, int swr, int close_in_child[2], int close_in_parent[2], long n,
                         int client_cpu, int server_cpu)
{
    struct result res = { -1, -1, -1 };
    char buf[64] = { 0 };
    long long *lat = malloc(sizeof *lat * (size_t)n);
    if (!lat)
        return res;
    pid_t p = fork();
    if (p == 0) {
        pin(server_cpu);
        close(close_in_child[0]);
        if (close_in_child[1] >= 0)
            close(close_in_child[1]);
        for (long i = 0; i < n + 100; i++)
            if (full(srd, buf, 64, 0) || full(swr, buf, 64, 1))
                _exit(1);
        _exit(0);
    }
    pin(client_cpu);
    close(close_in_parent[0]);
    if (close_in_parent[1] >= 0)
        close(close_in_parent[1]);
    long long t0 = 0, prev = 0;
    for (long i = 0; i < n + 100; i++) {
        if (i >= 100) {
            long long t = now_ns();
            if (i == 100)
                t0 = t;
            else
                lat[i - 101] = t - prev;
            prev = t;
        }
        if (full(cwr, buf, 64, 1) || full(crd, buf, 64, 0)) {
            free(lat);
            return res;
        }
    }
    long long end = now_ns();
    lat[n - 1] = end - prev;
    int st;
    waitpid(p, &st, 0);
    pin(-1);
    qsort(lat, (size_t)n, sizeof *lat, cmp_ll);
    res.mean_ns = (end - t0) / n;
    res.median_ns = lat[n / 2];
    res.p99_ns = lat[n - 1 - n / 100];
    free(lat);
    return res;
}

static struct result pipes(long n, int ccpu, int scpu)
{
    int a[2], b[2];
    if (pipe(a) || pipe(b))
        return (struct result){ -1, -1, -1 };
    /* client writes a[1], reads b[0]; server reads a[0], writes b[1] */
    int cc[2] = { a[1], b[0] }, cp[2] = { a[0], b[1] };
    struct result r = run(b[0], a[1], a[0], b[1], cc, cp, n, ccpu, scpu);
    close(a[1]);
    close(b[0]);
    return r;
}

static struct result sockets(long n, int ccpu, int scpu)
{
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
        return (struct result){ -1, -1, -1 };
    int sc[2] = { s[1], -1 }, sp[2] = { s[0], -1 };
    struct result r = run(s[0], s[0], s[1], s[1], sp, sc, n, ccpu, scpu);
    close(s[0]);
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int init = getpid() == 1;
    if (init) {                                 /* the Linux guest: arguments in /args */
        FILE *f = fopen("/args", "r");
        char line[32];
        if (f && fgets(line, sizeof line, f))
            n = atol(line);
        if (f)
            fclose(f);
    }
    if (n < 10)
        n = 10;
    cpu_set_t all;                              /* (no /sys in the guest: ask the scheduler) */
    int ncpu = sched_getaffinity(0, sizeof all, &all) ? 1 : CPU_COUNT(&all);
    struct result pf = pipes(n, -1, -1), us = sockets(n, -1, -1);
    struct result ps = pipes(n, 0, 0), px = ncpu > 1 ? pipes(n, 0, 1) : (struct result){ -1, -1, -1 };
    printf("HOST-IPC-JSON {\"pipe_rtt_ns\":%lld,\"pipe_rtt_median_ns\":%lld,\"pipe_rtt_p99_ns\":%lld,\"unix_rtt_ns\":%lld,"
           "\"unix_rtt_median_ns\":%lld,\"pipe_same_cpu_rtt_ns\":%lld,\"pipe_same_cpu_rtt_median_ns\":%lld,"
           "\"pipe_same_cpu_rtt_p99_ns\":%lld,\"pipe_cross_cpu_rtt_ns\":%lld,\"pipe_cross_cpu_rtt_median_ns\":%lld,"
           "\"pipe_cross_cpu_rtt_p99_ns\":%lld,\"cpus\":%d,\"rounds\":%ld}\n",
           pf.mean_ns, pf.median_ns, pf.p99_ns, us.mean_ns, us.median_ns, ps.mean_ns, ps.median_ns, ps.p99_ns,
           px.mean_ns, px.median_ns, px.p99_ns, ncpu, n);
    if (init) {
        fflush(stdout);
        sync();
        reboot(RB_POWER_OFF);                   /* QEMU exits; PID 1 must never return */
    }
    return pf.mean_ns < 0 || us.mean_ns < 0;
}
