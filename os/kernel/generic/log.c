/*
 * log.c — the kernel log on COM1.
 *
 * Every line looks like "[   0.123456] cpu0: message" (a WARN/ERROR/DEBUG tag follows the CPU).
 * One console lock serialises the log and user console output, so lines never interleave;
 * if user output left the cursor mid-line, the log starts a fresh line first.
 * The level threshold is INFO unless the command line says loglevel=debug (or =warn/=error).
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

int log_level = LOG_INFO;
static struct spinlock con_lock = SPINLOCK_INIT("console");
static int con_col;

void console_lock(void) { spin_lock(&con_lock); }
void console_unlock(void) { spin_unlock(&con_lock); }

void console_putc_locked(char c)
{
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
    con_col = (c == '\n') ? 0 : con_col + 1;
}

static void puts_locked(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc_locked(s[i]);
}

static const char *level_tag[] = { "ERROR: ", "WARN: ", "", "DEBUG: " };

static size_t log_prefix(char *buf, size_t size, int level)
{
    uint64_t ns = clock_ns();
    extern bool percpu_up;
    int cpu = percpu_up ? (int)this_cpu()->id : 0;
    return (size_t)snprintf(buf, size, "[%5u.%06u] cpu%d: %s", (unsigned)(ns / 1000000000ULL),
                            (unsigned)((ns / 1000) % 1000000), cpu, level_tag[level & 3]);
}

/* Print one message (which may lack its newline) as a complete log line. */
void klog_raw(int level, const char *prefix, const char *msg, size_t len)
{
    if (level > log_level)
        return;
    char head[64];
    size_t hn = log_prefix(head, sizeof head, level);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        len--;
    if (trace_classes & TRACE_CLASS_LOG) {
        char tb[TRACE_LOG_TEXT_MAX + 1];
        size_t pn = prefix ? strnlen(prefix, TRACE_LOG_TEXT_MAX) : 0;
        if (pn)
            memcpy(tb, prefix, pn);
        size_t mn = MIN(len, TRACE_LOG_TEXT_MAX - pn);
        memcpy(tb + pn, msg, mn);
        tb[pn + mn] = 0;
        trace_emit_log((uint8_t)level, 0, 0, percpu_up_safe() && this_cpu()->current ? this_cpu()->current->tid : 0, tb);
    }
    console_lock();
    if (con_col)
        console_putc_locked('\n');
    puts_locked(head, hn);
    if (prefix)
        puts_locked(prefix, strlen(prefix));
    puts_locked(msg, len);
    console_putc_locked('\n');
    console_unlock();
}

void klog(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    klog_raw(level, NULL, buf, MIN((size_t)n, sizeof buf - 1));
}

/* Unlocked output for the panic path (the lock may be held by a CPU that is gone). */
void kprintf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    puts_locked(buf, MIN((size_t)n, sizeof buf - 1));
}
