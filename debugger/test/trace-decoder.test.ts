/*
 * Decoder robustness (seeded, bounded fuzz). (The Perfetto export has its own validator:
 * trace-perfetto.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeColumns, fieldsAt } from '../common/trace/columns.js';
import { DefTable } from '../common/trace/defs.js';
import { concat, encodeRecord } from '../common/trace/encode.js';
import { makeHeader, parseRing, parseRingStruct } from '../common/trace/flight.js';
import { exportPerfetto } from '../common/trace/perfetto.js';
import { EventMerger, RecordDecoder, type TraceEvent } from '../common/trace/records.js';
import { TRACE_DEFS } from '../common/trace/schema.gen.js';
import { FrameDecoder, frameEncode } from '../common/trace/serial.js';
import { decodeBuffer, formatEvent, ipcActionNames } from '../common/trace/text.js';

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

const defs = new DefTable();
const HZ = 1_000_000_000n; // 1 tick = 1 ns, easy to read

function header(): Uint8Array {
  return makeHeader(HZ, 0n, 2);
}

/** A small plausible trace: init runs, a client submits to a server, a cancel, loads. */
function scenario(): Uint8Array {
  const seq = [0, 0];
  let t = 1000;
  const r = (cpu: number, name: string, f: Record<string, number | bigint | string | Uint8Array>) =>
    encodeRecord(defs, name, { cpu, tsc: (t += 1000), seq: seq[cpu]!++ }, f);
  const id = (cpu: number, s: number) => (BigInt(cpu) << 48n) | BigInt(s);
  const parts = [
    header(),
    r(0, 'proc_create', { pid: 1, parent: 0, name: 'init' }),
    r(0, 'thread_create', { tid: 2, pid: 1, home_cpu: 0, kernel: 0, name: 'init' }),
    r(0, 'proc_create', { pid: 2, parent: 1, name: 'server' }),
    r(0, 'thread_create', { tid: 3, pid: 2, home_cpu: 1, kernel: 0, name: 'server' }),
    r(0, 'ctx_switch', { prev_tid: 0, prev_pid: 0, next_tid: 2, next_pid: 1, reason: 4, prev_state: 0 }),
    r(1, 'ctx_switch', { prev_tid: 0, prev_pid: 0, next_tid: 3, next_pid: 2, reason: 4, prev_state: 0 }),
    r(0, 'syscall_enter', { num: 40, tid: 2, a0: 1 }), // cpu0 seq 5
    r(0, 'ipc_submit', { stream: 7n, conversation: 0n, tag: 99n, bytes: 64n, actions: 3n, pid: 1, tid: 2, lane: 0, nactions: 1, payload: Uint8Array.from([1, 2, 3]) }), // cpu0 seq 6
    r(0, 'syscall_exit', { num: 40, tid: 2, result: 0, cause: id(0, 5) }),
    r(1, 'ipc_submit', { stream: 7n, conversation: 0n, tag: 5n, bytes: 4096n, actions: 4n, pid: 2, tid: 3, lane: 1, nactions: 1 }), // cpu1 seq 1
    r(1, 'ipc_match', { stream: 7n, conversation: 0n, cause: id(1, 1), other: id(0, 6), child_stream: 0n, result: 0 }),
    r(1, 'wakeup', { tid: 2, waker_tid: 3, target_cpu: 0, reason: 0, cause: id(1, 1) }),
    r(0, 'ipc_complete', { stream: 7n, tag: 99n, cause: id(0, 6), result: 64, bytes: 64n, pid: 1, tid: 2 }),
    r(0, 'ipc_submit', { stream: 7n, conversation: 0n, tag: 100n, bytes: 8n, actions: 3n, pid: 1, tid: 2, lane: 0, nactions: 1 }), // cpu0 seq 9
    r(0, 'marker', { pid: 1, tid: 2, kind: 0, value: 0n, name: 'signal' }), // cpu0 seq 10
    r(0, 'ipc_cancel', { stream: 7n, tag: 100n, target: id(0, 9), cause: id(0, 10), pid: 1, tid: 2 }),
    r(0, 'ctx_switch', { prev_tid: 2, prev_pid: 1, next_tid: 0, next_pid: 0, reason: 1, prev_state: 2 }),
    r(0, 'load_sample', { of_cpu: 0, rq_len: 0, load: 512, busy_ns: 50n, idle_ns: 50n }),
    r(1, 'log', { level: 2, tid: 3, text: 'server: hello' }),
    r(1, 'lost', { count: 3n, first_seq: 40n }),
  ];
  return concat(parts);
}

describe('trace decoder', () => {
  it('decodes a record stream in time order, with causes and lost counts', () => {
    const d = decodeBuffer(scenario());
    assert.equal(d.format, 'records');
    assert.equal(d.stats.unknown, 0);
    assert.equal(d.stats.lost, 3);
    const names = d.events.map((e) => e.name);
    assert.ok(names.indexOf('ipc_submit') < names.indexOf('ipc_match'));
    const match = d.events.find((e) => e.name === 'ipc_match')!;
    const sub = d.events.find((e) => e.name === 'ipc_submit' && e.cpu === 1)!;
    assert.equal(match.fields['cause'], sub.id);
    for (let i = 1; i < d.events.length; i++) assert.ok(d.events[i - 1]!.tsc <= d.events[i]!.tsc);
    assert.deepEqual(ipcActionNames(0x43n, 2), ['send', 'recv_inline']);
    const line = formatEvent(d.events.find((e) => e.name === 'ipc_submit')!, d.decoder.defs);
    assert.match(line, /ipc\.ipc_submit #0:6 .*actions=\[send\] .*payload=\[010203\]/);
    assert.match(formatEvent(match, d.decoder.defs), /cause=#1:1 other=#0:6/);
  });

  it('shows an event it has no built-in definition for by the definition in the trace', () => {
    const seqd = { cpu: 0, tsc: 5, seq: 0 };
    const def = new TextEncoder().encode('future_thing|sched|u32 a,u32 pad,u64 b');
    const dr = encodeRecord(defs, 'event_def', seqd, { def_id: 999, def_class: 2, text: new TextDecoder().decode(def) });
    // a record of type 999 with a=7, b=8
    const ev = new Uint8Array(40);
    const dv = new DataView(ev.buffer);
    dv.setUint16(0, 999, true); dv.setUint16(2, 40, true); dv.setBigUint64(8, 10n, true); dv.setBigUint64(16, 1n, true);
    dv.setUint32(24, 7, true); dv.setBigUint64(32, 8n, true);
    const unknownEv = new Uint8Array(ev); new DataView(unknownEv.buffer).setUint16(0, 998, true);
    const d = decodeBuffer(concat([header(), dr, ev, unknownEv]));
    const e = d.events.find((x) => x.type === 999)!;
    assert.equal(e.name, 'future_thing');
    assert.equal(e.fields['a'], 7);
    assert.equal(e.fields['b'], 8);
    const u = d.events.find((x) => x.type === 998)!;
    assert.equal(u.unknown, true, 'no definition at all: still shown, marked unknown');
    assert.equal(d.stats.unknown, 1);
  });

  it('fuzz: corrupted, truncated and random input never throws and resynchronises (seeded)', () => {
    const rnd = mulberry32(0x7ace5eed);
    const good = scenario();
    const base = decodeBuffer(good).events.length;
    for (let iter = 0; iter < 300; iter++) {
      const mode = iter % 4;
      // serial frames: the whole scenario in frames, with noise or corruption
      const frames: Uint8Array[] = [];
      let off = 0;
      let seq = 0;
      const dv = new DataView(good.buffer);
      while (off < good.length) {
        let end = off;
        while (end < good.length && end - off < 200) end += dv.getUint16(end + 2, true);
        frames.push(frameEncode(seq++, good.subarray(off, end)));
        off = end;
      }
      let stream = concat(frames);
      if (mode === 0) {
        // flip random bits
        stream = stream.slice();
        for (let k = 0; k < 1 + Math.floor(rnd() * 5); k++) stream[Math.floor(rnd() * stream.length)]! ^= 1 << Math.floor(rnd() * 8);
      } else if (mode === 1) {
        // noise between frames and a truncation
        const noise = Uint8Array.from({ length: 50 }, () => Math.floor(rnd() * 256));
        stream = concat([noise, stream.subarray(0, Math.floor(rnd() * stream.length))]);
      } else if (mode === 2) {
        stream = Uint8Array.from({ length: 2000 }, () => Math.floor(rnd() * 256));
      }
      const fd = new FrameDecoder();
      fd.records.holdUntilClock = false;
      const evs: TraceEvent[] = [];
      for (let i = 0; i < stream.length; ) {
        const n = 1 + Math.floor(rnd() * 300);
        fd.push(stream.subarray(i, i + n), evs);
        i += n;
      }
      fd.finish(evs);
      assert.ok(evs.length <= base + 2);
      if (mode === 0) assert.ok(fd.stats.corruptFrames >= 1 || evs.length === base, 'a corrupted frame is counted');
      if (mode === 3) assert.equal(evs.length, base, 'clean frames decode completely');
      // raw record stream: random mutations
      const raw = good.slice();
      for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) raw[Math.floor(rnd() * raw.length)] = Math.floor(rnd() * 256);
      const cut = raw.subarray(0, Math.floor(rnd() * raw.length));
      const rd = new RecordDecoder();
      rd.holdUntilClock = false;
      const out: TraceEvent[] = [];
      for (let i = 0; i < cut.length; i += 17) rd.push(cut.subarray(i, i + 17), out);
      rd.finish(out);
      decodeBuffer(Uint8Array.from({ length: 1000 + iter }, () => Math.floor(rnd() * 256)));
    }
    // resynchronisation: garbage, then a clean trace decodes fully
    const rd = new RecordDecoder();
    const junk = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
    const out = rd.push(concat([junk, good]));
    rd.finish(out);
    assert.ok(rd.stats.resyncs >= 1);
    assert.ok(out.length >= base - 1, `resynchronised: ${out.length} of ${base}`);
  });

  it('COM2: a reader that joins a running stream mid-frame loses that partial frame, counted as bytes, not as a corrupt frame', () => {
    const good = scenario();
    const dv = new DataView(good.buffer);
    const frames: Uint8Array[] = [];
    for (let off = 0, seq = 0; off < good.length; ) {
      let end = off;
      while (end < good.length && end - off < 120) end += dv.getUint16(end + 2, true);
      frames.push(frameEncode(seq++, good.subarray(off, end)));
      off = end;
    }
    const stream = concat(frames);
    const cut = stream.subarray(Math.floor(frames[0]!.length / 2)); // attached in the middle of frame 0
    const run = (joins: boolean) => {
      const fd = new FrameDecoder();
      fd.joinsMidStream = joins;
      fd.records.holdUntilClock = false;
      const evs = fd.push(cut);
      fd.finish(evs);
      return { fd, evs };
    };
    const live = run(true);
    assert.equal(live.fd.stats.corruptFrames, 0, 'a live socket: no corrupt frame for the join');
    assert.ok(live.fd.stats.corruptBytes > 0, 'the partial frame is counted as bytes');
    assert.equal(live.fd.frames, frames.length - 1, 'every later frame decodes');
    // a capture that should start at a frame boundary (a file from boot) still calls it corrupt
    assert.equal(run(false).fd.stats.corruptFrames, 1);
  });

  it('live merging: a CPU later than the window makes one late event, counted, and the window widens so the same lag is merged in order', () => {
    const ev = (cpu: number, tsc: number) => ({ cpu, tsc, name: 'x', fields: {} }) as unknown as TraceEvent;
    const m = new EventMerger(100);
    m.push([ev(1, 10), ev(0, 100), ev(0, 1000)]);
    assert.deepEqual(m.take().map((e) => e.tsc), [10, 100], 'cpu1 quiet: released up to the window before cpu0');
    m.push([ev(0, 1100)]);
    assert.deepEqual(m.take().map((e) => e.tsc), [1000]);
    m.push([ev(1, 600)]); // cpu1's record, published 400 past the 100 window
    assert.equal(m.late, 1);
    assert.equal(m.windowTsc, 800, 'twice the lateness');
    assert.deepEqual(m.take().map((e) => e.tsc), [600], 'it goes out next (it cannot go back in time)');
    // the same lag again: now inside the window, so merged in order
    m.push([ev(0, 1600), ev(0, 2000)]);
    const r1 = m.take().map((e) => e.tsc); // (with the base window: 1100 and 1600, and 1500 below late)
    m.push([ev(1, 1500), ev(1, 2100), ev(0, 2200)]);
    const r2 = m.take().map((e) => e.tsc);
    const out = [...r1, ...r2, ...m.take(true).map((e) => e.tsc)];
    assert.deepEqual(out, [1100, 1500, 1600, 2000, 2100, 2200]);
    assert.equal(m.late, 1, 'no new late event');
    // bounded: at most ten times the base
    m.push([ev(1, -100000)]);
    assert.equal(m.windowTsc, 1000);
  });

  it('flight recorder ring parsing walks [keep, head) across the wrap and skips padding', () => {
    const size = 256;
    const data = new Uint8Array(size);
    const recs = [0, 1, 2, 3, 4].map((s) => encodeRecord(defs, 'irq', { cpu: 1, tsc: 100 + s, seq: s }, { irq: s, vector: 32 + s }));
    // place: keep at 200 -> rec0 at 200 (32B), pad 24B at 232, rec1 at 0, rec2 at 32, ...
    data.set(recs[0]!, 200);
    new DataView(data.buffer).setUint16(232, 0, true);
    new DataView(data.buffer).setUint16(234, 24, true);
    data.set(recs[1]!, 0);
    data.set(recs[2]!, 32);
    const ringStruct = new Uint8Array(80);
    const rv = new DataView(ringStruct.buffer);
    rv.setBigUint64(0, 256n + 64n, true); // head
    rv.setBigUint64(16, 200n, true); // keep
    rv.setBigUint64(64, 0xffff800000100000n, true);
    rv.setUint32(72, size, true);
    rv.setUint32(76, 1, true);
    const info = parseRingStruct(ringStruct);
    const r = parseRing(info, data);
    assert.equal(r.count, 3);
    assert.equal(r.bad, 0);
    const d = decodeBuffer(concat([header(), r.records]));
    assert.deepEqual(d.events.filter((e) => e.name === 'irq').map((e) => e.fields['irq']), [0, 1, 2]);
  });
});

/** Every way a consumer touches an event: fields, the text form, the Perfetto export. */
function touchAll(evs: TraceEvent[], d: RecordDecoder): void {
  for (const e of evs) {
    void e.fields;
    formatEvent(e, d.defs);
    JSON.stringify(e.toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  }
  exportPerfetto(evs, { defs: d.defs });
}

/** A record of `type` and `size` whose body is `body` (zero-padded). */
function rawRecord(type: number, size: number, body: Uint8Array = new Uint8Array(0), cpu = 0, seq = 0): Uint8Array {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, type, true);
  dv.setUint16(2, size, true);
  dv.setUint16(4, cpu, true);
  dv.setBigUint64(8, BigInt(1000 + seq), true);
  dv.setBigUint64(16, (BigInt(cpu) << 48n) | BigInt(seq), true);
  b.set(body.subarray(0, Math.max(0, size - 24)), 24);
  return b;
}

function eventDef(id: number, text: string, seq = 0): Uint8Array {
  return encodeRecord(defs, 'event_def', { cpu: 0, tsc: 10, seq }, { def_id: id, def_class: 0, text });
}

/** Feed like a socket 'data' handler: in small chunks, through both the record and the COM2 path. */
function feedLikeASocket(stream: Uint8Array, chunk = 13): { rd: RecordDecoder; out: TraceEvent[]; fd: FrameDecoder; fout: TraceEvent[] } {
  const rd = new RecordDecoder();
  const out: TraceEvent[] = [];
  for (let i = 0; i < stream.length; i += chunk) rd.push(stream.subarray(i, i + chunk), out);
  rd.finish(out);
  const fd = new FrameDecoder();
  const frames = frameEncode(0, stream);
  const fout: TraceEvent[] = [];
  for (let i = 0; i < frames.length; i += chunk) fd.push(frames.subarray(i, i + chunk), fout);
  fd.finish(fout);
  return { rd, out, fd, fout };
}

describe('trace decoders never throw on malformed input (reproducers from issue 21)', () => {
  it('a 32-byte file holding one event_def (no room for its text) decodes to an error record, not a RangeError', () => {
    const file = rawRecord(2, 32); // event_def's fixed part is exactly 32 bytes: no u16 length, no text
    const d = decodeBuffer(file);
    assert.equal(d.format, 'records');
    assert.doesNotThrow(() => touchAll(d.events, d.decoder));
    assert.equal(d.decoder.errors.length, 1);
    assert.match(d.decoder.errors[0]!.message, /event 0: definition '' is not 'name\|class\|fields'; definition ignored/);
    assert.equal(d.decoder.errors[0]!.name, 'event_def');
    assert.equal(d.stats.malformed, 1);
    // decodeColumns reads the same record
    const c = decodeColumns(file);
    assert.equal(c.count, 1);
    assert.equal(c.errors.length, 1);
    assert.doesNotThrow(() => fieldsAt(c, 0));
    // and any str/bytes tail at the very end of a record is empty, never out of bounds
    const log = rawRecord(112, 32); // log: fixed 32, text tail has no length word
    const dl = decodeBuffer(concat([header(), log]));
    assert.equal(dl.events.find((e) => e.name === 'log')!.fields['text'], '');
  });

  it('an event_def that redefines ipc_submit (its actions no longer a number) is refused with a clear error; decoding goes on', () => {
    const bad = eventDef(64, 'ipc_submit|ipc|u64 stream,u32 nactions,u32 pad');
    const body = new Uint8Array(16);
    new DataView(body.buffer).setUint32(8, 3, true); // nactions 3 under the bad definition
    const sub = rawRecord(64, 88, body, 0, 5);
    const good = encodeRecord(defs, 'ipc_submit', { cpu: 0, tsc: 2000, seq: 6 }, { stream: 7n, actions: 0x43n, nactions: 2, pid: 1, tid: 2 });
    const stream = concat([header(), bad, sub, good]);
    const { rd, out, fd, fout } = feedLikeASocket(stream);
    assert.doesNotThrow(() => touchAll(out, rd));
    assert.equal(rd.errors.length, 1);
    assert.match(rd.errors[0]!.message, /event_def for ipc_submit drops field 'conversation'; the decoder needs it as a number; definition ignored/);
    assert.equal(rd.errors[0]!.offset, header().length);
    // the built-in definition stayed: the good whole-submission record expands into its 2 actions
    const subs = out.filter((e) => e.name === 'ipc_submit');
    assert.equal(subs.length, 1 + 2);
    assert.deepEqual(subs.slice(1).map((e) => e.fields['actions']), [3, 4]);
    assert.equal(fout.length, out.length, 'the COM2 path decodes the same');
    assert.equal(fd.stats.malformed, 1);
    // a type change of a field the decoder reads is refused too, a rename of the event as well
    for (const [text, why] of [
      ['ipc_submit|ipc|u64 stream,u64 conversation,u64 tag,u64 bytes,str[8] actions', /makes field 'actions' str/],
      ['not_submit|ipc|u64 stream', /renames event 64 \(ipc_submit\) to 'not_submit'/],
      ['trace_header|meta|u32 magic', /drops field 'tsc_hz'/],
      ['event_def|meta|u16 def_id,u16 x,u32 y,bytes[8] text', /makes field 'text' bytes/],
    ] as const) {
      const r = new RecordDecoder();
      r.push(concat([header(), eventDef(TRACE_DEFS.find((d) => d.text.startsWith(text.split('|')[0]!))?.id ?? 64, text)]));
      assert.match(r.errors[0]?.message ?? 'no error', why, text);
    }
    // a compatible extension (a trailing field) is still taken, as the README promises
    const ext = new RecordDecoder();
    ext.push(concat([header(), eventDef(3, 'lost|meta|u64 count,u64 first_seq,u64 extra')]));
    assert.equal(ext.errors.length, 0);
    assert.equal(ext.defs.get(3)!.fields.length, 3);
  });
});

describe('trace decoders: structure-aware fuzz (seeded; LANESCOPE_FUZZ=<multiplier> for longer runs)', () => {
  const SCALE = Math.max(1, Number(process.env['LANESCOPE_FUZZ'] ?? 1) || 1);
  const SEED = Number(process.env['LANESCOPE_FUZZ_SEED'] ?? 0x7ace0021) >>> 0;
  it('random definitions, records and sizes: nothing throws, consumers can touch every event, the stream resyncs', { timeout: 120_000 }, () => {
    const r = mulberry32(SEED);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const types = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'str[8]', 'bytes[4]', 'str[300]', 'bytes[0]', 'q32'];
    const names = ['actions', 'nactions', 'text', 'def_id', 'magic', 'tsc_hz', 'count', 'cause', 'other', 'stream', 'tag_a', 'payload', 'x'];
    const ids = [1, 2, 3, 5, 64, 65, 66, 70, 33, 112, 999, 0, 70000];
    const good = scenario();
    const t0 = Date.now();
    const iters = 400 * SCALE;
    let errors = 0;
    for (let it = 0; it < iters; it++) {
      const parts: Uint8Array[] = [header()];
      const n = 1 + Math.floor(r() * 12);
      for (let k = 0; k < n; k++) {
        const x = r();
        if (x < 0.35) { // a random (re)definition
          const id = pick(ids);
          const base = TRACE_DEFS.find((d) => d.id === id);
          let text: string;
          if (base && r() < 0.5) { // mutate a real one: drop, retype or rename a field
            const [nm, cls, body] = base.text.split('|') as [string, string, string];
            const fs = body.split(',');
            const at = Math.floor(r() * fs.length);
            const m = r();
            if (m < 0.3) fs.splice(at, 1);
            else if (m < 0.7) fs[at] = `${pick(types)} ${fs[at]!.split(' ')[1]!}`;
            else fs.push(`${pick(types)} ${pick(names)}`);
            text = `${r() < 0.1 ? 'renamed' : nm}|${cls}|${fs.join(',')}`;
          } else {
            const nf = Math.floor(r() * 6);
            text = `${r() < 0.9 ? pick(names) : '9bad'}|meta|${Array.from({ length: nf }, () => `${pick(types)} ${pick(names)}`).join(',')}`;
          }
          parts.push(eventDef(id, text, k));
        } else if (x < 0.7) { // a record of a random known type, random size and bytes
          const id = pick(ids.filter((i) => i > 0 && i < 65536));
          const size = 8 * (3 + Math.floor(r() * 40));
          parts.push(rawRecord(id, size, Uint8Array.from({ length: size }, () => Math.floor(r() * 256)), Math.floor(r() * 4), k));
        } else if (x < 0.85) { // a whole-submission record with random actions and nactions
          parts.push(encodeRecord(defs, 'ipc_submit', { cpu: 0, tsc: 5000 + k, seq: k }, {
            stream: BigInt(Math.floor(r() * 9)), actions: BigInt(Math.floor(r() * 2 ** 52)), nactions: Math.floor(r() * 20), pid: 1, tid: 2,
          }));
        } else parts.push(Uint8Array.from({ length: 8 * Math.floor(r() * 6) }, () => Math.floor(r() * 256))); // noise (records are 8-aligned)
      }
      parts.push(good);
      const stream = concat(parts);
      let res!: ReturnType<typeof feedLikeASocket>;
      assert.doesNotThrow(() => { res = feedLikeASocket(stream, 1 + Math.floor(r() * 64)); }, `iteration ${it} (seed ${SEED})`);
      assert.doesNotThrow(() => touchAll(res.out, res.rd), `iteration ${it} (seed ${SEED}): touching the events`);
      assert.doesNotThrow(() => touchAll(res.fout, res.fd.records), `iteration ${it} (seed ${SEED}): COM2 path`);
      assert.doesNotThrow(() => {
        const c = decodeColumns(stream);
        for (let i = 0; i < c.count; i++) fieldsAt(c, i);
      }, `iteration ${it} (seed ${SEED}): columns`);
      assert.doesNotThrow(() => decodeBuffer(stream), `iteration ${it} (seed ${SEED}): decodeBuffer`);
      for (const e of res.rd.errors) assert.ok(e.message.length > 15 && e.name.length > 0, e.message);
      errors += res.rd.stats.malformed;
      // resync: the clean scenario at the end still decodes (its marker event is there)
      assert.ok(res.out.some((e) => e.name === 'marker' || e.type === 144), `iteration ${it} (seed ${SEED}): no resync`);
    }
    assert.ok(errors > iters / 4, `only ${errors} error records in ${iters} hostile streams`);
    assert.ok(Date.now() - t0 < 100_000);
  });
});

describe('a live trace session survives hostile input on its socket', () => {
  it("the issue's reproducers over a real Unix socket, and an 'events' listener that throws: the process goes on", { timeout: 30_000 }, async () => {
    const net = await import('node:net');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { TraceSession } = await import('../node/trace/session.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-trace-sock-'));
    const sock = path.join(dir, 'com2.sock');
    const conns: import('node:net').Socket[] = [];
    const server = net.createServer((c) => conns.push(c));
    await new Promise<void>((r) => server.listen(sock, r));
    const s = new TraceSession({ serial: sock, keepEvents: true });
    const statuses: string[] = [];
    s.on('status', (m: string) => statuses.push(m));
    let calls = 0;
    s.on('events', () => {
      if (++calls === 1) throw new Error('a listener that throws once');
    });
    try {
      s.start();
      while (!conns.length) await new Promise((r) => setTimeout(r, 20));
      const c = conns[0]!;
      c.write(new Uint8Array([0])); // a frame boundary: the reader joined mid-stream
      const bad = eventDef(64, 'ipc_submit|ipc|u64 stream,u32 nactions,u32 pad');
      const body = new Uint8Array(16);
      new DataView(body.buffer).setUint32(8, 3, true);
      let seq = 0;
      c.write(frameEncode(seq++, concat([header(), rawRecord(2, 32), bad, rawRecord(64, 88, body, 0, 5)])));
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 150)); // separate 'data' callbacks
        c.write(frameEncode(seq++, scenario()));
      }
      const end = Date.now() + 10_000;
      while (s.events.length < 3 * 20 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 400)); // the merger's window
      assert.ok(calls >= 2, `events kept flowing after the listener threw (${calls} batches)`);
      assert.ok(statuses.some((m) => /could not be processed.*a listener that throws once/.test(m)), statuses.join(' | '));
      assert.equal(s.stats().malformed, 2, 'both reproducers became error records');
    } finally {
      await s.stop();
      for (const c of conns) c.destroy();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
