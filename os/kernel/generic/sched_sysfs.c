/*
 * sched_sysfs.c — the scheduler's view of each CPU as sysfs attributes:
 *
 *   /sys/devices/system/cpu/        online ("0-3")  count
 *   /sys/devices/system/cpu/cpuN/   online  apic_id  load  nr_running  runs  migrations  idle_ns
 *
 * load is the load balancer's CPU load (balance.c, the one place load is measured: the sum of
 * the decaying runnable shares of the CPU's threads, 1024 = one always-runnable thread, so it
 * can exceed 1024), reported when it moved by LOAD_DELTA and LOAD_EMIT_NS have passed; runs and
 * migrations (threads moved onto the CPU, any reason) are counted by sched.c
 * (sysfs_count_run/_migration); nr_running is the run queue plus the running thread.
 */
#include <kernel/kernel.h>
#include <kernel/sysfs.h>

#define LOAD_DELTA 64                   /* 1/16 of a CPU */
#define LOAD_EMIT_NS 500000000ULL       /* at most two load events per CPU and second */

HOT_DATA_RW uint64_t sysfs_cpu_runs[MAX_CPUS];
uint64_t sysfs_cpu_migrations[MAX_CPUS];

static struct cpu *node_cpu(struct sysfs_node *n)
{
    uint32_t i = (uint32_t)(uintptr_t)sysfs_node_arg(n);
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
        len += j > i ? sysfs_print(b + len, cap - len, "%s%u-%u", len ? "," : "", i, j)
                     : sysfs_print(b + len, cap - len, "%s%u", len ? "," : "", i);
        i = j;
    }
    return len + sysfs_print(b + len, cap - len, "\n");
}

static size_t show_cpus_count(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%u\n", ncpus);
}

static const struct sysfs_attr cpus_attrs[] = {
    { "online", show_cpus_online, NULL },
    { "count", show_cpus_count, NULL },
};

static size_t show_cpu_online(struct sysfs_node *n, char *b, size_t cap)
{
    struct cpu *c = node_cpu(n);
    return sysfs_print(b, cap, "%u\n", c && c->online ? 1u : 0u);
}

static size_t show_cpu_apic(struct sysfs_node *n, char *b, size_t cap)
{
    struct cpu *c = node_cpu(n);
    return sysfs_print(b, cap, "%u\n", c ? c->apic_id : 0);
}

static size_t show_cpu_load(struct sysfs_node *n, char *b, size_t cap)
{
    return sysfs_print(b, cap, "%u\n", sched_cpu[(uint32_t)(uintptr_t)sysfs_node_arg(n) % MAX_CPUS].load);
}

static size_t show_cpu_nr_running(struct sysfs_node *n, char *b, size_t cap)
{
    struct cpu *c = node_cpu(n);
    if (!c)
        return sysfs_print(b, cap, "0\n");
    struct thread *cur = c->current;
    return sysfs_print(b, cap, "%u\n", (uint32_t)c->rq_len + (cur && cur != c->idle ? 1u : 0u));
}

static size_t show_cpu_runs(struct sysfs_node *n, char *b, size_t cap)
{
    return sysfs_print(b, cap, "%lu\n", sysfs_cpu_runs[(uint32_t)(uintptr_t)sysfs_node_arg(n) % MAX_CPUS]);
}

static size_t show_cpu_migrations(struct sysfs_node *n, char *b, size_t cap)
{
    return sysfs_print(b, cap, "%lu\n", sysfs_cpu_migrations[(uint32_t)(uintptr_t)sysfs_node_arg(n) % MAX_CPUS]);
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
    return sysfs_print(b, cap, "%lu\n", c ? cpu_idle_ns(c, clock_ns()) : 0);
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

static struct sysfs_node *cpu_nodes[MAX_CPUS];

static void cpu_sysfs_init(void)
{
    sysfs_add("/sys/devices/system/cpu", cpus_attrs, ARRAY_SIZE(cpus_attrs), NULL);
    for (uint32_t i = 0; i < ncpus && i < MAX_CPUS; i++) {
        char path[SYSFS_PATH_MAX];
        sysfs_print(path, sizeof path, "/sys/devices/system/cpu/cpu%u", i);
        cpu_nodes[i] = sysfs_add(path, cpu_attrs, ARRAY_SIZE(cpu_attrs), (void *)(uintptr_t)i);
    }
}

static uint32_t abs_diff(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

/* Each CPU's load (the balancer's): reported when it moved by LOAD_DELTA and LOAD_EMIT_NS have
 * passed (the first sample always). */
static void cpu_sysfs_sample(uint64_t now)
{
    static uint64_t last_emit[MAX_CPUS];
    static uint32_t emitted_load[MAX_CPUS];
    static bool have[MAX_CPUS];
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
}
SYSFS_PROVIDER(50, cpu, cpu_sysfs_init, cpu_sysfs_sample);
