/*
 * syscall.c — the system call table (numbers and arguments from os/abi/kernel.toml).
 *
 * syscall_entry (entry.S) saves the user registers and calls syscall_dispatch (which records
 * syscall_enter/exit) or, while the syscall class is not traced, syscall_dispatch_untraced,
 * with interrupts off; we turn them on, run the call with rdi, rsi, rdx, r10, r8, r9 as
 * arguments, put the result in rax and, before returning, let the thread die, stop or yield
 * if it must.
 * Every handle is looked up in the caller's own table with the rights the call needs; every
 * user pointer goes through usercopy.c. I/O port and IRQ capabilities live here too.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/ipc.h>
#include <kernel/sysfs.h>

#define SYS(name) static int64_t sys_##name(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
#define UNUSED_ARGS (void)a0, (void)a1, (void)a2, (void)a3, (void)a4

static struct process *self(void) { return current()->proc; }

static int64_t lookup(int64_t h, uint32_t type, uint32_t need, struct kobj **o, uint32_t *rights)
{
    return handle_lookup(&self()->handles, (int32_t)h, type, need, o, rights);
}

/* Install o in the caller's table and drop the caller's own reference. */
static int64_t give(struct kobj *o, uint32_t rights)
{
    int64_t h = handle_install(&self()->handles, o, rights);
    kobj_put(o);
    return h;
}

SYS(null) { UNUSED_ARGS; return 0; }

SYS(log)
{
    UNUSED_ARGS;
    if (a0 > LANES_LOG_LEVEL_DEBUG)
        return LANES_E_INVAL;
    char buf[512];
    uint64_t n = MIN(a2, sizeof buf);
    if (!user_range_ok(a1, a2) || copy_from_user(buf, a1, n))
        return LANES_E_FAULT;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "pid %u (%s): ", self()->pid, self()->name);
    klog_raw((int)a0, prefix, buf, n);
    return 0;
}

SYS(console_write) { UNUSED_ARGS; return console_write_user(a0, a1); }
SYS(console_read) { UNUSED_ARGS; return console_read(a0, a1, a2); }

SYS(exit)
{
    UNUSED_ARGS;
    process_terminate(self(), LANES_PROC_STATE_EXITED, (int32_t)a0, NULL);
    thread_exit();
}

SYS(thread_exit) { UNUSED_ARGS; thread_exit(); }

static void thread_discard(struct thread *t)
{
    struct process *p = t->proc;
    spin_lock(&p->lock);
    list_del(&t->proc_link);
    p->nthreads--;
    spin_unlock(&p->lock);
    spin_lock(&sched_all_lock);
    list_del(&t->all_link);
    spin_unlock(&sched_all_lock);
    t->state = T_DEAD;
    pmm_free_contig(V2P(t->kstack), KSTACK_SIZE / PAGE_SIZE);
    kobj_put(&t->obj);
}

SYS(thread_create)
{
    UNUSED_ARGS;
    if (!user_range_ok(a0, 1) || a1 > USER_TOP || a1 < 8)
        return LANES_E_FAULT;
    /* The entry must be executable and the stack writable, or the thread would only fault. */
    if (!vm_check_exec(self()->vm, a0) || !vm_translate(self()->vm, a1 - 8, true))
        return LANES_E_FAULT;
    struct thread *t = thread_create_user(self(), a0, a1, a2, 0, NULL);
    if (!t)
        return self()->state == LANES_PROC_STATE_RUNNING ? LANES_E_NOMEM : LANES_E_DEAD;
    int64_t h = handle_install(&self()->handles, &t->obj, LANES_RIGHT_ALL);
    if (h < 0) {
        thread_discard(t);
        return h;
    }
    thread_start(t);
    return h;
}

SYS(thread_wait)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = lookup(a0, LANES_OBJ_THREAD, LANES_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    struct thread *t = container_of(o, struct thread, obj);
    if (t == current()) {
        kobj_put(o);
        return LANES_E_INVAL;
    }
    uint64_t deadline = deadline_from_timeout(a1);
    struct process *p = t->proc;
    spin_lock(&p->lock);
    r = 0;
    while (!t->exited) {
        r = wait_on(&t->exitq, &p->lock, deadline);
        if (r)
            break;
    }
    if (t->exited)
        r = 0;
    spin_unlock(&p->lock);
    kobj_put(o);
    return r;
}

SYS(yield) { UNUSED_ARGS; schedule(); return 0; }
SYS(sleep) { UNUSED_ARGS; return sleep_ns(a0); }
SYS(clock) { UNUSED_ARGS; return (int64_t)clock_ns(); }
SYS(cpu_id) { UNUSED_ARGS; return this_cpu()->id; }

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

#define MAX_IMAGE (64ULL << 20)
#define MAX_ARGS (64 * 1024)
#define MAX_SPAWN_HANDLES 64

SYS(process_spawn)
{
    UNUSED_ARGS;
    struct lane_spawn_args sa;
    if (copy_from_user(&sa, a0, sizeof sa))
        return LANES_E_FAULT;
    if (sa.image_len == 0 || sa.image_len > MAX_IMAGE || sa.args_len > MAX_ARGS ||
        sa.nhandles > MAX_SPAWN_HANDLES || sa.argc > MAX_ARGS / 2 || sa.flags)
        return LANES_E_INVAL;
    if (!user_range_ok(sa.image, sa.image_len) || !user_range_ok(sa.args, sa.args_len))
        return LANES_E_FAULT;
    char name[32];
    int64_t r = strncpy_from_user(name, sa.name, sizeof name);
    if (r == LANES_E_RANGE) {
        name[sizeof name - 1] = 0;
        r = 0;
    }
    if (r < 0)
        return r;
    char *args = NULL;
    uint8_t *img = NULL;
    struct lane_spawn_handle *sh = NULL;
    struct lane_handle_entry *he = NULL;
    struct kobj **objs = NULL;
    struct kobj *supo = NULL;
    uint32_t nobjs = 0;
    args = kmalloc(sa.args_len + 1);
    sh = kmalloc((sa.nhandles + 1) * sizeof *sh);
    he = kmalloc((sa.nhandles + 1) * sizeof *he);
    objs = kmalloc((sa.nhandles + 1) * sizeof *objs);
    img = kmalloc(sa.image_len);
    if (!args || !sh || !he || !objs || !img) {
        r = LANES_E_NOMEM;
        goto out;
    }
    if (copy_from_user(args, sa.args, sa.args_len) || copy_from_user(img, sa.image, sa.image_len) ||
        copy_from_user(sh, sa.handles, sa.nhandles * sizeof *sh)) {
        r = LANES_E_FAULT;
        goto out;
    }
    /* argc NUL-terminated strings must fit in args_len. */
    uint64_t pos = 0;
    for (uint32_t i = 0; i < sa.argc; i++) {
        uint64_t l = strnlen(args + pos, sa.args_len - pos);
        if (pos + l >= sa.args_len) {
            r = LANES_E_INVAL;
            goto out;
        }
        pos += l + 1;
    }
    for (uint32_t i = 0; i < sa.nhandles; i++) {
        uint32_t have;
        r = lookup(sh[i].handle, LANES_OBJ_NONE, LANES_RIGHT_DUP, &objs[i], &have);
        if (r)
            goto out;
        nobjs++;
        memset(&he[i], 0, sizeof he[i]);
        he[i].rights = sh[i].rights & have;
        memcpy(he[i].tag, sh[i].tag, sizeof he[i].tag);
        he[i].tag[sizeof he[i].tag - 1] = 0;
    }
    struct supervisor *sup = NULL;
    if (sa.supervisor != LANES_HANDLE_NONE) {
        r = lookup(sa.supervisor, LANES_OBJ_SUPERVISOR, 0, &supo, NULL);
        if (r)
            goto out;
        sup = container_of(supo, struct supervisor, obj);
    }
    struct process *child;
    r = process_spawn_image(self(), img, sa.image_len, name, args, pos, sa.argc, he, objs, sa.nhandles, sup,
                            &child);
    if (r == 0)
        r = give(&child->obj, LANES_RIGHT_ALL);
out:
    for (uint32_t i = 0; i < nobjs; i++)
        kobj_put(objs[i]);
    if (supo)
        kobj_put(supo);
    kfree(args);
    kfree(sh);
    kfree(he);
    kfree(objs);
    kfree(img);
    return r;
}

SYS(process_kill)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = lookup(a0, LANES_OBJ_PROCESS, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    struct process *p = container_of(o, struct process, obj);
    if (p == kernel_process) {
        kobj_put(o);
        return LANES_E_ACCESS;
    }
    process_terminate(p, LANES_PROC_STATE_KILLED, (int32_t)a1, NULL);
    kobj_put(o);
    return 0;
}

SYS(process_wait)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = lookup(a0, LANES_OBJ_PROCESS, LANES_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    struct process *p = container_of(o, struct process, obj);
    struct lane_exit_info zero = { 0 };
    if (a1 && copy_to_user(a1, &zero, sizeof zero)) {
        kobj_put(o);
        return LANES_E_FAULT;
    }
    uint64_t deadline = deadline_from_timeout(a2);
    spin_lock(&p->lock);
    r = 0;
    /* Done when the process has ended for good (every thread gone, handles closed, pending IPC
     * failed), or is stopped after a fault its supervisor was told of. */
#define WAIT_DONE(p) ((p)->finished || ((p)->state == LANES_PROC_STATE_FAULTED && (p)->sup))
    while (!WAIT_DONE(p)) {
        r = wait_on(&p->waiters, &p->lock, deadline);
        if (r)
            break;
    }
    struct lane_exit_info e = p->exit;
    bool done = WAIT_DONE(p);
#undef WAIT_DONE
    spin_unlock(&p->lock);
    kobj_put(o);
    if (!done)
        return r ? r : LANES_E_TIMEOUT;
    if (a1 && copy_to_user(a1, &e, sizeof e))
        return LANES_E_FAULT;
    return 0;
}

SYS(getpid) { UNUSED_ARGS; return self()->pid; }

SYS(handle_dup)
{
    UNUSED_ARGS;
    struct kobj *o;
    uint32_t have;
    int64_t r = lookup(a0, LANES_OBJ_NONE, LANES_RIGHT_DUP, &o, &have);
    if (r)
        return r;
    return give(o, (uint32_t)a1 & have);
}

SYS(handle_close) { UNUSED_ARGS; return handle_close(&self()->handles, (int32_t)a0); }

SYS(handle_info)
{
    UNUSED_ARGS;
    struct kobj *o;
    uint32_t have;
    int64_t r = lookup(a0, LANES_OBJ_NONE, 0, &o, &have);
    if (r)
        return r;
    struct lane_handle_info hi = { .type = o->type, .rights = have };
    if (o->type == LANES_OBJ_MEMORY)
        hi.size = container_of(o, struct memobj, obj)->npages * PAGE_SIZE;
    kobj_put(o);
    return copy_to_user(a1, &hi, sizeof hi);
}

#define MAX_MEM (1ULL << 30)

SYS(mem_create)
{
    UNUSED_ARGS;
    if (a0 == 0 || (a1 & ~(uint64_t)LANES_MEMFLAG_ZERO))
        return LANES_E_INVAL;
    if (a0 > MAX_MEM)
        return LANES_E_NOMEM;
    struct memobj *m = memobj_create(ALIGN_UP(a0, PAGE_SIZE) / PAGE_SIZE);
    if (!m)
        return LANES_E_NOMEM;
    return give(&m->obj, LANES_RIGHT_ALL);
}

SYS(mem_map)
{
    UNUSED_ARGS;
    int32_t h = (int32_t)a0;
    uint64_t hint = a1, off = a2, len = a3;
    uint32_t prot = (uint32_t)a4;
    if (!len || (prot & ~7u) || len > MAX_MEM)
        return LANES_E_INVAL;
    struct memobj *m;
    if (h == LANES_HANDLE_NONE) {
        if (off)
            return LANES_E_INVAL;
        m = memobj_create(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);
        if (!m)
            return LANES_E_NOMEM;
    } else {
        struct kobj *o;
        uint32_t need = LANES_RIGHT_MAP;
        if (prot & LANES_PROT_WRITE)
            need |= LANES_RIGHT_WRITE;
        if (prot & (LANES_PROT_READ | LANES_PROT_EXEC))
            need |= LANES_RIGHT_READ;
        int64_t r = lookup(h, LANES_OBJ_MEMORY, need, &o, NULL);
        if (r)
            return r;
        m = container_of(o, struct memobj, obj);
    }
    uint64_t addr;
    int64_t r = vm_map(self()->vm, m, hint, off, len, prot, &addr);
    kobj_put(&m->obj);
    return r ? r : (int64_t)addr;
}

SYS(mem_unmap) { UNUSED_ARGS; return vm_unmap(self()->vm, a0, a1); }
SYS(futex_wait) { UNUSED_ARGS; return futex_wait(a0, (uint32_t)a1, a2); }
SYS(futex_wake) { UNUSED_ARGS; return futex_wake(a0, (uint32_t)a1); }

SYS(supervisor_create)
{
    UNUSED_ARGS;
    struct supervisor *s = supervisor_create();
    if (!s)
        return LANES_E_NOMEM;
    return give(&s->obj, LANES_RIGHT_ALL);
}

SYS(supervisor_recv)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = lookup(a0, LANES_OBJ_SUPERVISOR, LANES_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    struct supervisor *s = container_of(o, struct supervisor, obj);
    struct lane_notification n = { 0 };
    if (copy_to_user(a1, &n, sizeof n)) {       /* check before taking a notification */
        kobj_put(o);
        return LANES_E_FAULT;
    }
    uint64_t deadline = deadline_from_timeout(a2);
    spin_lock(&s->lock);
    r = 0;
    while (s->count == 0) {
        r = wait_on(&s->wq, &s->lock, deadline);
        if (r)
            break;
    }
    bool got = s->count > 0;
    if (got) {
        n = s->q[s->head];
        s->head = (s->head + 1) % ARRAY_SIZE(s->q);
        s->count--;
    }
    spin_unlock(&s->lock);
    kobj_put(o);
    if (!got)
        return r ? r : LANES_E_TIMEOUT;
    return copy_to_user(a1, &n, sizeof n);
}

/* ---- I/O port capabilities ---- */

struct ioport_obj { struct kobj obj; uint32_t base, count; };
static void ioport_destroy(struct kobj *o) { kfree(container_of(o, struct ioport_obj, obj)); }

/* For sysfs's driver nodes: what an IOPORT capability covers. */
bool ioport_obj_range(struct kobj *o, uint32_t *base, uint32_t *count)
{
    if (o->type != LANES_OBJ_IOPORT)
        return false;
    struct ioport_obj *io = container_of(o, struct ioport_obj, obj);
    *base = io->base;
    *count = io->count;
    return true;
}

static int64_t system_check(int64_t h)
{
    struct kobj *o;
    int64_t r = lookup(h, LANES_OBJ_SYSTEM, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    kobj_put(o);
    return 0;
}

SYS(ioport_create)
{
    UNUSED_ARGS;
    int64_t r = system_check(a0);
    if (r)
        return r;
    if (a2 == 0 || a1 > 0xffff || a2 > 0x10000 - a1)
        return LANES_E_RANGE;
    struct ioport_obj *io = kmalloc(sizeof *io);
    if (!io)
        return LANES_E_NOMEM;
    kobj_init(&io->obj, LANES_OBJ_IOPORT, ioport_destroy);
    io->base = (uint32_t)a1;
    io->count = (uint32_t)a2;
    return give(&io->obj, LANES_RIGHT_ALL);
}

SYS(ioport_enable)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = lookup(a0, LANES_OBJ_IOPORT, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    struct ioport_obj *io = container_of(o, struct ioport_obj, obj);
    struct process *p = self();
    uint8_t *fresh = kmalloc(8192);
    if (!fresh) {
        kobj_put(o);
        return LANES_E_NOMEM;
    }
    memset(fresh, 0xff, 8192);
    spin_lock(&p->lock);
    if (!p->iopb) {
        p->iopb = fresh;
        fresh = NULL;
    }
    for (uint32_t port = io->base; port < io->base + io->count; port++)
        p->iopb[port / 8] &= ~(1u << (port % 8));
    /* System-wide unique, so a CPU can never mistake a new process's bitmap for a dead one's. */
    static volatile uint64_t iopb_generation;
    p->iopb_gen = __atomic_add_fetch(&iopb_generation, 1, __ATOMIC_RELAXED);
    spin_unlock(&p->lock);
    kfree(fresh);
    pushcli();
    struct cpu *c = this_cpu();
    tss_load_iopb(p->iopb);
    c->iopb_proc = p;
    c->iopb_gen = p->iopb_gen;
    popcli();
    kobj_put(o);
    return 0;
}

/* ---- IRQ capabilities ---- */

struct irq_obj {
    struct kobj obj;
    int irq;
    struct spinlock lock;
    uint64_t count;
    struct waitq wq;
};
static struct irq_obj *irq_objs[16];
static struct spinlock irq_objs_lock = SPINLOCK_INIT("irq objects");

/* For sysfs's driver nodes: the line of an IRQ capability. */
bool irq_obj_line(struct kobj *o, uint32_t *irq)
{
    if (o->type != LANES_OBJ_IRQ)
        return false;
    *irq = (uint32_t)container_of(o, struct irq_obj, obj)->irq;
    return true;
}

static void irq_fire(int irq, void *arg)
{
    struct irq_obj *io = arg;
    ioapic_mask(irq, true);
    spin_lock(&io->lock);
    io->count++;
    wake_all(&io->wq);
    spin_unlock(&io->lock);
}

static void irq_destroy(struct kobj *o)
{
    struct irq_obj *io = container_of(o, struct irq_obj, obj);
    ioapic_mask(io->irq, true);
    irq_register(io->irq, NULL, NULL);
    spin_lock(&irq_objs_lock);
    irq_objs[io->irq] = NULL;
    spin_unlock(&irq_objs_lock);
    if (io->irq == 4)
        console_irq4_gone(io);      /* COM1 back to the kernel (console.c) */
    kfree(io);
}

SYS(irq_create)
{
    UNUSED_ARGS;
    int64_t r = system_check(a0);
    if (r)
        return r;
    if (a1 >= 16)
        return LANES_E_RANGE;
    if (a1 == 0 || a1 == 2)     /* PIT, cascade: the kernel's (COM1's line 4 goes to a console server) */
        return LANES_E_BUSY;
    struct irq_obj *io = kmalloc(sizeof *io);
    if (!io)
        return LANES_E_NOMEM;
    kobj_init(&io->obj, LANES_OBJ_IRQ, irq_destroy);
    io->irq = (int)a1;
    spin_init(&io->lock, "irq");
    waitq_init(&io->wq);
    spin_lock(&irq_objs_lock);
    if (irq_objs[a1]) {
        spin_unlock(&irq_objs_lock);
        kfree(io);
        return LANES_E_EXISTS;
    }
    irq_objs[a1] = io;
    spin_unlock(&irq_objs_lock);
    irq_register((int)a1, irq_fire, io);
    ioapic_route((int)a1, VEC_IRQ_BASE + a1, cpus[0]->apic_id, true);
    return give(&io->obj, LANES_RIGHT_ALL);
}

SYS(irq_wait)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = lookup(a0, LANES_OBJ_IRQ, LANES_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    struct irq_obj *io = container_of(o, struct irq_obj, obj);
    uint64_t deadline = deadline_from_timeout(a1);
    spin_lock(&io->lock);
    r = 0;
    if (io->count == 0)
        ioapic_mask(io->irq, false);
    while (io->count == 0) {
        r = wait_on(&io->wq, &io->lock, deadline);
        if (r)
            break;
    }
    uint64_t n = io->count;
    io->count = 0;
    spin_unlock(&io->lock);
    kobj_put(o);
    if (!n)
        return r ? r : LANES_E_TIMEOUT;
    return (int64_t)n;
}

/* ---- the console hand-over (generic/console.c, log.c) ---- */

SYS(console_claim)
{
    UNUSED_ARGS;
    struct kobj *irq, *port;
    int64_t r = lookup(a0, LANES_OBJ_IRQ, LANES_RIGHT_CONTROL, &irq, NULL);
    if (r)
        return r;
    r = lookup(a1, LANES_OBJ_IOPORT, LANES_RIGHT_CONTROL, &port, NULL);
    if (r) {
        kobj_put(irq);
        return r;
    }
    struct ioport_obj *io = container_of(port, struct ioport_obj, obj);
    if (container_of(irq, struct irq_obj, obj)->irq != 4 || io->base > 0x3f8 || io->base + io->count < 0x3f8 + 8)
        r = LANES_E_RANGE;
    else
        r = console_claim(self(), irq);
    kobj_put(port);
    kobj_put(irq);
    return r;
}

SYS(klog_read) { UNUSED_ARGS; return log_klog_read(self(), a0, a1, a2, a3); }
SYS(console_info) { UNUSED_ARGS; return console_info_user(a0); }

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
    int64_t r = system_check(a0);
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

volatile int system_halting;

SYS(poweroff)
{
    UNUSED_ARGS;
    int64_t r = system_check(a0);
    if (r)
        return r;
    pr_info("power off requested by pid %u, exit code %d", self()->pid, (int32_t)a1);
    console_takeover(true);     /* the last lines go out even if a console server is mid-way */
    system_halting = 1;
    cli();
    outb(0xf4, (uint8_t)a1);
    /* Not under QEMU: stop every CPU. */
    for (uint32_t i = 0; i < ncpus; i++)
        if (cpus[i] != this_cpu())
            lapic_send_ipi(cpus[i]->apic_id, VEC_HALT);
    pr_info("system halted");
    for (;;)
        hlt();
}

SYS(thread_self) { UNUSED_ARGS; return current()->tid; }

SYS(set_tls)
{
    UNUSED_ARGS;
    if (a0 >= USER_TOP)
        return LANES_E_INVAL;
    current()->fs_base = a0;
    wrmsr(MSR_FS_BASE, a0);
    return 0;
}

SYS(thread_interrupt)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = lookup(a0, LANES_OBJ_THREAD, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    thread_interrupt(container_of(o, struct thread, obj));
    kobj_put(o);
    return 0;
}

SYS(process_self)
{
    UNUSED_ARGS;
    kobj_get(&self()->obj);
    return give(&self()->obj, LANES_RIGHT_ALL);
}

/* ---- tracing (generic/trace.c) ---- */
SYS(trace_ctl) { UNUSED_ARGS; return trace_sys_ctl(a0, a1, a2); }
SYS(trace_mark) { UNUSED_ARGS; return trace_sys_mark(a0, a1, a2, a3); }
int64_t kperf_probe(uint32_t probe, uint64_t n);     /* arch/x86_64/perfprobe.c */
SYS(kperf) { UNUSED_ARGS; int64_t r = system_check(a0); return r ? r : kperf_probe((uint32_t)a1, a2); }

/* ---- sysfs (generic/sysfs.c) ---- */
SYS(sysfs_list) { UNUSED_ARGS; return sysfs_sys_list(a0, a1, a2, a3); }
SYS(sysfs_read) { UNUSED_ARGS; return sysfs_sys_read(a0, a1, a2, a3); }
SYS(sysfs_write) { UNUSED_ARGS; return sysfs_sys_write(a0, a1, a2, a3, a4); }
SYS(sysfs_stat) { UNUSED_ARGS; return sysfs_sys_stat(a0, a1, a2); }

/* ---- affinity (generic/balance.c) ---- */
int64_t balance_sys_get_affinity(uint64_t h, uint64_t umask);
int64_t balance_sys_set_affinity(uint64_t h, uint64_t mask);
SYS(thread_get_affinity) { UNUSED_ARGS; return balance_sys_get_affinity(a0, a1); }
SYS(thread_set_affinity) { UNUSED_ARGS; return balance_sys_set_affinity(a0, a1); }

typedef int64_t (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
#define ENTRY(num, name, nargs) [num] = sys_##name,
static const syscall_fn table[LANES_SYS_COUNT] = { LANES_SYSCALLS(ENTRY) };

static inline void dispatch(struct regs *r, uint64_t nr)
{
    if (nr < LANES_SYS_COUNT && table[nr])
        r->rax = table[nr](r->rdi, r->rsi, r->rdx, r->r10, r->r8);
    else if (nr >= LANES_SYS_IPC_STREAM_CREATE && nr < LANES_IPC_SYS_COUNT)
        r->rax = (uint64_t)ipc_syscall(r);      /* IPC lanes: generic/ipc/sys.c */
    else
        r->rax = (uint64_t)(int64_t)LANES_E_NOSYS;
}

/* With the syscall's enter and exit records: entry.S (syscall_entry and int80_entry) calls this
 * one while the syscall class is traced (the default) and syscall_dispatch_untraced below
 * otherwise, so the enter record need not test the class again (and the untraced path stays
 * short); the exit record does, in case tracing was switched off during the call. Interrupts are off on the way in (the syscall instruction masks them
 * through FMASK, the int 0x80 gate clears them) and off again for the exit record (the way
 * out, entry.S's sysret or trap_return, turns them off anyway, and sched_check_user_return
 * serves interrupts too): neither record saves, clears and restores them. */
_Static_assert(TRACE_CLASS_SYSCALL == 8, "entry.S tests bit 3 of trace_classes");
void syscall_dispatch(struct regs *r)
{
    uint64_t nr = r->rax;
    uint32_t tid = current()->tid;
    uint64_t eid;
    {
        TRACE_IRQS_ARE_OFF();
        TRACE_CLASS_IS_ON();
        eid = trace_emit_syscall_enter((uint32_t)nr, tid, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
    }
    sti();
    dispatch(r, nr);
    /* nr stays in a register to here, so a debugger shows it anywhere in this function (else
     * gcc reads r->rax twice and tells gdb nr is "optimized out"): the first function most
     * kernel debugging sessions stop in */
    __asm__ volatile("" ::"r"(nr));
    cli();
    {
        TRACE_IRQS_ARE_OFF();               /* (the class may have gone off meanwhile: `trace off`) */
        trace_emit_syscall_exit((uint32_t)nr, tid, (int64_t)r->rax, eid);
    }
    sched_check_user_return(r);
    /* not a tail call: else gcc copies the epilogue into both sides of the exit record's class
     * test, and gdb puts a breakpoint on the line above at the copy that tracing never runs */
    __asm__ volatile("");
}

void syscall_dispatch_untraced(struct regs *r)
{
    sti();
    dispatch(r, r->rax);
    sched_check_user_return(r);
}
