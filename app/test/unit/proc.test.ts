// Process lifecycle on real process trees: Stop must leave no process of the tree behind.
import assert from 'node:assert/strict';
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
