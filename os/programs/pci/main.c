/* pci — the PCI driver server: walks the bus and publishes it in sysfs the way Linux does.
 *
 * Its manifest asks for configuration mechanism #1 (ports 0xcf8..0xcff) and for two sysfs
 * subtrees, /sys/devices/pci0000:00 and /sys/bus/pci; init grants exactly those (Helios
 * style) and keeps it running as a service. At start it walks the bus (enum.c), says how long
 * that took and what it skipped, publishes every function (publish.c), and only then makes
 * /sys/bus/pci/rescan — so a program that sees rescan sees the whole bus. Then it waits for
 * writes to rescan (sysfs_wait): "1" walks the bus again, publishes what changed (a function
 * added with QEMU's device_add on a hot-pluggable port appears, with an `add` uevent; one
 * removed goes, with `remove`) and answers the write when done, as Linux does; anything else
 * is answered INVAL. Writing 1 to a function's `remove` takes it (and what is behind it) out of
 * sysfs until the next rescan.
 *
 * Drivers bind by manifest (bind.c): a program in the initrd whose manifest says `pci 8086:100e`
 * is started for each such function with exactly its I/O BARs and IRQ, and linked as `driver`.
 *
 * Where ACPI has an MCFG (q35), configuration space is reached through memory (ECAM, ecam.c:
 * mapped bus by bus with mmio_create from the SYSTEM capability), and a PCIe function's config
 * holds 4096 bytes, as on Linux; elsewhere (pc) through the ports, 256 bytes.
 */
#include "pci.h"
#include <lanes.h>
#include <stdio.h>
#include <string.h>

LANES_MANIFEST("ioport 0xcf8 8");
LANES_MANIFEST("sysfs /sys/devices/pci0000:00");
LANES_MANIFEST("sysfs /sys/bus/pci");
LANES_MANIFEST("system");      /* to grant drivers their function's I/O BARs and IRQ (bind.c) */

int32_t cap_devices = LANES_HANDLE_NONE, cap_bus = LANES_HANDLE_NONE;

static struct pci_fn fns[2][PCI_MAX_FNS];
static int nfns[2], cur;

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t cf8_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    (void)ctx;
    outl(0xcf8, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xfc));
    return inl(0xcfc);
}

static void cf8_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v)
{
    (void)ctx;
    outl(0xcf8, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xfc));
    outl(0xcfc, v);
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    printf("pci: %s\n", msg);
}

static const struct pci_cfg cf8 = { cf8_read, cf8_write, NULL, report };

/* The function the kernel keeps its trace rings in, if any: the walk sends it no writes
 * (claim.c). Read once: the kernel takes it at boot and never lets go. */
static struct pci_claim claim;

static void read_claim(void)
{
    char b[160];
    int64_t n = lanes_sys_sysfs_read("/sys/kernel/trace/pci", strlen("/sys/kernel/trace/pci"), b, sizeof b - 1);
    if (n < 0) {
        printf("pci: /sys/kernel/trace/pci: %s (walking every function)\n", lanes_strerror(n));
        return;
    }
    b[n] = 0;
    int r = claim_parse(&claim, b);
    if (r < 0)
        printf("pci: /sys/kernel/trace/pci is malformed (\"%.*s\"): walking every function\n", (int)strcspn(b, "\n"), b);
    else if (r > 0)
        printf("pci: 0000:%02x:%02x.%x holds the kernel's trace rings: sized from what the kernel read, "
               "no configuration writes\n", claim.bus, claim.dev, claim.fn);
}

/* One walk, its publication and the drivers it needs; returns the walk's time in microseconds. */
static uint64_t scan(int *added, int *removed)
{
    int next = cur ^ 1;
    uint64_t t0 = lanes_now_ns();
    struct pci_cfg c = claim_cfg(&claim, ecam_cfg(&cf8));
    nfns[next] = pci_enumerate(&c, fns[next], PCI_MAX_FNS);
    ecam_extend(fns[next], nfns[next]);
    uint64_t us = (lanes_now_ns() - t0) / 1000;
    publish_changes(fns[cur], nfns[cur], fns[next], nfns[next], added, removed);
    cur = next;
    bind_update(fns[cur], nfns[cur], true);
    return us;
}

/* /sys/.../FUNCTION/remove: the function (and, for a bridge, everything behind it) leaves
 * sysfs, with `remove` uevents and its driver stopped, until a rescan finds it again — Linux's
 * remove attribute. */
static int64_t remove_fn(const char *path, size_t dl)
{
    int next = cur ^ 1, n = 0;
    bool found = false;
    for (int i = 0; i < nfns[cur]; i++) {
        const struct pci_fn *f = &fns[cur][i];
        bool gone = !strncmp(f->path, path, dl) && (f->path[dl] == 0 || f->path[dl] == '/');
        found |= gone;
        if (!gone)
            fns[next][n++] = *f;
    }
    if (!found)
        return LANES_E_NOENT;
    int added, removed;
    nfns[next] = n;
    publish_changes(fns[cur], nfns[cur], fns[next], n, &added, &removed);
    cur = next;
    bind_update(fns[cur], nfns[cur], false);
    printf("pci: removed %d function%s below %.*s until the next rescan\n", removed, removed == 1 ? "" : "s",
           (int)dl, path);
    return 0;
}

/* One thread per capability waits for writes to that subtree's attributes (rescan under
 * /sys/bus/pci, remove under /sys/devices/pci0000:00); one lock keeps their work apart. */
static lanes_mutex_t big = LANES_MUTEX_INIT;

static void serve(void *arg)
{
    int32_t cap = (int32_t)(intptr_t)arg;
    char buf[sizeof(struct lane_sysfs_request) + 512];
    for (;;) {
        int64_t n = lanes_sys_sysfs_wait(cap, buf, sizeof buf, LANES_SEC(1));
        if (n < 0) {
            if (n == LANES_E_TIMEOUT && cap == cap_bus) {
                lanes_mutex_lock(&big);
                bind_update(fns[cur], nfns[cur], false);   /* a driver that ended is unbound */
                lanes_mutex_unlock(&big);
            } else if (n != LANES_E_TIMEOUT && n != LANES_E_INTERRUPTED) {
                printf("pci: sysfs_wait: %s\n", lanes_strerror(n));
                lanes_sys_sleep(LANES_MS(100));
            }
            continue;
        }
        struct lane_sysfs_request rq;
        memcpy(&rq, buf, sizeof rq);
        const char *path = buf + sizeof rq, *val = path + rq.path_len + 1;
        struct lane_sysfs_publish q;
        memset(&q, 0, sizeof q);
        q.op = LANES_SYSFS_OP_REPLY;
        q.request = rq.request;
        lanes_mutex_lock(&big);
        size_t pl = strlen(path);
        if (pl > 7 && !strcmp(path + pl - 7, "/remove")) {
            q.result = strcmp(val, "1") ? LANES_E_INVAL : remove_fn(path, pl - 7);
        } else if (!strcmp(path, "/sys/bus/pci/rescan") && !strcmp(val, "1")) {
            int added, removed;
            uint64_t us = scan(&added, &removed);
            printf("pci: rescan: %d functions in %llu us, %d added, %d removed\n", nfns[cur],
                   (unsigned long long)us, added, removed);
        } else {
            q.result = LANES_E_INVAL;
        }
        lanes_mutex_unlock(&big);
        lanes_sys_sysfs_publish(cap, &q);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int32_t port = lanes_handle_by_tag("ioport");
    cap_devices = lanes_handle_by_tag("sysfs");
    cap_bus = lanes_handle_by_tag("sysfs.1");
    if (port == LANES_HANDLE_NONE || cap_devices == LANES_HANDLE_NONE || cap_bus == LANES_HANDLE_NONE) {
        printf("pci: started without its capabilities (ports 0xcf8-0xcff, sysfs /sys/devices/pci0000:00 and "
               "/sys/bus/pci: its manifest asks init for them)\n");
        return 2;
    }
    /* Which capability owns which subtree: the manifest's lines need not keep their order in the
     * ELF section, so ask the kernel (a MKDIR outside a capability's subtree gives ACCESS). */
    struct lane_sysfs_publish q;
    memset(&q, 0, sizeof q);
    q.op = LANES_SYSFS_OP_MKDIR;
    q.path = (uint64_t)(uintptr_t)"/sys/bus/pci";
    q.path_len = strlen("/sys/bus/pci");
    if (lanes_sys_sysfs_publish(cap_bus, &q) == LANES_E_ACCESS) {
        int32_t t = cap_bus;
        cap_bus = cap_devices;
        cap_devices = t;
    }
    int64_t r = lanes_sys_ioport_enable(port);
    if (r < 0) {
        printf("pci: ioport_enable: %s\n", lanes_strerror(r));
        return 3;
    }
    read_claim();
    ecam_init(lanes_handle_by_tag("system"));
    publish_roots();
    bind_init();
    int added, removed;
    uint64_t us = scan(&added, &removed);
    int bridges = 0;
    for (int i = 0; i < nfns[cur]; i++)
        bridges += fns[cur][i].bridge;
    publish_rescan();
    printf("pci: %d functions (%d bridges) in %llu us\n", nfns[cur], bridges, (unsigned long long)us);
    static lanes_thread_t devices_thread;
    if ((r = lanes_thread_start(&devices_thread, serve, (void *)(intptr_t)cap_devices, 0)) < 0)
        printf("pci: cannot start the thread for /sys/devices writes (remove): %s\n", lanes_strerror(r));
    serve((void *)(intptr_t)cap_bus);
    return 0;
}
