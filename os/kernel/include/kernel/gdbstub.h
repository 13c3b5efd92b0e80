/*
 * gdbstub.h — the kernel's GDB remote-serial-protocol stub (generic/gdbstub.c) and what it
 * needs from the architecture (arch/x86_64/gdbstub_arch.c): a UART, the register file, a safe
 * translation of addresses, single-stepping. See os/kernel/README.md, "Kernel debugger".
 */
#ifndef KERNEL_GDBSTUB_H
#define KERNEL_GDBSTUB_H

#include <kernel/kernel.h>

enum gdb_stop { GDB_STOP_BREAK, GDB_STOP_STEP, GDB_STOP_INTR, GDB_STOP_PANIC, GDB_STOP_ATTACH };

/* generic/gdbstub.c: entry points for the rest of the kernel */
extern bool gdbstub_on;                 /* lanes.debug= named a usable UART */
extern bool gdb_mux;                    /* lanes.debug=ttyS0: console, RSP and trace share COM1 */
extern volatile bool gdb_mux_trace;     /* the host asked for trace frames on the shared line */
extern uint64_t gdb_rsp_errors, gdb_retransmits;
extern volatile uint32_t gdb_stub_epoch;    /* shared line: +1 each time the stub takes over */
extern volatile int gdb_mux_in_frame;       /* log_mux_write is sending a trace frame */
void gdbstub_early(void);               /* before console_init: the shared line's demultiplexer */
void gdbstub_init(void);                /* after the APs are up; waits for gdb if lanes.debug_wait */
void gdbstub_enter(struct regs *r, enum gdb_stop why);
bool gdbstub_nmi(struct regs *r);       /* true: this NMI was the stub stopping this CPU */
void gdbstub_park_pending(struct regs *r);  /* parks here if an NMI found this CPU on the trap path */
void gdbstub_rx(struct regs *r);        /* the debug UART's IRQ: a 0x03 byte breaks in */
__attribute__((noreturn)) void gdbstub_panic(struct regs *r);   /* r may be NULL */

/* one stopped CPU, as the stub sees it */
struct gdb_cpu {
    struct regs *r;                     /* its trap frame while stopped */
    uint64_t sys[13];                   /* arch snapshot: control registers, segment bases, CPU */
    volatile int parked;
    volatile int hold;                  /* stays stopped at the resume (vCont gave it no action) */
    struct regs *volatile entering;     /* its event's frame while it waits for the stub */
    volatile bool parked_entering;      /* parked while it waited: gdb saw it since */
    volatile bool park_pending;         /* the NMI came on the trap path: park at its next stop */
    bool step;                          /* resume it with single-step */
    bool masked_irqs;                   /* interrupts masked for that step, to unmask after */
    uint64_t step_pc;                   /* where that step started */
};

/* arch/x86_64/gdbstub_arch.c */
int gdb_uart_init(const char *name, size_t len);    /* 0 none, 1 "ttyS1" (its own), 2 "ttyS0" (shared) */
void gdb_uart_enable_irq(void);
void gdb_uart_resume(void);                         /* shared line: the console's UART state after us */
int gdb_uart_irq(void);                             /* the legacy IRQ line of the debug UART */
int gdb_uart_getc(uint64_t timeout_ns);             /* -1 after the timeout (0: wait forever) */
int gdb_uart_poll(void);                            /* a received byte or -1, never waits */
bool gdb_uart_buffered(void);                       /* bytes kept while sending wait for gdb_uart_poll */
void gdb_uart_putc(uint8_t c);
void gdb_uart_tx_reset(void);                      /* at entry: the FIFO state is unknown */
uint32_t gdb_arch_cpu_index(void);                  /* without %gs (safe in any NMI) */
void gdb_arch_snapshot(struct gdb_cpu *g);
void gdb_arch_stop_others(void);
int gdb_arch_nregs(void);
int gdb_arch_reg_size(int regno);
bool gdb_arch_reg_get(const struct gdb_cpu *g, int regno, uint8_t *out);    /* false: unavailable */
bool gdb_arch_reg_set(struct gdb_cpu *g, int regno, const uint8_t *in);     /* false: read-only */
const char *gdb_arch_target_xml(void);
bool gdb_arch_translate(uint64_t va, uint64_t *pa);  /* mapped in the current space and in RAM */
bool gdb_arch_code(uint64_t va);                    /* kernel text or executable user memory */
bool gdb_arch_nmi_defers(uint64_t pc);              /* on the way to trap_dispatch's park points */
void gdb_arch_nmi_deferred(uint64_t pc);           /* ... and will get there soon (see gdbstub_arch.c) */
bool gdb_arch_switched_regs(uint64_t saved_rsp, struct gdb_cpu *g);    /* a switched-out thread's */
uint64_t gdb_arch_pc(const struct regs *r);
uint64_t gdb_arch_sp(const struct regs *r);
void gdb_arch_set_pc(struct regs *r, uint64_t pc);
void gdb_arch_set_step(struct regs *r, bool on);
bool gdb_arch_step_mask_irqs(struct regs *r);       /* masks for one step unless unsafe; true if it did */
void gdb_arch_unmask_irqs(struct regs *r);
void gdb_arch_step_unmask(struct regs *r, uint64_t from);  /* a masked step from `from` is done */
/* hardware breakpoints and watchpoints (debug registers, the same on every CPU) */
enum gdb_hw { GDB_HW_EXEC = 1, GDB_HW_WRITE = 2, GDB_HW_READ = 3, GDB_HW_ACCESS = 4 };
const char *gdb_arch_hw_set(int type, uint64_t addr, uint64_t len, bool insert);   /* reply text */
void gdb_arch_hw_clear_all(void);
void gdb_arch_hw_load(void);                        /* this CPU's debug registers from the table */
int gdb_arch_debug_reason(struct regs *r, uint64_t *addr);  /* after #DB: 0 step, else enum gdb_hw */
bool gdb_arch_hw_hit(void);                         /* a #DB from user mode is ours (DR6.B0-3) */
#define GDB_BREAK_INSN 0xcc
#define GDB_BREAK_LEN 1                                 /* the trap reports pc + this */
static inline void gdb_arch_breakpoint(void) { __asm__ volatile("int3"); }

#endif
