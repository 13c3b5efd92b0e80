/* cmos-rtc — a user-space driver: reads the date and time from the CMOS real-time clock.
 *
 * Its manifest asks for exactly the two RTC ports (0x70 index, 0x71 data). init or sh grant an
 * IOPORT capability for them (handle tag "ioport"); ioport_enable lets this process execute
 * in/out on those ports only — any other port still faults (see fault-io). Prints
 * "cmos-rtc: YYYY-MM-DD HH:MM:SS UTC" and exits 0, or explains what it could not do.
 */
#include <lanes.h>
#include <stdio.h>

LANES_MANIFEST("ioport 0x70 2");

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);   /* bit 7 clear: NMI stays enabled */
    return inb(0x71);
}

struct rtc { unsigned sec, min, hour, day, mon, year; };

static void read_rtc(struct rtc *t)
{
    while (cmos(0x0a) & 0x80)   /* update in progress */
        ;
    t->sec = cmos(0x00);
    t->min = cmos(0x02);
    t->hour = cmos(0x04);
    t->day = cmos(0x07);
    t->mon = cmos(0x08);
    t->year = cmos(0x09);
}

static unsigned bcd(unsigned v) { return (v & 0x0f) + (v >> 4) * 10; }

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int32_t port = lanes_handle_by_tag("ioport");
    if (port == LANES_HANDLE_NONE) {
        printf("cmos-rtc: no ioport capability was granted\n");
        return 2;
    }
    int64_t r = lanes_sys_ioport_enable(port);
    if (r < 0) {
        printf("cmos-rtc: ioport_enable failed: %s\n", lanes_strerror(r));
        return 3;
    }
    struct rtc a, b;
    do {   /* read twice until stable, as the RTC may tick between reads */
        read_rtc(&a);
        read_rtc(&b);
    } while (a.sec != b.sec || a.min != b.min || a.hour != b.hour || a.day != b.day);
    uint8_t status_b = cmos(0x0b);
    if (!(status_b & 0x04)) {
        b.sec = bcd(b.sec);
        b.min = bcd(b.min);
        b.hour = bcd(b.hour & 0x7f) | (b.hour & 0x80);
        b.day = bcd(b.day);
        b.mon = bcd(b.mon);
        b.year = bcd(b.year);
    }
    if (!(status_b & 0x02) && (b.hour & 0x80))
        b.hour = ((b.hour & 0x7f) + 12) % 24;
    if (b.mon < 1 || b.mon > 12 || b.day < 1 || b.day > 31 || b.hour > 23 || b.min > 59 || b.sec > 60) {
        printf("cmos-rtc: implausible clock reading %u-%u %u:%u:%u\n", b.mon, b.day, b.hour, b.min, b.sec);
        return 4;
    }
    printf("cmos-rtc: %04u-%02u-%02u %02u:%02u:%02u UTC\n", 2000 + b.year, b.mon, b.day, b.hour, b.min, b.sec);
    return 0;
}
