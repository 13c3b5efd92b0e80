/* linux.h — what sigtests needs of LaneOS, on Linux: the differential run of issue 14.
 *
 * os/tools/sigtests-linux (and os-test's "sig linux-diff" config) compiles the SAME main.c for
 * Linux with `gcc -O2 -static -pthread -DSIGTESTS_LINUX` against the host's libc, packs it as
 * /init of an initramfs and boots Debian's own kernel in the same QEMU as LaneOS
 * (tools/linuxguest.py). Both print the same "test NAME: ok|FAILED" and "OUTCOME name: value"
 * lines; the tool compares them line by line.
 *
 * Here: LaneOS's test runner (<lanes/testing.h> is plain C), the few lanes_* calls the tests use
 * mapped to Linux (threads: pthreads, lanes_tkill: tgkill, yield: sched_yield), and the Linux
 * main: as PID 1 it reads its arguments from /args (one per line), runs the tests in a process
 * that is not PID 1 (init ignores default actions) and whose process group is not orphaned
 * (Linux discards SIGTSTP to an orphaned group: stop-cont would not stop), then powers off.
 * The tests that look at LaneOS's own internals (trace-user, kill-frees) are not built here.
 */
#ifndef SIGTESTS_LINUX_H
#define SIGTESTS_LINUX_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>             /* bench_partial: recv(MSG_WAITALL) on a socketpair */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/include/lanes/testing.h"

#define LANES_SEC(x) ((uint64_t)(x) * 1000000000ull)

typedef struct {
    pthread_t th;
    void (*fn)(void *);
    void *arg;
} lanes_thread_t;

static void *lanes_linux_thread(void *a)
{
    lanes_thread_t *t = a;
    t->fn(t->arg);
    return NULL;
}

static inline int64_t lanes_thread_start(lanes_thread_t *t, void (*fn)(void *), void *arg, size_t stack)
{
    (void)stack;
    t->fn = fn;
    t->arg = arg;
    return pthread_create(&t->th, NULL, lanes_linux_thread, t) ? -1 : 0;
}

static inline int64_t lanes_thread_join(lanes_thread_t *t, uint64_t timeout_ns)
{
    (void)timeout_ns;
    return pthread_join(t->th, NULL) ? -1 : 0;
}

static inline int lanes_tkill(pid_t tid, int sig) { return (int)syscall(SYS_tgkill, getpid(), tid, sig); }
static inline void lanes_sys_yield(void) { sched_yield(); }
static inline bool lanes_posix_active(void) { return true; }

int sigtests_main(int argc, char **argv);

/* PID 1: /args -> argv; a session whose leader forks the tester into a group of its own. */
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (getpid() != 1)
        return sigtests_main(argc, argv);
    static char buf[4096];
    static char *av[64];
    int ac = 0;
    av[ac++] = "/init";
    FILE *f = fopen("/args", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    for (char *s = strtok(buf, "\n"); s && ac < 63; s = strtok(NULL, "\n"))
        av[ac++] = s;
    av[ac] = NULL;
    mount("proc", "/proc", "proc", 0, NULL);
    struct rlimit core = { RLIM_INFINITY, RLIM_INFINITY };
    setrlimit(RLIMIT_CORE, &core);          /* SIGQUIT's default action dumps a core, as on LaneOS */
    int st = 0;
    pid_t leader = fork();
    if (leader == 0) {
        setsid();
        pid_t tester = fork();
        if (tester == 0) {
            setpgid(0, 0);
            _exit(sigtests_main(ac, av));
        }
        int s = 0;
        while (waitpid(tester, &s, 0) < 0) {}
        _exit(WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s));
    }
    while (waitpid(leader, &st, 0) < 0) {}
    printf("SIGTESTS-LINUX-EXIT %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);                   /* QEMU exits; PID 1 must never return */
    return 0;
}

#define main sigtests_main

#endif
