/* contests — in-guest tests of the user-space console (os/programs/console) and init's wiring.
 *
 * Run from the shell (which hands it the console and mbus lanes). Each test prints
 * `test NAME: ok` or `test NAME: FAILED (why)`; the last line is `N passed, N failed`. The exit
 * status is 1 when a test failed or no test matches the names given, else 0.
 *
 *   console-server      a separate process named "console" holds COM1 (sys_console_info), and
 *                       mbus lists it as name=console with claim=N and its pid
 *   console-lane-write  we have a console lane; a printf goes through the server (its Stat
 *                       counters grow by what we wrote)
 *   console-read        a non-blocking console.Read with nothing typed answers AGAIN
 *   console-mode        console.Mode sets and clears ECHO
 *   console-klog        a kernel log line goes through the kernel's ring and the server drains it
 *   console-caps        no one else can claim COM1: IRQ 4 is taken (EXISTS), claims with the wrong
 *                       IRQ line or port range fail with RANGE, klog_read from us is ACCESS
 *   console-no-ports    a process without the COM1 ports that touches one faults (#GP)
 *   demo-server         init's demo server (ipc-demo --back) is reachable through mbus: demo.back
 *                       computes 6 * 7 = 42
 *   console-restart     console.Crash makes the server fault; init restarts it; meanwhile we
 *                       write kernel log lines "console-restart: kernel line N" (os-test checks
 *                       that all of them reach the serial line, in order); then output resumes
 *                       over a lane to the new server, and the kernel's ring lost nothing.
 *                       With --input-rounds N (os-test), N times: print "console-restart:
 *                       waiting for input I", read a line typed on the serial line through the
 *                       new server, and answer it over the lane and through the kernel log;
 *                       os-test times each answer against when it typed the line (issue 22:
 *                       input typed after a restart never arrived)
 *   console-bench       a figure, not a test: 16 KiB through the lane vs through the kernel
 *
 * Usage: contests [--input-rounds N] [NAME-PREFIX...]   (contests --touch-com1: the child of
 * console-no-ports)
 */
#include <lanes.h>
#include <lanes/testing.h>
#include <lanes/console.h>
#include <lanes/ipc.h>
#include <lanes/mbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LANES_MANIFEST("system");

static int32_t system_cap, mbus_lane;
static int input_rounds;        /* --input-rounds N: lines to read after the restart */

#define E(r) lanes_ipc_strerror(r)

static struct lane_console_info info_now(void)
{
    struct lane_console_info ci;
    memset(&ci, 0, sizeof ci);
    lanes_sys_console_info(&ci);
    return ci;
}

static bool name_of_pid(uint32_t pid, char *name, size_t cap)
{
    static struct lane_thread_record recs[256];
    int64_t n = lanes_sys_thread_list(recs, 256);
    for (int64_t i = 0; i < n && i < 256; i++) {
        if (recs[i].pid == pid) {
            snprintf(name, cap, "%.32s", recs[i].name);
            return true;
        }
    }
    return false;
}

static bool t_server(void)
{
    struct lane_console_info ci = info_now();
    REQUIRE(ci.owner_pid != 0, "the kernel drives COM1 (no console server holds it)");
    REQUIRE(ci.owner_pid != lanes_startup->pid, "we hold COM1?");
    char name[40];
    REQUIRE(name_of_pid(ci.owner_pid, name, sizeof name) && strcmp(name, "console") == 0,
            "pid %u holding COM1 is not a process named console", ci.owner_pid);
    REQUIRE(mbus_lane != LANES_HANDLE_NONE, "no mbus lane was handed to us");
    char filter[64];
    snprintf(filter, sizeof filter, "name=console&claim=%u&pid=%u", ci.claims, ci.owner_pid);
    struct lane_msg_mbus_entry e;
    int64_t r = lanes_mbus_find(mbus_lane, filter, 0, &e);
    REQUIRE(r == 1, "mbus has no entry %s (%s)", filter, r < 0 ? E(r) : "none");
    REQUIRE(strstr(e.props, "class=tty") != NULL, "console's properties: %s", e.props);
    printf("  console server: pid %u, mbus id %llu, properties %s\n", ci.owner_pid, (unsigned long long)e.id, e.props);
    return true;
}

static bool t_lane_write(void)
{
    REQUIRE(lanes_console_lane() != LANES_HANDLE_NONE, "no console lane (tag \"console\") was handed to us");
    struct lane_msg_console_stats a, b;
    int64_t r = lanes_console_stats(&a);
    REQUIRE(r == 0, "console.Stat: %s", E(r));
    static const char line[] = "  contests: this line went over the console lane\n";
    int n = printf("%s", line);
    r = lanes_console_stats(&b);
    REQUIRE(r == 0, "console.Stat: %s", E(r));
    REQUIRE(n == (int)sizeof line - 1, "printf returned %d", n);
    REQUIRE(b.tx_bytes >= a.tx_bytes + sizeof line - 1, "the server's tx count grew by %llu, not %zu",
            (unsigned long long)(b.tx_bytes - a.tx_bytes), sizeof line - 1);
    REQUIRE(b.requests >= a.requests + 2, "requests grew by %llu", (unsigned long long)(b.requests - a.requests));
    REQUIRE(b.pid == info_now().owner_pid, "Stat answered by pid %u, COM1 held by %u", b.pid, info_now().owner_pid);
    printf("  console server figures: %llu bytes out for clients, %llu from the kernel log, %llu in (%llu IRQs, "
           "%llu bytes found by the safety poll), %llu requests\n", (unsigned long long)b.tx_bytes,
           (unsigned long long)b.klog_bytes, (unsigned long long)b.rx_bytes, (unsigned long long)b.rx_irqs,
           (unsigned long long)b.rx_polled, (unsigned long long)b.requests);
    return true;
}

static bool t_read(void)
{
    char buf[8];
    int64_t r = lanes_console_read(buf, sizeof buf, 0);
    REQUIRE(r == LANES_E_AGAIN || r > 0, "non-blocking read returned %lld (%s)", (long long)r, E(r));
    return true;
}

static bool t_mode(void)
{
    int64_t m = lanes_console_mode(LANES_CONSOLE_MODE_ECHO, 0);
    REQUIRE(m >= 0 && (m & LANES_CONSOLE_MODE_ECHO) && (m & LANES_CONSOLE_MODE_ONLCR), "set ECHO: %lld", (long long)m);
    m = lanes_console_mode(0, LANES_CONSOLE_MODE_ECHO);
    /* ISIG is the shell's while it runs us in the foreground (Ctrl-C is our SIGINT) */
    REQUIRE((m & ~LANES_CONSOLE_MODE_ISIG) == LANES_CONSOLE_MODE_ONLCR, "clear ECHO: %lld", (long long)m);
    return true;
}

static bool t_klog(void)
{
    struct lane_console_info a = info_now();
    static const char msg[] = "contests: a kernel log line through the ring";
    lanes_sys_log(LANES_LOG_LEVEL_INFO, msg, sizeof msg - 1);
    struct lane_console_info b = info_now();
    REQUIRE(b.produced > a.produced + sizeof msg, "the ring grew by %llu bytes",
            (unsigned long long)(b.produced - a.produced));
    for (int i = 0; i < 200 && b.pending; i++) {
        lanes_sys_sleep(LANES_MS(10));
        b = info_now();
    }
    REQUIRE(b.pending == 0, "the server left %llu bytes in the ring for 2 s", (unsigned long long)b.pending);
    REQUIRE(b.lost == 0, "the ring lost %llu bytes", (unsigned long long)b.lost);
    return true;
}

static bool t_caps(void)
{
    REQUIRE(system_cap != LANES_HANDLE_NONE, "no system capability");
    int64_t r = lanes_sys_irq_create(system_cap, 4);
    REQUIRE(r == LANES_E_EXISTS, "irq_create(4) while the server holds it: %lld (%s)", (long long)r, E(r));
    int64_t port = lanes_sys_ioport_create(system_cap, 0x3f8, 8);
    REQUIRE(port >= 0, "ioport_create(COM1): %s", E(port));
    int64_t irq7 = lanes_sys_irq_create(system_cap, 7);
    REQUIRE(irq7 >= 0, "irq_create(7): %s", E(irq7));
    r = lanes_sys_console_claim((int32_t)irq7, (int32_t)port);
    REQUIRE(r == LANES_E_RANGE, "claim with IRQ 7: %lld (%s)", (long long)r, E(r));
    r = lanes_sys_console_claim((int32_t)port, (int32_t)port);
    REQUIRE(r == LANES_E_TYPE, "claim with a port as the IRQ: %lld (%s)", (long long)r, E(r));
    int64_t small = lanes_sys_ioport_create(system_cap, 0x3f8, 4);
    int64_t weak = lanes_sys_handle_dup((int32_t)port, LANES_RIGHT_READ);
    r = lanes_sys_console_claim((int32_t)irq7, (int32_t)weak);
    REQUIRE(r == LANES_E_ACCESS, "claim with a port handle without CONTROL: %lld (%s)", (long long)r, E(r));
    r = lanes_sys_console_claim(12345, (int32_t)small);
    REQUIRE(r == LANES_E_BADHANDLE, "claim with a bad handle: %lld (%s)", (long long)r, E(r));
    char buf[16];
    r = lanes_sys_klog_read(buf, sizeof buf, 0, 0);
    REQUIRE(r == LANES_E_ACCESS, "klog_read from a process without COM1: %lld (%s)", (long long)r, E(r));
    r = lanes_sys_console_read(buf, 1, 0);
    REQUIRE(r == LANES_E_BUSY, "console_read while a server holds COM1: %lld (%s)", (long long)r, E(r));
    int32_t hs[] = { (int32_t)port, (int32_t)irq7, (int32_t)small, (int32_t)weak };
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        lanes_sys_handle_close(hs[i]);
    REQUIRE(info_now().owner_pid != 0, "COM1 is no longer held");
    return true;
}

static bool t_no_ports(void)
{
    int64_t sup = lanes_sys_supervisor_create();
    REQUIRE(sup >= 0, "supervisor_create: %s", E(sup));
    const char *argv[2] = { "contests", "--touch-com1" };
    struct lanes_spawn_opts o = { (int32_t)sup, NULL, 0, true };
    int64_t p = lanes_spawn("contests", 2, argv, &o);
    REQUIRE(p >= 0, "spawn: %s", E(p));
    struct lane_notification n;
    memset(&n, 0, sizeof n);
    int64_t r = lanes_sys_supervisor_recv((int32_t)sup, &n, LANES_SEC(30));
    struct lane_exit_info ei;
    lanes_sys_process_kill((int32_t)p, 1);
    lanes_wait((int32_t)p, &ei, LANES_SEC(5));
    lanes_sys_handle_close((int32_t)p);
    lanes_sys_handle_close((int32_t)sup);
    REQUIRE(r == 0, "no notification: %s", E(r));
    REQUIRE(n.kind == LANES_NOTIFY_KIND_FAULTED && n.fault == LANES_FAULT_KIND_GPF && n.vector == 13,
            "touching COM1 without its ports: kind %u fault %u vector %u (code %d)", n.kind, n.fault, n.vector, n.code);
    return true;
}

static bool t_demo(void)
{
    REQUIRE(mbus_lane != LANES_HANDLE_NONE, "no mbus lane");
    struct lane_msg_mbus_entry e;
    int64_t r = lanes_mbus_find(mbus_lane, "name=demo.back&class=demo", 0, &e);
    REQUIRE(r == 1, "mbus has no demo.back (%s)", r < 0 ? E(r) : "none");
    int64_t lane = lanes_mbus_bind(mbus_lane, e.id);
    REQUIRE(lane >= 0, "bind demo.back: %s", E(lane));
    struct lanes_queue q;
    REQUIRE(lanes_queue_init(&q, 4) == 0, "queue");
    struct lane_msg_demo_compute m = lanes_msg_demo_compute_encode(1, 6, 7);
    struct lanes_reply a;
    r = lanes_ipc_request(&q, (int32_t)lane, &m, sizeof m, 0, LANES_HANDLE_NONE, LANES_SEC(20), &a);
    struct lane_msg_demo_result res;
    bool ok = r == 0 && lanes_msg_demo_result_decode(a.data, a.length, &res) == 0;
    lanes_queue_close(&q);
    lanes_sys_handle_close((int32_t)lane);
    REQUIRE(ok, "demo.Compute: %s", E(r));
    REQUIRE(res.error == 0 && res.value == 42, "demo.back says 6 * 7 = %lld (error %d)", (long long)res.value, res.error);
    return true;
}

static bool t_restart(void)
{
    struct lane_console_info before = info_now();
    REQUIRE(before.owner_pid != 0 && lanes_console_lane() != LANES_HANDLE_NONE, "no console server / lane");
    struct lane_msg_console_crash m = lanes_msg_console_crash_encode(0xc0);
    uint8_t rep[64];
    int64_t r = lanes_console_call(&m, sizeof m, rep, sizeof rep, LANES_SEC(60));
    REQUIRE(r == LANES_E_END_OF_LANE, "console.Crash answered %lld (%s), not END_OF_LANE", (long long)r, E(r));
    /* Kernel lines while the server is stopped, gone, and restarting — until the new one holds COM1. */
    struct lane_console_info now = info_now();
    int lines = 0;
    uint64_t deadline = lanes_now_ns() + LANES_SEC(60);
    while ((now.owner_pid == 0 || now.claims == before.claims || lines < 3) && lanes_now_ns() < deadline) {
        if (lines < 100) {          /* while stopped, gone, restarting; then just wait */
            char msg[64];
            int n = snprintf(msg, sizeof msg, "console-restart: kernel line %d", ++lines);
            lanes_sys_log(LANES_LOG_LEVEL_INFO, msg, (size_t)n);
        }
        lanes_sys_sleep(LANES_MS(5));
        now = info_now();
    }
    REQUIRE(now.claims == before.claims + 1 && now.owner_pid != 0, "no new claim of COM1 within 60 s (claims %u -> %u)",
            before.claims, now.claims);
    REQUIRE(now.owner_pid != before.owner_pid, "the same pid %u holds COM1", now.owner_pid);
    printf("console-restart: %d kernel lines written while the server restarted\n", lines);
    /* Output resumes: after the first write libc has rebound the new server through mbus. */
    r = lanes_console_reconnect(LANES_SEC(10));
    REQUIRE(r == 0, "rebinding the console through mbus: %s", E(r));
    struct lane_msg_console_stats st;
    r = lanes_console_stats(&st);
    REQUIRE(r == 0 && st.pid == now.owner_pid, "Stat on the new lane: %s, pid %u (COM1: %u)", E(r), st.pid, now.owner_pid);
    printf("console-restart: output resumed over the lane (server pid %u, was %u)\n", st.pid, before.owner_pid);
    REQUIRE(now.lost == 0, "the kernel's ring lost %llu bytes", (unsigned long long)now.lost);
    for (int i = 1; i <= input_rounds; i++) {
        printf("console-restart: waiting for input %d\n", i);
        char line[64];
        size_t n = 0;
        bool eol = false;
        uint64_t until = lanes_now_ns() + LANES_SEC(60);
        while (!eol && n < sizeof line - 1 && lanes_now_ns() < until) {
            char got[16];
            r = lanes_console_read(got, sizeof got < sizeof line - 1 - n ? sizeof got : sizeof line - 1 - n,
                                   LANES_SEC(5));
            for (int64_t k = 0; k < r && !eol; k++) {
                if (got[k] == '\r' || got[k] == '\n')
                    eol = n > 0;
                else
                    line[n++] = got[k];
            }
        }
        line[n] = 0;
        REQUIRE(eol, "input line %d after the restart: %zu bytes (\"%s\") in 60 s", i, n, line);
        printf("console-restart: input %d arrived over the lane: %s\n", i, line);
        char msg[96];
        int len = snprintf(msg, sizeof msg, "console-restart: input %d echoed through the kernel log: %s", i, line);
        lanes_sys_log(LANES_LOG_LEVEL_INFO, msg, (size_t)len);
    }
    return true;
}

static bool t_bench(void)
{
    static char chunk[1024];
    memset(chunk, '.', sizeof chunk);
    chunk[sizeof chunk - 1] = '\n';
    uint64_t t0 = lanes_now_ns();
    for (int i = 0; i < 16; i++)
        lanes_console_write(chunk, sizeof chunk);
    uint64_t t1 = lanes_now_ns();
    for (int i = 0; i < 16; i++)
        lanes_sys_console_write(chunk, sizeof chunk);
    for (int i = 0; i < 500 && info_now().pending; i++)   /* until the server has written it */
        lanes_sys_sleep(LANES_MS(2));
    uint64_t t2 = lanes_now_ns();
    uint64_t lane = t1 - t0, kern = t2 - t1 ? t2 - t1 : 1;
    printf("console-bench: 16 KiB over the console lane %llu us, through the kernel ring %llu us (ratio %llu.%02llu)\n",
           (unsigned long long)lane / 1000, (unsigned long long)kern / 1000, (unsigned long long)(lane / kern),
           (unsigned long long)(lane * 100 / kern) % 100);
    return true;
}

static const struct lanes_test tests[] = {
    { "console-server", t_server },
    { "console-lane-write", t_lane_write },
    { "console-read", t_read },
    { "console-mode", t_mode },
    { "console-klog", t_klog },
    { "console-caps", t_caps },
    { "console-no-ports", t_no_ports },
    { "demo-server", t_demo },
    { "console-bench", t_bench },
    { "console-restart", t_restart },
};

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--touch-com1") == 0) {
        uint8_t v;
        __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)0x3fd));
        printf("contests: read COM1's line status (0x%x) without its ports!\n", v);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "--input-rounds") == 0) {
        input_rounds = atoi(argv[2]);
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    system_cap = lanes_handle_by_tag("system");
    mbus_lane = lanes_handle_by_tag("mbus");
    struct lanes_tests results = { 0, 0 };
    lanes_test_table(&results, tests, sizeof tests / sizeof tests[0], argc, argv, NULL);
    return lanes_test_summary(&results, "contests", argc) ? 1 : 0;
}
