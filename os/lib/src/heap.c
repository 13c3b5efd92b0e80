/* heap.c — the allocator core behind malloc (pure; host-tested in os/lib/test).
 *
 * A first-fit allocator over an address-ordered free list. Every block starts with a 16-byte
 * header {size, tag}; size includes the header and is a multiple of 16, so payloads are
 * 16-byte aligned. A free block's tag is the next free block; an allocated block's tag is a
 * magic value mixed with its address, so heap_free() can reject pointers it never handed out
 * and double frees. Freed blocks are merged with free neighbours. When nothing fits, the heap
 * asks morecore() for at least HEAP_GROW bytes (malloc.c maps anonymous memory).
 */
#include <lanes.h>
#include <string.h>

#define HDR 16u
#define MIN_BLOCK 32u
#define HEAP_GROW (64u * 1024u)
#define HEAP_MAGIC 0x4c616e6548656170ull   /* "LaneHeap" */

struct heap_block {
    size_t size;
    union {
        struct heap_block *next;   /* free */
        uint64_t tag;              /* allocated */
    };
};

static uint64_t tag_of(struct heap_block *b) { return HEAP_MAGIC ^ (uint64_t)(uintptr_t)b; }

void heap_init(struct heap *h, void *(*morecore)(size_t, void *), void *ctx)
{
    memset(h, 0, sizeof *h);
    h->morecore = morecore;
    h->ctx = ctx;
}

/* Inserts a free block in address order and merges it with adjacent free blocks. */
static void insert_free(struct heap *h, struct heap_block *b)
{
    struct heap_block *prev = NULL, *cur = h->free_list;
    while (cur && cur < b) {
        prev = cur;
        cur = cur->next;
    }
    b->next = cur;
    if (cur && (char *)b + b->size == (char *)cur) {
        b->size += cur->size;
        b->next = cur->next;
    }
    if (prev) {
        prev->next = b;
        if ((char *)prev + prev->size == (char *)b) {
            prev->size += b->size;
            prev->next = b->next;
        }
    } else {
        h->free_list = b;
    }
}

void *heap_alloc(struct heap *h, size_t size)
{
    if (size > ((size_t)1 << 40))
        return NULL;
    size_t need = ((size + 15) & ~(size_t)15) + HDR;
    if (need < MIN_BLOCK)
        need = MIN_BLOCK;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct heap_block *prev = NULL, *b = h->free_list;
        for (; b; prev = b, b = b->next) {
            if (b->size < need)
                continue;
            struct heap_block *rest;
            if (b->size - need >= MIN_BLOCK) {
                rest = (struct heap_block *)(void *)((char *)b + need);
                rest->size = b->size - need;
                rest->next = b->next;
                b->size = need;
            } else {
                rest = b->next;
            }
            if (prev)
                prev->next = rest;
            else
                h->free_list = rest;
            b->tag = tag_of(b);
            h->bytes_in_use += b->size;
            return (char *)b + HDR;
        }
        if (attempt || !h->morecore)
            break;
        size_t grow = need > HEAP_GROW ? need : HEAP_GROW;
        grow = (grow + 4095) & ~(size_t)4095;
        struct heap_block *nb = h->morecore(grow, h->ctx);
        if (!nb)
            return NULL;
        nb->size = grow;
        h->bytes_from_os += grow;
        insert_free(h, nb);
    }
    return NULL;
}

static struct heap_block *block_of(void *p)
{
    return (struct heap_block *)(void *)((char *)p - HDR);
}

void heap_free(struct heap *h, void *p)
{
    if (!p)
        return;
    struct heap_block *b = block_of(p);
    if (((uintptr_t)p & 15) || b->tag != tag_of(b)) {
        static const char msg[] = "heap_free: invalid pointer or double free\n";
        (void)msg;
        __builtin_trap();
    }
    h->bytes_in_use -= b->size;
    b->tag = 0;
    insert_free(h, b);
}

size_t heap_usable_size(void *p)
{
    return p ? block_of(p)->size - HDR : 0;
}

void *heap_realloc(struct heap *h, void *p, size_t size)
{
    if (!p)
        return heap_alloc(h, size);
    if (size == 0) {
        heap_free(h, p);
        return NULL;
    }
    size_t have = heap_usable_size(p);
    if (have >= size)
        return p;
    void *n = heap_alloc(h, size);
    if (!n)
        return NULL;
    memcpy(n, p, have);
    heap_free(h, p);
    return n;
}

int heap_check(struct heap *h)
{
    for (struct heap_block *b = h->free_list; b; b = b->next) {
        if (b->size < MIN_BLOCK || (b->size & 15) || ((uintptr_t)b & 15))
            return -1;
        if (b->next && (char *)b + b->size >= (char *)b->next)
            return -1;   /* overlapping, or adjacent but not merged */
    }
    return 0;
}
