/*
 * elf.c — loading a static x86_64 ELF executable into a fresh address space.
 *
 * Every header field is checked against the image length before use (a broken ELF gives
 * LANES_E_BADELF, never a fault). All PT_LOAD segments are backed by one memory object
 * covering their page span; file bytes are copied in (only the pages they touch get memory
 * now), the rest is demand-zero (.bss, faulted in on first touch), and each
 * page gets the union of the protections of the segments touching it, so segments may share
 * pages. Runs of equal protection become regions.
 */
#include <kernel/kernel.h>

struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} __attribute__((packed));

#define PT_LOAD 1
#define MAX_SPAN (256ULL << 20)

int64_t elf_load(struct vmspace *vm, const uint8_t *img, uint64_t len, struct elf_image *out)
{
    if (len < sizeof(struct ehdr))
        return LANES_E_BADELF;
    const struct ehdr *eh = (const struct ehdr *)img;
    if (memcmp(eh->ident, "\x7f" "ELF", 4) || eh->ident[4] != 2 || eh->ident[5] != 1 ||
        eh->type != 2 || eh->machine != 62 || eh->phentsize != sizeof(struct phdr) ||
        eh->phnum == 0 || eh->phnum > 64 || eh->phoff > len ||
        eh->phnum * sizeof(struct phdr) > len - eh->phoff)
        return LANES_E_BADELF;
    const struct phdr *ph = (const struct phdr *)(img + eh->phoff);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < eh->phnum; i++) {
        const struct phdr *p = &ph[i];
        if (p->type != PT_LOAD || p->memsz == 0)
            continue;
        if (p->filesz > p->memsz || p->offset > len || p->filesz > len - p->offset ||
            p->vaddr < PAGE_SIZE || !user_range_ok(p->vaddr, p->memsz))
            return LANES_E_BADELF;
        lo = MIN(lo, ALIGN_DOWN(p->vaddr, PAGE_SIZE));
        hi = MAX(hi, ALIGN_UP(p->vaddr + p->memsz, PAGE_SIZE));
    }
    if (lo >= hi || hi - lo > MAX_SPAN || eh->entry < lo || eh->entry >= hi)
        return LANES_E_BADELF;
    uint64_t npages = (hi - lo) / PAGE_SIZE;
    struct memobj *mo = memobj_create_lazy(npages);     /* pages with file bytes filled below; bss on touch */
    uint8_t *prot = kmalloc(npages);
    if (!mo || !prot) {
        if (mo)
            kobj_put(&mo->obj);
        kfree(prot);
        return LANES_E_NOMEM;
    }
    for (int i = 0; i < eh->phnum; i++) {
        const struct phdr *p = &ph[i];
        if (p->type != PT_LOAD || p->memsz == 0)
            continue;
        if (memobj_fill(mo, p->vaddr - lo, img + p->offset, p->filesz)) {
            kobj_put(&mo->obj);
            kfree(prot);
            return LANES_E_NOMEM;
        }
        uint32_t pr = ((p->flags & 4) ? LANES_PROT_READ : 0) | ((p->flags & 2) ? LANES_PROT_WRITE : 0) |
                      ((p->flags & 1) ? LANES_PROT_EXEC : 0);
        if (!pr)
            pr = LANES_PROT_READ;
        for (uint64_t a = ALIGN_DOWN(p->vaddr, PAGE_SIZE); a < p->vaddr + p->memsz; a += PAGE_SIZE)
            prot[(a - lo) / PAGE_SIZE] |= pr;
    }
    int64_t ret = 0;
    for (uint64_t i = 0; i < npages && !ret;) {
        uint64_t j = i;
        while (j < npages && prot[j] == prot[i])
            j++;
        if (prot[i]) {
            uint64_t addr;
            ret = vm_map_private(vm, mo, lo + i * PAGE_SIZE, i * PAGE_SIZE, (j - i) * PAGE_SIZE, prot[i], &addr);
        }
        i = j;
    }
    kfree(prot);
    kobj_put(&mo->obj);
    if (ret)
        return ret;
    out->entry = eh->entry;
    return 0;
}
