/*
 * user_frames.c — the calling thread's user-space frames, for the trace's call_site records
 * (generic/sys_signal.c, trace_user): where in a program a POSIX call was made, or where in a
 * server a cancel was handled. LaneOS's user code is built with frame pointers (os/Makefile's
 * USER_CFLAGS), so the chain is rbp → [saved rbp, return address]; crt0 starts every thread
 * with rbp = 0. The walk reads user memory only through copy_from_user (a bad pointer ends it),
 * goes strictly up the stack (a loop or a garbage rbp ends it) and stops at max frames: nothing
 * a program leaves in rbp can hurt the kernel.
 */
#include <kernel/kernel.h>

int arch_user_frames(const struct regs *r, uint64_t *pcs, int max)
{
    int n = 0;
    if (max <= 0 || r->rip >= USER_TOP)
        return 0;
    pcs[n++] = r->rip;              /* just past the system call instruction */
    uint64_t fp = r->rbp;
    while (n < max) {
        uint64_t fr[2];             /* the caller's rbp, the return address */
        if (!fp || (fp & 7) || fp >= USER_TOP - sizeof fr || copy_from_user(fr, fp, sizeof fr))
            break;
        if (!fr[1] || fr[1] >= USER_TOP)
            break;
        pcs[n++] = fr[1];
        if (fr[0] <= fp)
            break;
        fp = fr[0];
    }
    return n;
}
