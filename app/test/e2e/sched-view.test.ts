/*
 * End to end, browser mode: the Scheduler panel, live. Run LaneOS (TCG, 4 CPUs), type `spin 4 3`
 * in the console (4 busy threads started on CPU 0), open the Scheduler panel: it shows the CPU
 * tracks, migrations with reason `balance` (and the balancer's numbers in words) and the loads
 * converging — the spinners end up on different CPUs. Screenshot:
 * test-results/screenshots/sched-view-app-live.png.
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

type Probe = { lanescopeDebug?: { sched?: { model?: { migrations: { reason: string; tid: number; to: number }[]; describe(m: unknown): string } } } };

test('live: Run, spin 4 in the console, the Scheduler view shows balance migrations and why', { timeout: 900000 }, async () => {
  const project = copyProject(path.join(repo, 'os'));
  const cfgFile = path.join(project, 'lanescope.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { qemu: { accel: string; cpus: number } };
  cfg.qemu.accel = process.env['LANESCOPE_E2E_ACCEL'] ?? 'tcg';
  cfg.qemu.cpus = 4;
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  s = await openSession(project);
  const p = s.page;
  await p.click('#panel-tab-sched');
  await p.waitForSelector('[data-testid=sched-view]');
  await p.click('#panel-tab-console');
  await p.keyboard.press('F5');
  await waitForText(p, consoleText, /lanes\$ /, 600000, 'the shell prompt');
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type('spin 4 3\r');
  await p.click('#panel-tab-sched');
  await waitForText(p, consoleText, /spin: makespan/, 300000, 'spin to finish');
  await p.waitForFunction(() => (globalThis as unknown as Probe).lanescopeDebug?.sched?.model?.migrations.some((m) => m.reason === 'balance' || m.reason === 'steal') === true, undefined, { timeout: 300000 });
  const why = (await p.evaluate(() => {
    const m = (globalThis as unknown as Probe).lanescopeDebug!.sched!.model!;
    const x = m.migrations.find((e) => e.reason === 'balance') ?? m.migrations.find((e) => e.reason === 'steal');
    return m.describe(x);
  })) as string;
  const status = await p.getByTestId('sched-status').innerText();
  await p.waitForTimeout(1000);
  await shot(p, 'sched-view-app-live');
  console.log(`# live: ${status}; e.g. ${why}`);
  assert.match(status, /4 CPUs/);
  assert.match(why, /cpu\d → cpu\d, (balance|steal)/);
  await p.keyboard.press('Shift+F5');
});
