/*
 * trace_ivshmem.c — the shared-memory trace transport: QEMU's ivshmem-plain device.
 *
 *   qemu ... -object memory-backend-file,id=tr,share=on,mem-path=/dev/shm/F,size=16M
 *            -device ivshmem-plain,memdev=tr
 *
 * The device (PCI 1af4:1110) is found by scanning bus 0 through configuration mechanism #1
 * (ports 0xcf8/0xcfc); BAR2 (64-bit, prefetchable) is the shared memory, which the host sees as
 * the file F. Layout (struct trace_shm in kernel/trace.h, read by debugger/node/trace/shm.ts):
 *
 *   0x0000  header: magic "LTSH", version, data_off, data_size, write_pos, read_pos, lost, ...
 *   0x1000  data: a byte ring of data_size (a power of two) holding trace records exactly as
 *           in the per-CPU rings; a padding record (type 0) where a record would wrap.
 *
 * The kernel writes records and then publishes write_pos; the host reads [read_pos, write_pos)
 * and publishes read_pos. Nothing traps to the hypervisor per event: the host polls the file.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

struct trace_shm *trace_shm;
static uint8_t *shm_data;
static uint64_t shm_size;

static uint32_t pci_read32(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off)
{
    uint32_t addr = 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (off & 0xfc);
    __asm__ volatile("outl %0, %1" :: "a"(addr), "Nd"((uint16_t)0xcf8));
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)0xcfc));
    return v;
}

static void pci_write32(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off, uint32_t v)
{
    uint32_t addr = 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (off & 0xfc);
    __asm__ volatile("outl %0, %1" :: "a"(addr), "Nd"((uint16_t)0xcf8));
    __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"((uint16_t)0xcfc));
}

static uint64_t bar_size(uint32_t dev, uint32_t off, bool is64)
{
    uint32_t lo = pci_read32(0, dev, 0, off), hi = is64 ? pci_read32(0, dev, 0, off + 4) : 0;
    pci_write32(0, dev, 0, off, 0xffffffffu);
    if (is64)
        pci_write32(0, dev, 0, off + 4, 0xffffffffu);
    uint64_t m = (pci_read32(0, dev, 0, off) & ~0xfull) | (is64 ? (uint64_t)pci_read32(0, dev, 0, off + 4) << 32 : 0xffffffff00000000ull);
    pci_write32(0, dev, 0, off, lo);
    if (is64)
        pci_write32(0, dev, 0, off + 4, hi);
    return ~m + 1;
}

static void *map_bar(uint64_t pa, uint64_t len)
{
    if (pa + len <= (4ULL << 30))
        return P2V(pa);     /* the direct map covers the first 4 GiB */
    for (uint64_t o = 0; o < len; o += PAGE_SIZE)
        if (page_map(kernel_pml4, (uint64_t)P2V(pa + o), pa + o, PTE_W | PTE_G | (cpu_has_nx ? PTE_NX : 0)))
            return NULL;
    return P2V(pa);
}

bool trace_ivshmem_probe(void)
{
    for (uint32_t dev = 0; dev < 32; dev++) {
        uint32_t id = pci_read32(0, dev, 0, 0);
        if (id != ((0x1110u << 16) | 0x1af4u))
            continue;
        uint32_t cmd = pci_read32(0, dev, 0, 4);
        pci_write32(0, dev, 0, 4, (cmd & ~0x7u) & 0xffff);     /* decoding off while sizing */
        uint32_t b2 = pci_read32(0, dev, 0, 0x18);
        bool is64 = (b2 & 0x6) == 0x4;
        uint64_t pa = (b2 & ~0xfull) | (is64 ? (uint64_t)pci_read32(0, dev, 0, 0x1c) << 32 : 0);
        uint64_t len = bar_size(dev, 0x18, is64);
        pci_write32(0, dev, 0, 4, (cmd | 0x2) & 0xffff);        /* memory space on */
        if (!pa || len < 2 * PAGE_SIZE) {
            pr_warn("trace: ivshmem at 00:%02x.0 has no usable BAR2 (0x%lx, %lu bytes)", dev, pa, len);
            return false;
        }
        struct trace_shm *s = map_bar(pa, len);
        if (!s) {
            pr_warn("trace: cannot map ivshmem BAR2 at 0x%lx", pa);
            return false;
        }
        uint64_t data = 1;
        while (data * 2 <= len - PAGE_SIZE)
            data *= 2;
        memset(s, 0, sizeof *s);
        s->version = 1;
        s->data_off = PAGE_SIZE;
        s->data_size = data;
        s->tsc_hz = tsc_hz;
        s->ncpus = trace_nrings;
        shm_data = (uint8_t *)s + PAGE_SIZE;
        shm_size = data;
        __atomic_store_n(&s->state, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&s->magic, TRACE_SHM_MAGIC, __ATOMIC_RELEASE);
        trace_shm = s;
        pr_info("trace: ivshmem at 00:%02x.0, BAR2 0x%lx, %lu MiB shared, %lu KiB ring", dev, pa, len >> 20, data >> 10);
        return true;
    }
    return false;
}

/* Records are multiples of 8 bytes at 8-byte aligned positions: copy them a word at a time
 * (rep movsb moves a byte per iteration, which TCG emulates one iteration at a time). */
static inline void copy_words(void *d, const void *s, size_t n)
{
    size_t q = n / 8;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) :: "memory");
}

/* Fills the rest of the lap at w (contig bytes) with padding records (a size is 16 bits: as many
 * as it takes), so the next record starts at the beginning of the ring. */
static void pad_lap(uint64_t w, uint64_t contig)
{
    for (uint64_t left = contig; left;) {
        uint16_t k = left > 0xfff8 ? 0xfff8 : (uint16_t)left;
        struct trace_hdr p = { .type = LANES_TRACE_PAD, .size = k };
        memcpy(shm_data + ((w + contig - left) & (shm_size - 1)), &p, 8);
        left -= k;
    }
}

bool trace_shm_write(const uint8_t *rec, size_t n)
{
    struct trace_shm *s = trace_shm;
    uint64_t w = s->write_pos;
    uint64_t r = __atomic_load_n(&s->read_pos, __ATOMIC_ACQUIRE);
    uint64_t off = w & (shm_size - 1), contig = shm_size - off;
    uint64_t need = contig < n ? contig + n : n;
    if (r > w || w + need - r > shm_size)
        return false;
    if (contig < n) {
        pad_lap(w, contig);
        w += contig;
        off = 0;
    }
    if (n & 7)
        memcpy(shm_data + off, rec, n);
    else
        copy_words(shm_data + off, rec, n);
    __atomic_store_n(&s->write_pos, w + n, __ATOMIC_RELEASE);
    return true;
}

/* The drainer's bulk path: copies the longest run of whole records from rec[0..n) (records as
 * they lie in a CPU ring, padding records included: the host skips them) that fits in the
 * shared ring, in one copy. Only where the run meets the end of the shared ring's lap or its
 * free space are the records walked, to cut at a record boundary (and the lap padded). Returns
 * the bytes taken (0: no room for the next record, or a record that is not whole). */
size_t trace_shm_write_run(const uint8_t *rec, size_t n)
{
    struct trace_shm *s = trace_shm;
    uint64_t w = s->write_pos;
    uint64_t r = __atomic_load_n(&s->read_pos, __ATOMIC_ACQUIRE);
    if (r > w || w - r > shm_size)
        return 0;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t room = shm_size - (w - r);
        uint64_t off = w & (shm_size - 1), contig = shm_size - off;
        uint64_t lim = MIN(contig, room);
        size_t take = n;
        if (take > lim) {
            take = 0;
            while (take < n) {
                uint32_t sz = ((const struct trace_hdr *)(rec + take))->size;
                if (sz < 8 || (sz & 7) || take + sz > n || take + sz > lim)
                    break;
                take += sz;
            }
        }
        if (take) {
            copy_words(shm_data + off, rec, take & ~(size_t)7);
            __atomic_store_n(&s->write_pos, w + take, __ATOMIC_RELEASE);
            return take;
        }
        /* Nothing fits before the end of the lap, but there is room after it: pad, go round. */
        uint32_t first = ((const struct trace_hdr *)rec)->size;
        if (pass || contig >= room || first < 8 || contig + first > room)
            return 0;
        pad_lap(w, contig);
        w += contig;
        __atomic_store_n(&s->write_pos, w, __ATOMIC_RELEASE);
    }
    return 0;
}
