/* canceltests — the server side of syscall cancellation (issue 14), without signals: requests
 * that wait in fs (/dev/slow, FIFOs) and in posix (pipes) are cancelled with fs.Cancel on their
 * own passthrough lane (<lanes/cancel.h>), and each still gets exactly one reply: the partial
 * count, or EINTR when nothing had happened. `canceltests [PREFIX...]`, one
 * "test NAME: ok|FAILED (why)" line each, then "N passed, N failed" (os/tools/os-test --only cancel).
 *
 * Cancels are triggered by a timeout (lanes_lane_call's timeout_ns) or by thread_interrupt of a
 * thread blocked in libc's read()/open() — what a signal will do. /dev/slow's text is
 * deterministic (line L = "slow line %06u: 0123456789abc\n"), so every test checks that the
 * bytes it got continue the stream exactly: nothing lost, nothing twice. The last test checks
 * that fs's live-request count (/dev/fsstat) and posix's parked requests are back to zero/start.
 * `canceltests --repeat N [PREFIX...]` runs the selected tests N times (a rare race in one boot).
 * Helper mode (spawned): --fifo-writer PATH TEXT opens PATH for writing and writes TEXT.
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/abi/trace.h>
#include <lanes/cancel.h>
#include <lanes/ipc.h>
#include <lanes/testing.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 16384
#define LINE 32

static struct lanes_queue q;
static uint8_t rep[CHUNK + 64];
static struct lane_msg_posix_counters start_counters;

static uint8_t slow_byte(uint64_t off)
{
    char line[LINE + 1];
    snprintf(line, sizeof line, "slow line %06u: 0123456789abc\n", (unsigned)((off / LINE) % 1000000));
    return (uint8_t)line[off % LINE];
}

/* The first offset in [0, n) where buf is not the slow stream from `at`, or -1. */
static int64_t slow_mismatch(const uint8_t *buf, size_t n, uint64_t at)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != slow_byte(at + i))
            return (int64_t)i;
    return -1;
}

/* One fs.Read{n} on fd's lane through lanes_lane_call (cancelled after timeout_ns). Returns the
 * server's value (bytes, or -errno); the bytes go to out. */
static int64_t raw_read(int fd, void *out, size_t n, uint64_t timeout_ns, bool *cancelled)
{
    int32_t lane = lanes_posix_fd_lane(fd);
    if (lane < 0)
        return -EBADF;
    uint64_t id = lanes_request_id();
    struct lane_msg_fs_read m = lanes_msg_fs_read_encode(n, id, 0, 0);
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, &m, sizeof m);
    lanes_acts_recv_buffer(&b, rep, sizeof(struct lane_msg_fs_reply) + n);
    lanes_acts_end(&b);
    c.nresults = 0;
    int64_t r = lanes_lane_call(&q, lane, &b, id, 0, "fs", timeout_ns, &c, cancelled);
    if (r < 0 || c.nresults < 3)
        return -EIO;
    struct lane_msg_fs_reply fr;
    if (lanes_msg_fs_reply_decode(rep, lanes_ipc_result(&c, 2)->length, &fr) < 0)
        return -EPROTO;
    if (fr.error < 0)
        return fr.error;
    memcpy(out, rep + sizeof fr, (size_t)fr.value);
    return fr.value;
}

/* A request on a file's lane whose fs reply carries only a value (fs.Write, fs.OpenWait), with
 * libc's cancellation (lanes_lane_call). Returns the value or -errno. */
static int64_t value_call(int32_t lane, uint64_t id, const void *msg, size_t len, const char *server, uint64_t timeout_ns,
                          bool *cancelled)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, msg, len);
    lanes_acts_recv_buffer(&b, rep, sizeof(struct lane_msg_fs_reply));
    lanes_acts_end(&b);
    c.nresults = 0;
    int64_t r = lanes_lane_call(&q, lane, &b, id, 0, server, timeout_ns, &c, cancelled);
    if (r < 0 || c.nresults < 3)
        return -EIO;
    struct lane_msg_fs_reply fr;
    if (lanes_msg_fs_reply_decode(rep, lanes_ipc_result(&c, 2)->length, &fr) < 0)
        return -EPROTO;
    return fr.error < 0 ? fr.error : fr.value;
}

/* The same for fs.Write{n} + data. */
static int64_t raw_write(int fd, const void *data, size_t n, uint64_t timeout_ns, bool *cancelled)
{
    int32_t lane = lanes_posix_fd_lane(fd);
    if (lane < 0)
        return -EBADF;
    uint64_t id = lanes_request_id();
    struct lane_msg_fs_write m = lanes_msg_fs_write_encode(n, id, 0, 0);
    static uint8_t out[CHUNK + 64];
    memcpy(out, &m, sizeof m);
    memcpy(out + sizeof m, data, n);
    return value_call(lane, id, out, sizeof m + n, "pipe", timeout_ns, cancelled);
}

/* One fs.OpenWait on fd's lane (what libc's open() of a FIFO sends once posix has opened it). */
static int64_t raw_open_wait(int fd, uint64_t timeout_ns, bool *cancelled)
{
    int32_t lane = lanes_posix_fd_lane(fd);
    if (lane < 0)
        return -EBADF;
    uint64_t id = lanes_request_id();
    struct lane_msg_fs_open_wait m = lanes_msg_fs_open_wait_encode(id, 0, 0);
    return value_call(lane, id, &m, sizeof m, "fs", timeout_ns, cancelled);
}

/* A figure of fs's /dev/fsstat ("live", "cancelled", "late", "cev", ...), or -1. */
static long fsstat(const char *key)
{
    return lanes_test_figure("/dev/fsstat", key);
}

static int open_slow(const char *rate)
{
    int fd = open("/dev/slow", O_RDWR);
    if (fd >= 0 && rate && write(fd, rate, strlen(rate)) != (ssize_t)strlen(rate)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- /dev/slow ---- */

static bool slow_lines(void)
{
    uint8_t buf[4096];
    int fd = open_slow("200 5");
    REQUIRE(fd >= 0, "open /dev/slow: %s", strerror(errno));
    struct stat st;
    REQUIRE(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "fstat: not a character device (mode %o)", st.st_mode);
    ssize_t a = read(fd, buf, sizeof buf);
    ssize_t b = a == LINE ? read(fd, buf + LINE, sizeof buf - LINE) : -2;
    close(fd);
    REQUIRE(a == LINE && b == LINE, "two reads of 4096 gave %ld and %ld bytes (one line each expected)", (long)a, (long)b);
    int64_t bad = slow_mismatch(buf, 2 * LINE, 0);
    REQUIRE(bad < 0, "byte %ld of the stream is wrong: %.64s", (long)bad, (const char *)buf);
    REQUIRE(memcmp(buf, "slow line 000000: ", 18) == 0, "first line %.32s", (const char *)buf);
    fd = open("/dev/slow", O_RDWR);
    REQUIRE(fd >= 0, "reopen");
    errno = 0;
    REQUIRE(write(fd, "fast", 4) < 0 && errno == EINVAL, "a bad rate: %s", strerror(errno));
    REQUIRE(write(fd, "0 10", 4) < 0 && errno == EINVAL, "rate 0: %s", strerror(errno));
    close(fd);
    return true;
}

static bool slow_cancel_partial(void)
{
    static uint8_t buf[1000];
    int fd = open_slow("10 100 whole");
    REQUIRE(fd >= 0, "open /dev/slow");
    bool cancelled;
    uint64_t t0 = lanes_now_ns();
    int64_t n = raw_read(fd, buf, sizeof buf, LANES_MS(450), &cancelled);
    uint64_t ms = (lanes_now_ns() - t0) / 1000000;
    REQUIRE(cancelled, "the read was not cancelled (value %ld after %lu ms)", (long)n, (unsigned long)ms);
    REQUIRE(n >= 10 && n < (int64_t)sizeof buf && n % 10 == 0, "cancelled after %lu ms: value %ld (a partial count, a multiple of 10, expected)",
            (unsigned long)ms, (long)n);
    int64_t bad = slow_mismatch(buf, (size_t)n, 0);
    REQUIRE(bad < 0, "byte %ld wrong", (long)bad);
    /* the next read continues where the cancelled one stopped */
    uint8_t more[20];
    REQUIRE(write(fd, "20 1 whole", 10) == 10, "rate");
    ssize_t m = read(fd, more, sizeof more);
    close(fd);
    REQUIRE(m == 20 && slow_mismatch(more, 20, (uint64_t)n) < 0, "the read after the cancel: %ld bytes, not the stream from %ld",
            (long)m, (long)n);
    snprintf(why, sizeof why, "%ld bytes after %lu ms", (long)n, (unsigned long)ms);
    return true;
}

static bool slow_cancel_eintr(void)
{
    uint8_t buf[100];
    int fd = open_slow("10 2000");
    REQUIRE(fd >= 0, "open /dev/slow");
    bool cancelled;
    int64_t n = raw_read(fd, buf, sizeof buf, LANES_MS(100), &cancelled);
    REQUIRE(cancelled && n == -EINTR, "cancelled=%d value %ld (EINTR expected: nothing had come)", cancelled, (long)n);
    REQUIRE(write(fd, "32 1", 4) == 4, "rate");
    ssize_t m = read(fd, buf, sizeof buf);
    close(fd);
    REQUIRE(m == LINE && slow_mismatch(buf, LINE, 0) < 0, "after EINTR the stream must start at 0: %ld bytes", (long)m);
    return true;
}

/* A reader thread blocked in libc's read(), interrupted the way a signal will do it. */
struct reader {
    int fd;
    size_t want;
    uint8_t buf[1000];
    volatile ssize_t got;
    volatile int err;
    volatile bool done;
    volatile pid_t tid;
};

static void reader_main(void *arg)
{
    struct reader *r = arg;
    r->tid = gettid();
    errno = 0;
    r->got = read(r->fd, r->buf, r->want);
    r->err = errno;
    r->done = true;
}

static void on_usr1(int sig) { (void)sig; }

/* Interrupts the blocked call the way a program would: a signal with a handler (no SA_RESTART),
 * sent to the blocked thread (raise() there would be pthread_kill); its in-syscall
 * flag goes to 2, so libc cancels its request (a bare thread_interrupt only ends the wait of a
 * thread that takes signals; libc then waits on). */
static bool interrupt_until_done(lanes_thread_t *t, volatile bool *done, volatile pid_t *tid, uint64_t first_ms)
{
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_handler = on_usr1;
    sigaction(SIGUSR1, &a, NULL);
    lanes_sys_sleep(LANES_MS(first_ms));
    for (int i = 0; i < 100 && !*done; i++) {
        if (*tid)
            lanes_tkill(*tid, SIGUSR1);
        lanes_sys_sleep(LANES_MS(50));
    }
    (void)t;
    return lanes_thread_join(t, LANES_SEC(10)) == 0 && *done;
}

static bool read_interrupted(void)
{
    static struct reader r;
    memset(&r, 0, sizeof r);
    r.fd = open_slow("10 100 whole");
    r.want = sizeof r.buf;
    REQUIRE(r.fd >= 0, "open /dev/slow");
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, reader_main, &r, 0) == 0, "thread");
    bool ok = interrupt_until_done(&t, &r.done, &r.tid, 350);
    close(r.fd);
    REQUIRE(ok, "the interrupted read() did not return");
    REQUIRE(r.got > 0 && r.got < (ssize_t)r.want, "read() returned %ld (%s); a partial count expected", (long)r.got,
            strerror(r.err));
    REQUIRE(slow_mismatch(r.buf, (size_t)r.got, 0) < 0, "wrong bytes");
    snprintf(why, sizeof why, "read() returned %ld of %zu", (long)r.got, r.want);
    return true;
}

static bool races(void)
{
    static uint8_t buf[256];
    int fd = open_slow("16 1 whole");
    REQUIRE(fd >= 0, "open /dev/slow");
    uint64_t at = 0, seed = 12345;
    int full = 0, partial = 0, eintr = 0;
    for (int i = 0; i < 1000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t us = (seed >> 33) % 4000;
        bool cancelled;
        int64_t n = raw_read(fd, buf, 48, us * 1000, &cancelled);
        if (n == -EINTR) {
            REQUIRE(cancelled, "round %d: EINTR without a cancel", i);
            eintr++;
            continue;
        }
        REQUIRE(n > 0 && n <= 48, "round %d: value %ld", i, (long)n);
        int64_t bad = slow_mismatch(buf, (size_t)n, at);
        REQUIRE(bad < 0, "round %d: byte %ld of %ld is not the stream at %lu (lost or repeated bytes)", i, (long)bad, (long)n,
                (unsigned long)at);
        at += (uint64_t)n;
        if (n == 48)
            full++;
        else
            partial++;
    }
    off_t pos = lseek(fd, 0, SEEK_CUR);
    close(fd);
    REQUIRE(pos == (off_t)at, "the server produced %ld bytes, the client got %lu", (long)pos, (unsigned long)at);
    REQUIRE(fsstat("live") == 0, "live requests after the races: %ld", fsstat("live"));
    REQUIRE(full + partial > 0, "nothing ever completed");
    snprintf(why, sizeof why, "1000 rounds: %d whole, %d partial, %d EINTR, %lu bytes, none lost", full, partial, eintr,
             (unsigned long)at);
    return true;
}

static bool trace_records(void)
{
    /* the records a cancel writes are accepted by the kernel (trace_user checks size and type) */
    int64_t a = lanes_trace_cancel_raise(0, 0, 1, 42, "fs");
    int64_t b = lanes_trace_cancel_ack(0, 0, 7, 42, "a-server-name-longer-than-thirty-two-bytes");
    REQUIRE(a >= 0 && b >= 0, "trace_user refused a record: cancel_raise %s, cancel_ack %s", lanes_strerror(a), lanes_strerror(b));
    /* call_site is the kernel's (it follows a sys_begin / cancel_raise / cancel_ack with the
     * writer's frames): user space cannot write one; a garbage frame pointer ends the kernel's
     * walk, never the program */
    struct trace_ev_call_site cs = { .ref = 1, .call = 0 };
    REQUIRE(lanes_sys_trace_user(TRACE_EV_CALL_SITE, (const uint8_t *)&cs + sizeof(struct trace_hdr),
                                 sizeof cs - sizeof(struct trace_hdr)) == LANES_E_INVAL, "a call_site from user space accepted");
    struct trace_ev_sys_begin sb = { .call = 0, .nr = 1, .fd = -1 };
    const uint8_t *body = (const uint8_t *)&sb + sizeof(struct trace_hdr);
    size_t len = sizeof sb - sizeof(struct trace_hdr);
    int64_t r;
    __asm__ volatile("mov %%rbp, %%r12\n\tmov $0x7, %%rbp\n\tsyscall\n\tmov %%r12, %%rbp"
                     : "=a"(r)
                     : "a"((uint64_t)LANES_SYS_TRACE_USER), "D"((uint64_t)TRACE_EV_SYS_BEGIN), "S"(body), "d"(len)
                     : "rcx", "r11", "r12", "memory");
    REQUIRE(r >= 0, "sys_begin with a misaligned frame pointer: %s", lanes_strerror(r));
    __asm__ volatile("mov %%rbp, %%r12\n\tmovabs $0xffff800000001000, %%rbp\n\tsyscall\n\tmov %%r12, %%rbp"
                     : "=a"(r)
                     : "a"((uint64_t)LANES_SYS_TRACE_USER), "D"((uint64_t)TRACE_EV_SYS_BEGIN), "S"(body), "d"(len)
                     : "rcx", "r11", "r12", "memory");
    REQUIRE(r >= 0, "sys_begin with a kernel frame pointer: %s", lanes_strerror(r));
    __asm__ volatile("mov %%rbp, %%r12\n\tmov %%rsp, %%rbp\n\tsub $64, %%rbp\n\tsyscall\n\tmov %%r12, %%rbp"
                     : "=a"(r)
                     : "a"((uint64_t)LANES_SYS_TRACE_USER), "D"((uint64_t)TRACE_EV_SYS_BEGIN), "S"(body), "d"(len)
                     : "rcx", "r11", "r12", "memory");
    REQUIRE(r >= 0, "sys_begin with a frame pointer into junk below the stack: %s", lanes_strerror(r));
    return true;
}

static bool late_cancel(void)
{
    long late0 = fsstat("late");
    int fd = open_slow("32 1");
    REQUIRE(fd >= 0, "open /dev/slow");
    int32_t lane = lanes_posix_fd_lane(fd);
    struct lane_ipc_completion c;
    /* a cancel for an id that was never sent, and one for a request already answered */
    REQUIRE(lanes_lane_cancel(&q, lane, 0x1234, 0, "fs", 7) == 0, "submit cancel");
    REQUIRE(lanes_queue_next(&q, &c, LANES_SEC(5)) == 0 && c.tag == 7 && c.status == 0, "the cancel was not taken");
    uint8_t buf[LINE];
    bool cancelled;
    int64_t n = raw_read(fd, buf, LINE, LANES_TIMEOUT_INFINITE, &cancelled);
    REQUIRE(n == LINE && !cancelled, "a read: %ld", (long)n);
    close(fd);
    REQUIRE(fsstat("late") >= late0 + 1, "late cancels %ld -> %ld", late0, fsstat("late"));
    REQUIRE(fsstat("live") == 0, "live %ld", fsstat("live"));
    return true;
}

/* ---- FIFOs ---- */

static bool fifo_basic(void)
{
    unlink("/tmp/ct-fifo");
    REQUIRE(mkfifo("/tmp/ct-fifo", 0600) == 0, "mkfifo: %s", strerror(errno));
    struct stat st;
    REQUIRE(stat("/tmp/ct-fifo", &st) == 0 && S_ISFIFO(st.st_mode), "stat: mode %o", st.st_mode);
    REQUIRE(mkfifo("/tmp/ct-fifo", 0600) < 0 && errno == EEXIST, "mkfifo twice: %s", strerror(errno));
    pid_t pid;
    char *argv[] = { (char *)"canceltests", (char *)"--fifo-writer", (char *)"/tmp/ct-fifo", (char *)"hello fifo", NULL };
    REQUIRE(posix_spawn(&pid, "/bin/canceltests", NULL, NULL, argv, NULL) == 0, "spawn the writer");
    int fd = open("/tmp/ct-fifo", O_RDONLY);         /* waits for the writer */
    REQUIRE(fd >= 0, "open for reading: %s", strerror(errno));
    char buf[64];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf + got, sizeof buf - got)) > 0)
        got += (size_t)n;
    close(fd);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %#x", status);
    REQUIRE(got == 10 && memcmp(buf, "hello fifo", 10) == 0, "read %zu bytes then EOF: %.*s", got, (int)got, buf);
    return true;
}

/* fifo_basic's rare hang (about 1 in 200 runs on 4 CPUs): libc's open() of a FIFO is two steps —
 * posix opens the description (fs counts the end), then libc sends fs.OpenWait on its lane. The
 * other end could open, do its work and close in between (the writer: its own OpenWait answered
 * by our open, write, close), and fs then parked our OpenWait for a writer that had come and
 * gone: open() never returned. An OpenWait must not wait once the other end has been open at
 * any moment since the description was opened (as Linux's fifo_open counts partners). Here both
 * ends' OpenWaits are sent (again) after the other end closed; each is cancelled after 2 s. */
static bool fifo_open_gone(void)
{
    const char *p = "/tmp/ct-fifo-gone";
    unlink(p);
    REQUIRE(mkfifo(p, 0600) == 0, "mkfifo: %s", strerror(errno));
    /* a reader whose writer came and went */
    int r0 = open(p, O_RDONLY | O_NONBLOCK);
    int w = open(p, O_WRONLY);
    int r = open(p, O_RDONLY);
    REQUIRE(r0 >= 0 && w >= 0 && r >= 0, "opens: %d %d %d", r0, w, r);
    close(r0);
    REQUIRE(write(w, "gone", 4) == 4, "write: %s", strerror(errno));
    close(w);
    char buf[16];
    size_t got = 0;
    ssize_t n;
    while ((n = read(r, buf + got, sizeof buf - got)) > 0)   /* EOF: fs has seen the writer close */
        got += (size_t)n;
    REQUIRE(n == 0 && got == 4 && memcmp(buf, "gone", 4) == 0, "read %zu bytes then %ld", got, (long)n);
    bool cancelled = false;
    int64_t v = raw_open_wait(r, LANES_MS(2000), &cancelled);
    REQUIRE(!cancelled && v == 0,
            "a reader's fs.OpenWait after its writer opened and closed: %s%ld: open() would hang (fifo_basic's race)",
            cancelled ? "parked, cancelled after 2 s: " : "", (long)v);
    close(r);
    /* a writer whose reader came and went: the open returns, the write fails EPIPE */
    r0 = open(p, O_RDONLY | O_NONBLOCK);
    w = open(p, O_WRONLY);
    REQUIRE(r0 >= 0 && w >= 0, "opens: %d %d", r0, w);
    close(r0);
    for (int i = 0; i < 200 && (v = raw_write(w, "x", 1, LANES_TIMEOUT_INFINITE, &cancelled)) == 1; i++)
        lanes_sys_sleep(LANES_MS(5));                       /* until fs has seen the reader close */
    REQUIRE(v == -EPIPE, "write without a reader: %ld (EPIPE expected)", (long)v);
    v = raw_open_wait(w, LANES_MS(2000), &cancelled);
    REQUIRE(!cancelled && v == 0,
            "a writer's fs.OpenWait after its reader opened and closed: %s%ld: open() would hang",
            cancelled ? "parked, cancelled after 2 s: " : "", (long)v);
    close(w);
    unlink(p);
    REQUIRE(fsstat("live") == 0, "live %ld", fsstat("live"));
    return true;
}

struct opener {
    const char *path;
    volatile int fd, err;
    volatile bool done;
    volatile pid_t tid;
};

static void opener_main(void *arg)
{
    struct opener *o = arg;
    o->tid = gettid();
    errno = 0;
    o->fd = open(o->path, O_RDONLY);
    o->err = errno;
    o->done = true;
}

static bool fifo_open_interrupted(void)
{
    static struct opener o;
    memset(&o, 0, sizeof o);
    o.path = "/tmp/ct-fifo";
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, opener_main, &o, 0) == 0, "thread");
    bool ok = interrupt_until_done(&t, &o.done, &o.tid, 200);
    REQUIRE(ok, "the interrupted open() did not return");
    REQUIRE(o.fd < 0 && o.err == EINTR, "open() of a FIFO without a writer: fd %d, %s (EINTR expected)", o.fd, strerror(o.err));
    REQUIRE(fsstat("live") == 0, "live %ld", fsstat("live"));
    /* O_NONBLOCK: a reader opens at once, a writer without a reader gets ENXIO */
    int r = open("/tmp/ct-fifo", O_RDONLY | O_NONBLOCK);
    REQUIRE(r >= 0, "O_RDONLY|O_NONBLOCK: %s", strerror(errno));
    close(r);
    errno = 0;
    REQUIRE(open("/tmp/ct-fifo", O_WRONLY | O_NONBLOCK) < 0 && errno == ENXIO, "O_WRONLY|O_NONBLOCK: %s", strerror(errno));
    return true;
}

static bool fifo_cancel(void)
{
    int fd = open("/tmp/ct-fifo", O_RDWR);           /* both ends: opens at once */
    REQUIRE(fd >= 0, "open O_RDWR: %s", strerror(errno));
    uint8_t buf[64];
    bool cancelled;
    int64_t n = raw_read(fd, buf, sizeof buf, LANES_MS(100), &cancelled);
    REQUIRE(cancelled && n == -EINTR, "an empty FIFO's read: value %ld (EINTR expected)", (long)n);
    /* fill it, then a write that only partly fits is cancelled: its partial count */
    static uint8_t big[CHUNK];
    memset(big, 'x', sizeof big);
    n = raw_write(fd, big, 12000, LANES_TIMEOUT_INFINITE, &cancelled);
    REQUIRE(n == 12000, "first write %ld", (long)n);
    n = raw_write(fd, big, 8000, LANES_MS(100), &cancelled);
    REQUIRE(cancelled && n == 16384 - 12000, "a write with room for 4384 of 8000: value %ld", (long)n);
    REQUIRE(fsstat("live") == 0, "live %ld", fsstat("live"));
    close(fd);
    unlink("/tmp/ct-fifo");
    return true;
}

/* ---- pipes (served by posix) ---- */

static bool pipe_cancel(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    uint8_t buf[64];
    bool cancelled;
    int64_t n = raw_read(p[0], buf, sizeof buf, LANES_MS(100), &cancelled);
    REQUIRE(cancelled && n == -EINTR, "an empty pipe's read: value %ld (EINTR expected)", (long)n);
    static uint8_t big[CHUNK];
    memset(big, 'p', sizeof big);
    for (int i = 0; i < 3; i++)
        REQUIRE(write(p[1], big, CHUNK) == CHUNK, "fill %d", i);
    REQUIRE(write(p[1], big, CHUNK - 4096) == CHUNK - 4096, "fill");
    /* 4096 bytes of room: an 8000-byte write puts 4096 in, then waits */
    n = raw_write(p[1], big, 8000, LANES_MS(150), &cancelled);
    REQUIRE(cancelled && n == 4096, "a write with room for 4096 of 8000: value %ld", (long)n);
    size_t total = 0;
    close(p[1]);
    while ((n = read(p[0], big, sizeof big)) > 0)
        total += (size_t)n;
    close(p[0]);
    REQUIRE(total == 65536, "the pipe held %zu bytes (65536 expected: nothing lost, nothing twice)", total);
    return true;
}

/* ---- the console's foreground group ---- */

static bool tty_pgrp(void)
{
    pid_t me = getpid(), pg = getpgrp();
    REQUIRE(pg == me, "the shell did not put this job in its own process group: pgrp %d, pid %d", pg, me);
    pid_t fg = tcgetpgrp(0);
    REQUIRE(fg == pg, "tcgetpgrp(0) = %d, this job's group is %d (the shell makes it the foreground)", fg, pg);
    errno = 0;
    REQUIRE(tcsetpgrp(0, 999999) < 0 && errno == EPERM, "tcsetpgrp to no group: %s", strerror(errno));
    int fd = open("/dev/slow", O_RDONLY);
    errno = 0;
    REQUIRE(tcsetpgrp(fd, pg) < 0 && errno == ENOTTY, "tcsetpgrp on /dev/slow: %s", strerror(errno));
    errno = 0;
    REQUIRE(tcgetpgrp(fd) < 0 && errno == ENOTTY, "tcgetpgrp on /dev/slow: %s", strerror(errno));
    close(fd);
    REQUIRE(tcsetpgrp(0, pg) == 0, "tcsetpgrp to our own group: %s", strerror(errno));
    return true;
}

/* ---- the end ---- */

static bool nothing_left(void)
{
    struct lane_msg_posix_counters c;
    REQUIRE(fsstat("live") == 0, "fs live requests: %ld", fsstat("live"));
    REQUIRE(lanes_posix_counters(&c) == 0, "posix counters");
    REQUIRE(c.parked == start_counters.parked && c.pipes == start_counters.pipes, "posix parked %u -> %u, pipes %u -> %u",
            start_counters.parked, c.parked, start_counters.pipes, c.pipes);
    snprintf(why, sizeof why, "fs: %ld cancelled, %ld late", fsstat("cancelled"), fsstat("late"));
    return true;
}

static const struct lanes_test tests[] = {
    { "slow_lines", slow_lines },
    { "slow_cancel_partial", slow_cancel_partial },
    { "slow_cancel_eintr", slow_cancel_eintr },
    { "read_interrupted", read_interrupted },
    { "races", races },
    { "late_cancel", late_cancel },
    { "trace_records", trace_records },
    { "fifo_basic", fifo_basic },
    { "fifo_open_gone", fifo_open_gone },
    { "fifo_open_interrupted", fifo_open_interrupted },
    { "fifo_cancel", fifo_cancel },
    { "pipe_cancel", pipe_cancel },
    { "tty_pgrp", tty_pgrp },
    { "nothing_left", nothing_left },
};

int main(int argc, char **argv)
{
    if (argc > 3 && !strcmp(argv[1], "--fifo-writer")) {
        int fd = open(argv[2], O_WRONLY);
        if (fd < 0)
            return 2;
        size_t n = strlen(argv[3]);
        return write(fd, argv[3], n) == (ssize_t)n && close(fd) == 0 ? 0 : 3;
    }
    if (!lanes_posix_active()) {
        printf("canceltests: not a POSIX process (run it from the shell)\n");
        return 2;
    }
    if (lanes_queue_init(&q, 8) < 0) {
        printf("canceltests: no queue\n");
        return 2;
    }
    lanes_posix_counters(&start_counters);
    for (int i = 0; i < 100 && getppid() > 1 && start_counters.parked == 0; i++) {
        lanes_sys_sleep(LANES_MS(10));
        lanes_posix_counters(&start_counters);
    }
    /* --repeat N [PREFIX...]: the selected tests N times, stopping after a round with a failure
     * (a rare race in one boot, e.g. `canceltests --repeat 500 fifo_basic`) */
    long rounds = 1;
    if (argc > 2 && !strcmp(argv[1], "--repeat")) {
        char *e;
        rounds = strtol(argv[2], &e, 10);
        if (*e || rounds < 1) {
            printf("canceltests: --repeat wants a positive count, not '%s'\n", argv[2]);
            return 2;
        }
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    struct lanes_tests t = { 0, 0 };
    for (long k = 0; k < rounds && t.failed == 0; k++)
        lanes_test_table(&t, tests, sizeof tests / sizeof *tests, argc, argv, NULL);
    return lanes_test_summary(&t, "canceltests", argc);
}
