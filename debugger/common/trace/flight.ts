/*
 * flight.ts — the flight recorder: trace records straight out of the kernel's per-CPU rings.
 *
 * After a panic or at a breakpoint the host reads, through gdb's memory reads, the symbol
 * `trace_rings` (struct trace_ring[64]; its layout is generated from os/abi/layouts.toml into
 * layouts.gen.ts, as it is into the kernel's C), `trace_nrings`,
 * `tsc_hz` and `trace_tsc0`, then each ring's data. parseRing() walks [keep, head): records that
 * were already sent and those that were not, i.e. the last events before the stop, even with
 * no transport at all. buildTraceFile() prepends a trace_header so the result is an ordinary
 * trace file. Pure: the reading is in debugger/node/trace/flight.ts.
 */
import { decodeTraceRing, TraceRingLayout } from './layouts.gen.js';
import { EV, TRACE_MAGIC, TRACE_VERSION } from './schema.gen.js';

/** sizeof(struct trace_ring): the stride of the kernel's trace_rings[] */
export const RING_STRUCT_SIZE = TraceRingLayout.size;

export interface RingInfo {
  head: bigint;
  tail: bigint;
  keep: bigint;
  seq: bigint;
  dropped: bigint;
  droppedTotal: bigint;
  data: bigint;
  size: number;
  cpu: number;
}

export function parseRingStruct(b: Uint8Array, off = 0): RingInfo {
  const r = decodeTraceRing(new DataView(b.buffer, b.byteOffset + off, RING_STRUCT_SIZE), 0);
  return {
    head: r.head,
    tail: r.tail,
    keep: r.keep,
    seq: r.next_id & 0xffffffffffffn, // the kernel keeps the next id (cpu << 48 | seq)
    dropped: r.dropped,
    droppedTotal: r.dropped_total,
    data: r.data,
    size: r.size,
    cpu: r.cpu,
  };
}

/** The records in [keep, head) of one ring, in order, as a contiguous record stream. */
export function parseRing(info: RingInfo, data: Uint8Array): { records: Uint8Array; count: number; bad: number } {
  const size = info.size;
  if (!size || (size & (size - 1)) || data.length < size || info.head < info.keep || info.head - info.keep > BigInt(size))
    return { records: new Uint8Array(0), count: 0, bad: 1 };
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  let count = 0;
  let bad = 0;
  let pos = info.keep;
  let total = 0;
  while (pos < info.head) {
    const off = Number(pos & BigInt(size - 1));
    const sz = dv.getUint16(off + 2, true);
    if (sz < 8 || sz & 7 || off + sz > size) {
      bad++;
      break;
    }
    if (dv.getUint16(off, true) !== 0) {
      out.push(data.subarray(off, off + sz));
      total += sz;
      count++;
    }
    pos += BigInt(sz);
  }
  const records = new Uint8Array(total);
  let o = 0;
  for (const r of out) {
    records.set(r, o);
    o += r.length;
  }
  return { records, count, bad };
}

/** A trace_header record (what the kernel would send) for a flight-recorder file. */
export function makeHeader(tscHz: bigint, tscBase: bigint, ncpus: number, classes = 0): Uint8Array {
  const b = new Uint8Array(56);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, EV.trace_header, true);
  dv.setUint16(2, 56, true);
  dv.setUint32(24, TRACE_MAGIC, true);
  dv.setUint16(28, TRACE_VERSION, true);
  dv.setUint16(30, ncpus, true);
  dv.setBigUint64(32, tscHz, true);
  dv.setBigUint64(40, tscBase, true);
  dv.setUint32(48, classes, true);
  return b;
}

export function buildTraceFile(header: Uint8Array, rings: Uint8Array[]): Uint8Array {
  let n = header.length;
  for (const r of rings) n += r.length;
  const out = new Uint8Array(n);
  out.set(header, 0);
  let o = header.length;
  for (const r of rings) {
    out.set(r, o);
    o += r.length;
  }
  return out;
}
