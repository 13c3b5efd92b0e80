/* sleep — waits N seconds (a decimal fraction is allowed: sleep 0.5). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        dprintf(2, "usage: sleep SECONDS\n");
        return 2;
    }
    char *end;
    long s = strtol(argv[1], &end, 10);
    long ns = 0;
    if (*end == '.') {
        long scale = 100000000;
        for (end++; *end >= '0' && *end <= '9' && scale; end++, scale /= 10)
            ns += (*end - '0') * scale;
    }
    if (*end || s < 0) {
        dprintf(2, "sleep: bad number %s\n", argv[1]);
        return 2;
    }
    struct timespec ts = { s, ns };
    return nanosleep(&ts, NULL) < 0;
}
