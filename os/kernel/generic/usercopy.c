/*
 * usercopy.c — the only way the kernel touches user memory.
 *
 * The range must lie below USER_TOP (no wrap-around); the copy itself runs in user_copy
 * (entry.S), whose faulting instructions have .fixup entries, so an unmapped page, a
 * read-only page (CR0.WP is set) or a page unmapped by another thread mid-copy makes the call
 * return LANES_E_FAULT instead of panicking.
 */
#include <kernel/kernel.h>

int64_t copy_from_user(void *dst, uint64_t usrc, size_t n)
{
    if (!n)
        return 0;
    if (!user_range_ok(usrc, n))
        return LANES_E_FAULT;
    return user_copy(dst, (const void *)usrc, n) ? LANES_E_FAULT : 0;
}

int64_t copy_to_user(uint64_t udst, const void *src, size_t n)
{
    if (!n)
        return 0;
    if (!user_range_ok(udst, n))
        return LANES_E_FAULT;
    return user_copy((void *)udst, src, n) ? LANES_E_FAULT : 0;
}

/* Copies a NUL-terminated string of at most max-1 characters; returns its length. */
int64_t strncpy_from_user(char *dst, uint64_t usrc, size_t max)
{
    for (size_t i = 0; i < max; i++) {
        if (!user_range_ok(usrc + i, 1) || user_copy(&dst[i], (const void *)(usrc + i), 1))
            return LANES_E_FAULT;
        if (!dst[i])
            return i;
    }
    return LANES_E_RANGE;
}

/* Every page of [addr, addr+len) mapped for the caller (writable if asked): 0 or FAULT. */
int64_t user_check(uint64_t addr, uint64_t len, bool write)
{
    if (!len)
        return 0;
    if (!user_range_ok(addr, len))
        return LANES_E_FAULT;
    struct vmspace *vm = current()->proc->vm;
    for (uint64_t a = ALIGN_DOWN(addr, PAGE_SIZE); a < addr + len; a += PAGE_SIZE)
        if (!vm || !vm_translate(vm, a, write))
            return LANES_E_FAULT;
    return 0;
}
