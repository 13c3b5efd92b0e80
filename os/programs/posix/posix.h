/* posix.h — the POSIX server's state, shared by its request families:
 *   main.c     startup, the event loop, routing a request to its family, replies, counters
 *   process.c  the process table: adopt, spawn, wait, exit/fault/kill, ids, process groups, umask
 *   fd.c       open file descriptions and fd tables: close, dup/dup2, fcntl, getfile
 *   vfs.c      paths, mount points ("/" = the fs server, "/dev"), open, stat, mkdir, unlink,
 *              rename, chdir, getcwd
 *   pipe.c     pipes (a ring libc maps and uses itself; served here on the fs.* file protocol for
 *              raw lane clients; 64 KiB, PIPE_BUF atomicity)
 *   signal.c   signals: dispositions, masks, pending sets, delivery with libc, default actions,
 *              SigCancel (the talk's cancellation by id), interval timers
 *   tty.c      the console's foreground process group, Ctrl-C / Ctrl-Z from the console server
 *   procfs.c   /proc (Linux's formats, served on the fs.* file protocol like pipes)
 *   core.c     ELF core files of processes a fault (or a core-dumping signal) ended
 *   sysfs.c    the kernel's sysfs as files under /sys (served here on the fs.* file protocol)
 *   fork.c     posix.Fork (the child's entry: fds, cwd, ids) and posix.Exec (close-on-exec)
 *   served.c   what pipe.c, procfs.c and sysfs.c share: serving a file on fs's protocol
 */
#ifndef POSIX_H
#define POSIX_H

#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/ipc.h>
#include <lanes/abi/messages.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PROCS 1024            /* live and zombie POSIX processes (fork: EAGAIN beyond) */
#define QUEUE_SLOTS 4096          /* Q: an accept per process, pipe end, /proc and /sys file */
#define MAX_FDS 256                 /* OPEN_MAX */
#define MAX_PIPES 256
#define PATH_MAX_BYTES 4096
#define REQ_MAX (2 * PATH_MAX_BYTES + 128)
#define PIPE_CAP 65536
#define PIPE_ATOMIC 4096            /* PIPE_BUF */
#define CHUNK 16384                 /* the most one file request moves */

enum { KIND_FILE = 1, KIND_DIR = 2, KIND_PIPE = 3, KIND_CONSOLE = 4, KIND_NULL = 5, KIND_FIFO = 6 };
/* In the kind libc is told (open's reply, GetFile): a file whose lane goes to fs, which answers
 * fs.Map (libc's pread from the file's pages); /proc and /sys files are not asked. */
#define KIND_FS_BIT 0x80

/* Event-loop tags: what an accept completion belongs to. */
enum { TAG_PROC = 1, TAG_PIPE = 2, TAG_PUBLIC = 3, TAG_PROCFS = 4, TAG_SYS = 5 };
static inline uint64_t make_tag(uint32_t type, uint32_t gen, uint32_t index)
{
    return ((uint64_t)type << 56) | ((uint64_t)(gen & 0xffffff) << 24) | index;
}

struct pipe;

/* Signals (signal.c). */
#define NSIG_POSIX 65
#define MAX_STHREADS 8
struct sigact {
    uint64_t handler;           /* 0 SIG_DFL, 1 SIG_IGN, else the handler's address */
    uint64_t mask;
    uint32_t flags;             /* SA_* */
};
struct sigq {                   /* what a pending signal says (one per number, as Linux's standard ones) */
    int32_t pid, code, status;
    uint64_t value;
};
struct sthread {                /* a thread that registered its signal page */
    uint32_t tid;               /* 0: free */
    struct lane_sig_page *page; /* mapped here too: the in-syscall flag */
    uint64_t mask, pending;
    int32_t suspend_conv;       /* a parked sigsuspend/pause (NONE) */
    uint64_t suspend_saved;     /* the mask before it */
    bool has_cev;               /* cev: the thread's cancellation event (posix.SigEvent) */
    int32_t cev;
    uint64_t cev_raised_at;     /* when we last raised it (0: no net pending; sig_poll's safety net) */
};
struct sigproc {
    struct sigact act[NSIG_POSIX];
    struct sigq info[NSIG_POSIX];
    uint64_t pending;           /* for the process (any thread) */
    struct sthread th[MAX_STHREADS];
    bool stopped;
    int report;                 /* a stop (0x7f | sig << 8) or continue (0xffff) for waitpid; 0: none */
    uint64_t alarm_at, alarm_interval, alarm_id;
    uint64_t term_deadline;     /* a default-terminate signal waits for its thread until then */
    uint64_t poked_at;          /* when a thread was last told of a pending signal (sig_poll re-tells) */
    uint64_t init_mask;         /* the first thread to register starts with it: fork's, spawn's caller's mask */
};

/* An open file description: what fds (in any process) share. */
struct desc {
    uint32_t refs;              /* fds pointing here */
    uint8_t kind;
    uint32_t flags;             /* O_ACCMODE | O_APPEND | O_NONBLOCK */
    int32_t lane;               /* the passthrough lane handed to clients (NONE: console, null) */
    struct pipe *pipe;
    int end;                    /* pipe: 0 read end, 1 write end */
    char *path;                 /* files and directories: the absolute path (openat's dirfd) */
    bool fs;                    /* a file or directory of fs (KIND_FS_BIT) */
};
static inline int64_t desc_wire_kind(const struct desc *d) { return d->kind | (d->fs ? KIND_FS_BIT : 0); }

struct fdent {
    struct desc *d;
    bool cloexec;
};

struct proc {
    bool used;
    bool zombie;
    uint32_t gen;
    int32_t pid, ppid, pgid, sid;
    uint32_t umask;
    char *cwd;
    struct fdent fd[MAX_FDS];
    int32_t lane;               /* our end of its lane; NONE once it ended */
    int32_t handle;             /* its PROCESS handle */
    uint8_t *buf;               /* the request buffer of the posted accept */
    int status;                 /* wait status once a zombie */
    uint32_t fault;             /* fault vector + 1 (0: none) */
    int killed_sig;             /* kill() with this signal ended it */
    int32_t wait_conv;          /* a parked waitpid (NONE) */
    int32_t wait_pid;
    uint32_t wait_opts;         /* its options (WNOHANG 1, WUNTRACED 2, WCONTINUED 8) */
    uint32_t wait_tid;          /* the thread that waits (only its SigCancel cancels it) */
    struct sigproc sig;
    bool orphan_of_init;        /* adopted: nobody POSIX waits for it */
};

extern struct proc procs[MAX_PROCS];
extern int procs_end;               /* scans: for (i = 0; i < procs_end; i++) */
extern struct lanes_queue Q, SQ;
extern uint64_t st_served, st_malformed;
extern uint32_t st_parked;

/* main.c */
int64_t send_msg(int32_t conv, const void *msg, size_t len, int32_t push);
void reply(int32_t conv, int64_t err_or_value);
void reply_data(int32_t conv, int64_t err_or_value, const void *data, size_t n);
int64_t pull_handles(int32_t conv, int n, int32_t *out);
void post_proc_accept(struct proc *p);
uint32_t handles_held(uint32_t *np, uint32_t *nz);
#define HANDLE_RESERVE 32           /* kept free in our table: our queues and lanes, pulls, parked waits */

/* process.c */
struct proc *proc_by_pid(int32_t pid);
struct proc *proc_new(int32_t pid, int32_t lane, int32_t handle);
struct proc *proc_child(struct proc *parent, int32_t conv, uint32_t pid);   /* Spawn/Fork's common part */
void proc_ended(struct proc *p);
void proc_poll(void);
void req_adopt(int32_t conv, const uint8_t *m, uint32_t len);
void req_spawn(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);
void req_wait(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);
bool proc_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);
int do_kill(struct proc *p, int32_t pid, int sig);

/* tty.c */
extern int32_t tty_fg_pgid;
int tty_signal_group(int32_t pgid, int sig);
bool tty_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);
bool tty_public_request(int32_t conv, const uint8_t *m, uint32_t len);

void proc_wait_event(struct proc *parent);
bool proc_wait_cancel(struct proc *p, uint32_t tid);
int pipe_cancel_call(uint64_t call);
bool pipe_call_parked(uint64_t call);

/* signal.c */
void sig_proc_init(struct proc *p);
void sig_spawned(struct proc *parent, uint32_t tid, struct proc *child);
void sig_forked(struct proc *parent, uint32_t tid, struct proc *child);
void sig_proc_gone(struct proc *p);
void sig_send(struct proc *p, int sig, int32_t sender, int code, int why, uint32_t tid, uint64_t value, int status);
int sig_kill(struct proc *from, int32_t pid, int sig, int why);
void sig_child_ended(struct proc *p, int status);
void sig_reply_coming(struct proc *p, uint32_t tid);   /* signal.c: a reply to that thread is on its way */
bool sig_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);
uint64_t sig_next_timer(void);
void sig_poll(void);
int sig_default(int sig);
void posix_core_dump(struct proc *p, int sig, uint32_t tid);   /* a core-dumping signal's default action */

/* fd.c */
struct desc *desc_new(uint8_t kind, uint32_t flags, int32_t lane);
void desc_ref(struct desc *d);
void desc_unref(struct desc *d);
int fd_alloc(struct proc *p, int min);
int fd_install(struct proc *p, int min, struct desc *d, bool cloexec);
void fd_close_all(struct proc *p);
int fd_close(struct proc *p, int fd);
struct desc *fd_get(struct proc *p, int fd);
bool fd_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);
extern uint32_t st_descs;

/* vfs.c */
int vfs_init(void);
struct desc *vfs_console(void);
bool vfs_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);
int vfs_mkdirs(const char *dir, uint32_t mode);
int vfs_create(const char *abs, uint32_t mode, int32_t *lane);
int vfs_write_all(int32_t lane, const void *data, size_t n);

/* sysfs.c */
struct desc *sysfs_open(const char *abs, uint32_t flags, int32_t sys, int *err);   /* takes sys (the opener's SYSTEM handle or NONE) */
int sysfs_attr(const char *abs, uint32_t *mode, uint64_t *size);
void sysfs_complete(uint32_t index, uint32_t gen, const struct lane_ipc_completion *c);
extern uint32_t st_sysfiles, st_syscaps;

/* served.c: files served here on fs's file protocol (pipe ends, /proc, /sys) */
enum served_event { SERVED_REQUEST, SERVED_AGAIN, SERVED_GONE, SERVED_STALE };
void served_post(int32_t lane, uint8_t *req, uint32_t cap, uint64_t tag, const char *what);
int64_t served_reply(int32_t conv, int64_t v, const void *data, size_t n);
enum served_event served_take(const struct lane_ipc_completion *c, bool stale, int32_t *conv, uint32_t *len);

/* fork.c */
bool forkexec_request(struct proc *p, int32_t conv, const uint8_t *m, uint32_t len);

/* pipe.c */
int pipe_create(uint32_t flags, struct desc **rd, struct desc **wr);
void pipe_end_closed(struct pipe *pp, int end);
void pipe_complete(uint32_t index, uint32_t gen, const struct lane_ipc_completion *c);
int32_t pipe_ring_handle(struct desc *d);
void pipe_flags_changed(struct desc *d);
void pipe_proc_gone(int32_t pid);
extern uint32_t st_pipes;
extern uint64_t st_cancels, st_cancels_late;

/* procfs.c */
int procfs_open(struct proc *p, const char *abs, uint32_t flags, struct desc **out);
int procfs_stat(struct proc *p, const char *abs, struct lane_msg_fs_attr *a);
void procfs_complete(uint32_t index, uint32_t gen, const struct lane_ipc_completion *c);
struct lane_mem_region *proc_regions(struct proc *p, uint32_t *n);
void proc_image_path(const char *name, char *out, size_t cap);
void proc_comm(int32_t pid, char out[16]);
extern char core_pattern[128];

/* core.c: writes p's core file (p stopped: its threads parked, e.g. after a fault); fault is the
 * CPU's report when a fault raised signo, NULL for a sent signal. The path written goes to
 * path_out. 0, or -errno (nothing written, or a partial file on a write error). */
struct core_fault {
    uint32_t vector;
    uint64_t error, addr, rip;
};
int core_dump(struct proc *p, int signo, const struct core_fault *fault, char *path_out, size_t path_cap);

#endif
