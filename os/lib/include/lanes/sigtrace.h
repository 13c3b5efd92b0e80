/* lanes/sigtrace.h — writing the cancellation trace records (os/abi/trace.toml, class `signal`,
 * the contract CANCEL-TRACE.md) from user space: libc, the posix server and the fs server.
 * (cancel_raise / cancel_ack: <lanes/cancel.h>.)
 * Each goes through the kernel's trace_user system call, which checks type and size and adds
 * the header (CPU, TSC, event id); after sys_begin (and cancel_raise / cancel_ack) it adds a
 * call_site record with the writer's frames. All return the event id (0: not recorded, class off).
 * lanes_utrace_sys_begin/_end (libc's own, around every POSIX call) write the same records into
 * the thread's staging page instead, without a system call (lib/src/utrace.c); they return 0. */
#ifndef LANES_SIGTRACE_H
#define LANES_SIGTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SIG_WHY_KILL, SIG_WHY_ALARM, SIG_WHY_CTRL_C, SIG_WHY_FAULT, SIG_WHY_CTRL_Z, SIG_WHY_CHILD, SIG_WHY_PIPE, SIG_WHY_OTHER };
enum { SYS_OUT_COMPLETED, SYS_OUT_EINTR, SYS_OUT_PARTIAL, SYS_OUT_RESTARTED, SYS_OUT_KILLED, SYS_OUT_RACED };
enum { CANCEL_KIND_EVENT, CANCEL_KIND_LANE, CANCEL_KIND_LOCAL };
enum { SIG_DEF_TERMINATE, SIG_DEF_CORE, SIG_DEF_STOP, SIG_DEF_CONT, SIG_DEF_IGNORE };

uint64_t lanes_trace_sys_begin(uint64_t call, uint32_t pid, uint32_t tid, uint32_t nr, int32_t fd, uint64_t arg,
                               const char *name);
uint64_t lanes_trace_sys_end(uint64_t call, uint32_t pid, uint32_t tid, int64_t result, int outcome, int signo,
                             uint64_t requested, uint64_t done);
uint64_t lanes_utrace_sys_begin(uint64_t call, uint32_t pid, uint32_t tid, uint32_t nr, int32_t fd, uint64_t arg,
                                const char *name);
uint64_t lanes_utrace_sys_end(uint64_t call, uint32_t pid, uint32_t tid, int64_t result, int outcome, int signo,
                              uint64_t requested, uint64_t done);
uint64_t lanes_trace_sig_generate(uint32_t sender, uint32_t pid, uint32_t tid, int signo, int why, uint64_t call,
                                  uint64_t value);
uint64_t lanes_trace_sig_flag(uint64_t call, uint32_t tid, int from, int to, int signo);
uint64_t lanes_trace_sig_handler(uint64_t call, uint32_t pid, uint32_t tid, int signo, int phase, uint64_t handler);
uint64_t lanes_trace_sig_action(uint32_t pid, uint32_t tid, int signo, int action, uint64_t call);
/* The same records through the staging page (no system call; return 0): lanes_utrace_record takes
 * trace_user's type, body and len (with_frames: the call_site frames, for cancel_raise/ack; tid 0:
 * the caller's). cancel_ack stays a trace_user call (Break on next cancellation stops there). */
uint64_t lanes_utrace_record(uint32_t tid, uint32_t type, const void *body, size_t len, bool with_frames);
uint64_t lanes_utrace_sig_generate(uint32_t sender, uint32_t pid, uint32_t tid, int signo, int why, uint64_t call,
                                   uint64_t value);
uint64_t lanes_utrace_sig_flag(uint64_t call, uint32_t tid, int from, int to, int signo);
uint64_t lanes_utrace_sig_handler(uint64_t call, uint32_t pid, uint32_t tid, int signo, int phase, uint64_t handler);

#endif
