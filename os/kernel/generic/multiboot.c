/*
 * multiboot.c — what the boot loader tells us, in either multiboot dialect.
 *
 * QEMU -kernel speaks multiboot1 (magic 0x2BADB002), GRUB's multiboot2 command speaks
 * multiboot2 (magic 0x36d76289). Both give a command line, a memory map and modules; MB2 may
 * also hand over a copy of the ACPI RSDP. We copy what we need into `boot` before the physical
 * memory allocator exists, so the loader's structures can then be overwritten freely.
 * The first module is the initrd. Command line: "[kernel path] [key=value...] [-- init args]".
 */
#include <kernel/kernel.h>

struct boot_info boot;

static void add_ram(uint64_t base, uint64_t len)
{
    if (boot.nram < (int)ARRAY_SIZE(boot.ram) && len)
        boot.ram[boot.nram++] = (struct mem_range){ base, len };
}

/* ACPI tables and NVS (types 3, 4): memory, not devices; never granted as MMIO (mmio.c). */
static void add_fw(uint64_t base, uint64_t len)
{
    if (boot.nfw < (int)ARRAY_SIZE(boot.fw) && len)
        boot.fw[boot.nfw++] = (struct mem_range){ base, len };
}

static void parse_mb1(uint64_t info)
{
    uint32_t *mbi = P2V(info);
    uint32_t flags = mbi[0];
    if (flags & (1 << 2))
        strlcpy(boot.cmdline, P2V(mbi[4]), sizeof boot.cmdline);
    if ((flags & (1 << 3)) && mbi[5] > 0) {
        uint32_t *mod = P2V(mbi[6]);
        boot.initrd_phys = mod[0];
        boot.initrd_len = mod[1] - mod[0];
    }
    if (flags & (1 << 6)) {
        uint8_t *p = P2V(mbi[12]), *end = p + mbi[11];
        while (p < end) {
            uint32_t size = *(uint32_t *)p;
            uint64_t base = *(uint64_t *)(p + 4), len = *(uint64_t *)(p + 12);
            uint32_t type = *(uint32_t *)(p + 20);
            if (type == 1)
                add_ram(base, len);
            else if (type == 3 || type == 4)
                add_fw(base, len);
            p += size + 4;
        }
    } else if (flags & 1) {
        add_ram(0x100000, (uint64_t)mbi[2] * 1024);
    }
}

static void parse_mb2(uint64_t info)
{
    uint8_t *base = P2V(info);
    uint32_t total = *(uint32_t *)base;
    uint8_t *p = base + 8, *end = base + total;
    bool have_module = false;
    while (p + 8 <= end) {
        uint32_t type = *(uint32_t *)p, size = *(uint32_t *)(p + 4);
        if (type == 0 || size < 8)
            break;
        switch (type) {
        case 1:
            strlcpy(boot.cmdline, (char *)p + 8, sizeof boot.cmdline);
            break;
        case 3:
            if (!have_module) {
                uint32_t s = *(uint32_t *)(p + 8), e = *(uint32_t *)(p + 12);
                boot.initrd_phys = s;
                boot.initrd_len = e - s;
                have_module = true;
            }
            break;
        case 6: {
            uint32_t esize = *(uint32_t *)(p + 8);
            for (uint8_t *e = p + 16; esize && e + esize <= p + size; e += esize)
                if (*(uint32_t *)(e + 16) == 1)
                    add_ram(*(uint64_t *)e, *(uint64_t *)(e + 8));
                else if (*(uint32_t *)(e + 16) == 3 || *(uint32_t *)(e + 16) == 4)
                    add_fw(*(uint64_t *)e, *(uint64_t *)(e + 8));
            break;
        }
        case 14:
        case 15:
            if (!boot.have_rsdp_copy || type == 15) {
                memcpy(boot.rsdp_copy, p + 8, MIN(size - 8, sizeof boot.rsdp_copy));
                boot.have_rsdp_copy = true;
            }
            break;
        }
        p += ALIGN_UP(size, 8);
    }
}

void multiboot_parse(uint32_t magic, uint64_t info)
{
    if (magic == 0x2BADB002)
        parse_mb1(info);
    else if (magic == 0x36d76289)
        parse_mb2(info);
    else
        panic("unknown boot loader magic 0x%x", magic);
}
