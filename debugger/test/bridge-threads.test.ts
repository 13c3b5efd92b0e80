/*
 * The bridge's thread list (issue 19, stepping latency): gdb lists the target's threads at every
 * stop (qfThreadInfo, qsThreadInfo… until `l`); the bridge reads QEMU's list (its vCPUs) once and
 * answers from it, so a Step Over costs no QEMU round trip for it. Real QEMU (TCG, 2 vCPUs) behind
 * the bridge, RspClients and a real gdb in front of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Bridge, type PacketLogEntry } from '../node/bridge.js';
import { RspClient } from '../node/client.js';
import { GdbMi } from '../node/mi-driver.js';
import { startQemu, type Qemu } from '../node/qemu.js';

describe('bridge: the thread list is read from QEMU once and served at every stop', { timeout: 120000 }, () => {
  let q: Qemu;
  let b: Bridge;
  const packets: PacketLogEntry[] = [];
  const toTarget = (re: RegExp) => packets.filter((p) => p.dir === 'bridge->target' && re.test(p.bytes)).length;

  before(async () => {
    q = await startQemu({ smp: 2 });
    b = await Bridge.start(q.endpoint, 0);
    b.on('packet', (e: PacketLogEntry) => packets.push(e));
  });
  after(async () => {
    await b?.close();
    await q?.kill();
  });

  it('answers qfThreadInfo/qsThreadInfo as QEMU does, per client, with one read of QEMU', async () => {
    const direct = b.target!; // the bridge's own connection to QEMU (QEMU serves one)
    const want = [await direct.request('qfThreadInfo')];
    while (want[want.length - 1]!.startsWith('m')) want.push(await direct.request('qsThreadInfo'));
    assert.deepEqual(want.filter((r) => r.startsWith('m')).join(','), 'm01,m02', "QEMU lists its two vCPUs");
    const c1 = await RspClient.connect(`tcp:127.0.0.1:${b.port}`);
    const c2 = await RspClient.connect(`tcp:127.0.0.1:${b.port}`);
    const list = async (c: RspClient) => {
      const got = [await c.request('qfThreadInfo')];
      while (got[got.length - 1]!.startsWith('m')) got.push(await c.request('qsThreadInfo'));
      return got;
    };
    const before = toTarget(/q[fs]ThreadInfo/);
    assert.deepEqual(await list(c1), want);
    // interleaved: each client has its own place in the list
    assert.equal(await c1.request('qfThreadInfo'), want[0]);
    assert.deepEqual(await list(c2), want);
    assert.equal(await c1.request('qsThreadInfo'), want[1]);
    assert.ok(toTarget(/q[fs]ThreadInfo/) - before <= want.length, 'QEMU was asked for the list at most once');
    assert.ok(b.stats.threadListHits >= 3);
    c1.close();
    c2.close();
  });

  it("gdb's stepi and info threads through the bridge: no thread-list packet reaches QEMU", async () => {
    const g = await GdbMi.start();
    try {
      await g.connect(`127.0.0.1:${b.port}`);
      const n0 = toTarget(/q[fs]ThreadInfo/);
      for (let i = 0; i < 3; i++) await g.run('step-instruction', 30000);
      const info = await g.threadInfo();
      assert.equal(info.threads.length, 2, 'gdb sees both vCPUs');
      assert.equal(toTarget(/q[fs]ThreadInfo/) - n0, 0, 'every stop listed the threads from the bridge');
    } finally {
      await g.exit().catch(() => g.kill());
    }
  });
});
