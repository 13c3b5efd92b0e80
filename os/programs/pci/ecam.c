/*
 * ecam.c — PCIe's memory-mapped configuration space (ECAM), where the firmware has one.
 *
 * The kernel reads ACPI's MCFG at boot and shows each allocation in /sys/firmware/acpi/mcfg
 * ("0x00000000b0000000 0000 00 ff": base, segment, first and last bus; empty on QEMU's pc).
 * Bus B's 1 MiB lies at base + (B - first) << 20, function (D, F) at D << 15 | F << 12 within it,
 * 4096 bytes each. The server maps a bus's MiB when it first reaches it, with mmio_create from its
 * SYSTEM capability (mapped uncached by the kernel), so the q35's 256 MiB are never all mapped.
 * Every configuration access then goes through memory where ECAM reaches (as Linux's mmconfig
 * does), the ports elsewhere; claim.c wraps this as it wrapped the ports.
 *
 * ecam_extend applies Linux's pci_cfg_space_size (drivers/pci/probe.c): a host bridge, a PCIe
 * function (capability 0x10) or a PCI-X 266/533 one has 4096 bytes of configuration space unless
 * the dword at 0x100 reads all ones or the extended space merely repeats the header (aliased);
 * without ECAM every function has 256. Its config attribute then holds all 4096 bytes, so Linux's
 * lspci -vvv over an uploaded /sys shows the extended capabilities (AER, serial number...).
 */
#include "pci.h"
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t sys = LANES_HANDLE_NONE;
static uint64_t base;
static unsigned first, last;
static bool on;
static volatile uint8_t *bus_win[256];
static bool bus_failed[256];
static const struct pci_cfg *ports;

bool ecam_init(int32_t system_cap)
{
    char b[256];
    const char *path = "/sys/firmware/acpi/mcfg";
    int64_t n = lanes_sys_sysfs_read(path, strlen(path), b, sizeof b - 1);
    if (n < 0) {
        printf("pci: %s: %s (configuration through ports only)\n", path, lanes_strerror(n));
        return false;
    }
    b[n] = 0;
    for (char *l = b; *l;) {
        char *end;
        unsigned long long a = strtoull(l, &end, 16);
        unsigned long seg = strtoul(end, &end, 16), s = strtoul(end, &end, 16), e = strtoul(end, &end, 16);
        if (a && seg == 0 && s <= e && e <= 255 && !(a & 0xfffff)) {
            base = a;
            first = (unsigned)s;
            last = (unsigned)e;
            sys = system_cap;
            on = sys != LANES_HANDLE_NONE;
            if (on)
                printf("pci: ECAM at %#llx for buses %02x-%02x (ACPI MCFG)\n", a, first, last);
            else
                printf("pci: ECAM at %#llx, but no SYSTEM capability to map it\n", a);
            return on;
        }
        char *nl = strchr(l, '\n');
        if (!nl)
            break;
        l = nl + 1;
    }
    return false;
}

/* Bus b's MiB, mapped on first use; NULL outside MCFG's buses or when the kernel says no. */
static volatile uint8_t *window(uint8_t b)
{
    if (!on || b < first || b > last || bus_failed[b])
        return NULL;
    if (!bus_win[b]) {
        uint64_t pa = base + ((uint64_t)(b - first) << 20);
        int64_t h = lanes_sys_mmio_create(sys, pa, 1u << 20);
        int64_t a = h >= 0 ? lanes_sys_mem_map((int32_t)h, 0, 0, 1u << 20, LANES_PROT_READ | LANES_PROT_WRITE) : h;
        if (h >= 0)
            lanes_sys_handle_close((int32_t)h);
        if (a < 0) {
            printf("pci: ECAM for bus %02x at %#llx: %s (that bus through ports)\n", b, (unsigned long long)pa,
                   lanes_strerror(a));
            bus_failed[b] = true;
            return NULL;
        }
        bus_win[b] = (volatile uint8_t *)(uintptr_t)a;
    }
    return bus_win[b];
}

static volatile uint32_t *reg(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    volatile uint8_t *w = dev < 32 && fn < 8 && off < 4096 ? window(bus) : NULL;
    return w ? (volatile uint32_t *)(w + ((uint32_t)dev << 15 | (uint32_t)fn << 12 | (off & 0xffcu))) : NULL;
}

static uint32_t ecam_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    (void)ctx;
    volatile uint32_t *r = reg(bus, dev, fn, off);
    return r ? *r : ports->read32(ports->ctx, bus, dev, fn, off);
}

static void ecam_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v)
{
    (void)ctx;
    volatile uint32_t *r = reg(bus, dev, fn, off);
    if (r)
        *r = v;
    else
        ports->write32(ports->ctx, bus, dev, fn, off, v);
}

const struct pci_cfg *ecam_cfg(const struct pci_cfg *p)
{
    static struct pci_cfg c;
    ports = p;
    if (!on)
        return p;
    c = (struct pci_cfg){ ecam_read, ecam_write, NULL, p->report };
    return &c;
}

static bool has_cap(const struct pci_fn *f, uint8_t id)
{
    for (int i = 0; i < f->ncaps; i++)
        if (f->caps[i] == id)
            return true;
    return false;
}

/* PCI-X status at the capability + 4: bits 17 (266 MHz) and 18 (533 MHz). */
static bool pcix_266(const struct pci_fn *f)
{
    unsigned pos = f->cfg[0x34] & 0xfc;
    for (int hops = 0; pos >= 0x40 && hops < 48; hops++) {
        if (f->cfg[pos] == 0x07) {
            uint32_t st;
            memcpy(&st, f->cfg + pos + 4, 4);
            return st & (3u << 17);
        }
        pos = f->cfg[pos + 1] & 0xfc;
    }
    return false;
}

void ecam_extend(struct pci_fn *fns, int n)
{
    if (!on)
        return;
    for (int i = 0; i < n; i++) {
        struct pci_fn *f = &fns[i];
        if (f->class >> 8 != 0x0600 && !has_cap(f, 0x10) && !(has_cap(f, 0x07) && pcix_266(f)))
            continue;
        volatile uint32_t *r = reg(f->bus, f->dev, f->fn, 0x100);
        if (!r || *r == 0xffffffffu)
            continue;
        uint32_t header;
        memcpy(&header, f->cfg, 4);
        bool aliased = true;
        for (uint16_t pos = 0x100; pos < 0x1000 && aliased; pos += 0x100)
            aliased = *reg(f->bus, f->dev, f->fn, pos) == header;
        if (aliased)
            continue;
        for (uint16_t off = 0x100; off < 0x1000; off += 4) {
            uint32_t v = *reg(f->bus, f->dev, f->fn, off);
            memcpy(f->cfg + off, &v, 4);
        }
        f->cfg_size = 4096;
    }
}
