/* core.c — ELF core files of processes a core-dumping signal ended, in Linux's format, so that
 * host gdb opens one with the program's ELF as it opens a Linux core (after Managarm's posix
 * coredump, 2025):
 *
 *     ELF header (ET_CORE, x86_64)
 *     program headers: PT_NOTE, then one PT_LOAD per region of the address space
 *     notes, as Linux orders them: for the thread that crashed NT_PRSTATUS, NT_PRPSINFO,
 *       NT_SIGINFO, NT_AUXV, NT_FILE, NT_FPREGSET; for every other thread NT_PRSTATUS, NT_FPREGSET
 *     the contents of every region that is not the program's own read-only image (text and
 *       read-only data: their PT_LOAD has p_filesz 0, gdb takes them from the ELF), page-aligned
 *
 * Everything comes from the kernel through process_inspect (a policy-free primitive: registers
 * of stopped threads, regions, memory); where the file goes is ours: /proc/sys/kernel/core_pattern
 * (procfs.c; %p pid, %e name, %s signal, %t seconds since boot, %h host, %% a percent sign; a
 * relative pattern is relative to the process's working directory; a pattern starting with '|'
 * is not supported and writes nothing). Missing directories are made.
 *
 * The entry point is core_dump(): process.c calls it when a fault ended a process (the process
 * is stopped, every thread parked); signals' default action calls it for SIGQUIT, SIGABRT, ...
 * with the process stopped the same way. Each core gets its own file (the pattern's %p), so
 * processes that crash together each leave theirs. The dump is written synchronously through
 * the fs server while the event loop waits (as Linux's dying task does the writing).
 */
#include "posix.h"
#include <signal.h>

#define ET_CORE 4
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define NT_PRSTATUS 1
#define NT_FPREGSET 2
#define NT_PRPSINFO 3
#define NT_AUXV 6
#define NT_SIGINFO 0x53494749
#define NT_FILE 0x46494c45
#define MAX_THREADS 64
#define PAGE 4096ull

struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Linux's struct elf_prstatus (x86_64: 336 bytes) and elf_prpsinfo (136 bytes) */
struct prstatus {
    int32_t si_signo, si_code, si_errno;
    int16_t cursig;
    uint16_t pad0;
    uint64_t sigpend, sighold;
    int32_t pid, ppid, pgrp, sid;
    uint64_t utime[2], stime[2], cutime[2], cstime[2];
    uint64_t reg[27];
    int32_t fpvalid;
    int32_t pad1;
};
_Static_assert(sizeof(struct prstatus) == 336, "elf_prstatus");

struct prpsinfo {
    char state, sname, zomb, nice;
    uint32_t pad0;
    uint64_t flag;
    uint32_t uid, gid;
    int32_t pid, ppid, pgrp, sid;
    char fname[16];
    char psargs[80];
};
_Static_assert(sizeof(struct prpsinfo) == 136, "elf_prpsinfo");

struct siginfo {
    int32_t signo, errno_, code, pad;
    uint64_t addr;
    uint8_t rest[104];
};
_Static_assert(sizeof(struct siginfo) == 128, "siginfo_t");

struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void align4(struct buf *b)
{
    static const uint8_t z[4];
    put(b, z, (4 - b->len % 4) % 4);
}

static void note(struct buf *b, uint32_t type, const void *desc, uint32_t size)
{
    uint32_t h[3] = { 5, size, type };
    put(b, h, sizeof h);
    put(b, "CORE\0\0\0", 8);
    put(b, desc, size);
    align4(b);
}

/* si_code of the fault, as Linux reports it */
static int si_code_of(int signo, const struct core_fault *f)
{
    if (!f)
        return 0;       /* SI_USER: sent, not raised by the CPU */
    switch (signo) {
    case SIGSEGV: return (f->error & 1) ? 2 /* SEGV_ACCERR */ : 1 /* SEGV_MAPERR */;
    case SIGFPE: return 1;   /* FPE_INTDIV */
    case SIGILL: return 2;   /* ILL_ILLOPN */
    case SIGTRAP: return 1;  /* TRAP_BRKPT */
    default: return 0x80;    /* SI_KERNEL */
    }
}

/* Expands the pattern for p into out: 0, or -errno (ENAMETOOLONG, or ENOSYS for a pipe). */
static int core_path(struct proc *p, const char *comm, int signo, char *out, size_t cap)
{
    const char *pat = core_pattern;
    if (pat[0] == '|')
        return -ENOSYS;
    size_t n = 0;
    char tmp[64];
    if (pat[0] != '/') {
        const char *cwd = p->cwd ? p->cwd : "/";
        n = (size_t)snprintf(out, cap, "%s%s", cwd, strcmp(cwd, "/") ? "/" : "");
    }
    for (const char *s = pat; *s && n < cap; s++) {
        const char *add = tmp;
        tmp[0] = 0;
        if (*s != '%') {
            tmp[0] = *s;
            tmp[1] = 0;
        } else {
            switch (*++s) {
            case 'p': snprintf(tmp, sizeof tmp, "%d", p->pid); break;
            case 'e': add = comm; break;
            case 's': snprintf(tmp, sizeof tmp, "%d", signo); break;
            case 't': snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)(lanes_now_ns() / 1000000000ull)); break;
            case 'h': add = "lanes"; break;
            case '%': add = "%"; break;
            case 0: s--; break;
            default: break;     /* unknown: dropped, as Linux does */
            }
        }
        size_t l = strlen(add);
        if (n + l >= cap)
            return -ENAMETOOLONG;
        memcpy(out + n, add, l);
        n += l;
    }
    if (n >= cap)
        return -ENAMETOOLONG;
    out[n] = 0;
    return 0;
}

static bool dumped(const struct lane_mem_region *r)
{
    return !(r->kind == LANES_REGION_KIND_IMAGE && !(r->prot & LANES_PROT_WRITE));
}

/* The threads' registers; waits (up to a second) for threads still on their way to STOPPED. */
static int read_threads(struct proc *p, struct lane_thread_regs *t, int max)
{
    int n = 0;
    uint64_t deadline = lanes_now_ns() + LANES_SEC(1);
    while (n < max) {
        int64_t r = lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_THREAD, (uint64_t)n, &t[n], sizeof t[n]);
        if (r == LANES_E_BUSY && lanes_now_ns() < deadline) {
            lanes_sys_sleep(LANES_MS(5));
            continue;
        }
        if (r < 0)
            break;
        n++;
    }
    return n;
}

int core_dump(struct proc *p, int signo, const struct core_fault *fault, char *path_out, size_t path_cap)
{
    static struct lane_thread_regs th[MAX_THREADS];
    if (!p || p->handle == LANES_HANDLE_NONE)
        return -ESRCH;
    struct lane_process_info pi;
    memset(&pi, 0, sizeof pi);
    if (lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_INFO, 0, &pi, sizeof pi) < 0)
        return -ESRCH;
    /* its name, as the kernel has it (the thread list), for %e, prpsinfo and NT_FILE */
    char comm[16] = "?";
    {
        struct lane_thread_record recs[128];
        int64_t nr = lanes_sys_thread_list(recs, 128);
        for (int64_t i = 0; i < nr && i < 128; i++)
            if ((int32_t)recs[i].pid == p->pid) {
                snprintf(comm, sizeof comm, "%s", recs[i].name);
                break;
            }
    }
    int nth = read_threads(p, th, MAX_THREADS);
    if (nth == 0)
        return -ESRCH;
    /* the thread that crashed first: the one at the fault's instruction */
    if (fault)
        for (int i = 1; i < nth; i++)
            if (th[i].regs[16] == fault->rip && th[0].regs[16] != fault->rip) {
                struct lane_thread_regs x = th[0];
                th[0] = th[i];
                th[i] = x;
                break;
            }
    uint32_t nreg;
    struct lane_mem_region *reg = proc_regions(p, &nreg);
    if (!reg)
        return -ENOMEM;
    char path[PATH_MAX_BYTES + 1];
    int e = core_path(p, comm, signo, path, sizeof path);
    if (e < 0) {
        free(reg);
        return e;
    }
    if (path_out)
        snprintf(path_out, path_cap, "%s", path);

    /* the notes */
    struct buf nb = { 0 };
    char image[64];
    proc_image_path(comm, image, sizeof image);
    for (int i = 0; i < nth; i++) {
        struct prstatus ps;
        memset(&ps, 0, sizeof ps);
        ps.si_signo = signo;
        ps.cursig = (int16_t)signo;
        ps.pid = (int32_t)th[i].tid;
        ps.ppid = p->ppid;
        ps.pgrp = p->pgid;
        ps.sid = p->sid;
        memcpy(ps.reg, th[i].regs, sizeof ps.reg);
        ps.fpvalid = 1;
        note(&nb, NT_PRSTATUS, &ps, sizeof ps);
        if (i == 0) {
            struct prpsinfo pp;
            memset(&pp, 0, sizeof pp);
            pp.state = 3;       /* T: stopped */
            pp.sname = 'T';
            pp.pid = p->pid;
            pp.ppid = p->ppid;
            pp.pgrp = p->pgid;
            pp.sid = p->sid;
            snprintf(pp.fname, sizeof pp.fname, "%s", comm);
            size_t an = pi.arg_end > pi.arg_start ? (size_t)(pi.arg_end - pi.arg_start) : 0;
            if (an > sizeof pp.psargs - 1)
                an = sizeof pp.psargs - 1;
            if (an && lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_READ, pi.arg_start, pp.psargs, an) == (int64_t)an) {
                for (size_t k = 0; k + 1 < an; k++)
                    if (pp.psargs[k] == 0)
                        pp.psargs[k] = ' ';
                pp.psargs[an] = 0;
            } else {
                pp.psargs[0] = 0;
            }
            note(&nb, NT_PRPSINFO, &pp, sizeof pp);
            struct siginfo si;
            memset(&si, 0, sizeof si);
            si.signo = signo;
            si.code = si_code_of(signo, fault);
            si.addr = fault ? fault->addr : 0;
            note(&nb, NT_SIGINFO, &si, sizeof si);
            /* auxv: what the kernel's loader would have passed (LaneOS passes none: made here) */
            uint64_t av[16];
            int na = 0;
            struct ehdr eh;
            if (pi.image_start &&
                lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_READ, pi.image_start, &eh, sizeof eh) == sizeof eh &&
                memcmp(eh.ident, "\177ELF", 4) == 0) {
                av[na++] = 3;   /* AT_PHDR */
                av[na++] = pi.image_start + eh.phoff;
                av[na++] = 4;   /* AT_PHENT */
                av[na++] = eh.phentsize;
                av[na++] = 5;   /* AT_PHNUM */
                av[na++] = eh.phnum;
            }
            av[na++] = 6;       /* AT_PAGESZ */
            av[na++] = PAGE;
            av[na++] = 9;       /* AT_ENTRY */
            av[na++] = pi.entry;
            av[na++] = 0;       /* AT_NULL */
            av[na++] = 0;
            note(&nb, NT_AUXV, av, (uint32_t)(na * 8));
            /* NT_FILE: the image's regions and the file they came from */
            struct buf fb = { 0 };
            uint64_t count = 0, pg = PAGE;
            for (uint32_t k = 0; k < nreg; k++)
                count += reg[k].kind == LANES_REGION_KIND_IMAGE;
            put(&fb, &count, 8);
            put(&fb, &pg, 8);
            for (uint32_t k = 0; k < nreg; k++)
                if (reg[k].kind == LANES_REGION_KIND_IMAGE) {
                    uint64_t t3[3] = { reg[k].start, reg[k].end, reg[k].offset / PAGE };
                    put(&fb, t3, sizeof t3);
                }
            for (uint64_t k = 0; k < count; k++)
                put(&fb, image, strlen(image) + 1);
            if (!fb.oom)
                note(&nb, NT_FILE, fb.p, (uint32_t)fb.len);
            free(fb.p);
        }
        note(&nb, NT_FPREGSET, th[i].fxsave, sizeof th[i].fxsave);
    }

    /* headers and the file layout */
    size_t nph = 1 + nreg;
    size_t hdr = sizeof(struct ehdr) + nph * sizeof(struct phdr);
    uint64_t data_off = (hdr + nb.len + PAGE - 1) & ~(PAGE - 1);
    struct buf hb = { 0 };
    struct ehdr eh;
    memset(&eh, 0, sizeof eh);
    memcpy(eh.ident, "\177ELF\2\1\1", 7);       /* 64-bit, little endian, version 1, System V ABI */
    eh.type = ET_CORE;
    eh.machine = EM_X86_64;
    eh.version = 1;
    eh.phoff = sizeof eh;
    eh.ehsize = sizeof eh;
    eh.phentsize = sizeof(struct phdr);
    eh.phnum = (uint16_t)nph;
    put(&hb, &eh, sizeof eh);
    struct phdr ph;
    memset(&ph, 0, sizeof ph);
    ph.type = PT_NOTE;
    ph.offset = hdr;
    ph.filesz = nb.len;
    put(&hb, &ph, sizeof ph);
    uint64_t off = data_off;
    for (uint32_t k = 0; k < nreg; k++) {
        memset(&ph, 0, sizeof ph);
        ph.type = PT_LOAD;
        ph.flags = ((reg[k].prot & LANES_PROT_READ) ? 4 : 0) | ((reg[k].prot & LANES_PROT_WRITE) ? 2 : 0) |
                   ((reg[k].prot & LANES_PROT_EXEC) ? 1 : 0);
        ph.offset = off;
        ph.vaddr = reg[k].start;
        ph.memsz = reg[k].end - reg[k].start;
        ph.filesz = dumped(&reg[k]) ? ph.memsz : 0;
        ph.align = PAGE;
        off += ph.filesz;
        put(&hb, &ph, sizeof ph);
    }
    put(&hb, nb.p, nb.len);
    static const uint8_t zero[4096];
    if (hb.len < data_off)
        put(&hb, zero, data_off - hb.len);
    free(nb.p);
    if (hb.oom || nb.oom) {
        free(hb.p);
        free(reg);
        return -ENOMEM;
    }

    /* the file: its directory first */
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = 0;
        e = vfs_mkdirs(path, 0755);
        *slash = '/';
    }
    int32_t lane = LANES_HANDLE_NONE;
    if (e == 0)
        e = vfs_create(path, 0600, &lane);
    if (e == 0)
        e = vfs_write_all(lane, hb.p, hb.len);
    free(hb.p);
    static uint8_t chunk[CHUNK];
    for (uint32_t k = 0; k < nreg && e == 0; k++) {
        if (!dumped(&reg[k]))
            continue;
        for (uint64_t a = reg[k].start; a < reg[k].end && e == 0; a += CHUNK) {
            size_t n = reg[k].end - a < CHUNK ? (size_t)(reg[k].end - a) : CHUNK;
            if (lanes_sys_process_inspect(p->handle, LANES_INSPECT_OP_READ, a, chunk, n) != (int64_t)n)
                memset(chunk, 0, n);    /* unreadable (it cannot be: every region is mapped whole) */
            e = vfs_write_all(lane, chunk, n);
        }
    }
    if (lane != LANES_HANDLE_NONE)
        lanes_sys_handle_close(lane);
    free(reg);
    return e;
}
