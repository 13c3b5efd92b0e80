/* thread.c — threads (sys_thread_create on a mem_map'd stack) and futex mutexes.
 *
 * The mutex is the classic three-state futex lock (0 free, 1 locked, 2 locked with waiters):
 * the uncontended path is one atomic instruction, waiters sleep in sys_futex_wait.
 */
#include <lanes.h>
#include "hot.h"

void __lanes_thread_entry(void);

__attribute__((noreturn, used)) void __lanes_thread_main(lanes_thread_t *t)
{
    t->fn(t->arg);
    lanes_sys_thread_exit();
    for (;;)
        __builtin_trap();
}

LIBC_HOT_DATA volatile uint32_t lanes_threads_started;    /* signal.c: with none, every caller is the main thread */

int64_t lanes_thread_start(lanes_thread_t *t, void (*fn)(void *), void *arg, size_t stack_size)
{
    __atomic_store_n(&lanes_threads_started, 1, __ATOMIC_SEQ_CST);
    if (!stack_size)
        stack_size = 64 * 1024;
    stack_size = (stack_size + 4095) & ~(size_t)4095;
    int64_t a = lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, stack_size, LANES_PROT_READ | LANES_PROT_WRITE);
    if (a < 0)
        return a;
    t->stack = (void *)(uintptr_t)a;
    t->stack_size = stack_size;
    t->fn = fn;
    t->arg = arg;
    int64_t h = lanes_sys_thread_create((const void *)(uintptr_t)__lanes_thread_entry,
                                        (char *)t->stack + stack_size, (uint64_t)(uintptr_t)t);
    if (h < 0) {
        lanes_sys_mem_unmap(t->stack, stack_size);
        t->stack = 0;
        return h;
    }
    t->handle = (int32_t)h;
    return 0;
}

int64_t lanes_thread_join(lanes_thread_t *t, uint64_t timeout_ns)
{
    int64_t r = lanes_sys_thread_wait(t->handle, timeout_ns);
    if (r < 0)
        return r;
    lanes_sys_handle_close(t->handle);
    lanes_sys_mem_unmap(t->stack, t->stack_size);
    t->stack = 0;
    return 0;
}

static uint32_t cas(volatile uint32_t *p, uint32_t expect, uint32_t desired)
{
    __atomic_compare_exchange_n(p, &expect, desired, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    return expect;   /* the value that was there */
}

LIBC_HOT void lanes_mutex_lock(lanes_mutex_t *m)
{
    uint32_t c = cas(&m->state, 0, 1);
    if (c == 0)
        return;
    do {
        if (c == 2 || cas(&m->state, 1, 2) != 0)
            lanes_sys_futex_wait((const void *)&m->state, 2, LANES_TIMEOUT_INFINITE);
    } while ((c = cas(&m->state, 0, 2)) != 0);
}

bool lanes_mutex_trylock(lanes_mutex_t *m)
{
    return cas(&m->state, 0, 1) == 0;
}

LIBC_HOT void lanes_mutex_unlock(lanes_mutex_t *m)
{
    if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
        lanes_sys_futex_wake((const void *)&m->state, 1);
    }
}
