/*
 * balance.h — the load balancer's arithmetic (generic/balance_math.c) and the scheduler's
 * per-thread load accounting, as in Managarm:
 *
 *   A thread's load is runnable / (runnable + blocked) time in fixed point, LOAD_ONE (1024) =
 *   always runnable (running or waiting in a run queue). Both counters decay by decay/256
 *   (Managarm: 184/256 ≈ 0.72, a half-life of ≈ 2.1 s) at every whole LOAD_PERIOD_NS of the
 *   monotonic clock, so old behaviour fades. A CPU's load is the sum of its threads' loads.
 *
 *   Every balance interval the balancer computes the ideal load (total / online CPUs). An
 *   under-loaded CPU pulls threads from over-loaded ones, skipping threads whose load is zero
 *   or whose affinity excludes it, and takes a thread only if that lowers the larger of the two
 *   CPUs' loads (so a move never makes the pair worse and a light thread is not dragged back
 *   and forth between two almost equal CPUs).
 *
 * Pure functions of their arguments (no kernel state, no locks): the kernel calls them under
 * its run-queue locks and os/kernel/test/balance_test.c runs the same object code on the host.
 */
#ifndef KERNEL_BALANCE_H
#define KERNEL_BALANCE_H

#include <stdint.h>
#include <stdbool.h>

#define LOAD_ONE 1024u
#define LOAD_PERIOD_NS 1000000000ull    /* counters decay once per second */
#define LOAD_DECAY_DEFAULT 184u         /* ×184/256 per period (Managarm) */

struct load_acct {
    uint64_t run_ns;        /* decayed time runnable (running or queued) */
    uint64_t blk_ns;        /* decayed time blocked, sleeping or stopped */
    uint64_t stamp;         /* accounted up to this time (ns) */
};

/* Accounts [a->stamp, now) as runnable or blocked, decaying both counters by decay/256 at
 * each multiple of LOAD_PERIOD_NS crossed. now before the stamp is ignored. */
void load_advance(struct load_acct *a, uint64_t now, bool runnable, uint32_t decay);
/* run / (run + blk) in units of LOAD_ONE; 0 for a thread that has no history yet. */
uint32_t load_value(const struct load_acct *a);

/* One thread the balancer may move. */
struct bal_thread {
    uint32_t cpu;           /* where it is */
    uint32_t load;
    uint64_t allowed;       /* affinity mask */
};
/* One planned move: thread index, the two CPUs and their loads just before this move. */
struct bal_move {
    uint32_t thread, from, to;
    uint32_t load_from, load_to, thread_load;
};

/*
 * Plans one round. load[] (ncpus entries) holds each CPU's load on entry and the loads after
 * the planned moves on return; online has a bit per CPU taking part (others are neither
 * sources nor targets). Threads with load 0 or an affinity excluding the target are skipped;
 * each thread moves at most once per round. Returns the number of moves (at most max_moves)
 * and sets *ideal to total / online CPUs.
 */
uint32_t balance_plan(uint32_t ncpus, uint64_t online, uint32_t *load, const struct bal_thread *th,
                      uint32_t nth, struct bal_move *moves, uint32_t max_moves, uint32_t *ideal);

/* The CPU of the lowest load among allowed & online (ties: the lowest index); -1 if none. */
int balance_least_loaded(uint32_t ncpus, uint64_t allowed, const uint32_t *load);

#endif
