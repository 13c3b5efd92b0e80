/* malloc.c — malloc/free/calloc/realloc: heap.c's allocator over anonymous mem_map memory,
 * serialised by a futex mutex so threads may allocate concurrently.
 */
#include <lanes.h>
#include <stdlib.h>
#include <string.h>

static struct heap heap;
static int heap_ready;
static lanes_mutex_t heap_lock = LANES_MUTEX_INIT;

static void *morecore(size_t bytes, void *ctx)
{
    (void)ctx;
    int64_t a = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, bytes, LANES_PROT_READ | LANES_PROT_WRITE);
    return a < 0 ? NULL : (void *)(uintptr_t)a;
}

static void lock(void)
{
    lanes_mutex_lock(&heap_lock);
    if (!heap_ready) {
        heap_init(&heap, morecore, NULL);
        heap_ready = 1;
    }
}

void *malloc(size_t size)
{
    lock();
    void *p = heap_alloc(&heap, size);
    lanes_mutex_unlock(&heap_lock);
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    lock();
    heap_free(&heap, p);
    lanes_mutex_unlock(&heap_lock);
}

void *calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    void *p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *realloc(void *p, size_t size)
{
    lock();
    void *r = heap_realloc(&heap, p, size);
    lanes_mutex_unlock(&heap_lock);
    return r;
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}
