/* top — per-CPU load and per-thread CPU %, refreshed every second on the console (ANSI).
 *
 *   top [-n ROUNDS]        q quits (or after ROUNDS refreshes)
 *
 * Per CPU: the load balancer's load (/sys/devices/system/cpu/cpuN/load: the sum of its threads'
 * loads, 1024 = one always-runnable thread) beside the ideal (/sys/kernel/sched/ideal) and a
 * bar. Per thread (thread_list): its CPU, its CPU % over the last refresh (from cpu_time_ns),
 * its load and migrations (/sys/kernel/sched/threads/TID), busiest first. Above them, as Linux's
 * top: uptime, processes by state (every /proc/PID/stat) and memory (/proc/meminfo).
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <lanes.h>
#include <lanes/console.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXT 256

static struct lane_thread_record now[MAXT], before[MAXT];
static int64_t nnow, nbefore;

static uint64_t sysnum(const char *path)
{
    char b[64];
    int64_t r = lanes_sys_sysfs_read(path, strlen(path), b, sizeof b - 1);
    b[r > 0 ? r : 0] = 0;
    return r > 0 ? strtoull(b, NULL, 0) : 0;
}

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

/* "up S s, Tasks: N total, R running, S sleeping, T stopped, Z zombie" and memory, from /proc. */
static void summary(void)
{
    static char b[2048];
    int total = 0, run = 0, sleep = 0, stop = 0, zomb = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[64];
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        char *rp = slurp(path, b, sizeof b) > 0 ? strrchr(b, ')') : NULL;
        if (!rp || !rp[1] || !rp[2])
            continue;
        total++;
        run += rp[2] == 'R';
        sleep += rp[2] == 'S' || rp[2] == 'D';
        stop += rp[2] == 'T' || rp[2] == 't';
        zomb += rp[2] == 'Z';
    }
    if (d)
        closedir(d);
    char up[64] = "?";
    slurp("/proc/uptime", up, sizeof up);
    char *sp = strchr(up, ' ');
    if (sp)
        *sp = 0;
    printf("up %s s, Tasks: %d total, %d running, %d sleeping, %d stopped, %d zombie\n", up, total, run, sleep, stop,
           zomb);
    if (slurp("/proc/meminfo", b, sizeof b) > 0) {
        char *t = strstr(b, "MemTotal:"), *f = strstr(b, "MemFree:");
        if (t && f)
            printf("KiB Mem: %llu total, %llu free\n", strtoull(t + 9, NULL, 10), strtoull(f + 8, NULL, 10));
    }
}

static uint64_t prev_cpu_ns(uint32_t tid)
{
    for (int64_t i = 0; i < nbefore && i < MAXT; i++)
        if (before[i].tid == tid)
            return before[i].cpu_time_ns;
    return 0;
}

static int cmp_busy(const void *a, const void *b)
{
    const struct lane_thread_record *x = a, *y = b;
    uint64_t dx = x->cpu_time_ns - prev_cpu_ns(x->tid), dy = y->cpu_time_ns - prev_cpu_ns(y->tid);
    return dx < dy ? 1 : dx > dy ? -1 : (int)x->tid - (int)y->tid;
}

int main(int argc, char **argv)
{
    int rounds = -1;
    if (argc == 3 && !strcmp(argv[1], "-n"))
        rounds = atoi(argv[2]);
    else if (argc != 1) {
        printf("usage: top [-n ROUNDS]   (q quits)\n");
        return 2;
    }
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);
    int64_t mode = lanes_console_mode(0, LANES_CONSOLE_MODE_ECHO);
    uint64_t t_before = lanes_now_ns();
    nbefore = lanes_sys_thread_list(before, MAXT);
    for (int r = 0; rounds < 0 || r < rounds; r++) {
        char key = 0;
        uint64_t until = lanes_now_ns() + LANES_SEC(1);
        while (lanes_now_ns() < until && key != 'q') {
            int64_t n = lanes_console_read(&key, 1, until - lanes_now_ns());
            if (n <= 0 && n != LANES_E_TIMEOUT && n != LANES_E_AGAIN)
                lanes_sys_sleep(until - lanes_now_ns());    /* no console input here */
        }
        if (key == 'q')
            break;
        uint64_t t_now = lanes_now_ns(), dt = t_now - t_before;
        nnow = lanes_sys_thread_list(now, MAXT);
        int64_t n = nnow < MAXT ? nnow : MAXT;
        for (int64_t i = 1; i < n; i++)             /* busiest first (insertion sort) */
            for (int64_t j = i; j > 0 && cmp_busy(&now[j - 1], &now[j]) > 0; j--) {
                struct lane_thread_record t = now[j];
                now[j] = now[j - 1];
                now[j - 1] = t;
            }
        printf("\x1b[H\x1b[2Jtop — %u CPUs, ideal load %llu (1024 = one busy thread), q quits\n", si.ncpus,
               (unsigned long long)sysnum("/sys/kernel/sched/ideal"));
        summary();
        for (uint32_t c = 0; c < si.ncpus; c++) {
            char p[64];
            snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/load", c);
            uint64_t l = sysnum(p);
            char bar[41];
            uint32_t w = (uint32_t)(l * 10 / 1024);
            if (w > 40)
                w = 40;
            memset(bar, '#', w);
            bar[w] = 0;
            printf("cpu%-2u load %5llu %s\n", c, (unsigned long long)l, bar);
        }
        printf("\n  PID   TID  CPU   CPU%%  LOAD  MOVES  NAME\n");
        for (int64_t i = 0; i < n && i < 20; i++) {
            uint64_t d = now[i].cpu_time_ns - prev_cpu_ns(now[i].tid);
            char p[64];
            snprintf(p, sizeof p, "/sys/kernel/sched/threads/%u/load", now[i].tid);
            uint64_t load = sysnum(p);
            snprintf(p, sizeof p, "/sys/kernel/sched/threads/%u/migrations", now[i].tid);
            uint64_t moves = sysnum(p);
            uint64_t pm = dt ? d * 1000 / dt : 0;   /* per mille */
            printf("%5u %5u %4u %4llu.%llu %5llu %6llu  %s\n", now[i].pid, now[i].tid, now[i].cpu,
                   (unsigned long long)(pm / 10), (unsigned long long)(pm % 10), (unsigned long long)load,
                   (unsigned long long)moves, now[i].name);
        }
        memcpy(before, now, sizeof before);
        nbefore = nnow;
        t_before = t_now;
    }
    if (mode >= 0 && (mode & LANES_CONSOLE_MODE_ECHO))
        lanes_console_mode(LANES_CONSOLE_MODE_ECHO, 0);
    return 0;
}
