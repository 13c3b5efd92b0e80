/*
 * A LaneOS core opened in the debugger (DebugController.openCore → DebugSession with `core`): the
 * real guest crashes (os/tools/ci-boot runs `crashme null; crashme threads 2` and brings /var/core
 * out with the guest's `upload`), real gdb opens crashme.elf with each core. The stop is the moment
 * of the crash: store_answer at the line marked CRASH-LINE null, local_answer = 42, registers and
 * memory readable, every thread of the three-thread process listed; Continue/Step are refused with
 * the read-only message; a truncated core is refused naming what is wrong, before gdb sees it.
 * Skipped with the reason when LaneOS is not built or gdb is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DebugStatus } from '../../common/debug.js';
import { DebugController, type RunnerLike } from '../../node/debug/controller.js';
import { CORE_READ_ONLY } from '../../node/debug/session.js';
import type { Project } from '../../node/project.js';

const ROOT = path.resolve(import.meta.dirname, '../../../os');
const BUILD = path.join(ROOT, 'build');
const ELF = path.join(BUILD, 'programs/crashme.elf');
const haveGdb = spawnSync('gdb', ['--version']).status === 0;
const skip = !fs.existsSync(path.join(BUILD, 'initrd.tar')) || !fs.existsSync(ELF) ? 'LaneOS is not built (make -C os)' : !haveGdb ? 'no gdb' : false;
const SRC = fs.existsSync(path.join(ROOT, 'programs/crashme/main.c')) ? fs.readFileSync(path.join(ROOT, 'programs/crashme/main.c'), 'utf8').split('\n') : [];
const NULL_LINE = SRC.findIndex((l) => l.includes('CRASH-LINE null')) + 1;

const runner: RunnerLike = { busy: false, checkCanStart: () => undefined, start: async () => undefined, stop: async () => undefined };
/** The project as the controller sees it: root os/, debug.elf build/kernel/lanes.elf. */
const project = { root: ROOT, config: { debug: { elf: 'build/kernel/lanes.elf' } }, resolve: (p: string) => path.resolve(ROOT, p) } as unknown as Project;

describe('a LaneOS core in the debugger (real guest, real gdb)', { skip, timeout: 600000 }, () => {
  let dir = '';
  let cores: string[] = [];
  const states: DebugStatus[] = [];
  const notices: string[] = [];
  let ctl: DebugController;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-session-'));
    const r = spawnSync('python3', [path.join(ROOT, 'tools/ci-boot'), '--build', BUILD, '--timeout', '400', '--upload', `/var/core:${dir}`, 'crashme null; crashme threads 2'], { encoding: 'utf8', timeout: 540000 });
    cores = fs.readdirSync(dir).filter((f) => /^core\.crashme\.\d+$/.test(f)).sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2])).map((f) => path.join(dir, f));
    assert.equal(cores.length, 2, `two cores from the guest (ci-boot: ${r.status} ${r.stderr.slice(-1500)})`);
    ctl = new DebugController((e, p) => {
      if (e === 'debug.state') states.push(p as DebugStatus);
      if (e === 'notice') notices.push((p as { message: string }).message);
    }, runner, () => project);
  });
  after(async () => {
    await ctl?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const complete = () => {
    const s = states.at(-1);
    return s?.phase === 'stopped' && s.stop && !s.stop.partial ? s : null;
  };
  const waitComplete = async (): Promise<DebugStatus> => {
    const end = Date.now() + 60000;
    while (!complete()) {
      if (Date.now() > end) throw new Error(`no complete stop: ${JSON.stringify(states.at(-1))?.slice(0, 600)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return complete()!;
  };

  it('opens at the faulting line with its locals, registers and memory; read-only', async () => {
    states.length = 0;
    await ctl.openCore(cores[0]!); // the ELF found from the core's process name: build/programs/crashme.elf
    const s = await waitComplete();
    assert.equal(s.core?.program, 'crashme');
    assert.match(s.core!.signal, /^SIGSEGV at address 0x0$/);
    const st = s.stop!;
    assert.match(st.description, /^core of crashme \(pid \d+\): SIGSEGV at address 0x0 in store_answer · read-only$/);
    assert.equal(st.frames[0]?.func, 'store_answer');
    assert.deepEqual(st.location, { file: 'programs/crashme/main.c', line: NULL_LINE });
    assert.ok(st.frames.some((f) => f.func === 'main'), `main is on the call stack: ${st.frames.map((f) => f.func).join(' < ')}`);
    const locals = new Map(st.locals.map((v) => [v.name, v.value]));
    assert.equal(locals.get('local_answer'), '42');
    const session = ctl.session!;
    const regs = new Map((await session.registers()).map((r) => [r.name, r.value]));
    assert.ok(regs.has('rip') && BigInt(regs.get('rip')!) >= 0x400000n, `rip in crashme: ${regs.get('rip')}`);
    const [cookie] = await session.evaluate(['cookie']);
    assert.equal(cookie?.value, String(0x1badc0de));
    const m = await session.memory('&local_answer', 4);
    assert.equal(m.hex, '2a000000', 'local_answer read from the core\'s memory');
    await assert.rejects(session.command('continue'), { message: CORE_READ_ONLY });
    await assert.rejects(session.command('next'), { message: CORE_READ_ONLY });
    await assert.rejects(ctl.handlers()['debug.command']({ action: 'step' }) as Promise<unknown>, /core file .* cannot continue, step or pause/);
    // another Run ending does not close the core (it has no target)
    ctl.targetEnded('the target stopped');
    assert.equal(ctl.session!.phase, 'stopped');
  });

  it('a multi-threaded process shows every thread', async () => {
    states.length = 0;
    await ctl.openCore(cores[1]!, ELF, { program: 'crashme', pid: Number(cores[1]!.split('.').at(-1)), signal: 'SIGSEGV at address 0x0' });
    const s = await waitComplete();
    assert.equal(s.stop!.frames[0]?.func, 'store_answer');
    assert.equal(s.stop!.cpus.length, 3, `three threads: ${JSON.stringify(s.stop!.cpus)}`);
    const other = s.stop!.cpus.find((c) => !c.selected)!;
    const st = await ctl.session!.selectThread(other.threadId);
    assert.ok(st.frames.length > 0, 'another thread has its own call stack');
  });

  it('a truncated or corrupt core is refused naming what is wrong', async () => {
    const bad = path.join(dir, 'core.truncated');
    const b = fs.readFileSync(cores[0]!);
    fs.writeFileSync(bad, b.subarray(0, b.length - 4096));
    await assert.rejects(ctl.openCore(bad, ELF), /core\.truncated: .*truncated/);
    fs.writeFileSync(bad, Buffer.from('not a core at all, just text'));
    await assert.rejects(ctl.openCore(bad, ELF), /core\.truncated: .*(ELF|short|magic)/i);
    await assert.rejects(ctl.openCore(path.join(dir, 'nope')), /no core file at/);
    await assert.rejects(ctl.openCore(cores[0]!, path.join(dir, 'missing.elf')), /no ELF for crashme at/);
  });
});
