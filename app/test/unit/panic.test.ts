/*
 * The Panic view's backend half (app/node/panic.ts): the kernel's panic text in a Run's console —
 * cut anywhere — becomes the message, CPU, registers and a backtrace symbolized through the real
 * kernel ELF to function and source line (frame 0: panic's caller; for a trap, the trapping
 * instruction); a new Run forgets it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PanicBackend } from '../../node/panic.js';
import type { PanicView } from '../../common/panic.js';
import { parseElf } from '../../../debugger/common/elf.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const root = path.join(repo, 'os');
const kernelElf = path.join(root, 'build/kernel/lanes.elf');

function addrOf(name: string, off: number): string {
  const elf = parseElf(new Uint8Array(fs.readFileSync(kernelElf)));
  const s = elf.symbols.find((x) => x.name === name);
  if (!s) throw new Error(`no symbol ${name}`);
  return (s.value + BigInt(off)).toString(16).padStart(16, '0');
}

test('a panic in the console becomes a symbolized backtrace', { skip: fs.existsSync(kernelElf) ? false : 'os/build/kernel/lanes.elf not built (make -C os)' }, () => {
  const seen: (PanicView | null)[] = [];
  const b = new PanicBackend(() => ({ kernelElf, root }), (p) => seen.push(p && { ...p, frames: [...p.frames] }));
  const text = [
    '[    2.5] cpu1: INFO: something before',
    'KERNEL PANIC: deliberate panic from ktest (cpu1)',
    'Backtrace:',
    `  [<${addrOf('ktest_run', 0x3f)}>] ktest_run+0x3f`,
    `  [<${addrOf('sys_ktest', 0x98)}>] sys_ktest+0x98`,
    '  [<0000000000400176>] (user)',
    'System halted.',
    '',
  ].join('\r\n');
  b.feed(1, text.slice(0, 70));
  b.feed(1, text.slice(70));
  const p = b.get()!;
  assert.ok(p, 'a panic');
  assert.equal(p.message, 'deliberate panic from ktest');
  assert.equal(p.cpu, 1);
  assert.equal(p.complete, true);
  assert.equal(p.frames.length, 3);
  assert.equal(p.frames[0]!.function, 'ktest_run', 'frame 0: panic\'s caller');
  assert.equal(p.frames[0]!.file, 'kernel/generic/ktest.c');
  const src = fs.readFileSync(path.join(root, p.frames[0]!.file!), 'utf8').split('\n');
  assert.ok(p.frames[0]!.line! > 0 && p.frames[0]!.line! <= src.length);
  assert.equal(p.frames[1]!.function, 'sys_ktest');
  assert.equal(p.frames[2]!.function, undefined, 'a user address has no kernel source');
  assert.ok(seen.at(-1)?.complete, 'published whole');
  // a new Run forgets it
  b.feed(2, 'LaneOS booting\n');
  assert.equal(b.get(), null);
  assert.equal(seen.at(-1), null);
});

test('a trap\'s panic: registers, and frame 0 is the trapping instruction itself', { skip: fs.existsSync(kernelElf) ? false : 'os/build/kernel/lanes.elf not built' }, () => {
  const b = new PanicBackend(() => ({ kernelElf, root }), () => undefined);
  const rip = addrOf('sys_ktest', 0);
  b.feed(1, [
    'KERNEL PANIC: page fault in kernel mode (cpu0)',
    'vector 14 (page fault) error 0x1',
    `RIP 0008:${rip} RFLAGS 0000000000000202`,
    'RSP 0010:ffff80000125edc0 CR2 0000100000013000',
    'Backtrace:',
    `  [<${rip}>] sys_ktest+0x0`,
    'System halted.',
    '',
  ].join('\n'));
  const p = b.get()!;
  assert.deepEqual(p.registers.slice(0, 2), ['vector 14 (page fault) error 0x1', `RIP 0008:${rip} RFLAGS 0000000000000202`]);
  assert.equal(p.frames[0]!.function, 'sys_ktest', 'looked up at rip, not rip - 1 (which is the function before)');
});
