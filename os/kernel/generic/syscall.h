/*
 * syscall.h — what the system call files (generic/syscall.c and the sys_*.c family files,
 * ioport_irq.c) share: the signature of a call, and a declaration of sys_NAME for every call of
 * os/abi/kernel.toml, so a call the ABI lists but no file defines fails the link.
 */
#ifndef GENERIC_SYSCALL_H
#define GENERIC_SYSCALL_H

#include <kernel/kernel.h>

/* A call takes rdi, rsi, rdx, r10, r8 as a0..a4 and returns rax (a value or a LANES_E_*). */
#define SYS(name) int64_t sys_##name(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
#define UNUSED_ARGS (void)a0, (void)a1, (void)a2, (void)a3, (void)a4
#define SYS_DECLARE(num, name, nargs) SYS(name);
LANES_SYSCALLS(SYS_DECLARE)
#undef SYS_DECLARE

/* The calling process. */
static inline struct process *self(void) { return current()->proc; }

/* A program a spawn or exec call names in the caller's memory, copied in (sys_process.c): its
 * name (cut to 31 bytes), image, argc + envc NUL-terminated strings (args, len bytes: what
 * follows the last string is left out) and the handles to pass (sh, nhandles of them; he has
 * room for as many entries). Limits on the counts are the calls' own. */
#define PROG_MAX_IMAGE (64ULL << 20)
#define PROG_MAX_ARGS (64 * 1024)
struct prog_in {
    char name[32];
    char *args;
    uint64_t len;
    uint8_t *img;
    struct lane_spawn_handle *sh;
    struct lane_handle_entry *he;
};
int64_t prog_copy_in(struct prog_in *in, uint64_t name, uint64_t image, uint64_t image_len, uint64_t args,
                     uint64_t args_len, uint32_t argc, uint32_t envc, uint64_t handles, uint32_t nhandles);
void prog_free(struct prog_in *in);

#endif
