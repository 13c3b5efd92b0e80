/*
 * Source-level debugging end to end, in headless Chromium against the browser mode, on a copy of the
 * bundled LaneOS project (real make, real QEMU under TCG, real gdb through the bridge):
 *   a breakpoint set by clicking the gutter of kernel/generic/syscall.c (syscall_dispatch, hit by
 *   init's first system call) → Run (F5) builds, boots with the gdbstub and stops on that line
 *   (highlighted, file opened) → the call stack shows syscall_dispatch ← syscall_entry → Step Over
 *   (F10) moves the highlight and shows the local `nr` → a struct expands → the `target remote :PORT`
 *   line is shown and a second gdb attaches to it → registers (cr3) and memory → the RSP log lists
 *   packets → remove the breakpoint, Continue (F5) runs on to the shell prompt → gdb killed: the
 *   session ends with the reason, and a new debug Run works.
 * Screenshots: test-results/screenshots/e2e-debug-*.png (the stop also to readme/debugging.png; npm run
 * screenshots copies it to resources/screenshots/).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, qemuProcesses, readmeShot, repo, shot, waitForText, type Session } from './harness.js';

const BOOT_TIMEOUT = Number(process.env['LANESCOPE_E2E_BOOT_TIMEOUT_MS'] ?? 900000);
const FILE = 'kernel/generic/syscall.c';
let s: Session;
let project: string;
let bpLine = 0;

before(async () => {
  buildApp();
  project = copyProject(process.env['LANESCOPE_E2E_PROJECT'] ?? path.join(repo, 'os'));
  const lines = fs.readFileSync(path.join(project, FILE), 'utf8').split('\n');
  bpLine = lines.findIndex((l) => /uint64_t nr = r->rax;/.test(l)) + 1;
  assert.ok(bpLine > 0, 'syscall_dispatch not found');
  s = await openSession(project);
});

after(async () => {
  await s?.close();
  assert.deepEqual(qemuProcesses(project ?? '/nonexistent'), [], 'QEMU left running after the session closed');
});

interface Status { phase: string; port?: number; endedWhy?: string; stop?: { description: string; frames: { func: string; file?: string; line?: number }[]; location: { file: string; line: number } | null } }
const status = () => s.page.evaluate('window.lanescopeDebugger.status()') as Promise<Status>;
const decorations = () => s.page.evaluate('window.lanescopeDebugger.decorations()') as Promise<{ breakpoints: number[]; current: number | null }>;
const activeFile = () => s.page.evaluate('window.lanescopeDebug.activeFile()') as Promise<string | null>;
const dbgState = async () => (await s.page.textContent('#dbg-state')) ?? '';

async function clickGutter(line: number): Promise<void> {
  const pt = (await s.page.evaluate(`window.lanescopeDebugger.glyphPoint(${line})`)) as { x: number; y: number };
  await s.page.waitForTimeout(150); // let Monaco render the revealed lines
  const pt2 = (await s.page.evaluate(`window.lanescopeDebugger.glyphPoint(${line})`)) as { x: number; y: number };
  await s.page.mouse.click(pt2.x ?? pt.x, pt2.y ?? pt.y);
}

test('a breakpoint set by clicking the gutter of a kernel source file', async () => {
  const p = s.page;
  await p.waitForSelector('#tree [data-path="kernel"]');
  await p.click('#tree [data-path="kernel"]');
  await p.click('#tree [data-path="kernel/generic"]');
  await p.click(`#tree [data-path="${FILE}"]`);
  await p.waitForSelector(`.tab.active[data-path="${FILE}"]`);
  await p.waitForSelector('.monaco-editor .view-lines .mtk1');
  await clickGutter(bpLine);
  await waitForText(p, async () => JSON.stringify(await decorations()), new RegExp(`"breakpoints":\\[${bpLine}\\]`), 5000, 'the breakpoint decoration');
  await p.waitForSelector('.monaco-editor .ls-bp');
  await p.click('#panel-tab-debug');
  const row = await p.waitForSelector(`#panel-debug .dbg-bp[data-file="${FILE}"][data-line="${bpLine}"]`);
  assert.match((await row.textContent()) ?? '', new RegExp(`${FILE}:${bpLine}`));
  await shot(p, 'e2e-debug-1-breakpoint');
});

test('Run (F5) builds, boots with the gdbstub and stops on that line with the call stack', async () => {
  const p = s.page;
  await p.click('.monaco-editor .view-lines');
  await p.keyboard.press('F5');
  await waitForText(p, dbgState, /Starting|Running|Stopped/, 30000, 'the debug session to start');
  const text = await waitForText(p, dbgState, /Stopped|ended/, BOOT_TIMEOUT, 'the stop at the breakpoint');
  assert.match(text, /Stopped: breakpoint \d+ in syscall_dispatch/, text);
  // The status bar says the debugger holds the target, not "running".
  const bar = await waitForText(p, async (pg) => (await pg.textContent('#status-state')) ?? '', /^paused/, 10000, 'the paused status bar');
  assert.match(bar, /^paused · breakpoint \d+ in syscall_dispatch$/, bar);
  assert.equal(await p.getAttribute('#status-state', 'data-state'), 'paused');
  const st = await status();
  assert.deepEqual(st.stop!.location, { file: FILE, line: bpLine });
  assert.equal(await activeFile(), FILE);
  await waitForText(p, async () => String((await decorations()).current), new RegExp(`^${bpLine}$`), 5000, 'the current-line highlight');
  await p.waitForSelector('.monaco-editor .ls-current-line');
  // Call stack: syscall_dispatch called from the assembly entry point.
  const frames = await p.$$eval('#panel-debug .dbg-stack .dbg-frame', (els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset['func']));
  assert.equal(frames[0], 'syscall_dispatch', JSON.stringify(frames));
  assert.ok(frames.includes('syscall_entry'), JSON.stringify(frames));
  // CPUs as threads: the CPU that stopped runs a process (init's first system call).
  const cpuText = (await p.textContent('#panel-debug .dbg-cpus .dbg-cpu.selected')) ?? '';
  assert.match(cpuText, /CPU \d .*pid \d+, tid \d+/);
  // The line a user types to attach their own gdb.
  assert.match((await p.textContent('#dbg-attach')) ?? '', /target remote :\d+/);
  await shot(p, 'e2e-debug-2-stopped');
  await readmeShot(p, 'debugging'); // the README's screenshot (copied there only by npm run screenshots)
});

test('Step Over (F10) moves the highlight and shows a local value; a struct expands', async () => {
  const p = s.page;
  await p.keyboard.press('F10');
  await waitForText(p, async () => String((await decorations()).current), /^\d+$/, 60000, 'a highlight');
  const moved = await waitForText(p, async () => String((await decorations()).current), new RegExp(`^(?!${bpLine}$)\\d+$`), 60000, 'the highlight to move');
  assert.ok(Number(moved) > bpLine, `highlight at ${moved}`);
  assert.match(await dbgState(), /Stopped: stepped/);
  const nr = await p.waitForSelector('#panel-debug .dbg-variables .dbg-var[data-name="nr"] .dbg-value');
  assert.match((await nr.textContent()) ?? '', /^\d+$/);
  // r is a struct regs *: expand it (MI var object children).
  await p.click('#panel-debug .dbg-variables .dbg-var[data-name="r"] > .dbg-var-row');
  await p.waitForSelector('#panel-debug .dbg-variables .dbg-var[data-name="r"] .dbg-vars .dbg-var');
  await shot(p, 'e2e-debug-3-stepped');
});

test("watch, registers with cr3, memory; the user's own gdb attaches to the same port", async () => {
  const p = s.page;
  await p.fill('#dbg-watch-input', 'r->rax == nr');
  await p.press('#dbg-watch-input', 'Enter');
  await waitForText(p, async (pg) => (await pg.textContent('#panel-debug .dbg-watch')) ?? '', /r->rax == nr = 1/, 20000, 'the watch value');
  await p.click('#panel-tab-registers');
  await p.waitForSelector('#panel-registers .dbg-reg[data-reg="cr3"]');
  await p.waitForSelector('#panel-registers .dbg-reg[data-reg="rip"]');
  await p.click('#panel-tab-memory');
  await p.fill('#mem-address', '$rsp');
  await p.press('#mem-address', 'Enter');
  await waitForText(p, async (pg) => (await pg.textContent('#panel-memory .dbg-hex')) ?? '', /^0x[0-9a-f]{16} {2}([0-9a-f]{2} ){15}[0-9a-f]{2}/, 20000, 'a hex dump');
  await shot(p, 'e2e-debug-4-memory');
  const port = (await status()).port!;
  const elf = path.join(project, 'build/kernel/lanes.elf');
  const out = await new Promise<string>((resolve) => {
    const g = spawn('gdb', ['-nx', '-q', '-batch', '-ex', `target remote :${port}`, '-ex', 'bt 6', '-ex', 'detach', elf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    g.stdout.on('data', (d: Buffer) => (o += d.toString()));
    g.stderr.on('data', (d: Buffer) => (o += d.toString()));
    g.on('exit', () => resolve(o));
  });
  assert.match(out, /syscall_dispatch/, out);
  await p.click('#panel-tab-rsp');
  await p.waitForSelector('#panel-rsp .dbg-rsp-row');
  await p.fill('#rsp-filter', 'client:2');
  await waitForText(p, async (pg) => (await pg.textContent('#panel-rsp .dbg-rsp')) ?? '', /#2/, 10000, "the second gdb's packets");
  await shot(p, 'e2e-debug-5-rsp-log');
  await p.fill('#rsp-filter', '');
});

test('Continue (F5) with the breakpoint removed runs on to the shell prompt', async () => {
  const p = s.page;
  await p.click('#panel-tab-debug');
  await p.click(`#panel-debug .dbg-bp[data-line="${bpLine}"] .dbg-del`);
  await waitForText(p, async () => JSON.stringify(await decorations()), /"breakpoints":\[\]/, 5000, 'the breakpoint to go');
  await p.click('.monaco-editor .view-lines');
  await p.keyboard.press('F5');
  await waitForText(p, dbgState, /^Running/, 30000, 'running');
  await waitForText(p, async (pg) => (await pg.textContent('#status-state')) ?? '', /^running · \d\d:\d\d/, 10000, 'the status bar back to running');
  await waitForText(p, consoleText, /lanes\$ /, BOOT_TIMEOUT, 'the shell prompt');
  assert.equal((await decorations()).current, null, 'no current line while running');
});

test('gdb crashing ends the session with the reason; Stop; a new debug Run works', async () => {
  const p = s.page;
  const serverPid = s.server.pid!;
  const gdbPids = execFileSync('pgrep', ['-P', String(serverPid), '-f', 'interpreter=mi3'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  assert.equal(gdbPids.length, 1, 'one gdb under the server');
  process.kill(Number(gdbPids[0]), 'SIGKILL');
  const ended = await waitForText(p, dbgState, /Session ended/, 30000, 'the session to end');
  assert.match(ended, /gdb.*(crashed|killed|SIGKILL)/i, ended);
  await shot(p, 'e2e-debug-6-gdb-crashed');
  await p.keyboard.press('Shift+F5');
  await waitForText(p, async (pg) => (await pg.textContent('#status-state')) ?? '', /^stopped$/, 30000, 'the stopped state');
  // A new Run with debugging: Pause stops it somewhere, Continue runs on.
  await p.click('#btn-debug');
  await waitForText(p, dbgState, /^Running/, BOOT_TIMEOUT, 'the new session running');
  await waitForText(p, consoleText, /lanes\$ /, BOOT_TIMEOUT, 'the shell prompt again');
  await p.click('#dbg-pause');
  await waitForText(p, dbgState, /Stopped: paused/, 30000, 'paused');
  await p.click('#dbg-continue');
  await waitForText(p, dbgState, /^Running/, 30000, 'running again');
  await p.keyboard.press('Shift+F5');
  await waitForText(p, dbgState, /Session ended: the target stopped/, 30000, 'the session to end with Stop');
  assert.equal(s.consoleErrors.filter((e) => !/favicon/.test(e)).length, 0, s.consoleErrors.join('\n'));
});
