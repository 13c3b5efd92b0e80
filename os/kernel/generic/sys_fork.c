/*
 * sys_fork.c — process_fork and process_exec: the kernel's half of POSIX fork and execve
 * (the POSIX server and libc do the rest: pids, fds, close-on-exec; os/programs/posix/fork.c).
 *
 * fork: a new process with the caller's name and supervisor; its address space is a
 * copy-on-write clone (vm_clone: shared regions stay shared, private pages get a second owner
 * and lose write access on both sides), its handle table a copy under the same numbers (minus
 * the handles the caller lists: its lane to the POSIX server, whose copy must not keep the
 * parent's conversation alive), and one thread: the caller's user registers with rax = 0, its
 * TLS base and FPU/SSE state, resuming where the caller's syscall returns. The parent gets a PROCESS handle.
 *
 * exec: the new image is loaded into a fresh address space first (a bad ELF, no memory or a
 * bad pointer leave the caller untouched); then the handles not kept are closed, the address
 * space is swapped (IPC copies still using the old one finish first: vm_refs), and the calling
 * thread's saved user registers are set to the new entry, stack and startup block. The
 * process's other threads end first, as POSIX wants.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include "syscall.h"

extern const uint8_t *fpu_initial_state;

#define MAX_KEEP 64

static struct regs *user_frame(void) { return (struct regs *)(current()->kstack_top - sizeof(struct regs)); }

SYS(process_fork)
{
    UNUSED_ARGS;
    struct process *p = self();
    int32_t omit[16];
    uint32_t nomit = (uint32_t)a1;
    if (nomit > ARRAY_SIZE(omit))
        return LANES_E_INVAL;
    if (copy_from_user(omit, a0, nomit * sizeof(int32_t)))
        return LANES_E_FAULT;
    struct process *c = process_create(p->name, p->sup);
    if (!c)
        return LANES_E_NOMEM;
    int64_t r = vm_clone(p->vm, c->vm);
    if (r) {
        kobj_put(&c->obj);
        return r;
    }
    /* the same image, arguments and stack (what process_inspect reports) */
    c->arg_start = p->arg_start;
    c->arg_end = p->arg_end;
    c->argc = p->argc;
    c->stack_start = p->stack_start;
    c->stack_end = p->stack_end;
    c->image_start = p->image_start;
    c->image_end = p->image_end;
    c->entry = p->entry;
    r = htable_copy(&c->handles, &p->handles, omit, nomit);
    if (r) {
        htable_close_all(&c->handles);
        kobj_put(&c->obj);
        return r == LANES_E_NOMEM ? LANES_E_NOMEM : LANES_E_LIMIT;
    }
    int64_t h = handle_install(&p->handles, &c->obj, LANES_RIGHT_ALL);
    if (h < 0) {
        htable_close_all(&c->handles);
        kobj_put(&c->obj);
        return h;
    }
    struct thread *t = thread_create_user(c, 0, 0, 0, 0, NULL);
    if (!t) {
        handle_close(&p->handles, h);
        htable_close_all(&c->handles);
        kobj_put(&c->obj);
        return LANES_E_NOMEM;
    }
    struct regs *cf = (struct regs *)(t->kstack_top - sizeof(struct regs));
    *cf = *user_frame();
    cf->rax = 0;
    t->fs_base = current()->fs_base;
    t->alert_entry = current()->alert_entry;    /* (sys_signal.c: the same image, the same entry) */
    pushcli();
    fpu_save(t->fpu);           /* the caller's live FPU/SSE state (ours until we switch away) */
    popcli();
    uint32_t nreg = 0, npages = 0;
    for (struct vm_region *r2 = c->vm->regions; r2; r2 = r2->next, nreg++)
        npages += (uint32_t)((r2->end - r2->start) / PAGE_SIZE);
    trace_emit_proc_fork(p->pid, c->pid, nreg, npages);
    thread_start(t);
    kobj_put(&c->obj);      /* the handle and the thread keep it */
    return h;
}

SYS(process_exec)
{
    UNUSED_ARGS;
    struct process *p = self();
    struct thread *me = current();
    struct lane_exec_args ea;
    if (copy_from_user(&ea, a0, sizeof ea))
        return LANES_E_FAULT;
    if (ea.image_len == 0 || ea.image_len > PROG_MAX_IMAGE || ea.args_len > PROG_MAX_ARGS || ea.nhandles > MAX_KEEP ||
        ea.argc > PROG_MAX_ARGS / 2 || ea.envc > PROG_MAX_ARGS / 2 || ea.flags)
        return LANES_E_INVAL;
    struct prog_in in;
    int64_t r = prog_copy_in(&in, ea.name, ea.image, ea.image_len, ea.args, ea.args_len, ea.argc, ea.envc,
                             ea.handles, ea.nhandles);
    if (r)
        return r;
    struct lane_spawn_handle *sh = in.sh;
    struct lane_handle_entry *he = in.he;
    struct vmspace *nvm = NULL;
    for (uint32_t i = 0; i < ea.nhandles; i++) {
        struct kobj *o;
        uint32_t have;
        r = handle_get(sh[i].handle, LANES_OBJ_NONE, 0, &o, &have);
        if (r)
            goto out;
        memset(&he[i], 0, sizeof he[i]);
        he[i].handle = sh[i].handle;
        he[i].type = o->type;
        he[i].rights = have;
        memcpy(he[i].tag, sh[i].tag, sizeof he[i].tag);
        he[i].tag[sizeof he[i].tag - 1] = 0;
        kobj_put(o);
    }
    nvm = vm_create();
    if (!nvm) {
        r = LANES_E_NOMEM;
        goto out;
    }
    struct elf_image ei;
    r = elf_load(nvm, in.img, ea.image_len, &ei);
    if (r)
        goto out;
    /* the new image's extent, for process_inspect (sys_inspect.c): every region so far is the ELF's */
    uint64_t img_lo = UINT64_MAX, img_hi = 0;
    for (struct vm_region *vr = nvm->regions; vr; vr = vr->next) {
        img_lo = MIN(img_lo, vr->start);
        img_hi = MAX(img_hi, vr->end);
    }
    struct ustack st;
    r = ustack_map(nvm, in.len, ea.argc, ea.envc, ea.nhandles, &st);
    if (r)
        goto out;
    struct lane_startup s = { .magic = LANES_STARTUP_MAGIC, .argc = ea.argc, .nhandles = ea.nhandles,
                              .pid = p->pid, .tid = me->tid };
    ustack_write(&st, in.args, in.len, ea.argc, ea.envc, he, ea.nhandles, &s);

    /* The point of no return: the other threads end (as a kill ends them: on their way back to
     * user mode, kicked out of any wait), the handles not kept go, the address spaces swap. */
    spin_lock(&p->lock);
    list_for_each(it, &p->threads) {
        struct thread *t = container_of(it, struct thread, proc_link);
        if (t != me)
            t->killed = 1;
    }
    list_for_each(it, &p->threads) {
        struct thread *t = container_of(it, struct thread, proc_link);
        if (t != me)
            thread_kick(t);
    }
    spin_unlock(&p->lock);
    while (__atomic_load_n(&p->nthreads, __ATOMIC_SEQ_CST) > 1) {
        if (me->killed) {
            r = LANES_E_DEAD;       /* the whole process is being killed meanwhile */
            goto out;
        }
        sched_yield();
    }
    spin_lock(&p->handles.lock);
    uint32_t cap = p->handles.cap;              /* (only we, the last thread, can grow it now) */
    spin_unlock(&p->handles.lock);
    for (int i = 0; i < (int)cap; i++) {
        bool keep = false;
        for (uint32_t k = 0; k < ea.nhandles; k++)
            keep |= he[k].handle == i;
        if (!keep)
            handle_close(&p->handles, i);       /* BADHANDLE for a free slot */
    }
    struct vmspace *old = p->vm;
    pushcli();
    __atomic_store_n(&p->vm, nvm, __ATOMIC_SEQ_CST);
    vm_activate(nvm);
    popcli();
    nvm = NULL;
    /* IPC copies that took the old address space (vm_get) before the swap finish first */
    while (__atomic_load_n(&p->vm_refs, __ATOMIC_SEQ_CST) > 1)
        sched_yield();
    vm_destroy(old);
    strlcpy(p->name, in.name, sizeof p->name);
    p->image_start = img_lo == UINT64_MAX ? 0 : img_lo;
    p->image_end = img_hi;
    p->arg_start = st.strings;
    p->arg_end = st.strings + in.len;   /* the argument and environment strings */
    p->argc = ea.argc;
    p->stack_start = st.base;
    p->stack_end = st.base + USTACK_SIZE;
    p->entry = ei.entry;
    struct regs *f = user_frame();
    memset(f, 0, sizeof *f);
    f->rip = ei.entry;
    f->cs = SEL_UCODE;
    f->ss = SEL_UDATA;
    f->rflags = 0x202;
    f->rsp = st.su - 64;
    f->rdi = st.su;
    f->vector = VEC_SYSCALL;
    pushcli();
    me->fs_base = 0;
    me->alert_entry = 0;                        /* the old image's signal entry is gone */
    me->alert_pending = 0;
    set_user_tls(0);
    memcpy(me->fpu, fpu_initial_state, sizeof me->fpu);
    fpu_restore(me->fpu);
    popcli();
    trace_emit_proc_exec(p->pid, (uint32_t)ea.image_len, ei.entry, in.name);
    r = 0;
out:
    if (nvm)
        vm_destroy(nvm);
    prog_free(&in);
    return r;
}
