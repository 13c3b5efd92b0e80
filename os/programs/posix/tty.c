/* tty.c — the console as a controlling terminal: its foreground process group and the signals
 * its line discipline raises (issue 14).
 *
 *   posix.TcSetPgrp / posix.TcGetPgrp   tcsetpgrp/tcgetpgrp on an fd that is the console
 *   posix.ConsoleSignal (public lane)    the console server saw Ctrl-C / Ctrl-\ / Ctrl-Z while
 *                                        its ISIG mode was on (the shell turns it on while a
 *                                        foreground job runs): signal the foreground group
 *
 * There is one console, so one foreground group (tty_fg_pgid; 0 = none set). The shell puts each
 * job in its own group, makes it the foreground one while it waits for it, and takes the
 * console back afterwards.
 */
#include "posix.h"

#ifndef SIGINT
#define SIGINT 2
#endif
#define SIG_QUIT 3
#define SIG_TSTP 20

int32_t tty_fg_pgid;

/* Sends sig to every live process of group pgid (signal.c: why ctrl_c, or ctrl_z for SIGTSTP);
 * returns how many, or -ESRCH. */
int tty_signal_group(int32_t pgid, int sig)
{
    int n = 0;
    for (int i = 0; i < procs_end; i++) {
        struct proc *t = &procs[i];
        if (!t->used || t->zombie || t->pgid != pgid)
            continue;
        sig_send(t, sig, 0, 0x80 /* SI_KERNEL */, sig == SIG_TSTP ? 4 /* ctrl_z */ : 2 /* ctrl_c */, 0, 0, 0);
        n++;
    }
    return n ? n : -ESRCH;
}

static bool group_exists(int32_t pgid, int32_t sid)
{
    for (int i = 0; i < procs_end; i++)
        if (procs[i].used && !procs[i].zombie && procs[i].pgid == pgid && procs[i].sid == sid)
            return true;
    return false;
}

bool tty_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_tc_set_pgrp sp;
    struct lane_msg_posix_tc_get_pgrp gp;
    if (lanes_msg_posix_tc_set_pgrp_decode(m, len, &sp) == 0) {
        struct desc *d = fd_get(p, sp.fd);
        if (!d)
            reply(conv, -EBADF);
        else if (d->kind != KIND_CONSOLE)
            reply(conv, -ENOTTY);
        else if (sp.pgid <= 0)
            reply(conv, -EINVAL);
        else if (!group_exists(sp.pgid, p->sid))
            reply(conv, -EPERM);
        else
            tty_fg_pgid = sp.pgid, reply(conv, 0);
        return true;
    }
    if (lanes_msg_posix_tc_get_pgrp_decode(m, len, &gp) == 0) {
        struct desc *d = fd_get(p, gp.fd);
        if (!d)
            reply(conv, -EBADF);
        else if (d->kind != KIND_CONSOLE)
            reply(conv, -ENOTTY);
        else
            reply(conv, tty_fg_pgid ? tty_fg_pgid : p->sid);
        return true;
    }
    return false;
}

bool tty_public_request(int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_console_signal cs;
    if (lanes_msg_posix_console_signal_decode(m, len, &cs) != 0)
        return false;
    if (cs.sig != SIGINT && cs.sig != SIG_QUIT && cs.sig != SIG_TSTP)
        reply(conv, -EINVAL);
    else
        reply(conv, tty_fg_pgid ? tty_signal_group(tty_fg_pgid, (int)cs.sig) : -ESRCH);
    return true;
}
