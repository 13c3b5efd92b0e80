/* fs — the file-system server: a read-write tmpfs (tmpfs.c), seeded from the initrd at boot,
 * that the POSIX server mounts at "/".
 *
 * It publishes its root lane in mbus as "fs" (class=fs;type=tmpfs). On the root lane the POSIX
 * server sends path requests, already resolved against the caller's cwd and this mount:
 * fs.Open, fs.Stat, fs.Mkdir, fs.Unlink, fs.Rename (os/abi/messages.toml). fs.Open makes a new
 * stream per open file description and pushes one end back: the passthrough lane. Every
 * process holding that lane (posix hands copies to the fds that share the description) sends
 * fs.Read, fs.Write, fs.Seek, fs.Pread, fs.Pwrite, fs.Fstat, fs.Readdir and fs.Map (a regular
 * file's pages, which libc's pread then copies from without asking us) straight here; the
 * description's offset and flags live here, so dup'd and inherited fds share them. When the
 * last handle to a passthrough lane is closed (close, exit, a crash) our accept on it fails
 * with END_OF_LANE and the description is freed: a client that dies mid-request leaves
 * nothing behind.
 *
 * One thread, one completion queue; every lane we serve has one accept posted (request buffer
 * REQ_MAX bytes; a longer request fails with BUFFER_TOO_SMALL and is answered -E2BIG).
 */
#include "fs.h"
#include <lanes/console.h>
#include <lanes/mbus.h>

struct ofile of[MAX_OPEN + 1];              /* [ROOT] is the root lane */
static struct lanes_queue Q, SQ;
int32_t fs_queue;
static uint8_t reply_buf[REQ_MAX];
uint64_t st_malformed;
static uint64_t st_requests, st_open;

static uint64_t tag_of(int i) { return ((uint64_t)of[i].gen << 16) | (uint64_t)i; }

static void post_accept(int i)
{
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_accept(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_recv_buffer(&b, of[i].buf, REQ_MAX);
    lanes_acts_end(&b);
    int64_t r = lanes_ipc_submit(&Q, of[i].lane, &b, tag_of(i));
    if (r < 0)
        printf("fs: cannot accept on lane %d: %s\n", of[i].lane, lanes_ipc_strerror(r));
}

static void send_msg_rights(int32_t conv, const void *msg, size_t len, int32_t push, uint32_t rights)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_send(&b, msg, len);
    if (push != LANES_HANDLE_NONE)
        lanes_acts_push(&b, push, rights);
    lanes_ipc_call(&SQ, conv, &b, &c, LANES_SEC(2));   /* a client that gave up: END_OF_LANE, ignored */
}

static void send_msg(int32_t conv, const void *msg, size_t len, int32_t push)
{
    send_msg_rights(conv, msg, len, push, LANES_RIGHT_ALL);
}

/* A reply longer than reply_buf (a read of up to READ_MAX) is built in big_buf: grown on
 * demand and kept, so its pages are touched once, not faulted in at every program load. */
static uint8_t *big_buf;
static size_t big_cap;

/* How many data bytes one reply can carry, having tried to make room for want (at most
 * READ_MAX): a read is cut to this before it claims its range, so no memory shortage after
 * the offset moved can lose bytes. */
static size_t reply_room(size_t want)
{
    size_t room = sizeof reply_buf - sizeof(struct lane_msg_fs_reply);
    if (want > READ_MAX)
        want = READ_MAX;
    if (want <= room)
        return room;
    size_t need = sizeof(struct lane_msg_fs_reply) + want;
    if (big_cap < need) {
        uint8_t *b = realloc(big_buf, need);
        if (!b)
            return big_cap > sizeof reply_buf ? big_cap - sizeof(struct lane_msg_fs_reply) : room;
        big_buf = b;
        big_cap = need;
    }
    return want;
}

void reply(int32_t conv, int64_t err_or_value, const void *data, size_t n)
{
    struct lane_msg_fs_reply r = lanes_msg_fs_reply_encode(err_or_value < 0 ? (int32_t)err_or_value : 0,
                                                           err_or_value < 0 ? 0 : err_or_value);
    /* (n beyond reply_buf only for a read cut to reply_room(), which made big_buf that large) */
    uint8_t *out = sizeof r + n > sizeof reply_buf ? big_buf : reply_buf;
    memcpy(out, &r, sizeof r);
    if (n)
        memcpy(out + sizeof r, data, n);
    send_msg(conv, out, sizeof r + n, LANES_HANDLE_NONE);
}

void reply_attr(int32_t conv, int err, const struct node *n)
{
    struct lane_msg_fs_attr a = lanes_msg_fs_attr_encode(err, n ? n->mode : 0, n ? n->ino : 0, n ? n->nlink : 0,
                                                         n && !S_ISDIR(n->mode) ? n->size : 0, 1);
    send_msg(conv, &a, sizeof a, LANES_HANDLE_NONE);
}

static void close_file(int i)
{
    struct ofile *f = &of[i];
    wait_file_closed(i);
    if (f->pos) {
        lanes_sys_mem_unmap(f->pos, LANES_PAGE_SIZE);
        lanes_sys_handle_close(f->posmem);
        f->pos = NULL;
    }
    f->node->opens--;
    node_put(f->node);
    lanes_sys_handle_close(f->lane);
    free(f->buf);
    f->used = false;
    f->gen++;
    st_open--;
}

/* ---- the root lane: path requests from the POSIX server ---- */

static void do_open(int32_t conv, const struct lane_msg_fs_open *m, const char *path)
{
    struct node *par;
    const char *name;
    size_t nlen;
    int err;
    uint32_t acc = m->flags & O_ACCMODE;
    struct node *n = walk(path, m->pathlen, &par, &name, &nlen, &err);
    if (err)
        return reply(conv, err, NULL, 0);
    if (!n) {
        if (!(m->flags & O_CREAT))
            return reply(conv, -ENOENT, NULL, 0);
        if (!S_ISDIR(par->mode))
            return reply(conv, -ENOTDIR, NULL, 0);
        n = node_new(par, name, nlen, S_IFREG | (m->mode & 07777));
        if (!n)
            return reply(conv, -ENOSPC, NULL, 0);
    } else if ((m->flags & O_CREAT) && (m->flags & O_EXCL)) {
        return reply(conv, -EEXIST, NULL, 0);
    }
    if (S_ISDIR(n->mode) && (acc != O_RDONLY || (m->flags & O_TRUNC)))
        return reply(conv, -EISDIR, NULL, 0);
    if ((m->flags & O_DIRECTORY) && !S_ISDIR(n->mode))
        return reply(conv, -ENOTDIR, NULL, 0);
    int i = 0;
    while (i < MAX_OPEN && of[i].used)
        i++;
    if (i == MAX_OPEN)
        return reply(conv, -ENFILE, NULL, 0);
    int32_t s[2];
    uint8_t *buf = malloc(REQ_MAX);
    if (!buf || lanes_stream(s) < 0) {
        free(buf);
        return reply(conv, -ENOMEM, NULL, 0);
    }
    if ((m->flags & O_TRUNC) && S_ISREG(n->mode) && acc != O_RDONLY)
        node_truncate(n, 0);
    n->opens++;
    of[i].used = true;
    of[i].node = n;
    of[i].off = 0;
    of[i].pos = NULL;
    of[i].flags = m->flags;
    of[i].lane = s[1];
    of[i].buf = buf;
    st_open++;
    dev_opened(i);
    post_accept(i);
    struct lane_msg_fs_reply r = lanes_msg_fs_reply_encode(0, S_ISDIR(n->mode) ? 2 : S_ISFIFO(n->mode) ? 3 : 1);
    send_msg(conv, &r, sizeof r, s[0]);
    lanes_sys_handle_close(s[0]);       /* the client holds it now (or it is gone: END_OF_LANE frees i) */
}

static void crash_if_asked(const uint8_t *req, uint32_t len);

static void root_request(int32_t conv, const uint8_t *req, uint32_t len)
{
    crash_if_asked(req, len);
    struct lane_msg_fs_open op;
    struct lane_msg_fs_stat st;
    struct lane_msg_fs_mkdir mk;
    struct lane_msg_fs_unlink ul;
    struct lane_msg_fs_rename rn;
    if (lanes_msg_fs_open_decode(req, len, &op) == 0 && op.pathlen <= len - sizeof op) {
        do_open(conv, &op, (const char *)req + sizeof op);
    } else if (lanes_msg_fs_stat_decode(req, len, &st) == 0 && st.pathlen <= len - sizeof st) {
        int err;
        struct node *n = walk((const char *)req + sizeof st, st.pathlen, NULL, NULL, NULL, &err);
        reply_attr(conv, err ? err : n ? 0 : -ENOENT, err ? NULL : n);
    } else if (lanes_msg_fs_mkdir_decode(req, len, &mk) == 0 && mk.pathlen <= len - sizeof mk) {
        reply(conv, fs_mkdir((const char *)req + sizeof mk, mk.pathlen, mk.mode), NULL, 0);
    } else if (lanes_msg_fs_unlink_decode(req, len, &ul) == 0 && ul.pathlen <= len - sizeof ul) {
        reply(conv, fs_unlink((const char *)req + sizeof ul, ul.pathlen, ul.flags), NULL, 0);
    } else if (lanes_msg_fs_rename_decode(req, len, &rn) == 0 && rn.oldlen <= len - sizeof rn &&
               rn.newlen <= len - sizeof rn - rn.oldlen) {
        const char *p = (const char *)req + sizeof rn;
        reply(conv, fs_rename(p, rn.oldlen, p + rn.oldlen, rn.newlen), NULL, 0);
    } else {
        st_malformed++;
        reply(conv, -EPROTO, NULL, 0);
    }
}

/* ---- a passthrough lane: one open file description ---- */

static size_t dirents(struct ofile *f, uint8_t *out, size_t cap, bool *more)
{
    *more = false;
    size_t used = 0;
    uint64_t idx = 0;
    struct node *dir = f->node;
    for (int pass = 0; pass < 2; pass++) {
        /* ".", "..", then the children */
        struct node *c = pass == 0 ? NULL : dir->children;
        for (int k = 0; pass == 0 ? k < 2 : c != NULL; k++) {
            const char *nm;
            struct node *t;
            if (pass == 0) {
                nm = k == 0 ? "." : "..";
                t = k == 0 ? dir : dir->parent;
            } else {
                nm = c->name;
                t = c;
                c = c->next;
            }
            if (idx++ < f->off)
                continue;
            size_t nl = strlen(nm);
            size_t rec = (19 + nl + 1 + 7) & ~(size_t)7;
            if (used + rec > cap) {
                *more = true;
                return used;
            }
            uint64_t ino = t->ino;
            int64_t next = (int64_t)idx;
            uint16_t r16 = (uint16_t)rec;
            uint8_t type = S_ISDIR(t->mode) ? 4 : 8;
            memset(out + used, 0, rec);
            memcpy(out + used, &ino, 8);
            memcpy(out + used + 8, &next, 8);
            memcpy(out + used + 16, &r16, 2);
            out[used + 18] = type;
            memcpy(out + used + 19, nm, nl);
            used += rec;
            f->off = idx;
        }
    }
    return used;
}

static uint8_t data_buf[CHUNK];

/* fs.Crash{0xc0} (os-test's supervision test): fault here, with requests parked and lanes open,
 * as a bug would; init reports it and starts a new fs, posix binds that one. */
static void crash_if_asked(const uint8_t *req, uint32_t len)
{
    struct lane_msg_fs_crash cr;
    if (lanes_msg_fs_crash_decode(req, len, &cr) != 0 || cr.code != 0xc0)
        return;
    printf("fs: crashing on purpose (fs.Crash)\n");
    lanes_console_flush();
    static volatile uintptr_t nowhere = 0;
    *(volatile int *)nowhere = 1;
}

/* ---- the description's offset: f->off, or the shared page once a holder maps it (fs.MapPos) ----
 *
 * The holders move pos->off themselves (libc's read: copy at off, then off -> off + k by a
 * compare-and-swap; lseek), on other CPUs while we run, so ours are atomic too and never assume
 * the word kept its value: a read or write claims its range (off -> off + k) with a
 * compare-and-swap before it copies, so a holder that copied the same bytes meanwhile fails its
 * own swap and reads again after ours. The word is untrusted (any holder may write any value). */

static uint64_t pos_get(const struct ofile *f)
{
    return f->pos ? __atomic_load_n(&f->pos->off, __ATOMIC_ACQUIRE) : f->off;
}

static bool pos_swap(struct ofile *f, uint64_t old, uint64_t to)
{
    if (!f->pos) {
        f->off = to;
        return true;
    }
    return __atomic_compare_exchange_n(&f->pos->off, &old, to, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void pos_set(struct ofile *f, uint64_t to)
{
    if (f->pos)
        __atomic_store_n(&f->pos->off, to, __ATOMIC_RELEASE);
    else
        f->off = to;
}

/* fs.MapPos: the page (made at the first ask, the offset moved into it); -ENODEV where fs.Map
 * would refuse, so only files whose bytes the holders can copy themselves get one. */
static int pos_map(struct ofile *f, int32_t *mem)
{
    struct node *n = f->node;
    if (!S_ISREG(n->mode) || n->dev != DEV_NONE || !n->map)
        return -ENODEV;
    if (!f->pos) {
        int64_t h = lanes_sys_mem_create(LANES_PAGE_SIZE, 0);
        if (h < 0)
            return -ENOMEM;
        int64_t a = lanes_sys_mem_map((int32_t)h, NULL, 0, LANES_PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE);
        if (a < 0) {
            lanes_sys_handle_close((int32_t)h);
            return -ENOMEM;
        }
        f->pos = (struct lane_file_pos *)(uintptr_t)a;
        f->posmem = (int32_t)h;
        __atomic_store_n(&f->pos->off, f->off, __ATOMIC_RELEASE);
    }
    *mem = f->posmem;
    return 0;
}

static void file_request(struct ofile *f, int32_t conv, const uint8_t *req, uint32_t len)
{
    struct lane_msg_fs_cancel cn;
    if (lanes_msg_fs_cancel_decode(req, len, &cn) == 0)
        return wait_cancel((int)(f - of), cn.id, cn.call);     /* no reply: the request itself answers */
    struct lane_msg_fs_cancel_event ce;
    if (lanes_msg_fs_cancel_event_decode(req, len, &ce) == 0)
        return cev_register(conv, ce.tid);                     /* no reply: the push is the answer */
    crash_if_asked(req, len);
    struct lane_msg_fs_map mp;
    if (lanes_msg_fs_map_decode(req, len, &mp) == 0) {
        /* the file's pages, read-only, for the caller's pread (tmpfs.c: node_map) */
        int32_t mem;
        size_t ml;
        int e = (f->flags & O_ACCMODE) == O_WRONLY ? -EBADF : node_map(f->node, &mem, &ml);
        if (e < 0)
            return reply(conv, e, NULL, 0);
        struct lane_msg_fs_reply r = lanes_msg_fs_reply_encode(0, (int64_t)ml);
        return send_msg_rights(conv, &r, sizeof r, mem, LANES_RIGHT_READ | LANES_RIGHT_MAP);
    }
    struct lane_msg_fs_map_pos mpp;
    if (lanes_msg_fs_map_pos_decode(req, len, &mpp) == 0) {
        /* the description's offset, read-write, for the holders' read and lseek */
        int32_t mem;
        int e = pos_map(f, &mem);
        if (e < 0)
            return reply(conv, e, NULL, 0);
        struct lane_msg_fs_reply r = lanes_msg_fs_reply_encode(0, LANES_PAGE_SIZE);
        return send_msg_rights(conv, &r, sizeof r, mem, LANES_RIGHT_READ | LANES_RIGHT_WRITE | LANES_RIGHT_MAP);
    }
    struct lane_msg_fs_load ld;
    if (lanes_msg_fs_load_decode(req, len, &ld) == 0) {
        /* the whole regular file in one reply (libc's program loading); the offset stays */
        struct node *n = f->node;
        if (!S_ISREG(n->mode) || n->dev != DEV_NONE)
            return reply(conv, -EACCES, NULL, 0);
        if ((f->flags & O_ACCMODE) == O_WRONLY)
            return reply(conv, -EBADF, NULL, 0);
        if (n->size > ld.max || n->size > READ_MAX)
            return reply(conv, -EFBIG, NULL, 0);
        if (reply_room(n->size) < n->size)
            return reply(conv, -ENOMEM, NULL, 0);
        return reply(conv, (int64_t)n->size, n->data, n->size);
    }
    if (f->node->dev && dev_request((int)(f - of), conv, req, len))
        return;
    struct lane_msg_fs_read rd;
    struct lane_msg_fs_write wr;
    struct lane_msg_fs_seek sk;
    struct lane_msg_fs_pread prd;
    struct lane_msg_fs_pwrite pwr;
    struct lane_msg_fs_fstat fst;
    struct lane_msg_fs_readdir rdd;
    struct node *n = f->node;
    bool dir = S_ISDIR(n->mode);
    uint32_t acc = f->flags & O_ACCMODE;
    uint32_t word = 0;
    if (len >= 4)
        memcpy(&word, req, 4);
    if (lanes_msg_fs_read_decode(req, len, &rd) == 0 || lanes_msg_fs_pread_decode(req, len, &prd) == 0) {
        bool p = word == LANES_MSG_FS_PREAD;
        uint64_t want = p ? prd.size : rd.size;
        if (dir)
            return reply(conv, -EISDIR, NULL, 0);
        if (acc == O_WRONLY)
            return reply(conv, -EBADF, NULL, 0);
        uint64_t off;
        size_t k, room = reply_room(want);
        do {                /* claim [off, off + k) before the copy (a holder may move off meanwhile) */
            off = p ? prd.offset : pos_get(f);
            k = off >= n->size ? 0 : n->size - off;
            if (k > want)
                k = want;
            if (k > room)
                k = room;
        } while (!p && k && !pos_swap(f, off, off + k));
        return reply(conv, (int64_t)k, n->data + off, k);
    }
    if (lanes_msg_fs_write_decode(req, len, &wr) == 0 || lanes_msg_fs_pwrite_decode(req, len, &pwr) == 0) {
        bool p = word == LANES_MSG_FS_PWRITE;
        size_t hdr = p ? sizeof pwr : sizeof wr;
        uint64_t want = p ? pwr.size : wr.size;
        if (want > len - hdr) {
            st_malformed++;
            return reply(conv, -EPROTO, NULL, 0);
        }
        if (dir)
            return reply(conv, -EISDIR, NULL, 0);
        if (acc == O_RDONLY)
            return reply(conv, -EBADF, NULL, 0);
        uint64_t off, cur = 0;
        do {                /* claim [off, off + want) first (O_APPEND: at the end), as a read does */
            cur = pos_get(f);
            off = p ? pwr.offset : (f->flags & O_APPEND) ? n->size : cur;
        } while (!p && want && !pos_swap(f, cur, off + want));
        int64_t r = node_write(n, off, req + hdr, want);
        if (!p && want && r != (int64_t)want)
            pos_swap(f, off + want, r > 0 ? off + (uint64_t)r : cur);   /* give back what was not written */
        return reply(conv, r, NULL, 0);
    }
    if (lanes_msg_fs_seek_decode(req, len, &sk) == 0) {
        for (;;) {          /* SEEK_CUR: from the offset it read (a holder may move it meanwhile) */
            uint64_t cur = pos_get(f);
            int64_t base = sk.whence == 0 ? 0 : sk.whence == 1 ? (int64_t)cur : sk.whence == 2 ? (int64_t)n->size : -1;
            if (base < 0 || (dir && !(sk.whence == 0 && sk.offset == 0)))
                return reply(conv, -EINVAL, NULL, 0);
            if (sk.offset > 0 && base > INT64_MAX - sk.offset)
                return reply(conv, -EOVERFLOW, NULL, 0);
            int64_t to = base + sk.offset;
            if (to < 0)
                return reply(conv, -EINVAL, NULL, 0);
            if (sk.whence != 1) {
                pos_set(f, (uint64_t)to);
                return reply(conv, to, NULL, 0);
            }
            if (pos_swap(f, cur, (uint64_t)to))
                return reply(conv, to, NULL, 0);
        }
    }
    if (lanes_msg_fs_fstat_decode(req, len, &fst) == 0)
        return reply_attr(conv, 0, n);
    if (lanes_msg_fs_readdir_decode(req, len, &rdd) == 0) {
        if (!dir)
            return reply(conv, -ENOTDIR, NULL, 0);
        size_t cap = rdd.size > CHUNK ? CHUNK : rdd.size;
        bool more;
        size_t got = dirents(f, data_buf, cap, &more);
        if (got == 0 && more)
            return reply(conv, -EINVAL, NULL, 0);   /* too small for the next record */
        return reply(conv, (int64_t)got, data_buf, got);
    }
    st_malformed++;
    reply(conv, -EPROTO, NULL, 0);
}

static void complete(const struct lane_ipc_completion *c)
{
    if (c->tag & CEV_TAG)
        return cev_fired(c);        /* a thread's cancellation event (wait.c) */
    int i = (int)(c->tag & 0xffff);
    if (i > MAX_OPEN || (i < MAX_OPEN && (!of[i].used || of[i].gen != (uint16_t)(c->tag >> 16))))
        return;
    int32_t conv = c->nresults > 0 ? lanes_ipc_result(c, 0)->handle : LANES_HANDLE_NONE;
    if (conv < 0) {
        if (i < MAX_OPEN && (c->status == LANES_E_END_OF_LANE || c->status == LANES_E_LANE_SHUTDOWN)) {
            close_file(i);          /* nobody holds the lane any more */
            return;
        }
        lanes_sys_sleep(LANES_MS(10));
        post_accept(i);
        return;
    }
    st_requests++;
    const struct lane_ipc_result *rr = lanes_ipc_result(c, 1);
    if (c->nresults < 2 || rr->error < 0) {
        st_malformed++;
        reply(conv, rr->error == LANES_E_BUFFER_TOO_SMALL ? -E2BIG : -EPROTO, NULL, 0);
    } else if (i == ROOT) {
        root_request(conv, of[i].buf, rr->length);
    } else {
        file_request(&of[i], conv, of[i].buf, rr->length);
    }
    lanes_sys_handle_close(conv);
    post_accept(i);
}

int main(void)
{
    int files = fs_seed();
    if (files >= 0 && dev_seed() < 0)
        files = -ENOMEM;
    if (files < 0) {
        printf("fs: cannot build the tree: %s\n", strerror(-files));
        return 2;
    }
    if (lanes_queue_init(&Q, MAX_OPEN + 8 + 256) < 0 || lanes_queue_init(&SQ, 4) < 0) {
        printf("fs: no memory for completion queues\n");
        return 3;
    }
    fs_queue = Q.handle;
    int32_t s[2];
    static uint8_t root_buf[REQ_MAX];
    if (lanes_stream(s) < 0)
        return 4;
    of[ROOT].used = true;
    of[ROOT].lane = s[1];
    of[ROOT].buf = root_buf;
    post_accept(ROOT);
    int32_t mbus = lanes_handle_by_tag("mbus");
    uint64_t id;
    int64_t r = mbus == LANES_HANDLE_NONE ? LANES_E_NOENT : lanes_mbus_publish(mbus, "fs", "class=fs;type=tmpfs", s[0], &id);
    if (r != 0) {
        printf("fs: cannot publish in mbus: %s\n", lanes_ipc_strerror(r));
        return 5;
    }
    lanes_sys_handle_close(s[0]);
    for (;;) {
        struct lane_ipc_completion c;
        if (lanes_queue_next(&Q, &c, wait_tick()) == 0)    /* wait_tick: /dev/slow's next bytes */
            complete(&c);
    }
}
