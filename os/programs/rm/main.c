/* rm — removes files (-d: empty directories too). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int st = 0, dirs = 0, i = 1;
    if (argc > 1 && strcmp(argv[1], "-d") == 0)
        dirs = 1, i = 2;
    if (i >= argc) {
        dprintf(2, "usage: rm [-d] PATH...\n");
        return 2;
    }
    for (; i < argc; i++) {
        int r = unlink(argv[i]);
        if (r < 0 && errno == EISDIR && dirs)
            r = rmdir(argv[i]);
        if (r < 0) {
            dprintf(2, "rm: %s: %s\n", argv[i], strerror(errno));
            st = 1;
        }
    }
    return st;
}
