/* lanes.h — the LaneOS-specific part of libc.
 *
 * Everything a LaneOS program needs beyond ISO C: the generated ABI (constants, structs and
 * the raw `lanes_sys_*` syscall wrappers), the startup block the kernel hands to _start, the
 * handles a process was given (looked up by tag), time, the CPU number, threads, futex mutexes,
 * the initrd (a ustar archive), driver manifests, and spawning programs from the initrd.
 *
 * Conventions: functions returning int64_t/int return >= 0 on success or a negative LANES_E_*
 * error; lanes_strerror() names it.
 */
#ifndef LANES_LIBC_LANES_H
#define LANES_LIBC_LANES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <lanes/abi.h>
#include <lanes/abi/syscalls_user.h>

/* ---- startup (os/lib/src/start.c) ---- */

/** The startup block the kernel passed to _start (lives in our memory). */
extern const struct lane_startup *lanes_startup;
/** The handle given to us at start with this tag, or LANES_HANDLE_NONE. */
int32_t lanes_handle_by_tag(const char *tag);
/** "BADHANDLE"-style name of an error; "OK" for >= 0. */
const char *lanes_strerror(int64_t err);
/** The name this program was started as (argv[0]), for messages. */
extern const char *lanes_progname;

/* ---- time ---- */

static inline uint64_t lanes_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/** Monotonic nanoseconds since boot, the kernel's clock_ns exactly, read without a system call
 * (os/lib/src/clock.c). */
uint64_t lanes_clock_ns(void);
static inline uint64_t lanes_now_ns(void) { return lanes_clock_ns(); }
static inline void lanes_pause(void) { __asm__ volatile("pause"); }
#define LANES_MS(x) ((uint64_t)(x) * 1000000ull)
#define LANES_SEC(x) ((uint64_t)(x) * 1000000000ull)

/* ---- the CPU we run on (os/lib/src/start.c) ---- */

/**
 * Index of the CPU the caller runs on — what lanes_sys_cpu_id() returns, without a system call
 * (like Linux's vDSO getcpu): RDPID where CPUID says it exists, else RDTSCP, reading the index
 * the kernel put in IA32_TSC_AUX; without either, or when TSC_AUX does not hold the kernel's
 * marked value (a nested hypervisor that shows the outer host's), the syscall. CPUID is asked
 * once, on the first call. Like the syscall's, the answer may be stale the moment it is
 * returned: the thread may be moved to another CPU right after — a hint (statistics, per-CPU
 * slots that tolerate sharing), not a guarantee.
 */
uint32_t lanes_cpu_id(void);

/* ---- futex mutex and threads (os/lib/src/thread.c) ---- */

typedef struct { volatile uint32_t state; } lanes_mutex_t;   /* 0 free, 1 locked, 2 contended */
#define LANES_MUTEX_INIT { 0 }
void lanes_mutex_lock(lanes_mutex_t *m);
bool lanes_mutex_trylock(lanes_mutex_t *m);
void lanes_mutex_unlock(lanes_mutex_t *m);

typedef struct lanes_thread {
    int32_t handle;          /* THREAD handle */
    void *stack;             /* mem_map'd stack, unmapped by join */
    size_t stack_size;
    void (*fn)(void *);
    void *arg;
} lanes_thread_t;

/** Starts fn(arg) on a new thread with its own stack (0 = default 64 KiB). */
int64_t lanes_thread_start(lanes_thread_t *t, void (*fn)(void *), void *arg, size_t stack_size);
/** Waits for the thread to end (timeout_ns), then frees its stack and handle. */
int64_t lanes_thread_join(lanes_thread_t *t, uint64_t timeout_ns);

/* ---- initrd: ustar reader (os/lib/src/ustar.c, pure) ---- */

struct ustar_entry {
    char name[256];          /* prefix + "/" + name, as stored */
    const void *data;
    size_t size;
    char type;               /* '0' file, '5' directory, ... */
    unsigned mode;
};
/** Iterates: *pos starts at 0; returns 1 with *e filled, 0 at the end, negative if corrupt. */
int ustar_next(const void *archive, size_t len, size_t *pos, struct ustar_entry *e);
/** Finds a regular file by exact name; returns 0 / LANES_E_NOENT / LANES_E_INVAL (corrupt). */
int ustar_find(const void *archive, size_t len, const char *name, struct ustar_entry *e);

/** Maps the initrd we were given (tag "initrd") once; returns its address and size. */
int64_t lanes_initrd(const void **base, size_t *size);

/* ---- ELF driver manifests (os/lib/src/manifest.c, pure) ---- */

#define MANIFEST_MAX_ITEMS 16
#define MANIFEST_PCI_ANY_CLASS 0xffffffffu
struct manifest_item {
    enum { MANIFEST_IOPORT = 1, MANIFEST_IRQ = 2, MANIFEST_SYSTEM = 3, MANIFEST_SYSFS = 4, MANIFEST_PCI = 5 } kind;
    uint32_t base;           /* port base or irq number; pci: vendor << 16 | device (0xffff: any) */
    uint32_t count;          /* port count; pci: class << 8 | subclass to match, MANIFEST_PCI_ANY_CLASS: any */
    char path[64];           /* sysfs: the subtree owned ("/sys/bus/pci") */
};
struct manifest {
    int nitems;
    struct manifest_item items[MANIFEST_MAX_ITEMS];
};
/** Finds section LANES_MANIFEST_SECTION in an ELF64 image; returns 1 found, 0 none, <0 bad ELF. */
int elf_find_section(const void *image, size_t len, const char *name, const void **data, size_t *size);
/** Parses a manifest (NUL-terminated lines); returns 0 or LANES_E_INVAL with *bad_line set. */
int manifest_parse(const char *data, size_t size, struct manifest *m, int *bad_line);
/** Reads the manifest of an ELF image (no section → empty manifest). */
int manifest_of_elf(const void *image, size_t len, struct manifest *m, int *bad_line);

/** Declares a manifest line in a program: LANES_MANIFEST("ioport 0x70 2"); */
#define LANES_MANIFEST_CAT2(a, b) a##b
#define LANES_MANIFEST_CAT(a, b) LANES_MANIFEST_CAT2(a, b)
#define LANES_MANIFEST(line)                                                              \
    __attribute__((used, section(".lanes.manifest"), aligned(1)))                         \
    static const char LANES_MANIFEST_CAT(lanes_manifest_line_, __LINE__)[] = line

/* ---- spawning programs from the initrd (os/lib/src/spawn.c) ---- */

struct lanes_spawn_opts {
    int32_t supervisor;                 /* SUPERVISOR handle or LANES_HANDLE_NONE */
    const struct lane_spawn_handle *extra;   /* extra handles to pass */
    int nextra;
    bool quiet;                         /* don't print why a spawn failed */
};
/**
 * Loads bin/<prog> from the initrd and starts it with argv (argv[0] is the process name).
 * Grants what its manifest declares (I/O ports, IRQs, the system capability) from our
 * "system" handle, passes our "initrd" handle on, and returns a PROCESS handle.
 */
int64_t lanes_spawn(const char *prog, int argc, const char *const *argv, const struct lanes_spawn_opts *opts);
/** The same for an ELF image in our memory (posix_spawn reads it from the file system). */
int64_t lanes_spawn_image(const char *prog, const void *image, size_t image_len, int argc, const char *const *argv,
                          const struct lanes_spawn_opts *opts);
/** The same with an environment (NULL-terminated NAME=VALUE strings, or NULL): the kernel writes
 *  it beside argv, the new program's libc makes it environ (posix_spawn's envp). */
int64_t lanes_spawn_image_env(const char *prog, const void *image, size_t image_len, int argc, const char *const *argv,
                              const char *const *envp, const struct lanes_spawn_opts *opts);
/** How the child pid that waitpid just reaped ended, in the kernel's words (fault, address);
 *  0, or -1 when pid was not the last child reaped. (os/lib/src/posix.c) */
int lanes_posix_last_exit(int32_t pid, struct lane_exit_info *info);
/** printf's way out in a POSIX process: write(1) when fd 1 is not the console; NOENT when the
 *  caller should use the console (not POSIX, or fd 1 is the console). */
int64_t lanes_posix_stdout(const void *buf, size_t len);
/** Waits for a process to end; fills *info; returns 0 or an error. */
int64_t lanes_wait(int32_t proc, struct lane_exit_info *info, uint64_t timeout_ns);
/** Human description of how a process ended: "exited with status 3", "faulted: PAGE at 0x0 ...". */
void lanes_describe_exit(const struct lane_exit_info *info, char *buf, size_t size);
void lanes_describe_notification(const struct lane_notification *n, char *buf, size_t size);

/* ---- heap core (os/lib/src/heap.c, pure; malloc() is built on it) ---- */

struct heap_region;
struct heap {
    void *(*morecore)(size_t bytes, void *ctx);   /* returns page-aligned memory or NULL */
    void *ctx;
    struct heap_block *free_list;
    size_t bytes_in_use;
    size_t bytes_from_os;
};
void heap_init(struct heap *h, void *(*morecore)(size_t, void *), void *ctx);
void *heap_alloc(struct heap *h, size_t size);
void heap_free(struct heap *h, void *p);
void *heap_realloc(struct heap *h, void *p, size_t size);
size_t heap_usable_size(void *p);
/** Checks the free list's invariants (sorted, no overlap, coalesced); returns 0 or -1. */
int heap_check(struct heap *h);

#endif
