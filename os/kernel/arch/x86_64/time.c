/*
 * time.c — the monotonic clock.
 *
 * The TSC is calibrated once against the PIT (channel 2, gated through port 0x61, 5 x 10 ms);
 * clock_ns() is then (rdtsc - boot) scaled by a 32.32 fixed-point factor. QEMU's TSCs are
 * synchronised across vCPUs, so the clock is the same on every CPU.
 */
#include <kernel/kernel.h>

HOT_DATA uint64_t tsc_hz;
HOT_DATA static uint64_t tsc_base, ns_mult;     /* ns = delta * ns_mult >> 32 */

static uint16_t pit2_read(void)
{
    outb(0x43, 0x80);                   /* latch channel 2 */
    uint8_t lo = inb(0x42);
    return lo | (uint16_t)inb(0x42) << 8;
}

/*
 * Five 10 ms windows, each bracketed by TSC reads around PIT counter reads; the window whose
 * brackets were tightest (the vCPU was not preempted while reading) wins. A host under load
 * then cannot inflate the result the way a single "wait for the PIT output" loop would.
 */
void time_calibrate(void)
{
    const uint32_t pit_hz = 1193182, ticks = pit_hz / 100;
    uint64_t best_hz = 0, best_width = UINT64_MAX;
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);     /* gate channel 2 on, speaker off */
    for (int i = 0; i < 5; i++) {
        outb(0x43, 0xb0);                       /* channel 2, lo/hi, mode 0 */
        outb(0x42, 0xff);
        outb(0x42, 0xff);
        uint64_t t0 = rdtsc();
        uint16_t p0 = pit2_read();
        uint64_t t0b = rdtsc();
        uint16_t p1;
        do
            p1 = pit2_read();
        while ((uint16_t)(p0 - p1) < ticks && p1 <= p0);
        uint64_t t1 = rdtsc();
        p1 = pit2_read();
        uint64_t t1b = rdtsc();
        if (p1 >= p0)
            continue;
        uint64_t width = (t0b - t0) + (t1b - t1);
        uint64_t dt = (t1 + t1b) / 2 - (t0 + t0b) / 2;
        uint64_t hz = dt * pit_hz / (uint64_t)(p0 - p1);
        if (width < best_width) {
            best_width = width;
            best_hz = hz;
        }
    }
    if (!best_hz)
        best_hz = 1000000000ULL;            /* no PIT: assume 1 GHz rather than divide by 0 */
    tsc_hz = best_hz;
    ns_mult = (1000000000ULL << 32) / tsc_hz;
    tsc_base = rdtsc() - tsc_hz / 20;       /* calibration took about 50 ms of boot */
    pr_info("time: TSC %lu.%03lu MHz (PIT calibrated)", tsc_hz / 1000000, (tsc_hz / 1000) % 1000);
}

HOT uint64_t clock_ns(void)
{
    if (!tsc_hz)
        return 0;
    uint64_t d = rdtsc() - tsc_base;
    return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}

/* clock_ns's constants, for libc's clock without a system call (syscall clock_info). */
void clock_params(uint64_t *base, uint64_t *mult, uint64_t *hz)
{
    *base = tsc_base;
    *mult = ns_mult;
    *hz = tsc_hz;
}

void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
    while ((int64_t)(rdtsc() - end) < 0)
        pause();
}
