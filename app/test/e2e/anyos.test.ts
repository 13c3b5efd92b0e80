/*
 * End-to-end: a user's own kernel that is not LaneOS (issue 23), in the browser IDE with real QEMU
 * (TCG), gdb-multiarch and Chromium. The RISC-V fixture (debugger/test/fixtures/rv64, copied to a
 * temporary folder, not built) is opened without lanescope.json:
 *   1. the proposed configuration appears as a form (qemu-system-riscv64, virt, build/kernel.elf,
 *      where each came from); nothing was built; Create writes it unedited;
 *   2. Run asks for trust, builds with the Makefile, boots under OpenSBI, the console shows the
 *      kernel's line;
 *   3. a breakpoint clicked in kernel.c's gutter → Run debugs: Stopped in tick, call stack tick ←
 *      kmain, each CPU shows its frame (no LaneOS error), registers are RISC-V's; the Debug panel
 *      offers a port and names gdb-multiarch; the user's gdb-multiarch through it continues to the
 *      breakpoint while the IDE is attached, and the IDE follows;
 *   4. Open Folder on the boot-sector disk-image fixture: its proposal (qemu.drive) runs unedited;
 *   5. Open Folder on the ISO fixture (mbiso: GRUB made by grub-mkrescue loads a multiboot kernel):
 *      its proposal (qemu.iso) builds the ISO and boots it; the console shows the kernel's line.
 * The same four fixtures go through proposal, Run, Debug and the user's gdb without a browser in
 * app/test/unit/anyos-fixtures.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ANYOS_FIXTURES, copyFixture, fixtureLine, fixtureSkip, runGdb } from '../anyos-fixture.js';
import { buildApp, consoleText, openSession, qemuProcesses, shot, waitForText, type Session } from './harness.js';

const rv64 = ANYOS_FIXTURES.find((f) => f.name === 'rv64')!;
const bootdisk = ANYOS_FIXTURES.find((f) => f.name === 'bootdisk')!;
const mbiso = ANYOS_FIXTURES.find((f) => f.name === 'mbiso')!;
const skip = fixtureSkip(rv64) || fixtureSkip(bootdisk);
const isoSkip = skip || fixtureSkip(mbiso);
let s: Session;
let project = '';
let disk = '';
let iso = '';

before(async () => {
  if (skip) return;
  buildApp();
  project = copyFixture('rv64');
  disk = copyFixture('bootdisk');
  if (!isoSkip) iso = copyFixture('mbiso');
  s = await openSession(project);
});

after(async () => {
  await s?.close();
  for (const d of [project, disk, iso]) {
    if (!d) continue;
    assert.deepEqual(qemuProcesses(d), [], 'QEMU left running after the session closed');
    fs.rmSync(d, { recursive: true, force: true });
  }
});

const dbgState = async () => (await s.page.textContent('#dbg-state')) ?? '';
const runState = async () => (await s.page.textContent('#status-state')) ?? '';

/** Run (toolbar), answering the trust question that a newly written lanescope.json brings. */
async function runTrusting(key?: string): Promise<void> {
  const p = s.page;
  if (key) await p.keyboard.press(key);
  else await p.click('#btn-run');
  const dlg = await p.waitForSelector('[role="dialog"][aria-label="Trust this folder?"]', { timeout: 5000 }).catch(() => null);
  if (dlg) await p.click('[role="dialog"] button:has-text("Trust")');
}

test('a RISC-V kernel folder without lanescope.json: the proposed configuration as a form', { skip }, async () => {
  const p = s.page;
  const dlg = await p.waitForSelector('[role="dialog"][aria-label="Create lanescope.json?"]');
  assert.equal(await p.inputValue('#cfg-qemu-binary'), 'qemu-system-riscv64');
  assert.equal(await p.inputValue('#cfg-qemu-machine'), 'virt');
  assert.equal(await p.inputValue('#cfg-qemu-kernel'), 'build/kernel.elf');
  assert.equal(await p.inputValue('#cfg-debug-elf'), 'build/kernel.elf');
  assert.equal(await p.inputValue('#cfg-build-command'), 'make');
  assert.match((await dlg.textContent()) ?? '', /the recipe of `make run`/);
  assert.ok(!fs.existsSync(path.join(project, 'build')), 'proposing built nothing');
  await shot(p, 'e2e-anyos-1-proposal');
  await p.click('[role="dialog"] button:has-text("Create lanescope.json")');
  await p.waitForSelector('#tree [data-path="lanescope.json"]');
  const cfg = JSON.parse(fs.readFileSync(path.join(project, 'lanescope.json'), 'utf8'));
  assert.equal(cfg.qemu.binary, 'qemu-system-riscv64');
  assert.equal(cfg.qemu.cpu, 'rv64');
});

test('Run builds it with its Makefile and boots it under OpenSBI: the console shows its line', { skip }, async () => {
  const p = s.page;
  await runTrusting();
  await waitForText(p, consoleText, rv64.hello, 120000, 'the kernel\'s console line');
  await p.click('#btn-stop');
  await waitForText(p, runState, /stopped/, 20000, 'the stop');
});

test("Debug stops in its C source with its call stack; the user's gdb-multiarch continues through the bridge", { skip }, async () => {
  const p = s.page;
  const line = fixtureLine('rv64', 'kernel.c', /break here/);
  await p.click('#tree [data-path="kernel.c"]');
  await p.waitForSelector('.tab.active[data-path="kernel.c"]');
  await p.waitForSelector('.monaco-editor .view-lines .mtk1');
  await p.waitForTimeout(150);
  const pt = (await p.evaluate(`window.lanescopeDebugger.glyphPoint(${line})`)) as { x: number; y: number };
  await p.mouse.click(pt.x, pt.y);
  await waitForText(p, async () => JSON.stringify(await p.evaluate('window.lanescopeDebugger.decorations()')), new RegExp(`"breakpoints":\\[${line}\\]`), 5000, 'the breakpoint');
  await p.click('.monaco-editor .view-lines');
  await runTrusting('F5');
  const text = await waitForText(p, dbgState, /Stopped|ended/, 180000, 'the stop at the breakpoint');
  assert.match(text, /Stopped: breakpoint \d+ in tick/, text);
  await p.waitForSelector('#panel-debug .dbg-stack .dbg-frame[data-func="kmain"]', { timeout: 30000 });
  const frames = await p.$$eval('#panel-debug .dbg-stack .dbg-frame', (els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset['func']));
  assert.deepEqual(frames.slice(0, 2), ['tick', 'kmain'], JSON.stringify(frames));
  const cpu = await waitForText(p, async (pg) => (await pg.textContent('#panel-debug .dbg-cpus').catch(() => null)) ?? '', /CPU 0 tick at kernel\.c:\d+/, 20000, 'the CPUs');
  assert.doesNotMatch(cpu, /no member|cpus\[/);
  const panel = (await p.textContent('#panel-debug')) ?? '';
  assert.doesNotMatch(panel, /no member named|There is no/);
  await p.click('#panel-tab-registers');
  await p.waitForSelector('#panel-registers .dbg-reg[data-reg="pc"]');
  await p.waitForSelector('#panel-registers .dbg-reg[data-reg="sp"]');
  await p.click('#panel-tab-debug');
  await p.click('#dbg-open-port');
  const attach = await waitForText(p, async (pg) => (await pg.textContent('#dbg-attach')) ?? '', /target remote :\d+/, 20000, 'the gdb command line');
  assert.match(attach, /^gdb-multiarch \S*build\/kernel\.elf -ex 'target remote :\d+'/, attach);
  await shot(p, 'e2e-anyos-2-stopped');
  // no error or warning notice (a LaneOS-only expression, a trace view expecting LaneOS …)
  const notices = await p.$$eval('.notice.error, .notice.warning', (els) => els.map((e) => e.textContent ?? ''));
  assert.deepEqual(notices, []);
  const port = Number(/:(\d+)'/.exec(attach)![1]);
  const out = await runGdb('gdb-multiarch', ['-ex', `target remote :${port}`, '-ex', 'break tick', '-ex', 'continue', '-ex', 'bt 2', '-ex', 'detach', path.join(project, 'build/kernel.elf')]);
  assert.match(out, /Breakpoint \d+(\.\d+)?, tick \(n=/, out);
  assert.match(out, /#1 +(0x[0-9a-f]+ in )?kmain \(\)/, out);
  assert.match(out, /detached/, out);
  // the IDE followed the user's run and is stopped in tick again
  await waitForText(p, dbgState, /Stopped: breakpoint \d+ in tick/, 30000, 'the IDE following');
  await p.keyboard.press('Shift+F5');
  await waitForText(p, runState, /stopped/, 20000, 'the stop');
});

test('Open Folder on a boot-sector OS: its proposal boots the raw disk image unedited', { skip }, async () => {
  const p = s.page;
  await p.click('#btn-open');
  await p.fill('#open-folder-path', disk);
  await p.click('[role="dialog"] button:has-text("Open")');
  await p.waitForSelector('[role="dialog"][aria-label="Create lanescope.json?"]');
  assert.equal(await p.inputValue('#cfg-qemu-drive'), 'build/disk.img');
  assert.equal(await p.inputValue('#cfg-qemu-binary'), 'qemu-system-i386');
  await p.click('[role="dialog"] button:has-text("Create lanescope.json")');
  await p.waitForSelector('#tree [data-path="lanescope.json"]');
  await runTrusting();
  await waitForText(p, consoleText, bootdisk.hello, 120000, 'the disk-image kernel\'s console line');
  await p.click('#btn-stop');
  await waitForText(p, runState, /stopped/, 20000, 'the stop');
});

test('Open Folder on an OS that boots from an ISO: its proposal builds the ISO, GRUB boots it, the console shows the kernel', { skip: isoSkip }, async () => {
  const p = s.page;
  await p.click('#btn-open');
  await p.fill('#open-folder-path', iso);
  await p.click('[role="dialog"] button:has-text("Open")');
  const dlg = await p.waitForSelector('[role="dialog"][aria-label="Create lanescope.json?"]');
  assert.equal(await p.inputValue('#cfg-qemu-iso'), 'build/os.iso');
  assert.equal(await p.inputValue('#cfg-qemu-kernel'), '');
  assert.equal(await p.inputValue('#cfg-qemu-binary'), 'qemu-system-i386');
  assert.equal(await p.inputValue('#cfg-debug-elf'), 'build/kernel.elf');
  assert.match((await dlg.textContent()) ?? '', /-cdrom build\/os\.iso/);
  assert.ok(!fs.existsSync(path.join(iso, 'build')), 'proposing built nothing');
  await p.click('[role="dialog"] button:has-text("Create lanescope.json")');
  await p.waitForSelector('#tree [data-path="lanescope.json"]');
  await runTrusting();
  await waitForText(p, consoleText, mbiso.hello, 120000, "the ISO's kernel's console line");
  assert.ok(fs.statSync(path.join(iso, 'build/os.iso')).size > 0, 'the build made the ISO');
  await shot(p, 'e2e-anyos-3-iso');
  await p.click('#btn-stop');
  await waitForText(p, runState, /stopped/, 20000, 'the stop');
});
