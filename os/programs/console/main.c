/* console — the serial console (COM1) as a user-space driver server.
 *
 * Its manifest declares the eight COM1 ports and IRQ 4, and that is all it gets (Helios style):
 * init's spawn turns the two lines into an IOPORT and an IRQ capability. With them it claims
 * COM1 from the kernel (sys_console_claim), publishes itself in mbus as
 *     name "console", properties "class=tty;dev=com1;claim=N;pid=P"
 * (N = the kernel's claim count, so clients never bind a dead server's stale entry) and serves
 * every client that binds it. Three threads:
 *
 *   main   the dispatcher: accepts one conversation per request on the published lane
 *          (os/abi/messages.toml, console.*) — Write (bytes go to the UART before the reply),
 *          Read (up to N bytes; waits for one unless NONBLOCK), Mode (ECHO, ONLCR), Stat, Crash
 *   rx     IRQ 4: moves received bytes into a 4 KiB ring and alerts the dispatcher, which
 *          answers the oldest waiting Read; with ECHO the bytes are echoed at once. With ISIG
 *          (the shell's mode while a foreground job runs) Ctrl-C, Ctrl-\ and Ctrl-Z are the line
 *          discipline's: not input; "^C" is echoed, typed-ahead input dropped (as Linux does)
 *          and the posix server told (posix.ConsoleSignal on its public lane, bound through
 *          mbus), which signals the console's foreground process group
 *   klog   drains the kernel log ring (sys_klog_read): kernel log lines and console_write
 *          output of processes without a console lane, in order with everything else
 *
 * Output is polled like the kernel did (the line status is read only when the 16-byte FIFO may
 * be full) and batched: one request carries up to 4 KiB, written under one lock, so client
 * output and kernel lines never mix mid-line; a kernel line starts on a fresh line.
 * If this process ends, the kernel takes COM1 back and writes what we had not acknowledged;
 * init restarts us (after the old instance has ended: the kernel keeps IRQ 4 reserved until its
 * own handler is back, so ours is never replaced by it — issue 22, os/README.md); clients notice
 * END_OF_LANE, fall back to the kernel, and rebind.
 *
 * IRQ 4 arrives edge-triggered and the kernel masks the line while we are awake, so a byte
 * arriving between our last read of the UART and the unmask would raise no new edge. The rx
 * thread therefore unmasks first (irq_wait with timeout 0) and drains after; only then sleeps.
 */
#include <lanes.h>
#include <lanes/console.h>
#include <lanes/ipc.h>
#include <lanes/mbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LANES_MANIFEST("ioport 0x3f8 8");
LANES_MANIFEST("irq 4");

#define COM1 0x3f8
#define RX_RING 4096
#define MAX_READERS 32

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static int32_t irq_cap, port_cap;
static uint32_t my_pid;
static struct lanes_dispatcher D;
static struct lanes_queue SQ;           /* replies (main thread only) */

/* ---- transmit (tx_lock: the UART's transmitter, the column, the mode) ---- */

static lanes_mutex_t tx_lock = LANES_MUTEX_INIT;
static unsigned fifo_size = 1, fifo_room;
static int col;
static volatile uint32_t mode = LANES_CONSOLE_MODE_ONLCR;
static volatile uint64_t st_tx, st_klog, st_rx, st_requests;

static void uart_putc(uint8_t c)
{
    if (!fifo_room) {
        /* On hardware at 115200 baud a FIFO's worth takes 1.4 ms. Under QEMU the transmitter is
         * empty at once — unless the host is slow to take COM1's bytes: QEMU then holds THRE clear
         * until its chardev accepts more, for as long as the host's reader is busy (a loaded host
         * ran seconds behind). A byte written over a full transmitter is lost, so wait by the
         * clock: spin a little, yield, then nap 1 ms at a time; write anyway only after 30 s (a
         * host that stopped reading). The kernel's COM2 trace writer waits the same way. */
        uint64_t until = 0;
        for (int i = 0; !(inb(COM1 + 5) & 0x20); i++) {
            if (i < 200) {
                __asm__ volatile("pause");
                continue;
            }
            uint64_t now = lanes_now_ns();
            if (!until)
                until = now + LANES_SEC(30);
            else if (now >= until)
                break;
            if (i < 2200)
                lanes_sys_yield();
            else
                lanes_sys_sleep(LANES_MS(1));
        }
        fifo_room = fifo_size;
    }
    outb(COM1, c);
    fifo_room--;
}

/* Writes bytes with LF -> CR LF (ONLCR); from the kernel ring, KLOG_LINE_START begins a fresh line. */
static void tx_locked(const uint8_t *p, size_t n, bool from_kernel)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (from_kernel && c == LANES_KLOG_LINE_START) {
            if (col) {
                uart_putc('\r');
                uart_putc('\n');
                col = 0;
            }
            continue;
        }
        if (c == '\n' && (mode & LANES_CONSOLE_MODE_ONLCR))
            uart_putc('\r');
        uart_putc(c);
        col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
}

static void uart_init(void)
{
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x40); i++)   /* the kernel's last bytes out */
        __asm__ volatile("pause");
    outb(COM1 + 1, 0x00);       /* no interrupts while we program it */
    outb(COM1 + 3, 0x80);       /* DLAB */
    outb(COM1 + 0, 0x01);       /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);       /* 8N1 */
    outb(COM1 + 2, 0xc1);       /* FIFOs on, 14-byte RX trigger; not cleared (typed-ahead bytes stay) */
    outb(COM1 + 4, 0x0b);       /* DTR, RTS, OUT2 (the IRQ line) */
    fifo_size = (inb(COM1 + 2) & 0xc0) == 0xc0 ? 16 : 1;
    fifo_room = 0;
    col = 0;                    /* the kernel ends its lines; a partial one would just get company */
    outb(COM1 + 1, 0x01);       /* interrupt on received data */
}

/* ---- receive (rx_lock: the ring) ---- */

static lanes_mutex_t rx_lock = LANES_MUTEX_INIT;
static uint8_t rx_buf[RX_RING];
static uint32_t rx_head, rx_count;
static volatile uint64_t st_rx_polled;   /* bytes found by the safety poll, not by an IRQ */
static volatile uint64_t st_rx_irqs;

/* ---- the line discipline's signals (rx thread only) ---- */

static int32_t mbus_lane = LANES_HANDLE_NONE, posix_lane = LANES_HANDLE_NONE;
static struct lanes_queue PQ;
static volatile uint64_t st_signals;

static int isig_of(uint8_t c) { return c == 0x03 ? 2 : c == 0x1c ? 3 : c == 0x1a ? 20 : 0; }

/* posix.ConsoleSignal{sig} to the posix server (bound through mbus on first use, again after it
 * restarted); a failure is reported on the console. */
static void tell_posix(int sig)
{
    static bool pq_ok;
    if (!pq_ok)
        pq_ok = lanes_queue_init(&PQ, 4) == 0;
    int64_t r = LANES_E_NOENT;
    for (int attempt = 0; attempt < 2 && pq_ok; attempt++) {
        if (posix_lane == LANES_HANDLE_NONE && mbus_lane != LANES_HANDLE_NONE) {
            struct lane_msg_mbus_entry e;
            if (lanes_mbus_find(mbus_lane, "name=posix", 0, &e) == 1) {
                int64_t l = lanes_mbus_bind(mbus_lane, e.id);
                if (l >= 0)
                    posix_lane = (int32_t)l;
            }
        }
        if (posix_lane == LANES_HANDLE_NONE)
            break;
        struct lane_msg_posix_console_signal m = lanes_msg_posix_console_signal_encode((uint32_t)sig, 0);
        struct lanes_reply rep;
        r = lanes_ipc_request(&PQ, posix_lane, &m, sizeof m, 0, LANES_HANDLE_NONE, LANES_SEC(2), &rep);
        if (r != LANES_E_END_OF_LANE && r != LANES_E_LANE_SHUTDOWN)
            break;
        lanes_sys_handle_close(posix_lane);         /* a restarted posix: bind the new one */
        posix_lane = LANES_HANDLE_NONE;
    }
    st_signals++;
    if (r != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "console: cannot tell posix about signal %d: %s\n", sig, lanes_ipc_strerror(r));
        lanes_mutex_lock(&tx_lock);
        tx_locked((const uint8_t *)msg, strlen(msg), false);
        lanes_mutex_unlock(&tx_lock);
    }
}

static int rx_drain(void)
{
    uint8_t got[64];
    int total = 0;
    for (;;) {
        int n = 0;
        while (n < (int)sizeof got && (inb(COM1 + 5) & 0x01))
            got[n++] = inb(COM1);
        if (n == 0)
            break;
        total += n;
        int sigs[4], nsig = 0;
        if (mode & LANES_CONSOLE_MODE_ISIG) {
            int k = 0;
            for (int i = 0; i < n; i++) {
                int s = isig_of(got[i]);
                if (!s)
                    got[k++] = got[i];
                else if (nsig < 4)
                    sigs[nsig++] = s;
            }
            n = k;
        }
        lanes_mutex_lock(&rx_lock);
        if (nsig)
            rx_count = 0;                           /* a signal drops typed-ahead input */
        for (int i = 0; i < n; i++) {
            if (rx_count < RX_RING) {
                rx_buf[(rx_head + rx_count) % RX_RING] = got[i];
                rx_count++;
            }
        }
        lanes_mutex_unlock(&rx_lock);
        st_rx += (uint64_t)n;
        if (mode & LANES_CONSOLE_MODE_ECHO) {
            lanes_mutex_lock(&tx_lock);
            for (int i = 0; i < n; i++) {
                uint8_t c = got[i] == '\r' ? '\n' : got[i];
                tx_locked(&c, 1, false);
            }
            lanes_mutex_unlock(&tx_lock);
        }
        for (int i = 0; i < nsig; i++) {
            static const char *const echo[] = { [2] = "^C\n", [3] = "^\\\n", [20] = "^Z\n" };
            lanes_mutex_lock(&tx_lock);
            tx_locked((const uint8_t *)echo[sigs[i]], strlen(echo[sigs[i]]), false);
            lanes_mutex_unlock(&tx_lock);
            tell_posix(sigs[i]);
        }
    }
    if (total)
        lanes_dispatch_alert(&D);
    return total;
}

static void rx_thread(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t fired = lanes_sys_irq_wait(irq_cap, 0);   /* unmasks the line if nothing is pending */
        if (fired > 0)
            st_rx_irqs += (uint64_t)fired;
        int got = rx_drain();
        if (fired > 0 || got > 0)
            continue;
        /* Unmasked and drained after the unmask: the next byte raises an edge. The timeout is
         * only a safety net (st_rx_polled counts bytes it found). */
        fired = lanes_sys_irq_wait(irq_cap, LANES_SEC(2));
        if (fired > 0)
            st_rx_irqs += (uint64_t)fired;
        if (fired == LANES_E_TIMEOUT) {
            got = rx_drain();
            st_rx_polled += (uint64_t)got;
        } else if (fired < 0 && fired != LANES_E_INTERRUPTED) {
            lanes_sys_sleep(LANES_MS(100));
        }
    }
}

/* ---- the kernel log ring ---- */

static void klog_thread(void *arg)
{
    (void)arg;
    static uint8_t kb[4096];
    uint64_t done = 0;
    for (;;) {
        int64_t n = lanes_sys_klog_read(kb, sizeof kb, done, LANES_TIMEOUT_INFINITE);
        done = 0;
        if (n < 0) {
            if (n != LANES_E_INTERRUPTED && n != LANES_E_TIMEOUT)
                lanes_sys_sleep(LANES_MS(100));
            continue;
        }
        lanes_mutex_lock(&tx_lock);
        tx_locked(kb, (size_t)n, true);
        lanes_mutex_unlock(&tx_lock);
        st_klog += (uint64_t)n;
        done = (uint64_t)n;
    }
}

/* ---- requests ---- */

static int32_t serve_lane;
#define NACCEPT 4               /* accepts posted at once: pipelined writes match immediately */
static uint8_t req[NACCEPT][8 + LANES_CONSOLE_MAX];
static uint8_t out[8 + LANES_CONSOLE_MAX];

struct reader { int32_t conv; uint32_t max; };
static struct reader readers[MAX_READERS];
static int nreaders;

/* Sends a reply (header + data) on conv; the client's receive is already posted, so this
 * completes at once — or fails (END_OF_LANE) if the client gave up. */
static int64_t send_reply(int32_t conv, const void *msg, size_t len)
{
    struct lanes_acts b;
    struct lane_ipc_completion c;
    lanes_acts_init(&b);
    lanes_acts_send(&b, msg, len);
    return lanes_ipc_call(&SQ, conv, &b, &c, LANES_SEC(1));
}

static int64_t reply(int32_t conv, int32_t err, uint32_t count, const uint8_t *data, size_t n)
{
    struct lane_msg_console_reply r = lanes_msg_console_reply_encode(err, count);
    memcpy(out, &r, sizeof r);
    if (n)
        memcpy(out + sizeof r, data, n);
    return send_reply(conv, out, sizeof r + n);
}

/* Answers waiting readers from the ring, oldest first; a reader whose client gave up is dropped
 * without consuming bytes. */
static void serve_readers(void)
{
    while (nreaders > 0) {
        uint8_t data[LANES_CONSOLE_MAX];
        lanes_mutex_lock(&rx_lock);
        uint32_t n = rx_count < readers[0].max ? rx_count : readers[0].max;
        for (uint32_t i = 0; i < n; i++)
            data[i] = rx_buf[(rx_head + i) % RX_RING];
        lanes_mutex_unlock(&rx_lock);
        if (n == 0)
            return;
        int64_t r = reply(readers[0].conv, 0, n, data, n);
        if (r == 0) {
            lanes_mutex_lock(&rx_lock);
            rx_head = (rx_head + n) % RX_RING;
            rx_count -= n;
            lanes_mutex_unlock(&rx_lock);
        }
        lanes_sys_handle_close(readers[0].conv);
        memmove(readers, readers + 1, sizeof readers[0] * (size_t)--nreaders);
    }
}

static void handle(int32_t conv, const uint8_t *m, uint32_t len)
{
    struct lane_msg_console_write w;
    struct lane_msg_console_read rd;
    struct lane_msg_console_mode md;
    struct lane_msg_console_stat st;
    struct lane_msg_console_crash cr;
    st_requests++;
    if (lanes_msg_console_write_decode(m, len, &w) == 0) {
        uint32_t n = w.size;
        if (n > len - sizeof w)
            n = len - (uint32_t)sizeof w;
        lanes_mutex_lock(&tx_lock);
        tx_locked(m + sizeof w, n, false);
        lanes_mutex_unlock(&tx_lock);
        st_tx += n;
        reply(conv, 0, n, NULL, 0);
    } else if (lanes_msg_console_read_decode(m, len, &rd) == 0) {
        uint32_t max = rd.size > LANES_CONSOLE_MAX ? LANES_CONSOLE_MAX : rd.size;
        if (max == 0) {
            reply(conv, 0, 0, NULL, 0);
            return;
        }
        lanes_mutex_lock(&rx_lock);
        uint32_t avail = rx_count;
        lanes_mutex_unlock(&rx_lock);
        if (avail == 0 && (rd.flags & LANES_CONSOLE_NONBLOCK) && nreaders == 0) {
            reply(conv, LANES_E_AGAIN, 0, NULL, 0);
            return;
        }
        if (nreaders == MAX_READERS) {      /* the oldest is most likely a client that gave up */
            lanes_sys_handle_close(readers[0].conv);
            memmove(readers, readers + 1, sizeof readers[0] * (size_t)--nreaders);
        }
        readers[nreaders].conv = (int32_t)lanes_sys_handle_dup(conv, LANES_RIGHT_ALL);
        readers[nreaders].max = max;
        nreaders++;
        serve_readers();
    } else if (lanes_msg_console_mode_decode(m, len, &md) == 0) {
        lanes_mutex_lock(&tx_lock);
        mode = (mode | md.set) & ~md.clear & (LANES_CONSOLE_MODE_ECHO | LANES_CONSOLE_MODE_ONLCR | LANES_CONSOLE_MODE_ISIG);
        lanes_mutex_unlock(&tx_lock);
        reply(conv, 0, mode, NULL, 0);
    } else if (lanes_msg_console_stat_decode(m, len, &st) == 0) {
        struct lane_msg_console_stats s = lanes_msg_console_stats_encode(st_tx, st_klog, st_rx, st_requests, my_pid, mode,
                                                                    st_rx_irqs, st_rx_polled);
        send_reply(conv, &s, sizeof s);
    } else if (lanes_msg_console_crash_decode(m, len, &cr) == 0) {
        lanes_mutex_lock(&tx_lock);
        static const char msg[] = "console: crashing on purpose (console.Crash)\n";
        tx_locked((const uint8_t *)msg, sizeof msg - 1, false);
        lanes_mutex_unlock(&tx_lock);
        uintptr_t addr = 0;
        __asm__ volatile("" : "+r"(addr));
        *(volatile uint32_t *)addr = cr.code;   /* init reports this and restarts us */
    } else {
        reply(conv, LANES_E_INVAL, 0, NULL, 0);
    }
}

static void post_accept(int slot);

static void on_request(struct lanes_dispatcher *d, void *ctx, const struct lane_ipc_completion *c)
{
    (void)d;
    int slot = (int)(uintptr_t)ctx;
    int32_t conv = lanes_ipc_result(c, 0)->handle;
    if (c->status == LANES_E_END_OF_LANE && conv < 0)
        return;                         /* nobody holds the other end: nothing to accept */
    if (c->status == 0)
        handle(conv, req[slot], lanes_ipc_result(c, 1)->length);
    if (conv >= 0)
        lanes_sys_handle_close(conv);
    post_accept(slot);
}

/* Accepts complete in the order clients' offers matched them, so requests are handled in order. */
static void post_accept(int slot)
{
    struct lanes_acts b;
    lanes_acts_init(&b);
    lanes_acts_accept(&b, LANES_IPC_FLAG_ANCILLARY);
    lanes_acts_recv_buffer(&b, req[slot], sizeof req[slot]);
    lanes_acts_end(&b);
    int64_t r = lanes_dispatch_submit(&D, serve_lane, &b, on_request, (void *)(uintptr_t)slot, NULL);
    if (r < 0) {
        printf("console: cannot accept requests: %s\n", lanes_ipc_strerror(r));
        exit(4);
    }
}

static void say(const char *s)
{
    lanes_mutex_lock(&tx_lock);
    tx_locked((const uint8_t *)s, strlen(s), false);
    lanes_mutex_unlock(&tx_lock);
}

int main(void)
{
    lanes_console_kernel_only();        /* our own printf must not become a request to us */
    my_pid = lanes_startup->pid;
    irq_cap = lanes_handle_by_tag("irq");
    port_cap = lanes_handle_by_tag("ioport");
    int32_t mbus = lanes_handle_by_tag("mbus");
    mbus_lane = mbus;
    if (irq_cap == LANES_HANDLE_NONE || port_cap == LANES_HANDLE_NONE) {
        printf("console: started without the COM1 port and IRQ 4 capabilities (its manifest grants them)\n");
        return 2;
    }
    int64_t r = lanes_sys_ioport_enable(port_cap);
    if (r == 0)
        r = lanes_sys_console_claim(irq_cap, port_cap);
    if (r < 0) {
        printf("console: cannot take COM1 over: %s\n", lanes_strerror(r));
        return 3;
    }
    uart_init();
    if (lanes_dispatch_init(&D) < 0 || lanes_queue_init(&SQ, 4) < 0) {
        say("console: no memory for completion queues\n");
        return 4;
    }
    static lanes_thread_t rx, kl;
    if (lanes_thread_start(&kl, klog_thread, NULL, 0) < 0 || lanes_thread_start(&rx, rx_thread, NULL, 0) < 0) {
        say("console: cannot start threads\n");
        return 5;
    }
    int32_t s[2];
    if (lanes_stream(s) < 0) {
        say("console: cannot create a stream\n");
        return 6;
    }
    serve_lane = s[1];
    for (int i = 0; i < NACCEPT; i++)
        post_accept(i);
    struct lane_console_info info;
    memset(&info, 0, sizeof info);
    lanes_sys_console_info(&info);
    char props[64];
    snprintf(props, sizeof props, "class=tty;dev=com1;claim=%u;pid=%u", info.claims, my_pid);
    uint64_t id = 0;
    r = mbus == LANES_HANDLE_NONE ? LANES_E_NOENT : lanes_mbus_publish(mbus, "console", props, s[0], &id);
    if (r != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "console: not published in mbus (%s); nobody can reach us\n", lanes_ipc_strerror(r));
        say(msg);
    } else {
        lanes_sys_handle_close(s[0]);   /* mbus holds that end now */
    }
    for (;;) {
        lanes_dispatch_run_once(&D, LANES_TIMEOUT_INFINITE);
        serve_readers();
    }
}
