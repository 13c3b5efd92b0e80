/*
 * xcopy.c — copies between address spaces for IPC, without a whole-message kernel buffer.
 *
 * A send is copied straight from the sender's pages into the receiver's, one chunk at a time
 * (a chunk never crosses a page boundary on either side): both address spaces' locks are held
 * for the chunk (in address order), the two PTEs are looked up, and the bytes move through the
 * kernel's direct map. Holding the locks keeps vm_unmap from taking either page away mid-chunk;
 * between chunks it may, and the next lookup then fails with FAULT. A page that is not there
 * yet (demand paging) or still copy-on-write (a write) is resolved by vm_fault between tries. Neither process has to be
 * the current one, so the thread that completes a match does the copy whoever submitted first.
 */
#include "ipc_internal.h"

HOT static uint64_t lookup_pa(struct vmspace *vm, uint64_t va, bool write)
{
    uint64_t *pte = pte_walk(vm->pml4, va, false);
    /* PCD: a device's registers (mmio_create): never copied through the direct map, which may
     * not even reach them (the copy fails FAULT) */
    if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || (write && !(*pte & PTE_W)) || (*pte & PTE_PCD))
        return 0;
    return (*pte & PTE_ADDR) | (va & 0xfff);
}

static void lock2(struct vmspace *a, struct vmspace *b)
{
    if (a == b) {
        spin_lock(&a->lock);
    } else if ((uintptr_t)a < (uintptr_t)b) {
        spin_lock(&a->lock);
        spin_lock(&b->lock);
    } else {
        spin_lock(&b->lock);
        spin_lock(&a->lock);
    }
}

static void unlock2(struct vmspace *a, struct vmspace *b)
{
    spin_unlock(&a->lock);
    if (a != b)
        spin_unlock(&b->lock);
}

static int64_t xcopy_in(struct vmspace *dv, uint64_t dva, struct vmspace *sv, uint64_t sva, uint64_t len);

HOT int64_t xcopy(struct process *dp, uint64_t dva, struct process *sp, uint64_t sva, uint64_t len)
{
    if (!user_range_ok(dva, len) || !user_range_ok(sva, len))
        return LANES_E_FAULT;
    struct vmspace *dv = vm_get(dp);
    if (!dv)
        return LANES_E_DEAD;
    struct vmspace *sv = vm_get(sp);
    if (!sv) {
        vm_put(dp);
        return LANES_E_DEAD;
    }
    int64_t r = xcopy_in(dv, dva, sv, sva, len);
    vm_put(sp);
    vm_put(dp);
    return r;
}

static int64_t xcopy_in(struct vmspace *dv, uint64_t dva, struct vmspace *sv, uint64_t sva, uint64_t len)
{
    while (len) {
        uint64_t n = MIN(len, PAGE_SIZE - (dva & 0xfff));
        n = MIN(n, PAGE_SIZE - (sva & 0xfff));
        uint64_t dpa = 0, spa = 0;
        for (int tries = 0; tries < 4; tries++) {
            lock2(dv, sv);
            dpa = lookup_pa(dv, dva, true);
            spa = lookup_pa(sv, sva, false);
            if (dpa && spa)
                memcpy(P2V(dpa), P2V(spa), n);
            unlock2(dv, sv);
            if (dpa && spa)
                break;
            /* a page not there yet (demand paging) or copy-on-write: resolve it as the
             * process's own access would, then look again */
            if ((!dpa && vm_fault(dv, dva, 2)) || (!spa && vm_fault(sv, sva, 0)))
                return LANES_E_FAULT;
        }
        if (!dpa || !spa)
            return LANES_E_FAULT;
        dva += n;
        sva += n;
        len -= n;
    }
    return 0;
}

HOT int64_t xread(void *dst, struct process *sp, uint64_t sva, uint64_t len)
{
    if (!user_range_ok(sva, len))
        return LANES_E_FAULT;
    struct vmspace *sv = vm_get(sp);
    if (!sv)
        return LANES_E_DEAD;
    uint8_t *d = dst;
    int64_t r = 0;
    while (len) {
        uint64_t n = MIN(len, PAGE_SIZE - (sva & 0xfff));
        uint64_t spa = 0;
        for (int tries = 0; tries < 4 && !spa; tries++) {
            spin_lock(&sv->lock);
            spa = lookup_pa(sv, sva, false);
            if (spa)
                memcpy(d, P2V(spa), n);
            spin_unlock(&sv->lock);
            if (!spa && vm_fault(sv, sva, 0))
                break;
        }
        if (!spa) {
            r = LANES_E_FAULT;
            break;
        }
        d += n;
        sva += n;
        len -= n;
    }
    vm_put(sp);
    return r;
}
