/* libc_test.c — host unit tests for the pure parts of the LaneOS libc.
 *
 * The Makefile compiles os/lib/src/{string,fmt,heap,ustar,manifest,filemap}.c with the LaneOS headers,
 * renames their symbols with an lt_ prefix (objcopy --prefix-symbols) and links them here with
 * the host's libc, which serves as the oracle: every snprintf case is compared with glibc's.
 * Usage: libc-test INITRD.tar   (the real initrd, read by the ustar and manifest tests)
 * Prints one line per failed check and a final "N passed, N failed"; exits 1 on any failure.
 */
#include <signal.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../include/lanes.h"

/* The LaneOS implementations under test. */
size_t lt_strlen(const char *);
int lt_strcmp(const char *, const char *);
int lt_strncmp(const char *, const char *, size_t);
void *lt_memcpy(void *, const void *, size_t);
void *lt_memmove(void *, const void *, size_t);
void *lt_memset(void *, int, size_t);
int lt_memcmp(const void *, const void *, size_t);
size_t lt_strlcpy(char *, const char *, size_t);
size_t lt_strlcat(char *, const char *, size_t);
char *lt_strchr(const char *, int);
char *lt_strrchr(const char *, int);
char *lt_strstr(const char *, const char *);
char *lt_strtok_r(char *, const char *, char **);
int lt_snprintf(char *, size_t, const char *, ...);
int lt_vsnprintf(char *, size_t, const char *, va_list);
void lt_heap_init(struct heap *, void *(*)(size_t, void *), void *);
void *lt_heap_alloc(struct heap *, size_t);
void lt_heap_free(struct heap *, void *);
void *lt_heap_realloc(struct heap *, void *, size_t);
size_t lt_heap_usable_size(void *);
int lt_heap_check(struct heap *);
int lt_ustar_next(const void *, size_t, size_t *, struct ustar_entry *);
int lt_ustar_find(const void *, size_t, const char *, struct ustar_entry *);
int lt_elf_find_section(const void *, size_t, const char *, const void **, size_t *);
int64_t lt___file_map_copy(const struct lane_file_map *, size_t, void *, size_t, uint64_t);
int64_t lt___file_pos_read(const struct lane_file_map *, size_t, struct lane_file_pos *, void *, size_t);
int lt_manifest_parse(const char *, size_t, struct manifest *, int *);
int lt_manifest_of_elf(const void *, size_t, struct manifest *, int *);

static int passed, failed;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            passed++;                                                     \
        } else {                                                          \
            failed++;                                                     \
            printf("FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
        }                                                                 \
    } while (0)

/* ---- printf: compared with the host's ---- */

static void fmt_case(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fmt_case(const char *fmt, ...)
{
    char want[256], got[256];
    va_list a, b;
    va_start(a, fmt);
    va_copy(b, a);
    int nw = vsnprintf(want, sizeof want, fmt, a);
    int ng = lt_vsnprintf(got, sizeof got, fmt, b);
    va_end(a);
    va_end(b);
    CHECK(nw == ng && strcmp(want, got) == 0, "format \"%s\": want \"%s\" (%d), got \"%s\" (%d)", fmt, want, nw, got,
          ng);
}

static void test_printf(void)
{
    fmt_case("plain text");
    fmt_case("%d %d %d", 0, -1, 2147483647);
    fmt_case("%d", (int)-2147483647 - 1);
    fmt_case("%i|%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42, 42);
    fmt_case("%.3d|%8.3d|%-8.3d|%8.3d", 7, 7, -7, -7);
    fmt_case("%u %u", 0u, 4294967295u);
    fmt_case("%x %X %#x %#X %#o %o", 0xbeefu, 0xbeefu, 0xbeefu, 0u, 8u, 0u);
    fmt_case("%08x|%-8x|%.0x|%.0d", 0x1234u, 0x1234u, 0u, 0);
    fmt_case("%ld %lu %lx", -1234567890123L, 18446744073709551615UL, 0xfeedfacecafeUL);
    fmt_case("%lld %llu %llx %#llx", -9223372036854775807LL - 1, 12345678901234567890ULL, 0xffffffffffffffffULL,
             0x10ULL);
    fmt_case("%zu %zx %td", (size_t)123456, (size_t)0xabc, (ptrdiff_t)-5);
    fmt_case("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
    fmt_case("%p %p", (void *)0x1234, (void *)0xffff800000001000ULL);
    fmt_case("%20p|%-20p|", (void *)0xdead, (void *)0xdead);
    fmt_case("%s|%10s|%-10s|%.2s|%10.2s|", "hello", "hi", "hi", "hello", "hello");
    fmt_case("%c%c%5c%-3c|", 'a', 'b', 'c', 'd');
    fmt_case("%%|100%%|");
    fmt_case("%*d|%-*d|%.*s|%*.*d", 6, 1, 6, 1, 3, "abcdef", 8, 4, 42);
    fmt_case("%s", "");
    /* truncation: return value is the full length, buffer always terminated */
    char small[8];
    int n = lt_snprintf(small, sizeof small, "%s-%d", "abcdefgh", 12345);
    CHECK(n == 14 && strcmp(small, "abcdefg") == 0, "truncated: n=%d buf=\"%s\"", n, small);
    n = lt_snprintf(small, 0, "%d", 5);
    CHECK(n == 1, "size 0: n=%d", n);
    char big[2048], want[2048];
    memset(want, 'x', 1500);
    want[1500] = 0;
    n = lt_snprintf(big, sizeof big, "%s", want);
    CHECK(n == 1500 && strcmp(big, want) == 0, "long string n=%d", n);
}

/* ---- string ---- */

static void test_string(void)
{
    CHECK(lt_strlen("") == 0 && lt_strlen("abc") == 3, "strlen");
    CHECK(lt_strcmp("abc", "abd") < 0 && lt_strcmp("b", "a") > 0 && lt_strcmp("x", "x") == 0, "strcmp");
    CHECK(lt_strcmp("\xff", "a") > 0, "strcmp compares unsigned chars");
    CHECK(lt_strncmp("abcdef", "abcxyz", 3) == 0 && lt_strncmp("ab", "abc", 5) < 0, "strncmp");
    char buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (char)i;
    lt_memmove(buf + 1, buf, 40);
    int ok = 1;
    for (int i = 0; i < 40; i++)
        ok &= buf[i + 1] == (char)i;
    CHECK(ok, "memmove forward overlap");
    for (int i = 0; i < 64; i++)
        buf[i] = (char)i;
    lt_memmove(buf, buf + 3, 40);
    ok = 1;
    for (int i = 0; i < 40; i++)
        ok &= buf[i] == (char)(i + 3);
    CHECK(ok, "memmove backward overlap");
    uint64_t aligned[8];
    lt_memset(aligned, 0xab, sizeof aligned);
    CHECK(((unsigned char *)aligned)[63] == 0xab && ((unsigned char *)aligned)[0] == 0xab, "memset");
    char odd[37];
    lt_memset(odd, 'q', sizeof odd);
    lt_memcpy(odd + 1, "0123456789abcdefghijklmnopqrstuvwxyz", 35);
    CHECK(odd[0] == 'q' && odd[1] == '0' && odd[35] == 'y' && odd[36] == 'q', "memcpy unaligned");
    CHECK(lt_memcmp("abc", "abd", 3) < 0 && lt_memcmp("abc", "abc", 3) == 0, "memcmp");
    char d[6];
    CHECK(lt_strlcpy(d, "hello world", sizeof d) == 11 && strcmp(d, "hello") == 0, "strlcpy truncates");
    CHECK(lt_strlcat(d, "xyz", sizeof d) == 8 && strcmp(d, "hello") == 0, "strlcat full");
    char e[16] = "ab";
    CHECK(lt_strlcat(e, "cd", sizeof e) == 4 && strcmp(e, "abcd") == 0, "strlcat");
    const char *s = "a/b/c";
    CHECK(lt_strchr(s, '/') == s + 1 && lt_strrchr(s, '/') == s + 3 && lt_strchr(s, 'z') == NULL, "strchr/strrchr");
    CHECK(lt_strchr(s, 0) == s + 5, "strchr finds the terminator");
    CHECK(lt_strstr("hello world", "o w") == (char *)"hello world" + 4 || 1, "strstr");
    const char *hw = "hello world";
    CHECK(lt_strstr(hw, "o w") == hw + 4 && lt_strstr(hw, "xyz") == NULL && lt_strstr(hw, "") == hw, "strstr");
    char line[] = "  ls   -l  /bin ";
    char *save, *t1 = lt_strtok_r(line, " ", &save), *t2 = lt_strtok_r(NULL, " ", &save),
                *t3 = lt_strtok_r(NULL, " ", &save), *t4 = lt_strtok_r(NULL, " ", &save);
    CHECK(t1 && t2 && t3 && !t4 && !strcmp(t1, "ls") && !strcmp(t2, "-l") && !strcmp(t3, "/bin"), "strtok_r");
}

/* ---- heap ---- */

static int morecore_calls;
static void *host_morecore(size_t bytes, void *ctx)
{
    (void)ctx;
    morecore_calls++;
    return aligned_alloc(4096, bytes);
}

static void test_heap(void)
{
    struct heap h;
    lt_heap_init(&h, host_morecore, NULL);
    enum { N = 400 };
    unsigned char *p[N] = { 0 };
    size_t sz[N] = { 0 };
    unsigned seed = 12345;
    int corrupt = 0, misaligned = 0, bad_list = 0;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 8) % N);
        if (p[i]) {
            for (size_t k = 0; k < sz[i]; k++)
                corrupt += p[i][k] != (unsigned char)(i ^ k);
            if ((seed >> 4) & 1) {
                lt_heap_free(&h, p[i]);
                p[i] = NULL;
            } else {
                size_t ns = (seed >> 12) % 3000;
                unsigned char *q = lt_heap_realloc(&h, p[i], ns ? ns : 1);
                if (!q) {
                    corrupt++;
                    continue;
                }
                size_t keep = sz[i] < ns ? sz[i] : ns;
                for (size_t k = 0; k < keep; k++)
                    corrupt += q[k] != (unsigned char)(i ^ k);
                p[i] = q;
                sz[i] = ns ? ns : 1;
                for (size_t k = 0; k < sz[i]; k++)
                    q[k] = (unsigned char)(i ^ k);
            }
        } else {
            size_t s = (seed >> 12) % ((seed & 0x100) ? 200000 : 500);
            p[i] = lt_heap_alloc(&h, s);
            sz[i] = s;
            if (!p[i]) {
                corrupt++;
                continue;
            }
            misaligned += ((uintptr_t)p[i] & 15) != 0;
            if (lt_heap_usable_size(p[i]) < s)
                corrupt++;
            for (size_t k = 0; k < s; k++)
                p[i][k] = (unsigned char)(i ^ k);
        }
        if (step % 97 == 0)
            bad_list += lt_heap_check(&h) != 0;
    }
    CHECK(corrupt == 0, "%d corrupted bytes or failed allocations", corrupt);
    CHECK(misaligned == 0, "%d misaligned blocks", misaligned);
    CHECK(bad_list == 0, "free list invariant broken %d times", bad_list);
    for (int i = 0; i < N; i++)
        lt_heap_free(&h, p[i]);
    CHECK(h.bytes_in_use == 0, "bytes in use after freeing all: %zu", h.bytes_in_use);
    CHECK(lt_heap_check(&h) == 0, "free list after freeing everything");
    /* After everything is freed, memory is reused rather than requested again. */
    int before = morecore_calls;
    void *a = lt_heap_alloc(&h, 1000);
    CHECK(a && morecore_calls == before, "reuse after free (morecore called %d times)", morecore_calls - before);
    lt_heap_free(&h, a);
    CHECK(lt_heap_alloc(&h, (size_t)1 << 50) == NULL, "absurd size fails cleanly");
}

/* ---- ustar and manifests, on the real initrd ---- */

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_ustar_manifest(const char *initrd_path)
{
    size_t len;
    unsigned char *rd = read_file(initrd_path, &len);
    CHECK(rd != NULL, "cannot read %s", initrd_path);
    if (!rd)
        return;
    struct ustar_entry e;
    size_t pos = 0;
    int files = 0, r;
    while ((r = lt_ustar_next(rd, len, &pos, &e)) == 1)
        files += e.type == '0';
    CHECK(r == 0 && files >= 3, "walk: r=%d files=%d", r, files);
    CHECK(lt_ustar_find(rd, len, "bin/init", &e) == 0 && e.size > 64 && !memcmp(e.data, "\177ELF", 4),
          "bin/init is an ELF");
    CHECK(lt_ustar_find(rd, len, "./bin/sh", &e) == 0, "./ prefix accepted");
    CHECK(lt_ustar_find(rd, len, "bin/nonexistent", &e) == LANES_E_NOENT, "missing file -> NOENT");
    CHECK(lt_ustar_find(rd, len, "bin", &e) == LANES_E_NOENT, "a directory is not a file");

    /* Corruptions: checksum, truncation, size past the end. */
    unsigned char *bad = malloc(len);
    memcpy(bad, rd, len);
    bad[0] ^= 1;
    CHECK(lt_ustar_find(bad, len, "bin/init", &e) == LANES_E_INVAL, "bad checksum -> INVAL");
    memcpy(bad, rd, len);
    CHECK(lt_ustar_find(bad, 700, "bin/zzz", &e) == LANES_E_INVAL, "truncated -> INVAL");
    memcpy(bad, rd, 512);
    memcpy(bad + 124, "77777777777", 11);   /* huge size; checksum now wrong too */
    CHECK(lt_ustar_find(bad, 1024, "x", &e) == LANES_E_INVAL, "size past end -> INVAL");
    free(bad);

    /* The cmos-rtc driver declares its ports in its manifest. */
    struct manifest m;
    int line = 0;
    CHECK(lt_ustar_find(rd, len, "bin/cmos-rtc", &e) == 0, "bin/cmos-rtc present");
    r = lt_manifest_of_elf(e.data, e.size, &m, &line);
    CHECK(r == 0 && m.nitems == 1 && m.items[0].kind == MANIFEST_IOPORT && m.items[0].base == 0x70 &&
              m.items[0].count == 2,
          "cmos-rtc manifest: r=%d n=%d", r, m.nitems);
    CHECK(lt_ustar_find(rd, len, "bin/sh", &e) == 0 && lt_manifest_of_elf(e.data, e.size, &m, &line) == 0 &&
              m.nitems == 0,
          "sh has an empty manifest");
    CHECK(lt_manifest_of_elf("not an elf at all, really not.........................................", 70, &m,
                             &line) == LANES_E_BADELF,
          "garbage -> BADELF");
    CHECK(lt_ustar_find(rd, len, "bin/cmos-rtc", &e) == 0 && lt_manifest_of_elf(e.data, 100, &m, &line) ==
                                                                 LANES_E_BADELF,
          "truncated ELF -> BADELF");
    free(rd);

    static const char good[] = "ioport 0x3f8 8\0irq 4\0\0system\0  # comment\0";
    r = lt_manifest_parse(good, sizeof good - 1, &m, &line);
    CHECK(r == 0 && m.nitems == 3 && m.items[0].base == 0x3f8 && m.items[0].count == 8 &&
              m.items[1].kind == MANIFEST_IRQ && m.items[1].base == 4 && m.items[2].kind == MANIFEST_SYSTEM,
          "good manifest r=%d n=%d", r, m.nitems);
    static const char pcis[] = "sysfs /sys/bus/pci\0pci 8086:100e\0pci 1af4:*\0pci class 0x0200\0";
    r = lt_manifest_parse(pcis, sizeof pcis - 1, &m, &line);
    CHECK(r == 0 && m.nitems == 4 && m.items[0].kind == MANIFEST_SYSFS && !strcmp(m.items[0].path, "/sys/bus/pci") &&
              m.items[1].kind == MANIFEST_PCI && m.items[1].base == 0x8086100eu && m.items[1].count == MANIFEST_PCI_ANY_CLASS &&
              m.items[2].base == 0x1af4ffffu && m.items[3].base == 0xffffffffu && m.items[3].count == 0x0200,
          "sysfs and pci manifest lines r=%d n=%d line=%d", r, m.nitems, line);
    static const char *bads[] = { "ioport 0x70\0", "ioport 0x70 0\0", "ioport 0xffff 2\0", "irq 99\0",
                                  "disk 0\0", "ioport 0x70 2 extra\0", "ioport zz 1\0", "sysfs\0", "sysfs relative\0",
                                  "pci 8086\0", "pci 8086:10\0", "pci class 0x10000\0", "pci 8086:100e x\0" };
    for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
        r = lt_manifest_parse(bads[i], strlen(bads[i]) + 1, &m, &line);
        CHECK(r == LANES_E_INVAL && line == 1, "bad manifest \"%s\" accepted (r=%d)", bads[i], r);
    }
    static const char unterminated[] = { 'i', 'r', 'q', ' ', '1' };
    CHECK(lt_manifest_parse(unterminated, sizeof unterminated, &m, &line) == LANES_E_INVAL,
          "unterminated line rejected");
}

/* ---- filemap.c: the reader's side of fs's seqlock over a mapped file ---- */

#define FM_PAGE 4096
static _Alignas(4096) uint8_t fm_obj[FM_PAGE + 2 * FM_PAGE];
static uint8_t *fm_dst;
static int fm_faults;

/* A write of fs's, made while the reader's copy is half done: the copy's destination has its
 * second page inaccessible, so the copy stops there; this handler does what tmpfs.c does for a
 * write (seq odd, every byte 'b', seq even), opens the page and lets the copy go on. */
static void fm_write_midcopy(int sig)
{
    struct lane_file_map *h = (struct lane_file_map *)fm_obj;
    (void)sig;
    fm_faults++;
    __atomic_store_n(&h->seq, h->seq + 1, __ATOMIC_RELAXED);
    memset(fm_obj + FM_PAGE, 'b', 2 * FM_PAGE);
    __atomic_store_n(&h->seq, h->seq + 1, __ATOMIC_RELEASE);
    mprotect(fm_dst + FM_PAGE, FM_PAGE, PROT_READ | PROT_WRITE);
}

static void test_filemap(void)
{
    struct lane_file_map *h = (struct lane_file_map *)fm_obj;
    static uint8_t buf[16];
    memset(fm_obj, 0, sizeof fm_obj);
    memset(fm_obj + FM_PAGE, 'a', 2 * FM_PAGE);
    h->size = 100;
    int64_t r = lt___file_map_copy(h, sizeof fm_obj, buf, 16, 90);
    CHECK(r == 10 && buf[9] == 'a', "short file: %lld", (long long)r);
    r = lt___file_map_copy(h, sizeof fm_obj, buf, 10, 100);
    CHECK(r == 0, "at the end: %lld", (long long)r);
    r = lt___file_map_copy(h, sizeof fm_obj, buf, 10, 1u << 20);
    CHECK(r == 0, "past the end: %lld", (long long)r);
    h->seq = 3;
    r = lt___file_map_copy(h, sizeof fm_obj, buf, 10, 0);
    CHECK(r == -1, "seq odd (fs writing): %lld, not -1 (ask fs)", (long long)r);
    h->seq = 4;
    h->retired = 1;
    r = lt___file_map_copy(h, sizeof fm_obj, buf, 10, 0);
    CHECK(r == -2, "retired: %lld, not -2 (map again)", (long long)r);
    h->retired = 0;
    h->size = 2 * FM_PAGE + 1;
    r = lt___file_map_copy(h, sizeof fm_obj, buf, 10, 0);
    CHECK(r == -1, "size past the object: %lld, not -1", (long long)r);
    /* a write in the middle of a copy: the copy is done again, never returned half old */
    h->size = 2 * FM_PAGE;
    fm_dst = mmap(NULL, 2 * FM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fm_dst != MAP_FAILED && mprotect(fm_dst + FM_PAGE, FM_PAGE, PROT_NONE) == 0, "mmap");
    struct sigaction sa = { .sa_handler = fm_write_midcopy }, old;
    sigaction(SIGSEGV, &sa, &old);
    r = lt___file_map_copy(h, sizeof fm_obj, fm_dst, 2 * FM_PAGE, 0);
    sigaction(SIGSEGV, &old, NULL);
    int mixed = 0;
    for (size_t k = 0; r == 2 * FM_PAGE && k < 2 * FM_PAGE; k++)
        mixed += fm_dst[k] != 'b';
    CHECK(fm_faults == 1 && r == 2 * FM_PAGE && mixed == 0,
          "copy across a write: %lld bytes, %d of them from before the write (%d faults)", (long long)r, mixed,
          fm_faults);
    munmap(fm_dst, 2 * FM_PAGE);
}

/* ---- filemap.c: read() at a description's shared offset ---- */

static struct lane_file_pos fp_pos;

/* Another holder of the description (a forked child, fs) reads [0, 4096) while our copy of it is
 * half done: it moves the shared offset 0 -> 4096 and we must not return those bytes too. */
static void fp_other_reader(int sig)
{
    (void)sig;
    fm_faults++;
    __atomic_store_n(&fp_pos.off, 4096, __ATOMIC_SEQ_CST);
    mprotect(fm_dst + FM_PAGE, FM_PAGE, PROT_READ | PROT_WRITE);
}

static void test_filepos(void)
{
    struct lane_file_map *h = (struct lane_file_map *)fm_obj;
    static uint8_t buf[16];
    memset(fm_obj, 0, sizeof fm_obj);
    memset(fm_obj + FM_PAGE, 'a', FM_PAGE);
    memset(fm_obj + 2 * FM_PAGE, 'c', FM_PAGE);
    h->size = 100;
    fp_pos.off = 0;
    int64_t r = lt___file_pos_read(h, sizeof fm_obj, &fp_pos, buf, 16);
    CHECK(r == 16 && fp_pos.off == 16, "read 16 at 0: %lld, offset %llu", (long long)r, (unsigned long long)fp_pos.off);
    fp_pos.off = 90;
    r = lt___file_pos_read(h, sizeof fm_obj, &fp_pos, buf, 16);
    CHECK(r == 10 && fp_pos.off == 100, "across the end: %lld, offset %llu", (long long)r, (unsigned long long)fp_pos.off);
    r = lt___file_pos_read(h, sizeof fm_obj, &fp_pos, buf, 16);
    CHECK(r == 0 && fp_pos.off == 100, "at the end: %lld, offset %llu", (long long)r, (unsigned long long)fp_pos.off);
    fp_pos.off = 1ull << 63;        /* a holder wrote nonsense: nothing copied, nothing moved */
    r = lt___file_pos_read(h, sizeof fm_obj, &fp_pos, buf, 16);
    CHECK(r == 0 && fp_pos.off == 1ull << 63, "offset 2^63: %lld", (long long)r);
    h->retired = 1;
    fp_pos.off = 0;
    r = lt___file_pos_read(h, sizeof fm_obj, &fp_pos, buf, 16);
    CHECK(r == -2 && fp_pos.off == 0, "retired: %lld, not -2 (map again)", (long long)r);
    h->retired = 0;
    /* another reader claims [0, 4096) in the middle of our copy of it: ours goes on at 4096 */
    h->size = 2 * FM_PAGE;
    fm_faults = 0;
    fm_dst = mmap(NULL, 2 * FM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fm_dst != MAP_FAILED && mprotect(fm_dst + FM_PAGE, FM_PAGE, PROT_NONE) == 0, "mmap");
    struct sigaction sa = { .sa_handler = fp_other_reader }, old;
    sigaction(SIGSEGV, &sa, &old);
    uint8_t *dst = fm_dst + FM_PAGE - 2048;
    r = lt___file_pos_read(h, sizeof fm_obj, &fp_pos, dst, FM_PAGE);
    sigaction(SIGSEGV, &old, NULL);
    int stale = 0;
    for (size_t k = 0; r == FM_PAGE && k < FM_PAGE; k++)
        stale += dst[k] != 'c';
    CHECK(fm_faults == 1 && r == FM_PAGE && stale == 0 && fp_pos.off == 2 * FM_PAGE,
          "read racing another holder's: %lld bytes, %d of them the other's, offset %llu (%d faults)", (long long)r,
          stale, (unsigned long long)fp_pos.off, fm_faults);
    munmap(fm_dst, 2 * FM_PAGE);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s INITRD.tar\n", argv[0]);
        return 2;
    }
    test_printf();
    test_string();
    test_heap();
    test_ustar_manifest(argv[1]);
    test_filemap();
    test_filepos();
    printf("libc host tests: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
