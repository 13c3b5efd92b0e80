/* manifest.c — driver manifests embedded in ELF images (pure; host-tested).
 *
 * A LaneOS driver declares what hardware it needs in the ELF section ".lanes.manifest"
 * (LANES_MANIFEST_SECTION): NUL-terminated lines
 *     ioport BASE COUNT    I/O ports [BASE, BASE+COUNT)
 *     irq N                legacy IRQ line N (0..23)
 *     system               the SYSTEM capability itself (test programs, poweroff)
 *     sysfs PATH           ownership of the sysfs subtree at PATH (a SYSFS capability: the
 *                          server publishes its devices there, e.g. the pci server)
 *     pci VVVV:DDDD        a PCI driver: the functions it handles (hex ids, `*` for any); the
 *     pci class CCSS       pci server starts it for each matching function and grants it that
 *                          function's I/O BARs and IRQ line (these lines grant nothing else)
 * Numbers are decimal or 0x-hex. The spawner (spawn.c, used by init and sh) grants exactly
 * these and nothing else. Malformed ELF or manifest text is rejected with the line number.
 */
#include <lanes.h>
#include <string.h>

struct elf64_ehdr {
    unsigned char ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};
#define SHT_NOBITS 8

int elf_find_section(const void *image, size_t len, const char *name, const void **data, size_t *size)
{
    const unsigned char *img = image;
    struct elf64_ehdr eh;
    if (len < sizeof eh)
        return LANES_E_BADELF;
    memcpy(&eh, img, sizeof eh);
    if (memcmp(eh.ident, "\177ELF", 4) != 0 || eh.ident[4] != 2 || eh.ident[5] != 1 || eh.machine != 62)
        return LANES_E_BADELF;
    if (eh.shnum == 0)
        return 0;
    if (eh.shentsize != sizeof(struct elf64_shdr) || eh.shoff > len ||
        (uint64_t)eh.shnum * sizeof(struct elf64_shdr) > len - eh.shoff || eh.shstrndx >= eh.shnum)
        return LANES_E_BADELF;
    struct elf64_shdr strtab;
    memcpy(&strtab, img + eh.shoff + (uint64_t)eh.shstrndx * sizeof strtab, sizeof strtab);
    if (strtab.offset > len || strtab.size > len - strtab.offset)
        return LANES_E_BADELF;
    size_t nlen = strlen(name);
    for (unsigned i = 0; i < eh.shnum; i++) {
        struct elf64_shdr sh;
        memcpy(&sh, img + eh.shoff + (uint64_t)i * sizeof sh, sizeof sh);
        if (sh.name >= strtab.size || strtab.size - sh.name < nlen + 1)
            continue;
        if (memcmp(img + strtab.offset + sh.name, name, nlen + 1) != 0)
            continue;
        if (sh.type == SHT_NOBITS || sh.offset > len || sh.size > len - sh.offset)
            return LANES_E_BADELF;
        *data = img + sh.offset;
        *size = (size_t)sh.size;
        return 1;
    }
    return 0;
}

static int parse_num(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int base = 10, digits = 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (;; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9') d = *p - '0';
        else if (base == 16 && *p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
        else if (base == 16 && *p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
        else break;
        v = v * (uint64_t)base + (uint64_t)d;
        if (v > 0xffffffffu)
            return -1;
    }
    if (!digits)
        return -1;
    *out = v;
    *pp = p;
    return 0;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static int parse_line(const char *line, struct manifest *m)
{
    const char *p = skip_ws(line);
    if (!*p || *p == '#')
        return 0;
    if (m->nitems >= MANIFEST_MAX_ITEMS)
        return -1;
    struct manifest_item it = { 0, 0, 0, { 0 } };
    uint64_t a = 0, b = 0;
    if (strncmp(p, "ioport", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
        p = skip_ws(p + 6);
        if (parse_num(&p, &a) < 0)
            return -1;
        p = skip_ws(p);
        if (parse_num(&p, &b) < 0)
            return -1;
        if (b == 0 || a > 0xffff || a + b > 0x10000)
            return -1;
        it.kind = MANIFEST_IOPORT;
        it.base = (uint32_t)a;
        it.count = (uint32_t)b;
    } else if (strncmp(p, "irq", 3) == 0 && (p[3] == ' ' || p[3] == '\t')) {
        p = skip_ws(p + 3);
        if (parse_num(&p, &a) < 0 || a > 23)
            return -1;
        it.kind = MANIFEST_IRQ;
        it.base = (uint32_t)a;
    } else if (strncmp(p, "sysfs", 5) == 0 && (p[5] == ' ' || p[5] == '\t')) {
        p = skip_ws(p + 5);
        size_t n = 0;
        while (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '#')
            n++;
        if (n == 0 || n >= sizeof it.path || p[0] != '/')
            return -1;
        memcpy(it.path, p, n);
        p += n;
        it.kind = MANIFEST_SYSFS;
    } else if (strncmp(p, "pci", 3) == 0 && (p[3] == ' ' || p[3] == '\t')) {
        p = skip_ws(p + 3);
        it.kind = MANIFEST_PCI;
        if (strncmp(p, "class", 5) == 0 && (p[5] == ' ' || p[5] == '\t')) {
            p = skip_ws(p + 5);
            if (parse_num(&p, &a) < 0 || a > 0xffff)
                return -1;
            it.base = 0xffffffffu;
            it.count = (uint32_t)a;
        } else {
            uint64_t id[2];
            for (int k = 0; k < 2; k++) {
                if (*p == '*') {
                    id[k] = 0xffff;
                    p++;
                } else {
                    int digits = 0;
                    id[k] = 0;
                    for (; digits < 4 && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')); p++, digits++)
                        id[k] = id[k] * 16 + (uint64_t)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
                    if (digits != 4)
                        return -1;
                }
                if (k == 0 && *p++ != ':')
                    return -1;
            }
            it.base = (uint32_t)(id[0] << 16 | id[1]);
            it.count = MANIFEST_PCI_ANY_CLASS;
        }
    } else if (strncmp(p, "system", 6) == 0) {
        p += 6;
        it.kind = MANIFEST_SYSTEM;
    } else {
        return -1;
    }
    p = skip_ws(p);
    if (*p && *p != '#')
        return -1;
    m->items[m->nitems++] = it;
    return 0;
}

int manifest_parse(const char *data, size_t size, struct manifest *m, int *bad_line)
{
    m->nitems = 0;
    size_t pos = 0;
    int lineno = 0;
    while (pos < size) {
        const char *start = data + pos;
        size_t n = strnlen(start, size - pos);
        if (pos + n == size && n) {
            if (bad_line) *bad_line = lineno + 1;
            return LANES_E_INVAL;   /* last line not NUL-terminated */
        }
        lineno++;
        if (n) {
            char line[128];
            if (n >= sizeof line || parse_line(memcpy(line, start, n + 1), m) < 0) {
                if (bad_line) *bad_line = lineno;
                return LANES_E_INVAL;
            }
        }
        pos += n + 1;
    }
    return 0;
}

int manifest_of_elf(const void *image, size_t len, struct manifest *m, int *bad_line)
{
    const void *data;
    size_t size;
    m->nitems = 0;
    int r = elf_find_section(image, len, LANES_MANIFEST_SECTION, &data, &size);
    if (r <= 0)
        return r;
    return manifest_parse(data, size, m, bad_line);
}
