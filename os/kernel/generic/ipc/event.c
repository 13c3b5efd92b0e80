/*
 * event.c — one-shot and bitset events, raised and awaited asynchronously.
 *
 * An await is a submission of one item kept on the event's list; it completes on its queue like
 * any IPC operation (so it can be cancelled by tag). A one-shot event fires once: awaits before
 * complete then, awaits after complete at once; raising it again is EXISTS. A bitset event ORs
 * bits in and bumps a sequence number; an await for sequence s completes when the event's
 * sequence is > s, with the bits raised after s (completion.bits) and the sequence (result value).
 * Events are ordinary handles, so they travel over lanes with PUSH/PULL.
 */
#include "ipc_internal.h"

static void event_destroy(struct kobj *o)
{
    kfree(container_of(o, struct ipc_event, obj));
}

struct ipc_event *ipc_event_create(uint32_t kind)
{
    struct ipc_event *e = kmalloc(sizeof *e);
    if (!e)
        return NULL;
    kobj_init(&e->obj, LANES_OBJ_EVENT, event_destroy);
    e->kind = kind;
    list_init(&e->awaits);
    return e;
}

static uint64_t bits_since(struct ipc_event *e, uint64_t seq)
{
    if (e->kind == LANES_EVENT_KIND_ONESHOT)
        return 1;
    uint64_t b = 0;
    for (int i = 0; i < 64; i++)
        if (e->bit_seq[i] > seq)
            b |= 1ULL << i;
    return b;
}

/* Under ipc_lock: the await item completes now. */
static void fire(struct ipc_event *e, struct ipc_item *it)
{
    struct ipc_sub *sub = it->sub;
    sub->bits = bits_since(e, sub->seq);
    sub->res[0].value = e->seq;
    sub->res[0].length = 0;
    trace_emit_event_await((uint64_t)(uintptr_t)e, sub->bits, 0, e->seq, sub->pid, sub->tid);
    ipc_item_finish(it, 0);
}

static bool ready(struct ipc_event *e, uint64_t seq)
{
    return e->kind == LANES_EVENT_KIND_ONESHOT ? e->fired : e->seq > seq;
}


int64_t ipc_event_raise(struct ipc_event *e, uint64_t bits)
{
    spin_lock(&ipc_lock);
    if (e->kind == LANES_EVENT_KIND_ONESHOT && e->fired) {
        spin_unlock(&ipc_lock);
        return LANES_E_EXISTS;
    }
    uint64_t id = trace_emit_event_raise((uint64_t)(uintptr_t)e, bits, 0, current()->proc->pid, current()->tid);
    trace_wake_cause(id);
    e->fired = true;
    e->seq++;
    for (int i = 0; i < 64; i++)
        if (bits & (1ULL << i))
            e->bit_seq[i] = e->seq;
    struct list *l = &e->awaits;
    while (l->next != l) {
        struct ipc_item *it = container_of(l->next, struct ipc_item, link);
        fire(e, it);    /* removes it from the list */
    }
    ipc_unlock();
    return 0;
}

int64_t ipc_event_await(struct ipc_event *e, uint64_t seq, struct ipc_queue *q, uint64_t tag, uint64_t ret_addr)
{
    struct ipc_sub *sub = ipc_sub_alloc(0);
    if (!sub)
        return LANES_E_NOMEM;
    struct process *p = current()->proc;
    kobj_get(&p->obj);
    sub->proc = p;
    kobj_get(&q->obj);
    sub->q = q;
    kobj_get(&e->obj);
    sub->keep[sub->nkeep++] = &e->obj;
    sub->pid = p->pid;
    sub->tid = current()->tid;
    sub->tag = tag;
    sub->ret_addr = ret_addr;
    sub->is_await = true;
    sub->n = 0;                 /* no actions: nothing to give back at free */
    sub->outstanding = 1;
    sub->seq = seq;
    sub->res[0].handle = -1;
    struct ipc_item *it = &sub->item[0];
    it->sub = sub;
    it->idx = 0;
    it->ev = e;
    spin_lock(&ipc_lock);
    int64_t r = ipc_queue_reserve(q);
    if (r) {
        spin_unlock(&ipc_lock);
        ipc_sub_free(sub);      /* puts what it holds: process, queue, event */
        return r;
    }
    list_add_tail(&ipc_live_subs, &sub->plink);
    list_add_tail(&q->subs, &sub->qlink);
    it->trace_id = trace_emit_event_await((uint64_t)(uintptr_t)e, 0, 1, seq, sub->pid, sub->tid);
    if (ready(e, seq)) {
        fire(e, it);
    } else {
        it->state = IT_QUEUED;
        list_add_tail(&e->awaits, &it->link);
    }
    ipc_unlock();
    return 0;
}
