/* fmt.c — the printf engine (vformat) and vsnprintf/snprintf.
 *
 * vformat walks the format string and hands finished pieces to an emit callback, so the same
 * code formats into a buffer (snprintf) or to the console (printf, in stdio.c). Supports
 * flags (- 0 + space #), width and precision (numbers or *), length modifiers (hh h l ll z t j)
 * and the conversions d i u x X o p s c %. No floating point (user space is built with
 * -mgeneral-regs-only). Pure: host-tested in os/lib/test.
 */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };

struct out {
    fmt_emit_fn emit;
    void *ctx;
    int total;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (n) {
        o->emit(o->ctx, s, n);
        o->total += (int)n;
    }
}

static void pad(struct out *o, char c, int n)
{
    char buf[16];
    memset(buf, c, sizeof buf);
    while (n > 0) {
        int k = n > 16 ? 16 : n;
        put(o, buf, (size_t)k);
        n -= k;
    }
}

/* Formats one integer: sign/prefix, precision zeros, width padding. */
static void fmt_int(struct out *o, uint64_t v, bool neg, unsigned base, bool upper, int flags, int width, int prec,
                    bool is_ptr)
{
    char digits[24];
    int nd = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    bool zero = v == 0;
    if (!(prec == 0 && v == 0)) {
        do {
            digits[nd++] = set[v % base];
            v /= base;
        } while (v);
    }
    char prefix[3];
    int np = 0;
    if (neg)
        prefix[np++] = '-';
    else if (flags & F_PLUS)
        prefix[np++] = '+';
    else if (flags & F_SPACE)
        prefix[np++] = ' ';
    if (((flags & F_ALT) && base == 16 && !zero) || is_ptr) {
        prefix[np++] = '0';
        prefix[np++] = upper ? 'X' : 'x';
    } else if ((flags & F_ALT) && base == 8 && (nd == 0 || digits[nd - 1] != '0')) {
        if (prec <= nd)
            prec = nd + 1;
    }
    int zeros = prec > nd ? prec - nd : 0;
    int len = np + zeros + nd;
    if (prec < 0 && (flags & F_ZERO) && !(flags & F_LEFT) && width > len) {
        zeros += width - len;
        len = width;
    }
    if (!(flags & F_LEFT))
        pad(o, ' ', width - len);
    put(o, prefix, (size_t)np);
    pad(o, '0', zeros);
    char rev[24];
    for (int i = 0; i < nd; i++)
        rev[i] = digits[nd - 1 - i];
    put(o, rev, (size_t)nd);
    if (flags & F_LEFT)
        pad(o, ' ', width - len);
}

int vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { emit, ctx, 0 };
    va_list args;
    va_copy(args, ap);
    while (*fmt) {
        if (*fmt != '%') {
            const char *start = fmt;
            while (*fmt && *fmt != '%')
                fmt++;
            put(&o, start, (size_t)(fmt - start));
            continue;
        }
        const char *spec_start = fmt;
        fmt++;
        int flags = 0;
        for (;; fmt++) {
            if (*fmt == '-') flags |= F_LEFT;
            else if (*fmt == '0') flags |= F_ZERO;
            else if (*fmt == '+') flags |= F_PLUS;
            else if (*fmt == ' ') flags |= F_SPACE;
            else if (*fmt == '#') flags |= F_ALT;
            else break;
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(args, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        int prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(args, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int size = 0;   /* -2 hh, -1 h, 0 int, 1 long, 2 long long / size_t */
        for (;; fmt++) {
            if (*fmt == 'h') size--;
            else if (*fmt == 'l') size++;
            else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') size = 2;
            else break;
        }
        char c = *fmt;
        if (c)
            fmt++;
        switch (c) {
        case 'd':
        case 'i': {
            int64_t v;
            if (size >= 1) v = size == 1 ? va_arg(args, long) : va_arg(args, long long);
            else v = va_arg(args, int);
            if (size == -1) v = (short)v;
            if (size <= -2) v = (signed char)v;
            uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            fmt_int(&o, u, v < 0, 10, false, flags, width, prec, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            if (size >= 1) v = size == 1 ? va_arg(args, unsigned long) : va_arg(args, unsigned long long);
            else v = va_arg(args, unsigned int);
            if (size == -1) v = (unsigned short)v;
            if (size <= -2) v = (unsigned char)v;
            unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
            fmt_int(&o, v, false, base, c == 'X', flags & ~(F_PLUS | F_SPACE), width, prec, false);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(args, void *);
            fmt_int(&o, v, false, 16, false, flags & ~(F_PLUS | F_SPACE), width, prec, true);
            break;
        }
        case 's': {
            const char *s = va_arg(args, const char *);
            if (!s)
                s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            if (!(flags & F_LEFT))
                pad(&o, ' ', width - (int)n);
            put(&o, s, n);
            if (flags & F_LEFT)
                pad(&o, ' ', width - (int)n);
            break;
        }
        case 'c': {
            char ch = (char)va_arg(args, int);
            if (!(flags & F_LEFT))
                pad(&o, ' ', width - 1);
            put(&o, &ch, 1);
            if (flags & F_LEFT)
                pad(&o, ' ', width - 1);
            break;
        }
        case '%':
            put(&o, "%", 1);
            break;
        default:
            /* Unknown conversion: print it verbatim so the mistake is visible. */
            put(&o, spec_start, (size_t)(fmt - spec_start));
            break;
        }
    }
    va_end(args);
    return o.total;
}

struct bufctx {
    char *buf;
    size_t size;
    size_t pos;
};

static void buf_emit(void *ctx, const char *s, size_t n)
{
    struct bufctx *b = ctx;
    if (b->size && b->pos < b->size - 1) {
        size_t room = b->size - 1 - b->pos;
        size_t k = n < room ? n : room;
        memcpy(b->buf + b->pos, s, k);
    }
    b->pos += n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct bufctx b = { buf, size, 0 };
    int n = vformat(buf_emit, &b, fmt, ap);
    if (size)
        buf[b.pos < size ? b.pos : size - 1] = 0;
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
