/*
 * handle.c — kernel objects and per-process handle tables.
 *
 * Every object (process, thread, memory, supervisor, I/O ports, IRQ, system) starts with a
 * struct kobj: a type, a reference count and a destructor. A handle is an index into the
 * owning process's table of LANES_MAX_HANDLES entries, each holding a counted reference and a
 * rights mask. A process can only name objects through its own handles, and duplicating a
 * handle can only drop rights. Lookups return a new reference the caller must put.
 * handle_get / handle_give / handle_check_system are the same operations on the calling
 * process's table: the only way system calls turn a handle number into an object and back.
 */
#include <kernel/kernel.h>

struct system_obj system_object;

void kobj_init(struct kobj *o, uint32_t type, void (*destroy)(struct kobj *))
{
    o->type = type;
    o->refs = 1;
    o->destroy = destroy;
}

void kobj_get(struct kobj *o)
{
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

void kobj_put(struct kobj *o)
{
    int32_t r = __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL);
    if (r == 0 && o->destroy)
        o->destroy(o);
    else if (r < 0)
        panic("kobj_put: negative refcount on a %s object", lanes_obj_name(o->type));
}

void htable_init(struct handle_table *t)
{
    spin_init(&t->lock, "handles");
    memset(t->e, 0, sizeof t->e);
}

/* Takes a new reference to o. */
int64_t handle_install(struct handle_table *t, struct kobj *o, uint32_t rights)
{
    spin_lock(&t->lock);
    for (int i = 0; i < LANES_MAX_HANDLES; i++) {
        if (!t->e[i].obj) {
            kobj_get(o);
            t->e[i].obj = o;
            t->e[i].rights = rights & LANES_RIGHT_ALL;
            spin_unlock(&t->lock);
            return i;
        }
    }
    spin_unlock(&t->lock);
    return LANES_E_LIMIT;
}

int64_t handle_lookup(struct handle_table *t, int64_t h, uint32_t type, uint32_t need, struct kobj **out,
                      uint32_t *rights)
{
    if (h < 0 || h >= LANES_MAX_HANDLES)
        return LANES_E_BADHANDLE;
    spin_lock(&t->lock);
    struct hentry *e = &t->e[h];
    if (!e->obj) {
        spin_unlock(&t->lock);
        return LANES_E_BADHANDLE;
    }
    if (type != LANES_OBJ_NONE && e->obj->type != type) {
        spin_unlock(&t->lock);
        return LANES_E_TYPE;
    }
    if ((e->rights & need) != need) {
        spin_unlock(&t->lock);
        return LANES_E_ACCESS;
    }
    kobj_get(e->obj);
    *out = e->obj;
    if (rights)
        *rights = e->rights;
    spin_unlock(&t->lock);
    return 0;
}

int64_t handle_close(struct handle_table *t, int64_t h)
{
    if (h < 0 || h >= LANES_MAX_HANDLES)
        return LANES_E_BADHANDLE;
    spin_lock(&t->lock);
    struct kobj *o = t->e[h].obj;
    t->e[h].obj = NULL;
    t->e[h].rights = 0;
    spin_unlock(&t->lock);
    if (!o)
        return LANES_E_BADHANDLE;
    kobj_put(o);
    return 0;
}

void htable_close_all(struct handle_table *t)
{
    for (int i = 0; i < LANES_MAX_HANDLES; i++)
        handle_close(t, i);
}

int64_t handle_get(int64_t h, uint32_t type, uint32_t need, struct kobj **out, uint32_t *rights)
{
    /* a handle is 32 bits wide: the upper half of the register is ignored */
    return handle_lookup(&current()->proc->handles, (int32_t)h, type, need, out, rights);
}

int64_t handle_give(struct kobj *o, uint32_t rights)
{
    int64_t h = handle_install(&current()->proc->handles, o, rights);
    kobj_put(o);
    return h;
}

int64_t handle_check_system(int64_t h)
{
    struct kobj *o;
    int64_t r = handle_get(h, LANES_OBJ_SYSTEM, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    kobj_put(o);
    return 0;
}
