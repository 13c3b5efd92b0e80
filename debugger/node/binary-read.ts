/*
 * binary-read.ts — the bridge's memory reads as binary `x` packets on a slow line.
 *
 * gdb 12/13 (this machine's) read memory with `m`, whose reply is hex: two bytes on the wire per
 * byte of memory, so on a 115200-baud serial line a read can never pass half the line rate. A stub
 * that answers `x ADDR,LENGTH` (GDB 16's binary memory read, LLDB's `x`; qSupported feature
 * `binary-upload+`) replies `b` and the bytes themselves, `}`-escaped where they would be packet
 * syntax — about one wire byte per byte. LaneOS's kernel stub does (os/kernel/generic/gdbstub.c).
 *
 * So the bridge, when its target offers binary-upload, turns each client `m` into `x` packets
 * towards the target and answers the client in hex as before: the client side is a local socket,
 * where hex costs nothing that matters; the line is where the bytes are dear.
 *
 *   readBinaryAsHex(t, addr, len)
 *     `x` parts of binaryReadChunk(t) bytes — (PacketSize - 8) / 2, so a reply fits the target's
 *     packet even if every byte needed escaping — all sent at once (RspClient pipelines reads, so
 *     the line never idles between parts); the replies joined into one hex reply. A part that fails
 *     ends the read there (RSP allows the bytes read so far; the first failing gives its error).
 *     A part answered short (a stub may stop early) is read on from where it stopped.
 *     A target that advertised binary-upload but answers `x` with the empty reply ("unknown")
 *     is read with `m` from then on.
 */
import { bytesToHex, unescapeBinary } from '../common/hex.js';
import type { RspClient } from './client.js';

/** Targets that advertised binary-upload but did not understand `x`. */
const refused = new WeakSet<RspClient>();

export function supportsBinaryRead(t: RspClient): boolean {
  return t.features.get('binary-upload') === '+' && !refused.has(t);
}

/** Bytes per `x` packet: whatever the data, the escaped reply fits the target's PacketSize. */
export function binaryReadChunk(t: RspClient): number {
  return Math.max(16, Math.floor((t.packetSize - 8) / 2));
}

type Reply = { data: string; checksum?: number };

/** One `x` reply → the bytes, or the reply itself when it is not data (an error, unknown). */
function decode(r: string): Uint8Array | string {
  if (!r.startsWith('b')) return r;
  try {
    return unescapeBinary(r.slice(1));
  } catch {
    return 'E01';
  }
}

/**
 * Reads `len` bytes at `addr` with `x` packets; the reply as an `m` reply (hex, or the first
 * part's error), or undefined when the target turned out not to know `x` (read it with `m`).
 */
export async function readBinaryAsHex(t: RspClient, addr: bigint, len: number): Promise<Reply | undefined> {
  const per = binaryReadChunk(t);
  const ask = (at: bigint, n: number) => t.request(`x${at.toString(16)},${n.toString(16)}`, undefined, undefined, true);
  const parts: Array<{ at: bigint; n: number; reply: Promise<string> }> = [];
  for (let off = 0; off < len; off += per) {
    const n = Math.min(per, len - off);
    const at = addr + BigInt(off);
    const reply = ask(at, n);
    reply.catch(() => undefined); // a part after a failed one is never awaited
    parts.push({ at, n, reply });
  }
  const chunks: Uint8Array[] = [];
  for (const [i, p] of parts.entries()) {
    let got: Uint8Array | string = decode(await p.reply);
    if (typeof got === 'string') {
      if (got === '' && i === 0) {
        refused.add(t);
        return undefined;
      }
      if (i === 0) return { data: got === '' ? 'E01' : got };
      break;
    }
    let have = got.length;
    chunks.push(got);
    // short: read on from where the stub stopped (a part that gives nothing ends the read)
    while (have < p.n && got.length > 0) {
      got = decode(await ask(p.at + BigInt(have), p.n - have));
      if (typeof got === 'string') break;
      chunks.push(got);
      have += got.length;
    }
    if (have < p.n) break;
  }
  let hex = '';
  for (const c of chunks) hex += bytesToHex(c);
  return { data: hex };
}
