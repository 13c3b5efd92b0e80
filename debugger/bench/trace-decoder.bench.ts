/*
 * Host decoder throughput (not a test): encode a typical event mix (context switches,
 * wake-ups, syscalls, IPC with payload, logs) into one record stream and into COM2 frames,
 * decode both, print events/s. Goal: >= 5 million events/s for the record stream.
 *
 *   node --import tsx debugger/bench/trace-decoder.bench.ts [N]
 */
import { cpus, loadavg } from 'node:os';
import { DefTable } from '../common/trace/defs.js';
import { concat, encodeRecord } from '../common/trace/encode.js';
import { makeHeader } from '../common/trace/flight.js';
import { RecordDecoder, sortEvents } from '../common/trace/records.js';
import { decodeColumns, fieldsAt } from '../common/trace/columns.js';
import { FrameDecoder, frameEncode } from '../common/trace/serial.js';

const N = Number(process.argv[2] ?? 2_000_000);
const defs = new DefTable();
const mix: Array<[string, Record<string, number | bigint | string | Uint8Array>]> = [
  ['ctx_switch', { prev_tid: 5, prev_pid: 2, next_tid: 7, next_pid: 3, reason: 1, prev_state: 2, rq_len: 1 }],
  ['wakeup', { tid: 5, waker_tid: 7, target_cpu: 1, reason: 0, cause: 123n }],
  ['syscall_enter', { num: 12, tid: 5, a0: 1n, a1: 2n, a2: 3n }],
  ['syscall_exit', { num: 12, tid: 5, result: 0n, cause: 77n }],
  ['ipc_submit', { stream: 9n, conversation: 2n, tag: 4n, bytes: 64n, actions: 0x43n, pid: 2, tid: 5, lane: 0, nactions: 2, payload: new Uint8Array(32).fill(7) }],
  ['ipc_complete', { stream: 9n, tag: 4n, cause: 99n, result: 64n, bytes: 64n, pid: 2, tid: 5 }],
  ['irq', { irq: 4, vector: 36 }],
  ['log', { level: 2, tid: 5, text: 'a kernel log line of moderate length' }],
];
const parts: Uint8Array[] = [makeHeader(2_000_000_000n, 0n, 2)];
const seq = [0, 0];
for (let i = 0; i < N; i++) {
  const [n, f] = mix[i % mix.length]!;
  const cpu = (i >> 4) & 1; // CPUs interleave in batches, as drained
  parts.push(encodeRecord(defs, n, { cpu, tsc: 1000 + i * 50, seq: seq[cpu]!++ }, f));
}
const stream = concat(parts);
parts.length = 0; // let the encoder's garbage go before measuring
console.log(`trace decoder bench: ${N} events, ${(stream.length / 1e6).toFixed(1)} MB record stream (avg ${(stream.length / N).toFixed(1)} B/event)`);

function time(label: string, fn: () => number): number {
  fn(); // warm up
  let s = Infinity;
  let n = 0;
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    n = fn();
    s = Math.min(s, Number(process.hrtime.bigint() - t0) / 1e9); // best of 3: the machine is shared
  }
  const rate = n / s;
  console.log(`  ${label.padEnd(36)} ${(rate / 1e6).toFixed(2)} M events/s  (${(s * 1000).toFixed(0)} ms)`);
  return rate;
}

const rCols = time('columns (bulk, no object per event)', () => decodeColumns(stream).count);
time('columns + fields of every 10th event', () => {
  const c = decodeColumns(stream);
  for (let i = 0; i < c.count; i += 10) fieldsAt(c, i);
  return c.count;
});
const CH = 1 << 20;
const rStream = time('events (RecordDecoder, lazy fields)', () => {
  const d = new RecordDecoder();
  let n = 0;
  for (let i = 0; i < stream.length; i += CH) n += d.push(stream.subarray(i, i + CH)).length;
  return n + d.finish().length;
});
// frames of ~1 KiB like the kernel's
const frames: Uint8Array[] = [];
{
  const dv = new DataView(stream.buffer);
  let off = 0;
  let seq = 0;
  const limit = Math.min(stream.length, 40 * 1024 * 1024);
  while (off < limit) {
    let end = off;
    while (end < limit && end - off < 900) end += dv.getUint16(end + 2, true);
    frames.push(frameEncode(seq++, stream.subarray(off, end)));
    off = end;
  }
}
const wire = concat(frames);
time('COM2 frames (COBS + CRC32)', () => {
  const f = new FrameDecoder();
  let n = 0;
  for (let i = 0; i < wire.length; i += CH) n += f.push(wire.subarray(i, i + CH)).length;
  return n + f.finish().length;
});
time('record stream + merge (sort by time)', () => {
  const d = new RecordDecoder();
  const ev = d.push(stream);
  d.finish(ev);
  sortEvents(ev);
  return ev.length;
});
const best = Math.max(rStream, rCols);
console.log(`  goal >= 5 M events/s (bulk decoder): ${best >= 5e6 ? 'MET' : 'NOT MET'} (ratio ${(best / 5e6).toFixed(2)}); machine load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`);
