/*
 * sys_inspect.c — process_inspect: reading another process's state, for whoever holds its
 * PROCESS handle with CONTROL (the POSIX server: /proc/PID/maps and cmdline, and core files of
 * processes stopped after a fault).
 *
 * It only reports, it decides nothing (policy-free, like Helios's supervisor calls):
 *   INFO     where the arguments, the initial stack and the ELF image lie (spawn.c records them)
 *   REGIONS  the address space's regions (vm.c's list), each marked IMAGE, STACK or ANON
 *   READ     bytes of its memory (vm_read, under the address space's lock: a page cannot be freed
 *            while it is copied); FAULT where nothing is mapped
 *   THREAD   thread N's user registers, from the trap frame at the top of its kernel stack (every
 *            entry from user mode builds it there: syscall, interrupt, exception), and its fxsave
 *            area. A thread running right now has no such frame that holds still: BUSY. A stopped
 *            thread (after a supervised fault every thread parks in STOPPED) is the usual case.
 * Registers come in Linux's user_regs_struct order, so a core writer copies them as they are.
 */
#include <kernel/kernel.h>
#include "syscall.h"

#define MAX_READ (1u << 20)

static int64_t info(struct process *p, uint64_t ubuf, uint64_t len)
{
    struct lane_process_info pi = { 0 };
    if (len < sizeof pi)
        return LANES_E_RANGE;
    spin_lock(&p->lock);
    pi.pid = p->pid;
    pi.state = (uint32_t)p->state;
    pi.nthreads = 0;
    list_for_each(it, &p->threads)
        pi.nthreads++;
    spin_unlock(&p->lock);
    pi.argc = p->argc;
    pi.arg_start = p->arg_start;
    pi.arg_end = p->arg_end;
    pi.stack_start = p->stack_start;
    pi.stack_end = p->stack_end;
    pi.image_start = p->image_start;
    pi.image_end = p->image_end;
    pi.entry = p->entry;
    pi.start_ns = p->start_ns;
    return copy_to_user(ubuf, &pi, sizeof pi);
}

static int64_t regions(struct process *p, uint64_t ubuf, uint64_t len)
{
    uint32_t cap = (uint32_t)MIN(len / sizeof(struct lane_mem_region), 1024);
    struct lane_mem_region *rows = cap ? kmalloc(cap * sizeof *rows) : NULL;
    if (cap && !rows)
        return LANES_E_NOMEM;
    struct vmspace *vm = vm_get(p);
    uint32_t n = 0;
    if (vm) {
        spin_lock(&vm->lock);
        for (struct vm_region *r = vm->regions; r; r = r->next, n++) {
            if (n >= cap)
                continue;
            rows[n].start = r->start;
            rows[n].end = r->end;
            rows[n].prot = r->prot;
            rows[n].offset = r->off;
            rows[n].kind = r->start >= p->stack_start && r->end <= p->stack_end ? LANES_REGION_KIND_STACK
                           : r->start >= p->image_start && r->end <= p->image_end ? LANES_REGION_KIND_IMAGE
                                                                                   : LANES_REGION_KIND_ANON;
        }
        spin_unlock(&vm->lock);
        vm_put(p);
    }
    int64_t e = cap ? copy_to_user(ubuf, rows, MIN(n, cap) * sizeof *rows) : 0;
    kfree(rows);
    return e ? e : n;
}

static int64_t read_mem(struct process *p, uint64_t addr, uint64_t ubuf, uint64_t len)
{
    if (len > MAX_READ)
        return LANES_E_RANGE;
    if (!user_range_ok(addr, len))
        return LANES_E_FAULT;
    uint8_t *tmp = kmalloc(PAGE_SIZE);
    if (!tmp)
        return LANES_E_NOMEM;
    struct vmspace *vm = vm_get(p);
    int64_t r = vm ? 0 : LANES_E_DEAD;
    for (uint64_t done = 0; done < len && r == 0;) {
        size_t chunk = MIN(len - done, PAGE_SIZE);
        r = vm_read(vm, addr + done, tmp, chunk);
        if (r == 0)
            r = copy_to_user(ubuf + done, tmp, chunk);
        done += chunk;
    }
    if (vm)
        vm_put(p);
    kfree(tmp);
    return r ? r : (int64_t)len;
}

static int64_t thread_regs(struct process *p, uint64_t index, uint64_t ubuf, uint64_t len)
{
    struct lane_thread_regs *tr = kmalloc(sizeof *tr);
    if (!tr)
        return LANES_E_NOMEM;
    if (len < sizeof *tr) {
        kfree(tr);
        return LANES_E_RANGE;
    }
    int64_t r = LANES_E_RANGE;
    uint64_t i = 0;
    spin_lock(&p->lock);
    list_for_each(it, &p->threads) {
        if (i++ != index)
            continue;
        struct thread *t = container_of(it, struct thread, proc_link);
        tr->tid = t->tid;
        tr->state = (uint32_t)t->state;
        tr->cpu = t->cpu->id;
        tr->stopped = t->state == T_STOPPED;
        if (t->state == T_RUNNING && t != current()) {
            r = LANES_E_BUSY;
            break;
        }
        const struct regs *f = (const struct regs *)(t->kstack_top - sizeof(struct regs));
        uint64_t u[27] = { f->r15, f->r14, f->r13, f->r12, f->rbp, f->rbx, f->r11, f->r10, f->r9,
                           f->r8,  f->rax, f->rcx, f->rdx, f->rsi, f->rdi, UINT64_MAX /* orig_rax */, f->rip, f->cs,
                           f->rflags, f->rsp, f->ss, t->fs_base, 0, 0, 0, 0, 0 };
        memcpy(tr->regs, u, sizeof u);
        memcpy(tr->fxsave, t->fpu, sizeof tr->fxsave);
        r = 0;
        break;
    }
    spin_unlock(&p->lock);
    if (r == 0)
        r = copy_to_user(ubuf, tr, sizeof *tr);
    kfree(tr);
    return r;
}

SYS(process_inspect)
{
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_PROCESS, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    struct process *p = container_of(o, struct process, obj);
    if (p == kernel_process) {
        kobj_put(o);
        return LANES_E_ACCESS;
    }
    switch (a1) {
    case LANES_INSPECT_OP_INFO: r = info(p, a3, a4); break;
    case LANES_INSPECT_OP_REGIONS: r = regions(p, a3, a4); break;
    case LANES_INSPECT_OP_READ: r = read_mem(p, a2, a3, a4); break;
    case LANES_INSPECT_OP_THREAD: r = thread_regs(p, a2, a3, a4); break;
    default: r = LANES_E_INVAL;
    }
    kobj_put(o);
    return r;
}
