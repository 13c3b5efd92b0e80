/* sys/types.h — POSIX scalar types (Linux x86_64 sizes). */
#ifndef LANES_LIBC_SYS_TYPES_H
#define LANES_LIBC_SYS_TYPES_H

#include <stdint.h>
#include <stddef.h>

typedef int32_t pid_t;
typedef uint32_t mode_t;
typedef int64_t off_t;
typedef int64_t ssize_t;
typedef uint64_t ino_t;
typedef uint64_t dev_t;
typedef uint64_t nlink_t;
typedef int64_t time_t;
typedef uint32_t uid_t;
typedef uint32_t gid_t;

#endif
