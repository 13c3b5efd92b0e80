/*
 * sysfs.c — the kernel's own objects as a tree of directories with text attributes (Linux's
 * sysfs), read by user space through four syscalls so that a POSIX server can mount it at /sys.
 *
 *   /sys/kernel/            version uptime_ns processes threads loglevel(w)
 *   /sys/kernel/trace/      enabled(w) classes(w) lost transports snapshot(w)
 *   /sys/kernel/sched/      (balance.c) enabled(w) balance_interval_ms(w) decay(w) rounds ideal migrations
 *   /sys/kernel/mm/         total free                        (bytes)
 *   /sys/devices/system/cpu/            online count
 *   /sys/devices/system/cpu/cpuN/       online apic_id load nr_running runs migrations idle_ns
 *   /sys/drivers/NAME.PID/              pid name ioports irqs  (while the process lives)
 *
 * A node (struct sysfs_node) is a directory with a static table of attributes; directories
 * between the root and a node exist implicitly. Nodes live in a fixed pool under one spinlock.
 * Trace events (class "sysfs", os/abi/trace.toml):
 *   sysfs_add(node, path) / sysfs_remove(node, path)  when a node comes or goes, including the
 *     boot-time tree, followed for an added node by one sysfs_attr per attribute (its value);
 *   sysfs_attr(node, "path/attr=value")  when an attribute changes: on every successful write,
 *     and from the sampler for values that drift: cpuN/load when it moved by LOAD_DELTA and
 *     LOAD_EMIT_NS have passed, mm/free (MM_DELTA, SLOW_EMIT_NS), processes/threads,
 *     trace/classes+enabled (also when trace_ctl changed them), trace/lost. Writing 1 to
 *     trace/snapshot re-emits the whole tree (for a reader that attached late; a reader must
 *     treat a repeated sysfs_add of a node id it knows as a refresh). Counters that change on every
 *     context switch (runs, migrations, nr_running) are read on demand only, never traced.
 * The sampler is a kernel thread on cpu0 that wakes every SAMPLE_NS. cpuN/load is the load
 * balancer's per-CPU load (balance.c, the one place load is measured: the sum of the loads of
 * the CPU's threads, 1024 = one always-runnable thread; so it can exceed 1024).
 *
 * Syscalls (kernel.toml 40-43): sysfs_list, sysfs_read, sysfs_write (needs SYSTEM + CONTROL),
 * sysfs_stat. Paths are "/sys/..." or the same without "/sys"; "." and ".." are understood.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>

#define SYSFS_MAX_NODES 160
#define SYSFS_MAX_DRIVERS 32
#define LIST_MAX 8192
#define SAMPLE_NS 100000000ULL          /* sampler period: 100 ms */
#define LOAD_DELTA 64                   /* 1/16 of a CPU */
#define LOAD_EMIT_NS 500000000ULL       /* at most two load events per CPU and second */
#define SLOW_EMIT_NS 1000000000ULL      /* mm/free, processes, threads: at most once a second */
#define MM_DELTA (1024 * 1024)

struct sysfs_node {
    bool used;
    uint64_t id;
    char path[SYSFS_PATH_MAX];
    const struct sysfs_attr *attrs;
    uint32_t nattrs;
    void *arg;
};

static struct sysfs_node nodes[SYSFS_MAX_NODES];
static struct spinlock sysfs_lock = SPINLOCK_INIT("sysfs");
static uint64_t next_node_id = 1;
uint64_t sysfs_cpu_runs[MAX_CPUS];
uint64_t sysfs_cpu_migrations[MAX_CPUS];

/* ---- text helpers ---- */

static size_t put(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static size_t put(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n < 0 ? 0 : MIN((size_t)n, cap ? cap - 1 : 0);
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
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

static void emit_attr_locked(struct sysfs_node *n, const struct sysfs_attr *a)
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

struct sysfs_node *sysfs_add(const char *path, const struct sysfs_attr *attrs, uint32_t nattrs, void *arg)
{
    if (strnlen(path, SYSFS_PATH_MAX) >= SYSFS_PATH_MAX)
        return NULL;
    spin_lock(&sysfs_lock);
    struct sysfs_node *n = NULL;
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        if (!nodes[i].used) {
            n = &nodes[i];
            break;
        }
    if (n) {
        n->used = true;
        n->id = next_node_id++;
        strlcpy(n->path, path, sizeof n->path);
        n->attrs = attrs;
        n->nattrs = nattrs;
        n->arg = arg;
        trace_emit_sysfs_add(n->id, n->path);
        for (uint32_t i = 0; i < nattrs; i++)
            emit_attr_locked(n, &attrs[i]);
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
        for (uint32_t i = 0; i < n->nattrs; i++)
            if (!strcmp(n->attrs[i].name, attr))
                emit_attr_locked(n, &n->attrs[i]);
    spin_unlock(&sysfs_lock);
}

/* ---- paths ---- */

/* User path -> canonical "/sys[/a/b...]". Returns 0 or NOENT/RANGE. */
static int64_t canon_path(const char *in, size_t len, char *out)
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
    int kind;                       /* 0 none, LANES_SYSFS_KIND_DIR, LANES_SYSFS_KIND_ATTR */
    struct sysfs_node *node;        /* DIR: the node (NULL if implicit); ATTR: its node */
    const struct sysfs_attr *attr;
};

static bool has_prefix_dir(const char *path, const char *dir, size_t dl)
{
    return !strncmp(path, dir, dl) && path[dl] == '/';
}

static struct sysfs_node *node_at(const char *p)
{
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        if (nodes[i].used && !strcmp(nodes[i].path, p))
            return &nodes[i];
    return NULL;
}

/* Under sysfs_lock. */
static struct lookup resolve(const char *p)
{
    struct lookup r = { 0, NULL, NULL };
    size_t pl = strlen(p);
    r.node = node_at(p);
    if (r.node || pl == 4) {
        r.kind = LANES_SYSFS_KIND_DIR;
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
    struct sysfs_node *n = node_at(parent);
    if (n)
        for (uint32_t i = 0; i < n->nattrs; i++)
            if (!strcmp(n->attrs[i].name, slash + 1)) {
                r.kind = LANES_SYSFS_KIND_ATTR;
                r.node = n;
                r.attr = &n->attrs[i];
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
        len += put(buf + len, cap - len, "d %.*s\n", (int)cl, c);
        count++;
    }
    if (self)
        for (uint32_t i = 0; i < self->nattrs && len + 64 < cap; i++) {
            len += put(buf + len, cap - len, "%c %s\n", self->attrs[i].store ? 'w' : 'r', self->attrs[i].name);
            count++;
        }
    if (entries)
        *entries = count;
    return len;
}

/* ---- attributes ---- */

static size_t show_version(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return put(b, cap, "%s\n", LANES_VERSION_STRING);
}

static size_t show_uptime(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return put(b, cap, "%lu\n", clock_ns());
}

static void count_tasks(uint32_t *procs, uint32_t *threads)
{
    uint32_t np = 0, nt = 0;
    spin_lock(&sched_all_lock);
    list_for_each(it, &all_processes) {
        struct process *p = container_of(it, struct process, all_link);
        if (p->pid && !p->finished)
            np++;
    }
    list_for_each(it, &all_threads)
        nt++;
    spin_unlock(&sched_all_lock);
    *procs = np;
    *threads = nt;
}

static size_t show_processes(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    uint32_t p, t;
    count_tasks(&p, &t);
    return put(b, cap, "%u\n", p);
}

static size_t show_threads(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    uint32_t p, t;
    count_tasks(&p, &t);
    return put(b, cap, "%u\n", t);
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static size_t show_loglevel(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    int l = log_level;
    return put(b, cap, "%s\n", l >= 0 && l < 4 ? level_names[l] : "?");
}

static int64_t store_loglevel(struct sysfs_node *n, const char *v, size_t len)
{
    (void)n;
    for (int i = 0; i < 4; i++)
        if (strlen(level_names[i]) == len && !strncmp(v, level_names[i], len)) {
            log_level = i;
            return 0;
        }
    uint64_t x;
    if (parse_u64(v, len, &x) && x <= LOG_DEBUG) {
        log_level = (int)x;
        return 0;
    }
    return LANES_E_INVAL;
}

static const struct sysfs_attr kernel_attrs[] = {
    { "version", show_version, NULL },
    { "uptime_ns", show_uptime, NULL },
    { "processes", show_processes, NULL },
    { "threads", show_threads, NULL },
    { "loglevel", show_loglevel, store_loglevel },
};

/* trace: the same switches as the trace_ctl syscall */

static const struct { const char *name; int bit; } class_names[] = TRACE_CLASS_NAMES;
static uint32_t saved_classes;          /* what `enabled` 1 restores */

static size_t show_trace_enabled(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return put(b, cap, "%u\n", trace_classes ? 1u : 0u);
}

static int64_t store_trace_enabled(struct sysfs_node *n, const char *v, size_t len)
{
    (void)n;
    if (len != 1 || (v[0] != '0' && v[0] != '1'))
        return LANES_E_INVAL;
    uint32_t now = trace_classes;
    if (v[0] == '0' && now) {
        saved_classes = now;
        trace_set_classes(0);
    } else if (v[0] == '1' && !now) {
        trace_set_classes(saved_classes ? saved_classes : TRACE_CLASS_ALL);
    }
    return 0;
}

static size_t show_trace_classes(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    uint32_t m = trace_classes;
    size_t len = 0;
    for (size_t i = 0; i < ARRAY_SIZE(class_names); i++)
        if (m & (1u << class_names[i].bit))
            len += put(b + len, cap - len, "%s%s", len ? "," : "", class_names[i].name);
    if (!len)
        len = put(b, cap, "off");
    return len + put(b + len, cap - len, "\n");
}

static int64_t store_trace_classes(struct sysfs_node *n, const char *v, size_t len)
{
    (void)n;
    uint64_t m;
    bool ok = parse_u64(v, len, &m);
    if (ok) {
        if (m & ~(uint64_t)TRACE_CLASS_ALL)
            return LANES_E_INVAL;
    } else {
        m = trace_parse_classes(v, len, &ok);
        if (!ok)
            return LANES_E_INVAL;
    }
    trace_set_classes((uint32_t)m);
    return 0;
}

static size_t show_trace_lost(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    uint64_t lost = 0;
    for (uint32_t i = 0; i < trace_nrings; i++)
        lost += trace_rings[i].dropped_total;
    return put(b, cap, "%lu\n", lost);
}

static size_t show_trace_transports(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    uint32_t t = trace_live ? trace_transports : 0;
    if (!t)
        return put(b, cap, "flight-recorder\n");
    return put(b, cap, "%s%s%s\n", t & 1 ? "ivshmem" : "", t == 3 ? "," : "", t & 2 ? "com2" : "");
}

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
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++) {
        struct sysfs_node *n = &nodes[i];
        if (!n->used)
            continue;
        trace_emit_sysfs_add(n->id, n->path);
        for (uint32_t k = 0; k < n->nattrs; k++)
            emit_attr_locked(n, &n->attrs[k]);
    }
    return 0;
}

static const struct sysfs_attr trace_attrs[] = {
    { "enabled", show_trace_enabled, store_trace_enabled },
    { "classes", show_trace_classes, store_trace_classes },
    { "lost", show_trace_lost, NULL },
    { "transports", show_trace_transports, NULL },
    { "snapshot", show_trace_snapshot, store_trace_snapshot },
};

static size_t show_mm_total(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return put(b, cap, "%lu\n", pmm_total_bytes());
}

static size_t show_mm_free(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return put(b, cap, "%lu\n", pmm_free_bytes());
}

static const struct sysfs_attr mm_attrs[] = {
    { "total", show_mm_total, NULL },
    { "free", show_mm_free, NULL },
};

/* CPUs */

static struct cpu *node_cpu(struct sysfs_node *n)
{
    uint32_t i = (uint32_t)(uintptr_t)n->arg;
    return i < ncpus ? cpus[i] : NULL;
}

static size_t show_cpus_online(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    size_t len = 0;
    for (uint32_t i = 0; i < ncpus; i++) {
        if (!cpus[i] || !cpus[i]->online)
            continue;
        uint32_t j = i;
        while (j + 1 < ncpus && cpus[j + 1] && cpus[j + 1]->online)
            j++;
        len += j > i ? put(b + len, cap - len, "%s%u-%u", len ? "," : "", i, j)
                     : put(b + len, cap - len, "%s%u", len ? "," : "", i);
        i = j;
    }
    return len + put(b + len, cap - len, "\n");
}

static size_t show_cpus_count(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return put(b, cap, "%u\n", ncpus);
}

static const struct sysfs_attr cpus_attrs[] = {
    { "online", show_cpus_online, NULL },
    { "count", show_cpus_count, NULL },
};

static size_t show_cpu_online(struct sysfs_node *n, char *b, size_t cap)
{
    struct cpu *c = node_cpu(n);
    return put(b, cap, "%u\n", c && c->online ? 1u : 0u);
}

static size_t show_cpu_apic(struct sysfs_node *n, char *b, size_t cap)
{
    struct cpu *c = node_cpu(n);
    return put(b, cap, "%u\n", c ? c->apic_id : 0);
}

static size_t show_cpu_load(struct sysfs_node *n, char *b, size_t cap)
{
    return put(b, cap, "%u\n", sched_cpu[(uint32_t)(uintptr_t)n->arg % MAX_CPUS].load);
}

static size_t show_cpu_nr_running(struct sysfs_node *n, char *b, size_t cap)
{
    struct cpu *c = node_cpu(n);
    if (!c)
        return put(b, cap, "0\n");
    struct thread *cur = c->current;
    return put(b, cap, "%u\n", (uint32_t)c->rq_len + (cur && cur != c->idle ? 1u : 0u));
}

static size_t show_cpu_runs(struct sysfs_node *n, char *b, size_t cap)
{
    return put(b, cap, "%lu\n", sysfs_cpu_runs[(uint32_t)(uintptr_t)n->arg % MAX_CPUS]);
}

static size_t show_cpu_migrations(struct sysfs_node *n, char *b, size_t cap)
{
    return put(b, cap, "%lu\n", sysfs_cpu_migrations[(uint32_t)(uintptr_t)n->arg % MAX_CPUS]);
}

static uint64_t cpu_idle_ns(struct cpu *c, uint64_t now)
{
    uint64_t idle = c->idle_ns;
    struct thread *cur = c->current;
    if (cur && cur == c->idle && now > cur->run_start)
        idle += now - cur->run_start;
    return idle;
}

static size_t show_cpu_idle(struct sysfs_node *n, char *b, size_t cap)
{
    struct cpu *c = node_cpu(n);
    return put(b, cap, "%lu\n", c ? cpu_idle_ns(c, clock_ns()) : 0);
}

static const struct sysfs_attr cpu_attrs[] = {
    { "online", show_cpu_online, NULL },
    { "apic_id", show_cpu_apic, NULL },
    { "load", show_cpu_load, NULL },
    { "nr_running", show_cpu_nr_running, NULL },
    { "runs", show_cpu_runs, NULL },
    { "migrations", show_cpu_migrations, NULL },
    { "idle_ns", show_cpu_idle, NULL },
};

/* Drivers: processes that were given I/O ports or IRQs at spawn (their manifest). */

struct driver {
    bool used;
    uint32_t pid;
    char name[32];
    uint32_t nio;
    struct { uint32_t base, count; } io[8];
    uint32_t irqs;                          /* bit mask of legacy lines */
    struct sysfs_node *node;
};
static struct driver drivers[SYSFS_MAX_DRIVERS];
static volatile uint32_t ndrivers;

static size_t show_drv_pid(struct sysfs_node *n, char *b, size_t cap)
{
    return put(b, cap, "%u\n", ((struct driver *)n->arg)->pid);
}

static size_t show_drv_name(struct sysfs_node *n, char *b, size_t cap)
{
    return put(b, cap, "%s\n", ((struct driver *)n->arg)->name);
}

static size_t show_drv_ioports(struct sysfs_node *n, char *b, size_t cap)
{
    struct driver *d = n->arg;
    size_t len = 0;
    for (uint32_t i = 0; i < d->nio; i++)
        len += put(b + len, cap - len, "%s0x%x-0x%x", i ? "," : "", d->io[i].base, d->io[i].base + d->io[i].count - 1);
    return len + put(b + len, cap - len, "\n");
}

static size_t show_drv_irqs(struct sysfs_node *n, char *b, size_t cap)
{
    struct driver *d = n->arg;
    size_t len = 0;
    for (uint32_t i = 0; i < 32; i++)
        if (d->irqs & (1u << i))
            len += put(b + len, cap - len, "%s%u", len ? "," : "", i);
    return len + put(b + len, cap - len, "\n");
}

static const struct sysfs_attr driver_attrs[] = {
    { "pid", show_drv_pid, NULL },
    { "name", show_drv_name, NULL },
    { "ioports", show_drv_ioports, NULL },
    { "irqs", show_drv_irqs, NULL },
};

void sysfs_process_spawned(struct process *p, struct kobj **objs, uint32_t nobjs)
{
    struct driver d = { 0 };
    for (uint32_t i = 0; i < nobjs; i++) {
        uint32_t base, count, irq;
        if (ioport_obj_range(objs[i], &base, &count) && d.nio < ARRAY_SIZE(d.io)) {
            d.io[d.nio].base = base;
            d.io[d.nio].count = count;
            d.nio++;
        } else if (irq_obj_line(objs[i], &irq) && irq < 32) {
            d.irqs |= 1u << irq;
        }
    }
    if (!d.nio && !d.irqs)
        return;
    d.used = true;
    d.pid = p->pid;
    strlcpy(d.name, p->name, sizeof d.name);
    char path[SYSFS_PATH_MAX];
    put(path, sizeof path, "/sys/drivers/%s.%u", d.name, d.pid);
    for (char *c = path + 13; *c; c++)
        if (*c == '/' || *c == ' ')
            *c = '_';
    spin_lock(&sysfs_lock);
    struct driver *slot = NULL;
    for (size_t i = 0; i < SYSFS_MAX_DRIVERS; i++)
        if (!drivers[i].used) {
            slot = &drivers[i];
            *slot = d;
            __atomic_add_fetch(&ndrivers, 1, __ATOMIC_RELAXED);
            break;
        }
    spin_unlock(&sysfs_lock);
    if (!slot) {
        pr_warn("sysfs: too many driver processes; pid %u (%s) gets no node", d.pid, d.name);
        return;
    }
    struct sysfs_node *n = sysfs_add(path, driver_attrs, ARRAY_SIZE(driver_attrs), slot);
    spin_lock(&sysfs_lock);
    if (n)
        slot->node = n;
    else
        slot->used = false;
    spin_unlock(&sysfs_lock);
}

void sysfs_process_gone(struct process *p)
{
    if (!__atomic_load_n(&ndrivers, __ATOMIC_RELAXED))
        return;
    spin_lock(&sysfs_lock);
    for (size_t i = 0; i < SYSFS_MAX_DRIVERS; i++) {
        struct driver *d = &drivers[i];
        if (!d->used || d->pid != p->pid)
            continue;
        if (d->node && d->node->used) {
            trace_emit_sysfs_remove(d->node->id, d->node->path);
            d->node->used = false;
        }
        d->used = false;
        d->node = NULL;
        __atomic_sub_fetch(&ndrivers, 1, __ATOMIC_RELAXED);
    }
    spin_unlock(&sysfs_lock);
}

/* ---- boot-time tree and the sampler ---- */

static struct sysfs_node *kernel_node, *trace_node, *mm_node, *cpu_nodes[MAX_CPUS];

static uint32_t abs_diff(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

static void sampler(void *arg)
{
    (void)arg;
    static uint64_t last_emit[MAX_CPUS];
    static uint32_t emitted_load[MAX_CPUS];
    static bool have[MAX_CPUS];
    uint64_t last_slow = 0, last_free = pmm_free_bytes();
    uint32_t last_classes = trace_classes, last_procs = 0, last_threads = 0;
    uint64_t last_lost = 0;
    for (;;) {
        sleep_ns(SAMPLE_NS);
        uint64_t now = clock_ns();
        for (uint32_t i = 0; i < ncpus; i++) {
            struct cpu *c = cpus[i];
            if (!c || !c->online)
                continue;
            uint32_t load = __atomic_load_n(&sched_cpu[i].load, __ATOMIC_RELAXED);
            if (!have[i] || (abs_diff(load, emitted_load[i]) >= LOAD_DELTA && now - last_emit[i] >= LOAD_EMIT_NS)) {
                have[i] = true;
                emitted_load[i] = load;
                last_emit[i] = now;
                sysfs_changed(cpu_nodes[i], "load");
            }
        }
        uint32_t cl = trace_classes;
        if (cl != last_classes) {
            if (!cl != !last_classes)
                sysfs_changed(trace_node, "enabled");
            sysfs_changed(trace_node, "classes");
            last_classes = cl;
        }
        if (now - last_slow >= SLOW_EMIT_NS) {
            last_slow = now;
            uint64_t fr = pmm_free_bytes();
            if (fr > last_free + MM_DELTA || fr + MM_DELTA < last_free) {
                last_free = fr;
                sysfs_changed(mm_node, "free");
            }
            uint32_t np, nt;
            count_tasks(&np, &nt);
            if (np != last_procs)
                sysfs_changed(kernel_node, "processes");
            if (nt != last_threads)
                sysfs_changed(kernel_node, "threads");
            last_procs = np;
            last_threads = nt;
            uint64_t lost = 0;
            for (uint32_t i = 0; i < trace_nrings; i++)
                lost += trace_rings[i].dropped_total;
            if (lost != last_lost)
                sysfs_changed(trace_node, "lost");
            last_lost = lost;
        }
    }
}

void sysfs_init(void)
{
    kernel_node = sysfs_add("/sys/kernel", kernel_attrs, ARRAY_SIZE(kernel_attrs), NULL);
    trace_node = sysfs_add("/sys/kernel/trace", trace_attrs, ARRAY_SIZE(trace_attrs), NULL);
    mm_node = sysfs_add("/sys/kernel/mm", mm_attrs, ARRAY_SIZE(mm_attrs), NULL);
    sysfs_add("/sys/devices/system/cpu", cpus_attrs, ARRAY_SIZE(cpus_attrs), NULL);
    for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++) {
        char path[SYSFS_PATH_MAX];
        put(path, sizeof path, "/sys/devices/system/cpu/cpu%u", i);
        cpu_nodes[i] = sysfs_add(path, cpu_attrs, ARRAY_SIZE(cpu_attrs), (void *)(uintptr_t)i);
    }
    struct thread *t = thread_create_kernel(sampler, NULL, cpus[0]);
    if (t)
        thread_start(t);
    else
        pr_warn("sysfs: cannot start the load sampler (cpuN/load stays 0)");
    uint32_t n = 0;
    for (size_t i = 0; i < SYSFS_MAX_NODES; i++)
        n += nodes[i].used;
    pr_info("sysfs: %u nodes (kernel, trace, mm, %u CPUs)", n, ncpus);
}

/* ---- syscalls ---- */

static int64_t user_path(uint64_t upath, uint64_t plen, char *canon)
{
    char raw[SYSFS_PATH_MAX];
    if (plen >= SYSFS_PATH_MAX)
        return LANES_E_RANGE;
    if (!user_range_ok(upath, plen) || (plen && copy_from_user(raw, upath, plen)))
        return LANES_E_FAULT;
    return canon_path(raw, plen, canon);
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
    struct lookup lk = resolve(p);
    size_t n = 0;
    if (lk.kind == LANES_SYSFS_KIND_DIR)
        n = list_dir(p, lk.node, buf, LIST_MAX, NULL);
    spin_unlock(&sysfs_lock);
    if (!lk.kind)
        r = LANES_E_NOENT;
    else if (lk.kind != LANES_SYSFS_KIND_DIR)
        r = LANES_E_TYPE;
    else if (cap < n)
        r = LANES_E_RANGE;
    else
        r = copy_to_user(ubuf, buf, n) ? LANES_E_FAULT : (int64_t)n;
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
    char val[SYSFS_VALUE_MAX];
    size_t n = 0;
    spin_lock(&sysfs_lock);
    struct lookup lk = resolve(p);
    if (lk.kind == LANES_SYSFS_KIND_ATTR)
        n = lk.attr->show(lk.node, val, sizeof val);
    spin_unlock(&sysfs_lock);
    if (!lk.kind)
        return LANES_E_NOENT;
    if (lk.kind != LANES_SYSFS_KIND_ATTR)
        return LANES_E_TYPE;
    if (cap < n)
        return LANES_E_RANGE;
    return copy_to_user(ubuf, val, n) ? LANES_E_FAULT : (int64_t)n;
}

int64_t sysfs_sys_write(uint64_t sys, uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t len)
{
    struct kobj *o;
    int64_t r = handle_lookup(&current()->proc->handles, (int32_t)sys, LANES_OBJ_SYSTEM, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    kobj_put(o);
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
    struct lookup lk = resolve(p);
    if (!lk.kind)
        r = LANES_E_NOENT;
    else if (lk.kind != LANES_SYSFS_KIND_ATTR)
        r = LANES_E_TYPE;
    else if (!lk.attr->store)
        r = LANES_E_ACCESS;
    else if ((r = lk.attr->store(lk.node, val, len)) == 0)
        emit_attr_locked(lk.node, lk.attr);
    spin_unlock(&sysfs_lock);
    return r;
}

int64_t sysfs_sys_stat(uint64_t upath, uint64_t plen, uint64_t ustat)
{
    char p[SYSFS_PATH_MAX];
    int64_t r = user_path(upath, plen, p);
    if (r)
        return r;
    struct lane_sysfs_stat st;
    memset(&st, 0, sizeof st);
    char *buf = kmalloc(LIST_MAX);
    if (!buf)
        return LANES_E_NOMEM;
    spin_lock(&sysfs_lock);
    struct lookup lk = resolve(p);
    if (lk.kind == LANES_SYSFS_KIND_DIR) {
        st.kind = LANES_SYSFS_KIND_DIR;
        st.mode = LANES_SYSFS_MODE_READ;
        st.size = list_dir(p, lk.node, buf, LIST_MAX, &st.entries);
        st.node = lk.node ? lk.node->id : 0;
    } else if (lk.kind == LANES_SYSFS_KIND_ATTR) {
        st.kind = LANES_SYSFS_KIND_ATTR;
        st.mode = LANES_SYSFS_MODE_READ | (lk.attr->store ? LANES_SYSFS_MODE_WRITE : 0);
        st.size = lk.attr->show(lk.node, buf, SYSFS_VALUE_MAX);
        st.node = lk.node->id;
    }
    spin_unlock(&sysfs_lock);
    kfree(buf);
    if (!lk.kind)
        return LANES_E_NOENT;
    return copy_to_user(ustat, &st, sizeof st) ? LANES_E_FAULT : 0;
}
