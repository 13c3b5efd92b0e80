/* ps — lists processes from /proc, as Linux's ps does: every /proc/PID/stat (state, parent,
 * the CPU it last ran on, threads, CPU time) with its command line (/proc/PID/cmdline, or
 * [comm] when it has none), then a summary from /proc/uptime, /proc/meminfo and /proc/cpuinfo.
 *
 *   ps        one row per process
 *   ps -T     one row per thread (the kernel's thread_list: /proc has no task/ directories yet),
 *             with its CPU and CPU and run-queue time
 */
#include <dirent.h>
#include <fcntl.h>
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = 0;
    return (ssize_t)n;
}

static int threads_table(void)
{
    struct lane_sysinfo si;
    int64_t r = lanes_sys_sysinfo(&si);
    if (r < 0) {
        printf("ps: sysinfo failed: %s\n", lanes_strerror(r));
        return 1;
    }
    uint32_t cap = 64;
    struct lane_thread_record *t = NULL;
    for (;;) {
        free(t);
        t = malloc(cap * sizeof *t);
        if (!t)
            return 1;
        r = lanes_sys_thread_list(t, cap);
        if (r < 0) {
            printf("ps: thread_list failed: %s\n", lanes_strerror(r));
            return 1;
        }
        if ((uint64_t)r <= cap)
            break;
        cap = (uint32_t)r + 16;
    }
    printf("%5s %5s %-9s %3s %10s %10s  %s\n", "PID", "TID", "STATE", "CPU", "CPU-ms", "RUNQ-ms", "NAME");
    for (int64_t i = 0; i < r; i++) {
        char name[sizeof t[i].name + 1];
        memcpy(name, t[i].name, sizeof t[i].name);
        name[sizeof t[i].name] = 0;
        printf("%5u %5u %-9s %3u %10llu %10llu  %s\n", t[i].pid, t[i].tid, lanes_thread_state_name(t[i].state),
               t[i].cpu, (unsigned long long)(t[i].cpu_time_ns / 1000000),
               (unsigned long long)(t[i].runnable_time_ns / 1000000), name);
    }
    printf("%lld threads on %u CPUs, uptime %llu ms, memory %llu KiB free of %llu KiB\n", (long long)r, si.ncpus,
           (unsigned long long)(si.uptime_ns / 1000000), (unsigned long long)(si.mem_free / 1024),
           (unsigned long long)(si.mem_total / 1024));
    free(t);
    return 0;
}

/* The value of "Name:   N kB" in /proc/meminfo text. */
static unsigned long long meminfo(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? strtoull(p + strlen(name) + 1, NULL, 10) : 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "-T") == 0)
        return threads_table();
    if (argc != 1) {
        printf("usage: ps [-T]\n");
        return 2;
    }
    DIR *d = opendir("/proc");
    if (!d) {
        printf("ps: /proc: cannot open (no POSIX server?)\n");
        return 1;
    }
    printf("%5s %5s %s %3s %4s %8s %s\n", "PID", "PPID", "S", "CPU", "THR", "TIME", "CMD");
    int nproc = 0;
    struct dirent *e;
    static char buf[4096], cmd[256];
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (slurp(path, buf, sizeof buf) <= 0)
            continue;               /* it ended meanwhile */
        char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
        if (!lp || !rp || rp < lp)
            continue;
        char comm[32];
        size_t cl = (size_t)(rp - lp - 1) < sizeof comm - 1 ? (size_t)(rp - lp - 1) : sizeof comm - 1;
        memcpy(comm, lp + 1, cl);
        comm[cl] = 0;
        /* fields from 3 on: split on blanks after the ')' */
        char *f[60];
        int nf = 0;
        for (char *s = rp + 2; *s && nf < 60;) {
            f[nf++] = s;
            while (*s && *s != ' ' && *s != '\n')
                s++;
            if (*s)
                *s++ = 0;
        }
        if (nf < 37)
            continue;
        /* f[0] is field 3 (state): field N is f[N - 3] */
        unsigned long long ticks = strtoull(f[14 - 3], NULL, 10) + strtoull(f[15 - 3], NULL, 10);
        unsigned long long secs = ticks / 100;
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        ssize_t n = slurp(path, cmd, sizeof cmd);
        if (n > 0) {
            for (ssize_t i = 0; i < n - 1; i++)
                if (cmd[i] == 0)
                    cmd[i] = ' ';
        } else {
            snprintf(cmd, sizeof cmd, "[%s]", comm);
        }
        printf("%5s %5s %s %3s %4s %02llu:%02llu:%02llu %s\n", e->d_name, f[4 - 3], f[3 - 3], f[39 - 3], f[20 - 3],
               secs / 3600, secs / 60 % 60, secs % 60, cmd);
        nproc++;
    }
    closedir(d);
    int ncpus = 0;
    static char text[16384];
    if (slurp("/proc/cpuinfo", text, sizeof text) > 0)
        for (char *p = text; (p = strstr(p, "processor\t:")); p++)
            ncpus++;
    char up[64] = "?";
    slurp("/proc/uptime", up, sizeof up);
    char *sp = strchr(up, ' ');
    if (sp)
        *sp = 0;
    slurp("/proc/meminfo", text, sizeof text);
    printf("%d processes on %d CPUs, uptime %s s, memory %llu KiB free of %llu KiB\n", nproc, ncpus, up,
           meminfo(text, "MemFree:"), meminfo(text, "MemTotal:"));
    return 0;
}
