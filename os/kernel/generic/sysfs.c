/*
 * sysfs.c — the kernel's own objects as a tree of directories with text attributes (Linux's
 * sysfs), read by user space through four syscalls so that a POSIX server can mount it at /sys.
 *
 * The tree and who fills it (each subsystem registers its own attributes, kernel/sysfs.h):
 *   /sys/kernel/            version uptime_ns (main.c)  processes threads (process.c)
 *                           loglevel(w) (log.c)
 *   /sys/kernel/trace/      enabled(w) classes(w) lost transports (trace_sysfs.c), snapshot(w) (here)
 *   /sys/kernel/sched/      enabled(w) balance_interval_ms(w) decay(w) rounds ideal migrations (balance.c)
 *   /sys/kernel/sched/threads/TID/  pid cpu load affinity migrations (balance.c, each user thread)
 *   /sys/kernel/mm/         total free heap_cached (pmm.c, bytes)
 *   /sys/devices/system/cpu/            online count                     (sched_sysfs.c)
 *   /sys/devices/system/cpu/cpuN/       online apic_id load nr_running runs migrations idle_ns
 *   /sys/drivers/NAME.PID/              pid name ioports irqs  (ioport_irq.c, while the process lives)
 *
 * A node (struct sysfs_node) is a directory with up to SYSFS_MAX_GROUPS static tables of
 * attributes; directories between the root and a node exist implicitly. Nodes live in a fixed
 * pool under one spinlock. Providers (SYSFS_PROVIDER, collected by the linker in
 * .sysfs_providers, sorted by their order) add the boot-time tree in sysfs_init; the sampler, a
 * kernel thread on cpu0, calls each provider's sample function every SYSFS_SAMPLE_NS.
 * Trace events (class "sysfs", os/abi/trace.toml):
 *   sysfs_add(node, path) / sysfs_remove(node, path)  when a node comes or goes, including the
 *     boot-time tree, followed for an added node by one sysfs_attr per attribute (its value);
 *   sysfs_bin(node, bytes, "path/attr") + sysfs_bin_data chunks (name, NUL, bytes; the first
 *     SYSFS_BIN_TRACED bytes) when a binary attribute (a PCI config) is published or changes;
 *   sysfs_attr(node, "path/attr=value")  when an attribute changes: on every successful write,
 *     and from the providers' samplers for values that drift (cpuN/load, mm/free,
 *     processes/threads, trace/classes+enabled, trace/lost). Writing 1 to trace/snapshot
 *     re-emits the whole tree (for a reader that attached late; a reader must treat a repeated
 *     sysfs_add of a node id it knows as a refresh). Counters that change on every context
 *     switch (runs, migrations, nr_running) are read on demand only, never traced.
 *
 * Syscalls (kernel.toml 40-43, 58): sysfs_list, sysfs_read, sysfs_write (needs SYSTEM + CONTROL),
 * sysfs_stat (lstat: a link is reported as LINK), sysfs_readlink. Paths are "/sys/..." or the
 * same without "/sys"; "." and ".." are understood, and symlinks in them are followed (the last
 * component too, except for stat and readlink), at most SYSFS_MAX_HOPS of them.
 *
 * User-space owners (sysfs_owner.c): a node may belong to a server holding a SYSFS capability
 * (node->owner); such a node is a directory with published attributes (node->dyn: text or
 * binary values up to 4 KiB, kept here and served without asking the owner) or a symlink
 * (node->link, its target as given, relative). Writes to an owned writable attribute go to the
 * owner as requests (sysfs_owner_write); read-only ones give ACCESS to everyone.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>
#include "sysfs_tree.h"

#define LIST_MAX 8192
#define SYSFS_BIN_TRACED 4096   /* bytes of a binary attribute recorded in sysfs_bin_data */
#define SYSFS_MAX_HOPS 8

struct sysfs_node sysfs_nodes[SYSFS_MAX_NODES];
#define nodes sysfs_nodes
struct spinlock sysfs_lock = SPINLOCK_INIT("sysfs");
uint64_t sysfs_next_node_id = 1;
#define next_node_id sysfs_next_node_id
extern const struct sysfs_provider __sysfs_providers_start[], __sysfs_providers_end[];   /* linker.ld */

/* ---- text helpers ---- */

size_t sysfs_print(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n < 0 ? 0 : MIN((size_t)n, cap ? cap - 1 : 0);
}
#define put sysfs_print

bool sysfs_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    int base = 10;
    size_t i = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i >= n)
        return false;
    for (; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
              : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0 || v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* ---- the node pool ---- */

void sysfs_emit_dyn(struct sysfs_node *n, const struct sysfs_dyn *d)
{
    if (!(trace_classes & TRACE_CLASS_SYSFS))
        return;
    char text[TRACE_SYSFS_ATTR_TEXT_MAX + 1];
    if (d->flags & LANES_SYSFS_PUB_BINARY) {
        put(text, sizeof text, "%s/%s", n->path, d->name);
        trace_emit_sysfs_bin(n->id, d->len, text);
        /* the contents, so that a trace viewer can show them as they were (the sysfs view's
         * hexdump): name, NUL, a chunk; bounded to the first SYSFS_BIN_TRACED bytes */
        uint8_t chunk[TRACE_SYSFS_BIN_DATA_DATA_MAX];
        size_t nl = strlen(d->name) + 1, total = MIN((size_t)d->len, (size_t)SYSFS_BIN_TRACED);
        if (nl >= sizeof chunk / 2)
            return;
        memcpy(chunk, d->name, nl);
        for (size_t off = 0; off < total;) {
            size_t k = MIN(total - off, sizeof chunk - nl);
            memcpy(chunk + nl, d->data + off, k);
            trace_emit_sysfs_bin_data(n->id, (uint32_t)off, d->len, chunk, (uint32_t)(nl + k));
            off += k;
        }
        return;
    }
    size_t vl = d->len;
    while (vl && (d->data[vl - 1] == '\n' || d->data[vl - 1] == ' '))
        vl--;
    put(text, sizeof text, "%s/%s=%.*s", n->path, d->name, (int)vl, (const char *)d->data);
    trace_emit_sysfs_attr(n->id, text);
}

void sysfs_emit_node(struct sysfs_node *n)
{
    if (!(trace_classes & TRACE_CLASS_SYSFS))
        return;
    if (n->link) {
        char text[TRACE_SYSFS_LINK_TEXT_MAX + 1];
        put(text, sizeof text, "%s->%s", n->path, n->link);
        trace_emit_sysfs_link(n->id, text);
        return;
    }
    trace_emit_sysfs_add(n->id, n->path);
    for_each_attr(n, a)
        sysfs_emit_attr(n, a);
    for (struct sysfs_dyn *d = n->dyn; d; d = d->next)
        sysfs_emit_dyn(n, d);
}

void sysfs_emit_attr(struct sysfs_node *n, const struct sysfs_attr *a)
{
    if (!(trace_classes & TRACE_CLASS_SYSFS) || !a->show)
        return;
    char val[SYSFS_VALUE_MAX], text[TRACE_SYSFS_ATTR_TEXT_MAX + 1];
    size_t vl = a->show(n, val, sizeof val);
    while (vl && (val[vl - 1] == '\n' || val[vl - 1] == ' '))
        vl--;
    put(text, sizeof text, "%s/%s=%.*s", n->path, a->name, (int)vl, val);
    trace_emit_sysfs_attr(n->id, text);
}

struct sysfs_node *sysfs_node_at(const char *p)
{
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        if (nodes[i].used && !strcmp(nodes[i].path, p))
            return &nodes[i];
    return NULL;
}

struct sysfs_node *sysfs_add(const char *path, const struct sysfs_attr *attrs, uint32_t nattrs, void *arg)
{
    if (strnlen(path, SYSFS_PATH_MAX) >= SYSFS_PATH_MAX)
        return NULL;
    spin_lock(&sysfs_lock);
    struct sysfs_node *n = sysfs_node_at(path);
    if (n) {                                        /* one more table for a node we have */
        if (n->ngroups < SYSFS_MAX_GROUPS && !n->owner) {
            n->groups[n->ngroups++] = (struct sysfs_group){ attrs, nattrs };
            for (uint32_t i = 0; i < nattrs; i++)
                sysfs_emit_attr(n, &attrs[i]);
        } else {
            n = NULL;
        }
        spin_unlock(&sysfs_lock);
        if (!n)
            pr_warn("sysfs: too many attribute tables for %s", path);
        return n;
    }
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        if (!nodes[i].used) {
            n = &nodes[i];
            break;
        }
    if (n) {
        n->used = true;
        n->id = next_node_id++;
        strlcpy(n->path, path, sizeof n->path);
        n->groups[0] = (struct sysfs_group){ attrs, nattrs };
        n->ngroups = 1;
        n->arg = arg;
        n->owner = NULL;
        n->link = NULL;
        n->dyn = NULL;
        trace_emit_sysfs_add(n->id, n->path);
        for (uint32_t i = 0; i < nattrs; i++)
            sysfs_emit_attr(n, &attrs[i]);
    }
    spin_unlock(&sysfs_lock);
    if (!n)
        pr_warn("sysfs: no free node for %s", path);
    return n;
}

void sysfs_remove(struct sysfs_node *n)
{
    if (!n)
        return;
    spin_lock(&sysfs_lock);
    if (n->used) {
        trace_emit_sysfs_remove(n->id, n->path);
        n->used = false;
    }
    spin_unlock(&sysfs_lock);
}

void *sysfs_node_arg(struct sysfs_node *n)
{
    return n->arg;
}

void sysfs_changed(struct sysfs_node *n, const char *attr)
{
    if (!n || !(trace_classes & TRACE_CLASS_SYSFS))
        return;
    spin_lock(&sysfs_lock);
    if (n->used)
        for_each_attr(n, a)
            if (!strcmp(a->name, attr))
                sysfs_emit_attr(n, a);
    spin_unlock(&sysfs_lock);
}

/* ---- paths ---- */

/* User path -> canonical "/sys[/a/b...]". Returns 0 or NOENT/RANGE. */
int64_t sysfs_canon_path(const char *in, size_t len, char *out)
{
    size_t o = 4;
    memcpy(out, "/sys", 5);
    size_t i = 0;
    bool first = true;
    while (i < len) {
        while (i < len && in[i] == '/')
            i++;
        size_t s = i;
        while (i < len && in[i] != '/')
            i++;
        size_t cl = i - s;
        if (!cl)
            continue;
        bool is_first = first;
        first = false;
        if (is_first && cl == 3 && !strncmp(in + s, "sys", 3))
            continue;                       /* "/sys/..." and "/..." name the same thing */
        if (cl == 1 && in[s] == '.')
            continue;
        if (cl == 2 && in[s] == '.' && in[s + 1] == '.') {
            while (o > 4 && out[o - 1] != '/')
                o--;
            if (o > 4)
                o--;
            out[o] = 0;
            continue;
        }
        for (size_t k = 0; k < cl; k++)
            if (in[s + k] == 0)
                return LANES_E_NOENT;
        if (o + 1 + cl >= SYSFS_PATH_MAX)
            return LANES_E_RANGE;
        out[o++] = '/';
        memcpy(out + o, in + s, cl);
        o += cl;
        out[o] = 0;
    }
    return 0;
}

struct lookup {
    int kind;                       /* 0 none, LANES_SYSFS_KIND_DIR/_ATTR/_LINK */
    struct sysfs_node *node;        /* DIR: the node (NULL if implicit); ATTR: its node; LINK: the link */
    const struct sysfs_attr *attr;  /* ATTR: a kernel attribute, or */
    struct sysfs_dyn *dyn;          /*       an owner's */
};

bool sysfs_has_prefix_dir(const char *path, const char *dir, size_t dl)
{
    return !strncmp(path, dir, dl) && path[dl] == '/';
}
#define has_prefix_dir sysfs_has_prefix_dir

/* Under sysfs_lock: replaces every symlink among p's components (the last one too if
 * follow_last) by its target, relative to the link's directory. 0, or RANGE (too long, or more
 * than SYSFS_MAX_HOPS links: a loop). */
int64_t sysfs_follow_links(char *p, bool follow_last)
{
    for (int hops = 0;; hops++) {
        struct sysfs_node *l = NULL;
        size_t ll = 0;
        for (size_t i = 0; i < SYSFS_MAX_NODES && !l; i++) {
            struct sysfs_node *n = &nodes[i];
            if (!n->used || !n->link)
                continue;
            size_t nl = strlen(n->path);
            if (!strncmp(p, n->path, nl) && (p[nl] == '/' || (p[nl] == 0 && follow_last))) {
                l = n;
                ll = nl;
            }
        }
        if (!l)
            return 0;
        if (hops >= SYSFS_MAX_HOPS)
            return LANES_E_RANGE;
        char tmp[SYSFS_PATH_MAX * 2 + 8];
        const char *slash = l->path + ll;
        while (slash > l->path && *slash != '/')
            slash--;
        size_t dl = (size_t)(slash - l->path);
        size_t n = put(tmp, sizeof tmp, "%.*s/%s%s", (int)dl, l->path, l->link, p + ll);
        if (n + 1 >= sizeof tmp)
            return LANES_E_RANGE;
        int64_t r = l->link[0] == '/' ? sysfs_canon_path(tmp + dl + 1, n - dl - 1, p)
                                       : sysfs_canon_path(tmp, n, p);
        if (r)
            return r;
    }
}

struct sysfs_dyn *sysfs_dyn_find(struct sysfs_node *n, const char *name)
{
    for (struct sysfs_dyn *d = n ? n->dyn : NULL; d; d = d->next)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

/* Under sysfs_lock. */
static struct lookup resolve(const char *p)
{
    struct lookup r = { 0, NULL, NULL, NULL };
    size_t pl = strlen(p);
    r.node = sysfs_node_at(p);
    if (r.node || pl == 4) {
        r.kind = r.node && r.node->link ? LANES_SYSFS_KIND_LINK : LANES_SYSFS_KIND_DIR;
        return r;
    }
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        if (nodes[i].used && has_prefix_dir(nodes[i].path, p, pl)) {
            r.kind = LANES_SYSFS_KIND_DIR;
            return r;
        }
    const char *slash = p + pl;
    while (slash > p && *slash != '/')
        slash--;
    char parent[SYSFS_PATH_MAX];
    memcpy(parent, p, slash - p);
    parent[slash - p] = 0;
    struct sysfs_node *n = sysfs_node_at(parent);
    if (n && !n->link) {
        for_each_attr(n, a)
            if (!strcmp(a->name, slash + 1)) {
                r.kind = LANES_SYSFS_KIND_ATTR;
                r.node = n;
                r.attr = a;
            }
        struct sysfs_dyn *d = sysfs_dyn_find(n, slash + 1);
        if (d && !r.kind) {
            r.kind = LANES_SYSFS_KIND_ATTR;
            r.node = n;
            r.dyn = d;
        }
    }
    return r;
}

/* Is "d NAME\n" already in the listing? */
static bool listed(const char *buf, size_t len, const char *name, size_t nl)
{
    for (size_t i = 0; i + nl + 3 <= len; i++)
        if ((i == 0 || buf[i - 1] == '\n') && buf[i] == 'd' && !strncmp(buf + i + 2, name, nl) && buf[i + 2 + nl] == '\n')
            return true;
    return false;
}

/* Under sysfs_lock: the listing of directory p (resolved as DIR) into buf; entries count. */
static size_t list_dir(const char *p, struct sysfs_node *self, char *buf, size_t cap, uint32_t *entries)
{
    size_t pl = strlen(p), len = 0;
    uint32_t count = 0;
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++) {
        if (!nodes[i].used || !has_prefix_dir(nodes[i].path, p, pl))
            continue;
        const char *c = nodes[i].path + pl + 1;
        size_t cl = 0;
        while (c[cl] && c[cl] != '/')
            cl++;
        if (listed(buf, len, c, cl) || len + cl + 3 >= cap)
            continue;
        len += put(buf + len, cap - len, "%c %.*s\n", nodes[i].link && !c[cl] ? 'l' : 'd', (int)cl, c);
        count++;
    }
    if (self) {
        for_each_attr(self, a) {
            if (len + 64 >= cap)
                break;
            len += put(buf + len, cap - len, "%c %s\n", a->store ? 'w' : 'r', a->name);
            count++;
        }
        for (struct sysfs_dyn *d = self->dyn; d; d = d->next) {
            if (len + 64 >= cap)
                break;
            len += put(buf + len, cap - len, "%c %s\n", d->flags & LANES_SYSFS_PUB_WRITABLE ? 'w' : 'r', d->name);
            count++;
        }
    }
    if (entries)
        *entries = count;
    return len;
}

/* ---- trace/snapshot: sysfs's own attribute ---- */

static uint64_t snapshots;

static size_t show_trace_snapshot(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return put(b, cap, "%lu\n", snapshots);
}

/* Writing 1 re-emits the whole tree (sysfs_add + every value) for a trace reader that attached
 * after boot. Runs under sysfs_lock (sysfs_sys_write holds it). */
static int64_t store_trace_snapshot(struct sysfs_node *self, const char *v, size_t len)
{
    (void)self;
    if (len != 1 || v[0] != '1')
        return LANES_E_INVAL;
    snapshots++;
    sysfs_owner_snapshot();
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        if (nodes[i].used)
            sysfs_emit_node(&nodes[i]);
    return 0;
}

static const struct sysfs_attr snapshot_attrs[] = {
    { "snapshot", show_trace_snapshot, store_trace_snapshot },
};

static void snapshot_init(void)
{
    sysfs_add("/sys/kernel/trace", snapshot_attrs, ARRAY_SIZE(snapshot_attrs), NULL);
}
SYSFS_PROVIDER(31, snapshot, snapshot_init, NULL);     /* after trace_sysfs.c's table (30) */

/* ---- boot-time tree and the sampler ---- */

static void sampler(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_ns(SYSFS_SAMPLE_NS);
        uint64_t now = clock_ns();
        for (const struct sysfs_provider *p = __sysfs_providers_start; p < __sysfs_providers_end; p++)
            if (p->sample)
                p->sample(now);
    }
}

void sysfs_init(void)
{
    for (const struct sysfs_provider *p = __sysfs_providers_start; p < __sysfs_providers_end; p++)
        p->init();
    struct thread *t = thread_create_kernel(sampler, NULL, cpus[0]);
    if (t)
        thread_start(t);
    else
        pr_warn("sysfs: cannot start the sampler (cpuN/load stays 0)");
    uint32_t n = 0;
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        n += nodes[i].used;
    pr_info("sysfs: %u nodes from %u providers (%u CPUs)", n,
            (uint32_t)(__sysfs_providers_end - __sysfs_providers_start), ncpus);
}

/* ---- syscalls ---- */

int64_t sysfs_user_path(uint64_t upath, uint64_t plen, char *canon)
{
    char raw[SYSFS_PATH_MAX];
    if (plen >= SYSFS_PATH_MAX)
        return LANES_E_RANGE;
    if (!user_range_ok(upath, plen) || (plen && copy_from_user(raw, upath, plen)))
        return LANES_E_FAULT;
    return sysfs_canon_path(raw, plen, canon);
}
#define user_path sysfs_user_path

/* The end of a list or read: the lookup's error, or what was found if it is the wanted kind and
 * fits the caller's buffer, copied out. */
static int64_t answer(int64_t r, int kind, int want, uint64_t ubuf, uint64_t cap, const void *src, size_t n)
{
    if (r)
        return r;
    if (!kind)
        return LANES_E_NOENT;
    if (kind != want)
        return LANES_E_TYPE;
    if (cap < n)
        return LANES_E_RANGE;
    return copy_to_user(ubuf, src, n) ? LANES_E_FAULT : (int64_t)n;
}

int64_t sysfs_sys_list(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap)
{
    char p[SYSFS_PATH_MAX];
    int64_t r = user_path(upath, plen, p);
    if (r)
        return r;
    if (!user_range_ok(ubuf, cap))
        return LANES_E_FAULT;
    char *buf = kmalloc(LIST_MAX);
    if (!buf)
        return LANES_E_NOMEM;
    spin_lock(&sysfs_lock);
    struct lookup lk = { 0, NULL, NULL, NULL };
    if ((r = sysfs_follow_links(p, true)) == 0)
        lk = resolve(p);
    size_t n = 0;
    if (lk.kind == LANES_SYSFS_KIND_DIR)
        n = list_dir(p, lk.node, buf, LIST_MAX, NULL);
    spin_unlock(&sysfs_lock);
    r = answer(r, lk.kind, LANES_SYSFS_KIND_DIR, ubuf, cap, buf, n);
    kfree(buf);
    return r;
}

int64_t sysfs_sys_read(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap)
{
    char p[SYSFS_PATH_MAX];
    int64_t r = user_path(upath, plen, p);
    if (r)
        return r;
    if (!user_range_ok(ubuf, cap))
        return LANES_E_FAULT;
    char *val = kmalloc(LANES_SYSFS_VALUE_BYTES);
    if (!val)
        return LANES_E_NOMEM;
    size_t n = 0;
    spin_lock(&sysfs_lock);
    struct lookup lk = { 0, NULL, NULL, NULL };
    if ((r = sysfs_follow_links(p, true)) == 0)
        lk = resolve(p);
    if (lk.kind == LANES_SYSFS_KIND_ATTR && lk.attr) {
        n = lk.attr->show(lk.node, val, SYSFS_VALUE_MAX);
    } else if (lk.kind == LANES_SYSFS_KIND_ATTR) {
        n = lk.dyn->len;
        memcpy(val, lk.dyn->data, n);
    }
    spin_unlock(&sysfs_lock);
    r = answer(r, lk.kind, LANES_SYSFS_KIND_ATTR, ubuf, cap, val, n);
    kfree(val);
    return r;
}

int64_t sysfs_sys_readlink(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap)
{
    char p[SYSFS_PATH_MAX], target[SYSFS_PATH_MAX];
    int64_t r = user_path(upath, plen, p);
    if (r)
        return r;
    if (!user_range_ok(ubuf, cap))
        return LANES_E_FAULT;
    size_t n = 0;
    spin_lock(&sysfs_lock);
    struct lookup lk = { 0, NULL, NULL, NULL };
    if ((r = sysfs_follow_links(p, false)) == 0)
        lk = resolve(p);
    if (lk.kind == LANES_SYSFS_KIND_LINK) {
        strlcpy(target, lk.node->link, sizeof target);
        n = strlen(target);
    }
    spin_unlock(&sysfs_lock);
    if (r)
        return r;
    if (!lk.kind)
        return LANES_E_NOENT;
    if (lk.kind != LANES_SYSFS_KIND_LINK)
        return LANES_E_TYPE;
    if (cap < n)
        return LANES_E_RANGE;
    return copy_to_user(ubuf, target, n) ? LANES_E_FAULT : (int64_t)n;
}

int64_t sysfs_sys_write(uint64_t sys, uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t len)
{
    int64_t r = handle_check_system((int64_t)sys);
    if (r)
        return r;
    char p[SYSFS_PATH_MAX];
    if ((r = user_path(upath, plen, p)))
        return r;
    if (len >= SYSFS_VALUE_MAX)
        return LANES_E_RANGE;
    char val[SYSFS_VALUE_MAX];
    if (!user_range_ok(ubuf, len) || (len && copy_from_user(val, ubuf, len)))
        return LANES_E_FAULT;
    while (len && (val[len - 1] == '\n' || val[len - 1] == ' ' || val[len - 1] == '\r'))
        len--;
    val[len] = 0;
    if (strnlen(val, len) != len)
        return LANES_E_INVAL;
    spin_lock(&sysfs_lock);
    struct lookup lk = { 0, NULL, NULL, NULL };
    if ((r = sysfs_follow_links(p, true)) == 0)
        lk = resolve(p);
    if (r)
        ;
    else if (!lk.kind)
        r = LANES_E_NOENT;
    else if (lk.kind != LANES_SYSFS_KIND_ATTR)
        r = LANES_E_TYPE;
    else if (lk.dyn)
        r = lk.dyn->flags & LANES_SYSFS_PUB_WRITABLE ? sysfs_owner_write(lk.node, p, val, len) : LANES_E_ACCESS;
    else if (!lk.attr->store)
        r = LANES_E_ACCESS;
    else if ((r = lk.attr->store(lk.node, val, len)) == 0)
        sysfs_emit_attr(lk.node, lk.attr);
    spin_unlock(&sysfs_lock);
    return r;
}

int64_t sysfs_sys_stat(uint64_t upath, uint64_t plen, uint64_t ustat)
{
    char p[SYSFS_PATH_MAX];
    int64_t r = user_path(upath, plen, p);
    if (r)
        return r;
    /* lstat, except that "link/" and "link/." name what the link points to, as on Linux */
    char tail[2] = { 0, 0 };
    if (plen >= 2 && copy_from_user(tail, upath + plen - 2, 2))
        return LANES_E_FAULT;
    bool follow = plen >= 1 && (tail[1] == '/' || (tail[0] == '/' && tail[1] == '.'));
    struct lane_sysfs_stat st;
    memset(&st, 0, sizeof st);
    char *buf = kmalloc(LIST_MAX);
    if (!buf)
        return LANES_E_NOMEM;
    spin_lock(&sysfs_lock);
    struct lookup lk = { 0, NULL, NULL, NULL };
    if ((r = sysfs_follow_links(p, follow)) == 0)
        lk = resolve(p);
    uint32_t owned = lk.node && lk.node->owner ? LANES_SYSFS_MODE_OWNED : 0;
    if (lk.kind == LANES_SYSFS_KIND_DIR) {
        st.kind = LANES_SYSFS_KIND_DIR;
        st.mode = LANES_SYSFS_MODE_READ | owned;
        st.size = list_dir(p, lk.node, buf, LIST_MAX, &st.entries);
        st.node = lk.node ? lk.node->id : 0;
    } else if (lk.kind == LANES_SYSFS_KIND_LINK) {
        st.kind = LANES_SYSFS_KIND_LINK;
        st.mode = LANES_SYSFS_MODE_READ | owned;
        st.size = strlen(lk.node->link);
        st.node = lk.node->id;
    } else if (lk.kind == LANES_SYSFS_KIND_ATTR && lk.dyn) {
        st.kind = LANES_SYSFS_KIND_ATTR;
        st.mode = LANES_SYSFS_MODE_READ | owned | (lk.dyn->flags & LANES_SYSFS_PUB_WRITABLE ? LANES_SYSFS_MODE_WRITE : 0) |
                  (lk.dyn->flags & LANES_SYSFS_PUB_BINARY ? LANES_SYSFS_MODE_BINARY : 0);
        st.size = lk.dyn->len;
        st.node = lk.node->id;
    } else if (lk.kind == LANES_SYSFS_KIND_ATTR) {
        st.kind = LANES_SYSFS_KIND_ATTR;
        st.mode = LANES_SYSFS_MODE_READ | (lk.attr->store ? LANES_SYSFS_MODE_WRITE : 0);
        st.size = lk.attr->show(lk.node, buf, SYSFS_VALUE_MAX);
        st.node = lk.node->id;
    }
    spin_unlock(&sysfs_lock);
    kfree(buf);
    if (r)
        return r;
    if (!lk.kind)
        return LANES_E_NOENT;
    return copy_to_user(ustat, &st, sizeof st) ? LANES_E_FAULT : 0;
}
