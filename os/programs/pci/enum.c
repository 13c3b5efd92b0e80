/*
 * enum.c — walking the PCI bus through configuration space (pure: only struct pci_cfg).
 *
 * From bus 0, every device 0..31, function 0 and (if the header says multi-function) 1..7.
 * A function is there when its vendor id is neither 0xffff nor 0. For each: ids, class,
 * revision, header type, subsystem ids (header 0: 0x2c; cardbus: 0x40; bridges: none), the
 * interrupt line and pin, the capability list (at most 48 hops: a looping list stops), and its
 * BARs sized the classic way — memory and I/O decoding off, write all ones, read the mask back,
 * restore the BAR, then the command register — as Linux's resource lines (start, end, flags),
 * the expansion ROM as resource 6 and, for bridges, the I/O, memory and prefetchable windows
 * as resources 13..15. A bridge's secondary bus is walked in turn, depth first, the order Linux
 * numbers buses in.
 *
 * Bad input is skipped, said (cfg->report) and never followed: a function whose header reads
 * all 0xff (or an unknown header type), a bridge whose secondary bus is unassigned, not above
 * its own bus or already walked (a loop), a 64-bit BAR in the last slot (no upper half), a BAR
 * whose range would wrap past the end of the address space, more functions than fit.
 */
#include "pci.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct walk {
    const struct pci_cfg *c;
    struct pci_fn *fns;
    int n, max;
    uint8_t seen[32];           /* buses walked, a bit each */
};

static uint32_t rd(const struct walk *w, const struct pci_fn *f, uint8_t off)
{
    return w->c->read32(w->c->ctx, f->bus, f->dev, f->fn, off);
}

static void wr(const struct walk *w, const struct pci_fn *f, uint8_t off, uint32_t v)
{
    w->c->write32(w->c->ctx, f->bus, f->dev, f->fn, off, v);
}

static void say(const struct walk *w, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(const struct walk *w, const char *name, const char *fmt, ...)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "%s: ", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (w->c->report)
        w->c->report(w->c->ctx, msg);
}

static uint64_t lowest_bit(uint64_t v) { return v & (~v + 1); }

/* Sizes BAR i (offset off); returns how many BAR slots it used (2 for a 64-bit one). */
static int size_bar(const struct walk *w, struct pci_fn *f, int i, int nbars)
{
    uint8_t off = (uint8_t)(0x10 + 4 * i);
    uint32_t orig = rd(w, f, off);
    wr(w, f, off, 0xffffffffu);
    uint32_t mask = rd(w, f, off);
    wr(w, f, off, orig);
    struct pci_res *r = &f->res[i];
    memset(r, 0, sizeof *r);
    if (mask == 0 || mask == 0xffffffffu)
        return 1;                               /* not implemented */
    if (orig & 1) {                             /* I/O */
        uint64_t size = lowest_bit(mask & 0xfffcu);
        if (!size)
            return 1;
        r->start = orig & 0xfffcu;
        r->end = r->start + size - 1;
        r->flags = IORES_IO | (orig & 3u) | IORES_SIZEALIGN;
        return 1;
    }
    uint32_t type = (orig >> 1) & 3;
    uint64_t base = orig & ~0xfull, bits = mask & ~0xfull;
    int used = 1;
    if (type == 2) {
        if (i + 1 >= nbars) {
            say(w, f->name, "64-bit BAR%u in the last slot (no upper half): skipped", (unsigned)i);
            return 1;
        }
        uint8_t hoff = (uint8_t)(off + 4);
        uint32_t ohi = rd(w, f, hoff);
        wr(w, f, hoff, 0xffffffffu);
        uint32_t mhi = rd(w, f, hoff);
        wr(w, f, hoff, ohi);
        base |= (uint64_t)ohi << 32;
        bits |= (uint64_t)mhi << 32;
        used = 2;
    } else {
        bits |= 0xffffffff00000000ull;          /* a 32-bit BAR: its upper half is fixed at 0 */
    }
    uint64_t size = lowest_bit(bits);
    if (!size)
        return used;
    if (base + (size - 1) < base) {
        say(w, f->name, "BAR%u would wrap past the end of the address space: skipped", (unsigned)i);
        return used;
    }
    r->start = base;
    r->end = base + size - 1;
    r->flags = IORES_MEM | (orig & 0xfu) | IORES_SIZEALIGN | (type == 2 ? IORES_MEM_64 : 0) |
               ((orig & 8) ? IORES_PREFETCH : 0);
    return used;
}

static void size_rom(const struct walk *w, struct pci_fn *f, uint8_t off)
{
    uint32_t orig = rd(w, f, off);
    wr(w, f, off, 0xfffff800u);
    uint32_t mask = rd(w, f, off) & 0xfffff800u;
    wr(w, f, off, orig);
    if (!mask)
        return;
    uint64_t size = lowest_bit(mask);
    struct pci_res *r = &f->res[6];
    r->start = orig & 0xfffff800u;
    r->end = r->start + size - 1;
    r->flags = IORES_MEM | IORES_PREFETCH | IORES_READONLY | IORES_SIZEALIGN | ((orig & 1) ? IORES_ROM_ENABLE : 0);
}

static void bridge_windows(const struct walk *w, struct pci_fn *f)
{
    uint32_t io = rd(w, f, 0x1c), mem = rd(w, f, 0x20), pref = rd(w, f, 0x24);
    uint32_t io_hi = rd(w, f, 0x30);
    uint8_t io_base = io & 0xff, io_limit = (io >> 8) & 0xff;
    uint64_t b = (uint64_t)(io_base & 0xf0) << 8, l = ((uint64_t)(io_limit & 0xf0) << 8) | 0xfff;
    if ((io_base & 0xf) == 1) {
        b |= (uint64_t)(io_hi & 0xffff) << 16;
        l |= (uint64_t)(io_hi >> 16) << 16;
    }
    if (io && b <= l)
        f->res[13] = (struct pci_res){ b, l, IORES_IO | (io_base & 0xfu) };
    b = (uint64_t)(mem & 0xfff0) << 16;
    l = ((uint64_t)((mem >> 16) & 0xfff0) << 16) | 0xfffff;
    if (b <= l)
        f->res[14] = (struct pci_res){ b, l, IORES_MEM | (mem & 0xfu) };
    b = (uint64_t)(pref & 0xfff0) << 16;
    l = ((uint64_t)((pref >> 16) & 0xfff0) << 16) | 0xfffff;
    uint32_t type = pref & 0xf;
    if (type == 1) {
        b |= (uint64_t)rd(w, f, 0x28) << 32;
        l |= (uint64_t)rd(w, f, 0x2c) << 32;
    }
    if (b <= l)
        f->res[15] = (struct pci_res){ b, l, IORES_MEM | IORES_PREFETCH | type | (type == 1 ? IORES_MEM_64 : 0) };
}

static void read_caps(const struct walk *w, struct pci_fn *f)
{
    if (!(rd(w, f, 0x04) & (1u << 20)))         /* status: capability list */
        return;
    uint8_t p = (uint8_t)(rd(w, f, f->hdr == 2 ? 0x14 : 0x34) & 0xfc);
    for (int hops = 0; p >= 0x40 && hops < 48; hops++) {
        uint32_t v = rd(w, f, p);
        if (f->ncaps < (int)sizeof f->caps)
            f->caps[f->ncaps++] = (uint8_t)(v & 0xff);
        p = (uint8_t)((v >> 8) & 0xfc);
    }
}

static void scan_bus(struct walk *w, uint8_t bus, int parent, int depth);

static void probe(struct walk *w, uint8_t bus, uint8_t dev, uint8_t fn, int parent, int depth)
{
    struct pci_fn t;
    memset(&t, 0, sizeof t);
    t.bus = bus;
    t.dev = dev;
    t.fn = fn;
    snprintf(t.name, sizeof t.name, "0000:%02x:%02x.%x", bus, dev, fn);
    uint32_t id = rd(w, &t, 0);
    if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
        return;
    uint32_t cr = rd(w, &t, 0x08), hd = rd(w, &t, 0x0c);
    if (cr == 0xffffffffu && hd == 0xffffffffu) {
        say(w, t.name, "vendor %04x answers but its header reads all 0xff: skipped", id & 0xffff);
        return;
    }
    t.hdr = (hd >> 16) & 0x7f;
    if (t.hdr > 2) {
        say(w, t.name, "unknown header type 0x%02x: skipped", t.hdr);
        return;
    }
    if (w->n >= w->max) {
        say(w, t.name, "more than %u functions: skipped", (unsigned)w->max);
        return;
    }
    t.vendor = id & 0xffff;
    t.device = id >> 16;
    t.class = cr >> 8;
    t.rev = cr & 0xff;
    t.parent = parent;
    t.bridge = t.hdr == 1;
    t.nres = t.bridge ? PCI_NRES_BRIDGE : PCI_NRES_DEV;
    uint32_t cmd = rd(w, &t, 0x04) & 0xffff;
    wr(w, &t, 0x04, cmd & ~3u);                 /* decoding off while sizing (status untouched: RW1C) */
    int nbars = t.hdr == 0 ? 6 : t.hdr == 1 ? 2 : 0;
    for (int i = 0; i < nbars;)
        i += size_bar(w, &t, i, nbars);
    if (t.hdr != 2)
        size_rom(w, &t, t.hdr == 0 ? 0x30 : 0x38);
    wr(w, &t, 0x04, cmd);
    uint32_t irq = rd(w, &t, 0x3c);
    t.irq_pin = (irq >> 8) & 0xff;
    t.irq_line = t.irq_pin ? irq & 0xff : 0;
    if (t.irq_line == 0xff)
        t.irq_line = 0;
    if (t.hdr == 0 || t.hdr == 2) {
        uint32_t s = rd(w, &t, t.hdr == 0 ? 0x2c : 0x40);
        t.svendor = s & 0xffff;
        t.sdevice = s >> 16;
    }
    read_caps(w, &t);
    if (t.bridge) {
        uint32_t b = rd(w, &t, 0x18);
        t.secondary = (b >> 8) & 0xff;
        t.subordinate = (b >> 16) & 0xff;
        bridge_windows(w, &t);
    }
    for (int i = 0; i < 64; i++) {
        uint32_t v = rd(w, &t, (uint8_t)(i * 4));
        memcpy(t.cfg + i * 4, &v, 4);
    }
    t.cfg_size = 256;
    if (parent < 0)
        snprintf(t.path, sizeof t.path, "/sys/devices/pci0000:00/%s", t.name);
    else if ((size_t)snprintf(t.path, sizeof t.path, "%s/%s", w->fns[parent].path, t.name) >= sizeof t.path) {
        say(w, t.name, "nested too deep for a sysfs path: skipped");
        return;
    }
    int self = w->n++;
    w->fns[self] = t;
    if (!t.bridge)
        return;
    uint8_t sec = t.secondary;
    if (sec == 0 || sec <= bus)
        say(w, t.name, "bridge to bus %u (not above its own bus %u): not followed", sec, bus);
    else if (w->seen[sec / 8] & (1u << (sec % 8)))
        say(w, t.name, "bridge to bus %u, which was already walked (a loop): not followed", sec);
    else if (depth >= 32)
        say(w, t.name, "bridge to bus %u nested too deep: not followed", sec);
    else
        scan_bus(w, sec, self, depth + 1);
}

static void scan_bus(struct walk *w, uint8_t bus, int parent, int depth)
{
    w->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
    for (uint8_t dev = 0; dev < 32; dev++) {
        struct pci_fn t = { .bus = bus, .dev = dev };
        uint32_t id = rd(w, &t, 0);
        if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
            continue;
        bool multi = (rd(w, &t, 0x0c) >> 16) & 0x80;
        if (rd(w, &t, 0x0c) == 0xffffffffu)
            multi = false;                      /* an all-0xff header says nothing */
        for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++)
            probe(w, bus, dev, fn, parent, depth);
    }
}

int pci_enumerate(const struct pci_cfg *c, struct pci_fn *fns, int max)
{
    struct walk w;
    memset(&w, 0, sizeof w);
    w.c = c;
    w.fns = fns;
    w.max = max;
    scan_bus(&w, 0, -1, 0);
    return w.n;
}
