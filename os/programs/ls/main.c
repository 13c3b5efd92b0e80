/* ls — lists the initrd (a ustar archive mapped from our "initrd" handle): size and name. */
#include <lanes.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
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
