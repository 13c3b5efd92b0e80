#!/usr/bin/env python3
"""LaneOS ABI generator.

os/abi/*.toml is the single source of truth for everything that crosses the kernel boundary.
This script turns it into

  --c-out DIR    DIR/lanes/abi/<file>.h        constants, errors, rights, object types, enums,
                                               structs (with _Static_assert on every size and
                                               offset), the syscall table as an X-macro
                 DIR/lanes/abi/syscalls_user.h static inline `syscall` wrappers for user space
                 DIR/lanes/abi.h               includes every generated header
  --ts-out DIR   DIR/<file>.ts                 the same facts as TypeScript modules for Lanescope,
                                               with struct layouts and DataView decoders
                 DIR/index.ts                  re-exports each module as a namespace
  --ts-copy STEM=FILE                          one TOML's TypeScript module at an explicit path:
                                               the checked-in copies the debugger and the
                                               visualizers import (tests run --check on them)
  --json-out FILE                              every TOML's facts (constants, errors, enums, struct
                                               layouts, syscalls, trace event ids) as JSON, for the
                                               Python tools and for anything that must not import
                                               TypeScript (os/tools/trace-bench, perfetto export)

layouts.toml (`[abi] kernel_only = true`) describes the memory the host reads from the guest:
structs may give the kernel's own tag (`c_name`), the kernel symbol the host reads them through
(`symbol`), fields a third element { volatile = true } or { c = "uint8_t *" } (the C type of an
8-byte field), and a field may be another struct of the same file or an array of them. Its C
header is not part of <lanes/abi.h>: only the kernel includes it.

Output is deterministic (sorted inputs, no timestamps) and files are only rewritten when their
content changes, so make does not rebuild needlessly. Python 3.11+ standard library only.

Usage: python3 os/abi/gen.py [--abi-dir DIR] [--c-out DIR] [--ts-out DIR] [--check]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field

# ------------------------------------------------------------------------------------------------
# Types

SCALARS = {
    # name: (size, C type, TS kind, signed)
    "u8": (1, "uint8_t", "number", False),
    "u16": (2, "uint16_t", "number", False),
    "u32": (4, "uint32_t", "number", False),
    "u64": (8, "uint64_t", "bigint", False),
    "i8": (1, "int8_t", "number", True),
    "i16": (2, "int16_t", "number", True),
    "i32": (4, "int32_t", "number", True),
    "i64": (8, "int64_t", "bigint", True),
    "usize": (8, "uint64_t", "bigint", False),
    "uptr": (8, "uint64_t", "bigint", False),
    "handle": (4, "int32_t", "number", True),
}

ARRAY_RE = re.compile(r"^([a-z0-9]+)\[(\d+)\]$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AbiError(Exception):
    pass


@dataclass
class TypeInfo:
    spec: str          # as written in the TOML
    base: str          # scalar name, "char", or a struct name of the same file
    count: int | None  # array length, None for a scalar
    size: int
    align: int
    struct: "Struct | None" = None   # the element type when base names a struct


def parse_type(spec: str, where: str, structs: "dict[str, Struct] | None" = None) -> TypeInfo:
    structs = structs or {}
    m = ARRAY_RE.match(spec) or re.match(r"^([a-z_][a-z0-9_]*)\[(\d+)\]$", spec)
    if m:
        base, n = m.group(1), int(m.group(2))
        if n <= 0:
            raise AbiError(f"{where}: array length must be positive in '{spec}'")
        if base == "char":
            return TypeInfo(spec, "char", n, n, 1)
        if base in structs:
            st = structs[base]
            return TypeInfo(spec, base, n, st.size * n, st.align, st)
        if base not in SCALARS:
            raise AbiError(f"{where}: unknown element type '{base}' in '{spec}'")
        sz = SCALARS[base][0]
        return TypeInfo(spec, base, n, sz * n, sz)
    if spec in structs:
        st = structs[spec]
        return TypeInfo(spec, spec, None, st.size, st.align, st)
    if spec not in SCALARS:
        raise AbiError(f"{where}: unknown type '{spec}' (known: {', '.join(SCALARS)}, char[N], T[N])")
    sz = SCALARS[spec][0]
    return TypeInfo(spec, spec, None, sz, sz)


# ------------------------------------------------------------------------------------------------
# Model


@dataclass
class Named:
    name: str
    value: int | str
    doc: str = ""


@dataclass
class Enum:
    name: str
    doc: str
    values: list[tuple[str, int]]


@dataclass
class Field:
    name: str
    type: TypeInfo
    offset: int
    volatile: bool = False     # C only: the field is shared with another agent (the host, a CPU)
    ctype: str | None = None   # C only: the kernel's type for this 8-byte field ("uint8_t *")
    doc: str = ""


@dataclass
class Struct:
    name: str
    doc: str
    fields: list[Field]
    size: int
    align: int
    c_name: str | None = None  # the C tag when it is not lane_<name> (a kernel structure)
    symbol: str | None = None  # the kernel symbol the host reads it through (gdb, flight recorder)

    @property
    def c_tag(self) -> str:
        return self.c_name or f"lane_{self.name}"


@dataclass
class Syscall:
    num: int
    name: str
    args: list[tuple[str, str]]   # (type, name)
    doc: str


@dataclass
class Abi:
    stem: str                     # file name without .toml
    source: str                   # path relative to the repository's os/ dir, for comments
    name: str = "lanes"
    version: tuple[int, int] = (0, 0)
    kernel_only: bool = False     # not part of <lanes/abi.h>: the kernel includes it itself
    consts: list[Named] = field(default_factory=list)
    errors: list[Named] = field(default_factory=list)
    rights: list[Named] = field(default_factory=list)
    objtypes: list[Named] = field(default_factory=list)
    enums: list[Enum] = field(default_factory=list)
    structs: list[Struct] = field(default_factory=list)
    syscalls: list[Syscall] = field(default_factory=list)


def as_int(v, where: str) -> int:
    if isinstance(v, bool):
        raise AbiError(f"{where}: expected an integer, got a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            pass
    raise AbiError(f"{where}: expected an integer (or a string like \"0x10\"), got {v!r}")


def need(tbl: dict, key: str, where: str):
    if key not in tbl:
        raise AbiError(f"{where}: missing key '{key}'")
    return tbl[key]


def check_ident(name, where: str) -> str:
    if not isinstance(name, str) or not IDENT_RE.match(name):
        raise AbiError(f"{where}: '{name}' is not a valid identifier")
    return name


def layout(name: str, raw_fields, where: str, structs: "dict[str, Struct] | None" = None) -> Struct:
    fields: list[Field] = []
    off = 0
    align = 1
    seen = set()
    for i, f in enumerate(raw_fields):
        fw = f"{where}.fields[{i}]"
        if not (isinstance(f, list) and len(f) in (2, 3)):
            raise AbiError(f"{fw}: a field is [type, name] or [type, name, {{ options }}]")
        opts = f[2] if len(f) == 3 else {}
        if not isinstance(opts, dict) or set(opts) - {"volatile", "c", "doc"}:
            raise AbiError(f"{fw}: field options are {{ volatile = true, c = \"C type\", doc = \"...\" }}, got {opts!r}")
        t = parse_type(f[0], fw, structs)
        fname = check_ident(f[1], fw)
        ctype = opts.get("c")
        if ctype is not None and (not isinstance(ctype, str) or t.size != 8 or t.count is not None or t.struct):
            raise AbiError(f"{fw}: a C type override ({ctype!r}) is for an 8-byte scalar field (a kernel pointer)")
        if fname in seen:
            raise AbiError(f"{fw}: duplicate field '{fname}'")
        seen.add(fname)
        if off % t.align:
            pad = t.align - off % t.align
            raise AbiError(
                f"{fw}: field '{fname}' would need {pad} byte(s) of implicit padding at offset {off}; "
                "add an explicit reserved field so no kernel bytes can leak through padding")
        fields.append(Field(fname, t, off, bool(opts.get("volatile", False)), ctype, str(opts.get("doc", ""))))
        off += t.size
        align = max(align, t.align)
    if not fields:
        raise AbiError(f"{where}: struct '{name}' has no fields")
    if off % align:
        raise AbiError(f"{where}: struct '{name}' size {off} is not a multiple of its alignment {align}; "
                       "add an explicit reserved field at the end")
    return Struct(name, "", fields, off, align)


def load(path: str) -> Abi:
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as e:
            raise AbiError(f"{path}: TOML error: {e}") from None
    stem = os.path.splitext(os.path.basename(path))[0]
    abi = Abi(stem=stem, source="os/abi/" + os.path.basename(path))
    meta = data.get("abi", {})
    abi.name = meta.get("name", "lanes")
    abi.version = (int(meta.get("version_major", 0)), int(meta.get("version_minor", 0)))
    abi.kernel_only = bool(meta.get("kernel_only", False))

    known = {"abi", "const", "error", "right", "objtype", "enum", "struct", "syscall"}
    for k in data:
        if k not in known:
            raise AbiError(f"{path}: unknown table '{k}' (known: {', '.join(sorted(known))})")

    for i, c in enumerate(data.get("const", [])):
        w = f"{path}: const[{i}]"
        name = check_ident(need(c, "name", w), w)
        v = need(c, "value", w)
        if isinstance(v, str) and len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            value: int | str = v[1:-1]
        else:
            value = as_int(v, w)
        abi.consts.append(Named(name, value, c.get("doc", "")))

    for key, lst in (("error", abi.errors), ("right", abi.rights), ("objtype", abi.objtypes)):
        for i, c in enumerate(data.get(key, [])):
            w = f"{path}: {key}[{i}]"
            lst.append(Named(check_ident(need(c, "name", w), w), as_int(need(c, "value", w), w), c.get("doc", "")))
    for e in abi.errors:
        if not isinstance(e.value, int) or e.value >= 0:
            raise AbiError(f"{path}: error {e.name} must have a negative value")

    for i, e in enumerate(data.get("enum", [])):
        w = f"{path}: enum[{i}]"
        name = check_ident(need(e, "name", w), w)
        vals = []
        for j, pair in enumerate(need(e, "values", w)):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise AbiError(f"{w}.values[{j}]: expected [NAME, value]")
            vals.append((check_ident(pair[0], w), as_int(pair[1], w)))
        abi.enums.append(Enum(name, e.get("doc", ""), vals))

    for i, s in enumerate(data.get("struct", [])):
        w = f"{path}: struct[{i}]"
        name = check_ident(need(s, "name", w), w)
        st = layout(name, need(s, "fields", w), f"{w} ({name})", {x.name: x for x in abi.structs})
        st.doc = s.get("doc", "")
        for k in ("c_name", "symbol"):
            if k in s:
                setattr(st, k, check_ident(s[k], f"{w}.{k}"))
        abi.structs.append(st)

    for i, s in enumerate(data.get("syscall", [])):
        w = f"{path}: syscall[{i}]"
        name = check_ident(need(s, "name", w), w)
        num = as_int(need(s, "num", w), w)
        args = []
        for j, a in enumerate(s.get("args", [])):
            if not (isinstance(a, list) and len(a) == 2):
                raise AbiError(f"{w}.args[{j}]: expected [type, name]")
            t = parse_type(a[0], f"{w}.args[{j}]")
            if t.count is not None:
                raise AbiError(f"{w}.args[{j}]: syscall arguments must be scalars")
            args.append((a[0], check_ident(a[1], w)))
        if len(args) > 6:
            raise AbiError(f"{w}: {name} has {len(args)} arguments; at most 6 fit in registers")
        abi.syscalls.append(Syscall(num, name, args, s.get("doc", "")))

    # Uniqueness checks.
    def uniq(items, what, key):
        seen = {}
        for it in items:
            k = key(it)
            if k in seen:
                raise AbiError(f"{path}: duplicate {what} {k!r} ({seen[k]} and {it.name})")
            seen[k] = it.name
    for lst, what in ((abi.consts, "const"), (abi.errors, "error"), (abi.rights, "right"),
                      (abi.objtypes, "objtype"), (abi.enums, "enum"), (abi.structs, "struct"),
                      (abi.syscalls, "syscall")):
        uniq(lst, what + " name", lambda x: x.name.upper())
    uniq(abi.errors, "error value", lambda x: x.value)
    uniq(abi.objtypes, "objtype value", lambda x: x.value)
    uniq(abi.syscalls, "syscall number", lambda x: x.num)
    for en in abi.enums:
        names = [n for n, _ in en.values]
        if len(set(names)) != len(names):
            raise AbiError(f"{path}: enum {en.name} has duplicate value names")
    return abi


# ------------------------------------------------------------------------------------------------
# C output


def c_comment(doc: str, indent: str = "") -> str:
    if not doc:
        return ""
    doc = doc.replace("*/", "* /")
    lines = doc.strip().splitlines()
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    out = f"{indent}/**\n"
    for ln in lines:
        out += f"{indent} * {ln}".rstrip() + "\n"
    return out + f"{indent} */\n"


def c_int(v: int) -> str:
    if v < 0:
        return f"({v})" if v >= -0x80000000 else f"({v}LL)"
    if v > 0x7FFFFFFF:
        return f"0x{v:x}ULL"
    return str(v)


def c_hex(v: int) -> str:
    return f"0x{v:02x}u"


def c_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def gen_c_header(abi: Abi) -> str:
    up = abi.stem.upper()
    guard = f"LANES_ABI_{re.sub('[^A-Z0-9]', '_', up)}_H"
    # kernel.toml's tables keep the plain names; another file's get its stem in them
    # (LANES_IPC_SYS_COUNT, lanes_ipc_error_name...) so that all headers can be included together.
    P = "" if abi.stem == "kernel" else re.sub('[^A-Z0-9]', '_', up) + "_"
    p = P.lower()
    o = []
    o.append(f"/* Generated by os/abi/gen.py from {abi.source}. Do not edit: change the TOML and rebuild. */\n")
    o.append(f"#ifndef {guard}\n#define {guard}\n\n")
    o.append("#include <stdint.h>\n#include <stddef.h>\n\n")
    o.append(f"#define LANES_ABI_NAME \"{c_escape(abi.name)}\"\n")
    o.append(f"#define LANES_ABI_VERSION_MAJOR {abi.version[0]}\n")
    o.append(f"#define LANES_ABI_VERSION_MINOR {abi.version[1]}\n\n")

    if abi.consts:
        o.append("/* ---- Constants ---- */\n\n")
        for c in abi.consts:
            o.append(c_comment(c.doc))
            if isinstance(c.value, str):
                o.append(f"#define LANES_{c.name.upper()} \"{c_escape(c.value)}\"\n")
            else:
                o.append(f"#define LANES_{c.name.upper()} {c_int(c.value)}\n")
        o.append("\n")

    if abi.errors:
        o.append("/* ---- Errors (syscalls return them negated) ---- */\n\n")
        for e in abi.errors:
            o.append(c_comment(e.doc))
            o.append(f"#define LANES_E_{e.name.upper()} {c_int(e.value)}\n")
        o.append(f"#define LANES_{P}E_COUNT {len(abi.errors)}\n\n")
        o.append("/** Name of an error value (e.g. \"BADHANDLE\" for -4); \"OK\" for >= 0, \"?\" if unknown. */\n")
        o.append(f"static inline const char *lanes_{p}error_name(int64_t err)\n{{\n")
        o.append("    if (err >= 0)\n        return \"OK\";\n    switch (err) {\n")
        for e in abi.errors:
            o.append(f"    case {c_int(e.value)}: return \"{e.name.upper()}\";\n")
        o.append("    default: return \"?\";\n    }\n}\n\n")
        o.append("/** One-line description of an error value. */\n")
        o.append(f"static inline const char *lanes_{p}error_doc(int64_t err)\n{{\n")
        o.append("    if (err >= 0)\n        return \"success\";\n    switch (err) {\n")
        for e in abi.errors:
            o.append(f"    case {c_int(e.value)}: return \"{c_escape(e.doc)}\";\n")
        o.append("    default: return \"unknown error\";\n    }\n}\n\n")

    if abi.rights:
        o.append("/* ---- Handle rights ---- */\n\n")
        for r in abi.rights:
            o.append(c_comment(r.doc))
            o.append(f"#define LANES_RIGHT_{r.name.upper()} {c_hex(r.value)}\n")
        o.append("\n")

    if abi.objtypes:
        o.append("/* ---- Kernel object types ---- */\n\n")
        for t in abi.objtypes:
            o.append(c_comment(t.doc))
            o.append(f"#define LANES_OBJ_{t.name.upper()} {c_int(t.value)}\n")
        o.append(f"\n/** Name of an object type (\"MEMORY\"...), \"?\" if unknown. */\n")
        o.append(f"static inline const char *lanes_{p}obj_name(uint32_t type)\n{{\n    switch (type) {{\n")
        for t in abi.objtypes:
            o.append(f"    case {t.value}: return \"{t.name.upper()}\";\n")
        o.append("    default: return \"?\";\n    }\n}\n\n")

    for en in abi.enums:
        o.append(f"/* ---- enum {en.name} ---- */\n")
        o.append(c_comment(en.doc))
        pre = f"LANES_{en.name.upper()}_"
        for n, v in en.values:
            o.append(f"#define {pre}{n.upper()} {c_int(v)}\n")
        o.append(f"\n/** Name of a {en.name} value, \"?\" if unknown. */\n")
        o.append(f"static inline const char *lanes_{en.name.lower()}_name(uint32_t v)\n{{\n    switch (v) {{\n")
        seen = set()
        for n, v in en.values:
            if v in seen:
                continue
            seen.add(v)
            o.append(f"    case {v}: return \"{n.upper()}\";\n")
        o.append("    default: return \"?\";\n    }\n}\n\n")

    if abi.structs:
        o.append("/* ---- Structures (natural alignment, little endian; layout checked below) ---- */\n\n")
    for st in abi.structs:
        tag = st.c_tag
        doc = st.doc + (f"\nThe host reads it through the kernel symbol `{st.symbol}`." if st.symbol else "")
        o.append(c_comment(doc))
        o.append(f"struct {tag} {{\n")
        for f in st.fields:
            t = f.type
            if f.ctype:
                ctype = f.ctype
            elif t.struct:
                ctype = f"struct {t.struct.c_tag}"
            else:
                ctype = "char" if t.base == "char" else SCALARS[t.base][1]
            if f.volatile:
                ctype = "volatile " + ctype
            arr = f"[{t.count}]" if t.count is not None else ""
            note = f" /* {t.spec} */" if t.spec in ("uptr", "handle", "usize") else ""
            if f.doc:
                note = " /* " + f.doc.replace("*/", "* /") + " */"
            sep = "" if ctype.endswith("*") else " "
            o.append(f"    {ctype}{sep}{f.name}{arr};{note}\n")
        o.append("};\n")
        o.append(f"_Static_assert(sizeof(struct {tag}) == {st.size}, \"{tag} size\");\n")
        o.append(f"_Static_assert(_Alignof(struct {tag}) == {st.align}, \"{tag} alignment\");\n")
        for f in st.fields:
            o.append(f"_Static_assert(offsetof(struct {tag}, {f.name}) == {f.offset}, "
                     f"\"{tag}.{f.name} offset\");\n")
        o.append("\n")

    if abi.syscalls:
        o.append("/* ---- System calls ---- */\n\n")
        for s in sorted(abi.syscalls, key=lambda s: s.num):
            sig = ", ".join(f"{t} {n}" for t, n in s.args)
            doc = f"{s.name}({sig})" + (f": {s.doc}" if s.doc else "")
            o.append(c_comment(doc))
            o.append(f"#define LANES_SYS_{s.name.upper()} {s.num}\n")
        o.append(f"\n/** One more than the highest syscall number (size of a dispatch table). */\n")
        o.append(f"#define LANES_{P}SYS_COUNT {max(s.num for s in abi.syscalls) + 1}\n\n")
        o.append("/** X-macro over every syscall in number order: X(num, name, nargs). */\n")
        o.append(f"#define LANES_{P}SYSCALLS(X) \\\n")
        ss = sorted(abi.syscalls, key=lambda s: s.num)
        for i, s in enumerate(ss):
            tail = " \\" if i + 1 < len(ss) else ""
            o.append(f"    X({s.num}, {s.name}, {len(s.args)}){tail}\n")
        o.append("\n/** X-macro over every syscall with its signature as a string: X(num, name, nargs, \"type name, ...\")\n"
                 " * (types as in the TOML: u32 i32 u64 usize uptr handle), for tools that build calls from the\n"
                 " * ABI (os/programs/fuzz). */\n")
        o.append(f"#define LANES_{P}SYSCALL_SIGS(X) \\\n")
        for i, s in enumerate(ss):
            tail = " \\" if i + 1 < len(ss) else ""
            sig = ", ".join(f"{t} {n}" for t, n in s.args)
            o.append(f"    X({s.num}, {s.name}, {len(s.args)}, \"{sig}\"){tail}\n")
        o.append("\n/** Name of a syscall number, \"?\" if unknown. */\n")
        o.append(f"static inline const char *lanes_{p}syscall_name(uint64_t num)\n{{\n    switch (num) {{\n")
        for s in ss:
            o.append(f"    case {s.num}: return \"{s.name}\";\n")
        o.append("    default: return \"?\";\n    }\n}\n\n")

    o.append(f"#endif /* {guard} */\n")
    return "".join(o)


def gen_c_user(abis: list[Abi]) -> str:
    o = []
    o.append("/* Generated by os/abi/gen.py from os/abi/ *.toml. Do not edit.\n"
             " *\n"
             " * User-space system call wrappers: rax = number; rdi, rsi, rdx, r10, r8, r9 = arguments;\n"
             " * the `syscall` instruction clobbers rcx and r11. Every wrapper returns int64_t:\n"
             " * >= 0 on success, a negative LANES_E_* value on failure. `uptr` arguments are\n"
             " * taken as `const void *` so that ordinary pointers pass without casts; they are marked\n"
             " * access(none) so gcc does not assume the kernel only reads them (outputs may be\n"
             " * uninitialised).\n"
             " */\n")
    o.append("#ifndef LANES_ABI_SYSCALLS_USER_H\n#define LANES_ABI_SYSCALLS_USER_H\n\n")
    o.append("#include <stdint.h>\n")
    for a in abis:
        if not a.kernel_only:
            o.append(f"#include <lanes/abi/{a.stem}.h>\n")
    o.append("\n#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11\n"
             "#define LANES_UPTR_ARG(n) __attribute__((access(none, n)))\n"
             "#else\n#define LANES_UPTR_ARG(n)\n#endif\n\n")
    regs = ["D", "S", "d", "r10", "r8", "r9"]
    for n in range(7):
        params = ", ".join(["uint64_t num"] + [f"uint64_t a{i + 1}" for i in range(n)])
        o.append(f"static inline int64_t lanes_syscall{n}({params})\n{{\n")
        ins = ['"a"(num)']
        for i in range(n):
            r = regs[i]
            if r.startswith("r"):
                o.append(f"    register uint64_t {r} __asm__(\"{r}\") = a{i + 1};\n")
                ins.append(f'"r"({r})')
            else:
                ins.append(f'"{r}"(a{i + 1})')
        o.append("    int64_t ret;\n")
        o.append(f"    __asm__ volatile(\"syscall\"\n                     : \"=a\"(ret)\n"
                 f"                     : {', '.join(ins)}\n"
                 f"                     : \"rcx\", \"r11\", \"memory\");\n")
        o.append("    return ret;\n}\n\n")

    def ctype(t: str) -> tuple[str, str]:
        if t == "uptr":
            return "const void *", "(uint64_t)(uintptr_t)"
        if SCALARS[t][3]:
            return SCALARS[t][1], "(uint64_t)(int64_t)"
        return SCALARS[t][1], "(uint64_t)"

    for a in abis:
        for s in sorted(a.syscalls, key=lambda s: s.num):
            sig = ", ".join(f"{t} {n}" for t, n in s.args)
            o.append(c_comment(f"{s.name}({sig})" + (f": {s.doc}" if s.doc else "")))
            ps = []
            cs = []
            attrs = "".join(f"LANES_UPTR_ARG({i + 1}) " for i, (t, _) in enumerate(s.args) if t == "uptr")
            for t, n in s.args:
                ct, cast = ctype(t)
                sep = "" if ct.endswith("*") else " "
                ps.append(f"{ct}{sep}{n}")
                cs.append(f"{cast}{n}")
            o.append(f"{attrs}static inline int64_t lanes_sys_{s.name}({', '.join(ps) or 'void'})\n{{\n")
            o.append(f"    return lanes_syscall{len(s.args)}({', '.join([f'LANES_SYS_{s.name.upper()}'] + cs)});\n}}\n\n")
    o.append("#endif /* LANES_ABI_SYSCALLS_USER_H */\n")
    return "".join(o)


def gen_c_all(abis: list[Abi]) -> str:
    o = ["/* Generated by os/abi/gen.py. Do not edit. Includes every LaneOS ABI header. */\n",
         "#ifndef LANES_ABI_H\n#define LANES_ABI_H\n\n"]
    for a in abis:
        if not a.kernel_only:       # layouts.h: the kernel includes it where it needs it
            o.append(f"#include <lanes/abi/{a.stem}.h>\n")
    o.append("\n#endif /* LANES_ABI_H */\n")
    return "".join(o)


# ------------------------------------------------------------------------------------------------
# TypeScript output


def ts_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def camel(name: str, upper_first: bool = True) -> str:
    parts = [p for p in name.split("_") if p]
    s = "".join(p[:1].upper() + p[1:].lower() if p.isupper() else p[:1].upper() + p[1:] for p in parts)
    return s if upper_first else s[:1].lower() + s[1:]


def ts_num(v: int) -> str:
    if abs(v) > 0x1FFFFFFFFFFFFF:
        return f"0x{v:x}n" if v >= 0 else f"-0x{-v:x}n"
    return str(v)


def gen_ts(abi: Abi) -> str:
    o = []
    o.append(f"// Generated by os/abi/gen.py from {abi.source}. Do not edit: change the TOML and rebuild.\n")
    o.append("/* eslint-disable */\n\n")
    o.append(f"export const ABI_NAME = {ts_str(abi.name)};\n")
    o.append(f"export const ABI_VERSION = {{ major: {abi.version[0]}, minor: {abi.version[1]} }} as const;\n\n")
    o.append("/** A named value from the ABI, with its documentation. */\n")
    o.append("export interface AbiValue {\n  readonly name: string;\n  readonly value: number | bigint | string;\n"
             "  readonly doc: string;\n}\n\n")

    # constants
    o.append("// ---- Constants\n\n")
    for c in abi.consts:
        if c.doc:
            o.append(f"/** {c.doc} */\n")
        if isinstance(c.value, str):
            o.append(f"export const {c.name.upper()} = {ts_str(c.value)};\n")
        else:
            o.append(f"export const {c.name.upper()} = {ts_num(c.value)};\n")
    o.append("export const CONSTS: readonly AbiValue[] = [\n")
    for c in abi.consts:
        val = ts_str(c.value) if isinstance(c.value, str) else ts_num(c.value)
        o.append(f"  {{ name: {ts_str(c.name.upper())}, value: {val}, doc: {ts_str(c.doc)} }},\n")
    o.append("];\n\n")

    def table(title: str, objname: str, listname: str, items: list[Named], hexfmt: bool = False):
        o.append(f"// ---- {title}\n\n")
        o.append(f"export const {objname} = {{\n")
        for it in items:
            v = f"0x{it.value:02x}" if hexfmt else ts_num(it.value)
            o.append(f"  {it.name.upper()}: {v},\n")
        o.append("} as const;\n")
        o.append(f"export type {objname}Name = keyof typeof {objname};\n")
        o.append(f"export const {listname}: readonly AbiValue[] = [\n")
        for it in items:
            o.append(f"  {{ name: {ts_str(it.name.upper())}, value: {ts_num(it.value)}, doc: {ts_str(it.doc)} }},\n")
        o.append("];\n\n")

    table("Errors (syscalls return them as negative results)", "Errors", "ERRORS", abi.errors)
    o.append("/** Name of a syscall result: \"OK\" for >= 0, the error name for a known error, else \"?\". */\n")
    o.append("export function errorName(result: number | bigint): string {\n")
    o.append("  const v = Number(result);\n  if (v >= 0) return \"OK\";\n")
    o.append("  for (const e of ERRORS) if (e.value === v) return e.name;\n  return \"?\";\n}\n\n")

    table("Handle rights (bit flags)", "Rights", "RIGHTS", abi.rights, hexfmt=True)
    o.append("/** Rights mask as \"READ|WRITE\" (ALL-style aggregate names are skipped). */\n")
    o.append("export function rightsToString(mask: number): string {\n  const names: string[] = [];\n")
    o.append("  for (const r of RIGHTS) {\n    const v = Number(r.value);\n")
    o.append("    if (v !== 0 && (v & (v - 1)) === 0 && (mask & v) !== 0) names.push(r.name);\n  }\n")
    o.append("  return names.length ? names.join(\"|\") : \"0\";\n}\n\n")

    table("Kernel object types", "ObjTypes", "OBJTYPES", abi.objtypes)
    o.append("export function objTypeName(type: number): string {\n")
    o.append("  for (const t of OBJTYPES) if (t.value === type) return t.name;\n  return \"?\";\n}\n\n")

    o.append("// ---- Enumerations\n\n")
    o.append("export interface AbiEnum {\n  readonly name: string;\n  readonly doc: string;\n"
             "  readonly values: readonly { readonly name: string; readonly value: number }[];\n}\n\n")
    for en in abi.enums:
        cname = camel(en.name)
        if en.doc:
            o.append(f"/** {en.doc} */\n")
        o.append(f"export const {cname} = {{\n")
        for n, v in en.values:
            o.append(f"  {n.upper()}: {v},\n")
        o.append("} as const;\n")
        o.append(f"export function {camel(en.name, False)}Name(v: number): string {{\n  switch (v) {{\n")
        seen = set()
        for n, v in en.values:
            if v in seen:
                continue
            seen.add(v)
            o.append(f"    case {v}: return {ts_str(n.upper())};\n")
        o.append("    default: return \"?\";\n  }\n}\n\n")
    o.append("export const ENUMS: readonly AbiEnum[] = [\n")
    for en in abi.enums:
        vals = ", ".join(f"{{ name: {ts_str(n.upper())}, value: {v} }}" for n, v in en.values)
        o.append(f"  {{ name: {ts_str(en.name)}, doc: {ts_str(en.doc)}, values: [{vals}] }},\n")
    o.append("];\n\n")

    # syscalls
    o.append("// ---- System calls\n\n")
    o.append("export interface SyscallArg {\n  readonly type: string;\n  readonly name: string;\n}\n")
    o.append("export interface SyscallDef {\n  readonly num: number;\n  readonly name: string;\n"
             "  readonly args: readonly SyscallArg[];\n  readonly doc: string;\n}\n\n")
    ss = sorted(abi.syscalls, key=lambda s: s.num)
    o.append("export const Sys = {\n")
    for s in ss:
        o.append(f"  {s.name.upper()}: {s.num},\n")
    o.append("} as const;\n\n")
    o.append("export const SYSCALLS: readonly SyscallDef[] = [\n")
    for s in ss:
        args = ", ".join(f"{{ type: {ts_str(t)}, name: {ts_str(n)} }}" for t, n in s.args)
        o.append(f"  {{ num: {s.num}, name: {ts_str(s.name)}, args: [{args}], doc: {ts_str(s.doc)} }},\n")
    o.append("];\n")
    o.append(f"export const SYS_COUNT = {max((s.num for s in ss), default=-1) + 1};\n\n")
    o.append("export function syscallName(num: number): string {\n")
    o.append("  for (const s of SYSCALLS) if (s.num === num) return s.name;\n  return \"?\";\n}\n\n")

    # structs
    o.append("// ---- Structures (natural alignment, little endian)\n\n")
    o.append("export interface FieldLayout {\n  readonly name: string;\n  readonly type: string;\n"
             "  readonly offset: number;\n  readonly size: number;\n}\n")
    o.append("export interface StructLayout {\n  readonly name: string;\n  readonly doc: string;\n"
             "  readonly size: number;\n  readonly align: number;\n  readonly fields: readonly FieldLayout[];\n"
             "  /** the kernel symbol the host reads it through (layouts.toml), if any */\n"
             "  readonly symbol?: string;\n}\n\n")
    o.append("/** Reads a NUL-padded byte string (Latin-1 / ASCII). */\n")
    o.append("function readCString(view: DataView, offset: number, len: number): string {\n")
    o.append("  let s = \"\";\n  for (let i = 0; i < len; i++) {\n    const b = view.getUint8(offset + i);\n")
    o.append("    if (b === 0) break;\n    s += String.fromCharCode(b);\n  }\n  return s;\n}\n\n")

    getters = {
        "u8": ("getUint8", 1), "u16": ("getUint16", 2), "u32": ("getUint32", 4), "u64": ("getBigUint64", 8),
        "i8": ("getInt8", 1), "i16": ("getInt16", 2), "i32": ("getInt32", 4), "i64": ("getBigInt64", 8),
        "usize": ("getBigUint64", 8), "uptr": ("getBigUint64", 8), "handle": ("getInt32", 4),
    }

    def rd(base: str, off: str) -> str:
        g, sz = getters[base]
        le = ", true" if sz > 1 else ""
        return f"view.{g}({off}{le})"

    layouts = []
    for st in abi.structs:
        cname = camel(st.name)
        lname = f"{cname}Layout"
        layouts.append(lname)
        o.append(f"/** struct lane_{st.name}" + (f": {st.doc}" if st.doc else "") + " */\n")
        o.append(f"export interface {cname} {{\n")
        for f in st.fields:
            t = f.type
            if t.base == "char":
                ty = "string"
            elif t.struct:
                ty = camel(t.struct.name) + ("[]" if t.count is not None else "")
            elif t.count is not None:
                ty = f"{SCALARS[t.base][2]}[]"
            else:
                ty = SCALARS[t.base][2]
            o.append(f"  {f.name}: {ty}; // {t.spec}" + (f": {f.doc}" if f.doc else "") + "\n")
        o.append("}\n")
        o.append(f"export const {lname}: StructLayout = {{\n  name: {ts_str(st.name)},\n  doc: {ts_str(st.doc)},\n")
        o.append(f"  size: {st.size},\n  align: {st.align},\n")
        if st.symbol:
            o.append(f"  symbol: {ts_str(st.symbol)},\n")
        o.append("  fields: [\n")
        for f in st.fields:
            o.append(f"    {{ name: {ts_str(f.name)}, type: {ts_str(f.type.spec)}, offset: {f.offset}, size: {f.type.size} }},\n")
        o.append("  ],\n};\n")
        o.append(f"/** Byte offset of each field of struct {st.c_tag}; its keys are the field names (as C and gdb spell them). */\n")
        o.append(f"export const {cname}Offsets = {{\n")
        for f in st.fields:
            o.append(f"  {f.name}: {f.offset},\n")
        o.append("} as const;\n")
        o.append(f"export type {cname}Field = keyof typeof {cname}Offsets;\n")
        o.append(f"export function decode{cname}(view: DataView, offset: number): {cname} {{\n")
        o.append(f"  if (offset < 0 || offset + {st.size} > view.byteLength) {{\n")
        o.append(f"    throw new RangeError(`lane_{st.name} needs {st.size} bytes at offset ${{offset}}, view has ${{view.byteLength}}`);\n  }}\n")
        o.append("  return {\n")
        for f in st.fields:
            t = f.type
            off = f"offset + {f.offset}"
            if t.base == "char":
                expr = f"readCString(view, {off}, {t.count})"
            elif t.struct and t.count is not None:
                expr = (f"Array.from({{ length: {t.count} }}, (_, i) => "
                        f"decode{camel(t.struct.name)}(view, {off} + i * {t.struct.size}))")
            elif t.struct:
                expr = f"decode{camel(t.struct.name)}(view, {off})"
            elif t.count is not None:
                esz = SCALARS[t.base][0]
                expr = f"Array.from({{ length: {t.count} }}, (_, i) => {rd(t.base, f'{off} + i * {esz}')})"
            else:
                expr = rd(t.base, off)
            o.append(f"    {f.name}: {expr},\n")
        o.append("  };\n}\n\n")
    o.append("export const STRUCTS: readonly StructLayout[] = [" + ", ".join(layouts) + "];\n")
    return "".join(o)


def gen_ts_index(abis: list[Abi]) -> str:
    o = ["// Generated by os/abi/gen.py. Do not edit. One namespace per os/abi/*.toml.\n"]
    for a in abis:
        o.append(f"export * as {camel(a.stem, False)} from \"./{a.stem}.js\";\n")
    return "".join(o)


# ------------------------------------------------------------------------------------------------
# JSON output (the Python tools, and host code that must not import TypeScript)


def gen_json(abis: list[Abi], trace) -> str:
    import json

    def struct(st: Struct) -> dict:
        d = {"size": st.size, "align": st.align, "c_tag": st.c_tag, "doc": st.doc, "fields": [
            {"name": f.name, "type": f.type.spec, "offset": f.offset, "size": f.type.size,
             **({"count": f.type.count} if f.type.count is not None else {}),
             **({"struct": f.type.struct.name} if f.type.struct else {})} for f in st.fields]}
        if st.symbol:
            d["symbol"] = st.symbol
        return d

    out: dict = {"generator": "os/abi/gen.py", "abis": {}}
    for a in abis:
        out["abis"][a.stem] = {
            "source": a.source,
            "consts": {c.name.upper(): c.value for c in a.consts},
            "errors": {e.name.upper(): e.value for e in a.errors},
            "enums": {e.name: {n.upper(): v for n, v in e.values} for e in a.enums},
            "structs": {st.name: struct(st) for st in a.structs},
            "syscalls": [{"num": sc.num, "name": sc.name, "args": [n for _, n in sc.args]}
                         for sc in sorted(a.syscalls, key=lambda x: x.num)],
        }
    if trace is not None:
        out["trace"] = {"source": "os/abi/trace.toml", "magic": trace.magic, "version": trace.version,
                        "classes": dict(trace.classes), "events": {e.name: e.id for e in trace.events}}
    return json.dumps(out, indent=1, sort_keys=True) + "\n"


# ------------------------------------------------------------------------------------------------


def write_if_changed(path: str, text: str, check: bool) -> bool:
    old = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
    if old == text:
        return False
    if check:
        print(f"gen.py: {path} is out of date", file=sys.stderr)
        return True
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return True


def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Generate LaneOS ABI headers (C) and modules (TypeScript) from os/abi/*.toml")
    ap.add_argument("--abi-dir", default=here, help="directory holding the *.toml files (default: next to this script)")
    ap.add_argument("--c-out", help="write DIR/lanes/abi.h and DIR/lanes/abi/*.h")
    ap.add_argument("--ts-out", help="write DIR/*.ts")
    ap.add_argument("--ts-copy", action="append", default=[], metavar="STEM=FILE",
                    help="also write STEM.toml's TypeScript module to FILE (a checked-in copy); repeatable")
    ap.add_argument("--json-out", metavar="FILE", help="write every TOML's facts as JSON (the Python tools read it)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if any output is out of date")
    args = ap.parse_args(argv)
    if not args.c_out and not args.ts_out and not args.ts_copy and not args.json_out:
        ap.error("nothing to do: give --c-out DIR, --ts-out DIR, --ts-copy STEM=FILE and/or --json-out FILE")
    copies: list[tuple[str, str]] = []
    for c in args.ts_copy:
        stem, sep, file = c.partition("=")
        if not sep or not stem or not file:
            ap.error(f"--ts-copy wants STEM=FILE (e.g. layouts=debugger/common/trace/layouts.gen.ts), got {c!r}")
        copies.append((stem, file))

    # trace.toml (the trace event schema) has its own generator, os/abi/gentrace.py, called below.
    # messages.toml (IPC message types) likewise has os/abi/genmsg.py.
    tomls = sorted(f for f in os.listdir(args.abi_dir) if f.endswith(".toml") and f not in ("trace.toml", "messages.toml"))
    if not tomls:
        print(f"gen.py: no *.toml files in {args.abi_dir}", file=sys.stderr)
        return 1
    try:
        abis = [load(os.path.join(args.abi_dir, f)) for f in tomls]
        # Names must be unique across files too, since all C headers share one namespace.
        seen: dict[str, str] = {}
        for a in abis:
            for kind, items in (("const", a.consts), ("error", a.errors), ("syscall", a.syscalls),
                                ("struct", a.structs), ("enum", a.enums), ("right", a.rights),
                                ("objtype", a.objtypes)):
                for it in items:
                    key = f"{kind}:{it.name.upper()}"
                    if key in seen and seen[key] != a.stem:
                        raise AbiError(f"{kind} {it.name} defined in both {seen[key]}.toml and {a.stem}.toml")
                    seen[key] = a.stem
            for s in a.syscalls:
                key = f"sysnum:{s.num}"
                if key in seen and seen[key] != a.stem:
                    raise AbiError(f"syscall number {s.num} used in both {seen[key]}.toml and {a.stem}.toml")
                seen[key] = a.stem
    except AbiError as e:
        print(f"gen.py: error: {e}", file=sys.stderr)
        return 1

    stale = False
    by_stem = {a.stem: a for a in abis}
    for stem, file in copies:
        if stem not in by_stem:
            print(f"gen.py: error: --ts-copy {stem}={file}: no {stem}.toml in {args.abi_dir} "
                  f"(known: {', '.join(sorted(by_stem))})", file=sys.stderr)
            return 1
        text = gen_ts(by_stem[stem])
        nl = text.index("\n") + 1      # after the "Generated by" line: how to regenerate a checked-in copy
        text = (text[:nl] + f"// Checked-in copy: python3 os/abi/gen.py --ts-copy {stem}=<this file> "
                "(tests run it with --check)\n" + text[nl:])
        stale |= write_if_changed(file, text, args.check)
    if args.json_out:
        import gentrace  # os/abi/gentrace.py: the event ids for the JSON
        tp = os.path.join(args.abi_dir, "trace.toml")
        try:
            trace = gentrace.load(tp) if os.path.exists(tp) else None
        except gentrace.TraceError as e:
            print(f"gen.py: error: {e}", file=sys.stderr)
            return 1
        stale |= write_if_changed(args.json_out, gen_json(abis, trace), args.check)
    if not args.c_out and not args.ts_out:
        return 1 if (args.check and stale) else 0
    if args.c_out:
        base = os.path.join(args.c_out, "lanes")
        for a in abis:
            stale |= write_if_changed(os.path.join(base, "abi", f"{a.stem}.h"), gen_c_header(a), args.check)
        stale |= write_if_changed(os.path.join(base, "abi", "syscalls_user.h"), gen_c_user(abis), args.check)
        stale |= write_if_changed(os.path.join(base, "abi.h"), gen_c_all(abis), args.check)
    if args.ts_out:
        for a in abis:
            stale |= write_if_changed(os.path.join(args.ts_out, f"{a.stem}.ts"), gen_ts(a), args.check)
        stale |= write_if_changed(os.path.join(args.ts_out, "index.ts"), gen_ts_index(abis), args.check)
    try:
        import gentrace  # os/abi/gentrace.py, next to this script
        stale |= gentrace.run(args.abi_dir, args.c_out, args.ts_out, args.check)
    except gentrace.TraceError as e:
        print(f"gen.py: error: {e}", file=sys.stderr)
        return 1
    if os.path.exists(os.path.join(args.abi_dir, "messages.toml")):
        import genmsg  # os/abi/genmsg.py: IPC message encoders/decoders (C and TypeScript)
        try:
            stale |= genmsg.run(args.abi_dir, args.c_out, args.ts_out, args.check, write_if_changed)
        except genmsg.MsgError as e:
            print(f"gen.py: error: {e}", file=sys.stderr)
            return 1
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
