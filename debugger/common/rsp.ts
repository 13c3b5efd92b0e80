/*
 * rsp.ts — GDB Remote Serial Protocol framing codec (pure; no Node imports).
 *
 * Wire format:   $<data>#<two hex digit checksum>      a packet
 *                %<data>#<cs>                           a notification (e.g. %Stop:T05...)
 *                +  /  -                                ack / negative ack (retransmit)
 *                0x03                                   interrupt request (only byte allowed
 *                                                       towards a running QEMU)
 * Data may be run-length encoded (`X*n` repeats X (n-29) more times) and binary data
 * uses `}` escaping (see hex.ts). The checksum covers the bytes on the wire.
 *
 * RspDecoder is a streaming decoder: feed() it chunks cut anywhere; it emits events
 * in order. Bad input (garbage between packets, truncated packets, bad checksums,
 * malformed RLE, oversized packets or expansions) never throws: it becomes an `error` event with a
 * code and a clear message, and the decoder resynchronises at the next `$`/`%` (an oversized
 * packet is dropped up to its checksum first: its bytes are data, never acks or interrupts).
 */

export type RspErrorCode =
  | 'bad-checksum'      // checksum digits valid hex but don't match the data
  | 'malformed-checksum'// checksum digits are not hex
  | 'truncated'         // a new packet started before the previous one finished
  | 'garbage'           // bytes outside any packet that are not +, -, 0x03
  | 'bad-rle'           // run-length encoding cannot be decoded
  | 'too-long';         // packet longer than maxPacketSize

export interface RspError {
  code: RspErrorCode;
  message: string;
  /** The offending wire bytes (binary string, possibly shortened). */
  raw: string;
  /** True when the sender should be asked to retransmit with '-'. */
  nak: boolean;
}

export type RspEvent =
  | { kind: 'packet'; data: string; raw: string; /** checksum of `data` when known (no RLE expansion) */ checksum?: number }
  | { kind: 'notification'; data: string; raw: string }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'interrupt' }
  | { kind: 'error'; error: RspError };

// Node's Buffer when present (much faster); plain JS elsewhere. No import: stays pure.
interface BufferLike extends Uint8Array { toString(enc?: string): string }
const NodeBuffer = (globalThis as unknown as { Buffer?: {
  from(b: ArrayBufferLike, off: number, len: number): BufferLike;
  from(s: string, enc: string): BufferLike;
} }).Buffer;

export function checksum(data: string): number {
  let s = 0;
  if (NodeBuffer && data.length > 128) {
    const b = NodeBuffer.from(data, 'latin1');
    for (let i = 0; i < b.length; i++) s += b[i]!;
    return s & 0xff;
  }
  for (let i = 0; i < data.length; i++) s = (s + data.charCodeAt(i)) & 0xff;
  return s;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Frame a packet. `data` is a binary string already escaped where needed. */
export function encodePacket(data: string, opts: { rle?: boolean; checksum?: number } = {}): string {
  if (!opts.rle && opts.checksum !== undefined) return '$' + data + '#' + hex2(opts.checksum & 0xff);
  const body = opts.rle ? rleEncode(data) : data;
  return '$' + body + '#' + hex2(checksum(body));
}

export function encodeNotification(data: string): string {
  return '%' + data + '#' + hex2(checksum(data));
}

/** Run-length encode (optional for senders). Never encodes runs of $ # } *. */
export function rleEncode(data: string): string {
  let out = '';
  let i = 0;
  while (i < data.length) {
    const c = data[i]!;
    let j = i + 1;
    while (j < data.length && data[j] === c) j++;
    const run = j - i;
    out += c;
    let rest = run - 1;
    if ('$#}*'.includes(c)) {
      out += c.repeat(rest);
      rest = 0;
    }
    while (rest >= 3) {
      let k = Math.min(rest, 97);
      if (k === 6 || k === 7) k = 5; // count chars '#' and '$' are forbidden
      out += '*' + String.fromCharCode(k + 29);
      rest -= k;
    }
    out += c.repeat(rest);
    i = j;
  }
  return out;
}

/** Longest expansion rleDecode accepts by default (a stub's reply is never near this). */
export const RLE_MAX_EXPANDED = 4 << 20;

/**
 * Expand run-length encoding. Returns an error message instead of throwing. Linear in the
 * output: bytes go into a growing buffer (filled per run) and become a string once — appending to
 * a string and reading its last character back flattened V8's rope per marker, which made 16 KB of
 * `x*~` take 10 s. The output is capped at `max` bytes (each 2-byte marker adds up to 97, so
 * 1 MiB of markers would otherwise become 50 MB).
 */
export function rleDecode(body: string, max = RLE_MAX_EXPANDED): { data: string } | { error: string } {
  if (body.indexOf('*') < 0) return { data: body };
  let buf: Uint8Array = new Uint8Array(Math.min(Math.max(64, body.length * 2), max + 128));
  let o = 0;
  const n = body.length;
  for (let i = 0; i < n; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x2a) { // '*'
      if (o === buf.length) buf = growTo(buf, o + 1);
      buf[o++] = c;
      continue;
    }
    if (o === 0) return { error: `run-length marker "*" at offset ${i} has no preceding character` };
    if (i + 1 >= n) return { error: `run-length marker "*" at offset ${i} has no count character` };
    const k = body.charCodeAt(++i) - 29;
    if (k < 0 || k > 97) return { error: `run-length count character 0x${hex2(body.charCodeAt(i))} at offset ${i} is out of range` };
    if (o + k > max) return { error: `run-length encoding expands beyond ${max} bytes (at offset ${i})` };
    if (o + k > buf.length) buf = growTo(buf, o + k);
    buf.fill(buf[o - 1]!, o, o + k);
    o += k;
  }
  if (o > max) return { error: `run-length encoding expands beyond ${max} bytes` };
  return { data: latin1(buf, 0, o) };
}

function growTo(b: Uint8Array, need: number): Uint8Array {
  const nb = new Uint8Array(Math.max(need, b.length * 2));
  nb.set(b);
  return nb;
}

export interface DecoderOptions {
  /** Expand run-length encoding in packet data (true for replies from a stub). */
  rle?: boolean;
  /** Longest accepted packet body in bytes. */
  maxPacketSize?: number;
  /** Longest accepted packet after run-length expansion (default max(4 MiB, maxPacketSize)). */
  maxExpandedSize?: number;
}

export interface DecoderStats {
  packets: number;
  notifications: number;
  acks: number;
  naks: number;
  interrupts: number;
  errors: number;
}

// Discard / DiscardCs*: the rest of a packet already reported too long, up to and including its
// checksum — its bytes are data, never acks, naks or interrupts.
const enum St { Idle, Body, Cs1, Cs2, Discard, DiscardCs1, DiscardCs2 }

export class RspDecoder {
  private st: St = St.Idle;
  private body = '';
  private cs1 = '';
  private isNotif = false;
  private garbage = '';
  private readonly rle: boolean;
  private readonly max: number;
  private readonly maxExpanded: number;
  readonly stats: DecoderStats = { packets: 0, notifications: 0, acks: 0, naks: 0, interrupts: 0, errors: 0 };

  constructor(opts: DecoderOptions = {}) {
    this.rle = opts.rle ?? true;
    this.max = opts.maxPacketSize ?? 1 << 20;
    this.maxExpanded = opts.maxExpandedSize ?? Math.max(RLE_MAX_EXPANDED, this.max);
  }

  /** True while a packet has started but not finished (used to detect mid-packet EOF). */
  get inPacket(): boolean {
    return this.st !== St.Idle;
  }

  /** Feed bytes (Uint8Array or binary string); returns the events they complete. */
  feed(chunk: Uint8Array | string): RspEvent[] {
    const ev: RspEvent[] = [];
    const len = chunk.length;
    const isStr = typeof chunk === 'string';
    for (let i = 0; i < len; i++) {
      const b = isStr ? (chunk as string).charCodeAt(i) & 0xff : (chunk as Uint8Array)[i]!;
      switch (this.st) {
        case St.Idle:
          if (b === 0x24 || b === 0x25) { // $ %
            this.flushGarbage(ev);
            this.st = St.Body;
            this.body = '';
            this.isNotif = b === 0x25;
          } else if (b === 0x2b) { this.flushGarbage(ev); this.stats.acks++; ev.push({ kind: 'ack' }); }
          else if (b === 0x2d) { this.flushGarbage(ev); this.stats.naks++; ev.push({ kind: 'nak' }); }
          else if (b === 0x03) { this.flushGarbage(ev); this.stats.interrupts++; ev.push({ kind: 'interrupt' }); }
          else {
            this.garbage += String.fromCharCode(b);
            if (this.garbage.length >= 256) this.flushGarbage(ev);
          }
          break;
        case St.Body:
          if (b !== 0x23 && b !== 0x24) {
            // Fast path: take the run of body bytes up to the next '#' or '$' at once.
            let j = i + 1;
            if (isStr) {
              const s = chunk as string;
              let h = s.indexOf('#', i);
              if (h < 0) h = len;
              const d = s.indexOf('$', i);
              j = d >= 0 && d < h ? d : h;
              this.body += s.slice(i, j);
            } else {
              const u = chunk as Uint8Array;
              let h = u.indexOf(0x23, i);
              if (h < 0) h = len;
              const d = u.indexOf(0x24, i);
              j = d >= 0 && d < h ? d : h;
              this.body += latin1(u, i, j);
            }
            i = j - 1;
            if (this.body.length > this.max) {
              this.tooLong(ev);
            }
            break;
          }
          if (b === 0x23) { this.st = St.Cs1; }
          else if (b === 0x24) {
            // A new start before '#': the previous packet was cut short. Resync here.
            this.err(ev, 'truncated', `packet truncated: a new "${String.fromCharCode(b)}" arrived before the "#" ending ` +
              `the previous packet (${this.body.length} bytes received)`, this.start() + this.body, false);
            this.body = '';
            this.isNotif = false;
          } else {
            this.body += String.fromCharCode(b);
            if (this.body.length > this.max) {
              this.tooLong(ev);
            }
          }
          break;
        case St.Discard:
        case St.DiscardCs1:
        case St.DiscardCs2:
          if (b === 0x24 || (b === 0x25 && this.st !== St.Discard)) {
            // A packet start (a '$' never occurs inside a body): the discarded one was cut short.
            this.st = St.Body;
            this.body = '';
            this.isNotif = b === 0x25;
          } else if (this.st === St.Discard) {
            if (b === 0x23) this.st = St.DiscardCs1;
          } else this.st = this.st === St.DiscardCs1 ? St.DiscardCs2 : St.Idle;
          break;
        case St.Cs1:
        case St.Cs2:
          if (b === 0x24 || b === 0x25) {
            // A packet start where a checksum digit belongs: the packet was cut. Resync.
            this.err(ev, 'malformed-checksum', `packet checksum cut short by a new "${String.fromCharCode(b)}"`,
              this.start() + this.body + '#' + (this.st === St.Cs2 ? this.cs1 : ''), true);
            this.st = St.Body;
            this.body = '';
            this.isNotif = b === 0x25;
          } else if (this.st === St.Cs1) {
            this.cs1 = String.fromCharCode(b);
            this.st = St.Cs2;
          } else {
            const csText = this.cs1 + String.fromCharCode(b);
            this.st = St.Idle;
            this.finish(ev, csText);
          }
          break;
      }
    }
    return ev;
  }

  /** Report (and forget) a partially received packet, e.g. when the stream ends. */
  end(): RspEvent[] {
    const ev: RspEvent[] = [];
    this.flushGarbage(ev);
    if (this.st >= St.Discard) this.st = St.Idle; // already reported as too long
    if (this.st !== St.Idle) {
      this.err(ev, 'truncated', `stream ended in the middle of a packet (${this.body.length} bytes received, no checksum)`,
        this.start() + this.body, false);
      this.st = St.Idle;
      this.body = '';
    }
    return ev;
  }

  /** The body outgrew maxPacketSize: report it, then drop everything up to its checksum. */
  private tooLong(ev: RspEvent[]): void {
    this.err(ev, 'too-long', `packet longer than ${this.max} bytes; discarded up to its checksum`, this.start() + this.body.slice(0, 64), true);
    this.st = St.Discard;
    this.body = '';
  }

  private start(): string {
    return this.isNotif ? '%' : '$';
  }

  private finish(ev: RspEvent[], csText: string): void {
    const raw = this.start() + this.body + '#' + csText;
    if (!/^[0-9a-fA-F]{2}$/.test(csText)) {
      this.err(ev, 'malformed-checksum', `packet checksum "${printable(csText)}" is not two hex digits`, raw, true);
      this.body = '';
      return;
    }
    const want = parseInt(csText, 16);
    const got = checksum(this.body);
    if (want !== got) {
      this.err(ev, 'bad-checksum', `bad checksum: packet says 0x${hex2(want)}, data sums to 0x${hex2(got)}`, raw, true);
      this.body = '';
      return;
    }
    let data = this.body;
    this.body = '';
    let known: number | undefined = want;
    if (this.rle && data.indexOf('*') >= 0) {
      known = undefined;
      const r = rleDecode(data, this.maxExpanded);
      if ('error' in r) {
        this.err(ev, 'bad-rle', `malformed run-length encoding: ${r.error}`, raw, true);
        return;
      }
      data = r.data;
    }
    if (this.isNotif) { this.stats.notifications++; ev.push({ kind: 'notification', data, raw }); }
    else { this.stats.packets++; ev.push({ kind: 'packet', data, raw, ...(known !== undefined ? { checksum: known } : {}) }); }
  }

  private flushGarbage(ev: RspEvent[]): void {
    if (this.garbage.length === 0) return;
    const g = this.garbage;
    this.garbage = '';
    this.err(ev, 'garbage', `${g.length} unexpected byte(s) outside a packet: "${printable(g.slice(0, 32))}"`, g, false);
  }

  private err(ev: RspEvent[], code: RspErrorCode, message: string, raw: string, nak: boolean): void {
    this.stats.errors++;
    ev.push({ kind: 'error', error: { code, message, raw: raw.length > 256 ? raw.slice(0, 256) + '…' : raw, nak } });
  }
}


function latin1(u: Uint8Array, from: number, to: number): string {
  if (NodeBuffer && to - from > 64) return NodeBuffer.from(u.buffer, u.byteOffset + from, to - from).toString('latin1');
  let out = '';
  for (let k = from; k < to; k += 8192) out += String.fromCharCode.apply(null, u.subarray(k, Math.min(to, k + 8192)) as unknown as number[]);
  return out;
}

/** Render a binary string for logs: printable ASCII as is, other bytes as \xNN. */
export function printable(s: string, max = 4096): string {
  let out = '';
  const n = Math.min(s.length, max);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? s[i] : c === 0x5c ? '\\\\' : '\\x' + hex2(c);
  }
  return s.length > max ? out + `…(+${s.length - max} bytes)` : out;
}
