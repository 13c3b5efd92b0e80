/* cat — prints files: kernel sysfs attributes ("/sys/...", read with sysfs_read; a binary one,
 * such as a PCI function's config, as a hexdump -C style dump; through symlinks) and files of
 * the file system (read/write through the POSIX layer; no argument or "-": stdin). Several
 * paths are printed one after the other; a path that cannot be read is named with the reason
 * and makes the exit status 1 (on stderr, fd 2, as POSIX has it — `cat /nope 2>&1 | wc -l` is 1,
 * `cat /nope | wc -l` 0 —; on the console without the POSIX layer). A process without a lane to
 * the POSIX server reads files of the initrd instead, as before (e.g. "cat bin/ls").
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cat_fd(int fd, const char *name)
{
    static char buf[16384];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        if (write(1, buf, (size_t)n) != n)
            return 1;
    }
    if (n < 0) {
        dprintf(2, "cat: %s: %s\n", name, errno == EISDIR ? "is a directory" : strerror(errno));
        return 1;
    }
    return 0;
}

static int cat_posix(const char *path)
{
    if (!strcmp(path, "-"))
        return cat_fd(0, "stdin");
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        dprintf(2, "cat: %s: %s\n", path, errno == ENOENT ? "no such file or directory" : strerror(errno));
        return 1;
    }
    int r = cat_fd(fd, path);
    close(fd);
    return r;
}

static int cat_sysfs(const char *path)
{
    struct lane_sysfs_stat st;
    int64_t r = lanes_sys_sysfs_stat(path, strlen(path), &st);
    if (r >= 0 && st.kind == LANES_SYSFS_KIND_DIR) {
        dprintf(2, "cat: %s: is a directory (try ls %s)\n", path, path);
        return 1;
    }
    static char v[LANES_SYSFS_VALUE_BYTES];
    if (r >= 0 && st.kind == LANES_SYSFS_KIND_LINK) {   /* stat does not follow the last link: ask again */
        struct lane_sysfs_stat t;
        char dir[300];
        snprintf(dir, sizeof dir, "%s/.", path);        /* "link/." follows it */
        if (lanes_sys_sysfs_stat(dir, strlen(dir), &t) >= 0 && t.kind == LANES_SYSFS_KIND_DIR) {
            dprintf(2, "cat: %s: is a directory (try ls %s)\n", path, path);
            return 1;
        }
    }
    if (r >= 0)
        r = lanes_sys_sysfs_read(path, strlen(path), v, sizeof v);
    if (r < 0) {
        dprintf(2, "cat: %s: %s\n", path, r == LANES_E_NOENT ? "no such file or directory" : lanes_strerror(r));
        return 1;
    }
    struct lane_sysfs_stat t;
    if (lanes_sys_sysfs_stat(path, strlen(path), &t) >= 0 && (t.mode & LANES_SYSFS_MODE_BINARY)) {
        for (int64_t off = 0; off < r; off += 16) {     /* a binary attribute: hexdump -C style */
            char line[96];
            int n = snprintf(line, sizeof line, "%08llx ", (unsigned long long)off);
            for (int64_t i = off; i < off + 16; i++)
                n += i < r ? snprintf(line + n, sizeof line - (size_t)n, " %02x", (unsigned char)v[i])
                           : snprintf(line + n, sizeof line - (size_t)n, "   ");
            n += snprintf(line + n, sizeof line - (size_t)n, "  |");
            for (int64_t i = off; i < off + 16 && i < r; i++)
                line[n++] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '.';
            line[n++] = '|';
            line[n] = 0;
            printf("%s\n", line);
        }
        return 0;
    }
    console_write(v, (size_t)r);
    return 0;
}

static int cat_initrd(const char *path)
{
    const void *rd;
    size_t size;
    int64_t r = lanes_initrd(&rd, &size);
    if (r < 0) {
        dprintf(2, "cat: %s: cannot map the initrd: %s\n", path, lanes_strerror(r));
        return 1;
    }
    while (*path == '/')
        path++;
    struct ustar_entry e;
    r = ustar_find(rd, size, path, &e);
    if (r < 0) {
        dprintf(2, "cat: %s: %s\n", path, r == LANES_E_NOENT ? "no such file or directory" : "the initrd is corrupt");
        return 1;
    }
    console_write(e.data, e.size);
    return 0;
}

int main(int argc, char **argv)
{
    bool posix = lanes_posix_active();
    if (argc < 2 && posix)
        return cat_fd(0, "stdin");
    if (argc < 2) {
        dprintf(2, "usage: cat PATH...   (/sys/... for kernel attributes, other paths from the initrd)\n");
        return 2;
    }
    int st = 0;
    for (int i = 1; i < argc; i++)
        st |= !strncmp(argv[i], "/sys", 4) && (argv[i][4] == 0 || argv[i][4] == '/') ? cat_sysfs(argv[i])
                                                                                     : posix ? cat_posix(argv[i])
                                                                                             : cat_initrd(argv[i]);
    return st;
}
