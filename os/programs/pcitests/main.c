/* pcitests — in-guest tests of the pci server's sysfs tree and of sysfs's owned subtrees,
 * symlinks, binary attributes and uevents (kernel/generic/sysfs.c, sysfs_owner.c), run by
 * os-test ("pci" configurations, QEMU's pc and q35 with devices behind PCIe root ports).
 *
 * Every attribute of every function is checked against configuration space read here directly
 * (the manifest grants this program ports 0xcf8-0xcff too; it reads only while the server is
 * idle), to the byte of Linux's formats: vendor, device, subsystem_vendor, subsystem_device,
 * class, revision, irq, uevent, config (binary, 256 bytes), resource (13 or 17 lines, BAR bases
 * as configured). Also: /sys/bus/pci/devices/ holds links that resolve into /sys/devices, nested
 * under the bridge whose secondary bus they sit on; writing a read-only attribute gives ACCESS;
 * rescan takes "1" and refuses anything else; a function's remove takes it out (remove uevent)
 * until a rescan brings it back (add uevent); nobody else can own or change the pci subtrees;
 * a subtree of our own (sysfs_grant) with attributes, links, a link loop (RANGE, no hang),
 * uevents to a subscriber, and everything gone when the capability is closed.
 * `pcitests drivers` (not run by default: needs e1000es): every e1000e function is bound
 * to e1000-mac (driver link both ways) and that driver holds the function's I/O BAR and its
 * memory BARs (device memory from mmio_create, /sys/drivers/NAME.PID/mmio);
 * no other function has a driver link.
 * `pcitests hotplug` (not run by default): after QEMU's device_add, a rescan brings a new
 * function with an `add` uevent, its directory and its /sys/bus/pci/devices link.
 * Reported like usertests; ends with exactly "N passed, N failed".
 */
#include <lanes.h>
#include <lanes/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LANES_MANIFEST("system");
LANES_MANIFEST("ioport 0xcf8 8");

#define MAXF 128
#define E(r) lanes_strerror(r)

static int32_t system_cap;
static char names[MAXF][16];
static int nnames;

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t cfg32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
    outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc));
    return inl(0xcfc);
}

static void cfg_all(const char *name, uint8_t out[256])
{
    unsigned bus = (unsigned)strtoul(name + 5, NULL, 16), dev = (unsigned)strtoul(name + 8, NULL, 16),
             fn = (unsigned)strtoul(name + 11, NULL, 16);
    for (unsigned off = 0; off < 256; off += 4) {
        uint32_t v = cfg32(bus, dev, fn, off);
        memcpy(out + off, &v, 4);
    }
}

static int64_t rd(const char *path, char *out, size_t cap)
{
    int64_t r = lanes_sys_sysfs_read(path, strlen(path), out, cap - 1);
    out[r >= 0 ? r : 0] = 0;
    return r;
}

static int64_t wr(const char *path, const char *v)
{
    return lanes_sys_sysfs_write(system_cap, path, strlen(path), v, strlen(v));
}

static int load_names(void)
{
    static char list[8192];
    nnames = 0;
    int64_t r = lanes_sys_sysfs_list("/sys/bus/pci/devices", 20, list, sizeof list - 1);
    if (r < 0)
        return (int)r;
    list[r] = 0;
    for (char *l = list; *l && nnames < MAXF;) {
        char *nl = strchr(l, '\n');
        if (!nl)
            break;
        *nl = 0;
        if (l[0] == 'l' && strlen(l + 2) < sizeof names[0])
            strcpy(names[nnames++], l + 2);
        l = nl + 1;
    }
    return nnames;
}

static bool tree(void)
{
    int n = load_names();
    REQUIRE(n > 0, "/sys/bus/pci/devices: %s", n < 0 ? E(n) : "no links");
    for (int i = 0; i < n; i++) {
        char p[160], t[160], dot[170];
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s", names[i]);
        struct lane_sysfs_stat st;
        int64_t r = lanes_sys_sysfs_stat(p, strlen(p), &st);
        REQUIRE(r == 0 && st.kind == LANES_SYSFS_KIND_LINK, "%s: stat %s kind %u, not a link", p, E(r), st.kind);
        r = lanes_sys_sysfs_readlink(p, strlen(p), t, sizeof t - 1);
        REQUIRE(r > 0, "readlink %s: %s", p, E(r));
        t[r] = 0;
        REQUIRE(!strncmp(t, "../../../devices/pci0000:00/", 28), "%s -> %s: not into /sys/devices/pci0000:00", p, t);
        size_t tl = strlen(t), nl = strlen(names[i]);
        REQUIRE(tl > nl && !strcmp(t + tl - nl, names[i]) && t[tl - nl - 1] == '/', "%s -> %s: wrong last name", p, t);
        snprintf(dot, sizeof dot, "%s/.", p);
        r = lanes_sys_sysfs_stat(dot, strlen(dot), &st);
        REQUIRE(r == 0 && st.kind == LANES_SYSFS_KIND_DIR, "%s does not resolve to a directory (%s)", p, E(r));
        /* nesting: the directory above a function on bus N>0 is the bridge to bus N */
        unsigned bus = (unsigned)strtoul(names[i] + 5, NULL, 16);
        char parent[16] = "";
        const char *slash = t + tl - nl - 1, *ps = slash - 1;
        while (ps > t && *ps != '/')
            ps--;
        if (slash - ps - 1 < (long)sizeof parent)
            memcpy(parent, ps + 1, (size_t)(slash - ps - 1)), parent[slash - ps - 1] = 0;
        if (bus == 0) {
            REQUIRE(!strcmp(parent, "pci0000:00"), "%s: on bus 0 but under %s", names[i], parent);
        } else {
            uint8_t c[256];
            REQUIRE(strlen(parent) == 12, "%s: on bus %u but under %s", names[i], bus, parent);
            cfg_all(parent, c);
            REQUIRE((c[14] & 0x7f) == 1 && c[0x19] == bus, "%s: under %s, which is not the bridge to bus %u",
                    names[i], parent, bus);
        }
    }
    snprintf(why, sizeof why, "%d functions, every link resolves", n);
    return true;
}

static bool expect(const char *name, const char *attr, const char *want)
{
    char p[160], v[512];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/%s", name, attr);
    int64_t r = rd(p, v, sizeof v);
    if (r < 0)
        FAIL("%s: %s", p, E(r));
    if (strcmp(v, want))
        FAIL("%s is '%s', config space says '%s'", p, v, want);
    return true;
}

static bool attributes(void)
{
    REQUIRE(load_names() > 0, "no functions");
    for (int i = 0; i < nnames; i++) {
        uint8_t c[256];
        cfg_all(names[i], c);
        unsigned vendor = c[0] | c[1] << 8, device = c[2] | c[3] << 8, cls = c[9] | c[10] << 8 | c[11] << 16;
        unsigned hdr = c[14] & 0x7f;
        unsigned sv = 0, sd = 0;
        if (hdr == 0) {
            sv = c[0x2c] | c[0x2d] << 8;
            sd = c[0x2e] | c[0x2f] << 8;
        }
        unsigned irq = c[0x3d] && c[0x3c] != 0xff ? c[0x3c] : 0;
        char w[512], drv[64] = "", lp[160];
        snprintf(lp, sizeof lp, "/sys/bus/pci/devices/%s/driver", names[i]);
        int64_t dl = lanes_sys_sysfs_readlink(lp, strlen(lp), w, sizeof w - 1);
        if (dl > 0) {
            w[dl] = 0;
            snprintf(drv, sizeof drv, "DRIVER=%s\n", strrchr(w, '/') + 1);
        }
#define CHECK(attr, ...)                                \
        snprintf(w, sizeof w, __VA_ARGS__);             \
        if (!expect(names[i], attr, w))                 \
            return false;
        CHECK("vendor", "0x%04x\n", vendor);
        CHECK("device", "0x%04x\n", device);
        CHECK("subsystem_vendor", "0x%04x\n", sv);
        CHECK("subsystem_device", "0x%04x\n", sd);
        CHECK("class", "0x%06x\n", cls);
        CHECK("revision", "0x%02x\n", c[8]);
        CHECK("irq", "%u\n", irq);
        CHECK("uevent",
              "%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n"
              "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
              drv, cls, vendor, device, sv, sd, names[i], vendor, device, sv, sd, cls >> 16, (cls >> 8) & 0xff, cls & 0xff);
#undef CHECK
    }
    snprintf(why, sizeof why, "8 attributes of %d functions match configuration space", nnames);
    return true;
}

/* ECAM as the firmware describes it (/sys/firmware/acpi/mcfg), mapped here bus by bus with our
 * own SYSTEM capability, to check the extended configuration space the pci server publishes. */
static uint64_t ecam_base;
static unsigned ecam_first, ecam_last;
static volatile uint8_t *ecam_win[256];

static void ecam_load(void)
{
    char b[256];
    if (ecam_base || rd("/sys/firmware/acpi/mcfg", b, sizeof b) <= 0)
        return;
    char *e;
    unsigned long long a = strtoull(b, &e, 16);
    unsigned long seg = strtoul(e, &e, 16), s = strtoul(e, &e, 16), l = strtoul(e, &e, 16);
    if (a && !seg && s <= l && l < 256) {
        ecam_base = a;
        ecam_first = (unsigned)s;
        ecam_last = (unsigned)l;
    }
}

static volatile uint32_t *ecam32(const char *name, unsigned off)
{
    unsigned bus = (unsigned)strtoul(name + 5, NULL, 16), dev = (unsigned)strtoul(name + 8, NULL, 16),
             fn = (unsigned)strtoul(name + 11, NULL, 16);
    if (!ecam_base || bus < ecam_first || bus > ecam_last)
        return NULL;
    if (!ecam_win[bus]) {
        int64_t h = lanes_sys_mmio_create(system_cap, ecam_base + ((uint64_t)(bus - ecam_first) << 20), 1u << 20);
        int64_t a = h >= 0 ? lanes_sys_mem_map((int32_t)h, 0, 0, 1u << 20, LANES_PROT_READ) : h;
        if (h >= 0)
            lanes_sys_handle_close((int32_t)h);
        if (a < 0) {
            printf("pcitests: ECAM bus %02x: %s\n", bus, E(a));
            return NULL;
        }
        ecam_win[bus] = (volatile uint8_t *)(uintptr_t)a;
    }
    return (volatile uint32_t *)(ecam_win[bus] + (dev << 15 | fn << 12 | (off & 0xffc)));
}

static bool has_pcie_cap(const uint8_t c[256])
{
    unsigned pos = (c[6] & 0x10) ? c[0x34] & 0xfc : 0;
    for (int hops = 0; pos >= 0x40 && hops < 48; hops++, pos = c[pos + 1] & 0xfc)
        if (c[pos] == 0x10)
            return true;
    return false;
}

/* config: the first 256 bytes equal configuration space read through the ports; with ECAM
 * (q35) a PCIe function's config is 4096 bytes, equal to ECAM's (Linux's rule, ecam.c), and
 * ECAM's first 256 bytes equal the ports'. Without it (pc) every config is 256 bytes. */
static bool config(void)
{
    REQUIRE(load_names() > 0, "no functions");
    ecam_load();
    int ext = 0;
    for (int i = 0; i < nnames; i++) {
        char p[160];
        uint8_t c[256];
        static uint8_t s[4200];
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/config", names[i]);
        cfg_all(names[i], c);
        volatile uint32_t *e100 = has_pcie_cap(c) ? ecam32(names[i], 0x100) : NULL;
        bool want_ext = e100 && *e100 != 0xffffffffu;
        struct lane_sysfs_stat st;
        int64_t r = lanes_sys_sysfs_stat(p, strlen(p), &st);
        REQUIRE(r == 0 && (st.mode & LANES_SYSFS_MODE_BINARY), "%s: stat %s, mode %#x", p, E(r), st.mode);
        REQUIRE(st.size == (want_ext ? 4096u : 256u), "%s: %llu bytes, expected %u (%s)", p,
                (unsigned long long)st.size, want_ext ? 4096u : 256u,
                want_ext ? "a PCIe function with ECAM" : ecam_base ? "no PCIe capability" : "no MCFG");
        r = lanes_sys_sysfs_read(p, strlen(p), s, sizeof s);
        REQUIRE(r == (int64_t)st.size, "%s: read gave %lld", p, (long long)r);
        for (int b = 0; b < 256; b++)
            if (b != 6 && b != 7 && s[b] != c[b])       /* status bits may change on their own */
                FAIL("%s: byte 0x%02x is %02x, configuration space has %02x", p, b, s[b], c[b]);
        if (ecam32(names[i], 0)) {
            for (unsigned off = 0; off < 256; off += 4) {
                uint32_t v = *ecam32(names[i], off), w;
                memcpy(&w, c + off, 4);
                if (off != 4 && v != w)
                    FAIL("%s: ECAM at 0x%02x reads %08x, the ports %08x", names[i], off, v, w);
            }
        }
        if (want_ext) {
            ext++;
            for (unsigned off = 256; off < 4096; off += 4) {
                uint32_t v = *ecam32(names[i], off), w;
                memcpy(&w, s + off, 4);
                if (v != w)
                    FAIL("%s: config at 0x%03x is %08x, ECAM has %08x", p, off, w, v);
            }
        }
    }
    REQUIRE(!ecam_base || ext > 0, "MCFG at %#llx, but no function has extended configuration space",
            (unsigned long long)ecam_base);
    snprintf(why, sizeof why, "%d config files equal configuration space (%d with 4096 bytes through ECAM)", nnames, ext);
    return true;
}

static bool resource(void)
{
    REQUIRE(load_names() > 0, "no functions");
    int bars = 0;
    for (int i = 0; i < nnames; i++) {
        char p[160];
        static char v[2048];
        uint8_t c[256];
        cfg_all(names[i], c);
        unsigned hdr = c[14] & 0x7f;
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/resource", names[i]);
        int64_t r = rd(p, v, sizeof v);
        REQUIRE(r > 0, "%s: %s", p, E(r));
        int want = hdr == 1 ? 17 : 13;
        REQUIRE(r == want * 57, "%s: %lld bytes, Linux prints %d lines of 57", p, (long long)r, want);
        for (int l = 0; l < want; l++) {
            const char *ln = v + l * 57;
            REQUIRE(ln[0] == '0' && ln[1] == 'x' && ln[18] == ' ' && ln[37] == ' ' && ln[56] == '\n',
                    "%s line %d is not '0x%%016llx 0x%%016llx 0x%%016llx'", p, l);
            unsigned long long start = strtoull(ln, NULL, 16), flags = strtoull(ln + 38, NULL, 16);
            int nb = hdr == 0 ? 6 : hdr == 1 ? 2 : 0;
            if (l < nb && flags) {
                uint32_t bar;
                memcpy(&bar, c + 0x10 + 4 * l, 4);
                unsigned long long base = bar & 1 ? bar & 0xfffcu : bar & ~0xfu;
                if (!(bar & 1) && ((bar >> 1) & 3) == 2) {
                    uint32_t hi;
                    memcpy(&hi, c + 0x14 + 4 * l, 4);
                    base |= (unsigned long long)hi << 32;
                }
                REQUIRE(start == base, "%s BAR%d starts at %#llx, configuration space says %#llx", p, l, start, base);
                REQUIRE(!!(flags & 0x100) == !!(bar & 1), "%s BAR%d: flags %#llx disagree with I/O bit", p, l, flags);
                bars++;
            }
        }
    }
    snprintf(why, sizeof why, "%d BARs as configured", bars);
    return true;
}

static bool links(void)
{
    REQUIRE(load_names() > 0, "no functions");
    char p[160], t[160];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/subsystem", names[0]);
    int64_t r = lanes_sys_sysfs_readlink(p, strlen(p), t, sizeof t - 1);
    REQUIRE(r > 0, "readlink %s: %s", p, E(r));
    t[r] = 0;
    REQUIRE(!strncmp(t, "../../../", 9) && !strcmp(t + r - 7, "bus/pci"), "%s -> %s", p, t);
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/subsystem/devices/%s/vendor", names[0], names[0]);
    char v[32];
    r = rd(p, v, sizeof v);
    REQUIRE(r == 7, "through two links, %s: %s", p, E(r));
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/vendor", names[0]);
    r = lanes_sys_sysfs_readlink(p, strlen(p), t, sizeof t);
    REQUIRE(r == LANES_E_TYPE, "readlink of an attribute: %s, want TYPE", E(r));
    r = lanes_sys_sysfs_readlink("/sys/bus/pci/nope", 17, t, sizeof t);
    REQUIRE(r == LANES_E_NOENT, "readlink of nothing: %s, want NOENT", E(r));
    return true;
}

static bool readonly(void)
{
    REQUIRE(load_names() > 0, "no functions");
    const char *attrs[] = { "vendor", "device", "class", "config", "resource", "uevent", "irq" };
    for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
        char p[160];
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/%s", names[0], attrs[a]);
        int64_t r = wr(p, "0x1234");
        REQUIRE(r == LANES_E_ACCESS, "writing %s: %s, want ACCESS", p, E(r));
    }
    char v[16];
    rd("/sys/bus/pci/devices/0000:00:00.0/vendor", v, sizeof v);
    int64_t r = wr("/sys/bus/pci/devices", "1");
    REQUIRE(r == LANES_E_TYPE, "writing a directory: %s, want TYPE", E(r));
    return true;
}

static bool rescan(void)
{
    int before = load_names();
    uint64_t t0 = lanes_now_ns();
    int64_t r = wr("/sys/bus/pci/rescan", "1");
    uint64_t us = (lanes_now_ns() - t0) / 1000;
    REQUIRE(r == 0, "rescan 1: %s", E(r));
    REQUIRE(load_names() == before, "rescan changed %d functions into %d", before, nnames);
    r = wr("/sys/bus/pci/rescan", "2");
    REQUIRE(r == LANES_E_INVAL, "rescan 2: %s, want INVAL", E(r));
    r = wr("/sys/bus/pci/rescan", "1");
    REQUIRE(r == 0, "second rescan: %s", E(r));
    snprintf(why, sizeof why, "rescan of %d functions answered in %llu us", before, (unsigned long long)us);
    return true;
}

static int64_t pub(int32_t cap, uint32_t op, uint32_t flags, const char *path, const char *data, size_t len)
{
    struct lane_sysfs_publish q;
    memset(&q, 0, sizeof q);
    q.op = op;
    q.flags = flags;
    q.path = (uint64_t)(uintptr_t)path;
    q.path_len = strlen(path);
    q.data = (uint64_t)(uintptr_t)data;
    q.data_len = len;
    return lanes_sys_sysfs_publish(cap, &q);
}

static bool owner(void)
{
    int64_t r = lanes_sys_sysfs_grant(system_cap, "/sys/bus/pci", 12);
    REQUIRE(r == LANES_E_BUSY, "granting /sys/bus/pci twice: %s, want BUSY", E(r));
    r = lanes_sys_sysfs_grant(system_cap, "/sys/bus", 8);
    REQUIRE(r == LANES_E_BUSY, "granting /sys/bus (over the pci server's): %s, want BUSY", E(r));
    r = lanes_sys_sysfs_grant(system_cap, "/sys/kernel/x", 13);
    REQUIRE(r == LANES_E_BUSY || r >= 0, "granting /sys/kernel/x: %s", E(r));
    if (r >= 0)
        lanes_sys_handle_close((int32_t)r);
    r = lanes_sys_sysfs_grant(system_cap, "/sys/kernel", 11);
    REQUIRE(r == LANES_E_BUSY, "granting /sys/kernel (the kernel's): %s, want BUSY", E(r));
    r = lanes_sys_sysfs_grant(LANES_HANDLE_NONE, "/sys/pt", 7);
    REQUIRE(r < 0, "granting without the system capability worked");
    int32_t cap = (int32_t)lanes_sys_sysfs_grant(system_cap, "/sys/pcitests", 13);
    REQUIRE(cap >= 0, "granting /sys/pcitests: %s", E(cap));
    int32_t sub = (int32_t)lanes_sys_sysfs_subscribe();
    REQUIRE(sub >= 0, "subscribe: %s", E(sub));
    bool ok = false;
    char v[64], msg[512];
    do {
        if ((r = pub(cap, LANES_SYSFS_OP_MKDIR, 0, "/sys/pcitests/dev0", NULL, 0)) < 0) {
            snprintf(why, sizeof why, "mkdir: %s", E(r));
            break;
        }
        if ((r = pub(cap, LANES_SYSFS_OP_ATTR, 0, "/sys/pcitests/dev0/value", "42\n", 3)) < 0 ||
            rd("/sys/pcitests/dev0/value", v, sizeof v) != 3 || strcmp(v, "42\n")) {
            snprintf(why, sizeof why, "attribute: %s, read '%s'", E(r), v);
            break;
        }
        pub(cap, LANES_SYSFS_OP_ATTR, LANES_SYSFS_PUB_BINARY, "/sys/pcitests/dev0/blob", "\x01\x02\x00\x03", 4);
        if ((r = pub(cap, LANES_SYSFS_OP_REMOVE, 0, "/sys/pcitests/dev0/blob", NULL, 0)) != 0 ||
            rd("/sys/pcitests/dev0/blob", v, sizeof v) != LANES_E_NOENT) {
            snprintf(why, sizeof why, "removing an attribute: %s", E(r));
            break;
        }
        if ((r = pub(cap, LANES_SYSFS_OP_ATTR, 0, "/sys/bus/pci/x", "1", 1)) != LANES_E_ACCESS) {
            snprintf(why, sizeof why, "publishing into the pci server's subtree: %s, want ACCESS", E(r));
            break;
        }
        if ((r = pub(cap, LANES_SYSFS_OP_ATTR, 0, "/sys/pcitests/nodir/value", "1", 1)) != LANES_E_NOENT) {
            snprintf(why, sizeof why, "an attribute without its directory: %s, want NOENT", E(r));
            break;
        }
        pub(cap, LANES_SYSFS_OP_LINK, 0, "/sys/pcitests/a", "b", 1);
        pub(cap, LANES_SYSFS_OP_LINK, 0, "/sys/pcitests/b", "a", 1);
        if ((r = rd("/sys/pcitests/a/value", v, sizeof v)) != LANES_E_RANGE) {
            snprintf(why, sizeof why, "reading through a link loop: %s, want RANGE", E(r));
            break;
        }
        pub(cap, LANES_SYSFS_OP_LINK, 0, "/sys/pcitests/c", "dev0", 4);
        if ((r = rd("/sys/pcitests/c/value", v, sizeof v)) != 3) {
            snprintf(why, sizeof why, "through a link: %s", E(r));
            break;
        }
        if ((r = wr("/sys/pcitests/dev0/value", "1")) != LANES_E_ACCESS) {
            snprintf(why, sizeof why, "writing a read-only owned attribute: %s, want ACCESS", E(r));
            break;
        }
        if ((r = pub(cap, LANES_SYSFS_OP_UEVENT, 2, "/sys/pcitests/dev0", "SUBSYSTEM=test\nX=1\n", 19)) < 0) {
            snprintf(why, sizeof why, "uevent: %s", E(r));
            break;
        }
        r = lanes_sys_sysfs_wait(sub, msg, sizeof msg, LANES_SEC(2));
        static const char want[] = "change@/pcitests/dev0\0ACTION=change\0DEVPATH=/pcitests/dev0\0SUBSYSTEM=test\0X=1\0SEQNUM=";
        if (r < (int64_t)sizeof want || memcmp(msg, want, sizeof want - 1)) {
            snprintf(why, sizeof why, "uevent message: %s (%lld bytes)", r < 0 ? E(r) : "different", (long long)r);
            break;
        }
        lanes_sys_handle_close(cap);
        cap = -1;
        struct lane_sysfs_stat st;
        if ((r = lanes_sys_sysfs_stat("/sys/pcitests", 13, &st)) != LANES_E_NOENT) {
            snprintf(why, sizeof why, "closing the capability left /sys/pcitests (%s)", E(r));
            break;
        }
        ok = true;
    } while (0);
    if (cap >= 0)
        lanes_sys_handle_close(cap);
    lanes_sys_handle_close(sub);
    return ok;
}

static bool hotplug(void)
{
    int before = load_names();
    static char old[MAXF][16];
    memcpy(old, names, sizeof names);
    int32_t sub = (int32_t)lanes_sys_sysfs_subscribe();
    REQUIRE(sub >= 0, "subscribe: %s", E(sub));
    int64_t r = wr("/sys/bus/pci/rescan", "1");
    char msg[1024];
    int64_t m = lanes_sys_sysfs_wait(sub, msg, sizeof msg - 1, LANES_SEC(5));
    lanes_sys_handle_close(sub);
    REQUIRE(r == 0, "rescan: %s", E(r));
    REQUIRE(m > 0, "no uevent after the rescan: %s", E(m));
    msg[m] = 0;
    REQUIRE(!strncmp(msg, "add@/devices/pci0000:00/", 24), "first uevent is '%s', want add@/devices/pci0000:00/...", msg);
    REQUIRE(load_names() == before + 1, "%d functions before, %d after", before, nnames);
    const char *name = strrchr(msg, '/') + 1;
    bool listed = false;
    for (int i = 0; i < nnames; i++)
        listed |= !strcmp(names[i], name);
    REQUIRE(listed, "%s is not in /sys/bus/pci/devices", name);
    char p[200];
    snprintf(p, sizeof p, "/sys%s", strchr(msg, '@') + 1);
    struct lane_sysfs_stat st;
    r = lanes_sys_sysfs_stat(p, strlen(p), &st);
    REQUIRE(r == 0 && st.kind == LANES_SYSFS_KIND_DIR, "%s: %s", p, E(r));
    snprintf(why, sizeof why, "%s", msg);
    return attributes();
}

/* Drivers bound by manifest: e1000-mac for every e1000e (82574L) function, linked both ways, and
 * granted exactly that function's I/O BAR (the kernel's /sys/drivers/NAME.PID/ioports). */
static bool drivers(void)
{
    REQUIRE(load_names() > 0, "no functions");
    static char granted[4096], mgranted[4096], list[4096];
    size_t gl = 0, ml = 0;
    int64_t r = lanes_sys_sysfs_list("/sys/drivers", 12, list, sizeof list - 1);
    REQUIRE(r >= 0, "/sys/drivers: %s", E(r));
    list[r] = 0;
    for (char *l = list; *l;) {                     /* the I/O ranges every e1000-mac process holds */
        char *nl = strchr(l, '\n');
        if (!nl)
            break;
        *nl = 0;
        if (!strncmp(l, "d e1000-mac.", 12)) {
            char p[96], v[96];
            snprintf(p, sizeof p, "/sys/drivers/%s/ioports", l + 2);
            int64_t vl = rd(p, v, sizeof v);
            if (vl > 0) {
                v[strcspn(v, "\n")] = 0;
                gl += (size_t)snprintf(granted + gl, sizeof granted - gl, "[%s]", v);
            }
            snprintf(p, sizeof p, "/sys/drivers/%s/mmio", l + 2);
            vl = rd(p, v, sizeof v);
            if (vl > 0 && ml < sizeof mgranted) {
                v[strcspn(v, "\n")] = 0;
                ml += (size_t)snprintf(mgranted + ml, sizeof mgranted - ml, "[%s]", v);
            }
        }
        l = nl + 1;
    }
    int bound = 0;
    for (int i = 0; i < nnames; i++) {
        uint8_t c[256];
        cfg_all(names[i], c);
        unsigned id = (unsigned)(c[0] | c[1] << 8) << 16 | (unsigned)(c[2] | c[3] << 8);
        char p[160], t[160];
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver", names[i]);
        int64_t k = lanes_sys_sysfs_readlink(p, strlen(p), t, sizeof t - 1);
        if (id != 0x808610d3u) {
            REQUIRE(k == LANES_E_NOENT, "%s (%08x) has a driver link (%s) but no driver claims it", names[i], id, E(k));
            continue;
        }
        REQUIRE(k > 0, "%s: no driver link (%s)", names[i], E(k));
        t[k] = 0;
        REQUIRE(strstr(t, "/bus/pci/drivers/e1000-mac") && !strncmp(t, "../", 3), "%s -> %s", p, t);
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver/%s/vendor", names[i], names[i]);
        char v[16];
        REQUIRE(rd(p, v, sizeof v) == 7 && !strcmp(v, "0x8086\n"), "%s does not lead back to the function", p);
        uint32_t bar = 0;
        for (int b = 0; b < 6 && !bar; b++) {
            uint32_t x;
            memcpy(&x, c + 0x10 + 4 * b, 4);
            if (x & 1)
                bar = x & 0xfffc;
        }
        snprintf(t, sizeof t, "[%#x-", bar);
        REQUIRE(bar && strstr(granted, t), "%s: I/O BAR %#x is not among the ranges granted to e1000-mac: %s", names[i],
                bar, granted);
        uint32_t bar0;                              /* the registers: a 32-bit memory BAR */
        memcpy(&bar0, c + 0x10, 4);
        snprintf(t, sizeof t, "%#x-", bar0 & ~0xfffu);
        REQUIRE(!(bar0 & 1) && (bar0 & ~0xfu) && strstr(mgranted, t),
                "%s: memory BAR0 %#x is not among the device memory granted to e1000-mac: %s", names[i], bar0, mgranted);
        bound++;
    }
    REQUIRE(bound > 0, "no e1000e function to bind (the test configuration has some)");
    snprintf(why, sizeof why, "%d functions bound to e1000-mac, granted %s and memory %.200s", bound, granted, mgranted);
    return true;
}

/* Linux's remove attribute: the last function (not a bridge) leaves with a remove uevent and
 * comes back with an add uevent at the next rescan. */
static bool remove_(void)
{
    REQUIRE(load_names() > 1, "too few functions");
    int before = nnames, victim = -1;
    for (int i = nnames - 1; i >= 0 && victim < 0; i--) {
        uint8_t c[256];
        cfg_all(names[i], c);
        if ((c[14] & 0x7f) == 0 && strcmp(names[i], "0000:00:00.0"))
            victim = i;
    }
    REQUIRE(victim >= 0, "no function to remove");
    char name[16], p[160], msg[1024];
    strcpy(name, names[victim]);
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/remove", name);
    int32_t sub = (int32_t)lanes_sys_sysfs_subscribe();
    REQUIRE(sub >= 0, "subscribe: %s", E(sub));
    int64_t r = wr(p, "1");
    int64_t m = lanes_sys_sysfs_wait(sub, msg, sizeof msg - 1, LANES_SEC(5));
    msg[m > 0 ? m : 0] = 0;
    bool ok = r == 0 && m > 0 && !strncmp(msg, "remove@/devices/pci0000:00/", 27) && strstr(msg, name) &&
              load_names() == before - 1;
    for (int i = 0; i < nnames && ok; i++)
        ok = strcmp(names[i], name) != 0;
    if (!ok) {
        lanes_sys_handle_close(sub);
        FAIL("remove %s: write %s, uevent '%s', %d functions after (%d before)", name, E(r), msg, nnames, before);
    }
    r = wr("/sys/bus/pci/rescan", "1");
    for (;;) {                                      /* skip the bind uevents of drivers */
        m = lanes_sys_sysfs_wait(sub, msg, sizeof msg - 1, LANES_SEC(5));
        if (m <= 0)
            break;
        msg[m] = 0;
        if (!strncmp(msg, "add@", 4))
            break;
    }
    lanes_sys_handle_close(sub);
    REQUIRE(r == 0 && m > 0 && strstr(msg, name), "after a rescan: %s, uevent '%s'", E(r), m > 0 ? msg : E(m));
    REQUIRE(load_names() == before, "%d functions after the rescan, %d before the remove", nnames, before);
    r = wr("/sys/bus/pci/devices/0000:00:00.0/remove", "2");
    REQUIRE(r == LANES_E_INVAL, "remove 2: %s, want INVAL", E(r));
    snprintf(why, sizeof why, "%s removed and found again", name);
    return true;
}

/* mmio_create from a function's memory BARs: the kernel's own trace device (its BAR2 holds the
 * rings, /sys/kernel/trace/pci names it) is refused with BUSY; another function's memory BAR is
 * granted. */
static bool mmio(void)
{
    REQUIRE(load_names() > 0, "no functions");
    char kp[160] = "";
    rd("/sys/kernel/trace/pci", kp, sizeof kp);
    int refused = 0, granted = 0;
    for (int i = 0; i < nnames; i++) {
        uint8_t c[256];
        cfg_all(names[i], c);
        if ((c[14] & 0x7f) != 0)
            continue;
        bool kernels = kp[0] && !strncmp(kp, names[i], 12);
        for (int b = 0; b < 6; b++) {
            uint32_t lo, hi = 0;
            memcpy(&lo, c + 0x10 + 4 * b, 4);
            if (lo & 1)
                continue;
            bool is64 = ((lo >> 1) & 3) == 2;
            if (is64 && b < 5)
                memcpy(&hi, c + 0x14 + 4 * b, 4);
            uint64_t base = ((uint64_t)hi << 32 | lo) & ~0xfull;
            if (is64)
                b++;
            if (!base || (base & 0xfff))
                continue;
            int64_t h = lanes_sys_mmio_create(system_cap, base, 0x1000);
            if (h >= 0)
                lanes_sys_handle_close((int32_t)h);
            if (kernels && b >= 2) {
                REQUIRE(h == LANES_E_BUSY, "%s (the kernel's trace rings) BAR at %#llx: mmio_create gave %lld (%s), want BUSY",
                        names[i], (unsigned long long)base, (long long)h, E(h));
                refused++;
            } else if (!kernels) {
                REQUIRE(h >= 0, "%s: memory BAR at %#llx: mmio_create %s", names[i], (unsigned long long)base, E(h));
                granted++;
            }
        }
    }
    REQUIRE(!kp[0] || kp[0] == '\n' || refused > 0, "the kernel holds %.12s but none of its BARs was tried", kp);
    REQUIRE(granted > 0, "no memory BAR to grant");
    snprintf(why, sizeof why, "%d memory BARs granted, %d of the kernel's trace device refused", granted, refused);
    return true;
}

static const struct lanes_test tests[] = {
    { "tree", tree }, { "attributes", attributes }, { "config", config }, { "resource", resource },
    { "links", links }, { "readonly", readonly }, { "rescan", rescan }, { "owner", owner }, { "remove", remove_ },
    { "mmio", mmio },
};
static const struct lanes_test driver_tests[] = { { "drivers", drivers } };
static const struct lanes_test hotplug_tests[] = { { "hotplug", hotplug } };
#define NTESTS (sizeof tests / sizeof *tests)

int main(int argc, char **argv)
{
    system_cap = lanes_handle_by_tag("system");
    int32_t port = lanes_handle_by_tag("ioport");
    int64_t r = port >= 0 ? lanes_sys_ioport_enable(port) : LANES_E_BADHANDLE;
    if (r < 0) {
        printf("pcitests: no configuration-space ports (%s)\n", E(r));
        return 1;
    }
    struct lane_sysfs_stat st;
    for (int i = 0; i < 100 && lanes_sys_sysfs_stat("/sys/bus/pci/rescan", 19, &st) < 0; i++)
        lanes_sys_sleep(LANES_MS(100));
    printf("pcitests: %u tests\n", (unsigned)NTESTS);
    struct lanes_tests results = { 0, 0 };
    lanes_test_table(&results, tests, NTESTS, argc, argv, NULL);
    if (argc > 1) {
        lanes_test_table(&results, hotplug_tests, 1, argc, argv, NULL);
        lanes_test_table(&results, driver_tests, 1, argc, argv, NULL);
    }
    return lanes_test_summary(&results, "pcitests", argc);
}
