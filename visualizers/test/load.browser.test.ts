/*
 * Load test: a 1M-event IPC trace (18,182 rounds of the ipc-demo scenario, 55 events each) opens
 * in the view in Chromium, renders aggregated when zoomed out and arrow by arrow when zoomed in,
 * pans at three zoom levels, and reports frame times (printed, not asserted: no timed tests).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launch, openPage, pan, shotsDir } from './browser.js';

let browser: Browser;
before(async () => {
  browser = await launch();
  fs.mkdirSync(shotsDir, { recursive: true });
});
after(async () => {
  await browser?.close();
});

test('1M events: opens, draws every message at full zoom (aggregated), pans at three zoom levels', { timeout: 600000 }, async () => {
  const page = await openPage(browser, 'rounds=18182');
  const info = await page.evaluate(() => {
    const w = (window as unknown as { __ipc: { model: { msgCount: number; opCount: number; convs: unknown[]; memoryBytes(): number }; events: number; openMs: number; buildMs: number; firstFrameMs: number } }).__ipc;
    return { events: w.events, messages: w.model.msgCount, ops: w.model.opCount, convs: w.model.convs.length, openMs: w.openMs, buildMs: w.buildMs, firstFrameMs: w.firstFrameMs, columns: w.model.memoryBytes() };
  });
  assert.equal(info.events, 18182 * 55 + 8);
  assert.ok(info.events >= 1_000_000);
  assert.equal(info.messages, 18182 * 10);
  assert.equal(info.ops, 18182 * 22);
  await page.evaluate(() => (window as unknown as { __ipc: { view: { fit(): void; renderNow(): number } } }).__ipc.view.fit());
  const status = await page.getByTestId('ipc-status').innerText();
  assert.match(status, /181,820 in view \(aggregated\)/, 'zoomed out: every message counted, drawn per pixel column');
  await page.screenshot({ path: path.join(shotsDir, 'ipc-view-1m-overview.png') });
  const results: Record<string, unknown> = {};
  for (const [name, frac] of [['whole trace', 1], ['1% window', 0.01], ['0.01% window', 0.0001]] as const) {
    const r = await pan(page, 120, frac);
    results[name] = r;
    assert.equal(r.frames, 120);
  }
  await page.evaluate(() => {
    const { model, view } = (window as unknown as { __ipc: { model: { msgNs: Float64Array }; view: { setViewport(a: number, b: number): void; renderNow(): number } } }).__ipc;
    view.setViewport(model.msgNs[100000]! - 10000, model.msgNs[100010]! + 10000);
    view.renderNow();
  });
  const zoomed = await page.getByTestId('ipc-status').innerText();
  assert.doesNotMatch(zoomed, /aggregated/, 'zoomed in: arrows one by one');
  await page.screenshot({ path: path.join(shotsDir, 'ipc-view-1m-zoomed.png') });
  const mem = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
  console.log(`# 1M-event load: open ${info.openMs.toFixed(0)} ms (model ${info.buildMs.toFixed(0)} ms, first frame ${info.firstFrameMs.toFixed(1)} ms), columns ${(info.columns / 1048576).toFixed(1)} MiB, JS heap ${(mem / 1048576).toFixed(0)} MiB`);
  for (const [k, v] of Object.entries(results)) {
    const r = v as { median: number; p95: number; worst: number; rafMedian: number };
    console.log(`# pan ${k}: frame median ${r.median.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms, worst ${r.worst.toFixed(2)} ms (rAF interval median ${r.rafMedian.toFixed(1)} ms)`);
  }
});
