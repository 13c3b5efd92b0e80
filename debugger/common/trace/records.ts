/*
 * records.ts — decoding trace records into events, from any byte stream.
 *
 *   RecordDecoder.push(bytes) ─▶ TraceEvent[]      (a raw record stream: file, ivshmem ring,
 *                                                   the payload of a serial frame, ring memory)
 * Record: u16 type, u16 size, u16 cpu, u16 flags, u64 tsc, u64 id, fields (see
 * os/abi/trace.toml). The decoder never throws on bad input: a record header that cannot be
 * right (size not a multiple of 8, too small for its definition, too large) is skipped 8
 * bytes at a time and counted (stats.corruptBytes, stats.resyncs) until a plausible record
 * starts again. Definitions (event_def) and the clock (trace_header) are taken from the
 * stream as they pass; lost records add to stats.lost. Events with no definition at all are
 * still returned (unknown: true, the raw bytes in fields.raw). Anything malformed that a size
 * check cannot catch — a definition that does not parse or would change a field the decoder reads,
 * a record its definition cannot decode — becomes an error record (decoder.errors, stats.malformed,
 * onError) naming the record and what was wrong; that record is skipped and decoding goes on with
 * the next one. Pure: no Node.
 */
import { DefTable, parseDef, redefinitionProblem, type EventDef } from './defs.js';
import { EV, TRACE_ENUMS, TRACE_MAGIC } from './schema.gen.js';

export type FieldValue = number | bigint | string | Uint8Array;

const NO_BYTES = new DataView(new ArrayBuffer(0));

/**
 * One decoded event. Header values are decoded at once; the fields are decoded on first access
 * (`fields`) from the bytes the event keeps a view of, which makes decoding a large trace
 * several times cheaper when a consumer only looks at some events.
 */
export class TraceEvent {
  /** ns since boot (clock_ns); NaN until the trace_header's clock is known */
  ns = NaN;
  private f: Record<string, FieldValue> | undefined;
  constructor(
    readonly type: number,
    readonly cpu: number,
    readonly tsc: number,
    /** (cpu << 48) | seq, as a number when it fits (cpu < 32), else a bigint */
    readonly id: number | bigint,
    readonly seq: number,
    private readonly def: EventDef | undefined,
    private readonly dv: DataView,
    private readonly off: number,
    private readonly size: number,
  ) {}

  get name(): string {
    return this.def ? this.def.name : `event_${this.type}`;
  }

  get cls(): string {
    return this.def ? this.def.cls : 'unknown';
  }

  /** true when no definition was known (fields then hold only `raw`) */
  get unknown(): true | undefined {
    return this.def ? undefined : true;
  }

  get fields(): Record<string, FieldValue> {
    if (!this.f) {
      const raw = () => ({ raw: new Uint8Array(this.dv.buffer.slice(this.dv.byteOffset + this.off + 24, this.dv.byteOffset + this.off + this.size)) });
      try {
        this.f = this.def ? decodeFields(this.dv, this.off, this.size, this.def) : raw();
      } catch {
        this.f = raw(); // cannot happen for a record the decoder accepted; never throw at a consumer
      }
    }
    return this.f;
  }

  /** An event the decoder derives from another record (see RecordDecoder: ipc_exchange), fields given. */
  static derived(type: number, cpu: number, tsc: number, id: number | bigint, seq: number, def: EventDef | undefined, fields: Record<string, FieldValue>): TraceEvent {
    const e = new TraceEvent(type, cpu, tsc, id, seq, def, NO_BYTES, 0, 0);
    e.f = fields;
    return e;
  }

  toJSON(): object {
    return { type: this.type, name: this.name, cls: this.cls, cpu: this.cpu, tsc: this.tsc, ns: this.ns, id: String(this.id), seq: this.seq, fields: this.fields, unknown: this.unknown };
  }
}

export interface TraceClock {
  tscHz: number;
  tscBase: number;
}

export interface DecodeStats {
  records: number;
  events: number;
  lost: number; // events the kernel dropped (sum of lost records)
  transportLost: number; // records a transport dropped (transport_lost)
  corruptBytes: number;
  resyncs: number;
  unknown: number;
  badDefs: number;
  corruptFrames: number; // serial only
  missingFrames: number; // serial only
  malformed: number; // error records (RecordDecoder.errors)
}

export function emptyStats(): DecodeStats {
  return { records: 0, events: 0, lost: 0, transportLost: 0, corruptBytes: 0, resyncs: 0, unknown: 0, badDefs: 0, corruptFrames: 0, missingFrames: 0, malformed: 0 };
}

/** A malformed record: what it was, where (byte offset in the decoder's input), and what is wrong. */
export interface TraceDecodeError {
  offset: number;
  type: number;
  name: string;
  message: string;
}

/** Error records a decoder keeps (the most recent; stats.malformed counts them all). */
const MAX_ERRORS = 100;

const MAX_RECORD = 4096;
const EV_HEADER = EV.trace_header;
const EV_DEF = EV.event_def;
const EV_LOST = EV.lost;
const EV_TLOST = EV.transport_lost;
const EV_EXCHANGE = EV.ipc_exchange;
const EV_SUBMIT = EV.ipc_submit;
const ACTION_SEND = Number(Object.entries(TRACE_ENUMS['ipc_action']!).find(([, v]) => v === 'send')![0]);
const MAX_SUBMIT_ACTIONS = 16; // 4 bits each in the u64 `actions`
const EV_MATCH = EV.ipc_match;
const EV_COMPLETE = EV.ipc_complete;
const TWO32 = 4294967296;
const td = new TextDecoder('utf-8', { fatal: false });

function u64(dv: DataView, o: number): number | bigint {
  const lo = dv.getUint32(o, true);
  const hi = dv.getUint32(o + 4, true);
  if (hi < 0x200000) return hi * TWO32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function i64(dv: DataView, o: number): number | bigint {
  const lo = dv.getUint32(o, true);
  const hi = dv.getInt32(o + 4, true);
  if (hi >= -0x200000 && hi < 0x200000) return hi * TWO32 + lo;
  return dv.getBigInt64(o, true);
}

export class RecordDecoder {
  readonly defs: DefTable;
  clock: TraceClock | undefined;
  header: Record<string, FieldValue> | undefined;
  stats: DecodeStats;
  private buf: Uint8Array = new Uint8Array(0);
  private waiting: TraceEvent[] = [];
  /** Hold events until the clock is known (a stream that starts mid-way); off for flight data. */
  holdUntilClock = true;
  /** The latest error records (at most 100), oldest first. */
  readonly errors: TraceDecodeError[] = [];
  /** Called with every error record as it happens. */
  onError: ((e: TraceDecodeError) => void) | undefined;
  /** Bytes consumed before the current chunk (for error offsets). */
  private consumed = 0;

  constructor(defs?: DefTable, stats?: DecodeStats) {
    this.defs = defs ?? new DefTable();
    this.stats = stats ?? emptyStats();
  }

  setClock(c: TraceClock): void {
    this.clock = c;
  }

  /** Decode a chunk of a continuous record stream; a partial record waits for the next chunk. */
  push(chunk: Uint8Array, out: TraceEvent[] = []): TraceEvent[] {
    let data: Uint8Array;
    if (this.buf.length) {
      data = new Uint8Array(this.buf.length + chunk.length);
      data.set(this.buf, 0);
      data.set(chunk, this.buf.length);
    } else {
      data = chunk;
    }
    const used = this.decodeInto(data, out, false);
    this.buf = used < data.length ? data.slice(used) : new Uint8Array(0);
    this.consumed += used;
    return out;
  }

  /** Decode a self-contained block (a CRC-checked frame, a ring's contents): nothing carries over. */
  pushBlock(block: Uint8Array, out: TraceEvent[] = []): TraceEvent[] {
    const used = this.decodeInto(block, out, true);
    if (used < block.length) {
      this.stats.corruptBytes += block.length - used;
      this.stats.resyncs++;
    }
    this.consumed += block.length;
    return out;
  }

  /** Bytes held back waiting for the rest of a record. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  /** End of input: count a trailing partial record as corrupt; release held events. */
  finish(out: TraceEvent[] = []): TraceEvent[] {
    if (this.buf.length) {
      this.stats.corruptBytes += this.buf.length;
      this.stats.resyncs++;
      this.buf = new Uint8Array(0);
    }
    if (this.waiting.length) {
      for (const e of this.waiting) out.push(e);
      this.waiting = [];
    }
    return out;
  }

  private decodeInto(data: Uint8Array, out: TraceEvent[], block: boolean): number {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let off = 0;
    const n = data.length;
    let skipping = false;
    while (n - off >= 8) {
      const type = dv.getUint16(off, true);
      const size = dv.getUint16(off + 2, true);
      let ok = size >= 8 && (size & 7) === 0 && size <= MAX_RECORD;
      if (ok && type !== 0) {
        if (size < 24) ok = false;
        else {
          const d = this.defs.get(type);
          if (d && size < d.fixed) ok = false;
          if (ok && n - off >= 8 && dv.getUint16(off + 4, true) > 1024) ok = false; // cpu
        }
      }
      if (!ok) {
        if (!skipping) this.stats.resyncs++;
        skipping = true;
        this.stats.corruptBytes += 8;
        off += 8;
        continue;
      }
      if (size > n - off) {
        if (block) {
          if (!skipping) this.stats.resyncs++;
          this.stats.corruptBytes += n - off;
          return n;
        }
        break; // wait for the rest
      }
      skipping = false;
      if (type !== 0) {
        try {
          this.decodeOne(dv, off, type, size, out);
        } catch (e) {
          // Nothing the checks above let through should get here; if it does, it costs this record only.
          this.error(off, type, `record could not be decoded (${e instanceof Error ? e.message : String(e)}); skipped`);
        }
      }
      off += size;
    }
    return off;
  }

  private decodeOne(dv: DataView, off: number, type: number, size: number, out: TraceEvent[]): void {
    const st = this.stats;
    st.records++;
    const cpu = dv.getUint16(off + 4, true);
    const tlo = dv.getUint32(off + 8, true);
    const thi = dv.getUint32(off + 12, true);
    const tsc = thi * TWO32 + tlo;
    const lo = dv.getUint32(off + 16, true);
    const hi = dv.getUint32(off + 20, true);
    const seq = (hi & 0xffff) * TWO32 + lo;
    const idCpu = hi >>> 16;
    const id: number | bigint = idCpu < 32 ? idCpu * 281474976710656 + seq : (BigInt(hi) << 32n) | BigInt(lo);
    const def = this.defs.get(type);
    if (!def) st.unknown++;
    const ev = new TraceEvent(type, cpu, tsc, id, seq, def, dv, off, size);
    if (type < 16) {
      const fields = ev.fields;
      switch (type) {
        case EV_HEADER: {
          if (fields['magic'] !== TRACE_MAGIC) {
            st.badDefs++;
            this.error(off, type, `trace_header with magic ${String(fields['magic'])}, not LTRC; ignored`);
            break;
          }
          const hz = Number(fields['tsc_hz']);
          const base = Number(fields['tsc_base']);
          if (hz > 0 && Number.isFinite(hz) && Number.isFinite(base)) this.clock = { tscHz: hz, tscBase: base };
          else this.error(off, type, `trace_header with tsc_hz ${String(fields['tsc_hz'])}: no clock`);
          this.header = fields;
          break;
        }
        case EV_DEF: {
          let problem: string | undefined;
          try {
            const def = parseDef(Number(fields['def_id']), String(fields['text']));
            problem = redefinitionProblem(def);
            if (!problem) this.defs.add(def);
          } catch (e) {
            problem = e instanceof Error ? e.message : String(e);
          }
          if (problem) {
            st.badDefs++;
            this.error(off, type, `${problem}; definition ignored`);
          }
          break;
        }
        case EV_LOST:
          st.lost += Number(fields['count']);
          break;
        case EV_TLOST:
          st.transportLost += Number(fields['count']);
          break;
      }
    }
    if (type === EV_EXCHANGE && def) {
      this.expandExchange(ev, out);
      return;
    }
    if (type === EV_SUBMIT && def && this.expandSubmission(ev, out)) return;
    this.emit(ev, out);
  }

  /**
   * An ipc_submit with 2..16 actions is one record for a whole submission (the kernel's
   * record_submission in os/kernel/generic/ipc/ipc.c: its top-level actions, at most one of
   * them a send). Consumers get what the kernel records for a single action: one ipc_submit per
   * action, in order, nactions 1, the send's bytes and payload on the send only. Action k's id
   * is the record's id plus k << 42 (the ids the kernel gave the actions, which their matches,
   * completions and wake-ups name). Returns false for a record to keep as it is.
   */
  private expandSubmission(ev: TraceEvent, out: TraceEvent[]): boolean {
    const f = ev.fields;
    const n = f['nactions'];
    if (typeof n !== 'number' || n < 2 || n > MAX_SUBMIT_ACTIONS) return false;
    const a = f['actions'];
    if (typeof a !== 'number' && typeof a !== 'bigint') return false; // redefinitions cannot do this (redefinitionProblem)
    const acts = BigInt(a);
    const { cpu, tsc, id, seq } = ev;
    const def = this.defs.get(EV_SUBMIT);
    const empty = new Uint8Array(0);
    for (let k = 0; k < n; k++) {
      const t = Number((acts >> BigInt(4 * k)) & 15n);
      const send = t === ACTION_SEND;
      const did = typeof id === 'bigint' ? id + (BigInt(k) << 42n) : id + k * 2 ** 42;
      this.emit(TraceEvent.derived(EV_SUBMIT, cpu, tsc, did, seq, def, {
        ...f, actions: t, nactions: 1, bytes: send ? f['bytes']! : 0, payload: send ? f['payload']! : empty,
      }), out);
    }
    return true;
  }

  /**
   * ipc_exchange is one record for a match and the two completions it caused (the kernel's
   * common case, recorded cheaply): consumers get exactly what the kernel would otherwise have
   * recorded — ipc_match, then ipc_complete for `cause`, then for `other` — at the exchange's
   * time and CPU. The match keeps the record's id; each completion gets that id with bit 47
   * (and 46 for the second) of the sequence part set, so ids stay unique.
   */
  private expandExchange(ev: TraceEvent, out: TraceEvent[]): void {
    const f = ev.fields;
    const dm = this.defs.get(EV_MATCH);
    const dc = this.defs.get(EV_COMPLETE);
    const { cpu, tsc, id, seq } = ev;
    this.emit(TraceEvent.derived(EV_MATCH, cpu, tsc, id, seq, dm, {
      stream: f['stream']!, conversation: f['conversation']!, cause: f['cause']!, other: f['other']!,
      child_stream: f['child_stream']!, result: f['result']!, reserved: f['reserved']!,
    }), out);
    for (const side of ['a', 'b'] as const) {
      const bit = side === 'a' ? 2 ** 47 : 2 ** 47 + 2 ** 46;
      const did = typeof id === 'bigint' ? id | BigInt(bit) : id + bit;
      this.emit(TraceEvent.derived(EV_COMPLETE, cpu, tsc, did, seq, dc, {
        stream: f['stream']!, tag: f[`tag_${side}`]!, cause: side === 'a' ? f['cause']! : f['other']!,
        result: f[`result_${side}`]!, bytes: f[`bytes_${side}`]!, pid: f[`pid_${side}`]!, tid: f[`tid_${side}`]!,
      }), out);
    }
  }

  private error(off: number, type: number, message: string): void {
    const e: TraceDecodeError = { offset: this.consumed + off, type, name: this.defs.get(type)?.name ?? `event_${type}`, message };
    this.stats.malformed++;
    if (this.errors.length >= MAX_ERRORS) this.errors.shift();
    this.errors.push(e);
    this.onError?.(e);
  }

  private emit(ev: TraceEvent, out: TraceEvent[]): void {
    const st = this.stats;
    const tsc = ev.tsc;
    st.events++;
    const c = this.clock;
    if (c) {
      ev.ns = ((tsc - c.tscBase) / c.tscHz) * 1e9;
      if (this.waiting.length) {
        for (const w of this.waiting) {
          w.ns = ((w.tsc - c.tscBase) / c.tscHz) * 1e9;
          out.push(w);
        }
        this.waiting = [];
      }
      out.push(ev);
    } else if (this.holdUntilClock && this.waiting.length < 1_000_000) {
      this.waiting.push(ev);
    } else {
      out.push(ev);
    }
  }
}

type FieldsFn = (dv: DataView, off: number, size: number) => Record<string, FieldValue>;
const compiled = new WeakMap<EventDef, FieldsFn>();
let canCompile = true;

/** ASCII fast path; anything else goes through TextDecoder. */
function decodeStr(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n > 64) return td.decode(bytes);
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return td.decode(bytes);
    s += String.fromCharCode(c);
  }
  return s;
}

const EMPTY = new Uint8Array(0);

/** A str/bytes tail at o (u16 length, bytes) of a record ending at end; empty when the record has
 * no room for it (a record exactly the definition's fixed size: no length word at all). */
function tailOf(dv: DataView, o: number, end: number, max: number): Uint8Array {
  if (o + 2 > end) return EMPTY;
  const len = Math.min(dv.getUint16(o, true), max, end - o - 2);
  return new Uint8Array(dv.buffer, dv.byteOffset + o + 2, len);
}

/**
 * A decoder specialised for one definition: an object literal with a fixed shape, so V8 keeps
 * every event of a type monomorphic (several times faster than filling a dictionary). Falls
 * back to the generic loop where code generation is not allowed (strict CSP).
 */
function compile(def: EventDef): FieldsFn {
  const generic: FieldsFn = (dv, off, size) => decodeFieldsGeneric(dv, off, size, def);
  if (!canCompile || def.fields.some((f) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name))) return generic;
  const parts: string[] = [];
  for (const f of def.fields) {
    const o = `off + ${f.offset}`;
    let expr: string;
    switch (f.kind) {
      case 'u8': expr = `dv.getUint8(${o})`; break;
      case 'u16': expr = `dv.getUint16(${o}, true)`; break;
      case 'u32': expr = `dv.getUint32(${o}, true)`; break;
      case 'u64': expr = `u64(dv, ${o})`; break;
      case 'i8': expr = `dv.getInt8(${o})`; break;
      case 'i16': expr = `dv.getInt16(${o}, true)`; break;
      case 'i32': expr = `dv.getInt32(${o}, true)`; break;
      case 'i64': expr = `i64(dv, ${o})`; break;
      case 'str': expr = `decodeStr(tailOf(dv, ${o}, off + size, ${f.max}))`; break;
      default: expr = `tailOf(dv, ${o}, off + size, ${f.max}).slice()`;
    }
    parts.push(`${JSON.stringify(f.name)}: ${expr}`);
  }
  try {
    const mk = new Function('u64', 'i64', 'decodeStr', 'tailOf', `return function (dv, off, size) { return { ${parts.join(', ')} }; };`) as (...a: unknown[]) => FieldsFn;
    return mk(u64, i64, decodeStr, tailOf);
  } catch {
    canCompile = false;
    return generic;
  }
}

export function decodeFields(dv: DataView, off: number, size: number, def: EventDef): Record<string, FieldValue> {
  let fn = compiled.get(def);
  if (!fn) compiled.set(def, (fn = compile(def)));
  return fn(dv, off, size);
}

function decodeFieldsGeneric(dv: DataView, off: number, size: number, def: EventDef): Record<string, FieldValue> {
  const f: Record<string, FieldValue> = {};
  const specs = def.fields;
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i]!;
    const o = off + s.offset;
    switch (s.kind) {
      case 'u8': f[s.name] = dv.getUint8(o); break;
      case 'u16': f[s.name] = dv.getUint16(o, true); break;
      case 'u32': f[s.name] = dv.getUint32(o, true); break;
      case 'u64': f[s.name] = u64(dv, o); break;
      case 'i8': f[s.name] = dv.getInt8(o); break;
      case 'i16': f[s.name] = dv.getInt16(o, true); break;
      case 'i32': f[s.name] = dv.getInt32(o, true); break;
      case 'i64': f[s.name] = i64(dv, o); break;
      case 'str':
      case 'bytes': {
        const bytes = tailOf(dv, o, off + size, s.max);
        f[s.name] = s.kind === 'str' ? decodeStr(bytes) : bytes.slice();
        break;
      }
    }
  }
  return f;
}

/** Merge events from several CPUs into one order: by tsc, then cpu, then sequence. Stable. */
export function sortEvents(events: TraceEvent[]): TraceEvent[] {
  const cmp = (a: TraceEvent, b: TraceEvent) => a.tsc - b.tsc || a.cpu - b.cpu || a.seq - b.seq;
  // Each CPU's events are (nearly always) already in order: split into per-CPU runs, sort a
  // run only if it is not, then merge the runs (k = number of CPUs).
  const runs = new Map<number, TraceEvent[]>();
  for (const e of events) {
    let r = runs.get(e.cpu);
    if (!r) runs.set(e.cpu, (r = []));
    r.push(e);
  }
  const lists = [...runs.values()];
  for (const r of lists) {
    for (let i = 1; i < r.length; i++)
      if (cmp(r[i - 1]!, r[i]!) > 0) {
        r.sort(cmp);
        break;
      }
  }
  if (lists.length === 1) {
    const r = lists[0]!;
    for (let i = 0; i < r.length; i++) events[i] = r[i]!;
    return events;
  }
  const idx = new Array<number>(lists.length).fill(0);
  for (let o = 0; o < events.length; o++) {
    let best = -1;
    for (let k = 0; k < lists.length; k++) {
      const e = lists[k]![idx[k]!];
      if (e && (best < 0 || cmp(e, lists[best]![idx[best]!]!) < 0)) best = k;
    }
    events[o] = lists[best]![idx[best]!++]!;
  }
  return events;
}

/**
 * Live merging: events arrive per CPU in order but CPUs interleave in batches. push() buffers;
 * take() releases every event older than the newest event of the slowest active CPU (or older
 * than the window before the newest event seen), in time order. A CPU whose records reach the
 * host later than the window (its vCPU kept off a loaded host's CPUs between taking a record's
 * time and publishing it) makes a late event, which can no longer go in order: `late` counts
 * them and the window widens (to twice the lateness, at most ten times the base window), so a
 * host that stays that busy does not keep doing it.
 */
export class EventMerger {
  private pending: TraceEvent[] = [];
  private lastByCpu = new Map<number, number>();
  private widened = 0;
  private lastCut = -Infinity;
  /** events that arrived older than what was already released */
  late = 0;
  constructor(private baseTsc = 0) {}

  setWindowTsc(w: number): void {
    this.baseTsc = w;
  }

  get windowTsc(): number {
    return Math.max(this.baseTsc, this.widened);
  }

  push(events: TraceEvent[]): void {
    for (const e of events) {
      if (e.tsc < this.lastCut) {
        this.late++;
        if (this.baseTsc > 0) this.widened = Math.min(this.baseTsc * 10, Math.max(this.windowTsc * 2, (this.lastCut - e.tsc) * 2));
      }
      this.pending.push(e);
      const l = this.lastByCpu.get(e.cpu);
      if (l === undefined || e.tsc > l) this.lastByCpu.set(e.cpu, e.tsc);
    }
  }

  take(all = false): TraceEvent[] {
    if (!this.pending.length) return [];
    sortEvents(this.pending);
    if (all) {
      const r = this.pending;
      this.pending = [];
      return r;
    }
    let minLast = Infinity;
    let maxLast = -Infinity;
    for (const v of this.lastByCpu.values()) {
      minLast = Math.min(minLast, v);
      maxLast = Math.max(maxLast, v);
    }
    const w = this.windowTsc;
    const cut = Math.max(minLast, w > 0 ? maxLast - w : minLast);
    let k = 0;
    while (k < this.pending.length && this.pending[k]!.tsc <= cut) k++;
    const r = this.pending.slice(0, k);
    this.pending = this.pending.slice(k);
    if (k) this.lastCut = Math.max(this.lastCut, r[k - 1]!.tsc);
    return r;
  }
}
