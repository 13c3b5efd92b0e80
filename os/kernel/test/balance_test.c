/*
 * balance_test.c — host test of the load balancer's arithmetic (generic/balance_math.c, the
 * same source the kernel runs): load accounting and decay, and balance_plan's decisions.
 * Built and run by `make -C os test-host`; prints one line per check, exits 1 on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kernel/balance.h>

static int failed, passed;
#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; printf("FAILED %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)
#define S 1000000000ull
#define MS 1000000ull

static void test_load(void)
{
    struct load_acct a = { 0 };
    CHECK(load_value(&a) == 0, "no history: load 0, got %u", load_value(&a));
    load_advance(&a, 5 * MS, true, LOAD_DECAY_DEFAULT);
    CHECK(load_value(&a) == LOAD_ONE, "always runnable: %u", load_value(&a));
    /* runnable 1 s, then blocked 1 s: the runnable second was decayed once more */
    struct load_acct b = { 0 };
    load_advance(&b, S, true, LOAD_DECAY_DEFAULT);
    load_advance(&b, 2 * S, false, LOAD_DECAY_DEFAULT);
    /* run = 1s·184/256·184/256, blk = 1s·184/256 → load = 1024·0.71875/(1.71875) ≈ 428 */
    CHECK(load_value(&b) >= 420 && load_value(&b) <= 435, "1 s busy then 1 s blocked: %u", load_value(&b));
    /* a 10 % duty cycle (1 ms in 10 ms) converges near 102 */
    struct load_acct d = { 0 };
    uint64_t t = 0;
    for (int i = 0; i < 1000; i++) {
        t += MS;
        load_advance(&d, t, true, LOAD_DECAY_DEFAULT);
        t += 9 * MS;
        load_advance(&d, t, false, LOAD_DECAY_DEFAULT);
    }
    CHECK(load_value(&d) >= 95 && load_value(&d) <= 110, "10%% duty cycle: %u", load_value(&d));
    /* a thread blocked for a long time decays to zero load (then the balancer skips it) */
    struct load_acct z = { 0 };
    load_advance(&z, S, true, LOAD_DECAY_DEFAULT);
    load_advance(&z, 200 * S, false, LOAD_DECAY_DEFAULT);
    CHECK(load_value(&z) == 0, "blocked 199 s after 1 s busy: %u", load_value(&z));
    /* half-life ≈ 2.1 s: a thread busy forever, then blocked: below half after 3 s, above after 1 s */
    struct load_acct h = { 0 };
    load_advance(&h, 60 * S, true, LOAD_DECAY_DEFAULT);
    struct load_acct h1 = h, h3 = h;
    load_advance(&h1, 61 * S, false, LOAD_DECAY_DEFAULT);
    load_advance(&h3, 63 * S, false, LOAD_DECAY_DEFAULT);
    CHECK(load_value(&h1) > 512 && load_value(&h3) < 512, "after 1 s blocked %u, after 3 s %u", load_value(&h1), load_value(&h3));
    /* a huge gap does not loop for ever and lands on the fixed point */
    struct load_acct g = { 0 };
    load_advance(&g, S / 2, false, LOAD_DECAY_DEFAULT);
    load_advance(&g, 100000 * S, true, LOAD_DECAY_DEFAULT);
    CHECK(load_value(&g) == LOAD_ONE, "busy for a day after blocking: %u", load_value(&g));
    /* time going backwards changes nothing */
    struct load_acct r = b;
    load_advance(&r, S, true, LOAD_DECAY_DEFAULT);
    CHECK(r.run_ns == b.run_ns && r.blk_ns == b.blk_ns, "stamp in the past ignored");
}

static void test_plan(void)
{
    /* 8 busy threads on CPU 0 of 4: one round spreads them 2/2/2/2 */
    struct bal_thread th[16];
    struct bal_move mv[16];
    uint32_t load[4] = { 8 * 1024, 0, 0, 0 }, ideal;
    for (int i = 0; i < 8; i++)
        th[i] = (struct bal_thread){ .cpu = 0, .load = 1024, .allowed = ~0ull };
    uint32_t n = balance_plan(4, 0xf, load, th, 8, mv, 16, &ideal);
    CHECK(ideal == 2048, "ideal %u", ideal);
    CHECK(n == 6, "6 moves, got %u", n);
    CHECK(load[0] == 2048 && load[1] == 2048 && load[2] == 2048 && load[3] == 2048,
          "after: %u %u %u %u", load[0], load[1], load[2], load[3]);
    CHECK(mv[0].from == 0 && mv[0].load_from == 8192 && mv[0].load_to == 0 && mv[0].thread_load == 1024,
          "first move from 0 with loads 8192/0");
    /* balanced already: no move */
    uint32_t l2[4] = { 2048, 2048, 2048, 2048 };
    CHECK(balance_plan(4, 0xf, l2, th, 8, mv, 16, &ideal) == 0, "balanced: no move");
    /* a zero-load thread never moves */
    struct bal_thread zt[2] = { { 0, 0, ~0ull }, { 0, 0, ~0ull } };
    uint32_t l3[2] = { 0, 0 };
    CHECK(balance_plan(2, 3, l3, zt, 2, mv, 16, &ideal) == 0, "zero-load threads stay");
    /* affinity: threads allowed only on CPUs 0 and 2 never go to 1 or 3 */
    uint32_t l4[4] = { 4096, 0, 0, 0 };
    for (int i = 0; i < 4; i++)
        th[i] = (struct bal_thread){ .cpu = 0, .load = 1024, .allowed = 0x5 };
    n = balance_plan(4, 0xf, l4, th, 4, mv, 16, &ideal);
    int bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad += mv[i].to != 2;
    CHECK(n >= 1 && bad == 0 && l4[1] == 0 && l4[3] == 0, "affinity 0x5: %u moves, %d to a forbidden CPU", n, bad);
    /* a light thread between two almost equal CPUs is not moved (the max would not go down) */
    struct bal_thread lt[3] = { { 0, 1024, ~0ull }, { 0, 100, ~0ull }, { 1, 1024, ~0ull } };
    uint32_t l5[2] = { 1124, 1024 };
    CHECK(balance_plan(2, 3, l5, lt, 3, mv, 16, &ideal) == 0, "10%% thread not dragged: %u moves", 0u);
    /* offline CPUs are neither targets nor sources */
    uint32_t l6[3] = { 2048, 0, 0 };
    for (int i = 0; i < 2; i++)
        th[i] = (struct bal_thread){ .cpu = 0, .load = 1024, .allowed = ~0ull };
    n = balance_plan(3, 0x3, l6, th, 2, mv, 16, &ideal);
    CHECK(n == 1 && mv[0].to == 1 && l6[2] == 0, "offline CPU 2 untouched: %u moves", n);
    /* max_moves bounds the plan */
    uint32_t l7[4] = { 8 * 1024, 0, 0, 0 };
    for (int i = 0; i < 8; i++)
        th[i] = (struct bal_thread){ .cpu = 0, .load = 1024, .allowed = ~0ull };
    CHECK(balance_plan(4, 0xf, l7, th, 8, mv, 2, &ideal) == 2, "max_moves 2");
    /* least loaded allowed CPU */
    uint32_t l8[4] = { 10, 5, 1, 1 };
    CHECK(balance_least_loaded(4, 0xf, l8) == 2, "least loaded: 2");
    CHECK(balance_least_loaded(4, 0x3, l8) == 1, "least loaded of 0,1: 1");
    CHECK(balance_least_loaded(4, 0, l8) == -1, "none allowed: -1");
}

int main(void)
{
    test_load();
    test_plan();
    printf("balance_test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
