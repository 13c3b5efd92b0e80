/*
 * heap.c — kmalloc/kfree.
 *
 * Small blocks (up to 2 KiB) come from power-of-two size classes carved out of whole pages
 * and kept on per-class free lists; bigger ones are runs of contiguous pages. Every block has
 * a 16-byte header recording its class (or page count), so kfree needs no size. Memory is
 * reached through the direct map and returned zeroed; alignment is 16 bytes.
 * Small-block pages are never given back to the page allocator: heap_cached_bytes() (sysfs
 * /sys/kernel/mm/heap_cached) counts the bytes waiting on the free lists, so pmm free +
 * heap_cached is what a leak check compares (os/programs/fuzz); blocks a subsystem parks in a
 * cache of its own count as cached too (heap_note_parked).
 */
#include <kernel/kernel.h>

#define NCLASSES 7          /* 32 .. 2048 bytes including the header */
struct hdr { uint32_t magic; uint32_t cls; uint64_t pages; };
struct free_blk { struct free_blk *next; };
static struct free_blk *freelist[NCLASSES];
static struct spinlock heap_lock = SPINLOCK_INIT("heap");
static uint64_t cached_bytes;   /* on the free lists; under heap_lock */
static uint64_t parked_bytes;   /* in subsystems' own caches (heap_note_parked); atomic */
#define HDR_MAGIC 0x6b6d616c

void *kmalloc(size_t n)
{
    size_t total = n + sizeof(struct hdr);
    if (total > 2048) {
        size_t pages = ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE;
        uint64_t pa = pmm_alloc_contig(pages);
        if (!pa)
            return NULL;
        struct hdr *h = P2V(pa);
        h->magic = HDR_MAGIC;
        h->cls = NCLASSES;
        h->pages = pages;
        return h + 1;
    }
    unsigned cls = 0;
    while ((32u << cls) < total)
        cls++;
    spin_lock(&heap_lock);
    if (!freelist[cls]) {
        spin_unlock(&heap_lock);
        uint64_t pa = pmm_alloc();
        if (!pa)
            return NULL;
        uint8_t *page = P2V(pa);
        size_t sz = 32u << cls;
        spin_lock(&heap_lock);
        for (size_t off = 0; off + sz <= PAGE_SIZE; off += sz) {
            struct free_blk *b = (struct free_blk *)(page + off);
            b->next = freelist[cls];
            freelist[cls] = b;
            cached_bytes += sz;
        }
    }
    struct free_blk *b = freelist[cls];
    freelist[cls] = b->next;
    cached_bytes -= 32u << cls;
    spin_unlock(&heap_lock);
    struct hdr *h = (struct hdr *)b;
    memset(h, 0, 32u << cls);
    h->magic = HDR_MAGIC;
    h->cls = cls;
    return h + 1;
}

void kfree(void *p)
{
    if (!p)
        return;
    struct hdr *h = (struct hdr *)p - 1;
    if (h->magic != HDR_MAGIC)
        panic("kfree: bad block %p", p);
    h->magic = 0;
    if (h->cls == NCLASSES) {
        pmm_free_contig(V2P(h), h->pages);
        return;
    }
    uint32_t cls = h->cls;
    spin_lock(&heap_lock);
    struct free_blk *b = (struct free_blk *)h;
    b->next = freelist[cls];
    freelist[cls] = b;
    cached_bytes += 32u << cls;
    spin_unlock(&heap_lock);
}

/* A subsystem keeping kmalloc'ed blocks in a cache of its own (ipc.c's per-CPU submission cache)
 * reports each block it parks there (parked) or takes back out, so heap_cached counts it too. */
void heap_note_parked(void *p, bool parked)
{
    struct hdr *h = (struct hdr *)p - 1;
    uint64_t n = h->cls == NCLASSES ? h->pages * PAGE_SIZE : 32u << h->cls;
    /* No heap_lock: this runs twice per IPC submission, and the count is all it touches. */
    __atomic_fetch_add(&parked_bytes, parked ? n : -n, __ATOMIC_RELAXED);
}

uint64_t heap_cached_bytes(void)
{
    spin_lock(&heap_lock);
    uint64_t n = cached_bytes;
    spin_unlock(&heap_lock);
    n += __atomic_load_n(&parked_bytes, __ATOMIC_RELAXED);
    return n;
}
