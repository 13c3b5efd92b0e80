/* usertests — LaneOS's in-guest test suite, in the style of xv6's usertests.
 *
 * A table of named tests. First every kernel self-test (sys_ktest, by index, each reported
 * under its own name as ktest:NAME), then user-level tests of every system call: handles and
 * rights, memory objects (also shared between two processes), processes, threads, futexes,
 * the clock, the CPU number (libc's syscall-free lanes_cpu_id against the cpu_id syscall),
 * sleeping and interrupting, SMP parallelism, fault isolation (fault-null, fault-ud,
 * fault-gp, fault-wild under a supervisor of our own) and I/O-port capabilities (a driver that
 * gets its declared ports, one that faults on a port it did not declare).
 *
 * Output: one line per test, "test NAME: ok" or "test NAME: FAILED (why)", then exactly
 * "N passed, N failed" (the runner of lanes/testing.h). Exit status: the number of failures
 * (0 = all passed, at most 100); 1 when no test matches the names given.
 * Usage: usertests [NAME-PREFIX...]        run all tests, or those whose names start so
 *        usertests --child MODE [ARG]      helper modes used by the tests themselves
 * Its manifest asks for the system capability (kernel self-tests, I/O port grants).
 */
#include <lanes.h>
#include <lanes/ipc.h>
#include <lanes/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LANES_MANIFEST("system");

static struct lane_sysinfo sysinfo;
static int32_t system_cap;

#define E(r) lanes_strerror(r)

/* ---- helpers ---- */

static int64_t spawn_child(const char *mode, const char *arg, int32_t sup, const struct lane_spawn_handle *extra,
                           int nextra)
{
    const char *argv[4] = { "usertests", "--child", mode, arg };
    struct lanes_spawn_opts o = { sup, extra, nextra, false };
    return lanes_spawn("usertests", arg ? 4 : 3, argv, &o);
}

static int64_t spawn_prog(const char *prog, const char *arg, int32_t sup)
{
    const char *argv[2] = { prog, arg };
    struct lanes_spawn_opts o = { sup, NULL, 0, false };
    return lanes_spawn(prog, arg ? 2 : 1, argv, &o);
}

static bool ended(int32_t proc, struct lane_exit_info *info, uint64_t timeout)
{
    return lanes_wait(proc, info, timeout) >= 0 && info->state != LANES_PROC_STATE_RUNNING;
}

static void reap(int32_t proc)
{
    struct lane_exit_info info;
    lanes_sys_process_kill(proc, 1);
    lanes_wait(proc, &info, LANES_SEC(5));
    lanes_sys_handle_close(proc);
}

static uint32_t rights_of(int32_t h)
{
    struct lane_handle_info hi;
    return lanes_sys_handle_info(h, &hi) < 0 ? 0xffffffffu : hi.rights;
}

/* ---- basic syscalls ---- */

static bool t_null(void)
{
    for (int i = 0; i < 1000; i++) {
        int64_t r = lanes_sys_null();
        REQUIRE(r == 0, "null returned %lld", (long long)r);
    }
    int64_t r = lanes_syscall0(9999);
    REQUIRE(r == LANES_E_NOSYS, "syscall 9999 returned %lld (%s), not NOSYS", (long long)r, E(r));
    return true;
}

/* The second system call entry: `int $0x80` (kernel.toml SYSCALL_VECTOR) runs the same calls
 * with the same registers as `syscall` and preserves every register but rax. */
static int64_t int80_3(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t *regs_out)
{
    register uint64_t r8 __asm__("r8") = 0x0808080808080808ull, r9 __asm__("r9") = 0x0909090909090909ull;
    register uint64_t r10 __asm__("r10") = 0x1010101010101010ull, r12 __asm__("r12") = 0x1212121212121212ull;
    uint64_t rdi = a0, rsi = a1, rdx = a2, rax = nr;
    __asm__ volatile("int $0x80" : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "+r"(r9), "+r"(r10), "+r"(r12)
                     :: "rcx", "r11", "memory");
    regs_out[0] = rdi ^ a0;
    regs_out[1] = rsi ^ a1;
    regs_out[2] = rdx ^ a2;
    regs_out[3] = r8 ^ 0x0808080808080808ull;
    regs_out[4] = r9 ^ 0x0909090909090909ull;
    regs_out[5] = r10 ^ 0x1010101010101010ull;
    regs_out[6] = r12 ^ 0x1212121212121212ull;
    return (int64_t)rax;
}

static bool t_int80(void)
{
    uint64_t d[7];
    int64_t r = int80_3(LANES_SYS_NULL, 1, 2, 3, d);
    REQUIRE(r == 0, "null through int $0x80 returned %lld", (long long)r);
    for (int i = 0; i < 7; i++)
        REQUIRE(d[i] == 0, "register %d changed by int $0x80 (xor 0x%llx)", i, (unsigned long long)d[i]);
    r = int80_3(LANES_SYS_GETPID, 0, 0, 0, d);
    REQUIRE(r == lanes_startup->pid, "getpid through int $0x80: %lld, pid %u", (long long)r, lanes_startup->pid);
    r = int80_3(9999, 0, 0, 0, d);
    REQUIRE(r == LANES_E_NOSYS, "syscall 9999 through int $0x80: %lld (%s), not NOSYS", (long long)r, E(r));
    r = int80_3(LANES_SYS_SYSINFO, 16, 0, 0, d);
    REQUIRE(r == LANES_E_FAULT, "sysinfo(bad pointer) through int $0x80: %lld (%s), not FAULT", (long long)r, E(r));
    return true;
}

static bool t_ids(void)
{
    int64_t pid = lanes_sys_getpid(), tid = lanes_sys_thread_self(), cpu = lanes_sys_cpu_id();
    REQUIRE(pid == lanes_startup->pid, "getpid %lld != startup pid %u", (long long)pid, lanes_startup->pid);
    REQUIRE(tid == lanes_startup->tid, "thread_self %lld != startup tid %u", (long long)tid, lanes_startup->tid);
    REQUIRE(cpu >= 0 && cpu < sysinfo.ncpus, "cpu_id %lld with %u CPUs", (long long)cpu, sysinfo.ncpus);
    return true;
}

/* lanes_cpu_id (libc: RDPID or RDTSCP reading the IA32_TSC_AUX the kernel set per CPU, else
 * the syscall) must return what the cpu_id syscall does. One check reads syscall, fast, syscall;
 * the thread may move between any two, so a check passes when all three agree and is retried a
 * few times before it fails. One thread per CPU runs checks without sleeping, so with several
 * CPUs they spread and every CPU's TSC_AUX gets compared, not just the boot CPU's. The note
 * names the instruction, the raw TSC_AUX (without the kernel's 0x4c41 mark libc used the
 * syscall: nested KVM here shows the outer host's value) and the cost of both per call. */
#define CPUID_CHECKS 500
#define CPUID_RETRIES 20
static volatile uint64_t cpuid_seen;            /* bit n: CPU n passed a check */
static volatile int cpuid_bad;                  /* 1 never agreed, 2 out of range */
static volatile int64_t cpuid_bad_sys[2], cpuid_bad_fast;

static bool cpu_id_check(void)
{
    int64_t s1 = 0, s2 = 0;
    uint32_t fast = 0;
    for (int try = 0; try < CPUID_RETRIES; try++) {
        s1 = lanes_sys_cpu_id();
        fast = lanes_cpu_id();
        s2 = lanes_sys_cpu_id();
        if (s1 == s2 && s1 == (int64_t)fast) {
            if (fast >= sysinfo.ncpus) {
                cpuid_bad = 2;
                cpuid_bad_fast = fast;
                return false;
            }
            __atomic_fetch_or(&cpuid_seen, 1ull << (fast & 63), __ATOMIC_RELAXED);
            return true;
        }
    }
    cpuid_bad = 1;
    cpuid_bad_sys[0] = s1;
    cpuid_bad_sys[1] = s2;
    cpuid_bad_fast = fast;
    return false;
}

static void cpu_id_checker(void *arg)
{
    (void)arg;
    for (int i = 0; i < CPUID_CHECKS && !cpuid_bad; i++)
        cpu_id_check();
}

/* Our own CPUID: which instruction libc should use; *aux gets what it reads now (TSC_AUX: the
 * kernel's LANES_TSC_AUX_MAGIC | cpu, else libc falls back to the syscall). */
static const char *cpu_id_path(uint64_t *aux)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    if (a >= 7) {
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
        if (c & (1u << 22)) {
            __asm__ volatile("rdpid %0" : "=r"(*aux));
            return "RDPID";
        }
    }
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001), "c"(0));
    if (d & (1u << 27)) {
        __asm__ volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(c));
        *aux = c;
        return "RDTSCP";
    }
    *aux = 0;
    return "no RDPID/RDTSCP: syscall";
}

static bool t_cpu_id_fast(void)
{
    cpuid_seen = 0;
    cpuid_bad = 0;
    for (int i = 0; i < CPUID_CHECKS && !cpuid_bad; i++)
        cpu_id_check();
    enum { MAXT = 8 };
    lanes_thread_t t[MAXT];
    int n = sysinfo.ncpus < MAXT ? (int)sysinfo.ncpus : MAXT, started = 0;
    for (; started < n; started++)
        if (lanes_thread_start(&t[started], cpu_id_checker, NULL, 0) != 0)
            break;
    for (int i = 0; i < started; i++)
        lanes_thread_join(&t[i], LANES_SEC(60));
    REQUIRE(started == n, "started %d of %d threads", started, n);
    REQUIRE(cpuid_bad != 2, "lanes_cpu_id %lld with %u CPUs", (long long)cpuid_bad_fast, sysinfo.ncpus);
    uint64_t aux;
    const char *path = cpu_id_path(&aux);
    REQUIRE(!cpuid_bad, "lanes_cpu_id %lld, cpu_id syscall %lld and %lld around it, %d times in a row (%s, TSC_AUX 0x%llx)",
            (long long)cpuid_bad_fast, (long long)cpuid_bad_sys[0], (long long)cpuid_bad_sys[1], CPUID_RETRIES, path,
            (unsigned long long)aux);
    /* Cost per call, as a note (not a limit: TCG and loaded hosts vary widely). */
    uint64_t c0 = lanes_rdtsc();
    for (int i = 0; i < 1000; i++)
        (void)lanes_cpu_id();
    uint64_t c1 = lanes_rdtsc();
    for (int i = 0; i < 1000; i++)
        (void)lanes_sys_cpu_id();
    uint64_t c2 = lanes_rdtsc();
    snprintf(why, sizeof why, "%s, TSC_AUX 0x%llx; agreed on CPUs mask 0x%llx; %llu vs %llu cycles (syscall) per call",
             path, (unsigned long long)aux, (unsigned long long)cpuid_seen, (unsigned long long)(c1 - c0) / 1000,
             (unsigned long long)(c2 - c1) / 1000);
    return true;
}

static bool t_sysinfo(void)
{
    struct lane_sysinfo si;
    int64_t r = lanes_sys_sysinfo(&si);
    REQUIRE(r == 0, "sysinfo: %s", E(r));
    REQUIRE(strncmp(si.version, "LaneOS", 6) == 0, "version \"%.32s\" does not name LaneOS", si.version);
    REQUIRE(si.ncpus >= 1 && si.ncpus <= 256, "ncpus %u", si.ncpus);
    REQUIRE(si.mem_total > 0 && si.mem_free <= si.mem_total, "mem free %llu total %llu",
            (unsigned long long)si.mem_free, (unsigned long long)si.mem_total);
    REQUIRE(si.uptime_ns > 0, "uptime 0");
    return true;
}

static bool t_console(void)
{
    static const char msg[] = "usertests: console_write check\n";
    int64_t r = lanes_sys_console_write(msg, sizeof msg - 1);
    REQUIRE(r == (int64_t)sizeof msg - 1, "console_write returned %lld", (long long)r);
    r = lanes_sys_console_write(msg, 0);
    REQUIRE(r == 0, "console_write of 0 bytes returned %lld", (long long)r);
    r = lanes_sys_log(LANES_LOG_LEVEL_INFO, "usertests: log line", 19);
    REQUIRE(r >= 0, "log: %s", E(r));
    r = lanes_sys_log(99, "x", 1);
    REQUIRE(r == LANES_E_INVAL, "log with level 99 returned %lld", (long long)r);
    return true;
}

static bool t_bad_pointers(void)
{
    int64_t r = lanes_sys_console_write(NULL, 1);
    REQUIRE(r == LANES_E_FAULT, "console_write(NULL) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_sysinfo((const void *)0xffff800000001000ull);
    REQUIRE(r == LANES_E_FAULT, "sysinfo(kernel address) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_sysinfo((const void *)(LANES_USER_TOP - 8));
    REQUIRE(r == LANES_E_FAULT, "sysinfo(crossing USER_TOP) returned %lld (%s)", (long long)r, E(r));
    /* A buffer that is mapped read-only cannot be written by the kernel on our behalf. */
    int64_t a = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, 4096, LANES_PROT_READ);
    REQUIRE(a > 0, "mem_map: %s", E(a));
    r = lanes_sys_sysinfo((const void *)(uintptr_t)a);
    lanes_sys_mem_unmap((const void *)(uintptr_t)a, 4096);
    REQUIRE(r == LANES_E_FAULT, "sysinfo into read-only memory returned %lld (%s)", (long long)r, E(r));
    return true;
}

/* ---- handles and rights ---- */

static bool t_handle_rights(void)
{
    int64_t h = lanes_sys_mem_create(4096, LANES_MEMFLAG_ZERO);
    REQUIRE(h >= 0, "mem_create: %s", E(h));
    struct lane_handle_info hi;
    int64_t r = lanes_sys_handle_info((int32_t)h, &hi);
    REQUIRE(r == 0 && hi.type == LANES_OBJ_MEMORY && hi.size == 4096, "info: r=%s type %u size %llu", E(r), hi.type,
            (unsigned long long)hi.size);
    uint32_t need = LANES_RIGHT_READ | LANES_RIGHT_WRITE | LANES_RIGHT_MAP | LANES_RIGHT_DUP;
    REQUIRE((hi.rights & need) == need, "new memory handle lacks rights: %#x", hi.rights);
    int64_t d = lanes_sys_handle_dup((int32_t)h, LANES_RIGHT_READ | LANES_RIGHT_DUP);
    REQUIRE(d >= 0 && d != h, "dup: %s", E(d));
    REQUIRE(rights_of((int32_t)d) == (LANES_RIGHT_READ | LANES_RIGHT_DUP), "dup rights %#x", rights_of((int32_t)d));
    int64_t d2 = lanes_sys_handle_dup((int32_t)d, LANES_RIGHT_ALL);
    REQUIRE(d2 >= 0, "dup of dup: %s", E(d2));
    REQUIRE(rights_of((int32_t)d2) == (LANES_RIGHT_READ | LANES_RIGHT_DUP),
            "dup asking for ALL gained rights: %#x", rights_of((int32_t)d2));
    int64_t d3 = lanes_sys_handle_dup((int32_t)h, LANES_RIGHT_READ | LANES_RIGHT_MAP);
    REQUIRE(d3 >= 0, "dup READ|MAP: %s", E(d3));
    r = lanes_sys_handle_dup((int32_t)d3, LANES_RIGHT_READ);
    REQUIRE(r == LANES_E_ACCESS, "dup without DUP right returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_mem_map((int32_t)d, 0, 0, 4096, LANES_PROT_READ);
    REQUIRE(r == LANES_E_ACCESS, "map without MAP right returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_mem_map((int32_t)d3, 0, 0, 4096, LANES_PROT_READ | LANES_PROT_WRITE);
    REQUIRE(r == LANES_E_ACCESS, "writable map without WRITE right returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_mem_map((int32_t)d3, 0, 0, 4096, LANES_PROT_READ);
    REQUIRE(r > 0, "read-only map with READ|MAP: %s", E(r));
    lanes_sys_mem_unmap((const void *)(uintptr_t)r, 4096);
    lanes_sys_handle_close((int32_t)d3);
    lanes_sys_handle_close((int32_t)d2);
    lanes_sys_handle_close((int32_t)d);
    lanes_sys_handle_close((int32_t)h);
    return true;
}

static bool t_handle_close(void)
{
    int64_t h = lanes_sys_mem_create(4096, 0);
    REQUIRE(h >= 0, "mem_create: %s", E(h));
    int64_t r = lanes_sys_handle_close((int32_t)h);
    REQUIRE(r == 0, "close: %s", E(r));
    r = lanes_sys_handle_close((int32_t)h);
    REQUIRE(r == LANES_E_BADHANDLE, "second close returned %lld (%s)", (long long)r, E(r));
    struct lane_handle_info hi;
    r = lanes_sys_handle_info((int32_t)h, &hi);
    REQUIRE(r == LANES_E_BADHANDLE, "info on closed handle returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_handle_dup((int32_t)h, LANES_RIGHT_ALL);
    REQUIRE(r == LANES_E_BADHANDLE, "dup of closed handle returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_mem_map((int32_t)h, 0, 0, 4096, LANES_PROT_READ);
    REQUIRE(r == LANES_E_BADHANDLE, "map of closed handle returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_handle_info(LANES_MAX_HANDLES, &hi);
    REQUIRE(r == LANES_E_BADHANDLE, "handle MAX_HANDLES returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_handle_info(-7, &hi);
    REQUIRE(r == LANES_E_BADHANDLE, "handle -7 returned %lld (%s)", (long long)r, E(r));
    return true;
}

static bool t_handle_type(void)
{
    int64_t mem = lanes_sys_mem_create(4096, 0);
    int64_t sup = lanes_sys_supervisor_create();
    REQUIRE(mem >= 0 && sup >= 0, "create: mem %s sup %s", E(mem), E(sup));
    struct lane_handle_info hi;
    REQUIRE(lanes_sys_handle_info((int32_t)sup, &hi) == 0 && hi.type == LANES_OBJ_SUPERVISOR, "supervisor type %u",
            hi.type);
    struct lane_notification n;
    struct lane_exit_info ei;
    int64_t r;
    r = lanes_sys_thread_wait((int32_t)mem, 0);
    REQUIRE(r == LANES_E_TYPE, "thread_wait(memory) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_process_kill((int32_t)mem, 1);
    REQUIRE(r == LANES_E_TYPE, "process_kill(memory) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_process_wait((int32_t)sup, &ei, 0);
    REQUIRE(r == LANES_E_TYPE, "process_wait(supervisor) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_supervisor_recv((int32_t)mem, &n, 0);
    REQUIRE(r == LANES_E_TYPE, "supervisor_recv(memory) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_mem_map((int32_t)sup, 0, 0, 4096, LANES_PROT_READ);
    REQUIRE(r == LANES_E_TYPE, "mem_map(supervisor) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_ioport_enable((int32_t)mem);
    REQUIRE(r == LANES_E_TYPE, "ioport_enable(memory) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_ioport_create((int32_t)mem, 0x70, 2);
    REQUIRE(r == LANES_E_TYPE, "ioport_create(memory, ...) returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_thread_interrupt((int32_t)sup);
    REQUIRE(r == LANES_E_TYPE, "thread_interrupt(supervisor) returned %lld (%s)", (long long)r, E(r));
    lanes_sys_handle_close((int32_t)mem);
    lanes_sys_handle_close((int32_t)sup);
    return true;
}

static bool t_handle_table_full(void)
{
    static int32_t hs[LANES_MAX_HANDLES + 8];
    int n = 0;
    int64_t r = 0;
    while (n < LANES_MAX_HANDLES + 8) {
        r = lanes_sys_supervisor_create();
        if (r < 0)
            break;
        if (r >= LANES_MAX_HANDLES) {
            for (int i = 0; i < n; i++)
                lanes_sys_handle_close(hs[i]);
            FAIL("handle %lld is beyond MAX_HANDLES", (long long)r);
        }
        hs[n++] = (int32_t)r;
    }
    for (int i = 0; i < n; i++)
        lanes_sys_handle_close(hs[i]);
    REQUIRE(r == LANES_E_LIMIT, "after %d handles: %lld (%s), expected LIMIT", n, (long long)r, E(r));
    r = lanes_sys_supervisor_create();
    REQUIRE(r >= 0, "after closing them, supervisor_create: %s", E(r));
    lanes_sys_handle_close((int32_t)r);
    return true;
}

/* A spawn that cannot give its caller a handle (the table is full) must not run the child: found
 * by the fuzzer (os/programs/fuzz), which then had an unkillable, unwaitable process stopped
 * under one of its supervisors forever. */
static bool t_spawn_table_full(void)
{
    int64_t sup = lanes_sys_supervisor_create();
    REQUIRE(sup >= 0, "supervisor_create: %s", E(sup));
    int64_t p = spawn_child("exit", "0", LANES_HANDLE_NONE, NULL, 0);   /* maps the initrd first */
    REQUIRE(p >= 0, "spawn: %s", E(p));
    reap((int32_t)p);
    static int32_t hs[LANES_MAX_HANDLES];
    int n = 0;
    int64_t r;
    while (n < LANES_MAX_HANDLES && (r = lanes_sys_ipc_event_create(LANES_EVENT_KIND_ONESHOT)) >= 0)
        hs[n++] = (int32_t)r;
    const char *argv[4] = { "usertests", "--child", "exit", "5" };
    struct lanes_spawn_opts o = { (int32_t)sup, NULL, 0, true };
    int64_t s = lanes_spawn("usertests", 4, argv, &o);
    for (int i = 0; i < n; i++)
        lanes_sys_handle_close(hs[i]);
    if (s >= 0)
        reap((int32_t)s);
    struct lane_notification note;
    r = lanes_sys_supervisor_recv((int32_t)sup, &note, LANES_MS(1500));
    lanes_sys_handle_close((int32_t)sup);
    REQUIRE(s == LANES_E_LIMIT, "spawn with a full handle table returned %lld (%s), not LIMIT", (long long)s, E(s));
    REQUIRE(r == LANES_E_TIMEOUT, "the child of the failed spawn ran anyway (supervisor_recv: %s, code %d)", E(r),
            r == 0 ? note.code : 0);
    return true;
}

/* ---- memory ---- */

static bool t_mem_anon(void)
{
    size_t len = 64 * 1024;
    int64_t a = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, len, LANES_PROT_READ | LANES_PROT_WRITE);
    REQUIRE(a > 0 && (a & 4095) == 0, "mem_map: %lld (%s)", (long long)a, E(a));
    REQUIRE((uint64_t)a + len <= LANES_USER_TOP, "mapping at %#llx is not in user space", (unsigned long long)a);
    uint8_t *p = (uint8_t *)(uintptr_t)a;
    for (size_t i = 0; i < len; i++)
        REQUIRE(p[i] == 0, "anonymous memory not zeroed at +%zu", i);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < len; i++)
        REQUIRE(p[i] == (uint8_t)(i * 7), "readback mismatch at +%zu", i);
    int64_t r = lanes_sys_mem_unmap(p, len);
    REQUIRE(r == 0, "unmap: %s", E(r));
    /* An exact address hint is honoured, and a second mapping there fails with EXISTS. */
    uintptr_t hint = 0x5a5a0000000ull;
    a = lanes_sys_mem_map(LANES_HANDLE_NONE, (const void *)hint, 0, 8192, LANES_PROT_READ | LANES_PROT_WRITE);
    REQUIRE(a == (int64_t)hint, "map at hint %#lx returned %#llx (%s)", (unsigned long)hint, (unsigned long long)a,
            E(a));
    r = lanes_sys_mem_map(LANES_HANDLE_NONE, (const void *)hint, 0, 4096, LANES_PROT_READ);
    lanes_sys_mem_unmap((const void *)hint, 8192);
    REQUIRE(r == LANES_E_EXISTS, "second map at the same hint returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_mem_map(LANES_HANDLE_NONE, (const void *)(hint + 1), 0, 4096, LANES_PROT_READ);
    REQUIRE(r == LANES_E_INVAL, "unaligned hint returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, 0, LANES_PROT_READ);
    REQUIRE(r == LANES_E_INVAL, "zero-length map returned %lld (%s)", (long long)r, E(r));
    return true;
}

static bool t_mem_object(void)
{
    int64_t h = lanes_sys_mem_create(8192, LANES_MEMFLAG_ZERO);
    REQUIRE(h >= 0, "mem_create: %s", E(h));
    int64_t a = lanes_sys_mem_map((int32_t)h, 0, 0, 8192, LANES_PROT_READ | LANES_PROT_WRITE);
    int64_t b = lanes_sys_mem_map((int32_t)h, 0, 4096, 4096, LANES_PROT_READ);
    REQUIRE(a > 0 && b > 0 && a != b, "maps: %s %s", E(a), E(b));
    volatile uint32_t *pa = (volatile uint32_t *)(uintptr_t)a, *pb = (volatile uint32_t *)(uintptr_t)b;
    pa[1024] = 0xfeedbeef;
    REQUIRE(pb[0] == 0xfeedbeef, "second mapping (offset 4096) sees %#x", pb[0]);
    lanes_sys_mem_unmap((const void *)(uintptr_t)a, 8192);
    lanes_sys_mem_unmap((const void *)(uintptr_t)b, 4096);
    int64_t r = lanes_sys_mem_map((int32_t)h, 0, 8192, 4096, LANES_PROT_READ);
    REQUIRE(r == LANES_E_RANGE || r == LANES_E_INVAL, "map past the object's end returned %lld (%s)", (long long)r,
            E(r));
    lanes_sys_handle_close((int32_t)h);
    return true;
}

#define SHARED_MAGIC 0x4c616e6553686d21ull

static int child_mem(void)
{
    int32_t h = lanes_handle_by_tag("shared");
    if (h == LANES_HANDLE_NONE)
        return 10;
    if ((rights_of(h) & LANES_RIGHT_DUP) != 0)
        return 11;   /* we were given READ|WRITE|MAP only */
    int64_t a = lanes_sys_mem_map(h, 0, 0, 4096, LANES_PROT_READ | LANES_PROT_WRITE);
    if (a < 0)
        return 12;
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)a;
    if (w[0] != SHARED_MAGIC)
        return 13;
    w[1] = ~SHARED_MAGIC;
    return 0;
}

/* The parent checks the child's reply through its own mapping, before unmapping. */
static bool t_mem_shared_reply(void)
{
    int64_t h = lanes_sys_mem_create(4096, LANES_MEMFLAG_ZERO);
    REQUIRE(h >= 0, "mem_create: %s", E(h));
    int64_t a = lanes_sys_mem_map((int32_t)h, 0, 0, 4096, LANES_PROT_READ | LANES_PROT_WRITE);
    REQUIRE(a > 0, "map: %s", E(a));
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)a;
    w[0] = SHARED_MAGIC;
    struct lane_spawn_handle sh;
    memset(&sh, 0, sizeof sh);
    sh.handle = (int32_t)h;
    sh.rights = LANES_RIGHT_READ | LANES_RIGHT_WRITE | LANES_RIGHT_MAP;
    strlcpy(sh.tag, "shared", sizeof sh.tag);
    int64_t p = spawn_child("mem", NULL, LANES_HANDLE_NONE, &sh, 1);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    struct lane_exit_info info;
    bool done = ended((int32_t)p, &info, LANES_SEC(20));
    reap((int32_t)p);
    uint64_t reply = w[1];
    lanes_sys_mem_unmap((const void *)(uintptr_t)a, 4096);
    lanes_sys_handle_close((int32_t)h);
    REQUIRE(done && info.state == LANES_PROC_STATE_EXITED && info.code == 0, "child: state %u code %d", info.state,
            info.code);
    REQUIRE(reply == ~SHARED_MAGIC, "the child's write is not visible to the parent: %#llx",
            (unsigned long long)reply);
    return true;
}

/* ---- processes ---- */

static bool t_exit_code(void)
{
    int64_t p = spawn_child("exit", "42", LANES_HANDLE_NONE, NULL, 0);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    struct lane_handle_info hi;
    REQUIRE(lanes_sys_handle_info((int32_t)p, &hi) == 0 && hi.type == LANES_OBJ_PROCESS, "process handle type %u",
            hi.type);
    struct lane_exit_info info;
    bool done = ended((int32_t)p, &info, LANES_SEC(20));
    lanes_sys_handle_close((int32_t)p);
    REQUIRE(done && info.state == LANES_PROC_STATE_EXITED && info.code == 42, "state %u code %d", info.state,
            info.code);
    return true;
}

static bool t_spawn_bad(void)
{
    static const char junk[] = "this is not an ELF image, it is just text...........................";
    static const char name[] = "junk";
    struct lane_spawn_args sa;
    memset(&sa, 0, sizeof sa);
    sa.image = (uint64_t)(uintptr_t)junk;
    sa.image_len = sizeof junk;
    sa.name = (uint64_t)(uintptr_t)name;
    sa.supervisor = LANES_HANDLE_NONE;
    int64_t r = lanes_sys_process_spawn(&sa);
    REQUIRE(r == LANES_E_BADELF, "junk image returned %lld (%s)", (long long)r, E(r));
    /* A real ELF, truncated. */
    const void *rd;
    size_t rdsize;
    struct ustar_entry e;
    REQUIRE(lanes_initrd(&rd, &rdsize) == 0 && ustar_find(rd, rdsize, "bin/fault-ud", &e) == 0, "initrd");
    sa.image = (uint64_t)(uintptr_t)e.data;
    sa.image_len = 200;
    r = lanes_sys_process_spawn(&sa);
    REQUIRE(r == LANES_E_BADELF, "truncated ELF returned %lld (%s)", (long long)r, E(r));
    sa.image_len = e.size;
    sa.supervisor = 200;
    r = lanes_sys_process_spawn(&sa);
    REQUIRE(r == LANES_E_BADHANDLE, "bad supervisor handle returned %lld (%s)", (long long)r, E(r));
    struct lanes_spawn_opts o = { LANES_HANDLE_NONE, NULL, 0, true };
    const char *argv[] = { "no-such-program" };
    r = lanes_spawn("no-such-program", 1, argv, &o);
    REQUIRE(r == LANES_E_NOENT, "missing program returned %lld (%s)", (long long)r, E(r));
    return true;
}

static bool t_kill(void)
{
    int64_t p = spawn_child("spin", NULL, LANES_HANDLE_NONE, NULL, 0);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    struct lane_exit_info info;
    int64_t r = lanes_wait((int32_t)p, &info, LANES_MS(20));
    REQUIRE(r == LANES_E_TIMEOUT, "wait on a running process returned %lld (%s)", (long long)r, E(r));
    int64_t dup = lanes_sys_handle_dup((int32_t)p, LANES_RIGHT_WAIT);
    r = lanes_sys_process_kill((int32_t)dup, 5);
    REQUIRE(r == LANES_E_ACCESS, "kill without CONTROL returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_process_kill((int32_t)p, 77);
    REQUIRE(r == 0, "kill: %s", E(r));
    bool done = ended((int32_t)dup, &info, LANES_SEC(20));
    lanes_sys_handle_close((int32_t)dup);
    lanes_sys_handle_close((int32_t)p);
    REQUIRE(done && info.state == LANES_PROC_STATE_KILLED && info.code == 77, "state %u code %d", info.state,
            info.code);
    return true;
}

/* ---- threads ---- */

static volatile uint64_t counter;
static lanes_mutex_t counter_lock = LANES_MUTEX_INIT;

static void add_atomic(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++)
        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
}

static bool t_threads(void)
{
    lanes_thread_t t[8];
    counter = 0;
    for (int i = 0; i < 8; i++) {
        int64_t r = lanes_thread_start(&t[i], add_atomic, NULL, 0);
        REQUIRE(r == 0, "thread %d: %s", i, E(r));
    }
    for (int i = 0; i < 8; i++) {
        int64_t r = lanes_thread_join(&t[i], LANES_SEC(30));
        REQUIRE(r == 0, "join %d: %s", i, E(r));
    }
    REQUIRE(counter == 80000, "counter %llu, expected 80000", (unsigned long long)counter);
    return true;
}

static void add_locked(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000; i++) {
        lanes_mutex_lock(&counter_lock);
        uint64_t v = counter;
        if ((i & 63) == 0)
            lanes_sys_yield();
        counter = v + 1;
        lanes_mutex_unlock(&counter_lock);
    }
}

static bool t_mutex(void)
{
    lanes_thread_t t[4];
    counter = 0;
    for (int i = 0; i < 4; i++)
        REQUIRE(lanes_thread_start(&t[i], add_locked, NULL, 0) == 0, "thread start");
    for (int i = 0; i < 4; i++)
        REQUIRE(lanes_thread_join(&t[i], LANES_SEC(60)) == 0, "join");
    REQUIRE(counter == 20000, "counter %llu, expected 20000 (lost updates: the mutex does not exclude)",
            (unsigned long long)counter);
    return true;
}

static void sleeper(void *arg)
{
    lanes_sys_sleep((uint64_t)(uintptr_t)arg);
}

static bool t_thread_wait(void)
{
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, sleeper, (void *)(uintptr_t)LANES_MS(300), 0) == 0, "start");
    int64_t r = lanes_sys_thread_wait(t.handle, LANES_MS(10));
    REQUIRE(r == LANES_E_TIMEOUT, "thread_wait on a sleeping thread returned %lld (%s)", (long long)r, E(r));
    r = lanes_thread_join(&t, LANES_SEC(30));
    REQUIRE(r == 0, "join: %s", E(r));
    return true;
}

/* ---- futex, clock, sleep, interrupt ---- */

static volatile uint32_t fword;
static volatile int64_t fresult;
static volatile int fready;

static void futex_waiter(void *arg)
{
    (void)arg;
    fready = 1;
    int64_t r;
    do
        r = lanes_sys_futex_wait((const void *)&fword, 0, LANES_SEC(30));
    while (r == 0 && fword == 0);   /* spurious wake-ups are allowed */
    fresult = r == LANES_E_AGAIN ? 0 : r;
}

static bool t_futex(void)
{
    fword = 5;
    int64_t r = lanes_sys_futex_wait((const void *)&fword, 4, LANES_SEC(1));
    REQUIRE(r == LANES_E_AGAIN, "wait with a stale value returned %lld (%s)", (long long)r, E(r));
    uint64_t t0 = lanes_now_ns();
    r = lanes_sys_futex_wait((const void *)&fword, 5, LANES_MS(20));
    uint64_t dt = lanes_now_ns() - t0;
    REQUIRE(r == LANES_E_TIMEOUT, "wait with a 20 ms timeout returned %lld (%s)", (long long)r, E(r));
    REQUIRE(dt >= LANES_MS(20), "timed out after only %llu ns", (unsigned long long)dt);
    r = lanes_sys_futex_wake((const void *)&fword, 10);
    REQUIRE(r == 0, "wake with no waiters returned %lld", (long long)r);
    r = lanes_sys_futex_wait((const void *)((uintptr_t)&fword + 1), 0, 0);
    REQUIRE(r == LANES_E_INVAL, "unaligned futex returned %lld (%s)", (long long)r, E(r));

    fword = 0;
    fready = 0;
    fresult = 1;
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, futex_waiter, NULL, 0) == 0, "start");
    while (!fready)
        lanes_sys_yield();
    lanes_sys_sleep(LANES_MS(20));
    __atomic_store_n(&fword, 1, __ATOMIC_SEQ_CST);
    int woken = 0;
    for (int i = 0; i < 1000 && fresult == 1; i++) {
        r = lanes_sys_futex_wake((const void *)&fword, 1);
        if (r > 0)
            woken += (int)r;
        lanes_sys_sleep(LANES_MS(1));
    }
    r = lanes_thread_join(&t, LANES_SEC(30));
    REQUIRE(r == 0, "join: %s", E(r));
    REQUIRE(fresult == 0, "waiter's futex_wait returned %lld (%s)", (long long)fresult, E(fresult));
    REQUIRE(woken >= 1, "futex_wake never reported waking the waiter");
    return true;
}

/* A signal's alert runs its target first: a thread blocked in a wait that thread_alert ends, on
 * the alerter's CPU, runs before the alerter returns to user mode (sched.c
 * thread_interrupt_preempt: what makes kill -> EINTR not wait for posix's reply to the killer).
 * Both threads are pinned to CPU 0; the waiter notes that it ran, the alerter looks at once. */
static volatile uint32_t aword, aready, aran;
static volatile int64_t aresult;
static volatile uint32_t atid;

static void alert_waiter(void *arg)
{
    (void)arg;
    lanes_sys_thread_set_affinity(LANES_THREAD_SELF, 1);
    atid = (uint32_t)lanes_sys_thread_self();
    aready = 1;
    aresult = lanes_sys_futex_wait((const void *)&aword, 0, LANES_SEC(10));
    aran = 1;
}

static bool t_alert_runs_target_first(void)
{
    REQUIRE(lanes_sys_thread_set_affinity(LANES_THREAD_SELF, 1) == 0, "pin to CPU 0");
    int64_t self = lanes_sys_process_self();
    REQUIRE(self >= 0, "process_self: %s", E(self));
    aword = aready = aran = 0;
    aresult = 1;
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, alert_waiter, NULL, 0) == 0, "start");
    while (!aready)
        lanes_sys_yield();
    lanes_sys_sleep(LANES_MS(50));                  /* it is in futex_wait by now */
    int64_t r = lanes_sys_thread_alert((int32_t)self, atid, LANES_ALERT_WAIT_ONLY);
    uint32_t ran = aran;                            /* (read before anything else can yield) */
    REQUIRE(r == 0, "thread_alert: %s", E(r));
    REQUIRE(lanes_thread_join(&t, LANES_SEC(30)) == 0, "join");
    lanes_sys_handle_close((int32_t)self);
    lanes_sys_thread_set_affinity(LANES_THREAD_SELF, ~0ull);
    REQUIRE(aresult == LANES_E_INTERRUPTED, "the waiter's futex_wait returned %s", E(aresult));
    REQUIRE(ran, "the alerted thread had not run when thread_alert returned (the alerter went on first)");
    return true;
}

static bool t_clock(void)
{
    uint64_t prev = lanes_now_ns();
    for (int i = 0; i < 20000; i++) {
        uint64_t now = lanes_now_ns();
        REQUIRE(now >= prev, "clock went backwards: %llu then %llu", (unsigned long long)prev,
                (unsigned long long)now);
        prev = now;
    }
    uint64_t t0 = lanes_now_ns();
    int64_t r = lanes_sys_sleep(LANES_MS(30));
    uint64_t dt = lanes_now_ns() - t0;
    REQUIRE(r == 0, "sleep: %s", E(r));
    REQUIRE(dt >= LANES_MS(30), "sleep(30 ms) returned after %llu ns", (unsigned long long)dt);
    r = lanes_sys_sleep(0);
    REQUIRE(r == 0, "sleep(0): %s", E(r));
    return true;
}

static volatile int64_t sleep_result;
static volatile int64_t sleeper_cpu;
static volatile int sleeper_started;

static void long_sleeper(void *arg)
{
    int futex = arg != NULL;
    sleeper_cpu = lanes_sys_cpu_id();
    sleeper_started = 1;
    static volatile uint32_t never;
    if (futex)
        sleep_result = lanes_sys_futex_wait((const void *)&never, 0, LANES_TIMEOUT_INFINITE);
    else
        sleep_result = lanes_sys_sleep(LANES_TIMEOUT_INFINITE);
}

static bool interrupt_case(bool futex, int *cpus_differ)
{
    lanes_thread_t t;
    sleep_result = 1;
    sleeper_started = 0;
    REQUIRE(lanes_thread_start(&t, long_sleeper, futex ? (void *)1 : NULL, 0) == 0, "start");
    while (!sleeper_started)
        lanes_sys_yield();
    lanes_sys_sleep(LANES_MS(20));   /* let it block */
    int64_t mycpu = lanes_sys_cpu_id();
    int64_t r = lanes_sys_thread_interrupt(t.handle);
    REQUIRE(r == 0, "thread_interrupt: %s", E(r));
    r = lanes_thread_join(&t, LANES_SEC(10));
    REQUIRE(r == 0, "the interrupted thread did not end: %s", E(r));
    REQUIRE(sleep_result == LANES_E_INTERRUPTED, "%s returned %lld (%s), not INTERRUPTED", futex ? "futex_wait" : "sleep",
            (long long)sleep_result, E(sleep_result));
    *cpus_differ += mycpu != sleeper_cpu;
    return true;
}

static bool t_interrupt(void)
{
    int differ = 0;
    for (int i = 0; i < 4; i++) {
        if (!interrupt_case(false, &differ) || !interrupt_case(true, &differ))
            return false;
    }
    if (sysinfo.ncpus > 1)
        snprintf(why, sizeof why, "%d of 8 interrupts crossed CPUs", differ);
    return true;
}

/* ---- SMP: two threads of this process must run at the same time on different CPUs ---- */

static volatile uint64_t ball;
static volatile int64_t pp_cpu[2][3];   /* CPU of each thread at the first, middle and last hand-off */
static volatile int pp_abort;
#define PP_ROUNDS 1000

static void pingpong(void *arg)
{
    int me = (int)(uintptr_t)arg;
    /* Each on a CPU of its own: the load balancer may otherwise move a spinner to a less loaded
     * CPU mid-test (a fair move, but this test wants each to stay put). */
    lanes_sys_thread_set_affinity(LANES_THREAD_SELF, 1ull << (me + 1) % sysinfo.ncpus);
    uint64_t deadline = lanes_now_ns() + LANES_SEC(60);
    for (uint64_t round = 0; round < PP_ROUNDS && !pp_abort; round++) {
        uint64_t want = round * 2 + (uint64_t)me;   /* thread 0 moves on even values, 1 on odd */
        for (unsigned spin = 0; __atomic_load_n(&ball, __ATOMIC_ACQUIRE) != want; spin++) {
            lanes_pause();
            if ((spin & 0xffff) == 0xffff && lanes_now_ns() > deadline) {
                pp_abort = 1;
                return;
            }
            if (pp_abort)
                return;
        }
        if (round == 0 || round == PP_ROUNDS / 2 || round == PP_ROUNDS - 1)
            pp_cpu[me][round == 0 ? 0 : round == PP_ROUNDS - 1 ? 2 : 1] = lanes_sys_cpu_id();
        __atomic_store_n(&ball, want + 1, __ATOMIC_RELEASE);
    }
}

static bool t_smp_parallel(void)
{
    if (sysinfo.ncpus < 2) {
        snprintf(why, sizeof why, "skipped: 1 CPU");
        return true;
    }
    /* Two threads hand a word back and forth by spinning, without syscalls, so neither gives up
     * its CPU: on one CPU every hand-off would need a preemption. Each samples its CPU at the
     * first, middle and last hand-off: the two must differ, each staying put (pinned to CPUs 1
     * and 2 — or 0 — by affinity) — so they ran on two CPUs at the same time. (The deadline is generous: under TCG on a loaded host the
     * vCPU threads are not always co-scheduled.) */
    const char *last = "";
    for (int attempt = 0; attempt < 3; attempt++) {
        ball = 0;
        pp_abort = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                pp_cpu[i][j] = -1;
        lanes_thread_t a, b;
        REQUIRE(lanes_thread_start(&a, pingpong, (void *)0, 0) == 0, "start");
        REQUIRE(lanes_thread_start(&b, pingpong, (void *)1, 0) == 0, "start");
        lanes_thread_join(&a, LANES_SEC(60));
        lanes_thread_join(&b, LANES_SEC(60));
        bool steady = true;
        for (int i = 0; i < 2; i++)
            steady &= pp_cpu[i][0] >= 0 && pp_cpu[i][0] == pp_cpu[i][1] && pp_cpu[i][1] == pp_cpu[i][2];
        if (!pp_abort && steady && pp_cpu[0][0] != pp_cpu[1][0]) {
            snprintf(why, sizeof why, "%d spin hand-offs between CPU %lld and CPU %lld (attempt %d)", PP_ROUNDS * 2,
                     (long long)pp_cpu[0][0], (long long)pp_cpu[1][0], attempt + 1);
            return true;
        }
        last = pp_abort ? "hand-offs did not finish within 60 s" : !steady ? "a thread migrated" : "same CPU";
    }
    FAIL("two threads never ran at the same time on different CPUs (last attempt: %s; cpus %lld/%lld)", last,
         (long long)pp_cpu[0][1], (long long)pp_cpu[1][1]);
}

/* A process ends while one of its threads is creating another. The kernel attaches the new
 * thread to the process (where an exit's kill reaches it) before thread_create starts it: a
 * kill in between must not leave the thread runnable twice (it ran twice, was reaped twice
 * and the second reap freed the NULL kernel stack: "pmm_free: page 0x800000000000"). */
static uint8_t quick_stack[4096] __attribute__((aligned(16)));

static void quick_exit_entry(void)
{
    lanes_sys_thread_exit();
    for (;;)
        ;
}

static void creator(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t h = lanes_sys_thread_create((const void *)(uintptr_t)quick_exit_entry, quick_stack + sizeof quick_stack - 64, 0);
        if (h >= 0)
            lanes_sys_handle_close((int32_t)h);
    }
}

static int child_create_exit(const char *arg)
{
    lanes_thread_t t;
    if (lanes_thread_start(&t, creator, NULL, 0) != 0)
        return 3;
    /* end at varying points of the creator's loop */
    uint64_t ns = 200000 + (uint64_t)(arg ? atoi(arg) : 0) % 7 * 150000;
    lanes_sys_sleep(ns);
    return 0;
}

static bool t_thread_create_exit(void)
{
    for (int i = 0; i < 40; i++) {
        char arg[12];
        snprintf(arg, sizeof arg, "%d", i);
        int64_t p = spawn_child("create-exit", arg, LANES_HANDLE_NONE, NULL, 0);
        REQUIRE(p >= 0, "spawn %d: %s", i, E(p));
        struct lane_exit_info info;
        bool done = ended((int32_t)p, &info, LANES_SEC(20));
        lanes_sys_handle_close((int32_t)p);
        REQUIRE(done && info.state == LANES_PROC_STATE_EXITED && info.code == 0, "round %d: state %u code %d", i,
                info.state, info.code);
    }
    return true;
}

static bool t_thread_list(void)
{
    static struct lane_thread_record rec[128];
    int64_t n = lanes_sys_thread_list(rec, 128);
    REQUIRE(n > 0, "thread_list: %s", E(n));
    bool found = false;
    for (int64_t i = 0; i < n && i < 128; i++) {
        REQUIRE(rec[i].cpu < sysinfo.ncpus, "thread %u on cpu %u of %u", rec[i].tid, rec[i].cpu, sysinfo.ncpus);
        REQUIRE(rec[i].state <= LANES_THREAD_STATE_DEAD, "thread %u state %u", rec[i].tid, rec[i].state);
        if (rec[i].tid == lanes_startup->tid) {
            found = true;
            REQUIRE(rec[i].pid == lanes_startup->pid, "our thread listed under pid %u", rec[i].pid);
            REQUIRE(rec[i].state == LANES_THREAD_STATE_RUNNING, "we are listed as %s",
                    lanes_thread_state_name(rec[i].state));
            REQUIRE(strncmp(rec[i].name, "usertests", 32) == 0, "our name is \"%.32s\"", rec[i].name);
            REQUIRE(rec[i].cpu_time_ns > 0, "no CPU time accounted to us");
        }
    }
    REQUIRE(found, "our own thread %u is not listed among %lld", lanes_startup->tid, (long long)n);
    int64_t r = lanes_sys_thread_list(rec, 0);
    REQUIRE(r == n || r > 0, "capacity 0 returned %lld", (long long)r);
    return true;
}

/* ---- fault isolation ---- */

static bool expect_fault(const char *prog, const char *arg, uint32_t kind, uint32_t vector, bool check_addr,
                         uint64_t addr)
{
    int64_t sup = lanes_sys_supervisor_create();
    REQUIRE(sup >= 0, "supervisor_create: %s", E(sup));
    int64_t p = spawn_prog(prog, arg, (int32_t)sup);
    if (p < 0) {
        lanes_sys_handle_close((int32_t)sup);
        FAIL("spawn %s: %s", prog, E(p));
    }
    struct lane_notification n;
    memset(&n, 0, sizeof n);
    int64_t r = lanes_sys_supervisor_recv((int32_t)sup, &n, LANES_SEC(30));
    struct lane_exit_info info;
    memset(&info, 0, sizeof info);
    int64_t w = lanes_wait((int32_t)p, &info, LANES_SEC(5));
    reap((int32_t)p);
    lanes_sys_handle_close((int32_t)sup);
    REQUIRE(r == 0, "no notification from the supervisor: %s", E(r));
    char desc[200];
    lanes_describe_notification(&n, desc, sizeof desc);
    REQUIRE(strncmp(n.name, prog, sizeof n.name) == 0, "notification names \"%.32s\", not %s", n.name, prog);
    REQUIRE(n.pid != 0 && n.pid != lanes_startup->pid, "notification pid %u", n.pid);
    REQUIRE(n.kind == LANES_NOTIFY_KIND_FAULTED, "expected a fault, got: %s", desc);
    REQUIRE(n.fault == kind, "expected %s, got: %s", lanes_fault_kind_name(kind), desc);
    REQUIRE(n.vector == vector, "expected vector %u, got: %s", vector, desc);
    REQUIRE(!check_addr || n.fault_addr == addr, "expected address %#llx, got: %s", (unsigned long long)addr, desc);
    REQUIRE(n.rip >= 0x400000 && n.rip < 0x800000, "rip not in the program's text: %s", desc);
    REQUIRE(w == 0 && info.state == LANES_PROC_STATE_FAULTED && info.rip == n.rip && info.fault == kind,
            "process_wait disagrees: r=%s state %u rip %#llx", E(w), info.state, (unsigned long long)info.rip);
    snprintf(why, sizeof why, "%s", desc);
    return true;
}

/* After a fault the system must keep running: a fresh child still runs to completion. */
static bool still_alive(void)
{
    int64_t p = spawn_child("exit", "0", LANES_HANDLE_NONE, NULL, 0);
    REQUIRE(p >= 0, "spawn after the fault: %s", E(p));
    struct lane_exit_info info;
    bool done = ended((int32_t)p, &info, LANES_SEC(20));
    lanes_sys_handle_close((int32_t)p);
    REQUIRE(done && info.state == LANES_PROC_STATE_EXITED && info.code == 0, "a child after the fault: state %u",
            info.state);
    return true;
}

static bool t_fault_null(void)
{
    char keep[256];
    if (!expect_fault("fault-null", NULL, LANES_FAULT_KIND_PAGE, 14, true, 0))
        return false;
    strlcpy(keep, why, sizeof keep);
    if (!still_alive())
        return false;
    strlcpy(why, keep, sizeof why);
    return true;
}

static bool t_fault_ud(void)
{
    return expect_fault("fault-ud", NULL, LANES_FAULT_KIND_UD, 6, false, 0) && still_alive();
}

static bool t_fault_gp(void)
{
    return expect_fault("fault-gp", NULL, LANES_FAULT_KIND_GPF, 13, false, 0) && still_alive();
}

static bool t_fault_gp_hlt(void)
{
    return expect_fault("fault-gp", "hlt", LANES_FAULT_KIND_GPF, 13, false, 0) && still_alive();
}

static bool t_fault_wild(void)
{
    int64_t sup = lanes_sys_supervisor_create();
    REQUIRE(sup >= 0, "supervisor_create: %s", E(sup));
    int64_t p = spawn_prog("fault-wild", NULL, (int32_t)sup);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    struct lane_notification n;
    memset(&n, 0, sizeof n);
    int64_t r = lanes_sys_supervisor_recv((int32_t)sup, &n, LANES_SEC(60));
    reap((int32_t)p);
    lanes_sys_handle_close((int32_t)sup);
    REQUIRE(r == 0, "no notification: %s", E(r));
    char desc[200];
    lanes_describe_notification(&n, desc, sizeof desc);
    REQUIRE(n.kind == LANES_NOTIFY_KIND_EXITED, "fault-wild did not exit normally: %s", desc);
    REQUIRE(n.code == 0, "%d wild calls succeeded (see fault-wild's output)", n.code);
    return still_alive();
}

/* supervisor_recv checks its buffer before it waits, but another thread may unmap the buffer
 * while it waits: the notification it dequeued must not be lost when the final copy faults. A
 * thread waits with its buffer in a page of its own; we unmap that page, then let a supervised
 * child exit. The waiter gets FAULT; a second receive with a good buffer gets the notification. */
struct recv_unmapped { int32_t sup; struct lane_notification *buf; int64_t r; };

static void recv_into_unmapped(void *arg)
{
    struct recv_unmapped *ru = arg;
    ru->r = lanes_sys_supervisor_recv(ru->sup, ru->buf, LANES_SEC(30));
}

static bool t_supervisor_recv_fault(void)
{
    int64_t sup = lanes_sys_supervisor_create();
    REQUIRE(sup >= 0, "supervisor_create: %s", E(sup));
    int64_t page = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, LANES_PAGE_SIZE,
                                     LANES_PROT_READ | LANES_PROT_WRITE);
    REQUIRE(page > 0, "mem_map: %s", E(page));
    struct recv_unmapped ru = { (int32_t)sup, (struct lane_notification *)(uintptr_t)page, 1 };
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, recv_into_unmapped, &ru, 0) == 0, "thread start");
    lanes_sys_sleep(LANES_MS(50));              /* let it block in the kernel (either order passes) */
    int64_t r = lanes_sys_mem_unmap((void *)(uintptr_t)page, LANES_PAGE_SIZE);
    REQUIRE(r == 0, "mem_unmap: %s", E(r));
    int64_t p = spawn_child("exit", "7", (int32_t)sup, NULL, 0);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    REQUIRE(lanes_thread_join(&t, LANES_SEC(60)) == 0, "the receiving thread did not end");
    struct lane_notification n;
    memset(&n, 0, sizeof n);
    int64_t r2 = lanes_sys_supervisor_recv((int32_t)sup, &n, LANES_SEC(30));
    reap((int32_t)p);
    lanes_sys_handle_close((int32_t)sup);
    REQUIRE(ru.r == LANES_E_FAULT, "receive into the unmapped page returned %lld (%s), not FAULT", (long long)ru.r,
            E(ru.r));
    REQUIRE(r2 == 0, "the notification was lost: the next receive returned %s", E(r2));
    REQUIRE(n.kind == LANES_NOTIFY_KIND_EXITED && n.code == 7, "got kind %u code %d, not the child's exit 7", n.kind,
            n.code);
    return true;
}

/* ---- I/O ports ---- */

static bool t_ioport_driver(void)
{
    int64_t sup = lanes_sys_supervisor_create();
    int64_t p = spawn_prog("cmos-rtc", NULL, (int32_t)sup);
    REQUIRE(p >= 0, "spawn cmos-rtc: %s", E(p));
    struct lane_exit_info info;
    bool done = ended((int32_t)p, &info, LANES_SEC(20));
    reap((int32_t)p);
    lanes_sys_handle_close((int32_t)sup);
    char desc[200];
    lanes_describe_exit(&info, desc, sizeof desc);
    REQUIRE(done && info.state == LANES_PROC_STATE_EXITED && info.code == 0, "cmos-rtc %s", desc);
    return true;
}

static bool t_ioport_undeclared(void)
{
    return expect_fault("fault-io", NULL, LANES_FAULT_KIND_GPF, 13, false, 0) && still_alive();
}

static bool t_ioport_not_enabled(void)
{
    return expect_fault("fault-io", "noenable", LANES_FAULT_KIND_GPF, 13, false, 0);
}

static bool t_ioport_caps(void)
{
    REQUIRE(system_cap != LANES_HANDLE_NONE, "no system capability");
    int64_t io = lanes_sys_ioport_create(system_cap, 0x70, 2);
    REQUIRE(io >= 0, "ioport_create: %s", E(io));
    struct lane_handle_info hi;
    REQUIRE(lanes_sys_handle_info((int32_t)io, &hi) == 0 && hi.type == LANES_OBJ_IOPORT, "type %u", hi.type);
    int64_t weak = lanes_sys_handle_dup((int32_t)io, LANES_RIGHT_READ | LANES_RIGHT_DUP);
    int64_t r = lanes_sys_ioport_enable((int32_t)weak);
    lanes_sys_handle_close((int32_t)weak);
    lanes_sys_handle_close((int32_t)io);
    REQUIRE(r == LANES_E_ACCESS, "ioport_enable without CONTROL returned %lld (%s)", (long long)r, E(r));
    r = lanes_sys_ioport_create(system_cap, 0xfff0, 0x20);
    REQUIRE(r < 0, "ioport range past 0xffff was granted");
    r = lanes_sys_ioport_create(system_cap, 0x70, 0);
    REQUIRE(r < 0, "empty ioport range was granted");
    int64_t sysweak = lanes_sys_handle_dup(system_cap, LANES_RIGHT_READ);
    r = lanes_sys_ioport_create((int32_t)sysweak, 0x70, 2);
    lanes_sys_handle_close((int32_t)sysweak);
    REQUIRE(r == LANES_E_ACCESS, "ioport_create from a system handle without CONTROL returned %lld (%s)",
            (long long)r, E(r));
    r = lanes_sys_irq_create(system_cap, 200);
    REQUIRE(r < 0, "irq 200 was granted");
    int64_t irq = lanes_sys_irq_create(system_cap, 7);
    REQUIRE(irq >= 0, "irq_create(7): %s", E(irq));
    r = lanes_sys_irq_wait((int32_t)irq, LANES_MS(5));
    lanes_sys_handle_close((int32_t)irq);
    REQUIRE(r >= 0 || r == LANES_E_TIMEOUT, "irq_wait: %s", E(r));
    return true;
}

/* mmio_create (generic/mmio.c): a device's physical range as a MEMORY capability. Bad input
 * gets its error and never reaches RAM or the kernel's own devices; a good range maps uncached
 * and reads the device (here the BIOS flash at the top of 4 GiB, whose reset vector is a far
 * jump, 0xea, on SeaBIOS). */
static bool t_mmio_caps(void)
{
    REQUIRE(system_cap != LANES_HANDLE_NONE, "no system capability");
    static const struct { uint64_t base, len; int64_t want; const char *what; } bad[] = {
        { 0xfffff000, 0, LANES_E_INVAL, "an empty range" },
        { 0xfffff800, 0x1000, LANES_E_INVAL, "an unaligned base" },
        { 0xfffff000, 0x800, LANES_E_INVAL, "an unaligned length" },
        { 0xfffffffffffff000ull, 0x2000, LANES_E_INVAL, "a range that wraps" },
        { 1ull << 60, 0x1000, LANES_E_RANGE, "a range beyond the physical address width" },
        { 0, 0x1000, LANES_E_RANGE, "page 0 (RAM)" },
        { 0x100000, 0x1000, LANES_E_RANGE, "RAM at 1 MiB" },
        { 0, 0x100000000ull, LANES_E_RANGE, "the first 4 GiB (RAM, the BIOS flash)" },
        { 0xfee00000, 0x1000, LANES_E_BUSY, "the local APIC" },
        { 0xfec00000, 0x1000, LANES_E_BUSY, "the IOAPIC" },
        { 0xfe000000, 0x1000000, LANES_E_BUSY, "16 MiB covering the IOAPIC and local APIC" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t r = lanes_sys_mmio_create(system_cap, bad[i].base, bad[i].len);
        if (r >= 0)
            lanes_sys_handle_close((int32_t)r);
        REQUIRE(r == bad[i].want, "mmio_create(%s: 0x%llx+0x%llx) returned %lld (%s), expected %s", bad[i].what,
                (unsigned long long)bad[i].base, (unsigned long long)bad[i].len, (long long)r, E(r), E(bad[i].want));
    }
    int64_t mem = lanes_sys_mem_create(4096, 0);
    REQUIRE(mem >= 0, "mem_create: %s", E(mem));
    int64_t r = lanes_sys_mmio_create((int32_t)mem, 0xfffff000, 0x1000);
    lanes_sys_handle_close((int32_t)mem);
    REQUIRE(r == LANES_E_TYPE, "mmio_create(memory, ...) returned %lld (%s)", (long long)r, E(r));
    int64_t sysweak = lanes_sys_handle_dup(system_cap, LANES_RIGHT_READ);
    r = lanes_sys_mmio_create((int32_t)sysweak, 0xfffff000, 0x1000);
    lanes_sys_handle_close((int32_t)sysweak);
    REQUIRE(r == LANES_E_ACCESS, "mmio_create from a system handle without CONTROL returned %lld (%s)", (long long)r, E(r));

    int64_t h = lanes_sys_mmio_create(system_cap, 0xfffff000, 0x1000);
    REQUIRE(h >= 0, "mmio_create(BIOS flash page 0xfffff000): %s", E(h));
    struct lane_handle_info hi;
    REQUIRE(lanes_sys_handle_info((int32_t)h, &hi) == 0 && hi.type == LANES_OBJ_MEMORY && hi.size == 4096,
            "handle_info: type %u size %llu", hi.type, (unsigned long long)hi.size);
    r = lanes_sys_mem_map((int32_t)h, 0, 0, 4096, LANES_PROT_READ | LANES_PROT_EXEC);
    REQUIRE(r == LANES_E_INVAL, "mapping device memory executable returned %lld (%s)", (long long)r, E(r));
    int64_t a = lanes_sys_mem_map((int32_t)h, 0, 0, 4096, LANES_PROT_READ);
    REQUIRE(a > 0, "mem_map(mmio): %s", E(a));
    volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)a;
    uint8_t op = p[0xff0];
    /* IPC never copies device memory through the direct map: a send from it fails FAULT */
    int32_t l[2];
    struct lanes_queue q;
    REQUIRE(lanes_stream(l) == 0 && lanes_queue_init(&q, 8) == 0, "stream, queue");
    static uint8_t sink[4096];
    struct lanes_acts rb, sb;
    lanes_acts_init(&rb);
    lanes_acts_recv_buffer(&rb, sink, sizeof sink);
    lanes_acts_init(&sb);
    lanes_acts_send(&sb, (const void *)(uintptr_t)a, 4096);
    struct lane_ipc_completion c[2];
    int64_t rr = lanes_ipc_submit(&q, l[1], &rb, 1);
    int64_t sr = lanes_ipc_submit(&q, l[0], &sb, 2);
    int64_t n1 = lanes_queue_next(&q, &c[0], LANES_SEC(5));
    int64_t n2 = lanes_queue_next(&q, &c[1], LANES_SEC(5));
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    lanes_queue_close(&q);
    REQUIRE(rr == 0 && sr == 0 && n1 >= 0 && n2 >= 0, "submit %s / %s, completions %s / %s", E(rr), E(sr), E(n1), E(n2));
    const struct lane_ipc_completion *snd = c[0].tag == 2 ? &c[0] : &c[1];
    REQUIRE(snd->status == LANES_E_FAULT, "an IPC send from device memory completed %lld (%s), want FAULT",
            (long long)snd->status, E(snd->status));
    r = lanes_sys_mem_protect((void *)(uintptr_t)a, 4096, LANES_PROT_READ | LANES_PROT_EXEC);
    REQUIRE(r == LANES_E_INVAL, "mem_protect(device memory, EXEC) returned %lld (%s)", (long long)r, E(r));
    lanes_sys_mem_unmap((void *)(uintptr_t)a, 4096);
    r = lanes_sys_mem_map((int32_t)h, 0, 0x1000, 4096, LANES_PROT_READ);
    lanes_sys_handle_close((int32_t)h);
    REQUIRE(r == LANES_E_RANGE, "mapping past the range's end returned %lld (%s)", (long long)r, E(r));
    REQUIRE(op == 0xea, "the BIOS reset vector at 0xfffffff0 reads 0x%02x, expected a far jump (0xea)", op);
    return true;
}

/* ---- libc in the guest ---- */

static bool t_malloc(void)
{
    enum { N = 200 };
    static unsigned char *p[N];
    static size_t sz[N];
    unsigned seed = 99;
    for (int step = 0; step < 5000; step++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 8) % N);
        if (p[i]) {
            for (size_t k = 0; k < sz[i]; k++)
                REQUIRE(p[i][k] == (unsigned char)(i + k), "block %d corrupted at +%zu", i, k);
            free(p[i]);
            p[i] = NULL;
        } else {
            sz[i] = (seed >> 12) % ((seed & 0x10) ? 70000 : 300);
            p[i] = malloc(sz[i]);
            REQUIRE(p[i] != NULL, "malloc(%zu) failed", sz[i]);
            REQUIRE(((uintptr_t)p[i] & 15) == 0, "misaligned %p", (void *)p[i]);
            for (size_t k = 0; k < sz[i]; k++)
                p[i][k] = (unsigned char)(i + k);
        }
    }
    for (int i = 0; i < N; i++) {
        free(p[i]);
        p[i] = NULL;
    }
    char *s = calloc(100, 10);
    REQUIRE(s && s[999] == 0, "calloc");
    s = realloc(s, 5000);
    REQUIRE(s && s[999] == 0, "realloc keeps contents");
    free(s);
    char buf[64];
    snprintf(buf, sizeof buf, "%d|%5.2x|%-4s|%llx|%p", -3, 0xa, "ab", 0x1234567890ull, (void *)0x10);
    REQUIRE(strcmp(buf, "-3|   0a|ab  |1234567890|0x10") == 0, "snprintf gave \"%s\"", buf);
    return true;
}

/* ---- the table ---- */

static const struct lanes_test tests[] = {
    { "null-syscall", t_null },
    { "syscall-int80", t_int80 },
    { "ids", t_ids },
    { "cpu-id-fast", t_cpu_id_fast },
    { "sysinfo", t_sysinfo },
    { "console", t_console },
    { "bad-pointers", t_bad_pointers },
    { "handle-rights", t_handle_rights },
    { "handle-close", t_handle_close },
    { "handle-type", t_handle_type },
    { "handle-table-full", t_handle_table_full },
    { "spawn-table-full", t_spawn_table_full },
    { "mem-anon", t_mem_anon },
    { "mem-object", t_mem_object },
    { "mem-shared", t_mem_shared_reply },
    { "exit-code", t_exit_code },
    { "spawn-bad", t_spawn_bad },
    { "kill", t_kill },
    { "threads", t_threads },
    { "mutex", t_mutex },
    { "thread-wait", t_thread_wait },
    { "futex", t_futex },
    { "clock-sleep", t_clock },
    { "interrupt", t_interrupt },
    { "smp-parallel", t_smp_parallel },
    { "thread-list", t_thread_list },
    { "thread-create-exit", t_thread_create_exit },
    { "fault-null", t_fault_null },
    { "fault-ud", t_fault_ud },
    { "fault-gp", t_fault_gp },
    { "fault-gp-hlt", t_fault_gp_hlt },
    { "fault-wild", t_fault_wild },
    { "supervisor-recv-fault", t_supervisor_recv_fault },
    { "ioport-driver", t_ioport_driver },
    { "ioport-undeclared", t_ioport_undeclared },
    { "ioport-not-enabled", t_ioport_not_enabled },
    { "ioport-caps", t_ioport_caps },
    { "mmio-caps", t_mmio_caps },
    { "malloc-printf", t_malloc },
    { "alert-runs-target-first", t_alert_runs_target_first },
};
#define NTESTS (sizeof tests / sizeof *tests)

static struct lanes_tests results;

static void report(const char *name, bool ok)
{
    lanes_test_report(&results, name, ok);
}

static void run_ktests(int argc, char **argv)
{
    if (!lanes_test_selected("ktest", argc, argv))
        return;
    if (system_cap == LANES_HANDLE_NONE) {
        why[0] = 0;
        snprintf(why, sizeof why, "no system capability: cannot run kernel self-tests");
        report("ktest", false);
        return;
    }
    for (uint32_t i = 0; i < 1000; i++) {
        struct lane_ktest_result res;
        memset(&res, 0, sizeof res);
        int64_t r = lanes_sys_ktest(system_cap, i, &res);
        if (r == LANES_E_RANGE) {
            if (i == 0) {
                snprintf(why, sizeof why, "the kernel has no self-tests");
                report("ktest", false);
            }
            return;
        }
        char name[64];
        snprintf(name, sizeof name, "ktest:%.32s", res.name[0] ? res.name : "?");
        if (r < 0) {
            snprintf(why, sizeof why, "sys_ktest(%u): %s", i, E(r));
            report(name, false);
            continue;
        }
        snprintf(why, sizeof why, "%.96s", res.message);
        if (res.passed && strcmp(why, "ok") == 0)
            why[0] = 0;
        report(name, res.passed != 0);
    }
}

static int child_main(int argc, char **argv)
{
    if (argc < 3)
        return 100;
    if (strcmp(argv[2], "exit") == 0)
        return argc > 3 ? atoi(argv[3]) : 0;
    if (strcmp(argv[2], "mem") == 0)
        return child_mem();
    if (strcmp(argv[2], "create-exit") == 0)
        return child_create_exit(argc > 3 ? argv[3] : NULL);
    if (strcmp(argv[2], "spin") == 0) {
        for (;;)
            lanes_sys_sleep(LANES_MS(50));
    }
    return 101;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--child") == 0)
        return child_main(argc, argv);
    system_cap = lanes_handle_by_tag("system");
    lanes_sys_sysinfo(&sysinfo);
    printf("usertests: the kernel's self-tests, then %u user tests, on %u CPUs\n", (unsigned)NTESTS, sysinfo.ncpus);
    run_ktests(argc, argv);
    lanes_test_table(&results, tests, NTESTS, argc, argv, NULL);
    return lanes_test_summary(&results, "usertests", argc);
}
