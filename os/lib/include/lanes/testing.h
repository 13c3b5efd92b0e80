/* testing.h — the assertion macros and the runner of LaneOS's in-guest test tables (usertests,
 * ipctests, sysfstests, contests).
 *
 * A test is a `static bool name(void)` in a table of struct lanes_test; it returns true when it
 * passed. FAIL() writes why it failed into `why` (printf-style) and returns false; REQUIRE(cond,
 * ...) fails unless cond holds. A test that passes may leave a note in `why` too.
 *
 * The runner (lanes_test_table, or lanes_test_report for a result of the caller's own) runs the
 * tests whose names start with one of the program's arguments (all of them without arguments),
 * prints "test NAME: ok", "test NAME: ok (why)" or "test NAME: FAILED (why)" — "no reason given"
 * when a failed test left `why` empty — and lanes_test_summary ends with exactly "N passed, N
 * failed" (what os/tools/os-test parses). Names that match no test are an error (status 1).
 * Everything here is static, so `why` and the counts belong to the one program that includes it.
 */
#ifndef LANES_TESTING_H
#define LANES_TESTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

static char why[256];

#define FAIL(...)                                  \
    do {                                           \
        snprintf(why, sizeof why, __VA_ARGS__);    \
        return false;                              \
    } while (0)
#define REQUIRE(cond, ...)          \
    do {                            \
        if (!(cond))                \
            FAIL(__VA_ARGS__);      \
    } while (0)

struct lanes_test {
    const char *name;
    bool (*fn)(void);
};

struct lanes_tests {
    int passed, failed;
};

/** True when name is to run: no arguments after argv[0], or it starts with one of them. */
static inline bool lanes_test_selected(const char *name, int argc, char **argv)
{
    if (argc <= 1)
        return true;
    for (int i = 1; i < argc; i++)
        if (strncmp(name, argv[i], strlen(argv[i])) == 0)
            return true;
    return false;
}

/** Counts one result and prints its line (with `why`). */
static inline void lanes_test_report(struct lanes_tests *t, const char *name, bool ok)
{
    if (ok) {
        t->passed++;
        if (why[0])
            printf("test %s: ok (%s)\n", name, why);
        else
            printf("test %s: ok\n", name);
    } else {
        t->failed++;
        printf("test %s: FAILED (%s)\n", name, why[0] ? why : "no reason given");
    }
}

/** Runs the selected tests of the table in order, each with `why` cleared, and reports each;
 *  after (may be NULL) is called once a test has been reported, with its result. */
static inline void lanes_test_table(struct lanes_tests *t, const struct lanes_test *tests, size_t n, int argc,
                                    char **argv, void (*after)(bool ok))
{
    for (size_t i = 0; i < n; i++) {
        if (!lanes_test_selected(tests[i].name, argc, argv))
            continue;
        why[0] = 0;
        bool ok = tests[i].fn();
        lanes_test_report(t, tests[i].name, ok);
        if (after)
            after(ok);
    }
}

/** Prints "N passed, N failed" and returns the exit status: 1 when names were given and none
 *  matched (prog says so on a line of its own), else the number of failures (at most 100). */
static inline int lanes_test_summary(const struct lanes_tests *t, const char *prog, int argc)
{
    printf("%d passed, %d failed\n", t->passed, t->failed);
    if (t->passed + t->failed == 0 && argc > 1) {
        printf("%s: no test matches the names given\n", prog);
        return 1;
    }
    return t->failed > 100 ? 100 : t->failed;
}

/* A figure from a file of "key value" lines (a server's counters, e.g. fs's /dev/fsstat), or -1. */
static inline long lanes_test_figure(const char *path, const char *key)
{
    char t[512];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, t, sizeof t - 1);
    close(fd);
    if (n <= 0)
        return -1;
    t[n] = 0;
    size_t kl = strlen(key);
    for (char *p = t; *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return strtol(p + kl + 1, NULL, 10);
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return -1;
}

#endif
