/* echo — prints its arguments separated by spaces, then a newline (-n: no newline). */
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int i = 1;
    int nl = 1;
    if (argc > 1 && strcmp(argv[1], "-n") == 0)
        nl = 0, i = 2;
    for (; i < argc; i++) {
        if (write(1, argv[i], strlen(argv[i])) < 0)
            return 1;
        if (i + 1 < argc)
            write(1, " ", 1);
    }
    if (nl)
        write(1, "\n", 1);
    return 0;
}
