/*
 * memobj.c — memory objects: a list of physical pages that can be mapped into address spaces.
 *
 * A shared object (mem_create, stacks, ELF images) gets its pages (zeroed) when created, so
 * mapping never fails later. An anonymous object (memobj_create_lazy: mem_map without a
 * handle, fork's copies of private regions) starts with none: vm.c fills pages[i] on the first
 * touch (demand paging) and may share a page with another address space after fork (each
 * owner counted by pmm_page_share). Handles and mappings each hold a reference; the pages go
 * back to the allocator (pmm_page_put: once their last owner drops them) with the last one. The initrd is wrapped as a "borrowed"
 * object over the module's pages, which are never freed. memobj_fill writes into an object not
 * yet mapped anywhere (an ELF image, a new stack), allocating the pages it touches: exec and
 * spawn make those objects lazy, so only the pages with bytes in them exist at first (a 512 KiB
 * stack starts with the one or two pages its arguments and startup block are in; bss and the
 * rest of the stack are demand-zero).
 *
 * An object made with mem_create's OWNER_WAKE (posix's pipe rings) is on its creator's list
 * until the creator ends, then on the list of ended objects until it is destroyed. When the
 * creator ends, every futex waiter on the object's words wakes with DEAD (futex_wake_ended), and
 * a later futex_wait there fails DEAD at once (memobj_page_ended): the clients of a server that
 * died learn it from their wait, without a timeout on every wait to go and ask. Lock order: a
 * futex bucket's lock, then owned_lock.
 */
#include <kernel/kernel.h>

static struct spinlock owned_lock = SPINLOCK_INIT("memobj-owned");
static struct list ended_objs = { &ended_objs, &ended_objs };
HOT_DATA volatile uint32_t memobj_nended;

static void memobj_destroy(struct kobj *o)
{
    struct memobj *m = container_of(o, struct memobj, obj);
    if (m->owned) {
        spin_lock(&owned_lock);
        list_del(&m->owner_link);
        if (m->ended)
            __atomic_sub_fetch(&memobj_nended, 1, __ATOMIC_SEQ_CST);
        spin_unlock(&owned_lock);
    }
    if (!m->borrowed)
        for (uint64_t i = 0; i < m->npages; i++)
            if (m->pages[i])
                pmm_page_put(m->pages[i]);
    kfree(m->pages);
    kfree(m);
}

struct memobj *memobj_create(uint64_t npages)
{
    if (npages == 0 || npages > pmm_free_bytes() / PAGE_SIZE)
        return NULL;
    struct memobj *m = kmalloc(sizeof *m);
    if (!m)
        return NULL;
    m->pages = kmalloc(npages * sizeof(uint64_t));
    if (!m->pages) {
        kfree(m);
        return NULL;
    }
    kobj_init(&m->obj, LANES_OBJ_MEMORY, memobj_destroy);
    m->npages = npages;
    for (uint64_t i = 0; i < npages; i++) {
        m->pages[i] = pmm_alloc_user();
        if (!m->pages[i]) {
            kobj_put(&m->obj);
            return NULL;
        }
    }
    return m;
}

/* Copies n bytes from src (kernel memory; NULL: none, the pages are only made) to offset off
 * of m, allocating (zeroed) the pages it touches that have none. m must not be mapped where anyone runs yet (no lock is taken).
 * Returns 0, or NOMEM (what was allocated stays with m). */
int64_t memobj_fill(struct memobj *m, uint64_t off, const void *src, uint64_t n)
{
    const uint8_t *s = src;
    if (off > m->npages * PAGE_SIZE || n > m->npages * PAGE_SIZE - off)
        return LANES_E_INVAL;
    while (n) {
        uint64_t pg = off / PAGE_SIZE, po = off % PAGE_SIZE, chunk = MIN(n, PAGE_SIZE - po);
        if (!m->pages[pg] && !(m->pages[pg] = pmm_alloc_user()))
            return LANES_E_NOMEM;
        if (s) {
            memcpy((uint8_t *)P2V(m->pages[pg]) + po, s, chunk);
            s += chunk;
        }
        off += chunk;
        n -= chunk;
    }
    return 0;
}

/* An object of npages pages, none allocated yet (vm.c: demand paging, fork). */
struct memobj *memobj_create_lazy(uint64_t npages)
{
    if (npages == 0 || npages > pmm_total_bytes() / PAGE_SIZE)
        return NULL;
    struct memobj *m = kmalloc(sizeof *m);
    if (!m)
        return NULL;
    m->pages = kmalloc(npages * sizeof(uint64_t));
    if (!m->pages) {
        kfree(m);
        return NULL;
    }
    memset(m->pages, 0, npages * sizeof(uint64_t));
    kobj_init(&m->obj, LANES_OBJ_MEMORY, memobj_destroy);
    m->npages = npages;
    return m;
}

struct memobj *memobj_wrap_phys(uint64_t phys, uint64_t len)
{
    uint64_t npages = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
    struct memobj *m = kmalloc(sizeof *m);
    if (!m || !npages)
        return NULL;
    m->pages = kmalloc(npages * sizeof(uint64_t));
    if (!m->pages) {
        kfree(m);
        return NULL;
    }
    kobj_init(&m->obj, LANES_OBJ_MEMORY, memobj_destroy);
    m->npages = npages;
    m->borrowed = true;
    for (uint64_t i = 0; i < npages; i++)
        m->pages[i] = ALIGN_DOWN(phys, PAGE_SIZE) + i * PAGE_SIZE;
    return m;
}

void memobj_set_owner(struct memobj *m, struct process *p)
{
    spin_lock(&owned_lock);
    m->owned = true;
    list_add_tail(&p->owned_mem, &m->owner_link);
    spin_unlock(&owned_lock);
}

/* p has ended: its OWNER_WAKE objects move to the ended list (counted before any bucket is
 * looked at, so a futex_wait that enqueues after the scan passed its bucket sees the count),
 * then every waiter on their words is woken DEAD. */
void memobj_owner_gone(struct process *p)
{
    bool any = false;
    spin_lock(&owned_lock);
    while (!list_empty(&p->owned_mem)) {
        struct memobj *m = container_of(p->owned_mem.next, struct memobj, owner_link);
        list_del(&m->owner_link);
        m->ended = true;
        list_add_tail(&ended_objs, &m->owner_link);
        __atomic_add_fetch(&memobj_nended, 1, __ATOMIC_SEQ_CST);
        any = true;
    }
    spin_unlock(&owned_lock);
    if (any)
        futex_wake_ended();
}

/* Is the page at physical address pa one of an ended OWNER_WAKE object's? (Only looked up while
 * there are such objects: after a server died, until its clients let go of its memory.) */
bool memobj_page_ended(uint64_t pa)
{
    if (!__atomic_load_n(&memobj_nended, __ATOMIC_SEQ_CST))
        return false;
    pa &= ~(uint64_t)(PAGE_SIZE - 1);
    bool hit = false;
    spin_lock(&owned_lock);
    list_for_each(it, &ended_objs) {
        struct memobj *m = container_of(it, struct memobj, owner_link);
        for (uint64_t i = 0; i < m->npages && !hit; i++)
            hit = m->pages[i] == pa;
        if (hit)
            break;
    }
    spin_unlock(&owned_lock);
    return hit;
}
