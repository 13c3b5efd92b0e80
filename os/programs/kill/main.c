/* kill — kill [-SIG] PID...: ends processes (SIGTERM by default; -9, -15, -2, or -0 to check). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int sig = SIGTERM, i = 1, st = 0;
    if (argc > 1 && argv[1][0] == '-') {
        sig = (int)strtol(argv[1] + 1, NULL, 10);
        i = 2;
    }
    if (i >= argc) {
        dprintf(2, "usage: kill [-SIG] PID...\n");
        return 2;
    }
    for (; i < argc; i++) {
        if (kill((pid_t)strtol(argv[i], NULL, 10), sig) < 0) {
            dprintf(2, "kill: %s: %s\n", argv[i], strerror(errno));
            st = 1;
        }
    }
    return st;
}
