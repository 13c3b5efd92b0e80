/*
 * trace_sysfs.c — /sys/kernel/trace: the event recorder's switches as sysfs attributes, the same
 * ones as the trace_ctl syscall and the trace= boot option (trace.c).
 *
 *   enabled (w)     0 switches tracing off, 1 restores the classes it had (or all)
 *   classes (w)     class names ("sched,ipc", "all", "off") or a mask ("0x4")
 *   lost            records dropped because a ring was full, all CPUs together
 *   transports      how the rings leave the machine: ivshmem, com2, or flight-recorder
 *   pci             the PCI function whose shared memory holds the rings, with its BARs' sizing
 *                   read-backs (arch/x86_64/trace_ivshmem.c), or an empty line: the pci server
 *                   leaves that function's configuration alone
 * (trace/snapshot, which re-emits the sysfs tree, is sysfs.c's own.) The sampler reports
 * classes/enabled as soon as they change and lost at most once a second.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>

static const struct { const char *name; int bit; } class_names[] = TRACE_CLASS_NAMES;
static uint32_t saved_classes;          /* what `enabled` 1 restores */

static size_t show_trace_enabled(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%u\n", trace_classes ? 1u : 0u);
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
            len += sysfs_print(b + len, cap - len, "%s%s", len ? "," : "", class_names[i].name);
    if (!len)
        len = sysfs_print(b, cap, "off");
    return len + sysfs_print(b + len, cap - len, "\n");
}

static int64_t store_trace_classes(struct sysfs_node *n, const char *v, size_t len)
{
    (void)n;
    uint64_t m;
    bool ok = sysfs_parse_u64(v, len, &m);
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
    return sysfs_print(b, cap, "%lu\n", lost);
}

static size_t show_trace_transports(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    uint32_t t = trace_live ? trace_transports : 0;
    if (!t)
        return sysfs_print(b, cap, "flight-recorder\n");
    if (t & 4)
        return sysfs_print(b, cap, "debug-line\n");   /* frames beside the console on COM1 */
    return sysfs_print(b, cap, "%s%s%s\n", t & 1 ? "ivshmem" : "", t == 3 ? "," : "", t & 2 ? "com2" : "");
}

static size_t show_trace_pci(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    char t[96];
    trace_ivshmem_claim(t, sizeof t);
    return sysfs_print(b, cap, "%s", t);
}

static const struct sysfs_attr trace_attrs[] = {
    { "enabled", show_trace_enabled, store_trace_enabled },
    { "classes", show_trace_classes, store_trace_classes },
    { "lost", show_trace_lost, NULL },
    { "transports", show_trace_transports, NULL },
    { "pci", show_trace_pci, NULL },
};

static struct sysfs_node *trace_node;
static uint32_t last_classes;

static void trace_sysfs_init(void)
{
    trace_node = sysfs_add("/sys/kernel/trace", trace_attrs, ARRAY_SIZE(trace_attrs), NULL);
    last_classes = trace_classes;
}

/* classes and enabled at once when they changed (a trace_ctl call too); lost at most once a second */
static void trace_sysfs_sample(uint64_t now)
{
    static uint64_t last_slow, last_lost;
    uint32_t cl = trace_classes;
    if (cl != last_classes) {
        if (!cl != !last_classes)
            sysfs_changed(trace_node, "enabled");
        sysfs_changed(trace_node, "classes");
        last_classes = cl;
    }
    if (now - last_slow < 1000000000ULL)
        return;
    last_slow = now;
    uint64_t lost = 0;
    for (uint32_t i = 0; i < trace_nrings; i++)
        lost += trace_rings[i].dropped_total;
    if (lost != last_lost)
        sysfs_changed(trace_node, "lost");
    last_lost = lost;
}
SYSFS_PROVIDER(30, trace, trace_sysfs_init, trace_sysfs_sample);
