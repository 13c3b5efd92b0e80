/*
 * sys_process.c — the process and supervisor system calls: process_spawn, process_kill,
 * process_wait, process_self, getpid, supervisor_create, supervisor_recv.
 *
 * process_spawn copies the image, the argument strings and the handles to pass from the
 * caller (each with the rights the caller has, at most; DUP needed), then spawn.c builds the
 * process. process_wait returns when the process has ended for good or stopped after a fault
 * its supervisor was told of; supervisor_recv hands out those notifications (process.c).
 */
#include <kernel/kernel.h>
#include "syscall.h"

#define MAX_SPAWN_HANDLES 64

/* Everything below fails cleanly: FAULT for memory the caller cannot read, INVAL for strings
 * that overrun args_len, NOMEM; the copies made so far are freed (prog_free). */
int64_t prog_copy_in(struct prog_in *in, uint64_t name, uint64_t image, uint64_t image_len, uint64_t args,
                     uint64_t args_len, uint32_t argc, uint32_t envc, uint64_t handles, uint32_t nhandles)
{
    memset(in, 0, sizeof *in);
    if (!user_range_ok(image, image_len) || !user_range_ok(args, args_len))
        return LANES_E_FAULT;
    int64_t r = strncpy_from_user(in->name, name, sizeof in->name);    /* (its length, or an error) */
    if (r == LANES_E_RANGE)
        in->name[sizeof in->name - 1] = 0;
    else if (r < 0)
        return r;
    r = 0;
    in->args = kmalloc(args_len + 1);
    in->img = kmalloc(image_len);
    in->sh = kmalloc((nhandles + 1) * sizeof *in->sh);
    in->he = kmalloc((nhandles + 1) * sizeof *in->he);
    if (!in->args || !in->img || !in->sh || !in->he)
        r = LANES_E_NOMEM;
    else if (copy_from_user(in->args, args, args_len) || copy_from_user(in->img, image, image_len) ||
             copy_from_user(in->sh, handles, nhandles * sizeof *in->sh))
        r = LANES_E_FAULT;
    for (uint32_t i = 0; r == 0 && i < argc + envc; i++) {
        uint64_t l = strnlen(in->args + in->len, args_len - in->len);
        if (in->len + l >= args_len)
            r = LANES_E_INVAL;
        else
            in->len += l + 1;
    }
    if (r)
        prog_free(in);
    return r;
}

void prog_free(struct prog_in *in)
{
    kfree(in->args);
    kfree(in->img);
    kfree(in->sh);
    kfree(in->he);
    memset(in, 0, sizeof *in);
}

SYS(process_spawn)
{
    UNUSED_ARGS;
    struct lane_spawn_args sa;
    if (copy_from_user(&sa, a0, sizeof sa))
        return LANES_E_FAULT;
    if (sa.image_len == 0 || sa.image_len > PROG_MAX_IMAGE || sa.args_len > PROG_MAX_ARGS ||
        sa.nhandles > MAX_SPAWN_HANDLES || sa.argc > PROG_MAX_ARGS / 2 || sa.envc > PROG_MAX_ARGS / 2 || sa.flags ||
        sa.reserved)
        return LANES_E_INVAL;
    struct prog_in in;
    int64_t r = prog_copy_in(&in, sa.name, sa.image, sa.image_len, sa.args, sa.args_len, sa.argc, sa.envc,
                             sa.handles, sa.nhandles);
    if (r)
        return r;
    struct lane_spawn_handle *sh = in.sh;
    struct lane_handle_entry *he = in.he;
    struct kobj *supo = NULL;
    uint32_t nobjs = 0;
    struct kobj **objs = kmalloc((sa.nhandles + 1) * sizeof *objs);
    if (!objs) {
        r = LANES_E_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < sa.nhandles; i++) {
        uint32_t have;
        r = handle_get(sh[i].handle, LANES_OBJ_NONE, LANES_RIGHT_DUP, &objs[i], &have);
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
        r = handle_get(sa.supervisor, LANES_OBJ_SUPERVISOR, 0, &supo, NULL);
        if (r)
            goto out;
        sup = container_of(supo, struct supervisor, obj);
    }
    struct process *child;
    int64_t h;
    r = process_spawn_image(self(), in.img, sa.image_len, in.name, in.args, in.len, sa.argc, sa.envc, he, objs,
                            sa.nhandles, sup, &self()->handles, &h, &child);
    if (r == 0) {
        kobj_put(&child->obj);
        r = h;
    }
out:
    for (uint32_t i = 0; i < nobjs; i++)
        kobj_put(objs[i]);
    if (supo)
        kobj_put(supo);
    kfree(objs);
    prog_free(&in);
    return r;
}

SYS(process_kill)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_PROCESS, LANES_RIGHT_CONTROL, &o, NULL);
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
    int64_t r = handle_get(a0, LANES_OBJ_PROCESS, LANES_RIGHT_WAIT, &o, NULL);
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
     * failed), or is stopped after a fault its supervisor was told of — until someone kills it:
     * then (ending) the wait is for its end, so a supervisor that kills and waits before a
     * restart knows the old instance's capabilities (IRQ lines, ports) are closed. */
#define WAIT_DONE(p) ((p)->finished || ((p)->state == LANES_PROC_STATE_FAULTED && (p)->sup && !(p)->ending))
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

SYS(process_self)
{
    UNUSED_ARGS;
    kobj_get(&self()->obj);
    return handle_give(&self()->obj, LANES_RIGHT_ALL);
}

SYS(supervisor_create)
{
    UNUSED_ARGS;
    struct supervisor *s = supervisor_create();
    if (!s)
        return LANES_E_NOMEM;
    return handle_give(&s->obj, LANES_RIGHT_ALL);
}

SYS(supervisor_recv)
{
    UNUSED_ARGS;
    struct kobj *o;
    int64_t r = handle_get(a0, LANES_OBJ_SUPERVISOR, LANES_RIGHT_WAIT, &o, NULL);
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
    if (!got) {
        kobj_put(o);
        return r ? r : LANES_E_TIMEOUT;
    }
    /* The buffer was checked above, but another thread may have unmapped it while we waited:
     * then the notification goes back to the head of the queue (it is the oldest; if the queue
     * filled up meanwhile it is the one the drop-oldest policy drops) for the next receiver. */
    r = copy_to_user(a1, &n, sizeof n);
    if (r) {
        spin_lock(&s->lock);
        if (s->count < (int)ARRAY_SIZE(s->q)) {
            s->head = (s->head + (int)ARRAY_SIZE(s->q) - 1) % (int)ARRAY_SIZE(s->q);
            s->q[s->head] = n;
            s->count++;
            wake_all(&s->wq);
        } else {
            s->dropped++;
        }
        spin_unlock(&s->lock);
    }
    kobj_put(o);
    return r;
}
