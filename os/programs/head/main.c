/* head — the first N lines (default 10; -n N) of each file or of stdin; diagnostics on fd 2. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int head(int fd, const char *name, long lines)
{
    static char buf[4096];
    ssize_t n;
    while (lines > 0 && (n = read(fd, buf, sizeof buf)) > 0) {
        ssize_t k = 0;
        while (k < n && lines > 0)
            if (buf[k++] == '\n')
                lines--;
        if (write(1, buf, (size_t)k) < 0)
            return 1;
    }
    if (lines > 0 && n < 0) {
        dprintf(2, "head: %s: %s\n", name, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long lines = 10;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        lines = strtol(argv[2], NULL, 10);
        i = 3;
    }
    if (i >= argc)
        return head(0, "stdin", lines);
    int st = 0;
    for (; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            dprintf(2, "head: %s: %s\n", argv[i], strerror(errno));
            st = 1;
            continue;
        }
        st |= head(fd, argv[i], lines);
        close(fd);
    }
    return st;
}
