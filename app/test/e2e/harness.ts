/*
 * End-to-end harness: builds the app (esbuild), copies a project (by default the bundled os/, without
 * its build/ directory, so the test never races other work in the checkout), starts the browser mode
 * as a real child process, and drives Debian's Chromium headless through playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { trustProject } from '../../node/trust.js';

export const repo = path.resolve(import.meta.dirname, '../../..');
export const shotsDir = path.join(repo, 'test-results', 'screenshots');

export function buildApp(): void {
  const r = spawnSync(process.execPath, [path.join(repo, 'app/scripts/build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('app build failed');
}

/** Copies `src` to a fresh temp dir (skipping build outputs) and returns the copy's path. */
export function copyProject(src: string): string {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-e2e-'));
  const r = spawnSync('/bin/sh', ['-c', 'tar --exclude=./build -cf - . | tar -xf - -C "$1"', 'sh', dst], { cwd: src, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cannot copy ${src}`);
  return fs.realpathSync(dst);
}

export interface Session {
  server: ChildProcess;
  url: string;
  browser: Browser;
  page: Page;
  project: string;
  stateDir: string;
  consoleErrors: string[];
  close(): Promise<void>;
}

export async function startServer(project: string, stateDir: string): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [path.join(repo, 'app/out/server/main.js'), '--project', project, '--state-dir', stateDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server did not print its URL: ${out}`)), 20000);
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    server.once('exit', (c) => reject(new Error(`server exited with ${c}: ${out}`)));
  });
  return { server, url };
}

export async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const done = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 15000))]);
  if (server.exitCode === null) server.kill('SIGKILL');
}

export async function launchBrowser(): Promise<Browser> {
  // playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.
  return chromium.launch({
    executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
  });
}

/**
 * Starts the browser mode on `project` and opens it in Chromium. The copy is marked trusted (workspace
 * trust) by writing its entry into the state directory's trust.json, as Trust in the UI would; pass
 * `{ trusted: false }` to open it in restricted mode. `beforeLoad` runs on the new page before it
 * loads the workbench (e.g. to route its WebSocket).
 */
export async function openSession(project: string, stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-state-')), opts: { trusted?: boolean; beforeLoad?: (page: Page) => Promise<void> } = {}): Promise<Session> {
  if (opts.trusted !== false) trustProject(stateDir, project);
  const { server, url } = await startServer(project, stateDir);
  let browser: Browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await stopServer(server);
    throw e;
  }
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await opts.beforeLoad?.(page);
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60000 });
  const session: Session = {
    server,
    url,
    browser,
    page,
    project,
    stateDir,
    consoleErrors,
    async close() {
      await browser.close().catch(() => undefined);
      // the server now (a test may have started a new one after killing the first: hot-exit)
      await stopServer(session.server);
      if (session.server !== server) await stopServer(server);
    },
  };
  return session;
}

export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(shotsDir, { recursive: true });
  const file = path.join(shotsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * A screenshot the README shows (resources/screenshots/NAME.png). Tests never modify tracked files:
 * it goes to test-results/screenshots/readme/NAME.png, and to resources/screenshots/ only when
 * the README screenshots are refreshed on purpose (`npm run screenshots` sets LANESCOPE_README_SHOTS=1).
 */
export async function readmeShot(page: Page, name: string): Promise<string> {
  const dir = path.join(shotsDir, 'readme');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env['LANESCOPE_README_SHOTS'] === '1') {
    const dst = path.join(repo, 'resources/screenshots', `${name}.png`);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(file, dst);
  }
  return file;
}

/** Text of the console panel (the target's serial console as xterm.js shows it). */
export function consoleText(page: Page): Promise<string> {
  return page.evaluate('window.lanescopeDebug.consoleText()') as Promise<string>;
}

export async function waitForText(page: Page, get: (p: Page) => Promise<string>, re: RegExp, timeoutMs: number, what: string): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    last = await get(page);
    if (re.test(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${re}); last text:\n${last.slice(-2000)}`);
}

/** QEMU processes whose command line mentions `needle` (e.g. the project dir). */
export function qemuProcesses(needle: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && /qemu-system/.test(cmdline) && cmdline.includes(needle)) out.push({ pid: Number(name), cmdline });
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Keeps the server's current Run recording (its session folder's newest run-N/trace.ltrace) for a
 * failure that is rare and timing-dependent: copied into test-results/ so it can be replayed through
 * a view's model afterwards. Returns the copy's path, or a sentence saying why there is none.
 */
export function keepRecording(server: ChildProcess, name: string): string {
  try {
    const tmp = os.tmpdir();
    for (const d of fs.readdirSync(tmp).filter((n) => n.startsWith('lanescope-run-'))) {
      const dir = path.join(tmp, d);
      const owner = fs.readFileSync(path.join(dir, 'owner'), 'utf8').split(' ')[0];
      if (Number(owner) !== server.pid) continue;
      const runs = fs.readdirSync(dir).filter((n) => /^run-\d+$/.test(n)).sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)));
      for (const r of runs) {
        const f = path.join(dir, r, 'trace.ltrace');
        if (!fs.existsSync(f)) continue;
        const out = path.join(repo, 'test-results', `${name}-${Date.now()}.ltrace`);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.copyFileSync(f, out);
        return out;
      }
      return `no recording in ${dir}`;
    }
    return `no session folder of server ${server.pid}`;
  } catch (e) {
    return `the recording could not be kept: ${(e as Error).message}`;
  }
}
