/*
 * machine.h — x86_64 instructions as inline functions, so that generic/ never spells one: the
 * raw instructions (port I/O, MSRs, control registers, interrupt flag, TSC) used by the
 * arch/x86_64 files, then the named operations generic/ uses instead (FPU state, the TLS base,
 * the idle wait, QEMU's exit port, address-space switch and TLB flushes, bulk copy and fill).
 * generic/ may still use the few raw ones every kernel needs: cli/sti, pause, hlt, rdtsc.
 *
 * Included by kernel/arch.h (so by every kernel file through kernel.h); needs nothing else.
 */
#ifndef ARCH_MACHINE_H
#define ARCH_MACHINE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* ---- raw instructions ---- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline uint64_t read_flags(void) { uint64_t f; __asm__ volatile("pushfq; pop %0" : "=r"(f) :: "memory"); return f; }
static inline bool irqs_on(void) { return read_flags() & 0x200; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline uint64_t rdmsr(uint32_t msr) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((uint64_t)hi << 32) | lo; }
static inline void wrmsr(uint32_t msr, uint64_t v) { __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

#define MSR_EFER        0xc0000080
#define MSR_STAR        0xc0000081
#define MSR_LSTAR       0xc0000082
#define MSR_FMASK       0xc0000084
#define MSR_FS_BASE     0xc0000100
#define MSR_GS_BASE     0xc0000101
#define MSR_KGS_BASE    0xc0000102

/* ---- named operations for generic/ ---- */

/* FPU/SSE state of a thread (512 bytes, 16-byte aligned): saved and restored on a switch. */
static inline void fpu_save(uint8_t *area) { __asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory"); }
static inline void fpu_restore(const uint8_t *area) { __asm__ volatile("fxrstor64 (%0)" :: "r"(area) : "memory"); }

/* The thread-local storage base user space sees (FS base; set_tls and the context switch). */
static inline void set_user_tls(uint64_t base) { wrmsr(MSR_FS_BASE, base); }

/* Enables interrupts and waits for one, with no window between the two (the idle loop). */
static inline void idle_wait(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

/* QEMU's isa-debug-exit device (port 0xf4): QEMU exits with status (code << 1) | 1; on a
 * machine without it the write does nothing. */
static inline void machine_exit_qemu(uint8_t code) { outb(0xf4, code); }

/* Address spaces and the TLB: load a page table root, flush everything, flush one page. */
static inline void mmu_load(uint64_t pml4) { write_cr3(pml4); }
static inline void tlb_flush_all(void) { write_cr3(read_cr3()); }
static inline void tlb_flush_page(uint64_t va) { invlpg(va); }

/* Bulk copy and fill, eight bytes per string-instruction iteration and then the tail: TCG and
 * instruction-emulating hypervisors pay per iteration (see kperf STOSB_2K vs STOSQ_2K in
 * `bench`). The areas of a copy must not overlap. */
static inline void copy_bytes(void *d, const void *s, size_t n)
{
    size_t q = n >> 3, r = n & 7;
    if (q)
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) :: "memory");
    if (r)
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(r) :: "memory");
}

static inline void fill_bytes(void *d, uint8_t c, size_t n)
{
    size_t q = n >> 3, r = n & 7;
    uint64_t v = c * 0x0101010101010101ull;
    if (q)
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
    if (r)
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(v) : "memory");
}

#endif
