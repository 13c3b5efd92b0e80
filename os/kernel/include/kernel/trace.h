/*
 * trace.h — the kernel's event recorder (generic/trace.c) and its transports.
 *
 * Events are defined once in os/abi/trace.toml; <lanes/abi/trace.h> (generated) has the record
 * layouts and one emit macro per event: trace_emit_<name>(fields...) returns the new
 * event's id (0 if filtered out or dropped), which a later event passes as its `cause`.
 *
 *   any CPU ──emit──▶ trace_rings[cpu] (per-CPU, single producer, interrupts off, lock-free)
 *                          │  drainer thread (generic/trace_drain.c), every few ms
 *                          ├──▶ ivshmem: the ring data IS in the shared BAR (arch/x86_64/
 *                          │    trace_ivshmem.c); the drainer only publishes heads and takes
 *                          │    back the tails the host wrote: no copy
 *                          └──▶ COM2 framed stream (COBS + CRC32 + sequence numbers), when
 *                               there is no ivshmem device
 *   gdb / the bridge ──reads── trace_rings[] + ring data after a panic (flight recorder)
 *
 * Ring positions are byte counts that only grow: [keep, tail) are records already sent but
 * still intact (the flight recorder reads from keep), [tail, head) records not yet sent (with
 * ivshmem: not yet consumed by the host). The
 * producer reclaims only sent space; a full ring drops the event and counts it, and the count
 * becomes a `lost` record as soon as there is room again. With no transport the ring
 * overwrites its oldest records instead (flight-recorder-only mode).
 */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <stdint.h>
#include <stdbool.h>
#include <kernel/arch.h>

#ifdef LANES_ABI_TRACE_H
#error "include <kernel/trace.h> instead of <lanes/abi/trace.h> in the kernel (it supplies the inline fast path)"
#endif
/* The generated emitters reserve and commit through this file's inline fast path (below). */
struct trace_slot;
static inline void *trace_reserve_fast(uint16_t type, uint32_t size, struct trace_slot *s, bool irqs_off, uint32_t cls);
static inline uint64_t trace_commit_fast(struct trace_slot *s);
struct trace_ring;
/* Code that records with interrupts already off (under a spinlock: spin_lock disables them)
 * says so with TRACE_IRQS_ARE_OFF(); at the top of its block: the emitters in that block then
 * skip saving the flags, cli and sti. It declares a block-scoped constant that shadows this
 * file-scope one, which TRACE_RESERVE passes to the fast path. Built with -DTRACE_CHECK_IRQS,
 * the claim is checked at every such record (a panic names the record type). */
static const bool trace_irqs_off_ = false;
#ifdef TRACE_CHECK_IRQS
__attribute__((noreturn)) void panic(const char *fmt, ...);
#endif
#define TRACE_IRQS_ARE_OFF() const bool trace_irqs_off_ = true; (void)trace_irqs_off_
/* Likewise TRACE_CLASS_IS_ON(); says the emitters in its block need not test their class: the
 * caller just did (syscall_dispatch's enter record: entry.S tested the syscall class). */
static const bool trace_class_on_ = false;
#define TRACE_CLASS_IS_ON() const bool trace_class_on_ = true; (void)trace_class_on_
#define TRACE_ON(cls) (trace_class_on_ || __builtin_expect((trace_classes & (cls)) != 0, 0))
#define TRACE_RESERVE(type, size, s, cls) trace_reserve_fast(type, size, s, trace_irqs_off_, cls)
#define TRACE_COMMIT trace_commit_fast
#define TRACE_RESERVE_MAY_FAIL 0
#include <lanes/abi/trace.h>

/* A ring's size: 1 MiB per CPU in the kernel's own memory (the flight recorder's and COM2's
 * rings). In an ivshmem BAR the rings take what the BAR has room for, up to 32 MiB each
 * (trace_ivshmem_init): the host reads them in place, and the more a ring holds, the longer a
 * host reader may be kept off the CPU (a loaded machine) before its CPU must drop events. */
#define TRACE_RING_PAGES 256                /* 1 MiB per CPU */
#define TRACE_RING_BYTES (TRACE_RING_PAGES * 4096u)
#define TRACE_RING_MAX_BYTES (32u << 20)
#define TRACE_MAX_CPUS 64

/* struct trace_ring (one CPU's ring, read by the host through gdb by the symbol trace_rings:
 * the flight recorder and debug.traceRecord) and struct trace_shm (the ivshmem header) are
 * generated from os/abi/layouts.toml, with every offset checked: the host's readers use the
 * same layouts, generated for TypeScript and Python. */
#include <lanes/abi/layouts.h>
_Static_assert(TRACE_MAX_CPUS == LANES_TRACE_MAX_CPUS, "layouts.toml sizes trace_rings and trace_shm.ring");

extern struct trace_ring trace_rings[TRACE_MAX_CPUS];
extern uint32_t trace_nrings;
extern volatile uint32_t trace_live;        /* a transport drains the rings */
extern volatile uint32_t trace_classes;     /* filter (0: off) */
extern uint32_t trace_boot_classes;
extern uint64_t trace_tsc0;                 /* TSC value at clock_ns() == 0 */

static inline bool percpu_up_safe(void)
{
    extern bool percpu_up;
    return percpu_up;
}

/* ---- recording: the fast path, inlined into every trace_emit_<name>() ----
 * Interrupts off (the ring has one producer: its CPU), the record written in place at head,
 * head published with a plain store (release), interrupts back. The fast path needs no lock, no
 * division, no serialising instruction and no copy: it takes the record's room if the ring has
 * it without wrapping and without reclaiming (one compare against this CPU's trace_fast_end).
 * Anything else (a record that would straddle a segment end, reclaiming sent space, a pending
 * `lost` record, a CPU without a ring) goes through trace_reserve_slow() in generic/trace.c,
 * which makes the room and hands back the ring to write in — or, when the event must be
 * dropped, a ring that nobody reads (this CPU's staging area), so the emitter writes its fields
 * the same way either way and commit has nothing to test. The emitters evaluate their
 * arguments after the reserve (they are macros), so no argument lives across that call.
 * Interrupts stay off from reserve to commit, so the CPU (and its ring) cannot change. The ring
 * and the fast-path limit are reached through %gs (struct cpu) and the slot stays in registers.
 * No percpu_up test: trace_classes stays 0 until trace_init(), which runs after the boot CPU's
 * per-CPU area exists, and an AP emits nothing before its cpu_init(). */
_Static_assert(LANES_TRACE_MAX_RECORD <= CPU_TRACE_STAGE, "struct cpu's trace_stage holds any record");

struct trace_ring *trace_reserve_slow(uint32_t size);

/* A field of this CPU's struct cpu, read through %gs in one instruction (volatile: never merged
 * with another read, never moved across the cli asm or the slow path's call). */
#define TRACE_PERCPU(field) ({                                                                  \
    __typeof__(((struct cpu *)0)->field) v_;                                                    \
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(v_) : "i"(__builtin_offsetof(struct cpu, field))); \
    v_;                                                                                         \
})

static inline void *trace_reserve_fast(uint16_t type, uint32_t size, struct trace_slot *s, bool irqs_off, uint32_t cls)
{
    /* pushf; cli — an asm without a "memory" clobber, so the compiler may load the record's
     * fields after it, straight into the record. The ring is reached through the per-CPU reads
     * below, volatile asms like this one, so none moves above the cli; commit's release store
     * and sti keep the record's stores inside. */
    uint64_t fl;
    if (irqs_off) {
#ifdef TRACE_CHECK_IRQS
        if (read_flags() & 0x200)
            panic("trace: record type %u said interrupts were off; they are on", type);
#endif
        fl = 0;                                   /* commit leaves them off */
    } else {
        __asm__ volatile("pushfq; pop %0; cli" : "=r"(fl));
    }
    struct trace_ring *r = TRACE_PERCPU(trace_ring);
    uint64_t head = r->head, end = head + size;
    struct trace_hdr *h;
    if (__builtin_expect(end > TRACE_PERCPU(trace_fast_end), 0)) {
        r = trace_reserve_slow(size);
        head = r->head;
        end = head + size;
        h = (struct trace_hdr *)(r->data + (head & (r->size - 1)));  /* (a drop ring: head 0) */
    } else {
        /* within the segment the slow path set up: no mask, no load of r->data */
        h = (struct trace_hdr *)(uintptr_t)(TRACE_PERCPU(trace_fast_base) + head);
    }
    s->flags = fl;
    s->ring = r;
    uint32_t lo, hi;
    h->type = type;
    h->size = (uint16_t)size;
    *(uint32_t *)&h->cpu = TRACE_PERCPU(id);      /* cpu, and flags = 0: one store */
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    ((uint32_t *)&h->tsc)[0] = lo;                /* two stores instead of shift + or + store */
    ((uint32_t *)&h->tsc)[1] = hi;
    if (cls) {
        /* The class again, now that the record has its time: the emitter's test came earlier
         * (with interrupts on, or in entry.S), and another CPU may have switched the class off
         * since — its trace_config record stamped before this one. trace_set_classes stores the
         * mask, then stamps; here we stamp, then load (both asms volatile, so in this order): a
         * record stamped after the switch sees it and is dropped unseen — head stays, no id is
         * taken, commit returns 0. (On hardware, rdtsc may run a few cycles out of order with
         * this load; under QEMU it is exact.) */
        uint32_t now;
        __asm__ volatile("movl %1, %0" : "=r"(now) : "m"(trace_classes));
        if (__builtin_expect(!(now & cls), 0)) {
            s->id = 0;
            s->end = head;
            return h;
        }
    }
    /* id = r->next_id++ in two instructions instead of three (no lock prefix: one producer,
     * interrupts off); sequence numbers stay below 2^42 (ipc.c) */
    uint64_t id = 1;
    __asm__("xaddq %0, %1" : "+r"(id), "+m"(r->next_id));
    h->id = id;
    s->id = id;
    s->end = end;
    return h;
}

/* Returns the event's id (0: dropped). */
static inline uint64_t trace_commit_fast(struct trace_slot *s)
{
    struct trace_ring *r = (struct trace_ring *)s->ring;
    __atomic_store_n(&r->head, s->end, __ATOMIC_RELEASE);
    if (s->flags & 0x200)
        sti();
    else
        __asm__ volatile("" ::: "memory");       /* the record's stores stay before this point */
    return s->id;
}

/* Causality for wake-ups: code about to wake a thread because of event `id` (an IPC submit,
 * an event raise, a cancel) calls trace_wake_cause(id) first, on the CPU and with the lock it
 * wakes with; the wakeup record then names it (struct cpu: trace_wake_cause). Only code that
 * runs after the per-CPU areas exist calls these (IPC, events; the wakeup record's arguments
 * are evaluated only while tracing, which starts after them). */
static inline void trace_wake_cause(uint64_t id)
{
    __asm__ volatile("movq %0, %%gs:%c1" :: "r"(id), "i"(__builtin_offsetof(struct cpu, trace_wake_cause)) : "memory");
}
static inline uint64_t trace_take_wake_cause(void)      /* (only ever an emitter's argument) */
{
    uint64_t id;
    __asm__ volatile("movq %%gs:%c1, %0; movq $0, %%gs:%c1" : "=r"(id) : "i"(__builtin_offsetof(struct cpu, trace_wake_cause)) : "memory");
    return id;
}

/* A ring is half full: wake the drainer now. The slow path sets trace_kick (it may run under
 * any lock); trace_kick_check() runs where none is held (sched_check_user_return). */
extern volatile uint32_t trace_kick;
void trace_kick_drainer(void);
static inline void trace_kick_check(void)
{
    if (__builtin_expect(trace_kick, 0))
        trace_kick_drainer();
}

void trace_init(void);                      /* after time, ACPI, heap: parses trace= */
void trace_start(void);                     /* after the scheduler runs: transports + drainer */
uint32_t trace_parse_classes(const char *s, size_t n, bool *ok);
int64_t trace_set_classes(uint32_t mask);   /* returns the old mask */
uint64_t trace_ring_used(uint32_t cpu);
/* Builds trace_header + event_def records into buf; returns bytes (all of them or 0 if cap is short). */
size_t trace_preamble(uint8_t *buf, size_t cap);
uint32_t trace_crc32(uint32_t crc, const uint8_t *p, size_t n);
void trace_drain_all(void);                 /* one drain pass (also used at panic) */
extern uint32_t trace_transports;           /* bit 0 ivshmem, bit 1 COM2, bit 2 the shared debug line */
int64_t trace_sys_ctl(uint64_t sys, uint64_t op, uint64_t arg);
int64_t trace_sys_mark(uint64_t kind, uint64_t value, uint64_t uname, uint64_t len);
void trace_panic_flush(void);               /* best effort from panic(): drain what we can */

/* arch/x86_64/trace_com2.c */
bool trace_com2_probe(void);
void trace_com2_write(const uint8_t *p, size_t n);
bool trace_on_drainer(void);    /* the drainer thread (may sleep), not a panic's flush */

/* arch/x86_64/trace_ivshmem.c: the rings themselves in the ivshmem BAR, which the host maps as
 * a file. Layout of the BAR (version 2):
 *   0x00000  struct trace_shm (os/abi/layouts.toml, one page)
 *   0x01000  preamble: trace_header + event_def records, written once (preamble_len != 0)
 *   0x10000  ring 0's data, ring 1's at 0x10000 + ring_size, ... (ring_off, ring_size: the largest
 *            power of two from 1 MiB to TRACE_RING_MAX_BYTES that lets every ring fit the BAR)
 * The kernel publishes each ring's head (release) on every drainer pass; the host reads
 * [tail, head) and writes tail back (a record boundary); the drainer takes it back into the
 * ring's own tail. Nothing is copied and nothing can be lost between ring and host: a ring the
 * host does not empty drops events and reports them in-ring with `lost` records. */
#define TRACE_SHM_MAGIC LANES_TRACE_SHM_MAGIC
#define TRACE_SHM_VERSION LANES_TRACE_SHM_VERSION
#define TRACE_SHM_PREAMBLE_OFF LANES_TRACE_SHM_PREAMBLE_OFF
#define TRACE_SHM_RING_OFF LANES_TRACE_SHM_RING_OFF
_Static_assert(sizeof(struct trace_shm) <= TRACE_SHM_PREAMBLE_OFF, "trace_shm fits its page");
extern struct trace_shm *trace_shm;
/* Called by trace_init: finds the device and, if its BAR holds nrings rings of at least
 * TRACE_RING_BYTES, sets up the header and returns where ring 0's data goes, with each ring's
 * size in *ring_size (NULL: no device, or too small). */
uint8_t *trace_ivshmem_init(uint32_t nrings, uint32_t *ring_size);
size_t trace_ivshmem_preamble(void);        /* writes the preamble once; its size */
/* The PCI function the kernel took for the trace ("0000:00:DD.0" and its BARs' sizing read-backs,
 * or an empty line): /sys/kernel/trace/pci, which the pci server reads to leave it alone. */
size_t trace_ivshmem_claim(char *buf, size_t cap);

#endif
