/* served.c — files this server serves itself on the file protocol fs speaks (fs.Read, fs.Write,
 * fs.Seek, fs.Pread, fs.Fstat, fs.Readdir, fs.Reply): pipe ends (pipe.c), /proc files (procfs.c)
 * and /sys files (sysfs.c). What they share lives here, once:
 *
 *   served_post    one accept posted on the file's server end, into its request buffer, with the
 *                  family's event-loop tag (make_tag: TAG_PIPE / TAG_PROCFS / TAG_SYS, gen, index)
 *   served_take    a completion of that accept: a request to answer (the conversation and the
 *                  request's length), or the lane is gone everywhere (every process dropped its
 *                  copy: free the slot), or nothing to do but post again. A stale completion (the
 *                  slot was reused: gen differs) or a malformed request is dealt with here.
 *   served_reply   fs.Reply{error or value} followed by data (a read's bytes, getdents records)
 *
 * Each family keeps its own state and request handling (a pipe's parked readers, a /proc file's
 * text, a /sys snapshot); main.c's loop routes a completion by its tag to the family, which calls
 * served_take first.
 */
#include "posix.h"

void served_post(int32_t lane, uint8_t *req, uint32_t cap, uint64_t tag, const char *what)
{
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_accept(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_recv_buffer(&b, req, cap);
    lanes_acts_end(&b);
    if (lanes_ipc_submit(&Q, lane, &b, tag) < 0)
        printf("posix: cannot accept on %s\n", what);
}

static uint8_t reply_buf[CHUNK + 64];

int64_t served_reply(int32_t conv, int64_t v, const void *data, size_t n)
{
    struct lane_msg_fs_reply r = lanes_msg_fs_reply_encode(v < 0 ? (int32_t)v : 0, v < 0 ? 0 : v);
    if (n > CHUNK)
        n = CHUNK;
    memcpy(reply_buf, &r, sizeof r);
    if (n)
        memcpy(reply_buf + sizeof r, data, n);
    return send_msg(conv, reply_buf, sizeof r + n, LANES_HANDLE_NONE);
}

enum served_event served_take(const struct lane_ipc_completion *c, bool stale, int32_t *conv, uint32_t *len)
{
    *conv = c->nresults > 0 ? lanes_ipc_result(c, 0)->handle : LANES_HANDLE_NONE;
    *len = 0;
    if (stale) {
        if (*conv >= 0)
            lanes_sys_handle_close(*conv);
        *conv = LANES_HANDLE_NONE;
        return SERVED_STALE;
    }
    if (*conv < 0)
        return c->status == LANES_E_END_OF_LANE || c->status == LANES_E_LANE_SHUTDOWN ? SERVED_GONE : SERVED_AGAIN;
    st_served++;
    const struct lane_ipc_result *rr = lanes_ipc_result(c, 1);
    if (c->nresults < 2 || rr->error < 0) {
        st_malformed++;
        served_reply(*conv, rr->error == LANES_E_BUFFER_TOO_SMALL ? -E2BIG : -EPROTO, NULL, 0);
        lanes_sys_handle_close(*conv);
        *conv = LANES_HANDLE_NONE;
        return SERVED_AGAIN;
    }
    *len = rr->length;
    return SERVED_REQUEST;
}
