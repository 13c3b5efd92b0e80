/*
 * The backend's DebugSession against real QEMU (TCG) and real gdb, with the LaneOS build in os/build:
 * a breakpoint on a kernel source line (syscall_dispatch) stops there with frames, locals (expandable
 * struct) and CPUs-as-threads; step over moves the line; watch, registers (cr3), memory and
 * disassembly answer; debug.traceRecord finds the stopped CPU's newest trace record (the by-CPU
 * path Break on next message tries first) and finds it again by id; a user's second gdb attaches to the same bridge port and sees the same stop;
 * the RSP log records packets; QEMU exiting ends the session with the reason.
 * Skipped with the reason when LaneOS is not built.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startQemu, type Qemu } from '../../../debugger/node/qemu.js';
import type { DebugStatus, RspLogEntry } from '../../common/debug.js';
import { DebugSession } from '../../node/debug/session.js';

const ROOT = path.resolve(import.meta.dirname, '../../../os');
const BUILD = path.join(ROOT, 'build');
const FILES = ['kernel/lanes.elf', 'kernel/lanes32.elf', 'initrd.tar'];
const missing = FILES.filter((f) => !fs.existsSync(path.join(BUILD, f)));
const skip = missing.length ? `LaneOS is not built (missing ${missing.join(', ')}; run make -C os)` : false;

const SRC = 'kernel/generic/syscall.c';
function lineOf(file: string, re: RegExp): number {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`${re} not found in ${file}`);
  return i + 1;
}

describe('DebugSession (real QEMU + gdb + bridge)', { timeout: 400000, skip }, () => {
  let dir = '';
  let q: Qemu;
  let s: DebugSession;
  const states: DebugStatus[] = [];
  const rsp: RspLogEntry[] = [];
  const waiters: { pred: (s: DebugStatus) => boolean; resolve: (s: DebugStatus) => void }[] = [];
  const waitFor = (pred: (s: DebugStatus) => boolean, ms = 240000): Promise<DebugStatus> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; last state ${JSON.stringify(states.at(-1))?.slice(0, 800)}`)), ms);
      waiters.push({ pred, resolve: (x) => { clearTimeout(t); resolve(x); } });
    });
  const bpLine = lineOf(SRC, /uint64_t nr = r->rax;/);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-dbg-'));
    fs.mkdirSync(path.join(dir, 'kernel'));
    fs.mkdirSync(path.join(dir, 'programs'));
    for (const f of FILES) fs.copyFileSync(path.join(BUILD, f), path.join(dir, f.startsWith('kernel/') ? f : path.basename(f)));
    for (const p of fs.readdirSync(path.join(BUILD, 'programs')).filter((f) => f.endsWith('.elf'))) fs.copyFileSync(path.join(BUILD, 'programs', p), path.join(dir, 'programs', p));
    q = await startQemu({ kernel: path.join(dir, 'kernel/lanes32.elf'), initrd: path.join(dir, 'initrd.tar'), append: 'loglevel=info -- ls', memory: '256M', smp: 2, accel: 'tcg' });
    s = await DebugSession.start({
      endpoint: q.endpoint,
      root: ROOT,
      kernelElf: path.join(dir, 'kernel/lanes.elf'),
      programsDir: path.join(dir, 'programs'),
      breakpoints: [{ file: SRC, line: bpLine, enabled: true }],
      accel: 'tcg',
      onState: (x) => {
        states.push(x);
        if (x.stop?.partial) return; // wait for the full snapshot (locals, CPUs)
        for (const w of [...waiters]) if (w.pred(x)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(x); }
      },
      onRsp: (e) => rsp.push(...e),
    });
  });

  after(async () => {
    await s?.end('test over');
    await q?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops at a breakpoint on a kernel source line, with frames, locals and CPUs', async () => {
    const st = await waitFor((x) => x.phase === 'stopped' || x.phase === 'ended');
    assert.equal(st.phase, 'stopped', st.endedWhy ?? '');
    const stop = st.stop!;
    assert.equal(stop.kind, 'breakpoint', stop.description);
    assert.deepEqual(stop.location, { file: SRC, line: bpLine });
    assert.equal(stop.frames[0]!.func, 'syscall_dispatch');
    assert.ok(stop.frames[0]!.inProject);
    const r = stop.locals.find((v) => v.name === 'r');
    assert.ok(r && r.varName && r.numchild > 0, JSON.stringify(stop.locals));
    const kids = await s.expand(r.varName!);
    assert.ok(kids.some((k) => k.name === '*r' || k.name === 'rax'), JSON.stringify(kids));
    assert.equal(stop.cpus.length, 2);
    assert.ok(stop.cpus.some((c) => c.selected && c.process), JSON.stringify(stop.cpus));
    assert.ok(st.port! > 0);
    assert.equal(st.breakpoints[0]!.error, undefined);
  });

  it('steps over to the next line and shows the new local', async () => {
    const next = waitFor((x) => x.phase === 'stopped');
    await s.command('next');
    const st = await next;
    assert.equal(st.stop!.kind, 'step');
    assert.equal(st.stop!.location!.file, SRC);
    assert.ok(st.stop!.location!.line > bpLine, `line ${st.stop!.location!.line}`);
    const nr = st.stop!.locals.find((v) => v.name === 'nr');
    assert.ok(nr && /^\d+$/.test(nr.value), JSON.stringify(st.stop!.locals));
  });

  it('step into enters the called function, step out returns to the caller', async () => {
    // We are on `uint32_t tid = current()->tid;` (current() and this_cpu() are inline functions).
    const into = waitFor((x) => x.phase === 'stopped');
    await s.command('step');
    const a = await into;
    assert.notEqual(a.stop!.frames[0]!.func, 'syscall_dispatch', JSON.stringify(a.stop!.frames.slice(0, 3)));
    assert.ok(a.stop!.frames.some((f) => f.func === 'syscall_dispatch'), 'the caller is on the stack');
    const out = waitFor((x) => x.phase === 'stopped');
    await s.command('finish');
    let b = await out;
    // Out of this_cpu() lands in current(); once more reaches syscall_dispatch.
    if (b.stop!.frames[0]!.func !== 'syscall_dispatch') {
      const again = waitFor((x) => x.phase === 'stopped');
      await s.command('finish');
      b = await again;
    }
    assert.equal(b.stop!.frames[0]!.func, 'syscall_dispatch', JSON.stringify(b.stop!.frames.slice(0, 3)));
  });

  it('watch, registers with control registers, memory and disassembly', async () => {
    const [w, bad] = await s.evaluate(['r->rax', 'no_such_symbol_here']);
    assert.match(w!.value!, /^\d+$/);
    assert.match(bad!.error!, /No symbol/);
    const regs = await s.registers();
    const cr3 = regs.find((x) => x.name === 'cr3');
    assert.ok(cr3 && cr3.group === 'control', JSON.stringify(regs.map((x) => x.name)));
    assert.ok(regs.some((x) => x.name === 'rip' && x.group === 'general'));
    const m = await s.memory('$rsp', 64);
    assert.equal(m.hex.length, 128, m.error ?? '');
    const d = await s.disassembleAt();
    assert.ok(d.some((l) => l.current), JSON.stringify(d.slice(0, 3)));
  });

  it("debug.traceRecord by CPU: the newest record of the stopped CPU's trace ring, found again by its id", async () => {
    // Break on next message asks for the stopped CPU's newest record first (trace_rings[cpu] read
    // through gdb by field name: next_id, head, pend_head, keep, data, size), then by event id.
    const st = states.at(-1)!;
    assert.equal(st.phase, 'stopped');
    const cpu = st.stop!.cpus.find((c) => c.selected)?.cpu ?? Number(st.stop!.threadId) - 1;
    assert.ok(Number.isInteger(cpu) && cpu >= 0, `the stopped CPU: ${JSON.stringify(st.stop!.cpus)} thread ${st.stop!.threadId}`);
    const byCpu = await s.traceRecord(undefined, cpu);
    assert.equal(byCpu.cpu, cpu);
    const id = BigInt(byCpu.id);
    assert.equal(Number(id >> 48n), cpu, `event ${byCpu.id} is CPU ${cpu}'s`);
    const [next] = await s.evaluate([`(unsigned long)trace_rings[${cpu}].next_id`]);
    assert.equal(BigInt(next!.value!), id + 1n, 'the newest record: next_id - 1');
    const rec = Buffer.from(byCpu.record, 'base64');
    assert.ok(rec.length >= 24 && rec.readUInt16LE(0) !== 0 && rec.readUInt16LE(2) === rec.length, `a whole record (${rec.length} bytes)`);
    assert.equal(rec.readBigUInt64LE(16), id, 'the record carries that id');
    const byId = await s.traceRecord(byCpu.id);
    assert.equal(byId.record, byCpu.record, 'by id finds the same record');
    await assert.rejects(s.traceRecord(undefined, 5), /CPU 5 .*(not set up|recorded nothing)/, 'a CPU without a ring says so');
    assert.throws(() => s.traceRecord(undefined, 64), /give an event id or a CPU/);
  });

  it("a user's own gdb attaches to the same port and sees the stop", async () => {
    const port = s.port!;
    const out = await new Promise<string>((resolve) => {
      const g = spawn('gdb', ['-nx', '-q', '-batch', '-ex', 'set pagination off', '-ex', `target remote :${port}`, '-ex', 'bt 8', '-ex', 'detach', path.join(dir, 'kernel/lanes.elf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      g.stdout.on('data', (d: Buffer) => (o += d.toString()));
      g.stderr.on('data', (d: Buffer) => (o += d.toString()));
      g.on('exit', () => resolve(o));
    });
    assert.match(out, /syscall_dispatch/, out);
    await new Promise((r) => setTimeout(r, 400)); // the log is sent in batches every 150 ms
    assert.ok(rsp.some((e) => e.client >= 2), 'the RSP log shows the second client');
  });

  it('a conditional breakpoint whose condition is false does not stop; one that holds does', async () => {
    const later = lineOf(SRC, /sched_check_user_return\(r\);/);
    const views = await s.setBreakpoints([
      { file: SRC, line: bpLine, enabled: true, condition: 'r->rax == 987654' },
      { file: SRC, line: later, enabled: true, condition: 'nr == nr' },
    ]);
    assert.equal(views.filter((v) => v.number && !v.error).length, 2, JSON.stringify(views));
    const next = waitFor((x) => x.phase === 'stopped');
    await s.command('continue');
    const st = await next;
    assert.deepEqual(st.stop!.location, { file: SRC, line: later }, st.stop!.description);
    assert.equal(st.stop!.kind, 'breakpoint');
  });

  it('continue runs on; QEMU exiting ends the session with the reason', async () => {
    await s.setBreakpoints([]);
    const ended = waitFor((x) => x.phase === 'ended', 300000);
    await s.command('continue');
    const st = await ended;
    assert.match(st.endedWhy!, /exited|closed/);
    console.log(`# session ended: ${st.endedWhy}`);
    assert.ok(rsp.some((e) => e.dir === 'target->bridge'));
  });
});

describe('DebugSession: user programs and user faults (real QEMU + gdb)', { timeout: 400000, skip }, () => {
  let dir = '';
  let q: Qemu;
  let s: DebugSession;
  const states: DebugStatus[] = [];
  const waiters: { pred: (s: DebugStatus) => boolean; resolve: (s: DebugStatus) => void }[] = [];
  const waitFor = (pred: (s: DebugStatus) => boolean, ms = 240000): Promise<DebugStatus> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; last state ${JSON.stringify(states.at(-1))?.slice(0, 800)}`)), ms);
      waiters.push({ pred, resolve: (x) => { clearTimeout(t); resolve(x); } });
    });
  const lsLine = lineOf('programs/fault-null/main.c', /printf\("fault-null: writing/);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-dbg-'));
    fs.mkdirSync(path.join(dir, 'kernel'));
    fs.mkdirSync(path.join(dir, 'programs'));
    for (const f of FILES) fs.copyFileSync(path.join(BUILD, f), path.join(dir, f.startsWith('kernel/') ? f : path.basename(f)));
    for (const p of fs.readdirSync(path.join(BUILD, 'programs')).filter((f) => f.endsWith('.elf'))) fs.copyFileSync(path.join(BUILD, 'programs', p), path.join(dir, 'programs', p));
    q = await startQemu({ kernel: path.join(dir, 'kernel/lanes32.elf'), initrd: path.join(dir, 'initrd.tar'), append: 'loglevel=info -- fault-null', memory: '256M', smp: 2, accel: 'tcg' });
    s = await DebugSession.start({
      endpoint: q.endpoint,
      root: ROOT,
      kernelElf: path.join(dir, 'kernel/lanes.elf'),
      programsDir: path.join(dir, 'programs'),
      // init's main is at the same address range as fault-null's: this breakpoint must only stop in fault-null.
      breakpoints: [{ file: 'programs/fault-null/main.c', line: lsLine, enabled: true }],
      accel: 'tcg',
      onState: (x) => {
        states.push(x);
        if (x.stop?.partial) return; // wait for the full snapshot (locals, CPUs)
        for (const w of [...waiters]) if (w.pred(x)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(x); }
      },
      onRsp: () => undefined,
    });
  });

  after(async () => {
    await s?.end('test over');
    await q?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a breakpoint in a user program stops only in that program's process", async () => {
    const st = await waitFor((x) => x.phase === 'stopped' || x.phase === 'ended');
    assert.equal(st.phase, 'stopped', st.endedWhy ?? '');
    assert.equal(st.breakpoints[0]!.program, 'fault-null');
    assert.deepEqual(st.stop!.location, { file: 'programs/fault-null/main.c', line: lsLine }, st.stop!.description);
    assert.equal(st.stop!.frames[0]!.func, 'main');
    const cpu = st.stop!.cpus.find((c) => c.selected)!;
    assert.equal(cpu.process, 'fault-null', JSON.stringify(st.stop!.cpus));
  });

  it('a user-space fault stops at the faulting line of that program', async () => {
    const st0 = waitFor((x) => x.phase === 'stopped');
    await s.command('continue');
    const st = await st0;
    assert.equal(st.stop!.kind, 'user-fault', st.stop!.description);
    const want = lineOf('programs/fault-null/main.c', /\*\(volatile int \*\)addr = 42;/);
    assert.deepEqual(st.stop!.location, { file: 'programs/fault-null/main.c', line: want }, JSON.stringify(st.stop!.frames[0]));
    assert.match(st.stop!.description, /fault-null/);
    assert.equal(st.stop!.frames[1]!.func, 'process_user_fault');
  });
});

describe('DebugSession: a kernel panic stops at panic() with the backtrace', { timeout: 300000, skip }, () => {
  it('stops with kind panic, the message and the frames (trace.crash panics the trace drainer)', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-dbg-'));
    fs.mkdirSync(path.join(dir, 'kernel'));
    for (const f of FILES) fs.copyFileSync(path.join(BUILD, f), path.join(dir, f.startsWith('kernel/') ? f : path.basename(f)));
    const q = await startQemu({ kernel: path.join(dir, 'kernel/lanes32.elf'), initrd: path.join(dir, 'initrd.tar'), append: 'loglevel=info trace.crash', memory: '256M', smp: 2, accel: 'tcg' });
    let resolveStop: (s: DebugStatus) => void = () => undefined;
    const stopped = new Promise<DebugStatus>((r) => (resolveStop = r));
    const s = await DebugSession.start({
      endpoint: q.endpoint, root: ROOT, kernelElf: path.join(dir, 'kernel/lanes.elf'), programsDir: path.join(dir, 'programs'),
      breakpoints: [], accel: 'tcg', onRsp: () => undefined,
      onState: (x) => { if ((x.phase === 'stopped' && !x.stop?.partial) || x.phase === 'ended') resolveStop(x); },
    });
    try {
      let timer: NodeJS.Timeout | undefined;
      const st = await Promise.race([stopped, new Promise<null>((r) => (timer = setTimeout(() => r(null), 120000)))]);
      clearTimeout(timer);
      if (!st) {
        t.skip('this kernel build did not panic with trace.crash within 120 s');
        return;
      }
      assert.equal(st.phase, 'stopped', st.endedWhy ?? '');
      assert.equal(st.stop!.kind, 'panic', st.stop!.description);
      assert.equal(st.stop!.frames[0]!.func, 'panic');
      assert.ok(st.stop!.frames.length >= 2, JSON.stringify(st.stop!.frames));
      assert.match(st.stop!.description, /^kernel panic: .+/);
      assert.deepEqual(st.stop!.location?.file, 'kernel/generic/panic.c');
    } finally {
      await s.end('test over');
      await q.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
