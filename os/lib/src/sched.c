/* sched.c — sched_setaffinity / sched_getaffinity (see sched.h) on the kernel's
 * thread_set_affinity / thread_get_affinity syscalls. */
#include <lanes.h>
#include <sched.h>

static int32_t target(int pid)
{
    return pid == 0 ? LANES_THREAD_SELF : pid;
}

int sched_setaffinity(int pid, size_t cpusetsize, const cpu_set_t *mask)
{
    if (!mask || cpusetsize < sizeof *mask)
        return LANES_E_INVAL;
    return (int)lanes_sys_thread_set_affinity(target(pid), mask->bits);
}

int sched_getaffinity(int pid, size_t cpusetsize, cpu_set_t *mask)
{
    if (!mask || cpusetsize < sizeof *mask)
        return LANES_E_INVAL;
    uint64_t m = 0;
    int64_t r = lanes_sys_thread_get_affinity(target(pid), &m);
    if (r < 0)
        return (int)r;
    mask->bits = m;
    return 0;
}
