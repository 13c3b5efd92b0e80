/*
 * End to end, browser mode: Break on next cancellation (issue 15), on a copy of the bundled LaneOS
 * project with real make, QEMU under TCG, gdb through the bridge, and Chromium.
 *   Debug (⚙) → the Cancellations view (Ctrl+Shift+Y) → Break on next cancellation ▸ of any
 *   syscall → `cat /dev/slow` in the console, Ctrl-C → the target stops where a server handles
 *   the cancel (the kernel's trace_user entry, called by the server's cancel handler to write its
 *   cancel_ack), and
 *     - the editor shows that server's own source line (a user program under programs/), not the
 *       kernel's;
 *     - the view says which server stopped, for which call, with what progress;
 *   → Continue: cat ends (SIGINT's default action) and the shell prompt comes back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, qemuProcesses, repo, shot, waitForText, type Session } from './harness.js';

let s: Session | undefined;
let project: string | undefined;

after(async () => {
  await s?.close();
  assert.deepEqual(qemuProcesses(project ?? '/nonexistent'), [], 'QEMU left running after the session closed');
});

interface Frame { func: string; file?: string; line?: number; user?: boolean; space?: string }
interface Status { phase: string; stop?: { stopId: number; frames: Frame[]; location: { file: string; line: number } | null; hit?: { file: string; line: number } } }

test('Debug, Break on next cancellation, cat /dev/slow + Ctrl-C: stops in the server handling the cancel; Continue ends cat', { timeout: 900000 }, async () => {
  buildApp();
  project = copyProject(path.join(repo, 'os'));
  const cfgFile = path.join(project, 'lanescope.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { qemu: { accel: string } };
  cfg.qemu.accel = process.env['LANESCOPE_E2E_ACCEL'] ?? 'tcg';
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  s = await openSession(project);
  const p = s.page;
  const dbgState = async () => (await p.textContent('#dbg-state')) ?? '';
  const status = () => p.evaluate('window.lanescopeDebugger.status()') as Promise<Status>;
  const cancelStatus = () => p.getByTestId('cancel-status').innerText();

  await p.click('#btn-debug');
  await waitForText(p, dbgState, /^Running/, 600000, 'the debug session running');
  await p.click('#panel-tab-console');
  await waitForText(p, consoleText, /lanes\$ /, 600000, 'the shell prompt');
  await p.keyboard.press('Control+Shift+Y');
  await p.waitForSelector('#editor-wrap [data-testid=cancel-view]');
  await p.locator('select[aria-label="Break on next cancellation"]').selectOption('any');
  await waitForText(p, cancelStatus, /armed: break on the next cancellation/, 60000, 'the break armed');

  const before = (await status()).stop?.stopId ?? 0;
  await p.click('#panel-tab-console');
  const input = p.locator('textarea[aria-label="Target console input"]');
  await input.focus();
  await p.keyboard.type('cat /dev/slow\r');
  await p.waitForTimeout(3000); // let it read a little
  await input.focus();
  await p.keyboard.press('Control+c');

  const text = await waitForText(p, dbgState, /Stopped|ended/, 300000, 'the stop at the next cancellation');
  assert.match(text, /^Stopped/, text);
  const st = await status();
  assert.ok(st.stop && st.stop.stopId > before, 'a new stop');
  assert.equal(st.stop.hit?.file, 'kernel/generic/sys_signal.c', `stopped at the cancel_ack's trace_user: ${JSON.stringify(st.stop.hit)}`);
  // the editor: the server's own line that acknowledges the cancel
  const loc = st.stop.location;
  assert.ok(loc && /^programs\/(fs|posix|console)\//.test(loc.file), `the server's source in the editor: ${JSON.stringify(loc)}`);
  const user = st.stop.frames.filter((f) => f.user);
  assert.ok(user.length > 0 && user.every((f) => f.space && /^(fs|posix|console)$/.test(f.space)), `the server's user frames: ${JSON.stringify(user.map((f) => [f.space, f.func]))}`);
  await waitForText(p, cancelStatus, /stopped in (fs|posix|console) \(pid \d+\) handling the cancel of /, 60000, 'the view saying which server stopped for which call');
  await shot(p, 'cancel-break-stopped');

  await p.click('#panel-tab-debug');
  await p.click('#dbg-continue');
  await waitForText(p, dbgState, /^Running/, 60000, 'running again');
  await p.click('#panel-tab-console');
  // (the prompt; init's own report of the kill — "init: process cat (pid N) was killed" — may
  // come before or after it: two processes writing to one console)
  await waitForText(p, consoleText, /\^C[\s\S]*sh: cat killed[\s\S]*lanes\$ /, 300000, 'the prompt back after cat ended');
  await p.keyboard.press('Shift+F5');
  await waitForText(p, dbgState, /Session ended/, 60000, 'the session to end with Stop');
});
