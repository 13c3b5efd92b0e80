/*
 * columns.ts — the bulk decoder: a whole record stream into typed arrays (one column per
 * header value, plus the record's offset), with no object per event. Built for big saved
 * traces and for views that draw millions of events (the IPC view's 1M-event goal): fields
 * are decoded only for the events a consumer asks about (fieldsAt / eventAt).
 * Bad records are skipped 8 bytes at a time exactly like RecordDecoder. Rows are records as
 * recorded: an ipc_exchange stays one row (RecordDecoder expands it into ipc_match + two
 * ipc_complete events), so does a whole submission's ipc_submit (RecordDecoder: one per
 * action); a consumer of columns does that itself. Pure: no Node.
 */
import { DefTable, parseDef, redefinitionProblem } from './defs.js';
import { decodeFields, type FieldValue } from './records.js';
import { EV, TRACE_MAGIC } from './schema.gen.js';

export interface TraceColumns {
  count: number;
  type: Uint16Array;
  cpu: Uint16Array;
  tsc: Float64Array;
  seq: Float64Array;
  off: Uint32Array;
  size: Uint16Array;
  bytes: Uint8Array;
  defs: DefTable;
  tscHz: number;
  tscBase: number;
  corruptBytes: number;
  lost: number;
  /** Error records: definitions refused, records that could not be decoded (offset, message). */
  errors: Array<{ offset: number; message: string }>;
}

export function decodeColumns(bytes: Uint8Array, defs = new DefTable()): TraceColumns {
  const cap = Math.max(16, Math.ceil(bytes.length / 24));
  const type = new Uint16Array(cap);
  const cpu = new Uint16Array(cap);
  const tsc = new Float64Array(cap);
  const seq = new Float64Array(cap);
  const off = new Uint32Array(cap);
  const size = new Uint16Array(cap);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let o = 0;
  let k = 0;
  let corrupt = 0;
  let lost = 0;
  let tscHz = 0;
  let tscBase = 0;
  const errors: Array<{ offset: number; message: string }> = [];
  const fixed = new Int32Array(65536).fill(-1);
  for (const d of defs.byId.values()) fixed[d.id] = d.fixed;
  while (n - o >= 8) {
    const t = dv.getUint16(o, true);
    const sz = dv.getUint16(o + 2, true);
    if (sz < 8 || sz & 7 || sz > 4096 || (t !== 0 && (sz < 24 || sz < fixed[t]!))) {
      corrupt += 8;
      o += 8;
      continue;
    }
    if (sz > n - o) break;
    if (t !== 0) {
      type[k] = t;
      cpu[k] = dv.getUint16(o + 4, true);
      tsc[k] = dv.getUint32(o + 12, true) * 4294967296 + dv.getUint32(o + 8, true);
      seq[k] = (dv.getUint32(o + 20, true) & 0xffff) * 4294967296 + dv.getUint32(o + 16, true);
      off[k] = o;
      size[k] = sz;
      if (t < 16) {
        const d = defs.get(t);
        if (d) {
          try {
            const f = decodeFields(dv, o, sz, d);
            if (t === EV.trace_header && f['magic'] === TRACE_MAGIC) {
              const hz = Number(f['tsc_hz']);
              if (hz > 0 && Number.isFinite(hz)) {
                tscHz = hz;
                tscBase = Number(f['tsc_base']);
              }
            } else if (t === EV.event_def) {
              const nd = parseDef(Number(f['def_id']), String(f['text']));
              const problem = redefinitionProblem(nd);
              if (problem) throw new Error(problem);
              defs.add(nd);
              fixed[nd.id] = nd.fixed;
            } else if (t === EV.lost) lost += Number(f['count']);
          } catch (e) {
            if (errors.length < 100) errors.push({ offset: o, message: `${d.name}: ${e instanceof Error ? e.message : String(e)}; ignored` });
          }
        }
      }
      k++;
    }
    o += sz;
  }
  corrupt += n - o;
  return { count: k, type, cpu, tsc, seq, off, size, bytes, defs, tscHz, tscBase, corruptBytes: corrupt, lost, errors };
}

/** A row's fields by the final definitions; undefined if there is none, or the row is too short
 * for it (a definition later in the stream may have grown the event). */
export function fieldsAt(c: TraceColumns, i: number): Record<string, FieldValue> | undefined {
  const d = c.defs.get(c.type[i]!);
  if (!d || c.size[i]! < d.fixed) return undefined;
  return decodeFields(new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength), c.off[i]!, c.size[i]!, d);
}

export function nsAt(c: TraceColumns, i: number): number {
  return c.tscHz ? ((c.tsc[i]! - c.tscBase) / c.tscHz) * 1e9 : NaN;
}
