/*
 * publish.c — the bus as Linux's sysfs shows it, byte for byte, so that Linux's own lspci
 * (`lspci -A linux-sysfs -O sysfs.path=<a copy of /sys>`) reads it unchanged:
 *
 *   /sys/devices/pci0000:00/                      the root bus (uevent: empty)
 *   /sys/devices/pci0000:00/0000:00:1c.0/         a function; behind a bridge its functions
 *       0000:01:00.0/                             are directories inside the bridge's
 *     vendor device subsystem_vendor subsystem_device  "0x8086\n"
 *     class "0x010601\n"  revision "0x02\n"  irq "11\n"
 *     resource   13 lines (17 for a bridge) "0x%016llx 0x%016llx 0x%016llx\n": start end flags
 *     config     binary, the 256 bytes of configuration space (read after sizing); 4096 on a
 *                PCIe function when ECAM reaches it (ecam.c), as Linux
 *     uevent     [DRIVER=..] PCI_CLASS PCI_ID PCI_SUBSYS_ID PCI_SLOT_NAME MODALIAS lines
 *     subsystem  -> ../../../bus/pci        (a symlink, as every link here: relative)
 *     remove     write 1: the function (a bridge: with everything behind it) goes until a rescan
 *   /sys/bus/pci/devices/0000:00:1c.0 -> ../../../devices/pci0000:00/0000:00:1c.0
 *   /sys/bus/pci/rescan                       write 1: walk the bus again (main.c)
 *
 * A function that appears gets its directory, attributes and links, then an `add` uevent
 * (SUBSYSTEM=pci + the uevent lines); one that is gone gets a `remove` uevent, then its
 * directory and link go; one that stays is published again, which the kernel records only
 * where a value changed.
 */
#include "pci.h"
#include <lanes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern int32_t cap_devices, cap_bus;

static int64_t pub(int32_t cap, uint32_t op, uint32_t flags, const char *path, const void *data, size_t len)
{
    struct lane_sysfs_publish q;
    memset(&q, 0, sizeof q);
    q.op = op;
    q.flags = flags;
    q.path = (uint64_t)(uintptr_t)path;
    q.path_len = strlen(path);
    q.data = (uint64_t)(uintptr_t)data;
    q.data_len = len;
    int64_t r = lanes_sys_sysfs_publish(cap, &q);
    if (r < 0 && op != LANES_SYSFS_OP_REMOVE)
        printf("pci: publishing %s: %s\n", path, lanes_strerror(r));
    return r;
}

static void attr(const char *dir, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void attr(const char *dir, const char *name, const char *fmt, ...)
{
    char path[PCI_PATH_MAX + 32], val[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    pub(cap_devices, LANES_SYSFS_OP_ATTR, 0, path, val, (size_t)n);
}

/* A link at `at` (canonical /sys/...) to `target` (canonical), written relative as Linux does. */
static void link_rel(int32_t cap, const char *at, const char *target)
{
    char rel[PCI_PATH_MAX * 2] = "";
    size_t len = 0;
    for (const char *p = at + 4; *p; p++)       /* one ../ per directory between /sys and at's */
        if (*p == '/' && strchr(p + 1, '/'))
            len += (size_t)snprintf(rel + len, sizeof rel - len, "../");
    snprintf(rel + len, sizeof rel - len, "%s", target + 5);
    pub(cap, LANES_SYSFS_OP_LINK, 0, at, rel, strlen(rel));
}

static size_t uevent_text(const struct pci_fn *f, const char *driver, char *b, size_t cap)
{
    size_t n = 0;
    if (driver)
        n += (size_t)snprintf(b + n, cap - n, "DRIVER=%s\n", driver);
    n += (size_t)snprintf(b + n, cap - n,
                          "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n"
                          "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
                          (unsigned)f->class, f->vendor, f->device, f->svendor, f->sdevice, f->name,
                          f->vendor, f->device, f->svendor, f->sdevice, (unsigned)(f->class >> 16),
                          (unsigned)(f->class >> 8) & 0xff, (unsigned)f->class & 0xff);
    return n;
}

void publish_roots(void)
{
    pub(cap_devices, LANES_SYSFS_OP_MKDIR, 0, "/sys/devices/pci0000:00", NULL, 0);
    pub(cap_devices, LANES_SYSFS_OP_ATTR, 0, "/sys/devices/pci0000:00/uevent", "", 0);
    pub(cap_bus, LANES_SYSFS_OP_MKDIR, 0, "/sys/bus/pci", NULL, 0);
    pub(cap_bus, LANES_SYSFS_OP_MKDIR, 0, "/sys/bus/pci/devices", NULL, 0);
    pub(cap_bus, LANES_SYSFS_OP_MKDIR, 0, "/sys/bus/pci/drivers", NULL, 0);
}

void publish_rescan(void)
{
    pub(cap_bus, LANES_SYSFS_OP_ATTR, LANES_SYSFS_PUB_WRITABLE, "/sys/bus/pci/rescan", "", 0);
}

static void publish_fn(const struct pci_fn *f)
{
    char buf[PCI_NRES_BRIDGE * 60 + 16];
    pub(cap_devices, LANES_SYSFS_OP_MKDIR, 0, f->path, NULL, 0);
    attr(f->path, "vendor", "0x%04x\n", f->vendor);
    attr(f->path, "device", "0x%04x\n", f->device);
    attr(f->path, "subsystem_vendor", "0x%04x\n", f->svendor);
    attr(f->path, "subsystem_device", "0x%04x\n", f->sdevice);
    attr(f->path, "class", "0x%06x\n", (unsigned)f->class);
    attr(f->path, "revision", "0x%02x\n", f->rev);
    attr(f->path, "irq", "%u\n", f->irq_line);
    size_t n = 0;
    for (int i = 0; i < f->nres; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "0x%016llx 0x%016llx 0x%016llx\n",
                              (unsigned long long)f->res[i].start, (unsigned long long)f->res[i].end,
                              (unsigned long long)f->res[i].flags);
    char path[PCI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/resource", f->path);
    pub(cap_devices, LANES_SYSFS_OP_ATTR, 0, path, buf, n);
    snprintf(path, sizeof path, "%s/config", f->path);
    pub(cap_devices, LANES_SYSFS_OP_ATTR, LANES_SYSFS_PUB_BINARY, path, f->cfg, f->cfg_size);
    n = uevent_text(f, bind_driver_of(f->name), buf, sizeof buf);
    snprintf(path, sizeof path, "%s/uevent", f->path);
    pub(cap_devices, LANES_SYSFS_OP_ATTR, 0, path, buf, n);
    snprintf(path, sizeof path, "%s/remove", f->path);     /* write 1: gone until the next rescan */
    pub(cap_devices, LANES_SYSFS_OP_ATTR, LANES_SYSFS_PUB_WRITABLE, path, "", 0);
    snprintf(path, sizeof path, "%s/subsystem", f->path);
    link_rel(cap_devices, path, "/sys/bus/pci");
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s", f->name);
    link_rel(cap_bus, path, f->path);
}

static bool same(const struct pci_fn *a, const struct pci_fn *b)
{
    return !strcmp(a->path, b->path) && a->vendor == b->vendor && a->device == b->device;
}

static void uevent(const struct pci_fn *f, uint32_t action)
{
    char env[512] = "SUBSYSTEM=pci\n";
    size_t n = strlen(env);
    uevent_text(f, bind_driver_of(f->name), env + n, sizeof env - n);
    pub(cap_devices, LANES_SYSFS_OP_UEVENT, action, f->path, env, strlen(env));
}

/* Bound (driver) or unbound (NULL; old names the driver it had): links, uevent file, uevent. */
void publish_driver(const struct pci_fn *f, const char *driver, const char *old)
{
    char path[PCI_PATH_MAX + 48], target[PCI_PATH_MAX];
    char buf[512];
    size_t n = uevent_text(f, driver, buf, sizeof buf);
    snprintf(path, sizeof path, "%s/uevent", f->path);
    pub(cap_devices, LANES_SYSFS_OP_ATTR, 0, path, buf, n);
    snprintf(path, sizeof path, "%s/driver", f->path);
    if (driver) {
        snprintf(target, sizeof target, "/sys/bus/pci/drivers/%s", driver);
        pub(cap_bus, LANES_SYSFS_OP_MKDIR, 0, target, NULL, 0);
        link_rel(cap_devices, path, target);
        snprintf(path, sizeof path, "/sys/bus/pci/drivers/%s/%s", driver, f->name);
        link_rel(cap_bus, path, f->path);
        uevent(f, PCI_UEVENT_BIND);
    } else {
        pub(cap_devices, LANES_SYSFS_OP_REMOVE, 0, path, NULL, 0);
        publish_driver_gone(f->name, old);
        uevent(f, PCI_UEVENT_UNBIND);
    }
}

void publish_driver_gone(const char *fn_name, const char *driver)
{
    char path[PCI_PATH_MAX];
    snprintf(path, sizeof path, "/sys/bus/pci/drivers/%s/%s", driver, fn_name);
    pub(cap_bus, LANES_SYSFS_OP_REMOVE, 0, path, NULL, 0);
}

/* From what was published (old) to what the walk found (now): remove, add, refresh. */
void publish_changes(const struct pci_fn *old, int nold, const struct pci_fn *now, int nnow, int *added, int *removed)
{
    *added = *removed = 0;
    for (int i = nold - 1; i >= 0; i--) {       /* children (later in walk order) first */
        bool kept = false;
        for (int j = 0; j < nnow && !kept; j++)
            kept = same(&old[i], &now[j]);
        if (kept)
            continue;
        uevent(&old[i], PCI_UEVENT_REMOVE);
        char path[PCI_PATH_MAX];
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s", old[i].name);
        pub(cap_bus, LANES_SYSFS_OP_REMOVE, 0, path, NULL, 0);
        pub(cap_devices, LANES_SYSFS_OP_REMOVE, 0, old[i].path, NULL, 0);
        (*removed)++;
    }
    for (int j = 0; j < nnow; j++) {
        bool known = false;
        for (int i = 0; i < nold && !known; i++)
            known = same(&old[i], &now[j]);
        publish_fn(&now[j]);
        if (!known) {
            uevent(&now[j], PCI_UEVENT_ADD);
            (*added)++;
        }
    }
}
