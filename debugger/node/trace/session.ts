/*
 * session.ts — a live trace session: one source → decoder → merged events, a recording on disk,
 * and the figures the IDE shows (event rate, lost events, corrupt frames).
 *
 *   const s = new TraceSession({ shm: '/dev/shm/lanes-trace-1234', out: 'run.ltrace' });
 *   s.on('events', (evs) => view.append(evs));     // merged across CPUs, in time order
 *   s.on('stats', (st) => statusBar.show(`${st.eventsPerSec} ev/s, ${st.lost} lost`));
 *   s.start(); ... await s.stop();
 *   const t = loadTrace('run.ltrace');             // reopen later (or exportPerfetto(t.events))
 *
 * The recording is an ordinary trace file: trace records, starting with trace_header and the
 * definitions (for a serial capture that began mid-stream, the first preamble seen is written
 * first and the earlier records after it; loading sorts by time anyway).
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { RecordDecoder, EventMerger, type DecodeStats, type TraceEvent } from '../../common/trace/records.js';
import { FrameDecoder } from '../../common/trace/serial.js';
import { decodeBuffer, type DecodedTrace } from '../../common/trace/text.js';
import { PushSource, SerialSource, ShmSource, type Source } from './sources.js';

export interface SessionOptions {
  /** COM2: a Unix socket path (QEMU chardev socket) or a file (-serial file:), or the frames
   * of a shared debug line pushed by its reader (PushSource) */
  serial?: string | PushSource;
  /** the ivshmem backing file, e.g. /dev/shm/lanes-trace-XXXX */
  shm?: string;
  /** write the recording here */
  out?: string;
  /** keep every decoded event in memory (session.events) */
  keepEvents?: boolean;
  /**
   * false: only record (ivshmem) — no decoding, no 'events', decode figures stay 0; for the IDE,
   * whose renderer decodes the recording once itself. A serial capture is always deframed (and
   * so decoded) here: its frames are the transport.
   */
  decode?: boolean;
  statsIntervalMs?: number;
}

export interface SessionStats extends DecodeStats {
  source: string;
  bytes: number;
  eventsPerSec: number;
  /** ivshmem: events the guest's rings dropped that no lost record has reported yet (the rest of
   * the drops are in `lost`); nothing is lost between the rings and the host */
  shmLost: number;
  recordedBytes: number;
}

export class TraceSession extends EventEmitter {
  readonly source: Source;
  readonly decoder: RecordDecoder;
  private frames: FrameDecoder | undefined;
  private merger = new EventMerger();
  private fd: number | undefined;
  private pendingBlocks: Uint8Array[] = [];
  private headerWritten = false;
  private timer: NodeJS.Timeout | undefined;
  private lastCount = 0;
  private lastTime = Date.now();
  private rate = 0;
  recordedBytes = 0;
  readonly events: TraceEvent[] = [];

  constructor(readonly opts: SessionOptions) {
    super();
    if (!!opts.serial === !!opts.shm) throw new Error('TraceSession: give exactly one of serial (COM2 socket/file) or shm (ivshmem file)');
    this.decoder = new RecordDecoder();
    if (opts.out) this.fd = fs.openSync(opts.out, 'w');
    if (opts.shm) {
      this.source = new ShmSource(opts.shm);
      const decode = opts.decode ?? true;
      this.source.on('data', this.guard((b) => {
        this.record(b);
        if (decode) this.deliver(this.decoder.push(b));
      }));
    } else {
      this.frames = new FrameDecoder(this.decoder);
      this.frames.onBlock = (b) => this.record(b.slice());
      this.source = typeof opts.serial === 'string' ? new SerialSource(opts.serial) : opts.serial!;
      this.source.on('live', () => (this.frames!.joinsMidStream = true));
      this.source.on('data', this.guard((b) => this.deliver(this.frames!.push(b))));
    }
    this.source.on('status', (m) => this.emit('status', m));
    this.source.on('end', () => this.emit('end'));
  }

  /**
   * A data handler runs inside a socket's or a poll timer's callback: whatever it throws (the
   * decoders do not; an 'events' listener might) would end the whole process. It costs that block,
   * reported as a status message, instead.
   */
  private guard(fn: (b: Uint8Array) => void): (b: Uint8Array) => void {
    return (b) => {
      try {
        fn(b);
      } catch (e) {
        this.emit('status', `trace: a block of ${b.length} bytes could not be processed and was skipped: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
  }

  private record(b: Uint8Array): void {
    if (this.fd === undefined) return;
    if (!this.headerWritten) {
      this.pendingBlocks.push(b);
      if (!containsHeader(b)) {
        if (this.pendingBlocks.length < 100000) return;
      }
      // header block first, then what came before it
      const idx = this.pendingBlocks.length - 1;
      const order = [this.pendingBlocks[idx]!, ...this.pendingBlocks.slice(0, idx)];
      for (const p of order) this.write(p);
      this.pendingBlocks = [];
      this.headerWritten = true;
      return;
    }
    this.write(b);
  }

  private write(b: Uint8Array): void {
    fs.writeSync(this.fd!, b);
    this.recordedBytes += b.length;
  }

  private deliver(evs: TraceEvent[]): void {
    if (!evs.length) return;
    if (this.decoder.clock) this.merger.setWindowTsc(this.decoder.clock.tscHz / 5); // 200 ms
    this.merger.push(evs);
    const ready = this.merger.take();
    if (ready.length) {
      if (this.opts.keepEvents) for (const e of ready) this.events.push(e);
      this.emit('events', ready);
    }
  }

  start(): void {
    this.source.start();
    this.timer = setInterval(() => this.emit('stats', this.stats()), this.opts.statsIntervalMs ?? 1000);
  }

  stats(): SessionStats {
    const now = Date.now();
    const st = this.decoder.stats;
    if (now - this.lastTime >= 500) {
      this.rate = Math.round(((st.events - this.lastCount) * 1000) / (now - this.lastTime));
      this.lastCount = st.events;
      this.lastTime = now;
    }
    const src = this.source as SerialSource | ShmSource | PushSource;
    return {
      ...st,
      source: `${this.source.kind}:${this.opts.shm ?? (typeof this.opts.serial === 'string' ? this.opts.serial : this.opts.serial?.path)}`,
      bytes: src.bytes,
      eventsPerSec: this.rate,
      shmLost: this.source instanceof ShmSource ? Number(this.source.lost) : 0,
      recordedBytes: this.recordedBytes,
    };
  }

  async stop(): Promise<SessionStats> {
    await this.source.stop();
    if (this.timer) clearInterval(this.timer);
    const rest: TraceEvent[] = [];
    if (this.frames) this.frames.finish(rest);
    else this.decoder.finish(rest);
    this.merger.push(rest);
    const last = this.merger.take(true);
    if (last.length) {
      if (this.opts.keepEvents) for (const e of last) this.events.push(e);
      this.emit('events', last);
    }
    if (this.fd !== undefined) {
      for (const p of this.pendingBlocks) this.write(p);
      this.pendingBlocks = [];
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    const s = this.stats();
    this.emit('stats', s);
    return s;
  }
}

function containsHeader(b: Uint8Array): boolean {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 0;
  while (off + 8 <= b.length) {
    const type = dv.getUint16(off, true);
    const size = dv.getUint16(off + 2, true);
    if (type === 1) return true;
    if (size < 8 || size & 7) return false;
    off += size;
  }
  return false;
}

/** Load a saved trace (a recording, or a raw COM2 capture). */
export function loadTrace(path: string): DecodedTrace {
  let b: Buffer;
  try {
    b = fs.readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read trace file ${path}: ${(e as Error).message}`);
  }
  return decodeBuffer(new Uint8Array(b.buffer, b.byteOffset, b.length));
}

/** QEMU arguments for the transports (the app adds these to its command line). The ivshmem
 * memory holds the guest's rings: 64 KiB + at least 1 MiB per CPU; the kernel gives each ring the
 * largest power of two up to 32 MiB that fits (a PCI BAR's size is a power of two), so the
 * default 128M holds two rings of 32 MiB, four of 16 MiB, ... up to 64 CPUs of 1 MiB (the file
 * is sparse: only the pages the guest touches take memory). The bigger the rings, the longer the
 * host reader may be kept off the CPU by a loaded machine before a CPU must drop events. */
export function qemuTraceArgs(o: { shm?: string; shmSize?: string; serialSocket?: string; serialFile?: string }): string[] {
  const a: string[] = [];
  if (o.shm) a.push('-object', `memory-backend-file,id=lanes-trace,share=on,mem-path=${o.shm},size=${o.shmSize ?? '128M'}`, '-device', 'ivshmem-plain,memdev=lanes-trace');
  if (o.serialSocket) a.push('-chardev', `socket,id=lanes-trace-com2,path=${o.serialSocket},server=on,wait=off`, '-serial', 'chardev:lanes-trace-com2');
  else if (o.serialFile) a.push('-serial', `file:${o.serialFile}`);
  return a;
}
