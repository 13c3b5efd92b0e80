/* pipesem.c — posixtests' pipe semantics across processes: what any change to where a pipe's
 * bytes live (posix's buffer today, a ring shared by the two ends one day: os/README, "Where a
 * pread and a pipe round trip go") must keep. Each test forks the processes that share a pipe
 * description and checks what a *blocked* reader or writer sees:
 *   - a reader blocked in a pipe shared across fork wakes with EOF only when the last copy of
 *     the write end (a dup in another process) is closed, not when one copy is;
 *   - a writer blocked on a full pipe wakes with EPIPE only when the last copy of the read end
 *     closes, and writes nothing;
 *   - two readers blocked on one pipe get every byte exactly once, and both see EOF;
 *   - O_NONBLOCK set by fcntl in one process holds for the other process sharing the
 *     description (EAGAIN there), and clearing it makes that read block again;
 *   - a signal to a reader blocked on an empty pipe gives EINTR (no SA_RESTART), consumes
 *     nothing, and the next read gets the bytes written afterwards;
 *   - a pipe both ends of which this process used before fork (libc has mapped its ring)
 *     carries bytes both ways between parent and child afterwards (the mapping is shared,
 *     not copied on write);
 *   - a pipe handed to posix (lanes_posix_fd_lane: a raw lane client) keeps the bytes already in
 *     its ring, and a reader of another process waiting on the ring at that moment moves to
 *     posix's path and gets the next bytes.
 * Results come back to the parent over a second pipe; the waits are handshakes, not timers,
 * except the short sleeps that let a child reach its blocking call (a slow child makes a
 * check weaker, never wrong).
 * main.c runs this table (pipesem_tests_run) before its own, so its last test (counters-back)
 * also checks that these leave no pipe, handle or parked request behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/testing.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void pipesem_tests_run(struct lanes_tests *t, int argc, char **argv);

static void ms(int n) { lanes_sys_sleep(LANES_MS(n)); }

/* Is there nothing to read on fd yet (the child has not reported)? Leaves fd blocking. */
static bool nothing_yet(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    char c;
    ssize_t n = read(fd, &c, 1);
    int e = errno;
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return n < 0 && e == EAGAIN;
}

static int reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A report: the call's result and errno. */
struct rep { int64_t n; int32_t e; };

static void report(int fd, int64_t n, int e)
{
    struct rep r = { n, e };
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(90);
}

static bool take(int fd, struct rep *r) { return read(fd, r, sizeof *r) == (ssize_t)sizeof *r; }

static bool t_fork_last_writer_eof(void)
{
    int p[2], r[2], g[2];
    REQUIRE(pipe(p) == 0 && pipe(r) == 0 && pipe(g) == 0, "pipe: %s", strerror(errno));
    pid_t rd = fork();
    if (rd == 0) {
        close(p[1]);
        close(r[0]);
        close(g[0]);
        close(g[1]);
        char b[8];
        ssize_t n = read(p[0], b, sizeof b);
        report(r[1], n, n < 0 ? errno : 0);
        _exit(0);
    }
    pid_t w = fork();
    if (w == 0) {               /* holds the write end as a dup until told */
        close(p[0]);
        close(r[0]);
        close(r[1]);
        close(g[1]);
        int d = dup(p[1]);
        close(p[1]);
        char c;
        if (read(g[0], &c, 1) != 1)
            _exit(2);
        close(d);
        ms(20);
        _exit(0);
    }
    REQUIRE(rd > 0 && w > 0, "fork: %s", strerror(errno));
    close(p[0]);
    close(r[1]);
    close(g[0]);
    ms(60);                     /* the reader is blocked by now */
    close(p[1]);                /* not the last writer: the dup in w remains */
    ms(60);
    bool early = !nothing_yet(r[0]);
    write(g[1], "x", 1);        /* now the last copy goes */
    close(g[1]);
    struct rep got = { -2, 0 };
    bool ok = take(r[0], &got);
    close(r[0]);
    int s1 = reap(rd), s2 = reap(w);
    REQUIRE(!early, "the blocked reader returned while a dup of the write end was still open in another process");
    REQUIRE(ok && got.n == 0, "the blocked reader got %lld (%s), want 0 (EOF) after the last writer closed",
            (long long)got.n, strerror(got.e));
    REQUIRE(s1 == 0 && s2 == 0, "children exited %d %d", s1, s2);
    return true;
}

static bool t_fork_last_reader_epipe(void)
{
    int p[2], r[2], g[2];
    REQUIRE(pipe(p) == 0 && pipe(r) == 0 && pipe(g) == 0, "pipe: %s", strerror(errno));
    static char fill[65536];
    memset(fill, 'f', sizeof fill);
    REQUIRE(write(p[1], fill, sizeof fill) == (ssize_t)sizeof fill, "filling 64 KiB: %s", strerror(errno));
    pid_t wr = fork();
    if (wr == 0) {
        signal(SIGPIPE, SIG_IGN);
        close(p[0]);
        close(r[0]);
        close(g[0]);
        close(g[1]);
        ssize_t n = write(p[1], "0123456789", 10);      /* atomic: all or wait */
        report(r[1], n, n < 0 ? errno : 0);
        n = write(p[1], "z", 1);
        report(r[1], n, n < 0 ? errno : 0);
        _exit(0);
    }
    pid_t h = fork();
    if (h == 0) {               /* holds the read end until told */
        close(p[1]);
        close(r[0]);
        close(r[1]);
        close(g[1]);
        char c;
        if (read(g[0], &c, 1) != 1)
            _exit(2);
        close(p[0]);
        _exit(0);
    }
    REQUIRE(wr > 0 && h > 0, "fork: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    close(r[1]);
    close(g[0]);
    ms(60);
    bool early = !nothing_yet(r[0]);
    write(g[1], "x", 1);
    close(g[1]);
    struct rep a = { -2, 0 }, b = { -2, 0 };
    bool ok = take(r[0], &a) && take(r[0], &b);
    close(r[0]);
    int s1 = reap(wr), s2 = reap(h);
    REQUIRE(!early, "the writer blocked on a full pipe returned while a reader was still open");
    REQUIRE(ok && a.n == -1 && a.e == EPIPE, "the blocked write gave %lld (%s), want -1 EPIPE", (long long)a.n,
            strerror(a.e));
    REQUIRE(b.n == -1 && b.e == EPIPE, "the next write gave %lld (%s), want EPIPE", (long long)b.n, strerror(b.e));
    REQUIRE(s1 == 0 && s2 == 0, "children exited %d %d", s1, s2);
    return true;
}

static bool t_two_blocked_readers(void)
{
    enum { BYTES = 12 };
    int p[2], r[2];
    REQUIRE(pipe(p) == 0 && pipe(r) == 0, "pipe: %s", strerror(errno));
    pid_t k[2];
    for (int i = 0; i < 2; i++) {
        k[i] = fork();
        if (k[i] == 0) {
            close(p[1]);
            close(r[0]);
            char seen[BYTES] = { 0 };
            int64_t count = 0, bad = 0;
            char c;
            ssize_t n;
            while ((n = read(p[0], &c, 1)) == 1) {
                count++;
                if (c < 'a' || c >= 'a' + BYTES || seen[c - 'a']++)
                    bad++;
            }
            report(r[1], count, bad ? -1 : n < 0 ? errno : 0);
            _exit(0);
        }
        REQUIRE(k[i] > 0, "fork: %s", strerror(errno));
    }
    close(p[0]);
    close(r[1]);
    for (int i = 0; i < BYTES; i++) {
        ms(10);                 /* let both block between bytes */
        char c = (char)('a' + i);
        REQUIRE(write(p[1], &c, 1) == 1, "write: %s", strerror(errno));
    }
    close(p[1]);
    struct rep a = { -2, 0 }, b = { -2, 0 };
    bool ok = take(r[0], &a) && take(r[0], &b);
    close(r[0]);
    int s1 = reap(k[0]), s2 = reap(k[1]);
    REQUIRE(ok, "a blocked reader never saw EOF after the writer closed");
    REQUIRE(a.e == 0 && b.e == 0, "a reader saw a byte twice or a foreign byte, or its read failed (%d %d)", a.e, b.e);
    REQUIRE(a.n + b.n == BYTES, "the readers got %lld + %lld bytes, want %d in all", (long long)a.n, (long long)b.n,
            BYTES);
    REQUIRE(s1 == 0 && s2 == 0, "children exited %d %d", s1, s2);
    return true;
}

static bool t_nonblock_shared(void)
{
    int p[2], r[2], g[2];
    REQUIRE(pipe(p) == 0 && pipe(r) == 0 && pipe(g) == 0, "pipe: %s", strerror(errno));
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        close(r[0]);
        close(g[1]);
        char x;
        if (read(g[0], &x, 1) != 1)     /* the parent set O_NONBLOCK on the shared description */
            _exit(2);
        ssize_t n = read(p[0], &x, 1);
        report(r[1], n, n < 0 ? errno : 0);
        if (read(g[0], &x, 1) != 1)     /* ... and cleared it: this read blocks for the byte */
            _exit(3);
        n = read(p[0], &x, 1);
        report(r[1], n == 1 ? x : n, n < 0 ? errno : 0);
        _exit(0);
    }
    REQUIRE(c > 0, "fork: %s", strerror(errno));
    close(r[1]);
    close(g[0]);
    REQUIRE(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0, "F_SETFL: %s", strerror(errno));
    int d = dup(p[0]);
    REQUIRE(d >= 0 && (fcntl(d, F_GETFL) & O_NONBLOCK), "a dup does not see O_NONBLOCK");
    close(d);
    write(g[1], "1", 1);
    struct rep a = { -2, 0 }, b = { -2, 0 };
    bool ok1 = take(r[0], &a);
    REQUIRE(fcntl(p[0], F_SETFL, 0) == 0, "F_SETFL: %s", strerror(errno));
    write(g[1], "2", 1);
    ms(60);
    bool early = !nothing_yet(r[0]);
    write(p[1], "q", 1);
    bool ok2 = take(r[0], &b);
    close(p[0]);
    close(p[1]);
    close(g[1]);
    close(r[0]);
    int s = reap(c);
    REQUIRE(ok1 && a.n == -1 && a.e == EAGAIN, "the other process's read gave %lld (%s), want EAGAIN", (long long)a.n,
            strerror(a.e));
    REQUIRE(!early, "with O_NONBLOCK cleared the other process's read on an empty pipe did not block");
    REQUIRE(ok2 && b.n == 'q', "the blocking read gave %lld (%s), want the byte", (long long)b.n, strerror(b.e));
    REQUIRE(s == 0, "child exited %d", s);
    return true;
}

static volatile int caught;
static void on_usr1(int s) { (void)s; caught++; }

static bool t_eintr_keeps_data(void)
{
    int p[2], r[2], go[2];
    REQUIRE(pipe(p) == 0 && pipe(r) == 0 && pipe(go) == 0, "pipe: %s", strerror(errno));
    pid_t c = fork();
    if (c == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;                /* no SA_RESTART */
        sigaction(SIGUSR1, &sa, NULL);
        close(p[1]);
        close(r[0]);
        close(go[0]);
        char b[8];
        write(go[1], "r", 1);
        ssize_t n = read(p[0], b, sizeof b);
        report(r[1], n, n < 0 ? errno : 0);
        n = read(p[0], b, sizeof b);
        report(r[1], n == 3 && !memcmp(b, "xyz", 3) ? 3 : n, caught);
        _exit(0);
    }
    REQUIRE(c > 0, "fork: %s", strerror(errno));
    close(p[0]);
    close(r[1]);
    close(go[1]);
    char x;
    REQUIRE(read(go[0], &x, 1) == 1, "the child's go");
    ms(100);                                    /* it is blocked in its read by now */
    REQUIRE(kill(c, SIGUSR1) == 0, "kill: %s", strerror(errno));
    struct rep a = { -2, 0 }, b = { -2, 0 };
    bool ok1 = take(r[0], &a);
    write(p[1], "xyz", 3);
    bool ok2 = take(r[0], &b);
    close(p[1]);
    close(r[0]);
    close(go[0]);
    int s = reap(c);
    REQUIRE(ok1 && a.n == -1 && a.e == EINTR, "the interrupted read gave %lld (%s), want EINTR", (long long)a.n,
            strerror(a.e));
    REQUIRE(ok2 && b.n == 3 && b.e == 1, "the next read gave %lld (handler ran %lld times), want the 3 bytes, once",
            (long long)b.n, (long long)b.e);
    REQUIRE(s == 0, "child exited %d", s);
    return true;
}

static bool t_fork_used_ring(void)
{
    int a[2], b[2];
    REQUIRE(pipe(a) == 0 && pipe(b) == 0, "pipe: %s", strerror(errno));
    char x[4];
    /* use all four ends here first */
    REQUIRE(write(a[1], "p", 1) == 1 && read(a[0], x, 1) == 1 && write(b[1], "q", 1) == 1 && read(b[0], x, 1) == 1,
            "warm-up: %s", strerror(errno));
    pid_t c = fork();
    if (c == 0) {               /* echo: a -> b, each byte + 1, until EOF */
        close(a[1]);
        close(b[0]);
        char ch;
        while (read(a[0], &ch, 1) == 1) {
            ch++;
            if (write(b[1], &ch, 1) != 1)
                _exit(2);
        }
        _exit(0);
    }
    REQUIRE(c > 0, "fork: %s", strerror(errno));
    close(a[0]);
    close(b[1]);
    bool ok = true;
    for (char ch = 'a'; ch < 'a' + 20 && ok; ch++) {
        char back = 0;
        ok = write(a[1], &ch, 1) == 1 && read(b[0], &back, 1) == 1 && back == ch + 1;
    }
    close(a[1]);
    REQUIRE(read(b[0], x, 1) == 0, "no EOF from the child after it saw ours");
    close(b[0]);
    int s = reap(c);
    REQUIRE(ok, "a byte did not come back (+1) through the pipes shared across fork");
    REQUIRE(s == 0, "child exited %d", s);
    return true;
}

static bool t_handed_to_posix(void)
{
    int q[2];
    REQUIRE(pipe(q) == 0, "pipe: %s", strerror(errno));
    REQUIRE(write(q[1], "xyz", 3) == 3, "write: %s", strerror(errno));
    REQUIRE(lanes_posix_fd_lane(q[0]) >= 0, "the lane: %s", strerror(errno));
    char b[8] = { 0 };
    ssize_t n = read(q[0], b, sizeof b);
    close(q[0]);
    close(q[1]);
    REQUIRE(n == 3 && !memcmp(b, "xyz", 3), "after the hand-over the bytes in the ring read as %zd '%.3s'", n, b);

    int p[2], r[2];
    REQUIRE(pipe(p) == 0 && pipe(r) == 0, "pipe: %s", strerror(errno));
    REQUIRE(write(p[1], "ab", 2) == 2, "write: %s", strerror(errno));
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        close(r[0]);
        char x[8];
        ssize_t k = read(p[0], x, sizeof x);            /* "ab", from the ring */
        int64_t v = k == 2 && !memcmp(x, "ab", 2);
        k = read(p[0], x, sizeof x);                    /* waits on the ring, then posix's path */
        report(r[1], v && k == 2 && !memcmp(x, "cd", 2) ? 1 : k, k < 0 ? errno : 0);
        _exit(0);
    }
    REQUIRE(c > 0, "fork: %s", strerror(errno));
    close(p[0]);
    close(r[1]);
    ms(100);                                            /* it waits on the ring by now */
    int lane = lanes_posix_fd_lane(p[1]);
    ms(30);
    ssize_t w = write(p[1], "cd", 2);
    struct rep a = { -2, 0 };
    bool ok = take(r[0], &a);
    close(p[1]);
    close(r[0]);
    int s = reap(c);
    REQUIRE(lane >= 0 && w == 2, "lane %d, write %zd", lane, w);
    REQUIRE(ok && a.n == 1, "the other process's reads gave %lld (%s), want 'ab' then 'cd'", (long long)a.n,
            strerror(a.e));
    REQUIRE(s == 0, "child exited %d", s);
    return true;
}

static const struct lanes_test pipesem_tests[] = {
    { "pipe-fork-last-writer-eof", t_fork_last_writer_eof },
    { "pipe-fork-last-reader-epipe", t_fork_last_reader_epipe },
    { "pipe-two-blocked-readers", t_two_blocked_readers },
    { "pipe-nonblock-shared", t_nonblock_shared },
    { "pipe-eintr-keeps-data", t_eintr_keeps_data },
    { "pipe-fork-used-ring", t_fork_used_ring },
    { "pipe-handed-to-posix", t_handed_to_posix },
};

void pipesem_tests_run(struct lanes_tests *t, int argc, char **argv)
{
    lanes_test_table(t, pipesem_tests, sizeof pipesem_tests / sizeof *pipesem_tests, argc, argv, NULL);
}
