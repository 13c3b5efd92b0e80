/* mv — renames a file or directory (within the file system). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        dprintf(2, "usage: mv FROM TO\n");
        return 2;
    }
    if (rename(argv[1], argv[2]) < 0) {
        dprintf(2, "mv: %s -> %s: %s\n", argv[1], argv[2], strerror(errno));
        return 1;
    }
    return 0;
}
