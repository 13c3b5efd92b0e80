/*
 * cancel.c — cancelling a request on a passthrough lane: the client half of fs.Cancel (the
 * contract is in <lanes/cancel.h>; the servers' half is in os/programs/fs/wait.c and
 * os/programs/posix/pipe.c).
 *
 * The request and the cancel are two submissions on one queue with two tags. Whatever order
 * their completions come in, we consume both before returning, and we only ever hand back the
 * request's own completion: the server answered it exactly once, with all of it, a part of it
 * (the work it had done when the cancel came) or -EINTR.
 */
#include <lanes/abi/messages.h>
#include <lanes/abi/trace.h>
#include <lanes/cancel.h>
#include <lanes/sigtrace.h>
#include <string.h>

bool (*lanes_cancel_on_interrupt)(void);
uint64_t (*lanes_cancel_current_call)(void);
uint32_t *(*lanes_cancel_away_word)(void);
bool lanes_cancel_cev_armed;        /* signal.c's lanes_sig_cev: the next request waits with away 2 */

static volatile uint32_t seq;
extern volatile uint32_t lanes_threads_started;    /* thread.c */

uint64_t lanes_request_id(void)
{
    uint32_t n;
    do
        n = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
    while (n == 0);
    /* a process that never started a thread is its main thread, whose tid the startup block
     * holds (fork's child corrects its copy first thing): no system call per read and write */
    uint32_t tid = lanes_startup && !__atomic_load_n(&lanes_threads_started, __ATOMIC_RELAXED)
                       ? lanes_startup->tid
                       : (uint32_t)lanes_sys_thread_self();
    return ((uint64_t)tid << 32) | n;
}

/* A class-signal trace record: the fixed fields of ev (after its header), then the str tail. */
static int64_t emit_to(uint32_t tid, uint32_t type, const void *ev, size_t size, const char *tail, size_t tail_max)
{
    uint8_t body[256];
    size_t fixed = size - sizeof(struct trace_hdr);
    size_t tl = tail ? strlen(tail) : 0;
    if (tl > tail_max)
        tl = tail_max;
    memcpy(body, (const uint8_t *)ev + sizeof(struct trace_hdr), fixed);
    body[fixed] = (uint8_t)tl;
    body[fixed + 1] = (uint8_t)(tl >> 8);
    memcpy(body + fixed + 2, tail, tl);
    if (tid)                        /* the staging page (utrace.c), frames for the call_site */
        return (int64_t)lanes_utrace_record(tid, type, body, fixed + 2 + tl, true);
    return lanes_sys_trace_user(type, body, fixed + 2 + tl);
}

static int64_t emit(uint32_t type, const void *ev, size_t size, const char *tail, size_t tail_max)
{
    return emit_to(0, type, ev, size, tail, tail_max);
}

/* The record of a raised cancel: through the calling thread's staging page (staged), else a
 * trace_user system call. */
static int64_t cancel_raise(bool staged, uint64_t call, uint32_t server_pid, uint8_t kind, uint64_t request, const char *target)
{
    struct trace_ev_cancel_raise ev;
    memset(&ev, 0, sizeof ev);
    ev.call = call;
    /* (as lanes_request_id: a process that never started a thread needs no system call) */
    ev.tid = lanes_startup && !__atomic_load_n(&lanes_threads_started, __ATOMIC_RELAXED)
                 ? lanes_startup->tid
                 : (uint32_t)lanes_sys_thread_self();
    ev.server_pid = server_pid;
    ev.kind = kind;
    ev.request = request;
    return emit_to(staged ? ev.tid : 0, TRACE_EV_CANCEL_RAISE, &ev, sizeof ev, target, TRACE_CANCEL_RAISE_TARGET_MAX);
}

int64_t lanes_trace_cancel_raise(uint64_t call, uint32_t server_pid, uint8_t kind, uint64_t request, const char *target)
{
    return cancel_raise(false, call, server_pid, kind, request, target);
}

int64_t lanes_utrace_cancel_raise(uint64_t call, uint32_t server_pid, uint8_t kind, uint64_t request, const char *target)
{
    return cancel_raise(true, call, server_pid, kind, request, target);
}

int64_t lanes_trace_cancel_ack(uint64_t call, uint32_t live, uint64_t progress, uint64_t request, const char *server)
{
    struct trace_ev_cancel_ack ev;
    memset(&ev, 0, sizeof ev);
    ev.call = call;
    ev.server_pid = lanes_startup ? lanes_startup->pid : 0;
    ev.live = live;
    ev.progress = progress;
    ev.request = request;
    /* (the kernel follows it with a call_site: the server's line that stopped the request) */
    return emit(TRACE_EV_CANCEL_ACK, &ev, sizeof ev, server, TRACE_CANCEL_ACK_SERVER_MAX);
}

/* The cancel's conversation (trace record first): offer, send fs.Cancel, no reply. */
static void cancel_acts(struct lanes_acts *b, struct lane_msg_fs_cancel *m, uint64_t id, uint64_t call,
                        const char *target)
{
    lanes_utrace_cancel_raise(call, 0, TRACE_CANCEL_KIND_LANE, id, target);
    *m = lanes_msg_fs_cancel_encode(id, call);
    lanes_acts_init(b);
    lanes_acts_offer(b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(b, m, sizeof *m);
    lanes_acts_end(b);
}

int64_t lanes_lane_cancel(struct lanes_queue *q, int32_t lane, uint64_t id, uint64_t call, const char *target,
                          uint64_t tag)
{
    struct lane_msg_fs_cancel m;
    struct lanes_acts b;
    cancel_acts(&b, &m, id, call, target);
    return lanes_ipc_submit(q, lane, &b, tag);
}

static bool wait_ended(int64_t r)
{
    return r == LANES_E_TIMEOUT || r == LANES_E_INTERRUPTED || r == LANES_E_ALERTED;
}

/* The request and its cancel (once: on a timeout or an interrupted wait the hook allows), until
 * both completions are in. */
static int64_t lane_wait(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, uint64_t tag, uint64_t timeout_ns,
                         uint64_t id, uint64_t call, const char *target, uint64_t deadline, bool finite,
                         struct lane_ipc_completion *out, bool *cancelled)
{
    uint64_t ctag = tag | 1;
    int64_t r = lanes_ipc_submit_wait(q, lane, b, tag, timeout_ns);
    if (r < 0 && !wait_ended(r))
        return r;                           /* not submitted */
    bool got = false, sent = false, cdone = false;
    for (;;) {
        /* Take what is there (the submit-and-wait's count: no system call). */
        const struct lane_ipc_completion *e;
        while ((e = lanes_queue_peek(q)) != NULL) {
            if (e->tag == tag) {
                memcpy(out, e, sizeof *out);
                got = true;
            } else if (e->tag == ctag) {
                cdone = true;
            }
            lanes_queue_pop(q);
        }
        if (got && (!sent || cdone))
            return out->status;
        bool cancel = false;
        if (!got && !sent) {
            if (r == LANES_E_TIMEOUT || (finite && lanes_now_ns() >= deadline))
                cancel = true;
            else if (r == LANES_E_INTERRUPTED && (!lanes_cancel_on_interrupt || lanes_cancel_on_interrupt()))
                cancel = true;
        }
        if (cancel) {
            /* the cancel and the wait that follows it in one system call */
            struct lane_msg_fs_cancel m;
            struct lanes_acts cb;
            cancel_acts(&cb, &m, id, call, target);
            r = lanes_ipc_submit_wait(q, lane, &cb, ctag, LANES_TIMEOUT_INFINITE);
            sent = r >= 0 || wait_ended(r);
            if (cancelled)
                *cancelled = sent;
            if (sent)
                continue;                   /* (what the wait brought: taken at the loop's top) */
            finite = false;                 /* could not send it: wait for the reply as it comes */
        }
        uint64_t wait = LANES_TIMEOUT_INFINITE;
        if (finite && !sent && !got) {
            uint64_t now = lanes_now_ns();
            wait = deadline > now ? deadline - now : 0;
        }
        r = lanes_sys_ipc_queue_wait(q->handle, wait);
        if (r < 0 && !wait_ended(r))
            return r;                       /* the queue itself is broken */
    }
}

int64_t lanes_lane_call(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, uint64_t id, uint64_t call,
                        const char *target, uint64_t timeout_ns, struct lane_ipc_completion *out, bool *cancelled)
{
    static volatile uint64_t next_tag = 1;
    uint64_t tag = (__atomic_fetch_add(&next_tag, 2, __ATOMIC_RELAXED) & ~1ull) | (1ull << 62);
    bool finite = timeout_ns != LANES_TIMEOUT_INFINITE;
    uint64_t deadline = finite ? lanes_now_ns() + timeout_ns : 0;
    if (cancelled)
        *cancelled = false;
    /* "parked outside posix" (lane_sig_page.away): set before the wait, swapped back after it,
     * before anything else (the POSIX server, reading 1, may take a signal for us at once) */
    uint32_t *away = lanes_cancel_away_word ? lanes_cancel_away_word() : NULL;
    /* 2: fs awaits this thread's cancellation event for the request (it carries a cev), so
     * posix raises that instead of alerting us (signal.c's lanes_sig_cev armed it) */
    uint32_t mode = lanes_cancel_cev_armed ? 2 : 1;
    lanes_cancel_cev_armed = false;
    if (away)
        __atomic_store_n(away, mode, __ATOMIC_SEQ_CST);
    int64_t r = lane_wait(q, lane, b, tag, timeout_ns, id, call, target, deadline, finite, out, cancelled);
    if (away)
        __atomic_store_n(away, 0, __ATOMIC_SEQ_CST);
    return r;
}
