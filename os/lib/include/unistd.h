/* unistd.h — the POSIX calls of LaneOS's libc (os/lib/src/posix.c): requests to the POSIX server
 * over the process's "posix" lane, and read/write/lseek straight to the file's server over the
 * file's own (passthrough) lane. -1 and errno on failure (Linux values, <errno.h>).
 * A process started without a posix lane (init's services) gets ENOSYS, except that fds 0-2
 * then mean the console. */
#ifndef LANES_LIBC_UNISTD_H
#define LANES_LIBC_UNISTD_H

#include <sys/types.h>

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define PIPE_BUF 4096
#define OPEN_MAX 256

ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
ssize_t pread(int fd, void *buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
off_t lseek(int fd, off_t off, int whence);
int close(int fd);
int dup(int fd);
int dup2(int fd, int newfd);
int pipe(int fds[2]);
int pipe2(int fds[2], int flags);
int unlink(const char *path);
int unlinkat(int dirfd, const char *path, int flags);
int rmdir(const char *path);
int rename(const char *oldpath, const char *newpath);
int chdir(const char *path);
char *getcwd(char *buf, size_t size);
pid_t getpid(void);
pid_t getppid(void);
pid_t gettid(void);
int setpgid(pid_t pid, pid_t pgid);
pid_t getpgid(pid_t pid);
pid_t getpgrp(void);
int tcsetpgrp(int fd, pid_t pgid);
pid_t tcgetpgrp(int fd);
pid_t getsid(pid_t pid);
__attribute__((noreturn)) void _exit(int status);
/* fork.c: fork (copy-on-write, the child shares our open descriptions), execve of an ELF file
 * read from the file system (close-on-exec fds are closed; pid, parent, cwd stay) */
pid_t fork(void);
int execve(const char *path, char *const argv[], char *const envp[]);
int execv(const char *path, char *const argv[]);
int execvp(const char *file, char *const argv[]);
extern char **environ;
unsigned sleep(unsigned seconds);
int pause(void);
unsigned alarm(unsigned seconds);

int usleep(unsigned usec);

struct lane_msg_posix_counters;
/** posix.GetCounters: the server's live figures (tests). 0 or -errno. */
int lanes_posix_counters(struct lane_msg_posix_counters *out);
/** Sends msg as it is on our posix lane and receives the reply (tests of malformed requests);
 *  the reply's length or -errno. */
int64_t lanes_posix_raw(const void *msg, size_t len, void *rep, size_t cap);
/** True when this process has a lane to the POSIX server. */
int lanes_posix_active(void);
/* The passthrough lane of fd (libc's cached copy: do not close it), or -1 with errno; for
 * programs that speak the file protocol themselves (canceltests). */
int lanes_posix_fd_lane(int fd);

#endif
