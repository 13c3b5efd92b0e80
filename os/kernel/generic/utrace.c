/*
 * utrace.c — trace records written by user space (class `signal`, trace.toml 160..175): libc's
 * sys_begin/sys_end around every POSIX call, the servers' cancel records, signal records.
 *
 * Two ways in, one emitter (user_emit):
 *
 *   trace_user(type, body, len)   a system call per record (sys_signal.c → utrace_record): size and type checked, the header
 *                                 is ours; after a sys_begin / cancel_raise / cancel_ack the
 *                                 kernel adds a call_site record (the caller's user frames,
 *                                 walked here through copy_from_user).
 *   utrace_map()                  a page of the calling thread's own (struct lane_utrace_page)
 *                                 where libc appends records without a system call; the kernel
 *                                 drains it while running as that thread, first thing whenever
 *                                 the thread enters the kernel — a system call (syscall.c), an
 *                                 interrupt or exception in user mode (trap.c) — and when it
 *                                 dies. A POSIX call's trace then costs user instructions
 *                                 instead of two system calls (issue 13's pipe round trip).
 *
 *       libc (this thread)                        kernel (this thread, in the kernel)
 *       off = xadd(&used, size)                   interrupts off; this CPU's ring head
 *       header, body, frames at data + off        for each entry from `done` to used:
 *       type stored last                            type 0: being written — stop, go on later
 *                                                   else check it as trace_user would, write it
 *                                                   at head with its tsc, then its call_site
 *                                                   from its frames (same tsc)
 *                                                 publish head once; all out: used = 0
 *
 * One reservation per drain, not per record: the records go straight into the ring's current
 * segment (the fast path's room, kernel/trace.h) and head is published once, so a drain of a
 * sys_begin and a sys_end costs one interrupt-off section and no per-record commit; bodies and
 * frames move by `rep movsq`. A record that would not fit there takes user_emit's ordinary
 * reservation (segment end, reclaiming, a pending `lost` record).
 *
 * The page is read through the direct map (the kernel keeps the memory object: libc's unmap
 * or exec cannot take it away), so a drain never faults and takes no lock. A record keeps the
 * time libc wrote it, clamped to [the thread's last return to user mode, now]: since every
 * entry into the kernel drains first, nothing else was recorded on this CPU in that interval,
 * so each CPU's ring stays in time order (the host's merge relies on it). Entries are checked
 * as they are copied into the ring; another thread of the process scribbling on the page
 * garbles only that process's own records.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>
#include "syscall.h"

struct user_event {
    uint16_t type;
    uint16_t fixed;             /* bytes after the header, without the tail */
    uint16_t tail;              /* str tail: its most bytes (0: no tail) */
    uint16_t site;              /* the kernel follows it with a call_site */
};
#define FIXED(name) (uint16_t)(sizeof(struct trace_ev_##name) - sizeof(struct trace_hdr))
HOT_RODATA static const struct user_event user_events[] = {    /* (by type, from TRACE_EV_SYS_BEGIN) */
    { TRACE_EV_SYS_BEGIN, FIXED(sys_begin), TRACE_SYS_BEGIN_NAME_MAX, 1 },
    { TRACE_EV_SYS_END, FIXED(sys_end), 0, 0 },
    { TRACE_EV_SIG_GENERATE, FIXED(sig_generate), 0, 0 },
    { TRACE_EV_SIG_FLAG, FIXED(sig_flag), 0, 0 },
    { TRACE_EV_CANCEL_RAISE, FIXED(cancel_raise), TRACE_CANCEL_RAISE_TARGET_MAX, 1 },
    { TRACE_EV_CANCEL_ACK, FIXED(cancel_ack), TRACE_CANCEL_ACK_SERVER_MAX, 1 },
    { TRACE_EV_SIG_HANDLER, FIXED(sig_handler), 0, 0 },
    { TRACE_EV_SIG_ACTION, FIXED(sig_action), 0, 0 },
};

static inline uint64_t tsc_now(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* The event of a record of len body bytes (its type and size checked), or NULL. */
static inline __attribute__((always_inline)) const struct user_event *user_event_of(uint64_t type, uint64_t n)
{
    uint64_t i = type - TRACE_EV_SYS_BEGIN;
    if (i >= ARRAY_SIZE(user_events) || user_events[i].type != type)
        return NULL;
    const struct user_event *ev = &user_events[i];
    if (n < ev->fixed || n > 254 ||
        (ev->tail ? n > (uint64_t)ev->fixed + 2 + ev->tail || n == (uint64_t)ev->fixed + 1 : n != ev->fixed))
        return NULL;
    return ev;
}

/* A str tail's length must be what is left; an absent one becomes an empty one (body has room
 * for 2 more bytes). */
static bool user_tail_ok(const struct user_event *ev, uint8_t *body, uint64_t *len)
{
    if (!ev->tail)
        return true;
    if (*len == ev->fixed) {
        body[ev->fixed] = body[ev->fixed + 1] = 0;
        *len += 2;
        return true;
    }
    return (uint16_t)(body[ev->fixed] | body[ev->fixed + 1] << 8) == *len - ev->fixed - 2;
}

/* Whole words, one string-instruction iteration each (arch/machine.h's copy_bytes, without
 * its byte tail: the counts here are in words). */
static inline void copy_words(uint64_t *d, const uint64_t *s, uint64_t n)
{
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
}

static inline void zero_words(uint64_t *d, uint64_t n)
{
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ULL) : "memory");
}

/* A call_site's fields after its header: ref = its record's id, the writer's pid and tid, and
 * depth of its frames pcs (the rest zeroed). One place for the drain's fast path (batch_put)
 * and user_emit. */
static inline void call_site_fill(struct trace_ev_call_site *cs, uint64_t ref, uint64_t call, const struct thread *t,
                                  const uint64_t *pcs, uint32_t depth)
{
    cs->ref = ref;
    cs->call = call;
    cs->pid = t->proc->pid;
    cs->tid = t->tid;
    cs->depth = depth;
    cs->reserved0 = 0;
    copy_words(&cs->pc0, pcs, depth);
    zero_words(&cs->pc0 + depth, 8 - depth);
}

/* Writes a checked record (tsc 0: now) and, after a sys_begin / cancel_raise / cancel_ack (each
 * has `call` first), the kernel's call_site record with the writer's frames (pc NULL: walk
 * them from the system call's registers). body holds len bytes padded with zeroes to 8 (so it
 * goes in whole words); a str tail's length is written as what len leaves for it. Returns the
 * record's id. */
static uint64_t user_emit(const struct user_event *ev, const uint64_t *body, uint64_t len, uint64_t tsc,
                          const uint64_t *pc, uint32_t depth)
{
    uint32_t size = (uint32_t)(sizeof(struct trace_hdr) + len + 7) & ~7u;
    struct trace_slot s;
    uint8_t *e = TRACE_RESERVE(ev->type, size, &s, TRACE_CLASS_SIGNAL);
    if (TRACE_RESERVE_MAY_FAIL && !e)
        return 0;
    uint64_t *w = (uint64_t *)(e + sizeof(struct trace_hdr));
    for (uint32_t i = 0; i < (size - sizeof(struct trace_hdr)) / 8; i++)
        w[i] = body[i];
    if (ev->tail) {
        uint16_t tl = (uint16_t)(len - ev->fixed - 2);
        e[sizeof(struct trace_hdr) + ev->fixed] = (uint8_t)tl;
        e[sizeof(struct trace_hdr) + ev->fixed + 1] = (uint8_t)(tl >> 8);
    }
    if (len & 7)                            /* (the padding is ours, whatever the source had) */
        __builtin_memset(e + sizeof(struct trace_hdr) + len, 0, size - sizeof(struct trace_hdr) - len);
    if (tsc)
        ((struct trace_hdr *)e)->tsc = tsc;
    uint64_t id = TRACE_COMMIT(&s) & 0x7fffffffffffffffULL;
    if (!ev->site)
        return id;
    uint64_t pcs[8];
    if (!pc) {
        const struct regs *r = (const struct regs *)(current()->kstack_top - sizeof(struct regs));
        depth = (uint32_t)arch_user_frames(r, pcs, 8);
        pc = pcs;
    }
    struct trace_slot cs_slot;
    struct trace_ev_call_site *cs = (struct trace_ev_call_site *)TRACE_RESERVE(TRACE_EV_CALL_SITE, sizeof *cs, &cs_slot,
                                                                               TRACE_CLASS_SIGNAL);
    if (TRACE_RESERVE_MAY_FAIL && !cs)
        return id;
    call_site_fill(cs, id, body[0], current(), pc, depth);
    /* a drained record keeps libc's time, and so does its call_site (as batch_put writes them):
     * stamped now, it came after records drained behind it with older times — the ring's time
     * went back (os-test utrace, now and then under load, when a drain met a segment's end) */
    if (tsc)
        cs->h.tsc = tsc;
    TRACE_COMMIT(&cs_slot);
    return id;
}

/* sys_signal.c's trace_user(type, body, len). */
int64_t utrace_record(uint64_t a0, uint64_t a1, uint64_t a2)
{
    uint64_t body[32];
    uint64_t len = a2;
    const struct user_event *ev = user_event_of(a0, len);
    if (!ev)
        return LANES_E_INVAL;
    if (!user_range_ok(a1, len) || copy_from_user(body, a1, len))
        return LANES_E_FAULT;
    if (!user_tail_ok(ev, (uint8_t *)body, &len))
        return LANES_E_INVAL;
    if (!TRACE_ON(TRACE_CLASS_SIGNAL))
        return 0;
    return (int64_t)user_emit(ev, body, len, 0, NULL, 0);
}

/* ---- the staging page ---- */

#define ENTRY_HDR sizeof(struct lane_utrace_entry)

static struct lane_utrace_page *page_of(struct thread *t)
{
    return (struct lane_utrace_page *)P2V(t->utrace->pages[0]);
}

/* One checked entry copied into the ring at w (room for it and a call_site known), with its
 * call_site after it when the event has one: where the next record goes. The header and the
 * call_site are ours; the body is copied in whole words, its padding cleared and a str tail's
 * length set from len, as user_emit does. ids: this CPU ring's next_id, advanced here. */
static inline __attribute__((always_inline)) uint8_t *
batch_put(uint8_t *w, struct trace_ring *r, const struct user_event *ev, const struct lane_utrace_entry *h, uint32_t len,
          uint64_t tsc, struct thread *t)
{
    uint32_t words = (len + 7) >> 3, size = (uint32_t)sizeof(struct trace_hdr) + words * 8;
    struct trace_hdr *rh = (struct trace_hdr *)w;
    uint64_t id = r->next_id;
    rh->type = ev->type;
    rh->size = (uint16_t)size;
    *(uint32_t *)&rh->cpu = TRACE_PERCPU(id);   /* cpu, and flags = 0 */
    rh->tsc = tsc;
    rh->id = id;
    const uint64_t *body = (const uint64_t *)(h + 1);
    uint64_t *d = (uint64_t *)(rh + 1);
    copy_words(d, body, words);
    if (len & 7)                            /* (the padding is ours, whatever the page had) */
        d[words - 1] &= ~0ULL >> (64 - 8 * (len & 7));
    if (ev->tail) {
        uint16_t tl = (uint16_t)(len - ev->fixed - 2);
        w[sizeof(struct trace_hdr) + ev->fixed] = (uint8_t)tl;
        w[sizeof(struct trace_hdr) + ev->fixed + 1] = (uint8_t)(tl >> 8);
    }
    w += size;
    if (!ev->site) {
        r->next_id = id + 1;
        return w;
    }
    struct trace_ev_call_site *cs = (struct trace_ev_call_site *)w;
    cs->h.type = TRACE_EV_CALL_SITE;
    cs->h.size = sizeof *cs;
    *(uint32_t *)&cs->h.cpu = TRACE_PERCPU(id);
    cs->h.tsc = tsc;                        /* (its record's time: the ring stays in time order) */
    cs->h.id = id + 1;
    r->next_id = id + 2;
    call_site_fill(cs, id & 0x7fffffffffffffffULL, body[0], t, body + words, h->npcs);
    return w + sizeof *cs;
}

/* Drains t's page (t is current(), in the kernel). The common case — the CPU's ring has room
 * in its current segment for everything — is one reservation for the whole drain: interrupts
 * off once, each record written straight at the ring's head with its header, id and (after a
 * sys_begin, cancel_raise or cancel_ack) its call_site, head published once at the end. A
 * record that does not fit there (the segment's end, reclaiming, a pending `lost` record) goes
 * through user_emit and the ordinary reservation, which handle those. */
HOT void utrace_drain(struct thread *t)
{
    struct lane_utrace_page *pg = page_of(t);
    bool on = TRACE_ON(TRACE_CLASS_SIGNAL);
    uint32_t used = __atomic_load_n(&pg->used, __ATOMIC_ACQUIRE);
    if (!used) {                            /* (most drains: a system call after the last one) */
        if (pg->on != on)
            pg->on = on;
        return;
    }
    uint8_t *data = (uint8_t *)(pg + 1);
    uint8_t *p = data + t->utrace_done, *end = data + (used < LANES_UTRACE_DATA ? used : LANES_UTRACE_DATA);
    uint64_t now = tsc_now(), lo = t->utrace_tsc;
    if (now < lo)
        now = lo;
    uint64_t fl;
    __asm__ volatile("pushfq; pop %0; cli" : "=r"(fl) :: "memory");
    /* this CPU's ring and where the fast path may write (kernel/trace.h): head is at base + head */
    struct trace_ring *r = TRACE_PERCPU(trace_ring);
    uint8_t *w = (uint8_t *)(TRACE_PERCPU(trace_fast_base) + r->head);
    uint8_t *wend = (uint8_t *)(TRACE_PERCPU(trace_fast_base) + TRACE_PERCPU(trace_fast_end));
    bool stopped = false;
    while (p + ENTRY_HDR <= end) {
        struct lane_utrace_entry *h = (struct lane_utrace_entry *)p;
        uint16_t type = __atomic_load_n(&h->type, __ATOMIC_ACQUIRE);
        if (type == 0) {                    /* being written (we interrupted its writer) */
            stopped = true;
            break;
        }
        uint32_t len = h->len, npcs = h->npcs;
        uint32_t total = (uint32_t)ENTRY_HDR + (((len + 7) & ~7u) + npcs * 8u);
        if (type == LANES_UTRACE_SKIP || len > 254 || npcs > 8 || total > (uint64_t)(end - p))
            break;                          /* the end, or garbage: drop the rest */
        h->type = 0;                        /* (a later entry written here starts "being written") */
        p += total;
        /* (the drain takes only entries with their str tail: trace_user's absent tail is not one) */
        const struct user_event *ev = on ? user_event_of(type, len) : NULL;
        if (!ev || (ev->tail && len < ev->fixed + 2u))
            continue;
        uint64_t tsc = h->tsc;
        tsc = tsc < lo ? lo : tsc > now ? now : tsc;
        tsc = tsc ? tsc : 1;
        if (__builtin_expect(w + sizeof(struct trace_hdr) + 256 + sizeof(struct trace_ev_call_site) <= wend, 1)) {
            w = batch_put(w, r, ev, h, len, tsc, t);
        } else {                            /* the ordinary way, which makes the room */
            __atomic_store_n(&r->head, (uint64_t)((uintptr_t)w - TRACE_PERCPU(trace_fast_base)), __ATOMIC_RELEASE);
            const uint64_t *body = (const uint64_t *)(h + 1);
            user_emit(ev, body, len, tsc, body + ((len + 7) >> 3), npcs);
            r = TRACE_PERCPU(trace_ring);
            w = (uint8_t *)(TRACE_PERCPU(trace_fast_base) + r->head);
            wend = (uint8_t *)(TRACE_PERCPU(trace_fast_base) + TRACE_PERCPU(trace_fast_end));
        }
    }
    /* everything written goes out at once */
    __atomic_store_n(&r->head, (uint64_t)((uintptr_t)w - TRACE_PERCPU(trace_fast_base)), __ATOMIC_RELEASE);
    if (fl & 0x200)
        sti();
    pg->on = on;
    if (stopped) {
        t->utrace_done = (uint32_t)(p - data);
        return;
    }
    __atomic_store_n(&pg->used, 0, __ATOMIC_RELEASE);
    t->utrace_done = 0;
}

HOT void utrace_to_user(struct thread *t)
{
    t->utrace_tsc = tsc_now();
}

/* The thread is done (thread_exit, as that thread): what it wrote goes out, the page goes. */
void utrace_release(struct thread *t)
{
    if (!t->utrace)
        return;
    utrace_drain(t);
    struct memobj *m = t->utrace;
    t->utrace = NULL;
    kobj_put(&m->obj);
}

SYS(utrace_map)
{
    UNUSED_ARGS;
    struct thread *t = current();
    struct memobj *m = memobj_create(1);       /* (zeroed) */
    if (!m)
        return LANES_E_NOMEM;
    uint64_t addr;
    int64_t r = vm_map(self()->vm, m, 0, 0, PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE, &addr);
    if (r) {
        kobj_put(&m->obj);
        return r;
    }
    utrace_release(t);                      /* (a page from before a fork or exec) */
    t->utrace = m;                          /* our reference: the mapping holds its own */
    t->utrace_done = 0;
    t->utrace_tsc = tsc_now();
    page_of(t)->on = TRACE_ON(TRACE_CLASS_SIGNAL);
    return (int64_t)addr;
}
