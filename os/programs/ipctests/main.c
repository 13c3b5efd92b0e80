/* ipctests — in-guest tests of IPC lanes (os/abi/ipc.toml, os/kernel/generic/ipc/).
 *
 * Every matching rule (a full table of action pairs), every error path (mismatch, end of lane,
 * shutdown, too small, bad pointers, rights, full queue, timeouts, alerts), conversations nested
 * three deep (in one process and across processes), descriptor transfer with and without rights,
 * credentials, submit-and-wait in one call (ipc_submit_wait: round trips between two processes,
 * failed submissions that must not wait, the wait's timeout/alert/interrupt with the submission
 * standing), one-shot and bitset events (also passed to another process), cancellation, a
 * cancellation race of 10,000 iterations where every operation must complete exactly once,
 * end-of-lane when the peer process dies or is killed, and a stress run of 4 processes in a ring
 * exchanging 100,000 messages with none lost or duplicated.
 *
 * Output as usertests (the runner of lanes/testing.h): "test NAME: ok" / "test NAME: FAILED (why)",
 * then "N passed, N failed"; each test starts with an empty completion queue.
 * Usage: ipctests [NAME-PREFIX...];  ipctests --child MODE ...  (helpers the tests spawn)
 */
#include <lanes.h>
#include <lanes/testing.h>
#include <lanes/ipc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lanes_queue Q;    /* the main thread's queue */

#define E(r) lanes_ipc_strerror(r)
#define T1 LANES_SEC(10)

/* ---- helpers ---- */

static const struct lane_ipc_result *R(const struct lane_ipc_completion *c, int i) { return lanes_ipc_result(c, i); }

/* Next completion on Q (waits up to 10 s). */
static bool next(struct lanes_queue *q, struct lane_ipc_completion *c)
{
    return lanes_queue_next(q, c, T1) == 0;
}

/* Takes two completions and orders them by tag (1 then 2). */
static bool two(struct lanes_queue *q, struct lane_ipc_completion *c1, struct lane_ipc_completion *c2)
{
    struct lane_ipc_completion a, b;
    if (!next(q, &a) || !next(q, &b))
        return false;
    if (a.tag == 1) {
        *c1 = a;
        *c2 = b;
    } else {
        *c1 = b;
        *c2 = a;
    }
    return c1->tag == 1 && c2->tag == 2;
}

static int64_t submit1(int32_t lane, struct lane_ipc_action a, uint64_t tag)
{
    return lanes_sys_ipc_submit(lane, &a, 1, Q.handle, tag);
}

static struct lane_ipc_action act(uint32_t type, const void *buf, uint64_t len)
{
    struct lane_ipc_action a = { .type = type, .buf = (uint64_t)(uintptr_t)buf, .len = len, .handle = -1 };
    return a;
}

static bool no_completion(struct lanes_queue *q)
{
    return lanes_queue_peek(q) == NULL;
}

static int64_t spawn_child(const char *mode, const char *arg, const struct lane_spawn_handle *h, int nh)
{
    const char *argv[4] = { "ipctests", "--child", mode, arg };
    struct lanes_spawn_opts o = { LANES_HANDLE_NONE, h, nh, false };
    return lanes_spawn("ipctests", arg ? 4 : 3, argv, &o);
}

static struct lane_spawn_handle sh(int32_t h, const char *tag)
{
    struct lane_spawn_handle s = { .handle = h, .rights = LANES_RIGHT_ALL };
    strncpy(s.tag, tag, sizeof s.tag - 1);
    return s;
}

static bool exited0(int64_t proc, char *what)
{
    struct lane_exit_info ei;
    int64_t r = lanes_wait((int32_t)proc, &ei, LANES_SEC(120));
    lanes_sys_handle_close((int32_t)proc);
    if (r < 0 || ei.state != LANES_PROC_STATE_EXITED || ei.code != 0) {
        char d[128];
        lanes_describe_exit(&ei, d, sizeof d);
        snprintf(what, 128, "child: %s (%s)", d, E(r));
        return false;
    }
    return true;
}

/* ---- basic exchange ---- */

static bool t_send_recv_inline(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream_create failed");
    const char msg[] = "hello, lanes";
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 2) == 0, "submit recv");
    REQUIRE(no_completion(&Q), "recv completed without a peer");
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, msg, sizeof msg), 1) == 0, "submit send");
    struct lane_ipc_completion s, r;
    REQUIRE(two(&Q, &s, &r), "completions missing");
    REQUIRE(s.status == 0 && r.status == 0, "status %s / %s", E(s.status), E(r.status));
    REQUIRE(s.nresults == 1 && R(&s, 0)->length == sizeof msg, "send result length %u", R(&s, 0)->length);
    REQUIRE(R(&r, 0)->length == sizeof msg && memcmp(lanes_ipc_data(&r, 0), msg, sizeof msg) == 0, "data differs");
    REQUIRE(s.seq + 1 == r.seq || r.seq + 1 == s.seq, "sequence numbers %llu %llu", (unsigned long long)s.seq,
            (unsigned long long)r.seq);
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

static bool t_fifo_order(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    uint32_t v[5] = { 10, 11, 12, 13, 14 };
    for (int i = 0; i < 5; i++)
        REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, &v[i], 4), 100 + i) == 0, "send %d", i);
    for (int i = 0; i < 5; i++)
        REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 200 + i) == 0, "recv %d", i);
    int got = 0;
    for (int k = 0; k < 10; k++) {
        struct lane_ipc_completion c;
        REQUIRE(next(&Q, &c), "completion %d missing", k);
        REQUIRE(c.status == 0, "status %s", E(c.status));
        if (c.tag >= 200) {
            uint32_t x;
            memcpy(&x, lanes_ipc_data(&c, 0), 4);
            REQUIRE(x == 10 + (c.tag - 200), "recv %llu got %u: not in order", (unsigned long long)c.tag, x);
            got++;
        }
    }
    REQUIRE(got == 5, "got %d receives", got);
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

static bool t_recv_buffer_large(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    static const size_t sizes[] = { 1, 4095, 4096, 4097, 65536 + 123, 1 << 20 };
    size_t max = 1 << 20;
    uint8_t *src = malloc(max + 16), *dst = malloc(max + 16);
    REQUIRE(src && dst, "malloc");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        uint8_t *sp = src + (s % 7), *dp = dst + (s % 5);    /* misaligned on purpose */
        for (size_t i = 0; i < n; i++)
            sp[i] = (uint8_t)(i * 7 + s);
        memset(dp, 0, n + 1);
        REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_BUFFER, dp, n + 1), 2) == 0, "recv");
        REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, sp, n), 1) == 0, "send");
        struct lane_ipc_completion a, b;
        REQUIRE(two(&Q, &a, &b), "completions");
        REQUIRE(a.status == 0 && b.status == 0, "%zu bytes: %s / %s", n, E(a.status), E(b.status));
        REQUIRE(R(&b, 0)->length == n, "received %u of %zu", R(&b, 0)->length, n);
        REQUIRE(memcmp(sp, dp, n) == 0 && dp[n] == 0, "%zu bytes: data differs", n);
    }
    free(src);
    free(dst);
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

/* Every pair of action types: the valid pairs work, dismiss dismisses, the rest mismatch. */
static bool t_match_table(void)
{
    static const char *names[] = { "", "offer", "accept", "send", "recv_inline", "recv_buffer", "push", "pull",
                                   "imbue", "extract", "dismiss" };
    char buf[64] = "x", rbuf[64];
    int32_t ev = (int32_t)lanes_sys_ipc_event_create(LANES_EVENT_KIND_ONESHOT);
    REQUIRE(ev >= 0, "event");
    int checked = 0;
    for (uint32_t a = 1; a <= 10; a++) {
        for (uint32_t b = 1; b <= 10; b++) {
            int32_t l[2];
            REQUIRE(lanes_stream(l) == 0, "stream");
            struct lane_ipc_action x = act(a, buf, 1), y = act(b, rbuf, sizeof rbuf);
            if (a == LANES_IPC_ACTION_PUSH)
                x.handle = ev, x.rights = LANES_RIGHT_ALL;
            if (a == LANES_IPC_ACTION_RECV_BUFFER)
                x.buf = (uint64_t)(uintptr_t)rbuf, x.len = sizeof rbuf;
            if (b == LANES_IPC_ACTION_PUSH)
                y.handle = ev, y.rights = LANES_RIGHT_ALL;
            if (b == LANES_IPC_ACTION_SEND)
                y.buf = (uint64_t)(uintptr_t)buf, y.len = 1;
            REQUIRE(submit1(l[0], x, 1) == 0, "%s: submit", names[a]);
            REQUIRE(submit1(l[1], y, 2) == 0, "%s: submit", names[b]);
            struct lane_ipc_completion ca, cb;
            REQUIRE(two(&Q, &ca, &cb), "%s<->%s: completions missing", names[a], names[b]);
            int64_t ea = 0, eb = 0;
            uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
            bool valid = (lo == 1 && hi == 2) || (lo == 3 && (hi == 4 || hi == 5)) || (lo == 6 && hi == 7) ||
                         (lo == 8 && hi == 9);
            if (a == 10 && b != 10)
                eb = LANES_E_DISMISSED;
            else if (b == 10 && a != 10)
                ea = LANES_E_DISMISSED;
            else if (!valid && a != 10)
                ea = eb = LANES_E_TRANSMISSION_MISMATCH;
            REQUIRE(ca.status == ea && cb.status == eb, "%s<->%s: got %s/%s, want %s/%s", names[a], names[b],
                    E(ca.status), E(cb.status), E(ea), E(eb));
            /* Close whatever handles the exchange produced. */
            const struct lane_ipc_completion *cs[2] = { &ca, &cb };
            for (int k = 0; k < 2; k++)
                if (R(cs[k], 0)->handle >= 0)
                    lanes_sys_handle_close(R(cs[k], 0)->handle);
            if (valid && (lo == 1)) {
                const struct lane_ipc_completion *acc = a == 2 ? &ca : &cb;
                REQUIRE(R(acc, 0)->handle >= 0, "accept got no lane");
            }
            lanes_sys_handle_close(l[0]);
            lanes_sys_handle_close(l[1]);
            checked++;
        }
    }
    lanes_sys_handle_close(ev);
    REQUIRE(checked == 100, "checked %d pairs", checked);
    return true;
}

static bool t_too_small(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    char big[200];
    memset(big, 'b', sizeof big);
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, big, sizeof big), 1) == 0, "send");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 2) == 0, "recv");
    struct lane_ipc_completion a, b;
    REQUIRE(two(&Q, &a, &b), "completions");
    REQUIRE(a.status == LANES_E_BUFFER_TOO_SMALL && b.status == LANES_E_BUFFER_TOO_SMALL, "inline 200: %s/%s",
            E(a.status), E(b.status));
    char small[16];
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, big, 17), 1) == 0, "send");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_BUFFER, small, sizeof small), 2) == 0, "recv");
    REQUIRE(two(&Q, &a, &b), "completions");
    REQUIRE(a.status == LANES_E_BUFFER_TOO_SMALL && b.status == LANES_E_BUFFER_TOO_SMALL, "buffer 16 < 17: %s/%s",
            E(a.status), E(b.status));
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

static bool t_bad_args(void)
{
    int32_t l[2];
    REQUIRE(lanes_sys_ipc_stream_create((void *)8) == LANES_E_FAULT, "stream_create to a bad pointer");
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lane_ipc_action a = act(LANES_IPC_ACTION_SEND, (void *)0x10, 8);
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == LANES_E_FAULT, "send from a bad pointer accepted");
    a = act(LANES_IPC_ACTION_SEND, "x", 1);
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 0, Q.handle, 1) == LANES_E_INVAL, "0 actions");
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 9, Q.handle, 1) == LANES_E_INVAL, "9 actions");
    REQUIRE(lanes_sys_ipc_submit(l[0], (void *)0x10, 1, Q.handle, 1) == LANES_E_FAULT, "actions at a bad pointer");
    a.type = 99;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == LANES_E_INVAL, "bad action type");
    a = act(LANES_IPC_ACTION_SEND, "x", 1);
    a.flags = LANES_IPC_FLAG_ANCILLARY;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == LANES_E_INVAL, "ancillary on a send");
    a.flags = LANES_IPC_FLAG_CHAIN;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == LANES_E_INVAL, "chain past the end");
    a.flags = 0x100;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == LANES_E_INVAL, "unknown flag");
    a.flags = 0;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, l[1], 1) == LANES_E_TYPE, "a lane as the queue");
    REQUIRE(lanes_sys_ipc_submit(Q.handle, &a, 1, Q.handle, 1) == LANES_E_TYPE, "a queue as the lane");
    REQUIRE(lanes_sys_ipc_submit(200, &a, 1, Q.handle, 1) == LANES_E_BADHANDLE, "no such handle");
    /* A receive into memory that is unmapped by the time the data arrives: FAULT, no crash. */
    void *p = (void *)lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, 8192, LANES_PROT_READ | LANES_PROT_WRITE);
    REQUIRE((int64_t)(uintptr_t)p > 0, "mem_map");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_BUFFER, p, 8192), 2) == 0, "recv");
    lanes_sys_mem_unmap(p, 8192);
    static char data[8192];
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, data, sizeof data), 1) == 0, "send");
    struct lane_ipc_completion c1, c2;
    REQUIRE(two(&Q, &c1, &c2), "completions");
    REQUIRE(c2.status == LANES_E_FAULT && c1.status == LANES_E_FAULT, "into unmapped memory: %s/%s", E(c1.status),
            E(c2.status));
    /* Read-only destination. */
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_BUFFER, (void *)(uintptr_t)t_bad_args, 16), 2) == 0, "recv");
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, data, 16), 1) == 0, "send");
    REQUIRE(two(&Q, &c1, &c2), "completions");
    REQUIRE(c2.status == LANES_E_FAULT, "into read-only code: %s", E(c2.status));
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

static bool t_rights(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    int32_t ro = (int32_t)lanes_sys_handle_dup(l[0], LANES_RIGHT_READ);
    int32_t wo = (int32_t)lanes_sys_handle_dup(l[1], LANES_RIGHT_WRITE);
    REQUIRE(ro >= 0 && wo >= 0, "dup");
    REQUIRE(submit1(ro, act(LANES_IPC_ACTION_SEND, "x", 1), 1) == LANES_E_ACCESS, "send without WRITE");
    REQUIRE(submit1(wo, act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 1) == LANES_E_ACCESS, "recv without READ");
    REQUIRE(lanes_sys_ipc_lane_shutdown(ro) == LANES_E_ACCESS, "shutdown without CONTROL");
    int32_t qro = (int32_t)lanes_sys_handle_dup(Q.handle, LANES_RIGHT_WAIT);
    struct lane_ipc_action a = act(LANES_IPC_ACTION_SEND, "x", 1);
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, qro, 1) == LANES_E_ACCESS, "submit to a queue without WRITE");
    REQUIRE(lanes_sys_ipc_queue_alert(qro) == LANES_E_ACCESS, "alert without SIGNAL");
    int32_t ev = (int32_t)lanes_sys_ipc_event_create(LANES_EVENT_KIND_BITSET);
    int32_t evw = (int32_t)lanes_sys_handle_dup(ev, LANES_RIGHT_WAIT);
    REQUIRE(lanes_sys_ipc_event_raise(evw, 1) == LANES_E_ACCESS, "raise without SIGNAL");
    REQUIRE(lanes_sys_ipc_event_create(7) == LANES_E_INVAL, "event kind 7");
    REQUIRE(lanes_sys_ipc_queue_create(0, &(uint64_t){ 0 }) == LANES_E_INVAL, "queue of 0");
    REQUIRE(lanes_sys_ipc_queue_create(100000, &(uint64_t){ 0 }) == LANES_E_INVAL, "queue of 100000");
    int32_t hs[] = { ro, wo, qro, ev, evw, l[0], l[1] };
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        lanes_sys_handle_close(hs[i]);
    return true;
}

static bool t_end_of_lane(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 2) == 0, "recv");
    int32_t d = (int32_t)lanes_sys_handle_dup(l[0], LANES_RIGHT_ALL);
    lanes_sys_handle_close(l[0]);
    REQUIRE(no_completion(&Q), "end of lane while a duplicate handle is still open");
    lanes_sys_handle_close(d);
    struct lane_ipc_completion c;
    REQUIRE(next(&Q, &c), "pending recv did not complete");
    REQUIRE(c.status == LANES_E_END_OF_LANE, "pending: %s", E(c.status));
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_SEND, "x", 1), 3) == 0, "send");
    REQUIRE(next(&Q, &c) && c.status == LANES_E_END_OF_LANE, "future op: %s", E(c.status));
    lanes_sys_handle_close(l[1]);
    return true;
}

static bool t_shutdown(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 2) == 0, "recv");
    REQUIRE(lanes_sys_ipc_lane_shutdown(l[0]) == 0, "shutdown");
    struct lane_ipc_completion c;
    REQUIRE(next(&Q, &c) && c.status == LANES_E_LANE_SHUTDOWN, "pending: %s", E(c.status));
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, "x", 1), 3) == 0, "send");
    REQUIRE(next(&Q, &c) && c.status == LANES_E_LANE_SHUTDOWN, "this side: %s", E(c.status));
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_SEND, "x", 1), 4) == 0, "send");
    REQUIRE(next(&Q, &c) && c.status == LANES_E_LANE_SHUTDOWN, "other side: %s", E(c.status));
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

/* ---- conversations ---- */

static bool t_conversation(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lanes_acts srv, cli;
    lanes_acts_init(&srv);
    lanes_acts_accept(&srv, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_recv_inline(&srv);
    lanes_acts_send(&srv, "pong", 5);
    lanes_acts_end(&srv);
    REQUIRE(lanes_ipc_submit(&Q, l[1], &srv, 2) == 0, "server submit");
    lanes_acts_init(&cli);
    lanes_acts_offer(&cli, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&cli, "ping", 5);
    lanes_acts_recv_inline(&cli);
    lanes_acts_end(&cli);
    REQUIRE(lanes_ipc_submit(&Q, l[0], &cli, 1) == 0, "client submit");
    struct lane_ipc_completion c, s;
    REQUIRE(two(&Q, &c, &s), "completions");
    REQUIRE(c.status == 0 && s.status == 0, "status %s / %s", E(c.status), E(s.status));
    REQUIRE(c.nresults == 3 && s.nresults == 3, "nresults %u %u", c.nresults, s.nresults);
    REQUIRE(strcmp(lanes_ipc_data(&s, 1), "ping") == 0, "server got '%s'", (const char *)lanes_ipc_data(&s, 1));
    REQUIRE(strcmp(lanes_ipc_data(&c, 2), "pong") == 0, "client got '%s'", (const char *)lanes_ipc_data(&c, 2));
    REQUIRE(R(&c, 0)->handle == -1, "offerer got a lane without WANT_LANE");
    int32_t sl = R(&s, 0)->handle;
    REQUIRE(sl >= 0, "acceptor got no lane");
    /* The offerer kept no lane: once its submission completed the conversation's other end is gone. */
    REQUIRE(submit1(sl, act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 3) == 0, "recv");
    REQUIRE(next(&Q, &c) && c.status == LANES_E_END_OF_LANE, "conversation without the offerer's lane: %s",
            E(c.status));
    lanes_sys_handle_close(sl);
    /* WANT_LANE: both ends get a lane, and the conversation carries further messages. */
    lanes_acts_init(&cli);
    lanes_acts_offer(&cli, LANES_IPC_FLAG_WANT_LANE);
    REQUIRE(lanes_ipc_submit(&Q, l[0], &cli, 1) == 0, "offer");
    lanes_acts_init(&srv);
    lanes_acts_accept(&srv, 0);
    REQUIRE(lanes_ipc_submit(&Q, l[1], &srv, 2) == 0, "accept");
    REQUIRE(two(&Q, &c, &s), "completions");
    int32_t a = R(&c, 0)->handle, b = R(&s, 0)->handle;
    REQUIRE(a >= 0 && b >= 0, "lanes %d %d", a, b);
    REQUIRE(submit1(a, act(LANES_IPC_ACTION_SEND, "again", 6), 1) == 0 &&
                submit1(b, act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 2) == 0, "submit");
    REQUIRE(two(&Q, &c, &s) && s.status == 0 && strcmp(lanes_ipc_data(&s, 0), "again") == 0, "child stream message");
    struct lane_handle_info hi;
    REQUIRE(lanes_sys_handle_info(a, &hi) == 0 && hi.type == LANES_OBJ_LANE, "conversation handle type %u", hi.type);
    int32_t hs[] = { a, b, l[0], l[1] };
    for (int i = 0; i < 4; i++)
        lanes_sys_handle_close(hs[i]);
    return true;
}

/* offer{offer{offer{send, recv}}} <-> accept{accept{accept{recv, send}}}: three nested conversations. */
static void nested_acts(struct lanes_acts *b, bool client, const char *msg)
{
    lanes_acts_init(b);
    for (int d = 0; d < 3; d++) {
        if (client)
            lanes_acts_offer(b, LANES_IPC_FLAG_ANCILLARY);
        else
            lanes_acts_accept(b, LANES_IPC_FLAG_ANCILLARY);
    }
    if (client) {
        lanes_acts_send(b, msg, strlen(msg) + 1);
        lanes_acts_recv_inline(b);
    } else {
        lanes_acts_recv_inline(b);
        lanes_acts_send(b, msg, strlen(msg) + 1);
    }
    for (int d = 0; d < 3; d++)
        lanes_acts_end(b);
}

static bool t_nested3(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lanes_acts cb, sb;
    nested_acts(&cb, true, "deep question");
    nested_acts(&sb, false, "deep answer");
    REQUIRE(lanes_ipc_submit(&Q, l[0], &cb, 1) == 0, "client");
    REQUIRE(lanes_ipc_submit(&Q, l[1], &sb, 2) == 0, "server");
    struct lane_ipc_completion c, s;
    REQUIRE(two(&Q, &c, &s), "completions");
    REQUIRE(c.status == 0 && s.status == 0, "%s / %s", E(c.status), E(s.status));
    REQUIRE(strcmp(lanes_ipc_data(&s, 3), "deep question") == 0, "server got '%s'", (const char *)lanes_ipc_data(&s, 3));
    REQUIRE(strcmp(lanes_ipc_data(&c, 4), "deep answer") == 0, "client got '%s'", (const char *)lanes_ipc_data(&c, 4));
    for (int i = 0; i < 3; i++)
        if (R(&s, i)->handle >= 0)
            lanes_sys_handle_close(R(&s, i)->handle);
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

/* The same three levels with the server in another process, one conversation level per round trip. */
static int child_nested_server(void)
{
    int32_t lane = lanes_handle_by_tag("lane");
    struct lane_ipc_completion c;
    for (int depth = 0; depth < 3; depth++) {
        struct lanes_acts b;
        lanes_acts_init(&b);
        lanes_acts_accept(&b, 0);
        if (lanes_ipc_call(&Q, lane, &b, &c, T1) != 0)
            return 10 + depth;
        lane = R(&c, 0)->handle;
    }
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_recv_inline(&b);
    if (lanes_ipc_call(&Q, lane, &b, &c, T1) != 0)
        return 20;
    char reply[64];
    snprintf(reply, sizeof reply, "echo:%s", (const char *)lanes_ipc_data(&c, 0));
    lanes_acts_init(&b);
    lanes_acts_send(&b, reply, strlen(reply) + 1);
    if (lanes_ipc_call(&Q, lane, &b, &c, T1) != 0)
        return 21;
    return 0;
}

static bool t_nested3_processes(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lane_spawn_handle h = sh(l[1], "lane");
    int64_t p = spawn_child("nested-server", NULL, &h, 1);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    lanes_sys_handle_close(l[1]);
    struct lanes_acts b;
    nested_acts(&b, true, "three deep");
    struct lane_ipc_completion c;
    int64_t r = lanes_ipc_call(&Q, l[0], &b, &c, LANES_SEC(60));
    REQUIRE(r == 0, "call: %s", E(r));
    REQUIRE(strcmp(lanes_ipc_data(&c, 4), "echo:three deep") == 0, "reply '%s'", (const char *)lanes_ipc_data(&c, 4));
    lanes_sys_handle_close(l[0]);
    char w[128];
    REQUIRE(exited0(p, w), "%s", w);
    return true;
}

/* ---- descriptors and credentials ---- */

static bool t_push_pull(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    int32_t mem = (int32_t)lanes_sys_mem_create(4096, 0);
    REQUIRE(mem >= 0, "mem_create");
    /* With rights: the receiver gets READ|MAP|DUP only. */
    struct lane_ipc_action a = act(LANES_IPC_ACTION_PUSH, 0, 0);
    a.handle = mem;
    a.rights = LANES_RIGHT_READ | LANES_RIGHT_MAP | LANES_RIGHT_DUP;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == 0, "push");
    lanes_sys_handle_close(mem);            /* in flight: the push holds the object */
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_PULL, 0, 0), 2) == 0, "pull");
    struct lane_ipc_completion c1, c2;
    REQUIRE(two(&Q, &c1, &c2) && c1.status == 0 && c2.status == 0, "%s / %s", E(c1.status), E(c2.status));
    int32_t got = R(&c2, 0)->handle;
    struct lane_handle_info hi;
    REQUIRE(got >= 0 && lanes_sys_handle_info(got, &hi) == 0, "pulled handle %d", got);
    REQUIRE(hi.type == LANES_OBJ_MEMORY && hi.size == 4096, "type %u size %llu", hi.type, (unsigned long long)hi.size);
    REQUIRE(hi.rights == (LANES_RIGHT_READ | LANES_RIGHT_MAP | LANES_RIGHT_DUP), "rights 0x%x", hi.rights);
    REQUIRE(lanes_sys_mem_map(got, 0, 0, 4096, LANES_PROT_READ) > 0, "read mapping refused");
    REQUIRE(lanes_sys_mem_map(got, 0, 0, 4096, LANES_PROT_READ | LANES_PROT_WRITE) == LANES_E_ACCESS,
            "write mapping allowed without WRITE");
    /* Without DUP a handle cannot be passed on. */
    int32_t nodup = (int32_t)lanes_sys_handle_dup(got, LANES_RIGHT_READ | LANES_RIGHT_MAP);
    a.handle = nodup;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 3) == LANES_E_ACCESS, "pushed a handle without DUP");
    a.handle = 250;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 3) == LANES_E_BADHANDLE, "pushed a non-handle");
    /* Rights can only shrink: asking for more than held gives what is held. */
    a.handle = got;
    a.rights = LANES_RIGHT_ALL;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == 0, "push");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_PULL, 0, 0), 2) == 0, "pull");
    REQUIRE(two(&Q, &c1, &c2) && c2.status == 0, "second transfer");
    REQUIRE(lanes_sys_handle_info(R(&c2, 0)->handle, &hi) == 0 &&
                hi.rights == (LANES_RIGHT_READ | LANES_RIGHT_MAP | LANES_RIGHT_DUP), "rights grew to 0x%x", hi.rights);
    lanes_sys_handle_close(R(&c2, 0)->handle);
    /* A push whose peer goes away: the object in flight is released (no leak, no crash). */
    a.handle = got;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 1) == 0, "push");
    lanes_sys_handle_close(l[1]);
    REQUIRE(next(&Q, &c1) && c1.status == LANES_E_END_OF_LANE, "push to a closed lane: %s", E(c1.status));
    int32_t hs[] = { nodup, got, l[0] };
    for (int i = 0; i < 3; i++)
        lanes_sys_handle_close(hs[i]);
    return true;
}

/* Child side: pulls one descriptor from `lane`; returns the new handle, or -1. */
static int32_t pull_from_lane(int32_t lane)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_pull(&b);
    if (lanes_ipc_call(&Q, lane, &b, &c, T1) != 0)
        return -1;
    return R(&c, 0)->handle;
}

/* Child: pulls a lane from "lane", then serves one echo on it; imbues its credentials. */
static int child_pull_lane(void)
{
    int32_t lane = lanes_handle_by_tag("lane"), got = pull_from_lane(lane);
    if (got < 0)
        return 1;
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_recv_inline(&b);
    if (lanes_ipc_call(&Q, got, &b, &c, T1) != 0)
        return 2;
    char msg[64];
    snprintf(msg, sizeof msg, "via pushed lane: %s", (const char *)lanes_ipc_data(&c, 0));
    lanes_acts_init(&b);
    lanes_acts_send(&b, msg, strlen(msg) + 1);
    lanes_acts_imbue(&b);
    if (lanes_ipc_call(&Q, got, &b, &c, T1) != 0)
        return 3;
    return 0;
}

static bool t_push_lane_process(void)
{
    int32_t l[2], m[2];
    REQUIRE(lanes_stream(l) == 0 && lanes_stream(m) == 0, "streams");
    struct lane_spawn_handle h = sh(l[1], "lane");
    int64_t p = spawn_child("pull-lane", NULL, &h, 1);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    lanes_sys_handle_close(l[1]);
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_push(&b, m[1], LANES_RIGHT_ALL);
    struct lane_ipc_completion c;
    REQUIRE(lanes_ipc_call(&Q, l[0], &b, &c, T1) == 0, "push lane: %s", E(c.status));
    lanes_sys_handle_close(m[1]);
    lanes_acts_init(&b);
    lanes_acts_send(&b, "hi", 3);
    lanes_acts_recv_inline(&b);
    lanes_acts_extract(&b);
    int64_t r = lanes_ipc_call(&Q, m[0], &b, &c, T1);
    REQUIRE(r == 0, "exchange over the pushed lane: %s", E(r));
    REQUIRE(strcmp(lanes_ipc_data(&c, 1), "via pushed lane: hi") == 0, "got '%s'", (const char *)lanes_ipc_data(&c, 1));
    const uint32_t *cr = lanes_ipc_data(&c, 2);
    REQUIRE(R(&c, 2)->length == 16 && cr[0] == 0x4452434cu, "credentials length %u", R(&c, 2)->length);
    REQUIRE(cr[1] != (uint32_t)lanes_sys_getpid() && cr[1] != 0, "credentials name pid %u, not the child's", cr[1]);
    uint8_t mine[16];
    lanes_sys_ipc_credentials(mine);
    REQUIRE(memcmp(mine, cr, 16) != 0, "child's credentials equal ours");
    char w[128];
    struct lane_exit_info ei;
    REQUIRE(lanes_wait((int32_t)p, &ei, LANES_SEC(60)) == 0 && ei.code == 0, "child exit %d", ei.code);
    (void)w;
    lanes_sys_handle_close((int32_t)p);
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(m[0]);
    return true;
}

static bool t_credentials(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_IMBUE, 0, 0), 1) == 0, "imbue");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_EXTRACT, 0, 0), 2) == 0, "extract");
    struct lane_ipc_completion a, b;
    REQUIRE(two(&Q, &a, &b) && a.status == 0 && b.status == 0, "%s / %s", E(a.status), E(b.status));
    uint8_t mine[16];
    REQUIRE(lanes_sys_ipc_credentials(mine) == 0, "credentials");
    REQUIRE(R(&b, 0)->length == 16 && memcmp(lanes_ipc_data(&b, 0), mine, 16) == 0, "extracted credentials differ");
    const uint32_t *w = (const uint32_t *)(const void *)mine;
    REQUIRE(w[1] == (uint32_t)lanes_sys_getpid() && w[2] == (uint32_t)lanes_sys_thread_self(), "pid/tid not in credentials");
    REQUIRE(lanes_sys_ipc_credentials((void *)8) == LANES_E_FAULT, "bad pointer");
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

/* ---- queues ---- */

static bool t_queue_many(void)
{
    struct lanes_queue q;
    REQUIRE(lanes_queue_init(&q, 8) == 0, "queue");
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lane_ipc_action a = act(LANES_IPC_ACTION_RECV_INLINE, 0, 0);
    for (int i = 0; i < 8; i++)
        REQUIRE(lanes_sys_ipc_submit(l[1], &a, 1, q.handle, 10 + i) == 0, "submit %d", i);
    REQUIRE(lanes_sys_ipc_submit(l[1], &a, 1, q.handle, 99) == LANES_E_AGAIN, "9th submission on a queue of 8");
    REQUIRE(lanes_sys_ipc_queue_wait(q.handle, LANES_MS(20)) == LANES_E_TIMEOUT, "wait without completions");
    REQUIRE(lanes_sys_ipc_queue_wait(q.handle, 0) == LANES_E_TIMEOUT, "poll");
    uint64_t v[8];
    for (int i = 0; i < 8; i++) {
        v[i] = 1000 + i;
        REQUIRE(lanes_sys_ipc_submit(l[0], &(struct lane_ipc_action){ .type = LANES_IPC_ACTION_SEND,
                                         .buf = (uint64_t)(uintptr_t)&v[i], .len = 8, .handle = -1 }, 1, Q.handle, 0) == 0,
                "send %d", i);
    }
    REQUIRE(lanes_sys_ipc_queue_wait(q.handle, T1) == 8, "8 completions expected");
    for (int i = 0; i < 8; i++) {
        struct lane_ipc_completion c;
        REQUIRE(lanes_queue_next(&q, &c, 0) == 0, "element %d", i);
        uint64_t x;
        memcpy(&x, lanes_ipc_data(&c, 0), 8);
        REQUIRE(c.tag == 10u + i && x == 1000u + i, "element %d: tag %llu value %llu", i, (unsigned long long)c.tag,
                (unsigned long long)x);
        struct lane_ipc_completion s;
        REQUIRE(lanes_queue_next(&Q, &s, T1) == 0, "send completion");
    }
    /* The ring wraps: room again. */
    REQUIRE(lanes_sys_ipc_submit(l[1], &a, 1, q.handle, 99) == 0, "submit after consuming");
    lanes_sys_handle_close(l[0]);
    struct lane_ipc_completion c;
    REQUIRE(lanes_queue_next(&q, &c, T1) == 0 && c.status == LANES_E_END_OF_LANE, "after wrap");
    lanes_sys_handle_close(l[1]);
    lanes_queue_close(&q);
    return true;
}

static volatile int alert_go;
static int32_t alert_queue;
static void alerter(void *arg)
{
    (void)arg;
    while (!alert_go)
        lanes_sys_yield();
    lanes_sys_sleep(LANES_MS(20));
    lanes_sys_ipc_queue_alert(alert_queue);
}

static bool t_queue_alert(void)
{
    REQUIRE(lanes_sys_ipc_queue_alert(Q.handle) == 0, "alert");
    REQUIRE(lanes_sys_ipc_queue_wait(Q.handle, T1) == LANES_E_ALERTED, "pending alert not reported");
    REQUIRE(lanes_sys_ipc_queue_wait(Q.handle, LANES_MS(5)) == LANES_E_TIMEOUT, "alert reported twice");
    lanes_thread_t t;
    alert_queue = Q.handle;
    alert_go = 0;
    REQUIRE(lanes_thread_start(&t, alerter, NULL, 0) == 0, "thread");
    alert_go = 1;
    uint64_t t0 = lanes_now_ns();
    int64_t r = lanes_sys_ipc_queue_wait(Q.handle, LANES_SEC(30));
    uint64_t dt = lanes_now_ns() - t0;
    lanes_thread_join(&t, T1);
    REQUIRE(r == LANES_E_ALERTED, "wait ended with %s", E(r));
    REQUIRE(dt < LANES_SEC(20), "alert took %llu ms", (unsigned long long)(dt / 1000000));
    return true;
}

/* ---- submit and wait in one system call (ipc_submit_wait) ----
 * Each test uses a queue of its own, so a late completion of an earlier test on Q cannot be
 * what ends a wait. */

#define SW_ROUNDS 200

/* The server of ipc-submit-wait-rtt: a receive, then per request one ipc_submit_wait of
 * {send reply, recv next} (the last: the reply alone). Whenever the call returns > 0 the
 * completion must already be in the ring. Tags: the first receive 1, reply i i + 2. */
static int child_sw_echo(const char *arg)
{
    int32_t lane = lanes_handle_by_tag("lane");
    uint32_t rounds = (uint32_t)atoi(arg);
    struct lane_ipc_action rv = act(LANES_IPC_ACTION_RECV_INLINE, 0, 0);
    if (lanes_sys_ipc_submit_wait(lane, &rv, 1, Q.handle, 1, LANES_SEC(60)) <= 0)
        return 2;
    static char rep[LANES_IPC_INLINE_MAX];
    for (uint32_t i = 0; i < rounds; i++) {
        const struct lane_ipc_completion *c = lanes_queue_peek(&Q);
        if (!c)
            return 3;                   /* returned a count, but the ring is empty */
        if (c->tag != i + 1 || c->status != 0)
            return 4;
        uint32_t at = i == 0 ? 0 : 1;   /* the receive's result */
        snprintf(rep, sizeof rep, "echo:%s", (const char *)lanes_ipc_data(c, at));
        lanes_queue_pop(&Q);
        struct lane_ipc_action a[2] = { act(LANES_IPC_ACTION_SEND, rep, strlen(rep) + 1), rv };
        uint32_t n = i + 1 < rounds ? 2 : 1;
        if (n == 2)
            a[0].flags = LANES_IPC_FLAG_CHAIN;
        if (lanes_sys_ipc_submit_wait(lane, a, n, Q.handle, i + 2, LANES_SEC(60)) <= 0)
            return 5;
    }
    const struct lane_ipc_completion *c = lanes_queue_peek(&Q);
    if (!c || c->tag != rounds + 1 || c->status != 0)
        return 6;
    lanes_queue_pop(&Q);
    return 0;
}

/* Round trips with both sides in ipc_submit_wait: one system call per side and round. */
static bool t_submit_wait_rtt(void)
{
    struct lanes_queue q;
    REQUIRE(lanes_queue_init(&q, 4) == 0, "queue");
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lane_spawn_handle h = sh(l[1], "lane");
    char arg[12];
    snprintf(arg, sizeof arg, "%d", SW_ROUNDS);
    int64_t p = spawn_child("sw-echo", arg, &h, 1);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    lanes_sys_handle_close(l[1]);
    for (uint32_t i = 0; i < SW_ROUNDS; i++) {
        char req[16], want[24];
        snprintf(req, sizeof req, "q%u", i);
        snprintf(want, sizeof want, "echo:q%u", i);
        struct lane_ipc_action a[2] = { act(LANES_IPC_ACTION_SEND, req, strlen(req) + 1),
                                        act(LANES_IPC_ACTION_RECV_INLINE, 0, 0) };
        a[0].flags = LANES_IPC_FLAG_CHAIN;
        int64_t r = lanes_sys_ipc_submit_wait(l[0], a, 2, q.handle, 100 + i, LANES_SEC(60));
        REQUIRE(r >= 1, "round %u: submit_wait returned %s", i, E(r));
        const struct lane_ipc_completion *c = lanes_queue_peek(&q);
        REQUIRE(c != NULL, "round %u: returned %lld but the ring is empty", i, (long long)r);
        REQUIRE(c->tag == 100 + i && c->status == 0 && c->nresults == 2, "round %u: tag %llu status %s", i,
                (unsigned long long)c->tag, E(c->status));
        REQUIRE(strcmp(lanes_ipc_data(c, 1), want) == 0, "round %u: reply '%s'", i, (const char *)lanes_ipc_data(c, 1));
        lanes_queue_pop(&q);
    }
    lanes_sys_handle_close(l[0]);
    char w[128];
    REQUIRE(exited0(p, w), "%s", w);
    lanes_queue_close(&q);
    return true;
}

/* A submission that fails returns its error at once and queues nothing: no wait, no completion. */
static bool t_submit_wait_bad(void)
{
    struct lanes_queue q, qs;
    REQUIRE(lanes_queue_init(&q, 1) == 0 && lanes_queue_init(&qs, 4) == 0, "queues");
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    const uint64_t T = LANES_SEC(30);
    struct lane_ipc_action rv = act(LANES_IPC_ACTION_RECV_INLINE, 0, 0);
    uint64_t t0 = lanes_now_ns();
    REQUIRE(lanes_sys_ipc_submit_wait(200, &rv, 1, q.handle, 1, T) == LANES_E_BADHANDLE, "no such lane");
    REQUIRE(lanes_sys_ipc_submit_wait(q.handle, &rv, 1, q.handle, 1, T) == LANES_E_TYPE, "a queue as the lane");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 1, l[0], 1, T) == LANES_E_TYPE, "a lane as the queue");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 1, 200, 1, T) == LANES_E_BADHANDLE, "no such queue");
    static const uint64_t wild[] = { 0x10, 0x7ffffffff000ull, 0x8000000000000000ull, 0xffff800000000000ull,
                                     0xfffffffffffffff8ull };
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        int64_t r = lanes_sys_ipc_submit_wait(l[1], (const void *)(uintptr_t)wild[i], 1, q.handle, 1, T);
        REQUIRE(r == LANES_E_FAULT, "actions at %#llx: %s", (unsigned long long)wild[i], E(r));
    }
    struct lane_ipc_action a = act(LANES_IPC_ACTION_SEND, (void *)0x10, 8);
    REQUIRE(lanes_sys_ipc_submit_wait(l[0], &a, 1, q.handle, 1, T) == LANES_E_FAULT, "send from a bad pointer");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 0, q.handle, 1, T) == LANES_E_INVAL, "0 actions");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 9, q.handle, 1, T) == LANES_E_INVAL, "9 actions");
    a = rv;
    a.type = 99;
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &a, 1, q.handle, 1, T) == LANES_E_INVAL, "bad action type");
    /* Rights on the queue: WRITE to submit and WAIT to wait, both checked before submitting. */
    int32_t qw = (int32_t)lanes_sys_handle_dup(q.handle, LANES_RIGHT_WRITE);
    int32_t qwait = (int32_t)lanes_sys_handle_dup(q.handle, LANES_RIGHT_WAIT);
    REQUIRE(qw >= 0 && qwait >= 0, "dup");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 1, qw, 1, T) == LANES_E_ACCESS, "a queue without WAIT");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 1, qwait, 1, T) == LANES_E_ACCESS, "a queue without WRITE");
    lanes_sys_handle_close(qw);
    lanes_sys_handle_close(qwait);
    /* A full queue: AGAIN at once, even though the wait would have slept. */
    REQUIRE(lanes_sys_ipc_submit(l[1], &rv, 1, q.handle, 5) == 0, "recv filling the queue");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 1, q.handle, 6, T) == LANES_E_AGAIN, "a full queue");
    uint64_t dt = lanes_now_ns() - t0;
    REQUIRE(dt < LANES_SEC(5), "failed submissions took %llu ms: one waited", (unsigned long long)(dt / 1000000));
    REQUIRE(no_completion(&q), "a completion from a failed submission");
    /* Only the recv with tag 5 is pending on l[1]: the first send matches it, the second finds
     * nothing (a failed submission that had queued a recv would have taken it). */
    REQUIRE(lanes_sys_ipc_submit(l[0], &(struct lane_ipc_action){ .type = LANES_IPC_ACTION_SEND, .buf = (uint64_t)(uintptr_t)"a",
                                     .len = 2, .handle = -1 }, 1, qs.handle, 7) == 0, "send 7");
    struct lane_ipc_completion c;
    REQUIRE(lanes_queue_next(&qs, &c, T1) == 0 && c.tag == 7 && c.status == 0, "send 7: %s", E(c.status));
    REQUIRE(lanes_queue_next(&q, &c, T1) == 0 && c.tag == 5 && c.status == 0, "recv 5: %s", E(c.status));
    REQUIRE(lanes_sys_ipc_submit(l[0], &(struct lane_ipc_action){ .type = LANES_IPC_ACTION_SEND, .buf = (uint64_t)(uintptr_t)"b",
                                     .len = 2, .handle = -1 }, 1, qs.handle, 8) == 0, "send 8");
    REQUIRE(lanes_sys_ipc_queue_wait(qs.handle, LANES_MS(50)) == LANES_E_TIMEOUT, "send 8 matched a receive");
    lanes_sys_handle_close(l[1]);
    REQUIRE(lanes_queue_next(&qs, &c, T1) == 0 && c.tag == 8 && c.status == LANES_E_END_OF_LANE, "send 8: %s", E(c.status));
    lanes_sys_handle_close(l[0]);
    lanes_queue_close(&q);
    lanes_queue_close(&qs);
    return true;
}

static struct {
    int32_t lane, queue;
    volatile int go;
    volatile int64_t r;
} swi;

static void sw_interrupted(void *arg)
{
    (void)arg;
    struct lane_ipc_action a = act(LANES_IPC_ACTION_RECV_INLINE, 0, 0);
    swi.go = 1;
    swi.r = lanes_sys_ipc_submit_wait(swi.lane, &a, 1, swi.queue, 5, LANES_SEC(30));
}

/* The wait's endings (timeout, poll, alert, interrupt) are ipc_queue_wait's; the submission
 * stands after each: it still matches, can be cancelled, and completes once. */
static bool t_submit_wait_timeout(void)
{
    struct lanes_queue q;
    REQUIRE(lanes_queue_init(&q, 8) == 0, "queue");
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lane_ipc_action rv = act(LANES_IPC_ACTION_RECV_INLINE, 0, 0);
    uint64_t t0 = lanes_now_ns();
    int64_t r = lanes_sys_ipc_submit_wait(l[1], &rv, 1, q.handle, 1, LANES_MS(30));
    uint64_t dt = lanes_now_ns() - t0;
    REQUIRE(r == LANES_E_TIMEOUT, "a recv nobody answers: %s", E(r));
    REQUIRE(dt >= LANES_MS(30), "timed out after only %llu ns", (unsigned long long)dt);
    REQUIRE(no_completion(&q), "a completion without a peer");
    /* still pending: a send matches it */
    REQUIRE(lanes_sys_ipc_submit(l[0], &(struct lane_ipc_action){ .type = LANES_IPC_ACTION_SEND, .buf = (uint64_t)(uintptr_t)"late",
                                     .len = 5, .handle = -1 }, 1, q.handle, 2) == 0, "send");
    struct lane_ipc_completion c1, c2;
    REQUIRE(two(&q, &c1, &c2), "completions");
    REQUIRE(c1.status == 0 && c2.status == 0, "%s / %s", E(c1.status), E(c2.status));
    REQUIRE(strcmp(lanes_ipc_data(&c1, 0), "late") == 0, "recv got '%s'", (const char *)lanes_ipc_data(&c1, 0));
    /* timeout 0 polls; the recv is then cancelled */
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 1, q.handle, 3, 0) == LANES_E_TIMEOUT, "poll");
    REQUIRE(lanes_sys_ipc_cancel(q.handle, 3) == 0, "cancel: the recv was not pending");
    struct lane_ipc_completion c;
    REQUIRE(lanes_queue_next(&q, &c, T1) == 0 && c.tag == 3 && c.status == LANES_E_CANCELLED, "cancelled: %s", E(c.status));
    REQUIRE(no_completion(&q), "a second completion");
    /* a pending alert ends the wait at once */
    REQUIRE(lanes_sys_ipc_queue_alert(q.handle) == 0, "alert");
    REQUIRE(lanes_sys_ipc_submit_wait(l[1], &rv, 1, q.handle, 4, T1) == LANES_E_ALERTED, "alerted");
    REQUIRE(lanes_sys_ipc_cancel(q.handle, 4) == 0, "cancel after ALERTED: the recv was not pending");
    REQUIRE(lanes_queue_next(&q, &c, T1) == 0 && c.tag == 4 && c.status == LANES_E_CANCELLED, "cancelled: %s", E(c.status));
    /* thread_interrupt ends it with INTERRUPTED (an interrupt that comes before the wait cancels
     * the wait when it starts: the same either way) */
    swi.lane = l[1];
    swi.queue = q.handle;
    swi.go = 0;
    swi.r = 1;
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, sw_interrupted, NULL, 0) == 0, "thread");
    while (!swi.go)
        lanes_sys_yield();
    lanes_sys_sleep(LANES_MS(20));
    REQUIRE(lanes_sys_thread_interrupt(t.handle) == 0, "interrupt");
    REQUIRE(lanes_thread_join(&t, T1) == 0, "join");
    REQUIRE(swi.r == LANES_E_INTERRUPTED, "interrupted wait: %s", E(swi.r));
    REQUIRE(no_completion(&q), "a completion without a peer");
    /* the recv stands until its lane goes */
    lanes_sys_handle_close(l[0]);
    REQUIRE(lanes_queue_next(&q, &c, T1) == 0 && c.tag == 5 && c.status == LANES_E_END_OF_LANE, "after close: %s",
            E(c.status));
    lanes_sys_handle_close(l[1]);
    lanes_queue_close(&q);
    return true;
}

/* ---- events ---- */

static bool t_event_oneshot(void)
{
    int32_t ev = (int32_t)lanes_sys_ipc_event_create(LANES_EVENT_KIND_ONESHOT);
    REQUIRE(ev >= 0, "create");
    REQUIRE(lanes_sys_ipc_event_await(ev, 0, Q.handle, 1) == 0, "await");
    REQUIRE(no_completion(&Q), "completed before the raise");
    REQUIRE(lanes_sys_ipc_event_raise(ev, 0) == 0, "raise");
    struct lane_ipc_completion c;
    REQUIRE(next(&Q, &c) && c.tag == 1 && c.status == 0, "await did not complete");
    REQUIRE(lanes_sys_ipc_event_raise(ev, 0) == LANES_E_EXISTS, "raised twice");
    REQUIRE(lanes_sys_ipc_event_await(ev, 0, Q.handle, 2) == 0, "await after");
    REQUIRE(next(&Q, &c) && c.tag == 2 && c.status == 0, "late await did not complete at once");
    lanes_sys_handle_close(ev);
    return true;
}

static bool t_event_bitset(void)
{
    int32_t ev = (int32_t)lanes_sys_ipc_event_create(LANES_EVENT_KIND_BITSET);
    REQUIRE(ev >= 0, "create");
    REQUIRE(lanes_sys_ipc_event_await(ev, 0, Q.handle, 1) == 0, "await");
    REQUIRE(lanes_sys_ipc_event_raise(ev, 0x5) == 0, "raise");
    struct lane_ipc_completion c;
    REQUIRE(next(&Q, &c) && c.bits == 0x5 && R(&c, 0)->value == 1, "bits 0x%llx seq %llu", (unsigned long long)c.bits,
            (unsigned long long)R(&c, 0)->value);
    REQUIRE(lanes_sys_ipc_event_raise(ev, 0x8) == 0 && lanes_sys_ipc_event_raise(ev, 0x1) == 0, "raise");
    REQUIRE(lanes_sys_ipc_event_await(ev, 1, Q.handle, 2) == 0, "await seq 1");
    REQUIRE(next(&Q, &c) && c.bits == 0x9 && R(&c, 0)->value == 3, "since 1: bits 0x%llx seq %llu",
            (unsigned long long)c.bits, (unsigned long long)R(&c, 0)->value);
    REQUIRE(lanes_sys_ipc_event_await(ev, 3, Q.handle, 3) == 0, "await seq 3");
    REQUIRE(no_completion(&Q), "await of the current sequence completed");
    REQUIRE(lanes_sys_ipc_cancel(Q.handle, 3) == 0, "cancel await");
    REQUIRE(next(&Q, &c) && c.tag == 3 && c.status == LANES_E_CANCELLED, "cancelled await: %s", E(c.status));
    lanes_sys_handle_close(ev);
    return true;
}

/* Child: pulls an event and raises it with bits 0x40. */
static int child_raise(void)
{
    int32_t ev = pull_from_lane(lanes_handle_by_tag("lane"));
    if (ev < 0)
        return 1;
    return lanes_sys_ipc_event_raise(ev, 0x40) == 0 ? 0 : 2;
}

static bool t_event_passed(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    int32_t ev = (int32_t)lanes_sys_ipc_event_create(LANES_EVENT_KIND_BITSET);
    REQUIRE(lanes_sys_ipc_event_await(ev, 0, Q.handle, 7) == 0, "await");
    struct lane_spawn_handle h = sh(l[1], "lane");
    int64_t p = spawn_child("raise", NULL, &h, 1);
    REQUIRE(p >= 0, "spawn");
    struct lane_ipc_action a = act(LANES_IPC_ACTION_PUSH, 0, 0);
    a.handle = ev;
    a.rights = LANES_RIGHT_SIGNAL;
    REQUIRE(lanes_sys_ipc_submit(l[0], &a, 1, Q.handle, 8) == 0, "push");
    struct lane_ipc_completion c1, c2;
    REQUIRE(next(&Q, &c1) && next(&Q, &c2), "completions");
    struct lane_ipc_completion *aw = c1.tag == 7 ? &c1 : &c2;
    REQUIRE(aw->tag == 7 && aw->status == 0 && aw->bits == 0x40, "await: bits 0x%llx %s", (unsigned long long)aw->bits,
            E(aw->status));
    char w[128];
    REQUIRE(exited0(p, w), "%s", w);
    lanes_sys_handle_close(ev);
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

/* ---- cancellation ---- */

static bool t_cancel(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 5) == 0, "recv");
    REQUIRE(lanes_sys_ipc_cancel(Q.handle, 6) == LANES_E_NOENT, "cancel of an unknown tag");
    REQUIRE(lanes_sys_ipc_cancel(Q.handle, 5) == 0, "cancel");
    struct lane_ipc_completion c;
    REQUIRE(next(&Q, &c) && c.tag == 5 && c.status == LANES_E_CANCELLED, "cancelled recv: %s", E(c.status));
    REQUIRE(lanes_sys_ipc_cancel(Q.handle, 5) == LANES_E_NOENT, "cancelled twice");
    REQUIRE(no_completion(&Q), "a second completion");
    /* The cancelled recv is gone from the lane: a send now waits. */
    REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, "x", 1), 6) == 0, "send");
    REQUIRE(no_completion(&Q), "send matched a cancelled recv");
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 7) == 0, "recv");
    struct lane_ipc_completion a, b;
    REQUIRE(next(&Q, &a) && next(&Q, &b) && a.status == 0 && b.status == 0, "exchange after cancel");
    REQUIRE(lanes_sys_ipc_cancel(Q.handle, 7) == LANES_E_NOENT, "cancel after completion");
    /* Cancelling an offer cancels its ancillary actions with it: one completion. */
    struct lanes_acts o;
    lanes_acts_init(&o);
    lanes_acts_offer(&o, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&o, "a", 2);
    lanes_acts_recv_inline(&o);
    lanes_acts_end(&o);
    REQUIRE(lanes_ipc_submit(&Q, l[0], &o, 9) == 0, "offer");
    REQUIRE(lanes_sys_ipc_cancel(Q.handle, 9) == 0, "cancel offer");
    REQUIRE(next(&Q, &c) && c.tag == 9 && c.status == LANES_E_CANCELLED, "offer: %s", E(c.status));
    for (int i = 0; i < 3; i++)
        REQUIRE(R(&c, i)->error == LANES_E_CANCELLED, "result %d: %s", i, E(R(&c, i)->error));
    REQUIRE(no_completion(&Q), "a second completion");
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    return true;
}

/* 10,000 rounds: a recv is cancelled while a thread on another CPU sends into it. */
#define RACE_N 10000
static uint32_t race_n = RACE_N;       /* ipctests --race-rounds N lowers it */
static int32_t race_lane;
static volatile uint32_t race_go;      /* the sender may send values < race_go */
static volatile uint32_t race_sent;    /* values the sender has submitted */
static struct lanes_queue race_q;

static uint32_t ncpus = 1;             /* set by main */

/* Waits until *v > i. On SMP it spins (the race wants both sides running at once, and a
 * spin records no trace events); on one CPU it yields, so the other side runs now instead
 * of after a whole time slice. */
static void race_wait_above(volatile uint32_t *v, uint32_t i)
{
    while (__atomic_load_n(v, __ATOMIC_ACQUIRE) <= i) {
        if (ncpus == 1)
            lanes_sys_yield();
        else
            lanes_pause();
    }
}

static void race_sender(void *arg)
{
    (void)arg;
    static uint32_t vals[RACE_N];
    for (uint32_t i = 0; i < race_n; i++) {
        race_wait_above(&race_go, i);
        vals[i] = i;
        struct lane_ipc_action a = { .type = LANES_IPC_ACTION_SEND, .buf = (uint64_t)(uintptr_t)&vals[i], .len = 4,
                                     .handle = -1 };
        while (lanes_sys_ipc_submit(race_lane, &a, 1, race_q.handle, i) == LANES_E_AGAIN) {
            struct lane_ipc_completion c;
            lanes_queue_next(&race_q, &c, T1);
        }
        __atomic_store_n(&race_sent, i + 1, __ATOMIC_RELEASE);
    }
}

static bool t_cancel_race(void)
{
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    REQUIRE(lanes_queue_init(&race_q, 256) == 0, "queue");
    race_lane = l[0];
    race_go = 0;
    race_sent = 0;
    static uint8_t seen_val[RACE_N];
    static uint8_t done_tag[RACE_N];
    memset(seen_val, 0, sizeof seen_val);
    memset(done_tag, 0, sizeof done_tag);
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, race_sender, NULL, 0) == 0, "thread");
    uint32_t cancelled = 0, received = 0, nocancel = 0;
    int32_t last = -1;
    uint32_t spin = 0;
    for (uint32_t i = 0; i < race_n; i++) {
        REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), i) == 0, "recv %u", i);
        /* Let the sender go and race it: the head start adapts so that about half the rounds
         * are cancelled and half complete first, with jitter. */
        __atomic_store_n(&race_go, i + 1, __ATOMIC_RELEASE);
        for (volatile uint32_t k = 0; k < spin + (i * 37) % 64; k++)
            ;
        int64_t r = lanes_sys_ipc_cancel(Q.handle, i);
        if (r != 0) {
            nocancel++;
            spin = spin > 16 ? spin - 16 : 0;
        }
        struct lane_ipc_completion c;
        REQUIRE(next(&Q, &c), "round %u: no completion", i);
        REQUIRE(c.tag == i, "round %u: completion for tag %llu", i, (unsigned long long)c.tag);
        REQUIRE(!done_tag[i], "round %u completed twice", i);
        done_tag[i] = 1;
        if (c.status == LANES_E_CANCELLED) {
            REQUIRE(r == 0, "round %u cancelled but cancel said %s", i, E(r));
            cancelled++;
            spin += 16;
            /* Value i is still pending on the lane: a fresh receive must get exactly it. */
            race_wait_above(&race_sent, i);
            REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), race_n + i) == 0, "re-recv %u", i);
            REQUIRE(next(&Q, &c) && c.tag == race_n + i && c.status == 0, "round %u: re-receive: %s", i, E(c.status));
        }
        {
            REQUIRE(c.status == 0, "round %u: %s", i, E(c.status));
            REQUIRE(c.tag != i || r == LANES_E_NOENT, "round %u: completed but cancel said %s", i, E(r));
            uint32_t v;
            memcpy(&v, lanes_ipc_data(&c, 0), 4);
            REQUIRE(v < race_n && !seen_val[v], "round %u: value %u duplicated or bad", i, v);
            REQUIRE((int32_t)v > last && v == i, "round %u: value %u after %d: out of order", i, v, last);
            seen_val[v] = 1;
            last = (int32_t)v;
            received++;
        }
        REQUIRE(no_completion(&Q), "round %u: a second completion", i);
    }
    REQUIRE(lanes_thread_join(&t, LANES_SEC(60)) == 0, "sender did not finish");
    for (uint32_t i = 0; i < race_n; i++)
        REQUIRE(seen_val[i], "value %u lost", i);
    REQUIRE(submit1(l[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 1u << 30) == 0, "extra recv");
    REQUIRE(lanes_sys_ipc_cancel(Q.handle, 1u << 30) == 0, "extra recv matched a phantom send");
    struct lane_ipc_completion c;
    REQUIRE(next(&Q, &c) && c.status == LANES_E_CANCELLED, "extra");
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    lanes_queue_close(&race_q);
    printf("  cancel race: %u rounds: %u cancelled, %u completed before the cancel (found nothing: %u); %u values "
           "received once each, in order\n", race_n, cancelled, race_n - cancelled, nocancel, received);
    REQUIRE(received == race_n, "received %u of %u values", received, race_n);
    return true;
}

/* ---- process death ---- */

static int child_block(void)
{
    int32_t lane = lanes_handle_by_tag("pend");
    /* Submit a receive that never completes, then wait to be killed. */
    struct lane_ipc_action a = act(LANES_IPC_ACTION_RECV_INLINE, 0, 0);
    lanes_sys_ipc_submit(lane, &a, 1, Q.handle, 1);
    for (int i = 0; i < 120; i++)
        lanes_sys_sleep(LANES_SEC(1));
    return 1;
}

static int child_exit_now(void)
{
    return 0;
}

/* A large copy (outside ipc_lock, on BUSY items that ipc_process_gone leaves alone) into a
 * process that is exiting at that very moment: the copying thread must never walk page tables
 * the exiting process's reaper has freed. The child says "ready" with its big receive queued
 * behind, waits until we took the "ready", then exits (after a spin that varies per round)
 * while our send copies into it. */
#define BIG_COPY (256 * 1024)

static int child_bigrecv(const char *arg)
{
    int32_t l = lanes_handle_by_tag("lane");
    int64_t a = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, BIG_COPY, LANES_PROT_READ | LANES_PROT_WRITE);
    if (a < 0)
        return 1;
    if (submit1(l, act(LANES_IPC_ACTION_SEND, "r", 1), 2) != 0 ||
        submit1(l, act(LANES_IPC_ACTION_RECV_BUFFER, (void *)(uintptr_t)a, BIG_COPY), 1) != 0)
        return 2;
    struct lane_ipc_completion c;
    do
        if (lanes_queue_next(&Q, &c, LANES_SEC(60)) != 0)
            return 3;
    while (c.tag != 2);
    for (volatile int i = 0, n = atoi(arg) * 2000; i < n; i++)
        ;
    return 0;
}

static bool t_copy_exit(void)
{
    static uint8_t big[BIG_COPY];
    memset(big, 0x5a, sizeof big);
    int copied = 0, failed = 0;
    for (int round = 0; round < 24; round++) {
        int32_t l[2];
        REQUIRE(lanes_stream(l) == 0, "stream");
        struct lane_spawn_handle h = sh(l[1], "lane");
        char arg[12];
        snprintf(arg, sizeof arg, "%d", round % 8);
        int64_t p = spawn_child("bigrecv", arg, &h, 1);
        REQUIRE(p >= 0, "spawn: %s", E(p));
        lanes_sys_handle_close(l[1]);
        /* tags of our own: a late completion of an earlier test may still come in on Q */
        struct lane_ipc_completion c;
        REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 0xc0e1) == 0, "recv ready");
        do
            REQUIRE(next(&Q, &c), "no ready");
        while (c.tag != 0xc0e1);
        REQUIRE(c.status == 0, "ready: %s", E(c.status));
        REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, big, sizeof big), 0xc0e2) == 0, "big send");
        do
            REQUIRE(next(&Q, &c), "big send never completed");
        while (c.tag != 0xc0e2);
        REQUIRE(c.status == 0 || c.status == LANES_E_END_OF_LANE || c.status == LANES_E_DEAD ||
                    c.status == LANES_E_FAULT, "big send into an exiting process: %s", E(c.status));
        if (c.status == 0)
            copied++;
        else
            failed++;
        char w[128];
        REQUIRE(exited0(p, w), "round %d: %s", round, w);
        lanes_sys_handle_close(l[0]);
    }
    printf("  copy-exit: 24 rounds: %d copies completed, %d ended by the exit\n", copied, failed);
    return true;
}

static bool t_eol_process_death(void)
{
    for (int round = 0; round < 2; round++) {
        int32_t l[2], pend[2];
        REQUIRE(lanes_stream(l) == 0 && lanes_stream(pend) == 0, "stream");
        struct lane_spawn_handle h[2] = { sh(pend[1], "pend"), sh(l[1], "lane") };
        int64_t p = spawn_child(round ? "block" : "exit", NULL, h, 2);
        REQUIRE(p >= 0, "spawn");
        lanes_sys_handle_close(l[1]);
        lanes_sys_handle_close(pend[1]);
        if (!round)
            lanes_sys_handle_close(pend[0]);
        struct lane_ipc_completion c;
        struct lane_exit_info ei;
        if (round == 0) {
            /* A receive pending here when the peer process exits. */
            REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 1) == 0, "recv");
            REQUIRE(next(&Q, &c), "exited: no completion");
            REQUIRE(c.status == LANES_E_END_OF_LANE, "exited peer: %s", E(c.status));
        } else {
            /* The peer has a receive pending on a second stream when it is killed: once its
             * handles are gone (end of lane on the first), a send there must not match it. */
            REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 1) == 0, "recv");
            lanes_sys_sleep(LANES_MS(50));
            REQUIRE(lanes_sys_process_kill((int32_t)p, 9) == 0, "kill");
            REQUIRE(next(&Q, &c) && c.status == LANES_E_END_OF_LANE, "killed peer: %s", E(c.status));
            REQUIRE(lanes_wait((int32_t)p, &ei, T1) == 0, "wait");
            lanes_sys_sleep(LANES_MS(20));
            REQUIRE(submit1(pend[0], act(LANES_IPC_ACTION_SEND, "x", 1), 3) == 0 && next(&Q, &c) &&
                        c.status == LANES_E_END_OF_LANE, "killed: op on the stream it had a pending receive on: %s",
                    E(c.status));
            lanes_sys_handle_close(pend[0]);
        }
        REQUIRE(submit1(l[0], act(LANES_IPC_ACTION_SEND, "x", 1), 2) == 0 && next(&Q, &c) &&
                    c.status == LANES_E_END_OF_LANE, "%s: later op: %s", round ? "killed" : "exited", E(c.status));
        lanes_wait((int32_t)p, &ei, T1);
        lanes_sys_handle_close((int32_t)p);
        lanes_sys_handle_close(l[0]);
    }
    return true;
}

/* ---- stress: a ring of 4 processes, 25,000 messages each way round = 100,000 messages ---- */

#define RING_PROCS 4
#define RING_MSGS 25000
static uint32_t ring_msgs = RING_MSGS;  /* per process; ipctests --ring-msgs N changes it */
#define RING_WINDOW 32

static int child_ring(const char *arg)
{
    int id = atoi(arg);
    const char *colon = strchr(arg, ':');
    if (colon)
        ring_msgs = (uint32_t)atoi(colon + 1);
    int32_t in = lanes_handle_by_tag("in"), out = lanes_handle_by_tag("out");
    struct lanes_queue q;
    if (lanes_queue_init(&q, 2 * RING_WINDOW + 2) < 0)
        return 1;
    static uint64_t sendbuf[RING_WINDOW];
    uint32_t sent = 0, send_done = 0, recv_posted = 0, received = 0;
    uint64_t expect = 0;
    while (send_done < ring_msgs || received < ring_msgs) {
        while (sent < ring_msgs && sent - send_done < RING_WINDOW) {
            uint32_t s = sent % RING_WINDOW;
            sendbuf[s] = ((uint64_t)id << 32) | sent;
            struct lane_ipc_action a = { .type = LANES_IPC_ACTION_SEND, .buf = (uint64_t)(uintptr_t)&sendbuf[s],
                                         .len = 8, .handle = -1 };
            if (lanes_sys_ipc_submit(out, &a, 1, q.handle, 1) != 0)
                return 2;
            sent++;
        }
        while (recv_posted < ring_msgs && recv_posted - received < RING_WINDOW) {
            struct lane_ipc_action a = { .type = LANES_IPC_ACTION_RECV_INLINE, .handle = -1 };
            if (lanes_sys_ipc_submit(in, &a, 1, q.handle, 2) != 0)
                return 3;
            recv_posted++;
        }
        struct lane_ipc_completion c;
        if (lanes_queue_next(&q, &c, LANES_SEC(60)) != 0)
            return 4;
        if (c.status != 0)
            return 5;
        if (c.tag == 1) {
            send_done++;
        } else {
            uint64_t v;
            memcpy(&v, lanes_ipc_data(&c, 0), 8);
            int from = (id + RING_PROCS - 1) % RING_PROCS;
            if (v != (((uint64_t)from << 32) | expect)) {
                printf("ring %d: got %d:%u, expected %d:%llu\n", id, (int)(v >> 32), (unsigned)v, from,
                       (unsigned long long)expect);
                return 6;
            }
            expect++;
            received++;
        }
    }
    return 0;
}

static bool t_stress_ring(void)
{
    int32_t s[RING_PROCS][2];
    for (int i = 0; i < RING_PROCS; i++)
        REQUIRE(lanes_stream(s[i]) == 0, "stream");
    int64_t p[RING_PROCS];
    uint64_t t0 = lanes_now_ns();
    for (int i = 0; i < RING_PROCS; i++) {
        /* process i sends on s[i][0] and receives on s[i-1][1] */
        struct lane_spawn_handle h[2] = { sh(s[(i + RING_PROCS - 1) % RING_PROCS][1], "in"), sh(s[i][0], "out") };
        char arg[24];
        snprintf(arg, sizeof arg, "%d:%u", i, ring_msgs);
        p[i] = spawn_child("ring", arg, h, 2);
        REQUIRE(p[i] >= 0, "spawn %d", i);
    }
    for (int i = 0; i < RING_PROCS; i++) {
        lanes_sys_handle_close(s[i][0]);
        lanes_sys_handle_close(s[i][1]);
    }
    for (int i = 0; i < RING_PROCS; i++) {
        char w[128];
        REQUIRE(exited0(p[i], w), "ring member %d: %s", i, w);
    }
    uint64_t dt = lanes_now_ns() - t0;
    printf("  stress: %d processes in a ring, %u messages, none lost or duplicated, in order, %llu ms\n", RING_PROCS,
           RING_PROCS * ring_msgs, (unsigned long long)(dt / 1000000));
    return true;
}

/* ---- library: dispatcher ---- */

static int cb_calls;
static int64_t cb_status[4];
static void cb(struct lanes_dispatcher *d, void *ctx, const struct lane_ipc_completion *c)
{
    (void)d;
    cb_status[(uintptr_t)ctx] = c->status;
    cb_calls++;
}

static bool t_dispatcher(void)
{
    struct lanes_dispatcher d;
    REQUIRE(lanes_dispatch_init(&d) == 0, "init");
    int32_t l[2];
    REQUIRE(lanes_stream(l) == 0, "stream");
    struct lanes_acts b;
    uint64_t tag;
    cb_calls = 0;
    lanes_acts_init(&b);
    lanes_acts_recv_inline(&b);
    REQUIRE(lanes_dispatch_submit(&d, l[1], &b, cb, (void *)0, &tag) == 0, "submit");
    lanes_acts_init(&b);
    lanes_acts_send(&b, "d", 2);
    REQUIRE(lanes_dispatch_submit(&d, l[0], &b, cb, (void *)1, NULL) == 0, "submit");
    lanes_acts_init(&b);
    lanes_acts_recv_inline(&b);
    uint64_t t2;
    REQUIRE(lanes_dispatch_submit(&d, l[1], &b, cb, (void *)2, &t2) == 0, "submit");
    REQUIRE(lanes_dispatch_cancel(&d, t2) == 0, "cancel");
    lanes_dispatch_run(&d);
    REQUIRE(cb_calls == 3, "%d callbacks", cb_calls);
    REQUIRE(cb_status[0] == 0 && cb_status[1] == 0 && cb_status[2] == LANES_E_CANCELLED, "statuses %s %s %s",
            E(cb_status[0]), E(cb_status[1]), E(cb_status[2]));
    lanes_sys_handle_close(l[0]);
    lanes_sys_handle_close(l[1]);
    lanes_dispatch_close(&d);
    return true;
}


/* ---- mbus (the registry server, os/programs/mbus) ---- */

#include <lanes/abi/messages.h>
#include <lanes/mbus.h>

/* Publishing, enumerating and binding go through libc's mbus client (<lanes/mbus.h>). */

struct names { char *out; size_t cap; };

static void add_name(const struct lane_msg_mbus_entry *e, void *arg)
{
    struct names *n = arg;
    size_t l = strlen(n->out);
    snprintf(n->out + l, n->cap - l, "%s%s", l ? "," : "", e->name);
}

/* Enumerates; returns the count (names joined with ',' into out) or an error. */
static int64_t mbus_enumerate(int32_t mbus, uint64_t after, const char *filter, char *out, size_t cap)
{
    struct names n = { out, cap };
    out[0] = 0;
    return lanes_mbus_enumerate(mbus, filter, after, add_name, &n);
}

static bool t_mbus(void)
{
    int32_t reg[2];
    REQUIRE(lanes_stream(reg) == 0, "stream");
    struct lane_spawn_handle h = sh(reg[1], "mbus");
    const char *argv[1] = { "mbus" };
    struct lanes_spawn_opts o = { LANES_HANDLE_NONE, &h, 1, false };
    int64_t p = lanes_spawn("mbus", 1, argv, &o);
    REQUIRE(p >= 0, "spawn mbus: %s", E(p));
    lanes_sys_handle_close(reg[1]);
    int32_t svc[2], tty[2], late[2];
    REQUIRE(lanes_stream(svc) == 0 && lanes_stream(tty) == 0 && lanes_stream(late) == 0, "streams");
    uint64_t id1, id2, id3;
    int64_t r = lanes_mbus_publish(reg[0], "demo.front", "class=demo;role=front", svc[0], &id1);
    REQUIRE(r == 0 && id1 == 1, "publish: %s id %llu", E(r), (unsigned long long)id1);
    REQUIRE(lanes_mbus_publish(reg[0], "serial0", "class=tty", tty[0], &id2) == 0 && id2 == 2, "publish 2");
    char names[128];
    REQUIRE(mbus_enumerate(reg[0], 0, "", names, sizeof names) == 2 && !strcmp(names, "demo.front,serial0"),
            "enumerate all: %s", names);
    REQUIRE(mbus_enumerate(reg[0], 0, "class=demo", names, sizeof names) == 1 && !strcmp(names, "demo.front"),
            "class=demo: %s", names);
    REQUIRE(mbus_enumerate(reg[0], 0, "class=tty|role=front", names, sizeof names) == 2, "or: %s", names);
    REQUIRE(mbus_enumerate(reg[0], 0, "class=demo&role=back", names, sizeof names) == 0, "and: %s", names);
    REQUIRE(mbus_enumerate(reg[0], 1, "", names, sizeof names) == 1 && !strcmp(names, "serial0"), "after 1: %s", names);
    REQUIRE(mbus_enumerate(reg[0], 0, "name=serial0", names, sizeof names) == 1, "name=: %s", names);
    /* Await an object that does not exist yet, then publish it. */
    struct lane_msg_mbus_await aw = lanes_msg_mbus_await_encode(2, "class=late");
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, &aw, sizeof aw);
    lanes_acts_recv_inline(&b);
    lanes_acts_end(&b);
    REQUIRE(lanes_ipc_submit(&Q, reg[0], &b, 500) == 0, "await");
    lanes_sys_sleep(LANES_MS(20));
    const struct lane_ipc_completion *pk = lanes_queue_peek(&Q);
    REQUIRE(!pk || pk->tag != 500 || pk->status != 0, "await answered before the object existed");
    REQUIRE(lanes_mbus_publish(reg[0], "late-service", "class=late", late[0], &id3) == 0 && id3 == 3, "publish 3");
    struct lane_ipc_completion c;
    do
        REQUIRE(next(&Q, &c), "await never answered");
    while (c.tag != 500);
    struct lane_msg_mbus_entry e;
    REQUIRE(c.status == 0 && lanes_msg_mbus_entry_decode(lanes_ipc_data(&c, 2), lanes_ipc_result(&c, 2)->length, &e) == 0 &&
                e.id == 3 && !strcmp(e.name, "late-service"), "await: %s", E(c.status));
    /* Bind: a lane to object 1, which reaches the publisher's other end. */
    int64_t lb = lanes_mbus_bind(reg[0], id1);
    REQUIRE(lb >= 0, "bind: %s", E(lb));
    int32_t bound = (int32_t)lb;
    REQUIRE(submit1(bound, act(LANES_IPC_ACTION_SEND, "via mbus", 9), 1) == 0, "send");
    REQUIRE(submit1(svc[1], act(LANES_IPC_ACTION_RECV_INLINE, 0, 0), 2) == 0, "recv");
    struct lane_ipc_completion c1, c2;
    REQUIRE(two(&Q, &c1, &c2) && c2.status == 0 && !strcmp(lanes_ipc_data(&c2, 0), "via mbus"), "bound lane");
    /* Bind to an unknown id. */
    r = lanes_mbus_bind(reg[0], 99);
    REQUIRE(r == LANES_E_NOENT, "bind 99: %s", E(r));
    int32_t hs[] = { bound, svc[0], svc[1], tty[0], tty[1], late[0], late[1], reg[0] };
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        lanes_sys_handle_close(hs[i]);
    char w[128];
    REQUIRE(exited0(p, w), "mbus after its lane closed: %s", w);
    return true;
}

static const struct lanes_test tests[] = {
    { "ipc-send-recv-inline", t_send_recv_inline },
    { "ipc-fifo-order", t_fifo_order },
    { "ipc-recv-buffer-large", t_recv_buffer_large },
    { "ipc-match-table", t_match_table },
    { "ipc-too-small", t_too_small },
    { "ipc-bad-args", t_bad_args },
    { "ipc-rights", t_rights },
    { "ipc-end-of-lane", t_end_of_lane },
    { "ipc-shutdown", t_shutdown },
    { "ipc-conversation", t_conversation },
    { "ipc-nested3", t_nested3 },
    { "ipc-nested3-processes", t_nested3_processes },
    { "ipc-push-pull-rights", t_push_pull },
    { "ipc-push-lane-process", t_push_lane_process },
    { "ipc-credentials", t_credentials },
    { "ipc-queue-many", t_queue_many },
    { "ipc-queue-alert", t_queue_alert },
    { "ipc-submit-wait-rtt", t_submit_wait_rtt },
    { "ipc-submit-wait-bad", t_submit_wait_bad },
    { "ipc-submit-wait-timeout", t_submit_wait_timeout },
    { "ipc-event-oneshot", t_event_oneshot },
    { "ipc-event-bitset", t_event_bitset },
    { "ipc-event-passed", t_event_passed },
    { "ipc-cancel", t_cancel },
    { "ipc-cancel-race", t_cancel_race },
    { "ipc-eol-process-death", t_eol_process_death },
    { "ipc-copy-exit", t_copy_exit },
    { "ipc-dispatcher", t_dispatcher },
    { "ipc-mbus", t_mbus },
    { "ipc-stress-ring", t_stress_ring },
};
#define NTESTS (sizeof tests / sizeof tests[0])

/* Each test starts with an empty queue: leftover completions from sends that matched are fine
 * after a test that passed (none should be errors); after a failure, whatever is still coming. */
static void drain_queue(bool ok)
{
    struct lane_ipc_completion c;
    while (lanes_queue_next(&Q, &c, ok ? 0 : LANES_MS(10)) == 0)
        ;
}

int main(int argc, char **argv)
{
    if (lanes_queue_init(&Q, 64) < 0) {
        printf("ipctests: cannot create a completion queue\n");
        return 100;
    }
    if (argc > 2 && strcmp(argv[1], "--child") == 0) {
        const char *m = argv[2];
        if (!strcmp(m, "nested-server"))
            return child_nested_server();
        if (!strcmp(m, "pull-lane"))
            return child_pull_lane();
        if (!strcmp(m, "raise"))
            return child_raise();
        if (!strcmp(m, "block"))
            return child_block();
        if (!strcmp(m, "exit"))
            return child_exit_now();
        if (!strcmp(m, "bigrecv") && argc > 3)
            return child_bigrecv(argv[3]);
        if (!strcmp(m, "ring") && argc > 3)
            return child_ring(argv[3]);
        if (!strcmp(m, "sw-echo") && argc > 3)
            return child_sw_echo(argv[3]);
        return 99;
    }
    if (argc > 2 && strcmp(argv[1], "--race-rounds") == 0) {
        race_n = (uint32_t)atoi(argv[2]);
        if (race_n == 0 || race_n > RACE_N)
            race_n = RACE_N;
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    if (argc > 2 && strcmp(argv[1], "--ring-msgs") == 0) {
        ring_msgs = (uint32_t)atoi(argv[2]);
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);
    ncpus = si.ncpus;
    printf("ipctests: %u IPC tests on %u CPUs\n", (unsigned)NTESTS, si.ncpus);
    struct lanes_tests results = { 0, 0 };
    lanes_test_table(&results, tests, NTESTS, argc, argv, drain_queue);
    return lanes_test_summary(&results, "ipctests", argc);
}
