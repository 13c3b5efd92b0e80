/* spawn.c — starting programs from the initrd, Helios style.
 *
 * lanes_spawn("prog", argv) finds bin/prog in the initrd (mapped read-only from the "initrd"
 * handle we were given), reads the program's manifest and grants exactly what it declares:
 * an IOPORT capability per `ioport` line and an IRQ capability per `irq` line, both made from
 * our "system" handle, the system handle itself for `system`, and a SYSFS capability
 * (sysfs_grant) per `sysfs PATH` line, tagged "sysfs", "sysfs.1", ... It passes our initrd handle
 * on (so the child can spawn too), then calls sys_process_spawn with an optional supervisor.
 * A program asking for something we cannot grant is not started.
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lanes_mutex_t initrd_lock = LANES_MUTEX_INIT;
static const void *initrd_base;
static size_t initrd_size;

int64_t lanes_initrd(const void **base, size_t *size)
{
    lanes_mutex_lock(&initrd_lock);
    int64_t r = 0;
    if (!initrd_base) {
        int32_t h = lanes_handle_by_tag("initrd");
        struct lane_handle_info info;
        if (h == LANES_HANDLE_NONE) {
            r = LANES_E_NOENT;
        } else if ((r = lanes_sys_handle_info(h, &info)) >= 0) {
            r = lanes_sys_mem_map(h, 0, 0, info.size, LANES_PROT_READ);
            if (r >= 0) {
                initrd_base = (const void *)(uintptr_t)r;
                initrd_size = info.size;
                r = 0;
            }
        }
    }
    lanes_mutex_unlock(&initrd_lock);
    if (r < 0)
        return r;
    *base = initrd_base;
    *size = initrd_size;
    return 0;
}

#define MAX_SPAWN_HANDLES 24

static void set_tag(struct lane_spawn_handle *sh, const char *tag, int index)
{
    memset(sh->tag, 0, sizeof sh->tag);
    if (index > 0)
        snprintf(sh->tag, sizeof sh->tag, "%s.%d", tag, index);
    else
        strlcpy(sh->tag, tag, sizeof sh->tag);
}

int64_t lanes_spawn(const char *prog, int argc, const char *const *argv, const struct lanes_spawn_opts *opts)
{
    static const struct lanes_spawn_opts defaults = { LANES_HANDLE_NONE, NULL, 0, false };
    if (!opts)
        opts = &defaults;
    const void *rd;
    size_t rdsize;
    int64_t r = lanes_initrd(&rd, &rdsize);
    if (r < 0) {
        if (!opts->quiet)
            printf("spawn %s: no initrd handle (%s)\n", prog, lanes_strerror(r));
        return r;
    }
    char path[128];
    snprintf(path, sizeof path, "bin/%s", prog);
    struct ustar_entry e;
    r = ustar_find(rd, rdsize, path, &e);
    if (r < 0) {
        if (!opts->quiet)
            printf("%s: %s\n", prog, r == LANES_E_NOENT ? "no such program in the initrd" : "initrd is corrupt");
        return r;
    }
    return lanes_spawn_image(prog, e.data, e.size, argc, argv, opts);
}

int64_t lanes_spawn_image(const char *prog, const void *image, size_t image_len, int argc, const char *const *argv,
                          const struct lanes_spawn_opts *opts)
{
    return lanes_spawn_image_env(prog, image, image_len, argc, argv, NULL, opts);
}

int64_t lanes_spawn_image_env(const char *prog, const void *image, size_t image_len, int argc, const char *const *argv,
                              const char *const *envp, const struct lanes_spawn_opts *opts)
{
    static const struct lanes_spawn_opts defaults = { LANES_HANDLE_NONE, NULL, 0, false };
    if (!opts)
        opts = &defaults;
    int64_t r = 0;
    struct { const void *data; size_t size; } e = { image, image_len };
    struct manifest m;
    int bad_line = 0;
    r = manifest_of_elf(e.data, e.size, &m, &bad_line);
    if (r < 0) {
        if (!opts->quiet) {
            if (r == LANES_E_BADELF)
                printf("%s: not a valid ELF64 image\n", prog);
            else
                printf("%s: bad manifest line %d\n", prog, bad_line);
        }
        return r;
    }

    struct lane_spawn_handle hs[MAX_SPAWN_HANDLES];
    int32_t created[MAX_SPAWN_HANDLES];
    int nh = 0, ncreated = 0, nio = 0, nirq = 0, nsysfs = 0;
    int32_t initrd = lanes_handle_by_tag("initrd");
    int32_t system = lanes_handle_by_tag("system");
    if (initrd != LANES_HANDLE_NONE) {
        hs[nh].handle = initrd;
        hs[nh].rights = LANES_RIGHT_READ | LANES_RIGHT_MAP | LANES_RIGHT_DUP;
        set_tag(&hs[nh++], "initrd", 0);
    }
    for (int i = 0; i < m.nitems && r >= 0; i++) {
        const struct manifest_item *it = &m.items[i];
        if (it->kind == MANIFEST_PCI)
            continue;           /* what a PCI driver handles: the pci server grants its function's resources */
        if (system == LANES_HANDLE_NONE) {
            if (!opts->quiet)
                printf("%s: its manifest asks for hardware access but %s holds no system capability\n", prog,
                       lanes_progname);
            r = LANES_E_ACCESS;
            break;
        }
        if (nh >= MAX_SPAWN_HANDLES - 1) {
            r = LANES_E_LIMIT;
            break;
        }
        if (it->kind == MANIFEST_SYSTEM) {
            struct lane_handle_info info;
            r = lanes_sys_handle_info(system, &info);
            hs[nh].handle = system;
            hs[nh].rights = r >= 0 ? info.rights : 0;
            set_tag(&hs[nh++], "system", 0);
            continue;
        }
        if (it->kind == MANIFEST_SYSFS) {
            int64_t h = lanes_sys_sysfs_grant(system, it->path, strlen(it->path));
            if (h < 0) {
                if (!opts->quiet)
                    printf("%s: cannot grant sysfs %s: %s\n", prog, it->path, lanes_strerror(h));
                r = h;
                break;
            }
            created[ncreated++] = (int32_t)h;
            hs[nh].handle = (int32_t)h;
            hs[nh].rights = LANES_RIGHT_ALL;
            set_tag(&hs[nh++], "sysfs", nsysfs++);
            continue;
        }
        int64_t h = it->kind == MANIFEST_IOPORT ? lanes_sys_ioport_create(system, it->base, it->count)
                                                : lanes_sys_irq_create(system, it->base);
        if (h < 0) {
            if (!opts->quiet)
                printf("%s: cannot grant %s %u: %s\n", prog, it->kind == MANIFEST_IOPORT ? "ioport" : "irq",
                       it->base, lanes_strerror(h));
            r = h;
            break;
        }
        created[ncreated++] = (int32_t)h;
        hs[nh].handle = (int32_t)h;
        hs[nh].rights = LANES_RIGHT_ALL;
        if (it->kind == MANIFEST_IOPORT)
            set_tag(&hs[nh++], "ioport", nio++);
        else
            set_tag(&hs[nh++], "irq", nirq++);
    }
    for (int i = 0; r >= 0 && i < opts->nextra; i++) {
        if (nh >= MAX_SPAWN_HANDLES) {
            r = LANES_E_LIMIT;
            break;
        }
        hs[nh++] = opts->extra[i];
    }

    if (r >= 0) {
        char args_small[1024];          /* argv and environment strings, back to back */
        char *args = args_small;
        size_t alen = 0, cap = sizeof args_small;
        int envc = 0;
        while (envp && envp[envc])
            envc++;
        if (envc) {
            cap = 0;
            for (int i = 0; i < argc; i++)
                cap += strlen(argv[i]) + 1;
            for (int i = 0; i < envc; i++)
                cap += strlen(envp[i]) + 1;
            args = malloc(cap ? cap : 1);
            if (!args)
                r = LANES_E_NOMEM;
        }
        for (int i = 0; r >= 0 && i < argc + envc; i++) {
            const char *str = i < argc ? argv[i] : envp[i - argc];
            size_t n = strlen(str) + 1;
            if (alen + n > cap) {
                r = LANES_E_RANGE;
                break;
            }
            memcpy(args + alen, str, n);
            alen += n;
        }
        if (r >= 0) {
            const char *name = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
            struct lane_spawn_args sa;
            memset(&sa, 0, sizeof sa);
            sa.image = (uint64_t)(uintptr_t)e.data;
            sa.image_len = e.size;
            sa.name = (uint64_t)(uintptr_t)name;
            sa.args = (uint64_t)(uintptr_t)args;
            sa.args_len = alen;
            sa.argc = (uint32_t)argc;
            sa.nhandles = (uint32_t)nh;
            sa.handles = (uint64_t)(uintptr_t)hs;
            sa.supervisor = opts->supervisor;
            sa.envc = (uint32_t)envc;
            r = lanes_sys_process_spawn(&sa);
            if (r < 0 && !opts->quiet)
                printf("%s: process_spawn failed: %s\n", prog, lanes_strerror(r));
        }
        if (args != args_small)
            free(args);
    }
    for (int i = 0; i < ncreated; i++)
        lanes_sys_handle_close(created[i]);
    return r;
}

int64_t lanes_wait(int32_t proc, struct lane_exit_info *info, uint64_t timeout_ns)
{
    memset(info, 0, sizeof *info);
    return lanes_sys_process_wait(proc, info, timeout_ns);
}

static const char *fault_words(uint32_t fault)
{
    switch (fault) {
    case LANES_FAULT_KIND_PAGE: return "page fault";
    case LANES_FAULT_KIND_GPF: return "general protection fault";
    case LANES_FAULT_KIND_UD: return "invalid opcode";
    case LANES_FAULT_KIND_DIV: return "divide error";
    default: return "CPU exception";
    }
}

void lanes_describe_exit(const struct lane_exit_info *info, char *buf, size_t size)
{
    switch (info->state) {
    case LANES_PROC_STATE_EXITED:
        snprintf(buf, size, "exited with status %d", info->code);
        break;
    case LANES_PROC_STATE_KILLED:
        snprintf(buf, size, "killed (code %d)", info->code);
        break;
    case LANES_PROC_STATE_FAULTED:
        snprintf(buf, size, "faulted: %s (%s, vector %u) at address 0x%llx, rip 0x%llx, error code 0x%llx",
                 fault_words(info->fault), lanes_fault_kind_name(info->fault), info->vector,
                 (unsigned long long)info->fault_addr, (unsigned long long)info->rip,
                 (unsigned long long)info->error_code);
        break;
    default:
        snprintf(buf, size, "still running");
        break;
    }
}

void lanes_describe_notification(const struct lane_notification *n, char *buf, size_t size)
{
    char name[sizeof n->name + 1];
    memcpy(name, n->name, sizeof n->name);
    name[sizeof n->name] = 0;
    if (n->kind == LANES_NOTIFY_KIND_FAULTED)
        snprintf(buf, size,
                 "process %s (pid %u, tid %u) faulted: %s (%s, vector %u) at address 0x%llx, rip 0x%llx, error code 0x%llx",
                 name, n->pid, n->tid, fault_words(n->fault), lanes_fault_kind_name(n->fault), n->vector,
                 (unsigned long long)n->fault_addr, (unsigned long long)n->rip, (unsigned long long)n->error_code);
    else if (n->kind == LANES_NOTIFY_KIND_EXITED)
        snprintf(buf, size, "process %s (pid %u) exited with status %d", name, n->pid, n->code);
    else
        snprintf(buf, size, "process %s (pid %u) was killed (code %d)", name, n->pid, n->code);
}
