/* start.c — from the kernel's startup block to main(), and back out through exit().
 *
 * __lanes_start checks the startup block (magic, argv), records it for lanes_handle_by_tag(),
 * runs main(argc, argv) and passes its result to exit(), which runs atexit handlers and ends
 * the process with sys_exit. Also here: abort, assert failures, strtol & co., and
 * lanes_cpu_id — the caller's CPU number without a system call: the kernel keeps each CPU's
 * index in IA32_TSC_AUX (arch/x86_64/cpu.c), which RDPID or RDTSCP read in user mode.
 */
#include <lanes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "hot.h"

int main(int argc, char **argv);

LIBC_HOT_DATA const struct lane_startup *lanes_startup;
const char *lanes_progname = "?";

__attribute__((noreturn, used)) void __lanes_start(const struct lane_startup *su)
{
    static const char bad[] = "libc: bad startup block (wrong magic); exiting\n";
    if (!su || su->magic != LANES_STARTUP_MAGIC) {
        lanes_sys_console_write(bad, sizeof bad - 1);
        lanes_sys_exit(127);
        for (;;) {}
    }
    lanes_startup = su;
    extern void __lanes_set_environ(uint64_t envp);
    __lanes_set_environ(su->envp);      /* after execve with an environment (fork.c) */
    char **argv = (char **)(uintptr_t)su->argv;
    if (su->argc > 0 && argv && argv[0])
        lanes_progname = argv[0];
    exit(main((int)su->argc, argv));
}

int32_t lanes_handle_by_tag(const char *tag)
{
    if (!lanes_startup)
        return LANES_HANDLE_NONE;
    const struct lane_handle_entry *h = (const struct lane_handle_entry *)(uintptr_t)lanes_startup->handles;
    for (uint32_t i = 0; i < lanes_startup->nhandles; i++)
        if (strncmp(h[i].tag, tag, sizeof h[i].tag) == 0)
            return h[i].handle;
    return LANES_HANDLE_NONE;
}

const char *lanes_strerror(int64_t err) { return lanes_error_name(err); }

/* How lanes_cpu_id reads the CPU number, chosen by CPUID on the first call and kept (CPUID
 * traps to the hypervisor in a VM, so it costs more than the syscall it replaces). Threads
 * that race to probe store the same answer, so a relaxed store is enough. */
enum { CPU_ID_UNPROBED, CPU_ID_RDPID, CPU_ID_RDTSCP, CPU_ID_SYSCALL };
static uint32_t cpu_id_how;

/* The kernel stores LANES_TSC_AUX_MAGIC (os/abi/kernel.toml) | index. A value
 * without the magic is not ours — a nested hypervisor that never loads the guest's TSC_AUX
 * shows the outer host's — and that read falls back to the syscall. Checked on every read:
 * whether the guest's value is loaded can change from one moment to the next. */
#define CPU_ID_MAGIC LANES_TSC_AUX_MAGIC
#define CPU_ID_MAGIC_MASK 0xffff0000u

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint32_t cpu_id_probe(void)
{
    uint32_t r[4], how = CPU_ID_SYSCALL;
    cpuid(0, r);
    if (r[0] >= 7) {
        cpuid(7, r);
        if (r[2] & (1u << 22))                  /* CPUID.(7,0):ECX.RDPID */
            how = CPU_ID_RDPID;
    }
    if (how == CPU_ID_SYSCALL) {
        cpuid(0x80000000, r);
        if (r[0] >= 0x80000001) {
            cpuid(0x80000001, r);
            if (r[3] & (1u << 27))              /* CPUID.80000001H:EDX.RDTSCP */
                how = CPU_ID_RDTSCP;
        }
    }
    __atomic_store_n(&cpu_id_how, how, __ATOMIC_RELAXED);
    return how;
}

LIBC_HOT uint32_t lanes_cpu_id(void)
{
    uint32_t how = __atomic_load_n(&cpu_id_how, __ATOMIC_RELAXED);
    if (__builtin_expect(how == CPU_ID_UNPROBED, 0))
        how = cpu_id_probe();
    uint32_t aux = 0;
    if (how == CPU_ID_RDPID) {
        uint64_t v;
        __asm__ volatile("rdpid %0" : "=r"(v));
        aux = (uint32_t)v;
    } else if (how == CPU_ID_RDTSCP) {
        uint32_t lo, hi;
        __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    }
    if (__builtin_expect((aux & CPU_ID_MAGIC_MASK) == CPU_ID_MAGIC, 1))
        return aux & ~CPU_ID_MAGIC_MASK;
    return (uint32_t)lanes_sys_cpu_id();
}

#define MAX_ATEXIT 32
static void (*atexit_fns[MAX_ATEXIT])(void);
static int n_atexit;

int atexit(void (*fn)(void))
{
    if (n_atexit >= MAX_ATEXIT)
        return -1;
    atexit_fns[n_atexit++] = fn;
    return 0;
}

void exit(int code)
{
    while (n_atexit > 0)
        atexit_fns[--n_atexit]();
    lanes_sys_exit(code);
    for (;;)
        __builtin_trap();
}

void abort(void)
{
    printf("%s: aborted\n", lanes_progname);
    lanes_sys_exit(134);
    for (;;)
        __builtin_trap();
}

void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
    printf("%s: %s:%d: %s: assertion '%s' failed\n", lanes_progname, file, line, func, expr);
    lanes_sys_exit(134);
    for (;;)
        __builtin_trap();
}

unsigned long long strtoull(const char *s, char **end, int base)
{
    const char *p = s;
    while (isspace(*p))
        p++;
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit(p[2])) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    unsigned long long v = 0;
    const char *digits = p;
    for (;; p++) {
        int d;
        if (isdigit(*p)) d = *p - '0';
        else if (isalpha(*p)) d = tolower(*p) - 'a' + 10;
        else break;
        if (d >= base)
            break;
        v = v * (unsigned)base + (unsigned)d;
    }
    if (end)
        *end = (char *)(p == digits ? s : p);
    return v;
}

unsigned long strtoul(const char *s, char **end, int base) { return (unsigned long)strtoull(s, end, base); }

long strtol(const char *s, char **end, int base)
{
    const char *p = s;
    while (isspace(*p))
        p++;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    char *e;
    unsigned long long v = strtoull(p, &e, base);
    if (e == p) {
        if (end)
            *end = (char *)s;
        return 0;
    }
    if (end)
        *end = e;
    return neg ? -(long)v : (long)v;
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
