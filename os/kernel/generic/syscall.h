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

#endif
