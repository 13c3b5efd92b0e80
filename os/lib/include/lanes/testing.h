/* testing.h — the assertion macros of LaneOS's in-guest test tables (usertests, ipctests,
 * sysfstests, contests).
 *
 * A test is a `static bool name(void)` in a table; it returns true when it passed. FAIL()
 * writes why it failed into `why` (printf-style) and returns false; REQUIRE(cond, ...) fails
 * unless cond holds. The runner prints "test NAME: ok" or "test NAME: FAILED (why)" and
 * ends with exactly "N passed, N failed" (what os/tools/os-test parses).
 */
#ifndef LANES_TESTING_H
#define LANES_TESTING_H

#include <stdbool.h>
#include <stdio.h>

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

#endif
