/* ipc-bench — IPC lanes benchmarks between two processes (numbers, not a test).
 *
 *   rtt64       64-byte request / 64-byte reply round trip: client submits {send, recv}, the
 *               server answers with one submission {send reply, recv next request}, each side
 *               waiting for its completion in the same system call (ipc_submit_wait); mean over
 *               all rounds, and the median and minimum of the rounds timed one by one (rdtsc:
 *               the median is what a loaded host running other VMs distorts least)
 *   tput4k      4 KiB sends into the server's RECV_BUFFERs, 16 in flight: MB/s
 *   tput1m      1 MiB sends (copied page by page between the address spaces), 4 in flight: MB/s
 *   inflight64  64-byte sends with 64 in flight (the server keeps 64 receives posted): ops/s
 * Also reports on which CPUs client and server ran (with 1 CPU: same CPU; with more they are
 * normally on different CPUs). Output: a table and one line "IPC-BENCH-JSON {...}".
 * Usage: ipc-bench [ROUNDS [--rtt-only]]   (ipc-bench --server MODE ... is the other process;
 *        --rtt-only skips the throughput phases and reports them as 0)
 */
#include <lanes.h>
#include <lanes/ipc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lanes_queue Q;
#define W 64

static void sort_u64(uint64_t *v, uint64_t n)     /* Shell sort (libc has no qsort) */
{
    for (uint64_t gap = n / 2; gap; gap /= 2)
        for (uint64_t i = gap; i < n; i++)
            for (uint64_t j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
                uint64_t t = v[j];
                v[j] = v[j - gap];
                v[j - gap] = t;
            }
}

static int die(const char *what, int64_t r)
{
    printf("ipc-bench: %s: %s\n", what, lanes_ipc_strerror(r));
    return 1;
}

/* ---- server ---- */

static int server(const char *mode, uint64_t size, uint64_t count)
{
    int32_t lane = lanes_handle_by_tag("lane");
    struct lane_ipc_completion c;
    if (!strcmp(mode, "rtt")) {
        static uint8_t rep[64];
        struct lane_ipc_action recv = { .type = LANES_IPC_ACTION_RECV_INLINE, .handle = -1 };
        if (lanes_sys_ipc_submit(lane, &recv, 1, Q.handle, 1))
            return 2;
        for (uint64_t i = 0; i < count; i++) {
            if (lanes_queue_next(&Q, &c, LANES_SEC(60)) || c.status)
                return 3;
            if (c.tag == 2)
                continue;
            uint32_t cpu = lanes_cpu_id();
            memcpy(rep, &cpu, 4);
            struct lane_ipc_action a[2] = {
                { .type = LANES_IPC_ACTION_SEND, .flags = LANES_IPC_FLAG_CHAIN, .buf = (uint64_t)(uintptr_t)rep,
                  .len = 64, .handle = -1 },
                { .type = LANES_IPC_ACTION_RECV_INLINE, .handle = -1 },
            };
            uint32_t n = i + 1 < count ? 2 : 1;   /* the last reply: no next request */
            if (n == 1)
                a[0].flags = 0;
            /* Reply, post the next receive and wait for the next request in one system call (the
             * last reply: for its own completion); lanes_queue_next then finds it in the ring. */
            int64_t r = lanes_sys_ipc_submit_wait(lane, a, n, Q.handle, 1, LANES_SEC(60));
            if (r == LANES_E_TIMEOUT || r == LANES_E_INTERRUPTED || r == LANES_E_ALERTED)
                return 3;
            if (r < 0)
                return 4;
        }
        lanes_queue_next(&Q, &c, LANES_SEC(5));
        return 0;
    }
    /* sink: keep up to W receives posted (buffers of `size`), until count messages arrived */
    uint8_t *buf = size > 128 ? malloc(size * (size > 65536 ? 4 : W)) : NULL;
    uint64_t posted = 0, got = 0;
    uint32_t depth = size > 65536 ? 4 : W;
    while (got < count) {
        while (posted < count && posted - got < depth) {
            struct lane_ipc_action a = { .type = size > 128 ? LANES_IPC_ACTION_RECV_BUFFER : LANES_IPC_ACTION_RECV_INLINE,
                                         .handle = -1 };
            if (buf) {
                a.buf = (uint64_t)(uintptr_t)(buf + (posted % depth) * size);
                a.len = size;
            }
            if (lanes_sys_ipc_submit(lane, &a, 1, Q.handle, 1))
                return 5;
            posted++;
        }
        if (lanes_queue_next(&Q, &c, LANES_SEC(60)) || c.status)
            return 6;
        got++;
    }
    return 0;
}

/* ---- client ---- */

static int64_t start_server(const char *mode, uint64_t size, uint64_t count, int32_t *lane)
{
    int32_t l[2];
    if (lanes_stream(l))
        return LANES_E_NOMEM;
    char s[24], n[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)size);
    snprintf(n, sizeof n, "%llu", (unsigned long long)count);
    const char *argv[5] = { "ipc-bench", "--server", mode, s, n };
    struct lane_spawn_handle h = { .handle = l[1], .rights = LANES_RIGHT_ALL, .tag = "lane" };
    struct lanes_spawn_opts o = { LANES_HANDLE_NONE, &h, 1, false };
    int64_t p = lanes_spawn("ipc-bench", 5, argv, &o);
    lanes_sys_handle_close(l[1]);
    *lane = l[0];
    return p;
}

static int64_t finish_server(int64_t p, int32_t lane)
{
    struct lane_exit_info ei;
    int64_t r = lanes_wait((int32_t)p, &ei, LANES_SEC(60));
    lanes_sys_handle_close((int32_t)p);
    lanes_sys_handle_close(lane);
    return r < 0 ? r : ei.code;
}

/* Sends count messages of size bytes, keeping depth in flight; returns elapsed ns. */
static int64_t pump(int32_t lane, const uint8_t *data, uint64_t size, uint64_t count, uint32_t depth)
{
    uint64_t sent = 0, done = 0;
    uint64_t t0 = lanes_now_ns();
    struct lane_ipc_completion c;
    while (done < count) {
        while (sent < count && sent - done < depth) {
            struct lane_ipc_action a = { .type = LANES_IPC_ACTION_SEND, .buf = (uint64_t)(uintptr_t)data, .len = size,
                                         .handle = -1 };
            int64_t r = lanes_sys_ipc_submit(lane, &a, 1, Q.handle, 1);
            if (r)
                return r;
            sent++;
        }
        int64_t r = lanes_queue_next(&Q, &c, LANES_SEC(60));
        if (r)
            return r;
        if (c.status)
            return c.status;
        done++;
    }
    return (int64_t)(lanes_now_ns() - t0);
}

int main(int argc, char **argv)
{
    if (lanes_queue_init(&Q, 2 * W + 4) < 0)
        return 100;
    if (argc > 4 && !strcmp(argv[1], "--server"))
        return server(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
    uint64_t rounds = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000;
    bool rtt_only = argc > 2 && !strcmp(argv[2], "--rtt-only");   /* trace-bench: events per round trip */
    if (rounds < 10)
        rounds = 10;
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);

    /* rtt64 */
    int32_t lane;
    int64_t p = start_server("rtt", 64, rounds + 1, &lane);
    if (p < 0)
        return die("spawn", p);
    static uint8_t req[64];
    struct lane_ipc_completion c;
    uint32_t server_cpu = 0, client_cpu = 0, cross = 0;
    uint64_t t0 = 0, c0 = 0, prev = 0;
    uint64_t *lat = malloc(rounds * sizeof *lat);
    if (!lat)
        return die("malloc", LANES_E_NOMEM);
    for (uint64_t i = 0; i <= rounds; i++) {
        uint64_t now = lanes_rdtsc();
        if (i >= 2)
            lat[i - 2] = now - prev;
        prev = now;
        if (i == 1) {                   /* the first round trip warms up */
            t0 = lanes_now_ns();
            c0 = lanes_rdtsc();
        }
        struct lane_ipc_action a[2] = {
            { .type = LANES_IPC_ACTION_SEND, .flags = LANES_IPC_FLAG_CHAIN, .buf = (uint64_t)(uintptr_t)req, .len = 64,
              .handle = -1 },
            { .type = LANES_IPC_ACTION_RECV_INLINE, .handle = -1 },
        };
        /* Submit and wait for the reply in one system call; lanes_queue_next then takes it from
         * the ring without another. The wait's own endings fall through to the error below. */
        int64_t r = lanes_sys_ipc_submit_wait(lane, a, 2, Q.handle, 7, LANES_SEC(60));
        if (r < 0 && r != LANES_E_TIMEOUT && r != LANES_E_INTERRUPTED && r != LANES_E_ALERTED)
            return die("rtt submit", r);
        if (r > 0)
            r = lanes_queue_next(&Q, &c, LANES_SEC(60));
        if (r || c.status) {
            printf("ipc-bench: server ended with %lld\n", (long long)finish_server(p, lane));
            return die("rtt", r ? r : c.status);
        }
        memcpy(&server_cpu, lanes_ipc_data(&c, 1), 4);
        client_cpu = lanes_cpu_id();
        cross += server_cpu != client_cpu;
    }
    uint64_t end = lanes_rdtsc();
    lat[rounds - 1] = end - prev;
    uint64_t rtt_ns = (lanes_now_ns() - t0) / rounds, rtt_cyc = (end - c0) / rounds;
    sort_u64(lat, rounds);
    uint64_t med_cyc = lat[rounds / 2], min_cyc = lat[0], p99_cyc = lat[rounds - 1 - rounds / 100];
    uint64_t hz = si.tsc_hz ? si.tsc_hz : 1;
    uint64_t med_ns = (uint64_t)((unsigned __int128)med_cyc * 1000000000u / hz);
    uint64_t min_ns = (uint64_t)((unsigned __int128)min_cyc * 1000000000u / hz);
    uint64_t p99_ns = (uint64_t)((unsigned __int128)p99_cyc * 1000000000u / hz);
    free(lat);
    int64_t e = finish_server(p, lane);
    if (e)
        return die("rtt server", e);

    /* throughput */
    uint64_t mb4k = 0, mb1m = 0, ops = 0;
    uint64_t n4k = rounds * 2, n1m = rounds / 40 + 8, nin = rounds * 4;
    if (!rtt_only) {
        uint8_t *big = malloc(1 << 20);
        if (!big)
            return die("malloc", LANES_E_NOMEM);
        memset(big, 0x5a, 1 << 20);
        p = start_server("sink", 4096, n4k, &lane);
        int64_t t4k = pump(lane, big, 4096, n4k, 16);
        e = finish_server(p, lane);
        if (t4k < 0 || e)
            return die("tput4k", t4k < 0 ? t4k : e);
        p = start_server("sink", 1 << 20, n1m, &lane);
        int64_t t1m = pump(lane, big, 1 << 20, n1m, 4);
        e = finish_server(p, lane);
        if (t1m < 0 || e)
            return die("tput1m", t1m < 0 ? t1m : e);
        p = start_server("sink", 64, nin, &lane);
        int64_t tin = pump(lane, big, 64, nin, W);
        e = finish_server(p, lane);
        if (tin < 0 || e)
            return die("inflight64", tin < 0 ? tin : e);

        mb4k = n4k * 4096 * 1000 / (uint64_t)t4k;     /* bytes per us = MB/s */
        mb1m = n1m * (1 << 20) * 1000 / (uint64_t)t1m;
        ops = nin * 1000000000ull / (uint64_t)tin;
    }
    printf("ipc-bench: %u CPUs, %llu round trips\n", si.ncpus, (unsigned long long)rounds);
    printf("  rtt64       %8llu ns  %8llu cycles   (client cpu %u, server cpu %u, %llu%% on different CPUs)\n",
           (unsigned long long)rtt_ns, (unsigned long long)rtt_cyc, client_cpu, server_cpu,
           (unsigned long long)(cross * 100 / (rounds + 1)));
    printf("  rtt64 median %7llu ns  %8llu cycles   (min %llu ns, p99 %llu ns)\n", (unsigned long long)med_ns,
           (unsigned long long)med_cyc, (unsigned long long)min_ns, (unsigned long long)p99_ns);
    printf("  tput4k      %8llu MB/s (%llu x 4 KiB, 16 in flight)\n", (unsigned long long)mb4k, (unsigned long long)n4k);
    printf("  tput1m      %8llu MB/s (%llu x 1 MiB, 4 in flight)\n", (unsigned long long)mb1m, (unsigned long long)n1m);
    printf("  inflight64  %8llu ops/s (%llu x 64 B, 64 in flight)\n", (unsigned long long)ops, (unsigned long long)nin);
    printf("IPC-BENCH-JSON {\"cpus\":%u,\"rounds\":%llu,\"rtt64_ns\":%llu,\"rtt64_cycles\":%llu,\"cross_cpu_pct\":%llu,"
           "\"tput4k_mbps\":%llu,\"tput1m_mbps\":%llu,\"inflight64_ops\":%llu,\"rtt64_median_ns\":%llu,"
           "\"rtt64_median_cycles\":%llu,\"rtt64_min_ns\":%llu,\"rtt64_p99_ns\":%llu}\n",
           si.ncpus, (unsigned long long)rounds, (unsigned long long)rtt_ns, (unsigned long long)rtt_cyc,
           (unsigned long long)(cross * 100 / (rounds + 1)), (unsigned long long)mb4k, (unsigned long long)mb1m,
           (unsigned long long)ops, (unsigned long long)med_ns, (unsigned long long)med_cyc,
           (unsigned long long)min_ns, (unsigned long long)p99_ns);
    return 0;
}
