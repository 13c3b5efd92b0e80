/*
 * End to end, browser mode: the sysfs view, live. Run LaneOS (TCG, 2 CPUs), open the view with its
 * key (Ctrl+Alt+Y: a tab in the editor area): the tree shows /sys with the kernel's nodes
 * (kernel, devices/system/cpu/cpuN, drivers/…) as the trace's sysfs records arrive; `spin 2 2` in
 * the console makes a CPU's `load` change and the value updates in place; dragging the slider
 * back to boot hides the nodes that appeared later (the shared time cursor, and with it the IPC
 * lanes and Scheduler views, moves with it), and Live brings them back; a migration selected in
 * the Scheduler view moves this view to its moment. With the PCI server
 * (os/programs/pci) in the OS, the machine is q35 with an empty PCIe root port (as pcisysfs's
 * own os-test): /sys/devices/pci0000:00 is shown too, and an e1000e hot-added through QMP
 * (device_add on that port) followed by a rescan typed in the console (`echo 1 >
 * /sys/bus/pci/rescan`, as on Linux) appears live — its /sys/bus/pci/devices link resolving behind
 * the root port, its `config` shown as a hexdump from the trace's sysfs_bin_data records (4096
 * bytes through ECAM, starting with e1000e's 86 80 d3 10) — and vanishes when scrubbing back
 * before it; that part skips (saying why) while the OS has no PCI tree in sysfs.
 * Screenshots: test-results/screenshots/sysfs-view-app-{live,boot,hexdump}.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, readmeShot, repo, shot, waitForText, type Session } from './harness.js';

let s: Session | undefined;
let qmpSock = '';

before(() => buildApp());
after(async () => {
  await s?.close();
  if (qmpSock) fs.rmSync(path.dirname(qmpSock), { recursive: true, force: true });
});

const rows = (p: Session['page']) => p.evaluate('window.lanescopeDebug.sysfs.view.rowPaths()') as Promise<string[]>;
/** An expression: the model has the node `path` now. */
const hasNode = (path: string) => `(() => { const m = window.lanescopeDebug.sysfs.model; const e = m.find(${JSON.stringify(path)}); return e >= 0 && m.exists(e); })()`;
const modelHas = (p: Session['page'], path: string) => p.evaluate(hasNode(path)) as Promise<boolean>;
/**
 * Polls a page expression until it is truthy (from Node: waitForFunction evaluates its string in
 * the page with eval on every later poll, which the workbench's CSP forbids).
 */
async function until(p: Session['page'], expr: string, timeoutMs: number, what = expr): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await p.evaluate(expr)); await p.waitForTimeout(250)) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}
const cursor = (p: Session['page']) => p.evaluate('window.lanescopeDebug.sysfs.view.time()') as Promise<number | null>;

/** One QMP command over the Run's QMP socket (greeting, qmp_capabilities, then the command). */
function qmp(sock: string, cmd: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    let buf = '';
    let stage = 0;
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`QMP: no answer to ${JSON.stringify(cmd)}`));
    }, 20000);
    c.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        if (m.QMP) {
          c.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
          stage = 1;
        } else if (stage === 1 && (m.return || m.error)) {
          c.write(JSON.stringify(cmd) + '\n');
          stage = 2;
        } else if (stage === 2 && (m.return !== undefined || m.error)) {
          clearTimeout(timer);
          c.end();
          if (m.error) reject(new Error(`QMP ${JSON.stringify(cmd)}: ${m.error.desc}`));
          else resolve(m.return);
        }
      }
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

test('live: Run, open the sysfs view, the kernel\'s /sys grows, a load updates, scrubbing back to boot hides later nodes', { timeout: 1200000 }, async (t) => {
  const project = copyProject(path.join(repo, 'os'));
  const cfgFile = path.join(project, 'lanescope.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { qemu: { accel: string; cpus: number; machine: string; extraArgs: string[] } };
  cfg.qemu.accel = process.env['LANESCOPE_E2E_ACCEL'] ?? 'tcg';
  cfg.qemu.cpus = 2;
  // with the PCI server in the OS: q35 with an empty PCIe root port to hot-plug into (as pcisysfs's
  // own os-test does); the QMP socket lets the test device_add while LaneOS runs
  const withPci = fs.existsSync(path.join(project, 'programs/pci'));
  if (withPci) {
    cfg.qemu.machine = 'q35';
    cfg.qemu.extraArgs = [...cfg.qemu.extraArgs, '-device', 'pcie-root-port,id=rp3,chassis=3,slot=3'];
  }
  qmpSock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-qmp-')), 'qmp.sock');
  cfg.qemu.extraArgs = [...cfg.qemu.extraArgs, '-qmp', `unix:${qmpSock},server=on,wait=off`];
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  s = await openSession(project);
  const p = s.page;
  // the view's own key: a tab in the editor area
  await p.keyboard.press('Control+Alt+KeyY');
  await p.waitForSelector('#editor-tab-sysfs');
  await p.waitForSelector('[data-testid=sysfs-view]');
  await p.click('#panel-tab-console');
  await p.keyboard.press('F5');
  await waitForText(p, consoleText, /lanes\$ /, 900000, 'the shell prompt');
  // the kernel's nodes, as the live trace brings them
  await until(p, 'window.lanescopeDebug.sysfs.view.rowPaths().includes("/sys/drivers")', 120000);
  // the PCI server's tree comes once it has scanned, after the kernel's (a loaded host: seconds
  // later): a project with the server waits for it — only one without it skips the PCI part
  const hasPci = withPci;
  if (hasPci) await until(p, hasNode('/sys/devices/pci0000:00'), 120000, "the PCI server's /sys/devices/pci0000:00");
  await p.evaluate('window.lanescopeDebug.sysfs.view.expand("/sys/devices/system/cpu")');
  const live = await rows(p);
  for (const want of ['/sys', '/sys/kernel', '/sys/devices', '/sys/devices/system/cpu/cpu0', '/sys/devices/system/cpu/cpu1', '/sys/drivers']) assert.ok(live.includes(want), `${want} in the tree: ${live.join(' ')}`);
  if (hasPci) assert.ok(live.includes('/sys/devices/pci0000:00'));

  // a live attribute: cpuN/load changes while spin runs (the kernel's sampler traces it)
  const loadPath = '/sys/devices/system/cpu/cpu0/load';
  await p.evaluate(`window.lanescopeDebug.sysfs.view.navigate(${JSON.stringify(loadPath)})`);
  const row = p.locator(`.sysv-row[data-path="${loadPath}"] .sysv-val`);
  const before = await row.innerText();
  const changesBefore = (await p.evaluate(`window.lanescopeDebug.sysfs.model.changes(window.lanescopeDebug.sysfs.model.find(${JSON.stringify(loadPath)}))`)) as number;
  await p.click('#panel-tab-console');
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type('spin 2 2\r');
  await p.click('#editor-tab-sysfs');
  await until(p, `document.querySelector(${JSON.stringify(`.sysv-row[data-path="${loadPath}"] .sysv-val`)})?.textContent !== ${JSON.stringify(before)}`, 300000);
  const after1 = await row.innerText();
  const changesAfter = (await p.evaluate(`window.lanescopeDebug.sysfs.model.changes(window.lanescopeDebug.sysfs.model.find(${JSON.stringify(loadPath)}))`)) as number;
  assert.ok(changesAfter > changesBefore, `load changed: ${before} → ${after1} (${changesBefore} → ${changesAfter} values)`);
  assert.match(await p.locator('.sysv-side').innerText(), /\d+ values, min \d+, max \d+/, 'the sparkline describes the history');
  await waitForText(p, consoleText, /spin: makespan/, 300000, 'spin to finish');
  if (hasPci) await p.evaluate(`(() => { const v = window.lanescopeDebug.sysfs.view; v.expand('/sys/devices/pci0000:00'); v.navigate(${JSON.stringify(loadPath)}); })()`);
  await p.waitForTimeout(1000);
  await shot(p, 'sysfs-view-app-live');
  await readmeShot(p, 'sysfs');

  // scrub back to boot: the slider's start is the first sysfs record (the first kernel node)
  await p.evaluate(`(() => { const s = document.querySelector('[data-testid=sysfs-slider]'); s.value = '0'; s.dispatchEvent(new Event('input')); })()`);
  await until(p, '!window.lanescopeDebug.sysfs.view.rowPaths().includes("/sys/drivers")', 10000);
  const boot = await rows(p);
  const t0 = (await p.evaluate('window.lanescopeDebug.sysfs.model.t0')) as number;
  assert.equal(await cursor(p), t0, 'the view shows the first moment');
  assert.equal(await p.evaluate('window.lanescopeDebug.sysfs.cursor()'), t0, 'the shared time cursor (every trace view) moved with the slider');
  assert.ok(!boot.includes('/sys/devices/system/cpu/cpu1') && !boot.includes('/sys/drivers'), `at boot: ${boot.join(' ')}`);
  // the other trace views follow the cursor: both are centred on that moment
  const centre = (id: string) => p.evaluate(`(() => { const v = window.lanescopeDebug.${id}.view.viewport(); return (v.t0 + v.t1) / 2; })()`) as Promise<number>;
  assert.ok(Math.abs((await centre('sched')) - t0) < 1e3, `the Scheduler view is centred on ${t0}: ${await centre('sched')}`);
  assert.ok(Math.abs((await centre('ipc')) - t0) < 1e3, `the IPC lanes view is centred on ${t0}: ${await centre('ipc')}`);
  await shot(p, 'sysfs-view-app-boot');
  // Live again: everything is back
  await p.getByTestId('sysfs-live').click();
  await until(p, 'window.lanescopeDebug.sysfs.view.rowPaths().includes("/sys/drivers")', 10000);
  // and the other way: a migration selected in the Scheduler view moves the shared cursor, and
  // this view shows the tree as it was at that moment
  const mig = (await p.evaluate(`(() => { const d = window.lanescopeDebug.sched; const i = d.model.migrations.length - 1; if (i < 0) return null; d.view.selectMigration(i); return d.model.migrations[i].ns; })()`)) as number | null;
  assert.ok(mig !== null, 'the scheduler recorded migrations (at least the placements)');
  await until(p, `window.lanescopeDebug.sysfs.view.time() === ${mig}`, 10000, 'the sysfs view to follow the cursor set by the Scheduler view');
  // (the toolbar is redrawn on the next animation frame, after time() already says so)
  await until(p, `document.querySelector('[data-testid=sysfs-live]').getAttribute('aria-pressed') === 'false'`, 10000, 'the Live button released: the view shows a past moment');
  await p.getByTestId('sysfs-live').click();
  console.log(`# live tree: ${live.length} rows; at boot (${t0.toFixed(0)} ns): ${boot.length} rows; cpu0 load ${before.trim()} → ${after1.trim()}`);

  await t.test('PCI: device_add + rescan adds a node live; scrubbing back hides it', async (st) => {
    if (!hasPci) {
      st.skip('this OS has no PCI server (programs/pci)');
      return;
    }
    const links = () => p.evaluate(`(() => { const m = window.lanescopeDebug.sysfs.model; const d = m.find('/sys/bus/pci/devices'); return d < 0 ? [] : m.childrenAt(d).map((e) => m.entries[e].path); })()`) as Promise<string[]>;
    const before = new Set(await links());
    assert.ok(before.size > 0, 'the PCI server links its functions under /sys/bus/pci/devices');
    await qmp(qmpSock, { execute: 'device_add', arguments: { driver: 'e1000e', bus: 'rp3', id: 'hot1' } });
    const tAdd = (await p.evaluate('window.lanescopeDebug.sysfs.model.t1')) as number;
    // the rescan, as a user types it on Linux (the shell holds the system capability, which
    // the POSIX server writes the attribute with)
    await p.click('#panel-tab-console');
    await p.locator('textarea[aria-label="Target console input"]').focus();
    await p.keyboard.type('echo 1 > /sys/bus/pci/rescan\r');
    await p.click('#editor-tab-sysfs');
    let added: string | undefined;
    for (const end = Date.now() + 180000; !(added = (await links()).find((l) => !before.has(l))); await p.waitForTimeout(250)) {
      if (Date.now() > end) throw new Error(`no new /sys/bus/pci/devices link after device_add + rescan; console:\n${(await consoleText(p)).slice(-1500)}`);
    }
    const node = (await p.evaluate(`(() => { const m = window.lanescopeDebug.sysfs.model; return m.entries[m.resolve(${JSON.stringify(added)}).entry]?.path ?? ''; })()`)) as string;
    assert.match(node, /^\/sys\/devices\/pci0000:00\/0000:00:[0-9a-f]{2}\.\d\/0000:[0-9a-f]{2}:00\.0$/, `${added} leads behind the root port: ${node}`);
    assert.ok(await modelHas(p, node));
    await p.evaluate(`window.lanescopeDebug.sysfs.view.navigate(${JSON.stringify(node)})`);
    assert.ok((await rows(p)).includes(node));
    assert.ok(!before.has(added!));
    // its config, as the trace recorded it: a hexdump of 4096 bytes (ECAM) from e1000e's id on
    const hex = '[data-testid=sysfs-hexdump]';
    await p.evaluate(`window.lanescopeDebug.sysfs.view.navigate(${JSON.stringify(`${node}/config`)})`);
    await until(p, `(document.querySelector(${JSON.stringify(hex)})?.textContent ?? '').startsWith('000: 86 80 d3 10')`, 30000,
      `the hexdump of ${node}/config`);
    const dump = (await p.locator(hex).innerText()).split('\n');
    assert.equal(dump.length, 256, 'a line per 16 bytes of 4096');
    assert.match(dump[255]!, /^ff0: /);
    await shot(p, 'sysfs-view-app-hexdump');
    await p.evaluate(`window.lanescopeDebug.sysfs.view.setTime(${tAdd})`);
    await until(p, `!window.lanescopeDebug.sysfs.view.rowPaths().includes(${JSON.stringify(node)})`, 10000);
    assert.equal(await p.locator(hex).count(), 0, 'no contents before the function was there');
    await p.getByTestId('sysfs-live').click();
  });
  await p.keyboard.press('Shift+F5');
});
