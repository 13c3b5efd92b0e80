/*
 * model.ts — the syscall cancellation view's model: decoded trace records in, per-thread syscall
 * spans (with the server requests each made, and signal handlers), and for every cancelled call
 * the causal chain of its cancellation out. Pure (no DOM): render.ts / view.ts draw it.
 *
 * Input is any object shaped like debugger/common/trace's TraceEvent (name, ns, cpu, id, fields
 * named as in os/abi/trace.toml, CANCEL-TRACE contract) — visualizers/ never imports debugger/.
 * Every cancellation record carries `call` = (tid << 32) | per-thread sequence, the POSIX syscall
 * instance, so records are joined by call, never by time:
 *
 *   sys_begin ─▶ Call (label `read(3, 4096)`, begin)          sys_end ─▶ end, result, outcome
 *   sig_generate / sig_flag / cancel_raise / cancel_ack / sig_action / sig_handler(call ≠ 0)
 *              ─▶ the call's chain records (kept per call, only for calls that have them)
 *   ipc_submit of the calling tid while a call is open ─▶ one Request of that call (a span to
 *              its ipc_complete; ipc_match gives the message's event id and the server's pid)
 *   ipc_match of such a request with a server thread's accept/receive ─▶ that thread works for
 *              the call until it answers on the request's conversation or accepts new work on
 *              that lane (a server may hold several clients' requests: its submits go to the one
 *              whose message it has had longest — a queue server handles them in the order their
 *              messages came — its answers on others' conversations to none): its
 *              submits meanwhile are the call's too (depth 1: posix's fs.Open for cat's open; a
 *              server those reach, depth 2, …); records in time order, as the store has them —
 *              a match that arrives late (a live trace's record published after its CPU's window)
 *              replays the server's submits and the records about them seen meanwhile
 *   call_site  ─▶ sites by the id of the record it locates: userSite(call) = its sys_begin's (the
 *              program's line that made the call), serverSite(call, server) = the server's
 *              cancel_ack's (else cancel_raise's) — the code that handled the cancel
 *   sig_handler enter/return ─▶ handler spans per thread, nested (a stack per thread)
 *   proc_exit / thread_exit ─▶ a call still open is closed as killed (its sys_end never comes)
 *
 * chain(call) orders the records causally — signal generated → flag 1→2 → cancel raised (per
 * server) → server acks (with progress) → the answers servers got to the work they did for the call
 * (forward) → the reply → the outcome → default action / handler enter → handler return, or the
 * restarted call — with each link's latency and the total.
 * Robust by construction: records of a call may come in any order (each fills its part; a call
 * seen only through later records has beginLost), unknown values are kept as numbers, nothing
 * walks unbounded (handler stacks and pending maps are capped) and nothing throws on bad fields.
 */

export interface TraceRecordLike {
  readonly name: string;
  readonly ns: number;
  readonly cpu: number;
  readonly id: number | bigint;
  readonly fields: Record<string, unknown>;
}

/** sys_outcome (os/abi/trace.toml) plus the view's own: open (no sys_end yet), lost (never ended). */
export const OUTCOMES = ['completed', 'eintr', 'partial', 'restarted', 'killed', 'raced'] as const;
export type Outcome = (typeof OUTCOMES)[number] | 'open' | 'lost';
export const SIG_WHY = ['kill', 'alarm', 'ctrl_c', 'fault', 'ctrl_z', 'child', 'pipe', 'other'] as const;
export const CANCEL_KIND = ['event', 'lane', 'local'] as const;
export const SIG_DEFAULT = ['terminate', 'core', 'stop', 'cont', 'ignore'] as const;

/** Linux-numbered signals (LaneOS's POSIX numbering); others print as SIG<n>. */
const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 17: 'SIGCHLD', 18: 'SIGCONT',
  19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
};
export function signalName(signo: number): string {
  return SIGNALS[signo] ?? `SIG${signo}`;
}

export type Id = number | bigint;

/** What "Break on next cancellation" targets (the view asks its host to arm the debugger). */
export type CancelBreakTarget = { kind: 'any' } | { kind: 'process'; pid: number } | { kind: 'signal'; signo: number };

/** What Enter opens (the view asks its host). `pcs` are a call_site record's frames (innermost
 * first, return addresses in the program `pid` runs); the host symbolises them with that
 * program's ELF and opens the first frame outside libc and the generated headers (programFrame). */
export type SourceTarget =
  /** the syscall's user side: the program's line that made the call (sys_begin's call_site); without
   * one (an older trace) the return address of its first request (the IPC stub's line) */
  | { kind: 'user'; call: number; pcs: Id[]; retAddr: Id; pid: number }
  /** the server code that handled the cancel: the call_site of the server's cancel_ack (or, with no
   * ack, of its cancel_raise); pcs empty when the trace has neither (the host may know a stop) */
  | { kind: 'server'; call: number; server: string; pid: number; pcs: Id[] };

/** Where user code wrote a record (call_site, trace.toml): its frames, innermost first. */
export interface CallSite {
  ref: Id;
  call: Id;
  pid: number;
  tid: number;
  pcs: Id[];
}

/** A symbolised frame (file relative to the project, as the ELF's line table names it). */
export interface FrameLine {
  file: string;
  line: number;
}

/** Libc (lib/), the generated ABI headers and syscall stubs (build/), toolchain headers (absolute
 * paths): code every program carries, not the program's own. */
export function isRuntimeFile(file: string): boolean {
  return /^(lib|build)\//.test(file) || file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file) || file.startsWith('..');
}

/** The first frame in the program's own code: the line that called into libc (the POSIX call, the
 * trace record). -1 when every frame is runtime code or unresolved. */
export function programFrame(frames: readonly (FrameLine | null | undefined)[]): number {
  return frames.findIndex((f) => !!f && !isRuntimeFile(f.file));
}

export interface Request {
  /** ipc_submit event id (the IPC view's operation), match event id (its message), 0 if none yet */
  submitId: Id;
  matchId: Id;
  ns: number;
  /** match time and completion time; NaN until seen */
  matchNs: number;
  endNs: number;
  result: number;
  cancelled: boolean;
  stream: Id;
  retAddr: Id;
  /** the server's side: pid of the other submission of the match (-1 until matched) */
  peerPid: number;
  /** who submitted it: the calling thread, or a server working for the call (forwarded) */
  pid: number;
  tid: number;
  /** the request (index in the call's requests) this one was made for, -1 for the caller's own */
  via: number;
  /** 0 the caller's own; 1 a server's request on its behalf (posix → fs), 2 that server's, … */
  depth: number;
  /** its ipc_action (offer 1, send 3, recv 4/5, …) */
  act: number;
}

/** ipc_action codes (os/abi/trace.toml) the model needs */
const ACT_ACCEPT = 2;
const ACT_SEND = 3;
const ACT_RECV_INLINE = 4;
const ACT_RECV_BUFFER = 5;
/** what a server does on a request's conversation to take (more of) it, not answer it: receive, pull_desc, extract_creds */
const TAKES = new Set([ACT_RECV_INLINE, ACT_RECV_BUFFER, 7, 9]);
const MAX_FORWARD_DEPTH = 4;
/** late records kept for a replay: a server thread's unattributed submits, and records about unknown submits */
const EARLY_PER_TID = 16;
const ORPHANS = 1024;

/** A chain record as stored (kind, time, and what to say about it). */
export interface ChainRec {
  kind: 'generate' | 'flag' | 'raise' | 'ack' | 'action' | 'enter' | 'return';
  ns: number;
  id: Id;
  tid: number;
  pid: number;
  signo: number;
  /** generate: why; flag: from*16+to; raise: cancel kind; action: default action */
  code: number;
  /** raise: the target server's name; ack: the server's name */
  server: string;
  /** generate: sender pid; raise/ack: server pid */
  other: number;
  /** raise/ack: the request id in the server; ack: progress, live; generate: value */
  request: Id;
  progress: number;
  live: number;
}

export interface Call {
  idx: number;
  call: Id;
  /** sys_begin's event id (its call_site names it), 0 when unseen */
  beginId: Id;
  pid: number;
  tid: number;
  nr: number;
  fd: number;
  arg: number;
  name: string;
  begin: number;
  end: number;
  result: number;
  outcome: Outcome;
  signo: number;
  requested: number;
  done: number;
  /** no sys_begin seen (begin = first record's time) */
  beginLost: boolean;
  /** end inferred from the thread's or process's exit (no sys_end) */
  endInferred: boolean;
  requests: Request[];
  recs: ChainRec[] | undefined;
  /** the call that restarted this one (restarted outcome), the one this restarts; -1 if none */
  restartedAs: number;
  restartOf: number;
  exitNs: number;
}

export interface HandlerSpan {
  tid: number;
  pid: number;
  signo: number;
  call: Id;
  /** the interrupted call's index, -1 if none (or unknown) */
  callIdx: number;
  enter: number;
  ret: number;
  depth: number;
  handler: Id;
}

export type LinkKind = 'generate' | 'flag' | 'raise' | 'ack' | 'forward' | 'reply' | 'end' | 'action' | 'enter' | 'return' | 'restart' | 'exit';
export const LINK_RANK: Record<LinkKind, number> = { generate: 0, flag: 1, raise: 2, ack: 3, forward: 3.5, reply: 4, end: 5, action: 6, exit: 7, enter: 7, return: 8, restart: 9 };

export interface ChainLink {
  kind: LinkKind;
  ns: number;
  /** ns since the previous link (the first: since the call began); negative = clock skew between CPUs */
  latency: number;
  tid: number;
  pid: number;
  /** one line: "SIGINT from init (pid 1), ctrl_c" */
  label: string;
  /** the trace event behind it (for the Perfetto flow, the IPC view), 0 when derived */
  id: Id;
  /** the IPC message (match event id) a reply link stands for, 0 if none */
  matchId: Id;
  server: string;
}

export interface Chain {
  call: number;
  links: ChainLink[];
  /** last link − first link */
  total: number;
  /** steps of the full story that the trace does not have ("no cancel_ack") */
  missing: string[];
  signo: number;
  why: string;
  servers: string[];
}

export interface ThreadLane {
  tid: number;
  pid: number;
  name: string;
  /** call indices by begin time (sorted lazily) */
  calls: number[];
  sorted: boolean;
  handlers: HandlerSpan[];
  /** handler stack (indices into handlers) */
  stack: number[];
  /** the open call (sys_begin without sys_end), -1 if none */
  open: number;
  /** the last call that ended restarted, waiting for its restart's sys_begin */
  pendingRestart: number;
  maxDepth: number;
}

const MAX_STACK = 64;
const MAX_RECS_PER_CALL = 256;
const MAX_REQS_PER_CALL = 4096;

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}
/** ids as map keys: a bigint that fits a double exactly becomes a number */
function key(v: unknown): Id {
  if (typeof v === 'bigint') return v <= 9007199254740991n && v >= -9007199254740991n ? Number(v) : v;
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** `read(3, 4096)`: name, the fd when there is one, the size/count/ns argument when non-zero. */
export function callLabel(c: Pick<Call, 'name' | 'nr' | 'fd' | 'arg'>): string {
  const args: string[] = [];
  if (c.fd >= 0) args.push(String(c.fd));
  if (c.arg) args.push(String(c.arg));
  return `${c.name || `sys 0x${c.nr.toString(16)}`}(${args.join(', ')})`;
}

export function outcomeLabel(c: Pick<Call, 'outcome' | 'done' | 'requested' | 'result'>): string {
  switch (c.outcome) {
    case 'partial': return `partial ${c.done} of ${c.requested}`;
    case 'eintr': return 'EINTR';
    case 'raced': return 'completed (the reply won the race)';
    case 'lost': return 'no sys_end (lost)';
    default: return c.outcome;
  }
}

/** A server thread working for a call (CancelModel.serving): the request's conversation and the
 * lane it came on (0: unknown); since when the server has the request's message (the match of its
 * receive — when the completion went into its queue; the accept's until then). */
interface Serving {
  call: number;
  req: number;
  conv: Id;
  lane: Id;
  depth: number;
  since: number;
  received: boolean;
}
const MAX_SERVING = 8;
const MAX_ACCEPTED = 4096;

export class CancelModel {
  calls: Call[] = [];
  /** call id → index */
  private byCall = new Map<Id, number>();
  threads = new Map<number, ThreadLane>();
  processes = new Map<number, string>();
  /** calls that have cancellation records, or a cancelled outcome, in order of first sight */
  cancelled: number[] = [];
  private isCancelled = new Set<number>();
  /** ipc_submit id → (call index, request index) of a request; and → who for every submit */
  private reqOf = new Map<Id, number>();
  private submitBy = new Map<Id, { pid: number; tid: number; act: number }>();
  /** server threads working for calls: from receiving one of a call's requests until they answer
   * on that conversation or take new work on its lane (accept there) — their submits in between
   * are the call's whose message they have had longest. Several at once: an asynchronous server
   * (posix) may hold a not yet answered request from one client (sh's setpgid) while it takes
   * another's (cat's open); its answer to the first is not work for the second, nor does its
   * new accept on the first's lane end the second. Not the one taken last: posix posts its
   * accepts ahead, so the match that takes a request is not when posix starts on it — re-arming
   * sh's lane after answering sh took sh's waitpid at once (sh was already waiting), while cat's
   * open still waited in posix's queue to be handled; posix handles its queue in order, so its
   * fs.Open was cat's. A request it parks (that waitpid) is over when it re-arms that lane. */
  private serving = new Map<number, Serving[]>();
  /** conversations a thread took with an accept (conversation stream → that thread): its sends
   * there answer whoever opened it — not work for the call it serves, when that is someone else's */
  private accepted = new Map<Id, number>();
  /** A live trace merges the CPUs' rings within a window: a record whose vCPU was descheduled
   *  between stamping and publishing it arrives late, after records that follow it in time. So
   *  a server's submits seen before the match that started its work for a call (EARLY_PER_TID per
   *  thread), and the match/complete/cancel records of submits not (yet) known as requests
   *  (ORPHANS in all), are kept and replayed when that match arrives. */
  private early = new Map<number, TraceRecordLike[]>();
  private orphans = new Map<Id, TraceRecordLike[]>();
  private orphanCount = 0;
  /** processes that take part in chains (signal senders, servers that stopped work) */
  actors = new Set<number>();
  /** call_site records by the id of the record they locate */
  sites = new Map<Id, CallSite>();
  /** signals not aimed at a syscall (call 0), counted */
  signalsOutside = 0;
  /** records with a field that cannot be right (no tid, unknown call on a record that needs one) */
  malformed = 0;
  t0 = Infinity;
  t1 = -Infinity;
  version = 0;
  private listeners: (() => void)[] = [];

  onChange(cb: () => void): () => void {
    this.listeners.push(cb);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== cb);
    };
  }
  changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  lane(tid: number): ThreadLane {
    let t = this.threads.get(tid);
    if (!t) {
      t = { tid, pid: 0, name: '', calls: [], sorted: true, handlers: [], stack: [], open: -1, pendingRestart: -1, maxDepth: 0 };
      this.threads.set(tid, t);
    }
    return t;
  }

  processName(pid: number): string {
    return this.processes.get(pid) ?? `pid ${pid}`;
  }

  callIndex(call: Id): number {
    return this.byCall.get(key(call)) ?? -1;
  }

  /** The call with this id, created on first sight (any record may come first). */
  private callOf(callId: Id, tid: number, ns: number): Call {
    const k = key(callId);
    let i = this.byCall.get(k);
    if (i !== undefined) return this.calls[i]!;
    i = this.calls.length;
    const c: Call = {
      idx: i, call: k, beginId: 0, pid: 0, tid, nr: 0, fd: -1, arg: 0, name: '', begin: ns, end: NaN, result: 0, outcome: 'open', signo: 0,
      requested: 0, done: 0, beginLost: true, endInferred: false, requests: [], recs: undefined, restartedAs: -1, restartOf: -1, exitNs: NaN,
    };
    this.calls.push(c);
    this.byCall.set(k, i);
    const l = this.lane(tid);
    if (l.calls.length && this.calls[l.calls[l.calls.length - 1]!]!.begin > ns) l.sorted = false;
    l.calls.push(i);
    return c;
  }

  private markCancelled(c: Call): void {
    if (this.isCancelled.has(c.idx)) return;
    this.isCancelled.add(c.idx);
    this.cancelled.push(c.idx);
  }

  /** tid of a call id when the record has none: the high 32 bits */
  private static tidOfCall(call: Id): number {
    return typeof call === 'bigint' ? Number(call >> 32n) : Math.floor(call / 4294967296);
  }

  private addRec(c: Call, r: ChainRec): void {
    const recs = (c.recs ??= []);
    if (recs.length < MAX_RECS_PER_CALL) recs.push(r);
    if (r.kind !== 'enter' && r.kind !== 'return') this.markCancelled(c);
  }

  private span(ns: number): void {
    if (!(ns === ns)) return;
    if (ns < this.t0) this.t0 = ns;
    if (ns > this.t1) this.t1 = ns;
  }

  /** One decoded record; true when the model used it. Never throws. */
  add(e: TraceRecordLike): boolean {
    try {
      return this.addInner(e);
    } catch {
      this.malformed++;
      return false;
    }
  }

  addAll(evs: Iterable<TraceRecordLike>, notify = true): number {
    let n = 0;
    for (const e of evs) if (this.add(e)) n++;
    if (notify && n) this.changed();
    return n;
  }

  private addInner(e: TraceRecordLike): boolean {
    const ns = e.ns;
    switch (e.name) {
      case 'proc_create':
        this.processes.set(num(e.fields['pid']), str(e.fields['name']));
        return true;
      case 'thread_create': {
        const f = e.fields;
        const l = this.lane(num(f['tid']));
        l.pid = num(f['pid']);
        l.name = str(f['name']);
        return true;
      }
      case 'proc_exit': {
        const pid = num(e.fields['pid']);
        for (const l of this.threads.values()) if (l.pid === pid) this.threadGone(l, ns);
        return true;
      }
      case 'thread_exit': {
        const l = this.threads.get(num(e.fields['tid']));
        if (l) this.threadGone(l, ns);
        return true;
      }
      case 'sys_begin': return this.sysBegin(e);
      case 'sys_end': return this.sysEnd(e);
      case 'sig_generate': case 'sig_flag': case 'cancel_raise': case 'cancel_ack': case 'sig_action':
        return this.chainRecord(e);
      case 'sig_handler': return this.handler(e);
      case 'call_site': return this.site(e);
      case 'ipc_submit': return this.submit(e);
      case 'ipc_match': return this.match(e);
      case 'ipc_complete': {
        const r = this.request(e.fields['cause']);
        if (!r) {
          this.orphan(key(e.fields['cause']), e);
          return false;
        }
        r.endNs = ns;
        r.result = num(e.fields['result']);
        return true;
      }
      case 'ipc_cancel': {
        const r = this.request(e.fields['target']);
        if (!r) {
          this.orphan(key(e.fields['target']), e);
          return false;
        }
        r.cancelled = true;
        return true;
      }
    }
    return false;
  }

  private sysBegin(e: TraceRecordLike): boolean {
    const f = e.fields;
    const callId = key(f['call']);
    const tid = num(f['tid']);
    if (!callId || !tid) {
      this.malformed++;
      return false;
    }
    this.span(e.ns);
    const l = this.lane(tid);
    // a call still open on this thread lost its sys_end
    if (l.open >= 0 && this.calls[l.open]!.call !== callId) {
      const o = this.calls[l.open]!;
      if (o.outcome === 'open' && o.begin <= e.ns) {
        o.outcome = 'lost';
        o.end = e.ns;
      }
    }
    const c = this.callOf(callId, tid, e.ns);
    const wasLost = c.beginLost;
    c.beginLost = false;
    if (wasLost && c.begin !== e.ns) {
      c.begin = e.ns;
      l.sorted = false;
    }
    c.pid = num(f['pid']);
    c.beginId = key(e.id);
    c.nr = num(f['nr']);
    c.fd = num(f['fd']);
    c.arg = num(f['arg']);
    c.name = str(f['name']);
    if (!l.pid) l.pid = c.pid;
    if (c.outcome === 'open') l.open = c.idx;
    // the restart of a call that ended `restarted` on this thread: same nr, next call
    const pr = l.pendingRestart;
    if (pr >= 0 && pr !== c.idx) {
      const p = this.calls[pr]!;
      if (p.nr === c.nr && p.end <= e.ns) {
        p.restartedAs = c.idx;
        c.restartOf = pr;
      }
      l.pendingRestart = -1;
    }
    return true;
  }

  private sysEnd(e: TraceRecordLike): boolean {
    const f = e.fields;
    const callId = key(f['call']);
    const tid = num(f['tid']) || CancelModel.tidOfCall(callId);
    if (!callId || !tid) {
      this.malformed++;
      return false;
    }
    this.span(e.ns);
    const c = this.callOf(callId, tid, e.ns);
    if (!c.pid) c.pid = num(f['pid']);
    c.end = e.ns;
    c.endInferred = false;
    c.result = num(f['result']);
    const o = num(f['outcome']);
    c.outcome = OUTCOMES[o] ?? 'completed';
    c.signo = num(f['signo']);
    c.requested = num(f['requested']);
    c.done = num(f['done']);
    const l = this.lane(tid);
    if (l.open === c.idx) l.open = -1;
    if (c.outcome === 'restarted') l.pendingRestart = c.idx;
    if (c.outcome !== 'completed') this.markCancelled(c);
    return true;
  }

  private chainRecord(e: TraceRecordLike): boolean {
    const f = e.fields;
    let callId = key(f['call']);
    if (!callId && e.name === 'sig_action') {
      // delivered after the call returned (call 0): the default action of the signal that
      // cancelled the thread's last call belongs to that call's story
      const l = this.threads.get(num(f['tid']));
      const last = l?.calls.length ? this.calls[l.calls[l.calls.length - 1]!]! : undefined;
      if (last && this.isCancelled.has(last.idx) && last.end === last.end && last.end <= e.ns && this.signalOf(last.idx) === num(f['signo'])) callId = last.call;
    }
    if (!callId) {
      if (e.name === 'sig_generate') this.signalsOutside++;
      return e.name === 'sig_generate' || e.name === 'sig_action';
    }
    this.span(e.ns);
    const tid = num(f['tid']) || num(f['target_tid']) || CancelModel.tidOfCall(callId);
    const c = this.callOf(callId, tid, e.ns);
    const r: ChainRec = { kind: 'generate', ns: e.ns, id: key(e.id), tid, pid: 0, signo: num(f['signo']), code: 0, server: '', other: 0, request: 0, progress: 0, live: 0 };
    switch (e.name) {
      case 'sig_generate':
        r.pid = num(f['target_pid']);
        r.code = num(f['why']);
        r.other = num(f['sender_pid']);
        r.request = key(f['value']);
        break;
      case 'sig_flag':
        r.kind = 'flag';
        r.code = (num(f['from']) & 15) * 16 + (num(f['to']) & 15);
        break;
      case 'cancel_raise':
        r.kind = 'raise';
        r.code = num(f['kind']);
        r.server = str(f['target']);
        r.other = num(f['server_pid']);
        r.request = key(f['request']);
        break;
      case 'cancel_ack':
        r.kind = 'ack';
        r.server = str(f['server']);
        r.other = num(f['server_pid']);
        r.request = key(f['request']);
        r.progress = num(f['progress']);
        r.live = num(f['live']);
        r.tid = c.tid;
        break;
      case 'sig_action':
        r.kind = 'action';
        r.pid = num(f['pid']);
        r.code = num(f['action']);
        break;
    }
    if ((r.kind === 'generate' || r.kind === 'raise' || r.kind === 'ack') && r.other > 0) this.actors.add(r.other);
    // the flag's 0→1 at entry and back to 0 at exit are bookkeeping; only a raise to 2 is a cancellation step
    if (r.kind === 'flag' && (r.code & 15) !== 2) return true;
    this.addRec(c, r);
    return true;
  }

  private handler(e: TraceRecordLike): boolean {
    const f = e.fields;
    const tid = num(f['tid']);
    if (!tid) {
      this.malformed++;
      return false;
    }
    this.span(e.ns);
    const l = this.lane(tid);
    const callId = key(f['call']);
    const signo = num(f['signo']);
    const phase = num(f['phase']);
    const callIdx = callId ? this.callIndex(callId) : -1;
    if (phase === 0) {
      if (l.stack.length >= MAX_STACK) {
        this.malformed++;
        return false;
      }
      const h: HandlerSpan = { tid, pid: num(f['pid']), signo, call: callId, callIdx, enter: e.ns, ret: NaN, depth: l.stack.length, handler: key(f['handler']) };
      l.stack.push(l.handlers.length);
      l.handlers.push(h);
      l.maxDepth = Math.max(l.maxDepth, h.depth + 1);
    } else {
      // the innermost open handler of this signal (and call); handlers above it never returned
      let k = l.stack.length - 1;
      while (k >= 0 && !(l.handlers[l.stack[k]!]!.signo === signo && (!callId || l.handlers[l.stack[k]!]!.call === callId))) k--;
      if (k < 0) {
        this.malformed++; // a return without its enter (lost, or the trace started inside the handler)
      } else {
        l.handlers[l.stack[k]!]!.ret = e.ns;
        l.stack.length = k;
      }
    }
    if (callId) {
      const c = this.callOf(callId, tid, e.ns);
      this.addRec(c, { kind: phase === 0 ? 'enter' : 'return', ns: e.ns, id: key(e.id), tid, pid: num(f['pid']), signo, code: 0, server: '', other: 0, request: key(f['handler']), progress: 0, live: 0 });
    }
    return true;
  }

  private site(e: TraceRecordLike): boolean {
    const f = e.fields;
    const ref = key(f['ref']);
    if (!ref) {
      this.malformed++;
      return false;
    }
    const depth = Math.min(8, num(f['depth']));
    const pcs: Id[] = [];
    for (let i = 0; i < depth; i++) pcs.push(key(f[`pc${i}`]));
    this.sites.set(ref, { ref, call: key(f['call']), pid: num(f['pid']), tid: num(f['tid']), pcs });
    return true;
  }

  /** The program's call site of a syscall (its sys_begin's call_site), if the trace has it. */
  userSite(idx: number): CallSite | undefined {
    const c = this.calls[idx];
    return c && c.beginId ? this.sites.get(c.beginId) : undefined;
  }

  /** Where a server handled a call's cancel: the call_site of its last cancel_ack (by server name,
   * or any server when name is ''), else of its cancel_raise. */
  serverSite(idx: number, server: string): CallSite | undefined {
    const recs = this.calls[idx]?.recs ?? [];
    for (const kind of ['ack', 'raise'] as const) {
      for (let i = recs.length - 1; i >= 0; i--) {
        const r = recs[i]!;
        if (r.kind !== kind || (server && r.server !== server)) continue;
        const s = this.sites.get(r.id);
        if (s) return s;
      }
    }
    return undefined;
  }

  private threadGone(l: ThreadLane, ns: number): void {
    if (l.open >= 0) {
      const c = this.calls[l.open]!;
      if (c.outcome === 'open') {
        c.outcome = 'killed';
        c.end = ns;
        c.endInferred = true;
        c.exitNs = ns;
        this.markCancelled(c);
      }
      l.open = -1;
    } else if (l.calls.length) {
      // the thread's last call was cancelled by a signal whose default action ended it
      const c = this.calls[l.calls[l.calls.length - 1]!]!;
      const fatal = c.outcome === 'killed' || (c.recs ?? []).some((r) => r.kind === 'action' && (r.code === 0 || r.code === 1));
      if (fatal && !(c.exitNs === c.exitNs)) c.exitNs = ns;
    }
    for (const k of l.stack) {
      const h = l.handlers[k]!;
      if (!(h.ret === h.ret)) h.ret = ns;
    }
    l.stack.length = 0;
  }

  private submit(e: TraceRecordLike): boolean {
    const f = e.fields;
    const id = key(e.id);
    const tid = num(f['tid']);
    const pid = num(f['pid']);
    const act = num(f['actions']) & 15;
    const stream = key(f['stream']);
    this.submitBy.set(id, { pid, tid, act });
    const l = this.threads.get(tid);
    let c: Call | undefined;
    let via = -1;
    let depth = 0;
    if (l && l.open >= 0) {
      c = this.calls[l.open]!;
    } else {
      // a server thread working for a call: its answer on the call's conversation, or taking
      // new work, ends that; anything else it submits meanwhile it does on the call's behalf
      let list = this.serving.get(tid) ?? [];
      // an entry whose call has ended is stale (the server's later work is not that call's)
      list = list.filter((x) => !(this.calls[x.call]!.end <= e.ns));
      // on a request's own conversation: receiving more of it (its message, a pushed handle) is
      // taking it, not work for it; anything else there answers it
      const onConv = list.findIndex((x) => x.conv === stream);
      if (onConv >= 0 && !TAKES.has(act)) list.splice(onConv, 1);
      else if (onConv < 0 && act === ACT_ACCEPT) list = list.filter((x) => x.lane !== stream);
      if (list.length) this.serving.set(tid, list);
      else this.serving.delete(tid);
      const sv = CancelModel.current(list);
      if (onConv >= 0 || act === ACT_ACCEPT || this.accepted.get(stream) === tid) return false;
      if (!sv) {
        const l = this.early.get(tid) ?? [];
        if (l.push(e) > EARLY_PER_TID) l.shift();
        this.early.set(tid, l);
        return false;
      }
      c = this.calls[sv.call];
      via = sv.req;
      depth = sv.depth + 1;
    }
    if (!c || c.requests.length >= MAX_REQS_PER_CALL) return false;
    this.reqOf.set(id, c.idx * MAX_REQS_PER_CALL + c.requests.length);
    c.requests.push({ submitId: id, matchId: 0, ns: e.ns, matchNs: NaN, endNs: NaN, result: 0, cancelled: false, stream, retAddr: key(f['ret_addr']), peerPid: -1, pid, tid, via, depth, act });
    const late = this.orphans.get(id);
    if (late) {
      this.orphans.delete(id);
      this.orphanCount -= late.length;
      for (const o of late) this.addInner(o);
    }
    return true;
  }

  /** Keeps a record about submit `id` that is not a request yet (see `early`). */
  private orphan(id: Id, e: TraceRecordLike): void {
    if (!id) return;
    const l = this.orphans.get(id) ?? [];
    l.push(e);
    this.orphans.set(id, l);
    if (++this.orphanCount > ORPHANS) {
      const [oldest, ol] = this.orphans.entries().next().value as [Id, TraceRecordLike[]];
      this.orphans.delete(oldest);
      this.orphanCount -= ol.length;
    }
  }

  /** The server thread `tid` started working for a call at `ns`: its submits already seen from then on are the call's. */
  private replayEarly(tid: number, ns: number, except: Id): void {
    const l = this.early.get(tid);
    if (!l) return;
    this.early.delete(tid);
    for (const e of l.filter((x) => x.ns > ns && key(x.id) !== except).sort((x, y) => x.ns - y.ns)) this.submit(e);
  }

  private request(submitId: unknown): Request | undefined {
    const k = this.reqOf.get(key(submitId));
    if (k === undefined) return undefined;
    return this.calls[Math.floor(k / MAX_REQS_PER_CALL)]?.requests[k % MAX_REQS_PER_CALL];
  }

  private match(e: TraceRecordLike): boolean {
    const f = e.fields;
    const a = key(f['cause']);
    const b = key(f['other']);
    const child = key(f['child_stream']);
    if (child) {
      for (const x of [a, b]) {
        const by = this.submitBy.get(x);
        if (by?.act !== ACT_ACCEPT) continue;
        this.accepted.set(child, by.tid);
        if (this.accepted.size > MAX_ACCEPTED) this.accepted.delete(this.accepted.keys().next().value as Id);
      }
    }
    let used = false;
    for (const [mine, theirs] of [[a, b], [b, a]] as const) {
      const k = this.reqOf.get(mine);
      const r = this.request(mine);
      if (!r || r.matchId || k === undefined) continue;
      r.matchId = key(e.id);
      r.matchNs = e.ns;
      const them = this.submitBy.get(theirs);
      r.peerPid = them?.pid ?? -1;
      used = true;
      // the server took this request (accepted its offer, received its message): from now its
      // thread works for the call, until it answers on the request's conversation
      if (them && them.tid !== r.tid && them.act !== ACT_SEND && r.depth < MAX_FORWARD_DEPTH && !this.isCaller(them.tid)) {
        const child = key(f['child_stream']);
        const conv = child || key(f['stream']);
        const lane = child ? key(f['stream']) : key(f['conversation']);
        const list = this.serving.get(them.tid) ?? [];
        const at = list.findIndex((x) => x.conv === conv);
        const was = at >= 0 ? list[at] : undefined;
        // its place in the server's queue: when it received the message (the first receive's
        // match); later matches on the conversation (a pushed handle pulled) keep that place
        const recv = them.act === ACT_RECV_INLINE || them.act === ACT_RECV_BUFFER;
        const since = was && (was.received || !recv) ? was.since : e.ns;
        const sv: Serving = { call: Math.floor(k / MAX_REQS_PER_CALL), req: k % MAX_REQS_PER_CALL, conv, lane: was?.lane || lane, depth: r.depth, since, received: !!was?.received || recv };
        if (was) list[at] = sv;
        else list.push(sv);
        list.sort((x, y) => x.since - y.since);
        if (list.length > MAX_SERVING) list.shift();
        this.serving.set(them.tid, list);
        this.replayEarly(them.tid, e.ns, theirs);
      }
    }
    if (!used) {
      this.orphan(a, e);
      if (b !== a) this.orphan(b, e);
    }
    return used;
  }

  /** The request a server thread works on of those it holds (`list`, oldest first): the one
   * whose message it has had longest — a server handles its requests in the order their messages
   * came (posix's completion queue; a synchronous server holds one at a time) — else, none
   * received yet, the one it accepted first. */
  private static current(list: readonly Serving[]): Serving | undefined {
    return list.find((x) => x.received) ?? list[0];
  }

  /** A thread in a POSIX call of its own (its submits are its call's). */
  private isCaller(tid: number): boolean {
    const l = this.threads.get(tid);
    return !!l && l.open >= 0;
  }

  /** Per-thread call indices in begin order. */
  laneCalls(l: ThreadLane): number[] {
    if (!l.sorted) {
      l.calls.sort((x, y) => this.calls[x]!.begin - this.calls[y]!.begin || x - y);
      l.sorted = true;
    }
    return l.calls;
  }

  /** Lanes in display order: by process, then thread id. */
  lanes(): ThreadLane[] {
    return [...this.threads.values()].filter((l) => l.calls.length || l.handlers.length).sort((a, b) => a.pid - b.pid || a.tid - b.tid);
  }

  /** The server a request went to, by name. */
  serverOf(r: Request): string {
    return r.peerPid >= 0 ? this.processName(r.peerPid) : '?';
  }

  /** The causal chain of a call's cancellation (empty links when it has none). */
  chain(idx: number): Chain {
    const c = this.calls[idx];
    const out: Chain = { call: idx, links: [], total: 0, missing: [], signo: 0, why: '', servers: [] };
    if (!c) return out;
    const pn = (pid: number) => `${this.processName(pid)} (pid ${pid})`;
    const items: { rank: number; ns: number; seq: number; link: Omit<ChainLink, 'latency'> }[] = [];
    const push = (kind: LinkKind, ns: number, link: Partial<ChainLink> & { label: string }) => {
      items.push({ rank: LINK_RANK[kind], ns, seq: items.length, link: { kind, ns, tid: c.tid, pid: c.pid, id: 0, matchId: 0, server: '', ...link } });
    };
    const servers = new Set<string>();
    for (const r of c.recs ?? []) {
      switch (r.kind) {
        case 'generate':
          if (!out.signo) {
            out.signo = r.signo;
            out.why = SIG_WHY[r.code] ?? `why ${r.code}`;
          }
          push('generate', r.ns, { id: r.id, pid: r.other, tid: 0, label: `${signalName(r.signo)} generated by ${pn(r.other)} (${SIG_WHY[r.code] ?? r.code}) for thread ${r.tid}` });
          break;
        case 'flag':
          push('flag', r.ns, { id: r.id, tid: r.tid, label: `in-syscall flag ${r.code >> 4}→${r.code & 15} on thread ${r.tid}${r.signo ? ` (${signalName(r.signo)})` : ''}` });
          break;
        case 'raise': {
          const kind = CANCEL_KIND[r.code] ?? `kind ${r.code}`;
          const how = kind === 'event' ? 'cancellation event raised for' : kind === 'lane' ? 'cancel message on the passthrough lane to' : 'stopped its own work:';
          servers.add(r.server);
          // drawn at the server that receives the cancel (posix itself for its own event)
          push('raise', r.ns, { id: r.id, server: r.server, pid: r.other, tid: 0, label: `posix: ${how} ${r.server || '?'}${r.other ? ` (pid ${r.other})` : ''}, request #${String(r.request)}` });
          break;
        }
        case 'ack':
          servers.add(r.server);
          push('ack', r.ns, { id: r.id, pid: r.other, tid: 0, server: r.server, label: `${r.server || pn(r.other)} stopped request #${String(r.request)} with progress ${r.progress} (${r.live} live)` });
          break;
        case 'action':
          push('action', r.ns, { id: r.id, label: `${signalName(r.signo)} default action: ${SIG_DEFAULT[r.code] ?? r.code}` });
          break;
        case 'enter':
          push('enter', r.ns, { id: r.id, tid: r.tid, label: `${signalName(r.signo)} handler runs (0x${BigInt(r.request).toString(16)})` });
          break;
        case 'return':
          push('return', r.ns, { id: r.id, tid: r.tid, label: `${signalName(r.signo)} handler returns` });
          break;
      }
    }
    // the reply: the caller's last request completing after the cancellation started; before it,
    // the answers servers got to the requests they made for the call (posix's fs.Open) then
    const startNs = items.length ? Math.min(...items.map((x) => x.ns)) : c.begin;
    let reply: Request | undefined;
    for (const r of c.requests) if (!r.depth && r.endNs === r.endNs && r.endNs >= startNs && (!reply || r.endNs >= reply.endNs)) reply = r;
    if (items.length) {
      for (const r of c.requests) {
        if (!r.depth || (r.act !== ACT_RECV_INLINE && r.act !== ACT_RECV_BUFFER) || !(r.endNs === r.endNs) || r.endNs < startNs || !r.matchId) continue;
        const by = this.processName(r.pid);
        push('forward', r.endNs, { id: r.submitId, matchId: r.matchId, pid: r.pid, tid: r.tid, server: this.serverOf(r), label: `${by} (working for the call) got its answer from ${this.serverOf(r)} (result ${r.result}${r.cancelled ? ', cancelled' : ''})` });
      }
    }
    if (reply && items.length) push('reply', reply.endNs, { id: reply.submitId, matchId: reply.matchId, server: this.serverOf(reply), label: `reply from ${this.serverOf(reply)} (result ${reply.result}${reply.cancelled ? ', cancelled' : ''})` });
    if (!items.length && c.outcome === 'completed') return out;
    if (c.end === c.end) push('end', c.end, { label: `${callLabel(c)} → ${c.result} (${outcomeLabel(c)})${c.endInferred ? ', the thread exited' : ''}` });
    if (c.exitNs === c.exitNs) push('exit', c.exitNs, { label: `${this.processName(c.pid)} exited` });
    const re = this.calls[c.restartedAs];
    if (re) push('restart', re.begin, { label: `restarted: ${callLabel(re)} again` });
    items.sort((a, b) => a.rank - b.rank || a.ns - b.ns || a.seq - b.seq);
    let prev = c.begin;
    for (const it of items) {
      out.links.push({ ...it.link, latency: it.ns - prev });
      prev = it.ns;
    }
    if (out.links.length) out.total = out.links[out.links.length - 1]!.ns - out.links[0]!.ns;
    out.servers = [...servers].filter(Boolean);
    const has = (k: LinkKind) => out.links.some((l) => l.kind === k);
    if (!has('generate')) out.missing.push('signal generated (sig_generate)');
    if (!has('flag')) out.missing.push('flag 1→2 (sig_flag)');
    if (!has('raise') && c.outcome !== 'raced') out.missing.push('cancel raised (cancel_raise)');
    if (has('raise') && !has('ack') && c.outcome !== 'killed') out.missing.push('server ack (cancel_ack)');
    if (!has('end')) out.missing.push('outcome (sys_end)');
    if (c.outcome === 'restarted' && !has('restart')) out.missing.push('the restarted call (sys_begin)');
    return out;
  }

  /** Server names involved in a call's cancellation (raise targets and ackers). */
  serversOf(idx: number): string[] {
    const s = new Set<string>();
    for (const r of this.calls[idx]?.recs ?? []) if ((r.kind === 'raise' || r.kind === 'ack') && r.server) s.add(r.server);
    return [...s];
  }

  /** The call's signal: the first generated, else the one sys_end names. */
  signalOf(idx: number): number {
    const c = this.calls[idx];
    if (!c) return 0;
    for (const r of c.recs ?? []) if (r.kind === 'generate') return r.signo;
    return c.signo;
  }
}
