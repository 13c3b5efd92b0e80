/* mbus — the service registry (after Managarm's mbus).
 *
 * Servers publish named objects with properties and a lane to reach them; clients enumerate
 * objects with a filter, wait for new ones, and bind (get a lane to an object). Every request is
 * a conversation on the registry's lane (tag "mbus"; any number of clients may share it):
 *
 *   publish    offer{send mbus.Publish{name, props}, push LANE, recv mbus.Reply{0, id}}
 *   enumerate  offer(WANT_LANE){send mbus.Enumerate{after, filter}, recv mbus.Reply{0, count}}
 *              then count x recv mbus.Entry on the conversation lane
 *   await      offer{send mbus.Await{after, filter}, recv mbus.Entry}    (answered when an object
 *              with id > after matches, which may be later)
 *   bind       offer(WANT_LANE){send mbus.Bind{id}, recv mbus.Reply}, then pull on the conversation
 *
 * Ids grow from 1, so `after` works as a sequence number: enumerate, then await(after = the
 * highest id seen) never misses an object. Filters: "" (all), "k=v" (a property, or name=N),
 * "a&b" (both), "a|b" (either; & binds tighter).
 * Usage: mbus   (the lane to serve comes with tag "mbus")
 */
#include <lanes.h>
#include <lanes/ipc.h>
#include <lanes/abi/messages.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OBJECTS 64
#define MAX_WAITERS 16

struct object { uint64_t id; char name[32]; char props[64]; int32_t lane; };
struct waiter { int32_t conv; uint64_t after; char filter[64]; };

static struct object objects[MAX_OBJECTS];
static int nobjects;
static struct waiter waiters[MAX_WAITERS];
static int nwaiters;
static uint64_t next_id = 1;
static struct lanes_queue Q;        /* blocking calls */
static struct lanes_queue FQ;       /* fire-and-forget sends (replies the client has posted receives for) */

/* Does "k=v" hold for obj? */
static bool term(const struct object *o, const char *t, size_t n)
{
    if (n == 0)
        return true;
    if (n > 5 && strncmp(t, "name=", 5) == 0)
        return strlen(o->name) == n - 5 && strncmp(o->name, t + 5, n - 5) == 0;
    const char *p = o->props;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && strncmp(p, t, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static bool matches(const struct object *o, const char *filter)
{
    const char *alt = filter;
    for (;;) {
        const char *bar = strchr(alt, '|');
        const char *end = bar ? bar : alt + strlen(alt);
        bool all = true;
        const char *t = alt;
        while (t < end) {
            const char *amp = t;
            while (amp < end && *amp != '&')
                amp++;
            if (!term(o, t, (size_t)(amp - t)))
                all = false;
            t = amp < end ? amp + 1 : end;
        }
        if (all)
            return true;
        if (!bar)
            return false;
        alt = bar + 1;
    }
}

static void drain_fq(void)
{
    while (lanes_queue_peek(&FQ))
        lanes_queue_pop(&FQ);
}

/* Queues a send without waiting for it (the client has a receive posted, or will). */
static void post(int32_t lane, const void *msg, size_t len)
{
    static uint8_t ring[128][128];
    static uint32_t slot;
    uint8_t *buf = ring[slot++ % 128];
    memcpy(buf, msg, len);
    struct lane_ipc_action a = { .type = LANES_IPC_ACTION_SEND, .buf = (uint64_t)(uintptr_t)buf, .len = len, .handle = -1 };
    drain_fq();
    while (lanes_sys_ipc_submit(lane, &a, 1, FQ.handle, 0) == LANES_E_AGAIN) {
        lanes_sys_ipc_queue_wait(FQ.handle, LANES_MS(100));
        drain_fq();
    }
}

static void reply(int32_t conv, int32_t err, uint64_t value)
{
    struct lane_msg_mbus_reply r = lanes_msg_mbus_reply_encode(err, value);
    post(conv, &r, sizeof r);
}

static struct lane_msg_mbus_entry entry_of(const struct object *o)
{
    return lanes_msg_mbus_entry_encode(o->id, o->name, o->props);
}

static void wake_waiters(const struct object *o)
{
    for (int i = 0; i < nwaiters;) {
        if (o->id > waiters[i].after && matches(o, waiters[i].filter)) {
            struct lane_msg_mbus_entry e = entry_of(o);
            post(waiters[i].conv, &e, sizeof e);
            lanes_sys_handle_close(waiters[i].conv);
            waiters[i] = waiters[--nwaiters];
        } else {
            i++;
        }
    }
}

static void serve(int32_t conv, const void *m, uint32_t len)
{
    struct lane_msg_mbus_publish pub;
    struct lane_msg_mbus_enumerate en;
    struct lane_msg_mbus_await aw;
    struct lane_msg_mbus_bind bind;
    struct lanes_acts b;
    struct lane_ipc_completion c;
    if (lanes_msg_mbus_publish_decode(m, len, &pub) == 0) {
        lanes_acts_init(&b);
        lanes_acts_pull(&b);
        if (lanes_ipc_call(&Q, conv, &b, &c, LANES_SEC(5)) != 0) {
            reply(conv, LANES_E_INVAL, 0);
            return;
        }
        if (nobjects == MAX_OBJECTS) {
            lanes_sys_handle_close(lanes_ipc_result(&c, 0)->handle);
            reply(conv, LANES_E_LIMIT, 0);
            return;
        }
        struct object *o = &objects[nobjects++];
        o->id = next_id++;
        memcpy(o->name, pub.name, sizeof o->name);
        memcpy(o->props, pub.props, sizeof o->props);
        o->lane = lanes_ipc_result(&c, 0)->handle;
        reply(conv, 0, o->id);
        wake_waiters(o);
    } else if (lanes_msg_mbus_enumerate_decode(m, len, &en) == 0) {
        uint64_t n = 0;
        for (int i = 0; i < nobjects; i++)
            n += objects[i].id > en.after && matches(&objects[i], en.filter);
        reply(conv, 0, n);
        for (int i = 0; i < nobjects; i++) {
            if (objects[i].id > en.after && matches(&objects[i], en.filter)) {
                struct lane_msg_mbus_entry e = entry_of(&objects[i]);
                post(conv, &e, sizeof e);
            }
        }
    } else if (lanes_msg_mbus_await_decode(m, len, &aw) == 0) {
        for (int i = 0; i < nobjects; i++) {
            if (objects[i].id > aw.after && matches(&objects[i], aw.filter)) {
                struct lane_msg_mbus_entry e = entry_of(&objects[i]);
                post(conv, &e, sizeof e);
                return;
            }
        }
        if (nwaiters == MAX_WAITERS) {
            struct lane_msg_mbus_entry e = lanes_msg_mbus_entry_encode(0, "", "error=LIMIT");
            post(conv, &e, sizeof e);
            return;
        }
        int32_t keep = (int32_t)lanes_sys_handle_dup(conv, LANES_RIGHT_ALL);
        waiters[nwaiters].conv = keep;
        waiters[nwaiters].after = aw.after;
        memcpy(waiters[nwaiters].filter, aw.filter, sizeof aw.filter);
        nwaiters++;
    } else if (lanes_msg_mbus_bind_decode(m, len, &bind) == 0) {
        for (int i = 0; i < nobjects; i++) {
            if (objects[i].id == bind.id) {
                reply(conv, 0, bind.id);
                lanes_acts_init(&b);
                lanes_acts_push(&b, objects[i].lane, LANES_RIGHT_ALL);
                lanes_ipc_call(&Q, conv, &b, &c, LANES_SEC(5));
                return;
            }
        }
        reply(conv, LANES_E_NOENT, 0);
    } else {
        reply(conv, LANES_E_INVAL, 0);
    }
}

int main(void)
{
    int32_t lane = lanes_handle_by_tag("mbus");
    if (lane < 0) {
        printf("mbus: no lane to serve (tag \"mbus\")\n");
        return 1;
    }
    if (lanes_queue_init(&Q, 8) < 0 || lanes_queue_init(&FQ, 256) < 0)
        return 1;
    for (;;) {
        struct lanes_acts b;
        struct lane_ipc_completion c;
        lanes_acts_init(&b);
        lanes_acts_accept(&b, LANES_IPC_FLAG_ANCILLARY);
        lanes_acts_recv_inline(&b);
        lanes_acts_end(&b);
        int64_t r = lanes_ipc_call(&Q, lane, &b, &c, LANES_TIMEOUT_INFINITE);
        if (r == LANES_E_END_OF_LANE && lanes_ipc_result(&c, 0)->error == LANES_E_END_OF_LANE)
            return 0;                   /* nobody can reach us any more */
        int32_t conv = lanes_ipc_result(&c, 0)->handle;
        if (r == 0)
            serve(conv, lanes_ipc_data(&c, 1), lanes_ipc_result(&c, 1)->length);
        if (conv >= 0)
            lanes_sys_handle_close(conv);
    }
}
