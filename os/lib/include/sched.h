/* sched.h — CPU affinity, Linux style (os/lib/src/sched.c on the thread_get/set_affinity
 * syscalls; the kernel side is os/kernel/generic/balance.c).
 *
 * LaneOS names threads by capability, not by number: `pid` is 0 for the calling thread or a
 * THREAD handle (lanes_thread_t.handle; needs READ to get, CONTROL to set). There is no errno
 * in this libc: the functions return 0 or a negative LANES_E_* code (Linux returns -1 and sets
 * errno). CPU sets hold CPU_SETSIZE = 64 CPUs (the kernel's MAX_CPUS).
 */
#ifndef LANES_SCHED_H
#define LANES_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define CPU_SETSIZE 64
typedef struct { uint64_t bits; } cpu_set_t;

#define CPU_ZERO(s) ((s)->bits = 0)
#define CPU_SET(c, s) ((s)->bits |= (unsigned)(c) < CPU_SETSIZE ? 1ull << (c) : 0)
#define CPU_CLR(c, s) ((s)->bits &= ~((unsigned)(c) < CPU_SETSIZE ? 1ull << (c) : 0))
#define CPU_ISSET(c, s) ((unsigned)(c) < CPU_SETSIZE && ((s)->bits >> (c) & 1))
#define CPU_COUNT(s) __builtin_popcountll((s)->bits)

/** Sets the CPUs the thread may run on; the caller itself (pid 0) returns on an allowed CPU. */
int sched_setaffinity(int pid, size_t cpusetsize, const cpu_set_t *mask);
/** Reads the thread's CPU mask (online CPUs only). */
int sched_getaffinity(int pid, size_t cpusetsize, cpu_set_t *mask);

#endif
