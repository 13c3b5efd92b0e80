/* signal.c — POSIX signals: dispositions, masks, pending sets, delivery, default actions,
 * interval timers (issue 14; the console's foreground group and Ctrl-C are tty.c's; libc's half is
 * os/lib/src/signal.c, the kernel's generic/sys_signal.c).
 *
 * Generating a signal (kill, killpg, raise, alarm, a child's end, Ctrl-C from the console):
 *   - SIGKILL ends the process at once (the kernel frees everything it held, wherever its
 *     threads were blocked); SIGSTOP (and the other stop signals without a handler) stop it
 *     (kernel process_stop), SIGCONT continues it — each reported to a waitpid with
 *     WUNTRACED/WCONTINUED and to the parent's SIGCHLD;
 *   - an ignored signal (SIG_IGN, or SIG_DFL whose default is to ignore) is discarded;
 *   - otherwise it becomes pending (for the process, or for one thread: raise), and a thread
 *     that does not block it is told: if it is inside a POSIX call (its signal page's flag is
 *     1) we set the flag to 2 — it will cancel what it waits for (posix.SigCancel here,
 *     fs.Cancel on a passthrough lane) and deliver at the call's end; in any case we alert it
 *     (kernel thread_alert), which ends its wait, or runs its alert entry if it is outside a call.
 *   - A default action that terminates is taken when the thread asks (posix.SigTake) — after
 *     it ended its call with the partial result, so `cat /dev/slow` + Ctrl-C shows a cancelled
 *     read — or at once when no registered thread is inside a call; a thread that does not come
 *     within TERM_GRACE_MS is not waited for.
 * The flag rule: whatever a request makes deliverable (an unblocking mask, a handler's return,
 * sigsuspend) is dispatched BEFORE the request is answered, so the thread, still at flag 1 in
 * that request, finds 2 when it leaves it and takes the signal itself (answered first, it can
 * leave with the flag at 1 and the signal waits for the alert).
 * posix.SigTake hands libc the next deliverable signal with its handler: the handler's mask
 * (and the signal itself unless SA_NODEFER) is blocked until posix.SigReturn, SA_RESETHAND
 * resets the action — or, for a thread parked in our own work (a pipe read, waitpid, sigsuspend)
 * or parked outside posix (its page's `away`: waiting on fs's lane), we take it when we set its
 * flag to 2 and write it into its page (take_into_page: no SigTake).
 * A handler's return whose thread saw page->held 0 is left in the page (the lazy sigreturn,
 * sig_sync applies it first thing). posix.SigCancel{tid} stops our own work for that thread's call: its parked
 * waitpid or sigsuspend answers -EINTR (never another thread's: Linux interrupts only the
 * thread the signal was delivered to).
 *
 * Core dumps (issue 20): posix_core_dump(p, sig, tid) is THE entry point, called when a process
 * is about to be terminated by a signal whose default action dumps core (SIGQUIT, SIGILL,
 * SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS): it stops the process and
 * hands it to core.c's core_dump (faults go there from process.c directly).
 */
#include "posix.h"
#include <lanes/cancel.h>
#include <lanes/sigtrace.h>
#include <signal.h>

#define TERM_GRACE_MS 1000
#define REPOKE_MS 200
#define POKED_NOW UINT64_MAX        /* poked_at: told just now, the next sig_poll stamps the time */
#define SIGBIT(s) (1ull << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define STOPSIGS (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))

uint32_t st_sig_pages, st_sig_timers, st_sig_suspended, st_sig_renotified;
uint64_t st_sig_generated, st_sig_handled, st_sig_cancelled;
static uint32_t self_pid;

void posix_core_dump(struct proc *p, int sig, uint32_t tid)
{
    (void)tid;
    /* core.c wants the process stopped, every thread parked: stop it, give the threads a moment
     * to reach their stop (a running one has no still frame: BUSY) */
    if (lanes_sys_process_stop(p->handle, 1) < 0)
        return;
    char path[160];
    int e = -EBUSY;
    for (int i = 0; i < 40 && e == -EBUSY; i++) {
        lanes_sys_sleep(LANES_MS(5));
        e = core_dump(p, sig, NULL, path, sizeof path);
    }
    if (e == 0)
        printf("posix: pid %d killed by signal %d: core dumped to %s\n", p->pid, sig, path);
    else
        printf("posix: pid %d killed by signal %d: no core file: %s\n", p->pid, sig, strerror(-e));
}

int sig_default(int sig)
{
    switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV: case SIGXCPU:
    case SIGXFSZ: case SIGSYS:
        return SIG_DEF_CORE;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        return SIG_DEF_STOP;
    case SIGCONT:
        return SIG_DEF_CONT;
    case SIGCHLD: case SIGURG: case SIGWINCH:
        return SIG_DEF_IGNORE;
    default:
        return SIG_DEF_TERMINATE;
    }
}

static uint32_t me(void)
{
    if (!self_pid)
        self_pid = (uint32_t)lanes_startup->pid;
    return self_pid;
}

static struct sthread *thread_of(struct proc *p, uint32_t tid)
{
    for (int i = 0; i < MAX_STHREADS; i++)
        if (p->sig.th[i].tid == tid && tid)
            return &p->sig.th[i];
    return NULL;
}

static uint32_t flag_of(struct sthread *t)
{
    return t->page ? __atomic_load_n(&t->page->flag, __ATOMIC_SEQ_CST) : 0;
}

static uint64_t call_of(struct sthread *t)
{
    return t->page ? __atomic_load_n(&t->page->call, __ATOMIC_SEQ_CST) : 0;
}

/* The lazy sigreturn (libc's run_handler): a handler's return that libc left in the page
 * (ret_pending, ret_mask) instead of sending posix.SigReturn — allowed only while `held` is 0,
 * i.e. nothing was pending that the restored mask could let through. Applied here before
 * anything looks at p's masks: every request of p, every generation and dispatch. */
static void sig_sync(struct proc *p)
{
    for (int i = 0; i < MAX_STHREADS; i++) {
        struct sthread *t = &p->sig.th[i];
        if (t->tid && t->page && __atomic_load_n(&t->page->ret_pending, __ATOMIC_SEQ_CST) &&
            __atomic_exchange_n(&t->page->ret_pending, 0, __ATOMIC_SEQ_CST))
            t->mask = __atomic_load_n(&t->page->ret_mask, __ATOMIC_SEQ_CST) & ~UNBLOCKABLE;
    }
}

/* held (see sig_sync): 1 when something may be pending for t; posix writes 0 only where it
 * knows nothing is. Written before sig_sync reads ret_pending (libc: ret_pending, then held). */
static void set_held(struct proc *p, struct sthread *t)
{
    if (t->page)
        __atomic_store_n(&t->page->held, (p->sig.pending | t->pending) ? 1u : 0u, __ATOMIC_SEQ_CST);
}

void sig_proc_init(struct proc *p)
{
    for (int i = 0; i < MAX_STHREADS; i++)
        p->sig.th[i].suspend_conv = LANES_HANDLE_NONE;
}

static uint64_t mask_of(struct proc *p, uint32_t tid)
{
    sig_sync(p);
    struct sthread *t = thread_of(p, tid);
    return t ? t->mask : 0;
}

/* posix_spawn is a fork and an exec: caught signals go back to SIG_DFL, ignored ones stay
 * ignored, the mask is the spawning thread's (POSIX, without POSIX_SPAWN_SETSIGMASK). */
void sig_spawned(struct proc *parent, uint32_t tid, struct proc *child)
{
    for (int s = 1; s < NSIG_POSIX; s++)
        if (parent->sig.act[s].handler == (uint64_t)(uintptr_t)SIG_IGN)
            child->sig.act[s].handler = (uint64_t)(uintptr_t)SIG_IGN;
    child->sig.init_mask = mask_of(parent, tid);
}

/* fork: the dispositions and the forking thread's mask are inherited, pending signals are not;
 * the child's (one) thread gets the mask when it registers its signal page. */
void sig_forked(struct proc *parent, uint32_t tid, struct proc *child)
{
    memcpy(child->sig.act, parent->sig.act, sizeof child->sig.act);
    child->sig.init_mask = mask_of(parent, tid);
}

static void suspend_answer(struct sthread *t)
{
    if (t->suspend_conv == LANES_HANDLE_NONE)
        return;
    struct lane_msg_posix_sig_set r = lanes_msg_posix_sig_set_encode(-EINTR, 0, t->suspend_saved);
    send_msg(t->suspend_conv, &r, sizeof r, LANES_HANDLE_NONE);
    lanes_sys_handle_close(t->suspend_conv);
    t->suspend_conv = LANES_HANDLE_NONE;
    st_sig_suspended--;
    st_parked--;
}

static void thread_drop(struct sthread *t)
{
    if (t->suspend_conv != LANES_HANDLE_NONE) {
        lanes_sys_handle_close(t->suspend_conv);
        t->suspend_conv = LANES_HANDLE_NONE;
        st_sig_suspended--;
        st_parked--;
    }
    if (t->page) {
        lanes_sys_mem_unmap(t->page, LANES_PAGE_SIZE);
        st_sig_pages--;
    }
    if (t->has_cev)
        lanes_sys_handle_close(t->cev);
    memset(t, 0, sizeof *t);
    t->suspend_conv = LANES_HANDLE_NONE;
}

/* The process ended (or is freed): its pages, parked suspends and timer go. */
void sig_proc_gone(struct proc *p)
{
    for (int i = 0; i < MAX_STHREADS; i++)
        if (p->sig.th[i].tid)
            thread_drop(&p->sig.th[i]);
    if (p->sig.alarm_at)
        st_sig_timers--;
    p->sig.alarm_at = 0;
    p->sig.pending = 0;
}

/* ---- default actions ---- */

/* Ends p because of sig (status: killed by sig, | 0x80 with a core). */
static void terminate(struct proc *p, int sig, uint32_t tid, uint64_t call)
{
    if (p->zombie || p->killed_sig)
        return;
    int act = sig_default(sig);
    lanes_trace_sig_action((uint32_t)p->pid, tid, sig, act == SIG_DEF_CORE ? SIG_DEF_CORE : SIG_DEF_TERMINATE, call);
    if (act == SIG_DEF_CORE)
        posix_core_dump(p, sig, tid);
    /* threads still inside a call end there: their sys_end is ours to write */
    for (int i = 0; i < MAX_STHREADS; i++) {
        struct sthread *t = &p->sig.th[i];
        uint64_t c = call_of(t);
        if (t->tid && flag_of(t) && c)
            lanes_trace_sys_end(c, (uint32_t)p->pid, t->tid, -EINTR, SYS_OUT_KILLED, sig, 0, 0);
    }
    p->killed_sig = sig | (act == SIG_DEF_CORE ? 0x80 : 0);
    p->sig.term_deadline = 0;
    lanes_sys_process_kill(p->handle, 128 + sig);
}

static void notify_parent(struct proc *p, int code, int status);

static void stop(struct proc *p, int sig)
{
    if (p->sig.stopped || p->zombie)
        return;
    lanes_trace_sig_action((uint32_t)p->pid, 0, sig, SIG_DEF_STOP, 0);
    if (lanes_sys_process_stop(p->handle, 1) < 0)
        return;
    p->sig.stopped = true;
    p->sig.report = 0x7f | (sig << 8);
    notify_parent(p, CLD_STOPPED, sig);
}

static void cont(struct proc *p)
{
    p->sig.pending &= ~STOPSIGS;
    for (int i = 0; i < MAX_STHREADS; i++)
        p->sig.th[i].pending &= ~STOPSIGS;
    if (!p->sig.stopped)
        return;
    lanes_trace_sig_action((uint32_t)p->pid, 0, SIGCONT, SIG_DEF_CONT, 0);
    lanes_sys_process_stop(p->handle, 0);
    p->sig.stopped = false;
    p->sig.report = 0xffff;
    notify_parent(p, CLD_CONTINUED, SIGCONT);
}

/* ---- generation ---- */

static bool ignored(struct proc *p, int sig)
{
    uint64_t h = p->sig.act[sig].handler;
    if (h == (uint64_t)(uintptr_t)SIG_IGN)
        return sig != SIGKILL && sig != SIGSTOP;
    /* (SIGCONT's default action, continuing, was taken at generation) */
    return h == (uint64_t)(uintptr_t)SIG_DFL && (sig_default(sig) == SIG_DEF_IGNORE || sig_default(sig) == SIG_DEF_CONT);
}

static void suspend_answer(struct sthread *t);

/* Is posix's own work for thread t's call `call` parked here (what stop_own_work would stop)? */
static bool own_work_parked(struct proc *p, struct sthread *t, uint64_t call)
{
    return t->suspend_conv != LANES_HANDLE_NONE || (p->wait_conv != LANES_HANDLE_NONE && p->wait_tid == t->tid) ||
           pipe_call_parked(call);
}

/* posix's own work for thread t's call `call` (its parked pipe read or write, waitpid,
 * sigsuspend) stops now: answered with its progress or -EINTR. Returns how many. */
static int stop_own_work(struct proc *p, struct sthread *t, uint64_t call)
{
    int n = pipe_cancel_call(call);
    bool sus = t->suspend_conv != LANES_HANDLE_NONE, wait = p->wait_conv != LANES_HANDLE_NONE && p->wait_tid == t->tid;
    if (sus || wait) {
        lanes_utrace_cancel_raise(call, me(), CANCEL_KIND_LOCAL, call, "posix");
        if (sus)
            suspend_answer(t);
        n += sus + proc_wait_cancel(p, t->tid);
        st_sig_cancelled += (uint64_t)(sus + wait);
        lanes_trace_cancel_ack(call, st_parked, 0, call, "posix");
    }
    return n;
}

/* A reply posix is about to send to this thread's call (proc_ended: the parent's waitpid, then
 * its SIGCHLD): a signal for that thread meanwhile leaves the flag at 2 and relies on the reply
 * as the wake-up, so the call's end delivers it before the caller runs on — as Linux delivers
 * SIGCHLD on the way out of the wait that reaped the child. */
static struct { struct proc *p; uint32_t tid; } reply_coming;

void sig_reply_coming(struct proc *p, uint32_t tid)
{
    reply_coming.p = p;
    reply_coming.tid = tid;
}

static int next_signal(struct proc *p, struct sthread *t, bool *thread_directed);

/* Takes sig (next_signal's, with a handler) for thread t: no longer pending, the handler's mask
 * (and sig unless SA_NODEFER) blocked, SA_RESETHAND applied. *r = what libc needs to run it. */
static void take_handled(struct proc *p, struct sthread *t, int sig, bool td, struct lane_msg_posix_sig_info *r)
{
    struct sigact *a = &p->sig.act[sig];
    struct sigq *q = &p->sig.info[sig];
    *r = lanes_msg_posix_sig_info_encode(0, sig, q->code, q->pid, a->handler, t->mask, a->flags, 5, q->value);
    r->status = q->status;
    if (td)
        t->pending &= ~SIGBIT(sig);
    else
        p->sig.pending &= ~SIGBIT(sig);
    st_sig_handled++;
    t->mask |= a->mask | (a->flags & SA_NODEFER ? 0 : SIGBIT(sig));
    t->mask &= ~UNBLOCKABLE;
    if (a->flags & SA_RESETHAND) {
        a->handler = (uint64_t)(uintptr_t)SIG_DFL;
        a->flags &= ~SA_SIGINFO;
    }
    set_held(p, t);                 /* (nothing else pending: its return may be lazy) */
}

/* Thread t's call is parked here (its reply is ours to send): the signal it will deliver at the
 * call's end is taken now and written into its page, so libc needs no posix.SigTake (a round trip
 * less per signal). Only then: the thread can make no request before that reply, so nothing can
 * change its mask in between (a thread at 1 in some other request, e.g. a sigprocmask on its
 * way, takes its signal with SigTake as before). A default action is left to SigTake. */
static void take_into_page(struct proc *p, struct sthread *t)
{
    bool td = false;
    int sig = next_signal(p, t, &td);
    if (!sig || p->sig.act[sig].handler == (uint64_t)(uintptr_t)SIG_DFL || t->page->taken_signo)
        return;
    struct lane_msg_posix_sig_info r;
    take_handled(p, t, sig, td, &r);
    struct lane_sig_page *pg = t->page;
    pg->taken_code = r.code;
    pg->taken_pid = r.pid;
    pg->taken_status = r.status;
    pg->taken_handler = r.handler;
    pg->taken_old_mask = r.old_mask;
    pg->taken_flags = r.flags;
    pg->taken_value = r.value;
    __atomic_store_n(&pg->taken_signo, (uint32_t)sig, __ATOMIC_SEQ_CST);     /* last */
}

/* Thread t waits on fs (away 2), which awaits t's cancellation event for that request: raise
 * it — fs answers the request with its progress or -EINTR, and that reply is the thread's one
 * wake-up (no alert, no fs.Cancel from the thread). The count (cev_seq) and the take come
 * before the raise, so fs's answer never reaches the thread before them: its call's end finds
 * the signal in the page even when fs, woken on another CPU, answers while we are still in
 * the raise (with 2 CPUs it often did, and the thread then asked SigTake and waited for us).
 * A raise later than the count cancels nothing wrongly: a request made after the thread read
 * the new count waits for the event to pass it, which this raise does not. A default action is
 * not taken here: the call's end asks SigTake for it as before. Should fs not answer (it never
 * got the event, or evicted it), the thread is alerted after REPOKE_MS (sig_poll) and sends
 * fs.Cancel itself. A raise that fails (the event handle is gone) counts one raise too many, so
 * the event is dropped and t is alerted, now and from then on. */
static bool raise_cev(struct proc *p, struct sthread *t)
{
    /* (the record first: fs, woken on another CPU, writes its cancel_ack at once) */
    lanes_utrace_cancel_raise(call_of(t), 0, CANCEL_KIND_EVENT, t->page->away_request, "fs");
    __atomic_store_n(&t->page->cev_seq, t->page->cev_seq + 1, __ATOMIC_SEQ_CST);
    take_into_page(p, t);
    if (lanes_sys_ipc_event_raise(t->cev, 1) < 0) {
        lanes_sys_handle_close(t->cev);
        t->has_cev = false;
        return false;               /* (alerted instead: the thread sends fs.Cancel) */
    }
    t->cev_raised_at = POKED_NOW;
    return true;
}

/* posix.SigEvent: thread tid's cancellation event (pushed). */
static void req_event(struct proc *p, int32_t conv, uint32_t tid)
{
    int32_t ev = LANES_HANDLE_NONE;
    if (pull_handles(conv, 1, &ev) != 0 || ev == LANES_HANDLE_NONE)
        return reply(conv, -EINVAL);
    struct lane_handle_info hi;
    struct sthread *t = thread_of(p, tid);
    if (!t || lanes_sys_handle_info(ev, &hi) < 0 || hi.type != LANES_OBJ_EVENT) {
        lanes_sys_handle_close(ev);
        return reply(conv, -EINVAL);
    }
    if (t->has_cev)
        lanes_sys_handle_close(t->cev);
    t->cev = ev;
    t->has_cev = true;
    reply(conv, 0);
}

/* Tells thread t of p that a signal is there for it (the talk's flag protocol). */
static void poke(struct proc *p, struct sthread *t, int sig)
{
    p->sig.poked_at = POKED_NOW;    /* (sig_poll stamps it: no clock read on the signal's path) */
    uint32_t expect = 1;
    if (t->page && __atomic_compare_exchange_n(&t->page->flag, &expect, 2, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        t->page->signo = (uint32_t)sig;
        lanes_utrace_sig_flag(call_of(t), t->tid, 1, 2, sig);
        /* our own work for that call (a pipe read or write, waitpid, sigsuspend) parked here:
         * answered now, and that reply is the wake-up (the thread sends no fs.Cancel or
         * SigCancel, needs no alert); `stopped` and the taken signal first, so the reply never
         * comes without them */
        uint64_t c = call_of(t);
        bool coming = reply_coming.p == p && reply_coming.tid == t->tid;
        if (coming || own_work_parked(p, t, c)) {
            __atomic_store_n(&t->page->stopped, 1, __ATOMIC_SEQ_CST);
            take_into_page(p, t);
            if (!coming)
                stop_own_work(p, t, c);
            return;                 /* no alert: the reply wakes it, the call's end sees the 2
                                     * (alerted too, its next wait would end INTERRUPTED for nothing) */
        }
        /* parked outside posix (libc's `away`, set around its wait on another server's lane;
         * read after our 1→2, so a thread that has left the wait since finds the 2 at its
         * call's end): it makes no request that touches its mask before that end, so the
         * signal is taken now as well; the alert below makes it cancel (fs.Cancel). Should it
         * miss taken_signo (still being written here), its SigTake is answered from the page. */
        uint32_t away = __atomic_load_n(&t->page->away, __ATOMIC_SEQ_CST);
        if (away == 2 && t->has_cev && raise_cev(p, t))
            return;
        if (away == 1 || away == 2) {
            take_into_page(p, t);
            /* taken into the page: the call's end runs it whatever happens meanwhile, so only
             * the wait has to end (its alert entry would find the 2 and return: ~1,000
             * instructions of entry, frame and alert_return per signal) */
            if (__atomic_load_n(&t->page->taken_signo, __ATOMIC_SEQ_CST)) {
                lanes_sys_thread_alert(p->handle, t->tid, LANES_ALERT_WAIT_ONLY);
                return;
            }
        }
    }
    lanes_sys_thread_alert(p->handle, t->tid, 0);
}

/* The threads of p that could take sig now; the first one inside a call if any. */
static struct sthread *pick(struct proc *p, int sig, uint32_t only_tid)
{
    struct sthread *best = NULL;
    for (int i = 0; i < MAX_STHREADS; i++) {
        struct sthread *t = &p->sig.th[i];
        if (!t->tid || !t->page || (only_tid && t->tid != only_tid) || (t->mask & SIGBIT(sig)))
            continue;
        if (!best || (flag_of(t) && !flag_of(best)))
            best = t;
    }
    return best;
}

/* Looks at what is pending for p and tells (or acts) — called after anything that may have
 * made a signal deliverable: a new one, an unblocking mask, a handler's return. */
static void dispatch(struct proc *p)
{
    if (p->zombie || p->killed_sig)
        return;
    sig_sync(p);
    uint64_t all = p->sig.pending;
    for (int i = 0; i < MAX_STHREADS; i++)
        all |= p->sig.th[i].pending;
    while (all) {                   /* (each pending signal, lowest first) */
        int sig = __builtin_ctzll(all) + 1;
        uint64_t bit = SIGBIT(sig);
        all &= ~bit;
        uint32_t only = 0;
        if (!(p->sig.pending & bit))
            for (int i = 0; i < MAX_STHREADS; i++)
                if (p->sig.th[i].pending & bit)
                    only = p->sig.th[i].tid;
        struct sthread *t = pick(p, sig, only);
        uint64_t h = p->sig.act[sig].handler;
        if (h == (uint64_t)(uintptr_t)SIG_DFL) {
            /* terminate: the thread inside a call cancels and comes to SigTake (grace period),
             * or now when none is inside one */
            if (!t || !flag_of(t)) {
                bool blocked_everywhere = !t;
                bool any_thread = false;
                for (int i = 0; i < MAX_STHREADS; i++)
                    any_thread |= p->sig.th[i].tid != 0;
                if (blocked_everywhere && any_thread)
                    continue;           /* blocked: stays pending */
                terminate(p, sig, t ? t->tid : 0, 0);
                return;
            }
            if (!p->sig.term_deadline)
                p->sig.term_deadline = lanes_now_ns() + LANES_MS(TERM_GRACE_MS);
            poke(p, t, sig);
            continue;
        }
        if (t)
            poke(p, t, sig);
    }
}

/* Generates sig for p (tid: for that thread only). */
void sig_send(struct proc *p, int sig, int32_t sender, int code, int why, uint32_t tid, uint64_t value, int status)
{
    if (!p || !p->used || p->zombie || sig <= 0 || sig >= NSIG_POSIX)
        return;
    struct sthread *tt = tid ? thread_of(p, tid) : NULL;
    uint64_t call = 0;
    for (int i = 0; i < MAX_STHREADS && !call; i++)
        if (p->sig.th[i].tid && (!tid || p->sig.th[i].tid == tid))
            call = call_of(&p->sig.th[i]);
    lanes_utrace_sig_generate((uint32_t)sender, (uint32_t)p->pid, tid, sig, why, call, value);
    st_sig_generated++;
    if (sig == SIGKILL) {
        if (p->sig.stopped)
            lanes_sys_process_stop(p->handle, 0);
        terminate(p, sig, tid, call);
        return;
    }
    if (sig == SIGCONT)
        cont(p);
    if (STOPSIGS & SIGBIT(sig)) {
        p->sig.pending &= ~SIGBIT(SIGCONT);
        if (sig == SIGSTOP || (p->sig.act[sig].handler == (uint64_t)(uintptr_t)SIG_DFL)) {
            stop(p, sig);
            return;
        }
    }
    if (ignored(p, sig))
        return;
    struct sigq *q = &p->sig.info[sig];
    q->pid = sender;
    q->code = code;
    q->value = value;
    q->status = status;
    if (tt)
        tt->pending |= SIGBIT(sig);
    else
        p->sig.pending |= SIGBIT(sig);
    for (int i = 0; i < MAX_STHREADS; i++)      /* held before sig_sync (in dispatch) looks */
        if (p->sig.th[i].tid && p->sig.th[i].page && (!tt || tt == &p->sig.th[i]))
            __atomic_store_n(&p->sig.th[i].page->held, 1, __ATOMIC_SEQ_CST);
    dispatch(p);
}

static void notify_parent(struct proc *p, int code, int status)
{
    struct proc *parent = proc_by_pid(p->ppid);
    if (!parent || parent->zombie)
        return;
    if (code != CLD_EXITED && code != CLD_KILLED && code != CLD_DUMPED) {
        proc_wait_event(parent);    /* a parked waitpid with WUNTRACED / WCONTINUED */
        if (parent->sig.act[SIGCHLD].flags & SA_NOCLDSTOP)
            return;
    }
    sig_send(parent, SIGCHLD, p->pid, code, SIG_WHY_CHILD, 0, 0, status);
}

/* process.c: p has ended with wait status `status`. */
void sig_child_ended(struct proc *p, int status)
{
    int code = (status & 0x7f) == 0 ? CLD_EXITED : (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
    notify_parent(p, code, code == CLD_EXITED ? (status >> 8) & 0xff : status & 0x7f);
}

/* kill(pid, sig) from p (NULL: the console, init). Returns 0 or -errno. */
int sig_kill(struct proc *from, int32_t pid, int sig, int why)
{
    if (sig < 0 || sig >= NSIG_POSIX)
        return -EINVAL;
    int32_t sender = from ? from->pid : (int32_t)me();
    if (pid > 0) {
        struct proc *t = proc_by_pid(pid);
        if (!t || t->zombie)
            return -ESRCH;
        if (sig)
            sig_send(t, sig, sender, SI_USER, why, 0, 0, 0);
        return 0;
    }
    int32_t pgid = pid == 0 ? (from ? from->pgid : 0) : -pid;
    int n = 0;
    for (int i = 0; i < procs_end; i++) {
        struct proc *t = &procs[i];
        if (!t->used || t->zombie)
            continue;
        if (pid == -1 ? (t == from || t->pid <= 1) : t->pgid != pgid)
            continue;
        n++;
        if (sig)
            sig_send(t, sig, sender, SI_USER, why, 0, 0, 0);
    }
    return n ? 0 : -ESRCH;
}

/* ---- timers ---- */

uint64_t sig_next_timer(void)
{
    uint64_t next = 0;
    for (int i = 0; i < procs_end; i++)
        if (procs[i].used && !procs[i].zombie && procs[i].sig.alarm_at && (!next || procs[i].sig.alarm_at < next))
            next = procs[i].sig.alarm_at;
    return next;
}

/* The event loop's tick: expired timers, default actions whose thread never came. */
void sig_poll(void)
{
    uint64_t now = lanes_now_ns();
    for (int i = 0; i < procs_end; i++) {
        struct proc *p = &procs[i];
        if (!p->used || p->zombie)
            continue;
        sig_sync(p);
        if (p->sig.alarm_at && now >= p->sig.alarm_at) {
            p->sig.alarm_id++;
            if (p->sig.alarm_interval) {
                p->sig.alarm_at += p->sig.alarm_interval;
                if (p->sig.alarm_at <= now)
                    p->sig.alarm_at = now + p->sig.alarm_interval;
            } else {
                p->sig.alarm_at = 0;
                st_sig_timers--;
            }
            sig_send(p, SIGALRM, (int32_t)me(), SI_KERNEL, SIG_WHY_ALARM, 0, p->sig.alarm_id, 0);
        }
        /* a signal still pending a while after its thread was told: tell it again — a safety
         * net, counted (SigStats.renotified, printed by sigtests race). Two causes are gone
         * (libc sent posix.SigCancel for a signal request of its own; libc's deliver stopped
         * after 256 rounds); a rare one is left with 4 CPUs: 0-3 per 2,000-4,000 race rounds
         * (os/README.md: "the lost alert") */
        if (p->sig.poked_at == POKED_NOW)
            p->sig.poked_at = now;  /* (at most SIG_POLL_MS, or one idle wait, after the poke) */
        /* a cancellation event raised for a thread still waiting on fs with the 2 a while
         * later: fs never saw it (no event registered there, evicted, a new fs) — alert the
         * thread, which cancels with fs.Cancel itself (counted as a re-notify) */
        for (int k = 0; k < MAX_STHREADS; k++) {
            struct sthread *t = &p->sig.th[k];
            if (!t->tid || !t->page || !t->cev_raised_at)
                continue;
            if (t->cev_raised_at == POKED_NOW) {
                t->cev_raised_at = now;
            } else if (__atomic_load_n(&t->page->flag, __ATOMIC_SEQ_CST) != 2 ||
                       __atomic_load_n(&t->page->away, __ATOMIC_SEQ_CST) != 2) {
                t->cev_raised_at = 0;
            } else if (now - t->cev_raised_at >= LANES_MS(REPOKE_MS)) {
                t->cev_raised_at = 0;
                st_sig_renotified++;
                lanes_sys_thread_alert(p->handle, t->tid, LANES_ALERT_WAIT_ONLY);
            }
        }
        bool pend = p->sig.pending != 0;
        for (int k = 0; k < MAX_STHREADS && !pend; k++)
            pend = p->sig.th[k].pending != 0;
        if (pend && p->sig.poked_at && now - p->sig.poked_at >= LANES_MS(REPOKE_MS)) {
            bool deliverable = false;       /* (not one its thread merely blocks, e.g. during a long handler) */
            for (int k = 0; k < MAX_STHREADS; k++) {
                struct sthread *t = &p->sig.th[k];
                deliverable |= t->tid && t->page && ((p->sig.pending | t->pending) & ~t->mask);
            }
            if (deliverable)
                st_sig_renotified++;
            dispatch(p);
        }
        if (p->used && !p->zombie && p->sig.term_deadline && now >= p->sig.term_deadline) {
            int sig = 0;
            for (int s = 1; s < NSIG_POSIX && !sig; s++)
                if ((p->sig.pending & SIGBIT(s)) && p->sig.act[s].handler == (uint64_t)(uintptr_t)SIG_DFL)
                    sig = s;
            p->sig.term_deadline = 0;
            if (sig)
                terminate(p, sig, 0, 0);
        }
    }
}

/* ---- requests ---- */

static void send_set(int32_t conv, int err, uint64_t set)
{
    struct lane_msg_posix_sig_set r = lanes_msg_posix_sig_set_encode(err, 0, set);
    send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
}

static void req_register(struct proc *p, int32_t conv, uint32_t tid)
{
    int32_t mem = LANES_HANDLE_NONE;
    if (pull_handles(conv, 1, &mem) != 0 || mem == LANES_HANDLE_NONE)
        return reply(conv, -EINVAL);
    struct lane_handle_info hi;
    if (lanes_sys_handle_info(mem, &hi) < 0 || hi.type != LANES_OBJ_MEMORY || hi.size < LANES_PAGE_SIZE || !tid) {
        lanes_sys_handle_close(mem);
        return reply(conv, -EINVAL);
    }
    struct sthread *t = thread_of(p, tid);
    if (!t)
        for (int i = 0; i < MAX_STHREADS && !t; i++)
            if (!p->sig.th[i].tid)
                t = &p->sig.th[i];
    if (!t) {
        lanes_sys_handle_close(mem);
        return reply(conv, -EAGAIN);
    }
    int64_t a = lanes_sys_mem_map(mem, 0, 0, LANES_PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE);
    lanes_sys_handle_close(mem);
    if (a < 0)
        return reply(conv, -ENOMEM);
    bool first = true;
    for (int i = 0; i < MAX_STHREADS; i++)
        first &= !p->sig.th[i].tid || &p->sig.th[i] == t;
    uint64_t mask = first ? p->sig.init_mask : 0, pending = 0;
    if (t->tid) {
        /* registered again (a new page: after execve) — the mask and pending signals stay */
        mask = t->mask;
        pending = t->pending;
        thread_drop(t);
    }
    t->mask = mask & ~UNBLOCKABLE;
    t->pending = pending;
    t->tid = tid;
    t->page = (struct lane_sig_page *)(uintptr_t)a;
    t->suspend_conv = LANES_HANDLE_NONE;
    st_sig_pages++;
    reply(conv, 0);
    dispatch(p);                    /* something may have waited for a thread */
}

static void req_action(struct proc *p, int32_t conv, const struct lane_msg_posix_sig_action *m)
{
    struct lane_msg_posix_sig_action_reply r;
    int sig = m->signo;
    if (sig < 1 || sig >= NSIG_POSIX || (m->set && (sig == SIGKILL || sig == SIGSTOP))) {
        r = lanes_msg_posix_sig_action_reply_encode(-EINVAL, 0, 0, 0);
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
        return;
    }
    struct sigact *a = &p->sig.act[sig];
    r = lanes_msg_posix_sig_action_reply_encode(0, a->flags, a->handler, a->mask);
    if (m->set) {
        a->handler = m->handler;
        a->flags = m->flags;
        a->mask = m->mask & ~UNBLOCKABLE;
        if (ignored(p, sig)) {      /* POSIX: setting SIG_IGN discards the pending one */
            p->sig.pending &= ~SIGBIT(sig);
            for (int i = 0; i < MAX_STHREADS; i++)
                p->sig.th[i].pending &= ~SIGBIT(sig);
        }
    }
    send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
    if (m->set)
        dispatch(p);
}

static uint64_t pending_for(struct proc *p, struct sthread *t)
{
    return p->sig.pending | (t ? t->pending : 0);
}

static void req_mask(struct proc *p, int32_t conv, const struct lane_msg_posix_sig_mask *m)
{
    struct sthread *t = thread_of(p, m->tid);
    if (!t)
        return send_set(conv, m->how == 3 ? 0 : -ESRCH, 0);
    uint64_t old = t->mask;
    switch (m->how) {
    case 0: t->mask |= m->set; break;
    case 1: t->mask &= ~m->set; break;
    case 2: t->mask = m->set; break;
    case 3: break;
    default: return send_set(conv, -EINVAL, 0);
    }
    t->mask &= ~UNBLOCKABLE;
    if (t->mask != old)
        dispatch(p);                /* before the answer: delivered before sigprocmask returns */
    send_set(conv, 0, old);
}

static int next_signal(struct proc *p, struct sthread *t, bool *thread_directed)
{
    uint64_t ready = (p->sig.pending | t->pending) & ~t->mask;
    if (!ready)
        return 0;
    /* SIGKILL/SIGSTOP never get here; lowest number first, as Linux (synchronous ones first) */
    int sig = __builtin_ctzll(ready) + 1;
    *thread_directed = (t->pending & SIGBIT(sig)) != 0;
    return sig;
}

static void req_take(struct proc *p, int32_t conv, const struct lane_msg_posix_sig_take *m)
{
    struct lane_msg_posix_sig_info r = lanes_msg_posix_sig_info_encode(0, 0, 0, 0, 0, 0, 0, 0, 0);
    struct sthread *t = thread_of(p, m->tid);
    struct lane_sig_page *pg = t ? t->page : NULL;
    if (pg && __atomic_load_n(&pg->taken_signo, __ATOMIC_SEQ_CST)) {
        /* taken into the page at alert time (away) after libc looked there: that one is the
         * answer (libc, waiting for it, cannot take it meanwhile); a peek leaves it there */
        r = lanes_msg_posix_sig_info_encode(0, (int32_t)pg->taken_signo, pg->taken_code, pg->taken_pid,
                                            pg->taken_handler, pg->taken_old_mask, pg->taken_flags, pg->taken_status,
                                            pg->taken_value);
        if (m->peek != 1)
            __atomic_store_n(&pg->taken_signo, 0, __ATOMIC_SEQ_CST);
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
        return;
    }
    bool td = false;
    int sig = t ? next_signal(p, t, &td) : 0;
    if (!sig) {
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
        return;
    }
    struct sigact *a = &p->sig.act[sig];
    struct sigq *q = &p->sig.info[sig];
    bool dfl = a->handler == (uint64_t)(uintptr_t)SIG_DFL;
    int what = dfl ? sig_default(sig) : 5;
    r = lanes_msg_posix_sig_info_encode(0, sig, q->code, q->pid, a->handler, t->mask, a->flags, what, q->value);
    if (m->peek == 1 || (m->peek == 2 && dfl)) {    /* (2: take it unless the action is the default) */
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
        return;
    }
    if (!dfl) {
        take_handled(p, t, sig, td, &r);
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
        return;
    }
    if (td)
        t->pending &= ~SIGBIT(sig);
    else
        p->sig.pending &= ~SIGBIT(sig);
    {
        /* (stop, continue and ignore were done at generation; what is left terminates) — the
         * process is killed BEFORE the answer goes out: answered first, the thread (on another
         * CPU) would run on into its next call before the kill lands, as Linux never lets it */
        r.signo = 0;
        terminate(p, sig, t->tid, m->call);
        send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
    }
}

static void req_return(struct proc *p, int32_t conv, const struct lane_msg_posix_sig_return *m)
{
    struct sthread *t = thread_of(p, m->tid);
    if (!t)
        return reply(conv, -ESRCH);
    t->mask = m->mask & ~UNBLOCKABLE;
    if (t->page)                    /* (a lazy one before was applied at our entry: this one is later) */
        __atomic_store_n(&t->page->ret_pending, 0, __ATOMIC_SEQ_CST);
    dispatch(p);                    /* before the answer (the flag rule above) */
    set_held(p, t);
    reply(conv, 0);
}

static void req_suspend(struct proc *p, int32_t conv, const struct lane_msg_posix_sig_suspend *m)
{
    struct sthread *t = thread_of(p, m->tid);
    if (!t)
        return send_set(conv, -ESRCH, 0);
    if (t->suspend_conv != LANES_HANDLE_NONE)
        return send_set(conv, -EBUSY, t->mask);
    uint64_t saved = t->mask;
    if (m->set)
        t->mask = m->mask & ~UNBLOCKABLE;
    bool td;
    if (next_signal(p, t, &td) || flag_of(t) == 2) {
        /* already there: the call's end delivers it — so the flag goes to 2 BEFORE the answer
         * (answered first, the thread on another CPU could end its call, find the flag at 1 and
         * return EINTR without running the handler) */
        if (flag_of(t) != 2) {
            uint32_t one = 1;
            __atomic_compare_exchange_n(&t->page->flag, &one, 2, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
        send_set(conv, -EINTR, saved);
        return;
    }
    int64_t d = lanes_sys_handle_dup(conv, LANES_RIGHT_ALL);
    if (d < 0)
        return send_set(conv, -ENOMEM, saved);
    t->suspend_conv = (int32_t)d;
    t->suspend_saved = saved;
    st_sig_suspended++;
    st_parked++;
}

static void req_cancel(struct proc *p, int32_t conv, const struct lane_msg_posix_sig_cancel *m)
{
    struct sthread *t = thread_of(p, m->tid);
    int n = 0;
    if (t && t->suspend_conv != LANES_HANDLE_NONE) {
        lanes_utrace_cancel_raise(m->call, me(), CANCEL_KIND_LOCAL, m->call, "posix");
        suspend_answer(t);
        n++;
    }
    if (p->wait_conv != LANES_HANDLE_NONE && p->wait_tid == m->tid) {
        lanes_utrace_cancel_raise(m->call, me(), CANCEL_KIND_LOCAL, m->call, "posix");
        n += proc_wait_cancel(p, m->tid);
    }
    st_sig_cancelled += (uint64_t)n;
    if (n)
        lanes_trace_cancel_ack(m->call, st_parked, 0, m->call, "posix");
    reply(conv, n);
}

static void req_alarm(struct proc *p, int32_t conv, const struct lane_msg_posix_alarm *m)
{
    uint64_t now = lanes_now_ns();
    uint64_t left = p->sig.alarm_at > now ? p->sig.alarm_at - now : (p->sig.alarm_at ? 1 : 0);
    struct lane_msg_posix_timer r = lanes_msg_posix_timer_encode(0, 0, left, p->sig.alarm_interval);
    if ((m->which & 0xff) != 0) {
        r.error = -EINVAL;
    } else if (!(m->which & 0x100)) {
        if (p->sig.alarm_at)
            st_sig_timers--;
        p->sig.alarm_at = m->value_ns ? now + m->value_ns : 0;
        p->sig.alarm_interval = m->value_ns ? m->interval_ns : 0;
        if (p->sig.alarm_at)
            st_sig_timers++;
    }
    send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
}

static void stats(int32_t conv)
{
    struct lane_msg_posix_sig_stats s = lanes_msg_posix_sig_stats_encode(
        st_sig_pages, st_sig_timers, st_sig_suspended, st_sig_renotified, st_sig_generated, st_sig_handled, st_sig_cancelled);
    send_msg(conv, &s, sizeof s, LANES_HANDLE_NONE);
}

bool sig_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    union {
        struct lane_msg_posix_sig_register reg;
        struct lane_msg_posix_sig_action act;
        struct lane_msg_posix_sig_mask mask;
        struct lane_msg_posix_sig_pending pend;
        struct lane_msg_posix_sig_take take;
        struct lane_msg_posix_sig_return ret;
        struct lane_msg_posix_sig_suspend sus;
        struct lane_msg_posix_sig_cancel can;
        struct lane_msg_posix_sig_event ev;
        struct lane_msg_posix_alarm alarm;
        struct lane_msg_posix_tkill tk;
        struct lane_msg_posix_sig_counters sc;
    } u;
    sig_sync(p);                    /* (a lazy sigreturn first: these requests come after it) */
    if (lanes_msg_posix_sig_register_decode(m, len, &u.reg) == 0)
        req_register(p, conv, u.reg.tid);
    else if (lanes_msg_posix_sig_action_decode(m, len, &u.act) == 0)
        req_action(p, conv, &u.act);
    else if (lanes_msg_posix_sig_mask_decode(m, len, &u.mask) == 0)
        req_mask(p, conv, &u.mask);
    else if (lanes_msg_posix_sig_pending_decode(m, len, &u.pend) == 0) {
        struct sthread *t = thread_of(p, u.pend.tid);
        send_set(conv, 0, pending_for(p, t) & (t ? t->mask : ~0ull));
        /* (pending = generated and blocked; unblocked ones are delivered, not pending) */
    } else if (lanes_msg_posix_sig_take_decode(m, len, &u.take) == 0)
        req_take(p, conv, &u.take);
    else if (lanes_msg_posix_sig_return_decode(m, len, &u.ret) == 0)
        req_return(p, conv, &u.ret);
    else if (lanes_msg_posix_sig_suspend_decode(m, len, &u.sus) == 0)
        req_suspend(p, conv, &u.sus);
    else if (lanes_msg_posix_sig_cancel_decode(m, len, &u.can) == 0)
        req_cancel(p, conv, &u.can);
    else if (lanes_msg_posix_sig_event_decode(m, len, &u.ev) == 0)
        req_event(p, conv, u.ev.tid);
    else if (lanes_msg_posix_alarm_decode(m, len, &u.alarm) == 0)
        req_alarm(p, conv, &u.alarm);
    else if (lanes_msg_posix_tkill_decode(m, len, &u.tk) == 0) {
        if (u.tk.sig < 0 || u.tk.sig >= NSIG_POSIX)
            return reply(conv, -EINVAL), true;
        if (!thread_of(p, (uint32_t)u.tk.tid))
            return reply(conv, -ESRCH), true;
        if (u.tk.sig)
            sig_send(p, u.tk.sig, p->pid, SI_TKILL, SIG_WHY_KILL, (uint32_t)u.tk.tid, 0, 0);
        reply(conv, 0);
    } else if (lanes_msg_posix_sig_counters_decode(m, len, &u.sc) == 0)
        stats(conv);
    else
        return false;
    return true;
}
