/*
 * futex.c — wait until a 32-bit word changes, wake waiters on a word.
 *
 * A word in shared memory (a memory object mapped from a handle) is keyed by its physical
 * address, so such a futex works between processes. A word in private memory (anonymous
 * mappings, stacks, data: copy-on-write across fork, so its physical page can change under a
 * waiter) is keyed by its address space and virtual address, as Linux's private futexes. The
 * value is read under the bucket lock, so a wake between the check and the sleep cannot be lost.
 * A word in a memory object made with OWNER_WAKE whose creator has ended (memobj.c) ends every
 * wait on it with DEAD: futex_wake_ended when the creator ends, at once for later waits.
 */
#include <kernel/kernel.h>

#define NBUCKETS 64
/* A waiter on its bucket's list (on the waiting thread's stack). `gone` is set, with release,
 * by the waker that took it off the list, after its thread_wake, as its last touch of it (still
 * under the bucket lock): a waiter that sees it knows without the lock that it is off the list
 * and that no wake-up meant for this wait is still to come (so none can end a later wait). The
 * common case — woken by futex_wake — then costs no second lock of the bucket; a waiter that
 * does not see it (a timeout, an interrupt, or a wake still under way) takes the lock, which
 * waits for the waker, and unlinks itself if no waker did. */
struct fwaiter { struct list link; struct thread *t; uint64_t key; struct vmspace *space; uint32_t gone; };
HOT_DATA_RW static struct bucket { struct spinlock lock; struct list waiters; } buckets[NBUCKETS];
int user_load32(uint32_t *out, uint64_t uaddr);

void futex_init(void)
{
    for (int i = 0; i < NBUCKETS; i++) {
        spin_init(&buckets[i].lock, "futex");
        list_init(&buckets[i].waiters);
    }
}

/* The word's key: its virtual address in *space (private memory) or its physical address
 * (shared memory, *space NULL); 0 when the address is not mapped readable. The thread keeps the
 * keys of the last few pages it used (a pipe's reader and writer alternate between two rings'
 * words): a key stays right until a region of the address space goes (vm_unmap gives the
 * vmspace a new gen) — a shared page's physical address never changes while it is mapped, and
 * a private word's key is its address. Saves the page walk, the region search and their locks. */
HOT static uint64_t futex_key(uint64_t uaddr, struct vmspace **space)
{
    struct thread *t = current();
    struct vmspace *vm = t->proc->vm;
    uint64_t page = uaddr & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t gen = __atomic_load_n(&vm->gen, __ATOMIC_SEQ_CST);
    for (int i = 0; i < (int)ARRAY_SIZE(t->fkc); i++) {
        struct futex_key_cache *c = &t->fkc[i];
        if (c->vm == vm && c->page == page && c->gen == gen) {
            *space = c->priv ? vm : NULL;
            return c->priv ? uaddr : c->key | (uaddr & (PAGE_SIZE - 1));
        }
    }
    uint64_t pa = vm_translate(vm, uaddr, false);
    if (!pa)
        return 0;
    int priv = vm_is_private(vm, uaddr);
    struct futex_key_cache *c = &t->fkc[t->fkc_next++ % ARRAY_SIZE(t->fkc)];
    *c = (struct futex_key_cache){ .vm = vm, .gen = gen, .page = page, .key = pa & ~(uint64_t)(PAGE_SIZE - 1), .priv = priv > 0 };
    *space = priv > 0 ? vm : NULL;
    return priv > 0 ? uaddr : pa;
}

static struct bucket *bucket_of(uint64_t key, struct vmspace *space)
{
    return &buckets[((key >> 2) ^ (uint64_t)(uintptr_t)space) * 0x9e3779b97f4a7c15ULL >> 58];
}

HOT int64_t futex_wait(uint64_t uaddr, uint32_t expected, uint64_t timeout_ns)
{
    if (uaddr & 3)
        return LANES_E_INVAL;
    if (!user_range_ok(uaddr, 4))
        return LANES_E_FAULT;
    struct vmspace *space;
    uint64_t key = futex_key(uaddr, &space);
    if (!key)
        return LANES_E_FAULT;
    uint64_t deadline = deadline_from_timeout(timeout_ns);
    struct bucket *b = bucket_of(key, space);
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
    /* (under the bucket lock: memobj_owner_gone counts an ended object before it scans buckets) */
    if (!space && __builtin_expect(memobj_nended != 0, 0) && memobj_page_ended(key)) {
        spin_unlock(&b->lock);
        return LANES_E_DEAD;
    }
    struct fwaiter w = { .t = current(), .key = key, .space = space };
    list_add_tail(&b->waiters, &w.link);
    int r = thread_block(&b->lock, T_BLOCKED, deadline);
    if (!__atomic_load_n(&w.gone, __ATOMIC_ACQUIRE)) {
        spin_lock(&b->lock);
        if (w.link.next != &w.link)
            list_del(&w.link);
        spin_unlock(&b->lock);
    }
    return r;
}

HOT static int64_t wake(uint64_t key, struct vmspace *space, uint32_t count)
{
    struct bucket *b = bucket_of(key, space);
    int64_t n = 0;
    spin_lock(&b->lock);
    for (struct list *it = b->waiters.next; it != &b->waiters && n < count;) {
        struct fwaiter *w = container_of(it, struct fwaiter, link);
        it = it->next;
        if (w->key != key || w->space != space)
            continue;
        struct thread *t = w->t;
        list_del(&w->link);
        thread_wake(t, 0);
        __atomic_store_n(&w->gone, 1, __ATOMIC_RELEASE);     /* (w may be gone after this) */
        n++;
    }
    spin_unlock(&b->lock);
    return n;
}

/* Wakes, with DEAD, every waiter on a word of an object whose creator ended (memobj.c). */
void futex_wake_ended(void)
{
    for (int i = 0; i < NBUCKETS; i++) {
        struct bucket *b = &buckets[i];
        spin_lock(&b->lock);
        for (struct list *it = b->waiters.next; it != &b->waiters;) {
            struct fwaiter *w = container_of(it, struct fwaiter, link);
            it = it->next;
            if (w->space || !memobj_page_ended(w->key))
                continue;
            struct thread *t = w->t;
            list_del(&w->link);
            thread_wake(t, LANES_E_DEAD);
            __atomic_store_n(&w->gone, 1, __ATOMIC_RELEASE);
        }
        spin_unlock(&b->lock);
    }
}

/* Wake up to count waiters on the word at physical address key (shared memory). */
int64_t futex_wake_key(uint64_t key, uint32_t count) { return wake(key, NULL, count); }

HOT int64_t futex_wake(uint64_t uaddr, uint32_t count)
{
    if (uaddr & 3)
        return LANES_E_INVAL;
    if (!user_range_ok(uaddr, 4))
        return LANES_E_FAULT;
    struct vmspace *space;
    uint64_t key = futex_key(uaddr, &space);
    if (!key)
        return LANES_E_FAULT;
    return wake(key, space, count);
}
