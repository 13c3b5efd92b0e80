/* wait.c — the fs server's requests that wait, and the files that make them: /dev/slow (bytes
 * trickle out at a rate), FIFOs (mkfifo), /dev/fsstat (these figures as text). Every waiting
 * request can be cancelled with fs.Cancel on its own lane (issue 14; client side:
 * os/lib/src/cancel.c, <lanes/cancel.h>).
 *
 * A request that cannot be answered at once is parked in `waits`: we keep (a duplicate of) its
 * conversation and answer it later — once, from exactly one of these places:
 *   - the work finished (wait_tick for /dev/slow, pump for FIFOs),
 *   - fs.Cancel{id} arrived on the same lane: the progress so far (bytes read or written) or
 *     -EINTR when there was none; a cancel naming no parked request (answered already, or a
 *     stale id) is counted as "late" and otherwise ignored,
 *   - the thread's cancellation event fired (the talk's: a request carrying cev is parked with
 *     an await on the event its thread registered with fs.CancelEvent, past the sequence cev - 1;
 *     posix raises it when a signal comes for that thread while it waits here): the same as
 *     fs.Cancel{id}, without the thread waking to send it; the await is cancelled when the
 *     request is answered otherwise,
 *   - the description went away (every handle to its lane closed): the conversation is just
 *     closed, nobody is left to answer.
 * `st_live` is the number parked right now; /dev/fsstat shows it, and tests check it returns
 * to zero.
 *
 * /dev/slow: an endless text, line L (32 bytes) = "slow line %06u: 0123456789abc\n" — so a
 * reader can check that no byte was lost or repeated. Each open description has its own rate,
 * by default 10 bytes every 100 ms; writing "BYTES MS" (optionally followed by " whole") to the
 * description sets it. A read waits until it has a whole line (or, with "whole", everything it
 * asked for), so `cat /dev/slow` prints a line about every 320 ms.
 *
 * FIFOs: made by fs.Mkdir with S_IFIFO in the mode (mkfifo). FIFO_CAP bytes, writes of at most
 * FIFO_ATOMIC bytes go in whole; reads take what is there, wait while a writer exists, EOF
 * otherwise; writes with no reader fail EPIPE. Opening does not block here (the open request
 * goes through posix, which must not wait); libc then sends fs.OpenWait on the new lane, which
 * waits until the other end is open — cancellable like any other request. Between the two steps
 * the other end may open, do its work and close (fifo_basic's writer: its own OpenWait answered
 * by our open, write, close), so OpenWait waits only while the other end has not been open at
 * any moment since this description was opened (f->fifo_met, or a change in the count of that
 * end's opens — Linux's fifo_open counts partners the same way); waiting for "open now" parked
 * such an open forever (canceltests fifo_open_gone).
 */
#include "fs.h"
#include <lanes/cancel.h>

#define MAX_WAIT 256
#define FIFO_CAP 16384
#define FIFO_ATOMIC 4096
#define SLOW_LINE 32

enum { W_SLOW = 1, W_FIFO_READ = 2, W_FIFO_WRITE = 3, W_OPEN = 4 };

struct fifo {
    uint8_t buf[FIFO_CAP];
    uint32_t head, count;
    uint32_t readers, writers;      /* open descriptions per end (O_RDWR counts in both) */
    uint64_t reader_opens, writer_opens;    /* opens of each end ever (while the FIFO has an end) */
};

struct wait {
    bool used;
    uint8_t op;
    int file;
    uint16_t gen;
    int32_t conv;
    uint64_t id, call;
    uint64_t seq;                   /* arrival order */
    uint64_t want, done;
    uint8_t *data;                  /* W_SLOW: the bytes so far; W_FIFO_WRITE: the bytes to write */
    uint64_t next_ns;               /* W_SLOW: when the next bytes come */
    uint64_t cev_tag;               /* awaiting its thread's cancellation event with this tag (0: not) */
    int cev_slot;
};

/* The threads' cancellation events (fs.CancelEvent), one slot per tid modulo CEV_SLOTS; a thread
 * whose slot another took loses only the fast path (posix's safety net alerts it after
 * REPOKE_MS and it sends fs.Cancel). */
#define CEV_SLOTS 64
static struct {
    uint32_t tid;                   /* 0: free */
    int32_t ev;
} cevs[CEV_SLOTS];

static struct wait waits[MAX_WAIT];
static uint64_t next_seq;
static int nslow;                   /* parked W_SLOW reads: wait_tick has nothing to do without one */
uint32_t st_live;
static uint64_t st_waited, st_cancelled, st_late, st_slow_bytes, st_cev;

int dev_seed(void)
{
    int r = fs_mkdir("/dev", 4, 0755);
    if (r < 0 && r != -EEXIST)
        return r;
    int err;
    struct node *dev = walk("/dev", 4, NULL, NULL, NULL, &err);
    if (!dev)
        return -ENOENT;
    struct node *slow = node_new(dev, "slow", 4, S_IFCHR | 0666);
    struct node *st = node_new(dev, "fsstat", 6, S_IFCHR | 0444);
    if (!slow || !st)
        return -ENOMEM;
    slow->dev = DEV_SLOW;
    st->dev = DEV_FSSTAT;
    return 0;
}

/* ---- parking ---- */

static void cev_await(struct wait *w, uint64_t cev);

static struct wait *park(int i, int32_t conv, uint8_t op, uint64_t id, uint64_t call, uint64_t want, uint64_t cev)
{
    struct wait *w = NULL;
    for (int k = 0; k < MAX_WAIT && !w; k++)
        if (!waits[k].used)
            w = &waits[k];
    if (!w)
        return NULL;
    int64_t d = lanes_sys_handle_dup(conv, LANES_RIGHT_ALL);
    if (d < 0)
        return NULL;
    memset(w, 0, sizeof *w);
    w->used = true;
    w->op = op;
    w->file = i;
    w->gen = of[i].gen;
    w->conv = (int32_t)d;
    w->id = id;
    w->call = call;
    w->seq = next_seq++;
    w->want = want;
    if (op == W_SLOW)
        nslow++;
    st_live++;
    st_waited++;
    cev_await(w, cev);
    return w;
}

static void unpark(struct wait *w)
{
    if (w->cev_tag)                 /* (its CANCELLED completion is ignored: cev_fired) */
        lanes_sys_ipc_cancel(fs_queue, w->cev_tag);
    w->cev_tag = 0;
    lanes_sys_handle_close(w->conv);
    free(w->data);
    w->data = NULL;
    w->used = false;
    if (w->op == W_SLOW)
        nslow--;
    st_live--;
}

static void answer(struct wait *w, int64_t v, const void *data, size_t n)
{
    reply(w->conv, v, data, n);
    unpark(w);
}

/* The oldest parked request of op on node n (NULL: none). */
static struct wait *oldest(struct node *n, uint8_t op)
{
    struct wait *best = NULL;
    for (int k = 0; k < MAX_WAIT; k++) {
        struct wait *w = &waits[k];
        if (w->used && w->op == op && of[w->file].node == n && (!best || w->seq < best->seq))
            best = w;
    }
    return best;
}

/* ---- /dev/slow ---- */

static uint8_t slow_byte(uint64_t off)
{
    static char line[SLOW_LINE + 1];
    static uint64_t cached = ~0ull;
    uint64_t l = off / SLOW_LINE;
    if (l != cached) {
        snprintf(line, sizeof line, "slow line %06u: 0123456789abc\n", (unsigned)(l % 1000000));
        cached = l;
    }
    return (uint8_t)line[off % SLOW_LINE];
}

/* Moves one period's bytes into w; true when the read is complete. */
static bool slow_step(struct wait *w)
{
    struct ofile *f = &of[w->file];
    uint32_t k = 0;
    while (k < f->slow_bytes && w->done < w->want) {
        uint8_t b = slow_byte(f->off++);
        w->data[w->done++] = b;
        k++;
        st_slow_bytes++;
        if (b == '\n' && !f->slow_whole)
            return true;
    }
    return w->done == w->want;
}

/* "BYTES MS [whole]": sets this description's rate. */
static int64_t slow_control(struct ofile *f, const uint8_t *p, uint64_t n)
{
    char t[64];
    if (n == 0 || n >= sizeof t)
        return -EINVAL;
    memcpy(t, p, n);
    t[n] = 0;
    char *e;
    long b = strtol(t, &e, 10);
    if (e == t || *e != ' ')
        return -EINVAL;
    char *s = e;
    long ms = strtol(s, &e, 10);
    if (e == s || b < 1 || b > CHUNK || ms < 1 || ms > 10000)
        return -EINVAL;
    while (*e == ' ')
        e++;
    bool whole = strncmp(e, "whole", 5) == 0;
    if (whole)
        e += 5;
    while (*e == ' ' || *e == '\n')
        e++;
    if (*e)
        return -EINVAL;
    f->slow_bytes = (uint32_t)b;
    f->slow_ms = (uint32_t)ms;
    f->slow_whole = whole;
    return (int64_t)n;
}

uint64_t wait_tick(void)
{
    if (nslow == 0)
        return LANES_TIMEOUT_INFINITE;      /* (runs before every request: no clock, no scan) */
    uint64_t now = lanes_now_ns(), next = LANES_TIMEOUT_INFINITE;
    for (int k = 0; k < MAX_WAIT; k++) {
        struct wait *w = &waits[k];
        if (!w->used || w->op != W_SLOW)
            continue;
        while (w->used && now >= w->next_ns) {
            w->next_ns += LANES_MS(of[w->file].slow_ms);
            if (slow_step(w))
                answer(w, (int64_t)w->done, w->data, w->done);
        }
        if (w->used && w->next_ns - now < next)
            next = w->next_ns - now;
    }
    return next;
}

/* ---- FIFOs ---- */

static uint32_t fifo_room(struct fifo *q) { return FIFO_CAP - q->count; }

static void fifo_put(struct fifo *q, const uint8_t *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        q->buf[(q->head + q->count + i) % FIFO_CAP] = src[i];
    q->count += n;
}

static void fifo_give(struct fifo *q, int32_t conv, uint64_t want, struct wait *w)
{
    static uint8_t tmp[CHUNK];
    uint32_t n = q->count < want ? q->count : (uint32_t)want;
    if (n > CHUNK)
        n = CHUNK;
    for (uint32_t i = 0; i < n; i++)
        tmp[i] = q->buf[(q->head + i) % FIFO_CAP];
    q->head = (q->head + n) % FIFO_CAP;
    q->count -= n;
    if (w)
        answer(w, n, tmp, n);
    else
        reply(conv, n, tmp, n);
}

/* How many bytes of a len-byte write (done so far) can go in now. */
static uint32_t fifo_fits(struct fifo *q, uint64_t len, uint64_t done)
{
    uint64_t left = len - done;
    if (len <= FIFO_ATOMIC)
        return fifo_room(q) >= left ? (uint32_t)left : 0;
    return (uint32_t)(fifo_room(q) < left ? fifo_room(q) : left);
}

/* True when f's fs.OpenWait need not wait: the other end is open, or was open at some moment
 * since f was opened (it may have closed again before the OpenWait came). */
static bool open_met(const struct ofile *f, const struct fifo *q)
{
    uint32_t acc = f->flags & O_ACCMODE;
    if (acc == O_RDWR || f->fifo_met)
        return true;
    if (acc == O_RDONLY)
        return q->writers > 0 || q->writer_opens != f->fifo_peer_opens;
    return q->readers > 0 || q->reader_opens != f->fifo_peer_opens;
}

/* Moves what can move: waiting writers in, data out to waiting readers, opens through. */
static void pump(struct node *n)
{
    struct fifo *q = n->fifo;
    if (!q)
        return;
    for (int k = 0; k < MAX_WAIT; k++) {
        struct wait *w = &waits[k];
        if (w->used && w->op == W_OPEN && of[w->file].node == n && open_met(&of[w->file], q))
            answer(w, 0, NULL, 0);
    }
    bool moved = true;
    while (moved) {
        moved = false;
        for (struct wait *w; (w = oldest(n, W_FIFO_WRITE)) != NULL;) {
            if (q->readers == 0) {
                answer(w, w->done ? (int64_t)w->done : -EPIPE, NULL, 0);
                continue;
            }
            uint32_t k = fifo_fits(q, w->want, w->done);
            if (k == 0)
                break;
            fifo_put(q, w->data + w->done, k);
            w->done += k;
            moved = true;
            if (w->done == w->want)
                answer(w, (int64_t)w->want, NULL, 0);
        }
        for (struct wait *w; (w = oldest(n, W_FIFO_READ)) != NULL;) {
            if (q->count == 0) {
                if (q->writers > 0)
                    break;
                answer(w, 0, NULL, 0);      /* EOF */
                continue;
            }
            fifo_give(q, w->conv, w->want, w);
            moved = true;
        }
    }
}

static void fifo_request(int i, int32_t conv, const uint8_t *req, uint32_t len)
{
    struct ofile *f = &of[i];
    struct node *n = f->node;
    struct fifo *q = n->fifo;
    uint32_t acc = f->flags & O_ACCMODE;
    bool nonblock = f->flags & O_NONBLOCK;
    struct lane_msg_fs_read rd;
    struct lane_msg_fs_write wr;
    struct lane_msg_fs_open_wait ow;
    if (lanes_msg_fs_open_wait_decode(req, len, &ow) == 0) {
        if (open_met(f, q))
            return reply(conv, 0, NULL, 0);
        if (nonblock)
            return reply(conv, acc == O_WRONLY ? -ENXIO : 0, NULL, 0);
        if (!park(i, conv, W_OPEN, ow.id, ow.call, 0, ow.cev))
            return reply(conv, -ENOMEM, NULL, 0);
        return;
    }
    if (lanes_msg_fs_read_decode(req, len, &rd) == 0) {
        if (acc == O_WRONLY)
            return reply(conv, -EBADF, NULL, 0);
        uint64_t want = rd.size > CHUNK ? CHUNK : rd.size;
        if (want == 0)
            return reply(conv, 0, NULL, 0);
        if (q->count > 0 && !oldest(n, W_FIFO_READ)) {
            fifo_give(q, conv, want, NULL);
            return pump(n);
        }
        if (q->writers == 0 && q->count == 0)
            return reply(conv, 0, NULL, 0);
        if (nonblock)
            return reply(conv, -EAGAIN, NULL, 0);
        if (!park(i, conv, W_FIFO_READ, rd.id, rd.call, want, rd.cev))
            return reply(conv, -ENOMEM, NULL, 0);
        return;
    }
    if (lanes_msg_fs_write_decode(req, len, &wr) == 0) {
        if (wr.size > len - sizeof wr) {
            st_malformed++;
            return reply(conv, -EPROTO, NULL, 0);
        }
        if (acc == O_RDONLY)
            return reply(conv, -EBADF, NULL, 0);
        if (q->readers == 0)
            return reply(conv, -EPIPE, NULL, 0);
        const uint8_t *data = req + sizeof wr;
        uint64_t done = 0;
        if (wr.size == 0)
            return reply(conv, 0, NULL, 0);
        if (!oldest(n, W_FIFO_WRITE)) {
            done = fifo_fits(q, wr.size, 0);
            fifo_put(q, data, (uint32_t)done);
        }
        if (done == wr.size) {
            reply(conv, (int64_t)done, NULL, 0);
        } else if (nonblock) {
            reply(conv, done ? (int64_t)done : -EAGAIN, NULL, 0);
        } else {
            struct wait *w = park(i, conv, W_FIFO_WRITE, wr.id, wr.call, wr.size, wr.cev);
            if (w && !(w->data = malloc(wr.size))) {
                unpark(w);
                w = NULL;
            }
            if (!w) {
                reply(conv, done ? (int64_t)done : -ENOMEM, NULL, 0);
            } else {
                memcpy(w->data, data, wr.size);
                w->done = done;
            }
        }
        return pump(n);
    }
    st_malformed++;
    reply(conv, -EPROTO, NULL, 0);
}

/* ---- the file protocol on device files ---- */

void dev_opened(int i)
{
    struct ofile *f = &of[i];
    f->slow_bytes = 10;
    f->slow_ms = 100;
    f->slow_whole = false;
    f->fifo_counted = false;
    f->fifo_met = false;
    f->fifo_peer_opens = 0;
    struct node *n = f->node;
    if (n->dev != DEV_FIFO)
        return;
    if (!n->fifo && !(n->fifo = calloc(1, sizeof *n->fifo)))
        return;                                 /* its requests answer ENOMEM */
    uint32_t acc = f->flags & O_ACCMODE;
    struct fifo *q = n->fifo;
    q->readers += acc != O_WRONLY;
    q->writers += acc != O_RDONLY;
    q->reader_opens += acc != O_WRONLY;
    q->writer_opens += acc != O_RDONLY;
    f->fifo_met = acc == O_RDONLY ? q->writers > 0 : q->readers > 0;
    f->fifo_peer_opens = acc == O_RDONLY ? q->writer_opens : q->reader_opens;
    f->fifo_counted = true;
    pump(n);
}

bool dev_request(int i, int32_t conv, const uint8_t *req, uint32_t len)
{
    struct ofile *f = &of[i];
    struct node *n = f->node;
    uint32_t word = 0;
    if (len >= 4)
        memcpy(&word, req, 4);
    if (n->dev == DEV_FIFO) {
        if (word != LANES_MSG_FS_READ && word != LANES_MSG_FS_WRITE && word != LANES_MSG_FS_OPEN_WAIT)
            return false;
        if (!n->fifo)
            reply(conv, -ENOMEM, NULL, 0);
        else
            fifo_request(i, conv, req, len);
        return true;
    }
    if (word == LANES_MSG_FS_OPEN_WAIT) {
        reply(conv, 0, NULL, 0);                /* not a FIFO: nothing to wait for */
        return true;
    }
    struct lane_msg_fs_read rd;
    struct lane_msg_fs_write wr;
    if (n->dev == DEV_FSSTAT && lanes_msg_fs_read_decode(req, len, &rd) == 0) {
        char t[256];
        int k = snprintf(t, sizeof t, "live %u\nwaited %llu\ncancelled %llu\nlate %llu\nslow_bytes %llu\ncev %llu\n", st_live,
                         (unsigned long long)st_waited, (unsigned long long)st_cancelled, (unsigned long long)st_late,
                         (unsigned long long)st_slow_bytes, (unsigned long long)st_cev);
        uint64_t have = f->off >= (uint64_t)k ? 0 : (uint64_t)k - f->off;
        if (have > rd.size)
            have = rd.size;
        reply(conv, (int64_t)have, t + f->off, have);
        f->off += have;
        return true;
    }
    if (n->dev != DEV_SLOW)
        return false;
    if (lanes_msg_fs_read_decode(req, len, &rd) == 0) {
        uint64_t want = rd.size > CHUNK ? CHUNK : rd.size;
        if ((f->flags & O_ACCMODE) == O_WRONLY) {
            reply(conv, -EBADF, NULL, 0);
        } else if (want == 0) {
            reply(conv, 0, NULL, 0);
        } else if (f->flags & O_NONBLOCK) {
            reply(conv, -EAGAIN, NULL, 0);
        } else {
            struct wait *w = park(i, conv, W_SLOW, rd.id, rd.call, want, rd.cev);
            if (w && !(w->data = malloc(want))) {
                unpark(w);
                w = NULL;
            }
            if (!w)
                reply(conv, -ENOMEM, NULL, 0);
            else
                w->next_ns = lanes_now_ns() + LANES_MS(f->slow_ms);
        }
        return true;
    }
    if (lanes_msg_fs_write_decode(req, len, &wr) == 0) {
        if (wr.size > len - sizeof wr) {
            st_malformed++;
            reply(conv, -EPROTO, NULL, 0);
        } else {
            reply(conv, slow_control(f, req + sizeof wr, wr.size), NULL, 0);
        }
        return true;
    }
    return false;
}

/* ---- cancellation ---- */

static void cancel_wait(struct wait *w, int i, uint64_t call);

void wait_cancel(int i, uint64_t id, uint64_t call)
{
    struct wait *w = NULL;
    for (int k = 0; k < MAX_WAIT && !w; k++)
        if (waits[k].used && waits[k].file == i && waits[k].gen == of[i].gen && waits[k].id == id && id != 0)
            w = &waits[k];
    if (!w) {
        st_late++;                  /* answered already (the reply won the race), or unknown */
        return;
    }
    cancel_wait(w, i, call);
}

/* ---- cancellation events (the talk's: posix raises a thread's event when a signal comes for
 * it while its request waits here; we answer the request as for fs.Cancel, and that reply is
 * the thread's one wake-up) ---- */

/* fs.CancelEvent{tid} + the event pushed: pull it, keep it in tid's slot (replacing what was
 * there: the awaits on an evicted event are cancelled first, so no await outlives our handle). */
void cev_register(int32_t conv, uint32_t tid)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_pull(&b);
    static struct lanes_queue pq;
    static bool pq_ok;
    if (!pq_ok && lanes_queue_init(&pq, 2) < 0)
        return;
    pq_ok = true;
    c.nresults = 0;
    if (lanes_ipc_call(&pq, conv, &b, &c, LANES_SEC(2)) < 0 || c.nresults < 1)
        return;
    int32_t ev = lanes_ipc_result(&c, 0)->handle;
    if (ev < 0)
        return;
    struct lane_handle_info hi;
    if (!tid || lanes_sys_handle_info(ev, &hi) < 0 || hi.type != LANES_OBJ_EVENT) {
        lanes_sys_handle_close(ev);
        return;
    }
    int s = (int)(tid % CEV_SLOTS);
    if (cevs[s].tid) {
        for (int k = 0; k < MAX_WAIT; k++)
            if (waits[k].used && waits[k].cev_tag && waits[k].cev_slot == s) {
                lanes_sys_ipc_cancel(fs_queue, waits[k].cev_tag);
                waits[k].cev_tag = 0;
            }
        lanes_sys_handle_close(cevs[s].ev);
    }
    cevs[s].tid = tid;
    cevs[s].ev = ev;
}

/* w was just parked: await its thread's event past the sequence its request carried. */
static void cev_await(struct wait *w, uint64_t cev)
{
    uint32_t tid = (uint32_t)(w->id >> 32);
    int s = (int)(tid % CEV_SLOTS);
    if (!cev || !tid || cevs[s].tid != tid)
        return;
    uint64_t tag = CEV_TAG | ((w->seq & 0xffffffffull) << 16) | (uint64_t)(w - waits);
    if (lanes_sys_ipc_event_await(cevs[s].ev, cev - 1, fs_queue, tag) < 0)
        return;
    w->cev_tag = tag;
    w->cev_slot = s;
}

void cev_fired(const struct lane_ipc_completion *c)
{
    int k = (int)(c->tag & 0xffff);
    if (c->status < 0 || k >= MAX_WAIT)
        return;                     /* cancelled: the request was answered first */
    struct wait *w = &waits[k];
    if (!w->used || w->cev_tag != c->tag)
        return;
    w->cev_tag = 0;                 /* (it completed: nothing to cancel) */
    st_cev++;
    /* as if fs.Cancel{id} had come on the request's lane: one place where fs stops a request
     * (Break on next cancellation's fs location, FS_WAIT_CANCEL_LOCATION, is wait_cancel) */
    wait_cancel(w->file, w->id, w->call);
}

static void cancel_wait(struct wait *w, int i, uint64_t call)
{
    st_cancelled++;
    struct node *n = of[i].node;
    uint64_t done = w->op == W_SLOW || w->op == W_FIFO_WRITE ? w->done : 0, wid = w->id;
    uint64_t wcall = w->call ? w->call : call;
    switch (w->op) {
    case W_SLOW:
        answer(w, w->done ? (int64_t)w->done : -EINTR, w->data, w->done);
        break;
    case W_FIFO_WRITE:
        answer(w, w->done ? (int64_t)w->done : -EINTR, NULL, 0);
        pump(n);                    /* a later writer may fit now */
        break;
    default:                        /* a FIFO read or open has nothing partial */
        answer(w, -EINTR, NULL, 0);
        break;
    }
    lanes_trace_cancel_ack(wcall, st_live, done, wid, "fs");
}

void wait_file_closed(int i)
{
    for (int k = 0; k < MAX_WAIT; k++)
        if (waits[k].used && waits[k].file == i)
            unpark(&waits[k]);
    struct ofile *f = &of[i];
    struct node *n = f->node;
    if (n->dev != DEV_FIFO || !n->fifo || !f->fifo_counted)
        return;
    uint32_t acc = f->flags & O_ACCMODE;
    n->fifo->readers -= acc != O_WRONLY;
    n->fifo->writers -= acc != O_RDONLY;
    f->fifo_counted = false;
    if (n->fifo->readers == 0 && n->fifo->writers == 0 && !oldest(n, W_OPEN)) {
        free(n->fifo);              /* POSIX: a FIFO's data goes when the last end closes */
        n->fifo = NULL;
        return;
    }
    pump(n);
}
