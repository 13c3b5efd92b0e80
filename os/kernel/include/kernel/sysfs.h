/*
 * sysfs.h — the kernel's object tree (generic/sysfs.c): directories of text attributes, Linux
 * style, read through syscalls sysfs_list/sysfs_read/sysfs_write/sysfs_stat (40-43) so that a
 * user-space POSIX server can mount it at /sys.
 *
 * A node is a directory with a fixed table of attributes. Its parents need not exist as nodes:
 * "/sys/devices/system/cpu/cpu0" makes /sys/devices, /sys/devices/system and
 * /sys/devices/system/cpu appear as (implicit) directories. Adding and removing a node emits
 * the trace events sysfs_add / sysfs_remove; sysfs_changed() emits sysfs_attr "path/attr=value".
 *
 * Show functions run under the sysfs lock with interrupts off: they must not block or take the
 * sysfs lock (they may take other spinlocks, e.g. sched_all_lock).
 */
#ifndef KERNEL_SYSFS_H
#define KERNEL_SYSFS_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <kernel/arch.h>

#define SYSFS_PATH_MAX 128      /* including the NUL; paths are stored as "/sys/..." */
#define SYSFS_VALUE_MAX 256     /* longest attribute text (show buffer, write value) */

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

struct sysfs_node *sysfs_add(const char *path, const struct sysfs_attr *attrs, uint32_t nattrs, void *arg);
void sysfs_remove(struct sysfs_node *n);
void *sysfs_node_arg(struct sysfs_node *n);
/* Emits sysfs_attr "path/attr=value" with the attribute's current value. */
void sysfs_changed(struct sysfs_node *n, const char *attr);

void sysfs_init(void);          /* after SMP and trace_start: the boot-time tree + the sampler */

/* Driver nodes: a process given I/O-port or IRQ capabilities at spawn (its manifest). */
struct process;
struct kobj;
void sysfs_process_spawned(struct process *p, struct kobj **objs, uint32_t nobjs);
void sysfs_process_gone(struct process *p);
/* syscall.c: what an IOPORT / IRQ capability covers (false: not that type). */
bool ioport_obj_range(struct kobj *o, uint32_t *base, uint32_t *count);
bool irq_obj_line(struct kobj *o, uint32_t *irq);

/* Scheduler counters shown as cpuN/runs and cpuN/migrations (updated under that CPU's
 * run-queue lock by sched.c). */
extern uint64_t sysfs_cpu_runs[MAX_CPUS];
extern uint64_t sysfs_cpu_migrations[MAX_CPUS];
static inline void sysfs_count_run(uint32_t cpu) { sysfs_cpu_runs[cpu & (MAX_CPUS - 1)]++; }
static inline void sysfs_count_migration(uint32_t cpu) { sysfs_cpu_migrations[cpu & (MAX_CPUS - 1)]++; }

/* syscalls (wired in syscall.c) */
int64_t sysfs_sys_list(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap);
int64_t sysfs_sys_read(uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t cap);
int64_t sysfs_sys_write(uint64_t sys, uint64_t upath, uint64_t plen, uint64_t ubuf, uint64_t len);
int64_t sysfs_sys_stat(uint64_t upath, uint64_t plen, uint64_t ustat);

#endif
