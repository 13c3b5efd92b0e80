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
