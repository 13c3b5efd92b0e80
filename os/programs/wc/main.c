/* wc — counts lines, words and bytes of each file (or of stdin), like POSIX wc: "L W B NAME";
 * -l, -w, -c print only that count. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int only;    /* 'l', 'w', 'c' or 0 */

static void show(unsigned long long l, unsigned long long w, unsigned long long b, const char *name)
{
    if (only)
        printf("%llu%s%s\n", only == 'l' ? l : only == 'w' ? w : b, name ? " " : "", name ? name : "");
    else
        printf("%7llu %7llu %7llu%s%s\n", l, w, b, name ? " " : "", name ? name : "");
}

static int count(int fd, const char *name, unsigned long long tot[3])
{
    static char buf[16384];
    unsigned long long l = 0, w = 0, b = 0;
    int inword = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        b += (unsigned long long)n;
        for (ssize_t i = 0; i < n; i++) {
            char c = buf[i];
            if (c == '\n')
                l++;
            int space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
            if (!space && !inword)
                w++;
            inword = !space;
        }
    }
    if (n < 0) {
        dprintf(2, "wc: %s: %s\n", name ? name : "stdin", strerror(errno));
        return 1;
    }
    show(l, w, b, name);
    tot[0] += l, tot[1] += w, tot[2] += b;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long tot[3] = { 0, 0, 0 };
    int first = 1;
    if (argc > 1 && argv[1][0] == '-' && strchr("lwc", argv[1][1]) && argv[1][1] && !argv[1][2]) {
        only = argv[1][1];
        first = 2;
    }
    if (argc <= first)
        return count(0, NULL, tot);
    int st = 0;
    for (int i = first; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            dprintf(2, "wc: %s: %s\n", argv[i], strerror(errno));
            st = 1;
            continue;
        }
        st |= count(fd, argv[i], tot);
        close(fd);
    }
    if (argc - first > 1)
        show(tot[0], tot[1], tot[2], "total");
    return st;
}
