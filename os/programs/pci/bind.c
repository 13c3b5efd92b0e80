/*
 * bind.c — drivers bound by their manifests (Helios style).
 *
 * At start the server reads the manifest of every program in the initrd; a program with `pci
 * VVVV:DDDD` or `pci class CCSS` lines is a PCI driver. After each walk, every function without
 * a driver that a driver's lines match gets one process of that driver (the first match in
 * initrd order), started with arguments "FUNCTION IOBASE IOSIZE IRQ MEMBASE MEMSIZE" (the first
 * I/O and the first memory BAR, 0 0 when there is none) and exactly the function's resources:
 * an IOPORT capability per I/O BAR (tags "ioport", "ioport.1", ...), a MEMORY capability over
 * each memory BAR (mmio_create, rounded out to whole pages; tags "mmio", "mmio.1", ... in BAR
 * order; the BAR starts at MEMBASE & 0xfff within the first) and an IRQ capability for its
 * interrupt line (when it has one and the line is free) — made here from the server's SYSTEM
 * capability, nothing else passed. A BAR the kernel refuses (its own trace device's: BUSY) is
 * said and left out. The binding shows as Linux shows it: `driver` ->
 * ../../../bus/pci/drivers/NAME in the function's directory, /sys/bus/pci/drivers/NAME/FUNCTION
 * -> the function, DRIVER=NAME in its uevent and a `bind` uevent; when the driver process ends
 * (or its function goes) the links go, with an `unbind`.
 */
#include "pci.h"
#include <lanes.h>
#include <stdio.h>
#include <string.h>

#define MAX_DRIVERS 16

struct driver {
    char name[32];
    const void *image;
    size_t len;
    struct manifest m;
};

struct binding {
    bool used;
    bool ended;                 /* its driver ended: not restarted until the next rescan */
    char fn[16];
    char path[PCI_PATH_MAX];
    int driver;
    int32_t proc;
};

static struct driver drivers[MAX_DRIVERS];
static int ndrivers;
static struct binding bindings[PCI_MAX_FNS];
static int32_t system_cap = LANES_HANDLE_NONE;

void bind_init(void)
{
    system_cap = lanes_handle_by_tag("system");
    const void *rd;
    size_t size;
    if (lanes_initrd(&rd, &size) < 0)
        return;
    struct ustar_entry e;
    size_t pos = 0;
    while (ustar_next(rd, size, &pos, &e) == 1 && ndrivers < MAX_DRIVERS) {
        if (e.type != '0' || strncmp(e.name, "bin/", 4))
            continue;
        struct driver *d = &drivers[ndrivers];
        if (manifest_of_elf(e.data, e.size, &d->m, NULL) < 0)
            continue;
        bool pci = false;
        for (int i = 0; i < d->m.nitems; i++)
            pci |= d->m.items[i].kind == MANIFEST_PCI;
        if (!pci)
            continue;
        snprintf(d->name, sizeof d->name, "%s", e.name + 4);
        d->image = e.data;
        d->len = e.size;
        ndrivers++;
    }
    if (ndrivers)
        printf("pci: %d driver%s by manifest:%s%s%s\n", ndrivers, ndrivers > 1 ? "s" : "", " ", drivers[0].name,
               ndrivers > 1 ? " ..." : "");
}

static bool matches(const struct driver *d, const struct pci_fn *f)
{
    for (int i = 0; i < d->m.nitems; i++) {
        const struct manifest_item *it = &d->m.items[i];
        if (it->kind != MANIFEST_PCI)
            continue;
        if (it->base == 0xffffffffu) {
            if ((f->class >> 8) == it->count)
                return true;
            continue;
        }
        uint16_t v = it->base >> 16, dv = it->base & 0xffff;
        if ((v == 0xffff || v == f->vendor) && (dv == 0xffff || dv == f->device))
            return true;
    }
    return false;
}

static struct binding *bound(const char *name)
{
    for (int i = 0; i < PCI_MAX_FNS; i++)
        if (bindings[i].used && !strcmp(bindings[i].fn, name))
            return &bindings[i];
    return NULL;
}

const char *bind_driver_of(const char *fn_name)
{
    struct binding *b = bound(fn_name);
    return b && !b->ended ? drivers[b->driver].name : NULL;
}

static void start(const struct pci_fn *f, int di)
{
    struct driver *d = &drivers[di];
    struct lane_spawn_handle hs[16];
    int nh = 0, nio = 0, nmem = 0;
    uint64_t iobase = 0, iosize = 0, membase = 0, memsize = 0;
    /* A BAR at 0 is unassigned (a hot-added function nobody gave resources): nothing to grant —
     * ports 0-0x1f are the DMA controller's, address 0 is RAM. */
    for (int i = 0; i < 6 && nh < 6; i++) {
        if (!(f->res[i].flags & IORES_IO) || !f->res[i].start)
            continue;
        uint64_t sz = f->res[i].end - f->res[i].start + 1;
        int64_t h = lanes_sys_ioport_create(system_cap, (uint32_t)f->res[i].start, (uint32_t)sz);
        if (h < 0) {
            printf("pci: %s: cannot grant I/O %#llx+%llu to %s: %s\n", f->name, (unsigned long long)f->res[i].start,
                   (unsigned long long)sz, d->name, lanes_strerror(h));
            continue;
        }
        if (!nio) {
            iobase = f->res[i].start;
            iosize = sz;
        }
        hs[nh].handle = (int32_t)h;
        hs[nh].rights = LANES_RIGHT_ALL;
        memset(hs[nh].tag, 0, sizeof hs[nh].tag);
        if (nio)
            snprintf(hs[nh].tag, sizeof hs[nh].tag, "ioport.%d", nio);
        else
            snprintf(hs[nh].tag, sizeof hs[nh].tag, "ioport");
        nh++;
        nio++;
    }
    for (int i = 0; i < 6 && nh < 14; i++) {
        if (!(f->res[i].flags & IORES_MEM) || !f->res[i].start || f->res[i].end <= f->res[i].start)
            continue;
        uint64_t start = f->res[i].start & ~0xfffull, end = (f->res[i].end | 0xfff) + 1;
        int64_t h = lanes_sys_mmio_create(system_cap, start, end - start);
        if (h < 0) {
            printf("pci: %s: cannot grant memory %#llx-%#llx to %s: %s\n", f->name, (unsigned long long)f->res[i].start,
                   (unsigned long long)f->res[i].end, d->name, lanes_strerror(h));
            continue;
        }
        if (!nmem) {
            membase = f->res[i].start;
            memsize = f->res[i].end - f->res[i].start + 1;
        }
        hs[nh].handle = (int32_t)h;
        hs[nh].rights = LANES_RIGHT_ALL;
        memset(hs[nh].tag, 0, sizeof hs[nh].tag);
        if (nmem)
            snprintf(hs[nh].tag, sizeof hs[nh].tag, "mmio.%d", nmem);
        else
            snprintf(hs[nh].tag, sizeof hs[nh].tag, "mmio");
        nh++;
        nmem++;
    }
    if (f->irq_line && f->irq_line < 24) {
        int64_t h = lanes_sys_irq_create(system_cap, f->irq_line);
        if (h >= 0) {
            hs[nh].handle = (int32_t)h;
            hs[nh].rights = LANES_RIGHT_ALL;
            memset(hs[nh].tag, 0, sizeof hs[nh].tag);
            snprintf(hs[nh].tag, sizeof hs[nh].tag, "irq");
            nh++;
        }
    }
    char a1[24], a2[24], a3[8], a4[24], a5[24];
    snprintf(a1, sizeof a1, "%#llx", (unsigned long long)iobase);
    snprintf(a2, sizeof a2, "%llu", (unsigned long long)iosize);
    snprintf(a3, sizeof a3, "%u", f->irq_line);
    snprintf(a4, sizeof a4, "%#llx", (unsigned long long)membase);
    snprintf(a5, sizeof a5, "%llu", (unsigned long long)memsize);
    const char *argv[] = { d->name, f->name, a1, a2, a3, a4, a5 };
    struct lanes_spawn_opts opts = { LANES_HANDLE_NONE, hs, nh, false };
    int64_t p = lanes_spawn_image(d->name, d->image, d->len, 7, argv, &opts);
    for (int i = 0; i < nh; i++)
        lanes_sys_handle_close(hs[i].handle);
    if (p < 0) {
        printf("pci: %s: cannot start its driver %s: %s\n", f->name, d->name, lanes_strerror(p));
        return;
    }
    for (int i = 0; i < PCI_MAX_FNS; i++)
        if (!bindings[i].used) {
            bindings[i] = (struct binding){ true, false, "", "", di, (int32_t)p };
            snprintf(bindings[i].fn, sizeof bindings[i].fn, "%s", f->name);
            snprintf(bindings[i].path, sizeof bindings[i].path, "%s", f->path);
            publish_driver(f, d->name, NULL);
            return;
        }
    lanes_sys_process_kill((int32_t)p, 0);
    lanes_sys_handle_close((int32_t)p);
}

/* Drivers that ended, and functions that went: unbind. Then bind what is unbound (after a
 * rescan also functions whose driver had ended). */
void bind_update(const struct pci_fn *fns, int n, bool rescan)
{
    if (system_cap == LANES_HANDLE_NONE)
        return;
    for (int i = 0; i < PCI_MAX_FNS; i++) {
        struct binding *b = &bindings[i];
        if (!b->used)
            continue;
        if (b->ended) {
            if (rescan)
                b->used = false;
            continue;
        }
        const struct pci_fn *f = NULL;
        for (int j = 0; j < n && !f; j++)
            if (!strcmp(fns[j].name, b->fn) && !strcmp(fns[j].path, b->path))
                f = &fns[j];
        struct lane_exit_info info;
        bool ended = lanes_wait(b->proc, &info, 0) >= 0;
        if (f && !ended)
            continue;
        if (!ended)
            lanes_sys_process_kill(b->proc, 0);
        lanes_sys_handle_close(b->proc);
        b->proc = LANES_HANDLE_NONE;
        if (f) {
            b->ended = true;
            printf("pci: %s: its driver %s ended; unbound\n", b->fn, drivers[b->driver].name);
            publish_driver(f, NULL, drivers[b->driver].name);
        } else {
            b->used = false;
            publish_driver_gone(b->fn, drivers[b->driver].name);
        }
    }
    for (int j = 0; j < n; j++) {
        if (bound(fns[j].name))
            continue;
        for (int d = 0; d < ndrivers; d++)
            if (matches(&drivers[d], &fns[j])) {
                start(&fns[j], d);
                break;
            }
    }
}
