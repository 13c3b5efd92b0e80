/*
 * sysfs_owner.c — parts of /sys served by user space, and uevents (kernel.toml 54-57).
 *
 * A server whose manifest says `sysfs /sys/bus/pci` is given (by the spawner, from SYSTEM) a
 * SYSFS capability for that subtree (sysfs_grant). Through sysfs_publish it alone makes
 * directories, text and binary attributes (values up to 4 KiB, stored in the node pool and read
 * by anyone without a round trip to the server) and symlinks below it, removes them, and sends
 * uevents for its directories. Nobody else can change them: a write by another process (with
 * SYSTEM + CONTROL, as every sysfs write) to a writable owned attribute becomes a request the
 * owner picks up with sysfs_wait and answers with a REPLY (the writer waits up to
 * WRITE_TIMEOUT_NS for it, like a write to Linux's /sys/bus/pci/rescan that returns when the
 * rescan is done); a read-only one gives ACCESS. When the capability is destroyed (the server
 * died or closed it) its whole subtree goes, and writers still waiting get DEAD.
 *
 * Uevents (Linux's kobject_uevent): sysfs_subscribe gives a UEVENTS handle whose queue receives
 * every uevent from then on, in netlink's format "add@/devices/...\0ACTION=add\0DEVPATH=..\0
 * <the owner's KEY=VALUE lines>\0SEQNUM=N\0", read with sysfs_wait; at most QUEUE_MAX bytes wait
 * per subscriber (the oldest are dropped and counted beyond).
 *
 * Trace records (class sysfs): sysfs_owner(pid, prefix) when a process first publishes with a
 * capability; sysfs_add / sysfs_attr / sysfs_bin / sysfs_link / sysfs_remove /
 * sysfs_attr_remove for every change (only when a value really changed); sysfs_uevent for
 * every uevent. All under sysfs_lock (sysfs_tree.h).
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include "syscall.h"
#include "sysfs_tree.h"

#define WRITE_TIMEOUT_NS 5000000000ULL
#define QUEUE_MAX 65536
#define UEVENT_MAX 2048

struct sysfs_owner {
    struct kobj obj;
    struct list link;           /* on owners */
    char prefix[SYSFS_PATH_MAX];
    uint32_t pid;               /* the process that published last (0: none yet) */
    struct list requests;       /* writes waiting to be handed to the owner */
    struct list handed;         /* handed out by sysfs_wait, waiting for a REPLY */
    struct waitq wq;            /* the owner in sysfs_wait */
};

struct write_req {              /* on the writer's kernel stack */
    struct list link;
    uint64_t id;
    uint32_t pid;
    bool done;
    int64_t result;
    struct waitq wq;
    const char *path, *val;
    size_t vlen;
};

struct uev_msg { struct list link; uint32_t len; char data[]; };
struct uev_sub {
    struct kobj obj;
    struct list link;           /* on subscribers */
    struct list msgs;
    uint32_t bytes;
    uint64_t lost;
    struct waitq wq;
};

static struct list owners = { &owners, &owners };
static struct list subscribers = { &subscribers, &subscribers };
static uint64_t next_request = 1, uevent_seqnum;

/* ---- removing owned things (under sysfs_lock) ---- */

static void free_dyn(struct sysfs_dyn *d)
{
    kfree(d->data);
    kfree(d);
}

static void node_free(struct sysfs_node *n)
{
    trace_emit_sysfs_remove(n->id, n->path);
    while (n->dyn) {
        struct sysfs_dyn *d = n->dyn;
        n->dyn = d->next;
        free_dyn(d);
    }
    kfree(n->link);
    n->link = NULL;
    n->owner = NULL;
    n->used = false;
}

/* n and every node of the same owner below it, deepest first (the view removes children first). */
static void remove_subtree(struct sysfs_owner *o, const char *path)
{
    size_t pl = strlen(path);
    for (;;) {
        struct sysfs_node *deepest = NULL;
        for (size_t i = 0; i < SYSFS_MAX_NODES; i++) {
            struct sysfs_node *n = &sysfs_nodes[i];
            if (n->used && n->owner == o && (!strcmp(n->path, path) || sysfs_has_prefix_dir(n->path, path, pl)) &&
                (!deepest || strlen(n->path) > strlen(deepest->path)))
                deepest = n;
        }
        if (!deepest)
            return;
        node_free(deepest);
    }
}

static void finish_req(struct write_req *w, int64_t result)
{
    list_del(&w->link);
    w->done = true;
    w->result = result;
    wake_all(&w->wq);
}

static void owner_destroy(struct kobj *ko)
{
    struct sysfs_owner *o = container_of(ko, struct sysfs_owner, obj);
    spin_lock(&sysfs_lock);
    remove_subtree(o, o->prefix);
    while (!list_empty(&o->requests))
        finish_req(container_of(o->requests.next, struct write_req, link), LANES_E_DEAD);
    while (!list_empty(&o->handed))
        finish_req(container_of(o->handed.next, struct write_req, link), LANES_E_DEAD);
    list_del(&o->link);
    spin_unlock(&sysfs_lock);
    kfree(o);
}

void sysfs_owner_snapshot(void)
{
    for (struct list *l = owners.next; l != &owners; l = l->next) {
        struct sysfs_owner *o = container_of(l, struct sysfs_owner, link);
        if (o->pid)
            trace_emit_sysfs_owner(0, o->pid, 0, o->prefix);
    }
}

/* ---- grant ---- */

SYS(sysfs_grant)
{
    UNUSED_ARGS;
    int64_t r = handle_check_system(a0);
    if (r)
        return r;
    char p[SYSFS_PATH_MAX];
    if ((r = sysfs_user_path(a1, a2, p)))
        return r;
    size_t pl = strlen(p);
    if (pl <= 4)
        return LANES_E_BUSY;            /* all of /sys holds the kernel's nodes */
    struct sysfs_owner *o = kmalloc(sizeof *o);
    if (!o)
        return LANES_E_NOMEM;
    kobj_init(&o->obj, LANES_OBJ_SYSFS, owner_destroy);
    strlcpy(o->prefix, p, sizeof o->prefix);
    list_init(&o->requests);
    list_init(&o->handed);
    waitq_init(&o->wq);
    spin_lock(&sysfs_lock);
    for (size_t i = 0; i < SYSFS_MAX_NODES && !r; i++) {
        struct sysfs_node *n = &sysfs_nodes[i];
        if (n->used && !n->owner && (!strcmp(n->path, p) || sysfs_has_prefix_dir(n->path, p, pl)))
            r = LANES_E_BUSY;
    }
    for (struct list *l = owners.next; l != &owners && !r; l = l->next) {
        struct sysfs_owner *x = container_of(l, struct sysfs_owner, link);
        size_t xl = strlen(x->prefix);
        if (!strcmp(x->prefix, p) || sysfs_has_prefix_dir(x->prefix, p, pl) || sysfs_has_prefix_dir(p, x->prefix, xl))
            r = LANES_E_BUSY;
    }
    if (!r)
        list_add_tail(&owners, &o->link);
    spin_unlock(&sysfs_lock);
    if (r) {
        kfree(o);
        return r;
    }
    return handle_give(&o->obj, LANES_RIGHT_ALL);
}

/* ---- publish ---- */

static bool in_subtree(const struct sysfs_owner *o, const char *p)
{
    return !strcmp(p, o->prefix) || sysfs_has_prefix_dir(p, o->prefix, strlen(o->prefix));
}

static struct sysfs_node *new_node(struct sysfs_owner *o, const char *p)
{
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++) {
        struct sysfs_node *n = &sysfs_nodes[i];
        if (n->used)
            continue;
        memset(n, 0, sizeof *n);
        n->used = true;
        n->id = sysfs_next_node_id++;
        strlcpy(n->path, p, sizeof n->path);
        n->owner = o;
        return n;
    }
    return NULL;
}

/* Splits canonical p into its directory (into dir) and last name; NULL for "/sys". */
static const char *split(const char *p, char *dir)
{
    size_t pl = strlen(p);
    if (pl <= 4)
        return NULL;
    const char *slash = p + pl;
    while (*slash != '/')
        slash--;
    memcpy(dir, p, (size_t)(slash - p));
    dir[slash - p] = 0;
    return slash + 1;
}

static int64_t op_mkdir(struct sysfs_owner *o, const char *p)
{
    struct sysfs_node *n = sysfs_node_at(p);
    if (n)
        return n->owner == o && !n->link ? (int64_t)n->id : LANES_E_EXISTS;
    char dir[SYSFS_PATH_MAX];
    const char *name = split(p, dir);
    struct sysfs_node *parent = name ? sysfs_node_at(dir) : NULL;
    if (parent && sysfs_dyn_find(parent, name))
        return LANES_E_EXISTS;
    if (!(n = new_node(o, p)))
        return LANES_E_LIMIT;
    trace_emit_sysfs_add(n->id, n->path);
    return (int64_t)n->id;
}

static int64_t op_attr(struct sysfs_owner *o, const char *p, uint32_t flags, const uint8_t *data, size_t len)
{
    char dir[SYSFS_PATH_MAX];
    const char *name = split(p, dir);
    if (!name || strlen(name) >= SYSFS_NAME_MAX)
        return LANES_E_RANGE;
    struct sysfs_node *n = sysfs_node_at(dir);
    if (!n)
        return LANES_E_NOENT;
    if (n->owner != o || n->link)
        return LANES_E_ACCESS;
    if (sysfs_node_at(p))
        return LANES_E_EXISTS;
    struct sysfs_dyn *d = sysfs_dyn_find(n, name);
    if (d && d->len == len && d->flags == flags && !memcmp(d->data, data, len))
        return 0;                               /* unchanged: no record */
    uint8_t *copy = kmalloc(len ? len : 1);
    if (!copy)
        return LANES_E_NOMEM;
    memcpy(copy, data, len);
    if (!d) {
        if (!(d = kmalloc(sizeof *d))) {
            kfree(copy);
            return LANES_E_NOMEM;
        }
        strlcpy(d->name, name, sizeof d->name);
        struct sysfs_dyn **tail = &n->dyn;      /* keep publishing order: ls shows it */
        while (*tail)
            tail = &(*tail)->next;
        *tail = d;
    } else {
        kfree(d->data);
    }
    d->flags = flags & (LANES_SYSFS_PUB_WRITABLE | LANES_SYSFS_PUB_BINARY);
    d->data = copy;
    d->len = (uint32_t)len;
    sysfs_emit_dyn(n, d);
    return 0;
}

static int64_t op_link(struct sysfs_owner *o, const char *p, const char *target, size_t len)
{
    if (!len || len >= SYSFS_PATH_MAX || strnlen(target, len) != len)
        return LANES_E_INVAL;
    char dir[SYSFS_PATH_MAX];
    const char *name = split(p, dir);
    if (!name)
        return LANES_E_INVAL;
    struct sysfs_node *parent = sysfs_node_at(dir);
    if (parent && sysfs_dyn_find(parent, name))
        return LANES_E_EXISTS;
    struct sysfs_node *n = sysfs_node_at(p);
    for (size_t i = 0; i < SYSFS_MAX_NODES && !n; i++)     /* nothing may live below a link */
        if (sysfs_nodes[i].used && sysfs_has_prefix_dir(sysfs_nodes[i].path, p, strlen(p)))
            return LANES_E_EXISTS;
    if (n && (n->owner != o || !n->link))
        return LANES_E_EXISTS;
    char *copy = kmalloc(len + 1);
    if (!copy)
        return LANES_E_NOMEM;
    memcpy(copy, target, len);
    copy[len] = 0;
    if (n) {
        if (!strcmp(n->link, copy)) {
            kfree(copy);
            return (int64_t)n->id;
        }
        kfree(n->link);
    } else if (!(n = new_node(o, p))) {
        kfree(copy);
        return LANES_E_LIMIT;
    }
    n->link = copy;
    sysfs_emit_node(n);
    return (int64_t)n->id;
}

static int64_t op_remove(struct sysfs_owner *o, const char *p)
{
    struct sysfs_node *n = sysfs_node_at(p);
    if (n) {
        if (n->owner != o)
            return LANES_E_ACCESS;
        remove_subtree(o, p);
        return 0;
    }
    char dir[SYSFS_PATH_MAX];
    const char *name = split(p, dir);
    struct sysfs_node *parent = name ? sysfs_node_at(dir) : NULL;
    for (struct sysfs_dyn **dp = parent ? &parent->dyn : NULL; dp && *dp; dp = &(*dp)->next)
        if (!strcmp((*dp)->name, name)) {
            if (parent->owner != o)
                return LANES_E_ACCESS;
            struct sysfs_dyn *d = *dp;
            *dp = d->next;
            free_dyn(d);
            trace_emit_sysfs_attr_remove(parent->id, p);
            return 0;
        }
    return LANES_E_NOENT;
}

static const char *const actions[] = { "add", "remove", "change", "bind", "unbind" };

/* Queues msg (len bytes) for every subscriber; under sysfs_lock. */
static void deliver(const char *msg, size_t len)
{
    for (struct list *l = subscribers.next; l != &subscribers; l = l->next) {
        struct uev_sub *s = container_of(l, struct uev_sub, link);
        struct uev_msg *m = kmalloc(sizeof *m + len);
        if (!m) {
            s->lost++;
            continue;
        }
        m->len = (uint32_t)len;
        memcpy(m->data, msg, len);
        while (s->bytes + len > QUEUE_MAX && !list_empty(&s->msgs)) {
            struct uev_msg *old = container_of(s->msgs.next, struct uev_msg, link);
            list_del(&old->link);
            s->bytes -= old->len;
            s->lost++;
            kfree(old);
        }
        list_add_tail(&s->msgs, &m->link);
        s->bytes += (uint32_t)len;
        wake_all(&s->wq);
    }
}

static int64_t op_uevent(struct sysfs_owner *o, const char *p, uint32_t action, const char *env, size_t elen)
{
    if (action >= ARRAY_SIZE(actions))
        return LANES_E_INVAL;
    struct sysfs_node *n = sysfs_node_at(p);
    if (!n)
        return LANES_E_NOENT;
    if (n->owner != o || n->link)
        return LANES_E_ACCESS;
    char *msg = kmalloc(UEVENT_MAX);
    if (!msg)
        return LANES_E_NOMEM;
    const char *devpath = p + 4;
    uint64_t seq = ++uevent_seqnum;
    size_t len = sysfs_print(msg, UEVENT_MAX, "%s@%s", actions[action], devpath) + 1;
    len += sysfs_print(msg + len, UEVENT_MAX - len, "ACTION=%s", actions[action]) + 1;
    len += sysfs_print(msg + len, UEVENT_MAX - len, "DEVPATH=%s", devpath) + 1;
    for (size_t i = 0; i < elen;) {                 /* the owner's "KEY=VALUE\n" lines */
        size_t e = i;
        while (e < elen && env[e] != '\n')
            e++;
        if (e > i && len + (e - i) + 32 < UEVENT_MAX) {
            for (size_t k = i; k < e; k++)
                msg[len++] = env[k] ? env[k] : ' ';
            msg[len++] = 0;
        }
        i = e + 1;
    }
    len += sysfs_print(msg + len, UEVENT_MAX - len, "SEQNUM=%lu", seq) + 1;
    deliver(msg, len);
    kfree(msg);
    trace_emit_sysfs_uevent(n->id, action, (uint32_t)seq, n->path);
    return (int64_t)seq;
}

static int64_t op_reply(struct sysfs_owner *o, uint64_t id, int64_t result)
{
    for (struct list *l = o->handed.next; l != &o->handed; l = l->next) {
        struct write_req *w = container_of(l, struct write_req, link);
        if (w->id == id) {
            finish_req(w, result > 0 ? 0 : result);
            return 0;
        }
    }
    return LANES_E_NOENT;
}

SYS(sysfs_publish)
{
    UNUSED_ARGS;
    struct kobj *ko;
    int64_t r = handle_get(a0, LANES_OBJ_SYSFS, LANES_RIGHT_WRITE, &ko, NULL);
    if (r)
        return r;
    struct sysfs_owner *o = container_of(ko, struct sysfs_owner, obj);
    struct lane_sysfs_publish q;
    char p[SYSFS_PATH_MAX];
    uint8_t *data = NULL;
    if (!user_range_ok(a1, sizeof q) || copy_from_user(&q, a1, sizeof q)) {
        r = LANES_E_FAULT;
        goto out;
    }
    if (q.op == LANES_SYSFS_OP_REPLY) {
        spin_lock(&sysfs_lock);
        r = op_reply(o, q.request, q.result);
        spin_unlock(&sysfs_lock);
        goto out;
    }
    if ((r = sysfs_user_path(q.path, q.path_len, p)))
        goto out;
    if (q.data_len > LANES_SYSFS_VALUE_BYTES) {
        r = LANES_E_RANGE;
        goto out;
    }
    if (!(data = kmalloc(q.data_len + 1))) {
        r = LANES_E_NOMEM;
        goto out;
    }
    if (q.data_len && (!user_range_ok(q.data, q.data_len) || copy_from_user(data, q.data, q.data_len))) {
        r = LANES_E_FAULT;
        goto out;
    }
    data[q.data_len] = 0;
    spin_lock(&sysfs_lock);
    if ((r = sysfs_follow_links(p, false)) == 0 && !in_subtree(o, p))
        r = LANES_E_ACCESS;
    if (!r && o->pid != self()->pid) {
        o->pid = self()->pid;
        trace_emit_sysfs_owner(0, o->pid, 0, o->prefix);
    }
    if (!r) {
        switch (q.op) {
        case LANES_SYSFS_OP_MKDIR: r = op_mkdir(o, p); break;
        case LANES_SYSFS_OP_ATTR: r = op_attr(o, p, q.flags, data, q.data_len); break;
        case LANES_SYSFS_OP_LINK: r = op_link(o, p, (const char *)data, q.data_len); break;
        case LANES_SYSFS_OP_REMOVE: r = op_remove(o, p); break;
        case LANES_SYSFS_OP_UEVENT: r = op_uevent(o, p, q.flags, (const char *)data, q.data_len); break;
        default: r = LANES_E_INVAL; break;
        }
    }
    spin_unlock(&sysfs_lock);
out:
    kfree(data);
    kobj_put(ko);
    return r;
}

/* ---- writes by others: requests to the owner (called by sysfs_sys_write under sysfs_lock) ---- */

int64_t sysfs_owner_write(struct sysfs_node *n, const char *path, const char *val, size_t len)
{
    struct sysfs_owner *o = n->owner;
    if (!o)
        return LANES_E_ACCESS;
    if (o->pid == self()->pid)
        return LANES_E_BUSY;            /* the owner would wait for itself: it publishes instead */
    struct write_req w = { .id = next_request++, .pid = self()->pid, .path = path, .val = val, .vlen = len };
    waitq_init(&w.wq);
    list_add_tail(&o->requests, &w.link);
    wake_all(&o->wq);
    uint64_t deadline = deadline_from_timeout(WRITE_TIMEOUT_NS);
    int64_t r = 0;
    while (!w.done && !r)
        r = wait_on(&w.wq, &sysfs_lock, deadline);
    if (!w.done) {                      /* timed out or interrupted: withdraw it */
        list_del(&w.link);
        return r ? r : LANES_E_TIMEOUT;
    }
    return w.result;
}

/* ---- subscriptions and waiting ---- */

static void sub_destroy(struct kobj *ko)
{
    struct uev_sub *s = container_of(ko, struct uev_sub, obj);
    spin_lock(&sysfs_lock);
    list_del(&s->link);
    while (!list_empty(&s->msgs)) {
        struct uev_msg *m = container_of(s->msgs.next, struct uev_msg, link);
        list_del(&m->link);
        kfree(m);
    }
    spin_unlock(&sysfs_lock);
    kfree(s);
}

SYS(sysfs_subscribe)
{
    UNUSED_ARGS;
    struct uev_sub *s = kmalloc(sizeof *s);
    if (!s)
        return LANES_E_NOMEM;
    kobj_init(&s->obj, LANES_OBJ_UEVENTS, sub_destroy);
    list_init(&s->msgs);
    waitq_init(&s->wq);
    spin_lock(&sysfs_lock);
    list_add_tail(&subscribers, &s->link);
    spin_unlock(&sysfs_lock);
    return handle_give(&s->obj, LANES_RIGHT_ALL);
}

SYS(sysfs_wait)
{
    UNUSED_ARGS;
    struct kobj *ko;
    int64_t r = handle_get(a0, LANES_OBJ_NONE, LANES_RIGHT_WAIT, &ko, NULL);
    if (r)
        return r;
    if (ko->type != LANES_OBJ_SYSFS && ko->type != LANES_OBJ_UEVENTS) {
        kobj_put(ko);
        return LANES_E_TYPE;
    }
    if (!user_range_ok(a1, a2)) {
        kobj_put(ko);
        return LANES_E_FAULT;
    }
    uint64_t deadline = deadline_from_timeout(a3);
    size_t n = 0;
    char *buf = kmalloc(UEVENT_MAX + SYSFS_PATH_MAX + SYSFS_VALUE_MAX + sizeof(struct lane_sysfs_request));
    if (!buf) {
        kobj_put(ko);
        return LANES_E_NOMEM;
    }
    spin_lock(&sysfs_lock);
    if (ko->type == LANES_OBJ_UEVENTS) {
        struct uev_sub *s = container_of(ko, struct uev_sub, obj);
        while (list_empty(&s->msgs) && !r)
            r = wait_on(&s->wq, &sysfs_lock, deadline);
        if (!list_empty(&s->msgs)) {
            struct uev_msg *m = container_of(s->msgs.next, struct uev_msg, link);
            r = 0;
            n = m->len;
            if (n <= a2) {
                memcpy(buf, m->data, n);
                list_del(&m->link);
                s->bytes -= m->len;
                kfree(m);
            } else {
                r = LANES_E_RANGE;
            }
        }
    } else {
        struct sysfs_owner *o = container_of(ko, struct sysfs_owner, obj);
        while (list_empty(&o->requests) && !r)
            r = wait_on(&o->wq, &sysfs_lock, deadline);
        if (!list_empty(&o->requests)) {
            struct write_req *w = container_of(o->requests.next, struct write_req, link);
            struct lane_sysfs_request h = { w->id, w->pid, (uint32_t)strlen(w->path), (uint32_t)w->vlen, 0 };
            r = 0;
            n = sizeof h + h.path_len + 1 + h.value_len + 1;
            if (n <= a2) {
                memcpy(buf, &h, sizeof h);
                memcpy(buf + sizeof h, w->path, h.path_len + 1);
                memcpy(buf + sizeof h + h.path_len + 1, w->val, h.value_len);
                buf[n - 1] = 0;
                list_del(&w->link);
                list_add_tail(&o->handed, &w->link);
            } else {
                r = LANES_E_RANGE;
            }
        }
    }
    spin_unlock(&sysfs_lock);
    if (!r)
        r = copy_to_user(a1, buf, n) ? LANES_E_FAULT : (int64_t)n;
    else if (r != LANES_E_RANGE && r != LANES_E_INTERRUPTED)
        r = LANES_E_TIMEOUT;
    kfree(buf);
    kobj_put(ko);
    return r;
}
