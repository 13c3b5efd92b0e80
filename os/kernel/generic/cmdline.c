/*
 * cmdline.c — the kernel command line (boot.cmdline, copied from the boot loader by
 * multiboot.c): the one place that splits it into words.
 *
 *   loglevel=debug panic=exit trace=sched,ipc trace.bench -- init's argv[1..]
 *
 * Words are separated by spaces; the word "--" ends the kernel's options, and what follows it
 * becomes init's arguments. Each subsystem asks for its own options when it starts:
 * cmdline_value("loglevel", ...) (log.c), cmdline_value("panic", ...) (panic.c), "trace"
 * and the flags "trace.bench", "trace.crash" (trace.c). When an option is given twice the last
 * one counts.
 */
#include <kernel/kernel.h>

/* Calls fn on every word before "--"; stops early when fn returns false. */
static void for_each_word(bool (*fn)(const char *w, size_t n, void *arg), void *arg)
{
    const char *s = boot.cmdline;
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        size_t n = s - w;
        if (n == 2 && w[0] == '-' && w[1] == '-')
            return;
        if (n && !fn(w, n, arg))
            return;
    }
}

struct find { const char *name; size_t nl; bool value; const char *val; size_t len; bool found; };

static bool match(const char *w, size_t n, void *arg)
{
    struct find *f = arg;
    if (n < f->nl || strncmp(w, f->name, f->nl))
        return true;
    if (!f->value && n == f->nl) {
        f->found = true;
    } else if (f->value && n > f->nl && w[f->nl] == '=') {
        f->found = true;
        f->val = w + f->nl + 1;
        f->len = n - f->nl - 1;
    }
    return true;
}

bool cmdline_value(const char *name, const char **val, size_t *len)
{
    struct find f = { name, strlen(name), true, NULL, 0, false };
    for_each_word(match, &f);
    if (f.found) {
        *val = f.val;
        *len = f.len;
    }
    return f.found;
}

bool cmdline_flag(const char *name)
{
    struct find f = { name, strlen(name), false, NULL, 0, false };
    for_each_word(match, &f);
    return f.found;
}

bool cmdline_is(const char *name, const char *value)
{
    const char *v;
    size_t n;
    return cmdline_value(name, &v, &n) && n == strlen(value) && !strncmp(v, value, n);
}

/* The words after " -- " (empty string if none). */
const char *cmdline_init_args(void)
{
    const char *s = boot.cmdline;
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        if (s - w == 2 && w[0] == '-' && w[1] == '-') {
            while (*s == ' ')
                s++;
            return s;
        }
    }
    return "";
}
