/*
 * mbus.c — the client of the service registry (os/programs/mbus); see lanes/mbus.h.
 *
 *   publish:    offer{send mbus.Publish, push lane, recv mbus.Reply{error, value: the id}}
 *   enumerate:  offer(WANT_LANE){send mbus.Enumerate, recv mbus.Reply{value: the count}}, then
 *               that many recv_inline mbus.Entry on the conversation's lane
 *   await:      offer{send mbus.Await, recv mbus.Entry} (answered when a match exists)
 *   bind:       offer(WANT_LANE){send mbus.Bind, recv mbus.Reply{error}}, then pull the lane
 *               from the conversation's lane
 *
 * Each request is one lanes_ipc_request on a completion queue of this file, made on first use;
 * a lock keeps one call at a time on it (an await holds it for as long as it waits). console.c
 * uses this to find and bind the console server.
 */
#include <lanes/mbus.h>
#include <lanes/ipc.h>

#define CALL_TIMEOUT LANES_SEC(20)

static lanes_mutex_t mbus_lock = LANES_MUTEX_INIT;       /* the queue, and one call at a time */
static struct lanes_queue mq;
static bool mq_ok;

static int64_t request(int32_t mbus, const void *msg, size_t len, uint32_t flags, int32_t push, uint64_t timeout,
                       struct lanes_reply *out)
{
    if (!mq_ok && lanes_queue_init(&mq, 8) == 0)
        mq_ok = true;
    if (!mq_ok) {
        out->conv = LANES_HANDLE_NONE;
        return LANES_E_NOMEM;
    }
    return lanes_ipc_request(&mq, mbus, msg, len, flags, push, timeout, out);
}

/* A request answered by mbus.Reply, decoded into *rep (a->conv: see lanes_ipc_request). */
static int64_t request_reply(int32_t mbus, const void *msg, size_t len, uint32_t flags, int32_t push,
                             struct lanes_reply *a, struct lane_msg_mbus_reply *rep)
{
    int64_t r = request(mbus, msg, len, flags, push, CALL_TIMEOUT, a);
    if (r == 0 && lanes_msg_mbus_reply_decode(a->data, a->length, rep))
        r = LANES_E_INVAL;
    return r;
}

/* A call on the conversation's lane (recv an entry, pull the bound lane). */
static int64_t call(int32_t lane, struct lanes_acts *b, struct lane_ipc_completion *c)
{
    return lanes_ipc_call(&mq, lane, b, c, CALL_TIMEOUT);
}

int64_t lanes_mbus_publish(int32_t mbus, const char *name, const char *props, int32_t lane, uint64_t *id)
{
    struct lane_msg_mbus_publish m = lanes_msg_mbus_publish_encode(name, props);
    struct lanes_reply a;
    lanes_mutex_lock(&mbus_lock);
    struct lane_msg_mbus_reply rep;
    int64_t r = request_reply(mbus, &m, sizeof m, 0, lane, &a, &rep);
    lanes_mutex_unlock(&mbus_lock);
    if (r)
        return r;
    if (id)
        *id = rep.value;
    return rep.error;
}

int64_t lanes_mbus_enumerate(int32_t mbus, const char *filter, uint64_t after,
                             void (*fn)(const struct lane_msg_mbus_entry *e, void *arg), void *arg)
{
    struct lane_msg_mbus_enumerate m = lanes_msg_mbus_enumerate_encode(after, filter);
    struct lanes_reply a;
    lanes_mutex_lock(&mbus_lock);
    struct lane_msg_mbus_reply rep;
    int64_t r = request_reply(mbus, &m, sizeof m, LANES_IPC_FLAG_WANT_LANE, LANES_HANDLE_NONE, &a, &rep);
    for (uint64_t i = 0; r == 0 && i < rep.value; i++) {
        struct lanes_acts b;
        struct lane_ipc_completion c;
        struct lane_msg_mbus_entry x;
        lanes_acts_init(&b);
        lanes_acts_recv_inline(&b);
        r = call(a.conv, &b, &c);
        if (r == 0 && lanes_msg_mbus_entry_decode(lanes_ipc_data(&c, 0), lanes_ipc_result(&c, 0)->length, &x))
            r = LANES_E_INVAL;
        if (r == 0)
            fn(&x, arg);
    }
    if (a.conv >= 0)
        lanes_sys_handle_close(a.conv);
    lanes_mutex_unlock(&mbus_lock);
    return r ? r : (int64_t)rep.value;
}

static void keep_newest(const struct lane_msg_mbus_entry *x, void *arg)
{
    struct lane_msg_mbus_entry *e = arg;
    if (e->id == 0 || x->id > e->id)
        *e = *x;
}

int64_t lanes_mbus_find(int32_t mbus, const char *filter, uint64_t after, struct lane_msg_mbus_entry *e)
{
    struct lane_msg_mbus_entry newest;
    newest.id = 0;                          /* object ids start at 1 */
    int64_t r = lanes_mbus_enumerate(mbus, filter, after, keep_newest, &newest);
    if (r <= 0)
        return r;
    *e = newest;
    return 1;
}

int64_t lanes_mbus_await(int32_t mbus, const char *filter, uint64_t after, uint64_t timeout_ns,
                         struct lane_msg_mbus_entry *e)
{
    struct lane_msg_mbus_await m = lanes_msg_mbus_await_encode(after, filter);
    struct lanes_reply a;
    lanes_mutex_lock(&mbus_lock);
    int64_t r = request(mbus, &m, sizeof m, 0, LANES_HANDLE_NONE, timeout_ns, &a);
    if (r == 0 && (lanes_msg_mbus_entry_decode(a.data, a.length, e) || e->id == 0))
        r = LANES_E_INVAL;
    lanes_mutex_unlock(&mbus_lock);
    return r;
}

int64_t lanes_mbus_bind(int32_t mbus, uint64_t id)
{
    struct lane_msg_mbus_bind m = lanes_msg_mbus_bind_encode(id);
    struct lanes_reply a;
    lanes_mutex_lock(&mbus_lock);
    struct lane_msg_mbus_reply rep;
    int64_t r = request_reply(mbus, &m, sizeof m, LANES_IPC_FLAG_WANT_LANE, LANES_HANDLE_NONE, &a, &rep);
    if (r == 0 && rep.error)
        r = rep.error;
    int64_t lane = r;
    if (r == 0) {
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_pull(&b);
        r = call(a.conv, &b, &c);
        lane = r ? r : lanes_ipc_result(&c, 0)->handle;
    }
    if (a.conv >= 0)
        lanes_sys_handle_close(a.conv);
    lanes_mutex_unlock(&mbus_lock);
    return lane;
}

/* In a forked child (fork.c): the parent's queue is not ours. */
void __mbus_fork_child(void)
{
    lanes_mutex_t unlocked = LANES_MUTEX_INIT;
    mbus_lock = unlocked;
    if (mq_ok)
        lanes_queue_close(&mq);
    mq_ok = false;
}
