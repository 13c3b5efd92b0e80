/* sysfs.c — the kernel's sysfs mounted at /sys: open, read, lseek, fstat and getdents under /sys
 * through the same file protocol fs speaks (fs.Read, fs.Seek, fs.Pread, fs.Fstat, fs.Readdir).
 *
 * The kernel exports sysfs through system calls (sysfs_stat, sysfs_read, sysfs_list); this
 * server is the only one that turns it into files. posix.Open of a /sys path checks it exists
 * (sysfs_stat), takes a snapshot — an attribute's text, or a directory's entries — and makes a
 * stream: the client end goes into the description (handed to processes like a file's lane),
 * we keep the server end with one accept posted (TAG_SYS), like a pipe end. A read serves the
 * snapshot from the description's offset (as Linux sysfs does: the value as of open, a new
 * open or pread at 0 after lseek gives a fresh one). The slot is freed when every copy of the
 * lane is gone (our accept ends END_OF_LANE).
 *
 * Writing (`echo 1 > /sys/bus/pci/rescan`): changing an attribute needs the SYSTEM capability
 * (sysfs_write), and the right is the opener's, checked at open as Linux checks a file's mode:
 * libc sends posix.OpenSys with its SYSTEM handle pushed when it opens for writing and holds
 * one (vfs.c hands the handle here). Opening for writing gives EISDIR on a directory, EACCES on
 * a read-only attribute or without a SYSTEM handle; the description keeps the handle, and each
 * write(2) is one sysfs_write with it (a trailing newline ignored, as Linux's stores do), which
 * returns the whole count or the kernel's refusal as Linux's errno (err_of_write). A write to an
 * attribute a user-space server owns waits for that server's answer (a rescan: the whole walk),
 * and this server waits with it.
 */
#include "posix.h"

#define MAX_SYS 64
#define SNAP_MAX 16384
#define PREQ 256

struct sysfile {
    bool used;
    uint32_t gen;
    bool dir;
    bool writable;              /* opened for writing: sys is the opener's SYSTEM handle */
    int32_t sys;
    int32_t lane;               /* server end */
    char path[128];
    char *snap;                 /* attribute: its text; directory: "d name\n" lines as sysfs_list gives */
    size_t len;
    uint64_t off;               /* bytes (attribute) or entries (directory) */
    uint8_t req[PREQ];
};

static struct sysfile files[MAX_SYS];
uint32_t st_sysfiles, st_syscaps;

/* A refused sysfs_write as Linux's errno. */
static int err_of_write(int64_t r)
{
    switch (r) {
    case LANES_E_ACCESS: case LANES_E_BADHANDLE: case LANES_E_TYPE: return -EACCES;
    case LANES_E_INVAL: case LANES_E_RANGE: return -EINVAL;
    case LANES_E_NOENT: return -ENOENT;         /* the attribute went away since the open */
    case LANES_E_DEAD: return -ENODEV;          /* its owner is gone */
    case LANES_E_BUSY: return -EBUSY;
    case LANES_E_TIMEOUT: return -ETIMEDOUT;    /* its owner did not answer */
    case LANES_E_NOMEM: return -ENOMEM;
    case LANES_E_INTERRUPTED: return -EINTR;
    case LANES_E_FAULT: return -EFAULT;
    default: return -EIO;
    }
}

static int err_of(int64_t r)
{
    switch (r) {
    case LANES_E_NOENT: return -ENOENT;
    case LANES_E_TYPE: return -ENOTDIR;
    case LANES_E_RANGE: return -ENAMETOOLONG;
    case LANES_E_FAULT: return -EFAULT;
    default: return -EIO;
    }
}

/* The snapshot of f's path; 0 or -errno. */
static int snapshot(struct sysfile *f)
{
    char *b = malloc(SNAP_MAX);
    if (!b)
        return -ENOMEM;
    int64_t n = f->dir ? lanes_sys_sysfs_list(f->path, strlen(f->path), b, SNAP_MAX)
                       : lanes_sys_sysfs_read(f->path, strlen(f->path), b, SNAP_MAX);
    if (n < 0) {
        free(b);
        return err_of(n);
    }
    free(f->snap);
    f->snap = b;
    f->len = (size_t)n;
    return 0;
}

static void post(struct sysfile *f)
{
    served_post(f->lane, f->req, PREQ, make_tag(TAG_SYS, f->gen, (uint32_t)(f - files)), "a /sys file");
}

/* posix.Open under /sys: abs is the normalised path. Returns a description or NULL (*err). */
static struct desc *open_(const char *abs, uint32_t flags, int32_t sys, int *err)
{
    struct lane_sysfs_stat st;
    memset(&st, 0, sizeof st);
    int64_t r = lanes_sys_sysfs_stat(abs, strlen(abs), &st);
    if (r < 0) {
        *err = err_of(r);
        return NULL;
    }
    bool dir = st.kind == LANES_SYSFS_KIND_DIR;
    if ((flags & O_DIRECTORY) && !dir) {
        *err = -ENOTDIR;
        return NULL;
    }
    bool writing = (flags & O_ACCMODE) != O_RDONLY;
    if (writing && (dir || !(st.mode & LANES_SYSFS_MODE_WRITE) || sys == LANES_HANDLE_NONE)) {
        *err = dir ? -EISDIR : -EACCES;     /* a read-only attribute, or an opener without SYSTEM */
        return NULL;
    }
    if (!writing && (flags & (O_CREAT | O_TRUNC))) {
        *err = dir ? -EISDIR : -EACCES;
        return NULL;
    }
    struct sysfile *f = NULL;
    for (int i = 0; i < MAX_SYS && !f; i++)
        if (!files[i].used)
            f = &files[i];
    if (!f || strlen(abs) >= sizeof f->path) {
        *err = f ? -ENAMETOOLONG : -ENFILE;
        return NULL;
    }
    uint32_t gen = f->gen + 1;
    memset(f, 0, sizeof *f);
    f->gen = gen;
    f->dir = dir;
    f->sys = LANES_HANDLE_NONE;
    strlcpy(f->path, abs, sizeof f->path);
    int e = snapshot(f);
    if (e && writing)
        e = 0;                              /* a write-only attribute (rescan) has nothing to read */
    int32_t l[2];
    if (e == 0 && lanes_stream(l) < 0)
        e = -ENOMEM;
    if (e) {
        free(f->snap);
        f->snap = NULL;
        *err = e;
        return NULL;
    }
    struct desc *d = desc_new(dir ? KIND_DIR : KIND_FILE, flags & (O_ACCMODE | O_NONBLOCK), l[0]);
    if (!d) {
        lanes_sys_handle_close(l[0]);
        lanes_sys_handle_close(l[1]);
        free(f->snap);
        *err = -ENOMEM;
        return NULL;
    }
    d->path = strdup(abs);
    f->used = true;
    f->lane = l[1];
    if (writing) {
        f->writable = true;
        f->sys = sys;
        st_syscaps++;
    }
    st_sysfiles++;
    post(f);
    return d;
}

struct desc *sysfs_open(const char *abs, uint32_t flags, int32_t sys, int *err)
{
    struct desc *d = open_(abs, flags, sys, err);
    if ((!d || (flags & O_ACCMODE) == O_RDONLY) && sys != LANES_HANDLE_NONE)
        lanes_sys_handle_close(sys);        /* not kept: only a description open for writing needs it */
    return d;
}

/* posix.Stat under /sys: mode and size as fs.Attr wants them. */
int sysfs_attr(const char *abs, uint32_t *mode, uint64_t *size)
{
    struct lane_sysfs_stat st;
    memset(&st, 0, sizeof st);
    int64_t r = lanes_sys_sysfs_stat(abs, strlen(abs), &st);
    if (r < 0)
        return err_of(r);
    *mode = st.kind == LANES_SYSFS_KIND_DIR ? S_IFDIR | 0555 : S_IFREG | (st.mode & LANES_SYSFS_MODE_WRITE ? 0644 : 0444);
    *size = st.kind == LANES_SYSFS_KIND_DIR ? 0 : st.size;
    return 0;
}

static void fs_reply(int32_t conv, int64_t v, const void *data, size_t n) { served_reply(conv, v, data, n); }

static uint64_t ino_of(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h | 1;
}

/* getdents64 records from entry index f->off: ".", "..", then sysfs_list's lines. */
static size_t dirents(struct sysfile *f, uint8_t *o, size_t cap, bool *more)
{
    *more = false;
    size_t used = 0;
    uint64_t idx = 0;
    const char *p = f->snap, *end = f->snap + f->len;
    for (int k = 0;; k++) {
        char name[128];
        uint8_t type = 4;
        if (k < 2) {
            strlcpy(name, k == 0 ? "." : "..", sizeof name);
        } else {
            if (p >= end)
                break;
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                nl = end;
            if (nl - p < 3) {
                p = nl + 1;
                continue;
            }
            type = p[0] == 'd' ? 4 : 8;
            size_t n = (size_t)(nl - p - 2) < sizeof name - 1 ? (size_t)(nl - p - 2) : sizeof name - 1;
            memcpy(name, p + 2, n);
            name[n] = 0;
            p = nl + 1;
        }
        if (idx++ < f->off)
            continue;
        size_t nl = strlen(name);
        size_t rec = (19 + nl + 1 + 7) & ~(size_t)7;
        if (used + rec > cap) {
            *more = true;
            break;
        }
        char full[300];
        snprintf(full, sizeof full, "%s/%s", f->path, name);
        uint64_t ino = ino_of(full);
        int64_t next = (int64_t)idx;
        uint16_t r16 = (uint16_t)rec;
        memset(o + used, 0, rec);
        memcpy(o + used, &ino, 8);
        memcpy(o + used + 8, &next, 8);
        memcpy(o + used + 16, &r16, 2);
        o[used + 18] = type;
        memcpy(o + used + 19, name, nl);
        used += rec;
        f->off = idx;
    }
    return used;
}

static void request(struct sysfile *f, int32_t conv, const uint8_t *m, uint32_t len)
{
    union {
        struct lane_msg_fs_read rd;
        struct lane_msg_fs_pread pr;
        struct lane_msg_fs_seek sk;
        struct lane_msg_fs_fstat fs;
        struct lane_msg_fs_readdir rdd;
        struct lane_msg_fs_write wr;
        struct lane_msg_fs_pwrite pw;
    } u;
    if (lanes_msg_fs_read_decode(m, len, &u.rd) == 0 || lanes_msg_fs_pread_decode(m, len, &u.pr) == 0) {
        if (f->dir)
            return fs_reply(conv, -EISDIR, NULL, 0);
        bool pread = u.rd.msg == LANES_MSG_FS_PREAD;
        uint64_t at = pread ? u.pr.offset : f->off, want = pread ? u.pr.size : u.rd.size;
        if (at == 0 && (pread || f->off == 0))
            snapshot(f);                        /* a read from the start sees the value now */
        if (want > CHUNK)
            want = CHUNK;
        uint64_t n = at >= f->len ? 0 : f->len - at < want ? f->len - at : want;
        if (!pread)
            f->off = at + n;
        return fs_reply(conv, (int64_t)n, f->snap + at, (size_t)n);
    }
    if (lanes_msg_fs_seek_decode(m, len, &u.sk) == 0) {
        int64_t base = u.sk.whence == 0 ? 0 : u.sk.whence == 1 ? (int64_t)f->off : u.sk.whence == 2 ? (int64_t)f->len : -1;
        if (base < 0 || base + u.sk.offset < 0)
            return fs_reply(conv, -EINVAL, NULL, 0);
        f->off = (uint64_t)(base + u.sk.offset);
        return fs_reply(conv, (int64_t)f->off, NULL, 0);
    }
    if (lanes_msg_fs_fstat_decode(m, len, &u.fs) == 0) {
        uint32_t mode = 0;
        uint64_t size = 0;
        int e = sysfs_attr(f->path, &mode, &size);
        struct lane_msg_fs_attr a = lanes_msg_fs_attr_encode(e, mode, ino_of(f->path), 1, size, 3);
        send_msg(conv, &a, sizeof a, LANES_HANDLE_NONE);
        return;
    }
    if (lanes_msg_fs_readdir_decode(m, len, &u.rdd) == 0) {
        if (!f->dir)
            return fs_reply(conv, -ENOTDIR, NULL, 0);
        static uint8_t recs[CHUNK];
        size_t cap = u.rdd.size > CHUNK ? CHUNK : u.rdd.size;
        bool more;
        size_t got = dirents(f, recs, cap, &more);
        if (got == 0 && more)
            return fs_reply(conv, -EINVAL, NULL, 0);
        return fs_reply(conv, (int64_t)got, recs, got);
    }
    bool pw = false;
    if (lanes_msg_fs_write_decode(m, len, &u.wr) == 0 || (pw = lanes_msg_fs_pwrite_decode(m, len, &u.pw) == 0)) {
        if (f->dir)
            return fs_reply(conv, -EISDIR, NULL, 0);
        if (!f->writable)
            return fs_reply(conv, -EBADF, NULL, 0);
        size_t hdr = pw ? sizeof u.pw : sizeof u.wr;
        uint64_t size = pw ? u.pw.size : u.wr.size;
        if (size > len - hdr) {
            st_malformed++;
            return fs_reply(conv, -EPROTO, NULL, 0);
        }
        int64_t r = lanes_sys_sysfs_write(f->sys, f->path, strlen(f->path), m + hdr, size);
        return fs_reply(conv, r < 0 ? err_of_write(r) : (int64_t)size, NULL, 0);
    }
    st_malformed++;
    fs_reply(conv, -EPROTO, NULL, 0);
}

void sysfs_complete(uint32_t index, uint32_t gen, const struct lane_ipc_completion *c)
{
    if (index >= MAX_SYS)
        return;
    struct sysfile *f = &files[index];
    int32_t conv;
    uint32_t len;
    switch (served_take(c, !f->used || (f->gen & 0xffffff) != gen, &conv, &len)) {
    case SERVED_STALE:
        return;
    case SERVED_GONE:
        /* every copy of the lane is gone: the file is closed everywhere */
        lanes_sys_handle_close(f->lane);
        if (f->sys != LANES_HANDLE_NONE) {
            lanes_sys_handle_close(f->sys);
            f->sys = LANES_HANDLE_NONE;
            st_syscaps--;
        }
        free(f->snap);
        f->snap = NULL;
        f->used = false;
        st_sysfiles--;
        return;
    case SERVED_REQUEST:
        request(f, conv, f->req, len);
        lanes_sys_handle_close(conv);
        break;
    case SERVED_AGAIN:
        break;
    }
    post(f);
}
