/* stdio.c — printf and friends on the console.
 *
 * The console is the console server over our "console" lane when we have one, else the kernel
 * (sys_console_write / sys_console_read); lanes/console.h (console.c) decides and falls back.
 * printf formats into a 512-byte stack buffer and writes it with one request per buffer, so
 * lines printed by different threads or processes rarely interleave mid-line.
 */
#include <lanes.h>
#include <lanes/console.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int console_write(const void *buf, size_t len)
{
    /* A POSIX process's stdout is its fd 1 (a file or pipe after a redirection); the console
     * lane otherwise. */
    int64_t r = lanes_posix_stdout(buf, len);
    if (r != LANES_E_NOENT)
        return (int)r;
    r = lanes_console_write(buf, len);
    return (int)r;
}

int console_getc(unsigned long long timeout_ns)
{
    unsigned char c;
    int64_t r = lanes_console_read(&c, 1, timeout_ns);
    if (r < 0)
        return (int)r;
    if (r == 0)
        return LANES_E_AGAIN;
    return c;
}

struct pbuf {
    char buf[512];
    size_t n;
    int fd;                     /* -1: the console (printf) */
};

static void pbuf_flush(struct pbuf *b)
{
    if (b->fd < 0 || ((b->fd == 1 || b->fd == 2) && !lanes_posix_active()))
        console_write(b->buf, b->n);
    else
        write(b->fd, b->buf, b->n);
    b->n = 0;
}

static void pbuf_emit(void *ctx, const char *s, size_t n)
{
    struct pbuf *b = ctx;
    while (n) {
        if (b->n == sizeof b->buf)
            pbuf_flush(b);
        size_t k = sizeof b->buf - b->n;
        if (k > n)
            k = n;
        memcpy(b->buf + b->n, s, k);
        b->n += k;
        s += k;
        n -= k;
    }
}

int vdprintf(int fd, const char *fmt, va_list ap)
{
    struct pbuf b;
    b.n = 0;
    b.fd = fd;
    int n = vformat(pbuf_emit, &b, fmt, ap);
    if (b.n)
        pbuf_flush(&b);
    return n;
}

int dprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vdprintf(fd, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    return vdprintf(-1, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    return printf("%s\n", s);
}

int putchar(int c)
{
    char ch = (char)c;
    console_write(&ch, 1);
    return (unsigned char)c;
}
