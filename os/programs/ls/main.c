/* ls — lists the initrd (a ustar archive mapped from our "initrd" handle): size and name.
 * `ls /sys/...` lists a directory of the kernel's sysfs instead (syscall sysfs_list):
 * "d NAME" for directories, "r NAME" / "w NAME" for read-only / writable attributes. */
#include <lanes.h>
#include <stdio.h>
#include <string.h>

static int ls_sysfs(const char *path)
{
    static char buf[8192];
    int64_t r = lanes_sys_sysfs_list(path, strlen(path), buf, sizeof buf);
    if (r < 0) {
        printf("ls: %s: %s\n", path, r == LANES_E_NOENT ? "no such file or directory"
               : r == LANES_E_TYPE ? "not a directory" : lanes_strerror(r));
        return 1;
    }
    console_write(buf, (size_t)r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strncmp(argv[1], "/sys", 4) && (argv[1][4] == 0 || argv[1][4] == '/'))
        return ls_sysfs(argv[1]);
    const void *rd;
    size_t size;
    int64_t r = lanes_initrd(&rd, &size);
    if (r < 0) {
        printf("ls: cannot map the initrd: %s\n", lanes_strerror(r));
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
        printf("ls: the initrd is corrupt at offset %zu\n", pos);
        return 1;
    }
    printf("%d entries, %zu bytes\n", n, size);
    return 0;
}
