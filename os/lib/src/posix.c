/*
 * posix.c — the POSIX calls: libc's side of the POSIX server (os/programs/posix) and of the file
 * protocol (fs.* in os/abi/messages.toml) that fs, posix's pipes and future servers speak.
 *
 * A POSIX process was started with a lane tagged "posix": its own lane to the server, which is
 * how the server knows who asks. Each call that touches process state (open, close, dup, pipe,
 * stat, mkdir, spawn, waitpid, ...) is one conversation on it:
 *
 *     offer(ANCILLARY){ send posix.X{...} + path, recv_buffer reply, [pull lane] }
 *
 * The server owns the fd table. An fd names an open file description, which is a lane: to the fs
 * server for a file or directory (the passthrough lane — read/write/lseek/getdents go there
 * directly, posix is not in the path), to posix itself for a pipe end. libc asks for an fd's lane
 * once (posix.GetFile, or it comes with open's reply) and caches it in `fds[]`; close and dup2
 * drop the cached copy. Console descriptions (/dev/console, and fds 0-2 of a process the server
 * adopted) use the console lane of <lanes/console.h>; /dev/null needs no lane.
 *
 * pread of a file of fs needs no request once the fd has the file's pages mapped (fs.Map at
 * its first pread; filemap.c copies under fs's seqlock): the mapping lives beside the cached lane.
 * read and lseek (SEEK_SET, SEEK_CUR) need none either once the description's offset is mapped
 * too (fs.MapPos at an fd's second read — its first is an fs.Read — one page shared by every
 * holder of the description, moved by compare-and-swap; filemap.c). Writes, O_APPEND, SEEK_END, devices, FIFOs, directories and
 * files still in the initrd's pages go to fs, which keeps the same shared offset.
 *
 * Data moves in chunks of at most CHUNK bytes per request (a pipe write of <= PIPE_BUF is one
 * request, hence atomic). One mutex serialises this process's requests (a thread blocked in a
 * pipe read holds up the others — good enough until per-thread queues).
 *
 * A pipe end's bytes do not go through posix: libc maps the pipe's ring (posix.GetRing, struct
 * lane_pipe_ring) and reads and writes it under the ring's lock (our pid in its word), waiting
 * on its futex words when it is empty or full — a read or write is a copy and at most one wake
 * or wait (see ring_read/ring_write). Once posix owns the ring (mode 1: a raw lane client asked
 * for the lane, lanes_posix_fd_lane) every read and write goes to the lane as before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/cancel.h>
#include <lanes/console.h>
#include <lanes/ipc.h>
#include <lanes/sigtrace.h>
#include <signal.h>
#include "signal_internal.h"
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "hot.h"

int errno;

#define CHUNK 16384
#define PATH_MAX_BYTES 4096

enum { KIND_NONE = 0, KIND_FILE = 1, KIND_DIR = 2, KIND_PIPE = 3, KIND_CONSOLE = 4, KIND_NULL = 5, KIND_FIFO = 6 };

struct fdcache {
    int32_t lane;       /* our copy of the description's lane, or NONE */
    uint8_t kind;       /* KIND_*, 0 = not fetched */
    bool fs;            /* the lane goes to fs (posix's KIND_FS_BIT): pread may map the file */
    uint8_t mapst;      /* MAP_*: the file's pages (filemap.c), in fdmaps[fd] */
    uint8_t end;        /* a pipe's: 0 read, 1 write */
    struct lane_pipe_ring *ring;    /* a pipe's ring, mapped (NULL: use the lane) */
};

/* The mapped files, apart from fds[] (touched by every process: kept small) and made at the
 * first mapping only. */
struct fdmap {
    const struct lane_file_map *map;
    size_t len;
    struct lane_file_pos *pos;      /* the description's offset (fs.MapPos), once read() asked */
    uint8_t posst;                  /* MAP_* for pos */
};
static struct fdmap *fdmaps;

/* MAP_SEEN: read() asked fs once (a file read once — most — costs least that way, and the IPC
 * view shows that fs.Read on the passthrough lane); the next read or pread maps. */
enum { MAP_UNASKED = 0, MAP_OK = 1, MAP_NO = 2, MAP_SEEN = 3 };
#define KIND_FS_BIT 0x80

/* A read of fs that may wait there (a FIFO; a device: fs refused to map it): it carries the
 * thread's cancellation-event sequence (signal.c's lanes_sig_cev, the first one per thread sets
 * the event up). A regular file's first read (not yet asked to map) never waits: none. */
static bool may_wait(const struct fdcache *f)
{
    return f->fs && (f->kind == KIND_FIFO || (f->kind == KIND_FILE && f->mapst == MAP_NO));
}

int64_t __file_map_copy(const struct lane_file_map *h, size_t maplen, void *buf, size_t n, uint64_t off);
int64_t __file_pos_read(const struct lane_file_map *h, size_t maplen, struct lane_file_pos *p, void *buf, size_t n);

#define RING_CAP 65536
#define RING_BYTES (4096 + RING_CAP)
#define RING_LANE (-1000000)        /* ring_read/ring_write: posix owns the ring, use the lane */

LIBC_HOT_DATA static lanes_mutex_t lock = LANES_MUTEX_INIT;
LIBC_HOT_DATA static int32_t posix_lane = -2;             /* -2: not looked up yet */
static struct lanes_queue q;
static bool q_ok;
static struct fdcache fds[OPEN_MAX];
LIBC_HOT_DATA static uint8_t *bounce;                     /* CHUNK + 64 bytes, requests and replies */

/* The lock, with signals held off for this thread while it holds it: a handler run by the alert
 * entry meanwhile would take the lock again (signal.c delivers it when we let go). */
static void px_lock(void)
{
    lanes_sig_hold(1);
    lanes_mutex_lock(&lock);
}

static void px_unlock(void)
{
    lanes_mutex_unlock(&lock);
    lanes_sig_hold(-1);
}

static const char *const enames[] = {
    [0] = "OK", [EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR", [EIO] = "EIO",
    [ENXIO] = "ENXIO", [E2BIG] = "E2BIG", [ENOEXEC] = "ENOEXEC", [EBADF] = "EBADF", [ECHILD] = "ECHILD",
    [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM", [EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
    [EEXIST] = "EEXIST", [EXDEV] = "EXDEV", [ENODEV] = "ENODEV", [ENOTDIR] = "ENOTDIR", [EISDIR] = "EISDIR",
    [EINVAL] = "EINVAL", [ENFILE] = "ENFILE", [EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY", [EFBIG] = "EFBIG",
    [ENOSPC] = "ENOSPC", [ESPIPE] = "ESPIPE", [EROFS] = "EROFS", [EMLINK] = "EMLINK", [EPIPE] = "EPIPE",
    [ERANGE] = "ERANGE", [ENAMETOOLONG] = "ENAMETOOLONG", [ENOSYS] = "ENOSYS", [ENOTEMPTY] = "ENOTEMPTY",
    [ELOOP] = "ELOOP", [EPROTO] = "EPROTO", [EOVERFLOW] = "EOVERFLOW", [ETIMEDOUT] = "ETIMEDOUT",
};

const char *strerror(int e)
{
    if (e >= 0 && e < (int)(sizeof enames / sizeof *enames) && enames[e])
        return enames[e];
    return "E?";
}

static int fail(int e)
{
    errno = e;
    return -1;
}

/* Under lock. */
LIBC_HOT static bool ready(void)
{
    if (posix_lane == -2) {
        posix_lane = lanes_handle_by_tag("posix");
        for (int i = 0; i < OPEN_MAX; i++)
            fds[i].lane = LANES_HANDLE_NONE;
    }
    if (posix_lane == LANES_HANDLE_NONE)
        return false;
    if (!q_ok && lanes_queue_init(&q, 4) == 0)
        q_ok = true;
    if (!bounce)
        bounce = malloc(CHUNK + 64);
    return q_ok && bounce;
}

int lanes_posix_active(void)
{
    px_lock();
    bool r = ready();
    px_unlock();
    return r;
}

static void forget(int fd);
static int64_t lookup(int fd, struct fdcache **out);
static void ring_to_posix(struct lane_pipe_ring *r);
static bool user_mem(const void *p, size_t n, bool write);

int lanes_posix_fd_lane(int fd)
{
    px_lock();
    struct fdcache *f;
    int64_t r = ready() ? lookup(fd, &f) : -EBADF;
    if (r == 0 && f->ring)
        ring_to_posix(f->ring);
    if (r == 0)
        r = f->lane == LANES_HANDLE_NONE ? -EBADF : f->lane;
    px_unlock();
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return (int)r;
}

/* An IPC failure of a request: the server is gone or misbehaved. */
static int ipc_errno(int64_t r)
{
    if (r == LANES_E_FAULT)
        return EFAULT;
    if (r == LANES_E_BUFFER_TOO_SMALL)
        return E2BIG;
    if (r == LANES_E_NOMEM)
        return ENOMEM;
    return EIO;
}

static bool wait_ended(int64_t r)
{
    return r == LANES_E_TIMEOUT || r == LANES_E_INTERRUPTED || r == LANES_E_ALERTED;
}

/* The trace's name for the server behind a passthrough lane. Under lock. */
static const char *lane_target(int32_t lane)
{
    for (int i = 0; i < OPEN_MAX; i++)
        if (fds[i].lane == lane)
            return fds[i].kind == KIND_PIPE ? "pipe" : fds[i].kind == KIND_CONSOLE ? "console" : "fs";
    return "fs";
}

/* A request to the POSIX server, cancellable by id (the talk): while we wait for its reply, a
 * signal that sets this thread's in-syscall flag to 2 (and alerts us: the wait ends INTERRUPTED)
 * makes us send posix.SigCancel{tid, call} as a second conversation; posix stops its own work
 * for the call (a parked waitpid or sigsuspend answers -EINTR at once) and we still take the
 * request's one real reply. Both completions are consumed before we return. Under lock. */
static int64_t posix_call(struct lanes_queue *qq, struct lanes_acts *b, struct lane_ipc_completion *out)
{
    static volatile uint64_t next_tag;
    uint64_t tag = __atomic_add_fetch(&next_tag, 2, __ATOMIC_RELAXED) | (1ull << 61), ctag = tag | 1;
    int64_t r = lanes_ipc_submit_wait(qq, posix_lane, b, tag, LANES_TIMEOUT_INFINITE);
    if (r < 0 && !wait_ended(r))
        return r;                           /* not submitted */
    bool got = false, sent = false, cdone = false;
    struct lane_msg_posix_reply crep;
    for (;;) {
        const struct lane_ipc_completion *e;
        while ((e = lanes_queue_peek(qq)) != NULL) {
            if (e->tag == tag) {
                memcpy(out, e, sizeof *out);
                got = true;
            } else if (e->tag == ctag) {
                cdone = true;
            }
            lanes_queue_pop(qq);
        }
        if (got && (!sent || cdone))
            return out->status;
        if (!got && !sent && r == LANES_E_INTERRUPTED && lanes_sig_cancel_requested()) {
            struct lane_msg_posix_sig_cancel m =
                lanes_msg_posix_sig_cancel_encode((uint32_t)lanes_sys_thread_self(), 0, lanes_sig_cur_call());
            struct lanes_acts cb;
            lanes_acts_init(&cb);
            lanes_acts_offer(&cb, LANES_IPC_FLAG_ANCILLARY);
            lanes_acts_send(&cb, &m, sizeof m);
            lanes_acts_recv_buffer(&cb, &crep, sizeof crep);
            lanes_acts_end(&cb);
            sent = lanes_ipc_submit(qq, posix_lane, &cb, ctag) == 0;
            if (sent)
                lanes_sig_note_cancel();
        }
        r = lanes_sys_ipc_queue_wait(qq->handle, LANES_TIMEOUT_INFINITE);
        if (r < 0 && !wait_ended(r))
            return r;                       /* the queue itself is broken */
    }
}

/* One conversation on lane: send msg (len bytes, data appended when given), receive the reply
 * into rep (cap bytes), pull a handle when *pulled is given. A request with a cancel id (its
 * message carries it: fs.Read, fs.Write) goes through lanes_lane_call, so an interrupted wait
 * cancels it on the lane and still returns the server's one reply (<lanes/cancel.h>).
 * Returns the reply length or a negative errno. Under lock. */
static int64_t call_id(int32_t lane, const void *msg, size_t len, const void *data, size_t dlen, void *rep, size_t cap,
                       int32_t *pulled, const int32_t *push, int npush, uint64_t cancel_id, uint64_t cancel_call)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    const void *out = msg;
    size_t outlen = len;
    if (data && dlen) {
        if (len + dlen > CHUNK + 64)
            return -E2BIG;
        if (msg != bounce)
            memmove(bounce, msg, len);
        memcpy(bounce + len, data, dlen);
        out = bounce;
        outlen = len + dlen;
    }
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, out, outlen);
    for (int i = 0; i < npush; i++)
        lanes_acts_push(&b, push[i], LANES_RIGHT_ALL);
    lanes_acts_recv_buffer(&b, rep, cap);
    if (pulled)
        lanes_acts_pull(&b);
    lanes_acts_end(&b);
    c.nresults = 0;
    int64_t r = cancel_id            ? lanes_lane_call(&q, lane, &b, cancel_id, cancel_call, lane_target(lane),
                                                       LANES_TIMEOUT_INFINITE, &c, NULL)
                : lane == posix_lane ? posix_call(&q, &b, &c)
                                     : lanes_ipc_call(&q, lane, &b, &c, LANES_TIMEOUT_INFINITE);
    if (lane == posix_lane && c.nresults > 0 && lanes_ipc_result(&c, 0)->error < 0 &&
        (r == LANES_E_END_OF_LANE || r == LANES_E_LANE_SHUTDOWN)) {
        /* The server is gone (init restarts it, but this process is not registered with the new
         * one): stop being a POSIX process — stdio goes to the console, the shell runs programs
         * from the initrd again. */
        lanes_sys_handle_close(posix_lane);
        posix_lane = LANES_HANDLE_NONE;
        for (int i = 0; i < OPEN_MAX; i++)
            forget(i);
    }
    uint32_t at = 2 + (uint32_t)npush;
    if (c.nresults <= at)
        return -ipc_errno(r);
    const struct lane_ipc_result *rr = lanes_ipc_result(&c, at);
    if (rr->error < 0)
        return -ipc_errno(rr->error);
    if (pulled) {
        const struct lane_ipc_result *pr = lanes_ipc_result(&c, at + 1);
        *pulled = c.nresults > at + 1 && pr->error == 0 ? pr->handle : LANES_HANDLE_NONE;
    }
    return rr->length;
}

static int64_t call(int32_t lane, const void *msg, size_t len, const void *data, size_t dlen, void *rep, size_t cap,
                    int32_t *pulled, const int32_t *push, int npush)
{
    return call_id(lane, msg, len, data, dlen, rep, cap, pulled, push, npush, 0, 0);
}

/* A request whose reply is posix.Reply; returns its value or -errno. Under lock. */
static int64_t preq(const void *msg, size_t len, const void *data, size_t dlen, int32_t *pulled)
{
    struct lane_msg_posix_reply rep;
    int64_t r = call(posix_lane, msg, len, data, dlen, &rep, sizeof rep, pulled, NULL, 0);
    if (r < 0)
        return r;
    if ((size_t)r < sizeof rep || rep.msg != LANES_MSG_POSIX_REPLY)
        return -EPROTO;
    return rep.error < 0 ? rep.error : rep.value;
}

/* Checks a user path (readable, terminated within PATH_MAX_BYTES); returns its length or -errno. */
static int64_t path_len(const char *p)
{
    if (!p)
        return -EFAULT;
    for (size_t i = 0; i <= PATH_MAX_BYTES; i++) {
        if ((i == 0 || ((uintptr_t)(p + i) & 4095) == 0) && lanes_sys_mem_check(p + i, 1, 0) != 0)
            return -EFAULT;                 /* each page of the path before we read it */
        if (!p[i])
            return i == 0 ? -ENOENT : (int64_t)i;
    }
    return -ENAMETOOLONG;
}

static int64_t ret(int64_t r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/* ---- fds ---- */

static void forget(int fd)
{
    if (fd < 0 || fd >= OPEN_MAX)
        return;
    if (fds[fd].lane != LANES_HANDLE_NONE)
        lanes_sys_handle_close(fds[fd].lane);
    if (fds[fd].mapst == MAP_OK)
        lanes_sys_mem_unmap(fdmaps[fd].map, fdmaps[fd].len);
    if (fdmaps && fdmaps[fd].pos)
        lanes_sys_mem_unmap(fdmaps[fd].pos, LANES_PAGE_SIZE);
    if (fdmaps) {
        fdmaps[fd].pos = NULL;
        fdmaps[fd].posst = MAP_UNASKED;
    }
    if (fds[fd].ring)
        lanes_sys_mem_unmap(fds[fd].ring, RING_BYTES);
    fds[fd].ring = NULL;
    fds[fd].lane = LANES_HANDLE_NONE;
    fds[fd].kind = KIND_NONE;
    fds[fd].fs = false;
    fds[fd].mapst = MAP_UNASKED;
}

/* The cached description of fd, asking the server once. Returns 0 or -errno. Under lock. */
LIBC_HOT static int64_t lookup(int fd, struct fdcache **out)
{
    if (fd < 0 || fd >= OPEN_MAX)
        return -EBADF;
    if (fds[fd].kind == KIND_NONE) {
        struct lane_msg_posix_get_file m = lanes_msg_posix_get_file_encode(fd);
        int32_t lane = LANES_HANDLE_NONE;
        int64_t r = preq(&m, sizeof m, NULL, 0, &lane);
        if (r < 0) {
            if (lane != LANES_HANDLE_NONE)
                lanes_sys_handle_close(lane);
            return r;
        }
        fds[fd].kind = (uint8_t)(r & 0x7f);
        fds[fd].fs = (r & KIND_FS_BIT) != 0;
        fds[fd].lane = lane;
        fds[fd].ring = NULL;
        if (fds[fd].kind == KIND_PIPE) {
            /* its ring (without one — an older server, no memory — the lane does it all) */
            struct lane_msg_posix_get_ring g = lanes_msg_posix_get_ring_encode(fd);
            int32_t mem = LANES_HANDLE_NONE;
            int64_t e = preq(&g, sizeof g, NULL, 0, &mem);
            if (e >= 0 && mem != LANES_HANDLE_NONE) {
                int64_t a = lanes_sys_mem_map(mem, NULL, 0, RING_BYTES, LANES_PROT_READ | LANES_PROT_WRITE);
                if (a > 0) {
                    fds[fd].ring = (struct lane_pipe_ring *)(uintptr_t)a;
                    fds[fd].end = (uint8_t)(e & 1);
                }
            }
            if (mem != LANES_HANDLE_NONE)
                lanes_sys_handle_close(mem);
        }
    }
    *out = &fds[fd];
    return 0;
}

/* ---- a pipe's ring ---- */

static uint32_t ring_me(void) { return (uint32_t)lanes_startup->pid & 0x3fffffff; }

/* The ring's lock: our pid in its word, 0x40000000 added by a waiter (the unlock wakes one).
 * Held only for a copy of at most CHUNK bytes and a few words; posix frees it if we die holding
 * it. A signal's alert ends a wait here but not the attempt: the holder lets go soon. */
LIBC_HOT static void ring_lock(struct lane_pipe_ring *r)
{
    uint32_t me = ring_me(), v = 0;
    if (__atomic_compare_exchange_n(&r->lock, &v, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    for (;;) {
        v = __atomic_load_n(&r->lock, __ATOMIC_RELAXED);
        if (v == 0) {
            if (__atomic_compare_exchange_n(&r->lock, &v, me | 0x40000000, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                return;             /* (keeps the waiter mark: others may still wait) */
            continue;
        }
        if (!(v & 0x40000000) &&
            !__atomic_compare_exchange_n(&r->lock, &v, v | 0x40000000, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            continue;
        if (lanes_sys_futex_wait(&r->lock, v | 0x40000000, LANES_TIMEOUT_INFINITE) == LANES_E_DEAD)
            lanes_sys_sleep(LANES_MS(1));   /* posix is gone: the holder lets go soon (no wake-ups now) */
    }
}

static void ring_unlock(struct lane_pipe_ring *r)
{
    if (__atomic_exchange_n(&r->lock, 0, __ATOMIC_RELEASE) & 0x40000000)
        lanes_sys_futex_wake(&r->lock, 1);
}

static void ring_wake(uint32_t *word) { lanes_sys_futex_wake(word, UINT32_MAX); }

enum { RING_AGAIN, RING_INTR, RING_GONE };

/* Spin, then sleep. A reader that finds the ring empty (a writer that finds it full) while the
 * other end last ran on another CPU watches the ring for up to RING_SPIN_NS before it sleeps:
 * that end is likely running now, and its next write (read) lands in the watched words — no
 * futex wait, no wake-up system call on the other side (we are not counted in rwait/wwait yet),
 * and no wake-up IPI. It pays where a pipe connects two CPUs, a round trip's latency (issue 13);
 * on one CPU, or with both ends on the same one, nothing spins (the other end cannot run while
 * we do). The watch ends early at any change of hc or of our futex word (an end closed, the
 * mode changed) and when a signal wants the call to end (lanes_sig_cancel_requested: the alert
 * it sent then ends the wait that follows at once). The caller re-checks under the lock. */
#define RING_SPIN_NS 20000

static uint32_t ring_cpu(void) { return lanes_cpu_id() + 1; }

LIBC_HOT static void ring_spin(struct lane_pipe_ring *r, uint64_t hc, const uint32_t *word, uint32_t seq)
{
    uint64_t until = lanes_now_ns() + RING_SPIN_NS;
    while (__atomic_load_n(&r->hc, __ATOMIC_ACQUIRE) == hc && __atomic_load_n(word, __ATOMIC_ACQUIRE) == seq &&
           !lanes_sig_cancel_requested() && lanes_now_ns() < until)
        __builtin_ia32_pause();
}

/* Worth a spin: the other end's last CPU (1 + cpu, 0 none) is known and is not ours. */
static bool ring_other_cpu(uint32_t theirs, uint32_t mine) { return theirs != 0 && theirs != mine; }

/* Waits on the ring's futex word (seq read under the lock, before the state was checked, so a
 * change after our check moved it: no lost wake-up). The lock is not held. RING_INTR when a
 * signal interrupts the call (the in-syscall flag at 2: EINTR or the partial result); a signal
 * outside an interruptible call, or a wake-up, means look again (RING_AGAIN); RING_GONE: posix
 * crashed (EIO, as a request on its lane would end). A crashed posix cannot wake us, but it made
 * the ring with OWNER_WAKE: its end wakes every wait on the ring's words with DEAD, and a wait
 * begun later fails DEAD at once — so the wait needs no timeout (no timer armed per wait). */
LIBC_HOT static int ring_wait(uint32_t *word, uint32_t seq)
{
    /* "parked outside posix" (lane_sig_page.away, as around a wait on fs's lane, cancel.c): from
     * this wait to the call's end we make no request that reads or changes the mask, so posix
     * takes a signal into our page when it alerts us — the call's end needs no posix.SigTake */
    uint32_t *away = lanes_cancel_away_word ? lanes_cancel_away_word() : NULL;
    if (away)
        __atomic_store_n(away, 1, __ATOMIC_SEQ_CST);
    int64_t w = lanes_sys_futex_wait(word, seq, LANES_TIMEOUT_INFINITE);
    if (away)
        __atomic_store_n(away, 0, __ATOMIC_SEQ_CST);
    if ((w == LANES_E_INTERRUPTED || w == LANES_E_ALERTED) && lanes_sig_cancel_requested())
        return RING_INTR;
    if (w == LANES_E_DEAD)
        return lanes_sig_cancel_requested() ? RING_INTR : RING_GONE;
    return RING_AGAIN;
}

/* A read of at most n (<= CHUNK) bytes: what is there, 0 at EOF, -EAGAIN, -EINTR, RING_LANE. */
static int64_t ring_read(struct lane_pipe_ring *r, void *buf, size_t n)
{
    uint8_t *data = (uint8_t *)r + 4096;
    bool waiting = false, spun = false;
    uint32_t cpu = ring_cpu();
    for (;;) {
        ring_lock(r);
        if (waiting) {
            r->rwait--;
            waiting = false;
        }
        if (r->rcpu != cpu)
            r->rcpu = cpu;
        uint32_t seq = __atomic_load_n(&r->rseq, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&r->mode, __ATOMIC_SEQ_CST) != 0) {
            ring_unlock(r);
            return RING_LANE;
        }
        uint64_t hc = __atomic_load_n(&r->hc, __ATOMIC_SEQ_CST);
        uint32_t head = (uint32_t)hc % RING_CAP, count = (uint32_t)(hc >> 32);
        if (count > RING_CAP)
            count = RING_CAP;
        if (count > 0) {
            uint32_t k = count < n ? count : (uint32_t)n;
            uint32_t first = RING_CAP - head < k ? RING_CAP - head : k;
            memcpy(buf, data + head, first);
            memcpy((uint8_t *)buf + first, data, k - first);
            __atomic_store_n(&r->hc, (uint64_t)((head + k) % RING_CAP) | ((uint64_t)(count - k) << 32), __ATOMIC_SEQ_CST);
            bool wake = r->wwait != 0;
            if (wake)
                __atomic_add_fetch(&r->wseq, 1, __ATOMIC_SEQ_CST);
            ring_unlock(r);
            if (wake)
                ring_wake(&r->wseq);
            return k;
        }
        if (__atomic_load_n(&r->wclosed, __ATOMIC_SEQ_CST)) {
            ring_unlock(r);
            return 0;
        }
        if (__atomic_load_n(&r->rnonblock, __ATOMIC_SEQ_CST)) {
            ring_unlock(r);
            return -EAGAIN;
        }
        if (!spun && ring_other_cpu(__atomic_load_n(&r->wcpu, __ATOMIC_RELAXED), cpu)) {
            spun = true;
            ring_unlock(r);
            ring_spin(r, hc, &r->rseq, seq);
            continue;
        }
        r->rwait++;
        waiting = true;
        ring_unlock(r);
        int w = ring_wait(&r->rseq, seq);
        if (w != RING_AGAIN) {
            ring_lock(r);
            r->rwait--;
            ring_unlock(r);
            return w == RING_INTR ? -EINTR : -EIO;
        }
    }
}

/* A write of n bytes from buf: <= PIPE_BUF all at once (waiting for room), longer in pieces of
 * at most CHUNK as room appears. Returns n, or what went in before EPIPE / EAGAIN / EINTR / a
 * bad page (else that error); RING_LANE with *done set when posix took the ring meanwhile. */
static int64_t ring_write(struct lane_pipe_ring *r, const uint8_t *buf, size_t n, size_t *done)
{
    uint8_t *data = (uint8_t *)r + 4096;
    bool waiting = false, spun = false;
    uint32_t cpu = ring_cpu();
    *done = 0;
    for (;;) {
        size_t left = n - *done;
        if (*done && !user_mem(buf + *done, left > CHUNK ? CHUNK : left, false))
            return (int64_t)*done;  /* what was written before the bad page counts */
        ring_lock(r);
        if (waiting) {
            r->wwait--;
            waiting = false;
        }
        if (r->wcpu != cpu)
            r->wcpu = cpu;
        uint32_t seq = __atomic_load_n(&r->wseq, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&r->mode, __ATOMIC_SEQ_CST) != 0) {
            ring_unlock(r);
            return RING_LANE;
        }
        if (__atomic_load_n(&r->rclosed, __ATOMIC_SEQ_CST)) {
            ring_unlock(r);
            return *done ? (int64_t)*done : -EPIPE;
        }
        uint64_t hc = __atomic_load_n(&r->hc, __ATOMIC_SEQ_CST);
        uint32_t head = (uint32_t)hc % RING_CAP, count = (uint32_t)(hc >> 32);
        if (count > RING_CAP)
            count = RING_CAP;
        uint32_t room = RING_CAP - count;
        size_t k = left <= PIPE_BUF ? (room >= left ? left : 0) : (room < left ? room : left);
        if (k > CHUNK)
            k = CHUNK;
        if (k > 0) {
            uint32_t at = (head + count) % RING_CAP, first = RING_CAP - at < k ? RING_CAP - at : (uint32_t)k;
            memcpy(data + at, buf + *done, first);
            memcpy(data, buf + *done + first, k - first);
            __atomic_store_n(&r->hc, (uint64_t)head | ((uint64_t)(count + k) << 32), __ATOMIC_SEQ_CST);
            bool wake = r->rwait != 0;
            if (wake)
                __atomic_add_fetch(&r->rseq, 1, __ATOMIC_SEQ_CST);
            ring_unlock(r);
            if (wake)
                ring_wake(&r->rseq);
            *done += k;
            if (*done == n)
                return (int64_t)n;
            continue;
        }
        if (__atomic_load_n(&r->wnonblock, __ATOMIC_SEQ_CST)) {
            ring_unlock(r);
            return *done ? (int64_t)*done : -EAGAIN;
        }
        if (!spun && ring_other_cpu(__atomic_load_n(&r->rcpu, __ATOMIC_RELAXED), cpu)) {
            spun = true;
            ring_unlock(r);
            ring_spin(r, hc, &r->wseq, seq);
            continue;
        }
        r->wwait++;
        waiting = true;
        ring_unlock(r);
        int w = ring_wait(&r->wseq, seq);
        if (w != RING_AGAIN) {
            ring_lock(r);
            r->wwait--;
            ring_unlock(r);
            return *done ? (int64_t)*done : w == RING_INTR ? -EINTR : -EIO;
        }
    }
}

/* A raw lane client wants fd's lane: posix serves the pipe from now on (mode 1, for good);
 * waiters on the ring wake and come to the lane. Under px lock. */
static void ring_to_posix(struct lane_pipe_ring *r)
{
    ring_lock(r);
    __atomic_store_n(&r->mode, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&r->rseq, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&r->wseq, 1, __ATOMIC_SEQ_CST);
    ring_unlock(r);
    ring_wake(&r->rseq);
    ring_wake(&r->wseq);
}

/* The fs.Reply a call left at at (r: the call's length): its value, or -errno. With data, the
 * value is a count of bytes that must have come with it, at most want. */
static int64_t file_reply(const uint8_t *at, int64_t r, size_t want, bool data)
{
    struct lane_msg_fs_reply rep;
    if (r < 0)
        return r;
    if ((size_t)r < sizeof rep)
        return -EPROTO;
    memcpy(&rep, at, sizeof rep);
    if (rep.msg != LANES_MSG_FS_REPLY)
        return -EPROTO;
    if (rep.error < 0)
        return rep.error;
    if (data && (rep.value < 0 || (uint64_t)rep.value > want || (size_t)r - sizeof rep < (uint64_t)rep.value))
        return -EPROTO;
    return rep.value;
}

/* A file-protocol request on a description's lane; the reply (fs.Reply + data) lands in bounce.
 * Returns the value or -errno; *data points at the data. Under lock. */
static int64_t freq_id(int32_t lane, const void *msg, size_t len, const void *data, size_t dlen, size_t want,
                       const uint8_t **rdata, uint64_t id, uint64_t callno)
{
    int64_t r = call_id(lane, msg, len, data, dlen, bounce, sizeof(struct lane_msg_fs_reply) + want, NULL, NULL, 0,
                        id, callno);
    r = file_reply(bounce, r, want, rdata != NULL);
    if (r >= 0 && rdata)
        *rdata = bounce + sizeof(struct lane_msg_fs_reply);
    return r;
}

static int64_t freq(int32_t lane, const void *msg, size_t len, const void *data, size_t dlen, size_t want,
                    const uint8_t **rdata)
{
    return freq_id(lane, msg, len, data, dlen, want, rdata, 0, 0);
}

/* The POSIX syscall instance a request serves (the trace's `call`); 0 until the signal path
 * (issue 14) keeps one per thread. */
static uint64_t cur_call(void) { return lanes_sig_cur_call(); }

/* A buffer the caller may read (write) n bytes of; the kernel says (mem_check), so a bad
 * pointer is EFAULT here instead of a fault in our copy. One call moves at most CHUNK bytes,
 * so only what it will touch is checked (a large lazy buffer is not paged in whole). */
static bool user_mem(const void *p, size_t n, bool write)
{
    if (n == 0)
        return true;
    if (!p)
        return false;
    /* A buffer on the main thread's stack (the startup block says where; it stays mapped
     * read-write for the process's life) needs no system call: the common case of a local
     * buffer or struct timespec. */
    uintptr_t a = (uintptr_t)p, lo = lanes_startup ? lanes_startup->stack_base : 0;
    uintptr_t hi = lo + (lanes_startup ? lanes_startup->stack_size : 0);
    if (a >= lo && a < hi && n <= hi - a)
        return true;
    return lanes_sys_mem_check(p, n > CHUNK ? CHUNK : n, write) == 0;
}
#define user_readable(p, n) user_mem((p), (n), false)
#define user_writable(p, n) user_mem((p), (n), true)

static int64_t map_copy(struct fdcache *f, void *buf, size_t n, bool at_pos, uint64_t off);

static ssize_t read_(int fd, void *buf, size_t n)
{
    if (!user_writable(buf, n))
        return fail(EFAULT);
    px_lock();
    if (!ready()) {
        px_unlock();
        if (fd != 0)
            return fail(EBADF);
        int64_t r = lanes_console_read(buf, n > LANES_CONSOLE_MAX ? LANES_CONSOLE_MAX : n, LANES_TIMEOUT_INFINITE);
        return r < 0 ? fail(EIO) : r;
    }
    struct fdcache *f;
    int64_t r = lookup(fd, &f);
    if (r == 0) {
        if (f->kind == KIND_NULL) {
            r = 0;
        } else if (f->kind == KIND_CONSOLE) {
            px_unlock();
            r = lanes_console_read(buf, n > LANES_CONSOLE_MAX ? LANES_CONSOLE_MAX : n, LANES_TIMEOUT_INFINITE);
            /* (withdrawn for a signal: the console consumed nothing, so EINTR) */
            return r < 0 ? fail(r == LANES_E_INTERRUPTED ? EINTR : EIO) : r;
        } else if (f->kind == KIND_DIR) {
            r = -EISDIR;
        } else if (f->kind == KIND_FILE && f->fs && f->mapst != MAP_UNASKED &&
                   (r = map_copy(f, buf, n > CHUNK ? CHUNK : n, true, 0)) >= 0) {
            /* copied from the pages at the shared offset (not at an fd's first read: below) */
        } else if (f->ring && f->end == 0 && n > 0 &&
                   (r = ring_read(f->ring, buf, n > CHUNK ? CHUNK : n)) != RING_LANE) {
            /* (the ring's answer) */
        } else {
            size_t want = n > CHUNK ? CHUNK : n;
            uint64_t id = lanes_request_id();
            struct lane_msg_fs_read m =
                lanes_msg_fs_read_encode(want, id, cur_call(), may_wait(f) ? lanes_sig_cev(f->lane, id) : 0);
            const uint8_t *d;
            r = freq_id(f->lane, &m, sizeof m, NULL, 0, want, &d, id, m.call);
            if (r > 0)
                memcpy(buf, d, (size_t)r);
            if (f->kind == KIND_FILE && f->fs && f->mapst == MAP_UNASKED)
                f->mapst = MAP_SEEN;
        }
    }
    px_unlock();
    return ret(r);
}

static ssize_t write_(int fd, const void *buf, size_t n)
{
    if (!user_readable(buf, n))
        return fail(EFAULT);
    px_lock();
    if (!ready()) {
        px_unlock();
        if (fd != 1 && fd != 2)
            return fail(EBADF);
        return lanes_console_write(buf, n) < 0 ? fail(EIO) : (ssize_t)n;
    }
    struct fdcache *f;
    int64_t r = lookup(fd, &f);
    if (r == 0) {
        if (f->kind == KIND_NULL) {
            r = (int64_t)n;
        } else if (f->kind == KIND_CONSOLE) {
            px_unlock();
            return lanes_console_write(buf, n) < 0 ? fail(EIO) : (ssize_t)n;
        } else if (f->kind == KIND_DIR) {
            r = -EISDIR;
        } else {
            size_t done = 0;
            bool answered = false;
            if (f->ring && f->end == 1 && n > 0) {
                r = ring_write(f->ring, (const uint8_t *)buf, n, &done);
                answered = r != RING_LANE;  /* else posix took the ring: the rest goes to the lane */
                if (!answered)
                    r = 0;
            }
            while (!answered && done < n) {
                size_t k = n - done > CHUNK ? CHUNK : n - done;
                if (done && !user_readable((const uint8_t *)buf + done, k)) {
                    r = -EFAULT;            /* what was written before the bad page counts */
                    break;
                }
                uint64_t id = lanes_request_id();
                struct lane_msg_fs_write m =
                    lanes_msg_fs_write_encode(k, id, cur_call(), f->fs && f->kind == KIND_FIFO ? lanes_sig_cev(f->lane, id) : 0);
                r = freq_id(f->lane, &m, sizeof m, (const uint8_t *)buf + done, k, 0, NULL, id, m.call);
                if (r <= 0)
                    break;
                done += (size_t)r;
                if ((size_t)r < k)
                    break;
            }
            if (!answered && done > 0)
                r = (int64_t)done;
        }
    }
    px_unlock();
    return ret(r);
}

int64_t lanes_posix_stdout(const void *buf, size_t len)
{
    px_lock();
    struct fdcache *f = NULL;
    bool console = !ready() || lookup(1, &f) < 0 || f->kind == KIND_CONSOLE;
    px_unlock();
    if (console)
        return LANES_E_NOENT;
    ssize_t r = write(1, buf, len);
    return r < 0 ? LANES_E_INVAL : r;
}

/* The file's pages, mapped read-only (fs.Map; filemap.c). Under lock. */
static void map_file(struct fdcache *f)
{
    struct lane_msg_fs_map m = lanes_msg_fs_map_encode(0);
    struct lane_msg_fs_reply rep;
    int32_t h = LANES_HANDLE_NONE;
    int64_t r = call(f->lane, &m, sizeof m, NULL, 0, &rep, sizeof rep, &h, NULL, 0);
    f->mapst = MAP_NO;              /* a refusal (device, initrd pages, write-only) is for good */
    if (!fdmaps)
        fdmaps = calloc(OPEN_MAX, sizeof *fdmaps);
    if (fdmaps && r >= (int64_t)sizeof rep && rep.msg == LANES_MSG_FS_REPLY && rep.error == 0 &&
        rep.value > LANES_PAGE_SIZE && h != LANES_HANDLE_NONE) {
        int64_t a = lanes_sys_mem_map(h, NULL, 0, (uint64_t)rep.value, LANES_PROT_READ);
        if (a >= 0) {
            fdmaps[f - fds].map = (const struct lane_file_map *)(uintptr_t)a;
            fdmaps[f - fds].len = (size_t)rep.value;
            f->mapst = MAP_OK;
        }
    }
    if (h != LANES_HANDLE_NONE)
        lanes_sys_handle_close(h);  /* the mapping holds the object */
}

/* The description's offset page, mapped read-write (fs.MapPos; filemap.c). Under lock, with
 * the file's pages mapped (fdmaps exists). */
static void map_pos(struct fdcache *f)
{
    struct fdmap *fm = &fdmaps[f - fds];
    struct lane_msg_fs_map_pos m = lanes_msg_fs_map_pos_encode(0);
    struct lane_msg_fs_reply rep;
    int32_t h = LANES_HANDLE_NONE;
    int64_t r = call(f->lane, &m, sizeof m, NULL, 0, &rep, sizeof rep, &h, NULL, 0);
    fm->posst = MAP_NO;             /* a refusal (an older fs, no memory) is for good */
    if (r >= (int64_t)sizeof rep && rep.msg == LANES_MSG_FS_REPLY && rep.error == 0 && rep.value == LANES_PAGE_SIZE &&
        h != LANES_HANDLE_NONE) {
        int64_t a = lanes_sys_mem_map(h, NULL, 0, LANES_PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE);
        if (a >= 0) {
            fm->pos = (struct lane_file_pos *)(uintptr_t)a;
            fm->posst = MAP_OK;
        }
    }
    if (h != LANES_HANDLE_NONE)
        lanes_sys_handle_close(h);
}

/* read (at_pos: at the description's shared offset, which moves past what was copied) or pread
 * (at off) from the mapped pages: bytes copied, or -1 to ask fs over the lane. Under lock. */
static int64_t map_copy(struct fdcache *f, void *buf, size_t n, bool at_pos, uint64_t off)
{
    for (int again = 0; again < 2; again++) {
        if (f->mapst == MAP_UNASKED || f->mapst == MAP_SEEN)
            map_file(f);
        if (f->mapst != MAP_OK)
            return -1;
        struct fdmap *m = &fdmaps[f - fds];
        if (at_pos && m->posst == MAP_UNASKED)
            map_pos(f);
        if (at_pos && m->posst != MAP_OK)
            return -1;
        int64_t r = at_pos ? __file_pos_read(m->map, m->len, m->pos, buf, n) : __file_map_copy(m->map, m->len, buf, n, off);
        if (r != -2)
            return r;
        lanes_sys_mem_unmap(m->map, m->len);        /* retired: the file grew into a new object */
        f->mapst = MAP_UNASKED;
    }
    return -1;
}

/* lseek without a request, where the offset is mapped: SEEK_SET stores it, SEEK_CUR swaps it
 * from the value it added to. Returns the new offset, -errno, or 1 << 63 to ask fs (SEEK_END needs
 * the size fs keeps; anything else fs judges). Under lock. */
#define SEEK_ASK_FS INT64_MIN
static int64_t pos_seek(struct fdcache *f, off_t off, int whence)
{
    if (f->kind != KIND_FILE || !f->fs || f->mapst != MAP_OK || fdmaps[f - fds].posst != MAP_OK)
        return SEEK_ASK_FS;
    struct lane_file_pos *p = fdmaps[f - fds].pos;
    if (whence == SEEK_SET) {
        if (off < 0)
            return -EINVAL;
        __atomic_store_n(&p->off, (uint64_t)off, __ATOMIC_SEQ_CST);
        return off;
    }
    if (whence != SEEK_CUR)
        return SEEK_ASK_FS;
    for (;;) {
        uint64_t cur = __atomic_load_n(&p->off, __ATOMIC_SEQ_CST);
        if ((int64_t)cur < 0 || (off > 0 && (int64_t)cur > INT64_MAX - off))
            return (int64_t)cur < 0 ? -EINVAL : -EOVERFLOW;
        int64_t to = (int64_t)cur + off;
        if (to < 0)
            return -EINVAL;
        if (__atomic_compare_exchange_n(&p->off, &cur, (uint64_t)to, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            return to;
    }
}

/* pread and pwrite: one chunk at `off` of a regular file, over its passthrough lane to fs
 * (rbuf to read into, or wbuf to write from). A pread of an fs file copies from its mapped
 * pages when it can (map_copy), without a request. */
static ssize_t pio(int fd, void *rbuf, const void *wbuf, size_t n, off_t off)
{
    if (rbuf ? !user_writable(rbuf, n) : !user_readable(wbuf, n))
        return fail(EFAULT);
    if (off < 0)
        return fail(EINVAL);
    px_lock();
    struct fdcache *f;
    int64_t r = ready() ? lookup(fd, &f) : -EBADF;
    if (r == 0) {
        size_t k = n > CHUNK ? CHUNK : n;
        if (f->kind != KIND_FILE) {
            r = f->kind == KIND_DIR ? -EISDIR : -ESPIPE;
        } else if (rbuf && f->fs && (r = map_copy(f, rbuf, k, false, (uint64_t)off)) >= 0) {
            /* copied from the pages */
        } else if (rbuf) {
            struct lane_msg_fs_pread m = lanes_msg_fs_pread_encode((uint64_t)off, k);
            const uint8_t *d;
            r = freq(f->lane, &m, sizeof m, NULL, 0, k, &d);
            if (r > 0)
                memcpy(rbuf, d, (size_t)r);
        } else {
            struct lane_msg_fs_pwrite m = lanes_msg_fs_pwrite_encode((uint64_t)off, k);
            r = freq(f->lane, &m, sizeof m, wbuf, k, 0, NULL);
        }
    }
    px_unlock();
    return ret(r);
}

static ssize_t pread_(int fd, void *buf, size_t n, off_t off)
{
    return pio(fd, buf, NULL, n, off);
}

static ssize_t pwrite_(int fd, const void *buf, size_t n, off_t off)
{
    return pio(fd, NULL, buf, n, off);
}

static off_t lseek_(int fd, off_t off, int whence)
{
    px_lock();
    struct fdcache *f;
    int64_t r = ready() ? lookup(fd, &f) : -EBADF;
    if (r == 0) {
        if (f->kind != KIND_FILE && f->kind != KIND_DIR) {
            r = -ESPIPE;
        } else if ((r = pos_seek(f, off, whence)) != SEEK_ASK_FS) {
            /* moved the shared offset */
        } else {
            struct lane_msg_fs_seek m = lanes_msg_fs_seek_encode(off, (uint32_t)whence);
            r = freq(f->lane, &m, sizeof m, NULL, 0, 0, NULL);
        }
    }
    px_unlock();
    return ret(r);
}

static ssize_t getdents_(int fd, void *buf, size_t size)
{
    if (!user_writable(buf, size))
        return fail(EFAULT);
    px_lock();
    struct fdcache *f;
    int64_t r = ready() ? lookup(fd, &f) : -EBADF;
    if (r == 0) {
        if (f->kind != KIND_DIR) {
            r = -ENOTDIR;
        } else {
            size_t want = size > CHUNK ? CHUNK : size;
            struct lane_msg_fs_readdir m = lanes_msg_fs_readdir_encode(want);
            const uint8_t *d;
            r = freq(f->lane, &m, sizeof m, NULL, 0, want, &d);
            if (r > 0)
                memcpy(buf, d, (size_t)r);
        }
    }
    px_unlock();
    return ret(r);
}

static int attr_to_stat(const struct lane_msg_fs_attr *a, struct stat *st)
{
    if (a->error < 0)
        return a->error;
    memset(st, 0, sizeof *st);
    st->st_dev = a->dev;
    st->st_ino = a->ino;
    st->st_nlink = a->nlink;
    st->st_mode = a->mode;
    st->st_size = (off_t)a->size;
    return 0;
}

static int fstat_(int fd, struct stat *st)
{
    if (!user_writable(st, sizeof *st))
        return fail(EFAULT);
    px_lock();
    struct fdcache *f;
    int64_t r = ready() ? lookup(fd, &f) : -EBADF;
    if (r == 0) {
        if (f->kind == KIND_CONSOLE || f->kind == KIND_NULL) {
            memset(st, 0, sizeof *st);
            st->st_mode = S_IFCHR | 0666;
            st->st_nlink = 1;
        } else {
            struct lane_msg_fs_fstat m = lanes_msg_fs_fstat_encode(0);
            struct lane_msg_fs_attr a;
            r = call(f->lane, &m, sizeof m, NULL, 0, &a, sizeof a, NULL, NULL, 0);
            if (r >= 0)
                r = (size_t)r < sizeof a || a.msg != LANES_MSG_FS_ATTR ? -EPROTO : attr_to_stat(&a, st);
        }
    }
    px_unlock();
    return (int)ret(r);
}

/* ---- path requests to the server ---- */

/* Opening for writing where the file may be under /sys (an absolute /sys path, or a relative
 * one) by a process holding the SYSTEM capability: posix.OpenSys with that handle pushed, so
 * the server can write sysfs attributes with the opener's right (posix/sysfs.c). */
static int32_t sys_for_open(const char *path, int flags)
{
    if ((flags & O_ACCMODE) == O_RDONLY)
        return LANES_HANDLE_NONE;
    if (path[0] == '/' && (strncmp(path, "/sys", 4) != 0 || (path[4] != 0 && path[4] != '/')))
        return LANES_HANDLE_NONE;
    return lanes_handle_by_tag("system");
}

static int openat_(int dirfd, const char *path, int flags, mode_t mode)
{
    int64_t len = path_len(path);
    if (len < 0)
        return fail((int)-len);
    px_lock();
    int64_t r = -ENOSYS;
    if (ready()) {
        struct lane_msg_posix_open m = lanes_msg_posix_open_encode(dirfd, (uint32_t)flags, mode, (uint32_t)len);
        int32_t lane = LANES_HANDLE_NONE, sys = sys_for_open(path, flags);
        if (sys == LANES_HANDLE_NONE) {
            r = preq(&m, sizeof m, path, (size_t)len, &lane);
        } else {
            struct lane_msg_posix_open_sys ms = lanes_msg_posix_open_sys_encode(dirfd, (uint32_t)flags, mode, (uint32_t)len);
            struct lane_msg_posix_reply rep;
            r = call(posix_lane, &ms, sizeof ms, path, (size_t)len, &rep, sizeof rep, &lane, &sys, 1);
            if (r >= 0)
                r = (size_t)r < sizeof rep || rep.msg != LANES_MSG_POSIX_REPLY ? -EPROTO : rep.error < 0 ? rep.error : rep.value;
        }
        int fd = (int)(r & 0xffffffff);
        if (r >= 0 && fd < OPEN_MAX) {
            /* value: fd | kind << 32; the description's lane came with the reply */
            forget(fd);
            fds[fd].kind = (uint8_t)((r >> 32) & 0x7f);
            fds[fd].fs = ((r >> 32) & KIND_FS_BIT) != 0;
            fds[fd].lane = lane;
            r = fd;
            if (fds[fd].kind == KIND_FIFO && !((flags & O_ACCMODE) == O_RDONLY && (flags & O_NONBLOCK))) {
                /* open(2) of a FIFO waits for the other end: on the FIFO's own lane, cancellable */
                uint64_t id = lanes_request_id();
                struct lane_msg_fs_open_wait w =
                    lanes_msg_fs_open_wait_encode(id, cur_call(), fds[fd].fs ? lanes_sig_cev(lane, id) : 0);
                int64_t wr = freq_id(lane, &w, sizeof w, NULL, 0, 0, NULL, id, w.call);
                if (wr < 0) {
                    struct lane_msg_posix_close cm = lanes_msg_posix_close_encode(fd);
                    preq(&cm, sizeof cm, NULL, 0, NULL);
                    forget(fd);
                    r = wr;
                }
            }
        } else if (lane != LANES_HANDLE_NONE) {
            lanes_sys_handle_close(lane);
        }
    }
    px_unlock();
    return (int)ret(r);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & O_CREAT) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return openat(AT_FDCWD, path, flags, mode);
}

int creat(const char *path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

static int close_(int fd)
{
    px_lock();
    int64_t r = -EBADF;
    if (ready()) {
        struct lane_msg_posix_close m = lanes_msg_posix_close_encode(fd);
        r = preq(&m, sizeof m, NULL, 0, NULL);
        if (r >= 0)
            forget(fd);
    }
    px_unlock();
    return (int)ret(r);
}

static int dup_req(int fd, int newfd, int minfd, uint32_t flags);
static int dup_req_(int fd, int newfd, int minfd, uint32_t flags)
{
    px_lock();
    int64_t r = -EBADF;
    if (ready()) {
        struct lane_msg_posix_dup m = lanes_msg_posix_dup_encode(fd, newfd, minfd, flags);
        r = preq(&m, sizeof m, NULL, 0, NULL);
        if (r >= 0 && r != fd)
            forget((int)r);
    }
    px_unlock();
    return (int)ret(r);
}

int dup(int fd) { return dup_req(fd, -1, 0, 0); }
int dup2(int fd, int newfd)
{
    if (newfd < 0 || newfd >= OPEN_MAX)
        return fail(EBADF);
    return dup_req(fd, newfd, 0, 0);
}

static int fcntl_(int fd, int cmd, long arg)
{
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
        if (arg < 0 || arg >= OPEN_MAX)
            return fail(EINVAL);
        return dup_req(fd, -1, (int)arg, cmd == F_DUPFD_CLOEXEC ? FD_CLOEXEC : 0);
    }
    px_lock();
    int64_t r = -EBADF;
    if (ready()) {
        struct lane_msg_posix_fcntl m = lanes_msg_posix_fcntl_encode(fd, cmd, arg);
        r = preq(&m, sizeof m, NULL, 0, NULL);
    }
    px_unlock();
    return (int)ret(r);
}

static int pipe2_(int fdv[2], int flags)
{
    if (!user_writable(fdv, 2 * sizeof(int)))
        return fail(EFAULT);
    px_lock();
    int64_t r = -ENOSYS;
    if (ready()) {
        struct lane_msg_posix_pipe m = lanes_msg_posix_pipe_encode((uint32_t)flags);
        r = preq(&m, sizeof m, NULL, 0, NULL);
        if (r >= 0) {
            fdv[0] = (int)(r & 0xffffffff);
            fdv[1] = (int)(r >> 32);
            forget(fdv[0]);
            forget(fdv[1]);
            r = 0;
        }
    }
    px_unlock();
    return (int)ret(r);
}

int pipe(int fdv[2]) { return pipe2(fdv, 0); }

/* A request carrying one path after its header; reply posix.Reply. */
static int64_t path_req(const void *msg, size_t len, const char *path)
{
    int64_t plen = path_len(path);
    if (plen < 0)
        return plen;
    px_lock();
    int64_t r = ready() ? preq(msg, len, path, (size_t)plen, NULL) : -ENOSYS;
    px_unlock();
    return r;
}

static int mkdirat_(int dirfd, const char *path, mode_t mode)
{
    int64_t plen = path_len(path);
    if (plen < 0)
        return fail((int)-plen);
    struct lane_msg_posix_mkdir m = lanes_msg_posix_mkdir_encode(dirfd, mode, (uint32_t)plen);
    return (int)ret(path_req(&m, sizeof m, path));
}
int mkdir(const char *path, mode_t mode) { return mkdirat(AT_FDCWD, path, mode & 07777); }
/* A FIFO is made by a mkdir whose mode says S_IFIFO (posix and fs pass that bit through). */
int mkfifo(const char *path, mode_t mode) { return mkdirat(AT_FDCWD, path, S_IFIFO | (mode & 07777)); }

static int unlinkat_(int dirfd, const char *path, int flags)
{
    int64_t plen = path_len(path);
    if (plen < 0)
        return fail((int)-plen);
    struct lane_msg_posix_unlink m = lanes_msg_posix_unlink_encode(dirfd, (uint32_t)flags, (uint32_t)plen);
    return (int)ret(path_req(&m, sizeof m, path));
}
int unlink(const char *path) { return unlinkat(AT_FDCWD, path, 0); }
int rmdir(const char *path) { return unlinkat(AT_FDCWD, path, AT_REMOVEDIR); }

static int chdir_(const char *path)
{
    int64_t plen = path_len(path);
    if (plen < 0)
        return fail((int)-plen);
    struct lane_msg_posix_chdir m = lanes_msg_posix_chdir_encode((uint32_t)plen);
    return (int)ret(path_req(&m, sizeof m, path));
}

static int rename_(const char *oldpath, const char *newpath)
{
    int64_t a = path_len(oldpath), b = path_len(newpath);
    if (a < 0 || b < 0)
        return fail((int)-(a < 0 ? a : b));
    char *both = malloc((size_t)(a + b));
    if (!both)
        return fail(ENOMEM);
    memcpy(both, oldpath, (size_t)a);
    memcpy(both + a, newpath, (size_t)b);
    struct lane_msg_posix_rename m = lanes_msg_posix_rename_encode((uint32_t)a, (uint32_t)b);
    px_lock();
    int64_t r = ready() ? preq(&m, sizeof m, both, (size_t)(a + b), NULL) : -ENOSYS;
    px_unlock();
    free(both);
    return (int)ret(r);
}

static int fstatat_(int dirfd, const char *path, struct stat *st, int flags)
{
    (void)flags;
    if (!user_writable(st, sizeof *st))
        return fail(EFAULT);
    int64_t plen = path_len(path);
    if (plen < 0)
        return fail((int)-plen);
    struct lane_msg_posix_stat m = lanes_msg_posix_stat_encode(dirfd, (uint32_t)plen);
    struct lane_msg_fs_attr a;
    px_lock();
    int64_t r = -ENOSYS;
    if (ready()) {
        r = call(posix_lane, &m, sizeof m, path, (size_t)plen, &a, sizeof a, NULL, NULL, 0);
        if (r >= 0)
            r = (size_t)r < sizeof a || a.msg != LANES_MSG_FS_ATTR ? -EPROTO : attr_to_stat(&a, st);
    }
    px_unlock();
    return (int)ret(r);
}
int stat(const char *path, struct stat *st) { return fstatat(AT_FDCWD, path, st, 0); }

static char *getcwd_(char *buf, size_t size)
{
    if (!user_writable(buf, size ? size : 1))
        return fail(EFAULT), NULL;
    if (size == 0)
        return fail(EINVAL), NULL;
    struct lane_msg_posix_getcwd m = lanes_msg_posix_getcwd_encode(size > PATH_MAX_BYTES ? PATH_MAX_BYTES + 1 : (uint32_t)size);
    px_lock();
    int64_t r = -ENOSYS;
    if (ready()) {
        r = call(posix_lane, &m, sizeof m, NULL, 0, bounce, 64 + PATH_MAX_BYTES + 1, NULL, NULL, 0);
        struct lane_msg_posix_reply rep;
        if (r >= 0 && (size_t)r < sizeof rep)
            r = -EPROTO;
        if (r >= 0) {
            memcpy(&rep, bounce, sizeof rep);
            if (rep.error < 0)
                r = rep.error;
            else if ((uint64_t)rep.value + 1 > size)
                r = -ERANGE;
            else if ((uint64_t)r < sizeof rep + (uint64_t)rep.value)
                r = -EPROTO;
            else {
                memcpy(buf, bounce + sizeof rep, (size_t)rep.value);
                buf[rep.value] = 0;
                r = 0;
            }
        }
    }
    px_unlock();
    return ret(r) < 0 ? NULL : buf;
}

mode_t umask(mode_t mask)
{
    struct lane_msg_posix_umask m = lanes_msg_posix_umask_encode(mask & 0777);
    px_lock();
    int64_t r = ready() ? preq(&m, sizeof m, NULL, 0, NULL) : 022;
    px_unlock();
    return r < 0 ? 022 : (mode_t)r;
}

/* ---- processes ---- */

pid_t getpid(void) { return (pid_t)lanes_startup->pid; }
pid_t gettid(void) { return (pid_t)lanes_sys_thread_self(); }

static int64_t get_ids(struct lane_msg_posix_ids *ids)
{
    struct lane_msg_posix_get_ids m = lanes_msg_posix_get_ids_encode(0);
    px_lock();
    int64_t r = -ENOSYS;
    if (ready()) {
        r = call(posix_lane, &m, sizeof m, NULL, 0, ids, sizeof *ids, NULL, NULL, 0);
        if (r >= 0)
            r = (size_t)r < sizeof *ids || ids->msg != LANES_MSG_POSIX_IDS ? -EPROTO : 0;
    }
    px_unlock();
    return r;
}

pid_t getppid(void)
{
    struct lane_msg_posix_ids ids;
    return get_ids(&ids) < 0 ? 1 : ids.ppid;
}

pid_t getpgrp(void) { return getpgid(0); }
pid_t getsid(pid_t pid)
{
    struct lane_msg_posix_ids ids;
    if (pid != 0 && pid != getpid())
        return fail(ESRCH);
    int64_t r = get_ids(&ids);
    return r < 0 ? (pid_t)ret(r) : ids.sid;
}

static int setpgid_(pid_t pid, pid_t pgid)
{
    struct lane_msg_posix_set_pgid m = lanes_msg_posix_set_pgid_encode(pid, pgid);
    px_lock();
    int64_t r = ready() ? preq(&m, sizeof m, NULL, 0, NULL) : -ENOSYS;
    px_unlock();
    return (int)ret(r);
}

/* The console's foreground process group (posix's tty.c): fd must be the console. */
int tcsetpgrp(int fd, pid_t pgid)
{
    struct lane_msg_posix_tc_set_pgrp m = lanes_msg_posix_tc_set_pgrp_encode(fd, pgid);
    lanes_mutex_lock(&lock);
    int64_t r = ready() ? preq(&m, sizeof m, NULL, 0, NULL) : -ENOTTY;
    lanes_mutex_unlock(&lock);
    return (int)ret(r);
}

pid_t tcgetpgrp(int fd)
{
    struct lane_msg_posix_tc_get_pgrp m = lanes_msg_posix_tc_get_pgrp_encode(fd);
    lanes_mutex_lock(&lock);
    int64_t r = ready() ? preq(&m, sizeof m, NULL, 0, NULL) : -ENOTTY;
    lanes_mutex_unlock(&lock);
    return (pid_t)ret(r);
}

pid_t getpgid(pid_t pid)
{
    struct lane_msg_posix_get_pgid m = lanes_msg_posix_get_pgid_encode(pid);
    px_lock();
    int64_t r = ready() ? preq(&m, sizeof m, NULL, 0, NULL) : -ENOSYS;
    px_unlock();
    return (pid_t)ret(r);
}

static int kill_(pid_t pid, int sig)
{
    /* on this thread's own queue, without the lock: another thread may sit in a read */
    struct lane_msg_posix_kill m = lanes_msg_posix_kill_encode(pid, sig);
    struct lane_msg_posix_reply rep;
    struct lanes_queue *qq = lanes_sig_queue();
    int64_t r = qq ? lanes_posix_sig_request(qq, &m, sizeof m, LANES_HANDLE_NONE, &rep, sizeof rep) : -ENOMEM;
    if (r >= 0)
        r = r < (int64_t)sizeof rep || rep.msg != LANES_MSG_POSIX_REPLY ? -EPROTO : rep.error < 0 ? rep.error : rep.value;
    return (int)ret(r);
}

void _exit(int status)
{
    lanes_console_flush();
    lanes_sys_exit(status & 0xff);
    for (;;) {}
}

/* Children we spawned: their PROCESS handles, so waitpid can tell how one ended in the
 * kernel's words (lanes_posix_last_exit) — the shell prints faults from it. */
#define MAX_KIDS 64
static struct { pid_t pid; int32_t proc; } kids[MAX_KIDS];
static struct lane_exit_info last_exit;
static pid_t last_exit_pid;

static pid_t waitpid_(pid_t pid, int *status, int options)
{
    struct lane_msg_posix_wait m = lanes_msg_posix_wait_encode(pid, (uint32_t)options, (uint32_t)lanes_sys_thread_self());
    struct lane_msg_posix_wait_reply rep;
    px_lock();
    int64_t r = -ECHILD;
    if (ready()) {
        r = call(posix_lane, &m, sizeof m, NULL, 0, &rep, sizeof rep, NULL, NULL, 0);
        if (r >= 0)
            r = (size_t)r < sizeof rep || rep.msg != LANES_MSG_POSIX_WAIT_REPLY ? -EPROTO
                : rep.error < 0                                                 ? rep.error
                                                                                : rep.pid;
    }
    if (r > 0 && !WIFSTOPPED(rep.status) && !WIFCONTINUED(rep.status)) {   /* (a stopped child lives on) */
        for (int i = 0; i < MAX_KIDS; i++) {
            if (kids[i].pid != r)
                continue;
            memset(&last_exit, 0, sizeof last_exit);
            lanes_wait(kids[i].proc, &last_exit, LANES_MS(100));
            last_exit_pid = (pid_t)r;
            lanes_sys_process_kill(kids[i].proc, 1);   /* a faulted child is only stopped */
            lanes_sys_handle_close(kids[i].proc);
            kids[i].pid = 0;
        }
    }
    if (r > 0 && status)
        *status = rep.status;
    px_unlock();
    return (pid_t)ret(r);
}

pid_t wait(int *status) { return waitpid(-1, status, 0); }

int lanes_posix_last_exit(pid_t pid, struct lane_exit_info *info)
{
    if (pid != last_exit_pid)
        return -1;
    *info = last_exit;
    return 0;
}

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
    fa->n = 0;
    return 0;
}
int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
    (void)fa;
    return 0;
}
static int add_action(posix_spawn_file_actions_t *fa, int op, int fd, int newfd)
{
    if (fd < 0 || fd >= OPEN_MAX || newfd < 0 || newfd >= OPEN_MAX)
        return EBADF;
    if (fa->n >= POSIX_SPAWN_MAX_ACTIONS)
        return ENOMEM;
    fa->a[fa->n].op = op;
    fa->a[fa->n].fd = fd;
    fa->a[fa->n].newfd = newfd;
    fa->n++;
    return 0;
}
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
    return add_action(fa, 1, fd, newfd);
}
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd) { return add_action(fa, 2, fd, 0); }

/* Reads a whole file (the program image, for posix_spawn and fork.c's execve) into memory.
 *
 * A file of fs is asked for whole with one fs.Load into a LOAD_MAX buffer (its pages are only
 * made where the reply lands): one round trip where fs.Fstat and a chain of fs.Read took eight
 * for a 100 KiB program. fs's reply lands straight in the buffer, its 16-byte header just before
 * the bytes, so nothing is copied again here. A longer file (-EFBIG), or one of another server,
 * goes by fstat and fs.Read: each later header lands over the last 16 bytes of the reply
 * before it, which are kept aside for the call. *mem is what to free. With fdp the file stays
 * open (close-on-exec: execve leaves it to posix.Exec, which closes it anyway) and *fdp is its
 * fd; otherwise it is closed here. */
#define LOAD_MAX (256 * 1024)
int __posix_read_file(const char *path, uint8_t **out, size_t *len, void **mem, int *fdp);
#define read_file __posix_read_file

/* fs.Load of fd into a new buffer: the size (*raw set), -EFBIG / -ENOMEM to read otherwise, or
 * -errno. */
static int64_t load_file(int fd, uint8_t **raw)
{
    const size_t hdr = sizeof(struct lane_msg_fs_reply);
    *raw = NULL;
    px_lock();
    struct fdcache *f;
    int64_t r = ready() ? lookup(fd, &f) : -EBADF;
    if (r == 0 && (!f->fs || f->kind != KIND_FILE))
        r = -EFBIG;         /* not a file of fs: fstat says what it is */
    if (r == 0) {
        uint8_t *b = malloc(hdr + LOAD_MAX + 1);
        struct lane_msg_fs_load m = lanes_msg_fs_load_encode(LOAD_MAX);
        r = b ? file_reply(b, call(f->lane, &m, sizeof m, NULL, 0, b, hdr + LOAD_MAX, NULL, NULL, 0), LOAD_MAX, true)
              : -ENOMEM;
        if (r >= 0)
            *raw = b;
        else
            free(b);
    }
    px_unlock();
    return r;
}

int read_file(const char *path, uint8_t **out, size_t *len, void **mem, int *fdp)
{
    const size_t hdr = sizeof(struct lane_msg_fs_reply);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    uint8_t *raw = NULL;
    size_t got = 0;
    int64_t r = load_file(fd, &raw);
    if (r >= 0) {
        got = (size_t)r;
    } else if (r == -EFBIG || r == -ENOMEM) {
        struct stat st;
        int e = fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EACCES;
        size_t size = e ? 0 : (size_t)st.st_size;
        r = e                                       ? -e
            : size >= SIZE_MAX - hdr - 1            ? -ENOMEM
            : !(raw = malloc(hdr + size + 1))       ? -ENOMEM
                                                    : 0;
        while (r >= 0 && got < size) {
            uint8_t keep[sizeof(struct lane_msg_fs_reply)];
            uint8_t *at = raw + got;         /* the reply: header, then bytes got.. at raw + 16 + got */
            memcpy(keep, at, hdr);
            px_lock();
            struct fdcache *f;
            r = ready() ? lookup(fd, &f) : -EBADF;
            if (r == 0) {
                struct lane_msg_fs_read m = lanes_msg_fs_read_encode(size - got, 0, 0, 0);
                r = file_reply(at, call(f->lane, &m, sizeof m, NULL, 0, at, hdr + size - got, NULL, NULL, 0),
                               size - got, true);
            }
            px_unlock();
            memcpy(at, keep, hdr);
            if (r <= 0)
                break;      /* (0: the file shrank meanwhile: what was there) */
            got += (size_t)r;
        }
    }
    if (r < 0 || !fdp)
        close(fd);
    if (r < 0) {
        free(raw);
        return (int)-r;
    }
    if (fdp)
        *fdp = fd;
    *mem = raw;
    *out = raw + hdr;
    *len = got;
    return 0;
}

static int posix_spawn_(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[])
{
    (void)attr;
    if (!lanes_posix_active())
        return ENOSYS;
    uint8_t *image = NULL;
    void *mem = NULL;
    size_t len = 0;
    int e = read_file(path, &image, &len, &mem, NULL);
    if (e)
        return e;
    int argc = 0;
    size_t strings = 0;         /* argv and envp strings: the kernel takes at most ARG_MAX (64 KiB) */
    while (argv && argv[argc])
        strings += strlen(argv[argc++]) + 1;
    for (int i = 0; envp && envp[i]; i++)
        strings += strlen(envp[i]) + 1;
    if (strings > 64 * 1024) {
        free(mem);
        return E2BIG;
    }
    int32_t l[2];
    if (lanes_stream(l) < 0) {
        free(mem);
        return ENOMEM;
    }
    struct lane_spawn_handle extra[4];
    int n = 0;
    memset(extra, 0, sizeof extra);
    int32_t pass[4] = { l[1], lanes_console_lane(), lanes_handle_by_tag("mbus"), lanes_handle_by_tag("supervisor") };
    static const char *const tags[4] = { "posix", "console", "mbus", "supervisor" };
    for (int i = 0; i < 4; i++) {
        if (pass[i] == LANES_HANDLE_NONE)
            continue;
        extra[n].handle = pass[i];
        extra[n].rights = LANES_RIGHT_ALL;
        strlcpy(extra[n].tag, tags[i], sizeof extra[n].tag);
        n++;
    }
    struct lanes_spawn_opts opts = { lanes_handle_by_tag("supervisor"), extra, n, true };
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dflt[2] = { name, NULL };
    int64_t p = lanes_spawn_image_env(name, image, len, argc ? argc : 1, argc ? (const char *const *)argv : dflt,
                                      (const char *const *)envp, &opts);
    free(mem);
    lanes_sys_handle_close(l[1]);
    if (p < 0) {
        lanes_sys_handle_close(l[0]);
        return p == LANES_E_BADELF ? ENOEXEC : p == LANES_E_NOMEM ? ENOMEM : p == LANES_E_ACCESS ? EACCES : EIO;
    }
    struct lane_handle_info hi;
    memset(&hi, 0, sizeof hi);
    lanes_sys_handle_info((int32_t)p, &hi);
    uint32_t child = (uint32_t)hi.size;         /* a PROCESS handle's size is its pid */
    /* Register it: header, actions, then its lane and a copy of its PROCESS handle are pushed. */
    uint8_t msg[sizeof(struct lane_msg_posix_spawn) + POSIX_SPAWN_MAX_ACTIONS * sizeof(struct lane_msg_posix_spawn_action)];
    uint32_t na = fa ? (uint32_t)fa->n : 0;
    struct lane_msg_posix_spawn h = lanes_msg_posix_spawn_encode(child, na, (uint32_t)lanes_sys_thread_self(), 0);
    memcpy(msg, &h, sizeof h);
    for (uint32_t i = 0; i < na; i++) {
        struct lane_msg_posix_spawn_action a =
            lanes_msg_posix_spawn_action_encode((uint32_t)fa->a[i].op, fa->a[i].fd, fa->a[i].newfd);
        memcpy(msg + sizeof h + i * sizeof a, &a, sizeof a);
    }
    int64_t dupd = lanes_sys_handle_dup((int32_t)p, LANES_RIGHT_ALL);
    int32_t push[2] = { l[0], (int32_t)dupd };
    struct lane_msg_posix_reply rep;
    px_lock();
    int64_t r = dupd < 0 ? -ENOMEM
                         : call(posix_lane, msg, sizeof h + na * sizeof(struct lane_msg_posix_spawn_action), NULL, 0,
                                &rep, sizeof rep, NULL, push, 2);
    if (r >= 0)
        r = (size_t)r < sizeof rep || rep.msg != LANES_MSG_POSIX_REPLY ? -EPROTO : rep.error < 0 ? rep.error : rep.value;
    int slot = -1;
    for (int i = 0; r >= 0 && i < MAX_KIDS && slot < 0; i++)
        if (kids[i].pid == 0)
            slot = i;
    if (r >= 0 && slot >= 0) {
        kids[slot].pid = (pid_t)r;
        kids[slot].proc = (int32_t)p;
    }
    px_unlock();
    lanes_sys_handle_close(l[0]);
    if (dupd >= 0)
        lanes_sys_handle_close((int32_t)dupd);
    if (r < 0) {
        lanes_sys_process_kill((int32_t)p, 1);   /* the server refused it: it never runs as POSIX */
        lanes_sys_handle_close((int32_t)p);
        return (int)-r;
    }
    if (slot < 0)
        lanes_sys_handle_close((int32_t)p);
    if (pid)
        *pid = (pid_t)r;
    return 0;
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[])
{
    if (strchr(file, '/'))
        return posix_spawn(pid, file, fa, attr, argv, envp);
    char path[256];
    if (snprintf(path, sizeof path, "/bin/%s", file) >= (int)sizeof path)
        return ENAMETOOLONG;
    return posix_spawn(pid, path, fa, attr, argv, envp);
}

/* ---- time ---- */

LIBC_HOT int clock_gettime(clockid_t clk, struct timespec *ts)
{
    if (!user_writable(ts, sizeof *ts))
        return fail(EFAULT);
    if (clk != CLOCK_MONOTONIC && clk != CLOCK_REALTIME)
        return fail(EINVAL);
    uint64_t ns = lanes_now_ns();
    ts->tv_sec = (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
    return 0;
}

static int nanosleep_(const struct timespec *req, struct timespec *rem)
{
    if (!user_readable(req, sizeof *req) || (rem && !user_writable(rem, sizeof *rem)))
        return fail(EFAULT);
    if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000L || req->tv_sec < 0)
        return fail(EINVAL);
    uint64_t ns = (uint64_t)req->tv_sec * 1000000000ull + (uint64_t)req->tv_nsec;
    uint64_t end = lanes_now_ns() + ns;
    /* The kernel's sleep ends early (INTERRUPTED) when the POSIX server alerts us for a signal;
     * only one that set our in-syscall flag to 2 ends the call (a stop/continue does not). */
    /* (one clock read per round: `now < end` then `end - now` read again could pass `end` in
     * between and sleep 2^64 ns — a 1 ms sleep that never ended, found by sigtests race-fifo) */
    bool intr = false;
    uint64_t now;
    while ((now = lanes_now_ns()) < end) {
        if (lanes_sig_cancel_requested()) {
            intr = true;
            break;
        }
        lanes_sys_sleep(end - now);
    }
    uint64_t left = intr && now < end ? end - now : 0;
    if (rem) {
        rem->tv_sec = (time_t)(left / 1000000000ull);
        rem->tv_nsec = (long)(left % 1000000000ull);
    }
    return intr ? fail(EINTR) : 0;
}

unsigned sleep(unsigned seconds)
{
    struct timespec ts = { (time_t)seconds, 0 }, rem = { 0, 0 };
    if (nanosleep(&ts, &rem) < 0)
        return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
    return 0;
}

int usleep(unsigned usec)
{
    struct timespec ts = { (time_t)(usec / 1000000), (long)(usec % 1000000) * 1000 };
    return nanosleep(&ts, NULL);
}

/* ---- directories ---- */

struct DIR {
    int fd;
    size_t pos, len;
    uint8_t buf[4096];
};

DIR *opendir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = malloc(sizeof *d);
    if (!d) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    d->fd = fd;
    d->pos = d->len = 0;
    return d;
}

struct dirent *readdir(DIR *d)
{
    if (d->pos >= d->len) {
        ssize_t n = getdents(d->fd, d->buf, sizeof d->buf);
        if (n <= 0)
            return NULL;
        d->len = (size_t)n;
        d->pos = 0;
    }
    struct dirent *e = (struct dirent *)(void *)(d->buf + d->pos);
    d->pos += e->d_reclen ? e->d_reclen : d->len;
    return e;
}

int closedir(DIR *d)
{
    int r = close(d->fd);
    free(d);
    return r;
}

/* ---- for tests (posixtests): the server's counters and raw requests ---- */

int lanes_posix_counters(struct lane_msg_posix_counters *out)
{
    struct lane_msg_posix_get_counters m = lanes_msg_posix_get_counters_encode(0);
    px_lock();
    int64_t r = -ENOSYS;
    if (ready()) {
        r = call(posix_lane, &m, sizeof m, NULL, 0, out, sizeof *out, NULL, NULL, 0);
        if (r >= 0)
            r = (size_t)r < sizeof *out || out->msg != LANES_MSG_POSIX_COUNTERS ? -EPROTO : 0;
    }
    px_unlock();
    return (int)r;
}

int64_t lanes_posix_raw(const void *msg, size_t len, void *rep, size_t cap)
{
    px_lock();
    int64_t r = ready() ? call(posix_lane, msg, len, NULL, 0, rep, cap, NULL, NULL, 0) : -ENOSYS;
    px_unlock();
    return r;
}

/* ---- the POSIX calls as the signal path sees them (os/lib/src/signal.c) ----
 * Each public call is one syscall instance: lanes_sc_begin sets this thread's in-syscall flag to
 * 1 (and records sys_begin), lanes_sc_end swaps it back to 0, records sys_end with the outcome
 * and, if a signal came meanwhile (flag 2), delivers it — and says whether the call restarts
 * (SA_RESTART, EINTR, a call Linux restarts). `intr` marks the calls a signal interrupts. */

#define POSIX_CALL(type, nr, name, fd, arg, intr, expr)                                  \
    struct lanes_sc sc_;                                                                  \
    type r_;                                                                              \
    do {                                                                                  \
        lanes_sc_begin(&sc_, nr, name, (int32_t)(fd), (uint64_t)(arg), intr);             \
        r_ = (expr);                                                                      \
    } while (lanes_sc_end(&sc_, r_ == (type)-1 ? -(int64_t)errno : (int64_t)(r_)));      \
    return r_

LIBC_HOT ssize_t read(int fd, void *buf, size_t n) { POSIX_CALL(ssize_t, LANES_MSG_POSIX_READ, "read", fd, n, LANES_SC_RESTART, read_(fd, buf, n)); }
static ssize_t write_call(int fd, const void *buf, size_t n) { POSIX_CALL(ssize_t, LANES_MSG_POSIX_WRITE, "write", fd, n, LANES_SC_RESTART, write_(fd, buf, n)); }
/* A write that found no reader (EPIPE, from the ring or from posix) raises SIGPIPE for this
 * thread, as Linux's pipe_write does: the handler runs before write returns, an ignored or
 * blocked one leaves the EPIPE, the default kills the process (a producer piped into head). */
LIBC_HOT ssize_t write(int fd, const void *buf, size_t n)
{
    ssize_t r = write_call(fd, buf, n);
    if (r < 0 && errno == EPIPE) {
        raise(SIGPIPE);
        errno = EPIPE;
    }
    return r;
}
ssize_t pread(int fd, void *buf, size_t n, off_t off) { POSIX_CALL(ssize_t, LANES_MSG_FS_PREAD, "pread", fd, n, 0, pread_(fd, buf, n, off)); }
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { POSIX_CALL(ssize_t, LANES_MSG_FS_PWRITE, "pwrite", fd, n, 0, pwrite_(fd, buf, n, off)); }
off_t lseek(int fd, off_t off, int whence) { POSIX_CALL(off_t, LANES_MSG_FS_SEEK, "lseek", fd, off, 0, lseek_(fd, off, whence)); }
ssize_t getdents(int fd, void *buf, size_t size) { POSIX_CALL(ssize_t, LANES_MSG_FS_READDIR, "getdents", fd, size, 0, getdents_(fd, buf, size)); }
int fstat(int fd, struct stat *st) { POSIX_CALL(int, LANES_MSG_FS_FSTAT, "fstat", fd, 0, 0, fstat_(fd, st)); }
int close(int fd) { POSIX_CALL(int, LANES_MSG_POSIX_CLOSE, "close", fd, 0, 0, close_(fd)); }
static int dup_req(int fd, int newfd, int minfd, uint32_t flags)
{
    POSIX_CALL(int, LANES_MSG_POSIX_DUP, "dup", fd, newfd, 0, dup_req_(fd, newfd, minfd, flags));
}
int pipe2(int fdv[2], int flags) { POSIX_CALL(int, LANES_MSG_POSIX_PIPE, "pipe", -1, flags, 0, pipe2_(fdv, flags)); }
int mkdirat(int dirfd, const char *path, mode_t mode) { POSIX_CALL(int, LANES_MSG_POSIX_MKDIR, "mkdir", dirfd, mode, 0, mkdirat_(dirfd, path, mode)); }
int unlinkat(int dirfd, const char *path, int flags) { POSIX_CALL(int, LANES_MSG_POSIX_UNLINK, "unlink", dirfd, flags, 0, unlinkat_(dirfd, path, flags)); }
int chdir(const char *path) { POSIX_CALL(int, LANES_MSG_POSIX_CHDIR, "chdir", -1, 0, 0, chdir_(path)); }
int rename(const char *a, const char *b) { POSIX_CALL(int, LANES_MSG_POSIX_RENAME, "rename", -1, 0, 0, rename_(a, b)); }
int fstatat(int dirfd, const char *path, struct stat *st, int flags) { POSIX_CALL(int, LANES_MSG_POSIX_STAT, "stat", dirfd, flags, 0, fstatat_(dirfd, path, st, flags)); }
char *getcwd(char *buf, size_t size)
{
    struct lanes_sc sc;
    char *r;
    do {
        lanes_sc_begin(&sc, LANES_MSG_POSIX_GETCWD, "getcwd", -1, size, 0);
        r = getcwd_(buf, size);
    } while (lanes_sc_end(&sc, r ? 0 : -(int64_t)errno));
    return r;
}
int setpgid(pid_t pid, pid_t pgid) { POSIX_CALL(int, LANES_MSG_POSIX_SET_PGID, "setpgid", -1, pid, 0, setpgid_(pid, pgid)); }
int kill(pid_t pid, int sig) { POSIX_CALL(int, LANES_MSG_POSIX_KILL, "kill", -1, sig, 0, kill_(pid, sig)); }
pid_t waitpid(pid_t pid, int *status, int options) { POSIX_CALL(pid_t, LANES_MSG_POSIX_WAIT, "waitpid", -1, pid, LANES_SC_RESTART, waitpid_(pid, status, options)); }
int nanosleep(const struct timespec *req, struct timespec *rem)
{
    POSIX_CALL(int, LANES_MSG_POSIX_NANOSLEEP, "nanosleep", -1, req ? (uint64_t)req->tv_sec * 1000000000ull + (uint64_t)req->tv_nsec : 0,
               LANES_SC_INTR, nanosleep_(req, rem));
}
int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[])
{
    POSIX_CALL(int, LANES_MSG_POSIX_SPAWN, "posix_spawn", -1, 0, 0, posix_spawn_(pid, path, fa, attr, argv, envp));
}
int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & O_CREAT) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    POSIX_CALL(int, LANES_MSG_POSIX_OPEN, "open", dirfd, flags, LANES_SC_RESTART, openat_(dirfd, path, flags, mode));
}
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    POSIX_CALL(int, LANES_MSG_POSIX_FCNTL, "fcntl", fd, cmd, 0, fcntl_(fd, cmd, arg));
}

/* A signal request (signal.c): one conversation on our posix lane, on the calling thread's own
 * queue qq and without the process lock — a thread blocked in a read holds that lock, and
 * kill(), sigaction() or a handler's return must not wait for it. Pushes `push` when given.
 * No syscall instance of its own (the caller is one, or is delivering a signal). Returns the
 * reply length or -errno. */
int64_t lanes_posix_sig_request(struct lanes_queue *qq, const void *msg, size_t len, int32_t push, void *rep, size_t cap)
{
    if (__atomic_load_n(&posix_lane, __ATOMIC_ACQUIRE) == -2 && !lanes_posix_active())
        return -ENOSYS;
    int32_t lane = __atomic_load_n(&posix_lane, __ATOMIC_ACQUIRE);
    if (lane < 0)
        return -ENOSYS;
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, msg, len);
    if (push != LANES_HANDLE_NONE)
        lanes_acts_push(&b, push, LANES_RIGHT_ALL);
    lanes_acts_recv_buffer(&b, rep, cap);
    lanes_acts_end(&b);
    c.nresults = 0;
    int64_t r = posix_call(qq, &b, &c);
    uint32_t at = push != LANES_HANDLE_NONE ? 3 : 2;
    if (c.nresults <= at)
        return -ipc_errno(r);
    const struct lane_ipc_result *rr = lanes_ipc_result(&c, at);
    if (rr->error < 0)
        return -ipc_errno(rr->error);
    return rr->length;
}

/* ---- fork and exec (fork.c): this file's state seen from there ---- */

void __posix_lock(void) { lanes_mutex_lock(&lock); }
void __posix_unlock(void) { lanes_mutex_unlock(&lock); }

/* Our lane to the server, or NONE. Under lock. */
int32_t __posix_lane(void) { return ready() ? posix_lane : LANES_HANDLE_NONE; }

/* A request with a posix.Reply answer, optionally pushing two handles. Under lock. */
int64_t __posix_request(const void *msg, size_t len, const void *data, size_t dlen, const int32_t *push, int npush)
{
    struct lane_msg_posix_reply rep;
    int64_t r = call(posix_lane, msg, len, data, dlen, &rep, sizeof rep, NULL, push, npush);
    if (r < 0)
        return r;
    if ((size_t)r < sizeof rep || rep.msg != LANES_MSG_POSIX_REPLY)
        return -EPROTO;
    return rep.error < 0 ? rep.error : rep.value;
}

/* A child waitpid reports in the kernel's words too (lanes_posix_last_exit). Under lock. */
void __posix_add_kid(pid_t pid, int32_t proc)
{
    for (int i = 0; i < MAX_KIDS; i++) {
        if (kids[i].pid == 0) {
            kids[i].pid = pid;
            kids[i].proc = proc;
            return;
        }
    }
    lanes_sys_handle_close(proc);
}

/* The cached fd lanes, after the server closed fds behind our back (posix.Exec). */
void __posix_forget_all(void)
{
    for (int i = 0; i < OPEN_MAX; i++)
        forget(i);
}

/* In a forked child, first thing: lane is our own lane to the server (the parent's was not
 * copied); the completion queue is the parent's (shared memory) — make our own; the parent's
 * children are not ours. The cached fd lanes stay: the handles were copied under the same
 * numbers and the server gives us the same descriptions. */
void __posix_fork_child(int32_t lane)
{
    int32_t old = posix_lane;
    posix_lane = lane;
    struct lane_startup *su = (struct lane_startup *)(uintptr_t)lanes_startup;   /* our copy of the parent's */
    su->pid = (uint32_t)lanes_sys_getpid();
    su->tid = (uint32_t)lanes_sys_thread_self();
    struct lane_handle_entry *h = (struct lane_handle_entry *)(uintptr_t)lanes_startup->handles;
    for (uint32_t i = 0; i < lanes_startup->nhandles; i++)
        if (h[i].handle == old && strncmp(h[i].tag, "posix", sizeof h[i].tag) == 0)
            h[i].handle = lane;
    if (q_ok) {
        lanes_queue_close(&q);
        q_ok = false;
    }
    for (int i = 0; i < MAX_KIDS; i++) {
        if (kids[i].pid) {
            lanes_sys_handle_close(kids[i].proc);
            kids[i].pid = 0;
        }
    }
    last_exit_pid = 0;
    lanes_mutex_t unlocked = LANES_MUTEX_INIT;
    lock = unlocked;
    lanes_sig_after_fork();         /* our threads register their own signal pages */
}
