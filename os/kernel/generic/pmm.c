/*
 * pmm.c — physical page allocator: one bit per 4 KiB page.
 *
 * Built from the boot memory map: every page of usable RAM starts free except the first MiB
 * (BIOS data, the AP trampoline at 0x8000), the kernel image (including .bss and .ksyms) and
 * the initrd. Allocation scans from a moving hint; pages come back zeroed through the direct
 * map. Up to 64 GiB of RAM is managed (the bitmap lives in .bss).
 *
 * Pages of private (copy-on-write) memory can have several owners after a fork: `extra`
 * counts the owners beyond the first, one 32-bit word per page, allocated at boot. A fresh
 * page has none; pmm_page_share adds one, pmm_page_put drops one and frees the page with the
 * last. Only pages that were shared ever have a non-zero count.
 *
 * Pages of user memory (a memory object's, eagerly or on first touch, and copy-on-write copies)
 * come from pmm_alloc_user and go back through pmm_page_put: `nuser` counts them
 * (/sys/kernel/mm/user), so a leak check can tell memory the kernel keeps from pages a live
 * process has touched for the first time (a server's stack or heap growing by a page).
 */
#include <kernel/kernel.h>
#include <kernel/sysfs.h>

#define MAX_PAGES (64ULL * 1024 * 1024 * 1024 / PAGE_SIZE)
static uint64_t bitmap[MAX_PAGES / 64];    /* 1 = used */
static uint64_t npages, nfree, ntotal, hint;
static uint32_t *extra;                    /* owners beyond the first, per page (see above) */
static struct spinlock pmm_lock = SPINLOCK_INIT("pmm");
extern char __kernel_phys_start[], __kernel_end[];

static void set_used(uint64_t pfn) { bitmap[pfn / 64] |= 1ULL << (pfn % 64); }
static void set_free(uint64_t pfn) { bitmap[pfn / 64] &= ~(1ULL << (pfn % 64)); }
static bool is_used(uint64_t pfn) { return bitmap[pfn / 64] & (1ULL << (pfn % 64)); }

static void reserve(uint64_t base, uint64_t len)
{
    for (uint64_t pfn = base / PAGE_SIZE; pfn < ALIGN_UP(base + len, PAGE_SIZE) / PAGE_SIZE && pfn < npages; pfn++) {
        if (!is_used(pfn)) {
            set_used(pfn);
            nfree--;
        }
    }
}

void pmm_init(void)
{
    memset(bitmap, 0xff, sizeof bitmap);
    for (int i = 0; i < boot.nram; i++) {
        uint64_t s = ALIGN_UP(boot.ram[i].base, PAGE_SIZE);
        uint64_t e = ALIGN_DOWN(boot.ram[i].base + boot.ram[i].len, PAGE_SIZE);
        if (e > MAX_PAGES * PAGE_SIZE) {
            pr_warn("pmm: ignoring RAM above 64 GiB");
            e = MAX_PAGES * PAGE_SIZE;
        }
        for (uint64_t a = s; a < e; a += PAGE_SIZE) {
            uint64_t pfn = a / PAGE_SIZE;
            if (is_used(pfn)) {
                set_free(pfn);
                nfree++;
                ntotal++;
            }
            if (pfn + 1 > npages)
                npages = pfn + 1;
        }
    }
    reserve(0, 0x100000);
    reserve((uint64_t)__kernel_phys_start, V2P(__kernel_end) - (uint64_t)__kernel_phys_start);
    if (boot.initrd_len)
        reserve(boot.initrd_phys, boot.initrd_len);
    hint = 0;
    uint64_t ebytes = ALIGN_UP(npages * sizeof(uint32_t), PAGE_SIZE);
    uint64_t epa = pmm_alloc_contig(ebytes / PAGE_SIZE);
    if (!epa)
        panic("pmm: no %lu KiB for page share counts", ebytes >> 10);
    extra = P2V(epa);
    pr_info("pmm: %lu MiB usable, %lu MiB free, highest page 0x%lx",
            ntotal * PAGE_SIZE >> 20, nfree * PAGE_SIZE >> 20, npages * PAGE_SIZE);
}

uint64_t pmm_alloc_contig(size_t n)
{
    if (!n)
        return 0;
    spin_lock(&pmm_lock);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t start = pass == 0 ? hint : 0, end = pass == 0 ? npages : hint + n;
        uint64_t run = 0;
        for (uint64_t pfn = start; pfn < end && pfn < npages; pfn++) {
            if (run == 0 && n == 1 && (pfn % 64) == 0 && bitmap[pfn / 64] == ~0ULL) {
                pfn += 63;
                continue;
            }
            if (is_used(pfn)) {
                run = 0;
                continue;
            }
            if (++run == n) {
                uint64_t first = pfn + 1 - n;
                for (uint64_t p = first; p <= pfn; p++)
                    set_used(p);
                nfree -= n;
                hint = pfn + 1;
                spin_unlock(&pmm_lock);
                memset(P2V(first * PAGE_SIZE), 0, n * PAGE_SIZE);
                return first * PAGE_SIZE;
            }
        }
    }
    spin_unlock(&pmm_lock);
    return 0;
}

uint64_t pmm_alloc(void)
{
    return pmm_alloc_contig(1);
}

static volatile uint64_t nuser;

uint64_t pmm_alloc_user(void)
{
    uint64_t pa = pmm_alloc_contig(1);
    if (pa)
        __atomic_add_fetch(&nuser, 1, __ATOMIC_RELAXED);
    return pa;
}

uint64_t pmm_user_bytes(void) { return __atomic_load_n(&nuser, __ATOMIC_RELAXED) * PAGE_SIZE; }

void pmm_free_contig(uint64_t pa, size_t n)
{
    spin_lock(&pmm_lock);
    for (size_t i = 0; i < n; i++) {
        uint64_t pfn = pa / PAGE_SIZE + i;
        if (pfn >= npages || !is_used(pfn))
            panic("pmm_free: page 0x%lx is not allocated", pfn * PAGE_SIZE);
        set_free(pfn);
        nfree++;
    }
    spin_unlock(&pmm_lock);
}

void pmm_free(uint64_t pa)
{
    pmm_free_contig(pa, 1);
}

void pmm_page_share(uint64_t pa)
{
    __atomic_add_fetch(&extra[pa / PAGE_SIZE], 1, __ATOMIC_SEQ_CST);
}

/* Drops one owner; the last frees the page. */
void pmm_page_put(uint64_t pa)
{
    uint32_t *e = &extra[pa / PAGE_SIZE];
    uint32_t v = __atomic_load_n(e, __ATOMIC_SEQ_CST);
    while (v) {
        if (__atomic_compare_exchange_n(e, &v, v - 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return;
    }
    __atomic_sub_fetch(&nuser, 1, __ATOMIC_RELAXED);
    pmm_free(pa);
}

/* True if nobody else owns the page (a copy-on-write fault may then just make it writable). */
bool pmm_page_exclusive(uint64_t pa)
{
    return __atomic_load_n(&extra[pa / PAGE_SIZE], __ATOMIC_SEQ_CST) == 0;
}

uint64_t pmm_total_bytes(void) { return ntotal * PAGE_SIZE; }
uint64_t pmm_top(void) { return npages * PAGE_SIZE; }
uint64_t pmm_free_bytes(void) { return nfree * PAGE_SIZE; }

/* ---- /sys/kernel/mm ---- */

#define MM_DELTA (1024 * 1024)

static size_t show_mm_total(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%lu\n", pmm_total_bytes());
}

static size_t show_mm_free(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%lu\n", pmm_free_bytes());
}

static size_t show_mm_user(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%lu\n", pmm_user_bytes());
}

static size_t show_mm_heap_cached(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%lu\n", heap_cached_bytes());
}

/* heap_cached: bytes kmalloc keeps on its free lists (heap.c); free + heap_cached comes back to
 * where it was when everything allocated is freed, which is what os/programs/fuzz checks. user:
 * bytes of user memory pages (pmm_alloc_user; fuzz counts them apart from what the kernel keeps). */
static const struct sysfs_attr mm_attrs[] = {
    { "total", show_mm_total, NULL },
    { "free", show_mm_free, NULL },
    { "heap_cached", show_mm_heap_cached, NULL },
    { "user", show_mm_user, NULL },
};

static struct sysfs_node *mm_node;
static uint64_t mm_last_free;

static void mm_sysfs_init(void)
{
    mm_node = sysfs_add("/sys/kernel/mm", mm_attrs, ARRAY_SIZE(mm_attrs), NULL);
    mm_last_free = pmm_free_bytes();
}

/* free memory when it moved by MM_DELTA, at most once a second */
static void mm_sysfs_sample(uint64_t now)
{
    static uint64_t last_slow;
    if (now - last_slow < 1000000000ULL)
        return;
    last_slow = now;
    uint64_t fr = pmm_free_bytes();
    if (fr > mm_last_free + MM_DELTA || fr + MM_DELTA < mm_last_free) {
        mm_last_free = fr;
        sysfs_changed(mm_node, "free");
    }
}
SYSFS_PROVIDER(40, mm, mm_sysfs_init, mm_sysfs_sample);
