/* fuzz — a seeded random system call fuzzer.
 *
 *   fuzz SEED N [-v]          run N random calls in a child process (seed SEED), then check
 *                             that the kernel's free memory is back where it started
 *   fuzz --kill SEED ROUNDS   spawn a fuzzing child and kill it at a random moment (mid-call,
 *                             often mid-wait), ROUNDS times; then the same memory check
 *   fuzz --child SEED N [-v]  the fuzzing process itself (what the two modes above spawn)
 *
 * The child draws every call from one xorshift generator seeded with SEED: the syscall number
 * (every call of os/abi's kernel and IPC tables, read from the generated LANES_*SYSCALL_SIGS
 * X-macros, plus numbers outside them), and each argument by its ABI type: handles (ones it
 * holds, closed ones, garbage), pointers (into its arena of read-write, read-only and unmapped
 * guard pages, the null page, the kernel half, non-canonical addresses, just below USER_TOP),
 * lengths and counts at the edges (0, 1, page boundaries, huge), timeouts, and for ipc_submit
 * random action lists, for process_spawn random spawn_args around a mutated ELF image. Every
 * argument is drawn whatever the results, so the same seed gives the same call sequence (the
 * "sequence hash" it prints); -v prints each call before making it, so the last line before a
 * panic names the call that caused it.
 *
 * It must survive its own calls: exit, thread_exit, poweroff, ktest, process_fork (a copy of
 * the fuzzer would fuzz on) and process_exec (it would replace us) are skipped, kperf is
 * kept short, the trace classes are set back at the end, process_kill of its own
 * process is turned into a bad handle, thread_create starts only a stub that ends at once (or
 * gets an address the kernel must refuse), mem_unmap and mem_protect touch only its arena, the mappings it
 * made itself and addresses outside user space, the handles it started with are never closed,
 * and pointers that would land in its own code, data, heap or stacks are moved into the arena.
 * Calls that block are bounded: timeouts are mostly short, and a watchdog thread interrupts
 * (thread_interrupt) a call that has not returned after WATCHDOG_MS.
 *
 * The parent modes compare /sys/kernel/mm/free + /sys/kernel/mm/heap_cached (bytes on
 * kmalloc's free lists, which it keeps for reuse) + /sys/kernel/mm/user (pages of user memory:
 * a live server touching a new page of its stack meanwhile is not a kernel leak; the children's
 * own pages are gone with them) before and after (before: once the servers are still, see
 * baseline()): any difference is memory the kernel lost. Exit status: 0 pass, 1 the child
 * faulted, hung or could not start, 2 a leak.
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <lanes/abi/messages.h>
#include <lanes/console.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

/* The system capability, so that the calls that need it (ioport/irq capabilities, trace_ctl,
 * kperf, sysfs_write, console_claim) get past their handle check too. */
LANES_MANIFEST("system");

#define STR2(x) #x
#define STR(x) STR2(x)

/* A thread entry that ends the thread at once, touching neither its stack nor its argument. */
__asm__(".text\n.globl fuzz_exit_stub\nfuzz_exit_stub:\n"
        "    movl $" STR(LANES_SYS_THREAD_EXIT) ", %eax\n    syscall\n    ud2\n");
extern void fuzz_exit_stub(void);

/* ---- the generator ---- */

struct fz;
static uint64_t rnd(struct fz *f);
static uint64_t below(struct fz *f, uint64_t n) { return n ? rnd(f) % n : 0; }
#define PICK(f, a) ((a)[below(f, sizeof(a) / sizeof *(a))])

/* ---- the ABI's calls, from the generated tables ---- */

enum kind { K_U32, K_I32, K_U64, K_LEN, K_TIMEOUT, K_PTR, K_HANDLE };
struct call {
    uint32_t num;
    const char *name;
    int nargs;
    const char *sig;
    enum kind kinds[6];
    uint32_t want[6];                    /* K_HANDLE: the object type its name asks for, 0 any */
    bool tag[6];                         /* a u64 named tag: small values, so cancels find them */
    uint32_t made, ok;                   /* calls made, calls that succeeded (printed with -v) */
};
static struct call calls[] = {
#define X(num, name, nargs, sig) { num, #name, nargs, sig, { 0 }, { 0 }, { 0 }, 0, 0 },
    LANES_SYSCALL_SIGS(X) LANES_IPC_SYSCALL_SIGS(X)
#undef X
};
#define NCALLS (sizeof calls / sizeof *calls)

/* "u32 level, uptr buf, usize len" -> kinds; u64 arguments named like a timeout are timeouts,
 * those named like a size are lengths. */
static void parse_sigs(void)
{
    for (size_t c = 0; c < NCALLS; c++) {
        const char *s = calls[c].sig;
        for (int i = 0; i < calls[c].nargs; i++) {
            char type[16], name[32];
            size_t n = 0;
            while (*s == ' ' || *s == ',')
                s++;
            while (*s && *s != ' ' && n < sizeof type - 1)
                type[n++] = *s++;
            type[n] = 0;
            n = 0;
            while (*s == ' ')
                s++;
            while (*s && *s != ',' && n < sizeof name - 1)
                name[n++] = *s++;
            name[n] = 0;
            enum kind k = K_U64;
            if (!strcmp(type, "u32"))
                k = K_U32;
            else if (!strcmp(type, "i32"))
                k = K_I32;
            else if (!strcmp(type, "uptr"))
                k = K_PTR;
            else if (!strcmp(type, "handle"))
                k = K_HANDLE;
            else if (!strcmp(type, "usize"))
                k = K_LEN;
            else if (strstr(name, "timeout") || !strcmp(name, "ns"))
                k = K_TIMEOUT;
            else if (strstr(name, "len") || strstr(name, "size") || !strcmp(name, "offset"))
                k = K_LEN;
            calls[c].kinds[i] = k;
            static const struct { const char *name; uint32_t type; } by_name[] = {
                { "lane", LANES_OBJ_LANE }, { "queue", LANES_OBJ_QUEUE }, { "event", LANES_OBJ_EVENT },
                { "mem", LANES_OBJ_MEMORY }, { "supervisor", LANES_OBJ_SUPERVISOR },
                { "process", LANES_OBJ_PROCESS }, { "thread", LANES_OBJ_THREAD },
            };
            for (size_t j = 0; k == K_HANDLE && j < sizeof by_name / sizeof *by_name; j++)
                if (!strcmp(name, by_name[j].name))
                    calls[c].want[i] = by_name[j].type;
            calls[c].tag[i] = !strcmp(name, "tag");
        }
    }
}

/* ---- the child's world: arena, handles, mappings ---- */

#define ARENA ((uint64_t)0x0000500000000000ull)
#define ARENA_PAGES 16
#define ZONE (ARENA_PAGES * 2 * LANES_PAGE_SIZE)   /* pointers land in [ARENA, ARENA + ZONE) */
#define MAXH LANES_MAX_HANDLES
#define WATCHDOG_MS 10
#define NMAPS 16

static uint8_t known[MAXH];          /* handles we believe we hold: their object type (0 none) */
static uint8_t protect[MAXH];        /* held before fuzzing started: never closed */
static int32_t q0 = -1;              /* a protected completion queue we keep consuming */
static int32_t sys_cap = -1;         /* the system capability (manifest), protected */
static int64_t trace_mask = -1;      /* the trace classes when we started: set back at the end */
static volatile struct lane_ipc_queue_header *q0hdr;
static struct { uint64_t addr, len; } maps[NMAPS];   /* our own mem_map results */
static unsigned nmaps_next;
static bool verbose;
/* The parent's progress page (tag "fuzzprogress", fuzz --kill): the child keeps the number of
 * calls made there, so that the parent that kills it knows where it was. */
static volatile uint64_t *progress;
static uint64_t verbose_from;      /* -vK: print calls from number K on */

static uint8_t *elf_orig;             /* a program image (fault-null), mutated for process_spawn */
static size_t elf_len;
static const char text[] = "[fuzz text]\n";
static const char sname[8] = "fz";
static const char sargv[16] = "fz\0-x\0";
static volatile int fuzz_done, fuzz_go;
static uint64_t interrupts;

struct stats {
    uint64_t ok, skipped, nosys, spawned, errs[128], other;
    uint64_t seq;                    /* hash of what was drawn: same seed, same value */
};

/* One fuzzing thread: its generator, the buffers it hands the kernel, its counts. */
struct fz {
    uint64_t rng;
    int32_t thread;                      /* THREAD handle (for the watchdog) */
    volatile int in_call;
    volatile uint64_t ncalls_done;
    uint64_t watch_last;
    int watch_still;
    struct lane_ipc_action actions[LANES_IPC_MAX_ACTIONS + 2];
    struct lane_spawn_args sargs;
    struct lane_spawn_handle shandles[4];
    uint64_t outs[4];                    /* where out-parameters we want to read land */
    uint8_t *elf_img;                    /* the mutated copy of elf_orig */
    struct stats st;
};

static uint64_t rnd(struct fz *f)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return f->rng;
}

static bool user_half(uint64_t a) { return a < LANES_USER_TOP; }

/* A pointer argument. User addresses outside the arena zone and the low unmapped range could be
 * our own memory: those go into the arena instead. */
static uint64_t gen_ptr(struct fz *f)
{
    static const uint64_t low[] = { 0, 1, 8, 0xfff, 0x1000, 0x3ff000 };
    static const uint64_t high[] = {
        0xffff800000000000ull, 0xffff800000001000ull, 0xffffffff80000000ull, 0xffffffff80100000ull,
        0xfffffffffffff000ull, 0xfffffffffffffff8ull, 0xffffffffffffffffull,
        0x0000800000000000ull, 0x8000000000000000ull, 0x00007ffffffff000ull, 0xdeadbeefdeadbeefull,
        0x00007ffffffff000ull - 1, 0x00007ffffffff000ull - 8, 0x00007ffffffff000ull - 4096,
    };
    uint64_t r = below(f, 100), v;
    if (r < 55)
        v = ARENA + below(f, ZONE);
    else if (r < 70)
        v = ARENA + below(f, ZONE / LANES_PAGE_SIZE) * LANES_PAGE_SIZE - below(f, 9);
    else if (r < 75)
        v = PICK(f, low);
    else if (r < 90)
        v = PICK(f, high) + (below(f, 4) ? 0 : below(f, 4096));
    else
        v = rnd(f);
    bool safe = !user_half(v) || v < 0x400000 || (v >= ARENA && v < ARENA + 64 * ZONE) ||
                v >= 0x00007fff00000000ull;   /* above the main stack's top (spawn.c STACK_TOP) */
    return safe ? v : ARENA + (v % ZONE);
}

static uint64_t gen_len(struct fz *f)
{
    static const uint64_t edge[] = { 0, 1, 2, 7, 8, 15, 16, 63, 64, 127, 128, 129, 255, 256, 4095, 4096, 4097,
                                     8191, 8192, 8193, 65536, 1 << 20, 0x7fffffffull, 0x80000000ull,
                                     0xffffffffull, 0x100000000ull, 1ull << 40, 1ull << 47, 1ull << 63,
                                     0xfffffffffffff000ull, ~0ull };
    uint64_t r = below(f, 10);
    if (r < 7)
        return PICK(f, edge);
    if (r < 9)
        return below(f, 300);
    return rnd(f);
}

static uint64_t gen_timeout(struct fz *f)
{
    static const uint64_t t[] = { 0, 0, 0, 0, 0, 1, 1, 1000, 100000, 1000000, LANES_TIMEOUT_INFINITE,
                                  ~0ull - 1, 1ull << 63, 1ull << 62 };
    return PICK(f, t);
}

static uint64_t gen_u32(struct fz *f)
{
    static const uint32_t edge[] = { 0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 64, 255, 256, 1023, 1024, 1025, 4096,
                                     0xffff, 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };
    uint64_t r = below(f, 10);
    if (r < 5)
        return PICK(f, edge);
    if (r < 8)
        return below(f, 20);
    return (uint32_t)rnd(f);
}

/* A handle: most often one we hold (of the type the argument's name asks for, when we have one),
 * else any number in the table's range, else garbage. The draws are the same whatever we hold. */
static int32_t gen_handle_of(struct fz *f, uint32_t want)
{
    uint64_t r = below(f, 100);
    uint64_t start = rnd(f);
    if (r < 45 && want) {
        for (int i = 0; i < MAXH; i++) {
            int h = (int)((start + i) % MAXH);
            if (known[h] == want)
                return h;
        }
    }
    if (r < 70) {
        for (int i = 0; i < MAXH; i++) {
            int h = (int)((start + i) % MAXH);
            if (known[h])
                return h;
        }
        return (int32_t)(start % 16);
    }
    if (r < 92)
        return (int32_t)(start % (MAXH + 2));
    static const int32_t bad[] = { -1, -2, MAXH, MAXH + 1, 0x7fffffff, (int32_t)0x80000000, 1 << 20 };
    return PICK(f, bad);
}

static int32_t gen_handle(struct fz *f) { return gen_handle_of(f, 0); }

static uint64_t gen_arg(struct fz *f, enum kind k)
{
    switch (k) {
    case K_U32: return gen_u32(f);
    case K_I32: return (uint64_t)(int64_t)(int32_t)gen_u32(f);
    case K_LEN: return gen_len(f);
    case K_TIMEOUT: return gen_timeout(f);
    case K_PTR: return gen_ptr(f);
    case K_HANDLE: return (uint64_t)(int64_t)gen_handle(f);
    case K_U64:
    default: return below(f, 3) ? gen_len(f) : rnd(f);
    }
}

static void fill_actions(struct fz *f)
{
    for (size_t i = 0; i < sizeof f->actions / sizeof *f->actions; i++) {
        f->actions[i].type = below(f, 10) ? 1 + (uint32_t)below(f, 10) : (uint32_t)gen_u32(f);
        uint64_t fl = below(f, 10);
        f->actions[i].flags = fl < 5 ? 0 : fl < 9 ? (uint32_t)below(f, 8) : (uint32_t)gen_u32(f);
        f->actions[i].buf = below(f, 2) ? ARENA + below(f, 2 * LANES_PAGE_SIZE) : gen_ptr(f);
        f->actions[i].len = below(f, 3) ? below(f, 200) : gen_len(f);
        f->actions[i].handle = gen_handle(f);
        f->actions[i].rights = below(f, 2) ? LANES_RIGHT_ALL : (uint32_t)gen_u32(f);
    }
}

static void fill_spawn_args(struct fz *f)
{
    memset(&f->sargs, 0, sizeof f->sargs);
    if (elf_len) {
        memcpy(f->elf_img, elf_orig, elf_len);
        int flips = (int)below(f, 5);
        for (int i = 0; i < flips; i++) {
            size_t at = below(f, 3) ? below(f, elf_len < 512 ? elf_len : 512) : below(f, elf_len);
            f->elf_img[at] = (uint8_t)rnd(f);
        }
        /* And one header or program-header field set to an edge value: entry, phoff, phnum,
         * phentsize, or a segment's type, offset, vaddr, filesz, memsz, align. */
        static const uint64_t edge[] = { 0, 1, 0xfff, 0x1000, 0x400000, 0x7ffffffff000ull, 0x800000000000ull,
                                         0xffff800000000000ull, 0xffffffff80000000ull, 0xfffffffffffff000ull,
                                         ~0ull, 1ull << 32, 1ull << 40, 0x10000000 };
        static const struct { uint16_t off, size; } hdr_fields[] = { { 24, 8 }, { 32, 8 }, { 56, 2 }, { 54, 2 } };
        static const struct { uint16_t off, size; } ph_fields[] = { { 0, 4 }, { 8, 8 }, { 16, 8 }, { 32, 8 },
                                                                   { 40, 8 }, { 48, 8 }, { 4, 4 } };
        uint64_t which = below(f, 3), v = PICK(f, edge) + (below(f, 4) ? 0 : below(f, 64)), fi = rnd(f);
        uint64_t phoff = 0;
        uint16_t phnum = 0;
        if (elf_len >= 64) {
            memcpy(&phoff, elf_orig + 32, 8);
            memcpy(&phnum, elf_orig + 56, 2);
        }
        size_t at = 0, size = 0;
        if (which == 1 && elf_len >= 64) {
            at = hdr_fields[fi % 4].off;
            size = hdr_fields[fi % 4].size;
        } else if (which == 2 && phnum && phoff + (uint64_t)phnum * 56 <= elf_len) {
            at = phoff + ((fi >> 8) % phnum) * 56 + ph_fields[fi % 7].off;
            size = ph_fields[fi % 7].size;
        }
        if (size)
            memcpy(f->elf_img + at, &v, size);
    }
    /* Each field is usually right, so that the ELF loader sees many of the mutated images. */
    f->sargs.image = below(f, 10) && elf_len ? (uint64_t)(uintptr_t)f->elf_img : gen_ptr(f);
    f->sargs.image_len = below(f, 4) && elf_len ? elf_len - below(f, 4) / 3 * below(f, elf_len) : gen_len(f);
    f->sargs.name = below(f, 10) ? (uint64_t)(uintptr_t)sname : gen_ptr(f);
    f->sargs.args = below(f, 10) ? (uint64_t)(uintptr_t)sargv : gen_ptr(f);
    f->sargs.args_len = below(f, 10) ? 6 : gen_len(f);
    f->sargs.argc = below(f, 10) ? 2 : (uint32_t)gen_u32(f);
    for (int i = 0; i < 4; i++) {
        f->shandles[i].handle = gen_handle(f);
        f->shandles[i].rights = (uint32_t)gen_u32(f);
        memset(f->shandles[i].tag, 'a' + i, sizeof f->shandles[i].tag - (below(f, 4) ? 1 : 0));
        f->shandles[i].tag[sizeof f->shandles[i].tag - 1] = below(f, 4) ? 0 : 'z';
    }
    f->sargs.handles = below(f, 2) ? (uint64_t)(uintptr_t)f->shandles : gen_ptr(f);
    uint64_t nh = below(f, 4);
    f->sargs.nhandles = nh < 2 ? 0 : nh == 2 ? (uint32_t)below(f, 5) : (uint32_t)gen_u32(f);
    f->sargs.supervisor = below(f, 2) ? LANES_HANDLE_NONE : gen_handle(f);
    f->sargs.flags = below(f, 10) ? 0 : (uint32_t)gen_u32(f);
}

static int64_t raw_call(uint64_t nr, const uint64_t *a, bool int80)
{
    register uint64_t r10 __asm__("r10") = a[3], r8 __asm__("r8") = a[4], r9 __asm__("r9") = a[5];
    int64_t ret;
    if (int80)
        __asm__ volatile("int $" STR(LANES_SYSCALL_VECTOR)
                         : "=a"(ret) : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    else
        __asm__ volatile("syscall"
                         : "=a"(ret) : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    return ret;
}

static uint32_t handle_type(int32_t h)
{
    struct lane_handle_info hi;
    return lanes_sys_handle_info(h, &hi) < 0 ? 0 : hi.type;
}

/* ---- one call ---- */

static void hash(struct fz *f, uint64_t v) { f->st.seq = (f->st.seq ^ v) * 0x100000001b3ull; }

static bool is(const struct call *c, const char *name) { return c && !strcmp(c->name, name); }

static void remember_map(uint64_t addr, uint64_t len)
{
    unsigned i = nmaps_next++ % NMAPS;
    if (maps[i].len)
        lanes_sys_mem_unmap((const void *)(uintptr_t)maps[i].addr, maps[i].len);
    maps[i].addr = addr;
    maps[i].len = len;
}

static void one_call(struct fz *f, uint64_t i)
{
    uint64_t nr, a[6] = { 0 };
    struct call *c = NULL;
    uint64_t pick = below(f, 100);
    if (pick < 92) {
        c = &calls[below(f, NCALLS)];
        nr = c->num;
        for (int k = 0; k < c->nargs; k++) {
            if (c->kinds[k] == K_HANDLE)
                a[k] = (uint64_t)(int64_t)gen_handle_of(f, c->want[k]);
            else
                a[k] = gen_arg(f, c->kinds[k]);
            if (c->tag[k] && below(f, 4))
                a[k] = below(f, 8);
        }
    } else {
        static const uint64_t out[] = { 47, 49, 50, 63, 76, 77, 100, 127, 128, 255, 256, 1024, 0x7fffffff,
                                        0x80000000ull, 0xffffffffull, 0x100000000ull, 1ull << 63, ~0ull };
        nr = below(f, 4) ? PICK(f, out) : rnd(f);
        for (int k = 0; k < 6; k++)
            a[k] = rnd(f);
        for (size_t k = 0; k < NCALLS; k++)      /* a random number may be a real call: no args then */
            if (calls[k].num == nr)
                c = &calls[k];
        if (c)
            memset(a, 0, sizeof a);
    }
    bool int80 = below(f, 10) == 0;
    /* Call-specific draws (always made, so the sequence does not depend on results). */
    uint64_t extra = rnd(f);
    fill_actions(f);
    fill_spawn_args(f);
    hash(f, nr);
    for (int k = 0; k < 6; k++)
        hash(f, a[k]);
    hash(f, extra);

    /* Keep ourselves (and the machine) alive: poweroff, and ktest (the kernel's self-tests, long
     * and already run by usertests) are skipped too; kperf runs at most 1000 iterations. */
    if (is(c, "exit") || is(c, "thread_exit") || is(c, "poweroff") || is(c, "ktest") || is(c, "process_fork") ||
        is(c, "process_exec")) {
        f->st.skipped++;
        return;
    }
    if (is(c, "kperf") && a[2] > 1000 && a[2] <= 10000000)
        a[2] %= 1000;
    if ((is(c, "process_kill") || is(c, "process_stop")) && (handle_type((int32_t)a[0]) == LANES_OBJ_PROCESS))
        a[0] = (uint64_t)-1;
    /* signals (sys_signal.c): an alert entry or a restored frame at a random address would
     * only run random code of ours; the kernel must refuse kernel addresses */
    if (is(c, "alert_entry") && a[0])
        a[0] |= 0xffff800000000000ull;
    if (is(c, "alert_return"))
        a[0] |= 0xffff800000000000ull;
    if ((is(c, "handle_close")) && a[0] < MAXH && protect[a[0]])
        a[0] = MAXH + 5;
    if (is(c, "thread_create") && (extra & 3))
        a[0] = (uint64_t)(uintptr_t)fuzz_exit_stub;
    else if (is(c, "thread_create") && user_half(a[0]))
        a[0] ^= 0xffff800000000000ull;               /* only addresses the kernel must refuse */
    if (is(c, "mem_unmap") || is(c, "mem_protect")) {
        uint64_t m = extra % 4;
        if (m == 0 && maps[(extra >> 8) % NMAPS].len) {   /* one of our mappings, all or a part */
            unsigned k = (unsigned)((extra >> 8) % NMAPS);
            a[0] = maps[k].addr;
            a[1] = (extra >> 16) & 1 ? maps[k].len : LANES_PAGE_SIZE;
            if (a[1] == maps[k].len && is(c, "mem_unmap"))
                maps[k].len = 0;
        } else if (m == 1) {                            /* a part of the arena */
            a[0] = ARENA + ((extra >> 8) % (ARENA_PAGES * 2)) * LANES_PAGE_SIZE;
            a[1] = ((extra >> 16) % 3) * LANES_PAGE_SIZE;
        } else if (user_half(a[0]) && !(a[0] >= ARENA && a[0] < ARENA + ZONE && a[1] <= ZONE)) {
            a[0] |= 0xffff800000000000ull;              /* outside user space only */
        }
    }
    /* mem_protect keeps what we touch ourselves readable and writable: it may split our
     * regions and toggle EXEC, and anything goes outside user space */
    if (is(c, "mem_protect") && user_half(a[0]))
        a[2] = (a[2] & ~(uint64_t)7) | 3 | (a[2] & 4);
    /* What reaches the console is whole lines of our text (arena bytes, or a line cut short,
     * would garble the lines the tests read); the kernel log takes arena bytes, at most 64. */
    if (is(c, "console_write") && user_half(a[0])) {
        a[0] = (uint64_t)(uintptr_t)text;
        a[1] = a[1] & 1 ? sizeof text - 1 : 0;
    } else if (is(c, "log") && user_half(a[1]) && (extra & 1)) {
        a[1] = (uint64_t)(uintptr_t)text;
        a[2] %= sizeof text;
    } else if (is(c, "log") && user_half(a[1]) && a[2] > 64) {
        a[2] = 64;
    }
    if ((is(c, "ipc_submit") || is(c, "ipc_submit_wait")) && (extra & 3)) {
        a[1] = (uint64_t)(uintptr_t)f->actions;
        a[2] = (extra >> 8) % 4 ? 1 + (extra >> 10) % 3 : (extra >> 12) % (LANES_IPC_MAX_ACTIONS + 2);
        if ((extra >> 16) % 4)
            a[3] = (uint64_t)q0;
    }
    if (is(c, "process_spawn") && (extra & 3))
        a[0] = (uint64_t)(uintptr_t)&f->sargs;
    if ((is(c, "ipc_stream_create") || is(c, "ipc_queue_create")) && (extra & 1)) {
        a[is(c, "ipc_queue_create")] = (uint64_t)(uintptr_t)f->outs;
        f->outs[0] = f->outs[1] = (uint64_t)-1;
    }
    if (is(c, "mem_map") && (extra & 1))
        a[1] = 0;                                       /* let the kernel choose */
    if (is(c, "mem_map") && a[3] > (1 << 20) && a[3] < (1ull << 40))
        a[3] = (1 << 20);                               /* bounded, or absurd */
    if (is(c, "mem_create") && a[0] > (1 << 20) && a[0] < (1ull << 40))
        a[0] = (1 << 20);
    if (is(c, "ipc_queue_alert") && (extra & 1))
        a[0] = (uint64_t)q0;
    if ((is(c, "ipc_queue_wait") || is(c, "ipc_event_await") || is(c, "ipc_cancel")) && (extra & 1))
        a[is(c, "ipc_event_await") ? 2 : 0] = (uint64_t)q0;
    if (!strncmp(c ? c->name : "", "sysfs_", 6) && (extra & 1)) {   /* a real path, or nearly */
        static const char *const paths[] = { "/sys/kernel/mm/free", "/sys", "/", "/sys/kernel", "kernel/version",
                                             "/sys/devices/system/cpu/cpu0/online", "/sys/kernel/trace/classes",
                                             "/sys/kernel/loglevel", "/sys/drivers", "/sys/../../sys/./kernel/mm",
                                             "/sys/kernel/mm/free/", "//sys//kernel", "/sys/nope" };
        const char *path = paths[(extra >> 4) % (sizeof paths / sizeof *paths)];
        int p = is(c, "sysfs_write");
        a[p] = (uint64_t)(uintptr_t)path;
        a[p + 1] = (extra >> 12) & 3 ? strlen(path) : strlen(path) - (strlen(path) > 0);
    }
    if (is(c, "mem_map") && (extra & 2)) {             /* plausible: pages, small, valid prot */
        a[0] = (extra >> 4) & 1 ? (uint64_t)(int64_t)LANES_HANDLE_NONE : a[0];
        a[2] = ((extra >> 8) % 3) * LANES_PAGE_SIZE;
        a[3] = (1 + (extra >> 12) % 4) * LANES_PAGE_SIZE;
        a[4] = (extra >> 16) % 8;
    }

    if (verbose && i >= verbose_from)
        printf("fuzz: #%llu %s(%llu) %#llx %#llx %#llx %#llx %#llx %#llx%s\n", (unsigned long long)i,
               c ? c->name : "?", (unsigned long long)nr, (unsigned long long)a[0], (unsigned long long)a[1],
               (unsigned long long)a[2], (unsigned long long)a[3], (unsigned long long)a[4],
               (unsigned long long)a[5], int80 ? " int80" : "");
    f->in_call = 1;
    int64_t r = raw_call(nr, a, int80);
    f->in_call = 0;
    f->ncalls_done++;
    if (progress)
        *progress = f->ncalls_done;

    if (verbose && i >= verbose_from)
        printf("fuzz: #%llu -> %lld\n", (unsigned long long)i, (long long)r);
    if (c) {
        c->made++;
        c->ok += r >= 0;
    }
    if (r >= 0)
        f->st.ok++;
    else if (r == LANES_E_NOSYS)
        f->st.nosys++;
    else if (-r < 128)
        f->st.errs[-r]++;
    else
        f->st.other++;
    if (r >= 0 && r < MAXH &&
        (is(c, "thread_create") || is(c, "handle_dup") || is(c, "mem_create") || is(c, "supervisor_create") ||
         is(c, "process_self") || is(c, "ipc_queue_create") || is(c, "ipc_event_create") ||
         is(c, "ioport_create") || is(c, "irq_create")))
        known[r] = (uint8_t)handle_type((int32_t)r);
    if (is(c, "handle_close") && r == 0 && a[0] < MAXH)
        known[a[0]] = 0;
    if (is(c, "ipc_stream_create") && r == 0 && a[0] == (uint64_t)(uintptr_t)f->outs) {
        int32_t l[2];
        memcpy(l, f->outs, sizeof l);
        for (int k = 0; k < 2; k++)
            if (l[k] >= 0 && l[k] < MAXH)
                known[l[k]] = LANES_OBJ_LANE;
    }
    if (is(c, "mem_map") && r > 0 && !(a[1] >= ARENA && a[1] < ARENA + ZONE))
        remember_map((uint64_t)r, (a[3] + LANES_PAGE_SIZE - 1) & ~(uint64_t)(LANES_PAGE_SIZE - 1));
    if (is(c, "process_spawn") && r >= 0) {
        struct lane_exit_info info;
        f->st.spawned++;
        lanes_sys_process_kill((int32_t)r, 99);
        lanes_wait((int32_t)r, &info, LANES_SEC(10));
        lanes_sys_handle_close((int32_t)r);
    }
    /* Consume our queue; now and then scribble on its tail (the kernel must not trust it). */
    if (q0hdr) {
        if ((extra >> 20) % 500 == 0)
            q0hdr->tail = (uint32_t)(extra >> 32);
        else if ((extra >> 20) % 997 == 1)
            q0hdr->head = (uint32_t)(extra >> 32);        /* the kernel's field: it must not trust it */
        else if ((extra >> 20) % 997 == 2)
            q0hdr->capacity = (uint32_t)(extra >> 32);
        else if ((uint32_t)(q0hdr->head - q0hdr->tail) > 16 || (extra >> 20) % 7 == 0)
            q0hdr->tail = q0hdr->head;
    }
}

/* ---- the child ---- */

#define MAX_THREADS 8
static uint64_t seed, ncalls;
static int nthreads = 1;             /* -tT: T fuzzing threads sharing handles and memory */
static struct fz fzs[MAX_THREADS];
static volatile int running;

/* Ends (thread_interrupt) any fuzzing thread's call that has not returned for WATCHDOG_MS. */
static void watchdog_loop(void)
{
    while (running) {
        lanes_sys_sleep(LANES_MS(2));
        for (int k = 0; k < nthreads; k++) {
            struct fz *f = &fzs[k];
            uint64_t n = f->ncalls_done;
            if (n == f->watch_last && f->in_call) {
                if (++f->watch_still * 2 >= WATCHDOG_MS) {
                    lanes_sys_thread_interrupt(f->thread);
                    interrupts++;
                    f->watch_still = 0;
                }
            } else {
                f->watch_still = 0;
                f->watch_last = n;
            }
        }
    }
}

static void fuzz_thread(void *arg)
{
    struct fz *f = arg;
    while (!fuzz_go)
        lanes_sys_yield();
    for (uint64_t i = 0; i < ncalls; i++) {
        one_call(f, i);
        if (f == &fzs[0] && ncalls >= 10 && (i + 1) % (ncalls / 10) == 0)
            printf("fuzz: %llu calls%s\n", (unsigned long long)(i + 1), nthreads > 1 ? " (thread 0)" : "");
    }
    __atomic_fetch_sub(&running, 1, __ATOMIC_SEQ_CST);
}

static void setup_arena(void)
{
    /* Pages: RW RW guard RO RW guard guard RW RO RO guard RW RW RW guard RW; then unmapped. */
    static const char layout[ARENA_PAGES + 1] = "wwgrwggwrrgwwwgw";
    int64_t ro = lanes_sys_mem_create(LANES_PAGE_SIZE, 0);
    for (int i = 0; i < ARENA_PAGES; i++) {
        uint64_t at = ARENA + (uint64_t)i * LANES_PAGE_SIZE;
        if (layout[i] == 'w')
            lanes_sys_mem_map(LANES_HANDLE_NONE, (const void *)(uintptr_t)at, 0, LANES_PAGE_SIZE,
                              LANES_PROT_READ | LANES_PROT_WRITE);
        else if (layout[i] == 'r' && ro >= 0)
            lanes_sys_mem_map((int32_t)ro, (const void *)(uintptr_t)at, 0, LANES_PAGE_SIZE, LANES_PROT_READ);
    }
    if (ro >= 0)
        lanes_sys_handle_close((int32_t)ro);
}

static void load_elf(void)
{
    const void *base;
    size_t size;
    struct ustar_entry e;
    if (lanes_initrd(&base, &size) < 0 || ustar_find(base, size, "bin/fault-null", &e) != 0)
        return;
    elf_orig = malloc(e.size);
    if (!elf_orig)
        return;
    for (int k = 0; k < nthreads; k++)
        if (!(fzs[k].elf_img = malloc(e.size)))
            return;
    memcpy(elf_orig, e.data, e.size);
    elf_len = e.size;
}

static int child(void)
{
    int32_t ph = lanes_handle_by_tag("fuzzprogress");
    if (ph >= 0) {
        int64_t a = lanes_sys_mem_map(ph, 0, 0, LANES_PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE);
        if (a > 0)
            progress = (volatile uint64_t *)(uintptr_t)a;
    }
    parse_sigs();
    load_elf();
    setup_arena();
    uint64_t qaddr = 0;
    int64_t q = lanes_sys_ipc_queue_create(64, &qaddr);
    if (q >= 0) {
        q0 = (int32_t)q;
        q0hdr = (volatile struct lane_ipc_queue_header *)(uintptr_t)qaddr;
    }
    static lanes_thread_t t[MAX_THREADS];
    running = nthreads;
    for (int k = 0; k < nthreads; k++) {
        /* Thread k draws from its own generator: thread 0's sequence is that of a 1-thread run. */
        fzs[k].rng = (seed + (uint64_t)k * 0x632be59bd9b4e019ull) * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
        if (!fzs[k].rng)
            fzs[k].rng = 1;
        if (lanes_thread_start(&t[k], fuzz_thread, &fzs[k], 0) != 0) {
            printf("fuzz: cannot start fuzzing thread %d\n", k);
            return 1;
        }
        fzs[k].thread = t[k].handle;
    }
    /* Everything held now is ours to keep (startup handles, the queue, the threads): never closed.
     * Of those only the queue, the threads and the system capability are used as arguments: the
     * lanes to the console server and mbus carry our output. */
    for (int h = 0; h < MAXH; h++) {
        uint32_t type = handle_type(h);
        protect[h] = type != 0;
        known[h] = (uint8_t)(h == q0 || type == LANES_OBJ_THREAD || type == LANES_OBJ_SYSTEM ? type : 0);
        if (type == LANES_OBJ_SYSTEM)
            sys_cap = h;
    }
    if (sys_cap >= 0)
        trace_mask = lanes_sys_trace_ctl(sys_cap, 0, 0);
    fuzz_go = 1;
    watchdog_loop();
    for (int k = 0; k < nthreads; k++)
        lanes_thread_join(&t[k], LANES_SEC(60));
    if (trace_mask >= 0)
        lanes_sys_trace_ctl(sys_cap, 1, (uint64_t)trace_mask);
    struct stats sum;
    memset(&sum, 0, sizeof sum);
    for (int k = 0; k < nthreads; k++) {
        struct stats *x = &fzs[k].st;
        sum.ok += x->ok;
        sum.nosys += x->nosys;
        sum.skipped += x->skipped;
        sum.spawned += x->spawned;
        for (int e = 0; e < 128; e++)
            sum.errs[e] += x->errs[e];
    }
    printf("fuzz: done: seed %llu, %llu calls%s: %llu ok, %llu NOSYS, %llu skipped, %llu spawned, %llu "
           "interrupted\n",
           (unsigned long long)seed, (unsigned long long)ncalls * nthreads, nthreads > 1 ? " in threads" : "",
           (unsigned long long)sum.ok, (unsigned long long)sum.nosys, (unsigned long long)sum.skipped,
           (unsigned long long)sum.spawned, (unsigned long long)interrupts);
    printf("fuzz: errors:");
    for (int e = 1; e < 128; e++)
        if (sum.errs[e])
            printf(" %s %llu", lanes_strerror(-e), (unsigned long long)sum.errs[e]);
    if (verbose) {
        printf("\nfuzz: succeeded/made:");
        for (size_t c = 0; c < NCALLS; c++)
            printf(" %s %u/%u", calls[c].name, calls[c].ok, calls[c].made);
    }
    printf("\nfuzz: sequence hash %016llx", (unsigned long long)fzs[0].st.seq);
    for (int k = 1; k < nthreads; k++)
        printf(" %016llx", (unsigned long long)fzs[k].st.seq);
    printf("\n");
    return 0;
}

/* ---- the parents ---- */

static uint64_t sysfs_num(const char *path)
{
    char buf[64];
    int64_t n = lanes_sys_sysfs_read(path, strlen(path), buf, sizeof buf - 1);
    if (n < 0)
        return 0;
    buf[n] = 0;
    return strtoull(buf, NULL, 10);
}

/* The kernel's live objects per kind (/sys/kernel/mm/objects/): a leak report names them. */
static const char *const obj_kinds[] = { "process", "thread", "memory", "supervisor", "ioport", "irq", "sysfs",
                                         "uevents", "lane", "queue", "event", "stream", "ipc_submissions" };
#define NKINDS (sizeof obj_kinds / sizeof obj_kinds[0])

static void kernel_objects(uint64_t *count)
{
    for (size_t k = 0; k < NKINDS; k++) {
        char path[64];
        snprintf(path, sizeof path, "/sys/kernel/mm/objects/%s", obj_kinds[k]);
        count[k] = sysfs_num(path);
    }
}

/* The live IPC submissions, a line each (/sys/kernel/mm/objects/ipc_submissions_list): taken
 * before the run and printed with the one after when a leak report names ipc_submissions. */
static char subs_before[LANES_SYSFS_VALUE_MAX];   /* (what an attribute holds) */

static void subs_list(char *buf, size_t cap)
{
    static const char path[] = "/sys/kernel/mm/objects/ipc_submissions_list";
    int64_t n = lanes_sys_sysfs_read(path, sizeof path - 1, buf, cap - 1);
    buf[n < 0 ? 0 : n] = 0;
}

/* Memory the kernel does not keep: free + heap_cached + user (pages of user memory — a live
 * server's stack or heap touched for the first time while the children ran is its own, not a
 * kernel leak). *pages: plain free pages; *user: the user pages. */
static uint64_t kernel_free(uint64_t *pages, uint64_t *user)
{
    uint64_t f = sysfs_num("/sys/kernel/mm/free");
    *pages = f / LANES_PAGE_SIZE;
    *user = sysfs_num("/sys/kernel/mm/user");
    return f + sysfs_num("/sys/kernel/mm/heap_cached") + *user;
}

/* Runs one child to its end (or kills it after kill_after_ms); 0 if it exited with 0. */
static const char *vflag, *tflag;    /* options passed on to the child */
static int32_t progress_mem = -1;
static uint64_t killed_mid_fuzz, killed_calls_min = ~0ull, killed_calls_max;

static int run_child(uint64_t s, uint64_t n, uint64_t kill_after_ms, uint64_t timeout_ms)
{
    char sb[24], nb[24];
    snprintf(sb, sizeof sb, "%llu", (unsigned long long)s);
    snprintf(nb, sizeof nb, "%llu", (unsigned long long)n);
    const char *argv[6] = { "fuzz", "--child", sb, nb };
    int argc = 4;
    if (vflag)
        argv[argc++] = vflag;
    if (tflag)
        argv[argc++] = tflag;
    int64_t sup = lanes_sys_supervisor_create();
    if (sup < 0)
        return 1;
    struct lane_spawn_handle ph = { progress_mem, LANES_RIGHT_READ | LANES_RIGHT_WRITE | LANES_RIGHT_MAP, "fuzzprogress" };
    if (progress)
        *progress = 0;
    struct lanes_spawn_opts o = { (int32_t)sup, &ph, progress ? 1 : 0, false };
    int64_t p = lanes_spawn("fuzz", argc, argv, &o);
    if (p < 0) {
        lanes_sys_handle_close((int32_t)sup);
        return 1;
    }
    int rc = 0;
    struct lane_exit_info info;
    if (kill_after_ms) {
        lanes_sys_sleep(LANES_MS(kill_after_ms));
        lanes_sys_process_kill((int32_t)p, 77);
        uint64_t made = progress ? *progress : 0;   /* may still grow by the call under way */
        if (made) {
            killed_mid_fuzz++;
            killed_calls_min = made < killed_calls_min ? made : killed_calls_min;
            killed_calls_max = made > killed_calls_max ? made : killed_calls_max;
        }
        if (lanes_wait((int32_t)p, &info, LANES_SEC(30)) < 0 || info.state == LANES_PROC_STATE_RUNNING) {
            printf("fuzz: child seed %llu did not end after process_kill\n", (unsigned long long)s);
            rc = 1;
        } else if (info.state == LANES_PROC_STATE_FAULTED) {
            char d[160];
            lanes_describe_exit(&info, d, sizeof d);
            printf("fuzz: child seed %llu %s\n", (unsigned long long)s, d);
            rc = 1;
        }
    } else {
        int64_t w = lanes_wait((int32_t)p, &info, LANES_MS(timeout_ms));
        if (w < 0 || info.state == LANES_PROC_STATE_RUNNING) {
            printf("fuzz: FAIL: the child (seed %llu) still runs after %llu s: hung\n", (unsigned long long)s,
                   (unsigned long long)timeout_ms / 1000);
            lanes_sys_process_kill((int32_t)p, 1);
            lanes_wait((int32_t)p, &info, LANES_SEC(30));
            rc = 1;
        } else if (info.state != LANES_PROC_STATE_EXITED || info.code != 0) {
            char d[160];
            lanes_describe_exit(&info, d, sizeof d);
            printf("fuzz: FAIL: the child (seed %llu) %s\n", (unsigned long long)s, d);
            rc = 1;
        }
    }
    lanes_sys_handle_close((int32_t)p);
    lanes_sys_handle_close((int32_t)sup);
    return rc;
}

/* The kinds whose live count differs from before, as " lane +2 stream +1 ..." (empty: the same). */
static size_t objects_diff(const uint64_t *objs_before, char *out, size_t cap)
{
    uint64_t objs[NKINDS];
    kernel_objects(objs);
    size_t at = 0;
    out[0] = 0;
    for (size_t k = 0; k < NKINDS && at < cap; k++)
        if (objs[k] != objs_before[k])
            at += (size_t)snprintf(out + at, cap - at, " %s %+lld", obj_kinds[k], (long long)(objs[k] - objs_before[k]));
    return at;
}

/* The baseline, taken once the system is still: our own output is out (each console request in
 * flight holds a submission until the server answers) and two samples 100 ms apart agree on free
 * memory and every object count (up to 5 s). A server caught between taking a request and
 * posting its next accept holds one submission fewer than it keeps; a baseline taken then is
 * high by that submission, and the check after the run reports it as lost (seen beside CPU hogs:
 * "lost 2048 bytes, ipc_submissions +1", the newcomer an accept fs or the console keeps). */
static uint64_t baseline(uint64_t *pages, uint64_t *user, uint64_t *objs)
{
    lanes_console_flush();
    uint64_t v = kernel_free(pages, user), first = v, objs_first[NKINDS];
    kernel_objects(objs);
    memcpy(objs_first, objs, sizeof objs_first);
    int i = 0;
    for (; i < 50; i++) {
        lanes_sys_sleep(LANES_MS(100));
        uint64_t pages2, user2, objs2[NKINDS];
        uint64_t v2 = kernel_free(&pages2, &user2);
        kernel_objects(objs2);
        bool same = v2 == v && !memcmp(objs2, objs, sizeof objs2);
        v = v2;
        *pages = pages2;
        *user = user2;
        memcpy(objs, objs2, sizeof objs2);
        if (same)
            break;
    }
    char diff[256];
    if (v != first || objects_diff(objs_first, diff, sizeof diff))    /* (objects_diff: now against first) */
        printf("fuzz: the baseline moved while it settled (%lld bytes,%s), taken after %d ms\n",
               (long long)v - (long long)first, objects_diff(objs_first, diff, sizeof diff) ? diff : " same objects",
               (i + 1) * 100);
    return v;
}

/* Waits for the kernel's free memory, counting the heap's cached blocks, to come back to
 * `before` (more is fine: the kernel may have freed something of its own meanwhile); prints the
 * figures and returns whether it did. Plain free pages may end lower: kmalloc keeps pages it
 * carved into small blocks. Exited threads and processes are freed a little later, and output
 * still on its way to the console server holds its IPC conversations (lanes, a stream, a
 * submission each) until the console takes it — a slow serial line behind the children's text
 * took more than 20 s on a loaded host. So: up to 20 s, and on to 120 s while the kernel's live
 * objects still differ from before (something in flight); a leak shows which kinds stayed. */
static bool leak_check(uint64_t before, uint64_t pages_before, uint64_t user_before, const uint64_t *objs_before)
{
    uint64_t after = 0, pages_after = 0, user_after = 0;
    char diff[256];
    for (int i = 0;; i++) {
        after = kernel_free(&pages_after, &user_after);
        if (after >= before || i >= 6000 || (i >= 1000 && objects_diff(objs_before, diff, sizeof diff) == 0))
            break;
        lanes_sys_sleep(LANES_MS(20));
    }
    size_t differ = objects_diff(objs_before, diff, sizeof diff);
    printf("fuzz: free pages before %llu after %llu (the heap keeps %lld, user memory %+lld); free + heap "
           "cached + user: before %llu after %llu pages\n",
           (unsigned long long)pages_before, (unsigned long long)pages_after,
           (long long)(pages_before - pages_after),
           ((long long)user_after - (long long)user_before) / LANES_PAGE_SIZE,
           (unsigned long long)before / LANES_PAGE_SIZE, (unsigned long long)after / LANES_PAGE_SIZE);
    if (after < before) {
        printf("fuzz: FAIL: the kernel lost %llu bytes\n", (unsigned long long)(before - after));
        printf("fuzz: kernel objects alive after, against before:%s\n", differ ? diff : " the same counts");
        if (strstr(diff, "ipc_submissions")) {
            static char now[LANES_SYSFS_VALUE_MAX];
            subs_list(now, sizeof now);
            printf("fuzz: live IPC submissions before, newest first (pid tid tag type/state@stream ...):\n%s", subs_before);
            printf("fuzz: and after:\n%s", now);
        }
    }
    return after >= before;
}

static int usage(void)
{
    printf("usage: fuzz SEED N [-v[FROM]] [-tTHREADS] | fuzz --kill SEED ROUNDS [-tTHREADS] | fuzz --posix SEED N | fuzz --child SEED N [...]\n");
    return 1;
}

/* Options after SEED N: -v[FROM] (print each call from number FROM on), -tT (T threads, 1-8). */
static bool options(int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++) {
        if (!strncmp(argv[i], "-v", 2)) {
            verbose = true;
            verbose_from = strtoull(argv[i] + 2, NULL, 10);
            vflag = argv[i];
        } else if (!strncmp(argv[i], "-t", 2)) {
            nthreads = atoi(argv[i] + 2);
            if (nthreads < 1 || nthreads > MAX_THREADS)
                return false;
            tflag = argv[i];
        } else {
            return false;
        }
    }
    return true;
}

/* ---- fuzz --posix SEED N: random posix.* requests straight on a lane to the POSIX server ----
 * A child (a POSIX process of its own, so the requests may wreck its descriptors 0-2 as they
 * like) sends N requests of every type but those that act on other processes (Kill, Spawn,
 * SpawnAction, Adopt; and the signal requests that would end, stop or block it), with random lengths (truncated, exact, too long) and fields that are mostly
 * small numbers (fds, flags, lengths at the edges) or random bytes. The server must answer or
 * refuse each, never crash or hang; once the child has ended, its live open files, pipes,
 * handles and processes must be back where they were. */
static int posix_child(uint64_t s, uint64_t n)
{
    static const uint16_t skip[] = { 0x0110, 0x0111, 0x0112, 0x011b,    /* Spawn SpawnAction Adopt Kill */
                                     /* signals that would end, stop or block the child by design:
                                      * SigAction (a handler at a random address), SigSuspend,
                                      * Alarm, TtySignal, SetFg, Tkill */
                                     0x0131, 0x0139, 0x013a, 0x013c, 0x013d, 0x013e,
                                     0x0170 /* Crash: the supervision test's fault injection */ };
    static uint8_t msg[512], reply[512];
    struct fz g = { .rng = s * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull };
    if (!g.rng)
        g.rng = 1;
    for (uint64_t i = 0; i < n; i++) {
        uint16_t id;
        bool bad;
        do {
            id = below(&g, 8) ? (uint16_t)(0x0101 + below(&g, 0x1d)) : (uint16_t)rnd(&g);
            bad = false;
            for (size_t k = 0; k < sizeof skip / sizeof *skip; k++)
                bad |= id == skip[k];
        } while (bad);
        static const size_t lens[] = { 0, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 300, 512 };
        size_t len = below(&g, 4) ? PICK(&g, lens) : (size_t)below(&g, sizeof msg + 1);
        for (size_t k = 0; k < sizeof msg; k += 4) {
            uint32_t v = below(&g, 3) ? (uint32_t)below(&g, 8) : below(&g, 2) ? (uint32_t)rnd(&g) : 0xffffffffu - (uint32_t)below(&g, 4);
            memcpy(msg + k, &v, 4);
        }
        uint32_t word = 0x4c4d0000u | id;
        memcpy(msg, &word, 4);
        lanes_posix_raw(msg, len, reply, sizeof reply);
        if (!lanes_posix_active())
            return 3;                           /* the lane is gone: the parent reports it */
    }
    return 0;
}

static int posix_mode(const char *self, uint64_t s, uint64_t n)
{
    struct lane_msg_posix_counters c0, c1;
    if (!lanes_posix_active() || lanes_posix_counters(&c0) != 0) {
        printf("fuzz: --posix needs a lane to the POSIX server (start it from the shell)\n");
        return 1;
    }
    char sb[24], nb[24];
    snprintf(sb, sizeof sb, "%llu", (unsigned long long)s);
    snprintf(nb, sizeof nb, "%llu", (unsigned long long)n);
    char *argv[] = { (char *)"fuzz", (char *)"--posix-child", sb, nb, NULL };
    uint64_t t0 = lanes_now_ns();
    pid_t pid;
    int e = posix_spawn(&pid, self, NULL, NULL, argv, NULL);
    if (e) {
        printf("fuzz: FAIL: cannot start the posix fuzzing child %s: %s\n", self, strerror(e));
        return 1;
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) {
        printf("fuzz: FAIL: waitpid for the posix fuzzing child: %s\n", strerror(errno));
        return 1;
    }
    if (lanes_posix_counters(&c1) != 0) {
        printf("fuzz: FAIL: the POSIX server does not answer after the fuzzing\n");
        return 1;
    }
    uint64_t ms = (lanes_now_ns() - t0) / 1000000;
    printf("fuzz: posix: seed %llu, %llu requests (child status %d): the server served %llu, %llu malformed; "
           "processes %u -> %u, open files %u -> %u, pipes %u -> %u, handles %u -> %u\n",
           (unsigned long long)s, (unsigned long long)n, st, (unsigned long long)(c1.served - c0.served),
           (unsigned long long)(c1.malformed - c0.malformed), c0.processes, c1.processes, c0.files, c1.files, c0.pipes,
           c1.pipes, c0.handles, c1.handles);
    int rc = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("fuzz: FAIL: the child did not finish its requests (status 0x%x: %s)\n", st,
               WIFEXITED(st) && WEXITSTATUS(st) == 3 ? "its lane to the server went away" : "it ended early");
        rc = 1;
    }
    if (c1.served - c0.served < n) {
        printf("fuzz: FAIL: the server answered %llu of %llu requests\n", (unsigned long long)(c1.served - c0.served),
               (unsigned long long)n);
        rc = 1;
    }
    bool same = c1.processes == c0.processes && c1.files == c0.files && c1.pipes == c0.pipes && c1.handles == c0.handles;
    if (!same) {
        printf("fuzz: FAIL: the POSIX server kept what the child's requests made\n");
        rc = rc ? rc : 2;
    }
    printf("fuzz: %s in %llu.%03llu s\n", rc == 0 ? "PASS" : rc == 2 ? "LEAK" : "FAIL", (unsigned long long)ms / 1000,
           (unsigned long long)ms % 1000);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "--child")) {
        seed = strtoull(argv[2], NULL, 0);
        ncalls = strtoull(argv[3], NULL, 0);
        if (!options(argc, argv, 4))
            return usage();
        return child();
    }
    if (argc == 4 && (!strcmp(argv[1], "--posix") || !strcmp(argv[1], "--posix-child"))) {
        char *e1, *e2;
        uint64_t s = strtoull(argv[2], &e1, 0), n = strtoull(argv[3], &e2, 0);
        if (*e1 || *e2 || !n)
            return usage();
        return argv[1][7] ? posix_child(s, n) : posix_mode("/bin/fuzz", s, n);
    }
    bool kill_mode = argc >= 2 && !strcmp(argv[1], "--kill");
    int base = kill_mode ? 2 : 1;
    if (argc < base + 2)
        return usage();
    char *end;
    seed = strtoull(argv[base], &end, 0);
    if (*end)
        return usage();
    uint64_t n = strtoull(argv[base + 1], &end, 0);
    if (*end || !n || !options(argc, argv, base + 2))
        return usage();
    if (kill_mode)
        printf("fuzz: seed %llu, %llu rounds of spawn, fuzz, kill\n", (unsigned long long)seed,
               (unsigned long long)n);
    else
        printf("fuzz: seed %llu, %llu calls%s%s\n", (unsigned long long)seed, (unsigned long long)n,
               nthreads > 1 ? " in each of " : "", nthreads > 1 ? tflag + 2 : "");
    /* What we keep until we exit is allocated before measuring: printf's buffer (above), the
     * initrd mapping lanes_spawn makes (and the page tables under it). */
    const void *ib;
    size_t isz;
    lanes_initrd(&ib, &isz);
    if (kill_mode) {
        int64_t m = lanes_sys_mem_create(LANES_PAGE_SIZE, 0);
        int64_t a = m >= 0 ? lanes_sys_mem_map((int32_t)m, 0, 0, LANES_PAGE_SIZE,
                                               LANES_PROT_READ | LANES_PROT_WRITE) : -1;
        if (a > 0) {
            progress_mem = (int32_t)m;
            progress = (volatile uint64_t *)(uintptr_t)a;
        }
    }
    /* A first spawn and wait makes the kernel memory this process keeps until it exits: with
     * the POSIX layer (init starts posix and fs; sh registers us) the first child costs 1,792
     * bytes that stay while we live and come back when we exit (seen: the next fuzz starts with
     * them free again) — per-process, not per-child, so no leak; measured after it, each run's
     * own children must give back everything. */
    run_child(seed, 0, 0, 30000);
    uint64_t pages_before, user_before, objs_before[NKINDS];
    uint64_t before = baseline(&pages_before, &user_before, objs_before);
    subs_list(subs_before, sizeof subs_before);
    uint64_t t0 = lanes_now_ns();
    int rc = 0;
    if (kill_mode) {
        struct fz *f = &fzs[0];             /* the parent's own generator: kill delays */
        f->rng = seed * 0x9e3779b97f4a7c15ull + 1;
        for (uint64_t r = 0; r < n && !rc; r++)
            rc = run_child(seed + r, 100000000, 10 + below(f, 90), 0);
        printf("fuzz: %llu of %llu children were killed mid-fuzz, after %llu to %llu calls\n",
               (unsigned long long)killed_mid_fuzz, (unsigned long long)n,
               (unsigned long long)(killed_mid_fuzz ? killed_calls_min : 0),
               (unsigned long long)killed_calls_max);
    } else {
        rc = run_child(seed, n, 0, 60000 + n * 5);
    }
    uint64_t ms = (lanes_now_ns() - t0) / 1000000;
    bool same = leak_check(before, pages_before, user_before, objs_before);
    printf("fuzz: %s in %llu.%03llu s\n", rc ? "FAIL" : !same ? "LEAK" : "PASS", (unsigned long long)ms / 1000,
           (unsigned long long)ms % 1000);
    return rc ? 1 : !same ? 2 : 0;
}
