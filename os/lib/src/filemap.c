/*
 * filemap.c — pread from a regular file's pages, in the caller's own context (issue 13).
 *
 * fs hands a reader a file's memory object (fs.Map, os/abi/messages.toml): a lane_file_map
 * header page, then the bytes. posix.c maps it read-only at an fd's first pread and keeps the
 * mapping with the fd's cached lane (closed with it; shared with a forked child, which gets the
 * same description; gone at exec). fs is the only writer and brackets every change of the bytes
 * or the size with seq (odd while it changes them), so a copy is good when seq was the same
 * even value before and after it. A copy that raced a write is done again; one that keeps
 * racing, or a header that says the file moved to a bigger object (retired), goes back to the
 * caller, which maps again or asks fs over the lane. A write acknowledged by fs is in these
 * very pages, so a later pread in any process sees it; a read past the end copies nothing (0).
 *
 * read() and lseek() need the open file description's offset, which every process holding the
 * description shares (fork, dup): fs hands it out as one more page (fs.MapPos, struct
 * lane_file_pos) that posix.c maps beside the file's pages, and __file_pos_read copies at it and
 * moves it with a compare-and-swap (fs claims its own ranges on the same word the same way).
 * Pure: no system calls.
 */
#include <lanes.h>
#include <string.h>

int64_t __file_map_copy(const struct lane_file_map *h, size_t maplen, void *buf, size_t n, uint64_t off);

/* One try of the seqlock copy: up to n bytes at off into buf (the count, 0 at or past the end),
 * -3 when fs was writing meanwhile (try again), -1 when the object cannot hold the file (ask
 * fs), -2 when it is retired (map the file again). *seq: the even value it copied under. */
static int64_t copy_once(const struct lane_file_map *h, size_t maplen, void *buf, size_t n, uint64_t off, uint32_t *seq)
{
    uint32_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
    if (s1 & 1)
        return -3;
    if (__atomic_load_n(&h->retired, __ATOMIC_RELAXED))
        return -2;
    uint64_t size = __atomic_load_n(&h->size, __ATOMIC_RELAXED);
    if (size > maplen - LANES_PAGE_SIZE)
        return -1;
    size_t k = off >= size ? 0 : size - off < n ? (size_t)(size - off) : n;
    memcpy(buf, (const uint8_t *)h + LANES_PAGE_SIZE + off, k);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != s1)
        return -3;
    *seq = s1;
    return (int64_t)k;
}

/* Copies up to n bytes at off; returns how many (0 at or past the end), -1 when fs kept
 * writing (ask it instead), -2 when the object is retired (map the file again). */
int64_t __file_map_copy(const struct lane_file_map *h, size_t maplen, void *buf, size_t n, uint64_t off)
{
    for (int tries = 0; tries < 4; tries++) {
        uint32_t s1;
        int64_t k = copy_once(h, maplen, buf, n, off, &s1);
        if (k != -3)
            return k;
    }
    return -1;
}

int64_t __file_pos_read(const struct lane_file_map *h, size_t maplen, struct lane_file_pos *p, void *buf, size_t n);

/* read(): up to n bytes at the description's shared offset (fs.MapPos), which moves past them.
 * The copy comes first (under the seqlock, as a pread), then off -> off + k by a
 * compare-and-swap from the value it copied at: a holder (another process after fork, another fd
 * after dup, fs serving a request) that moved the offset meanwhile makes the swap fail and we
 * copy again at the new offset, so two readers never get the same bytes. Should the offset have
 * come back to the same value with a write in between (seq moved between the copy and the swap),
 * the claimed range is copied again, so what we return was the file's at the moment we claimed it.
 * Returns k (0 at or past the end: the offset stays), -1 when it kept losing or fs kept writing
 * (ask fs), -2 when the object is retired (map the file again). */
int64_t __file_pos_read(const struct lane_file_map *h, size_t maplen, struct lane_file_pos *p, void *buf, size_t n)
{
    for (int tries = 0; tries < 8; tries++) {
        uint64_t off = __atomic_load_n(&p->off, __ATOMIC_ACQUIRE);
        uint32_t s1;
        int64_t k = copy_once(h, maplen, buf, n, off, &s1);
        if (k == -3)
            continue;
        if (k <= 0)
            return k;
        if (!__atomic_compare_exchange_n(&p->off, &off, off + (uint64_t)k, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            continue;
        if (__atomic_load_n(&h->seq, __ATOMIC_SEQ_CST) == s1)
            return k;
        int64_t again = __file_map_copy(h, maplen, buf, (size_t)k, off);
        return again >= 0 ? again : k;
    }
    return -1;
}
