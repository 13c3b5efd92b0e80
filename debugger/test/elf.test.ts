/*
 * ELF/DWARF tests against a real binary compiled here with the host gcc (-g),
 * checked against binutils (nm, addr2line); broken files must give clear errors.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ElfError, parseElf, PT_LOAD, STT_FUNC, Symbolizer } from '../common/elf.js';

const SRC = `#include <stdio.h>
struct point { int x, y; };
static int helper(struct point *p) {
  int s = p->x + p->y;
  return s * 2;
}
int main(void) {
  struct point p = { 1, 2 };
  int r = helper(&p);
  printf("%d\\n", r);
  return 0;
}
`;

describe('ELF64 parser and symbolizer', () => {
  let dir = '';
  let exe = '';
  let bytes: Uint8Array;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-elf-'));
    fs.writeFileSync(path.join(dir, 'a.c'), SRC);
    exe = path.join(dir, 'a');
    execFileSync('gcc', ['-g', '-O0', '-o', exe, path.join(dir, 'a.c')]);
    bytes = new Uint8Array(fs.readFileSync(exe));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads headers, sections, segments and symbols like readelf/nm', () => {
    const elf = parseElf(bytes);
    assert.equal(elf.header.machine, 62); // EM_X86_64
    assert.ok(elf.section('.text') && elf.section('.symtab') && elf.section('.debug_line'));
    assert.ok(elf.segments.some((s) => s.type === PT_LOAD));
    const nm = execFileSync('nm', [exe]).toString();
    for (const name of ['main', 'helper']) {
      const m = new RegExp(`^([0-9a-f]+) [tT] ${name}$`, 'm').exec(nm)!;
      const sym = elf.symbols.find((s) => s.name === name)!;
      assert.equal(sym.type, STT_FUNC);
      assert.equal(sym.value, BigInt('0x' + m[1]));
    }
  });

  it('symbolizes addresses to function+offset and source lines (matches addr2line)', () => {
    const elf = parseElf(bytes);
    const sym = new Symbolizer(elf);
    const helper = sym.lookup('helper')!;
    assert.deepEqual({ ...sym.symbolize(helper + 5n), symbol: undefined }, { name: 'helper', offset: 5, symbol: undefined });
    const main = sym.lookup('main')!;
    for (const a of [main, main + 8n, helper, helper + 4n]) {
      const want = execFileSync('addr2line', ['-e', exe, '0x' + a.toString(16)]).toString().trim();
      const got = sym.lineFor(a);
      assert.ok(got, `no line for 0x${a.toString(16)}`);
      assert.equal(`${got.file}:${got.line}`, want.replace(/ \(discriminator \d+\)/, ''));
    }
    assert.equal(sym.lineFor(0n), undefined);
    // With a load bias (a PIE or a user program mapped elsewhere).
    const biased = new Symbolizer(elf, 0x555555554000n);
    assert.equal(biased.symbolize(0x555555554000n + helper + 1n)?.name, 'helper');
  });

  it('names what is wrong with a broken ELF', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(10), /too small/],
      [Uint8Array.from([...Buffer.from('\x7fELG'), ...new Uint8Array(60)]), /bad ELF magic/],
      [(() => { const b = bytes.slice(); b[4] = 1; return b; })(), /ELF32/],
      [(() => { const b = bytes.slice(); b[5] = 2; return b; })(), /little-endian/],
      [bytes.slice(0, 4096), /runs past the end of the file/],
      [(() => { const b = bytes.slice(); new DataView(b.buffer).setUint16(62, 999, true); return b; })(), /e_shstrndx 999/],
    ];
    for (const [b, re] of cases) {
      assert.throws(() => parseElf(b), (e: unknown) => e instanceof ElfError && re.test((e as Error).message));
    }
  });
});
