/*
 * End to end, browser mode: the Scheduler panel, live. Run LaneOS (TCG, 4 CPUs), type `spin 8 3`
 * in the console (8 busy threads started on CPU 0: idle stealing takes one per idle CPU, the rest
 * only the balancer moves), open the Scheduler panel: it shows the CPU tracks, migrations with
 * reason `balance` (and the balancer's numbers in words) and the loads converging — a balance
 * round whose every CPU load is within 25 % of the ideal after one where CPU 0 was far above it.
 * Screenshot:
 * test-results/screenshots/sched-view-app-live.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, readmeShot, repo, shot, waitForText, type Session } from './harness.js';

let s: Session | undefined;

before(() => buildApp());
after(async () => {
  await s?.close();
});

type Round = { ns: number; ideal: number; before: number[]; after: number[] };
type Probe = { lanescopeDebug?: { sched?: { model?: { migrations: { reason: string; tid: number; to: number; ns: number }[]; rounds: Round[]; describe(m: unknown): string } } } };

test('live: Run, spin 8 in the console, the Scheduler view shows balance migrations, why, and the loads converging', { timeout: 900000 }, async () => {
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
  await p.keyboard.type('spin 8 3\r');
  await p.click('#panel-tab-sched');
  await waitForText(p, consoleText, /spin: makespan/, 300000, 'spin to finish');
  await p.waitForFunction(() => {
    const m = (globalThis as unknown as Probe).lanescopeDebug?.sched?.model;
    return m?.migrations.some((e) => e.reason === 'balance' && m.describe(e).startsWith('spin')) === true;
  }, undefined, { timeout: 300000 });
  const { why, converged } = await p.evaluate(() => {
    const m = (globalThis as unknown as Probe).lanescopeDebug!.sched!.model!;
    const x = m.migrations.find((e) => e.reason === 'balance' && m.describe(e).startsWith('spin'))!;
    // converging: a round of spin's (8 spinners on 4 CPUs: ideal about 2048, above what boot and the
    // shell make) with CPU 0 far above the ideal, then one with every CPU near it
    // (plain loops: tsx would wrap a named arrow function in a helper the page does not have)
    let far = -1;
    for (let i = 0; i < m.rounds.length && far < 0; i++) if (m.rounds[i]!.ideal >= 1536 && m.rounds[i]!.before[0]! > m.rounds[i]!.ideal * 1.5) far = i;
    let later: Round | undefined;
    for (let i = far + 1; far >= 0 && i < m.rounds.length && !later; i++) {
      const r = m.rounds[i]!;
      let ok = r.ideal >= 1536;
      for (const l of r.before) ok = ok && Math.abs(l - r.ideal) <= r.ideal * 0.25;
      if (ok) later = r;
    }
    return { why: m.describe(x), converged: far >= 0 && later ? `cpu0 ${m.rounds[far]!.before[0]} vs ideal ${m.rounds[far]!.ideal} → loads ${later.before.join('/')} after ${((later.ns - m.rounds[far]!.ns) / 1e6).toFixed(0)} ms` : '' };
  });
  const status = await p.getByTestId('sched-status').innerText();
  await p.waitForTimeout(1000);
  await shot(p, 'sched-view-app-live');
  await readmeShot(p, 'scheduler'); // the README's screenshot (copied there only by npm run screenshots)
  console.log(`# live: ${status}; e.g. ${why}`);
  assert.match(status, /4 CPUs/);
  assert.match(why, /cpu\d → cpu\d, balance \(round \d+, ideal \d+\)/);
  assert.ok(converged, 'no balance round with every CPU within 25 % of the ideal after CPU 0 was overloaded');
  console.log(`# converging: ${converged}`);
  await p.keyboard.press('Shift+F5');
});
