/* procfs.c — /proc, in Linux's layout and formats, served by this server:
 *
 *     /proc/uptime  meminfo  cpuinfo  self (the caller's own directory)
 *     /proc/PID/stat  status  comm  cmdline  maps
 *     /proc/sys/kernel/core_pattern   (read/write: where core.c writes core files)
 *
 * Every process the kernel has is listed (its thread_list); POSIX processes (ours) have their
 * parent, group, session and umask, and — through their PROCESS handle and process_inspect —
 * their memory map and arguments. Processes POSIX did not start (init, the servers) have
 * empty maps and cmdline, as kernel threads have on Linux.
 *
 * A file's text is made when it is opened (Linux makes it at the first read of an open file;
 * either way one open file shows one consistent snapshot) and served from that snapshot on the
 * same file protocol fs speaks (fs.Read, Pread, Seek, Fstat, Readdir; fs.Write on core_pattern),
 * over a stream of its own, like a pipe end (pipe.c): the description handed to the process
 * holds the client end, we keep the server end with one accept posted; the slot is free again
 * when every copy of the client end is gone. Directories hand out Linux dirent64 records.
 * Times are in USER_HZ (100) ticks as on Linux.
 */
#include "posix.h"
#include <dirent.h>
#include <stdarg.h>

#define MAX_PFILES 128
#define PREQ (CHUNK + 64)
#define HZ 100
#define NS_PER_TICK (1000000000ull / HZ)
#define CORE_PATTERN_MAX 128

char core_pattern[CORE_PATTERN_MAX] = "/var/core/core.%e.%p";

enum node {
    N_NONE, N_ROOT, N_UPTIME, N_MEMINFO, N_CPUINFO, N_SYS, N_SYS_KERNEL, N_CORE_PATTERN,
    N_PIDDIR, N_STAT, N_STATUS, N_COMM, N_CMDLINE, N_MAPS,
};

static const struct { const char *name; enum node node; } pid_files[] = {
    { "cmdline", N_CMDLINE }, { "comm", N_COMM }, { "maps", N_MAPS }, { "stat", N_STAT }, { "status", N_STATUS },
};

struct pfile {
    bool used;
    uint32_t gen;
    bool dir;
    enum node node;
    int32_t lane;               /* server end */
    uint8_t *req;
    char *data;
    size_t len;
    uint64_t off;
};

static struct pfile pfiles[MAX_PFILES];

/* ---- text building ---- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_put(struct sbuf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- what the kernel says about processes ---- */

struct task {
    int32_t pid;
    char name[33];
    uint32_t nthreads, cpu;
    char state;                 /* Linux's letter */
    uint64_t cpu_ns;
};

static struct lane_thread_record *threads;
static uint32_t nthreads_all;
static int32_t requester;      /* who opened the file: blocked in its request to us, running to itself */

static void snapshot_threads(void)
{
    static uint32_t cap = 64;
    for (;;) {
        free(threads);
        threads = malloc(cap * sizeof *threads);
        if (!threads) {
            nthreads_all = 0;
            return;
        }
        int64_t r = lanes_sys_thread_list(threads, cap);
        if (r < 0) {
            nthreads_all = 0;
            return;
        }
        if ((uint64_t)r <= cap) {
            nthreads_all = (uint32_t)r;
            return;
        }
        cap = (uint32_t)r + 16;
    }
}

static char state_letter(uint32_t s)
{
    switch (s) {
    case LANES_THREAD_STATE_RUNNING:
    case LANES_THREAD_STATE_READY: return 'R';
    case LANES_THREAD_STATE_STOPPED: return 'T';
    case LANES_THREAD_STATE_DEAD: return 'X';
    default: return 'S';
    }
}

/* Fills t from the thread snapshot (and our table for zombies); false if no such process. */
static bool task_of(int32_t pid, struct task *t)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    int rank = -1;
    for (uint32_t i = 0; i < nthreads_all; i++) {
        const struct lane_thread_record *r = &threads[i];
        if ((int32_t)r->pid != pid || pid == 0)
            continue;
        if (t->nthreads == 0) {
            memcpy(t->name, r->name, sizeof r->name);
            t->cpu = r->cpu;       /* the first thread (the main one): Linux's stat is the leader's */
        }
        t->nthreads++;
        t->cpu_ns += r->cpu_time_ns;
        /* the process's letter: running beats sleeping beats stopped */
        char c = state_letter(r->state);
        int k = c == 'R' ? 3 : c == 'S' ? 2 : c == 'T' ? 1 : 0;
        if (k > rank) {
            rank = k;
            t->state = c;
        }
    }
    if (pid == requester && t->nthreads)
        t->state = 'R';             /* as on Linux, where the reader is running (in the kernel) */
    struct proc *p = proc_by_pid(pid);
    if (p && p->zombie) {
        t->state = 'Z';
        if (!t->name[0])
            strcpy(t->name, "?");
        return true;
    }
    return t->nthreads > 0;
}

static bool own_info(struct proc *p, struct lane_process_info *pi)
{
    memset(pi, 0, sizeof *pi);
    return p && !p->zombie && p->handle != LANES_HANDLE_NONE &&
           lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_INFO, 0, pi, sizeof *pi) == 0;
}

/* The regions of one of our processes (malloc'd; *n of them), or NULL. */
struct lane_mem_region *proc_regions(struct proc *p, uint32_t *n)
{
    *n = 0;
    if (!p || p->handle == LANES_HANDLE_NONE)
        return NULL;
    uint32_t cap = 32;
    for (int tries = 0; tries < 4; tries++) {
        struct lane_mem_region *r = malloc(cap * sizeof *r);
        if (!r)
            return NULL;
        int64_t got = lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_REGIONS, 0, r, cap * sizeof *r);
        if (got < 0) {
            free(r);
            return NULL;
        }
        if ((uint64_t)got <= cap) {
            *n = (uint32_t)got;
            return r;
        }
        free(r);
        cap = (uint32_t)got + 8;
    }
    return NULL;
}

/* A process's name as the kernel has it (TASK_COMM_LEN: 15 characters), "?" if none. */
void proc_comm(int32_t pid, char out[16])
{
    snapshot_threads();
    snprintf(out, 16, "?");
    for (uint32_t i = 0; i < nthreads_all; i++)
        if ((int32_t)threads[i].pid == pid) {
            snprintf(out, 16, "%.*s", (int)sizeof threads[i].name, threads[i].name);
            return;
        }
}

/* The path NT_FILE and maps give the program's image: the kernel knows its name only. */
void proc_image_path(const char *name, char *out, size_t cap) { snprintf(out, cap, "/bin/%s", name); }

/* ---- the files ---- */

static void gen_uptime(struct sbuf *b)
{
    struct lane_sysinfo si;
    memset(&si, 0, sizeof si);
    lanes_sys_sysinfo(&si);
    uint64_t idle = 0;
    for (uint32_t c = 0; c < si.ncpus; c++) {
        char path[64], val[32];
        int pl = snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/idle_ns", c);
        int64_t n = lanes_sys_sysfs_read(path, (uint64_t)pl, val, sizeof val - 1);
        if (n > 0) {
            val[n] = 0;
            idle += strtoull(val, NULL, 10);
        }
    }
    uint64_t up = si.uptime_ns / 10000000, id = idle / 10000000;   /* centiseconds */
    sb_printf(b, "%llu.%02llu %llu.%02llu\n", (unsigned long long)(up / 100), (unsigned long long)(up % 100),
              (unsigned long long)(id / 100), (unsigned long long)(id % 100));
}

static void kb_line(struct sbuf *b, const char *name, uint64_t kb)
{
    /* Linux's show_val_kb: the name padded to 16 columns, the value to 8 */
    char label[32];
    snprintf(label, sizeof label, "%s:", name);
    sb_printf(b, "%-15s %8llu kB\n", label, (unsigned long long)kb);
}

static void gen_meminfo(struct sbuf *b)
{
    struct lane_sysinfo si;
    memset(&si, 0, sizeof si);
    lanes_sys_sysinfo(&si);
    uint64_t total = si.mem_total / 1024, free_kb = si.mem_free / 1024;
    kb_line(b, "MemTotal", total);
    kb_line(b, "MemFree", free_kb);
    kb_line(b, "MemAvailable", free_kb);
    kb_line(b, "Buffers", 0);
    kb_line(b, "Cached", 0);
    kb_line(b, "SwapCached", 0);
    kb_line(b, "Active", total - free_kb);
    kb_line(b, "Inactive", 0);
    kb_line(b, "SwapTotal", 0);
    kb_line(b, "SwapFree", 0);
    kb_line(b, "Dirty", 0);
    kb_line(b, "AnonPages", total - free_kb);
    kb_line(b, "Shmem", 0);
    kb_line(b, "CommitLimit", total);
    kb_line(b, "Committed_AS", total - free_kb);
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void gen_cpuinfo(struct sbuf *b)
{
    struct lane_sysinfo si;
    memset(&si, 0, sizeof si);
    lanes_sys_sysinfo(&si);
    uint32_t r[4];
    char vendor[13] = { 0 };
    cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    cpuid(1, 0, r);
    uint32_t family = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf, stepping = r[0] & 0xf;
    if (family == 0xf)
        family += (r[0] >> 20) & 0xff;
    if (family == 6 || family >= 0xf)
        model |= ((r[0] >> 16) & 0xf) << 4;
    uint32_t edx1 = r[3], ecx1 = r[2];
    char brand[49] = { 0 };
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        for (uint32_t i = 0; i < 3; i++) {
            cpuid(0x80000002u + i, 0, r);
            memcpy(brand + 16 * i, r, 16);
        }
    }
    const char *bp = brand;
    while (*bp == ' ')
        bp++;
    static const char *const edx_flags[32] = { "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic",
                                               NULL, "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn",
                                               "clflush", NULL, "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss",
                                               "ht", "tm", "ia64", "pbe" };
    static const char *const ecx_flags[32] = { "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est",
                                               "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL,
                                               "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt",
                                               "tsc_deadline_timer", "aes", "xsave", NULL, "avx", "f16c", "rdrand",
                                               "hypervisor" };
    uint64_t khz = si.tsc_hz / 1000;
    for (uint32_t c = 0; c < si.ncpus; c++) {
        char path[64], val[32];
        uint32_t apic = c;
        int pl = snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/apic_id", c);
        int64_t n = lanes_sys_sysfs_read(path, (uint64_t)pl, val, sizeof val - 1);
        if (n > 0) {
            val[n] = 0;
            apic = (uint32_t)strtoul(val, NULL, 0);
        }
        sb_printf(b, "processor\t: %u\n", c);
        sb_printf(b, "vendor_id\t: %s\n", vendor);
        sb_printf(b, "cpu family\t: %u\n", family);
        sb_printf(b, "model\t\t: %u\n", model);
        sb_printf(b, "model name\t: %s\n", *bp ? bp : "unknown");
        sb_printf(b, "stepping\t: %u\n", stepping);
        sb_printf(b, "cpu MHz\t\t: %llu.%03llu\n", (unsigned long long)(khz / 1000), (unsigned long long)(khz % 1000));
        sb_printf(b, "physical id\t: 0\n");
        sb_printf(b, "siblings\t: %u\n", si.ncpus);
        sb_printf(b, "core id\t\t: %u\n", c);
        sb_printf(b, "cpu cores\t: %u\n", si.ncpus);
        sb_printf(b, "apicid\t\t: %u\n", apic);
        sb_printf(b, "fpu\t\t: %s\n", (edx1 & 1) ? "yes" : "no");
        sb_printf(b, "flags\t\t:");
        for (int i = 0; i < 32; i++)
            if ((edx1 >> i & 1) && edx_flags[i])
                sb_printf(b, " %s", edx_flags[i]);
        for (int i = 0; i < 32; i++)
            if ((ecx1 >> i & 1) && ecx_flags[i])
                sb_printf(b, " %s", ecx_flags[i]);
        sb_printf(b, "\n");
        sb_printf(b, "bogomips\t: %llu.%02llu\n", (unsigned long long)(2 * khz / 1000),
                  (unsigned long long)((2 * khz % 1000) / 10));
        sb_printf(b, "address sizes\t: 48 bits physical, 48 bits virtual\n\n");
    }
}

static void comm_of(const struct task *t, char out[16])
{
    snprintf(out, 16, "%s", t->name);   /* TASK_COMM_LEN: 15 characters */
}

static uint64_t vm_bytes(struct proc *p)
{
    uint32_t n;
    struct lane_mem_region *r = proc_regions(p, &n);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += r[i].end - r[i].start;
    free(r);
    return sum;
}

static void gen_stat(struct sbuf *b, const struct task *t)
{
    struct proc *p = proc_by_pid(t->pid);
    struct lane_process_info pi;
    bool have = own_info(p, &pi);
    char comm[16];
    comm_of(t, comm);
    int32_t ppid = p ? p->ppid : t->pid == 1 ? 0 : 1;
    int32_t pgid = p ? p->pgid : t->pid, sid = p ? p->sid : t->pid;
    uint64_t vsize = have ? vm_bytes(p) : 0;
    uint64_t start = have ? pi.start_ns / NS_PER_TICK : 0;
    int exit_code = p && p->zombie ? p->status : 0;
    /* the 52 fields of Linux's fs/proc/array.c do_task_stat, in its order */
    sb_printf(b, "%d (%s) %c %d %d %d %d %d %u ", t->pid, comm, t->state, ppid, pgid, sid, 0, -1, 0x400000u);
    sb_printf(b, "%lu %lu %lu %lu ", 0ul, 0ul, 0ul, 0ul);                       /* minflt cminflt majflt cmajflt */
    sb_printf(b, "%llu %llu %ld %ld ", (unsigned long long)(t->cpu_ns / NS_PER_TICK), 0ull, 0l, 0l); /* utime stime cutime cstime */
    sb_printf(b, "%ld %ld %ld %ld %llu ", 20l, 0l, (long)(t->nthreads ? t->nthreads : 1), 0l, (unsigned long long)start);
    sb_printf(b, "%llu %llu %llu ", (unsigned long long)vsize, (unsigned long long)(vsize / 4096),
              18446744073709551615ull);                                           /* vsize rss rsslim */
    sb_printf(b, "%llu %llu %llu %lu %lu ", (unsigned long long)(have ? pi.image_start : 0),
              (unsigned long long)(have ? pi.image_end : 0), (unsigned long long)(have ? pi.arg_start : 0), 0ul, 0ul);
    sb_printf(b, "%lu %lu %lu %lu %lu %lu %lu %d %u %u %u ", 0ul, 0ul, 0ul, 0ul, 0ul, 0ul, 0ul, 17, t->cpu, 0u, 0u);
    sb_printf(b, "%llu %lu %ld ", 0ull, 0ul, 0l);                             /* blkio_ticks guest_time cguest_time */
    sb_printf(b, "%lu %lu %lu %llu %llu %llu %llu %d\n", 0ul, 0ul, 0ul,          /* start_data end_data start_brk */
              (unsigned long long)(have ? pi.arg_start : 0), (unsigned long long)(have ? pi.arg_end : 0),
              (unsigned long long)(have ? pi.arg_end : 0), (unsigned long long)(have ? pi.arg_end : 0), exit_code);
}

static const char *state_word(char c)
{
    switch (c) {
    case 'R': return "R (running)";
    case 'T': return "T (stopped)";
    case 'Z': return "Z (zombie)";
    case 'X': return "X (dead)";
    default: return "S (sleeping)";
    }
}

static void status_kb(struct sbuf *b, const char *name, uint64_t kb)
{
    sb_printf(b, "%s:\t%8llu kB\n", name, (unsigned long long)kb);    /* Linux's task_mem */
}

static void gen_status(struct sbuf *b, const struct task *t)
{
    struct proc *p = proc_by_pid(t->pid);
    struct lane_process_info pi;
    bool have = own_info(p, &pi);
    struct lane_sysinfo si;
    memset(&si, 0, sizeof si);
    lanes_sys_sysinfo(&si);
    char comm[16];
    comm_of(t, comm);
    uint64_t kb = have ? vm_bytes(p) / 1024 : 0;
    sb_printf(b, "Name:\t%s\n", comm);
    sb_printf(b, "Umask:\t%04o\n", p ? p->umask : 022);
    sb_printf(b, "State:\t%s\n", state_word(t->state));
    sb_printf(b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", t->pid, t->pid,
              p ? p->ppid : t->pid == 1 ? 0 : 1);
    sb_printf(b, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t\n", MAX_FDS);
    sb_printf(b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", t->pid, t->pid, p ? p->pgid : t->pid,
              p ? p->sid : t->pid);
    if (have) {
        status_kb(b, "VmPeak", kb);
        status_kb(b, "VmSize", kb);
        status_kb(b, "VmLck", 0);
        status_kb(b, "VmPin", 0);
        status_kb(b, "VmHWM", kb);
        status_kb(b, "VmRSS", kb);
        status_kb(b, "VmStk", (pi.stack_end - pi.stack_start) / 1024);
    }
    sb_printf(b, "Threads:\t%u\n", t->nthreads);
    sb_printf(b, "SigQ:\t0/0\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n");
    sb_printf(b, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n");
    uint64_t mask = si.ncpus >= 64 ? ~0ull : (1ull << si.ncpus) - 1;
    sb_printf(b, "Cpus_allowed:\t%llx\n", (unsigned long long)mask);
    if (si.ncpus > 1)
        sb_printf(b, "Cpus_allowed_list:\t0-%u\n", si.ncpus - 1);
    else
        sb_printf(b, "Cpus_allowed_list:\t0\n");
    sb_printf(b, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
}

static void gen_cmdline(struct sbuf *b, const struct task *t)
{
    struct proc *p = proc_by_pid(t->pid);
    struct lane_process_info pi;
    if (!own_info(p, &pi) || pi.arg_end <= pi.arg_start || pi.arg_end - pi.arg_start > 65536)
        return;
    size_t n = (size_t)(pi.arg_end - pi.arg_start);
    char *tmp = malloc(n);
    if (tmp && lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_READ, pi.arg_start, tmp, n) == (int64_t)n) {
        /* argc strings, each with its NUL (Linux's cmdline ends in one too) */
        size_t used = 0;
        for (uint32_t i = 0; i < pi.argc && used < n; i++)
            used += strnlen(tmp + used, n - used) + 1;
        sb_put(b, tmp, used > n ? n : used);
    }
    free(tmp);
}

static void gen_maps(struct sbuf *b, const struct task *t)
{
    struct proc *p = proc_by_pid(t->pid);
    uint32_t n;
    struct lane_mem_region *r = p && !p->zombie ? proc_regions(p, &n) : NULL;
    if (!r)
        return;
    char image[64];
    proc_image_path(t->name, image, sizeof image);
    for (uint32_t i = 0; i < n; i++) {
        char line[256];
        int l = snprintf(line, sizeof line, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %lu ",
                         (unsigned long long)r[i].start, (unsigned long long)r[i].end,
                         (r[i].prot & LANES_PROT_READ) ? 'r' : '-', (r[i].prot & LANES_PROT_WRITE) ? 'w' : '-',
                         (r[i].prot & LANES_PROT_EXEC) ? 'x' : '-', 'p',
                         (unsigned long long)(r[i].kind == LANES_REGION_KIND_IMAGE ? r[i].offset : 0), 0, 0, 0ul);
        const char *name = r[i].kind == LANES_REGION_KIND_IMAGE ? image : r[i].kind == LANES_REGION_KIND_STACK ? "[stack]" : "";
        if (*name) {
            /* Linux pads to 73 columns (25 + 6 * sizeof(void *) - 1 + 1) before the name */
            while (l < 73 && l < (int)sizeof line - 1)
                line[l++] = ' ';
            l += snprintf(line + l, sizeof line - (size_t)l, "%s", name);
        } else if (l > 0) {
            l--;                    /* no name: no trailing blank, as on Linux */
        }
        sb_put(b, line, (size_t)l);
        sb_put(b, "\n", 1);
    }
    free(r);
}

/* ---- directories (Linux dirent64 records) ---- */

static void dirent_add(struct sbuf *b, uint64_t ino, uint8_t type, const char *name)
{
    size_t nl = strlen(name);
    uint16_t reclen = (uint16_t)((19 + nl + 1 + 7) & ~7u);
    uint8_t rec[300];
    memset(rec, 0, sizeof rec);
    int64_t off = (int64_t)(b->len + reclen);
    memcpy(rec, &ino, 8);
    memcpy(rec + 8, &off, 8);
    memcpy(rec + 16, &reclen, 2);
    rec[18] = type;
    memcpy(rec + 19, name, nl);
    sb_put(b, rec, reclen);
}

static bool pid_listed(int32_t *seen, int n, int32_t pid)
{
    for (int i = 0; i < n; i++)
        if (seen[i] == pid)
            return true;
    return false;
}

static void gen_root(struct sbuf *b)
{
    dirent_add(b, 1, DT_DIR, ".");
    dirent_add(b, 1, DT_DIR, "..");
    static int32_t seen[1024];
    int ns = 0;
    for (uint32_t i = 0; i < nthreads_all && ns < 1024; i++) {
        int32_t pid = (int32_t)threads[i].pid;
        if (pid != 0 && !pid_listed(seen, ns, pid))
            seen[ns++] = pid;
    }
    for (int i = 0; i < procs_end && ns < 1024; i++)
        if (procs[i].used && procs[i].zombie && !pid_listed(seen, ns, procs[i].pid))
            seen[ns++] = procs[i].pid;
    /* ascending, as Linux lists them */
    for (int i = 1; i < ns; i++)
        for (int j = i; j > 0 && seen[j - 1] > seen[j]; j--) {
            int32_t x = seen[j];
            seen[j] = seen[j - 1];
            seen[j - 1] = x;
        }
    static const char *const files[] = { "cpuinfo", "meminfo", "uptime" };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        dirent_add(b, 2 + i, DT_REG, files[i]);
    dirent_add(b, 8, 10 /* DT_LNK */, "self");
    dirent_add(b, 9, DT_DIR, "sys");
    for (int i = 0; i < ns; i++) {
        char name[16];
        snprintf(name, sizeof name, "%d", seen[i]);
        dirent_add(b, 0x10000ull * (uint64_t)seen[i], DT_DIR, name);
    }
}

/* ---- paths ---- */

/* Which node abs (an absolute, normal path under /proc) names; *pid for the PID nodes. */
static enum node lookup(struct proc *caller, const char *abs, int32_t *pid)
{
    const char *s = abs + 5;            /* after "/proc" */
    *pid = 0;
    if (*s == 0)
        return N_ROOT;
    s++;
    if (strcmp(s, "uptime") == 0)
        return N_UPTIME;
    if (strcmp(s, "meminfo") == 0)
        return N_MEMINFO;
    if (strcmp(s, "cpuinfo") == 0)
        return N_CPUINFO;
    if (strcmp(s, "sys") == 0)
        return N_SYS;
    if (strcmp(s, "sys/kernel") == 0)
        return N_SYS_KERNEL;
    if (strcmp(s, "sys/kernel/core_pattern") == 0)
        return N_CORE_PATTERN;
    const char *rest;
    if (strncmp(s, "self", 4) == 0 && (s[4] == 0 || s[4] == '/')) {
        *pid = caller->pid;
        rest = s + 4;
    } else {
        if (*s < '1' || *s > '9')
            return N_NONE;
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if ((*end != 0 && *end != '/') || v > 0x7fffffff)
            return N_NONE;
        *pid = (int32_t)v;
        rest = end;
    }
    struct task t;
    if (!task_of(*pid, &t))
        return N_NONE;
    if (*rest == 0)
        return N_PIDDIR;
    rest++;
    for (size_t i = 0; i < sizeof pid_files / sizeof *pid_files; i++)
        if (strcmp(rest, pid_files[i].name) == 0)
            return pid_files[i].node;
    return N_NONE;
}

static bool is_dir(enum node n) { return n == N_ROOT || n == N_SYS || n == N_SYS_KERNEL || n == N_PIDDIR; }

static uint64_t ino_of(enum node n, int32_t pid) { return pid ? 0x10000ull * (uint64_t)pid + n : n; }

static void generate(struct sbuf *b, enum node n, int32_t pid)
{
    struct task t;
    if (pid)
        task_of(pid, &t);
    switch (n) {
    case N_ROOT: gen_root(b); break;
    case N_UPTIME: gen_uptime(b); break;
    case N_MEMINFO: gen_meminfo(b); break;
    case N_CPUINFO: gen_cpuinfo(b); break;
    case N_SYS:
        dirent_add(b, N_SYS, DT_DIR, ".");
        dirent_add(b, 1, DT_DIR, "..");
        dirent_add(b, N_SYS_KERNEL, DT_DIR, "kernel");
        break;
    case N_SYS_KERNEL:
        dirent_add(b, N_SYS_KERNEL, DT_DIR, ".");
        dirent_add(b, N_SYS, DT_DIR, "..");
        dirent_add(b, N_CORE_PATTERN, DT_REG, "core_pattern");
        break;
    case N_CORE_PATTERN: sb_printf(b, "%s\n", core_pattern); break;
    case N_PIDDIR:
        dirent_add(b, ino_of(N_PIDDIR, pid), DT_DIR, ".");
        dirent_add(b, 1, DT_DIR, "..");
        for (size_t i = 0; i < sizeof pid_files / sizeof *pid_files; i++)
            dirent_add(b, ino_of(pid_files[i].node, pid), DT_REG, pid_files[i].name);
        break;
    case N_STAT: gen_stat(b, &t); break;
    case N_STATUS: gen_status(b, &t); break;
    case N_COMM: {
        char comm[16];
        comm_of(&t, comm);
        sb_printf(b, "%s\n", comm);
        break;
    }
    case N_CMDLINE: gen_cmdline(b, &t); break;
    case N_MAPS: gen_maps(b, &t); break;
    default: break;
    }
}

static struct lane_msg_fs_attr attr_of(enum node n, int32_t pid)
{
    uint32_t mode = is_dir(n) ? S_IFDIR | 0555 : n == N_CORE_PATTERN ? S_IFREG | 0644 : S_IFREG | 0444;
    return lanes_msg_fs_attr_encode(0, mode, ino_of(n, pid), is_dir(n) ? 2 : 1, 0, 4);
}

int procfs_stat(struct proc *p, const char *abs, struct lane_msg_fs_attr *a)
{
    int32_t pid;
    snapshot_threads();
    enum node n = lookup(p, abs, &pid);
    if (n == N_NONE)
        return -ENOENT;
    *a = attr_of(n, pid);
    return 0;
}

/* ---- serving an open file ---- */

static void post(struct pfile *f)
{
    served_post(f->lane, f->req, PREQ, make_tag(TAG_PROCFS, f->gen, (uint32_t)(f - pfiles)), "a /proc file");
}

static void fs_reply(int32_t conv, int64_t v, const void *data, size_t n) { served_reply(conv, v, data, n); }

static void read_at(struct pfile *f, int32_t conv, uint64_t off, uint64_t size, bool advance)
{
    if (f->dir)
        return fs_reply(conv, -EISDIR, NULL, 0);
    size_t n = off >= f->len ? 0 : f->len - (size_t)off;
    if (n > size)
        n = (size_t)size;
    if (n > CHUNK)
        n = CHUNK;
    fs_reply(conv, (int64_t)n, f->data + off, n);
    if (advance)
        f->off = off + n;
}

static void readdir_at(struct pfile *f, int32_t conv, uint64_t size)
{
    if (!f->dir)
        return fs_reply(conv, -ENOTDIR, NULL, 0);
    size_t start = (size_t)f->off, end = start;
    if (size > CHUNK)
        size = CHUNK;
    while (end < f->len) {
        uint16_t reclen;
        memcpy(&reclen, f->data + end + 16, 2);
        if (end + reclen - start > size)
            break;
        end += reclen;
    }
    if (end == start && start < f->len)
        return fs_reply(conv, -EINVAL, NULL, 0);    /* the buffer cannot hold one record */
    fs_reply(conv, (int64_t)(end - start), f->data + start, end - start);
    f->off = end;
}

static int set_core_pattern(const uint8_t *data, size_t n)
{
    while (n && (data[n - 1] == '\n' || data[n - 1] == 0))
        n--;
    if (n >= CORE_PATTERN_MAX)
        return -EINVAL;
    if (memchr(data, 0, n))
        return -EINVAL;
    memcpy(core_pattern, data, n);
    core_pattern[n] = 0;
    return 0;
}

static void request(struct pfile *f, int32_t conv, const uint8_t *m, uint32_t len)
{
    union {
        struct lane_msg_fs_read rd;
        struct lane_msg_fs_pread pr;
        struct lane_msg_fs_seek sk;
        struct lane_msg_fs_fstat fs;
        struct lane_msg_fs_readdir rdd;
        struct lane_msg_fs_write wr;
        struct lane_msg_fs_pwrite pw;
    } u;
    if (lanes_msg_fs_read_decode(m, len, &u.rd) == 0) {
        read_at(f, conv, f->off, u.rd.size, true);
    } else if (lanes_msg_fs_pread_decode(m, len, &u.pr) == 0) {
        read_at(f, conv, u.pr.offset, u.pr.size, false);
    } else if (lanes_msg_fs_seek_decode(m, len, &u.sk) == 0) {
        int64_t base = u.sk.whence == 0 ? 0 : u.sk.whence == 1 ? (int64_t)f->off : u.sk.whence == 2 ? (int64_t)f->len : -1;
        if (base < 0 || base + u.sk.offset < 0)
            return fs_reply(conv, -EINVAL, NULL, 0);
        f->off = (uint64_t)(base + u.sk.offset);
        fs_reply(conv, (int64_t)f->off, NULL, 0);
    } else if (lanes_msg_fs_fstat_decode(m, len, &u.fs) == 0) {
        struct lane_msg_fs_attr a = attr_of(f->node, 0);
        send_msg(conv, &a, sizeof a, LANES_HANDLE_NONE);
    } else if (lanes_msg_fs_readdir_decode(m, len, &u.rdd) == 0) {
        readdir_at(f, conv, u.rdd.size);
    } else if (lanes_msg_fs_write_decode(m, len, &u.wr) == 0 || lanes_msg_fs_pwrite_decode(m, len, &u.pw) == 0) {
        bool plain = lanes_msg_fs_write_decode(m, len, &u.wr) == 0;
        uint64_t size = plain ? u.wr.size : u.pw.size;
        size_t hdr = plain ? sizeof u.wr : sizeof u.pw;
        if (size > len - hdr) {
            st_malformed++;
            return fs_reply(conv, -EPROTO, NULL, 0);
        }
        if (f->node != N_CORE_PATTERN)
            return fs_reply(conv, -EBADF, NULL, 0);
        int e = set_core_pattern(m + hdr, (size_t)size);
        fs_reply(conv, e < 0 ? e : (int64_t)size, NULL, 0);
    } else {
        st_malformed++;
        fs_reply(conv, -EPROTO, NULL, 0);
    }
}

void procfs_complete(uint32_t index, uint32_t gen, const struct lane_ipc_completion *c)
{
    if (index >= MAX_PFILES)
        return;
    struct pfile *f = &pfiles[index];
    int32_t conv;
    uint32_t len;
    switch (served_take(c, !f->used || (f->gen & 0xffffff) != gen, &conv, &len)) {
    case SERVED_STALE:
        return;
    case SERVED_GONE:
        lanes_sys_handle_close(f->lane);    /* every copy of the client end is gone */
        free(f->data);
        f->data = NULL;
        f->used = false;
        return;
    case SERVED_REQUEST:
        request(f, conv, f->req, len);
        lanes_sys_handle_close(conv);
        break;
    case SERVED_AGAIN:
        break;
    }
    post(f);
}

/* open() of a path under /proc: a description of its own stream, or -errno. */
int procfs_open(struct proc *p, const char *abs, uint32_t flags, struct desc **out)
{
    int32_t pid;
    snapshot_threads();
    requester = p->pid;
    enum node n = lookup(p, abs, &pid);
    if (n == N_NONE)
        return (flags & O_CREAT) ? -EACCES : -ENOENT;
    bool dir = is_dir(n);
    uint32_t acc = flags & O_ACCMODE;
    if ((flags & O_DIRECTORY) && !dir)
        return -ENOTDIR;
    if (acc != O_RDONLY && (dir || n != N_CORE_PATTERN))
        return dir ? -EISDIR : -EACCES;
    if ((flags & O_CREAT) && (flags & O_EXCL))
        return -EEXIST;
    struct pfile *f = NULL;
    for (int i = 0; i < MAX_PFILES && !f; i++)
        if (!pfiles[i].used)
            f = &pfiles[i];
    if (!f)
        return -ENFILE;
    if (!f->req)
        f->req = malloc(PREQ);
    if (!f->req)
        return -ENOMEM;
    struct sbuf b = { 0 };
    generate(&b, n, pid);
    if (b.oom) {
        free(b.p);
        return -ENOMEM;
    }
    int32_t s[2];
    if (lanes_stream(s) < 0) {
        free(b.p);
        return -ENOMEM;
    }
    struct desc *d = desc_new(dir ? KIND_DIR : KIND_FILE, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK), s[0]);
    if (!d) {
        lanes_sys_handle_close(s[0]);
        lanes_sys_handle_close(s[1]);
        free(b.p);
        return -ENOMEM;
    }
    d->path = strdup(abs);
    f->used = true;
    f->gen++;
    f->dir = dir;
    f->node = n;
    f->lane = s[1];
    f->data = b.p;
    f->len = b.len;
    f->off = 0;
    post(f);
    *out = d;
    return 0;
}
