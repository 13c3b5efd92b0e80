/*
 * spawn.c — making a process run: image, stack, startup block, handles, first thread.
 *
 * The initial stack (USTACK_SIZE, 512 KiB, so at least 256 KiB stay free below the startup
 * block) ends at STACK_TOP. At its top the kernel writes, from high to low: the argument and
 * environment strings, argv[] (argc pointers + NULL), envp[] (envc + NULL), the
 * lane_handle_entry array and the lane_startup structure; rsp is 16-byte aligned below that
 * and rdi points at lane_startup. ustack_map/ustack_write build it for a spawned process and
 * for execve's new image alike (sys_fork.c).
 * With `caller`, the handle the spawner gets is installed there before the first thread is
 * created, so a spawn that cannot return a handle (LIMIT) never runs the process.
 */
#include <kernel/kernel.h>
#include <kernel/sysfs.h>

#define STACK_TOP  0x00007fff00000000ULL

static void mo_write(struct memobj *mo, uint64_t off, const void *src, uint64_t n)
{
    const uint8_t *s = src;
    while (n) {
        uint64_t pg = off / PAGE_SIZE, po = off % PAGE_SIZE, chunk = MIN(n, PAGE_SIZE - po);
        memcpy((uint8_t *)P2V(mo->pages[pg]) + po, s, chunk);
        off += chunk;
        s += chunk;
        n -= chunk;
    }
}

/* Maps the stack and lays it out for args_len bytes of strings (argc + envc of them) and
 * nhandles handle entries; makes the pages from the startup block up, so ustack_write cannot
 * fail. NOMEM when they do not fit or there is no memory (the mapping then goes with vm). */
int64_t ustack_map(struct vmspace *vm, uint64_t args_len, uint32_t argc, uint32_t envc, uint32_t nhandles,
                   struct ustack *st)
{
    struct memobj *mo = memobj_create_lazy(USTACK_SIZE / PAGE_SIZE);     /* demand-zero but the top */
    uint64_t mo_base = STACK_TOP - USTACK_SIZE;
    if (!mo || vm_map_private(vm, mo, mo_base, 0, USTACK_SIZE, LANES_PROT_READ | LANES_PROT_WRITE, &st->base)) {
        if (mo)
            kobj_put(&mo->obj);
        return LANES_E_NOMEM;
    }
    kobj_put(&mo->obj);         /* the mapping keeps it */
    st->mo = mo;
    st->strings = ALIGN_DOWN(STACK_TOP - args_len, 8);
    st->argv = ALIGN_DOWN(st->strings - (argc + 1 + envc + 1) * 8ULL, 16);
    st->envp = st->argv + (argc + 1) * 8ULL;
    st->hent = ALIGN_DOWN(st->argv - nhandles * sizeof(struct lane_handle_entry), 16);
    st->su = ALIGN_DOWN(st->hent - sizeof(struct lane_startup), 16);
    if (args_len > USTACK_SIZE / 2 || st->su < mo_base + PAGE_SIZE ||
        memobj_fill(mo, st->su - mo_base, NULL, STACK_TOP - st->su))
        return LANES_E_NOMEM;
    return 0;
}

/* Writes the strings, argv[] and envp[] pointing into them, the handle entries and the startup
 * block (s: its layout fields filled in here) where ustack_map put them. */
void ustack_write(const struct ustack *st, const char *args, uint64_t args_len, uint32_t argc, uint32_t envc,
                  const struct lane_handle_entry *he, uint32_t nhandles, struct lane_startup *s)
{
    uint64_t mo_base = STACK_TOP - USTACK_SIZE, pos = 0, zero = 0;
    mo_write(st->mo, st->strings - mo_base, args, args_len);
    for (uint32_t i = 0; i < argc + envc; i++) {
        uint64_t ptr = st->strings + pos;
        uint64_t slot = i < argc ? st->argv + i * 8ULL : st->envp + (i - argc) * 8ULL;
        mo_write(st->mo, slot - mo_base, &ptr, 8);
        pos += strnlen(args + pos, args_len - pos) + 1;
    }
    mo_write(st->mo, st->argv + argc * 8ULL - mo_base, &zero, 8);
    mo_write(st->mo, st->envp + envc * 8ULL - mo_base, &zero, 8);
    mo_write(st->mo, st->hent - mo_base, he, nhandles * sizeof *he);
    s->argv = st->argv;
    s->envp = envc ? st->envp : 0;
    s->handles = st->hent;
    s->stack_base = st->base;
    s->stack_size = USTACK_SIZE;
    mo_write(st->mo, st->su - mo_base, s, sizeof *s);
}

int64_t process_spawn_image(struct process *parent, const uint8_t *img, uint64_t len, const char *name,
                            const char *args, uint64_t args_len, uint32_t argc, uint32_t envc,
                            struct lane_handle_entry *handles, struct kobj **objs, uint32_t nhandles,
                            struct supervisor *sup, struct handle_table *caller, int64_t *handle,
                            struct process **out)
{
    (void)parent;
    struct process *p = process_create(name, sup);
    if (!p)
        return LANES_E_NOMEM;
    struct elf_image ei;
    int64_t r = elf_load(p->vm, img, len, &ei);
    if (r) {
        kobj_put(&p->obj);
        return r;
    }
    struct ustack st;
    r = ustack_map(p->vm, args_len, argc, envc, nhandles, &st);
    if (r) {
        kobj_put(&p->obj);      /* (arguments that do not fit, or no memory for the pages they go in) */
        return r;
    }
    /* the image's extent: every region mapped before the stack came from the ELF */
    p->image_start = UINT64_MAX;
    for (struct vm_region *vr = p->vm->regions; vr; vr = vr->next)
        if (vr->start != st.base) {
            p->image_start = MIN(p->image_start, vr->start);
            p->image_end = MAX(p->image_end, vr->end);
        }
    if (p->image_start == UINT64_MAX)
        p->image_start = 0;
    for (uint32_t i = 0; i < nhandles; i++) {
        int64_t h = handle_install(&p->handles, objs[i], handles[i].rights);
        if (h < 0) {
            kobj_put(&p->obj);
            return h;
        }
        handles[i].handle = (int32_t)h;
        handles[i].type = objs[i]->type;
    }
    driver_node_add(p, objs, nhandles);   /* a driver: /sys/drivers/NAME.PID */
    /* The caller's handle to it exists before its first thread does: with a full handle table
     * the spawn fails whole, instead of starting a process nobody can wait for or kill. */
    int64_t h = caller ? handle_install(caller, &p->obj, LANES_RIGHT_ALL) : 0;
    if (h < 0) {
        htable_close_all(&p->handles);
        kobj_put(&p->obj);
        return h;
    }
    struct thread *t = thread_create_user(p, ei.entry, st.su - 64, st.su, 0, NULL);
    if (!t) {
        if (caller)
            handle_close(caller, h);
        htable_close_all(&p->handles);
        kobj_put(&p->obj);
        return LANES_E_NOMEM;
    }
    if (handle)
        *handle = h;
    struct lane_startup s = { .magic = LANES_STARTUP_MAGIC, .argc = argc, .nhandles = nhandles,
                              .pid = p->pid, .tid = t->tid };
    ustack_write(&st, args, args_len, argc, envc, handles, nhandles, &s);
    p->arg_start = st.strings;
    p->arg_end = st.strings + args_len;
    p->argc = argc;
    p->stack_start = st.base;
    p->stack_end = st.base + USTACK_SIZE;
    p->entry = ei.entry;
    pr_debug("spawned pid %u (%s) entry 0x%lx on cpu%u", p->pid, p->name, ei.entry, t->cpu->id);
    thread_start(t);
    *out = p;
    return 0;
}
