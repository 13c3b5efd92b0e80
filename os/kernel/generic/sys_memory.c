/*
 * sys_memory.c — the handle, memory and futex system calls: handle_dup, handle_close,
 * handle_info, mem_create, mem_map, mem_unmap, mem_protect, mem_check, futex_wait, futex_wake.
 *
 * A duplicate can only lose rights. A memory object is at most 1 GiB; mapping it needs MAP and
 * READ/WRITE as the protection asks (an anonymous mapping, handle NONE, makes a fresh private
 * object: demand paged, copy-on-write across fork);
 * vm.c places and unmaps regions, futex.c keys waiters by physical address.
 */
#include <kernel/kernel.h>
#include "syscall.h"

SYS(handle_dup)
{
    UNUSED_ARGS;
    struct kobj *o;
    uint32_t have;
    int64_t r = handle_get(a0, LANES_OBJ_NONE, LANES_RIGHT_DUP, &o, &have);
    if (r)
        return r;
    return handle_give(o, (uint32_t)a1 & have);
}

SYS(handle_close) { UNUSED_ARGS; return handle_close(&self()->handles, (int32_t)a0); }

SYS(handle_info)
{
    UNUSED_ARGS;
    struct kobj *o;
    uint32_t have;
    int64_t r = handle_get(a0, LANES_OBJ_NONE, 0, &o, &have);
    if (r)
        return r;
    struct lane_handle_info hi = { .type = o->type, .rights = have };
    if (o->type == LANES_OBJ_MEMORY)
        hi.size = container_of(o, struct memobj, obj)->npages * PAGE_SIZE;
    else if (o->type == LANES_OBJ_PROCESS)
        hi.size = container_of(o, struct process, obj)->pid;   /* the POSIX server's pids */
    kobj_put(o);
    return copy_to_user(a1, &hi, sizeof hi);
}

#define MAX_MEM (1ULL << 30)

SYS(mem_create)
{
    UNUSED_ARGS;
    if (a0 == 0 || (a1 & ~(uint64_t)(LANES_MEMFLAG_ZERO | LANES_MEMFLAG_OWNER_WAKE)))
        return LANES_E_INVAL;
    if (a0 > MAX_MEM)
        return LANES_E_NOMEM;
    struct memobj *m = memobj_create(ALIGN_UP(a0, PAGE_SIZE) / PAGE_SIZE);
    if (!m)
        return LANES_E_NOMEM;
    if (a1 & LANES_MEMFLAG_OWNER_WAKE)
        memobj_set_owner(m, self());
    return handle_give(&m->obj, LANES_RIGHT_ALL);
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
        m = memobj_create_lazy(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);   /* demand paged */
        if (!m)
            return LANES_E_NOMEM;
    } else {
        struct kobj *o;
        uint32_t need = LANES_RIGHT_MAP;
        if (prot & LANES_PROT_WRITE)
            need |= LANES_RIGHT_WRITE;
        if (prot & (LANES_PROT_READ | LANES_PROT_EXEC))
            need |= LANES_RIGHT_READ;
        int64_t r = handle_get(h, LANES_OBJ_MEMORY, need, &o, NULL);
        if (r)
            return r;
        m = container_of(o, struct memobj, obj);
    }
    uint64_t addr;
    int64_t r = h == LANES_HANDLE_NONE ? vm_map_private(self()->vm, m, hint, off, len, prot, &addr)
                                       : vm_map(self()->vm, m, hint, off, len, prot, &addr);
    kobj_put(&m->obj);
    return r ? r : (int64_t)addr;
}

SYS(mem_unmap) { UNUSED_ARGS; return vm_unmap(self()->vm, a0, a1); }
SYS(mem_check) { UNUSED_ARGS; return user_check(a0, a1, a2 != 0); }
SYS(mem_protect) { UNUSED_ARGS; return vm_protect(self()->vm, a0, a1, (uint32_t)a2); }
HOT SYS(futex_wait) { UNUSED_ARGS; return futex_wait(a0, (uint32_t)a1, a2); }
HOT SYS(futex_wake) { UNUSED_ARGS; return futex_wake(a0, (uint32_t)a1); }
