/*
 * synth.ts — synthetic cancellation traces, record by record as LaneOS writes them (the
 * CANCEL-TRACE contract: sys_begin/sys_end from libc, sig_* from the kernel and posix,
 * cancel_raise from posix, cancel_ack from the server that stopped, and the IPC records of the
 * request: the client's submit to posix, posix's receive, their match and completions).
 * Used by the model's unit tests, the app's saved-trace fixture and the benchmark, until
 * recorded traces of the in-guest signal tests replace them. Pure.
 */
import type { TraceRecordLike } from './model.js';

export interface SynthEvent extends TraceRecordLike {
  fields: Record<string, number | bigint | string>;
}

export const US = 1000;

export interface CallSpec {
  tid: number;
  pid: number;
  name?: string;
  nr?: number;
  fd?: number;
  arg?: number;
  /** when the call starts and how long it blocks before the signal (ns) */
  at: number;
  block?: number;
  /** the server the request goes to (posix pid) */
  posix?: number;
}

export interface CancelSpec extends CallSpec {
  signo?: number;
  why?: number;
  sender?: number;
  outcome: 'eintr' | 'partial' | 'restarted' | 'killed' | 'raced';
  /** servers cancelled: [name, pid, kind] (kind 0 event, 1 lane, 2 local) */
  servers?: [string, number, number][];
  progress?: number;
  /** run a handler after the call (enter/return); `inner` runs inside it (nested handler) */
  handler?: boolean;
  inner?: (b: SynthTrace, at: number) => number;
  /** SIGKILL mid-request: no ack, no sys_end; the process exits */
  noEnd?: boolean;
}

/** Builds a trace: ids (cpu << 48 | seq) and times increase as records are added. */
export class SynthTrace {
  readonly events: SynthEvent[] = [];
  private seq = [1, 1];
  private callSeq = new Map<number, number>();
  /** per-link delay (ns) */
  step = 2 * US;
  /** write call_site records after sys_begin, cancel_raise and cancel_ack (as the kernel does) */
  sites = true;

  rec(name: string, ns: number, fields: Record<string, number | bigint | string>, cpu = 0): SynthEvent {
    const id = cpu * 2 ** 48 + this.seq[cpu]!++;
    const e: SynthEvent = { name, ns, cpu, id, fields };
    this.events.push(e);
    return e;
  }

  proc(pid: number, name: string, ns = 0): void {
    this.rec('proc_create', ns, { pid, parent: 1, name });
  }
  thread(tid: number, pid: number, name: string, ns = 0): void {
    this.rec('thread_create', ns, { tid, pid, home_cpu: 0, kernel: 0, name });
  }

  /** call_site for record `ref` (the kernel writes it right after a sys_begin / cancel_raise /
   * cancel_ack with the writer's pid, tid and frames):
   * frames innermost first — two in libc, then the writer's own code at `own`, then its caller. */
  site(ref: SynthEvent, call: bigint, pid: number, tid: number, own: number, cpu = ref.cpu): SynthEvent | undefined {
    if (!this.sites) return undefined;
    const pcs = [0x40a010, 0x40a230, own, 0x400100];
    const f: Record<string, number | bigint> = { ref: BigInt(ref.id), call, pid, tid, depth: pcs.length, reserved0: 0 };
    for (let i = 0; i < 8; i++) f[`pc${i}`] = BigInt(pcs[i] ?? 0);
    return this.rec('call_site', ref.ns + 50, f, cpu);
  }

  private nextCall(tid: number): bigint {
    const s = (this.callSeq.get(tid) ?? 0) + 1;
    this.callSeq.set(tid, s);
    return (BigInt(tid) << 32n) | BigInt(s);
  }

  /** sys_begin + a request to posix (submit on the client's thread, posix's receive, the match). */
  begin(c: CallSpec): { call: bigint; submit: number | bigint; t: number } {
    const call = this.nextCall(c.tid);
    let t = c.at;
    const sb = this.rec('sys_begin', t, { call, pid: c.pid, tid: c.tid, nr: c.nr ?? 0x0101, fd: c.fd ?? 3, arg: BigInt(c.arg ?? 4096), name: c.name ?? 'read' });
    this.site(sb, call, c.pid, c.tid, 0x400500);
    t += 300;
    const posix = c.posix ?? 2;
    const recv = this.rec('ipc_submit', t - 200, { stream: 1n, conversation: 1n, tag: 1n, bytes: 0n, actions: 4n, pid: posix, tid: posix * 10, lane: 1, nactions: 1, ret_addr: 0n, payload: '' }, 1);
    const sub = this.rec('ipc_submit', t, { stream: 1n, conversation: 1n, tag: 2n, bytes: 32n, actions: 0x43n, pid: c.pid, tid: c.tid, lane: 0, nactions: 2, ret_addr: 0x401234n, payload: '' });
    this.rec('ipc_match', t + 100, { stream: 1n, conversation: 1n, cause: BigInt(sub.id), other: BigInt(recv.id), child_stream: 0n, result: 0 }, 1);
    return { call, submit: sub.id, t: t + 100 };
  }

  /** posix's reply reaches the client (the request's completion), then sys_end. */
  end(c: CallSpec, call: bigint, submit: number | bigint, t: number, outcome: number, result: number, signo = 0, requested = 0, done = 0): number {
    this.rec('ipc_complete', t, { stream: 1n, tag: 2n, cause: BigInt(submit), result: 0, bytes: 16n, pid: c.pid, tid: c.tid });
    t += 400;
    this.rec('sys_end', t, { call, pid: c.pid, tid: c.tid, result: BigInt(result), outcome, signo, reserved0: 0, reserved1: 0, requested: BigInt(requested), done: BigInt(done) });
    return t;
  }

  /** A call that completes normally. Returns its end time. */
  completed(c: CallSpec): number {
    const b = this.begin(c);
    return this.end(c, b.call, b.submit, b.t + (c.block ?? 5 * US), 0, c.arg ?? 4096, 0, c.arg ?? 4096, c.arg ?? 4096);
  }

  /** A cancelled call with its whole chain. Returns the time after the last record. */
  cancelled(s: CancelSpec): number {
    const b = this.begin(s);
    const signo = s.signo ?? 2;
    const st = this.step;
    let t = b.t + (s.block ?? 50 * US);
    const req = s.arg ?? 4096;
    const progress = s.progress ?? (s.outcome === 'partial' ? 1024 : s.outcome === 'raced' ? req : 0);
    this.rec('sig_generate', t, { sender_pid: s.sender ?? 4, target_pid: s.pid, target_tid: s.tid, signo, why: s.why ?? 2, reserved0: 0, call: b.call, value: 0n }, 1);
    t += st;
    this.rec('sig_flag', t, { call: b.call, tid: s.tid, from: 1, to: 2, signo, reserved0: 0 }, 1);
    const servers = s.servers ?? [['posix', s.posix ?? 2, 0], ['fs', 3, 1]];
    if (s.outcome !== 'raced') {
      for (const [name, pid, kind] of servers) {
        t += st;
        const r = this.rec('cancel_raise', t, { call: b.call, tid: s.tid, server_pid: pid, kind, reserved0: 0, reserved1: 0, reserved2: 0, request: 7n, target: name }, 1);
        this.site(r, b.call, kind === 1 ? s.pid : s.posix ?? 2, kind === 1 ? s.tid : (s.posix ?? 2) * 10, kind === 1 ? 0x400600 : 0x400700);
      }
    }
    if (s.noEnd) {
      t += st;
      this.rec('sig_action', t, { pid: s.pid, tid: s.tid, signo, action: 0, reserved0: 0, reserved1: 0, call: b.call }, 1);
      t += st;
      this.rec('proc_exit', t, { pid: s.pid, state: 0, code: 128 + signo }, 1);
      return t;
    }
    if (s.outcome !== 'raced') {
      for (const [name, pid] of [...servers].reverse()) {
        t += st;
        const a = this.rec('cancel_ack', t, { call: b.call, server_pid: pid, live: 0, progress: BigInt(progress), request: 7n, server: name }, 1);
        this.site(a, b.call, pid, pid * 10, 0x400800 + pid);
      }
    }
    t += st;
    const out = { eintr: 1, partial: 2, restarted: 3, killed: 4, raced: 5 }[s.outcome];
    const result = s.outcome === 'eintr' ? -4 : s.outcome === 'restarted' ? -512 : s.outcome === 'killed' ? -4 : progress;
    t = this.end(s, b.call, b.submit, t, out, result, signo, req, progress);
    if (s.outcome === 'killed') {
      t += st;
      this.rec('sig_action', t, { pid: s.pid, tid: s.tid, signo, action: 0, reserved0: 0, reserved1: 0, call: b.call }, 1);
      t += st;
      this.rec('thread_exit', t, { tid: s.tid, pid: s.pid, code: 0 }, 1);
      return t;
    }
    if (s.handler || s.outcome === 'restarted') {
      t += st;
      this.rec('sig_handler', t, { call: b.call, pid: s.pid, tid: s.tid, signo, phase: 0, reserved0: 0, reserved1: 0, handler: 0x402000n });
      if (s.inner) t = s.inner(this, t + st);
      t += st;
      this.rec('sig_handler', t, { call: b.call, pid: s.pid, tid: s.tid, signo, phase: 1, reserved0: 0, reserved1: 0, handler: 0x402000n });
    }
    if (s.outcome === 'restarted') {
      t += st;
      t = this.completed({ ...s, at: t });
    }
    return t;
  }
}

/** The processes of the scenarios: init, posix, fs, console, and `cat` (pid 5, tid 50). */
export function standardProcesses(b: SynthTrace): void {
  b.proc(1, 'init');
  b.proc(2, 'posix');
  b.thread(20, 2, 'posix');
  b.proc(3, 'fs');
  b.thread(30, 3, 'fs');
  b.proc(4, 'console');
  b.thread(40, 4, 'console');
  b.proc(5, 'cat');
  b.thread(50, 5, 'cat');
}

/** `cat /dev/slow`, Ctrl-C in the console after 1 KiB: two reads that complete, one read
 * cancelled with outcome partial 1024 of 4096, SIGINT's default action ends cat. */
export function catSlowCtrlC(): SynthEvent[] {
  const b = new SynthTrace();
  standardProcesses(b);
  let t = 1_000_000;
  t = b.completed({ tid: 50, pid: 5, at: t, fd: 0, arg: 4096, name: 'open' }) + 10 * US;
  t = b.completed({ tid: 50, pid: 5, at: t, fd: 3, arg: 4096 }) + 10 * US;
  b.cancelled({ tid: 50, pid: 5, at: t, fd: 3, arg: 4096, outcome: 'partial', progress: 1024, signo: 2, why: 2, sender: 4, servers: [['posix', 2, 0], ['fs', 3, 1]] });
  const last = b.events[b.events.length - 1]!.ns;
  b.rec('sig_action', last + 2 * US, { pid: 5, tid: 50, signo: 2, action: 0, reserved0: 0, reserved1: 0, call: 0n }, 1);
  b.rec('proc_exit', last + 4 * US, { pid: 5, state: 0, code: 130 }, 1);
  return b.events;
}

/**
 * A large trace for the benchmark: `calls` syscalls over `threads` threads, every
 * `calls / cancels`-th cancelled (outcomes cycling through the kinds), IPC records included.
 */
export function bulkTrace(calls: number, cancels: number, threads = 16): SynthEvent[] {
  const b = new SynthTrace();
  standardProcesses(b);
  for (let i = 0; i < threads; i++) {
    b.proc(100 + i, `app${i}`);
    b.thread(1000 + i, 100 + i, `app${i}`);
  }
  const every = Math.max(1, Math.floor(calls / Math.max(1, cancels)));
  const kinds = ['eintr', 'partial', 'restarted', 'raced'] as const;
  let t = 1_000_000;
  let k = 0;
  for (let i = 0; i < calls; i++) {
    const th = i % threads;
    const spec = { tid: 1000 + th, pid: 100 + th, at: t, fd: 3, arg: 4096 };
    if (i % every === every - 1 && k < cancels) {
      const kind = kinds[k++ % kinds.length]!;
      t = b.cancelled({ ...spec, outcome: kind, handler: kind === 'eintr', block: 20 * US });
      if (kind === 'restarted') i++; // the restart is a call of its own
    } else t = b.completed({ ...spec, block: 3 * US });
    t += 1 * US;
  }
  return b.events;
}

/**
 * An open() that posix forwards to fs (fs.Open of a FIFO nobody writes: fs parks it), cancelled
 * by SIGALRM: records as a Run has them (offer/accept open a conversation per request, the
 * request and its reply go on it). cat (pid 5, tid 50) → posix (tid 20) on its lane (stream 81,
 * conversation 88); posix → fs (tid 30) on fs's lane (stream 22, conversation 89); posix cancels
 * its fs request (fs.Cancel on that conversation), fs answers -EINTR and acks, posix answers cat.
 * Then posix takes new work (an accept) and does something unrelated.
 */
export function forwardedOpenAlarm(): SynthEvent[] {
  const b = new SynthTrace();
  standardProcesses(b);
  const sub = (ns: number, pid: number, tid: number, act: number, stream: bigint, cpu = 0) =>
    b.rec('ipc_submit', ns, { stream, conversation: 0n, tag: 1n, bytes: act === 3 ? 32n : 0n, actions: BigInt(act), pid, tid, lane: 0, nactions: 1, ret_addr: 0x401234n, payload: '' }, cpu);
  const match = (ns: number, cause: SynthEvent, other: SynthEvent, stream: bigint, child = 0n) =>
    b.rec('ipc_match', ns, { stream, conversation: 0n, cause: BigInt(cause.id), other: BigInt(other.id), child_stream: child, result: 0 }, 1);
  const done = (ns: number, s: SynthEvent, result: number) =>
    b.rec('ipc_complete', ns, { stream: s.fields['stream']!, tag: 1n, cause: BigInt(s.id), result, bytes: 0n, pid: s.fields['pid']!, tid: s.fields['tid']! }, 1);
  const call = (50n << 32n) | 1n;
  let t = 1_000_000;
  const pAccept = sub(t - 5000, 2, 20, 2, 81n, 1);
  const fAccept = sub(t - 4000, 3, 30, 2, 22n, 1);
  const sb = b.rec('sys_begin', t, { call, pid: 5, tid: 50, nr: 0x0103, fd: -1, arg: 0n, name: 'open' });
  b.site(sb, call, 5, 50, 0x400500);
  const offer = sub((t += 1000), 5, 50, 1, 81n);
  match((t += 100), offer, pAccept, 81n, 88n);
  const send = sub((t += 100), 5, 50, 3, 88n);
  const recv = sub((t += 100), 5, 50, 5, 88n);
  const pRecv = sub((t += 100), 2, 20, 5, 88n, 1);
  match((t += 100), pRecv, send, 88n);
  const pOffer = sub((t += 1000), 2, 20, 1, 22n, 1);
  match((t += 100), pOffer, fAccept, 22n, 89n);
  const pSend = sub((t += 100), 2, 20, 3, 89n, 1);
  const pGet = sub((t += 100), 2, 20, 5, 89n, 1);
  const fRecv = sub((t += 100), 3, 30, 5, 89n, 1);
  match((t += 100), fRecv, pSend, 89n);
  // parked in fs; SIGALRM 50 µs later
  t += 50 * US;
  b.rec('sig_generate', t, { sender_pid: 1, target_pid: 5, target_tid: 50, signo: 14, why: 1, reserved0: 0, call, value: 0n }, 1);
  b.rec('sig_flag', (t += 1000), { call, tid: 50, from: 1, to: 2, signo: 14, reserved0: 0 }, 1);
  const raise = b.rec('cancel_raise', (t += 1000), { call, tid: 20, server_pid: 3, kind: 1, reserved0: 0, reserved1: 0, reserved2: 0, request: 9n, target: 'fs' }, 1);
  b.site(raise, call, 2, 20, 0x400700);
  const pCancel = sub((t += 100), 2, 20, 3, 89n, 1); // fs.Cancel: a send on the conversation
  const ack = b.rec('cancel_ack', (t += 1000), { call, server_pid: 3, live: 0, progress: 0n, request: 9n, server: 'fs' }, 1);
  b.site(ack, call, 3, 30, 0x400803);
  const fReply = sub((t += 100), 3, 30, 3, 89n, 1); // ends fs's work (its answer on 89)
  match((t += 100), fReply, pGet, 89n);
  done(t, pGet, -4);
  done(t, pCancel, 0);
  const pReply = sub((t += 1000), 2, 20, 3, 88n, 1); // posix answers cat: its work ends
  match((t += 100), pReply, recv, 88n);
  done(t, recv, 16);
  b.rec('sys_end', (t += 400), { call, pid: 5, tid: 50, result: -4n, outcome: 1, signo: 14, reserved0: 0, reserved1: 0, requested: 0n, done: 0n });
  sub((t += 1000), 2, 20, 2, 81n, 1); // posix takes new work
  sub((t += 1000), 2, 20, 1, 22n, 1); // … and does something else: not the open's
  return b.events;
}
