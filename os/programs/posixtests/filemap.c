/* filemap.c — posixtests for pread from a file's mapped pages (issue 13: libc copies from the
 * memory object fs hands out with fs.Map instead of asking fs; os/lib/src/filemap.c).
 *
 * Each case is a semantic the mapping could break, checked where it would break it: a write by
 * another process (its own description) between two preads of ours is seen by the second; a file
 * that grows past the mapped object (fs moves it to a bigger one) and shrinks (O_TRUNC by someone
 * else) reads right, 0 at and past the end; a forked child shares the mapping and sees the
 * parent's writes, and its close leaves the parent's; an exec'd image maps the file again; an
 * unlinked-and-replaced name does not
 * change what an open fd reads; a write-only fd is still EBADF and an initrd file reads the same
 * by pread as by read; a whole-page pwrite racing our preads is never seen half done (the
 * seqlock); and 100 rounds of open/pread/grow/close leave no mapping, handle or page behind.
 * main.c runs this table after rest.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void filemap_tests_run(struct lanes_tests *t, int argc, char **argv);
int filemap_helper(int argc, char **argv);
int lanes_posix_counters(struct lane_msg_posix_counters *c);

#define F "/tmp/pt-map"
#define ERRNO_IS(call, e) ((call) == -1 && errno == (e))

static uint8_t page[4096], got[4096 * 5];

static bool fill_file(const char *path, int c, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return false;
    memset(page, c, sizeof page);
    bool ok = true;
    for (size_t done = 0; ok && done < n; done += sizeof page) {
        size_t k = n - done < sizeof page ? n - done : sizeof page;
        ok = write(fd, page, k) == (ssize_t)k;
    }
    return close(fd) == 0 && ok;
}

static bool all(const uint8_t *b, int c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)c)
            return false;
    return true;
}

static int exited(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : -1; }

/* Another process writes the file through its own description between two preads. */
static bool t_map_other_writer(void)
{
    REQUIRE(fill_file(F, 'a', 4096), "create: %s", strerror(errno));
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0, "open: %s", strerror(errno));
    REQUIRE(pread(fd, got, 4096, 0) == 4096 && all(got, 'a', 4096), "first pread");
    pid_t p = fork();
    if (p == 0) {
        int w = open(F, O_WRONLY);
        memset(page, 'b', sizeof page);
        _exit(w >= 0 && pwrite(w, page, 4096, 0) == 4096 ? 0 : 1);
    }
    int st;
    REQUIRE(p > 0 && waitpid(p, &st, 0) == p && exited(st) == 0, "writer child (status %#x)", st);
    REQUIRE(pread(fd, got, 4096, 0) == 4096, "second pread");
    REQUIRE(all(got, 'b', 4096), "the other process's write is not seen: got '%c' at 0", got[0]);
    int w = open(F, O_WRONLY);
    REQUIRE(w >= 0 && pwrite(w, "C", 1, 100) == 1, "our own second fd's write");
    REQUIRE(pread(fd, got, 1, 100) == 1 && got[0] == 'C', "our write through another fd not seen: '%c'", got[0]);
    close(w);
    close(fd);
    return unlink(F) == 0;
}

/* Growing past the mapped object, EOF, shrinking by someone else's O_TRUNC. */
static bool t_map_grow_shrink(void)
{
    REQUIRE(fill_file(F, 'x', 100), "create");
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0, "open");
    REQUIRE(pread(fd, got, 200, 0) == 100 && all(got, 'x', 100), "short file: a short read");
    REQUIRE(pread(fd, got, 10, 100) == 0 && pread(fd, got, 10, 5000) == 0, "at and past the end: not 0");
    int w = open(F, O_WRONLY);
    REQUIRE(w >= 0 && pwrite(w, "tail", 4, 20000) == 4, "grow to 20004 bytes");
    memset(got, 0x55, 16);
    REQUIRE(pread(fd, got, 16, 19996) == 8, "across the new end: not 8 bytes");
    REQUIRE(all(got, 0, 4) && !memcmp(got + 4, "tail", 4), "grown bytes wrong: %02x %.4s", got[0], got + 4);
    REQUIRE(pread(fd, got, 4096, 8192) == 4096 && all(got, 0, 4096), "the hole reads as zeros");
    REQUIRE(pread(fd, got, 100, 0) == 100 && all(got, 'x', 100), "the old bytes after growing");
    REQUIRE(pread(fd, got, 4, 20004) == 0, "at the new end");
    /* within the object: 5 KiB more, then past its end again (64 KiB) */
    memset(page, 'y', sizeof page);
    REQUIRE(pwrite(w, page, 4096, 20004) == 4096, "grow within");
    REQUIRE(pread(fd, got, 8, 24096) == 4 && all(got, 'y', 4), "the last bytes after growing within");
    REQUIRE(pwrite(w, "z", 1, 65535) == 1 && pread(fd, got, 2, 65535) == 1 && got[0] == 'z', "grow to 64 KiB");
    close(w);
    w = open(F, O_WRONLY | O_TRUNC);
    REQUIRE(w >= 0, "O_TRUNC open: %s", strerror(errno));
    REQUIRE(pread(fd, got, 10, 0) == 0, "after O_TRUNC by another fd: not 0");
    REQUIRE(write(w, "new", 3) == 3 && pread(fd, got, 10, 0) == 3 && !memcmp(got, "new", 3), "rewritten: %.3s", got);
    REQUIRE(pread(fd, got, 10, 3) == 0, "the old bytes past the new end came back");
    close(w);
    close(fd);
    return unlink(F) == 0;
}

/* A forked child shares the parent's fd (and its mapping): each sees the other's writes, and the
 * child's close does not take the parent's mapping. */
static bool t_map_fork(void)
{
    REQUIRE(fill_file(F, 'a', 4096), "create");
    int fd = open(F, O_RDWR);
    int go[2], done[2];
    REQUIRE(fd >= 0 && pipe(go) == 0 && pipe(done) == 0, "open, pipes");
    REQUIRE(pread(fd, got, 4096, 0) == 4096 && all(got, 'a', 4096), "parent's first pread");
    pid_t p = fork();
    if (p == 0) {
        char c;
        bool ok = pread(fd, got, 4096, 0) == 4096 && all(got, 'a', 4096);
        ok = ok && write(done[1], "1", 1) == 1 && read(go[0], &c, 1) == 1;
        ok = ok && pread(fd, got, 4096, 0) == 4096 && all(got, 'b', 4096);      /* the parent's write */
        memset(page, 'c', sizeof page);
        ok = ok && pwrite(fd, page, 4096, 4096) == 4096;                       /* grows the file */
        close(fd);
        _exit(ok ? 0 : 1);
    }
    char c;
    REQUIRE(p > 0 && read(done[0], &c, 1) == 1, "child did not start");
    memset(page, 'b', sizeof page);
    REQUIRE(pwrite(fd, page, 4096, 0) == 4096 && write(go[1], "1", 1) == 1, "parent's write");
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "child saw something else (status %#x)", st);
    REQUIRE(pread(fd, got, 8192, 0) == 8192 && all(got, 'b', 4096) && all(got + 4096, 'c', 4096),
            "after the child's write and close: '%c' '%c'", got[0], got[4096]);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    close(fd);
    return unlink(F) == 0;
}

/* --fm-pread FD OFF TEXT: exit 0 if pread of FD at OFF gives TEXT (the new image of an exec
 * reading an fd it inherited from a parent that had the file mapped). */
int filemap_helper(int argc, char **argv)
{
    if (argc != 5 || strcmp(argv[1], "--fm-pread"))
        return 99;
    size_t n = strlen(argv[4]);
    char b[64];
    if (n > sizeof b)
        return 98;
    ssize_t r = pread(atoi(argv[2]), b, n, atoi(argv[3]));
    return r == (ssize_t)n && !memcmp(b, argv[4], n) ? 0 : r < 0 ? 2 : 1;
}

/* exec drops the mapping with the old image; the new one maps the file again and reads what
 * the parent wrote meanwhile. */
static bool t_map_exec(void)
{
    REQUIRE(fill_file(F, 'a', 4096), "create");
    int fd = open(F, O_RDWR);
    REQUIRE(fd >= 0 && pread(fd, got, 4096, 0) == 4096, "open, pread");
    REQUIRE(pwrite(fd, "after", 5, 4000) == 5, "pwrite");
    pid_t p = fork();
    if (p == 0) {
        char fds[12];
        snprintf(fds, sizeof fds, "%d", fd);
        char *argv[] = { "posixtests", "--fm-pread", fds, "4000", "after", NULL };
        execve("/bin/posixtests", argv, NULL);
        _exit(100);
    }
    int st;
    REQUIRE(p > 0 && waitpid(p, &st, 0) == p && exited(st) == 0, "the new image's pread (status %#x)", st);
    REQUIRE(pread(fd, got, 5, 4000) == 5 && !memcmp(got, "after", 5), "ours after the child's exec");
    close(fd);
    return unlink(F) == 0;
}

/* An open fd keeps its file when the name is unlinked and reused, or renamed over. */
static bool t_map_unlink_replace(void)
{
    REQUIRE(fill_file(F, 'o', 10), "create");
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0 && pread(fd, got, 10, 0) == 10 && all(got, 'o', 10), "first pread");
    REQUIRE(unlink(F) == 0 && fill_file(F, 'n', 20), "unlink and create again");
    REQUIRE(pread(fd, got, 40, 0) == 10 && all(got, 'o', 10), "the new file's bytes through the old fd");
    REQUIRE(fill_file(F ".2", 'r', 30) && rename(F ".2", F) == 0, "rename over");
    REQUIRE(pread(fd, got, 40, 0) == 10 && all(got, 'o', 10), "after rename over the name");
    int fd2 = open(F, O_RDONLY);
    REQUIRE(fd2 >= 0 && pread(fd2, got, 40, 0) == 30 && all(got, 'r', 30), "the name's file now");
    close(fd2);
    close(fd);
    return unlink(F) == 0;
}

/* What never takes the mapped path still behaves: write-only, initrd files, directories. */
static bool t_map_not_mapped(void)
{
    REQUIRE(fill_file(F, 'w', 10), "create");
    int w = open(F, O_WRONLY);
    REQUIRE(w >= 0 && ERRNO_IS(pread(w, got, 10, 0), EBADF), "pread of a write-only fd: %s", strerror(errno));
    close(w);
    int a = open("/bin/sh", O_RDONLY), b = open("/bin/sh", O_RDONLY);
    REQUIRE(a >= 0 && b >= 0, "open /bin/sh");
    static uint8_t r1[4096];
    REQUIRE(pread(a, got, 4096, 4096) == 4096 && lseek(b, 4096, SEEK_SET) == 4096 && read(b, r1, 4096) == 4096,
            "pread / read of an initrd file");
    REQUIRE(!memcmp(got, r1, 4096), "pread and read of /bin/sh differ");
    close(a);
    close(b);
    int d = open("/tmp", O_RDONLY | O_DIRECTORY);
    REQUIRE(d >= 0 && ERRNO_IS(pread(d, got, 10, 0), EISDIR), "pread of a directory: %s", strerror(errno));
    close(d);
    return unlink(F) == 0;
}

/* A child rewrites the whole page, alternating 'a' and 'b', while we pread it: every pread sees
 * one write's page whole (a copy that raced fs's write is done again). */
static bool t_map_no_torn_read(void)
{
    REQUIRE(fill_file(F, 'a', 4096), "create");
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0 && pread(fd, got, 4096, 0) == 4096, "open, first pread");
    pid_t p = fork();
    if (p == 0) {
        int w = open(F, O_WRONLY);
        static uint8_t pa[4096], pb[4096];
        memset(pa, 'a', sizeof pa);
        memset(pb, 'b', sizeof pb);
        for (int i = 0; i < 400; i++)
            if (w < 0 || pwrite(w, i & 1 ? pa : pb, 4096, 0) != 4096)
                _exit(1);
        _exit(0);
    }
    REQUIRE(p > 0, "fork");
    int reads = 0, torn = 0, st = 0;
    for (;;) {
        int r = waitpid(p, &st, WNOHANG);
        if (pread(fd, got, 4096, 0) != 4096 || !(all(got, 'a', 4096) || all(got, 'b', 4096)))
            torn++;
        reads++;
        if (r == p)
            break;
    }
    close(fd);
    REQUIRE(exited(st) == 0, "writer child (status %#x)", st);
    REQUIRE(torn == 0, "%d of %d preads saw a page half written", torn, reads);
    unlink(F);
    snprintf(why, sizeof why, "%d preads beside 400 writes", reads);
    return true;
}

static int count_handles(void)
{
    int n = 0;
    struct lane_handle_info hi;
    for (int h = 0; h < 4096; h++)
        n += lanes_sys_handle_info(h, &hi) == 0;
    return n;
}

static int64_t count_regions(void)
{
    int64_t proc = lanes_sys_process_self();
    if (proc < 0)
        return proc;
    int64_t r = lanes_sys_process_inspect((int32_t)proc, LANES_INSPECT_OP_REGIONS, 0, NULL, 0);
    lanes_sys_handle_close((int32_t)proc);
    return r;
}

static bool map_round(int i)
{
    if (!fill_file(F, 'a' + i % 26, 16384))
        return false;
    int fd = open(F, O_RDONLY), fd2 = open(F, O_RDWR);
    bool ok = fd >= 0 && fd2 >= 0 && pread(fd, got, 4096, 0) == 4096 && pread(fd2, got, 4096, 8192) == 4096;
    memset(page, 'z', sizeof page);
    ok = ok && pwrite(fd2, page, 4096, 16384 * 2) == 4096;      /* past the object: a new one */
    ok = ok && pread(fd, got, 4096, 16384 * 2) == 4096 && all(got, 'z', 4096);
    /* read() twice: the second maps the description's offset page too (filepos.c) */
    ok = ok && read(fd, got, 100) == 100 && read(fd, got, 100) == 100 && lseek(fd, 0, SEEK_CUR) == 200;
    close(fd);
    close(fd2);
    return unlink(F) == 0 && ok;
}

/* No mapping, handle or page left behind (here, in fs, in posix) by 100 rounds (file pages and,
 * through read(), the offset page). */
static bool t_map_no_leak(void)
{
    REQUIRE(map_round(0), "warm-up round");
    struct lane_msg_posix_counters c0, c1;
    struct lane_sysinfo s0, s1;
    int h0 = count_handles();
    int64_t r0 = count_regions();
    REQUIRE(lanes_posix_counters(&c0) == 0 && lanes_sys_sysinfo(&s0) == 0 && r0 > 0, "counters");
    for (int i = 1; i <= 100; i++)
        REQUIRE(map_round(i), "round %d: %s", i, strerror(errno));
    int h1 = count_handles();
    int64_t r1 = count_regions();
    REQUIRE(lanes_posix_counters(&c1) == 0 && lanes_sys_sysinfo(&s1) == 0, "counters after");
    REQUIRE(h1 == h0, "our handles %d -> %d", h0, h1);
    REQUIRE(r1 == r0, "our mappings %lld -> %lld", (long long)r0, (long long)r1);
    REQUIRE(c1.files == c0.files && c1.handles == c0.handles, "posix: files %u->%u handles %u->%u", c0.files,
            c1.files, c0.handles, c1.handles);
    /* a leaked object per round would be 100 x 9 pages at least */
    int64_t lost = ((int64_t)s0.mem_free - (int64_t)s1.mem_free) / 4096;
    REQUIRE(lost < 64, "%lld pages fewer free after 100 rounds", (long long)lost);
    snprintf(why, sizeof why, "free pages %+lld", (long long)-lost);
    return true;
}

static const struct lanes_test filemap_tests[] = {
    { "pread-map-other-writer", t_map_other_writer },
    { "pread-map-grow-shrink", t_map_grow_shrink },
    { "pread-map-fork", t_map_fork },
    { "pread-map-exec", t_map_exec },
    { "pread-map-unlink-replace", t_map_unlink_replace },
    { "pread-map-not-mapped", t_map_not_mapped },
    { "pread-map-no-torn-read", t_map_no_torn_read },
    { "pread-map-no-leak", t_map_no_leak },
};

void filemap_tests_run(struct lanes_tests *t, int argc, char **argv)
{
    lanes_test_table(t, filemap_tests, sizeof filemap_tests / sizeof *filemap_tests, argc, argv, NULL);
}
