/*
 * balance_math.c — the load balancer's arithmetic: per-thread load accounting with decay and
 * the plan of one balance round (see kernel/balance.h for the rules, Managarm's).
 *
 * Kept free of kernel state so that the host test (os/kernel/test/balance_test.c) compiles
 * this very file. balance.c calls it under the run-queue locks.
 */
#include <kernel/balance.h>
#include <kernel/hot.h>

#define BAL_MAX_THREADS 1024

static void load_add(struct load_acct *a, uint64_t dt, bool runnable)
{
    if (runnable)
        a->run_ns += dt;
    else
        a->blk_ns += dt;
}

HOT void load_advance(struct load_acct *a, uint64_t now, bool runnable, uint32_t decay)
{
    if (now <= a->stamp)
        return;
    if (decay > 255)
        decay = 255;
    uint64_t t = a->stamp;
    uint64_t boundary = (t / LOAD_PERIOD_NS + 1) * LOAD_PERIOD_NS;
    uint32_t periods = 0;
    while (boundary <= now) {
        if (++periods > 4096) {
            /* After 4096 periods the other counter has decayed to nothing (even at 255/256)
             * and this one sits at its fixed point x = (x + P)·d/256, i.e. P·d/(256 − d). */
            uint64_t fixed = LOAD_PERIOD_NS * decay / (256 - decay);
            a->run_ns = runnable ? fixed : 0;
            a->blk_ns = runnable ? 0 : fixed;
            t = now / LOAD_PERIOD_NS * LOAD_PERIOD_NS;
            break;
        }
        load_add(a, boundary - t, runnable);
        a->run_ns = a->run_ns * decay / 256;
        a->blk_ns = a->blk_ns * decay / 256;
        t = boundary;
        boundary += LOAD_PERIOD_NS;
    }
    load_add(a, now - t, runnable);
    a->stamp = now;
}

uint32_t load_value(const struct load_acct *a)
{
    uint64_t total = a->run_ns + a->blk_ns;
    if (!total)
        return 0;
    return (uint32_t)((a->run_ns * LOAD_ONE + total / 2) / total);
}

int balance_least_loaded(uint32_t ncpus, uint64_t allowed, const uint32_t *load)
{
    int best = -1;
    for (uint32_t c = 0; c < ncpus && c < 64; c++)
        if ((allowed >> c & 1) && (best < 0 || load[c] < load[best]))
            best = (int)c;
    return best;
}

uint32_t balance_plan(uint32_t ncpus, uint64_t online, uint32_t *load, const struct bal_thread *th,
                      uint32_t nth, struct bal_move *moves, uint32_t max_moves, uint32_t *ideal)
{
    if (ncpus > 64)
        ncpus = 64;
    if (nth > BAL_MAX_THREADS)
        nth = BAL_MAX_THREADS;
    uint64_t total = 0;
    uint32_t n = 0;
    for (uint32_t c = 0; c < ncpus; c++)
        if (online >> c & 1) {
            total += load[c];
            n++;
        }
    *ideal = n ? (uint32_t)(total / n) : 0;
    if (n < 2)
        return 0;
    uint32_t idl = *ideal;
    uint64_t moved[BAL_MAX_THREADS / 64] = { 0 };
    uint32_t nm = 0;
    while (nm < max_moves) {
        /* The move that lowers the larger load of its pair the most: under-loaded target u,
         * over-loaded source o, a thread on o that may run on u and has a load. */
        uint32_t best = UINT32_MAX, best_gain = 0, best_to = 0;
        for (uint32_t u = 0; u < ncpus; u++) {
            if (!(online >> u & 1) || load[u] >= idl)
                continue;
            for (uint32_t i = 0; i < nth; i++) {
                uint32_t o = th[i].cpu, l = th[i].load;
                if (moved[i / 64] >> (i % 64) & 1 || l == 0 || o == u || o >= ncpus || !(online >> o & 1)
                    || !(th[i].allowed >> u & 1) || load[o] <= idl || l > load[o])
                    continue;
                uint32_t after_o = load[o] - l, after_u = load[u] + l;
                uint32_t new_max = after_o > after_u ? after_o : after_u;
                if (new_max >= load[o])      /* the larger of the two (load[o]) must go down */
                    continue;
                uint32_t gain = load[o] - new_max;
                /* ties: the emptier target first */
                if (gain > best_gain || (gain == best_gain && best != UINT32_MAX && load[u] < load[best_to])) {
                    best_gain = gain;
                    best = i;
                    best_to = u;
                }
            }
        }
        if (best == UINT32_MAX)
            break;
        uint32_t o = th[best].cpu, l = th[best].load;
        moves[nm++] = (struct bal_move){ .thread = best, .from = o, .to = best_to,
                                         .load_from = load[o], .load_to = load[best_to], .thread_load = l };
        load[o] -= l;
        load[best_to] += l;
        moved[best / 64] |= 1ull << (best % 64);
    }
    return nm;
}
