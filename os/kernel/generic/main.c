/*
 * main.c — the boot sequence of the boot CPU, and the first user process.
 *
 *   boot.S (32-bit, multiboot1 or 2) -> long mode, higher half -> kmain(magic, info)
 *   serial, GDT/TSS/IDT, boot info -> physical memory -> page tables + direct map -> heap
 *   -> TSC (PIT) -> ACPI MADT -> LAPIC + IOAPIC -> LAPIC timer -> scheduler on cpu0
 *   -> console input IRQ -> APs (INIT-SIPI-SIPI) -> drop the identity map
 *   -> bin/init from the initrd as pid 1 with handles "system" and "initrd" -> cpu0 idles.
 */
#include <kernel/kernel.h>
#include <kernel/gdbstub.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>

extern char boot_stack_top[];
__attribute__((noreturn)) void idle_loop(void);

static void start_init(void)
{
    if (!boot.initrd_len) {
        pr_err("no initrd (boot module) given: nothing to run");
        return;
    }
    const uint8_t *tar = P2V(boot.initrd_phys), *img;
    uint64_t size;
    if (initrd_find(tar, boot.initrd_len, "bin/init", &img, &size)) {
        pr_err("initrd: bin/init not found");
        return;
    }
    /* argv: "init" + the words after " -- " on the command line. */
    static char args[512];
    uint32_t argc = 1;
    size_t pos = 0;
    strlcpy(args, "init", sizeof args);
    pos = 5;
    const char *s = cmdline_init_args();
    while (*s && pos < sizeof args - 1) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        while (*s && *s != ' ' && pos < sizeof args - 1)
            args[pos++] = *s++;
        args[pos++] = 0;
        argc++;
    }
    kobj_init(&system_object.obj, LANES_OBJ_SYSTEM, NULL);
    system_object.obj.refs = 1 << 30;
    struct memobj *rd = memobj_wrap_phys(boot.initrd_phys, boot.initrd_len);
    if (!rd)
        panic("no memory for the initrd object");
    struct lane_handle_entry he[2] = { 0 };
    struct kobj *objs[2] = { &system_object.obj, &rd->obj };
    he[0].rights = LANES_RIGHT_ALL;
    strlcpy(he[0].tag, "system", sizeof he[0].tag);
    he[1].rights = LANES_RIGHT_READ | LANES_RIGHT_MAP | LANES_RIGHT_DUP;
    strlcpy(he[1].tag, "initrd", sizeof he[1].tag);
    struct process *p;
    int64_t r = process_spawn_image(kernel_process, img, size, "init", args, pos, argc, 0, he, objs, 2, NULL, NULL, NULL,
                                    &p);
    kobj_put(&rd->obj);
    if (r) {
        pr_err("cannot start bin/init: %s", lanes_error_name(r));
        return;
    }
    pr_info("started bin/init as pid %u (%u args)", p->pid, argc);
    kobj_put(&p->obj);
}

/* /sys/kernel: what is running and for how long (with process.c's and log.c's attributes). */
static size_t show_version(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%s\n", LANES_VERSION_STRING);
}

static size_t show_uptime(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%lu\n", clock_ns());
}

static const struct sysfs_attr kernel_attrs[] = {
    { "version", show_version, NULL },
    { "uptime_ns", show_uptime, NULL },
};

static void kernel_sysfs_init(void)
{
    sysfs_add("/sys/kernel", kernel_attrs, ARRAY_SIZE(kernel_attrs), NULL);
}
SYSFS_PROVIDER(10, kernel, kernel_sysfs_init, NULL);

void kmain(uint32_t magic, uint32_t info)
{
    serial_init();
    cpu_init_bsp_early();
    multiboot_parse(magic, info);
    log_init();                 /* loglevel= from the command line */
    pr_info("%s (x86_64) booting via %s; command line: \"%s\"", LANES_VERSION_STRING,
            magic == 0x2BADB002 ? "multiboot1" : "multiboot2", boot.cmdline);
    cpu_log_identity();         /* "cpu: GenuineIntel, EFER ..., NX" */
    pmm_init();
    uint64_t max_phys = 0;
    for (int i = 0; i < boot.nram; i++)
        max_phys = MAX(max_phys, boot.ram[i].base + boot.ram[i].len);
    paging_init(max_phys);
    time_calibrate();
    acpi_init(0);
    trace_init();
    struct cpu *c0 = cpus[0];
    c0->apic_id = lapic_id();
    lapic_init();
    ioapic_init();
    lapic_timer_calibrate();
    process_init();
    futex_init();
    c0->idle_stack = (uint64_t)boot_stack_top - KSTACK_SIZE;
    sched_init_cpu(c0);
    c0->online = 1;
    pr_info("cpu0 online (apic id %u)", c0->apic_id);
    gdbstub_early();            /* lanes.debug=ttyS0: COM1's bytes are sorted from the start */
    console_init();
    sti();
    smp_boot_aps();
    paging_drop_identity();
    pr_info("smp: %u CPUs online", ncpus);
    gdbstub_init();             /* lanes.debug=ttyS1: gdb on COM2; lanes.debug_wait stops here */
    pr_info("memory: %lu KiB free of %lu KiB", pmm_free_bytes() >> 10, pmm_total_bytes() >> 10);
    trace_start();
    sysfs_init();
    balance_init();
    start_init();
    idle_loop();
}
