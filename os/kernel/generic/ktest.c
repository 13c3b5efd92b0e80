/*
 * ktest.c — the kernel's self-tests, in a table of named tests (xv6 usertests style).
 *
 * User space runs them one by one through sys_ktest(system, index, &result) and reports each
 * by name. Each test returns NULL on success or a message saying what went wrong. They
 * exercise the real allocators, page tables, address spaces, handle tables, scheduler
 * (kernel threads on other CPUs, cross-CPU wake-ups, interrupts, sleeps), futexes (a word in
 * the calling process, woken by a kernel thread on another CPU), user-copy fixups,
 * the ELF loader's checks and the initrd reader.
 */
#include <kernel/kernel.h>

static char msgbuf[96];
#define FAIL(...) do { snprintf(msgbuf, sizeof msgbuf, __VA_ARGS__); return msgbuf; } while (0)

/* The free count is global: with demand paging a process on another CPU may take or give back
 * a page meanwhile, so a count that is off must be off in each of three tries. */
static const char *t_pmm_once(bool *count_only);
static const char *t_pmm(void)
{
    const char *r = NULL;
    for (int i = 0; i < 3; i++) {
        bool count_only = false;
        if (!(r = t_pmm_once(&count_only)) || !count_only)
            return r;
    }
    return r;
}

static const char *t_pmm_once(bool *count_only)
{
    uint64_t pages[64], before = pmm_free_bytes();
    for (int i = 0; i < 64; i++) {
        pages[i] = pmm_alloc();
        if (!pages[i])
            FAIL("pmm_alloc failed at %d", i);
        uint64_t *p = P2V(pages[i]);
        for (int j = 0; j < 512; j++)
            if (p[j])
                FAIL("page 0x%lx not zeroed", pages[i]);
        p[0] = pages[i];
        for (int k = 0; k < i; k++)
            if (pages[k] == pages[i])
                FAIL("page 0x%lx handed out twice", pages[i]);
    }
    bool off = pmm_free_bytes() != before - 64 * PAGE_SIZE;
    for (int i = 0; i < 64; i++) {
        if (*(uint64_t *)P2V(pages[i]) != pages[i])
            FAIL("page contents overwritten");
        pmm_free(pages[i]);
    }
    *count_only = true;
    if (off)
        FAIL("free count off after allocation");
    if (pmm_free_bytes() != before)
        FAIL("free count not restored");
    *count_only = false;
    uint64_t c = pmm_alloc_contig(16);
    if (!c || (c & (PAGE_SIZE - 1)))
        FAIL("contiguous allocation failed");
    memset(P2V(c), 0xab, 16 * PAGE_SIZE);
    pmm_free_contig(c, 16);
    return NULL;
}

static const char *t_heap(void)
{
    static const size_t sizes[] = { 1, 8, 16, 17, 31, 64, 100, 500, 1000, 2000, 2033, 4096, 10000, 70000 };
    void *p[ARRAY_SIZE(sizes)];
    for (unsigned r = 0; r < 3; r++) {
        for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
            p[i] = kmalloc(sizes[i]);
            if (!p[i])
                FAIL("kmalloc(%lu) failed", sizes[i]);
            if ((uint64_t)p[i] & 15)
                FAIL("kmalloc(%lu) not 16-byte aligned", sizes[i]);
            for (size_t j = 0; j < sizes[i]; j++)
                if (((uint8_t *)p[i])[j])
                    FAIL("kmalloc(%lu) not zeroed", sizes[i]);
            memset(p[i], (int)i + 1, sizes[i]);
        }
        for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
            for (size_t j = 0; j < sizes[i]; j++)
                if (((uint8_t *)p[i])[j] != (uint8_t)(i + 1))
                    FAIL("block of %lu bytes overwritten", sizes[i]);
            kfree(p[i]);
        }
    }
    return NULL;
}

static const char *t_paging(void)
{
    uint64_t pml4 = pml4_create();
    uint64_t pg = pmm_alloc();
    if (!pml4 || !pg)
        FAIL("out of memory");
    uint64_t va = 0x400000;
    if (page_map(pml4, va, pg, PTE_P | PTE_U | PTE_W))
        FAIL("page_map failed");
    if (page_translate(pml4, va + 0x123) != pg + 0x123)
        FAIL("translate gave 0x%lx", page_translate(pml4, va + 0x123));
    if (page_translate(pml4, va + PAGE_SIZE))
        FAIL("neighbouring page mapped");
    for (int i = 256; i < 512; i++)
        if (((uint64_t *)P2V(pml4))[i] != ((uint64_t *)P2V(kernel_pml4))[i])
            FAIL("kernel half not shared (entry %d)", i);
    uint64_t old = page_unmap(pml4, va);
    if ((old & PTE_ADDR) != pg || page_translate(pml4, va))
        FAIL("unmap failed");
    pml4_destroy(pml4);
    pmm_free(pg);
    return NULL;
}

static const char *t_vm_regions(void)
{
    struct vmspace *vm = vm_create();
    struct memobj *mo = memobj_create(4);
    if (!vm || !mo)
        FAIL("out of memory");
    uint64_t a, b;
    const char *err = NULL;
    if (vm_map(vm, mo, 0x10000000, 0, 4 * PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE, &a) || a != 0x10000000)
        err = "map at hint failed";
    else if (vm_map(vm, mo, 0x10001000, 0, PAGE_SIZE, LANES_PROT_READ, &b) != LANES_E_EXISTS)
        err = "overlapping map not refused";
    else if (vm_map(vm, mo, 0, PAGE_SIZE, PAGE_SIZE, LANES_PROT_READ, &b) || b < MMAP_BASE)
        err = "map without hint failed";
    else if (vm_map(vm, mo, 0, 4 * PAGE_SIZE, 4 * PAGE_SIZE, LANES_PROT_READ, &b) != LANES_E_RANGE)
        err = "map past the object's end not refused";
    else if (vm_translate(vm, b, false) != mo->pages[1])
        err = "offset mapping wrong";
    else if (vm_unmap(vm, a + PAGE_SIZE, PAGE_SIZE))
        err = "unmap of the middle failed";
    else if (vm_translate(vm, a + PAGE_SIZE, false) || vm_translate(vm, a, true) != mo->pages[0] ||
             vm_translate(vm, a + 2 * PAGE_SIZE, false) != mo->pages[2])
        err = "split region wrong";
    else if (vm_translate(vm, b, true))
        err = "read-only page writable";
    kobj_put(&mo->obj);
    vm_destroy(vm);
    return err;
}

static const char *t_handles(void)
{
    struct handle_table *t = kmalloc(sizeof *t);
    struct supervisor *s = supervisor_create();
    if (!t || !s)
        FAIL("out of memory");
    htable_init(t);
    const char *err = NULL;
    int64_t h0 = handle_install(t, &s->obj, LANES_RIGHT_WAIT | LANES_RIGHT_DUP);
    struct kobj *o;
    uint32_t rights;
    if (h0 != 0)
        err = "first handle is not 0";
    else if (handle_lookup(t, h0, LANES_OBJ_MEMORY, 0, &o, NULL) != LANES_E_TYPE)
        err = "wrong type not refused";
    else if (handle_lookup(t, h0, LANES_OBJ_SUPERVISOR, LANES_RIGHT_CONTROL, &o, NULL) != LANES_E_ACCESS)
        err = "missing right not refused";
    else if (handle_lookup(t, 7, LANES_OBJ_NONE, 0, &o, NULL) != LANES_E_BADHANDLE ||
             handle_lookup(t, -1, LANES_OBJ_NONE, 0, &o, NULL) != LANES_E_BADHANDLE ||
             handle_lookup(t, LANES_MAX_HANDLES, LANES_OBJ_NONE, 0, &o, NULL) != LANES_E_BADHANDLE)
        err = "bad handle not refused";
    if (!err) {
        if (handle_lookup(t, h0, LANES_OBJ_SUPERVISOR, LANES_RIGHT_WAIT, &o, &rights) || o != &s->obj ||
            rights != (LANES_RIGHT_WAIT | LANES_RIGHT_DUP))
            err = "lookup failed";
        else
            kobj_put(o);
    }
    int n = 1;
    while (!err && handle_install(t, &s->obj, LANES_RIGHT_ALL) >= 0)
        n++;
    if (!err && n != LANES_MAX_HANDLES)
        err = "table did not hold MAX_HANDLES handles";
    if (!err && s->obj.refs != LANES_MAX_HANDLES + 1)
        err = "reference count wrong";
    if (!err && (handle_close(t, 5) || handle_close(t, 5) != LANES_E_BADHANDLE))
        err = "close / double close wrong";
    if (!err && handle_install(t, &s->obj, 0) != 5)
        err = "freed slot not reused";
    htable_close_all(t);
    htable_free(t);
    if (!err && s->obj.refs != 1)
        err = "references leaked";
    kobj_put(&s->obj);
    kfree(t);
    return err;
}

/* ---- scheduler tests with kernel threads ---- */

struct join { struct spinlock lock; struct waitq wq; int done; volatile uint64_t cpus_seen; volatile int counter; };

static void join_init(struct join *j)
{
    spin_init(&j->lock, "ktest join");
    waitq_init(&j->wq);
    j->done = 0;
    j->cpus_seen = 0;
    j->counter = 0;
}

static void join_mark(struct join *j)
{
    spin_lock(&j->lock);
    j->done++;
    wake_all(&j->wq);
    spin_unlock(&j->lock);
}

static bool join_wait(struct join *j, int n, uint64_t timeout_ns)
{
    uint64_t deadline = deadline_from_timeout(timeout_ns);
    spin_lock(&j->lock);
    while (j->done < n) {
        int64_t r = wait_on(&j->wq, &j->lock, deadline);
        if (r == LANES_E_TIMEOUT)
            break;
    }
    bool ok = j->done >= n;
    spin_unlock(&j->lock);
    return ok;
}

static void worker(void *arg)
{
    struct join *j = arg;
    for (int i = 0; i < 1000; i++) {
        __atomic_add_fetch(&j->counter, 1, __ATOMIC_RELAXED);
        __atomic_or_fetch(&j->cpus_seen, 1ULL << this_cpu()->id, __ATOMIC_RELAXED);
        if (i % 100 == 0)
            schedule();
    }
    join_mark(j);
}

static const char *t_sched_threads(void)
{
    struct join j;
    join_init(&j);
    int n = 2 * ncpus + 2;
    for (int i = 0; i < n; i++) {
        struct thread *t = thread_create_kernel(worker, &j, cpus[i % ncpus]);
        if (!t)
            FAIL("thread_create_kernel failed");
        thread_start(t);
    }
    if (!join_wait(&j, n, 5000000000ULL))
        FAIL("only %d of %d threads finished", j.done, n);
    if (j.counter != n * 1000)
        FAIL("counter %d, expected %d", j.counter, n * 1000);
    int seen = 0;
    for (uint32_t i = 0; i < ncpus; i++)
        seen += (j.cpus_seen >> i) & 1;
    if (seen != (int)ncpus)
        FAIL("threads ran on %d of %u CPUs", seen, ncpus);
    return NULL;
}

struct pingpong { struct spinlock lock; struct waitq wq; volatile int state; int64_t result; struct join j; };

static void blocker(void *arg)
{
    struct pingpong *pp = arg;
    spin_lock(&pp->lock);
    pp->state = 1;
    int64_t r = 0;
    while (pp->state == 1) {
        r = wait_on(&pp->wq, &pp->lock, UINT64_MAX);
        if (r)
            break;
    }
    pp->result = r;
    spin_unlock(&pp->lock);
    join_mark(&pp->j);
}

static const char *run_blocker(bool interrupt, int64_t *result)
{
    struct pingpong pp;
    spin_init(&pp.lock, "pingpong");
    waitq_init(&pp.wq);
    pp.state = 0;
    pp.result = 99;
    join_init(&pp.j);
    struct cpu *other = ncpus > 1 ? cpus[(this_cpu()->id + 1) % ncpus] : this_cpu();
    struct thread *t = thread_create_kernel(blocker, &pp, other);
    if (!t)
        FAIL("thread_create_kernel failed");
    kobj_get(&t->obj);
    thread_start(t);
    uint64_t end = clock_ns() + 2000000000ULL;
    while (!(pp.state == 1 && t->state == T_BLOCKED) && clock_ns() < end)
        sleep_ns(100000);
    if (t->state != T_BLOCKED) {
        kobj_put(&t->obj);
        FAIL("thread never blocked");
    }
    if (interrupt) {
        thread_interrupt(t);
    } else {
        spin_lock(&pp.lock);
        pp.state = 2;
        wake_all(&pp.wq);
        spin_unlock(&pp.lock);
    }
    bool ok = join_wait(&pp.j, 1, 2000000000ULL);
    kobj_put(&t->obj);
    if (!ok)
        FAIL("blocked thread not woken across CPUs");
    *result = pp.result;
    return NULL;
}

static const char *t_cross_cpu_wake(void)
{
    int64_t r;
    const char *e = run_blocker(false, &r);
    if (e)
        return e;
    if (r != 0)
        FAIL("wait returned %ld", r);
    return NULL;
}

static const char *t_interrupt(void)
{
    int64_t r;
    const char *e = run_blocker(true, &r);
    if (e)
        return e;
    if (r != LANES_E_INTERRUPTED)
        FAIL("wait returned %ld instead of INTERRUPTED", r);
    return NULL;
}

static const char *t_sleep(void)
{
    uint64_t t0 = clock_ns();
    int64_t r = sleep_ns(5000000);
    uint64_t dt = clock_ns() - t0;
    if (r)
        FAIL("sleep returned %ld", r);
    if (dt < 5000000)
        FAIL("slept only %lu ns", dt);
    struct spinlock l = SPINLOCK_INIT("ktest");
    struct waitq q;
    waitq_init(&q);
    spin_lock(&l);
    t0 = clock_ns();
    r = wait_on(&q, &l, deadline_from_timeout(2000000));
    spin_unlock(&l);
    if (r != LANES_E_TIMEOUT || clock_ns() - t0 < 2000000)
        FAIL("timed wait returned %ld after %lu ns", r, clock_ns() - t0);
    return NULL;
}

static volatile uint64_t clock_samples[MAX_CPUS];
static void clock_sampler(void *arg)
{
    struct join *j = arg;
    clock_samples[this_cpu()->id] = clock_ns();
    join_mark(j);
}

static const char *t_clock(void)
{
    uint64_t a = clock_ns();
    for (int i = 0; i < 1000; i++) {
        uint64_t b = clock_ns();
        if (b < a)
            FAIL("clock went backwards");
        a = b;
    }
    struct join j;
    join_init(&j);
    uint64_t before = clock_ns();
    for (uint32_t i = 0; i < ncpus; i++) {
        struct thread *t = thread_create_kernel(clock_sampler, &j, cpus[i]);
        if (!t)
            FAIL("thread_create_kernel failed");
        thread_start(t);
    }
    if (!join_wait(&j, ncpus, 2000000000ULL))
        FAIL("samplers did not finish");
    uint64_t after = clock_ns();
    for (uint32_t i = 0; i < ncpus; i++)
        if (clock_samples[i] < before || clock_samples[i] > after)
            FAIL("cpu%u clock out of order", i);
    return NULL;
}

static const char *t_usercopy(void)
{
    char buf[16];
    if (copy_from_user(buf, KERNEL_VMA, 8) != LANES_E_FAULT)
        FAIL("kernel address accepted");
    if (copy_from_user(buf, USER_TOP - 4, 8) != LANES_E_FAULT)
        FAIL("range crossing USER_TOP accepted");
    if (copy_from_user(buf, 0xfffffffffffffff0ULL, 32) != LANES_E_FAULT)
        FAIL("wrapping range accepted");
    if (copy_from_user(buf, 0x10, 8) != LANES_E_FAULT)
        FAIL("unmapped page 0 readable");
    if (copy_to_user(0x7ffe00000000ULL, buf, 8) != LANES_E_FAULT)
        FAIL("unmapped page writable");
    if (strncpy_from_user(buf, 0x20, sizeof buf) != LANES_E_FAULT)
        FAIL("string from unmapped page accepted");
    return NULL;
}

static const char *t_elf(void)
{
    struct vmspace *vm = vm_create();
    if (!vm)
        FAIL("out of memory");
    uint8_t img[256];
    struct elf_image ei;
    const char *err = NULL;
    memset(img, 0, sizeof img);
    if (elf_load(vm, img, sizeof img, &ei) != LANES_E_BADELF)
        err = "zeros accepted";
    memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
    *(uint16_t *)(img + 16) = 2;
    *(uint16_t *)(img + 18) = 62;
    *(uint64_t *)(img + 24) = 0x400000;        /* entry */
    *(uint64_t *)(img + 32) = 64;              /* phoff */
    *(uint16_t *)(img + 54) = 56;
    *(uint16_t *)(img + 56) = 1;
    uint32_t *ph = (uint32_t *)(img + 64);
    ph[0] = 1;
    ph[1] = 5;
    *(uint64_t *)(img + 64 + 8) = 0;           /* offset */
    *(uint64_t *)(img + 64 + 16) = 0x400000;   /* vaddr */
    *(uint64_t *)(img + 64 + 32) = 4096;       /* filesz > image */
    *(uint64_t *)(img + 64 + 40) = 4096;
    if (!err && elf_load(vm, img, sizeof img, &ei) != LANES_E_BADELF)
        err = "segment past the image accepted";
    *(uint64_t *)(img + 64 + 32) = 120;
    *(uint64_t *)(img + 64 + 16) = USER_TOP - 100;
    if (!err && elf_load(vm, img, sizeof img, &ei) != LANES_E_BADELF)
        err = "segment in kernel space accepted";
    *(uint64_t *)(img + 64 + 16) = 0x400000;
    *(uint16_t *)(img + 56) = 5000;
    if (!err && elf_load(vm, img, sizeof img, &ei) != LANES_E_BADELF)
        err = "program headers past the image accepted";
    *(uint16_t *)(img + 56) = 1;
    if (!err && (elf_load(vm, img, sizeof img, &ei) || ei.entry != 0x400000))
        err = "valid minimal image refused";
    if (!err && vm_translate(vm, 0x400000, false) == 0)
        err = "segment not mapped";
    if (!err && vm_translate(vm, 0x400000, true) != 0)
        err = "read-only segment writable";
    vm_destroy(vm);
    return err;
}

static const char *t_initrd(void)
{
    static uint8_t tar[512 * 4];
    memset(tar, 0, sizeof tar);
    strlcpy((char *)tar, "./bin/hello", 100);
    memcpy(tar + 124, "00000000005", 11);
    tar[156] = '0';
    memcpy(tar + 257, "ustar", 6);
    memcpy(tar + 512, "hello", 5);
    const uint8_t *d;
    uint64_t n;
    if (initrd_find(tar, sizeof tar, "bin/hello", &d, &n) || n != 5 || memcmp(d, "hello", 5))
        FAIL("bin/hello not found");
    if (initrd_find(tar, sizeof tar, "bin/init", &d, &n) != LANES_E_NOENT)
        FAIL("missing file found");
    memcpy(tar + 124, "77777777777", 11);
    if (initrd_find(tar, sizeof tar, "bin/hello", &d, &n) != LANES_E_NOENT)
        FAIL("oversized entry accepted");
    return NULL;
}

/* Free memory is global: with demand paging another CPU's process may take or give back a page
 * meanwhile, so a difference counts only if it is there in each of three tries. */
static const char *t_memobj_once(void);
static const char *t_memobj(void)
{
    const char *r = NULL;
    for (int i = 0; i < 3; i++)
        if (!(r = t_memobj_once()))
            return NULL;
    return r;
}

static const char *t_memobj_once(void)
{
    uint64_t before = pmm_free_bytes();
    struct memobj *m = memobj_create(8);
    if (!m)
        FAIL("memobj_create failed");
    struct vmspace *vm = vm_create();
    uint64_t a;
    if (!vm || vm_map(vm, m, 0, 0, 8 * PAGE_SIZE, LANES_PROT_READ, &a))
        FAIL("map failed");
    kobj_put(&m->obj);          /* the mapping keeps it alive */
    if (vm_translate(vm, a + 7 * PAGE_SIZE, false) == 0)
        FAIL("object freed while mapped");
    vm_unmap(vm, a, 8 * PAGE_SIZE);
    vm_destroy(vm);
    if (pmm_free_bytes() != before)
        FAIL("leaked %ld bytes", (int64_t)(before - pmm_free_bytes()));
    return NULL;
}

struct futex_waker { uint64_t key; volatile int64_t woken; struct join j; };

static void futex_waker_fn(void *arg)
{
    struct futex_waker *fw = arg;
    sleep_ns(5000000);
    fw->woken = futex_wake_key(fw->key, 1);
    join_mark(&fw->j);
}

/* A word in the calling process's memory; a kernel thread on another CPU wakes us by its key. */
static const char *t_futex(void)
{
    struct vmspace *vm = current()->proc->vm;
    struct memobj *m = memobj_create(1);
    uint64_t ua;
    if (!vm || !m)
        FAIL("no user address space or memory");
    if (vm_map(vm, m, 0, 0, PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE, &ua)) {
        kobj_put(&m->obj);
        FAIL("map failed");
    }
    const char *err = NULL;
    uint32_t *word = (uint32_t *)((uint8_t *)P2V(m->pages[0]) + 64);
    *word = 7;
    if (futex_wait(ua + 64, 8, 1000000) != LANES_E_AGAIN)
        err = "mismatched value did not give AGAIN";
    else if (futex_wait(ua + 66, 7, 1000000) != LANES_E_INVAL)
        err = "unaligned word accepted";
    else if (futex_wait(ua + 64, 7, 2000000) != LANES_E_TIMEOUT)
        err = "timed wait did not time out";
    else if (futex_wake(ua + 64, 1) != 0)
        err = "wake without waiters woke someone";
    if (!err) {
        static struct futex_waker fw;
        fw.key = m->pages[0] + 64;
        fw.woken = -1;
        join_init(&fw.j);
        struct thread *t = thread_create_kernel(futex_waker_fn, &fw,
                                                ncpus > 1 ? cpus[(this_cpu()->id + 1) % ncpus] : this_cpu());
        if (!t) {
            err = "thread_create_kernel failed";
        } else {
            thread_start(t);
            int64_t r = futex_wait(ua + 64, 7, 3000000000ULL);
            join_wait(&fw.j, 1, 3000000000ULL);
            if (r != 0 || fw.woken != 1) {
                snprintf(msgbuf, sizeof msgbuf, "futex_wait returned %ld, waker woke %ld", r, fw.woken);
                err = msgbuf;
            }
        }
    }
    vm_unmap(vm, ua, PAGE_SIZE);
    kobj_put(&m->obj);
    return err;
}

struct tlb_reader { struct vmspace *vm; uint64_t ua; volatile int go, stop, faulted; volatile uint64_t reads; struct join j; };

/* On another CPU: keep the caller's address space loaded and read the page until it faults. */
static void tlb_reader_fn(void *arg)
{
    struct tlb_reader *tr = arg;
    uint64_t end = clock_ns() + 3000000000ULL;
    while (!tr->stop && clock_ns() < end) {
        uint32_t v;
        pushcli();
        vm_activate(tr->vm);
        int r = user_copy(&v, (const void *)tr->ua, 4);
        popcli();           /* a shootdown IPI can arrive here */
        if (r) {
            tr->faulted = 1;
            break;
        }
        tr->reads++;
        tr->go = 1;
    }
    pushcli();
    vm_activate(NULL);
    popcli();
    join_mark(&tr->j);
}

static const char *t_tlb_shootdown(void)
{
    if (ncpus < 2) {
        snprintf(msgbuf, sizeof msgbuf, "1 CPU: local flush only");
        return NULL;
    }
    struct vmspace *vm = current()->proc->vm;
    struct memobj *m = memobj_create(1);
    if (!vm || !m)
        FAIL("no user address space or memory");
    static struct tlb_reader tr;
    memset(&tr, 0, sizeof tr);
    join_init(&tr.j);
    tr.vm = vm;
    if (vm_map(vm, m, 0, 0, PAGE_SIZE, LANES_PROT_READ, &tr.ua)) {
        kobj_put(&m->obj);
        FAIL("map failed");
    }
    kobj_put(&m->obj);
    struct thread *t = thread_create_kernel(tlb_reader_fn, &tr, cpus[(this_cpu()->id + 1) % ncpus]);
    if (!t)
        FAIL("thread_create_kernel failed");
    thread_start(t);
    uint64_t end = clock_ns() + 2000000000ULL;
    while (!tr.go && clock_ns() < end)
        sleep_ns(100000);
    if (!tr.go) {
        tr.stop = 1;
        join_wait(&tr.j, 1, 4000000000ULL);
        FAIL("reader never read the page");
    }
    vm_unmap(vm, tr.ua, PAGE_SIZE);
    bool done = join_wait(&tr.j, 1, 4000000000ULL);
    if (!done || !tr.faulted)
        FAIL("other CPU still read the page after unmap (%lu reads)", (uint64_t)tr.reads);
    return NULL;
}

/* SMAP enforces what usercopy.c promises: a read of a mapped user page without the helpers'
 * stac faults (and is caught here by the probe's fixup; anywhere else it panics naming SMAP),
 * while the helpers reach the same page. */
static const char *t_smap_smep(void)
{
    if (!cpu_smap) {
        snprintf(msgbuf, sizeof msgbuf, "this CPU has no SMAP (SMEP %s): not tested",
                 cpu_smep ? "on" : "not available");
        return NULL;
    }
    struct vmspace *vm = current()->proc->vm;
    struct memobj *m = memobj_create(1);
    uint64_t ua;
    if (!vm || !m)
        FAIL("no user address space or memory");
    if (vm_map(vm, m, 0, 0, PAGE_SIZE, LANES_PROT_READ | LANES_PROT_WRITE, &ua)) {
        kobj_put(&m->obj);
        FAIL("map failed");
    }
    kobj_put(&m->obj);
    uint32_t v = 0x5a5a1234, got = 0, probe = 0;
    bool wrote = copy_to_user(ua, &v, sizeof v) == 0;
    bool read = copy_from_user(&got, ua, sizeof got) == 0 && got == v;
    int nostac = smap_probe_nostac(&probe, ua);
    /* smap.crash on the command line (tests only, os-test "smap panic"): then a plain read of
     * the page, as a careless kernel path would make, with no fixup: the panic must name SMAP. */
    if (cmdline_flag("smap.crash"))
        probe = *(volatile uint32_t *)(uintptr_t)ua;
    vm_unmap(vm, ua, PAGE_SIZE);
    if (!wrote || !read)
        FAIL("the copy helpers could not reach a mapped user page");
    if (nostac == 0)
        FAIL("a kernel read of user memory without stac did not fault (read 0x%x): SMAP not enforced", probe);
    snprintf(msgbuf, sizeof msgbuf, "SMAP on: a kernel read without stac faulted, the helpers work; SMEP %s",
             cpu_smep ? "on" : "not available");
    return NULL;
}

static const struct { const char *name; const char *(*fn)(void); } tests[] = {
    { "pmm_alloc_free", t_pmm },
    { "heap_kmalloc_kfree", t_heap },
    { "paging_map_unmap", t_paging },
    { "vm_regions_split", t_vm_regions },
    { "memobj_refcount", t_memobj },
    { "tlb_shootdown_smp", t_tlb_shootdown },
    { "handle_table_rights", t_handles },
    { "sched_threads_all_cpus", t_sched_threads },
    { "sched_cross_cpu_wake", t_cross_cpu_wake },
    { "sched_interrupt_wait", t_interrupt },
    { "timer_sleep_timeout", t_sleep },
    { "futex_wait_wake", t_futex },
    { "clock_monotonic_smp", t_clock },
    { "usercopy_bad_pointers", t_usercopy },
    { "elf_loader_checks", t_elf },
    { "initrd_ustar", t_initrd },
    { "smap_smep", t_smap_smep },
};

int ktest_count(void)
{
    return ARRAY_SIZE(tests);
}

int ktest_run(uint32_t index, struct lane_ktest_result *res)
{
    static struct spinlock ktest_lock = SPINLOCK_INIT("ktest");
    (void)ktest_lock;
    strlcpy(res->name, tests[index].name, sizeof res->name);
    msgbuf[0] = 0;
    const char *err = tests[index].fn();
    res->passed = err == NULL;
    strlcpy(res->message, err ? err : msgbuf[0] ? msgbuf : "ok", sizeof res->message);
    klog(err ? LOG_WARN : LOG_DEBUG, "ktest %s: %s", tests[index].name, res->message);
    msgbuf[0] = 0;
    return res->passed;
}
