"""os_test_pci.py — os-test's PCI configurations: the pci server's sysfs tree against QEMU itself.

  pci pc      QEMU's pc (i440FX) with an e1000e, a virtio-net, an e1000, a PCI-PCI bridge
              with an e1000e behind it and the trace device (ivshmem, the kernel's): pcitests (every attribute of every function against configuration space,
              links, read-only writes, rescan, owned subtrees, uevents, mmio grants); `pcitests drivers`: both
              e1000es (not the e1000) are bound by manifest to e1000-mac, holding their I/O and memory BARs, and the
              drivers read the MACs QEMU was given through both; LaneOS's `lspci -n` lists exactly the functions
              QEMU reports (QMP query-pci).
  pci q35     q35 with devices behind PCIe root ports (one behind a PCIe-to-PCI bridge below a
              root port) and an empty hot-pluggable root port: pcitests (config: 4096 bytes through
              ECAM on PCIe functions); the shell's `echo 1 > /sys/bus/pci/rescan` walks the bus, `echo 2`
              fails, a read-only attribute gives EACCES; the guest's /sys is
              uploaded (ci-boot's mechanism, Guest.upload) and Linux's own lspci, pointed at the
              copy (`lspci -nn -A linux-sysfs -O sysfs.path=COPY/bus/pci`), lists exactly what
              query-pci reports, and draws the same `lspci -t` tree as LaneOS's lspci; then QMP
              device_add puts an e1000e on the empty port and `pcitests hotplug` rescans: the new
              function comes with an `add` uevent, its directory, its link and correct attributes.
Linux's lspci comes from Debian's pciutils (app/scripts/setup.sh installs it for tests).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import lanesboot
from qmp import Qmp, pci_functions

PC_MACS = ["52:54:00:ab:cd:01", "52:54:00:ab:cd:02"]
PC_DEVICES = ["-nic", "none", "-device", f"e1000e,mac={PC_MACS[0]}", "-device", "virtio-net-pci", "-device", "e1000",
              "-device", "pci-bridge,id=b1,chassis_nr=1", "-device", f"e1000e,bus=b1,addr=3,mac={PC_MACS[1]}"]
Q35_DEVICES = ["-machine", "q35",
               "-device", "pcie-root-port,id=rp1,chassis=1,slot=1", "-device", "e1000e,bus=rp1",
               "-device", "pcie-root-port,id=rp2,chassis=2,slot=2", "-device", "virtio-net-pci,bus=rp2",
               "-device", "pcie-root-port,id=rp3,chassis=3,slot=3",
               "-device", "pcie-root-port,id=rp4,chassis=4,slot=4", "-device", "pcie-pci-bridge,id=br1,bus=rp4",
               "-device", "e1000,bus=br1,addr=1"]


def expected(q: Qmp) -> list[str]:
    """QEMU's functions as `lspci -n` names them: "BB:DD.F CCCC: VVVV:DDDD"."""
    return [f"{f['bus']:02x}:{f['slot']:02x}.{f['function']:x} {f['class']:04x}: {f['vendor']:04x}:{f['device']:04x}"
            for f in pci_functions(q.cmd("query-pci"))]


def from_lspci_n(text: str) -> list[str]:
    return [re.sub(r" \((rev|prog-if) [0-9a-f]+\)", "", ln).strip()
            for ln in text.splitlines() if re.match(r"^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ", ln)]


def from_lspci_nn(text: str) -> list[str]:
    out = []
    for ln in text.splitlines():
        m = re.match(r"^(\S+) .*\[([0-9a-f]{4})\]: .*\[([0-9a-f]{4}):([0-9a-f]{4})\]", ln)
        if m:
            out.append(f"{m.group(1)} {m.group(2)}: {m.group(3)}:{m.group(4)}")
    return out


def differ(what: str, got: list[str], want: list[str]) -> str | None:
    if got == want:
        return None
    missing = [w for w in want if w not in got]
    extra = [g for g in got if g not in want]
    return f"{what}: missing {missing}, extra {extra}" if missing or extra else f"{what}: order {got} vs {want}"


def sh_write_problem(runs) -> str | None:
    """echo 1 > rescan walks the bus (the server says so) and succeeds; echo 2 is refused
    (EINVAL: echo fails); a read-only attribute gives EACCES at the redirection."""
    (c1, o1, s1), (c2, o2, s2), (c3, o3, s3) = runs
    if s1 != 0 or "pci: rescan:" not in o1:
        return f"{c1!r}: status {s1}, {o1.strip()[-200:]!r}"
    if s2 == 0:
        return f"{c2!r} succeeded (the pci server answers INVAL)"
    if s3 == 0 or "EACCES" not in o3:
        return f"{c3!r}: status {s3}, {o3.strip()[-200:]!r} (want EACCES)"
    return None


def ext_caps(text: str) -> dict[str, list[str]]:
    """Each function's PCIe extended capabilities in an lspci -v listing: "100 v1 Advanced Error Reporting"."""
    out: dict[str, list[str]] = {}
    cur = None
    for ln in text.splitlines():
        m = re.match(r"^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", ln)
        if m:
            cur = m.group(1)
        m = re.match(r"^\s+Capabilities: \[([0-9a-f]{3}) v(\d+)\] (.*)", ln)
        if m and cur:
            out.setdefault(cur, []).append(f"{m.group(1)} v{m.group(2)} {m.group(3)}")
    return out


# QEMU's e1000e (hw/net/e1000e.c) has AER at 0x100 and a serial number at 0x140.
E1000E_EXT_CAPS = ["100 v2 Advanced Error Reporting", "140 v1 Device Serial Number"]


def ext_caps_problem(linux: dict[str, list[str]], lanes: dict[str, list[str]]) -> str | None:
    """Linux's lspci -vvv over the uploaded /sys (4096-byte config through ECAM) must show
    QEMU's extended capabilities, and LaneOS's lspci -v the same offsets, versions and names
    (Linux adds details after the name)."""
    got = linux.get("01:00.0", [])
    missing = [w for w in E1000E_EXT_CAPS if not any(x.startswith(w) for x in got)]
    if missing:
        return f"Linux lspci -vvv: 01:00.0 (e1000e) extended capabilities {got}, missing {missing}"
    for fn, caps in linux.items():
        mine = lanes.get(fn, [])
        if len(mine) != len(caps) or not all(c.startswith(m) for c, m in zip(caps, mine)):
            return f"{fn}: extended capabilities: Linux lspci {caps}, LaneOS lspci {mine}"
    extra = [fn for fn in lanes if fn not in linux]
    return f"LaneOS lspci shows extended capabilities Linux does not: {extra}" if extra else None


def _boot(build, smp, accel, logdir, name, devices):
    tmp = tempfile.mkdtemp(prefix="lanes-pci-")
    sock = os.path.join(tmp, "qmp")
    g = lanesboot.Guest(build, smp=smp, accel=accel, log=os.path.join(logdir, f"{name}-smp{smp}-{accel}.log"),
                        extra=["-qmp", f"unix:{sock},server=on,wait=off", *devices])
    return g, sock, tmp


def config_pci_pc(build, smp, accel, logdir, timeout, suite_counts):
    # With the trace device (ivshmem) the kernel keeps its rings in: pcitests mmio checks that
    # its BAR2 is refused to mmio_create while other memory BARs are granted.
    shm = f"/dev/shm/lanes-pci-pc-{os.getpid()}"
    trace_dev = ["-object", f"memory-backend-file,id=tr,share=on,mem-path={shm},size=64M",
                 "-device", "ivshmem-plain,memdev=tr"]
    g, sock, tmp = _boot(build, smp, accel, logdir, "pci-pc", PC_DEVICES + trace_dev)
    q = None
    try:
        g.start()
        q = Qmp(sock)
        g.wait_prompt(180)
        out, status = g.run("pcitests", timeout)
        drv_out, drv_status = g.run("pcitests drivers", timeout)
        ls_out, ls_status = g.run("lspci -n", timeout)
        want = expected(q)
        log = g.boot_log()
    finally:
        if q:
            q.close()
        g.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(shm):
            os.unlink(shm)
    macs = sorted(set(re.findall(r"e1000-mac 0000:\S+: MAC ([0-9a-f:]{17})", log)))   # pcitests remove rebinds one
    # the same registers through each driver's memory BAR (mmio_create, bind.c)
    mem_macs = sorted(set(re.findall(r"e1000-mac 0000:\S+: .*, memory 0x[0-9a-f]+-0x[0-9a-f]+ MAC ([0-9a-f:]{17})", log)))
    if drv_status == 0:
        suite_counts(re.search(r"^(\d+) passed, (\d+) failed$", drv_out, re.M))
    return _verdict(out, status, suite_counts, [
        differ("LaneOS lspci -n vs QEMU query-pci", from_lspci_n(ls_out), want),
        None if ls_status == 0 else f"lspci exited {ls_status}",
        None if drv_status == 0 else "pcitests drivers: " + "; ".join(
            ln for ln in drv_out.splitlines() if "FAILED" in ln)[:400],
        None if macs == PC_MACS else f"the e1000-mac drivers read MACs {macs}, QEMU's NICs have {PC_MACS}",
        None if mem_macs == PC_MACS else
        f"the e1000-mac drivers read MACs {mem_macs} through their memory BARs, QEMU's NICs have {PC_MACS}",
    ], f"{len(want)} functions as QEMU reports them; both e1000es bound to e1000-mac, which read their MACs "
       "through the I/O and the memory BAR")


def config_pci_q35(build, smp, accel, logdir, timeout, suite_counts):
    lspci = shutil.which("lspci")
    if not lspci:
        return False, "Linux's lspci is missing on the host (Debian pciutils; app/scripts/setup.sh --for test installs it)"
    g, sock, tmp = _boot(build, smp, accel, logdir, "pci-q35", Q35_DEVICES)
    q = None
    copy = os.path.join(tmp, "sys")
    try:
        g.start()
        q = Qmp(sock)
        g.wait_prompt(180)
        out, status = g.run("pcitests", timeout)
        # Linux's way from the shell (which holds SYSTEM): posix opens the attribute for writing
        # with the opener's right and each write is a sysfs_write (posix/sysfs.c)
        sh_writes = [(cmd, *g.run(cmd, timeout)) for cmd in (
            "echo 1 > /sys/bus/pci/rescan", "echo 2 > /sys/bus/pci/rescan",
            "echo 1 > /sys/bus/pci/devices/0000:00:00.0/vendor")]
        tree_out, _ = g.run("lspci -t", timeout)
        tree_out = "".join(ln + "\n" for ln in tree_out.splitlines() if not ln.startswith("sh: "))
        up = g.upload("/sys", copy, timeout)
        want = expected(q)
        lin = subprocess.run([lspci, "-nn", "-A", "linux-sysfs", "-O", f"sysfs.path={copy}/bus/pci"],
                             capture_output=True, text=True, timeout=60)
        lin_k = subprocess.run([lspci, "-k", "-s", "01:00.0", "-A", "linux-sysfs", "-O", f"sysfs.path={copy}/bus/pci"],
                               capture_output=True, text=True, timeout=60)
        lin_tree = subprocess.run([lspci, "-t", "-A", "linux-sysfs", "-O", f"sysfs.path={copy}/bus/pci"],
                                  capture_output=True, text=True, timeout=60)
        lin_v = subprocess.run([lspci, "-vvv", "-A", "linux-sysfs", "-O", f"sysfs.path={copy}/bus/pci"],
                               capture_output=True, text=True, timeout=60)
        lv_out, _ = g.run("lspci -v", timeout)
        q.cmd("device_add", driver="e1000e", bus="rp3", id="hot1")
        hp_out, hp_status = g.run("pcitests hotplug", timeout)
        after = expected(q)
        ls_out, _ = g.run("lspci -n", timeout)
    finally:
        if q:
            q.close()
        g.close()
        shutil.rmtree(tmp, ignore_errors=True)
    problems = [
        sh_write_problem(sh_writes),
        differ("Linux lspci -nn over the uploaded /sys vs QEMU query-pci", from_lspci_nn(lin.stdout), want),
        None if lin.returncode == 0 else f"Linux lspci exited {lin.returncode}: {lin.stderr.strip()[:200]}",
        None if "Kernel driver in use: e1000-mac" in lin_k.stdout else
        f"Linux lspci -k does not see 01:00.0's driver link: {lin_k.stdout.strip()!r}",
        None if lin_tree.stdout == tree_out else f"lspci -t differs: Linux {lin_tree.stdout!r}, LaneOS {tree_out!r}",
        ext_caps_problem(ext_caps(lin_v.stdout), ext_caps(lv_out)),
        None if hp_status == 0 else "pcitests hotplug: " + "; ".join(
            ln for ln in hp_out.splitlines() if "FAILED" in ln)[:400],
        None if len(after) == len(want) + 1 else f"QEMU lists {len(after)} functions after device_add",
        differ("LaneOS lspci -n after device_add + rescan vs query-pci", from_lspci_n(ls_out), after),
    ]
    if hp_status == 0:
        suite_counts(re.search(r"^(\d+) passed, (\d+) failed$", hp_out, re.M))
    return _verdict(out, status, suite_counts, problems,
                    f"Linux lspci over the uploaded /sys ({up['entries']} entries) lists QEMU's {len(want)} functions; "
                    f"hotplug adds the {len(after)}th")


def _verdict(out, status, suite_counts, problems, summary):
    m = suite_counts(re.search(r"^(\d+) passed, (\d+) failed$", out, re.M))
    if not m:
        return False, f"pcitests: no final 'N passed, N failed' line (status {status})"
    problems = [p for p in problems if p]
    problems = [ln for ln in out.splitlines() if ln.startswith("test ") and ": FAILED" in ln][:6] + problems
    if status != 0 and not problems:
        problems.append(f"pcitests exited with status {status}")
    if problems:
        return False, "; ".join(problems)
    return True, f"pcitests {m.group(1)} passed, {m.group(2)} failed; {summary}"
