/*
 * Workspace trust end to end in headless Chromium against the browser mode: an untrusted copy of a
 * small project whose build.command would create a marker file opens in restricted mode; Run shows
 * the build command and the QEMU command line and asks — Cancel leaves no marker (and no terminal
 * opens), Trust runs the build; a changed build command asks again.
 * Screenshots: test-results/screenshots/e2e-trust-*.png
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, openSession, shot, waitForText, type Session } from './harness.js';

let s: Session;
let project: string;
let marker: string;

before(async () => {
  buildApp();
  project = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-untrusted-')));
  marker = path.join(project, 'MARKER');
  fs.writeFileSync(path.join(project, 'main.c'), 'int main(void) { return 0; }\n');
  fs.writeFileSync(
    path.join(project, 'lanescope.json'),
    JSON.stringify({ name: 'untrusted', build: { command: 'touch MARKER && echo built-the-marker' }, qemu: { kernel: 'build/kernel.elf', extraArgs: ['-d', 'guest_errors'] } }, null, 2),
  );
  s = await openSession(project, undefined, { trusted: false });
});

after(async () => {
  await s?.close();
});

const state = async () => (await s.page.textContent('#status-state')) ?? '';

test('an untrusted folder opens in restricted mode; Run shows what it would execute; Cancel runs nothing', async () => {
  const p = s.page;
  await p.waitForSelector('#status-trust:not([hidden])');
  await p.click('#btn-run');
  const dlg = await p.waitForSelector('[role="dialog"][aria-label="Trust this folder?"]');
  const build = (await dlg.$eval('.trust-build', (e) => e.textContent)) ?? '';
  const qemu = (await dlg.$eval('.trust-qemu', (e) => e.textContent)) ?? '';
  assert.match(build, /sh -c 'touch MARKER && echo built-the-marker'/);
  assert.match(qemu, /^\$ qemu-system-x86_64 .*-kernel \S*build\/kernel\.elf .*-d guest_errors/);
  await shot(p, 'e2e-trust-1-asked');
  await p.click('[role="dialog"] button:has-text("Cancel")');
  await p.waitForSelector('[role="dialog"]', { state: 'detached' });
  await p.waitForTimeout(1000);
  assert.equal(fs.existsSync(marker), false, 'Cancel must not run the build');
  assert.equal(await state(), 'idle');
  // no terminal in an untrusted folder either (refused by the backend)
  await p.click('#panel-tab-terminal');
  await waitForText(p, () => p.evaluate('window.lanescopeDebug.terminalText()') as Promise<string>, /cannot start a terminal: .*not trusted/, 10000, 'the refused terminal');
  // F5 asks too; Escape is Cancel
  await p.click('#panel-tab-console');
  await p.keyboard.press('F5');
  await p.waitForSelector('[role="dialog"][aria-label="Trust this folder?"]');
  await p.keyboard.press('Escape');
  await p.waitForSelector('[role="dialog"]', { state: 'detached' });
  await p.waitForTimeout(500);
  assert.equal(fs.existsSync(marker), false);
});

test('Trust runs the build and is remembered in the state directory; a changed build command asks again', async () => {
  const p = s.page;
  await p.click('#btn-run');
  await p.waitForSelector('[role="dialog"][aria-label="Trust this folder?"]');
  await p.click('[role="dialog"] button:has-text("Trust")');
  const end = Date.now() + 30000;
  while (!fs.existsSync(marker) && Date.now() < end) await p.waitForTimeout(100);
  assert.ok(fs.existsSync(marker), 'Trust must run the build');
  await waitForText(p, () => p.evaluate('window.lanescopeDebug.buildText()') as Promise<string>, /built-the-marker/, 10000, 'the build output');
  // (no kernel was built, so the boot fails with a clear message: that is not the point here)
  await waitForText(p, state, /failed/, 30000, 'the end of the Run');
  await p.waitForSelector('#status-trust', { state: 'hidden' });
  const saved = JSON.parse(fs.readFileSync(path.join(s.stateDir, 'trust.json'), 'utf8'));
  assert.ok(saved.folders[project]?.hash, JSON.stringify(saved));
  await shot(p, 'e2e-trust-2-trusted');

  // Another command in lanescope.json: restricted again, Run asks with the new command.
  fs.rmSync(marker);
  const cfgFile = path.join(project, 'lanescope.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.build.command = 'touch MARKER && echo changed-command';
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  await p.click('#btn-run');
  const dlg = await p.waitForSelector('[role="dialog"][aria-label="Trust this folder?"]');
  assert.match((await dlg.textContent()) ?? '', /changed since you trusted it[\s\S]*echo changed-command/);
  await p.click('[role="dialog"] button:has-text("Cancel")');
  await p.waitForTimeout(1000);
  assert.equal(fs.existsSync(marker), false);
  await p.waitForSelector('#status-trust:not([hidden])');
});
