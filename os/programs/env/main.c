/* env — env [NAME=VALUE]... [COMMAND ARGS...]: prints the given settings, or runs COMMAND.
 * LaneOS has no environment block yet (posix_spawn ignores envp): with no command, env prints
 * only what it was given on its command line. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
    int i = 1;
    while (i < argc && strchr(argv[i], '='))
        i++;
    if (i == argc) {
        for (int k = 1; k < argc; k++)
            printf("%s\n", argv[k]);
        return 0;
    }
    pid_t pid;
    int e = posix_spawnp(&pid, argv[i], NULL, NULL, argv + i, NULL);
    if (e) {
        printf("env: %s: %s\n", argv[i], strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return 126;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
