/* fault-io — a driver that oversteps its manifest.
 *
 * It declares the RTC ports (0x70-0x71), enables them and reads one (allowed), then reads the
 * keyboard controller's status port 0x64, which it never declared: the CPU raises #GP, the
 * kernel stops the process and tells its supervisor. With the argument "noenable" it skips
 * ioport_enable, so even its own ports fault. It exits 0 only if the forbidden access did NOT
 * fault — which would be a kernel bug that usertests reports.
 */
#include <lanes.h>
#include <stdio.h>
#include <string.h>

LANES_MANIFEST("ioport 0x70 2");

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

int main(int argc, char **argv)
{
    int enable = !(argc > 1 && strcmp(argv[1], "noenable") == 0);
    if (enable) {
        int64_t r = lanes_sys_ioport_enable(lanes_handle_by_tag("ioport"));
        if (r < 0) {
            printf("fault-io: ioport_enable failed: %s\n", lanes_strerror(r));
            return 2;
        }
        __asm__ volatile("outb %0, $0x70" : : "a"((uint8_t)0x0a));
        (void)inb(0x71);
        printf("fault-io: port 0x71 (granted) read fine; now reading port 0x64 (not granted)\n");
        (void)inb(0x64);
    } else {
        printf("fault-io: reading port 0x71 without ioport_enable\n");
        (void)inb(0x71);
    }
    printf("fault-io: the forbidden port access did not fault!\n");
    return 0;
}
