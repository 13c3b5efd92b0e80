/* spawn.h — posix_spawn: the program is read from the file system (the fs server), started by
 * the kernel, and registered with the POSIX server, which gives it a copy of our fd table
 * (without close-on-exec fds) with the file actions applied. */
#ifndef LANES_LIBC_SPAWN_H
#define LANES_LIBC_SPAWN_H

#include <sys/types.h>

#define POSIX_SPAWN_MAX_ACTIONS 16
typedef struct {
    int n;
    struct { int op, fd, newfd; } a[POSIX_SPAWN_MAX_ACTIONS];
} posix_spawn_file_actions_t;
typedef struct { int flags; } posix_spawnattr_t;

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa);
int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa);
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd);
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd);
/** Returns 0 or an errno value (not -1). path without '/' is looked up in /bin. */
int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[]);
int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[]);

#endif
