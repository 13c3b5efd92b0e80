/*
 * bridge.ts — one target stub, many gdbs.
 *
 *   gdb (Lanescope, MI) ─┐                          ┌─ onStop hooks (flight recorder…)
 *   gdb (user terminal) ─┼─▶ GdbServer ─▶ Bridge ─▶ RspClient ─▶ QEMU gdbstub / LaneOS stub
 *   gdb …               ─┘  (unix socket; 127.0.0.1:PORT on request)
 *                                                └─ packet log (events + file)
 *
 * Consistency model (all-stop, like the target):
 * - Every client packet is handled on ONE serial chain, so requests reach the
 *   target one at a time and per-client state (Hg/Hc thread) is re-applied
 *   before register/memory packets.
 * - A resume (vCont;…, c, s, C, S) from a client while the target is stopped is
 *   forwarded; the client becomes "waiting". A resume while the target already
 *   runs (started by another client) is not forwarded: the client JOINS the run
 *   and becomes waiting too.
 * - When the target stops, onStop hooks run first (they may read memory), then
 *   EVERY waiting client gets the stop reply. Idle clients (gdb in all-stop
 *   mode does not read its socket while it believes the target is stopped, so
 *   an unsolicited stop reply would be taken as the answer to its next request)
 *   are not sent anything; the 'stop' event lists them as `missed`. Lanescope
 *   makes its own gdb follow the target by issuing -exec-continue when another
 *   client resumes (it then joins and sees the stop); a terminal user does the
 *   same with `continue`.
 * - A request from an idle client while the target runs a `continue` is served by
 *   a TRANSPARENT PAUSE: the bridge sends 0x03, serves the request(s), and resumes
 *   the same run; waiting clients never see that stop. While a single-step runs,
 *   requests just wait for the step to finish. A real stop that races the pause
 *   (breakpoint instead of SIGINT) is delivered normally.
 * - Breakpoints (Z/z) are reference-counted per client: the target gets Z on the
 *   first insert and z on the last removal; a client that detaches or vanishes
 *   has its breakpoints removed. Software breakpoints (Z0) are placed as hardware
 *   ones (Z1) while the target has debug registers free: under KVM software
 *   breakpoints set before the kernel is loaded are lost, and on this host's nested
 *   KVM an int3 hit even stops QEMU with an internal error (T06).
 * - D / k / vKill from a client detach that client only (the target keeps
 *   running for the others) unless killTargetOnKill is set.
 * - Target EOF while running (QEMU exits on isa-debug-exit): waiting clients get
 *   W00, all client sessions are closed, 'target-closed' is emitted, the bridge
 *   keeps listening and a new target can be attached (attachTarget).
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { Direction } from '../common/connection.js';
import { SIGINT, SIGTRAP, type StopReply } from '../common/packets.js';
import { printable, type RspError } from '../common/rsp.js';
import { bytesToHex, hexToBytes, unescapeBinary } from '../common/hex.js';
import { readBinaryAsHex, supportsBinaryRead } from './binary-read.js';
import { MAX_READ_CHUNK, RspClient, type TargetStop } from './client.js';
import { GdbServer, type GdbSession } from './server.js';

export type PacketDirection = 'client->bridge' | 'bridge->client' | 'bridge->target' | 'target->bridge';

export interface PacketLogEntry {
  time: number;
  dir: PacketDirection;
  /** Client id (1, 2, …) or 0 for the target side. */
  client: number;
  /** Wire bytes as a binary string (use printable() to show them). */
  bytes: string;
}

export interface BridgeOptions {
  logFile?: string;
  killTargetOnKill?: boolean;
  /** Time limit for each onStop hook. */
  hookTimeoutMs?: number;
  /**
   * 'hardware-first' (default): a client's Z0 is inserted as Z1 while debug registers
   * are free (KVM loses or mishandles software breakpoints); 'as-is' forwards Z0.
   */
  softwareBreakpoints?: 'hardware-first' | 'as-is';
  /**
   * Range stepping (default on): the bridge answers `vCont?` with `r` added, and runs a client's
   * `vCont;rSTART,END[:THREAD]` itself — single steps on the target until the pc leaves the range,
   * lands on a breakpoint or anything else stops it — so gdb's `next`/`step` costs one client
   * round trip per line instead of (vCont;s + g + m) across two hops per instruction.
   */
  rangeStepping?: boolean;
}

/** A client's range step in progress (see BridgeOptions.rangeStepping). */
interface RangeStep {
  start: bigint;
  end: bigint;
  /** The thread the range applies to, as the client wrote it (undefined: any). */
  thread?: string;
  /** The same vCont with the `r` action replaced by `s`. */
  packet: string;
}

/** How many times a single step that changed nothing is stepped again (see Bridge.stepMadeNoProgress). */
const STEP_RETRIES = 3;

/**
 * The thread a resume single-steps when it steps exactly one (`s`, `sAA`, `vCont;s[:T]`, alone or
 * with continue actions for the others); undefined for a continue or a signal step.
 */
export function singleStepThread(data: string, hc: string | undefined): string | undefined {
  const current = hc && hc !== '0' && hc !== '-1' ? hc : undefined;
  if (data === 's' || /^s[0-9a-fA-F]+$/.test(data)) return current;
  if (!data.startsWith('vCont;')) return undefined;
  const steps = data.slice(6).split(';').filter((a) => /^[sS]/.test(a));
  if (steps.length !== 1 || !/^s(:|$)/.test(steps[0]!)) return undefined;
  const t = steps[0]!.slice(2);
  return t && t !== '-1' && t !== '0' ? t : current;
}

/** `vCont;…` with an `rSTART,END[:THREAD]` action → the range and the packet with `s` in its place. */
export function parseRangeStep(data: string): RangeStep | undefined {
  if (!data.startsWith('vCont;')) return undefined;
  let found: Omit<RangeStep, 'packet'> | undefined;
  const actions = data.slice(6).split(';').map((a) => {
    const m = /^r([0-9a-fA-F]+),([0-9a-fA-F]+)(?::(.+))?$/.exec(a);
    if (!m || found) return a;
    found = { start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), ...(m[3] ? { thread: m[3] } : {}) };
    return m[3] ? `s:${m[3]}` : 's';
  });
  return found ? { ...found, packet: 'vCont;' + actions.join(';') } : undefined;
}

/**
 * Thread ids compare by their thread part and value: QEMU writes `p01.02` (multiprocess), a client
 * that did not negotiate multiprocess writes `2` for the same thread; "01" = "1".
 */
function sameThread(a: string, b: string): boolean {
  const tid = (x: string) => {
    const t = x.startsWith('p') ? x.slice(x.indexOf('.') + 1) : x;
    return /^[0-9a-fA-F]+$/.test(t) ? BigInt('0x' + t) : undefined; // p1, p1.-1: any thread
  };
  const x = tid(a);
  const y = tid(b);
  return x === undefined || y === undefined || x === y;
}

/** A `p` reply (target byte order: little-endian hex) as a number; undefined for errors. */
function leHexValue(r: string): bigint | undefined {
  if (!/^(?:[0-9a-fA-F]{2}){1,8}$/.test(r)) return undefined;
  let v = 0n;
  for (let i = r.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(r.slice(i, i + 2), 16));
  return v;
}

interface Client {
  s: GdbSession;
  hg?: string;
  hc?: string;
  waiting: boolean;
  bps: Set<string>;
  /** Follows runs started by others (Lanescope's own gdb; see follow.ts). */
  follower: boolean;
  /** A stop happened while this client was idle (it was not told). */
  missed: boolean;
  /** A follower following another client's run (setFollowing): its resumes join that client's next run. */
  following: boolean;
  /** Which reply of the cached thread list this client's next qsThreadInfo gets (threadList). */
  threadCursor?: number;
}

/** PacketSize the bridge offers its clients (gdb's own cap is 16 KiB); m/M/X are split for the target. */
export const CLIENT_PACKET_SIZE = 0x4000;

/** Bytes of sequential `m` reads the bridge keeps fetched ahead while the target is stopped. */
export const READ_AHEAD = 0x8000;
/**
 * Only bulk reads stream: a read shorter than this is never read ahead. gdb reads a struct's fields
 * one after the other (8 bytes at consecutive addresses) when it evaluates an expression; reading
 * 32 KiB ahead of those in 8-byte packets once queued 4096 packets in front of the next real request
 * (0.8 s per debugger stop).
 */
export const READ_AHEAD_MIN_LEN = 0x100;
/** At most this many reads are kept in flight ahead (what a non-sequential request may wait behind). */
export const READ_AHEAD_MAX_PACKETS = 16;

type Reply = { data: string; checksum?: number; parts?: string[] };

export type StopHook = (target: RspClient, stop: StopReply) => Promise<void>;

/*
 * What reaches the target. A client of the bridge (Lanescope's gdb, or a user's gdb on the port
 * opened on request) may send any packet; QEMU's gdbstub would act on more than a debugger needs —
 * `qRcmd` runs monitor commands, some of which write host files (pmemsave, memsave,
 * dump-guest-memory) or end QEMU. So the bridge forwards only the packets gdb uses to debug a
 * kernel, and of the monitor commands only those that read: anything else gets the protocol's
 * empty reply ("not supported") or E01, and the target never sees it.
 */
/**
 * A stop reply as clients get it: without the swbreak/hwbreak reasons, which the bridge does not
 * offer them (a Z0 it placed as Z1 would stop "hwbreak", and gdb rejects a reason it never
 * negotiated); gdb recognises its breakpoints by the pc, as with QEMU's stub.
 */
export function forClient(stop: string): string {
  return /^T/.test(stop) ? stop.replace(/(?:^|;)(?:swbreak|hwbreak):;?/g, (m) => (m.startsWith(';') ? ';' : '')) : stop;
}

const FORWARDED = /^(?:[gGpPmMXT]|qXfer:(?:features|threads|memory-map|exec-file|auxv):read:|q[fs]ThreadInfo$|qC$|qThreadExtraInfo,|qOffsets$|qSymbol|qTStatus$|qTf[VP]$|qTs[VP]$|qCRC:|qSearch:memory:|qGetTLSAddr:|qqemu\.|Qqemu\.|QPassSignals:|QProgramSignals:|QThreadEvents:|QDisableRandomization:|vCont\?$|qRcmd,)/;
const READING_MONITOR_COMMANDS = /^(?:info\s|x\s|xp\s|x\/|xp\/|help\b|\?)/;

/** undefined: forward; '': answer empty (unknown); a reason: refuse with E01. */
function refusal(data: string): string | undefined {
  if (!FORWARDED.test(data)) return '';
  if (data.startsWith('qRcmd,')) {
    const hex = data.slice(6);
    let cmd = '';
    for (let k = 0; k + 1 < hex.length; k += 2) cmd += String.fromCharCode(parseInt(hex.slice(k, k + 2), 16));
    if (!READING_MONITOR_COMMANDS.test(cmd.trim())) return `monitor command '${printable(cmd.trim().slice(0, 40))}' is not one that only reads (info, x, xp, help)`;
  }
  return undefined;
}

/** A resume that continues (c, Cxx, vCont with only c/C actions), not a single-step. */
function isContinue(data: string): boolean {
  if (/^vCont;/.test(data)) return !/;[sSr]/.test(data);
  return /^(c|C[0-9a-fA-F]{2})/.test(data);
}

/**
 * Events:
 *  'packet' PacketLogEntry · 'client-connected' {id, remote} · 'client-disconnected' {id, reason}
 *  'running' {client, packet} · 'joined' {client} · 'stop' {stop, notified: number[], missed: number[]}
 *  'protocol-error' {side: 'target'|'client', client, message} · 'target-closed' {message, whileRunning}
 *  'hook-error' {message} · 'error' is never emitted (no crash on unhandled 'error').
 */
export class Bridge extends EventEmitter {
  target: RspClient | undefined;
  readonly server: GdbServer;
  private clients = new Map<number, Client>();
  private chain: Promise<void> = Promise.resolve();
  /** Work in `chain` not yet finished: a client's interrupt waits behind its own packets. */
  private queued = 0;
  private parked: Array<() => Promise<void>> = [];
  private bpRefs = new Map<string, number>();
  /** Breakpoint key as the clients see it → as inserted in the target (Z0 may become Z1). */
  private bpActual = new Map<string, string>();
  private targetHg: string | undefined;
  private runPacket = 'vCont;c';
  /** The client that started the last run (0: none, or the bridge itself). */
  private lastRunBy = 0;
  /** A follower's resume held back for the user's gdb to start the run (see resume). */
  private deferred: { c: Client; data: string } | undefined;
  /**
   * A run was started and has not stopped yet. The target's own state says 'running' only once the
   * resume packet is sent, which waits behind requests still queued (the stop's register prefetch):
   * a second client's resume in between joins this run rather than starting another.
   */
  private runActive = false;
  private pausing = false;
  private userInterrupt = false;
  private hooks: StopHook[] = [];
  private log: fs.WriteStream | undefined;
  /**
   * Stop cache: what gdb reads first at every stop — the registers (`g`) and the 64-byte line of its
   * stack cache that holds rsp (`m<rsp & ~63>,40`) — fetched as soon as the target stops, while the
   * clients are still being told, so a stop costs gdb no target round trip before it can decide
   * (step on, or report). Exact like the read-ahead cache: used only for the identical packet under
   * the same target Hg thread, emptied by every resume, every stop and any packet that may change
   * target state (writes, breakpoints, resumes, v… and monitor commands).
   */
  private stopCache: { hg: string | undefined; g?: Promise<Reply>; m?: { addr: bigint; len: number; reply: Promise<Reply> } } | undefined;
  /** The range step a client asked for, while the bridge single-steps it. */
  private range: RangeStep | undefined;
  /** The registers read by the last single step of a range step that ended (the stop's `g`). */
  private rangeEndRegs: Reply | undefined;
  stats = { pauses: 0, forwarded: 0, stops: 0, readAheadHits: 0, rangeSteps: 0, rangeInstructions: 0, stopCacheHits: 0, threadListHits: 0, stepRetries: 0 };
  /** A client's single step in progress: its thread's registers before it (see stepMadeNoProgress). */
  private stepCheck: { thread: string; before: string; tries: number } | undefined;
  /**
   * Read-ahead cache: replies to `m` packets fetched before any client asked, oldest
   * first, each for exactly (addr, len) under the target's Hg thread at the time. Only
   * filled while a client reads sequentially with the target stopped; emptied by any
   * other packet from any client, any resume and any stop, so it never serves bytes
   * the target would not give now.
   */
  private readAhead: Array<{ addr: bigint; len: number; hg: string | undefined; reply: Promise<Reply> }> = [];
  private lastReadEnd: bigint | undefined;

  constructor(private readonly opts: BridgeOptions = {}) {
    super();
    if (opts.logFile) this.log = fs.createWriteStream(opts.logFile, { flags: 'a' });
    this.server = new GdbServer({
      onPacket: (s, d) => this.enqueue(() => this.handle(s, d)),
      // A Ctrl-C right behind a `c` (gdb's continue, then the user's interrupt, in one read) must
      // act on the run that `c` starts: while packets are queued it queues behind them.
      onInterrupt: (s) => {
        if (this.queued) this.enqueue(async () => this.onClientInterrupt(s));
        else this.onClientInterrupt(s);
      },
      onProtocolError: (s, e) => this.emit('protocol-error', { side: 'client', client: s.id, message: `client #${s.id}: ${e.message}`, error: e }),
      onClose: (s, i) => this.onClientClose(s, i),
      onLog: (s, d, b) => this.logPacket(d === 'recv' ? 'client->bridge' : 'bridge->client', s.id, b),
      wantLog: () => this.logging,
    });
    this.server.onAccept = (s) => {
      if (!this.target || this.target.state === 'closed') {
        this.emit('client-disconnected', { id: s.id, reason: 'rejected: the bridge has no target connection' });
        s.close();
        return;
      }
      this.clients.set(s.id, { s, waiting: false, bps: new Set(), follower: false, missed: false, following: false });
      this.emit('client-connected', { id: s.id, remote: s.remote });
    };
  }

  /**
   * Connect to a target and listen for gdbs: on 127.0.0.1:listen (a number; 0 = any free port) or on
   * a Unix socket ({ unix: path }; a TCP port can be opened later with listen()).
   */
  static async start(target: string, listen: number | { unix: string } = 0, opts: BridgeOptions = {}): Promise<Bridge> {
    const b = new Bridge(opts);
    await b.attachTarget(await RspClient.connect(target, { onLog: (d, x) => b.logPacket(d === 'send' ? 'bridge->target' : 'target->bridge', 0, x) }));
    if (typeof listen === 'number') await b.listen(listen);
    else await b.server.listenUnix(listen.unix);
    return b;
  }

  /** Opens the TCP listener on 127.0.0.1 (0 = any free port); resolves with the port. */
  listen(port = 0): Promise<number> {
    return this.server.listen(port);
  }

  /** The TCP port, once listen() opened it. */
  get port(): number | undefined {
    return this.server.port;
  }

  /** The Unix socket gdbs can `target remote` to, when started with { unix }. */
  get socketPath(): string | undefined {
    return this.server.socketPath;
  }

  /** What gdb's `target remote` takes to reach this bridge (the Unix socket first). */
  get gdbAddress(): string | undefined {
    return this.socketPath ?? (this.port !== undefined ? `127.0.0.1:${this.port}` : undefined);
  }

  /** Use this (connected, handshaken) target. Replaces a closed one. */
  attachTarget(t: RspClient): Promise<void> {
    if (this.target && this.target.state !== 'closed') throw new Error('bridge already has a live target');
    this.target = t;
    this.runActive = false;
    this.bpRefs.clear();
    this.bpActual.clear();
    this.targetHg = undefined;
    this.threadListCache = undefined;
    this.pausing = false;
    this.parked = [];
    t.conn.onLog ??= (d, x) => this.logPacket(d === 'send' ? 'bridge->target' : 'target->bridge', 0, x);
    t.conn.wantLog = () => this.logging;
    t.on('protocol-error', (e: RspError) => this.emit('protocol-error', { side: 'target', client: 0, message: `target: ${e.message}`, error: e }));
    t.on('close', (i: { message: string; whileRunning: boolean }) => this.onTargetClose(t, i));
    return Promise.resolve();
  }

  /**
   * Mark a client as a follower: it is expected to join runs started by other clients
   * (follow.ts makes an MI gdb do that); if it joins after the run already ended it
   * gets that stop instead of resuming the target again.
   */
  setFollower(clientId: number, on = true): void {
    const c = this.clients.get(clientId);
    if (!c) throw new Error(`bridge has no client #${clientId}`);
    c.follower = on;
  }

  /**
   * A follower is following another client's run (follow.ts: from the -exec-continue it gives its
   * gdb until that gdb reports the stop) rather than running the target for its own user. While it
   * is, a resume it sends with the target stopped — RISC-V's gdb steps over a breakpoint by running
   * to a temporary one and then resumes again — waits for the client that ran the target last to
   * resume, and joins that run: the user's gdb always starts its own runs, however long it takes
   * between two packets. It runs alone only if that client leaves (detach, disconnect).
   */
  setFollowing(clientId: number, on: boolean): void {
    const c = this.clients.get(clientId);
    if (!c) return;
    c.following = on;
  }

  /**
   * Lets a stopped target run on with no client waiting (a board whose last gdb left). The run is
   * the bridge's own, so a gdb that attaches later is served by a transparent pause; a resume sent
   * straight to the RspClient would bypass the bridge, which then never sees that run's stop (the
   * requests it parked behind its 0x03 were never served).
   */
  resumeTarget(): void {
    this.enqueue(async () => {
      const t = this.target;
      if (t && t.state === 'stopped' && !this.runActive) this.startRun(t, 'vCont;c', 0);
    });
  }

  /** Run `hook` with the target stopped, before any client sees a stop. */
  onStop(hook: StopHook): () => void {
    this.hooks.push(hook);
    return () => { this.hooks = this.hooks.filter((h) => h !== hook); };
  }

  get clientIds(): number[] {
    return [...this.clients.keys()];
  }

  async close(): Promise<void> {
    await this.server.close();
    this.target?.close();
    const log = this.log;
    this.log = undefined;
    await new Promise<void>((r) => (log ? log.end(() => r()) : r()));
  }

  /* ------------------------------------------------------------------ plumbing */

  /** True while someone listens to 'packet' events or a log file is open. */
  get logging(): boolean {
    return this.log !== undefined || this.listenerCount('packet') > 0;
  }

  logPacket(dir: PacketDirection, client: number, bytes: string): void {
    const e: PacketLogEntry = { time: Date.now(), dir, client, bytes };
    if (this.listenerCount('packet') > 0) this.emit('packet', e);
    this.log?.write(`${new Date(e.time).toISOString()} ${dir.padEnd(14)} ${client ? '#' + client : 'target'} ${printable(bytes)}\n`);
  }

  private enqueue(fn: () => Promise<void>): void {
    this.queued++;
    this.chain = this.chain.then(fn).catch((e: Error) => {
      this.emit('protocol-error', { side: 'target', client: 0, message: `bridge: ${e.message}` });
    }).finally(() => { this.queued--; });
  }

  private reply(c: Client, data: string): void {
    if (!c.s.closed) c.s.reply(data);
  }

  /* ------------------------------------------------------------------ requests */

  private async handle(s: GdbSession, data: string): Promise<void> {
    const c = this.clients.get(s.id);
    const t = this.target;
    if (!c || s.closed) return;
    if (!t || t.state === 'closed') {
      this.reply(c, 'E01');
      return;
    }
    const head = data[0];
    if (head !== 'm') this.invalidateReadAhead();
    if (/^(?:[MXGPZzTDkcsCSR!]|v(?!Cont\?$)|qRcmd)/.test(data)) this.stopCache = undefined;
    if (data.startsWith('qSupported')) return this.reply(c, this.supportedReply(t));
    if (data === 'QStartNoAckMode') {
      // The OK still travels acknowledged (gdb acks it); from then on neither side acks.
      this.reply(c, 'OK');
      c.s.conn.noAck = true;
      return;
    }
    if (data === 'vMustReplyEmpty' || data.startsWith('QNonStop') ||
        data.startsWith('vRun') || data.startsWith('vAttach') || data === '!') return this.reply(c, '');
    if (head === 'H' && (data[1] === 'g' || data[1] === 'c')) {
      if (data[1] === 'g') c.hg = data.slice(2); else c.hc = data.slice(2);
      return this.reply(c, 'OK');
    }
    if (data === '?') {
      const last = t.lastStop;
      if (last?.kind === 'signal' && last.thread) c.hg = last.thread;
      return this.reply(c, forClient(last?.raw ?? 'S05'));
    }
    if (data.startsWith('qAttached')) return this.reply(c, '1');
    if (data === 'vCont?' && this.opts.rangeStepping !== false && t.state !== 'running') {
      const r = await this.request(c, t, data);
      return this.reply(c, /^vCont;.*\bs\b/.test(r) && !/;r\b/.test(r) ? r + ';r' : r);
    }
    if (data === 'D' || data.startsWith('D;') || data.startsWith('vKill')) {
      await this.dropClient(c);
      return this.reply(c, 'OK');
    }
    if (data === 'k') {
      await this.dropClient(c);
      if (this.opts.killTargetOnKill) t.conn.sendPacket('k');
      c.s.close();
      return;
    }
    if (head === 'Z' || head === 'z') return this.breakpoint(c, t, data);
    if ((data === 'qfThreadInfo' || data === 'qsThreadInfo') && t.state === 'stopped') return this.threadList(c, t, data);
    if (/^(vCont;|[cs]$|[cs][0-9a-fA-F]|[CS][0-9a-fA-F]{2})/.test(data)) return this.resume(c, t, data);
    const refused = refusal(data);
    if (refused === '') return this.reply(c, ''); // unknown: "not supported", as RSP answers it
    if (refused !== undefined) {
      this.emit('protocol-error', { side: 'client', client: c.s.id, message: `client #${c.s.id}: refused, not forwarded to the target: ${refused}` });
      return this.reply(c, 'E01');
    }
    return this.forward(c, t, data);
  }

  private supportedReply(_t: RspClient): string {
    // Clients may send/ask for up to 64 KiB: the bridge splits m/M/X into packets the
    // target accepts (QEMU: 0x800 bytes per m), saving client round trips.
    const t = _t;
    const ps = CLIENT_PACKET_SIZE.toString(16);
    const xml = t.features.get('qXfer:features:read') === '+' ? '+' : '-';
    // a target that names its threads (LaneOS's stub: CPUs after what they run) passes that on
    const threads = t.features.get('qXfer:threads:read') === '+' ? ';qXfer:threads:read+' : '';
    return `PacketSize=${ps};qXfer:features:read${xml}${threads};vContSupported+;QStartNoAckMode+`;
  }

  /** Forward a request to the target (pausing it transparently if it runs). */
  /**
   * The target's threads (qfThreadInfo, then qsThreadInfo until `l`), read once and answered from
   * the bridge: gdb lists them at every stop (all-stop mode), 3 round trips to QEMU per Step Over,
   * and QEMU's threads are its vCPUs, fixed for the VM's life. Read again when a stop names a thread
   * the list lacks, or a new target is attached. For a target that offers qXfer:threads:read it is
   * read again at each qfThreadInfo (kept only for that listing's qsThreadInfo): LaneOS's stub
   * names the kernel threads on the CPUs, which change at every stop (gdb reads that list with
   * qXfer, passed on; this is for a client that asks the old way).
   */
  private threadListCache: { replies: string[]; ids: string[] } | undefined;
  private async threadList(c: Client, t: RspClient, data: string): Promise<void> {
    const stopThread = t.lastStop?.kind === 'signal' ? t.lastStop.thread : undefined;
    let cache = this.threadListCache;
    if (cache && stopThread && !cache.ids.some((id) => sameThread(id, stopThread))) cache = undefined;
    if (data === 'qfThreadInfo' && t.features.get('qXfer:threads:read') === '+') cache = undefined;
    if (cache) this.stats.threadListHits++;
    else {
      try {
        const replies = [await t.request('qfThreadInfo')];
        while (replies[replies.length - 1]!.startsWith('m') && replies.length < 256) replies.push(await t.request('qsThreadInfo'));
        const ids = replies.filter((r) => r.startsWith('m')).flatMap((r) => r.slice(1).split(','));
        cache = { replies, ids };
        // only a complete list is kept (an error or an unsupported packet is passed on each time)
        this.threadListCache = replies[replies.length - 1] === 'l' ? cache : undefined;
      } catch (e) {
        this.emit('protocol-error', { side: 'target', client: c.s.id, message: (e as Error).message });
        return this.reply(c, 'E01');
      }
    }
    c.threadCursor = data === 'qfThreadInfo' ? 0 : (c.threadCursor ?? 0) + 1;
    this.reply(c, cache.replies[c.threadCursor] ?? 'l');
  }

  private async forward(c: Client, t: RspClient, data: string): Promise<void> {
    if (t.state === 'running') {
      this.park(t, () => this.forward(c, t, data));
      return;
    }
    try {
      if ('gGpPmMX'.includes(data[0]!) && c.hg && c.hg !== '0' && c.hg !== '-1') await this.selectThread(t, c.hg);
      const cache = this.stopCache;
      if (data === 'g' && cache?.g && cache.hg === this.targetHg) {
        this.stats.stopCacheHits++;
        const r = await cache.g;
        if (!c.s.closed) c.s.conn.sendPacket(r.data, r.checksum);
        return;
      }
      this.stats.forwarded++;
      const r = await this.split(t, data);
      if (c.s.closed) return;
      if (r.parts && r.checksum !== undefined) c.s.conn.sendPacketParts(r.parts, r.checksum);
      else c.s.conn.sendPacket(r.data, r.checksum);
    } catch (e) {
      this.emit('protocol-error', { side: 'target', client: c.s.id, message: (e as Error).message });
      this.reply(c, 'E01');
    }
  }

  /**
   * Send `data` to the target, splitting memory reads and writes that exceed what
   * the target accepts into several packets (answers are joined: a read that fails
   * part-way returns the bytes read so far, as RSP allows).
   */
  private async split(t: RspClient, data: string): Promise<{ data: string; checksum?: number; parts?: string[] }> {
    const head = data[0];
    if (head === 'm') {
      const m = /^m([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(data);
      const len = m ? parseInt(m[2]!, 16) : 0;
      if (!m || len === 0 || len > 0x100000) return this.pass(t, data);
      const addr = BigInt('0x' + m[1]);
      // Serve from the read-ahead cache when this exact read was fetched ahead.
      let cached: Promise<Reply> | undefined;
      while (this.readAhead.length > 0) {
        const ra = this.readAhead.shift()!;
        if (ra.addr === addr && ra.len === len && ra.hg === this.targetHg) {
          cached = ra.reply;
          this.stats.readAheadHits++;
          break;
        }
        if (ra.addr > addr) { this.readAhead = []; break; }
      }
      const sc = this.stopCache?.m;
      if (!cached && sc && sc.addr === addr && sc.len === len && this.stopCache!.hg === this.targetHg) {
        this.stats.stopCacheHits++;
        cached = sc.reply;
      }
      const reply = cached ?? this.readSplit(t, addr, len);
      // Streaming detected (this read continues the previous one): keep READ_AHEAD
      // bytes of following reads pipelined to the target while the client digests
      // this one, so the extra hop's latency is hidden.
      const end = addr + BigInt(len);
      if (this.lastReadEnd === addr && len >= READ_AHEAD_MIN_LEN) {
        let next = this.readAhead.length > 0 ? this.readAhead[this.readAhead.length - 1]!.addr + BigInt(len) : end;
        while (next - end < BigInt(READ_AHEAD) && this.readAhead.length < READ_AHEAD_MAX_PACKETS && next + BigInt(len) <= 1n << 64n) {
          this.readAhead.push({ addr: next, len, hg: this.targetHg, reply: this.readSplit(t, next, len).catch(() => ({ data: 'E01' })) });
          next += BigInt(len);
        }
      } else this.readAhead = [];
      this.lastReadEnd = end;
      return await reply;
    }
    const limit = t.packetSize - 32;
    if ((head === 'M' || head === 'X') && data.length > limit) {
      const colon = data.indexOf(':');
      const m = /^[MX]([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(data.slice(0, colon));
      if (colon < 0 || !m) return { data: 'E22' };
      let bytes: Uint8Array;
      try {
        bytes = head === 'M' ? hexToBytes(data.slice(colon + 1)) : unescapeBinary(data.slice(colon + 1));
      } catch {
        return { data: 'E22' };
      }
      const addr = BigInt('0x' + m[1]);
      const per = Math.floor(limit / 2);
      for (let off = 0; off < bytes.length; off += per) {
        const part = bytes.subarray(off, off + per);
        const r = await t.request(`M${(addr + BigInt(off)).toString(16)},${part.length.toString(16)}:${bytesToHex(part)}`);
        if (r !== 'OK') return { data: r };
      }
      return { data: 'OK' };
    }
    return this.pass(t, data);
  }

  private async pass(t: RspClient, data: string): Promise<{ data: string; checksum?: number }> {
    const r = await t.requestWithChecksum(data);
    return r.checksum !== undefined ? { data: r.reply, checksum: r.checksum } : { data: r.reply };
  }

  private async readSplit(t: RspClient, addr: bigint, len: number): Promise<Reply> {
    // a stub with binary reads (LaneOS's, on a serial line): `x` on the target side, hex to the client
    if (supportsBinaryRead(t)) {
      const r = await readBinaryAsHex(t, addr, len);
      if (r) return r;
    }
    // Reads have no side effects on RAM, and QEMU answers pipelined packets in order:
    // all parts go out at once (RspClient keeps up to MAX_PIPELINE in flight).
    const parts: Array<Promise<{ reply: string; checksum: number | undefined }>> = [];
    for (let off = 0; off < len; off += MAX_READ_CHUNK) {
      const n = Math.min(MAX_READ_CHUNK, len - off);
      parts.push(t.requestWithChecksum(`m${(addr + BigInt(off)).toString(16)},${n.toString(16)}`, undefined, true));
    }
    if (parts.length === 1) {
      const { reply, checksum } = await parts[0]!;
      return checksum !== undefined ? { data: reply, checksum } : { data: reply };
    }
    const replies = await Promise.all(parts);
    const good: string[] = [];
    let size = 0;
    let cs: number | undefined = 0;
    for (const [i, { reply: r, checksum }] of replies.entries()) {
      const n = Math.min(MAX_READ_CHUNK, len - i * MAX_READ_CHUNK);
      const isError = r === '' || (r.length === 3 && r[0] === 'E');
      if (isError) {
        if (i === 0) return { data: r };
        break;
      }
      good.push(r);
      size += r.length;
      cs = cs === undefined || checksum === undefined ? undefined : cs + checksum;
      if (r.length < 2 * n) break; // short read: stop here (RSP allows partial replies)
    }
    // The sum of the parts' checksums is the checksum of their concatenation. The
    // parts are kept separate so the reply is written without building a big string.
    if (cs === undefined || good.length !== replies.length) return { data: good.join('') };
    return { data: '', parts: good, checksum: cs & 0xff, size } as { data: string; checksum: number; parts: string[] };
  }

  /** Forget read-ahead data: anything but a sequential bulk read may change memory. */
  /** The target is x86-64 (its description says so): `g` holds rsp at byte 56 and rip at 128. */
  private isX86_64(t: RspClient): boolean {
    return /<architecture>\s*i386:x86-64\s*<\/architecture>/.test(t.targetXml ?? '');
  }

  /** Start reading what gdb reads first at a stop (see stopCache); `g` may be known already. */
  private prefetchStop(t: RspClient, g?: Reply): void {
    if (t.state !== 'stopped' || !this.isX86_64(t)) return;
    const hg = this.targetHg;
    const regs = g ? Promise.resolve(g) : this.pass(t, 'g').catch(() => ({ data: 'E01' }) as Reply);
    const cache: NonNullable<Bridge['stopCache']> = { hg, g: regs };
    this.stopCache = cache;
    void regs.then((r) => {
      const rsp = leHexValue(r.data.slice(112, 128));
      if (rsp === undefined || this.stopCache !== cache || t.state !== 'stopped') return;
      const addr = rsp & ~63n;
      cache.m = { addr, len: 0x40, reply: this.pass(t, `m${addr.toString(16)},40`).catch(() => ({ data: 'E01' })) };
    });
  }

  private invalidateReadAhead(): void {
    this.readAhead = [];
    this.lastReadEnd = undefined;
  }

  /** Run `op` when the target is next stopped; pause a `continue` to get there now. */
  private park(t: RspClient, op: () => Promise<void>): void {
    this.parked.push(op);
    const stepping = /^[sS]|;[sS]/.test(this.runPacket);
    if (!stepping && !this.pausing) {
      this.pausing = true;
      this.stats.pauses++;
      t.interrupt();
    }
  }

  private async breakpoint(c: Client, t: RspClient, data: string, silent = false): Promise<void> {
    const answer = (r: string) => (silent ? undefined : this.reply(c, r));
    const m = /^([Zz])([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)/.exec(data);
    if (!m) return answer('E22');
    if (t.state === 'running') {
      if (c.follower && this.lastRunBy !== 0 && this.lastRunBy !== c.s.id && !silent) {
        // The follower joining another client's run (its gdb steps over its own breakpoint with a
        // temporary one, on RISC-V): inserted at that run's stop, so the run stops only where the
        // client that started it asked — else the user's gdb gets a stop it never set.
        this.reply(c, 'OK');
        this.parked.push(() => this.breakpoint(c, t, data, true));
        return;
      }
      this.park(t, () => this.breakpoint(c, t, data, silent));
      return;
    }
    const key = `${m[2]},${m[3]!.toLowerCase()},${m[4]!.toLowerCase()}`;
    const refs = this.bpRefs.get(key) ?? 0;
    if (m[1] === 'Z') {
      if (c.bps.has(key)) return answer('OK');
      if (refs > 0) {
        c.bps.add(key);
        this.bpRefs.set(key, refs + 1);
        return answer('OK');
      }
      let actual = key;
      let r = '';
      if (m[2] === '0' && (this.opts.softwareBreakpoints ?? 'hardware-first') === 'hardware-first') {
        // Software breakpoints are unreliable under KVM (lost when set before the image
        // is loaded; an int3 hit is an internal error under nested KVM): use a debug
        // register while one is free, else fall back to a real software breakpoint.
        actual = `1,${m[3]!.toLowerCase()},${m[4]!.toLowerCase()}`;
        r = await this.request(c, t, 'Z' + actual);
        if (r !== 'OK') actual = key;
      }
      if (actual === key) r = await this.request(c, t, data);
      if (r === 'OK') {
        c.bps.add(key);
        this.bpRefs.set(key, 1);
        this.bpActual.set(key, actual);
      }
      return answer(r);
    }
    if (c.bps.has(key)) {
      c.bps.delete(key);
      if (refs > 1) {
        this.bpRefs.set(key, refs - 1);
        return answer('OK');
      }
      this.bpRefs.delete(key);
    } else if (refs > 0) return answer('OK');
    const actual = this.bpActual.get(key) ?? key;
    this.bpActual.delete(key);
    return answer(await this.request(c, t, 'z' + actual));
  }

  private async request(c: Client, t: RspClient, data: string): Promise<string> {
    try {
      this.stats.forwarded++;
      return await t.request(data);
    } catch (e) {
      this.emit('protocol-error', { side: 'target', client: c.s.id, message: (e as Error).message });
      return 'E01';
    }
  }

  private async resume(c: Client, t: RspClient, data: string, undeferred = false): Promise<void> {
    if (undeferred) this.lastRunBy = 0;
    if (t.state === 'running' || this.runActive) {
      // Someone else's run is in progress: join it, answer at the stop.
      c.waiting = true;
      c.missed = false;
      this.emit('joined', { client: c.s.id });
      return;
    }
    if (c.follower && c.missed && t.lastStop) {
      // A follower catching up with a run that already ended: give it that stop
      // instead of starting a new run.
      c.missed = false;
      this.emit('joined', { client: c.s.id, late: true });
      if (t.lastStop.kind === 'signal' && t.lastStop.thread) c.hg = t.lastStop.thread;
      this.reply(c, forClient(t.lastStop.raw));
      return;
    }
    c.missed = false;
    const leader = this.clients.get(this.lastRunBy);
    if (c.follower && c.following && leader && leader !== c && !leader.follower && !leader.waiting && !this.deferred) {
      // Following a user's gdb that ran the target last: let that gdb start the next run and join it
      // (its gdb may be stepping over a breakpoint by running to a temporary one, as RISC-V's does; a
      // run the follower started first would cut into that). No timer: the follower waits for that
      // gdb's resume (startRun) or its leaving (dropClient); a Pause answers at once.
      c.waiting = true;
      this.deferred = { c, data };
      return;
    }
    if (/^[cs]/.test(data) && c.hc && c.hc !== '0' && c.hc !== '-1') await this.request(c, t, 'Hc' + c.hc);
    c.waiting = true;
    if (isContinue(data)) {
      const stop = await this.stepOverOthers(c, t);
      if (stop) {
        // the step ended the target (exited, closed): that is the stop of this run
        this.emit('running', { client: c.s.id, packet: data });
        await this.onTargetStop(t, stop);
        return;
      }
    }
    const range = parseRangeStep(data);
    const stepThread = range ? undefined : singleStepThread(data, c.hc);
    const before = stepThread ? await this.registersOf(t, stepThread) : undefined;
    this.startRun(t, range?.packet ?? data, c.s.id);
    if (stepThread && before) this.stepCheck = { thread: stepThread, before, tries: 0 };
    if (range) {
      this.range = range;
      this.stats.rangeSteps++;
    }
  }

  /**
   * A client continues from a stop while other clients' breakpoints stay inserted (it removed its own
   * at the pc to step over it, but the bridge keeps another client's at the same address). A stub
   * resuming at a breakpoint's address may stop there again at once — QEMU does unless it single-
   * steps — and a gdb that steps over its breakpoint by continuing to a temporary one (RISC-V's
   * software single-step) then never gets past it. So before forwarding the continue the bridge
   * removes those breakpoints, single-steps one instruction, and inserts them again: what the
   * continue would have run anyway. Returns the step's stop only when it was not a plain trap.
   */
  private async stepOverOthers(c: Client, t: RspClient): Promise<TargetStop | null> {
    const others = [...this.bpRefs.keys()].filter((k) => !c.bps.has(k) && (k.startsWith('0,') || k.startsWith('1,')));
    if (!others.length) return null;
    const actual = others.map((k) => this.bpActual.get(k) ?? k);
    for (const a of actual) await this.request(c, t, 'z' + a);
    this.invalidateReadAhead();
    // The thread a plain `s` steps: the client's Hc if it named one (sent above), else the one the
    // target stopped in — a stub makes it the continue thread at a stop (QEMU does), while Hg (a
    // client's register reads since) moves only the thread for `g`.
    const thread =
      c.hc && c.hc !== '0' && c.hc !== '-1' ? c.hc : (t.lastStop?.kind === 'signal' ? t.lastStop.thread : undefined) ?? this.targetHg;
    const before = thread ? await this.registersOf(t, thread) : undefined;
    let stop = await t.resume('s');
    this.stats.forwarded++;
    for (let tries = 0; thread && before && tries < STEP_RETRIES; tries++) {
      if (!(await this.stepChangedNothing(t, stop, thread, before)).unchanged) break;
      this.stats.stepRetries++;
      stop = await t.resume('s');
    }
    if (stop.kind !== 'signal') return stop;
    for (const a of actual) await this.request(c, t, 'Z' + a);
    return null;
  }

  private startRun(t: RspClient, packet: string, by: number): void {
    this.invalidateReadAhead();
    if (by !== 0) this.lastRunBy = by;
    if (this.deferred) {
      // the follower waiting for this run joins it
      if (this.deferred.c.waiting) this.emit('joined', { client: this.deferred.c.s.id });
      this.deferred = undefined;
    }
    this.runPacket = packet;
    this.runActive = true;
    this.range = undefined;
    this.stepCheck = undefined;
    this.stopCache = undefined;
    this.pausing = false;
    this.userInterrupt = false;
    this.targetHg = undefined;
    const run = t.resume(packet);
    this.emit('running', { client: by, packet });
    run.then((stop) => this.enqueue(() => this.onTargetStop(t, stop)), () => undefined);
  }

  private onClientInterrupt(s: GdbSession): void {
    const c = this.clients.get(s.id);
    const t = this.target;
    if (c && t && this.deferred?.c === c && t.state === 'stopped') {
      // a Pause while its resume was held back: it never ran; answer with the stop it is at
      this.deferred = undefined;
      c.waiting = false;
      this.reply(c, 'T02');
      return;
    }
    if (!c || !t || t.state === 'closed' || !c.waiting) return;
    // Also between two single steps of a range step (target stopped, client still waiting): the
    // flag ends the range step at the next stop.
    this.userInterrupt = true;
    // (a run started whose resume still waits behind queued requests: the interrupt follows it)
    if ((t.state === 'running' || this.runActive) && !this.pausing) t.interrupt();
  }

  private async onTargetStop(t: RspClient, stop: TargetStop): Promise<void> {
    // QEMU makes the stopped CPU its current (Hg) thread; gdb assumes the same of every
    // stub (record_currthread), so both the target's and the told clients' selections move.
    const stopThread = stop.kind === 'signal' ? stop.thread : undefined;
    this.targetHg = stopThread;
    this.invalidateReadAhead();
    if (t === this.target) this.runActive = false;
    if (stop.kind === 'disconnected' || t !== this.target) return; // onTargetClose handles it
    const wasPause = this.pausing && stop.kind === 'signal' && stop.signal === SIGINT && !this.userInterrupt;
    this.pausing = false;
    if (wasPause) {
      await this.runParked();
      if (t.state === 'stopped') this.startRun(t, this.runPacket, 0);
      return;
    }
    const check = this.stepCheck;
    this.stepCheck = undefined;
    if (check) {
      const after = await this.stepMadeNoProgress(t, stop, check);
      if (after === true) return;
      if (after) this.rangeEndRegs = after;
    }
    const range = this.range;
    this.range = undefined;
    this.stopCache = undefined;
    if (!check) this.rangeEndRegs = undefined;
    if (range) {
      if (await this.stepOnInRange(t, stop, range)) return;
      // Stopped by the client's interrupt in the range: report it as the SIGINT it was asked for
      // (a SIGTRAP inside the range would make gdb step on).
      if (this.userInterrupt && stop.kind === 'signal' && stop.signal === SIGTRAP) {
        stop = { ...stop, signal: SIGINT, raw: 'T02' + stop.raw.slice(3) };
      }
    }
    this.stats.stops++;
    if (stop.kind !== 'invalid') {
      for (const h of this.hooks) {
        try {
          await withTimeout(h(t, stop), this.opts.hookTimeoutMs ?? 10000, 'onStop hook');
        } catch (e) {
          this.emit('hook-error', { message: `onStop hook failed: ${(e as Error).message}` });
        }
      }
    }
    if (stop.kind === 'signal') this.prefetchStop(t, this.rangeEndRegs);
    this.rangeEndRegs = undefined;
    // Expedite rbp, rsp and rip in the stop reply (as gdbserver does): gdb then decides whether
    // to step on without fetching the registers first.
    let raw = stop.raw;
    const regs = (this.stopCache as Bridge['stopCache'])?.g; // set by prefetchStop just above
    if (stop.kind === 'signal' && stop.raw[0] === 'T' && stop.registers.size === 0 && regs) {
      const g = (await regs).data;
      if (/^[0-9a-fA-F]{272}/.test(g)) raw += `${raw.endsWith(';') ? '' : ';'}06:${g.slice(96, 112)};07:${g.slice(112, 128)};10:${g.slice(256, 272)};`;
    }
    const notified: number[] = [];
    const missed: number[] = [];
    for (const c of this.clients.values()) {
      if (c.waiting) {
        c.waiting = false;
        if (stopThread) c.hg = stopThread;
        this.reply(c, forClient(raw));
        notified.push(c.s.id);
      } else {
        c.missed = true;
        missed.push(c.s.id);
      }
    }
    this.emit('stop', { stop, notified, missed });
    await this.runParked();
  }

  /** Makes `thread` the target's Hg thread unless it is already; false if the target refused it. */
  private async selectThread(t: RspClient, thread: string): Promise<boolean> {
    if (this.targetHg !== undefined && sameThread(thread, this.targetHg)) return true;
    this.invalidateReadAhead(); // memory reads depend on the selected CPU
    if ((await t.request('Hg' + thread)) !== 'OK') return false;
    this.targetHg = thread;
    return true;
  }

  /** The registers (`g`) of `thread` on the stopped target, selecting it first; undefined if unreadable. */
  private async registersOf(t: RspClient, thread: string): Promise<string | undefined> {
    try {
      if (!(await this.selectThread(t, thread))) return undefined;
      const g = await this.pass(t, 'g');
      return /^[0-9a-fA-F]+$/.test(g.data) && g.data.length >= 16 ? g.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** A single step of `thread` ended in `stop`: a plain trap of that thread whose registers are still `before`? */
  private async stepChangedNothing(t: RspClient, stop: TargetStop, thread: string, before: string): Promise<{ unchanged: boolean; after?: Reply }> {
    if (stop.kind !== 'signal' || stop.signal !== SIGTRAP || stop.reasons.length > 0) return { unchanged: false };
    if (stop.thread && !sameThread(stop.thread, thread)) return { unchanged: false };
    if (stop.thread) this.targetHg = stop.thread;
    const after = await this.pass(t, 'g').catch(() => undefined);
    return after ? { unchanged: after.data === before, after } : { unchanged: false };
  }

  /**
   * QEMU (7.2, TCG) now and then answers a single step with a SIGTRAP before executing anything —
   * about one step in 300 right after the breakpoint at the pc was removed (reproduced with a bare
   * RSP client, no bridge). gdb then believes it stepped over the breakpoint, continues and hits it
   * again at once: the user sees the same breakpoint hit twice (CI: `n = 2` twice). So a client's
   * single step whose thread's registers did not change at all is stepped again (a few times at
   * most: `jmp .` really does not change them). Returns true when it stepped again (the stop comes
   * later), else the registers read after the step (the stop's `g`), or undefined.
   */
  private async stepMadeNoProgress(t: RspClient, stop: TargetStop, check: { thread: string; before: string; tries: number }): Promise<true | Reply | undefined> {
    if (this.userInterrupt) return undefined;
    const { unchanged, after } = await this.stepChangedNothing(t, stop, check.thread, check.before);
    if (!unchanged || check.tries >= STEP_RETRIES) return after;
    this.stats.stepRetries++;
    this.invalidateReadAhead();
    this.stepCheck = { ...check, tries: check.tries + 1 };
    this.runActive = true;
    t.resume(this.runPacket).then((s) => this.enqueue(() => this.onTargetStop(t, s)), () => undefined);
    return true;
  }

  /**
   * One single step of a range step ended: when it is a plain step of the range's thread that left
   * the pc inside the range and not on a breakpoint, serve parked requests and step again (true).
   * Anything else — the pc out of the range, a breakpoint or watchpoint, another thread, a signal,
   * the client's interrupt, an unreadable pc — ends the range step and is reported (false).
   */
  private async stepOnInRange(t: RspClient, stop: TargetStop, r: RangeStep): Promise<boolean> {
    if (this.userInterrupt || stop.kind !== 'signal' || stop.signal !== SIGTRAP) return false;
    if (stop.reasons.length > 0 || stop.registers.size > 0) return false;
    if (r.thread && stop.thread && r.thread !== '-1' && r.thread !== '0' && !sameThread(r.thread, stop.thread)) return false;
    // rip of the stopped CPU (QEMU makes it the current thread): from `g` on x86-64, kept for the
    // client's own `g` when the range step ends here; else `p10`.
    let pc: bigint | undefined;
    const x64 = this.isX86_64(t);
    let g: Reply | undefined;
    try {
      if (x64) {
        g = await this.pass(t, 'g');
        pc = leHexValue(g.data.slice(256, 272));
      } else pc = leHexValue(await t.request('p10'));
    } catch {
      return false;
    }
    this.targetHg = stop.thread;
    if (pc === undefined || pc < r.start || pc >= r.end) {
      this.rangeEndRegs = g;
      return false;
    }
    for (const key of this.bpActual.values()) {
      const [type, addr] = key.split(',');
      if ((type === '0' || type === '1') && BigInt('0x' + addr) === pc) return false;
    }
    await this.runParked();
    if (t.state !== 'stopped' || this.userInterrupt) return false;
    this.stats.rangeInstructions++;
    this.invalidateReadAhead();
    this.targetHg = undefined;
    this.range = r;
    this.runActive = true;
    t.resume(r.packet).then((s) => this.enqueue(() => this.onTargetStop(t, s)), () => undefined);
    return true;
  }

  private async runParked(): Promise<void> {
    while (this.parked.length > 0 && this.target?.state === 'stopped') {
      const op = this.parked.shift()!;
      await op();
    }
  }

  /* ------------------------------------------------------------------ endings */

  private async dropClient(c: Client): Promise<void> {
    c.waiting = false;
    if (this.deferred?.c === c) this.deferred = undefined;
    const t = this.target;
    for (const key of c.bps) {
      const n = (this.bpRefs.get(key) ?? 1) - 1;
      if (n > 0) { this.bpRefs.set(key, n); continue; }
      this.bpRefs.delete(key);
      const actual = this.bpActual.get(key) ?? key;
      this.bpActual.delete(key);
      if (!t || t.state === 'closed') continue;
      const remove = async () => { await this.request(c, t, 'z' + actual); };
      if (t.state === 'running') this.park(t, remove);
      else await remove();
    }
    c.bps.clear();
    // the client a follower waited for is gone: the follower's held-back resume runs now
    const d = this.deferred;
    if (d && this.lastRunBy === c.s.id && t && t.state === 'stopped' && this.clients.has(d.c.s.id)) {
      this.deferred = undefined;
      if (d.c.waiting) await this.resume(d.c, t, d.data, true);
    }
  }

  private onClientClose(s: GdbSession, info: { error?: Error; midPacket: boolean }): void {
    const c = this.clients.get(s.id);
    if (!c) return;
    this.clients.delete(s.id);
    const reason = info.midPacket ? 'client vanished in the middle of a packet'
      : info.error ? `client connection failed: ${info.error.message}` : 'client disconnected';
    this.emit('client-disconnected', { id: s.id, reason });
    this.enqueue(() => this.dropClient(c));
  }

  private onTargetClose(t: RspClient, i: { message: string; whileRunning: boolean }): void {
    if (t !== this.target) return;
    this.runActive = false;
    for (const c of this.clients.values()) {
      if (c.waiting && i.whileRunning) this.reply(c, 'W00');
      c.waiting = false;
    }
    this.parked = [];
    this.pausing = false;
    this.emit('target-closed', { message: i.message, whileRunning: i.whileRunning });
    // Give the W00 a moment to be written, then end every session: this target is gone.
    setTimeout(() => { for (const c of this.clients.values()) c.s.close(); }, 50);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

export type { Direction };
