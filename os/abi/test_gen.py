#!/usr/bin/env python3
"""Tests for os/abi/gen.py (python3 stdlib; run by `make -C os test-host`).

1. The generator rejects bad input with a message naming the problem (implicit padding,
   duplicate syscall numbers, unknown types, too many arguments).
2. End to end, for every struct in kernel.toml: a C program compiled against the generated
   header fills each field with a distinct value and writes the bytes; the generated TypeScript
   decoder (run with node + tsx) decodes them; every field must come back with the value C wrote.
   The generated TypeScript must also type-check under the repository's strict tsconfig.
3. The guest memory layouts (layouts.toml): a struct may name another struct (nested, arrays of
   them), carry the kernel's own tag, volatile fields and a pointer type; C compiled against
   <lanes/abi/layouts.h> fills trace_ring and trace_shm (64 nested rings), the TypeScript decoders
   read every field back; the header stays out of <lanes/abi.h>; --json-out carries the same
   offsets; --ts-copy writes a checked-in copy that --check then finds current (and stale after a
   change). Bad layout options are rejected with the field named.
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
    e = gen_error('[[struct]]\nname = "s"\nfields = [["u32", "a", { c = "uint8_t *" }]]\n')
    check(e and "8-byte scalar" in e and "[0]" in e, f"a C type override on a 4-byte field rejected: {e}")
    e = gen_error('[[struct]]\nname = "s"\nfields = [["u64", "a", { atomic = true }]]\n')
    check(e and "field options" in e, f"an unknown field option rejected: {e}")
    e = gen_error('[[struct]]\nname = "s"\nfields = [["t[2]", "a"]]\n[[struct]]\nname = "t"\nfields = [["u64", "x"]]\n')
    check(e and "unknown element type 't'" in e, f"a struct used before it is defined rejected: {e}")


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


def test_layouts():
    cc = shutil.which("gcc")
    node = shutil.which("node")
    tsx = os.path.join(REPO, "node_modules", "tsx", "dist", "loader.mjs")
    lay = gen.load(os.path.join(HERE, "layouts.toml"))
    by = {st.name: st for st in lay.structs}
    check(lay.kernel_only, "layouts.toml is kernel_only")
    ring, shm = by["trace_ring"], by["trace_shm"]
    check(ring.c_tag == "trace_ring" and ring.symbol == "trace_rings", "trace_ring keeps the kernel's tag and symbol")
    sub = [f for f in shm.fields if f.name == "ring"][0]
    check(sub.type.struct is by["trace_shm_ring"] and sub.type.count == 64 and sub.offset == 128
          and shm.size == 128 + 64 * 32, f"trace_shm.ring: 64 nested trace_shm_ring at 128 (size {shm.size})")
    with tempfile.TemporaryDirectory() as d:
        inc, ts, js = os.path.join(d, "inc"), os.path.join(d, "ts"), os.path.join(d, "abi.json")
        r = subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "--c-out", inc, "--ts-out", ts, "--json-out", js],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"gen.py --json-out runs: {r.stderr}")
        with open(os.path.join(inc, "lanes", "abi.h")) as f:
            check("layouts.h" not in f.read(), "<lanes/abi.h> does not include the kernel-only layouts.h")
        with open(js) as f:
            j = json.load(f)
        jf = {x["name"]: x for x in j["abis"]["layouts"]["structs"]["trace_shm"]["fields"]}
        check(jf["ring"]["offset"] == 128 and jf["ring"]["struct"] == "trace_shm_ring" and jf["ring"]["count"] == 64,
              f"abi.json: trace_shm.ring {jf.get('ring')}")
        check(j["trace"]["events"].get("lost") == 3 and j["abis"]["kernel"]["syscalls"][0]["name"] == "null",
              "abi.json: trace event ids and syscalls")
        # --ts-copy writes a copy; --check finds it current, then stale after an edit
        copy = os.path.join(d, "copy.gen.ts")
        base = [sys.executable, os.path.join(HERE, "gen.py"), "--ts-copy", f"layouts={copy}"]
        r1 = subprocess.run(base, capture_output=True, text=True)
        r2 = subprocess.run(base + ["--check"], capture_output=True, text=True)
        with open(copy, "a") as f:
            f.write("// edited\n")
        r3 = subprocess.run(base + ["--check"], capture_output=True, text=True)
        check(r1.returncode == 0 and r2.returncode == 0 and r3.returncode == 1 and "out of date" in r3.stderr,
              f"--ts-copy and --check: {r1.returncode} {r2.returncode} {r3.returncode} {r3.stderr}")
        r4 = subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "--ts-copy", "nosuch=x.ts"], capture_output=True, text=True)
        check(r4.returncode == 1 and "no nosuch.toml" in r4.stderr, f"--ts-copy of an unknown TOML: {r4.stderr}")
        if not cc:
            check(False, "gcc not found")
            return
        prog = r"""#include <stdio.h>
#include <string.h>
#include <lanes/abi/layouts.h>
int main(void) {
  struct trace_ring r; struct trace_shm h; unsigned i;
  memset(&r, 0, sizeof r); memset(&h, 0, sizeof h);
  r.head = 1; r.tail = 2; r.keep = 3; r.next_id = (1ULL << 48) | 4; r.dropped = 5; r.first_drop_seq = 6;
  r.dropped_total = 7; r.pend_head = 8; r.data = (uint8_t *)0xffff800000123000ULL; r.size = 1u << 20; r.cpu = 1;
  h.magic = LANES_TRACE_SHM_MAGIC; h.version = LANES_TRACE_SHM_VERSION; h.boot_id = 9; h.nrings = 64;
  h.ring_size = 1u << 20; h.ring_off = LANES_TRACE_SHM_RING_OFF; h.preamble_off = LANES_TRACE_SHM_PREAMBLE_OFF;
  h.preamble_len = 10; h.state = 1; h.tsc_hz = 11; h.heartbeat = 12; h.bar_size = 13; h.reserved[6] = 14;
  for (i = 0; i < LANES_TRACE_MAX_CPUS; i++) { h.ring[i].head = 100 + i; h.ring[i].tail = 200 + i; h.ring[i].dropped_total = 300 + i; h.ring[i].dropped = 400 + i; }
  fwrite(&r, sizeof r, 1, stdout); fwrite(&h, sizeof h, 1, stdout);
  return 0; }
"""
        with open(os.path.join(d, "lay.c"), "w") as f:
            f.write(prog)
        r = subprocess.run([cc, "-std=gnu17", "-Wall", "-Wextra", "-Werror", "-I", inc, "-o", os.path.join(d, "lay"),
                            os.path.join(d, "lay.c")], capture_output=True, text=True)
        check(r.returncode == 0, f"layouts.h compiles with -Wall -Wextra -Werror: {r.stderr[:2000]}")
        if r.returncode:
            return
        with open(os.path.join(d, "lay.bin"), "wb") as f:
            subprocess.run([os.path.join(d, "lay")], stdout=f, check=True)
        if not node or not os.path.exists(tsx):
            print("note: node or tsx missing; TypeScript half of the layouts skipped")
            return
        script = ("import * as fs from 'node:fs';\nimport * as l from './ts/layouts.js';\n"
                  "const buf = fs.readFileSync(process.argv[2]!);\n"
                  "const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);\n"
                  "const r = l.decodeTraceRing(view, 0);\nconst h = l.decodeTraceShm(view, l.TraceRingLayout.size);\n"
                  "console.log(JSON.stringify({ r, h, off: l.TraceRingOffsets.next_id, sym: l.TraceRingLayout.symbol },"
                  " (_k, v) => typeof v === 'bigint' ? v.toString() : v));\n")
        with open(os.path.join(d, "lay.ts"), "w") as f:
            f.write(script)
        r = subprocess.run([node, "--import", "tsx", os.path.join(d, "lay.ts"), os.path.join(d, "lay.bin")],
                           capture_output=True, text=True, cwd=REPO)
        check(r.returncode == 0, f"TypeScript layout decoders run: {r.stderr[:2000]}")
        if r.returncode:
            return
        got = json.loads(r.stdout)
        gr, gh = got["r"], got["h"]
        check(int(gr["next_id"]) == (1 << 48) | 4 and int(gr["data"]) == 0xffff800000123000 and gr["size"] == 1 << 20
              and gr["cpu"] == 1 and int(gr["pend_head"]) == 8, f"trace_ring decoded: {gr}")
        check(gh["magic"] == 0x4853544C and gh["nrings"] == 64 and int(gh["ring_off"]) == 0x10000
              and int(gh["reserved"][6]) == 14 and gh["state"] == 1, f"trace_shm decoded: { {k: v for k, v in gh.items() if k != 'ring'} }")
        rings = gh["ring"]
        check(len(rings) == 64 and all(int(x["head"]) == 100 + i and int(x["tail"]) == 200 + i and int(x["dropped"]) == 400 + i
                                       for i, x in enumerate(rings)), "trace_shm.ring[0..63] decoded")
        check(got["off"] == 24 and got["sym"] == "trace_rings", "TraceRingOffsets and the symbol")


if __name__ == "__main__":
    test_rejects()
    test_end_to_end()
    test_layouts()
    print(f"gen.py tests: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
