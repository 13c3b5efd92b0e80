/*
 * vm.c — per-process address spaces.
 *
 * An address space is a PML4 (kernel half shared) plus a sorted list of regions, each a
 * window [start, end) onto a memory object at some offset with READ/WRITE/EXEC protection.
 * Unmapping and mprotect may split regions; the PTEs are changed under the lock, then every
 * CPU that has this address space loaded is told to flush (TLB shootdown IPI, waiting for
 * acknowledgement) before pages or object references are dropped, so no CPU can still reach a
 * page that goes back to the allocator.
 *
 * A region is SHARED (a memory object someone holds a handle to: every mapping sees the same
 * pages, across fork too) or PRIVATE (anonymous memory, ELF segments, stacks: the object is
 * this address space's alone). Private memory is
 *   - demand paged: an anonymous object starts without pages (pages[i] == 0); the first touch
 *     faults and vm_fault puts a zeroed page there;
 *   - copy-on-write across fork: vm_clone gives the child its own object over the same
 *     physical pages (pmm_page_share), and both sides lose write access to them. A write
 *     fault on a page that still has another owner copies it; on a page whose other owners
 *     are gone it just makes it writable again.
 * Mapping installs the pages that exist. Faults that are not resolvable (no region, wrong
 * access, out of memory) go back to the caller: from user mode to the supervisor as before,
 * from the user-copy helpers as FAULT. Kernel accesses to user memory through other paths
 * (IPC copies, futex keys, user_check) resolve the same way first (vm_translate, xcopy.c).
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

static volatile uint64_t vm_gens;   /* vmspace.gen values: never one twice, even for a vmspace at a freed one's address */

struct vmspace *vm_create(void)
{
    struct vmspace *vm = kmalloc(sizeof *vm);
    if (!vm)
        return NULL;
    vm->gen = __atomic_add_fetch(&vm_gens, 1, __ATOMIC_SEQ_CST);
    vm->pml4 = pml4_create();
    if (!vm->pml4) {
        kfree(vm);
        return NULL;
    }
    spin_init(&vm->lock, "vmspace");
    return vm;
}

void vm_destroy(struct vmspace *vm)
{
    /* Its page tables go back to the allocator: no CPU may still run on them. The reaper can be
     * a thread of the same process still on its way out (it was preempted in thread_exit and
     * resumed here); another CPU may be running such a thread's last steps: it switches away
     * soon (and clears its bit) without needing anything we hold. */
    pushcli();
    if (this_cpu()->loaded_vm == vm)
        vm_activate(NULL);
    popcli();
    while (__atomic_load_n(&vm->cpumask, __ATOMIC_ACQUIRE))
        pause();
    struct vm_region *r = vm->regions;
    while (r) {
        struct vm_region *n = r->next;
        kobj_put(&r->mo->obj);
        kfree(r);
        r = n;
    }
    pml4_destroy(vm->pml4);
    kfree(vm);
}

/* Address spaces used from other threads (IPC copies): p->vm_refs counts the threads' share
 * (1, dropped by the last thread's reaper after it cleared p->vm) and each user between
 * vm_get and vm_put; the last one destroys it. vm_get returns NULL once p->vm is gone. */
struct vmspace *vm_get(struct process *p)
{
    __atomic_add_fetch(&p->vm_refs, 1, __ATOMIC_SEQ_CST);
    struct vmspace *vm = __atomic_load_n(&p->vm, __ATOMIC_SEQ_CST);
    if (!vm)
        vm_put(p);
    return vm;
}

void vm_put(struct process *p)
{
    if (__atomic_sub_fetch(&p->vm_refs, 1, __ATOMIC_SEQ_CST) == 0) {
        /* An exchange: a vm_get that came after p->vm was cleared can take refs 0 -> 1 -> 0
         * while the last reaper is here too; only one of them gets the address space. */
        struct vmspace *vm = __atomic_exchange_n(&p->vm_final, NULL, __ATOMIC_SEQ_CST);
        if (vm)
            vm_destroy(vm);
    }
}

HOT void vm_activate(struct vmspace *vm)
{
    struct cpu *c = this_cpu();
    if (c->loaded_vm == vm)
        return;
    struct vmspace *old = c->loaded_vm;
    if (old)
        __atomic_and_fetch(&old->cpumask, ~(1ULL << c->id), __ATOMIC_SEQ_CST);
    if (vm)
        __atomic_or_fetch(&vm->cpumask, 1ULL << c->id, __ATOMIC_SEQ_CST);
    mmu_load(vm ? vm->pml4 : kernel_pml4);
    c->loaded_vm = vm;
}


static uint64_t pte_flags(uint32_t prot)
{
    uint64_t f = PTE_P | PTE_U;
    if (prot & LANES_PROT_WRITE)
        f |= PTE_W;
    if (!(prot & LANES_PROT_EXEC) && cpu_has_nx)
        f |= PTE_NX;
    return f;
}

/* What page pa of region r gets: a private page still shared with another owner stays
 * read-only until a write fault copies it. */
static uint64_t region_pte(const struct vm_region *r, uint64_t pa)
{
    uint64_t f = pte_flags(r->prot);
    if (r->priv && (f & PTE_W) && !pmm_page_exclusive(pa))
        f &= ~PTE_W;
    if (r->mo->mmio)
        f |= PTE_PCD | PTE_PWT;     /* a device's registers: uncached (mmio.c) */
    return (pa & PTE_ADDR) | f;
}

static uint64_t *region_slot(const struct vm_region *r, uint64_t va)
{
    return &r->mo->pages[(r->off + (va - r->start)) / PAGE_SIZE];
}

static struct vm_region *find_region(struct vmspace *vm, uint64_t va)
{
    for (struct vm_region *r = vm->regions; r && r->start <= va; r = r->next)
        if (va < r->end)
            return r;
    return NULL;
}

static bool overlaps(struct vmspace *vm, uint64_t s, uint64_t e)
{
    for (struct vm_region *r = vm->regions; r; r = r->next)
        if (r->start < e && s < r->end)
            return true;
    return false;
}

static uint64_t find_free(struct vmspace *vm, uint64_t len)
{
    uint64_t cand = MMAP_BASE;
    for (struct vm_region *r = vm->regions; r; r = r->next) {
        if (r->end <= cand)
            continue;
        if (r->start >= cand + len)
            break;
        cand = r->end;
    }
    return cand + len <= USER_TOP ? cand : 0;
}

static void insert_region(struct vmspace *vm, struct vm_region *r)
{
    struct vm_region **pp = &vm->regions;
    while (*pp && (*pp)->start < r->start)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
}

static int64_t map_ex(struct vmspace *vm, struct memobj *mo, uint64_t hint, uint64_t off, uint64_t len,
                      uint32_t prot, bool priv, uint64_t *out)
{
    if (!len || (off & (PAGE_SIZE - 1)) || (hint & (PAGE_SIZE - 1)) || (prot & ~7u))
        return LANES_E_INVAL;
    if (mo->mmio && (priv || (prot & LANES_PROT_EXEC)))
        return LANES_E_INVAL;       /* device memory is never executed or copied on write */
    len = ALIGN_UP(len, PAGE_SIZE);
    if (len > mo->npages * PAGE_SIZE || off > mo->npages * PAGE_SIZE - len)
        return LANES_E_RANGE;
    struct vm_region *r = kmalloc(sizeof *r);
    if (!r)
        return LANES_E_NOMEM;
    spin_lock(&vm->lock);
    uint64_t addr = hint;
    if (hint) {
        if (!user_range_ok(hint, len)) {
            spin_unlock(&vm->lock);
            kfree(r);
            return LANES_E_INVAL;
        }
        if (overlaps(vm, hint, hint + len)) {
            spin_unlock(&vm->lock);
            kfree(r);
            return LANES_E_EXISTS;
        }
    } else {
        addr = find_free(vm, len);
        if (!addr) {
            spin_unlock(&vm->lock);
            kfree(r);
            return LANES_E_NOMEM;
        }
    }
    r->start = addr;
    r->end = addr + len;
    r->prot = prot;
    r->mo = mo;
    r->off = off;
    r->priv = priv;
    if (prot) {
        for (uint64_t i = 0; i < len; i += PAGE_SIZE) {
            uint64_t pa = mo->pages[(off + i) / PAGE_SIZE];
            if (pa && page_map(vm->pml4, addr + i, pa, region_pte(r, pa) & ~PTE_ADDR)) {
                for (uint64_t j = 0; j < i; j += PAGE_SIZE)
                    page_unmap(vm->pml4, addr + j);
                spin_unlock(&vm->lock);
                kfree(r);
                return LANES_E_NOMEM;
            }
        }
    }
    kobj_get(&mo->obj);
    insert_region(vm, r);
    spin_unlock(&vm->lock);
    *out = addr;
    return 0;
}

/* A shared mapping of mo (someone may hold a handle to it). */
int64_t vm_map(struct vmspace *vm, struct memobj *mo, uint64_t hint, uint64_t off, uint64_t len, uint32_t prot,
               uint64_t *out)
{
    return map_ex(vm, mo, hint, off, len, prot, false, out);
}

/* A private mapping: mo belongs to this address space alone (copy-on-write across fork). */
int64_t vm_map_private(struct vmspace *vm, struct memobj *mo, uint64_t hint, uint64_t off, uint64_t len,
                       uint32_t prot, uint64_t *out)
{
    return map_ex(vm, mo, hint, off, len, prot, true, out);
}

/* A page range of a private object nobody maps any more, to give back after the flush. */
struct released { struct memobj *mo; uint64_t first, n; };

/* Splits the region containing addr (strictly inside) in two, using *spare. Under the lock. */
static int split_at(struct vmspace *vm, uint64_t addr, struct vm_region **spare)
{
    struct vm_region *r = find_region(vm, addr);
    if (!r || r->start == addr)
        return 0;
    if (!*spare)
        return LANES_E_NOMEM;
    struct vm_region *n = *spare;
    *spare = NULL;
    *n = *r;
    n->start = addr;
    n->off = r->off + (addr - r->start);
    kobj_get(&r->mo->obj);
    r->end = addr;
    r->next = n;
    return 0;
}

int64_t vm_unmap(struct vmspace *vm, uint64_t addr, uint64_t len)
{
    if ((addr & (PAGE_SIZE - 1)) || !len)
        return LANES_E_INVAL;
    len = ALIGN_UP(len, PAGE_SIZE);
    if (!user_range_ok(addr, len))
        return LANES_E_INVAL;
    uint64_t s = addr, e = addr + len;
    /* (before anything goes: a futex key cached from now on is checked against the new value) */
    __atomic_store_n(&vm->gen, __atomic_add_fetch(&vm_gens, 1, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
    struct vm_region *dead = NULL;
    struct vm_region *spare[2] = { kmalloc(sizeof(struct vm_region)), kmalloc(sizeof(struct vm_region)) };
    struct released rel[8];
    int nrel = 0;
    int64_t ret = 0;
    spin_lock(&vm->lock);
    /* Split at both ends first (a split changes nothing one can see), then drop whole regions. */
    ret = split_at(vm, s, &spare[0]);
    if (!ret)
        ret = split_at(vm, e, &spare[1]);
    struct vm_region **pp = &vm->regions;
    while (!ret && *pp) {
        struct vm_region *r = *pp;
        if (r->end <= s || r->start >= e) {
            pp = &r->next;
            continue;
        }
        for (uint64_t a = r->start; a < r->end; a += PAGE_SIZE)
            page_unmap(vm->pml4, a);
        /* the pages of a private object's window go back once flushed (no other region of
         * this address space maps the same window: private objects are only ever split) */
        if (r->priv && nrel < (int)ARRAY_SIZE(rel)) {
            kobj_get(&r->mo->obj);
            rel[nrel++] = (struct released){ r->mo, r->off / PAGE_SIZE, (r->end - r->start) / PAGE_SIZE };
        }
        *pp = r->next;
        r->next = dead;
        dead = r;
    }
    spin_unlock(&vm->lock);
    kfree(spare[0]);
    kfree(spare[1]);
    tlb_shootdown(vm, s, len);
    for (int i = 0; i < nrel; i++) {
        /* the object's lock is this address space's; it is out of every region's reach now */
        spin_lock(&vm->lock);
        uint64_t pages[16];
        for (uint64_t k = 0; k < rel[i].n;) {
            int got = 0;
            for (; k < rel[i].n && got < 16; k++) {
                uint64_t *slot = &rel[i].mo->pages[rel[i].first + k];
                if (*slot) {
                    pages[got++] = *slot;
                    *slot = 0;
                }
            }
            spin_unlock(&vm->lock);
            for (int g = 0; g < got; g++)
                pmm_page_put(pages[g]);
            spin_lock(&vm->lock);
        }
        spin_unlock(&vm->lock);
        kobj_put(&rel[i].mo->obj);
    }
    while (dead) {
        struct vm_region *n = dead->next;
        kobj_put(&dead->mo->obj);
        kfree(dead);
        dead = n;
    }
    return ret;
}

/* mprotect: every page of [addr, addr+len) must be mapped (NOMEM otherwise, as Linux's
 * ENOMEM); regions are split at the ends and take the new protection; present pages get new
 * PTEs (a copy-on-write page stays read-only) and every CPU flushes. */
int64_t vm_protect(struct vmspace *vm, uint64_t addr, uint64_t len, uint32_t prot)
{
    if ((addr & (PAGE_SIZE - 1)) || !len || (prot & ~7u))
        return LANES_E_INVAL;
    len = ALIGN_UP(len, PAGE_SIZE);
    if (!user_range_ok(addr, len))
        return LANES_E_NOMEM;
    uint64_t s = addr, e = addr + len;
    struct vm_region *spare[2] = { kmalloc(sizeof(struct vm_region)), kmalloc(sizeof(struct vm_region)) };
    int64_t ret = 0;
    spin_lock(&vm->lock);
    for (uint64_t a = s; a < e;) {
        struct vm_region *r = find_region(vm, a);
        if (!r) {
            ret = LANES_E_NOMEM;
            break;
        }
        if (r->mo->mmio && (prot & LANES_PROT_EXEC)) {
            ret = LANES_E_INVAL;    /* device memory is never executed (mmio.c) */
            break;
        }
        a = r->end;
    }
    if (!ret)
        ret = split_at(vm, s, &spare[0]);
    if (!ret)
        ret = split_at(vm, e, &spare[1]);
    for (struct vm_region *r = vm->regions; !ret && r; r = r->next) {
        if (r->end <= s || r->start >= e)
            continue;
        r->prot = prot;
        for (uint64_t a = r->start; a < r->end; a += PAGE_SIZE) {
            uint64_t pa = *region_slot(r, a);
            if (!pa)
                continue;
            if (!prot) {
                page_unmap(vm->pml4, a);
                continue;
            }
            if (page_map(vm->pml4, a, pa, region_pte(r, pa) & ~PTE_ADDR)) {
                ret = LANES_E_NOMEM;
                break;
            }
        }
    }
    spin_unlock(&vm->lock);
    kfree(spare[0]);
    kfree(spare[1]);
    tlb_shootdown(vm, s, len);
    return ret;
}

/*
 * Resolves a fault at va: access is the x86 page-fault error code's bits (2 write, 0x10
 * instruction fetch). Returns 0 when the access can be retried, FAULT when it is not allowed
 * (no region, wrong protection), NOMEM when a page could not be had.
 */
int64_t vm_fault(struct vmspace *vm, uint64_t va, uint64_t access)
{
    bool write = access & 2, exec = access & 0x10;
    if (!vm || va >= USER_TOP)
        return LANES_E_FAULT;
    va = ALIGN_DOWN(va, PAGE_SIZE);
    uint64_t old = 0;
    int64_t ret = 0;
    spin_lock(&vm->lock);
    struct vm_region *r = find_region(vm, va);
    if (!r || !r->prot || (write && !(r->prot & LANES_PROT_WRITE)) || (exec && !(r->prot & LANES_PROT_EXEC))) {
        spin_unlock(&vm->lock);
        return LANES_E_FAULT;
    }
    uint64_t *slot = region_slot(r, va);
    uint64_t *pte = pte_walk(vm->pml4, va, true);
    if (!pte) {
        spin_unlock(&vm->lock);
        return LANES_E_NOMEM;
    }
    if (!*slot) {
        /* demand paging: the first touch of an anonymous page */
        uint64_t pa = pmm_alloc_user();
        if (!pa)
            ret = LANES_E_NOMEM;
        else {
            *slot = pa;
            *pte = region_pte(r, pa);
        }
    } else if ((*pte & PTE_P) && (*pte & PTE_ADDR) == *slot) {
        if (write && !(*pte & PTE_W)) {
            uint64_t others = __atomic_load_n(&vm->cpumask, __ATOMIC_SEQ_CST) & ~(1ULL << this_cpu()->id);
            if (r->priv && !pmm_page_exclusive(*slot) && others && this_cpu()->ncli > 1) {
                /* the copy needs the other CPUs to flush, which needs interrupts on here: a
                 * user-copy helper under a spinlock (its callers resolve before locking) */
                ret = LANES_E_FAULT;
            } else if (r->priv && !pmm_page_exclusive(*slot)) {
                /* copy-on-write: our own copy; the old page keeps its other owners */
                uint64_t pa = pmm_alloc_user();
                if (!pa)
                    ret = LANES_E_NOMEM;
                else {
                    memcpy(P2V(pa), P2V(*slot), PAGE_SIZE);
                    old = *slot;
                    *slot = pa;
                    *pte = region_pte(r, pa);
                }
            } else {
                *pte = region_pte(r, *slot);
                tlb_flush_page(va);
            }
        } else if (exec && (*pte & PTE_NX)) {
            ret = LANES_E_FAULT;
        } else {
            tlb_flush_page(va);     /* a stale entry on this CPU (another CPU changed the PTE) */
        }
    } else {
        *pte = region_pte(r, *slot);
    }
    spin_unlock(&vm->lock);
    if (old) {
        /* other CPUs may still reach the old page through this address space: flush first */
        tlb_shootdown(vm, va, PAGE_SIZE);
        pmm_page_put(old);
        trace_emit_cow_fault(current() ? current()->proc->pid : 0, 1, va, old);
    }
    return ret;
}

/*
 * fork: dst (fresh, empty) gets every region of src. Shared regions map the same object;
 * private ones get an object of their own over the same pages, each page one owner more,
 * and src loses write access to them (both sides copy on their next write). src's CPUs
 * flush afterwards.
 */
int64_t vm_clone(struct vmspace *src, struct vmspace *dst)
{
    int64_t ret = 0;
    spin_lock(&src->lock);
    struct vm_region *tail = NULL;
    for (struct vm_region *r = src->regions; r && !ret; r = r->next) {
        struct vm_region *n = kmalloc(sizeof *n);
        struct memobj *mo = r->priv ? memobj_create_lazy((r->end - r->start) / PAGE_SIZE) : r->mo;
        if (!n || !mo) {
            kfree(n);
            ret = LANES_E_NOMEM;
            break;
        }
        *n = *r;
        n->next = NULL;
        if (r->priv) {
            n->mo = mo;
            n->off = 0;
        } else {
            kobj_get(&mo->obj);
        }
        /* dst is not visible to anyone yet: its list needs no lock */
        if (tail)
            tail->next = n;
        else
            dst->regions = n;
        tail = n;
        for (uint64_t a = r->start; a < r->end; a += PAGE_SIZE) {
            uint64_t pa = *region_slot(r, a);
            if (!pa)
                continue;
            if (r->priv) {
                pmm_page_share(pa);
                mo->pages[(a - r->start) / PAGE_SIZE] = pa;
                uint64_t *pte = pte_walk(src->pml4, a, false);
                if (pte && (*pte & PTE_P))
                    *pte &= ~PTE_W;
            }
            if (r->prot && page_map(dst->pml4, a, pa, region_pte(n, pa) & ~PTE_ADDR)) {
                ret = LANES_E_NOMEM;
                break;
            }
        }
    }
    spin_unlock(&src->lock);
    tlb_shootdown(src, 0, 0);
    return ret;     /* on failure the caller destroys dst, which drops what it got */
}

/* Physical address behind a user virtual address, if mapped with the needed access; a page
 * not there yet (demand paging) or still shared (copy-on-write, for a write) is resolved
 * first, as the access itself would. */
uint64_t vm_translate(struct vmspace *vm, uint64_t va, bool write)
{
    for (int tries = 0; tries < 3; tries++) {
        spin_lock(&vm->lock);
        uint64_t *pte = pte_walk(vm->pml4, va, false);
        uint64_t pa = 0;
        if (pte && (*pte & PTE_P) && (*pte & PTE_U) && (!write || (*pte & PTE_W)))
            pa = (*pte & PTE_ADDR) | (va & 0xfff);
        spin_unlock(&vm->lock);
        if (pa)
            return pa;
        if (vm_fault(vm, va, write ? 2 : 0))
            return 0;
    }
    return 0;
}

/* 1 if va lies in a private region, 0 in a shared one, -1 in none (futex.c's keys). */
int vm_is_private(struct vmspace *vm, uint64_t va)
{
    spin_lock(&vm->lock);
    struct vm_region *r = find_region(vm, va);
    int ret = r ? r->priv : -1;
    spin_unlock(&vm->lock);
    return ret;
}

bool vm_check_exec(struct vmspace *vm, uint64_t va)
{
    if (!vm_translate(vm, va, false))
        return false;
    spin_lock(&vm->lock);
    uint64_t *pte = pte_walk(vm->pml4, va, false);
    bool ok = pte && (*pte & PTE_P) && (*pte & PTE_U) && !(*pte & PTE_NX);
    spin_unlock(&vm->lock);
    return ok;
}

/* ---- TLB shootdown ---- */

static void flush_local(uint64_t addr, uint64_t len)
{
    if (!len || len > 64 * PAGE_SIZE) {
        tlb_flush_all();
        return;
    }
    for (uint64_t a = addr; a < addr + len; a += PAGE_SIZE)
        tlb_flush_page(a);
}

static struct spinlock tlb_lock = SPINLOCK_INIT("tlb");

/* Remote CPUs always flush everything: concurrent requests can then never lose a range. */
void tlb_ipi_handler(void)
{
    struct cpu *c = this_cpu();
    uint64_t req = __atomic_load_n(&c->tlb_req, __ATOMIC_ACQUIRE);
    tlb_flush_all();
    __atomic_store_n(&c->tlb_ack, req, __ATOMIC_RELEASE);
}

void tlb_shootdown(struct vmspace *vm, uint64_t addr, uint64_t len)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    pushcli();
    struct cpu *self = this_cpu();
    if (self->loaded_vm == vm)
        flush_local(addr, len);
    uint64_t mask = __atomic_load_n(&vm->cpumask, __ATOMIC_SEQ_CST) & ~(1ULL << self->id);
    popcli();
    if (!mask)
        return;
    /* One shootdown at a time; we wait with interrupts on so we can serve others' IPIs. */
    spin_lock(&tlb_lock);
    uint64_t want[MAX_CPUS];
    for (uint32_t i = 0; i < ncpus; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        struct cpu *c = cpus[i];
        c->tlb_addr = addr;
        c->tlb_len = len;
        want[i] = __atomic_add_fetch(&c->tlb_req, 1, __ATOMIC_SEQ_CST);
        lapic_send_ipi(c->apic_id, VEC_TLB);
    }
    spin_unlock(&tlb_lock);
    for (uint32_t i = 0; i < ncpus; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        while (__atomic_load_n(&cpus[i]->tlb_ack, __ATOMIC_ACQUIRE) < want[i])
            pause();
    }
}

/* Copies n bytes at va of vm into dst (kernel memory), under the lock so no page can go back
 * to the allocator meanwhile (sys_inspect.c reads other processes this way). Returns 0, or
 * FAULT at the first page that is not mapped. */
int64_t vm_read(struct vmspace *vm, uint64_t va, void *dst, size_t n)
{
    uint8_t *d = dst;
    spin_lock(&vm->lock);
    while (n) {
        uint64_t *pte = va < USER_TOP ? pte_walk(vm->pml4, va, false) : NULL;
        /* PCD: a device's registers (mmio.c), which the direct map may not even reach */
        if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || (*pte & PTE_PCD)) {
            spin_unlock(&vm->lock);
            return LANES_E_FAULT;
        }
        size_t chunk = MIN(n, PAGE_SIZE - (va & 0xfff));
        memcpy(d, (uint8_t *)P2V((*pte & PTE_ADDR) | (va & 0xfff)), chunk);
        d += chunk;
        va += chunk;
        n -= chunk;
    }
    spin_unlock(&vm->lock);
    return 0;
}
