/* crashme — crashes on purpose, one way per argument, so that core files can be tested (proctests
 * in the guest, os/tools/core-test and Lanescope's tests on the host open the cores in gdb):
 *
 *   crashme null        writes to address 0 in store_answer()              SIGSEGV
 *   crashme div         divides by zero in divide()                        SIGFPE
 *   crashme ud2         executes ud2 in give_up() (what abort() becomes
 *                     once signals exist: SIGABRT from a handler)        SIGILL
 *   crashme threads N   starts N threads that wait, then writes to 0       SIGSEGV, N+1 threads
 *   crashme wait MS     waits MS milliseconds first, then as `null`
 *
 * Every crashing function keeps locals with known values (volatile, so they are in memory at the
 * fault and gdb shows them): the tests read them back from the core. The lines that fault are
 * marked CRASH-LINE for the host tests to find.
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int sink;

__attribute__((noinline)) static void store_answer(int *where, int answer)
{
    volatile int local_answer = answer;
    volatile long cookie = 0x1badc0de;
    *where = local_answer; /* CRASH-LINE null */
    sink = (int)cookie;
}

__attribute__((noinline)) static int divide(int numerator, int denominator)
{
    volatile int n = numerator, d = denominator;
    return n / d; /* CRASH-LINE div */
}

__attribute__((noinline)) static void give_up(const char *why)
{
    volatile int reason = 7;
    printf("crashme: giving up: %s\n", why);
    __asm__ volatile("ud2"); /* CRASH-LINE ud2 */
    sink = reason;
}

static void waiter(void *arg)
{
    (void)arg;
    for (;;)
        lanes_sys_sleep(LANES_SEC(10));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("usage: crashme null|div|ud2|threads N|wait MS\n");
        return 2;
    }
    int *nowhere = NULL;
    __asm__ volatile("" : "+r"(nowhere));
    const char *how = argv[1];
    if (!strcmp(how, "wait") && argc > 2) {
        lanes_sys_sleep(LANES_MS((uint64_t)atoi(argv[2])));
        how = "null";
    }
    if (!strcmp(how, "threads")) {
        int n = argc > 2 ? atoi(argv[2]) : 2;
        static lanes_thread_t t[16];
        for (int i = 0; i < n && i < 16; i++)
            lanes_thread_start(&t[i], waiter, NULL, 0);
        lanes_sys_sleep(LANES_MS(50));
        how = "null";
    }
    printf("crashme: %s\n", how);
    if (!strcmp(how, "null"))
        store_answer(nowhere, 42);
    else if (!strcmp(how, "div"))
        sink = divide(42, argc > 99 ? 1 : 0);
    else if (!strcmp(how, "ud2"))
        give_up("on purpose");
    else {
        printf("crashme: unknown way '%s'\n", how);
        return 2;
    }
    printf("crashme: survived!\n");
    return 1;
}
