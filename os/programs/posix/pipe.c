/* pipe.c — pipes: posix.Pipe makes one; this server then serves its two ends on the same
 * file protocol fs speaks (fs.Read on the read end, fs.Write on the write end, fs.Fstat).
 *
 * Each end is a stream: its client end sits in the end's description (handed to processes
 * like any file's lane), we keep the server end with one accept posted. The buffer holds
 * PIPE_CAP (64 KiB). A write of at most PIPE_ATOMIC (PIPE_BUF) bytes goes in whole or waits;
 * a longer one goes in pieces as room appears, and its reply comes when all of it is in.
 * Reads take what is there (at most what was asked), wait when the pipe is empty and a writer
 * exists, and return 0 (EOF) when none does. Writes with no reader left fail EPIPE (signals
 * come with the next issue). A request that must wait is parked: we keep its conversation
 * and answer it later; O_NONBLOCK answers EAGAIN instead. A parked request is cancelled by
 * fs.Cancel{id} on the same end's lane (issue 14, <lanes/cancel.h>): a reader is answered
 * -EINTR (a read takes data as soon as there is any, so it has no partial progress), a writer
 * the bytes it got in so far or -EINTR; a cancel that finds nothing parked (the reply won the
 * race) is ignored. st_cancels/st_cancels_late count both. signal.c stops a parked request
 * the same way when a signal for its thread sets the in-syscall flag (pipe_cancel_call: by the
 * request's POSIX call id, before the thread could send its fs.Cancel).
 * An end is "open" while its description has fds (desc.c tells us when not); the slot is free
 * again once every process has dropped its copy of both lanes (our accepts end END_OF_LANE) —
 * only then can no late completion touch its buffers.
 *
 * The ring (issue 13): the buffer is a memory object (struct lane_pipe_ring, then the 64 KiB)
 * that libc maps per description (posix.GetRing) and reads and writes itself, under the ring's
 * lock, waiting on its futex words — no request to us (os/README.md, "Pipes without posix in
 * the path"). We keep in its header what only we know: each end's closed and O_NONBLOCK state
 * (bumping the futex words and waking every waiter when an end closes), and we clear the lock
 * of a process that ended holding it (pipe_proc_gone: head and count are one word, stored after
 * the bytes, so the ring is whole). A request on an end's lane (a raw lane client: canceltests,
 * or any program using lanes_posix_fd_lane, which hands the pipe to us first) turns the ring
 * into ours for good (mode 1): libc then sends every read and write here, and everything above
 * (parking, pump, cancel) works on head/count taken over from the header.
 */
#include "posix.h"
#include <lanes/cancel.h>
#include <lanes/sigtrace.h>

#define PREQ (CHUNK + 64)

struct waiter {
    int32_t conv;
    uint64_t id, call;      /* the request's cancel id (0: none) and POSIX syscall instance */
    uint32_t want;          /* reader: bytes asked for */
    uint8_t *data;          /* writer: its bytes (a copy), len, done so far */
    uint32_t len, done;
};

struct pipe {
    bool used;
    uint32_t gen;
    struct lane_pipe_ring *ring;    /* the mapped memory object (header page, then buf) */
    int32_t ring_h;                 /* its handle (pushed by GetRing) */
    bool ours;                      /* ring->mode 1 seen: head/count below are the truth */
    uint8_t *buf;
    uint32_t head, count;
    bool open[2];           /* the ends' descriptions still have fds */
    bool live[2];           /* our accept on the end's lane is still going */
    struct desc *d[2];
    int32_t lane[2];        /* server ends */
    uint8_t *req[2];
    struct waiter *r, *w;   /* parked readers and writers, oldest first (grown as needed: any
                             * number of processes may wait on one end, e.g. 1,000 forked readers) */
    int nr, nw, capr, capw;
};

static struct pipe pipes[MAX_PIPES];
static uint32_t pipe_waiters;       /* readers and writers parked on all pipes */
uint32_t st_pipes;
uint64_t st_cancels, st_cancels_late;

static void post(struct pipe *pp, int end)
{
    uint32_t idx = (uint32_t)(pp - pipes) * 2 + (uint32_t)end;
    served_post(pp->lane[end], pp->req[end], PREQ, make_tag(TAG_PIPE, pp->gen, idx), "a pipe");
}

#define fs_reply served_reply

static uint32_t room(struct pipe *pp) { return PIPE_CAP - pp->count; }

#define RING_BYTES (4096 + PIPE_CAP)

static void ring_wake_all(struct lane_pipe_ring *r)
{
    __atomic_add_fetch(&r->rseq, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&r->wseq, 1, __ATOMIC_SEQ_CST);
    lanes_sys_futex_wake(&r->rseq, UINT32_MAX);
    lanes_sys_futex_wake(&r->wseq, UINT32_MAX);
}

/* The ring became ours (a client set mode 1 under the lock, or we did): take head and count
 * over from the header — checked, a client could have written anything there. */
static void adopt(struct pipe *pp)
{
    if (pp->ours || __atomic_load_n(&pp->ring->mode, __ATOMIC_SEQ_CST) == 0)
        return;
    uint64_t hc = __atomic_load_n(&pp->ring->hc, __ATOMIC_SEQ_CST);
    pp->ours = true;
    pp->head = (uint32_t)hc % PIPE_CAP;
    pp->count = (uint32_t)(hc >> 32) > PIPE_CAP ? PIPE_CAP : (uint32_t)(hc >> 32);
}

/* A lane request while the ring is the clients': make it ours if nobody holds the lock (a
 * client goes through lanes_posix_fd_lane, which did this already). False: held now. */
static bool take_ring(struct pipe *pp)
{
    if (pp->ours)
        return true;
    uint32_t free_ = 0, me = 0x3fffffff;     /* (no process has this pid) */
    if (__atomic_load_n(&pp->ring->mode, __ATOMIC_SEQ_CST) == 0) {
        if (!__atomic_compare_exchange_n(&pp->ring->lock, &free_, me, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return false;
        __atomic_store_n(&pp->ring->mode, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&pp->ring->lock, 0, __ATOMIC_SEQ_CST);
    }
    adopt(pp);
    ring_wake_all(pp->ring);        /* clients waiting on the ring come to the lane */
    return true;
}

/* Bytes in the pipe now (fstat). */
static uint32_t in_pipe(struct pipe *pp)
{
    adopt(pp);
    if (pp->ours)
        return pp->count;
    uint32_t c = (uint32_t)(__atomic_load_n(&pp->ring->hc, __ATOMIC_SEQ_CST) >> 32);
    return c > PIPE_CAP ? PIPE_CAP : c;
}

/* The ring is copied in at most two pieces (memcpy, not a byte loop with a division each). */
static void put(struct pipe *pp, const uint8_t *src, uint32_t n)
{
    uint32_t at = (pp->head + pp->count) % PIPE_CAP, first = PIPE_CAP - at < n ? PIPE_CAP - at : n;
    memcpy(pp->buf + at, src, first);
    memcpy(pp->buf, src + first, n - first);
    pp->count += n;
}

/* Answers one reader with up to want bytes; consumes them only if the reply got through. The
 * bytes go straight from the ring unless they wrap around its end. */
static void give(struct pipe *pp, int32_t conv, uint32_t want)
{
    static uint8_t tmp[CHUNK];
    uint32_t n = pp->count < want ? pp->count : want;
    if (n > CHUNK)
        n = CHUNK;
    const uint8_t *from = pp->buf + pp->head;
    uint32_t first = PIPE_CAP - pp->head;
    if (first < n) {
        memcpy(tmp, from, first);
        memcpy(tmp + first, pp->buf, n - first);
        from = tmp;
    }
    if (fs_reply(conv, n, from, n) == 0) {
        pp->head = (pp->head + n) % PIPE_CAP;
        pp->count -= n;
    }
}

static void drop_waiter(struct waiter *list, int *n, int i)
{
    lanes_sys_handle_close(list[i].conv);
    free(list[i].data);
    memmove(list + i, list + i + 1, sizeof *list * (size_t)(*n - i - 1));
    (*n)--;
    st_parked--;
    pipe_waiters--;
}

/* Moves what can move: parked writers into the buffer, the buffer to parked readers. */
static void pump(struct pipe *pp)
{
    bool moved = true;
    while (moved) {
        moved = false;
        while (pp->nw > 0) {
            struct waiter *w = &pp->w[0];
            uint32_t left = w->len - w->done;
            if (!pp->open[0]) {
                fs_reply(w->conv, w->done ? (int64_t)w->done : -EPIPE, NULL, 0);
                drop_waiter(pp->w, &pp->nw, 0);
                continue;
            }
            uint32_t k = left <= PIPE_ATOMIC ? (room(pp) >= left ? left : 0) : (room(pp) < left ? room(pp) : left);
            if (k == 0)
                break;
            put(pp, w->data + w->done, k);
            w->done += k;
            moved = true;
            if (w->done == w->len) {
                fs_reply(w->conv, w->len, NULL, 0);
                drop_waiter(pp->w, &pp->nw, 0);
            }
        }
        while (pp->nr > 0 && (pp->count > 0 || pp->nw == 0)) {
            if (pp->count == 0) {
                if (pp->open[1])
                    break;
                fs_reply(pp->r[0].conv, 0, NULL, 0);       /* EOF */
            } else {
                give(pp, pp->r[0].conv, pp->r[0].want);
                moved = true;
            }
            drop_waiter(pp->r, &pp->nr, 0);
        }
    }
}

static bool kept;                   /* request() parked its conversation: pipe_complete must not close it */

static bool park(struct waiter **listp, int *n, int *cap, int32_t conv, uint32_t want, const uint8_t *data,
                 uint32_t len, uint32_t done, uint64_t id, uint64_t call)
{
    if (*n >= *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        struct waiter *nl = realloc(*listp, sizeof *nl * (size_t)ncap);
        if (!nl)
            return false;
        *listp = nl;
        *cap = ncap;
    }
    struct waiter *list = *listp;
    struct waiter *w = &list[(*n)++];
    w->conv = conv;
    w->want = want;
    w->data = NULL;
    w->len = len;
    w->done = done;
    w->id = id;
    w->call = call;
    if (data) {
        w->data = malloc(len);
        if (!w->data) {
            (*n)--;
            return false;
        }
        memcpy(w->data, data, len);
    }
    kept = true;                    /* the waiter owns the conversation now (no dup, no close) */
    st_parked++;
    pipe_waiters++;
    return true;
}

static bool nonblocking(struct pipe *pp, int end) { return pp->d[end] && (pp->d[end]->flags & O_NONBLOCK); }

/* Answers the parked request i of end's list with what it did so far (or -EINTR). */
static void cancel_at(struct pipe *pp, int end, int i)
{
    struct waiter *list = end == 0 ? pp->r : pp->w;
    int *n = end == 0 ? &pp->nr : &pp->nw;
    st_cancels++;
    uint64_t done = list[i].done, call = list[i].call, id = list[i].id;
    fs_reply(list[i].conv, done ? (int64_t)done : -EINTR, NULL, 0);
    drop_waiter(list, n, i);
    lanes_trace_cancel_ack(call, st_parked, done, id, "pipe");
    pump(pp);                       /* the writer behind it may fit now */
}

/* fs.Cancel{id} on end's lane: answers the parked request with that id (no reply to the cancel). */
static void cancel(struct pipe *pp, int end, uint64_t id)
{
    struct waiter *list = end == 0 ? pp->r : pp->w;
    int n = end == 0 ? pp->nr : pp->nw;
    for (int i = 0; i < n; i++)
        if (id != 0 && list[i].id == id)
            return cancel_at(pp, end, i);
    st_cancels_late++;
}

/* Where the reader or writer of POSIX call `call` is parked (a thread makes one call at a time:
 * at most one place). False if nowhere. */
static bool find_call(uint64_t call, struct pipe **pp, int *end, int *idx)
{
    /* (none parked, the common case for a signal to a thread waiting in fs: no walk of 256 pipes) */
    for (int p = 0; p < MAX_PIPES && call && pipe_waiters; p++) {
        struct pipe *q = &pipes[p];
        for (int e = 0; q->used && e < 2; e++) {
            struct waiter *list = e == 0 ? q->r : q->w;
            int n = e == 0 ? q->nr : q->nw;
            for (int i = 0; i < n; i++)
                if (list[i].call == call) {
                    *pp = q;
                    *end = e;
                    *idx = i;
                    return true;
                }
        }
    }
    return false;
}

/* Is a reader or writer of POSIX call `call` parked on some pipe (what pipe_cancel_call would stop)? */
bool pipe_call_parked(uint64_t call)
{
    struct pipe *pp;
    int end, i;
    return find_call(call, &pp, &end, &i);
}

/* signal.c, a signal for a thread inside POSIX call `call`: our own work for that call stops
 * now (the talk's cancellation by id, without waiting for the thread's fs.Cancel — one round
 * trip less; a cancel it sends anyway finds nothing and is ignored). Returns how many (0 or 1). */
int pipe_cancel_call(uint64_t call)
{
    struct pipe *pp;
    int end, i;
    if (!find_call(call, &pp, &end, &i))
        return 0;
    struct waiter *list = end == 0 ? pp->r : pp->w;
    lanes_utrace_cancel_raise(call, (uint32_t)lanes_startup->pid, CANCEL_KIND_LOCAL, list[i].id, "pipe");
    cancel_at(pp, end, i);
    return 1;
}

static void request(struct pipe *pp, int end, int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_fs_read rd;
    struct lane_msg_fs_write wr;
    struct lane_msg_fs_fstat fs;
    struct lane_msg_fs_cancel cn;
    if (lanes_msg_fs_cancel_decode(m, len, &cn) == 0)
        return cancel(pp, end, cn.id);
    if (lanes_msg_fs_fstat_decode(m, len, &fs) == 0) {
        struct lane_msg_fs_attr a = lanes_msg_fs_attr_encode(0, S_IFIFO | 0600, 0, 1, in_pipe(pp), 3);
        send_msg(conv, &a, sizeof a, LANES_HANDLE_NONE);
        return;
    }
    if (lanes_msg_fs_read_decode(m, len, &rd) == 0) {
        if (end != 0 || !pp->open[0])
            return (void)fs_reply(conv, -EBADF, NULL, 0);
        if (!take_ring(pp))
            return (void)fs_reply(conv, -EAGAIN, NULL, 0);
        uint32_t want = rd.size > CHUNK ? CHUNK : (uint32_t)rd.size;
        if (want == 0)
            return (void)fs_reply(conv, 0, NULL, 0);
        if (pp->count > 0 && pp->nr == 0) {
            give(pp, conv, want);
            pump(pp);
        } else if (!pp->open[1] && pp->count == 0) {
            fs_reply(conv, 0, NULL, 0);
        } else if (nonblocking(pp, 0)) {
            fs_reply(conv, -EAGAIN, NULL, 0);
        } else if (!park(&pp->r, &pp->nr, &pp->capr, conv, want, NULL, 0, 0, rd.id, rd.call)) {
            fs_reply(conv, -ENOMEM, NULL, 0);
        }
        return;
    }
    if (lanes_msg_fs_write_decode(m, len, &wr) == 0) {
        if (wr.size > len - sizeof wr) {
            st_malformed++;
            return (void)fs_reply(conv, -EPROTO, NULL, 0);
        }
        if (end != 1 || !pp->open[1])
            return (void)fs_reply(conv, -EBADF, NULL, 0);
        if (!take_ring(pp))
            return (void)fs_reply(conv, -EAGAIN, NULL, 0);
        if (!pp->open[0])
            return (void)fs_reply(conv, -EPIPE, NULL, 0);
        const uint8_t *data = m + sizeof wr;
        uint32_t n = (uint32_t)wr.size, done = 0;
        if (n == 0)
            return (void)fs_reply(conv, 0, NULL, 0);
        if (pp->nw == 0) {
            uint32_t k = n <= PIPE_ATOMIC ? (room(pp) >= n ? n : 0) : (room(pp) < n ? room(pp) : n);
            put(pp, data, k);
            done = k;
        }
        if (done == n) {
            fs_reply(conv, n, NULL, 0);
        } else if (nonblocking(pp, 1)) {
            fs_reply(conv, done ? (int64_t)done : -EAGAIN, NULL, 0);
        } else if (!park(&pp->w, &pp->nw, &pp->capw, conv, 0, data, n, done, wr.id, wr.call)) {
            fs_reply(conv, done ? (int64_t)done : -ENOMEM, NULL, 0);
        }
        pump(pp);
        return;
    }
    st_malformed++;
    fs_reply(conv, -EPROTO, NULL, 0);
}

static void ring_free(struct pipe *pp)
{
    if (pp->ring) {
        lanes_sys_mem_unmap(pp->ring, RING_BYTES);
        lanes_sys_handle_close(pp->ring_h);
    }
    pp->ring = NULL;
    pp->buf = NULL;
    pp->ring_h = LANES_HANDLE_NONE;
}

int pipe_create(uint32_t flags, struct desc **rd, struct desc **wr)
{
    struct pipe *pp = NULL;
    for (int i = 0; i < MAX_PIPES && !pp; i++)
        if (!pipes[i].used)
            pp = &pipes[i];
    if (!pp)
        return -ENFILE;
    for (int e = 0; e < 2; e++)
        if (!pp->req[e])
            pp->req[e] = malloc(PREQ);
    if (!pp->req[0] || !pp->req[1])
        return -ENOMEM;
    /* OWNER_WAKE: if we crash, the clients' waits on the ring end DEAD (libc: EIO) */
    int64_t mh = lanes_sys_mem_create(RING_BYTES, LANES_MEMFLAG_ZERO | LANES_MEMFLAG_OWNER_WAKE);
    if (mh < 0)
        return -ENOMEM;
    int64_t ma = lanes_sys_mem_map((int32_t)mh, NULL, 0, RING_BYTES, LANES_PROT_READ | LANES_PROT_WRITE);
    if (ma < 0) {
        lanes_sys_handle_close((int32_t)mh);
        return -ENOMEM;
    }
    pp->ring = (struct lane_pipe_ring *)(uintptr_t)ma;
    pp->ring_h = (int32_t)mh;
    pp->buf = (uint8_t *)pp->ring + 4096;
    pp->ours = false;
    bool nb = (flags & O_NONBLOCK) != 0;
    pp->ring->rnonblock = pp->ring->wnonblock = nb;
    int32_t s0[2], s1[2];
    if (lanes_stream(s0) < 0) {
        ring_free(pp);
        return -ENOMEM;
    }
    if (lanes_stream(s1) < 0) {
        lanes_sys_handle_close(s0[0]);
        lanes_sys_handle_close(s0[1]);
        ring_free(pp);
        return -ENOMEM;
    }
    *rd = desc_new(KIND_PIPE, O_RDONLY | flags, s0[0]);
    *wr = desc_new(KIND_PIPE, O_WRONLY | flags, s1[0]);
    if (!*rd || !*wr) {
        if (*rd)
            desc_unref(*rd);
        if (*wr)
            desc_unref(*wr);
        lanes_sys_handle_close(s0[1]);
        lanes_sys_handle_close(s1[1]);
        ring_free(pp);
        return -ENOMEM;
    }
    pp->used = true;
    pp->gen++;
    pp->head = pp->count = 0;
    pp->nr = pp->nw = 0;
    pp->lane[0] = s0[1];
    pp->lane[1] = s1[1];
    for (int e = 0; e < 2; e++) {
        pp->open[e] = pp->live[e] = true;
        pp->d[e] = e ? *wr : *rd;
        pp->d[e]->pipe = pp;
        pp->d[e]->end = e;
        post(pp, e);
    }
    st_pipes++;
    return 0;
}

void pipe_end_closed(struct pipe *pp, int end)
{
    pp->open[end] = false;
    pp->d[end] = NULL;
    adopt(pp);
    __atomic_store_n(end ? &pp->ring->wclosed : &pp->ring->rclosed, 1, __ATOMIC_SEQ_CST);
    ring_wake_all(pp->ring);        /* waiters on the ring: EOF, EPIPE */
    if (end == 0 && pp->ours) {
        /* no reader: parked readers (ours) answer EBADF, writers EPIPE */
        while (pp->nr > 0) {
            fs_reply(pp->r[0].conv, -EBADF, NULL, 0);
            drop_waiter(pp->r, &pp->nr, 0);
        }
        pp->count = 0;
    }
    pump(pp);
}

void pipe_complete(uint32_t index, uint32_t gen, const struct lane_ipc_completion *c)
{
    if (index / 2 >= MAX_PIPES)
        return;
    struct pipe *pp = &pipes[index / 2];
    int end = (int)(index % 2);
    int32_t conv;
    uint32_t len;
    bool accepted = c->nresults > 0 && lanes_ipc_result(c, 0)->handle >= 0;
    enum served_event ev = served_take(c, !pp->used || pp->gen != (gen & 0xffffff) || !pp->live[end], &conv, &len);
    if (ev == SERVED_STALE)
        return;
    if (ev == SERVED_GONE || (ev == SERVED_AGAIN && !accepted && !pp->open[end])) {
        /* every copy of the end's lane is gone (or the end is closed and our accept ended) */
        pp->live[end] = false;
        lanes_sys_handle_close(pp->lane[end]);
        if (pp->open[end] && pp->d[end])
            pp->open[end] = false;
        if (!pp->live[0] && !pp->live[1]) {
            while (pp->nr > 0)
                drop_waiter(pp->r, &pp->nr, 0);
            while (pp->nw > 0)
                drop_waiter(pp->w, &pp->nw, 0);
            pp->used = false;
            ring_free(pp);
            st_pipes--;
        }
        return;
    }
    if (ev == SERVED_REQUEST) {
        kept = false;
        request(pp, end, conv, pp->req[end], len);
        if (!kept)
            lanes_sys_handle_close(conv);
    }
    post(pp, end);
}

/* posix.GetRing: the ring of d (a pipe end), pushed with the reply. */
int32_t pipe_ring_handle(struct desc *d) { return d->pipe ? d->pipe->ring_h : LANES_HANDLE_NONE; }

/* F_SETFL changed d's O_NONBLOCK: the ring's clients read it from the header. */
void pipe_flags_changed(struct desc *d)
{
    if (d->pipe && d->pipe->ring)
        __atomic_store_n(d->end ? &d->pipe->ring->wnonblock : &d->pipe->ring->rnonblock,
                         (d->flags & O_NONBLOCK) ? 1u : 0u, __ATOMIC_SEQ_CST);
}

/* Process pid ended: a ring lock it held is free again (its copy was cut off mid-way at worst:
 * head and count only change, in one store, after the bytes are in place). */
void pipe_proc_gone(int32_t pid)
{
    uint32_t id = (uint32_t)pid & 0x3fffffff, seen = 0;
    for (int i = 0; i < MAX_PIPES && seen < st_pipes; i++) {
        struct pipe *pp = &pipes[i];
        if (!pp->used || !pp->ring)
            continue;
        seen++;
        uint32_t v = __atomic_load_n(&pp->ring->lock, __ATOMIC_SEQ_CST);
        if (v != 0 && (v & 0x3fffffff) == id && __atomic_compare_exchange_n(&pp->ring->lock, &v, 0, false,
                                                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            lanes_sys_futex_wake(&pp->ring->lock, UINT32_MAX);
            ring_wake_all(pp->ring);
        }
    }
}
