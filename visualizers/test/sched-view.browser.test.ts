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
    const rh = Math.max(18, Math.min(90, Math.floor((c.height - 22) / v.rows.length))); // render.ts schedLayout
    return { x: c.left + 64 + a.x, y: c.top + 4 + rh, rows: v.rows.length, slices: v.rows.map((r) => r.slices.length) };
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
