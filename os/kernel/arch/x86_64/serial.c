/*
 * serial.c — COM1 (0x3f8) at 115200 8N1.
 *
 * Output is polled (wait until the transmitter is empty, then write up to a FIFO's worth), which
 * is simple and works from any context including a panic. Input arrives by IRQ 4 through the IOAPIC once
 * console_init() has routed it; each received byte goes to the console's ring buffer.
 * While the user-space console server holds COM1 (generic/console.c) the kernel touches none of
 * these ports; serial_reset_tx() and serial_enable_rx_irq() take the UART back afterwards.
 */
#include <kernel/kernel.h>
#include <kernel/gdbstub.h>

#define COM1 0x3f8

static unsigned fifo_size = 1, fifo_room;

void serial_init(void)
{
    outb(COM1 + 1, 0x00);       /* no interrupts yet */
    outb(COM1 + 3, 0x80);       /* DLAB */
    outb(COM1 + 0, 0x01);       /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);       /* 8N1 */
    outb(COM1 + 2, 0xc7);       /* FIFO on, cleared, 14-byte threshold */
    outb(COM1 + 4, 0x0b);       /* DTR, RTS, OUT2 (IRQ line enable) */
    if ((inb(COM1 + 2) & 0xc0) == 0xc0)
        fifo_size = 16;         /* a 16550A: 16 bytes may follow one "transmitter empty" */
}

/* Callers hold the console lock (or are panicking). Port reads are VM exits, so we poll the
 * line status only when the FIFO may be full. */
void serial_putc(char c)
{
    /* (> fifo_size: a count that wrapped — never trusted, see serial_tx_resume) */
    if (!fifo_room || fifo_room > fifo_size) {
        for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
            pause();
        fifo_room = fifo_size;
    }
    outb(COM1, (uint8_t)c);
    fifo_room--;
}

static void serial_irq(int irq, void *arg)
{
    (void)irq;
    (void)arg;
    if (gdb_mux) {
        gdbstub_rx(NULL);       /* lanes.debug=ttyS0: console and gdb bytes are sorted there */
        return;
    }
    while (inb(COM1 + 5) & 0x01)
        console_rx_byte(inb(COM1));
}

/* After a user-space driver: 8N1 without DLAB, and poll before the next byte (the FIFO may be
 * full of its bytes). Safe from a panic. */
void serial_reset_tx(void)
{
    outb(COM1 + 3, 0x03);
    fifo_room = 0;
}

/* After the kernel's gdb stub wrote on COM1 (lanes.debug=ttyS0) with every other CPU parked.
 * A CPU parked inside serial_putc — past its check of fifo_room, before its outb — writes that
 * one byte when released, without polling: the stub first lets its own bytes leave (empty: the
 * transmitter is empty, THRE), so the byte has room (QEMU's 16550 drops the oldest byte when
 * its FIFO overflows), and a FIFO's worth less that byte may follow. Not empty (a line nobody
 * drains): poll before the next byte. Setting 0 here while that CPU had yet to decrement made
 * the count wrap, and every later byte went out unpolled into a full FIFO. */
void serial_tx_resume(bool empty)
{
    fifo_room = empty ? fifo_size - 1 : 0;
}

void serial_enable_rx_irq(void)
{
    irq_register(4, serial_irq, NULL);
    ioapic_route(4, VEC_IRQ_BASE + 4, cpus[0]->apic_id, false);
    outb(COM1 + 4, 0x0b);       /* DTR, RTS, OUT2 (IRQ line enable) */
    outb(COM1 + 1, 0x01);       /* interrupt on received data */
    serial_irq(4, NULL);        /* drain anything that arrived before */
}
