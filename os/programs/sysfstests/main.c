/* sysfstests — in-guest tests of the kernel's sysfs (syscalls sysfs_list, sysfs_read,
 * sysfs_write, sysfs_stat; kernel/generic/sysfs.c), run by os-test ("sysfs" configuration).
 *
 * A table of named tests, reported like usertests: "test NAME: ok" or "test NAME: FAILED
 * (why)", then exactly "N passed, N failed"; the exit status is the number of failures (1 when no
 * test matches the names given).
 * Covered: the boot-time tree (root, kernel, trace, mm, one directory per CPU), reading
 * attributes and path spellings, stat, every error (no such path, wrong kind, short buffers,
 * long paths, bad and read-only pointers), writing with the system capability and without it
 * (bad handle, wrong object type, a duplicate without CONTROL), scheduler counters and the load
 * average reacting to a busy thread, and a driver node (/sys/drivers/NAME.PID) that appears
 * when a process is given I/O-port and IRQ capabilities and disappears when it dies.
 * Usage: sysfstests [NAME-PREFIX...]; sysfstests --child sleep (helper for the driver test).
 * Its manifest asks for the system capability (writes, I/O port and IRQ grants).
 */
#include <lanes.h>
#include <lanes/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LANES_MANIFEST("system");

static struct lane_sysinfo sysinfo;
static int32_t system_cap;

#define E(r) lanes_strerror(r)

static char buf[8192];

static int64_t rd(const char *path, char *out, size_t cap)
{
    int64_t r = lanes_sys_sysfs_read(path, strlen(path), out, cap - 1);
    out[r >= 0 ? r : 0] = 0;
    return r;
}

static int64_t ls(const char *path)
{
    int64_t r = lanes_sys_sysfs_list(path, strlen(path), buf, sizeof buf - 1);
    buf[r >= 0 ? r : 0] = 0;
    return r;
}

static int64_t wr(int32_t sys, const char *path, const char *val)
{
    return lanes_sys_sysfs_write(sys, path, strlen(path), val, strlen(val));
}

/* Does the last listing have the line "KIND NAME"? */
static bool has_entry(char kind, const char *name)
{
    size_t nl = strlen(name);
    for (const char *l = buf; *l;) {
        const char *e = strchr(l, '\n');
        if (!e)
            break;
        if (l[0] == kind && (size_t)(e - l) == nl + 2 && !strncmp(l + 2, name, nl))
            return true;
        l = e + 1;
    }
    return false;
}

static uint64_t num(const char *path)
{
    char v[64];
    return rd(path, v, sizeof v) > 0 ? strtoull(v, NULL, 0) : ~0ull;
}

/* ---- tests ---- */

static bool t_root(void)
{
    int64_t r = ls("/sys");
    REQUIRE(r > 0, "list /sys: %s", E(r));
    REQUIRE(has_entry('d', "kernel") && has_entry('d', "devices"), "/sys lacks kernel/ or devices/: %s", buf);
    char first[512];
    strlcpy(first, buf, sizeof first);
    const char *same[] = { "/", "", "/sys/", "//sys//", "/sys/kernel/.." };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        r = ls(same[i]);
        REQUIRE(r > 0 && !strcmp(buf, first), "list \"%s\" differs from /sys (%s)", same[i], r < 0 ? E(r) : buf);
    }
    r = ls("/sys/kernel");
    REQUIRE(r > 0, "list /sys/kernel: %s", E(r));
    REQUIRE(has_entry('d', "trace") && has_entry('d', "mm") && has_entry('r', "version") && has_entry('w', "loglevel"),
            "/sys/kernel listing: %s", buf);
    r = ls("/sys/kernel/trace");
    REQUIRE(r > 0 && has_entry('w', "enabled") && has_entry('w', "classes") && has_entry('r', "lost"),
            "/sys/kernel/trace listing: %s", r < 0 ? E(r) : buf);
    return true;
}

static bool t_cpus(void)
{
    int64_t r = ls("/sys/devices/system/cpu");
    REQUIRE(r > 0, "list cpu: %s", E(r));
    for (uint32_t i = 0; i < sysinfo.ncpus; i++) {
        char name[16];
        snprintf(name, sizeof name, "cpu%u", i);
        REQUIRE(has_entry('d', name), "no %s in %s", name, buf);
    }
    char name[16];
    snprintf(name, sizeof name, "cpu%u", sysinfo.ncpus);
    REQUIRE(!has_entry('d', name), "%s listed with %u CPUs", name, sysinfo.ncpus);
    REQUIRE(num("/sys/devices/system/cpu/count") == sysinfo.ncpus, "cpu/count != %u", sysinfo.ncpus);
    char v[64], want[32];
    snprintf(want, sizeof want, sysinfo.ncpus > 1 ? "0-%u\n" : "0\n", sysinfo.ncpus - 1);
    REQUIRE(rd("/sys/devices/system/cpu/online", v, sizeof v) > 0 && !strcmp(v, want), "cpu/online is \"%s\"", v);
    for (uint32_t i = 0; i < sysinfo.ncpus; i++) {
        char p[64];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u", i);
        r = ls(p);
        REQUIRE(r > 0, "list %s: %s", p, E(r));
        const char *attrs[] = { "online", "apic_id", "load", "nr_running", "runs", "migrations", "idle_ns" };
        for (size_t k = 0; k < sizeof attrs / sizeof *attrs; k++)
            REQUIRE(has_entry('r', attrs[k]), "%s lacks %s: %s", p, attrs[k], buf);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/online", i);
        REQUIRE(rd(p, v, sizeof v) == 2 && !strcmp(v, "1\n"), "%s is \"%s\"", p, v);
    }
    return true;
}

static bool t_read(void)
{
    char v[256], w[256];
    int64_t r = rd("/sys/kernel/version", v, sizeof v);
    REQUIRE(r > 6 && !strncmp(v, "LaneOS", 6) && v[r - 1] == '\n', "version: %s \"%s\"", r < 0 ? E(r) : "", v);
    REQUIRE(!strncmp(v, sysinfo.version, r - 1), "version \"%s\" != sysinfo \"%.32s\"", v, sysinfo.version);
    const char *spellings[] = { "/kernel/version", "kernel/version", "/sys/kernel/./version", "/sys/kernel/mm/../version" };
    for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        r = rd(spellings[i], w, sizeof w);
        REQUIRE(r > 0 && !strcmp(v, w), "%s: %s", spellings[i], r < 0 ? E(r) : w);
    }
    REQUIRE(num("/sys/kernel/mm/total") == sysinfo.mem_total, "mm/total %llu != sysinfo %llu",
            (unsigned long long)num("/sys/kernel/mm/total"), (unsigned long long)sysinfo.mem_total);
    uint64_t fr = num("/sys/kernel/mm/free");
    REQUIRE(fr > 0 && fr <= sysinfo.mem_total, "mm/free %llu", (unsigned long long)fr);
    uint64_t u1 = num("/sys/kernel/uptime_ns");
    lanes_sys_sleep(LANES_MS(5));
    uint64_t u2 = num("/sys/kernel/uptime_ns");
    REQUIRE(u1 > 0 && u2 > u1 + LANES_MS(4), "uptime_ns %llu then %llu", (unsigned long long)u1, (unsigned long long)u2);
    uint64_t np = num("/sys/kernel/processes"), nt = num("/sys/kernel/threads");
    REQUIRE(np >= 3 && np < 1000, "processes %llu (init, sh and we run)", (unsigned long long)np);
    REQUIRE(nt >= np, "threads %llu < processes %llu", (unsigned long long)nt, (unsigned long long)np);
    REQUIRE(rd("/sys/kernel/trace/classes", v, sizeof v) > 0, "trace/classes unreadable");
    return true;
}

static bool t_stat(void)
{
    struct lane_sysfs_stat st;
    int64_t r = lanes_sys_sysfs_stat("/sys/kernel", 11, &st);
    REQUIRE(r == 0, "stat /sys/kernel: %s", E(r));
    int64_t n = ls("/sys/kernel");
    REQUIRE(st.kind == LANES_SYSFS_KIND_DIR && st.size == (uint64_t)n && st.entries >= 7 && st.node != 0,
            "kernel: kind %u size %llu (list %lld) entries %u node %llu", st.kind, (unsigned long long)st.size,
            (long long)n, st.entries, (unsigned long long)st.node);
    r = lanes_sys_sysfs_stat("/sys/devices", 12, &st);
    /* system (the kernel's), and pci0000:00 once the pci server has published it */
    uint32_t want = lanes_sys_sysfs_stat("/sys/devices/pci0000:00", 23, &(struct lane_sysfs_stat){ 0 }) == 0 ? 2 : 1;
    REQUIRE(r == 0 && st.kind == LANES_SYSFS_KIND_DIR && st.node == 0 && st.entries == want,
            "/sys/devices (implicit): %s kind %u node %llu entries %u", E(r), st.kind, (unsigned long long)st.node, st.entries);
    r = lanes_sys_sysfs_stat("/sys/kernel/version", 19, &st);
    char v[128];
    int64_t len = rd("/sys/kernel/version", v, sizeof v);
    REQUIRE(r == 0 && st.kind == LANES_SYSFS_KIND_ATTR && st.mode == LANES_SYSFS_MODE_READ && st.size == (uint64_t)len,
            "version: %s kind %u mode %u size %llu", E(r), st.kind, st.mode, (unsigned long long)st.size);
    r = lanes_sys_sysfs_stat("/sys/kernel/loglevel", 20, &st);
    REQUIRE(r == 0 && st.mode == (LANES_SYSFS_MODE_READ | LANES_SYSFS_MODE_WRITE), "loglevel mode %u", st.mode);
    return true;
}

static bool t_errors(void)
{
    char v[64];
    int64_t r;
    r = rd("/sys/nope", v, sizeof v);
    REQUIRE(r == LANES_E_NOENT, "read /sys/nope: %lld (%s)", (long long)r, E(r));
    r = rd("/sys/kernel/nope", v, sizeof v);
    REQUIRE(r == LANES_E_NOENT, "read /sys/kernel/nope: %s", E(r));
    r = ls("/sys/kernel/nope");
    REQUIRE(r == LANES_E_NOENT, "list /sys/kernel/nope: %s", E(r));
    r = rd("/sys/kernel/version/x", v, sizeof v);
    REQUIRE(r == LANES_E_NOENT, "read below an attribute: %s", E(r));
    r = rd("/sys/kernel", v, sizeof v);
    REQUIRE(r == LANES_E_TYPE, "read of a directory: %s", E(r));
    r = ls("/sys/kernel/version");
    REQUIRE(r == LANES_E_TYPE, "list of an attribute: %s", E(r));
    r = lanes_sys_sysfs_read("/sys/kernel/version", 19, v, 3);
    REQUIRE(r == LANES_E_RANGE, "read into 3 bytes: %s", E(r));
    r = lanes_sys_sysfs_list("/sys", 4, buf, 4);
    REQUIRE(r == LANES_E_RANGE, "list into 4 bytes: %s", E(r));
    char longp[300];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "/sys/", 5);
    r = lanes_sys_sysfs_read(longp, sizeof longp, v, sizeof v);
    REQUIRE(r == LANES_E_RANGE, "300-byte path: %s", E(r));
    /* bad pointers: path, buffer, stat; kernel addresses; read-only memory; crossing USER_TOP */
    r = lanes_sys_sysfs_read(NULL, 10, v, sizeof v);
    REQUIRE(r == LANES_E_FAULT, "NULL path: %s", E(r));
    r = lanes_sys_sysfs_read((const void *)0xffff800000001000ull, 10, v, sizeof v);
    REQUIRE(r == LANES_E_FAULT, "kernel path pointer: %s", E(r));
    r = lanes_sys_sysfs_read("/sys/kernel/version", 19, NULL, 64);
    REQUIRE(r == LANES_E_FAULT, "NULL buffer: %s", E(r));
    r = lanes_sys_sysfs_list("/sys", 4, (const void *)0xffffffff80000000ull, 4096);
    REQUIRE(r == LANES_E_FAULT, "list into kernel memory: %s", E(r));
    r = lanes_sys_sysfs_read("/sys/kernel/version", 19, (const void *)(LANES_USER_TOP - 8), 64);
    REQUIRE(r == LANES_E_FAULT, "buffer crossing USER_TOP: %s", E(r));
    int64_t a = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, 4096, LANES_PROT_READ);
    REQUIRE(a > 0, "mem_map: %s", E(a));
    r = lanes_sys_sysfs_read("/sys/kernel/version", 19, (const void *)(uintptr_t)a, 64);
    int64_t r2 = lanes_sys_sysfs_stat("/sys/kernel", 11, (const void *)(uintptr_t)a);
    lanes_sys_mem_unmap((const void *)(uintptr_t)a, 4096);
    REQUIRE(r == LANES_E_FAULT && r2 == LANES_E_FAULT, "into read-only memory: read %s, stat %s", E(r), E(r2));
    r = lanes_sys_sysfs_stat("/sys/kernel", 11, NULL);
    REQUIRE(r == LANES_E_FAULT, "stat into NULL: %s", E(r));
    r = lanes_sys_sysfs_stat("/sys/x", 6, v);
    REQUIRE(r == LANES_E_NOENT, "stat /sys/x: %s", E(r));
    /* a NUL inside the path is not a shorter path */
    r = lanes_sys_sysfs_read("/sys/kernel/version\0xx", 22, v, sizeof v);
    REQUIRE(r == LANES_E_NOENT, "path with a NUL inside: %s", E(r));
    return true;
}

static bool t_write(void)
{
    REQUIRE(system_cap != LANES_HANDLE_NONE, "no system capability");
    char old[64], v[64];
    REQUIRE(rd("/sys/kernel/loglevel", old, sizeof old) > 0, "loglevel unreadable");
    int64_t r = wr(system_cap, "/sys/kernel/loglevel", "warn\n");
    REQUIRE(r == 0, "write loglevel warn: %s", E(r));
    REQUIRE(rd("/sys/kernel/loglevel", v, sizeof v) > 0 && !strcmp(v, "warn\n"), "loglevel reads \"%s\"", v);
    r = wr(system_cap, "/sys/kernel/loglevel", "2");
    REQUIRE(r == 0 && rd("/sys/kernel/loglevel", v, sizeof v) > 0 && !strcmp(v, "info\n"), "loglevel 2: %s \"%s\"", E(r), v);
    r = wr(system_cap, "/sys/kernel/loglevel", "loud");
    REQUIRE(r == LANES_E_INVAL, "loglevel loud: %s", E(r));
    old[strcspn(old, "\n")] = 0;
    wr(system_cap, "/sys/kernel/loglevel", old);
    /* tracing: classes and the on/off switch, then back as it was */
    char classes[256];
    REQUIRE(rd("/sys/kernel/trace/classes", classes, sizeof classes) > 0, "trace/classes unreadable");
    classes[strcspn(classes, "\n")] = 0;
    r = wr(system_cap, "/sys/kernel/trace/classes", "sched,sysfs");
    REQUIRE(r == 0, "write trace/classes: %s", E(r));
    REQUIRE(rd("/sys/kernel/trace/classes", v, sizeof v) > 0 && !strcmp(v, "meta,sched,sysfs\n"), "classes now \"%s\"", v);
    r = wr(system_cap, "/sys/kernel/trace/enabled", "0");
    REQUIRE(r == 0 && num("/sys/kernel/trace/enabled") == 0, "enabled 0: %s", E(r));
    REQUIRE(rd("/sys/kernel/trace/classes", v, sizeof v) > 0 && !strcmp(v, "off\n"), "classes when off \"%s\"", v);
    r = wr(system_cap, "/sys/kernel/trace/enabled", "1");
    REQUIRE(r == 0 && num("/sys/kernel/trace/enabled") == 1, "enabled 1: %s", E(r));
    REQUIRE(rd("/sys/kernel/trace/classes", v, sizeof v) > 0 && !strcmp(v, "meta,sched,sysfs\n"), "classes restored as \"%s\"", v);
    r = wr(system_cap, "/sys/kernel/trace/classes", "0x4");
    REQUIRE(r == 0 && rd("/sys/kernel/trace/classes", v, sizeof v) > 0 && !strcmp(v, "meta,sched\n"), "classes 0x4: \"%s\"", v);
    r = wr(system_cap, "/sys/kernel/trace/classes", "sched,bogus");
    REQUIRE(r == LANES_E_INVAL, "unknown class: %s", E(r));
    r = wr(system_cap, "/sys/kernel/trace/enabled", "2");
    REQUIRE(r == LANES_E_INVAL, "enabled 2: %s", E(r));
    r = wr(system_cap, "/sys/kernel/trace/classes", strcmp(classes, "off") ? classes : "0");
    REQUIRE(r == 0, "restoring classes \"%s\": %s", classes, E(r));
    uint64_t snaps = num("/sys/kernel/trace/snapshot");
    r = wr(system_cap, "/sys/kernel/trace/snapshot", "1");
    REQUIRE(r == 0 && num("/sys/kernel/trace/snapshot") == snaps + 1, "snapshot: %s, count %llu -> %llu", E(r),
            (unsigned long long)snaps, (unsigned long long)num("/sys/kernel/trace/snapshot"));
    r = wr(system_cap, "/sys/kernel/trace/snapshot", "yes");
    REQUIRE(r == LANES_E_INVAL, "snapshot yes: %s", E(r));
    /* what cannot be written */
    r = wr(system_cap, "/sys/kernel/version", "LaneOS 9");
    REQUIRE(r == LANES_E_ACCESS, "write a read-only attribute: %s", E(r));
    r = wr(system_cap, "/sys/kernel", "x");
    REQUIRE(r == LANES_E_TYPE, "write a directory: %s", E(r));
    r = wr(system_cap, "/sys/kernel/nope", "x");
    REQUIRE(r == LANES_E_NOENT, "write a missing attribute: %s", E(r));
    char big[300];
    memset(big, '1', sizeof big);
    r = lanes_sys_sysfs_write(system_cap, "/sys/kernel/loglevel", 20, big, sizeof big);
    REQUIRE(r == LANES_E_RANGE, "300-byte value: %s", E(r));
    r = lanes_sys_sysfs_write(system_cap, "/sys/kernel/loglevel", 20, NULL, 4);
    REQUIRE(r == LANES_E_FAULT, "NULL value: %s", E(r));
    return true;
}

static bool t_write_capability(void)
{
    REQUIRE(system_cap != LANES_HANDLE_NONE, "no system capability");
    char before[64], v[64];
    rd("/sys/kernel/loglevel", before, sizeof before);
    int64_t r = wr(LANES_HANDLE_NONE, "/sys/kernel/loglevel", "debug");
    REQUIRE(r == LANES_E_BADHANDLE, "no handle: %lld (%s)", (long long)r, E(r));
    r = wr(200, "/sys/kernel/loglevel", "debug");
    REQUIRE(r == LANES_E_BADHANDLE, "unused handle 200: %s", E(r));
    int64_t mem = lanes_sys_mem_create(4096, 0);
    REQUIRE(mem >= 0, "mem_create: %s", E(mem));
    r = wr((int32_t)mem, "/sys/kernel/loglevel", "debug");
    lanes_sys_handle_close((int32_t)mem);
    REQUIRE(r == LANES_E_TYPE, "memory handle: %s", E(r));
    int64_t weak = lanes_sys_handle_dup(system_cap, LANES_RIGHT_ALL & ~LANES_RIGHT_CONTROL);
    REQUIRE(weak >= 0, "handle_dup: %s", E(weak));
    r = wr((int32_t)weak, "/sys/kernel/loglevel", "debug");
    int64_t r2 = wr((int32_t)weak, "/sys/kernel/trace/enabled", "0");
    lanes_sys_handle_close((int32_t)weak);
    REQUIRE(r == LANES_E_ACCESS && r2 == LANES_E_ACCESS, "system without CONTROL: %s, %s", E(r), E(r2));
    REQUIRE(rd("/sys/kernel/loglevel", v, sizeof v) > 0 && !strcmp(v, before), "loglevel changed to \"%s\"", v);
    REQUIRE(num("/sys/kernel/trace/enabled") == 1 || num("/sys/kernel/trace/classes") == 0, "tracing was switched off");
    return true;
}

static volatile int spin_stop;

static void spinner(void *arg)
{
    (void)arg;
    while (!spin_stop)
        for (volatile int i = 0; i < 100000; i++)
            ;
}

static bool t_counters(void)
{
    uint64_t runs = 0, nr = 0;
    for (uint32_t i = 0; i < sysinfo.ncpus; i++) {
        char p[64];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/runs", i);
        runs += num(p);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/nr_running", i);
        nr += num(p);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/load", i);
        /* the sum of the CPU's threads' loads (1024 each at most): not a share any more */
        REQUIRE(num(p) <= 1024 * 1000, "%s = %llu", p, (unsigned long long)num(p));
    }
    REQUIRE(nr >= 1 && nr < 1000, "nr_running summed over CPUs: %llu (we are running)", (unsigned long long)nr);
    for (int i = 0; i < 5; i++)
        lanes_sys_sleep(LANES_MS(2));
    uint64_t runs2 = 0;
    for (uint32_t i = 0; i < sysinfo.ncpus; i++) {
        char p[64];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/runs", i);
        runs2 += num(p);
    }
    REQUIRE(runs2 >= runs + 5, "runs %llu -> %llu after 5 sleeps", (unsigned long long)runs, (unsigned long long)runs2);
    /* Load: one busy thread per CPU for ~1.5 s moves every CPU's load average up. */
    lanes_thread_t th[16];
    uint32_t n = sysinfo.ncpus < 16 ? sysinfo.ncpus : 16;
    spin_stop = 0;
    for (uint32_t i = 0; i < n; i++)
        REQUIRE(lanes_thread_start(&th[i], spinner, NULL, 0) >= 0, "thread_start");
    uint64_t best = 0;
    for (int k = 0; k < 30 && best < 700; k++) {
        lanes_sys_sleep(LANES_MS(100));
        for (uint32_t i = 0; i < sysinfo.ncpus; i++) {
            char p[64];
            snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%u/load", i);
            uint64_t l = num(p);
            best = l > best ? l : best;
        }
    }
    spin_stop = 1;
    for (uint32_t i = 0; i < n; i++)
        lanes_thread_join(&th[i], LANES_SEC(10));
    REQUIRE(best >= 700, "the highest cpu load seen with %u busy threads was %llu (1024 = one busy thread)", n, (unsigned long long)best);
    snprintf(why, sizeof why, "load reached %llu (1024 = one busy thread)", (unsigned long long)best);
    return true;
}

/* Find /sys/drivers/PREFIX.* in a fresh listing; returns its name in out. */
static bool find_driver(const char *prefix, char *out, size_t cap)
{
    if (ls("/sys/drivers") < 0)
        return false;
    size_t pl = strlen(prefix);
    for (const char *l = buf; *l;) {
        const char *e = strchr(l, '\n');
        if (!e)
            break;
        if (l[0] == 'd' && !strncmp(l + 2, prefix, pl) && l[2 + pl] == '.') {
            snprintf(out, cap, "%.*s", (int)(e - l - 2), l + 2);
            return true;
        }
        l = e + 1;
    }
    return false;
}

static bool t_driver_node(void)
{
    REQUIRE(system_cap != LANES_HANDLE_NONE, "no system capability");
    char name[64], p[128], v[64];
    REQUIRE(!find_driver("sysfstests", name, sizeof name), "a driver node %s exists before the test", name);
    int64_t io = lanes_sys_ioport_create(system_cap, 0x70, 2);
    REQUIRE(io >= 0, "ioport_create: %s", E(io));
    int64_t irq = lanes_sys_irq_create(system_cap, 10);
    if (irq < 0) {
        lanes_sys_handle_close((int32_t)io);
        FAIL("irq_create 10: %s", E(irq));
    }
    struct lane_spawn_handle extra[2] = { { (int32_t)io, LANES_RIGHT_ALL, "ioport" }, { (int32_t)irq, LANES_RIGHT_ALL, "irq" } };
    const char *argv[3] = { "sysfstests", "--child", "sleep" };
    struct lanes_spawn_opts o = { LANES_HANDLE_NONE, extra, 2, false };
    int64_t child = lanes_spawn("sysfstests", 3, argv, &o);
    lanes_sys_handle_close((int32_t)io);
    lanes_sys_handle_close((int32_t)irq);
    REQUIRE(child >= 0, "spawn: %s", E(child));
    bool found = find_driver("sysfstests", name, sizeof name);
    bool ok = found;
    if (found) {
        snprintf(p, sizeof p, "/sys/drivers/%s/ioports", name);
        ok = rd(p, v, sizeof v) > 0 && !strcmp(v, "0x70-0x71\n");
        snprintf(why, sizeof why, "%s is \"%s\"", p, v);
        snprintf(p, sizeof p, "/sys/drivers/%s/irqs", name);
        if (ok && !(rd(p, v, sizeof v) > 0 && !strcmp(v, "10\n"))) {
            ok = false;
            snprintf(why, sizeof why, "%s is \"%s\"", p, v);
        }
        snprintf(p, sizeof p, "/sys/drivers/%s/pid", name);
        uint64_t pid = num(p);
        if (ok && (pid == 0 || strtoull(strchr(name, '.') + 1, NULL, 10) != pid)) {
            ok = false;
            snprintf(why, sizeof why, "%s is %llu", p, (unsigned long long)pid);
        }
    } else {
        snprintf(why, sizeof why, "no /sys/drivers/sysfstests.PID while the child runs (listing: %s)", buf);
    }
    struct lane_exit_info info;
    lanes_sys_process_kill((int32_t)child, 9);
    int64_t w = lanes_wait((int32_t)child, &info, LANES_SEC(20));
    lanes_sys_handle_close((int32_t)child);
    if (!ok)
        return false;
    REQUIRE(w >= 0, "wait: %s", E(w));
    snprintf(p, sizeof p, "/sys/drivers/%s", name);
    struct lane_sysfs_stat st;
    int64_t r = lanes_sys_sysfs_stat(p, strlen(p), &st);
    REQUIRE(r == LANES_E_NOENT, "%s still there after the process died: %s", p, E(r));
    REQUIRE(!find_driver("sysfstests", v, sizeof v), "/sys/drivers still lists %s", v);
    /* a real driver: cmos-rtc gets its manifest's ports; its node goes when it exits */
    const char *cargv[1] = { "cmos-rtc" };
    child = lanes_spawn("cmos-rtc", 1, cargv, NULL);
    REQUIRE(child >= 0, "spawn cmos-rtc: %s", E(child));
    w = lanes_wait((int32_t)child, &info, LANES_SEC(20));
    lanes_sys_handle_close((int32_t)child);
    REQUIRE(w >= 0 && info.state == LANES_PROC_STATE_EXITED, "cmos-rtc did not exit");
    REQUIRE(!find_driver("cmos-rtc", v, sizeof v), "/sys/drivers/%s remains after cmos-rtc exited", v);
    snprintf(why, sizeof why, "%s came and went", p);
    return true;
}

static const struct lanes_test tests[] = {
    { "sysfs-root", t_root },
    { "sysfs-cpus", t_cpus },
    { "sysfs-read", t_read },
    { "sysfs-stat", t_stat },
    { "sysfs-errors", t_errors },
    { "sysfs-write", t_write },
    { "sysfs-write-capability", t_write_capability },
    { "sysfs-counters", t_counters },
    { "sysfs-driver-node", t_driver_node },
};
#define NTESTS (sizeof tests / sizeof *tests)

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--child") && !strcmp(argv[2], "sleep")) {
        for (;;)
            lanes_sys_sleep(LANES_SEC(1));
    }
    system_cap = lanes_handle_by_tag("system");
    lanes_sys_sysinfo(&sysinfo);
    printf("sysfstests: %u tests on %u CPUs\n", (unsigned)NTESTS, sysinfo.ncpus);
    struct lanes_tests results = { 0, 0 };
    lanes_test_table(&results, tests, NTESTS, argc, argv, NULL);
    return lanes_test_summary(&results, "sysfstests", argc);
}
