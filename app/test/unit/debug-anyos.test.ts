/*
 * Debugging a kernel that is not LaneOS: a tiny 32-bit multiboot kernel (debugger/test/fixtures/mb32,
 * built here with gcc -m32) under qemu-system-i386, real gdb, the bridge. The LaneOS aids are off
 * (detected from the ELF's symbols, or as lanescope.json declares), so no panel shows an error
 * that comes from a LaneOS-only expression: each CPU shows where it is, the breakpoint is a plain
 * one, locals show their value and type apart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { elfIdent, elfSymbolNames } from '../../../debugger/common/elf.js';
import { startQemu, type Qemu } from '../../../debugger/node/qemu.js';
import { debugQemuBinary } from '../../node/debug/controller.js';
import { buildMb32, mb32Line } from '../../../debugger/test/fixtures/mb32/build.js';
import { cpuSummary, kernelFeatures, typeSuffix, type DebugStatus } from '../../common/debug.js';
import { validateProjectConfig } from '../../common/project.js';
import { DebugSession } from '../../node/debug/session.js';
import { runGdb } from '../anyos-fixture.js';

const MB32_DIR = path.resolve(import.meta.dirname, '../../../debugger/test/fixtures/mb32');
const LANEOS_ELF = path.resolve(import.meta.dirname, '../../../os/build/kernel/lanes.elf');

describe('kernel features (LaneOS aids only where the kernel has them)', () => {
  it('a foreign kernel with its own cpus[] is not LaneOS; LaneOS symbols are; lanescope.json decides when it says', () => {
    const xv6ish = kernelFeatures(new Set(['cpus', 'panic', 'main', 'scheduler']));
    assert.equal(xv6ish.kernel, 'other');
    assert.deepEqual([xv6ish.cpuDescriptions, xv6ish.processBreakpoints, xv6ish.userFault, xv6ish.breakOnMessage], [false, false, false, false]);
    const lane = kernelFeatures(new Set(['cpus', 'syscall_dispatch', 'process_user_fault', 'ipc_submit_recorded', 'trace_rings']));
    assert.equal(lane.kernel, 'laneos');
    assert.ok(lane.cpuDescriptions && lane.processBreakpoints && lane.userFault && lane.breakOnMessage);
    const noTrace = kernelFeatures(new Set(['cpus', 'syscall_dispatch', 'process_user_fault']));
    assert.equal(noTrace.breakOnMessage, false);
    assert.equal(kernelFeatures(new Set(['cpus', 'syscall_dispatch', 'process_user_fault']), false).cpuDescriptions, false);
    assert.equal(kernelFeatures(new Set(), true).source, 'lanescope.json');
  });

  it('the CPUs panel text: LaneOS thread/process only with LaneOS; elsewhere the frame; types set apart', () => {
    const lane = kernelFeatures(new Set(), true);
    const other = kernelFeatures(new Set(), false);
    const c = { threadId: '1', cpu: 0, qemu: 'CPU#0', selected: true, frame: 'tick at kernel.c:22' };
    assert.equal(cpuSummary({ ...c, process: 'init', pid: 1, tid: 3, idle: false }, lane), 'init (pid 1, tid 3)');
    assert.equal(cpuSummary({ ...c, error: 'There is no member named current.' }, other), 'tick at kernel.c:22');
    assert.equal(cpuSummary(c, undefined), 'tick at kernel.c:22');
    assert.equal('642' + typeSuffix('int'), '642 : int');
    assert.equal(typeSuffix(undefined), '');
  });

  it('lanescope.json debug.laneos is validated', () => {
    assert.equal(validateProjectConfig({ debug: { laneos: false } }).config.debug.laneos, false);
    assert.equal(validateProjectConfig({}).config.debug.laneos, null);
    const bad = validateProjectConfig({ debug: { laneos: 'yes' } });
    assert.match(bad.errors.join('\n'), /debug\.laneos: must be true, false or null/);
  });

  it('the LaneOS kernel is detected from its ELF', { skip: fs.existsSync(LANEOS_ELF) ? false : 'LaneOS is not built (make -C os)' }, () => {
    const f = DebugSession.featuresOf(LANEOS_ELF, null);
    assert.equal(f.kernel, 'laneos');
    assert.ok(f.cpuDescriptions && f.breakOnMessage);
  });
});

describe('DebugSession on a 32-bit multiboot kernel that is not LaneOS (qemu-system-i386 + gdb)', { timeout: 240000 }, () => {
  let dir = '';
  let elf = '';
  let q: Qemu | undefined;
  let s: DebugSession | undefined;
  const states: DebugStatus[] = [];
  const source = fs.readFileSync(path.join(MB32_DIR, 'kernel.c'), 'utf8');
  const line = mb32Line(source, /break here/);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-mb32-'));
    elf = buildMb32(MB32_DIR, dir);
    q = await startQemu({ binary: 'qemu-system-i386', kernel: elf, accel: 'tcg', cpu: 'qemu32', debugExit: false });
  });

  after(async () => {
    await s?.end('test over');
    await q?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('its ELF32 symbols are read; it is not LaneOS; it is debugged under qemu-system-i386', () => {
    const bytes = new Uint8Array(fs.readFileSync(elf));
    const names = elfSymbolNames(bytes);
    assert.ok(names.has('tick') && names.has('kmain') && names.has('ticks'), [...names].join(' '));
    assert.deepEqual(elfIdent(bytes), { bits: 32, machine: 3 });
    const f = DebugSession.featuresOf(elf, null);
    assert.deepEqual([f.kernel, f.source, f.cpuDescriptions], ['other', 'symbols', false]);
    assert.equal(debugQemuBinary('qemu-system-x86_64', elfIdent(bytes)), 'qemu-system-i386');
    assert.equal(debugQemuBinary('/usr/bin/qemu-system-x86_64', elfIdent(bytes)), '/usr/bin/qemu-system-i386');
    assert.equal(debugQemuBinary('qemu-system-x86_64', { bits: 64, machine: 62 }), 'qemu-system-x86_64');
    assert.equal(debugQemuBinary('my-qemu', elfIdent(bytes)), 'my-qemu');
  });

  it('stops at a breakpoint in its C source; CPUs show their frame, no LaneOS expression; value and type apart', async () => {
    let ready: (x: DebugStatus) => void = () => undefined;
    const stopped = new Promise<DebugStatus>((r) => (ready = r));
    s = await DebugSession.start({
      endpoint: q!.endpoint,
      root: MB32_DIR,
      kernelElf: elf,
      programsDir: path.join(dir, 'programs'),
      breakpoints: [{ file: 'kernel.c', line, enabled: true }],
      accel: 'tcg',
      onState: (x) => {
        states.push(x);
        if ((x.phase === 'stopped' && x.stop && !x.stop.partial) || x.phase === 'ended') ready(x);
      },
      onRsp: () => undefined,
    });
    assert.equal(s.features.kernel, 'other');
    const st = await stopped;
    assert.equal(st.phase, 'stopped', st.endedWhy ?? '');
    assert.equal(st.features?.cpuDescriptions, false);
    const stop = st.stop!;
    assert.equal(stop.kind, 'breakpoint', stop.description);
    assert.equal(stop.runBy, undefined, 'Lanescope ran it');
    assert.deepEqual(stop.location, { file: 'kernel.c', line });
    assert.equal(stop.frames[0]?.func, 'tick');
    assert.ok(stop.frames.some((f) => f.func === 'kmain'), JSON.stringify(stop.frames));
    // the breakpoint is a plain one (no process condition), placed without error
    assert.equal(st.breakpoints[0]?.error, undefined);
    assert.equal(st.breakpoints[0]?.program, null);
    // every CPU shows where it is; nothing from LaneOS's cpus[]->current
    assert.ok(stop.cpus.length >= 1);
    for (const c of stop.cpus) {
      assert.equal(c.error, undefined, JSON.stringify(c));
      assert.equal(c.process, undefined);
      assert.match(c.frame ?? '', /^tick at kernel\.c:\d+$/, JSON.stringify(c));
    }
    const n = stop.locals.find((v) => v.name === 'n');
    assert.ok(n, JSON.stringify(stop.locals));
    assert.match(n.value, /^\d+$/);
    assert.equal(n.type, 'unsigned int');
    const regs = await s.registers();
    assert.ok(regs.some((r) => r.name === 'eip' || r.name === 'eflags'), JSON.stringify(regs.map((r) => r.name)));
    const json = JSON.stringify(states);
    assert.doesNotMatch(json, /no member named|cpus\[/);
  });

  it("the user's own gdb through the bridge, the IDE attached: stop, break, continue, hit, detach; the IDE follows", async () => {
    const before = states.filter((x) => x.phase === 'stopped' && x.stop && !x.stop.partial).length;
    const out = await runGdb('gdb', ['-ex', 'set pagination off', '-ex', `target remote :${s!.port}`, '-ex', 'break tick', '-ex', 'continue', '-ex', 'print n', '-ex', 'bt', '-ex', 'continue', '-ex', 'print n', '-ex', 'detach', elf]);
    assert.doesNotMatch(out, /Cannot execute this command while the target is running|not being run|too long/, out);
    assert.match(out, /Breakpoint \d+(\.\d+)?, tick \(n=\d+\)/, out);
    assert.match(out, /#1 +kmain \(\) at \S*kernel\.c:\d+/, out);
    const ns = [...out.matchAll(/^\$\d+ = (\d+)$/gm)].map((m) => Number(m[1]));
    assert.equal(ns.length, 2, out);
    assert.equal(ns[1], ns[0]! + 1, `the second continue hits the next tick: ${out}`);
    assert.match(out, /Inferior 1 \(Remote target\) detached/, out);
    // the IDE followed the user's runs: it is stopped in tick again, and still attached
    const end = Date.now() + 30000;
    const settled = () => {
      const l = states.at(-1);
      return states.filter((x) => x.phase === 'stopped' && x.stop && !x.stop.partial).length > before && l?.phase === 'stopped' && !l.stop?.partial;
    };
    // (the user's two runs may reach the IDE as two stops: settled after the first is not yet the end —
    // wait until what the IDE reads is the second stop's n)
    let v: Awaited<ReturnType<DebugSession['evaluate']>> = [];
    while (Date.now() < end) {
      if (settled()) {
        v = await s!.evaluate(['n']);
        if (Number(v[0]?.value) === ns[1]) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const last = states.at(-1)!;
    assert.equal(last.phase, 'stopped', JSON.stringify(last).slice(0, 600));
    assert.equal(last.stop?.frames[0]?.func, 'tick');
    // and says who ran the target into this stop
    assert.match(last.stop?.description ?? '', /run by the user's gdb \(client #\d+\)/, last.stop?.description);
    assert.ok((last.stop?.runBy ?? 0) >= 2);
    assert.equal(Number(v[0]?.value), ns[1], JSON.stringify(v));
  });
});
