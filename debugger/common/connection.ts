/*
 * connection.ts — one RSP endpoint over a Transport, with acknowledgements.
 *
 *   bytes in ─▶ RspDecoder ─▶ ack/nak handling ─▶ handler.onPacket / onInterrupt
 *   sendPacket ─▶ frame ─▶ transport (kept until '+', resent on '-')
 *
 * Ack mode is always on (QEMU 7.2 needs it and gdb copes). Every byte in either
 * direction can be observed through onLog (the RSP log panel). Decoder errors
 * become onProtocolError calls plus a '-' so the peer retransmits. Pure: no Node.
 */
import { binaryToBytes, bytesToBinary } from './hex.js';
import { encodePacket, RspDecoder, type RspError } from './rsp.js';
import type { Transport } from './transport.js';

export type Direction = 'send' | 'recv';

export interface ConnectionHandler {
  /** `checksum` is the verified checksum of `data` when known (saves recomputing it). */
  onPacket(data: string, checksum?: number): void;
  onNotification?(data: string): void;
  onInterrupt?(): void;
  onProtocolError?(error: RspError): void;
  /** The stream ended; `midPacket` tells whether a packet was cut off. */
  onClose(info: { error?: Error; midPacket: boolean }): void;
}

export interface ConnectionOptions {
  /** Expand RLE in incoming packets (stub replies: true; gdb requests: false). */
  rle?: boolean;
  /** Give up after this many retransmissions of one packet. */
  maxRetransmits?: number;
  /** Whether to send '-' on a corrupted incoming packet. Default true. */
  nakOnError?: boolean;
  onLog?: (dir: Direction, bytes: string) => void;
}

export class RspConnection {
  private readonly decoder: RspDecoder;
  /**
   * Frames sent and not yet acknowledged, oldest first (several when requests are
   * pipelined; acks come in order). A '-' retransmits the oldest.
   */
  private unacked: Array<string | string[]> = [];
  private retransmits = 0;
  private closed = false;
  private readonly maxRetransmits: number;
  private readonly nakOnError: boolean;
  /** Called with every byte string written or read (binary strings). */
  onLog: ((dir: Direction, bytes: string) => void) | undefined;
  /** When set, onLog is only called (and bytes only converted) while this returns true. */
  wantLog: (() => boolean) | undefined;
  /**
   * No-ack mode (after a QStartNoAckMode both sides agreed to): packets are neither acknowledged
   * nor kept for retransmission, and a stray '+' is ignored. Saves a write and a wake-up of the
   * peer per packet on a reliable transport.
   */
  noAck = false;

  constructor(readonly transport: Transport, private readonly handler: ConnectionHandler, opts: ConnectionOptions = {}) {
    this.decoder = new RspDecoder({ rle: opts.rle ?? true });
    this.maxRetransmits = opts.maxRetransmits ?? 8;
    this.nakOnError = opts.nakOnError ?? true;
    this.onLog = opts.onLog;
    transport.start((c) => this.onData(c), (e) => this.onEnd(e));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get stats() {
    return this.decoder.stats;
  }

  /** Send a packet; pass `checksum` if already known (e.g. forwarding). */
  sendPacket(data: string, checksum?: number): void {
    const frame = encodePacket(data, checksum !== undefined ? { checksum } : {});
    this.remember(frame);
    this.writeRaw(frame);
  }

  /**
   * Send a packet whose data is the concatenation of `parts` with a known checksum
   * (the bridge joining split replies) without building one big string first.
   */
  sendPacketParts(parts: string[], checksum: number): void {
    const frame = ['$', ...parts, '#' + (checksum & 0xff).toString(16).padStart(2, '0')];
    this.remember(frame);
    this.writeParts(frame);
  }

  private remember(frame: string | string[]): void {
    if (this.noAck) return;
    if (this.unacked.length === 0) this.retransmits = 0;
    this.unacked.push(frame);
    // A peer that never acks (it must, acks are on) cannot make this grow without bound.
    if (this.unacked.length > 64) this.unacked.shift();
  }

  private writeParts(frame: string[]): void {
    if (this.closed) return;
    if (!this.transport.writeBinaryParts) {
      this.writeRaw(frame.join(''));
      return;
    }
    if (this.onLog && (!this.wantLog || this.wantLog())) this.onLog('send', frame.join(''));
    try {
      this.transport.writeBinaryParts(frame);
    } catch (e) {
      this.onEnd(e as Error);
    }
  }

  sendInterrupt(): void {
    this.writeRaw('\x03');
  }

  writeRaw(s: string): void {
    if (this.closed) return;
    if (this.onLog && (!this.wantLog || this.wantLog())) this.onLog('send', s);
    try {
      if (this.transport.writeBinary) this.transport.writeBinary(s);
      else this.transport.write(binaryToBytes(s));
    } catch (e) {
      this.onEnd(e as Error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.transport.close();
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    if (this.onLog && (!this.wantLog || this.wantLog())) this.onLog('recv', bytesToBinary(chunk));
    for (const ev of this.decoder.feed(chunk)) {
      if (this.closed) return;
      switch (ev.kind) {
        case 'ack':
          this.unacked.shift();
          this.retransmits = 0;
          break;
        case 'nak':
          if (this.unacked.length > 0) {
            const frame = this.unacked[0]!;
            if (++this.retransmits > this.maxRetransmits) {
              const raw = typeof frame === 'string' ? frame : frame.join('');
              this.handler.onProtocolError?.({ code: 'bad-checksum', nak: false, raw: raw.slice(0, 256),
                message: `peer rejected a packet ${this.maxRetransmits} times; giving up on it` });
              this.unacked.shift();
              this.retransmits = 0;
            } else if (typeof frame === 'string') this.writeRaw(frame);
            else this.writeParts(frame);
          }
          break;
        case 'interrupt':
          this.handler.onInterrupt?.();
          break;
        case 'packet':
          if (!this.noAck) this.writeRaw('+');
          this.handler.onPacket(ev.data, ev.checksum);
          break;
        case 'notification':
          this.handler.onNotification?.(ev.data);
          break;
        case 'error':
          if (ev.error.nak && this.nakOnError && !this.noAck) this.writeRaw('-');
          this.handler.onProtocolError?.(ev.error);
          break;
      }
    }
  }

  private onEnd(error?: Error): void {
    if (this.closed) return;
    const midPacket = this.decoder.inPacket;
    for (const ev of this.decoder.end()) if (ev.kind === 'error') this.handler.onProtocolError?.(ev.error);
    this.closed = true;
    this.handler.onClose({ ...(error ? { error } : {}), midPacket });
  }
}
