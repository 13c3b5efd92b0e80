"""lanesboot — boot LaneOS headless in QEMU and talk to its serial shell (python3, stdlib).

Used by tools/ci-boot (one command line, Managarm-style), tools/os-test and tools/os-bench.

    g = Guest(build="os/build", smp=2, accel="auto", log="boot.log")
    g.start()                       # QEMU with the serial console on a pipe
    g.wait_prompt(timeout=120)      # "lanes$ " — raises BootTimeout / KernelPanic / QemuExited
    out, status = g.run("usertests", timeout=600)
    g.close()

Timestamps are taken on the host as serial bytes arrive: t_first_output (first byte),
t_first_user (first line from init, i.e. user space) and t_prompt, all relative to QEMU's start;
arrival(pos) is when the byte at buffer position pos arrived, and send() returns when the last
byte it typed was written. wait_within() uses both: output the guest writes in answer to typed
input must reach the serial line within a bound of host time (LateOutput otherwise), which is
how os-test tells output that is held (a bug) from output that is merely slow. Time that QEMU's
threads (or ours) spent runnable but waiting for a host CPU (/proc/PID/task/*/schedstat,
run_delay; the largest of any one thread) does not count: that is load, not the guest holding
anything — a held byte waits in an idle guest, whose vCPU threads sleep.
"""

from __future__ import annotations

import bisect
import ctypes
import os
import re
import shutil
import signal
import subprocess
import threading
import time

PROMPT = "lanes$ "
# `-cpu max` alone makes this host's KVM abort ("failed to set MSR 0x10a": IA32_ARCH_CAPABILITIES);
# without that one feature it works under both KVM and TCG.
QEMU_CPU = "max,-arch-capabilities"
STATUS_MARK = "ci-boot-status="
SHORT_WAIT = 120    # seconds for an echo, a status line or a prompt (see Guest.run)
LINE_BOUND = 2.0    # seconds of host time from typed input to the output it causes (wait_within)
LATE_WAIT = 30      # how long wait_within keeps waiting past its bound, to report how late it was
PANIC_RE = re.compile(r"(kernel panic|PANIC[: ])", re.IGNORECASE)
USER_RE = re.compile(r"(^|\n)init: ")
INIT_DEAD_RE = re.compile(r"pid 1 \(init\)[^\n]*(killed|no supervisor)[^\n]*")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Exit codes of ci-boot for harness failures (guest statuses are passed through as-is).
EXIT_BOOT_TIMEOUT = 200
EXIT_CMD_TIMEOUT = 201
EXIT_PANIC = 202
EXIT_NO_QEMU = 203
EXIT_QEMU_EXITED = 204
EXIT_NO_IMAGE = 205
EXIT_NO_KVM = 206
EXIT_USAGE = 207
EXIT_INIT_DIED = 208
EXIT_UPLOAD = 209


class BootError(Exception):
    code = EXIT_BOOT_TIMEOUT


class BootTimeout(BootError):
    code = EXIT_BOOT_TIMEOUT


class CommandTimeout(BootError):
    code = EXIT_CMD_TIMEOUT


class LateOutput(CommandTimeout):
    """Output arrived (or not at all) later than its bound after the input that caused it."""
    code = EXIT_CMD_TIMEOUT


class KernelPanic(BootError):
    code = EXIT_PANIC


class InitDied(BootError):
    code = EXIT_INIT_DIED


class UploadFailed(BootError):
    """ci-boot --upload: the guest could not read the folder, or its copy arrived damaged."""
    code = EXIT_UPLOAD


class QemuMissing(BootError):
    code = EXIT_NO_QEMU


class QemuExited(BootError):
    code = EXIT_QEMU_EXITED


class ImageMissing(BootError):
    code = EXIT_NO_IMAGE


class KvmUnavailable(BootError):
    code = EXIT_NO_KVM


def _die_with_parent() -> None:
    """Runs in the QEMU child before exec: SIGTERM it when the Python process that started it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))   # PR_SET_PDEATHSIG
    except Exception:
        pass


def _cpu_has_virtualization() -> bool:
    """VMX or SVM among the host CPU's flags: KVM then runs guests on the hardware."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[-1].split()
                    return "vmx" in flags or "svm" in flags
    except OSError:
        pass
    return True         # (no /proc/cpuinfo to read: believe /dev/kvm)


def kvm_unusable_reason() -> str | None:
    """Why KVM is not used (None: it is). /dev/kvm must be there and ours, and backed by the CPU's
    virtualization: a /dev/kvm without VMX/SVM (kvm_pvm, KVM in software inside a VM without nested
    virtualization) runs LaneOS's kernel code at about 1 us per instruction — a boot takes minutes
    where TCG takes a second or two (os/kernel/README.md) — so "auto" takes TCG there and the KVM
    test configurations skip, saying so. LANES_KVM=soft uses such a /dev/kvm anyway."""
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible to this user"
    if not _cpu_has_virtualization() and os.environ.get("LANES_KVM") != "soft":
        return ("/dev/kvm is KVM in software (the CPU has no VMX/SVM: kvm_pvm), ~1000x slower than TCG for "
                "LaneOS's kernel; LANES_KVM=soft uses it anyway")
    return None


class HostLoad:
    """How much of the host other programs used while a guest ran: the host's busy CPU time
    (/proc/stat: user, nice, system, irq, softirq, steal) less this process's and its reaped
    children's (os.times: the QEMU a guest ran in, once waited for), divided by the wall time —
    in host CPUs. A guest with N virtual CPUs under TCG has N busy host threads; with fewer than
    N host CPUs left over, its vCPUs take turns on one host CPU, and whatever needs two of them
    running at once (a round trip across CPUs, a fork whose child runs on the other CPU) then
    measures the host's scheduler, not the guest. Measure around work that ends with the QEMU
    reaped (Guest.close, subprocess.run): `with HostLoad() as h: ...; h.others` (None where
    /proc/stat is unreadable)."""

    @staticmethod
    def _busy() -> float | None:
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (v[0] + v[1] + v[2] + sum(v[5:8])) / ticks    # user nice system . . irq softirq steal

    @staticmethod
    def _ours() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def __enter__(self) -> "HostLoad":
        self.others: float | None = None
        self.cpus = os.cpu_count() or 1
        self._t, self._busy0, self._ours0 = time.monotonic(), self._busy(), self._ours()
        return self

    def __exit__(self, *exc) -> None:
        wall, busy = time.monotonic() - self._t, self._busy()
        if busy is not None and self._busy0 is not None and wall > 0.5:
            self.others = max(0.0, (busy - self._busy0 - (self._ours() - self._ours0)) / wall)


def kvm_usable() -> bool:
    return kvm_unusable_reason() is None


def find_qemu() -> str:
    q = shutil.which("qemu-system-x86_64")
    if not q:
        raise QemuMissing("qemu-system-x86_64 not found on PATH (Debian: apt-get install qemu-system-x86; "
                          "or run os/tools/deps.sh as root)")
    return q


class Guest:
    def __init__(self, build: str, iso: bool = False, smp: int = 1, accel: str = "auto", mem: str = "256M",
                 log: str | None = None, kernel_args: str | None = None, echo: bool = False,
                 extra: list[str] | None = None):
        self.build = os.path.abspath(build)
        self.extra = list(extra or [])     # more QEMU arguments (-machine q35, -device ..., -qmp ...)
        self.iso = iso
        self.smp = smp
        self.accel = accel
        self.mem = mem
        self.log_path = log
        self.kernel_args = kernel_args
        self.echo = echo
        self.proc: subprocess.Popen | None = None
        self.buf = ""              # everything received, decoded, CR removed
        self.arrivals: list[tuple[int, float]] = []   # (len(buf) after a chunk, its arrival time)
        self._sched_at: dict[float, dict[str, int]] = {}   # send() time -> run_delay per thread
        self.last_latency = 0.0    # wait_within's last answer: seconds from input to output
        self.cond = threading.Condition()
        self.eof = False
        self.t0 = 0.0
        self.t_first_output: float | None = None
        self.t_first_user: float | None = None
        self.t_prompt: float | None = None
        self.accel_used = ""
        self._log = None

    # ---- start / stop ----

    def command_line(self) -> list[str]:
        qemu = find_qemu()
        if self.accel == "kvm":
            # (asked for by name: a software /dev/kvm is taken too)
            if not os.access("/dev/kvm", os.R_OK | os.W_OK):
                raise KvmUnavailable("KVM requested but /dev/kvm is missing or not accessible")
            accel = ["-accel", "kvm"]
            self.accel_used = "kvm"
        elif self.accel == "tcg":
            accel = ["-accel", "tcg"]
            self.accel_used = "tcg"
        elif kvm_usable():
            accel = ["-accel", "kvm", "-accel", "tcg"]
            self.accel_used = "kvm"
        else:                   # (auto: a software /dev/kvm is not taken either)
            accel = ["-accel", "tcg"]
            self.accel_used = "tcg"
        cmd = [qemu, *accel, "-cpu", QEMU_CPU, "-smp", str(self.smp), "-m", self.mem,
               "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if self.iso:
            iso = os.path.join(self.build, "lanes.iso")
            if not os.path.exists(iso):
                raise ImageMissing(f"{iso} is missing; build it with `make -C os`")
            cmd += ["-cdrom", iso, "-boot", "d"]
        else:
            kernel = os.path.join(self.build, "kernel", "lanes32.elf")
            initrd = os.path.join(self.build, "initrd.tar")
            for f in (kernel, initrd):
                if not os.path.exists(f):
                    raise ImageMissing(f"{f} is missing; build it with `make -C os`")
            cmd += ["-kernel", kernel, "-initrd", initrd]
            if self.kernel_args:
                cmd += ["-append", self.kernel_args]
        return cmd + self.extra

    def start(self) -> None:
        cmd = self.command_line()
        if self.log_path:
            self._log = open(self.log_path, "w", encoding="utf-8", errors="replace")
            self._log.write("# " + " ".join(cmd) + "\n")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     bufsize=0, preexec_fn=_die_with_parent)
        threading.Thread(target=self._reader, daemon=True).start()
        threading.Thread(target=self._stderr_reader, daemon=True).start()

    def _stderr_reader(self) -> None:
        assert self.proc and self.proc.stderr
        self.stderr = b""
        for chunk in iter(lambda: self.proc.stderr.read(4096), b""):
            self.stderr += chunk

    def _reader(self) -> None:
        assert self.proc and self.proc.stdout
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
            except OSError:
                chunk = b""
            now = time.monotonic() - self.t0
            if not chunk:
                with self.cond:
                    self.eof = True
                    self.cond.notify_all()
                return
            text = chunk.decode("utf-8", errors="replace").replace("\r", "")
            if self._log:
                self._log.write(text)
                self._log.flush()
            if self.echo:
                os.write(2, chunk)
            with self.cond:
                if self.t_first_output is None:
                    self.t_first_output = now
                self.buf += text
                self.arrivals.append((len(self.buf), now))
                if self.t_first_user is None and USER_RE.search(self.buf):
                    self.t_first_user = now
                self.cond.notify_all()

    def close(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        return self.proc.returncode if self.proc else None

    # ---- waiting ----

    def _check_dead(self, since: int) -> None:
        d = INIT_DEAD_RE.search(self.buf, since)
        if d:
            raise InitDied("init (pid 1) died: " + d.group(0).strip())
        m = PANIC_RE.search(self.buf, since)
        if m:
            # give the panic message and backtrace a moment to arrive
            end = time.monotonic() + 2
            while time.monotonic() < end and not self.eof:
                self.cond.wait(0.2)
            start = self.buf.rfind("\n", 0, m.start()) + 1
            raise KernelPanic("kernel panic:\n" + self.buf[start:start + 3000])
        if self.eof:
            rc = self.proc.wait() if self.proc else None
            err = getattr(self, "stderr", b"").decode(errors="replace").strip()
            detail = f"; QEMU said: {err}" if err else ""
            guest = f" (guest exit code {rc >> 1})" if rc is not None and rc & 1 else ""
            raise QemuExited(f"QEMU exited with status {rc}{guest} before the expected output{detail}")

    def wait_for(self, pattern: str | re.Pattern, timeout: float, since: int = 0, what: str = "",
                 exc: type[BootError] = BootTimeout) -> re.Match:
        rx = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, since)
                if m:
                    return m
                self._check_dead(since)
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = self.buf[-1500:]
                    raise exc(f"timed out after {timeout:.0f} s waiting for {what or rx.pattern!r}; "
                              f"last output:\n{tail}")
                self.cond.wait(min(left, 0.5))

    def wait_prompt(self, timeout: float = 120) -> None:
        m = self.wait_for(PROMPT, timeout, what="the shell prompt")
        self.t_prompt = time.monotonic() - self.t0
        self.prompt_end = m.end()

    def send(self, text: str) -> float:
        """Types text; returns the time (relative to QEMU's start) its last byte was written."""
        assert self.proc and self.proc.stdin
        # Type slowly enough for a 16550 without flow control: a few bytes at a time.
        data = text.encode()
        sent = time.monotonic() - self.t0
        for i in range(0, len(data), 8):
            if i:
                time.sleep(0.005)
            self.proc.stdin.write(data[i:i + 8])
            self.proc.stdin.flush()
            sent = time.monotonic() - self.t0
        self._sched_at[sent] = self._run_delays()
        return sent

    def _run_delays(self) -> dict[str, int]:
        """Nanoseconds each thread of QEMU and of this process has spent runnable but waiting
        for a CPU (schedstat's second field); empty where the kernel does not say."""
        out: dict[str, int] = {}
        for pid in ([self.proc.pid] if self.proc else []) + [os.getpid()]:
            base = f"/proc/{pid}/task"
            try:
                tids = os.listdir(base)
            except OSError:
                continue
            for tid in tids:
                try:
                    with open(f"{base}/{tid}/schedstat") as f:
                        out[f"{pid}/{tid}"] = int(f.read().split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        return out

    def host_wait_since(self, sent_at: float) -> float:
        """Seconds since send() returned sent_at that the most delayed thread of QEMU or of this
        process waited for a host CPU (0 if unknown)."""
        before = self._sched_at.get(sent_at)
        if not before:
            return 0.0
        now = self._run_delays()
        return max((now[k] - v for k, v in before.items() if k in now), default=0) / 1e9

    def arrival(self, pos: int) -> float:
        """When (relative to QEMU's start) the byte at buffer position pos arrived."""
        with self.cond:
            i = bisect.bisect_right(self.arrivals, (pos, float("inf")))
            return self.arrivals[min(i, len(self.arrivals) - 1)][1]

    def wait_within(self, pattern: str | re.Pattern, bound: float, sent_at: float, since: int = 0,
                    what: str = "", cause: str = "the input that causes it") -> tuple[re.Match, float]:
        """Waits for output caused by input typed at sent_at (send()'s result) and returns it with
        how long it was held: its latency less the time QEMU (or we) waited for a host CPU meanwhile.
        Raises LateOutput when that exceeds `bound` seconds (or nothing arrived LATE_WAIT seconds
        past the bound)."""
        while True:     # the deadline moves on while QEMU waits for a CPU
            waited = self.host_wait_since(sent_at)
            left = sent_at + waited + bound + LATE_WAIT - (time.monotonic() - self.t0)
            try:
                m = self.wait_for(pattern, max(min(left, 5.0), 0.1), since=since, what=what, exc=LateOutput)
                break
            except LateOutput as e:
                if left > 5.0:
                    continue
                raise LateOutput(f"{what} did not reach the serial line within {bound + LATE_WAIT:.0f} s of "
                                 f"{cause} ({waited:.2f} s more waiting for a host CPU; bound {bound:.1f} s)"
                                 + str(e)[str(e).find(";"):]) from None
        late = self.arrival(m.end() - 1) - sent_at
        waited = self.host_wait_since(sent_at)
        if late - waited > bound:
            raise LateOutput(f"{what} reached the serial line {late:.2f} s after {cause}, {waited:.2f} s of "
                             f"it waiting for a host CPU: held {late - waited:.2f} s (bound {bound:.1f} s)")
        self.last_latency = late
        return m, max(late - waited, 0.0)

    def run(self, command: str, timeout: float = 300, echo_within: float | None = None,
            during=None) -> tuple[str, int]:
        """Types one command line, returns (its output, its exit status via $?).
        With echo_within, the shell's echo of the command line and of the status query must each
        arrive within that many seconds of host time after it was typed (LateOutput otherwise).
        during(echo_end), if given, runs after the echo and before the wait for the prompt
        (to talk to the command)."""
        with self.cond:
            start = len(self.buf)
        sent = self.send(command + "\r")
        # the echo of our line, then the output, then the next prompt. Under this host's KVM
        # (kvm_pvm: kernel code ~1 us/instruction) each typed character takes a round trip through
        # the console server, 0.3-0.5 s on a loaded host, hence the generous bound for short waits.
        echo_rx = re.compile(re.escape(command[-40:]) + r"\n")
        if echo_within is not None:
            echo, _ = self.wait_within(echo_rx, echo_within, sent, since=start,
                                       what="the shell's echo of the command", cause=f"typing {command!r}")
        else:
            echo = self.wait_for(echo_rx, SHORT_WAIT, since=start, what="the shell's echo of the command",
                                 exc=CommandTimeout)
        if during:
            during(echo.end())
        # since=echo.end() - 1 keeps the echo's newline in reach, so a command that prints nothing
        # (the prompt right after the echo) still matches "\n" + PROMPT.
        m = self.wait_for(re.compile(r"(^|\n)" + re.escape(PROMPT)), timeout, since=echo.end() - 1,
                          what=f"the command {command!r} to finish", exc=CommandTimeout)
        output = ANSI_RE.sub("", self.buf[echo.end():m.start() + (1 if m.group(1) else 0)])
        mark_from = m.end()
        sent = self.send(f"echo {STATUS_MARK}$?\r")
        status_rx = re.compile(r"(^|\n)" + re.escape(STATUS_MARK) + r"(\d+)\n")
        if echo_within is not None:
            s, _ = self.wait_within(status_rx, echo_within, sent, since=mark_from, what="the exit status",
                                    cause="typing the status query")
        else:
            s = self.wait_for(status_rx, SHORT_WAIT, since=mark_from, what="the exit status", exc=CommandTimeout)
        status = int(s.group(2))
        self.wait_for(PROMPT, SHORT_WAIT, since=s.end(), what="the prompt after the status", exc=CommandTimeout)
        return output, status

    def upload(self, guest_path: str, host_dir: str, timeout: float = 300) -> dict:
        """Copies a folder of the guest to host_dir: runs the guest's `upload GUEST_PATH`, which
        writes it to the console as text records (os/programs/upload), and rebuilds it here —
        directories, files byte for byte, symlinks as symlinks. Returns {"entries", "bytes",
        "errors": [(path, reason)]}; UploadFailed if the guest could not read it or the records
        do not add up (a line lost or damaged on the way)."""
        out, status = self.run(f"upload {guest_path}", timeout)
        if status != 0:
            raise UploadFailed(f"upload {guest_path} exited with status {status}: {out.strip()[:300]}")
        return unpack_upload(out, host_dir)

    def boot_log(self) -> str:
        with self.cond:
            return self.buf


def unpack_upload(text: str, host_dir: str) -> dict:
    """Rebuilds what the guest's `upload` wrote (its record format is described in
    os/programs/upload/main.c) under host_dir; see Guest.upload."""
    import base64
    from urllib.parse import unquote

    lines = text.splitlines()
    try:
        first = next(i for i, ln in enumerate(lines) if ln.startswith("@@lanes-upload 1 "))
        last = next(i for i, ln in enumerate(lines) if ln.startswith("@@lanes-upload-end "))
    except StopIteration:
        raise UploadFailed("no @@lanes-upload ... @@lanes-upload-end records in the guest's output") from None
    want_entries, want_bytes = (int(x) for x in lines[last].split()[1:3])
    root = os.path.abspath(host_dir)
    os.makedirs(root, exist_ok=True)

    def place(rel: str) -> str:
        rel = unquote(rel)
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            raise UploadFailed(f"refusing a path that leaves the folder: {rel!r}")
        return os.path.join(root, *parts)

    entries = nbytes = 0
    errors = []
    for ln in lines[first + 1:last]:
        if len(ln) < 3 or ln[1] != " " or ln[0] not in "DLFE":
            continue        # a line the guest's kernel log put in between
        kind, rest = ln[0], ln[2:]
        entries += 1
        if kind == "D":
            os.makedirs(place(rest), exist_ok=True)
        elif kind == "L":
            path, target = rest.split(" ", 1)
            dst = place(path)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.lexists(dst):
                os.remove(dst)
            os.symlink(unquote(target), dst)
        elif kind == "F":
            fields = rest.split(" ")
            if len(fields) != 3 and not (len(fields) == 2 and fields[1] == "0"):
                raise UploadFailed(f"damaged file record: {ln[:120]!r}")
            data = base64.b64decode(fields[2], validate=True) if len(fields) == 3 else b""
            if len(data) != int(fields[1]):
                raise UploadFailed(f"{unquote(fields[0])}: {len(data)} bytes arrived, {fields[1]} were sent")
            dst = place(fields[0])
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(data)
            nbytes += len(data)
        else:
            path, _, reason = rest.partition(" ")
            errors.append((unquote(path), reason))
    if entries != want_entries or nbytes != want_bytes:
        raise UploadFailed(f"{entries} records and {nbytes} bytes arrived, the guest sent {want_entries} and "
                           f"{want_bytes}")
    return {"entries": entries, "bytes": nbytes, "errors": errors}
