/*
 * panic.c — the end of the line: KERNEL PANIC, registers, a symbolized backtrace, all CPUs halted.
 *
 * The backtrace follows the rbp chain (the kernel is built with frame pointers) and names each
 * return address through the symbol table the build embeds in .ksyms (a second link pass
 * generated from `nm` of the first). The first CPU to panic stops the others with an NMI
 * broadcast; with `panic=exit` on the command line QEMU is then told to exit (status 0xff).
 * If a user-space console server holds COM1, the panic takes it back first and writes the
 * kernel log lines the server had not yet written (log.c), then the panic text.
 * With a kernel debugger configured (lanes.debug=, generic/gdbstub.c) the stub takes over
 * after the text instead of halting: it stops the other CPUs itself and gdb lands on the panic.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include <kernel/gdbstub.h>

HOT_DATA volatile int panicking;

struct ksym { uint64_t addr; uint32_t name; uint32_t size; };
extern const struct ksym ksyms_table[];
extern const uint64_t ksyms_count;
extern const char ksyms_names[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    uint64_t lo = 0, hi = ksyms_count;
    if (!hi || addr < ksyms_table[0].addr)
        return NULL;
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (ksyms_table[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (offset)
        *offset = addr - ksyms_table[lo].addr;
    return &ksyms_names[ksyms_table[lo].name];
}

static void print_addr(uint64_t a)
{
    uint64_t off;
    const char *name = a >= KERNEL_VMA ? ksym_lookup(a, &off) : NULL;
    if (name)
        kprintf("  [<%016lx>] %s+0x%lx\n", a, name, off);
    else
        kprintf("  [<%016lx>] %s\n", a, a < USER_TOP ? "(user)" : "?");
}

void backtrace(uint64_t rbp, uint64_t rip)
{
    kprintf("Backtrace:\n");
    if (rip)
        print_addr(rip);
    for (int depth = 0; depth < 32; depth++) {
        /* Thread stacks are in the direct map (pmm pages), the boot and idle stacks in the
         * kernel image: follow frames only there (a wild rbp must not fault inside the panic). */
        bool in_map = rbp >= DIRECT_MAP && rbp - DIRECT_MAP + 16 <= pmm_top();
        bool in_image = rbp >= KERNEL_VMA && rbp - KERNEL_VMA + 16 <= (1ULL << 30);
        if (!(in_map || in_image) || (rbp & 7))
            break;
        uint64_t *frame = (uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (!ret)
            break;
        print_addr(ret);
        if (ret < KERNEL_VMA)
            break;
        rbp = frame[0];
    }
}

static void begin_panic(void)
{
    cli();
    if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST)) {
        for (;;)
            hlt();
    }
    extern bool percpu_up;
    if (percpu_up && ncpus > 1 && !gdbstub_on)
        smp_halt_others();
    console_takeover(false);    /* a panic must be visible: COM1 back from any console server */
    kprintf("\n");
}

__attribute__((noreturn)) static void end_panic(struct regs *r)
{
    trace_panic_flush();
    if (gdbstub_on) {
        kprintf("Entering the kernel debugger (gdb on the lanes.debug line).\n");
        gdbstub_panic(r);
    }
    kprintf("System halted.\n");
    if (cmdline_is("panic", "exit"))
        machine_exit_qemu(0x7f);
    for (;;) {
        cli();
        hlt();
    }
}

void panic(const char *fmt, ...)
{
    begin_panic();
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    trace_emit_log(LOG_ERROR, 1, 0, 0, buf);
    extern bool percpu_up;
    kprintf("KERNEL PANIC: %s (cpu%u)\n", buf, percpu_up ? this_cpu()->id : 0);
    backtrace((uint64_t)__builtin_frame_address(0), 0);
    end_panic(NULL);
}

void panic_regs(const struct regs *r, const char *fmt, ...)
{
    begin_panic();
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    trace_emit_log(LOG_ERROR, 1, 0, 0, buf);
    extern bool percpu_up;
    kprintf("KERNEL PANIC: %s (cpu%u)\n", buf, percpu_up ? this_cpu()->id : 0);
    dump_regs(r);
    backtrace(r->rbp, r->rip);
    end_panic((struct regs *)r);
}
