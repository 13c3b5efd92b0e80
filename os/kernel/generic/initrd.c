/*
 * initrd.c — finding a file in the initrd, a ustar archive.
 *
 * Each entry is a 512-byte header (name, octal size, type, "ustar" magic, name prefix) followed
 * by the data padded to 512 bytes. Names are compared after dropping a leading "./" or "/".
 * Anything malformed ends the walk (nothing is read past the archive).
 */
#include <kernel/kernel.h>

static uint64_t octal(const char *s, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n && s[i] >= '0' && s[i] <= '7'; i++)
        v = v * 8 + (s[i] - '0');
    return v;
}

static const char *strip(const char *s)
{
    for (;;) {
        if (s[0] == '.' && s[1] == '/')
            s += 2;
        else if (s[0] == '/')
            s++;
        else
            return s;
    }
}

int initrd_find(const uint8_t *tar, uint64_t len, const char *name, const uint8_t **data, uint64_t *size)
{
    uint64_t off = 0;
    while (off + 512 <= len) {
        const char *h = (const char *)tar + off;
        if (!h[0])
            break;
        if (memcmp(h + 257, "ustar", 5))
            break;
        uint64_t sz = octal(h + 124, 12);
        if (sz > len - off - 512)
            break;
        char full[256 + 2];
        char nm[101], pre[156];
        memcpy(nm, h, 100);
        nm[100] = 0;
        memcpy(pre, h + 345, 155);
        pre[155] = 0;
        if (pre[0])
            snprintf(full, sizeof full, "%s/%s", pre, nm);
        else
            snprintf(full, sizeof full, "%s", nm);
        if ((h[156] == '0' || h[156] == 0) && !strcmp(strip(full), strip(name))) {
            *data = tar + off + 512;
            *size = sz;
            return 0;
        }
        off += 512 + ALIGN_UP(sz, 512);
    }
    return LANES_E_NOENT;
}
