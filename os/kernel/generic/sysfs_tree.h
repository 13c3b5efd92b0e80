/*
 * sysfs_tree.h — the node pool shared by sysfs.c (the tree, lookups, the read side) and
 * sysfs_owner.c (subtrees owned by user-space servers, write requests, uevents). Not for the
 * rest of the kernel: subsystems use <kernel/sysfs.h>. Everything here is under sysfs_lock.
 */
#ifndef GENERIC_SYSFS_TREE_H
#define GENERIC_SYSFS_TREE_H

#include <kernel/sysfs.h>

#define SYSFS_MAX_NODES 1024    /* the boot-time tree, drivers, a node per user thread, owners' devices and links */
#define SYSFS_MAX_GROUPS 4
#define SYSFS_NAME_MAX 48       /* an owner's attribute name, including the NUL */

struct sysfs_group {
    const struct sysfs_attr *attrs;
    uint32_t n;
};

/* An attribute published by an owner: its value lives here (kmalloc'd), served without it. */
struct sysfs_dyn {
    struct sysfs_dyn *next;
    char name[SYSFS_NAME_MAX];
    uint32_t flags;             /* LANES_SYSFS_PUB_WRITABLE / _BINARY */
    uint32_t len;
    uint8_t *data;
};

struct sysfs_owner;

struct sysfs_node {
    bool used;
    uint64_t id;
    char path[SYSFS_PATH_MAX];
    struct sysfs_group groups[SYSFS_MAX_GROUPS];    /* the kernel's attribute tables */
    uint32_t ngroups;
    void *arg;
    struct sysfs_owner *owner;  /* NULL: the kernel's node */
    char *link;                 /* an owner's symlink: its target (kmalloc'd); no attributes then */
    struct sysfs_dyn *dyn;      /* an owner's attributes */
};

/* Every kernel attribute of node n, group by group, as `const struct sysfs_attr *a`. */
#define for_each_attr(node_, a)                                                                      \
    for (uint32_t g_ = 0; g_ < (node_)->ngroups; g_++)                                               \
        for (const struct sysfs_attr *a = (node_)->groups[g_].attrs;                                 \
             a < (node_)->groups[g_].attrs + (node_)->groups[g_].n; a++)

extern struct sysfs_node sysfs_nodes[SYSFS_MAX_NODES];
extern struct spinlock sysfs_lock;
extern uint64_t sysfs_next_node_id;

struct sysfs_node *sysfs_node_at(const char *canon_path);
bool sysfs_has_prefix_dir(const char *path, const char *dir, size_t dl);
int64_t sysfs_canon_path(const char *in, size_t len, char *out);
int64_t sysfs_user_path(uint64_t upath, uint64_t plen, char *canon);
int64_t sysfs_follow_links(char *canon_path, bool follow_last);
struct sysfs_dyn *sysfs_dyn_find(struct sysfs_node *n, const char *name);
/* Trace records: a node as it is now (sysfs_add + attributes, or sysfs_link), one attribute. */
void sysfs_emit_node(struct sysfs_node *n);
void sysfs_emit_attr(struct sysfs_node *n, const struct sysfs_attr *a);
void sysfs_emit_dyn(struct sysfs_node *n, const struct sysfs_dyn *d);

/* sysfs_owner.c */
int64_t sysfs_owner_write(struct sysfs_node *n, const char *path, const char *val, size_t len);
void sysfs_owner_snapshot(void);        /* sysfs_owner records of every live owner */

#endif
