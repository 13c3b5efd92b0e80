/* forkexec.c — posixtests for fork, execve and the virtual memory under them (issue 13's rest):
 * fork/exec/wait and exit statuses, copy-on-write isolation (stack, heap, globals, IPC into a
 * shared page), fd inheritance across fork and close-on-exec across exec, execve errors,
 * mprotect and partial munmap, demand paging, 1,000 fork/exit rounds without a page leaked and
 * a fork bomb that meets EAGAIN and leaves everything working. main.c runs this table first
 * (forkexec_tests_run) and dispatches the "--fx-*" helper modes here (forkexec_helper).
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/ipc.h>
#include <lanes/testing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include "mmcheck.h"

#define ERRNO_IS(call, e) ((call) == -1 && errno == (e))
#define SELF "/bin/posixtests"

int forkexec_helper(int argc, char **argv);
void forkexec_tests_run(struct lanes_tests *t, int argc, char **argv);

static uint64_t mm_free(void)
{
    char v[64];
    const char *path = "/sys/kernel/mm/free";
    int64_t n = lanes_sys_sysfs_read(path, strlen(path), v, sizeof v - 1);
    if (n <= 0)
        return 0;
    v[n] = 0;
    uint64_t f = strtoull(v, NULL, 10);
    path = "/sys/kernel/mm/heap_cached";
    n = lanes_sys_sysfs_read(path, strlen(path), v, sizeof v - 1);
    if (n > 0) {
        v[n] = 0;
        f += strtoull(v, NULL, 10);
    }
    return f;
}

uint64_t fx_mm_free(void) { return mm_free(); }          /* rest.c's checks too */

/* Forks a child that runs fn and exits with its result; returns the wait status (-1: failed). */
static int in_child(int (*fn)(void *), void *arg)
{
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0)
        _exit(fn(arg));
    int st;
    if (waitpid(p, &st, 0) != p)
        return -1;
    return st;
}

static int exited(int st) { return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1; }

/* ---- helper modes (started through execve) ---- */

int forkexec_helper(int argc, char **argv)
{
    const char *m = argv[1];
    if (!strcmp(m, "--fx-args"))
        return argc;                                        /* argv arrived whole */
    if (!strcmp(m, "--fx-env")) {                           /* --fx-env NAME VALUE */
        const char *v = argc > 3 ? getenv(argv[2]) : NULL;
        return v && !strcmp(v, argv[3]) ? 0 : 1;
    }
    if (!strcmp(m, "--fx-ids")) {                           /* --fx-ids PID PPID */
        return argc > 3 && getpid() == atoi(argv[2]) && getppid() == atoi(argv[3]) ? 0 : 1;
    }
    if (!strcmp(m, "--fx-write")) {                         /* --fx-write FD TEXT */
        return argc > 3 && write(atoi(argv[2]), argv[3], strlen(argv[3])) == (ssize_t)strlen(argv[3]) ? 0 : 1;
    }
    return 99;
}

/* ---- fork, wait, exit statuses ---- */

static bool t_fork_exit_status(void)
{
    pid_t p = fork();
    REQUIRE(p >= 0, "fork: %s", strerror(errno));
    if (p == 0)
        _exit(42);
    int st = 0;
    REQUIRE(waitpid(p, &st, 0) == p, "waitpid: %s", strerror(errno));
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %#x", st);
    REQUIRE(ERRNO_IS(waitpid(p, &st, 0), ECHILD), "waited twice");
    return true;
}

static int child_ids(void *arg)
{
    pid_t parent = *(pid_t *)arg;
    return getppid() == parent && getpid() != parent && getpid() > 1 ? 0 : 1;
}

static bool t_fork_ids(void)
{
    pid_t me = getpid();
    int st = in_child(child_ids, &me);
    REQUIRE(exited(st) == 0, "child's getpid/getppid wrong (status %#x)", st);
    REQUIRE(getpid() == me, "our pid changed");
    return true;
}

static int child_pgid(void *arg)
{
    (void)arg;
    pid_t pg = getpgrp(), sid = getsid(0);
    if (pg != *(pid_t *)arg)
        return 1;
    if (sid <= 0)
        return 2;
    if (setpgid(0, 0) != 0 || getpgrp() != getpid())
        return 3;
    return 0;
}

static bool t_fork_pgid(void)
{
    pid_t pg = getpgrp();
    int st = in_child(child_pgid, &pg);
    REQUIRE(exited(st) == 0, "step %d failed", exited(st));
    REQUIRE(getpgrp() == pg, "our group changed");
    return true;
}

static int child_cwd_umask(void *arg)
{
    (void)arg;
    char b[64];
    if (!getcwd(b, sizeof b) || strcmp(b, "/tmp"))
        return 1;
    mode_t m = umask(0);
    return m == 077 ? 0 : 2;
}

static bool t_fork_cwd_umask(void)
{
    char old[256];
    REQUIRE(getcwd(old, sizeof old), "getcwd");
    mode_t om = umask(077);
    chdir("/tmp");
    int st = in_child(child_cwd_umask, NULL);
    chdir(old);
    umask(om);
    REQUIRE(exited(st) == 0, "cwd/umask not inherited (step %d)", exited(st));
    return true;
}

static bool t_fork_fault_status(void)
{
    pid_t p = fork();
    REQUIRE(p >= 0, "fork: %s", strerror(errno));
    if (p == 0) {
        volatile uintptr_t where = 16;
        *(volatile int *)where = 1;
        _exit(0);
    }
    int st = 0;
    REQUIRE(waitpid(p, &st, 0) == p, "waitpid");
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x", st);
    return true;
}

static bool t_fork_kill(void)
{
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        char c;
        close(fds[1]);
        read(fds[0], &c, 1);        /* blocks until killed */
        _exit(0);
    }
    close(fds[0]);
    lanes_sys_sleep(LANES_MS(50));
    REQUIRE(kill(p, SIGKILL) == 0, "kill: %s", strerror(errno));
    int st = 0;
    REQUIRE(waitpid(p, &st, 0) == p, "waitpid");
    close(fds[1]);
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
    return true;
}

static bool t_fork_many(void)
{
    enum { N = 16 };
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        REQUIRE(kids[i] >= 0, "fork %d: %s", i, strerror(errno));
        if (kids[i] == 0)
            _exit(10 + i);
    }
    int seen = 0;
    for (int i = 0; i < N; i++) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        REQUIRE(w > 0, "waitpid: %s", strerror(errno));
        int k = -1;
        for (int j = 0; j < N; j++)
            if (kids[j] == w)
                k = j;
        REQUIRE(k >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 10 + k, "pid %d status %#x", w, st);
        seen |= 1 << k;
    }
    REQUIRE(seen == (1 << N) - 1, "children seen %#x", seen);
    REQUIRE(ERRNO_IS(waitpid(-1, NULL, WNOHANG), ECHILD), "a child left");
    return true;
}

static int child_nested(void *arg)
{
    (void)arg;
    pid_t g = fork();
    if (g < 0)
        return 90;
    if (g == 0)
        _exit(5);
    int st;
    if (waitpid(g, &st, 0) != g || !WIFEXITED(st))
        return 91;
    return WEXITSTATUS(st) + 1;
}

static bool t_fork_nested(void)
{
    int st = in_child(child_nested, NULL);
    REQUIRE(exited(st) == 6, "status %d", exited(st));
    return true;
}

static bool t_fork_orphan(void)
{
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        pid_t g = fork();
        if (g == 0) {
            lanes_sys_sleep(LANES_MS(100));         /* outlives its parent */
            _exit(getppid() == 1 && write(fds[1], "G", 1) == 1 ? 0 : 1);
        }
        _exit(g > 0 ? 0 : 1);
    }
    close(fds[1]);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child status %#x", st);
    char c = 0;
    REQUIRE(read(fds[0], &c, 1) == 1 && c == 'G', "the orphan did not report (getppid not 1?)");
    close(fds[0]);
    return true;
}

/* ---- copy-on-write ---- */

static volatile int global_word = 1;
static char global_page[8192] __attribute__((aligned(4096)));

static bool t_cow_isolation(void)
{
    /* parent and child write the same page after fork; each sees its own */
    int tochild[2], toparent[2];
    REQUIRE(pipe(tochild) == 0 && pipe(toparent) == 0, "pipe");
    memset(global_page, 'A', sizeof global_page);
    global_word = 100;
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        char c;
        int bad = 0;
        if (global_word != 100 || global_page[10] != 'A')
            bad |= 1;
        global_word = 200;
        memset(global_page, 'C', sizeof global_page);
        write(toparent[1], "w", 1);
        read(tochild[0], &c, 1);                    /* the parent has written too */
        if (global_word != 200 || global_page[10] != 'C' || global_page[5000] != 'C')
            bad |= 2;
        _exit(bad);
    }
    char c;
    REQUIRE(read(toparent[0], &c, 1) == 1, "child did not write");
    REQUIRE(global_word == 100 && global_page[10] == 'A', "the child's write reached us");
    global_word = 300;
    memset(global_page, 'P', 4096);
    write(tochild[1], "w", 1);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p, "waitpid");
    REQUIRE(exited(st) == 0, "child saw the wrong values (bits %d)", exited(st));
    REQUIRE(global_word == 300 && global_page[10] == 'P' && global_page[5000] == 'A', "ours changed");
    for (int i = 0; i < 2; i++) {
        close(tochild[i]);
        close(toparent[i]);
    }
    return true;
}

static int child_stack_heap(void *arg)
{
    uint8_t *heap = arg;
    for (int i = 0; i < (1 << 20); i++)
        if (heap[i] != (uint8_t)(i * 7))
            return 1;
    memset(heap, 0xee, 1 << 20);
    return 0;
}

static bool t_cow_heap(void)
{
    uint8_t *heap = malloc(1 << 20);
    REQUIRE(heap, "malloc");
    for (int i = 0; i < (1 << 20); i++)
        heap[i] = (uint8_t)(i * 7);
    int st = in_child(child_stack_heap, heap);
    REQUIRE(exited(st) == 0, "child saw another heap (status %#x)", st);
    for (int i = 0; i < (1 << 20); i++)
        REQUIRE(heap[i] == (uint8_t)(i * 7), "byte %d changed under us", i);
    free(heap);
    return true;
}

static bool t_cow_ipc_into_shared(void)
{
    /* a pipe read lands in a page the child still shares with us (the kernel's IPC copy must
     * give the child its own page first) */
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    static char buf[4096] __attribute__((aligned(4096)));
    memset(buf, 'o', sizeof buf);
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        close(fds[1]);
        ssize_t n = read(fds[0], buf, 5);
        _exit(n == 5 && !memcmp(buf, "fresh", 5) && buf[6] == 'o' ? 0 : 1);
    }
    close(fds[0]);
    write(fds[1], "fresh", 5);
    close(fds[1]);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child status %#x", st);
    REQUIRE(buf[0] == 'o', "the child's read landed in our page");
    return true;
}

static bool t_cow_kernel_write(void)
{
    /* a system call writing into a shared page (sysinfo) from the child */
    static struct lane_sysinfo si __attribute__((aligned(4096)));
    memset(&si, 0x5a, sizeof si);
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0)
        _exit(lanes_sys_sysinfo(&si) == 0 && si.ncpus >= 1 ? 0 : 1);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child's sysinfo failed (status %#x)", st);
    REQUIRE(((uint8_t *)&si)[0] == 0x5a, "the kernel wrote into our copy");
    return true;
}

static bool t_fork_threads_futex(void)
{
    /* a futex word in a page shared after fork: waking still works in each process */
    static lanes_mutex_t m = LANES_MUTEX_INIT;
    lanes_mutex_lock(&m);
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        lanes_mutex_unlock(&m);
        lanes_mutex_lock(&m);
        lanes_mutex_unlock(&m);
        _exit(0);
    }
    lanes_mutex_unlock(&m);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child status %#x", st);
    return true;
}

static volatile uint32_t fw_word;
static volatile int fw_state;

static void futex_waiter(void *arg)
{
    (void)arg;
    fw_state = 1;
    while (__atomic_load_n(&fw_word, __ATOMIC_SEQ_CST) == 0)
        lanes_sys_futex_wait((const void *)&fw_word, 0, LANES_SEC(10));
    fw_state = 2;
}

static bool t_futex_across_fork(void)
{
    /* a thread waits on a word in private memory; the main thread forks (the word's page becomes
     * copy-on-write, and our write then moves it to a new page), writes and wakes: the waiter
     * must wake at once, not at its 10 s timeout */
    fw_word = 0;
    fw_state = 0;
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, futex_waiter, NULL, 64 * 1024) >= 0, "thread");
    while (fw_state == 0)
        lanes_sys_yield();
    lanes_sys_sleep(LANES_MS(50));                  /* it is in futex_wait by now */
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0)
        _exit(fw_word == 0 ? 0 : 1);
    uint64_t t0 = lanes_now_ns();
    __atomic_store_n(&fw_word, 1, __ATOMIC_SEQ_CST);
    lanes_sys_futex_wake((const void *)&fw_word, 1);
    REQUIRE(lanes_thread_join(&t, LANES_SEC(20)) == 0, "the waiter never ended");
    uint64_t took = lanes_now_ns() - t0;
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child status %#x", st);
    REQUIRE(took < LANES_SEC(5), "the wake was lost: the waiter woke after %llu ms (its timeout)",
            (unsigned long long)(took / 1000000));
    return true;
}

static bool t_futex_owner_wake(void)
{
    /* a memory object made with OWNER_WAKE (what posix makes its pipe rings with): a child makes
     * and maps it, forks a grandchild (the mapping is shared) that waits on a word in it (20 s at
     * most: TIMEOUT means never woken), then exits. The creator's end must wake that wait with DEAD, a later wait there
     * must fail DEAD at once, and a plain object's wait must not be touched (its AGAIN / TIMEOUT
     * stay). The grandchild reports through a pipe. */
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        close(fds[0]);
        int64_t mh = lanes_sys_mem_create(4096, LANES_MEMFLAG_ZERO | LANES_MEMFLAG_OWNER_WAKE);
        int64_t plain = lanes_sys_mem_create(4096, LANES_MEMFLAG_ZERO);
        if (mh < 0 || plain < 0)
            _exit(2);
        int64_t a = lanes_sys_mem_map((int32_t)mh, NULL, 0, 4096, LANES_PROT_READ | LANES_PROT_WRITE);
        int64_t b = lanes_sys_mem_map((int32_t)plain, NULL, 0, 4096, LANES_PROT_READ | LANES_PROT_WRITE);
        if (a < 0 || b < 0)
            _exit(3);
        volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)a, *pw = (volatile uint32_t *)(uintptr_t)b;
        pid_t g = fork();
        if (g < 0)
            _exit(4);
        if (g == 0) {
            w[1] = 1;                               /* "waiting now" */
            uint64_t t0 = lanes_now_ns();
            int64_t r1 = lanes_sys_futex_wait((const void *)w, 0, LANES_SEC(20));   /* (TIMEOUT: never woken) */
            uint64_t took = lanes_now_ns() - t0;
            int64_t r2 = lanes_sys_futex_wait((const void *)w, 0, LANES_SEC(5));
            int64_t r3 = lanes_sys_futex_wait((const void *)pw, 0, LANES_MS(1));
            char rep[96];
            int n = snprintf(rep, sizeof rep, "%lld %lld %lld %llu", (long long)r1, (long long)r2, (long long)r3,
                             (unsigned long long)(took / 1000000));
            write(fds[1], rep, (size_t)n);
            _exit(0);
        }
        while (w[1] == 0)
            lanes_sys_yield();
        lanes_sys_sleep(LANES_MS(50));              /* it is in futex_wait by now */
        _exit(0);                                   /* the creator ends: the wait must end DEAD */
    }
    close(fds[1]);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child status %#x", st);
    char rep[96] = { 0 };
    ssize_t n = read(fds[0], rep, sizeof rep - 1);  /* (EOF if the grandchild never answered) */
    close(fds[0]);
    REQUIRE(n > 0, "the grandchild never answered (its wait was not woken)");
    char *q = rep;
    long r1 = strtol(q, &q, 10), r2 = strtol(q, &q, 10), r3 = strtol(q, &q, 10), ms = strtol(q, &q, 10);
    REQUIRE(r1 == LANES_E_DEAD, "the wait when the creator ended returned %s (after %ld ms), not DEAD", lanes_strerror(r1), ms);
    REQUIRE(r2 == LANES_E_DEAD, "a later wait returned %s, not DEAD at once", lanes_strerror(r2));
    REQUIRE(r3 == LANES_E_TIMEOUT, "a plain object's wait returned %s, not TIMEOUT", lanes_strerror(r3));
    return true;
}

/* ---- fds across fork ---- */

static bool t_fork_fd_inherit(void)
{
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        close(fds[0]);
        _exit(write(fds[1], "from child", 10) == 10 ? 0 : 1);
    }
    close(fds[1]);
    char b[16] = { 0 };
    REQUIRE(read(fds[0], b, sizeof b) == 10 && !memcmp(b, "from child", 10), "got '%s'", b);
    REQUIRE(read(fds[0], b, 1) == 0, "no EOF after the child's end closed");
    close(fds[0]);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "status %#x", st);
    return true;
}

static bool t_fork_shared_offset(void)
{
    int fd = open("/tmp/fx-off", O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0, "open: %s", strerror(errno));
    REQUIRE(write(fd, "abc", 3) == 3, "write");
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0)
        _exit(write(fd, "defgh", 5) == 5 ? 0 : 1);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "status %#x", st);
    REQUIRE(lseek(fd, 0, SEEK_CUR) == 8, "offset %lld, not shared", (long long)lseek(fd, 0, SEEK_CUR));
    char b[16] = { 0 };
    REQUIRE(pread(fd, b, 8, 0) == 8 && !memcmp(b, "abcdefgh", 8), "content '%s'", b);
    close(fd);
    unlink("/tmp/fx-off");
    return true;
}

static bool t_fork_close_in_child(void)
{
    int fd = open("/tmp/fx-cl", O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0, "open");
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0)
        _exit(close(fd) == 0 && ERRNO_IS(close(fd), EBADF) ? 0 : 1);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "status %#x", st);
    REQUIRE(write(fd, "still", 5) == 5, "our fd went with the child's close: %s", strerror(errno));
    close(fd);
    unlink("/tmp/fx-cl");
    return true;
}

/* ---- exec ---- */

static int exec_status(char *const argv[], char *const envp[])
{
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        execve(SELF, argv, envp);
        _exit(120 + (errno & 7));
    }
    int st;
    return waitpid(p, &st, 0) == p ? st : -1;
}

static bool t_fork_exec_wait(void)
{
    char *argv[] = { "posixtests", "--exit", "9", NULL };
    int st = exec_status(argv, NULL);
    REQUIRE(exited(st) == 9, "status %#x", st);
    return true;
}

static bool t_exec_keeps_pid(void)
{
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        char a[16], b[16];
        snprintf(a, sizeof a, "%d", getpid());
        snprintf(b, sizeof b, "%d", getppid());
        char *argv[] = { "posixtests", "--fx-ids", a, b, NULL };
        execve(SELF, argv, NULL);
        _exit(100);
    }
    int st;
    REQUIRE(waitpid(p, &st, 0) == p, "waitpid");
    REQUIRE(exited(st) == 0, "pid or ppid changed across exec (status %d)", exited(st));
    return true;
}

static bool t_exec_argv_envp(void)
{
    char *argv[] = { "posixtests", "--fx-args", "x", "y y", "", "z", NULL };
    REQUIRE(exited(exec_status(argv, NULL)) == 6, "argc arrived as %d", exited(exec_status(argv, NULL)));
    char *argv2[] = { "posixtests", "--fx-env", "COLOR", "blue=ish", NULL };
    char *envp[] = { "A=1", "COLOR=blue=ish", "Z=", NULL };
    int st = exec_status(argv2, envp);
    REQUIRE(exited(st) == 0, "getenv in the new image (status %#x)", st);
    return true;
}

static bool t_exec_cloexec(void)
{
    int keep = open("/tmp/fx-ce", O_RDWR | O_CREAT | O_TRUNC, 0644);
    int gone = open("/tmp/fx-ce", O_RDONLY | O_CLOEXEC);
    int gone2 = dup(keep);
    REQUIRE(keep >= 0 && gone >= 0 && gone2 >= 0, "open");
    REQUIRE(fcntl(gone2, F_SETFD, FD_CLOEXEC) == 0, "F_SETFD");
    char k[8], g[8], g2[8];
    snprintf(k, sizeof k, "%d", keep);
    snprintf(g, sizeof g, "%d", gone);
    snprintf(g2, sizeof g2, "%d", gone2);
    char *a1[] = { "posixtests", "--isopen", k, NULL };
    char *a2[] = { "posixtests", "--isopen", g, NULL };
    char *a3[] = { "posixtests", "--isopen", g2, NULL };
    REQUIRE(exited(exec_status(a1, NULL)) == 0, "a plain fd was closed by exec");
    REQUIRE(exited(exec_status(a2, NULL)) == 1, "an O_CLOEXEC fd survived exec");
    REQUIRE(exited(exec_status(a3, NULL)) == 1, "an FD_CLOEXEC fd survived exec");
    /* and the file written through the kept fd by the new image shares our offset */
    char *a4[] = { "posixtests", "--fx-write", k, "new image", NULL };
    REQUIRE(exited(exec_status(a4, NULL)) == 0, "write from the new image");
    REQUIRE(lseek(keep, 0, SEEK_CUR) == 9, "offset not shared across exec");
    close(keep);
    close(gone);
    close(gone2);
    unlink("/tmp/fx-ce");
    return true;
}

static void sleeper(void *arg)
{
    (void)arg;
    lanes_sys_sleep(LANES_SEC(30));
}

static bool t_exec_threads(void)
{
    /* exec from a process with two other threads asleep in the kernel: they end, the new image
     * runs at once (not after their 30 s) */
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    uint64_t t0 = lanes_now_ns();
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        static lanes_thread_t a, b;
        if (lanes_thread_start(&a, sleeper, NULL, 64 * 1024) < 0)
            _exit(90);
        if (lanes_thread_start(&b, sleeper, NULL, 64 * 1024) < 0)
            _exit(91);
        lanes_sys_sleep(LANES_MS(50));
        char *argv[] = { "posixtests", "--exit", "5", NULL };
        execve(SELF, argv, NULL);
        _exit(100 + errno);
    }
    int st;
    REQUIRE(waitpid(p, &st, 0) == p, "waitpid");
    uint64_t took = lanes_now_ns() - t0;
    close(fds[0]);
    close(fds[1]);
    REQUIRE(exited(st) == 5, "status %#x", st);
    REQUIRE(took < LANES_SEC(20), "exec waited %llu ms for the other threads", (unsigned long long)(took / 1000000));
    return true;
}

static bool t_exec_errors(void)
{
    char *argv[] = { "x", NULL };
    int lowest = dup(0);        /* the lowest free fd: a failed execve must leave it free */
    close(lowest);
    REQUIRE(ERRNO_IS(execve("/bin/no-such-program", argv, NULL), ENOENT), "missing: %s", strerror(errno));
    REQUIRE(ERRNO_IS(execve(NULL, argv, NULL), EFAULT), "NULL path: %s", strerror(errno));
    REQUIRE(ERRNO_IS(execve("/bin", argv, NULL), EACCES), "a directory: %s", strerror(errno));
    REQUIRE(ERRNO_IS(execve("/dev/fsstat", argv, NULL), EACCES), "fs's device: %s", strerror(errno));
    REQUIRE(ERRNO_IS(execve("/dev/null", argv, NULL), EACCES), "/dev/null: %s", strerror(errno));
    int fd = open("/tmp/fx-notelf", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    REQUIRE(fd >= 0, "create");
    write(fd, "#!/bin/sh\necho hi\n", 18);
    close(fd);
    REQUIRE(ERRNO_IS(execve("/tmp/fx-notelf", argv, NULL), ENOEXEC), "text file: %s", strerror(errno));
    /* a real ELF header with program headers pointing past the end of the file */
    uint8_t elf[64];
    memset(elf, 0, sizeof elf);
    memcpy(elf, "\x7f" "ELF\x02\x01\x01", 7);
    elf[16] = 2;
    elf[18] = 62;
    elf[20] = 1;
    elf[32] = 0xf0;                 /* e_phoff far away */
    elf[54] = 56;                   /* e_phentsize */
    elf[56] = 3;                    /* e_phnum */
    fd = open("/tmp/fx-badelf", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    write(fd, elf, sizeof elf);
    close(fd);
    REQUIRE(ERRNO_IS(execve("/tmp/fx-badelf", argv, NULL), ENOEXEC), "broken ELF: %s", strerror(errno));
    /* still ourselves, still POSIX, and the files execve opened are closed again */
    REQUIRE(getpid() > 1 && lanes_posix_active(), "the failed execs broke us");
    int fd2 = dup(0);
    close(fd2);
    REQUIRE(fd2 == lowest, "a failed execve left fd %d open", lowest);
    unlink("/tmp/fx-notelf");
    unlink("/tmp/fx-badelf");
    return true;
}

/* Copies this program to path, then pad bytes of zeros after it (its ELF ignores them);
 * false (why set) on an error. */
static bool copy_self(const char *path, size_t pad)
{
    int in = open(SELF, O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    REQUIRE(in >= 0 && out >= 0, "open");
    static char buf[16384];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        REQUIRE(write(out, buf, (size_t)n) == n, "copy");
    close(in);
    memset(buf, 0, sizeof buf);
    for (size_t k; pad > 0; pad -= k) {
        k = pad < sizeof buf ? pad : sizeof buf;
        REQUIRE(write(out, buf, k) == (ssize_t)k, "pad");
    }
    close(out);
    return true;
}

static bool t_exec_from_fs(void)
{
    /* a program copied to /tmp (the file system, not the initrd) runs */
    if (!copy_self("/tmp/fx-prog", 0))
        return false;
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        char *argv[] = { "fx-prog", "--exit", "33", NULL };
        execve("/tmp/fx-prog", argv, NULL);
        _exit(100);
    }
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 33, "status %#x", st);
    unlink("/tmp/fx-prog");
    return true;
}

/* libc's whole-file read behind execve and posix_spawn (posix.c): fs.Load up to 256 KiB, a
 * longer file in fs.Read pieces whose reply headers land over bytes already read */
int __posix_read_file(const char *path, uint8_t **out, size_t *len, void **mem, int *fdp);

static bool read_whole_matches(size_t size)
{
    int fd = open("/tmp/fx-pattern", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0, "create");
    static uint8_t buf[16384];
    for (size_t at = 0; at < size; at += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)((at + i) * 7 + (at + i) / 4093);
        size_t k = size - at < sizeof buf ? size - at : sizeof buf;
        REQUIRE(write(fd, buf, k) == (ssize_t)k, "write");
    }
    close(fd);
    uint8_t *img;
    void *mem;
    size_t len;
    int e = __posix_read_file("/tmp/fx-pattern", &img, &len, &mem, NULL);
    unlink("/tmp/fx-pattern");
    REQUIRE(e == 0, "%zu bytes: %s", size, strerror(e));
    REQUIRE(len == size, "%zu bytes read as %zu", size, len);
    for (size_t i = 0; i < size; i++)
        REQUIRE(img[i] == (uint8_t)(i * 7 + i / 4093), "%zu bytes: byte %zu differs", size, i);
    free(mem);
    return true;
}

static bool t_exec_large(void)
{
    if (!read_whole_matches(100 * 1024) || !read_whole_matches(256 * 1024) || !read_whole_matches(700 * 1024 + 5))
        return false;
    /* a program longer than fs sends in one reply (256 KiB): libc reads it in pieces (its ELF
     * ignores the 300 KiB of zeros after the image); the bytes must arrive whole and in order */
    if (!copy_self("/tmp/fx-large", 300 * 1024))
        return false;
    struct stat st;
    REQUIRE(stat("/tmp/fx-large", &st) == 0 && st.st_size > 256 * 1024 + 16384, "size %lld", (long long)st.st_size);
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        char *argv[] = { "fx-large", "--exit", "34", NULL };
        execve("/tmp/fx-large", argv, NULL);
        _exit(100 + errno);
    }
    int status;
    REQUIRE(waitpid(p, &status, 0) == p && exited(status) == 34, "status %#x", status);
    unlink("/tmp/fx-large");
    snprintf(why, sizeof why, "a %lld KiB program", (long long)st.st_size / 1024);
    return true;
}

/* A raw fs request on fd's lane, its reply into out: the reply's value or -errno (-EIO: the
 * exchange itself failed, as when out is too small for what fs sends). */
static int64_t fs_raw(int fd, const void *msg, size_t len, uint8_t *out, size_t cap)
{
    static struct lanes_queue q;
    static bool q_ok;
    if (!q_ok && lanes_queue_init(&q, 4) == 0)
        q_ok = true;
    int32_t lane = lanes_posix_fd_lane(fd);
    if (!q_ok || lane < 0)
        return -EBADF;
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, msg, len);
    lanes_acts_recv_buffer(&b, out, cap);
    lanes_acts_end(&b);
    c.nresults = 0;
    int64_t r = lanes_ipc_call(&q, lane, &b, &c, LANES_SEC(10));
    if (r < 0 || c.nresults < 3 || lanes_ipc_result(&c, 2)->error < 0)
        return -EIO;
    struct lane_msg_fs_reply fr;
    if (lanes_msg_fs_reply_decode(out, lanes_ipc_result(&c, 2)->length, &fr) < 0)
        return -EPROTO;
    return fr.error < 0 ? fr.error : fr.value;
}

static bool t_fs_load(void)
{
    /* fs.Load, straight on a file's lane: the whole file, the offset left alone; and every way
     * to ask it wrongly gets an errno, with fs still serving afterwards */
    static uint8_t out[16 + 8192];
    char data[5000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 23);
    int w = open("/tmp/fx-load", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(w >= 0 && write(w, data, sizeof data) == (ssize_t)sizeof data, "create");
    int fd = open("/tmp/fx-load", O_RDONLY);
    REQUIRE(fd >= 0, "open");
    struct lane_msg_fs_load m = lanes_msg_fs_load_encode(sizeof out - 16);
    int64_t r = fs_raw(fd, &m, sizeof m, out, sizeof out);
    REQUIRE(r == (int64_t)sizeof data && memcmp(out + 16, data, sizeof data) == 0, "load: %lld", (long long)r);
    char first[4];
    REQUIRE(read(fd, first, 4) == 4 && memcmp(first, data, 4) == 0, "the offset moved");
    m = lanes_msg_fs_load_encode(sizeof data - 1);
    REQUIRE((r = fs_raw(fd, &m, sizeof m, out, sizeof out)) == -EFBIG, "max below the size: %lld", (long long)r);
    m = lanes_msg_fs_load_encode(sizeof out - 16);
    REQUIRE((r = fs_raw(fd, &m, sizeof m, out, 100)) == -EIO, "a buffer smaller than max said: %lld", (long long)r);
    REQUIRE((r = fs_raw(fd, &m, 3, out, sizeof out)) == -EPROTO, "truncated: %lld", (long long)r);
    REQUIRE((r = fs_raw(w, &m, sizeof m, out, sizeof out)) == -EBADF, "write-only: %lld", (long long)r);
    int d = open("/tmp", O_RDONLY | O_DIRECTORY), dev = open("/dev/fsstat", O_RDONLY);
    REQUIRE(d >= 0 && dev >= 0, "open /tmp, /dev/fsstat");
    REQUIRE((r = fs_raw(d, &m, sizeof m, out, sizeof out)) == -EACCES, "a directory: %lld", (long long)r);
    REQUIRE((r = fs_raw(dev, &m, sizeof m, out, sizeof out)) == -EACCES, "a device: %lld", (long long)r);
    REQUIRE(read(fd, first, 4) == 4 && memcmp(first, data + 4, 4) == 0, "fs no longer serves the file");
    close(d);
    close(dev);
    close(w);
    close(fd);
    unlink("/tmp/fx-load");
    return true;
}

static bool t_exec_rounds(void)
{
    /* 100 fork+exec+wait rounds: every old image's memory comes back */
    char *argv[] = { "posixtests", "--exit", "4", NULL };
    for (int i = 0; i < 3; i++)
        exec_status(argv, NULL);
    struct lane_msg_posix_counters c0, c1;
    lanes_posix_counters(&c0);
    struct mm_snap before, after;
    mm_settle(&before);
    for (int i = 0; i < 100; i++) {
        int st = exec_status(argv, NULL);
        REQUIRE(exited(st) == 4, "round %d status %#x", i, st);
    }
    char msg[256];
    bool same = mm_check(&before, &after, msg, sizeof msg);
    lanes_posix_counters(&c1);
    REQUIRE(c1.processes == c0.processes && c1.handles == c0.handles && c1.files == c0.files, "server leaked");
    REQUIRE(same, "memory lost: %s", msg);
    snprintf(why, sizeof why, "%s", msg);
    return true;
}

/* ---- memory: mprotect, munmap, demand paging ---- */

static int touch_write(void *a)
{
    *(volatile char *)a = 1;
    return 0;
}

static int touch_read(void *a)
{
    return *(volatile char *)a == 0x77 ? 0 : 1;
}

static bool t_mprotect(void)
{
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap: %s", strerror(errno));
    memset(m, 0x77, 3 * 4096);
    REQUIRE(mprotect(m + 4096, 4096, PROT_READ) == 0, "mprotect: %s", strerror(errno));
    int st = in_child(touch_write, m + 4096);
    REQUIRE(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a write to a read-only page: status %#x", st);
    REQUIRE(exited(in_child(touch_read, m + 4096)) == 0, "reading it failed");
    REQUIRE(exited(in_child(touch_write, m)) == 0 && exited(in_child(touch_write, m + 8192)) == 0,
            "the pages around it lost write access");
    REQUIRE(mprotect(m + 4096, 4096, PROT_NONE) == 0, "PROT_NONE");
    st = in_child(touch_read, m + 4096);
    REQUIRE(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a read of PROT_NONE: status %#x", st);
    REQUIRE(mprotect(m, 3 * 4096, PROT_READ | PROT_WRITE) == 0, "back to RW");
    m[4096] = 5;
    REQUIRE(m[4096] == 5 && m[4097] == 0x77, "contents lost across mprotect");
    REQUIRE(munmap(m, 3 * 4096) == 0, "munmap");
    return true;
}

static bool t_mprotect_errors(void)
{
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap");
    REQUIRE(ERRNO_IS(mprotect(m + 1, 4096, PROT_READ), EINVAL), "unaligned: %s", strerror(errno));
    REQUIRE(ERRNO_IS(mprotect(m, 2 * 4096, PROT_READ), ENOMEM), "past the mapping: %s", strerror(errno));
    REQUIRE(ERRNO_IS(mprotect(m, 4096, 0x40), EINVAL), "bad prot: %s", strerror(errno));
    REQUIRE(ERRNO_IS(mprotect((void *)0x7ffffffff000ull, 4096, PROT_READ), ENOMEM), "unmapped: %s", strerror(errno));
    m[0] = 1;                       /* the failed calls changed nothing */
    munmap(m, 4096);
    return true;
}

static bool t_munmap_partial(void)
{
    char *m = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap");
    for (int i = 0; i < 4; i++)
        memset(m + i * 4096, 'a' + i, 4096);
    REQUIRE(munmap(m + 4096, 2 * 4096) == 0, "munmap middle: %s", strerror(errno));
    REQUIRE(m[0] == 'a' && m[4095] == 'a' && m[3 * 4096] == 'd' && m[4 * 4096 - 1] == 'd', "the ends changed");
    int st = in_child(touch_read, m + 4096);
    REQUIRE(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "the hole is readable: status %#x", st);
    st = in_child(touch_read, m + 2 * 4096 + 100);
    REQUIRE(st >= 0 && WIFSIGNALED(st), "the hole's 2nd page is readable: status %#x", st);
    /* a new mapping may go exactly into the hole */
    char *h = mmap(m + 4096, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    REQUIRE(h == m + 4096, "mmap into the hole: %p", (void *)h);
    REQUIRE(h[0] == 0 && h[8191] == 0, "new memory is not zero");
    REQUIRE(munmap(m, 4 * 4096) == 0, "munmap all");
    return true;
}

static bool t_demand_paging(void)
{
    uint64_t f0 = mm_free();
    char *m = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap 64 MiB: %s", strerror(errno));
    uint64_t f1 = mm_free();
    REQUIRE(f0 < f1 + (4 << 20), "mapping 64 MiB took %llu KiB at once", (unsigned long long)(f0 - f1) >> 10);
    for (int i = 0; i < 256; i++)
        m[(size_t)i * 4096] = (char)i;              /* 1 MiB touched */
    uint64_t f2 = mm_free();
    REQUIRE(f1 > f2 + (900 << 10), "touching 1 MiB took only %lld KiB", (long long)(f1 - f2) >> 10);
    REQUIRE(m[255 * 4096] == (char)255 && m[300 * 4096] == 0, "contents");
    REQUIRE(munmap(m, 64 << 20) == 0, "munmap");
    uint64_t f3 = mm_free();
    REQUIRE(f3 + (256 << 10) > f1, "munmap gave back only %lld KiB", (long long)(f3 - f2) >> 10);
    snprintf(why, sizeof why, "64 MiB mapped for %lld KiB, 1 MiB touched for %lld KiB", (long long)(f0 - f1) >> 10,
             (long long)(f1 - f2) >> 10);
    return true;
}

static bool t_munmap_frees(void)
{
    char *m = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap");
    memset(m, 1, 4 << 20);
    uint64_t f0 = mm_free();
    REQUIRE(munmap(m + (1 << 20), 2 << 20) == 0, "munmap the middle 2 MiB");
    uint64_t f1 = mm_free();
    REQUIRE(f1 >= f0 + (2 << 20) - (64 << 10), "a partial munmap gave back %lld KiB of 2048", (long long)(f1 - f0) >> 10);
    REQUIRE(m[0] == 1 && m[(4 << 20) - 1] == 1, "the rest changed");
    munmap(m, 4 << 20);
    return true;
}

static bool t_cow_after_munmap(void)
{
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap");
    memset(m, 'k', 2 * 4096);
    int go[2];
    REQUIRE(pipe(go) == 0, "pipe");
    pid_t p = fork();
    REQUIRE(p >= 0, "fork");
    if (p == 0) {
        char c;
        close(go[1]);
        read(go[0], &c, 1);          /* the parent has unmapped its copy */
        _exit(m[0] == 'k' && m[8191] == 'k' ? 0 : 1);
    }
    close(go[0]);
    munmap(m, 2 * 4096);
    write(go[1], "g", 1);
    close(go[1]);
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "the child lost its copy (status %#x)", st);
    return true;
}

/* ---- rounds and limits ---- */

static int child_exit7(void *arg)
{
    (void)arg;
    return 7;
}

static bool t_fork_rounds_1000(void)
{
    /* 1,000 fork/exit/wait rounds: no page and no server state leaked */
    struct lane_msg_posix_counters c0, c1;
    for (int i = 0; i < 5; i++)
        in_child(child_exit7, NULL);                /* warm up caches */
    lanes_posix_counters(&c0);
    struct mm_snap before, after;
    mm_settle(&before);
    uint64_t t0 = lanes_now_ns();
    for (int i = 0; i < 1000; i++) {
        int st = in_child(child_exit7, NULL);
        REQUIRE(exited(st) == 7, "round %d status %#x (%s)", i, st, strerror(errno));
    }
    uint64_t took = lanes_now_ns() - t0;
    char msg[256];
    bool same = mm_check(&before, &after, msg, sizeof msg);
    lanes_posix_counters(&c1);
    REQUIRE(c1.processes == c0.processes && c1.handles == c0.handles && c1.files == c0.files,
            "server: processes %u->%u handles %u->%u files %u->%u", c0.processes, c1.processes, c0.handles, c1.handles,
            c0.files, c1.files);
    REQUIRE(same, "memory lost: %s", msg);
    snprintf(why, sizeof why, "%llu us per fork+exit+wait; %s", (unsigned long long)(took / 1000 / 1000), msg);
    return true;
}

/* Forks until fork fails; the children wait on a pipe, then all end and are reaped. */
static bool bomb(int *n, int *err, int *reaped, int *bad)
{
    int hold[2];
    if (pipe(hold) != 0)
        return false;
    *n = *err = *reaped = *bad = 0;
    for (; *n < 2000; (*n)++) {
        pid_t p = fork();
        if (p < 0) {
            *err = errno;
            break;
        }
        if (p == 0) {
            char c;
            close(hold[1]);
            read(hold[0], &c, 1);                   /* until the parent lets go */
            _exit(3);
        }
    }
    close(hold[1]);
    close(hold[0]);
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0)
            break;
        (*reaped)++;
        *bad += exited(st) != 3;
    }
    return true;
}

static bool t_fork_bomb(void)
{
    /* fork until it fails: EAGAIN (the process table) or ENOMEM, never a crash; then all of them
     * end, and everything works as before. The first bomb grows the servers' heaps (they keep
     * what malloc got); the second must give back every page it took. */
    struct lane_msg_posix_counters c0, c1;
    lanes_posix_counters(&c0);
    int n, err, reaped, bad;
    REQUIRE(bomb(&n, &err, &reaped, &bad), "pipe");
    REQUIRE(err == EAGAIN || err == ENOMEM, "fork failed with %s after %d children", strerror(err), n);
    REQUIRE(n >= 16, "only %d children before %s", n, strerror(err));
    REQUIRE(reaped == n && bad == 0, "%d children, %d reaped, %d with the wrong status", n, reaped, bad);
    struct mm_snap before, after;
    mm_settle(&before);
    int n2;
    REQUIRE(bomb(&n2, &err, &reaped, &bad), "pipe");
    REQUIRE((err == EAGAIN || err == ENOMEM) && reaped == n2 && bad == 0, "second bomb: %d children, %s, %d reaped",
            n2, strerror(err), reaped);
    REQUIRE(exited(in_child(child_exit7, NULL)) == 7, "fork after the bomb");
    char msg[256];
    bool same = mm_check(&before, &after, msg, sizeof msg);
    lanes_posix_counters(&c1);
    REQUIRE(c1.processes == c0.processes && c1.handles == c0.handles && c1.files == c0.files && c1.pipes == c0.pipes,
            "server: processes %u->%u handles %u->%u", c0.processes, c1.processes, c0.handles, c1.handles);
    REQUIRE(same, "memory lost after the second bomb: %s", msg);
    snprintf(why, sizeof why, "%d children, then %s; again %d; %s", n, strerror(err), n2, msg);
    return true;
}

/* ---- EFAULT ---- */

static bool t_efault(void)
{
    int fd = open("/tmp/fx-ef", O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0, "open");
    REQUIRE(write(fd, "0123456789", 10) == 10, "write");
    lseek(fd, 0, SEEK_SET);
    void *unmapped = (void *)0x10000;                    /* below every image */
    void *kernel = (void *)0xffff800000100000ull;
    REQUIRE(ERRNO_IS(read(fd, unmapped, 4), EFAULT), "read into unmapped: %s", strerror(errno));
    REQUIRE(ERRNO_IS(read(fd, kernel, 4), EFAULT), "read into the kernel: %s", strerror(errno));
    REQUIRE(ERRNO_IS(write(fd, unmapped, 4), EFAULT), "write from unmapped: %s", strerror(errno));
    REQUIRE(ERRNO_IS(pread(fd, unmapped, 4, 0), EFAULT), "pread: %s", strerror(errno));
    REQUIRE(ERRNO_IS(open((const char *)unmapped, O_RDONLY), EFAULT), "path unmapped: %s", strerror(errno));
    REQUIRE(ERRNO_IS(stat((const char *)kernel, NULL), EFAULT), "stat: %s", strerror(errno));
    REQUIRE(ERRNO_IS(fstat(fd, unmapped), EFAULT), "fstat: %s", strerror(errno));
    REQUIRE(ERRNO_IS(pipe(unmapped), EFAULT), "pipe: %s", strerror(errno));
    REQUIRE(getcwd(unmapped, 64) == NULL && errno == EFAULT, "getcwd: %s", strerror(errno));
    /* a read-only page is no place to read into */
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(ro != MAP_FAILED, "mmap");
    REQUIRE(ERRNO_IS(read(fd, ro, 4), EFAULT), "read into a read-only page: %s", strerror(errno));
    REQUIRE(write(fd, ro, 4) == 4, "write from a read-only page: %s", strerror(errno));
    munmap(ro, 4096);
    /* a path running into unmapped memory */
    char *two = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(two != MAP_FAILED, "mmap 2");
    memset(two, 'a', 2 * 4096);
    munmap(two + 4096, 4096);
    REQUIRE(ERRNO_IS(open(two + 4000, O_RDONLY), EFAULT), "a path crossing into a hole: %s", strerror(errno));
    munmap(two, 4096);
    char b[4];
    REQUIRE(lseek(fd, 0, SEEK_CUR) == 4 && read(fd, b, 4) == 4 && !memcmp(b, "4567", 4), "the failed calls moved the offset");
    close(fd);
    unlink("/tmp/fx-ef");
    return true;
}

/* ---- /sys ---- */

static bool t_sys_read(void)
{
    int fd = open("/sys/kernel/mm/free", O_RDONLY);
    REQUIRE(fd >= 0, "open /sys/kernel/mm/free: %s", strerror(errno));
    char b[64] = { 0 };
    ssize_t n = read(fd, b, sizeof b - 1);
    REQUIRE(n > 1 && b[n - 1] == '\n', "read %zd bytes: '%s'", n, b);
    uint64_t v = strtoull(b, NULL, 10);
    REQUIRE(v > (1 << 20), "free memory %llu", (unsigned long long)v);
    REQUIRE(read(fd, b, sizeof b) == 0, "no EOF");
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0 && read(fd, b, sizeof b) > 1, "again after lseek");
    struct stat st;
    REQUIRE(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), "fstat mode %o", st.st_mode);
    REQUIRE(ERRNO_IS(write(fd, "1", 1), EBADF), "write: %s", strerror(errno));
    close(fd);
    REQUIRE(ERRNO_IS(open("/sys/kernel/mm/free", O_WRONLY), EACCES), "open for writing: %s", strerror(errno));
    /* a writable attribute, but this program holds no SYSTEM capability (posix/sysfs.c): the
     * opener's right is checked at open, as Linux checks the file's mode */
    REQUIRE(lanes_handle_by_tag("system") == LANES_HANDLE_NONE, "posixtests was given a SYSTEM capability");
    REQUIRE(ERRNO_IS(open("/sys/kernel/loglevel", O_WRONLY), EACCES), "open loglevel for writing without SYSTEM: %s",
            strerror(errno));
    REQUIRE(ERRNO_IS(open("/sys/kernel", O_WRONLY), EISDIR), "open /sys/kernel for writing: %s", strerror(errno));
    REQUIRE(ERRNO_IS(open("/sys/kernel/nope", O_RDONLY), ENOENT), "missing: %s", strerror(errno));
    REQUIRE(stat("/sys/kernel", &st) == 0 && S_ISDIR(st.st_mode), "stat /sys/kernel: mode %o", st.st_mode);
    REQUIRE(ERRNO_IS(mkdir("/sys/x", 0755), EEXIST) || errno == EPERM, "mkdir in /sys: %s", strerror(errno));
    return true;
}

static bool t_sys_getdents(void)
{
    DIR *d = opendir("/sys/kernel");
    REQUIRE(d, "opendir /sys/kernel: %s", strerror(errno));
    bool mm = false, dot = false;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        n++;
        mm |= !strcmp(e->d_name, "mm") && e->d_type == DT_DIR;
        dot |= !strcmp(e->d_name, ".");
    }
    closedir(d);
    REQUIRE(mm && dot && n > 3, "%d entries, mm %d", n, mm);
    d = opendir("/sys");
    REQUIRE(d, "opendir /sys: %s", strerror(errno));
    bool kernel = false;
    while ((e = readdir(d)))
        kernel |= !strcmp(e->d_name, "kernel");
    closedir(d);
    REQUIRE(kernel, "/sys has no kernel");
    return true;
}

static const struct lanes_test fx_tests[] = {
    { "fork-exit-status", t_fork_exit_status },
    { "fork-ids", t_fork_ids },
    { "fork-pgid", t_fork_pgid },
    { "fork-cwd-umask", t_fork_cwd_umask },
    { "fork-fault-status", t_fork_fault_status },
    { "fork-kill", t_fork_kill },
    { "fork-many", t_fork_many },
    { "fork-nested", t_fork_nested },
    { "fork-orphan", t_fork_orphan },
    { "cow-isolation", t_cow_isolation },
    { "cow-heap", t_cow_heap },
    { "cow-ipc-into-shared", t_cow_ipc_into_shared },
    { "cow-kernel-write", t_cow_kernel_write },
    { "cow-futex", t_fork_threads_futex },
    { "futex-across-fork", t_futex_across_fork },
    { "futex-owner-wake", t_futex_owner_wake },
    { "fork-fd-inherit", t_fork_fd_inherit },
    { "fork-shared-offset", t_fork_shared_offset },
    { "fork-close-in-child", t_fork_close_in_child },
    { "fork-exec-wait", t_fork_exec_wait },
    { "exec-keeps-pid", t_exec_keeps_pid },
    { "exec-argv-envp", t_exec_argv_envp },
    { "exec-cloexec", t_exec_cloexec },
    { "exec-threads", t_exec_threads },
    { "exec-errors", t_exec_errors },
    { "exec-from-fs", t_exec_from_fs },
    { "exec-large", t_exec_large },
    { "fs-load", t_fs_load },
    { "exec-rounds", t_exec_rounds },
    { "mprotect", t_mprotect },
    { "mprotect-errors", t_mprotect_errors },
    { "munmap-partial", t_munmap_partial },
    { "demand-paging", t_demand_paging },
    { "munmap-frees", t_munmap_frees },
    { "cow-after-munmap", t_cow_after_munmap },
    { "efault", t_efault },
    { "sys-read", t_sys_read },
    { "sys-getdents", t_sys_getdents },
    { "fork-rounds-1000", t_fork_rounds_1000 },
    { "fork-bomb", t_fork_bomb },
};

void forkexec_tests_run(struct lanes_tests *t, int argc, char **argv)
{
    lanes_test_table(t, fx_tests, sizeof fx_tests / sizeof *fx_tests, argc, argv, NULL);
}
