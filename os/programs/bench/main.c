/* bench — micro-benchmarks of the kernel's hot paths, printed as one JSON line.
 *
 *   null syscall      N x sys_null: ns (sys_clock) and cycles (rdtsc) per round trip, through
 *                     libc's stub, and through each kernel entry explicitly: the `syscall`
 *                     instruction and `int $0x80` (kernel/arch/x86_64/entry.S)
 *   cpuid             N x cpuid leaf 0: the cost of one unconditional exit to the hypervisor
 *                     (under TCG just an emulated instruction)
 *   kernel operations sys_kperf: cycles of single machine operations in the kernel (cli/sti,
 *                     spin lock, CR3 load, LAPIC write, IPI, rep stosb/stosq, ...) — where the
 *                     time of a system call goes on this CPU or hypervisor
 *   context switch    two threads hand a futex word back and forth (wait/wake); one round
 *                     trip is two switches, reported per switch
 * Output: "BENCH-JSON {...}" (tools/os-bench parses it) and a short table.
 * Usage: bench [null-iterations [switch-rounds]]
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>

LANES_MANIFEST("system");     /* sys_kperf (machine operation costs) */

/* Indexed by enum kperf_probe (os/abi/kernel.toml). */
static const char *probe_names[] = {
    "loop", "cli_sti", "spinlock", "cr3_reload", "lapic_write", "wrmsr_fs", "swapgs_x2", "fxsave_fxrstor",
    "rdtsc", "iretq", "pushf", "self_ipi", "lock_xadd", "pushcli_popcli", "rep_stosb_2k", "rep_stosq_2k",
};

static volatile uint32_t word;
static volatile int stop;
static uint64_t rounds;

static void partner(void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < rounds; i++) {
        while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 1)
            lanes_sys_futex_wait((const void *)&word, 0, LANES_TIMEOUT_INFINITE);
        __atomic_store_n(&word, 0, __ATOMIC_RELEASE);
        lanes_sys_futex_wake((const void *)&word, 1);
    }
}

static inline int64_t null_via_syscall(void)
{
    int64_t r;
    __asm__ volatile("syscall" : "=a"(r) : "a"((uint64_t)LANES_SYS_NULL) : "rcx", "r11", "memory");
    return r;
}

static inline int64_t null_via_int80(void)
{
    int64_t r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"((uint64_t)LANES_SYS_NULL) : "rcx", "r11", "memory");
    return r;
}

static inline void cpuid0(void)
{
    uint32_t a = 0, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) :: "memory");
}

/* Runs op n times; ns and cycles in total. */
#define TIME(n, op, ns, cyc)                                           \
    do {                                                               \
        for (int w_ = 0; w_ < 100; w_++)                               \
            op;                                                        \
        uint64_t t0_ = lanes_now_ns(), c0_ = lanes_rdtsc();            \
        for (uint64_t i_ = 0; i_ < (n); i_++)                          \
            op;                                                        \
        cyc = lanes_rdtsc() - c0_;                                     \
        ns = lanes_now_ns() - t0_;                                     \
    } while (0)

/* Prints x/den with one decimal. */
static void fixed1(char *buf, size_t n, uint64_t x, uint64_t den)
{
    uint64_t t = den ? (x * 10 + den / 2) / den : 0;
    snprintf(buf, n, "%llu.%llu", (unsigned long long)(t / 10), (unsigned long long)(t % 10));
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
    rounds = argc > 2 ? strtoull(argv[2], NULL, 0) : 20000;
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);

    uint64_t null_ns10, null_cyc, sc_ns, sc_cyc, i80_ns, i80_cyc, cpuid_ns, cpuid_cyc;
    TIME(n, lanes_sys_null(), null_ns10, null_cyc);
    TIME(n, null_via_syscall(), sc_ns, sc_cyc);
    TIME(n, null_via_int80(), i80_ns, i80_cyc);
    TIME(n, cpuid0(), cpuid_ns, cpuid_cyc);

    word = 0;
    lanes_thread_t t;
    int64_t r = lanes_thread_start(&t, partner, NULL, 0);
    if (r < 0) {
        printf("bench: thread_start: %s\n", lanes_strerror(r));
        return 1;
    }
    uint64_t s0 = lanes_now_ns(), sc0 = lanes_rdtsc();
    for (uint64_t i = 0; i < rounds; i++) {
        __atomic_store_n(&word, 1, __ATOMIC_RELEASE);
        lanes_sys_futex_wake((const void *)&word, 1);
        while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 0)
            lanes_sys_futex_wait((const void *)&word, 1, LANES_TIMEOUT_INFINITE);
    }
    uint64_t sc1 = lanes_rdtsc(), s1 = lanes_now_ns();
    lanes_thread_join(&t, LANES_SEC(30));

    char nns[32], ncy[32], sns[32], scy[32], a[32], b[32], c[32], d[32], e[32], f[32];
    fixed1(nns, sizeof nns, null_ns10, n);
    fixed1(ncy, sizeof ncy, null_cyc, n);
    fixed1(a, sizeof a, sc_ns, n);
    fixed1(b, sizeof b, sc_cyc, n);
    fixed1(c, sizeof c, i80_ns, n);
    fixed1(d, sizeof d, i80_cyc, n);
    fixed1(e, sizeof e, cpuid_ns, n);
    fixed1(f, sizeof f, cpuid_cyc, n);
    fixed1(sns, sizeof sns, s1 - s0, rounds * 2);
    fixed1(scy, sizeof scy, sc1 - sc0, rounds * 2);
    /* What single machine operations cost here, in the kernel (needs the system handle). */
    char kp[1024] = "";
    int32_t sys = lanes_handle_by_tag("system");
    for (uint32_t p = 0, len = 0; sys >= 0 && p <= LANES_KPERF_PROBE_STOSQ_2K; p++) {
        uint64_t pn = n < 1000 ? n : 1000;
        int64_t cyc = lanes_sys_kperf(sys, p, pn);
        char v[32];
        fixed1(v, sizeof v, cyc < 0 ? 0 : (uint64_t)cyc, pn);
        len += (uint32_t)snprintf(kp + len, sizeof kp - len, "%s\"%s\": %s", p ? ", " : "", probe_names[p], v);
        if (len >= sizeof kp)
            break;
    }
    printf("BENCH-JSON {\"ncpus\": %u, \"tsc_hz\": %llu, \"null_syscall_iterations\": %llu, "
           "\"null_syscall_ns\": %s, \"null_syscall_cycles\": %s, \"ctx_switch_rounds\": %llu, "
           "\"ctx_switch_ns\": %s, \"ctx_switch_cycles\": %s, \"syscall_insn_ns\": %s, \"syscall_insn_cycles\": %s, "
           "\"int80_ns\": %s, \"int80_cycles\": %s, \"cpuid_ns\": %s, \"cpuid_cycles\": %s, \"kperf_cycles\": {%s}}\n",
           si.ncpus, (unsigned long long)si.tsc_hz, (unsigned long long)n, nns, ncy, (unsigned long long)rounds, sns,
           scy, a, b, c, d, e, f, kp);
    printf("%-28s %12s %12s\n", "benchmark", "ns", "cycles");
    printf("%-28s %12s %12s\n", "null syscall round trip", nns, ncy);
    printf("%-28s %12s %12s\n", "  through `syscall`", a, b);
    printf("%-28s %12s %12s\n", "  through `int $0x80`", c, d);
    printf("%-28s %12s %12s\n", "cpuid (hypervisor exit)", e, f);
    printf("%-28s %12s %12s\n", "context switch (futex)", sns, scy);
    if (kp[0])
        printf("kernel operations (sys_kperf, cycles each): %s\n", kp);
    return 0;
}
