/* bench — micro-benchmarks of the kernel's hot paths, printed as one JSON line.
 *
 *   null syscall      N x sys_null: ns (sys_clock) and cycles (rdtsc) per round trip
 *   context switch    two threads hand a futex word back and forth (wait/wake); one round
 *                     trip is two switches, reported per switch
 * Output: "BENCH-JSON {...}" (tools/os-bench parses it) and a short table.
 * Usage: bench [null-iterations [switch-rounds]]
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>

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

    for (int i = 0; i < 1000; i++)
        lanes_sys_null();
    uint64_t t0 = lanes_now_ns(), c0 = lanes_rdtsc();
    for (uint64_t i = 0; i < n; i++)
        lanes_sys_null();
    uint64_t c1 = lanes_rdtsc(), t1 = lanes_now_ns();
    uint64_t null_ns10 = t1 - t0, null_cyc = c1 - c0;

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

    char nns[32], ncy[32], sns[32], scy[32];
    fixed1(nns, sizeof nns, null_ns10, n);
    fixed1(ncy, sizeof ncy, null_cyc, n);
    fixed1(sns, sizeof sns, s1 - s0, rounds * 2);
    fixed1(scy, sizeof scy, sc1 - sc0, rounds * 2);
    printf("BENCH-JSON {\"ncpus\": %u, \"tsc_hz\": %llu, \"null_syscall_iterations\": %llu, "
           "\"null_syscall_ns\": %s, \"null_syscall_cycles\": %s, \"ctx_switch_rounds\": %llu, "
           "\"ctx_switch_ns\": %s, \"ctx_switch_cycles\": %s}\n",
           si.ncpus, (unsigned long long)si.tsc_hz, (unsigned long long)n, nns, ncy, (unsigned long long)rounds, sns,
           scy);
    printf("%-28s %12s %12s\n", "benchmark", "ns", "cycles");
    printf("%-28s %12s %12s\n", "null syscall round trip", nns, ncy);
    printf("%-28s %12s %12s\n", "context switch (futex)", sns, scy);
    return 0;
}
