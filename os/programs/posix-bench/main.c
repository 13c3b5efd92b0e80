/* posix-bench — POSIX figures for `make -C os bench` (tools/posix-bench): one C source built
 * twice, for LaneOS (this program, /bin/posix-bench) and for Linux (gcc -static, /init of the
 * Linux guest booted in the same QEMU by tools/linuxguest.py), so the ratios compare like with
 * like. Numbers, never pass/fail.
 *
 *   fork+exit+wait      fork, the child _exit(0)s, waitpid                      (median ns)
 *   fork+exec+wait      the child execs this program with --exit                (median ns)
 *   pipe round trip     64 bytes there and back between two processes over two pipes,
 *                       both pinned to CPU 0 (same CPU) and to CPUs 0 and 1 (across CPUs)
 *   cached read         read of 4 KiB from a 64 KiB file just written, in turn (an lseek
 *                       back to 0 after every 16 reads, outside the timing)   (median ns)
 *   cached pread        pread of 4 KiB at offset 0 of a file just written        (median ns)
 *   pipe throughput     16 MiB through a pipe in 64 KiB writes                   (MB/s)
 * Prints POSIX-BENCH-JSON {...}. `posix-bench --only fork|exec|rtt|rtt2|read|pread|pipe64k N` runs
 * one of them N times (N x 64 KiB for pipe64k) and prints its median (tools/ipc-profile --posix). As PID 1 (the Linux guest) it reads its arguments from /args
 * and powers the machine off at the end.
 */
#if __has_include(<lanes.h>)
#define ON_LANES 1
#include <lanes.h>
#else
#define _GNU_SOURCE
#include <sched.h>
#include <sys/reboot.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *self = "/bin/posix-bench";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int ncpus(void)
{
#ifdef ON_LANES
    struct lane_sysinfo si;
    memset(&si, 0, sizeof si);
    lanes_sys_sysinfo(&si);
    return (int)si.ncpus;
#else
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
#endif
}

static int pin(int cpu)
{
#ifdef ON_LANES
    return lanes_sys_thread_set_affinity(LANES_THREAD_SELF, 1ull << cpu) < 0 ? -1 : 0;
#else
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return sched_setaffinity(0, sizeof s, &s);
#endif
}

/* Shell sort (the same code on both systems: LaneOS's libc has no qsort). */
static uint64_t median(uint64_t *v, int n)
{
    for (int gap = n / 2; gap > 0; gap /= 2)
        for (int i = gap; i < n; i++)
            for (int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
                uint64_t t = v[j];
                v[j] = v[j - gap];
                v[j - gap] = t;
            }
    return n ? v[n / 2] : 0;
}

static uint64_t *samples;

static uint64_t fork_exit(int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t t = now_ns();
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        int st;
        if (p < 0 || waitpid(p, &st, 0) != p)
            return 0;
        samples[i] = now_ns() - t;
    }
    return median(samples, n);
}

static uint64_t fork_exec(int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t t = now_ns();
        pid_t p = fork();
        if (p == 0) {
            char *argv[] = { (char *)self, "--exit", NULL };
            execv(self, argv);
            _exit(127);
        }
        int st;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 0;
        samples[i] = now_ns() - t;
    }
    return median(samples, n);
}

/* 64-byte ping-pong with a forked child; the parent on cpu a, the child on cpu b. */
static uint64_t pipe_rtt(int n, int a, int b)
{
    int there[2], back[2];
    if (pipe(there) || pipe(back))
        return 0;
    pid_t p = fork();
    if (p == 0) {
        pin(b);
        char buf[64];
        for (int i = 0; i < n + 10; i++) {
            if (read(there[0], buf, 64) != 64 || write(back[1], buf, 64) != 64)
                _exit(1);
        }
        _exit(0);
    }
    pin(a);
    char buf[64];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < n + 10; i++) {
        uint64_t t = now_ns();
        if (write(there[1], buf, 64) != 64 || read(back[0], buf, 64) != 64)
            return 0;
        if (i >= 10)
            samples[i - 10] = now_ns() - t;
    }
    int st;
    waitpid(p, &st, 0);
    close(there[0]);
    close(there[1]);
    close(back[0]);
    close(back[1]);
    return median(samples, n);
}

/* 4 KiB reads of a file just written (so in the page cache): read() in turn through 64 KiB
 * (lseek back to 0 after every 16, not timed), or pread() at offset 0. */
static uint64_t cached_read(int n, int positional)
{
    mkdir("/tmp", 0777);
    int fd = open("/tmp/posix-bench", O_RDWR | O_CREAT | O_TRUNC, 0644);
    static char buf[4096];
    memset(buf, 'r', sizeof buf);
    for (int i = 0; i < 16; i++)
        if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
            return 0;
    for (int i = 0; i < n; i++) {
        if (!positional && i % 16 == 0 && lseek(fd, 0, SEEK_SET) != 0)
            return 0;
        uint64_t t = now_ns();
        ssize_t r = positional ? pread(fd, buf, sizeof buf, 0) : read(fd, buf, sizeof buf);
        samples[i] = now_ns() - t;
        if (r != (ssize_t)sizeof buf)
            return 0;
    }
    close(fd);
    unlink("/tmp/posix-bench");
    return median(samples, n);
}

static uint64_t pipe_mbs(size_t total)
{
    int fds[2];
    if (pipe(fds))
        return 0;
    static char buf[65536];
    uint64_t t = now_ns();
    pid_t p = fork();
    if (p == 0) {
        close(fds[0]);
        memset(buf, 'w', sizeof buf);
        for (size_t done = 0; done < total; done += sizeof buf)
            if (write(fds[1], buf, sizeof buf) != (ssize_t)sizeof buf)
                _exit(1);
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(fds[0], buf, sizeof buf)) > 0)
        got += (size_t)r;
    int st;
    waitpid(p, &st, 0);
    close(fds[0]);
    uint64_t ns = now_ns() - t;
    return got == total && ns ? (uint64_t)total * 1000ull / ns : 0;     /* MB/s (no floating point in LaneOS's build) */
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--exit"))
        return 0;
    int init = getpid() == 1;
    (void)init;
    char *args[4] = { 0 };
    int nargs = argc - 1;
    for (int i = 1; i < argc && i < 4; i++)
        args[i - 1] = argv[i];
#ifndef ON_LANES
    static char line[64];
    if (init) {
        self = "/init";
        FILE *f = fopen("/args", "r");
        nargs = 0;
        while (f && nargs < 3 && fgets(line + nargs * 16, 16, f)) {
            line[nargs * 16 + strcspn(line + nargs * 16, "\n")] = 0;
            args[nargs] = line + nargs * 16;
            nargs++;
        }
        if (f)
            fclose(f);
    }
#endif
    /* --only FIGURE N: that one figure, N operations (for tools/ipc-profile, which subtracts a
     * short run from a long one: everything but the operations cancels out) */
    const char *only = nargs > 2 && !strcmp(args[0], "--only") ? args[1] : NULL;
    int rounds = only ? atoi(args[2]) : nargs > 0 ? atoi(args[0]) : 200;
    if (rounds < 10)
        rounds = 10;
    samples = malloc(sizeof(uint64_t) * (size_t)(rounds * 10 + 20));
    int cpus = ncpus();
    pin(0);
    if (only) {
        uint64_t v = !strcmp(only, "fork")      ? fork_exit(rounds)
                     : !strcmp(only, "exec")    ? fork_exec(rounds)
                     : !strcmp(only, "rtt")     ? pipe_rtt(rounds, 0, 0)
                     : !strcmp(only, "rtt2")    ? (cpus > 1 ? pipe_rtt(rounds, 0, 1) : 0)
                     : !strcmp(only, "read")    ? cached_read(rounds, 0)
                     : !strcmp(only, "pread")   ? cached_read(rounds, 1)
                     : !strcmp(only, "pipe64k") ? pipe_mbs((size_t)rounds << 16)
                                                : 0;
        printf("posix-bench %s %d: %llu\n", only, rounds, (unsigned long long)v);
        return v ? 0 : 1;
    }
    uint64_t fe = fork_exit(rounds);
    uint64_t fx = fork_exec(rounds / 4 > 10 ? rounds / 4 : 10);
    uint64_t rt1 = pipe_rtt(rounds * 5, 0, 0);
    uint64_t rt2 = cpus > 1 ? pipe_rtt(rounds * 5, 0, 1) : 0;
    uint64_t rd = cached_read(rounds * 10, 0);
    uint64_t prd = cached_read(rounds * 10, 1);
    uint64_t mbs = pipe_mbs(16u << 20);
    printf("POSIX-BENCH-JSON {\"cpus\": %d, \"rounds\": %d, \"fork_exit_wait_ns\": %llu, \"fork_exec_wait_ns\": %llu, "
           "\"pipe_rtt_same_cpu_ns\": %llu, \"pipe_rtt_cross_cpu_ns\": %llu, \"read_4k_cached_ns\": %llu, "
           "\"pread_4k_cached_ns\": %llu, \"pipe_64k_mbs\": %llu}\n",
           cpus, rounds, (unsigned long long)fe, (unsigned long long)fx, (unsigned long long)rt1,
           (unsigned long long)rt2, (unsigned long long)rd, (unsigned long long)prd, (unsigned long long)mbs);
#ifndef ON_LANES
    fflush(stdout);
    if (init)
        reboot(RB_POWER_OFF);
#endif
    return 0;
}
