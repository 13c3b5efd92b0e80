/*
 * sys_system.c — introspection and control: null, sysinfo, thread_list, ktest, poweroff, and
 * the calls of other subsystems that have their own files (trace_ctl, trace_mark: trace.c;
 * kperf: arch/x86_64/perfprobe.c; sysfs_list/read/write/stat/readlink: sysfs.c; sysfs_grant/publish/subscribe/wait: sysfs_owner.c).
 *
 * ktest, kperf and poweroff need the SYSTEM capability with CONTROL (init's root handle).
 */
#include <kernel/kernel.h>
#include "syscall.h"
#include <kernel/trace.h>
#include <kernel/sysfs.h>

SYS(null) { UNUSED_ARGS; return 0; }

SYS(sysinfo)
{
    UNUSED_ARGS;
    struct lane_sysinfo si = { 0 };
    strlcpy(si.version, LANES_VERSION_STRING, sizeof si.version);
    si.ncpus = ncpus;
    si.tsc_hz = tsc_hz;
    si.mem_total = pmm_total_bytes();
    si.mem_free = pmm_free_bytes();
    si.uptime_ns = clock_ns();
    return copy_to_user(a0, &si, sizeof si);
}

/* ---- introspection and control ---- */

SYS(thread_list)
{
    UNUSED_ARGS;
    if (user_check(a0, (a1 & 0xffffffffULL) * sizeof(struct lane_thread_record), true))
        return LANES_E_FAULT;
    uint32_t cap = (uint32_t)MIN(a1 & 0xffffffffULL, 4096);
    struct lane_thread_record *recs = cap ? kmalloc(cap * sizeof *recs) : NULL;
    if (cap && !recs)
        return LANES_E_NOMEM;
    uint64_t now = clock_ns();
    uint32_t n = 0;
    spin_lock(&sched_all_lock);
    list_for_each(it, &all_threads) {
        struct thread *t = container_of(it, struct thread, all_link);
        if (n < cap) {
            struct lane_thread_record *r = &recs[n];
            r->pid = t->proc->pid;
            r->tid = t->tid;
            r->state = t->state;
            r->cpu = t->cpu->id;
            r->cpu_time_ns = t->cpu_ns;
            r->runnable_time_ns = t->runnable_ns;
            if (t->state == T_RUNNING && now > t->run_start) {
                r->cpu_time_ns += now - t->run_start;
                r->runnable_time_ns += now - t->run_start;
            } else if (t->state == T_READY && now > t->ready_since) {
                r->runnable_time_ns += now - t->ready_since;
            }
            strlcpy(r->name, t->proc->name, sizeof r->name);
        }
        n++;
    }
    spin_unlock(&sched_all_lock);
    int64_t r = cap ? copy_to_user(a0, recs, MIN(n, cap) * sizeof *recs) : 0;
    kfree(recs);
    return r ? r : n;
}

SYS(ktest)
{
    UNUSED_ARGS;
    int64_t r = handle_check_system(a0);
    if (r)
        return r;
    if (a1 >= (uint64_t)ktest_count())
        return LANES_E_RANGE;
    struct lane_ktest_result res;
    if (copy_to_user(a2, &(struct lane_ktest_result){ 0 }, sizeof res))
        return LANES_E_FAULT;
    memset(&res, 0, sizeof res);
    ktest_run((uint32_t)a1, &res);
    return copy_to_user(a2, &res, sizeof res);
}

HOT_DATA volatile int system_halting;

SYS(poweroff)
{
    UNUSED_ARGS;
    int64_t r = handle_check_system(a0);
    if (r)
        return r;
    pr_info("power off requested by pid %u, exit code %d", self()->pid, (int32_t)a1);
    console_takeover(true);     /* the last lines go out even if a console server is mid-way */
    system_halting = 1;
    cli();
    machine_exit_qemu((uint8_t)a1);
    /* Not under QEMU: stop every CPU. */
    for (uint32_t i = 0; i < ncpus; i++)
        if (cpus[i] != this_cpu())
            lapic_send_ipi(cpus[i]->apic_id, VEC_HALT);
    pr_info("system halted");
    for (;;)
        hlt();
}

/* ---- tracing (generic/trace.c) ---- */
SYS(trace_ctl) { UNUSED_ARGS; return trace_sys_ctl(a0, a1, a2); }
SYS(trace_mark) { UNUSED_ARGS; return trace_sys_mark(a0, a1, a2, a3); }
int64_t kperf_probe(uint32_t probe, uint64_t n);     /* arch/x86_64/perfprobe.c */
SYS(kperf) { UNUSED_ARGS; int64_t r = handle_check_system(a0); return r ? r : kperf_probe((uint32_t)a1, a2); }

/* ---- sysfs (generic/sysfs.c) ---- */
SYS(sysfs_list) { UNUSED_ARGS; return sysfs_sys_list(a0, a1, a2, a3); }
SYS(sysfs_read) { UNUSED_ARGS; return sysfs_sys_read(a0, a1, a2, a3); }
SYS(sysfs_write) { UNUSED_ARGS; return sysfs_sys_write(a0, a1, a2, a3, a4); }
SYS(sysfs_stat) { UNUSED_ARGS; return sysfs_sys_stat(a0, a1, a2); }
SYS(sysfs_readlink) { UNUSED_ARGS; return sysfs_sys_readlink(a0, a1, a2, a3); }
