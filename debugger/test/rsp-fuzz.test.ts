/*
 * Fuzz the streaming decoder with a seeded PRNG (deterministic, bounded):
 * random valid traffic cut into random chunks must decode exactly; corrupted,
 * truncated and random byte streams must never throw, must count their errors
 * and must resynchronise on the next packet.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeBinary } from '../common/hex.js';
import { encodeNotification, encodePacket, RspDecoder, type RspEvent } from '../common/rsp.js';

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

const SEED = 0x5eed1e55;
const ITER = 400;

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
