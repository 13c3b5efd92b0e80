/*
 * hot.h — LIBC_HOT: a libc function on the path of every POSIX call (the call's begin and end
 * with their trace records, the fd lookup, a pipe ring's read and write, the futex waits,
 * memcpy). lib/user.ld puts them together right after the program's startup code: three pages
 * instead of a dozen spread over the text, so each switch into the process is followed by that
 * many fewer TLB misses (under QEMU's TCG, where a CR3 load drops the whole software TLB, that
 * many fewer refills: issue 13's pipe round trip, os/README "Where the benchmark stands"). The
 * kernel's counterpart is kernel/hot.h. Mark only what a profile shows (tools/tlb-profile names
 * the pages touched after a switch; tools/ipc-profile counts the instructions).
 */
#pragma once

#define LIBC_HOT __attribute__((section(".text.hot")))

/* LIBC_HOT_DATA: the words those functions read on every call (the posix lane, its lock, the
 * startup block, the trace page's slot, the bounce buffer's pointer), gathered at the start of
 * .data the same way. (fds[] stays in .bss: moved behind them, 64 KiB pipe writes went from
 * 152 to 89 MB/s, for a reason not found yet.) */
#define LIBC_HOT_DATA __attribute__((section(".data.hot")))
