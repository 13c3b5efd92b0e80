/*
 * trace_com2.c — the serial trace transport's UART: COM2 (0x2f8), 115200 8N1, polled output.
 *
 * Probe: the scratch register must hold what we write and the line status must not read 0xff
 * (no UART there). Output fills the 16-byte FIFO whenever it is empty, waiting for it with a
 * time bound, so a slow host reader loses nothing and a stuck UART cannot hang the drainer.
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
     * The wait is bounded by time (1 s per burst), not by a poll count, so a loaded host
     * never causes loss, while a dead UART still cannot hang the drainer.
     */
    size_t i = 0;
    while (i < n) {
        uint64_t t0 = clock_ns();
        while (!(inb(COM2 + 5) & 0x20)) {
            if (clock_ns() - t0 > 1000000000ull)
                return;                 /* stuck UART: give this frame up */
            pause();
        }
        for (int k = 0; k < 16 && i < n; k++)
            outb(COM2, p[i++]);
    }
}
