/*
 * handle.c — kernel objects and per-process handle tables.
 *
 * Every object (process, thread, memory, supervisor, I/O ports, IRQ, system) starts with a
 * struct kobj: a type, a reference count and a destructor. A handle is an index into the
 * owning process's table, each entry holding a counted reference and a rights mask. A table
 * starts with HTABLE_FIRST entries inside the process and doubles (a kmalloc'd array) when it is
 * full, up to LANES_MAX_HANDLES; then installing fails LIMIT. (It was a fixed array of 256: the
 * POSIX server, which holds a lane and a PROCESS handle per process, ran out at about 70
 * processes.) A process can only name objects through its own handles, and duplicating a
 * handle can only drop rights. Lookups return a new reference the caller must put.
 * handle_get / handle_give / handle_check_system are the same operations on the calling
 * process's table: the only way system calls turn a handle number into an object and back.
 */
#include <kernel/kernel.h>

struct system_obj system_object;

/* Objects alive, per type (those with a destructor: the static ones never go), shown as
 * /sys/kernel/mm/objects/TYPE — what a leak check names when memory does not come back. */
static uint32_t live_objs[KOBJ_TYPES];

void kobj_init(struct kobj *o, uint32_t type, void (*destroy)(struct kobj *))
{
    o->type = type;
    o->refs = 1;
    o->destroy = destroy;
    if (destroy && type < KOBJ_TYPES)
        __atomic_add_fetch(&live_objs[type], 1, __ATOMIC_RELAXED);
}

uint32_t kobj_live(uint32_t type)
{
    return type < KOBJ_TYPES ? __atomic_load_n(&live_objs[type], __ATOMIC_RELAXED) : 0;
}

void kobj_get(struct kobj *o)
{
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

void kobj_put(struct kobj *o)
{
    int32_t r = __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL);
    if (r == 0 && o->destroy) {
        if (o->type < KOBJ_TYPES)
            __atomic_sub_fetch(&live_objs[o->type], 1, __ATOMIC_RELAXED);
        o->destroy(o);
    }
    else if (r < 0)
        panic("kobj_put: negative refcount on a %s object", lanes_obj_name(o->type));
}

void htable_init(struct handle_table *t)
{
    spin_init(&t->lock, "handles");
    memset(t->first, 0, sizeof t->first);
    t->e = t->first;
    t->cap = HTABLE_FIRST;
}

void htable_free(struct handle_table *t)
{
    spin_lock(&t->lock);
    struct hentry *e = t->e;
    t->e = t->first;
    t->cap = HTABLE_FIRST;
    memset(t->first, 0, sizeof t->first);
    spin_unlock(&t->lock);
    if (e != t->first)
        kfree(e);
}

/* Grows t to hold at least want entries (doubling; at most LANES_MAX_HANDLES). The array is
 * allocated without the lock held; whoever grew it meanwhile wins and ours is freed. */
int64_t htable_reserve(struct handle_table *t, uint32_t want)
{
    if (want > LANES_MAX_HANDLES)
        return LANES_E_LIMIT;
    for (;;) {
        spin_lock(&t->lock);
        uint32_t cap = t->cap;
        spin_unlock(&t->lock);
        if (cap >= want)
            return 0;
        uint32_t ncap = cap;
        while (ncap < want)
            ncap *= 2;
        if (ncap > LANES_MAX_HANDLES)
            ncap = LANES_MAX_HANDLES;
        struct hentry *n = kmalloc(ncap * sizeof *n);      /* zeroed */
        if (!n)
            return LANES_E_NOMEM;
        spin_lock(&t->lock);
        struct hentry *old = NULL;
        if (t->cap == cap) {
            memcpy(n, t->e, cap * sizeof *n);
            old = t->e;
            t->e = n;
            t->cap = ncap;
            n = NULL;
        }
        spin_unlock(&t->lock);
        if (n)
            kfree(n);
        if (old && old != t->first)
            kfree(old);
    }
}

/* Takes a new reference to o. */
int64_t handle_install(struct handle_table *t, struct kobj *o, uint32_t rights)
{
    for (;;) {
        spin_lock(&t->lock);
        uint32_t cap = t->cap;
        for (uint32_t i = 0; i < cap; i++) {
            if (!t->e[i].obj) {
                kobj_get(o);
                t->e[i].obj = o;
                t->e[i].rights = rights & LANES_RIGHT_ALL;
                spin_unlock(&t->lock);
                return i;
            }
        }
        spin_unlock(&t->lock);
        if (cap >= LANES_MAX_HANDLES)
            return LANES_E_LIMIT;
        int64_t r = htable_reserve(t, cap * 2);
        if (r)
            return r == LANES_E_NOMEM ? LANES_E_LIMIT : r;     /* no memory for a bigger table: full */
    }
}

/* fork: every handle of src, under the same number, except those in omit. */
int64_t htable_copy(struct handle_table *dst, struct handle_table *src, const int32_t *omit, uint32_t nomit)
{
    for (;;) {
        spin_lock(&src->lock);
        uint32_t cap = src->cap;
        spin_unlock(&src->lock);
        int64_t r = htable_reserve(dst, cap);
        if (r)
            return r;
        spin_lock(&src->lock);
        if (src->cap > dst->cap) {              /* grew meanwhile */
            spin_unlock(&src->lock);
            continue;
        }
        spin_lock(&dst->lock);
        for (uint32_t i = 0; i < src->cap; i++) {
            if (!src->e[i].obj)
                continue;
            bool skip = false;
            for (uint32_t k = 0; k < nomit; k++)
                skip |= omit[k] == (int32_t)i;
            if (skip)
                continue;
            kobj_get(src->e[i].obj);
            dst->e[i] = src->e[i];
        }
        spin_unlock(&dst->lock);
        spin_unlock(&src->lock);
        return 0;
    }
}

/* Under t->lock: the checks of handle_lookup, without taking a reference. */
static int64_t lookup_locked(struct handle_table *t, int64_t h, uint32_t type, uint32_t need, struct hentry **out)
{
    if (h < 0 || h >= LANES_MAX_HANDLES || h >= t->cap)
        return LANES_E_BADHANDLE;
    struct hentry *e = &t->e[h];
    if (!e->obj)
        return LANES_E_BADHANDLE;
    if (type != LANES_OBJ_NONE && e->obj->type != type)
        return LANES_E_TYPE;
    if ((e->rights & need) != need)
        return LANES_E_ACCESS;
    *out = e;
    return 0;
}

int64_t handle_lookup(struct handle_table *t, int64_t h, uint32_t type, uint32_t need, struct kobj **out,
                      uint32_t *rights)
{
    if (h < 0 || h >= LANES_MAX_HANDLES)
        return LANES_E_BADHANDLE;
    struct hentry *e;
    spin_lock(&t->lock);
    int64_t r = lookup_locked(t, h, type, need, &e);
    if (!r) {
        kobj_get(e->obj);
        *out = e->obj;
        if (rights)
            *rights = e->rights;
    }
    spin_unlock(&t->lock);
    return r;
}

/* Two handles of the calling process at once (one lock: an IPC submission names a lane and a
 * queue): the first one's error wins, as two handle_get calls in that order would give. */
int64_t handle_get2(int64_t h1, uint32_t type1, uint32_t need1, struct kobj **out1,
                    int64_t h2, uint32_t type2, uint32_t need2, struct kobj **out2)
{
    struct handle_table *t = &current()->proc->handles;
    struct hentry *e1, *e2;
    spin_lock(&t->lock);
    int64_t r = lookup_locked(t, (int32_t)h1, type1, need1, &e1);
    if (!r)
        r = lookup_locked(t, (int32_t)h2, type2, need2, &e2);
    if (!r) {
        kobj_get(e1->obj);
        kobj_get(e2->obj);
        *out1 = e1->obj;
        *out2 = e2->obj;
    }
    spin_unlock(&t->lock);
    return r;
}

int64_t handle_close(struct handle_table *t, int64_t h)
{
    if (h < 0 || h >= LANES_MAX_HANDLES)
        return LANES_E_BADHANDLE;
    spin_lock(&t->lock);
    if (h >= t->cap) {
        spin_unlock(&t->lock);
        return LANES_E_BADHANDLE;
    }
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
    spin_lock(&t->lock);
    uint32_t cap = t->cap;
    spin_unlock(&t->lock);
    for (uint32_t i = 0; i < cap; i++)
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
