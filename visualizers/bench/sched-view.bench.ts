/*
 * Benchmark (not a timed test): the scheduler view on a 1M-event scheduling trace, in Chromium.
 *   node --import tsx visualizers/bench/sched-view.bench.ts [--events N]
 * Prints: the open time (the page builds the model from N events — bigScenario in
 * test/sched-fixture.ts: 4 CPUs, 16 threads, a switch every 250 µs, a balance round every 100 ms —
 * then the first frame), median / p95 / worst frame times (compute + paint) while panning at three
 * zoom levels and while zooming in and out, and the JS heap. Baseline, measured in the same run
 * and browser: the IPC lanes view on a trace of the same size (test/page: the ipc-demo scenario),
 * the same figures, and the ratios scheduler / IPC (how the two views compare on this machine).
 */
import { launch, openPage, openSchedPage, pan, type PanResult } from '../test/browser.js';

const arg = process.argv.indexOf('--events');
const EVENTS = arg > 0 ? Number(process.argv[arg + 1]) : 1_000_000;
const f = (x: number, d = 1) => x.toFixed(d);

interface Figures {
  events: number;
  openMs: number;
  buildMs: number;
  firstFrameMs: number;
  heapMiB: number;
  frames: Record<string, PanResult>;
}

const CASES = [['pan whole', 1, false], ['pan 1%', 0.01, false], ['pan 0.01%', 0.0001, false], ['zoom 1 ↔ 0.01%', 0.0001, true]] as const;

async function measure(open: () => Promise<import('playwright-core').Page>, key: '__sched' | '__ipc'): Promise<Figures> {
  const page = await open();
  const info = (await page.evaluate(`({ events: window.${key}.events, open: window.${key}.openMs, build: window.${key}.buildMs, first: window.${key}.firstFrameMs, heap: performance.memory ? performance.memory.usedJSHeapSize : 0 })`)) as { events: number; open: number; build: number; first: number; heap: number };
  const frames: Record<string, PanResult> = {};
  for (const [name, frac, zoom] of CASES) frames[name] = await pan(page, 120, frac, zoom);
  await page.close();
  return { events: info.events, openMs: info.open, buildMs: info.build, firstFrameMs: info.first, heapMiB: info.heap / 1048576, frames };
}

console.log(`Scheduler view benchmark — ${EVENTS.toLocaleString()} scheduling events; baseline: the IPC lanes view on a trace of the same size, same browser, same run`);
const browser = await launch();
try {
  const sched = await measure(() => openSchedPage(browser, `events=${EVENTS}`), '__sched');
  const ipc = await measure(() => openPage(browser, `rounds=${Math.ceil((EVENTS - 8) / 55)}`), '__ipc');
  for (const [name, x] of [['scheduler', sched], ['IPC (baseline)', ipc]] as const)
    console.log(`${name}: ${x.events.toLocaleString()} events, open ${f(x.openMs, 0)} ms (model ${f(x.buildMs, 0)} ms incl. producing the events, first frame ${f(x.firstFrameMs, 1)} ms), JS heap ${f(x.heapMiB, 0)} MiB`);
  console.log(`open ratio scheduler / IPC: ${f(sched.openMs / ipc.openMs, 2)}×; first frame ${f(sched.firstFrameMs / Math.max(0.01, ipc.firstFrameMs), 2)}×`);
  for (const [name] of CASES) {
    const a = sched.frames[name]!;
    const b = ipc.frames[name]!;
    console.log(`${name}: scheduler frame median ${f(a.median, 2)} ms, p95 ${f(a.p95, 2)} ms, worst ${f(a.worst, 2)} ms (rAF median ${f(a.rafMedian)} ms) · IPC median ${f(b.median, 2)} ms, p95 ${f(b.p95, 2)} ms · ratio ${f(a.median / Math.max(0.01, b.median), 2)}×`);
  }
  console.log('BENCH-JSON ' + JSON.stringify({ events: EVENTS, sched, ipc }));
} finally {
  await browser.close();
}
