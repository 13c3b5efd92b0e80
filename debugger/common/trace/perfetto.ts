/*
 * perfetto.ts — export a decoded LaneOS trace to Perfetto's protobuf trace format, so that it opens
 * in ui.perfetto.dev and in trace_processor. Hand-written protobuf writer (no dependency). Pure.
 *
 * What goes out (field numbers from upstream protos/perfetto/trace/..., checked in
 * debugger/test/trace-perfetto.test.ts and README.md "Perfetto export"):
 *   1. one ProcessTree packet: every process and thread, with names and parents;
 *   2. on packet sequence 1 (its first packet: SEQ_INCREMENTAL_STATE_CLEARED, first_packet_on_sequence;
 *      no interning, no TracePacketDefaults):
 *      a TrackDescriptor per process and per thread (thread tracks are children of their
 *      process track), then TrackEvents in time order:
 *        - syscalls as slices (BEGIN at syscall_enter, END at syscall_exit) on the thread's track;
 *        - user marker spans as slices on a track per marker name ("span NAME"): a span is opened
 *          and closed from inside trace_mark syscalls, often by different processes (`trace mark
 *          X begin` … `trace mark X end` from the shell), so on a thread track it would cross the
 *          syscall slices; marker counters as counter tracks ("marker NAME"), marker instants on
 *          the thread's track;
 *        - IPC, event, fault, wake-up-with-cause and process events as instants on the thread's
 *          track (events with no thread: per-CPU tracks, e.g. "cpu1 ipc" for ipc_match);
 *        - IRQs per CPU, the kernel log on one track;
 *        - counter tracks "cpuN load" (1024 = one busy thread) and "cpuN run queue" from load_sample;
 *        - sysfs: nodes added/removed and every attribute change as instants on a "sysfs" track,
 *          and a counter track per attribute with numeric values ("sysfs /sys/.../cpu0/load");
 *        - flows: one flow id per cause → effect edge (an event naming another in `cause`,
 *          `other` or `target`): the earlier of the two carries it in flow_ids, the later in
 *          terminating_flow_ids, so submit → match, submit → complete, submit → wake-up and
 *          submit → cancel are each an arrow (a single flow id cannot fork);
 *        - POSIX syscalls (sys_begin … sys_end, class signal, written by libc) as slices named
 *          like `read(3, 4096)` on a track "<thread> POSIX calls" under the process (the kernel's
 *          own syscall slices, including the trace_user call that writes sys_begin, stay on the
 *          thread track: the two would not nest); the outcome as an instant on the thread;
 *          sig_generate on the target process's track, cancel_ack on the server's;
 *        - cancellation chains as flows: the records of one POSIX call (`call` field: sys_begin,
 *          sig_generate, sig_flag, cancel_raise, cancel_ack, sys_end, sig_handler, sig_action) of
 *          a call that was cancelled (a signal generated for it, a cancel raised or acked, a
 *          default action, or an outcome other than completed) are linked in time order, one
 *          flow per consecutive pair — Perfetto draws the chain signal → flag → cancel → server
 *          ack → outcome → handler across threads and processes;
 *   3. FtraceEventBundles per CPU (≤ 256 events each, emitted as they fill): sched_switch and
 *      sched_waking, from which Perfetto draws the CPU scheduling tracks and thread states.
 * Timestamps: ns since the trace's clock base (trace_header), on Perfetto's default clock (BOOTTIME)
 * for every packet, so ftrace and track events line up.
 * Numbering: Perfetto (like Linux) shares one number space between pids and tids: trace_processor
 * gives every pid a main thread whose tid is that pid, and ui.perfetto.dev files pid 2 (Linux's
 * kthreadd) and its children under "Kernel threads" and hides pid 0 (the swapper). LaneOS counts
 * pids and tids separately (pid 2 and tid 2 are unrelated; pid 0 is the kernel). So tids stay as
 * they are (the scheduling tracks show real tids; tid 0 is the idle thread) and a process's Perfetto
 * pid is its LaneOS pid plus a base, a power of ten ≥ 1000 above every id in the trace: with
 * fewer than 1000 threads "init (pid 1)" is Perfetto pid 1001, the kernel ("kernel (pid 0)")
 * 1000. Processes with no thread in the trace are left out.
 * decodeProto() is a small generic one-level decoder for inspection and tests.
 */
import { DefTable, enumName } from './defs.js';
import type { FieldValue, TraceEvent } from './records.js';
import { fmtId, ipcActionNames } from './text.js';

// ---- protobuf writer ----

const utf8 = new TextEncoder();

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
    if (typeof v === 'number' && v >= 0 && v < 0x80000000) {
      let n = v;
      while (n >= 0x80) {
        this.parts.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.parts.push(n);
      return;
    }
    let b = BigInt.asUintN(64, BigInt(v));
    while (b >= 0x80n) {
      this.parts.push(Number(b & 0x7fn) | 0x80);
      b >>= 7n;
    }
    this.parts.push(Number(b));
  }
  /** varint field (uint32/uint64/enum/bool, and int32/int64 as 64-bit two's complement) */
  uint(field: number, v: number | bigint): this {
    this.varint(field << 3);
    this.varint(v);
    return this;
  }
  int(field: number, v: number | bigint): this {
    return this.uint(field, typeof v === 'number' && v >= 0 && v < 0x80000000 ? v : BigInt.asUintN(64, BigInt(v)));
  }
  /** int32 field: a u32 id from the trace is reinterpreted as int32, as Perfetto stores it */
  i32(field: number, v: number): this {
    return this.int(field, v | 0);
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
    return this.bytes(field, utf8.encode(s));
  }
  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    this.flushParts();
    if (this.chunks.length === 1) return this.chunks[0]!;
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

// ---- field numbers (upstream protos/perfetto/..., proto2) ----

/** trace.proto: Trace.packet */
const TRACE_PACKET = 1;
/** trace_packet.proto: TracePacket */
const P = { ftrace_events: 1, process_tree: 2, timestamp: 8, trusted_packet_sequence_id: 10, track_event: 11, sequence_flags: 13, track_descriptor: 60, first_packet_on_sequence: 87 };
/** TracePacket.SequenceFlags */
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
/** ps/process_tree.proto: ProcessTree, .Process, .Thread */
const PT = { processes: 1, threads: 2 };
const PT_PROC = { pid: 1, ppid: 2, cmdline: 3 };
const PT_THREAD = { tid: 1, name: 2, tgid: 3 };
/** track_event/track_descriptor.proto: TrackDescriptor */
const TD = { uuid: 1, name: 2, process: 3, thread: 4, parent_uuid: 5, counter: 8 };
/** track_event/process_descriptor.proto, thread_descriptor.proto */
const PD = { pid: 1, process_name: 6 };
const THD = { pid: 1, tid: 2, thread_name: 5 };
/** track_event/track_event.proto: TrackEvent and TrackEvent.Type */
const TE = { debug_annotations: 4, type: 9, track_uuid: 11, categories: 22, name: 23, counter_value: 30, flow_ids: 47, terminating_flow_ids: 48 };
const TYPE = { begin: 1, end: 2, instant: 3, counter: 4 };
/** track_event/debug_annotation.proto: DebugAnnotation */
const DA = { uint_value: 3, int_value: 4, string_value: 6, name: 10 };
/** ftrace/ftrace_event_bundle.proto, ftrace_event.proto, sched.proto */
const FB = { cpu: 1, event: 2 };
const FE = { timestamp: 1, pid: 2, sched_switch: 4, sched_waking: 20 };
const SW = { prev_comm: 1, prev_pid: 2, prev_prio: 3, prev_state: 4, next_comm: 5, next_pid: 6, next_prio: 7 };
const WK = { comm: 1, pid: 2, prio: 3, success: 4, target_cpu: 5 };

/** LaneOS thread_state → Linux prev_state bits as Perfetto reads them: R=0, S=1, D=2, T=4, X=16
 * (running, ready → R; blocked, sleeping → S; stopped → T; dead → X). */
const PREV_STATE = [0, 0, 1, 1, 4, 16];
/** fields that name another event by id (os/abi/trace.toml: causality) */
const REFS = ['cause', 'other', 'target'] as const;
/** The records of one POSIX call's cancellation chain (CANCEL-TRACE), joined by their `call` field. */
export const CHAIN_EVENTS: ReadonlySet<string> = new Set(['sys_begin', 'sig_generate', 'sig_flag', 'cancel_raise', 'cancel_ack', 'sys_end', 'sig_handler', 'sig_action']);
const SYS_OUTCOMES = ['completed', 'EINTR', 'partial', 'restarted', 'killed', 'raced'];

/** Whether a chain record says its call was cancelled (anything but a plain begin/end/flag 0↔1). */
export function chainCancels(e: { name: string; fields: Record<string, FieldValue> }): boolean {
  const f = e.fields;
  switch (e.name) {
    case 'sig_generate': case 'cancel_raise': case 'cancel_ack': case 'sig_action': return true;
    case 'sig_flag': return num(f['to']) === 2;
    case 'sys_end': return num(f['outcome']) !== 0;
    default: return false;
  }
}

/** `read(3, 4096)` from a sys_begin's fields. */
function posixCallName(f: Record<string, FieldValue>): string {
  const args: string[] = [];
  if (num(f['fd']) >= 0) args.push(String(num(f['fd'])));
  if (num(f['arg'])) args.push(String(f['arg']));
  const name = typeof f['name'] === 'string' && f['name'] ? f['name'] : `posix 0x${num(f['nr']).toString(16)}`;
  return `${name}(${args.join(', ')})`;
}
/** ftrace events per FtraceEventBundle packet */
const BUNDLE_MAX = 256;

function ts(e: TraceEvent): number {
  return Number.isFinite(e.ns) && e.ns > 0 ? Math.round(e.ns) : 0;
}

function num(v: FieldValue | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

function idKey(v: FieldValue | undefined): bigint {
  return typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : 0n;
}

export interface PerfettoOptions {
  /** syscall number → name, for slice names ("sys ipc_submit" instead of "sys 40") */
  syscallNames?: Record<number, string>;
  /** event definitions (for enum names in the arguments); default: the built-in schema */
  defs?: { get(id: number): { fields: { name: string; enumName?: string }[] } | undefined };
}

/** Syscall names from the generated ABI as JSON (os/build/abi.json, `python3 os/abi/gen.py
 * --json-out`: { abis: { kernel: { syscalls: [{ num, name }] }, ipc: ... } }), parsed, not
 * scraped, so that the debugger does not depend on a build product's TypeScript. */
export function syscallNamesFromAbi(json: unknown): Record<number, string> {
  const abis = (json as { abis?: unknown } | null)?.abis;
  if (!abis || typeof abis !== 'object') throw new Error('not a generated ABI (os/build/abi.json): no "abis" table');
  const names: Record<number, string> = {};
  for (const [stem, abi] of Object.entries(abis as Record<string, { syscalls?: unknown }>)) {
    const calls = abi.syscalls ?? [];
    if (!Array.isArray(calls)) throw new Error(`generated ABI: abis.${stem}.syscalls is not a list`);
    for (const c of calls as { num?: unknown; name?: unknown }[]) {
      if (typeof c.num !== 'number' || typeof c.name !== 'string') throw new Error(`generated ABI: a syscall of abis.${stem} has no num/name`);
      names[c.num] = c.name;
    }
  }
  return names;
}

/** One TrackEvent to write. */
interface TeItem {
  ts: number;
  type: number;
  track: number;
  name?: string;
  e?: TraceEvent;
  counter?: number;
  flows?: number[];
  term?: number[];
}

/** One ftrace event to write into its CPU's bundle. */
interface FtItem {
  cpu: number;
  body: Pb;
}

export function exportPerfetto(input: TraceEvent[], opts: PerfettoOptions = {}): Uint8Array {
  // Time order (stable: equal timestamps keep their order, so a cause stays before its effect).
  const events = input.map((e, i) => ({ e, i, t: ts(e) })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.e);
  const defs = opts.defs ?? new DefTable();

  // ---- who is who ----
  const procNames = new Map<number, { name: string; ppid: number }>();
  const threads = new Map<number, { pid: number | undefined; name?: string }>();
  const learn = (tid: number, pid: number | undefined) => {
    if (tid === 0) return;
    const t = threads.get(tid);
    if (!t) threads.set(tid, { pid });
    else if (t.pid === undefined) t.pid = pid;
  };
  for (const e of events) {
    const f = e.fields;
    if (e.name === 'proc_create') procNames.set(num(f['pid']), { name: String(f['name']), ppid: num(f['parent']) });
    else if (e.name === 'thread_create') {
      const tid = num(f['tid']);
      if (tid) threads.set(tid, { pid: num(f['pid']), name: String(f['name']) });
    } else if (e.name === 'ctx_switch') {
      learn(num(f['prev_tid']), num(f['prev_pid']));
      learn(num(f['next_tid']), num(f['next_pid']));
    } else if ('tid' in f) learn(num(f['tid']), 'pid' in f ? num(f['pid']) : undefined);
  }
  // Perfetto pids: LaneOS pid + base, base a power of ten (≥ 1000) above every tid and pid, so that
  // no process id is also a thread id (see the numbering note at the top).
  const lanesPids = new Set<number>();
  let maxId = 0;
  for (const [tid, t] of threads) {
    maxId = Math.max(maxId, tid, t.pid ?? 0);
    if (t.pid !== undefined) lanesPids.add(t.pid);
  }
  let base = 1000;
  while (base <= maxId && base < 100_000_000) base *= 10; // (ids past that are corrupt data)
  const procName = (pid: number) => `${procNames.get(pid)?.name ?? (pid === 0 ? 'kernel' : 'process')} (pid ${pid})`;
  /** Perfetto pid of a thread (a thread whose process is unknown gets a process of its own) */
  const pfPid = (tid: number) => {
    const p = threads.get(tid)?.pid;
    return p === undefined ? 2 * base + tid : base + p;
  };
  const comm = (tid: number) => {
    if (tid === 0) return 'idle';
    const t = threads.get(tid);
    return t?.name ?? (t?.pid !== undefined ? (procNames.get(t.pid)?.name ?? `tid ${tid}`) : `tid ${tid}`);
  };

  const out = new Pb();
  const packet = (p: Pb) => out.msg(TRACE_PACKET, p);

  // ---- 1. process tree ----
  const tree = new Pb();
  for (const pid of [...lanesPids].sort((a, b) => a - b)) {
    const p = new Pb().i32(PT_PROC.pid, base + pid);
    const parent = procNames.get(pid)?.ppid;
    if (parent !== undefined && lanesPids.has(parent) && parent !== pid) p.i32(PT_PROC.ppid, base + parent);
    tree.msg(PT.processes, p.str(PT_PROC.cmdline, procName(pid)));
  }
  for (const [tid, t] of [...threads].sort((a, b) => a[0] - b[0])) {
    if (t.pid === undefined) tree.msg(PT.processes, new Pb().i32(PT_PROC.pid, pfPid(tid)).str(PT_PROC.cmdline, `tid ${tid}`));
    tree.msg(PT.threads, new Pb().i32(PT_THREAD.tid, tid).str(PT_THREAD.name, comm(tid)).i32(PT_THREAD.tgid, pfPid(tid)));
  }
  packet(new Pb().uint(P.timestamp, events.length ? ts(events[0]!) : 0).msg(P.process_tree, tree));

  // ---- 2. tracks (sequence 1) ----
  let firstOnSeq = true;
  const seqPacket = () => {
    const p = new Pb().uint(P.trusted_packet_sequence_id, 1);
    if (firstOnSeq) {
      p.uint(P.sequence_flags, SEQ_INCREMENTAL_STATE_CLEARED).uint(P.first_packet_on_sequence, 1);
      firstOnSeq = false;
    }
    return p;
  };
  const desc = (d: Pb) => packet(seqPacket().msg(P.track_descriptor, d));
  let nextUuid = 1; // 0 is Perfetto's implicit global track
  const procUuid = new Map<number, number>(); // Perfetto pid → uuid
  const procTrack = (ppid: number, name: string) => {
    let u = procUuid.get(ppid);
    if (u === undefined) {
      procUuid.set(ppid, (u = nextUuid++));
      desc(new Pb().uint(TD.uuid, u).msg(TD.process, new Pb().i32(PD.pid, ppid).str(PD.process_name, name)));
    }
    return u;
  };
  const threadUuid = new Map<number, number>();
  const threadTrack = (tid: number) => {
    let u = threadUuid.get(tid);
    if (u === undefined) {
      const lanesPid = threads.get(tid)?.pid;
      const pp = pfPid(tid);
      const pu = procTrack(pp, lanesPid === undefined ? `tid ${tid}` : procName(lanesPid));
      threadUuid.set(tid, (u = nextUuid++));
      desc(new Pb().uint(TD.uuid, u).uint(TD.parent_uuid, pu).msg(TD.thread, new Pb().i32(THD.pid, pp).i32(THD.tid, tid).str(THD.thread_name, comm(tid))));
    }
    return u;
  };
  const named = new Map<string, number>();
  const namedTrack = (name: string, counter = false) => {
    let u = named.get(name);
    if (u === undefined) {
      named.set(name, (u = nextUuid++));
      const d = new Pb().uint(TD.uuid, u).str(TD.name, name);
      if (counter) d.msg(TD.counter, new Pb());
      desc(d);
    }
    return u;
  };
  for (const tid of [...threads.keys()].sort((a, b) => a - b)) threadTrack(tid);
  /** a thread's POSIX calls (sys_begin … sys_end): a plain track under its process */
  const posixUuid = new Map<number, number>();
  const posixTrack = (tid: number) => {
    let u = posixUuid.get(tid);
    if (u === undefined) {
      const lanesPid = threads.get(tid)?.pid;
      const pu = procTrack(pfPid(tid), lanesPid === undefined ? `tid ${tid}` : procName(lanesPid));
      posixUuid.set(tid, (u = nextUuid++));
      desc(new Pb().uint(TD.uuid, u).uint(TD.parent_uuid, pu).str(TD.name, `${comm(tid)} [${tid}] POSIX calls`));
    }
    return u;
  };
  /** a process's own track, when it is in the process tree (it has threads), else undefined */
  const processTrack = (pid: number) => (lanesPids.has(pid) ? procTrack(base + pid, procName(pid)) : undefined);

  // ---- plan: what each event becomes, in time order ----
  const items: (TeItem | FtItem)[] = [];
  const open = new Map<number, number>(); // track uuid → open slices
  const begin = (e: TraceEvent, track: number, name: string) => {
    items.push({ ts: ts(e), type: TYPE.begin, track, name, e });
    open.set(track, (open.get(track) ?? 0) + 1);
  };
  const end = (e: TraceEvent, track: number) => {
    const n = open.get(track) ?? 0;
    if (n <= 0) return; // no open slice (it began before the trace, or its begin was lost)
    items.push({ ts: ts(e), type: TYPE.end, track });
    open.set(track, n - 1);
  };
  const closeAll = (e: TraceEvent, track: number | undefined) => {
    if (track === undefined) return;
    while ((open.get(track) ?? 0) > 0) end(e, track);
  };
  const instant = (e: TraceEvent, track: number, name: string) => items.push({ ts: ts(e), type: TYPE.instant, track, name, e });
  const counter = (e: TraceEvent, track: number, value: number) => items.push({ ts: ts(e), type: TYPE.counter, track, counter: value });
  const inSyscall = new Map<number, boolean>();
  const inPosixCall = new Map<number, boolean>();

  for (const e of events) {
    const f = e.fields;
    switch (e.name) {
      case 'trace_header':
      case 'event_def':
        break;
      case 'ctx_switch': {
        const prev = num(f['prev_tid']);
        const next = num(f['next_tid']);
        const sw = new Pb().str(SW.prev_comm, comm(prev)).i32(SW.prev_pid, prev).i32(SW.prev_prio, 120)
          .int(SW.prev_state, PREV_STATE[num(f['prev_state'])] ?? 0).str(SW.next_comm, comm(next)).i32(SW.next_pid, next).i32(SW.next_prio, 120);
        items.push({ cpu: e.cpu, body: new Pb().uint(FE.timestamp, ts(e)).uint(FE.pid, prev >>> 0).msg(FE.sched_switch, sw) });
        break;
      }
      case 'wakeup': {
        const tid = num(f['tid']);
        const wk = new Pb().str(WK.comm, comm(tid)).i32(WK.pid, tid).i32(WK.prio, 120).i32(WK.success, 1).i32(WK.target_cpu, num(f['target_cpu']));
        items.push({ cpu: e.cpu, body: new Pb().uint(FE.timestamp, ts(e)).uint(FE.pid, num(f['waker_tid']) >>> 0).msg(FE.sched_waking, wk) });
        if (idKey(f['cause']) && tid) instant(e, threadTrack(tid), 'wakeup');
        break;
      }
      case 'syscall_enter': {
        const tid = num(f['tid']);
        if (!tid) break;
        const track = threadTrack(tid);
        if (inSyscall.get(tid)) end(e, track); // its exit was lost
        const n = num(f['num']);
        begin(e, track, `sys ${opts.syscallNames?.[n] ?? n}`);
        inSyscall.set(tid, true);
        break;
      }
      case 'syscall_exit': {
        const tid = num(f['tid']);
        if (tid && inSyscall.get(tid)) {
          end(e, threadTrack(tid));
          inSyscall.set(tid, false);
        }
        break;
      }
      case 'sys_begin': {
        const tid = num(f['tid']);
        if (!tid) break;
        const track = posixTrack(tid);
        if (inPosixCall.get(tid)) end(e, track); // its sys_end was lost
        begin(e, track, posixCallName(f));
        inPosixCall.set(tid, true);
        break;
      }
      case 'sys_end': {
        const tid = num(f['tid']);
        if (!tid) break;
        if (inPosixCall.get(tid)) {
          end(e, posixTrack(tid));
          inPosixCall.set(tid, false);
        }
        const o = num(f['outcome']);
        const what = o === 2 ? `partial ${String(f['done'])} of ${String(f['requested'])}` : (SYS_OUTCOMES[o] ?? `outcome ${o}`);
        instant(e, threadTrack(tid), `→ ${String(f['result'])} (${what})`);
        break;
      }
      case 'sig_generate': {
        const track = processTrack(num(f['target_pid']));
        instant(e, track ?? namedTrack(`cpu${e.cpu} ${e.cls}`), `signal ${num(f['signo'])} → tid ${num(f['target_tid'])}`);
        break;
      }
      case 'cancel_ack': {
        const track = processTrack(num(f['server_pid']));
        instant(e, track ?? namedTrack(`cpu${e.cpu} ${e.cls}`), `cancel_ack ${String(f['server'])}: progress ${String(f['progress'])}`);
        break;
      }
      case 'thread_exit': {
        const tid = num(f['tid']);
        if (!tid) break;
        closeAll(e, threadTrack(tid));
        if (posixUuid.has(tid)) closeAll(e, posixTrack(tid));
        inPosixCall.set(tid, false);
        inSyscall.set(tid, false);
        instant(e, threadTrack(tid), 'thread_exit');
        break;
      }
      case 'load_sample': {
        const cpu = num(f['of_cpu']);
        counter(e, namedTrack(`cpu${cpu} load`, true), num(f['load']));
        counter(e, namedTrack(`cpu${cpu} run queue`, true), num(f['rq_len']));
        break;
      }
      case 'marker': {
        const tid = num(f['tid']);
        const kind = num(f['kind']);
        const name = String(f['name']);
        if (kind === 3) counter(e, namedTrack(`marker ${name}`, true), num(f['value']));
        else if (kind === 1) begin(e, namedTrack(`span ${name}`), name);
        else if (kind === 2) end(e, namedTrack(`span ${name}`));
        else instant(e, tid ? threadTrack(tid) : namedTrack(`cpu${e.cpu} user`), name);
        break;
      }
      case 'irq':
      case 'irq_exit':
        instant(e, namedTrack(`cpu${e.cpu} irq`), `${e.name} ${num(f['irq'])}`);
        break;
      case 'log':
        instant(e, namedTrack('kernel log'), String(f['text']));
        break;
      case 'sysfs_add':
      case 'sysfs_remove':
        instant(e, namedTrack('sysfs'), `${e.name === 'sysfs_add' ? '+' : '-'} ${String(f['path'])}`);
        break;
      case 'sysfs_attr': {
        // "path=value": a number becomes a point on a counter track per attribute ("sysfs
        // /sys/devices/system/cpu/cpu0/load"); every change is also an instant on "sysfs"
        const text = String(f['text']);
        const eq = text.lastIndexOf('=');
        const value = eq > 0 ? text.slice(eq + 1).trim() : '';
        if (/^-?\d+(\.\d+)?$/.test(value)) counter(e, namedTrack(`sysfs ${text.slice(0, eq)}`, true), Number(value));
        instant(e, namedTrack('sysfs'), text);
        break;
      }
      case 'ipc_submit':
      {
        const acts = ipcActionNames(f['actions'], num(f['nactions'])).join(',');
        instant(e, num(f['tid']) ? threadTrack(num(f['tid'])) : namedTrack(`cpu${e.cpu} ipc`), acts ? `ipc_submit ${acts}` : 'ipc_submit');
        break;
      }
      default: {
        const tid = num(f['tid']);
        instant(e, 'tid' in f && tid ? threadTrack(tid) : namedTrack(`cpu${e.cpu} ${e.cls}`), e.name);
      }
    }
  }

  // ---- flows: one id per cause → effect edge between two slices (begin or instant) ----
  const sliceOf = new Map<bigint, number>();
  items.forEach((it, i) => {
    if ('type' in it && it.e && (it.type === TYPE.begin || it.type === TYPE.instant)) sliceOf.set(BigInt(it.e.id), i);
  });
  let nextFlow = 1;
  items.forEach((it, i) => {
    if (!('type' in it) || !it.e || (it.type !== TYPE.begin && it.type !== TYPE.instant)) return;
    const seen = new Set<bigint>();
    for (const k of REFS) {
      const v = idKey(it.e.fields[k]);
      if (!v || seen.has(v)) continue;
      seen.add(v);
      const src = sliceOf.get(v);
      if (src === undefined || src === i) continue;
      const flow = nextFlow++;
      const a = items[Math.min(src, i)] as TeItem;
      const b = items[Math.max(src, i)] as TeItem;
      (a.flows ??= []).push(flow);
      (b.term ??= []).push(flow);
    }
  });

  // ---- flows: the cancellation chain of each cancelled POSIX call, consecutive records linked ----
  const byCall = new Map<bigint, number[]>();
  const cancelledCalls = new Set<bigint>();
  items.forEach((it, i) => {
    if (!('type' in it) || !it.e || (it.type !== TYPE.begin && it.type !== TYPE.instant) || !CHAIN_EVENTS.has(it.e.name)) return;
    const c = idKey(it.e.fields['call']);
    if (!c) return;
    let l = byCall.get(c);
    if (!l) byCall.set(c, (l = []));
    l.push(i);
    if (chainCancels(it.e)) cancelledCalls.add(c);
  });
  for (const [c, l] of byCall) {
    if (!cancelledCalls.has(c)) continue;
    for (let k = 1; k < l.length; k++) {
      const flow = nextFlow++;
      ((items[l[k - 1]!] as TeItem).flows ??= []).push(flow);
      ((items[l[k]!] as TeItem).term ??= []).push(flow);
    }
  }

  // ---- write ----
  const annotate = (te: Pb, e: TraceEvent) => {
    te.msg(TE.debug_annotations, new Pb().str(DA.name, 'id').str(DA.string_value, `#${fmtId(e.id)}`));
    const def = defs.get(e.type);
    for (const [k, v] of Object.entries(e.fields)) {
      const a = new Pb().str(DA.name, k);
      const en = typeof v === 'number' ? enumName(def?.fields.find((s) => s.name === k)?.enumName, v) : undefined;
      if ((REFS as readonly string[]).includes(k) && (typeof v === 'number' || typeof v === 'bigint')) a.str(DA.string_value, v ? `#${fmtId(v)}` : '-');
      else if (en !== undefined) a.str(DA.string_value, `${en} (${String(v)})`);
      else if (typeof v === 'string') a.str(DA.string_value, v);
      else if (v instanceof Uint8Array) a.str(DA.string_value, Array.from(v, (b) => b.toString(16).padStart(2, '0')).join(''));
      else if (v < 0) a.int(DA.int_value, v);
      else a.uint(DA.uint_value, v);
      te.msg(TE.debug_annotations, a);
    }
  };
  const bundles = new Map<number, { pb: Pb; n: number }>();
  const flushBundle = (cpu: number) => {
    const b = bundles.get(cpu);
    if (!b || !b.n) return;
    packet(new Pb().msg(P.ftrace_events, b.pb));
    bundles.delete(cpu);
  };
  for (const it of items) {
    if (!('type' in it)) {
      let b = bundles.get(it.cpu);
      if (!b) bundles.set(it.cpu, (b = { pb: new Pb().uint(FB.cpu, it.cpu), n: 0 }));
      b.pb.msg(FB.event, it.body);
      if (++b.n >= BUNDLE_MAX) flushBundle(it.cpu);
      continue;
    }
    const te = new Pb().uint(TE.type, it.type).uint(TE.track_uuid, it.track);
    if (it.type === TYPE.counter) te.int(TE.counter_value, it.counter ?? 0);
    else if (it.type !== TYPE.end && it.e) {
      te.str(TE.categories, it.e.cls);
      if (it.name !== undefined) te.str(TE.name, it.name);
      for (const fl of it.flows ?? []) te.fixed64(TE.flow_ids, fl);
      for (const fl of it.term ?? []) te.fixed64(TE.terminating_flow_ids, fl);
      annotate(te, it.e);
    }
    packet(seqPacket().uint(P.timestamp, it.ts).msg(P.track_event, te));
  }
  for (const cpu of [...bundles.keys()].sort((a, b) => a - b)) flushBundle(cpu);
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
