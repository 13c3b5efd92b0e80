/*
 * hex.ts — byte/hex/binary helpers for the GDB remote serial protocol.
 *
 * Packet payloads travel as "binary strings": JavaScript strings whose every
 * char code is one byte (0..255, i.e. latin1). That keeps the codec cheap and
 * lets packets be logged and compared as text, while binary payloads (X
 * packets, qXfer replies) survive untouched. Helpers here convert between
 * binary strings, Uint8Array and hex, and implement the `}` escaping rule.
 */

const HEX = '0123456789abcdef';

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const NodeBuffer = (globalThis as unknown as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;

/** Decode hex; throws RangeError naming the bad position (callers decide). */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RangeError(`odd-length hex string (${hex.length} chars)`);
  if (NodeBuffer && hex.length > 64) {
    // Buffer stops at the first bad digit: a full-length result means all were valid.
    const b = NodeBuffer.from(hex, 'hex');
    if (b.length === hex.length / 2) return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new RangeError(`invalid hex digit at offset ${2 * i} in "${hex.slice(0, 40)}"`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export function isHex(s: string): boolean {
  return /^[0-9a-fA-F]*$/.test(s);
}

export function bytesToBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function textToHex(text: string): string {
  return bytesToHex(new TextEncoder().encode(text));
}

export function hexToText(hex: string): string {
  return new TextDecoder().decode(hexToBytes(hex));
}

/** Bytes that must be escaped in binary data: # $ } and * (RLE marker). */
function needsEscape(b: number): boolean {
  return b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a;
}

/** Escape binary bytes for X packets / binary replies: `}` then byte ^ 0x20. */
export function escapeBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (needsEscape(b)) s += '}' + String.fromCharCode(b ^ 0x20);
    else s += String.fromCharCode(b);
  }
  return s;
}

/** Undo `}` escaping. A dangling `}` at the end is reported as an error. */
export function unescapeBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x7d) {
      if (i + 1 >= s.length) throw new RangeError('binary data ends with a dangling escape character "}"');
      out[n++] = (s.charCodeAt(++i) ^ 0x20) & 0xff;
    } else out[n++] = c & 0xff;
  }
  return out.slice(0, n);
}

/** Little-endian hex (as in `g` replies) to bigint; `xx` bytes (unavailable) give undefined. */
export function leHexToBigInt(hex: string): bigint | undefined {
  if (/x/i.test(hex)) return undefined;
  let v = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(hex.slice(i, i + 2), 16));
  return v;
}

export function bigIntToLeHex(v: bigint, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) {
    const b = Number((v >> BigInt(8 * i)) & 0xffn);
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}
