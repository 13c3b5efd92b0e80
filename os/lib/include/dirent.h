/* dirent.h — getdents64 records and a small opendir/readdir on top. */
#ifndef LANES_LIBC_DIRENT_H
#define LANES_LIBC_DIRENT_H

#include <sys/types.h>

#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_REG 8

struct dirent {                 /* = Linux struct linux_dirent64 */
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
};

typedef struct DIR DIR;
ssize_t getdents(int fd, void *buf, size_t size);
DIR *opendir(const char *path);
struct dirent *readdir(DIR *d);
int closedir(DIR *d);

#endif
