/*
 * lanes/cancel.h — cancelling a request on a passthrough lane (issue 14; os/lib/src/cancel.c).
 *
 * A passthrough lane is a file's own lane to the server that holds it (fs for files, /dev/slow
 * and FIFOs; posix for pipe ends). A request that may wait on it (fs.Read, fs.Write,
 * fs.OpenWait) carries an id from lanes_request_id(). To cancel it the client sends fs.Cancel{id}
 * on THAT SAME lane, as its own conversation, and then keeps waiting for the original reply: the
 * server stops the work and answers the request with its progress (a partial count) or -EINTR
 * when nothing happened. A cancel that arrives after the reply is ignored by the server, so the
 * client always gets exactly one reply — no result is lost or delivered twice.
 *
 *   uint64_t id = lanes_request_id();
 *   struct lane_msg_fs_read m = lanes_msg_fs_read_encode(n, id, call);
 *   ... build b: offer(ANCILLARY){ send m, recv_buffer reply } ...
 *   bool cancelled;
 *   r = lanes_lane_call(&q, lane, &b, id, call, "fs", LANES_TIMEOUT_INFINITE, &c, &cancelled);
 *
 * lanes_lane_call waits for the request's completion. It sends the cancel (once) when
 *   - timeout_ns passes (LANES_TIMEOUT_INFINITE: never), or
 *   - the thread's wait is interrupted (thread_interrupt, or the kernel alert a signal brings) and
 *     lanes_cancel_on_interrupt() — a hook, NULL meaning "always" — returns true; otherwise the
 *     interruption is ignored and the wait goes on.
 * Either way it returns only with the real completion (its status, or a submission error).
 * The queue must have two free slots (the request and the cancel) and must not be shared while
 * the call runs (other completions found there are dropped, as lanes_ipc_call does); both
 * completions are consumed before it returns, so the queue is clean for the next call.
 * libc's read(), write() (files, /dev/slow, FIFOs, pipes) and open() of a FIFO go through it.
 *
 * lanes_lane_cancel sends just the cancel (no wait for a reply: there is none) for callers with
 * their own wait loop, e.g. the signal path. Both emit the trace record cancel_raise kind=lane
 * (os/abi/trace.toml; server_pid 0: the client does not know it — the ack names it).
 * Servers emit cancel_ack when a cancel stopped a request (lanes_trace_cancel_ack: their pid,
 * the requests still live, the progress answered); a late cancel (the reply won) has no ack —
 * the call's sys_end says "raced".
 */
#ifndef LANES_LIBC_CANCEL_H
#define LANES_LIBC_CANCEL_H

#include <lanes.h>
#include <lanes/ipc.h>

/** Trace records of class signal (through the trace_user system call); return its result (the
 *  event id, 0 if the class is off, or an error). */
int64_t lanes_trace_cancel_raise(uint64_t call, uint32_t server_pid, uint8_t kind, uint64_t request, const char *target);
/** The same through the thread's trace staging page (lib/src/utrace.c): no system call, returns 0. */
int64_t lanes_utrace_cancel_raise(uint64_t call, uint32_t server_pid, uint8_t kind, uint64_t request, const char *target);
/* (cancel_ack stays a system call, never the staging page: Lanescope's "Break on next
 *  cancellation" stops the target at the kernel's trace_user entry for it, in the server's line
 *  that stopped the request — app/test/e2e/cancel-break.test.ts) */
int64_t lanes_trace_cancel_ack(uint64_t call, uint32_t live, uint64_t progress, uint64_t request, const char *server);

/** A fresh request id: (kernel tid << 32) | a process-wide sequence number; never 0. */
uint64_t lanes_request_id(void);

/** Submits fs.Cancel{id, call} on lane (completes on q with tag once the server has taken it;
 *  END_OF_LANE if the server is gone). target names the server for the trace ("fs", "pipe").
 *  Returns the submission's result (0 or an IPC error). */
int64_t lanes_lane_cancel(struct lanes_queue *q, int32_t lane, uint64_t id, uint64_t call, const char *target,
                          uint64_t tag);

/** Called when a lanes_lane_call wait is interrupted: true = cancel the request. NULL = always. */
extern bool (*lanes_cancel_on_interrupt)(void);
/** The calling thread's POSIX syscall instance (the trace's `call`), which libc's read/write/open
 *  put into their requests; NULL = 0 (none). The signal path sets it. */
extern uint64_t (*lanes_cancel_current_call)(void);

/** The word lanes_lane_call sets to 1 while it waits and swaps back to 0 when the wait is over
 *  (before it returns: the caller makes no other request in between), or NULL: nothing to mark.
 *  The signal path sets it: the thread's signal page's `away` (lane_sig_page), which lets the
 *  POSIX server take a signal for the thread at the moment it alerts it. */
extern uint32_t *(*lanes_cancel_away_word)(void);

/** Set by the signal path just before a lanes_lane_call whose request carries the thread's
 *  cancellation-event sequence (fs.Read/Write/OpenWait's cev): that call sets the away word to
 *  2 instead of 1 (posix raises the event instead of alerting the thread) and clears this. */
extern bool lanes_cancel_cev_armed;

/** Submits b (an offer whose request carries id) on lane and waits for its completion into
 *  *out, cancelling as described above. *cancelled (may be NULL) says whether a cancel was
 *  sent. Returns out->status, or a submission error (nothing submitted). */
int64_t lanes_lane_call(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, uint64_t id, uint64_t call,
                        const char *target, uint64_t timeout_ns, struct lane_ipc_completion *out, bool *cancelled);

#endif
