/* tmpfs.c — the file tree of the fs server: directories and regular files in memory.
 *
 * A node is a directory (children in a list, newest first) or a regular file (bytes in a heap
 * buffer). Files seeded from the initrd borrow the archive's read-only pages until their first
 * write copies them. A file a reader asked to map (fs.Map: libc's pread copies from the mapping
 * instead of asking us) keeps its bytes in a memory object from then on: a lane_file_map header
 * page, then the bytes, capacity a power of two. Every change of its bytes or size is a seqlock
 * write (seq odd while we change, even after); growing past the capacity moves the file to a
 * bigger object and marks the old one's header retired, so readers map it again. A node lives while it has a name (nlink) or an open description
 * (opens); unlink of an open file keeps its bytes until the last close, as POSIX wants.
 * Paths arrive from the POSIX server already absolute and normalised ("/", "/bin/ls"); every
 * function returns 0 or a negative Linux errno.
 */
#include "fs.h"

static uint64_t next_ino = 1;
struct node *fs_root;
uint64_t fs_nodes;

struct node *node_new(struct node *parent, const char *name, size_t len, uint32_t mode)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->name = malloc(len + 1);
    if (!n->name) {
        free(n);
        return NULL;
    }
    memcpy(n->name, name, len);
    n->name[len] = 0;
    n->ino = next_ino++;
    n->mode = mode;
    n->nlink = 1;
    n->parent = parent ? parent : n;
    if (parent) {
        n->next = parent->children;
        parent->children = n;
    }
    fs_nodes++;
    return n;
}

static void detach(struct node *n)
{
    struct node **pp = &n->parent->children;
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (*pp)
        *pp = n->next;
    n->next = NULL;
}

/* ---- mapped files: the writer's side of the seqlock in lane_file_map ---- */

static void map_begin(struct node *n)
{
    if (n->map) {
        __atomic_store_n(&n->map->seq, n->map->seq + 1, __ATOMIC_RELAXED);   /* odd */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
}

static void map_end(struct node *n)
{
    if (n->map) {
        __atomic_store_n(&n->map->size, (uint64_t)n->size, __ATOMIC_RELAXED);
        __atomic_store_n(&n->map->seq, n->map->seq + 1, __ATOMIC_RELEASE);   /* even */
    }
}

/* The object is no longer the file's: readers that still map it see retired (and a changed
 * seq, should they be copying) and ask for the new one. Our mapping and handle go. */
static void map_drop(struct lane_file_map *m, int32_t mem, size_t len)
{
    if (!(m->seq & 1))
        __atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&m->retired, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
    lanes_sys_mem_unmap(m, len);
    lanes_sys_handle_close(mem);
}

/* A new object for cap bytes (a multiple of the page size), mapped read-write here. */
static int map_new(size_t cap, struct lane_file_map **m, int32_t *mem, size_t *len)
{
    size_t l = LANES_PAGE_SIZE + cap;
    int64_t h = lanes_sys_mem_create(l, 0);
    if (h < 0)
        return -ENOSPC;
    int64_t a = lanes_sys_mem_map((int32_t)h, NULL, 0, l, LANES_PROT_READ | LANES_PROT_WRITE);
    if (a < 0) {
        lanes_sys_handle_close((int32_t)h);
        return -ENOSPC;
    }
    *m = (struct lane_file_map *)(uintptr_t)a;
    *mem = (int32_t)h;
    *len = l;
    return 0;
}

static size_t map_cap(size_t size)
{
    size_t cap = LANES_PAGE_SIZE;
    while (cap < size)
        cap *= 2;
    return cap;
}

/* fs.Map: the file's bytes move into a memory object (once); *mem gets our handle to it (the
 * caller pushes it with reduced rights), *len its length. */
int node_map(struct node *n, int32_t *mem, size_t *len)
{
    if (!S_ISREG(n->mode) || n->dev != DEV_NONE || n->borrowed)
        return -ENODEV;     /* the initrd's own pages are not ours to hand out: fs.Pread them */
    if (!n->map) {
        struct lane_file_map *m;
        int32_t h;
        size_t l, cap = map_cap(n->size);
        int r = map_new(cap, &m, &h, &l);
        if (r < 0)
            return r;
        memcpy((uint8_t *)m + LANES_PAGE_SIZE, n->data, n->size);
        free(n->data);
        n->data = (uint8_t *)m + LANES_PAGE_SIZE;
        n->cap = cap;
        n->map = m;
        n->mem = h;
        n->maplen = l;
        m->size = n->size;
    }
    *mem = n->mem;
    *len = n->maplen;
    return 0;
}

void node_put(struct node *n)
{
    if (n->nlink > 0 || n->opens > 0)
        return;
    if (n->map)
        map_drop(n->map, n->mem, n->maplen);
    else if (!n->borrowed)
        free(n->data);
    free(n->name);
    free(n);
    fs_nodes--;
}

struct node *node_child(struct node *dir, const char *name, size_t len)
{
    for (struct node *c = dir->children; c; c = c->next)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

/* Walks path; *parent gets the directory holding the last component, *last and *lastlen its name.
 * Returns the node (NULL when the last component does not exist) or sets *err. */
struct node *walk(const char *path, size_t len, struct node **parent, const char **last, size_t *lastlen, int *err)
{
    struct node *cur = fs_root, *par = fs_root;
    const char *lname = "";
    size_t llen = 0;
    size_t i = 0;
    *err = 0;
    while (i < len) {
        while (i < len && path[i] == '/')
            i++;
        if (i == len)
            break;
        size_t s = i;
        while (i < len && path[i] != '/')
            i++;
        if (!cur) {
            *err = -ENOENT;
            return NULL;
        }
        if (!S_ISDIR(cur->mode)) {
            *err = -ENOTDIR;
            return NULL;
        }
        if (i - s > NAME_MAX_BYTES) {
            *err = -ENAMETOOLONG;
            return NULL;
        }
        par = cur;
        lname = path + s;
        llen = i - s;
        if (llen == 1 && lname[0] == '.')
            continue;
        if (llen == 2 && lname[0] == '.' && lname[1] == '.') {
            cur = cur->parent;
            continue;
        }
        cur = node_child(cur, lname, llen);
    }
    if (parent)
        *parent = par;
    if (last) {
        *last = lname;
        *lastlen = llen;
    }
    return cur;
}

/* The file's length becomes size (new bytes zero); no seqlock write of its own. */
static int resize(struct node *n, size_t size)
{
    if (size > FS_MAX_FILE)
        return -EFBIG;
    if (n->map && size > n->cap) {
        struct lane_file_map *m, *old = n->map;
        int32_t h;
        size_t l, cap = map_cap(size);
        int r = map_new(cap, &m, &h, &l);
        if (r < 0)
            return r;
        memcpy((uint8_t *)m + LANES_PAGE_SIZE, n->data, n->size);
        m->seq = 1;                 /* inside the caller's write, like the old one */
        n->data = (uint8_t *)m + LANES_PAGE_SIZE;
        n->cap = cap;
        n->map = m;
        map_drop(old, n->mem, n->maplen);
        n->mem = h;
        n->maplen = l;
    } else if (!n->map && (n->borrowed || size > n->cap)) {
        size_t cap = n->cap && !n->borrowed ? n->cap : 256;
        while (cap < size)
            cap *= 2;
        uint8_t *d = malloc(cap);
        if (!d)
            return -ENOSPC;
        memcpy(d, n->data, n->size < size ? n->size : size);
        if (!n->borrowed)
            free(n->data);
        n->data = d;
        n->cap = cap;
        n->borrowed = false;
    }
    if (size > n->size)
        memset(n->data + n->size, 0, size - n->size);
    n->size = size;
    return 0;
}

int node_truncate(struct node *n, size_t size)
{
    map_begin(n);
    int r = resize(n, size);
    map_end(n);
    return r;
}

int64_t node_write(struct node *n, uint64_t off, const uint8_t *src, size_t len)
{
    if (off > FS_MAX_FILE || len > FS_MAX_FILE - off)
        return -EFBIG;
    map_begin(n);
    int r = 0;
    if (off + len > n->size || n->borrowed)
        r = resize(n, off + len > n->size ? off + len : n->size);
    if (r == 0)
        memcpy(n->data + off, src, len);
    map_end(n);
    return r < 0 ? r : (int64_t)len;
}

int fs_mkdir(const char *path, size_t len, uint32_t mode)
{
    struct node *par;
    const char *name;
    size_t nlen;
    int err;
    struct node *n = walk(path, len, &par, &name, &nlen, &err);
    if (err)
        return err;
    if (n || nlen == 0)
        return -EEXIST;
    if (!S_ISDIR(par->mode))
        return -ENOTDIR;
    bool fifo = (mode & S_IFMT) == S_IFIFO;        /* mkfifo comes as a mkdir with S_IFIFO */
    struct node *c = node_new(par, name, nlen, (fifo ? S_IFIFO : S_IFDIR) | (mode & 07777));
    if (c && fifo)
        c->dev = DEV_FIFO;
    return c ? 0 : -ENOSPC;
}

int fs_unlink(const char *path, size_t len, uint32_t flags)
{
    struct node *n;
    int err;
    n = walk(path, len, NULL, NULL, NULL, &err);
    if (err)
        return err;
    if (!n)
        return -ENOENT;
    if (n == fs_root)
        return -EBUSY;
    if (flags & AT_REMOVEDIR) {
        if (!S_ISDIR(n->mode))
            return -ENOTDIR;
        if (n->children)
            return -ENOTEMPTY;
    } else if (S_ISDIR(n->mode)) {
        return -EISDIR;
    }
    detach(n);
    n->nlink = 0;
    n->parent = n;
    node_put(n);
    return 0;
}

static bool is_under(struct node *n, struct node *dir)
{
    for (;;) {
        if (n == dir)
            return true;
        if (n == fs_root || n->parent == n)
            return false;
        n = n->parent;
    }
}

int fs_rename(const char *from, size_t flen, const char *to, size_t tlen)
{
    int err;
    struct node *src = walk(from, flen, NULL, NULL, NULL, &err);
    if (err)
        return err;
    if (!src)
        return -ENOENT;
    if (src == fs_root)
        return -EBUSY;
    struct node *dpar;
    const char *dname;
    size_t dlen;
    struct node *dst = walk(to, tlen, &dpar, &dname, &dlen, &err);
    if (err)
        return err;
    if (dlen == 0)
        return -EBUSY;
    if (!S_ISDIR(dpar->mode))
        return -ENOTDIR;
    if (dst == src)
        return 0;
    if (S_ISDIR(src->mode) && is_under(dpar, src))
        return -EINVAL;
    if (dst) {
        if (S_ISDIR(dst->mode) && !S_ISDIR(src->mode))
            return -EISDIR;
        if (!S_ISDIR(dst->mode) && S_ISDIR(src->mode))
            return -ENOTDIR;
        if (S_ISDIR(dst->mode) && dst->children)
            return -ENOTEMPTY;
    }
    char *nm = malloc(dlen + 1);
    if (!nm)
        return -ENOSPC;
    memcpy(nm, dname, dlen);
    nm[dlen] = 0;
    if (dst) {
        detach(dst);
        dst->nlink = 0;
        dst->parent = dst;
        node_put(dst);
    }
    detach(src);
    free(src->name);
    src->name = nm;
    src->parent = dpar;
    src->next = dpar->children;
    dpar->children = src;
    return 0;
}

/* Seeds the tree from the initrd (a ustar archive): its directories and files, the files'
 * bytes borrowed until written; then /tmp and /dev. */
int fs_seed(void)
{
    fs_root = node_new(NULL, "", 0, S_IFDIR | 0755);
    if (!fs_root)
        return -ENOMEM;
    const void *rd;
    size_t size;
    int files = 0;
    if (lanes_initrd(&rd, &size) == 0) {
        struct ustar_entry e;
        size_t pos = 0;
        while (ustar_next(rd, size, &pos, &e) == 1) {
            size_t len = strlen(e.name);
            while (len && e.name[len - 1] == '/')
                len--;
            /* make every parent directory */
            for (size_t i = 1; i < len; i++)
                if (e.name[i] == '/')
                    fs_mkdir(e.name, i, 0755);
            if (e.type == '5') {
                fs_mkdir(e.name, len, e.mode & 07777);
                continue;
            }
            if (e.type != '0' && e.type != 0)
                continue;
            struct node *par;
            const char *name;
            size_t nlen;
            int err;
            struct node *n = walk(e.name, len, &par, &name, &nlen, &err);
            if (err || n || !nlen || !S_ISDIR(par->mode))
                continue;
            n = node_new(par, name, nlen, S_IFREG | (e.mode & 07777 ? e.mode & 07777 : 0755));
            if (!n)
                return -ENOMEM;
            n->data = (uint8_t *)(uintptr_t)e.data;
            n->size = e.size;
            n->borrowed = true;
            files++;
        }
    }
    fs_mkdir("/tmp", 4, 01777);
    return files;
}
