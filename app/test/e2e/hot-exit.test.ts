/*
 * No edit lost, end to end in headless Chromium against the browser mode: a dirty buffer is backed up
 * to the state directory within seconds; the backend is killed (SIGKILL: no chance to save anything);
 * a new backend and a new page offer the edit back; Restore puts it in the editor as unsaved changes
 * (the file on disk untouched until Save, which drops the backup); and a dirty page asks before it is
 * left (beforeunload).
 * Screenshots: test-results/screenshots/e2e-hot-exit-*.png
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { buildApp, openSession, shot, startServer, type Session } from './harness.js';

let s: Session;
let project: string;
const ORIGINAL = 'int main(void) {\n  return 0;\n}\n';
const EDIT = '// this edit survives a crash';

before(async () => {
  buildApp();
  project = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-hotexit-')));
  fs.writeFileSync(path.join(project, 'main.c'), ORIGINAL);
  fs.writeFileSync(path.join(project, 'lanescope.json'), JSON.stringify({ name: 'hotexit', build: { command: null }, qemu: { kernel: 'k' } }));
  s = await openSession(project);
});

after(async () => {
  await s?.close();
});

const value = (p: Page) => p.evaluate('window.lanescopeDebug.editorValue()') as Promise<string | null>;
function backups(): string[] {
  const dir = path.join(s.stateDir, 'backups');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d)).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, d, f)));
}
async function until(cond: () => boolean, what: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a dirty buffer is backed up, survives a killed backend, and is offered back in a new page', async () => {
  let p = s.page;
  await p.click('#tree [data-path="main.c"]');
  await p.waitForSelector('.tab.active[data-path="main.c"]');
  await p.click('.monaco-editor .view-lines');
  await p.keyboard.press('Control+Home');
  await p.keyboard.type(`${EDIT}\n`);
  await p.waitForSelector('.tab.dirty[data-path="main.c"]');
  await until(() => backups().some((f) => fs.readFileSync(f, 'utf8').includes(EDIT)), 'the backup of the dirty buffer');
  const st = fs.statSync(backups()[0]!);
  assert.equal(st.mode & 0o777, 0o600, 'backups are private to the user');

  // The backend dies without warning; the page loses its connection.
  const dead = new Promise((r) => s.server.once('exit', r));
  s.server.kill('SIGKILL');
  await dead;
  assert.equal(fs.readFileSync(path.join(project, 'main.c'), 'utf8'), ORIGINAL);
  await p.close();

  // A new backend on the same state directory, a new page.
  const { server, url } = await startServer(project, s.stateDir);
  s.server = server;
  s.url = url;
  p = s.page = await s.browser.newPage({ viewport: { width: 1440, height: 900 } });
  await p.goto(url);
  await p.waitForSelector('body[data-ready=true]', { timeout: 60000 });
  const dlg = await p.waitForSelector('[role="dialog"][aria-label="Restore unsaved changes?"]');
  assert.match((await dlg.textContent()) ?? '', /main\.c/);
  await shot(p, 'e2e-hot-exit-1-offered');
  await p.click('[role="dialog"] button:has-text("Restore")');
  await p.waitForSelector('.tab.dirty.active[data-path="main.c"]');
  assert.equal(await value(p), `${EDIT}\n${ORIGINAL}`);
  assert.equal(fs.readFileSync(path.join(project, 'main.c'), 'utf8'), ORIGINAL, 'Restore does not write the file');

  // Save writes it and the backup goes away.
  await p.click('.monaco-editor .view-lines');
  await p.keyboard.press('Control+s');
  await p.waitForSelector('.tab[data-path="main.c"]:not(.dirty)');
  assert.equal(fs.readFileSync(path.join(project, 'main.c'), 'utf8'), `${EDIT}\n${ORIGINAL}`);
  await until(() => backups().length === 0, 'the backup to be dropped after Save');
});

test('Discard drops the backups; a page with a dirty buffer asks before it is left (beforeunload)', async () => {
  const p = s.page;
  await p.click('.monaco-editor .view-lines');
  await p.keyboard.type('x');
  await p.waitForSelector('.tab.dirty[data-path="main.c"]');
  await until(() => backups().length === 1, 'the backup');
  const dialogs: string[] = [];
  p.on('dialog', (d) => {
    dialogs.push(d.type());
    void d.accept(); // leave the page
  });
  // (headless Chromium runs beforeunload prompts on navigation, not on page.close)
  await p.goto('about:blank');
  await until(() => dialogs.includes('beforeunload'), 'the leave-page prompt', 10000);
  // The page is loaded again (same backend): the edit is offered again; Discard deletes the backup.
  await p.goto(s.url);
  await p.waitForSelector('[role="dialog"][aria-label="Restore unsaved changes?"]');
  await p.click('[role="dialog"] button:has-text("Discard")');
  await until(() => backups().length === 0, 'Discard to drop the backup');
  assert.equal(fs.readFileSync(path.join(project, 'main.c'), 'utf8'), `${EDIT}\n${ORIGINAL}`);
});
