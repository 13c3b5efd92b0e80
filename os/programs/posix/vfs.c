/* vfs.c — paths and mount points: posix.Open, posix.Stat, posix.Mkdir, posix.Unlink,
 * posix.Rename, posix.Chdir, posix.Getcwd.
 *
 * A path is made absolute against the caller's cwd (or openat's dirfd, a directory's
 * description remembers its path) and normalised textually ("." and ".." and repeated slashes;
 * there are no symbolic links yet). The mount table then picks who serves it:
 *
 *     /dev/null, /dev/console   this server (no lane: libc handles null; console descriptions
 *                               use the console server's lane every process already has)
 *     /proc                     this server (procfs.c), read-only but for core_pattern
 *     /sys                      the kernel's sysfs, served here (sysfs.c)
 *     /                         the fs server (tmpfs), over the root lane bound through mbus
 *
 * For fs we forward the request with the absolute path and, for open, keep the passthrough
 * lane fs pushes back in the new description. Paths longer than PATH_MAX_BYTES: ENAMETOOLONG.
 */
#include "posix.h"
#include <lanes/mbus.h>

enum { MNT_FS = 1, MNT_DEV = 2, MNT_PROC = 3, MNT_SYS = 4 };
struct mount {
    const char *prefix;
    int type;
};
static const struct mount mounts[] = {
    { "/dev/null", MNT_DEV },
    { "/dev/console", MNT_DEV },
    { "/proc", MNT_PROC },
    { "/sys", MNT_SYS },
    { "/", MNT_FS },
};

static int32_t fs_lane = LANES_HANDLE_NONE;
static uint64_t fs_id;              /* its mbus entry: a restarted fs publishes a newer one */
static struct lanes_queue FQ;

/* Binds the fs server published in mbus after the one we had (ids grow): at start, and after
 * it crashed (init restarts it; until then path requests fail EIO). */
static int fs_bind(uint64_t timeout)
{
    int32_t mbus = lanes_handle_by_tag("mbus");
    if (mbus == LANES_HANDLE_NONE)
        return -ENOENT;
    struct lane_msg_mbus_entry e;
    /* the newest entry: mbus keeps those of servers that died (a restarted posix must not bind
     * the first fs, which may be long gone) */
    int64_t r = lanes_mbus_find(mbus, "name=fs", fs_id, &e);
    r = r == 1 ? 0 : lanes_mbus_await(mbus, "name=fs", fs_id, timeout, &e);
    if (r == 0)
        r = lanes_mbus_bind(mbus, e.id);
    if (r < 0)
        return -EIO;
    if (fs_lane != LANES_HANDLE_NONE)
        lanes_sys_handle_close(fs_lane);
    fs_lane = (int32_t)r;
    if (fs_id)
        printf("posix: bound the new fs server (mbus id %llu)\n", (unsigned long long)e.id);
    fs_id = e.id;
    return 0;
}

int vfs_init(void)
{
    if (lanes_queue_init(&FQ, 4) < 0)
        return -ENOMEM;
    return fs_bind(LANES_SEC(20));
}

struct desc *vfs_console(void) { return desc_new(KIND_CONSOLE, O_RDWR, LANES_HANDLE_NONE); }

/* One request to fs on the root lane: msg + path bytes; the reply into rep; a pushed lane into
 * *pulled when given. Returns the reply length or -errno. */
static uint8_t fs_out[REQ_MAX + 64];
static int64_t fs_call(const void *msg, size_t len, const char *path, size_t plen, void *rep, size_t cap, int32_t *pulled)
{
    if (len + plen > sizeof fs_out)
        return -ENAMETOOLONG;
    memcpy(fs_out, msg, len);
    memcpy(fs_out + len, path, plen);
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_send(&b, fs_out, len + plen);
    lanes_acts_recv_buffer(&b, rep, cap);
    if (pulled)
        lanes_acts_pull(&b);
    lanes_acts_end(&b);
    c.nresults = 0;
    if (fs_lane == LANES_HANDLE_NONE && fs_bind(LANES_MS(200)) < 0)
        return -EIO;                /* fs crashed and no new one yet */
    int64_t r = lanes_ipc_call(&FQ, fs_lane, &b, &c, LANES_SEC(10));
    int64_t offer = c.nresults > 0 ? lanes_ipc_result(&c, 0)->error : 0;
    if ((r == LANES_E_END_OF_LANE || r == LANES_E_LANE_SHUTDOWN) &&
        (offer == LANES_E_END_OF_LANE || offer == LANES_E_LANE_SHUTDOWN)) {
        /* (the offer itself failed: the lane is dead. A conversation fs ended without a reply —
         * its reply timed out under load — is only this request's EIO.) */
        /* fs is gone: init reports and restarts it; this request fails EIO, and the next one
         * goes to the new server (we wait here a little for it to publish itself) */
        printf("posix: the fs server is gone (%s); waiting for init's new one\n", lanes_ipc_strerror(r));
        lanes_sys_handle_close(fs_lane);
        fs_lane = LANES_HANDLE_NONE;
        fs_bind(LANES_SEC(2));
        if (pulled)
            *pulled = LANES_HANDLE_NONE;
        return -EIO;
    }
    if (pulled)
        *pulled = c.nresults > 3 && lanes_ipc_result(&c, 3)->error == 0 ? lanes_ipc_result(&c, 3)->handle
                                                                          : LANES_HANDLE_NONE;
    if (c.nresults < 3 || lanes_ipc_result(&c, 2)->error < 0)
        return -EIO;                /* fs is gone (init restarts it) */
    return lanes_ipc_result(&c, 2)->length;
}

static int64_t fs_simple(const void *msg, size_t len, const char *path, size_t plen)
{
    struct lane_msg_fs_reply r;
    int64_t n = fs_call(msg, len, path, plen, &r, sizeof r, NULL);
    if (n < 0)
        return n;
    if ((size_t)n < sizeof r || r.msg != LANES_MSG_FS_REPLY)
        return -EIO;
    return r.error < 0 ? r.error : r.value;
}

/* Makes path absolute and normal into out (PATH_MAX_BYTES + 1). Returns its length or -errno. */
static int normalize(const char *base, const char *path, size_t plen, char *out)
{
    size_t n = 0;
    if (plen == 0)
        return -ENOENT;
    if (path[0] != '/') {
        n = strlen(base);
        if (n > PATH_MAX_BYTES)
            return -ENAMETOOLONG;
        memcpy(out, base, n);
    }
    size_t i = 0;
    while (i < plen) {
        while (i < plen && path[i] == '/')
            i++;
        size_t s = i;
        while (i < plen && path[i] != '/')
            i++;
        size_t cl = i - s;
        if (cl == 0 || (cl == 1 && path[s] == '.'))
            continue;
        if (memchr(path + s, 0, cl))
            return -EINVAL;
        if (cl == 2 && path[s] == '.' && path[s + 1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;            /* the slash */
            continue;
        }
        if (n == 1 && out[0] == '/')
            n = 0;
        if (n + 1 + cl > PATH_MAX_BYTES)
            return -ENAMETOOLONG;
        out[n++] = '/';
        memcpy(out + n, path + s, cl);
        n += cl;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = 0;
    return (int)n;
}

static int resolve(struct proc *p, int32_t dirfd, const char *path, size_t plen, char *out)
{
    if (plen > PATH_MAX_BYTES)
        return -ENAMETOOLONG;
    const char *base = p->cwd ? p->cwd : "/";
    if (plen && path[0] != '/' && dirfd != AT_FDCWD) {
        struct desc *d = fd_get(p, dirfd);
        if (!d)
            return -EBADF;
        if (d->kind != KIND_DIR || !d->path)
            return -ENOTDIR;
        base = d->path;
    }
    return normalize(base, path, plen, out);
}

static int mount_of(const char *abs)
{
    for (size_t i = 0; i < sizeof mounts / sizeof *mounts; i++) {
        size_t l = strlen(mounts[i].prefix);
        if (strncmp(abs, mounts[i].prefix, l) == 0 && (abs[l] == 0 || abs[l] == '/' || l == 1)) {
            if (mounts[i].type == MNT_DEV && abs[l] != 0)
                return -ENOTDIR;
            return mounts[i].type;
        }
    }
    return MNT_FS;
}

static char abs1[PATH_MAX_BYTES + 1], abs2[PATH_MAX_BYTES + 1];

/* sys: the opener's SYSTEM handle (posix.OpenSys) or NONE; a /sys file keeps it for its
 * writes, anything else drops it here. */
static void do_open(struct proc *p, int32_t conv, const struct lane_msg_posix_open *m, const char *path, int32_t sys)
{
    int n = resolve(p, m->dirfd, path, m->pathlen, abs1);
    int mt = n < 0 ? n : mount_of(abs1);
    if (sys != LANES_HANDLE_NONE && mt != MNT_SYS) {
        lanes_sys_handle_close(sys);
        sys = LANES_HANDLE_NONE;
    }
    if (n < 0)
        return reply(conv, n);
    if (fd_alloc(p, 0) < 0) {
        if (sys != LANES_HANDLE_NONE)
            lanes_sys_handle_close(sys);
        return reply(conv, -EMFILE);
    }
    if (mt < 0)
        return reply(conv, mt);
    struct desc *d;
    uint32_t keep = m->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK);
    if (mt == MNT_DEV) {
        if ((m->flags & O_DIRECTORY))
            return reply(conv, -ENOTDIR);
        d = desc_new(strcmp(abs1, "/dev/null") == 0 ? KIND_NULL : KIND_CONSOLE, keep, LANES_HANDLE_NONE);
    } else if (mt == MNT_PROC) {
        int e = procfs_open(p, abs1, m->flags, &d);
        if (e < 0)
            return reply(conv, e);
    } else if (mt == MNT_SYS) {
        int err = -ENOMEM;
        d = sysfs_open(abs1, m->flags, sys, &err);
        if (!d)
            return reply(conv, err);
    } else {
        struct lane_msg_fs_open fo = lanes_msg_fs_open_encode(m->flags, m->mode & ~p->umask & 07777, (uint32_t)n);
        struct lane_msg_fs_reply r;
        int32_t lane = LANES_HANDLE_NONE;
        int64_t got = fs_call(&fo, sizeof fo, abs1, (size_t)n, &r, sizeof r, &lane);
        int64_t err = got < 0 ? got : (size_t)got < sizeof r || r.msg != LANES_MSG_FS_REPLY ? -EIO : r.error;
        if (err == 0 && lane == LANES_HANDLE_NONE)
            err = -EIO;
        if (err < 0) {
            if (lane != LANES_HANDLE_NONE)
                lanes_sys_handle_close(lane);
            return reply(conv, err);
        }
        d = desc_new(r.value == 2 ? KIND_DIR : r.value == 3 ? KIND_FIFO : KIND_FILE, keep, lane);
        if (d) {
            d->path = strdup(abs1);
            d->fs = true;
        } else {
            lanes_sys_handle_close(lane);
        }
    }
    if (!d)
        return reply(conv, -ENOMEM);
    int fd = fd_install(p, 0, d, (m->flags & O_CLOEXEC) != 0);
    struct lane_msg_posix_reply r = lanes_msg_posix_reply_encode(0, (int64_t)fd | (desc_wire_kind(d) << 32));
    send_msg(conv, &r, sizeof r, d->lane);
}

static void do_stat(struct proc *p, int32_t conv, const struct lane_msg_posix_stat *m, const char *path)
{
    int n = resolve(p, m->dirfd, path, m->pathlen, abs1);
    int mt = n < 0 ? n : mount_of(abs1);
    struct lane_msg_fs_attr a = lanes_msg_fs_attr_encode(mt < 0 ? mt : 0, S_IFCHR | 0666, 1, 1, 0, 2);
    if (mt == MNT_FS) {
        struct lane_msg_fs_stat fst = lanes_msg_fs_stat_encode((uint32_t)n);
        int64_t got = fs_call(&fst, sizeof fst, abs1, (size_t)n, &a, sizeof a, NULL);
        if (got < 0 || (size_t)got < sizeof a || a.msg != LANES_MSG_FS_ATTR)
            a = lanes_msg_fs_attr_encode(got < 0 ? (int32_t)got : -EIO, 0, 0, 0, 0, 0);
    } else if (mt == MNT_DEV && strcmp(abs1, "/dev/console") == 0) {
        a.ino = 2;
    } else if (mt == MNT_PROC) {
        int e = procfs_stat(p, abs1, &a);
        if (e < 0)
            a = lanes_msg_fs_attr_encode(e, 0, 0, 0, 0, 0);
    } else if (mt == MNT_SYS) {
        uint32_t mode = 0;
        uint64_t size = 0;
        int e = sysfs_attr(abs1, &mode, &size);
        a = lanes_msg_fs_attr_encode(e, mode, 3, 1, size, 3);
    }
    send_msg(conv, &a, sizeof a, LANES_HANDLE_NONE);
}

/* The fs path of a request's path, or -errno (the /dev nodes are not fs's to change). */
static int fs_path(struct proc *p, int32_t dirfd, const char *path, size_t plen, char *out)
{
    int n = resolve(p, dirfd, path, plen, out);
    if (n < 0)
        return n;
    int mt = mount_of(out);
    if (mt < 0)
        return mt;
    return mt == MNT_FS ? n : -EPERM;
}

bool vfs_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    union {
        struct lane_msg_posix_open op;
        struct lane_msg_posix_open_sys os;
        struct lane_msg_posix_stat st;
        struct lane_msg_posix_mkdir mk;
        struct lane_msg_posix_unlink ul;
        struct lane_msg_posix_rename rn;
        struct lane_msg_posix_chdir cd;
        struct lane_msg_posix_getcwd gc;
    } u;
    const char *tail;
    if (lanes_msg_posix_open_decode(m, len, &u.op) == 0) {
        if (u.op.pathlen > len - sizeof u.op)
            return st_malformed++, reply(conv, -EPROTO), true;
        do_open(p, conv, &u.op, (const char *)m + sizeof u.op, LANES_HANDLE_NONE);
    } else if (lanes_msg_posix_open_sys_decode(m, len, &u.os) == 0) {
        int32_t sys = LANES_HANDLE_NONE;
        int64_t r = pull_handles(conv, 1, &sys);    /* the opener's SYSTEM handle, pushed after the request */
        if (u.os.pathlen > len - sizeof u.os || r < 0) {
            if (sys != LANES_HANDLE_NONE)
                lanes_sys_handle_close(sys);
            return st_malformed++, reply(conv, -EPROTO), true;
        }
        struct lane_msg_posix_open op = lanes_msg_posix_open_encode(u.os.dirfd, u.os.flags, u.os.mode, u.os.pathlen);
        do_open(p, conv, &op, (const char *)m + sizeof u.os, sys);
    } else if (lanes_msg_posix_stat_decode(m, len, &u.st) == 0) {
        if (u.st.pathlen > len - sizeof u.st)
            return st_malformed++, reply(conv, -EPROTO), true;
        do_stat(p, conv, &u.st, (const char *)m + sizeof u.st);
    } else if (lanes_msg_posix_mkdir_decode(m, len, &u.mk) == 0) {
        tail = (const char *)m + sizeof u.mk;
        if (u.mk.pathlen > len - sizeof u.mk)
            return st_malformed++, reply(conv, -EPROTO), true;
        int n = fs_path(p, u.mk.dirfd, tail, u.mk.pathlen, abs1);
        if (n < 0)
            return reply(conv, n == -EPERM ? -EEXIST : n), true;
        struct lane_msg_fs_mkdir fm = lanes_msg_fs_mkdir_encode((u.mk.mode & S_IFIFO) | (u.mk.mode & ~p->umask & 07777), (uint32_t)n);
        reply(conv, fs_simple(&fm, sizeof fm, abs1, (size_t)n));
    } else if (lanes_msg_posix_unlink_decode(m, len, &u.ul) == 0) {
        tail = (const char *)m + sizeof u.ul;
        if (u.ul.pathlen > len - sizeof u.ul)
            return st_malformed++, reply(conv, -EPROTO), true;
        if (u.ul.flags & ~(uint32_t)AT_REMOVEDIR)
            return reply(conv, -EINVAL), true;
        int n = fs_path(p, u.ul.dirfd, tail, u.ul.pathlen, abs1);
        if (n < 0)
            return reply(conv, n), true;
        struct lane_msg_fs_unlink fu = lanes_msg_fs_unlink_encode(u.ul.flags, (uint32_t)n);
        reply(conv, fs_simple(&fu, sizeof fu, abs1, (size_t)n));
    } else if (lanes_msg_posix_rename_decode(m, len, &u.rn) == 0) {
        tail = (const char *)m + sizeof u.rn;
        if (u.rn.oldlen > len - sizeof u.rn || u.rn.newlen > len - sizeof u.rn - u.rn.oldlen)
            return st_malformed++, reply(conv, -EPROTO), true;
        int a = fs_path(p, AT_FDCWD, tail, u.rn.oldlen, abs1);
        int b = a < 0 ? a : fs_path(p, AT_FDCWD, tail + u.rn.oldlen, u.rn.newlen, abs2);
        if (a < 0 || b < 0)
            return reply(conv, a < 0 ? a : b == -EPERM ? -EXDEV : b), true;
        static char both[2 * PATH_MAX_BYTES + 2];
        memcpy(both, abs1, (size_t)a);
        memcpy(both + a, abs2, (size_t)b);
        struct lane_msg_fs_rename fr = lanes_msg_fs_rename_encode((uint32_t)a, (uint32_t)b);
        reply(conv, fs_simple(&fr, sizeof fr, both, (size_t)(a + b)));
    } else if (lanes_msg_posix_chdir_decode(m, len, &u.cd) == 0) {
        tail = (const char *)m + sizeof u.cd;
        if (u.cd.pathlen > len - sizeof u.cd)
            return st_malformed++, reply(conv, -EPROTO), true;
        int n = fs_path(p, AT_FDCWD, tail, u.cd.pathlen, abs1);
        if (n < 0)
            return reply(conv, n == -EPERM ? -ENOTDIR : n), true;
        struct lane_msg_fs_stat fst = lanes_msg_fs_stat_encode((uint32_t)n);
        struct lane_msg_fs_attr a;
        int64_t got = fs_call(&fst, sizeof fst, abs1, (size_t)n, &a, sizeof a, NULL);
        if (got < 0 || (size_t)got < sizeof a || a.msg != LANES_MSG_FS_ATTR)
            return reply(conv, got < 0 ? got : -EIO), true;
        if (a.error < 0)
            return reply(conv, a.error), true;
        if (!S_ISDIR(a.mode))
            return reply(conv, -ENOTDIR), true;
        char *c = strdup(abs1);
        if (!c)
            return reply(conv, -ENOMEM), true;
        free(p->cwd);
        p->cwd = c;
        reply(conv, 0);
    } else if (lanes_msg_posix_getcwd_decode(m, len, &u.gc) == 0) {
        const char *c = p->cwd ? p->cwd : "/";
        size_t n = strlen(c);
        if (u.gc.size < n + 1)
            return reply(conv, -ERANGE), true;
        reply_data(conv, (int64_t)n, c, n);
    } else {
        return false;
    }
    return true;
}

/* ---- files this server writes itself (core.c) ---- */

/* mkdir -p of an absolute directory path (each missing level with mode). 0 or -errno. */
int vfs_mkdirs(const char *dir, uint32_t mode)
{
    char path[PATH_MAX_BYTES + 1];
    size_t n = strlen(dir);
    if (n == 0 || n > PATH_MAX_BYTES || dir[0] != '/')
        return -EINVAL;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0)
            continue;
        char c = path[i];
        path[i] = 0;
        if (mount_of(path) == MNT_FS) {
            struct lane_msg_fs_mkdir fm = lanes_msg_fs_mkdir_encode(mode, (uint32_t)i);
            int64_t r = fs_simple(&fm, sizeof fm, path, i);
            if (r < 0 && r != -EEXIST)
                return (int)r;
        }
        path[i] = c;
    }
    return 0;
}

/* Creates (or truncates) the regular file abs (O_WRONLY|O_CREAT|O_TRUNC, mode): its lane or -errno. */
int vfs_create(const char *abs, uint32_t mode, int32_t *lane)
{
    size_t n = strlen(abs);
    if (mount_of(abs) != MNT_FS)
        return -EACCES;
    struct lane_msg_fs_open fo = lanes_msg_fs_open_encode(O_WRONLY | O_CREAT | O_TRUNC, mode, (uint32_t)n);
    struct lane_msg_fs_reply r;
    *lane = LANES_HANDLE_NONE;
    int64_t got = fs_call(&fo, sizeof fo, abs, n, &r, sizeof r, lane);
    int64_t err = got < 0 ? got : (size_t)got < sizeof r || r.msg != LANES_MSG_FS_REPLY ? -EIO : r.error;
    if (err == 0 && *lane == LANES_HANDLE_NONE)
        err = -EIO;
    if (err == 0 && r.value == 2)
        err = -EISDIR;
    if (err < 0 && *lane != LANES_HANDLE_NONE) {
        lanes_sys_handle_close(*lane);
        *lane = LANES_HANDLE_NONE;
    }
    return (int)err;
}

/* Writes all of data to a file's lane (fs.Write, CHUNK at a time). 0 or -errno. */
int vfs_write_all(int32_t lane, const void *data, size_t n)
{
    static uint8_t out[CHUNK + 64];
    const uint8_t *d = data;
    while (n) {
        size_t k = n > CHUNK ? CHUNK : n;
        struct lane_msg_fs_write w = lanes_msg_fs_write_encode(k, 0, 0, 0);     /* id 0: not cancellable */
        memcpy(out, &w, sizeof w);
        memcpy(out + sizeof w, d, k);
        struct lane_msg_fs_reply r;
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_offer(&b, LANES_IPC_FLAG_ANCILLARY);
        lanes_acts_send(&b, out, sizeof w + k);
        lanes_acts_recv_buffer(&b, &r, sizeof r);
        lanes_acts_end(&b);
        c.nresults = 0;
        lanes_ipc_call(&FQ, lane, &b, &c, LANES_SEC(10));
        if (c.nresults < 3 || lanes_ipc_result(&c, 2)->error < 0 || lanes_ipc_result(&c, 2)->length < sizeof r ||
            r.msg != LANES_MSG_FS_REPLY)
            return -EIO;
        if (r.error < 0)
            return r.error;
        if (r.value <= 0)
            return -ENOSPC;
        d += r.value;
        n -= (size_t)r.value;
    }
    return 0;
}
