/* ps — lists every thread in the system with its process, state, CPU and CPU time
 * (sys_thread_list), then a per-CPU summary. */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
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
