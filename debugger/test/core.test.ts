/*
 * Core files (debugger/common/core.ts): a real Linux core made here by real gdb (`gcore` of a
 * program stopped at its SIGSEGV) is read back — its thread, registers, process and memory
 * segments — and truncated or corrupt copies of it are refused with an error naming what is
 * wrong. LaneOS's own cores are the same format; os/tools/core-test opens them in gdb.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreError, parseCore, parseCrashLine } from '../common/core.js';

const SRC = `int main(void) {
  volatile int *p = 0;
  *p = 42;
  return 0;
}
`;

function haveGdb(): boolean {
  try {
    execFileSync('gdb', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('ELF core files', { skip: !haveGdb() && 'no gdb' }, () => {
  let dir = '';
  let core: Uint8Array;
  let faultRip = 0n;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-'));
    fs.writeFileSync(path.join(dir, 'crash.c'), SRC);
    execFileSync('gcc', ['-g', '-O0', '-o', path.join(dir, 'crash'), path.join(dir, 'crash.c')]);
    const out = execFileSync('gdb', ['-q', '-batch', '-nx', path.join(dir, 'crash'), '-ex', 'run', '-ex', 'p/x $pc',
      '-ex', `gcore ${path.join(dir, 'crash.core')}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /\$1 = 0x([0-9a-f]+)/.exec(out);
    assert.ok(m, `gdb printed no pc: ${out}`);
    faultRip = BigInt(`0x${m[1]}`);
    core = new Uint8Array(fs.readFileSync(path.join(dir, 'crash.core')));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the thread, its registers, the process and the memory segments', () => {
    const c = parseCore(core);
    assert.equal(c.threads.length, 1);
    const t = c.threads[0]!;
    assert.equal(t.regs['rip'], faultRip, 'rip is where gdb stopped');
    const sp = t.regs['rsp']!;
    assert.ok(sp > 0n);
    assert.equal(c.process?.name, 'crash');
    assert.ok(c.loads.length > 3 && c.loads.some((l) => l.filesz > 0));
    assert.ok(c.loads.some((l) => l.vaddr <= sp && sp < l.vaddr + BigInt(l.memsz) && l.filesz > 0), 'the stack is in the file');
  });

  it('refuses a truncated core, naming the segment that is cut off', () => {
    const half = core.subarray(0, core.length >> 1);
    assert.throws(() => parseCore(half), (e: unknown) => e instanceof CoreError && /PT_LOAD #\d+ \(0x[0-9a-f]+ bytes of memory at 0x[0-9a-f]+, file offset 0x[0-9a-f]+\) runs past the end of the file \(0x[0-9a-f]+ bytes\): the core is truncated/.test(e.message));
    assert.throws(() => parseCore(core.subarray(0, 100)), /program header table .* truncated/);
    assert.throws(() => parseCore(core.subarray(0, 10)), /10 bytes, shorter than an ELF header/);
  });

  it('refuses corrupt cores with what is wrong', () => {
    const bad = (f: (b: Uint8Array) => void) => {
      const b = new Uint8Array(core);
      f(b);
      return b;
    };
    assert.throws(() => parseCore(bad((b) => { b[0] = 0; })), /bad ELF magic 00 45 4c 46: not an ELF file/);
    assert.throws(() => parseCore(bad((b) => { b[16] = 2; })), /ELF type 2 is not ET_CORE \(4\): this is an executable/);
    assert.throws(() => parseCore(bad((b) => { b[4] = 1; })), /ELF class 1 is not ELFCLASS64/);
    const exe = new Uint8Array(fs.readFileSync(path.join(dir, 'crash')));
    assert.throws(() => parseCore(exe), /is not ET_CORE/);
    // the first note's size made larger than its segment
    const c = bad(() => undefined);
    const dv = new DataView(c.buffer);
    const phoff = Number(dv.getBigUint64(32, true));
    let noteOff = -1;
    for (let i = 0; i < dv.getUint16(56, true); i++) if (dv.getUint32(phoff + 56 * i, true) === 4) noteOff = Number(dv.getBigUint64(phoff + 56 * i + 8, true));
    dv.setUint32(noteOff + 4, 0x100000, true);
    assert.throws(() => parseCore(c), /note #0 \(type 0x[0-9a-f]+, 1048576 bytes\) runs past the end of its PT_NOTE segment/);
  });
});

describe('the POSIX server\'s crash line', () => {
  it('parses a core-dumped line and a no-core line', () => {
    const a = parseCrashLine('posix: pid 12 killed by SIGSEGV (11) at address 0x0, rip 0x400266: core dumped to /var/core/core.crashme.12');
    assert.deepEqual(a, { pid: 12, signalName: 'SIGSEGV', signal: 11, addr: 0n, rip: 0x400266n, corePath: '/var/core/core.crashme.12' });
    const b = parseCrashLine('posix: pid 8 killed by SIGFPE (8) at address 0x0, rip 0x401d5f: no core file at /proc/x/8: EACCES');
    assert.equal(b?.corePath, null);
    assert.equal(b?.noCoreReason, 'EACCES');
    assert.equal(parseCrashLine('sh: crashme faulted: page fault'), null);
  });
});
