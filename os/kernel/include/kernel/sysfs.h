/*
 * sysfs.h — the kernel's object tree (generic/sysfs.c): directories of text attributes, Linux
 * style, read through syscalls sysfs_list/sysfs_read/sysfs_write/sysfs_stat (40-43) so that a
 * user-space POSIX server can mount it at /sys.
 *
 * sysfs owns the tree, never the values: each subsystem registers its own attributes, next to
 * its code. A provider (SYSFS_PROVIDER below) is called once by sysfs_init to add its nodes,
 * and, if it has values that drift, every SYSFS_SAMPLE_NS on the sampler thread to report them
 * with sysfs_changed. Nodes that come and go (a driver process's) are added and removed at any
 * time with sysfs_add / sysfs_remove.
 *
 * A node is a directory with one or more static tables of attributes: sysfs_add on a path that
 * is already a node adds its table to that node (so /sys/kernel holds the kernel's, the process
 * table's and the log's attributes). Its parents need not exist as nodes:
 * "/sys/devices/system/cpu/cpu0" makes /sys/devices, /sys/devices/system and
 * /sys/devices/system/cpu appear as (implicit) directories. Adding and removing a node emits
 * the trace events sysfs_add / sysfs_remove; sysfs_changed() emits sysfs_attr "path/attr=value".
 *
 * Show and store functions run under the sysfs lock with interrupts off: they must not block or
 * call back into sysfs (they may take other spinlocks, e.g. sched_all_lock).
 */
#ifndef KERNEL_SYSFS_H
#define KERNEL_SYSFS_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <kernel/arch.h>
#include <lanes/abi.h>

#define SYSFS_PATH_MAX LANES_SYSFS_PATH_MAX     /* os/abi/kernel.toml: including the NUL */
#define SYSFS_VALUE_MAX LANES_SYSFS_VALUE_MAX   /* longest attribute text (show buffer, write value) */
#define SYSFS_SAMPLE_NS 100000000ULL    /* the sampler's period: 100 ms */

struct sysfs_node;
/* Writes the attribute's text (ending in '\n') into buf; returns its length (< cap). */
typedef size_t (*sysfs_show_fn)(struct sysfs_node *n, char *buf, size_t cap);
/* Takes a value (no trailing newline, NUL-terminated); 0 or a LANES_E_* error. */
typedef int64_t (*sysfs_store_fn)(struct sysfs_node *n, const char *val, size_t len);

struct sysfs_attr {
    const char *name;
    sysfs_show_fn show;
    sysfs_store_fn store;       /* NULL: read-only */
};

/* Adds a node with these attributes (or adds them to the node already at path; arg is then
 * ignored). NULL if the path is too long or the pool is full (logged). */
struct sysfs_node *sysfs_add(const char *path, const struct sysfs_attr *attrs, uint32_t nattrs, void *arg);
void sysfs_remove(struct sysfs_node *n);
void *sysfs_node_arg(struct sysfs_node *n);
/* Emits sysfs_attr "path/attr=value" with the attribute's current value. */
void sysfs_changed(struct sysfs_node *n, const char *attr);

/* A subsystem's attributes: init adds its nodes (called once by sysfs_init, after SMP and
 * trace_start, in the order of `order`, two digits); sample (may be NULL) runs every
 * SYSFS_SAMPLE_NS on the sampler thread (cpu0) and calls sysfs_changed for values that drift. */
struct sysfs_provider {
    const char *name;
    void (*init)(void);
    void (*sample)(uint64_t now_ns);
};
#define SYSFS_PROVIDER(order, name_, init_, sample_)                                              \
    static const struct sysfs_provider sysfs_provider_##name_                                      \
        __attribute__((used, aligned(8), section(".sysfs_providers." #order))) = { #name_, init_, sample_ }

void sysfs_init(void);          /* after SMP and trace_start: every provider + the sampler */

/* Helpers for show and store functions. */
size_t sysfs_print(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool sysfs_parse_u64(const char *s, size_t n, uint64_t *out);   /* decimal or 0x hex */

/* Scheduler counters shown as cpuN/runs and cpuN/migrations (updated under that CPU's
 * run-queue lock by sched.c; shown by sched_sysfs.c). */
extern uint64_t sysfs_cpu_runs[MAX_CPUS];
extern uint64_t sysfs_cpu_migrations[MAX_CPUS];
static inline void sysfs_count_run(uint32_t cpu) { sysfs_cpu_runs[cpu & (MAX_CPUS - 1)]++; }
static inline void sysfs_count_migration(uint32_t cpu) { sysfs_cpu_migrations[cpu & (MAX_CPUS - 1)]++; }

/* syscalls (wired in sys_system.c) */
int64_t sysfs_sys_list(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap);
int64_t sysfs_sys_read(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap);
int64_t sysfs_sys_write(uint64_t sys, uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t len);
int64_t sysfs_sys_stat(uint64_t upath, uint64_t plen, uint64_t ustat);
int64_t sysfs_sys_readlink(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap);

#endif
