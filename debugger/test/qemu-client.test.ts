/*
 * RspClient against a real QEMU 7.2 gdbstub (no kernel: the CPU sits at the reset
 * vector in SeaBIOS, real mode; linear address = physical address).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RspClient } from '../node/client.js';
import { startQemu, type Qemu } from '../node/qemu.js';

const T = { timeout: 120000 };

/** Continue, but interrupt after `ms` so a missed breakpoint fails instead of hanging. */
async function continueWithin(c: RspClient, ms = 20000) {
  const t = setTimeout(() => c.interrupt(), ms);
  try {
    return await c.continue();
  } finally {
    clearTimeout(t);
  }
}

/** Real mode: cs = 0, rip = addr (QEMU reloads the segment base on a cs write). */
async function jumpTo(c: RspClient, addr: bigint): Promise<void> {
  await c.requestOk('P12=00000000', 'set cs');
  await c.requestOk(`P10=${Buffer.from(new BigUint64Array([addr]).buffer).toString('hex')}`, 'set rip');
}

describe('RspClient ⇄ QEMU gdbstub', T, () => {
  let q: Qemu;
  let c: RspClient;
  const log: string[] = [];
  before(async () => {
    // TCG: deterministic, and software breakpoints in real mode work there (under
    // this host's nested KVM an int3 in real mode goes to the guest's IVT instead).
    q = await startQemu({ accel: 'tcg' });
    c = await RspClient.connect(q.endpoint, { onLog: (d, b) => log.push(d + ' ' + b) });
  });
  after(async () => {
    c?.close();
    await q?.kill();
  });

  it('negotiates qSupported and learns the stop state', () => {
    assert.equal(c.features.get('PacketSize'), '1000');
    assert.equal(c.features.get('qXfer:features:read'), '+');
    assert.equal(c.lastStop?.kind, 'signal');
    // Acks on: the client acknowledged the replies, and never asked for no-ack mode.
    assert.ok(log.some((l) => l === 'send +'));
    assert.ok(!log.some((l) => l.includes('QStartNoAckMode')));
  });

  it('reads the x86_64 registers at reset', async () => {
    const g = await c.readRegisters();
    assert.equal(g.length, 608 * 2);
    const r = await c.readRegistersX86_64();
    assert.equal(r.get('rip'), 0xfff0n);
    assert.equal(r.get('cs'), 0xf000n);
    assert.equal(r.get('cr0'), 0x60000010n);
  });

  it('reads memory (the reset vector holds a far jmp) and chunks reads larger than 0x800', async () => {
    const v = await c.readMemory(0xffff0n, 5);
    assert.equal(v[0], 0xea); // jmp far
    log.length = 0;
    const big = await c.readMemory(0xf0000n, 0x2345);
    const reads = log.filter((l) => /^send \$m/.test(l));
    assert.equal(reads.length, 5);
    for (const l of reads) assert.ok(parseInt(/,([0-9a-f]+)#/.exec(l)![1]!, 16) <= 0x800);
    const again = await c.readMemory(0xf1000n, 0x100);
    assert.deepEqual(big.subarray(0x1000, 0x1100), again);
  });

  it('turns error replies into rejections that name the request', async () => {
    await assert.rejects(c.readXfer('features', 'no-such-annex.xml'), /qXfer:features:read:no-such-annex.xml failed/);
    await assert.rejects(c.requestOk('Hgff', 'selecting thread ff'), /selecting thread ff failed: target replied E/);
  });

  it('writes memory (M and X with escaped bytes) and reads it back', async () => {
    const data = Uint8Array.from([0x23, 0x24, 0x7d, 0x2a, 0, 1, 2, 0xff]);
    await c.writeMemoryBinary(0x7000n, data);
    assert.deepEqual(await c.readMemory(0x7000n, 8), data);
    await c.writeMemory(0x7100n, Uint8Array.from([9, 8, 7]));
    assert.deepEqual([...(await c.readMemory(0x7100n, 3))], [9, 8, 7]);
  });

  it('lists vCPUs as threads', async () => {
    assert.deepEqual(await c.threads(), ['01']);
    assert.match(await c.threadExtraInfo('01'), /CPU#0/);
  });

  it('single-steps through the reset jump to f000:e05b', async () => {
    const s = await c.step();
    assert.ok(s.kind === 'signal' && s.signal === 5);
    const r = await c.readRegistersX86_64();
    assert.equal(r.get('rip'), 0xe05bn);
  });

  it('stops at hardware and software breakpoints, and runs on after removing them', async () => {
    // Plant "nop; nop; nop; nop; jmp $" at 0000:7000 and point cs:rip at it.
    await c.writeMemory(0x7000n, Uint8Array.from([0x90, 0x90, 0x90, 0x90, 0xeb, 0xfe]));
    await jumpTo(c, 0x7000n);
    await c.setBreakpoint('hw', 0x7002n);
    let s = await continueWithin(c);
    assert.ok(s.kind === 'signal' && s.signal === 5, JSON.stringify(s));
    assert.equal((await c.readRegistersX86_64()).get('rip'), 0x7002n);
    await c.removeBreakpoint('hw', 0x7002n);
    await c.setBreakpoint('sw', 0x7004n);
    s = await continueWithin(c);
    assert.ok(s.kind === 'signal' && s.signal === 5);
    assert.equal((await c.readRegistersX86_64()).get('rip'), 0x7004n);
    await c.removeBreakpoint('sw', 0x7004n);
    // The code is intact (the stub hides its breakpoint bytes).
    assert.deepEqual([...(await c.readMemory(0x7000n, 6))], [0x90, 0x90, 0x90, 0x90, 0xeb, 0xfe]);
  });

  it('interrupts a running guest with 0x03 (and sends nothing else while it runs)', async () => {
    log.length = 0;
    const run = c.continue();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.state, 'running');
    await assert.rejects(c.request('g', 100), /no reply|running/).catch(() => undefined);
    c.interrupt();
    const s = await run;
    assert.ok(s.kind === 'signal' && s.signal === 2, JSON.stringify(s));
    // Between the vCont;c and the stop reply the client wrote only 0x03.
    const i0 = log.findIndex((l) => l.startsWith('send $vCont;c'));
    const i1 = log.findIndex((l, i) => i > i0 && l.startsWith('recv') && l.includes('$T02'));
    const sentWhileRunning = log.slice(i0 + 1, i1).filter((l) => l.startsWith('send'));
    assert.deepEqual(sentWhileRunning, ['send \x03']);
  });

  it('treats EOF while running as the guest exiting (isa-debug-exit)', async () => {
    // Plant "mov al,1; out 0xf4,al; hlt" in RAM and jump there.
    await c.writeMemory(0x7100n, Uint8Array.from([0xb0, 0x01, 0xe6, 0xf4, 0xf4]));
    await jumpTo(c, 0x7100n);
    const closed = new Promise((res) => c.once('close', res));
    const s = await c.continue();
    // QEMU 7.2 may send W (exit status) before closing, or just close.
    assert.ok(s.kind === 'disconnected' || s.kind === 'exited', JSON.stringify(s));
    if (s.kind === 'disconnected') assert.match(s.message, /guest exited/);
    await closed;
    assert.equal(c.state, 'closed');
    assert.equal((await q.exited).code, 3); // (1 << 1) | 1
    await assert.rejects(c.readMemory(0n, 4), /connection is closed/);
  });
});

describe('RspClient over a Unix socket', T, () => {
  it('connects to a gdbstub on a Unix socket and reads registers and memory', async () => {
    const sock = path.join(os.tmpdir(), `lanescope-gdb-${process.pid}.sock`);
    const q = await startQemu({ accel: 'tcg', gdbUnixSocket: sock });
    try {
      assert.equal(q.endpoint, `unix:${sock}`);
      const c = await RspClient.connect(q.endpoint);
      assert.equal(c.description, `unix:${sock}`);
      assert.equal((await c.readRegistersX86_64()).get('rip'), 0xfff0n);
      assert.equal((await c.readMemory(0xffff0n, 1))[0], 0xea);
      c.close();
    } finally {
      await q.kill();
      fs.rmSync(sock, { force: true });
    }
  });

  it('names the endpoint when it cannot connect', async () => {
    await assert.rejects(RspClient.connect('unix:/nonexistent/lanescope.sock'), /cannot connect to unix:\/nonexistent\/lanescope.sock/);
    await assert.rejects(RspClient.connect('tcp:127.0.0.1:notaport'), /"notaport" is not a valid TCP port/);
  });
});

describe('RspClient and a stub that announces stops by itself', () => {
  it("takes a stop the target sends unasked as a notice, not as the answer to the request in flight", async () => {
    // QEMU 7.2 sends `T02thread:01;` when a client connects to a running VM (it pauses it then)
    // and `T03…` when the VM shuts down. Taken as replies they shifted every later answer by one:
    // the postmortem reader's memory read got `T02thread:01;` ("odd-length hex string").
    const { encodePacket } = await import('../common/rsp.js');
    const net = await import('node:net');
    const asked: string[] = [];
    const srv = net.createServer((s) => {
      let buf = '';
      const send = (d: string) => s.write(encodePacket(d));
      send('T02thread:01;');                      // at once, before anything is asked
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (let m = /\$([^#]*)#[0-9a-fA-F]{2}/.exec(buf); m; m = /\$([^#]*)#[0-9a-fA-F]{2}/.exec(buf)) {
          buf = buf.slice(m.index + m[0].length);
          s.write('+');
          const q = m[1]!;
          asked.push(q);
          if (q.startsWith('qSupported')) send('PacketSize=1000');
          else if (q === '?') send('S05');
          else if (q === 'm1000,4') {
            send('T03thread:01;');                // the VM stopping again, then the answer
            send('deadbeef');
          } else send('');
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as import('node:net').AddressInfo).port;
    const c = await RspClient.connect(`tcp:127.0.0.1:${port}`);
    try {
      assert.equal(c.packetSize, 0x1000, 'qSupported got its own answer, not the T02');
      assert.deepEqual([...(await c.readMemory(0x1000n, 4))], [0xde, 0xad, 0xbe, 0xef]);
      assert.equal(c.lastStop?.kind, 'signal');
      assert.equal((c.lastStop as { signal: number }).signal, 3, 'the announced stop is the last one known');
      assert.deepEqual(asked.filter((q) => !q.startsWith('qSupported')), ['?', 'm1000,4']);
    } finally {
      c.close();
      srv.close();
    }
  });
});
