/*
 * console.c — the user-visible console on COM1.
 *
 * Input: the serial IRQ handler drops bytes into a 4 KiB ring; console_read() blocks until at
 * least one byte is there (or the timeout / an interrupt), then returns what it can.
 * Output: console_write() copies user bytes in and prints them under the console lock that the
 * kernel log also takes ("\n" becomes "\r\n"), so log lines and user output never mix.
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
        console_lock();
        for (size_t i = 0; i < n; i++)
            console_putc_locked(tmp[i]);
        console_unlock();
        done += n;
    }
    return done;
}
