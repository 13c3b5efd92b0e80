/*
 * sim.ts — a small simulator of LaneOS IPC lanes that emits the trace events the kernel would
 * (ipc_submit / ipc_match / ipc_complete / ipc_cancel, proc_create, thread_create), following
 * issue 4's rules: a submission pairs with the oldest pending one on the peer lane; actions pair in
 * order (offer↔accept creates a child stream, send↔recv, push↔pull, imbue↔extract); a mismatch
 * fails both; closing a lane fails the peer's pending and future operations with end-of-lane;
 * cancellation completes a pending operation exactly once with CANCELLED.
 *
 * Used for test fixtures (until traces recorded from LaneOS's ipc-demo replace them), for the
 * 1M-event load test and the benchmark, and by app/ tests that push the same scenario through
 * the real trace encoder and decoder. `demoScenario` mirrors ipc-demo: a client and two servers,
 * nested conversations, a descriptor transfer and a cancelled pending request, in a loop.
 */
import { IpcAction as A, DEFAULT_RESULTS, isGiving, type IpcEvent, type ResultCodes } from './events.js';
import { tableDecoder, type MsgTypeSpec } from './messages.js';

/** An action queued on the conversation its offer/accept opens (the kernel's ANCILLARY flag). */
export interface Ancillary {
  action: number;
  payload?: Uint8Array;
  bytes?: number;
  ret?: number;
}

interface PendingOp {
  anc?: Ancillary[] | undefined;
  id: number;
  pid: number;
  tid: number;
  tag: number;
  actions: number[];
  bytes: number;
  stream: number;
  lane: number;
}

interface SimStream {
  id: number;
  queues: [PendingOp[], PendingOp[]];
  closed: [boolean, boolean];
}

export interface SimOptions {
  ncpus?: number;
  results?: ResultCodes;
  /** ns between consecutive events */
  stepNs?: number;
}

/**
 * The LaneOS message types the demo uses, with the layouts os/abi/genmsg.py generates from
 * os/abi/messages.toml (u32 word 0x4c4d0000 | id, then the fields at their offsets), so the
 * simulator's payloads decode with the real generated decoders too.
 */
export const DEMO_MESSAGES: MsgTypeSpec[] = [
  { word: 0x4c4d0101, type: 'posix.Read', fields: [{ name: 'fd', type: 'i32', offset: 4, size: 4 }, { name: 'size', type: 'u64', offset: 8, size: 8 }] },
  { word: 0x4c4d0103, type: 'posix.Reply', fields: [{ name: 'error', type: 'i32', offset: 4, size: 4 }, { name: 'value', type: 'i64', offset: 8, size: 8 }] },
  { word: 0x4c4d0401, type: 'demo.Hello', fields: [{ name: 'round', type: 'u32', offset: 4, size: 4 }, { name: 'who', type: 'char', offset: 8, size: 16 }] },
  { word: 0x4c4d0402, type: 'demo.Compute', fields: [{ name: 'op', type: 'u32', offset: 4, size: 4 }, { name: 'a', type: 'i64', offset: 8, size: 8 }, { name: 'b', type: 'i64', offset: 16, size: 8 }] },
  { word: 0x4c4d0403, type: 'demo.Result', fields: [{ name: 'error', type: 'i32', offset: 4, size: 4 }, { name: 'value', type: 'i64', offset: 8, size: 8 }] },
];

/** A message payload in the LaneOS layout: encodeMsg('posix.Read', { fd: 3, size: 4096 }). */
export function encodeMsg(type: string, values: Record<string, number | string>): Uint8Array {
  const t = DEMO_MESSAGES.find((m) => m.type === type);
  if (!t) throw new Error(`sim: no message type ${type}`);
  const size = Math.max(...t.fields.map((f) => f.offset + f.size), 4);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, t.word, true);
  for (const f of t.fields) {
    const v = values[f.name] ?? 0;
    if (f.type === 'char') b.set(new TextEncoder().encode(String(v)).subarray(0, f.size - 1), f.offset);
    else if (f.size === 8) dv.setBigInt64(f.offset, BigInt(v), true);
    else dv.setInt32(f.offset, Number(v), true);
  }
  return b;
}

export const demoDecoder = tableDecoder(DEMO_MESSAGES);

export class IpcSim {
  ns = 1_000_000;
  private seq: number[];
  private streams = new Map<number, SimStream>();
  private nextStream = 0x1000;
  private nextTag = 1;
  private ops = new Map<number, PendingOp>();
  private submits: number[] = [];
  readonly results: ResultCodes;
  readonly ncpus: number;
  readonly stepNs: number;

  constructor(readonly emit: (e: IpcEvent) => void, o: SimOptions = {}) {
    this.ncpus = o.ncpus ?? 2;
    this.seq = new Array(this.ncpus).fill(0);
    this.results = o.results ?? DEFAULT_RESULTS;
    this.stepNs = o.stepNs ?? 1500;
  }

  private tick(cpu: number): { ns: number; id: number } {
    this.ns += this.stepNs;
    const s = ++this.seq[cpu]!;
    return { ns: this.ns, id: cpu * 2 ** 48 + s };
  }

  private cpuOf(pid: number): number {
    return pid % this.ncpus;
  }

  wait(ns: number): void {
    this.ns += ns;
  }

  process(pid: number, name: string, parent = 1): void {
    const t = this.tick(this.cpuOf(pid));
    this.emit({ kind: 'process', ns: t.ns, pid, parent, name });
  }

  thread(tid: number, pid: number, name: string): void {
    const t = this.tick(this.cpuOf(pid));
    this.emit({ kind: 'thread', ns: t.ns, tid, pid, name });
  }

  exit(pid: number, code: number): void {
    const t = this.tick(this.cpuOf(pid));
    this.emit({ kind: 'process_exit', ns: t.ns, pid, code });
  }

  /** A new stream; returns its id (lanes 0 and 1). */
  stream(): number {
    const id = this.nextStream++;
    this.streams.set(id, { id, queues: [[], []], closed: [false, false] });
    return id;
  }

  /**
   * Submit an action list on (stream, lane). Returns the submit's event id; if it matched, also
   * the child stream an offer/accept created (0 if none).
   */
  submit(pid: number, tid: number, stream: number, lane: number, actions: number[], o: { bytes?: number; payload?: Uint8Array; ret?: number; ancillary?: Ancillary[] } = {}): { id: number; tag: number; child: number } {
    const s = this.streams.get(stream);
    if (!s) throw new Error(`sim: no stream ${stream}`);
    const cpu = this.cpuOf(pid);
    const t = this.tick(cpu);
    const tag = this.nextTag++;
    const bytes = o.bytes ?? (actions.includes(A.Send) ? o.payload?.length ?? 0 : 0);
    this.emit({
      kind: 'submit', id: t.id, ns: t.ns, cpu, stream, conversation: stream, tag, bytes, actions, pid, tid, lane,
      retAddr: o.ret ?? 0x401000 + actions.length * 16 + lane, payload: o.payload,
    });
    this.submits.push(t.id);
    if (this.submits.length > 64) this.submits.splice(0, 32);
    const op: PendingOp = { id: t.id, pid, tid, tag, actions, bytes, stream, lane, anc: o.ancillary };
    const peer = 1 - lane;
    if (s.closed[peer]) {
      this.complete(op, this.results.endOfLane, 0);
      return { id: t.id, tag, child: 0 };
    }
    const other = s.queues[peer]!.shift();
    if (!other) {
      s.queues[lane]!.push(op);
      this.ops.set(t.id, op);
      return { id: t.id, tag, child: 0 };
    }
    this.ops.delete(other.id);
    // pair the actions in order
    let ok = actions.length === other.actions.length;
    let child = 0;
    for (let k = 0; ok && k < actions.length; k++) {
      const a = actions[k]!;
      const b = other.actions[k]!;
      const pair = (x: number, y: number) => (a === x && (y === b)) || (a === y && b === x);
      if (pair(A.Offer, A.Accept)) child = child || -1;
      else if (pair(A.Send, A.RecvInline) || pair(A.Send, A.RecvBuffer) || pair(A.PushDesc, A.PullDesc) || pair(A.ImbueCreds, A.ExtractCreds) || (a === A.Dismiss && b === A.Dismiss)) continue;
      else ok = false;
    }
    if (ok && child) child = this.stream();
    else child = 0;
    const m = this.tick(cpu);
    const result = ok ? this.results.ok : this.results.mismatch;
    this.emit({ kind: 'match', id: m.id, ns: m.ns, cpu, stream, conversation: stream, cause: t.id, other: other.id, childStream: child, result });
    const sendBytes = isGiving(actions[0] ?? 0) ? bytes : other.bytes;
    this.complete(other, result, ok ? sendBytes : 0);
    this.complete(op, result, ok ? sendBytes : 0);
    if (child) {
      // like the kernel: the giving side's ancillary actions go to lane 0 of the new
      // conversation, the other side's to lane 1, each as its own submission
      const giver = isGiving(actions[0] ?? 0) ? op : other;
      const taker = giver === op ? other : op;
      for (const a of giver.anc ?? []) this.submit(giver.pid, giver.tid, child, 0, [a.action], { payload: a.payload, bytes: a.bytes, ret: a.ret });
      for (const a of taker.anc ?? []) this.submit(taker.pid, taker.tid, child, 1, [a.action], { payload: a.payload, bytes: a.bytes, ret: a.ret });
    }
    return { id: t.id, tag, child };
  }

  private complete(op: PendingOp, result: number, bytes: number): void {
    const cpu = this.cpuOf(op.pid);
    const t = this.tick(cpu);
    this.emit({ kind: 'complete', id: t.id, ns: t.ns, cpu, stream: op.stream, tag: op.tag, cause: op.id, result, bytes, pid: op.pid, tid: op.tid });
  }

  /** Cancel a pending submit (by its id); cause = what asked for it. False if it already completed. */
  cancel(submitId: number, cause: number, pid: number, tid: number): boolean {
    const op = this.ops.get(submitId);
    const cpu = this.cpuOf(pid);
    const t = this.tick(cpu);
    this.emit({ kind: 'cancel', id: t.id, ns: t.ns, cpu, stream: op?.stream ?? 0, tag: op?.tag ?? 0, target: submitId, cause, pid, tid });
    if (!op) return false;
    this.ops.delete(submitId);
    const q = this.streams.get(op.stream)!.queues[op.lane]!;
    q.splice(q.indexOf(op), 1);
    this.complete(op, this.results.cancelled, 0);
    return true;
  }

  /** The last handle to a lane is closed: the peer's pending (and future) operations fail. */
  close(stream: number, lane: number): void {
    const s = this.streams.get(stream)!;
    s.closed[lane] = true;
    const peer = 1 - lane;
    for (const op of s.queues[peer]!.splice(0)) {
      this.ops.delete(op.id);
      this.complete(op, this.results.endOfLane, 0);
    }
  }

  /** Id of a recent submit: -1 the last, -2 the one before, ... */
  lastSubmitId(back: number): number {
    return this.submits[this.submits.length + back] ?? 0;
  }

  /** A marker event id usable as a cancel cause (e.g. the signal that interrupted a syscall). */
  causeId(pid: number): number {
    return this.tick(this.cpuOf(pid)).id;
  }
}

export const DEMO = { client: 10, serverA: 11, serverB: 12 } as const;

/**
 * The ipc-demo scenario, as the LaneOS kernel traces it (one ipc_submit per action; actions
 * flagged ANCILLARY on an offer/accept are submitted on the conversation it opens):
 * `iterations` rounds of
 *   client ─offer→ A on A's lane, opening conversation 1; in it ─send posix.Read→ A
 *     A ─offer→ B on B's lane, opening conversation 2; in it ─send demo.Compute→ B
 *       in conversation 2: B ─offer→ A opens conversation 3 (nested), ─push descriptor→ A
 *       in conversation 3: B ─imbue credentials→ A
 *     B ─send demo.Result→ A in 2; A ─send posix.Reply→ client in 1
 *   a mismatch in 1 (client sends demo.Hello, A expected a descriptor: both fail);
 *   the client's next wait in 1 is cancelled by a "signal";
 *   B closes its lane of conversation 2: A's pending receive there ends with end-of-lane.
 * One round is 50 events (plus 8 for the processes) and 10 messages.
 * Returns the submit ids of the first round's interesting operations.
 */
export function demoScenario(sim: IpcSim, iterations = 1): { first: Record<string, number> } {
  const { client, serverA, serverB } = DEMO;
  sim.process(1, 'init', 0);
  sim.process(client, 'ipc-demo', 1);
  sim.thread(client * 10, client, 'main');
  sim.process(serverA, 'demo-a', 1);
  sim.thread(serverA * 10, serverA, 'main');
  sim.process(serverB, 'demo-b', 1);
  sim.thread(serverB * 10, serverB, 'main');
  sim.thread(serverB * 10 + 1, serverB, 'worker');
  const laneA = sim.stream(); // client (0) ↔ A (1)
  const laneB = sim.stream(); // A (0) ↔ B (1)
  const first: Record<string, number> = {};
  const tc = client * 10;
  const ta = serverA * 10;
  const tb = serverB * 10;
  const recv: Ancillary[] = [{ action: A.RecvInline }];
  for (let i = 0; i < iterations; i++) {
    const rec = (k: string, v: number) => {
      if (i === 0) first[k] = v;
    };
    const mark = sim.lastSubmitId.bind(sim);
    // A and B wait for requests (accept, with a receive on the new conversation)
    rec('aAccept', sim.submit(serverA, ta, laneA, 1, [A.Accept], { ancillary: recv }).id);
    rec('bAccept', sim.submit(serverB, tb, laneB, 1, [A.Accept], { ancillary: recv }).id);
    sim.wait(20_000);
    // the client's request opens conversation 1 and sends posix.Read in it
    const req = sim.submit(client, tc, laneA, 0, [A.Offer], { ret: 0x401230, ancillary: [{ action: A.Send, payload: encodeMsg('posix.Read', { fd: 3, size: 4096 }), bytes: 16, ret: 0x401234 }] });
    rec('request', req.id);
    rec('requestSend', mark(-2));
    const conv1 = req.child;
    // A forwards to B: conversation 2
    const fwd = sim.submit(serverA, ta, laneB, 0, [A.Offer], { ret: 0x402100, ancillary: [{ action: A.Send, payload: encodeMsg('demo.Compute', { op: 1, a: i, b: 2 }), bytes: 24, ret: 0x402104 }] });
    rec('forward', fwd.id);
    const conv2 = fwd.child;
    // in conversation 2, B offers a nested conversation 3 and pushes a descriptor over it
    rec('nestedAccept', sim.submit(serverA, ta, conv2, 0, [A.Accept], { ancillary: [{ action: A.PullDesc }] }).id);
    const off3 = sim.submit(serverB, tb + 1, conv2, 1, [A.Offer], { ret: 0x403300, ancillary: [{ action: A.PushDesc, ret: 0x403310 }] });
    rec('nestedOffer', off3.id);
    rec('push', mark(-1));
    const conv3 = off3.child;
    // imbue/extract credentials in conversation 3
    sim.submit(serverA, ta, conv3, 0, [A.ExtractCreds]);
    rec('creds', sim.submit(serverB, tb + 1, conv3, 1, [A.ImbueCreds], { ret: 0x403340 }).id);
    // B replies in conversation 2
    sim.submit(serverA, ta, conv2, 0, [A.RecvInline]);
    sim.submit(serverB, tb, conv2, 1, [A.Send], { payload: encodeMsg('demo.Result', { error: 0, value: i + 2 }), bytes: 16 });
    // A replies in conversation 1
    sim.submit(client, tc, conv1, 0, [A.RecvInline], { ret: 0x401250 });
    const rep = sim.submit(serverA, ta, conv1, 1, [A.Send], { payload: encodeMsg('posix.Reply', { error: 0, value: 4096 }), bytes: 4112 });
    rec('reply', rep.id);
    // a mismatch: the client sends where A expected a descriptor; both fail
    rec('mismatchA', sim.submit(serverA, ta, conv1, 1, [A.PullDesc]).id);
    rec('mismatchClient', sim.submit(client, tc, conv1, 0, [A.Send], { payload: encodeMsg('demo.Hello', { round: i, who: 'ipc-demo' }), bytes: 24 }).id);
    // the client waits for more, then a signal cancels the wait
    const slow = sim.submit(client, tc, conv1, 0, [A.RecvInline]);
    rec('cancelled', slow.id);
    sim.wait(50_000);
    sim.cancel(slow.id, sim.causeId(client), client, tc);
    // A waits on conversation 2 again; B closes it: end of lane
    const eol = sim.submit(serverA, ta, conv2, 0, [A.RecvInline]);
    rec('endOfLane', eol.id);
    sim.close(conv2, 1);
    sim.wait(100_000);
  }
  return { first };
}
