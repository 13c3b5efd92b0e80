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
 * It must survive its own calls: exit and thread_exit are skipped, process_kill of its own
 * process is turned into a bad handle, thread_create starts only a stub that ends at once (or
 * gets an address the kernel must refuse), mem_unmap touches only its arena, the mappings it
 * made itself and addresses outside user space, the handles it started with are never closed,
 * and pointers that would land in its own code, data, heap or stacks are moved into the arena.
 * Calls that block are bounded: timeouts are mostly short, and a watchdog thread interrupts
 * (thread_interrupt) a call that has not returned after WATCHDOG_MS.
 *
 * The parent modes compare /sys/kernel/mm/free + /sys/kernel/mm/heap_cached (bytes on
 * kmalloc's free lists, which it keeps for reuse) before and after: any difference is memory
 * the kernel lost. Exit status: 0 pass, 1 the child faulted, hung or could not start, 2 a leak.
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR2(x) #x
#define STR(x) STR2(x)

/* A thread entry that ends the thread at once, touching neither its stack nor its argument. */
__asm__(".text\n.globl fuzz_exit_stub\nfuzz_exit_stub:\n"
        "    movl $" STR(LANES_SYS_THREAD_EXIT) ", %eax\n    syscall\n    ud2\n");
extern void fuzz_exit_stub(void);

/* ---- the generator ---- */

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
#define PICK(a) ((a)[below(sizeof(a) / sizeof *(a))])

/* ---- the ABI's calls, from the generated tables ---- */

enum kind { K_U32, K_I32, K_U64, K_LEN, K_TIMEOUT, K_PTR, K_HANDLE };
struct call {
    uint32_t num;
    const char *name;
    int nargs;
    const char *sig;
    enum kind kinds[6];
};
static struct call calls[] = {
#define X(num, name, nargs, sig) { num, #name, nargs, sig, { 0 } },
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

static uint8_t known[MAXH];          /* handles we believe we hold */
static uint8_t protect[MAXH];        /* held before fuzzing started: never closed */
static int32_t q0 = -1;              /* a protected completion queue we keep consuming */
static volatile struct lane_ipc_queue_header *q0hdr;
static struct { uint64_t addr, len; } maps[NMAPS];   /* our own mem_map results */
static unsigned nmaps_next;
static bool verbose;
static uint64_t verbose_from;      /* -vK: print calls from number K on */

static struct lane_ipc_action actions[LANES_IPC_MAX_ACTIONS + 2];
static struct lane_spawn_args sargs;
static struct lane_spawn_handle shandles[4];
static char sname[8] = "fz";
static char sargv[16] = "fz\0-x\0";
static uint64_t outs[4];             /* where out-parameters we want to read land */
static uint8_t *elf_orig, *elf_img;  /* a program image, and a mutated copy */
static size_t elf_len;
static const char text[] = "[fuzz text]\n";

static volatile uint64_t ncalls_done;
static volatile int in_call;
static volatile int fuzz_done, fuzz_go;
static uint64_t interrupts;

static bool user_half(uint64_t a) { return a < LANES_USER_TOP; }

/* A pointer argument. User addresses outside the arena zone and the low unmapped range could be
 * our own memory: those go into the arena instead. */
static uint64_t gen_ptr(void)
{
    static const uint64_t low[] = { 0, 1, 8, 0xfff, 0x1000, 0x3ff000 };
    static const uint64_t high[] = {
        0xffff800000000000ull, 0xffff800000001000ull, 0xffffffff80000000ull, 0xffffffff80100000ull,
        0xfffffffffffff000ull, 0xfffffffffffffff8ull, 0xffffffffffffffffull,
        0x0000800000000000ull, 0x8000000000000000ull, 0x00007ffffffff000ull, 0xdeadbeefdeadbeefull,
        0x00007ffffffff000ull - 1, 0x00007ffffffff000ull - 8, 0x00007ffffffff000ull - 4096,
    };
    uint64_t r = below(100), v;
    if (r < 55)
        v = ARENA + below(ZONE);
    else if (r < 70)
        v = ARENA + below(ZONE / LANES_PAGE_SIZE) * LANES_PAGE_SIZE - below(9);
    else if (r < 75)
        v = PICK(low);
    else if (r < 90)
        v = PICK(high) + (below(4) ? 0 : below(4096));
    else
        v = rnd();
    bool safe = !user_half(v) || v < 0x400000 || (v >= ARENA && v < ARENA + 64 * ZONE) ||
                v >= 0x00007fff00000000ull;   /* above the main stack's top (spawn.c STACK_TOP) */
    return safe ? v : ARENA + (v % ZONE);
}

static uint64_t gen_len(void)
{
    static const uint64_t edge[] = { 0, 1, 2, 7, 8, 15, 16, 63, 64, 127, 128, 129, 255, 256, 4095, 4096, 4097,
                                     8191, 8192, 8193, 65536, 1 << 20, 0x7fffffffull, 0x80000000ull,
                                     0xffffffffull, 0x100000000ull, 1ull << 40, 1ull << 47, 1ull << 63,
                                     0xfffffffffffff000ull, ~0ull };
    uint64_t r = below(10);
    if (r < 7)
        return PICK(edge);
    if (r < 9)
        return below(300);
    return rnd();
}

static uint64_t gen_timeout(void)
{
    static const uint64_t t[] = { 0, 0, 0, 0, 0, 1, 1, 1000, 100000, 1000000, LANES_TIMEOUT_INFINITE,
                                  ~0ull - 1, 1ull << 63, 1ull << 62 };
    return PICK(t);
}

static uint64_t gen_u32(void)
{
    static const uint32_t edge[] = { 0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 64, 255, 256, 1023, 1024, 1025, 4096,
                                     0xffff, 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };
    uint64_t r = below(10);
    if (r < 5)
        return PICK(edge);
    if (r < 8)
        return below(20);
    return (uint32_t)rnd();
}

static int32_t gen_handle(void)
{
    uint64_t r = below(100);
    uint64_t start = rnd();
    if (r < 65) {               /* one we hold (the draw is the same whatever we hold) */
        for (int i = 0; i < MAXH; i++) {
            int h = (int)((start + i) % MAXH);
            if (known[h])
                return h;
        }
        return (int32_t)(start % 16);
    }
    if (r < 90)
        return (int32_t)(start % (MAXH + 2));
    static const int32_t bad[] = { -1, -2, MAXH, MAXH + 1, 0x7fffffff, (int32_t)0x80000000, 1 << 20 };
    return PICK(bad);
}

static uint64_t gen_arg(enum kind k)
{
    switch (k) {
    case K_U32: return gen_u32();
    case K_I32: return (uint64_t)(int64_t)(int32_t)gen_u32();
    case K_LEN: return gen_len();
    case K_TIMEOUT: return gen_timeout();
    case K_PTR: return gen_ptr();
    case K_HANDLE: return (uint64_t)(int64_t)gen_handle();
    case K_U64:
    default: return below(3) ? gen_len() : rnd();
    }
}

static void fill_actions(void)
{
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++) {
        actions[i].type = below(10) ? 1 + (uint32_t)below(10) : (uint32_t)gen_u32();
        actions[i].flags = below(8) ? (uint32_t)below(8) : (uint32_t)gen_u32();
        actions[i].buf = gen_ptr();
        actions[i].len = below(3) ? below(200) : gen_len();
        actions[i].handle = gen_handle();
        actions[i].rights = below(2) ? LANES_RIGHT_ALL : (uint32_t)gen_u32();
    }
}

static void fill_spawn_args(void)
{
    memset(&sargs, 0, sizeof sargs);
    if (elf_len) {
        memcpy(elf_img, elf_orig, elf_len);
        int flips = (int)below(5);
        for (int i = 0; i < flips; i++) {
            size_t at = below(3) ? below(elf_len < 512 ? elf_len : 512) : below(elf_len);
            elf_img[at] = (uint8_t)rnd();
        }
    }
    uint64_t r = below(10);
    sargs.image = r < 7 && elf_len ? (uint64_t)(uintptr_t)elf_img : gen_ptr();
    sargs.image_len = below(3) && elf_len ? elf_len - below(2) * below(elf_len) : gen_len();
    sargs.name = below(4) ? (uint64_t)(uintptr_t)sname : gen_ptr();
    sargs.args = below(3) ? (uint64_t)(uintptr_t)sargv : gen_ptr();
    sargs.args_len = below(3) ? 6 : gen_len();
    sargs.argc = below(3) ? 2 : (uint32_t)gen_u32();
    for (int i = 0; i < 4; i++) {
        shandles[i].handle = gen_handle();
        shandles[i].rights = (uint32_t)gen_u32();
        memset(shandles[i].tag, 'a' + i, sizeof shandles[i].tag - (below(4) ? 1 : 0));
        shandles[i].tag[sizeof shandles[i].tag - 1] = below(4) ? 0 : 'z';
    }
    sargs.handles = below(2) ? (uint64_t)(uintptr_t)shandles : gen_ptr();
    sargs.nhandles = below(2) ? (uint32_t)below(5) : (uint32_t)gen_u32();
    sargs.supervisor = below(2) ? LANES_HANDLE_NONE : gen_handle();
    sargs.flags = below(4) ? 0 : (uint32_t)gen_u32();
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

struct stats {
    uint64_t ok, skipped, nosys, spawned, errs[128], other;
    uint64_t seq;                    /* hash of what was drawn: same seed, same value */
};
static struct stats st;

static void hash(uint64_t v) { st.seq = (st.seq ^ v) * 0x100000001b3ull; }

static bool is(const struct call *c, const char *name) { return c && !strcmp(c->name, name); }

static void remember_map(uint64_t addr, uint64_t len)
{
    unsigned i = nmaps_next++ % NMAPS;
    if (maps[i].len)
        lanes_sys_mem_unmap((const void *)(uintptr_t)maps[i].addr, maps[i].len);
    maps[i].addr = addr;
    maps[i].len = len;
}

static void one_call(uint64_t i)
{
    uint64_t nr, a[6] = { 0 };
    struct call *c = NULL;
    uint64_t pick = below(100);
    if (pick < 92) {
        c = &calls[below(NCALLS)];
        nr = c->num;
        for (int k = 0; k < c->nargs; k++)
            a[k] = gen_arg(c->kinds[k]);
    } else {
        static const uint64_t out[] = { 47, 49, 50, 63, 76, 77, 100, 127, 128, 255, 256, 1024, 0x7fffffff,
                                        0x80000000ull, 0xffffffffull, 0x100000000ull, 1ull << 63, ~0ull };
        nr = below(4) ? PICK(out) : rnd();
        for (int k = 0; k < 6; k++)
            a[k] = rnd();
        for (size_t k = 0; k < NCALLS; k++)      /* a random number may be a real call: no args then */
            if (calls[k].num == nr)
                c = &calls[k];
        if (c)
            memset(a, 0, sizeof a);
    }
    bool int80 = below(10) == 0;
    /* Call-specific draws (always made, so the sequence does not depend on results). */
    uint64_t extra = rnd();
    fill_actions();
    fill_spawn_args();
    hash(nr);
    for (int k = 0; k < 6; k++)
        hash(a[k]);
    hash(extra);

    /* Keep ourselves alive. */
    if (is(c, "exit") || is(c, "thread_exit")) {
        st.skipped++;
        return;
    }
    if (is(c, "process_kill") && (handle_type((int32_t)a[0]) == LANES_OBJ_PROCESS))
        a[0] = (uint64_t)-1;
    if ((is(c, "handle_close")) && a[0] < MAXH && protect[a[0]])
        a[0] = MAXH + 5;
    if (is(c, "thread_create") && (extra & 3))
        a[0] = (uint64_t)(uintptr_t)fuzz_exit_stub;
    else if (is(c, "thread_create") && user_half(a[0]))
        a[0] ^= 0xffff800000000000ull;               /* only addresses the kernel must refuse */
    if (is(c, "mem_unmap")) {
        uint64_t m = extra % 4;
        if (m == 0 && maps[(extra >> 8) % NMAPS].len) {   /* one of our mappings, all or a part */
            unsigned k = (unsigned)((extra >> 8) % NMAPS);
            a[0] = maps[k].addr;
            a[1] = (extra >> 16) & 1 ? maps[k].len : LANES_PAGE_SIZE;
            if (a[1] == maps[k].len)
                maps[k].len = 0;
        } else if (m == 1) {                            /* a part of the arena */
            a[0] = ARENA + ((extra >> 8) % (ARENA_PAGES * 2)) * LANES_PAGE_SIZE;
            a[1] = ((extra >> 16) % 3) * LANES_PAGE_SIZE;
        } else if (user_half(a[0]) && !(a[0] >= ARENA && a[0] < ARENA + ZONE && a[1] <= ZONE)) {
            a[0] |= 0xffff800000000000ull;              /* outside user space only */
        }
    }
    if ((is(c, "console_write") || is(c, "log")) && user_half(a[is(c, "log")]) && (extra & 1)) {
        int p = is(c, "log");
        a[p] = (uint64_t)(uintptr_t)text;
        a[p + 1] %= sizeof text;
    } else if (is(c, "console_write") || is(c, "log")) {
        int p = is(c, "log");
        if (user_half(a[p]) && a[p + 1] > 64)
            a[p + 1] = 64;    /* whatever the arena holds, not much of it on the console */
    }
    if ((is(c, "ipc_submit") || is(c, "ipc_submit_wait")) && (extra & 3)) {
        a[1] = (uint64_t)(uintptr_t)actions;
        a[2] = (extra >> 8) % (LANES_IPC_MAX_ACTIONS + 2);
        if ((extra >> 12) & 1)
            a[3] = (uint64_t)q0;
    }
    if (is(c, "process_spawn") && (extra & 3))
        a[0] = (uint64_t)(uintptr_t)&sargs;
    if ((is(c, "ipc_stream_create") || is(c, "ipc_queue_create")) && (extra & 1)) {
        a[is(c, "ipc_queue_create")] = (uint64_t)(uintptr_t)outs;
        outs[0] = outs[1] = (uint64_t)-1;
    }
    if (is(c, "mem_map") && (extra & 1))
        a[1] = 0;                                       /* let the kernel choose */
    if (is(c, "mem_map") && a[3] > (1 << 20) && a[3] < (1ull << 40))
        a[3] = (1 << 20);                               /* bounded, or absurd */
    if (is(c, "mem_create") && a[0] > (1 << 20) && a[0] < (1ull << 40))
        a[0] = (1 << 20);
    if (is(c, "ipc_queue_alert") && (extra & 1))
        a[0] = (uint64_t)q0;

    if (verbose && i >= verbose_from)
        printf("fuzz: #%llu %s(%llu) %#llx %#llx %#llx %#llx %#llx %#llx%s\n", (unsigned long long)i,
               c ? c->name : "?", (unsigned long long)nr, (unsigned long long)a[0], (unsigned long long)a[1],
               (unsigned long long)a[2], (unsigned long long)a[3], (unsigned long long)a[4],
               (unsigned long long)a[5], int80 ? " int80" : "");
    in_call = 1;
    int64_t r = raw_call(nr, a, int80);
    in_call = 0;
    ncalls_done++;

    if (verbose && i >= verbose_from)
        printf("fuzz: #%llu -> %lld\n", (unsigned long long)i, (long long)r);
    if (r >= 0)
        st.ok++;
    else if (r == LANES_E_NOSYS)
        st.nosys++;
    else if (-r < 128)
        st.errs[-r]++;
    else
        st.other++;
    if (r >= 0 && r < MAXH &&
        (is(c, "thread_create") || is(c, "handle_dup") || is(c, "mem_create") || is(c, "supervisor_create") ||
         is(c, "process_self") || is(c, "ipc_queue_create") || is(c, "ipc_event_create") ||
         is(c, "ioport_create") || is(c, "irq_create")))
        known[r] = 1;
    if (is(c, "handle_close") && r == 0 && a[0] < MAXH)
        known[a[0]] = 0;
    if (is(c, "ipc_stream_create") && r == 0 && a[0] == (uint64_t)(uintptr_t)outs) {
        int32_t l[2];
        memcpy(l, outs, sizeof l);
        for (int k = 0; k < 2; k++)
            if (l[k] >= 0 && l[k] < MAXH)
                known[l[k]] = 1;
    }
    if (is(c, "mem_map") && r > 0 && !(a[1] >= ARENA && a[1] < ARENA + ZONE))
        remember_map((uint64_t)r, (a[3] + LANES_PAGE_SIZE - 1) & ~(uint64_t)(LANES_PAGE_SIZE - 1));
    if (is(c, "process_spawn") && r >= 0) {
        struct lane_exit_info info;
        st.spawned++;
        lanes_sys_process_kill((int32_t)r, 99);
        lanes_wait((int32_t)r, &info, LANES_SEC(10));
        lanes_sys_handle_close((int32_t)r);
    }
    /* Consume our queue; now and then scribble on its tail (the kernel must not trust it). */
    if (q0hdr) {
        if ((extra >> 20) % 500 == 0)
            q0hdr->tail = (uint32_t)(extra >> 32);
        else if ((uint32_t)(q0hdr->head - q0hdr->tail) > 16 || (extra >> 20) % 7 == 0)
            q0hdr->tail = q0hdr->head;
    }
}

/* ---- the child ---- */

static uint64_t seed, ncalls;

static void watchdog_loop(int32_t fuzzer)
{
    uint64_t last = ~0ull;
    int still = 0;
    while (!fuzz_done) {
        lanes_sys_sleep(LANES_MS(2));
        uint64_t n = ncalls_done;
        if (n == last && in_call) {
            if (++still * 2 >= WATCHDOG_MS) {
                lanes_sys_thread_interrupt(fuzzer);
                interrupts++;
                still = 0;
            }
        } else {
            still = 0;
            last = n;
        }
    }
}

static void fuzz_thread(void *arg)
{
    (void)arg;
    while (!fuzz_go)
        lanes_sys_yield();
    for (uint64_t i = 0; i < ncalls; i++) {
        one_call(i);
        if (ncalls >= 10 && (i + 1) % (ncalls / 10) == 0)
            printf("fuzz: %llu calls\n", (unsigned long long)(i + 1));
    }
    fuzz_done = 1;
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
    elf_img = malloc(e.size);
    if (!elf_orig || !elf_img)
        return;
    memcpy(elf_orig, e.data, e.size);
    elf_len = e.size;
}

static int child(void)
{
    parse_sigs();
    load_elf();
    setup_arena();
    uint64_t qaddr = 0;
    int64_t q = lanes_sys_ipc_queue_create(64, &qaddr);
    if (q >= 0) {
        q0 = (int32_t)q;
        q0hdr = (volatile struct lane_ipc_queue_header *)(uintptr_t)qaddr;
    }
    lanes_thread_t t;
    if (lanes_thread_start(&t, fuzz_thread, NULL, 0) != 0) {
        printf("fuzz: cannot start the fuzzing thread\n");
        return 1;
    }
    /* Everything held now is ours to keep (startup handles, the queue, the thread): never closed. */
    for (int h = 0; h < MAXH; h++)
        protect[h] = known[h] = handle_type(h) != 0;
    fuzz_go = 1;
    watchdog_loop(t.handle);
    lanes_thread_join(&t, LANES_SEC(60));
    printf("fuzz: done: seed %llu, %llu calls: %llu ok, %llu NOSYS, %llu skipped, %llu spawned, %llu interrupted\n",
           (unsigned long long)seed, (unsigned long long)ncalls, (unsigned long long)st.ok,
           (unsigned long long)st.nosys, (unsigned long long)st.skipped, (unsigned long long)st.spawned,
           (unsigned long long)interrupts);
    printf("fuzz: errors:");
    for (int e = 1; e < 128; e++)
        if (st.errs[e])
            printf(" %s %llu", lanes_strerror(-e), (unsigned long long)st.errs[e]);
    printf("\nfuzz: sequence hash %016llx\n", (unsigned long long)st.seq);
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

static uint64_t kernel_free(uint64_t *pages)
{
    uint64_t f = sysfs_num("/sys/kernel/mm/free");
    *pages = f / LANES_PAGE_SIZE;
    return f + sysfs_num("/sys/kernel/mm/heap_cached");
}

/* Runs one child to its end (or kills it after kill_after_ms); 0 if it exited with 0. */
static const char *vflag = "-v";

static int run_child(uint64_t s, uint64_t n, uint64_t kill_after_ms, uint64_t timeout_ms)
{
    char sb[24], nb[24];
    snprintf(sb, sizeof sb, "%llu", (unsigned long long)s);
    snprintf(nb, sizeof nb, "%llu", (unsigned long long)n);
    const char *argv[5] = { "fuzz", "--child", sb, nb, vflag };
    int64_t sup = lanes_sys_supervisor_create();
    if (sup < 0)
        return 1;
    struct lanes_spawn_opts o = { (int32_t)sup, NULL, 0, false };
    int64_t p = lanes_spawn("fuzz", verbose ? 5 : 4, argv, &o);
    if (p < 0) {
        lanes_sys_handle_close((int32_t)sup);
        return 1;
    }
    int rc = 0;
    struct lane_exit_info info;
    if (kill_after_ms) {
        lanes_sys_sleep(LANES_MS(kill_after_ms));
        lanes_sys_process_kill((int32_t)p, 77);
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

/* Waits (up to 5 s: exited threads and processes are freed a little later) for the kernel's free
 * memory, counting the heap's cached blocks, to come back to `before` (more is fine: the kernel
 * may have freed something of its own meanwhile); prints the figures and returns whether it did.
 * Plain free pages may end lower: kmalloc keeps pages it carved into small blocks. */
static bool leak_check(uint64_t before, uint64_t pages_before)
{
    uint64_t after = 0, pages_after = 0;
    for (int i = 0; i < 250; i++) {
        after = kernel_free(&pages_after);
        if (after >= before)
            break;
        lanes_sys_sleep(LANES_MS(20));
    }
    printf("fuzz: free pages before %llu after %llu (the heap keeps %lld); free + heap cached: before %llu "
           "after %llu pages\n",
           (unsigned long long)pages_before, (unsigned long long)pages_after,
           (long long)(pages_before - pages_after), (unsigned long long)before / LANES_PAGE_SIZE,
           (unsigned long long)after / LANES_PAGE_SIZE);
    if (after < before)
        printf("fuzz: FAIL: the kernel lost %llu bytes\n", (unsigned long long)(before - after));
    return after >= before;
}

static int usage(void)
{
    printf("usage: fuzz SEED N [-v[FROM]] | fuzz --kill SEED ROUNDS | fuzz --child SEED N [-v[FROM]]\n");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "--child")) {
        seed = strtoull(argv[2], NULL, 0);
        ncalls = strtoull(argv[3], NULL, 0);
        verbose = argc >= 5 && !strncmp(argv[4], "-v", 2);
        verbose_from = verbose ? strtoull(argv[4] + 2, NULL, 10) : 0;
        rng = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
        if (!rng)
            rng = 1;
        return child();
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
    if (*end || !n)
        return usage();
    verbose = argc > base + 2 && !strncmp(argv[base + 2], "-v", 2);
    if (verbose)
        vflag = argv[base + 2];
    if (kill_mode)
        printf("fuzz: seed %llu, %llu rounds of spawn, fuzz, kill\n", (unsigned long long)seed,
               (unsigned long long)n);
    else
        printf("fuzz: seed %llu, %llu calls\n", (unsigned long long)seed, (unsigned long long)n);
    /* What we keep until we exit is allocated before measuring: printf's buffer (above), the
     * initrd mapping lanes_spawn makes (and the page tables under it). */
    const void *ib;
    size_t isz;
    lanes_initrd(&ib, &isz);
    uint64_t pages_before, before = kernel_free(&pages_before);
    uint64_t t0 = lanes_now_ns();
    int rc = 0;
    if (kill_mode) {
        rng = seed * 0x9e3779b97f4a7c15ull + 1;
        for (uint64_t r = 0; r < n && !rc; r++)
            rc = run_child(seed + r, 100000000, 5 + below(60), 0);
    } else {
        rc = run_child(seed, n, 0, 60000 + n * 5);
    }
    uint64_t ms = (lanes_now_ns() - t0) / 1000000;
    bool same = leak_check(before, pages_before);
    printf("fuzz: %s in %llu.%03llu s\n", rc ? "FAIL" : !same ? "LEAK" : "PASS", (unsigned long long)ms / 1000,
           (unsigned long long)ms % 1000);
    return rc ? 1 : !same ? 2 : 0;
}
