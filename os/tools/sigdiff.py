"""sigdiff — issue 14's differential run: sigtests on LaneOS and the same program on Linux.

os/programs/sigtests/main.c builds for Linux too (`-DSIGTESTS_LINUX`, its linux.h: the test
runner, pthreads for lanes threads, a PID-1 main that reads its arguments from /args). This
module compiles it against the host's libc, boots it as /init of Debian's own kernel in the same
QEMU as LaneOS (linuxguest.py: same accelerator, CPU model, CPU count, memory) and compares the
two outputs line by line:

  - every "test NAME: ok|FAILED" verdict (a test failing on one side only is a difference);
  - every "OUTCOME name: value" line (EINTR as -4, a partial count, a handler's nesting depth,
    a child's exit bits...): the same value on both.

Linux-specific exceptions are listed in EXCEPTIONS with the reason; anything else that differs
is a bug of LaneOS (or of the test) to fix. Used by os-test's "sig linux-diff" configuration and
by `python3 os/tools/sigdiff.py --build os/build` directly (prints the table).
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lanesboot  # noqa: E402
import linuxguest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "programs", "sigtests", "main.c")

# Tests that exist on one side only, and why (they are not built for Linux: #ifndef SIGTESTS_LINUX).
EXCEPTIONS = {
    "trace-user": "LaneOS's kernel trace_user syscall (records of class signal): no Linux counterpart",
    "kill-frees": "reads LaneOS's own counters (posix server handles/pages, kernel free memory) after SIGKILLs",
    "cancel-event": "reads fs's /dev/fsstat (reads cancelled by the thread's cancellation event): LaneOS's /dev/slow",
    "kill-frees-fs": "reads fs's /dev/fsstat and posix's counters after SIGKILLs of children blocked in /dev/slow, a FIFO, "
                     "waitpid and a console read",
    "slow-eintr": "LaneOS's /dev/slow (a device whose read trickles bytes at a set rate) and /dev/fsstat",
    "slow-restart": "LaneOS's /dev/slow and /dev/fsstat",
    "console-eintr": "reads the console as stdin: Linux's /init has no console on stdin here",
}

VERDICT = re.compile(r"^test ([\w-]+): (ok|FAILED)", re.M)
OUTCOME = re.compile(r"^OUTCOME ([\w-]+): (-?\d+)$", re.M)


class Unavailable(Exception):
    """The Linux guest cannot be had here (no kernel package, no gcc, no QEMU)."""


def parse(out: str) -> tuple[dict, dict]:
    """(verdicts {test: 'ok'|'FAILED'}, outcomes {name: int}) of one sigtests run."""
    verdicts = {m.group(1): m.group(2) for m in VERDICT.finditer(out)}
    outcomes = {m.group(1): int(m.group(2)) for m in OUTCOME.finditer(out)}
    return verdicts, outcomes


def run_linux(build: str, smp: int, args: list[str], timeout: float = 900, extra: list[str] | None = None) -> str:
    """sigtests ARGS on Debian's Linux in the same QEMU (TCG); its serial output."""
    cache = os.path.join(build, "linux")
    try:
        vmlinuz = linuxguest.kernel(cache)
        lanesboot.find_qemu()
    except (linuxguest.LinuxUnavailable, lanesboot.QemuMissing) as e:
        raise Unavailable(str(e))
    # a compile error is a failure of ours, not an unavailable guest: no catch here
    initrd = linuxguest.initramfs(cache, SOURCE, args, cflags=["-pthread", "-DSIGTESTS_LINUX"], name="sigtests-linux")
    out = linuxguest.run(vmlinuz, initrd, accel="tcg", smp=smp, timeout=timeout, extra=extra)
    if "SIGTESTS-LINUX-EXIT" not in out:
        raise RuntimeError(f"the Linux guest did not finish sigtests: {out[-800:]}")
    return out


def compare(lanes_out: str, linux_out: str) -> tuple[list[tuple], list[str]]:
    """The table [(kind, name, LaneOS, Linux, same)] and the differences (as sentences)."""
    lv, lo = parse(lanes_out)
    xv, xo = parse(linux_out)
    rows, diffs = [], []
    for name in sorted(set(lv) | set(xv)):
        a, b = lv.get(name, "-"), xv.get(name, "-")
        if name in EXCEPTIONS and b == "-":
            rows.append(("test", name, a, "(LaneOS only)", True))
            continue
        same = a == b
        rows.append(("test", name, a, b, same))
        if not same:
            diffs.append(f"test {name}: LaneOS {a}, Linux {b}")
    for name in sorted(set(lo) | set(xo)):
        a, b = lo.get(name), xo.get(name)
        same = a == b
        rows.append(("outcome", name, "-" if a is None else str(a), "-" if b is None else str(b), same))
        if not same:
            diffs.append(f"OUTCOME {name}: LaneOS {a}, Linux {b}")
    return rows, diffs


def table(rows) -> str:
    lines = [f"{'':8} {'name':18} {'LaneOS':>8} {'Linux':>14}  same"]
    for kind, name, a, b, same in rows:
        lines.append(f"{kind:8} {name:18} {a:>8} {b:>14}  {'yes' if same else 'NO'}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=500, help="sigtests' race rounds on both")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    targs = ["--rounds", str(args.rounds)]
    g = lanesboot.Guest(build, smp=args.smp, accel="tcg")
    try:
        g.start()
        g.wait_prompt(240)
        lanes_out, _ = g.run("sigtests " + " ".join(targs), 900)
    finally:
        g.close()
    linux_out = run_linux(build, args.smp, targs)
    rows, diffs = compare(lanes_out, linux_out)
    print(table(rows))
    print(f"{len(diffs)} differences" + (": " + "; ".join(diffs) if diffs else ""))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
