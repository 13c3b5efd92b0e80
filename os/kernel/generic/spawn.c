/*
 * spawn.c — making a process run: image, stack, startup block, handles, first thread.
 *
 * The initial stack (512 KiB, so at least 256 KiB stay free below the startup block) ends at
 * STACK_TOP. At its top the kernel writes, from high to low: the argument strings, argv[]
 * (argc pointers + NULL), the lane_handle_entry array and the lane_startup structure; rsp is
 * 16-byte aligned below that and rdi points at lane_startup.
 * With `caller`, the handle the spawner gets is installed there before the first thread is
 * created, so a spawn that cannot return a handle (LIMIT) never runs the process.
 */
#include <kernel/kernel.h>
#include <kernel/sysfs.h>

#define STACK_TOP  0x00007fff00000000ULL
#define STACK_SIZE (512ULL * 1024)

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
    struct memobj *stack = memobj_create_lazy(STACK_SIZE / PAGE_SIZE);     /* demand-zero but the top */
    uint64_t base;
    if (!stack || vm_map_private(p->vm, stack, STACK_TOP - STACK_SIZE, 0, STACK_SIZE,
                         LANES_PROT_READ | LANES_PROT_WRITE, &base)) {
        if (stack)
            kobj_put(&stack->obj);
        kobj_put(&p->obj);
        return LANES_E_NOMEM;
    }
    kobj_put(&stack->obj);
    /* the image's extent: every region mapped before the stack came from the ELF */
    p->image_start = UINT64_MAX;
    for (struct vm_region *vr = p->vm->regions; vr; vr = vr->next)
        if (vr->start != base) {
            p->image_start = MIN(p->image_start, vr->start);
            p->image_end = MAX(p->image_end, vr->end);
        }
    if (p->image_start == UINT64_MAX)
        p->image_start = 0;

    /* Layout from the top of the stack down. */
    uint64_t strings = ALIGN_DOWN(STACK_TOP - args_len, 8);
    uint64_t argv = ALIGN_DOWN(strings - (argc + 1 + envc + 1) * 8ULL, 16);
    uint64_t envp = argv + (argc + 1) * 8ULL;
    uint64_t hent = ALIGN_DOWN(argv - nhandles * sizeof(struct lane_handle_entry), 16);
    uint64_t su = ALIGN_DOWN(hent - sizeof(struct lane_startup), 16);
    uint64_t rsp = su - 64;
    uint64_t mo_base = STACK_TOP - STACK_SIZE;
    if (su < mo_base + PAGE_SIZE || memobj_fill(stack, su - mo_base, NULL, STACK_TOP - su)) {
        kobj_put(&p->obj);      /* (arguments that do not fit, or no memory for the pages they go in) */
        return LANES_E_NOMEM;
    }

    mo_write(stack, strings - mo_base, args, args_len);
    uint64_t pos = 0;
    for (uint32_t i = 0; i < argc + envc; i++) {
        uint64_t ptr = strings + pos;
        uint64_t slot = i < argc ? argv + i * 8ULL : envp + (i - argc) * 8ULL;
        mo_write(stack, slot - mo_base, &ptr, 8);
        pos += strnlen(args + pos, args_len - pos) + 1;
    }
    uint64_t zero = 0;
    mo_write(stack, argv + argc * 8ULL - mo_base, &zero, 8);
    mo_write(stack, envp + envc * 8ULL - mo_base, &zero, 8);
    for (uint32_t i = 0; i < nhandles; i++) {
        int64_t h = handle_install(&p->handles, objs[i], handles[i].rights);
        if (h < 0) {
            kobj_put(&p->obj);
            return h;
        }
        handles[i].handle = (int32_t)h;
        handles[i].type = objs[i]->type;
        mo_write(stack, hent + i * sizeof(struct lane_handle_entry) - mo_base, &handles[i], sizeof handles[i]);
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
    struct thread *t = thread_create_user(p, ei.entry, rsp, su, 0, NULL);
    if (!t) {
        if (caller)
            handle_close(caller, h);
        htable_close_all(&p->handles);
        kobj_put(&p->obj);
        return LANES_E_NOMEM;
    }
    if (handle)
        *handle = h;
    struct lane_startup s = {
        .magic = LANES_STARTUP_MAGIC,
        .argc = argc,
        .nhandles = nhandles,
        .argv = argv,
        .envp = envc ? envp : 0,
        .handles = hent,
        .pid = p->pid,
        .tid = t->tid,
        .stack_base = base,
        .stack_size = STACK_SIZE,
    };
    mo_write(stack, su - mo_base, &s, sizeof s);
    p->arg_start = strings;
    p->arg_end = strings + args_len;
    p->argc = argc;
    p->stack_start = base;
    p->stack_end = base + STACK_SIZE;
    p->entry = ei.entry;
    pr_debug("spawned pid %u (%s) entry 0x%lx on cpu%u", p->pid, p->name, ei.entry, t->cpu->id);
    thread_start(t);
    *out = p;
    return 0;
}
