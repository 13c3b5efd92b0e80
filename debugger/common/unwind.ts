/*
 * unwind.ts — walk an x86-64 user stack from saved registers, with the program's DWARF call frame
 * information (.debug_frame, or .eh_frame-less ELFs built with -g) and frame pointers where no
 * FDE covers a pc.
 *
 *   regs at the syscall (rip, rsp, rbp: the kernel saved them on entry)
 *     ─▶ FDE for pc ─▶ CFA rule + where the return address / rbp were saved ─▶ caller's regs
 *     ─▶ … until the pc leaves the program, the stack stops growing up, or 64 frames
 *
 * Pure: memory comes from a callback (the debugger reads it through gdb / the gdbstub). Bad or
 * truncated CFI never throws from unwind(): that frame falls back to frame pointers, and the walk
 * ends with `why` saying what stopped it.
 */
import type { ElfFile } from './elf.js';

/** DWARF register numbers (x86-64 psABI). */
export const DW_REG = { rbp: 6, rsp: 7, ra: 16 } as const;

type Rule = { kind: 'undefined' } | { kind: 'same' } | { kind: 'offset'; off: number } | { kind: 'val_offset'; off: number } | { kind: 'register'; reg: number };

interface Cie {
  codeAlign: number;
  dataAlign: number;
  raReg: number;
  initial: Uint8Array;
}

export interface Fde {
  start: bigint;
  end: bigint;
  cie: Cie;
  program: Uint8Array;
}

export interface CfaState {
  cfaReg: number;
  cfaOff: number;
  /** the CFA is an expression we do not evaluate */
  cfaExpr: boolean;
  rules: Map<number, Rule>;
}

class Reader {
  pos: number;
  constructor(readonly dv: DataView, pos = 0, readonly end = dv.byteLength) {
    this.pos = pos;
  }
  u8(): number {
    if (this.pos >= this.end) throw new Error('CFI: read past the end');
    return this.dv.getUint8(this.pos++);
  }
  u16(): number {
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  uleb(): number {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return r;
      if (shift > 63) throw new Error('CFI: ULEB128 too long');
    }
  }
  sleb(): number {
    let r = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.u8();
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80 && shift < 64);
    if (b & 0x40) r -= 2 ** shift;
    return r;
  }
  cstr(): string {
    let s = '';
    for (let c = this.u8(); c; c = this.u8()) s += String.fromCharCode(c);
    return s;
  }
}

/** Parses .debug_frame (32- and 64-bit DWARF, CIE versions 1, 3, 4) into FDEs sorted by address. */
export function parseDebugFrame(data: Uint8Array): Fde[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const cies = new Map<number, Cie>();
  const fdes: Fde[] = [];
  const readCie = (off: number): Cie => {
    const hit = cies.get(off);
    if (hit) return hit;
    const r = new Reader(dv, off);
    let len = r.u32();
    let is64 = false;
    if (len === 0xffffffff) {
      len = Number(r.u64());
      is64 = true;
    }
    const end = r.pos + len;
    const id = is64 ? r.u64() : BigInt(r.u32());
    if (id !== (is64 ? 0xffffffffffffffffn : 0xffffffffn)) throw new Error(`CFI: no CIE at offset ${off}`);
    const version = r.u8();
    const aug = r.cstr();
    if (aug && aug !== '') throw new Error(`CFI: CIE augmentation "${aug}" not supported in .debug_frame`);
    if (version >= 4) {
      r.u8(); // address size
      r.u8(); // segment selector size
    }
    const codeAlign = r.uleb();
    const dataAlign = r.sleb();
    const raReg = version === 1 ? r.u8() : r.uleb();
    const cie: Cie = { codeAlign, dataAlign, raReg, initial: data.subarray(r.pos, end) };
    cies.set(off, cie);
    return cie;
  };
  let pos = 0;
  while (pos + 4 <= data.length) {
    const r = new Reader(dv, pos);
    let len = r.u32();
    let is64 = false;
    if (len === 0) {
      pos += 4;
      continue;
    }
    if (len === 0xffffffff) {
      len = Number(r.u64());
      is64 = true;
    }
    const end = r.pos + len;
    if (end > data.length) break;
    const idPos = r.pos;
    const id = is64 ? r.u64() : BigInt(r.u32());
    const isCie = id === (is64 ? 0xffffffffffffffffn : 0xffffffffn);
    if (!isCie) {
      try {
        const cie = readCie(Number(id));
        const start = r.u64();
        const range = r.u64();
        fdes.push({ start, end: start + range, cie, program: data.subarray(r.pos, end) });
      } catch {
        /* a broken entry: skip it (frame pointers cover its code) */
      }
    }
    void idPos;
    pos = end;
  }
  fdes.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return fdes;
}

export function findFde(fdes: Fde[], pc: bigint): Fde | undefined {
  let lo = 0;
  let hi = fdes.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fdes[mid]!.start <= pc) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const f = best >= 0 ? fdes[best]! : undefined;
  return f && pc < f.end ? f : undefined;
}

/** Runs the CIE's initial instructions and the FDE's program up to pc: the rules in effect there. */
export function cfaAt(fde: Fde, pc: bigint): CfaState {
  const st: CfaState = { cfaReg: DW_REG.rsp, cfaOff: 8, cfaExpr: false, rules: new Map() };
  const { codeAlign, dataAlign } = fde.cie;
  let initialRules = new Map<number, Rule>();
  const stack: { cfaReg: number; cfaOff: number; rules: Map<number, Rule> }[] = [];
  const run = (prog: Uint8Array, isInitial: boolean): boolean => {
    const r = new Reader(new DataView(prog.buffer, prog.byteOffset, prog.byteLength));
    let loc = fde.start;
    while (r.pos < prog.length) {
      const op = r.u8();
      const hi2 = op & 0xc0;
      const low = op & 0x3f;
      const advance = (n: number) => {
        loc += BigInt(n * codeAlign);
        return loc > pc;
      };
      if (hi2 === 0x40) {
        if (!isInitial && advance(low)) return true;
        continue;
      }
      if (hi2 === 0x80) {
        st.rules.set(low, { kind: 'offset', off: r.uleb() * dataAlign });
        continue;
      }
      if (hi2 === 0xc0) {
        const init = initialRules.get(low);
        if (init) st.rules.set(low, init);
        else st.rules.delete(low);
        continue;
      }
      switch (op) {
        case 0x00: break; // nop
        case 0x01: loc = r.u64(); if (loc > pc) return true; break; // set_loc
        case 0x02: if (advance(r.u8())) return true; break;
        case 0x03: if (advance(r.u16())) return true; break;
        case 0x04: if (advance(r.u32())) return true; break;
        case 0x05: { const reg = r.uleb(); st.rules.set(reg, { kind: 'offset', off: r.uleb() * dataAlign }); break; }
        case 0x06: { const reg = r.uleb(); const init = initialRules.get(reg); if (init) st.rules.set(reg, init); else st.rules.delete(reg); break; }
        case 0x07: st.rules.set(r.uleb(), { kind: 'undefined' }); break;
        case 0x08: st.rules.set(r.uleb(), { kind: 'same' }); break;
        case 0x09: { const reg = r.uleb(); st.rules.set(reg, { kind: 'register', reg: r.uleb() }); break; }
        case 0x0a: stack.push({ cfaReg: st.cfaReg, cfaOff: st.cfaOff, rules: new Map(st.rules) }); break;
        case 0x0b: { const s = stack.pop(); if (s) { st.cfaReg = s.cfaReg; st.cfaOff = s.cfaOff; st.rules = s.rules; } break; }
        case 0x0c: st.cfaReg = r.uleb(); st.cfaOff = r.uleb(); st.cfaExpr = false; break;
        case 0x0d: st.cfaReg = r.uleb(); st.cfaExpr = false; break;
        case 0x0e: st.cfaOff = r.uleb(); break;
        case 0x0f: { const n = r.uleb(); r.pos += n; st.cfaExpr = true; break; } // def_cfa_expression
        case 0x10: { const reg = r.uleb(); const n = r.uleb(); r.pos += n; st.rules.set(reg, { kind: 'undefined' }); break; } // expression
        case 0x11: { const reg = r.uleb(); st.rules.set(reg, { kind: 'offset', off: r.sleb() * dataAlign }); break; }
        case 0x12: st.cfaReg = r.uleb(); st.cfaOff = r.sleb() * dataAlign; st.cfaExpr = false; break;
        case 0x13: st.cfaOff = r.sleb() * dataAlign; break;
        case 0x14: { const reg = r.uleb(); st.rules.set(reg, { kind: 'val_offset', off: r.uleb() * dataAlign }); break; }
        case 0x15: { const reg = r.uleb(); st.rules.set(reg, { kind: 'val_offset', off: r.sleb() * dataAlign }); break; }
        case 0x16: { const reg = r.uleb(); const n = r.uleb(); r.pos += n; st.rules.set(reg, { kind: 'undefined' }); break; }
        case 0x2e: r.uleb(); break; // GNU_args_size
        case 0x2f: { const reg = r.uleb(); st.rules.set(reg, { kind: 'offset', off: -r.uleb() * dataAlign }); break; }
        default: throw new Error(`CFI: unknown instruction 0x${op.toString(16)}`);
      }
    }
    return false;
  };
  run(fde.cie.initial, true);
  initialRules = new Map(st.rules);
  run(fde.program, false);
  return st;
}

export interface UnwindRegs {
  rip: bigint;
  rsp: bigint;
  rbp: bigint;
}

export interface UnwoundFrame extends UnwindRegs {
  /** how this frame's caller was found: 'cfi', 'fp' (frame pointers), or 'top' for frame 0 */
  how: 'top' | 'cfi' | 'fp';
}

export interface UnwindOptions {
  /** reads 8 bytes little-endian at addr (throws when unreadable) */
  read64(addr: bigint): Promise<bigint>;
  /** is pc inside the program (stop when a return address leaves it) */
  inProgram(pc: bigint): boolean;
  maxFrames?: number;
}

/**
 * Walks the stack from regs. Frame 0 is regs itself; each later frame's rip is a return address
 * (look up its line at rip - 1). Resolves to the frames and why the walk stopped.
 */
export async function unwind(fdes: Fde[], regs: UnwindRegs, o: UnwindOptions): Promise<{ frames: UnwoundFrame[]; why: string }> {
  const frames: UnwoundFrame[] = [{ ...regs, how: 'top' }];
  const max = o.maxFrames ?? 64;
  let cur = regs;
  for (;;) {
    if (frames.length >= max) return { frames, why: `stopped after ${max} frames` };
    // a caller's pc is a return address: its call instruction is the byte before
    const lookup = frames.length === 1 ? cur.rip : cur.rip - 1n;
    const fde = findFde(fdes, lookup);
    let next: UnwindRegs | undefined;
    let how: 'cfi' | 'fp' = 'fp';
    try {
      if (fde) {
        const st = cfaAt(fde, lookup);
        const base = st.cfaReg === DW_REG.rsp ? cur.rsp : st.cfaReg === DW_REG.rbp ? cur.rbp : undefined;
        if (!st.cfaExpr && base !== undefined) {
          const cfa = base + BigInt(st.cfaOff);
          const ra = st.rules.get(fde.cie.raReg);
          if (ra?.kind === 'offset') {
            const rip = await o.read64(cfa + BigInt(ra.off));
            const rr = st.rules.get(DW_REG.rbp);
            const rbp = rr?.kind === 'offset' ? await o.read64(cfa + BigInt(rr.off)) : rr?.kind === 'val_offset' ? cfa + BigInt(rr.off) : cur.rbp;
            next = { rip, rsp: cfa, rbp };
            how = 'cfi';
          } else if (ra?.kind === 'undefined') {
            return { frames, why: 'the outermost frame (return address undefined)' };
          }
        }
      }
      if (!next) {
        if (cur.rbp === 0n) return { frames, why: 'frame pointer is 0 (outermost frame)' };
        const rip = await o.read64(cur.rbp + 8n);
        const rbp = await o.read64(cur.rbp);
        next = { rip, rsp: cur.rbp + 16n, rbp };
      }
    } catch (e) {
      return { frames, why: `cannot read the stack: ${(e as Error).message}` };
    }
    if (!next.rip || !o.inProgram(next.rip)) return { frames, why: next.rip ? `return address 0x${next.rip.toString(16)} is outside the program` : 'return address 0' };
    if (next.rsp <= cur.rsp && frames.length > 1) return { frames, why: 'the stack pointer did not move up (corrupt stack?)' };
    frames.push({ ...next, how });
    cur = next;
  }
}

/** FDEs of an ELF (.debug_frame; none when it has no CFI). */
export function elfFdes(elf: ElfFile): Fde[] {
  const s = elf.section('.debug_frame');
  if (!s) return [];
  try {
    return parseDebugFrame(elf.sectionData(s));
  } catch {
    return [];
  }
}
