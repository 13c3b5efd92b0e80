/* init — the first process: starts LaneOS's user space and supervises it.
 *
 * The kernel gives init two handles: "system" (the root capability) and "initrd" (the ustar
 * archive of programs). init
 *   1. creates two supervisors: one for the services in the table below, one for every other
 *      program (the shell runs its programs under it, through the "supervisor" handle);
 *   2. starts the table: one-shot drivers (cmos-rtc) and services (the shell);
 *   3. waits for notifications: a crashed service is reported and restarted (up to
 *      MAX_RESTARTS times); any crashed program is reported — which process, which fault,
 *      which address; when the shell exits, init powers the machine off with its status.
 * A second thread watches the program supervisor, so reports never wait for the services.
 *
 * If the kernel command line has words after " -- ", init runs that one command instead of
 * the shell and powers off with its status (e.g. `-- usertests`).
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESTARTS 5

enum kind { ONESHOT, SERVICE };

struct service {
    const char *prog;
    const char *argv[4];
    int argc;
    enum kind kind;
    int32_t proc;          /* PROCESS handle, or -1 when not running */
    int restarts;
};

static struct service table[] = {
    { "cmos-rtc", { "cmos-rtc" }, 1, ONESHOT, -1, 0 },
    { "sh", { "sh" }, 1, SERVICE, -1, 0 },
};
#define NSERVICES (sizeof table / sizeof *table)

static int32_t system_cap, service_sup, program_sup;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    console_write("init: ", 6);
    console_write(buf, (size_t)n);
}

static __attribute__((noreturn)) void power_off(int code)
{
    logmsg("powering off (status %d)", code);
    int64_t r = lanes_sys_poweroff(system_cap, code);
    logmsg("poweroff failed: %s; halting here", lanes_strerror(r));
    for (;;)
        lanes_sys_sleep(LANES_TIMEOUT_INFINITE);
}

static int start(struct service *s)
{
    struct lane_spawn_handle sh;
    memset(&sh, 0, sizeof sh);
    struct lanes_spawn_opts opts = { service_sup, NULL, 0, false };
    if (s->kind == SERVICE) {
        /* Services get the program supervisor (so the shell's programs are watched) and the
         * system capability (so the shell can grant what drivers declare). */
        static struct lane_spawn_handle extra[2];
        extra[0].handle = program_sup;
        extra[0].rights = LANES_RIGHT_ALL;
        strlcpy(extra[0].tag, "supervisor", sizeof extra[0].tag);
        extra[1].handle = system_cap;
        extra[1].rights = LANES_RIGHT_ALL;
        strlcpy(extra[1].tag, "system", sizeof extra[1].tag);
        opts.extra = extra;
        opts.nextra = 2;
    }
    int64_t p = lanes_spawn(s->prog, s->argc, s->argv, &opts);
    if (p < 0) {
        logmsg("cannot start %s: %s", s->prog, lanes_strerror(p));
        return -1;
    }
    s->proc = (int32_t)p;
    return 0;
}

static void describe(const struct lane_notification *n)
{
    char msg[256];
    lanes_describe_notification(n, msg, sizeof msg);
    logmsg("%s", msg);
}

/* Watches every program the shell (or anyone holding the program supervisor) started. */
static void program_watch(void *arg)
{
    (void)arg;
    for (;;) {
        struct lane_notification n;
        memset(&n, 0, sizeof n);
        int64_t r = lanes_sys_supervisor_recv(program_sup, &n, LANES_TIMEOUT_INFINITE);
        if (r < 0) {
            logmsg("program supervisor: %s", lanes_strerror(r));
            lanes_sys_sleep(LANES_MS(100));
            continue;
        }
        if (n.kind != LANES_NOTIFY_KIND_EXITED)
            describe(&n);   /* crashes and kills are reported; normal exits are the shell's business */
    }
}

/* Which table entry a notification is about: the one whose process has ended. */
static struct service *find_ended(const struct lane_notification *n)
{
    for (size_t i = 0; i < NSERVICES; i++) {
        struct service *s = &table[i];
        if (s->proc < 0 || strncmp(n->name, s->prog, sizeof n->name) != 0)
            continue;
        struct lane_exit_info info;
        if (lanes_wait(s->proc, &info, 0) >= 0 && info.state != LANES_PROC_STATE_RUNNING)
            return s;
    }
    return NULL;
}

static int run_command(int argc, const char **argv)
{
    struct lanes_spawn_opts opts = { program_sup, NULL, 0, false };
    struct lane_spawn_handle extra[1];
    memset(extra, 0, sizeof extra);
    extra[0].handle = program_sup;
    extra[0].rights = LANES_RIGHT_ALL;
    strlcpy(extra[0].tag, "supervisor", sizeof extra[0].tag);
    opts.extra = extra;
    opts.nextra = 1;
    logmsg("running '%s' from the kernel command line", argv[0]);
    int64_t p = lanes_spawn(argv[0], argc, argv, &opts);
    if (p < 0)
        return 127;
    struct lane_exit_info info;
    int64_t r = lanes_wait((int32_t)p, &info, LANES_TIMEOUT_INFINITE);
    if (r < 0)
        return 126;
    char msg[200];
    lanes_describe_exit(&info, msg, sizeof msg);
    logmsg("%s %s", argv[0], msg);
    if (info.state == LANES_PROC_STATE_EXITED)
        return info.code;
    lanes_sys_process_kill((int32_t)p, 1);
    return 128 + (int)info.vector;
}

int main(int argc, char **argv)
{
    system_cap = lanes_handle_by_tag("system");
    struct lane_sysinfo si;
    memset(&si, 0, sizeof si);
    lanes_sys_sysinfo(&si);
    logmsg("LaneOS user space starting (pid %u, %u CPUs, kernel %.32s)", lanes_startup->pid, si.ncpus, si.version);
    if (system_cap == LANES_HANDLE_NONE || lanes_handle_by_tag("initrd") == LANES_HANDLE_NONE) {
        logmsg("missing the system or initrd handle; cannot start anything");
        for (;;)
            lanes_sys_sleep(LANES_TIMEOUT_INFINITE);
    }
    int64_t a = lanes_sys_supervisor_create(), b = lanes_sys_supervisor_create();
    if (a < 0 || b < 0) {
        logmsg("supervisor_create failed: %s", lanes_strerror(a < 0 ? a : b));
        power_off(125);
    }
    service_sup = (int32_t)a;
    program_sup = (int32_t)b;

    static lanes_thread_t watcher;
    int64_t r = lanes_thread_start(&watcher, program_watch, NULL, 0);
    if (r < 0)
        logmsg("cannot start the program watcher thread: %s", lanes_strerror(r));

    /* Words after " -- " on the kernel command line: run them instead of the shell. */
    if (argc > 1)
        power_off(run_command(argc - 1, (const char **)argv + 1));

    /* One-shot drivers run to completion first (so their output precedes the shell's prompt),
     * then the services start. */
    for (size_t i = 0; i < NSERVICES; i++) {
        struct service *s = &table[i];
        if (start(s) < 0 || s->kind != ONESHOT)
            continue;
        struct lane_exit_info info;
        if (lanes_wait(s->proc, &info, LANES_SEC(10)) == 0 && info.state == LANES_PROC_STATE_EXITED &&
            info.code == 0)
            continue;   /* done; its notification arrives later and is ignored */
        char msg[200];
        lanes_describe_exit(&info, msg, sizeof msg);
        logmsg("%s %s", s->prog, msg);
    }

    for (;;) {
        struct lane_notification n;
        memset(&n, 0, sizeof n);
        r = lanes_sys_supervisor_recv(service_sup, &n, LANES_TIMEOUT_INFINITE);
        if (r < 0) {
            logmsg("service supervisor: %s", lanes_strerror(r));
            lanes_sys_sleep(LANES_MS(100));
            continue;
        }
        struct service *s = find_ended(&n);
        if (s && s->kind == ONESHOT) {
            lanes_sys_process_kill(s->proc, 1);
            lanes_sys_handle_close(s->proc);
            s->proc = -1;
            continue;   /* already reported above */
        }
        if (n.kind != LANES_NOTIFY_KIND_EXITED || n.code != 0)
            describe(&n);
        if (!s)
            continue;
        lanes_sys_process_kill(s->proc, 1);   /* a faulted process is stopped, not gone */
        lanes_sys_handle_close(s->proc);
        s->proc = -1;
        if (s->kind == ONESHOT)
            continue;
        if (n.kind == LANES_NOTIFY_KIND_EXITED && strcmp(s->prog, "sh") == 0)
            power_off(n.code);
        if (++s->restarts > MAX_RESTARTS) {
            logmsg("%s crashed %d times; giving up", s->prog, s->restarts);
            power_off(124);
        }
        logmsg("restarting %s (restart %d of %d)", s->prog, s->restarts, MAX_RESTARTS);
        start(s);
    }
}
