/*
 * End to end, browser mode: Break on next message (issue 7), on a copy of the bundled LaneOS
 * project with real make, QEMU under TCG, gdb through the bridge, and Chromium.
 *   Run with debugging (⚙ Debug) → `ipc-demo 0 200` in the console → the IPC view fills live →
 *   Break on next… ▸ message from ipc-demo → the target stops in the kernel's IPC submit path, and
 *     - the editor shows the submitting line in ipc-demo's own source (programs/ipc-demo/main.c),
 *       not libc or the kernel; the Call Stack lists the kernel frames and then ipc-demo's user
 *       frames (libc's lanes_ipc_submit … main.c);
 *     - the IPC view selects the submitted operation at once (read from the kernel's trace ring
 *       while the guest is halted) and the detail panel shows it;
 *   → Continue: the selection becomes that operation's message (no duplicate op once the drained
 *     copy arrives) and new messages keep arriving. Then the same with a lane as the target.
 * Screenshots: test-results/screenshots/ipc-break-*.png and readme/ipc-break.png (npm run screenshots
 * copies it to resources/screenshots/).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, consoleText, copyProject, openSession, qemuProcesses, readmeShot, repo, shot, waitForText, type Session } from './harness.js';

const BOOT_TIMEOUT = Number(process.env['LANESCOPE_E2E_BOOT_TIMEOUT_MS'] ?? 900000);
let s: Session;
let project: string;

before(async () => {
  buildApp();
  project = copyProject(path.join(repo, 'os'));
  s = await openSession(project);
});

after(async () => {
  await s?.close();
  assert.deepEqual(qemuProcesses(project ?? '/nonexistent'), [], 'QEMU left running after the session closed');
});

interface Frame { level: number; func: string; file?: string; line?: number; space?: string; user?: boolean; inProject: boolean }
interface Status { phase: string; stop?: { stopId: number; description: string; frames: Frame[]; selectedLevel: number; location: { file: string; line: number } | null; hit?: { file: string; line: number } } }
const status = () => s.page.evaluate('window.lanescopeDebugger.status()') as Promise<Status>;
const decorations = () => s.page.evaluate('window.lanescopeDebugger.decorations()') as Promise<{ breakpoints: number[]; current: number | null }>;
const activeFile = () => s.page.evaluate('window.lanescopeDebug.activeFile()') as Promise<string | null>;
const dbgState = async () => (await s.page.textContent('#dbg-state')) ?? '';
const IPC = 'window.lanescopeDebug.ipc';
const ipcStatus = () => s.page.getByTestId('ipc-status').innerText();
const detailTitle = () => s.page.getByTestId('ipc-detail-title').innerText().catch(() => '');

/** What the IPC view has selected, and the op's event id and message. */
interface Sel { op: number; msg: number; ops: number; msgs: number; opId: number; opMsg: number; opEnd: number; sameId: number; pid: number; name: string }
/** (for a message: the side whose submit has event id `want`, else the giving side) */
const selection = (want = -1) => s.page.evaluate(`(() => {
  const { model, view } = ${IPC};
  const op = view.selectedOp();
  const msg = view.selectedMessage();
  const o = op >= 0 ? op : msg >= 0 ? (model.opId[model.msgDst[msg]] === ${want} ? model.msgDst[msg] : model.msgSrc[msg]) : -1;
  let sameId = 0;
  if (o >= 0) for (let i = 0; i < model.opCount; i++) if (model.opId[i] === model.opId[o]) sameId++;
  return { op, msg, ops: model.opCount, msgs: model.msgCount, opId: o >= 0 ? model.opId[o] : -1, opMsg: op >= 0 ? model.opMsg[op] : -1, opEnd: op >= 0 ? model.opEnd[op] : -1, sameId,
    pid: o >= 0 ? model.opPid[o] : -1, name: o >= 0 ? (model.processes.get(model.opPid[o])?.name ?? '') : '' };
})()`) as Promise<Sel>;

async function chooseBreak(value: RegExp): Promise<string> {
  const p = s.page;
  const sel = p.locator('select[aria-label="Break on next message"]');
  const opts = await sel.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
  const v = opts.find((o) => value.test(o));
  assert.ok(v, `a "Break on next…" choice matching ${value} in ${JSON.stringify(opts)}`);
  // Every text the status line shows from now on: the break can be hit within a few ms of being
  // armed (a busy lane), so "armed" may be on screen for less than one poll of waitForText.
  await p.evaluate(`(() => {
    const el = document.querySelector('[data-testid=ipc-status]');
    window.__ipcStatusObs?.disconnect();
    const seen = (window.__ipcStatusSeen = []);
    window.__ipcStatusObs = new MutationObserver(() => seen.push(el.textContent ?? ''));
    window.__ipcStatusObs.observe(el, { childList: true, characterData: true, subtree: true });
  })()`);
  await sel.selectOption(v);
  const seen = () => p.evaluate(`window.__ipcStatusSeen.join('\\n')`) as Promise<string>;
  const all = await waitForText(p, seen, /armed: break on the next message|break: /, 30000, 'the break to be armed');
  assert.match(all, /armed: break on the next message/);
  return v;
}

/** The stop at the submit: editor on ipc-demo's own line, user frames in the stack, the op selected. */
async function checkStop(before: number, what: string): Promise<{ st: Status; sel: Sel }> {
  const p = s.page;
  const text = await waitForText(p, dbgState, /Stopped|ended/, 300000, `the stop at the next message (${what})`);
  assert.match(text, /Stopped: breakpoint \d+ in \w+ · called from ipc-demo at programs\/ipc-demo\/main\.c:\d+/, text);
  const st = await status();
  assert.ok(st.stop && st.stop.stopId > before, 'a new stop');
  assert.equal(st.stop.hit?.file, 'kernel/generic/ipc/ipc.c');
  // the editor: the submitting line in the program's own source, highlighted
  const loc = st.stop.location!;
  assert.match(loc.file, /^programs\/ipc-demo\/[^/]+\.c$/, JSON.stringify(loc));
  await waitForText(p, async () => String(await activeFile()), new RegExp(`^${loc.file.replace(/[.]/g, '\\.')}$`), 20000, 'the submitting file in the editor');
  await waitForText(p, async () => String((await decorations()).current), new RegExp(`^${loc.line}$`), 20000, 'the submitting line highlighted');
  const srcLine = fs.readFileSync(path.join(project, loc.file), 'utf8').split('\n')[loc.line - 1] ?? '';
  // (a call: the demo's own IPC, or e.g. printf, whose console write is IPC to the console server)
  assert.match(srcLine, /\w+\s*\(/, `line ${loc.line} makes a call: ${srcLine}`);
  // the stack: kernel frames (enqueue … syscall_dispatch) then ipc-demo's user frames
  const frames = st.stop.frames;
  assert.equal(frames[0]!.file, 'kernel/generic/ipc/ipc.c', JSON.stringify(frames[0]));
  assert.ok(frames.some((f) => f.func === 'syscall_dispatch'));
  const user = frames.filter((f) => f.user);
  assert.ok(user.length >= 2, JSON.stringify(frames.map((f) => f.func)));
  assert.ok(user.every((f) => f.space === 'ipc-demo'));
  assert.ok(user.some((f) => /^lanes_ipc_|^lanes_dispatch_/.test(f.func)), `libc's IPC wrapper in the user stack: ${user.map((f) => f.func).join(' ← ')}`);
  const sel = frames[st.stop.selectedLevel]!;
  assert.ok(sel.user && sel.file === loc.file && sel.line === loc.line, 'the selected frame is the submitting one');
  // every user frame above it is not the program's own source (libc's wrapper, inlined ABI stubs)
  for (const f of frames.filter((x) => x.user && x.level < sel.level)) assert.ok(!f.file?.startsWith('programs/ipc-demo/'), JSON.stringify(f));
  const rows = await p.$$eval('#panel-debug .dbg-stack .dbg-frame', (els) => els.map((e) => e.textContent ?? ''));
  assert.ok(rows.some((r) => /\[ipc-demo\]/.test(r) && r.includes(`${loc.file}:${loc.line}`)), rows.join('\n'));
  // the IPC view: the submitted operation selected while the guest is still halted
  await waitForText(p, async () => `${JSON.stringify(await selection())} ${await ipcStatus()}`, /"op":\d+/, 30000, 'the submitted op selected at the stop');
  const sl = await selection();
  assert.equal(sl.opMsg, -1, 'not matched yet: the guest is halted right after the submit');
  assert.equal(sl.name, 'ipc-demo');
  assert.match(await detailTitle(), /\(submitted, not matched yet\)/);
  const detail = await p.getByTestId('ipc-detail').innerText();
  assert.match(detail, /submitted by: ipc-demo \[\d+\]/, detail);
  assert.match(await ipcStatus(), /stopped at the submit of ipc-demo/);
  return { st, sel: sl };
}

/**
 * Continue: the op becomes its message (selected, once) — or, when it ends without one (the
 * client's receive of the slow reply is cancelled by design), stays selected with its end — and
 * new messages keep coming.
 */
async function continueAndCheck(sel: Sel, mustMatch: boolean): Promise<void> {
  const p = s.page;
  const msgs0 = (await selection()).msgs;
  await p.click('#panel-tab-debug');
  await p.click('#dbg-continue');
  await waitForText(p, dbgState, /^Running/, 30000, 'running again');
  await p.click('#panel-tab-ipc');
  const got = await waitForText(p, async () => JSON.stringify(await selection()), mustMatch ? /"op":-1,"msg":\d+/ : /"op":-1,"msg":\d+|"opEnd":[1-9]/, 120000, 'the message of the submitted op selected');
  if (!/"op":-1/.test(got)) {
    // ended without a message: still selected, its end in the detail panel, not duplicated
    await waitForText(p, async () => String((await selection()).msgs), new RegExp(`^(?!${msgs0}$)\\d+$`), 120000, 'new messages after Continue');
    const a = await selection(sel.opId);
    assert.equal(a.opId, sel.opId);
    assert.equal(a.sameId, 1, 'the drained copy of the submit was not added twice');
    assert.match(await p.getByTestId('ipc-detail').innerText(), /cancelled|end of lane|error/);
    return;
  }
  const after = await selection(sel.opId);
  assert.equal(after.opId, sel.opId, 'the selected message is the one whose submit stopped the target');
  assert.equal(after.sameId, 1, 'the drained copy of the submit was not added twice');
  assert.match(await detailTitle(), /#\d+/);
  const detail = await p.getByTestId('ipc-detail').innerText();
  assert.match(detail, /from: |to: /);
  assert.match(detail, /ipc-demo \[\d+\]/);
  await waitForText(p, async () => String((await selection()).msgs), new RegExp(`^(?!${msgs0}$)\\d+$`), 120000, 'new messages after Continue');
  const later = (await selection()).msgs;
  await p.waitForTimeout(3000);
  assert.ok((await selection()).msgs > later, 'messages keep arriving');
}

test('Run with debugging, start ipc-demo, the IPC view fills live', { timeout: BOOT_TIMEOUT + 600000 }, async () => {
  const p = s.page;
  await p.click('#panel-tab-ipc');
  await p.waitForSelector('[data-testid=ipc-view]');
  await p.click('#btn-debug');
  await waitForText(p, dbgState, /^Running/, BOOT_TIMEOUT, 'the debug session running');
  await p.click('#panel-tab-console');
  await waitForText(p, consoleText, /lanes\$ /, BOOT_TIMEOUT, 'the shell prompt');
  await p.locator('textarea[aria-label="Target console input"]').focus();
  await p.keyboard.type('ipc-demo 0 200\r');
  await p.click('#panel-tab-ipc');
  await waitForText(p, ipcStatus, /live: .* · [1-9][\d,]* messages/, 300000, 'live IPC messages from ipc-demo');
  await p.waitForFunction(() => {
    const m = (globalThis as unknown as { lanescopeDebug: { ipc: { model: { processOrder: { name: string; ops: number }[]; convs: { depth: number; messages: number }[] } } } }).lanescopeDebug.ipc.model;
    return m.processOrder.some((x) => x.name === 'ipc-demo' && x.ops > 0) && m.convs.some((c) => c.depth > 0 && c.messages > 0);
  }, undefined, { timeout: 300000 });
  // message types decoded with the generated os/abi tables (the demo's messages): search finds them
  await p.waitForFunction(() => {
    const t = (globalThis as unknown as { lanescopeDebug: { ipc: { model: { typeNames: string[] } } } }).lanescopeDebug.ipc.model.typeNames;
    return t.includes('demo.Compute') && t.includes('demo.Result');
  }, undefined, { timeout: 300000 });
  await p.fill('input[aria-label="Search message types"]', 'demo.Compute');
  await waitForText(p, async () => (await p.locator('.ipcv-search-info').innerText()), /^[1-9][\d,]* found$/, 10000, 'demo.Compute messages found');
  await p.press('input[aria-label="Search message types"]', 'Enter');
  await waitForText(p, detailTitle, /^demo\.Compute #\d+/, 10000, 'a demo.Compute message selected');
  assert.match(await p.getByTestId('ipc-detail').innerText(), /demo\.Compute\{/);
  await p.fill('input[aria-label="Search message types"]', '');
});

test('Break on next message from ipc-demo: stops at its submitting line, the view selects the message; Continue', { timeout: 900000 }, async () => {
  const p = s.page;
  // the client: the ipc-demo process that spawned the two servers (init may run an ipc-demo --back of its own)
  const pid = (await p.evaluate(`(() => {
    const m = ${IPC}.model;
    const kids = (pid) => m.processOrder.filter((x) => x.parent === pid && x.name === 'ipc-demo').length;
    const c = m.processOrder.find((x) => x.name === 'ipc-demo' && x.ops > 0 && kids(x.pid) >= 2);
    return c ? c.pid : -1;
  })()`)) as number;
  assert.ok(pid > 0, 'the ipc-demo client process');
  const before = (await status()).stop?.stopId ?? 0;
  await chooseBreak(new RegExp(`^process:${pid}$`));
  const { sel } = await checkStop(before, 'process');
  assert.equal(sel.pid, pid);
  await p.click('#panel-tab-debug');
  await shot(p, 'ipc-break-1-stack');
  await p.click('#panel-tab-ipc');
  await p.waitForTimeout(500);
  await shot(p, 'ipc-break-2-view');
  await readmeShot(p, 'ipc-break'); // the README's screenshot (copied there only by npm run screenshots)
  await continueAndCheck(sel, false);
  await shot(p, 'ipc-break-3-continued');
});

test('Break on next message on a lane (the client↔front stream): stops, selects; Continue', { timeout: 900000 }, async () => {
  const p = s.page;
  // the lane every round's session is offered on: the root conversation between ipc-demo processes with the most nested ones
  const root = (await p.evaluate(`(() => {
    const m = ${IPC}.model;
    const roots = m.convs.filter((c) => c.parent < 0 && c.children.length > 0 && m.processes.get(c.lanePid[0])?.name === 'ipc-demo');
    roots.sort((a, b) => b.children.length - a.children.length);
    return roots[0] ? roots[0].idx : -1;
  })()`)) as number;
  assert.ok(root >= 0, 'a root lane with conversations');
  // select a message on it (the lane choices follow the selection)
  const m = (await p.evaluate(`(() => { const m = ${IPC}.model; for (let i = m.msgCount - 1; i >= 0; i--) if (m.msgConv[i] === ${root}) return i; return -1; })()`)) as number;
  assert.ok(m >= 0);
  await p.evaluate(`${IPC}.view.select(${m})`);
  const before = (await status()).stop?.stopId ?? 0;
  await chooseBreak(new RegExp(`^lane:${root}$`));
  const { sel } = await checkStop(before, 'lane');
  const conv = (await p.evaluate(`${IPC}.model.opConv[${sel.op}]`)) as number;
  assert.equal(conv, root, 'the stop is on that lane');
  await continueAndCheck(sel, true);
  // stepping still works on the live model: Next in conversation / on lane from the selection
  const start = (await selection()).msg;
  await p.locator('.ipcv canvas').focus();
  await p.keyboard.press('ArrowUp');
  await waitForText(p, async () => String((await selection()).msg), new RegExp(`^(?!${start}$)\\d+$`), 10000, 'previous on the lane');
  assert.equal((await p.evaluate(`${IPC}.model.msgConv[${IPC}.view.selectedMessage()]`)) as number, root);
  await p.keyboard.press('Shift+F5');
  await waitForText(p, dbgState, /Session ended/, 60000, 'the session to end with Stop');
  assert.deepEqual(s.consoleErrors.filter((e) => !/favicon|Content Security Policy|unsafe-eval/.test(e)), []);
});
