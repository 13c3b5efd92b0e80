/*
 * arch.h — the x86_64 machine as the generic kernel sees it.
 *
 * The trap frame layout shared with entry.S, the per-CPU structure reached through the GS
 * base, and the prototypes of the arch/x86_64 files; the instructions C cannot express are
 * inline functions in arch/x86_64/include/arch/machine.h, included here. Generic code includes
 * this through kernel.h and never touches hardware any other way: no asm in generic/.
 */
#ifndef KERNEL_ARCH_H
#define KERNEL_ARCH_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <arch/machine.h>       /* arch/x86_64/include: the instructions, as inline functions */

#define KERNEL_VMA      0xffffffff80000000UL
#define DIRECT_MAP      0xffff800000000000UL
#define PAGE_SIZE       4096UL
#define PAGE_MASK       (~(PAGE_SIZE - 1))

#define P2V(p)          ((void *)((uint64_t)(p) + DIRECT_MAP))
#define V2P(v)          ((uint64_t)(v) >= KERNEL_VMA ? (uint64_t)(v) - KERNEL_VMA : (uint64_t)(v) - DIRECT_MAP)

/* GDT selectors (same layout on every CPU). */
#define SEL_KCODE       0x08
#define SEL_KDATA       0x10
#define SEL_UDATA       0x1b
#define SEL_UCODE       0x23
#define SEL_TSS         0x28

/* Interrupt vectors. */
#define VEC_IRQ_BASE    0x20    /* legacy IRQ n -> 0x20 + n via the IOAPIC */
#define VEC_TIMER       0xf0
#define VEC_RESCHED     0xf1
#define VEC_TLB         0xf2
#define VEC_HALT        0xf3
#define VEC_SPURIOUS    0xff
#define VEC_SYSCALL     0x100   /* marker in regs.vector for frames built by syscall entry */

/* Trap frame: pushed by entry.S (general registers), the stub (vector, error) and the CPU. */
struct regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* 64-bit TSS followed by the I/O permission bitmap (65536 bits + the terminating 0xff byte). */
struct tss {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
    uint8_t iomap[8192 + 1];
} __attribute__((packed));

struct thread;

struct spinlock {
    volatile uint32_t locked;
    struct cpu *owner;
    const char *name;
};

struct timer_list {
    struct thread *head;        /* sorted by deadline, linked through thread->timer_next */
};

/* Per-CPU data. The first fields are used by entry.S through %gs: keep their offsets. */
#define CPU_TRACE_STAGE 512         /* >= LANES_TRACE_MAX_RECORD (checked in kernel/trace.h) */
struct cpu {
    struct cpu *self;           /* %gs:0 */
    uint64_t kstack_top;        /* %gs:8  kernel stack for syscall entry (current thread's) */
    uint64_t user_rsp;          /* %gs:16 scratch for syscall entry */
    uint32_t id;                /* index 0..ncpus-1 */
    uint32_t apic_id;
    struct thread *current;
    struct thread *idle;
    int ncli;                   /* spinlock nesting (pushcli/popcli) */
    int intena;                 /* were interrupts on before the first pushcli? */
    volatile int need_resched;
    volatile int online;
    uint64_t resched_later;     /* CPUs (bit = id) owed a reschedule IPI when this CPU's last lock
                                 * goes (sched.c resched_ipi_later; sent by spinlock.c) */
    struct spinlock rq_lock;    /* run queue and the state of this CPU's threads */
    struct spinlock timer_lock;
    /* run queue (protected by rq_lock) */
    struct thread *rq_head, *rq_tail;
    int rq_len;
    struct thread *prev;        /* thread we switched away from, finished by the next one */
    uint64_t slice_end;         /* ns: preempt the current thread then */
    uint64_t timer_armed;       /* ns deadline currently programmed into the LAPIC (0 = none) */
    struct timer_list timers;
    void *loaded_vm;            /* address space whose CR3 is loaded */
    void *iopb_proc;            /* process whose I/O bitmap is in the TSS, or NULL */
    uint64_t iopb_gen;
    volatile uint64_t tlb_req;  /* shootdown: sequence requested / acknowledged */
    volatile uint64_t tlb_ack;
    volatile uint64_t tlb_addr, tlb_len; /* range to flush (len 0: everything) */
    uint64_t idle_ns, busy_since;
    uint64_t gdt[7];
    struct tss *tss;
    uint8_t *ist_stack;         /* double fault / NMI stacks */
    uint64_t idle_stack;        /* base of the stack the idle thread runs on */
    /* the event recorder's fast path (kernel/trace.h): this CPU's ring, and how far the fast
     * path may fill it (0: every event takes the slow path, e.g. a CPU without a ring) */
    struct trace_ring *trace_ring;
    uint64_t trace_fast_end;
    uint64_t trace_fast_base;   /* the fast path writes the record at head at base + head */
    uint64_t trace_wake_cause;  /* the event the next wake-up on this CPU is caused by (trace.h) */
    /* a dropped event is written here, never read (kernel/trace.h: trace_reserve_slow) */
    uint8_t trace_stage[CPU_TRACE_STAGE] __attribute__((aligned(8)));
};

#define MAX_CPUS 64
extern struct cpu *cpus[MAX_CPUS];
extern uint32_t ncpus;

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(c));
    return c;
}


/* entry.S */
void switch_context(uint64_t *save_rsp, uint64_t new_rsp);
void thread_entry_trampoline(void);
void trap_return(void);
void syscall_entry(void);
extern uint64_t isr_stubs[256];
int user_copy(void *dst, const void *src, size_t n);    /* 0 or -1 if it faulted */
int user_fill(void *dst, int c, size_t n);
/* Test only (ktest smap_smep): a 32-bit read of user memory WITHOUT stac, as kernel code outside
 * the helpers would do; with SMAP on it must fault (fixup: returns -1). */
int smap_probe_nostac(uint32_t *out, uint64_t uaddr);
struct fixup { uint64_t ip, target; };
extern struct fixup __fixup_start[], __fixup_end[];

/* user_frames.c: the user frames of the thread in a system call (r = its saved registers):
 * pcs[0] = the user rip, then return addresses up the frame-pointer chain; returns how many */
int arch_user_frames(const struct regs *r, uint64_t *pcs, int max);

/* cpu.c */
void cpu_init_bsp_early(void);
void cpu_init(struct cpu *c);
void cpu_log_identity(void);                /* vendor, EFER: one boot log line */
void cpu_set_kstack(uint64_t top);
void tss_load_iopb(const uint8_t *bitmap);   /* NULL: no port allowed */
void tss_iopb_enable(bool on);               /* the loaded bitmap on/off, no copy */
extern bool cpu_has_nx;
extern uint32_t cpu_phys_bits;              /* physical address width (MAXPHYADDR) */
extern bool cpu_smep, cpu_smap;

/* trap.c */
void trap_dispatch(struct regs *r);
void dump_regs(const struct regs *r);
typedef void (*irq_handler_t)(int irq, void *arg);
void irq_register(int irq, irq_handler_t fn, void *arg);

/* serial.c */
void serial_init(void);
void serial_putc(char c);
void serial_enable_rx_irq(void);
void serial_reset_tx(void);     /* COM1 back from a user-space driver: 8N1, FIFO count unknown */
void serial_tx_resume(bool empty); /* COM1 after the gdb stub's bytes (empty: THRE was seen) */

/* paging.c */
#define PTE_P   0x001ULL
#define PTE_W   0x002ULL
#define PTE_U   0x004ULL
#define PTE_PWT 0x008ULL
#define PTE_PCD 0x010ULL
#define PTE_PS  0x080ULL
#define PTE_G   0x100ULL
#define PTE_NX  (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
extern uint64_t kernel_pml4;
void paging_init(uint64_t max_phys);
void paging_drop_identity(void);
uint64_t *pte_walk(uint64_t pml4, uint64_t va, bool alloc);
int page_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags);
uint64_t page_unmap(uint64_t pml4, uint64_t va);    /* returns the old PTE */
uint64_t page_translate(uint64_t pml4, uint64_t va);  /* physical address or 0 */
uint64_t pml4_create(void);
void pml4_destroy(uint64_t pml4);

/* time.c */
extern uint64_t tsc_hz;
void time_calibrate(void);
uint64_t clock_ns(void);
void clock_params(uint64_t *tsc_base, uint64_t *ns_mult, uint64_t *hz);  /* clock_ns's, for user space */
void delay_us(uint64_t us);

/* apic.c */
extern uint64_t lapic_hz;
void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
void lapic_self_ipi(uint8_t vector);                 /* (the kernel debugger's NMI) */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_ipi_irqs_off(uint32_t apic_id, uint8_t vector);    /* (interrupts already off) */
void lapic_send_init_sipi(uint32_t apic_id, uint8_t page);
void lapic_broadcast_nmi(void);
void lapic_timer_oneshot(uint64_t ns);
void lapic_timer_calibrate(void);
void ioapic_init(void);
void ioapic_route(int irq, uint8_t vector, uint32_t apic_id, bool masked);
void ioapic_mask(int irq, bool masked);

/* acpi.c */
struct acpi_info {
    uint32_t ncpu;
    uint32_t apic_ids[MAX_CPUS];
    uint64_t lapic_addr;
    uint64_t ioapic_addr;
    uint32_t ioapic_gsi_base;
    uint32_t irq_gsi[16];
    uint16_t irq_flags[16];
};
extern struct acpi_info acpi;
void acpi_init(uint64_t rsdp_phys);

/* smp.c */
void smp_boot_aps(void);
void smp_send_resched(struct cpu *c);
void smp_halt_others(void);

#endif
