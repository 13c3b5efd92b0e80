/*
 * console.c — the console on COM1, and its hand-over to a user-space driver server.
 *
 * At boot the kernel drives COM1 itself. Input: the serial IRQ handler drops bytes into a 4 KiB
 * ring; console_read() blocks until at least one byte is there (or the timeout / an interrupt).
 * Output: console_write() copies user bytes in and hands them to log.c under the console lock
 * that the kernel log also takes ("\n" becomes "\r\n"), so log lines and user output never mix.
 *
 * Hand-over (Helios style: the driver holds capabilities, the kernel keeps nothing it needs not):
 *   1. init spawns os/programs/console, whose manifest declares "ioport 0x3f8 8" and "irq 4";
 *      creating the IRQ 4 capability points the line at the capability (ioport_irq.c), so the
 *      kernel's RX handler no longer runs.
 *   2. The server calls console_claim(irq, ioport): from then on log.c puts kernel log lines
 *      and console_write bytes into the kernel log ring, which the server drains with
 *      klog_read; console_read fails with BUSY (readers use the console lane instead).
 *   3. When that IRQ capability is destroyed — the server exited, faulted or was killed —
 *      console_irq4_gone() ends the claim: the kernel writes what the server had not
 *      acknowledged, re-arms its own RX handler and drives COM1 until the next claim. Only
 *      then is line 4 free for a new IRQ capability (ioport_irq.c's irq_destroy), so the next
 *      server's handler is never replaced by ours.
 *   A panic (panic.c) and power off take COM1 back at once, whatever holds it.
 */
#include <kernel/kernel.h>

static struct spinlock rx_lock = SPINLOCK_INIT("console rx");
static uint8_t rx_buf[4096];
static uint32_t rx_head, rx_count;
static struct waitq rx_wait;

void console_init(void)
{
    waitq_init(&rx_wait);
    serial_enable_rx_irq();
}

void console_rx_byte(uint8_t c)
{
    spin_lock(&rx_lock);
    if (rx_count < sizeof rx_buf) {
        rx_buf[(rx_head + rx_count) % sizeof rx_buf] = c;
        rx_count++;
    }
    wake_all(&rx_wait);
    spin_unlock(&rx_lock);
}

bool console_rx_held(const uint8_t *p, size_t n)
{
    if (spin_holding(&rx_lock))
        return false;
    spin_lock(&rx_lock);
    for (size_t i = 0; i < n && rx_count < sizeof rx_buf; i++) {
        rx_buf[(rx_head + rx_count) % sizeof rx_buf] = p[i];
        rx_count++;
    }
    wake_all(&rx_wait);
    spin_unlock(&rx_lock);
    return true;
}

int64_t console_read(uint64_t ubuf, uint64_t len, uint64_t timeout_ns)
{
    if (!len)
        return 0;
    if (user_check(ubuf, MIN(len, 256), true))
        return LANES_E_FAULT;
    uint8_t tmp[256];
    uint64_t deadline = deadline_from_timeout(timeout_ns);
    spin_lock(&rx_lock);
    while (rx_count == 0) {
        if (console_claimed()) {
            spin_unlock(&rx_lock);
            return LANES_E_BUSY;    /* a console server owns the input: read over its lane */
        }
        int64_t r = wait_on(&rx_wait, &rx_lock, deadline);
        if (r && rx_count == 0) {
            spin_unlock(&rx_lock);
            return r;
        }
    }
    uint32_t n = MIN((uint64_t)rx_count, MIN(len, sizeof tmp));
    for (uint32_t i = 0; i < n; i++)
        tmp[i] = rx_buf[(rx_head + i) % sizeof rx_buf];
    rx_head = (rx_head + n) % sizeof rx_buf;
    rx_count -= n;
    spin_unlock(&rx_lock);
    if (copy_to_user(ubuf, tmp, n))
        return LANES_E_FAULT;
    return n;
}

int64_t console_write_user(uint64_t ubuf, uint64_t len)
{
    if (user_check(ubuf, len, false))
        return LANES_E_FAULT;
    char tmp[512];
    uint64_t done = 0;
    while (done < len) {
        size_t n = MIN(len - done, sizeof tmp);
        if (copy_from_user(tmp, ubuf + done, n))
            return done ? (int64_t)done : LANES_E_FAULT;
        log_console_write(tmp, n);
        done += n;
    }
    return done;
}

/* sys_console_claim, after sys_console.c has checked the IRQ 4 and COM1 port capabilities. */
int64_t console_claim(struct process *p, const void *irq_obj)
{
    int64_t r = log_console_claim(p, p->pid, irq_obj);
    if (r)
        return r;
    spin_lock(&rx_lock);
    rx_count = 0;               /* what the kernel had buffered nobody asked for */
    wake_all(&rx_wait);         /* blocked console_read calls return BUSY */
    spin_unlock(&rx_lock);
    pr_info("console: COM1 is driven by pid %u (%s) now; kernel log lines go through it", p->pid, p->name);
    return 0;
}

/* ioport_irq.c: the IRQ 4 capability irq_obj is being destroyed. Its handler is unhooked, and line
 * 4 stays reserved until we return, so no new capability (a restarted server's) can be hooked
 * before serial_enable_rx_irq() — which would otherwise replace the new server's handler. */
void console_irq4_gone(const void *irq_obj)
{
    uint64_t replayed = 0;
    uint32_t pid = log_console_release(irq_obj, &replayed);
    serial_enable_rx_irq();     /* the kernel's RX handler again */
    if (pid)
        pr_info("console: pid %u no longer drives COM1; the kernel does (%llu bytes it had not written were written now)",
                pid, (unsigned long long)replayed);
}

int64_t console_info_user(uint64_t uinfo)
{
    struct lane_console_info info;
    memset(&info, 0, sizeof info);
    log_console_info(&info);
    return copy_to_user(uinfo, &info, sizeof info);
}
