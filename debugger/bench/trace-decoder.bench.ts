/*
 * Host decoder throughput (not a test): encode a typical event mix (context switches,
 * wake-ups, syscalls, IPC with payload, logs) into one record stream and into COM2 frames,
 * decode both, print events/s. Goal: >= 5 million events/s for the record stream.
 *
 *   node --import tsx debugger/bench/trace-decoder.bench.ts [N]
 */
import { DefTable } from '../common/trace/defs.js';
import { concat, encodeRecord } from '../common/trace/encode.js';
import { makeHeader } from '../common/trace/flight.js';
import { RecordDecoder, sortEvents } from '../common/trace/records.js';
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
const recs = mix.map(([n, f], i) => encodeRecord(defs, n, { cpu: i & 1, tsc: 1000 + i, seq: i }, f));
const parts: Uint8Array[] = [makeHeader(2_000_000_000n, 0n, 2)];
for (let i = 0; i < N; i++) parts.push(recs[i % recs.length]!);
const stream = concat(parts);
console.log(`trace decoder bench: ${N} events, ${(stream.length / 1e6).toFixed(1)} MB record stream (avg ${(stream.length / N).toFixed(1)} B/event)`);

function time(label: string, fn: () => number): number {
  fn(); // warm up
  const t0 = process.hrtime.bigint();
  const n = fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const rate = n / s;
  console.log(`  ${label.padEnd(36)} ${(rate / 1e6).toFixed(2)} M events/s  (${(s * 1000).toFixed(0)} ms)`);
  return rate;
}

const CH = 1 << 20;
const rStream = time('record stream (file, ivshmem)', () => {
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
console.log(`  goal >= 5 M events/s for the record stream: ${rStream >= 5e6 ? 'MET' : 'NOT MET'} (ratio ${(rStream / 5e6).toFixed(2)})`);
