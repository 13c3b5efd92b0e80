/* sys/mman.h — anonymous memory: mmap (MAP_ANONYMOUS only: MAP_PRIVATE is demand paged and
 * copy-on-write across fork, MAP_SHARED stays shared with forked children), munmap (any page
 * range: mappings are split), mprotect (os/lib/src/fork.c). */
#ifndef LANES_LIBC_SYS_MMAN_H
#define LANES_LIBC_SYS_MMAN_H

#include <sys/types.h>

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_ANON MAP_ANONYMOUS
#define MAP_FAILED ((void *)-1)

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);

#endif
