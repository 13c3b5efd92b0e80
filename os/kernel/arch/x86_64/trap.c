/*
 * trap.c — where every interrupt and exception goes (entry.S calls trap_dispatch).
 *
 *   exceptions from user mode   -> the thread and its process stop (process_user_fault); the
 *                                  supervisor hears about it; the kernel goes on
 *   exceptions in the kernel    -> a fault inside user_copy & co. jumps to its .fixup target
 *                                  (bad user pointer -> E_FAULT); anything else is a panic
 *                                  with a register dump and a symbolized backtrace
 *   LAPIC timer                 -> timers and time slices (timer.c)
 *   IPIs                        -> reschedule, TLB shootdown, halt (panic)
 *   legacy IRQs via the IOAPIC  -> the registered handler (serial, irq capabilities)
 * On the way out, a pending reschedule is honoured if the interrupted code could be
 * preempted, and a thread returning to user mode checks whether it was killed or stopped.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/gdbstub.h>

static const char *exc_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS",
    "segment not present", "stack fault", "general protection", "page fault", "reserved",
    "x87 FPU error", "alignment check", "machine check", "SIMD exception", "virtualization",
    "control protection", "reserved", "reserved", "reserved", "reserved", "reserved", "reserved",
    "hypervisor injection", "VMM communication", "security", "reserved",
};

/* Handlers of the 16 legacy lines. The lock makes (fn, arg) one value for the dispatcher, and
 * lets irq_register(irq, NULL, NULL) promise that the old handler is not running on any CPU when
 * it returns (the IRQ capability of a dead driver is freed right after; generic/ioport_irq.c). */
static struct { irq_handler_t fn; void *arg; } irq_table[16];
static struct spinlock irq_table_lock = SPINLOCK_INIT("irq table");
static bool int80_ud_seen;

void irq_register(int irq, irq_handler_t fn, void *arg)
{
    spin_lock(&irq_table_lock);
    irq_table[irq].fn = fn;
    irq_table[irq].arg = arg;
    spin_unlock(&irq_table_lock);
}

void dump_regs(const struct regs *r)
{
    uint64_t cr0, cr3 = read_cr3(), cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    kprintf("vector %lu (%s) error 0x%lx\n", r->vector, r->vector < 32 ? exc_names[r->vector] : "irq", r->error);
    kprintf("RIP %04lx:%016lx RFLAGS %016lx\n", r->cs, r->rip, r->rflags);
    kprintf("RSP %04lx:%016lx CR2 %016lx\n", r->ss, r->rsp, read_cr2());
    kprintf("RAX %016lx RBX %016lx RCX %016lx\n", r->rax, r->rbx, r->rcx);
    kprintf("RDX %016lx RSI %016lx RDI %016lx\n", r->rdx, r->rsi, r->rdi);
    kprintf("RBP %016lx R8  %016lx R9  %016lx\n", r->rbp, r->r8, r->r9);
    kprintf("R10 %016lx R11 %016lx R12 %016lx\n", r->r10, r->r11, r->r12);
    kprintf("R13 %016lx R14 %016lx R15 %016lx\n", r->r13, r->r14, r->r15);
    kprintf("CR0 %016lx CR3 %016lx CR4 %016lx\n", cr0, cr3, cr4);
    uint64_t off;
    const char *sym = r->rip >= KERNEL_VMA ? ksym_lookup(r->rip, &off) : NULL;
    if (sym)
        kprintf("RIP is %s+0x%lx\n", sym, off);
}

static bool has_fixup(const struct regs *r)
{
    for (struct fixup *f = __fixup_start; f < __fixup_end; f++)
        if (f->ip == r->rip)
            return true;
    return false;
}

static bool try_fixup(struct regs *r)
{
    for (struct fixup *f = __fixup_start; f < __fixup_end; f++) {
        if (f->ip == r->rip) {
            r->rip = f->target;
            return true;
        }
    }
    return false;
}

static int fault_kind(uint64_t vec)
{
    switch (vec) {
    case 14: return LANES_FAULT_KIND_PAGE;
    case 13: return LANES_FAULT_KIND_GPF;
    case 6: return LANES_FAULT_KIND_UD;
    case 0: return LANES_FAULT_KIND_DIV;
    default: return LANES_FAULT_KIND_OTHER;
    }
}

static void trap_handle(struct regs *r);
extern volatile int system_halting;

/*
 * Every interrupt and exception: the kernel debugger first, then trap_handle. In the debugger's
 * text (linker.ld), as the interrupt stubs are: gdb cannot put a breakpoint on the path to its
 * own stub. An NMI that stops this CPU while it is on that path parks it at the next of the
 * gdbstub_park_pending calls, with a frame gdb can read (the interrupted context).
 */
__attribute__((section(".text.debugger"))) void trap_dispatch(struct regs *r)
{
    /*
     * An NMI may land where %gs is still the user's: at syscall_entry before its swapgs (under
     * TCG the likeliest place an NMI sent while the CPU ran user code is taken), or on the sysret
     * and iretq paths after theirs — isr_common swaps only when it interrupted user mode. So
     * nothing on its path reads per-CPU data through %gs (this_cpu() there reads address 0).
     * It is the stub stopping this CPU (gdbstub_nmi parks it), or the halt of a panic, or
     * neither: a late stopping NMI — latched while this CPU was parked in the stub's previous
     * NMI (a held CPU gets a broadcast at every stop), or taken after that stop ended or once
     * this CPU owns the stub itself — which is dropped. (It used to go on to trap_handle, whose
     * this_cpu() faulted there, and so did the #PF handler, again and again, down the IST
     * stacks into the IDT: the triple fault of kgdb-test --stress's stepping storm.)
     */
    if (r->vector == 2) {
        if (gdbstub_on && gdbstub_nmi(r))
            return;
        if (panicking || system_halting) {
            for (;;) {
                cli();
                hlt();
            }
        }
        return;
    }
    /* breakpoints, steps and Ctrl-C (generic/gdbstub.c) */
    if (gdbstub_on) {
        if ((r->vector == 3 && !(r->cs & 3)) || (r->vector == 1 && (!(r->cs & 3) || gdb_arch_hw_hit()))) {
            gdbstub_enter(r, r->vector == 3 ? GDB_STOP_BREAK : GDB_STOP_STEP);
            return;
        }
        gdbstub_park_pending(r);
    }
    /* the debug UART's receive interrupt; the shared line (ttyS0) is the stub's from early boot */
    if ((gdbstub_on || gdb_mux) && r->vector == VEC_IRQ_BASE + (uint64_t)gdb_uart_irq()) {
        lapic_eoi();
        gdbstub_rx(r);
    } else {
        trap_handle(r);
    }
    if (gdbstub_on)
        gdbstub_park_pending(r);
}

static void trap_handle(struct regs *r)
{
    struct cpu *c = this_cpu();
    bool from_user = r->cs & 3;
    uint64_t v = r->vector;
    if (from_user && c->current && c->current->utrace)
        utrace_drain(c->current);   /* its user-written records (utrace.c) before this one's */

    if (v == VEC_HALT) {       /* (an NMI does not come here: trap_dispatch) */
        if (panicking || system_halting) {
            for (;;) {
                cli();
                hlt();
            }
        }
        lapic_eoi();
        return;
    }
    if (v < 32) {
        if (from_user) {
            /* An I/O bitmap that changed since this CPU loaded it: reload and retry. */
            struct process *p = c->current->proc;
            if (v == 13 && p->iopb && (c->iopb_proc != p || c->iopb_gen != p->iopb_gen)) {
                c->iopb_proc = p;
                c->iopb_gen = p->iopb_gen;
                tss_load_iopb(p->iopb);
                return;
            }
            /*
             * Nested KVM on some AMD hosts emulates `syscall` without leaving ring 3: the
             * thread then faults fetching syscall_entry at CPL 3 with rcx/r11 already set by
             * the (emulated) instruction. Treat exactly that as the system call it was.
             */
            if (v == 14 && r->rip == (uint64_t)syscall_entry && (r->error & 0x15) == 0x15) {
                static bool warned;
                if (!warned) {
                    warned = true;
                    pr_warn("syscall arrived at CPL 3 (hypervisor quirk); emulating its entry");
                }
                r->rip = r->rcx;
                r->rflags = (r->r11 & 0x240dd5) | 0x202;   /* arithmetic flags, TF, DF, AC, ID; never IOPL */
                r->cs = SEL_UCODE;
                r->ss = SEL_UDATA;
                r->vector = VEC_SYSCALL;
                syscall_dispatch(r);
                return;
            }
            /*
             * The same host (a software hypervisor that does not pass `int n` through) raises
             * #UD for `int $0x80` instead of using our DPL 3 gate: that is the second system
             * call entry too (rip still points at the CD 80).
             */
            if (v == 6) {
                uint8_t insn[2];
                if (!copy_from_user(insn, r->rip, 2) && insn[0] == 0xcd && insn[1] == LANES_SYSCALL_VECTOR) {
                    if (!int80_ud_seen) {
                        int80_ud_seen = true;
                        pr_warn("int $0x80 raised #UD (hypervisor quirk); emulating the gate");
                    }
                    r->rip += 2;
                    r->vector = VEC_SYSCALL;
                    syscall_dispatch(r);
                    return;
                }
            }
            /* demand paging and copy-on-write (vm.c); what it cannot resolve is a fault */
            uint64_t addr = v == 14 ? read_cr2() : 0;
            sti();
            if (v == 14 && vm_fault(p->vm, addr, r->error) == 0) {
                sched_check_user_return(r);
                return;
            }
            process_user_fault(r, fault_kind(v), addr);
            sched_check_user_return(r);
            return;
        }
        /* a user-copy helper touching a page not there yet (not present) or still copy-on-write
         * (a write to a present page; any other fault on a present page — SMAP — is no case
         * for vm.c): resolve it and retry (interrupts back on if they were: the resolution may flush other CPUs) */
        if (v == 14 && read_cr2() < USER_TOP && c->current && has_fixup(r) && (!(r->error & 1) || (r->error & 2))) {
            uint64_t addr = read_cr2();
            bool irq = (r->rflags & 0x200) && c->ncli == 0;
            if (irq)
                sti();
            int64_t fr = vm_fault(c->current->proc->vm, addr, r->error);
            if (irq)
                cli();
            if (fr == 0)
                return;
        }
        if ((v == 14 || v == 13) && try_fixup(r))
            return;
        trace_emit_fault(c->current ? c->current->proc->pid : 0, c->current ? c->current->tid : 0, (uint32_t)v,
                         TRACE_FAULT_KIND_KERNEL, r->rip, v == 14 ? read_cr2() : 0, r->error);
        const char *why = "";
        if (v == 14 && read_cr2() < USER_TOP && (r->error & 0x10) && cpu_smep)
            why = " (SMEP: the kernel jumped into a user page)";
        else if (v == 14 && read_cr2() < USER_TOP && (r->error & 1) && cpu_smap)
            why = " (SMAP: a kernel access to user memory outside the user-copy helpers)";
        panic_regs(r, "%s in kernel mode%s", exc_names[v], why);
    }

    if (v != VEC_SPURIOUS)
        trace_emit_irq(v >= VEC_IRQ_BASE && v < VEC_IRQ_BASE + 16 ? (uint32_t)(v - VEC_IRQ_BASE) : (uint32_t)v, (uint32_t)v);
    switch (v) {
    case VEC_TIMER:
        lapic_eoi();
        timer_tick();
        break;
    case VEC_RESCHED:
        lapic_eoi();
        c->need_resched = 1;
        break;
    case VEC_TLB:
        tlb_ipi_handler();
        lapic_eoi();
        break;
    case VEC_SPURIOUS:
        return;
    default:
        if (v >= VEC_IRQ_BASE && v < VEC_IRQ_BASE + 16) {
            int irq = v - VEC_IRQ_BASE;
            spin_lock(&irq_table_lock);
            if (irq_table[irq].fn)
                irq_table[irq].fn(irq, irq_table[irq].arg);
            spin_unlock(&irq_table_lock);
            lapic_eoi();
        } else {
            pr_warn("unexpected interrupt vector %lu", v);
            lapic_eoi();
        }
    }

    if (c->current && c->need_resched && (from_user || (r->rflags & 0x200)) && c->ncli == 0)
        schedule();
    if (from_user)
        sched_check_user_return(r);
}
