/* e1000-mac — a PCI driver bound by its manifest: Intel's 82574L (QEMU's e1000e).
 *
 * Its manifest lists the functions it handles (`pci 8086:10d3`; QEMU's older e1000, 8086:100e,
 * answers its I/O window with zeros, so it is not claimed). The pci server
 * starts it once per matching function (arguments: the function's name, its I/O BAR's base and
 * size, its IRQ line, its first memory BAR's base and size) with exactly that function's
 * resources: an IOPORT capability for its I/O BAR (tag "ioport"), a MEMORY capability over each
 * memory BAR (tags "mmio", "mmio.1", ...; mmio_create, mapped uncached) and an IRQ capability for
 * its interrupt line (tag "irq") — nothing else. It reads the receive address registers
 * RAL0/RAH0 twice: through the I/O BAR's indirect register window (IOADDR at +0, IODATA at +4)
 * and at 0x5400/0x5404 of the memory BAR (BAR0, the registers), and prints
 * "e1000-mac 0000:00:04.0: MAC 52:54:00:12:34:56, I/O 0xc000-0xc03f, memory 0xfebc0000-0xfebdffff
 * MAC 52:54:00:12:34:56, IRQ 11" (os-test pci pc checks both are the MAC QEMU was given), then
 * stays, counting the function's interrupts, as a bound driver does (the server unbinds it when
 * it ends).
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>

LANES_MANIFEST("pci 8086:10d3");

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 7) {
        printf("usage: e1000-mac FUNCTION IOBASE IOSIZE IRQ [MEMBASE MEMSIZE]   (the pci server starts it for each "
               "e1000e it finds)\n");
        return 2;
    }
    const char *name = argv[1];
    uint32_t base = (uint32_t)strtoul(argv[2], NULL, 0), count = (uint32_t)strtoul(argv[3], NULL, 0);
    int32_t io = lanes_handle_by_tag("ioport");
    int32_t irq = lanes_handle_by_tag("irq");
    if (io == LANES_HANDLE_NONE || count < 8) {
        printf("e1000-mac %s: no I/O BAR was granted (the pci server starts this driver)\n", name);
        return 2;
    }
    int64_t r = lanes_sys_ioport_enable(io);
    if (r < 0) {
        printf("e1000-mac %s: ioport_enable: %s\n", name, lanes_strerror(r));
        return 3;
    }
    outl((uint16_t)base, 0x5400);                   /* RAL0 */
    uint32_t lo = inl((uint16_t)(base + 4));
    outl((uint16_t)base, 0x5404);                   /* RAH0 */
    uint32_t hi = inl((uint16_t)(base + 4));
    /* The same registers through the memory BAR: the capability covers whole pages, the BAR
     * starts at MEMBASE's offset within the first. */
    char mem[96] = ", no memory BAR";
    int32_t mh = lanes_handle_by_tag("mmio");
    uint64_t mbase = argc == 7 ? strtoull(argv[5], NULL, 0) : 0, msize = argc == 7 ? strtoull(argv[6], NULL, 0) : 0;
    struct lane_handle_info hi_mem;
    if (mh != LANES_HANDLE_NONE && msize >= 0x5408 && lanes_sys_handle_info(mh, &hi_mem) == 0 &&
        (mbase & 0xfff) + 0x5408 <= hi_mem.size) {
        int64_t a = lanes_sys_mem_map(mh, 0, 0, hi_mem.size, LANES_PROT_READ | LANES_PROT_WRITE);
        if (a < 0) {
            snprintf(mem, sizeof mem, ", memory BAR not mapped: %s", lanes_strerror(a));
        } else {
            volatile uint32_t *regs = (volatile uint32_t *)(uintptr_t)(a + (mbase & 0xfff));
            uint32_t ml = regs[0x5400 / 4], mhi = regs[0x5404 / 4];
            snprintf(mem, sizeof mem, ", memory %#llx-%#llx MAC %02x:%02x:%02x:%02x:%02x:%02x",
                     (unsigned long long)mbase, (unsigned long long)(mbase + msize - 1), ml & 0xff, (ml >> 8) & 0xff,
                     (ml >> 16) & 0xff, ml >> 24, mhi & 0xff, (mhi >> 8) & 0xff);
        }
    }
    printf("e1000-mac %s: MAC %02x:%02x:%02x:%02x:%02x:%02x, I/O %#x-%#x%s, IRQ %s\n", name, lo & 0xff, (lo >> 8) & 0xff,
           (lo >> 16) & 0xff, lo >> 24, hi & 0xff, (hi >> 8) & 0xff, base, base + count - 1, mem,
           irq == LANES_HANDLE_NONE ? "none" : argv[4]);
    for (;;) {
        if (irq == LANES_HANDLE_NONE || lanes_sys_irq_wait(irq, LANES_TIMEOUT_INFINITE) < 0)
            lanes_sys_sleep(LANES_SEC(3600));
    }
}
