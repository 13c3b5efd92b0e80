/*
 * Fuzz the streaming decoder and the client with a seeded PRNG (deterministic, bounded):
 * random valid traffic cut into random chunks must decode exactly; corrupted,
 * truncated and random byte streams must never throw, must count their errors
 * and must resynchronise on the next packet; RLE never goes quadratic and is capped;
 * an oversized packet is discarded up to its checksum (its bytes never become
 * acks or interrupts); an RspClient talking to a hostile stub settles every call.
 *
 * Longer runs by hand: LANESCOPE_FUZZ=<multiplier> LANESCOPE_FUZZ_SEED=<n> node --import tsx --test debugger/test/rsp-fuzz.test.ts
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeBinary } from '../common/hex.js';
import { encodeNotification, encodePacket, rleDecode, rleEncode, RspDecoder, type RspEvent } from '../common/rsp.js';
import type { Transport } from '../common/transport.js';
import { RspClient } from '../node/client.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCALE = Math.max(1, Number(process.env['LANESCOPE_FUZZ'] ?? 1) || 1);
const SEED = Number(process.env['LANESCOPE_FUZZ_SEED'] ?? 0x5eed1e55) >>> 0;
const ITER = 400 * SCALE;

function randomPayload(r: () => number): string {
  const n = Math.floor(r() * 64);
  const bytes = new Uint8Array(n).map(() => Math.floor(r() * 256));
  return r() < 0.5 ? Buffer.from(bytes).toString('hex') : escapeBinary(bytes);
}

function randomTraffic(r: () => number): { wire: string; packets: string[] } {
  let wire = '';
  const packets: string[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.15) wire += '+';
    else if (x < 0.2) wire += '\x03';
    else if (x < 0.3) {
      const p = 'Stop:' + randomPayload(r);
      wire += encodeNotification(p);
      packets.push('%' + p);
    } else {
      const p = randomPayload(r);
      wire += encodePacket(p, { rle: r() < 0.3 });
      packets.push('$' + p);
    }
  }
  return { wire, packets };
}

function feedChunked(d: RspDecoder, wire: string, r: () => number): RspEvent[] {
  const ev: RspEvent[] = [];
  let i = 0;
  while (i < wire.length) {
    const n = 1 + Math.floor(r() * 24);
    ev.push(...d.feed(Buffer.from(wire.slice(i, i + n), 'latin1')));
    i += n;
  }
  return ev;
}

const packetsOf = (ev: RspEvent[]) =>
  ev.flatMap((e) => (e.kind === 'packet' ? ['$' + e.data] : e.kind === 'notification' ? ['%' + e.data] : []));

describe('RSP decoder fuzz (seeded)', () => {
  it(`decodes ${ITER} random valid streams exactly under random chunking`, () => {
    const r = mulberry32(SEED);
    for (let i = 0; i < ITER; i++) {
      const { wire, packets } = randomTraffic(r);
      const d = new RspDecoder();
      const ev = feedChunked(d, wire, r);
      assert.deepEqual(packetsOf(ev), packets, `iteration ${i}`);
      assert.equal(d.stats.errors, 0, `iteration ${i}`);
    }
  });

  it('survives corruption, truncation and noise, counts errors and resyncs', () => {
    const r = mulberry32(SEED + 1);
    const sync = encodePacket('SYNC');
    let corruptedStreams = 0;
    let errorsSeen = 0;
    for (let i = 0; i < ITER; i++) {
      const { wire } = randomTraffic(r);
      let bad = wire;
      const mode = i % 4;
      if (mode === 0) { // flip random bytes
        const a = [...bad];
        for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
          const at = Math.floor(r() * a.length);
          a[at] = String.fromCharCode(Math.floor(r() * 256));
        }
        bad = a.join('');
      } else if (mode === 1) bad = bad.slice(0, Math.floor(r() * bad.length)); // truncate
      else if (mode === 2) { // insert noise
        const at = Math.floor(r() * bad.length);
        bad = bad.slice(0, at) + Buffer.from(new Uint8Array(8).map(() => Math.floor(r() * 256))).toString('latin1') + bad.slice(at);
      } else bad = Buffer.from(new Uint8Array(Math.floor(r() * 200)).map(() => Math.floor(r() * 256))).toString('latin1');
      if (bad !== wire) corruptedStreams++;
      const d = new RspDecoder();
      let ev: RspEvent[] = [];
      assert.doesNotThrow(() => { ev = feedChunked(d, bad + sync, r); }, `iteration ${i}`);
      const pk = packetsOf(ev);
      assert.equal(pk[pk.length - 1], '$SYNC', `iteration ${i}: decoder did not resync`);
      // Chunking never changes the result.
      const d2 = new RspDecoder();
      assert.deepEqual(packetsOf(d2.feed(bad + sync)), pk, `iteration ${i}: chunking changed the packets`);
      const errs = ev.filter((e) => e.kind === 'error');
      assert.equal(errs.length, d.stats.errors);
      for (const e of errs) assert.ok(e.kind === 'error' && e.error.message.length > 10);
      errorsSeen += d.stats.errors;
      assert.doesNotThrow(() => d.end());
    }
    assert.ok(corruptedStreams > ITER / 2);
    assert.ok(errorsSeen > ITER / 4, `only ${errorsSeen} errors reported for ${corruptedStreams} corrupted streams`);
  });
});

describe('RSP run-length decoding (linear, capped)', () => {
  it('expands long runs in linear time (16 KB of "x*~" took 10 s when it was quadratic)', { timeout: 30_000 }, () => {
    // 3.9 MB of output from 80 KB of markers: minutes with the old decoder, milliseconds now.
    const body = 'x' + '*~'.repeat(40_000);
    const r = rleDecode(body);
    assert.ok('data' in r, JSON.stringify(r).slice(0, 200));
    assert.equal(r.data.length, 1 + 97 * 40_000);
    assert.ok(/^x+$/.test(r.data));
  });

  it('refuses an expansion beyond the cap with a clear error', () => {
    const r = rleDecode('x' + '*~'.repeat(50_000));
    assert.ok('error' in r);
    assert.match(r.error, /expands beyond 4194304 bytes/);
    const small = rleDecode('ab*~', 50);
    assert.ok('error' in small && /beyond 50 bytes/.test(small.error));
    // The decoder turns it into a bad-rle error (and a nak), not a packet.
    const d = new RspDecoder({ maxExpandedSize: 1000 });
    const ev = d.feed(encodePacket('y' + '*~'.repeat(20)));
    assert.equal(ev.length, 1);
    assert.ok(ev[0]!.kind === 'error' && ev[0]!.error.code === 'bad-rle' && /beyond 1000 bytes/.test(ev[0]!.error.message));
  });

  it('decodes exactly what rleEncode encodes (seeded)', () => {
    const r = mulberry32(SEED + 7);
    for (let i = 0; i < ITER; i++) {
      let s = '';
      const runs = Math.floor(r() * 20);
      for (let k = 0; k < runs; k++) {
        const c = String.fromCharCode(0x20 + Math.floor(r() * 95));
        if (!'$#}*'.includes(c)) s += c.repeat(1 + Math.floor(r() * 300)); // those are escaped in real data
      }
      const d = rleDecode(rleEncode(s));
      assert.ok('data' in d && d.data === s, `iteration ${i}`);
    }
  });
});

describe('RSP decoder: an oversized packet is discarded up to its checksum', () => {
  it('bytes after a too-long error are not read as protocol bytes', () => {
    const d = new RspDecoder({ maxPacketSize: 16 });
    // The body holds 0x03 (an interrupt outside a packet), '+' and '-' — all data, not protocol.
    const body = 'A'.repeat(20) + '\x03+-' + 'B'.repeat(10) + '\x03';
    const ev = d.feed(Buffer.from(encodePacket(body) + '+' + encodePacket('OK'), 'latin1'));
    const kinds = ev.map((e) => (e.kind === 'error' ? `error:${e.error.code}` : e.kind));
    assert.deepEqual(kinds, ['error:too-long', 'ack', 'packet']);
    assert.equal(d.stats.interrupts, 0);
    assert.equal(d.stats.errors, 1);
    const last = ev[2]!;
    assert.ok(last.kind === 'packet' && last.data === 'OK');
  });

  it('the same byte by byte, and a new "$" during the discard starts a packet', () => {
    const d = new RspDecoder({ maxPacketSize: 8 });
    const wire = '$' + 'Z'.repeat(12) + '\x03\x03' + '$OK#9a' + '\x03';
    const ev: RspEvent[] = [];
    for (const ch of wire) ev.push(...d.feed(ch));
    const kinds = ev.map((e) => (e.kind === 'error' ? `error:${e.error.code}` : e.kind));
    assert.deepEqual(kinds, ['error:too-long', 'packet', 'interrupt']);
    assert.equal(d.inPacket, false);
    assert.deepEqual(d.end(), []);
  });
});

/**
 * An in-memory stub that answers every packet the client sends with something hostile:
 * valid replies with random payloads, corrupt and oversized packets, RLE bombs, naks,
 * interrupts, unsolicited stop replies, silence, or closing the connection mid-packet.
 */
class HostileStub implements Transport {
  readonly description = 'fuzz:hostile-stub';
  private onData: ((c: Uint8Array) => void) | undefined;
  private onClose: ((e?: Error) => void) | undefined;
  private closed = false;
  private readonly dec = new RspDecoder({ rle: false });
  constructor(private readonly r: () => number) {}
  start(onData: (c: Uint8Array) => void, onClose: (e?: Error) => void): void {
    this.onData = onData;
    this.onClose = onClose;
  }
  write(bytes: Uint8Array): void {
    if (this.closed) return;
    for (const e of this.dec.feed(bytes)) if (e.kind === 'packet') setImmediate(() => this.answer(e.data));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.onClose?.());
  }
  private send(s: string): void {
    if (!this.closed) this.onData?.(Buffer.from(s, 'latin1'));
  }
  private answer(req: string): void {
    if (this.closed) return;
    const r = this.r;
    const x = r();
    const rnd = (n: number) => Buffer.from(new Uint8Array(n).map(() => Math.floor(r() * 256))).toString('latin1');
    const hex = (n: number) => Buffer.from(new Uint8Array(n).map(() => Math.floor(r() * 256))).toString('hex');
    this.send('+');
    if (x < 0.3) { // a plausible reply
      const choices = ['OK', 'E01', '', hex(1 + Math.floor(r() * 64)), 'S05', 'T05thread:01;', 'W00', 'X09', 'm1,2', 'l',
        'PacketSize=1000;qXfer:features:read+', 'O48656c6c6f', 'QC1', 'l<target/>', 'mzz'];
      this.send(encodePacket(choices[Math.floor(r() * choices.length)]!, { rle: r() < 0.3 }));
    } else if (x < 0.4) this.send(encodePacket(rnd(Math.floor(r() * 80))));
    else if (x < 0.5) this.send('$' + rnd(Math.floor(r() * 40)) + '#zz');
    else if (x < 0.55) this.send(encodePacket('0' + '*~'.repeat(1 + Math.floor(r() * 2000))));
    else if (x < 0.6) this.send('-'); // ask for a retransmit
    else if (x < 0.65) this.send('\x03' + rnd(8));
    else if (x < 0.7) this.send(encodeNotification('Stop:T05'));
    else if (x < 0.75) { this.send('$' + req.slice(0, 4)); this.close(); } // cut mid-packet
    else if (x < 0.8) { /* silence: the request times out */ }
    else if (x < 0.85) this.send(encodePacket('x'.repeat(5000)) + encodePacket('OK'));
    else this.send(encodePacket(r() < 0.5 ? 'OK' : hex(16)));
  }
}

describe('RSP client against a hostile stub (seeded)', () => {
  it('every call resolves or rejects with an Error; nothing throws or hangs', { timeout: 60_000 }, async () => {
    const r = mulberry32(SEED + 3);
    const N = 45 * SCALE;
    let rejected = 0;
    let resolved = 0;
    for (let i = 0; i < N; i++) {
      const stub = new HostileStub(r);
      const client = new RspClient(stub, { requestTimeoutMs: 40 });
      client.on('protocol-error', () => {});
      const calls: Array<() => Promise<unknown>> = [
        () => client.handshake(),
        () => client.readMemory(BigInt(Math.floor(r() * 2 ** 32)), Math.floor(r() * 0x2000)),
        () => client.readRegistersX86_64(),
        () => client.threads(),
        () => client.setBreakpoint('sw', 0x1000n),
        () => client.haltReason(),
        () => client.readXfer('features', 'target.xml'),
        () => client.writeMemory(0x2000n, new Uint8Array(8)),
        () => client.query('qC'),
      ];
      for (let k = 0; k < 6; k++) {
        const call = calls[Math.floor(r() * calls.length)]!;
        const outcome = await Promise.race([
          call().then(() => 'resolved', (e: unknown) => (e instanceof Error ? 'rejected' : `rejected with a non-Error: ${String(e)}`)),
          new Promise<string>((res) => setTimeout(() => res('hung'), 5000)),
        ]);
        if (outcome === 'resolved') resolved++;
        else if (outcome === 'rejected') rejected++;
        else assert.fail(`iteration ${i} (seed ${SEED}): call ${k} ${outcome}`);
        if (client.state === 'closed') break;
      }
      client.close();
    }
    assert.ok(resolved > 0 && rejected > 0, `resolved ${resolved}, rejected ${rejected}`);
  });
});
