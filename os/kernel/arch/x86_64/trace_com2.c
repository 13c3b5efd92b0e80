/*
 * trace_com2.c — the serial trace transport's UART: COM2 (0x2f8), 115200 8N1, polled output.
 *
 * Probe: the scratch register must hold what we write and the line status must not read 0xff
 * (no UART there). Output fills the 16-byte FIFO whenever it is empty, waiting for it with a
 * time bound (the drainer napping meanwhile), so a slow host reader loses nothing and a stuck
 * UART cannot hang the drainer.
 * The framing is in generic/trace_drain.c.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

#define COM2 0x2f8

bool trace_com2_probe(void)
{
    outb(COM2 + 7, 0x5a);
    if (inb(COM2 + 7) != 0x5a)
        return false;
    outb(COM2 + 7, 0xa5);
    if (inb(COM2 + 7) != 0xa5 || inb(COM2 + 5) == 0xff)
        return false;
    outb(COM2 + 1, 0x00);       /* no interrupts */
    outb(COM2 + 3, 0x80);       /* DLAB */
    outb(COM2 + 0, 0x01);       /* 115200 */
    outb(COM2 + 1, 0x00);
    outb(COM2 + 3, 0x03);       /* 8N1 */
    outb(COM2 + 2, 0xc7);       /* FIFO on, cleared */
    outb(COM2 + 4, 0x03);       /* DTR, RTS */
    return true;
}

void trace_com2_write(const uint8_t *p, size_t n)
{
    /*
     * LSR bit 5 (THRE) means the whole 16-byte transmit FIFO is empty: fill it, then wait
     * again. QEMU keeps THRE clear while its chardev back end (a socket or pipe the host
     * reads) is full, so a busy host makes us wait here — which is the point: a byte
     * written into a full FIFO is dropped by the UART and the host sees a corrupt frame.
     * The drainer thread naps (1 ms at a time, after 200 us of polling) and waits up to 30 s
     * for the host: a loaded host that left its socket unread for over a second cost a frame
     * with the old 1 s bound (a corrupt frame in the COM2 socket test under load), and
     * meanwhile the rings count what they drop. Anywhere else (a panic's last flush, the boot
     * time bench) it polls for at most 1 s. Either way a dead UART cannot hang the drainer.
     */
    bool nap = trace_on_drainer();
    uint64_t bound = nap ? 30000000000ull : 1000000000ull;
    size_t i = 0;
    while (i < n) {
        uint64_t t0 = clock_ns();
        while (!(inb(COM2 + 5) & 0x20)) {
            uint64_t waited = clock_ns() - t0;
            if (waited > bound)
                return;                 /* stuck UART: give this frame up */
            if (nap && waited > 200000)
                sleep_ns(1000000);
            else
                pause();
        }
        for (int k = 0; k < 16 && i < n; k++)
            outb(COM2, p[i++]);
    }
}
