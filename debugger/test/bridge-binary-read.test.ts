/*
 * The bridge's binary memory reads (debugger/node/binary-read.ts) against a fake stub on a Unix
 * socket: a client's `m` becomes `x` packets on the target side when the stub offers
 * binary-upload, and the client still gets hex, byte for byte what memory holds — every byte
 * value, the escaped ones (# $ } * and the shared line's 0x1c) included. Also: the parts fit the
 * stub's PacketSize, a short `x` reply is read on, a read running into unmapped memory gives the
 * bytes before it (or the stub's error when nothing is readable), a stub that advertises
 * binary-upload but does not know `x` is read with `m`, and one that does not advertise it never
 * sees an `x`. The kernel stub's own `x` is tested in os/tools/kgdb-test (one UART part).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { bytesToHex } from '../common/hex.js';
import { encodePacket, RspDecoder } from '../common/rsp.js';
import { Bridge } from '../node/bridge.js';
import { RspClient } from '../node/client.js';

const BASE = 0x10000;
const SIZE = 0x10000; // mapped: [BASE, BASE + SIZE); anything else answers E14

interface StubOptions {
  binary: boolean;
  /** answer `x` with the empty reply (advertised but unknown) */
  unknownX?: boolean;
  /** at most this many bytes per `x` reply */
  shortX?: number;
  packetSize?: number;
}

/** Memory holding every byte value many times, in a shuffled order (the escaped ones included). */
function memory(): Uint8Array {
  const m = new Uint8Array(SIZE);
  let x = 12345;
  for (let i = 0; i < SIZE; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    m[i] = i < 256 ? i : (x >>> 16) & 0xff;
  }
  return m;
}

function escape(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a || b === 0x1c) s += '}' + String.fromCharCode(b ^ 0x20);
    else s += String.fromCharCode(b);
  }
  return s;
}

async function fakeStub(opts: StubOptions): Promise<{ path: string; seen: string[]; mem: Uint8Array; close(): Promise<void> }> {
  const mem = memory();
  const seen: string[] = [];
  const sock = path.join(os.tmpdir(), `lanescope-fake-stub-${process.pid}-${Math.random().toString(36).slice(2)}.sock`);
  const read = (addr: number, len: number): Uint8Array | undefined => {
    if (addr < BASE || addr >= BASE + SIZE) return undefined;
    return mem.subarray(addr - BASE, Math.min(addr - BASE + len, SIZE));
  };
  const answer = (d: string): string => {
    seen.push(d);
    if (d.startsWith('qSupported')) return `PacketSize=${(opts.packetSize ?? 0x400).toString(16)};QStartNoAckMode+${opts.binary ? ';binary-upload+' : ''}`;
    if (d === '?') return 'S05';
    const m = /^([mx])([0-9a-f]+),([0-9a-f]+)$/.exec(d);
    if (m) {
      const b = read(parseInt(m[2]!, 16), parseInt(m[3]!, 16));
      if (!b) return 'E14';
      if (m[1] === 'm') return bytesToHex(b);
      if (opts.unknownX) return '';
      return 'b' + escape(opts.shortX ? b.subarray(0, opts.shortX) : b);
    }
    return '';
  };
  const server = net.createServer((s) => {
    const dec = new RspDecoder({ rle: false });
    s.on('data', (chunk) => {
      for (const e of dec.feed(chunk)) {
        if (e.kind !== 'packet') continue;
        s.write(Buffer.from('+' + encodePacket(answer(e.data)), 'latin1'));
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return { path: sock, seen, mem, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function setup(opts: StubOptions) {
  const stub = await fakeStub(opts);
  const bridge = await Bridge.start(`unix:${stub.path}`, 0);
  const client = await RspClient.connect(`127.0.0.1:${bridge.port}`);
  stub.seen.length = 0;
  return {
    stub,
    client,
    close: async () => {
      client.close();
      await bridge.close();
      await stub.close();
      fs.rmSync(stub.path, { force: true });
    },
  };
}

const hexOf = (mem: Uint8Array, addr: number, len: number) => bytesToHex(mem.subarray(addr - BASE, addr - BASE + len));

describe('bridge: binary memory reads (x) towards a stub with binary-upload', { timeout: 60000 }, () => {
  const open: Array<() => Promise<void>> = [];
  after(async () => { for (const c of open) await c(); });

  it('turns a client m into x packets that fit the stub, and answers the client in hex', async () => {
    const s = await setup({ binary: true });
    open.push(s.close);
    const r = await s.client.request(`m${(BASE + 3).toString(16)},1800`);
    assert.equal(r, hexOf(s.stub.mem, BASE + 3, 0x1800), 'every byte value (escaped ones too) arrives as it is in memory');
    assert.ok(s.stub.seen.every((p) => !p.startsWith('m')), `no m reached the stub: ${s.stub.seen.join(' ')}`);
    const xs = s.stub.seen.filter((p) => p.startsWith('x'));
    assert.ok(xs.length >= 12, `the read went out in x parts: ${xs.join(' ')}`);
    for (const x of xs) assert.ok(parseInt(x.split(',')[1]!, 16) <= (0x400 - 8) / 2, `${x}: even all escaped, its reply fits PacketSize 0x400`);
  });

  it('gives the bytes before unmapped memory, and the stub error when nothing is readable', async () => {
    const s = await setup({ binary: true });
    open.push(s.close);
    const end = BASE + SIZE;
    assert.equal(await s.client.request(`m${(end - 0x300).toString(16)},800`), hexOf(s.stub.mem, end - 0x300, 0x300));
    assert.equal(await s.client.request(`m${end.toString(16)},100`), 'E14');
  });

  it('reads on after a short x reply', async () => {
    const s = await setup({ binary: true, shortX: 0x51 });
    open.push(s.close);
    assert.equal(await s.client.request(`m${BASE.toString(16)},600`), hexOf(s.stub.mem, BASE, 0x600));
  });

  it('falls back to m when the stub advertises binary-upload but does not know x', async () => {
    const s = await setup({ binary: true, unknownX: true });
    open.push(s.close);
    assert.equal(await s.client.request(`m${BASE.toString(16)},900`), hexOf(s.stub.mem, BASE, 0x900));
    s.stub.seen.length = 0;
    assert.equal(await s.client.request(`m${(BASE + 0x1000).toString(16)},100`), hexOf(s.stub.mem, BASE + 0x1000, 0x100));
    assert.deepEqual(s.stub.seen.map((p) => p[0]), ['m'], 'x is not tried again on that target');
  });

  it('sends a stub without binary-upload m packets only', async () => {
    const s = await setup({ binary: false });
    open.push(s.close);
    assert.equal(await s.client.request(`m${BASE.toString(16)},1000`), hexOf(s.stub.mem, BASE, 0x1000));
    assert.ok(s.stub.seen.length > 0 && s.stub.seen.every((p) => p.startsWith('m')), s.stub.seen.join(' '));
  });
});
