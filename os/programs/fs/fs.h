/* fs.h — the fs server's shared declarations (tmpfs.c: the tree; main.c: the protocol). */
#ifndef FS_H
#define FS_H

#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/ipc.h>
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
};

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

#endif
