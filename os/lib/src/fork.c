/*
 * fork.c — fork, execve and anonymous memory (mmap, munmap, mprotect) over the kernel's
 * process_fork / process_exec / mem_* calls and the POSIX server (posix.Fork, posix.Exec).
 *
 * fork():
 *     parent                                   child
 *     lanes_stream(a, b)
 *     process_fork(omit: posix lane, a) ---->  (same memory copy-on-write, same handle numbers,
 *                                               no copy of our posix lane or of a)
 *     posix.Fork{pid} push a, PROCESS          __posix_fork_child(b): b is its posix lane; fresh
 *       (server: new entry, fd table copy)       completion queues; then posix.GetIds, which the
 *     returns pid                                server answers once registered (a refused child
 *                                                 ends with 127 before running user code)
 * execve(): the file is read through the file system (open, then one fs.Load for all of it, as
 * posix_spawn does: posix.c's read_file), its ELF header checked (ENOEXEC), then posix.Exec
 * closes the close-on-exec fds (the file's own among them) and process_exec replaces the image,
 * keeping our lanes to posix, the console, mbus and the supervisor (by tag, under the same
 * numbers). argv and envp go to the new image (lane_startup.envp: environ).
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/console.h>
#include <lanes/ipc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "signal_internal.h"

/* posix.c, console.c, mbus.c */
void __posix_lock(void);
void __posix_unlock(void);
int32_t __posix_lane(void);
int64_t __posix_request(const void *msg, size_t len, const void *data, size_t dlen, const int32_t *push, int npush);
void __posix_add_kid(pid_t pid, int32_t proc);
void __posix_forget_all(void);
void __posix_fork_child(int32_t lane);
int __posix_read_file(const char *path, uint8_t **out, size_t *len, void **mem, int *fdp);
void __console_fork_child(void);
void __mbus_fork_child(void);

static char *no_env[1];
char **environ = no_env;

static int fail(int e)
{
    errno = e;
    return -1;
}

static int kerr(int64_t r)
{
    switch (r) {
    case LANES_E_NOMEM: return ENOMEM;
    case LANES_E_LIMIT: return EAGAIN;
    case LANES_E_FAULT: return EFAULT;
    case LANES_E_BADELF: return ENOEXEC;
    case LANES_E_BUSY: return EBUSY;
    case LANES_E_INVAL: return EINVAL;
    case LANES_E_EXISTS: return EEXIST;
    default: return EIO;
    }
}

pid_t fork(void)
{
    __posix_lock();
    int32_t plane = __posix_lane();
    __posix_unlock();
    if (plane == LANES_HANDLE_NONE)
        return fail(ENOSYS);
    lanes_console_flush();              /* no console write of ours in flight in both */
    int32_t l[2];
    if (lanes_stream(l) < 0)
        return fail(ENOMEM);
    int32_t omit[2] = { plane, l[0] };
    lanes_sig_before_fork();
    int64_t h = lanes_sys_process_fork(omit, 2);
    if (h == 0) {
        /* the child */
        __posix_fork_child(l[1]);
        __console_fork_child();
        __mbus_fork_child();
        if (getppid() < 0)
            _exit(127);                 /* the server refused us: the parent kills us anyway */
        return 0;
    }
    lanes_sys_handle_close(l[1]);
    if (h < 0) {
        lanes_sys_handle_close(l[0]);
        return fail(h == LANES_E_NOMEM ? ENOMEM : EAGAIN);
    }
    struct lane_handle_info hi;
    memset(&hi, 0, sizeof hi);
    lanes_sys_handle_info((int32_t)h, &hi);
    pid_t child = (pid_t)hi.size;
    int64_t dupd = lanes_sys_handle_dup((int32_t)h, LANES_RIGHT_ALL);
    struct lane_msg_posix_fork m = lanes_msg_posix_fork_encode((uint32_t)child, (uint32_t)lanes_sys_thread_self());
    int32_t push[2] = { l[0], (int32_t)dupd };
    __posix_lock();
    int64_t r = dupd < 0 ? -ENOMEM : __posix_request(&m, sizeof m, NULL, 0, push, 2);
    if (r >= 0)
        __posix_add_kid((pid_t)r, (int32_t)h);
    __posix_unlock();
    lanes_sys_handle_close(l[0]);
    if (dupd >= 0)
        lanes_sys_handle_close((int32_t)dupd);
    if (r < 0) {
        lanes_sys_process_kill((int32_t)h, 127);    /* never a POSIX process: it never ran user code */
        lanes_sys_handle_close((int32_t)h);
        return fail((int)-r);
    }
    return (pid_t)r;
}

/* The ELF checks the kernel makes first, so a file that is no program is ENOEXEC before any
 * fd is closed. */
static bool elf_ok(const uint8_t *img, size_t len)
{
    return len >= 64 && memcmp(img, "\x7f" "ELF", 4) == 0 && img[4] == 2 && img[5] == 1 &&
           img[16] == 2 && img[17] == 0 && img[18] == 62 && img[19] == 0;
}

static int64_t add_strings(char **blob, size_t *len, size_t *cap, char *const v[], uint32_t *count)
{
    for (uint32_t i = 0; v && v[i]; i++) {
        size_t n = strlen(v[i]) + 1;
        if (*len + n > 60 * 1024)
            return -E2BIG;
        if (*len + n > *cap) {
            size_t nc = (*cap ? *cap * 2 : 1024) + n;
            char *nb = realloc(*blob, nc);
            if (!nb)
                return -ENOMEM;
            *blob = nb;
            *cap = nc;
        }
        memcpy(*blob + *len, v[i], n);
        *len += n;
        (*count)++;
    }
    return 0;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    if (!path)
        return fail(EFAULT);
    if (!lanes_posix_active())
        return fail(ENOSYS);
    uint8_t *img = NULL;
    void *mem = NULL;
    size_t ilen = 0;
    int xfd = -1;       /* the file, left open (close-on-exec): posix.Exec closes it */
    int e = __posix_read_file(path, &img, &ilen, &mem, &xfd);
    if (e)
        return fail(e);
    if (!elf_ok(img, ilen)) {
        close(xfd);
        free(mem);
        return fail(ENOEXEC);
    }
    char *blob = NULL;
    size_t blen = 0, bcap = 0;
    uint32_t argc = 0, envc = 0;
    int64_t r = add_strings(&blob, &blen, &bcap, argv, &argc);
    if (r == 0)
        r = add_strings(&blob, &blen, &bcap, envp, &envc);
    if (r == 0 && argc == 0) {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        char *const dflt[2] = { (char *)base, NULL };
        r = add_strings(&blob, &blen, &bcap, dflt, &argc);
        if (r == 0 && envc) {
            /* the program name must come first: rebuild in order */
            free(blob);
            blob = NULL;
            blen = bcap = 0;
            argc = envc = 0;
            r = add_strings(&blob, &blen, &bcap, dflt, &argc);
            if (r == 0)
                r = add_strings(&blob, &blen, &bcap, envp, &envc);
        }
    }
    if (r < 0) {
        close(xfd);
        free(mem);
        free(blob);
        return fail((int)-r);
    }
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct lane_spawn_handle keep[4];
    int nkeep = 0;
    memset(keep, 0, sizeof keep);
    __posix_lock();
    int32_t plane = __posix_lane();
    __posix_unlock();
    int32_t pass[4] = { plane, lanes_console_lane(), lanes_handle_by_tag("mbus"), lanes_handle_by_tag("supervisor") };
    static const char *const tags[4] = { "posix", "console", "mbus", "supervisor" };
    for (int i = 0; i < 4; i++) {
        if (pass[i] == LANES_HANDLE_NONE)
            continue;
        keep[nkeep].handle = pass[i];
        keep[nkeep].rights = LANES_RIGHT_ALL;
        strlcpy(keep[nkeep].tag, tags[i], sizeof keep[nkeep].tag);
        nkeep++;
    }
    size_t nlen = strlen(name) > 31 ? 31 : strlen(name);
    char nbuf[32];
    memcpy(nbuf, name, nlen);
    nbuf[nlen] = 0;
    struct lane_msg_posix_exec m = lanes_msg_posix_exec_encode((uint32_t)nlen + 1, 0);
    lanes_console_flush();
    __posix_lock();
    r = __posix_request(&m, sizeof m, nbuf, nlen + 1, NULL, 0);
    __posix_unlock();
    if (r >= 0) {
        struct lane_exec_args ea;
        memset(&ea, 0, sizeof ea);
        ea.image = (uint64_t)(uintptr_t)img;
        ea.image_len = ilen;
        ea.name = (uint64_t)(uintptr_t)nbuf;
        ea.args = (uint64_t)(uintptr_t)blob;
        ea.args_len = blen;
        ea.argc = argc;
        ea.envc = envc;
        ea.nhandles = (uint32_t)nkeep;
        ea.handles = (uint64_t)(uintptr_t)keep;
        int64_t k = lanes_sys_process_exec(&ea);
        /* only back here if it failed: the close-on-exec fds are gone already */
        __posix_lock();
        __posix_forget_all();
        __posix_unlock();
        r = -kerr(k);
    } else {
        close(xfd);     /* posix.Exec did not happen: nothing was closed */
    }
    free(mem);
    free(blob);
    return fail((int)-r);
}

int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

int execvp(const char *file, char *const argv[])
{
    if (!file || !*file)
        return fail(ENOENT);
    if (strchr(file, '/'))
        return execve(file, argv, environ);
    char path[256];
    if (snprintf(path, sizeof path, "/bin/%s", file) >= (int)sizeof path)
        return fail(ENAMETOOLONG);
    return execve(path, argv, environ);
}

char *getenv(const char *name)
{
    size_t n = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* Called by start.c with the startup block's environment (0: none). */
void __lanes_set_environ(uint64_t envp)
{
    if (envp)
        environ = (char **)(uintptr_t)envp;
}

/* ---- anonymous memory ---- */

/* MAP_PRIVATE: an anonymous mapping of our own (demand paged, copy-on-write across fork).
 * MAP_SHARED: a memory object made for it (mem_create, zeroed) and mapped, its handle closed at
 * once (the mapping holds it): the kernel's fork keeps such regions shared, so parent and
 * children see each other's writes, as Linux's shared anonymous memory. Files: ENODEV. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    (void)fd;
    bool shared = flags & MAP_SHARED;
    if (!len || (prot & ~7) || (shared && (flags & MAP_PRIVATE))) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    if (!(flags & MAP_ANONYMOUS) || off) {
        errno = ENODEV;
        return MAP_FAILED;
    }
    if ((uintptr_t)addr & 4095) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    int32_t obj = LANES_HANDLE_NONE;
    if (shared) {
        int64_t h = lanes_sys_mem_create(len, LANES_MEMFLAG_ZERO);
        if (h < 0) {
            errno = h == LANES_E_LIMIT ? EMFILE : ENOMEM;
            return MAP_FAILED;
        }
        obj = (int32_t)h;
    }
    int64_t r = lanes_sys_mem_map(obj, (flags & MAP_FIXED) ? addr : NULL, 0, len, (uint32_t)prot);
    if (r == LANES_E_EXISTS && (flags & MAP_FIXED)) {
        /* MAP_FIXED replaces what was there */
        lanes_sys_mem_unmap(addr, len);
        r = lanes_sys_mem_map(obj, addr, 0, len, (uint32_t)prot);
    }
    if (obj != LANES_HANDLE_NONE)
        lanes_sys_handle_close(obj);
    if (r < 0) {
        errno = kerr(r) ? kerr(r) : EINVAL;
        return MAP_FAILED;
    }
    return (void *)(uintptr_t)r;
}

int munmap(void *addr, size_t len)
{
    int64_t r = lanes_sys_mem_unmap(addr, len);
    return r < 0 ? fail(EINVAL) : 0;
}

int mprotect(void *addr, size_t len, int prot)
{
    int64_t r = lanes_sys_mem_protect(addr, len, (uint32_t)prot);
    return r < 0 ? fail(r == LANES_E_NOMEM ? ENOMEM : EINVAL) : 0;
}
