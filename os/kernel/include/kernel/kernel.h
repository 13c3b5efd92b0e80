/*
 * kernel.h — everything the generic kernel shares between its files (xv6's defs.h).
 *
 * Sections: library (strings, formatting, lists, locks), log and panic, physical memory and
 * heap, kernel objects and handles, memory objects and address spaces, threads and the
 * scheduler, processes and supervisors, futexes, console, ELF and initrd, syscalls, self-tests.
 * The ABI types (struct lane_*, LANES_*) come from the generated <lanes/abi.h>.
 */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <kernel/hot.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include <lanes/abi.h>
#include <kernel/arch.h>
#include <kernel/balance.h>

#define LANES_VERSION_STRING "LaneOS 0.1.0"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

/* ---- lib.c ---- */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void strlcpy(char *d, const char *s, size_t n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct list { struct list *next, *prev; };
static inline void list_init(struct list *l) { l->next = l->prev = l; }
static inline bool list_empty(const struct list *l) { return l->next == l; }
static inline void list_add_tail(struct list *l, struct list *n) { n->prev = l->prev; n->next = l; l->prev->next = n; l->prev = n; }
static inline void list_del(struct list *n) { n->prev->next = n->next; n->next->prev = n->prev; n->next = n->prev = n; }
#define list_for_each(it, head) for (struct list *it = (head)->next; it != (head); it = it->next)

/* ---- spinlock.c ---- */
#define SPINLOCK_INIT(n) { 0, 0, n }
void spin_init(struct spinlock *l, const char *name);
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_holding(struct spinlock *l);
void pushcli(void);
void popcli(void);

/* ---- log.c / panic.c ---- */
enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
extern int log_level;
void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void klog_raw(int level, const char *prefix, const char *msg, size_t len);
void log_init(void);                      /* loglevel= (command line) */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* unlocked, for panics */
void console_lock(void);
void console_unlock(void);
void console_putc_locked(char c);
#define pr_err(...)   klog(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  klog(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  klog(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) klog(LOG_DEBUG, __VA_ARGS__)
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void panic_regs(const struct regs *r, const char *fmt, ...);
void backtrace(uint64_t rbp, uint64_t rip);
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
extern volatile int panicking;
#define ASSERT(c) do { if (!(c)) panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__); } while (0)

/* ---- boot info (multiboot.c) ---- */
struct mem_range { uint64_t base, len; };
struct boot_info {
    char cmdline[512];
    struct mem_range ram[64];
    int nram;
    struct mem_range fw[16];    /* ACPI reclaimable and NVS memory */
    int nfw;
    uint64_t initrd_phys, initrd_len;
    uint64_t rsdp_phys;     /* 0: search the BIOS areas */
    uint8_t rsdp_copy[36];  /* MB2 gives a copy of the RSDP */
    bool have_rsdp_copy;
};
extern struct boot_info boot;
void multiboot_parse(uint32_t magic, uint64_t info_phys);
/* cmdline.c: the kernel command line, split into words in one place. cmdline_value finds the
 * last NAME=VALUE word (*val is not NUL-terminated), cmdline_flag a bare NAME word,
 * cmdline_is a NAME=VALUE word with that VALUE; only words before "--" are options. */
bool cmdline_value(const char *name, const char **val, size_t *len);
bool cmdline_flag(const char *name);
bool cmdline_is(const char *name, const char *value);
const char *cmdline_init_args(void);     /* the words after " -- " (init's argv[1..]) */

/* ---- pmm.c / heap.c ---- */
void pmm_init(void);
uint64_t pmm_alloc(void);                 /* one zeroed page, physical address, 0 if none */
uint64_t pmm_alloc_contig(size_t n);      /* n contiguous zeroed pages */
void pmm_free(uint64_t pa);
void pmm_free_contig(uint64_t pa, size_t n);
void pmm_page_share(uint64_t pa);         /* one more owner of a copy-on-write page */
uint64_t pmm_alloc_user(void);            /* pmm_alloc for user memory (counted: pmm_user_bytes) */
uint64_t pmm_user_bytes(void);
void pmm_page_put(uint64_t pa);           /* one owner fewer; the last frees it */
bool pmm_page_exclusive(uint64_t pa);     /* a single owner */
uint64_t pmm_total_bytes(void);
uint64_t pmm_top(void);                   /* end of the highest managed page (physical) */
uint64_t pmm_free_bytes(void);
void *kmalloc(size_t n);                  /* zeroed */
void kfree(void *p);
uint64_t heap_cached_bytes(void);        /* bytes on kmalloc's free lists + parked (sysfs mm/heap_cached) */
void heap_note_parked(void *p, bool parked);   /* a kmalloc block enters/leaves a subsystem's cache */

/* ---- kernel objects and handles (handle.c) ---- */
struct kobj {
    uint32_t type;
    volatile int32_t refs;
    void (*destroy)(struct kobj *o);
};
void kobj_init(struct kobj *o, uint32_t type, void (*destroy)(struct kobj *));
void kobj_get(struct kobj *o);
void kobj_put(struct kobj *o);
#define KOBJ_TYPES 32
uint32_t kobj_live(uint32_t type);  /* objects of this type alive (with a destructor) */

struct hentry { struct kobj *obj; uint32_t rights; };
/* A table starts with HTABLE_FIRST entries inside it and grows (doubling, e points at a kmalloc'd
 * array) up to LANES_MAX_HANDLES; e and cap change only under lock. */
#define HTABLE_FIRST 64
struct handle_table {
    struct spinlock lock;
    uint32_t cap;
    struct hentry *e;
    struct hentry first[HTABLE_FIRST];
};
void htable_init(struct handle_table *t);
void htable_free(struct handle_table *t);     /* after htable_close_all: the grown array goes */
int64_t htable_reserve(struct handle_table *t, uint32_t cap);   /* grows to at least cap: 0 or NOMEM */
int64_t htable_copy(struct handle_table *dst, struct handle_table *src, const int32_t *omit, uint32_t nomit);
int64_t handle_install(struct handle_table *t, struct kobj *o, uint32_t rights);
int64_t handle_lookup(struct handle_table *t, int64_t h, uint32_t type, uint32_t need, struct kobj **out, uint32_t *rights);
int64_t handle_close(struct handle_table *t, int64_t h);
void htable_close_all(struct handle_table *t);
/* The calling process's own table, as every system call names objects (generic/syscall.c,
 * generic/ipc/sys.c, sysfs): handle_get looks h up with the rights the call needs and returns a
 * reference to put; handle_give installs o and drops the caller's reference to it (the new
 * handle or LIMIT); handle_check_system says whether h is the SYSTEM capability with CONTROL. */
int64_t handle_get(int64_t h, uint32_t type, uint32_t need, struct kobj **out, uint32_t *rights);
int64_t handle_get2(int64_t h1, uint32_t type1, uint32_t need1, struct kobj **out1,
                    int64_t h2, uint32_t type2, uint32_t need2, struct kobj **out2);
int64_t handle_give(struct kobj *o, uint32_t rights);
int64_t handle_check_system(int64_t h);

struct system_obj { struct kobj obj; };
extern struct system_obj system_object;

/* ---- I/O-port and IRQ capabilities (ioport_irq.c) ---- */
/* What an IOPORT / IRQ capability covers (false: o is not of that type). */
bool ioport_obj_range(struct kobj *o, uint32_t *base, uint32_t *count);
bool irq_obj_line(struct kobj *o, uint32_t *irq);
bool mmio_obj_range(struct kobj *o, uint64_t *base, uint64_t *len);   /* mmio.c */
struct process;
void driver_node_add(struct process *p, struct kobj **objs, uint32_t nobjs);  /* /sys/drivers/NAME.PID */
void driver_node_remove(struct process *p);

/* ---- memory objects and address spaces (memobj.c, vm.c) ---- */
struct memobj {
    struct kobj obj;
    uint64_t npages;
    uint64_t *pages;
    bool borrowed;          /* pages not owned (initrd, MMIO) */
    bool mmio;              /* a device's physical range (mmio.c): mapped uncached, never read through the direct map */
    bool owned;             /* made with OWNER_WAKE: on its creator's list, then (ended) on the ended list */
    bool ended;             /* its creator has ended */
    struct list owner_link; /* under memobj.c's owned_lock */
};
struct memobj *memobj_create(uint64_t npages);
struct memobj *memobj_wrap_phys(uint64_t phys, uint64_t len);
struct memobj *memobj_create_lazy(uint64_t npages);  /* no pages yet: filled on first touch */
int64_t memobj_fill(struct memobj *m, uint64_t off, const void *src, uint64_t n);  /* copy in, allocating pages */
struct process;
void memobj_set_owner(struct memobj *m, struct process *p);   /* mem_create's OWNER_WAKE */
void memobj_owner_gone(struct process *p);                    /* p ended: its objects' futex waiters wake DEAD */
extern volatile uint32_t memobj_nended;                       /* objects whose creator ended (still alive) */
bool memobj_page_ended(uint64_t pa);                          /* pa's page is one of those objects' */
void mmio_reserve(uint64_t base, uint64_t len, const char *name);   /* the kernel's own device memory (mmio.c) */
int64_t mmio_check(uint64_t base, uint64_t len, const char **why);  /* 0 if user space may have it */

struct vm_region {
    struct vm_region *next;
    uint64_t start, end;
    uint32_t prot;
    struct memobj *mo;
    uint64_t off;
    bool priv;                  /* private: demand paged, copy-on-write across fork (vm.c) */
};
struct vmspace {
    struct spinlock lock;
    uint64_t pml4;
    struct vm_region *regions;
    volatile uint64_t cpumask;  /* CPUs that have this CR3 loaded */
    volatile uint64_t gen;      /* new (from one global count) whenever a region goes: futex.c's key cache */
};
#define USER_TOP LANES_USER_TOP
#define MMAP_BASE 0x0000100000000000ULL
struct vmspace *vm_create(void);
void vm_destroy(struct vmspace *vm);
struct process;
struct vmspace *vm_get(struct process *p);     /* p's address space for a copy, or NULL (vm.c) */
void vm_put(struct process *p);
int64_t vm_map(struct vmspace *vm, struct memobj *mo, uint64_t hint, uint64_t off, uint64_t len, uint32_t prot, uint64_t *out);
int64_t vm_map_private(struct vmspace *vm, struct memobj *mo, uint64_t hint, uint64_t off, uint64_t len, uint32_t prot, uint64_t *out);
int64_t vm_unmap(struct vmspace *vm, uint64_t addr, uint64_t len);
int64_t vm_protect(struct vmspace *vm, uint64_t addr, uint64_t len, uint32_t prot);
int64_t vm_fault(struct vmspace *vm, uint64_t va, uint64_t access);  /* 0: retry the access */
int64_t vm_clone(struct vmspace *src, struct vmspace *dst);           /* fork, copy-on-write */
int vm_is_private(struct vmspace *vm, uint64_t va);                  /* 1 private, 0 shared, -1 unmapped */
uint64_t vm_translate(struct vmspace *vm, uint64_t va, bool write);
int64_t vm_read(struct vmspace *vm, uint64_t va, void *dst, size_t n);   /* copy out of another address space (vm.c) */
bool vm_check_exec(struct vmspace *vm, uint64_t va);
struct cpu *thread_lock_rq(struct thread *t);
void vm_activate(struct vmspace *vm);
void tlb_shootdown(struct vmspace *vm, uint64_t addr, uint64_t len);
void tlb_ipi_handler(void);

/* ---- user memory (usercopy.c) ---- */
static inline bool user_range_ok(uint64_t addr, uint64_t len)
{
    return addr < USER_TOP && len <= USER_TOP - addr;
}
int64_t copy_from_user(void *dst, uint64_t usrc, size_t n);
int64_t copy_to_user(uint64_t udst, const void *src, size_t n);
int64_t strncpy_from_user(char *dst, uint64_t usrc, size_t max);  /* length or error */
int64_t user_check(uint64_t addr, uint64_t len, bool write);

/* ---- threads and scheduler (sched.c, thread.c, timer.c) ---- */
enum {
    T_RUNNING = LANES_THREAD_STATE_RUNNING,
    T_READY = LANES_THREAD_STATE_READY,
    T_BLOCKED = LANES_THREAD_STATE_BLOCKED,
    T_SLEEPING = LANES_THREAD_STATE_SLEEPING,
    T_STOPPED = LANES_THREAD_STATE_STOPPED,
    T_DEAD = LANES_THREAD_STATE_DEAD,
};
#define KSTACK_SIZE (16 * 1024)
#define SLICE_NS 10000000ULL

struct waitq { struct list head; };
struct waiter { struct list link; struct thread *t; };
static inline void waitq_init(struct waitq *q) { list_init(&q->head); }

struct process;
struct thread {
    struct kobj obj;
    uint32_t tid;
    struct process *proc;
    struct cpu *cpu;            /* changes only under both run-queue locks (idle stealing) */
    volatile int state;
    uint64_t rsp;               /* saved kernel rsp while switched out */
    uint8_t *kstack;
    uint64_t kstack_top;
    struct thread *rq_next;
    struct thread *timer_next;
    struct cpu *timer_cpu;      /* whose timer list the thread is on */
    uint64_t deadline;
    bool timer_linked;
    int wake_reason;
    uint64_t wait_seq;
    volatile int interrupt_pending;
    volatile int killed;
    volatile int stop;
    bool is_idle, is_kernel;
    bool on_rq;                 /* on a run queue (under that CPU's rq_lock): queued at most once */
    bool started;               /* thread_start ran (under the run-queue lock): only then may a kick make it ready */
    uint64_t fs_base;
    uint64_t alert_entry;       /* sys_alert_entry: user code run on an alert (0: none; sys_signal.c) */
    volatile int alert_pending; /* sys_thread_alert: run alert_entry on the way to user mode */
    struct memobj *utrace;      /* its trace staging page (utrace.c; NULL: none) */
    struct futex_key_cache {    /* futex.c: the last words' keys, valid while vm->gen is gen */
        struct vmspace *vm;
        uint64_t gen, page, key;
        bool priv;
    } fkc[4];
    uint8_t fkc_next;
    uint32_t utrace_done;       /* drained up to here (an entry was being written) */
    uint64_t utrace_tsc;        /* its last return to user mode: no record of the page is older */
    uint64_t cpu_ns, runnable_ns, run_start, ready_since;
    int wake_kind;              /* how the last wake-up reached it (WAKE_*, 0 once it ran; sched_wake.c) */
    bool wake_sync;             /* its wake-ups now are synchronous: it waits right after (sched.c) */
    bool wake_first;            /* a thread it wakes on its CPU now runs before it (sched.c) */
    bool slice_given;           /* queued first by its waker: runs on the waker's slice (sched.c) */
    bool requeue_first;         /* preempted for a thread it woke: queued right behind it (sched.c) */
    bool woke_first;            /* queued a thread first while wake_sync (ipc/sys.c) */
    /* load balancing (balance.c; under t->cpu's rq_lock) */
    uint64_t affinity;          /* CPUs it may run on (bit N = CPU N) */
    struct load_acct lacct;     /* runnable / blocked time, decaying (kernel/balance.h) */
    uint32_t load;              /* load_value(lacct) at the last balance round, LOAD_ONE = always runnable */
    struct list cpu_link;       /* on sched_cpu[t->cpu->id].threads while started and not dead */
    struct cpu *migrate_to;     /* set: move there at the next scheduling point (a running thread) */
    struct migration {          /* why, for the trace event when the move happens */
        uint32_t reason, load_from, load_to, ideal, round;
    } mig;
    uint32_t migrations;
    struct sysfs_node *sysfs;   /* /sys/kernel/sched/threads/TID (user threads; balance.c) */
    struct list proc_link;
    struct list all_link;
    struct waitq exitq;         /* thread_wait; protected by proc->lock */
    bool exited;
    bool last_of_proc;
    void (*kfn)(void *);
    void *karg;
    uint8_t fpu[512] __attribute__((aligned(16)));
};
static inline struct thread *current(void) { return this_cpu()->current; }

extern struct spinlock sched_all_lock;   /* global thread and process lists */
extern struct list all_threads;
void sched_init_cpu(struct cpu *c);
void schedule(void);
void sched_yield(void);
void sched_finish_switch(void);
void sched_enqueue(struct thread *t);
struct cpu *sched_pick_cpu(uint64_t allowed);

/* sched_wake.c: wake-up kinds (make_ready) and their wake-to-run latencies (schedule_locked). */
enum { WAKE_NONE, WAKE_LOCAL, WAKE_AFFINE, WAKE_POLL, WAKE_IPI, WAKE_BUSY, WAKE_KINDS };
enum { WAKE_SKIP_HERE, WAKE_SKIP_QUEUED, WAKE_SKIP_RUNNING, WAKE_SKIP_AFFINITY, WAKE_SKIPS };
void wake_note_ipi(int kind);
void wake_note_sync_skip(int why);
void wake_note_run(struct thread *t, uint64_t lat_ns);

/* Per-CPU scheduler state that is not the arch's (sched.c, balance.c): under that CPU's rq_lock. */
struct sched_cpu {
    struct list threads;        /* started threads whose t->cpu is this CPU (running, queued, blocked) */
    uint32_t nthreads;
    uint32_t load;              /* sum of their loads at the last balance round */
    uint32_t placed;            /* threads placed here since (counted as LOAD_ONE each by placement) */
    struct thread *in_transit;  /* switched out to migrate (schedule_locked → sched_finish_switch) */
};
extern struct sched_cpu sched_cpu[MAX_CPUS];
extern uint64_t sched_online_mask(void);
/* balance.c */
extern uint32_t load_decay;     /* ×load_decay/256 per second */
void sched_load_advance(struct thread *t, uint64_t now, bool runnable);
void sched_thread_attach(struct cpu *c, struct thread *t);   /* rq_lock of c held */
void sched_thread_detach(struct cpu *c, struct thread *t);   /* rq_lock of c held */
void sched_lock_two(struct cpu *a, struct cpu *b);
bool sched_migrate_locked(struct thread *t, struct cpu *from, struct cpu *to);  /* both rq locks */
void sched_unlock_two(struct cpu *a, struct cpu *b);
void sched_emit_migrate(struct thread *t, struct cpu *from, struct cpu *to);
int64_t sched_set_affinity(struct thread *t, uint64_t mask);
void balance_init(void);
void balance_thread_added(struct thread *t);    /* thread_start: its sysfs node */
void balance_thread_gone(struct thread *t);     /* thread_reap */
int thread_block(struct spinlock *held, int state, uint64_t deadline);
void sched_yield_to_woken(void);
bool thread_wake(struct thread *t, int reason);
void thread_interrupt(struct thread *t);
void thread_interrupt_preempt(struct thread *t);   /* the same, and it runs before us if on our CPU */
void thread_kick(struct thread *t);
int64_t wait_on(struct waitq *q, struct spinlock *lock, uint64_t deadline);
int wake_all(struct waitq *q);
int wake_n(struct waitq *q, int n);
uint64_t deadline_from_timeout(uint64_t timeout_ns);
void timer_add(struct thread *t, uint64_t deadline);
void timer_remove(struct thread *t);
void timer_tick(void);
void timer_rearm(void);
int64_t sleep_ns(uint64_t ns);
void sched_check_user_return(struct regs *r);
void utrace_drain(struct thread *t);        /* utrace.c: t is current() and has a page */
void utrace_to_user(struct thread *t);      /* ... and returns to user mode now */
void utrace_release(struct thread *t);
int64_t utrace_record(uint64_t type, uint64_t body, uint64_t len);    /* sys_trace_user */
bool signal_deliver_alert(struct regs *r);     /* sys_signal.c: false = the user stack was bad */
void thread_continue(struct thread *t);        /* sched.c: a STOPPED, started thread runs again */

struct thread *thread_create_kernel(void (*fn)(void *), void *arg, struct cpu *cpu);
struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t stack, uint64_t arg, uint64_t arg2, struct cpu *cpu);
void thread_start(struct thread *t);
__attribute__((noreturn)) void thread_exit(void);
void idle_thread_init(struct cpu *c);

/* ---- processes and supervisors (process.c, supervisor.c) ---- */
struct supervisor {
    struct kobj obj;
    struct spinlock lock;
    struct lane_notification q[64];
    int head, count;
    uint64_t dropped;
    struct waitq wq;
};
struct process {
    struct kobj obj;
    uint32_t pid;
    char name[32];
    struct vmspace *vm;         /* NULL once the last thread is reaped */
    volatile uint32_t vm_refs;  /* 1 for the threads (dropped at the last reap) + IPC copies using vm (xcopy.c) */
    struct vmspace *vm_final;   /* vm, for whoever drops vm_refs to 0 */
    struct spinlock lock;
    struct list threads;
    int nthreads;
    int state;                  /* LANES_PROC_STATE_* */
    bool finished;              /* every thread has ended */
    bool ending;                /* exited or killed: its threads are on their way out */
    struct lane_exit_info exit;
    struct waitq waiters;
    struct supervisor *sup;
    struct handle_table handles;
    uint8_t *iopb;
    uint64_t iopb_gen;
    struct list all_link;
    struct list owned_mem;      /* memory objects it made with OWNER_WAKE (memobj.c) */
    /* what sys_process_inspect INFO reports (spawn.c fills it) */
    uint64_t arg_start, arg_end, stack_start, stack_end, image_start, image_end, entry, start_ns;
    uint32_t argc;
};
extern struct process *kernel_process;
extern struct list all_processes;
void process_init(void);
struct process *process_create(const char *name, struct supervisor *sup);
void process_terminate(struct process *p, int state, int code, const struct lane_exit_info *fault);
void process_thread_gone(struct thread *t);
void process_user_fault(struct regs *r, int kind, uint64_t addr);  /* addr: CR2 of a page fault */
void supervisor_notify(struct supervisor *s, const struct lane_notification *n);
struct supervisor *supervisor_create(void);

/* ---- futex.c, console.c, irqobj.c ---- */
void futex_init(void);
int64_t futex_wait(uint64_t uaddr, uint32_t expected, uint64_t timeout_ns);
int64_t futex_wake(uint64_t uaddr, uint32_t count);
int64_t futex_wake_key(uint64_t key, uint32_t count);
void futex_wake_ended(void);
void console_init(void);
void console_rx_byte(uint8_t c);
/* Bytes typed while the kernel debugger held every CPU: queued as console_rx_byte does, unless this
 * CPU stopped inside the queue's lock (then false: nothing queued). */
bool console_rx_held(const uint8_t *p, size_t n);
int64_t console_read(uint64_t ubuf, uint64_t len, uint64_t timeout_ns);
int64_t console_write_user(uint64_t ubuf, uint64_t len);
/* COM1 hand-over to a user-space console server (console.c, log.c) */
int64_t console_claim(struct process *p, const void *irq_obj);
void console_irq4_gone(const void *irq_obj);
int64_t console_info_user(uint64_t uinfo);
bool console_claimed(void);
void console_takeover(bool locked);            /* panic (false) and power off (true) */
int64_t log_console_claim(struct process *p, uint32_t pid, const void *irq_obj);
uint32_t log_console_release(const void *irq_obj, uint64_t *replayed);
int64_t log_klog_read(const struct process *p, uint64_t ubuf, uint64_t len, uint64_t done, uint64_t timeout_ns);
void log_console_write(const char *buf, size_t n);
void log_console_info(struct lane_console_info *info);
void log_mux_write(const uint8_t *p, size_t n);   /* lanes.debug=ttyS0: a whole marked unit onto COM1 */

/* ---- elf.c, initrd.c ---- */
struct elf_image { uint64_t entry; };
int64_t elf_load(struct vmspace *vm, const uint8_t *img, uint64_t len, struct elf_image *out);
int initrd_find(const uint8_t *tar, uint64_t len, const char *name, const uint8_t **data, uint64_t *size);
int64_t process_spawn_image(struct process *parent, const uint8_t *img, uint64_t len, const char *name,
                            const char *args, uint64_t args_len, uint32_t argc, uint32_t envc,
                            struct lane_handle_entry *handles, struct kobj **objs, uint32_t nhandles,
                            struct supervisor *sup, struct handle_table *caller, int64_t *handle,
                            struct process **out);
/* A new program's initial stack (spawn.c; spawn and execve): mapped private below STACK_TOP in
 * vm with the pages its top parts go in made, and where those parts go. mo is the mapping's. */
struct ustack {
    struct memobj *mo;
    uint64_t base, strings, argv, envp, hent, su;   /* su: the startup block (rdi; rsp = su - 64) */
};
#define USTACK_SIZE (512ULL * 1024)
int64_t ustack_map(struct vmspace *vm, uint64_t args_len, uint32_t argc, uint32_t envc, uint32_t nhandles,
                   struct ustack *st);
void ustack_write(const struct ustack *st, const char *args, uint64_t args_len, uint32_t argc, uint32_t envc,
                  const struct lane_handle_entry *he, uint32_t nhandles, struct lane_startup *s);

/* ---- syscall.c, ktest.c ---- */
void syscall_init_cpu(void);
void syscall_dispatch(struct regs *r);            /* records syscall_enter/exit (if traced) */
void syscall_dispatch_untraced(struct regs *r);   /* the same without (entry.S: class off) */
int ktest_count(void);
int ktest_run(uint32_t index, struct lane_ktest_result *res);

#endif
