/* process.c — the process table: posix.Adopt, posix.Spawn, posix.Wait, posix.GetIds,
 * posix.SetPgid, posix.GetPgid, posix.Umask, posix.Kill; and what happens when a process ends.
 *
 * pids are the kernel's (a PROCESS handle's handle_info size), so getpid() needs no request.
 * A process ends in one of three ways we notice: its lane to us closes (exit or kill: the
 * kernel closed its handles), or its PROCESS handle reports a fault (polled: a faulted process
 * is stopped, its handles stay open). It then becomes a zombie: fds closed, a parked waitpid
 * of its own dropped, its children given to init (pid 1, which is not a POSIX process: such
 * orphans are reaped as soon as they end), its parent's parked waitpid answered.
 * Wait statuses use Linux's encoding (exit code << 8, or the signal number); a fault is
 * reported as the signal Linux would send (page fault and #GP: SIGSEGV, #UD: SIGILL, #DE: SIGFPE).
 */
#include "posix.h"
#include <signal.h>

struct proc procs[MAX_PROCS];
int procs_end;      /* 1 + the highest slot in use: every scan of the table stops there (the table is
                     * 8 MiB; scanning all of it on every event cost ~12% of a fork+exit+wait) */

struct proc *proc_by_pid(int32_t pid)
{
    for (int i = 0; i < procs_end; i++)
        if (procs[i].used && procs[i].pid == pid)
            return &procs[i];
    return NULL;
}

struct proc *proc_new(int32_t pid, int32_t lane, int32_t handle)
{
    if (pid <= 1 || proc_by_pid(pid))
        return NULL;
    uint32_t np, nz;
    /* EAGAIN when our handle table (the kernel's per-process limit) could fill: a process costs
     * its lane and PROCESS handle, and one conversation handle while a request of its waits
     * in our queue */
    uint32_t held = handles_held(&np, &nz);
    if (held + np + 3 > LANES_MAX_HANDLES - HANDLE_RESERVE)
        return NULL;
    for (int i = 0; i < MAX_PROCS; i++) {
        struct proc *p = &procs[i];
        if (p->used)
            continue;
        if (i >= procs_end)
            procs_end = i + 1;
        uint32_t gen = p->gen + 1;
        memset(p, 0, sizeof *p);
        p->buf = malloc(REQ_MAX);
        if (!p->buf)
            return NULL;
        p->gen = gen;
        p->used = true;
        p->pid = pid;
        p->lane = lane;
        p->handle = handle;
        p->umask = 022;
        p->wait_conv = LANES_HANDLE_NONE;
        sig_proc_init(p);
        return p;
    }
    return NULL;
}

static void proc_free(struct proc *p)
{
    sig_proc_gone(p);
    if (p->handle != LANES_HANDLE_NONE) {
        if (p->orphan_of_init && p->fault)
            lanes_sys_process_kill(p->handle, 128 + SIGSEGV);   /* a stopped orphan: nobody else will */
        lanes_sys_handle_close(p->handle);
    }
    free(p->cwd);
    free(p->buf);
    p->used = false;
    p->gen++;
    while (procs_end > 0 && !procs[procs_end - 1].used)
        procs_end--;
}

static int signal_of_fault(uint32_t vector)
{
    switch (vector) {
    case 0: return SIGFPE;
    case 6: return SIGILL;
    case 1:
    case 3: return SIGTRAP;
    case 16:
    case 19: return SIGFPE;
    case 17: return SIGBUS;
    default: return SIGSEGV;
    }
}

static bool matches(struct proc *parent, struct proc *c, int32_t want)
{
    if (!c->used || c->ppid != parent->pid)
        return false;
    if (want == -1)
        return true;
    if (want > 0)
        return c->pid == want;
    if (want == 0)
        return c->pgid == parent->pgid;
    return c->pgid == -want;
}

static void send_wait(int32_t conv, int err, struct proc *c)
{
    struct lane_msg_posix_wait_reply r =
        lanes_msg_posix_wait_reply_encode(err, c ? c->pid : 0, c ? c->status : 0, c ? c->fault : 0);
    send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
}

/* A stopped or continued child's report, for WUNTRACED / WCONTINUED (the child stays). */
static bool report(struct proc *p, int32_t want, uint32_t opts, int32_t conv)
{
    for (int i = 0; i < procs_end; i++) {
        struct proc *c = &procs[i];
        if (!matches(p, c, want) || c->zombie || !c->sig.report)
            continue;
        bool stop = c->sig.report != 0xffff;
        if (!(opts & (stop ? 2u : 8u)))
            continue;
        struct lane_msg_posix_wait_reply r = lanes_msg_posix_wait_reply_encode(0, c->pid, c->sig.report, 0);
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
        c->sig.report = 0;
        return true;
    }
    return false;
}

/* A child of parent stopped or continued: answer its parked waitpid if that asked for it. */
void proc_wait_event(struct proc *parent)
{
    if (parent->wait_conv == LANES_HANDLE_NONE)
        return;
    if (report(parent, parent->wait_pid, parent->wait_opts, parent->wait_conv)) {
        lanes_sys_handle_close(parent->wait_conv);
        parent->wait_conv = LANES_HANDLE_NONE;
        st_parked--;
    }
}

/* posix.SigCancel from thread tid: its parked waitpid answers -EINTR (another thread's stays
 * parked: a signal interrupts only the call of the thread it was delivered to). Returns whether
 * there was one. */
bool proc_wait_cancel(struct proc *p, uint32_t tid)
{
    if (p->wait_conv == LANES_HANDLE_NONE || p->wait_tid != tid)
        return false;
    send_wait(p->wait_conv, -EINTR, NULL);
    lanes_sys_handle_close(p->wait_conv);
    p->wait_conv = LANES_HANDLE_NONE;
    st_parked--;
    return true;
}

/* Finds a zombie child of p matching want; reaps it. Returns it (already freed: only pid,
 * status and fault are read) or NULL; *any says whether a matching child exists at all. */
static bool reap(struct proc *p, int32_t want, int32_t conv)
{
    for (int i = 0; i < procs_end; i++) {
        struct proc *c = &procs[i];
        if (matches(p, c, want) && c->zombie) {
            send_wait(conv, 0, c);
            proc_free(c);
            return true;
        }
    }
    return false;
}

static bool has_child(struct proc *p, int32_t want)
{
    for (int i = 0; i < procs_end; i++)
        if (matches(p, &procs[i], want))
            return true;
    return false;
}

static const char *signame(int s)
{
    switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGBUS: return "SIGBUS";
    default: return "signal";
    }
}

/* A fault ended p (stopped, memory kept): its core file (core.c), and a line on the console
 * that says where it went — Lanescope's Crashes list reads it. WCOREDUMP when written. */
static void fault_core(struct proc *p, const struct lane_exit_info *info)
{
    struct core_fault cf = { info->vector, info->error_code, info->fault_addr, info->rip };
    char path[PATH_MAX_BYTES + 1], comm[16];
    path[0] = 0;
    proc_comm(p->pid, comm);
    int e = core_dump(p, p->status, &cf, path, sizeof path);
    if (e == 0) {
        p->status |= 0x80;
        printf("posix: pid %d (%s) killed by %s (%d) at address 0x%llx, rip 0x%llx: core dumped to %s\n", p->pid, comm,
               signame(p->status & 0x7f), p->status & 0x7f, (unsigned long long)info->fault_addr,
               (unsigned long long)info->rip, path);
    } else {
        printf("posix: pid %d (%s) killed by %s (%d) at address 0x%llx, rip 0x%llx: no core file%s%s: %s\n", p->pid, comm,
               signame(p->status & 0x7f), p->status & 0x7f, (unsigned long long)info->fault_addr,
               (unsigned long long)info->rip, path[0] ? " at " : "", path, strerror(-e));
    }
}

void proc_ended(struct proc *p)
{
    if (p->zombie)
        return;
    struct lane_exit_info info;
    memset(&info, 0, sizeof info);
    lanes_wait(p->handle, &info, LANES_SEC(1));
    if (p->killed_sig)
        p->status = p->killed_sig;      /* (| 0x80: a core-dumping signal's default action) */
    else if (info.state == LANES_PROC_STATE_EXITED)
        p->status = (info.code & 0xff) << 8;
    else if (info.state == LANES_PROC_STATE_FAULTED) {
        p->fault = info.vector + 1;
        p->status = signal_of_fault(info.vector);
        fault_core(p, &info);
    } else
        p->status = SIGKILL;
    p->zombie = true;
    sig_proc_gone(p);
    pipe_proc_gone(p->pid);         /* a pipe ring's lock it held (before its fds close) */
    fd_close_all(p);
    if (p->lane != LANES_HANDLE_NONE) {
        lanes_sys_handle_close(p->lane);
        p->lane = LANES_HANDLE_NONE;
    }
    if (p->wait_conv != LANES_HANDLE_NONE) {
        lanes_sys_handle_close(p->wait_conv);
        p->wait_conv = LANES_HANDLE_NONE;
        st_parked--;
    }
    /* children go to init, which reaps nothing: ended ones go now, the others when they end */
    for (int i = 0; i < procs_end; i++) {
        struct proc *c = &procs[i];
        if (!c->used || c->ppid != p->pid || c == p)
            continue;
        c->ppid = 1;
        c->orphan_of_init = true;
        if (c->zombie)
            proc_free(c);
    }
    bool notify = !p->orphan_of_init && p->ppid != 1;
    struct proc *parent = notify ? proc_by_pid(p->ppid) : NULL;
    int32_t conv = LANES_HANDLE_NONE;
    if (parent && parent->wait_conv != LANES_HANDLE_NONE && matches(parent, p, parent->wait_pid)) {
        conv = parent->wait_conv;       /* the parent's parked waitpid gets this child */
        parent->wait_conv = LANES_HANDLE_NONE;
        st_parked--;
    }
    /* the parent's SIGCHLD (discarded unless caught): raised before that waitpid's reply goes,
     * but as a signal for a call whose reply is coming (it must not cancel that waitpid), so
     * the waitpid's end runs the handler before the caller goes on, as on Linux */
    if (notify) {
        if (conv != LANES_HANDLE_NONE)
            sig_reply_coming(parent, parent->wait_tid);
        sig_child_ended(p, p->status);
        sig_reply_coming(NULL, 0);
    }
    if (conv != LANES_HANDLE_NONE) {
        send_wait(conv, 0, p);
        lanes_sys_handle_close(conv);
    }
    if (!parent || conv != LANES_HANDLE_NONE)
        proc_free(p);
}

void proc_poll(void)
{
    for (int i = 0; i < procs_end; i++) {
        struct proc *p = &procs[i];
        if (!p->used || p->zombie || p->handle == LANES_HANDLE_NONE)
            continue;
        struct lane_exit_info info;
        memset(&info, 0, sizeof info);
        if (lanes_wait(p->handle, &info, 0) == 0 && info.state != LANES_PROC_STATE_RUNNING)
            proc_ended(p);
    }
}

/* The fds a process starts with when nobody POSIX started it: 0, 1, 2 on the console. */
static void console_fds(struct proc *p)
{
    struct desc *d = vfs_console();
    if (!d)
        return;
    for (int fd = 0; fd < 3; fd++) {
        desc_ref(d);
        p->fd[fd].d = d;
    }
    desc_unref(d);
}

/* posix.Adopt on the public lane: init registers a process it started (the shell). */
void req_adopt(int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_adopt a;
    if (lanes_msg_posix_adopt_decode(m, len, &a) != 0) {
        st_malformed++;
        return reply(conv, -EPROTO);
    }
    int32_t h[2];
    if (pull_handles(conv, 2, h) != 0)
        return reply(conv, -EBADF);
    struct lane_handle_info hi;
    memset(&hi, 0, sizeof hi);
    if (lanes_sys_handle_info(h[1], &hi) < 0 || hi.type != LANES_OBJ_PROCESS || hi.size != a.pid) {
        lanes_sys_handle_close(h[0]);
        lanes_sys_handle_close(h[1]);
        return reply(conv, -EINVAL);
    }
    struct proc *p = proc_new((int32_t)a.pid, h[0], h[1]);
    if (!p) {
        lanes_sys_handle_close(h[0]);
        lanes_sys_handle_close(h[1]);
        return reply(conv, -EAGAIN);
    }
    p->ppid = 1;
    p->orphan_of_init = true;
    p->pgid = p->sid = p->pid;
    p->cwd = strdup("/");
    console_fds(p);
    post_proc_accept(p);
    reply(conv, p->pid);
}

/* posix.Spawn and posix.Fork: the child's lane and PROCESS handle follow the request (pulled
 * here and checked: a lane, and a PROCESS whose pid is the one named). A new entry whose parent
 * is the caller, with the caller's process group, session, umask and cwd and a copy of its fd
 * table (each fd the same open description, close-on-exec flags kept). NULL once the error is
 * answered (EBADF, EINVAL, EAGAIN: the table is full). */
struct proc *proc_child(struct proc *parent, int32_t conv, uint32_t pid)
{
    int32_t h[2];
    if (pull_handles(conv, 2, h) != 0)
        return reply(conv, -EBADF), NULL;
    struct lane_handle_info hi, li;
    memset(&hi, 0, sizeof hi);
    memset(&li, 0, sizeof li);
    struct proc *c = NULL;
    int err = -EINVAL;
    if (lanes_sys_handle_info(h[1], &hi) == 0 && hi.type == LANES_OBJ_PROCESS && hi.size == pid &&
        lanes_sys_handle_info(h[0], &li) == 0 && li.type == LANES_OBJ_LANE) {
        c = proc_new((int32_t)pid, h[0], h[1]);
        err = -EAGAIN;
    }
    if (!c) {
        lanes_sys_handle_close(h[0]);
        lanes_sys_handle_close(h[1]);
        return reply(conv, err), NULL;
    }
    c->ppid = parent->pid;
    c->pgid = parent->pgid;
    c->sid = parent->sid;
    c->umask = parent->umask;
    c->cwd = strdup(parent->cwd ? parent->cwd : "/");
    for (int fd = 0; fd < MAX_FDS; fd++) {
        if (parent->fd[fd].d) {
            desc_ref(parent->fd[fd].d);
            c->fd[fd] = parent->fd[fd];
        }
    }
    return c;
}

/* posix.Spawn: the caller started a child and registers it; the child's lane and PROCESS
 * handle follow. The child gets the caller's fds (not the close-on-exec ones), then the
 * file actions. */
void req_spawn(struct proc *parent, int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_spawn s;
    lanes_msg_posix_spawn_decode(m, len, &s);
    if (s.nactions > 16 || len < sizeof s + s.nactions * sizeof(struct lane_msg_posix_spawn_action)) {
        st_malformed++;
        return reply(conv, -EPROTO);
    }
    struct proc *c = proc_child(parent, conv, s.pid);
    if (!c)
        return;
    /* the file actions see the whole table (as in a forked child); close-on-exec fds are
     * closed after them, as exec would */
    int err = 0;
    for (uint32_t i = 0; i < s.nactions && !err; i++) {
        struct lane_msg_posix_spawn_action a;
        if (lanes_msg_posix_spawn_action_decode(m + sizeof s + i * sizeof a, sizeof a, &a) != 0) {
            err = -EPROTO;
        } else if (a.op == 1) {
            struct desc *d = fd_get(c, a.fd);
            if (!d || a.newfd < 0 || a.newfd >= MAX_FDS)
                err = -EBADF;
            else if (a.fd != a.newfd) {
                desc_ref(d);
                fd_close(c, a.newfd);
                c->fd[a.newfd].d = d;
                c->fd[a.newfd].cloexec = false;
            }
        } else if (a.op == 2) {
            err = fd_close(c, a.fd);
        } else {
            err = -EINVAL;
        }
    }
    for (int fd = 0; fd < MAX_FDS && !err; fd++)
        if (c->fd[fd].d && c->fd[fd].cloexec)
            fd_close(c, fd);
    if (err) {
        /* not registered after all: the caller kills the child */
        fd_close_all(c);
        lanes_sys_handle_close(c->lane);
        c->lane = LANES_HANDLE_NONE;
        proc_free(c);
        return reply(conv, err);
    }
    sig_spawned(parent, s.tid, c);
    post_proc_accept(c);
    reply(conv, c->pid);
}

void req_wait(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_wait w;
    lanes_msg_posix_wait_decode(m, len, &w);
    if (w.options & ~11u)
        return send_wait(conv, -EINVAL, NULL);
    if (reap(p, w.pid, conv) || report(p, w.pid, w.options, conv))
        return;
    if (!has_child(p, w.pid))
        return send_wait(conv, -ECHILD, NULL);
    if (w.options & 1)
        return send_wait(conv, 0, NULL);
    if (p->wait_conv != LANES_HANDLE_NONE)
        return send_wait(conv, -EBUSY, NULL);   /* one waiting thread per process, for now */
    int64_t d = lanes_sys_handle_dup(conv, LANES_RIGHT_ALL);
    if (d < 0)
        return send_wait(conv, -ENOMEM, NULL);
    p->wait_conv = (int32_t)d;
    p->wait_pid = w.pid;
    p->wait_opts = w.options;
    p->wait_tid = w.tid;
    st_parked++;
}

int do_kill(struct proc *p, int32_t pid, int sig)
{
    return sig_kill(p, pid, sig, 0 /* sig_why kill */);
}

bool proc_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    uint32_t word = 0;
    if (len >= 4)
        memcpy(&word, m, 4);
    union {
        struct lane_msg_posix_spawn spawn;
        struct lane_msg_posix_wait wait;
        struct lane_msg_posix_get_ids ids;
        struct lane_msg_posix_set_pgid sp;
        struct lane_msg_posix_get_pgid gp;
        struct lane_msg_posix_umask um;
        struct lane_msg_posix_kill k;
    } u;
    if (lanes_msg_posix_spawn_decode(m, len, &u.spawn) == 0) {
        req_spawn(p, conv, m, len);
    } else if (lanes_msg_posix_wait_decode(m, len, &u.wait) == 0) {
        req_wait(p, conv, m, len);
    } else if (lanes_msg_posix_get_ids_decode(m, len, &u.ids) == 0) {
        struct lane_msg_posix_ids r = lanes_msg_posix_ids_encode(p->pid, p->ppid, p->pgid, p->sid, p->umask);
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
    } else if (lanes_msg_posix_set_pgid_decode(m, len, &u.sp) == 0) {
        int32_t pid = u.sp.pid ? u.sp.pid : p->pid;
        int32_t pgid = u.sp.pgid ? u.sp.pgid : pid;
        struct proc *t = proc_by_pid(pid);
        if (u.sp.pgid < 0)
            return reply(conv, -EINVAL), true;
        if (!t || t->zombie || (t != p && t->ppid != p->pid))
            return reply(conv, -ESRCH), true;
        if (t->sid != p->sid || t->pid == t->sid)
            return reply(conv, -EPERM), true;
        bool group_ok = pgid == t->pid;
        for (int i = 0; i < procs_end && !group_ok; i++)
            group_ok = procs[i].used && !procs[i].zombie && procs[i].pgid == pgid && procs[i].sid == p->sid;
        if (!group_ok)
            return reply(conv, -EPERM), true;
        t->pgid = pgid;
        reply(conv, 0);
    } else if (lanes_msg_posix_get_pgid_decode(m, len, &u.gp) == 0) {
        struct proc *t = u.gp.pid ? proc_by_pid(u.gp.pid) : p;
        reply(conv, t && !t->zombie ? t->pgid : -ESRCH);
    } else if (lanes_msg_posix_umask_decode(m, len, &u.um) == 0) {
        uint32_t old = p->umask;
        p->umask = u.um.mask & 0777;
        reply(conv, old);
    } else if (lanes_msg_posix_kill_decode(m, len, &u.k) == 0) {
        reply(conv, sig_kill(p, u.k.pid, u.k.sig, 0 /* sig_why kill */));
    } else {
        (void)word;
        return false;
    }
    return true;
}
