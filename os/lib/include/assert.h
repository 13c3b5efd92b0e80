/* assert.h — LaneOS libc: assert() prints the failed expression and location, then aborts. */
#ifndef LANES_LIBC_ASSERT_H
#define LANES_LIBC_ASSERT_H

__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, int line, const char *func);

#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : __assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#endif
