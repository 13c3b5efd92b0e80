// Debug sockets: QEMU's gdbstub is a Unix socket in the debug Run's private folder (never TCP), and
// the bridge's gdb server listens on a Unix socket, opening a TCP port on 127.0.0.1 only when asked.
// (The full path with real QEMU and gdb: debug-session.test.ts and e2e/debug.test.ts.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultProjectConfig } from '../../common/project.js';
import { debugQemuConfig } from '../../node/debug/controller.js';
import { qemuArgs } from '../../node/qemu.js';
import { GdbServer } from '../../../debugger/node/server.js';

test('a debug Run gives QEMU its gdbstub on a Unix socket, drops a project\'s own -gdb/-s, and holds the guest at reset', () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-dbgcfg-')));
  fs.writeFileSync(path.join(root, 'k'), '');
  const c = defaultProjectConfig('t');
  c.qemu.kernel = 'k';
  c.qemu.extraArgs = ['-s', '-gdb', 'tcp::1234', '-d', 'int'];
  const argv = qemuArgs(root, debugQemuConfig(c, '/tmp/lanescope-debug-x/gdb.sock')).join(' ');
  assert.match(argv, /-chardev socket,id=lanescope-gdb,path=\/tmp\/lanescope-debug-x\/gdb\.sock,server=on,wait=off -gdb chardev:lanescope-gdb -S/);
  assert.doesNotMatch(argv, /tcp:|(^| )-s( |$)/);
  assert.match(argv, /-d int/);
  assert.throws(() => debugQemuConfig(c, '/tmp/a,b/gdb.sock'), /cannot be given to QEMU/);
});

test('the gdb server listens on a Unix socket; its TCP port exists only after listen()', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-sock-'));
  const sock = path.join(dir, 'bridge.sock');
  const accepted: string[] = [];
  const srv = new GdbServer({ onPacket: () => undefined, onInterrupt: () => undefined, onProtocolError: () => undefined, onClose: () => undefined });
  srv.onAccept = (s) => accepted.push(s.remote);
  try {
    await srv.listenUnix(sock);
    assert.equal(srv.port, undefined, 'no TCP port before it is asked for');
    assert.equal(srv.socketPath, sock);
    await new Promise<void>((resolve, reject) => net.connect(sock).once('connect', function (this: net.Socket) { this.destroy(); resolve(); }).once('error', reject));
    const port = await srv.listen(0);
    assert.ok(port > 0 && srv.port === port);
    await new Promise<void>((resolve, reject) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); resolve(); }).once('error', reject));
    for (let i = 0; i < 50 && accepted.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(accepted.map((r) => (r.startsWith('unix:') ? 'unix' : 'tcp')), ['unix', 'tcp']);
    await assert.rejects(srv.listen(0), /already listening/);
  } finally {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(fs.existsSync(sock), false, 'the socket file is removed on close');
});
