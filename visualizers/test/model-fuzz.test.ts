/*
 * The IPC model against hostile traces: a match that names an ancestor conversation as its child
 * (once an endless parent walk: two matches were enough), and a seeded, bounded fuzz of random
 * submits / matches / completions / cancels over a few streams, with every query and the frame
 * computation run after each batch. Longer runs by hand:
 *   LANESCOPE_FUZZ=<multiplier> LANESCOPE_FUZZ_SEED=<n> node --import tsx --test visualizers/test/model-fuzz.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IpcModel } from '../ipc/model.js';
import { computeFrame, convMask, defaultState, foldMap, hitTest, layout } from '../ipc/frame.js';
import { IpcAction as A, type Id, type IpcEvent } from '../ipc/events.js';

const SCALE = Math.max(1, Number(process.env['LANESCOPE_FUZZ'] ?? 1) || 1);
const SEED = Number(process.env['LANESCOPE_FUZZ_SEED'] ?? 0x1bc0021) >>> 0;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const submit = (id: Id, stream: Id, ns: number, actions: number[] = [A.Offer], pid = 1, lane = 0): IpcEvent => ({
  kind: 'submit', id, ns, cpu: 0, stream, conversation: 0, tag: 1, bytes: 0, actions, pid, tid: pid * 10, lane, nactions: actions.length, retAddr: 0,
} as IpcEvent);
const match = (id: Id, stream: Id, child: Id, cause: Id, other: Id, ns: number): IpcEvent => ({
  kind: 'match', id, ns, cpu: 0, stream, conversation: 0, cause, other, childStream: child, result: 0,
});

/** Every query a view makes, over every message and conversation. */
function queryAll(model: IpcModel): void {
  for (let c = 0; c < model.convs.length; c++) {
    model.subtreeMask(c);
    model.ancestors(c);
    model.inSubtree(c, 0);
  }
  for (let m = 0; m < model.msgCount; m++) {
    model.stepConversation(m, 1);
    model.stepConversation(m, -1);
    model.stepLane(m, 1);
    model.msgLabel(m);
    model.messageDetail(m);
  }
  for (let op = 0; op < model.opCount; op++) {
    model.opDetail(op);
    model.cancelText(op);
  }
  model.search('offer');
  const st = defaultState();
  for (let c = 0; c < model.convs.length; c += 2) st.collapsed.add(c);
  foldMap(model, st.collapsed);
  if (model.convs.length) {
    st.filter.conversation = 0;
    convMask(model, st.filter);
  }
  const lay = layout(model, st);
  const t0 = Number.isFinite(model.firstNs) ? model.firstNs : 0;
  const t1 = Number.isFinite(model.lastNs) && model.lastNs > t0 ? model.lastNs : t0 + 1;
  const vp = { t0, t1, width: 800, x0: 100 };
  computeFrame(model, lay, st, vp);
  hitTest(model, lay, st, vp, 400, 20);
}

test('the cycle reproducer finishes (in a child process, so a regression fails instead of hanging the suite)', () => {
  const model = fileURLToPath(new URL('../ipc/model.ts', import.meta.url));
  const script = `
    const { IpcModel } = await import(${JSON.stringify(model)});
    const m = new IpcModel();
    const sub = { kind: 'submit', id: 1, ns: 1, cpu: 0, stream: 100, conversation: 0, tag: 1, bytes: 0, actions: [1], pid: 1, tid: 10, lane: 0, nactions: 1, retAddr: 0 };
    const match = (id, stream, child) => ({ kind: 'match', id, ns: id, cpu: 0, stream, conversation: 0, cause: 1, other: 1, childStream: child, result: 0 });
    m.add(sub); m.add(match(2, 200, 100)); m.add(match(3, 100, 200));
    console.log('done', m.msgCount);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(r.signal, null, `the model did not finish in 20 s (${r.signal}): an endless parent walk`);
  assert.match(r.stdout, /done 2/, r.stderr);
});

test('a match naming an ancestor conversation as its child is refused (no cycle, no endless parent walk)', () => {
  const model = new IpcModel();
  model.add(submit(1, 100, 1));
  model.add(match(2, 200, 100, 1, 1, 2)); // on stream 200: opens 100 → 100 nested in 200
  model.add(match(3, 100, 200, 1, 1, 3)); // on stream 100: "opens" 200, its own parent → a cycle
  model.add(match(4, 300, 300, 1, 1, 4)); // a stream opening itself
  const c100 = model.convOfStream(100);
  const c200 = model.convOfStream(200);
  assert.equal(model.convs[c100]!.parent, c200);
  assert.equal(model.convs[c200]!.parent, -1, 'the cycle-making nesting was refused');
  assert.deepEqual(model.convs[c100]!.children, []);
  assert.equal(model.cycles, 2);
  assert.equal(model.msgCount, 3, 'the messages are still drawn');
  assert.equal(model.convs[c200]!.subMessages, 2);
  queryAll(model);
});

test('fuzz: random IPC traces over a few streams never hang or throw, nesting stays a forest (seeded)', { timeout: 120_000 }, () => {
  const r = mulberry32(SEED);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const streams: Id[] = [0, 1, 2, 3, 4, 5, 2n ** 60n, 7];
  const t0 = Date.now();
  const iters = 600 * SCALE;
  let nested = 0;
  let refused = 0;
  for (let it = 0; it < iters; it++) {
    const model = new IpcModel();
    const ids: Id[] = [];
    let ns = 0;
    const n = 5 + Math.floor(r() * 60);
    for (let k = 0; k < n; k++) {
      ns += r() < 0.1 ? -5 : Math.floor(r() * 100); // sometimes out of order
      const x = r();
      const id: Id = r() < 0.05 && ids.length ? pick(ids) : r() < 0.1 ? BigInt(k) << 50n : k + 1;
      const anyId = () => (ids.length && r() < 0.85 ? pick(ids) : Math.floor(r() * 1000));
      let e: IpcEvent;
      if (x < 0.35) {
        e = submit(id, pick(streams), ns, Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 16)), 1 + Math.floor(r() * 4), r() < 0.5 ? 0 : 1);
        ids.push(id);
      } else if (x < 0.75) e = match(id, pick(streams), r() < 0.6 ? pick(streams) : 0, anyId(), anyId(), r() < 0.02 ? NaN : ns);
      else if (x < 0.85) e = { kind: 'complete', id, ns, cpu: 0, stream: pick(streams), tag: 1, cause: anyId(), result: pick([0, -1, -64, -65, -66, 5]), bytes: 8, pid: 1, tid: 10 };
      else if (x < 0.93) e = { kind: 'cancel', id, ns, cpu: 0, stream: pick(streams), tag: 1, target: anyId(), cause: anyId(), pid: 2, tid: 20 };
      else if (x < 0.97) e = { kind: 'process', ns, pid: 1 + Math.floor(r() * 4), parent: Math.floor(r() * 4), name: 'p' };
      else e = { kind: 'thread', ns, tid: 10 + Math.floor(r() * 4), pid: 1 + Math.floor(r() * 4), name: 't' };
      assert.doesNotThrow(() => model.add(e), `iteration ${it} (seed ${SEED}) event ${k}`);
    }
    // the nesting is a forest: every parent walk ends at a root within convs.length steps
    for (let c = 0; c < model.convs.length; c++) {
      let k = model.convs[c]!.parent;
      let steps = 0;
      while (k >= 0 && steps <= model.convs.length) { k = model.convs[k]!.parent; steps++; }
      assert.equal(k, -1, `iteration ${it} (seed ${SEED}): conversation ${c} is on a cycle`);
      if (model.convs[c]!.parent >= 0) nested++;
    }
    refused += model.cycles;
    assert.doesNotThrow(() => queryAll(model), `iteration ${it} (seed ${SEED}): queries`);
  }
  assert.ok(nested > 0 && refused > 0, `nested ${nested}, refused ${refused}: the fuzz must exercise both`);
  assert.ok(Date.now() - t0 < 100_000);
});
