/* ls — lists directories of the file system: `ls [-l] [PATH...]` (default "."), one name per
 * line in directory order (newest first), "." and ".." left out; -l adds the type, mode and
 * size. `ls /sys/...` lists a directory of the kernel's sysfs instead (syscall sysfs_list):
 * "d NAME" for directories, "r NAME" / "w NAME" for read-only / writable attributes, "l NAME"
 * for symlinks; `ls -l /sys/...` shows each as Linux's ls -l would (mode, size, "NAME -> target"
 * for a link, "[binary]" after a binary attribute such as a PCI function's config).
 * A process without a lane to the POSIX server lists the initrd (size and name), as before. */
#include <dirent.h>
#include <errno.h>
#include <lanes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ls_path(const char *path, int longfmt)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        dprintf(2, "ls: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (longfmt)
            printf("%c %04o %8lld %s\n", S_ISCHR(st.st_mode) ? 'c' : '-', st.st_mode & 07777, (long long)st.st_size, path);
        else
            printf("%s\n", path);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        dprintf(2, "ls: %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!longfmt) {
            printf("%s\n", e->d_name);
            continue;
        }
        char full[512];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) < 0)
            printf("? %s\n", e->d_name);
        else
            printf("%c %04o %8lld %s\n", S_ISDIR(st.st_mode) ? 'd' : '-', st.st_mode & 07777, (long long)st.st_size,
                   e->d_name);
    }
    closedir(d);
    return 0;
}

static void ls_sysfs_long(const char *dir, const char *name)
{
    char full[256], target[256];
    snprintf(full, sizeof full, "%s/%s", dir, name);
    struct lane_sysfs_stat st;
    if (lanes_sys_sysfs_stat(full, strlen(full), &st) < 0) {
        printf("?????????? %s\n", name);
        return;
    }
    if (st.kind == LANES_SYSFS_KIND_LINK) {
        int64_t n = lanes_sys_sysfs_readlink(full, strlen(full), target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        printf("lrwxrwxrwx %6llu %s -> %s\n", (unsigned long long)st.size, name, target);
    } else if (st.kind == LANES_SYSFS_KIND_DIR) {
        printf("drwxr-xr-x %6u %s\n", st.entries, name);
    } else {
        printf("-r%c-r--r-- %6llu %s%s\n", st.mode & LANES_SYSFS_MODE_WRITE ? 'w' : '-', (unsigned long long)st.size, name,
               st.mode & LANES_SYSFS_MODE_BINARY ? " [binary]" : "");
    }
}

static int ls_sysfs(const char *path, int longfmt)
{
    static char buf[8192];
    int64_t r = lanes_sys_sysfs_list(path, strlen(path), buf, sizeof buf - 1);
    if (r < 0) {
        dprintf(2, "ls: %s: %s\n", path, r == LANES_E_NOENT ? "no such file or directory"
               : r == LANES_E_TYPE ? "not a directory" : lanes_strerror(r));
        return 1;
    }
    if (!longfmt) {
        console_write(buf, (size_t)r);
        return 0;
    }
    buf[r] = 0;
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = 0;
        if (nl - line > 2)
            ls_sysfs_long(path, line + 2);
        line = nl + 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int sl = argc > 2 && !strcmp(argv[1], "-l");
    if (argc > 1 + sl && !strncmp(argv[1 + sl], "/sys", 4) && (argv[1 + sl][4] == 0 || argv[1 + sl][4] == '/'))
        return ls_sysfs(argv[1 + sl], sl);
    if (lanes_posix_active()) {
        int longfmt = argc > 1 && strcmp(argv[1], "-l") == 0;
        int first = 1 + longfmt, st = 0;
        if (first >= argc)
            return ls_path(".", longfmt);
        for (int i = first; i < argc; i++)
            st |= ls_path(argv[i], longfmt);
        return st;
    }
    const void *rd;
    size_t size;
    int64_t r = lanes_initrd(&rd, &size);
    if (r < 0) {
        dprintf(2, "ls: cannot map the initrd: %s\n", lanes_strerror(r));
        return 1;
    }
    const char *filter = argc > 1 ? argv[1] : NULL;
    struct ustar_entry e;
    size_t pos = 0;
    int n = 0;
    while ((r = ustar_next(rd, size, &pos, &e)) == 1) {
        if (filter && strncmp(e.name, filter, strlen(filter)) != 0)
            continue;
        printf("%c %8zu  %s\n", e.type == '5' ? 'd' : '-', e.size, e.name);
        n++;
    }
    if (r < 0) {
        dprintf(2, "ls: the initrd is corrupt at offset %zu\n", pos);
        return 1;
    }
    printf("%d entries, %zu bytes\n", n, size);
    return 0;
}
