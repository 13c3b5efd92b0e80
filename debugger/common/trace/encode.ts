/*
 * encode.ts — write trace records from TypeScript (the same layout the generated C emit helpers
 * write). Used by tests, fixtures and the decoder benchmark; Lanescope itself only decodes. Pure.
 */
import type { DefTable } from './defs.js';
import type { FieldValue } from './records.js';

export interface RecordHeader {
  cpu: number;
  tsc: number | bigint;
  seq: number;
}

export function encodeRecord(defs: DefTable, name: string, h: RecordHeader, fields: Record<string, FieldValue>): Uint8Array {
  const def = defs.byName.get(name);
  if (!def) throw new Error(`encodeRecord: no event named '${name}'`);
  const tail = def.fields.find((f) => f.kind === 'str' || f.kind === 'bytes');
  let tailBytes: Uint8Array = new Uint8Array(0);
  if (tail) {
    const v = fields[tail.name] ?? '';
    tailBytes = (typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Uint8Array ? v : new Uint8Array(0)).subarray(0, tail.max);
  }
  const size = tail ? (def.fixed + 2 + tailBytes.length + 7) & ~7 : def.fixed;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, def.id, true);
  dv.setUint16(2, size, true);
  dv.setUint16(4, h.cpu, true);
  dv.setBigUint64(8, BigInt(h.tsc), true);
  dv.setBigUint64(16, (BigInt(h.cpu) << 48n) | BigInt(h.seq), true);
  for (const f of def.fields) {
    const v = fields[f.name] ?? 0;
    const n = typeof v === 'number' || typeof v === 'bigint' ? v : 0;
    switch (f.kind) {
      case 'u8': case 'i8': dv.setUint8(f.offset, Number(BigInt.asUintN(8, BigInt(n)))); break;
      case 'u16': case 'i16': dv.setUint16(f.offset, Number(BigInt.asUintN(16, BigInt(n))), true); break;
      case 'u32': case 'i32': dv.setUint32(f.offset, Number(BigInt.asUintN(32, BigInt(n))), true); break;
      case 'u64': case 'i64': dv.setBigUint64(f.offset, BigInt.asUintN(64, BigInt(n)), true); break;
      default:
        dv.setUint16(f.offset, tailBytes.length, true);
        b.set(tailBytes, f.offset + 2);
    }
  }
  return b;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
