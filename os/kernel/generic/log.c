/*
 * log.c — the kernel log, and the one path every byte of console output takes.
 *
 * Every line looks like "[   0.123456] cpu0: message" (a WARN/ERROR/DEBUG tag follows the CPU).
 * One console lock serialises the log and user console output, so lines never interleave;
 * if user output left the cursor mid-line, the log starts a fresh line first.
 * The level threshold is INFO unless the command line says loglevel=debug (or =warn/=error).
 *
 * Where the bytes go depends on who drives COM1 (see console.c for the hand-over):
 *
 *   kernel drives COM1 (boot, no console server, after the server died, panic)
 *       klog / console_write ──► serial_putc ──► COM1
 *   a console server holds COM1 (sys_console_claim)
 *       klog / console_write ──► kernel log ring ──klog_read──► console server ──► COM1
 *
 * The ring (64 KiB) has three positions: head (bytes produced), sent (handed to the server by
 * klog_read) and done (acknowledged by the server as written to the wire). A log line starts
 * with the byte LANES_KLOG_LINE_START, which tells the server to begin a fresh line there if its
 * output is mid-line. When the claim ends (the server exited or died) or the kernel panics or
 * powers off, the kernel takes COM1 back and writes [done, head) itself: a line may then appear
 * twice, but none is lost. When the ring is full, console_write waits for the server to make
 * room — as long as it makes progress (it may itself wait up to 30 s for a host slow to read
 * COM1); after 35 s without any, or when the writer is interrupted, the oldest bytes are pushed
 * out. Kernel log lines never wait: they push the oldest bytes out (counted as lost).
 */
#include <kernel/kernel.h>
#include <kernel/gdbstub.h>
#include <kernel/trace.h>
#include <kernel/sysfs.h>

int log_level = LOG_INFO;
static struct spinlock con_lock = SPINLOCK_INIT("console");
static int con_col;

#define KRING_SIZE (64 * 1024)
static char kring[KRING_SIZE];
static uint64_t kr_head, kr_sent, kr_done, kr_lost, kr_replayed;
static struct process *con_owner;            /* the process holding COM1, or NULL: the kernel */
static const void *con_owner_obj;            /* the IRQ capability the claim was made with */
static uint32_t con_owner_pid, con_claims;
static struct waitq kr_data = { { &kr_data.head, &kr_data.head } };    /* klog_read waiters */
static struct waitq kr_space = { { &kr_space.head, &kr_space.head } }; /* console_write waiters */

void console_lock(void) { spin_lock(&con_lock); }
void console_unlock(void) { spin_unlock(&con_lock); }

static void wire_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
    con_col = (c == '\n') ? 0 : con_col + 1;
}

static void ring_put(char c)
{
    if (kr_head - kr_done == KRING_SIZE) {   /* full: the oldest byte goes */
        kr_done++;
        if (kr_sent < kr_done)
            kr_sent = kr_done;
        kr_lost++;
    }
    kring[kr_head++ % KRING_SIZE] = c;
}

/* A byte of output (user data or log text). Callers hold the console lock (or are panicking). */
void console_putc_locked(char c)
{
    if (con_owner)
        ring_put((uint8_t)c == LANES_KLOG_LINE_START ? ' ' : c);   /* the marker is the kernel's */
    else
        wire_putc(c);
}

static void line_start_locked(void)
{
    if (con_owner)
        ring_put((char)LANES_KLOG_LINE_START);
    else if (con_col)
        wire_putc('\n');
}

/* Wakes the server's klog_read after new bytes (never from a panic: the scheduler is gone). */
static void ring_wake_locked(void)
{
    if (con_owner && !panicking && !list_empty(&kr_data.head))
        wake_all(&kr_data);
}

static void puts_locked(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc_locked(s[i]);
}

/* The kernel writes [done, head) of the ring itself (the claim ended, a panic, power off). */
static void replay_locked(void)
{
    con_col = 1;   /* where the server left the cursor is unknown: log lines start afresh */
    for (uint64_t pos = kr_done; pos < kr_head; pos++) {
        char c = kring[pos % KRING_SIZE];
        if ((uint8_t)c == LANES_KLOG_LINE_START) {
            if (con_col)
                wire_putc('\n');
        } else {
            wire_putc(c);
        }
        kr_replayed++;
    }
    kr_done = kr_sent = kr_head;
}

/* ---- the hand-over (called from console.c / syscall.c / panic.c) ---- */

int64_t log_console_claim(struct process *p, uint32_t pid, const void *irq_obj)
{
    spin_lock(&con_lock);
    if (con_owner || gdb_mux) {     /* lanes.debug=ttyS0: COM1 carries the debugger too */
        spin_unlock(&con_lock);
        return LANES_E_BUSY;
    }
    con_owner = p;
    con_owner_obj = irq_obj;
    con_owner_pid = pid;
    con_claims++;
    kr_done = kr_sent = kr_head;
    spin_unlock(&con_lock);
    return 0;
}

/* The IRQ capability irq_obj is gone: if it carried the claim, the kernel drives COM1 again.
 * Returns the pid that held it (0 if irq_obj was not the claim). */
uint32_t log_console_release(const void *irq_obj, uint64_t *replayed)
{
    uint32_t pid = 0;
    spin_lock(&con_lock);
    if (con_owner && con_owner_obj == irq_obj) {
        pid = con_owner_pid;
        uint64_t before = kr_replayed;
        con_owner = NULL;
        con_owner_obj = NULL;
        con_owner_pid = 0;
        serial_reset_tx();
        replay_locked();
        *replayed = kr_replayed - before;
        wake_all(&kr_data);     /* a klog_read still waiting finds it no longer holds COM1 */
        wake_all(&kr_space);
    }
    spin_unlock(&con_lock);
    return pid;
}

/* Panic and power off: take COM1 back whoever holds it, and write what the ring still has.
 * With locked == false (a panic) the lock is ignored: its holder may be a halted CPU. */
void console_takeover(bool locked)
{
    if (locked)
        spin_lock(&con_lock);
    if (con_owner) {
        con_owner = NULL;
        con_owner_obj = NULL;
        con_owner_pid = 0;
        serial_reset_tx();
        replay_locked();
        if (locked) {
            wake_all(&kr_data);
            wake_all(&kr_space);
        }
    }
    if (locked)
        spin_unlock(&con_lock);
}

bool console_claimed(void) { return con_owner != NULL; }

/* sys_klog_read: acknowledge done bytes, then hand out the next ones (see kernel.toml). */
int64_t log_klog_read(const struct process *p, uint64_t ubuf, uint64_t len, uint64_t done, uint64_t timeout_ns)
{
    char tmp[1024];
    if (!len)
        return 0;
    uint64_t n = MIN(len, sizeof tmp);
    if (user_check(ubuf, n, true))
        return LANES_E_FAULT;
    uint64_t deadline = deadline_from_timeout(timeout_ns);
    spin_lock(&con_lock);
    if (con_owner != p) {
        spin_unlock(&con_lock);
        return LANES_E_ACCESS;
    }
    kr_done += MIN(done, kr_sent - kr_done);
    if (!list_empty(&kr_space.head))
        wake_all(&kr_space);
    while (kr_sent == kr_head) {
        int64_t r = wait_on(&kr_data, &con_lock, deadline);
        if (con_owner != p) {
            spin_unlock(&con_lock);
            return LANES_E_ACCESS;
        }
        if (r && kr_sent == kr_head) {
            spin_unlock(&con_lock);
            return r;
        }
    }
    n = MIN(n, kr_head - kr_sent);
    for (uint64_t i = 0; i < n; i++)
        tmp[i] = kring[(kr_sent + i) % KRING_SIZE];
    kr_sent += n;
    spin_unlock(&con_lock);
    if (copy_to_user(ubuf, tmp, n))
        return LANES_E_FAULT;   /* the bytes stay unacknowledged: replayed if the server ends */
    return (int64_t)n;
}

/* console_write's bytes (already copied in): to COM1, or into the ring, waiting for room. */
void log_console_write(const char *buf, size_t n)
{
    spin_lock(&con_lock);
    if (con_owner && !panicking && KRING_SIZE - (kr_head - kr_done) < n) {
        /* The server may be slow, not stuck: it waits (up to 30 s) for a host that is slow to
         * take COM1's bytes. So wait while it makes progress; only a server that wrote nothing
         * for STUCK_NS is stuck, and then the oldest bytes are pushed out. */
        const uint64_t STUCK_NS = 35ULL * 1000000000ULL;
        uint64_t seen = kr_done, deadline = deadline_from_timeout(STUCK_NS);
        while (con_owner && KRING_SIZE - (kr_head - kr_done) < n) {
            int64_t r = wait_on(&kr_space, &con_lock, deadline);
            if (kr_done != seen) {
                seen = kr_done;
                deadline = deadline_from_timeout(STUCK_NS);
            } else if (r)
                break;          /* stuck, or this thread is interrupted: push the oldest out */
        }
    }
    puts_locked(buf, n);
    ring_wake_locked();
    spin_unlock(&con_lock);
}

void log_console_info(struct lane_console_info *info)
{
    spin_lock(&con_lock);
    info->owner_pid = con_owner ? con_owner_pid : 0;
    info->claims = con_claims;
    info->ring_size = KRING_SIZE;
    info->pending = kr_head - kr_done;
    info->produced = kr_head;
    info->lost = kr_lost;
    info->replayed = kr_replayed;
    info->debug_line = gdb_mux ? 1 : 0;
    spin_unlock(&con_lock);
}

/* The shared debug line (lanes.debug=ttyS0): one marked unit (a trace frame) written whole
 * between console writes, never inside one. Nothing while a server holds COM1 (it cannot:
 * claims fail while the line is shared) or before the host asked for it. */
void log_mux_write(const uint8_t *p, size_t n)
{
    spin_lock(&con_lock);
    if (!con_owner) {
        /* The stub may stop this CPU mid-frame and write its own units: it ends the frame
         * with a 0x00 first (gdbstub.c), and we must not go on with the rest of it after. */
        uint32_t epoch = __atomic_load_n(&gdb_stub_epoch, __ATOMIC_ACQUIRE);
        __atomic_store_n(&gdb_mux_in_frame, 1, __ATOMIC_RELEASE);
        for (size_t i = 0; i < n && __atomic_load_n(&gdb_stub_epoch, __ATOMIC_ACQUIRE) == epoch; i++)
            serial_putc((char)p[i]);
        __atomic_store_n(&gdb_mux_in_frame, 0, __ATOMIC_SEQ_CST);
        /* Stopped between the check and its byte, this CPU still sends that one byte after the
         * stub's units: the stub, leaving with a frame cut, opened a frame for it (a marker) and
         * we close it here — the host drops it as a corrupt frame instead of showing a stray
         * byte on the console. (After a stop we always close: a 0x00 outside a frame is nothing.) */
        if (__atomic_load_n(&gdb_stub_epoch, __ATOMIC_SEQ_CST) != epoch)
            serial_putc(0);
    }
    spin_unlock(&con_lock);
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
    line_start_locked();
    puts_locked(head, hn);
    if (prefix)
        puts_locked(prefix, strlen(prefix));
    puts_locked(msg, len);
    console_putc_locked('\n');
    ring_wake_locked();
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

/* ---- /sys/kernel/loglevel ---- */

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static size_t show_loglevel(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    int l = log_level;
    return sysfs_print(b, cap, "%s\n", l >= 0 && l < 4 ? level_names[l] : "?");
}

static int64_t store_loglevel(struct sysfs_node *n, const char *v, size_t len)
{
    (void)n;
    for (int i = 0; i < 4; i++)
        if (strlen(level_names[i]) == len && !strncmp(v, level_names[i], len)) {
            log_level = i;
            return 0;
        }
    uint64_t x;
    if (sysfs_parse_u64(v, len, &x) && x <= LOG_DEBUG) {
        log_level = (int)x;
        return 0;
    }
    return LANES_E_INVAL;
}

static const struct sysfs_attr log_attrs[] = {
    { "loglevel", show_loglevel, store_loglevel },
};

static void log_sysfs_init(void)
{
    sysfs_add("/sys/kernel", log_attrs, ARRAY_SIZE(log_attrs), NULL);
}
SYSFS_PROVIDER(12, log, log_sysfs_init, NULL);

/* ---- the loglevel= boot option ---- */

/* kmain, as soon as the command line is known: loglevel=error|warn|info|debug. */
void log_init(void)
{
    const char *v;
    size_t n;
    if (!cmdline_value("loglevel", &v, &n))
        return;
    for (int i = 0; i < 4; i++)
        if (strlen(level_names[i]) == n && !strncmp(v, level_names[i], n))
            log_level = i;
}
