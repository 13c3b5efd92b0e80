/*
 * The IPC view in Chromium on the ipc-demo scenario: lifelines and arrows drawn, clicking an
 * arrow selects it and fills the detail panel, the keyboard steps along the conversation and the
 * lane, search highlights message types, conversation filter, source link. Screenshots saved.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, openPage, shotsDir } from './browser.js';
import type { IpcModel } from '../ipc/model.js';
import type { IpcView } from '../ipc/view.js';

let browser: Browser;
before(async () => {
  browser = await launch();
  fs.mkdirSync(shotsDir, { recursive: true });
});
after(async () => {
  await browser?.close();
});

type W = { __ipc: { model: IpcModel; view: IpcView }; __opened?: string };

async function arrowPos(page: Page, m: number): Promise<{ x: number; y: number }> {
  return page.evaluate((m) => {
    const { model, view } = (window as unknown as W).__ipc;
    const vp = view.viewport();
    const x = vp.x0 + ((model.msgNs[m]! - vp.t0) / (vp.t1 - vp.t0)) * vp.width;
    const c = document.querySelector('canvas')!.getBoundingClientRect();
    // rows: 28 top + 36 per process (client, demo-a, demo-b)
    const pids = [10, 11, 12];
    const ys = [model.opPid[model.msgSrc[m]!]!, model.opPid[model.msgDst[m]!]!].map((p: number) => 28 + 18 + 36 * pids.indexOf(p));
    return { x: c.left + x, y: c.top + (ys[0]! + ys[1]!) / 2 };
  }, m);
}

test('demo: lifelines, arrows, click to select, detail panel, keyboard stepping, search', async () => {
  const page = await openPage(browser, 'rounds=2');
  await page.evaluate(() => (window as unknown as W).__ipc.view.fit());
  await page.waitForTimeout(100);
  // the conversation tree lists the root streams
  const tree = await page.locator('.ipcv-tree .ipcv-node').allTextContents();
  assert.equal(tree.length, 2);
  assert.match(tree[0]!, /^▸#0 ipc-demo↔demo-a \(8\)$/);
  assert.match(tree[1]!, /^▸#1 demo-a↔demo-b \(12\)$/);
  // zoom in on the first round and click the first request's arrow
  await page.evaluate(() => {
    const { model, view } = (window as unknown as W).__ipc;
    view.setViewport(model.msgNs[0]! - 20000, model.msgNs[9]! + 80000);
  });
  await page.waitForTimeout(100);
  const p = await arrowPos(page, 1);
  await page.mouse.click(p.x, p.y);
  assert.equal(await page.evaluate(() => (window as unknown as W).__ipc.view.selectedMessage()), 1);
  const detail = page.getByTestId('ipc-detail');
  assert.match(await detail.innerText(), /posix\.Read #1/);
  assert.match(await detail.innerText(), /posix\.Read\{fd: 3, size: 4096\}/);
  assert.match(await detail.innerText(), /from: ipc-demo \[10\]/);
  assert.match(await detail.innerText(), /to: demo-a \[11\]/);
  await page.getByTestId('ipc-source-link').first().waitFor();
  await page.screenshot({ path: path.join(shotsDir, 'ipc-view-demo-selected.png') });
  // → : next in the conversation is the reply; ← back; ← again: the offer that opened it
  await page.locator('canvas').focus();
  await page.keyboard.press('ArrowRight');
  assert.match(await page.getByTestId('ipc-detail-title').innerText(), /posix\.Reply #8/);
  assert.match(await detail.innerText(), /from: demo-a \[11\]/);
  await page.keyboard.press('ArrowLeft');
  assert.match(await page.getByTestId('ipc-detail-title').innerText(), /posix\.Read #1/);
  await page.keyboard.press('ArrowLeft');
  assert.match(await page.getByTestId('ipc-detail-title').innerText(), /message #0/);
  // ↓ from the offer: the next offer on the lane (round 2)
  await page.keyboard.press('ArrowDown');
  const next = await page.evaluate(() => (window as unknown as W).__ipc.view.selectedMessage());
  assert.equal(next, 10);
  assert.match(await page.getByTestId('ipc-detail-title').innerText(), /message #10/);
  // Enter opens the submitting source line through the host
  await page.getByTestId('ipc-source-link').first().waitFor();
  await page.locator('canvas').focus();
  await page.keyboard.press('Enter');
  assert.match(String(await page.evaluate(() => (window as unknown as W).__opened)), /^programs\/ipc-demo\/main\.c:\d+$/);
  // search
  await page.getByLabel('Search message types').fill('posix.Reply');
  assert.equal(await page.locator('.ipcv-search-info').innerText(), '2 found');
  await page.getByLabel('Search message types').press('Enter');
  assert.match(await page.getByTestId('ipc-detail-title').innerText(), /posix\.Reply #8/);
  // filter to a conversation through the tree
  await page.locator('.ipcv-tree .ipcv-node').nth(1).click();
  const st = await page.getByTestId('ipc-status').innerText();
  assert.match(st, /20 messages · 44 ops · 8 conversations · 12 in view/);
  await page.screenshot({ path: path.join(shotsDir, 'ipc-view-demo-filtered.png') });
});

test('clicking a lifeline label shows its threads as sub-rows', async () => {
  const page = await openPage(browser, 'rounds=1');
  const c = await page.locator('canvas').boundingBox();
  await page.mouse.click(c!.x + 40, c!.y + 28 + 36 * 2 + 18); // demo-b's label
  await page.waitForTimeout(100);
  const rows = await page.evaluate('window.__ipc.view.state.expanded.has(12)');
  assert.equal(rows, true);
});

test('light theme and expanded threads render without errors', async () => {
  const page = await openPage(browser, 'rounds=3&theme=light');
  await page.evaluate(() => {
    const { view } = (window as unknown as W).__ipc;
    view.state.expanded.add(12);
    view.fit();
    view.renderNow();
  });
  const shot = await page.screenshot({ path: path.join(shotsDir, 'ipc-view-light.png') });
  assert.ok(shot.length > 10000);
});
