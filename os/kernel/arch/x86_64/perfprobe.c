/*
 * perfprobe.c — what one machine operation costs on this CPU / hypervisor (sys_kperf).
 *
 * `bench` asks the kernel to run one primitive N times back to back and returns the TSC cycles
 * spent, so the cost of the operations the IPC round trip is built of can be read directly:
 * under TCG each is an emulated instruction; under a hypervisor some of them trap (a VM exit,
 * or under a software hypervisor that runs the guest kernel deprivileged, an exception into
 * the host), and that is where the time of a round trip goes. Probes (abi enum kperf_probe):
 *
 *   NOTHING      the loop itself                CLI_STI      cli + sti
 *   SPINLOCK     spin_lock + spin_unlock        CR3_RELOAD   mov cr3 with the current value
 *   LAPIC_WRITE  one LAPIC register write (the timer is re-armed properly afterwards)
 *   WRMSR_FS     wrmsr FS_BASE (same value)     SWAPGS       swapgs twice
 *   FXSAVE       fxsave + fxrstor               RDTSC        rdtsc
 *   IRETQ        an iretq to the next instruction (kernel to kernel)
 *   PUSHF        pushfq/pop (reads IF)          SELF_IPI     a reschedule IPI to this CPU, taken
 *   ATOMIC       lock xadd (kobj_get/put)       PUSHCLI      pushcli + popcli
 *   STOSB_2K     rep stosb of 2 KiB             STOSQ_2K     rep stosq of 2 KiB
 * Every probe leaves the machine as it found it. Needs the SYSTEM handle (like ktest).
 */
#include <kernel/kernel.h>

static uint8_t fx_area[512] __attribute__((aligned(16)));
static uint64_t scratch[256];

static inline void iretq_self(void)
{
    __asm__ volatile(
        "mov %%ss, %%rax\n push %%rax\n push %%rsp\n addq $8, (%%rsp)\n pushfq\n"
        "mov %%cs, %%rax\n push %%rax\n lea 1f(%%rip), %%rax\n push %%rax\n iretq\n1:\n"
        ::: "rax", "memory", "cc");
}

int64_t kperf_probe(uint32_t probe, uint64_t n)
{
    if (n == 0 || n > 10000000)
        return LANES_E_RANGE;
    if (probe > LANES_KPERF_PROBE_STOSQ_2K)
        return LANES_E_INVAL;
    static struct spinlock l = SPINLOCK_INIT("kperf");
    struct cpu *c;
    uint64_t cr3, fs;
    pushcli();
    c = this_cpu();
    cr3 = read_cr3();
    fs = rdmsr(MSR_FS_BASE);
    popcli();
    uint64_t t0 = rdtsc();
    switch (probe) {
    case LANES_KPERF_PROBE_NOTHING:
        for (uint64_t i = 0; i < n; i++)
            __asm__ volatile("" ::: "memory");
        break;
    case LANES_KPERF_PROBE_CLI_STI:
        for (uint64_t i = 0; i < n; i++) {
            cli();
            sti();
        }
        break;
    case LANES_KPERF_PROBE_SPINLOCK:
        for (uint64_t i = 0; i < n; i++) {
            spin_lock(&l);
            spin_unlock(&l);
        }
        break;
    case LANES_KPERF_PROBE_CR3_RELOAD:
        pushcli();
        for (uint64_t i = 0; i < n; i++)
            write_cr3(cr3);
        popcli();
        break;
    case LANES_KPERF_PROBE_LAPIC_WRITE:
        pushcli();
        for (uint64_t i = 0; i < n; i++)
            lapic_timer_oneshot(SLICE_NS);
        this_cpu()->timer_armed = 0;        /* what timer.c believed armed is gone */
        timer_rearm();
        popcli();
        break;
    case LANES_KPERF_PROBE_WRMSR_FS:
        pushcli();
        for (uint64_t i = 0; i < n; i++)
            wrmsr(MSR_FS_BASE, fs);
        popcli();
        break;
    case LANES_KPERF_PROBE_SWAPGS:
        pushcli();
        for (uint64_t i = 0; i < n; i++)
            __asm__ volatile("swapgs; swapgs" ::: "memory");
        popcli();
        break;
    case LANES_KPERF_PROBE_FXSAVE:
        pushcli();
        for (uint64_t i = 0; i < n; i++)
            __asm__ volatile("fxsave64 (%0); fxrstor64 (%0)" :: "r"(fx_area) : "memory");
        popcli();
        break;
    case LANES_KPERF_PROBE_RDTSC:
        for (uint64_t i = 0; i < n; i++)
            (void)rdtsc();
        break;
    case LANES_KPERF_PROBE_IRETQ:
        for (uint64_t i = 0; i < n; i++)
            iretq_self();
        break;
    case LANES_KPERF_PROBE_PUSHF:
        for (uint64_t i = 0; i < n; i++)
            (void)read_flags();
        break;
    case LANES_KPERF_PROBE_SELF_IPI:
        for (uint64_t i = 0; i < n; i++) {
            pushcli();
            lapic_send_ipi(c->apic_id, VEC_RESCHED);
            popcli();       /* taken here */
        }
        break;
    case LANES_KPERF_PROBE_ATOMIC:
        for (uint64_t i = 0; i < n; i++)
            __atomic_fetch_add(&scratch[0], 1, __ATOMIC_SEQ_CST);
        break;
    case LANES_KPERF_PROBE_PUSHCLI:
        for (uint64_t i = 0; i < n; i++) {
            pushcli();
            popcli();
        }
        break;
    case LANES_KPERF_PROBE_STOSB_2K:
        for (uint64_t i = 0; i < n; i++) {
            void *d = scratch;
            uint64_t cnt = sizeof scratch;
            __asm__ volatile("rep stosb" : "+D"(d), "+c"(cnt) : "a"(0) : "memory");
        }
        break;
    case LANES_KPERF_PROBE_STOSQ_2K:
        for (uint64_t i = 0; i < n; i++) {
            void *d = scratch;
            uint64_t cnt = sizeof scratch / 8;
            __asm__ volatile("rep stosq" : "+D"(d), "+c"(cnt) : "a"(0) : "memory");
        }
        break;
    }
    return (int64_t)(rdtsc() - t0);
}
