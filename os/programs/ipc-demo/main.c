/* ipc-demo — a client and two servers talking over IPC lanes, in a loop you can watch
 * (in the shell, and in Lanescope's IPC view).
 *
 *   client ──S1──▶ front server ──S2──▶ back server
 *
 * Every round the client
 *   1. opens a session with the front server: offer{send demo.Hello, recv}  (a conversation);
 *   2. in the session asks demo.Compute{op, a, b}; the front server opens a nested conversation
 *      with the back server (offer{send demo.Compute, recv}), which computes the answer, and
 *      replies demo.Result — three processes, two levels of conversations;
 *   3. transfers a descriptor: demo.TakeEvent + push of a bitset EVENT handle; the front server
 *      pulls it and raises it with the requested bits; the client awaits the event;
 *   4. sends demo.Slow{ms} and cancels its pending receive of the reply after 50 ms (CANCELLED),
 *      then closes the session: the server's late reply fails with END_OF_LANE.
 * Usage: ipc-demo [ROUNDS] [PAUSE-MS]    (ROUNDS 0 = forever; default 5 rounds, 500 ms apart)
 *        ipc-demo --front | --back       (the servers; started by the client)
 */
#include <lanes.h>
#include <lanes/ipc.h>
#include <lanes/abi/messages.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lanes_queue Q;
#define T LANES_SEC(30)

static int64_t call(int32_t lane, struct lanes_acts *b, struct lane_ipc_completion *c)
{
    return lanes_ipc_call(&Q, lane, b, c, T);
}

/* ---- back server: computes ---- */

static int back_main(void)
{
    int32_t lane = lanes_handle_by_tag("back");
    for (;;) {
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_accept(&b, 0);
        int64_t r = call(lane, &b, &c);
        if (r == LANES_E_END_OF_LANE)
            return 0;
        if (r)
            continue;
        int32_t conv = lanes_ipc_result(&c, 0)->handle;
        lanes_acts_init(&b);
        lanes_acts_recv_inline(&b);
        struct lane_msg_demo_compute req;
        struct lane_msg_demo_result res = lanes_msg_demo_result_encode(LANES_E_INVAL, 0);
        if (call(conv, &b, &c) == 0 &&
            lanes_msg_demo_compute_decode(lanes_ipc_data(&c, 0), lanes_ipc_result(&c, 0)->length, &req) == 0) {
            switch (req.op) {
            case 0: res = lanes_msg_demo_result_encode(0, req.a + req.b); break;
            case 1: res = lanes_msg_demo_result_encode(0, req.a * req.b); break;
            case 2: res = lanes_msg_demo_result_encode(0, req.a - req.b); break;
            default: break;
            }
        }
        lanes_acts_init(&b);
        lanes_acts_send(&b, &res, sizeof res);
        call(conv, &b, &c);
        lanes_sys_handle_close(conv);
    }
}

/* ---- front server: sessions, nested requests to the back server, events, slow requests ---- */

static void reply(int32_t conv, int32_t err, int64_t value)
{
    struct lane_msg_demo_result res = lanes_msg_demo_result_encode(err, value);
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_send(&b, &res, sizeof res);
    int64_t r = call(conv, &b, &c);
    if (r)
        printf("ipc-demo front: reply not delivered (%s): the client cancelled and closed the session\n", lanes_ipc_strerror(r));
}

static void session(int32_t conv, int32_t back)
{
    for (;;) {
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_recv_inline(&b);
        if (call(conv, &b, &c) != 0)
            return;                                  /* END_OF_LANE: the client closed the session */
        const void *m = lanes_ipc_data(&c, 0);
        uint32_t len = lanes_ipc_result(&c, 0)->length;
        struct lane_msg_demo_hello hello;
        struct lane_msg_demo_compute comp;
        struct lane_msg_demo_take_event te;
        struct lane_msg_demo_slow slow;
        if (lanes_msg_demo_hello_decode(m, len, &hello) == 0) {
            reply(conv, 0, hello.round);
        } else if (lanes_msg_demo_compute_decode(m, len, &comp) == 0) {
            /* A nested conversation with the back server. */
            struct lanes_reply a;
            struct lane_msg_demo_result res;
            if (lanes_ipc_request(&Q, back, &comp, sizeof comp, 0, LANES_HANDLE_NONE, T, &a) == 0 &&
                lanes_msg_demo_result_decode(a.data, a.length, &res) == 0)
                reply(conv, res.error, res.value);
            else
                reply(conv, LANES_E_DEAD, 0);
        } else if (lanes_msg_demo_take_event_decode(m, len, &te) == 0) {
            lanes_acts_init(&b);
            lanes_acts_pull(&b);
            if (call(conv, &b, &c) == 0) {
                int32_t ev = lanes_ipc_result(&c, 0)->handle;
                lanes_sys_ipc_event_raise(ev, te.bits);
                lanes_sys_handle_close(ev);
            }
        } else if (lanes_msg_demo_slow_decode(m, len, &slow) == 0) {
            lanes_sys_sleep(LANES_MS(slow.ms));
            reply(conv, 0, slow.ms);
        } else {
            reply(conv, LANES_E_INVAL, 0);
        }
    }
}

static int front_main(void)
{
    int32_t lane = lanes_handle_by_tag("front"), back = lanes_handle_by_tag("back");
    for (;;) {
        struct lanes_acts b;
        struct lane_ipc_completion c;
        /* Accept a session; its first message (demo.Hello) arrives in the same exchange. */
        lanes_acts_init(&b);
        lanes_acts_accept(&b, LANES_IPC_FLAG_ANCILLARY);
        lanes_acts_recv_inline(&b);
        lanes_acts_end(&b);
        int64_t r = call(lane, &b, &c);
        if (r == LANES_E_END_OF_LANE)
            return 0;
        int32_t conv = lanes_ipc_result(&c, 0)->handle;
        if (r == 0) {
            struct lane_msg_demo_hello hello;
            if (lanes_msg_demo_hello_decode(lanes_ipc_data(&c, 1), lanes_ipc_result(&c, 1)->length, &hello) == 0)
                reply(conv, 0, hello.round);
            session(conv, back);
        }
        if (conv >= 0)
            lanes_sys_handle_close(conv);
    }
}

/* ---- client ---- */

static int32_t result_of(const struct lane_ipc_completion *c, uint32_t i, int64_t *value)
{
    struct lane_msg_demo_result res;
    if (lanes_msg_demo_result_decode(lanes_ipc_data(c, i), lanes_ipc_result(c, i)->length, &res) != 0)
        return LANES_E_INVAL;
    *value = res.value;
    return res.error;
}

static int round_once(int32_t front, uint32_t n)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    int64_t v = 0;
    /* 1. session */
    struct lane_msg_demo_hello hello = lanes_msg_demo_hello_encode(n, "client");
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY | LANES_IPC_FLAG_WANT_LANE);
    lanes_acts_send(&b, &hello, sizeof hello);
    lanes_acts_recv_inline(&b);
    lanes_acts_end(&b);
    int64_t r = call(front, &b, &c);
    if (r || result_of(&c, 2, &v) != 0) {
        printf("ipc-demo: round %u: session: %s\n", n, lanes_ipc_strerror(r));
        return 1;
    }
    int32_t conv = lanes_ipc_result(&c, 0)->handle;
    printf("ipc-demo: round %u: session open (hello -> %lld)\n", n, (long long)v);
    /* 2. nested: front asks back */
    struct lane_msg_demo_compute comp = lanes_msg_demo_compute_encode(n % 3, 6 + n, 7);
    lanes_acts_init(&b);
    lanes_acts_send(&b, &comp, sizeof comp);
    lanes_acts_recv_inline(&b);
    r = call(conv, &b, &c);
    int32_t err = r ? (int32_t)r : result_of(&c, 1, &v);
    static const char ops[] = "+*-";
    printf("ipc-demo: round %u: compute %lld %c %d = %lld via front -> back (%s)\n", n, (long long)(6 + n),
           ops[n % 3], 7, (long long)v, lanes_ipc_strerror(err));
    /* 3. descriptor transfer: an event the server raises */
    int32_t ev = (int32_t)lanes_sys_ipc_event_create(LANES_EVENT_KIND_BITSET);
    struct lane_msg_demo_take_event te = lanes_msg_demo_take_event_encode(1ull << (n % 8));
    lanes_acts_init(&b);
    lanes_acts_send(&b, &te, sizeof te);
    lanes_acts_push(&b, ev, LANES_RIGHT_SIGNAL);
    r = call(conv, &b, &c);
    int64_t er = lanes_sys_ipc_event_await(ev, 0, Q.handle, 77);
    struct lane_ipc_completion ec;
    if (!r && er == 0)
        er = lanes_queue_next(&Q, &ec, T);
    printf("ipc-demo: round %u: pushed an event handle; the server raised bits 0x%llx (%s)\n", n,
           er == 0 ? (unsigned long long)ec.bits : 0ull, lanes_ipc_strerror(r ? r : er));
    lanes_sys_handle_close(ev);
    /* 4. a slow request, cancelled */
    struct lane_msg_demo_slow slow = lanes_msg_demo_slow_encode(300);
    lanes_acts_init(&b);
    lanes_acts_send(&b, &slow, sizeof slow);
    lanes_ipc_submit(&Q, conv, &b, 90);
    lanes_acts_init(&b);
    lanes_acts_recv_inline(&b);
    lanes_ipc_submit(&Q, conv, &b, 91);
    lanes_sys_sleep(LANES_MS(50));
    r = lanes_sys_ipc_cancel(Q.handle, 91);
    int64_t got91 = 1;
    for (int k = 0; k < 2; k++) {
        if (lanes_queue_next(&Q, &c, T) == 0 && c.tag == 91)
            got91 = c.status;
    }
    printf("ipc-demo: round %u: slow request cancelled after 50 ms: %s; closing the session\n", n,
           lanes_ipc_strerror(got91));
    lanes_sys_handle_close(conv);
    return 0;
}

int main(int argc, char **argv)
{
    if (lanes_queue_init(&Q, 16) < 0)
        return 100;
    if (argc > 1 && strcmp(argv[1], "--front") == 0)
        return front_main();
    if (argc > 1 && strcmp(argv[1], "--back") == 0)
        return back_main();
    uint32_t rounds = argc > 1 ? (uint32_t)atoi(argv[1]) : 5;
    uint32_t pause = argc > 2 ? (uint32_t)atoi(argv[2]) : 500;
    int32_t s1[2], s2[2];
    if (lanes_stream(s1) || lanes_stream(s2)) {
        printf("ipc-demo: cannot create streams\n");
        return 1;
    }
    struct lane_spawn_handle fh[2] = { { .handle = s1[1], .rights = LANES_RIGHT_ALL, .tag = "front" },
                                       { .handle = s2[0], .rights = LANES_RIGHT_ALL, .tag = "back" } };
    struct lane_spawn_handle bh[1] = { { .handle = s2[1], .rights = LANES_RIGHT_ALL, .tag = "back" } };
    const char *fa[2] = { "ipc-demo", "--front" }, *ba[2] = { "ipc-demo", "--back" };
    struct lanes_spawn_opts fo = { LANES_HANDLE_NONE, fh, 2, false }, bo = { LANES_HANDLE_NONE, bh, 1, false };
    int64_t front = lanes_spawn("ipc-demo", 2, fa, &fo);
    int64_t back = lanes_spawn("ipc-demo", 2, ba, &bo);
    if (front < 0 || back < 0) {
        printf("ipc-demo: cannot start the servers\n");
        return 1;
    }
    lanes_sys_handle_close(s1[1]);
    lanes_sys_handle_close(s2[0]);
    lanes_sys_handle_close(s2[1]);
    printf("ipc-demo: client pid %lld started the front and back servers; %u rounds (0: forever)\n",
           (long long)lanes_sys_getpid(), rounds);
    int bad = 0;
    for (uint32_t n = 1; rounds == 0 || n <= rounds; n++) {
        bad += round_once(s1[0], n);
        lanes_sys_sleep(LANES_MS(pause));
    }
    /* Closing our lane ends the front server (END_OF_LANE), which closes its lane to the back. */
    lanes_sys_handle_close(s1[0]);
    struct lane_exit_info ei;
    lanes_wait((int32_t)front, &ei, LANES_SEC(10));
    lanes_wait((int32_t)back, &ei, LANES_SEC(10));
    printf("ipc-demo: done, %u rounds, %d failed\n", rounds, bad);
    return bad ? 1 : 0;
}
