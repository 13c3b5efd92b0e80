/* ustar.c — a tiny reader for the initrd, a POSIX ustar archive (pure; host-tested).
 *
 * Each member is a 512-byte header (name[100], octal size at 124, type at 156, "ustar" magic
 * at 257, prefix[155] at 345) followed by its data padded to 512 bytes; two zero blocks end the
 * archive. Every field is checked against the archive's length so a corrupt initrd gives an
 * error instead of a wild read.
 */
#include <lanes.h>
#include <string.h>

static int octal(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(p[i] - '0');
    for (; i < n; i++)
        if (p[i] != 0 && p[i] != ' ')
            return -1;
    *out = v;
    return 0;
}

static int checksum_ok(const unsigned char *h)
{
    uint64_t want;
    if (octal((const char *)h + 148, 8, &want) < 0)
        return 0;
    uint64_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum == want;
}

int ustar_next(const void *archive, size_t len, size_t *pos, struct ustar_entry *e)
{
    const unsigned char *a = archive;
    for (;;) {
        if (*pos + 512 > len)
            return *pos == len ? 0 : LANES_E_INVAL;
        const unsigned char *h = a + *pos;
        int zero = 1;
        for (int i = 0; i < 512 && zero; i++)
            zero = h[i] == 0;
        if (zero)
            return 0;   /* end-of-archive marker */
        if (memcmp(h + 257, "ustar", 5) != 0 || !checksum_ok(h))
            return LANES_E_INVAL;
        uint64_t size;
        if (octal((const char *)h + 124, 12, &size) < 0 || size > len - *pos - 512)
            return LANES_E_INVAL;
        char type = (char)h[156];
        size_t plen = strnlen((const char *)h + 345, 155);
        size_t nlen = strnlen((const char *)h, 100);
        e->name[0] = 0;
        if (plen) {
            memcpy(e->name, h + 345, plen);
            e->name[plen] = '/';
            e->name[plen + 1] = 0;
        }
        size_t off = strlen(e->name);
        memcpy(e->name + off, h, nlen);
        e->name[off + nlen] = 0;
        uint64_t mode = 0;
        (void)octal((const char *)h + 100, 8, &mode);
        e->mode = (unsigned)mode;
        e->type = type ? type : '0';
        e->data = h + 512;
        e->size = (size_t)size;
        *pos += 512 + ((size + 511) & ~(uint64_t)511);
        if (*pos > len)
            *pos = len;
        if (type == 'x' || type == 'g' || type == 'L' || type == 'K')
            continue;   /* pax / GNU long-name headers: skip */
        return 1;
    }
}

int ustar_find(const void *archive, size_t len, const char *name, struct ustar_entry *e)
{
    size_t pos = 0;
    int r;
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    while ((r = ustar_next(archive, len, &pos, e)) == 1) {
        const char *n = e->name;
        while (n[0] == '.' && n[1] == '/')
            n += 2;
        if ((e->type == '0' || e->type == '7') && strcmp(n, name) == 0)
            return 0;
    }
    return r < 0 ? r : LANES_E_NOENT;
}
