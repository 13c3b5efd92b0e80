/*
 * trace_com2.c — the serial trace transport's UART: COM2 (0x2f8), 115200 8N1, polled output.
 *
 * Probe: the scratch register must hold what we write and the line status must not read 0xff
 * (no UART there). Output waits for the transmit holding register, with a bound, so a missing
 * or stuck UART cannot hang the drainer. The framing is in generic/trace_drain.c.
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
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 100000 && !(inb(COM2 + 5) & 0x20); k++)
            pause();
        outb(COM2, p[i]);
    }
}
