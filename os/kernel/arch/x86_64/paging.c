/*
 * paging.c — 4-level page tables.
 *
 * The kernel's PML4 maps (all with 2 MiB pages):
 *   0xffff800000000000 + pa   direct map of all RAM and the first 4 GiB (MMIO there uncached)
 *   0xffffffff80000000 + pa   the kernel image window (first 1 GiB)
 *   0xffffc00000000000        the trace rings' ivshmem BAR, write-back (trace_ivshmem.c)
 *   0 + pa                    identity map, only while the APs start; dropped afterwards
 * A process's PML4 shares the kernel half (entries 256..511, never changed after boot) and
 * owns its lower half, whose tables are created on demand and freed with the address space.
 */
#include <kernel/kernel.h>

HOT_DATA uint64_t kernel_pml4;

static uint64_t *table(uint64_t pa) { return P2V(pa & PTE_ADDR); }

static uint64_t *next_level(uint64_t *t, int idx, bool alloc, bool user)
{
    if (!(t[idx] & PTE_P)) {
        if (!alloc)
            return NULL;
        uint64_t pa = pmm_alloc();
        if (!pa)
            return NULL;
        t[idx] = pa | PTE_P | PTE_W | (user ? PTE_U : 0);
    }
    if (t[idx] & PTE_PS)
        return NULL;
    return table(t[idx]);
}

uint64_t *pte_walk(uint64_t pml4, uint64_t va, bool alloc)
{
    bool user = va < USER_TOP;
    uint64_t *t = table(pml4);
    t = next_level(t, (va >> 39) & 511, alloc, user);
    if (!t)
        return NULL;
    t = next_level(t, (va >> 30) & 511, alloc, user);
    if (!t)
        return NULL;
    t = next_level(t, (va >> 21) & 511, alloc, user);
    if (!t)
        return NULL;
    return &t[(va >> 12) & 511];
}

int page_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pte = pte_walk(pml4, va, true);
    if (!pte)
        return LANES_E_NOMEM;
    *pte = (pa & PTE_ADDR) | flags | PTE_P;
    return 0;
}

uint64_t page_unmap(uint64_t pml4, uint64_t va)
{
    uint64_t *pte = pte_walk(pml4, va, false);
    if (!pte)
        return 0;
    uint64_t old = *pte;
    *pte = 0;
    return old;
}

uint64_t page_translate(uint64_t pml4, uint64_t va)
{
    uint64_t *pte = pte_walk(pml4, va, false);
    if (!pte || !(*pte & PTE_P))
        return 0;
    return (*pte & PTE_ADDR) | (va & 0xfff);
}

static void map_2m(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pdpt = next_level(pml4, (va >> 39) & 511, true, false);
    uint64_t *pd = next_level(pdpt, (va >> 30) & 511, true, false);
    if (!pd)
        panic("paging: out of memory for kernel tables");
    pd[(va >> 21) & 511] = pa | flags | PTE_P | PTE_W | PTE_PS;
}

void paging_init(uint64_t max_phys)
{
    kernel_pml4 = pmm_alloc();
    uint64_t *pml4 = table(kernel_pml4);
    uint64_t top = MAX(ALIGN_UP(max_phys, 1ULL << 30), 4ULL << 30);
    for (uint64_t pa = 0; pa < top; pa += 2ULL << 20) {
        uint64_t flags = PTE_G;
        if (pa >= (3ULL << 30) && pa < (4ULL << 30) && pa >= max_phys)
            flags |= PTE_PCD | PTE_PWT;
        map_2m(pml4, DIRECT_MAP + pa, pa, flags);
    }
    for (uint64_t pa = 0; pa < (1ULL << 30); pa += 2ULL << 20)
        map_2m(pml4, KERNEL_VMA + pa, pa, PTE_G);
    pml4[0] = pml4[256];                /* identity (shares the direct map's tables) */
    write_cr3(kernel_pml4);
    pr_info("paging: kernel PML4 at 0x%lx, direct map of %lu MiB", kernel_pml4, top >> 20);
}

void paging_drop_identity(void)
{
    table(kernel_pml4)[0] = 0;
    write_cr3(read_cr3());
}

uint64_t pml4_create(void)
{
    uint64_t pa = pmm_alloc();
    if (!pa)
        return 0;
    uint64_t *n = table(pa), *k = table(kernel_pml4);
    for (int i = 256; i < 512; i++)
        n[i] = k[i];
    return pa;
}

/* Frees the tables below entries [0, n) of table t at level (4 = PML4). A process's tables are
 * nearly empty (a few PDs and PTs), so eight entries are looked at together first: at every exit
 * and exec this scan of thousands of empty entries was a tenth of a fork+exec. */
static void free_below(const uint64_t *t, int n, int level)
{
    for (int i = 0; i < n; i += 8) {
        if (!(t[i] | t[i + 1] | t[i + 2] | t[i + 3] | t[i + 4] | t[i + 5] | t[i + 6] | t[i + 7]))
            continue;
        for (int j = i; j < i + 8; j++) {
            if (!(t[j] & PTE_P) || (t[j] & PTE_PS))
                continue;
            if (level > 2)
                free_below(table(t[j] & PTE_ADDR), 512, level - 1);
            pmm_free(t[j] & PTE_ADDR);
        }
    }
}

void pml4_destroy(uint64_t pml4)
{
    free_below(table(pml4), 256, 4);
    pmm_free(pml4);
}
