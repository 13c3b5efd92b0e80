/* posixtests — the POSIX layer's in-guest tests (os/programs/posix, os/programs/fs, libc's
 * posix.c), a table like usertests: `posixtests [PREFIX...]`, one "test NAME: ok|FAILED (why)"
 * line each, then "N passed, N failed".
 *
 * Must run as a POSIX process (from the shell). Helper modes, started by the tests through
 * posix_spawn: --exit N, --writer BYTES (a pattern to stdout), --reader BYTES (checks the pattern
 * on stdin; exit 0 if it all matched), --fill C N (N blocks of 4096 bytes of C to stdout),
 * --isopen FD (exit 0 if FD is open), --ppid (prints getppid), --sleep MS.
 * The last test checks that the server's live counters (processes, descriptions, pipes,
 * handles, parked requests) are back where they were when the run started.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/console.h>
#include <lanes/testing.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmcheck.h"

static const char *self_path = "/bin/posixtests";
int forkexec_helper(int argc, char **argv);                                   /* forkexec.c */
void forkexec_tests_run(struct lanes_tests *t, int argc, char **argv);
void rest_tests_run(struct lanes_tests *t, int argc, char **argv);          /* rest.c */
void filemap_tests_run(struct lanes_tests *t, int argc, char **argv);       /* filemap.c */
int filemap_helper(int argc, char **argv);
void filepos_tests_run(struct lanes_tests *t, int argc, char **argv);       /* filepos.c */
int filepos_helper(int argc, char **argv);
void pipesem_tests_run(struct lanes_tests *t, int argc, char **argv);       /* pipesem.c */
int supervise_helper(int argc, char **argv);                                  /* supervise.c */
static struct lane_msg_posix_counters start_counters;

static uint8_t pattern(uint64_t i) { return (uint8_t)((i * 131u + (i >> 12) * 7u) & 0xff); }

/* ---- helper modes ---- */

static int helper(int argc, char **argv)
{
    static uint8_t buf[16384];
    const char *m = argv[1];
    long a = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (!strcmp(m, "--exit"))
        return (int)a;
    if (!strcmp(m, "--writer")) {
        uint64_t done = 0;
        while (done < (uint64_t)a) {
            size_t k = (uint64_t)a - done > sizeof buf ? sizeof buf : (size_t)((uint64_t)a - done);
            for (size_t i = 0; i < k; i++)
                buf[i] = pattern(done + i);
            ssize_t w = write(1, buf, k);
            if (w <= 0)
                return 3;
            done += (uint64_t)w;
        }
        return 0;
    }
    if (!strcmp(m, "--reader")) {
        uint64_t done = 0;
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != pattern(done + (uint64_t)i))
                    return 4;
            done += (uint64_t)n;
        }
        return n < 0 ? 5 : done == (uint64_t)a ? 0 : 6;
    }
    if (!strcmp(m, "--fill")) {
        long n = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
        memset(buf, argv[2][0], 4096);
        for (long i = 0; i < n; i++)
            if (write(1, buf, 4096) != 4096)
                return 3;
        return 0;
    }
    if (!strcmp(m, "--isopen")) {
        struct stat st;
        return fstat((int)a, &st) == 0 ? 0 : errno == EBADF ? 1 : 2;
    }
    if (!strcmp(m, "--ppid")) {
        printf("%d %d\n", getppid(), getpid());
        return 0;
    }
    if (!strncmp(m, "--fx-", 5))
        return forkexec_helper(argc, argv);        /* forkexec.c */
    if (!strncmp(m, "--fm-", 5))
        return filemap_helper(argc, argv);         /* filemap.c */
    if (!strncmp(m, "--fp-", 5))
        return filepos_helper(argc, argv);         /* filepos.c */
    if (!strncmp(m, "--crash-", 8))
        return supervise_helper(argc, argv);       /* supervise.c: --crash-fs, --crash-posix */
    if (!strcmp(m, "--sleep")) {
        lanes_sys_sleep(LANES_MS(a));
        return 0;
    }
    return 99;
}

/* ---- helpers ---- */

static int spawn(pid_t *pid, posix_spawn_file_actions_t *fa, const char *a1, const char *a2, const char *a3)
{
    char *argv[5] = { (char *)"posixtests", (char *)a1, (char *)a2, (char *)a3, NULL };
    return posix_spawn(pid, self_path, fa, NULL, argv, NULL);
}

static int run_status(const char *a1, const char *a2)
{
    pid_t pid;
    int st;
    if (spawn(&pid, NULL, a1, a2, NULL) != 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return false;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    return close(fd) == 0 && ok;
}

static bool read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = 0;
    return true;
}

#define ERRNO_IS(call, e) ((call) == -1 && errno == (e))

/* ---- files ---- */

static bool t_open_enoent(void)
{
    REQUIRE(ERRNO_IS(open("/tmp/pt-nope", O_RDONLY), ENOENT), "errno %s", strerror(errno));
    REQUIRE(ERRNO_IS(open("/nodir/x", O_RDONLY | O_CREAT, 0644), ENOENT), "create in a missing dir: %s", strerror(errno));
    return true;
}

static bool t_creat_excl(void)
{
    REQUIRE(write_file("/tmp/pt-ex", "x"), "create: %s", strerror(errno));
    REQUIRE(ERRNO_IS(open("/tmp/pt-ex", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST), "errno %s", strerror(errno));
    unlink("/tmp/pt-ex");
    return true;
}

static bool t_write_read(void)
{
    REQUIRE(write_file("/tmp/pt-a", "hello, posix\n"), "write: %s", strerror(errno));
    char buf[64];
    REQUIRE(read_file("/tmp/pt-a", buf, sizeof buf), "read: %s", strerror(errno));
    REQUIRE(!strcmp(buf, "hello, posix\n"), "read back %s", buf);
    return true;
}

static bool t_lseek(void)
{
    int fd = open("/tmp/pt-a", O_RDWR);
    REQUIRE(fd >= 0, "open: %s", strerror(errno));
    REQUIRE(lseek(fd, 7, SEEK_SET) == 7, "SEEK_SET");
    char b[8] = { 0 };
    REQUIRE(read(fd, b, 5) == 5 && !memcmp(b, "posix", 5), "read at 7: %s", b);
    REQUIRE(lseek(fd, -2, SEEK_CUR) == 10, "SEEK_CUR");
    REQUIRE(lseek(fd, 0, SEEK_END) == 13, "SEEK_END");
    REQUIRE(ERRNO_IS(lseek(fd, -100, SEEK_SET), EINVAL), "negative: %s", strerror(errno));
    REQUIRE(read(fd, b, 5) == 0, "read at EOF");
    close(fd);
    return true;
}

static bool t_pread_pwrite(void)
{
    int fd = open("/tmp/pt-a", O_RDWR);
    REQUIRE(fd >= 0, "open");
    REQUIRE(pwrite(fd, "P", 1, 0) == 1, "pwrite");
    char b[8] = { 0 };
    REQUIRE(pread(fd, b, 5, 7) == 5 && !memcmp(b, "posix", 5), "pread");
    REQUIRE(lseek(fd, 0, SEEK_CUR) == 0, "the offset moved");
    REQUIRE(read(fd, b, 5) == 5 && !memcmp(b, "Pello", 5), "pwrite not seen: %.5s", b);
    close(fd);
    return true;
}

static bool t_append_trunc(void)
{
    REQUIRE(write_file("/tmp/pt-b", "one\n"), "create");
    int fd = open("/tmp/pt-b", O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0, "open append");
    lseek(fd, 0, SEEK_SET);
    REQUIRE(write(fd, "two\n", 4) == 4, "append");
    close(fd);
    char buf[32];
    REQUIRE(read_file("/tmp/pt-b", buf, sizeof buf) && !strcmp(buf, "one\ntwo\n"), "got %s", buf);
    fd = open("/tmp/pt-b", O_WRONLY | O_TRUNC);
    close(fd);
    struct stat st;
    REQUIRE(stat("/tmp/pt-b", &st) == 0 && st.st_size == 0, "size after O_TRUNC %lld", (long long)st.st_size);
    unlink("/tmp/pt-b");
    return true;
}

static bool t_stat_fstat(void)
{
    struct stat st;
    REQUIRE(stat("/tmp/pt-a", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 13, "stat file");
    REQUIRE(stat("/bin", &st) == 0 && S_ISDIR(st.st_mode), "stat dir");
    REQUIRE(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "stat /dev/null");
    int fd = open("/tmp/pt-a", O_RDONLY);
    REQUIRE(fstat(fd, &st) == 0 && st.st_size == 13, "fstat");
    close(fd);
    REQUIRE(ERRNO_IS(stat("/tmp/pt-a/x", &st), ENOTDIR), "through a file: %s", strerror(errno));
    return true;
}

static bool t_mkdir_rmdir(void)
{
    REQUIRE(mkdir("/tmp/pt-d", 0755) == 0, "mkdir: %s", strerror(errno));
    REQUIRE(ERRNO_IS(mkdir("/tmp/pt-d", 0755), EEXIST), "again: %s", strerror(errno));
    REQUIRE(write_file("/tmp/pt-d/f", "x"), "file in it");
    REQUIRE(ERRNO_IS(rmdir("/tmp/pt-d"), ENOTEMPTY), "non-empty: %s", strerror(errno));
    REQUIRE(ERRNO_IS(unlink("/tmp/pt-d"), EISDIR), "unlink a dir: %s", strerror(errno));
    REQUIRE(ERRNO_IS(rmdir("/tmp/pt-d/f"), ENOTDIR), "rmdir a file: %s", strerror(errno));
    REQUIRE(unlink("/tmp/pt-d/f") == 0 && rmdir("/tmp/pt-d") == 0, "cleanup: %s", strerror(errno));
    REQUIRE(ERRNO_IS(rmdir("/tmp/pt-d"), ENOENT), "gone: %s", strerror(errno));
    return true;
}

static bool t_rename(void)
{
    REQUIRE(write_file("/tmp/pt-r1", "renamed\n"), "create");
    REQUIRE(rename("/tmp/pt-r1", "/tmp/pt-r2") == 0, "rename: %s", strerror(errno));
    char buf[32];
    REQUIRE(ERRNO_IS(open("/tmp/pt-r1", O_RDONLY), ENOENT), "old name still there");
    REQUIRE(read_file("/tmp/pt-r2", buf, sizeof buf) && !strcmp(buf, "renamed\n"), "re-read: %s", buf);
    REQUIRE(write_file("/tmp/pt-r3", "other"), "create 3");
    REQUIRE(rename("/tmp/pt-r2", "/tmp/pt-r3") == 0, "over an existing file");
    REQUIRE(read_file("/tmp/pt-r3", buf, sizeof buf) && !strcmp(buf, "renamed\n"), "replaced: %s", buf);
    REQUIRE(mkdir("/tmp/pt-rd", 0755) == 0, "mkdir");
    REQUIRE(ERRNO_IS(rename("/tmp/pt-rd", "/tmp/pt-rd/sub"), EINVAL), "into itself: %s", strerror(errno));
    REQUIRE(ERRNO_IS(rename("/tmp/pt-nope", "/tmp/x"), ENOENT), "missing: %s", strerror(errno));
    REQUIRE(unlink("/tmp/pt-r3") == 0 && rmdir("/tmp/pt-rd") == 0, "cleanup");
    return true;
}

static bool t_unlink_open(void)
{
    REQUIRE(write_file("/tmp/pt-u", "still here"), "create");
    int fd = open("/tmp/pt-u", O_RDONLY);
    REQUIRE(unlink("/tmp/pt-u") == 0, "unlink");
    char b[16] = { 0 };
    REQUIRE(read(fd, b, 10) == 10 && !strcmp(b, "still here"), "read after unlink: %s", b);
    close(fd);
    REQUIRE(ERRNO_IS(open("/tmp/pt-u", O_RDONLY), ENOENT), "name gone");
    return true;
}

static bool t_getdents_500(void)
{
    REQUIRE(mkdir("/tmp/pt-many", 0755) == 0, "mkdir: %s", strerror(errno));
    char p[64];
    for (int i = 0; i < 500; i++) {
        snprintf(p, sizeof p, "/tmp/pt-many/f%03d", i);
        int fd = open(p, O_WRONLY | O_CREAT, 0644);
        REQUIRE(fd >= 0, "create %s: %s", p, strerror(errno));
        close(fd);
    }
    static uint8_t seen[500];
    memset(seen, 0, sizeof seen);
    DIR *d = opendir("/tmp/pt-many");
    REQUIRE(d, "opendir: %s", strerror(errno));
    struct dirent *e;
    int n = 0, dots = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            dots++;
            continue;
        }
        int k = atoi(e->d_name + 1);
        REQUIRE(e->d_name[0] == 'f' && k >= 0 && k < 500 && !seen[k], "odd or repeated entry %s", e->d_name);
        seen[k] = 1;
        n++;
    }
    closedir(d);
    REQUIRE(n == 500 && dots == 2, "%d entries, %d dots", n, dots);
    for (int i = 0; i < 500; i++) {
        snprintf(p, sizeof p, "/tmp/pt-many/f%03d", i);
        REQUIRE(unlink(p) == 0, "unlink %s", p);
    }
    REQUIRE(rmdir("/tmp/pt-many") == 0, "rmdir: %s", strerror(errno));
    return true;
}

static bool t_getdents_errors(void)
{
    int fd = open("/tmp/pt-a", O_RDONLY);
    char b[512];
    REQUIRE(ERRNO_IS(getdents(fd, b, sizeof b), ENOTDIR), "on a file: %s", strerror(errno));
    close(fd);
    fd = open("/bin", O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0, "open dir");
    REQUIRE(ERRNO_IS(getdents(fd, b, 8), EINVAL), "tiny buffer: %s", strerror(errno));
    REQUIRE(ERRNO_IS(read(fd, b, 8), EISDIR), "read a dir: %s", strerror(errno));
    close(fd);
    REQUIRE(ERRNO_IS(open("/tmp/pt-a", O_RDONLY | O_DIRECTORY), ENOTDIR), "O_DIRECTORY on a file");
    REQUIRE(ERRNO_IS(open("/bin", O_WRONLY), EISDIR), "write-open a dir: %s", strerror(errno));
    return true;
}

static bool t_chdir_getcwd(void)
{
    char cwd[256];
    REQUIRE(getcwd(cwd, sizeof cwd) && !strcmp(cwd, "/"), "start cwd %s", cwd);
    REQUIRE(mkdir("/tmp/pt-cd", 0755) == 0, "mkdir");
    REQUIRE(chdir("/tmp/pt-cd") == 0, "chdir: %s", strerror(errno));
    REQUIRE(getcwd(cwd, sizeof cwd) && !strcmp(cwd, "/tmp/pt-cd"), "cwd %s", cwd);
    REQUIRE(write_file("rel", "r"), "relative create");
    struct stat st;
    REQUIRE(stat("/tmp/pt-cd/rel", &st) == 0, "not where expected");
    REQUIRE(chdir("../pt-cd/./..//") == 0 && getcwd(cwd, sizeof cwd) && !strcmp(cwd, "/tmp"), "dots: %s", cwd);
    REQUIRE(ERRNO_IS(chdir("/tmp/pt-a"), ENOTDIR), "chdir to a file: %s", strerror(errno));
    REQUIRE(ERRNO_IS(chdir("/nope"), ENOENT), "missing");
    REQUIRE(getcwd(cwd, 3) == NULL && errno == ERANGE, "small buffer: %s", strerror(errno));
    REQUIRE(unlink("pt-cd/rel") == 0 && rmdir("pt-cd") == 0 && chdir("/") == 0, "cleanup");
    return true;
}

static bool t_openat(void)
{
    int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    REQUIRE(dfd >= 0, "open dir");
    int fd = openat(dfd, "pt-a", O_RDONLY);
    REQUIRE(fd >= 0, "openat: %s", strerror(errno));
    close(fd);
    int f2 = open("/tmp/pt-a", O_RDONLY);
    REQUIRE(ERRNO_IS(openat(f2, "x", O_RDONLY), ENOTDIR), "dirfd a file: %s", strerror(errno));
    REQUIRE(ERRNO_IS(openat(200, "x", O_RDONLY), EBADF), "bad dirfd: %s", strerror(errno));
    close(f2);
    close(dfd);
    return true;
}

static bool t_dev_null(void)
{
    int fd = open("/dev/null", O_RDWR);
    REQUIRE(fd >= 0, "open: %s", strerror(errno));
    REQUIRE(write(fd, "abc", 3) == 3, "write");
    char b[4];
    REQUIRE(read(fd, b, 4) == 0, "read");
    close(fd);
    REQUIRE(ERRNO_IS(open("/dev/null/x", O_RDONLY), ENOTDIR), "below null: %s", strerror(errno));
    return true;
}

/* /dev/console opened by its path (not the fds 0-2 the shell hands down): a character device,
 * and what is written to it reaches the console — os-test looks for the marker line there (the
 * line names our pid, which `why` repeats, so an old line cannot stand in for it). */
static bool t_dev_console(void)
{
    struct stat st;
    REQUIRE(stat("/dev/console", &st) == 0 && S_ISCHR(st.st_mode), "stat: %s, mode %#o", strerror(errno),
            (unsigned)st.st_mode);
    int fd = open("/dev/console", O_WRONLY);
    REQUIRE(fd >= 0, "open O_WRONLY: %s", strerror(errno));
    REQUIRE(fd > 2, "fd %d: 0-2 were open", fd);
    REQUIRE(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "fstat: %s, mode %#o", strerror(errno), (unsigned)st.st_mode);
    char line[80];
    int n = snprintf(line, sizeof line, "posixtests: written to /dev/console by path, pid %d\n", (int)getpid());
    lanes_console_flush();                          /* (our stdout first: the marker on a line of its own) */
    REQUIRE(write(fd, line, (size_t)n) == n, "write: %s", strerror(errno));
    int d = dup(fd);
    REQUIRE(d >= 0 && fstat(d, &st) == 0 && S_ISCHR(st.st_mode), "dup: %s", strerror(errno));
    REQUIRE(close(d) == 0 && close(fd) == 0, "close: %s", strerror(errno));
    REQUIRE(ERRNO_IS(write(fd, "x", 1), EBADF), "write after close: %s", strerror(errno));
    REQUIRE(ERRNO_IS(open("/dev/console/x", O_RDONLY), ENOTDIR), "below console: %s", strerror(errno));
    snprintf(why, sizeof why, "pid %d", (int)getpid());
    return true;
}

/* ---- fds ---- */

static bool t_bad_fd(void)
{
    char b[4];
    struct stat st;
    REQUIRE(ERRNO_IS(read(77, b, 1), EBADF), "read");
    REQUIRE(ERRNO_IS(write(77, b, 1), EBADF), "write");
    REQUIRE(ERRNO_IS(close(77), EBADF), "close");
    REQUIRE(ERRNO_IS(dup(77), EBADF), "dup");
    REQUIRE(ERRNO_IS(fstat(77, &st), EBADF), "fstat");
    REQUIRE(ERRNO_IS(lseek(77, 0, SEEK_SET), EBADF), "lseek");
    REQUIRE(ERRNO_IS(read(-1, b, 1), EBADF), "negative fd");
    REQUIRE(ERRNO_IS(read(100000, b, 1), EBADF), "huge fd");
    REQUIRE(ERRNO_IS(dup2(0, 100000), EBADF), "dup2 out of range");
    REQUIRE(ERRNO_IS(fcntl(77, F_GETFD), EBADF), "fcntl");
    return true;
}

static bool t_bad_pointer(void)
{
    int fd = open("/tmp/pt-a", O_RDONLY);
    REQUIRE(ERRNO_IS(read(fd, NULL, 4), EFAULT), "read into NULL: %s", strerror(errno));
    REQUIRE(ERRNO_IS(open(NULL, O_RDONLY), EFAULT), "NULL path: %s", strerror(errno));
    REQUIRE(ERRNO_IS(fstat(fd, NULL), EFAULT), "fstat NULL");
    REQUIRE(ERRNO_IS(pipe(NULL), EFAULT), "pipe NULL");
    close(fd);
    return true;
}

static bool t_dup_shares_offset(void)
{
    int fd = open("/tmp/pt-a", O_RDONLY);
    int d = dup(fd);
    REQUIRE(d > fd, "dup gave %d", d);
    char b[8];
    REQUIRE(read(fd, b, 4) == 4, "read");
    REQUIRE(lseek(d, 0, SEEK_CUR) == 4, "offset not shared");
    close(fd);
    REQUIRE(read(d, b, 3) == 3 && !memcmp(b, "o, ", 3), "dup after close of the original");
    close(d);
    return true;
}

static bool t_dup2_onto_open(void)
{
    REQUIRE(write_file("/tmp/pt-x", "XXXX"), "x");
    int a = open("/tmp/pt-a", O_RDONLY), b = open("/tmp/pt-x", O_RDONLY);
    REQUIRE(dup2(a, b) == b, "dup2: %s", strerror(errno));
    char c[4];
    REQUIRE(read(b, c, 4) == 4 && !memcmp(c, "Pell", 4), "b is not a now: %.4s", c);
    REQUIRE(dup2(a, a) == a, "dup2 onto itself");
    close(a);
    close(b);
    unlink("/tmp/pt-x");
    return true;
}

static bool t_fcntl(void)
{
    int fd = open("/tmp/pt-a", O_RDWR | O_APPEND | O_CLOEXEC);
    REQUIRE(fcntl(fd, F_GETFD) == FD_CLOEXEC, "GETFD");
    REQUIRE(fcntl(fd, F_SETFD, 0) == 0 && fcntl(fd, F_GETFD) == 0, "SETFD");
    REQUIRE((fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND)) == (O_RDWR | O_APPEND), "GETFL %x", fcntl(fd, F_GETFL));
    REQUIRE(fcntl(fd, F_SETFL, O_NONBLOCK) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK), "SETFL");
    int d = fcntl(fd, F_DUPFD, 40);
    REQUIRE(d == 40, "F_DUPFD 40 gave %d", d);
    REQUIRE(fcntl(d, F_GETFD) == 0, "dup has no cloexec");
    REQUIRE(ERRNO_IS(fcntl(fd, 999), EINVAL), "bad cmd");
    close(d);
    close(fd);
    return true;
}

static bool t_emfile(void)
{
    int fds[300], n = 0;
    for (; n < 300; n++) {
        fds[n] = open("/dev/null", O_RDONLY);
        if (fds[n] < 0)
            break;
    }
    bool ok = n < 300 && errno == EMFILE;
    int e = errno;
    for (int i = 0; i < n; i++)
        close(fds[i]);
    REQUIRE(ok, "opened %d, errno %s", n, strerror(e));
    REQUIRE(n > 200, "only %d fds", n);
    return true;
}

static bool t_name_too_long(void)
{
    size_t n = 100 * 1024;
    char *p = malloc(n + 1);
    REQUIRE(p, "malloc");
    memset(p, 'a', n);
    p[0] = '/';
    p[n] = 0;
    bool a = ERRNO_IS(open(p, O_RDONLY), ENAMETOOLONG);
    bool b = ERRNO_IS(mkdir(p, 0755), ENAMETOOLONG);
    memset(p + 1, 'b', 300);
    p[301] = 0;
    bool c = ERRNO_IS(open(p, O_RDONLY | O_CREAT, 0644), ENAMETOOLONG);   /* a 300-byte name */
    free(p);
    REQUIRE(a && b, "100 KiB path: %s", strerror(errno));
    REQUIRE(c, "300-byte component: %s", strerror(errno));
    return true;
}

/* ---- malformed requests straight on the lane ---- */

static bool t_malformed(void)
{
    struct lane_msg_posix_counters c0, c1;
    REQUIRE(lanes_posix_counters(&c0) == 0, "counters");
    struct lane_msg_posix_reply rep;
    uint8_t junk[64];
    memset(junk, 0xa5, sizeof junk);
    int64_t r = lanes_posix_raw(junk, sizeof junk, &rep, sizeof rep);
    REQUIRE(r == sizeof rep && rep.error == -EPROTO, "junk: %lld error %d", (long long)r, rep.error);
    struct lane_msg_posix_open op = lanes_msg_posix_open_encode(AT_FDCWD, 0, 0, 5000);
    r = lanes_posix_raw(&op, sizeof op, &rep, sizeof rep);          /* path shorter than said */
    REQUIRE(r == sizeof rep && rep.error == -EPROTO, "short path: error %d", rep.error);
    r = lanes_posix_raw(&op, 6, &rep, sizeof rep);                  /* truncated header */
    REQUIRE(r == sizeof rep && rep.error == -EPROTO, "truncated: error %d", rep.error);
    struct lane_msg_posix_spawn sp = lanes_msg_posix_spawn_encode(12345, 1000, 0, 0);
    r = lanes_posix_raw(&sp, sizeof sp, &rep, sizeof rep);
    REQUIRE(r == sizeof rep && rep.error == -EPROTO, "spawn with 1000 actions: error %d", rep.error);
    uint8_t *big = malloc(100 * 1024);
    REQUIRE(big, "malloc");
    memset(big, 0, 100 * 1024);
    memcpy(big, &op, sizeof op);
    r = lanes_posix_raw(big, 100 * 1024, &rep, sizeof rep);         /* longer than any request */
    free(big);
    REQUIRE(r < 0 || rep.error == -E2BIG || rep.error == -EPROTO, "100 KiB request: %lld error %d", (long long)r,
            rep.error);
    REQUIRE(lanes_posix_counters(&c1) == 0 && c1.malformed >= c0.malformed + 4, "malformed %llu -> %llu",
            (unsigned long long)c0.malformed, (unsigned long long)c1.malformed);
    REQUIRE(c1.files == c0.files && c1.handles == c0.handles, "leaked: files %u->%u handles %u->%u", c0.files, c1.files,
            c0.handles, c1.handles);
    return true;
}

/* ---- pipes ---- */

static bool t_pipe_basic(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0, "pipe: %s", strerror(errno));
    REQUIRE(write(p[1], "ping", 4) == 4, "write");
    char b[8];
    REQUIRE(read(p[0], b, sizeof b) == 4 && !memcmp(b, "ping", 4), "read");
    struct stat st;
    REQUIRE(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat mode %o", st.st_mode);
    REQUIRE(ERRNO_IS(lseek(p[0], 0, SEEK_SET), ESPIPE), "lseek: %s", strerror(errno));
    REQUIRE(ERRNO_IS(write(p[0], "x", 1), EBADF), "write to the read end: %s", strerror(errno));
    REQUIRE(ERRNO_IS(read(p[1], b, 1), EBADF), "read the write end: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    return true;
}

static bool t_pipe_eof(void)
{
    int p[2];
    pipe(p);
    write(p[1], "ab", 2);
    close(p[1]);
    char b[8];
    REQUIRE(read(p[0], b, 8) == 2, "data before EOF");
    REQUIRE(read(p[0], b, 8) == 0, "EOF");
    close(p[0]);
    return true;
}

static bool t_pipe_epipe(void)
{
    int p[2];
    pipe(p);
    close(p[0]);
    REQUIRE(ERRNO_IS(write(p[1], "x", 1), EPIPE), "errno %s", strerror(errno));
    close(p[1]);
    return true;
}

static bool t_pipe_nonblock(void)
{
    int p[2];
    REQUIRE(pipe2(p, O_NONBLOCK) == 0, "pipe2");
    char b[4096];
    REQUIRE(ERRNO_IS(read(p[0], b, 1), EAGAIN), "empty: %s", strerror(errno));
    memset(b, 'z', sizeof b);
    int n = 0;
    while (write(p[1], b, sizeof b) == (ssize_t)sizeof b)
        n++;
    REQUIRE(errno == EAGAIN && n == 16, "filled %d blocks of 4 KiB (64 KiB expected), errno %s", n, strerror(errno));
    REQUIRE(ERRNO_IS(write(p[1], b, 1), EAGAIN), "full");
    REQUIRE(read(p[0], b, 10) == 10, "read some");
    REQUIRE(ERRNO_IS(write(p[1], b, 100), EAGAIN), "atomic write of 100 with 10 free: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    return true;
}

static bool transfer(uint64_t bytes, bool to_child)
{
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0, "pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_child ? p[0] : p[1], to_child ? 0 : 1);
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)bytes);
    pid_t pid;
    int e = spawn(&pid, &fa, to_child ? "--reader" : "--writer", num, NULL);
    REQUIRE(e == 0, "spawn: %s", strerror(e));
    close(to_child ? p[0] : p[1]);
    static uint8_t buf[16384];
    uint64_t done = 0;
    bool ok = true;
    if (to_child) {
        while (done < bytes) {
            size_t k = bytes - done > sizeof buf ? sizeof buf : (size_t)(bytes - done);
            for (size_t i = 0; i < k; i++)
                buf[i] = pattern(done + i);
            ssize_t w = write(p[1], buf, k);
            if (w <= 0) {
                ok = false;
                break;
            }
            done += (uint64_t)w;
        }
        close(p[1]);
    } else {
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n && ok; i++)
                ok = buf[i] == pattern(done + (uint64_t)i);
            done += (uint64_t)n;
        }
        close(p[0]);
    }
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid, "waitpid");
    REQUIRE(ok && done == bytes, "moved %llu of %llu bytes, %s", (unsigned long long)done, (unsigned long long)bytes,
            ok ? "in order" : "MISMATCH");
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
    return true;
}

static bool t_pipe_10m_to_child(void) { return transfer(10u << 20, true); }
static bool t_pipe_10m_from_child(void) { return transfer(10u << 20, false); }

static bool t_pipe_atomic(void)
{
    int p[2];
    pipe2(p, O_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    pid_t a, b;
    REQUIRE(spawn(&a, &fa, "--fill", "A", "64") == 0 && spawn(&b, &fa, "--fill", "B", "64") == 0, "spawn");
    close(p[1]);
    static uint8_t buf[4096];
    size_t fill = 0;
    int blocks = 0;
    bool ok = true;
    ssize_t n;
    uint8_t cur = 0;
    while ((n = read(p[0], buf, sizeof buf - fill)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (fill == 0)
                cur = buf[i];
            else if (buf[i] != cur)
                ok = false;
            if (++fill == 4096) {
                fill = 0;
                blocks++;
            }
        }
    }
    close(p[0]);
    int st;
    waitpid(a, &st, 0);
    waitpid(b, &st, 0);
    REQUIRE(ok && blocks == 128 && fill == 0, "%d blocks, interleaved inside a PIPE_BUF write: %s", blocks, ok ? "no" : "YES");
    return true;
}

static bool t_pipeline_4(void)
{
    /* posixtests --writer N | cat | cat | posixtests --reader N */
    int prev = -1;
    pid_t pids[4];
    const uint64_t n = 1u << 20;
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)n);
    for (int i = 0; i < 4; i++) {
        int p[2] = { -1, -1 };
        if (i < 3)
            REQUIRE(pipe2(p, O_CLOEXEC) == 0, "pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (prev >= 0)
            posix_spawn_file_actions_adddup2(&fa, prev, 0);
        if (p[1] >= 0)
            posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        int e;
        if (i == 0 || i == 3) {
            e = spawn(&pids[i], &fa, i == 0 ? "--writer" : "--reader", num, NULL);
        } else {
            char *argv[] = { (char *)"cat", NULL };
            e = posix_spawn(&pids[i], "/bin/cat", &fa, NULL, argv, NULL);
        }
        REQUIRE(e == 0, "spawn %d: %s", i, strerror(e));
        if (prev >= 0)
            close(prev);
        if (p[1] >= 0)
            close(p[1]);
        prev = p[0];
    }
    for (int i = 0; i < 4; i++) {
        int st;
        REQUIRE(waitpid(pids[i], &st, 0) == pids[i], "wait %d", i);
        REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "stage %d status %#x", i, st);
    }
    return true;
}

/* ---- processes ---- */

static bool t_exit_status(void)
{
    int st = run_status("--exit", "42");
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %#x", st);
    st = run_status("--exit", "0");
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    pid_t pid;
    char *argv[] = { (char *)"false", NULL };
    REQUIRE(posix_spawnp(&pid, "false", NULL, NULL, argv, NULL) == 0, "spawnp false");
    REQUIRE(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 1, "false: %#x", st);
    return true;
}

static bool t_spawn_errors(void)
{
    pid_t pid;
    char *argv[] = { (char *)"x", NULL };
    REQUIRE(posix_spawn(&pid, "/bin/nope", NULL, NULL, argv, NULL) == ENOENT, "missing program");
    REQUIRE(posix_spawn(&pid, "/tmp/pt-a", NULL, NULL, argv, NULL) == ENOEXEC, "not an ELF");
    REQUIRE(posix_spawn(&pid, "/bin", NULL, NULL, argv, NULL) == EACCES, "a directory");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, 150, 1);
    REQUIRE(spawn(&pid, &fa, "--exit", "0", NULL) == EBADF, "dup2 of a closed fd");
    return true;
}

static bool t_wait_nohang_echild(void)
{
    int st;
    REQUIRE(ERRNO_IS(waitpid(-1, &st, 0), ECHILD), "no children: %s", strerror(errno));
    pid_t pid;
    REQUIRE(spawn(&pid, NULL, "--sleep", "300", NULL) == 0, "spawn");
    REQUIRE(waitpid(pid, &st, WNOHANG) == 0, "WNOHANG while running");
    REQUIRE(ERRNO_IS(waitpid(pid + 1000, &st, 0), ECHILD), "not my child");
    REQUIRE(waitpid(-1, &st, 0) == pid && WIFEXITED(st), "then it ends");
    REQUIRE(ERRNO_IS(waitpid(pid, &st, WNOHANG), ECHILD), "reaped once");
    REQUIRE(ERRNO_IS(waitpid(-1, &st, 0x40), EINVAL), "bad options");
    return true;
}

static bool t_wait_any_order(void)
{
    pid_t a, b, c;
    REQUIRE(spawn(&a, NULL, "--exit", "1", NULL) == 0 && spawn(&b, NULL, "--exit", "2", NULL) == 0 &&
                spawn(&c, NULL, "--exit", "3", NULL) == 0,
            "spawn");
    int got = 0, st;
    for (int i = 0; i < 3; i++) {
        pid_t p = waitpid(-1, &st, 0);
        int want = p == a ? 1 : p == b ? 2 : p == c ? 3 : -1;
        REQUIRE(want > 0 && WEXITSTATUS(st) == want, "pid %d status %#x", p, st);
        got |= 1 << want;
    }
    REQUIRE(got == 0xe, "not all three");
    return true;
}

static bool t_fault_status(void)
{
    pid_t pid;
    char *argv[] = { (char *)"fault-null", NULL };
    REQUIRE(posix_spawn(&pid, "/bin/fault-null", NULL, NULL, argv, NULL) == 0, "spawn");
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid, "wait");
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x, not SIGSEGV", st);
    return true;
}

static bool t_kill(void)
{
    pid_t pid;
    REQUIRE(spawn(&pid, NULL, "--sleep", "20000", NULL) == 0, "spawn");
    REQUIRE(kill(pid, 0) == 0, "exists");
    REQUIRE(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
    REQUIRE(ERRNO_IS(kill(pid, 0), ESRCH), "gone: %s", strerror(errno));
    REQUIRE(ERRNO_IS(kill(getpid(), 99), EINVAL), "bad signal");
    return true;
}

/* "A B" -> two numbers */
static bool sscanf_like(const char *s, int *a, int *b)
{
    char *end;
    *a = (int)strtol(s, &end, 10);
    if (end == s)
        return false;
    const char *t = end;
    *b = (int)strtol(t, &end, 10);
    return end != t;
}

static bool t_ids(void)
{
    int p[2];
    pipe2(p, O_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    pid_t pid;
    REQUIRE(spawn(&pid, &fa, "--ppid", NULL, NULL) == 0, "spawn");
    close(p[1]);
    char b[64] = { 0 };
    ssize_t n = read(p[0], b, sizeof b - 1);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    int pp = 0, me = 0;
    REQUIRE(n > 0 && sscanf_like(b, &pp, &me), "output %s", b);
    REQUIRE(pp == getpid() && me == pid, "child says ppid %d pid %d; we are %d, it is %d", pp, me, getpid(), pid);
    REQUIRE(getpid() > 1 && gettid() > 0, "pid %d tid %d", getpid(), gettid());
    return true;
}

static bool t_pgid(void)
{
    pid_t me = getpid();
    pid_t g = getpgid(0);
    REQUIRE(g > 0 && getpgrp() == g, "pgid %d", g);
    pid_t pid;
    REQUIRE(spawn(&pid, NULL, "--sleep", "500", NULL) == 0, "spawn");
    REQUIRE(getpgid(pid) == g, "child inherits the group");
    REQUIRE(setpgid(pid, pid) == 0 && getpgid(pid) == pid, "own group: %s", strerror(errno));
    REQUIRE(setpgid(pid, g) == 0 && getpgid(pid) == g, "back");
    REQUIRE(ERRNO_IS(setpgid(pid, 99999), EPERM), "no such group: %s", strerror(errno));
    REQUIRE(ERRNO_IS(getpgid(99999), ESRCH), "no such process");
    REQUIRE(ERRNO_IS(setpgid(99999, 0), ESRCH), "not a child");
    (void)me;
    int st;
    waitpid(pid, &st, 0);
    return true;
}

static bool t_fd_inherit_cloexec(void)
{
    int keep = open("/tmp/pt-a", O_RDONLY);
    int gone = open("/tmp/pt-a", O_RDONLY | O_CLOEXEC);
    char k[8], g[8];
    snprintf(k, sizeof k, "%d", keep);
    snprintf(g, sizeof g, "%d", gone);
    int st1 = run_status("--isopen", k), st2 = run_status("--isopen", g);
    close(keep);
    close(gone);
    REQUIRE(WIFEXITED(st1) && WEXITSTATUS(st1) == 0, "inherited fd not open in the child: %#x", st1);
    REQUIRE(WIFEXITED(st2) && WEXITSTATUS(st2) == 1, "close-on-exec fd open in the child: %#x", st2);
    return true;
}

static bool t_inherited_offset(void)
{
    int fd = open("/tmp/pt-o", O_RDWR | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    pid_t pid;
    REQUIRE(spawn(&pid, &fa, "--fill", "Q", "1") == 0, "spawn");
    int st;
    waitpid(pid, &st, 0);
    REQUIRE(lseek(fd, 0, SEEK_CUR) == 4096, "the child's writes moved our shared offset to %lld",
            (long long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    unlink("/tmp/pt-o");
    return true;
}

static volatile pid_t thr_pid, thr_tid;
static void thr_fn(void *arg)
{
    (void)arg;
    thr_pid = getpid();
    thr_tid = gettid();
}

static bool t_thread_ids(void)
{
    lanes_thread_t t;
    REQUIRE(lanes_thread_start(&t, thr_fn, NULL, 0) == 0, "thread");
    lanes_thread_join(&t, LANES_SEC(10));
    REQUIRE(thr_pid == getpid(), "getpid in a thread %d, in main %d", thr_pid, getpid());
    REQUIRE(thr_tid != gettid() && thr_tid > 0, "gettid %d vs %d", thr_tid, gettid());
    return true;
}

static bool t_time(void)
{
    struct timespec a, b;
    REQUIRE(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "clock");
    struct timespec d = { 0, 50 * 1000 * 1000 };
    REQUIRE(nanosleep(&d, NULL) == 0, "nanosleep");
    clock_gettime(CLOCK_MONOTONIC, &b);
    int64_t ns = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
    REQUIRE(ns >= 50 * 1000 * 1000, "slept %lld ns", (long long)ns);
    d.tv_nsec = 2000000000L;
    REQUIRE(ERRNO_IS(nanosleep(&d, NULL), EINVAL), "bad nsec");
    REQUIRE(ERRNO_IS(clock_gettime(42, &a), EINVAL), "bad clock");
    return true;
}

static bool t_umask(void)
{
    mode_t old = umask(077);
    int fd = open("/tmp/pt-m", O_WRONLY | O_CREAT, 0666);
    close(fd);
    struct stat st;
    stat("/tmp/pt-m", &st);
    umask(old);
    unlink("/tmp/pt-m");
    REQUIRE((st.st_mode & 0777) == 0600, "mode %o with umask 077", st.st_mode & 0777);
    REQUIRE(old == 022, "default umask %o", old);
    return true;
}

/* posix's counters back where c0 had them (parked requests, pipes, files, handles), within a second. */
static bool counters_back(const struct lane_msg_posix_counters *c0p)
{
    struct lane_msg_posix_counters c0 = *c0p, c1;
    for (int i = 0; i < 100; i++) {
        lanes_posix_counters(&c1);
        if (c1.parked == c0.parked && c1.pipes == c0.pipes && c1.handles == c0.handles)
            break;
        lanes_sys_sleep(LANES_MS(10));
    }
    REQUIRE(c1.parked == c0.parked && c1.pipes == c0.pipes && c1.files == c0.files && c1.handles == c0.handles,
            "parked %u->%u pipes %u->%u files %u->%u handles %u->%u", c0.parked, c1.parked, c0.pipes, c1.pipes,
            c0.files, c1.files, c0.handles, c1.handles);
    return true;
}

/* cat with its stdin on fd: it blocks reading it. Its pid, or -1. */
static pid_t cat_from(int fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 0);
    pid_t pid;
    char *argv[] = { (char *)"cat", NULL };
    int e = posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, NULL);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        errno = e;
        return -1;
    }
    return pid;
}

static bool t_killed_while_parked(void)
{
    /* A reader blocked inside the server (a pipe read with a writer but no data), then killed:
     * its parked request must be dropped and nothing left behind. Asking for the lane hands
     * the pipe to posix (libc would otherwise wait on the pipe's ring: killed-on-ring). */
    struct lane_msg_posix_counters c0, c1;
    lanes_posix_counters(&c0);
    int p[2];
    pipe2(p, O_CLOEXEC);
    REQUIRE(lanes_posix_fd_lane(p[0]) >= 0, "the pipe's lane: %s", strerror(errno));
    pid_t pid = cat_from(p[0]);
    REQUIRE(pid > 0, "spawn cat: %s", strerror(errno));
    for (int i = 0; i < 200 && lanes_posix_counters(&c1) == 0 && c1.parked == c0.parked; i++)
        lanes_sys_sleep(LANES_MS(10));
    REQUIRE(c1.parked == c0.parked + 1, "the read never parked (parked %u)", c1.parked);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    close(p[0]);
    close(p[1]);
    return counters_back(&c0);
}

static bool t_killed_on_ring(void)
{
    /* A reader waiting on a pipe's ring (a futex wait, not parked in posix), then killed: the
     * pipe still works for the others (its lock free, its bytes whole) and nothing is left. */
    struct lane_msg_posix_counters c0, c1;
    lanes_posix_counters(&c0);
    int p[2];
    pipe2(p, O_CLOEXEC);
    pid_t pid = cat_from(p[0]);
    REQUIRE(pid > 0, "spawn cat: %s", strerror(errno));
    lanes_sys_sleep(LANES_MS(150));
    lanes_posix_counters(&c1);
    REQUIRE(c1.parked == c0.parked, "the read parked in posix (parked %u -> %u): not on the ring", c0.parked, c1.parked);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "cat's status %#x", st);
    char b[8];
    REQUIRE(write(p[1], "abc", 3) == 3 && read(p[0], b, sizeof b) == 3 && !memcmp(b, "abc", 3),
            "the pipe after its reader was killed: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    return counters_back(&c0);
}

static bool t_spawn_rounds(void)
{
    /* 200 spawn/exit/wait rounds: the server's counters and the kernel's free memory come back */
    struct lane_msg_posix_counters c0, c1;
    lanes_posix_counters(&c0);
    for (int i = 0; i < 5; i++)
        run_status("--exit", "0");                  /* warm up caches */
    struct mm_snap before, after;
    mm_settle(&before);
    for (int i = 0; i < 200; i++) {
        int st = run_status("--exit", "7");
        REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 7, "round %d status %#x", i, st);
    }
    char msg[256];
    bool same = mm_check(&before, &after, msg, sizeof msg);
    lanes_posix_counters(&c1);
    REQUIRE(c1.processes == c0.processes && c1.handles == c0.handles && c1.files == c0.files, "server leaked");
    REQUIRE(same, "memory lost: %s", msg);
    snprintf(why, sizeof why, "%s", msg);
    return true;
}

static bool t_counters_back(void)
{
    struct lane_msg_posix_counters c;
    REQUIRE(lanes_posix_counters(&c) == 0, "counters");
    REQUIRE(c.processes == start_counters.processes && c.zombies == start_counters.zombies &&
                c.files == start_counters.files && c.pipes == start_counters.pipes &&
                c.handles == start_counters.handles && c.parked == start_counters.parked,
            "processes %u->%u zombies %u->%u files %u->%u pipes %u->%u handles %u->%u parked %u->%u",
            start_counters.processes, c.processes, start_counters.zombies, c.zombies, start_counters.files, c.files,
            start_counters.pipes, c.pipes, start_counters.handles, c.handles, start_counters.parked, c.parked);
    snprintf(why, sizeof why, "%llu requests served, %llu malformed", (unsigned long long)c.served,
             (unsigned long long)c.malformed);
    return true;
}

static const struct lanes_test tests[] = {
    { "open-enoent", t_open_enoent },
    { "creat-excl", t_creat_excl },
    { "write-read", t_write_read },
    { "lseek", t_lseek },
    { "pread-pwrite", t_pread_pwrite },
    { "append-trunc", t_append_trunc },
    { "stat-fstat", t_stat_fstat },
    { "mkdir-rmdir", t_mkdir_rmdir },
    { "rename", t_rename },
    { "unlink-open", t_unlink_open },
    { "getdents-500", t_getdents_500 },
    { "getdents-errors", t_getdents_errors },
    { "chdir-getcwd", t_chdir_getcwd },
    { "openat", t_openat },
    { "dev-null", t_dev_null },
    { "dev-console", t_dev_console },
    { "bad-fd", t_bad_fd },
    { "bad-pointer", t_bad_pointer },
    { "dup-shares-offset", t_dup_shares_offset },
    { "dup2-onto-open", t_dup2_onto_open },
    { "fcntl", t_fcntl },
    { "emfile", t_emfile },
    { "name-too-long", t_name_too_long },
    { "malformed", t_malformed },
    { "pipe-basic", t_pipe_basic },
    { "pipe-eof", t_pipe_eof },
    { "pipe-epipe", t_pipe_epipe },
    { "pipe-nonblock", t_pipe_nonblock },
    { "pipe-10m-to-child", t_pipe_10m_to_child },
    { "pipe-10m-from-child", t_pipe_10m_from_child },
    { "pipe-atomic", t_pipe_atomic },
    { "pipeline-4", t_pipeline_4 },
    { "exit-status", t_exit_status },
    { "spawn-errors", t_spawn_errors },
    { "wait-nohang-echild", t_wait_nohang_echild },
    { "wait-any-order", t_wait_any_order },
    { "fault-status", t_fault_status },
    { "kill", t_kill },
    { "ids", t_ids },
    { "pgid", t_pgid },
    { "fd-inherit-cloexec", t_fd_inherit_cloexec },
    { "inherited-offset", t_inherited_offset },
    { "thread-ids", t_thread_ids },
    { "time", t_time },
    { "umask", t_umask },
    { "killed-while-parked", t_killed_while_parked },
    { "killed-on-ring", t_killed_on_ring },
    { "spawn-rounds", t_spawn_rounds },
    { "counters-back", t_counters_back },
};

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == '-')
        return helper(argc, argv);
    if (!lanes_posix_active()) {
        printf("posixtests: not a POSIX process (run it from the shell)\n");
        return 2;
    }
    /* the pipe tests check write's EPIPE: SIGPIPE (which would kill us first, sigtests sigpipe)
     * ignored, as a program that handles EPIPE itself does */
    signal(SIGPIPE, SIG_IGN);
    /* Started from the shell, our parent's waitpid is parked in the server for as long as we
     * run: wait until it is there, so the end matches the start. */
    lanes_posix_counters(&start_counters);
    for (int i = 0; i < 100 && getppid() > 1 && start_counters.parked == 0; i++) {
        lanes_sys_sleep(LANES_MS(10));
        lanes_posix_counters(&start_counters);
    }
    struct lanes_tests t = { 0, 0 };
    forkexec_tests_run(&t, argc, argv);            /* fork, exec, VM (forkexec.c) */
    rest_tests_run(&t, argc, argv);                /* envp, many processes, MAP_SHARED (rest.c) */
    filemap_tests_run(&t, argc, argv);             /* pread from mapped file pages (filemap.c) */
    filepos_tests_run(&t, argc, argv);             /* read/lseek at the shared offset (filepos.c) */
    pipesem_tests_run(&t, argc, argv);             /* pipes shared across fork, blocked ends (pipesem.c) */
    lanes_test_table(&t, tests, sizeof tests / sizeof *tests, argc, argv, NULL);
    unlink("/tmp/pt-a");
    return lanes_test_summary(&t, "posixtests", argc);
}
