/* proctests — in-guest tests of /proc and of core files (os/programs/posix: procfs.c, core.c;
 * the kernel's process_inspect): `proctests [PREFIX...]`, one "test NAME: ok|FAILED (why)" line
 * each, then "N passed, N failed".
 *
 * /proc files are checked against Linux's layouts field by field (stat's 52 fields, status's
 * key order, meminfo's columns, maps' columns, cpuinfo's blocks), and against what the process
 * knows of itself (pid, parent, arguments, the CPU it was pinned to, its stack and code).
 * Cores: crashme (os/programs/crashme) crashes three ways; each must leave an ELF core where
 * core_pattern says, with WCOREDUMP in the wait status, an NT_PRSTATUS whose rip is the
 * fault's, and the fault address in NT_SIGINFO; two crashing together leave two cores; a
 * crash with 3 threads leaves 3 NT_PRSTATUS notes. (The host reads the same cores with gdb:
 * os/tools/core-test.) Must run as a POSIX process (from the shell).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/testing.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char text[65536];

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = 0;
    return (ssize_t)n;
}

static bool write_text(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return false;
    ssize_t n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s);
}

static bool is_uint(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* ---- /proc ---- */

static bool t_uptime(void)
{
    REQUIRE(slurp("/proc/uptime", text, sizeof text) > 0, "open: %s", strerror(errno));
    /* "%lu.%02lu %lu.%02lu\n" */
    char *dot1 = strchr(text, '.'), *sp = strchr(text, ' ');
    REQUIRE(dot1 && sp && dot1 < sp && sp - dot1 == 3 && is_uint(text, (size_t)(dot1 - text)), "first number: '%s'", text);
    char *dot2 = strchr(sp, '.'), *nl = strchr(sp, '\n');
    REQUIRE(dot2 && nl && nl - dot2 == 3 && nl[1] == 0 && is_uint(sp + 1, (size_t)(dot2 - sp - 1)), "second: '%s'", text);
    uint64_t up = strtoull(text, NULL, 10) * 100 + strtoull(dot1 + 1, NULL, 10);
    uint64_t ns = lanes_now_ns();
    REQUIRE(up * 10000000ull <= ns + 20000000ull && up * 10000000ull + 1000000000ull >= ns, "uptime %llu cs, clock %llu ns",
            (unsigned long long)up, (unsigned long long)ns);
    return true;
}

static bool t_meminfo(void)
{
    REQUIRE(slurp("/proc/meminfo", text, sizeof text) > 0, "open: %s", strerror(errno));
    int lines = 0;
    for (char *l = text; *l; lines++) {
        char *nl = strchr(l, '\n');
        REQUIRE(nl, "last line without newline");
        /* "Name:" padded to 16 columns, the value right-aligned in 8, " kB" */
        size_t len = (size_t)(nl - l);
        char *colon = memchr(l, ':', len);
        REQUIRE(colon && colon - l < 16, "line %d: no 'Name:' in 16 columns", lines + 1);
        REQUIRE(len == 27 && memcmp(nl - 3, " kB", 3) == 0, "line %d: %zu columns, not Linux's 27: '%.*s'", lines + 1,
                len, (int)len, l);
        const char *v = l + 16;
        while (*v == ' ')
            v++;
        REQUIRE(is_uint(v, (size_t)(nl - 3 - v)), "line %d: value", lines + 1);
        l = nl + 1;
    }
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);
    REQUIRE(strncmp(text, "MemTotal:", 9) == 0 && strtoull(text + 9, NULL, 10) == si.mem_total / 1024,
            "MemTotal first and = sysinfo's %llu kB", (unsigned long long)(si.mem_total / 1024));
    REQUIRE(strstr(text, "\nMemFree:") && strstr(text, "\nMemAvailable:"), "MemFree, MemAvailable");
    snprintf(why, sizeof why, "%d lines", lines);
    return true;
}

static bool t_cpuinfo(void)
{
    REQUIRE(slurp("/proc/cpuinfo", text, sizeof text) > 0, "open: %s", strerror(errno));
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);
    uint32_t n = 0;
    static const char *const keys[] = { "processor\t: ", "vendor_id\t: ", "cpu family\t: ", "model\t\t: ",
                                        "model name\t: ", "stepping\t: ", "cpu MHz\t\t: ", "flags\t\t: " };
    for (char *b = text; (b = strstr(b, "processor\t: ")); n++) {
        REQUIRE(strtoul(b + 12, NULL, 10) == n, "processor %u out of order", n);
        char *end = strstr(b, "\n\n");
        REQUIRE(end, "block %u does not end in an empty line", n);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            char *at = strstr(b, keys[k]);
            REQUIRE(at && at < end, "block %u lacks '%s'", n, keys[k]);
        }
        b = end;
    }
    REQUIRE(n == si.ncpus, "%u blocks for %u CPUs", n, si.ncpus);
    return true;
}

/* Splits /proc/PID/stat: f[1] = pid ... f[52]; comm without its parentheses. */
static int stat_fields(const char *path, char *f[53], char comm[64])
{
    if (slurp(path, text, sizeof text) <= 0)
        return -1;
    char *lp = strchr(text, '('), *rp = strrchr(text, ')');
    if (!lp || !rp || rp < lp || rp[1] != ' ')
        return -2;
    snprintf(comm, 64, "%.*s", (int)(rp - lp - 1), lp + 1);
    lp[-1] = 0;
    f[1] = text;
    f[2] = comm;
    int n = 2;
    for (char *s = rp + 2; *s && n < 52;) {
        f[++n] = s;
        while (*s && *s != ' ' && *s != '\n')
            s++;
        char c = *s;
        *s = 0;
        if (c == '\n')
            return s[1] == 0 ? n : -3;
        if (c)
            s++;
    }
    return n;
}

static bool t_self_stat(void)
{
    char *f[53], comm[64];
    int n = stat_fields("/proc/self/stat", f, comm);
    REQUIRE(n == 52, "%d fields (Linux has 52)", n);
    REQUIRE(atoi(f[1]) == getpid(), "pid %s, getpid %d", f[1], getpid());
    REQUIRE(!strcmp(comm, "proctests"), "comm '%s'", comm);
    REQUIRE(strlen(f[3]) == 1 && strchr("RSDTZX", f[3][0]), "state '%s'", f[3]);
    REQUIRE(f[3][0] == 'R', "we are running, state '%s'", f[3]);
    REQUIRE(atoi(f[4]) == getppid(), "ppid %s, getppid %d", f[4], getppid());
    REQUIRE(atoi(f[5]) == getpgid(0), "pgrp %s", f[5]);
    for (int i = 4; i <= 52; i++)
        REQUIRE(is_uint(f[i], strlen(f[i])) || (f[i][0] == '-' && is_uint(f[i] + 1, strlen(f[i]) - 1)),
                "field %d '%s' is not a number", i, f[i]);
    REQUIRE(atoi(f[20]) == 1, "num_threads %s", f[20]);
    REQUIRE(strtoull(f[23], NULL, 10) > 0, "vsize 0");
    uint64_t code = (uint64_t)(uintptr_t)&t_self_stat, stack = (uint64_t)(uintptr_t)&n;
    REQUIRE(strtoull(f[26], NULL, 10) <= code && code < strtoull(f[27], NULL, 10), "startcode/endcode miss our code");
    uint64_t as = strtoull(f[48], NULL, 10), ae = strtoull(f[49], NULL, 10);
    REQUIRE(as < ae && ae - as >= 10 && as > stack, "arg_start/arg_end %llx-%llx", (unsigned long long)as,
            (unsigned long long)ae);
    return true;
}

static bool t_stat_processor(void)
{
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);
    uint64_t old = 0;
    lanes_sys_thread_get_affinity(LANES_THREAD_SELF, &old);
    uint32_t seen = 0;
    for (uint32_t cpu = 0; cpu < si.ncpus && cpu < 4; cpu++) {
        REQUIRE(lanes_sys_thread_set_affinity(LANES_THREAD_SELF, 1ull << cpu) == 0, "pin to cpu %u", cpu);
        char *f[53], comm[64];
        int n = stat_fields("/proc/self/stat", f, comm);
        REQUIRE(n == 52, "%d fields", n);
        REQUIRE((uint32_t)atoi(f[39]) == cpu, "pinned to cpu %u, stat's processor (field 39) says %s", cpu, f[39]);
        seen++;
    }
    lanes_sys_thread_set_affinity(LANES_THREAD_SELF, old);
    snprintf(why, sizeof why, "checked on %u CPUs", seen);
    return true;
}

static bool t_status(void)
{
    REQUIRE(slurp("/proc/self/status", text, sizeof text) > 0, "open: %s", strerror(errno));
    static const char *const order[] = { "Name:\t", "Umask:\t", "State:\t", "Tgid:\t", "Ngid:\t", "Pid:\t", "PPid:\t",
                                         "TracerPid:\t", "Uid:\t", "Gid:\t", "FDSize:\t", "Groups:\t", "VmPeak:\t",
                                         "VmSize:\t", "VmRSS:\t", "Threads:\t", "SigPnd:\t", "Cpus_allowed:\t",
                                         "Cpus_allowed_list:\t" };
    const char *at = text;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s%s", at == text ? "" : "\n", order[i]);
        const char *k = at == text && !strncmp(text, order[i], strlen(order[i])) ? text : strstr(at, key);
        REQUIRE(k, "'%s' missing or out of Linux's order", order[i]);
        at = k + 1;
    }
    char want[64];
    snprintf(want, sizeof want, "\nPid:\t%d\nPPid:\t%d\n", getpid(), getppid());
    REQUIRE(strstr(text, want), "Pid/PPid lines");
    REQUIRE(strstr(text, "Name:\tproctests\n") && strstr(text, "State:\tR (running)\n"), "Name / State");
    const char *vm = strstr(text, "VmSize:\t");
    REQUIRE(vm && strchr(vm, '\n') - vm == 8 + 8 + 3, "VmSize not '\\t%%8lu kB'");
    return true;
}

static bool t_comm_cmdline(void)
{
    REQUIRE(slurp("/proc/self/comm", text, sizeof text) > 0 && !strcmp(text, "proctests\n"), "comm '%s'", text);
    ssize_t n = slurp("/proc/self/cmdline", text, sizeof text);
    /* we were started as "proctests comm" (or with more prefixes): the first two must be here */
    REQUIRE(n > 0 && text[n - 1] == 0, "cmdline does not end in NUL (%zd bytes)", n);
    REQUIRE(!strcmp(text, "proctests") || strstr(text, "/proctests"), "argv[0] '%s'", text);
    return true;
}

static bool t_maps(void)
{
    REQUIRE(slurp("/proc/self/maps", text, sizeof text) > 0, "open: %s", strerror(errno));
    uint64_t code = (uint64_t)(uintptr_t)&t_maps, stack = (uint64_t)(uintptr_t)&code;
    bool code_seen = false, stack_seen = false;
    int lines = 0;
    for (char *l = text; *l; lines++) {
        char *nl = strchr(l, '\n');
        REQUIRE(nl, "no newline");
        *nl = 0;
        char *end;
        uint64_t s = strtoull(l, &end, 16);
        REQUIRE(*end == '-', "line %d: '%s'", lines + 1, l);
        uint64_t e = strtoull(end + 1, &end, 16);
        REQUIRE(*end == ' ' && s < e, "line %d range: '%s'", lines + 1, l);
        char *perm = end + 1;
        REQUIRE(strchr("r-", perm[0]) && strchr("w-", perm[1]) && strchr("x-", perm[2]) && strchr("ps", perm[3]) &&
                    perm[4] == ' ',
                "line %d perms: '%s'", lines + 1, l);
        REQUIRE(strlen(perm) >= 5 + 8 + 1 + 5 + 1 + 1 && perm[13] == ' ' && perm[16] == ':' && perm[19] == ' ',
                "line %d offset/dev columns: '%s'", lines + 1, l);
        if (s <= code && code < e) {
            code_seen = true;
            REQUIRE(perm[0] == 'r' && perm[2] == 'x' && strstr(perm, "/proctests"), "our code's line: '%s'", l);
            REQUIRE(strlen(l) > 73 && l[72] == ' ' && l[73] == '/', "path not at column 73: '%s'", l);
        }
        if (s <= stack && stack < e) {
            stack_seen = true;
            REQUIRE(perm[1] == 'w' && strstr(perm, "[stack]"), "our stack's line: '%s'", l);
        }
        l = nl + 1;
    }
    REQUIRE(code_seen && stack_seen, "code %d, stack %d", code_seen, stack_seen);
    snprintf(why, sizeof why, "%d regions", lines);
    return true;
}

static bool t_readdir(void)
{
    DIR *d = opendir("/proc");
    REQUIRE(d, "opendir /proc: %s", strerror(errno));
    bool self = false, me = false, init = false, uptime = false;
    char mine[16];
    snprintf(mine, sizeof mine, "%d", getpid());
    struct dirent *e;
    while ((e = readdir(d))) {
        self |= !strcmp(e->d_name, "self");
        me |= !strcmp(e->d_name, mine) && e->d_type == DT_DIR;
        init |= !strcmp(e->d_name, "1");
        uptime |= !strcmp(e->d_name, "uptime") && e->d_type == DT_REG;
    }
    closedir(d);
    REQUIRE(self && me && init && uptime, "self %d, %s %d, 1 %d, uptime %d", self, mine, me, init, uptime);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", getpid());
    d = opendir(path);
    REQUIRE(d, "opendir %s", path);
    int files = 0;
    while ((e = readdir(d)))
        files += !strcmp(e->d_name, "stat") || !strcmp(e->d_name, "status") || !strcmp(e->d_name, "comm") ||
                 !strcmp(e->d_name, "cmdline") || !strcmp(e->d_name, "maps");
    closedir(d);
    REQUIRE(files == 5, "%s lists %d of the 5 files", path, files);
    struct stat st;
    REQUIRE(stat("/proc/self/stat", &st) == 0 && S_ISREG(st.st_mode), "stat /proc/self/stat");
    REQUIRE(stat("/proc/sys/kernel", &st) == 0 && S_ISDIR(st.st_mode), "stat /proc/sys/kernel");
    return true;
}

static bool t_errors(void)
{
    REQUIRE(open("/proc/999999/stat", O_RDONLY) < 0 && errno == ENOENT, "no such pid: %s", strerror(errno));
    REQUIRE(open("/proc/self/bogus", O_RDONLY) < 0 && errno == ENOENT, "no such file: %s", strerror(errno));
    REQUIRE(open("/proc/uptime", O_WRONLY) < 0 && errno == EACCES, "write uptime: %s", strerror(errno));
    REQUIRE(open("/proc/uptime", O_RDONLY | O_DIRECTORY) < 0 && errno == ENOTDIR, "O_DIRECTORY");
    REQUIRE(mkdir("/proc/x", 0755) < 0, "mkdir in /proc");
    int fd = open("/proc/self", O_RDONLY);
    REQUIRE(fd >= 0, "open dir");
    char b[8];
    REQUIRE(read(fd, b, sizeof b) < 0 && errno == EISDIR, "read a directory: %s", strerror(errno));
    close(fd);
    return true;
}

static bool t_zombie(void)
{
    pid_t pid;
    char *argv[] = { (char *)"true", NULL };
    REQUIRE(posix_spawn(&pid, "/bin/true", NULL, NULL, argv, NULL) == 0, "spawn");
    char path[64], *f[53], comm[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int n = 0;
    for (int i = 0; i < 200; i++) {
        n = stat_fields(path, f, comm);
        if (n == 52 && f[3][0] == 'Z')
            break;
        lanes_sys_sleep(LANES_MS(10));
    }
    REQUIRE(n == 52 && f[3][0] == 'Z', "an ended, unwaited child is not Z (%d fields, '%s')", n, n > 3 ? f[3] : "");
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid, "wait");
    REQUIRE(open(path, O_RDONLY) < 0 && errno == ENOENT, "reaped: still listed");
    return true;
}

static bool t_core_pattern_rw(void)
{
    REQUIRE(slurp("/proc/sys/kernel/core_pattern", text, sizeof text) > 0, "read: %s", strerror(errno));
    REQUIRE(!strcmp(text, "/var/core/core.%e.%p\n"), "default '%s'", text);
    REQUIRE(write_text("/proc/sys/kernel/core_pattern", "/tmp/c.%p.%s\n"), "write: %s", strerror(errno));
    slurp("/proc/sys/kernel/core_pattern", text, sizeof text);
    bool ok = !strcmp(text, "/tmp/c.%p.%s\n");
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    bool toolong = !write_text("/proc/sys/kernel/core_pattern", big) && errno == EINVAL;
    REQUIRE(write_text("/proc/sys/kernel/core_pattern", "/var/core/core.%e.%p"), "restore");
    REQUIRE(ok, "read back '%s'", text);
    REQUIRE(toolong, "a 199-byte pattern was taken (Linux's limit is 127)");
    return true;
}

/* ---- cores ---- */

struct core {
    int threads;
    uint64_t rip0, siginfo_addr;
    int signo, prpsinfo, auxv, file, fpregs, loads;
    char fname[17];
};

/* Reads an ELF core's headers and notes (what gdb needs). 0, or a negative line of why. */
static int read_core(const char *path, struct core *c)
{
    memset(c, 0, sizeof *c);
    static uint8_t b[65536];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n < 64 || memcmp(b, "\177ELF\2\1\1", 7) || *(uint16_t *)(b + 16) != 4 || *(uint16_t *)(b + 18) != 62)
        return -2;
    uint64_t phoff = *(uint64_t *)(b + 32);
    uint16_t phnum = *(uint16_t *)(b + 56);
    for (int i = 0; i < phnum; i++) {
        uint8_t *ph = b + phoff + 56 * (size_t)i;
        if (ph + 56 > b + n)
            return -3;
        uint32_t type = *(uint32_t *)ph;
        uint64_t off = *(uint64_t *)(ph + 8), sz = *(uint64_t *)(ph + 32);
        c->loads += type == 1;
        if (type != 4)
            continue;
        if (off + sz > (uint64_t)n)
            return -4;
        for (uint64_t o = off; o + 12 <= off + sz;) {
            uint32_t nsz = *(uint32_t *)(b + o), dsz = *(uint32_t *)(b + o + 4), t = *(uint32_t *)(b + o + 8);
            uint8_t *desc = b + o + 12 + ((nsz + 3) & ~3u);
            if (t == 1) {
                if (c->threads == 0) {
                    c->rip0 = *(uint64_t *)(desc + 112 + 16 * 8);
                    c->signo = *(int16_t *)(desc + 12);
                }
                c->threads++;
            }
            if (t == 3) {
                c->prpsinfo++;
                memcpy(c->fname, desc + 40, 16);
            }
            if (t == 0x53494749)
                c->siginfo_addr = *(uint64_t *)(desc + 16);
            c->auxv += t == 6;
            c->file += t == 0x46494c45;
            c->fpregs += t == 2;
            o += 12 + ((nsz + 3) & ~3u) + ((dsz + 3) & ~3u);
        }
    }
    return 0;
}

static pid_t crash(const char *a1, const char *a2)
{
    pid_t pid;
    char *argv[] = { (char *)"crashme", (char *)a1, (char *)a2, NULL };
    if (posix_spawn(&pid, "/bin/crashme", NULL, NULL, argv, NULL) != 0)
        return -1;
    return pid;
}

static bool check_crash(const char *how, int sig, bool addr0)
{
    pid_t pid = crash(how, NULL);
    REQUIRE(pid > 0, "spawn crashme");
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid, "wait");
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == sig, "status %#x, not signal %d", st, sig);
    REQUIRE(WCOREDUMP(st), "status %#x: no WCOREDUMP", st);
    char path[64];
    snprintf(path, sizeof path, "/var/core/core.crashme.%d", pid);
    struct core c;
    int e = read_core(path, &c);
    REQUIRE(e == 0, "%s: unreadable core (%d)", path, e);
    REQUIRE(c.threads == 1 && c.prpsinfo == 1 && c.auxv == 1 && c.file == 1 && c.fpregs == 1,
            "notes: %d prstatus, %d prpsinfo, %d auxv, %d file, %d fpregset", c.threads, c.prpsinfo, c.auxv, c.file,
            c.fpregs);
    REQUIRE(c.signo == sig && !strcmp(c.fname, "crashme"), "prstatus signal %d, prpsinfo name '%s'", c.signo, c.fname);
    REQUIRE(c.rip0 >= 0x400000 && c.rip0 < 0x800000, "rip %llx not in crashme's code", (unsigned long long)c.rip0);
    REQUIRE(!addr0 || c.siginfo_addr == 0, "siginfo address %llx", (unsigned long long)c.siginfo_addr);
    REQUIRE(c.loads >= 4, "%d PT_LOADs", c.loads);
    snprintf(why, sizeof why, "%s, rip %llx, %d PT_LOAD", path, (unsigned long long)c.rip0, c.loads);
    return true;
}

static bool t_core_null(void) { return check_crash("null", SIGSEGV, true); }
static bool t_core_div(void) { return check_crash("div", SIGFPE, false); }
static bool t_core_ud2(void) { return check_crash("ud2", SIGILL, false); }

static bool t_core_two_at_once(void)
{
    /* both sleep to the same moment, then crash: the server sees two faults in one poll */
    pid_t a = crash("wait", "300"), b = crash("wait", "300");
    REQUIRE(a > 0 && b > 0, "spawn");
    int sa, sb;
    REQUIRE(waitpid(a, &sa, 0) == a && waitpid(b, &sb, 0) == b, "wait");
    REQUIRE(WCOREDUMP(sa) && WCOREDUMP(sb), "statuses %#x %#x", sa, sb);
    struct core ca, cb;
    char pa[64], pb[64];
    snprintf(pa, sizeof pa, "/var/core/core.crashme.%d", a);
    snprintf(pb, sizeof pb, "/var/core/core.crashme.%d", b);
    REQUIRE(read_core(pa, &ca) == 0 && read_core(pb, &cb) == 0, "two cores: %s %s", pa, pb);
    REQUIRE(ca.threads == 1 && cb.threads == 1 && ca.signo == SIGSEGV && cb.signo == SIGSEGV, "notes");
    return true;
}

static bool t_core_threads(void)
{
    pid_t pid = crash("threads", "2");
    REQUIRE(pid > 0, "spawn");
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid && WCOREDUMP(st), "status %#x", st);
    char path[64];
    snprintf(path, sizeof path, "/var/core/core.crashme.%d", pid);
    struct core c;
    REQUIRE(read_core(path, &c) == 0, "core");
    REQUIRE(c.threads == 3 && c.fpregs == 3, "%d NT_PRSTATUS, %d NT_FPREGSET for 3 threads", c.threads, c.fpregs);
    REQUIRE(c.rip0 >= 0x400000 && c.rip0 < 0x800000, "the faulting thread is not first (rip %llx)",
            (unsigned long long)c.rip0);
    return true;
}

static bool t_core_pattern_used(void)
{
    REQUIRE(write_text("/proc/sys/kernel/core_pattern", "/tmp/cores/%e-%s-%p.core"), "set pattern");
    pid_t pid = crash("div", NULL);
    int st = 0;
    bool waited = pid > 0 && waitpid(pid, &st, 0) == pid;
    write_text("/proc/sys/kernel/core_pattern", "/var/core/core.%e.%p");
    REQUIRE(waited && WCOREDUMP(st), "status %#x", st);
    char path[64];
    snprintf(path, sizeof path, "/tmp/cores/crashme-%d-%d.core", SIGFPE, pid);
    struct core c;
    REQUIRE(read_core(path, &c) == 0, "no core at %s", path);
    /* a pattern nobody can write (a file where the directory should be): no core, no WCOREDUMP */
    REQUIRE(write_text("/proc/sys/kernel/core_pattern", "/proc/nope/%p"), "set pattern 2");
    pid = crash("null", NULL);
    waited = pid > 0 && waitpid(pid, &st, 0) == pid;
    write_text("/proc/sys/kernel/core_pattern", "/var/core/core.%e.%p");
    REQUIRE(waited && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && !WCOREDUMP(st), "unwritable: status %#x", st);
    unlink(path);
    return true;
}

static const struct lanes_test tests[] = {
    { "proc-uptime", t_uptime },
    { "proc-meminfo", t_meminfo },
    { "proc-cpuinfo", t_cpuinfo },
    { "proc-self-stat", t_self_stat },
    { "proc-stat-processor", t_stat_processor },
    { "proc-status", t_status },
    { "proc-comm-cmdline", t_comm_cmdline },
    { "proc-maps", t_maps },
    { "proc-readdir", t_readdir },
    { "proc-errors", t_errors },
    { "proc-zombie", t_zombie },
    { "proc-core-pattern", t_core_pattern_rw },
    { "core-null", t_core_null },
    { "core-div", t_core_div },
    { "core-ud2", t_core_ud2 },
    { "core-two-at-once", t_core_two_at_once },
    { "core-threads", t_core_threads },
    { "core-pattern-used", t_core_pattern_used },
};

int main(int argc, char **argv)
{
    if (!lanes_posix_active()) {
        printf("proctests: not a POSIX process (run it from the shell)\n");
        return 2;
    }
    struct lanes_tests t = { 0, 0 };
    lanes_test_table(&t, tests, sizeof tests / sizeof *tests, argc, argv, NULL);
    return lanes_test_summary(&t, "proctests", argc);
}
