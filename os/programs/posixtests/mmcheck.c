/* mmcheck.c — posixtests' "no page leaked" checks (fork-rounds-1000, exec-rounds, spawn-rounds,
 * fork-bomb), after os/programs/fuzz's leak check.
 *
 * What is compared. /sys/kernel/mm/free + heap_cached (bytes kmalloc keeps on its free lists) +
 * user (pages of user memory, pmm_alloc_user) is the memory the kernel does not keep for itself:
 * it must come back exactly, not a byte of slack. The user part is checked on its own: the
 * children are gone, so what it grew by is pages live processes touched for the first time
 * meanwhile (this process's own stack and heap, a server's); at most MM_USER_SLACK pages, far
 * below one page per round (1,000 for the fork rounds), so a user page lost per round fails too.
 *
 * The baseline is taken once the system is still, as fuzz's baseline() does: our own output is
 * out (a console request in flight holds an IPC submission until the server takes it) and two
 * samples 100 ms apart agree on every figure and on the kernel's live object counts
 * (/sys/kernel/mm/objects/). After the rounds, up to 20 s for the figures to come back (exited
 * threads and processes are freed a little later); on failure the message names the figures and
 * the kinds of kernel objects still alive against before.
 */
#include <lanes.h>
#include <lanes/console.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmcheck.h"

static uint64_t num(const char *path)
{
    char v[64];
    int64_t n = lanes_sys_sysfs_read(path, strlen(path), v, sizeof v - 1);
    if (n <= 0)
        return 0;
    v[n] = 0;
    return strtoull(v, NULL, 10);
}

static const char *const kinds[MM_NKINDS] = { "process", "thread", "memory", "supervisor", "ioport", "irq", "sysfs",
                                              "uevents", "lane", "queue", "event", "stream", "ipc_submissions" };

void mm_snap(struct mm_snap *s)
{
    s->free = num("/sys/kernel/mm/free");
    s->cached = num("/sys/kernel/mm/heap_cached");
    s->user = num("/sys/kernel/mm/user");
    for (int k = 0; k < MM_NKINDS; k++) {
        char path[64];
        snprintf(path, sizeof path, "/sys/kernel/mm/objects/%s", kinds[k]);
        s->objs[k] = num(path);
    }
}

uint64_t mm_kernel(const struct mm_snap *s) { return s->free + s->cached + s->user; }

static bool same(const struct mm_snap *a, const struct mm_snap *b)
{
    return a->free == b->free && a->cached == b->cached && a->user == b->user && !memcmp(a->objs, b->objs, sizeof a->objs);
}

static size_t objs_diff(const struct mm_snap *a, const struct mm_snap *b, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = 0;
    for (int k = 0; k < MM_NKINDS && at < cap; k++)
        if (a->objs[k] != b->objs[k])
            at += (size_t)snprintf(out + at, cap - at, " %s %+lld", kinds[k], (long long)(b->objs[k] - a->objs[k]));
    return at;
}

void mm_settle(struct mm_snap *s)
{
    struct mm_snap first;
    mm_snap(&first);
    lanes_console_flush();
    *s = first;
    int i = 0;
    for (; i < 50; i++) {
        lanes_sys_sleep(LANES_MS(100));
        struct mm_snap t;
        mm_snap(&t);
        bool still = same(&t, s);
        *s = t;
        if (still)
            break;
    }
    s->moved = (int64_t)mm_kernel(s) - (int64_t)mm_kernel(&first);
    s->moved_user = (int64_t)s->user - (int64_t)first.user;
    s->settle_ms = (i + 1) * 100;
    objs_diff(&first, s, s->moved_objs, sizeof s->moved_objs);
}

static bool back(const struct mm_snap *b, const struct mm_snap *a)
{
    return mm_kernel(a) >= mm_kernel(b) && a->user <= b->user + MM_USER_SLACK * 4096ull;
}

bool mm_check(const struct mm_snap *before, struct mm_snap *after, char *msg, size_t cap)
{
    struct mm_snap first;
    int i = 0;
    for (; i < 200; i++) {
        mm_snap(after);
        if (i == 0)
            first = *after;
        if (back(before, after) && !objs_diff(before, after, msg, cap))
            break;
        lanes_sys_sleep(LANES_MS(100));
    }
    after->settle_ms = i * 100;
    char diff[160], late[160] = "";
    if (i > 0)          /* what the first look saw, and how long it took to come back (if it did) */
    {
        char fd[80];
        objs_diff(before, &first, fd, sizeof fd);
        snprintf(late, sizeof late, "; at first kernel %+lld user pages %+lld%s, waited %d ms",
                 (long long)mm_kernel(&first) - (long long)mm_kernel(before),
                 ((long long)first.user - (long long)before->user) / 4096, fd, i * 100);
    }
    char moved[120] = "";
    if (before->moved || before->moved_user)
        snprintf(moved, sizeof moved, "; the baseline moved %+lld bytes (user %+lld%s) while it settled (%d ms)",
                 (long long)before->moved, (long long)before->moved_user, before->moved_objs, before->settle_ms);
    size_t differ = objs_diff(before, after, diff, sizeof diff);
    snprintf(msg, cap, "kernel %+lld bytes (free %+lld, heap cached %+lld), user pages %+lld%s%s%s%s",
             (long long)mm_kernel(after) - (long long)mm_kernel(before), (long long)after->free - (long long)before->free,
             (long long)after->cached - (long long)before->cached,
             ((long long)after->user - (long long)before->user) / 4096, differ ? ", objects" : "", differ ? diff : "", late,
             moved);
    return back(before, after);
}
