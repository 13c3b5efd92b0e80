/*
 * Benchmark (not a timed test): the IPC lanes view on a 1M-event trace.
 *   node --import tsx visualizers/bench/ipc-view.bench.ts [--events N]
 * Prints: time to open (model build from events, first frame), median / p95 / worst frame time
 * while panning at three zoom levels (in Chromium, compute + paint), memory; and, measured in the
 * same run as baselines, the same figures for a 10k-event trace (ratios = how it scales) and the
 * cost of just producing the events (the simulator alone).
 */
import { IpcModel } from '../ipc/model.js';
import { IpcSim, demoScenario, demoDecoder } from '../ipc/sim.js';
import { LodCache, computeFrame, defaultState, layout, newFrame } from '../ipc/frame.js';
import { launch, openPage, pan } from '../test/browser.js';

const arg = process.argv.indexOf('--events');
const EVENTS = arg > 0 ? Number(process.argv[arg + 1]) : 1_000_000;
const rounds = Math.ceil((EVENTS - 8) / 55);

function nodeOpen(r: number): { genMs: number; totalMs: number; model: IpcModel } {
  let t = performance.now();
  demoScenario(new IpcSim(() => undefined), r);
  const genMs = performance.now() - t;
  t = performance.now();
  const model = new IpcModel({ decoder: demoDecoder });
  demoScenario(new IpcSim((e) => model.add(e)), r);
  model.changed();
  return { genMs, totalMs: performance.now() - t, model };
}

function nodeFrames(model: IpcModel, frac: number, n = 60): { median: number; worst: number } {
  const st = defaultState();
  const lay = layout(model, st);
  const fr = newFrame();
  const lod = new LodCache();
  const total = model.lastNs - model.firstNs;
  const span = total * frac;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = model.firstNs + ((total - span) * i) / n;
    const t = performance.now();
    computeFrame(model, lay, st, { t0, t1: t0 + span, width: 1200, x0: 150 }, fr, { lod });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1]!, worst: times[times.length - 1]! };
}

const f = (x: number, d = 1) => x.toFixed(d);
console.log(`IPC lanes view benchmark — ${EVENTS.toLocaleString()} events (${rounds} ipc-demo rounds), baseline 10,000 events`);
const small = nodeOpen(182);
const big = nodeOpen(rounds);
const modelMs = Math.max(0, big.totalMs - big.genMs);
console.log(`node  open: events+model ${f(big.totalMs, 0)} ms, of which producing the events ${f(big.genMs, 0)} ms → model ${f(modelMs, 0)} ms (${f((modelMs / EVENTS) * 1e6, 0)} ns/event; ${f(EVENTS / (modelMs / 1000) / 1e6, 2)} M events/s)`);
console.log(`node  model: ${big.model.msgCount.toLocaleString()} messages, ${big.model.opCount.toLocaleString()} ops, ${big.model.convs.length.toLocaleString()} conversations, columns ${f(big.model.memoryBytes() / 1048576)} MiB (${f(big.model.memoryBytes() / EVENTS, 0)} B/event)`);
for (const [name, frac] of [['whole', 1], ['1%', 0.01], ['0.01%', 0.0001]] as const) {
  const a = nodeFrames(big.model, frac);
  const b = nodeFrames(small.model, frac);
  console.log(`node  frame compute, ${name} window: median ${f(a.median, 2)} ms, worst ${f(a.worst, 2)} ms  (10k: ${f(b.median, 2)} ms; ratio ${f(a.median / Math.max(0.01, b.median), 1)}×)`);
}
const browser = await launch();
try {
  for (const [label, r] of [['10k', 182], [`${EVENTS / 1e6}M`, rounds]] as const) {
    const page = await openPage(browser, `rounds=${r}`);
    const info = (await page.evaluate('({ open: window.__ipc.openMs, first: window.__ipc.firstFrameMs, heap: performance.memory ? performance.memory.usedJSHeapSize : 0 })')) as { open: number; first: number; heap: number };
    console.log(`chromium ${label}: open ${f(info.open, 0)} ms (events produced in the page + model + first frame ${f(info.first, 1)} ms), JS heap ${f(info.heap / 1048576, 0)} MiB`);
    for (const [name, frac] of [['whole', 1], ['1%', 0.01], ['0.01%', 0.0001]] as const) {
      const p = await pan(page, 120, frac);
      console.log(`chromium ${label} pan ${name}: frame median ${f(p.median, 2)} ms, p95 ${f(p.p95, 2)} ms, worst ${f(p.worst, 2)} ms; rAF interval median ${f(p.rafMedian)} ms, worst ${f(p.rafWorst)} ms`);
    }
    await page.close();
  }
} finally {
  await browser.close();
}
