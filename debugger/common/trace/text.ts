/*
 * text.ts — one line of text per event, and whole-buffer decoding with format detection.
 *
 *   [    1.234567890] cpu1 sched.ctx_switch #1:42 prev_tid=3 ... reason=blocked(1)
 * Enum fields show their name (from os/abi/trace.toml) and value; ids print as cpu:seq.
 * decodeBuffer() accepts a trace file (a record stream that starts with trace_header) or a raw
 * COM2 capture (COBS frames) and returns the events merged across CPUs in time order. Pure.
 */
import { DefTable, enumName } from './defs.js';
import { RecordDecoder, sortEvents, type DecodeStats, type FieldValue, type TraceEvent } from './records.js';
import { FrameDecoder } from './serial.js';
import { EV, TRACE_MAGIC } from './schema.gen.js';

export function fmtId(id: number | bigint): string {
  const b = BigInt(id);
  return `${b >> 48n}:${b & 0xffffffffffffn}`;
}

function fmtValue(v: FieldValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `[${Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('')}]`;
  return String(v);
}

/** ipc_submit.actions: 4-bit ipc_action codes, first action in the low bits. */
export function ipcActionNames(actions: FieldValue | undefined, n: number): string[] {
  const v = typeof actions === 'number' || typeof actions === 'bigint' ? BigInt(actions) : 0n;
  const out: string[] = [];
  for (let i = 0; i < Math.min(n, 16); i++) {
    const code = Number((v >> BigInt(4 * i)) & 0xfn);
    out.push(enumName('ipc_action', code) ?? `action${code}`);
  }
  return out;
}

export function formatEvent(e: TraceEvent, defs?: RecordDecoder['defs']): string {
  const t = Number.isFinite(e.ns) ? (e.ns / 1e9).toFixed(9).padStart(14) : `tsc ${e.tsc}`;
  const parts: string[] = [`[${t}] cpu${e.cpu} ${e.cls}.${e.name} #${fmtId(e.id)}`];
  const def = defs?.get(e.type);
  for (const [k, v] of Object.entries(e.fields)) {
    const spec = def?.fields.find((f) => f.name === k);
    const en = spec && typeof v === 'number' ? enumName(spec.enumName, v) : undefined;
    if (k === 'actions' && e.name === 'ipc_submit') {
      parts.push(`actions=[${ipcActionNames(v, Number(e.fields['nactions'] ?? 0)).join(',')}]`);
    } else if ((k === 'cause' || k === 'other' || k === 'target') && (typeof v === 'number' || typeof v === 'bigint') && v !== 0) {
      parts.push(`${k}=#${fmtId(v)}`);
    } else {
      parts.push(en !== undefined ? `${k}=${en}(${String(v)})` : `${k}=${fmtValue(v)}`);
    }
  }
  return parts.join(' ');
}

export type TraceFormat = 'records' | 'serial';

/** A record file starts with trace_header, or (a recording that began mid-stream) with records
 * of known types and valid sizes; a COM2 capture is COBS frames. */
export function detectFormat(b: Uint8Array): TraceFormat {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 28 && dv.getUint16(0, true) === EV.trace_header && dv.getUint32(24, true) === TRACE_MAGIC) return 'records';
  const defs = new DefTable();
  let off = 0;
  let n = 0;
  while (off + 24 <= b.length && n < 16) {
    const d = defs.get(dv.getUint16(off, true));
    const size = dv.getUint16(off + 2, true);
    if (!d || size < d.fixed || size & 7) return 'serial';
    off += size;
    n++;
  }
  return n > 0 ? 'records' : 'serial';
}

export interface DecodedTrace {
  format: TraceFormat;
  events: TraceEvent[];
  stats: DecodeStats;
  decoder: RecordDecoder;
}

/** Decode a whole capture; never throws on bad data (counts it in stats instead). */
export function decodeBuffer(b: Uint8Array, format: TraceFormat = detectFormat(b)): DecodedTrace {
  const events: TraceEvent[] = [];
  if (format === 'records') {
    const d = new RecordDecoder();
    d.push(b, events);
    d.finish(events);
    return { format, events: sortEvents(events), stats: d.stats, decoder: d };
  }
  const f = new FrameDecoder();
  f.push(b, events);
  f.finish(events);
  return { format, events: sortEvents(events), stats: f.stats, decoder: f.records };
}
