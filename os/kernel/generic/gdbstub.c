/*
 * gdbstub.c — a GDB remote-serial-protocol stub inside the kernel, on its own UART.
 *
 * `lanes.debug=ttyS1` on the command line gives the stub COM2 (COM1 stays the console);
 * `lanes.debug_wait` stops the kernel at boot, once the APs are up, until gdb says continue.
 * The kernel enters the stub on: a breakpoint (#BP in kernel mode), a single step (#DB), a
 * Ctrl-C (0x03) from gdb while running (the UART's receive interrupt), and a panic (the stub
 * takes over instead of halting, so gdb lands on the panic with its backtrace).
 *
 * Stopping: the CPU that enters becomes the owner (the others spin for ownership with
 * interrupts off) and stops every other CPU with an NMI broadcast; each parks in gdbstub_nmi()
 * with its trap frame published in gdb_cpus[] until the owner resumes them all together.
 * gdb's threads are the kernel threads on the CPUs, by tid (a CPU's idle thread: 0x40000000 +
 * its index, SHADOW_TID below), with the CPU as their `core`; Hg picks whose registers g/p/G/P
 * see (a switched-out thread's too, read-only), Hc whom a plain s steps; each stop moves both to
 * the CPU that stopped, as QEMU's stub does. A stopping NMI that comes late (latched while the
 * CPU was still parked in the previous one, or after the stop ended) is dropped by trap_dispatch.
 *
 * The protocol: packets $data#cc with +/- acks (until QStartNoAckMode), bounded at PKT_MAX
 * bytes — a longer one is read to its end and NAKed, a '$' inside a packet starts over, bytes
 * outside packets are ignored. Memory goes through gdb_arch_translate(): the current page
 * tables are walked and only mapped RAM is touched (through the direct map), so a bad address
 * answers E14 instead of faulting; writes (M, X, breakpoints) ignore page protection.
 * The stub takes no kernel lock and calls nothing that could hit a user's breakpoint but the
 * arch helpers.
 *
 * One UART for everything (`lanes.debug=ttyS0`: COM1 is console, gdb line and trace line at
 * once; see os/README.md, "One serial line"): every RSP unit on the line — a packet $...#cc, or
 * one of + - 0x03 — is preceded by the byte LANES_DEBUG_MUX_RSP, in both directions; bytes not
 * so marked are the console's. While the kernel runs, COM1's receive interrupt comes here
 * (gdbstub_rx): console bytes go on to the console, a marked 0x03 breaks in, a marked packet
 * either switches the trace stream (QLanesTrace:1/0, no reply) or stops the kernel and is
 * served (so gdb can attach to a running kernel). While stopped, unmarked bytes are dropped.
 * Trace frames (trace_drain.c) go out marked with LANES_DEBUG_MUX_TRACE, only once asked for.
 */
#include <kernel/kernel.h>
#include <kernel/gdbstub.h>

#define PKT_MAX 4096
#define NBREAK 64
#define SIGTRAP 5
#define SIGINT 2
#define SIGABRT 6

bool gdbstub_on;
static struct gdb_cpu gdb_cpus[MAX_CPUS];
static volatile int gdb_owner = -1;     /* CPU index inside the stub */
static volatile int gdb_stopping;       /* the others park while set */
static bool no_ack, waiting_stop;       /* gdb awaits a stop reply (after c/s) */
static int sel_cpu;                     /* Hg: whose registers g/p/G/P see (-1: off_thread) */
static int cont_cpu;                    /* Hc: whom a plain s steps (and c/s ADDR moves) */
static int last_sig = SIGTRAP;
static bool last_swbreak;
static int last_hw;                     /* why a #DB stopped us: 0 (step) or enum gdb_hw */
static uint64_t last_hw_addr;
static volatile int panic_trap;
static volatile int early_what;         /* a break-in (1) or packet (2) before the stub was up */
static char pkt[PKT_MAX + 1];
bool gdb_mux;                           /* lanes.debug=ttyS0: the console's UART, marked units */
volatile bool gdb_mux_trace;            /* the host asked for trace frames on that line */
uint64_t gdb_rsp_errors, gdb_retransmits;
volatile uint32_t gdb_stub_epoch;
volatile int gdb_mux_in_frame;
/* A marked packet that arrived while the kernel ran, replayed to get_packet once stopped. */
#define RUN_PKT 256
static uint8_t replay[RUN_PKT + 8];
static size_t replay_len, replay_pos;
static char out[PKT_MAX + 1];
static struct { uint64_t addr; uint8_t orig; bool used, lifted; } bps[NBREAK];

static const char hexd[] = "0123456789abcdef";

static int rx_running(bool buffered_only);
static void park_here(struct gdb_cpu *g, struct regs *r);

/* CPUs whose stopping NMI came on the trap path (gdb_cpus[].park_pending): every interrupt
 * looks here first, so without one it reads no APIC to know which CPU it is on. */
static volatile int parks_pending;

static bool take_pending(struct gdb_cpu *g)
{
    if (!__atomic_load_n(&g->park_pending, __ATOMIC_ACQUIRE))
        return false;
    g->park_pending = false;
    __atomic_sub_fetch(&parks_pending, 1, __ATOMIC_RELEASE);
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses hex digits at *p; returns how many were read (0: none). */
static int parse_hex(const char **p, uint64_t *v)
{
    int n = 0;
    *v = 0;
    while (hexval(**p) >= 0 && n < 16) {
        *v = (*v << 4) | (uint64_t)hexval(**p);
        (*p)++;
        n++;
    }
    return hexval(**p) >= 0 ? 0 : n;    /* more than 16 digits: malformed */
}

static bool starts(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* ---- memory ---- */

static bool mem_byte(uint64_t va, uint8_t *b, bool write)
{
    uint64_t pa;
    if (!gdb_arch_translate(va, &pa))
        return false;
    volatile uint8_t *p = P2V(pa);
    if (write)
        *p = *b;
    else
        *b = *p;
    return true;
}

/* ---- packets ---- */

static int pushback = -1;       /* a '$' that arrived where an ack was awaited */

/* The next byte on the line (a replayed packet first); -1 after timeout_ns (0: forever). */
static int raw_getc(uint64_t timeout_ns)
{
    if (replay_pos < replay_len)
        return replay[replay_pos++];
    return gdb_uart_getc(timeout_ns);
}

static int getc_wait(void)
{
    int c = pushback;
    pushback = -1;
    return c >= 0 ? c : raw_getc(0);
}

/* Console input that came while the kernel was stopped (the shared line's unmarked bytes): kept
 * here and handed to the console when the kernel resumes — a command typed while stopped, or
 * right behind gdb's continue, is not lost. */
static uint8_t held_in[256];
static size_t held_n;

/* The first byte of the next RSP unit: on the shared line the byte after a marker (unmarked
 * bytes are console input, held for the resume); on a line of its own, the next byte. */
static int unit_getc(uint64_t timeout_ns)
{
    int c = pushback;
    pushback = -1;
    if (c >= 0)
        return c;
    for (;;) {
        c = raw_getc(timeout_ns);
        if (c < 0 || !gdb_mux)
            return c;
        if (c != LANES_DEBUG_MUX_RSP) {
            if (held_n < sizeof held_in)
                held_in[held_n++] = (uint8_t)c;
            continue;
        }
        while (c == LANES_DEBUG_MUX_RSP)
            if ((c = raw_getc(timeout_ns)) != LANES_DEBUG_MUX_RSP)
                return c;
    }
}

static void put_unit_start(void)
{
    if (gdb_mux)
        gdb_uart_putc(LANES_DEBUG_MUX_RSP);
}

/* How many of data[i..n) repeat data[i] (at most 98: a run is the byte, '*', and 3..97 + 29). */
static size_t run_at(const char *data, size_t i, size_t n)
{
    size_t r = 1;
    while (i + r < n && r < 98 && data[i + r] == data[i])
        r++;
    /* the count byte (r - 1 + 29) must not be # $ (packet syntax) nor * } (kept unambiguous) */
    while (r >= 4 && (r - 1 + 29 == '#' || r - 1 + 29 == '$' || r - 1 + 29 == '*' || r - 1 + 29 == '}'))
        r--;
    return r;
}

/*
 * Replies are run-length encoded (RSP allows it in every reply; gdb and the host's decoder expand
 * it before anything else, binary x data included, so a run inside escaped bytes expands back to
 * the same bytes): "c*N" stands for c and N - 29 more. On a serial line this is what makes `g`
 * cheap — the SSE registers the kernel does not keep are 512 'x's — and zero-filled memory.
 */
static void put_packet(const char *data, size_t n)
{
    for (int tries = 0; tries < 4; tries++) {
        uint8_t sum = 0;
        if (tries)
            gdb_retransmits++;
        put_unit_start();
        gdb_uart_putc('$');
        for (size_t i = 0; i < n;) {
            size_t r = run_at(data, i, n);
            gdb_uart_putc((uint8_t)data[i]);
            sum += (uint8_t)data[i];
            if (r >= 4) {
                uint8_t cnt = (uint8_t)(r - 1 + 29);
                gdb_uart_putc('*');
                gdb_uart_putc(cnt);
                sum += (uint8_t)'*' + cnt;
                i += r;
            } else {
                i++;
            }
        }
        gdb_uart_putc('#');
        gdb_uart_putc((uint8_t)hexd[sum >> 4]);
        gdb_uart_putc((uint8_t)hexd[sum & 15]);
        if (no_ack)
            return;
        int c = unit_getc(2000000000ull);
        if (c == '$')
            pushback = c;   /* no ack but the next packet: keep its start */
        if (c != '-')
            return;     /* '+', or a timeout / anything else: do not retransmit forever */
    }
}

static void reply(const char *s) { put_packet(s, slen(s)); }

/* Reads one packet into pkt (NUL-terminated, binary X data escaped back); returns its length.
 * Bad checksums and oversized packets are NAKed and skipped. */
static size_t get_packet(void)
{
    for (;;) {
        int c = unit_getc(0);
        if (c != '$')
            continue;   /* acks, 0x03 while stopped, garbage */
restart:;
        size_t n = 0;
        uint8_t sum = 0;
        bool overflow = false;
        for (;;) {
            c = getc_wait();
            if (c == '$')
                goto restart;
            if (c == '#')
                break;
            sum += (uint8_t)c;
            if (n < PKT_MAX)
                pkt[n++] = (char)c;
            else
                overflow = true;
        }
        int h = getc_wait(), l = getc_wait();
        if (h == '$' || l == '$')
            goto restart;
        bool ok = hexval(h) >= 0 && hexval(l) >= 0 && (uint8_t)(hexval(h) << 4 | hexval(l)) == sum;
        if (!ok || overflow) {
            gdb_rsp_errors++;
            if (!no_ack) {
                put_unit_start();
                gdb_uart_putc('-');
            }
            continue;
        }
        if (!no_ack) {
            put_unit_start();
            gdb_uart_putc('+');
        }
        pkt[n] = 0;
        return n;
    }
}

/* ---- commands ---- */

static int nthreads(void) { return (int)ncpus; }

/*
 * gdb's threads are the kernel's threads: the one on each CPU, by its tid (a CPU's idle thread,
 * tid 0, or none yet early at boot, is SHADOW_TID + its index). So a thread that sleeps or is preempted during a
 * `next` and comes back on the other CPU is still the thread gdb is stepping: its step-resume
 * breakpoint, hit there, ends the `next` as it should (with CPUs as threads gdb saw another
 * thread hit it and lost the step). A thread switched out meanwhile stays reachable by its tid
 * (T, Hg, g: the registers switch_context saved), read-only and not steppable.
 */
#define SHADOW_TID 0x40000000u

/* The thread CPU i runs: its current one, except in the middle of a switch, while it still runs
 * on prev's kernel stack (current is already the next thread, prev's saved rsp is stale). */
static struct thread *cpu_thread(int i)
{
    struct cpu *c = cpus[i];
    if (!c)
        return NULL;
    struct thread *p = c->prev;
    struct regs *r = gdb_cpus[i].r;
    if (p && r && gdb_arch_sp(r) >= (uint64_t)p->kstack && gdb_arch_sp(r) < p->kstack_top)
        return p;
    return c->current;
}

static uint32_t cpu_tid(int i)
{
    struct thread *t = cpu_thread(i);
    return t && t->tid ? t->tid : SHADOW_TID + (uint32_t)i;
}

/* The CPU running gdb thread `tid`, or -1. */
static int tid_cpu(uint64_t tid)
{
    for (int i = 0; i < nthreads(); i++)
        if (cpu_tid(i) == tid)
            return i;
    return -1;
}

/* A live thread with that tid not running on a CPU, or NULL. The walk is bounded and follows
 * only mapped links: a CPU may have been stopped in the middle of changing the list. */
static struct thread *switched_out(uint64_t tid)
{
    if (tid == 0 || tid >= SHADOW_TID || tid_cpu(tid) >= 0)
        return NULL;
    uint64_t pa;
    struct list *it = all_threads.next;
    for (int n = 0; n < 1000000 && it != &all_threads; n++) {
        if (!gdb_arch_translate((uint64_t)it, &pa) || !gdb_arch_translate((uint64_t)it + sizeof *it - 1, &pa))
            return NULL;
        struct thread *t = container_of(it, struct thread, all_link);
        if (!gdb_arch_translate((uint64_t)&t->tid, &pa) || !gdb_arch_translate((uint64_t)&t->rsp, &pa))
            return NULL;
        if (t->tid == tid)
            return t->state != T_DEAD && t->rsp ? t : NULL;
        it = it->next;
    }
    return NULL;
}

/* Hg on a switched-out thread: its registers here, read-only. */
static struct gdb_cpu off_thread;
static struct regs off_regs;

static bool select_switched_out(uint64_t tid)
{
    struct thread *t = switched_out(tid);
    if (!t)
        return false;
    off_thread = gdb_cpus[gdb_owner];   /* the control registers and segment bases of a CPU */
    off_thread.r = &off_regs;
    return gdb_arch_switched_regs(t->rsp, &off_thread);
}

static struct gdb_cpu *sel(void)
{
    if (sel_cpu < 0)
        return &off_thread;
    struct gdb_cpu *g = &gdb_cpus[sel_cpu];
    return g->r ? g : &gdb_cpus[gdb_owner];
}

/* The CPU a plain c/s acts on (Hc), one that is stopped here. */
static int cont_index(void)
{
    return gdb_cpus[cont_cpu].r ? cont_cpu : gdb_owner;
}

static size_t put_hex(char *o, uint64_t v)
{
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = hexd[v & 15];
        v >>= 4;
    } while (v);
    for (int i = 0; i < n; i++)
        o[i] = tmp[n - 1 - i];
    return (size_t)n;
}

static size_t reg_hex(const struct gdb_cpu *g, int regno, char *o)
{
    uint8_t b[16];
    int sz = gdb_arch_reg_size(regno);
    bool have = gdb_arch_reg_get(g, regno, b);
    for (int i = 0; i < sz; i++) {
        o[2 * i] = have ? hexd[b[i] >> 4] : 'x';
        o[2 * i + 1] = have ? hexd[b[i] & 15] : 'x';
    }
    return (size_t)sz * 2;
}

static bool hex_bytes(const char *s, uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        int h = hexval(s[2 * i]), l = h >= 0 ? hexval(s[2 * i + 1]) : -1;
        if (h < 0 || l < 0)
            return false;
        b[i] = (uint8_t)(h << 4 | l);
    }
    return true;
}

static void stop_reply(void)
{
    size_t o = 0;
    out[o++] = 'T';
    out[o++] = hexd[last_sig >> 4];
    out[o++] = hexd[last_sig & 15];
    const char *t = "thread:";
    while (*t)
        out[o++] = *t++;
    o += put_hex(out + o, cpu_tid(gdb_owner));
    out[o++] = ';';
    const char *c = "core:";
    while (*c)
        out[o++] = *c++;
    o += put_hex(out + o, (uint64_t)gdb_owner);
    out[o++] = ';';
    if (last_swbreak) {
        const char *s = "swbreak:;";
        while (*s)
            out[o++] = *s++;
    }
    if (last_hw) {
        const char *s = last_hw == GDB_HW_EXEC ? "hwbreak:" : last_hw == GDB_HW_WRITE ? "watch:" : "awatch:";
        while (*s)
            out[o++] = *s++;
        if (last_hw != GDB_HW_EXEC)
            o += put_hex(out + o, last_hw_addr);
        out[o++] = ';';
    }
    put_packet(out, o);
}

static int find_bp(uint64_t addr)
{
    for (int i = 0; i < NBREAK; i++)
        if (bps[i].used && bps[i].addr == addr)
            return i;
    return -1;
}

static const char *set_bp(bool insert, uint64_t addr)
{
    int i = find_bp(addr);
    if (!insert) {
        if (i >= 0) {
            mem_byte(addr, &bps[i].orig, true);
            bps[i].used = bps[i].lifted = false;
        }
        return "OK";
    }
    if (i >= 0)
        return "OK";
    for (i = 0; i < NBREAK && bps[i].used; i++)
        ;
    if (i == NBREAK)
        return "E28";   /* ENOSPC */
    if (!gdb_arch_code(addr))
        return "E14";   /* not code: an int3 there would corrupt data */
    uint8_t orig, insn = GDB_BREAK_INSN;
    if (!mem_byte(addr, &orig, false) || !mem_byte(addr, &insn, true))
        return "E14";
    bps[i].addr = addr;
    bps[i].orig = orig;
    bps[i].used = true;
    return "OK";
}

/*
 * The stub itself hit a breakpoint (or a debug register): one in code it calls while the machine
 * is stopped — memcpy, snprintf, the UART driver, clock_ns… Entering again would wait for itself.
 * The int3 is lifted (the original byte back) until the machine resumes (rearm_lifted), and the
 * stub runs on; an instruction breakpoint in a debug register is passed with RF.
 */
static void reentered(struct regs *r, enum gdb_stop why)
{
    if (why == GDB_STOP_BREAK) {
        uint64_t at = gdb_arch_pc(r) - GDB_BREAK_LEN;
        int i = find_bp(at);
        if (i >= 0) {
            mem_byte(at, &bps[i].orig, true);
            bps[i].lifted = true;
            gdb_arch_set_pc(r, at);
        }
    } else {
        uint64_t a;
        (void)gdb_arch_debug_reason(r, &a);
    }
}

static void rearm_lifted(void)
{
    uint8_t insn = GDB_BREAK_INSN;
    for (int i = 0; i < NBREAK; i++)
        if (bps[i].used && bps[i].lifted && mem_byte(bps[i].addr, &insn, true))
            bps[i].lifted = false;
}

static void remove_all_bps(void)
{
    for (int i = 0; i < NBREAK; i++)
        if (bps[i].used)
            set_bp(false, bps[i].addr);
}

static void cmd_read_mem(const char *p)
{
    uint64_t addr, len;
    if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) || *p) {
        reply("E22");
        return;
    }
    if (len > PKT_MAX / 2)
        len = PKT_MAX / 2;
    size_t o = 0;
    for (uint64_t i = 0; i < len; i++) {
        uint8_t b;
        if (!mem_byte(addr + i, &b, false))
            break;
        out[o++] = hexd[b >> 4];
        out[o++] = hexd[b & 15];
    }
    if (!o && len) {
        reply("E14");
        return;
    }
    put_packet(out, o);
}

/* x ADDR,LENGTH (GDB's binary memory read, qSupported binary-upload+; LLDB's x): the reply is
 * 'b' and the bytes as they are, half the size of m's hex on a slow line. Escaped as in X: } then
 * the byte ^ 0x20 for $ # } * (packet syntax, and * would read as run-length encoding) and for the
 * shared line's marker 0x1c (the host's demultiplexer cuts a unit at an unescaped one). Bytes are
 * read until the reply is full (PKT_MAX): a client asks for at most (PacketSize - 8) / 2 bytes,
 * which always fits; a longer request gets the bytes that fit, as RSP allows. */
static bool bin_escaped(uint8_t b)
{
    return b == '$' || b == '#' || b == 0x7d || b == '*' || b == LANES_DEBUG_MUX_RSP;
}

static void cmd_read_bin(const char *p)
{
    uint64_t addr, len;
    if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) || *p) {
        reply("E22");
        return;
    }
    size_t o = 0;
    out[o++] = 'b';
    for (uint64_t i = 0; i < len && o + 2 <= PKT_MAX; i++) {
        uint8_t b;
        if (!mem_byte(addr + i, &b, false))
            break;
        if (bin_escaped(b)) {
            out[o++] = 0x7d;
            b ^= 0x20;
        }
        out[o++] = (char)b;
    }
    if (o == 1 && len) {
        reply("E14");
        return;
    }
    put_packet(out, o);
}

static void cmd_write_mem(const char *p, size_t n, bool binary)
{
    const char *end = pkt + n;
    uint64_t addr, len;
    if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) || *p++ != ':') {
        reply("E22");
        return;
    }
    /* check the whole range first, so an error writes nothing */
    for (uint64_t i = 0; i < len; i++) {
        uint64_t pa;
        if (!gdb_arch_translate(addr + i, &pa)) {
            reply("E14");
            return;
        }
    }
    uint64_t i = 0;
    while (i < len) {
        uint8_t b;
        if (binary) {
            if (p >= end)
                break;
            b = (uint8_t)*p++;
            if (b == 0x7d) {
                if (p >= end)
                    break;
                b = (uint8_t)*p++ ^ 0x20;
            }
        } else {
            if (end - p < 2 || !hex_bytes(p, &b, 1))
                break;
            p += 2;
        }
        mem_byte(addr + i, &b, true);
        i++;
    }
    reply(i == len ? "OK" : "E22");
}

/* One part of a qXfer object (the text holds none of $ # } *): "m" + more, "l" + the last. */
static void xfer_reply(const char *xml, size_t total, const char *p)
{
    uint64_t off, len;
    if (!parse_hex(&p, &off) || *p++ != ',' || !parse_hex(&p, &len) || *p) {
        reply("E22");
        return;
    }
    if (len > PKT_MAX - 2)
        len = PKT_MAX - 2;
    if (off >= total) {
        reply("l");
        return;
    }
    size_t n = total - off < len ? total - off : len;
    out[0] = off + n < total ? 'm' : 'l';
    for (size_t i = 0; i < n; i++)
        out[1 + i] = xml[off + i];
    put_packet(out, n + 1);
}

static void cmd_xfer_features(const char *p)
{
    /* qXfer:features:read:target.xml:OFFSET,LENGTH */
    if (!starts(p, "target.xml:")) {
        reply("E00");
        return;
    }
    const char *xml = gdb_arch_target_xml();
    xfer_reply(xml, slen(xml), p + 11);
}

/* qXfer:threads:read::OFFSET,LENGTH — the threads on the CPUs, each named after its CPU and what
 * it runs ("cpu1 sh:7": process sh, thread 7), so `info threads` reads like a process list. Built
 * afresh when gdb reads from offset 0 (the snapshot holds for the reads that follow). */
static char threads_xml[MAX_CPUS * 160 + 64];
static size_t threads_len;

static void safe_name(char *o, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.' || c == '/';
        o[i] = ok ? c : '_';
    }
    o[i] = 0;
}

static void build_threads_xml(void)
{
    size_t o = (size_t)snprintf(threads_xml, sizeof threads_xml, "<?xml version=\"1.0\"?>\n<threads>\n");
    for (int i = 0; i < nthreads() && o < sizeof threads_xml; i++) {
        struct cpu *c = cpus[i];
        struct thread *t = c ? cpu_thread(i) : NULL;
        char name[40] = "idle";
        uint32_t pid = 0, tid = 0;
        if (t && t->proc) {
            safe_name(name, sizeof name, t->proc->name);
            pid = t->proc->pid;
            tid = t->tid;
        } else if (t) {
            tid = t->tid;
            safe_name(name, sizeof name, "kernel");
        }
        o += (size_t)snprintf(threads_xml + o, sizeof threads_xml - o,
                              "<thread id=\"%x\" core=\"%d\" name=\"cpu%d %s:%u\">cpu%d: pid %u (%s) tid %u%s</thread>\n",
                              cpu_tid(i), i, i, name, tid, i, pid, name, tid, gdb_cpus[i].r ? "" : " (not stopped)");
    }
    if (o < sizeof threads_xml)
        o += (size_t)snprintf(threads_xml + o, sizeof threads_xml - o, "</threads>\n");
    threads_len = MIN(o, sizeof threads_xml - 1);
}

static void cmd_xfer_threads(const char *p)
{
    /* qXfer:threads:read::OFFSET,LENGTH */
    if (*p != ':') {
        reply("E00");
        return;
    }
    const char *q = p + 1;
    uint64_t off;
    if (parse_hex(&q, &off) && off == 0)
        build_threads_xml();
    xfer_reply(threads_xml, threads_len, p + 1);
}

/* "vCont;s:TID;c": decides each CPU's action; a CPU given none stays stopped (gdb steps one
 * thread over a breakpoint with the others stopped: an event from another would confuse it).
 * Returns false if malformed, or if nothing would run. */
static bool parse_vcont(const char *p)
{
    int act[MAX_CPUS];
    bool run_rest = false;      /* a switched-out thread is continued: the CPUs must run for it */
    for (int i = 0; i < nthreads(); i++)
        act[i] = 0;     /* 0: no action given yet */
    while (*p == ';') {
        p++;
        char a = *p++;
        if (a == 'C' || a == 'S') {     /* signals mean nothing to a kernel: drop it */
            uint64_t sig;
            if (!parse_hex(&p, &sig))
                return false;
            a = (char)(a - 'A' + 'a');
        }
        if (a != 'c' && a != 's')
            return false;
        int cpu = -1;   /* -1: every thread */
        if (*p == ':') {
            p++;
            if (p[0] == '-' && p[1] == '1') {
                p += 2;
            } else {
                uint64_t t;
                if (!parse_hex(&p, &t))
                    return false;
                cpu = tid_cpu(t);
                if (cpu < 0) {
                    if (a == 's' || !switched_out(t))
                        return false;   /* not on a CPU: it cannot be stepped */
                    run_rest = true;    /* continued: it runs when it is scheduled */
                    continue;
                }
            }
        }
        for (int i = 0; i < nthreads(); i++)
            if (!act[i] && (cpu < 0 || cpu == i))
                act[i] = a;
    }
    if (*p)
        return false;
    bool any = false;
    for (int i = 0; i < nthreads(); i++) {
        if (!act[i] && run_rest)
            act[i] = 'c';
        any |= act[i] != 0;
    }
    if (!any)
        return false;
    for (int i = 0; i < nthreads(); i++) {
        gdb_cpus[i].step = act[i] == 's';
        gdb_cpus[i].hold = !act[i];
    }
    return true;
}

static void thread_info_extra(const char *p)
{
    uint64_t t = 0;
    int i = parse_hex(&p, &t) && !*p ? tid_cpu(t) : -1;
    struct thread *off = i < 0 && !*p ? switched_out(t) : NULL;
    char txt[64];
    if (i >= 0) {
        struct thread *cur = cpu_thread(i);
        snprintf(txt, sizeof txt, "cpu%d pid %u tid %u%s", i, cur && cur->proc ? cur->proc->pid : 0,
                 cur ? cur->tid : 0, gdb_cpus[i].r ? "" : " (not stopped)");
    } else if (off) {
        snprintf(txt, sizeof txt, "pid %u tid %u (switched out)", off->proc ? off->proc->pid : 0, off->tid);
    } else {
        reply("E22");
        return;
    }
    size_t o = 0;
    for (size_t i = 0; txt[i]; i++) {
        out[o++] = hexd[(uint8_t)txt[i] >> 4];
        out[o++] = hexd[txt[i] & 15];
    }
    put_packet(out, o);
}

/* Serves gdb until it resumes the machine; returns true to resume, with gdb_cpus[].step set. */
static void command_loop(void)
{
    if (waiting_stop) {
        waiting_stop = false;
        stop_reply();
    }
    for (;;) {
        size_t n = get_packet();
        const char *p = pkt + 1;
        struct gdb_cpu *g = sel();
        switch (pkt[0]) {
        case '?':
            stop_reply();
            break;
        case 'g': {
            size_t o = 0;
            for (int r = 0; r < gdb_arch_nregs(); r++)
                o += reg_hex(g, r, out + o);
            put_packet(out, o);
            break;
        }
        case 'G': {
            if (g == &off_thread) {
                reply("E01");   /* a switched-out thread's registers are read-only */
                break;
            }
            for (int r = 0; r < gdb_arch_nregs() && *p; r++) {
                int sz = gdb_arch_reg_size(r);
                uint8_t b[16];
                if (slen(p) < (size_t)sz * 2)
                    break;
                if (hex_bytes(p, b, sz))
                    gdb_arch_reg_set(g, r, b);
                p += sz * 2;
            }
            reply("OK");
            break;
        }
        case 'p': {
            uint64_t r;
            if (!parse_hex(&p, &r) || *p || r >= (uint64_t)gdb_arch_nregs()) {
                reply("E22");
                break;
            }
            size_t o = reg_hex(g, (int)r, out);
            put_packet(out, o);
            break;
        }
        case 'P': {
            uint64_t r;
            uint8_t b[16];
            if (!parse_hex(&p, &r) || *p++ != '=' || r >= (uint64_t)gdb_arch_nregs() ||
                slen(p) != (size_t)gdb_arch_reg_size((int)r) * 2 || !hex_bytes(p, b, gdb_arch_reg_size((int)r))) {
                reply("E22");
                break;
            }
            reply(g != &off_thread && gdb_arch_reg_set(g, (int)r, b) ? "OK" : "E01");
            break;
        }
        case 'm':
            cmd_read_mem(p);
            break;
        case 'x':
            cmd_read_bin(p);
            break;
        case 'M':
            cmd_write_mem(p, n, false);
            break;
        case 'X':
            cmd_write_mem(p, n, true);
            break;
        case 'c':
        case 's': {
            uint64_t addr;
            bool at = *p;
            if (at && (!parse_hex(&p, &addr) || *p)) {
                reply("E22");
                break;
            }
            int who = cont_index();
            if (at)
                gdb_arch_set_pc(gdb_cpus[who].r, addr);
            for (int i = 0; i < nthreads(); i++) {
                gdb_cpus[i].step = pkt[0] == 's' && i == who;
                gdb_cpus[i].hold = pkt[0] == 's' && i != who;   /* one thread steps, as vCont;s:T */
            }
            waiting_stop = true;
            return;
        }
        case 'D':
            reply("OK");
            remove_all_bps();
            gdb_arch_hw_clear_all();
            no_ack = false;
            for (int i = 0; i < nthreads(); i++) {
                gdb_cpus[i].step = false;
                gdb_cpus[i].hold = 0;
            }
            return;
        case 'k':
            remove_all_bps();
            gdb_arch_hw_clear_all();
            no_ack = false;
            for (int i = 0; i < nthreads(); i++) {
                gdb_cpus[i].step = false;
                gdb_cpus[i].hold = 0;
            }
            return;
        case 'H': {
            if (pkt[1] != 'g' && pkt[1] != 'c') {
                reply("");
                break;
            }
            p = pkt + 2;
            uint64_t t = 0;
            int *which = pkt[1] == 'g' ? &sel_cpu : &cont_cpu, cpu = -1;
            if ((p[0] == '-' && p[1] == '1' && !p[2]) || (p[0] == '0' && !p[1])) {
                *which = gdb_owner;
                reply("OK");
            } else if (parse_hex(&p, &t) && !*p && (cpu = tid_cpu(t)) >= 0) {
                *which = cpu;
                reply("OK");
            } else if (!*p && pkt[1] == 'g' && select_switched_out(t)) {
                sel_cpu = -1;
                reply("OK");
            } else {
                reply("E22");
            }
            break;
        }
        case 'T': {
            uint64_t t;
            reply(parse_hex(&p, &t) && !*p && (tid_cpu(t) >= 0 || switched_out(t)) ? "OK" : "E22");
            break;
        }
        case 'Z':
        case 'z': {
            uint64_t type, addr, kind;
            if (!parse_hex(&p, &type) || *p++ != ',' || !parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &kind)) {
                reply("E22");
                break;
            }
            if (type == 0)
                reply(set_bp(pkt[0] == 'Z', addr));
            else if (type <= 4)
                reply(gdb_arch_hw_set((int)type, addr, kind, pkt[0] == 'Z'));
            else
                reply("");
            break;
        }
        case 'q':
            if (starts(pkt, "qSupported")) {
                snprintf(out, sizeof out, "PacketSize=%x;qXfer:features:read+;qXfer:threads:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+;binary-upload+",
                         PKT_MAX);
                reply(out);
            } else if (starts(pkt, "qXfer:features:read:")) {
                cmd_xfer_features(pkt + 20);
            } else if (starts(pkt, "qXfer:threads:read:")) {
                cmd_xfer_threads(pkt + 19);
            } else if (!slen(pkt + 1) || pkt[1] == 0) {
                reply("");
            } else if (starts(pkt, "qfThreadInfo")) {
                size_t o = 0;
                out[o++] = 'm';
                for (int i = 0; i < nthreads(); i++) {
                    if (i)
                        out[o++] = ',';
                    o += put_hex(out + o, cpu_tid(i));
                }
                put_packet(out, o);
            } else if (starts(pkt, "qsThreadInfo")) {
                reply("l");
            } else if (starts(pkt, "qC") && !pkt[2]) {
                out[0] = 'Q';
                out[1] = 'C';
                put_packet(out, 2 + put_hex(out + 2, cpu_tid(gdb_owner)));
            } else if (starts(pkt, "qAttached")) {
                reply("1");
            } else if (starts(pkt, "qSymbol::")) {
                reply("OK");
            } else if (starts(pkt, "qThreadExtraInfo,")) {
                thread_info_extra(pkt + 17);
            } else {
                reply("");
            }
            break;
        case 'Q':
            if (starts(pkt, "QLanesTrace:")) {
                gdb_mux_trace = pkt[12] == '1';     /* the host's, not gdb's: no reply */
            } else if (starts(pkt, "QStartNoAckMode") && !pkt[15]) {
                reply("OK");
                no_ack = true;
            } else {
                reply("");
            }
            break;
        case 'v':
            if (starts(pkt, "vCont?") && !pkt[6]) {
                reply("vCont;c;C;s;S");
            } else if (starts(pkt, "vCont;")) {
                if (!parse_vcont(pkt + 5)) {
                    reply("E22");
                    break;
                }
                waiting_stop = true;
                return;
            } else {
                reply("");      /* vMustReplyEmpty and everything we do not know */
            }
            break;
        default:
            reply("");
        }
    }
}

/* ---- entering and leaving ---- */

static void park_others(int me)
{
    gdb_stopping = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (ncpus < 2)
        return;
    gdb_arch_stop_others();
    uint64_t t0 = clock_ns();
    for (;;) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < ncpus; i++)
            if ((int)i != me && gdb_cpus[i].parked)
                n++;
        if (n == ncpus - 1 || clock_ns() - t0 > 1000000000ull)
            return;
        pause();
    }
}

void gdbstub_enter(struct regs *r, enum gdb_stop why)
{
    int me = (int)gdb_arch_cpu_index();
    struct gdb_cpu *g = &gdb_cpus[me];
    if ((why == GDB_STOP_BREAK || why == GDB_STOP_STEP) &&
        (__atomic_load_n(&gdb_owner, __ATOMIC_ACQUIRE) == me || __atomic_load_n(&g->entering, __ATOMIC_ACQUIRE))) {
        reentered(r, why);
        return;
    }
    /*
     * Another CPU may own the stub (stopping the machine for its own event): we wait, and its
     * NMI parks us with this frame (`entering`, kept until we leave), which is what gdb sees of
     * this thread — after a breakpoint, pc back on it: not hit yet. So gdb never sees pc inside
     * the stub (it would plant step-resume breakpoints there: refused, the debugger's text), and
     * when we get the stub the event may be stale.
     */
    uint64_t at = gdb_arch_pc(r) - GDB_BREAK_LEN, pa;
    if (why == GDB_STOP_BREAK)
        gdb_arch_set_pc(r, at);
    g->parked_entering = false;
    __atomic_store_n(&g->entering, r, __ATOMIC_RELEASE);
    while (!__atomic_compare_exchange_n(&gdb_owner, &(int){-1}, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        if (take_pending(g)) {
            /* the owner's NMI came on our way here: park now, as of our event */
            if (__atomic_load_n(&gdb_stopping, __ATOMIC_ACQUIRE)) {
                g->parked_entering = true;
                park_here(g, r);
            }
        }
        pause();
    }
    take_pending(g);
    int hw_why = 0;
    uint64_t hw_addr = 0;
    if (why == GDB_STOP_STEP)
        hw_why = gdb_arch_debug_reason(r, &hw_addr);
    if (why == GDB_STOP_BREAK && !__atomic_load_n(&panic_trap, __ATOMIC_ACQUIRE) && !__atomic_load_n(&early_what, __ATOMIC_ACQUIRE) &&
        find_bp(at) < 0) {
        if (gdb_arch_translate(at, &pa) && *(volatile uint8_t *)P2V(pa) != GDB_BREAK_INSN) {
            /* a breakpoint gdb removed while this CPU waited for the stub: no stop, the
             * instruction runs again, now the original one */
            __atomic_store_n(&gdb_owner, -1, __ATOMIC_RELEASE);
            __atomic_store_n(&g->entering, NULL, __ATOMIC_RELEASE);
            return;
        }
        gdb_arch_set_pc(r, at + GDB_BREAK_LEN);     /* an int3 in the code, not gdb's: after it */
    } else if (why == GDB_STOP_BREAK && find_bp(at) < 0) {
        gdb_arch_set_pc(r, at + GDB_BREAK_LEN);     /* the panic's or gdbstub_init's own int3 */
    }
    if (why == GDB_STOP_STEP && !hw_why && g->parked_entering) {
        /* a single step done as another CPU stopped the machine: gdb saw this thread after it
         * and has resumed it since, as it chose (stepping it again, or not) — the step's stop
         * is stale */
        if (g->masked_irqs && !g->step) {
            gdb_arch_unmask_irqs(r);
            g->masked_irqs = false;
        }
        __atomic_store_n(&gdb_owner, -1, __ATOMIC_RELEASE);
        __atomic_store_n(&g->entering, NULL, __ATOMIC_RELEASE);
        return;
    }
    g->r = r;
    g->step = false;
    gdb_arch_set_step(r, false);
    if (g->masked_irqs) {
        gdb_arch_step_unmask(r, g->step_pc);    /* the step is over */
        g->masked_irqs = false;
    }
    gdb_arch_snapshot(g);
    park_others(me);
    gdb_uart_tx_reset();
    if (gdb_mux) {
        /* a CPU parked in the middle of a trace frame: end that frame (the host drops it as
         * corrupt) so our units are not read as its bytes; that CPU gives up the rest */
        __atomic_add_fetch(&gdb_stub_epoch, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&gdb_mux_in_frame, __ATOMIC_ACQUIRE))
            gdb_uart_putc(0);
    }

    last_swbreak = false;
    last_hw = 0;
    last_sig = SIGTRAP;
    int early = __atomic_exchange_n(&early_what, 0, __ATOMIC_SEQ_CST);
    if (why == GDB_STOP_BREAK && early)
        why = early == 1 ? GDB_STOP_INTR : GDB_STOP_ATTACH;    /* gdbstub_init's trap for it */
    if (why == GDB_STOP_BREAK) {
        if (__atomic_exchange_n(&panic_trap, 0, __ATOMIC_SEQ_CST)) {
            last_sig = SIGABRT;
        } else if (find_bp(at) >= 0) {
            last_swbreak = true;        /* pc is back on it (above) */
        }
    } else if (why == GDB_STOP_STEP) {
        last_hw = hw_why;
        last_hw_addr = hw_addr;
    } else if (why == GDB_STOP_INTR) {
        last_sig = SIGINT;
        waiting_stop = true;    /* whoever sent 0x03 awaits the stop reply, even unasked by a c */
    } else if (why == GDB_STOP_ATTACH) {
        last_sig = SIGINT;
        waiting_stop = false;   /* a (new) gdb sent a packet: it awaits that packet's answer */
    } else if (why == GDB_STOP_PANIC) {
        last_sig = SIGABRT;
    }
    sel_cpu = cont_cpu = me;    /* as QEMU's stub: both selections move to the CPU that stopped */
    for (;;) {
        command_loop();
        /* Bytes that came while the stub sent its last reply were kept (gdb_uart_putc), so no
         * interrupt will announce them once we resume: a Ctrl-C right behind gdb's continue (the
         * bridge pausing the run it just resumed) must stop us here, as it would just after. */
        int what = rx_running(true);
        if (!what)
            break;
        last_swbreak = false;
        last_hw = 0;
        last_sig = SIGINT;
        waiting_stop = what == 1;       /* a packet: gdb awaits its answer, not a stop reply */
        for (int i = 0; i < nthreads(); i++) {
            gdb_cpus[i].step = false;
            gdb_cpus[i].hold = 0;
        }
    }

    for (uint32_t i = 0; i < ncpus; i++) {
        struct gdb_cpu *o = &gdb_cpus[i];
        if (!o->r)
            continue;
        /* parked (NMI) before its step's instruction ran, and not stepping any more: give
         * it its interrupts back, or it would run on with them masked */
        if (o->masked_irqs && !o->step && gdb_arch_pc(o->r) == o->step_pc) {
            gdb_arch_unmask_irqs(o->r);
            o->masked_irqs = false;
        }
        gdb_arch_set_step(o->r, o->step);
        if (o->step && !o->masked_irqs) {
            o->step_pc = gdb_arch_pc(o->r);
            o->masked_irqs = gdb_arch_step_mask_irqs(o->r);
        }
    }
    gdb_arch_hw_load();
    if (gdb_mux) {
        /* a CPU stopped mid-frame may send one more byte of it before it sees the new epoch:
         * open a frame for it, which log_mux_write closes, so it is not read as console */
        if (__atomic_load_n(&gdb_mux_in_frame, __ATOMIC_ACQUIRE))
            gdb_uart_putc(LANES_DEBUG_MUX_TRACE);
        gdb_uart_resume();      /* the console's transmitter state after our bytes */
    }
    /* held (gdb resumed only others): stay stopped, as a parked CPU, registers in place */
    bool held = __atomic_load_n(&g->hold, __ATOMIC_ACQUIRE);
    if (held)
        __atomic_store_n(&g->parked, 1, __ATOMIC_RELEASE);
    else
        g->r = NULL;
    /* release the others, and let them leave their park before another CPU may own the stub
     * (it would otherwise count them as parked for its own stop) */
    __atomic_store_n(&gdb_stopping, 0, __ATOMIC_RELEASE);
    uint64_t t0 = clock_ns();
    for (uint32_t i = 0; i < ncpus; i++)
        while ((int)i != me && !gdb_cpus[i].hold && __atomic_load_n(&gdb_cpus[i].parked, __ATOMIC_ACQUIRE) &&
               clock_ns() - t0 < 1000000000ull)
            pause();
    /* what was typed while stopped, now that the other CPUs run (one that held the console's
     * queue lets it go); kept for the next resume if this CPU stopped inside that lock */
    if (held_n && console_rx_held(held_in, held_n))
        held_n = 0;
    rearm_lifted();
    __atomic_store_n(&gdb_owner, -1, __ATOMIC_RELEASE);
    if (held) {
        /* until a stop of another CPU (the one that steps) resumes this one too */
        while (__atomic_load_n(&gdb_stopping, __ATOMIC_ACQUIRE) || __atomic_load_n(&g->hold, __ATOMIC_ACQUIRE))
            pause();
        gdb_arch_hw_load();
        g->r = NULL;
        __atomic_store_n(&g->parked, 0, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&g->entering, NULL, __ATOMIC_RELEASE);     /* (then only trap_return's few instructions) */
}

/* Stopped for the owner, with frame r as gdb's view of this CPU, until it resumes us. */
static void park_here(struct gdb_cpu *g, struct regs *r)
{
    g->r = r;
    g->step = false;
    gdb_arch_snapshot(g);
    __atomic_store_n(&g->parked, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&gdb_stopping, __ATOMIC_ACQUIRE) || __atomic_load_n(&g->hold, __ATOMIC_ACQUIRE))
        pause();
    gdb_arch_hw_load();     /* the owner's Z1-Z4 hold on every CPU */
    g->r = NULL;
    __atomic_store_n(&g->parked, 0, __ATOMIC_RELEASE);
}

bool gdbstub_nmi(struct regs *r)
{
    if (!gdbstub_on || !__atomic_load_n(&gdb_stopping, __ATOMIC_ACQUIRE))
        return false;
    int me = (int)gdb_arch_cpu_index();
    if (__atomic_load_n(&gdb_owner, __ATOMIC_ACQUIRE) == me)
        return false;
    struct gdb_cpu *g = &gdb_cpus[me];
    if (__atomic_load_n(&g->parked, __ATOMIC_ACQUIRE))
        return true;    /* held in gdbstub_enter already (its trap frame is the one gdb sees) */
    struct regs *e = __atomic_load_n(&g->entering, __ATOMIC_ACQUIRE);
    if (e) {
        g->parked_entering = true;
        park_here(g, e);    /* waiting to enter the stub: the frame of its event, not of the wait */
    } else if (!(r->cs & 3) && gdb_arch_nmi_defers(gdb_arch_pc(r))) {
        /* on the trap path (pc there is no place gdb should see, nor plant a breakpoint): park
         * at its next gdbstub_park_pending, or in the stub's own wait */
        if (!g->park_pending) {
            __atomic_add_fetch(&parks_pending, 1, __ATOMIC_ACQUIRE);
            __atomic_store_n(&g->park_pending, true, __ATOMIC_RELEASE);
        }
        gdb_arch_nmi_deferred(gdb_arch_pc(r));
    } else {
        park_here(g, r);
    }
    return true;
}

void gdbstub_park_pending(struct regs *r)
{
    if (!__atomic_load_n(&parks_pending, __ATOMIC_ACQUIRE))
        return;
    int me = (int)gdb_arch_cpu_index();
    struct gdb_cpu *g = &gdb_cpus[me];
    if (!take_pending(g))
        return;
    if (__atomic_load_n(&gdb_stopping, __ATOMIC_ACQUIRE) && __atomic_load_n(&gdb_owner, __ATOMIC_ACQUIRE) != me)
        park_here(g, r);
}

/* The shared line while the kernel runs: returns 1 for a break-in, 2 for a packet to serve. */
static int mux_rx_byte(int c)
{
    static enum { IDLE, MARK, PKT, SUM1, SUM2 } st;
    static uint8_t buf[RUN_PKT];
    static size_t n;
    static bool overflow;
    switch (st) {
    case IDLE:
        if (c == LANES_DEBUG_MUX_RSP)
            st = MARK;
        else
            console_rx_byte((uint8_t)c);
        return 0;
    case MARK:
        st = IDLE;
        if (c == 0x03)
            return 1;
        if (c == '+' || c == '-')
            return 0;           /* a late ack */
        if (c == '$') {
            n = 0;
            overflow = false;
            buf[n++] = LANES_DEBUG_MUX_RSP;
            buf[n++] = '$';
            st = PKT;
            return 0;
        }
        console_rx_byte(LANES_DEBUG_MUX_RSP);  /* not a unit after all: the console's bytes */
        if (c == LANES_DEBUG_MUX_RSP)
            st = MARK;
        else
            console_rx_byte((uint8_t)c);
        return 0;
    case PKT:
    case SUM1:
    case SUM2:
        if (c == LANES_DEBUG_MUX_RSP) {
            gdb_rsp_errors++;   /* a unit cut short: the next one starts (gdb sends no
                                 * binary X data while the kernel runs) */
            st = MARK;
            return 0;
        }
        if (n < sizeof buf)
            buf[n++] = (uint8_t)c;
        else
            overflow = true;
        if (st == PKT) {
            if (c == '#')
                st = SUM1;
            return 0;
        }
        if (st == SUM1) {
            st = SUM2;
            return 0;
        }
        st = IDLE;
        break;
    }
    /* a whole packet: MARK $ data # h l */
    uint8_t sum = 0;
    for (size_t i = 2; i + 3 < n; i++)
        sum += buf[i];
    int h = hexval(buf[n - 2]), l = hexval(buf[n - 1]);
    if (overflow || h < 0 || l < 0 || (uint8_t)(h << 4 | l) != sum) {
        gdb_rsp_errors++;       /* gdb retransmits (ack mode) or its request times out */
        return 0;
    }
    if (n - 5 >= 13 && !memcmp(buf + 2, "QLanesTrace:", 12)) {
        gdb_mux_trace = buf[14] == '1';
        return 0;
    }
    memcpy(replay, buf, n);
    replay_len = n;
    replay_pos = 0;
    return 2;
}

/* Reads the running line: all it holds (buffered_only: only what gdb_uart_putc kept while the
 * stub sent). Returns 1 for a break-in, 2 for a packet to serve (in replay), 0 for neither. */
static int rx_running(bool buffered_only)
{
    int c;
    int what = 0;
    while ((!buffered_only || gdb_uart_buffered()) && (c = gdb_uart_poll()) >= 0) {
        if (gdb_mux) {
            int w = mux_rx_byte(c);
            if (w == 1 || (w == 2 && !what))
                what = w;
        } else if (c == 0x03) {
            what = 1;       /* anything else while running is a stray byte */
        }
        if (what == 2)
            break;          /* serve it before reading on */
    }
    if (what == 1)
        replay_len = replay_pos = 0;
    return what;
}

void gdbstub_rx(struct regs *r)
{
    int what = rx_running(false);
    if (what && (!gdbstub_on || !r)) {
        early_what = what;      /* served by gdbstub_init, once the APs are up */
        return;
    }
    if (what)
        gdbstub_enter(r, what == 1 ? GDB_STOP_INTR : GDB_STOP_ATTACH);
}

void gdbstub_panic(struct regs *r)
{
    for (;;) {
        if (r) {
            gdbstub_enter(r, GDB_STOP_PANIC);
        } else {
            __atomic_store_n(&panic_trap, 1, __ATOMIC_SEQ_CST);
            gdb_arch_breakpoint();
        }
    }
}

void gdbstub_early(void)
{
    const char *v;
    size_t n;
    if (cmdline_value("lanes.debug", &v, &n) && gdb_uart_init(v, n) == 2)
        gdb_mux = true;         /* COM1: nothing to program; its IRQ goes to gdbstub_rx from now */
}

void gdbstub_init(void)
{
    const char *v;
    size_t n;
    if (!cmdline_value("lanes.debug", &v, &n))
        return;
    int u = gdb_mux ? 2 : gdb_uart_init(v, n);
    if (!u) {
        pr_warn("gdbstub: lanes.debug=%.*s: no such UART (ttyS0, COM1 shared with the console, or ttyS1, COM2); "
                "debugger off", (int)n, v);
        return;
    }
    gdb_mux = u == 2;
    gdbstub_on = true;
    gdb_uart_enable_irq();
    if (gdb_mux)
        pr_info("gdbstub: GDB remote protocol on ttyS0 beside the console (marked units; connect through "
                "lanescope-gdbserver --serial)");
    else
        pr_info("gdbstub: GDB remote protocol on %.*s (target remote <that line>)", (int)n, v);
    if (cmdline_flag("lanes.debug_wait")) {
        pr_info("gdbstub: waiting for gdb (lanes.debug_wait)");
        gdb_arch_breakpoint();
    } else if (early_what) {
        gdb_arch_breakpoint();  /* a gdb that came before we were up: serve it now */
    }
}
