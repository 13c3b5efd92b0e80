/* trace — control kernel tracing at run time, and mark spans from the shell.
 *
 *   trace                      status: classes recorded, events dropped, live transports
 *   trace on | off             all classes / nothing (meta records stay on while anything is)
 *   trace sched,ipc,syscall    exactly these classes (names from os/abi/trace.toml)
 *   trace mark NAME [begin|end|instant|counter VALUE]
 *   trace sync NAME            the marker NAME once on every CPU, in turn (pinned there): a host
 *                              that has seen all of them has every record made before, whichever
 *                              CPU's ring it is in (each ring is drained in order)
 * Needs the system capability (declared in the manifest; the shell grants it).
 */
#include <lanes.h>
#include <lanes/abi/trace.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LANES_MANIFEST("system");

static const struct { const char *name; int bit; } classes[] = TRACE_CLASS_NAMES;

static void print_mask(uint32_t m)
{
    if (!m) {
        printf("off");
        return;
    }
    int first = 1;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (m & (1u << classes[i].bit)) {
            printf("%s%s", first ? "" : ",", classes[i].name);
            first = 0;
        }
}

static int parse(const char *s, uint32_t *out)
{
    uint32_t m = 0;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        int ok = 0;
        if (n == 3 && !strncmp(s, "all", 3)) {
            m |= TRACE_CLASS_ALL;
            ok = 1;
        }
        for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
            if (strlen(classes[i].name) == n && !strncmp(classes[i].name, s, n)) {
                m |= 1u << classes[i].bit;
                ok = 1;
            }
        if (!ok) {
            printf("trace: unknown class '%.*s' (known:", (int)n, s);
            for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
                printf(" %s", classes[i].name);
            printf(", all, on, off)\n");
            return -1;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    *out = m;
    return 0;
}

/* trace sync NAME: an instant marker NAME from each CPU (the record's CPU is its ring's). */
static int sync_all(const char *name)
{
    struct lane_sysinfo si;
    lanes_sys_sysinfo(&si);
    cpu_set_t all, one;
    sched_getaffinity(0, sizeof all, &all);
    uint32_t done = 0;
    for (uint32_t c = 0; c < si.ncpus; c++) {
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        if (sched_setaffinity(0, sizeof one, &one) < 0)
            continue;
        for (int i = 0; i < 100 && lanes_cpu_id() != c; i++)
            lanes_sys_sleep(LANES_MS(1));   /* a scheduling point: the move happens there */
        if (lanes_cpu_id() != c)
            continue;
        int64_t r = lanes_sys_trace_mark(TRACE_MARKER_KIND_INSTANT, c, name, strlen(name));
        if (r > 0)
            done++;
    }
    sched_setaffinity(0, sizeof all, &all);
    printf("trace: sync '%s' on %u of %u CPUs\n", name, done, si.ncpus);
    return done == si.ncpus ? 0 : 1;
}

int main(int argc, char **argv)
{
    int32_t sys = lanes_handle_by_tag("system");
    if (argc == 3 && !strcmp(argv[1], "sync"))
        return sync_all(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "mark")) {
        if (argc < 3) {
            printf("usage: trace mark NAME [begin|end|instant|counter VALUE]\n");
            return 2;
        }
        uint32_t kind = TRACE_MARKER_KIND_INSTANT;
        uint64_t value = 0;
        if (argc >= 4) {
            if (!strcmp(argv[3], "begin"))
                kind = TRACE_MARKER_KIND_BEGIN;
            else if (!strcmp(argv[3], "end"))
                kind = TRACE_MARKER_KIND_END;
            else if (!strcmp(argv[3], "counter")) {
                kind = TRACE_MARKER_KIND_COUNTER;
                value = argc >= 5 ? strtoull(argv[4], NULL, 0) : 0;
            } else if (strcmp(argv[3], "instant")) {
                printf("trace: unknown marker kind '%s'\n", argv[3]);
                return 2;
            }
        }
        int64_t r = lanes_sys_trace_mark(kind, value, argv[2], strlen(argv[2]));
        if (r < 0) {
            printf("trace: mark failed: %s\n", lanes_strerror(r));
            return 1;
        }
        if (r == 0)
            printf("trace: marker '%s' not recorded (class user is off)\n", argv[2]);
        else
            printf("trace: marker '%s' is event %llu:%llu\n", argv[2], (unsigned long long)((uint64_t)r >> 48),
                   (unsigned long long)((uint64_t)r & 0xffffffffffffULL));
        return 0;
    }
    if (sys == LANES_HANDLE_NONE) {
        printf("trace: no system capability (run me from the shell)\n");
        return 1;
    }
    if (argc >= 2) {
        uint32_t m;
        if (!strcmp(argv[1], "on"))
            m = TRACE_CLASS_ALL;
        else if (!strcmp(argv[1], "off"))
            m = 0;
        else if (parse(argv[1], &m))
            return 2;
        int64_t r = lanes_sys_trace_ctl(sys, 1, m);
        if (r < 0) {
            printf("trace: %s\n", lanes_strerror(r));
            return 1;
        }
    }
    int64_t cls = lanes_sys_trace_ctl(sys, 0, 0);
    int64_t dropped = lanes_sys_trace_ctl(sys, 2, 0);
    int64_t tr = lanes_sys_trace_ctl(sys, 3, 0);
    if (cls < 0) {
        printf("trace: %s\n", lanes_strerror(cls));
        return 1;
    }
    printf("trace: classes ");
    print_mask((uint32_t)cls);
    printf("; %lld events dropped; transport %s%s%s\n", (long long)dropped, tr & 1 ? "ivshmem " : "",
           tr & 2 ? "COM2 " : "", tr ? "" : "none (flight recorder only)");
    return 0;
}
