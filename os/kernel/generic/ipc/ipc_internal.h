/*
 * ipc_internal.h — the IPC lanes' private data structures (the files in generic/ipc).
 *
 *   stream ──┬── side 0: lane object (handles) ── pending[0]: items waiting for the peer
 *            └── side 1: lane object (handles) ── pending[1]
 *   submission (one ipc_submit): up to 8 actions, each an item; the items at the top level are
 *   queued on the submitting lane in order, those after an ANCILLARY offer/accept on the
 *   conversation it creates once it matched. When every item has a result the submission writes
 *   one completion element into its queue (a memory object mapped into the submitter).
 *
 * Locking: one global ipc_lock orders everything that decides who pairs with whom (pending
 * lists, item states, cancellation, events, stream flags). Data moves (copies between address
 * spaces, handle installs) run outside it on items already taken out of every list (state BUSY),
 * so cancellation can no longer touch them. A queue's own lock (taken inside ipc_lock or alone)
 * protects its ring and its waiters.
 */
#ifndef KERNEL_IPC_INTERNAL_H
#define KERNEL_IPC_INTERNAL_H

#include <kernel/kernel.h>
#include <kernel/ipc.h>
#include <kernel/trace.h>

#define IPC_MAX LANES_IPC_MAX_ACTIONS

extern struct spinlock ipc_lock;

struct ipc_stream {
    struct kobj obj;                /* type NONE: referenced by its lanes and queued items */
    uint64_t id;                    /* trace / debugging id, unique */
    uint64_t parent;                /* id of the stream the conversation was offered on, 0 */
    bool closed[2];                 /* side has no lane object left */
    bool shutdown;
    struct list pending[2];         /* items queued on each side, oldest first */
};

struct ipc_lane {
    struct kobj obj;                /* LANES_OBJ_LANE; last put = end of lane for the peer */
    struct ipc_stream *s;
    int side;
};

enum { IT_IDLE, IT_QUEUED, IT_BUSY, IT_DONE };

struct ipc_sub;
struct ipc_item {
    struct list link;               /* stream->pending[side] or event->awaits */
    struct ipc_sub *sub;
    int idx;
    int state;
    struct ipc_stream *s;           /* where it is (was) queued; a reference while QUEUED */
    int side;
    bool recorded;                  /* its ipc_submit is already recorded (the submission's record) */
    struct ipc_event *ev;           /* event awaits */
    uint64_t trace_id;
};

struct ipc_queue;
struct ipc_sub {
    /* Scalars first: ipc_sub_alloc zeroes everything before `act`, and of the per-action
     * arrays only the entries the submission uses (a whole ipc_sub is ~1.8 KiB). */
    struct list qlink;              /* queue->subs, until completion */
    struct list plink;              /* ipc_live_subs, until completion (process teardown) */
    struct ipc_queue *q;            /* reference */
    struct process *proc;           /* reference (its address space for copies) */
    uint32_t pid, tid;
    uint64_t tag;
    uint64_t ret_addr;
    int n;
    bool ancillary;                 /* some action is ancillary (parent[i] >= 0) */
    int outstanding;                /* items without a result */
    bool is_await;
    uint32_t data_used;             /* bytes of data[] reserved by RECV_INLINE/EXTRACT (zeroed) */
    int nkeep;
    uint64_t bits, seq;             /* event awaits */
    struct kobj *keep[IPC_MAX + 2]; /* lanes (and an awaited event) kept until completion */
    struct lane_ipc_action act[IPC_MAX];
    int parent[IPC_MAX];            /* owning OFFER/ACCEPT for ancillary items, else -1 */
    struct lane_ipc_result res[IPC_MAX];
    struct ipc_item item[IPC_MAX];
    struct kobj *push_obj[IPC_MAX]; /* PUSH: the object in flight (reference) */
    uint8_t creds[LANES_IPC_CREDS_SIZE];
    uint8_t payload[IPC_MAX][32];   /* SEND: first bytes, for the trace (not for sends in snap) */
    int snap_idx;                   /* the action whose bytes are all in snap[], or -1 */
    int sends;                      /* SEND actions, and the last one's index (for the trace) */
    int send_idx;
    uint64_t actions;               /* action types, 4 bits each (ipc_submit's trace record) */
    uint8_t snap[LANES_IPC_INLINE_MAX];  /* the first SEND of <= INLINE_MAX bytes, read at submit */
    uint8_t data[LANES_IPC_DATA_SIZE];
};

struct ipc_queue {
    struct kobj obj;                /* LANES_OBJ_QUEUE */
    struct spinlock lock;
    struct memobj *mo;              /* header + ring, mapped into the creator */
    uint32_t capacity;
    uint32_t reserved;              /* submitted, not yet completed (under ipc_lock) */
    bool alert;
    uint64_t seq;
    struct waitq wq;
    struct list subs;               /* pending submissions (cancel by tag), under ipc_lock */
};

struct ipc_event {
    struct kobj obj;                /* LANES_OBJ_EVENT */
    uint32_t kind;
    bool fired;
    uint64_t seq;
    uint64_t bit_seq[64];           /* sequence number at which each bit was last raised */
    struct list awaits;             /* items of await submissions */
};

/* ipc.c */
void ipc_unlock(void);                   /* drops ipc_lock, then writes finished completions */
extern uint64_t ipc_next_stream_id;
struct ipc_stream *ipc_stream_new(uint64_t parent);
struct ipc_lane *ipc_lane_new(struct ipc_stream *s, int side);
void ipc_item_finish(struct ipc_item *it, int err);      /* under ipc_lock */
void ipc_submit_recorded(struct ipc_item *it);           /* the debugger's breakpoint hook (ipc.c) */
int64_t ipc_submit(struct ipc_lane *l, const struct lane_ipc_action *acts, uint32_t n, struct ipc_queue *q,
                   uint64_t tag, uint64_t ret_addr);
int64_t ipc_cancel(struct ipc_queue *q, uint64_t tag);
void ipc_shutdown(struct ipc_lane *l);
void ipc_make_creds(uint8_t out[LANES_IPC_CREDS_SIZE], uint32_t pid, uint32_t tid);

/* xcopy.c: copies that name user memory by (process, address), not by the current CR3 */
int64_t xcopy(struct process *dp, uint64_t dva, struct process *sp, uint64_t sva, uint64_t len);
int64_t xread(void *dst, struct process *sp, uint64_t sva, uint64_t len);

/* queue.c */
int64_t ipc_queue_reserve(struct ipc_queue *q);                /* under ipc_lock */
void ipc_queue_complete(struct ipc_sub *sub);             /* under ipc_lock: writes the element */
struct ipc_queue *ipc_queue_create(uint32_t cap);
int64_t ipc_queue_wait(struct ipc_queue *q, uint64_t timeout_ns);
bool ipc_queue_pending(struct ipc_queue *q);
void ipc_queue_alert(struct ipc_queue *q);

/* event.c */
struct ipc_event *ipc_event_create(uint32_t kind);
int64_t ipc_event_raise(struct ipc_event *e, uint64_t bits);
int64_t ipc_event_await(struct ipc_event *e, uint64_t seq, struct ipc_queue *q, uint64_t tag, uint64_t ret_addr);

struct ipc_sub *ipc_sub_alloc(int n);     /* entries 0..max(n,1)-1 of the per-action arrays zeroed */
_Static_assert(sizeof(struct ipc_sub) + 16 <= 2048, "a submission stays in kmalloc's 2 KiB class");
static inline const uint8_t *ipc_send_bytes(const struct ipc_sub *sub, int i)   /* SEND i's first bytes */
{
    return i == sub->snap_idx ? sub->snap : sub->payload[i];
}
void ipc_sub_free(struct ipc_sub *sub);
extern struct list ipc_live_subs;

#endif
