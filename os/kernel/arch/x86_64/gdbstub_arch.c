/*
 * gdbstub_arch.c — the x86_64 half of the kernel gdb stub (generic/gdbstub.c): the debug UART
 * (COM2, polled, with a receive interrupt on IRQ 3 for Ctrl-C; or COM1 shared with the console,
 * IRQ 4), the register file gdb sees
 * (the target description below: gdb's amd64 core + SSE + segment bases, and the control
 * registers in a feature of our own), single-step through RFLAGS.TF, stopping the other CPUs
 * with an NMI broadcast, and address translation by walking the live page tables so that the
 * stub never touches an address that would fault.
 */
#include <kernel/kernel.h>
#include <kernel/gdbstub.h>

#define COM1 0x3f8
#define COM2 0x2f8
#define IRQ_COM1 4
#define IRQ_COM2 3

static uint16_t port = COM2;
static int irq_line = IRQ_COM2;
/* the transmit burst and the bytes received while sending (see gdb_uart_putc) */
static int tx_fifo = 1, tx_room;
static uint8_t rxq[1024];
static uint32_t rxq_head, rxq_tail;     /* free-running; head - tail bytes held */

int gdb_uart_init(const char *name, size_t len)
{
    if (len == 5 && !strncmp(name, "ttyS0", 5)) {
        /* COM1: serial.c programmed it and console_init() routed IRQ 4 to the kernel; the
         * console server is not started (init sees console_info.debug_line) */
        port = COM1;
        irq_line = IRQ_COM1;
        return 2;
    }
    if (len != 5 || strncmp(name, "ttyS1", 5))
        return 0;
    outb(COM2 + 7, 0x5a);
    if (inb(COM2 + 7) != 0x5a || inb(COM2 + 5) == 0xff)
        return 0;
    outb(COM2 + 1, 0x00);       /* no interrupts yet */
    outb(COM2 + 3, 0x80);       /* DLAB */
    outb(COM2 + 0, 0x01);       /* 115200 */
    outb(COM2 + 1, 0x00);
    outb(COM2 + 3, 0x03);       /* 8N1 */
    outb(COM2 + 2, 0xc7);       /* FIFO on, cleared, 14-byte threshold */
    outb(COM2 + 4, 0x0b);       /* DTR, RTS, OUT2 */
    return 1;
}

int gdb_uart_irq(void) { return irq_line; }

static void com2_irq(int irq, void *arg)
{
    (void)irq;
    (void)arg;
}

void gdb_uart_enable_irq(void)
{
    /* trap.c hands this vector to gdbstub_rx() with the interrupted frame; the registered
     * handler only marks the line as taken. COM1's (shared) is already the kernel's. */
    if (port == COM1)
        return;
    irq_register(IRQ_COM2, com2_irq, NULL);
    ioapic_route(IRQ_COM2, VEC_IRQ_BASE + IRQ_COM2, cpus[0]->apic_id, false);
    outb(COM2 + 1, 0x01);       /* interrupt on received data */
}

void gdb_uart_resume(void)
{
    /* our bytes out of the FIFO before the CPUs run again (serial_tx_resume says why); the
     * receiver is not read here: what arrives stays in the UART for the next interrupt */
    bool empty = false;
    for (int i = 0; i < 10000000 && !(empty = (inb(port + 5) & 0x20) != 0); i++)
        pause();
    serial_tx_resume(empty);
}

bool gdb_uart_buffered(void)
{
    return rxq_tail != rxq_head;
}

int gdb_uart_poll(void)
{
    if (rxq_tail != rxq_head)
        return rxq[rxq_tail++ % sizeof rxq];
    if (!(inb(port + 5) & 0x01))
        return -1;
    return inb(port);
}

int gdb_uart_getc(uint64_t timeout_ns)
{
    uint64_t t0 = timeout_ns ? clock_ns() : 0;
    for (;;) {
        int c = gdb_uart_poll();
        if (c >= 0)
            return c;
        if (timeout_ns && clock_ns() - t0 > timeout_ns)
            return -1;
        pause();
    }
}

/*
 * Sending: the 16550's transmit FIFO is filled a burst at a time — THRE says the FIFO is empty,
 * so up to tx_fifo bytes go without polling the line status between them (on QEMU every port
 * access is an exit: one status read per 16 bytes instead of one per byte). While the stub
 * sends a long reply the host may already send its next (pipelined) requests, and the receive
 * FIFO holds only 16 bytes: every 8 bytes sent (under 16 byte times) the line status is read
 * and what arrived is kept in rxq, which gdb_uart_poll() gives out first.
 */

static void rx_drain(uint8_t lsr)
{
    while (lsr & 0x01) {
        uint8_t c = inb(port);
        if (rxq_head - rxq_tail < sizeof rxq)
            rxq[rxq_head++ % sizeof rxq] = c;
        else
            gdb_rsp_errors++;   /* lost: the packet it belonged to fails its checksum */
        lsr = inb(port + 5);
    }
}

void gdb_uart_tx_reset(void)
{
    tx_room = 0;        /* someone else (console, trace) may have used the FIFO since */
    tx_fifo = (inb(port + 2) & 0xc0) == 0xc0 ? 16 : 1;     /* IIR: FIFOs enabled (16550A) */
}

void gdb_uart_putc(uint8_t c)
{
    if (tx_room == 0 || tx_room == 8) {
        /* bounded: a line nobody drains must not hang the stub for good */
        for (int i = 0; i < 10000000; i++) {
            uint8_t lsr = inb(port + 5);
            rx_drain(lsr);
            if (tx_room || (lsr & 0x20))
                break;
            pause();
        }
        if (tx_room == 0)
            tx_room = tx_fifo;
    }
    tx_room--;
    outb(port, c);
}

uint32_t gdb_arch_cpu_index(void)
{
    uint32_t id = lapic_id();
    for (uint32_t i = 0; i < ncpus; i++)
        if (cpus[i] && cpus[i]->apic_id == id)
            return i;
    return 0;
}

enum { S_CR0, S_CR2, S_CR3, S_CR4, S_CR8, S_EFER, S_FSBASE, S_GSBASE, S_DS, S_ES, S_FS, S_GS, S_CPU };

void gdb_arch_snapshot(struct gdb_cpu *g)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v)); g->sys[S_CR0] = v;
    g->sys[S_CR2] = read_cr2();
    g->sys[S_CR3] = read_cr3();
    __asm__ volatile("mov %%cr4, %0" : "=r"(v)); g->sys[S_CR4] = v;
    __asm__ volatile("mov %%cr8, %0" : "=r"(v)); g->sys[S_CR8] = v;
    g->sys[S_EFER] = rdmsr(MSR_EFER);
    g->sys[S_FSBASE] = rdmsr(MSR_FS_BASE);
    g->sys[S_GSBASE] = rdmsr(MSR_GS_BASE);
    uint16_t s;
    __asm__ volatile("mov %%ds, %0" : "=r"(s)); g->sys[S_DS] = s;
    __asm__ volatile("mov %%es, %0" : "=r"(s)); g->sys[S_ES] = s;
    __asm__ volatile("mov %%fs, %0" : "=r"(s)); g->sys[S_FS] = s;
    __asm__ volatile("mov %%gs, %0" : "=r"(s)); g->sys[S_GS] = s;
    g->sys[S_CPU] = gdb_arch_cpu_index();
}

void gdb_arch_stop_others(void)
{
    lapic_broadcast_nmi();
}

/*
 * gdb's register numbers (the order of the target description, and of the g packet):
 *   0-15 rax rbx rcx rdx rsi rdi rbp rsp r8-r15   16 rip   17 eflags   18-23 cs ss ds es fs gs
 *   24-31 st0-7 (10 bytes)   32-39 x87 control   40-55 xmm0-15   56 mxcsr   (unavailable: the
 *   kernel does not use the FPU; threads' FPU state lives in their save areas)
 *   57 fs_base 58 gs_base   59 cr0 60 cr2 61 cr3 62 cr4 63 cr8 64 efer
 *   65 lanes_cpu: the index of the CPU the thread is on (-1: switched out). gdb's threads are
 *   kernel threads (gdbstub.c), so `$lanes_cpu` is how an expression (a breakpoint condition
 *   reading cpus[]) finds the CPU that stopped.
 */
#define NREGS 66

int gdb_arch_nregs(void) { return NREGS; }

int gdb_arch_reg_size(int n)
{
    if (n < 17) return 8;
    if (n < 24) return 4;
    if (n < 32) return 10;
    if (n < 40) return 4;
    if (n < 56) return 16;
    if (n == 56) return 4;
    return 8;
}

static uint64_t *gpr(struct regs *r, int n)
{
    switch (n) {
    case 0: return &r->rax;
    case 1: return &r->rbx;
    case 2: return &r->rcx;
    case 3: return &r->rdx;
    case 4: return &r->rsi;
    case 5: return &r->rdi;
    case 6: return &r->rbp;
    case 7: return &r->rsp;
    case 8: return &r->r8;
    case 9: return &r->r9;
    case 10: return &r->r10;
    case 11: return &r->r11;
    case 12: return &r->r12;
    case 13: return &r->r13;
    case 14: return &r->r14;
    case 15: return &r->r15;
    case 16: return &r->rip;
    case 17: return &r->rflags;
    case 18: return &r->cs;
    case 19: return &r->ss;
    default: return NULL;
    }
}

bool gdb_arch_reg_get(const struct gdb_cpu *g, int n, uint8_t *out)
{
    uint64_t v;
    int sz = gdb_arch_reg_size(n);
    if (!g->r)
        return false;
    if (n < 20)
        v = *gpr(g->r, n);
    else if (n < 24)
        v = g->sys[S_DS + (n - 20)];
    else if (n < 57)
        return false;
    else if (n < 59)
        v = g->sys[S_FSBASE + (n - 57)];
    else if (n < 65)
        v = g->sys[S_CR0 + (n - 59)];
    else
        v = g->sys[S_CPU];
    for (int i = 0; i < sz; i++)
        out[i] = (uint8_t)(v >> (8 * i));      /* little endian, as gdb expects */
    return true;
}

bool gdb_arch_reg_set(struct gdb_cpu *g, int n, const uint8_t *in)
{
    if (!g->r || n > 17)
        return false;   /* segment, x87/SSE and system registers are read-only here */
    uint64_t v = 0;
    for (int i = gdb_arch_reg_size(n) - 1; i >= 0; i--)
        v = (v << 8) | in[i];
    if (n == 17)
        v = (v & 0x2c0dd5) | 0x2;  /* arithmetic flags, TF, DF, IF, AC, ID; never IOPL/VM/NT */
    *gpr(g->r, n) = v;
    return true;
}

uint64_t gdb_arch_pc(const struct regs *r) { return r->rip; }

/* The system call's first and last instructions (entry.S): kernel mode on the user's stack. A
 * CPU stopped there could not be stepped (the #DB frame would go onto the user stack: a double
 * fault), nor can a breakpoint go there; a stopping NMI there parks the CPU at trap_dispatch's
 * park point instead, through a reschedule IPI to itself (gdb_arch_nmi_deferred): taken at
 * syscall_dispatch's sti, or back in user mode after sysret — the system call path itself
 * carries no debugger check. */
static bool on_user_stack(uint64_t pc)
{
    extern const uint64_t syscall_user_stack[4];     /* entry.S: two [start, end) ranges */
    return (pc >= syscall_user_stack[0] && pc < syscall_user_stack[1]) ||
           (pc >= syscall_user_stack[2] && pc < syscall_user_stack[3]);
}

/* An NMI at pc (kernel mode) is not where the CPU should park: on the debugger's path — the
 * interrupt stubs, their common part, trap_dispatch, the stub — which reaches a
 * gdbstub_park_pending call or the stub's own wait (except after trap_dispatch: trap_return's few
 * instructions to iretq park there), or in a system call's user-stack instructions. */
bool gdb_arch_nmi_defers(uint64_t pc)
{
    extern char __debugger_text_start[], __debugger_text_end[], trap_return_end[];
    return (pc >= (uint64_t)__debugger_text_start && pc < (uint64_t)__debugger_text_end &&
            !(pc >= (uint64_t)trap_return && pc < (uint64_t)trap_return_end)) ||
           on_user_stack(pc);
}
/* A deferred CPU on the debugger's path reaches a park point by itself; one in a system call's
 * user-stack instructions (interrupts off) would not until its next interrupt: it gets one. */
void gdb_arch_nmi_deferred(uint64_t pc)
{
    if (on_user_stack(pc))
        lapic_self_ipi(VEC_RESCHED);
}
uint64_t gdb_arch_sp(const struct regs *r) { return r->rsp; }
void gdb_arch_set_pc(struct regs *r, uint64_t pc) { r->rip = pc; }

void gdb_arch_set_step(struct regs *r, bool on)
{
    if (on)
        r->rflags |= 0x100;
    else
        r->rflags &= ~0x100ULL;
}

/*
 * A step runs with interrupts masked: otherwise a pending timer interrupt taken before the
 * instruction could switch threads, and the step's #DB would come from that thread later, maybe
 * on another CPU. Not for instructions that change or wait on IF (cli, sti, popf, iretq, hlt):
 * those step with interrupts as they were.
 */
bool gdb_arch_step_mask_irqs(struct regs *r)
{
    uint64_t pa;
    if (!(r->rflags & 0x200) || !gdb_arch_translate(r->rip, &pa))
        return false;
    uint8_t op = *(volatile uint8_t *)P2V(pa);
    if (op == 0x48 && gdb_arch_translate(r->rip + 1, &pa))
        op = *(volatile uint8_t *)P2V(pa);      /* REX.W iretq */
    if (op == 0xfa || op == 0xfb || op == 0x9d || op == 0xcf || op == 0xf4)
        return false;
    r->rflags &= ~0x200ULL;
    return true;
}

void gdb_arch_unmask_irqs(struct regs *r) { r->rflags |= 0x200; }

/* The masked step from `from` is over: IF back on — and in the copy of RFLAGS a stepped pushf
 * left on the stack, which carried the mask: pushcli keeps that copy to decide whether its
 * popcli turns interrupts on again, so stepping through spin_lock's first instruction left the
 * CPU with interrupts off for good. (Kernel mode only: user mode cannot change IF with popf, and
 * its stack page may be a copy-on-write one another process shares.) */
void gdb_arch_step_unmask(struct regs *r, uint64_t from)
{
    uint64_t pa;
    r->rflags |= 0x200;
    if ((r->cs & 3) || r->rip != from + 1 || (r->rsp & 7) || !gdb_arch_translate(from, &pa) ||
        *(volatile uint8_t *)P2V(pa) != 0x9c || !gdb_arch_translate(r->rsp, &pa))
        return;
    *(volatile uint64_t *)P2V(pa) |= 0x200;
}

/* Walks the current page tables (4 KiB, 2 MiB and 1 GiB pages); true if va is mapped and
 * backed by RAM, which the direct map reaches. *exec: no level forbids executing it. */
static bool walk(uint64_t va, uint64_t *pa, bool *exec)
{
    if ((uint64_t)((int64_t)(va << 16) >> 16) != va)
        return false;                   /* not canonical */
    uint64_t top = pmm_top();
    uint64_t e = read_cr3() & PTE_ADDR;
    *exec = true;
    for (int level = 3; level >= 0; level--) {
        if (e >= top)
            return false;
        e = ((uint64_t *)P2V(e))[(va >> (12 + 9 * level)) & 511];
        if (!(e & PTE_P))
            return false;
        if (e & PTE_NX)
            *exec = false;
        if (level == 0 || ((level == 1 || level == 2) && (e & PTE_PS))) {
            uint64_t mask = (1ULL << (12 + 9 * level)) - 1;
            *pa = ((e & PTE_ADDR) & ~mask) | (va & mask);
            return *pa < top;
        }
        e &= PTE_ADDR;
    }
    return false;
}

bool gdb_arch_translate(uint64_t va, uint64_t *pa)
{
    bool exec;
    return walk(va, pa, &exec);
}

/* Where a software breakpoint may go: the kernel's text, or user code (mapped executable). An
 * int3 anywhere else would be written into data — say a thread structure, at a return address
 * gdb unwound from a bad frame — and restoring the byte later could corrupt a reused object.
 * Not the debugger's own text (the trap path and this stub: linker.ld), which a breakpoint would
 * enter recursively. */
bool gdb_arch_code(uint64_t va)
{
    extern char __text_start[], __text_end[], __debugger_text_start[], __debugger_text_end[];
    if (va >= USER_TOP)
        return va >= (uint64_t)__text_start && va < (uint64_t)__text_end &&
               !(va >= (uint64_t)__debugger_text_start && va < (uint64_t)__debugger_text_end) &&
               !on_user_stack(va);
    uint64_t pa;
    bool exec;
    return walk(va, &pa, &exec) && exec;
}

/* One aligned 8-byte word of kernel memory, if mapped RAM. */
static bool read_word(uint64_t va, uint64_t *v)
{
    uint64_t pa;
    if ((va & 7) || !gdb_arch_translate(va, &pa))
        return false;
    *v = *(volatile uint64_t *)P2V(pa);
    return true;
}

/*
 * A thread that is not on a CPU (g->r: where its registers go) was switched out by switch_context (entry.S), which left
 * r15 r14 r13 r12 rbx rbp and its return address on the kernel stack at saved_rsp: those, rip
 * at that return and rsp above the frame are what gdb unwinds it from. The registers the
 * switch does not keep (caller-saved ones) read as 0.
 */
bool gdb_arch_switched_regs(uint64_t saved_rsp, struct gdb_cpu *g)
{
    struct regs *r = g->r;
    uint64_t f[7];
    for (int i = 0; i < 7; i++)
        if (!read_word(saved_rsp + 8 * (uint64_t)i, &f[i]))
            return false;
    memset(r, 0, sizeof *r);
    r->r15 = f[0];
    r->r14 = f[1];
    r->r13 = f[2];
    r->r12 = f[3];
    r->rbx = f[4];
    r->rbp = f[5];
    r->rip = f[6];
    r->rsp = saved_rsp + 56;
    r->cs = SEL_KCODE;
    r->ss = SEL_KDATA;
    r->rflags = 0x2;
    g->sys[S_CPU] = (uint64_t)-1;
    return true;
}

/* ---- debug registers: DR0-3 addresses, DR7 enables (local bits), DR6 status ---- */

static struct { uint64_t addr; uint8_t type, len; bool used; } hw[4];

static uint64_t dr7_value(void)
{
    uint64_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (!hw[i].used)
            continue;
        uint64_t rw = hw[i].type == GDB_HW_EXEC ? 0 : hw[i].type == GDB_HW_WRITE ? 1 : 3;
        uint64_t ln = hw[i].type == GDB_HW_EXEC ? 0 : hw[i].len == 1 ? 0 : hw[i].len == 2 ? 1 : hw[i].len == 8 ? 2 : 3;
        v |= (1ULL << (2 * i)) | (rw << (16 + 4 * i)) | (ln << (18 + 4 * i));
    }
    return v;
}

const char *gdb_arch_hw_set(int type, uint64_t addr, uint64_t len, bool insert)
{
    if (type == GDB_HW_READ)
        return "";      /* x86 watches reads only together with writes: gdb says so to the user */
    if (type == GDB_HW_EXEC) {
        len = 1;
        if (insert && on_user_stack(addr))
            return "E14";   /* its #DB would go onto the user's stack (on_user_stack) */
    } else if ((len != 1 && len != 2 && len != 4 && len != 8) || (addr & (len - 1)))
        return "E22";   /* gdb splits unaligned or longer ranges itself */
    for (int i = 0; i < 4; i++) {
        if (hw[i].used && hw[i].addr == addr && hw[i].type == type && hw[i].len == len) {
            if (!insert)
                hw[i].used = false;
            return "OK";
        }
    }
    if (!insert)
        return "OK";
    for (int i = 0; i < 4; i++) {
        if (!hw[i].used) {
            hw[i].addr = addr;
            hw[i].type = (uint8_t)type;
            hw[i].len = (uint8_t)len;
            hw[i].used = true;
            return "OK";
        }
    }
    return "E28";       /* all four in use */
}

void gdb_arch_hw_clear_all(void)
{
    for (int i = 0; i < 4; i++)
        hw[i].used = false;
}

void gdb_arch_hw_load(void)
{
    uint64_t a[4];
    for (int i = 0; i < 4; i++)
        a[i] = hw[i].used ? hw[i].addr : 0;
    __asm__ volatile("mov %0, %%db7" :: "r"(0ULL));
    __asm__ volatile("mov %0, %%db0" :: "r"(a[0]));
    __asm__ volatile("mov %0, %%db1" :: "r"(a[1]));
    __asm__ volatile("mov %0, %%db2" :: "r"(a[2]));
    __asm__ volatile("mov %0, %%db3" :: "r"(a[3]));
    __asm__ volatile("mov %0, %%db7" :: "r"(dr7_value()));
}

static uint64_t read_dr6(void) { uint64_t v; __asm__ volatile("mov %%db6, %0" : "=r"(v)); return v; }

bool gdb_arch_hw_hit(void) { return read_dr6() & 0xf; }

int gdb_arch_debug_reason(struct regs *r, uint64_t *addr)
{
    uint64_t dr6 = read_dr6();
    __asm__ volatile("mov %0, %%db6" :: "r"(0xffff0ff0ULL));
    for (int i = 0; i < 4; i++) {
        if (!(dr6 & (1ULL << i)) || !hw[i].used)
            continue;
        *addr = hw[i].addr;
        if (hw[i].type == GDB_HW_EXEC)
            r->rflags |= 1ULL << 16;    /* RF: an instruction breakpoint is a fault; do not re-hit it */
        return hw[i].type;
    }
    return 0;
}

static const char target_xml[] =
    "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target version=\"1.0\"><architecture>i386:x86-64</architecture>"
    "<feature name=\"org.gnu.gdb.i386.core\">"
    "<flags id=\"i386_eflags\" size=\"4\">"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
    "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
    "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
    "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
    "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
    "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
    "<field name=\"ID\" start=\"21\" end=\"21\"/></flags>"
    "<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>"
    "<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/><reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/><reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/><reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/><reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/><reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/><reg name=\"es\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/><reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "</feature>"
    "<feature name=\"org.gnu.gdb.i386.sse\">"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
    "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
    "<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>"
    "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>"
    "<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>"
    "</feature>"
    "<feature name=\"org.gnu.gdb.i386.segments\">"
    "<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>"
    "<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>"
    "</feature>"
    "<feature name=\"org.lanes.x86_64.control\">"
    "<reg name=\"cr0\" bitsize=\"64\" type=\"int\" regnum=\"59\" group=\"system\"/>"
    "<reg name=\"cr2\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr3\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr4\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr8\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"efer\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"lanes_cpu\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "</feature></target>";

const char *gdb_arch_target_xml(void) { return target_xml; }
