/*
 * serial.ts — the COM2 framing: COBS( u32 seq | records | u32 crc32 ) 0x00.
 *
 * FrameDecoder.push(bytes) splits the byte stream at 0x00, undoes COBS, checks the CRC32 and
 * the sequence number, and hands each good frame's records to a RecordDecoder. Noise between
 * frames, a truncated frame or a flipped bit costs exactly the frames it touches: they are
 * counted (stats.corruptFrames) and decoding continues at the next 0x00 (a reader that joins a
 * running stream, joinsMidStream, loses only its first partial frame, as corrupt bytes). A jump in the
 * sequence number counts the frames that never arrived (stats.missingFrames).
 * cobsEncode/frameEncode are the kernel's algorithm, for tests and fixtures. Pure: no Node.
 */
import { RecordDecoder, type TraceEvent } from './records.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(p: Uint8Array, crc = 0): number {
  crc = ~crc >>> 0;
  for (let i = 0; i < p.length; i++) crc = CRC_TABLE[(crc ^ p[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

export function cobsEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length + Math.ceil(src.length / 254) + 2);
  let o = 1;
  let codeAt = 0;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = src[i]!;
      if (++code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Returns the decoded bytes, or undefined if the encoding is invalid. */
export function cobsDecode(src: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(src.length);
  let o = 0;
  let i = 0;
  while (i < src.length) {
    const code = src[i++]!;
    if (code === 0) return undefined;
    for (let k = 1; k < code; k++) {
      if (i >= src.length) return undefined;
      const b = src[i++]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    if (code !== 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

/** One wire frame (with the trailing 0x00) as the kernel writes it. */
export function frameEncode(seq: number, records: Uint8Array): Uint8Array {
  const raw = new Uint8Array(4 + records.length + 4);
  const dv = new DataView(raw.buffer);
  dv.setUint32(0, seq >>> 0, true);
  raw.set(records, 4);
  dv.setUint32(4 + records.length, crc32(raw.subarray(0, 4 + records.length)), true);
  const c = cobsEncode(raw);
  const out = new Uint8Array(c.length + 1);
  out.set(c, 0);
  return out;
}

const MAX_FRAME = 8192;

export class FrameDecoder {
  readonly records: RecordDecoder;
  private acc: Uint8Array = new Uint8Array(MAX_FRAME + 16);
  private accLen = 0;
  private overflow = false;
  private lastSeq: number | undefined;
  /** Set when the reader attaches to a stream that is already running (a live socket): the
   * bytes before its first delimiter may be the tail of a frame. */
  joinsMidStream = false;
  private atStart = true;
  frames = 0;
  /** Called with each good frame's records (before decoding), e.g. to record them to a file. */
  onBlock: ((records: Uint8Array) => void) | undefined;

  constructor(records?: RecordDecoder) {
    this.records = records ?? new RecordDecoder();
  }

  get stats() {
    return this.records.stats;
  }

  push(chunk: Uint8Array, out: TraceEvent[] = []): TraceEvent[] {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b !== 0) {
        if (this.accLen < this.acc.length) this.acc[this.accLen++] = b;
        else this.overflow = true;
        continue;
      }
      if (this.accLen || this.overflow) this.frame(out, this.atStart && this.joinsMidStream);
      this.atStart = false;
      this.accLen = 0;
      this.overflow = false;
    }
    return out;
  }

  /** Bytes of an unfinished frame at the end of input (a capture cut mid-frame) are counted
   * as corrupt bytes, not as a corrupt frame. */
  finish(out: TraceEvent[] = []): TraceEvent[] {
    if (this.accLen) this.stats.corruptBytes += this.accLen;
    this.accLen = 0;
    return this.records.finish(out);
  }

  /** first: the bytes before the first delimiter of a stream joined mid-way (joinsMidStream).
   * If they are not a whole frame, the reader came in mid-frame (as finish() treats a capture
   * cut mid-frame): they count as corrupt bytes, not as a corrupt frame. */
  private frame(out: TraceEvent[], first = false): void {
    const st = this.stats;
    const bad = () => {
      if (first) st.corruptBytes += this.accLen;
      else st.corruptFrames++;
    };
    if (this.overflow) {
      bad();
      return;
    }
    const raw = cobsDecode(this.acc.subarray(0, this.accLen));
    if (!raw || raw.length < 8) {
      bad();
      return;
    }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const want = dv.getUint32(raw.length - 4, true);
    if (crc32(raw.subarray(0, raw.length - 4)) !== want) {
      bad();
      return;
    }
    const seq = dv.getUint32(0, true);
    if (this.lastSeq !== undefined) {
      const gap = (seq - this.lastSeq - 1) >>> 0;
      if (gap > 0 && gap < 0x10000000) st.missingFrames += gap;
    }
    this.lastSeq = seq;
    this.frames++;
    this.onBlock?.(raw.subarray(4, raw.length - 4));
    this.records.pushBlock(raw.subarray(4, raw.length - 4), out);
  }
}
