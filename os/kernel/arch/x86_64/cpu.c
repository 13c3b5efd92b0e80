/*
 * cpu.c — per-CPU setup: GDT, TSS (with the I/O permission bitmap), IDT, GS base, syscall MSRs,
 * FPU/SSE enablement, IA32_TSC_AUX.
 *
 * Every CPU gets its own struct cpu, GDT and TSS (statically allocated, so the boot CPU can
 * take exceptions before the heap exists); the IDT is shared. GDT layout (fixed by the
 * syscall/sysret STAR convention): 0x08 kernel code, 0x10 kernel data, 0x18 user data,
 * 0x20 user code, 0x28 TSS. Double faults and NMIs run on their own IST stacks.
 * The TSS I/O bitmap is switched lazily per process (see tss_load_iopb and sched.c).
 * Where the CPU has RDTSCP or RDPID, IA32_TSC_AUX holds LANES_TSC_AUX_MAGIC | the CPU's index (struct
 * cpu id, what the cpu_id syscall returns), so user space reads it with RDPID or RDTSCP without
 * a syscall (libc's lanes_cpu_id, like Linux's vDSO getcpu). The magic lets libc tell our value
 * from someone else's: some nested hypervisors never load a guest's TSC_AUX, and the guest then
 * reads the outer host's (seen on this project's CI host: KVM inside a Firecracker VM).
 * Nothing else writes the MSR.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

HOT_DATA struct cpu *cpus[MAX_CPUS];
HOT_DATA uint32_t ncpus = 1;
bool cpu_has_nx;
uint32_t cpu_phys_bits = 36;   /* MAXPHYADDR (CPUID 0x80000008), physical ranges beyond it are refused (mmio.c) */
bool cpu_smep, cpu_smap;        /* CR4.SMEP / CR4.SMAP set on every CPU (decided on the BSP) */
HOT_DATA uint8_t smap_on;                /* entry.S: stac/clac only when this is 1 (they #UD without SMAP) */
extern bool percpu_up;

#define MSR_TSC_AUX 0xc0000103
/* LANES_TSC_AUX_MAGIC (os/abi/kernel.toml) in bits 31..16 of TSC_AUX, the CPU index in
 * 15..0; lanes_cpu_id() (os/lib/src/start.c) checks it on every read. */
_Static_assert(MAX_CPUS <= 0x10000, "the CPU index must fit below LANES_TSC_AUX_MAGIC");
#define CPUID_8000_0001_EDX_RDTSCP (1u << 27)
#define CPUID_7_ECX_RDPID          (1u << 22)

static struct cpu cpu_storage[MAX_CPUS] __attribute__((aligned(4096)));   /* (the first CPUs' in one page: hot.h) */
static struct tss tss_storage[MAX_CPUS] __attribute__((aligned(16)));
static uint8_t ist_storage[MAX_CPUS][2][4096] __attribute__((aligned(16)));

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
} __attribute__((packed));
static struct idt_gate idt[256];
void int80_entry(void);
struct __attribute__((packed)) desc_ptr { uint16_t limit; uint64_t base; };

struct cpu *cpu_alloc(uint32_t id)
{
    struct cpu *c = &cpu_storage[id];
    c->self = c;
    c->id = id;
    c->tss = &tss_storage[id];
    c->ist_stack = &ist_storage[id][0][0];
    spin_init(&c->rq_lock, "runqueue");
    spin_init(&c->timer_lock, "timers");
    cpus[id] = c;
    return c;
}

static void idt_init(void)
{
    for (int i = 0; i < 256; i++) {
        uint64_t a = isr_stubs[i];
        idt[i] = (struct idt_gate){
            .off0 = a & 0xffff, .sel = SEL_KCODE, .ist = 0, .type = 0x8e,
            .off1 = (a >> 16) & 0xffff, .off2 = a >> 32, .zero = 0,
        };
    }
    /* System calls through `int $0x80` (DPL 3: user mode may raise it), for hosts whose
     * `syscall` is broken (trap.c, kinfo.c); the same ABI as `syscall`. */
    uint64_t a = (uint64_t)int80_entry;
    idt[LANES_SYSCALL_VECTOR] = (struct idt_gate){
        .off0 = a & 0xffff, .sel = SEL_KCODE, .ist = 0, .type = 0xee,
        .off1 = (a >> 16) & 0xffff, .off2 = a >> 32, .zero = 0,
    };
    idt[8].ist = 1;     /* double fault */
    idt[2].ist = 2;     /* NMI */
    idt[18].ist = 1;    /* machine check */
}

void tss_load_iopb(const uint8_t *bitmap)
{
    struct tss *t = this_cpu()->tss;
    if (bitmap) {
        memcpy(t->iomap, bitmap, 8192);
        t->iomap[8192] = 0xff;
        t->iomap_base = offsetof(struct tss, iomap);
    } else {
        t->iomap_base = sizeof(struct tss);     /* past the limit: every port faults */
    }
}

/* Turn the loaded bitmap on or off without copying it (iomap_base past the limit: no port). */
HOT void tss_iopb_enable(bool on)
{
    this_cpu()->tss->iomap_base = on ? offsetof(struct tss, iomap) : sizeof(struct tss);
}

HOT void cpu_set_kstack(uint64_t top)
{
    struct cpu *c = this_cpu();
    c->kstack_top = top;
    c->tss->rsp0 = top;
}

static uint8_t fpu_template[512] __attribute__((aligned(16)));
const uint8_t *fpu_initial_state = fpu_template;

void cpu_init(struct cpu *c)
{
    /* the event recorder's fast path finds this CPU's ring through %gs (kernel/trace.h) */
    c->trace_ring = &trace_rings[c->id & (TRACE_MAX_CPUS - 1)];
    c->trace_fast_end = 0;
    /* GDT */
    c->gdt[0] = 0;
    c->gdt[1] = 0x00af9a000000ffffULL;   /* kernel code */
    c->gdt[2] = 0x00cf92000000ffffULL;   /* kernel data */
    c->gdt[3] = 0x00cff2000000ffffULL;   /* user data */
    c->gdt[4] = 0x00affa000000ffffULL;   /* user code */
    uint64_t base = (uint64_t)c->tss, limit = sizeof(struct tss) - 1;
    c->gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    c->gdt[6] = base >> 32;
    memset(c->tss, 0, sizeof *c->tss);
    c->tss->ist[0] = (uint64_t)c->ist_stack + 4096;
    c->tss->ist[1] = (uint64_t)c->ist_stack + 8192;
    c->tss->iomap_base = sizeof(struct tss);
    c->tss->iomap[8192] = 0xff;

    struct desc_ptr g = { sizeof c->gdt - 1, (uint64_t)c->gdt };
    __asm__ volatile("lgdt %0" :: "m"(g));
    __asm__ volatile(
        "mov %0, %%ds\n mov %0, %%es\n mov %0, %%ss\n"
        "xor %%eax, %%eax\n mov %%ax, %%fs\n mov %%ax, %%gs\n"
        "pushq %1\n lea 1f(%%rip), %%rax\n push %%rax\n lretq\n1:\n"
        :: "r"((uint64_t)SEL_KDATA), "i"(SEL_KCODE) : "rax", "memory");
    __asm__ volatile("ltr %w0" :: "r"((uint16_t)SEL_TSS));
    struct desc_ptr i = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" :: "m"(i));

    wrmsr(MSR_GS_BASE, (uint64_t)c);
    wrmsr(MSR_KGS_BASE, 0);

    /* syscall/sysret */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);
    wrmsr(MSR_STAR, (0x10ULL << 48) | ((uint64_t)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, 0x47700);      /* IF TF DF AC NT IOPL */

    /* FPU/SSE for user space: CR0.MP, !EM, NE; CR4.OSFXSR, OSXMMEXCPT. */
    uint64_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = (cr0 & ~(1ULL << 2)) | (1ULL << 1) | (1ULL << 5) | (1ULL << 16);
    __asm__ volatile("mov %0, %%cr0" :: "r"(cr0));
    /* SMEP (CPUID.7.0:EBX bit 7 -> CR4 bit 20): the kernel never executes user pages; SMAP (bit 20
     * -> CR4 bit 21): the kernel touches user pages only inside the user-copy helpers of entry.S,
     * which open the window with stac and close it with clac. */
    uint32_t a, b, cc, d;
    if (c->id == 0) {
        cpuid(0, 0, &a, &b, &cc, &d);
        if (a >= 7) {
            cpuid(7, 0, &a, &b, &cc, &d);
            cpu_smep = b & (1u << 7);
            cpu_smap = b & (1u << 20);
            smap_on = cpu_smap;
        }
    }
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= (1ULL << 9) | (1ULL << 10);
    if (cpu_smep)
        cr4 |= 1ULL << 20;
    if (cpu_smap)
        cr4 |= 1ULL << 21;
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
    __asm__ volatile("fninit");
    cpuid(0x80000001, 0, &a, &b, &cc, &d);
    if (c->id == 0) {
        __asm__ volatile("fxsave %0" : "=m"(fpu_template));
        cpu_has_nx = d & (1u << 20);
        uint32_t ea, eb, ec, ed;
        cpuid(0x80000000, 0, &ea, &eb, &ec, &ed);
        if (ea >= 0x80000008) {
            cpuid(0x80000008, 0, &ea, &eb, &ec, &ed);
            if ((ea & 0xff) >= 32 && (ea & 0xff) <= 52)
                cpu_phys_bits = ea & 0xff;
        }
    }

    /* The CPU's index for RDTSCP (into ECX) and RDPID, which read IA32_TSC_AUX in user mode.
     * The MSR exists when either does (a hypervisor may offer RDPID without RDTSCP; Linux's
     * setup_getcpu tests both too). */
    bool has_rdtscp = d & CPUID_8000_0001_EDX_RDTSCP, has_rdpid = false;
    cpuid(0, 0, &a, &b, &cc, &d);
    if (a >= 7) {
        cpuid(7, 0, &a, &b, &cc, &d);
        has_rdpid = cc & CPUID_7_ECX_RDPID;
    }
    if (has_rdtscp || has_rdpid)
        wrmsr(MSR_TSC_AUX, LANES_TSC_AUX_MAGIC | c->id);
}

void cpu_init_bsp_early(void)
{
    idt_init();
    struct cpu *c = cpu_alloc(0);
    cpu_init(c);
    percpu_up = true;
}

/* The boot CPU's vendor and EFER, logged once at boot (kmain). */
void cpu_log_identity(void)
{
    uint32_t a, b, c, d;
    char vendor[13];
    cpuid(0, 0, &a, &b, &c, &d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    pr_info("cpu: %s, EFER 0x%lx%s, SMEP %s, SMAP %s", vendor, rdmsr(MSR_EFER), cpu_has_nx ? ", NX" : "",
            cpu_smep ? "on" : "not available", cpu_smap ? "on" : "not available");
}
