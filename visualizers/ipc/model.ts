/*
 * model.ts — the IPC lanes view model: IPC trace events in, lifelines / operations / messages /
 * conversations out. Pure (no DOM), columnar, append-only, built for a million events.
 *
 *   add(ev) ─▶ processes, threads          (objects: few)
 *            ─▶ ops       one per ipc_submit: who, when, which lane, actions, payload, and how it
 *                         ended (matched → completed | cancelled (by what) | end-of-lane | error)
 *            ─▶ messages  one per ipc_match, in time order (binary search on time): an arrow from
 *                         the giving side (offer/send/push/imbue) to the other, at match time
 *            ─▶ convs     one per stream; a child stream created by offer/accept is a conversation
 *                         nested under the stream it was offered on (any depth; a match that
 *                         would nest a conversation in itself or its own descendant is refused)
 *
 * Storage: typed-array columns grown by doubling (no object per op or message); payload heads in
 * one byte arena (32 bytes per op). Time order: a match older than the previous one (CPUs merged
 * late) is clamped to the previous time so binary search stays valid (`clamped` counts them).
 */
import { ACTION_NAMES, DEFAULT_RESULTS, isGiving, type Id, type IpcEvent, type MessageDecoder, type ResultCodes } from './events.js';

export const PAYLOAD_MAX = 32;

/** How an operation ended. */
export const OpEnd = { Pending: 0, Completed: 1, Error: 2, Cancelled: 3, EndOfLane: 4 } as const;
export type OpEndKind = (typeof OpEnd)[keyof typeof OpEnd];
export const OP_END_NAMES = ['pending', 'completed', 'error', 'cancelled', 'end of lane'];

/** Message flags. */
export const MsgFlag = { Error: 1, OpensConversation: 2 } as const;

export interface ThreadInfo {
  tid: number;
  pid: number;
  name: string;
  createNs: number;
}

export interface ProcessInfo {
  pid: number;
  parent: number;
  name: string;
  createNs: number;
  exitNs: number;
  exitCode: number;
  /** order of first appearance (lifeline order) */
  order: number;
  threads: Map<number, ThreadInfo>;
  ops: number;
}

export interface Conversation {
  idx: number;
  stream: Id;
  parent: number;
  depth: number;
  children: number[];
  /** message that created it (offer/accept), -1 for a root stream */
  openedBy: number;
  /** processes on lane 0 and lane 1 (-1 until seen) */
  lanePid: [number, number];
  firstNs: number;
  lastNs: number;
  messages: number;
  firstMsg: number;
  lastMsg: number;
  /** this conversation and every nested one */
  subMessages: number;
  subFirstNs: number;
  subLastNs: number;
  ops: number;
  cancels: number;
  errors: number;
  /** first end-of-lane seen on it */
  endedNs: number;
  /** hue in degrees, stable per conversation */
  hue: number;
  /** first decoded message type seen on it ('' if none) */
  firstType: string;
}

export interface IpcModelOptions {
  results?: ResultCodes;
  decoder?: MessageDecoder;
}

function grow<T extends Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Stream ids, tags and event ids as Map keys: a bigint that fits becomes a number. */
export function idKey(v: Id): number | bigint {
  if (typeof v === 'bigint') return v <= 9007199254740991n && v >= -9007199254740991n ? Number(v) : v;
  return v;
}

export function idNum(v: Id): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * Event id → op index: open addressing over typed arrays (no per-entry objects; several times
 * cheaper than a Map for a million double-valued ids). Ids that are bigints (> 2^53) go to a Map.
 */
export class IdIndex {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  private size = 0;
  private big = new Map<bigint, number>();

  constructor(cap = 1 << 12) {
    this.keys = new Float64Array(cap).fill(NaN);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }

  private slot(k: number): number {
    const lo = k % 4294967296 | 0;
    const hi = (k / 4294967296) | 0;
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & this.mask;
  }

  set(id: Id, v: number): void {
    const k = idKey(id);
    if (typeof k === 'bigint') {
      this.big.set(k, v);
      return;
    }
    if ((this.size + 1) * 2 > this.mask) this.rehash();
    const K = this.keys;
    let i = this.slot(k);
    while (K[i] === K[i] && K[i] !== k) i = (i + 1) & this.mask;
    if (K[i] !== K[i]) this.size++;
    K[i] = k;
    this.vals[i] = v;
  }

  get(id: Id): number | undefined {
    const k = idKey(id);
    if (typeof k === 'bigint') return this.big.get(k);
    const K = this.keys;
    let i = this.slot(k);
    while (K[i] === K[i]) {
      if (K[i] === k) return this.vals[i];
      i = (i + 1) & this.mask;
    }
    return undefined;
  }

  private rehash(): void {
    const ok = this.keys;
    const ov = this.vals;
    const cap = (this.mask + 1) * 2;
    this.keys = new Float64Array(cap).fill(NaN);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < ok.length; i++) if (ok[i] === ok[i]) this.set(ok[i]!, ov[i]!);
  }

  bytes(): number {
    return this.keys.byteLength + this.vals.byteLength;
  }
}

const GOLDEN = 137.50776;

/** A stable, well-spread hue per conversation, avoiding the reds used for errors. */
export function convHue(i: number): number {
  return 25 + ((200 + i * GOLDEN) % 310);
}

export class IpcModel {
  readonly results: ResultCodes;
  decoder: MessageDecoder | undefined;

  // ---- processes, threads, conversations (objects)
  readonly processes = new Map<number, ProcessInfo>();
  readonly processOrder: ProcessInfo[] = [];
  readonly threads = new Map<number, ThreadInfo>();
  readonly convs: Conversation[] = [];
  private convByStream = new Map<number | bigint, number>();
  /** interned message type names (messages.type indexes this; -1 none) */
  readonly typeNames: string[] = [];
  private typeIdx = new Map<string, number>();

  // ---- ops (one per submit), columns
  opCount = 0;
  opNs = new Float64Array(1024);
  opId = new Float64Array(1024);
  opCpu = new Uint16Array(1024);
  opPid = new Uint32Array(1024);
  opTid = new Uint32Array(1024);
  opLane = new Uint8Array(1024);
  opConv = new Int32Array(1024);
  opTag = new Float64Array(1024);
  opBytes = new Float64Array(1024);
  opAct0 = new Uint32Array(1024); // actions 0..7, 4 bits each
  opAct1 = new Uint32Array(1024); // actions 8..15
  opNact = new Uint8Array(1024);
  opRet = new Float64Array(1024);
  opPayLen = new Uint8Array(1024);
  opPayload = new Uint8Array(1024 * PAYLOAD_MAX);
  opMsg = new Int32Array(1024);
  opEnd = new Uint8Array(1024);
  opEndNs = new Float64Array(1024);
  opEndCpu = new Uint16Array(1024);
  opResult = new Float64Array(1024);
  opRecvBytes = new Float64Array(1024);
  opCancelCause = new Float64Array(1024);
  opCancelPid = new Uint32Array(1024);
  opCancelTid = new Uint32Array(1024);
  opCancelNs = new Float64Array(1024);
  private opById = new IdIndex();
  /** ops in blocks of 1024 (submit order): an upper bound of each block's end time (pending = ∞) */
  blockMaxEnd = new Float64Array(64);
  private blockDirty = new Uint8Array(64);

  // ---- messages (one per match), columns, time-ordered
  msgCount = 0;
  msgNs = new Float64Array(1024);
  msgId = new Float64Array(1024);
  msgCpu = new Uint16Array(1024);
  msgConv = new Int32Array(1024);
  msgSrc = new Int32Array(1024); // op index of the giving side
  msgDst = new Int32Array(1024);
  msgResult = new Int32Array(1024);
  msgChild = new Int32Array(1024); // conversation it opened, -1
  msgFlags = new Uint8Array(1024);
  msgType = new Int32Array(1024);
  msgPrevOnStream = new Int32Array(1024);
  msgNextOnStream = new Int32Array(1024);

  // ---- totals
  firstNs = NaN;
  lastNs = NaN;
  events = 0;
  /** matches/completions/cancels whose submit was never seen (trace started mid-way) */
  orphans = 0;
  /** matches whose child stream is already the conversation itself or one of its ancestors: the
   * nesting they ask for would be a cycle, so they are drawn but nest nothing */
  cycles = 0;
  /** submits seen twice (same event id): ignored */
  duplicates = 0;
  clamped = 0;
  cancels = 0;
  errors = 0;
  endOfLanes = 0;
  /** bumped on every change (renderers redraw when it moves) */
  version = 0;
  private listeners = new Set<() => void>();

  constructor(opts: IpcModelOptions = {}) {
    this.results = opts.results ?? DEFAULT_RESULTS;
    this.decoder = opts.decoder;
  }

  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Add a batch (live) and notify listeners once. */
  addAll(evs: Iterable<IpcEvent>): void {
    for (const e of evs) this.add(e);
    this.changed();
  }

  changed(): void {
    this.version++;
    for (const f of this.listeners) f();
  }

  add(e: IpcEvent): void {
    this.events++;
    const ns = e.ns;
    if (ns === ns) {
      if (!(ns >= this.firstNs)) this.firstNs = ns;
      if (!(ns <= this.lastNs)) this.lastNs = ns;
    }
    switch (e.kind) {
      case 'process': {
        const p = this.process(e.pid, ns);
        p.name = e.name;
        p.parent = e.parent;
        p.createNs = ns;
        break;
      }
      case 'process_exit': {
        const p = this.process(e.pid, ns);
        p.exitNs = ns;
        p.exitCode = e.code;
        break;
      }
      case 'thread': {
        const p = this.process(e.pid, ns);
        const t: ThreadInfo = { tid: e.tid, pid: e.pid, name: e.name, createNs: ns };
        p.threads.set(e.tid, t);
        this.threads.set(e.tid, t);
        break;
      }
      case 'submit':
        this.submit(e);
        break;
      case 'match':
        this.match(e);
        break;
      case 'complete': {
        const op = this.opById.get(e.cause);
        if (op === undefined) {
          this.orphans++;
          break;
        }
        this.opRecvBytes[op] = e.bytes;
        this.opEndCpu[op] = e.cpu;
        const r = this.results;
        if (this.opEnd[op] === OpEnd.Cancelled) {
          this.opResult[op] = e.result; // the completion of a cancelled op (exactly once)
          this.opEndNs[op] = ns;
        } else {
          this.endOp(op, ns, e.result === r.ok || e.result > 0 ? OpEnd.Completed : e.result === r.cancelled ? OpEnd.Cancelled : e.result === r.endOfLane ? OpEnd.EndOfLane : OpEnd.Error, e.result);
        }
        break;
      }
      case 'cancel': {
        const op = this.opById.get(e.target);
        if (op === undefined) {
          this.orphans++;
          break;
        }
        this.opCancelCause[op] = idNum(e.cause);
        this.opCancelPid[op] = e.pid;
        this.opCancelTid[op] = e.tid;
        this.opCancelNs[op] = ns;
        if (this.opEnd[op] === OpEnd.Pending) this.endOp(op, ns, OpEnd.Cancelled, this.results.cancelled);
        else if (this.opEnd[op] !== OpEnd.Cancelled) {
          // lost the race with the peer: it completed normally; keep that, note the attempt
        }
        break;
      }
    }
  }

  private process(pid: number, ns: number): ProcessInfo {
    let p = this.processes.get(pid);
    if (!p) {
      p = { pid, parent: 0, name: `pid ${pid}`, createNs: ns, exitNs: NaN, exitCode: 0, order: this.processOrder.length, threads: new Map(), ops: 0 };
      this.processes.set(pid, p);
      this.processOrder.push(p);
    }
    return p;
  }

  /** The conversation of a stream (created on first sight). */
  conv(stream: Id, ns: number): number {
    const k = idKey(stream);
    let i = this.convByStream.get(k);
    if (i === undefined) {
      i = this.convs.length;
      this.convs.push({
        idx: i, stream, parent: -1, depth: 0, children: [], openedBy: -1, lanePid: [-1, -1], firstNs: ns, lastNs: ns, messages: 0, firstMsg: -1, lastMsg: -1,
        subMessages: 0, subFirstNs: NaN, subLastNs: NaN, ops: 0, cancels: 0, errors: 0, endedNs: NaN, hue: convHue(i), firstType: '',
      });
      this.convByStream.set(k, i);
    }
    return i;
  }

  convOfStream(stream: Id): number {
    return this.convByStream.get(idKey(stream)) ?? -1;
  }

  private growOps(): void {
    const n = this.opNs.length * 2;
    this.opNs = grow(this.opNs, n);
    this.opId = grow(this.opId, n);
    this.opCpu = grow(this.opCpu, n);
    this.opPid = grow(this.opPid, n);
    this.opTid = grow(this.opTid, n);
    this.opLane = grow(this.opLane, n);
    this.opConv = grow(this.opConv, n);
    this.opTag = grow(this.opTag, n);
    this.opBytes = grow(this.opBytes, n);
    this.opAct0 = grow(this.opAct0, n);
    this.opAct1 = grow(this.opAct1, n);
    this.opNact = grow(this.opNact, n);
    this.opRet = grow(this.opRet, n);
    this.opPayLen = grow(this.opPayLen, n);
    this.opPayload = grow(this.opPayload, n * PAYLOAD_MAX);
    this.opMsg = grow(this.opMsg, n);
    this.opEnd = grow(this.opEnd, n);
    this.opEndNs = grow(this.opEndNs, n);
    this.opEndCpu = grow(this.opEndCpu, n);
    this.opResult = grow(this.opResult, n);
    this.opRecvBytes = grow(this.opRecvBytes, n);
    this.opCancelCause = grow(this.opCancelCause, n);
    this.opCancelPid = grow(this.opCancelPid, n);
    this.opCancelTid = grow(this.opCancelTid, n);
    this.opCancelNs = grow(this.opCancelNs, n);
    const nb = (n >> 10) + 1;
    if (nb > this.blockMaxEnd.length) {
      this.blockMaxEnd = grow(this.blockMaxEnd, nb * 2);
      this.blockDirty = grow(this.blockDirty, nb * 2);
    }
  }

  private submit(e: import('./events.js').SubmitEvent): void {
    // The same submit twice (read early from the kernel's ring at a breakpoint, then drained):
    // the first copy stands.
    if (this.opById.get(e.id) !== undefined) {
      this.duplicates++;
      return;
    }
    if (this.opCount === this.opNs.length) this.growOps();
    const i = this.opCount++;
    const c = this.conv(e.stream, e.ns);
    const cv = this.convs[c]!;
    cv.ops++;
    const lane = e.lane ? 1 : 0;
    if (cv.lanePid[lane] < 0) cv.lanePid[lane] = e.pid;
    this.process(e.pid, e.ns).ops++;
    this.opNs[i] = e.ns;
    this.opId[i] = idNum(e.id);
    this.opCpu[i] = e.cpu;
    this.opPid[i] = e.pid;
    this.opTid[i] = e.tid;
    this.opLane[i] = lane;
    this.opConv[i] = c;
    this.opTag[i] = idNum(e.tag);
    this.opBytes[i] = e.bytes;
    const acts = e.actions;
    const n = Math.min(acts.length, 16);
    let a0 = 0;
    let a1 = 0;
    for (let k = 0; k < n; k++) {
      const v = acts[k]! & 15;
      if (k < 8) a0 |= v << (k * 4);
      else a1 |= v << ((k - 8) * 4);
    }
    this.opAct0[i] = a0 >>> 0;
    this.opAct1[i] = a1 >>> 0;
    this.opNact[i] = n;
    this.opRet[i] = idNum(e.retAddr);
    const p = e.payload;
    const pl = p ? Math.min(p.length, PAYLOAD_MAX) : 0;
    if (pl) this.opPayload.set(p!.subarray(0, pl), i * PAYLOAD_MAX);
    this.opPayLen[i] = pl;
    this.opMsg[i] = -1;
    this.opEnd[i] = OpEnd.Pending;
    this.opEndNs[i] = NaN;
    this.opResult[i] = 0;
    this.opRecvBytes[i] = 0;
    this.opCancelCause[i] = 0;
    this.opCancelNs[i] = NaN;
    this.opById.set(e.id, i);
    const b = i >> 10;
    this.blockMaxEnd[b] = Infinity;
  }

  private endOp(op: number, ns: number, kind: OpEndKind, result: number): void {
    this.opEnd[op] = kind;
    this.opEndNs[op] = ns;
    this.opResult[op] = result;
    this.blockDirty[op >> 10] = 1;
    const cv = this.convs[this.opConv[op]!]!;
    if (kind === OpEnd.Cancelled) {
      this.cancels++;
      cv.cancels++;
    } else if (kind === OpEnd.EndOfLane) {
      this.endOfLanes++;
      if (!(cv.endedNs <= ns)) cv.endedNs = ns;
    } else if (kind === OpEnd.Error) {
      this.errors++;
      cv.errors++;
    }
  }

  /** Upper bound of the end time of every op in block b (recomputed when an op in it ended). */
  blockEnd(b: number): number {
    if (this.blockDirty[b]) {
      this.blockDirty[b] = 0;
      const lo = b << 10;
      const hi = Math.min(this.opCount, lo + 1024);
      let m = -Infinity;
      for (let i = lo; i < hi; i++) {
        const e = this.opEndNs[i]!;
        if (e !== e) {
          m = Infinity;
          break;
        }
        if (e > m) m = e;
      }
      this.blockMaxEnd[b] = m;
    }
    return this.blockMaxEnd[b]!;
  }

  private growMsgs(): void {
    const n = this.msgNs.length * 2;
    this.msgNs = grow(this.msgNs, n);
    this.msgId = grow(this.msgId, n);
    this.msgCpu = grow(this.msgCpu, n);
    this.msgConv = grow(this.msgConv, n);
    this.msgSrc = grow(this.msgSrc, n);
    this.msgDst = grow(this.msgDst, n);
    this.msgResult = grow(this.msgResult, n);
    this.msgChild = grow(this.msgChild, n);
    this.msgFlags = grow(this.msgFlags, n);
    this.msgType = grow(this.msgType, n);
    this.msgPrevOnStream = grow(this.msgPrevOnStream, n);
    this.msgNextOnStream = grow(this.msgNextOnStream, n);
  }

  private match(e: import('./events.js').MatchEvent): void {
    const a = this.opById.get(e.cause);
    const b = this.opById.get(idKey(e.other));
    if (a === undefined || b === undefined) {
      this.orphans++;
      return;
    }
    if (this.msgCount === this.msgNs.length) this.growMsgs();
    const m = this.msgCount++;
    let ns = e.ns;
    if (m > 0 && ns < this.msgNs[m - 1]!) {
      ns = this.msgNs[m - 1]!;
      this.clamped++;
    }
    // the giving side (offer/send/push/imbue first) is the source; a tie: the earlier submit (b)
    const ga = isGiving(this.opAct0[a]! & 15);
    const gb = isGiving(this.opAct0[b]! & 15);
    const src = ga && !gb ? a : b;
    const dst = src === a ? b : a;
    const c = this.conv(e.stream, ns);
    this.msgNs[m] = ns;
    this.msgId[m] = idNum(e.id);
    this.msgCpu[m] = e.cpu;
    this.msgConv[m] = c;
    this.msgSrc[m] = src;
    this.msgDst[m] = dst;
    this.msgResult[m] = e.result;
    this.opMsg[a] = m;
    this.opMsg[b] = m;
    let flags = 0;
    if (e.result !== this.results.ok && e.result < 0) {
      flags |= MsgFlag.Error;
      const cv = this.convs[c]!;
      cv.errors++;
      this.errors++;
    }
    let child = -1;
    const ck = idKey(e.childStream);
    if (ck !== 0 && ck !== 0n) {
      child = this.conv(e.childStream, ns);
      const cc = this.convs[child]!;
      if (cc.openedBy < 0 && this.inSubtree(c, child)) this.cycles++; // child is c or an ancestor of c: refuse
      else if (cc.openedBy < 0) {
        cc.openedBy = m;
        cc.parent = c;
        cc.depth = this.convs[c]!.depth + 1;
        this.convs[c]!.children.push(child);
      }
      flags |= MsgFlag.OpensConversation;
    }
    this.msgChild[m] = child;
    this.msgFlags[m] = flags;
    // decoded type of the payload (from the giving side)
    let t = -1;
    const dec = this.decoder;
    if (dec) {
      const pl = this.opPayLen[src]!;
      if (pl) {
        const name = dec.typeOf(this.opPayload.subarray(src * PAYLOAD_MAX, src * PAYLOAD_MAX + pl));
        if (name) {
          t = this.typeIdx.get(name) ?? -1;
          if (t < 0) {
            t = this.typeNames.length;
            this.typeNames.push(name);
            this.typeIdx.set(name, t);
          }
        }
      }
    }
    this.msgType[m] = t;
    // per-stream chain and conversation totals
    const cv = this.convs[c]!;
    this.msgPrevOnStream[m] = cv.lastMsg;
    this.msgNextOnStream[m] = -1;
    if (cv.lastMsg >= 0) this.msgNextOnStream[cv.lastMsg] = m;
    else cv.firstMsg = m;
    cv.lastMsg = m;
    cv.messages++;
    cv.lastNs = ns;
    if (t >= 0 && !cv.firstType) cv.firstType = this.typeNames[t]!;
    for (let k = c, steps = this.convs.length; k >= 0 && steps-- > 0; k = this.convs[k]!.parent) {
      const x = this.convs[k]!;
      x.subMessages++;
      if (!(x.subFirstNs <= ns)) x.subFirstNs = ns;
      x.subLastNs = ns;
    }
  }

  // ---------------------------------------------------------------- queries

  /** First message with time ≥ ns (binary search). */
  msgLowerBound(ns: number): number {
    let lo = 0;
    let hi = this.msgCount;
    const a = this.msgNs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < ns) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First op submitted at time ≥ ns. */
  opLowerBound(ns: number): number {
    let lo = 0;
    let hi = this.opCount;
    const a = this.opNs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < ns) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  opActions(op: number): number[] {
    const n = this.opNact[op]!;
    const out: number[] = [];
    for (let k = 0; k < n; k++) out.push(k < 8 ? (this.opAct0[op]! >>> (k * 4)) & 15 : (this.opAct1[op]! >>> ((k - 8) * 4)) & 15);
    return out;
  }

  opPayloadBytes(op: number): Uint8Array {
    return this.opPayload.slice(op * PAYLOAD_MAX, op * PAYLOAD_MAX + this.opPayLen[op]!);
  }

  opOfId(id: Id): number {
    return this.opById.get(id) ?? -1;
  }

  /** The conversation a message belongs to for stepping: the one it opens, else its stream's. */
  msgConversation(m: number): number {
    const ch = this.msgChild[m]!;
    return ch >= 0 ? ch : this.msgConv[m]!;
  }

  /** Is conversation c equal to or nested in anc? */
  inSubtree(c: number, anc: number): boolean {
    // Nesting never makes a cycle (match() refuses it); the bound makes every walk finite anyway.
    for (let k = c, steps = this.convs.length; k >= 0 && steps-- > 0; k = this.convs[k]!.parent) if (k === anc) return true;
    return false;
  }

  /** c's ancestors, nearest first (at most convs.length of them, whatever the data). */
  ancestors(c: number): number[] {
    const out: number[] = [];
    for (let k = this.convs[c]?.parent ?? -1; k >= 0 && out.length < this.convs.length; k = this.convs[k]!.parent) out.push(k);
    return out;
  }

  /** Mask over conversations: 1 for root and everything nested in it. */
  subtreeMask(root: number): Uint8Array {
    const mask = new Uint8Array(this.convs.length);
    const stack = [root];
    while (stack.length) {
      const c = stack.pop()!;
      if (mask[c]) continue; // each conversation once, even if the nesting were cyclic
      mask[c] = 1;
      for (const ch of this.convs[c]!.children) stack.push(ch);
    }
    return mask;
  }

  /** Next (dir 1) / previous (-1) message on the same stream (lane pair) as m. */
  stepLane(m: number, dir: 1 | -1): number {
    return dir > 0 ? this.msgNextOnStream[m]! : this.msgPrevOnStream[m]!;
  }

  /**
   * Next / previous message in m's conversation (the conversation it opens or is on, with
   * every conversation nested in it, and the message that opened it), in time order.
   */
  stepConversation(m: number, dir: 1 | -1, conv = this.msgConversation(m)): number {
    const mask = this.subtreeMask(conv);
    const opener = this.convs[conv]!.openedBy;
    const mc = this.msgConv;
    const mch = this.msgChild;
    for (let i = m + dir; i >= 0 && i < this.msgCount; i += dir) {
      if (i === opener || mask[mc[i]!] || (mch[i]! >= 0 && mask[mch[i]!])) return i;
    }
    return -1;
  }

  /** Type name of message m ('' when unknown). */
  msgTypeName(m: number): string {
    const t = this.msgType[m]!;
    return t >= 0 ? this.typeNames[t]! : '';
  }

  /** Short label: actions paired, e.g. "offer/accept · send 24 B/recv_inline · push_desc/pull_desc". */
  msgLabel(m: number): string {
    const s = this.msgSrc[m]!;
    const d = this.msgDst[m]!;
    const as = this.opActions(s);
    const ad = this.opActions(d);
    const parts: string[] = [];
    for (let k = 0; k < Math.max(as.length, ad.length); k++) {
      const x = ACTION_NAMES[as[k] ?? 0] ?? '?';
      const y = ACTION_NAMES[ad[k] ?? 0] ?? '?';
      const size = as[k] === 3 ? ` ${fmtBytes(this.opBytes[s]!)}` : '';
      parts.push(`${x}${size}/${y}`);
    }
    const t = this.msgTypeName(m);
    return t ? `${parts.join(' · ')} ${t}` : parts.join(' · ');
  }

  resultName(r: number): string {
    return this.results.names[r] ?? String(r);
  }

  /** Everything the detail panel shows about one side (operation) of a message, or a pending op. */
  opDetail(op: number): SideDetail {
    const acts = this.opActions(op);
    const pl = this.opPayloadBytes(op);
    const dec = pl.length && this.decoder ? this.decoder.decode(pl) : undefined;
    const endNs = this.opEndNs[op]!;
    return {
      op,
      pid: this.opPid[op]!,
      process: this.processes.get(this.opPid[op]!)?.name ?? '',
      tid: this.opTid[op]!,
      thread: this.threads.get(this.opTid[op]!)?.name ?? '',
      cpu: this.opCpu[op]!,
      endCpu: this.opEndNs[op] === this.opEndNs[op] ? this.opEndCpu[op]! : -1,
      lane: this.opLane[op]!,
      tag: this.opTag[op]!,
      actions: acts.map((a) => ACTION_NAMES[a] ?? `action ${a}`),
      bytes: this.opBytes[op]!,
      recvBytes: this.opRecvBytes[op]!,
      descriptors: acts.filter((a) => a === 6 || a === 7).length,
      credentials: acts.some((a) => a === 8 || a === 9),
      submitNs: this.opNs[op]!,
      endNs,
      latencyNs: endNs === endNs ? endNs - this.opNs[op]! : NaN,
      end: OP_END_NAMES[this.opEnd[op]!]!,
      result: this.resultName(this.opResult[op]!),
      retAddr: this.opRet[op]!,
      payloadHex: hex(pl),
      decoded: dec?.text ?? '',
      cancelledBy: this.opCancelNs[op] === this.opCancelNs[op] ? this.cancelText(op) : '',
    };
  }

  /** Decoded message type of an op's payload ('' when unknown). */
  opTypeName(op: number): string {
    const pl = this.opPayloadBytes(op);
    return pl.length && this.decoder ? this.decoder.typeOf(pl) ?? '' : '';
  }

  /** Everything the detail panel shows about message m. */
  messageDetail(m: number): MessageDetail {
    const side = (op: number): SideDetail => this.opDetail(op);
    const c = this.msgConv[m]!;
    return {
      msg: m,
      ns: this.msgNs[m]!,
      conversation: c,
      opens: this.msgChild[m]!,
      result: this.resultName(this.msgResult[m]!),
      error: (this.msgFlags[m]! & MsgFlag.Error) !== 0,
      type: this.msgTypeName(m),
      label: this.msgLabel(m),
      src: side(this.msgSrc[m]!),
      dst: side(this.msgDst[m]!),
    };
  }

  /** "cancelled by pid 4 (tid 7) at …; cause: request #id (op on lane …)". */
  cancelText(op: number): string {
    const pid = this.opCancelPid[op]!;
    const p = this.processes.get(pid);
    const cause = this.opCancelCause[op]!;
    const causeOp = cause ? this.opOfId(cause) : -1;
    let what = cause ? `event #${cause.toString(16)}` : 'unknown cause';
    if (causeOp >= 0) what = `ipc submit by pid ${this.opPid[causeOp]} tag ${this.opTag[causeOp]}`;
    return `${p ? p.name : `pid ${pid}`} (tid ${this.opCancelTid[op]}), cause: ${what}`;
  }

  /** Messages whose decoded type or label matches the query (case-insensitive substring). */
  search(query: string, limit = Infinity): number[] {
    const q = query.trim().toLowerCase();
    const out: number[] = [];
    if (!q) return out;
    const types = new Uint8Array(this.typeNames.length);
    let any = false;
    this.typeNames.forEach((n, i) => {
      if (n.toLowerCase().includes(q)) {
        types[i] = 1;
        any = true;
      }
    });
    if (!any) return out;
    for (let m = 0; m < this.msgCount && out.length < limit; m++) {
      const t = this.msgType[m]!;
      if (t >= 0 && types[t]) out.push(m);
    }
    return out;
  }

  /** Approximate bytes held by the columns. */
  memoryBytes(): number {
    let n = 0;
    for (const v of Object.values(this)) if (ArrayBuffer.isView(v)) n += v.byteLength;
    return n + this.opById.bytes();
  }
}

export interface SideDetail {
  op: number;
  pid: number;
  process: string;
  tid: number;
  thread: string;
  cpu: number;
  endCpu: number;
  lane: number;
  tag: number;
  actions: string[];
  bytes: number;
  recvBytes: number;
  descriptors: number;
  credentials: boolean;
  submitNs: number;
  endNs: number;
  latencyNs: number;
  end: string;
  result: string;
  retAddr: number;
  payloadHex: string;
  decoded: string;
  cancelledBy: string;
}

export interface MessageDetail {
  msg: number;
  ns: number;
  conversation: number;
  opens: number;
  result: string;
  error: boolean;
  type: string;
  label: string;
  src: SideDetail;
  dst: SideDetail;
}

export function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ' ' : '') + b[i]!.toString(16).padStart(2, '0');
  return s;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${+(n / 1048576).toFixed(1)} MiB`;
}

export { fmtNs } from '../common/time.js';
