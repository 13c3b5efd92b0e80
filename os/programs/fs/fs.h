/* fs.h — the fs server's shared declarations (tmpfs.c: the tree; main.c: the protocol). */
#ifndef FS_H
#define FS_H

#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/ipc.h>
#include <lanes/abi/messages.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NAME_MAX_BYTES 255
#define FS_MAX_FILE (64u << 20)        /* 64 MiB per file */

struct node {
    uint64_t ino;
    uint32_t mode;               /* S_IFDIR / S_IFREG | permissions */
    uint32_t nlink;              /* 1 while it has a name, 0 once unlinked */
    uint32_t opens;              /* open descriptions */
    bool borrowed;               /* data points into the initrd (read-only) */
    char *name;
    struct node *parent;         /* the root (and an unlinked node) is its own parent */
    struct node *children;       /* directories */
    struct node *next;           /* sibling */
    uint8_t *data;
    size_t size, cap;
    uint8_t dev;                 /* DEV_* (wait.c): a device or a FIFO instead of bytes */
    struct fifo *fifo;           /* DEV_FIFO: its buffer and ends, while open */
    struct lane_file_map *map;   /* once a reader asked (fs.Map): the bytes live in a memory
                                    object, header page first, data = its second page on */
    int32_t mem;                 /* map: the object's handle */
    size_t maplen;               /* map: the object's length (header page + cap) */
};

enum { DEV_NONE = 0, DEV_SLOW = 1, DEV_FSSTAT = 2, DEV_FIFO = 3 };

#define MAX_OPEN 1000
#define CHUNK 16384
#define REQ_MAX (CHUNK + 64)
/* One reply carries at most READ_MAX bytes of a file: fs.Load sends a program image up to this
 * size whole (libc's execve and posix_spawn), in one round trip instead of one per CHUNK; an
 * fs.Read asking for more than CHUNK (libc's read() never does) gets up to this much too. */
#define READ_MAX (256 * 1024)
#define ROOT MAX_OPEN

/* An open file description: one passthrough lane (main.c). */
struct ofile {
    bool used;
    uint16_t gen;
    struct node *node;
    uint64_t off;                   /* the offset, until a holder asked for the shared page: */
    struct lane_file_pos *pos;      /* fs.MapPos: the offset lives here, mapped by the holders */
    int32_t posmem;                 /* pos: the page's handle */
    uint32_t flags;
    int32_t lane;
    uint8_t *buf;
    uint32_t slow_bytes, slow_ms;   /* /dev/slow: this description's rate */
    bool slow_whole;                /* /dev/slow: a read waits for all it asked (else a line) */
    bool fifo_counted;              /* DEV_FIFO: counted in the FIFO's readers/writers */
    bool fifo_met;                  /* DEV_FIFO: the other end was open when this one opened */
    uint64_t fifo_peer_opens;       /* DEV_FIFO: the other end's opens then (wait.c open_met) */
};

extern struct ofile of[MAX_OPEN + 1];

extern struct node *fs_root;
extern uint64_t fs_nodes;

struct node *node_new(struct node *parent, const char *name, size_t len, uint32_t mode);
void node_put(struct node *n);
struct node *node_child(struct node *dir, const char *name, size_t len);
struct node *walk(const char *path, size_t len, struct node **parent, const char **last, size_t *lastlen, int *err);
int node_truncate(struct node *n, size_t size);
int64_t node_write(struct node *n, uint64_t off, const uint8_t *src, size_t len);
int fs_mkdir(const char *path, size_t len, uint32_t mode);
int fs_unlink(const char *path, size_t len, uint32_t flags);
int fs_rename(const char *from, size_t flen, const char *to, size_t tlen);
int fs_seed(void);
int node_map(struct node *n, int32_t *mem, size_t *len);

/* main.c */
void reply(int32_t conv, int64_t err_or_value, const void *data, size_t n);
void reply_attr(int32_t conv, int err, const struct node *n);
extern uint64_t st_malformed;

/* wait.c: devices, FIFOs and the requests that wait (cancellable with fs.Cancel) */
int dev_seed(void);
void dev_opened(int i);
bool dev_request(int i, int32_t conv, const uint8_t *req, uint32_t len);
void wait_cancel(int i, uint64_t id, uint64_t call);
#define CEV_TAG (1ull << 62)        /* a completion of an await on a cancellation event (wait.c) */
extern int32_t fs_queue;            /* main.c's completion queue (the events' awaits complete there) */
void cev_register(int32_t conv, uint32_t tid);
void cev_fired(const struct lane_ipc_completion *c);
uint64_t wait_tick(void);
void wait_file_closed(int i);
extern uint32_t st_live;

#endif
