/*
 * perfetto.ts — export a decoded trace to Perfetto's protobuf trace format (ui.perfetto.dev).
 *
 * Hand-written protobuf (no dependency). What goes out:
 *   - ProcessTree (processes and threads with names) so tids group under their process;
 *   - per CPU an FtraceEventBundle of sched_switch (prev/next comm+tid, prev_state) and
 *     sched_waking events: Perfetto draws the CPU scheduling tracks and thread states from them;
 *   - TrackDescriptors: a track per thread (syscalls as slices, IPC/events/markers/faults as
 *     instants), per CPU instant tracks for IRQs and the kernel log, counter tracks for loads;
 *   - flows: every event that names a cause (`cause`, `other`, `target`) is linked to it with a
 *     flow id (TrackEvent.flow_ids, fixed64), so IPC submit → match → complete, wake-ups and
 *     cancellations are drawn as arrows.
 * decodeProto() is a small generic decoder used by the tests to check the output. Pure.
 */
import type { FieldValue, TraceEvent } from './records.js';

// ---- protobuf writer ----

class Pb {
  private parts: number[] = [];
  private chunks: Uint8Array[] = [];
  private flushParts(): void {
    if (this.parts.length) {
      this.chunks.push(Uint8Array.from(this.parts));
      this.parts = [];
    }
  }
  private varint(v: number | bigint): void {
    let b = BigInt.asUintN(64, BigInt(v));
    if (typeof v === 'number' && v >= 0 && v < 0x80000000) {
      let n = v;
      while (n >= 0x80) {
        this.parts.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.parts.push(n);
      return;
    }
    while (b >= 0x80n) {
      this.parts.push(Number(b & 0x7fn) | 0x80);
      b >>= 7n;
    }
    this.parts.push(Number(b));
  }
  uint(field: number, v: number | bigint): this {
    this.varint(field << 3);
    this.varint(v);
    return this;
  }
  int(field: number, v: number | bigint): this {
    return this.uint(field, BigInt.asUintN(64, BigInt(v)));
  }
  fixed64(field: number, v: number | bigint): this {
    this.varint((field << 3) | 1);
    let b = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 8; i++) {
      this.parts.push(Number(b & 0xffn));
      b >>= 8n;
    }
    return this;
  }
  bytes(field: number, data: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(data.length);
    this.flushParts();
    this.chunks.push(data);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    this.flushParts();
    let n = 0;
    for (const c of this.chunks) n += c.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [out];
    return out;
  }
}

// Field numbers (perfetto/protos/perfetto/trace/...).
const TRACE_PACKET = 1;
const P = { ftrace_events: 1, process_tree: 2, timestamp: 8, track_event: 11, seq_id: 10, seq_flags: 13, track_descriptor: 60 };
const TD = { uuid: 1, name: 2, process: 3, thread: 4, parent_uuid: 5, counter: 8 };
const TE = { debug_annotations: 4, type: 9, track_uuid: 11, categories: 22, name: 23, counter_value: 30, flow_ids: 47, terminating_flow_ids: 48 };
const TYPE = { begin: 1, end: 2, instant: 3, counter: 4 };
const DA = { uint: 3, int: 4, string: 6, name: 10 };

function ts(e: TraceEvent): number {
  return Number.isFinite(e.ns) && e.ns > 0 ? Math.round(e.ns) : 0;
}

function num(v: FieldValue | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

function idKey(v: FieldValue | undefined): bigint {
  return typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : 0n;
}

// Linux prev_state encoding used by Perfetto: R=0, S=1, D=2, T=4, X=16.
const PREV_STATE = [0, 0, 1, 1, 4, 16];

export interface PerfettoOptions {
  syscallNames?: Record<number, string>;
}

export function exportPerfetto(events: TraceEvent[], opts: PerfettoOptions = {}): Uint8Array {
  const out = new Pb();
  const packet = (p: Pb) => out.msg(TRACE_PACKET, p);

  // Who is who.
  const procs = new Map<number, { name: string; ppid: number }>([[0, { name: 'kernel', ppid: 0 }]]);
  const threads = new Map<number, { pid: number; name: string }>();
  for (const e of events) {
    const f = e.fields;
    if (e.name === 'proc_create') procs.set(num(f['pid']), { name: String(f['name']), ppid: num(f['parent']) });
    else if (e.name === 'thread_create') threads.set(num(f['tid']), { pid: num(f['pid']), name: String(f['name']) });
    else if (e.name === 'ctx_switch') {
      for (const [t, p] of [[num(f['prev_tid']), num(f['prev_pid'])], [num(f['next_tid']), num(f['next_pid'])]] as const)
        if (!threads.has(t) && t !== 0) threads.set(t, { pid: p, name: procs.get(p)?.name ?? `tid ${t}` });
    }
  }
  const comm = (tid: number) => (tid === 0 ? 'idle' : (threads.get(tid)?.name ?? `tid ${tid}`));

  // Process tree.
  const tree = new Pb();
  for (const [pid, p] of procs) {
    if (pid === 0) continue;
    tree.msg(1, new Pb().int(1, pid).int(2, p.ppid).str(3, p.name));
  }
  for (const [tid, t] of threads) tree.msg(2, new Pb().int(1, tid).str(2, t.name).int(3, t.pid));
  packet(new Pb().uint(P.timestamp, 0).msg(P.process_tree, tree));

  // Tracks.
  let nextUuid = 1000;
  const seq = () => new Pb().uint(P.seq_id, 1);
  let first = true;
  const desc = (d: Pb) => {
    const p = seq().msg(P.track_descriptor, d);
    if (first) {
      p.uint(P.seq_flags, 1);
      first = false;
    }
    packet(p);
  };
  const procUuid = new Map<number, number>();
  const procTrack = (pid: number) => {
    let u = procUuid.get(pid);
    if (u === undefined) {
      u = nextUuid++;
      procUuid.set(pid, u);
      desc(new Pb().uint(TD.uuid, u).msg(TD.process, new Pb().int(1, pid).str(6, procs.get(pid)?.name ?? `pid ${pid}`)));
    }
    return u;
  };
  const threadUuid = new Map<number, number>();
  const threadTrack = (tid: number) => {
    let u = threadUuid.get(tid);
    if (u === undefined) {
      const t = threads.get(tid) ?? { pid: 0, name: comm(tid) };
      const pu = procTrack(t.pid);
      u = nextUuid++;
      threadUuid.set(tid, u);
      desc(new Pb().uint(TD.uuid, u).uint(TD.parent_uuid, pu).msg(TD.thread, new Pb().int(1, t.pid).int(2, tid).str(5, t.name)));
    }
    return u;
  };
  const named = new Map<string, number>();
  const namedTrack = (name: string, counter = false) => {
    let u = named.get(name);
    if (u === undefined) {
      u = nextUuid++;
      named.set(name, u);
      const d = new Pb().uint(TD.uuid, u).str(TD.name, name);
      if (counter) d.msg(TD.counter, new Pb());
      desc(d);
    }
    return u;
  };

  // Flow ids: any event referenced as a cause starts (or continues) a flow with its own id.
  const referenced = new Set<bigint>();
  for (const e of events)
    for (const k of ['cause', 'other', 'target'] as const) {
      const v = idKey(e.fields[k]);
      if (v) referenced.add(v);
    }

  const annotate = (te: Pb, e: TraceEvent) => {
    for (const [k, v] of Object.entries(e.fields)) {
      const a = new Pb().str(DA.name, k);
      if (typeof v === 'string') a.str(DA.string, v);
      else if (v instanceof Uint8Array) a.str(DA.string, Array.from(v, (b) => b.toString(16).padStart(2, '0')).join(''));
      else if (typeof v === 'bigint' || v < 0) a.int(DA.int, v);
      else a.uint(DA.uint, v);
      te.msg(TE.debug_annotations, a);
    }
  };
  const trackEvent = (e: TraceEvent, track: number, type: number, name?: string, withArgs = true) => {
    const te = new Pb().uint(TE.type, type).uint(TE.track_uuid, track).str(TE.categories, e.cls);
    if (name !== undefined) te.str(TE.name, name);
    const own = BigInt(e.id);
    const flows: bigint[] = [];
    if (referenced.has(own)) flows.push(own);
    for (const k of ['cause', 'other', 'target'] as const) {
      const v = idKey(e.fields[k]);
      if (v && !flows.includes(v)) flows.push(v);
    }
    for (const f of flows) te.fixed64(TE.flow_ids, f);
    if (withArgs) annotate(te, e);
    packet(seq().uint(P.timestamp, ts(e)).msg(P.track_event, te));
  };

  // Scheduling, per CPU.
  const byCpu = new Map<number, Pb>();
  const ftrace = (cpu: number) => {
    let b = byCpu.get(cpu);
    if (!b) byCpu.set(cpu, (b = new Pb().uint(1, cpu)));
    return b;
  };
  const openSys = new Map<number, boolean>();
  for (const e of events) {
    const f = e.fields;
    switch (e.name) {
      case 'ctx_switch': {
        const prev = num(f['prev_tid']);
        const next = num(f['next_tid']);
        const sw = new Pb().str(1, comm(prev)).int(2, prev).int(3, 120).int(4, PREV_STATE[num(f['prev_state'])] ?? 0)
          .str(5, comm(next)).int(6, next).int(7, 120);
        ftrace(e.cpu).msg(2, new Pb().uint(1, ts(e)).uint(2, prev).msg(4, sw));
        break;
      }
      case 'wakeup': {
        const tid = num(f['tid']);
        const wk = new Pb().str(1, comm(tid)).int(2, tid).int(3, 120).int(4, 1).int(5, num(f['target_cpu']));
        ftrace(e.cpu).msg(2, new Pb().uint(1, ts(e)).uint(2, num(f['waker_tid'])).msg(20, wk));
        if (idKey(f['cause'])) trackEvent(e, threadTrack(tid), TYPE.instant, 'wakeup');
        break;
      }
      case 'syscall_enter': {
        const tid = num(f['tid']);
        const n = num(f['num']);
        trackEvent(e, threadTrack(tid), TYPE.begin, `sys ${opts.syscallNames?.[n] ?? n}`);
        openSys.set(tid, true);
        break;
      }
      case 'syscall_exit': {
        const tid = num(f['tid']);
        if (openSys.get(tid)) {
          packet(seq().uint(P.timestamp, ts(e)).msg(P.track_event, new Pb().uint(TE.type, TYPE.end).uint(TE.track_uuid, threadTrack(tid))));
          openSys.set(tid, false);
        }
        break;
      }
      case 'load_sample':
        packet(seq().uint(P.timestamp, ts(e)).msg(P.track_event, new Pb().uint(TE.type, TYPE.counter)
          .uint(TE.track_uuid, namedTrack(`cpu${num(f['of_cpu'])} load`, true)).int(TE.counter_value, num(f['load']))));
        break;
      case 'marker': {
        const tid = num(f['tid']);
        const kind = num(f['kind']);
        if (kind === 3) {
          packet(seq().uint(P.timestamp, ts(e)).msg(P.track_event, new Pb().uint(TE.type, TYPE.counter)
            .uint(TE.track_uuid, namedTrack(`marker ${String(f['name'])}`, true)).int(TE.counter_value, num(f['value']))));
        } else if (kind === 2) {
          packet(seq().uint(P.timestamp, ts(e)).msg(P.track_event, new Pb().uint(TE.type, TYPE.end).uint(TE.track_uuid, threadTrack(tid))));
        } else {
          trackEvent(e, threadTrack(tid), kind === 1 ? TYPE.begin : TYPE.instant, String(f['name']));
        }
        break;
      }
      case 'irq':
      case 'irq_exit':
        trackEvent(e, namedTrack(`cpu${e.cpu} irq`), TYPE.instant, `${e.name} ${num(f['irq'])}`, false);
        break;
      case 'log':
        trackEvent(e, namedTrack('kernel log'), TYPE.instant, String(f['text']));
        break;
      case 'trace_header':
      case 'event_def':
        break;
      default: {
        const tid = num(f['tid']);
        const track = 'tid' in f && tid ? threadTrack(tid) : namedTrack(`cpu${e.cpu} ${e.cls}`);
        trackEvent(e, track, TYPE.instant, e.name);
      }
    }
  }
  for (const [, b] of [...byCpu].sort((a, c) => a[0] - c[0])) packet(new Pb().msg(P.ftrace_events, b));
  return out.finish();
}

// ---- a generic protobuf decoder (for tests and inspection) ----

export interface ProtoField {
  field: number;
  wire: number;
  value: bigint | Uint8Array;
}

/** Decodes one message level; throws on malformed input (test helper). */
export function decodeProto(b: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let s = 0n;
    for (;;) {
      if (i >= b.length) throw new Error('protobuf: truncated varint');
      const x = b[i++]!;
      r |= BigInt(x & 0x7f) << s;
      if (!(x & 0x80)) return r;
      s += 7n;
      if (s > 70n) throw new Error('protobuf: varint too long');
    }
  };
  while (i < b.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) {
      if (i + 8 > b.length) throw new Error('protobuf: truncated fixed64');
      let v = 0n;
      for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[i + k]!);
      i += 8;
      out.push({ field, wire, value: v });
    } else if (wire === 2) {
      const n = Number(varint());
      if (i + n > b.length) throw new Error('protobuf: truncated bytes');
      out.push({ field, wire, value: b.subarray(i, i + n) });
      i += n;
    } else if (wire === 5) {
      if (i + 4 > b.length) throw new Error('protobuf: truncated fixed32');
      out.push({ field, wire, value: BigInt(b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) | (BigInt(b[i + 3]!) << 24n) });
      i += 4;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}
