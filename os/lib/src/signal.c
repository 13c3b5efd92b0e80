/*
 * signal.c — POSIX signals, libc's half (issue 14; the POSIX server's half is
 * os/programs/posix/signal.c, the kernel's generic/sys_signal.c). After Managarm and the FOSDEM
 * talk "Cancelling POSIX syscalls in Managarm":
 *
 *   - Each thread that makes POSIX calls registers a *signal page* with the server (a one-page
 *     MEMORY object both map, struct lane_sig_page): the in-syscall flag is 0 outside a POSIX
 *     call, 1 inside; a signal arriving at 1 makes the server set it to 2 and alert the thread
 *     (kernel thread_alert: its wait ends INTERRUPTED). Leaving the call swaps the flag back to 0
 *     and, if it was 2, delivers the signal (lanes_sc_end).
 *   - Woken with the flag at 2, the thread cancels what it waits for and still takes the real
 *     reply: a request on a passthrough lane by fs.Cancel on that lane (cancel.c), a request to
 *     posix by posix.SigCancel{tid, call} (posix.c posix_call), a sleep by just stopping.
 *   - The outcome follows Linux: EINTR without progress, the partial count with it, the call
 *     restarted after an SA_RESTART handler (read, write, open, waitpid; never nanosleep, pause,
 *     sigsuspend), "raced" when the reply won. sys_end records it, then the handler runs. When
 *     posix stopped our parked call itself (a pipe read, waitpid, sigsuspend) it also took the
 *     signal and wrote it into the page (taken_*): no posix.SigTake then. Likewise when we wait
 *     on another server's lane (page->away, set by cancel.c around the wait: "parked outside
 *     posix"): posix takes the signal when it alerts us, and we only cancel (fs.Cancel).
 *   - A handler's return: posix.SigReturn gives the mask back and dispatches what it lets
 *     through — or, when posix said nothing is pending (page->held 0), the mask is left in the
 *     page for posix to apply before it next looks (the lazy sigreturn: no request at all).
 *   - A signal for a thread outside any POSIX call: the kernel runs our alert entry
 *     (lanes_sig_trampoline below) on the thread's own stack with every register saved
 *     (lane_alert_frame); we ask posix for the signal (posix.SigTake), call the handler with a
 *     siginfo_t and a ucontext_t holding those registers (a handler may change them), tell posix
 *     it returned (posix.SigReturn: the mask comes back) and leave through alert_return.
 * posix keeps dispositions, masks and pending signals, and applies default actions itself.
 * Handlers run with the flag at 0, so a signal can interrupt a handler (nested handlers) and a
 * handler may make POSIX calls of its own.
 */
#include <errno.h>
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/cancel.h>
#include <lanes/ipc.h>
#include <lanes/sigtrace.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "signal_internal.h"
#include "hot.h"

#define MAX_SIGT 64

/* What libc knows of one thread. */
struct sigt {
    uint32_t tid;                   /* 0: a free slot */
    struct lane_sig_page *page;     /* NULL: not registered */
    bool failed;                    /* could not register: this thread gets default actions only */
    int depth;                      /* POSIX calls in progress (posix_spawn reads the image: 2) */
    int hold;                       /* posix.c's lock held (px_lock) */
    bool deferred;                  /* the alert entry came while held: deliver at release */
    bool cancel_sent;               /* the call in flight was cancelled (a lane or posix) */
    uint8_t intr;                   /* the outer call's LANES_SC_* (0: not interruptible) */
    bool q_ok;
    struct lanes_queue q;           /* this thread's own queue for signal requests */
    uint32_t seq;
    uint64_t call;                  /* the outer call in flight */
    stack_t alt;                    /* sigaltstack (ss_size 0: none) */
    int8_t cev_state;               /* the cancellation event: 0 not made, 1 posix has it, -1 failed */
    bool cev_wanted;                /* a wait on a lane was cancelled once: set the event up */
    bool cev_fs;                    /* ... and fs has it (fs.CancelEvent sent) */
    int32_t cev;
    uint64_t cev_req;               /* the cev the outer call's request carried (0: none): a
                                     * page cev_seq past it at the call's end = posix raised it */
};

static struct sigt sigt[MAX_SIGT];
static int fail(int e);
static lanes_mutex_t tlock = LANES_MUTEX_INIT;
extern volatile uint32_t lanes_threads_started;    /* thread.c */
extern bool (*lanes_ipc_interrupt_retry)(void);    /* ipc.c */
void lanes_sig_trampoline(void);

static struct sigt *find_slow(bool create);

/* Our thread's entry (create: a new one if it has none; NULL when full). Called several times per
 * POSIX call, so the common case — a process that never started a thread: the caller is the
 * main thread, slot 0 — is inlined (issue 13: 18 calls per pipe round trip). */
static inline __attribute__((always_inline)) struct sigt *find(bool create)
{
    if (__builtin_expect(!__atomic_load_n(&lanes_threads_started, __ATOMIC_RELAXED) && sigt[0].tid, 1))
        return &sigt[0];
    return find_slow(create);
}

static struct sigt *find_slow(bool create)
{
    if (!__atomic_load_n(&lanes_threads_started, __ATOMIC_RELAXED) && sigt[0].tid)
        return &sigt[0];
    uint32_t tid = (uint32_t)lanes_sys_thread_self();
    for (int i = 0; i < MAX_SIGT; i++)
        if (sigt[i].tid == tid)
            return &sigt[i];
    if (!create)
        return NULL;
    struct sigt *t = NULL;
    lanes_mutex_lock(&tlock);
    for (int i = 0; i < MAX_SIGT && !t; i++)
        if (!sigt[i].tid) {
            t = &sigt[i];
            memset(t, 0, sizeof *t);
            t->tid = tid;
        }
    lanes_mutex_unlock(&tlock);
    return t;
}

static uint32_t pid_self(void) { return (uint32_t)lanes_startup->pid; }

static void flag_set(struct sigt *t, uint32_t v)
{
    if (t->page)
        __atomic_store_n(&t->page->flag, v, __ATOMIC_SEQ_CST);
}

static uint32_t flag_clear(struct sigt *t)
{
    return t->page ? __atomic_exchange_n(&t->page->flag, 0, __ATOMIC_SEQ_CST) : 0;
}

/* In a forked child (posix.c __posix_fork_child): the pages are the parent's (shared memory
 * objects stay shared across fork) and so are the queues' mappings — drop our mappings of them;
 * the child's threads register anew at their next call. The alert entry is inherited. */
static stack_t fork_alt;            /* the forking thread's alternate stack (POSIX: inherited) */

void lanes_sig_before_fork(void)
{
    struct sigt *t = find(false);
    fork_alt = t ? t->alt : (stack_t){ 0, 0, 0 };
}

void lanes_sig_after_fork(void)
{
    for (int i = 0; i < MAX_SIGT; i++) {
        struct sigt *t = &sigt[i];
        if (t->page)
            lanes_sys_mem_unmap(t->page, LANES_PAGE_SIZE);
        if (t->q_ok)
            lanes_queue_close(&t->q);
        memset(t, 0, sizeof *t);
    }
    struct sigt *me = fork_alt.ss_size ? find(true) : NULL;
    if (me)
        me->alt = fork_alt;
}

/* ---- hooks the waits call when interrupted ---- */

/* cancel.c's lanes_lane_call: cancel now? Not when posix already stopped the request itself
 * (a pipe's: page->stopped; its reply is on the way). */
static bool cancel_hook(void)
{
    struct sigt *t = find(false);
    bool yes = t && t->page && __atomic_load_n(&t->page->flag, __ATOMIC_SEQ_CST) == 2 &&
               !__atomic_load_n(&t->page->stopped, __ATOMIC_SEQ_CST);
    if (yes) {
        t->cancel_sent = true;
        t->cev_wanted = true;       /* (lanes_sig_cev: from the next wait on fs on) */
    }
    return yes;
}

/* ipc.c's lanes_ipc_call: an interrupted wait of a registered thread is a signal's alert, not a
 * reason to give the request up (a console write, an fstat must not fail because of it) — except
 * in an interruptible call with the flag at 2 (a console read: withdrawn, nothing consumed). */
static bool retry_hook(void)
{
    struct sigt *t = find(false);
    if (!t || !t->page)
        return false;
    bool give_up = t->intr && __atomic_load_n(&t->page->flag, __ATOMIC_SEQ_CST) == 2;
    if (give_up)
        t->cancel_sent = true;
    return !give_up;
}

/* True only inside an interruptible call: the signal requests libc makes while it delivers
 * (SigTake, SigReturn, the masks; flag at 1, so a signal may make it 2 meanwhile) are never
 * cancelled — a posix.SigCancel sent for one of those lost a signal now and then (os/README.md:
 * "the lost alert"). */
bool lanes_sig_cancel_requested(void)
{
    struct sigt *t = find(false);
    return t && t->page && t->intr && __atomic_load_n(&t->page->flag, __ATOMIC_SEQ_CST) == 2 &&
           !__atomic_load_n(&t->page->stopped, __ATOMIC_SEQ_CST);  /* (posix stopped it itself) */
}

/* cancel.c's lanes_lane_call: the word it sets while it waits (lane_sig_page.away, "parked
 * outside posix") — only in the outer call of an interruptible POSIX call (read, write, open,
 * waitpid...): from that wait to the call's end (lanes_sc_end) the thread makes no request that
 * reads or changes its signal mask (a nested call, e.g. posix_spawn's reads of the image, is
 * followed by posix.Spawn, which copies the mask: not marked), so posix may take a signal for
 * it when it alerts it, exactly as it does for a thread parked in its own work. */
LIBC_HOT static uint32_t *away_hook(void)
{
    struct sigt *t = find(false);
    return t && t->page && t->depth == 1 && t->intr ? &t->page->away : NULL;
}

void lanes_sig_note_cancel(void)
{
    struct sigt *t = find(false);
    if (t)
        t->cancel_sent = true;
}

uint64_t lanes_sig_cur_call(void)
{
    struct sigt *t = find(false);
    return t ? t->call : 0;
}

static struct lanes_queue *queue_of(struct sigt *t);
static int sig_call_push(const void *m, size_t len, int32_t push, uint32_t want, void *rep, size_t cap);

/* ---- registration ---- */

static void reg(struct sigt *t)
{
    t->failed = true;               /* until it worked (and no second try meanwhile) */
    int64_t mem = lanes_sys_mem_create(LANES_PAGE_SIZE, 0);
    if (mem < 0)
        return;
    int64_t a = lanes_sys_mem_map((int32_t)mem, 0, 0, LANES_PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE);
    if (a < 0) {
        lanes_sys_handle_close((int32_t)mem);
        return;
    }
    struct lane_sig_page *pg = (struct lane_sig_page *)(uintptr_t)a;
    pg->tid = t->tid;
    pg->flag = 1;                   /* we are inside a call: a signal from now on only marks 2 */
    struct lane_msg_posix_sig_register m = lanes_msg_posix_sig_register_encode(t->tid, 0);
    struct lane_msg_posix_reply rep;
    t->page = pg;                   /* (hooks see it; posix does once it has the reply sent) */
    int e = sig_call_push(&m, sizeof m, (int32_t)mem, LANES_MSG_POSIX_REPLY, &rep, sizeof rep);
    lanes_sys_handle_close((int32_t)mem);
    if (e < 0) {
        t->page = NULL;
        lanes_sys_mem_unmap((void *)(uintptr_t)a, LANES_PAGE_SIZE);
        return;
    }
    t->failed = false;
    lanes_cancel_on_interrupt = cancel_hook;
    lanes_cancel_current_call = lanes_sig_cur_call;
    lanes_cancel_away_word = away_hook;
    lanes_ipc_interrupt_retry = retry_hook;
    lanes_sys_alert_entry((const void *)(uintptr_t)lanes_sig_trampoline);
}

/* ---- delivery ---- */

static struct lanes_queue *queue_of(struct sigt *t)
{
    if (!t)
        return NULL;
    if (!t->q_ok && lanes_queue_init(&t->q, 4) == 0)
        t->q_ok = true;
    return t->q_ok ? &t->q : NULL;
}

struct lanes_queue *lanes_sig_queue(void) { return queue_of(find(true)); }

/* THE signal request: send posix.Sig* m on this thread's own queue, receive the reply message
 * `want` into rep (cap bytes; every one starts {msg, error}), pushing the handle push with it
 * unless NONE. Returns the reply's error (0 or -errno: rep holds the whole reply), or the
 * exchange's -errno (-EPROTO for a reply that is not `want`; rep is then zeroed). */
static int sig_call_push(const void *m, size_t len, int32_t push, uint32_t want, void *rep, size_t cap)
{
    struct lanes_queue *q = lanes_sig_queue();
    int64_t r = q ? lanes_posix_sig_request(q, m, len, push, rep, cap) : -ENOMEM;
    const struct { uint32_t msg; int32_t error; } *h = rep;
    if (r >= 0 && (r < (int64_t)cap || h->msg != want))
        r = -EPROTO;
    if (r < 0) {
        memset(rep, 0, cap);
        return (int)r;
    }
    return h->error;
}

static int sig_call(const void *m, size_t len, uint32_t want, void *rep, size_t cap)
{
    return sig_call_push(m, len, LANES_HANDLE_NONE, want, rep, cap);
}

/* The talk's per-thread cancellation event, for a request about to wait on fs's lane (posix.c,
 * under its lock): made on the thread's first such request and handed to posix (posix.SigEvent:
 * it raises it instead of alerting us) and to fs (fs.CancelEvent on this lane: fs awaits it for
 * our parked requests) — only once a signal has had the thread cancel a wait on a lane
 * (cev_wanted: a thread no signal ever interrupts there pays nothing; its first cancellation
 * takes the alert + fs.Cancel path). Returns the request's cev (1 + the page's cev_seq, read now — before
 * lanes_lane_call sets away to 2, so any raise after that passes it) and arms lanes_lane_call
 * for away 2; 0 (away 1, the thread cancels with fs.Cancel itself) when this call is not one
 * that may mark away, or the event could not be set up. */
uint64_t lanes_sig_cev(int32_t lane, uint64_t id)
{
    struct sigt *t = find(false);
    if (!t || !t->page || t->depth != 1 || !t->intr || t->cev_state < 0 || !t->cev_wanted)
        return 0;
    if (t->cev_state == 0) {
        t->cev_state = -1;
        int64_t ev = lanes_sys_ipc_event_create(LANES_EVENT_KIND_BITSET);
        if (ev < 0)
            return 0;
        struct lane_msg_posix_sig_event m = lanes_msg_posix_sig_event_encode(t->tid, 0);
        struct lane_msg_posix_reply rep;
        if (sig_call_push(&m, sizeof m, (int32_t)ev, LANES_MSG_POSIX_REPLY, &rep, sizeof rep) < 0) {
            lanes_sys_handle_close((int32_t)ev);
            return 0;
        }
        t->cev = (int32_t)ev;
        t->cev_state = 1;
    }
    if (!t->cev_fs) {
        struct lane_msg_fs_cancel_event m = lanes_msg_fs_cancel_event_encode(t->tid, 0);
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
        lanes_acts_send(&b, &m, sizeof m);
        lanes_acts_push(&b, t->cev, LANES_RIGHT_WAIT | LANES_RIGHT_DUP);
        lanes_acts_end(&b);
        struct lanes_queue *q = queue_of(t);
        if (!q || lanes_ipc_call(q, lane, &b, &c, LANES_SEC(2)) < 0)
            return 0;              /* (tried again at the next request) */
        t->cev_fs = true;
    }
    t->page->away_request = id;
    lanes_cancel_cev_armed = true;
    t->cev_req = 1 + __atomic_load_n(&t->page->cev_seq, __ATOMIC_SEQ_CST);
    return t->cev_req;
}

/* A signal came during the outer call: did posix raise the cancellation event for its request?
 * It counts cev_seq before each raise, so a count past the one the request carried means it did:
 * the server's answer is then a cancelled request's (fs stopped it: its progress or -EINTR), as
 * after our own fs.Cancel. Asked only at such a call's end (posix raises only after it set the
 * flag to 2 for the call whose request waits with away 2, the last to set cev_req), so a call
 * with no signal costs nothing here; a cev_req such a call leaves behind was never raised for. */
static bool cev_raised(struct sigt *t)
{
    uint64_t req = t->cev_req;
    t->cev_req = 0;
    return req && t->page && 1 + (uint64_t)__atomic_load_n(&t->page->cev_seq, __ATOMIC_SEQ_CST) != req;
}

/* posix.SigTake with the flag at 1 meanwhile (a signal arriving then only marks 2). peek: 0 take,
 * 1 only look, 2 take one with a handler, only look at one whose action is the default. */
enum { TAKE = 0, PEEK = 1, TAKE_HANDLED = 2 };
static bool take(struct sigt *t, uint64_t call, uint32_t peek, struct lane_msg_posix_sig_info *si)
{
    struct lane_msg_posix_sig_take m = lanes_msg_posix_sig_take_encode(t->tid, peek, call);
    return sig_call(&m, sizeof m, LANES_MSG_POSIX_SIG_INFO, si, sizeof *si) == 0 && si->signo > 0;
}

/* The signal posix already took for us and wrote into the page (lane_sig_page.taken_*: the
 * thread was parked in posix's own work when the signal came) — what SigTake would answer. */
static bool page_taken(struct lane_sig_page *pg, struct lane_msg_posix_sig_info *si)
{
    *si = lanes_msg_posix_sig_info_encode(0, (int32_t)pg->taken_signo, pg->taken_code, pg->taken_pid, pg->taken_handler,
                                          pg->taken_old_mask, pg->taken_flags, pg->taken_status, pg->taken_value);
    __atomic_store_n(&pg->taken_signo, 0, __ATOMIC_SEQ_CST);
    return si->signo > 0;
}

static const int greg_of[18] = {    /* lane_alert_frame order -> mcontext gregs */
    REG_R15, REG_R14, REG_R13, REG_R12, REG_R11, REG_R10, REG_R9, REG_R8, REG_RBP, REG_RDI, REG_RSI, REG_RDX,
    REG_RCX, REG_RBX, REG_RAX, REG_RIP, REG_EFL, REG_RSP,
};

/* Calls fn(arg) with the stack pointer at top (16-aligned), back on ours afterwards. */
void lanes_sig_call_on(void (*fn)(void *), void *arg, void *top);
__asm__(".text\n"
        ".globl lanes_sig_call_on\n"
        "lanes_sig_call_on:\n"
        "    push %rbp\n"
        "    mov %rsp, %rbp\n"
        "    mov %rdx, %rsp\n"
        "    mov %rdi, %rax\n"
        "    mov %rsi, %rdi\n"
        "    call *%rax\n"
        "    mov %rbp, %rsp\n"
        "    pop %rbp\n"
        "    ret\n");

static bool on_alt(const struct sigt *t)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0), lo = (uintptr_t)t->alt.ss_sp;
    return t->alt.ss_size && sp >= lo && sp < lo + t->alt.ss_size;
}

struct handler_call {
    const struct lane_msg_posix_sig_info *si;
    siginfo_t *info;
    ucontext_t *uc;
};

static void call_handler(void *a)
{
    struct handler_call *h = a;
    if (h->si->flags & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))(uintptr_t)h->si->handler)(h->si->signo, h->info, h->uc);
    else
        ((void (*)(int))(uintptr_t)h->si->handler)(h->si->signo);
}

static int altstack_(const stack_t *ss, stack_t *old)
{
    struct sigt *t = find(true);
    if (!t)
        return fail(ENOMEM);
    bool on = on_alt(t);
    if (old) {
        *old = t->alt;
        old->ss_flags = on ? SS_ONSTACK : t->alt.ss_size ? 0 : SS_DISABLE;
        if (!t->alt.ss_size)
            old->ss_sp = NULL;
    }
    if (!ss)
        return 0;
    if (on)
        return fail(EPERM);                 /* not while a handler runs on it */
    if (ss->ss_flags & ~SS_DISABLE)
        return fail(EINVAL);
    if (ss->ss_flags & SS_DISABLE) {
        memset(&t->alt, 0, sizeof t->alt);
        return 0;
    }
    if (ss->ss_size < MINSIGSTKSZ)
        return fail(ENOMEM);
    t->alt = *ss;
    t->alt.ss_flags = 0;
    return 0;
}

int sigaltstack(const stack_t *ss, stack_t *old) { return altstack_(ss, old); }

/* Runs the handler si names; returns whether more is to be delivered (the flag was 2 after the
 * SigReturn, which leaves the flag at 0). */
static bool run_handler(struct sigt *t, const struct lane_msg_posix_sig_info *si, uint64_t call,
                        struct lane_alert_frame *f)
{
    siginfo_t info;
    ucontext_t uc;
    memset(&info, 0, sizeof info);
    memset(&uc, 0, sizeof uc);
    info.si_signo = si->signo;
    info.si_code = si->code;
    info.si_pid = si->pid;
    info.si_status = si->status;
    info.si_addr = (void *)(uintptr_t)si->value;
    info.si_value.sival_ptr = (void *)(uintptr_t)si->value;
    uc.uc_sigmask = si->old_mask;
    uint64_t *regs = (uint64_t *)f;
    if (f)
        for (int i = 0; i < 18; i++)
            uc.uc_mcontext.gregs[greg_of[i]] = (greg_t)regs[i];
    bool was_on = on_alt(t);
    uc.uc_stack = t->alt;
    uc.uc_stack.ss_flags = was_on ? SS_ONSTACK : t->alt.ss_size ? 0 : SS_DISABLE;
    struct handler_call hc = { si, &info, &uc };
    lanes_utrace_sig_handler(call, pid_self(), t->tid, si->signo, 0, si->handler);
    if ((si->flags & SA_ONSTACK) && t->alt.ss_size && !was_on)     /* SA_ONSTACK: on the alternate stack */
        lanes_sig_call_on(call_handler, &hc, (void *)(((uintptr_t)t->alt.ss_sp + t->alt.ss_size) & ~(uintptr_t)15));
    else
        call_handler(&hc);
    lanes_utrace_sig_handler(call, pid_self(), t->tid, si->signo, 1, si->handler);
    if (f)
        for (int i = 0; i < 18; i++)
            regs[i] = (uint64_t)uc.uc_mcontext.gregs[greg_of[i]];
    if (t->page) {
        /* The lazy sigreturn: the mask to restore goes into the page, and posix applies it
         * before it next looks at our mask (lane_sig_page). Only when posix says nothing is
         * pending for us (held 0; read AFTER ret_pending is set — posix sets held before it
         * reads ret_pending, so one of us sees the other): then the restored mask can let
         * nothing through, and SigReturn's dispatch would have found nothing. Else SigReturn. */
        __atomic_store_n(&t->page->ret_mask, uc.uc_sigmask, __ATOMIC_SEQ_CST);
        __atomic_store_n(&t->page->ret_pending, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&t->page->held, __ATOMIC_SEQ_CST))
            return false;
    }
    flag_set(t, 1);
    struct lane_msg_posix_sig_return m = lanes_msg_posix_sig_return_encode(t->tid, (uint32_t)si->signo, uc.uc_sigmask);
    struct lane_msg_posix_reply rep;
    int e = sig_call(&m, sizeof m, LANES_MSG_POSIX_REPLY, &rep, sizeof rep);
    /* (a signal that came meanwhile, or one the mask now lets through, made the flag 2; a failed
     * SigReturn: ask again to be sure) */
    return flag_clear(t) == 2 || e < 0;
}

/* Delivers what posix has for this thread, one signal after the other, until nothing is left.
 * call = the call these signals interrupted (0: none); f = the registers of an alert entry.
 * No cap on the rounds (as Linux, which runs every pending handler before it returns to user
 * mode): a cap lost signals — a killer that signals again as soon as the handler acknowledged
 * keeps us here, each signal's poke turning the flag to 2 while we ask; at the 256th round we
 * left with the last 2 consumed and the signal pending, and nobody told us again until posix's
 * 200 ms re-notify (the race's "re-notified" count: about 1 per 128 signals in that pattern). */
static void deliver(struct sigt *t, uint64_t call, struct lane_alert_frame *f)
{
    int saved = errno;
    for (;;) {
        struct lane_msg_posix_sig_info si;
        flag_set(t, 1);
        bool got = take(t, call, TAKE, &si);
        if (flag_clear(t) == 2 && !got)
            continue;               /* one came while we asked (its alert found us at 1): ask again */
        if (!got)
            break;
        /* The handler's SigReturn (flag 1) is answered after posix dispatched whatever is
         * deliverable now: anything left for us made the flag 2 — else we are done, without
         * asking again (one request fewer per signal). */
        if (!run_handler(t, &si, call, f))
            break;
    }
    errno = saved;
}

/* The alert entry's C half (lanes_sig_trampoline saved the FPU state; f = every register). */
void lanes_sig_upcall(struct lane_alert_frame *f)
{
    struct sigt *t = find(false);
    if (!t || !t->page)
        return;
    uint32_t expect = 1;
    if (__atomic_compare_exchange_n(&t->page->flag, &expect, 2, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        /* posix saw us outside a call, we have entered one since: treat it as cancellation */
        lanes_utrace_sig_flag(t->call, t->tid, 1, 2, 0);
        return;
    }
    if (expect != 0)
        return;                     /* 2: already marked; the call's end delivers it */
    if (t->hold > 0) {
        t->deferred = true;         /* inside posix.c's lock: lanes_sig_hold delivers at release */
        return;
    }
    deliver(t, 0, f);
}

LIBC_HOT void lanes_sig_hold(int delta)
{
    if (!__atomic_load_n(&lanes_threads_started, __ATOMIC_RELAXED) && !sigt[0].page)
        return;                     /* (no signals registered yet: nothing to hold off) */
    struct sigt *t = find(false);
    if (!t)
        return;
    t->hold += delta;
    if (t->hold == 0 && t->deferred && t->page) {
        t->deferred = false;
        uint32_t one = 1;
        if (t->depth == 0 && __atomic_load_n(&t->page->flag, __ATOMIC_SEQ_CST) == 0)
            deliver(t, 0, NULL);
        else                        /* inside a call: its end delivers */
            __atomic_compare_exchange_n(&t->page->flag, &one, 2, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
}

#define SIG_STR2(x) #x
#define SIG_STR(x) SIG_STR2(x)
/* The alert entry: the kernel enters here with rdi = the saved registers, on the thread's stack
 * below the red zone, as if called (rsp + 8 is 16-aligned). We keep the FPU/SSE state (the
 * handler may use it), call lanes_sig_upcall, and return to the saved registers. */
__asm__(".text\n"
        ".globl lanes_sig_trampoline\n"
        "lanes_sig_trampoline:\n"
        "    mov %rdi, %rbx\n"
        "    sub $520, %rsp\n"
        "    fxsave64 (%rsp)\n"
        "    mov %rbx, %rdi\n"
        "    call lanes_sig_upcall\n"
        "    fxrstor64 (%rsp)\n"
        "    mov %rbx, %rdi\n"
        "    mov $" SIG_STR(LANES_SYS_ALERT_RETURN) ", %eax\n"
        "    syscall\n"
        "    ud2\n");

/* ---- a POSIX call's beginning and end (posix.c wraps every call in these) ---- */

LIBC_HOT void lanes_sc_begin(struct lanes_sc *sc, uint32_t nr, const char *name, int32_t fd, uint64_t arg, int intr)
{
    struct sigt *t = find(true);
    sc->nr = nr;
    sc->intr = (uint8_t)intr;
    sc->arg = arg;
    sc->outer = false;
    sc->call = 0;
    if (!t)
        return;
    sc->call = ((uint64_t)t->tid << 32) | ++t->seq;
    if (t->depth == 0) {
        /* the flag first, then depth: an alert entry in between runs its handlers (and their
         * calls) as if we had not begun yet */
        sc->outer = true;
        if (!t->page && !t->failed && lanes_posix_active())
            reg(t);                 /* leaves the flag at 1 (or 2) */
        if (t->page) {
            uint32_t zero = 0;
            t->page->stopped = 0;
            __atomic_compare_exchange_n(&t->page->flag, &zero, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            t->page->call = sc->call;
        }
        t->cancel_sent = false;
        t->intr = (uint8_t)intr;
        t->call = sc->call;
    }
    t->depth++;
    /* (the kernel follows it with a call_site: the program's line that made this call) */
    lanes_utrace_sys_begin(sc->call, pid_self(), t->tid, nr, fd, arg, name);
}

LIBC_HOT bool lanes_sc_end(struct lanes_sc *sc, int64_t result)
{
    struct sigt *t = find(false);
    uint64_t done = result > 0 ? (uint64_t)result : 0;
    if (!t || !sc->outer) {
        if (t)
            t->depth--;
        lanes_utrace_sys_end(sc->call, pid_self(), t ? t->tid : 0, result, SYS_OUT_COMPLETED, 0, sc->arg, done);
        return false;
    }
    t->depth = 0;
    t->call = 0;
    t->intr = 0;
    if (t->page)
        t->page->call = 0;
    uint32_t old = flag_clear(t);
    if (old != 2) {
        lanes_utrace_sys_end(sc->call, pid_self(), t->tid, result, SYS_OUT_COMPLETED, 0, sc->arg, done);
        return false;
    }
    bool event_cut = cev_raised(t);
    /* A signal came during the call. What is to be delivered first decides the outcome; one
     * with a handler is taken in the same request (TAKE_HANDLED), a default action is only
     * looked at here (posix takes it in deliver: the process ends after our sys_end). */
    int saved = errno;
    struct lane_msg_posix_sig_info pk;
    bool any;
    if (t->page && __atomic_load_n(&t->page->taken_signo, __ATOMIC_SEQ_CST)) {
        /* posix took it when it stopped our parked call, or alerted us parked outside posix
         * (away); one it is still writing is not seen here, but SigTake answers it */
        any = page_taken(t->page, &pk);
    } else {
        flag_set(t, 1);
        any = take(t, sc->call, TAKE_HANDLED, &pk);
        flag_clear(t);              /* (a 2 meanwhile: SigReturn's dispatch or deliver below tells again) */
    }
    bool taken = any && pk.handler != (uint64_t)(uintptr_t)SIG_DFL;
    int outcome = SYS_OUT_RACED;
    bool restart = false;
    if (result == -EINTR) {
        restart = sc->intr == LANES_SC_RESTART && taken && (pk.flags & SA_RESTART);
        outcome = restart ? SYS_OUT_RESTARTED : SYS_OUT_EINTR;
    } else if ((t->cancel_sent || event_cut || (t->page && __atomic_load_n(&t->page->stopped, __ATOMIC_SEQ_CST))) && result >= 0 &&
               sc->arg && (uint64_t)result < sc->arg) {
        outcome = SYS_OUT_PARTIAL;
    }
    lanes_utrace_sys_end(sc->call, pid_self(), t->tid, result, outcome, any ? pk.signo : 0, sc->arg, done);
    if (!taken || run_handler(t, &pk, sc->call, NULL))
        deliver(t, sc->call, NULL);
    errno = saved;
    return restart;
}

/* ---- the calls ---- */

static int fail(int e)
{
    errno = e;
    return -1;
}

#define SIG_CALL(nr, name, arg, intr, body)                                                    \
    struct lanes_sc sc_;                                                                       \
    int r_;                                                                                    \
    do {                                                                                       \
        lanes_sc_begin(&sc_, nr, name, -1, (uint64_t)(arg), intr);                             \
        r_ = (body);                                                                           \
    } while (lanes_sc_end(&sc_, r_ < 0 ? -(int64_t)errno : r_));                               \
    return r_

static uint32_t tid_self(void)
{
    struct sigt *t = find(false);
    return t ? t->tid : (uint32_t)lanes_sys_thread_self();
}

/* A request answered with posix.Reply: its value or -1/errno. */
static int64_t reply_req(const void *m, size_t len)
{
    struct lane_msg_posix_reply rep;
    int e = sig_call(m, len, LANES_MSG_POSIX_REPLY, &rep, sizeof rep);
    return e < 0 ? fail(-e) : rep.value;
}

static int sigaction_(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig < 1 || sig >= NSIG)
        return fail(EINVAL);
    struct lane_msg_posix_sig_action m = lanes_msg_posix_sig_action_encode(
        sig, act ? (uint32_t)act->sa_flags : 0, act ? (uint64_t)(uintptr_t)act->sa_handler : 0, act ? act->sa_mask : 0,
        act ? 1 : 0, 0);
    struct lane_msg_posix_sig_action_reply rep;
    int e = sig_call(&m, sizeof m, LANES_MSG_POSIX_SIG_ACTION_REPLY, &rep, sizeof rep);
    if (e < 0)
        return fail(-e);
    if (old) {
        memset(old, 0, sizeof *old);
        old->sa_handler = (void (*)(int))(uintptr_t)rep.handler;
        old->sa_mask = rep.mask;
        old->sa_flags = (int)rep.flags;
    }
    return 0;
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    SIG_CALL(LANES_MSG_POSIX_SIG_ACTION, "sigaction", sig, 0, sigaction_(sig, act, old));
}

sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction a, o;
    memset(&a, 0, sizeof a);
    a.sa_handler = handler;
    a.sa_flags = SA_RESTART;
    if (sigaction(sig, &a, &o) < 0)
        return SIG_ERR;
    return o.sa_handler;
}

static int mask_(int how, const sigset_t *set, sigset_t *old)
{
    if (set && (how < SIG_BLOCK || how > SIG_SETMASK))
        return fail(EINVAL);
    struct lane_msg_posix_sig_mask m = lanes_msg_posix_sig_mask_encode(tid_self(), set ? (uint32_t)how : 3, set ? *set : 0);
    struct lane_msg_posix_sig_set rep;
    int e = sig_call(&m, sizeof m, LANES_MSG_POSIX_SIG_SET, &rep, sizeof rep);
    if (e < 0)
        return fail(-e);
    if (old)
        *old = rep.set;
    return 0;
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    SIG_CALL(LANES_MSG_POSIX_SIG_MASK, "sigprocmask", how, 0, mask_(how, set, old));
}

int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    return sigprocmask(how, set, old) < 0 ? errno : 0;
}

static int pending_(sigset_t *set)
{
    if (!set)
        return fail(EFAULT);
    struct lane_msg_posix_sig_pending m = lanes_msg_posix_sig_pending_encode(tid_self(), 0);
    struct lane_msg_posix_sig_set rep;
    int e = sig_call(&m, sizeof m, LANES_MSG_POSIX_SIG_SET, &rep, sizeof rep);
    if (e < 0)
        return fail(-e);
    *set = rep.set;
    return 0;
}

int sigpending(sigset_t *set) { SIG_CALL(LANES_MSG_POSIX_SIG_PENDING, "sigpending", 0, 0, pending_(set)); }

/* Waits in posix until a signal is delivered: always EINTR (the handlers run at the call's end,
 * with the temporary mask; then the caller's mask comes back). */
static int suspend_(const sigset_t *mask, sigset_t *saved)
{
    struct lane_msg_posix_sig_suspend m = lanes_msg_posix_sig_suspend_encode(tid_self(), mask ? 1 : 0, mask ? *mask : 0);
    struct lane_msg_posix_sig_set rep;
    int e = sig_call(&m, sizeof m, LANES_MSG_POSIX_SIG_SET, &rep, sizeof rep);
    *saved = rep.set;               /* (the mask before, with any answer of posix's; 0 without one) */
    return fail(e < 0 ? -e : EINTR);
}

static int suspend(const sigset_t *mask, const char *name)
{
    sigset_t saved = 0;
    int r;
    {
        struct lanes_sc sc;
        lanes_sc_begin(&sc, LANES_MSG_POSIX_SIG_SUSPEND, name, -1, mask ? *mask : 0, LANES_SC_INTR);
        r = suspend_(mask, &saved);
        lanes_sc_end(&sc, r < 0 ? -(int64_t)errno : r);
    }
    struct sigt *t = find(false);
    if (mask && t) {                /* the caller's mask again, now that the handlers ran */
        int e = errno;
        struct lane_msg_posix_sig_mask m = lanes_msg_posix_sig_mask_encode(t->tid, SIG_SETMASK, saved);
        struct lane_msg_posix_sig_set rep;
        flag_set(t, 1);             /* (a signal meanwhile only marks 2: our queue is in use) */
        sig_call(&m, sizeof m, LANES_MSG_POSIX_SIG_SET, &rep, sizeof rep);
        if (flag_clear(t) == 2)
            deliver(t, 0, NULL);
        errno = e;
    }
    return r;
}

int sigsuspend(const sigset_t *mask)
{
    if (!mask)
        return fail(EFAULT);
    return suspend(mask, "sigsuspend");
}

int pause(void) { return suspend(NULL, "pause"); }

int killpg(pid_t pgrp, int sig)
{
    if (pgrp <= 1)
        return fail(EINVAL);
    return kill(-pgrp, sig);
}

int lanes_tkill(pid_t tid, int sig)
{
    struct lane_msg_posix_tkill m = lanes_msg_posix_tkill_encode(tid, sig);
    SIG_CALL(LANES_MSG_POSIX_TKILL, "tkill", sig, 0, (int)reply_req(&m, sizeof m));
}

int raise(int sig) { return lanes_tkill((pid_t)lanes_sys_thread_self(), sig); }

static int timer_(uint32_t which, uint64_t value, uint64_t interval, uint64_t *ovalue, uint64_t *ointerval, bool set)
{
    struct lane_msg_posix_alarm m = lanes_msg_posix_alarm_encode(which | (set ? 0 : 0x100), 0, value, interval);
    struct lane_msg_posix_timer rep;
    int e = sig_call(&m, sizeof m, LANES_MSG_POSIX_TIMER, &rep, sizeof rep);
    if (e < 0)
        return fail(-e);
    *ovalue = rep.value_ns;
    *ointerval = rep.interval_ns;
    return 0;
}

static uint64_t tv_ns(const struct timeval *tv) { return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull; }
static void ns_tv(uint64_t ns, struct timeval *tv)
{
    tv->tv_sec = (long)(ns / 1000000000ull);
    tv->tv_usec = (long)((ns % 1000000000ull + 999) / 1000);
    if (tv->tv_usec >= 1000000) {
        tv->tv_sec++;
        tv->tv_usec -= 1000000;
    }
}

static int setitimer_(int which, const struct itimerval *v, struct itimerval *old)
{
    if (which != ITIMER_REAL)
        return fail(which == ITIMER_VIRTUAL || which == ITIMER_PROF ? ENOSYS : EINVAL);
    if (v && (v->it_value.tv_usec < 0 || v->it_value.tv_usec >= 1000000 || v->it_interval.tv_usec < 0 ||
              v->it_interval.tv_usec >= 1000000 || v->it_value.tv_sec < 0 || v->it_interval.tv_sec < 0))
        return fail(EINVAL);
    uint64_t ov, oi;
    if (timer_(0, v ? tv_ns(&v->it_value) : 0, v ? tv_ns(&v->it_interval) : 0, &ov, &oi, v != NULL) < 0)
        return -1;
    if (old) {
        ns_tv(ov, &old->it_value);
        ns_tv(oi, &old->it_interval);
    }
    return 0;
}

int setitimer(int which, const struct itimerval *v, struct itimerval *old)
{
    if (!v)
        return fail(EFAULT);
    SIG_CALL(LANES_MSG_POSIX_ALARM, "setitimer", which, 0, setitimer_(which, v, old));
}

int getitimer(int which, struct itimerval *v)
{
    if (!v)
        return fail(EFAULT);
    SIG_CALL(LANES_MSG_POSIX_ALARM, "getitimer", which, 0, setitimer_(which, NULL, v));
}

unsigned alarm(unsigned seconds)
{
    struct itimerval v, old;
    memset(&v, 0, sizeof v);
    v.it_value.tv_sec = seconds;
    if (setitimer(ITIMER_REAL, &v, &old) < 0)
        return 0;
    return (unsigned)old.it_value.tv_sec + (old.it_value.tv_usec >= 500000 || (!old.it_value.tv_sec && old.it_value.tv_usec));
}

/* ---- sets ---- */

int sigemptyset(sigset_t *s) { *s = 0; return 0; }
int sigfillset(sigset_t *s) { *s = ~0ull; return 0; }
int sigaddset(sigset_t *s, int sig)
{
    if (sig < 1 || sig >= NSIG)
        return fail(EINVAL);
    *s |= 1ull << (sig - 1);
    return 0;
}
int sigdelset(sigset_t *s, int sig)
{
    if (sig < 1 || sig >= NSIG)
        return fail(EINVAL);
    *s &= ~(1ull << (sig - 1));
    return 0;
}
int sigismember(const sigset_t *s, int sig)
{
    if (sig < 1 || sig >= NSIG)
        return fail(EINVAL);
    return (*s >> (sig - 1)) & 1;
}

const char *strsignal(int sig)
{
    static const char *const names[32] = {
        "0", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "PWR", "SYS",
    };
    return sig > 0 && sig < 32 ? names[sig] : "RT";
}
