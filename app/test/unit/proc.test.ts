// Process lifecycle on real process trees: Stop must leave no process of the tree behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { descendants, isAlive, killTree, processTable, spawnManaged } from '../../node/proc.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(25);
  }
}

test('stop() ends the leader, its children, grandchildren and a child that escaped with setsid', async () => {
  // sh → { sleep, sh → sleep, setsid sleep (own session), a process that ignores SIGTERM }
  const script = [
    'sleep 1000 &',
    "sh -c 'sleep 1001 & wait' &",
    'setsid sleep 1002 &',
    "sh -c 'trap \"\" TERM; sleep 1003 & wait' &",
    'wait',
  ].join('\n');
  const p = await spawnManaged('/bin/sh', ['-c', script], { stdio: 'ignore' });
  await waitFor(() => descendants(p.pid).length >= 6);
  const tree = [p.pid, ...descendants(p.pid)];
  const comms = tree.map((pid) => processTable().get(pid)?.comm);
  assert.ok(comms.filter((c) => c === 'sleep').length >= 4, `expected 4 sleeps in ${comms.join(',')}`);
  const { survivors } = await p.stop();
  assert.deepEqual(survivors, []);
  for (const pid of tree) assert.equal(isAlive(pid), false, `pid ${pid} (${comms[tree.indexOf(pid)]}) survived Stop`);
  // And nothing with our marker sleeps is left anywhere in the process table (no orphans reparented to init).
  const left = [...processTable().entries()].filter(([pid]) => tree.includes(pid) && isAlive(pid));
  assert.deepEqual(left, []);
});

test('when the leader exits on its own, what it left in its group is reaped', async () => {
  const p = await spawnManaged('/bin/sh', ['-c', 'sleep 1010 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await p.exited;
  await waitFor(() => /\d+/.test(out));
  const orphan = Number(out.trim());
  await waitFor(() => !isAlive(orphan), 8000);
});

test('a command that does not exist gives a clear error', async () => {
  await assert.rejects(spawnManaged('definitely-not-a-command-ls', [], { stdio: 'ignore' }), /definitely-not-a-command-ls was not found/);
});

test('killTree on an already-dead pid resolves at once', async () => {
  const p = await spawnManaged('/bin/true', [], { stdio: 'ignore' });
  await p.exited;
  const r = await killTree(p.pid, 100);
  assert.deepEqual(r.survivors, []);
});

const hasQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;
const hasGdb = spawnSync('gdb', ['--version']).status === 0;

/**
 * A backend (a Node process using spawnManaged, as app/node/qemu.ts does for QEMU) that starts
 * QEMU — paused (-S), so it costs no CPU under TCG — with a sleep in the same process group,
 * prints the pids, and waits. `how` decides how it ends.
 */
async function backendWithQemu(): Promise<{ backend: import('node:child_process').ChildProcess; qemu: number; sleeper: number; reaperPid: number; gdb: number }> {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const procTs = fileURLToPath(new URL('../../node/proc.ts', import.meta.url));
  const miTs = fileURLToPath(new URL('../../../debugger/node/mi-driver.ts', import.meta.url));
  const script = `
    const { spawnManaged, descendants, processTable, reaper } = await import(${JSON.stringify(procTs)});
    const mi = await import(${JSON.stringify(miTs)});
    const GdbMi = mi.GdbMi ?? mi.default.GdbMi;
    const gdb = ${hasGdb} ? (await GdbMi.start()).proc.pid : 0;
    const p = await spawnManaged('/bin/sh', ['-c', 'sleep 1000 & exec qemu-system-x86_64 -S -nodefaults -display none -machine q35 -m 64'], { stdio: 'ignore' });
    let kids = [];
    for (let i = 0; i < 200 && !kids.length; i++) { await new Promise((r) => setTimeout(r, 25)); kids = descendants(p.pid); }
    console.log(JSON.stringify({ qemu: p.pid, sleeper: kids[0], reaperPid: reaper(), gdb }));
    setInterval(() => {}, 1000);`;
  const backend = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    backend.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    backend.on('exit', (c) => reject(new Error(`backend exited ${c}`)));
  });
  return { backend, ...(JSON.parse(line) as { qemu: number; sleeper: number; reaperPid: number; gdb: number }) };
}

test('kill -9 of the backend leaves no QEMU (nor gdb) behind: the reaper ends its process group', { skip: !hasQemu && 'no qemu-system-x86_64', timeout: 60_000 }, async () => {
  const { backend, qemu, sleeper, reaperPid, gdb } = await backendWithQemu();
  try {
    await waitFor(() => processTable().get(qemu)?.comm.startsWith('qemu') === true, 10_000);
    assert.ok(isAlive(sleeper) && isAlive(reaperPid));
    if (gdb) assert.ok(isAlive(gdb));
    backend.kill('SIGKILL'); // no shutdown, no stop(): only the reaper can end QEMU now
    await waitFor(() => !isAlive(qemu) && !isAlive(sleeper), 10_000);
    if (gdb) await waitFor(() => !isAlive(gdb), 10_000); // gdb: EOF on its command pipe
    await waitFor(() => !isAlive(reaperPid), 10_000); // and the reaper itself is gone
  } finally {
    for (const pid of [qemu, sleeper, gdb]) if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone, as it should be */ }
  }
});

test('a stopped process is forgotten by the reaper; the reaper exits with the backend', { timeout: 30_000 }, async () => {
  const p = await spawnManaged('/bin/sh', ['-c', 'sleep 1000'], { stdio: 'ignore' });
  const { reaper } = await import('../../node/proc.js');
  const rp = reaper();
  assert.ok(rp && isAlive(rp), 'the reaper runs while this process lives');
  assert.equal(processTable().get(rp)?.ppid, process.pid);
  await p.stop();
  assert.ok(isAlive(rp), 'stopping a child does not end the reaper');
});
