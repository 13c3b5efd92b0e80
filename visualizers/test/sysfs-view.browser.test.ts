/*
 * The sysfs view in Chromium on a synthetic trace (sysfs/synth.ts: the kernel's boot tree, 40 PCI
 * devices with /sys/bus/pci/devices links, 400 value changes): the tree starts at /sys, a link
 * navigates to its target, a live change flashes its row and a new node animates in, the slider
 * scrubbed back to boot hides what came later (and says so through timeChanged), the sparkline
 * describes a value's history, search finds by value. Screenshot:
 * test-results/screenshots/sysfs-view.png.
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
let page: Page;
const errors: string[] = [];
let pageDir = '';

before(async () => {
  const dir = (pageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysfsview-')));
  await build({ entryPoints: [path.join(import.meta.dirname, 'sysfs-page/main.ts')], bundle: true, format: 'iife', target: 'es2022', outfile: path.join(dir, 'bundle.js'), logLevel: 'error' });
  fs.copyFileSync(path.join(import.meta.dirname, 'sysfs-page/index.html'), path.join(dir, 'index.html'));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1200, height: 600 } });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${dir}/index.html?nodes=40&changes=400`);
  await page.waitForFunction(() => (window as unknown as { __sysfs?: unknown }).__sysfs !== undefined, undefined, { timeout: 60000 });
  fs.mkdirSync(shotsDir, { recursive: true });
});
after(async () => {
  await browser?.close();
  fs.rmSync(pageDir, { recursive: true, force: true });
});

const rows = (p: Page) => p.evaluate('window.__sysfs.view.rowPaths()') as Promise<string[]>;

test('the tree starts at /sys; expanding shows the PCI devices; a link navigates to its target', async () => {
  let r = await rows(page);
  assert.deepEqual(r.slice(0, 2), ['/', '/sys']);
  assert.ok(r.includes('/sys/devices') && r.includes('/sys/kernel') && r.includes('/sys/bus'), r.join(' '));
  // A click re-renders the rows on the next animation frame: wait for each expansion to show
  // before the next click (clicking a row the re-render replaces can be lost) and before reading.
  const shows = (p: string) => page.waitForFunction((x) => (window as unknown as { __sysfs: { view: { rowPaths(): string[] } } }).__sysfs.view.rowPaths().includes(x), p, { timeout: 10000 }).catch(() => undefined);
  await page.locator('.sysv-row[data-path="/sys/devices"] .sysv-tw').click();
  await shows('/sys/devices/pci0000:00');
  await page.locator('.sysv-row[data-path="/sys/devices/pci0000:00"] .sysv-tw').click();
  await shows('/sys/devices/pci0000:00/0000:00:1f.0');
  r = await rows(page);
  assert.ok(r.includes('/sys/devices/pci0000:00/0000:00:1f.0'), r.join(' '));
  await page.evaluate(`window.__sysfs.view.expand('/sys/bus/pci/devices')`);
  await page.waitForSelector('.sysv-row[data-path="/sys/bus/pci/devices/0000:00:03.0"] .sysv-link');
  await page.locator('.sysv-row[data-path="/sys/bus/pci/devices/0000:00:03.0"] .sysv-link').click();
  const sel = await page.evaluate('window.__sysfs.model.entries[window.__sysfs.view.selected()].path');
  assert.equal(sel, '/sys/devices/pci0000:00/0000:00:03.0', 'the link led to the device directory');
  assert.match(await page.getByTestId('sysfs-detail').innerText(), /\/sys\/devices\/pci0000:00\/0000:00:03\.0/);
  assert.deepEqual(errors, []);
});

test('live: a changed value flashes in place, a new device fades in, a removed one fades out', async () => {
  await page.evaluate(`window.__sysfs.view.navigate('/sys/devices/system/cpu/cpu1/load')`);
  await page.evaluate(`(() => { const m = window.__sysfs.model; m.addAll([{ name: 'sysfs_attr', ns: m.t1 + 1e6, fields: { node: 6n, text: '/sys/devices/system/cpu/cpu1/load=4242' } }]); })()`);
  const load = page.locator('.sysv-row[data-path="/sys/devices/system/cpu/cpu1/load"]');
  await load.locator('.sysv-val', { hasText: '= 4242' }).waitFor({ timeout: 5000 });
  assert.match((await load.getAttribute('class')) ?? '', /flash/);
  await page.evaluate(`(() => { const m = window.__sysfs.model; m.addAll([{ name: 'sysfs_add', ns: m.t1 + 1e6, fields: { node: 9000n, path: '/sys/devices/pci0000:00/0000:00:07.5' } }, { name: 'sysfs_attr', ns: m.t1 + 1e6, fields: { node: 9000n, text: '/sys/devices/pci0000:00/0000:00:07.5/vendor=0x1af4' } }]); })()`);
  const dev = page.locator('.sysv-row[data-path="/sys/devices/pci0000:00/0000:00:07.5"]');
  await dev.waitFor({ timeout: 5000 });
  assert.match((await dev.getAttribute('class')) ?? '', /appear/);
  await shot(page, 'sysfs-view');
  await page.evaluate(`(() => { const m = window.__sysfs.model; m.addAll([{ name: 'sysfs_remove', ns: m.t1 + 1e6, fields: { node: 9000n, path: '/sys/devices/pci0000:00/0000:00:07.5' } }]); })()`);
  await page.waitForFunction(() => document.querySelector('.sysv-row[data-path="/sys/devices/pci0000:00/0000:00:07.5"]')?.classList.contains('vanish') === true, undefined, { timeout: 5000 });
  await page.waitForFunction(() => !document.querySelector('.sysv-row[data-path="/sys/devices/pci0000:00/0000:00:07.5"]'), undefined, { timeout: 5000 });
  assert.deepEqual(errors, []);
});

test('scrubbing back to boot hides what came later; Live returns; the sparkline tells the history', async () => {
  const t0 = (await page.evaluate('window.__sysfs.model.t0')) as number;
  await page.evaluate(`(() => { const s = document.querySelector('[data-testid=sysfs-slider]'); s.value = '0'; s.dispatchEvent(new Event('input')); })()`);
  const hasPci = 'window.__sysfs.view.rowPaths().includes("/sys/devices/pci0000:00")';
  await page.waitForFunction(`!${hasPci}`, undefined, { timeout: 5000 });
  const r = await rows(page);
  assert.ok(r.includes('/sys/kernel') || r.length <= 3, `at boot only the first node: ${r.join(' ')}`);
  assert.ok(!r.some((p) => p.startsWith('/sys/devices/pci0000:00')), 'no PCI devices at boot');
  const times = (await page.evaluate('window.__sysfs.times')) as string[];
  assert.equal(Number(times.at(-1)), t0, 'the new time went to the host (the shared cursor)');
  assert.match(await page.getByTestId('sysfs-time').innerText(), /ms/);
  // the cursor set from elsewhere: half way
  await page.evaluate('window.__sysfs.view.setTime((window.__sysfs.model.t0 + window.__sysfs.model.t1) / 2)');
  await page.waitForFunction(hasPci, undefined, { timeout: 5000 });
  await page.getByTestId('sysfs-live').click();
  assert.equal(await page.evaluate('window.__sysfs.view.live()'), true);
  assert.equal(((await page.evaluate('window.__sysfs.times')) as string[]).at(-1), 'null');
  await page.evaluate(`window.__sysfs.view.navigate('/sys/devices/system/cpu/cpu0/load')`);
  assert.match(await page.locator('.sysv-side').innerText(), /\d+ values, min \d+, max \d+/);
  const found = (await page.evaluate(`window.__sysfs.view.search('4242').map((e) => window.__sysfs.model.entries[e].path)`)) as string[];
  assert.deepEqual(found, ['/sys/devices/system/cpu/cpu1/load']);
  assert.match(await page.getByTestId('sysfs-results').innerText(), /1 found/);
  assert.deepEqual(errors, []);
});

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: path.join(shotsDir, `${name}.png`) });
}
