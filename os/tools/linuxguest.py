"""linuxguest — Debian's own Linux kernel booted in the same QEMU as LaneOS, as the baseline of the
OS benchmarks (`make -C os bench`).

A LaneOS figure is only worth comparing with Linux's when both ran on the same emulated machine:
same QEMU binary, accelerator, CPU model and CPU count, same memory. This module

  1. finds the kernel package that Debian's `linux-image-amd64` depends on, fetches it with
     `apt-get download` from the package registry (nothing else is downloaded) and unpacks its
     `vmlinuz` with `dpkg-deb -x` into a cache folder (BUILD/linux/, kept between runs);
  2. compiles one C program with `gcc -O2 -static` and packs it as `/init` of a gzip'd cpio
     ("newc") initramfs written here in Python (no cpio package needed);
  3. boots them with lanesboot's QEMU command line (-kernel vmlinuz -initrd ... -append
     "console=ttyS0 quiet panic=-1") and returns what the program printed on the serial line.
     The program powers the machine off when it is done (it is PID 1), so QEMU exits.

    vmlinuz = linuxguest.kernel(cache)          # raises LinuxUnavailable with the reason
    initrd = linuxguest.initramfs(cache, "tools/host/ipc-host-bench.c", ["5000"])
    out = linuxguest.run(vmlinuz, initrd, accel="tcg", smp=2)
"""
import glob
import gzip
import io
import os
import re
import shutil
import subprocess
import tempfile
import time

import lanesboot


class LinuxUnavailable(Exception):
    """Debian's kernel package could not be had or unpacked (the message says which step)."""


def _run(cmd: list[str], cwd: str | None = None) -> str:
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise LinuxUnavailable(f"`{cmd[0]}` is not installed (Debian: apt-get install {cmd[0]})")
    except subprocess.TimeoutExpired:
        raise LinuxUnavailable(f"`{' '.join(cmd)}` took more than 10 minutes")
    if p.returncode != 0:
        raise LinuxUnavailable(f"`{' '.join(cmd)}` failed: {(p.stderr or p.stdout).strip()[-400:]}")
    return p.stdout


def kernel(cache: str) -> str:
    """The path of Debian's vmlinuz for `linux-image-amd64`, fetched and unpacked into cache."""
    os.makedirs(cache, exist_ok=True)
    found = sorted(glob.glob(os.path.join(cache, "root", "boot", "vmlinuz-*")))
    if found:
        return found[-1]
    deps = _run(["apt-cache", "depends", "linux-image-amd64"])
    m = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b", deps)
    if not m:
        raise LinuxUnavailable("apt-cache knows no kernel package behind linux-image-amd64 "
                               "(run `apt-get update` first)")
    pkg = m.group(1)
    _run(["apt-get", "download", pkg], cwd=cache)
    debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
    if not debs:
        raise LinuxUnavailable(f"apt-get download {pkg} left no .deb in {cache}")
    _run(["dpkg-deb", "-x", debs[0], os.path.join(cache, "root")])
    os.remove(debs[0])                      # the unpacked tree is what is kept
    found = sorted(glob.glob(os.path.join(cache, "root", "boot", "vmlinuz-*")))
    if not found:
        raise LinuxUnavailable(f"{pkg} has no boot/vmlinuz-*")
    return found[-1]


def _cpio_newc(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A cpio archive in the "newc" format the kernel unpacks: (name, mode, data) entries."""
    out = io.BytesIO()

    def pad4():
        out.write(b"\0" * (-out.tell() % 4))

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], start=1):
        nameb = name.encode() + b"\0"
        fields = [ino if name != "TRAILER!!!" else 0, mode, 0, 0, 1 if not mode & 0o040000 else 2, 0, len(data),
                  0, 0, 0, 0, len(nameb), 0]
        out.write(b"070701" + b"".join(b"%08x" % f for f in fields))
        out.write(nameb)
        pad4()
        out.write(data)
        pad4()
    return out.getvalue()


def initramfs(cache: str, c_source: str, args: list[str] | None = None, cflags: list[str] | None = None,
              name: str | None = None) -> str:
    """Compiles c_source statically as /init (argv: args; extra gcc flags: cflags) and returns
    the initramfs path (CACHE/NAME.cpio.gz, NAME defaulting to the source's stem)."""
    if not shutil.which("gcc"):
        raise LinuxUnavailable("gcc is not installed")
    name = name or os.path.splitext(os.path.basename(c_source))[0]
    out = os.path.join(cache, f"{name}.cpio.gz")
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "init")
        _run(["gcc", "-O2", "-static", *(cflags or []), "-o", exe, c_source])
        with open(exe, "rb") as f:
            prog = f.read()
    # The kernel runs /init with no arguments: a shell-less initramfs passes them through a
    # file the program reads (/args), one per line.
    archive = _cpio_newc([("dev", 0o040755, b""), ("proc", 0o040755, b""), ("sys", 0o040755, b""),
                          ("args", 0o100644, "\n".join(args or []).encode()), ("init", 0o100755, prog)])
    with open(out, "wb") as f:
        f.write(gzip.compress(archive, 6))
    return out


def run(vmlinuz: str, initrd: str, accel: str = "tcg", smp: int = 1, mem: str = "256M",
        timeout: float = 600, extra: list[str] | None = None) -> str:
    """Boots Linux with lanesboot's QEMU line; returns the serial output once QEMU exits."""
    qemu = lanesboot.find_qemu()
    acc = ["-accel", "kvm"] if accel == "kvm" else ["-accel", "tcg"]
    cmd = [qemu, *acc, "-cpu", lanesboot.QEMU_CPU, "-smp", str(smp), "-m", mem, "-display", "none",
           "-serial", "stdio", "-monitor", "none", "-no-reboot",
           "-kernel", vmlinuz, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1", *(extra or [])]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           preexec_fn=lanesboot._die_with_parent)
    except subprocess.TimeoutExpired as e:
        tail = (e.stdout or b"").decode("utf-8", "replace")[-600:]
        raise RuntimeError(f"Linux guest ({accel}, {smp} CPUs) did not power off within {timeout:.0f} s: {tail}")
    out = p.stdout.decode("utf-8", "replace").replace("\r", "")
    if p.returncode != 0:
        raise RuntimeError(f"QEMU exited with {p.returncode} after {time.monotonic() - t0:.0f} s: "
                           f"{p.stderr.decode('utf-8', 'replace')[-400:]} {out[-400:]}")
    return out
