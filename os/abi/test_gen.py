#!/usr/bin/env python3
"""Tests for os/abi/gen.py (python3 stdlib; run by `make -C os test-host`).

1. The generator rejects bad input with a message naming the problem (implicit padding,
   duplicate syscall numbers, unknown types, too many arguments).
2. End to end, for every struct in kernel.toml: a C program compiled against the generated
   header fills each field with a distinct value and writes the bytes; the generated TypeScript
   decoder (run with node + tsx) decodes them; every field must come back with the value C wrote.
   The generated TypeScript must also type-check under the repository's strict tsconfig.
Prints "gen.py tests: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import gen  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {what}")


def gen_error(toml_text):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "x.toml"), "w") as f:
            f.write(toml_text)
        try:
            gen.load(os.path.join(d, "x.toml"))
        except gen.AbiError as e:
            return str(e)
    return None


def test_rejects():
    e = gen_error('[[struct]]\nname = "s"\nfields = [["u32", "a"], ["u64", "b"]]\n')
    check(e and "padding" in e and "'b'" in e, f"implicit padding rejected with the field named: {e}")
    e = gen_error('[[struct]]\nname = "s"\nfields = [["u64", "a"], ["u32", "b"]]\n')
    check(e and "multiple of its alignment" in e, f"tail padding rejected: {e}")
    e = gen_error('[[syscall]]\nnum = 1\nname = "a"\n[[syscall]]\nnum = 1\nname = "b"\n')
    check(e and "duplicate syscall number" in e, f"duplicate syscall number rejected: {e}")
    e = gen_error('[[struct]]\nname = "s"\nfields = [["float", "a"]]\n')
    check(e and "unknown type 'float'" in e, f"unknown type rejected: {e}")
    args = ", ".join(f'["u64", "a{i}"]' for i in range(7))
    e = gen_error(f'[[syscall]]\nnum = 1\nname = "a"\nargs = [{args}]\n')
    check(e and "at most 6" in e, f"7 arguments rejected: {e}")
    e = gen_error('[[error]]\nname = "X"\nvalue = 3\n')
    check(e and "negative" in e, f"non-negative error rejected: {e}")
    e = gen_error('[[bogus]]\nname = "X"\n')
    check(e and "unknown table 'bogus'" in e, f"unknown table rejected: {e}")


def field_value(si, fi, f):
    """A distinct, type-appropriate value for struct si, field fi."""
    t = f.type
    if t.base == "char":
        return f"s{si}f{fi}"[: t.count - 1]
    size = gen.SCALARS[t.base][0]
    v = (si * 131 + fi * 17 + 5) & 0xFF
    if size == 8:
        v = 0x0102030405060708 * (v + 1) & 0x7FFFFFFFFFFFFFFF
    elif size == 4:
        v = 0x01020304 * (v + 1) & 0x7FFFFFFF
    elif size == 2:
        v = 0x0102 * (v + 1) & 0x7FFF
    if t.count is not None:
        return [v + k for k in range(t.count)]
    return v


def test_end_to_end():
    cc = shutil.which("gcc")
    node = shutil.which("node")
    tsx = os.path.join(REPO, "node_modules", "tsx", "dist", "loader.mjs")
    tsc = os.path.join(REPO, "node_modules", ".bin", "tsc")
    abi = gen.load(os.path.join(HERE, "kernel.toml"))
    with tempfile.TemporaryDirectory() as d:
        inc, ts = os.path.join(d, "inc"), os.path.join(d, "ts")
        r = subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "--c-out", inc, "--ts-out", ts],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"gen.py runs: {r.stderr}")
        # C: fill every struct, write the bytes back to back.
        lines = ["#include <stdio.h>", "#include <string.h>", "#include <lanes/abi.h>",
                 "#include <lanes/abi/syscalls_user.h>", "int main(void) {"]
        expected = {}
        for si, st in enumerate(abi.structs):
            lines.append(f"  {{ struct lane_{st.name} v; memset(&v, 0, sizeof v);")
            exp = {}
            for fi, f in enumerate(st.fields):
                val = field_value(si, fi, f)
                exp[f.name] = val
                if f.type.base == "char":
                    lines.append(f'    strcpy(v.{f.name}, "{val}");')
                elif isinstance(val, list):
                    for k, x in enumerate(val):
                        lines.append(f"    v.{f.name}[{k}] = {x}ULL;")
                else:
                    lines.append(f"    v.{f.name} = {val}ULL;")
            lines.append("    fwrite(&v, sizeof v, 1, stdout); }")
            expected[st.name] = exp
        lines.append("  return 0; }")
        with open(os.path.join(d, "fill.c"), "w") as f:
            f.write("\n".join(lines) + "\n")
        if not cc:
            check(False, "gcc not found")
            return
        r = subprocess.run([cc, "-std=gnu17", "-Wall", "-Wextra", "-Werror", "-I", inc, "-o",
                            os.path.join(d, "fill"), os.path.join(d, "fill.c")], capture_output=True, text=True)
        check(r.returncode == 0, f"generated header compiles with -Wall -Wextra -Werror: {r.stderr[:2000]}")
        if r.returncode:
            return
        with open(os.path.join(d, "blob.bin"), "wb") as f:
            subprocess.run([os.path.join(d, "fill")], stdout=f, check=True)
        if not node or not os.path.exists(tsx):
            print("note: node or tsx missing; TypeScript half skipped")
            return
        # TypeScript: decode each struct at its offset.
        decs = []
        off = 0
        for st in abi.structs:
            decs.append(f'  out["{st.name}"] = k.decode{gen.camel(st.name)}(view, {off});')
            off += st.size
        script = ("import * as fs from 'node:fs';\nimport * as k from './ts/kernel.js';\n"
                  "const buf = fs.readFileSync(process.argv[2]!);\n"
                  "const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);\n"
                  "const out: Record<string, unknown> = {};\n" + "\n".join(decs) + "\n"
                  "let threw = false;\ntry { k.decodeStartup(view, buf.byteLength - 8); } catch { threw = true; }\n"
                  "out['__short_view_throws'] = threw;\n"
                  "console.log(JSON.stringify(out, (_k, v) => typeof v === 'bigint' ? v.toString() : v));\n")
        with open(os.path.join(d, "decode.ts"), "w") as f:
            f.write(script)
        r = subprocess.run([node, "--import", "tsx", os.path.join(d, "decode.ts"), os.path.join(d, "blob.bin")],
                           capture_output=True, text=True, cwd=REPO)
        check(r.returncode == 0, f"TypeScript decoder runs: {r.stderr[:2000]}")
        if r.returncode:
            return
        got = json.loads(r.stdout)
        check(got.get("__short_view_throws") is True, "decoding past the end of the view throws RangeError")
        for name, exp in expected.items():
            for fname, val in exp.items():
                g = got.get(name, {}).get(fname)
                if isinstance(val, list):
                    g = [int(x) for x in g] if isinstance(g, list) else g
                elif not isinstance(val, str) and g is not None:
                    g = int(g)
                check(g == val, f"lane_{name}.{fname}: C wrote {val!r}, TypeScript decoded {g!r}")
        # Strict type-check of the generated modules.
        if os.path.exists(tsc):
            cfg = {"extends": os.path.join(REPO, "tsconfig.base.json"),
                   "compilerOptions": {"noEmit": True, "typeRoots": [os.path.join(REPO, "node_modules", "@types")]},
                   "include": [os.path.join(ts, "*.ts")]}
            with open(os.path.join(d, "tsconfig.json"), "w") as f:
                json.dump(cfg, f)
            r = subprocess.run([tsc, "-p", os.path.join(d, "tsconfig.json")], capture_output=True, text=True)
            check(r.returncode == 0, f"generated TypeScript passes strict tsc: {r.stdout[:2000]}")


if __name__ == "__main__":
    test_rejects()
    test_end_to_end()
    print(f"gen.py tests: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
