/*
 * LaneOS under QEMU (TCG, 2 CPUs) through each transport:
 *   COM2 over a Unix socket, ivshmem shared memory, and the flight recorder read through QEMU's
 *   gdbstub. Each trace must have no unknown events, no corrupt frames and no lost events at
 *   idle, and must show the boot's processes (init, the shell), their threads, context
 *   switches, wake-ups and syscalls. Under ivshmem the per-CPU rings live in the shared memory:
 *   every CPU's sequence numbers arrive without a gap; a host that stops reading makes the
 *   kernel drop and report the drops (lost records covering exactly the missing sequence
 *   numbers) instead of overwriting what the host has not read; and the flight recorder reads
 *   the rings in the BAR through the gdbstub. Kernel/initrd: os/build (make -C os), or
 *   LANES_TRACE_KERNEL / LANES_TRACE_INITRD.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { RspClient } from '../node/client.js';
import { startQemu } from '../node/qemu.js';
import { readFlightRecorder } from '../node/trace/flight.js';
import { loadTrace, qemuTraceArgs, TraceSession } from '../node/trace/session.js';
import type { TraceEvent } from '../common/trace/records.js';
import { formatEvent } from '../common/trace/text.js';
import { TRACE_CLASSES } from '../common/trace/schema.gen.js';
import { bootGuest, qemuBase, traceSync } from './guest.js';

const ROOT = resolve(process.env['LANESCOPE_ROOT'] ?? '.');
const KERNEL = process.env['LANES_TRACE_KERNEL'] ?? join(ROOT, 'os/build/kernel/lanes32.elf');
const KERNEL64 = KERNEL.replace(/lanes32\.elf$/, 'lanes.elf');
const INITRD = process.env['LANES_TRACE_INITRD'] ?? join(ROOT, 'os/build/initrd.tar');
const missing = !existsSync(KERNEL) || !existsSync(INITRD) ? `no kernel/initrd at ${KERNEL} (run make -C os)` : false;

/** A shell command, and what shows it is done (default: the next prompt). */
type Cmd = string | { cmd: string; until: RegExp };

/** Boots with `extra`, starts `session` at the prompt (or only after the first `startAfter`
 * commands: a host that is not reading meanwhile), runs the commands, then `trace sync` and
 * waits until the session has every record made before it (guest.ts traceSync). */
async function bootWith(extra: string[], session: TraceSession, dir: string, commands: Cmd[] = ['ps'], startAfter = 0): Promise<{ console: string }> {
  const g = bootGuest({ kernel: KERNEL, initrd: INITRD, smp: 2, extra });
  const marks: TraceEvent[] = [];
  session.on('events', (evs: TraceEvent[]) => { for (const e of evs) if (e.name === 'marker') marks.push(e); });
  try {
    await g.prompt(120000);
    const startSession = async () => {
      session.start();
      // a socket reader must be attached before the command runs (QEMU drops COM2 bytes otherwise)
      const attach = Date.now() + 20000;
      while (session.stats().bytes === 0 && Date.now() < attach) await new Promise((r) => setTimeout(r, 100));
      // attached late: the drainer (asleep up to 100 ms while the full rings drop) takes the
      // freed space back on its next pass; until then new events are still dropped
      if (startAfter > 0) await new Promise((r) => setTimeout(r, 1000));
    };
    for (const [k, c] of commands.entries()) {
      if (k === startAfter) await startSession();
      if (typeof c === 'string') await g.run(c, 90000);
      else await g.run(c.cmd, 90000, c.until);
    }
    if (startAfter >= commands.length) await startSession();
    await traceSync(g, () => marks);
  } finally {
    await g.kill();
    writeFileSync(join(dir, 'console.txt'), g.output());   // (kept for a failure's diagnosis too)
  }
  return { console: g.output() };
}

function checkTrace(events: TraceEvent[], how: string): void {
  const unknown = events.filter((e) => e.unknown);
  assert.equal(unknown.length, 0, `${how}: unknown events: ${unknown.slice(0, 3).map((e) => e.type).join(',')}`);
  const names = new Set(events.map((e) => e.name));
  for (const n of ['trace_header', 'event_def', 'proc_create', 'thread_create', 'ctx_switch', 'wakeup', 'syscall_enter', 'syscall_exit', 'load_sample', 'log'])
    assert.ok(names.has(n), `${how}: has ${n} events`);
  const procs = events.filter((e) => e.name === 'proc_create').map((e) => e.fields['name']);
  for (const p of ['init', 'sh', 'ps']) assert.ok(procs.includes(p), `${how}: process ${p} created (saw ${procs.join(', ')})`);
  assert.ok(events.some((e) => e.name === 'proc_exit'), `${how}: ps exited`);
  const cpus = new Set(events.filter((e) => e.name === 'ctx_switch').map((e) => e.cpu));
  assert.equal(cpus.size, 2, `${how}: context switches on both CPUs`);
  for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.tsc <= events[i]!.tsc, `${how}: merged in time order`);
  const exits = events.filter((e) => e.name === 'syscall_exit');
  const enters = new Set(events.filter((e) => e.name === 'syscall_enter').map((e) => e.id));
  assert.ok(exits.some((e) => enters.has(e.fields['cause'] as number)), `${how}: syscall_exit names its syscall_enter`);
}

/** Every CPU's records carry sequence numbers 0, 1, 2, ... (the id's low bits): each one must
 * have arrived exactly once, except those the kernel dropped, which its `lost` records name
 * (count events from first_seq). Returns the number of events the lost records report. */
function checkSeqs(events: TraceEvent[], how: string): number {
  const byCpu = new Map<number, Map<number, TraceEvent>>();
  const ids = new Map<string, TraceEvent>();
  const gone = new Map<number, Array<[number, number]>>();
  let reported = 0;
  for (const e of events) {
    if (e.name === 'trace_header' || e.name === 'event_def') continue; // the preamble: not in a ring
    let seen = byCpu.get(e.cpu);
    if (!seen) byCpu.set(e.cpu, (seen = new Map()));
    // one record can decode into several events (ipc_exchange: a match and two completions,
    // same seq, distinct ids): ids are unique, and each seq counts as there
    const twice = ids.get(String(e.id));
    assert.ok(!twice, `${how}: event ${String(e.id)} arrived twice: ${twice && formatEvent(twice)} / ${formatEvent(e)}`);
    ids.set(String(e.id), e);
    seen.set(e.seq, e);
    if (e.name === 'lost') {
      const first = Number(e.fields['first_seq']);
      const n = Number(e.fields['count']);
      reported += n;
      const g = gone.get(e.cpu) ?? [];
      g.push([first, first + n]);
      gone.set(e.cpu, g);
    }
  }
  assert.ok(byCpu.size >= 2, `${how}: events from both CPUs' rings (saw ${[...byCpu.keys()].join(', ')})`);
  for (const [cpu, seen] of byCpu) {
    const g = gone.get(cpu) ?? [];
    const dropped = (q: number) => g.some(([a, b]) => q >= a && q < b);
    let max = 0;
    for (const q of seen.keys()) if (q > max) max = q;
    const missing: number[] = [];
    for (let q = 0; q <= max; q++) {
      if (dropped(q)) assert.ok(!seen.has(q), `${how}: cpu${cpu} seq ${q} is both reported lost and present`);
      else if (!seen.has(q)) missing.push(q);
    }
    assert.deepEqual(missing.slice(0, 10), [], `${how}: cpu${cpu}: ${missing.length} events missing with no lost record (of ${max + 1})`);
  }
  return reported;
}

/** Does this kernel record events at all (tracing hooked into the boot)? One short boot decides. */
async function probeTracing(): Promise<string | undefined> {
  const g = bootGuest({ kernel: KERNEL, initrd: INITRD, smp: 2 });
  await g.prompt(120000).catch(() => undefined);
  await g.kill();
  const out = g.output();
  if (/trace: \d+ rings/.test(out)) return undefined;
  return /lanes\$ /.test(out) ? 'this kernel does not record trace events (tracing not hooked into its boot yet)' : `the kernel did not boot:\n${out.slice(-800)}`;
}

/** Runs a guest booted with trace.crash until it panics, stops it, reads its rings through the gdbstub. */
async function flightAfterPanic(q: Awaited<ReturnType<typeof startQemu>>): Promise<Awaited<ReturnType<typeof readFlightRecorder>>> {
  const c = await RspClient.connect(q.endpoint);
  const stopped = c.resume();
  const end = Date.now() + 120000;
  while (!/System halted/.test(q.output())) {
    if (Date.now() > end) throw new Error(`no panic:\n${q.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  c.interrupt();
  await stopped;
  const r = await readFlightRecorder(c, new Uint8Array(readFileSync(KERNEL64)));
  c.close();
  return r;
}

/** IPC events carry their causes: matches and completions name their submits, wake-ups name what woke them. */
function checkIpc(events: TraceEvent[]): void {
  const byId = new Map(events.map((e) => [e.id, e]));
  const of = (e: TraceEvent, k: string) => byId.get(e.fields[k] as number);
  const subs = events.filter((e) => e.name === 'ipc_submit');
  const matches = events.filter((e) => e.name === 'ipc_match');
  const completes = events.filter((e) => e.name === 'ipc_complete' && e.fields['stream']);
  assert.ok(subs.length > 10 && matches.length > 5 && completes.length > 5, `IPC events (${subs.length} submits, ${matches.length} matches)`);
  for (const m of matches) {
    assert.equal(of(m, 'cause')?.name, 'ipc_submit', 'a match names the submit that completed the pair');
    assert.equal(of(m, 'other')?.name, 'ipc_submit', 'and the earlier one');
    assert.ok(of(m, 'other')!.tsc <= m.tsc || of(m, 'other')!.cpu !== m.cpu);
  }
  const completed = completes.filter((c) => of(c, 'cause')?.name === 'ipc_submit').length;
  assert.ok(completed >= completes.length * 0.95, `completions name their submit (${completed}/${completes.length})`);
  assert.ok(events.some((e) => e.name === 'ipc_match' && Number(e.fields['child_stream']) !== 0), 'offer/accept opened conversations');
  assert.ok(events.some((e) => e.name === 'ipc_cancel' && of(e, 'target')?.name === 'ipc_submit'), 'a cancel names the operation it cancelled');
  assert.ok(events.some((e) => e.name === 'wakeup' && of(e, 'cause') !== undefined), 'a wake-up names its cause');
  // a thread waiting on its completion queue is woken by the other side's submit (or a cancel)
  const ipcWakes = events.filter((e) => e.name === 'wakeup' && ['ipc_submit', 'ipc_cancel'].includes(of(e, 'cause')?.name ?? ''));
  assert.ok(ipcWakes.length > 5, `IPC wake-ups name the submit that completed the pair (${ipcWakes.length})`);
  for (const w of ipcWakes) assert.ok(of(w, 'cause')!.tsc <= w.tsc || of(w, 'cause')!.cpu !== w.cpu, 'the cause comes first');
  assert.ok(events.some((e) => e.name === 'proc_create' && e.fields['name'] === 'ipctests'));
}

describe('trace over QEMU transports', { skip: missing }, () => {
  let notTracing: string | undefined;
  before(async () => {
    notTracing = await probeTracing();
  });
  const need = (t: TestContext): boolean => {
    if (notTracing) t.skip(notTracing);
    return !notTracing;
  };
  it('COM2 (Unix socket): a live trace with no loss and no corrupt frames', async (tc) => {
    if (!need(tc)) return;
    const dir = mkdtempSync(join(tmpdir(), 'trace-com2-'));
    const sock = join(dir, 'com2.sock');
    const s = new TraceSession({ serial: sock, out: join(dir, 'rec.ltrace'), keepEvents: true });
    // QEMU creates the socket (server=on); the session connects once the prompt shows.
    await bootWith(qemuTraceArgs({ serialSocket: sock }), s, dir);
    const st = await s.stop();
    assert.equal(st.corruptFrames, 0);
    assert.equal(st.lost, 0, 'no lost events at idle');
    // the session connected after boot: the boot events are gone from the wire, but the
    // recording still decodes and the shell's `ps` is there
    const names = new Set(s.events.map((e) => e.name));
    assert.ok(names.has('ctx_switch') && names.has('syscall_enter'));
    assert.ok(s.events.some((e) => e.name === 'proc_create' && e.fields['name'] === 'ps'), 'ps shows up live');
    const t = loadTrace(join(dir, 'rec.ltrace'));
    assert.equal(t.format, 'records');
    assert.equal(t.stats.unknown, 0);
    assert.ok(t.events.length >= s.events.length - 5);
    rmSync(dir, { recursive: true, force: true });
  });

  it('COM2 (file from boot): the whole boot, every process', async (tc) => {
    if (!need(tc)) return;
    const dir = mkdtempSync(join(tmpdir(), 'trace-com2f-'));
    const f = join(dir, 'com2.bin');
    const s = new TraceSession({ serial: f, keepEvents: true });
    await bootWith(['-serial', `file:${f}`], s, dir);
    await s.stop();
    const t = loadTrace(f);
    assert.equal(t.format, 'serial');
    assert.equal(t.stats.corruptFrames, 0);
    assert.equal(t.stats.missingFrames, 0);
    assert.equal(t.stats.lost, 0);
    checkTrace(t.events, 'com2');
    rmSync(dir, { recursive: true, force: true });
  });

  it('ivshmem: the host polls shared memory; the whole boot, no loss', async (tc) => {
    if (!need(tc)) return;
    const dir = mkdtempSync(join(tmpdir(), 'trace-shm-'));
    const shm = `/dev/shm/lanes-trace-test-${process.pid}`;
    const s = new TraceSession({ shm, out: join(dir, 'rec.ltrace'), keepEvents: true });
    const ipc = existsSync(join(ROOT, 'os/programs/ipctests/main.c'));
    try {
      const { console: con } = await bootWith(qemuTraceArgs({ shm }), s, dir, ipc ? ['ps', { cmd: 'ipctests ipc-nested3-processes ipc-cancel', until: /test ipc-cancel: \w+/ }] : ['ps']);
      // the default 128 MiB BAR: two rings of 32 MiB, so a host kept off the CPU for a while
      // (a loaded machine) still finds every record waiting
      assert.match(con, /trace: 2 rings of 32768 KiB in ivshmem/);
      const st = await s.stop();
      assert.equal(st.shmLost, 0);
      assert.equal(st.lost, 0);
      checkTrace(s.events, 'ivshmem');
      assert.equal(checkSeqs(s.events, 'ivshmem'), 0, 'both rings arrived whole: no gap, no lost record');
      if (ipc) checkIpc(s.events);
      const t = loadTrace(join(dir, 'rec.ltrace'));
      checkTrace(t.events, 'ivshmem recording');
    } finally {
      rmSync(shm, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ivshmem: a host that stops reading makes the kernel drop and report, never overwrite unread records', async (tc) => {
    if (!need(tc)) return;
    const dir = mkdtempSync(join(tmpdir(), 'trace-shm-stall-'));
    const shm = `/dev/shm/lanes-trace-stall-${process.pid}`;
    const s = new TraceSession({ shm, keepEvents: true });
    try {
      // nobody reads while `bench` makes ~5 MB of syscall events; then the session attaches and
      // `ps` runs. A 4 MiB BAR holds two rings of 1 MiB (the default 128 MiB one, two of 32 MiB).
      const { console: con } = await bootWith(qemuTraceArgs({ shm, shmSize: '4M' }), s, dir, ['bench 20000 100', 'ps'], 1);
      assert.match(con, /trace: 2 rings of 1024 KiB in ivshmem/, 'the rings are in the shared memory, sized to the BAR');
      const st = await s.stop();
      const reported = checkSeqs(s.events, 'stalled host');
      assert.ok(st.lost > 1000 && reported === st.lost, `the kernel dropped and reported it (${st.lost} lost, ${st.shmLost} not yet reported)`);
      assert.equal(st.corruptBytes, 0);
      const procs = s.events.filter((e) => e.name === 'proc_create').map((e) => e.fields['name']);
      assert.ok(procs.includes('init') && procs.includes('sh'), `the unread boot records were kept (${procs.join(', ')})`);
      assert.ok(procs.includes('ps'), 'and recording went on once the host read again');
    } finally {
      rmSync(shm, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run-time control: `trace` switches classes off and on, `trace mark` records markers', async (tc) => {
    if (!need(tc)) return;
    const dir = mkdtempSync(join(tmpdir(), 'trace-ctl-'));
    const f = join(dir, 'com2.bin');
    const s = new TraceSession({ serial: f });
    const { console: con } = await bootWith(['-serial', `file:${f}`], s, dir,
      ['trace', 'trace mark before', 'trace off', 'ps', 'trace mark hidden', 'trace sched,user', 'trace mark after begin', 'trace bogus', 'trace on']);
    await s.stop();
    if (/trace: (command )?not found|cannot start|no such/i.test(con) && !/trace: classes/.test(con)) {
      tc.skip('this initrd has no `trace` program');
      return;
    }
    assert.match(con, /trace: classes meta,proc,sched/);
    assert.match(con, /trace: unknown class 'bogus'/);
    const tr = loadTrace(f);
    const marks = tr.events.filter((e) => e.name === 'marker' && !String(e.fields['name']).startsWith('lanes-sync-')).map((e) => e.fields['name']);
    assert.deepEqual(marks, ['before', 'after'], 'markers recorded while the user class is on, none while off');
    const cfg = tr.events.filter((e) => e.name === 'trace_config').map((e) => e.fields['classes']);
    // off, then sched+user (+ meta, always on), then `trace on`: every class trace.toml defines
    const every = Object.values(TRACE_CLASSES).reduce((m, bit) => m | (1 << bit), 0);
    assert.deepEqual(cfg.slice(0, 3), [0, (1 << TRACE_CLASSES['meta']!) | (1 << TRACE_CLASSES['sched']!) | (1 << TRACE_CLASSES['user']!), every]);
    // while tracing was off, the `ps` run left no process events
    const off = tr.events.find((e) => e.name === 'trace_config' && e.fields['classes'] === 0)!;
    const on = tr.events.find((e) => e.name === 'trace_config' && e.fields['classes'] !== 0 && e.tsc > off.tsc)!;
    const during = tr.events.filter((e) => e.tsc > off.tsc && e.tsc < on.tsc && e.cls !== 'meta');
    if (process.env['TRACE_DEBUG']) for (const e of during.slice(0, 12)) console.log(formatEvent(e));
    assert.equal(during.length, 0);
    const all = tr.events.find((e) => e.name === 'trace_config' && e.fields['classes'] === every && e.tsc > on.tsc)!;
    assert.equal(tr.events.filter((e) => e.tsc > on.tsc && e.tsc < all.tsc && e.cls === 'syscall').length, 0, 'syscall class stays off after `trace sched,user`');
    assert.ok(tr.events.some((e) => e.tsc > all.tsc && e.cls === 'syscall'), 'and comes back with `trace on`');
    rmSync(dir, { recursive: true, force: true });
  });

  it('switching tracing off and on is exact across CPUs: no record of a class is stamped while it is off', async (tc) => {
    if (!need(tc)) return;
    const dir = mkdtempSync(join(tmpdir(), 'trace-off-race-'));
    const shm = `/dev/shm/lanes-trace-off-${process.pid}`;
    const s = new TraceSession({ shm, keepEvents: true });
    try {
      // `bench` makes null system calls as fast as it can (each one an enter and an exit record)
      // while the shell switches tracing off and on 40 times: a switch can land anywhere in the
      // other CPU's record, e.g. between entry.S's class test and the record's timestamp — and
      // the switching CPU can be kept off the host's CPUs between storing the mask and stamping
      // its trace_config record
      const flips = Array.from({ length: 10 }, () => 'trace off; trace on').join('; ');
      const { console: con } = await bootWith(qemuTraceArgs({ shm }), s, dir, ['bench 200000 1 &', flips, flips, flips, flips, 'wait']);
      const st = await s.stop();
      assert.match(con, /BENCH-JSON/, 'bench ran to its end');
      const cfg = s.events.filter((e) => e.name === 'trace_config');
      const offs = cfg.filter((e) => e.fields['classes'] === 0);
      const sys = s.events.filter((e) => e.cls === 'syscall');
      // a host kept off the CPU may make the 32 MiB rings drop records; a dropped trace_config
      // (`trace on`, stamped on a CPU whose ring was full) leaves its window's end unknown: the
      // window ends where any CPU began dropping — the last record it kept before its `lost`
      // record's first_seq (the `lost` record itself is written only once there is room again,
      // after records the switch back on let through)
      const kept = new Map<string, number>();
      for (const e of s.events) kept.set(`${e.cpu}:${e.seq}`, e.tsc);
      const drops = s.events.filter((e) => e.name === 'lost')
        .map((e) => ({ from: kept.get(`${e.cpu}:${Number(e.fields['first_seq']) - 1}`) ?? 0, to: e.tsc }));
      let late = 0;
      let sample = '';
      let racing = 0;
      for (const off of offs) {
        const next = cfg.find((e) => e.tsc > off.tsc);
        const dropping = drops.filter((d) => d.to > off.tsc).map((d) => Math.max(d.from, off.tsc));
        const end = Math.min(next?.tsc ?? Infinity, ...dropping);
        const during = sys.filter((e) => e.tsc > off.tsc && e.tsc < end);
        late += during.length;
        if (during.length && !sample) {
          sample = [`off: ${formatEvent(off)}`, `next: ${next ? formatEvent(next) : 'none'} (${st.lost} lost)`,
            ...during.slice(0, 3).map((e) => `${formatEvent(e)} (+${e.tsc - off.tsc} ticks)`)].join('\n');
        }
        // the switch came while the other CPU was recording bench's calls
        if (sys.some((e) => e.cpu !== off.cpu && e.tsc < off.tsc && e.tsc > off.tsc - 2_000_000)) racing++;
      }
      console.log(`# ${offs.length} switches off, ${racing} of them amid the other CPU's system calls; ${sys.length} syscall records, ${st.lost} dropped`);
      assert.ok(offs.length >= (st.lost ? 30 : 40), `40 switches off (${offs.length}, ${st.lost} records lost)`);
      assert.ok(racing >= 3, `switches came while the other CPU was making system calls (${racing})`);
      assert.equal(late, 0, `records stamped while tracing was off:\n${sample}`);
    } finally {
      rmSync(shm, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a panic: its message is the last event over COM2, and the flight recorder reads the rings', async (tc) => {
    if (!need(tc)) return;
    const dir = mkdtempSync(join(tmpdir(), 'trace-panic-'));
    const f = join(dir, 'com2.bin');
    // 1. COM2: panic() flushes the rings to the transport before halting (panic=exit ends QEMU)
    await new Promise<void>((res, rej) => {
      const p = spawn('qemu-system-x86_64', [...qemuBase(2), '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', KERNEL, '-initrd', INITRD,
        '-append', 'trace.crash panic=exit', '-serial', `file:${join(dir, 'com1.txt')}`, '-serial', `file:${f}`], { stdio: 'ignore' });
      const t = setTimeout(() => { p.kill('SIGKILL'); rej(new Error('no panic within 120 s')); }, 120000);
      p.once('exit', () => { clearTimeout(t); res(); });
    });
    assert.match(readFileSync(join(dir, 'com1.txt'), 'latin1'), /KERNEL PANIC: trace\.crash/);
    const t = loadTrace(f);
    const last = t.events.at(-1)!;
    assert.equal(last.name, 'log');
    assert.match(String(last.fields['text']), /deliberate panic/);
    assert.equal(t.stats.corruptFrames, 0);
    // 2. no transport at all: the panicked guest's rings through the gdbstub
    const q = await startQemu({ kernel: KERNEL, initrd: INITRD, smp: 2, memory: '256M', accel: 'tcg', append: 'trace.crash' });
    try {
      const r = await flightAfterPanic(q);
      writeFileSync(join(dir, 'flight.ltrace'), r.file);
      const ft = loadTrace(join(dir, 'flight.ltrace'));
      const fl = ft.events.at(-1)!;
      assert.equal(fl.name, 'log', 'the panic message is the last event in the rings');
      assert.match(String(fl.fields['text']), /deliberate panic/);
      assert.ok(ft.events.some((e) => e.name === 'proc_create' && e.fields['name'] === 'sh'), 'and the boot before it');
    } finally {
      await q.kill();
    }
    // 3. the rings in an ivshmem BAR (no host reading it): the gdbstub reads them there too
    const shm = `/dev/shm/lanes-trace-panic-${process.pid}`;
    const q2 = await startQemu({ kernel: KERNEL, initrd: INITRD, smp: 2, memory: '256M', accel: 'tcg', append: 'trace.crash', args: qemuTraceArgs({ shm }) });
    try {
      const r = await flightAfterPanic(q2);
      assert.match(q2.output(), /rings of \d+ KiB in ivshmem/);
      writeFileSync(join(dir, 'flight-shm.ltrace'), r.file);
      const ft = loadTrace(join(dir, 'flight-shm.ltrace'));
      assert.ok(r.rings.every((x) => x.bad === 0), 'rings walk cleanly');
      assert.match(String(ft.events.at(-1)!.fields['text']), /deliberate panic/, 'the panic message is the last event in the shared rings');
      assert.ok(ft.events.some((e) => e.name === 'proc_create' && e.fields['name'] === 'sh'), 'and the boot before it');
    } finally {
      await q2.kill();
      rmSync(shm, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('flight recorder: the rings read through the gdbstub after stopping the guest', { skip: !existsSync(KERNEL64) && `no ${KERNEL64}` }, async () => {
    const q = await startQemu({ kernel: KERNEL, initrd: INITRD, smp: 2, memory: '256M', accel: 'tcg' });
    try {
      const c = await RspClient.connect(q.endpoint);
      const stopped = c.resume();
      const end = Date.now() + 120000;
      while (!/lanes\$ /.test(q.output())) {
        if (Date.now() > end) throw new Error(`no prompt:\n${q.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 500));
      c.interrupt();
      await stopped;
      const r = await readFlightRecorder(c, new Uint8Array(readFileSync(KERNEL64)));
      c.close();
      const dir = mkdtempSync(join(tmpdir(), 'trace-flight-'));
      writeFileSync(join(dir, 'flight.ltrace'), r.file);
      const t = loadTrace(join(dir, 'flight.ltrace'));
      assert.ok(/no transport/.test(q.output()), 'booted without a transport: flight recorder only');
      assert.equal(t.stats.unknown, 0);
      assert.ok(r.rings.every((x) => x.bad === 0), 'rings walk cleanly');
      const procs = t.events.filter((e) => e.name === 'proc_create').map((e) => e.fields['name']);
      assert.ok(procs.includes('sh'), `the boot's processes are in the rings (${procs.join(', ')})`);
      assert.ok(t.events.some((e) => e.name === 'ctx_switch'));
      assert.ok(Number.isFinite(t.events.at(-1)!.ns), 'timestamps calibrated from tsc_hz/trace_tsc0');
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await q.kill();
    }
  });
});
