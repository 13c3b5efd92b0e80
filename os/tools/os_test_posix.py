"""os_test_posix.py — os-test's supervision configuration for the POSIX layer (issue 13).

  posix supervision   `posixtests --crash-fs`: a child waits inside fs (a /dev/slow read) when fs
                      is crashed on purpose (fs.Crash); init must report the fault and restart fs,
                      the child's read and the caller's open file must fail EIO (no hang), and the
                      posix server must bind the new fs (open/read of /bin, writes to /tmp work
                      again). Then `posixtests --crash-posix`: a child waits in a pipe read parked
                      in posix when posix is crashed (posix.Crash); init reports and restarts it and
                      the shell (whose POSIX session went with it), the child's read fails EIO, the
                      caller's later calls fail (EIO, ENOSYS) instead of hanging; in the new shell the
                      issue's demo line and a few posixtests run on the new server.
The timeouts are generous (TCG on a loaded host): the point is that nothing hangs, not speed.

Also shell_checks(g, timeout): the shell's redirections and the utilities, run by os-test's
"posix smp=1/4" configuration after posixtests (see its docstring).
"""
from __future__ import annotations

import os
import re

import lanesboot

FAULT = r"init: process {name} \(pid \d+, tid \d+\) faulted: page fault \(PAGE, vector 14\) at address 0x0[^\n]*"


def config_posix_supervision(build, smp, accel, logdir, timeout, suite_counts):
    g = lanesboot.Guest(build, smp=smp, accel=accel, log=os.path.join(logdir, f"posix-supervision-smp{smp}-{accel}.log"))
    nbin = len(os.listdir(os.path.join(build, "initrd", "bin")))
    problems = []
    notes = []
    try:
        g.start()
        g.wait_prompt(180)
        start = g.prompt_end
        out, status = g.run("posixtests --crash-fs", timeout)
        log = g.boot_log()[start:]
        for want, what in ((FAULT.format(name="fs"), "init's report of fs's fault"),
                           (re.escape("init: restarting fs (restart 1 of 5)"), "init restarting fs"),
                           (r"posix: bound the new fs server \(mbus id \d+\)", "posix binding the new fs")):
            if not re.search(want, log):
                problems.append(f"crash-fs: the serial line lacks {what}")
        m = re.search(r"crash-fs: ok: [^\n]*", out)
        if status != 0 or not m:
            bad = re.search(r"crash-fs: FAILED[^\n]*", out)
            problems.append(bad.group(0) if bad else f"posixtests --crash-fs: status {status}, {out.strip()[-300:]!r}")
        else:
            eio = re.search(r"the child's read ended with EIO (\d+) ms", out)
            notes.append(f"fs: child's read EIO after {eio.group(1) if eio else '?'} ms; {m.group(0)[len('crash-fs: ok: '):]}")
        demo, demo_status = g.run("ls /bin | cat > /tmp/l; wc /tmp/l", timeout)
        if demo_status != 0 or not re.search(rf"^\s*{nbin}\s+{nbin}\s+\d+ /tmp/l$", demo, re.M):
            problems.append(f"after fs's restart `ls /bin | cat > /tmp/l; wc /tmp/l`: status {demo_status}, {demo.strip()!r}")

        pos = g.prompt_end
        g.send("posixtests --crash-posix\r")
        res = g.wait_for(re.compile(r"crash-posix: (ok|FAILED)[^\n]*\n"), timeout, since=pos,
                         what="posixtests --crash-posix's result", exc=lanesboot.CommandTimeout)
        if res.group(1) != "ok":
            problems.append(res.group(0).strip())
        else:
            eio = re.search(r"the child's pipe read ended with EIO (\d+) ms", g.boot_log()[pos:])
            notes.append(f"posix: child's pipe read EIO after {eio.group(1) if eio else '?'} ms; "
                         f"{res.group(0).strip()[len('crash-posix: ok: '):]}")
        g.wait_for(re.compile(FAULT.format(name="posix")), 120, since=pos, what="init's report of posix's fault",
                   exc=lanesboot.CommandTimeout)
        g.wait_for("init: restarting posix (restart 1 of 5)", 120, since=pos, what="init restarting posix",
                   exc=lanesboot.CommandTimeout)
        sh = g.wait_for("init: the shell's POSIX session ended with the server: restarting sh", 120, since=pos,
                        what="init restarting the shell", exc=lanesboot.CommandTimeout)
        m = g.wait_for(re.compile(r"\n" + re.escape(lanesboot.PROMPT)), 120, since=sh.end(),
                       what="the new shell's prompt", exc=lanesboot.CommandTimeout)
        g.prompt_end = m.end()
        if "cannot register the shell" in g.boot_log()[pos:]:
            problems.append("init could not register the new shell with the new POSIX server")
        demo, demo_status = g.run("ls /bin | cat > /tmp/l; wc /tmp/l", timeout)
        if demo_status != 0 or not re.search(rf"^\s*{nbin}\s+{nbin}\s+\d+ /tmp/l$", demo, re.M):
            problems.append(f"after posix's restart `ls /bin | cat > /tmp/l; wc /tmp/l`: status {demo_status}, "
                            f"{demo.strip()!r}")
        pt, pt_status = g.run("posixtests pipe-basic exit-status fork-exec-wait spawn-envp", timeout)
        counts = suite_counts(re.search(r"^(\d+) passed, (\d+) failed$", pt, re.M))
        if pt_status != 0 or not counts or counts.group(2) != "0":
            problems.append(f"posixtests on the new server: status {pt_status}, {pt.strip()[-300:]!r}")
    finally:
        g.close()
    if problems:
        return False, "; ".join(problems[:6])
    return True, "; ".join(notes) + f"; the new shell runs the demo ({nbin} programs) and posixtests"


# ---- the shell's redirections and the utilities (config_posix in os-test) ----

def _lines(out: str) -> list[str]:
    """A command's output lines without the shell's own reports ("sh: X exited with status N"),
    init's ("init: process sleep (pid 37) was killed (code 143)", printed when it likes) and kernel
    log lines ("[   1.23] cpu0: ...") that may land in between."""
    return [ln.rstrip() for ln in out.splitlines()
            if ln.strip() and not ln.startswith(("sh: ", "init: ")) and not re.match(r"^\[\s*\d+\.\d+\] ", ln)]


NOPE = "cat: /nope: no such file or directory"


def shell_checks(g, timeout) -> tuple[list[str], int]:
    """Runs the shell lines below in a booted guest; returns (problems, how many checks ran).
    Each check compares whole output lines, so it fails when the feature is broken:
      2>&1       `cat /nope 2>&1 | wc -l` is 1 and the message is not on the console; without it
                 (`cat /nope | wc -l`) the pipe gets 0 lines and the console the message (cat's
                 diagnostics go to fd 2) — a shell that ignores 2>&1 gives 0 and the message;
      2> file    `cat /nope 2> /tmp/e; wc -l /tmp/e` is 1, the file holds the message;
      order      `cat /tmp/r /nope 2>&1 > /tmp/o | wc -l` (POSIX: stderr to the pipe, then stdout
                 to the file) gives 1 and /tmp/o the file's 2 lines; `> /tmp/o 2>&1` puts all 3
                 in the file — a shell applying the redirections in any other order fails one;
      head       `head -n 2` of a 3-line file prints exactly its first two lines (also on a pipe);
      kill       a background `sleep 30` killed with `kill PID` (SIGTERM) and `kill -9 PID` is
                 reaped by `wait` as "[PID] done (status 143)" / "(status 137)"; `kill` of a pid
                 that does not exist is status 1 with kill's message;
      true/false `true; echo t=$?; false; echo f=$?` prints t=0 and f=1;
      errors     each utility's diagnostics go to fd 2: `ls /nope 2>/dev/null | wc -l` (and the same
                 for cat, wc, rm, mkdir, mv, cp, kill, sleep) prints only 0 — a message on stdout
                 makes it 1, one on the console is a line of its own;
      env        (the shell has no `VAR=x cmd`) `env LANES_T=42 env` prints LANES_T=42 once,
                 `env LANES_T=42 nosuch` is status 127."""
    problems: list[str] = []
    n = 0

    def check(cmd: str, want: list[str], want_status: int | None = 0, what: str = "") -> list[str]:
        nonlocal n
        n += 1
        out, status = g.run(cmd, timeout)
        got = _lines(out)
        if got != want or (want_status is not None and status != want_status):
            problems.append(f"{what or cmd}: `{cmd}` expected {want!r} (status {want_status}), "
                            f"got {got!r} (status {status})")
        return got

    g.run("echo one > /tmp/r; echo two >> /tmp/r; echo three > /tmp/h; echo four >> /tmp/h; echo five >> /tmp/h",
          timeout)
    check("cat < /tmp/r | wc -l", ["2"], what="< and a pipe")
    check("cat /nope 2>&1 | wc -l", ["1"], what="2>&1 into a pipe")
    check("cat /nope | wc -l", [NOPE, "0"], what="stderr not on the pipe without 2>&1")
    check("cat /nope 2> /tmp/e; wc -l /tmp/e; cat /tmp/e", ["1 /tmp/e", NOPE], what="2> file")
    check("cat /tmp/r /nope 2>&1 > /tmp/o | wc -l; cat /tmp/o", ["1", "one", "two"],
          what="2>&1 > file (stderr to the old stdout)")
    check("cat /tmp/r /nope > /tmp/o 2>&1; wc -l /tmp/o", ["3 /tmp/o"], what="> file 2>&1 (both to the file)")
    check("head -n 2 /tmp/h", ["three", "four"], what="head -n 2")
    check("cat /tmp/h | head -n 1", ["three"], what="head -n 1 of a pipe")
    check("true; echo t=$?; false; echo f=$?", ["t=0", "f=1"], what="true/false statuses")
    bad = ["ls /nope", "cat /nope", "wc /nope", "rm /nope", "mkdir /tmp/r/x", "mv /nope /tmp/z", "cp /nope /tmp/z",
           "kill 99999", "sleep x"]
    check("; ".join(f"{c} 2>/dev/null | wc -l" for c in bad), ["0"] * len(bad), what="diagnostics on fd 2")
    n += 1
    out, status = g.run("env LANES_T=42 env", timeout)    # the rest of environ is the shell's
    if _lines(out).count("LANES_T=42") != 1 or status != 0:
        problems.append(f"env: `env LANES_T=42 env` should print LANES_T=42 once: {_lines(out)!r} (status {status})")
    check("env LANES_T=42 nosuch", ["env: nosuch: ENOENT"], 127, what="env of a missing program")
    for sig, st in (("", 143), ("-9 ", 137)):
        n += 1
        out, status = g.run("sleep 30 &", timeout)
        m = re.search(r"^\[(\d+)\]$", out, re.M)
        if not m:
            problems.append(f"kill {sig}: `sleep 30 &` printed no [PID]: {out!r}")
            continue
        pid = m.group(1)
        out, status = g.run(f"kill {sig}{pid}; echo k=$?; wait", timeout)
        want = ["k=0", f"[{pid}] done (status {st})"]
        if _lines(out) != want:
            problems.append(f"kill {sig}of a background sleep: expected {want!r}, got {_lines(out)!r}")
    check("kill 99999; echo k=$?", ["kill: 99999: ESRCH", "k=1"], None, what="kill of no process")
    return problems, n
