// Integrated terminals over node-pty: a real shell, resize, and flow control (pause when the
// renderer falls behind, resume when it acknowledges).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAlive } from '../../node/proc.js';
import { Terminals } from '../../node/terminals.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Waits until cond() holds, polling every `step` ms, for at most 60 s: a shell that starts slowly
// on a loaded machine (the suite runs beside QEMU guests) is not a failure; one that never
// answers is.
async function until(cond: () => boolean, step = 25): Promise<void> {
  const end = Date.now() + 60_000;
  while (!cond() && Date.now() < end) await sleep(step);
}

test('a shell runs commands, sees its size change, and is ended with its children on close', async () => {
  let out = '';
  const t = new Terminals((_id, d) => (out += d), () => undefined);
  const id = t.create(process.cwd(), 80, 24);
  try {
    t.input(id, 'stty size; echo marker-$((6*7))\r');
    await until(() => /marker-42/.test(out));
    assert.match(out, /24 80/);
    assert.match(out, /marker-42/);
    t.resize(id, 120, 40);
    t.input(id, 'stty size\r');
    await until(() => /40 120/.test(out));
    assert.match(out, /40 120/);
    assert.throws(() => t.resize(id, 0, 0), /integers/);
    t.input(id, 'sleep 777 & echo bg=$!\r');
    await until(() => /bg=\d+/.test(out));
    const bg = Number(/bg=(\d+)/.exec(out)![1]);
    assert.ok(isAlive(bg));
    await t.close(id);
    assert.equal(isAlive(bg), false, 'a background job of the terminal survived closing it');
    assert.throws(() => t.input(id, 'x'), /does not exist/);
  } finally {
    await t.closeAll();     // a failed check must not leave a shell behind (it keeps the test process alive)
  }
});

test('flow control: output pauses above the high-water mark until the renderer acknowledges', async () => {
  let received = 0;
  const t = new Terminals((_id, d) => (received += d.length), () => undefined);
  const id = t.create(process.cwd(), 80, 24);
  try {
    t.input(id, 'yes lanescope-flow-control-test-line | head -c 3000000; echo; echo DONE\r');
    await until(() => t.isPaused(id), 10);
    assert.equal(t.isPaused(id), true, 'never paused');
    const atPause = received;
    await sleep(300);
    // While paused nothing (beyond what was already in flight) arrives.
    assert.ok(received - atPause < 64 * 1024, `received ${received - atPause} bytes while paused`);
    assert.ok(received < 3000000);
    // Acknowledge everything as it comes: the stream completes.
    const end = Date.now() + 120_000;
    while (received < 3000000 && Date.now() < end) {
      t.ack(id, received);
      await sleep(5);
    }
    t.ack(id, received);
    assert.ok(received >= 3000000);
  } finally {
    await t.closeAll();
  }
});
