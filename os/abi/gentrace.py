#!/usr/bin/env python3
"""LaneOS trace schema generator: os/abi/trace.toml -> C header + TypeScript module.

Called by os/abi/gen.py (which skips trace.toml in its own pass), or on its own:

  python3 os/abi/gentrace.py [--toml F] [--c-out DIR] [--ts-out DIR] [--ts-file FILE] [--check]

  --c-out DIR    DIR/lanes/abi/trace.h : record structs with _Static_assert on every size and
                 offset, class bits, enum values, event ids, one emit helper per event
                 (trace_emit_<name>(...), returning the new event's id or 0: a macro that tests
                 the class bit (not for meta events), reserves the record and evaluates each
                 argument straight into its field), and the definition texts
                 (TRACE_DEF_TEXTS) the kernel sends at the start of a trace.
  --ts-out DIR   DIR/trace.ts          : the same facts for TypeScript.
  --ts-file F    the TypeScript module at an explicit path (Lanescope keeps a checked-in copy at
                 debugger/common/trace/schema.gen.ts; tests run --check on it).

The emit helpers call two functions the includer provides (the kernel: an inline fast path in
kernel/trace.h over generic/trace.c; the host golden-fixture program: its own buffer):
  void *trace_reserve(uint16_t type, uint32_t size, struct trace_slot *s);  NULL: dropped
  uint64_t trace_commit(struct trace_slot *s);                               the id, 0: dropped
(or TRACE_RESERVE(type, size, s, cls) / TRACE_COMMIT / TRACE_RESERVE_MAY_FAIL / TRACE_ON
defined before the include: the kernel's reserve never returns NULL, and tests the event's
class, cls — 0 for meta events — again once it has the record's timestamp) and read
`extern volatile uint32_t trace_classes` (the class filter).
Python 3.11+ standard library only; output is deterministic.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib

SCALARS = {"u8": (1, "uint8_t"), "u16": (2, "uint16_t"), "u32": (4, "uint32_t"), "u64": (8, "uint64_t"),
           "i8": (1, "int8_t"), "i16": (2, "int16_t"), "i32": (4, "int32_t"), "i64": (8, "int64_t")}
TAIL_RE = re.compile(r"^(str|bytes)\[(\d+)\]$")
IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
HEADER = [("u16", "type"), ("u16", "size"), ("u16", "cpu"), ("u16", "flags"), ("u64", "tsc"), ("u64", "id")]


class TraceError(Exception):
    pass


class Field:
    def __init__(self, ftype: str, name: str, enum: str | None, offset: int):
        self.type, self.name, self.enum, self.offset = ftype, name, enum, offset
        m = TAIL_RE.match(ftype)
        self.tail = m.group(1) if m else None
        self.max = int(m.group(2)) if m else 0
        self.size = SCALARS[ftype][0] if ftype in SCALARS else 0


class Event:
    def __init__(self, eid: int, name: str, cls: str, doc: str):
        self.id, self.name, self.cls, self.doc = eid, name, cls, doc
        self.fields: list[Field] = []
        self.fixed = 24
        self.tail: Field | None = None

    def text(self) -> str:
        fs = []
        for f in self.fields:
            fs.append(f"{f.type} {f.name}" + (f":{f.enum}" if f.enum else ""))
        return f"{self.name}|{self.cls}|" + ",".join(fs)


class Schema:
    def __init__(self):
        self.magic = 0
        self.version = 0
        self.classes: list[tuple[str, int]] = []
        self.enums: list[tuple[str, list[tuple[str, int]]]] = []
        self.events: list[Event] = []


def load(path: str) -> Schema:
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as e:
            raise TraceError(f"{path}: TOML error: {e}") from None
    known = {"trace", "class", "enum", "event"}
    for k in data:
        if k not in known:
            raise TraceError(f"{path}: unknown table '{k}' (known: {', '.join(sorted(known))})")
    s = Schema()
    t = data.get("trace", {})
    s.magic = int(str(t.get("magic", "0")), 0)
    s.version = int(t.get("version", 0))
    if int(t.get("header_size", 24)) != 24:
        raise TraceError(f"{path}: header_size must be 24 (the generator's record header)")
    bits = set()
    for i, c in enumerate(data.get("class", [])):
        name, bit = c.get("name"), c.get("bit")
        if not isinstance(name, str) or not IDENT_RE.match(name) or not isinstance(bit, int) or not 0 <= bit < 32:
            raise TraceError(f"{path}: class[{i}]: needs name (identifier) and bit (0..31)")
        if bit in bits or name in dict(s.classes):
            raise TraceError(f"{path}: class[{i}]: duplicate class name or bit ({name}, {bit})")
        bits.add(bit)
        s.classes.append((name, bit))
    cls_names = dict(s.classes)
    for i, e in enumerate(data.get("enum", [])):
        name = e.get("name")
        if not isinstance(name, str) or not IDENT_RE.match(name):
            raise TraceError(f"{path}: enum[{i}]: bad name {name!r}")
        vals = []
        for j, v in enumerate(e.get("values", [])):
            if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], int)):
                raise TraceError(f"{path}: enum {name}.values[{j}]: expected [name, int]")
            vals.append((v[0], v[1]))
        s.enums.append((name, vals))
    enum_names = {n for n, _ in s.enums}
    ids, names = set(), set()
    for i, e in enumerate(data.get("event", [])):
        w = f"{path}: event[{i}]"
        eid, name, cls = e.get("id"), e.get("name"), e.get("class")
        if not isinstance(eid, int) or not 1 <= eid < 0x8000:
            raise TraceError(f"{w}: id must be an integer 1..32767")
        if not isinstance(name, str) or not IDENT_RE.match(name):
            raise TraceError(f"{w}: bad name {name!r}")
        if cls not in cls_names:
            raise TraceError(f"{w} ({name}): unknown class {cls!r}")
        if eid in ids or name in names:
            raise TraceError(f"{w}: duplicate event id {eid} or name {name}")
        ids.add(eid)
        names.add(name)
        ev = Event(eid, name, cls, e.get("doc", ""))
        off = 24
        seen = {"type", "size", "cpu", "flags", "tsc", "id"}
        raw = e.get("fields", [])
        for j, f in enumerate(raw):
            fw = f"{w} ({name}).fields[{j}]"
            if not (isinstance(f, list) and len(f) == 2):
                raise TraceError(f"{fw}: a field is [type, name] (name may be 'name:enum')")
            ftype, fname = f
            enum = None
            if ":" in fname:
                fname, enum = fname.split(":", 1)
                if enum not in enum_names:
                    raise TraceError(f"{fw}: unknown enum {enum!r}")
            if not IDENT_RE.match(fname) or fname in seen:
                raise TraceError(f"{fw}: bad or duplicate field name {fname!r} (header fields are reserved)")
            seen.add(fname)
            fld = Field(ftype, fname, enum, off)
            if fld.tail:
                if j != len(raw) - 1:
                    raise TraceError(f"{fw}: {ftype} must be the last field")
                if not 0 < fld.max <= 1024:
                    raise TraceError(f"{fw}: {ftype}: maximum length must be 1..1024")
                ev.tail = fld
            elif ftype in SCALARS:
                if off % fld.size:
                    raise TraceError(f"{fw}: '{fname}' would need implicit padding at offset {off}; add a reserved field")
                off += fld.size
            else:
                raise TraceError(f"{fw}: unknown type {ftype!r} (known: {', '.join(SCALARS)}, str[N], bytes[N])")
            ev.fields.append(fld)
        if off % 8:
            raise TraceError(f"{w} ({name}): the fixed part is {off} bytes, not a multiple of 8; add a reserved field")
        ev.fixed = off
        s.events.append(ev)
    s.events.sort(key=lambda x: x.id)
    return s


# ------------------------------------------------------------------------------------------------


def gen_c(s: Schema) -> str:
    o = []
    w = o.append
    w("/* Generated by os/abi/gentrace.py from os/abi/trace.toml. Do not edit. */\n")
    w("#ifndef LANES_ABI_TRACE_H\n#define LANES_ABI_TRACE_H\n\n#include <stdint.h>\n#include <stddef.h>\n\n")
    w(f"#define LANES_TRACE_MAGIC 0x{s.magic:08x}u\n#define LANES_TRACE_VERSION {s.version}u\n")
    w("#define LANES_TRACE_HEADER_SIZE 24u\n#define LANES_TRACE_PAD 0u  /* type 0: ring padding, skip by size */\n\n")
    w("/* Classes (bits of the filter mask). */\n")
    for n, b in s.classes:
        w(f"#define TRACE_CLASS_{n.upper()} (1u << {b})\n")
    allmask = 0
    for _, b in s.classes:
        allmask |= 1 << b
    w(f"#define TRACE_CLASS_ALL 0x{allmask:x}u\n")
    w("#define TRACE_CLASS_NAMES { " + ", ".join(f"{{ \"{n}\", {b} }}" for n, b in s.classes) + " }\n\n")
    for n, vals in s.enums:
        w(f"/* enum {n} */\n")
        for vn, vv in vals:
            w(f"#define TRACE_{n.upper()}_{vn.upper()} {vv}\n")
        w("\n")
    w("/* Event ids. */\n")
    for e in s.events:
        w(f"#define TRACE_EV_{e.name.upper()} {e.id}\n")
    w(f"#define TRACE_NDEFS {len(s.events)}\n\n")
    mx = max((e.fixed + 2 + e.tail.max + 7) & ~7 if e.tail else e.fixed for e in s.events if e.cls != "meta")
    w(f"/* The largest record an emitter writes (the kernel's slow path stages one per CPU). */\n"
      f"#define LANES_TRACE_MAX_RECORD {mx}u\n\n")
    w("struct trace_hdr {\n    uint16_t type;\n    uint16_t size;\n    uint16_t cpu;\n    uint16_t flags;\n"
      "    uint64_t tsc;\n    uint64_t id;\n};\n")
    w("_Static_assert(sizeof(struct trace_hdr) == 24, \"trace_hdr size\");\n")
    for off, (_, n) in zip((0, 2, 4, 6, 8, 16), HEADER):
        w(f"_Static_assert(offsetof(struct trace_hdr, {n}) == {off}, \"trace_hdr.{n}\");\n")
    w("\n/* Where an emit helper writes; filled by trace_reserve. */\n"
      "struct trace_slot { void *rec; uint64_t id; uint64_t flags; void *ring; uint64_t end; };\n"
      "extern volatile uint32_t trace_classes;\n"
      "void *trace_reserve(uint16_t type, uint32_t size, struct trace_slot *s);\n"
      "uint64_t trace_commit(struct trace_slot *s);   /* the event's id; 0 if it was dropped */\n"
      "/* The includer may define TRACE_RESERVE / TRACE_COMMIT to an inline fast path before including\n"
      " * this header (the kernel does: kernel/trace.h). TRACE_RESERVE also gets the event's class\n"
      " * bit (0 for meta events), to test again once the record has its timestamp. */\n"
      "#ifndef TRACE_RESERVE\n#define TRACE_RESERVE(type, size, s, cls) trace_reserve(type, size, s)\n#endif\n"
      "#ifndef TRACE_COMMIT\n#define TRACE_COMMIT trace_commit\n#endif\n"
      "/* 0 if TRACE_RESERVE never returns NULL (the kernel's: a record it cannot place is dropped at\n"
      " * commit, which then returns 0), so the emitters need not test for it. */\n"
      "#ifndef TRACE_RESERVE_MAY_FAIL\n#define TRACE_RESERVE_MAY_FAIL 1\n#endif\n"
      "/* The class test every trace_emit_<name>() macro makes at its call site, before any of its\n"
      " * arguments is evaluated: a filtered-out event costs one load and one branch. */\n"
      "#ifndef TRACE_ON\n#define TRACE_ON(cls) __builtin_expect((trace_classes & (cls)) != 0, 0)\n#endif\n\n"
      "/* A bytes tail (pointer, length), clamped to max; no bytes without a pointer. */\n"
      "struct trace_bytes_ { const void *p; uint32_t n; };\n"
      "static inline struct trace_bytes_ trace_bytes_(const void *p, uint32_t n, uint32_t max)\n"
      "{\n    struct trace_bytes_ b = { p, p ? (n < max ? n : max) : 0 };\n    return b;\n}\n\n"
      "static inline uint32_t trace_tail_len_(const char *s, uint32_t max)\n"
      "{\n    uint32_t n = 0;\n    while (s && n < max && s[n])\n        n++;\n    return n;\n}\n\n"
      "/* Tail copy: 8 bytes at a time, then the rest; the caller zeroed the tail's last word.\n"
      " * 32 bytes (a full IPC payload, the usual case) go straight-line: four loads, four stores. */\n"
      "static inline void trace_tail_copy_(uint8_t *dst, const void *src, uint32_t n)\n"
      "{\n    const uint8_t *s = (const uint8_t *)src;\n    uint32_t i = 0;\n"
      "    if (n == 0)\n        return;\n"
      "    /* Unaligned 8-byte loads and stores (dst is not 8-aligned; x86 does not mind): memcpy\n"
      "     * here becomes rep movs in the kernel (no SSE), an instruction per 4 bytes. */\n"
      "    typedef uint64_t __attribute__((aligned(1), may_alias)) u64u_;\n"
      "    if (n == 32) {\n"
      "        const u64u_ *s8 = (const u64u_ *)s;\n        u64u_ *d8 = (u64u_ *)dst;\n"
      "        uint64_t w0 = s8[0], w1 = s8[1], w2 = s8[2], w3 = s8[3];\n"
      "        d8[0] = w0;\n        d8[1] = w1;\n        d8[2] = w2;\n        d8[3] = w3;\n        return;\n    }\n"
      "    for (; i + 8 <= n; i += 8)\n        *(u64u_ *)(dst + i) = *(const u64u_ *)(s + i);\n"
      "    for (; i < n; i++)\n        dst[i] = s[i];\n}\n\n")
    for e in s.events:
        st = f"trace_ev_{e.name}"
        if e.doc:
            w(f"/* {e.name}: {e.doc} */\n")
        w(f"struct {st} {{\n    struct trace_hdr h;\n")
        for f in e.fields:
            if not f.tail:
                w(f"    {SCALARS[f.type][1]} {f.name};\n")
        w("};\n")
        w(f"_Static_assert(sizeof(struct {st}) == {e.fixed}, \"{st} size\");\n")
        for f in e.fields:
            if not f.tail:
                w(f"_Static_assert(offsetof(struct {st}, {f.name}) == {f.offset}, \"{st}.{f.name}\");\n")
        if e.tail:
            w(f"#define TRACE_{e.name.upper()}_{e.tail.name.upper()}_MAX {e.tail.max}u\n")
        # emit helper: one macro per event (meta events, written by the kernel itself, have no
        # class test)
        w(emit_macro(e, st, None if e.cls == "meta" else f"TRACE_CLASS_{e.cls.upper()}"))
        w("\n")
    w("/* Definition texts, sent as event_def records at the start of a trace. */\n")
    w("#define TRACE_DEF_TEXTS { \\\n")
    for e in s.events:
        w(f"    {{ {e.id}, {dict(s.classes)[e.cls]}, \"{e.text()}\" }}, \\\n")
    w("}\n\n#endif\n")
    return "".join(o)


def emit_macro(e, st, cls) -> str:
    """trace_emit_<name>(fields...): the class test, then reserve, then each argument expression
    evaluated straight into its field (a macro, not a call: the compiler loads each value after
    the reserve and stores it at once, instead of holding a dozen evaluated arguments in
    registers, or on the stack, across it). Each argument is evaluated once, only if the class
    is on; a tail's argument (and its length) before the reserve, since they decide the size."""
    # A tail's argument(s) come through `...`: a compound literal's braces do not protect its
    # commas from the preprocessor, but the function call trace_bytes_(__VA_ARGS__) parses them.
    names = [f"a_{f.name}_" for f in e.fields if not f.tail] + (["..."] if e.tail else [])
    L = []
    L.append(f"#define trace_emit_{e.name}({', '.join(names)}) ({{")
    L.append("    uint64_t trace_id_ = 0;")
    L.append(f"    if (TRACE_ON({cls})) {{" if cls else "    {")
    t = e.tail
    if t:
        if t.tail == "str":
            L.append("        const char *trace_t_ = (__VA_ARGS__);")
            L.append(f"        uint32_t trace_tl_ = trace_tail_len_(trace_t_, {t.max}u);")
        else:
            L.append(f"        struct trace_bytes_ trace_b_ = trace_bytes_(__VA_ARGS__, {t.max}u);")
            L.append("        const void *trace_t_ = trace_b_.p;")
            L.append("        uint32_t trace_tl_ = trace_b_.n;")
        L.append(f"        uint32_t trace_size_ = ({e.fixed}u + 2u + trace_tl_ + 7u) & ~7u;")
    else:
        L.append(f"        uint32_t trace_size_ = {e.fixed}u;")
    L.append("        struct trace_slot trace_s_;")
    L.append(f"        struct {st} *trace_e_ = TRACE_RESERVE(TRACE_EV_{e.name.upper()}, trace_size_, &trace_s_, {cls or 0});")
    L.append("        if (!TRACE_RESERVE_MAY_FAIL || trace_e_) {")
    for f in e.fields:
        if not f.tail:
            L.append(f"            trace_e_->{f.name} = (a_{f.name}_);")
    if t:
        L.append(f"            uint8_t *trace_tp_ = (uint8_t *)trace_e_ + {e.fixed};")
        L.append("            __builtin_memset((uint8_t *)trace_e_ + trace_size_ - 8, 0, 8);")
        L.append("            trace_tp_[0] = (uint8_t)trace_tl_;")
        L.append("            trace_tp_[1] = (uint8_t)(trace_tl_ >> 8);")
        L.append("            trace_tail_copy_(trace_tp_ + 2, trace_t_, trace_tl_);")
    L.append("            trace_id_ = TRACE_COMMIT(&trace_s_);")
    L.append("        }")
    L.append("    }")
    L.append("    trace_id_;")
    L.append("})")
    width = max(len(x) for x in L[1:]) + 1
    return L[0] + " \\\n" + "".join(x.ljust(width) + "\\\n" for x in L[1:-1]) + L[-1] + "\n"


def ts_str(x: str) -> str:
    return "'" + x.replace("\\", "\\\\").replace("'", "\\'") + "'"


def gen_ts(s: Schema) -> str:
    o = []
    w = o.append
    w("// Generated by os/abi/gentrace.py from os/abi/trace.toml. Do not edit.\n"
      "// Regenerate: python3 os/abi/gentrace.py --ts-file debugger/common/trace/schema.gen.ts\n\n")
    w(f"export const TRACE_MAGIC = 0x{s.magic:08x};\nexport const TRACE_VERSION = {s.version};\n"
      "export const TRACE_HEADER_SIZE = 24;\n\n")
    w("/** Class name -> bit. */\nexport const TRACE_CLASSES: Readonly<Record<string, number>> = {\n")
    for n, b in s.classes:
        w(f"  {n}: {b},\n")
    w("};\n\n/** Enum name -> value -> name. */\nexport const TRACE_ENUMS: Readonly<Record<string, Readonly<Record<number, string>>>> = {\n")
    for n, vals in s.enums:
        w(f"  {n}: {{ " + ", ".join(f"{v}: {ts_str(vn)}" for vn, v in vals) + " },\n")
    w("};\n\n/** Event ids by name. */\nexport const EV = {\n")
    for e in s.events:
        w(f"  {e.name}: {e.id},\n")
    w("} as const;\n\n")
    w("/** Built-in definitions (same texts as the kernel's event_def records). */\n"
      "export const TRACE_DEFS: ReadonlyArray<{ id: number; classBit: number; text: string }> = [\n")
    for e in s.events:
        w(f"  {{ id: {e.id}, classBit: {dict(s.classes)[e.cls]}, text: {ts_str(e.text())} }},\n")
    w("];\n\n/** Fixed sizes (header + fixed fields) for golden checks. */\n"
      "export const TRACE_FIXED_SIZES: Readonly<Record<string, number>> = {\n")
    for e in s.events:
        w(f"  {e.name}: {e.fixed},\n")
    w("};\n")
    return "".join(o)


# write_if_changed: the one in gen.py (same rules: only stale files are rewritten, atomically).
from gen import write_if_changed  # noqa: E402  (os/abi/gen.py, next to this file)


def run(abi_dir: str, c_out: str | None, ts_out: str | None, check: bool, ts_file: str | None = None) -> bool:
    """Generate; returns True if anything was (or, with check, would be) rewritten. Raises TraceError."""
    path = os.path.join(abi_dir, "trace.toml")
    if not os.path.exists(path):
        return False
    s = load(path)
    stale = False
    if c_out:
        stale |= write_if_changed(os.path.join(c_out, "lanes", "abi", "trace.h"), gen_c(s), check)
    if ts_out:
        stale |= write_if_changed(os.path.join(ts_out, "trace.ts"), gen_ts(s), check)
    if ts_file:
        stale |= write_if_changed(ts_file, gen_ts(s), check)
    return stale


def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Generate the LaneOS trace schema (C header, TypeScript) from os/abi/trace.toml")
    ap.add_argument("--abi-dir", default=here)
    ap.add_argument("--c-out")
    ap.add_argument("--ts-out")
    ap.add_argument("--ts-file")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    if not (a.c_out or a.ts_out or a.ts_file):
        ap.error("nothing to do: give --c-out DIR, --ts-out DIR and/or --ts-file FILE")
    try:
        stale = run(a.abi_dir, a.c_out, a.ts_out, a.check, a.ts_file)
    except TraceError as e:
        print(f"gentrace.py: error: {e}", file=sys.stderr)
        return 1
    return 1 if (a.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
