/* rest.c — posixtests for the last of issue 13: posix_spawn's environment (envp reaches the new
 * program's environ; env(1) passes its settings on; E2BIG past ARG_MAX), hundreds of live POSIX
 * processes at once (every one reaped, the server's counters back), and MAP_SHARED anonymous
 * memory across fork (writes seen both ways, through grandchildren, MAP_PRIVATE beside it still
 * copy-on-write, munmap in a child leaves the parent's mapping, mprotect, bad flags).
 * main.c runs this table after its own (rest_tests_run); helper modes are forkexec.c's
 * (--fx-env NAME VALUE: exit 0 if getenv(NAME) is VALUE).
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/testing.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SELF "/bin/posixtests"

void rest_tests_run(struct lanes_tests *t, int argc, char **argv);
int lanes_posix_counters(struct lane_msg_posix_counters *c);

static int exited(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : -1; }

static int spawn_wait(const char *path, char *const argv[], char *const envp[])
{
    pid_t pid;
    int e = posix_spawn(&pid, path, NULL, NULL, argv, envp);
    if (e)
        return -1000 - e;
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

/* ---- posix_spawn's envp ---- */

static bool t_spawn_envp(void)
{
    char *argv[] = { "posixtests", "--fx-env", "COLOR", "blue=ish", NULL };
    char *envp[] = { "A=1", "COLOR=blue=ish", "Z=", NULL };
    int st = spawn_wait(SELF, argv, envp);
    REQUIRE(exited(st) == 0, "getenv(COLOR) in the spawned program (status %#x)", st);
    char *argv_a[] = { "posixtests", "--fx-env", "A", "1", NULL };
    REQUIRE(exited(spawn_wait(SELF, argv_a, envp)) == 0, "the first variable");
    char *argv_z[] = { "posixtests", "--fx-env", "Z", "", NULL };
    REQUIRE(exited(spawn_wait(SELF, argv_z, envp)) == 0, "an empty value");
    /* no envp: an empty environment */
    st = spawn_wait(SELF, argv, NULL);
    REQUIRE(exited(st) == 1, "without envp COLOR was found (status %#x)", st);
    /* argv still arrives whole beside an environment */
    char *args[] = { "posixtests", "--fx-args", "x", "y y", "", "z", NULL };
    REQUIRE(exited(spawn_wait(SELF, args, envp)) == 6, "argc beside an environment");
    return true;
}

static bool t_spawn_envp_env(void)
{
    /* env(1) adds its settings to its own environment and spawns the command with them */
    char *argv[] = { "env", "GREETING=hi there", SELF, "--fx-env", "GREETING", "hi there", NULL };
    char *envp[] = { "GREETING=old", "KEEP=yes", NULL };
    int st = spawn_wait("/bin/env", argv, envp);
    REQUIRE(exited(st) == 0, "env GREETING=... (status %#x)", st);
    char *argv2[] = { "env", "X=1", SELF, "--fx-env", "KEEP", "yes", NULL };
    st = spawn_wait("/bin/env", argv2, envp);
    REQUIRE(exited(st) == 0, "env passes its own environment on (status %#x)", st);
    return true;
}

static bool t_spawn_e2big(void)
{
    static char big[70 * 1024];
    memcpy(big, "BIG=", 4);
    memset(big + 4, 'x', sizeof big - 5);
    big[sizeof big - 1] = 0;
    char *argv[] = { "posixtests", "--exit", "0", NULL };
    char *envp[] = { big, NULL };
    pid_t pid;
    int e = posix_spawn(&pid, SELF, NULL, NULL, argv, envp);
    REQUIRE(e == E2BIG, "a 70 KiB environment: %s, expected E2BIG", strerror(e));
    /* 60 KiB fits (ARG_MAX is 64 KiB) */
    big[60 * 1024] = 0;
    char *envp2[] = { big, NULL };
    char *argv3[] = { "posixtests", "--exit", "4", NULL };
    int st = spawn_wait(SELF, argv3, envp2);
    REQUIRE(exited(st) == 4, "a 60 KiB environment (status %#x)", st);
    return true;
}

/* ---- hundreds of live processes ---- */

#define MANY 500

static bool t_fork_many_live(void)
{
    /* MANY children alive at once, each blocked in a pipe read; the server must hold them all
     * (it used to stop at about 70: a 256-entry kernel handle table), then every one is reaped */
    struct lane_msg_posix_counters c0, peak, c1;
    lanes_posix_counters(&c0);
    int hold[2];
    REQUIRE(pipe(hold) == 0, "pipe: %s", strerror(errno));
    int n = 0, err = 0;
    for (; n < MANY; n++) {
        pid_t p = fork();
        if (p < 0) {
            err = errno;
            break;
        }
        if (p == 0) {
            char c;
            close(hold[1]);
            ssize_t r = read(hold[0], &c, 1);       /* EOF when the parent lets go */
            _exit(r == 0 ? 5 : r < 0 ? 100 + (errno & 63) : 6);   /* 100+errno: the read failed */
        }
    }
    lanes_posix_counters(&peak);
    close(hold[1]);
    close(hold[0]);
    int reaped = 0, bad = 0, first_bad = 0;
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0)
            break;
        reaped++;
        if (exited(st) != 5 && !bad++)
            first_bad = st;
    }
    REQUIRE(n == MANY, "fork failed after %d live children: %s", n, strerror(err));
    REQUIRE(peak.processes >= c0.processes + MANY, "the server counted %u processes with %d children (%u before)",
            peak.processes, MANY, c0.processes);
    REQUIRE(reaped == n && bad == 0, "%d children, %d reaped, %d with the wrong status (first %#x)", n, reaped, bad,
            first_bad);
    for (int i = 0; i < 50; i++) {
        lanes_posix_counters(&c1);
        if (c1.processes == c0.processes && c1.handles == c0.handles)
            break;
        lanes_sys_sleep(LANES_MS(100));
    }
    REQUIRE(c1.processes == c0.processes && c1.handles == c0.handles && c1.files == c0.files,
            "server: processes %u->%u handles %u->%u files %u->%u", c0.processes, c1.processes, c0.handles,
            c1.handles, c0.files, c1.files);
    snprintf(why, sizeof why, "%d live at once (server: %u processes, %u handles); all reaped", n, peak.processes,
             peak.handles);
    return true;
}

/* ---- MAP_SHARED ---- */

static bool t_map_shared_fork(void)
{
    size_t len = 3 * 4096;
    volatile uint32_t *sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(sh != MAP_FAILED, "mmap(MAP_SHARED): %s", strerror(errno));
    volatile uint32_t *pr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(pr != MAP_FAILED, "mmap(MAP_PRIVATE): %s", strerror(errno));
    REQUIRE(sh[0] == 0 && sh[2048] == 0, "a new shared mapping is not zeroed");
    sh[0] = 1;
    pr[0] = 1;
    pid_t p = fork();
    REQUIRE(p >= 0, "fork: %s", strerror(errno));
    if (p == 0) {
        bool ok = sh[0] == 1 && pr[0] == 1;
        sh[0] = 2;                  /* the parent sees this */
        sh[1024 * 2 + 7] = 0xabcd;  /* on the third page */
        pr[0] = 2;                  /* and not this */
        /* a grandchild writes too */
        pid_t g = fork();
        if (g == 0) {
            sh[1] = 0x6a;
            _exit(0);
        }
        int st;
        ok = ok && g > 0 && waitpid(g, &st, 0) == g && sh[1] == 0x6a;
        _exit(ok ? 0 : 1);
    }
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "the child saw the wrong values (status %#x)", st);
    REQUIRE(sh[0] == 2 && sh[2048 + 7] == 0xabcd, "the child's writes are not in the parent's mapping (%#x %#x)",
            sh[0], sh[2048 + 7]);
    REQUIRE(sh[1] == 0x6a, "the grandchild's write is not seen (%#x)", sh[1]);
    REQUIRE(pr[0] == 1, "a MAP_PRIVATE page was shared (%u)", pr[0]);
    /* and the parent's writes reach a running child: a flag it waits for */
    sh[3] = 0;
    p = fork();
    if (p == 0) {
        for (int i = 0; i < 5000 && sh[3] != 42; i++)
            lanes_sys_sleep(LANES_MS(1));
        sh[4] = sh[3] == 42 ? 43 : 0;
        _exit(sh[3] == 42 ? 0 : 1);
    }
    sh[3] = 42;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0 && sh[4] == 43, "a flag written after fork was not seen");
    REQUIRE(munmap((void *)sh, len) == 0 && munmap((void *)pr, 4096) == 0, "munmap");
    return true;
}

static bool t_map_shared_unmap_child(void)
{
    /* the child unmaps and remaps its view: the parent's mapping and contents stay */
    volatile uint8_t *sh = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(sh != MAP_FAILED, "mmap: %s", strerror(errno));
    sh[0] = 'a';
    sh[4096] = 'b';
    pid_t p = fork();
    if (p == 0) {
        sh[4096] = 'c';
        bool ok = munmap((void *)sh, 4096) == 0;       /* only the first page */
        ok = ok && sh[4096] == 'c';
        _exit(ok ? 0 : 1);
    }
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child (status %#x)", st);
    REQUIRE(sh[0] == 'a' && sh[4096] == 'c', "after the child's munmap: %c %c", sh[0], sh[4096]);
    /* read-only for the child after mprotect: its write faults (SIGSEGV), our mapping is intact */
    REQUIRE(mprotect((void *)sh, 8192, PROT_READ) == 0, "mprotect: %s", strerror(errno));
    p = fork();
    if (p == 0) {
        sh[0] = 'x';
        _exit(0);
    }
    REQUIRE(waitpid(p, &st, 0) == p && WIFSIGNALED(st) && WTERMSIG(st) == 11, "write to a read-only shared page: %#x",
            st);
    REQUIRE(sh[0] == 'a', "the faulting write changed the page");
    REQUIRE(munmap((void *)sh, 8192) == 0, "munmap");
    return true;
}

static bool t_map_shared_errors(void)
{
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m == MAP_FAILED && errno == EINVAL, "MAP_SHARED|MAP_PRIVATE: %s", strerror(errno));
    m = mmap(NULL, 0, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m == MAP_FAILED && errno == EINVAL, "length 0: %s", strerror(errno));
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0);
    REQUIRE(m == MAP_FAILED && errno == ENODEV, "a shared file mapping: %s", strerror(errno));
    m = mmap(NULL, (size_t)1 << 40, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m == MAP_FAILED && errno == ENOMEM, "1 TiB shared: %s", strerror(errno));
    return true;
}

uint64_t fx_mm_free(void);      /* forkexec.c: the kernel's free memory (free + heap cache) */
#define mm_free fx_mm_free

static bool t_map_shared_frees(void)
{
    /* 4 MiB shared by a parent and a child: its pages go back when the last mapping goes */
    size_t len = 4u << 20;
    uint64_t before = mm_free();
    volatile uint8_t *sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(sh != MAP_FAILED, "mmap: %s", strerror(errno));
    uint64_t mapped = mm_free();
    pid_t p = fork();
    if (p == 0) {
        for (size_t i = 0; i < len; i += 4096)
            sh[i] = (uint8_t)(i >> 12);
        _exit(0);
    }
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child (status %#x)", st);
    for (size_t i = 0; i < len; i += 4096)
        REQUIRE(sh[i] == (uint8_t)(i >> 12), "page %zu: %u", i >> 12, sh[i]);
    REQUIRE(munmap((void *)sh, len) == 0, "munmap");
    uint64_t after = 0;
    for (int i = 0; i < 50; i++) {
        after = mm_free();
        if (after + 256 * 1024 >= before)
            break;
        lanes_sys_sleep(LANES_MS(20));
    }
    REQUIRE(before >= mapped + len * 3 / 4, "mapping 4 MiB took only %lld KiB",
            ((long long)before - (long long)mapped) >> 10);
    REQUIRE(after + 256 * 1024 >= before, "%lld KiB not given back", ((long long)before - (long long)after) >> 10);
    return true;
}

static const struct lanes_test rest_tests[] = {
    { "spawn-envp", t_spawn_envp },
    { "spawn-envp-env", t_spawn_envp_env },
    { "spawn-e2big", t_spawn_e2big },
    { "fork-500-live", t_fork_many_live },
    { "map-shared-fork", t_map_shared_fork },
    { "map-shared-unmap-child", t_map_shared_unmap_child },
    { "map-shared-errors", t_map_shared_errors },
    { "map-shared-frees", t_map_shared_frees },
};

void rest_tests_run(struct lanes_tests *t, int argc, char **argv)
{
    lanes_test_table(t, rest_tests, sizeof rest_tests / sizeof *rest_tests, argc, argv, NULL);
}
