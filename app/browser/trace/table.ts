/*
 * The trace table: raw trace bytes → events, decoded ONCE (debugger/common/trace's RecordDecoder,
 * definitions and clock from the stream), CPUs merged by time (EventMerger; live: a 200 ms
 * window, widened when a loaded host delivers a CPU's records later than that), kept in columnar form for every view to read:
 *
 *   ns   Float64Array   ns since boot          cpu  Uint16Array   the CPU that emitted it
 *   type Uint16Array    event id (defs: name)  ev   TraceEvent[]  the event, fields decoded lazily
 *
 * Views scan the typed columns (time ranges, per-CPU counts) without touching event objects;
 * fields are decoded on first access only for the rows a view looks at. `bytesDecoded` counts
 * every byte that went through the decoder — each byte once (asserted in a unit test).
 * The same path for a live recording (bytes arrive as the file grows) and a saved trace (read
 * to the end, then finish()). Pure: no DOM, no Node.
 */
import { EventMerger, RecordDecoder, type TraceEvent } from '../../../debugger/common/trace/records.js';

export class TraceTable {
  readonly decoder = new RecordDecoder();
  private merger = new EventMerger();
  /** bytes pushed through the decoder (each byte of the source exactly once) */
  bytesDecoded = 0;
  /** events decoded (before merging; the rows are the merged ones) */
  decoded = 0;
  count = 0;
  ns = new Float64Array(1024);
  cpu = new Uint16Array(1024);
  type = new Uint16Array(1024);
  readonly ev: TraceEvent[] = [];
  finished = false;

  /** Decode a chunk; merged events older than the merge window become rows. Returns the rows added. */
  push(chunk: Uint8Array, final = false): number {
    this.bytesDecoded += chunk.length;
    const evs = this.decoder.push(chunk);
    if (final) this.decoder.finish(evs);
    this.decoded += evs.length;
    const clock = this.decoder.clock;
    if (clock) this.merger.setWindowTsc(clock.tscHz / 5);
    this.merger.push(evs);
    const rows = this.merger.take(final);
    if (final) this.finished = true;
    return this.append(rows);
  }

  /** End of a saved trace (or of a Run): everything left becomes rows. */
  finish(): number {
    return this.push(new Uint8Array(0), true);
  }

  /** Adds events decoded elsewhere from this trace's bytes (the flight recorder's copy of a record). */
  append(rows: TraceEvent[]): number {
    if (!rows.length) return 0;
    this.reserve(this.count + rows.length);
    for (const e of rows) {
      const i = this.count++;
      this.ns[i] = e.ns;
      this.cpu[i] = e.cpu;
      this.type[i] = e.type;
      this.ev.push(e);
    }
    return rows.length;
  }

  /** Rows [from, count) as events. */
  rows(from = 0): TraceEvent[] {
    return this.ev.slice(from);
  }

  /** First row with ns ≥ t (binary search over the ns column; rows are in time order per batch). */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ns[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private reserve(n: number): void {
    if (n <= this.ns.length) return;
    let cap = this.ns.length;
    while (cap < n) cap *= 2;
    const grow = <T extends Float64Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.ns = grow(this.ns, (k) => new Float64Array(k));
    this.cpu = grow(this.cpu, (k) => new Uint16Array(k));
    this.type = grow(this.type, (k) => new Uint16Array(k));
  }
}

export function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
