// The serial target: the pure parts (app/common/serial-line.ts: messages, the status label, the
// config's serial section), and Run on a serial line through the backend against a stand-in board —
// a Unix socket speaking LaneOS's shared debug line (debugger/common/serial-mux.ts): console text,
// a trace frame once the host asks for them, the line closing under the Run. The real board (QEMU
// with lanes.debug=ttyS0) is app/test/e2e/serial-target.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { validateProjectConfig } from '../../common/project.js';
import { errorCode, lineOpenError, lineSpecProblem, serialStatusLabel, type SerialLineStatus } from '../../common/serial-line.js';
import { SerialTarget } from '../../node/serial-target.js';
import { MUX_TRACE, traceSwitch } from '../../../debugger/common/serial-mux.js';
import { frameEncode } from '../../../debugger/common/trace/serial.js';
import { driveBackend } from '../backend-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('opening errors name the problem and its fix', () => {
  const enoent = lineOpenError('/dev/ttyUSB0', 115200, errorCode(new Error('Error: No such file or directory, cannot open /dev/ttyUSB0')), 'x');
  assert.match(enoent, /\/dev\/ttyUSB0: no such device .*plugged in/);
  const eacces = lineOpenError('/dev/ttyUSB0', 115200, errorCode(new Error('Error: Permission denied, cannot open /dev/ttyUSB0')), 'x');
  assert.match(eacces, /permission denied .*usermod -aG dialout \$USER/);
  assert.match(lineOpenError('/dev/ttyS0', 9600, errorCode(new Error('Error Resource temporarily unavailable Cannot lock port EBUSY')), 'x'), /busy .*another program/);
  const sock = lineOpenError('unix:/tmp/x.sock', 115200, errorCode(new Error('cannot connect to unix:/tmp/x.sock: connect ENOENT /tmp/x.sock')), 'x');
  assert.match(sock, /no such socket/);
  assert.doesNotMatch(sock, /baud/);
  assert.match(lineOpenError('tcp:h:1', 115200, 'ECONNREFUSED', 'x'), /connection refused/);
  assert.match(lineOpenError('/dev/x', 115200, undefined, 'odd failure'), /\/dev\/x at 115200 baud: odd failure/);
  assert.equal(errorCode(Object.assign(new Error('x'), { code: 'EACCES' })), 'EACCES');
});

test('line specs and the config\'s serial section', () => {
  assert.equal(lineSpecProblem('/dev/ttyUSB0'), null);
  assert.equal(lineSpecProblem('unix:/tmp/a'), null);
  assert.equal(lineSpecProblem('tcp:localhost:2000'), null);
  assert.match(lineSpecProblem('unix:')!, /socket's path/);
  assert.match(lineSpecProblem('tcp:localhost')!, /not tcp:HOST:PORT/);
  const ok = validateProjectConfig({ target: 'serial', serial: { port: 'unix:/tmp/b', baud: 9600, mux: false } });
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.config.serial, { port: 'unix:/tmp/b', baud: 9600, mux: false, reset: null });
  assert.equal(validateProjectConfig({}).config.serial.mux, true, 'LaneOS\'s shared line by default');
  const bad = validateProjectConfig({ serial: { port: 'tcp:nohost', mux: 'yes' } });
  assert.equal(bad.errors.length, 2, bad.errors.join('; '));
  assert.match(bad.errors.join(' '), /serial\.port: .*tcp:HOST:PORT/);
  assert.match(bad.errors.join(' '), /serial\.mux: must be true .* or false/);
  assert.equal(bad.config.serial.port, '/dev/ttyUSB0', 'a bad port keeps the default');
});

test('the status label: device, baud, state, rates, frames, NAKs', () => {
  const s: SerialLineStatus = { line: '/dev/ttyUSB0', baud: 115200, state: 'connected', rxBytes: 5000, txBytes: 10, rxPerSec: 1536, txPerSec: 12, consoleBytes: 100, traceFrames: 1234, naksFromTarget: 1, naksToTarget: 0, dropped: 0 };
  assert.equal(serialStatusLabel(s), '/dev/ttyUSB0 · 115200 · connected · ↓1.5 KiB/s ↑12 B/s · 1,234 frames · 1 NAK');
  assert.equal(serialStatusLabel({ ...s, line: 'unix:/x', baud: null, state: 'unplugged' }), 'unix:/x · unplugged');
  assert.match(serialStatusLabel({ ...s, naksToTarget: 2, dropped: 3 }), /3 NAKs · 3 dropped$/);
});

/**
 * A stand-in board on a Unix socket: prints a banner and a prompt, echoes console input, and once
 * the host sent the marked trace switch sends a trace frame (marker, frame, 0x00) every 50 ms.
 */
function fakeBoard(sock: string) {
  const got: Buffer[] = [];
  const conns: net.Socket[] = [];
  const server = net.createServer((c) => {
    conns.push(c);
    let frames: ReturnType<typeof setInterval> | undefined;
    c.on('close', () => clearInterval(frames));
    c.on('error', () => undefined);
    c.write('LaneOS fake board\r\nlanes$ ');
    c.on('data', (d: Buffer) => {
      got.push(d);
      const all = Buffer.concat(got);
      if (!frames && all.includes(Buffer.from(traceSwitch(true)))) {
        // a frame as the kernel's drainer sends it: COBS(sequence | records | CRC) 0x00; its
        // record is the start of a trace_header (type 1), which the recording waits for
        let seq = 0;
        const header = Uint8Array.from([1, 0, 8, 0, 0, 0, 0, 0]);
        frames = setInterval(() => c.write(Buffer.concat([Buffer.from([MUX_TRACE]), frameEncode(seq++, header)])), 50);
      }
      const text = d.toString('latin1').replace(/\x1c\$[^#]*#../g, '');
      if (text.includes('\r')) c.write(`\r\nran: ${text.trim()}\r\nlanes$ `);
    });
  });
  return {
    listen: () => new Promise<void>((r) => server.listen(sock, () => r())),
    received: () => Buffer.concat(got),
    /** the board goes away (QEMU killed, the adapter unplugged) */
    unplug: () => {
      for (const c of conns) c.destroy();
      server.close();
    },
  };
}

function fixture(port: string) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-serial-')));
  fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({ name: 't', build: { command: null }, target: 'serial', serial: { port, baud: 115200 }, debug: { elf: 'lanes.elf' } }));
  const h = driveBackend(root, { trust: true });
  return { ...h, call: h.request, until: (cond: () => boolean, what: string, ms = 20000) => h.until(cond, what, ms) };
}

test('Run on a serial line: console both ways, trace frames into the Run\'s recording, the status item; the line closing fails the Run clearly', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-board-'));
  const sock = path.join(dir, 'com1.sock');
  const board = fakeBoard(sock);
  await board.listen();
  const f = fixture(`unix:${sock}`);
  try {
    assert.equal((await f.call('run.start')).ok, true);
    await f.until(() => f.consoleText().includes('lanes$ '), 'the board\'s prompt');
    assert.equal(f.payloads('run.state').at(-1)!.state.kind, 'running');
    // the host asked for trace frames (the board had spoken), and they arrive
    await f.until(() => board.received().includes(Buffer.from(traceSwitch(true))), 'the trace switch');
    await f.until(() => (f.payloads('serial.status').at(-1)?.traceFrames ?? 0) >= 5, 'trace frames in the status');
    const st = f.payloads('serial.status').at(-1)!;
    assert.equal(st.state, 'connected');
    assert.equal(st.baud, null, 'a socket has no baud rate');
    assert.ok(st.rxBytes > 20 && st.consoleBytes >= 'LaneOS fake board\r\nlanes$ '.length, JSON.stringify(st));
    const src = f.payloads('trace.source').at(-1)!;
    assert.equal(src.live, true);
    await f.until(() => fs.existsSync(src.path) && fs.statSync(src.path).size > 0, 'the recording to fill');
    assert.doesNotMatch(f.consoleText(), /[\x1c\x1d]/, 'no framing byte reaches the console');
    // typed input reaches the board, the marker byte filtered out
    assert.equal((await f.call('console.input', { data: 'echo hi\x1c\r' })).ok, true);
    await f.until(() => f.consoleText().includes('ran: echo hi'), 'the board to answer');
    // the board goes away under the Run: a clear message, the status item says unplugged, nothing crashes
    board.unplug();
    await f.until(() => f.payloads('run.state').at(-1)!.state.kind === 'failed', 'the Run to fail');
    const failed = f.payloads('run.state').at(-1)!.state as { kind: 'failed'; message: string };
    assert.match(failed.message, new RegExp(`serial line unix:${sock} closed.*went away`));
    assert.equal(f.payloads('serial.status').at(-1)!.state, 'unplugged');
    assert.equal(f.payloads('trace.source').at(-1)!.live, false, 'the recording ended with the line');
    // Run again with no board: no such socket, named
    assert.equal((await f.call('run.start')).ok, true);
    await f.until(() => f.payloads('run.state').filter((p) => p.state.kind === 'failed').length === 2, 'the second Run to fail');
    assert.match((f.payloads('run.state').at(-1)!.state as { message: string }).message, /no such socket/);
    assert.equal(f.payloads('serial.status').at(-1)!.state, 'error');
  } finally {
    board.unplug();
    await f.backend.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Run on a missing device names it and what to check', async () => {
  const f = fixture('/dev/ttyUSB-lanescope-missing');
  try {
    await f.call('run.start');
    await f.until(() => f.payloads('run.state').at(-1)?.state.kind === 'failed', 'the Run to fail');
    const msg = (f.payloads('run.state').at(-1)!.state as { message: string }).message;
    assert.match(msg, /\/dev\/ttyUSB-lanescope-missing: no such device .*USB serial adapter plugged in/);
    assert.equal(f.payloads('notice').at(-1)!.level, 'error');
    // Debug on it: the session that never attached ends with that reason (not "starting" forever)
    assert.equal((await f.call('debug.run')).ok, true);
    await f.until(() => f.payloads('debug.state').at(-1)?.phase === 'ended', 'the debug state to end');
    assert.match(f.payloads('debug.state').at(-1)!.endedWhy ?? '', /no such device/);
  } finally {
    await f.backend.shutdown();
  }
});

test('a silent line: state silent and one warning naming what to check; bytes bring it back to connected', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-board-'));
  const sock = path.join(dir, 'com1.sock');
  const conns: net.Socket[] = [];
  const server = net.createServer((c) => conns.push(c));
  await new Promise<void>((r) => server.listen(sock, () => r()));
  const warnings: string[] = [];
  const states: SerialLineStatus[] = [];
  const t = await SerialTarget.open(`unix:${sock}`, 115200, {
    console: () => undefined,
    gone: () => undefined,
    warn: (m) => warnings.push(m),
    status: (st) => states.push(st),
    silentMs: 300,
  });
  try {
    const end = Date.now() + 10000;
    while (!warnings.length && Date.now() < end) await sleep(50);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /nothing received on unix:\S+ for \d+ s: is the board powered and booted/);
    assert.equal(states.at(-1)!.state, 'silent');
    conns[0]!.write('hello');
    while (states.at(-1)!.state !== 'connected' && Date.now() < end) await sleep(20);
    assert.equal(states.at(-1)!.state, 'connected');
  } finally {
    t.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(states.at(-1)!.state, 'closed');
  assert.equal(warnings.length, 1, 'said once');
});
