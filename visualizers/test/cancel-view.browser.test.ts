/*
 * The cancellation view in Chromium on `cat /dev/slow` + Ctrl-C (synth.ts): the list has the one
 * cancelled read, selecting it shows its chain in order, → / ← step the links (the detail and the
 * canvas follow), clicking a span on the timeline selects its call, Enter asks for the source,
 * ↓ / ↑ walk a bigger trace's list, a filter narrows it. Screenshots:
 * test-results/screenshots/cancel-view.png (and cancel-view-light.png).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launch, shotsDir } from './browser.js';

let browser: Browser;
let dir: string;
const C = 'window.__cancel';

export async function cancelPage(b: Browser, query: string, size = { width: 1400, height: 620 }): Promise<Page> {
  const page = await b.newPage({ viewport: size });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${dir}/index.html?${query}`);
  await page.waitForFunction(() => (window as unknown as { __cancel?: unknown }).__cancel !== undefined, undefined, { timeout: 300000 });
  assert.deepEqual(errors, []);
  return page;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cancelview-'));
  await build({ entryPoints: [path.join(import.meta.dirname, 'cancel-page/main.ts')], bundle: true, format: 'iife', target: 'es2022', outfile: path.join(dir, 'bundle.js'), logLevel: 'error' });
  fs.copyFileSync(path.join(import.meta.dirname, 'cancel-page/index.html'), path.join(dir, 'index.html'));
  browser = await launch();
  fs.mkdirSync(shotsDir, { recursive: true });
});
after(async () => {
  await browser?.close();
});

test('cat /dev/slow + Ctrl-C: one cancelled read in the list; its chain in order; ←/→ step; Enter asks for the source', async () => {
  const page = await cancelPage(browser, 'scenario=cat');
  const rows = page.locator('[data-testid=cancel-list] tr[data-call]');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /^read\(3, 4096\)\s+partial 1024 of 4096\s+SIGINT\s+16\.4 µs\s+cat \[50\]\s+(fs, posix|posix, fs)/);
  await rows.first().click();
  const title = page.getByTestId('cancel-detail-title');
  assert.match(await title.innerText(), /cat \[50\] read\(3, 4096\) → partial 1024 of 4096 · chain .* · SIGINT \(ctrl_c\)/);
  const kinds = await page.locator('[data-testid=cancel-detail] li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['kind']));
  assert.deepEqual(kinds, ['generate', 'flag', 'raise', 'raise', 'ack', 'ack', 'reply', 'end', 'action', 'exit']);
  const current = () => page.locator('[data-testid=cancel-detail] li[aria-current=true]').getAttribute('data-kind');
  assert.equal(await current(), 'generate');
  await page.locator('.cancelv canvas').focus();
  for (const want of ['flag', 'raise', 'raise', 'ack']) {
    await page.keyboard.press('ArrowRight');
    assert.equal(await current(), want);
  }
  await page.keyboard.press('ArrowLeft');
  assert.equal(await current(), 'raise');
  // the canvas draws the chain: one point per link, the selected one is the 4th
  const drawn = await page.evaluate(`(() => { const v = ${C}.view; v.renderNow(); return { pts: v.frame().chain.length, sel: v.selection() }; })()`) as { pts: number; sel: { link: number } };
  assert.equal(drawn.pts, 10);
  assert.equal(drawn.sel.link, 3);
  await page.screenshot({ path: path.join(shotsDir, 'cancel-view.png') });
  // Enter on a server's link (the fs cancel message) asks for the server's handler; on the signal: the user side
  await page.keyboard.press('Enter');
  let opened = await page.evaluate(`${C}.opened`) as string[];
  // the server's own code: the call_site of fs's ack (pid 3, its frame 0x400803), not the raise's
  const srv = JSON.parse(opened[0]!) as { kind: string; server: string; pid: number; pcs: number[] };
  assert.deepEqual([srv.kind, srv.server, srv.pid, srv.pcs[2]], ['server', 'fs', 3, 0x400803], String(opened[0]));
  // on the signal's link (the user side): the call_site of the read's sys_begin in cat (pid 5)
  await page.locator('.cancelv canvas').focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
  assert.equal(await current(), 'generate');
  await page.keyboard.press('Enter');
  // a double-click on a step opens its source too (posix's ack: its own call_site)
  await page.locator('[data-testid=cancel-detail] li[data-link="5"]').dblclick();
  opened = await page.evaluate(`${C}.opened`) as string[];
  const usr = JSON.parse(opened[1]!) as { kind: string; pid: number; pcs: number[]; retAddr: number };
  assert.deepEqual([usr.kind, usr.pid, usr.pcs[2], usr.retAddr], ['user', 5, 0x400500, 0x401234], String(opened[1]));
  const posixAck = JSON.parse(opened[2]!) as { kind: string; server: string; pid: number; pcs: number[] };
  assert.deepEqual([posixAck.kind, posixAck.server, posixAck.pid, posixAck.pcs[2]], ['server', 'posix', 2, 0x400802], String(opened[2]));
  await page.keyboard.press('Home');
  // clicking a completed read on the timeline selects it: no chain, its request to posix
  const pos = await page.evaluate(`(() => {
    const { model, view } = ${C};
    view.renderNow();
    const b = view.frame().boxes.find((x) => x.call === 1);
    const c = document.querySelector('.cancelv canvas').getBoundingClientRect();
    return { x: c.left + (b.x0 + b.x1) / 2, y: c.top + view.rows()[b.row].y + 15 };
  })()`) as { x: number; y: number };
  await page.mouse.click(pos.x, pos.y);
  assert.match(await title.innerText(), /read\(3, 4096\) → completed/);
  assert.match(await page.getByTestId('cancel-detail').innerText(), /1 request\(s\) to posix/);
  await page.close();
});

test('a bigger trace: ↓/↑ walk the list, filters and sort narrow it, the histogram counts every row', async () => {
  const page = await cancelPage(browser, 'scenario=bulk&calls=2000&cancels=200', { width: 1400, height: 700 });
  const n = await page.evaluate(`${C}.view.list().length`) as number;
  assert.equal(n, 200);
  const bars = await page.locator('[data-testid=cancel-histogram] div').evaluateAll((els) => els.map((e) => Number(/: (\d+)$/.exec((e as HTMLElement).title)?.[1] ?? 0)));
  assert.equal(bars.reduce((a, b) => a + b, 0), 200);
  await page.locator('.cancelv canvas').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const sel = await page.evaluate(`(() => { const v = ${C}.view; return { sel: v.selection(), second: v.list()[1].call }; })()`) as { sel: { call: number; link: number }; second: number };
  assert.equal(sel.sel.call, sel.second);
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.locator('[data-testid=cancel-list] tr[aria-selected=true]').count(), 1);
  await page.selectOption('select[aria-label="Filter by outcome"]', 'restarted');
  const outs = await page.evaluate(`[...new Set(${C}.view.list().map((r) => r.outcome))]`) as string[];
  assert.deepEqual(outs, ['restarted']);
  assert.equal(await page.evaluate(`${C}.view.list().length`), 50);
  await page.selectOption('select[aria-label="Filter by outcome"]', '');
  await page.locator('[data-testid=cancel-list] th', { hasText: 'latency' }).click();
  const lats = await page.evaluate(`${C}.view.list().map((r) => r.latency)`) as number[];
  assert.ok(lats.every((x, i) => i === 0 || lats[i - 1]! >= x), 'sorted by latency, longest first');
  await page.close();
});

test('light theme renders (screenshot)', async () => {
  const page = await cancelPage(browser, 'scenario=cat&theme=light');
  await page.locator('[data-testid=cancel-list] tr[data-call]').first().click();
  await page.screenshot({ path: path.join(shotsDir, 'cancel-view-light.png') });
  await page.close();
});
