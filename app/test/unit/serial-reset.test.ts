// Resetting a board through the serial line's DTR or RTS (app/node/serial-reset.ts, lanescope.json
// serial.reset). What can be tested without a serial adapter: the config; the errors — a socket port
// (no modem lines), an fd that is not a tty, a pseudo-terminal (Linux's pty driver implements no
// TIOCMGET/TIOCMBIS/TIOCMBIC: the ioctl fails with ENOTTY, so the pulse itself cannot be observed
// here) — through SerialTarget on a real pty opened like a USB adapter, and a Run whose reset
// cannot be done failing with that reason. The pulse on real hardware (TIOCMBIS, 200 ms,
// TIOCMBIC) is not covered by any test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { validateProjectConfig } from '../../common/project.js';
import { pulseModemLine } from '../../node/serial-reset.js';
import { SerialTarget } from '../../node/serial-target.js';
import { driveBackend } from '../backend-harness.js';

test('serial.reset in lanescope.json: "dtr", "rts" or null (the default); anything else is named', () => {
  assert.equal(validateProjectConfig({ target: 'serial', serial: { port: '/dev/ttyUSB0' } }).config.serial.reset, null);
  for (const r of ['dtr', 'rts', null] as const) {
    const v = validateProjectConfig({ target: 'serial', serial: { port: '/dev/ttyUSB0', reset: r } });
    assert.deepEqual(v.errors, []);
    assert.equal(v.config.serial.reset, r);
  }
  const bad = validateProjectConfig({ serial: { port: '/dev/ttyUSB0', reset: 'DTR!' } });
  assert.ok(bad.errors.some((e) => /^serial\.reset: must be "dtr" or "rts" .* or null .*not "DTR!"/.test(e)), bad.errors.join('; '));
  assert.equal(bad.config.serial.reset, null);
});

test('a socket port has no modem lines: the reset says so', async () => {
  await assert.rejects(pulseModemLine('unix:/tmp/board.sock', undefined, 'dtr'),
    /serial\.reset: cannot pulse DTR on unix:\/tmp\/board\.sock: it is a socket, not a serial device — it has no DTR line/);
  await assert.rejects(pulseModemLine('tcp:localhost:2000', undefined, 'rts'), /cannot pulse RTS on tcp:localhost:2000: it is a socket/);
});

test('an fd that is not a tty: the reset says so', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-reset-')), 'not-a-tty');
  const fd = fs.openSync(file, 'w+');
  try {
    await assert.rejects(pulseModemLine('/dev/ttyFAKE', fd, 'dtr'), /serial\.reset: cannot pulse DTR on \/dev\/ttyFAKE: it is not a tty/);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

/** A stand-in board on a pseudo-terminal: its slave is the "adapter" the IDE opens. */
function ptyBoard() {
  const p = spawn('python3', ['-c', [
    'import os, pty, sys, time',
    'm, s = pty.openpty()',
    'print(os.ttyname(s), flush=True)',
    'for _ in range(100):',
    '    os.write(m, b"board on a pty\\r\\n")',
    '    time.sleep(0.3)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = new Promise<string>((r) => p.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  return { port, kill: () => p.kill() };
}

test('on a pseudo-terminal opened as a serial device, the ioctl fails and the reset names it', async () => {
  const board = ptyBoard();
  const port = await board.port;
  let console = '';
  const t = await SerialTarget.open(port, 115200, { console: (d) => (console += d), gone: () => undefined });
  try {
    await assert.rejects(t.reset('dtr'), (e: Error) => {
      assert.match(e.message, new RegExp(`^serial\\.reset: cannot pulse DTR on ${port}: the device has no modem control lines \\(TIOCMBIS: Inappropriate ioctl for device \\(errno 25\\); a pseudo-terminal\\?\\)$`));
      return true;
    });
    await assert.rejects(t.reset('rts'), /cannot pulse RTS on .*TIOCMBIS: Inappropriate ioctl/);
    // the line itself is unharmed: what the board says still arrives
    const end = Date.now() + 10000;
    while (!console.includes('board on a pty') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(console, /board on a pty/);
  } finally {
    t.close();
    board.kill();
  }
  await assert.rejects(t.reset('dtr'), /the line is not open/);
});

test('a Run whose reset cannot be done fails with the reason (serial.reset on a socket port)', async () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-reset-run-')));
  const sock = path.join(root, 'board.sock');
  const net = await import('node:net');
  const server = net.createServer((c) => { c.on('error', () => undefined); c.write('board\r\n'); });
  await new Promise<void>((r) => server.listen(sock, () => r()));
  fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({ name: 't', build: { command: null }, target: 'serial',
    serial: { port: `unix:${sock}`, baud: 115200, reset: 'rts' }, debug: { elf: 'lanes.elf' } }));
  const f = driveBackend(root, { trust: true });
  try {
    await f.request('run.start');
    await f.until(() => f.payloads('run.state').at(-1)?.state.kind === 'failed', 'the Run to fail', 20000);
    const why = JSON.stringify(f.payloads('run.state').at(-1)!.state) + JSON.stringify(f.payloads('notice'));
    assert.match(why, /serial\.reset: cannot pulse RTS on unix:.*it is a socket, not a serial device/);
  } finally {
    await f.backend.shutdown();
    server.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
