/*
 * End to end, browser mode: the IPC lanes panel.
 *  1. A saved trace (ipc-demo recorded as LaneOS records it, made with the trace encoders) opened
 *     from the panel's toolbar: the view shows the processes and conversations; clicking an arrow
 *     fills the detail panel; → / ↓ step along the conversation / lane and the detail follows.
 *  2. Live (needs os/programs/ipc-demo and Run recording the trace): Run, type `ipc-demo` in the
 *     console, the panel shows its processes and conversations as they happen.
 * Screenshots: test-results/screenshots/ipc-view-app-*.png.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { demoTraceFile } from '../ipc-fixture.js';
import { buildApp, consoleText, copyProject, openSession, repo, shot, waitForText, type Session } from './harness.js';

let s: Session | undefined;

before(() => buildApp());
after(async () => {
  await s?.close();
});

/** Evaluated in the page (strings: the test's tsconfig has no DOM types). */
const IPC = 'window.lanescopeDebug.ipc';
/* Page-side predicates are functions, never strings: the renderer's CSP forbids eval, and Playwright
 * evaluates string predicates with eval while polling. They run in the page, so they reach the model
 * through globalThis themselves (the app's test tsconfig has no DOM lib). */
type IpcModelProbe = { msgCount?: number; convs?: { depth: number; messages: number }[] };

test('saved trace: open it from the panel, see processes and conversations, click and step', { timeout: 300000 }, async () => {
  const project = copyProject(path.join(repo, 'os'));
  // the IPC ABI tables (error names, message types) the view reads, as `make -C os` generates them
  const gen = spawnSync('python3', [path.join(project, 'abi/gen.py'), '--abi-dir', path.join(project, 'abi'), '--json-out', path.join(project, 'build/abi.json')], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const { file } = demoTraceFile(3);
  s = await openSession(project);
  const p = s.page;
  await p.click('#panel-tab-ipc');
  await p.waitForSelector('[data-testid=ipc-view]');
  p.once('dialog', (d) => void d.accept(file));
  await p.getByRole('button', { name: 'Open trace…' }).click();
  await p.waitForFunction((n) => (globalThis as unknown as { lanescopeDebug?: { ipc?: { model?: IpcModelProbe } } }).lanescopeDebug?.ipc?.model?.msgCount === n, 30, { timeout: 30000 });
  const procs = (await p.evaluate(`${IPC}.model.processOrder.filter((x) => x.ops > 0).map((x) => x.name)`)) as string[];
  assert.deepEqual(procs, ['ipc-demo', 'demo-a', 'demo-b']);
  const tree = await p.locator('.ipcv-tree .ipcv-node').allTextContents();
  assert.equal(tree.length, 2, 'two root lanes (client↔demo-a, demo-a↔demo-b) with their conversations');
  assert.match(await p.getByTestId('ipc-status').innerText(), /trace: ipc-demo\.ltrace · 30 messages · 66 ops · 11 conversations/);
  // zoom to the first round and click the posix.Read arrow (message 1)
  const pos = (await p.evaluate(`(() => {
    const { model, view } = ${IPC};
    view.setViewport(model.msgNs[0] - 20000, model.msgNs[9] + 80000);
    view.renderNow();
    const vp = view.viewport();
    const c = document.querySelector('.ipcv canvas').getBoundingClientRect();
    return { x: c.left + vp.x0 + ((model.msgNs[1] - vp.t0) / (vp.t1 - vp.t0)) * vp.width, y: c.top + 28 + 36 };
  })()`)) as { x: number; y: number };
  await p.mouse.click(pos.x, pos.y);
  const title = p.getByTestId('ipc-detail-title');
  await waitForText(p, () => title.innerText(), /posix\.Read #1/, 5000, 'the selected message in the detail panel');
  const detail = await p.getByTestId('ipc-detail').innerText();
  assert.match(detail, /posix\.Read\{fd: 3, size: 4096\}/);
  assert.match(detail, /from: ipc-demo \[10\]/);
  await shot(p, 'ipc-view-app-selected');
  await p.locator('.ipcv canvas').focus();
  await p.keyboard.press('ArrowRight');
  await waitForText(p, () => title.innerText(), /posix\.Reply #8/, 5000, 'Next in conversation');
  assert.match(await p.getByTestId('ipc-detail').innerText(), /from: demo-a \[11\]/);
  await p.keyboard.press('ArrowLeft');
  await p.keyboard.press('ArrowLeft');
  await p.keyboard.press('ArrowDown');
  await waitForText(p, () => title.innerText(), /message #10/, 5000, 'Next on the lane (the next round\'s offer)');
  await shot(p, 'ipc-view-app-stepped');
  // the view moves into the editor area (same instance: its selection stays) and back to the panel
  const panelH = (await p.locator('.ipcv canvas').boundingBox())!.height;
  await p.getByRole('button', { name: 'Open IPC lanes in the editor area' }).click();
  await p.waitForSelector('#editor-tab-ipc.active');
  await p.waitForSelector('#editor-wrap [data-testid=ipc-view]');
  await p.waitForFunction(`(document.querySelector('#editor-wrap .ipcv canvas')?.getBoundingClientRect().height ?? 0) > ${panelH}`, undefined, { timeout: 5000 });
  assert.match(await title.innerText(), /message #10/, 'the same view, its selection kept');
  assert.equal(await p.locator('#editor').isVisible(), false, 'the view is shown in place of the editor');
  await shot(p, 'ipc-view-app-editor-tab');
  await p.getByRole('button', { name: 'Move IPC lanes back to the panel' }).click();
  await p.waitForSelector('#panel-body [data-testid=ipc-view]');
  assert.equal(await p.locator('#editor-tab-ipc').count(), 0);
  assert.equal(await p.locator('#panel-tab-ipc').getAttribute('aria-selected'), 'true');
  assert.deepEqual(s.consoleErrors.filter((e) => !/Content Security Policy|unsafe-eval/.test(e)), []);
  await s.close();
  s = undefined;
});

// ipc-demo (issue 4's demo) when it exists, else ipctests (the IPC test program) as the traffic
const DEMO = fs.existsSync(path.join(repo, 'os/programs/ipc-demo')) ? 'ipc-demo' : 'ipctests';
test(`live: Run, start ${DEMO} in the console, the view shows its processes and conversations as they happen`, { timeout: 900000 }, async () => {
  const project = copyProject(path.join(repo, 'os'));
  // the IPC programs are syscall-heavy: TCG by default here (nested KVM exits on every syscall);
  // LANESCOPE_E2E_ACCEL=kvm|auto to choose
  const cfgFile = path.join(project, 'lanescope.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { qemu: { accel: string } };
  cfg.qemu.accel = process.env['LANESCOPE_E2E_ACCEL'] ?? 'tcg';
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  s = await openSession(project);
  const p = s.page;
  await p.click('#panel-tab-ipc');
  await p.waitForSelector('[data-testid=ipc-view]');
  await p.click('#panel-tab-console');
  await p.keyboard.press('F5');
  await waitForText(p, consoleText, /lanes\$ /, 600000, 'the shell prompt');
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type(`${DEMO}\r`);
  await p.click('#panel-tab-ipc');
  const status = await waitForText(p, () => p.getByTestId('ipc-status').innerText(), /live: .* · [1-9][\d,]* messages/, 300000, `live IPC messages from ${DEMO}`);
  // other processes talk IPC too (mbus, the console server): wait for the demo's own
  await p.waitForFunction((name) => (globalThis as unknown as { lanescopeDebug: { ipc: { model: { processOrder: { name: string; ops: number }[] } } } }).lanescopeDebug.ipc.model.processOrder.some((x) => x.name.includes(name) && x.ops > 0), DEMO, { timeout: 300000 });
  const procs = (await p.evaluate(`${IPC}.model.processOrder.filter((x) => x.ops > 0).map((x) => x.name)`)) as string[];
  assert.ok(procs.some((n) => n.includes(DEMO)), `${DEMO} takes part in IPC: ${procs.join(', ')}`);
  // conversations (child streams from offer/accept) appear as the program opens them
  await p.waitForFunction(() => (globalThis as unknown as { lanescopeDebug?: { ipc?: { model?: IpcModelProbe } } }).lanescopeDebug?.ipc?.model?.convs?.some((c) => c.depth > 0 && c.messages > 0) === true, undefined, { timeout: 600000 });
  const convs = (await p.evaluate(`${IPC}.model.convs.filter((c) => c.depth > 0).length`)) as number;
  await p.waitForTimeout(1500);
  await shot(p, 'ipc-view-app-live');
  const after = (await p.evaluate(`${IPC}.model.msgCount`)) as number;
  console.log(`# live: ${status.split(' · ').slice(0, 4).join(' · ')}; then ${after} messages, ${convs} nested conversations`);
  assert.ok(convs >= 1);
  assert.ok(after >= 1);

  // Issue 13's story in the same session: the user types the command, gets wc's answer, and the
  // view shows wc's posix.Open going to the posix server and its fs.Read going straight to fs on
  // the file's passthrough lane, each decoded in the detail panel when selected.
  await p.click('#panel-tab-console');
  const before = (await consoleText(p)).length;
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type('ls /bin | cat > /tmp/l; wc /tmp/l\r');
  const wc = await waitForText(p, async () => (await consoleText(p)).slice(before), /\d+\s+\d+\s+\d+ \/tmp\/l/, 300000, "wc's answer");
  const nbin = fs.readdirSync(path.join(project, 'build/initrd/bin')).length;
  assert.match(wc, new RegExp(`\\b${nbin}\\s+${nbin}\\s+\\d+ /tmp/l`), `one line per program in /bin (${nbin})`);
  await p.click('#panel-tab-ipc');
  // the live feed may be a moment behind the console: wait until both messages are in the model
  type Probe = { msgCount: number; messageDetail(m: number): { type: string; src: { process: string }; dst: { process: string } } };
  const find = () => {
    const model = (globalThis as unknown as { lanescopeDebug: { ipc: { model: Probe } } }).lanescopeDebug.ipc.model;
    const found: Record<string, number> = {};
    for (let m = model.msgCount - 1; m >= 0; m--) {
      const d = model.messageDetail(m);
      const wcSide = /^wc/.test(d.src.process) ? d.dst : /^wc/.test(d.dst.process) ? d.src : undefined;
      if (!wcSide) continue;
      if (d.type === 'posix.Open' && /^posix/.test(wcSide.process)) found['open'] = m;
      if (d.type === 'fs.Read' && /^fs\b/.test(wcSide.process)) found['read'] = m;
    }
    return found['open'] !== undefined && found['read'] !== undefined ? found : null;
  };
  const handle = await p.waitForFunction(find, undefined, { timeout: 300000 });
  const { open, read } = (await handle.jsonValue()) as { open: number; read: number };
  assert.ok(read > open, 'wc reads after it opened');
  const title = p.getByTestId('ipc-detail-title');
  for (const [m, type, peer] of [[open, 'posix.Open', /posix \[\d+\]/], [read, 'fs.Read', /fs \[\d+\]/]] as const) {
    await p.evaluate(`${IPC}.view.select(${m}, true)`);
    await waitForText(p, () => title.innerText(), new RegExp(`${type.replace('.', '\\.')} #${m}`), 5000, `${type} selected`);
    const detail = await p.getByTestId('ipc-detail').innerText();
    assert.match(detail, new RegExp(`${type.replace('.', '\\.')}\\{.+\\}`), `${type} decoded in the detail panel:\n${detail}`);
    assert.match(detail, /wc \[\d+\]/, `wc is one end:\n${detail}`);
    assert.match(detail, peer, `the other end:\n${detail}`);
  }
  await shot(p, 'ipc-view-app-posix');
  await p.keyboard.press('Shift+F5');
});
