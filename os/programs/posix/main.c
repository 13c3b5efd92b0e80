/* posix — LaneOS's POSIX server: processes, fds, the VFS and pipes, in user space (after
 * Managarm's posix subsystem).
 *
 * Who talks to whom (os/README.md has the picture):
 *   - init starts fs, then us; we bind fs's root lane through mbus (mounted at "/") and publish
 *     our public lane in mbus as "posix". init adopts the shell on it (posix.Adopt: the shell's
 *     lane to us and its PROCESS handle are pushed).
 *   - Every POSIX process has its own lane to us (tag "posix"); the lane is its identity. libc
 *     (os/lib/src/posix.c) sends one conversation per call: posix.Open, posix.Close, posix.Dup,
 *     posix.Spawn, posix.Wait, ... (os/abi/messages.toml). A process that spawns a child starts
 *     it through the kernel and registers it with posix.Spawn, pushing the child's lane and its
 *     PROCESS handle; the child gets a copy of the parent's fd table.
 *   - An fd's description is a lane: to fs for files (the passthrough lane — read/write/lseek go
 *     to fs without us), to us for pipe ends (pipe.c serves fs.Read/fs.Write on them).
 *   - A process has ended when our accept on its lane fails with END_OF_LANE (exit, kill), or
 *     when its PROCESS handle says it faulted (polled every POLL_MS while processes live): its
 *     fds are closed, its parked requests dropped, it becomes a zombie until waited for.
 *
 * One thread and one completion queue (Q) for every accept; replies go through SQ. Requests that
 * must wait (waitpid, a pipe read with no data, a pipe write with no room) are parked: we keep
 * the conversation and answer it later. Malformed or truncated requests get EPROTO (or E2BIG
 * when longer than REQ_MAX), never a crash; posix.GetCounters reports live figures that tests
 * compare before and after.
 */
#include "posix.h"
#include <lanes/console.h>
#include <lanes/mbus.h>

#define POLL_MS 50
#define SIG_POLL_MS 10
#define IDLE_MS 1           /* a poll found due after a request waits this long for an idle moment */

struct lanes_queue Q, SQ;
uint64_t st_served, st_malformed;
uint32_t st_parked;

static int32_t public_lane;
static uint8_t public_buf[REQ_MAX];

int64_t send_msg(int32_t conv, const void *msg, size_t len, int32_t push)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_send(&b, msg, len);
    if (push != LANES_HANDLE_NONE)
        lanes_acts_push(&b, push, LANES_RIGHT_ALL);
    return lanes_ipc_call(&SQ, conv, &b, &c, LANES_SEC(2));
}

void reply(int32_t conv, int64_t err_or_value)
{
    struct lane_msg_posix_reply r = lanes_msg_posix_reply_encode(err_or_value < 0 ? (int32_t)err_or_value : 0,
                                                                 err_or_value < 0 ? 0 : err_or_value);
    send_msg(conv, &r, sizeof r, LANES_HANDLE_NONE);
}

static uint8_t out_buf[CHUNK + 64];

void reply_data(int32_t conv, int64_t err_or_value, const void *data, size_t n)
{
    struct lane_msg_posix_reply r = lanes_msg_posix_reply_encode(err_or_value < 0 ? (int32_t)err_or_value : 0,
                                                                 err_or_value < 0 ? 0 : err_or_value);
    memcpy(out_buf, &r, sizeof r);
    if (n)
        memcpy(out_buf + sizeof r, data, n);
    send_msg(conv, out_buf, sizeof r + n, LANES_HANDLE_NONE);
}

/* Takes n handles the client pushed after its request (they wait on the conversation). */
int64_t pull_handles(int32_t conv, int n, int32_t *out)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    for (int i = 0; i < n; i++)
        lanes_acts_pull(&b);
    c.nresults = 0;
    int64_t r = lanes_ipc_call(&SQ, conv, &b, &c, LANES_SEC(2));
    for (int i = 0; i < n; i++)
        out[i] = (int)c.nresults > i && lanes_ipc_result(&c, (uint32_t)i)->error == 0 ? lanes_ipc_result(&c, (uint32_t)i)->handle
                                                                                 : LANES_HANDLE_NONE;
    if (r == 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (out[i] != LANES_HANDLE_NONE)
            lanes_sys_handle_close(out[i]);
    return r;
}

static void post_accept(int32_t lane, uint8_t *buf, uint64_t tag)
{
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_accept(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_recv_buffer(&b, buf, REQ_MAX);
    lanes_acts_end(&b);
    int64_t r = lanes_ipc_submit(&Q, lane, &b, tag);
    if (r < 0)
        printf("posix: cannot accept on lane %d: %s\n", lane, lanes_ipc_strerror(r));
}

/* The accept that follows a served request, left for the loop's wait (ipc_submit_wait: the post
 * and the wait in one system call, one less per request): at most one, posted before anything
 * else can run (housekeeping, or a completion already in the queue). */
static struct {
    bool due;
    uint32_t index, gen;
} deferred;

static void accept_acts(struct lanes_acts *b, uint8_t *buf)
{
    lanes_acts_init(b);
    lanes_acts_accept(b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_recv_buffer(b, buf, REQ_MAX);
    lanes_acts_end(b);
}

/* The deferred accept's process, still the one it was for (NULL: nothing to post). */
static struct proc *deferred_proc(void)
{
    if (!deferred.due)
        return NULL;
    deferred.due = false;
    struct proc *p = &procs[deferred.index];
    return p->used && !p->zombie && p->gen == deferred.gen ? p : NULL;
}

static void flush_deferred(void)
{
    struct proc *p = deferred_proc();
    if (p)
        post_proc_accept(p);
}

/* Waits up to wait for the next completion into *c, posting the deferred accept in the same
 * system call when the queue is empty. */
static bool next_completion(struct lane_ipc_completion *c, uint64_t wait)
{
    struct proc *p = deferred.due && !lanes_queue_peek(&Q) ? deferred_proc() : NULL;
    if (p) {
        struct lanes_acts b;
        accept_acts(&b, p->buf);
        int64_t r = lanes_ipc_submit_wait(&Q, p->lane, &b, make_tag(TAG_PROC, p->gen, (uint32_t)(p - procs)), wait);
        if (r < 0 && r != LANES_E_TIMEOUT && r != LANES_E_INTERRUPTED && r != LANES_E_ALERTED)
            printf("posix: cannot accept on lane %d: %s\n", p->lane, lanes_ipc_strerror(r));
        return lanes_queue_next(&Q, c, 0) == 0;
    }
    flush_deferred();
    return lanes_queue_next(&Q, c, wait) == 0;
}

void post_proc_accept(struct proc *p)
{
    post_accept(p->lane, p->buf, make_tag(TAG_PROC, p->gen, (uint32_t)(p - procs)));
}

/* The handles we hold for processes, descriptions, pipes and /sys files (counted in
 * posix.Counters; proc_new keeps room below the kernel's table size with it). */
uint32_t handles_held(uint32_t *np, uint32_t *nz)
{
    uint32_t handles = 0;
    *np = *nz = 0;
    for (int i = 0; i < procs_end; i++) {
        if (!procs[i].used)
            continue;
        (*np)++;
        *nz += procs[i].zombie;
        handles += (procs[i].lane != LANES_HANDLE_NONE) + (procs[i].handle != LANES_HANDLE_NONE);
    }
    return handles + st_descs + 4 * st_pipes + st_sysfiles + st_syscaps;
}

static void counters(int32_t conv)
{
    uint32_t np, nz;
    uint32_t handles = handles_held(&np, &nz);
    struct lane_msg_posix_counters c =
        lanes_msg_posix_counters_encode(np, nz, st_descs, st_pipes, handles, st_parked, st_served,
                                        st_malformed);
    send_msg(conv, &c, sizeof c, LANES_HANDLE_NONE);
}

/* A request on a process's lane: each family says whether it was one of its own. */
static void proc_dispatch(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_posix_get_counters gc;
    struct lane_msg_posix_crash cr;
    if (lanes_msg_posix_crash_decode(m, len, &cr) == 0 && cr.code == 0xc0) {
        /* os-test's supervision test: fault with processes, pipes and parked requests live, as a
         * bug would; init reports it and restarts us and the shell */
        printf("posix: crashing on purpose (posix.Crash from pid %d)\n", p->pid);
        lanes_console_flush();
        static volatile uintptr_t nowhere = 0;
        *(volatile int *)nowhere = 1;
    }
    if (fd_request(p, conv, m, len) || vfs_request(p, conv, m, len) || proc_request(p, conv, m, len) ||
        tty_request(p, conv, m, len) || forkexec_request(p, conv, m, len) || sig_request(p, conv, m, len))
        return;
    if (lanes_msg_posix_get_counters_decode(m, len, &gc) == 0)
        return counters(conv);
    st_malformed++;
    reply(conv, -EPROTO);
}

static void complete(const struct lane_ipc_completion *c)
{
    uint32_t type = (uint32_t)(c->tag >> 56), gen = (uint32_t)(c->tag >> 24) & 0xffffff;
    uint32_t index = (uint32_t)(c->tag & 0xffffff);
    if (type == TAG_PIPE) {
        pipe_complete(index, gen, c);
        return;
    }
    if (type == TAG_PROCFS) {
        procfs_complete(index, gen, c);
        return;
    }
    if (type == TAG_SYS) {
        sysfs_complete(index, gen, c);      /* a file under /sys (sysfs.c) */
        return;
    }
    int32_t conv = c->nresults > 0 ? lanes_ipc_result(c, 0)->handle : LANES_HANDLE_NONE;
    const struct lane_ipc_result *rr = lanes_ipc_result(c, 1);
    bool got = conv >= 0 && c->nresults > 1 && rr->error == 0;
    if (type == TAG_PUBLIC) {
        if (conv >= 0) {
            st_served++;
            if (got && !tty_public_request(conv, public_buf, rr->length))
                req_adopt(conv, public_buf, rr->length);
            else
                reply(conv, rr->error == LANES_E_BUFFER_TOO_SMALL ? -E2BIG : -EPROTO);
            lanes_sys_handle_close(conv);
        } else {
            lanes_sys_sleep(LANES_MS(10));
        }
        post_accept(public_lane, public_buf, c->tag);
        return;
    }
    if (type != TAG_PROC || index >= MAX_PROCS)
        return;
    struct proc *p = &procs[index];
    if (!p->used || p->zombie || p->gen != gen) {
        if (conv >= 0)
            lanes_sys_handle_close(conv);
        return;
    }
    if (conv < 0) {
        if (c->status == LANES_E_END_OF_LANE || c->status == LANES_E_LANE_SHUTDOWN)
            proc_ended(p);          /* its last handle to us is gone: it has ended */
        else
            post_proc_accept(p);
        return;
    }
    st_served++;
    if (!got) {
        st_malformed++;
        reply(conv, rr->error == LANES_E_BUFFER_TOO_SMALL ? -E2BIG : -EPROTO);
    } else {
        proc_dispatch(p, conv, p->buf, rr->length);
    }
    lanes_sys_handle_close(conv);
    if (p->used && !p->zombie && p->gen == gen) {
        flush_deferred();           /* (one at a time) */
        deferred.due = true;        /* posted by the loop's wait: next_completion */
        deferred.index = index;
        deferred.gen = gen;
    }
}

int main(void)
{
    if (lanes_queue_init(&Q, QUEUE_SLOTS) < 0 || lanes_queue_init(&SQ, 4) < 0) {
        printf("posix: no memory for completion queues\n");
        return 2;
    }
    int r = vfs_init();
    if (r < 0) {
        printf("posix: no file system to mount at /: %s\n", strerror(-r));
        return 3;
    }
    int32_t s[2];
    if (lanes_stream(s) < 0)
        return 4;
    public_lane = s[1];
    post_accept(public_lane, public_buf, make_tag(TAG_PUBLIC, 0, 0));
    int32_t mbus = lanes_handle_by_tag("mbus");
    uint64_t id;
    int64_t pr = mbus == LANES_HANDLE_NONE ? LANES_E_NOENT : lanes_mbus_publish(mbus, "posix", "class=posix", s[0], &id);
    if (pr != 0) {
        printf("posix: cannot publish in mbus: %s\n", lanes_ipc_strerror(pr));
        return 5;
    }
    lanes_sys_handle_close(s[0]);
    uint64_t polled = lanes_now_ns(), sig_polled = polled, now = polled, due_since = 0;
    for (;;) {
        struct lane_ipc_completion c;
        /* (now: read after the last request, or after the polls if they ran — one clock read
         * per request, not two) */
        uint64_t wait = LANES_MS(POLL_MS), timer = sig_next_timer();
        if (timer)
            wait = timer <= now ? 0 : (timer - now < wait ? timer - now : wait);
        if (due_since && wait > LANES_MS(IDLE_MS))
            wait = LANES_MS(IDLE_MS);
        bool got = next_completion(&c, wait);
        if (got)
            complete(&c);
        /* interval timers, default actions whose thread never came, the re-notify: all timed,
         * so not after every request (a busy stream of requests would pay a walk of the process
         * table and a clock read each) — when the wait ended empty, a timer is due, or every
         * SIG_POLL_MS; proc_poll every POLL_MS.
         * Housekeeping waits for an idle moment: a request that finds a poll due (not a timer)
         * leaves it for when no request came for IDLE_MS (the next wait is that short), at most
         * SIG_POLL_MS late (a server never idle polls then). On one CPU a poll right after a
         * request delays whoever that request woke: a kill()'s target paid sig_poll's walk of
         * the process table and proc_poll's process_wait per process (~1,000-3,000 instr.). */
        now = lanes_now_ns();
        bool timer_due = timer && now >= timer;
        bool sig_due = !got || timer_due || now - sig_polled >= LANES_MS(SIG_POLL_MS);
        bool proc_due = now - polled >= LANES_MS(POLL_MS);
        if (got && !timer_due && (sig_due || proc_due)) {
            if (!due_since)
                due_since = now;
            if (now - due_since < LANES_MS(SIG_POLL_MS))
                sig_due = proc_due = false;
        }
        if (!sig_due && !proc_due)
            continue;
        flush_deferred();           /* (housekeeping may end the process it was for) */
        due_since = 0;
        if (sig_due) {
            sig_poll();
            sig_polled = now;
        }
        if (proc_due) {
            proc_poll();            /* a faulted process keeps its lanes: ask the kernel */
            polled = lanes_now_ns();
        }
        now = lanes_now_ns();
    }
}
