/*
 * The Crashes view's backend half (app/node/crashes.ts): the POSIX server's crash lines in the
 * Run's console — cut anywhere, mixed with other output and colour codes — become the list, each
 * crash resolved through the real crashme.elf to the function and the source line marked
 * CRASH-LINE; a new Run starts a new list.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CrashesBackend } from '../../node/crashes.js';
import type { CrashView } from '../../common/crashes.js';
import { parseElf, Symbolizer } from '../../../debugger/common/elf.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const root = path.join(repo, 'os');
const programsDir = path.join(root, 'build/programs');
const elf = path.join(programsDir, 'crashme.elf');
const src = path.join(root, 'programs/crashme/main.c');

/** The address of the first instruction of crashme's line marked CRASH-LINE way. */
function crashRip(way: string): bigint {
  const line = fs.readFileSync(src, 'utf8').split('\n').findIndex((l) => l.includes(`CRASH-LINE ${way}`)) + 1;
  const bytes = fs.readFileSync(elf);
  const sym = new Symbolizer(parseElf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
  for (let a = 0x400000n; a < 0x410000n; a++) {
    const hit = sym.lineFor(a);
    if (hit && hit.line === line && hit.file.endsWith('crashme/main.c')) return a;
  }
  throw new Error(`no code for line ${line}`);
}

test('crash lines become the Crashes list, resolved to the faulting source line', { skip: fs.existsSync(elf) ? false : 'os/build/programs/crashme.elf not built (make -C os)' }, () => {
  const published: CrashView[][] = [];
  const b = new CrashesBackend(() => ({ programsDir, root }), (l) => published.push([...l]));
  const rip = crashRip('null');
  const line = `posix: pid 12 (crashme) killed by SIGSEGV (11) at address 0x0, rip 0x${rip.toString(16)}: core dumped to /var/core/core.crashme.12\r\n`;
  // cut in the middle, after other output and with a colour code around it
  b.feed(1, 'crashme: null\r\n[    1.62] cpu1: WARN: pid 12 (crashme) tid 14: PAGE fault\r\n\x1b[0m' + line.slice(0, 30));
  assert.equal(published.length, 0, 'nothing before the line is whole');
  b.feed(1, line.slice(30) + 'sh: crashme faulted: page fault\r\n');
  assert.equal(published.length, 1);
  const c = published[0]![0]!;
  assert.equal(c.pid, 12);
  assert.equal(c.program, 'crashme');
  assert.equal(c.signalName, 'SIGSEGV');
  assert.equal(c.addr, '0x0');
  assert.equal(c.corePath, '/var/core/core.crashme.12');
  assert.equal(c.function, 'store_answer');
  assert.equal(c.file, 'programs/crashme/main.c');
  assert.match(fs.readFileSync(src, 'utf8').split('\n')[c.line! - 1]!, /CRASH-LINE null/);
  // a second crash, without a core
  const rip2 = crashRip('div');
  b.feed(1, `posix: pid 13 (crashme) killed by SIGFPE (8) at address 0x0, rip 0x${rip2.toString(16)}: no core file at /x/13: ENOSPC\n`);
  assert.deepEqual(b.list().map((x) => [x.seq, x.signalName, x.function, x.corePath, x.noCoreReason]),
    [[1, 'SIGSEGV', 'store_answer', '/var/core/core.crashme.12', undefined], [2, 'SIGFPE', 'divide', null, 'ENOSPC']]);
  // an unknown program still lists, without a source line
  b.feed(1, 'posix: pid 14 (nosuchprog) killed by SIGILL (4) at address 0x0, rip 0x401000: core dumped to /var/core/c\n');
  assert.equal(b.list()[2]!.file, undefined);
  assert.equal(b.list()[2]!.rip, '0x401000');
  // a new Run: a new list
  b.feed(2, 'LaneOS booting\n');
  assert.deepEqual(b.list(), []);
  assert.deepEqual(published.at(-1), []);
});
