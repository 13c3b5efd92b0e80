/* ipc-host-bench — the host's own IPC round trip, the baseline for LaneOS's ipc-bench.
 *
 * A 64-byte request and a 64-byte reply between two processes (fork), over a pair of pipes
 * and over a Unix socket pair (SOCK_STREAM), N round trips each after a warm-up.
 * Prints one line: HOST-IPC-JSON {"pipe_rtt_ns":..,"unix_rtt_ns":..,"rounds":N}
 * Build: cc -O2 -o ipc-host-bench ipc-host-bench.c      Usage: ipc-host-bench [N]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int full(int fd, char *b, int n, int wr)
{
    int done = 0;
    while (done < n) {
        ssize_t r = wr ? write(fd, b + done, n - done) : read(fd, b + done, n - done);
        if (r <= 0)
            return -1;
        done += (int)r;
    }
    return 0;
}

/* Returns ns per round trip; cfd/sfd: client's read/write fds, server's read/write fds. */
static long long run(int crd, int cwr, int srd, int swr, int close_in_child[2], int close_in_parent[2], long n)
{
    char buf[64] = { 0 };
    pid_t p = fork();
    if (p == 0) {
        close(close_in_child[0]);
        if (close_in_child[1] >= 0)
            close(close_in_child[1]);
        for (long i = 0; i < n + 100; i++)
            if (full(srd, buf, 64, 0) || full(swr, buf, 64, 1))
                _exit(1);
        _exit(0);
    }
    close(close_in_parent[0]);
    if (close_in_parent[1] >= 0)
        close(close_in_parent[1]);
    long long t0 = 0;
    for (long i = 0; i < n + 100; i++) {
        if (i == 100)
            t0 = now_ns();
        if (full(cwr, buf, 64, 1) || full(crd, buf, 64, 0))
            return -1;
    }
    long long dt = now_ns() - t0;
    int st;
    waitpid(p, &st, 0);
    return dt / n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int a[2], b[2];
    if (pipe(a) || pipe(b))
        return 1;
    /* client writes a[1], reads b[0]; server reads a[0], writes b[1] */
    int cc[2] = { a[1], b[0] }, cp[2] = { a[0], b[1] };
    long long pipe_ns = run(b[0], a[1], a[0], b[1], cc, cp, n);
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
        return 1;
    int sc[2] = { s[0], -1 }, sp[2] = { s[1], -1 };
    long long unix_ns = run(s[0], s[0], s[1], s[1], sc, sp, n);
    printf("HOST-IPC-JSON {\"pipe_rtt_ns\":%lld,\"unix_rtt_ns\":%lld,\"rounds\":%ld}\n", pipe_ns, unix_ns, n);
    return pipe_ns < 0 || unix_ns < 0;
}
