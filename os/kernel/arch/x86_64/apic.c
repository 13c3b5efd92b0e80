/*
 * apic.c — local APIC (timer, IPIs, EOI) and IOAPIC (legacy IRQ routing), xAPIC MMIO mode.
 *
 * The 8259 PICs are masked for good. Each CPU's LAPIC timer runs one-shot: the scheduler
 * programs it for the earlier of the end of the current time slice and the first timer
 * deadline on that CPU (timer.c). The LAPIC timer is calibrated once against the TSC.
 * IOAPIC redirection entries honour the MADT's interrupt source overrides.
 */
#include <kernel/kernel.h>

#define LAPIC_ID        0x020
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERR   0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

HOT_DATA uint64_t lapic_hz;
static uint64_t lapic_mult;     /* ticks = ns * lapic_mult >> 32 */
static volatile uint32_t *lapic_base;
static volatile uint32_t *ioapic_base;
static struct spinlock ioapic_lock = SPINLOCK_INIT("ioapic");

static uint32_t lapic_read(uint32_t reg) { return lapic_base[reg / 4]; }
/* Uncached MMIO: writes are ordered without a read-back (each access traps under a hypervisor). */
static void lapic_write(uint32_t reg, uint32_t v) { lapic_base[reg / 4] = v; }

/* In the debugger's text (linker.ld): the kernel debugger asks it which CPU it is on before
 * anything else, so an int3 here would re-enter it for ever. */
__attribute__((section(".text.debugger"))) uint32_t lapic_id(void)
{
    if (!lapic_base)
        lapic_base = P2V(acpi.lapic_addr ? acpi.lapic_addr : 0xfee00000);
    return lapic_read(LAPIC_ID) >> 24;
}

/* A fixed interrupt to this CPU itself (the ICR's "self" shorthand: one write, no destination),
 * sent by the kernel debugger's NMI — in the debugger's text too: no breakpoint goes here. */
__attribute__((section(".text.debugger"))) void lapic_self_ipi(uint8_t vector)
{
    for (int i = 0; i < 1000000 && (lapic_read(LAPIC_ICR_LO) & (1 << 12)); i++)
        pause();
    lapic_write(LAPIC_ICR_LO, vector | (1 << 14) | (1 << 18));
}

void lapic_init(void)
{
    lapic_base = P2V(acpi.lapic_addr);
    if (this_cpu()->id == 0) {
        mmio_reserve(acpi.lapic_addr, PAGE_SIZE, "the local APIC");
        outb(0x21, 0xff);           /* mask both 8259s */
        outb(0xa1, 0xff);
    }
    lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_LINT0, 1 << 16);
    lapic_write(LAPIC_LVT_LINT1, (1 << 16) | (4 << 8)); /* masked NMI */
    lapic_write(LAPIC_LVT_ERR, 0xfe);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_TIMER_DIV, 0x3);                  /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);            /* one-shot */
    lapic_write(LAPIC_TIMER_INIT, 0);
    lapic_write(LAPIC_EOI, 0);
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_calibrate(void)
{
    lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
    uint64_t t0 = clock_ns();
    delay_us(20000);
    uint32_t cur = lapic_read(LAPIC_TIMER_CUR);
    uint64_t t1 = clock_ns();
    lapic_write(LAPIC_TIMER_INIT, 0);
    uint64_t ticks = 0xffffffffULL - cur;
    lapic_hz = ticks * 1000000000ULL / (t1 - t0);
    lapic_mult = (lapic_hz << 32) / 1000000000ULL;
    pr_info("apic: LAPIC timer %lu kHz", lapic_hz / 1000);
}

void lapic_timer_oneshot(uint64_t ns)
{
    if (!ns) {
        lapic_write(LAPIC_TIMER_INIT, 0);
        return;
    }
    if (ns > (1ULL << 40))
        ns = 1ULL << 40;
    uint64_t count = (uint64_t)(((unsigned __int128)ns * lapic_mult) >> 32);
    if (count < 1)
        count = 1;
    if (count > 0xffffffffULL)
        count = 0xffffffffULL;
    lapic_write(LAPIC_TIMER_INIT, (uint32_t)count);
}

static void icr_wait(void)
{
    for (int i = 0; i < 1000000 && (lapic_read(LAPIC_ICR_LO) & (1 << 12)); i++)
        pause();
}

void lapic_send_ipi_irqs_off(uint32_t apic_id, uint8_t vector)
{
    icr_wait();
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, vector | (1 << 14));
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    pushcli();
    lapic_send_ipi_irqs_off(apic_id, vector);
    popcli();
}

void lapic_send_init_sipi(uint32_t apic_id, uint8_t page)
{
    icr_wait();
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, 0x4500);          /* INIT, level assert */
    delay_us(10000);
    for (int i = 0; i < 2; i++) {
        icr_wait();
        lapic_write(LAPIC_ICR_HI, apic_id << 24);
        lapic_write(LAPIC_ICR_LO, 0x4600 | page); /* STARTUP */
        delay_us(200);
    }
    icr_wait();
}

void lapic_broadcast_nmi(void)
{
    if (!lapic_base)
        return;
    icr_wait();
    lapic_write(LAPIC_ICR_HI, 0);
    lapic_write(LAPIC_ICR_LO, 0xc4400);         /* NMI, all excluding self */
}

static uint32_t ioapic_read(uint32_t reg) { ioapic_base[0] = reg; return ioapic_base[4]; }
static void ioapic_write(uint32_t reg, uint32_t v) { ioapic_base[0] = reg; ioapic_base[4] = v; }

void ioapic_init(void)
{
    ioapic_base = P2V(acpi.ioapic_addr);
    mmio_reserve(acpi.ioapic_addr, PAGE_SIZE, "the IOAPIC");
    uint32_t n = ((ioapic_read(1) >> 16) & 0xff) + 1;
    for (uint32_t i = 0; i < n; i++) {
        ioapic_write(0x10 + 2 * i, 1 << 16);
        ioapic_write(0x11 + 2 * i, 0);
    }
    pr_info("apic: IOAPIC with %u pins", n);
}

static uint32_t gsi_pin(int irq) { return acpi.irq_gsi[irq] - acpi.ioapic_gsi_base; }

void ioapic_route(int irq, uint8_t vector, uint32_t apic_id, bool masked)
{
    uint16_t fl = acpi.irq_flags[irq];
    uint32_t lo = vector;
    if ((fl & 3) == 3)
        lo |= 1 << 13;              /* active low */
    if (((fl >> 2) & 3) == 3)
        lo |= 1 << 15;              /* level triggered */
    if (masked)
        lo |= 1 << 16;
    spin_lock(&ioapic_lock);
    ioapic_write(0x11 + 2 * gsi_pin(irq), apic_id << 24);
    ioapic_write(0x10 + 2 * gsi_pin(irq), lo);
    spin_unlock(&ioapic_lock);
}

void ioapic_mask(int irq, bool masked)
{
    spin_lock(&ioapic_lock);
    uint32_t lo = ioapic_read(0x10 + 2 * gsi_pin(irq));
    lo = masked ? (lo | (1 << 16)) : (lo & ~(1u << 16));
    ioapic_write(0x10 + 2 * gsi_pin(irq), lo);
    spin_unlock(&ioapic_lock);
}
