/*
 * End to end, browser mode: postmortem in a plain Run (not Debug). Run LaneOS (TCG) booted with
 * smap.crash, type `crashme null` in the console: the Crashes panel lists it (SIGSEGV at 0x0 in
 * store_answer, the core's path), and clicking it opens programs/crashme/main.c at the line marked
 * CRASH-LINE null. Then `usertests ktest` makes the kernel panic on purpose (its SMAP self-test reads
 * user memory with a plain load): the Panic panel comes up with the message, the backtrace's first
 * frame (t_smap_smep, the trapping function) at its source line, and the last trace events of the
 * CPU — while the console still shows the panic text.
 * The core: Lanescope copies it out of the guest during the Run (the guest's `upload`, typed at the
 * prompt; its records never reach the console panel) into the state folder; clicking the crash
 * opens it in the Debug panels — Call Stack store_answer < … < main at the CRASH-LINE, local_answer
 * = 42, the editor's current line, Continue and Step disabled. The Panic panel also shows the flight
 * recorder read from the halted guest's memory. Then Lanescope is restarted on the same state
 * folder: the crash is listed under earlier Runs and opens the same way.
 * Screenshots: test-results/screenshots/postmortem-crashes.png, postmortem-core.png,
 * postmortem-panic.png, postmortem-restart.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, repo, shot, waitForText, type Session } from './harness.js';
import type { Page } from 'playwright-core';

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
  // (the row is redrawn as its core is copied: read it through locators, never a held element)
  const rowSel = '#panel-crashes .crash[data-file="programs/crashme/main.c"]';
  await p.waitForSelector(rowSel, { timeout: 30000 });
  const text = (await p.locator(rowSel).first().textContent()) ?? '';
  assert.match(text, /crashme \(pid \d+\): SIGSEGV at address 0x0 in store_answer/);
  assert.match(text, /core \/var\/core\/core\.crashme\.\d+/);
  assert.equal(await p.locator(rowSel).first().getAttribute('data-line'), String(crashLine));

  // the core, copied out of the guest during the Run, opens in the Debug panels (and the editor at the line)
  const stored = p.locator('#panel-crashes .crash[data-core="stored"]').first();
  await stored.waitFor({ timeout: 120000 });
  assert.match((await stored.textContent()) ?? '', /copied \([\d,]+ bytes\): click to debug it/);
  await shot(p, 'postmortem-crashes');
  assert.doesNotMatch(await consoleText(p), /@@lanes-upload|^F \. \d+ /m, 'the upload\'s records stay out of the console panel');
  assert.match(await consoleText(p), /Lanescope copied \/var\/core\/core\.crashme\.\d+/);
  await checkCore(p, crashLine);
  await waitForText(p, async (pg) => (await pg.textContent('#status-cursor')) ?? '', new RegExp(`^Ln ${crashLine}, Col \\d+$`), 10000, `the cursor on line ${crashLine}`);
  await shot(p, 'postmortem-core');
  await p.click('#panel-tab-crashes');

  await p.click('#panel-tab-console');
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type('usertests ktest\r');
  await waitForText(p, consoleText, /KERNEL PANIC: [^\n]*SMAP/, 300000, 'the panic in the console');
  // the panel comes to the front by itself
  await p.waitForSelector('#panel-panic .panic-message', { timeout: 60000 });
  const msg = (await p.textContent('#panel-panic .panic-message')) ?? '';
  assert.match(msg, /KERNEL PANIC on cpu\d+: .*SMAP/);
  const frame0 = await p.waitForSelector('#panel-panic .panic-frame[data-frame="0"]', { timeout: 60000 });
  assert.equal(await frame0.getAttribute('data-function'), 't_smap_smep');
  assert.match((await frame0.textContent()) ?? '', /kernel\/generic\/ktest\.c:\d+/);
  await p.waitForSelector('#panel-panic pre.panic-events', { timeout: 60000 });
  const events = (await p.textContent('#panel-panic .panic-trace')) ?? '';
  assert.match(events, /cpu\d+ \w+\.\w+/, 'trace events listed per CPU');
  assert.match(await consoleText(p), /System halted\./, 'the console still shows the panic text');
  await p.locator('#panel-panic .panic-frame[data-frame="0"]').click();
  await p.waitForSelector('.tab.active[data-path="kernel/generic/ktest.c"]', { timeout: 30000 });
  // the flight recorder, read from the halted guest's memory through Lanescope's postmortem stub
  await p.waitForSelector('#panel-panic .panic-flight pre.panic-events.flight', { timeout: 120000 });
  assert.match((await p.textContent('#panel-panic .panic-flight')) ?? '', /log .*SMAP/, 'the panic\'s own log record among the last events');
  // the flight recorder's arrival redrew only its own box: the backtrace's buttons (one was just
  // clicked, maybe while the rings were being read) stayed the same elements
  assert.equal(await frame0.evaluate((e) => e.isConnected), true, 'frame 0 was not replaced under the pointer');
  await shot(p, 'postmortem-panic');
  await p.keyboard.press('Shift+F5');

  // Lanescope restarted on the same state folder: yesterday's crash opens today
  const stateDir = s.stateDir;
  await s.close();
  s = await openSession(project, stateDir);
  const q = s.page;
  await q.click('#panel-tab-crashes');
  const earlier = await q.waitForSelector('#panel-crashes .crash.earlier[data-core="stored"]', { timeout: 30000 });
  assert.match((await earlier.textContent()) ?? '', /crashme \(pid \d+\): SIGSEGV at address 0x0 in store_answer/);
  assert.match((await q.textContent('#panel-crashes')) ?? '', /Earlier Runs \(1,/);
  await checkCore(q, crashLine, '#panel-crashes .crash.earlier');
  await shot(q, 'postmortem-restart');
});

/** Clicks the (first) crash with a stored core and checks the Debug panels show the core's stop. */
async function checkCore(p: Page, crashLine: number, row = '#panel-crashes .crash[data-core="stored"]'): Promise<void> {
  await p.click(row);
  await p.waitForSelector('#panel-debug[data-core]', { timeout: 60000 });
  await p.waitForSelector('#panel-debug .dbg-stack .dbg-frame[data-func="store_answer"]', { timeout: 60000 });
  const frames = await p.$$eval('#panel-debug .dbg-stack .dbg-frame', (els) => els.map((e) => e.textContent ?? ''));
  assert.match(frames[0] ?? '', new RegExp(`store_answer programs/crashme/main\\.c:${crashLine}`), `frame 0 at the CRASH-LINE: ${frames.join(' | ')}`);
  assert.ok(frames.some((f) => /^main /.test(f)), `main on the call stack: ${frames.join(' | ')}`);
  const state = (await p.textContent('#dbg-state')) ?? '';
  assert.match(state, /^Core file \(read-only\): core of crashme \(pid \d+\): SIGSEGV at address 0x0 in store_answer/);
  const v = await p.waitForSelector('#panel-debug .dbg-variables .dbg-var[data-name="local_answer"] .dbg-value', { timeout: 30000 });
  assert.equal((await v.textContent())?.trim(), '42');
  assert.equal(await p.isDisabled('#dbg-continue'), true, 'Continue is off for a core');
  assert.equal(await p.isDisabled('#dbg-step'), true);
  await waitForText(p, async (pg) => String(((await pg.evaluate('window.lanescopeDebugger.decorations()')) as { current: number | null }).current), new RegExp(`^${crashLine}$`), 20000, 'the editor\'s current line at the crash');
  await p.waitForSelector('.tab.active[data-path="programs/crashme/main.c"]');
}
