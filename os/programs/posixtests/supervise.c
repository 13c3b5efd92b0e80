/* supervise.c — posixtests' supervision modes, driven by os-test's "posix supervision" config
 * (not in the test table: each crashes a server on purpose, as a bug would):
 *
 *   posixtests --crash-fs     a child blocks in a read inside fs (/dev/slow at 1 byte per 10 s);
 *                             we send fs.Crash on an open file's lane. The child's read must end
 *                             EIO (not hang), our own open file must read EIO, and within 30 s
 *                             open() works again: init restarted fs, posix bound the new one.
 *   posixtests --crash-posix  a child blocks in a pipe read (on the pipe's ring); we send
 *                             posix.Crash. The child's read and our next calls must end with an
 *                             error (EIO, then ENOSYS / ECHILD: libc stops being POSIX), never
 *                             hang. init restarts posix and a new shell (os-test checks).
 * Each prints "crash-X: ..." lines and exits 0 when every check held ("crash-X: FAILED ..." and 1
 * otherwise). The children report through a MAP_SHARED page: waitpid is not there once posix is.
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/ipc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int supervise_helper(int argc, char **argv);

struct report {
    volatile int state;         /* 1: about to block, 2: the call returned */
    volatile long r;
    volatile int err;
    volatile uint64_t took_ms;
};

static int failed(const char *what, const char *fmt, long a, long b)
{
    printf("crash-%s: FAILED ", what);
    printf(fmt, a, b);
    printf("\n");
    return 1;
}

static bool wait_state(struct report *rp, int want, uint64_t ms)
{
    uint64_t until = lanes_now_ns() + LANES_MS(ms);
    while (rp->state != want && lanes_now_ns() < until)
        lanes_sys_sleep(LANES_MS(5));
    return rp->state == want;
}

/* In a child: says it is about to block, reads fd (which waits inside a server), reports how
 * the read ended, exits. */
static __attribute__((noreturn)) void blocking_read(struct report *rp, int fd)
{
    char buf[64];
    uint64_t t0 = lanes_now_ns();
    rp->state = 1;
    long r = read(fd, buf, sizeof buf);
    rp->err = r < 0 ? errno : 0;
    rp->r = r;
    rp->took_ms = (lanes_now_ns() - t0) / 1000000;
    rp->state = 2;
    _exit(0);
}

static struct report *shared_report(void)
{
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

static int crash_fs(void)
{
    struct report *rp = shared_report();
    if (!rp)
        return failed("fs", "mmap(MAP_SHARED): errno %ld%ld", errno, 0);
    int fd = open("/bin/true", O_RDONLY);
    char magic[4];
    if (fd < 0 || read(fd, magic, 4) != 4 || memcmp(magic, "\177ELF", 4) != 0)
        return failed("fs", "open/read /bin/true before the crash: errno %ld%ld", errno, 0);
    pid_t child = fork();
    if (child == 0) {
        int s = open("/dev/slow", O_RDWR);
        if (s < 0 || write(s, "1 10000", 7) != 7)
            _exit(3);
        blocking_read(rp, s);                   /* a line at 1 byte per 10 s: waits inside fs */
    }
    if (child < 0)
        return failed("fs", "fork: errno %ld%ld", errno, 0);
    if (!wait_state(rp, 1, 10000))
        return failed("fs", "the child never reached its read (state %ld)%ld", rp->state, 0);
    lanes_sys_sleep(LANES_MS(500));             /* its fs.Read is parked in fs now */
    printf("crash-fs: child %d waits in a /dev/slow read; sending fs.Crash\n", child);
    struct lane_msg_fs_crash m = lanes_msg_fs_crash_encode(0xc0);
    struct lanes_queue q;
    if (lanes_queue_init(&q, 4) < 0)
        return failed("fs", "queue%ld%ld", 0, 0);
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, &m, sizeof m);
    lanes_acts_end(&b);
    lanes_ipc_call(&q, lanes_posix_fd_lane(fd), &b, &c, LANES_SEC(10));
    uint64_t sent = lanes_now_ns();
    if (!wait_state(rp, 2, 20000))
        return failed("fs", "the child's read did not end within 20 s of the crash (state %ld)%ld", rp->state, 0);
    if (rp->r != -1 || rp->err != EIO)
        return failed("fs", "the child's read returned %ld (errno %ld), expected -1 EIO", rp->r, rp->err);
    printf("crash-fs: the child's read ended with EIO %llu ms after the crash\n",
           (unsigned long long)((lanes_now_ns() - sent) / 1000000));
    long r = read(fd, magic, 4);
    if (r != -1 || errno != EIO)
        return failed("fs", "our open file read %ld (errno %ld) after the crash, expected -1 EIO", r, errno);
    close(fd);
    printf("crash-fs: our open file reads EIO\n");
    int st;
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return failed("fs", "waitpid of the child: status %#lx%ld", st, 0);
    /* the new fs: posix binds it on the next path request */
    uint64_t until = lanes_now_ns() + LANES_SEC(30);
    int tries = 0;
    for (;;) {
        tries++;
        fd = open("/bin/true", O_RDONLY);
        if (fd >= 0 || lanes_now_ns() > until)
            break;
        if (errno != EIO)
            return failed("fs", "open after the crash: errno %ld (try %ld), expected EIO until the new fs", errno,
                          tries);
        lanes_sys_sleep(LANES_MS(100));
    }
    if (fd < 0)
        return failed("fs", "open /bin/true still fails 30 s after the crash: errno %ld%ld", errno, 0);
    r = read(fd, magic, 4);
    close(fd);
    if (r != 4 || memcmp(magic, "\177ELF", 4) != 0)
        return failed("fs", "reading /bin/true from the new fs: %ld (errno %ld)", r, errno);
    int w = open("/tmp/after-crash", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "ok", 2) != 2 || close(w) != 0 || unlink("/tmp/after-crash") != 0)
        return failed("fs", "writing /tmp on the new fs: errno %ld%ld", errno, 0);
    printf("crash-fs: ok: the new fs serves /bin and /tmp (%d opens to get there, %llu ms)\n", tries,
           (unsigned long long)((lanes_now_ns() - sent) / 1000000));
    return 0;
}

static int crash_posix(void)
{
    struct report *rp = shared_report();
    int p[2];
    if (!rp || pipe(p) != 0)
        return failed("posix", "mmap/pipe: errno %ld%ld", errno, 0);
    pid_t child = fork();
    if (child == 0) {
        blocking_read(rp, p[0]);                /* on the ring: the write end stays open */
    }
    if (child < 0)
        return failed("posix", "fork: errno %ld%ld", errno, 0);
    if (!wait_state(rp, 1, 10000))
        return failed("posix", "the child never reached its read (state %ld)%ld", rp->state, 0);
    lanes_sys_sleep(LANES_MS(500));
    printf("crash-posix: child %d waits in a pipe read; sending posix.Crash\n", child);
    struct lane_msg_posix_crash m = lanes_msg_posix_crash_encode(0xc0);
    uint8_t rep[64];
    int64_t r = lanes_posix_raw(&m, sizeof m, rep, sizeof rep);
    uint64_t sent = lanes_now_ns();
    if (r >= 0)
        return failed("posix", "posix.Crash was answered (%ld bytes)%ld", (long)r, 0);
    printf("crash-posix: our posix.Crash ended with errno %d\n", (int)-r);
    if (!wait_state(rp, 2, 20000))
        return failed("posix", "the child's pipe read did not end within 20 s of the crash (state %ld)%ld", rp->state,
                      0);
    if (rp->r != -1 || rp->err != EIO)
        return failed("posix", "the child's read returned %ld (errno %ld), expected -1 EIO", rp->r, rp->err);
    printf("crash-posix: the child's pipe read ended with EIO %llu ms after the crash\n",
           (unsigned long long)((lanes_now_ns() - sent) / 1000000));
    int st;
    pid_t w = waitpid(child, &st, 0);
    int werr = errno;
    if (w != -1)
        return failed("posix", "waitpid without a POSIX server returned %ld%ld", w, 0);
    int fd = open("/bin/true", O_RDONLY);
    int oerr = errno;
    if (fd != -1)
        return failed("posix", "open without a POSIX server returned %ld%ld", fd, 0);
    printf("crash-posix: ok: afterwards waitpid fails %s, open fails %s (no hang)\n", strerror(werr), strerror(oerr));
    return 0;
}

int supervise_helper(int argc, char **argv)
{
    (void)argc;
    if (!strcmp(argv[1], "--crash-fs"))
        return crash_fs();
    if (!strcmp(argv[1], "--crash-posix"))
        return crash_posix();
    return 99;
}
