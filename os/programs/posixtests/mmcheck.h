/* mmcheck.h — the exact "no page leaked" check of posixtests' rounds (mmcheck.c). */
#ifndef POSIXTESTS_MMCHECK_H
#define POSIXTESTS_MMCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MM_NKINDS 13
/* User pages live processes (this one, the servers) may touch for the first time during a check. */
#define MM_USER_SLACK 8

struct mm_snap {
    uint64_t free, cached, user;          /* bytes: /sys/kernel/mm/free, heap_cached, user */
    uint64_t objs[MM_NKINDS];             /* /sys/kernel/mm/objects/KIND */
    int64_t moved, moved_user;            /* mm_settle: kernel and user bytes it moved while settling */
    int settle_ms;                        /* mm_settle: how long it took; mm_check: how long it waited */
    char moved_objs[64];                  /* mm_settle: the object kinds that moved while it settled */
};

void mm_snap(struct mm_snap *s);
uint64_t mm_kernel(const struct mm_snap *s);        /* free + heap_cached + user */
/** The baseline: console output flushed, then sampled until two samples 100 ms apart agree. */
void mm_settle(struct mm_snap *s);
/** Waits (up to 20 s) for the kernel's figure to be back to the byte and the user pages within
 *  MM_USER_SLACK; fills *after and msg (the figures, the object kinds that differ); true if so. */
bool mm_check(const struct mm_snap *before, struct mm_snap *after, char *msg, size_t cap);

#endif
