/*
 * smp.c — bringing up the other CPUs, and the IPIs between them.
 *
 * For every enabled LAPIC in the MADT other than our own: copy the trampoline to 0x8000,
 * give it the kernel PML4, a stack and its struct cpu, send INIT-SIPI-SIPI and wait (up to a
 * second) for it to report online. APs run cpu_init, lapic_init and become their idle thread.
 * CPU indices follow MADT order with the boot CPU as cpu0.
 */
#include <kernel/kernel.h>

extern char trampoline_start[], trampoline_end[], trampoline_params[];
struct cpu *cpu_alloc(uint32_t id);
struct tparams { uint64_t cr3, stack, entry, cpu, efer_extra; };

__attribute__((noreturn)) void idle_loop(void);

static void ap_main(struct cpu *c)
{
    cpu_init(c);
    lapic_init();
    sched_init_cpu(c);
    pr_info("cpu%u online (apic id %u)", c->id, c->apic_id);
    __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
    idle_loop();
}

void smp_boot_aps(void)
{
    uint32_t self = lapic_id();
    memcpy(P2V(0x8000), trampoline_start, trampoline_end - trampoline_start);
    struct tparams *tp = P2V(0x8000 + (trampoline_params - trampoline_start));
    for (uint32_t i = 0; i < acpi.ncpu; i++) {
        uint32_t apic = acpi.apic_ids[i];
        if (apic == self)
            continue;
        if (ncpus >= MAX_CPUS)
            break;
        struct cpu *c = cpu_alloc(ncpus);
        c->apic_id = apic;
        uint64_t stack = pmm_alloc_contig(KSTACK_SIZE / PAGE_SIZE);
        if (!stack)
            panic("smp: no memory for an AP stack");
        c->idle_stack = (uint64_t)P2V(stack);
        tp->cr3 = kernel_pml4;
        tp->stack = (uint64_t)P2V(stack) + KSTACK_SIZE;
        tp->entry = (uint64_t)ap_main;
        tp->cpu = (uint64_t)c;
        tp->efer_extra = cpu_has_nx ? 0x800 : 0;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        lapic_send_init_sipi(apic, 0x8000 >> 12);
        uint64_t deadline = clock_ns() + 1000000000ULL;
        while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && clock_ns() < deadline)
            pause();
        if (!c->online) {
            pr_err("smp: CPU with APIC id %u did not start", apic);
            cpus[ncpus] = NULL;
            continue;
        }
        ncpus++;
    }
}

void smp_send_resched(struct cpu *c)
{
    if (c != this_cpu())
        lapic_send_ipi(c->apic_id, VEC_RESCHED);
    else
        c->need_resched = 1;
}

void smp_halt_others(void)
{
    lapic_broadcast_nmi();
}
