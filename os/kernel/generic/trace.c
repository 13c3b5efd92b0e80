/*
 * trace.c — per-CPU event rings: reserve/commit for the generated emit helpers, the class
 * filter (boot option trace=... and the trace_ctl syscall), the self-describing preamble.
 *
 * Recording an event (trace_emit_<name> in <lanes/abi/trace.h>, all inline at the call site):
 *   filter check (one load, before any argument is evaluated) -> trace_reserve_fast
 *   (kernel/trace.h): interrupts off, this CPU's ring, room without wrapping or reclaiming? ->
 *   header and timestamp -> the class again (another CPU may have switched it off since the
 *   first test: then nothing is published) -> fields written in place -> trace_commit_fast:
 *   publish head (release), interrupts back. Segment ends (every 64 KiB), reclaiming sent
 *   space (a segment at a time) and lost records are the slow path: the record is staged in
 *   struct cpu's trace_stage and placed by trace_commit_slow() here.
 * One producer per ring (its CPU, interrupts off), one consumer (the drainer, any CPU): the
 * producer reads `tail` with acquire and the consumer reads `head` with acquire, so neither
 * ever waits for the other. A record never straddles the end of a segment (or of the ring): the
 * producer writes a padding record (type 0) and goes on at the next segment. A full ring drops
 * the event and counts it; the next event that finds room first writes a `lost` record with the
 * count, so loss is never silent.
 *
 * Boot option:  trace=off | trace=all | trace=sched,ipc,syscall,...  (class names from
 * os/abi/trace.toml; default: all). Per-CPU ring memory is allocated for every CPU ACPI
 * reports, so gdb finds each ring through the symbol trace_rings even after a panic. With an
 * ivshmem device that can hold them, the ring memory is the device's shared BAR (the host
 * reads the rings in place, trace_ivshmem.c); otherwise it comes from the physical allocator.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

HOT_DATA_RW struct trace_ring trace_rings[TRACE_MAX_CPUS];
HOT_DATA uint32_t trace_nrings;
HOT_DATA volatile uint32_t trace_live;
HOT_DATA volatile uint32_t trace_classes;
HOT_DATA_RW volatile uint32_t trace_kick;
uint32_t trace_boot_classes = TRACE_CLASS_ALL;
HOT_DATA uint64_t trace_tsc0;

static const struct { const char *name; int bit; } class_names[] = TRACE_CLASS_NAMES;
static const struct { uint16_t id, cls; const char *text; } def_texts[] = TRACE_DEF_TEXTS;

uint32_t trace_parse_classes(const char *s, size_t n, bool *ok)
{
    uint32_t mask = 0;
    *ok = true;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        size_t len = j - i;
        bool found = false;
        if (len == 3 && !strncmp(s + i, "off", 3)) {
            found = true;
        } else if (len == 3 && !strncmp(s + i, "all", 3)) {
            mask |= TRACE_CLASS_ALL;
            found = true;
        } else {
            for (size_t k = 0; k < ARRAY_SIZE(class_names); k++)
                if (strlen(class_names[k].name) == len && !strncmp(class_names[k].name, s + i, len)) {
                    mask |= 1u << class_names[k].bit;
                    found = true;
                }
        }
        if (!found && len)
            *ok = false;
        i = j + 1;
    }
    return mask;
}

bool trace_bench_requested;
bool trace_crash_requested;     /* trace.crash: the drainer panics after 1 s (tests the flight recorder) */

/* trace.bench on the command line: time the recording path on this CPU (cycles per event:
 * a 32-byte irq record, a 128-byte ipc_submit with 32 bytes of payload, and a filtered-out
 * one) before the transports start; the drainer then reports how fast its first pass moved the
 * backlog out (trace_drain.c). Printed as "trace-bench: ..." lines. Each figure is the median
 * of 5 runs of N events (interrupts stay on, so a timer tick can land in one run). */
static uint64_t median5(uint64_t *v)
{
    for (int i = 1; i < 5; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[2];
}

static void trace_bench(void)
{
    enum { N = 1000, R = 5 };
    static const uint8_t payload[32] = "0123456789abcdef0123456789abcdef";
    uint32_t saved = trace_classes;
    uint64_t irq[R], sub[R], off[R];
    for (int k = 0; k < R; k++) {
        __atomic_store_n(&trace_classes, saved | TRACE_CLASS_IRQ | TRACE_CLASS_IPC, __ATOMIC_RELEASE);
        uint64_t t0 = rdtsc();
        for (int i = 0; i < N; i++)
            trace_emit_irq((uint32_t)i, 0xbe);
        uint64_t t1 = rdtsc();
        for (int i = 0; i < N; i++)
            trace_emit_ipc_submit(1, 0, (uint64_t)i, 64, LANES_IPC_ACTION_SEND, 0, 0, 0, 1, 0, payload, 32);
        uint64_t t2 = rdtsc();
        __atomic_store_n(&trace_classes, saved & ~TRACE_CLASS_IRQ, __ATOMIC_RELEASE);
        for (int i = 0; i < N; i++)
            trace_emit_irq((uint32_t)i, 0xbe);
        uint64_t t3 = rdtsc();
        irq[k] = (t1 - t0) / N;
        sub[k] = (t2 - t1) / N;
        off[k] = (t3 - t2) / N;
    }
    __atomic_store_n(&trace_classes, saved, __ATOMIC_RELEASE);
    pr_info("trace-bench: record %lu cycles/event (irq, 32 B), %lu cycles/event (ipc_submit, 128 B), "
            "filtered out %lu cycles/event (median of %d x %d events, cpu%u)",
            median5(irq), median5(sub), median5(off), R, N, this_cpu()->id);
}

/* trace=CLASSES (names or a mask, as trace_ctl takes them), trace.bench, trace.crash */
static void parse_boot_option(void)
{
    const char *v;
    size_t n;
    if (cmdline_value("trace", &v, &n)) {
        bool ok;
        uint32_t m = trace_parse_classes(v, n, &ok);
        if (!ok)
            pr_warn("trace: unknown class in \"trace=%.*s\" (known: meta proc sched syscall ipc event "
                    "fault irq log sysfs user load, all, off)", (int)n, v);
        trace_boot_classes = m;
    }
    trace_bench_requested = cmdline_flag("trace.bench");
    trace_crash_requested = cmdline_flag("trace.crash");
}

void trace_init(void)
{
    parse_boot_option();
    uint64_t ns = clock_ns(), tsc = rdtsc();
    trace_tsc0 = tsc - ((ns / 1000000000ULL) * tsc_hz + (ns % 1000000000ULL) * tsc_hz / 1000000000ULL);
    uint32_t n = MIN(acpi.ncpu ? acpi.ncpu : 1, (uint32_t)TRACE_MAX_CPUS);
    /* An ivshmem device big enough: the rings live in its shared memory, where the host reads
     * them directly (trace_ivshmem.c). PCI configuration through ports and page_map work here:
     * paging and the physical allocator are up. */
    uint32_t size = TRACE_RING_BYTES;
    uint8_t *shared = trace_ivshmem_init(n, &size);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *data = shared ? shared + (uint64_t)i * size : NULL;
        if (!data) {
            uint64_t pa = pmm_alloc_contig(TRACE_RING_PAGES);
            if (!pa) {
                pr_warn("trace: no memory for the ring of cpu%u", i);
                break;
            }
            data = P2V(pa);
        }
        struct trace_ring *r = &trace_rings[i];
        r->size = shared ? size : TRACE_RING_BYTES;
        r->cpu = i;
        r->next_id = (uint64_t)i << 48;
        r->data = data;
        trace_nrings = i + 1;
    }
    __atomic_store_n(&trace_classes, trace_boot_classes ? trace_boot_classes | TRACE_CLASS_META : 0,
                     __ATOMIC_RELEASE);
    pr_info("trace: %u rings of %u KiB%s, classes 0x%x", trace_nrings, (shared ? size : TRACE_RING_BYTES) >> 10,
            shared ? " in ivshmem" : "", trace_classes);
    if (trace_bench_requested && (trace_classes & TRACE_CLASS_IRQ))
        trace_bench();
}

/* A switch is exact against every CPU's records, whichever way a class goes (the trace_config
 * record is where the viewer draws it): a record's class is tested again after its timestamp
 * (trace_reserve_fast), so a class going off is cleared before the config record is stamped
 * (nothing of it is stamped after), and a class coming on is set after (nothing of it is stamped
 * before). Hence two stores around the stamp: the classes both masks have, the record, the new
 * mask. (Full barriers — the seq_cst stores, lfence before rdtsc — order them on hardware;
 * under QEMU the order of the instructions already is the order of the times.) One switch at a
 * time. */
static struct spinlock classes_lock = SPINLOCK_INIT("trace_classes");

int64_t trace_set_classes(uint32_t mask)
{
    if (mask)
        mask |= TRACE_CLASS_META;
    mask &= TRACE_CLASS_ALL;
    spin_lock(&classes_lock);
    uint32_t old = trace_classes;
    __atomic_store_n(&trace_classes, old & mask, __ATOMIC_SEQ_CST);
    __asm__ volatile("lfence" ::: "memory");
    struct thread *t = percpu_up_safe() ? current() : NULL;
    trace_emit_trace_config(mask, t ? t->tid : 0);
    __atomic_store_n(&trace_classes, mask, __ATOMIC_SEQ_CST);
    spin_unlock(&classes_lock);
    return old;
}

uint64_t trace_ring_used(uint32_t cpu)
{
    if (cpu >= trace_nrings)
        return 0;
    struct trace_ring *r = &trace_rings[cpu];
    return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

/* The ring is cut into segments, and a record never straddles a segment boundary (the end of a
 * segment is padded, as the end of the ring is): so every segment start is a record boundary,
 * and reclaiming is a rounding, not a walk over old records. The slow path runs once per
 * segment; a record costs the padding at most once per 64 KiB. */
#define TRACE_SEG (64u * 1024)
_Static_assert(TRACE_RING_BYTES % TRACE_SEG == 0, "segments tile the ring");

/* Make room for `need` bytes at head (which is where the caller writes): move keep past every
 * record that will be overwritten, to the next segment start (or to tail, if the drainer has
 * not sent that far: tail is a record boundary too). Returns false if unsent data would be
 * overwritten. Afterwards keep <= tail: the fast path relies on it. With ivshmem, tail is what
 * the host consumed (trace_drain.c takes it only within [tail, head] and 8-aligned): a host that
 * wrote a value off a record boundary can spoil only where the flight recorder starts reading. */
static bool ring_room(struct trace_ring *r, uint64_t head, uint32_t need)
{
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    if (!trace_live) {
        /* No reader: overwrite the oldest; keep tail on a record boundary for a later reader. */
        tail = head;
    }
    if (head + need - tail > r->size)
        return false;
    if (head + need > r->keep + r->size) {
        uint64_t k = (head + need - r->size + TRACE_SEG - 1) & ~(uint64_t)(TRACE_SEG - 1);
        if ((int64_t)(k - tail) > 0)
            k = tail;
        r->keep = k;
        if (!trace_live && (int64_t)(k - r->tail) > 0)
            __atomic_store_n(&r->tail, k, __ATOMIC_RELEASE);
    }
    return true;
}

/* Reserve `size` bytes (a multiple of 8) at head; writes the padding record if the record
 * would straddle the end of a segment. Returns the record's address or NULL. */
static void *ring_alloc(struct trace_ring *r, uint32_t size)
{
    uint64_t head = r->head;
    uint32_t off = head & (r->size - 1);
    uint32_t contig = TRACE_SEG - (uint32_t)(head & (TRACE_SEG - 1));
    uint32_t need = contig < size ? contig + size : size;
    if (!ring_room(r, head, need))
        return NULL;
    if (contig < size) {
        struct trace_hdr *pad = (void *)(r->data + off);
        pad->type = LANES_TRACE_PAD;
        pad->size = (uint16_t)contig;      /* contig < size <= 64 KiB - 8 */
        head += contig;
        __atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
        off = head & (r->size - 1);
    }
    r->pend_head = head + size;
    return r->data + off;
}

static void fill_hdr(struct trace_hdr *h, struct trace_ring *r, uint16_t type, uint32_t size)
{
    h->type = type;
    h->size = (uint16_t)size;
    h->cpu = (uint16_t)r->cpu;
    h->flags = 0;
    h->tsc = rdtsc();
    h->id = r->next_id++;
}

/* Where the fast path may fill up to after the record just reserved (pend_head): the end of
 * the segment it starts in or the first unreclaimed byte, whichever comes first; and the base
 * it writes at, so that a record at head goes at base + head (a segment is contiguous in the
 * ring's data: the ring's size is a multiple of TRACE_SEG). */
static void set_fast_end(struct trace_ring *r)
{
    uint64_t seg = r->pend_head & ~(uint64_t)(TRACE_SEG - 1);
    uint64_t seg_end = seg + TRACE_SEG;
    uint64_t room_end = r->keep + r->size;
    struct cpu *c = this_cpu();
    c->trace_fast_end = seg_end < room_end ? seg_end : room_end;
    c->trace_fast_base = (uintptr_t)r->data + (seg & (r->size - 1)) - seg;   /* (wraps: unsigned) */
}

/* A ring per CPU that nobody reads: where a dropped event's emitter writes (its data is the
 * CPU's trace_stage), with next_id 0 so the emitter returns 0. */
static struct trace_ring trace_drop_rings[TRACE_MAX_CPUS];

/* The slow path (kernel/trace.h), interrupts off: make room at this CPU's ring head for a
 * record of `size` bytes — a pending `lost` record first, padding up to the next segment,
 * reclaiming sent space — and return the ring to write it in (at its head, as the fast path
 * does); or count the event as dropped and return this CPU's drop ring. */
struct trace_ring *trace_reserve_slow(uint32_t size)
{
    struct cpu *c = this_cpu();
    uint32_t cpu = c->id;
    if (cpu < trace_nrings && size >= sizeof(struct trace_hdr) && size <= CPU_TRACE_STAGE && !(size & 7)) {
        struct trace_ring *r = &trace_rings[cpu];
        if (r->dropped) {
            struct trace_ev_lost *l = ring_alloc(r, sizeof *l);
            if (l) {
                fill_hdr(&l->h, r, TRACE_EV_LOST, sizeof *l);
                l->count = r->dropped;
                l->first_seq = r->first_drop_seq;
                r->dropped = 0;
                __atomic_store_n(&r->head, r->pend_head, __ATOMIC_RELEASE);
            }
        }
        if (!r->dropped && ring_alloc(r, size)) {
            /* the record goes at r->head (past any padding ring_alloc wrote) */
            set_fast_end(r);
            /* Half full and a transport drains: ask for an early drain (the drainer sleeps up
             * to 100 ms while things are quiet; a burst fills 1 MiB in a few ms). Acted on where
             * no lock is held (trace_kick_check, on the way back to user mode). Once per slow
             * path: every few KiB. */
            if (trace_live && r->pend_head - __atomic_load_n(&r->tail, __ATOMIC_RELAXED) > r->size / 2)
                __atomic_store_n(&trace_kick, 1, __ATOMIC_RELAXED);
            return r;
        }
        if (!r->dropped++)
            r->first_drop_seq = r->next_id & 0xffffffffffffULL;
        r->next_id++;
        r->dropped_total++;
        c->trace_fast_end = 0;              /* the next event comes here to write the lost record */
        if (trace_live)                     /* full: the drainer should take the host's tail back now */
            __atomic_store_n(&trace_kick, 1, __ATOMIC_RELAXED);
    }
    struct trace_ring *d = &trace_drop_rings[cpu & (TRACE_MAX_CPUS - 1)];
    d->data = c->trace_stage;
    d->head = 0;
    d->next_id = 0;
    return d;
}

/* ---- the preamble: trace_header + one event_def per event ---- */

static size_t put_def(uint8_t *buf, size_t cap, uint16_t id, uint16_t cls, const char *text)
{
    uint32_t tl = (uint32_t)strnlen(text, 240);
    uint32_t size = (sizeof(struct trace_ev_event_def) + 2 + tl + 7) & ~7u;
    if (size > cap)
        return 0;
    memset(buf, 0, size);
    struct trace_ev_event_def *d = (void *)buf;
    d->h.type = TRACE_EV_EVENT_DEF;
    d->h.size = (uint16_t)size;
    d->h.cpu = 0;
    d->h.tsc = rdtsc();
    d->def_id = id;
    d->def_class = cls;
    uint8_t *t = buf + sizeof *d;
    t[0] = (uint8_t)tl;
    t[1] = (uint8_t)(tl >> 8);
    memcpy(t + 2, text, tl);
    return size;
}

size_t trace_preamble(uint8_t *buf, size_t cap)
{
    struct trace_ev_trace_header *h = (void *)buf;
    if (cap < sizeof *h)
        return 0;
    memset(h, 0, sizeof *h);
    h->h.type = TRACE_EV_TRACE_HEADER;
    h->h.size = sizeof *h;
    h->h.tsc = rdtsc();
    h->magic = LANES_TRACE_MAGIC;
    h->version = LANES_TRACE_VERSION;
    h->ncpus = (uint16_t)trace_nrings;
    h->tsc_hz = tsc_hz;
    h->tsc_base = trace_tsc0;
    h->classes = trace_classes;
    h->ndefs = ARRAY_SIZE(def_texts);
    size_t n = sizeof *h;
    for (size_t i = 0; i < ARRAY_SIZE(def_texts); i++) {
        size_t k = put_def(buf + n, cap - n, def_texts[i].id, def_texts[i].cls, def_texts[i].text);
        if (!k)
            return 0;
        n += k;
    }
    return n;
}

static uint32_t crc_table[256];

uint32_t trace_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    if (!crc_table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- syscalls (wired in syscall.c as trace_ctl and trace_mark) ---- */

/* trace_ctl(system, op, arg): the class filter at run time; needs the system capability with
 * CONTROL. op 0: get the mask; 1: set it to arg (0 = off), returns the old mask; 2: events
 * dropped so far (all CPUs); 3: live transports (bit 0 ivshmem, bit 1 COM2, 0 = flight only). */
int64_t trace_sys_ctl(uint64_t sys, uint64_t op, uint64_t arg)
{
    struct kobj *o;
    int64_t r = handle_lookup(&current()->proc->handles, (int32_t)sys, LANES_OBJ_SYSTEM, LANES_RIGHT_CONTROL, &o, NULL);
    if (r)
        return r;
    kobj_put(o);
    switch (op) {
    case 0:
        return trace_classes;
    case 1:
        if (arg & ~(uint64_t)TRACE_CLASS_ALL)
            return LANES_E_INVAL;
        return trace_set_classes((uint32_t)arg);
    case 2: {
        uint64_t n = 0;
        for (uint32_t i = 0; i < trace_nrings; i++)
            n += trace_rings[i].dropped_total;
        return (int64_t)(n & 0x7fffffffffffffffULL);
    }
    case 3:
        return trace_live ? (int64_t)trace_transports : 0;
    default:
        return LANES_E_INVAL;
    }
}

/* trace_mark(kind, value, name, len): a user marker (instant, span begin/end, counter). */
int64_t trace_sys_mark(uint64_t kind, uint64_t value, uint64_t uname, uint64_t len)
{
    if (kind > TRACE_MARKER_KIND_COUNTER)
        return LANES_E_INVAL;
    char name[TRACE_MARKER_NAME_MAX + 1];
    uint64_t n = MIN(len, (uint64_t)TRACE_MARKER_NAME_MAX);
    if (!user_range_ok(uname, len) || copy_from_user(name, uname, n))
        return LANES_E_FAULT;
    name[n] = 0;
    struct thread *t = current();
    uint64_t id = trace_emit_marker(t->proc->pid, t->tid, (uint32_t)kind, 0, value, name);
    return (int64_t)(id & 0x7fffffffffffffffULL);
}
