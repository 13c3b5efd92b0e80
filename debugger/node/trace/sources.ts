/*
 * sources.ts — where live trace bytes come from.
 *
 *   SerialSource  COM2 as QEMU exposes it: a Unix socket (-chardev socket,path=P,server=on) or a
 *                 file (-serial file:F, followed like `tail -f`). Emits raw bytes (COBS frames).
 *   ShmSource     the ivshmem file (/dev/shm/NAME), which holds the guest's per-CPU trace rings
 *                 themselves: polls the header (struct trace_shm v2, os/abi/layouts.toml, read
 *                 with the generated offsets of layouts.gen.ts), emits the
 *                 preamble once, then each ring's [tail, head) and writes tail back, so the
 *                 guest can reuse the space. Emits raw record bytes (CPU by CPU; the decoder's
 *                 EventMerger puts them in time order).
 *   PushSource    frames handed over by a caller that reads the line itself: the shared debug
 *                 line (lanes.debug=ttyS0), whose demultiplexer (common/serial-mux.ts) gives each
 *                 trace frame to push(). Emits them as COM2's bytes (COBS frames and their 0x00).
 * The first two report a clear error (and keep retrying) when the socket or file is not there yet.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import {
  TRACE_MAX_CPUS,
  TRACE_SHM_MAGIC,
  TRACE_SHM_VERSION,
  TraceShmLayout,
  TraceShmOffsets as H,
  TraceShmRingLayout,
  TraceShmRingOffsets as R,
} from '../../common/trace/layouts.gen.js';

export interface Source extends EventEmitter {
  readonly kind: 'serial' | 'shm';
  start(): void;
  stop(): Promise<void>;
  on(ev: 'data', fn: (b: Uint8Array) => void): this;
  on(ev: 'status', fn: (msg: string) => void): this;
  on(ev: 'end', fn: () => void): this;
  /** the stream was already running when the source attached (a live COM2 socket) */
  on(ev: 'live', fn: () => void): this;
}

export class PushSource extends EventEmitter implements Source {
  readonly kind = 'serial' as const;
  private running = false;
  bytes = 0;

  constructor(readonly path: string) {
    super();
  }

  start(): void {
    this.running = true;
    this.emit('live'); // the board ran before the host asked for frames: the first may be cut
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  push(b: Uint8Array): void {
    if (!this.running) return;
    this.bytes += b.length;
    this.emit('data', b);
  }
}

export class SerialSource extends EventEmitter implements Source {
  readonly kind = 'serial' as const;
  private sock: net.Socket | undefined;
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pos = 0;
  private stopped = false;
  bytes = 0;

  constructor(readonly path: string, private pollMs = 20) {
    super();
  }

  start(): void {
    this.stopped = false;
    this.attempt();
  }

  private attempt(): void {
    if (this.stopped) return;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(this.path);
    } catch {
      this.emit('status', `waiting for ${this.path}`);
      this.timer = setTimeout(() => this.attempt(), 100);
      return;
    }
    if (st.isSocket()) {
      this.emit('live');      // a running stream: the first bytes may be the middle of a frame
      const s = net.createConnection(this.path);
      this.sock = s;
      s.on('data', (d: Buffer) => {
        this.bytes += d.length;
        this.emit('data', new Uint8Array(d.buffer, d.byteOffset, d.length));
      });
      s.on('error', (e) => this.emit('status', `serial socket ${this.path}: ${e.message}`));
      s.on('close', () => {
        this.sock = undefined;
        if (!this.stopped) {
          this.emit('status', `serial socket ${this.path} closed`);
          this.emit('end');
        }
      });
    } else {
      this.fd = fs.openSync(this.path, 'r');
      const buf = Buffer.alloc(1 << 20);
      const poll = () => {
        if (this.stopped || this.fd === undefined) return;
        for (;;) {
          const n = fs.readSync(this.fd, buf, 0, buf.length, this.pos);
          if (n <= 0) break;
          this.pos += n;
          this.bytes += n;
          this.emit('data', new Uint8Array(buf.subarray(0, n)));
        }
        this.timer = setTimeout(poll, this.pollMs);
      };
      poll();
    }
  }

  /** Read whatever is left (files) and stop. */
  async stop(): Promise<void> {
    if (this.fd !== undefined && !this.stopped) {
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const n = fs.readSync(this.fd, buf, 0, buf.length, this.pos);
        if (n <= 0) break;
        this.pos += n;
        this.bytes += n;
        this.emit('data', new Uint8Array(buf.subarray(0, n)));
      }
    }
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.sock?.destroy();
    this.sock = undefined;
  }
}

export const SHM_MAGIC = TRACE_SHM_MAGIC; // "LTSH"
export const SHM_VERSION = TRACE_SHM_VERSION;
/** struct trace_shm_ring, one per CPU at H.ring + RING_SIZE * i */
const RING_SIZE = TraceShmRingLayout.size;
const MAX_RINGS = TRACE_MAX_CPUS;

/**
 * The ivshmem file: the guest's per-CPU rings themselves (struct trace_shm v2). Each poll reads
 * the header; the first time it sees a boot (boot_id), it emits the preamble (trace_header +
 * event definitions) and starts each ring at the tail the kernel handed over; then, per ring,
 * it emits [tail, head) (whole records: a ring's head is only ever published at a record
 * boundary, and records never straddle its end; padding records are type 0) and writes tail
 * back, which lets the kernel reuse the space. A ring the host does not empty makes the kernel
 * drop events and report them in the ring (`lost` records): nothing is lost in between.
 * `lost` is what the kernel dropped and has not reported by a lost record yet.
 */
export class ShmSource extends EventEmitter implements Source {
  readonly kind = 'shm' as const;
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private hdr = Buffer.alloc(TraceShmLayout.size);
  private bootId = -1n;
  private tails: bigint[] = [];
  private warned = '';
  bytes = 0;
  /** events dropped in the guest's rings, not yet reported by a lost record */
  lost = 0n;
  /** guest boots seen (a reboot restarts the rings) */
  boots = 0;

  constructor(readonly path: string, private pollMs = 10) {
    super();
  }

  start(): void {
    this.stopped = false;
    const poll = () => {
      if (this.stopped) return;
      try {
        this.pollOnce();
      } catch (e) {
        this.emit('status', `ivshmem ${this.path}: ${(e as Error).message}`);
      }
      this.timer = setTimeout(poll, this.pollMs);
    };
    poll();
  }

  private status(msg: string): void {
    if (msg === this.warned) return;
    this.warned = msg;
    this.emit('status', msg);
  }

  /** Reads exactly len bytes at file position pos into b at off. */
  private readInto(b: Buffer, off: number, len: number, pos: number): void {
    for (let got = 0; got < len; ) {
      const n = fs.readSync(this.fd!, b, off + got, len - got, pos + got);
      if (n <= 0) throw new Error(`short read at ${pos + got} (the file is smaller than the header says)`);
      got += n;
    }
  }

  pollOnce(): void {
    if (this.fd === undefined) {
      if (!fs.existsSync(this.path)) {
        this.status(`waiting for ${this.path}`);
        return;
      }
      this.fd = fs.openSync(this.path, 'r+');
    }
    const h = this.hdr;
    if (fs.readSync(this.fd, h, 0, h.length, 0) < h.length) return; // QEMU has not sized the file yet
    if (h.readUInt32LE(H.magic) !== SHM_MAGIC) return; // the guest has not found the device yet (or is rewriting it)
    const version = h.readUInt32LE(H.version);
    if (version !== SHM_VERSION) {
      this.status(`ivshmem ${this.path}: shared header version ${version}, this host reads version ${SHM_VERSION}`);
      return;
    }
    if (h.readUInt32LE(H.state) !== 1) return; // the drainer has not handed the rings over yet
    const nrings = h.readUInt32LE(H.nrings);
    const size = BigInt(h.readUInt32LE(H.ring_size));
    const ringOff = Number(h.readBigUInt64LE(H.ring_off));
    if (nrings > MAX_RINGS || size === 0n || (size & (size - 1n)) !== 0n) throw new Error(`bad shared header: ${nrings} rings of ${size} bytes`);
    const bootId = h.readBigUInt64LE(H.boot_id);
    let reboot = bootId !== this.bootId;
    let pre: Buffer | undefined;
    if (!reboot) {
      // heads going backwards: the guest rebooted (and the header was rewritten under us)
      for (let i = 0; i < nrings; i++) if (h.readBigUInt64LE(H.ring + RING_SIZE * i + R.head) < this.tails[i]!) reboot = true;
    }
    if (reboot) {
      if (this.bootId !== -1n) this.emit('status', `ivshmem ${this.path}: the guest rebooted`);
      this.bootId = bootId;
      this.boots++;
      this.tails = [];
      for (let i = 0; i < nrings; i++) this.tails.push(h.readBigUInt64LE(H.ring + RING_SIZE * i + R.tail));
      const plen = h.readUInt32LE(H.preamble_len);
      if (plen) {
        pre = Buffer.alloc(plen);
        this.readInto(pre, 0, plen, Number(h.readBigUInt64LE(H.preamble_off)));
      }
    }
    // Everything new goes out as ONE block (preamble first): the EventMerger downstream releases
    // events up to the oldest "latest event" over all CPUs, so a CPU's backlog must not arrive
    // after another CPU's newer events were already released.
    let pending = 0n;
    const take: Array<{ at: number; head: bigint; base: number; a: number; n: number }> = [];
    let total = pre ? pre.length : 0;
    for (let i = 0; i < nrings; i++) {
      const at = H.ring + RING_SIZE * i;
      const head = h.readBigUInt64LE(at + R.head);
      pending += h.readBigUInt64LE(at + R.dropped);
      const tail = this.tails[i]!;
      if (head <= tail) continue;
      if (head - tail > size) {
        // cannot happen with a sane guest (it never overwrites what the host has not read):
        // start over at head rather than decode overwritten bytes
        this.status(`ivshmem ${this.path}: ring ${i}: head ${head} is more than a ring ahead of tail ${tail}; skipped`);
        take.push({ at, head, base: 0, a: 0, n: 0 });
        continue;
      }
      take.push({ at, head, base: ringOff + i * Number(size), a: Number(tail & (size - 1n)), n: Number(head - tail) });
      total += Number(head - tail);
    }
    this.lost = pending;
    if (!take.length && !pre) return;
    const out = Buffer.alloc(total);
    let o = 0;
    if (pre) o += pre.copy(out, 0);
    for (const t of take) {
      const first = Math.min(t.n, Number(size) - t.a);
      this.readInto(out, o, first, t.base + t.a);
      if (first < t.n) this.readInto(out, o + first, t.n - first, t.base); // wraps: records never straddle the end
      o += t.n;
    }
    // the bytes are copied out: hand the space back to the guest
    const tb = Buffer.alloc(8);
    for (const t of take) {
      this.tails[(t.at - H.ring) / RING_SIZE] = t.head;
      tb.writeBigUInt64LE(t.head);
      fs.writeSync(this.fd, tb, 0, 8, t.at + R.tail);
    }
    if (total) this.emitData(out);
  }

  private emitData(b: Buffer): void {
    this.bytes += b.length;
    this.emit('data', new Uint8Array(b.buffer, b.byteOffset, b.length));
  }

  async stop(): Promise<void> {
    try {
      if (!this.stopped) this.pollOnce();
    } catch {
      /* final drain is best effort */
    }
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
