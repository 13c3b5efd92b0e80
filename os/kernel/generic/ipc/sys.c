/*
 * sys.c — the IPC system calls (numbers 64.. in os/abi/ipc.toml), reached from syscall.c.
 *
 * Rights: submitting a giving action (OFFER SEND PUSH IMBUE DISMISS) needs WRITE on the lane, a
 * taking one (ACCEPT RECV_* PULL EXTRACT) READ; the completion queue needs WRITE to be
 * submitted to, WAIT to be waited on, SIGNAL to be alerted; an event needs SIGNAL to be raised
 * and WAIT to be awaited; shutting a lane down needs CONTROL. PUSH needs DUP on the handle it
 * moves, and the receiver gets at most the pusher's rights. ipc_submit_wait (75) is ipc_submit and
 * then ipc_queue_wait on the same queue in one entry, so it needs both WRITE and WAIT on it.
 */
#include "ipc_internal.h"

static struct process *self(void) { return current()->proc; }

static int64_t sys_stream_create(uint64_t ulanes)
{
    if (user_check(ulanes, 2 * sizeof(int32_t), true))
        return LANES_E_FAULT;
    struct ipc_stream *s = ipc_stream_new(0);
    if (!s)
        return LANES_E_NOMEM;
    struct ipc_lane *l0 = ipc_lane_new(s, 0), *l1 = l0 ? ipc_lane_new(s, 1) : NULL;
    kobj_put(&s->obj);
    if (!l1) {
        if (l0)
            kobj_put(&l0->obj);
        return LANES_E_NOMEM;
    }
    int64_t h0 = handle_give(&l0->obj, LANES_RIGHT_ALL);
    int64_t h1 = handle_give(&l1->obj, LANES_RIGHT_ALL);
    if (h0 < 0 || h1 < 0) {
        if (h0 >= 0)
            handle_close(&self()->handles, h0);
        if (h1 >= 0)
            handle_close(&self()->handles, h1);
        return LANES_E_LIMIT;
    }
    int32_t hs[2] = { (int32_t)h0, (int32_t)h1 };
    if (copy_to_user(ulanes, hs, sizeof hs)) {
        handle_close(&self()->handles, h0);
        handle_close(&self()->handles, h1);
        return LANES_E_FAULT;
    }
    return 0;
}

static int64_t sys_queue_create(uint64_t cap, uint64_t uaddr)
{
    if (cap == 0 || cap > LANES_IPC_QUEUE_MAX)
        return LANES_E_INVAL;
    if (user_check(uaddr, 8, true))
        return LANES_E_FAULT;
    struct ipc_queue *q = ipc_queue_create((uint32_t)cap);
    if (!q)
        return LANES_E_NOMEM;
    uint64_t addr;
    int64_t r = vm_map(self()->vm, q->mo, 0, 0, q->mo->npages * PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE, &addr);
    if (r) {
        kobj_put(&q->obj);
        return r;
    }
    if (copy_to_user(uaddr, &addr, sizeof addr)) {
        vm_unmap(self()->vm, addr, q->mo->npages * PAGE_SIZE);
        kobj_put(&q->obj);
        return LANES_E_FAULT;
    }
    return handle_give(&q->obj, LANES_RIGHT_ALL);
}

static bool is_giving(uint32_t t)
{
    return t == LANES_IPC_ACTION_OFFER || t == LANES_IPC_ACTION_SEND || t == LANES_IPC_ACTION_PUSH ||
           t == LANES_IPC_ACTION_IMBUE || t == LANES_IPC_ACTION_DISMISS;
}

/* ipc_submit and the submission half of ipc_submit_wait: rdi lane, rsi actions, rdx count,
 * r10 queue, r8 tag. qneed: the rights needed on the queue (checked before anything is queued,
 * so a rights error never leaves a submission behind). On success *qout holds a reference to the
 * queue for the caller to put; on failure nothing was submitted and *qout is untouched. */
static int64_t submit(struct regs *r, uint32_t qneed, struct ipc_queue **qout)
{
    uint64_t count = r->rdx;
    if (count == 0 || count > LANES_IPC_MAX_ACTIONS)
        return LANES_E_INVAL;
    struct lane_ipc_action acts[LANES_IPC_MAX_ACTIONS];
    if (copy_from_user(acts, r->rsi, count * sizeof acts[0]))
        return LANES_E_FAULT;
    uint32_t need = 0;
    for (uint64_t i = 0; i < count; i++)
        need |= is_giving(acts[i].type) ? LANES_RIGHT_WRITE : LANES_RIGHT_READ;
    struct kobj *lo, *qo;
    int64_t e = handle_get2(r->rdi, LANES_OBJ_LANE, need, &lo, r->r10, LANES_OBJ_QUEUE, qneed, &qo);
    if (e)
        return e;
    struct ipc_queue *q = container_of(qo, struct ipc_queue, obj);
    e = ipc_submit(container_of(lo, struct ipc_lane, obj), acts, (uint32_t)count, q, r->r8, r->rip);
    kobj_put(lo);
    if (e) {
        kobj_put(qo);
        return e;
    }
    *qout = q;
    return 0;
}

static int64_t sys_submit(struct regs *r)
{
    struct ipc_queue *q;
    int64_t e = submit(r, LANES_RIGHT_WRITE, &q);
    if (!e)
        kobj_put(&q->obj);
    return e;
}

/* ipc_submit_wait: the submission exactly as ipc_submit (its error returns at once, nothing
 * waits), then ipc_queue_wait(queue, r9 = timeout_ns) on the same queue reference. The wait can
 * only end with an element count, ALERTED, TIMEOUT or INTERRUPTED — none of which a submission
 * returns — and whatever it returns, the submission stands (it completes on the queue later,
 * or is cancelled like any other). */
static int64_t sys_submit_wait(struct regs *r)
{
    struct ipc_queue *q;
    pushcli();
    struct thread *self = current();
    popcli();
    self->wake_sync = true;         /* the thread it wakes may run here: we wait next (sched.c) */
    self->woke_first = false;
    int64_t e = submit(r, LANES_RIGHT_WRITE | LANES_RIGHT_WAIT, &q);
    self->wake_sync = false;
    if (e)
        return e;
    if (self->woke_first && ipc_queue_pending(q))
        sched_yield_to_woken();     /* (a reply: its own completion is there, we will not wait) */
    e = ipc_queue_wait(q, r->r9);
    kobj_put(&q->obj);
    return e;
}

int64_t ipc_syscall(struct regs *r)
{
    struct kobj *o, *o2;
    int64_t e;
    switch (r->rax) {
    case LANES_SYS_IPC_STREAM_CREATE:
        return sys_stream_create(r->rdi);
    case LANES_SYS_IPC_QUEUE_CREATE:
        return sys_queue_create(r->rdi & 0xffffffffu, r->rsi);
    case LANES_SYS_IPC_SUBMIT:
        return sys_submit(r);
    case LANES_SYS_IPC_SUBMIT_WAIT:
        return sys_submit_wait(r);
    case LANES_SYS_IPC_QUEUE_WAIT:
        if ((e = handle_get(r->rdi, LANES_OBJ_QUEUE, LANES_RIGHT_WAIT, &o, NULL)))
            return e;
        e = ipc_queue_wait(container_of(o, struct ipc_queue, obj), r->rsi);
        kobj_put(o);
        return e;
    case LANES_SYS_IPC_QUEUE_ALERT:
        if ((e = handle_get(r->rdi, LANES_OBJ_QUEUE, LANES_RIGHT_SIGNAL, &o, NULL)))
            return e;
        ipc_queue_alert(container_of(o, struct ipc_queue, obj));
        kobj_put(o);
        return 0;
    case LANES_SYS_IPC_CANCEL:
        if ((e = handle_get(r->rdi, LANES_OBJ_QUEUE, LANES_RIGHT_WRITE, &o, NULL)))
            return e;
        e = ipc_cancel(container_of(o, struct ipc_queue, obj), r->rsi);
        kobj_put(o);
        return e;
    case LANES_SYS_IPC_LANE_SHUTDOWN:
        if ((e = handle_get(r->rdi, LANES_OBJ_LANE, LANES_RIGHT_CONTROL, &o, NULL)))
            return e;
        ipc_shutdown(container_of(o, struct ipc_lane, obj));
        kobj_put(o);
        return 0;
    case LANES_SYS_IPC_EVENT_CREATE: {
        uint64_t kind = r->rdi;
        if (kind != LANES_EVENT_KIND_ONESHOT && kind != LANES_EVENT_KIND_BITSET)
            return LANES_E_INVAL;
        struct ipc_event *ev = ipc_event_create((uint32_t)kind);
        if (!ev)
            return LANES_E_NOMEM;
        return handle_give(&ev->obj, LANES_RIGHT_ALL);
    }
    case LANES_SYS_IPC_EVENT_RAISE:
        if ((e = handle_get(r->rdi, LANES_OBJ_EVENT, LANES_RIGHT_SIGNAL, &o, NULL)))
            return e;
        current()->wake_first = true;
        e = ipc_event_raise(container_of(o, struct ipc_event, obj), r->rsi);
        current()->wake_first = false;
        kobj_put(o);
        return e;
    case LANES_SYS_IPC_EVENT_AWAIT:
        if ((e = handle_get(r->rdi, LANES_OBJ_EVENT, LANES_RIGHT_WAIT, &o, NULL)))
            return e;
        if ((e = handle_get(r->rdx, LANES_OBJ_QUEUE, LANES_RIGHT_WRITE, &o2, NULL))) {
            kobj_put(o);
            return e;
        }
        e = ipc_event_await(container_of(o, struct ipc_event, obj), r->rsi, container_of(o2, struct ipc_queue, obj),
                            r->r10, r->rip);
        kobj_put(o2);
        kobj_put(o);
        return e;
    case LANES_SYS_IPC_CREDENTIALS: {
        uint8_t c[LANES_IPC_CREDS_SIZE];
        ipc_make_creds(c, self()->pid, current()->tid);
        return copy_to_user(r->rdi, c, sizeof c);
    }
    default:
        return LANES_E_NOSYS;
    }
}
