/*
 * The bridge's thread list (issue 19, stepping latency): gdb lists the target's threads at every
 * stop (qfThreadInfo, qsThreadInfo… until `l`); the bridge reads QEMU's list (its vCPUs) once and
 * answers from it, so a Step Over costs no QEMU round trip for it. Real QEMU (TCG, 2 vCPUs) behind
 * the bridge, RspClients and a real gdb in front of it. A stub that offers qXfer:threads:read
 * (LaneOS's: the kernel threads on the CPUs, a new set at every stop) is asked every time: a fake
 * one whose list changes at each qfThreadInfo.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodePacket, RspDecoder } from '../common/rsp.js';
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

describe("bridge: a stub with qXfer:threads:read (its threads change) is asked for the list every time", { timeout: 60000 }, () => {
  it('two qfThreadInfo from a client get the two lists the stub gave', async () => {
    const sock = path.join(os.tmpdir(), `lanescope-fake-threads-${process.pid}.sock`);
    let asked = 0;
    const answer = (d: string): string => {
      if (d.startsWith('qSupported')) return 'PacketSize=400;qXfer:threads:read+;QStartNoAckMode+';
      if (d === '?') return 'T05thread:11;core:0;';
      if (d === 'qfThreadInfo') return `m${(0x11 + asked++).toString(16)},40000001`;
      if (d === 'qsThreadInfo') return 'l';
      return '';
    };
    const server = net.createServer((c) => {
      const dec = new RspDecoder({ rle: false });
      c.on('data', (chunk) => {
        for (const e of dec.feed(chunk)) if (e.kind === 'packet') c.write(Buffer.from('+' + encodePacket(answer(e.data)), 'latin1'));
      });
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(sock, r));
    const br = await Bridge.start(`unix:${sock}`, 0);
    const c = await RspClient.connect(`127.0.0.1:${br.port}`);
    try {
      const first = await c.request('qfThreadInfo');
      const n = asked;
      assert.equal(await c.request('qsThreadInfo'), 'l');
      const second = await c.request('qfThreadInfo');
      assert.equal(asked, n + 1, 'the stub was asked again');
      assert.equal(second, `m${(0x11 + n).toString(16)},40000001`, `the stub's new list, not a copy of ${first}`);
      assert.notEqual(second, first);
    } finally {
      c.close();
      await br.close();
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(sock, { force: true });
    }
  });
});
