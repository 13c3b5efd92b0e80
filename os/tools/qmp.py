"""qmp.py — a minimal client for QEMU's machine protocol (QMP) over a unix socket.

QEMU is started with `-qmp unix:PATH,server=on,wait=off`; Qmp(PATH) connects (retrying while
QEMU creates the socket), negotiates capabilities, and `cmd(name, **args)` returns a command's
"return" value (events that arrive meanwhile are kept in .events; an "error" raises QmpError).
Used by os/tools/os_test_pci.py for `query-pci` (what QEMU emulates, the oracle for lspci) and
`device_add` (hotplug).
"""
from __future__ import annotations

import json
import socket
import time


class QmpError(Exception):
    pass


class Qmp:
    def __init__(self, path: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QmpError(f"cannot connect to QMP at {path}") from None
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events: list[dict] = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise QmpError(f"not a QMP greeting: {greeting}")
        self.cmd("qmp_capabilities")

    def _read(self) -> dict:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QmpError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name: str, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "event" in r:
                self.events.append(r)
            elif "error" in r:
                raise QmpError(f"{name}: {r['error'].get('desc', r['error'])}")
            elif "return" in r:
                return r["return"]

    def close(self) -> None:
        self.sock.close()


def pci_functions(query_pci: list) -> list[dict]:
    """Flattens query-pci's buses (and the buses behind bridges) into one list of functions:
    {bus, slot, function, class, vendor, device, subsystem_vendor, subsystem}."""
    out = []

    def walk(devices):
        for d in devices:
            out.append({"bus": d["bus"], "slot": d["slot"], "function": d["function"],
                        "class": d["class_info"]["class"], "vendor": d["id"]["vendor"], "device": d["id"]["device"],
                        "subsystem_vendor": d["id"].get("subsystem-vendor", 0),
                        "subsystem": d["id"].get("subsystem", 0)})
            br = d.get("pci_bridge")
            if br:
                walk(br.get("devices", []))

    for b in query_pci:
        walk(b.get("devices", []))
    return sorted(out, key=lambda f: (f["bus"], f["slot"], f["function"]))
