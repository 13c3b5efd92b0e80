/*
 * utrace.c — the sys_begin/sys_end records around every POSIX call, written without a system
 * call: into the calling thread's staging page (struct lane_utrace_page, utrace_map), which the
 * kernel drains into the trace rings first thing the next time the thread enters the kernel
 * (os/kernel/generic/utrace.c has the protocol). The records, their fields and the
 * call_site after each sys_begin are the ones trace_user writes; only the way in is cheaper —
 * a POSIX call that needs no system call of its own (a pipe read that finds bytes) costs no
 * system call for its trace either.
 *
 * A thread maps its page at its first record (a forked child's thread, with a tid of its own,
 * maps a new one). Without a page (no memory; more than SLOTS threads), or when the page is full, the record
 * goes through trace_user as before — which drains the page first, so the records stay in
 * order.
 *
 * The frames for call_site are our own frame-pointer walk (user code is built with frame
 * pointers, crt0 starts each thread with rbp = 0): it only goes up the stack, at most 1 MiB a
 * frame, 8 frames.
 */
#include <lanes.h>
#include <lanes/abi/trace.h>
#include <lanes/sigtrace.h>
#include <string.h>
#include "hot.h"

#define SLOTS 16        /* threads with a page; more use trace_user */
#define FAILED ((struct lane_utrace_page *)(uintptr_t)1)

LIBC_HOT_DATA static struct {
    uint32_t tid;
    struct lane_utrace_page *pg;
} ut[SLOTS];
extern volatile uint32_t lanes_threads_started;    /* thread.c */

/* Our thread's page (NULL or FAILED: none to be had), mapped at its first record. (Mapping it
 * only from the 16th, to spare short-lived processes, made fork+exec+wait slower: their records
 * then cost a system call each.) */
static __attribute__((noinline)) struct lane_utrace_page *page_for_slow(uint32_t tid);

static inline __attribute__((always_inline)) struct lane_utrace_page *page_for(uint32_t tid)
{
    /* (the common case: the only thread, or the first, with its page) */
    struct lane_utrace_page *pg = ut[0].pg;
    if (__builtin_expect(ut[0].tid == tid && tid && pg, 1))
        return pg;
    return page_for_slow(tid);
}

static __attribute__((noinline)) struct lane_utrace_page *page_for_slow(uint32_t tid)
{
    int slot = -1;
    if (ut[0].tid == tid && tid) {
        slot = 0;
    } else if (!tid) {
        return NULL;
    } else if (!__atomic_load_n(&lanes_threads_started, __ATOMIC_RELAXED)) {
        slot = 0;                       /* the only thread (the main one, or a forked child's) */
        ut[0].pg = NULL;
        ut[0].tid = tid;
    } else {
        for (int i = 1; i < SLOTS && slot < 0; i++)
            if (__atomic_load_n(&ut[i].tid, __ATOMIC_ACQUIRE) == tid)
                slot = i;
        for (int i = 1; i < SLOTS && slot < 0; i++) {
            uint32_t z = 0;
            if (__atomic_compare_exchange_n(&ut[i].tid, &z, UINT32_MAX, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                slot = i;
                ut[i].pg = NULL;
                __atomic_store_n(&ut[i].tid, tid, __ATOMIC_RELEASE);
            }
        }
        if (slot < 0)
            return NULL;
    }
    if (ut[slot].pg)
        return ut[slot].pg;
    int64_t a = lanes_sys_utrace_map();
    ut[slot].pg = a > 0 ? (struct lane_utrace_page *)(uintptr_t)a : FAILED;
    return ut[slot].pg;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Our page when it takes records now: NULL with *off set when the class is off (nothing to
 * record), NULL with *off clear when the caller must use trace_user (no page). */
static inline __attribute__((always_inline)) struct lane_utrace_page *page_on(uint32_t tid, bool *off)
{
    struct lane_utrace_page *pg = page_for(tid);
    *off = false;
    if (!pg || pg == FAILED)
        return NULL;
    if (!__atomic_load_n(&pg->on, __ATOMIC_RELAXED)) {
        *off = true;
        return NULL;
    }
    return pg;
}

/* Room for one record of need bytes in pg, its header's type 0 ("being written"): the entry,
 * or NULL when there is none (the caller uses trace_user, which drains the page first). */
static struct lane_utrace_entry *reserve(struct lane_utrace_page *pg, uint32_t need)
{
    uint8_t *data = (uint8_t *)(pg + 1);
    uint32_t at = __atomic_load_n(&pg->used, __ATOMIC_RELAXED);
    /* The type first, then the claim in one compare-and-swap: an interrupt (and the kernel's
     * drain at its entry) or a signal handler's own records in between change `used`, and we
     * try again; once claimed, the drain sees type 0 and leaves the entry for later. */
    for (;;) {
        if (at + need > LANES_UTRACE_DATA)
            return NULL;
        struct lane_utrace_entry *e = (struct lane_utrace_entry *)(data + at);
        __atomic_store_n(&e->type, 0, __ATOMIC_RELAXED);
        if (__atomic_compare_exchange_n(&pg->used, &at, at + need, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return e;
    }
}

static inline void commit(struct lane_utrace_entry *e, uint16_t type)
{
    __atomic_store_n(&e->type, type, __ATOMIC_RELEASE);     /* complete: the kernel may take it */
}

/* Our callers' return addresses, innermost first: from fp (a frame of ours) up. One test covers
 * "the next frame is above this one and at most 1 MiB up" (unsigned: next <= fp wraps). */
static inline __attribute__((always_inline)) uint32_t frames(const uint64_t *fp, uint64_t *pcs)
{
    uint64_t *p = pcs, *end = pcs + 8;
    for (;;) {
        uint64_t ret = fp[1];
        if (!ret)
            break;
        *p++ = ret;
        uintptr_t next = (uintptr_t)fp[0];
        if (p == end || next - (uintptr_t)fp - 1 >= (1u << 20) || (next & 7))
            break;
        fp = (const uint64_t *)next;
    }
    return (uint32_t)(p - pcs);
}

LIBC_HOT uint64_t lanes_utrace_sys_begin(uint64_t call, uint32_t pid, uint32_t tid, uint32_t nr, int32_t fd, uint64_t arg,
                                const char *name)
{
    bool off;
    struct lane_utrace_page *pg = page_on(tid, &off);
    if (off)
        return 0;
    if (!pg)
        return lanes_trace_sys_begin(call, pid, tid, nr, fd, arg, name);
    size_t n = name ? strlen(name) : 0;
    if (n > TRACE_SYS_BEGIN_NAME_MAX)
        n = TRACE_SYS_BEGIN_NAME_MAX;
    uint64_t pcs[8];
    uint32_t depth = frames((const uint64_t *)__builtin_frame_address(0), pcs);
    size_t fixed = sizeof(struct trace_ev_sys_begin) - sizeof(struct trace_hdr), len = fixed + 2 + n;
    uint32_t blen = ((uint32_t)len + 7) & ~7u;
    struct lane_utrace_entry *e = reserve(pg, (uint32_t)sizeof *e + blen + depth * 8);
    if (!e)
        return lanes_trace_sys_begin(call, pid, tid, nr, fd, arg, name);
    /* the fields after the header, in place (the record is struct trace_ev_sys_begin less its
     * header, then the name's u16 length and bytes) */
    uint8_t *b = (uint8_t *)(e + 1);
    struct trace_ev_sys_begin *r = (struct trace_ev_sys_begin *)(b - sizeof(struct trace_hdr));
    r->call = call;
    r->pid = pid;
    r->tid = tid;
    r->nr = nr;
    r->fd = fd;
    r->arg = arg;
    b[fixed] = (uint8_t)n;
    b[fixed + 1] = 0;
    memcpy(b + fixed + 2, name, n);
    memcpy(b + blen, pcs, depth * 8);
    e->len = (uint16_t)len;
    e->npcs = (uint8_t)depth;
    e->tsc = rdtsc();
    commit(e, TRACE_EV_SYS_BEGIN);
    return 0;
}

LIBC_HOT uint64_t lanes_utrace_sys_end(uint64_t call, uint32_t pid, uint32_t tid, int64_t result, int outcome, int signo,
                              uint64_t requested, uint64_t done)
{
    size_t len = sizeof(struct trace_ev_sys_end) - sizeof(struct trace_hdr);
    bool off;
    struct lane_utrace_page *pg = page_on(tid, &off);
    if (off)
        return 0;
    struct lane_utrace_entry *e = pg ? reserve(pg, (uint32_t)(sizeof *e + ((len + 7) & ~7u))) : NULL;
    if (!e)
        return lanes_trace_sys_end(call, pid, tid, result, outcome, signo, requested, done);
    struct trace_ev_sys_end *r = (struct trace_ev_sys_end *)((uint8_t *)(e + 1) - sizeof(struct trace_hdr));
    r->call = call;
    r->pid = pid;
    r->tid = tid;
    r->result = result;
    r->outcome = (uint8_t)outcome;
    r->signo = (uint8_t)signo;
    r->reserved0 = 0;
    r->reserved1 = 0;
    r->requested = requested;
    r->done = done;
    e->len = (uint16_t)len;
    e->npcs = 0;
    e->tsc = rdtsc();
    commit(e, TRACE_EV_SYS_END);
    return 0;
}

/* Any other class-signal record (cancelfast: posix's sig_generate / sig_flag / cancel_raise, libc's
 * sig_handler...): body and len exactly as trace_user takes them; with_frames adds our callers'
 * frames for the call_site the kernel writes after a cancel_raise or cancel_ack. tid 0: ours. */
uint64_t lanes_utrace_record(uint32_t tid, uint32_t type, const void *body, size_t len, bool with_frames)
{
    if (!tid)
        tid = lanes_startup && !__atomic_load_n(&lanes_threads_started, __ATOMIC_RELAXED)
                  ? lanes_startup->tid
                  : (uint32_t)lanes_sys_thread_self();
    bool off;
    struct lane_utrace_page *pg = page_on(tid, &off);
    if (off)
        return 0;
    uint64_t pcs[8];
    uint32_t depth = with_frames ? frames((const uint64_t *)__builtin_frame_address(0), pcs) : 0;
    uint32_t blen = ((uint32_t)len + 7) & ~7u;
    struct lane_utrace_entry *e = pg && len <= 256 ? reserve(pg, (uint32_t)sizeof *e + blen + depth * 8) : NULL;
    if (!e) {
        int64_t r = lanes_sys_trace_user(type, body, len);
        return r > 0 ? (uint64_t)r : 0;
    }
    uint8_t *b = (uint8_t *)(e + 1);
    memcpy(b, body, len);
    memcpy(b + blen, pcs, depth * 8);
    e->len = (uint16_t)len;
    e->npcs = (uint8_t)depth;
    e->tsc = rdtsc();
    commit(e, (uint16_t)type);
    return 0;
}
