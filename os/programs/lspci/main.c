/* lspci — lists PCI functions from /sys/bus/pci, as Linux's pciutils do.
 *
 *   lspci          00:1f.2 SATA controller: Intel Corporation 82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode] (rev 02)
 *   lspci -n       00:1f.2 0106: 8086:2922 (rev 02)
 *   lspci -nn      00:1f.2 SATA controller [0106]: Intel Corporation ... [8086:2922] (rev 02)
 *   lspci -v       and, below each: Subsystem, Flags (bus master, IRQ), every BAR and the ROM
 *                  with its size, the capability list, the bound driver
 *   lspci -t       the bus as a tree, bridges with their bus ranges (-[0000:00]-+-00.0 ...)
 *
 * Everything comes from the pci server's sysfs files (vendor, device, class, revision in
 * config, irq, resource, config for the capabilities, the driver link) — the files Linux's lspci
 * reads with its linux-sysfs method. Names come from a small built-in table (the classes and
 * the devices QEMU emulates); anything else prints as Linux's lspci prints without pci.ids
 * ("Device 1234:5678"). It waits up to 5 s for /sys/bus/pci/rescan, which the server makes
 * after its first walk.
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF 128

struct fn {
    char name[16];              /* 0000:00:1f.2 */
    char path[160];             /* the directory, links followed */
    unsigned vendor, device, svendor, sdevice, class, rev, irq;
    unsigned char cfg[4096];    /* 4096 bytes on a PCIe function reached through ECAM */
    int cfglen;
    char driver[32];
    unsigned long long res[17][3];
    int nres;
    int bus, dev, func;
};

static struct fn fns[MAXF];
static int nf;

static const struct { unsigned cls; const char *name; } classes[] = {
    { 0x0000, "Non-VGA unclassified device" }, { 0x0001, "VGA compatible unclassified device" },
    { 0x0100, "SCSI storage controller" }, { 0x0101, "IDE interface" }, { 0x0104, "RAID bus controller" },
    { 0x0105, "ATA controller" }, { 0x0106, "SATA controller" }, { 0x0107, "Serial Attached SCSI controller" },
    { 0x0108, "Non-Volatile memory controller" }, { 0x0180, "Mass storage controller" },
    { 0x0200, "Ethernet controller" }, { 0x0280, "Network controller" }, { 0x0300, "VGA compatible controller" },
    { 0x0302, "3D controller" }, { 0x0380, "Display controller" }, { 0x0401, "Multimedia audio controller" },
    { 0x0403, "Audio device" }, { 0x0500, "RAM memory" }, { 0x0580, "Memory controller" },
    { 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" }, { 0x0604, "PCI bridge" }, { 0x0680, "Bridge" },
    { 0x0700, "Serial controller" }, { 0x0780, "Communication controller" }, { 0x0880, "System peripheral" },
    { 0x0c03, "USB controller" }, { 0x0c05, "SMBus" }, { 0x00ff, "Unassigned class" }, { 0xff00, "Unassigned class" },
};

static const struct { unsigned vendor, device; const char *vname, *dname; } ids[] = {
    { 0x8086, 0x1237, "Intel Corporation", "440FX - 82441FX PMC [Natoma]" },
    { 0x8086, 0x7000, "Intel Corporation", "82371SB PIIX3 ISA [Natoma/Triton II]" },
    { 0x8086, 0x7010, "Intel Corporation", "82371SB PIIX3 IDE [Natoma/Triton II]" },
    { 0x8086, 0x7020, "Intel Corporation", "82371SB PIIX3 USB [Natoma/Triton II]" },
    { 0x8086, 0x7113, "Intel Corporation", "82371AB/EB/MB PIIX4 ACPI" },
    { 0x8086, 0x100e, "Intel Corporation", "82540EM Gigabit Ethernet Controller" },
    { 0x8086, 0x10d3, "Intel Corporation", "82574L Gigabit Network Connection" },
    { 0x8086, 0x29c0, "Intel Corporation", "82G33/G31/P35/P31 Express DRAM Controller" },
    { 0x8086, 0x2918, "Intel Corporation", "82801IB (ICH9) LPC Interface Controller" },
    { 0x8086, 0x2922, "Intel Corporation", "82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]" },
    { 0x8086, 0x2930, "Intel Corporation", "82801I (ICH9 Family) SMBus Controller" },
    { 0x8086, 0x293e, "Intel Corporation", "82801I (ICH9 Family) HD Audio Controller" },
    { 0x1234, 0x1111, "Device", "1234:1111" },
    { 0x1b36, 0x000c, "Red Hat, Inc.", "QEMU PCIe Root port" },
    { 0x1b36, 0x000d, "Red Hat, Inc.", "QEMU XHCI Host Controller" },
    { 0x1b36, 0x0001, "Red Hat, Inc.", "QEMU PCI-PCI bridge" },
    { 0x1b36, 0x0002, "Red Hat, Inc.", "QEMU PCI 16550A Adapter" },
    { 0x1b36, 0x0005, "Red Hat, Inc.", "QEMU PCI Test Device" },
    { 0x1b36, 0x0010, "Red Hat, Inc.", "QEMU NVM Express Controller" },
    { 0x1af4, 0x1000, "Red Hat, Inc.", "Virtio network device" },
    { 0x1af4, 0x1001, "Red Hat, Inc.", "Virtio block device" },
    { 0x1af4, 0x1110, "Red Hat, Inc.", "Inter-VM shared memory" },
    { 0x1af4, 0x1041, "Red Hat, Inc.", "Virtio 1.0 network device" },
    { 0x1af4, 0x1042, "Red Hat, Inc.", "Virtio 1.0 block device" },
    { 0x1af4, 0x1052, "Red Hat, Inc.", "Virtio 1.0 input" },
};

static const char *class_name(unsigned cls)
{
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        if (classes[i].cls == cls)
            return classes[i].name;
    return NULL;
}

static int sysread(const char *path, char *buf, size_t cap)
{
    int64_t r = lanes_sys_sysfs_read(path, strlen(path), buf, cap - 1);
    if (r < 0)
        return -1;
    buf[r] = 0;
    return (int)r;
}

static unsigned attr_num(const struct fn *f, const char *name)
{
    char p[200], v[64];
    snprintf(p, sizeof p, "%s/%s", f->path, name);
    return sysread(p, v, sizeof v) > 0 ? (unsigned)strtoul(v, NULL, 0) : 0;
}

static int cmp_fn(const void *a, const void *b)
{
    return strcmp(((const struct fn *)a)->name, ((const struct fn *)b)->name);
}

static int load(void)
{
    struct lane_sysfs_stat st;
    for (int i = 0; i < 50 && lanes_sys_sysfs_stat("/sys/bus/pci/rescan", 19, &st) < 0; i++)
        lanes_sys_sleep(LANES_MS(100));
    static char list[8192];
    int64_t r = lanes_sys_sysfs_list("/sys/bus/pci/devices", 20, list, sizeof list - 1);
    if (r < 0) {
        printf("lspci: /sys/bus/pci/devices: %s (is the pci server running?)\n", lanes_strerror(r));
        return -1;
    }
    list[r] = 0;
    for (char *l = list; *l && nf < MAXF;) {
        char *nl = strchr(l, '\n');
        if (!nl)
            break;
        *nl = 0;
        if (l[0] == 'l') {
            struct fn *f = &fns[nf];
            memset(f, 0, sizeof *f);
            snprintf(f->name, sizeof f->name, "%s", l + 2);
            snprintf(f->path, sizeof f->path, "/sys/bus/pci/devices/%s", f->name);
            if (strlen(f->name) == 12 && f->name[4] == ':' && f->name[7] == ':' && f->name[10] == '.') {
                f->bus = (int)strtoul(f->name + 5, NULL, 16);
                f->dev = (int)strtoul(f->name + 8, NULL, 16);
                f->func = (int)strtoul(f->name + 11, NULL, 16);
                f->vendor = attr_num(f, "vendor");
                f->device = attr_num(f, "device");
                f->svendor = attr_num(f, "subsystem_vendor");
                f->sdevice = attr_num(f, "subsystem_device");
                f->class = attr_num(f, "class");
                f->irq = attr_num(f, "irq");
                char p[200];
                snprintf(p, sizeof p, "%s/config", f->path);
                int64_t n = lanes_sys_sysfs_read(p, strlen(p), f->cfg, sizeof f->cfg);
                f->cfglen = n > 0 ? (int)n : 0;
                f->rev = f->cfglen > 8 ? f->cfg[8] : 0;
                snprintf(p, sizeof p, "%s/driver", f->path);
                char t[160];
                int64_t k = lanes_sys_sysfs_readlink(p, strlen(p), t, sizeof t - 1);
                if (k > 0) {
                    t[k] = 0;
                    snprintf(f->driver, sizeof f->driver, "%s", strrchr(t, '/') ? strrchr(t, '/') + 1 : t);
                }
                static char rbuf[2048];
                snprintf(p, sizeof p, "%s/resource", f->path);
                if (sysread(p, rbuf, sizeof rbuf) > 0)
                    for (char *s = rbuf; *s && f->nres < 17; f->nres++) {
                        char *e;
                        for (int c = 0; c < 3; c++) {
                            f->res[f->nres][c] = strtoull(s, &e, 16);
                            s = e;
                        }
                        while (*s == '\n' || *s == ' ')
                            s++;
                    }
                nf++;
            }
        }
        l = nl + 1;
    }
    for (int i = 1; i < nf; i++)            /* by name: domain, bus, device, function */
        for (int j = i; j > 0 && cmp_fn(&fns[j - 1], &fns[j]) > 0; j--) {
            static struct fn t;
            t = fns[j];
            fns[j] = fns[j - 1];
            fns[j - 1] = t;
        }
    return 0;
}

static void header(const struct fn *f, int numeric, int verb_header)
{
    const char *cn = class_name(f->class >> 8);
    const char *vn = NULL, *dn = NULL;
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        if (ids[i].vendor == f->vendor && ids[i].device == f->device) {
            vn = ids[i].vname;
            dn = ids[i].dname;
        }
    printf("%02x:%02x.%x ", f->bus, f->dev, f->func);
    if (numeric == 1) {
        printf("%04x: %04x:%04x", f->class >> 8, f->vendor, f->device);
    } else {
        if (cn)
            printf("%s", cn);
        else
            printf("Class %04x", f->class >> 8);
        if (numeric == 2)
            printf(" [%04x]", f->class >> 8);
        if (vn && strcmp(vn, "Device"))
            printf(": %s %s", vn, dn);
        else
            printf(": Device %s%04x:%04x%s", numeric == 2 ? "[" : "", f->vendor, f->device, numeric == 2 ? "]" : "");
        if (numeric == 2 && vn && strcmp(vn, "Device"))
            printf(" [%04x:%04x]", f->vendor, f->device);
    }
    if (f->rev)
        printf(" (rev %02x)", f->rev);
    if (verb_header && (f->class & 0xff))
        printf(" (prog-if %02x)", f->class & 0xff);
    printf("\n");
}

static const char *ecap_name(unsigned id)
{
    switch (id) {
    case 0x01: return "Advanced Error Reporting";
    case 0x02: case 0x09: return "Virtual Channel";
    case 0x03: return "Device Serial Number";
    case 0x04: return "Power Budgeting";
    case 0x0b: return "Vendor Specific Information";
    case 0x0d: return "Access Control Services";
    case 0x0e: return "Alternative Routing-ID Interpretation (ARI)";
    case 0x10: return "Single Root I/O Virtualization (SR-IOV)";
    case 0x18: return "Latency Tolerance Reporting";
    case 0x19: return "Secondary PCI Express";
    case 0x1e: return "L1 PM Substates";
    default: return "Extended Capability";
    }
}

static const char *cap_name(unsigned id)
{
    switch (id) {
    case 0x01: return "Power Management";
    case 0x05: return "MSI";
    case 0x09: return "Vendor Specific Information";
    case 0x0d: return "Subsystem";
    case 0x10: return "Express";
    case 0x11: return "MSI-X";
    case 0x12: return "SATA HBA";
    case 0x13: return "PCI Advanced Features";
    default: return "Capability";
    }
}

static void size_str(unsigned long long sz, char *b, size_t cap)
{
    const char *u = "";
    if (sz >= (1ull << 30) && !(sz & ((1ull << 30) - 1))) { sz >>= 30; u = "G"; }
    else if (sz >= (1ull << 20) && !(sz & ((1ull << 20) - 1))) { sz >>= 20; u = "M"; }
    else if (sz >= 1024 && !(sz & 1023)) { sz >>= 10; u = "K"; }
    snprintf(b, cap, "%llu%s", sz, u);
}

static void verbose(const struct fn *f)
{
    if (f->svendor || f->sdevice)
        printf("\tSubsystem: Device %04x:%04x\n", f->svendor, f->sdevice);
    unsigned cmd = f->cfglen > 5 ? f->cfg[4] | f->cfg[5] << 8 : 0;
    printf("\tFlags: %s%s", cmd & 4 ? "bus master, " : "", "fast devsel");
    if (f->irq)
        printf(", IRQ %u", f->irq);
    printf("\n");
    for (int i = 0; i < 7 && i < f->nres; i++) {
        unsigned long long s = f->res[i][0], e = f->res[i][1], fl = f->res[i][2];
        if (!fl)
            continue;
        char sz[32];
        size_str(e - s + 1, sz, sizeof sz);
        if (i == 6)
            printf("\tExpansion ROM at %08llx%s [size=%s]\n", s, fl & 1 ? "" : " [disabled]", sz);
        else if (fl & 0x100)
            printf("\tI/O ports at %04llx [size=%s]\n", s, sz);
        else
            printf("\tMemory at %08llx (%s, %sprefetchable) [size=%s]\n", s, fl & 0x100000 ? "64-bit" : "32-bit",
                   fl & 0x2000 ? "" : "non-", sz);
    }
    if (f->cfglen >= 64 && (f->cfg[6] & 0x10)) {
        unsigned p = f->cfg[(f->cfg[14] & 0x7f) == 2 ? 0x14 : 0x34] & 0xfc;
        for (int hops = 0; p >= 0x40 && p < (unsigned)f->cfglen && hops < 48; hops++) {
            printf("\tCapabilities: [%02x] %s\n", p, cap_name(f->cfg[p]));
            p = f->cfg[p + 1] & 0xfc;
        }
    }
    /* extended capabilities (PCIe, 4096-byte config through ECAM): a dword header each, id in
     * bits 0-15, version 16-19, next 20-31 (pciutils' ls-ecaps.c prints them this way) */
    for (unsigned p = 0x100, hops = 0; f->cfglen == 4096 && p >= 0x100 && p + 4 <= 4096 && hops < 64; hops++) {
        uint32_t h;
        memcpy(&h, f->cfg + p, 4);
        if (!h || h == 0xffffffffu)
            break;
        printf("\tCapabilities: [%03x v%u] %s\n", p, (h >> 16) & 0xf, ecap_name(h & 0xffff));
        p = (h >> 20) & 0xffc;
    }
    if (f->driver[0])
        printf("\tKernel driver in use: %s\n", f->driver);
    printf("\n");
}

/* -t: the tree, drawn with pciutils' own algorithm (ls-tree.c): one line buffer; after each
 * printed line every '+' and '|' in it becomes '|' and everything else a space, which is the
 * prefix of the next line. */
static char tline[1024];

static void print_it(char *p)
{
    *p++ = '\n';
    *p = 0;
    printf("%s", tline);
    for (p = tline; *p; p++)
        *p = *p == '+' || *p == '|' ? '|' : ' ';
}

static void tree_bus(int bus, char *p);

static void tree_dev(const struct fn *f, char *p)
{
    p += snprintf(p, 16, "%02x.%x", f->dev, f->func);
    if (f->cfglen > 0x1a && (f->cfg[14] & 0x7f) == 1) {
        int sec = f->cfg[0x19], sub = f->cfg[0x1a];
        p += sec == sub ? snprintf(p, 16, "-[%02x]-", sec) : snprintf(p, 16, "-[%02x-%02x]-", sec, sub);
        *p++ = '-';
        if (sec > f->bus)           /* a loop is not drawn twice */
            tree_bus(sec, p);
        else
            print_it(p);
        return;
    }
    print_it(p);
}

static void tree_bus(int bus, char *p)
{
    int kids[MAXF], n = 0;
    for (int i = 0; i < nf; i++)
        if (fns[i].bus == bus)
            kids[n++] = i;
    if (p - tline > (long)sizeof tline - 64)
        n = 0;
    if (n == 0) {
        print_it(p);
    } else if (n == 1) {
        *p++ = '-';
        *p++ = '-';
        tree_dev(&fns[kids[0]], p);
    } else {
        for (int k = 0; k < n; k++) {
            p[0] = k == n - 1 ? '\\' : '+';
            p[1] = '-';
            tree_dev(&fns[kids[k]], p + 2);
        }
    }
}

int main(int argc, char **argv)
{
    int numeric = 0, verb = 0, tree = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n")) numeric = 1;
        else if (!strcmp(argv[i], "-nn")) numeric = 2;
        else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "-vv")) verb = 1;
        else if (!strcmp(argv[i], "-t")) tree = 1;
        else if (!strcmp(argv[i], "-tv") || !strcmp(argv[i], "-vt")) tree = 1;
        else {
            printf("usage: lspci [-n | -nn] [-v] [-t]\n");
            return 2;
        }
    }
    if (load() < 0)
        return 1;
    if (tree) {
        char *p = tline;
        p += snprintf(p, 16, "-[0000:00]-");
        tree_bus(0, p);
        return 0;
    }
    for (int i = 0; i < nf; i++) {
        header(&fns[i], numeric, verb);
        if (verb)
            verbose(&fns[i]);
    }
    return 0;
}
