// Run / Stop through the backend with a real build (make + gcc) and a stand-in "QEMU" binary that
// behaves like one on a serial console (prints a banner, echoes input, spawns a helper child).
// The real QEMU + LaneOS path is covered end to end in app/test/e2e.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { EventMessage, Events, ServerMessage } from '../../common/contract.js';
import { Backend } from '../../node/backend.js';
import { isAlive, processTable } from '../../node/proc.js';
import { trustProject } from '../../node/trust.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This fixture's stand-in QEMUs only (other test files may run their own at the same time). */
function fakeQemus(root: string, alive = false): number[] {
  const cmdline = (pid: number) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  const table = processTable();
  // (the script's `sleep &` is a forked fake-qemu until it execs sleep: a loaded machine can
  // catch it in between, so a fake-qemu whose parent is a fake-qemu is not another QEMU)
  return [...table.entries()]
    .filter(([pid, p]) => p.comm === 'fake-qemu' && table.get(p.ppid)?.comm !== 'fake-qemu' && cmdline(pid).includes(root) && (!alive || isAlive(p.ppid)))
    .map(([pid]) => pid);
}

function fixture(extra: Record<string, unknown> = {}) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-run-')));
  fs.writeFileSync(path.join(root, 'Makefile'), 'build/kernel: main.c\n\tmkdir -p build\n\tgcc -Wall -Werror -c main.c -o build/main.o\n\tcp fake-kernel build/kernel\n');
  fs.writeFileSync(path.join(root, 'main.c'), 'int main(void) { return 0; }\n');
  fs.writeFileSync(path.join(root, 'fake-kernel'), 'BANNER\n');
  const qemu = path.join(root, 'fake-qemu');
  // Prints its own argv, a banner, then echoes each line; leaves a helper child running.
  fs.writeFileSync(qemu, '#!/bin/sh\necho "argv: $*"\nsleep 1234 &\necho "LaneOS 0.1.0 (fake)"\nwhile read l; do echo "echo: $l"; [ "$l" = exit ] && exit 3; done\n', { mode: 0o755 });
  fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({ name: 't', build: { command: 'make' }, qemu: { binary: qemu, kernel: 'build/kernel', cpus: 2, ...extra } }));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-'));
  trustProject(stateDir, root); // this fixture's commands are ours (workspace trust: app/node/trust.ts)
  const backend = new Backend({ project: root, stateDir });
  const events: EventMessage[] = [];
  backend.attach((m: ServerMessage) => {
    if (m.type === 'event') events.push(m);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<{ ok: boolean; result?: unknown; error?: string }>((resolve) => {
      void backend.handle(JSON.stringify({ type: 'request', id: 1, method, params }), (m) => resolve(m as never));
    });
  const payloads = <K extends keyof Events>(k: K) => events.filter((e) => e.event === k).map((e) => e.payload as Events[K]);
  const consoleText = () => payloads('console.data').map((p) => p.data).join('');
  const states = () => payloads('run.state').map((p) => p.state.kind);
  const until = async (cond: () => boolean, what: string, ms = 30000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; states ${states().join(',')}; notices ${JSON.stringify(payloads('notice'))}`);
      await sleep(25);
    }
  };
  /** Trusts the fixture again after a test rewrote its lanescope.json's commands. */
  const retrust = () => trustProject(stateDir, root);
  return { root, backend, call, payloads, consoleText, states, until, retrust };
}

test('Run builds, boots, shows the console, forwards input; Stop leaves no process behind', async () => {
  const f = fixture();
  try {
    assert.equal((await f.call('run.start')).ok, true);
    await f.until(() => f.consoleText().includes('LaneOS 0.1.0'), 'the banner');
    assert.deepEqual(f.states().slice(0, 3), ['building', 'booting', 'running']);
    assert.match(f.consoleText(), /-smp 2/);
    assert.ok(f.payloads('build.output').map((p) => p.data).join('').includes('gcc -Wall -Werror'));
    assert.ok(f.payloads('run.progress').some((p) => p.task === 'build' && p.done));
    // A second Run while running is refused with a message.
    const again = await f.call('run.start');
    assert.equal(again.ok, false);
    assert.match(again.error!, /already running/);
    await f.call('console.input', { data: 'hello\n' });
    await f.until(() => f.consoleText().includes('echo: hello'), 'the echo');
    const qemuPid = fakeQemus(f.root)[0];
    assert.ok(qemuPid);
    const helper = [...processTable().entries()].filter(([, p]) => p.ppid === qemuPid).map(([pid]) => pid);
    assert.ok(helper.length >= 1);
    assert.equal((await f.call('run.stop')).ok, true);
    assert.equal(f.states().at(-1), 'stopped');
    for (const pid of [qemuPid, ...helper]) assert.equal(isAlive(pid), false, `pid ${pid} left running after Stop`);
  } finally {
    await f.backend.shutdown();
  }
});

test('Restart stops the running target and runs again (build, boot) with no old process left', async () => {
  const f = fixture();
  try {
    await f.call('run.start');
    await f.until(() => f.consoleText().includes('LaneOS 0.1.0'), 'the first boot');
    const first = fakeQemus(f.root);
    assert.equal(first.length, 1);
    assert.equal((await f.call('run.restart')).ok, true);
    await f.until(() => f.states().filter((x) => x === 'running').length === 2, 'the second boot');
    assert.deepEqual(f.states().slice(3, 7), ['stopped', 'building', 'booting', 'running']);
    assert.equal(isAlive(first[0]!), false, 'the first QEMU survived Restart');
    const now = fakeQemus(f.root, true);
    assert.equal(now.length, 1);
  } finally {
    await f.backend.shutdown();
  }
});

test('the guest exiting shows "exited with code N"', async () => {
  const f = fixture();
  try {
    await f.call('run.start');
    await f.until(() => f.states().includes('running'), 'running');
    await f.call('console.input', { data: 'exit\n' });
    await f.until(() => f.states().includes('exited'), 'exit');
    assert.deepEqual(f.payloads('run.state').at(-1)!.state, { kind: 'exited', code: 3 });
  } finally {
    await f.backend.shutdown();
  }
});

test('a failing build fills Problems and does not boot', async () => {
  const f = fixture();
  fs.writeFileSync(path.join(f.root, 'main.c'), 'int main(void) { return nope; }\n');
  try {
    await f.call('run.start');
    await f.until(() => f.states().includes('failed'), 'failure');
    assert.ok(!f.states().includes('booting'));
    const probs = f.payloads('problems').at(-1)!.diagnostics;
    assert.ok(probs.some((d) => d.file === 'main.c' && d.line === 1 && d.severity === 'error' && /nope/.test(d.message)), JSON.stringify(probs));
    assert.ok(f.payloads('notice').some((n) => n.level === 'error' && /build failed \(exit code 2, 1 error in Problems\)/.test(n.message)), JSON.stringify(f.payloads('notice')));
  } finally {
    await f.backend.shutdown();
  }
});

test('missing QEMU and a project without a build command get clear messages', async () => {
  const f = fixture({ binary: 'qemu-system-nonexistent' });
  try {
    await f.call('run.start');
    await f.until(() => f.states().includes('failed'), 'failure');
    assert.ok(f.payloads('notice').some((n) => /QEMU was not found: "qemu-system-nonexistent"/.test(n.message)), JSON.stringify(f.payloads('notice')));
  } finally {
    await f.backend.shutdown();
  }
  const g = fixture();
  fs.writeFileSync(path.join(g.root, 'lanescope.json'), JSON.stringify({ build: { command: null }, qemu: { kernel: 'build/kernel' } }));
  g.retrust();
  try {
    await g.call('run.start');
    await g.until(() => g.states().includes('failed'), 'failure');
    const msgs = g.payloads('notice').map((n) => n.message).join('\n');
    assert.match(msgs, /no build command/);
    assert.match(msgs, /qemu.kernel: build\/kernel does not exist/);
  } finally {
    await g.backend.shutdown();
  }
});

test('a serial port that cannot be opened is a clear message', async () => {
  const f = fixture();
  const cfg = JSON.parse(fs.readFileSync(path.join(f.root, 'lanescope.json'), 'utf8'));
  fs.writeFileSync(path.join(f.root, 'lanescope.json'), JSON.stringify({ ...cfg, target: 'serial', serial: { port: '/dev/ttyNOPE0', baud: 115200 } }));
  try {
    await f.call('run.start');
    await f.until(() => f.states().includes('failed'), 'failure');
    assert.ok(f.payloads('notice').some((n) => /cannot open serial port \/dev\/ttyNOPE0 at 115200 baud/.test(n.message)), JSON.stringify(f.payloads('notice')));
  } finally {
    await f.backend.shutdown();
  }
});

test('Stop right after Run (while the build is starting) leaves nothing running', async () => {
  const f = fixture();
  fs.writeFileSync(path.join(f.root, 'Makefile'), 'all:\n\tsleep 1501\n');
  try {
    await f.call('run.start');
    await f.call('run.stop');
    await sleep(500);
    const left = [...processTable().keys()].filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\x001501\x00';
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, []);
  } finally {
    await f.backend.shutdown();
  }
});

test('Stop during the build ends make and the compiler', async () => {
  const f = fixture();
  // a duration no other run of this test on the machine uses: only our build's sleep is counted
  const secs = `1500.${process.pid}${Date.now() % 1000}`;
  fs.writeFileSync(path.join(f.root, 'Makefile'), `all:\n\tsleep ${secs}\n`);
  try {
    await f.call('run.start');
    const ours = () =>
      [...processTable().entries()]
        .filter(([pid, p]) => p.comm === 'sleep' && (() => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\x00${secs}\x00`; } catch { return false; } })())
        .map(([pid]) => pid);
    await f.until(() => ours().length > 0, 'the build');
    const sleeps = ours();
    await f.call('run.stop');
    assert.equal(f.states().at(-1), 'stopped');
    assert.deepEqual(sleeps.filter(isAlive), []);
    assert.deepEqual(ours(), []);
  } finally {
    await f.backend.shutdown();
  }
});

test('serial hardware target: console data arrives, input reaches the board, and a port that disappears is reported', async () => {
  // A pseudo-terminal pair stands in for a USB serial adapter: python holds the "board" side,
  // Lanescope opens the tty side with the serialport package; closing the board side is the unplug.
  const { spawn } = await import('node:child_process');
  const board = spawn('python3', ['-c', [
    'import os, pty, sys, time, select',
    'm, s = pty.openpty()',
    'print(os.ttyname(s), flush=True)',
    'got = b""',
    'end = time.time() + 20',
    'while b"ping" not in got and time.time() < end:',
    '    os.write(m, b"board says hello\\r\\n")',
    '    r, _, _ = select.select([m], [], [], 0.3)',
    '    if r: got += os.read(m, 100)',
    'os.write(m, b"board got ping\\r\\n")',
    'time.sleep(0.5)',
    'os.close(m)',
    'time.sleep(5)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port: string = await new Promise((r) => board.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  const f = fixture();
  const cfg = JSON.parse(fs.readFileSync(path.join(f.root, 'lanescope.json'), 'utf8'));
  fs.writeFileSync(path.join(f.root, 'lanescope.json'), JSON.stringify({ ...cfg, target: 'serial', serial: { port, baud: 115200 } }));
  try {
    await f.call('run.start');
    await f.until(() => f.consoleText().includes('board says hello'), 'data from the board');
    assert.ok(f.states().includes('running'));
    await f.call('console.input', { data: 'ping\r' });
    await f.until(() => f.consoleText().includes('board got ping'), 'the board to answer');
    await f.until(() => f.states().at(-1) === 'failed', 'the port to disappear');
    assert.ok(f.payloads('notice').some((n) => n.message === `serial port ${port} disappeared (device unplugged?)`), JSON.stringify(f.payloads('notice')));
  } finally {
    board.kill();
    await f.backend.shutdown();
  }
});
