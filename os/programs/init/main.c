/* init — the first process: starts LaneOS's user space and supervises it.
 *
 * The kernel gives init two handles: "system" (the root capability) and "initrd" (the ustar
 * archive of programs). init
 *   1. creates two supervisors: one for the services in the table below, one for every other
 *      program (the shell runs its programs under it, through the "supervisor" handle);
 *   2. starts the table, in order, each a separate process:
 *        mbus      the service registry; init keeps the client end of its lane and hands it on
 *        console   the COM1 driver server (manifest: ioport 0x3f8 8, irq 4); it claims COM1
 *                  from the kernel and publishes itself in mbus ("console", claim=N)
 *        cmos-rtc  a one-shot driver (manifest: ioport 0x70 2)
 *        pci       the PCI driver server (manifest: ioport 0xcf8 8, sysfs /sys/devices/pci0000:00,
 *                  sysfs /sys/bus/pci, system): publishes the bus in sysfs as Linux does, starts
 *                  drivers by manifest, serves rescan; init waits (5 s at most) until the bus is
 *                  published
 *        ipc-demo --back   the demo's compute server; init publishes its lane in mbus as
 *                  "demo.back" (class=demo;role=back)
 *        fs        the file-system server (tmpfs seeded from the initrd; in mbus as "fs")
 *        posix     the POSIX server (processes, fds, VFS with fs at "/", pipes; in mbus as
 *                  "posix"); init adopts the shell there (posix.Adopt), so the shell and
 *                  everything it starts are POSIX processes
 *        sh        the shell, with a lane to the POSIX server (tag "posix"), a lane to the console server (tag "console"), the mbus
 *                  lane ("mbus"), the program supervisor and the system capability;
 *      every child after console gets "console" and "mbus", so its stdio goes over lanes;
 *   3. waits for notifications: a crashed service is reported, ended, and restarted (up to
 *      MAX_RESTARTS times) with fresh lanes (a restarted posix gets a new shell too: the old
 *      one's POSIX session went with the old server; a restarted fs is bound by posix through
 *      mbus); any crashed program is reported — which process,
 *      which fault, which address; when the shell exits, init powers the machine off with its
 *      status.
 * init itself writes through the kernel (console_write), never through the console server it
 * supervises: its reports must get out when that server is the one that crashed.
 * A second thread watches the program supervisor, so reports never wait for the services.
 *
 * If the kernel command line has words after " -- ", init starts the services but runs that
 * one command instead of the shell and powers off with its status (e.g. `-- usertests`).
 */
#include <lanes.h>
#include <lanes/console.h>
#include <lanes/ipc.h>
#include <lanes/mbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESTARTS 5

enum kind { ONESHOT, SERVICE };
enum role { PLAIN, MBUS, CONSOLE, DEMO, SHELL, PCI };

struct service {
    const char *prog;
    const char *argv[4];
    int argc;
    enum kind kind;
    enum role role;
    int32_t proc;          /* PROCESS handle, or -1 when not running */
    int restarts;
};

static struct service table[] = {
    { "mbus", { "mbus" }, 1, SERVICE, MBUS, -1, 0 },
    { "console", { "console" }, 1, SERVICE, CONSOLE, -1, 0 },
    { "cmos-rtc", { "cmos-rtc" }, 1, ONESHOT, PLAIN, -1, 0 },
    { "pci", { "pci" }, 1, SERVICE, PCI, -1, 0 },
    { "ipc-demo", { "ipc-demo", "--back" }, 2, SERVICE, DEMO, -1, 0 },
    { "fs", { "fs" }, 1, SERVICE, PLAIN, -1, 0 },
    { "posix", { "posix" }, 1, SERVICE, PLAIN, -1, 0 },
    { "sh", { "sh" }, 1, SERVICE, SHELL, -1, 0 },
};
#define NSERVICES (sizeof table / sizeof *table)

static int32_t system_cap, service_sup, program_sup;
static int32_t mbus_client = LANES_HANDLE_NONE;     /* our end of the registry's lane */
static bool quiet_start;                            /* restart attempts: spawn says nothing */

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
    char line[264];
    memcpy(line, "init: ", 6);
    memcpy(line + 6, buf, (size_t)n);
    lanes_sys_console_write(line, (size_t)n + 6);     /* the kernel path, on purpose */
}

static __attribute__((noreturn)) void power_off(int code)
{
    logmsg("powering off (status %d)", code);
    /* Let the console server write what is still in the kernel's ring (power off would take
     * COM1 back and write it anyway, but a line half written by the server would show twice). */
    for (int i = 0; i < 200; i++) {
        struct lane_console_info ci;
        memset(&ci, 0, sizeof ci);
        if (lanes_sys_console_info(&ci) < 0 || ci.owner_pid == 0 || ci.pending == 0)
            break;
        lanes_sys_sleep(LANES_MS(10));
    }
    int64_t r = lanes_sys_poweroff(system_cap, code);
    logmsg("poweroff failed: %s; halting here", lanes_strerror(r));
    for (;;)
        lanes_sys_sleep(LANES_TIMEOUT_INFINITE);
}

static void tag(struct lane_spawn_handle *h, int32_t handle, uint32_t rights, const char *t)
{
    memset(h, 0, sizeof *h);
    h->handle = handle;
    h->rights = rights;
    strlcpy(h->tag, t, sizeof h->tag);
}

static bool debug_line(void)
{
    struct lane_console_info ci;
    memset(&ci, 0, sizeof ci);
    return lanes_sys_console_info(&ci) == 0 && ci.debug_line;
}

/* A lane to the console server that holds COM1 now (through mbus), or NONE. */
static int32_t console_lane(uint64_t timeout_ns)
{
    if (mbus_client == LANES_HANDLE_NONE)
        return LANES_HANDLE_NONE;
    uint64_t deadline = lanes_now_ns() + timeout_ns;
    struct lane_console_info ci;
    for (;;) {
        memset(&ci, 0, sizeof ci);
        lanes_sys_console_info(&ci);
        if (ci.owner_pid != 0 || ci.debug_line || lanes_now_ns() >= deadline)
            break;
        lanes_sys_sleep(LANES_MS(5));
    }
    if (ci.owner_pid == 0)
        return LANES_HANDLE_NONE;
    char filter[64];
    snprintf(filter, sizeof filter, "name=console&claim=%u", ci.claims);
    struct lane_msg_mbus_entry e;
    uint64_t now = lanes_now_ns();
    int64_t r = lanes_mbus_await(mbus_client, filter, 0, deadline > now ? deadline - now : LANES_MS(1), &e);
    if (r == 0)
        r = lanes_mbus_bind(mbus_client, e.id);
    return r < 0 ? LANES_HANDLE_NONE : (int32_t)r;
}

/* Registers a process we started with the POSIX server (posix.Adopt on its public lane, found
 * through mbus): the process's lane to it (the other end was given to the process with tag
 * "posix") and a copy of its PROCESS handle are pushed after the message. */
static uint64_t posix_seen, posix_after;    /* mbus ids: the server we adopted with; older ones are dead */

static void posix_adopt(int32_t proc, int32_t lane)
{
    struct lane_msg_mbus_entry e;
    if (mbus_client == LANES_HANDLE_NONE ||
        (lanes_mbus_find(mbus_client, "name=posix", posix_after, &e) != 1 &&    /* the newest */
         lanes_mbus_await(mbus_client, "name=posix", posix_after, LANES_SEC(10), &e) != 0)) {
        logmsg("no POSIX server in mbus; the shell runs without it");
        return;
    }
    posix_seen = e.id;
    int64_t pl = lanes_mbus_bind(mbus_client, e.id);
    struct lane_handle_info hi;
    memset(&hi, 0, sizeof hi);
    lanes_sys_handle_info(proc, &hi);
    int64_t dup = lanes_sys_handle_dup(proc, LANES_RIGHT_ALL);
    static struct lanes_queue q;
    static bool q_ok;
    if (!q_ok)
        q_ok = lanes_queue_init(&q, 4) == 0;
    int64_t r = pl < 0 ? pl : dup < 0 ? dup : q_ok ? 0 : LANES_E_NOMEM;
    struct lane_msg_posix_reply rep;
    memset(&rep, 0, sizeof rep);
    if (r == 0) {
        struct lane_msg_posix_adopt m = lanes_msg_posix_adopt_encode((uint32_t)hi.size);
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
        lanes_acts_send(&b, &m, sizeof m);
        lanes_acts_push(&b, lane, LANES_RIGHT_ALL);
        lanes_acts_push(&b, (int32_t)dup, LANES_RIGHT_ALL);
        lanes_acts_recv_buffer(&b, &rep, sizeof rep);
        lanes_acts_end(&b);
        r = lanes_ipc_call(&q, (int32_t)pl, &b, &c, LANES_SEC(10));
        if (r == 0 && rep.error < 0)
            logmsg("the POSIX server refused the shell: errno %d", -rep.error);
    }
    if (r < 0)
        logmsg("cannot register the shell with the POSIX server: %s", lanes_ipc_strerror(r));
    if (pl >= 0)
        lanes_sys_handle_close((int32_t)pl);
    if (dup >= 0)
        lanes_sys_handle_close((int32_t)dup);
}

static int start(struct service *s)
{
    int32_t posix_keep = LANES_HANDLE_NONE;
    struct lane_spawn_handle extra[8];
    int n = 0;
    int32_t close_after[2] = { LANES_HANDLE_NONE, LANES_HANDLE_NONE };
    int32_t con = LANES_HANDLE_NONE, publish = LANES_HANDLE_NONE;
    struct lanes_spawn_opts opts = { service_sup, extra, 0, quiet_start };
    if (s->role == MBUS) {
        /* A fresh registry: a new stream, the server end to mbus, the client end kept. */
        int32_t l[2];
        if (lanes_stream(l) == 0) {
            if (mbus_client != LANES_HANDLE_NONE)
                lanes_sys_handle_close(mbus_client);
            mbus_client = l[0];
            posix_seen = posix_after = 0;     /* a new registry counts from 1 again */
            tag(&extra[n++], l[1], LANES_RIGHT_ALL, "mbus");
            close_after[0] = l[1];
        }
    } else {
        if (mbus_client != LANES_HANDLE_NONE)
            tag(&extra[n++], mbus_client, LANES_RIGHT_ALL, "mbus");
        if (s->role != CONSOLE && (con = console_lane(LANES_SEC(5))) != LANES_HANDLE_NONE)
            tag(&extra[n++], con, LANES_RIGHT_ALL, "console");
    }
    if (s->role == DEMO) {
        int32_t l[2];
        if (lanes_stream(l) == 0) {
            tag(&extra[n++], l[1], LANES_RIGHT_ALL, "back");
            close_after[0] = l[1];
            publish = l[0];
        }
    }
    if (s->role == SHELL) {
        /* The shell gets the program supervisor (so its programs are watched) and the system
         * capability (so it can grant what drivers declare). */
        tag(&extra[n++], program_sup, LANES_RIGHT_ALL, "supervisor");
        tag(&extra[n++], system_cap, LANES_RIGHT_ALL, "system");
        int32_t l[2];
        if (lanes_stream(l) == 0) {
            tag(&extra[n++], l[1], LANES_RIGHT_ALL, "posix");
            close_after[1] = l[1];
            posix_keep = l[0];
        }
    }
    opts.nextra = n;
    int64_t p = lanes_spawn(s->prog, s->argc, s->argv, &opts);
    for (int i = 0; i < 2; i++)
        if (close_after[i] != LANES_HANDLE_NONE)
            lanes_sys_handle_close(close_after[i]);
    if (con != LANES_HANDLE_NONE)
        lanes_sys_handle_close(con);
    if (p >= 0 && publish != LANES_HANDLE_NONE) {
        uint64_t id;
        int64_t r = mbus_client == LANES_HANDLE_NONE ? LANES_E_NOENT
                    : lanes_mbus_publish(mbus_client, "demo.back", "class=demo;role=back", publish, &id);
        if (r)
            logmsg("cannot publish demo.back in mbus: %s", lanes_ipc_strerror(r));
    }
    if (publish != LANES_HANDLE_NONE)
        lanes_sys_handle_close(publish);
    if (p < 0) {
        if (posix_keep != LANES_HANDLE_NONE)
            lanes_sys_handle_close(posix_keep);
        if (!quiet_start)
            logmsg("cannot start %s: %s", s->prog, lanes_strerror(p));
        return -1;
    }
    s->proc = (int32_t)p;
    if (posix_keep != LANES_HANDLE_NONE) {
        posix_adopt(s->proc, posix_keep);
        lanes_sys_handle_close(posix_keep);
    }
    if (s->role == PCI) {
        /* Wait until the bus is published (the server makes rescan last), so the shell's
         * prompt comes after what the walk says and lspci sees every function at once. */
        struct lane_sysfs_stat st;
        int i = 0;
        for (; i < 100 && lanes_sys_sysfs_stat("/sys/bus/pci/rescan", 19, &st) < 0; i++)
            lanes_sys_sleep(LANES_MS(50));
        if (i == 100)
            logmsg("the pci server has not published the bus after 5 s; going on");
    }
    if (s->role == CONSOLE) {
        /* Wait until it drives COM1 (so later children get a console lane). */
        int32_t l = console_lane(LANES_SEC(5));
        if (l == LANES_HANDLE_NONE)
            logmsg("the console server did not take COM1 over; the kernel keeps writing it");
        else
            lanes_sys_handle_close(l);
    }
    return 0;
}

/* After process_kill: waits until the process has ended for good (also one stopped by a fault:
 * once killed, process_wait waits for its end), so its capabilities — IRQ 4 for the console
 * server — are closed before the next instance asks for them. If that takes longer (a loaded
 * machine), start_again() retries while the kernel says EXISTS. */
static void finish(int32_t proc)
{
    struct lane_exit_info info;
    lanes_wait(proc, &info, LANES_SEC(5));
}

static int start_again(struct service *s)
{
    quiet_start = true;
    for (int tries = 0; tries < 100; tries++) {
        if (tries == 99)
            quiet_start = false;        /* the last try says why it failed */
        if (start(s) == 0) {
            quiet_start = false;
            return 0;
        }
        lanes_sys_sleep(LANES_MS(50));
    }
    return -1;
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
        /* Not with timeout 0: the notification of an exit comes before the process has
         * finished (its handles are closed after), and a wait that timed out here used to
         * drop the restart of a service that exited. */
        struct lane_exit_info info;
        if (lanes_wait(s->proc, &info, LANES_SEC(2)) >= 0 && info.state != LANES_PROC_STATE_RUNNING)
            return s;
    }
    return NULL;
}

/* The POSIX server was restarted: the shell's POSIX session (its process entry, fds, jobs) went
 * with the old one, and libc made it a plain process. A new shell, adopted by the new server,
 * gives the console a POSIX shell again; programs the old one started run on (their calls to
 * the old server failed EIO) under the program supervisor. */
static void restart_shell(void)
{
    for (size_t i = 0; i < NSERVICES; i++) {
        struct service *sh = &table[i];
        if (sh->role != SHELL || sh->proc < 0)
            continue;
        logmsg("the shell's POSIX session ended with the server: restarting sh");
        posix_after = posix_seen;       /* the new server's entry comes after the dead one's */
        int32_t old = sh->proc;
        sh->proc = -1;          /* its KILLED notification is not a crash to restart from */
        lanes_sys_process_kill(old, 1);
        finish(old);
        lanes_sys_handle_close(old);
        start_again(sh);
    }
}

static int run_command(int argc, const char **argv)
{
    struct lanes_spawn_opts opts = { program_sup, NULL, 0, false };
    struct lane_spawn_handle extra[3];
    int n = 0;
    tag(&extra[n++], program_sup, LANES_RIGHT_ALL, "supervisor");
    if (mbus_client != LANES_HANDLE_NONE)
        tag(&extra[n++], mbus_client, LANES_RIGHT_ALL, "mbus");
    int32_t con = console_lane(LANES_SEC(5));
    if (con != LANES_HANDLE_NONE)
        tag(&extra[n++], con, LANES_RIGHT_ALL, "console");
    opts.extra = extra;
    opts.nextra = n;
    logmsg("running '%s' from the kernel command line", argv[0]);
    int64_t p = lanes_spawn(argv[0], argc, argv, &opts);
    if (con != LANES_HANDLE_NONE)
        lanes_sys_handle_close(con);
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

    /* In table order: mbus, console, the one-shot drivers (run to completion, so their output
     * precedes the shell's prompt), the demo server, the shell. Words after " -- " on the
     * kernel command line run instead of the shell. */
    for (size_t i = 0; i < NSERVICES; i++) {
        struct service *s = &table[i];
        if (s->role == SHELL && argc > 1)
            power_off(run_command(argc - 1, (const char **)argv + 1));
        if (s->role == CONSOLE && debug_line()) {
            /* lanes.debug=ttyS0: COM1 is console, gdb line and trace line at once, and the
             * kernel keeps it (claims fail); everyone uses the kernel's console */
            logmsg("COM1 is the kernel debugger's line too (lanes.debug=ttyS0): no console server");
            continue;
        }
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
        finish(s->proc);
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
        start_again(s);
        if (strcmp(s->prog, "posix") == 0)
            restart_shell();
    }
}
