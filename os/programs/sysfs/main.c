/* sysfs — browse and change the kernel's object tree (kernel sysfs, syscalls 40-43).
 *
 *   sysfs                         the same as `sysfs tree /sys`
 *   sysfs ls [PATH]               entries of a directory: NAME/ for directories, NAME for
 *                                 read-only attributes, NAME (w) for writable ones
 *   sysfs cat PATH...             attribute values
 *   sysfs tree [PATH]             every directory below PATH with its attributes and values
 *   sysfs write PATH VALUE        change a writable attribute (needs the system capability,
 *                                 which the manifest asks for and the shell grants)
 *   sysfs stat PATH               kind, mode, size and node id
 * PATH is "/sys/..." (or the same without "/sys"). Exit status 0, or 1 with the error named.
 */
#include <lanes.h>
#include <stdio.h>
#include <string.h>

LANES_MANIFEST("system");

static char buf[8192];

static int fail(const char *what, const char *path, int64_t r)
{
    printf("sysfs %s %s: %s\n", what, path, r == LANES_E_TYPE ? "wrong kind (a directory where an attribute is needed, or the reverse)"
           : r == LANES_E_NOENT ? "no such file or directory" : lanes_strerror(r));
    return 1;
}

static int do_ls(const char *path)
{
    int64_t r = lanes_sys_sysfs_list(path, strlen(path), buf, sizeof buf);
    if (r < 0)
        return fail("ls", path, r);
    for (char *l = buf; l < buf + r;) {
        char *e = memchr(l, '\n', (size_t)(buf + r - l));
        if (!e)
            break;
        *e = 0;
        printf("%s%s\n", l + 2, l[0] == 'd' ? "/" : l[0] == 'w' ? " (w)" : "");
        l = e + 1;
    }
    return 0;
}

static int do_cat(const char *path)
{
    char v[512];
    int64_t r = lanes_sys_sysfs_read(path, strlen(path), v, sizeof v - 1);
    if (r < 0)
        return fail("cat", path, r);
    v[r] = 0;
    printf("%s", v);
    return 0;
}

static void tree(const char *path, int depth)
{
    char list[2048];
    int64_t r = lanes_sys_sysfs_list(path, strlen(path), list, sizeof list);
    if (r < 0) {
        printf("%*s%s: %s\n", depth * 2, "", path, lanes_strerror(r));
        return;
    }
    const char *base = strrchr(path, '/');
    printf("%*s%s/\n", depth * 2, "", depth && base ? base + 1 : path);
    for (char *l = list; l < list + r;) {
        char *e = memchr(l, '\n', (size_t)(list + r - l));
        if (!e)
            break;
        *e = 0;
        char sub[256];
        snprintf(sub, sizeof sub, "%s/%s", path, l + 2);
        if (l[0] == 'd') {
            tree(sub, depth + 1);
        } else {
            char v[256];
            int64_t n = lanes_sys_sysfs_read(sub, strlen(sub), v, sizeof v - 1);
            if (n < 0)
                snprintf(v, sizeof v, "<%s>", lanes_strerror(n));
            else
                v[n && v[n - 1] == '\n' ? n - 1 : n] = 0;
            printf("%*s%s%s = %s\n", depth * 2 + 2, "", l + 2, l[0] == 'w' ? " (w)" : "", v);
        }
        l = e + 1;
    }
}

static int do_write(const char *path, const char *value)
{
    int32_t sys = lanes_handle_by_tag("system");
    if (sys == LANES_HANDLE_NONE) {
        printf("sysfs write: this process holds no system capability\n");
        return 1;
    }
    int64_t r = lanes_sys_sysfs_write(sys, path, strlen(path), value, strlen(value));
    if (r < 0)
        return fail("write", path, r == LANES_E_ACCESS ? LANES_E_ACCESS : r);
    return do_cat(path);
}

static int do_stat(const char *path)
{
    struct lane_sysfs_stat st;
    int64_t r = lanes_sys_sysfs_stat(path, strlen(path), &st);
    if (r < 0)
        return fail("stat", path, r);
    printf("%s: %s, %s%s, %llu bytes, node %llu", path, st.kind == LANES_SYSFS_KIND_DIR ? "directory" : "attribute",
           st.mode & LANES_SYSFS_MODE_READ ? "r" : "-", st.mode & LANES_SYSFS_MODE_WRITE ? "w" : "-",
           (unsigned long long)st.size, (unsigned long long)st.node);
    if (st.kind == LANES_SYSFS_KIND_DIR)
        printf(", %u entries", st.entries);
    printf("\n");
    return 0;
}

static int usage(void)
{
    printf("usage: sysfs [ls [PATH] | cat PATH... | tree [PATH] | write PATH VALUE | stat PATH]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        tree("/sys", 0);
        return 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "ls"))
        return do_ls(argc > 2 ? argv[2] : "/sys");
    if (!strcmp(cmd, "tree")) {
        tree(argc > 2 ? argv[2] : "/sys", 0);
        return 0;
    }
    if (!strcmp(cmd, "cat") && argc > 2) {
        int st = 0;
        for (int i = 2; i < argc; i++)
            st |= do_cat(argv[i]);
        return st;
    }
    if (!strcmp(cmd, "write") && argc == 4)
        return do_write(argv[2], argv[3]);
    if (!strcmp(cmd, "stat") && argc == 3)
        return do_stat(argv[2]);
    return usage();
}
