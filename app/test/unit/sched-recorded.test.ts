/*
 * The scheduler view on a trace recorded from LaneOS: boot the kernel (TCG, 4 CPUs) with the
 * ivshmem trace transport, run `spin 8 2` (8 busy threads started on CPU 0: placement, idle
 * stealing and the balancer spread them) and `schedtests affinity_api` (a thread pins itself to
 * CPU 0, then to CPU 3: an affinity move), record with debugger's TraceSession, load the recording through
 * the workbench's TraceTable (the trace store's decoder) into the view model and check what the view shows: every migration
 * reason, the balancer's numbers on each balance move (the larger load goes down), rounds with
 * every CPU's load, the spinners running on all four CPUs, and the loads converging to the ideal.
 * The recording is kept as test-results/spin.ltrace (open it in the Scheduler panel).
 */
import assert from 'node:assert/strict';
import { bootGuest, traceSync } from '../../../debugger/test/guest.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { qemuTraceArgs, TraceSession } from '../../../debugger/node/trace/session.js';
import type { TraceEvent } from '../../../debugger/common/trace/records.js';
import { SchedModel, balancedAt, buildView, feedSchedTrace } from '../../../visualizers/sched/model.js';
import { TraceTable } from '../../browser/trace/table.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const KERNEL = path.join(repo, 'os/build/kernel/lanes32.elf');
const INITRD = path.join(repo, 'os/build/initrd.tar');
const missing = !fs.existsSync(KERNEL) || !fs.existsSync(INITRD) ? 'os/ not built (make -C os)' : false;

test('recorded from LaneOS: spin 8 on 4 CPUs spreads, every migration reason with its numbers', { timeout: 900000, skip: missing }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schedview-rec-'));
  const kernel = path.join(dir, 'lanes32.elf');
  const initrd = path.join(dir, 'initrd.tar');
  fs.copyFileSync(KERNEL, kernel); // a private copy: others may rebuild os/build meanwhile
  fs.copyFileSync(INITRD, initrd);
  const shm = `/dev/shm/schedview-${process.pid}`;
  const out = path.join(dir, 'spin.ltrace');
  const session = new TraceSession({ shm, out });
  const g = bootGuest({ kernel, initrd, smp: 4, extra: qemuTraceArgs({ shm }) });
  const marks: TraceEvent[] = [];
  session.on('events', (evs: TraceEvent[]) => { for (const e of evs) if (e.name === 'marker') marks.push(e); });
  try {
    await g.prompt();
    session.start();
    await new Promise((r) => setTimeout(r, 1000));
    await g.run('spin 8 2');
    await g.run('schedtests affinity_api');
    await traceSync(g, () => marks); // the drainer has sent every record made before
  } finally {
    await g.kill();
    await session.stop().catch(() => undefined);
    fs.rmSync(shm, { force: true });
  }
  const results = path.join(repo, 'test-results');
  fs.mkdirSync(results, { recursive: true });
  fs.copyFileSync(out, path.join(results, 'spin.ltrace'));

  const model = new SchedModel();
  const table = new TraceTable();
  table.push(fs.readFileSync(out));
  table.finish();
  feedSchedTrace(model, table.rows());
  assert.equal(model.ncpus, 4);
  assert.match(g.output(), /spin: makespan/);
  const spinPid = [...model.processes].find(([, n]) => n === 'spin')?.[0];
  assert.ok(spinPid, 'the spin process is in the trace');
  // spin's threads but its main one (the first: it sleeps, polling /sys every 20 ms)
  const all = [...model.threads.values()].filter((t) => t.pid === spinPid).sort((a, b) => a.tid - b.tid);
  const spinners = all.slice(1).filter((t) => t.cpuNs > 0);
  assert.equal(spinners.length, 8, `8 spinner threads ran (saw ${spinners.length})`);
  const byReason = new Map<string, number>();
  for (const m of model.migrations) byReason.set(m.reason, (byReason.get(m.reason) ?? 0) + 1);
  for (const r of ['balance', 'steal', 'placement', 'affinity']) assert.ok((byReason.get(r) ?? 0) > 0, `a ${r} migration (saw ${JSON.stringify([...byReason])})`);
  // schedtests' own pin (trace sync's pins are affinity moves too, of the trace program's thread)
  const testsPid = [...model.processes].find(([, n]) => n === 'schedtests')?.[0];
  const pinned = model.migrations.filter((m) => m.reason === 'affinity' && model.threads.get(m.tid)?.pid === testsPid);
  assert.ok(testsPid && pinned.some((m) => m.to === 3), `schedtests' pin to CPU 3 is an affinity move (saw ${pinned.map((m) => model.describe(m)).join('; ') || 'none'})`);
  const spinTids = new Set(spinners.map((t) => t.tid));
  const balance = model.migrations.filter((m) => m.reason === 'balance');
  for (const m of balance) {
    assert.ok(m.threadLoad > 0 && m.ideal > 0 && m.round > 0, `balance move with numbers: ${model.describe(m)}`);
    assert.ok(Math.max(m.loadFrom - m.threadLoad, m.loadTo + m.threadLoad) < m.loadFrom, `the larger load goes down: ${model.describe(m)}`);
  }
  assert.ok(balance.some((m) => spinTids.has(m.tid)), 'the balancer moved a spinner');
  // every CPU ran spinners
  const cpusUsed = new Set<number>();
  model.tracks.forEach((tr, cpu) => tr.tid.forEach((tid) => spinTids.has(tid) && cpusUsed.add(cpu)));
  assert.equal(cpusUsed.size, 4, `spinners ran on every CPU (${[...cpusUsed]})`);
  // rounds carry every CPU; the loads converge to the ideal while spin runs
  assert.ok(model.rounds.length >= 10);
  assert.ok(model.rounds.every((r) => r.before.length === 4));
  // where each spinner ran most from spin's 1.2 s mark to its 1.9 s mark: two per CPU. (Not "every
  // CPU within 10 % of the ideal": cpu0 also carries the pinned kernel threads — the trace
  // drainer is busy while recording — and 1024-sized spinners cannot even that out. The window is
  // 700 ms: under TCG a vCPU is a host thread, and on a loaded host one ran so little in 300 ms
  // that one of its two spinners got no slice there: [2, 1, 2, 2].)
  const start = Math.min(...model.migrations.filter((m) => spinTids.has(m.tid) && m.reason === 'placement').map((m) => m.ns));
  const w0 = start + 1.2e9, w1 = start + 1.9e9;
  const home = new Map<number, number>();
  for (const tid of spinTids) {
    const per = [0, 0, 0, 0];
    model.tracks.forEach((tr, cpu) => {
      for (let i = 0; i < tr.tid.length; i++)
        if (tr.tid[i] === tid && tr.end[i]! > w0 && tr.start[i]! < w1) per[cpu]! += Math.min(w1, tr.end[i]!) - Math.max(w0, tr.start[i]!);
    });
    if (Math.max(...per) > 0) home.set(tid, per.indexOf(Math.max(...per)));
  }
  const perCpu = [0, 0, 0, 0];
  for (const c of home.values()) perCpu[c]!++;
  assert.deepEqual(perCpu, [2, 2, 2, 2], 'spinners per CPU 1.2-1.9 s into spin');
  const lastMove = Math.max(...balance.filter((m) => spinTids.has(m.tid)).map((m) => m.ns).filter((ns) => ns < w0));
  const at = balancedAt(model, start, 0.25);
  // the view draws it: slices on 4 rows, arrows at the moves
  const v = buildView(model, { t0: model.t0, t1: model.t1, width: 1200 });
  assert.equal(v.rows.length, 4);
  assert.ok(v.arrows.some((a) => a.reason === 'balance'));
  console.log(`# spin 8 on 4 CPUs: last balance move of a spinner ${((lastMove - start) / 1e6).toFixed(0)} ms after the first was placed; every CPU within 25 % of the ideal from ${at > 0 ? ((at - start) / 1e6).toFixed(0) + ' ms' : 'never'}; migrations ${JSON.stringify([...byReason])}`);
  fs.rmSync(dir, { recursive: true, force: true });
});
