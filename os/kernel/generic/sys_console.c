/*
 * sys_console.c — the log and console system calls: log, console_write, console_read,
 * console_claim, klog_read, console_info.
 *
 * COM1 belongs to the kernel until a console server claims it with the IRQ 4 capability and an
 * I/O-port capability covering 0x3f8-0x3ff (ioport_irq.c); from then on kernel output goes into
 * the log ring that server drains with klog_read (console.c, log.c and the kernel README's
 * "The console" section).
 */
#include <kernel/kernel.h>
#include "syscall.h"

SYS(log)
{
    UNUSED_ARGS;
    if (a0 > LANES_LOG_LEVEL_DEBUG)
        return LANES_E_INVAL;
    char buf[512];
    uint64_t n = MIN(a2, sizeof buf);
    if (!user_range_ok(a1, a2) || copy_from_user(buf, a1, n))
        return LANES_E_FAULT;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "pid %u (%s): ", self()->pid, self()->name);
    klog_raw((int)a0, prefix, buf, n);
    return 0;
}

SYS(console_write) { UNUSED_ARGS; return console_write_user(a0, a1); }
SYS(console_read) { UNUSED_ARGS; return console_read(a0, a1, a2); }

/* ---- the console hand-over (generic/console.c, log.c) ---- */

SYS(console_claim)
{
    UNUSED_ARGS;
    struct kobj *irq, *port;
    int64_t r = handle_get(a0, LANES_OBJ_IRQ, LANES_RIGHT_CONTROL, &irq, NULL);
    if (r)
        return r;
    r = handle_get(a1, LANES_OBJ_IOPORT, LANES_RIGHT_CONTROL, &port, NULL);
    if (r) {
        kobj_put(irq);
        return r;
    }
    uint32_t line = 0, base = 0, count = 0;
    irq_obj_line(irq, &line);
    ioport_obj_range(port, &base, &count);
    if (line != 4 || base > 0x3f8 || base + count < 0x3f8 + 8)
        r = LANES_E_RANGE;
    else
        r = console_claim(self(), irq);
    kobj_put(port);
    kobj_put(irq);
    return r;
}

SYS(klog_read) { UNUSED_ARGS; return log_klog_read(self(), a0, a1, a2, a3); }
SYS(console_info) { UNUSED_ARGS; return console_info_user(a0); }
