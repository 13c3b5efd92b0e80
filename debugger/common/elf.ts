/*
 * elf.ts — ELF64 (little-endian) reader over a Uint8Array, symbolization, and
 * DWARF .debug_line decoding (versions 2–5) for address → file:line.
 *
 *   parseElf(bytes) ─▶ ElfFile { header, sections, segments, symbols }
 *   new Symbolizer(elf).symbolize(addr)  → { name, offset }       (function + offset)
 *                      .lineFor(addr)    → { file, line, column } (from .debug_line)
 *
 * Every structural problem (bad magic, 32-bit or big-endian file, a table that
 * runs past the end of the file, a string index out of range, …) throws an
 * ElfError whose message names the exact field that was wrong. Pure: no Node.
 */

export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

export interface ElfHeader {
  type: number;
  machine: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  phnum: number;
  shnum: number;
  shstrndx: number;
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  type: number; // STT_*
  bind: number; // STB_*
  shndx: number;
}

export const SHT_SYMTAB = 2;
export const SHT_NOBITS = 8;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const PT_LOAD = 1;

export interface ElfFile {
  bytes: Uint8Array;
  header: ElfHeader;
  sections: ElfSection[];
  segments: ElfSegment[];
  symbols: ElfSymbol[];
  section(name: string): ElfSection | undefined;
  sectionData(s: ElfSection): Uint8Array;
}

function cstr(b: Uint8Array, off: number, what: string): string {
  if (off < 0 || off >= b.length) throw new ElfError(`${what}: string offset ${off} is outside its string table (${b.length} bytes)`);
  let end = off;
  while (end < b.length && b[end] !== 0) end++;
  if (end >= b.length) throw new ElfError(`${what}: string at offset ${off} is not NUL-terminated`);
  return new TextDecoder().decode(b.subarray(off, end));
}

export function parseElf(bytes: Uint8Array): ElfFile {
  if (bytes.length < 64) throw new ElfError(`file too small for an ELF64 header (${bytes.length} bytes, need 64)`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('bad ELF magic: the file does not start with 0x7f "ELF"');
  }
  if (bytes[4] !== 2) throw new ElfError(`EI_CLASS is ${bytes[4]} (${bytes[4] === 1 ? 'ELF32' : 'invalid'}); only ELF64 is supported`);
  if (bytes[5] !== 1) throw new ElfError(`EI_DATA is ${bytes[5]}; only little-endian ELF is supported`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => dv.getBigUint64(o, true);
  const num = (v: bigint, what: string) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} (0x${v.toString(16)}) is too large`);
    return Number(v);
  };
  const header: ElfHeader = {
    type: u16(16), machine: u16(18), entry: u64(24),
    phoff: num(u64(32), 'e_phoff'), shoff: num(u64(40), 'e_shoff'),
    phnum: u16(56), shnum: u16(60), shstrndx: u16(62),
  };
  const phentsize = u16(54);
  const shentsize = u16(58);
  if (header.phnum > 0) {
    if (phentsize < 56) throw new ElfError(`e_phentsize is ${phentsize}, expected 56`);
    if (header.phoff + header.phnum * phentsize > bytes.length) {
      throw new ElfError(`program header table (e_phoff=0x${header.phoff.toString(16)}, ${header.phnum} entries) runs past the end of the file (${bytes.length} bytes)`);
    }
  }
  if (header.shnum > 0) {
    if (shentsize < 64) throw new ElfError(`e_shentsize is ${shentsize}, expected 64`);
    if (header.shoff + header.shnum * shentsize > bytes.length) {
      throw new ElfError(`section header table (e_shoff=0x${header.shoff.toString(16)}, ${header.shnum} entries) runs past the end of the file (${bytes.length} bytes)`);
    }
    if (header.shstrndx >= header.shnum) throw new ElfError(`e_shstrndx ${header.shstrndx} is not a valid section index (${header.shnum} sections)`);
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < header.phnum; i++) {
    const o = header.phoff + i * phentsize;
    segments.push({
      type: u32(o), flags: u32(o + 4), offset: num(u64(o + 8), `program header ${i} p_offset`),
      vaddr: u64(o + 16), paddr: u64(o + 24),
      filesz: num(u64(o + 32), `program header ${i} p_filesz`), memsz: num(u64(o + 40), `program header ${i} p_memsz`),
    });
  }
  const raw: Omit<ElfSection, 'name'>[] & { nameOff?: number }[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < header.shnum; i++) {
    const o = header.shoff + i * shentsize;
    nameOffs.push(u32(o));
    const s = {
      index: i, type: u32(o + 4), flags: u64(o + 8), addr: u64(o + 16),
      offset: num(u64(o + 24), `section ${i} sh_offset`), size: num(u64(o + 32), `section ${i} sh_size`),
      link: u32(o + 40), info: u32(o + 44), entsize: num(u64(o + 56), `section ${i} sh_entsize`),
    };
    if (s.type !== SHT_NOBITS && s.type !== 0 && s.offset + s.size > bytes.length) {
      throw new ElfError(`section ${i} (offset 0x${s.offset.toString(16)}, size 0x${s.size.toString(16)}) runs past the end of the file (${bytes.length} bytes)`);
    }
    raw.push(s);
  }
  const data = (s: Omit<ElfSection, 'name'>) => (s.type === SHT_NOBITS ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size));
  const shstr = header.shnum > 0 ? data(raw[header.shstrndx]!) : new Uint8Array(0);
  const sections: ElfSection[] = raw.map((s, i) => ({ ...s, name: i === 0 ? '' : cstr(shstr, nameOffs[i]!, `name of section ${i}`) }));
  const symbols: ElfSymbol[] = [];
  for (const st of sections.filter((s) => s.type === SHT_SYMTAB)) {
    if (st.entsize !== 24) throw new ElfError(`symbol table ${st.name} has entry size ${st.entsize}, expected 24`);
    const strSec = sections[st.link];
    if (!strSec) throw new ElfError(`symbol table ${st.name} links to string table ${st.link}, which does not exist`);
    const strtab = data(strSec);
    const n = Math.floor(st.size / 24);
    for (let i = 1; i < n; i++) {
      const o = st.offset + i * 24;
      const info = bytes[o + 4]!;
      symbols.push({
        name: cstr(strtab, u32(o), `name of symbol ${i} in ${st.name}`),
        type: info & 15, bind: info >> 4, shndx: u16(o + 6),
        value: u64(o + 8), size: num(u64(o + 16), `size of symbol ${i}`),
      });
    }
  }
  return {
    bytes, header, sections, segments, symbols,
    section: (name) => sections.find((s) => s.name === name),
    sectionData: (s) => data(s),
  };
}

/* ------------------------------------------------------------- symbolization */

export interface SymbolHit {
  name: string;
  offset: number;
  symbol: ElfSymbol;
}

export interface LineRow {
  address: bigint;
  file: string;
  line: number;
  column: number;
  endSequence: boolean;
  /** DWARF is_stmt: a recommended breakpoint location (gdb maps pcs to these). */
  isStmt: boolean;
}

export class Symbolizer {
  private readonly funcs: ElfSymbol[];
  private rows: LineRow[] | undefined;
  /** Load bias added to every address in the file (for programs mapped elsewhere). */
  constructor(readonly elf: ElfFile, readonly bias = 0n) {
    this.funcs = elf.symbols
      .filter((s) => (s.type === STT_FUNC || (s.type === 0 && s.name && !s.name.startsWith('.'))) && s.shndx !== 0 && s.value !== 0n)
      .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : b.size - a.size));
  }

  symbolize(addr: bigint): SymbolHit | undefined {
    const a = addr - this.bias;
    let lo = 0;
    let hi = this.funcs.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.funcs[mid]!.value <= a) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    // Prefer the last sized symbol that contains the address, else nearest preceding.
    for (let i = best; i >= 0 && i > best - 8; i--) {
      const s = this.funcs[i]!;
      if (s.size > 0 && a < s.value + BigInt(s.size)) return { name: s.name, offset: Number(a - s.value), symbol: s };
    }
    if (best < 0) return undefined;
    const s = this.funcs[best]!;
    if (s.size > 0) return undefined; // past the end of the nearest function
    return { name: s.name, offset: Number(a - s.value), symbol: s };
  }

  /** Address of a symbol by name (with bias). */
  lookup(name: string): bigint | undefined {
    const s = this.elf.symbols.find((x) => x.name === name && x.shndx !== 0);
    return s ? s.value + this.bias : undefined;
  }

  /** Statement rows and sequence ends, sorted by address (what pc → line lookups use). */
  lineRows(): LineRow[] {
    if (!this.rows) {
      const sec = this.elf.section('.debug_line');
      this.rows = sec ? decodeDebugLine(this.elf.sectionData(sec), this.elf).filter((r) => r.isStmt || r.endSequence) : [];
    }
    return this.rows;
  }

  lineFor(addr: bigint): { file: string; line: number; column: number } | undefined {
    const a = addr - this.bias;
    const rows = this.lineRows();
    let lo = 0;
    let hi = rows.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid]!.address <= a) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    // Sequence ends sort before rows at the same address, so landing on one means
    // the address lies in a gap between sequences.
    if (best < 0 || rows[best]!.endSequence) return undefined;
    const r = rows[best]!;
    return { file: r.file, line: r.line, column: r.column };
  }
}

/* ------------------------------------------------------------- DWARF .debug_line */

class Reader {
  pos = 0;
  private dv: DataView;
  constructor(readonly b: Uint8Array, readonly what: string) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.b.length) throw new ElfError(`${this.what}: truncated at offset 0x${this.pos.toString(16)} (need ${n} more bytes)`);
  }
  u8(): number { this.need(1); return this.b[this.pos++]!; }
  u16(): number { this.need(2); const v = this.dv.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(): bigint { this.need(8); const v = this.dv.getBigUint64(this.pos, true); this.pos += 8; return v; }
  s8(): number { const v = this.u8(); return v > 127 ? v - 256 : v; }
  uleb(): number {
    let r = 0; let shift = 0;
    for (;;) {
      const b = this.u8();
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return r;
      if (shift > 63) throw new ElfError(`${this.what}: LEB128 number too long at 0x${this.pos.toString(16)}`);
    }
  }
  sleb(): number {
    let r = 0; let shift = 0; let b: number;
    do {
      b = this.u8();
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40) r -= 2 ** shift;
    return r;
  }
  cstr(): string {
    let end = this.pos;
    while (end < this.b.length && this.b[end] !== 0) end++;
    if (end >= this.b.length) throw new ElfError(`${this.what}: unterminated string at 0x${this.pos.toString(16)}`);
    const s = new TextDecoder().decode(this.b.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

function strAt(elf: ElfFile | undefined, section: string, off: number): string {
  const s = elf?.section(section);
  if (!s) throw new ElfError(`.debug_line refers to ${section}, which this file does not have`);
  return cstr(elf!.sectionData(s), off, `${section} string`);
}

/** Decode a whole .debug_line section into rows sorted by address. */
export function decodeDebugLine(data: Uint8Array, elf?: ElfFile): LineRow[] {
  const rows: LineRow[] = [];
  const r = new Reader(data, '.debug_line');
  while (r.pos < data.length) {
    const unitStart = r.pos;
    let unitLength = r.u32();
    let offSize = 4;
    if (unitLength === 0xffffffff) { unitLength = Number(r.u64()); offSize = 8; }
    const unitEnd = r.pos + unitLength;
    if (unitEnd > data.length) throw new ElfError(`.debug_line unit at 0x${unitStart.toString(16)} claims ${unitLength} bytes, past the end of the section`);
    const version = r.u16();
    if (version < 2 || version > 5) throw new ElfError(`.debug_line unit at 0x${unitStart.toString(16)} has unsupported version ${version}`);
    let addrSize = 8;
    if (version >= 5) { addrSize = r.u8(); r.u8(); /* segment selector size */ }
    const headerLength = offSize === 8 ? Number(r.u64()) : r.u32();
    const progStart = r.pos + headerLength;
    const minInst = r.u8();
    const maxOps = version >= 4 ? r.u8() : 1;
    const defaultIsStmt = r.u8() !== 0;
    const lineBase = r.s8();
    const lineRange = r.u8();
    const opcodeBase = r.u8();
    if (lineRange === 0) throw new ElfError(`.debug_line unit at 0x${unitStart.toString(16)} has line_range 0`);
    const stdLens: number[] = [];
    for (let i = 1; i < opcodeBase; i++) stdLens.push(r.u8());
    const dirs: string[] = [];
    const files: string[] = [];
    const readForm = (form: number): string | number => {
      switch (form) {
        case 0x08: return r.cstr(); // DW_FORM_string
        case 0x1f: return strAt(elf, '.debug_line_str', offSize === 8 ? Number(r.u64()) : r.u32()); // line_strp
        case 0x0e: return strAt(elf, '.debug_str', offSize === 8 ? Number(r.u64()) : r.u32()); // strp
        case 0x0f: return r.uleb(); // udata
        case 0x0b: return r.u8();
        case 0x05: return r.u16();
        case 0x06: return r.u32();
        case 0x07: return Number(r.u64());
        case 0x1e: r.need(16); r.pos += 16; return 0; // data16 (MD5)
        case 0x09: { const n = r.uleb(); r.need(n); r.pos += n; return 0; } // block
        default: throw new ElfError(`.debug_line: unsupported attribute form 0x${form.toString(16)} in file/directory table`);
      }
    };
    if (version >= 5) {
      const table = (out: string[], isFile: boolean) => {
        const fmtCount = r.u8();
        const fmt: Array<[number, number]> = [];
        for (let i = 0; i < fmtCount; i++) fmt.push([r.uleb(), r.uleb()]);
        const count = r.uleb();
        for (let i = 0; i < count; i++) {
          let name = '';
          let dir = 0;
          for (const [ct, form] of fmt) {
            const v = readForm(form);
            if (ct === 1) name = String(v); // DW_LNCT_path
            else if (ct === 2) dir = Number(v); // DW_LNCT_directory_index
          }
          // DWARF 5: directory 0 is the compilation directory, the others relative to it
          out.push(isFile ? joinPath(dirs[dir] ?? '', name) : out.length > 0 ? joinPath(out[0] ?? '', name) : name);
        }
      };
      table(dirs, false);
      table(files, true);
    } else {
      dirs.push('');
      for (;;) { const d = r.cstr(); if (!d) break; dirs.push(d); }
      files.push('');
      for (;;) {
        const f = r.cstr();
        if (!f) break;
        const di = r.uleb(); r.uleb(); r.uleb();
        files.push(joinPath(dirs[di] ?? '', f));
      }
    }
    r.pos = progStart;
    // State machine.
    let address = 0n; let file = 1; let line = 1; let column = 0; let isStmt = defaultIsStmt; let opIndex = 0;
    const reset = () => { address = 0n; file = 1; line = 1; column = 0; isStmt = defaultIsStmt; opIndex = 0; };
    const emit = (end: boolean) => rows.push({ address, file: files[file] ?? `<file ${file}>`, line, column, endSequence: end, isStmt });
    const advance = (opAdv: number) => {
      address += BigInt(minInst * Math.floor((opIndex + opAdv) / maxOps));
      opIndex = (opIndex + opAdv) % maxOps;
    };
    while (r.pos < unitEnd) {
      const op = r.u8();
      if (op >= opcodeBase) {
        const adj = op - opcodeBase;
        advance(Math.floor(adj / lineRange));
        line += lineBase + (adj % lineRange);
        emit(false);
      } else if (op === 0) {
        const len = r.uleb();
        const end = r.pos + len;
        const eop = r.u8();
        if (eop === 1) { emit(true); reset(); }
        else if (eop === 2) address = addrSize === 4 ? BigInt(r.u32()) : r.u64();
        else if (eop === 3) { r.cstr(); r.uleb(); r.uleb(); r.uleb(); }
        r.pos = end;
      } else if (op === 1) emit(false);
      else if (op === 2) advance(r.uleb());
      else if (op === 3) line += r.sleb();
      else if (op === 4) file = r.uleb();
      else if (op === 5) column = r.uleb();
      else if (op === 6) isStmt = !isStmt;
      else if (op === 7) { /* basic_block */ }
      else if (op === 8) advance(Math.floor((255 - opcodeBase) / lineRange));
      else if (op === 9) { address += BigInt(r.u16()); opIndex = 0; }
      else if (op === 10 || op === 11) { /* prologue_end / epilogue_begin */ }
      else if (op === 12) r.uleb();
      else for (let i = 0; i < (stdLens[op - 1] ?? 0); i++) r.uleb();
    }
    r.pos = unitEnd;
  }
  // Sort by address keeping sequence ends after rows at the same address.
  return rows.map((x, i) => ({ x, i })).sort((a, b) =>
    a.x.address < b.x.address ? -1 : a.x.address > b.x.address ? 1
      : a.x.endSequence !== b.x.endSequence ? (a.x.endSequence ? -1 : 1) : a.i - b.i).map((e) => e.x);
}

function joinPath(dir: string, name: string): string {
  if (!dir || name.startsWith('/')) return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** The ELF header's class and machine (EM_386 = 3, EM_X86_64 = 62, EM_AARCH64 = 183, EM_RISCV = 243), of ELF32 or ELF64. */
export function elfIdent(bytes: Uint8Array): { bits: 32 | 64; machine: number } {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new ElfError('not an ELF file (bad magic or too short)');
  if (bytes[4] !== 1 && bytes[4] !== 2) throw new ElfError(`EI_CLASS is ${bytes[4]}: neither ELF32 nor ELF64`);
  if (bytes[5] !== 1) throw new ElfError(`EI_DATA is ${bytes[5]}; only little-endian ELF is supported`);
  return { bits: bytes[4] === 1 ? 32 : 64, machine: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(18, true) };
}

/**
 * The names in an ELF32 or ELF64 file's symbol tables (SHT_SYMTAB, SHT_DYNSYM) — enough to tell
 * which kernel it is without parsing the rest (parseElf reads ELF64 only). Bad offsets end the
 * walk (the names found so far are returned).
 */
export function elfSymbolNames(bytes: Uint8Array): Set<string> {
  const { bits } = elfIdent(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = bits === 64;
  const word = (o: number) => (w ? Number(dv.getBigUint64(o, true)) : dv.getUint32(o, true));
  const names = new Set<string>();
  const shoff = word(w ? 0x28 : 0x20);
  const shentsize = dv.getUint16(w ? 0x3a : 0x2e, true);
  const shnum = dv.getUint16(w ? 0x3c : 0x30, true);
  const sh = (i: number) => {
    const o = shoff + i * shentsize;
    if (o + shentsize > bytes.length) throw new ElfError(`section header ${i} lies outside the file`);
    return { type: dv.getUint32(o + 4, true), offset: word(o + (w ? 24 : 16)), size: word(o + (w ? 32 : 20)), link: dv.getUint32(o + (w ? 40 : 24), true), entsize: word(o + (w ? 56 : 36)) };
  };
  const dec = new TextDecoder();
  try {
    for (let i = 0; i < shnum; i++) {
      const s = sh(i);
      if (s.type !== 2 && s.type !== 11) continue; // SHT_SYMTAB, SHT_DYNSYM
      const str = sh(s.link);
      const ent = s.entsize || (w ? 24 : 16);
      for (let o = s.offset + ent; o + ent <= s.offset + s.size && o + 4 <= bytes.length; o += ent) {
        const at = str.offset + dv.getUint32(o, true);
        if (at >= bytes.length) continue;
        let end = at;
        while (end < bytes.length && bytes[end] !== 0) end++;
        if (end > at) names.add(dec.decode(bytes.subarray(at, end)));
      }
    }
  } catch {
    /* a damaged table: what was read */
  }
  return names;
}
