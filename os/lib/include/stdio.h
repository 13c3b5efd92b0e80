/* stdio.h — LaneOS libc: formatted output to the console (the console server over our "console"
 * lane, else the kernel's sys_console_write; see lanes/console.h).
 *
 * There are no FILE streams: printf writes to the console (fd 1 in a POSIX process), dprintf to
 * a file descriptor; snprintf/vsnprintf format into a buffer. Supported conversions: %d %i %u %x %X %o %p %s %c %% with flags - 0 + space #, width
 * and precision (also *), and length modifiers hh h l ll z t j. (os/lib/src/fmt.c, stdio.c)
 */
#ifndef LANES_LIBC_STDIO_H
#define LANES_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/** Formatted output to file descriptor fd (POSIX dprintf): a diagnostic is dprintf(2, ...). In a
 * process without POSIX fds (not started through posix) fds 1 and 2 are the console. */
int dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vdprintf(int fd, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int puts(const char *s);
int putchar(int c);
/** Writes exactly len bytes to the console. */
int console_write(const void *buf, size_t len);
/** Reads one byte from the console, waiting up to timeout_ns; returns it or a negative error. */
int console_getc(unsigned long long timeout_ns);

/** The formatting engine: calls emit(ctx, buf, len) for each piece; returns the total length. */
typedef void (*fmt_emit_fn)(void *ctx, const char *buf, size_t len);
int vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap);

#endif
