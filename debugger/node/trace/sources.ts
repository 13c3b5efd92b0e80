/*
 * sources.ts — where live trace bytes come from.
 *
 *   SerialSource  COM2 as QEMU exposes it: a Unix socket (-chardev socket,path=P,server=on) or a
 *                 file (-serial file:F, followed like `tail -f`). Emits raw bytes (COBS frames).
 *   ShmSource     the ivshmem file (/dev/shm/NAME): polls the header (struct trace_shm,
 *                 kernel/trace.h), reads [read_pos, write_pos) out of the data ring and writes
 *                 read_pos back, so the guest can reuse the space. Emits raw record bytes.
 * Both report a clear error (and keep retrying) when the socket or file is not there yet.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';

export interface Source extends EventEmitter {
  readonly kind: 'serial' | 'shm';
  start(): void;
  stop(): Promise<void>;
  on(ev: 'data', fn: (b: Uint8Array) => void): this;
  on(ev: 'status', fn: (msg: string) => void): this;
  on(ev: 'end', fn: () => void): this;
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

export const SHM_MAGIC = 0x4853544c; // "LTSH"
const H = { magic: 0, version: 4, dataOff: 8, dataSize: 16, writePos: 24, readPos: 32, lost: 40, tscHz: 48, ncpus: 56, state: 60, heartbeat: 64 };

export class ShmSource extends EventEmitter implements Source {
  readonly kind = 'shm' as const;
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private hdr = Buffer.alloc(72);
  private readPos = 0n;
  bytes = 0;
  lost = 0n;

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

  pollOnce(): void {
    if (this.fd === undefined) {
      if (!fs.existsSync(this.path)) {
        this.emit('status', `waiting for ${this.path}`);
        return;
      }
      this.fd = fs.openSync(this.path, 'r+');
    }
    fs.readSync(this.fd, this.hdr, 0, this.hdr.length, 0);
    if (this.hdr.readUInt32LE(H.magic) !== SHM_MAGIC) return; // the guest has not found the device yet
    const dataOff = Number(this.hdr.readBigUInt64LE(H.dataOff));
    const size = this.hdr.readBigUInt64LE(H.dataSize);
    const w = this.hdr.readBigUInt64LE(H.writePos);
    this.lost = this.hdr.readBigUInt64LE(H.lost);
    if (w < this.readPos) this.readPos = 0n; // the guest rebooted
    if (size === 0n || (size & (size - 1n)) !== 0n) throw new Error(`bad data size ${size} in the shared header`);
    while (this.readPos < w) {
      const off = this.readPos & (size - 1n);
      const n = Number(w - this.readPos < size - off ? w - this.readPos : size - off);
      const chunk = Buffer.alloc(n);
      fs.readSync(this.fd, chunk, 0, n, dataOff + Number(off));
      this.readPos += BigInt(n);
      this.bytes += n;
      this.emit('data', new Uint8Array(chunk.buffer, chunk.byteOffset, n));
    }
    const rp = Buffer.alloc(8);
    rp.writeBigUInt64LE(this.readPos);
    fs.writeSync(this.fd, rp, 0, 8, H.readPos);
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
