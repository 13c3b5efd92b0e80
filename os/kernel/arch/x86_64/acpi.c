/*
 * acpi.c — just enough ACPI to find the CPUs and interrupt controllers, and PCIe's
 * memory-mapped configuration space.
 *
 * RSDP: the copy multiboot2 gives us, else a scan of the EBDA and 0xE0000-0xFFFFF.
 * RSDT (32-bit pointers) or XSDT (64-bit, ACPI 2+) -> MADT ("APIC"): local APICs (enabled or
 * online-capable), the IOAPIC, interrupt source overrides (ISA IRQ -> GSI, polarity, trigger)
 * and a LAPIC address override. Without a MADT we run on the boot CPU with default addresses.
 * MCFG ("PCI Express memory mapped configuration", q35 has one, pc not): each allocation's
 * base, segment and bus range, shown in /sys/firmware/acpi/mcfg for the user-space pci server
 * ("0x00000000b0000000 0000 00 ff\n" per allocation, BASE SEGMENT START-BUS END-BUS in hex;
 * empty without MCFG), which maps the range with mmio_create (ECAM; programs/pci/ecam.c).
 */
#include <kernel/kernel.h>
#include <kernel/sysfs.h>

struct acpi_info acpi;

struct sdt { char sig[4]; uint32_t len; uint8_t rev, sum; char oem[6], table[8]; uint32_t oemrev, creator, crev; } __attribute__((packed));

static bool checksum(const void *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((const uint8_t *)p)[i];
    return s == 0;
}

static const uint8_t *scan(uint64_t start, uint64_t len)
{
    for (uint64_t a = start; a + 20 <= start + len; a += 16) {
        const uint8_t *p = P2V(a);
        if (!memcmp(p, "RSD PTR ", 8) && checksum(p, 20))
            return p;
    }
    return NULL;
}

#define MAX_MCFG 4
static struct { uint64_t base; uint16_t seg; uint8_t start, end; } mcfg[MAX_MCFG];
static int nmcfg;

static void parse_mcfg(const struct sdt *t)
{
    /* header, 8 reserved bytes, then 16-byte allocations: base, segment, start bus, end bus */
    for (uint32_t off = 44; off + 16 <= t->len && nmcfg < MAX_MCFG; off += 16) {
        const uint8_t *e = (const uint8_t *)t + off;
        uint64_t base = *(const uint64_t *)e;
        uint8_t start = e[10], end = e[11];
        if (!base || end < start)
            continue;
        mcfg[nmcfg].base = base;
        mcfg[nmcfg].seg = *(const uint16_t *)(e + 8);
        mcfg[nmcfg].start = start;
        mcfg[nmcfg].end = end;
        nmcfg++;
        pr_info("acpi: MCFG segment %u buses %02x-%02x at 0x%lx", *(const uint16_t *)(e + 8), start, end, base);
    }
}

static size_t show_mcfg(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    size_t len = 0;
    for (int i = 0; i < nmcfg && len + 1 < cap; i++)
        len += sysfs_print(b + len, cap - len, "0x%016lx %04x %02x %02x\n", mcfg[i].base, mcfg[i].seg,
                           mcfg[i].start, mcfg[i].end);
    return len;
}

static const struct sysfs_attr acpi_attrs[] = { { "mcfg", show_mcfg, NULL } };
static void acpi_sysfs_init(void) { sysfs_add("/sys/firmware/acpi", acpi_attrs, ARRAY_SIZE(acpi_attrs), NULL); }
SYSFS_PROVIDER(15, acpi, acpi_sysfs_init, NULL);

static void parse_madt(const struct sdt *m)
{
    const uint8_t *p = (const uint8_t *)m + 44, *end = (const uint8_t *)m + m->len;
    acpi.lapic_addr = *(const uint32_t *)((const uint8_t *)m + 36);
    while (p + 2 <= end && p[1] >= 2) {
        switch (p[0]) {
        case 0:
            if ((*(const uint32_t *)(p + 4) & 3) && acpi.ncpu < MAX_CPUS)
                acpi.apic_ids[acpi.ncpu++] = p[3];
            break;
        case 1:
            if (!acpi.ioapic_addr) {
                acpi.ioapic_addr = *(const uint32_t *)(p + 4);
                acpi.ioapic_gsi_base = *(const uint32_t *)(p + 8);
            }
            break;
        case 2:
            if (p[3] < 16) {
                acpi.irq_gsi[p[3]] = *(const uint32_t *)(p + 4);
                acpi.irq_flags[p[3]] = *(const uint16_t *)(p + 8);
            }
            break;
        case 5:
            acpi.lapic_addr = *(const uint64_t *)(p + 4);
            break;
        }
        p += p[1];
    }
}

void acpi_init(uint64_t rsdp_phys)
{
    (void)rsdp_phys;
    for (int i = 0; i < 16; i++)
        acpi.irq_gsi[i] = i;
    acpi.lapic_addr = 0xfee00000;
    const uint8_t *rsdp = boot.have_rsdp_copy ? boot.rsdp_copy : NULL;
    if (!rsdp) {
        uint64_t ebda = (uint64_t)(*(uint16_t *)P2V(0x40e)) << 4;
        if (ebda)
            rsdp = scan(ebda, 1024);
        if (!rsdp)
            rsdp = scan(0xe0000, 0x20000);
    }
    const struct sdt *madt = NULL;
    if (rsdp) {
        uint8_t rev = rsdp[15];
        uint64_t xsdt = rev >= 2 ? *(const uint64_t *)(rsdp + 24) : 0;
        uint64_t rsdt = *(const uint32_t *)(rsdp + 16);
        const struct sdt *root = P2V(xsdt ? xsdt : rsdt);
        size_t esz = xsdt ? 8 : 4;
        size_t n = (root->len - sizeof(struct sdt)) / esz;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *ep = (const uint8_t *)root + sizeof(struct sdt) + i * esz;
            uint64_t a = esz == 8 ? *(const uint64_t *)ep : *(const uint32_t *)ep;
            const struct sdt *t = P2V(a);
            if (!memcmp(t->sig, "APIC", 4))
                madt = t;
            else if (!memcmp(t->sig, "MCFG", 4) && t->len >= 60)
                parse_mcfg(t);
        }
    }
    if (madt) {
        parse_madt(madt);
    } else {
        pr_warn("acpi: no MADT; running on the boot CPU only");
    }
    if (!acpi.ioapic_addr)
        acpi.ioapic_addr = 0xfec00000;
    if (!acpi.ncpu) {
        acpi.ncpu = 1;
        acpi.apic_ids[0] = lapic_id();
    }
    pr_info("acpi: %s, %u CPUs in MADT, LAPIC 0x%lx, IOAPIC 0x%lx (GSI base %u)",
            rsdp ? (rsdp[15] >= 2 ? "ACPI 2.0+ (XSDT)" : "ACPI 1.0 (RSDT)") : "no RSDP",
            acpi.ncpu, acpi.lapic_addr, acpi.ioapic_addr, acpi.ioapic_gsi_base);
}
