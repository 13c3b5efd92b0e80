/* jobs.c — the shell as a POSIX program: command lists, pipelines, redirections, background
 * jobs, cd/pwd/wait. Used when the shell has a lane to the POSIX server (init adopts it there);
 * without one, main.c runs programs straight from the initrd as before.
 *
 *   line      := pipeline { ";" pipeline } [";"]
 *   pipeline  := command { "|" command } ["&"]
 *   command   := word { word | redirection }
 *   redirection := ">" file | ">>" file | "<" file | "2>" file | "2>&1"
 *
 * Words: "double" or 'single' quotes group, $? is the last status. Each command of a pipeline is
 * started with posix_spawnp (/bin/NAME, read from the file system) and file actions that wire
 * its stdin/stdout to the pipes and files; the pipes and files are opened close-on-exec here,
 * so no child keeps an end it should not (which would keep EOF from coming). The shell then
 * waits for every command; $? is the last one's status (a fault: 128 + vector, as before).
 *
 * Job control: every pipeline is a process group of its own (setpgid to its first command).
 * A foreground one becomes the console's foreground group (tcsetpgrp) and the console's ISIG
 * mode is on while the shell waits for it, so Ctrl-C / Ctrl-Z go to the job as SIGINT / SIGTSTP
 * (console server -> posix, os/programs/posix/tty.c) instead of to the line editor; afterwards
 * the shell takes the console back. Background pipelines are jobs: `jobs` lists them, `fg [N]`
 * brings one to the foreground (the console is its, the shell waits for it; Ctrl-C then stops
 * it). Ctrl-Z stops the foreground job (SIGTSTP to its group; the shell's waitpid has
 * WUNTRACED and sees it stopped): it becomes a stopped job, the prompt returns, $? = 148.
 * `bg [N]` continues a stopped job in the background (SIGCONT to its group), `fg [N]` in the
 * foreground (SIGCONT too); `jobs` says which are running and which stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <lanes.h>
#include <lanes/console.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int builtin(int argc, char **argv, int *status);

#define MAX_TOK 384     /* (a line is at most 1023 characters: sh/main.c LINE_MAX) */
#define MAX_CMDS 8
#define MAX_WORDS 32
#define MAX_REDIR 6

enum { T_WORD, T_PIPE, T_SEMI, T_AMP, T_GT, T_GTGT, T_LT, T_2GT, T_2TO1 };
struct tok {
    int type;
    char *s;
};
struct redir {
    int type;
    char *file;
};
struct cmd {
    char *argv[MAX_WORDS + 1];
    int argc;
    struct redir r[MAX_REDIR];
    int nr;
};

static int tokenize(const char *p, struct tok *t, char *store, size_t cap, int status)
{
    int n = 0;
    size_t used = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (n == MAX_TOK || used >= cap - 16)
            return -1;                      /* more than we hold: the caller says so */
        int op = -1, len = 1;
        if (p[0] == '2' && p[1] == '>' && p[2] == '&' && p[3] == '1')
            op = T_2TO1, len = 4;
        else if (p[0] == '2' && p[1] == '>')
            op = T_2GT, len = 2;
        else if (p[0] == '>' && p[1] == '>')
            op = T_GTGT, len = 2;
        else if (*p == '>')
            op = T_GT;
        else if (*p == '<')
            op = T_LT;
        else if (*p == '|')
            op = T_PIPE;
        else if (*p == ';')
            op = T_SEMI;
        else if (*p == '&')
            op = T_AMP;
        if (op >= 0) {
            t[n].type = op;
            t[n++].s = NULL;
            p += len;
            continue;
        }
        char *word = store + used;
        while (*p && !strchr(" \t|;&<>", *p)) {
            if (*p == '"' || *p == '\'') {
                char q = *p++;
                while (*p && *p != q && used < cap - 16)
                    store[used++] = *p++;
                if (*p == q)
                    p++;
            } else if (p[0] == '$' && p[1] == '?') {
                if (used < cap - 16)
                    used += (size_t)snprintf(store + used, cap - used, "%d", status);
                p += 2;
            } else if (used < cap - 16) {
                store[used++] = *p++;
            } else {
                p++;
            }
        }
        store[used++] = 0;
        t[n].type = T_WORD;
        t[n++].s = word;
    }
    return n;
}

/* ---- background jobs ---- */

#define MAX_JOBS 16
struct job {
    int id;                 /* 0: free */
    pid_t pgid;
    pid_t pids[MAX_CMDS];
    int npids;              /* not yet reaped */
    bool stopped;           /* by Ctrl-Z (SIGTSTP) or another stop signal */
    char text[80];
};
static struct job jobtab[MAX_JOBS];

static struct job *job_add(pid_t pgid, pid_t *pids, int n, struct cmd *cmds, int ncmds)
{
    struct job *j = NULL;
    int id = 1;
    for (int i = 0; i < MAX_JOBS; i++)
        if (jobtab[i].id >= id)
            id = jobtab[i].id + 1;
    for (int i = 0; i < MAX_JOBS && !j; i++)
        if (!jobtab[i].id)
            j = &jobtab[i];
    if (!j || n == 0)
        return NULL;
    j->id = id;
    j->pgid = pgid;
    j->npids = n;
    j->stopped = false;
    memcpy(j->pids, pids, sizeof *pids * (size_t)n);
    size_t used = 0;
    j->text[0] = 0;
    for (int c = 0; c < ncmds; c++)
        for (int w = 0; w < cmds[c].argc; w++)
            used += (size_t)snprintf(j->text + used, used < sizeof j->text ? sizeof j->text - used : 0, "%s%s%s",
                                     used ? " " : "", w == 0 && c > 0 ? "| " : "", cmds[c].argv[w]);
    return j;
}

/* A reaped child leaves its job; the job goes when all of it has. */
static void job_reaped(pid_t pid)
{
    for (int i = 0; i < MAX_JOBS; i++) {
        struct job *j = &jobtab[i];
        for (int k = 0; j->id && k < j->npids; k++) {
            if (j->pids[k] != pid)
                continue;
            j->pids[k] = j->pids[--j->npids];
            if (j->npids == 0)
                j->id = 0;
            return;
        }
    }
}

static int sh_status_of(pid_t pid, int st, const char *name, bool say)
{
    struct lane_exit_info info;
    if (lanes_posix_last_exit(pid, &info) == 0) {
        int status = info.state == LANES_PROC_STATE_EXITED    ? info.code
                     : info.state == LANES_PROC_STATE_FAULTED ? 128 + (int)info.vector
                                                              : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 9);
        /* (a pipeline's producer killed by SIGPIPE when its reader ended first, as in
         * `cat big | head -1`, is normal: not reported, as bash does not) */
        bool quiet_pipe = WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE;
        if (say || (status != 0 && !quiet_pipe)) {
            char msg[200];
            lanes_describe_exit(&info, msg, sizeof msg);
            dprintf(2, "sh: %s %s\n", name, msg);
        }
        return status;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void reap_background(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        job_reaped(pid);
        printf("[%d] done (status %d)\n", pid, sh_status_of(pid, st, "job", false));
    }
}

/* Set by wait_foreground when the job stopped (the stop signal; 0: it ended) and the index of
 * the first of its processes not reaped (the job's processes from there on live on). */
static int fg_stop_sig, fg_unreaped;

/* Waits for the foreground job's processes with the console given to its group (Ctrl-C is
 * its SIGINT, Ctrl-Z its SIGTSTP); returns the last one's status, 128 + the stop signal when it
 * stopped (fg_stop_sig), or -1 (a waitpid failed). */
static int wait_foreground(pid_t pgid, pid_t *pids, int n, struct cmd *cmds, bool say)
{
    fg_stop_sig = 0;
    bool fg = n > 0 && tcsetpgrp(0, pgid) == 0;
    if (fg)
        lanes_console_mode(LANES_CONSOLE_MODE_ISIG, 0);
    int status = 0;
    for (int i = 0; i < n; i++) {
        int st = 0;
        if (waitpid(pids[i], &st, WUNTRACED) < 0) {
            dprintf(2, "sh: waitpid %d: %s\n", pids[i], strerror(errno));
            status = -1;
            continue;
        }
        if (WIFSTOPPED(st)) {
            fg_stop_sig = WSTOPSIG(st);
            fg_unreaped = i;
            status = 128 + fg_stop_sig;
            break;
        }
        job_reaped(pids[i]);
        int s = sh_status_of(pids[i], st, cmds ? cmds[i].argv[0] : "job", say);
        if (i == n - 1)
            status = s;
    }
    if (fg) {
        lanes_console_mode(0, LANES_CONSOLE_MODE_ISIG);
        tcsetpgrp(0, getpgrp());
    }
    return status;
}

static struct job *job_named(int argc, char **argv)
{
    struct job *best = NULL;
    const char *a = argc > 1 ? argv[1] : NULL;
    int want = a ? (int)strtol(a[0] == '%' ? a + 1 : a, NULL, 10) : 0;
    for (int i = 0; i < MAX_JOBS; i++) {
        struct job *j = &jobtab[i];
        if (j->id && (want ? j->id == want : !best || j->id > best->id))
            best = j;
    }
    return best;
}

static int open_redir(const struct redir *r)
{
    int flags = r->type == T_LT ? O_RDONLY : r->type == T_GTGT ? O_WRONLY | O_CREAT | O_APPEND : O_WRONLY | O_CREAT | O_TRUNC;
    int fd = open(r->file, flags | O_CLOEXEC, 0666);
    if (fd < 0)
        dprintf(2, "sh: %s: %s\n", r->file, strerror(errno));
    return fd;
}

static bool posix_builtin(struct cmd *c, int *status)
{
    const char *w = c->argv[0];
    if (strcmp(w, "cd") == 0) {
        const char *to = c->argc > 1 ? c->argv[1] : "/";
        *status = 0;
        if (chdir(to) < 0) {
            dprintf(2, "sh: cd: %s: %s\n", to, strerror(errno));
            *status = 1;
        }
        return true;
    }
    if (strcmp(w, "pwd") == 0) {
        char buf[512];
        *status = getcwd(buf, sizeof buf) ? (printf("%s\n", buf), 0) : 1;
        return true;
    }
    if (strcmp(w, "wait") == 0) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, 0)) > 0) {
            job_reaped(pid);
            printf("[%d] done (status %d)\n", pid, sh_status_of(pid, st, "job", false));
        }
        *status = 0;
        return true;
    }
    if (strcmp(w, "jobs") == 0) {
        reap_background();
        for (int i = 0; i < MAX_JOBS; i++)
            if (jobtab[i].id)
                printf("[%d] %s  %s  (pgid %d)\n", jobtab[i].id, jobtab[i].stopped ? "stopped" : "running",
                       jobtab[i].text, jobtab[i].pgid);
        *status = 0;
        return true;
    }
    if (strcmp(w, "fg") == 0 || strcmp(w, "bg") == 0) {
        reap_background();
        struct job *j = job_named(c->argc, c->argv);
        *status = 1;
        if (!j) {
            dprintf(2, "sh: %s: no such job\n", w);
        } else if (w[0] == 'b') {
            if (!j->stopped) {
                dprintf(2, "sh: bg: [%d] is running already\n", j->id);
            } else if (killpg(j->pgid, SIGCONT) < 0) {
                dprintf(2, "sh: bg: [%d]: %s\n", j->id, strerror(errno));
            } else {
                j->stopped = false;
                printf("[%d] %s &\n", j->id, j->text);
                *status = 0;
            }
        } else {
            struct job copy = *j;
            printf("%s\n", copy.text);
            if (j->stopped) {
                killpg(j->pgid, SIGCONT);       /* (the console is its group's first: no SIGTTIN) */
                j->stopped = false;
            }
            int s = wait_foreground(copy.pgid, copy.pids, copy.npids, NULL, false);
            if (fg_stop_sig)
                for (int i = 0; i < MAX_JOBS; i++)
                    if (jobtab[i].id && jobtab[i].pgid == copy.pgid) {
                        jobtab[i].stopped = true;
                        printf("\n[%d] stopped  %s\n", jobtab[i].id, jobtab[i].text);
                    }
            *status = s < 0 ? 126 : s;
        }
        return true;
    }
    return false;
}

/* Runs one pipeline; returns its status ($?). */
static int run_pipeline(struct cmd *cmds, int n, bool bg)
{
    int status = 0;
    if (n == 1 && cmds[0].nr == 0 && !bg) {
        if (posix_builtin(&cmds[0], &status) || builtin(cmds[0].argc, cmds[0].argv, &status))
            return status;
    }
    pid_t pids[MAX_CMDS];
    int started = 0, prev = -1;
    status = 0;
    for (int i = 0; i < n; i++) {
        int pfd[2] = { -1, -1 };
        int temps[MAX_REDIR], nt = 0;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (i + 1 < n && pipe2(pfd, O_CLOEXEC) < 0) {
            dprintf(2, "sh: pipe: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (prev >= 0)
            posix_spawn_file_actions_adddup2(&fa, prev, 0);
        if (pfd[1] >= 0)
            posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        bool ok = true;
        for (int k = 0; k < cmds[i].nr && ok; k++) {
            struct redir *r = &cmds[i].r[k];
            if (r->type == T_2TO1) {
                posix_spawn_file_actions_adddup2(&fa, 1, 2);
                continue;
            }
            int fd = open_redir(r);
            if (fd < 0) {
                ok = false;
                break;
            }
            temps[nt++] = fd;
            posix_spawn_file_actions_adddup2(&fa, fd, r->type == T_LT ? 0 : r->type == T_2GT ? 2 : 1);
        }
        int e = ok ? posix_spawnp(&pids[started], cmds[i].argv[0], &fa, NULL, cmds[i].argv, NULL) : -1;
        for (int k = 0; k < nt; k++)
            close(temps[k]);
        if (prev >= 0)
            close(prev);
        if (pfd[1] >= 0)
            close(pfd[1]);
        prev = pfd[0];
        if (e > 0) {
            if (e == ENOENT)
                dprintf(2, "%s: no such program\n", cmds[i].argv[0]);
            else
                dprintf(2, "sh: %s: %s\n", cmds[i].argv[0], strerror(e));
            status = e == ENOENT ? 127 : 126;
        } else if (e == 0) {
            setpgid(pids[started], pids[0]);        /* the job's own process group */
            started++;
        } else {
            status = 1;
        }
    }
    if (prev >= 0)
        close(prev);
    if (bg) {
        for (int i = 0; i < started; i++)
            printf("[%d]\n", pids[i]);
        job_add(pids[0], pids, started, cmds, n);
        return 0;
    }
    /* The console goes to the job while we wait: its Ctrl-C is the job's SIGINT. */
    if (started == 0)
        return status;
    int s = wait_foreground(pids[0], pids, started, cmds, n == 1);
    if (fg_stop_sig) {                      /* Ctrl-Z: a stopped job now */
        struct job *j = job_add(pids[0], pids + fg_unreaped, started - fg_unreaped, cmds, n);
        if (j) {
            j->stopped = true;
            printf("\n[%d] stopped  %s\n", j->id, j->text);
        }
        return s;
    }
    if (s < 0)
        return 126;
    return status != 127 && status != 126 ? s : s ? s : status;
}

static int run_list(const char *line, int last);

/* Splits the line at unquoted ';' so that $? in a later part sees the earlier parts' status. */
int sh_run_line(const char *line, int last)
{
    char part[512];
    reap_background();
    int status = last;
    const char *p = line;
    while (*p) {
        size_t n = 0;
        char q = 0;
        for (; *p && (q || *p != ';'); p++) {
            if (!q && (*p == '"' || *p == '\''))
                q = *p;
            else if (q && *p == q)
                q = 0;
            if (n < sizeof part - 1)
                part[n++] = *p;
        }
        part[n] = 0;
        if (*p == ';')
            p++;
        status = run_list(part, status);
    }
    return status;
}

static int run_list(const char *line, int last)
{
    static struct tok t[MAX_TOK];
    static char store[4096];
    static struct cmd cmds[MAX_CMDS];
    int nt = tokenize(line, t, store, sizeof store, last);
    if (nt < 0) {
        dprintf(2, "sh: line too long (%d words at most)\n", MAX_TOK);
        return 2;
    }
    int status = last, i = 0;
    while (i < nt) {
        int n = 0;
        memset(&cmds[0], 0, sizeof cmds[0]);
        bool bg = false, bad = false;
        for (; i < nt && t[i].type != T_SEMI; i++) {
            struct cmd *c = &cmds[n];
            switch (t[i].type) {
            case T_WORD:
                if (c->argc < MAX_WORDS)
                    c->argv[c->argc++] = t[i].s;
                break;
            case T_PIPE:
                if (c->argc == 0 || n + 1 >= MAX_CMDS) {
                    bad = true;
                    break;
                }
                memset(&cmds[++n], 0, sizeof cmds[0]);
                break;
            case T_AMP:
                bg = true;
                break;
            default:
                if (t[i].type != T_2TO1 && (i + 1 >= nt || t[i + 1].type != T_WORD)) {
                    bad = true;
                    break;
                }
                if (c->nr < MAX_REDIR) {
                    c->r[c->nr].type = t[i].type;
                    c->r[c->nr++].file = t[i].type == T_2TO1 ? NULL : t[i + 1].s;
                }
                if (t[i].type != T_2TO1)
                    i++;
                break;
            }
            if (bg && i + 1 < nt && t[i + 1].type != T_SEMI) {
                /* "a & b": a in the background, then b */
                i++;
                break;
            }
        }
        if (i < nt && t[i].type == T_SEMI)
            i++;
        if (cmds[n].argc == 0 && (n > 0 || cmds[0].nr > 0))
            bad = true;
        if (bad) {
            dprintf(2, "sh: syntax error\n");
            return 2;
        }
        if (cmds[0].argc == 0)
            continue;
        for (int k = 0; k <= n; k++)
            cmds[k].argv[cmds[k].argc] = NULL;
        status = run_pipeline(cmds, n + 1, bg);
    }
    return status;
}
