/*
 * The scheduler view's model (visualizers/sched/model.ts) on a synthetic trace shaped like the
 * kernel's (os/abi/trace.toml): 4 spinners started on CPU 0 of 2, one stolen, one moved by the
 * balancer; slices per CPU, load lines with the ideal, migrations with their reasons and numbers,
 * the per-thread table, the reason filter, thread mode, and a million-event trace drawn in
 * bounded work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedModel, buildView, hitArrow, hitSlice, balancedAt, type TraceRecordLike } from '../sched/model.js';
import { MS, scenario } from './sched-fixture.js';

function ev(name: string, ns: number, cpu: number, fields: Record<string, unknown>): TraceRecordLike {
  return { name, ns, cpu, fields };
}

function build(): SchedModel {
  const m = new SchedModel();
  const used = m.addAll(scenario());
  assert.equal(used, scenario().length - 1, 'every scheduling event used, the IPC one skipped');
  return m;
}

test('run slices per CPU: what ran between two switches, idle left out', () => {
  const m = build();
  assert.equal(m.ncpus, 2);
  const t0 = m.tracks[0]!;
  assert.deepEqual(t0.tid, [11, 13, 14, 11]);
  assert.deepEqual(t0.start.map((x) => x / MS), [2, 12, 22, 101]);
  assert.deepEqual(t0.end.map((x) => x / MS), [12, 22, 101, 200]);
  assert.deepEqual(m.tracks[1]!.tid, [12], 'the open slice of 13 on cpu1 is not closed yet');
  assert.equal(m.cpuAt(13, 150 * MS), 1, 'thread 13 runs on cpu1 after its move (open slice)');
  assert.equal(m.cpuAt(13, 15 * MS), 0);
  assert.equal(m.cpuAt(12, 50 * MS), 1);
  assert.equal(m.cpuAt(99, 50 * MS), -1);
});

test('migrations keep their reason and the balancer numbers; placement is not counted as a move', () => {
  const m = build();
  const reasons = m.migrations.map((x) => x.reason);
  assert.deepEqual(reasons, ['placement', 'placement', 'placement', 'placement', 'steal', 'balance']);
  const b = m.migrations[5]!;
  assert.deepEqual([b.from, b.to, b.loadFrom, b.loadTo, b.threadLoad, b.ideal, b.round], [0, 1, 3072, 1024, 1024, 2048, 1]);
  assert.equal(m.describe(b), 'spin 13: cpu0 → cpu1, balance (round 1, ideal 2048): cpu0 3072 → 2048, cpu1 1024 → 2048, thread load 1024 (1024 = always runnable)');
  assert.match(m.describe(m.migrations[4]!), /cpu1 was idle and took it from cpu0's queue/);
  const t13 = m.threads.get(13)!;
  assert.equal(t13.migrations, 1);
  assert.equal(t13.load, 1024);
  assert.equal(m.threads.get(12)!.migrations, 1);
  assert.equal(m.threads.get(14)!.migrations, 0);
});

test('rounds: ideal and each CPU before/after; balanced from round 2', () => {
  const m = build();
  assert.equal(m.rounds.length, 2);
  assert.deepEqual(m.rounds[0]!.before, [3072, 1024]);
  assert.deepEqual(m.rounds[0]!.after, [2048, 2048]);
  assert.equal(m.roundAt(150 * MS)?.round, 1);
  assert.equal(balancedAt(m, 0), 200 * MS, 'every CPU within 10 % of the ideal first at round 2');
});

test('the per-thread table: CPU time, busiest first', () => {
  const m = build();
  const rows = m.threadTable();
  assert.deepEqual(rows.map((r) => r.tid), [11, 12, 14, 13]);
  assert.equal(rows[0]!.cpuNs, (10 + 99) * MS);
});

test('view: slices as boxes with labels when wide, load lines, ideal, arrows at the move', () => {
  const m = build();
  const v = buildView(m, { t0: 0, t1: 200 * MS, width: 1000 }, { labelPx: 60 });
  assert.equal(v.rows.length, 2);
  const r0 = v.rows[0]!;
  assert.deepEqual(r0.slices.map((s) => s.tid), [11, 13, 14, 11]);
  assert.equal(r0.slices[2]!.label, 'spin 14', 'a 395-pixel slice is labelled');
  assert.equal(r0.slices[0]!.label, '', 'a 50-pixel slice is not labelled with labelPx 60');
  const r1 = v.rows[1]!;
  assert.deepEqual(r1.slices.map((s) => s.tid), [12, 13], 'the open slice runs to the end of the trace');
  assert.deepEqual(r0.load.map((p) => p.v), [3072, 2048]);
  assert.deepEqual(v.ideal.map((p) => p.v), [2048, 2048]);
  assert.equal(v.maxLoad, 3072);
  const bal = v.arrows.find((a) => a.reason === 'balance')!;
  assert.equal(bal.x, 505);
  assert.equal(v.arrows.length, 2, 'placements on the same CPU are not arrows');
  assert.equal(hitArrow(v, 506, 30, 20), 5, 'hovering the balance arrow between the rows');
  assert.equal(hitArrow(v, 300, 30, 20), -1);
  assert.equal(hitSlice(v, 0, 300)?.tid, 14);
});

test('filter by reason and thread mode', () => {
  const m = build();
  const v = buildView(m, { t0: 0, t1: 200 * MS, width: 1000 }, { reasons: new Set(['steal']) });
  assert.deepEqual(v.arrows.map((a) => a.reason), ['steal']);
  const f = buildView(m, { t0: 0, t1: 200 * MS, width: 1000 }, { follow: 13 });
  assert.deepEqual(f.rows[0]!.slices.map((s) => s.dim), [true, false, true, true]);
  assert.deepEqual(f.arrows.map((a) => a.dim), [true, false]);
});

test('a million scheduling events: the model takes them and a window is drawn in a few boxes per pixel', () => {
  const m = new SchedModel();
  m.add(ev('trace_header', 0, 0, { ncpus: 4 }));
  const N = 1_000_000;
  const t = Date.now();
  const e = { name: 'ctx_switch', ns: 0, cpu: 0, fields: { prev_tid: 0, prev_pid: 1, next_tid: 0, next_pid: 1, reason: 0 } as Record<string, number> };
  for (let i = 0; i < N; i++) {
    e.ns = i * 10_000;
    e.cpu = i & 3;
    e.fields['next_tid'] = 100 + (i % 7);
    m.add(e);
  }
  const ingest = Date.now() - t;
  assert.equal(m.tracks.reduce((s, tr) => s + tr.start.length, 0), N - 4);
  const t2 = Date.now();
  const v = buildView(m, { t0: 0, t1: N * 10_000, width: 1200 });
  const frame = Date.now() - t2;
  for (const r of v.rows) assert.ok(r.slices.length <= 2 * 1200, `cpu${r.cpu}: ${r.slices.length} boxes for 1200 pixels`);
  assert.ok(ingest < 20_000 && frame < 5_000, `ingest ${ingest} ms, frame ${frame} ms`);
  // zoomed in, every slice is its own box
  const z = buildView(m, { t0: 0, t1: 400 * 10_000, width: 1200 });
  assert.ok(z.rows[0]!.slices.length >= 99 && z.rows[0]!.slices.every((s) => s.tid >= 100));
  assert.ok(v.rows[0]!.slices.every((s) => s.tid >= 100 && s.tid < 107), 'a pixel of many slices shows one of its threads');
});

test('a wake-affine move (reason 4, "wake") is kept and described as a pull onto the waker\'s CPU', () => {
  const m = build();
  m.add(ev('migrate', 150 * MS, 1, { tid: 12, from_cpu: 1, to_cpu: 0, reason: 4, load_from: 0, load_to: 0, thread_load: 0, ideal: 0, round: 0 }));
  const w = m.migrations.at(-1)!;
  assert.equal(w.reason, 'wake');
  assert.deepEqual([w.from, w.to], [1, 0]);
  assert.match(m.describe(w), /cpu1 → cpu0, wake: woken by a thread on cpu0 that waits next/);
  const v = buildView(m, { t0: 0, t1: 200 * MS, width: 1000 }, { reasons: new Set(['wake']) });
  assert.deepEqual(v.arrows.map((a) => a.reason), ['wake']);
});
