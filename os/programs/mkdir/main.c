/* mkdir — makes directories (-p: parents too, and no error if one exists). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
    int st = 0, parents = 0, i = 1;
    if (argc > 1 && strcmp(argv[1], "-p") == 0)
        parents = 1, i = 2;
    if (i >= argc) {
        dprintf(2, "usage: mkdir [-p] DIR...\n");
        return 2;
    }
    for (; i < argc; i++) {
        if (parents) {
            char path[512];
            strlcpy(path, argv[i], sizeof path);
            for (char *p = path + 1; *p; p++) {
                if (*p == '/') {
                    *p = 0;
                    mkdir(path, 0777);
                    *p = '/';
                }
            }
        }
        if (mkdir(argv[i], 0777) < 0 && !(parents && errno == EEXIST)) {
            dprintf(2, "mkdir: %s: %s\n", argv[i], strerror(errno));
            st = 1;
        }
    }
    return st;
}
