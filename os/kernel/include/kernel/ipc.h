/*
 * ipc.h — IPC lanes (generic/ipc/): streams, lanes, action matching, completion queues, events.
 *
 * Only what the rest of the kernel needs: the syscall entry for numbers 64.. (os/abi/ipc.toml)
 * and the self-test hook. Everything else is private to generic/ipc/.
 */
#ifndef KERNEL_IPC_H
#define KERNEL_IPC_H

#include <kernel/kernel.h>

/* Runs IPC syscall r->rax (LANES_SYS_IPC_*) with the caller's registers; NOSYS if unknown. */
int64_t ipc_syscall(struct regs *r);

/* Process teardown (after its handles are closed): its actions still pending on lanes fail with
 * END_OF_LANE, so a dead process's receives never swallow messages and its lanes close. */
struct process;
void ipc_process_gone(struct process *p);
uint32_t ipc_live_submissions(void);
size_t ipc_describe_live(char *b, size_t cap);  /* a line per live submission (objects_sysfs.c) */

#endif
