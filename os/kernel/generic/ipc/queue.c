/*
 * queue.c — completion queues mapped into user space.
 *
 *   memory object (mapped read/write into the creator at creation):
 *   ┌ header (lane_ipc_queue_header, first IPC_ELEM_SIZE bytes): head (kernel), tail (user) ┐
 *   │ element 0 │ element 1 │ ... │ element capacity-1      (lane_ipc_completion each)      │
 *
 * The kernel writes element head % capacity through its direct map of the object's pages and
 * then publishes head + 1; user space reads elements up to head and advances tail. ipc_submit
 * reserves a slot first, under ipc_lock (reserved + (head - tail) < capacity, else AGAIN), so a completion
 * always has room and never waits. ipc_queue_wait sleeps until head != tail, an alert, or the
 * timeout; an alert (another thread, or the kernel) ends one wait, now or the next. It is also
 * the wait half of ipc_submit_wait (sys.c), which calls it right after a successful submission.
 */
#include "ipc_internal.h"

static struct lane_ipc_queue_header *hdr(struct ipc_queue *q)
{
    return P2V(q->mo->pages[0]);
}

static void queue_destroy(struct kobj *o)
{
    struct ipc_queue *q = container_of(o, struct ipc_queue, obj);
    kobj_put(&q->mo->obj);
    kfree(q);
}

struct ipc_queue *ipc_queue_create(uint32_t cap)
{
    uint64_t bytes = (uint64_t)LANES_IPC_ELEM_SIZE * (cap + 1);
    struct memobj *mo = memobj_create(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
    if (!mo)
        return NULL;
    struct ipc_queue *q = kmalloc(sizeof *q);
    if (!q) {
        kobj_put(&mo->obj);
        return NULL;
    }
    kobj_init(&q->obj, LANES_OBJ_QUEUE, queue_destroy);
    spin_init(&q->lock, "ipc queue");
    waitq_init(&q->wq);
    list_init(&q->subs);
    q->mo = mo;
    q->capacity = cap;
    struct lane_ipc_queue_header *h = hdr(q);
    h->capacity = cap;
    h->elem_size = LANES_IPC_ELEM_SIZE;
    h->elem_offset = LANES_IPC_ELEM_SIZE;
    return q;
}

/* Under ipc_lock, which guards `reserved` (every change to it is made under ipc_lock: here and
 * in ipc_queue_complete), so no queue lock is needed for it. */
int64_t ipc_queue_reserve(struct ipc_queue *q)
{
    struct lane_ipc_queue_header *h = hdr(q);
    uint32_t used = h->head - __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
    if (used > q->capacity || q->reserved + used >= q->capacity)
        return LANES_E_AGAIN;
    q->reserved++;
    return 0;
}

/* Under ipc_lock: write sub's element and wake the queue's waiters (ipc_unlock frees sub).
 * The element is built in place in the ring (every byte of it written: no stale bytes). */
void ipc_queue_complete(struct ipc_sub *sub)
{
    struct ipc_queue *q = sub->q;
    uint32_t nres = sub->is_await ? 1 : (uint32_t)sub->n;
    int32_t status = 0;
    for (uint32_t i = 0; i < nres; i++)
        if (sub->res[i].error && !status)
            status = sub->res[i].error;
    struct lane_ipc_queue_header *h = hdr(q);
    spin_lock(&q->lock);
    uint32_t head = h->head;
    uint64_t off = (uint64_t)LANES_IPC_ELEM_SIZE * (1 + head % q->capacity);
    struct lane_ipc_completion *c = (void *)((uint8_t *)P2V(q->mo->pages[off / PAGE_SIZE]) + off % PAGE_SIZE);
    uint32_t used = MIN(sub->data_used, (uint32_t)sizeof c->data);
    uint32_t rbytes = nres * (uint32_t)sizeof(struct lane_ipc_result);
    c->tag = sub->tag;
    c->status = status;
    c->nresults = nres;
    c->seq = ++q->seq;
    c->bits = sub->bits;
    /* results, then zeros up to the data; the data, then zeros to the end: each byte once */
    memcpy(c->results_raw, sub->res, rbytes);
    memset((uint8_t *)c->results_raw + rbytes, 0, sizeof c->results_raw - rbytes);
    memcpy(c->data, sub->data, used);
    memset(c->data + used, 0, sizeof c->data - used);
    __atomic_store_n(&h->head, head + 1, __ATOMIC_RELEASE);
    q->reserved--;
    wake_all(&q->wq);
    spin_unlock(&q->lock);
}

/* How many elements there are to take now: 0 when none, or when user space wrote a tail that
 * makes no sense (it would have to fix it; the kernel only ever appends). */
static uint32_t queue_avail(struct ipc_queue *q)
{
    struct lane_ipc_queue_header *h = hdr(q);
    uint32_t avail = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE) - __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
    return avail <= q->capacity ? avail : 0;
}

/* Elements there to take now (a wait would return at once). */
bool ipc_queue_pending(struct ipc_queue *q)
{
    return queue_avail(q) != 0;
}

int64_t ipc_queue_wait(struct ipc_queue *q, uint64_t timeout_ns)
{
    uint64_t deadline = deadline_from_timeout(timeout_ns);
    spin_lock(&q->lock);
    int64_t r;
    for (;;) {
        uint32_t avail = queue_avail(q);
        if (avail) {
            r = avail;
            break;
        }
        if (q->alert) {
            q->alert = false;
            r = LANES_E_ALERTED;
            break;
        }
        if (timeout_ns == 0) {
            r = LANES_E_TIMEOUT;
            break;
        }
        r = wait_on(&q->wq, &q->lock, deadline);
        if (r)
            break;
    }
    spin_unlock(&q->lock);
    return r;
}

void ipc_queue_alert(struct ipc_queue *q)
{
    spin_lock(&q->lock);
    q->alert = true;
    hdr(q)->alerts++;
    wake_all(&q->wq);
    spin_unlock(&q->lock);
}
