/*
 * process.c — processes, their ends, and the supervisors that hear about them.
 *
 * A process is an address space, a handle table and a set of threads. It ends in one of three
 * ways, recorded once in p->exit (what process_wait reports) and sent to its supervisor:
 *   EXITED   exit(code), or its last thread ended (code 0)
 *   KILLED   process_kill(code)
 *   FAULTED  a thread took a CPU exception in user mode. With a supervisor the process is
 *            stopped (every thread parks in STOPPED, memory kept for inspection) until someone
 *            kills it; without one it is killed at once and the fault is logged.
 * Killing sets every thread's `killed` flag and kicks it out of any wait; threads die on their
 * way back to user mode. When the last thread is gone the handle table is closed, its lanes end,
 * waiters on the memory it made with OWNER_WAKE wake DEAD (memobj.c), and (after the final
 * switch away from it) the address space is freed.
 */
#include <kernel/kernel.h>
#include <kernel/ipc.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>

HOT_DATA struct process *kernel_process;
struct list all_processes = { &all_processes, &all_processes };
static volatile uint32_t next_pid = 1;

static void process_destroy(struct kobj *o)
{
    struct process *p = container_of(o, struct process, obj);
    spin_lock(&sched_all_lock);
    list_del(&p->all_link);
    spin_unlock(&sched_all_lock);
    htable_close_all(&p->handles);
    htable_free(&p->handles);
    memobj_owner_gone(p);       /* (already done unless it never finished) */
    driver_node_remove(p);      /* never started (spawn failed late): its driver node goes */
    if (p->vm)
        vm_destroy(p->vm);
    if (p->sup)
        kobj_put(&p->sup->obj);
    kfree(p->iopb);
    kfree(p);
}

struct process *process_create(const char *name, struct supervisor *sup)
{
    struct process *p = kmalloc(sizeof *p);
    if (!p)
        return NULL;
    p->vm = vm_create();
    if (!p->vm) {
        kfree(p);
        return NULL;
    }
    kobj_init(&p->obj, LANES_OBJ_PROCESS, process_destroy);
    p->vm_refs = 1;
    p->pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
    p->start_ns = clock_ns();
    strlcpy(p->name, name, sizeof p->name);
    trace_emit_proc_create(p->pid, percpu_up_safe() && this_cpu()->current ? this_cpu()->current->proc->pid : 0, p->name);
    spin_init(&p->lock, "process");
    list_init(&p->threads);
    list_init(&p->owned_mem);
    waitq_init(&p->waiters);
    htable_init(&p->handles);
    p->state = LANES_PROC_STATE_RUNNING;
    if (sup) {
        kobj_get(&sup->obj);
        p->sup = sup;
    }
    spin_lock(&sched_all_lock);
    list_add_tail(&all_processes, &p->all_link);
    spin_unlock(&sched_all_lock);
    return p;
}

void process_init(void)
{
    static struct process kp;
    kobj_init(&kp.obj, LANES_OBJ_PROCESS, NULL);
    kp.obj.refs = 1 << 30;
    kp.pid = 0;
    strlcpy(kp.name, "kernel", sizeof kp.name);
    spin_init(&kp.lock, "kernel process");
    list_init(&kp.threads);
    list_init(&kp.owned_mem);
    waitq_init(&kp.waiters);
    htable_init(&kp.handles);
    list_add_tail(&all_processes, &kp.all_link);
    kernel_process = &kp;
}

static void notify(struct process *p, int kind, const struct lane_exit_info *e, uint32_t tid)
{
    if (!p->sup)
        return;
    struct lane_notification n = { 0 };
    n.kind = kind;
    n.pid = p->pid;
    n.tid = tid;
    n.code = e->code;
    n.fault = e->fault;
    n.vector = e->vector;
    n.error_code = e->error_code;
    n.fault_addr = e->fault_addr;
    n.rip = e->rip;
    strlcpy(n.name, p->name, sizeof n.name);
    supervisor_notify(p->sup, &n);
}

/*
 * Record how the process ended (first call wins), tell its supervisor and waiters, then kill
 * (or, for a supervised fault, stop) every thread.
 */
void process_terminate(struct process *p, int state, int code, const struct lane_exit_info *fault)
{
    spin_lock(&p->lock);
    bool first = p->state == LANES_PROC_STATE_RUNNING;
    /* A supervised fault stops the threads; anything else (or a kill later) ends them. */
    bool stop_only = state == LANES_PROC_STATE_FAULTED && p->sup;
    struct lane_exit_info e;
    uint32_t tid = 0;
    if (first) {
        p->state = state;
        if (fault)
            p->exit = *fault;
        else
            memset(&p->exit, 0, sizeof p->exit);
        p->exit.state = state;
        p->exit.code = code;
        trace_emit_proc_exit(p->pid, state, code);
        wake_all(&p->waiters);
        tid = current()->proc == p ? current()->tid : 0;
    }
    e = p->exit;
    if (!stop_only)
        p->ending = true;       /* process_wait now waits for `finished`, even after a fault */
    list_for_each(it, &p->threads) {
        struct thread *t = container_of(it, struct thread, proc_link);
        if (stop_only)
            t->stop = 1;
        else
            t->killed = 1;
    }
    list_for_each(it, &p->threads)
        thread_kick(container_of(it, struct thread, proc_link));
    spin_unlock(&p->lock);
    if (first) {
        int kind = state == LANES_PROC_STATE_EXITED ? LANES_NOTIFY_KIND_EXITED :
                   state == LANES_PROC_STATE_KILLED ? LANES_NOTIFY_KIND_KILLED : LANES_NOTIFY_KIND_FAULTED;
        notify(p, kind, &e, tid);
    }
}

/* The last thread of p is exiting (called from thread_exit on that thread). */
void process_thread_gone(struct thread *t)
{
    struct process *p = t->proc;
    process_terminate(p, LANES_PROC_STATE_EXITED, 0, NULL);
    htable_close_all(&p->handles);
    driver_node_remove(p);      /* its driver node (grants) goes with its handles */
    ipc_process_gone(p);        /* IPC actions it left pending fail: its lanes close */
    memobj_owner_gone(p);       /* waits on words of the shared memory it made OWNER_WAKE end DEAD */
    /* Only now is it finished: whoever process_wait()s sees its handles closed and its IPC failed. */
    spin_lock(&p->lock);
    p->finished = true;
    wake_all(&p->waiters);
    spin_unlock(&p->lock);
    pr_debug("process %u (%s) finished: %s code %d", p->pid, p->name,
             lanes_proc_state_name(p->exit.state), p->exit.code);
}

void process_user_fault(struct regs *r, int kind, uint64_t addr)
{
    struct thread *t = current();
    struct process *p = t->proc;
    struct lane_exit_info e = { 0 };
    e.state = LANES_PROC_STATE_FAULTED;
    e.code = -1;
    e.fault = kind;
    e.vector = r->vector;
    e.error_code = r->error;
    e.fault_addr = r->vector == 14 ? addr : 0;
    e.rip = r->rip;
    trace_emit_fault(p->pid, t->tid, (uint32_t)r->vector, kind == LANES_FAULT_KIND_PAGE ? TRACE_FAULT_KIND_PAGE
                     : kind == LANES_FAULT_KIND_GPF ? TRACE_FAULT_KIND_GP : kind == LANES_FAULT_KIND_UD ? TRACE_FAULT_KIND_UD
                     : kind == LANES_FAULT_KIND_DIV ? TRACE_FAULT_KIND_DE : TRACE_FAULT_KIND_OTHER,
                     r->rip, e.fault_addr, r->error);
    klog(p->sup ? LOG_WARN : LOG_ERROR,
         "pid %u (%s) tid %u: %s fault (vector %lu, error 0x%lx) at rip 0x%lx, address 0x%lx; %s",
         p->pid, p->name, t->tid, lanes_fault_kind_name(kind), r->vector, r->error, r->rip,
         e.fault_addr, p->sup ? "stopped, supervisor notified" : "no supervisor, killed");
    process_terminate(p, LANES_PROC_STATE_FAULTED, -1, &e);
}

/* ---- supervisors ---- */

static void supervisor_destroy(struct kobj *o)
{
    kfree(container_of(o, struct supervisor, obj));
}

struct supervisor *supervisor_create(void)
{
    struct supervisor *s = kmalloc(sizeof *s);
    if (!s)
        return NULL;
    kobj_init(&s->obj, LANES_OBJ_SUPERVISOR, supervisor_destroy);
    spin_init(&s->lock, "supervisor");
    waitq_init(&s->wq);
    return s;
}

void supervisor_notify(struct supervisor *s, const struct lane_notification *n)
{
    spin_lock(&s->lock);
    if (s->count == (int)ARRAY_SIZE(s->q)) {
        s->head = (s->head + 1) % ARRAY_SIZE(s->q);
        s->count--;
        s->dropped++;
    }
    s->q[(s->head + s->count) % ARRAY_SIZE(s->q)] = *n;
    s->count++;
    wake_all(&s->wq);
    spin_unlock(&s->lock);
}

/* ---- /sys/kernel/processes and threads ---- */

#define SLOW_EMIT_NS 1000000000ULL

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
    return sysfs_print(b, cap, "%u\n", p);
}

static size_t show_threads(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    uint32_t p, t;
    count_tasks(&p, &t);
    return sysfs_print(b, cap, "%u\n", t);
}

static const struct sysfs_attr task_attrs[] = {
    { "processes", show_processes, NULL },
    { "threads", show_threads, NULL },
};

static struct sysfs_node *kernel_node;

static void tasks_sysfs_init(void)
{
    kernel_node = sysfs_add("/sys/kernel", task_attrs, ARRAY_SIZE(task_attrs), NULL);
}

/* processes and threads, at most once a second (SLOW_EMIT_NS) */
static void tasks_sysfs_sample(uint64_t now)
{
    static uint64_t last_slow;
    static uint32_t last_procs, last_threads;
    if (now - last_slow < SLOW_EMIT_NS)
        return;
    last_slow = now;
    uint32_t np, nt;
    count_tasks(&np, &nt);
    if (np != last_procs)
        sysfs_changed(kernel_node, "processes");
    if (nt != last_threads)
        sysfs_changed(kernel_node, "threads");
    last_procs = np;
    last_threads = nt;
}
SYSFS_PROVIDER(11, tasks, tasks_sysfs_init, tasks_sysfs_sample);
