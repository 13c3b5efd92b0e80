/*
 * trace_drain.c — the drainer: moves records from the per-CPU rings to the transports.
 *
 * A kernel thread (on cpu0) wakes every DRAIN_NS (backing off to DRAIN_IDLE_NS when little
 * happens, and woken early by trace_kick when a ring is half full). (CPU loads are recorded by
 * the load balancer, balance.c: load_sample.) Per pass, for one transport:
 *
 *   ivshmem (arch/x86_64/trace_ivshmem.c): the rings' data already lives in the shared BAR,
 *     so nothing is copied. The drainer publishes each ring's head (release) in the shared
 *     header, with its drop counts, and takes back the tail the host wrote (acquire) as the
 *     ring's tail, which frees the space for the producer. The host's value is untrusted: it is
 *     taken only if it is 8-aligned and within [the ring's tail, head]; anything else leaves
 *     the tail where it was (a torn or hostile write can stall the ring, which then drops and
 *     reports `lost` records, but never makes the kernel overwrite unread records or crash).
 *     The preamble (trace_header + definitions) is written once into its own area.
 *   COM2 (arch/x86_64/trace_com2.c), when there is no ivshmem device: records are packed into
 *     frames of at most FRAME_MAX bytes:
 *       COBS( u32 sequence | records... | u32 CRC32 of sequence+records ) 0x00
 *     COBS removes every 0x00 from the frame, so 0x00 always ends a frame: after noise the host
 *     drops bytes up to the next 0x00 and continues; the CRC catches corrupt frames and the
 *     sequence number counts missing ones. The preamble (trace_header + definitions) is re-sent
 *     every PREAMBLE_NS so a host that attaches late still learns the clock and the schema.
 *     With an ivshmem device COM2 is left alone (the IDE reads one transport per run).
 *   the shared debug line (lanes.debug=ttyS0, no ivshmem): the same frames on COM1, each after
 *     the byte LANES_DEBUG_MUX_TRACE and written whole under the console lock (log_mux_write),
 *     at most MUX_FRAME_MAX bytes so a console writer waits ~25 ms at 115200 baud at worst.
 *     Only once the host asked ($QLanesTrace:1 marked, gdbstub.c): until then records stay in
 *     the rings (the boot's history for the host; a full ring drops and counts new records)
 *     and a plain terminal on the line sees only the console.
 * Neither transport blocks a producer: producers only ever touch their own ring.
 */
#include <kernel/kernel.h>
#include <kernel/gdbstub.h>
#include <kernel/trace.h>

#define DRAIN_NS    20000000ULL     /* 20 ms while events flow */
#define DRAIN_IDLE_NS 100000000ULL  /* up to 100 ms when idle */
#define DRAIN_BUSY_NS 5000000ULL    /* 5 ms while a burst fills the rings */
#define DRAIN_FLOOD_NS 1000000ULL   /* 1 ms while more than FLOOD_BYTES came per pass */
#define FLOOD_BYTES (256u * 1024)   /* a quarter of the smallest ring */
#define PREAMBLE_NS 2000000000ULL   /* 2 s */
#define FRAME_MAX   1024
#define MUX_FRAME_MAX 256
#define PASS_BYTES  (16 * 1024)

static bool have_com2, have_shm, have_mux, preamble_sent;
static size_t frame_max = FRAME_MAX;

/* Frames may go out: COM2, or the shared line once the host asked for them. */
static bool serial_ready(void)
{
    return have_com2 && (!have_mux || gdb_mux_trace);
}
uint32_t trace_transports;
static uint8_t frame[FRAME_MAX + 8];
static size_t frame_len = 4;        /* sequence number first */
static uint32_t frame_seq;
static uint8_t cobs[1 + FRAME_MAX + FRAME_MAX / 254 + 16];
static volatile uint32_t drain_busy;
static uint8_t preamble[8192];
static struct thread *drainer_thread;
uint64_t trace_frames_sent, trace_records_sent, trace_bytes_sent;

/* On the drainer thread, which may sleep while COM2 waits for a slow host (trace_com2.c);
 * not in a panic's flush. */
bool trace_on_drainer(void)
{
    return drainer_thread && !panicking && current() == drainer_thread;
}

static void serial_flush(void)
{
    if (frame_len <= 4)
        return;
    frame[0] = (uint8_t)frame_seq;
    frame[1] = (uint8_t)(frame_seq >> 8);
    frame[2] = (uint8_t)(frame_seq >> 16);
    frame[3] = (uint8_t)(frame_seq >> 24);
    frame_seq++;
    uint32_t crc = trace_crc32(0, frame, frame_len);
    for (int i = 0; i < 4; i++)
        frame[frame_len++] = (uint8_t)(crc >> (8 * i));
    /* COBS encode (after the shared line's marker) */
    size_t base = have_mux ? 1 : 0;
    cobs[0] = LANES_DEBUG_MUX_TRACE;
    size_t o = base + 1, code_at = base;
    uint8_t code = 1;
    for (size_t i = 0; i < frame_len; i++) {
        if (frame[i] == 0) {
            cobs[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            cobs[o++] = frame[i];
            if (++code == 0xff) {
                cobs[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    cobs[code_at] = code;
    cobs[o++] = 0;
    if (have_mux)
        log_mux_write(cobs, o);
    else
        trace_com2_write(cobs, o);
    trace_frames_sent++;
    frame_len = 4;
}

static void serial_add(const uint8_t *rec, size_t n)
{
    if (frame_len + n + 4 > frame_max)
        serial_flush();
    memcpy(frame + frame_len, rec, n);
    frame_len += n;
}

/* Walks the whole records of ring r in [tail, end) (stopping early at a corrupt record or, with
 * budget, at limit) and hands each to COM2 one by one. Returns where it stopped: a record
 * boundary, or end if a record was corrupt. */
static uint64_t walk_records(struct trace_ring *r, uint64_t tail, uint64_t end, uint64_t limit)
{
    while (tail < limit) {
        const struct trace_hdr *h = (const void *)(r->data + (tail & (r->size - 1)));
        uint32_t sz = h->size;
        if (sz < 8 || (sz & 7) || sz > r->size - (tail & (r->size - 1)) || tail + sz > end)
            return end;             /* corrupt: skip to the producer's position */
        if (tail + sz > limit)
            break;                  /* budget reached: the rest next pass */
        if (h->type != LANES_TRACE_PAD && sz >= sizeof(struct trace_hdr)) {
            serial_add((const uint8_t *)h, sz);
            trace_records_sent++;
        }
        tail += sz;
    }
    return tail;
}

static void out_preamble(bool com2, bool shm)
{
    if (shm && have_shm)
        trace_ivshmem_preamble();
    if (!com2 || !serial_ready())
        return;
    size_t n = trace_preamble(preamble, sizeof preamble);
    for (size_t off = 0; off + sizeof(struct trace_hdr) <= n;) {
        const struct trace_hdr *h = (const void *)(preamble + off);
        serial_add(preamble + off, h->size);
        off += h->size;
    }
    serial_flush();
}

/* ivshmem: take back the host's tail, publish head and the drop counts. The head is read
 * before the pending drop count: a lost record written in between is then either beyond the
 * published head (and its count still pending) or not yet written (its count pending), never
 * counted twice. The first pass hands the tails to the host (state 1). */
static void shm_pass(void)
{
    static bool live;               /* kernel-side copies: the host can write the whole header */
    static uint64_t published[TRACE_MAX_CPUS];
    struct trace_shm *s = trace_shm;
    if (!live)
        trace_ivshmem_preamble();   /* before the host may read anything (once; also at panic) */
    for (uint32_t i = 0; i < trace_nrings; i++) {
        struct trace_ring *r = &trace_rings[i];
        struct trace_shm_ring *q = &s->ring[i];
        uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        uint64_t tail = r->tail;
        if (live) {
            uint64_t t = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
            if (t > tail && t <= head && !(t & 7)) {
                tail = t;
                __atomic_store_n(&r->tail, t, __ATOMIC_RELEASE);
            }
        } else {
            q->tail = tail;     /* where the host starts (boot records overwritten before live) */
        }
        trace_bytes_sent += head - published[i];    /* published this pass */
        published[i] = head;
        q->dropped = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
        q->dropped_total = __atomic_load_n(&r->dropped_total, __ATOMIC_RELAXED);
        __atomic_store_n(&q->head, head, __ATOMIC_RELEASE);
    }
    s->heartbeat++;
    if (!live) {
        __atomic_store_n(&s->state, 1, __ATOMIC_RELEASE);
        live = true;
    }
}

static void drain(bool unlimited)
{
    if (__atomic_exchange_n(&drain_busy, 1, __ATOMIC_ACQUIRE))
        return;
    if (have_shm)
        shm_pass();
    bool ser = serial_ready();
    for (uint32_t i = 0; ser && i < trace_nrings; i++) {
        struct trace_ring *r = &trace_rings[i];
        uint64_t phead = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        uint64_t tail = r->tail;
        /* A slow UART must not keep the drainer busy for long: at most PASS_BYTES per ring
         * per pass; the rest waits for the next pass (and the ring counts drops if it fills). */
        uint64_t limit = !unlimited && phead - tail > PASS_BYTES ? tail + PASS_BYTES : phead;
        uint64_t end = walk_records(r, tail, phead, limit);
        trace_bytes_sent += end - tail;
        __atomic_store_n(&r->tail, end, __ATOMIC_RELEASE);
    }
    if (ser)
        serial_flush();
    __atomic_store_n(&drain_busy, 0, __ATOMIC_RELEASE);
}

void trace_kick_drainer(void)
{
    if (__atomic_exchange_n(&trace_kick, 0, __ATOMIC_ACQUIRE) && drainer_thread)
        thread_wake(drainer_thread, 0);
}

void trace_drain_all(void)
{
    drain(false);
}

void trace_panic_flush(void)
{
    if (trace_live)
        drain(true);
}

static void drainer(void *arg)
{
    (void)arg;
    uint64_t last_pre = clock_ns(), start = last_pre, period = DRAIN_NS;
    bool was_ready = serial_ready();   /* the shared line: a preamble as soon as the host asks */
    sleep_ns(DRAIN_NS);     /* producers that saw trace_live == 0 have finished */
    if (!preamble_sent && trace_live)
        out_preamble(true, true);
    for (;;) {
        uint64_t now = clock_ns();
        uint64_t before = trace_bytes_sent;
        if (trace_live)
            trace_drain_all();
        /* Idle: the drainer's own wake-ups are most of the traffic, so back off to 100 ms
         * (a 115200-baud UART then carries idle with room to spare); busy: 20, 5 or 1 ms. Measured in
         * bytes (the bulk path does not count records): ~40 bytes a record. */
        uint64_t moved = trace_bytes_sent - before;
        period = moved < 32 * 40 ? MIN(period * 2, DRAIN_IDLE_NS)
                 : moved > FLOOD_BYTES ? DRAIN_FLOOD_NS : moved > 4096 * 40 ? DRAIN_BUSY_NS : DRAIN_NS;
        extern bool trace_crash_requested;
        if (trace_crash_requested && now - start >= 1000000000ULL)
            panic("trace.crash on the command line: deliberate panic to test the flight recorder");
        bool ready = serial_ready();
        if (ready && (now - last_pre >= PREAMBLE_NS || !was_ready)) {
            out_preamble(true, false);
            last_pre = now;
        }
        was_ready = ready;
        sleep_ns(period);
    }
}

void trace_start(void)
{
    have_shm = trace_shm != NULL;                   /* found by trace_init: the rings are in it */
    have_mux = !have_shm && gdb_mux;        /* one UART: frames go beside the console */
    have_com2 = !have_shm && (have_mux || (!gdbstub_on && trace_com2_probe()));  /* with ivshmem, COM2 is left alone */
    frame_max = have_mux ? MUX_FRAME_MAX : FRAME_MAX;
    extern bool trace_crash_requested;
    if (!have_shm && !have_com2) {
        pr_info("trace: no transport (no ivshmem device, no COM2): flight recorder only");
        if (trace_crash_requested) {
            struct thread *t = thread_create_kernel(drainer, NULL, cpus[0]);    /* only to crash */
            if (t)
                thread_start(t);
        }
        return;
    }
    trace_transports = (have_shm ? 1 : 0) | (have_com2 && !have_mux ? 2 : 0) | (have_mux ? 4 : 0);
    __atomic_store_n(&trace_live, 1, __ATOMIC_RELEASE);
    struct thread *t = thread_create_kernel(drainer, NULL, cpus[0]);
    if (!t) {
        trace_live = 0;
        pr_warn("trace: cannot create the drainer thread");
        return;
    }
    extern bool trace_bench_requested;
    if (trace_bench_requested) {
        /* Synchronously, before user space starts: how fast does the boot backlog go out? */
        out_preamble(true, true);
        preamble_sent = true;
        uint64_t n = 0, b0 = 0;
        for (uint32_t i = 0; i < trace_nrings; i++) {
            struct trace_ring *r = &trace_rings[i];
            b0 += trace_ring_used(i);
            for (uint64_t p = r->tail, head = r->head; p < head;) {   /* records, for the rate */
                const struct trace_hdr *h = (const void *)(r->data + (p & (r->size - 1)));
                if (h->size < 8)
                    break;
                n += h->type != LANES_TRACE_PAD;
                p += h->size;
            }
        }
        uint64_t t0 = clock_ns();
        trace_drain_all();
        uint64_t dt = clock_ns() - t0;
        if (have_shm)       /* nothing is copied: the pass only publishes heads */
            pr_info("trace-bench: drained %lu records (%lu bytes) in %lu ns via ivshmem: handed over in "
                    "place (the rings are in shared memory), no copy", n, b0, dt);
        else
            pr_info("trace-bench: drained %lu records (%lu bytes) in %lu us via COM2: %lu records/s",
                    n, b0, dt / 1000, (uint64_t)(dt ? n * 1000000000ULL / dt : 0));
    }
    drainer_thread = t;
    thread_start(t);
    pr_info("trace: live via%s%s", have_shm ? " ivshmem" : "",
            have_mux ? " the debug line (COM1, once the host asks)" : have_com2 ? " COM2" : "");
}
