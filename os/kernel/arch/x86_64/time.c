/*
 * time.c — the monotonic clock.
 *
 * The TSC is calibrated once against the PIT (channel 2, gated through port 0x61, 50 ms);
 * clock_ns() is then (rdtsc - boot) scaled by a 32.32 fixed-point factor. QEMU's TSCs are
 * synchronised across vCPUs, so the clock is the same on every CPU.
 */
#include <kernel/kernel.h>

uint64_t tsc_hz;
static uint64_t tsc_base, ns_mult;     /* ns = delta * ns_mult >> 32 */

void time_calibrate(void)
{
    const uint32_t pit_hz = 1193182, ms = 50;
    uint32_t count = pit_hz * ms / 1000;
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);
    outb(0x43, 0xb0);                   /* channel 2, lo/hi, mode 0 */
    outb(0x42, count & 0xff);
    outb(0x42, count >> 8);
    uint64_t t0 = rdtsc();
    while (!(inb(0x61) & 0x20))
        ;
    uint64_t t1 = rdtsc();
    tsc_hz = (t1 - t0) * 1000 / ms;
    ns_mult = (1000000000ULL << 32) / tsc_hz;
    tsc_base = t0 - tsc_hz * ms / 1000;
    pr_info("time: TSC %lu.%03lu MHz (PIT calibrated)", tsc_hz / 1000000, (tsc_hz / 1000) % 1000);
}

uint64_t clock_ns(void)
{
    if (!tsc_hz)
        return 0;
    uint64_t d = rdtsc() - tsc_base;
    return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}

void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
    while ((int64_t)(rdtsc() - end) < 0)
        pause();
}
