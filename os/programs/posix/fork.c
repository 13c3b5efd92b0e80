/* fork.c — posix.Fork and posix.Exec: the POSIX server's half of fork() and execve().
 *
 * fork: libc forks through the kernel (process_fork: the address space copy-on-write, every
 * handle under the same number, so the child's cached fd lanes stay valid) and registers the
 * child here with posix.Fork, pushing the child's own lane to us and its PROCESS handle, as
 * posix.Spawn does. The child gets a new pid entry whose parent is the caller, the caller's
 * process group, session, umask and cwd, and a copy of its fd table: every fd names the same
 * open description (offset, flags and lane shared, as POSIX wants), close-on-exec flags kept.
 * The child's first request waits until this registration has been answered (our accept on
 * its lane is posted here), so a refused child (table full: EAGAIN) never runs user code.
 *
 * exec: libc reads and checks the ELF from the file system, then sends posix.Exec before it
 * asks the kernel to replace the image (process_exec): the close-on-exec fds close here; pid,
 * parent, group, cwd, umask and the other fds stay. A kernel exec that then fails (no memory)
 * returns to the caller with those fds closed — the point of no return, as in Linux.
 */
#include "posix.h"
#include <signal.h>

static void req_fork(struct proc *parent, int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_fork f;
    lanes_msg_posix_fork_decode(m, len, &f);
    struct proc *c = proc_child(parent, conv, f.pid);     /* entry, ids, cwd, fd table (process.c) */
    if (!c)
        return;
    /* signals: the dispositions and the forking thread's mask are inherited, pending signals
     * are not (the child's thread registers its own signal page, libc after fork) */
    sig_forked(parent, f.tid, c);
    post_proc_accept(c);
    reply(conv, c->pid);
}

static void req_exec(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_exec e;
    lanes_msg_posix_exec_decode(m, len, &e);
    if (e.name_len > 31 || len < sizeof e + e.name_len) {
        st_malformed++;
        return reply(conv, -EPROTO);
    }
    int closed = 0;
    for (int fd = 0; fd < MAX_FDS; fd++) {
        if (p->fd[fd].d && p->fd[fd].cloexec) {
            fd_close(p, fd);
            closed++;
        }
    }
    /* signals: caught ones go back to their default action, ignored ones stay ignored */
    for (int s = 1; s < NSIG_POSIX; s++)
        if (p->sig.act[s].handler > (uint64_t)(uintptr_t)SIG_IGN) {
            p->sig.act[s].handler = (uint64_t)(uintptr_t)SIG_DFL;
            p->sig.act[s].flags = 0;
            p->sig.act[s].mask = 0;
        }
    reply(conv, closed);
}

bool forkexec_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    union {
        struct lane_msg_posix_fork f;
        struct lane_msg_posix_exec e;
    } u;
    if (lanes_msg_posix_fork_decode(m, len, &u.f) == 0)
        req_fork(p, conv, m, len);
    else if (lanes_msg_posix_exec_decode(m, len, &u.e) == 0)
        req_exec(p, conv, m, len);
    else
        return false;
    return true;
}
