/*
 * ipc.c — streams, lanes and the matching of actions (after Managarm's helix).
 *
 * A stream has two sides; a lane object is a handle-holdable reference to one side. Each side
 * has a FIFO of pending items (single actions of submissions). An item queued on side s pairs
 * with the oldest pending item of side s^1, or waits at the tail of side s — so at most one side
 * of a stream ever has items waiting.
 *
 *   ipc_submit ─ lock ─ enqueue top-level items ─┬ peer has one: pair them (transfer, results,
 *                                                 │   ancillary items onto the conversation)
 *                                                 └ else: QUEUED on our side
 *              ─ unlock ─ large copies left on the worklist ─ lock ─ results ─ unlock
 *
 * Pairs are carried out at once under ipc_lock (inline data, credentials, handles, new
 * conversations, copies up to a page; a send of <= 128 bytes was read whole at submit into the
 * submission's snap[], so pairing it copies kernel memory), so completions appear in match order; only larger copies
 * (page by page between the two address spaces, see xcopy.c) run after dropping it, on items
 * that are BUSY. A submission writes its completion element when its last item finishes; it
 * is freed by ipc_unlock() after dropping ipc_lock (freeing may drop the last reference to a
 * process or lane, whose teardown takes ipc_lock again). Every item finishes exactly once:
 * only QUEUED items can be cancelled or failed by end-of-lane / shutdown, and a BUSY item
 * belongs to the one thread that took it out of its list.
 */
#include "ipc_internal.h"
#include <kernel/sysfs.h>

struct spinlock ipc_lock = SPINLOCK_INIT("ipc");
uint64_t ipc_next_stream_id = 1;
static struct list done_subs = { &done_subs, &done_subs };
struct list ipc_live_subs = { &ipc_live_subs, &ipc_live_subs };

void ipc_unlock(void)
{
    /* Take every finished submission at once: one unlock, then the frees (which may take
     * ipc_lock again: a lane's or a process's teardown). */
    if (list_empty(&done_subs)) {
        spin_unlock(&ipc_lock);
        return;
    }
    struct list *first = done_subs.next, *last = done_subs.prev;
    list_init(&done_subs);
    spin_unlock(&ipc_lock);
    last->next = NULL;
    for (struct list *it = first; it;) {
        struct ipc_sub *sub = container_of(it, struct ipc_sub, qlink);
        it = it->next;
        ipc_sub_free(sub);
    }
}

/* ---- streams and lanes ---- */

static void stream_destroy(struct kobj *o)
{
    kfree(container_of(o, struct ipc_stream, obj));
}

struct ipc_stream *ipc_stream_new(uint64_t parent)
{
    struct ipc_stream *s = kmalloc(sizeof *s);
    if (!s)
        return NULL;
    kobj_init(&s->obj, LANES_OBJ_NONE, stream_destroy);
    s->id = __atomic_fetch_add(&ipc_next_stream_id, 1, __ATOMIC_RELAXED);
    s->parent = parent;
    list_init(&s->pending[0]);
    list_init(&s->pending[1]);
    return s;
}

static void fail_pending(struct ipc_stream *s, int err)
{
    for (int side = 0; side < 2; side++)
        while (!list_empty(&s->pending[side]))
            ipc_item_finish(container_of(s->pending[side].next, struct ipc_item, link), err);
}

static void lane_destroy(struct kobj *o)
{
    struct ipc_lane *l = container_of(o, struct ipc_lane, obj);
    struct ipc_stream *s = l->s;
    spin_lock(&ipc_lock);
    s->closed[l->side] = true;
    fail_pending(s, LANES_E_END_OF_LANE);
    ipc_unlock();
    kobj_put(&s->obj);
    kfree(l);
}

struct ipc_lane *ipc_lane_new(struct ipc_stream *s, int side)
{
    struct ipc_lane *l = kmalloc(sizeof *l);
    if (!l)
        return NULL;
    kobj_init(&l->obj, LANES_OBJ_LANE, lane_destroy);
    kobj_get(&s->obj);
    l->s = s;
    l->side = side;
    return l;
}

void ipc_shutdown(struct ipc_lane *l)
{
    spin_lock(&ipc_lock);
    l->s->shutdown = true;
    fail_pending(l->s, LANES_E_LANE_SHUTDOWN);
    ipc_unlock();
}

void ipc_make_creds(uint8_t out[LANES_IPC_CREDS_SIZE], uint32_t pid, uint32_t tid)
{
    uint32_t w[4] = { 0x4452434cu /* "LCRD" */, pid, tid, (pid * 2654435761u) ^ (tid * 40503u) ^ 0x5a5a5a5au };
    memcpy(out, w, sizeof w);
}

/* ---- items ---- */

static bool descends(const struct ipc_sub *sub, int j, int i)
{
    for (int k = sub->parent[j]; k >= 0; k = sub->parent[k])
        if (k == i)
            return true;
    return false;
}

/* Under ipc_lock: item gets its final result (err, or whatever the transfer wrote when 0).
 * traced: the caller already recorded the completion (an ipc_exchange record, see transfer). */
static void item_finish(struct ipc_item *it, int err, bool traced)
{
    if (it->state == IT_DONE)
        return;
    struct ipc_sub *sub = it->sub;
    if (it->state == IT_QUEUED)
        list_del(&it->link);
    it->state = IT_DONE;
    struct lane_ipc_result *r = &sub->res[it->idx];
    if (err)
        r->error = err;
    if (!traced)
        trace_emit_ipc_complete(it->s ? it->s->id : (uint64_t)(uintptr_t)it->ev, sub->tag, it->trace_id,
                                r->error ? r->error : (int64_t)r->length, r->length, sub->pid, sub->tid);
    /* Ancillary items that never got their conversation fail the same way. */
    if (err)
        for (int j = it->idx + 1; j < sub->n; j++)
            if (sub->item[j].state == IT_IDLE && descends(sub, j, it->idx))
                ipc_item_finish(&sub->item[j], err);
    if (--sub->outstanding == 0) {
        /* The element is written now, in match order; freeing (which may drop the last
         * reference to a process or lane) waits for ipc_unlock. */
        ipc_queue_complete(sub);
        list_del(&sub->plink);
        list_del(&sub->qlink);          /* from the queue's pending submissions */
        list_add_tail(&done_subs, &sub->qlink);
    }
}

void ipc_item_finish(struct ipc_item *it, int err)
{
    item_finish(it, err, false);
}

struct pair { struct ipc_item *a, *b; struct ipc_stream *s; };
struct work { int n; struct pair p[2 * IPC_MAX]; };
static void transfer(struct pair *p, struct work *w, bool locked);

/* Large copies run outside ipc_lock; everything else is done at once, in match order. */
static bool large(const struct ipc_item *a, const struct ipc_item *b)
{
    const struct lane_ipc_action *x = &a->sub->act[a->idx], *y = &b->sub->act[b->idx];
    if (x->type == LANES_IPC_ACTION_SEND && y->type == LANES_IPC_ACTION_RECV_BUFFER)
        return x->len > PAGE_SIZE;
    if (y->type == LANES_IPC_ACTION_SEND && x->type == LANES_IPC_ACTION_RECV_BUFFER)
        return y->len > PAGE_SIZE;
    return false;
}

static bool giving(uint32_t t)
{
    return t == LANES_IPC_ACTION_OFFER || t == LANES_IPC_ACTION_SEND || t == LANES_IPC_ACTION_PUSH ||
           t == LANES_IPC_ACTION_IMBUE;
}

/* Under ipc_lock. */
/*
 * Lanescope's "Break on next message" (app/browser/views/ipc/break.ts) puts a conditional gdb
 * breakpoint in here: called right after an action's ipc_submit record is written (tracing on),
 * with `it` (it->trace_id set, it->s, it->sub) — for a whole submission's record, once, with
 * its first action (record_submission). A real function, never inlined or specialised,
 * so that the breakpoint address and `it` are exact at -O2 — a line inside enqueue() is not:
 * the compiler is free to schedule the next statement's code before the record is written.
 */
__attribute__((noinline, noipa)) void ipc_submit_recorded(struct ipc_item *it)
{
    __asm__ volatile("" ::"r"(it) : "memory");
}

static void enqueue(struct ipc_item *it, struct ipc_stream *s, int side, struct work *w)
{
    TRACE_IRQS_ARE_OFF();                   /* ipc_lock */
    struct ipc_sub *sub = it->sub;
    const struct lane_ipc_action *a = &sub->act[it->idx];
    it->s = s;
    it->side = side;
    if (!it->recorded) {                    /* (else record_submission did both) */
        bool send = a->type == LANES_IPC_ACTION_SEND;
        it->trace_id = trace_emit_ipc_submit(s->id, s->parent, sub->tag, send ? a->len : 0, a->type, sub->pid,
                                             sub->tid, (uint32_t)side, 1, sub->ret_addr,
                                             send ? ipc_send_bytes(sub, it->idx) : NULL, send ? (uint32_t)MIN(a->len, 32) : 0);
        if (it->trace_id)
            ipc_submit_recorded(it);
    }
    if (s->shutdown) {
        ipc_item_finish(it, LANES_E_LANE_SHUTDOWN);
        return;
    }
    if (s->closed[side ^ 1] || s->closed[side]) {
        ipc_item_finish(it, LANES_E_END_OF_LANE);
        return;
    }
    struct list *peer = &s->pending[side ^ 1];
    if (!list_empty(peer)) {
        struct ipc_item *o = container_of(peer->next, struct ipc_item, link);
        list_del(&o->link);
        o->state = IT_BUSY;
        it->state = IT_BUSY;
        kobj_get(&s->obj);
        struct pair pr = { it, o, s };
        if (!large(it, o)) {
            transfer(&pr, w, true);
            return;
        }
        ASSERT(w->n < (int)ARRAY_SIZE(w->p));
        w->p[w->n++] = pr;
        return;
    }
    it->state = IT_QUEUED;
    list_add_tail(&s->pending[side], &it->link);
}

/* Under ipc_lock: queue the ancillary items of item i (an OFFER/ACCEPT) on (s, side). */
static void enqueue_children(struct ipc_sub *sub, int i, struct ipc_stream *s, int side, struct work *w)
{
    for (int j = i + 1; j < sub->n; j++)
        if (sub->parent[j] == i)
            enqueue(&sub->item[j], s, side, w);
}

static int64_t install(struct ipc_sub *sub, struct kobj *o, uint32_t rights)
{
    if (sub->proc->state != LANES_PROC_STATE_RUNNING)
        return LANES_E_DEAD;
    return handle_install(&sub->proc->handles, o, rights);
}

/* Carries out one pair and records it: under ipc_lock (locked), or a large copy outside it. */
static void transfer(struct pair *p, struct work *w, bool locked)
{
    struct ipc_item *ia = p->a, *ib = p->b;
    struct ipc_sub *sa = ia->sub, *sb = ib->sub;
    uint32_t ta = sa->act[ia->idx].type, tb = sb->act[ib->idx].type;
    /* g: the giving side (or a), t: the other. */
    bool swap = !giving(ta) && giving(tb);
    struct ipc_item *gi = swap ? ib : ia, *ti = swap ? ia : ib;
    struct ipc_sub *gs = gi->sub, *ts = ti->sub;
    const struct lane_ipc_action *ga = &gs->act[gi->idx], *tact = &ts->act[ti->idx];
    struct lane_ipc_result *gr = &gs->res[gi->idx], *tr = &ts->res[ti->idx];
    int ge = 0, te = 0;
    struct ipc_stream *child = NULL;
    struct ipc_lane *cl[2] = { NULL, NULL };

    if (ta == LANES_IPC_ACTION_DISMISS || tb == LANES_IPC_ACTION_DISMISS) {
        /* The dismissed side (the one that is not DISMISS) fails; DISMISS <-> DISMISS is fine. */
        if (ta != tb) {
            struct ipc_item *victim = ta == LANES_IPC_ACTION_DISMISS ? ib : ia;
            if (victim == gi)
                ge = LANES_E_DISMISSED;
            else
                te = LANES_E_DISMISSED;
        }
    } else if (ga->type == LANES_IPC_ACTION_OFFER && tact->type == LANES_IPC_ACTION_ACCEPT) {
        child = ipc_stream_new(p->s->id);
        cl[0] = child ? ipc_lane_new(child, 0) : NULL;
        cl[1] = child ? ipc_lane_new(child, 1) : NULL;
        if (!cl[0] || !cl[1]) {
            ge = te = LANES_E_NOMEM;
        } else {
            int64_t h = install(ts, &cl[1]->obj, LANES_RIGHT_ALL);
            if (h < 0)
                ge = te = (int)h;
            else
                tr->handle = (int32_t)h;
            if (!te && (ga->flags & LANES_IPC_FLAG_WANT_LANE)) {
                h = install(gs, &cl[0]->obj, LANES_RIGHT_ALL);
                if (h < 0)
                    ge = (int)h;
                else
                    gr->handle = (int32_t)h;
            }
        }
        /* Each side keeps its end until its submission completes (the creation reference),
         * so ancillary actions have a lane to run on; then only handles keep it. */
        if (cl[0])
            gs->keep[gs->nkeep++] = &cl[0]->obj;
        if (cl[1])
            ts->keep[ts->nkeep++] = &cl[1]->obj;
    } else if (ga->type == LANES_IPC_ACTION_SEND && tact->type == LANES_IPC_ACTION_RECV_INLINE) {
        if (ga->len > LANES_IPC_INLINE_MAX) {
            ge = te = LANES_E_BUFFER_TOO_SMALL;
        } else if (gi->idx == gs->snap_idx) {
            memcpy(ts->data + tr->offset, gs->snap, ga->len);
            gr->length = tr->length = (uint32_t)ga->len;
        } else {
            int64_t r = xread(ts->data + tr->offset, gs->proc, ga->buf, ga->len);
            if (r)
                ge = te = (int)r;
            else
                gr->length = tr->length = (uint32_t)ga->len;
        }
    } else if (ga->type == LANES_IPC_ACTION_SEND && tact->type == LANES_IPC_ACTION_RECV_BUFFER) {
        if (ga->len > tact->len) {
            ge = te = LANES_E_BUFFER_TOO_SMALL;
        } else {
            int64_t r = xcopy(ts->proc, tact->buf, gs->proc, ga->buf, ga->len);
            if (r)
                ge = te = (int)r;
            else
                gr->length = tr->length = (uint32_t)ga->len;
        }
    } else if (ga->type == LANES_IPC_ACTION_PUSH && tact->type == LANES_IPC_ACTION_PULL) {
        struct kobj *o = gs->push_obj[gi->idx];
        gs->push_obj[gi->idx] = NULL;
        int64_t h = install(ts, o, ga->rights);
        if (h < 0) {
            ge = te = (int)h;
            gs->push_obj[gi->idx] = o;      /* released when the pusher's submission is freed */
        } else {
            tr->handle = (int32_t)h;
            tr->value = ga->rights;
            kobj_put(o);                    /* the new handle holds it: never the last reference */
        }
    } else if (ga->type == LANES_IPC_ACTION_IMBUE && tact->type == LANES_IPC_ACTION_EXTRACT) {
        memcpy(ts->data + tr->offset, gs->creds, LANES_IPC_CREDS_SIZE);
        tr->length = LANES_IPC_CREDS_SIZE;
    } else {
        ge = te = LANES_E_TRANSMISSION_MISMATCH;
    }

    if (!locked)
        spin_lock(&ipc_lock);
    TRACE_IRQS_ARE_OFF();                   /* ipc_lock */
    int ea = (gi == ia) ? ge : te, eb = (gi == ia) ? te : ge;
    bool opened = child && cl[0] && cl[1] && !(ge && te);
    /* One record for the match and both completions (both items finish right here, with the
     * results the transfer wrote): the tracer's most frequent IPC event costs a third. It goes
     * before the children's submits, as the match always did. */
    bool traced = TRACE_ON(TRACE_CLASS_IPC) && ia->state != IT_DONE && ib->state != IT_DONE;
    if (traced) {
        /* (a full ring drops it like any record: the lost count then covers all three) */
        const struct lane_ipc_result *ra = &sa->res[ia->idx], *rb = &sb->res[ib->idx];
        int64_t xa = ea ? ea : ra->error ? ra->error : (int64_t)ra->length;
        int64_t xb = eb ? eb : rb->error ? rb->error : (int64_t)rb->length;
        trace_emit_ipc_exchange(p->s->id, p->s->parent, ia->trace_id, ib->trace_id, opened ? child->id : 0,
                                ea ? ea : eb, 0, sa->tag, sb->tag, xa, xb, ra->length, rb->length,
                                sa->pid, sa->tid, sb->pid, sb->tid);
    } else
        trace_emit_ipc_match(p->s->id, p->s->parent, ia->trace_id, ib->trace_id, opened ? child->id : 0,
                             ea ? ea : eb, 0);
    if (opened) {
        if (!ge)
            enqueue_children(gs, gi->idx, child, 0, w);
        if (!te)
            enqueue_children(ts, ti->idx, child, 1, w);
    }
    /* A thread woken by these completions was woken by the submit that completed the pair. */
    if (traced)
        trace_wake_cause(ia->trace_id);
    item_finish(ia, ea, traced);
    item_finish(ib, eb, traced);
    if (traced)
        trace_wake_cause(0);        /* nobody waited: don't lend the cause to a later wake-up */
    kobj_put(&p->s->obj);               /* streams die by kfree: fine under the lock */
    if (child)
        kobj_put(&child->obj);
    if (!locked)
        ipc_unlock();
}

static void run(struct work *w)
{
    for (int i = 0; i < w->n; i++)
        transfer(&w->p[i], w, false);
}

/*
 * Submissions are allocated on every ipc_submit: a few per CPU are kept for reuse (no heap
 * lock, and only the parts a submission uses are cleared instead of kmalloc's whole 2 KiB
 * block — byte for byte that is most of a submit's cost under TCG or an emulating hypervisor).
 */
#define SUB_CACHE 4
static struct { struct ipc_sub *s[SUB_CACHE]; int n; } sub_cache[MAX_CPUS];

/* The cache is this CPU's: interrupts off is all it needs (no lock nests inside, so no
 * pushcli bookkeeping; the flags word says whether to turn them back on). */
static inline uint64_t cache_lock(void)
{
    uint64_t fl = read_flags();
    cli();
    return fl;
}

static inline void cache_unlock(uint64_t fl)
{
    if (fl & 0x200)
        sti();
}

struct ipc_sub *ipc_sub_alloc(int n)
{
    struct ipc_sub *sub = NULL;
    uint64_t fl = cache_lock();
    uint32_t cpu = this_cpu()->id;
    if (sub_cache[cpu].n)
        sub = sub_cache[cpu].s[--sub_cache[cpu].n];
    cache_unlock(fl);
    if (sub)
        heap_note_parked(sub, false);
    if (!sub && !(sub = kmalloc(sizeof *sub)))
        return NULL;
    int m = n > 0 ? n : 1;
    /* Stores the compiler lays out (constant sizes), not memset calls: a submission has few actions. */
    __builtin_memset(sub, 0, offsetof(struct ipc_sub, keep));
    for (int i = 0; i < m; i++) {
        sub->res[i] = (struct lane_ipc_result){ 0 };
        sub->item[i] = (struct ipc_item){ 0 };
        sub->push_obj[i] = NULL;
    }
    sub->snap_idx = -1;
    return sub;
}

void ipc_sub_free(struct ipc_sub *sub)
{
    for (int i = 0; i < sub->n; i++)
        if (sub->push_obj[i])
            kobj_put(sub->push_obj[i]);
    for (int i = 0; i < sub->nkeep; i++)
        kobj_put(sub->keep[i]);
    if (sub->q)
        kobj_put(&sub->q->obj);
    if (sub->proc)
        kobj_put(&sub->proc->obj);
    uint64_t fl = cache_lock();
    uint32_t cpu = this_cpu()->id;
    if (sub_cache[cpu].n < SUB_CACHE) {
        heap_note_parked(sub, true);
        sub_cache[cpu].s[sub_cache[cpu].n++] = sub;
        cache_unlock(fl);
        return;
    }
    cache_unlock(fl);
    kfree(sub);
}

/* Parses the CHAIN/ANCILLARY tree starting at *i with the given parent; returns 0 or INVAL. */
static int parse_level(struct ipc_sub *sub, int *i, int parent)
{
    for (;;) {
        if (*i >= sub->n)
            return LANES_E_INVAL;
        int me = (*i)++;
        const struct lane_ipc_action *a = &sub->act[me];
        sub->parent[me] = parent;
        if (a->flags & ~(uint32_t)(LANES_IPC_FLAG_CHAIN | LANES_IPC_FLAG_ANCILLARY | LANES_IPC_FLAG_WANT_LANE))
            return LANES_E_INVAL;
        if (a->type < LANES_IPC_ACTION_OFFER || a->type > LANES_IPC_ACTION_DISMISS)
            return LANES_E_INVAL;
        if (a->flags & LANES_IPC_FLAG_ANCILLARY) {
            if (a->type != LANES_IPC_ACTION_OFFER && a->type != LANES_IPC_ACTION_ACCEPT)
                return LANES_E_INVAL;
            sub->ancillary = true;
            int r = parse_level(sub, i, me);
            if (r)
                return r;
        }
        if (!(a->flags & LANES_IPC_FLAG_CHAIN))
            return 0;
    }
}

/*
 * Under ipc_lock, tracing on: one ipc_submit record for all the actions of a submission (they
 * are enqueued together, on the same lane), instead of one per action: the tracer's most
 * frequent IPC record. `actions` lists their types (4 bits each, first in the low bits),
 * `nactions` how many; `bytes` and `payload` are the send's, so a submission qualifies only
 * with two or more actions, at most one send and no ancillary actions (which are queued later,
 * on the conversation their OFFER/ACCEPT opens). Action k's trace id is the record's id plus
 * k << 42 (bits of the sequence part no real sequence number reaches); the decoder (debugger/
 * common/trace/records.ts) expands the record into one ipc_submit per action with exactly those ids,
 * so consumers see what the kernel recorded before. enqueue() then records nothing more for
 * these items (`recorded`) and calls no Break hook: this does, once. A full ring drops the one record: its lost count then stands for
 * all of them.
 */
#define IPC_TRACE_SUBID_SHIFT 42
static void record_submission(struct ipc_sub *sub, struct ipc_lane *l)
{
    TRACE_IRQS_ARE_OFF();                   /* ipc_lock */
    int n = sub->n;
    if (n < 2 || sub->ancillary || sub->sends > 1)
        return;                             /* ancillary actions, two payloads: a record per item */
    int send = sub->sends ? sub->send_idx : -1;     /* (sends, send_idx, actions: ipc_submit's checks) */
    uint64_t bytes = send >= 0 ? sub->act[send].len : 0;
    uint64_t id = trace_emit_ipc_submit(l->s->id, l->s->parent, sub->tag, bytes, sub->actions, sub->pid, sub->tid,
                                        (uint32_t)l->side, (uint32_t)n, sub->ret_addr,
                                        send >= 0 ? ipc_send_bytes(sub, send) : NULL, (uint32_t)MIN(bytes, 32));
    uint64_t step = id ? 1ULL << IPC_TRACE_SUBID_SHIFT : 0;
    for (int i = 0; i < n; i++, id += step) {
        sub->item[i].recorded = true;
        sub->item[i].trace_id = id;
    }
    /* One Break hook for the submission: its actions share the pid, the lane and the
     * conversation that Break's conditions test, so the first item stands for all. */
    if (step) {
        struct ipc_item *it = &sub->item[0];
        it->s = l->s;                       /* what enqueue() sets, for the conditions */
        ipc_submit_recorded(it);
    }
}
_Static_assert(IPC_MAX < (1 << (46 - IPC_TRACE_SUBID_SHIFT)), "sub-ids stay below ipc_exchange's bits 46, 47");

int64_t ipc_submit(struct ipc_lane *l, const struct lane_ipc_action *acts, uint32_t n, struct ipc_queue *q,
                   uint64_t tag, uint64_t ret_addr)
{
    if (n == 0 || n > IPC_MAX)
        return LANES_E_INVAL;
    struct ipc_sub *sub = ipc_sub_alloc((int)n);
    if (!sub)
        return LANES_E_NOMEM;
    struct process *p = current()->proc;
    sub->n = (int)n;
    memcpy(sub->act, acts, n * sizeof *acts);
    int pos = 0;
    int64_t r = parse_level(sub, &pos, -1);
    if (!r && pos != (int)n)
        r = LANES_E_INVAL;
    uint32_t data = 0;
    int sends = 0, send_idx = -1;
    uint64_t actions = 0;
    for (int i = 0; !r && i < (int)n; i++) {
        struct lane_ipc_action *a = &sub->act[i];
        sub->res[i].handle = -1;
        sub->item[i].sub = sub;
        sub->item[i].idx = i;
        actions |= (uint64_t)a->type << (4 * i);    /* 1..10: parse_level checked */
        switch (a->type) {
        case LANES_IPC_ACTION_SEND:
            sends++;
            send_idx = i;
            /* A small send is read whole now (as a pipe's write copies into the pipe): the
             * match then moves it from here instead of walking the sender's page tables. If
             * that read faults, the send stays as before (read at the match, FAULT there). */
            if (!user_range_ok(a->buf, a->len) || a->len > (1ULL << 32) - 1)
                r = LANES_E_FAULT;
            else if (sub->snap_idx < 0 && a->len <= LANES_IPC_INLINE_MAX && !copy_from_user(sub->snap, a->buf, a->len))
                sub->snap_idx = i;
            else if (copy_from_user(sub->payload[i], a->buf, MIN(a->len, 32)))
                r = LANES_E_FAULT;
            break;
        case LANES_IPC_ACTION_RECV_BUFFER:
            if (!user_range_ok(a->buf, a->len))
                r = LANES_E_FAULT;
            break;
        case LANES_IPC_ACTION_RECV_INLINE:
        case LANES_IPC_ACTION_EXTRACT: {
            uint32_t need = a->type == LANES_IPC_ACTION_EXTRACT ? LANES_IPC_CREDS_SIZE : LANES_IPC_INLINE_MAX;
            if (data + need > LANES_IPC_DATA_SIZE)
                r = LANES_E_INVAL;
            sub->res[i].offset = data;
            data += need;
            break;
        }
        case LANES_IPC_ACTION_PUSH: {
            uint32_t have;
            r = handle_lookup(&p->handles, a->handle, LANES_OBJ_NONE, LANES_RIGHT_DUP, &sub->push_obj[i], &have);
            a->rights &= have;
            break;
        }
        default:
            break;
        }
    }
    if (r) {
        ipc_sub_free(sub);
        return r;
    }
    sub->sends = sends;
    sub->send_idx = send_idx;
    sub->actions = actions;
    memset(sub->data, 0, data);         /* the completion copies data[0..data_used) */
    sub->data_used = data;
    sub->pid = p->pid;
    sub->tid = current()->tid;
    sub->tag = tag;
    sub->ret_addr = ret_addr;
    sub->outstanding = (int)n;
    ipc_make_creds(sub->creds, sub->pid, sub->tid);
    kobj_get(&p->obj);
    sub->proc = p;
    kobj_get(&q->obj);
    sub->q = q;
    /* Pending actions keep their lane open: "send, then close" still delivers, and the peer
     * sees END_OF_LANE once they are done (or the process is gone: ipc_process_gone). */
    kobj_get(&l->obj);
    sub->keep[sub->nkeep++] = &l->obj;

    struct work w;
    w.n = 0;
    spin_lock(&ipc_lock);
    r = ipc_queue_reserve(q);
    if (r) {
        spin_unlock(&ipc_lock);
        ipc_sub_free(sub);      /* puts the process, queue and lane references taken above */
        return r;
    }
    list_add_tail(&ipc_live_subs, &sub->plink);
    list_add_tail(&q->subs, &sub->qlink);
    if (TRACE_ON(TRACE_CLASS_IPC))
        record_submission(sub, l);
    for (int i = 0; i < (int)n; i++)
        if (sub->parent[i] < 0)
            enqueue(&sub->item[i], l->s, l->side, &w);
    ipc_unlock();
    run(&w);
    return 0;
}

int64_t ipc_cancel(struct ipc_queue *q, uint64_t tag)
{
    int64_t r = LANES_E_NOENT;
    spin_lock(&ipc_lock);
    list_for_each(it, &q->subs) {
        struct ipc_sub *sub = container_of(it, struct ipc_sub, qlink);
        if (sub->tag != tag)
            continue;
        uint64_t cause = 0;
        int nitems = sub->is_await ? 1 : sub->n;
        for (int i = 0; i < nitems; i++) {
            struct ipc_item *item = &sub->item[i];
            if (item->state != IT_QUEUED)
                continue;
            if (!cause)
                cause = trace_emit_ipc_cancel(item->s ? item->s->id : (uint64_t)(uintptr_t)item->ev, tag,
                                              item->trace_id, 0, current()->proc->pid, current()->tid);
            bool last = sub->outstanding == 1;
            trace_wake_cause(cause);    /* the waiter was woken by the cancel */
            ipc_item_finish(item, LANES_E_CANCELLED);
            trace_wake_cause(0);
            r = 0;
            if (last)
                break;      /* sub is on the done list now */
        }
        break;
    }
    ipc_unlock();
    return r;
}

/* Submissions with an action not finished yet (/sys/kernel/mm/objects/ipc_submissions). */
uint32_t ipc_live_submissions(void)
{
    uint32_t n = 0;
    spin_lock(&ipc_lock);
    list_for_each(it, &ipc_live_subs)
        n++;
    spin_unlock(&ipc_lock);
    return n;
}

/* The live submissions (/sys/kernel/mm/objects/ipc_submissions_list), what a leak check prints
 * when one stays behind. First how many each process has, "by pid: PID:N ..." (ascending pids,
 * every one that fits: this is what tells before from after), then one line per submission,
 * newest first, as many as fit (an attribute holds SYSFS_VALUE_MAX bytes): pid, tid, tag, then
 * each item's action type / state (0 idle, 1 queued, 2 busy, 3 done) @ stream. Returns the bytes
 * written (< cap). */
#define DESCRIBE_PIDS 48
size_t ipc_describe_live(char *b, size_t cap)
{
    struct { uint32_t pid, n; } by[DESCRIBE_PIDS];
    int npids = 0;
    bool more = false;
    size_t at = 0;
    spin_lock(&ipc_lock);
    list_for_each(it, &ipc_live_subs) {
        uint32_t pid = container_of(it, struct ipc_sub, plink)->pid;
        int k = 0;
        while (k < npids && by[k].pid < pid)
            k++;
        if (k < npids && by[k].pid == pid) {
            by[k].n++;
        } else if (npids < DESCRIBE_PIDS) {
            memmove(&by[k + 1], &by[k], (size_t)(npids - k) * sizeof by[0]);
            by[k].pid = pid;
            by[k].n = 1;
            npids++;
        } else {
            more = true;
        }
    }
    at += sysfs_print(b + at, cap - at, "by pid:");
    for (int k = 0; k < npids && cap - at > 16; k++)
        at += sysfs_print(b + at, cap - at, " %u:%u", by[k].pid, by[k].n);
    at += sysfs_print(b + at, cap - at, "%s\n", more ? " ..." : "");
    for (struct list *it = ipc_live_subs.prev; it != &ipc_live_subs && cap - at > 48; it = it->prev) {
        struct ipc_sub *sub = container_of(it, struct ipc_sub, plink);
        at += sysfs_print(b + at, cap - at, "%u %u %llx%s", sub->pid, sub->tid, (unsigned long long)sub->tag,
                          sub->is_await ? " await" : "");
        int nitems = sub->is_await ? 1 : sub->n;
        for (int i = 0; i < nitems && cap - at > 24; i++)
            at += sysfs_print(b + at, cap - at, " %u/%d@%llu", sub->is_await ? 0u : (unsigned)sub->act[i].type,
                              sub->item[i].state, sub->item[i].s ? (unsigned long long)sub->item[i].s->id : 0ull);
        at += sysfs_print(b + at, cap - at, "\n");
    }
    spin_unlock(&ipc_lock);
    return at;
}

void ipc_process_gone(struct process *p)
{
    spin_lock(&ipc_lock);
    struct list *it = ipc_live_subs.next;
    while (it != &ipc_live_subs) {
        struct ipc_sub *sub = container_of(it, struct ipc_sub, plink);
        it = it->next;
        if (sub->proc != p)
            continue;
        int nitems = sub->is_await ? 1 : sub->n;
        for (int i = 0; i < nitems && sub->outstanding; i++)
            if (sub->item[i].state == IT_QUEUED)
                ipc_item_finish(&sub->item[i], LANES_E_END_OF_LANE);   /* may unlink sub: it was saved */
    }
    ipc_unlock();
}
