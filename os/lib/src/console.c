/*
 * console.c — the console for programs: over a lane to the console server (os/programs/console)
 * when we have one, else through the kernel. See lanes/console.h for the rules.
 *
 *   write:  offer(ANCILLARY){ send console.Write{n} + n bytes, recv_inline console.Reply }
 *   read:   offer(ANCILLARY){ send console.Read{max, flags}, recv_buffer console.Reply + bytes }
 *
 * Writers and readers use separate completion queues under separate mutexes, so a thread
 * blocked reading never holds up another thread's printf. When a request fails because the
 * server is gone, the bytes go through sys_console_write instead (never lost: the kernel writes
 * them, or keeps them in its log ring for the next server), and the lane is marked dead. Without
 * a live lane, a process that has an mbus lane looks (at most every 100 ms) for the server that
 * holds COM1 now and binds it — its mbus entry carries "claim=N", the kernel's claim count when it
 * took COM1 (sys_console_info), so a stale entry of a dead server is never picked (the mbus
 * client is lanes/mbus.h, mbus.c). A read that the kernel refuses with BUSY (a server took COM1
 * while we waited) rebinds the same way. Nothing written is held back by a restart: a read first
 * flushes the writes in flight (a failed one goes through the kernel then, not after the next
 * keypress), and after writing through the kernel while a server drains its ring, the next
 * request on a lane waits (≤ 1 s) until the ring has been written, so lines keep their order.
 */
#include <lanes/console.h>
#include <lanes/ipc.h>
#include <lanes/mbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALL_TIMEOUT LANES_SEC(20)

static lanes_mutex_t state_lock = LANES_MUTEX_INIT;   /* lane, dead, claim; one reconnect at a time */
static lanes_mutex_t write_lock = LANES_MUTEX_INIT;
static lanes_mutex_t read_lock = LANES_MUTEX_INIT;
static bool inited;
static int32_t con_lane = LANES_HANDLE_NONE, mbus_lane = LANES_HANDLE_NONE;
static bool con_dead;
static struct lanes_queue wq, rq;
static bool wq_ok, rq_ok;
static uint8_t rbuf[8 + LANES_CONSOLE_MAX];              /* under read_lock */

static void init_once(void)
{
    if (__atomic_load_n(&inited, __ATOMIC_ACQUIRE))
        return;
    lanes_mutex_lock(&state_lock);
    if (!inited) {
        con_lane = lanes_handle_by_tag("console");
        mbus_lane = lanes_handle_by_tag("mbus");
        __atomic_store_n(&inited, true, __ATOMIC_RELEASE);
    }
    lanes_mutex_unlock(&state_lock);
}

static bool queue_ready(struct lanes_queue *q, bool *ok)
{
    if (!*ok && lanes_queue_init(q, 8) == 0)
        *ok = true;
    return *ok;
}

int32_t lanes_console_lane(void)
{
    init_once();
    return con_dead ? LANES_HANDLE_NONE : con_lane;
}

/* ---- finding the console server ---- */

int64_t lanes_console_reconnect(uint64_t timeout_ns)
{
    init_once();
    if (mbus_lane == LANES_HANDLE_NONE)
        return LANES_E_NOENT;
    struct lane_console_info info;
    memset(&info, 0, sizeof info);
    lanes_sys_console_info(&info);
    if (info.owner_pid == 0)
        return LANES_E_NOENT;               /* the kernel drives COM1: nobody to bind */
    char filter[64];
    snprintf(filter, sizeof filter, "name=console&claim=%u", info.claims);
    struct lane_msg_mbus_entry e;
    lanes_mutex_lock(&state_lock);
    int64_t r = lanes_mbus_find(mbus_lane, filter, 0, &e);
    if (r == 0)
        r = timeout_ns ? lanes_mbus_await(mbus_lane, filter, 0, timeout_ns, &e) : LANES_E_NOENT;
    else if (r == 1)
        r = 0;
    if (r == 0) {
        r = lanes_mbus_bind(mbus_lane, e.id);
        if (r >= 0) {
            if (con_lane != LANES_HANDLE_NONE)
                lanes_sys_handle_close(con_lane);
            con_lane = (int32_t)r;
            con_dead = false;
            r = 0;
        }
    }
    lanes_mutex_unlock(&state_lock);
    return r;
}

/* Our lane failed: use the kernel until a server can be bound again. */
static void mark_dead(int32_t lane)
{
    lanes_mutex_lock(&state_lock);
    if (con_lane == lane)
        con_dead = true;
    lanes_mutex_unlock(&state_lock);
}

/* The lane to use now, or NONE. Without a live lane (none given, or the server we had ended)
 * and with an mbus lane, we look for the server that holds COM1 now — one sys_console_info, and
 * an mbus lookup at most every 100 ms — so output and input return to a lane after a restart. */
static uint64_t retry_at;

static int32_t current_lane(void)
{
    init_once();
    if (con_lane != LANES_HANDLE_NONE && !con_dead)
        return con_lane;
    if (mbus_lane == LANES_HANDLE_NONE || lanes_now_ns() < retry_at)
        return LANES_HANDLE_NONE;
    retry_at = lanes_now_ns() + LANES_MS(100);
    if (lanes_console_reconnect(0) != 0)
        return LANES_HANDLE_NONE;       /* the kernel drives COM1, or the server is not published yet */
    return con_dead ? LANES_HANDLE_NONE : con_lane;
}

void lanes_console_kernel_only(void)
{
    init_once();
    lanes_mutex_lock(&state_lock);
    con_lane = LANES_HANDLE_NONE;
    mbus_lane = LANES_HANDLE_NONE;
    lanes_mutex_unlock(&state_lock);
}

static bool lane_gone(int64_t r)
{
    return r == LANES_E_END_OF_LANE || r == LANES_E_LANE_SHUTDOWN || r == LANES_E_BADHANDLE ||
           r == LANES_E_TYPE || r == LANES_E_ACCESS || r == LANES_E_TRANSMISSION_MISMATCH ||
           r == LANES_E_DISMISSED || r == LANES_E_TIMEOUT;
}

/* ---- requests ---- */

/* Where our last write through the kernel ends in its log ring, while a server drains that
 * ring (0: nothing outstanding). Under write_lock. */
static uint64_t ring_mark;

static int64_t kernel_write(const uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        int64_t r = lanes_sys_console_write(p + done, len - done);
        if (r <= 0)
            return done ? (int64_t)done : r;
        done += (size_t)r;
    }
    struct lane_console_info ci;
    memset(&ci, 0, sizeof ci);
    if (lanes_sys_console_info(&ci) == 0 && ci.owner_pid != 0)
        ring_mark = ci.produced;
    return (int64_t)done;
}

/* Before a request on a lane: what we wrote through the kernel's ring (a server had ended; the
 * new one drains the ring on another thread) must be on the wire first, or the new server could
 * write our next line before our last one. Waits at most 1 s (a stuck server). */
static void ring_barrier(void)
{
    if (!ring_mark)
        return;
    uint64_t until = lanes_now_ns() + LANES_SEC(1);
    for (;;) {
        struct lane_console_info ci;
        memset(&ci, 0, sizeof ci);
        if (lanes_sys_console_info(&ci) < 0 || ci.owner_pid == 0 || ci.produced - ci.pending >= ring_mark ||
            lanes_now_ns() >= until)
            break;
        lanes_sys_sleep(LANES_MS(1));
    }
    ring_mark = 0;
}

/* Writes are pipelined: up to WSLOTS console.Write requests in flight, each with its own buffer,
 * so printf returns once its request is submitted (the server usually matches it at once: the
 * bytes are in its buffer before the submit returns) and bulk output does not wait a round trip
 * per line. The lane keeps them in order. A failed request (the server ended) is written through
 * the kernel, in order, after every earlier one has completed; exit() flushes (atexit). */
#define WSLOTS 4
struct wslot {
    uint8_t buf[8 + LANES_CONSOLE_MAX];
    size_t n;               /* data bytes */
    uint64_t seq;           /* submission order */
    int state;              /* 0 free, 1 in flight, 2 failed (to write through the kernel) */
};
static struct wslot ws[WSLOTS];                         /* under write_lock */
static uint64_t wseq;
static int inflight;
static bool flush_registered;

static void write_failed_through_kernel(void)
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < WSLOTS; i++)
            if (ws[i].state == 2 && (best < 0 || ws[i].seq < ws[best].seq))
                best = i;
        if (best < 0)
            return;
        kernel_write(ws[best].buf + sizeof(struct lane_msg_console_write), ws[best].n);
        ws[best].state = 0;
    }
}

/* Takes completions until at most max_busy requests are in flight (waiting if needed). */
static void reap_until(int max_busy)
{
    bool failed = false;
    for (;;) {
        const struct lane_ipc_completion *e = lanes_queue_peek(&wq);
        if (!e) {
            if (inflight <= max_busy && !(failed && inflight > 0))
                break;
            int64_t r = lanes_sys_ipc_queue_wait(wq.handle, CALL_TIMEOUT);
            if (r == LANES_E_TIMEOUT) {
                for (int i = 0; i < WSLOTS; i++) {      /* a stuck server: give up on them */
                    if (ws[i].state == 1) {
                        lanes_sys_ipc_cancel(wq.handle, ws[i].seq << 8 | (uint64_t)i);
                    }
                }
            }
            continue;
        }
        struct lane_ipc_completion c;
        memcpy(&c, e, sizeof c);
        lanes_queue_pop(&wq);
        int i = (int)(c.tag & 0xff);
        if (i >= WSLOTS || ws[i].state != 1 || (c.tag >> 8) != ws[i].seq)
            continue;
        inflight--;
        struct lane_msg_console_reply rep;
        if (c.status == 0 && lanes_msg_console_reply_decode(lanes_ipc_data(&c, 2), lanes_ipc_result(&c, 2)->length, &rep) == 0 &&
            rep.error == 0) {
            ws[i].state = 0;
        } else {
            ws[i].state = 2;
            failed = true;
            mark_dead(con_lane);
        }
    }
    if (failed || inflight == 0)
        write_failed_through_kernel();
}

void lanes_console_flush(void)
{
    if (!wq_ok)
        return;
    lanes_mutex_lock(&write_lock);
    reap_until(0);
    lanes_mutex_unlock(&write_lock);
}

int64_t lanes_console_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t done = 0;
    lanes_mutex_lock(&write_lock);
    while (done < len) {
        int32_t lane = current_lane();
        if (lane == LANES_HANDLE_NONE || !queue_ready(&wq, &wq_ok)) {
            if (wq_ok)
                reap_until(0);          /* what is in flight goes first */
            int64_t r = kernel_write(p + done, len - done);
            lanes_mutex_unlock(&write_lock);
            return r < 0 ? (done ? (int64_t)done : r) : (int64_t)(done + (size_t)r);
        }
        if (!flush_registered) {
            flush_registered = true;
            atexit(lanes_console_flush);
        }
        reap_until(WSLOTS - 1);
        if (con_dead)
            continue;                   /* the server ended: the kernel path, in order */
        int i = 0;
        while (ws[i].state != 0)
            i++;
        size_t n = len - done > LANES_CONSOLE_MAX ? LANES_CONSOLE_MAX : len - done;
        struct lane_msg_console_write m = lanes_msg_console_write_encode((uint32_t)n);
        memcpy(ws[i].buf, &m, sizeof m);
        memcpy(ws[i].buf + sizeof m, p + done, n);
        ring_barrier();
        ws[i].n = n;
        ws[i].seq = ++wseq;
        struct lanes_acts b;
        lanes_acts_init(&b);
        lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
        lanes_acts_send(&b, ws[i].buf, sizeof m + n);
        lanes_acts_recv_inline(&b);
        lanes_acts_end(&b);
        int64_t r = lanes_ipc_submit(&wq, lane, &b, ws[i].seq << 8 | (uint64_t)i);
        if (r < 0) {
            ws[i].state = 2;            /* written through the kernel below, in order */
            mark_dead(lane);
            reap_until(0);
        } else {
            ws[i].state = 1;
            inflight++;
        }
        done += n;
    }
    lanes_mutex_unlock(&write_lock);
    return (int64_t)done;
}

int64_t lanes_console_read(void *buf, size_t max, uint64_t timeout_ns)
{
    if (max == 0)
        return 0;
    if (max > LANES_CONSOLE_MAX)
        max = LANES_CONSOLE_MAX;
    /* What we wrote is out before we wait for input (as stdio flushes stdout before reading
     * stdin). A write in flight to a server that then ended is rewritten through the kernel only
     * when its failure is reaped — otherwise at our next write: a prompt would wait for the
     * next keypress. */
    lanes_console_flush();
    lanes_mutex_lock(&read_lock);
    int64_t r;
    for (;;) {
        int32_t lane = current_lane();
        if (lane == LANES_HANDLE_NONE || !queue_ready(&rq, &rq_ok)) {
            r = lanes_sys_console_read(buf, max, timeout_ns);
            if (r == LANES_E_BUSY && mbus_lane != LANES_HANDLE_NONE) {
                /* A server took COM1 while we waited in the kernel: find it, read from it. */
                if (lanes_console_reconnect(LANES_SEC(5)) == 0)
                    continue;
                lanes_sys_sleep(LANES_MS(50));
                r = LANES_E_AGAIN;
            }
            break;
        }
        struct lane_msg_console_read m =
            lanes_msg_console_read_encode((uint32_t)max, timeout_ns == 0 ? LANES_CONSOLE_NONBLOCK : 0);
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
        lanes_acts_send(&b, &m, sizeof m);
        lanes_acts_recv_buffer(&b, rbuf, sizeof rbuf);
        lanes_acts_end(&b);
        r = lanes_ipc_call(&rq, lane, &b, &c, timeout_ns == 0 ? CALL_TIMEOUT : timeout_ns);
        if (r == LANES_E_TIMEOUT || r == LANES_E_INTERRUPTED)
            break;                      /* our wait ended (the server is fine) */
        struct lane_msg_console_reply rep;
        uint32_t got = r == 0 ? lanes_ipc_result(&c, 2)->length : 0;
        if (r == 0 && lanes_msg_console_reply_decode(rbuf, got, &rep))
            r = LANES_E_INVAL;
        if (r == 0) {
            if (rep.error) {
                r = rep.error;
            } else {
                size_t n = rep.count;
                if (n > max || n > got - sizeof rep)
                    n = max < got - sizeof rep ? max : got - sizeof rep;
                memcpy(buf, rbuf + sizeof rep, n);
                r = (int64_t)n;
            }
            break;
        }
        if (!lane_gone(r))
            break;
        mark_dead(lane);
    }
    lanes_mutex_unlock(&read_lock);
    return r;
}

int64_t lanes_console_call(const void *msg, size_t len, void *reply, size_t cap, uint64_t timeout_ns)
{
    int32_t lane = current_lane();
    if (lane == LANES_HANDLE_NONE)
        return LANES_E_NOENT;
    struct lanes_queue q;
    int64_t r = lanes_queue_init(&q, 2);
    if (r < 0)
        return r;
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, msg, len);
    lanes_acts_recv_buffer(&b, reply, cap);
    lanes_acts_end(&b);
    r = lanes_ipc_call(&q, lane, &b, &c, timeout_ns);
    if (r == 0)
        r = lanes_ipc_result(&c, 2)->length;
    lanes_queue_close(&q);
    return r;
}

int64_t lanes_console_mode(uint32_t set, uint32_t clear)
{
    struct lane_msg_console_mode m = lanes_msg_console_mode_encode(set, clear);
    struct lane_msg_console_reply rep;
    int64_t r = lanes_console_call(&m, sizeof m, &rep, sizeof rep, CALL_TIMEOUT);
    if (r < 0)
        return r;
    if (lanes_msg_console_reply_decode(&rep, (size_t)r, &rep))
        return LANES_E_INVAL;
    return rep.error ? rep.error : (int64_t)rep.count;
}

int64_t lanes_console_stats(struct lane_msg_console_stats *out)
{
    struct lane_msg_console_stat m = lanes_msg_console_stat_encode(0);
    int64_t r = lanes_console_call(&m, sizeof m, out, sizeof *out, CALL_TIMEOUT);
    if (r < 0)
        return r;
    return lanes_msg_console_stats_decode(out, (size_t)r, out) ? LANES_E_INVAL : 0;
}

/* In a forked child (fork.c): the completion queues are the parent's (shared memory) — ours
 * come fresh on the next call; the locks are as the forking thread left them: free. */
void __console_fork_child(void)
{
    lanes_mutex_t unlocked = LANES_MUTEX_INIT;
    state_lock = write_lock = read_lock = unlocked;
    if (wq_ok)
        lanes_queue_close(&wq);
    if (rq_ok)
        lanes_queue_close(&rq);
    wq_ok = rq_ok = false;
}
