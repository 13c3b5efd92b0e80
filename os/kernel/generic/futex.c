/*
 * futex.c — wait until a 32-bit word changes, wake waiters on a word.
 *
 * Waiters are keyed by the word's physical address, so a futex in shared memory works
 * between processes. The value is read under the bucket lock, so a wake between the check
 * and the sleep cannot be lost.
 */
#include <kernel/kernel.h>

#define NBUCKETS 64
struct fwaiter { struct list link; struct thread *t; uint64_t key; };
static struct bucket { struct spinlock lock; struct list waiters; } buckets[NBUCKETS];
int user_load32(uint32_t *out, uint64_t uaddr);

void futex_init(void)
{
    for (int i = 0; i < NBUCKETS; i++) {
        spin_init(&buckets[i].lock, "futex");
        list_init(&buckets[i].waiters);
    }
}

/* The word's physical address. A copy-on-write page is copied first (as a write would): the
 * waker's write would move the word to a new page and miss a waiter keyed by the old one.
 * (A fork while a thread waits can still share the page again; such a waiter needs the
 * timeout or a wake from the forking side's own copy — as with private futexes elsewhere.) */
static uint64_t futex_key(uint64_t uaddr)
{
    struct vmspace *vm = current()->proc->vm;
    uint64_t key = vm_translate(vm, uaddr, true);
    return key ? key : vm_translate(vm, uaddr, false);
}

static struct bucket *bucket_of(uint64_t key)
{
    return &buckets[(key >> 2) * 0x9e3779b97f4a7c15ULL >> 58];
}

int64_t futex_wait(uint64_t uaddr, uint32_t expected, uint64_t timeout_ns)
{
    if (uaddr & 3)
        return LANES_E_INVAL;
    if (!user_range_ok(uaddr, 4))
        return LANES_E_FAULT;
    uint64_t key = futex_key(uaddr);
    if (!key)
        return LANES_E_FAULT;
    uint64_t deadline = deadline_from_timeout(timeout_ns);
    struct bucket *b = bucket_of(key);
    spin_lock(&b->lock);
    uint32_t val;
    if (user_load32(&val, uaddr)) {
        spin_unlock(&b->lock);
        return LANES_E_FAULT;
    }
    if (val != expected) {
        spin_unlock(&b->lock);
        return LANES_E_AGAIN;
    }
    struct fwaiter w = { .t = current(), .key = key };
    list_add_tail(&b->waiters, &w.link);
    int r = thread_block(&b->lock, T_BLOCKED, deadline);
    spin_lock(&b->lock);
    if (w.link.next != &w.link)
        list_del(&w.link);
    spin_unlock(&b->lock);
    return r;
}

/* Wake up to count waiters on the word at physical address key. */
int64_t futex_wake_key(uint64_t key, uint32_t count)
{
    struct bucket *b = bucket_of(key);
    int64_t n = 0;
    spin_lock(&b->lock);
    for (struct list *it = b->waiters.next; it != &b->waiters && n < count;) {
        struct fwaiter *w = container_of(it, struct fwaiter, link);
        it = it->next;
        if (w->key != key)
            continue;
        struct thread *t = w->t;
        list_del(&w->link);
        thread_wake(t, 0);
        n++;
    }
    spin_unlock(&b->lock);
    return n;
}

int64_t futex_wake(uint64_t uaddr, uint32_t count)
{
    if (uaddr & 3)
        return LANES_E_INVAL;
    if (!user_range_ok(uaddr, 4))
        return LANES_E_FAULT;
    uint64_t key = futex_key(uaddr);
    if (!key)
        return LANES_E_FAULT;
    return futex_wake_key(key, count);
}
