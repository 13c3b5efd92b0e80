/*
 * The serial target end to end, in headless Chromium against the browser mode: QEMU plays a board
 * on a USB serial adapter — LaneOS booted with `lanes.debug=ttyS0`, COM1 (its only serial port) on
 * a Unix socket, no QEMU gdbstub, no ivshmem — and the project (a copy of the bundled os/) has
 * `"target": "serial"` with `"port": "unix:SOCKET"`. Then:
 *   Run opens the line: the board's console (it boots when the line opens: wait=on) in the console
 *   panel, a command typed there runs; the status bar shows the line (connected, frames); the trace
 *   frames on the same line feed the trace store (the IPC view has messages) →
 *   a breakpoint in sys_clock_info (gutter; a new program's first clock read) and Debug: the session attaches to the kernel's own stub
 *   through the bridge, `sleep 1` typed on the console stops there with the call stack and the
 *   variables, the user's own gdb attaches to the bridge's port (bt), Step Over moves to another line →
 *   Continue runs on, the console answers → QEMU killed (the board unplugged): the Run fails with
 *   a message naming the line, the status item says unplugged, the session ends, nothing crashes.
 * Screenshots: test-results/screenshots/e2e-serial-*.png.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, qemuProcesses, repo, shot, waitForText, type Session } from './harness.js';

const BOOT_TIMEOUT = Number(process.env['LANESCOPE_E2E_BOOT_TIMEOUT_MS'] ?? 900000);
const FILE = 'kernel/generic/sys_thread.c';
let s: Session;
let project: string;
let boardDir: string;
let line: string;
let qemu: ChildProcess | undefined;
let qemuLog = '';
let bpLine = 0;

/** The board: QEMU with COM1 on a Unix socket that waits for the IDE to open it (the board is switched on then). */
function startBoard(): ChildProcess {
  const b = path.join(project, 'build');
  const argv = ['-accel', 'tcg', '-cpu', 'max,-arch-capabilities', '-smp', '2', '-m', '256M', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', path.join(b, 'kernel/lanes32.elf'), '-initrd', path.join(b, 'initrd.tar'),
    '-append', 'loglevel=info lanes.debug=ttyS0', '-serial', `unix:${line},server=on,wait=on`];
  const q = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  q.stdout!.on('data', (d: Buffer) => (qemuLog += d.toString()));
  q.stderr!.on('data', (d: Buffer) => (qemuLog += d.toString()));
  return q;
}

before(async () => {
  buildApp();
  project = copyProject(process.env['LANESCOPE_E2E_PROJECT'] ?? path.join(repo, 'os'));
  const lines = fs.readFileSync(path.join(project, FILE), 'utf8').split('\n');
  // the first statement of sys_clock_info: libc reads the clock in user space, and asks the kernel
  // for its parameters once per program — so `sleep 1` typed on the console reaches it
  const fn = lines.findIndex((l) => /^SYS\(clock_info\)/.test(l));
  assert.ok(fn >= 0, 'SYS(clock_info) not found');
  bpLine = lines.findIndex((l, i) => i > fn && /^\s+clock_params\(/.test(l)) + 1;
  assert.ok(bpLine > fn + 1, "clock_params(...) in SYS(clock_info) not found");
  // the board's image: built here (Run's build then has nothing to do)
  const mk = spawnSync('make', ['-j2', 'all'], { cwd: project, stdio: ['ignore', 'ignore', 'pipe'], timeout: BOOT_TIMEOUT });
  assert.equal(mk.status, 0, `make failed: ${mk.stderr?.toString().slice(-2000)}`);
  boardDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-board-'));
  line = path.join(boardDir, 'com1.sock');
  const cfg = JSON.parse(fs.readFileSync(path.join(project, 'lanescope.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(project, 'lanescope.json'), JSON.stringify({ ...cfg, target: 'serial', serial: { port: `unix:${line}`, baud: 115200 } }, null, 2));
  qemu = startBoard();
  const end = Date.now() + 30000;
  while (!fs.existsSync(line) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.ok(fs.existsSync(line), `QEMU did not create ${line}: ${qemuLog}`);
  s = await openSession(project);
});

after(async () => {
  qemu?.kill('SIGKILL');
  await s?.close();
  if (boardDir) fs.rmSync(boardDir, { recursive: true, force: true });
  assert.deepEqual(qemuProcesses(project ?? '/nonexistent'), [], 'QEMU left running');
});

interface Status { phase: string; endedWhy?: string; stop?: { description: string; frames: { func: string }[]; location: { file: string; line: number } | null } }
const status = () => s.page.evaluate('window.lanescopeDebugger.status()') as Promise<Status>;
const dbgState = async () => (await s.page.textContent('#dbg-state')) ?? '';
const serialItem = async () => (await s.page.textContent('#status-serial')) ?? '';
const runState = async () => (await s.page.textContent('#status-state')) ?? '';

async function typeInConsole(text: string): Promise<void> {
  await s.page.click('#panel-tab-console');
  await s.page.click('#panel-console .xterm-screen');
  await s.page.keyboard.type(text);
}

test('the target picker shows the serial line', async () => {
  assert.equal(await s.page.textContent('#btn-target'), `Serial · unix:${line}`);
});

test('Run opens the line: the board boots in the console panel, a typed command runs, the status bar shows the line', async () => {
  const p = s.page;
  await p.click('#btn-run');
  await waitForText(p, consoleText, /lanes\$ /, BOOT_TIMEOUT, 'the board\'s shell prompt');
  assert.match(await consoleText(p), /COM1 is the kernel debugger's line too/, 'booted with lanes.debug=ttyS0');
  assert.doesNotMatch(await consoleText(p), /[\x1c\x1d]|\$T[0-9a-f]{2}|QLanesTrace/, 'no framing or RSP on the console');
  await typeInConsole('echo serial-ok\r');
  await waitForText(p, consoleText, /^serial-ok\s*$/m, 120000, 'the command\'s output');
  const item = await waitForText(p, serialItem, /connected · .* [1-9][\d,]* frames · \d+ NAKs?/, 60000, 'trace frames counted in the status item');
  assert.match(item, new RegExp(`^⇄ unix:${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · connected · ↓`));
  assert.equal(await p.getAttribute('#status-serial', 'data-state'), 'connected');
  assert.match(await runState(), /^running/);
  await shot(p, 'e2e-serial-1-console');
});

test('the trace frames on the line feed the trace store: the IPC view has messages live', async () => {
  const p = s.page;
  await p.click('#panel-tab-ipc');
  await p.waitForFunction(
    () => ((globalThis as unknown as { lanescopeDebug?: { ipc?: { model?: { msgCount: number } } } }).lanescopeDebug?.ipc?.model?.msgCount ?? 0) > 0,
    undefined, { timeout: 120000 });
  const rows = (await p.evaluate('window.lanescopeDebug.trace.stats()') as { rows: number }).rows;
  assert.ok(rows > 0, `trace rows ${rows}`);
  await waitForText(p, async (pg) => (await pg.textContent('#status-trace')) ?? '', /^trace \d+ ev\/s/, 30000, 'the live trace status');
  await shot(p, 'e2e-serial-2-ipc-live');
});

test('Debug on the line: a breakpoint in sys_clock_info is hit (by sleep, a new program reading the clock); variables, your own gdb, Step Over, Continue', async () => {
  const p = s.page;
  await p.click('#tree [data-path="kernel"]');
  await p.click('#tree [data-path="kernel/generic"]');
  await p.click(`#tree [data-path="${FILE}"]`);
  await p.waitForSelector(`.tab.active[data-path="${FILE}"]`);
  await p.waitForSelector('.monaco-editor .view-lines .mtk1');
  await p.evaluate(`window.lanescopeDebugger.glyphPoint(${bpLine})`);
  await p.waitForTimeout(200);
  const pt = (await p.evaluate(`window.lanescopeDebugger.glyphPoint(${bpLine})`)) as { x: number; y: number };
  await p.mouse.click(pt.x, pt.y);
  await p.waitForSelector(`#panel-debug .dbg-bp[data-file="${FILE}"][data-line="${bpLine}"]`, { state: 'attached' });
  await p.click('#btn-debug');
  // Stop + Run with debugging: the line reopens, the session attaches to the kernel's stub
  // (a program started meanwhile may hit the breakpoint before the Running state was ever seen;
  // either shows the session attached)
  await waitForText(p, dbgState, /^(Running|Stopped)/, 300000, 'the session attached');
  assert.match(await serialItem(), /connected/);
  await typeInConsole('sleep 1\r');
  const text = await waitForText(p, dbgState, /Stopped|ended/, 300000, 'the stop at the breakpoint');
  assert.match(text, /Stopped: breakpoint \d+ in sys_clock_info/, text);
  const st = await status();
  assert.deepEqual(st.stop!.location, { file: FILE, line: bpLine });
  await p.click('#panel-tab-debug');
  await p.waitForSelector('#panel-debug .dbg-stack .dbg-frame[data-func="syscall_dispatch"]', { timeout: 60000 });
  await waitForText(p, runState, /^paused/, 10000, 'the paused status bar');
  // variables: the system call's arguments (a0 is the user's buffer; a0..a5 are there)
  await p.waitForSelector('#panel-debug .dbg-variables .dbg-var[data-name="a0"] .dbg-value', { timeout: 30000 });
  await shot(p, 'e2e-serial-3-breakpoint');
  // the user's own gdb attaches through the same bridge (a TCP port on 127.0.0.1, on request)
  await p.click('#dbg-open-port');
  await waitForText(p, async (pg) => (await pg.textContent('#dbg-attach')) ?? '', /target remote :\d+/, 20000, 'the gdb command line');
  const port = ((await status()) as Status & { port?: number }).port!;
  const bt = await new Promise<string>((resolve) => {
    const g = spawn('gdb', ['-nx', '-q', '-batch', '-ex', `target remote :${port}`, '-ex', 'bt 4', '-ex', 'detach', path.join(project, 'build/kernel/lanes.elf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    g.stdout.on('data', (d: Buffer) => (o += d.toString()));
    g.stderr.on('data', (d: Buffer) => (o += d.toString()));
    g.on('exit', () => resolve(o));
  });
  assert.match(bt, /#0 .*sys_clock_info/, bt);
  // Step Over through the kernel's stub: the stop moves on to a source line
  await p.click('#dbg-next');
  const stepped = await waitForText(p, dbgState, /Stopped: stepped|ended/, 120000, 'the step');
  assert.match(stepped, /Stopped: stepped/, stepped);
  const after = await status();
  assert.ok(after.stop!.location && JSON.stringify(after.stop!.location) !== JSON.stringify({ file: FILE, line: bpLine }), `the step moved: ${JSON.stringify(after.stop!.location)}`);
  // remove the breakpoint and Continue in the same moment (a Continue that overtook the removal
  // would stop in sys_clock_info again at the next new program): the command finishes
  // and the console answers
  await p.evaluate(`document.querySelector('#panel-debug .dbg-bp[data-line="${bpLine}"] .dbg-del').click(); document.querySelector('#dbg-continue').click();`);
  await waitForText(p, dbgState, /^Running/, 60000, 'running again');
  const before = (await consoleText(p)).length;
  await typeInConsole('echo after-continue\r');
  await waitForText(p, async (pg) => (await consoleText(pg)).slice(before), /^after-continue\s*$/m, 120000, 'the console after Continue');
  const item = await serialItem();
  assert.match(item, /connected · .* frames · \d+ NAKs?/, item);
  console.log(`# status bar: ${item}`);
});

test('the board unplugged (QEMU killed): a clear message, the status item says so, the session ends', async () => {
  const p = s.page;
  qemu!.kill('SIGKILL');
  await waitForText(p, runState, /^failed/, 30000, 'the Run to fail');
  const why = (await p.getAttribute('#status-state', 'title')) ?? '';
  assert.match(why, /serial line unix:\S+ closed.*went away/, why);
  await waitForText(p, serialItem, /unplugged/, 10000, 'the status item');
  assert.equal(await p.getAttribute('#status-serial', 'data-state'), 'unplugged');
  await waitForText(p, dbgState, /Session ended: .*serial line/, 30000, 'the session to end');
  await waitForText(p, async (pg) => (await pg.textContent('#notices')) ?? '', /went away/, 10000, 'the notice');
  await shot(p, 'e2e-serial-4-unplugged');
  assert.equal(s.consoleErrors.filter((e) => !/favicon/.test(e)).length, 0, s.consoleErrors.join('\n'));
});
