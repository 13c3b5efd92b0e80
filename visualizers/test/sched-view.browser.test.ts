/*
 * The scheduler view in Chromium on the synthetic fixture (sched-fixture.ts): a track per CPU,
 * hovering the balance arrow tells why the thread moved with the balancer's numbers, the reason
 * filter hides arrows, picking a thread in the table dims the others' slices. Screenshot saved
 * as test-results/screenshots/sched-view.png.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launch, shotsDir } from './browser.js';
import type { SchedModel } from '../sched/model.js';
import type { SchedView } from '../sched/view.js';

let browser: Browser;
let page: Page;
type W = { __sched: { model: SchedModel; view: SchedView } };

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schedview-'));
  await build({ entryPoints: [path.join(import.meta.dirname, 'sched-page/main.ts')], bundle: true, format: 'iife', target: 'es2022', outfile: path.join(dir, 'bundle.js'), logLevel: 'error' });
  fs.copyFileSync(path.join(import.meta.dirname, 'sched-page/index.html'), path.join(dir, 'index.html'));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1200, height: 500 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${dir}/index.html`);
  await page.waitForFunction(() => (window as unknown as { __sched?: unknown }).__sched !== undefined, undefined, { timeout: 60000 });
  assert.deepEqual(errors, []);
  fs.mkdirSync(shotsDir, { recursive: true });
});
after(async () => {
  await browser?.close();
});

test('hovering the balance arrow shows why the thread moved; the filter and thread mode change the drawing', async () => {
  // where the balance arrow is on the page (canvas offset + gutter + x, between the two rows)
  const pos = await page.evaluate(() => {
    const { view } = (window as unknown as W).__sched;
    view.renderNow();
    const v = view.last()!;
    const a = v.arrows.find((x) => x.reason === 'balance')!;
    const c = document.querySelector('.schedv canvas')!.getBoundingClientRect();
    const L = view.layout();
    return { x: c.left + L.gutter + a.x, y: c.top + L.top + L.rowHeight, rows: v.rows.length, slices: v.rows.map((r) => r.slices.length) };
  });
  assert.equal(pos.rows, 2);
  assert.deepEqual(pos.slices, [4, 2]);
  await page.mouse.move(pos.x, pos.y);
  await page.waitForFunction(() => /balance \(round 1/.test(document.querySelector('[data-testid=sched-detail]')!.textContent ?? ''), undefined, { timeout: 5000 });
  const detail = await page.textContent('[data-testid=sched-detail]');
  assert.match(detail!, /spin 13: cpu0 → cpu1, balance \(round 1, ideal 2048\): cpu0 3072 → 2048, cpu1 1024 → 2048/);
  await page.screenshot({ path: path.join(shotsDir, 'sched-view.png') });
  // filter: without balance only the steal arrow is left
  await page.click('input[data-reason=balance]');
  const reasons = await page.evaluate(() => {
    const { view } = (window as unknown as W).__sched;
    view.renderNow();
    return view.last()!.arrows.map((a) => a.reason);
  });
  assert.deepEqual(reasons, ['steal']);
  // thread mode from the table: thread 13's slices bright, the others dimmed
  await page.click('[data-testid=sched-threads] tr[data-tid="13"]');
  const dims = await page.evaluate(() => {
    const { view } = (window as unknown as W).__sched;
    view.renderNow();
    return view.last()!.rows[0]!.slices.map((s) => s.dim);
  });
  assert.deepEqual(dims, [true, false, true, true]);
});

test('the shared timeline pieces: wheel zoom around the pointer and drag pan (common/zoom.ts), the shared cursor drawn at its time', async () => {
  const before = await page.evaluate(() => {
    const { view, model } = (window as unknown as W).__sched;
    view.fit();
    view.renderNow();
    const c = document.querySelector('.schedv canvas')!.getBoundingClientRect();
    const L = view.layout();
    return { ...view.viewport(), left: c.left + L.gutter, top: c.top + L.top + 5, width: c.width - L.gutter, t0m: model.t0, t1m: model.t1 };
  });
  // zoom in around the middle of the time area: the time under the pointer stays, the span shrinks
  const px = before.left + before.width / 2;
  const atNs = before.t0 + ((px - before.left) / before.width) * (before.t1 - before.t0);
  await page.mouse.move(px, before.top);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction((s) => { const v = (window as unknown as W).__sched.view.viewport(); return v.t1 - v.t0 < s; }, before.t1 - before.t0, { timeout: 5000 });
  const z = await page.evaluate(() => (window as unknown as W).__sched.view.viewport());
  const atNow = z.t0 + ((px - before.left) / before.width) * (z.t1 - z.t0);
  assert.ok(Math.abs(atNow - atNs) < (before.t1 - before.t0) * 0.01, `zoom keeps the time under the pointer: ${atNs} -> ${atNow}`);
  // drag right by 100 px: earlier times come into view (the window moves left by 100 px of time)
  await page.mouse.move(px, before.top);
  await page.mouse.down();
  await page.mouse.move(px + 50, before.top, { steps: 3 });
  await page.mouse.move(px + 100, before.top, { steps: 3 });
  await page.mouse.up();
  const p = await page.evaluate(() => (window as unknown as W).__sched.view.viewport());
  const perPx = (z.t1 - z.t0) / before.width;
  assert.ok(Math.abs(z.t0 - p.t0 - 100 * perPx) < 5 * perPx, `pan by 100 px: ${z.t0} -> ${p.t0} (${perPx} ns/px)`);
  // the shared cursor: a dashed line at its time, painted with the common axis' cursor
  const drawn = await page.evaluate(() => {
    const { view } = (window as unknown as W).__sched;
    const vpw = view.viewport();
    const mid = (vpw.t0 + vpw.t1) / 2;
    view.setCursor(mid);
    view.renderNow();
    const c = document.querySelector('.schedv canvas') as HTMLCanvasElement;
    const L = view.layout();
    const dpr = window.devicePixelRatio || 1;
    const w = c.width / dpr - L.gutter;
    const x = Math.round(L.gutter + w / 2);
    const ctx = c.getContext('2d')!;
    // the cursor's arrowhead sits just above the tracks, in the axis band: look for its light pixels
    const px = ctx.getImageData(Math.round((x - 1) * dpr), Math.round((L.top - 6) * dpr), Math.round(3 * dpr), Math.round(3 * dpr)).data;
    let bright = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i]! > 200 && px[i + 1]! > 200 && px[i + 2]! > 200) bright++;
    view.setCursor(null);
    view.renderNow();
    const px2 = ctx.getImageData(Math.round((x - 1) * dpr), Math.round((L.top - 6) * dpr), Math.round(3 * dpr), Math.round(3 * dpr)).data;
    let bright2 = 0;
    for (let i = 0; i < px2.length; i += 4) if (px2[i]! > 200 && px2[i + 1]! > 200 && px2[i + 2]! > 200) bright2++;
    return { bright, bright2 };
  });
  assert.ok(drawn.bright > 0 && drawn.bright2 === 0, `cursor drawn with setCursor, gone with null: ${JSON.stringify(drawn)}`);
});
