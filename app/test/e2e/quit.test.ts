/*
 * Quit with a dirty buffer asks first, end to end in the browser mode (issue 21, "quitting loses
 * unsaved edits"): the browser mode's Quit is Ctrl+C on the server (SIGINT); it runs the same state
 * machine as Electron's Quit (app/common/quit-flow.ts, server/quit.ts) and the page the same
 * Save / Don't Save / Cancel dialog (browser/hot-exit.ts) through `app.closeRequested` /
 * `app.closeAnswer`. Cancel keeps the server and the edit; Don't Save quits without writing the file
 * and drops its backup; Save writes it, then quits. (Electron's binary cannot run here: its half,
 * the same quitStep, is unit-tested in quit-flow.test.ts.)
 * Screenshot: test-results/screenshots/e2e-quit-ask.png
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { buildApp, openSession, shot, startServer, type Session } from './harness.js';

let s: Session;
let project: string;
const ORIGINAL = 'int main(void) {\n  return 0;\n}\n';

before(async () => {
  buildApp();
  project = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-quit-')));
  fs.writeFileSync(path.join(project, 'main.c'), ORIGINAL);
  fs.writeFileSync(path.join(project, 'lanescope.json'), JSON.stringify({ name: 'quit', build: { command: null }, qemu: { kernel: 'k' } }));
  s = await openSession(project);
});

after(async () => {
  await s?.close();
  fs.rmSync(project, { recursive: true, force: true });
});

const disk = () => fs.readFileSync(path.join(project, 'main.c'), 'utf8');
const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));
function backups(): string[] {
  const dir = path.join(s.stateDir, 'backups');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d)).filter((f) => f.endsWith('.json')));
}

async function edit(p: Page, text: string): Promise<void> {
  await p.click('#tree [data-path="main.c"]');
  await p.waitForSelector('.tab.active[data-path="main.c"]');
  await p.click('.monaco-editor .view-lines');
  await p.keyboard.press('Control+Home');
  await p.keyboard.type(text);
  await p.waitForSelector('.tab.dirty[data-path="main.c"]');
}

async function quitAndAnswer(p: Page, button: 'Save' | "Don't Save" | 'Cancel'): Promise<void> {
  s.server.kill('SIGINT'); // Ctrl+C on `npm start`'s server: the browser mode's Quit
  const dlg = await p.waitForSelector('[role="dialog"][aria-label="Unsaved changes"]', { timeout: 15000 });
  assert.match((await dlg.textContent()) ?? '', /main\.c has unsaved changes/);
  for (const b of ['Save', "Don't Save", 'Cancel']) assert.ok(await dlg.$(`button:text-is("${b}")`), `the dialog offers ${b}`);
  if (button === 'Cancel') await shot(p, 'e2e-quit-ask');
  await (await dlg.$(`button:text-is("${button}")`))!.click();
}

test('Quit with a dirty buffer asks; Cancel keeps the server and the edit; Don\'t Save quits without writing', async () => {
  let p = s.page;
  await edit(p, '// cancel me\n');
  await quitAndAnswer(p, 'Cancel');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(s.server.exitCode, null, 'Cancel: the server keeps running');
  assert.equal(disk(), ORIGINAL);
  await p.waitForSelector('.tab.dirty[data-path="main.c"]');

  // Asked again (a new Ctrl+C): Don't Save → the server exits, the file is untouched, its backup dropped
  const done = exited(s.server);
  await quitAndAnswer(p, "Don't Save");
  assert.equal(await done, 0, 'Don\'t Save: the server shut down and exited');
  assert.equal(disk(), ORIGINAL, 'Don\'t Save must not write the file');
  assert.deepEqual(backups(), [], 'Don\'t Save drops the backup (nothing is offered back)');
  await p.close();

  // A new server and page: Save writes the edit, then quits
  const { server, url } = await startServer(project, s.stateDir);
  s.server = server;
  s.url = url;
  p = s.page = await s.browser.newPage({ viewport: { width: 1440, height: 900 } });
  await p.goto(url);
  await p.waitForSelector('body[data-ready=true]', { timeout: 60000 });
  assert.equal(await p.$('[role="dialog"][aria-label="Restore unsaved changes?"]'), null, 'nothing to restore after Don\'t Save');
  await edit(p, '// saved on quit\n');
  const done2 = exited(s.server);
  await quitAndAnswer(p, 'Save');
  assert.equal(await done2, 0, 'Save: the server shut down and exited');
  assert.equal(disk(), `// saved on quit\n${ORIGINAL}`, 'Save wrote the buffer before quitting');
});

test('Quit with no page connected does not wait for one', async () => {
  const { server } = await startServer(project, s.stateDir);
  s.server = server;
  const done = exited(server);
  server.kill('SIGINT');
  const code = await Promise.race([done, new Promise((r) => setTimeout(() => r('still running'), 15000))]);
  assert.equal(code, 0);
});
