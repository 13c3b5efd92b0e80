/*
 * trace_ivshmem.c — the shared-memory trace transport: QEMU's ivshmem-plain device.
 *
 *   qemu ... -object memory-backend-file,id=tr,share=on,mem-path=/dev/shm/F,size=16M
 *            -device ivshmem-plain,memdev=tr
 *
 * The device (PCI 1af4:1110) is found by scanning bus 0 through configuration mechanism #1
 * (ports 0xcf8/0xcfc); BAR2 (64-bit, prefetchable) is the shared memory, which the host sees as
 * the file F. trace_init() calls trace_ivshmem_init() before it allocates the per-CPU rings: if
 * the BAR holds a ring for every CPU, the rings' data lives in the BAR itself, so the host reads
 * each CPU's records exactly where the CPU wrote them and nothing is ever copied. Layout
 * (struct trace_shm in kernel/trace.h, read by debugger/node/trace/sources.ts and
 * os/tools/trace-bench):
 *
 *   0x00000  header: magic "LTSH", version 2, boot_id, nrings, ring_size, ring_off, preamble
 *            offset and length, state, tsc_hz, heartbeat, and per ring {head, tail,
 *            dropped_total, dropped}
 *   0x01000  preamble: trace_header + one event_def per event, written once (the host reads it
 *            before any ring)
 *   0x10000  ring 0 (ring_size bytes), ring 1, ...: records as the CPUs wrote them, type-0
 *            padding at every 64 KiB segment end the records did not fill
 *
 * The drainer (generic/trace_drain.c) publishes each ring's head on every pass; the host reads
 * [tail, head), then writes tail back; the drainer takes it back as the ring's tail, which lets
 * the producer reuse the space. Nothing traps to the hypervisor per event: the host polls the
 * file. A BAR too small for every ring is not used (the rings then come from ordinary memory
 * and COM2, if present, carries the trace). The BAR is mapped write-back at TRACE_SHM_VA
 * (below), a window of its own in the kernel half: ring data pointers (trace_rings[i].data,
 * which the flight recorder follows through gdb) point there.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

struct trace_shm *trace_shm;

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

/* The device is the kernel's from here on: its BAR2 holds the live rings. The pci server, which
 * walks the bus from user space, must not size its BARs (writing all ones moves a BAR away, and
 * turning memory decoding off for the sizing drops every record the CPUs write meanwhile), so
 * the kernel sizes them now, before any record goes there, and says what it found in
 * /sys/kernel/trace/pci (trace_sysfs.c): the function's name and, for the registers at 0x10,
 * 0x14, ..., 0x24 and the ROM's at 0x30, the value each read back after the sizing write
 * (0xffffffff; the ROM 0xfffff800). The pci server answers its own sizing of this function from
 * those values and sends it no configuration writes (programs/pci/claim.c). */
static const uint8_t claim_regs[7] = { 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30 };
static uint32_t claim_masks[7];
static int claim_dev = -1;

static void record_claim(uint32_t dev)         /* decoding is off */
{
    for (int i = 0; i < 7; i++) {
        uint8_t off = claim_regs[i];
        uint32_t orig = pci_read32(0, dev, 0, off);
        pci_write32(0, dev, 0, off, off == 0x30 ? 0xfffff800u : 0xffffffffu);
        claim_masks[i] = pci_read32(0, dev, 0, off);
        pci_write32(0, dev, 0, off, orig);
    }
    claim_dev = (int)dev;
}

size_t trace_ivshmem_claim(char *buf, size_t cap)
{
    if (claim_dev < 0 || !trace_shm)
        return (size_t)snprintf(buf, cap, "\n");
    return (size_t)snprintf(buf, cap, "0000:00:%02x.0 %08x %08x %08x %08x %08x %08x %08x\n", claim_dev,
                            claim_masks[0], claim_masks[1], claim_masks[2], claim_masks[3], claim_masks[4],
                            claim_masks[5], claim_masks[6]);
}

/* The BAR gets a window of its own, write-back cached: the direct map has the PCI hole below
 * 4 GiB uncached, and the producers write every event here (on KVM with AMD's nested paging the
 * guest's memory type counts, and uncached stores would cost each event dearly). The window's
 * PML4 slot is made now, during boot, before any process copies the kernel half. */
#define TRACE_SHM_VA 0xffffc00000000000UL

static void *map_bar(uint64_t pa, uint64_t len)
{
    for (uint64_t o = 0; o < len; o += PAGE_SIZE)
        if (page_map(kernel_pml4, TRACE_SHM_VA + o, pa + o, PTE_W | PTE_G | (cpu_has_nx ? PTE_NX : 0)))
            return NULL;
    return (void *)TRACE_SHM_VA;
}

/* Finds the device; if BAR2 holds TRACE_SHM_RING_OFF + nrings rings, maps it, writes the header
 * (magic last: a host polling a rebooted guest sees no header while it is rewritten) and returns
 * the address of ring 0's data. The ring data is not cleared: every byte the host reads has
 * been written by a producer first (it reads only up to the published heads). */
uint8_t *trace_ivshmem_init(uint32_t nrings, uint32_t *ring_size)
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
        record_claim(dev);
        pci_write32(0, dev, 0, 4, (cmd | 0x2) & 0xffff);        /* memory space on */
        uint64_t rsize = TRACE_RING_MAX_BYTES;
        while (rsize > TRACE_RING_BYTES && TRACE_SHM_RING_OFF + (uint64_t)nrings * rsize > len)
            rsize >>= 1;
        uint64_t need = TRACE_SHM_RING_OFF + (uint64_t)nrings * rsize;
        if (!pa || len < need) {
            pr_warn("trace: ivshmem at 00:%02x.0 not used: BAR2 0x%lx has %lu KiB, %u rings need %lu KiB",
                    dev, pa, len >> 10, nrings, need >> 10);
            return NULL;
        }
        struct trace_shm *s = map_bar(pa, need);
        if (!s) {
            pr_warn("trace: cannot map ivshmem BAR2 at 0x%lx", pa);
            return NULL;
        }
        bool had = s->magic == TRACE_SHM_MAGIC && s->version == TRACE_SHM_VERSION;
        uint64_t boot_id = had ? s->boot_id + 1 : 1;
        __atomic_store_n(&s->magic, 0, __ATOMIC_RELEASE);
        memset((uint8_t *)s + 4, 0, sizeof *s - 4);
        s->version = TRACE_SHM_VERSION;
        s->boot_id = boot_id;
        s->nrings = nrings;
        s->ring_size = (uint32_t)rsize;
        s->ring_off = TRACE_SHM_RING_OFF;
        s->preamble_off = TRACE_SHM_PREAMBLE_OFF;
        s->tsc_hz = tsc_hz;
        s->bar_size = len;
        __atomic_store_n(&s->magic, TRACE_SHM_MAGIC, __ATOMIC_RELEASE);
        trace_shm = s;
        mmio_reserve(pa, len, "the trace rings' ivshmem BAR2");
        pr_info("trace: ivshmem at 00:%02x.0, BAR2 0x%lx, %lu MiB shared: %u rings of %lu MiB in shared memory",
                dev, pa, len >> 20, nrings, rsize >> 20);
        *ring_size = (uint32_t)rsize;
        return (uint8_t *)s + TRACE_SHM_RING_OFF;
    }
    return NULL;
}

/* The preamble (trace_header + event definitions) into its area, once; the host waits for
 * preamble_len before it reads any ring. */
size_t trace_ivshmem_preamble(void)
{
    static bool done;
    struct trace_shm *s = trace_shm;
    if (!s || done)
        return s ? s->preamble_len : 0;
    done = true;
    size_t n = trace_preamble((uint8_t *)s + TRACE_SHM_PREAMBLE_OFF, TRACE_SHM_RING_OFF - TRACE_SHM_PREAMBLE_OFF);
    if (!n)
        pr_warn("trace: the preamble does not fit in %u bytes of shared memory", TRACE_SHM_RING_OFF - TRACE_SHM_PREAMBLE_OFF);
    __atomic_store_n(&s->preamble_len, (uint32_t)n, __ATOMIC_RELEASE);
    return n;
}
