/* filepos.c — posixtests for read() and lseek() at a description's shared offset (issue 13: libc
 * copies from the file's mapped pages at the offset page fs hands out with fs.MapPos and moves
 * it by compare-and-swap, instead of asking fs; os/lib/src/filemap.c).
 *
 * The offset belongs to the open file description, not to the fd or the process, so each case
 * is a holder that would see a private copy go wrong: a forked child reads on where the parent
 * stopped and the parent on where the child stopped; a dup'd fd shares it both ways, lseek
 * included; two processes reading one description at once never get the same bytes nor lose
 * any; an exec'd image reads on from the inherited offset; writes and O_APPEND (served by fs)
 * move the same offset the fast reads move; a file that grows past its object, is truncated
 * by another description or is still in the initrd's pages reads right at the offset; and
 * lseek's errors. The file's word at each 4-byte-aligned offset is that offset, so a read says
 * where it read from. main.c runs this table after filemap.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

void filepos_tests_run(struct lanes_tests *t, int argc, char **argv);
int filepos_helper(int argc, char **argv);

#define F "/tmp/pt-pos"
#define ERRNO_IS(call, e) ((call) == -1 && errno == (e))
#define SIZE 65536

static uint32_t words[SIZE / 4], got[SIZE / 4];

/* F with the word at each offset o (o % 4 == 0) = o + salt. */
static bool make_file(uint32_t salt)
{
    for (uint32_t i = 0; i < SIZE / 4; i++)
        words[i] = i * 4 + salt;
    int fd = open(F, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0 && write(fd, words, SIZE) == SIZE;
    return fd >= 0 && close(fd) == 0 && ok;
}

/* Did the n bytes in b come from offset off (n, off multiples of 4)? */
static bool from(const uint32_t *b, size_t n, uint32_t off, uint32_t salt)
{
    for (size_t i = 0; i < n / 4; i++)
        if (b[i] != off + (uint32_t)i * 4 + salt)
            return false;
    return true;
}

static int exited(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : -1; }

/* n bytes by as many reads as it takes (one read moves at most libc's chunk). */
static bool read_all(int fd, void *b, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, (uint8_t *)b + done, n - done);
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

/* Parent and forked child take turns reading one description: each goes on where the other
 * stopped, and an lseek by the child moves the parent's offset. */
static bool t_pos_fork(void)
{
    REQUIRE(make_file(0), "create: %s", strerror(errno));
    int fd = open(F, O_RDONLY);
    int go[2], done[2];
    REQUIRE(fd >= 0 && pipe(go) == 0 && pipe(done) == 0, "open, pipes");
    REQUIRE(read(fd, got, 4096) == 4096 && from(got, 4096, 0, 0), "parent's first read");
    pid_t p = fork();
    if (p == 0) {
        char c;
        int bad = read(fd, got, 4096) != 4096 || !from(got, 4096, 4096, 0) ? 1 : 0;    /* on from the parent's */
        bad = bad ? bad : write(done[1], "1", 1) != 1 || read(go[0], &c, 1) != 1 ? 2 : 0;
        bad = bad ? bad : read(fd, got, 100) != 100 || !from(got, 100, 12288, 0) ? 3 : 0;  /* after the parent's */
        bad = bad ? bad : lseek(fd, 40000, SEEK_SET) != 40000 ? 4 : 0;
        _exit(bad);
    }
    char c;
    REQUIRE(p > 0 && read(done[0], &c, 1) == 1, "child did not start");
    REQUIRE(lseek(fd, 0, SEEK_CUR) == 8192, "the child's read did not move our offset: %lld",
            (long long)lseek(fd, 0, SEEK_CUR));
    REQUIRE(read(fd, got, 4096) == 4096 && from(got, 4096, 8192, 0), "our read after the child's: from %u", got[0]);
    REQUIRE(write(go[1], "1", 1) == 1, "go");
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0, "the child saw another offset (step %d)", exited(st));
    REQUIRE(read(fd, got, 8) == 8 && from(got, 8, 40000, 0), "after the child's lseek: from %u", got[0]);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    close(fd);
    return unlink(F) == 0;
}

/* dup and dup2 share the offset both ways, through read, lseek and EOF. */
static bool t_pos_dup(void)
{
    REQUIRE(make_file(0), "create");
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0, "open");
    int d = dup(fd);
    REQUIRE(d >= 0, "dup: %s", strerror(errno));
    REQUIRE(read(fd, got, 100) == 100 && from(got, 100, 0, 0), "read fd");
    REQUIRE(read(d, got, 100) == 100 && from(got, 100, 100, 0), "the dup'd fd did not go on: from %u", got[0]);
    REQUIRE(lseek(d, 0, SEEK_CUR) == 200 && lseek(fd, 0, SEEK_CUR) == 200, "SEEK_CUR of both");
    REQUIRE(lseek(d, 1000, SEEK_SET) == 1000, "lseek the dup");
    REQUIRE(read(fd, got, 8) == 8 && from(got, 8, 1000, 0), "the dup's lseek not seen by fd: from %u", got[0]);
    REQUIRE(lseek(fd, -8, SEEK_CUR) == 1000 && read(d, got, 4) == 4 && from(got, 4, 1000, 0), "SEEK_CUR back");
    int e = dup2(fd, 20);
    REQUIRE(e == 20 && lseek(20, -4, SEEK_END) == SIZE - 4, "dup2, SEEK_END: %s", strerror(errno));
    REQUIRE(read(d, got, 100) == 4 && from(got, 4, SIZE - 4, 0), "the last word through the first dup");
    REQUIRE(read(fd, got, 100) == 0 && read(20, got, 100) == 0, "EOF on all three");
    REQUIRE(lseek(fd, 0, SEEK_CUR) == SIZE, "the offset moved at EOF: %lld", (long long)lseek(fd, 0, SEEK_CUR));
    close(20);
    close(d);
    /* a second open is another description: its own offset */
    int o = open(F, O_RDONLY);
    REQUIRE(o >= 0 && read(o, got, 4) == 4 && from(got, 4, 0, 0) && lseek(fd, 0, SEEK_CUR) == SIZE,
            "another open's offset is not its own");
    close(o);
    close(fd);
    return unlink(F) == 0;
}

/* lseek, then read: every whence, the errors, past the end. */
static bool t_pos_lseek(void)
{
    REQUIRE(make_file(0), "create");
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0 && read(fd, got, 4) == 4, "open, read");
    REQUIRE(lseek(fd, 4096, SEEK_SET) == 4096 && read(fd, got, 16) == 16 && from(got, 16, 4096, 0), "SEEK_SET");
    REQUIRE(lseek(fd, 84, SEEK_CUR) == 4196 && read(fd, got, 4) == 4 && from(got, 4, 4196, 0), "SEEK_CUR +");
    REQUIRE(lseek(fd, -200, SEEK_CUR) == 4000 && read(fd, got, 4) == 4 && from(got, 4, 4000, 0), "SEEK_CUR -");
    REQUIRE(lseek(fd, -SIZE / 2, SEEK_END) == SIZE / 2 && read(fd, got, 8) == 8 && from(got, 8, SIZE / 2, 0), "SEEK_END");
    REQUIRE(ERRNO_IS(lseek(fd, -1, SEEK_SET), EINVAL), "SEEK_SET -1: %s", strerror(errno));
    REQUIRE(ERRNO_IS(lseek(fd, -SIZE, SEEK_CUR), EINVAL), "SEEK_CUR before 0: %s", strerror(errno));
    REQUIRE(ERRNO_IS(lseek(fd, 0, 7), EINVAL), "whence 7: %s", strerror(errno));
    REQUIRE(lseek(fd, 0, SEEK_CUR) == SIZE / 2 + 8, "a refused lseek moved the offset");
    REQUIRE(lseek(fd, SIZE * 4, SEEK_SET) == SIZE * 4 && read(fd, got, 10) == 0, "past the end: not 0");
    REQUIRE(lseek(fd, SIZE - 2, SEEK_SET) == SIZE - 2 && read(fd, got, 10) == 2, "across the end: not 2");
    close(fd);
    return unlink(F) == 0;
}

/* Two processes read one description in 256-byte pieces at once: between them every piece
 * once, none twice (a private or unlocked offset hands both the same piece). Each yields its
 * CPU after every few pieces (on one CPU they alternate) and, after 8, waits (up to 2 s) until
 * the other has read one too (a shared counter), so both are reading however late one starts. */
static bool t_pos_race(void)
{
    REQUIRE(make_file(0), "create");
    int fd = open(F, O_RDONLY), res[2];
    int start[2];
    REQUIRE(fd >= 0 && pipe(res) == 0 && pipe(start) == 0, "open, pipes");
    volatile uint32_t *cnt = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(cnt != MAP_FAILED, "mmap: %s", strerror(errno));
    cnt[0] = cnt[1] = 0;
    REQUIRE(read(fd, got, 256) == 256 && lseek(fd, 0, SEEK_SET) == 0, "map");
    static uint8_t seen[2][SIZE / 256];
    pid_t p = fork();
    int me = p == 0;
    int pieces = 0, bad = 0;
    static uint32_t b[64];
    char c;
    if (p == 0 ? read(start[0], &c, 1) != 1 : write(start[1], "1", 1) != 1)
        bad++;
    for (;;) {
        if (pieces % 4 == 3)
            lanes_sys_yield();
        for (int w = 0; pieces >= 8 && __atomic_load_n(&cnt[!me], __ATOMIC_SEQ_CST) == 0 && w < 2000; w++)
            usleep(1000);
        ssize_t r = read(fd, b, 256);
        if (r <= 0)
            break;
        if (r != 256 || b[0] % 256 || !from(b, 256, b[0], 0)) {
            bad++;
            continue;
        }
        seen[me][b[0] / 256]++;
        pieces++;
        __atomic_add_fetch(&cnt[me], 1, __ATOMIC_SEQ_CST);
    }
    if (p == 0) {
        bool ok = write(res[1], seen[1], sizeof seen[1]) == (ssize_t)sizeof seen[1];
        _exit(bad ? 2 : ok ? 0 : 3);
    }
    REQUIRE(p > 0, "fork");
    size_t n = 0;
    while (n < sizeof seen[1]) {
        ssize_t r = read(res[0], seen[1] + n, sizeof seen[1] - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    int st;
    REQUIRE(waitpid(p, &st, 0) == p && exited(st) == 0 && n == sizeof seen[1], "child (status %d, %zu bytes)",
            exited(st), n);
    REQUIRE(bad == 0, "%d reads here were not one whole piece", bad);
    int twice = 0, never = 0, theirs = 0;
    for (int i = 0; i < SIZE / 256; i++) {
        int k = seen[0][i] + seen[1][i];
        twice += k > 1;
        never += k == 0;
        theirs += seen[1][i];
    }
    REQUIRE(twice == 0 && never == 0, "%d pieces read twice, %d never (child read %d)", twice, never, theirs);
    close(res[0]);
    close(res[1]);
    close(start[0]);
    close(start[1]);
    munmap((void *)cnt, 4096);
    close(fd);
    REQUIRE(theirs > 0 && pieces > 0, "one side read nothing (here %d, child %d): no race tested", pieces, theirs);
    snprintf(why, sizeof why, "%d pieces here, %d in the child", pieces, theirs);
    return unlink(F) == 0;
}

/* --fp-read FD OFF: exit 0 if read of 16 bytes from FD comes from OFF (an exec'd image reading
 * an fd whose offset its parent moved). */
int filepos_helper(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], "--fp-read"))
        return 99;
    uint32_t b[4];
    ssize_t r = read(atoi(argv[2]), b, sizeof b);
    return r == (ssize_t)sizeof b && from(b, sizeof b, (uint32_t)atoi(argv[3]), 0) ? 0 : r < 0 ? 2 : 1;
}

/* exec keeps the description: the new image reads on from where we were, and we on from it. */
static bool t_pos_exec(void)
{
    REQUIRE(make_file(0), "create");
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0 && read(fd, got, 400) == 400, "open, read");
    pid_t p = fork();
    if (p == 0) {
        char fds[12];
        snprintf(fds, sizeof fds, "%d", fd);
        char *argv[] = { "posixtests", "--fp-read", fds, "400", NULL };
        execve("/bin/posixtests", argv, NULL);
        _exit(100);
    }
    int st;
    REQUIRE(p > 0 && waitpid(p, &st, 0) == p && exited(st) == 0, "the new image's read (status %d)", exited(st));
    REQUIRE(read(fd, got, 4) == 4 && from(got, 4, 416, 0), "ours after the new image's: from %u", got[0]);
    close(fd);
    return unlink(F) == 0;
}

/* Writes go to fs, reads are copies here: both move the one offset; O_APPEND writes at the end
 * and leaves the offset there. */
static bool t_pos_write_mix(void)
{
    REQUIRE(make_file(0), "create");
    int fd = open(F, O_RDWR);
    REQUIRE(fd >= 0 && read(fd, got, 100) == 100, "open, read");
    uint32_t w = 0xabcdef01;
    REQUIRE(write(fd, &w, 4) == 4 && lseek(fd, 0, SEEK_CUR) == 104, "write at 100: offset %lld",
            (long long)lseek(fd, 0, SEEK_CUR));
    REQUIRE(read(fd, got, 8) == 8 && from(got, 8, 104, 0), "read after the write: from %u", got[0]);
    REQUIRE(pread(fd, got, 4, 100) == 4 && got[0] == w && lseek(fd, 0, SEEK_CUR) == 112, "pread moved the offset");
    close(fd);
    int a = open(F, O_RDWR | O_APPEND);
    REQUIRE(a >= 0 && read(a, got, 40) == 40 && from(got, 40, 0, 0), "O_APPEND open, read");
    REQUIRE(write(a, &w, 4) == 4 && lseek(a, 0, SEEK_CUR) == SIZE + 4, "O_APPEND: offset %lld",
            (long long)lseek(a, 0, SEEK_CUR));
    REQUIRE(read(a, got, 4) == 0, "read at the end after O_APPEND");
    REQUIRE(lseek(a, -8, SEEK_CUR) == SIZE - 4 && read(a, got, 8) == 8 && from(got, 4, SIZE - 4, 0) && got[1] == w,
            "the appended word");
    close(a);
    return unlink(F) == 0;
}

/* The file changes size under a reader: grown by another description past the mapped object
 * (a new object), truncated by an O_TRUNC open, written again. */
static bool t_pos_size_change(void)
{
    REQUIRE(make_file(0), "create");
    int fd = open(F, O_RDONLY);
    REQUIRE(fd >= 0 && read_all(fd, got, SIZE - 8) && lseek(fd, 0, SEEK_CUR) == SIZE - 8, "open, read most");
    int w = open(F, O_WRONLY);
    REQUIRE(w >= 0 && lseek(w, 0, SEEK_END) == SIZE, "writer");
    for (uint32_t i = 0; i < SIZE / 4; i++)
        words[i] = SIZE + i * 4 + 7;
    REQUIRE(write(w, words, SIZE) == SIZE, "grow to 128 KiB");
    REQUIRE(read(fd, got, 16) == 16 && from(got, 8, SIZE - 8, 0) && from(got + 2, 8, SIZE, 7),
            "across the old end: %u %u", got[0], got[2]);
    REQUIRE(lseek(fd, SIZE + 100, SEEK_SET) == SIZE + 100, "lseek");
    int t = open(F, O_WRONLY | O_TRUNC);
    REQUIRE(t >= 0, "O_TRUNC: %s", strerror(errno));
    REQUIRE(read(fd, got, 16) == 0 && lseek(fd, 0, SEEK_CUR) == SIZE + 100, "after O_TRUNC: not EOF");
    REQUIRE(lseek(fd, 0, SEEK_END) == 0 && lseek(fd, 0, SEEK_SET) == 0, "SEEK_END of the empty file");
    REQUIRE(write(t, "ab", 2) == 2 && read(fd, got, 16) == 2 && !memcmp(got, "ab", 2), "rewritten");
    REQUIRE(read(fd, got, 16) == 0 && lseek(fd, 0, SEEK_CUR) == 2, "at the new end");
    close(t);
    close(w);
    close(fd);
    return unlink(F) == 0;
}

/* Files whose bytes are not ours to map (the initrd's pages; devices) keep fs's offset; a
 * directory's is not a file's. */
static bool t_pos_not_mapped(void)
{
    int a = open("/bin/sh", O_RDONLY);
    REQUIRE(a >= 0, "open /bin/sh");
    static uint8_t r1[4096], r2[4096];
    REQUIRE(read(a, r1, 100) == 100 && lseek(a, 0, SEEK_CUR) == 100, "initrd file: read moves the offset");
    int d = dup(a);
    REQUIRE(read(d, r2, 100) == 100 && pread(a, r1, 100, 100) == 100 && !memcmp(r1, r2, 100), "dup of it");
    close(d);
    close(a);
    int z = open("/dev/null", O_RDONLY);
    REQUIRE(z >= 0 && read(z, r1, 10) == 0, "/dev/null");
    close(z);
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    REQUIRE(dir >= 0 && ERRNO_IS(read(dir, r1, 10), EISDIR), "read of a directory: %s", strerror(errno));
    REQUIRE(ERRNO_IS(lseek(dir, 5, SEEK_SET), EINVAL), "lseek a directory to 5: %s", strerror(errno));
    close(dir);
    return true;
}

static const struct lanes_test filepos_tests[] = {
    { "read-pos-fork", t_pos_fork },
    { "read-pos-dup", t_pos_dup },
    { "read-pos-lseek", t_pos_lseek },
    { "read-pos-race", t_pos_race },
    { "read-pos-exec", t_pos_exec },
    { "read-pos-write-mix", t_pos_write_mix },
    { "read-pos-size-change", t_pos_size_change },
    { "read-pos-not-mapped", t_pos_not_mapped },
};

void filepos_tests_run(struct lanes_tests *t, int argc, char **argv)
{
    lanes_test_table(t, filepos_tests, sizeof filepos_tests / sizeof *filepos_tests, argc, argv, NULL);
}
