/*
 * thread.c — creating, ending and reaping threads.
 *
 * A thread has a 16 KiB kernel stack. A new user thread's stack holds a trap frame (rip =
 * entry, rsp = user stack, rdi/rsi = arguments, ring 3 selectors, IF set) and beneath it a
 * switch_context frame returning into thread_entry_trampoline, which finishes the switch and
 * irets to user mode. Kernel threads (self-tests) run fn(arg) and exit.
 * thread_exit() unlinks the thread from its process (the last one finishes the process),
 * wakes thread_wait()ers and switches away for good; the next thread on that CPU reaps it:
 * frees the stack and, for a process's last thread, its address space.
 */
#include <kernel/kernel.h>
#include <kernel/trace.h>

static volatile uint32_t next_tid = 1;
extern const uint8_t *fpu_initial_state;

static void thread_destroy(struct kobj *o)
{
    struct thread *t = container_of(o, struct thread, obj);
    kobj_put(&t->proc->obj);
    kfree(t);
}

static struct thread *thread_alloc(struct process *p, struct cpu *cpu)
{
    struct thread *t = kmalloc(sizeof *t);
    if (!t)
        return NULL;
    uint64_t stack = pmm_alloc_contig(KSTACK_SIZE / PAGE_SIZE);
    if (!stack) {
        kfree(t);
        return NULL;
    }
    kobj_init(&t->obj, LANES_OBJ_THREAD, thread_destroy);
    t->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
    t->proc = p;
    kobj_get(&p->obj);
    /* Affinity: pinned to cpu if given, else the creating user thread's (Linux: inherited by
     * new threads and processes), else every CPU; placed on the least loaded allowed CPU. */
    struct thread *me = this_cpu()->current;
    t->affinity = cpu ? 1ull << cpu->id : me && !me->is_idle && !me->is_kernel ? me->affinity : ~0ull;
    t->cpu = cpu ? cpu : sched_pick_cpu(t->affinity);
    list_init(&t->cpu_link);
    t->state = T_STOPPED;
    t->kstack = P2V(stack);
    t->kstack_top = (uint64_t)t->kstack + KSTACK_SIZE;
    t->is_kernel = p == kernel_process;
    t->utrace = NULL;
    memset(t->fkc, 0, sizeof t->fkc);
    t->fkc_next = 0;
    memcpy(t->fpu, fpu_initial_state, sizeof t->fpu);
    waitq_init(&t->exitq);
    list_init(&t->proc_link);
    list_init(&t->all_link);
    return t;
}

/* Lay out the initial stacks: trap frame on top, switch frame below it. */
static void thread_setup_stack(struct thread *t, struct regs *frame, uint64_t fn, uint64_t arg)
{
    struct regs *r = (struct regs *)(t->kstack_top - sizeof(struct regs));
    *r = *frame;
    uint64_t *sp = (uint64_t *)r;
    *--sp = (uint64_t)thread_entry_trampoline;
    *--sp = 0;          /* rbp */
    *--sp = 0;          /* rbx */
    *--sp = fn;         /* r12 */
    *--sp = arg;        /* r13 */
    *--sp = 0;          /* r14 */
    *--sp = 0;          /* r15 */
    t->rsp = (uint64_t)sp;
}

static bool attach(struct process *p, struct thread *t)
{
    spin_lock(&p->lock);
    if (p->state != LANES_PROC_STATE_RUNNING && p != kernel_process) {
        spin_unlock(&p->lock);
        return false;
    }
    list_add_tail(&p->threads, &t->proc_link);
    p->nthreads++;
    spin_unlock(&p->lock);
    spin_lock(&sched_all_lock);
    list_add_tail(&all_threads, &t->all_link);
    spin_unlock(&sched_all_lock);
    return true;
}

struct thread *thread_create_kernel(void (*fn)(void *), void *arg, struct cpu *cpu)
{
    struct thread *t = thread_alloc(kernel_process, cpu);
    if (!t)
        return NULL;
    struct regs r = { 0 };
    thread_setup_stack(t, &r, (uint64_t)fn, (uint64_t)arg);
    attach(kernel_process, t);
    return t;
}

struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t stack, uint64_t arg,
                                  uint64_t arg2, struct cpu *cpu)
{
    struct thread *t = thread_alloc(p, cpu);
    if (!t)
        return NULL;
    struct regs r = { 0 };
    r.rip = entry;
    r.cs = SEL_UCODE;
    r.ss = SEL_UDATA;
    r.rflags = 0x202;
    r.rsp = stack;
    r.rdi = arg;
    r.rsi = arg2;
    r.vector = VEC_SYSCALL;
    thread_setup_stack(t, &r, 0, 0);
    if (!attach(p, t)) {
        pmm_free_contig(V2P(t->kstack), KSTACK_SIZE / PAGE_SIZE);
        t->kstack = NULL;
        kobj_put(&t->obj);
        return NULL;
    }
    return t;
}

/*
 * The creator's reference becomes the scheduler's, dropped by thread_reap: take your own
 * reference before this if you still need t afterwards (it may run and end at once).
 */
void thread_start(struct thread *t)
{
    trace_emit_thread_create(t->tid, t->proc->pid, t->cpu->id, t->is_kernel, t->proc->name);
    t->mig = (struct migration){ .reason = TRACE_MIGRATE_REASON_PLACEMENT,
                                 .load_to = __atomic_load_n(&sched_cpu[t->cpu->id].load, __ATOMIC_RELAXED) };
    sched_emit_migrate(t, this_cpu(), t->cpu);
    balance_thread_added(t);    /* before it can run (and end) */
    sched_enqueue(t);
}

__attribute__((noreturn)) void thread_exit(void)
{
    struct thread *t = current();
    utrace_release(t);                  /* (records it wrote in user space come first) */
    trace_emit_thread_exit(t->tid, t->proc->pid);
    struct process *p = t->proc;
    spin_lock(&p->lock);
    t->exited = true;
    wake_all(&t->exitq);
    list_del(&t->proc_link);
    bool last = --p->nthreads == 0;
    spin_unlock(&p->lock);
    t->last_of_proc = last && p != kernel_process;
    if (t->last_of_proc)
        process_thread_gone(t);
    spin_lock(&sched_all_lock);
    list_del(&t->all_link);
    spin_unlock(&sched_all_lock);
    timer_remove(t);
    pushcli();          /* this_cpu() only with interrupts off: a preemption could move us */
    struct cpu *c = this_cpu();
    spin_lock(&c->rq_lock);
    t->state = T_DEAD;
    extern void sched_switch_away_locked(void);
    sched_switch_away_locked();
    panic("thread_exit: dead thread %u resumed", t->tid);
}

void thread_reap(struct thread *t)
{
    if (!t->kstack)
        panic("thread_reap: thread %u (pid %u) reaped twice", t->tid, t->proc->pid);
    pmm_free_contig(V2P(t->kstack), KSTACK_SIZE / PAGE_SIZE);
    t->kstack = NULL;
    balance_thread_gone(t);
    if (t->last_of_proc && t->proc->vm) {
        /* An IPC copy on another CPU may still be walking these page tables (a large copy runs
         * outside ipc_lock on items ipc_process_gone leaves alone): the address space goes
         * with the last reference, the threads' or a copy's (vm_put, xcopy.c). */
        struct process *p = t->proc;
        p->vm_final = p->vm;
        __atomic_store_n(&p->vm, NULL, __ATOMIC_SEQ_CST);
        vm_put(p);
    }
    kobj_put(&t->obj);
}
