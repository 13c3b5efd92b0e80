/*
 * Frame computation (what the canvas draws): rows, arrows vs level-of-detail columns, pending
 * spans with open ends, cancel / end-of-lane / error marks, folding collapsed conversations,
 * filters and hit testing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpcModel, OpEnd } from '../ipc/model.js';
import { IpcSim, demoScenario, demoDecoder, DEMO } from '../ipc/sim.js';
import { computeFrame, defaultState, hitTest, layout, ARROW, MARK, FOLD, COLUMN, SPAN, AF, type Viewport } from '../ipc/frame.js';
import { IpcAction as A } from '../ipc/events.js';

function demo(n: number) {
  const model = new IpcModel({ decoder: demoDecoder });
  const sim = new IpcSim((e) => model.add(e));
  const { first } = demoScenario(sim, n);
  return { model, first, sim };
}

const full = (m: IpcModel, width = 1000): Viewport => ({ t0: m.firstNs, t1: m.lastNs, width, x0: 100 });

test('rows: one lifeline per IPC process; threads as sub-rows when expanded', () => {
  const { model } = demo(1);
  const st = defaultState();
  let lay = layout(model, st);
  assert.deepEqual(lay.rows.map((r) => r.label), ['ipc-demo [10]', 'demo-a [11]', 'demo-b [12]']);
  st.expanded.add(DEMO.serverB);
  lay = layout(model, st);
  assert.deepEqual(lay.rows.map((r) => r.label), ['ipc-demo [10]', 'demo-a [11]', 'demo-b [12]', 'main [120]', 'worker [121]']);
  st.filter.pids = new Set([DEMO.client, DEMO.serverA]);
  assert.equal(layout(model, st).rows.length, 2);
});

test('a few messages: one arrow each, from source row to destination row, selected/highlighted flagged', () => {
  const { model, first } = demo(1);
  const st = defaultState();
  const req = model.opMsg[model.opOfId(first['request']!)]!;
  st.selected = req;
  st.highlight = new Set([req, ...model.search('posix')]);
  const lay = layout(model, st);
  const fr = computeFrame(model, lay, st, full(model));
  assert.equal(fr.detailed, true);
  assert.equal(fr.arrows.n, 10);
  const i = [...Array(fr.arrows.n).keys()].find((k) => fr.arrows.get(ARROW.msg, k) === req)!;
  assert.equal(fr.arrows.get(ARROW.y1, i), lay.rows[0]!.y, 'from the client');
  assert.equal(fr.arrows.get(ARROW.y2, i), lay.rows[1]!.y, 'to demo-a');
  assert.ok(fr.arrows.get(ARROW.flags, i) & AF.Selected);
  assert.ok(fr.arrows.get(ARROW.flags, i) & AF.Highlight);
  const marks = [...Array(fr.marks.n).keys()].map((k) => fr.marks.get(MARK.kind, k)).sort();
  assert.deepEqual(marks, [OpEnd.Error, OpEnd.Error, OpEnd.Cancelled, OpEnd.EndOfLane].sort());
  // hit test finds the arrow under the pointer
  const x = fr.arrows.get(ARROW.x, i);
  assert.equal(hitTest(model, lay, st, full(model), x + 2, (lay.rows[0]!.y + lay.rows[1]!.y) / 2), req);
  assert.equal(hitTest(model, lay, st, full(model), x + 40, lay.rows[2]!.y + 200), -1);
});

test('pending operations are spans with an open end at the latest time', () => {
  const model = new IpcModel();
  const sim = new IpcSim((e) => model.add(e));
  sim.process(5, 'srv');
  sim.process(6, 'cli');
  const s = sim.stream();
  sim.submit(5, 50, s, 1, [A.Accept]); // waits forever
  sim.wait(1_000_000);
  sim.process(7, 'other');
  const st = defaultState();
  const lay = layout(model, st);
  const fr = computeFrame(model, lay, st, full(model));
  assert.equal(fr.spans.n, 1);
  assert.equal(fr.spans.get(SPAN.open, 0), 1);
  assert.equal(Math.round(fr.spans.get(SPAN.x1, 0)), 1100, 'reaches the right edge (now)');
  assert.equal(fr.marks.get(MARK.kind, 0), OpEnd.Pending);
});

test('many messages: level of detail aggregates per pixel column, every message counted once', () => {
  const { model } = demo(400);
  const st = defaultState();
  const lay = layout(model, st);
  const fr = computeFrame(model, lay, st, full(model, 800));
  assert.equal(fr.detailed, false);
  assert.equal(fr.arrows.n, 0);
  assert.ok(fr.columns.n > 100 && fr.columns.n <= 800);
  let total = 0;
  for (let i = 0; i < fr.columns.n; i++) total += fr.columns.get(COLUMN.count, i);
  assert.equal(total, model.msgCount);
  // spans are merged per row at pixel resolution: bounded by rows × width
  assert.ok(fr.spans.n <= lay.rows.length * 800);
  // zoomed in on one round: detailed again
  const m = 10 * 200;
  const zoom: Viewport = { t0: model.msgNs[m]! - 1, t1: model.msgNs[m + 9]! + 1, width: 800, x0: 100 };
  const fz = computeFrame(model, lay, st, zoom);
  assert.equal(fz.detailed, true);
  assert.equal(fz.arrows.n, 10);
});

test('filters: by conversation (with nesting), by lane, by process; collapsing folds nested conversations', () => {
  const { model, first } = demo(1);
  const st = defaultState();
  const lay = layout(model, st);
  const fwd = model.opMsg[model.opOfId(first['forward']!)]!;
  const conv2 = model.msgChild[fwd]!;
  st.filter.conversation = conv2;
  let fr = computeFrame(model, lay, st, full(model));
  assert.equal(fr.arrows.n, 6, 'the opening offer, the forward, the nested offer, push and credentials (conv 3), the reply');
  st.filter = { lane: conv2 };
  fr = computeFrame(model, lay, st, full(model));
  assert.equal(fr.arrows.n, 4, 'the stream alone: its opening offer, the forward, the nested offer, the reply');
  st.filter = {};
  st.collapsed.add(conv2);
  fr = computeFrame(model, lay, st, full(model));
  assert.equal(fr.folds.n, 1);
  assert.equal(fr.folds.get(FOLD.count, 0), 2, 'conv 3\'s push and credentials are folded into conv 2');
  assert.equal(fr.arrows.n, 8);
  st.collapsed.clear();
  const lay2 = layout(model, { ...st, filter: { pids: new Set([DEMO.client]) } });
  fr = computeFrame(model, lay2, { ...st, filter: { pids: new Set([DEMO.client]) } }, full(model));
  assert.equal(fr.arrows.n, 4, 'only messages touching the client');
});

test('level-of-detail pyramid: same totals as the direct pass, built once per zoom level and reused while panning', async () => {
  const { LodCache } = await import('../ipc/frame.js');
  const { model, sim } = demo(2000);
  const st = defaultState();
  const lay = layout(model, st);
  const lod = new LodCache();
  const vp = full(model, 900);
  const direct = computeFrame(model, lay, st, vp);
  const cached = computeFrame(model, lay, st, vp, undefined, { lod });
  assert.equal(cached.detailed, false);
  const sum = (f: typeof direct) => {
    let t = 0;
    for (let i = 0; i < f.columns.n; i++) t += f.columns.get(COLUMN.count, i);
    return t;
  };
  assert.equal(sum(cached), model.msgCount);
  assert.equal(sum(direct), model.msgCount);
  // the same kinds of end marks
  const kinds = (f: typeof direct) => new Set([...Array(f.marks.n).keys()].map((i) => f.marks.get(MARK.kind, i)));
  assert.deepEqual([...kinds(cached)].sort(), [...kinds(direct)].sort());
  // spans cover the same rows
  const rowsOf = (f: typeof direct) => new Set([...Array(f.spans.n).keys()].map((i) => f.spans.get(SPAN.y, i)));
  assert.deepEqual([...rowsOf(cached)].sort(), [...rowsOf(direct)].sort());
  // panning at the same zoom reuses the level
  const span = (vp.t1 - vp.t0) / 4;
  for (let i = 0; i < 20; i++) {
    const t0 = model.firstNs + (i * span) / 10;
    computeFrame(model, lay, st, { ...vp, t0, t1: t0 + span }, undefined, { lod });
  }
  assert.ok(lod.builds <= 3, `levels built: ${lod.builds}`);
  // a new message invalidates it
  const before = lod.builds;
  sim.submit(DEMO.client, 100, 0x1000, 0, [A.Send]);
  model.changed();
  computeFrame(model, lay, st, vp, undefined, { lod });
  assert.equal(lod.builds, before + 1);
});
