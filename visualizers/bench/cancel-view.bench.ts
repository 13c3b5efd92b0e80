/*
 * Benchmark (not a timed test): the Cancellations view on a synthetic trace with 100,000 syscalls
 * and 10,000 cancellations (visualizers/cancel/synth.ts bulkTrace: 16 threads, every 10th call
 * cancelled — EINTR with a handler, partial, restarted, raced in turn — each call with its IPC
 * request to posix), beside the IPC lanes view opened on the same events in the same page:
 *   node --import tsx visualizers/bench/cancel-view.bench.ts [--calls N] [--cancels M]
 * Prints, for both views: open time (model from the events + list + first frame), and frame
 * times (compute + paint) while panning at three zoom levels in Chromium; and the ratios
 * cancellation / IPC. Also the model alone in Node (ns per event).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { CancelModel } from '../cancel/model.js';
import { ChainCache } from '../cancel/list.js';
import { bulkTrace } from '../cancel/synth.js';
import { launch } from '../test/browser.js';

const argN = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = argN('--calls', 100_000);
const CANCELS = argN('--cancels', 10_000);
const f = (x: number, d = 1) => x.toFixed(d);

// ---- Node: the model alone
let t = performance.now();
const events = bulkTrace(CALLS, CANCELS);
const genMs = performance.now() - t;
t = performance.now();
const model = new CancelModel();
model.addAll(events);
const modelMs = performance.now() - t;
t = performance.now();
const rows = new ChainCache(model).rows();
const rowsMs = performance.now() - t;
console.log(`Cancellations view benchmark — ${model.calls.length.toLocaleString()} syscalls, ${model.cancelled.length.toLocaleString()} cancelled, ${events.length.toLocaleString()} trace events (synthetic; produced in ${f(genMs, 0)} ms)`);
console.log(`node  model ${f(modelMs, 0)} ms (${f((modelMs / events.length) * 1e6, 0)} ns/event), chains + list rows ${f(rowsMs, 0)} ms for ${rows.length.toLocaleString()} cancellations`);

// ---- Chromium: both views on the same events, side by side
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cancelbench-'));
await build({ entryPoints: [path.join(import.meta.dirname, '../test/cancel-page/main.ts')], bundle: true, format: 'iife', target: 'es2022', outfile: path.join(dir, 'bundle.js'), logLevel: 'error' });
fs.copyFileSync(path.join(import.meta.dirname, '../test/cancel-page/index.html'), path.join(dir, 'index.html'));
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1800, height: 800 } });
  await page.goto(`file://${dir}/index.html?scenario=bulk&calls=${CALLS}&cancels=${CANCELS}&ipc=1`);
  await page.waitForFunction(() => (window as unknown as { __ipc?: unknown }).__ipc !== undefined, undefined, { timeout: 600000 });
  const info = (await page.evaluate('({ c: window.__cancel.openMs, cf: window.__cancel.firstFrameMs, i: window.__ipc.openMs, if: window.__ipc.firstFrameMs, msgs: window.__ipc.model.msgCount })')) as { c: number; cf: number; i: number; if: number; msgs: number };
  console.log(`chromium open: cancellations ${f(info.c, 0)} ms (first frame ${f(info.cf, 1)} ms) · IPC lanes ${f(info.i, 0)} ms (first frame ${f(info.if, 1)} ms, ${info.msgs.toLocaleString()} messages) · ratio ${f(info.c / info.i, 2)}×`);
  for (const [name, frac] of [['whole', 1], ['1%', 0.01], ['0.01%', 0.0001]] as const) {
    const a = (await page.evaluate(`window.__panCancel(120, ${frac})`)) as { median: number; p95: number; worst: number };
    const b = (await page.evaluate(`window.__panIpc(120, ${frac})`)) as { median: number; p95: number; worst: number };
    console.log(`chromium pan ${name}: cancellations median ${f(a.median, 2)} / p95 ${f(a.p95, 2)} / worst ${f(a.worst, 2)} ms · IPC lanes ${f(b.median, 2)} / ${f(b.p95, 2)} / ${f(b.worst, 2)} ms · median ratio ${f(a.median / Math.max(0.01, b.median), 2)}×`);
  }
  await page.close();
} finally {
  await browser.close();
}
