/* sigtests — POSIX signals and syscall cancellation in the guest (issue 14): a table like
 * posixtests, `sigtests [PREFIX...]`, one "test NAME: ok|FAILED (why)" line each, then
 * "N passed, N failed". Run from the shell (a POSIX process); os/tools/os-test --only sig runs it
 * under TCG with 1 and 4 CPUs.
 *
 * Every interruptible call is tested for the three outcomes with Linux's semantics: EINTR
 * without progress, the partial count with progress, the call restarted after an SA_RESTART
 * handler (and never for nanosleep, pause, sigsuspend). Then: a signal racing the reply (ROUNDS
 * kills while a pipe read goes on; the bytes read plus the bytes left equal the bytes written, in
 * order; the same on a FIFO; nanosleep's outcome against a stream of signals), SIGKILL of a
 * process blocked in a pipe read, nanosleep, a /dev/slow or FIFO read in fs, waitpid or a
 * console read frees everything (fs's live count, posix's counters and the kernel's free memory
 * come back), a handler blocked in a call that a second signal interrupts, nested handlers, handlers making syscalls, an alert to a thread busy
 * in user code (the registers in the ucontext), default actions (terminate, stop/continue with
 * WUNTRACED/WCONTINUED, ignore), masks, sigpending, SA_RESETHAND, SA_NODEFER, SA_SIGINFO, what
 * fork and exec inherit (dispositions, the mask, not pending signals; caught ones reset by exec),
 * sigaltstack with SA_ONSTACK.
 * Helper modes (started by the tests): --spin, --block-read, --sleep MS, --killer PID N,
 * --writer N, --exec-check, --kill-after PID SIG MS, --late-read MS N, --fifo-late-open PATH MS,
 * --console-read, --block-slow / --block-fifo PATH / --block-waitpid / --block-console; --bench-kill N is the kill -> EINTR benchmark, --bench-partial N the
 * kill -> partial result one (a read of /dev/slow on LaneOS, a MSG_WAITALL recv on Linux; both
 * run by os/tools/sig-bench; `--pin KILLER TARGET` after N pins the two processes' threads).
 * The same file builds for Linux (-DSIGTESTS_LINUX, linux.h): the "test NAME" verdicts and the
 * "OUTCOME name: value" lines are what os/tools/sigdiff.py compares with Linux's, line by line.
 */
#ifdef SIGTESTS_LINUX
#define _GNU_SOURCE
#include "linux.h"
#else
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/sigtrace.h>
#include <lanes/testing.h>
#include <sched.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS_DEFAULT 10000
static long rounds = ROUNDS_DEFAULT;
#ifdef SIGTESTS_LINUX
static const char *self_path = "/init";     /* the Linux guest's initramfs (linux.h) */
#else
static const char *self_path = "/bin/sigtests";
#endif

static volatile int hits[NSIG];
static volatile int depth, max_depth;
static volatile siginfo_t last_info;
static volatile long last_rip;

static void on_sig(int s) { hits[s]++; }

static void on_info(int s, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    hits[s]++;
    last_info = *si;
    last_rip = (long)uc->uc_mcontext.gregs[REG_RIP];
}

static void reset(void)
{
    for (int i = 0; i < NSIG; i++)
        hits[i] = 0;
    depth = max_depth = 0;
}

static int handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_handler = fn;
    a.sa_flags = flags;
    return sigaction(sig, &a, NULL);
}

static int handle_info(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_sigaction = fn;
    a.sa_flags = SA_SIGINFO;
    return sigaction(sig, &a, NULL);
}

static void dfl(int sig) { handle(sig, SIG_DFL, 0); }

static void alarm_ms(long ms)
{
    struct itimerval v;
    memset(&v, 0, sizeof v);
    v.it_value.tv_sec = ms / 1000;
    v.it_value.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &v, NULL);
}

static void alarm_every(long ms)                /* SIGALRM after ms, and again every ms */
{
    struct itimerval v;
    memset(&v, 0, sizeof v);
    v.it_value.tv_sec = v.it_interval.tv_sec = ms / 1000;
    v.it_value.tv_usec = v.it_interval.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &v, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void msleep(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {}
}

static void flush_out(void)                 /* before a fork: nothing buffered twice (Linux's stdio) */
{
#ifdef SIGTESTS_LINUX
    fflush(stdout);
#endif
}

static void outcome(const char *name, long v) { printf("OUTCOME %s: %ld\n", name, v); }

static pid_t spawn(char *const argv[])
{
    pid_t pid;
    return posix_spawn(&pid, self_path, NULL, NULL, argv, NULL) == 0 ? pid : -1;
}

static int handle(int sig, void (*fn)(int), int flags);
static void alarm_ms(long ms);
static void on_sig(int s);
static int dispositions(void);
static int wait_eintr(pid_t pid, int *st);
#ifndef SIGTESTS_LINUX
static long fsstat(const char *key);
#endif

/* ---- the kill -> EINTR benchmark ---- */

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void sort_u64(uint64_t *v, int n)    /* insertion sort: a few hundred values */
{
    for (int i = 1; i < n; i++) {
        uint64_t x = v[i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* "BENCH NAME n N median_ns M p99_ns P min_ns X" of n sorted latencies: what sig-bench parses. */
static void bench_print(const char *name, const uint64_t *lat, int got)
{
    printf("BENCH %s n %d median_ns %llu p99_ns %llu min_ns %llu\n", name, got, (unsigned long long)lat[got / 2],
           (unsigned long long)lat[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1], (unsigned long long)lat[0]);
}

/* --pin KILLER TARGET (both benchmarks): the killer (the parent) pins itself to CPU KILLER
 * before the fork, the target (the child) itself to CPU TARGET after it: "same CPU" is 0 0,
 * "across CPUs" 0 1. sched_setaffinity on both systems (LaneOS: lib/src/sched.c, the
 * thread_set_affinity syscall, returns 0 or -LANES_E_*; Linux: 0 or -1). Only these two
 * threads are pinned: on LaneOS, posix and fs go where the scheduler puts them. Each side
 * notes its CPU when it takes its time (lanes_cpu_id / sched_getcpu); rounds where either was
 * not on its CPU are counted: "BENCH NAME-pin killer K target T misplaced M" (-1: not pinned). */
struct bench_pin { int killer, target, misplaced; };

static void bench_args(int argc, char **argv, int *n, bool *verbose, struct bench_pin *pin)
{
    *n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 200;
    *verbose = false;
    *pin = (struct bench_pin){ -1, -1, 0 };
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            *verbose = true;
        else if (!strcmp(argv[i], "--pin") && i + 2 < argc) {
            pin->killer = (int)strtol(argv[i + 1], NULL, 10);
            pin->target = (int)strtol(argv[i + 2], NULL, 10);
            i += 2;
        }
    }
}

static int bench_cpu(void)
{
#ifdef SIGTESTS_LINUX
    return sched_getcpu();
#else
    return (int)lanes_cpu_id();
#endif
}

static int bench_pin_self(int cpu)              /* 0, or nonzero if it could not */
{
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) != 0 || bench_cpu() != cpu;
}

static void bench_pin_note(struct bench_pin *pin, int killer_cpu, int target_cpu)
{
    if ((pin->killer >= 0 && killer_cpu != pin->killer) || (pin->target >= 0 && target_cpu != pin->target))
        pin->misplaced++;
}

static void bench_pin_print(const char *name, const struct bench_pin *pin)
{
    printf("BENCH %s-pin killer %d target %d misplaced %d\n", name, pin->killer, pin->target, pin->misplaced);
}

struct kill_result {
    uint64_t t;
    int64_t cpu;                        /* the target's CPU when it took t */
};

/* N rounds: a child blocks in a pipe read (SIGUSR1 caught, no SA_RESTART); 20 ms after it said
 * it is about to, we take the time and kill() it; the child takes the time when its read
 * returned EINTR (after the handler ran) and sends it back. The latency is the difference (one
 * CLOCK_MONOTONIC for every CPU). Prints "BENCH kill-eintr n N median_ns M p99_ns P" (and,
 * with --pin, the -pin line above). */
static int bench_kill(int n, bool verbose, struct bench_pin pin)
{
    if (n < 1 || n > 100000)
        n = 200;
    int go[2], data[2], back[2];
    if (pipe(go) < 0 || pipe(data) < 0 || pipe(back) < 0)
        return 3;
    if (bench_pin_self(pin.killer)) {
        printf("bench-kill: cannot pin the killer to CPU %d\n", pin.killer);
        return 7;
    }
    flush_out();
    pid_t c = fork();
    if (c == 0) {
        close(go[0]);
        close(data[1]);
        close(back[0]);
        if (bench_pin_self(pin.target))
            _exit(3);
        handle(SIGUSR1, on_sig, 0);
        for (;;) {
            char x = 'r', buf[8];
            if (write(go[1], &x, 1) != 1)
                _exit(1);
            ssize_t r = read(data[0], buf, sizeof buf);
            struct kill_result res = { now_ns(), bench_cpu() };
            if (r == 0)
                _exit(0);               /* the end: the parent closed the write end */
            if (r < 0 && errno == EINTR && write(back[1], &res, sizeof res) != sizeof res)
                _exit(2);
        }
    }
    if (c < 0)
        return 4;
    close(go[1]);
    close(data[0]);
    close(back[1]);
    static uint64_t lat[100000];
    int got = 0;
    for (int i = 0; i < n; i++) {
        char x;
        if (read(go[0], &x, 1) != 1)
            break;
        msleep(20);                     /* it is blocked in its read by now */
        int killer_cpu = bench_cpu();
        uint64_t t0 = now_ns();
        kill(c, SIGUSR1);
        struct kill_result res;
        if (read(back[0], &res, sizeof res) != sizeof res)
            break;
        uint64_t t1 = res.t;
        bench_pin_note(&pin, killer_cpu, (int)res.cpu);
        lat[got++] = t1 > t0 ? t1 - t0 : 0;
        if (verbose)
            printf("round %d: %llu us\n", i, (unsigned long long)lat[got - 1] / 1000);
    }
    close(data[1]);
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    if (!got)
        return 5;
    sort_u64(lat, got);
    bench_print("kill-eintr", lat, got);
    if (pin.killer >= 0 || pin.target >= 0)
        bench_pin_print("kill-eintr", &pin);
    return got == n ? 0 : 6;
}

/* ---- the kill -> partial result benchmark ---- */

/* N rounds, like bench_kill, but the child is blocked in a read that has already made progress
 * (SIGUSR1 caught, no SA_RESTART), so the read returns the partial count:
 *  - LaneOS: a read of PARTIAL_WANT bytes on /dev/slow, a file of fs reached over its
 *    passthrough lane, at PARTIAL_RATE ("8 10 whole": 8 bytes every 10 ms, the read waits for
 *    all it asked for). 25 ms after the child said it is about to read, fs has handed it 16
 *    bytes (at 10 and 20 ms) and the next 8 are 5 ms away. The kill alerts the thread, libc
 *    sends fs.Cancel{id} on that lane, fs answers the request's one reply with its 16 bytes,
 *    libc asks posix for the signal (SigTake), runs the handler and read() returns 16.
 *  - Linux (-DSIGTESTS_LINUX; not __linux__, which the host gcc also defines when it builds
 *    for LaneOS): Linux's device-like files have no "trickle and wait for the rest", so the
 *    same semantics come from recv(fd, buf, PARTIAL_WANT, MSG_WAITALL) on an AF_UNIX stream
 *    socketpair: the parent writes 16 bytes when the child said go, the recv takes them and
 *    sleeps for the rest; a signal then makes it return the 16 (unix_stream_read_generic:
 *    "copied ? : -EINTR").
 * Time from the parent's clock read before kill() to the child's after read()/recv() returned
 * (after the handler ran). A round is timed only if the call returned 0 < r < PARTIAL_WANT; the
 * others (EINTR, the whole count, an error) are counted and printed, not timed. Prints
 * "BENCH kill-partial n N median_ns M p99_ns P min_ns X" (as bench_kill) and
 * "BENCH kill-partial-rounds rounds R partial P eintr E whole W other O bytes_median B". */
#define PARTIAL_WANT 4096
#define PARTIAL_RATE "8 10 whole"
#define PARTIAL_FED 16                  /* Linux: what the parent writes each round */

struct partial_result {
    uint64_t t;
    int64_t r;                          /* read()'s value, -errno on failure */
    int64_t cpu;                        /* the target's CPU when it took t */
};

static int bench_partial(int n, bool verbose, struct bench_pin pin)
{
    if (n < 1 || n > 100000)
        n = 200;
    int go[2], back[2];
    if (pipe(go) < 0 || pipe(back) < 0)
        return 3;
#ifdef SIGTESTS_LINUX
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 3;
#else
    int fd = open("/dev/slow", O_RDWR);
    if (fd < 0 || write(fd, PARTIAL_RATE, strlen(PARTIAL_RATE)) != (ssize_t)strlen(PARTIAL_RATE)) {
        printf("bench-partial: /dev/slow: %s\n", strerror(errno));
        return 3;
    }
#endif
    if (bench_pin_self(pin.killer)) {
        printf("bench-partial: cannot pin the killer to CPU %d\n", pin.killer);
        return 7;
    }
    flush_out();
    pid_t c = fork();
    if (c == 0) {
        close(go[0]);
        close(back[0]);
#ifdef SIGTESTS_LINUX
        close(sv[0]);
#endif
        if (bench_pin_self(pin.target))
            _exit(3);
        handle(SIGUSR1, on_sig, 0);
        static char buf[PARTIAL_WANT];
        for (int i = 0; i < n; i++) {
            char x = 'r';
            if (write(go[1], &x, 1) != 1)
                _exit(1);
#ifdef SIGTESTS_LINUX
            ssize_t r = recv(sv[1], buf, sizeof buf, MSG_WAITALL);
#else
            ssize_t r = read(fd, buf, sizeof buf);
#endif
            struct partial_result res = { now_ns(), r < 0 ? -errno : r, 0 };
            res.cpu = bench_cpu();
            if (write(back[1], &res, sizeof res) != sizeof res)
                _exit(2);
        }
        _exit(0);
    }
    if (c < 0)
        return 4;
    close(go[1]);
    close(back[1]);
    static uint64_t lat[100000];
    static uint64_t bytes[100000];
    int got = 0, rounds = 0, eintr = 0, whole = 0, other = 0;
    for (int i = 0; i < n; i++) {
        char x;
        if (read(go[0], &x, 1) != 1)
            break;
#ifdef SIGTESTS_LINUX
        static const char fed[PARTIAL_FED] = "partial progress";
        if (write(sv[0], fed, sizeof fed) != sizeof fed)
            break;
#endif
        msleep(25);                     /* it is blocked in its read, with 16 bytes, by now */
        int killer_cpu = bench_cpu();
        uint64_t t0 = now_ns();
        kill(c, SIGUSR1);
        struct partial_result res;
        if (read(back[0], &res, sizeof res) != sizeof res)
            break;
        rounds++;
        if (res.r > 0 && res.r < PARTIAL_WANT) {
            bench_pin_note(&pin, killer_cpu, (int)res.cpu);
            bytes[got] = (uint64_t)res.r;
            lat[got++] = res.t > t0 ? res.t - t0 : 0;
        } else if (res.r == -EINTR) {
            eintr++;
        } else if (res.r == PARTIAL_WANT) {
            whole++;
        } else {
            other++;
        }
        if (verbose)
            printf("round %d: %lld bytes, %llu us\n", i, (long long)res.r, (unsigned long long)(res.t > t0 ? res.t - t0 : 0) / 1000);
    }
    if (rounds < n)
        kill(c, SIGKILL);
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    if (!got) {
        printf("BENCH kill-partial-rounds rounds %d partial 0 eintr %d whole %d other %d bytes_median 0\n", rounds, eintr, whole, other);
        return 5;
    }
    sort_u64(bytes, got);
    printf("BENCH kill-partial-rounds rounds %d partial %d eintr %d whole %d other %d bytes_median %llu\n", rounds, got, eintr,
           whole, other, (unsigned long long)bytes[got / 2]);
    sort_u64(lat, got);
    bench_print("kill-partial", lat, got);
    if (pin.killer >= 0 || pin.target >= 0)
        bench_pin_print("kill-partial", &pin);
    return got == n ? 0 : 6;
}

/* ---- helper modes ---- */

static int helper(int argc, char **argv)
{
    const char *m = argv[1];
    if (!strcmp(m, "--spin")) {                 /* user code only: the alert entry's case */
        handle_info(SIGUSR1, on_info);
        volatile unsigned long x = 0;
        while (!hits[SIGUSR1])
            x++;
        return last_rip ? 42 : 43;
    }
    if (!strcmp(m, "--bench-kill") || !strcmp(m, "--bench-partial")) {
        int n;                                  /* N [-v] [--pin KILLER TARGET] (os/tools/sig-bench) */
        bool verbose;
        struct bench_pin pin;
        bench_args(argc, argv, &n, &verbose, &pin);
        return m[8] == 'k' ? bench_kill(n, verbose, pin) : bench_partial(n, verbose, pin);
    }
    if (!strcmp(m, "--exec-check")) {          /* t_fork_exec's child after execv */
        int bad = dispositions();
        sigset_t m2;
        sigemptyset(&m2);
        sigaddset(&m2, SIGINT);
        sigprocmask(SIG_UNBLOCK, &m2, NULL);    /* (SIGINT is SIG_DFL now: never raised here) */
        return (bad & 0xff) | (bad & 0x200 ? 0 : 32);
    }
    if (!strcmp(m, "--block-read")) {           /* blocked in a pipe read until killed */
        int p[2];
        if (pipe(p) < 0)
            return 3;
        char c;
        read(p[0], &c, 1);
        return 4;
    }
    if (!strcmp(m, "--sleep")) {
        msleep(argc > 2 ? strtol(argv[2], NULL, 10) : 100);
        return 7;
    }
    if (!strcmp(m, "--kill-after")) {           /* --kill-after PID SIG MS: one signal from another process */
        msleep(argc > 4 ? strtol(argv[4], NULL, 10) : 100);
        return kill((pid_t)strtol(argv[2], NULL, 10), (int)strtol(argv[3], NULL, 10)) == 0 ? 0 : 5;
    }
    if (!strcmp(m, "--late-read")) {            /* --late-read MS N: after MS, N bytes from fd 0 */
        msleep(strtol(argv[2], NULL, 10));
        static char sink[4096];
        long n = strtol(argv[3], NULL, 10);
        while (n > 0) {
            ssize_t r = read(0, sink, n > (long)sizeof sink ? sizeof sink : (size_t)n);
            if (r <= 0)
                return 6;
            n -= r;
        }
        return 0;
    }
    if (!strcmp(m, "--fifo-late-open")) {       /* --fifo-late-open PATH MS: open it for writing late */
        msleep(strtol(argv[3], NULL, 10));
        int fd = open(argv[2], O_WRONLY);
        if (fd < 0)
            return 6;
        return write(fd, "late\n", 5) == 5 && close(fd) == 0 ? 0 : 7;
    }
    if (!strcmp(m, "--console-read")) {         /* a read of the console (fd 0, nothing typed) */
        handle(SIGUSR1, on_sig, 0);
        char c[8];
        ssize_t r = read(0, c, sizeof c);
        return r == -1 && errno == EINTR && hits[SIGUSR1] == 1 ? 20 : 21;
    }
#ifndef SIGTESTS_LINUX
    if (!strcmp(m, "--block-slow")) {           /* blocked in fs: a /dev/slow read (1 byte in 10 s) */
        int fd = open("/dev/slow", O_RDWR);
        if (fd < 0 || write(fd, "1 10000 whole", 13) != 13)
            return 3;
        static char sb[4096];
        read(fd, sb, sizeof sb);
        return 4;
    }
#endif
    if (!strcmp(m, "--block-fifo")) {           /* blocked in fs: a FIFO read (a writer exists: itself) */
        int fd = open(argv[2], O_RDWR);
        if (fd < 0)
            return 3;
        char c;
        read(fd, &c, 1);
        return 4;
    }
    if (!strcmp(m, "--block-waitpid")) {        /* blocked in posix: waitpid for a child living 1 s */
        char *av[] = { "sigtests", "--sleep", "1000", NULL };
        pid_t c;
        if (posix_spawn(&c, self_path, NULL, NULL, av, NULL) != 0)
            return 3;
        int st;
        waitpid(c, &st, 0);
        return 4;
    }
    if (!strcmp(m, "--block-console")) {        /* blocked reading the console */
        char c;
        read(0, &c, 1);
        return 4;
    }
    if (!strcmp(m, "--write-no-reader")) {      /* t_sigpipe's child: SIGPIPE at its default */
        int p[2];
        if (pipe(p) < 0)
            return 3;
        close(p[0]);
        write(p[1], "x", 1);
        return errno == EPIPE ? 9 : 10;         /* not killed: the write only failed */
    }
    if (!strcmp(m, "--killer")) {               /* N x SIGUSR1 to PID, each once the last was handled */
        pid_t pid = (pid_t)strtol(argv[2], NULL, 10);
        long n = strtol(argv[3], NULL, 10), stalls = 0;
        handle(SIGALRM, on_sig, 0);
        for (long i = 0; i < n; i++) {
            if (kill(pid, SIGUSR1) < 0)
                return 5;
            char c;
            ssize_t r;
            alarm_ms(5000);                     /* no answer in 5 s: a signal (or its ack) was lost */
            while ((r = read(0, &c, 1)) < 0 && errno == EINTR) {
                stalls++;
                printf("killer: no ack for signal %ld after 5 s\n", i);
                if (stalls >= 6)
                    return 8;                   /* lost for good: fail now, not at the suite's timeout */
                kill(pid, SIGUSR1);
                alarm_ms(5000);
            }
            alarm_ms(0);
            if (r != 1)
                return 6;                       /* the handler acknowledges on our stdin */
        }
        return stalls ? 8 : 0;
    }
    if (!strcmp(m, "--writer")) {               /* N bytes of the pattern to fd 1 (or FIFO), in odd pieces */
        long n = strtol(argv[2], NULL, 10);
        int out = 1;
        if (argc > 3 && (out = open(argv[3], O_WRONLY)) < 0)
            return 7;
        static unsigned char buf[3000];
        long piece = argc > 4 ? strtol(argv[4], NULL, 10) : (long)sizeof buf;    /* the largest piece */
        long pause = argc > 5 ? strtol(argv[5], NULL, 10) : 0;                   /* ms after each */
        long done = 0;
        unsigned k = 1;
        while (done < n) {
            k = (k * 1103515245u + 12345u);
            long len = 1 + (long)((k >> 16) % (unsigned long)piece);
            if (len > n - done)
                len = n - done;
            for (long i = 0; i < len; i++)
                buf[i] = (unsigned char)((done + i) * 7 + 3);
            ssize_t w = write(out, buf, (size_t)len);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return 6;
            done += w;
            if (pause)
                msleep(pause);
            else
                lanes_sys_yield();              /* often an empty pipe: reads block, signals cancel them */
        }
        return 0;
    }
    return 2;
}

#ifndef SIGTESTS_LINUX
/* ---- the kernel's trace_user: records of class signal only, checked ---- */

static bool t_trace_user(void)
{
    uint8_t body[64];
    memset(body, 0, sizeof body);
    REQUIRE(lanes_trace_sig_flag(1, 2, 1, 2, 3) > 0, "a sig_flag record was not written (class signal on by default)");
    REQUIRE(lanes_trace_sys_begin(1, 2, 3, 4, 5, 6, "a-name-longer-than-the-thirty-two-bytes-it-may-have") > 0, "sys_begin");
    REQUIRE(lanes_sys_trace_user(144, body, 32) == LANES_E_INVAL, "a marker (class user) accepted");
    REQUIRE(lanes_sys_trace_user(9999, body, 16) == LANES_E_INVAL, "an unknown type accepted");
    REQUIRE(lanes_sys_trace_user(163, body, 15) == LANES_E_INVAL, "a short sig_flag accepted");
    REQUIRE(lanes_sys_trace_user(163, body, 17) == LANES_E_INVAL, "a long sig_flag accepted");
    REQUIRE(lanes_sys_trace_user(163, (void *)0xffff800000000000ull, 16) == LANES_E_FAULT, "a kernel pointer accepted");
    REQUIRE(lanes_sys_trace_user(163, (void *)8, 16) == LANES_E_FAULT, "an unmapped pointer accepted");
    body[32] = 40;                              /* sys_begin's tail length past its 32 bytes */
    REQUIRE(lanes_sys_trace_user(160, body, 32 + 2 + 40) == LANES_E_INVAL, "a tail over its maximum accepted");
    body[32] = 5;
    REQUIRE(lanes_sys_trace_user(160, body, 32 + 2 + 4) == LANES_E_INVAL, "a tail length that disagrees accepted");
    return true;
}
#endif

/* ---- handlers, masks, actions ---- */

static bool t_raise_handler(void)
{
    reset();
    REQUIRE(handle(SIGUSR1, on_sig, 0) == 0, "sigaction: %s", strerror(errno));
    REQUIRE(raise(SIGUSR1) == 0, "raise: %s", strerror(errno));
    REQUIRE(hits[SIGUSR1] == 1, "handler ran %d times before raise returned (want 1)", hits[SIGUSR1]);
    dfl(SIGUSR1);
    outcome("raise-handler", hits[SIGUSR1]);
    return true;
}

static bool t_siginfo(void)
{
    reset();
    REQUIRE(handle_info(SIGUSR2, on_info) == 0, "sigaction");
    REQUIRE(kill(getpid(), SIGUSR2) == 0, "kill: %s", strerror(errno));
    REQUIRE(hits[SIGUSR2] == 1, "handler ran %d times", hits[SIGUSR2]);
    REQUIRE(last_info.si_signo == SIGUSR2 && last_info.si_code == SI_USER && last_info.si_pid == getpid(),
            "siginfo: signo %d code %d pid %d (want %d, SI_USER, %d)", last_info.si_signo, last_info.si_code,
            last_info.si_pid, SIGUSR2, getpid());
    dfl(SIGUSR2);
    outcome("siginfo-code", last_info.si_code);
    return true;
}

static bool t_sigaction_old(void)
{
    struct sigaction a, o;
    memset(&a, 0, sizeof a);
    a.sa_handler = on_sig;
    a.sa_flags = SA_RESTART;
    sigaddset(&a.sa_mask, SIGUSR2);
    REQUIRE(sigaction(SIGUSR1, &a, NULL) == 0, "set");
    REQUIRE(sigaction(SIGUSR1, NULL, &o) == 0, "get");
    REQUIRE(o.sa_handler == on_sig && (o.sa_flags & SA_RESTART) && sigismember(&o.sa_mask, SIGUSR2), "old action wrong");
    REQUIRE(sigaction(SIGKILL, &a, NULL) < 0 && errno == EINVAL, "SIGKILL accepted a handler");
    REQUIRE(sigaction(SIGSTOP, &a, NULL) < 0 && errno == EINVAL, "SIGSTOP accepted a handler");
    REQUIRE(sigaction(0, &a, NULL) < 0 && errno == EINVAL, "signal 0 accepted");
    REQUIRE(sigaction(65, &a, NULL) < 0 && errno == EINVAL, "signal 65 accepted");
    dfl(SIGUSR1);
    return true;
}

static bool t_mask_pending(void)
{
    reset();
    handle(SIGUSR1, on_sig, 0);
    sigset_t s, old, pend;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    REQUIRE(sigprocmask(SIG_BLOCK, &s, &old) == 0, "block");
    raise(SIGUSR1);
    REQUIRE(hits[SIGUSR1] == 0, "blocked signal delivered");
    REQUIRE(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR1), "not pending");
    REQUIRE(sigprocmask(SIG_SETMASK, &old, NULL) == 0, "unblock");
    REQUIRE(hits[SIGUSR1] == 1, "not delivered when unblocked (%d)", hits[SIGUSR1]);
    REQUIRE(sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR1), "still pending");
    sigset_t k;
    sigemptyset(&k);
    sigaddset(&k, SIGKILL);
    sigaddset(&k, SIGSTOP);
    sigprocmask(SIG_BLOCK, &k, NULL);
    sigprocmask(SIG_BLOCK, NULL, &old);
    REQUIRE(!sigismember(&old, SIGKILL) && !sigismember(&old, SIGSTOP), "SIGKILL/SIGSTOP blockable");
    REQUIRE(sigprocmask(7, &k, NULL) < 0 && errno == EINVAL, "bad how accepted");
    dfl(SIGUSR1);
    outcome("mask-pending", hits[SIGUSR1]);
    return true;
}

static bool t_ignore(void)
{
    reset();
    REQUIRE(handle(SIGUSR1, SIG_IGN, 0) == 0, "SIG_IGN");
    REQUIRE(raise(SIGUSR1) == 0, "raise");
    raise(SIGCHLD);                             /* default: ignore */
    raise(SIGURG);
    sigset_t pend;
    sigpending(&pend);
    int npend = 0;
    for (int s = 1; s < NSIG; s++)
        npend += sigismember(&pend, s) == 1;
    REQUIRE(npend == 0, "%d ignored signals pending", npend);
    dfl(SIGUSR1);
    return true;
}

static bool t_resethand(void)
{
    reset();
    handle(SIGUSR1, on_sig, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction o;
    sigaction(SIGUSR1, NULL, &o);
    REQUIRE(hits[SIGUSR1] == 1, "handler ran %d times", hits[SIGUSR1]);
    REQUIRE(o.sa_handler == SIG_DFL, "SA_RESETHAND left the handler in place");
    return true;
}

static void on_nest2(int s)
{
    hits[s]++;
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    depth--;
}

static void on_nest1(int s)
{
    hits[s]++;
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    raise(SIGUSR2);                             /* a syscall in a handler; the new one nests */
    if (hits[s] < 3)
        raise(SIGUSR1);                         /* SA_NODEFER: itself again, nested */
    depth--;
}

static bool t_nested(void)
{
    reset();
    handle(SIGUSR1, on_nest1, SA_NODEFER);
    handle(SIGUSR2, on_nest2, 0);
    raise(SIGUSR1);
    dfl(SIGUSR1);
    dfl(SIGUSR2);
    REQUIRE(hits[SIGUSR1] == 3 && hits[SIGUSR2] == 3, "USR1 %d, USR2 %d times (want 3, 3)", hits[SIGUSR1], hits[SIGUSR2]);
    REQUIRE(max_depth == 4, "deepest nesting %d (want 4: three USR1 and a USR2 in the last)", max_depth);
    outcome("nested-depth", max_depth);
    return true;
}

static void on_defer(int s)
{
    hits[s]++;
    if (hits[s] == 1)
        raise(s);                               /* blocked while we run: after we return */
    depth = hits[s];
}

static bool t_defer(void)
{
    reset();
    handle(SIGUSR1, on_defer, 0);
    raise(SIGUSR1);
    dfl(SIGUSR1);
    REQUIRE(hits[SIGUSR1] == 2, "ran %d times (want 2: the second after the first returned)", hits[SIGUSR1]);
    return true;
}

static int fds_pipe[2];
static void on_syscalls(int s)
{
    hits[s]++;
    char buf[8];
    if (write(fds_pipe[1], "hi", 2) != 2 || read(fds_pipe[0], buf, 2) != 2 || getppid() <= 0)
        hits[s] = 100;
    struct stat st;
    if (stat("/", &st) < 0)
        hits[s] = 200;
}

static bool t_handler_syscalls(void)
{
    reset();
    REQUIRE(pipe(fds_pipe) == 0, "pipe");
    handle(SIGUSR1, on_syscalls, 0);
    raise(SIGUSR1);
    dfl(SIGUSR1);
    close(fds_pipe[0]);
    close(fds_pipe[1]);
    REQUIRE(hits[SIGUSR1] == 1, "handler's syscalls failed (%d)", hits[SIGUSR1]);
    return true;
}

/* An alert to a process busy in user code: the kernel runs libc's alert entry with its
 * registers; the handler sees them (REG_RIP) and the loop goes on where it was. */
static bool t_async_busy(void)
{
    char *av[] = { "sigtests", "--spin", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    msleep(300);
    REQUIRE(kill(c, SIGUSR1) == 0, "kill");
    int st;
    REQUIRE(waitpid(c, &st, 0) == c, "waitpid: %s", strerror(errno));
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 42, "child status %#x (42: handler ran with its rip)", st);
    outcome("async-busy", WEXITSTATUS(st));
    return true;
}

/* ---- interruptible calls ---- */

static bool t_read_eintr(void)
{
    reset();
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    handle(SIGALRM, on_sig, 0);
    alarm_ms(100);
    char buf[16];
    ssize_t r = read(p[0], buf, sizeof buf);
    int e = errno;
    close(p[0]);
    close(p[1]);
    dfl(SIGALRM);
    REQUIRE(r == -1 && e == EINTR, "read gave %ld (%s), want EINTR", (long)r, strerror(e));
    REQUIRE(hits[SIGALRM] == 1, "handler ran %d times", hits[SIGALRM]);
    outcome("read-eintr", -e);
    return true;
}

static bool t_read_restart(void)
{
    reset();
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    handle(SIGALRM, on_sig, SA_RESTART);
    /* the signal comes at 100 ms, the data (a child's) at ~400 ms */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    char *dv[] = { "sigtests", "--late-write", "400", NULL };
    pid_t c = -1;
    REQUIRE(posix_spawn(&c, self_path, &fa, NULL, dv, NULL) == 0, "spawn");
    posix_spawn_file_actions_destroy(&fa);
    uint64_t t0 = now_ms();
    alarm_ms(100);
    char buf[16];
    ssize_t r = read(p[0], buf, sizeof buf);
    int e = errno;
    uint64_t took = now_ms() - t0;
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    close(p[0]);
    close(p[1]);
    dfl(SIGALRM);
    REQUIRE(hits[SIGALRM] == 1, "handler ran %d times", hits[SIGALRM]);
    REQUIRE(r == 5 && !memcmp(buf, "late\n", 5), "read gave %ld (%s), want the 5 late bytes", (long)r, r < 0 ? strerror(e) : "");
    REQUIRE(took >= 300, "read returned after %llu ms, before the data", (unsigned long long)took);
    outcome("read-restart", r);
    return true;
}

static bool t_write_partial(void)
{
    reset();
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    handle(SIGALRM, on_sig, SA_RESTART);        /* progress: partial even with SA_RESTART */
    static char big[100000];
    memset(big, 'x', sizeof big);
    alarm_ms(150);
    ssize_t w = write(p[1], big, sizeof big);
    int e = errno;
    close(p[0]);
    close(p[1]);
    dfl(SIGALRM);
    REQUIRE(hits[SIGALRM] == 1, "handler ran %d times", hits[SIGALRM]);
    REQUIRE(w == 65536, "write gave %ld (%s), want the 65536 bytes the pipe took", (long)w, w < 0 ? strerror(e) : "");
    outcome("write-partial", w);
    return true;
}

static bool t_write_eintr(void)
{
    reset();
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    static char big[65536];
    REQUIRE(write(p[1], big, sizeof big) == (ssize_t)sizeof big, "fill");
    handle(SIGALRM, on_sig, 0);
    alarm_ms(100);
    ssize_t w = write(p[1], "y", 1);
    int e = errno;
    close(p[0]);
    close(p[1]);
    dfl(SIGALRM);
    REQUIRE(w == -1 && e == EINTR, "write to a full pipe gave %ld (%s), want EINTR", (long)w, strerror(e));
    outcome("write-eintr", -e);
    return true;
}

static bool t_waitpid_eintr(void)
{
    reset();
    char *av[] = { "sigtests", "--sleep", "600", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    handle(SIGALRM, on_sig, 0);
    alarm_ms(100);
    int st;
    pid_t r = waitpid(c, &st, 0);
    int e = errno;
    dfl(SIGALRM);
    REQUIRE(r == -1 && e == EINTR, "waitpid gave %d (%s), want EINTR", r, strerror(e));
    REQUIRE(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7, "second waitpid");
    outcome("waitpid-eintr", -e);
    return true;
}

static bool t_waitpid_restart(void)
{
    reset();
    char *av[] = { "sigtests", "--sleep", "400", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    handle(SIGALRM, on_sig, SA_RESTART);
    alarm_ms(100);
    int st;
    pid_t r = waitpid(c, &st, 0);
    int e = errno;
    dfl(SIGALRM);
    REQUIRE(hits[SIGALRM] == 1, "handler ran %d times", hits[SIGALRM]);
    REQUIRE(r == c && WIFEXITED(st) && WEXITSTATUS(st) == 7, "waitpid gave %d (%s), want the child", r, r < 0 ? strerror(e) : "");
    outcome("waitpid-restart", r == c);
    return true;
}

/* Two threads: A blocks SIGALRM and waits in waitpid; the main thread waits in pause() and takes
 * the SIGALRM. Only the main thread's call is interrupted (Linux delivers a signal to one
 * thread): A's waitpid stays parked and returns the child when it ends. */
struct twaiter {
    pid_t child;
    volatile bool started, done;
    volatile pid_t got;
    volatile int status;
};

static void twaiter_main(void *arg)
{
    struct twaiter *w = arg;
    sigset_t b;
    sigemptyset(&b);
    sigaddset(&b, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &b, NULL);
    w->started = true;
    int st = 0;
    w->got = waitpid(w->child, &st, 0);
    w->status = st;
    w->done = true;
}

static bool t_thread_waitpid(void)
{
    reset();
    char *av[] = { "sigtests", "--sleep", "700", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    handle(SIGALRM, on_sig, 0);
    static struct twaiter w;
    memset(&w, 0, sizeof w);
    w.child = c;
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, twaiter_main, &w, 0) == 0, "thread");
    for (int i = 0; i < 100 && !w.started; i++)
        msleep(10);
    msleep(100);                                /* A is parked in waitpid */
    alarm_ms(100);
    int r = pause();
    int e = errno;
    bool early = w.done;                        /* (the child lives ~500 ms more) */
    lanes_thread_join(&t, LANES_SEC(5));
    dfl(SIGALRM);
    REQUIRE(r == -1 && e == EINTR && hits[SIGALRM] == 1, "pause gave %d (%s), handler %d", r, strerror(e), hits[SIGALRM]);
    REQUIRE(w.done, "the waiting thread did not finish");
    REQUIRE(!early, "the other thread's waitpid ended with the signal (gave %d)", (int)w.got);
    REQUIRE(w.got == c && WIFEXITED(w.status) && WEXITSTATUS(w.status) == 7, "the other thread's waitpid gave %d, want the child %d",
            (int)w.got, (int)c);
    outcome("thread-waitpid", w.got == c);
    return true;
}

static bool t_nanosleep(void)
{
    reset();
    handle(SIGALRM, on_sig, SA_RESTART);        /* never restarted: EINTR and the time left */
    alarm_ms(200);
    struct timespec req = { 2, 0 }, rem = { 0, 0 };
    int r = nanosleep(&req, &rem);
    int e = errno;
    dfl(SIGALRM);
    long left = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
    REQUIRE(r == -1 && e == EINTR, "nanosleep gave %d (%s), want EINTR", r, strerror(e));
    REQUIRE(left > 1000 && left < 2000, "remaining %ld ms (want about 1800)", left);
    outcome("nanosleep-eintr", -e);
    return true;
}

static bool t_pause(void)
{
    reset();
    handle(SIGALRM, on_sig, SA_RESTART);        /* pause: always EINTR */
    alarm(1);
    alarm_ms(100);
    int r = pause();
    int e = errno;
    dfl(SIGALRM);
    REQUIRE(r == -1 && e == EINTR && hits[SIGALRM] == 1, "pause gave %d (%s), handler %d", r, strerror(e), hits[SIGALRM]);
    outcome("pause-eintr", -e);
    return true;
}

static bool t_sigsuspend(void)
{
    reset();
    handle(SIGUSR1, on_sig, 0);
    handle(SIGALRM, on_sig, 0);
    sigset_t b, old, during;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    sigprocmask(SIG_BLOCK, &b, &old);
    raise(SIGUSR1);                             /* pending, blocked */
    REQUIRE(hits[SIGUSR1] == 0, "blocked USR1 ran");
    sigemptyset(&during);
    int r = sigsuspend(&during);                /* unblocks it: returns at once */
    int e = errno;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    REQUIRE(r == -1 && e == EINTR && hits[SIGUSR1] == 1, "sigsuspend gave %d (%s), USR1 %d", r, strerror(e), hits[SIGUSR1]);
    REQUIRE(sigismember(&now, SIGUSR1), "the mask was not restored");
    /* and a real wait: SIGALRM later */
    sigaddset(&during, SIGUSR1);
    alarm_ms(100);
    r = sigsuspend(&during);
    e = errno;
    REQUIRE(r == -1 && e == EINTR && hits[SIGALRM] == 1, "second sigsuspend gave %d (%s), ALRM %d", r, strerror(e), hits[SIGALRM]);
    sigprocmask(SIG_SETMASK, &old, NULL);
    dfl(SIGUSR1);
    dfl(SIGALRM);
    outcome("sigsuspend-eintr", -e);
    return true;
}

/* ---- the per-call matrix's other cells: signals from another process (--kill-after) or the
 * itimer, never a timeout standing in for one ---- */

#ifdef SIGTESTS_LINUX
static const char *fifo_path = "/sigtests-fifo";
#else
static const char *fifo_path = "/tmp/sigtests-fifo";
#endif

static pid_t kill_after(int sig, long ms)      /* another process sends us sig after ms */
{
    char ps[24], ss[8], ms_s[24];
    snprintf(ps, sizeof ps, "%d", getpid());
    snprintf(ss, sizeof ss, "%d", sig);
    snprintf(ms_s, sizeof ms_s, "%ld", ms);
    char *av[] = { "sigtests", "--kill-after", ps, ss, ms_s, NULL };
    return spawn(av);
}

static int reap(pid_t c)                        /* the child's status; 0: exited 0 */
{
    int st = -1;
    return wait_eintr(c, &st) == c ? st : -1;
}

#ifndef SIGTESTS_LINUX
static const char slow_line0[] = "slow line 000000: 0123456789abc\n";

/* A /dev/slow read (fs, a passthrough lane) at 1 byte per 10 s: SIGUSR1 from another process
 * before any byte -> EINTR, the handler ran once, fs cancelled the request, and no byte was
 * consumed (the next read, at a fast rate, starts at the stream's first byte). */
static bool t_slow_eintr(void)
{
    reset();
    handle(SIGUSR1, on_sig, 0);
    int fd = open("/dev/slow", O_RDWR);
    REQUIRE(fd >= 0 && write(fd, "1 10000 whole", 13) == 13, "/dev/slow: %s", strerror(errno));
    long k0 = fsstat("cancelled");
    pid_t c = kill_after(SIGUSR1, 300);
    REQUIRE(c > 0, "spawn");
    static char buf[64];
    errno = 0;
    ssize_t r = read(fd, buf, 64);
    int e = errno;
    int kst = reap(c);
    long k1 = fsstat("cancelled");
    ssize_t r2 = write(fd, "32 50 whole", 11) == 11 ? read(fd, buf, 32) : -2;
    close(fd);
    dfl(SIGUSR1);
    REQUIRE(kst == 0, "helper status %#x", kst);
    REQUIRE(r == -1 && e == EINTR, "read gave %zd (%s), want EINTR", r, strerror(e));
    REQUIRE(hits[SIGUSR1] == 1, "handler ran %d times", hits[SIGUSR1]);
    REQUIRE(k1 > k0, "fs cancelled nothing (cancelled %ld -> %ld)", k0, k1);
    REQUIRE(r2 == 32 && !memcmp(buf, slow_line0, 32), "the next read gave %zd bytes %.32s (want line 0: nothing consumed)", r2, buf);
    return true;
}

/* The same read with SA_RESTART and no progress (all 32 bytes come at once, 1.5 s after the
 * read began; the signal at 300 ms): fs cancels it (its count grows), libc restarts it, and it
 * completes with the stream's first line. */
static bool t_slow_restart(void)
{
    reset();
    handle(SIGUSR1, on_sig, SA_RESTART);
    int fd = open("/dev/slow", O_RDWR);
    REQUIRE(fd >= 0 && write(fd, "32 1500 whole", 13) == 13, "/dev/slow: %s", strerror(errno));
    long k0 = fsstat("cancelled");
    pid_t c = kill_after(SIGUSR1, 300);
    REQUIRE(c > 0, "spawn");
    static char buf[64];
    errno = 0;
    ssize_t r = read(fd, buf, 32);
    int e = errno;
    int kst = reap(c);
    long k1 = fsstat("cancelled");
    close(fd);
    dfl(SIGUSR1);
    REQUIRE(kst == 0, "helper status %#x", kst);
    REQUIRE(hits[SIGUSR1] == 1, "handler ran %d times", hits[SIGUSR1]);
    REQUIRE(r == 32 && !memcmp(buf, slow_line0, 32), "read gave %zd (%s) %.32s, want line 0 whole", r, r < 0 ? strerror(e) : "", buf);
    REQUIRE(k1 > k0, "fs cancelled nothing (cancelled %ld -> %ld): the signal did not meet the read", k0, k1);
    return true;
}
#endif

/* A FIFO (fs) open for reading and writing, that nobody drains: a write larger than it holds
 * fills it and waits — SIGALRM gives the partial count even with SA_RESTART (LaneOS holds
 * 16 KiB, Linux 64 KiB: the OUTCOME is "partial", not the count). Then a 1-byte write waits
 * for room: SIGALRM -> EINTR, and the byte was not written (the FIFO holds just the partial
 * count: read back, one more read waits and is interrupted). */
static bool fifo_write(bool eintr)
{
    reset();
    unlink(fifo_path);
    REQUIRE(mkfifo(fifo_path, 0600) == 0, "mkfifo: %s", strerror(errno));
    int fd = open(fifo_path, O_RDWR);
    REQUIRE(fd >= 0, "open: %s", strerror(errno));
    unlink(fifo_path);
    handle(SIGALRM, on_sig, SA_RESTART);
    static char big[100000];
    memset(big, 'x', sizeof big);
    alarm_every(200);                           /* (again each 200 ms: a call the first expiry missed under load cannot wait forever) */
    ssize_t w = write(fd, big, sizeof big);
    int e = errno;
    alarm_ms(0);
    ssize_t w2 = 0, back = 0, r3 = 0;
    int e2 = 0, e3 = 0, h1 = hits[SIGALRM];
    if (eintr && w > 0) {
        handle(SIGALRM, on_sig, 0);
        alarm_every(150);
        w2 = write(fd, "y", 1);
        e2 = errno;
        alarm_ms(0);
        static char rb[4096];
        while (back < w) {
            ssize_t r = read(fd, rb, sizeof rb);
            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                if (rb[i] != 'x')
                    back = -1000000000;
            back += r;
        }
        alarm_every(150);
        r3 = read(fd, rb, 1);
        e3 = errno;
        alarm_ms(0);
    }
    close(fd);
    dfl(SIGALRM);
    REQUIRE(h1 >= 1, "handler ran %d times in the big write", h1);
    REQUIRE(w > 0 && w < (ssize_t)sizeof big, "the big write gave %zd (%s), want a partial count", w, w < 0 ? strerror(e) : "");
    if (!eintr) {
        outcome("fifo-write-partial", w > 0 && w < (ssize_t)sizeof big);
        snprintf(why, sizeof why, "%zd of %zu bytes", w, sizeof big);
        return true;
    }
    REQUIRE(w2 == -1 && e2 == EINTR, "a 1-byte write to the full FIFO gave %zd (%s), want EINTR", w2, strerror(e2));
    REQUIRE(back == w, "read back %zd bytes of the %zd written", back, w);
    REQUIRE(r3 == -1 && e3 == EINTR, "one more read gave %zd (%s): the interrupted write wrote", r3, strerror(e3));
    REQUIRE(hits[SIGALRM] >= 3, "handler ran %d times (want 3 or more)", hits[SIGALRM]);
    outcome("fifo-write-eintr", -e2);
    return true;
}

static bool t_fifo_write_partial(void) { return fifo_write(false); }
static bool t_fifo_write_eintr(void) { return fifo_write(true); }

/* SA_RESTART and a pipe write with no progress: the pipe is full, SIGALRM at 100 ms, a child
 * drains it at 500 ms — the write restarts and completes (1 byte), after the drain. */
static bool t_write_restart(void)
{
    reset();
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    static char big[65536];
    REQUIRE(write(p[1], big, sizeof big) == (ssize_t)sizeof big, "fill");
    handle(SIGALRM, on_sig, SA_RESTART);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    char *dv[] = { "sigtests", "--late-read", "500", "65537", NULL };
    pid_t c = -1;
    REQUIRE(posix_spawn(&c, self_path, &fa, NULL, dv, NULL) == 0, "spawn");
    posix_spawn_file_actions_destroy(&fa);
    uint64_t t0 = now_ms();
    alarm_ms(100);
    ssize_t w = write(p[1], "y", 1);
    int e = errno;
    uint64_t took = now_ms() - t0;
    close(p[0]);
    close(p[1]);
    int kst = reap(c);
    dfl(SIGALRM);
    REQUIRE(hits[SIGALRM] == 1, "handler ran %d times", hits[SIGALRM]);
    REQUIRE(w == 1, "write gave %zd (%s), want 1 (restarted)", w, w < 0 ? strerror(e) : "");
    REQUIRE(took >= 300, "write returned after %llu ms, before the drain", (unsigned long long)took);
    REQUIRE(kst == 0, "helper status %#x", kst);
    outcome("write-restart", w);
    return true;
}

/* sigsuspend is never restarted, SA_RESTART or not. */
static bool t_sigsuspend_restart(void)
{
    reset();
    handle(SIGALRM, on_sig, SA_RESTART);
    sigset_t none;
    sigemptyset(&none);
    alarm_ms(100);
    int r = sigsuspend(&none);
    int e = errno;
    dfl(SIGALRM);
    REQUIRE(r == -1 && e == EINTR && hits[SIGALRM] == 1, "sigsuspend gave %d (%s), handler %d", r, strerror(e), hits[SIGALRM]);
    outcome("sigsuspend-restart", -e);
    return true;
}

/* A FIFO open for reading waits for a writer; SIGALRM (SA_RESTART) at 150 ms, the writer opens
 * at 700 ms: the open restarts and returns the FIFO, which reads the writer's bytes. */
static bool t_fifo_open_restart(void)
{
    reset();
    unlink(fifo_path);
    REQUIRE(mkfifo(fifo_path, 0600) == 0, "mkfifo: %s", strerror(errno));
    handle(SIGALRM, on_sig, SA_RESTART);
#ifndef SIGTESTS_LINUX
    long k0 = fsstat("cancelled");
#endif
    char *av[] = { "sigtests", "--fifo-late-open", (char *)fifo_path, "700", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    uint64_t t0 = now_ms();
    alarm_ms(150);
    int fd = open(fifo_path, O_RDONLY);
    int e = errno;
    uint64_t took = now_ms() - t0;
    char buf[16] = "";
    ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (fd >= 0)
        close(fd);
    else
        kill(c, SIGKILL);                       /* (the writer would wait for a reader forever) */
    int kst = fd >= 0 ? reap(c) : (reap(c), 0);
    unlink(fifo_path);
    dfl(SIGALRM);
    REQUIRE(hits[SIGALRM] == 1, "handler ran %d times", hits[SIGALRM]);
    REQUIRE(fd >= 0, "open gave %s, want the FIFO (restarted)", strerror(e));
    REQUIRE(took >= 400, "open returned after %llu ms, before the writer", (unsigned long long)took);
    REQUIRE(r == 5 && !memcmp(buf, "late\n", 5), "read gave %zd", r);
    REQUIRE(kst == 0, "helper status %#x", kst);
#ifndef SIGTESTS_LINUX
    REQUIRE(fsstat("cancelled") > k0, "fs cancelled nothing: the signal did not meet the open");
#endif
    outcome("fifo-open-restart", fd >= 0);
    return true;
}

/* A handler that blocks: SIGUSR1 (another process's, SA_RESTART) comes while we read an empty
 * pipe; its handler arms SIGALRM and reads another empty pipe — SIGALRM interrupts that inner
 * read (EINTR, its handler runs inside SIGUSR1's); the outer read then restarts and gets the
 * bytes a child writes at 1.5 s. */
static int nb_inner[2];
static volatile ssize_t nb_r;
static volatile int nb_e, nb_alrm;
static void on_usr1_block(int s)
{
    hits[s]++;
    int saved = errno;
    alarm_ms(200);
    char c;
    nb_r = read(nb_inner[0], &c, 1);
    nb_e = errno;
    nb_alrm = hits[SIGALRM];
    errno = saved;
}

static bool t_handler_blocks(void)
{
    reset();
    nb_r = 0;
    nb_e = nb_alrm = 0;
    int p[2];
    REQUIRE(pipe(p) == 0 && pipe(nb_inner) == 0, "pipe");
    handle(SIGALRM, on_sig, 0);
    handle(SIGUSR1, on_usr1_block, SA_RESTART);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    char *dv[] = { "sigtests", "--late-write", "1500", NULL };
    pid_t w = -1;
    REQUIRE(posix_spawn(&w, self_path, &fa, NULL, dv, NULL) == 0, "spawn");
    posix_spawn_file_actions_destroy(&fa);
    pid_t k = kill_after(SIGUSR1, 200);
    REQUIRE(k > 0, "spawn");
    char buf[16];
    ssize_t r = read(p[0], buf, sizeof buf);
    int e = errno;
    int kst = reap(k), wst = reap(w);
    close(p[0]);
    close(p[1]);
    close(nb_inner[0]);
    close(nb_inner[1]);
    dfl(SIGUSR1);
    dfl(SIGALRM);
    REQUIRE(hits[SIGUSR1] == 1 && hits[SIGALRM] == 1, "handlers ran USR1 %d, ALRM %d times", hits[SIGUSR1], hits[SIGALRM]);
    REQUIRE(nb_r == -1 && nb_e == EINTR, "the handler's read gave %zd (%s), want EINTR", (ssize_t)nb_r, strerror(nb_e));
    REQUIRE(nb_alrm == 1, "SIGALRM's handler had not run when the inner read returned");
    REQUIRE(r == 5 && !memcmp(buf, "late\n", 5), "the outer read gave %zd (%s), want the 5 late bytes (restarted)", r,
            r < 0 ? strerror(e) : "");
    REQUIRE(kst == 0 && wst == 0, "killer status %#x, writer status %#x", kst, wst);
    outcome("handler-blocks-inner", -nb_e);
    outcome("handler-blocks-outer", r);
    return true;
}

#ifndef SIGTESTS_LINUX
/* A child reading the console (our stdin: nothing is typed) gets EINTR from SIGUSR1 — the
 * console server withdraws the read. A read that stays blocked is killed after 5 s. */
static bool t_console_eintr(void)
{
    if (tcgetpgrp(0) < 0) {                     /* (LaneOS's libc has no isatty) */
        snprintf(why, sizeof why, "skipped: stdin is not the console");
        return true;
    }
    char *av[] = { "sigtests", "--console-read", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    msleep(400);
    REQUIRE(kill(c, SIGUSR1) == 0, "kill");
    int st = 0;
    pid_t r = 0;
    for (int i = 0; i < 500 && (r = waitpid(c, &st, WNOHANG)) == 0; i++)
        msleep(10);
    if (r == 0) {
        kill(c, SIGKILL);
        wait_eintr(c, &st);
        FAIL("the console read was not interrupted in 5 s");
    }
    REQUIRE(r == c && WIFEXITED(st) && WEXITSTATUS(st) == 20, "child status %#x (20: EINTR, handler once)", st);
    return true;
}
#endif

static bool t_itimer(void)
{
    reset();
    handle(SIGALRM, on_sig, 0);
    struct itimerval v, g;
    memset(&v, 0, sizeof v);
    v.it_value.tv_usec = 50000;
    v.it_interval.tv_usec = 50000;
    REQUIRE(setitimer(ITIMER_REAL, &v, NULL) == 0, "setitimer");
    uint64_t t0 = now_ms();
    while (hits[SIGALRM] < 3 && now_ms() - t0 < 5000)
        pause();
    REQUIRE(getitimer(ITIMER_REAL, &g) == 0 && g.it_interval.tv_usec == 50000, "getitimer interval");
    memset(&v, 0, sizeof v);
    setitimer(ITIMER_REAL, &v, NULL);
    REQUIRE(getitimer(ITIMER_REAL, &g) == 0 && g.it_value.tv_sec == 0 && g.it_value.tv_usec == 0, "not disarmed");
    int n = hits[SIGALRM];
    msleep(150);
    dfl(SIGALRM);
    REQUIRE(n >= 3 && hits[SIGALRM] == n, "%d expiries, then %d more after disarming", n, hits[SIGALRM] - n);
    REQUIRE(alarm(5) == 0 && alarm(0) >= 4, "alarm's remaining seconds");
    return true;
}

/* A second thread blocked in a pipe read; the first sends it SIGUSR1 (pthread_kill). */
struct treader {
    int fd;
    volatile pid_t tid;
    volatile ssize_t got;
    volatile int err;
    volatile bool done;
};

static void treader_main(void *arg)
{
    struct treader *r = arg;
    r->tid = gettid();
    char buf[16];
    errno = 0;
    r->got = read(r->fd, buf, sizeof buf);
    r->err = errno;
    r->done = true;
}

static bool t_thread_kill(void)
{
    reset();
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    handle(SIGUSR1, on_sig, 0);
    static struct treader r;
    memset(&r, 0, sizeof r);
    r.fd = p[0];
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, treader_main, &r, 0) == 0, "thread");
    for (int i = 0; i < 100 && !r.tid; i++)
        msleep(10);
    msleep(200);
    int k = lanes_tkill(r.tid, SIGUSR1);
    int ke = errno;
    for (int i = 0; i < 200 && !r.done; i++)
        msleep(10);
    bool done = r.done;
    if (!done)
        write(p[1], "x", 1);
    lanes_thread_join(&t, LANES_SEC(5));
    close(p[0]);
    close(p[1]);
    dfl(SIGUSR1);
    REQUIRE(k == 0, "tkill: %s", strerror(ke));
    REQUIRE(done, "the blocked read did not end (handler ran %d times)", hits[SIGUSR1]);
    REQUIRE(r.got == -1 && r.err == EINTR && hits[SIGUSR1] == 1, "read gave %ld (%s), handler %d", (long)r.got,
            strerror(r.err), hits[SIGUSR1]);
    return true;
}

/* ---- default actions ---- */

static bool t_default_term(void)
{
    char *av[] = { "sigtests", "--block-read", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    msleep(200);
    REQUIRE(kill(c, SIGTERM) == 0, "kill");
    int st;
    REQUIRE(waitpid(c, &st, 0) == c, "waitpid");
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x, want killed by SIGTERM", st);
    outcome("default-term", WTERMSIG(st));
    return true;
}

static bool t_default_core(void)
{
    char *av[] = { "sigtests", "--block-read", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    msleep(200);
    kill(c, SIGQUIT);
    int st;
    REQUIRE(waitpid(c, &st, 0) == c, "waitpid");
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT && WCOREDUMP(st), "status %#x, want SIGQUIT with core", st);
    return true;
}

/* A write to a pipe with no reader: SIGPIPE for the writer, and the write fails EPIPE once a
 * handler returns or when SIGPIPE is ignored; at its default the writer is killed (so a producer
 * piped into `head` ends when head does, as on Linux). Both the ring and the request path. */
static bool t_sigpipe(void)
{
    reset();
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe");
    close(p[0]);
    handle(SIGPIPE, on_sig, 0);
    errno = 0;
    ssize_t r = write(p[1], "x", 1);
    REQUIRE(r == -1 && errno == EPIPE, "write with no reader: %zd (errno %d)", r, errno);
    REQUIRE(hits[SIGPIPE] == 1, "SIGPIPE handler ran %d times before the write returned", hits[SIGPIPE]);
    outcome("sigpipe-handler", hits[SIGPIPE]);
    handle(SIGPIPE, SIG_IGN, 0);
    r = write(p[1], "xy", 2);
    REQUIRE(r == -1 && errno == EPIPE, "ignored: %zd (errno %d)", r, errno);
    sigset_t pend;
    sigpending(&pend);
    REQUIRE(!sigismember(&pend, SIGPIPE), "an ignored SIGPIPE is pending");
    REQUIRE(hits[SIGPIPE] == 1, "the ignored SIGPIPE ran the handler");
    /* blocked: pending after the write, delivered when unblocked */
    handle(SIGPIPE, on_sig, 0);
    sigset_t m, old;
    sigemptyset(&m);
    sigaddset(&m, SIGPIPE);
    sigprocmask(SIG_BLOCK, &m, &old);
    r = write(p[1], "x", 1);
    sigpending(&pend);
    REQUIRE(r == -1 && errno == EPIPE && sigismember(&pend, SIGPIPE) && hits[SIGPIPE] == 1,
            "blocked: %zd, pending %d, handler %d", r, sigismember(&pend, SIGPIPE), hits[SIGPIPE]);
    sigprocmask(SIG_SETMASK, &old, NULL);
    REQUIRE(hits[SIGPIPE] == 2, "unblocked: the handler ran %d times", hits[SIGPIPE]);
    close(p[1]);
    dfl(SIGPIPE);
    char *av[] = { "sigtests", "--write-no-reader", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    int st;
    REQUIRE(waitpid(c, &st, 0) == c, "waitpid");
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "status %#x, want killed by SIGPIPE", st);
    outcome("sigpipe-default", WTERMSIG(st));
    return true;
}

static bool t_stop_cont(void)
{
    char *av[] = { "sigtests", "--sleep", "100000", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    msleep(100);
    int st;
    REQUIRE(kill(c, SIGSTOP) == 0, "SIGSTOP");
    REQUIRE(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "stopped: status %#x", st);
    REQUIRE(kill(c, SIGCONT) == 0, "SIGCONT");
    REQUIRE(waitpid(c, &st, WCONTINUED) == c && WIFCONTINUED(st), "continued: status %#x", st);
    REQUIRE(kill(c, SIGTSTP) == 0, "SIGTSTP");
    REQUIRE(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP, "tstp: status %#x", st);
    REQUIRE(kill(c, SIGKILL) == 0, "SIGKILL of a stopped process");
    REQUIRE(waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "killed: status %#x", st);
    outcome("stop-cont", 1);
    return true;
}

/* A child in process group pgid (0: its own), made the way shells do it: the child and the
 * parent both call setpgid (whichever comes first; the parent's fails with EACCES on Linux once
 * the child has exec'd — LaneOS has no such check, see os/README.md), then it execs. */
static pid_t fork_in_group(pid_t pgid, char *const argv[])
{
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, pgid);
        execv(self_path, argv);
        _exit(127);
    }
    if (c > 0)
        setpgid(c, pgid ? pgid : c);
    return c;
}

static bool t_killpg(void)
{
    char *av[] = { "sigtests", "--sleep", "100000", NULL };
    pid_t a = fork_in_group(0, av);
    REQUIRE(a > 0, "fork: %s", strerror(errno));
    pid_t b = fork_in_group(a, av);
    REQUIRE(b > 0, "fork: %s", strerror(errno));
    msleep(100);
    REQUIRE(getpgid(a) == a && getpgid(b) == a, "groups %d %d (want %d)", getpgid(a), getpgid(b), a);
    REQUIRE(killpg(a, SIGTERM) == 0, "killpg: %s", strerror(errno));
    int st1, st2;
    REQUIRE(waitpid(a, &st1, 0) == a && waitpid(b, &st2, 0) == b, "waitpid");
    REQUIRE(WIFSIGNALED(st1) && WIFSIGNALED(st2) && WTERMSIG(st1) == SIGTERM && WTERMSIG(st2) == SIGTERM,
            "statuses %#x %#x", st1, st2);
    REQUIRE(kill(999999, SIGTERM) < 0 && errno == ESRCH, "kill of no process: %s", strerror(errno));
    REQUIRE(kill(getpid(), 99) < 0 && errno == EINVAL, "bad signal accepted");
    outcome("killpg", WTERMSIG(st1) + WTERMSIG(st2));
    return true;
}

/* ---- SA_ONSTACK: a handler on the alternate signal stack (sigaltstack) ---- */

static char altmem[32768] __attribute__((aligned(16)));
static volatile uintptr_t alt_local;
static volatile int alt_flags, alt_eperm;

static void on_altsig(int s)
{
    volatile char here = 0;
    hits[s]++;
    alt_local = (uintptr_t)&here;
    stack_t cur, again;
    alt_flags = sigaltstack(NULL, &cur) == 0 ? cur.ss_flags : -1;
    again.ss_sp = altmem;
    again.ss_size = sizeof altmem;
    again.ss_flags = 0;
    alt_eperm = sigaltstack(&again, NULL) < 0 && errno == EPERM;
}

static bool in_alt(uintptr_t a) { return a >= (uintptr_t)altmem && a < (uintptr_t)altmem + sizeof altmem; }

static bool t_altstack(void)
{
    reset();
    stack_t ss, old;
    REQUIRE(sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE), "no alternate stack at first: flags %d",
            old.ss_flags);
    ss.ss_sp = altmem;
    ss.ss_flags = 0;
    ss.ss_size = 512;                           /* under MINSIGSTKSZ (2048 on LaneOS, more on Linux) */
    REQUIRE(sigaltstack(&ss, NULL) < 0 && errno == ENOMEM, "a stack under MINSIGSTKSZ accepted");
    ss.ss_size = sizeof altmem;
    ss.ss_flags = 0x40;
    REQUIRE(sigaltstack(&ss, NULL) < 0 && errno == EINVAL, "bad ss_flags accepted");
    ss.ss_flags = 0;
    REQUIRE(sigaltstack(&ss, NULL) == 0, "sigaltstack: %s", strerror(errno));
    int got = 0;
    handle(SIGUSR1, on_altsig, SA_ONSTACK);
    raise(SIGUSR1);
    got |= in_alt(alt_local) ? 1 : 0;
    got |= alt_flags == SS_ONSTACK ? 2 : 0;
    got |= alt_eperm ? 4 : 0;
    handle(SIGUSR1, on_altsig, 0);              /* without SA_ONSTACK: on the thread's stack */
    raise(SIGUSR1);
    got |= !in_alt(alt_local) && alt_flags == 0 ? 8 : 0;
    handle(SIGUSR1, on_altsig, SA_ONSTACK);
    flush_out();
    pid_t c = fork();                           /* the child inherits the alternate stack */
    if (c == 0) {
        raise(SIGUSR1);
        _exit(in_alt(alt_local) ? 0 : 1);
    }
    int st = -1;
    while (c > 0 && waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    got |= c > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 16 : 0;
    dfl(SIGUSR1);
    ss.ss_flags = SS_DISABLE;
    REQUIRE(sigaltstack(&ss, NULL) == 0 && sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE), "SS_DISABLE");
    outcome("altstack", got);
    REQUIRE(hits[SIGUSR1] == 2, "handler ran %d times", hits[SIGUSR1]);
    REQUIRE(got & 1, "an SA_ONSTACK handler ran on the thread's stack");
    REQUIRE(got & 2, "sigaltstack in the handler: flags %d, want SS_ONSTACK", alt_flags);
    REQUIRE(got & 4, "the alternate stack could be changed while on it");
    REQUIRE(got & 8, "a handler without SA_ONSTACK ran on the alternate stack");
    REQUIRE(got & 16, "the forked child's handler was not on the inherited alternate stack (status %#x)", st);
    return true;
}

/* ---- fork and exec (POSIX): a forked child has the parent's dispositions and the forking
 * thread's mask, none of its pending signals; an exec resets caught signals to SIG_DFL, keeps
 * ignored ones ignored, keeps the mask (and pending signals). ---- */

static int dispositions(void)
{
    struct sigaction a1, a2;
    sigset_t m, pend;
    int bad = 0;
    sigaction(SIGUSR1, NULL, &a1);
    sigaction(SIGUSR2, NULL, &a2);
    sigprocmask(SIG_BLOCK, NULL, &m);
    sigpending(&pend);
    if (a2.sa_handler != SIG_IGN)
        bad |= 2;                               /* an ignored signal must stay ignored */
    if (sigismember(&m, SIGINT) != 1 || sigismember(&m, SIGUSR1) == 1)
        bad |= 4;                               /* the mask: SIGINT blocked, nothing else */
    if (sigismember(&pend, SIGINT) == 1)
        bad |= 8;                               /* the parent's pending SIGINT is not ours */
    return bad | (a1.sa_handler == on_sig ? 0x100 : a1.sa_handler == SIG_DFL ? 0x200 : 0);
}

static bool t_fork_exec(void)
{
    reset();
    handle(SIGUSR1, on_sig, SA_RESTART);
    handle(SIGUSR2, SIG_IGN, 0);
    handle(SIGINT, on_sig, 0);
    sigset_t b, old;
    sigemptyset(&b);
    sigaddset(&b, SIGINT);
    sigprocmask(SIG_BLOCK, &b, &old);
    raise(SIGINT);                              /* pending here, blocked */
    flush_out();
    pid_t c = fork();
    if (c == 0) {
        int bad = dispositions();
        if (!(bad & 0x100))
            bad |= 1;                           /* the handler is inherited across fork */
        raise(SIGUSR1);
        if (hits[SIGUSR1] != 1)
            bad |= 16;                          /* and runs in the child */
        if (bad & 0xff)
            _exit(bad & 0xff);
        char *av[] = { "sigtests", "--exec-check", NULL };
        execv(self_path, av);
        _exit(64);
    }
    REQUIRE(c > 0, "fork: %s", strerror(errno));
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    REQUIRE(hits[SIGINT] == 0, "blocked SIGINT ran in the parent");
    sigprocmask(SIG_SETMASK, &old, NULL);       /* the pending SIGINT runs now, here only */
    int hint = hits[SIGINT];
    dfl(SIGUSR1);
    dfl(SIGUSR2);
    dfl(SIGINT);
    REQUIRE(WIFEXITED(st), "child status %#x", st);
    int r = WEXITSTATUS(st);
    outcome("fork-exec", r);
    REQUIRE(!(r & 1), "fork: the child lost the handler");
    REQUIRE(!(r & 2), "fork/exec: SIG_IGN was not kept");
    REQUIRE(!(r & 4), "fork/exec: the child's mask is not the parent's (SIGINT blocked)");
    REQUIRE(!(r & 8), "fork: the parent's pending signal was inherited");
    REQUIRE(!(r & 16), "fork: the inherited handler did not run in the child");
    REQUIRE(!(r & 32), "exec: a caught signal was not reset to SIG_DFL");
    REQUIRE(r == 0, "child exited %d", r);
    REQUIRE(hint == 1, "the parent's pending SIGINT ran %d times after unblocking", hint);
    return true;
}
static bool t_sigchld(void)
{
    reset();
    handle_info(SIGCHLD, on_info);
    char *av[] = { "sigtests", "--sleep", "50", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    dfl(SIGCHLD);
    REQUIRE(hits[SIGCHLD] == 1, "SIGCHLD %d times", hits[SIGCHLD]);
    REQUIRE(last_info.si_pid == c && last_info.si_code == CLD_EXITED && last_info.si_status == 7,
            "siginfo pid %d code %d status %d", last_info.si_pid, last_info.si_code, last_info.si_status);
    return true;
}

#ifndef SIGTESTS_LINUX
/* ---- SIGKILL of a blocked process frees everything ---- */

static uint64_t mem_free(void)
{
    struct lane_sysinfo si;
    return lanes_sys_sysinfo(&si) == 0 ? si.mem_free : 0;
}

static bool kill_blocked(int i)
{
    char *av[] = { "sigtests", i & 1 ? "--sleep" : "--block-read", "100000", NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    msleep(150);
    REQUIRE(kill(c, SIGKILL) == 0, "kill");
    int st;
    REQUIRE(waitpid(c, &st, 0) == c && WTERMSIG(st) == SIGKILL, "status %#x", st);
    return true;
}

/* A figure of fs's /dev/fsstat ("live", "cancelled", "late", "cev", ...), or -1. */
static long fsstat(const char *key)
{
    return lanes_test_figure("/dev/fsstat", key);
}

/* The talk's cancellation event: a thread's first read of /dev/slow interrupted by a signal is
 * cancelled the old way (the alert, libc's fs.Cancel), which sets its event up (posix.SigEvent,
 * fs.CancelEvent); later ones are cancelled by posix raising that event, fs counting each ("cev"
 * in /dev/fsstat). A byte a second, SIGALRM every 30 ms until the read returns: EINTR (or, after
 * a stall of a second, a partial byte — also right). A signal that comes before the wait is
 * marked (or before the read) takes the old path, so up to 20 reads until fs counted one. */
static bool t_cancel_event(void)
{
    reset();
    handle(SIGALRM, on_sig, 0);
    int fd = open("/dev/slow", O_RDWR);
    REQUIRE(fd >= 0 && write(fd, "1 1000 whole", 12) == 12, "/dev/slow: %s", strerror(errno));
    long c0 = fsstat("cev");
    REQUIRE(c0 >= 0, "no cev figure in /dev/fsstat");
    static char buf[4096];
    int i;
    for (i = 0; i < 20 && (i < 2 || fsstat("cev") == c0); i++) {
        struct itimerval v;
        memset(&v, 0, sizeof v);
        v.it_value.tv_usec = 30000;
        v.it_interval.tv_usec = 30000;
        REQUIRE(setitimer(ITIMER_REAL, &v, NULL) == 0, "setitimer");
        errno = 0;
        ssize_t r = read(fd, buf, sizeof buf);
        int e = errno;
        memset(&v, 0, sizeof v);
        setitimer(ITIMER_REAL, &v, NULL);
        REQUIRE((r < 0 && e == EINTR) || (r > 0 && r < (ssize_t)sizeof buf), "read %d: %zd (%s)", i, r, strerror(e));
    }
    close(fd);
    msleep(40);                     /* (an expiry still on its way) */
    dfl(SIGALRM);
    long c1 = fsstat("cev");
    REQUIRE(hits[SIGALRM] >= i, "%d SIGALRM handled for %d reads", hits[SIGALRM], i);
    REQUIRE(c1 > c0, "no read of %d cancelled by the thread's event (cev %ld -> %ld)", i, c0, c1);
    REQUIRE(fsstat("live") == 0, "live requests in fs: %ld", fsstat("live"));
    return true;
}

/* The kernel's free memory is a global count: another process faulting in a page of its own
 * (demand paging) can move it by 4 KiB during a round. A leak of the kills shows in every round;
 * so a round that ends short is repeated, and only three short rounds in a row fail. */
static bool t_kill_frees(void)
{
    struct lane_msg_posix_counters c0, c1;
    /* a first round outside the count: the servers' heaps grow once */
    if (!kill_blocked(0) || !kill_blocked(1))
        return false;
    msleep(200);
    REQUIRE(lanes_posix_counters(&c0) == 0, "counters");
    uint64_t m0 = 0, m1 = 0;
    for (int round = 0; round < 3; round++) {
        m0 = mem_free();
        for (int i = 0; i < 6; i++)
            if (!kill_blocked(i))
                return false;
        for (int i = 0; i < 200; i++) {
            lanes_posix_counters(&c1);
            m1 = mem_free();
            if (c1.processes == c0.processes && c1.parked == c0.parked && c1.pipes == c0.pipes && c1.handles == c0.handles &&
                m1 >= m0)
                break;
            msleep(50);
        }
        REQUIRE(c1.processes == c0.processes && c1.pipes == c0.pipes && c1.handles == c0.handles && c1.parked == c0.parked,
                "posix: processes %u->%u pipes %u->%u handles %u->%u parked %u->%u", c0.processes, c1.processes, c0.pipes,
                c1.pipes, c0.handles, c1.handles, c0.parked, c1.parked);
        if (m1 >= m0)
            break;
    }
    REQUIRE(m1 >= m0, "kernel free memory %llu KiB -> %llu KiB (three rounds in a row)", (unsigned long long)m0 / 1024,
            (unsigned long long)m1 / 1024);
    return true;
}

/* SIGKILL of a process blocked in each other place: a /dev/slow read and a FIFO read (parked in
 * fs, on a passthrough lane), waitpid (parked in posix), a console read (the console server).
 * Each child is seen blocked first (fs's live count up by one, posix's parked count up), so a
 * kill that came too early cannot pass for a clean one. Then everything comes back exactly:
 * fs's live count, posix's processes / pipes / handles / parked, and the kernel's free memory
 * (the waitpid child's own child, orphaned, ends 1 s later and is counted out too). Memory as in
 * kill-frees: a short round is repeated, three in a row fail. */
static const char *kf_fifo = "/tmp/sigtests-kill-fifo";
static const char *kf_names[] = { "a /dev/slow read", "a FIFO read", "waitpid", "a console read" };

static bool kill_blocked_in(int mode)
{
    struct lane_msg_posix_counters c0, c1;
    REQUIRE(lanes_posix_counters(&c0) == 0, "counters");
    long live0 = fsstat("live");
    char *av[] = { "sigtests", mode == 0 ? "--block-slow" : mode == 1 ? "--block-fifo" : mode == 2 ? "--block-waitpid" : "--block-console",
                   (char *)kf_fifo, NULL };
    pid_t c = spawn(av);
    REQUIRE(c > 0, "spawn");
    bool blocked = false;
    for (int i = 0; i < 300 && !blocked; i++) {
        msleep(10);
        if (mode <= 1)
            blocked = fsstat("live") == live0 + 1;
        else if (mode == 2)
            blocked = lanes_posix_counters(&c1) == 0 && c1.parked > c0.parked;
        else
            blocked = i >= 30;                  /* (no count to see: 300 ms) */
    }
    REQUIRE(kill(c, SIGKILL) == 0, "kill");
    int st;
    REQUIRE(waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%s: status %#x", kf_names[mode], st);
    REQUIRE(blocked, "the child was not seen blocked in %s (fs live %ld -> %ld)", kf_names[mode], live0, fsstat("live"));
    return true;
}

static bool t_kill_frees_fs(void)
{
    unlink(kf_fifo);
    REQUIRE(mkfifo(kf_fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
    bool ok = false;
    struct lane_msg_posix_counters c0, c1;
    long live0 = -1, live1 = -1;
    uint64_t m0 = 0, m1 = 0;
    int mode = 0;
    for (mode = 0; mode < 4; mode++)            /* a first round outside the count: heaps grow once */
        if (!kill_blocked_in(mode))
            goto out;
    msleep(1200);                               /* (the orphan of --block-waitpid ends) */
    REQUIRE(lanes_posix_counters(&c0) == 0, "counters");
    live0 = fsstat("live");
    for (int round = 0; round < 3; round++) {
        m0 = mem_free();
        for (int i = 0; i < 2; i++)
            for (mode = 0; mode < 4; mode++)
                if (!kill_blocked_in(mode))
                    goto out;
        for (int i = 0; i < 200; i++) {
            lanes_posix_counters(&c1);
            m1 = mem_free();
            live1 = fsstat("live");
            if (c1.processes == c0.processes && c1.parked == c0.parked && c1.pipes == c0.pipes && c1.handles == c0.handles &&
                live1 == live0 && m1 >= m0)
                break;
            msleep(50);
        }
        if (live1 != live0 || c1.processes != c0.processes || c1.pipes != c0.pipes || c1.handles != c0.handles ||
            c1.parked != c0.parked) {
            snprintf(why, sizeof why, "fs live %ld->%ld; posix: processes %u->%u pipes %u->%u handles %u->%u parked %u->%u", live0,
                     live1, c0.processes, c1.processes, c0.pipes, c1.pipes, c0.handles, c1.handles, c0.parked, c1.parked);
            goto out;
        }
        if (m1 >= m0)
            break;
    }
    if (m1 < m0) {
        snprintf(why, sizeof why, "kernel free memory %llu KiB -> %llu KiB (three rounds in a row)", (unsigned long long)m0 / 1024,
                 (unsigned long long)m1 / 1024);
        goto out;
    }
    snprintf(why, sizeof why, "4 places x 2 kills; fs live %ld, posix handles %u, parked %u, free memory back", live1, c1.handles,
             c1.parked);
    ok = true;
out:
    unlink(kf_fifo);
    return ok;
}
#endif

/* ---- the race: ROUNDS signals against a stream of pipe reads ---- */

static volatile long usr1;
static int ack_fd = -1;
static void on_usr1(int s)
{
    (void)s;
    usr1++;
    if (write(ack_fd, "k", 1) != 1)             /* a syscall in the handler: the killer goes on */
        usr1 += 1000000;
}

/* race-fifo's handler: also checks the mask it runs with (its signal blocked: no SA_NODEFER) */
static volatile long bad_mask;
static void on_usr1_m(int s)
{
    (void)s;
    usr1++;
    sigset_t cur;
    if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0 || !sigismember(&cur, SIGUSR1))
        bad_mask++;
    if (write(ack_fd, "k", 1) != 1)
        usr1 += 1000000;
}

static int wait_eintr(pid_t pid, int *st)
{
    int r;
    while ((r = waitpid(pid, st, 0)) < 0 && errno == EINTR) {}
    return r;
}

/* A writer streams rounds * 40 bytes into a pipe in odd pieces; a killer sends SIGUSR1 `rounds`
 * times, each after our handler acknowledged the last; we read the pipe in pieces of changing
 * size all along. Each signal meets a read blocked in posix (cancelled: EINTR), a reply on its
 * way (raced), or no read at all — whichever, every byte comes exactly once and in order. */
/* posix's count of signals it had to tell a thread of twice (a lost alert; -1: unknown). */
static long renotified(void)
{
#ifdef SIGTESTS_LINUX
    return 0;
#else
    struct lane_msg_posix_sig_counters q = lanes_msg_posix_sig_counters_encode(0);
    struct lane_msg_posix_sig_stats s;
    int64_t r = lanes_posix_raw(&q, sizeof q, &s, sizeof s);
    return r == (int64_t)sizeof s && s.msg == LANES_MSG_POSIX_SIG_STATS ? (long)s.renotified : -1;
#endif
}

/* The race, on a pipe (posix's own work) or on a FIFO (fs: the read waits outside posix, where
 * posix takes the signal when it alerts us — lane_sig_page.away). The FIFO run also blocks
 * SIGUSR1 around every fourth read (a sigprocmask racing the take: the signal waits for the
 * unblock, which delivers it before sigprocmask returns) and checks the mask after every read
 * and inside the handler. */
static bool race(bool fifo)
{
    long renot0 = renotified();
    int p[2], a[2];
#ifdef SIGTESTS_LINUX
    const char *path = "/sigtests-race-fifo";
#else
    const char *path = "/tmp/sigtests-race-fifo";
#endif
    if (fifo) {
        unlink(path);
        REQUIRE(mkfifo(path, 0600) == 0, "mkfifo %s: %s", path, strerror(errno));
        p[0] = p[1] = -1;
    } else {
        REQUIRE(pipe(p) == 0, "pipe");
    }
    REQUIRE(pipe(a) == 0, "pipe");
    ack_fd = a[1];
    handle(SIGUSR1, fifo ? on_usr1_m : on_usr1, 0);
    usr1 = 0;
    bad_mask = 0;
    long total = rounds * 40;
    char ts[24], ps[24], rs[24];
    snprintf(ts, sizeof ts, "%ld", total);
    snprintf(ps, sizeof ps, "%d", getpid());
    snprintf(rs, sizeof rs, "%ld", rounds);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (!fifo)
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, a[1]);
    /* (the FIFO's writer in pieces of up to 80 bytes (one a signal), 1 ms apart: fs answers a read with what is
     * there, so the reader mostly waits on an empty FIFO when the signal comes, as with the pipe) */
    char *wv[] = { "sigtests", "--writer", ts, fifo ? (char *)path : NULL, "80", "1", NULL };
    pid_t w;
    REQUIRE(posix_spawn(&w, self_path, &fa, NULL, wv, NULL) == 0, "spawn writer");
    posix_spawn_file_actions_destroy(&fa);
    if (fifo)
        REQUIRE((p[0] = open(path, O_RDONLY)) >= 0, "open the FIFO: %s", strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, a[0], 0);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char *kv[] = { "sigtests", "--killer", ps, rs, NULL };
    pid_t k;
    REQUIRE(posix_spawn(&k, self_path, &fa, NULL, kv, NULL) == 0, "spawn killer");
    posix_spawn_file_actions_destroy(&fa);
    if (!fifo)
        close(p[1]);
    close(a[0]);
    static unsigned char buf[4096];
    long got = 0, eintr = 0, reads = 0, wrong_mask = 0;
    bool order = true;
    sigset_t usr1set;
    sigemptyset(&usr1set);
    sigaddset(&usr1set, SIGUSR1);
    for (;;) {
        bool blocked = fifo && reads % 4 == 3;
        if (blocked)
            sigprocmask(SIG_BLOCK, &usr1set, NULL);
        ssize_t r = read(p[0], buf, (size_t)(1 + (reads * 37) % sizeof buf));
        int e = errno;
        reads++;
        if (fifo) {
            sigset_t cur;
            if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0 || sigismember(&cur, SIGUSR1) != blocked)
                wrong_mask++;
            if (blocked)
                sigprocmask(SIG_UNBLOCK, &usr1set, NULL);
        }
        errno = e;
        if (r < 0 && errno == EINTR) {
            eintr++;
            continue;
        }
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            order &= buf[i] == (unsigned char)((got + i) * 7 + 3);
        got += r;
    }
    int err = errno;
    close(p[0]);
    int kst = -1, wst = -1;
    wait_eintr(w, &wst);
    wait_eintr(k, &kst);
    dfl(SIGUSR1);
    close(a[1]);
    if (fifo)
        unlink(path);
    REQUIRE(got >= 0 && err != EIO, "read: %s", strerror(err));
    REQUIRE(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "writer status %#x", wst);
    REQUIRE(WIFEXITED(kst) && WEXITSTATUS(kst) == 0, "killer status %#x", kst);
    REQUIRE(order, "bytes out of order or changed");
    REQUIRE(got == total, "read %ld of %ld bytes written (the rest lost or duplicated)", got, total);
    REQUIRE(usr1 == rounds, "%ld of %ld signals handled", usr1, rounds);
    REQUIRE(!wrong_mask && !bad_mask, "the mask was wrong after %ld reads and in %ld handlers", wrong_mask, (long)bad_mask);
    /* How often posix's safety net had to re-tell us of a signal left pending 200 ms (a lost
     * alert: still about 3 in 10,000 rounds on 1 CPU, see os/README.md) — reported, not failed,
     * until its last cause is found. */
    long renot = renotified() - renot0;
    snprintf(why, sizeof why, "%ld signals, %ld reads, %ld EINTR, %ld bytes in order, none lost, %ld re-notified", usr1, reads,
             eintr, got, renot);
    return true;
}

/* The race on a third call, nanosleep (posix's timer, no bytes): the killer sends rounds / 4
 * signals, each after the last was handled, while we sleep 0.3-0.9 ms at a time. Every sleep
 * has exactly one outcome — completed (0), or EINTR with a remaining time within what was asked
 * (on Linux, plus its timer slack) — and every signal is handled once. */
#ifdef SIGTESTS_LINUX
#define SLEEP_SLACK_NS 100000   /* Linux's remaining time can pass the request a little (its timer's
                                 * expiry includes slack: 0.8158 ms left of 0.8 ms seen) */
#else
#define SLEEP_SLACK_NS 0
#endif

static bool t_race_sleep(void)
{
    long n = rounds / 4 > 0 ? rounds / 4 : 1;
    int a[2];
    REQUIRE(pipe(a) == 0, "pipe");
    ack_fd = a[1];
    handle(SIGUSR1, on_usr1, 0);
    usr1 = 0;
    char ps[24], ns[24];
    snprintf(ps, sizeof ps, "%d", getpid());
    snprintf(ns, sizeof ns, "%ld", n);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, a[0], 0);
    char *kv[] = { "sigtests", "--killer", ps, ns, NULL };
    pid_t k;
    REQUIRE(posix_spawn(&k, self_path, &fa, NULL, kv, NULL) == 0, "spawn killer");
    posix_spawn_file_actions_destroy(&fa);
    close(a[0]);
    long sleeps = 0, eintr = 0, done = 0, bad = 0;
    while (usr1 < n && sleeps < n * 1000) {
        struct timespec req = { 0, 300000 + (sleeps % 7) * 100000 }, rem = { -1, -1 };
        errno = 0;
        int r = nanosleep(&req, &rem);
        int e = errno;
        sleeps++;
        if (r == 0)
            done++;
        else if (r == -1 && e == EINTR && rem.tv_sec == 0 && rem.tv_nsec >= 0 && rem.tv_nsec <= req.tv_nsec + SLEEP_SLACK_NS)
            eintr++;
        else if (bad++ == 0)
            printf("race-sleep: nanosleep %ld gave %d (%s), remaining %ld.%09ld of 0.%09ld\n", sleeps, r, strerror(e),
                   (long)rem.tv_sec, (long)rem.tv_nsec, (long)req.tv_nsec);
    }
    int kst = -1;
    wait_eintr(k, &kst);
    dfl(SIGUSR1);
    close(a[1]);
    REQUIRE(WIFEXITED(kst) && WEXITSTATUS(kst) == 0, "killer status %#x", kst);
    REQUIRE(usr1 == n, "%ld of %ld signals handled", (long)usr1, n);
    REQUIRE(bad == 0, "%ld sleeps of %ld with a wrong outcome", bad, sleeps);
    snprintf(why, sizeof why, "%ld signals, %ld sleeps: %ld EINTR, %ld completed", n, sleeps, eintr, done);
    return true;
}

static bool t_race(void) { return race(false); }
static bool t_race_fifo(void) { return race(true); }

static const struct lanes_test tests[] = {
#ifndef SIGTESTS_LINUX                          /* LaneOS's own internals: not on Linux */
    { "trace-user", t_trace_user },
#endif
    { "raise-handler", t_raise_handler },
    { "siginfo", t_siginfo },
    { "sigaction-old", t_sigaction_old },
    { "mask-pending", t_mask_pending },
    { "ignore", t_ignore },
    { "resethand", t_resethand },
    { "nested", t_nested },
    { "defer", t_defer },
    { "handler-syscalls", t_handler_syscalls },
    { "async-busy", t_async_busy },
    { "thread-kill", t_thread_kill },
    { "read-eintr", t_read_eintr },
    { "read-restart", t_read_restart },
    { "write-partial", t_write_partial },
    { "write-eintr", t_write_eintr },
    { "waitpid-eintr", t_waitpid_eintr },
    { "waitpid-restart", t_waitpid_restart },
    { "thread-waitpid", t_thread_waitpid },
    { "nanosleep-eintr", t_nanosleep },
    { "pause-eintr", t_pause },
    { "sigsuspend", t_sigsuspend },
    { "sigsuspend-restart", t_sigsuspend_restart },
    { "write-restart", t_write_restart },
    { "fifo-write-partial", t_fifo_write_partial },
    { "fifo-write-eintr", t_fifo_write_eintr },
    { "fifo-open-restart", t_fifo_open_restart },
    { "handler-blocks", t_handler_blocks },
#ifndef SIGTESTS_LINUX
    { "slow-eintr", t_slow_eintr },
    { "slow-restart", t_slow_restart },
    { "console-eintr", t_console_eintr },
#endif
    { "itimer", t_itimer },
    { "default-term", t_default_term },
    { "default-core", t_default_core },
    { "sigpipe", t_sigpipe },
    { "stop-cont", t_stop_cont },
    { "killpg", t_killpg },
    { "fork-exec", t_fork_exec },
    { "altstack", t_altstack },
    { "sigchld", t_sigchld },
#ifndef SIGTESTS_LINUX
    { "kill-frees", t_kill_frees },
    { "cancel-event", t_cancel_event },
    { "kill-frees-fs", t_kill_frees_fs },
#endif
    { "race", t_race },
    { "race-fifo", t_race_fifo },
    { "race-sleep", t_race_sleep },
};

int main(int argc, char **argv)
{
    if (argv[0] && argv[0][0] == '/')
        self_path = argv[0];                    /* started by its path: the children are the same file */
    if (argc > 1 && !strcmp(argv[1], "--late-write")) {
        msleep(argc > 2 ? strtol(argv[2], NULL, 10) : 300);
        return write(1, "late\n", 5) == 5 ? 0 : 1;
    }
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == '-' && strcmp(argv[1], "--rounds"))
        return helper(argc, argv);
    if (argc > 2 && !strcmp(argv[1], "--rounds")) {
        rounds = strtol(argv[2], NULL, 10);
        argv += 2;
        argc -= 2;
    }
    if (!lanes_posix_active()) {
        printf("sigtests: not a POSIX process (run it from the shell)\n");
        return 2;
    }
    struct lanes_tests t = { 0, 0 };
    lanes_test_table(&t, tests, sizeof tests / sizeof *tests, argc, argv, NULL);
    return lanes_test_summary(&t, "sigtests", argc);
}
