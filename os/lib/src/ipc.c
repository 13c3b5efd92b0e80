/*
 * ipc.c — user-space side of IPC lanes: completion queues, action-list builders, the blocking
 * call (and lanes_ipc_request, the request/reply round trip on top of it) and the dispatcher.
 * See lanes/ipc.h for the API and os/abi/ipc.toml for the semantics. The blocking call submits
 * and waits in one kernel entry (ipc_submit_wait), then finds its completion in the mapped ring.
 *
 * A queue is a kernel-written ring mapped here: elements [tail, head) are complete. We read
 * head with acquire ordering, copy or use the element, and publish tail with release ordering;
 * the kernel never overwrites an element before tail passes it (it reserves a slot per
 * submission). The dispatcher encodes a slot index and a generation in each tag, so a
 * completion finds its callback without searching.
 */
#include <lanes/ipc.h>
#include <string.h>

int64_t lanes_queue_init(struct lanes_queue *q, uint32_t capacity)
{
    uint64_t addr = 0;
    int64_t h = lanes_sys_ipc_queue_create(capacity, &addr);
    if (h < 0)
        return h;
    q->handle = (int32_t)h;
    q->capacity = capacity;
    q->hdr = (struct lane_ipc_queue_header *)(uintptr_t)addr;
    q->base = (uint8_t *)(uintptr_t)addr;
    q->map_len = ((uint64_t)LANES_IPC_ELEM_SIZE * (capacity + 1) + 4095) & ~4095ull;
    return 0;
}

void lanes_queue_close(struct lanes_queue *q)
{
    if (q->handle >= 0)
        lanes_sys_handle_close(q->handle);
    if (q->base)
        lanes_sys_mem_unmap(q->base, q->map_len);
    q->handle = -1;
    q->base = NULL;
}

const struct lane_ipc_completion *lanes_queue_peek(struct lanes_queue *q)
{
    uint32_t head = __atomic_load_n(&q->hdr->head, __ATOMIC_ACQUIRE);
    uint32_t tail = q->hdr->tail;
    if (head == tail)
        return NULL;
    return (const struct lane_ipc_completion *)(q->base + q->hdr->elem_offset +
                                                 (uint64_t)LANES_IPC_ELEM_SIZE * (tail % q->capacity));
}

void lanes_queue_pop(struct lanes_queue *q)
{
    __atomic_store_n(&q->hdr->tail, q->hdr->tail + 1, __ATOMIC_RELEASE);
}

int64_t lanes_queue_next(struct lanes_queue *q, struct lane_ipc_completion *out, uint64_t timeout_ns)
{
    for (;;) {
        const struct lane_ipc_completion *c = lanes_queue_peek(q);
        if (c) {
            memcpy(out, c, sizeof *out);
            lanes_queue_pop(q);
            return 0;
        }
        int64_t r = lanes_sys_ipc_queue_wait(q->handle, timeout_ns);
        if (r < 0)
            return r;
    }
}

/* ---- action lists ---- */

void lanes_acts_init(struct lanes_acts *b)
{
    memset(b, 0, sizeof *b);
}

static struct lane_ipc_action *add(struct lanes_acts *b, uint32_t type)
{
    if (b->n >= LANES_IPC_MAX_ACTIONS) {
        b->overflow = 1;
        return NULL;
    }
    int i = b->n++;
    b->parent[i] = b->depth ? b->open[b->depth - 1] : -1;
    struct lane_ipc_action *a = &b->a[i];
    memset(a, 0, sizeof *a);
    a->type = type;
    a->handle = -1;
    return a;
}

static void add_conv(struct lanes_acts *b, uint32_t type, uint32_t flags)
{
    struct lane_ipc_action *a = add(b, type);
    if (!a)
        return;
    a->flags = flags & (LANES_IPC_FLAG_ANCILLARY | LANES_IPC_FLAG_WANT_LANE);
    if (flags & LANES_IPC_FLAG_ANCILLARY)
        b->open[b->depth++] = b->n - 1;
}

void lanes_acts_offer(struct lanes_acts *b, uint32_t flags) { add_conv(b, LANES_IPC_ACTION_OFFER, flags); }
void lanes_acts_accept(struct lanes_acts *b, uint32_t flags) { add_conv(b, LANES_IPC_ACTION_ACCEPT, flags & ~LANES_IPC_FLAG_WANT_LANE); }

void lanes_acts_end(struct lanes_acts *b)
{
    if (b->depth > 0)
        b->depth--;
    else
        b->overflow = 1;
}

void lanes_acts_send(struct lanes_acts *b, const void *buf, size_t len)
{
    struct lane_ipc_action *a = add(b, LANES_IPC_ACTION_SEND);
    if (a) {
        a->buf = (uint64_t)(uintptr_t)buf;
        a->len = len;
    }
}

void lanes_acts_recv_inline(struct lanes_acts *b) { add(b, LANES_IPC_ACTION_RECV_INLINE); }

void lanes_acts_recv_buffer(struct lanes_acts *b, void *buf, size_t len)
{
    struct lane_ipc_action *a = add(b, LANES_IPC_ACTION_RECV_BUFFER);
    if (a) {
        a->buf = (uint64_t)(uintptr_t)buf;
        a->len = len;
    }
}

void lanes_acts_push(struct lanes_acts *b, int32_t handle, uint32_t rights)
{
    struct lane_ipc_action *a = add(b, LANES_IPC_ACTION_PUSH);
    if (a) {
        a->handle = handle;
        a->rights = rights;
    }
}

void lanes_acts_pull(struct lanes_acts *b) { add(b, LANES_IPC_ACTION_PULL); }
void lanes_acts_imbue(struct lanes_acts *b) { add(b, LANES_IPC_ACTION_IMBUE); }
void lanes_acts_extract(struct lanes_acts *b) { add(b, LANES_IPC_ACTION_EXTRACT); }
void lanes_acts_dismiss(struct lanes_acts *b) { add(b, LANES_IPC_ACTION_DISMISS); }

int64_t lanes_acts_finish(struct lanes_acts *b)
{
    if (b->overflow || b->n == 0)
        return LANES_E_INVAL;
    /* An open conversation with no actions in it is just an offer/accept. */
    for (int i = 0; i < b->n; i++) {
        bool kids = i + 1 < b->n && b->parent[i + 1] == i;
        if (!kids)
            b->a[i].flags &= ~(uint32_t)LANES_IPC_FLAG_ANCILLARY;
        b->a[i].flags &= ~(uint32_t)LANES_IPC_FLAG_CHAIN;
        for (int j = i + 1; j < b->n; j++) {
            if (b->parent[j] == b->parent[i]) {
                b->a[i].flags |= LANES_IPC_FLAG_CHAIN;
                break;
            }
        }
    }
    b->depth = 0;
    return b->n;
}

int64_t lanes_ipc_submit(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, uint64_t tag)
{
    int64_t n = lanes_acts_finish(b);
    if (n < 0)
        return n;
    return lanes_sys_ipc_submit(lane, b->a, (uint32_t)n, q->handle, tag);
}

int64_t lanes_ipc_submit_wait(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, uint64_t tag,
                              uint64_t timeout_ns)
{
    int64_t n = lanes_acts_finish(b);
    if (n < 0)
        return n;
    return lanes_sys_ipc_submit_wait(lane, b->a, (uint32_t)n, q->handle, tag, timeout_ns);
}

/* The wait's own endings; ipc_submit_wait returns anything else negative only when it did not
 * submit. */
static bool wait_ended(int64_t r)
{
    return r == LANES_E_TIMEOUT || r == LANES_E_INTERRUPTED || r == LANES_E_ALERTED;
}

/* signal.c sets it once the thread takes signals: an interrupted wait is then a signal's alert,
 * and a call without a deadline waits on for its reply instead of giving the request up. */
bool (*lanes_ipc_interrupt_retry)(void);

int64_t lanes_ipc_call(struct lanes_queue *q, int32_t lane, struct lanes_acts *b, struct lane_ipc_completion *out,
                       uint64_t timeout_ns)
{
    static volatile uint64_t next_tag = 1;
    uint64_t tag = __atomic_fetch_add(&next_tag, 1, __ATOMIC_RELAXED) | (1ull << 63);
    int64_t r = lanes_ipc_submit_wait(q, lane, b, tag, timeout_ns);
    if (r < 0 && !wait_ended(r))
        return r;                       /* not submitted */
    bool got = false;                   /* *out holds a completion */
    for (;;) {
        if (r == LANES_E_INTERRUPTED && timeout_ns == LANES_TIMEOUT_INFINITE && lanes_ipc_interrupt_retry &&
            lanes_ipc_interrupt_retry()) {
            r = lanes_queue_next(q, out, timeout_ns);   /* a signal's alert (signal.c): wait on */
            got = r == 0;
            if (got && out->tag == tag)
                return out->status;
            continue;
        }
        if (r == LANES_E_TIMEOUT || r == LANES_E_INTERRUPTED) {
            /* Give up: cancel, then take the one completion the submission still makes. */
            int64_t why = r;
            lanes_sys_ipc_cancel(q->handle, tag);
            do
                r = lanes_queue_next(q, out, LANES_TIMEOUT_INFINITE);
            while (r == 0 && out->tag != tag);
            return why;
        }
        if (r < 0 && r != LANES_E_ALERTED)
            return r;
        if (got && out->tag == tag)
            return out->status;
        /* After the submit-and-wait's count this finds the element without a system call. */
        r = lanes_queue_next(q, out, timeout_ns);
        got = r == 0;
    }
}

int64_t lanes_ipc_request(struct lanes_queue *q, int32_t lane, const void *msg, size_t len, uint32_t flags,
                          int32_t push, uint64_t timeout_ns, struct lanes_reply *out)
{
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY | flags);
    lanes_acts_send(&b, msg, len);
    if (push != LANES_HANDLE_NONE)
        lanes_acts_push(&b, push, LANES_RIGHT_ALL);
    lanes_acts_recv_inline(&b);
    lanes_acts_end(&b);
    uint32_t at = push != LANES_HANDLE_NONE ? 3 : 2;      /* results: offer, send, [push,] recv */
    out->c.nresults = 0;                                   /* stays 0 if nothing completed */
    int64_t r = lanes_ipc_call(q, lane, &b, &out->c, timeout_ns);
    out->conv = (flags & LANES_IPC_FLAG_WANT_LANE) && out->c.nresults > 0 ? lanes_ipc_result(&out->c, 0)->handle
                                                                          : LANES_HANDLE_NONE;
    out->data = r == 0 ? lanes_ipc_data(&out->c, at) : NULL;
    out->length = r == 0 ? lanes_ipc_result(&out->c, at)->length : 0;
    return r;
}

const char *lanes_ipc_strerror(int64_t err)
{
    const char *s = lanes_ipc_error_name(err);
    if (err < 0 && s[0] == '?')
        s = lanes_error_name(err);
    return s;
}

/* ---- dispatcher ---- */

int64_t lanes_dispatch_init(struct lanes_dispatcher *d)
{
    memset(d, 0, sizeof *d);
    return lanes_queue_init(&d->q, LANES_DISPATCH_SLOTS);
}

void lanes_dispatch_close(struct lanes_dispatcher *d)
{
    lanes_queue_close(&d->q);
}

static int64_t take_slot(struct lanes_dispatcher *d, lanes_ipc_cb cb, void *ctx, uint64_t *tag)
{
    for (uint32_t i = 0; i < LANES_DISPATCH_SLOTS; i++) {
        if (!d->slot[i].cb) {
            d->gen++;
            d->slot[i].tag = ((uint64_t)d->gen << 8) | i;
            d->slot[i].cb = cb;
            d->slot[i].ctx = ctx;
            d->pending++;
            *tag = d->slot[i].tag;
            return i;
        }
    }
    return LANES_E_LIMIT;
}

static void drop_slot(struct lanes_dispatcher *d, int64_t i)
{
    d->slot[i].cb = NULL;
    d->pending--;
}

int64_t lanes_dispatch_submit(struct lanes_dispatcher *d, int32_t lane, struct lanes_acts *b, lanes_ipc_cb cb,
                              void *ctx, uint64_t *tag)
{
    uint64_t t;
    if (!cb)
        return LANES_E_INVAL;
    int64_t i = take_slot(d, cb, ctx, &t);
    if (i < 0)
        return i;
    int64_t r = lanes_ipc_submit(&d->q, lane, b, t);
    if (r < 0) {
        drop_slot(d, i);
        return r;
    }
    if (tag)
        *tag = t;
    return 0;
}

int64_t lanes_dispatch_await(struct lanes_dispatcher *d, int32_t event, uint64_t seq, lanes_ipc_cb cb, void *ctx,
                             uint64_t *tag)
{
    uint64_t t;
    if (!cb)
        return LANES_E_INVAL;
    int64_t i = take_slot(d, cb, ctx, &t);
    if (i < 0)
        return i;
    int64_t r = lanes_sys_ipc_event_await(event, seq, d->q.handle, t);
    if (r < 0) {
        drop_slot(d, i);
        return r;
    }
    if (tag)
        *tag = t;
    return 0;
}

int64_t lanes_dispatch_cancel(struct lanes_dispatcher *d, uint64_t tag)
{
    return lanes_sys_ipc_cancel(d->q.handle, tag);
}

int64_t lanes_dispatch_run_once(struct lanes_dispatcher *d, uint64_t timeout_ns)
{
    int64_t n = 0;
    if (!lanes_queue_peek(&d->q)) {
        int64_t r = lanes_sys_ipc_queue_wait(d->q.handle, timeout_ns);
        if (r == LANES_E_ALERTED)
            return 0;
        if (r < 0)
            return r;
    }
    const struct lane_ipc_completion *e;
    while ((e = lanes_queue_peek(&d->q))) {
        struct lane_ipc_completion c;
        memcpy(&c, e, sizeof c);
        lanes_queue_pop(&d->q);
        uint32_t i = (uint32_t)(c.tag & 0xff);
        if (i < LANES_DISPATCH_SLOTS && d->slot[i].cb && d->slot[i].tag == c.tag) {
            lanes_ipc_cb cb = d->slot[i].cb;
            void *ctx = d->slot[i].ctx;
            drop_slot(d, i);
            cb(d, ctx, &c);
            n++;
        }
    }
    return n;
}

void lanes_dispatch_run(struct lanes_dispatcher *d)
{
    d->stop = false;
    while (!d->stop && d->pending) {
        int64_t r = lanes_dispatch_run_once(d, LANES_TIMEOUT_INFINITE);
        if (r < 0 && r != LANES_E_INTERRUPTED)
            break;
    }
}
