/* cp — copies a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        dprintf(2, "usage: cp FROM TO\n");
        return 2;
    }
    int in = open(argv[1], O_RDONLY);
    if (in < 0) {
        dprintf(2, "cp: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (out < 0) {
        dprintf(2, "cp: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    static char buf[16384];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            dprintf(2, "cp: %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
    }
    if (n < 0) {
        dprintf(2, "cp: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    close(in);
    close(out);
    return 0;
}
