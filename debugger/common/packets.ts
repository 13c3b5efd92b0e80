/*
 * packets.ts — meaning of the packets the debugger cares about (pure).
 *
 * Stop replies (T/S/W/X/O/N/w), thread-id syntax, qSupported feature lists and
 * the x86_64 `g` register blob as QEMU's gdbstub lays it out for i386:x86-64
 * (the order of gdb's i386-64bit.xml: GPRs, rip, eflags, segment selectors,
 * fs/gs/kernel-gs bases, control registers, x87, SSE). Parsing never throws:
 * malformed input gives { kind: 'invalid', message }.
 */
import { hexToText, leHexToBigInt } from './hex.js';

export type StopReason =
  | { kind: 'swbreak' }
  | { kind: 'hwbreak' }
  | { kind: 'watch' | 'rwatch' | 'awatch'; address: bigint }
  | { kind: 'other'; name: string; value: string };

export type StopReply =
  | { kind: 'signal'; signal: number; thread?: string; core?: number; reasons: StopReason[];
      registers: Map<number, string>; raw: string }
  | { kind: 'exited'; code: number; pid?: string; raw: string }
  | { kind: 'terminated'; signal: number; pid?: string; raw: string }
  | { kind: 'output'; text: string; raw: string }
  | { kind: 'no-resumed'; raw: string }
  | { kind: 'thread-exited'; code: number; thread?: string; raw: string }
  | { kind: 'invalid'; message: string; raw: string };

export const SIGINT = 2;
export const SIGTRAP = 5;

export function isStopReply(data: string): boolean {
  return /^(?:[ST][0-9a-fA-F]{2}|[WX][0-9a-fA-F]{2}|N$|w[0-9a-fA-F]{2})/.test(data);
}

export function parseStopReply(raw: string): StopReply {
  const invalid = (message: string): StopReply => ({ kind: 'invalid', message, raw });
  if (raw.length === 0) return invalid('empty stop reply');
  const c = raw[0]!;
  const sig = parseInt(raw.slice(1, 3), 16);
  switch (c) {
    case 'S':
      if (!/^S[0-9a-fA-F]{2}$/.test(raw)) return invalid(`malformed S stop reply "${raw}"`);
      return { kind: 'signal', signal: sig, reasons: [], registers: new Map(), raw };
    case 'T': {
      if (!/^T[0-9a-fA-F]{2}/.test(raw)) return invalid(`malformed T stop reply "${raw}"`);
      const out: StopReply = { kind: 'signal', signal: sig, reasons: [], registers: new Map(), raw };
      for (const part of raw.slice(3).split(';')) {
        if (part === '') continue;
        const colon = part.indexOf(':');
        const name = colon < 0 ? part : part.slice(0, colon);
        const value = colon < 0 ? '' : part.slice(colon + 1);
        if (name === 'thread') out.thread = value;
        else if (name === 'core') out.core = parseInt(value, 16);
        else if (name === 'swbreak' || name === 'hwbreak') out.reasons.push({ kind: name });
        else if (name === 'watch' || name === 'rwatch' || name === 'awatch') {
          if (!/^[0-9a-fA-F]+$/.test(value)) return invalid(`watchpoint address "${value}" is not hex in "${raw}"`);
          out.reasons.push({ kind: name, address: BigInt('0x' + value) });
        } else if (/^[0-9a-fA-F]+$/.test(name)) out.registers.set(parseInt(name, 16), value);
        else out.reasons.push({ kind: 'other', name, value });
      }
      return out;
    }
    case 'W':
    case 'X': {
      const m = /^[WX]([0-9a-fA-F]{2,})(?:;process:([0-9a-fA-F]+))?$/.exec(raw);
      if (!m) return invalid(`malformed ${c} stop reply "${raw}"`);
      const v = parseInt(m[1]!, 16);
      return c === 'W'
        ? { kind: 'exited', code: v, ...(m[2] ? { pid: m[2] } : {}), raw }
        : { kind: 'terminated', signal: v, ...(m[2] ? { pid: m[2] } : {}), raw };
    }
    case 'O':
      try {
        return { kind: 'output', text: hexToText(raw.slice(1)), raw };
      } catch (e) {
        return invalid(`console output packet is not hex: ${(e as Error).message}`);
      }
    case 'N':
      return { kind: 'no-resumed', raw };
    case 'w': {
      const m = /^w([0-9a-fA-F]{2,});(.*)$/.exec(raw);
      if (!m) return invalid(`malformed w stop reply "${raw}"`);
      return { kind: 'thread-exited', code: parseInt(m[1]!, 16), thread: m[2]!, raw };
    }
    default:
      return invalid(`"${raw.slice(0, 40)}" is not a stop reply`);
  }
}

/** qSupported reply → map of feature → value ('+', '-', '?' or the value after '='). */
export function parseFeatures(reply: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const item of reply.split(';')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq >= 0) m.set(item.slice(0, eq), item.slice(eq + 1));
    else if (/[+\-?]$/.test(item)) m.set(item.slice(0, -1), item.slice(-1));
    else m.set(item, '+');
  }
  return m;
}

/** qfThreadInfo/qsThreadInfo reply ("m1,2" / "l") → ids, done flag. */
export function parseThreadList(reply: string): { ids: string[]; done: boolean } | { error: string } {
  if (reply === 'l') return { ids: [], done: true };
  if (reply.startsWith('m')) return { ids: reply.slice(1).split(',').filter(Boolean), done: false };
  return { error: `unexpected thread list reply "${reply.slice(0, 40)}"` };
}

/* ---------------------------------------------------------------- x86_64 `g` blob */

export interface RegDesc { name: string; bytes: number; regnum: number }

const names: Array<[string, number]> = [];
for (const r of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip']) names.push([r, 8]);
names.push(['eflags', 4]);
for (const r of ['cs', 'ss', 'ds', 'es', 'fs', 'gs']) names.push([r, 4]);
for (const r of ['fs_base', 'gs_base', 'k_gs_base']) names.push([r, 8]);
for (const r of ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer']) names.push([r, 8]);
for (let i = 0; i < 8; i++) names.push([`st${i}`, 10]);
for (const r of ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop']) names.push([r, 4]);
for (let i = 0; i < 16; i++) names.push([`xmm${i}`, 16]);
names.push(['mxcsr', 4]);

/** Register layout of QEMU 7.2's i386:x86-64 `g` reply (608 bytes). */
export const X86_64_REGS: readonly RegDesc[] = names.map(([name, bytes], regnum) => ({ name, bytes, regnum }));
export const X86_64_G_BYTES = X86_64_REGS.reduce((a, r) => a + r.bytes, 0);

/**
 * Split a `g` reply into named registers. Values of up to 8 bytes become bigint;
 * wider ones (st*, xmm*) stay little-endian hex. Unavailable registers ("xx") are undefined.
 * A reply shorter than the core registers yields an error; trailing registers may be absent.
 */
export function parseX86_64Registers(g: string):
  { regs: Map<string, bigint | string | undefined> } | { error: string } {
  if (g.length % 2 !== 0 || !/^[0-9a-fA-Fx]*$/.test(g)) return { error: 'register blob is not hex' };
  const regs = new Map<string, bigint | string | undefined>();
  let off = 0;
  for (const r of X86_64_REGS) {
    const h = g.slice(off, off + 2 * r.bytes);
    if (h.length < 2 * r.bytes) {
      if (r.regnum <= 16) return { error: `register blob too short (${g.length / 2} bytes): no ${r.name}` };
      break;
    }
    regs.set(r.name, r.bytes <= 8 ? leHexToBigInt(h) : h);
    off += 2 * r.bytes;
  }
  return { regs };
}
