/* upload — writes a folder of the guest to the console as text, for the host to rebuild it:
 * what `ci-boot --upload GUEST_PATH:HOST_DIR` runs after the command (os/tools/lanesboot.py,
 * Guest.upload, parses it). One mechanism for every artifact the host wants out of a run — a
 * copy of /sys for Linux's lspci, a core dump, a log.
 *
 *   upload PATH     /sys/... through the sysfs syscalls (symlinks kept as links, binary
 *                   attributes byte for byte), any other path through the POSIX layer
 *
 * The format, one record a line (paths relative to PATH, '%XX' for any byte outside
 * [A-Za-z0-9._:,+=@/-]; "." is PATH itself):
 *   @@lanes-upload 1 PATH
 *   D path                      a directory
 *   L path target               a symlink (target as readlink gives it)
 *   F path size base64          a file and its contents
 *   E path reason               an entry that could not be read (the rest goes on)
 *   @@lanes-upload-end ENTRIES BYTES
 * The host checks the counts, so a line lost or garbled on the serial line fails the upload
 * instead of leaving a quietly different copy. Exit status: 0, or 1 when PATH cannot be read.
 */
#include <dirent.h>
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#define PATH_CAP 512
#define DATA_CAP 65536

static unsigned long entries;
static unsigned long long bytes;
static char data[DATA_CAP];
static char line[DATA_CAP * 4 / 3 + PATH_CAP * 3 + 64];

static size_t esc(char *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:,+=@/-", c)) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = 0;
    return n;
}

static size_t b64(char *out, const unsigned char *in, size_t len)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
        out[n++] = t[v >> 18];
        out[n++] = t[(v >> 12) & 63];
        out[n++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
        out[n++] = i + 2 < len ? t[v & 63] : '=';
    }
    out[n] = 0;
    return n;
}

static void record(char kind, const char *rel, const char *extra, const void *content, size_t len)
{
    size_t n = 0;
    line[n++] = kind;
    line[n++] = ' ';
    n += esc(line + n, rel[0] ? rel : ".");
    if (kind == 'F') {
        n += (size_t)snprintf(line + n, sizeof line - n, " %zu ", len);
        n += b64(line + n, content, len);
        bytes += len;
    } else if (extra) {
        line[n++] = ' ';
        n += kind == 'L' ? esc(line + n, extra) : (size_t)snprintf(line + n, sizeof line - n, "%s", extra);
    }
    line[n++] = '\n';
    console_write(line, n);
    entries++;
}

static void join(char *out, const char *a, const char *b)
{
    snprintf(out, PATH_CAP, "%s%s%s", a, a[0] ? "/" : "", b);
}

static void walk_sysfs(const char *root, const char *rel)
{
    char full[PATH_CAP];
    snprintf(full, sizeof full, "%s%s%s", root, rel[0] ? "/" : "", rel);
    static char list[8192];
    int64_t r = lanes_sys_sysfs_list(full, strlen(full), list, sizeof list - 1);
    if (r < 0) {
        record('E', rel, lanes_strerror(r), NULL, 0);
        return;
    }
    record('D', rel, NULL, NULL, 0);
    list[r] = 0;
    char *mine = malloc((size_t)r + 1);    /* the recursion reuses list */
    if (!mine) {
        record('E', rel, "out of memory", NULL, 0);
        return;
    }
    memcpy(mine, list, (size_t)r + 1);
    for (char *l = mine; *l;) {
        char *nl = strchr(l, '\n');
        if (!nl)
            break;
        *nl = 0;
        char sub[PATH_CAP], subfull[PATH_CAP];
        join(sub, rel, l + 2);
        snprintf(subfull, sizeof subfull, "%s/%s", root, sub);
        if (l[0] == 'd') {
            walk_sysfs(root, sub);
        } else if (l[0] == 'l') {
            char t[PATH_CAP];
            int64_t k = lanes_sys_sysfs_readlink(subfull, strlen(subfull), t, sizeof t - 1);
            if (k < 0) {
                record('E', sub, lanes_strerror(k), NULL, 0);
            } else {
                t[k] = 0;
                record('L', sub, t, NULL, 0);
            }
        } else {
            int64_t k = lanes_sys_sysfs_read(subfull, strlen(subfull), data, sizeof data);
            if (k < 0)
                record('E', sub, lanes_strerror(k), NULL, 0);
            else
                record('F', sub, NULL, data, (size_t)k);
        }
        l = nl + 1;
    }
    free(mine);
}

static void walk_posix(const char *root, const char *rel, int depth)
{
    char full[PATH_CAP];
    snprintf(full, sizeof full, "%s%s%s", root, rel[0] ? "/" : "", rel);
    struct stat st;
    if (stat(full, &st) < 0) {
        record('E', rel, "cannot stat", NULL, 0);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        int fd = open(full, O_RDONLY);
        if (fd < 0) {
            record('E', rel, "cannot open", NULL, 0);
            return;
        }
        size_t n = 0;
        for (;;) {
            long k = read(fd, data + n, sizeof data - n);
            if (k <= 0)
                break;
            n += (size_t)k;
            if (n == sizeof data)
                break;
        }
        close(fd);
        if (n == sizeof data)
            record('E', rel, "larger than 64 KiB", NULL, 0);
        else
            record('F', rel, NULL, data, n);
        return;
    }
    record('D', rel, NULL, NULL, 0);
    if (depth > 16)
        return;
    DIR *d = opendir(full);
    if (!d)
        return;
    static char names[64][256];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names[nn++], sizeof names[0], "%s", e->d_name);
    closedir(d);
    char (*mine)[256] = malloc(sizeof names);
    if (!mine) {
        record('E', rel, "out of memory", NULL, 0);
        return;
    }
    memcpy(mine, names, sizeof names);
    for (int i = 0; i < nn; i++) {
        char sub[PATH_CAP];
        join(sub, rel, mine[i]);
        walk_posix(root, sub, depth + 1);
    }
    free(mine);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        printf("usage: upload PATH   (writes PATH and everything below it to the console for ci-boot --upload)\n");
        return 2;
    }
    char root[PATH_CAP];
    snprintf(root, sizeof root, "%s", argv[1]);
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        root[--rl] = 0;
    bool sys = !strncmp(root, "/sys", 4) && (root[4] == 0 || root[4] == '/');
    if (sys) {
        struct lane_sysfs_stat st;
        int64_t r = lanes_sys_sysfs_stat(root, strlen(root), &st);
        if (r < 0) {
            printf("upload: %s: %s\n", root, lanes_strerror(r));
            return 1;
        }
    } else {
        struct stat st;
        if (stat(root, &st) < 0) {
            printf("upload: %s: cannot stat\n", root);
            return 1;
        }
    }
    char head[PATH_CAP * 3 + 32];
    int n = snprintf(head, 32, "@@lanes-upload 1 ");
    n += (int)esc(head + n, root);
    head[n++] = '\n';
    console_write(head, (size_t)n);
    if (sys)
        walk_sysfs(root, "");
    else
        walk_posix(root, "", 0);
    printf("@@lanes-upload-end %lu %llu\n", entries, bytes);
    return 0;
}
