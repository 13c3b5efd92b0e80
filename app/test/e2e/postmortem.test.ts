/*
 * End to end, browser mode: postmortem in a plain Run (not Debug). Run LaneOS (TCG) booted with
 * smap.crash, type `crashme null` in the console: the Crashes panel lists it (SIGSEGV at 0x0 in
 * store_answer, the core's path), and clicking it opens programs/crashme/main.c at the line marked
 * CRASH-LINE null. Then `usertests ktest` makes the kernel panic on purpose (its SMAP self-test reads
 * user memory with a plain load): the Panic panel comes up with the message, the backtrace's first
 * frame (t_smap_smep, the trapping function) at its source line, and the last trace events of the
 * CPU — while the console still shows the panic text. Screenshots: test-results/screenshots/
 * postmortem-crashes.png, postmortem-panic.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, repo, shot, waitForText, type Session } from './harness.js';

let s: Session | undefined;

before(() => buildApp());
after(async () => {
  await s?.close();
});

test('a crash in the Crashes list opens at its line; a kernel panic shows its backtrace and last trace events', { timeout: 1200000 }, async () => {
  const project = copyProject(path.join(repo, 'os'));
  const cfgFile = path.join(project, 'lanescope.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { qemu: { accel: string; append: string | null } };
  cfg.qemu.accel = process.env['LANESCOPE_E2E_ACCEL'] ?? 'tcg';
  cfg.qemu.append = 'smap.crash';
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  const crashLine = fs.readFileSync(path.join(project, 'programs/crashme/main.c'), 'utf8').split('\n').findIndex((l) => l.includes('CRASH-LINE null')) + 1;
  s = await openSession(project);
  const p = s.page;
  await p.click('#panel-tab-console');
  await p.keyboard.press('F5');
  await waitForText(p, consoleText, /lanes\$ /, 900000, 'the shell prompt');
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type('crashme null\r');
  await waitForText(p, consoleText, /core dumped to \/var\/core\/core\.crashme\.\d+/, 300000, 'the core line');
  await p.click('#panel-tab-crashes');
  const row = await p.waitForSelector('#panel-crashes .crash[data-file="programs/crashme/main.c"]', { timeout: 30000 });
  const text = (await row.textContent()) ?? '';
  assert.match(text, /crashme \(pid \d+\): SIGSEGV at address 0x0 in store_answer/);
  assert.match(text, /core \/var\/core\/core\.crashme\.\d+/);
  assert.equal(await row.getAttribute('data-line'), String(crashLine));
  await row.click();
  await p.waitForSelector('.tab.active[data-path="programs/crashme/main.c"]', { timeout: 30000 });
  await waitForText(p, async (pg) => (await pg.textContent('#status-cursor')) ?? '', new RegExp(`^Ln ${crashLine}, Col \\d+$`), 10000, `the cursor on line ${crashLine}`);
  await shot(p, 'postmortem-crashes');

  await p.click('#panel-tab-console');
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type('usertests ktest\r');
  await waitForText(p, consoleText, /KERNEL PANIC: [^\n]*SMAP/, 300000, 'the panic in the console');
  // the panel comes to the front by itself
  await p.waitForSelector('#panel-panic .panic-message', { timeout: 60000 });
  const msg = (await p.textContent('#panel-panic .panic-message')) ?? '';
  assert.match(msg, /KERNEL PANIC on cpu\d+: .*SMAP/);
  const frame0 = await p.waitForSelector('#panel-panic .panic-frame[data-frame="0"]');
  assert.equal(await frame0.getAttribute('data-function'), 't_smap_smep');
  assert.match((await frame0.textContent()) ?? '', /kernel\/generic\/ktest\.c:\d+/);
  await p.waitForSelector('#panel-panic pre.panic-events', { timeout: 60000 });
  const events = (await p.textContent('#panel-panic .panic-trace')) ?? '';
  assert.match(events, /cpu\d+ \w+\.\w+/, 'trace events listed per CPU');
  assert.match(await consoleText(p), /System halted\./, 'the console still shows the panic text');
  await p.locator('#panel-panic .panic-frame[data-frame="0"]').click();
  await p.waitForSelector('.tab.active[data-path="kernel/generic/ktest.c"]', { timeout: 30000 });
  await shot(p, 'postmortem-panic');
  await p.keyboard.press('Shift+F5');
});
