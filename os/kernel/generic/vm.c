/*
 * vm.c — per-process address spaces.
 *
 * An address space is a PML4 (kernel half shared) plus a sorted list of regions, each a
 * window [start, end) onto a memory object at some offset with READ/WRITE/EXEC protection.
 * Mapping installs every page at once. Unmapping may split regions; the PTEs are cleared under
 * the lock, then every CPU that has this address space loaded is told to flush (TLB
 * shootdown IPI, waiting for acknowledgement) before the object references are dropped, so
 * no CPU can still reach a page that goes back to the allocator.
 */
#include <kernel/kernel.h>

struct vmspace *vm_create(void)
{
    struct vmspace *vm = kmalloc(sizeof *vm);
    if (!vm)
        return NULL;
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

void vm_activate(struct vmspace *vm)
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

int64_t vm_map(struct vmspace *vm, struct memobj *mo, uint64_t hint, uint64_t off, uint64_t len, uint32_t prot,
               uint64_t *out)
{
    if (!len || (off & (PAGE_SIZE - 1)) || (hint & (PAGE_SIZE - 1)) || (prot & ~7u))
        return LANES_E_INVAL;
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
    if (prot) {
        for (uint64_t i = 0; i < len; i += PAGE_SIZE) {
            if (page_map(vm->pml4, addr + i, mo->pages[(off + i) / PAGE_SIZE], pte_flags(prot))) {
                for (uint64_t j = 0; j < i; j += PAGE_SIZE)
                    page_unmap(vm->pml4, addr + j);
                spin_unlock(&vm->lock);
                kfree(r);
                return LANES_E_NOMEM;
            }
        }
    }
    kobj_get(&mo->obj);
    r->start = addr;
    r->end = addr + len;
    r->prot = prot;
    r->mo = mo;
    r->off = off;
    struct vm_region **pp = &vm->regions;
    while (*pp && (*pp)->start < addr)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
    spin_unlock(&vm->lock);
    *out = addr;
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
    struct vm_region *dead = NULL, *split = NULL;
    int64_t ret = 0;
    spin_lock(&vm->lock);
    if (s < e) {
        split = kmalloc(sizeof *split);     /* at most one region can be split in two */
    }
    struct vm_region **pp = &vm->regions;
    while (*pp) {
        struct vm_region *r = *pp;
        if (r->end <= s || r->start >= e) {
            pp = &r->next;
            continue;
        }
        uint64_t us = MAX(r->start, s), ue = MIN(r->end, e);
        for (uint64_t a = us; a < ue; a += PAGE_SIZE)
            page_unmap(vm->pml4, a);
        if (us == r->start && ue == r->end) {
            *pp = r->next;
            r->next = dead;
            dead = r;
            continue;
        }
        if (us == r->start) {
            r->off += ue - r->start;
            r->start = ue;
        } else if (ue == r->end) {
            r->end = us;
        } else {
            if (!split) {
                ret = LANES_E_NOMEM;
                break;
            }
            *split = *r;
            split->start = ue;
            split->off = r->off + (ue - r->start);
            kobj_get(&r->mo->obj);
            r->end = us;
            split->next = r->next;
            r->next = split;
            split = NULL;
        }
        pp = &r->next;
    }
    spin_unlock(&vm->lock);
    kfree(split);
    tlb_shootdown(vm, s, len);
    while (dead) {
        struct vm_region *n = dead->next;
        kobj_put(&dead->mo->obj);
        kfree(dead);
        dead = n;
    }
    return ret;
}

/* Physical address behind a user virtual address, if mapped with the needed access. */
uint64_t vm_translate(struct vmspace *vm, uint64_t va, bool write)
{
    spin_lock(&vm->lock);
    uint64_t *pte = pte_walk(vm->pml4, va, false);
    uint64_t pa = 0;
    if (pte && (*pte & PTE_P) && (*pte & PTE_U) && (!write || (*pte & PTE_W)))
        pa = (*pte & PTE_ADDR) | (va & 0xfff);
    spin_unlock(&vm->lock);
    return pa;
}

bool vm_check_exec(struct vmspace *vm, uint64_t va)
{
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
        if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U)) {
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
