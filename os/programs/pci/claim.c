/*
 * claim.c — a PCI function the kernel drives, kept out of the bus walk's writes (pure: struct
 * pci_cfg in, struct pci_cfg out, so test/enum_test.c runs it on the made-up bus).
 *
 * The kernel takes the ivshmem device for its trace rings at boot: the CPUs write every event
 * into its BAR2. Sizing a BAR the classic way (enum.c) turns memory decoding off and writes all
 * ones to the BAR, which moves it away for a moment; a record a CPU writes meanwhile goes
 * nowhere, and the host later reads zeros where it should be. So the kernel sizes that
 * function's BARs itself before any record is written and says what each register read back
 * (/sys/kernel/trace/pci: "0000:00:04.0" and seven hex words, for the registers at 0x10 ... 0x24
 * and the ROM's at 0x30). Through claim_cfg, the walk's writes to that function never reach the
 * hardware: each is kept in a shadow, and a read of a BAR or ROM register the walk wrote
 * answers as the hardware would (the value written, masked by what the kernel read back); every
 * other read is the hardware's own. The walk sees the same sizes, flags and registers, and the
 * function never stops decoding.
 */
#include "pci.h"
#include <string.h>

static const uint8_t regs[PCI_CLAIM_REGS] = { 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30 };

/* Reads hex digits (at least one, at most max) up to the character `end` (' ' also ends the
 * last word at a newline); NULL if there are none or too many. */
static const char *hex(const char *p, unsigned max, char end, uint32_t *v)
{
    uint32_t x = 0;
    unsigned n = 0;
    for (;; p++, n++) {
        char ch = *p;
        unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
                   : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                   : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10) : 16u;
        if (d == 16)
            break;
        x = x << 4 | d;
    }
    if (!n || n > max || (*p != end && !(end == ' ' && (*p == '\n' || *p == 0))))
        return NULL;
    *v = x;
    return *p ? p + 1 : p;
}

int claim_parse(struct pci_claim *c, const char *text)
{
    memset(c, 0, sizeof *c);
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\n' || *p == 0)
        return 0;                                   /* the kernel drives no PCI function */
    uint32_t seg, bus, dev, fn, m[PCI_CLAIM_REGS];
    if (!(p = hex(p, 4, ':', &seg)) || !(p = hex(p, 2, ':', &bus)) || !(p = hex(p, 2, '.', &dev)) ||
        !(p = hex(p, 1, ' ', &fn)) || seg != 0 || dev > 31 || fn > 7)
        return -1;
    for (int i = 0; i < PCI_CLAIM_REGS; i++)
        if (!(p = hex(p, 8, ' ', &m[i])) || (i < PCI_CLAIM_REGS - 1 && (p[-1] != ' ')))
            return -1;
    if (*p != 0 && p[-1] != '\n')
        return -1;
    c->on = true;
    c->bus = (uint8_t)bus;
    c->dev = (uint8_t)dev;
    c->fn = (uint8_t)fn;
    for (int i = 0; i < PCI_CLAIM_REGS; i++)
        c->mask[i] = m[i];
    return 1;
}

static bool claimed(const struct pci_claim *c, uint8_t bus, uint8_t dev, uint8_t fn)
{
    return c->on && c->bus == bus && c->dev == dev && c->fn == fn;
}

static int reg_index(uint8_t off)
{
    for (int i = 0; i < PCI_CLAIM_REGS; i++)
        if (regs[i] == (off & 0xfc))
            return i;
    return -1;
}

static uint32_t claim_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    struct pci_claim *c = ctx;
    if (claimed(c, bus, dev, fn)) {
        int i = reg_index(off);
        if (i >= 0 && (c->written & (1u << i)))
            return c->shadow[i] & c->mask[i];
    }
    return c->hw->read32(c->hw->ctx, bus, dev, fn, off);
}

static void claim_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v)
{
    struct pci_claim *c = ctx;
    if (!claimed(c, bus, dev, fn)) {
        c->hw->write32(c->hw->ctx, bus, dev, fn, off, v);
        return;
    }
    c->swallowed++;
    int i = reg_index(off);
    if (i < 0)
        return;                                     /* the command register and the rest: untouched */
    if (v == c->hw->read32(c->hw->ctx, bus, dev, fn, off))
        c->written &= ~(1u << i);                   /* restored: the hardware's value again */
    else {
        c->shadow[i] = v;
        c->written |= 1u << i;
    }
}

static void claim_report(void *ctx, const char *msg)
{
    struct pci_claim *c = ctx;
    if (c->hw->report)
        c->hw->report(c->hw->ctx, msg);
}

struct pci_cfg claim_cfg(struct pci_claim *c, const struct pci_cfg *hw)
{
    c->hw = hw;
    c->written = 0;
    return (struct pci_cfg){ claim_read, claim_write, c, claim_report };
}
