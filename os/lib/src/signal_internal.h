/* signal_internal.h — what posix.c and signal.c share inside libc (not a public header). */
#ifndef LANES_LIBC_SIGNAL_INTERNAL_H
#define LANES_LIBC_SIGNAL_INTERNAL_H

#include <lanes.h>

enum { LANES_SC_INTR = 1, LANES_SC_RESTART = 3 };   /* interruptible; and restarted after SA_RESTART */

/* One POSIX syscall instance (the trace's `call`). */
struct lanes_sc {
    uint64_t call;
    uint32_t nr;
    uint8_t intr;
    bool outer;             /* not nested inside another call of this thread */
    uint64_t arg;
};

void lanes_sc_begin(struct lanes_sc *sc, uint32_t nr, const char *name, int32_t fd, uint64_t arg, int intr);
/* Ends it with result (a value, or -errno); true: restart it (the same call again). */
bool lanes_sc_end(struct lanes_sc *sc, int64_t result);

uint64_t lanes_sig_cur_call(void);          /* this thread's call in flight (0: none) */
bool lanes_sig_cancel_requested(void);      /* this thread's in-syscall flag is 2 */
uint64_t lanes_sig_cev(int32_t lane, uint64_t id); /* a wait on fs's lane: its cev (0: none) */
void lanes_sig_note_cancel(void);           /* a cancel went out for the call in flight */
void lanes_sig_hold(int delta);             /* posix.c's lock: no handler runs on this thread while held */

void lanes_sig_before_fork(void);           /* fork: the caller's alternate signal stack goes along */
void lanes_sig_after_fork(void);            /* a forked child: forget the parent's pages and queues */
struct lanes_queue;
/* posix.c: a signal request on our posix lane, on queue q without the process lock (pushing
 * `push` unless NONE); reply length or -errno */
int64_t lanes_posix_sig_request(struct lanes_queue *q, const void *msg, size_t len, int32_t push, void *rep, size_t cap);
/* signal.c: the calling thread's own queue for those (NULL: none could be made) */
struct lanes_queue *lanes_sig_queue(void);

#endif
