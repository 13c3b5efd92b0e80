/* fault-wild — passes wild pointers to every system call that takes one.
 *
 * Each pointer argument gets, in turn: the null page, an unmapped low address, a kernel
 * (upper-half) address, the kernel text, a non-canonical address, a range crossing USER_TOP,
 * and the top of the address space; length arguments get absurd sizes. Every call must fail
 * with an error (FAULT, INVAL, ...), never succeed, never panic the kernel, never kill us.
 * Unknown syscall numbers must give NOSYS. Prints each violation; exits with their count.
 *
 * Some arguments are addresses the kernel never dereferences (a mapping hint, an unmap range,
 * a futex_wake key, the FS base): for those only addresses outside user space must fail.
 */
#include <lanes.h>
#include <stdio.h>
#include <string.h>

static int checks, violations;

static void expect_error(const char *what, uint64_t wild, int64_t r)
{
    checks++;
    if (r >= 0) {
        violations++;
        printf("fault-wild: %s with %#llx returned %lld instead of an error\n", what, (unsigned long long)wild,
               (long long)r);
    }
}

static const uint64_t user_bad[] = { 0x0, 0x10, 0x1000 };                 /* unmapped user memory */
static const uint64_t never_user[] = {
    0xffff800000000000ull, 0xffffffff80000000ull, 0xffffffff80100000ull,   /* kernel half */
    0x0000800000000000ull, 0x8000000000000000ull, 0xdeadbeefdeadbeefull,   /* non-canonical */
    0x00007ffffffff000ull - 8, 0xfffffffffffff000ull,                      /* crossing USER_TOP, top */
};
#define N(a) (sizeof(a) / sizeof *(a))

static const void *P(uint64_t v)
{
    __asm__ volatile("" : "+r"(v));
    return (const void *)(uintptr_t)v;
}

/* Calls that dereference their pointer: every wild value must fail. */
static void deref_calls(uint64_t w, int32_t proc, int32_t sup, int32_t mem)
{
    struct lane_spawn_args sa;
    static const char good_name[] = "x";
    expect_error("log(buf)", w, lanes_sys_log(LANES_LOG_LEVEL_INFO, P(w), 16));
    expect_error("console_write(buf)", w, lanes_sys_console_write(P(w), 16));
    expect_error("console_read(buf)", w, lanes_sys_console_read(P(w), 16, 0));
    expect_error("sysinfo(info)", w, lanes_sys_sysinfo(P(w)));
    expect_error("process_spawn(args)", w, lanes_sys_process_spawn(P(w)));
    memset(&sa, 0, sizeof sa);
    sa.image = w;
    sa.image_len = 4096;
    sa.name = (uint64_t)(uintptr_t)good_name;
    sa.supervisor = LANES_HANDLE_NONE;
    expect_error("process_spawn(args.image)", w, lanes_sys_process_spawn(&sa));
    sa.image = (uint64_t)(uintptr_t)lanes_startup;   /* readable but not an ELF */
    sa.name = w;
    expect_error("process_spawn(args.name)", w, lanes_sys_process_spawn(&sa));
    sa.name = (uint64_t)(uintptr_t)good_name;
    sa.args = w;
    sa.args_len = 16;
    sa.argc = 1;
    expect_error("process_spawn(args.args)", w, lanes_sys_process_spawn(&sa));
    sa.args = 0;
    sa.args_len = 0;
    sa.argc = 0;
    sa.handles = w;
    sa.nhandles = 2;
    expect_error("process_spawn(args.handles)", w, lanes_sys_process_spawn(&sa));
    expect_error("process_wait(info)", w, lanes_sys_process_wait(proc, P(w), 0));
    expect_error("handle_info(info)", w, lanes_sys_handle_info(mem, P(w)));
    expect_error("futex_wait(addr)", w, lanes_sys_futex_wait(P(w), 0, 0));
    expect_error("supervisor_recv(notification)", w, lanes_sys_supervisor_recv(sup, P(w), 0));
    expect_error("thread_list(records)", w, lanes_sys_thread_list(P(w), 4));
    expect_error("ktest(result)", w, lanes_sys_ktest(sup, 0, P(w)));
}

/* Calls taking addresses they may not dereference: only non-user addresses must fail. */
static void address_calls(uint64_t w)
{
    expect_error("mem_map(addr_hint)", w,
                 lanes_sys_mem_map(LANES_HANDLE_NONE, P(w), 0, 4096, LANES_PROT_READ | LANES_PROT_WRITE));
    expect_error("mem_unmap(addr)", w, lanes_sys_mem_unmap(P(w), 4096));
    expect_error("futex_wake(addr)", w, lanes_sys_futex_wake(P(w), 1));
    expect_error("set_tls(fs_base)", w, lanes_sys_set_tls(P(w)));
    expect_error("thread_create(entry)", w, lanes_sys_thread_create(P(w), P(w), 0));
}

int main(void)
{
    int64_t proc = lanes_sys_process_self();
    int64_t sup = lanes_sys_supervisor_create();
    int64_t mem = lanes_sys_mem_create(4096, LANES_MEMFLAG_ZERO);
    if (proc < 0 || sup < 0 || mem < 0) {
        printf("fault-wild: setup failed: process_self %s, supervisor_create %s, mem_create %s\n",
               lanes_strerror(proc), lanes_strerror(sup), lanes_strerror(mem));
        return 100;
    }
    for (size_t i = 0; i < N(user_bad); i++)
        deref_calls(user_bad[i], (int32_t)proc, (int32_t)sup, (int32_t)mem);
    for (size_t i = 0; i < N(never_user); i++) {
        deref_calls(never_user[i], (int32_t)proc, (int32_t)sup, (int32_t)mem);
        if (never_user[i] >= LANES_USER_TOP)
            address_calls(never_user[i]);
    }

    /* Absurd lengths on valid pointers. */
    char buf[16] = "0123456789abcdef";
    expect_error("console_write(len=2^64-1)", ~0ull, lanes_sys_console_write(buf, ~0ull));
    expect_error("console_write(len=2^63)", 1ull << 63, lanes_sys_console_write(buf, 1ull << 63));
    expect_error("log(len=2^64-1)", ~0ull, lanes_sys_log(LANES_LOG_LEVEL_INFO, buf, ~0ull));
    expect_error("console_write(len past mapping)", 1ull << 30, lanes_sys_console_write(buf, 1ull << 30));
    expect_error("thread_list(capacity=2^32-1)", 0xffffffffull, lanes_sys_thread_list(buf, 0xffffffffu));
    expect_error("mem_map(len=2^64-4096)", ~0xfffull,
                 lanes_sys_mem_map(LANES_HANDLE_NONE, 0, 0, ~0xfffull, LANES_PROT_READ));
    expect_error("mem_map(mem, offset past end)", 1ull << 40,
                 lanes_sys_mem_map((int32_t)mem, 0, 1ull << 40, 4096, LANES_PROT_READ));
    expect_error("mem_create(size=2^63)", 1ull << 63, lanes_sys_mem_create(1ull << 63, 0));

    /* Wild handles everywhere. */
    static const int32_t bad_handles[] = { -1, -2, 256, 100000, 0x7fffffff };
    for (size_t i = 0; i < N(bad_handles); i++) {
        int32_t h = bad_handles[i];
        struct lane_handle_info hi;
        expect_error("handle_info(bad handle)", (uint64_t)h, lanes_sys_handle_info(h, &hi));
        expect_error("handle_dup(bad handle)", (uint64_t)h, lanes_sys_handle_dup(h, LANES_RIGHT_ALL));
        expect_error("handle_close(bad handle)", (uint64_t)h, lanes_sys_handle_close(h));
        expect_error("thread_wait(bad handle)", (uint64_t)h, lanes_sys_thread_wait(h, 0));
        expect_error("process_kill(bad handle)", (uint64_t)h, lanes_sys_process_kill(h, 1));
        expect_error("ioport_create(bad handle)", (uint64_t)h, lanes_sys_ioport_create(h, 0x70, 2));
        expect_error("irq_create(bad handle)", (uint64_t)h, lanes_sys_irq_create(h, 1));
        expect_error("poweroff(bad handle)", (uint64_t)h, lanes_sys_poweroff(h, 0));
        expect_error("thread_interrupt(bad handle)", (uint64_t)h, lanes_sys_thread_interrupt(h));
        expect_error("mem_map(bad handle)", (uint64_t)h, lanes_sys_mem_map(h == -1 ? -2 : h, 0, 0, 4096, 1));
    }

    /* Unknown system call numbers. */
    static const uint64_t bad_nums[] = { LANES_SYS_COUNT, LANES_SYS_COUNT + 1, 255, 1000, 0xffffffffull,
                                         0x8000000000000000ull, ~0ull };
    for (size_t i = 0; i < N(bad_nums); i++) {
        int64_t r = lanes_syscall6(bad_nums[i], 1, 2, 3, 4, 5, 6);
        checks++;
        if (r != LANES_E_NOSYS) {
            violations++;
            printf("fault-wild: syscall number %#llx returned %lld (%s), not NOSYS\n", (unsigned long long)bad_nums[i],
                   (long long)r, lanes_strerror(r));
        }
    }
    printf("fault-wild: %d calls with wild arguments, %d returned success\n", checks, violations);
    return violations > 99 ? 99 : violations;
}
