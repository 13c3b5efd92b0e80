/*
 * Benchmark (not a timed test): the sysfs view on a synthetic trace of 10,000 sysfs nodes and
 * 100,000 attribute changes (sysfs/synth.ts: PCI-shaped devices with /sys/bus/pci/devices links,
 * CPU loads and per-device counters).
 *   node --import tsx visualizers/bench/sysfs-view.bench.ts [--nodes N] [--changes M]
 * Prints: model build (ns/record), the work of one scrub step (a bus's children and their
 * attributes at a moment) and of a 1 % diff in Node; in Chromium the view's open time (model +
 * first render) and frame times (compute + DOM) while scrubbing the slider across the whole
 * trace and while scrolling the expanded tree. Baselines measured in the same run: the same
 * figures on a trace 10× smaller (how it scales), and the IPC lanes view opened and panned on a
 * trace of the same number of records (ratio = sysfs / IPC).
 */
import { SysfsModel } from '../sysfs/model.js';
import { synthSysfsTrace } from '../sysfs/synth.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launch, openPage, pan } from '../test/browser.js';

const argNum = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const NODES = argNum('--nodes', 10000);
const CHANGES = argNum('--changes', 100000);
const f = (x: number, d = 1) => x.toFixed(d);
const ratio = (a: number, b: number) => `${f(a / Math.max(1e-3, b), 2)}×`;

function nodeFigures(nodes: number, changes: number) {
  const trace = synthSysfsTrace({ nodes, changes });
  let t = performance.now();
  const m = new SysfsModel();
  m.addAll(trace);
  const buildMs = performance.now() - t;
  const bus0 = m.find('/sys/devices/pci0000:00');
  const steps = 200;
  t = performance.now();
  for (let k = 0; k < steps; k++) {
    const at = m.t0 + ((m.t1 - m.t0) * k) / (steps - 1);
    for (const d of m.childrenAt(bus0, at)) for (const a of m.childrenAt(d, at)) m.value(a, at);
  }
  const scrubMs = (performance.now() - t) / steps;
  t = performance.now();
  const d = m.diff(m.t0 + (m.t1 - m.t0) * 0.5, m.t0 + (m.t1 - m.t0) * 0.51);
  const diffMs = performance.now() - t;
  return { records: trace.length, buildMs, scrubMs, diffMs, changed: d.changed.length, entries: m.entries.length };
}

console.log(`sysfs view benchmark — ${NODES.toLocaleString()} nodes, ${CHANGES.toLocaleString()} attribute changes; baselines: a 10× smaller trace, and the IPC lanes view on as many records`);
const big = nodeFigures(NODES, CHANGES);
const small = nodeFigures(NODES / 10, CHANGES / 10);
console.log(`node  model build: ${big.records.toLocaleString()} records → ${big.entries.toLocaleString()} entries in ${f(big.buildMs, 0)} ms (${f((big.buildMs / big.records) * 1e6, 0)} ns/record; 10× smaller ${f((small.buildMs / small.records) * 1e6, 0)} ns/record, ratio ${ratio(big.buildMs / big.records, small.buildMs / small.records)})`);
console.log(`node  scrub step (bus 0's devices and attributes at a moment): ${f(big.scrubMs, 3)} ms (10× smaller: ${f(small.scrubMs, 3)} ms, ratio ${ratio(big.scrubMs, small.scrubMs)})`);
console.log(`node  diff over 1 % of the trace: ${f(big.diffMs, 2)} ms, ${big.changed} changed (10× smaller: ${f(small.diffMs, 2)} ms)`);

async function sysfsPage(browser: Browser, nodes: number, changes: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysfsbench-'));
  await build({ entryPoints: [path.join(import.meta.dirname, '../test/sysfs-page/main.ts')], bundle: true, format: 'iife', target: 'es2022', outfile: path.join(dir, 'bundle.js'), logLevel: 'error' });
  fs.copyFileSync(path.join(import.meta.dirname, '../test/sysfs-page/index.html'), path.join(dir, 'index.html'));
  const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
  await page.goto(`file://${dir}/index.html?nodes=${nodes}&changes=${changes}`);
  await page.waitForFunction(() => (window as unknown as { __sysfs?: unknown }).__sysfs !== undefined, undefined, { timeout: 600000 });
  const open = (await page.evaluate('({ open: window.__sysfs.openMs, build: window.__sysfs.buildMs, first: window.__sysfs.firstMs, records: window.__sysfs.records })')) as { open: number; build: number; first: number; records: number };
  // expand the biggest directory (bus 0: 32 devices + the bridges' buses) and every device's attributes are one click away
  await page.evaluate(`window.__sysfs.view.expand('/sys/devices/pci0000:00'); window.__sysfs.view.expand('/sys/bus/pci/devices'); window.__sysfs.view.navigate('/sys/devices/system/cpu/cpu0/load')`);
  type Fr = { median: number; p95: number; worst: number };
  const scrub = (await page.evaluate('window.__sysfs.scrub(120)')) as Fr;
  const scroll = (await page.evaluate('window.__sysfs.scroll(120)')) as Fr;
  const rows = (await page.evaluate('window.__sysfs.view.rowPaths().length')) as number;
  await page.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { open, scrub, scroll, rows };
}

const browser = await launch();
try {
  const sb = await sysfsPage(browser, NODES, CHANGES);
  const ss = await sysfsPage(browser, NODES / 10, CHANGES / 10);
  // the IPC lanes view on as many records (55 events per ipc-demo round)
  const ipc = await openPage(browser, `rounds=${Math.ceil(sb.open.records / 55)}`);
  const io = (await ipc.evaluate('({ open: window.__ipc.openMs, first: window.__ipc.firstFrameMs, events: window.__ipc.events })')) as { open: number; first: number; events: number };
  const ip = await pan(ipc, 120, 1);
  await ipc.close();
  console.log(`chromium open: ${f(sb.open.open, 0)} ms for ${sb.open.records.toLocaleString()} records (model ${f(sb.open.build, 0)} ms + first render ${f(sb.open.first, 1)} ms); 10× smaller ${f(ss.open.open, 0)} ms (ratio ${ratio(sb.open.open, ss.open.open)}); IPC view on ${io.events.toLocaleString()} events ${f(io.open, 0)} ms (ratio ${ratio(sb.open.open, io.open)})`);
  console.log(`chromium scrub (slider across the whole trace, ${sb.rows} rows in the tree): frame median ${f(sb.scrub.median, 2)} ms, p95 ${f(sb.scrub.p95, 2)} ms, worst ${f(sb.scrub.worst, 2)} ms; 10× smaller median ${f(ss.scrub.median, 2)} ms (ratio ${ratio(sb.scrub.median, ss.scrub.median)}); IPC pan (whole trace) median ${f(ip.median, 2)} ms (ratio ${ratio(sb.scrub.median, ip.median)})`);
  console.log(`chromium scroll (the expanded tree, top to bottom): frame median ${f(sb.scroll.median, 2)} ms, p95 ${f(sb.scroll.p95, 2)} ms, worst ${f(sb.scroll.worst, 2)} ms; 10× smaller median ${f(ss.scroll.median, 2)} ms (ratio ${ratio(sb.scroll.median, ss.scroll.median)}); IPC pan median ${f(ip.median, 2)} ms (ratio ${ratio(sb.scroll.median, ip.median)})`);
} finally {
  await browser.close();
}
