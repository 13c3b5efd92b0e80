/* fd.c — open file descriptions and fd tables: posix.Close, posix.Dup, posix.Fcntl,
 * posix.GetFile, posix.Pipe.
 *
 * A description is shared by every fd that dup, dup2 or spawn made from the same open; it holds
 * the client end of the description's lane, which we hand to each process that uses one of
 * those fds (posix.GetFile, or with open's reply). When its last fd closes we close our copy:
 * for a file, fs frees the description once the processes' cached copies are closed too; for a
 * pipe end, pipe.c learns that readers or writers are gone (EOF, EPIPE).
 */
#include "posix.h"

uint32_t st_descs;

struct desc *desc_new(uint8_t kind, uint32_t flags, int32_t lane)
{
    struct desc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->refs = 1;
    d->kind = kind;
    d->flags = flags;
    d->lane = lane;
    st_descs++;
    return d;
}

void desc_ref(struct desc *d) { d->refs++; }

void desc_unref(struct desc *d)
{
    if (--d->refs > 0)
        return;
    if (d->pipe)
        pipe_end_closed(d->pipe, d->end);
    if (d->lane != LANES_HANDLE_NONE)
        lanes_sys_handle_close(d->lane);
    free(d->path);
    free(d);
    st_descs--;
}

int fd_alloc(struct proc *p, int min)
{
    for (int fd = min < 0 ? 0 : min; fd < MAX_FDS; fd++)
        if (!p->fd[fd].d)
            return fd;
    return -EMFILE;
}

int fd_install(struct proc *p, int min, struct desc *d, bool cloexec)
{
    int fd = fd_alloc(p, min);
    if (fd < 0)
        return fd;
    p->fd[fd].d = d;
    p->fd[fd].cloexec = cloexec;
    return fd;
}

struct desc *fd_get(struct proc *p, int fd)
{
    if (fd < 0 || fd >= MAX_FDS)
        return NULL;
    return p->fd[fd].d;
}

int fd_close(struct proc *p, int fd)
{
    struct desc *d = fd_get(p, fd);
    if (!d)
        return -EBADF;
    p->fd[fd].d = NULL;
    p->fd[fd].cloexec = false;
    desc_unref(d);
    return 0;
}

void fd_close_all(struct proc *p)
{
    for (int fd = 0; fd < MAX_FDS; fd++)
        if (p->fd[fd].d)
            fd_close(p, fd);
}

/* Reply{value} and, when the description has one, its lane pushed after it. */
static void reply_with_lane(int32_t conv, int64_t value, struct desc *d)
{
    struct lane_msg_posix_reply r = lanes_msg_posix_reply_encode(0, value);
    send_msg(conv, &r, sizeof r, d->lane);
}

bool fd_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len)
{
    union {
        struct lane_msg_posix_close cl;
        struct lane_msg_posix_dup du;
        struct lane_msg_posix_fcntl fc;
        struct lane_msg_posix_get_file gf;
        struct lane_msg_posix_pipe pi;
        struct lane_msg_posix_get_ring gr;
    } u;
    if (lanes_msg_posix_close_decode(m, len, &u.cl) == 0) {
        reply(conv, fd_close(p, u.cl.fd));
    } else if (lanes_msg_posix_dup_decode(m, len, &u.du) == 0) {
        struct desc *d = fd_get(p, u.du.fd);
        if (!d)
            return reply(conv, -EBADF), true;
        if (u.du.newfd >= MAX_FDS || u.du.minfd < 0 || u.du.minfd >= MAX_FDS || (u.du.flags & ~1u))
            return reply(conv, u.du.newfd >= MAX_FDS ? -EBADF : -EINVAL), true;
        if (u.du.newfd >= 0) {                          /* dup2 */
            if (u.du.newfd != u.du.fd) {
                desc_ref(d);
                fd_close(p, u.du.newfd);
                p->fd[u.du.newfd].d = d;
                p->fd[u.du.newfd].cloexec = u.du.flags & 1;
            }
            return reply(conv, u.du.newfd), true;
        }
        int fd = fd_alloc(p, u.du.minfd);
        if (fd >= 0) {
            desc_ref(d);
            p->fd[fd].d = d;
            p->fd[fd].cloexec = u.du.flags & 1;
        }
        reply(conv, fd);
    } else if (lanes_msg_posix_fcntl_decode(m, len, &u.fc) == 0) {
        struct desc *d = fd_get(p, u.fc.fd);
        if (!d)
            return reply(conv, -EBADF), true;
        switch (u.fc.cmd) {
        case F_GETFD:
            reply(conv, p->fd[u.fc.fd].cloexec ? FD_CLOEXEC : 0);
            break;
        case F_SETFD:
            p->fd[u.fc.fd].cloexec = (u.fc.arg & FD_CLOEXEC) != 0;
            reply(conv, 0);
            break;
        case F_GETFL:
            reply(conv, d->flags);
            break;
        case F_SETFL:
            /* O_NONBLOCK is honoured by the servers here (pipes); O_APPEND of a file is fixed
             * at open (fs keeps it) */
            d->flags = (d->flags & ~(uint32_t)(O_APPEND | O_NONBLOCK)) | ((uint32_t)u.fc.arg & (O_APPEND | O_NONBLOCK));
            pipe_flags_changed(d);
            reply(conv, 0);
            break;
        default:
            reply(conv, -EINVAL);
        }
    } else if (lanes_msg_posix_get_file_decode(m, len, &u.gf) == 0) {
        struct desc *d = fd_get(p, u.gf.fd);
        if (!d)
            return reply(conv, -EBADF), true;
        reply_with_lane(conv, desc_wire_kind(d) | ((int64_t)d->flags << 8), d);
    } else if (lanes_msg_posix_get_ring_decode(m, len, &u.gr) == 0) {
        struct desc *d = fd_get(p, u.gr.fd);
        if (!d)
            return reply(conv, -EBADF), true;
        int32_t h = pipe_ring_handle(d);
        if (h == LANES_HANDLE_NONE)
            return reply(conv, -EINVAL), true;
        struct lane_msg_posix_reply r = lanes_msg_posix_reply_encode(0, d->end);
        send_msg(conv, &r, sizeof r, h);
    } else if (lanes_msg_posix_pipe_decode(m, len, &u.pi) == 0) {
        if (u.pi.flags & ~(uint32_t)(O_CLOEXEC | O_NONBLOCK))
            return reply(conv, -EINVAL), true;
        int a = fd_alloc(p, 0);
        int b = a < 0 ? a : fd_alloc(p, a + 1);
        if (b < 0)
            return reply(conv, -EMFILE), true;
        struct desc *rd, *wr;
        int r = pipe_create(u.pi.flags & O_NONBLOCK, &rd, &wr);
        if (r < 0)
            return reply(conv, r), true;
        bool ce = (u.pi.flags & O_CLOEXEC) != 0;
        fd_install(p, a, rd, ce);
        fd_install(p, b, wr, ce);
        reply(conv, (int64_t)a | ((int64_t)b << 32));
    } else {
        return false;
    }
    return true;
}
