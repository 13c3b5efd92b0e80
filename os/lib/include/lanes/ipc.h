/*
 * lanes/ipc.h — IPC lanes for programs: completion queues, action-list builders, a blocking
 * call and a per-thread dispatcher (event loop with callbacks). os/lib/src/ipc.c.
 *
 *   struct lanes_queue q;  lanes_queue_init(&q, 64);         a completion queue, mapped here
 *   struct lanes_acts b;   lanes_acts_init(&b);
 *   lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);          an offer whose conversation gets
 *     lanes_acts_send(&b, &req, sizeof req);                   these two actions
 *     lanes_acts_recv_inline(&b);
 *   lanes_acts_end(&b);                                      back to the outer level
 *   struct lane_ipc_completion c;
 *   lanes_ipc_call(&q, lane, &b, &c, LANES_TIMEOUT_INFINITE) submit and wait for this one (one
 *                                                            ipc_submit_wait system call)
 *   lanes_ipc_data(&c, 2)                                    the reply bytes (result 2)
 *
 * lanes_ipc_request() is that round trip for a request message of os/abi/messages.toml and its
 * inline reply (optionally with a pushed handle, or asking for a lane to the conversation).
 *
 * The dispatcher runs callbacks: lanes_dispatch_submit(&d, lane, &b, cb, ctx, &tag), then
 * lanes_dispatch_run_once(&d, timeout) (or lanes_dispatch_run until lanes_dispatch_stop).
 * One dispatcher (and its queue) per thread.
 */
#ifndef LANES_LIBC_IPC_H
#define LANES_LIBC_IPC_H

#include <lanes.h>

/* ---- completion queues ---- */

struct lanes_queue {
    int32_t handle;
    uint32_t capacity;
    struct lane_ipc_queue_header *hdr;
    uint8_t *base;
    size_t map_len;
};

int64_t lanes_queue_init(struct lanes_queue *q, uint32_t capacity);
void lanes_queue_close(struct lanes_queue *q);
/** The oldest unconsumed completion, or NULL (no system call). */
const struct lane_ipc_completion *lanes_queue_peek(struct lanes_queue *q);
/** Consumes the element lanes_queue_peek returned. */
void lanes_queue_pop(struct lanes_queue *q);
/** Waits up to timeout_ns for a completion, copies it to *out and consumes it. */
int64_t lanes_queue_next(struct lanes_queue *q, struct lane_ipc_completion *out, uint64_t timeout_ns);

static inline const struct lane_ipc_result *lanes_ipc_result(const struct lane_ipc_completion *c, uint32_t i)
{
    return (const struct lane_ipc_result *)(const void *)c->results_raw + i;
}
/** The inline bytes of result i (RECV_INLINE, EXTRACT). */
static inline const void *lanes_ipc_data(const struct lane_ipc_completion *c, uint32_t i)
{
    return c->data + lanes_ipc_result(c, i)->offset;
}

/* ---- action lists ---- */

struct lanes_acts {
    struct lane_ipc_action a[LANES_IPC_MAX_ACTIONS];
    int parent[LANES_IPC_MAX_ACTIONS];
    int n;
    int depth;
    int open[LANES_IPC_MAX_ACTIONS];
    int overflow;
};

void lanes_acts_init(struct lanes_acts *b);
/** flags: LANES_IPC_FLAG_ANCILLARY (the next actions, up to lanes_acts_end, go to the
 *  conversation) and/or LANES_IPC_FLAG_WANT_LANE (offer only: give me a lane to it too). */
void lanes_acts_offer(struct lanes_acts *b, uint32_t flags);
void lanes_acts_accept(struct lanes_acts *b, uint32_t flags);
void lanes_acts_end(struct lanes_acts *b);
void lanes_acts_send(struct lanes_acts *b, const void *buf, size_t len);
void lanes_acts_recv_inline(struct lanes_acts *b);
void lanes_acts_recv_buffer(struct lanes_acts *b, void *buf, size_t len);
void lanes_acts_push(struct lanes_acts *b, int32_t handle, uint32_t rights);
void lanes_acts_pull(struct lanes_acts *b);
void lanes_acts_imbue(struct lanes_acts *b);
void lanes_acts_extract(struct lanes_acts *b);
void lanes_acts_dismiss(struct lanes_acts *b);
/** Sets the CHAIN flags; returns the count, or INVAL if the list is too long or unbalanced. */
int64_t lanes_acts_finish(struct lanes_acts *b);

/** Submits b on lane; completes on q with tag. */
int64_t lanes_ipc_submit(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, uint64_t tag);
/** Submits b on lane (completes on q with tag) and, only if that worked, waits up to timeout_ns
 *  for q to hold a completion: one ipc_submit_wait system call instead of ipc_submit +
 *  ipc_queue_wait. Returns a submission error (nothing submitted, no wait), or what the wait
 *  returns: the number of completions in q (> 0; lanes_queue_next/peek then take them without
 *  a system call), ALERTED, TIMEOUT or INTERRUPTED — after which the submission still stands. */
int64_t lanes_ipc_submit_wait(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, uint64_t tag,
                              uint64_t timeout_ns);
/** Submits and waits for that submission's completion (q must not be shared with a
 *  dispatcher): lanes_ipc_submit_wait, so usually one system call. Returns the completion's
 *  status (0 or the first action error), a submission error, or TIMEOUT/INTERRUPTED (the
 *  submission was then cancelled and its completion consumed). */
int64_t lanes_ipc_call(struct lanes_queue *q, int32_t lane, struct lanes_acts *b,
                       struct lane_ipc_completion *out, uint64_t timeout_ns);

/** What lanes_ipc_request got back. */
struct lanes_reply {
    struct lane_ipc_completion c;   /* the whole completion */
    const void *data;               /* the reply's inline bytes (inside c: do not copy the struct), or NULL */
    uint32_t length;                /* their length (0 unless the call returned 0) */
    int32_t conv;                   /* WANT_LANE: the lane to the conversation (the caller closes it), or NONE */
};

/** One request: offer(ANCILLARY | flags){ send msg, push `push` with all rights (unless it is
 *  LANES_HANDLE_NONE), recv_inline } on lane, completing on q, waited for up to timeout_ns
 *  (lanes_ipc_call). Returns the call's status; the reply (to decode with the generated
 *  lanes_msg_*_decode) and, with LANES_IPC_FLAG_WANT_LANE, the conversation's lane go to *out —
 *  the lane even when a later action failed, so the caller can close it. */
int64_t lanes_ipc_request(struct lanes_queue *q, int32_t lane, const void *msg, size_t len, uint32_t flags,
                          int32_t push, uint64_t timeout_ns, struct lanes_reply *out);

/** Creates a stream; lanes[0], lanes[1] are its two ends. */
static inline int64_t lanes_stream(int32_t lanes[2]) { return lanes_sys_ipc_stream_create(lanes); }

/** "END_OF_LANE", "BADHANDLE", ...: kernel and IPC error names. */
const char *lanes_ipc_strerror(int64_t err);

/* ---- dispatcher ---- */

struct lanes_dispatcher;
typedef void (*lanes_ipc_cb)(struct lanes_dispatcher *d, void *ctx, const struct lane_ipc_completion *c);

#define LANES_DISPATCH_SLOTS 64
struct lanes_dispatcher {
    struct lanes_queue q;
    uint32_t gen;
    bool stop;
    uint32_t pending;
    struct { uint64_t tag; lanes_ipc_cb cb; void *ctx; } slot[LANES_DISPATCH_SLOTS];
};

int64_t lanes_dispatch_init(struct lanes_dispatcher *d);
void lanes_dispatch_close(struct lanes_dispatcher *d);
/** Submits b on lane; cb(d, ctx, completion) runs from lanes_dispatch_run*. *tag for cancel. */
int64_t lanes_dispatch_submit(struct lanes_dispatcher *d, int32_t lane, struct lanes_acts *b, lanes_ipc_cb cb,
                              void *ctx, uint64_t *tag);
/** Awaits an event (sequence seq); cb gets completion.bits and result 0's value (sequence). */
int64_t lanes_dispatch_await(struct lanes_dispatcher *d, int32_t event, uint64_t seq, lanes_ipc_cb cb, void *ctx,
                             uint64_t *tag);
/** Cancels a pending submission: its callback still runs, once, with CANCELLED. */
int64_t lanes_dispatch_cancel(struct lanes_dispatcher *d, uint64_t tag);
/** Waits up to timeout_ns, then runs the callback of every completion there; returns how many. */
int64_t lanes_dispatch_run_once(struct lanes_dispatcher *d, uint64_t timeout_ns);
/** Runs callbacks until lanes_dispatch_stop (from a callback) or no submission is pending. */
void lanes_dispatch_run(struct lanes_dispatcher *d);
static inline void lanes_dispatch_stop(struct lanes_dispatcher *d) { d->stop = true; }
/** Wakes the dispatcher's wait from another thread (the run_once returns 0). */
static inline int64_t lanes_dispatch_alert(struct lanes_dispatcher *d) { return lanes_sys_ipc_queue_alert(d->q.handle); }

#endif
