// A plain Run with qemu.gdb.enabled (issue 21, "the bridge and QEMU's gdbstub listen on 127.0.0.1
// without authentication"): real QEMU (TCG) with LaneOS through the Backend. QEMU's gdbstub is a Unix
// socket in the session's private folder (mode 0700), nothing listens on TCP until the user asks:
// debug.openPort then opens the bridge's port on 127.0.0.1 (qemu.gdb.port when free), a gdb client
// attaches there and reads the stop state; Stop closes the port and removes the socket.
// Before the fix QEMU got `-gdb tcp:127.0.0.1:PORT` on every such Run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { DebugStatus } from '../../common/debug.js';
import { findExecutable } from '../../node/qemu.js';
import { RspClient } from '../../../debugger/node/client.js';
import { driveBackend } from '../backend-harness.js';

const BUILD = path.resolve(import.meta.dirname, '../../../os/build');
const skip = !fs.existsSync(path.join(BUILD, 'kernel/lanes32.elf')) ? 'LaneOS is not built (make -C os)'
  : !findExecutable('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Is anything accepting TCP connections on 127.0.0.1:port? */
function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('qemu.gdb.enabled: the gdbstub is a private Unix socket; the TCP port opens only on request and closes with the Run', { skip, timeout: 180000 }, async () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-gdbstub-')));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-'));
  // a free port for qemu.gdb.port (what the old TCP gdbstub would have listened on)
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  // (paths are confined to the project: a copy of the built kernel and initrd)
  for (const f of ['lanes32.elf', 'initrd.tar']) fs.copyFileSync(path.join(BUILD, f === 'initrd.tar' ? f : `kernel/${f}`), path.join(root, f));
  fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({
    name: 'gdbstub', build: { command: null },
    qemu: { kernel: 'lanes32.elf', initrd: 'initrd.tar', accel: 'tcg', cpus: 1, memory: '256M', gdb: { enabled: true, port } },
  }));
  const { request: call, payloads, until, backend } = driveBackend(root, { trust: true, stateDir });
  let client: RspClient | undefined;
  try {
    assert.equal((await call('run.start')).ok, true);
    const argvLine = () => payloads('build.output').map((p) => p.data).join('').split('\r\n').find((l) => l.startsWith('$ ') && l.includes('-chardev socket,id=lanescope-gdb'));
    await until(() => !!argvLine(), 'QEMU\'s command line');
    const argv = argvLine()!;
    assert.doesNotMatch(argv, /tcp:/, 'QEMU gets no TCP gdbstub');
    const sock = /path=(\S+\/gdb-\d+\.sock),server=on/.exec(argv)?.[1];
    assert.ok(sock, argv);
    assert.equal(fs.statSync(path.dirname(sock)).mode & 0o777, 0o700, 'the socket lives in a private folder');
    await until(() => fs.existsSync(sock), 'the gdbstub socket');
    assert.ok(fs.statSync(sock).isSocket());
    // the Debug panel is told where the stub is; nothing listens on TCP yet
    await until(() => payloads('debug.state').some((s: DebugStatus) => s.stub === sock), 'debug.state with the stub');
    assert.equal(await tcpOpen(port), false, `nothing listens on 127.0.0.1:${port} before it is asked for`);
    assert.ok(payloads('notice').some((n) => n.message.includes(`target remote ${sock}`)), 'the notice says how to attach');

    // "Open a port for your gdb": the bridge's TCP port (qemu.gdb.port, free here)
    const r = await call('debug.openPort');
    assert.equal(r.ok, true, r.error ?? '');
    assert.equal((r.result as { port: number }).port, port);
    const st = payloads('debug.state').at(-1)!;
    assert.equal(st.port, port);
    client = await RspClient.connect(`tcp:127.0.0.1:${port}`);
    const stop = await client.haltReason();
    assert.equal(stop.kind, 'signal', `a stop reply through the bridge: ${JSON.stringify(stop)}`);
    assert.ok((await client.threads()).length >= 1, 'qfThreadInfo answered through the bridge');
    client.close();
    client = undefined;

    // Stop: the port closes, the socket is removed
    assert.equal((await call('run.stop')).ok, true);
    await until(() => !fs.existsSync(sock), 'the socket to be removed');
    for (let i = 0; i < 400 && (await tcpOpen(port)); i++) await sleep(50);    // up to 20 s under load
    assert.equal(await tcpOpen(port), false, 'the bridge\'s port is closed with the Run');
    assert.equal(payloads('debug.state').at(-1)!.port, undefined);
  } finally {
    client?.close();
    await call('run.stop');
    await backend.shutdown();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});
