/*
 * Browser harness for visualizers: bundles test/page/main.ts with esbuild into a temp dir and
 * opens it in Debian's Chromium (headless, through playwright-core).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repo = path.resolve(import.meta.dirname, '../..');
export const shotsDir = path.join(repo, 'test-results', 'screenshots');

let built: string | undefined;

export async function buildPage(): Promise<string> {
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipcview-'));
  await build({
    entryPoints: [path.join(import.meta.dirname, 'page/main.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    outfile: path.join(dir, 'bundle.js'),
    logLevel: 'error',
  });
  fs.copyFileSync(path.join(import.meta.dirname, 'page/index.html'), path.join(dir, 'index.html'));
  built = dir;
  return dir;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
  });
}

export async function openPage(browser: Browser, query: string, size = { width: 1400, height: 700 }): Promise<Page> {
  const dir = await buildPage();
  const page = await browser.newPage({ viewport: size });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${dir}/index.html?${query}`);
  await page.waitForFunction(() => (window as unknown as { __ipc?: unknown }).__ipc !== undefined || document.title === 'error', undefined, { timeout: 300000 });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  return page;
}

export interface PanResult {
  frames: number;
  median: number;
  p95: number;
  worst: number;
  rafMedian: number;
  rafWorst: number;
}

/**
 * Pan the view across the trace for `frames` animation frames at a given window width (ns),
 * measuring each frame's compute+paint time and the interval between animation frames.
 */
export async function pan(page: Page, frames: number, spanFraction: number, zoom = false): Promise<PanResult> {
  // the loop lives in the page bundle (test/page/main.ts, sched-page/main.ts: __pan), not in transpiled eval'd code
  return page.evaluate(`window.__pan(${frames}, ${spanFraction}, ${zoom})`) as Promise<PanResult>;
}

let schedBuilt: string | undefined;

/** The scheduler view's test page (sched-page/main.ts), opened with a query (e.g. events=1000000). */
export async function openSchedPage(browser: Browser, query: string, size = { width: 1400, height: 700 }): Promise<Page> {
  if (!schedBuilt) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schedview-'));
    await build({ entryPoints: [path.join(import.meta.dirname, 'sched-page/main.ts')], bundle: true, format: 'iife', target: 'es2022', outfile: path.join(dir, 'bundle.js'), logLevel: 'error' });
    fs.copyFileSync(path.join(import.meta.dirname, 'sched-page/index.html'), path.join(dir, 'index.html'));
    schedBuilt = dir;
  }
  const page = await browser.newPage({ viewport: size });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${schedBuilt}/index.html?${query}`);
  await page.waitForFunction(() => (window as unknown as { __sched?: unknown }).__sched !== undefined, undefined, { timeout: 300000 });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  return page;
}
