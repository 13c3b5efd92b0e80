/* signal.h — signal numbers (Linux) and kill(). Signals themselves come with the next issue:
 * until then kill() with SIGKILL, SIGTERM or SIGINT ends the process, 0 checks it exists. */
#ifndef LANES_LIBC_SIGNAL_H
#define LANES_LIBC_SIGNAL_H

#include <sys/types.h>

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGSEGV 11
#define SIGPIPE 13
#define SIGTERM 15

int kill(pid_t pid, int sig);

#endif
