/*
 * client.ts — an RSP client for a target stub (QEMU 7.2's gdbstub; later LaneOS's
 * own stub over a serial line, through the same Transport interface).
 *
 * Rules it keeps for QEMU 7.2: all-stop only; while the target runs NOTHING but
 * 0x03 is written (any other byte would stop the guest); acks always on (no
 * QStartNoAckMode); `m` reads at most 0x800 bytes per packet, so larger reads are
 * chunked; requests are serialized (one packet in flight) except reads marked
 * `pipeline` (QEMU answers packets strictly in order, so up to MAX_PIPELINE such
 * reads may be in flight together); EOF while the target runs means it exited
 * (isa-debug-exit closes the socket).
 *
 *   request() ─▶ queue ─▶ one packet in flight ─▶ reply resolves the promise
 *   resume()  ─▶ state 'running' ─▶ stop reply (or EOF) resolves with TargetStop
 */
import { EventEmitter } from 'node:events';
import { RspConnection, type Direction } from '../common/connection.js';
import { bytesToBinary, bytesToHex, escapeBinary, hexToBytes, unescapeBinary } from '../common/hex.js';
import {
  parseFeatures, parseStopReply, parseThreadList, parseX86_64Registers, type StopReply,
} from '../common/packets.js';
import type { RspError } from '../common/rsp.js';
import type { Transport } from '../common/transport.js';
import { connectTransport, type Endpoint } from './transport.js';

export type TargetStop = StopReply | { kind: 'disconnected'; message: string; raw: string };
export type TargetState = 'stopped' | 'running' | 'closed';
export type BreakpointType = 'sw' | 'hw' | 'write' | 'read' | 'access';
const ZTYPE: Record<BreakpointType, number> = { sw: 0, hw: 1, write: 2, read: 3, access: 4 };

/** Largest `m` read QEMU 7.2 answers in one packet. */
export const MAX_READ_CHUNK = 0x800;
/** Most pipelined requests in flight at once (QEMU 7.2 queues them on its socket and answers in order). */
export const MAX_PIPELINE = 16;

export class RspRequestError extends Error {
  constructor(message: string, readonly request: string, readonly reply?: string) {
    super(message);
    this.name = 'RspRequestError';
  }
}

export interface ClientOptions {
  requestTimeoutMs?: number;
  onLog?: (dir: Direction, bytes: string) => void;
  /** Features to offer in qSupported (default: xmlRegisters=i386;vContSupported+). */
  supported?: string;
}

/** A stop reply (T/S with a signal, W/X with a status); never the start of another reply. */
const ASYNC_STOP = /^(?:[TS][0-9a-fA-F]{2}(?:[^0-9a-fA-F]|$)|[WX][0-9a-fA-F]{2}(?:;|$))/;
/** Requests whose answer is a stop reply. */
const STOP_ANSWERS = /^(?:\?|[cCsS]|vCont;|vAttach|vRun|vStopped)/;

interface Pending {
  data: string;
  checksum?: (cs: number | undefined) => void;
  /** A resume packet: no reply expected; the stop reply ends the run. */
  resume?: (s: TargetStop) => void;
  resolve: (reply: string) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  /** A side-effect-free read that may be sent before earlier pipelined reads are answered. */
  pipeline?: boolean;
}

/**
 * Events: 'stop' (TargetStop), 'running' (packet), 'output' (text),
 * 'protocol-error' (RspError), 'close' ({ message, midPacket, whileRunning }).
 */
export class RspClient extends EventEmitter {
  readonly conn: RspConnection;
  features = new Map<string, string>();
  state: TargetState = 'stopped';
  lastStop: StopReply | undefined;
  closeReason: string | undefined;
  /** target.xml as read during the handshake (when the stub offers it). */
  targetXml: string | undefined;
  private inflight: Pending[] = [];
  private queue: Pending[] = [];
  private discard = 0;
  private resumeWaiters: Array<(s: TargetStop) => void> = [];
  private readonly timeoutMs: number;

  static async connect(target: string | Endpoint | Transport, opts: ClientOptions = {}): Promise<RspClient> {
    const t = typeof target === 'object' && 'write' in target ? target : await connectTransport(target);
    const c = new RspClient(t, opts);
    try {
      await c.handshake(opts.supported);
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  constructor(transport: Transport, opts: ClientOptions = {}) {
    super();
    this.timeoutMs = opts.requestTimeoutMs ?? 15000;
    this.conn = new RspConnection(transport, {
      onPacket: (d, cs) => this.onPacket(d, cs),
      onProtocolError: (e) => this.emit('protocol-error', e),
      onClose: (i) => this.onClose(i),
    }, { rle: true, ...(opts.onLog ? { onLog: opts.onLog } : {}) });
  }

  get description(): string {
    return this.conn.transport.description;
  }

  /** qSupported negotiation, then '?' to learn the current stop state. */
  async handshake(supported = 'xmlRegisters=i386;vContSupported+'): Promise<void> {
    const reply = await this.request(`qSupported:${supported}`);
    this.features = parseFeatures(reply);
    // Reading the target description also tells QEMU 7.2 we know its register
    // numbering: only then does it answer p/P (gdb_has_xml).
    if (this.features.get('qXfer:features:read') === '+') {
      try {
        this.targetXml = await this.readXfer('features', 'target.xml');
      } catch {
        this.targetXml = undefined;
      }
    }
    const stop = parseStopReply(await this.request('?'));
    if (stop.kind !== 'invalid') this.lastStop = stop;
  }

  get packetSize(): number {
    const v = this.features.get('PacketSize');
    return v && /^[0-9a-fA-F]+$/.test(v) ? parseInt(v, 16) : 4096;
  }

  /** Send one packet and wait for its reply. Rejects while running/closed, on timeout. */
  request(data: string, timeoutMs = this.timeoutMs, onChecksum?: (cs: number | undefined) => void, pipeline = false): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.state === 'closed') {
        reject(new RspRequestError(`target connection is closed (${this.closeReason ?? 'closed'}); cannot send "${short(data)}"`, data));
        return;
      }
      const p: Pending = { data, resolve, reject, ...(onChecksum ? { checksum: onChecksum } : {}), ...(pipeline ? { pipeline } : {}) };
      p.timer = setTimeout(() => {
        if (this.inflight.includes(p)) {
          // Replies come in order: the ones still owed to every packet in flight are
          // dropped, and those requests fail too (their order can no longer be trusted).
          const lost = this.inflight;
          this.inflight = [];
          this.discard += lost.length;
          for (const o of lost) if (o !== p) { clearTimeout(o.timer); o.reject(new RspRequestError(`no reply from ${this.description} to "${short(o.data)}" (an earlier pipelined request timed out)`, o.data)); }
          this.pump();
        } else this.queue = this.queue.filter((q) => q !== p);
        reject(new RspRequestError(`no reply from ${this.description} to "${short(data)}" within ${timeoutMs} ms`, data));
      }, timeoutMs);
      this.queue.push(p);
      this.pump();
    });
  }

  /** request() that also gives the reply's checksum when the codec knows it. */
  requestWithChecksum(data: string, timeoutMs = this.timeoutMs, pipeline = false): Promise<{ reply: string; checksum: number | undefined }> {
    let cs: number | undefined;
    const p = this.request(data, timeoutMs, (c) => { cs = c; }, pipeline);
    return p.then((reply) => ({ reply, checksum: cs }));
  }

  /** Like request() but an empty reply or Exx becomes a rejection naming the request. */
  async requestOk(data: string, what: string): Promise<string> {
    const r = await this.request(data);
    if (r === '') throw new RspRequestError(`${what}: the target does not support "${short(data)}"`, data, r);
    if (/^E[0-9a-fA-F]{2}$/.test(r) || r.startsWith('E.')) throw new RspRequestError(`${what} failed: target replied ${r}`, data, r);
    return r;
  }

  private pump(): void {
    while (this.state === 'stopped' && this.queue.length > 0) {
      const next = this.queue[0]!;
      if (this.inflight.length > 0) {
        // Only side-effect-free reads join packets already in flight.
        if (!next.pipeline || this.inflight.length >= MAX_PIPELINE || !this.inflight.every((p) => p.pipeline)) return;
      }
      this.queue.shift();
      if (next.resume) {
        this.resumeWaiters.push(next.resume);
        this.state = 'running';
        this.conn.sendPacket(next.data);
        this.emit('running', next.data);
        if (this.interruptQueued) {
          this.interruptQueued = false;
          this.conn.sendInterrupt();
        }
        return;
      }
      this.inflight.push(next);
      this.conn.sendPacket(next.data);
    }
  }

  private onPacket(data: string, cs?: number): void {
    if (this.state === 'running') {
      const s = parseStopReply(data);
      if (s.kind === 'output') {
        this.emit('output', s.text);
        return;
      }
      if (s.kind === 'invalid') {
        this.emit('protocol-error', { code: 'garbage', nak: false, raw: data, message: `unexpected packet while running: ${s.message}` } satisfies RspError);
        return;
      }
      this.finishRun(s);
      return;
    }
    if (this.discard > 0) {
      this.discard--;
      this.pump();
      return;
    }
    if (ASYNC_STOP.test(data) && !STOP_ANSWERS.test(this.inflight[0]?.data ?? '')) {
      // A stop the target announced by itself, not an answer: QEMU 7.2 sends `T02thread:..;` when
      // a client connects to a running VM (it pauses the VM then) and `T03` when the VM shuts
      // down. Taken as the reply to the request in flight, it shifted every later reply by one
      // (a memory read got `T02thread:01;`). No reply to anything but ? and a resume starts so.
      const st = parseStopReply(data);
      if (st.kind === 'signal' || st.kind === 'exited' || st.kind === 'terminated') this.lastStop = st;
      this.emit('stop-notice', st);
      return;
    }
    const p = this.inflight.shift();
    if (!p) {
      this.emit('protocol-error', { code: 'garbage', nak: false, raw: data, message: `unsolicited packet from target while stopped: "${short(data)}"` } satisfies RspError);
      return;
    }
    clearTimeout(p.timer);
    p.checksum?.(cs);
    p.resolve(data);
    this.pump();
  }

  private finishRun(s: TargetStop): void {
    if (s.kind === 'exited' || s.kind === 'terminated' || s.kind === 'disconnected') this.state = 'closed';
    else this.state = 'stopped';
    if (s.kind !== 'disconnected' && s.kind !== 'invalid') this.lastStop = s;
    const ws = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const w of ws) w(s);
    this.emit('stop', s);
    this.pump();
  }

  private onClose(info: { error?: Error; midPacket: boolean }): void {
    const wasRunning = this.state === 'running';
    const why = info.midPacket
      ? 'target disconnected in the middle of a packet'
      : wasRunning ? 'target closed the connection while running (guest exited)' : 'target closed the connection';
    this.closeReason = why + (info.error ? `: ${info.error.message}` : '');
    if (wasRunning) this.finishRun({ kind: 'disconnected', message: this.closeReason, raw: '' });
    this.state = 'closed';
    const all = [...this.inflight, ...this.queue];
    this.inflight = [];
    this.queue = [];
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(new RspRequestError(`${this.closeReason} (request "${short(p.data)}" unanswered)`, p.data));
    }
    this.emit('close', { message: this.closeReason, midPacket: info.midPacket, whileRunning: wasRunning });
  }

  /**
   * Send a resume packet (vCont;c, vCont;s:1, c, s, ...) after all queued requests;
   * resolves with the stop that ends the run (or 'disconnected' on EOF).
   */
  resume(packet = 'vCont;c'): Promise<TargetStop> {
    return new Promise((resolve, reject) => {
      if (this.state === 'closed') {
        reject(new RspRequestError(`cannot resume: target connection is closed (${this.closeReason ?? 'closed'})`, packet));
        return;
      }
      this.queue.push({ data: packet, resume: resolve, resolve: () => undefined, reject });
      this.pump();
    });
  }

  /** Wait for the current run to end (resolves immediately when stopped). */
  waitForStop(): Promise<TargetStop | undefined> {
    if (this.state !== 'running') return Promise.resolve(this.lastStop);
    return new Promise((r) => this.resumeWaiters.push(r));
  }

  continue(): Promise<TargetStop> {
    return this.resume('vCont;c');
  }

  step(thread?: string): Promise<TargetStop> {
    const t = thread ?? (this.lastStop?.kind === 'signal' ? this.lastStop.thread : undefined);
    return this.resume(t ? `vCont;s:${t}` : 'vCont;s');
  }

  /**
   * Ask a running target to stop: writes the single byte 0x03. A resume still queued behind
   * requests is interrupted as soon as it is sent (an interrupt right behind a continue).
   */
  interrupt(): void {
    if (this.state === 'running') this.conn.sendInterrupt();
    else if (this.queue.some((q) => q.resume)) this.interruptQueued = true;
  }
  private interruptQueued = false;

  /**
   * Bytes per `m` packet: QEMU 7.2 answers at most 0x800 (its PacketSize 0x1000 counts
   * hex digits); a stub offering a larger PacketSize (the bridge) gets PacketSize/2.
   */
  get readChunk(): number {
    return Math.max(MAX_READ_CHUNK, Math.floor(this.packetSize / 2 / MAX_READ_CHUNK) * MAX_READ_CHUNK);
  }

  async readMemory(addr: bigint, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let done = 0;
    const chunks: Array<Promise<void>> = [];
    const chunk = this.readChunk;
    while (done < length) {
      const n = Math.min(chunk, length - done);
      const at = addr + BigInt(done);
      const off = done;
      chunks.push(this.request(`m${at.toString(16)},${n.toString(16)}`).then((r) => {
        if (/^E[0-9a-fA-F]{2}$/.test(r)) throw new RspRequestError(`reading ${n} bytes at 0x${at.toString(16)} failed: target replied ${r}`, 'm', r);
        let bytes: Uint8Array;
        try {
          bytes = hexToBytes(r);
        } catch (e) {
          throw new RspRequestError(`reading memory at 0x${at.toString(16)}: reply is not hex (${(e as Error).message})`, 'm', r);
        }
        if (bytes.length === 0) throw new RspRequestError(`reading memory at 0x${at.toString(16)}: empty reply`, 'm', r);
        out.set(bytes.subarray(0, n), off);
        if (bytes.length < n) throw new RspRequestError(`short read at 0x${at.toString(16)}: ${bytes.length} of ${n} bytes`, 'm', r);
      }));
      done += n;
    }
    const results = await Promise.allSettled(chunks);
    const bad = results.find((r) => r.status === 'rejected');
    if (bad && bad.status === 'rejected') throw bad.reason;
    return out;
  }

  async writeMemory(addr: bigint, bytes: Uint8Array): Promise<void> {
    const max = Math.floor((this.packetSize - 32) / 2);
    for (let off = 0; off < bytes.length || (off === 0 && bytes.length === 0); off += max) {
      const part = bytes.subarray(off, off + max);
      const at = addr + BigInt(off);
      const r = await this.request(`M${at.toString(16)},${part.length.toString(16)}:${bytesToHex(part)}`);
      if (r !== 'OK') throw new RspRequestError(`writing ${part.length} bytes at 0x${at.toString(16)} failed: target replied "${r}"`, 'M', r);
      if (bytes.length === 0) break;
    }
  }

  /** Binary write with X (escaped); falls back to M if the stub does not know X. */
  async writeMemoryBinary(addr: bigint, bytes: Uint8Array): Promise<void> {
    const r = await this.request(`X${addr.toString(16)},${bytes.length.toString(16)}:${escapeBinary(bytes)}`);
    if (r === '') return this.writeMemory(addr, bytes);
    if (r !== 'OK') throw new RspRequestError(`X write at 0x${addr.toString(16)} failed: target replied "${r}"`, 'X', r);
  }

  async selectThread(thread: string, op: 'g' | 'c' = 'g'): Promise<void> {
    await this.requestOk(`H${op}${thread}`, `selecting thread ${thread}`);
  }

  /** Raw `g` reply (hex). */
  async readRegisters(thread?: string): Promise<string> {
    if (thread) await this.selectThread(thread);
    return this.requestOk('g', 'reading registers');
  }

  async readRegistersX86_64(thread?: string): Promise<Map<string, bigint | string | undefined>> {
    const r = parseX86_64Registers(await this.readRegisters(thread));
    if ('error' in r) throw new Error(`reading registers: ${r.error}`);
    return r.regs;
  }

  async setBreakpoint(type: BreakpointType, addr: bigint, kind = 1): Promise<void> {
    const r = await this.request(`Z${ZTYPE[type]},${addr.toString(16)},${kind.toString(16)}`);
    if (r !== 'OK') throw new RspRequestError(`setting ${type} breakpoint at 0x${addr.toString(16)} failed: target replied "${r || '(unsupported)'}"`, 'Z', r);
  }

  async removeBreakpoint(type: BreakpointType, addr: bigint, kind = 1): Promise<void> {
    const r = await this.request(`z${ZTYPE[type]},${addr.toString(16)},${kind.toString(16)}`);
    if (r !== 'OK') throw new RspRequestError(`removing ${type} breakpoint at 0x${addr.toString(16)} failed: target replied "${r || '(unsupported)'}"`, 'z', r);
  }

  async threads(): Promise<string[]> {
    const ids: string[] = [];
    let r = await this.request('qfThreadInfo');
    for (let guard = 0; guard < 4096; guard++) {
      const t = parseThreadList(r);
      if ('error' in t) throw new Error(`listing threads: ${t.error}`);
      ids.push(...t.ids);
      if (t.done) break;
      r = await this.request('qsThreadInfo');
    }
    return ids;
  }

  async threadExtraInfo(thread: string): Promise<string> {
    const r = await this.requestOk(`qThreadExtraInfo,${thread}`, `qThreadExtraInfo for ${thread}`);
    return Buffer.from(r, 'hex').toString('utf8');
  }

  /** The halt reason ('?'), parsed. */
  async haltReason(): Promise<StopReply> {
    return parseStopReply(await this.request('?'));
  }

  /** Read a qXfer object (e.g. features, target.xml) fully. */
  async readXfer(object: string, annex: string): Promise<string> {
    let out = '';
    for (;;) {
      const r = await this.request(`qXfer:${object}:read:${annex}:${out.length.toString(16)},ffb`);
      if (r.startsWith('E') || r === '') throw new RspRequestError(`qXfer:${object}:read:${annex} failed: "${r}"`, 'qXfer', r);
      out += bytesToBinary(unescapeBinary(r.slice(1)));
      if (r[0] === 'l') return out;
    }
  }

  query(raw: string): Promise<string> {
    return this.request(raw);
  }

  close(): void {
    this.conn.close();
  }
}

function short(s: string): string {
  return s.length > 48 ? s.slice(0, 48) + '…' : s;
}
