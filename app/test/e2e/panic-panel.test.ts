/*
 * End to end, browser mode, no guest: the Panic panel as a kernel panic's lines arrive in pieces.
 * The backend (app/node/panic.ts) sends a `panic` event per console chunk, so frame 0 is on screen
 * (and maybe under the user's pointer) before the other frames, the "System halted." and the
 * flight recorder come. Every later update of the same panic must keep the buttons already drawn
 * the same elements — a click on frame 0 is never lost to a button replaced under the pointer.
 * The events are injected into the renderer's real WebSocket (playwright's routeWebSocket, the
 * real backend behind it); postmortem.test.ts covers the same panel on a real panic.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { WebSocketRoute } from 'playwright-core';
import type { PanicFrame, PanicView } from '../../common/panic.js';
import { buildApp, copyProject, openSession, repo, type Session } from './harness.js';

let s: Session | undefined;

before(() => buildApp());
after(async () => {
  await s?.close();
});

const frames: PanicFrame[] = [
  { addr: '0xffff800000104a2b', symbol: 't_smap_smep+0x3b', function: 't_smap_smep', file: 'kernel/generic/ktest.c', line: 120 },
  { addr: '0xffff800000104f10', symbol: 'ktest_run+0x80', function: 'ktest_run', file: 'kernel/generic/ktest.c', line: 300 },
  { addr: '0xffff800000101000', symbol: 'syscall_dispatch+0x40', function: 'syscall_dispatch', file: 'kernel/generic/syscall.c', line: 90 },
];

function panic(nframes: number, extra: Partial<PanicView> = {}): PanicView {
  return {
    message: 'SMAP: kernel read user memory',
    cpu: 0,
    registers: nframes ? ['RIP 0xffff800000104a2b', 'RSP 0xffff800000f00f00'] : ['RIP 0xffff800000104a2b'],
    frames: frames.slice(0, nframes),
    text: 'KERNEL PANIC: SMAP: kernel read user memory (cpu0)',
    complete: false,
    ...extra,
  };
}

test('a panic arriving in pieces keeps the backtrace\'s buttons: a click on frame 0 is never lost', { timeout: 120000 }, async () => {
  let route: WebSocketRoute | undefined;
  s = await openSession(copyProject(path.join(repo, 'os')), undefined, {
    beforeLoad: (pg) => pg.routeWebSocket(/\/ws\?token=/, (ws) => {
      route = ws;
      ws.connectToServer();      // everything else passes through to the real backend
    }),
  });
  const page = s.page;
  assert.ok(route, 'the renderer\'s WebSocket was routed');
  const send = (p: PanicView) => route!.send(JSON.stringify({ type: 'event', event: 'panic', payload: { panic: p } }));

  // frame 0 first (the first console chunk ended after it): the panel comes to the front
  send(panic(1));
  const frame0 = await page.waitForSelector('#panel-panic .panic-frame[data-frame="0"]', { timeout: 10000 });
  assert.equal(await frame0.getAttribute('data-function'), 't_smap_smep');
  // the rest of the backtrace, then "System halted.", then the flight recorder
  send(panic(3));
  await page.waitForSelector('#panel-panic .panic-frame[data-frame="2"]', { timeout: 10000 });
  assert.equal(await frame0.evaluate((e) => e.isConnected), true, 'frame 0 stayed the same button when frames 1 and 2 came');
  assert.match((await page.textContent('#panel-panic .panic-registers')) ?? '', /RSP 0xffff800000f00f00/, 'the registers grew too');
  send(panic(3, { complete: true }));
  send(panic(3, { complete: true, flight: { records: 2, cpus: [{ cpu: 0, events: ['0.001 cpu0 log.log text="SMAP"', '0.002 cpu0 sched.ctx_switch'] }] } }));
  await page.waitForSelector('#panel-panic .panic-flight pre.panic-events.flight', { timeout: 10000 });
  assert.equal(await frame0.evaluate((e) => e.isConnected), true, 'frame 0 stayed the same button when the flight recorder came');
  assert.equal(await page.locator('#panel-panic .panic-frame').count(), 3);
  assert.equal(await page.locator('#panel-panic .panic-message').count(), 1);
  // a frame that changes (symbolized later) is redrawn; a shorter backtrace drops the rest
  send(panic(2, { complete: true, frames: [frames[0]!, { ...frames[1]!, line: 301 }] }));
  await page.waitForFunction("document.querySelectorAll('#panel-panic .panic-frame').length === 2", undefined, { timeout: 10000 });
  assert.match((await page.textContent('#panel-panic .panic-frame[data-frame="1"]')) ?? '', /ktest\.c:301/);
  assert.equal(await frame0.evaluate((e) => e.isConnected), true);
  // another panic (another message) is drawn afresh
  send({ ...panic(1), message: 'another' });
  await page.waitForFunction("/another/.test(document.querySelector('#panel-panic .panic-message')?.textContent ?? '')", undefined, { timeout: 10000 });
  assert.equal(await frame0.evaluate((e) => e.isConnected), false);
  assert.deepEqual(s.consoleErrors, []);
});
