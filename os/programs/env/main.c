/* env — env [NAME=VALUE]... [COMMAND ARGS...]: the environment (environ) with the given settings
 * added (a setting replaces a variable of the same name); with no command it is printed, one
 * NAME=VALUE a line, else COMMAND runs with it (posix_spawnp's envp: the kernel writes it on the
 * new program's stack, libc's startup makes it environ). */
#include <errno.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool same_name(const char *a, const char *b)
{
    size_t n = strcspn(a, "=");
    return strncmp(a, b, n) == 0 && b[n] == '=';
}

int main(int argc, char **argv)
{
    int i = 1;
    while (i < argc && strchr(argv[i], '='))
        i++;
    int nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    char **env = malloc((size_t)(nenv + i) * sizeof *env);
    if (!env) {
        dprintf(2, "env: out of memory\n");
        return 125;
    }
    int n = 0;
    for (int k = 0; k < nenv; k++) {
        bool replaced = false;
        for (int s = 1; s < i && !replaced; s++)
            replaced = same_name(argv[s], environ[k]);
        if (!replaced)
            env[n++] = environ[k];
    }
    for (int s = 1; s < i; s++)
        env[n++] = argv[s];
    env[n] = NULL;
    if (i == argc) {
        for (int k = 0; k < n; k++)
            printf("%s\n", env[k]);
        return 0;
    }
    pid_t pid;
    int e = posix_spawnp(&pid, argv[i], NULL, NULL, argv + i, env);
    if (e) {
        dprintf(2, "env: %s: %s\n", argv[i], strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return 126;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
