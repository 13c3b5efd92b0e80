/*
 * clock.c — the monotonic clock read in user space, as Linux's vDSO reads it: the kernel's
 * clock_ns() is (rdtsc - tsc_base) scaled by a 32.32 fixed-point factor, both fixed at boot
 * (the TSC is calibrated once; QEMU's TSCs agree across vCPUs), so libc asks for them once per
 * program (syscall clock_info; a forked child keeps them, exec starts over) and from then on a
 * clock_gettime is an rdtsc and a multiply — no system call (issue 13: posix-bench's pipe round
 * trip reads the clock twice per round). The value is the kernel's to the nanosecond: a
 * deadline computed here and one computed in the kernel agree.
 */
#include <lanes.h>
#include "hot.h"

static struct lane_clock_info ci;        /* ns_mult != 0: filled in */

LIBC_HOT uint64_t lanes_clock_ns(void)
{
    uint64_t mult = __atomic_load_n(&ci.ns_mult, __ATOMIC_ACQUIRE);
    if (__builtin_expect(!mult, 0)) {
        struct lane_clock_info c;
        if (lanes_sys_clock_info(&c) < 0 || !c.ns_mult)
            return (uint64_t)lanes_sys_clock();     /* (an older kernel; not calibrated) */
        ci.tsc_base = c.tsc_base;
        ci.tsc_hz = c.tsc_hz;
        __atomic_store_n(&ci.ns_mult, c.ns_mult, __ATOMIC_RELEASE);
        mult = c.ns_mult;
    }
    uint64_t d = lanes_rdtsc() - ci.tsc_base;
    return (uint64_t)(((unsigned __int128)d * mult) >> 32);
}
