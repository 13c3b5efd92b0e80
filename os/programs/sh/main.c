/* sh — the LaneOS serial shell.
 *
 * Talks to the console server over its "console" lane (given by init; libc's stdio rebinds it
 * through the "mbus" lane if the server is restarted, and uses the kernel meanwhile). It reads
 * raw bytes (neither the server nor the kernel does echo or line discipline) and does its
 * own line editing: Enter arrives as CR or LF (CR LF counts once), backspace/DEL, left/right
 * arrows, Home/End, Delete, Ctrl-A/E/U/C, up/down walk the history. A line is split into
 * words ("double quotes" group; $? is the last status); the first word is a builtin or a
 * program in the initrd's bin/, started with the remaining words as arguments under init's
 * program supervisor, with the shell's console and mbus lanes (so the program's stdio goes over
 * lanes too). The shell waits for it and prints how it ended ("sh: ls exited with
 * status 0", or which fault at which address); the status is $? (faults give 128 + vector).
 *
 * Builtins: echo, exit [N], help, status (prints "status N" for the last command), uname, and
 * crash (a deliberate null write, so init's supervision and restart can be tested).
 * With a lane to the POSIX server (init adopts the shell there) lines run through jobs.c
 * instead: `;` lists, `|` pipelines, `> >> < 2> 2>&1` redirections, `&` and `wait`, `cd`,
 * `pwd`, `jobs`, `fg` (each job its own process group; Ctrl-C goes to the foreground one); programs are /bin/NAME from the file system, started with posix_spawn.
 * Prompt: "lanes$ " (tools/ci-boot waits for it).
 */
#include <lanes.h>
#include <lanes/console.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sh_run_line(const char *line, int last);
int builtin(int argc, char **argv, int *status);
#include <unistd.h>

#define PROMPT "lanes$ "
#define LINE_MAX 1024     /* a line's characters, with its NUL (jobs.c's tokens hold them all) */
#define HIST_MAX 32
#define MAX_ARGS 32

static char history[HIST_MAX][LINE_MAX];
static int hist_len;
static int last_status;

static void out(const char *s) { console_write(s, strlen(s)); }

/* Redraws the whole line and puts the cursor at pos. */
static void redraw(const char *buf, int len, int pos)
{
    char tmp[LINE_MAX + 32];
    int n = snprintf(tmp, sizeof tmp, "\r%s%.*s\x1b[K", PROMPT, len, buf);
    console_write(tmp, (size_t)n);
    if (len > pos) {
        n = snprintf(tmp, sizeof tmp, "\x1b[%dD", len - pos);
        console_write(tmp, (size_t)n);
    }
}

static int getc_blocking(void)
{
    for (;;) {
        int c = console_getc(LANES_TIMEOUT_INFINITE);
        if (c >= 0)
            return c;
        if (c != LANES_E_INTERRUPTED && c != LANES_E_TIMEOUT && c != LANES_E_AGAIN) {
            lanes_sys_sleep(LANES_MS(10));
        }
    }
}

/* Reads one edited line into buf (NUL-terminated); returns its length. */
static int read_line(char *buf)
{
    static int last_was_cr;
    int len = 0, pos = 0, hist_pos = hist_len;
    char saved[LINE_MAX] = "";
    out(PROMPT);
    for (;;) {
        int c = getc_blocking();
        if (c == '\n' && last_was_cr) {
            last_was_cr = 0;
            continue;   /* the LF of a CR LF pair */
        }
        last_was_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            out("\r\n");
            buf[len] = 0;
            return len;
        }
        if (c == 0x7f || c == 0x08) {   /* backspace */
            if (pos > 0) {
                memmove(buf + pos - 1, buf + pos, (size_t)(len - pos));
                len--;
                pos--;
                if (pos == len)
                    out("\b \b");
                else
                    redraw(buf, len, pos);
            }
            continue;
        }
        if (c == 0x03) {   /* Ctrl-C: abandon the line */
            out("^C\r\n");
            len = pos = 0;
            out(PROMPT);
            continue;
        }
        if (c == 0x15) {   /* Ctrl-U: clear */
            len = pos = 0;
            redraw(buf, len, pos);
            continue;
        }
        if (c == 0x01 || c == 0x05) {   /* Ctrl-A / Ctrl-E */
            pos = c == 0x01 ? 0 : len;
            redraw(buf, len, pos);
            continue;
        }
        if (c == 0x1b) {
            int c1 = getc_blocking();
            if (c1 != '[' && c1 != 'O')
                continue;
            int c2 = getc_blocking();
            int tilde_code = 0;
            if (c2 >= '0' && c2 <= '9') {
                tilde_code = c2 - '0';
                int c3;
                while ((c3 = getc_blocking()) >= '0' && c3 <= '9')
                    tilde_code = tilde_code * 10 + c3 - '0';
                if (c3 != '~')
                    continue;
            }
            if (c2 == 'A' || c2 == 'B') {   /* history */
                if (c2 == 'A' && hist_pos > 0) {
                    if (hist_pos == hist_len) {
                        memcpy(saved, buf, (size_t)len);
                        saved[len] = 0;
                    }
                    hist_pos--;
                } else if (c2 == 'B' && hist_pos < hist_len) {
                    hist_pos++;
                } else {
                    continue;
                }
                const char *src = hist_pos == hist_len ? saved : history[hist_pos];
                len = pos = (int)strlen(src);
                memcpy(buf, src, (size_t)len);
                redraw(buf, len, pos);
            } else if (c2 == 'C' && pos < len) {
                pos++;
                out("\x1b[C");
            } else if (c2 == 'D' && pos > 0) {
                pos--;
                out("\x1b[D");
            } else if (c2 == 'H' || tilde_code == 1 || tilde_code == 7) {
                pos = 0;
                redraw(buf, len, pos);
            } else if (c2 == 'F' || tilde_code == 4 || tilde_code == 8) {
                pos = len;
                redraw(buf, len, pos);
            } else if (tilde_code == 3 && pos < len) {   /* Delete */
                memmove(buf + pos, buf + pos + 1, (size_t)(len - pos - 1));
                len--;
                redraw(buf, len, pos);
            }
            continue;
        }
        if (c < 0x20 || c > 0x7e)
            continue;
        if (len >= LINE_MAX - 1) {              /* full: say so, as a terminal does */
            out("\a");
            continue;
        }
        if (pos == len) {
            buf[len++] = (char)c;
            pos++;
            char ch = (char)c;
            console_write(&ch, 1);
        } else {
            memmove(buf + pos + 1, buf + pos, (size_t)(len - pos));
            buf[pos++] = (char)c;
            len++;
            redraw(buf, len, pos);
        }
    }
}

static void remember(const char *line)
{
    if (!*line || (hist_len > 0 && strcmp(history[hist_len - 1], line) == 0))
        return;
    if (hist_len == HIST_MAX) {
        memmove(history[0], history[1], sizeof history[0] * (HIST_MAX - 1));
        hist_len--;
    }
    strlcpy(history[hist_len++], line, LINE_MAX);
}

/* Splits a line into words in place; "..." groups; $? becomes the last status. */
static int split(char *line, char **argv, char *store, size_t storesize)
{
    int argc = 0;
    size_t used = 0;
    char *p = line;
    while (*p && argc < MAX_ARGS - 1) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *word = store + used;
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '"') {
                p++;
                while (*p && *p != '"' && used < storesize - 16)
                    store[used++] = *p++;
                if (*p == '"')
                    p++;
            } else if (p[0] == '$' && p[1] == '?') {
                used += (size_t)snprintf(store + used, storesize - used, "%d", last_status);
                p += 2;
            } else if (used < storesize - 16) {
                store[used++] = *p++;
            } else {
                p++;
            }
        }
        store[used++] = 0;
        argv[argc++] = word;
    }
    argv[argc] = NULL;
    return argc;
}

static int run_program(int argc, char **argv)
{
    struct lanes_spawn_opts opts = { lanes_handle_by_tag("supervisor"), NULL, 0, false };
    struct lane_spawn_handle extra[3];
    int n = 0;
    memset(extra, 0, sizeof extra);
    int32_t pass[3] = { opts.supervisor, lanes_console_lane(), lanes_handle_by_tag("mbus") };
    static const char *const tags[3] = { "supervisor", "console", "mbus" };
    for (int i = 0; i < 3; i++) {
        /* the supervisor (so a nested shell's programs are watched too), the console lane the
         * shell uses now (its stdin/stdout) and the registry */
        if (pass[i] == LANES_HANDLE_NONE)
            continue;
        extra[n].handle = pass[i];
        extra[n].rights = LANES_RIGHT_ALL;
        strlcpy(extra[n].tag, tags[i], sizeof extra[n].tag);
        n++;
    }
    opts.extra = extra;
    opts.nextra = n;
    int64_t p = lanes_spawn(argv[0], argc, (const char *const *)argv, &opts);
    if (p < 0)
        return p == LANES_E_NOENT ? 127 : 126;
    struct lane_exit_info info;
    int64_t r = lanes_wait((int32_t)p, &info, LANES_TIMEOUT_INFINITE);
    if (r < 0) {
        dprintf(2, "sh: waiting for %s failed: %s\n", argv[0], lanes_strerror(r));
        lanes_sys_process_kill((int32_t)p, 1);
        lanes_sys_handle_close((int32_t)p);
        return 126;
    }
    int status;
    if (info.state == LANES_PROC_STATE_EXITED)
        status = info.code;
    else if (info.state == LANES_PROC_STATE_FAULTED)
        status = 128 + (int)info.vector;
    else
        status = 128 + 9;
    char msg[200];
    lanes_describe_exit(&info, msg, sizeof msg);
    dprintf(2, "sh: %s %s\n", argv[0], msg);
    lanes_sys_process_kill((int32_t)p, 1);   /* a faulted process is only stopped: end it */
    lanes_sys_handle_close((int32_t)p);
    return status;
}

int builtin(int argc, char **argv, int *status)
{
    if (strcmp(argv[0], "echo") == 0) {
        for (int i = 1; i < argc; i++)
            printf("%s%s", argv[i], i + 1 < argc ? " " : "");
        printf("\n");
        *status = 0;
    } else if (strcmp(argv[0], "exit") == 0) {
        exit(argc > 1 ? atoi(argv[1]) : last_status);
    } else if (strcmp(argv[0], "status") == 0) {
        printf("status %d\n", last_status);
        *status = last_status;
    } else if (strcmp(argv[0], "uname") == 0) {
        struct lane_sysinfo si;
        memset(&si, 0, sizeof si);
        lanes_sys_sysinfo(&si);
        printf("%.32s, %u CPUs, ABI %s %d.%d\n", si.version, si.ncpus, LANES_ABI_NAME, LANES_ABI_VERSION_MAJOR,
               LANES_ABI_VERSION_MINOR);
        *status = 0;
    } else if (strcmp(argv[0], "crash") == 0) {
        /* Fault on purpose: init (our supervisor) must report it and restart the shell. */
        dprintf(2, "sh: crashing on purpose (null write)\n");
        uintptr_t addr = 0;
        __asm__ volatile("" : "+r"(addr));
        *(volatile int *)addr = 1;
    } else if (strcmp(argv[0], "help") == 0) {
        printf("builtins: echo WORDS | exit [N] | status | uname | crash (test init's restart) | help\n"
               "with the POSIX server: cd DIR | pwd | wait | jobs | fg [N]; a | b | c, > >> < 2> 2>&1, &, ;\n"
               "Ctrl-C stops the foreground job (try: cat /dev/slow)\n"
               "programs (bin/ in the initrd; `ls` lists them): ls, ps, usertests, bench, cmos-rtc, ...\n"
               "editing: arrows, backspace, Delete, Home/End, Ctrl-A/E/U/C; up/down for history\n");
        *status = 0;
    } else {
        return 0;
    }
    return 1;
}

int main(void)
{
    char line[LINE_MAX];
    char *argv[MAX_ARGS];
    char store[LINE_MAX + 256];
    printf("LaneOS shell; type `help` for commands.\n");
    for (;;) {
        read_line(line);
        remember(line);
        if (lanes_posix_active()) {
            static bool tty_reset;
            if (!tty_reset)                     /* a restarted shell: the console is ours again */
                lanes_console_mode(0, LANES_CONSOLE_MODE_ISIG), tcsetpgrp(0, getpgrp()), tty_reset = true;
            last_status = sh_run_line(line, last_status);   /* jobs.c: pipelines, redirections, & */
            continue;
        }
        int argc = split(line, argv, store, sizeof store);
        if (argc == 0)
            continue;
        int status = 0;
        if (!builtin(argc, argv, &status))
            status = run_program(argc, argv);
        last_status = status;
    }
}
