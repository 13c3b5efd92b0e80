/*
 * ioport_irq.c — I/O-port and IRQ capabilities, the objects a user-space driver holds, and
 * their system calls: ioport_create, ioport_enable, irq_create, irq_wait.
 *
 * Both are created from the SYSTEM capability (init grants them to drivers from their
 * manifests, see lanes_spawn). ioport_enable clears the object's ports in the process's 8 KiB
 * I/O bitmap, installed into the CPU's TSS when one of its threads is switched in (sched.c).
 * An IRQ object routes a legacy line through the IOAPIC to cpu0, masked until irq_wait, masked
 * again when it fires (level-safe), counting interrupts; destroying the IRQ 4 object gives COM1
 * back to the kernel (console.c). A process spawned with such capabilities is a driver and
 * gets a sysfs node while it lives: /sys/drivers/NAME.PID with pid, name, ioports ("0x70-0x71"),
 * irqs ("10") and mmio (device memory from mmio.c, "0xfebc0000-0xfebdffff") (driver_node_add/remove,
 * called by spawn.c and process.c).
 */
#include <kernel/kernel.h>
#include "syscall.h"
#include <kernel/sysfs.h>

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

SYS(ioport_create)
{
    UNUSED_ARGS;
    int64_t r = handle_check_system(a0);
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
    return handle_give(&io->obj, LANES_RIGHT_ALL);
}

SYS(ioport_enable)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_IOPORT, LANES_RIGHT_CONTROL, &o, NULL);
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

/* The line stays ours (irq_objs[irq] set, so irq_create says EXISTS) until whatever the kernel
 * does with it afterwards is done: for line 4 that is console_irq4_gone(), which ends the claim
 * and installs the kernel's own serial handler. Freeing the slot first let a restarted console
 * server create its capability in between; the kernel's handler then replaced the server's, and
 * every byte typed afterwards went into the kernel's unread buffer (issue 22: the shell never
 * saw input again). */
static void irq_destroy(struct kobj *o)
{
    struct irq_obj *io = container_of(o, struct irq_obj, obj);
    ioapic_mask(io->irq, true);
    irq_register(io->irq, NULL, NULL);  /* irq_fire(io) is not running anywhere after this */
    if (io->irq == 4)
        console_irq4_gone(io);      /* COM1 back to the kernel (console.c) */
    spin_lock(&irq_objs_lock);
    irq_objs[io->irq] = NULL;
    spin_unlock(&irq_objs_lock);
    kfree(io);
}

SYS(irq_create)
{
    UNUSED_ARGS;
    int64_t r = handle_check_system(a0);
    if (r)
        return r;
    if (a1 >= 16)
        return LANES_E_RANGE;
    if (a1 == 0 || a1 == 2)     /* PIT, cascade: the kernel's (COM1's line 4 goes to a console server) */
        return LANES_E_BUSY;
    struct irq_obj *io = kmalloc(sizeof *io);
    if (!io)
        return LANES_E_NOMEM;
    io->irq = (int)a1;
    spin_init(&io->lock, "irq");
    waitq_init(&io->wq);
    spin_lock(&irq_objs_lock);
    if (irq_objs[a1]) {
        spin_unlock(&irq_objs_lock);
        kfree(io);
        return LANES_E_EXISTS;
    }
    kobj_init(&io->obj, LANES_OBJ_IRQ, irq_destroy);    /* (counted alive from here) */
    irq_objs[a1] = io;
    spin_unlock(&irq_objs_lock);
    irq_register((int)a1, irq_fire, io);
    ioapic_route((int)a1, VEC_IRQ_BASE + a1, cpus[0]->apic_id, true);
    return handle_give(&io->obj, LANES_RIGHT_ALL);
}

SYS(irq_wait)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_IRQ, LANES_RIGHT_WAIT, &o, NULL);
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

/* ---- /sys/drivers/NAME.PID: processes given I/O ports or IRQs at spawn (their manifest) ---- */

#define MAX_DRIVERS 32

struct driver {
    bool used;
    uint32_t pid;
    char name[32];
    uint32_t nio;
    struct { uint32_t base, count; } io[8];
    uint32_t irqs;                          /* bit mask of legacy lines */
    uint32_t nmmio;
    struct { uint64_t base, len; } mmio[8]; /* device memory (mmio.c) */
    struct sysfs_node *node;
};
static struct driver drivers[MAX_DRIVERS];
static struct spinlock drivers_lock = SPINLOCK_INIT("drivers");
static volatile uint32_t ndrivers;

static size_t show_drv_pid(struct sysfs_node *n, char *b, size_t cap)
{
    return sysfs_print(b, cap, "%u\n", ((struct driver *)sysfs_node_arg(n))->pid);
}

static size_t show_drv_name(struct sysfs_node *n, char *b, size_t cap)
{
    return sysfs_print(b, cap, "%s\n", ((struct driver *)sysfs_node_arg(n))->name);
}

static size_t show_drv_ioports(struct sysfs_node *n, char *b, size_t cap)
{
    struct driver *d = sysfs_node_arg(n);
    size_t len = 0;
    for (uint32_t i = 0; i < d->nio; i++)
        len += sysfs_print(b + len, cap - len, "%s0x%x-0x%x", i ? "," : "", d->io[i].base,
                           d->io[i].base + d->io[i].count - 1);
    return len + sysfs_print(b + len, cap - len, "\n");
}

static size_t show_drv_irqs(struct sysfs_node *n, char *b, size_t cap)
{
    struct driver *d = sysfs_node_arg(n);
    size_t len = 0;
    for (uint32_t i = 0; i < 32; i++)
        if (d->irqs & (1u << i))
            len += sysfs_print(b + len, cap - len, "%s%u", len ? "," : "", i);
    return len + sysfs_print(b + len, cap - len, "\n");
}

static size_t show_drv_mmio(struct sysfs_node *n, char *b, size_t cap)
{
    struct driver *d = sysfs_node_arg(n);
    size_t len = 0;
    for (uint32_t i = 0; i < d->nmmio; i++)
        len += sysfs_print(b + len, cap - len, "%s0x%lx-0x%lx", i ? "," : "", d->mmio[i].base,
                           d->mmio[i].base + d->mmio[i].len - 1);
    return len + sysfs_print(b + len, cap - len, "\n");
}

static const struct sysfs_attr driver_attrs[] = {
    { "pid", show_drv_pid, NULL },
    { "name", show_drv_name, NULL },
    { "ioports", show_drv_ioports, NULL },
    { "irqs", show_drv_irqs, NULL },
    { "mmio", show_drv_mmio, NULL },
};

/* spawn.c: p was given objs; if any is an I/O-port or IRQ capability, p is a driver. A slot is
 * filled before its node is added and freed only after the node is removed (show functions
 * read it under the sysfs lock, which sysfs_remove also takes). */
void driver_node_add(struct process *p, struct kobj **objs, uint32_t nobjs)
{
    struct driver d = { 0 };
    for (uint32_t i = 0; i < nobjs; i++) {
        uint32_t base, count, irq;
        uint64_t mbase, mlen;
        if (mmio_obj_range(objs[i], &mbase, &mlen)) {
            if (d.nmmio < ARRAY_SIZE(d.mmio)) {
                d.mmio[d.nmmio].base = mbase;
                d.mmio[d.nmmio].len = mlen;
                d.nmmio++;
            }
        } else if (ioport_obj_range(objs[i], &base, &count) && d.nio < ARRAY_SIZE(d.io)) {
            d.io[d.nio].base = base;
            d.io[d.nio].count = count;
            d.nio++;
        } else if (irq_obj_line(objs[i], &irq) && irq < 32) {
            d.irqs |= 1u << irq;
        }
    }
    if (!d.nio && !d.irqs && !d.nmmio)
        return;
    d.used = true;
    d.pid = p->pid;
    strlcpy(d.name, p->name, sizeof d.name);
    char path[SYSFS_PATH_MAX];
    sysfs_print(path, sizeof path, "/sys/drivers/%s.%u", d.name, d.pid);
    for (char *c = path + 13; *c; c++)
        if (*c == '/' || *c == ' ')
            *c = '_';
    spin_lock(&drivers_lock);
    struct driver *slot = NULL;
    for (size_t i = 0; i < MAX_DRIVERS; i++)
        if (!drivers[i].used) {
            slot = &drivers[i];
            *slot = d;
            __atomic_add_fetch(&ndrivers, 1, __ATOMIC_RELAXED);
            break;
        }
    spin_unlock(&drivers_lock);
    if (!slot) {
        pr_warn("sysfs: too many driver processes; pid %u (%s) gets no node", d.pid, d.name);
        return;
    }
    struct sysfs_node *n = sysfs_add(path, driver_attrs, ARRAY_SIZE(driver_attrs), slot);
    spin_lock(&drivers_lock);
    if (n) {
        slot->node = n;
    } else {
        slot->used = false;
        __atomic_sub_fetch(&ndrivers, 1, __ATOMIC_RELAXED);
    }
    spin_unlock(&drivers_lock);
}

/* process.c: p is gone (or never started); so is its driver node. */
void driver_node_remove(struct process *p)
{
    if (!__atomic_load_n(&ndrivers, __ATOMIC_RELAXED))
        return;
    for (size_t i = 0; i < MAX_DRIVERS; i++) {
        spin_lock(&drivers_lock);
        struct driver *d = &drivers[i];
        struct sysfs_node *n = NULL;
        bool mine = d->used && d->pid == p->pid;
        if (mine) {
            n = d->node;
            d->node = NULL;
        }
        spin_unlock(&drivers_lock);
        if (!mine)
            continue;
        sysfs_remove(n);
        spin_lock(&drivers_lock);
        d->used = false;
        __atomic_sub_fetch(&ndrivers, 1, __ATOMIC_RELAXED);
        spin_unlock(&drivers_lock);
    }
}
