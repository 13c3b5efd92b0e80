/*
 * hot.h — where the code and data of the kernel's hottest paths go, and why.
 *
 * HOT marks a function on the path of every system call, futex wait and wake, switch and drain
 * of libc's trace records (entry.S puts its syscall entry, switch_context and user_load32 there
 * too); HOT_DATA and HOT_RODATA the variables those paths touch each time (the run queues, the
 * futex buckets, the trace rings' heads, the clock's scale, the syscall table). linker.ld puts
 * the functions on their own pages at the start of .text, the constants right after them, and
 * the variables at the start of .data: three pages of code and five of data (two of them this
 * CPU's TSS and struct cpu), where they were spread over sixteen and fourteen. The variables
 * those paths write (HOT_DATA_RW) follow the read-mostly ones from a cache line of their own, so
 * that a flag every pushcli reads never shares a line with a counter every wake-up writes on
 * another CPU (a precaution: no change it made was measurable in the benchmark).
 *
 * Each address-space switch drops the TLB's entries, kernel ones included where there are no
 * global pages — and under QEMU's TCG, whatever the PTEs say, every CR3 load flushes its whole
 * software TLB: each page touched after a switch costs a page walk in the emulator. A pipe round
 * trip between two processes on one CPU (two switches) touched 163 pages that way before and
 * 105 after; issue 13's figure, os/README "Where the benchmark stands". lib/src/hot.h does the
 * same for libc. Mark only what a profile shows: tools/tlb-profile names the pages walked
 * again after a switch, tools/ipc-profile counts the instructions.
 *
 * A header of its own so that balance_math.c, which the host test compiles too, can use it.
 */
#pragma once

#define HOT __attribute__((section(".text.hot")))
#define HOT_DATA __attribute__((section(".data.hot")))         /* read on those paths, rarely written */
#define HOT_DATA_RW __attribute__((section(".data.hot.rw")))   /* written on them (per-CPU arrays, locks) */
#define HOT_RODATA __attribute__((section(".rodata.hot")))
