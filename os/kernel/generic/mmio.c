/*
 * mmio.c — physical MMIO ranges as memory objects: the mmio_create system call, and the
 * ranges the kernel keeps for itself.
 *
 * A user-space driver reaches its device's registers through a MEMORY capability over the
 * device's physical range, made from the SYSTEM capability (the pci server makes one per memory
 * BAR for a driver it binds, and one per bus of PCIe's memory-mapped configuration space for
 * itself). The object is "borrowed" (memobj_wrap_phys: its pages are the device's, never given
 * back to the allocator) and flagged mmio, so vm.c maps it uncached (PCD|PWT) and nothing in
 * the kernel reads it through the direct map (vm_read refuses such pages: MMIO above 4 GiB is
 * not in the direct map, and a read there may have side effects). mem_map then maps it like any
 * shared object; EXEC is refused. What is refused at creation, so that user space can never
 * reach memory or the kernel's own devices through this door:
 *   INVAL   len 0, base or len not page-aligned, base + len wraps
 *   RANGE   beyond the CPU's physical address width, or overlapping RAM (the boot memory map's
 *           usable, ACPI-reclaimable and NVS ranges)
 *   BUSY    overlapping a range the kernel uses itself (mmio_reserve: the local APIC, the
 *           IOAPIC, the trace rings' ivshmem BAR), named in the log line
 *   NOMEM   more than 1 GiB (the largest memory object) or no memory for the page list
 */
#include <kernel/kernel.h>
#include "syscall.h"

#define MAX_RESERVED 8
static struct { uint64_t base, len; const char *name; } reserved[MAX_RESERVED];
static int nreserved;
static struct spinlock reserved_lock = SPINLOCK_INIT("mmio reserved");

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* The kernel's own device memory: refused to mmio_create (called at boot by apic.c and
 * trace_ivshmem.c, before any process exists). */
void mmio_reserve(uint64_t base, uint64_t len, const char *name)
{
    spin_lock(&reserved_lock);
    if (nreserved < MAX_RESERVED)
        reserved[nreserved++] = (typeof(reserved[0])){ ALIGN_DOWN(base, PAGE_SIZE), ALIGN_UP(len, PAGE_SIZE), name };
    else
        pr_warn("mmio: no room to reserve %s at 0x%lx", name, base);
    spin_unlock(&reserved_lock);
}

/* 0 if [base, base+len) may be handed to user space, else the error (mmio_create's list). */
int64_t mmio_check(uint64_t base, uint64_t len, const char **why)
{
    *why = "";
    if (!len || (base | len) & (PAGE_SIZE - 1) || base + len < base)
        return LANES_E_INVAL;
    if (cpu_phys_bits < 64 && base + len > (1ULL << cpu_phys_bits)) {
        *why = "beyond the physical address width";
        return LANES_E_RANGE;
    }
    for (int i = 0; i < boot.nram; i++)
        if (overlaps(base, len, boot.ram[i].base, boot.ram[i].len)) {
            *why = "RAM";
            return LANES_E_RANGE;
        }
    for (int i = 0; i < boot.nfw; i++)
        if (overlaps(base, len, boot.fw[i].base, boot.fw[i].len)) {
            *why = "ACPI memory";
            return LANES_E_RANGE;
        }
    int64_t r = 0;
    spin_lock(&reserved_lock);
    for (int i = 0; i < nreserved && !r; i++)
        if (overlaps(base, len, reserved[i].base, reserved[i].len)) {
            *why = reserved[i].name;
            r = LANES_E_BUSY;
        }
    spin_unlock(&reserved_lock);
    return r;
}

/* For sysfs's driver nodes: the physical range of an MMIO memory object. */
bool mmio_obj_range(struct kobj *o, uint64_t *base, uint64_t *len)
{
    if (o->type != LANES_OBJ_MEMORY)
        return false;
    struct memobj *m = container_of(o, struct memobj, obj);
    if (!m->mmio)
        return false;
    *base = m->pages[0];
    *len = m->npages * PAGE_SIZE;
    return true;
}

SYS(mmio_create)
{
    UNUSED_ARGS;
    int64_t r = handle_check_system(a0);
    if (r)
        return r;
    uint64_t base = a1, len = a2;
    const char *why;
    r = mmio_check(base, len, &why);
    if (r) {
        if (*why)
            pr_debug("mmio: pid %u asked for 0x%lx+0x%lx: %s", self()->pid, base, len, why);
        return r;
    }
    if (len > (1ULL << 30))
        return LANES_E_NOMEM;
    struct memobj *m = memobj_wrap_phys(base, len);
    if (!m)
        return LANES_E_NOMEM;
    m->mmio = true;
    return handle_give(&m->obj, LANES_RIGHT_ALL);
}
