/*
 * kernel-layout.test.ts — what the host reads from the guest exists in the kernel it reads it from.
 *
 * The host reads kernel memory two ways: by layout (the ivshmem header, the flight recorder's
 * trace_rings[]: os/abi/layouts.toml, generated for C, TypeScript and JSON) and by name through
 * gdb (debug.traceRecord's trace_rings[N].FIELD, the CPUs view's cpus[N]->current->...). Both
 * break silently when the kernel changes: a renamed field makes gdb answer "There is no member
 * named ..." at run time, in a path no other test may take. This test asks gdb about the built
 * kernel ELF's DWARF (no target needed: `ptype/o` and `whatis` only read types):
 *   - every struct of layouts.toml has, in DWARF, exactly the generated fields at the generated
 *     offsets and size (the kernel compiles the generated struct; this proves the ELF is current);
 *   - every expression the debugger evaluates by name type-checks against the ELF
 *     (LANEOS_CPU_EXPRESSIONS, trace_rings[0].<every generated field>);
 *   - every symbol the flight recorder reads is in the ELF's symbol table;
 *   - the checked-in layouts.gen.ts and ipc-abi.gen.ts match the TOML (gen.py --check).
 * Kernel: os/build/kernel/lanes.elf (make -C os), or LANES_KERNEL_ELF.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseElf } from '../common/elf.js';
import { STRUCTS, TraceRingLayout, TraceRingOffsets } from '../common/trace/layouts.gen.js';
import { LANEOS_CPU_EXPRESSIONS } from '../node/cpus.js';
import { FLIGHT_SYMBOLS } from '../node/trace/flight.js';

const ROOT = resolve(process.env['LANESCOPE_ROOT'] ?? '.');
const ELF = process.env['LANES_KERNEL_ELF'] ?? join(ROOT, 'os/build/kernel/lanes.elf');

/** Runs gdb on the ELF with one command per item; returns what each printed on stdout (an error,
 * e.g. "There is no member named seq.", goes to stderr: that command's output is then empty). */
function gdbEach(cmds: string[]): string[] {
  const args = ['-nx', '-q', '-batch'];
  cmds.forEach((c, i) => args.push('-ex', `echo @@${i}\\n`, '-ex', c));
  args.push('-ex', `echo @@${cmds.length}\\n`, ELF);
  const r = spawnSync('gdb', args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, `gdb runs: ${String(r.error)}`);
  const out = r.stdout;
  const parts: string[] = [];
  for (let i = 0; i < cmds.length; i++) {
    const a = out.indexOf(`@@${i}\n`);
    const b = out.indexOf(`@@${i + 1}\n`);
    parts.push(a < 0 || b < 0 ? '' : out.slice(a + `@@${i}\n`.length, b));
  }
  return parts;
}

/** `ptype/o struct X` → { field: { offset, size } } and the total size. */
function parsePtypeO(text: string): { fields: Map<string, { offset: number; size: number }>; size: number } {
  const fields = new Map<string, { offset: number; size: number }>();
  for (const line of text.split('\n')) {
    const m = /^\/\*\s+(\d+)\s+\|\s+(\d+)\s+\*\/\s+.*?\b([A-Za-z_][A-Za-z0-9_]*)(?:\[\d+\])*;\s*$/.exec(line);
    if (m) fields.set(m[3]!, { offset: Number(m[1]), size: Number(m[2]) });
  }
  const total = /total size \(bytes\):\s+(\d+)/.exec(text);
  return { fields, size: total ? Number(total[1]) : -1 };
}

describe('kernel layouts and gdb names against the ELF', { skip: !existsSync(ELF) && `no kernel at ${ELF} (make -C os)` }, () => {
  it('every layouts.toml struct is in DWARF with the generated fields, offsets and size', () => {
    const abi = JSON.parse(execFileSync('python3', ['-c', 'import sys, json; sys.path.insert(0, "os/abi"); import gen; a = gen.load("os/abi/layouts.toml"); print(json.dumps({s.name: s.c_tag for s in a.structs}))'], { cwd: ROOT, encoding: 'utf8' })) as Record<string, string>;
    const outs = gdbEach(STRUCTS.map((s) => `ptype/o struct ${abi[s.name]!}`));
    STRUCTS.forEach((st, i) => {
      const got = parsePtypeO(outs[i]!);
      assert.ok(got.fields.size > 0, `struct ${abi[st.name]} is in the kernel's DWARF: ${outs[i]}`);
      assert.equal(got.size, st.size, `sizeof(struct ${abi[st.name]})`);
      assert.deepEqual([...got.fields.keys()], st.fields.map((f) => f.name), `struct ${abi[st.name]}: the fields, in order`);
      for (const f of st.fields) assert.deepEqual(got.fields.get(f.name), { offset: f.offset, size: f.size }, `struct ${abi[st.name]}.${f.name}`);
    });
  });

  it('every name the debugger asks gdb for exists in the ELF', () => {
    const exprs = [
      ...Object.values(LANEOS_CPU_EXPRESSIONS).map((e) => e.replace(/\$cpu/g, '0')),
      ...Object.keys(TraceRingOffsets).map((f) => `${TraceRingLayout.symbol!}[0].${f}`),
    ];
    const outs = gdbEach(exprs.map((e) => `whatis ${e}`));
    exprs.forEach((e, i) => assert.match(outs[i]!, /^type = /, `gdb knows ${e}: ${outs[i]}`));
    // and the check can fail: a field that is not there
    const [bad] = gdbEach([`whatis ${TraceRingLayout.symbol!}[0].seq`]);
    assert.doesNotMatch(bad!, /^type = /, 'trace_rings[0].seq (the old name) is not a field');
  });

  it('every symbol the flight recorder reads is in the symbol table', () => {
    const elf = parseElf(new Uint8Array(readFileSync(ELF)));
    for (const name of FLIGHT_SYMBOLS) assert.ok(elf.symbols.some((s) => s.name === name && s.shndx !== 0), `symbol ${name}`);
  });

  it('the checked-in generated modules match the TOML', () => {
    const r = spawnSync('python3', ['os/abi/gen.py', '--check', '--ts-copy', 'layouts=debugger/common/trace/layouts.gen.ts', '--ts-copy', 'ipc=visualizers/ipc/ipc-abi.gen.ts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `gen.py --check: ${r.stderr}`);
  });
});
