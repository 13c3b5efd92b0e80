/*
 * memobj.c — memory objects: a list of physical pages that can be mapped into address spaces.
 *
 * A shared object (mem_create, stacks, ELF images) gets its pages (zeroed) when created, so
 * mapping never fails later. An anonymous object (memobj_create_lazy: mem_map without a
 * handle, fork's copies of private regions) starts with none: vm.c fills pages[i] on the first
 * touch (demand paging) and may share a page with another address space after fork (each
 * owner counted by pmm_page_share). Handles and mappings each hold a reference; the pages go
 * back to the allocator (pmm_page_put: once their last owner drops them) with the last one. The initrd is wrapped as a "borrowed"
 * object over the module's pages, which are never freed.
 */
#include <kernel/kernel.h>

static void memobj_destroy(struct kobj *o)
{
    struct memobj *m = container_of(o, struct memobj, obj);
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
        m->pages[i] = pmm_alloc();
        if (!m->pages[i]) {
            kobj_put(&m->obj);
            return NULL;
        }
    }
    return m;
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
