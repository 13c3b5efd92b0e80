/*
 * paced-line.ts — a Transport that carries bytes no faster than a serial line would: `baud / 10`
 * bytes per second in each direction (8N1: a start bit, 8 data bits, a stop bit), independently
 * (a UART is full duplex). For benchmarks that put QEMU — whose emulated UART on a socket has no
 * baud rate — where a board on a 115200-baud cable would be.
 *
 * Each direction queues what it is given and lets it through as the line's time passes: credit
 * accrues only while bytes wait (an idle line banks nothing, as a real one cannot send ahead).
 * setRate(Infinity) passes bytes straight through (to boot quickly, or to compare).
 */
import type { Transport } from '../common/transport.js';

class Pipe {
  private q: Uint8Array[] = [];
  private credit = 0;
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  rate = Infinity;

  constructor(private readonly out: (b: Uint8Array) => void) {}

  push(b: Uint8Array): void {
    if (!b.length) return;
    if (this.rate === Infinity && !this.q.length) return this.out(b);
    if (!this.q.length) {
      this.last = performance.now();
      this.credit = 0;
    }
    this.q.push(b);
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, 1);
  }

  private pump(): void {
    const now = performance.now();
    this.credit += ((now - this.last) / 1000) * this.rate;
    this.last = now;
    while (this.q.length && this.credit >= 1) {
      const head = this.q[0]!;
      const n = Math.min(head.length, Math.floor(this.credit));
      this.out(head.subarray(0, n));
      this.credit -= n;
      if (n === head.length) this.q.shift();
      else this.q[0] = head.subarray(n);
    }
    if (this.q.length) this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.q = [];
  }
}

export interface PacedTransport extends Transport {
  /** Bytes per second in each direction (Infinity: no pacing). */
  setRate(bytesPerSecond: number): void;
}

export function pacedTransport(inner: Transport, baud: number): PacedTransport {
  const tx = new Pipe((b) => inner.write(b));
  let onData: ((b: Uint8Array) => void) | undefined;
  const rx = new Pipe((b) => onData?.(b.slice()));
  const setRate = (r: number) => { tx.rate = r; rx.rate = r; };
  setRate(baud / 10);
  const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  return {
    description: `${inner.description} (paced to ${baud} baud)`,
    setRate,
    write: (b) => tx.push(b.slice()),
    writeBinary: (s) => tx.push(latin1(s)),
    writeBinaryParts: (parts) => tx.push(latin1(parts.join(''))),
    start(data, close) {
      onData = data;
      inner.start((b) => rx.push(b.slice()), (e) => {
        tx.stop();
        rx.stop();
        close(e);
      });
    },
    close: () => {
      tx.stop();
      rx.stop();
      inner.close();
    },
  };
}
