/*
 * core.ts — ELF core files (x86_64, Linux's layout, as LaneOS's POSIX server writes them:
 * os/programs/posix/core.c) and the console line that announces one.
 *
 *   parseCore(bytes) ─▶ CoreFile { threads (NT_PRSTATUS: tid, signal, registers), process
 *                       (NT_PRPSINFO: pid, name, arguments), siginfo (signal, code, address),
 *                       files (NT_FILE), auxv, loads (PT_LOAD: which memory the file holds) }
 *   parseCrashLine(line) ─▶ CrashLine | null   "posix: pid 12 killed by SIGSEGV (11) at address
 *                       0x0, rip 0x400266: core dumped to /var/core/core.crashme.12"
 *
 * A core is checked before gdb sees it, so a truncated or corrupt file is refused with a
 * CoreError naming exactly what is wrong ("PT_LOAD #3 (0x80000 bytes at file offset 0x1b000)
 * runs past the end of the file (0x20000 bytes): the core is truncated") instead of gdb's
 * half-loaded session. Pure: no Node.
 */

export class CoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoreError';
  }
}

export const NT_PRSTATUS = 1;
export const NT_FPREGSET = 2;
export const NT_PRPSINFO = 3;
export const NT_AUXV = 6;
export const NT_SIGINFO = 0x53494749;
export const NT_FILE = 0x46494c45;

/** Linux's user_regs_struct order (NT_PRSTATUS pr_reg). */
export const CORE_REGS = ['r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi',
  'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs'] as const;

export interface CoreThread {
  tid: number;
  signal: number;
  regs: Record<string, bigint>;
  hasFpregs: boolean;
}

export interface CoreLoad {
  vaddr: bigint;
  memsz: number;
  filesz: number;
  offset: number;
  flags: number;
}

export interface CoreFile {
  threads: CoreThread[];
  process: { pid: number; ppid: number; name: string; args: string } | null;
  siginfo: { signo: number; code: number; addr: bigint } | null;
  files: { start: bigint; end: bigint; pageOffset: bigint; path: string }[];
  auxv: Map<number, bigint>;
  loads: CoreLoad[];
}

const PRSTATUS_SIZE = 336;
const PRPSINFO_SIZE = 136;

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

function cstr(b: Uint8Array, off: number, max: number): string {
  let end = off;
  while (end < off + max && end < b.length && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

export function parseCore(bytes: Uint8Array): CoreFile {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytes.length;
  if (size < 64) throw new CoreError(`the file is ${size} bytes, shorter than an ELF header (64): not a core`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new CoreError(`bad ELF magic ${Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ')}: not an ELF file`);
  if (bytes[4] !== 2) throw new CoreError(`ELF class ${bytes[4]} is not ELFCLASS64 (2)`);
  if (bytes[5] !== 1) throw new CoreError(`ELF data encoding ${bytes[5]} is not little-endian (1)`);
  const type = dv.getUint16(16, true), machine = dv.getUint16(18, true);
  if (type !== 4) throw new CoreError(`ELF type ${type} is not ET_CORE (4): this is ${type === 2 ? 'an executable' : type === 3 ? 'a shared object' : 'not a core'}, not a core file`);
  if (machine !== 62) throw new CoreError(`ELF machine ${machine} is not x86_64 (62)`);
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true), phnum = dv.getUint16(56, true);
  if (phentsize !== 56) throw new CoreError(`e_phentsize ${phentsize} is not 56`);
  if (phnum === 0) throw new CoreError('the core has no program headers (e_phnum 0)');
  if (phoff + phnum * 56 > size)
    throw new CoreError(`the program header table (${phnum} entries at ${hex(phoff)}) runs past the end of the file (${hex(size)} bytes): the core is truncated`);
  const core: CoreFile = { threads: [], process: null, siginfo: null, files: [], auxv: new Map(), loads: [] };
  let notes = 0;
  const noteSegs: [number, number, number][] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * 56;
    const ptype = dv.getUint32(p, true), flags = dv.getUint32(p + 4, true);
    const offset = Number(dv.getBigUint64(p + 8, true)), vaddr = dv.getBigUint64(p + 16, true);
    const filesz = Number(dv.getBigUint64(p + 32, true)), memsz = Number(dv.getBigUint64(p + 40, true));
    if (ptype === 1) {
      if (filesz > memsz) throw new CoreError(`PT_LOAD #${i} at ${hex(vaddr)}: p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`);
      if (filesz && offset + filesz > size)
        throw new CoreError(`PT_LOAD #${i} (${hex(filesz)} bytes of memory at ${hex(vaddr)}, file offset ${hex(offset)}) runs past the end of the file (${hex(size)} bytes): the core is truncated`);
      core.loads.push({ vaddr, memsz, filesz, offset, flags });
    } else if (ptype === 4) {
      notes++;
      noteSegs.push([i, offset, filesz]);
    }
  }
  // the notes after every segment was checked: a truncated file is named by its memory first
  for (const [i, offset, filesz] of noteSegs) {
    if (offset + filesz > size)
      throw new CoreError(`PT_NOTE #${i} (${hex(filesz)} bytes at ${hex(offset)}) runs past the end of the file (${hex(size)} bytes): the core is truncated`);
    parseNotes(bytes, dv, offset, filesz, core);
  }
  if (notes === 0) throw new CoreError('the core has no PT_NOTE segment: no threads or registers in it');
  if (core.threads.length === 0) throw new CoreError('the core has no NT_PRSTATUS note: no thread registers in it');
  return core;
}

function parseNotes(bytes: Uint8Array, dv: DataView, start: number, len: number, core: CoreFile): void {
  let o = start, n = 0;
  const end = start + len;
  while (o + 12 <= end) {
    const namesz = dv.getUint32(o, true), descsz = dv.getUint32(o + 4, true), type = dv.getUint32(o + 8, true);
    const desc = o + 12 + ((namesz + 3) & ~3);
    if (desc + descsz > end)
      throw new CoreError(`note #${n} (type ${hex(type)}, ${descsz} bytes) runs past the end of its PT_NOTE segment`);
    const name = cstr(bytes, o + 12, namesz);
    if (name === 'CORE' || name === 'LINUX') {
      if (type === NT_PRSTATUS) {
        if (descsz !== PRSTATUS_SIZE) throw new CoreError(`NT_PRSTATUS note #${n} is ${descsz} bytes, not x86_64's ${PRSTATUS_SIZE}`);
        const regs: Record<string, bigint> = {};
        CORE_REGS.forEach((r, k) => { regs[r] = dv.getBigUint64(desc + 112 + 8 * k, true); });
        core.threads.push({ tid: dv.getInt32(desc + 32, true), signal: dv.getInt16(desc + 12, true), regs, hasFpregs: false });
      } else if (type === NT_FPREGSET) {
        const t = core.threads[core.threads.length - 1];
        if (t) t.hasFpregs = true;
      } else if (type === NT_PRPSINFO) {
        if (descsz !== PRPSINFO_SIZE) throw new CoreError(`NT_PRPSINFO note #${n} is ${descsz} bytes, not x86_64's ${PRPSINFO_SIZE}`);
        core.process = { pid: dv.getInt32(desc + 24, true), ppid: dv.getInt32(desc + 28, true), name: cstr(bytes, desc + 40, 16), args: cstr(bytes, desc + 56, 80) };
      } else if (type === NT_SIGINFO) {
        if (descsz < 24) throw new CoreError(`NT_SIGINFO note #${n} is ${descsz} bytes, too short for a siginfo`);
        core.siginfo = { signo: dv.getInt32(desc, true), code: dv.getInt32(desc + 8, true), addr: dv.getBigUint64(desc + 16, true) };
      } else if (type === NT_AUXV) {
        for (let k = 0; k + 16 <= descsz; k += 16) {
          const key = Number(dv.getBigUint64(desc + k, true));
          if (key === 0) break;
          core.auxv.set(key, dv.getBigUint64(desc + k + 8, true));
        }
      } else if (type === NT_FILE) {
        if (descsz < 16) throw new CoreError(`NT_FILE note #${n} is ${descsz} bytes, too short`);
        const count = Number(dv.getBigUint64(desc, true));
        if (16 + count * 24 > descsz) throw new CoreError(`NT_FILE note #${n} claims ${count} files, more than its ${descsz} bytes hold`);
        let s = desc + 16 + count * 24;
        for (let k = 0; k < count; k++) {
          const e = desc + 16 + k * 24;
          const path = cstr(bytes, s, desc + descsz - s);
          s += new TextEncoder().encode(path).length + 1;
          core.files.push({ start: dv.getBigUint64(e, true), end: dv.getBigUint64(e + 8, true), pageOffset: dv.getBigUint64(e + 16, true), path });
        }
      }
    }
    o = desc + ((descsz + 3) & ~3);
    n++;
  }
}

/** One "core dumped" (or "no core file") line of the POSIX server on the console. */
export interface CrashLine {
  pid: number;
  signalName: string;
  signal: number;
  addr: bigint;
  rip: bigint;
  corePath: string | null;
  /** Why there is no core (corePath null). */
  noCoreReason?: string;
}

const CRASH_RE = /posix: pid (\d+) killed by (\w+) \((\d+)\) at address 0x([0-9a-f]+), rip 0x([0-9a-f]+): (?:core dumped to (\S+)|no core file(?: at \S+)?: (.*))$/;

export function parseCrashLine(line: string): CrashLine | null {
  const m = CRASH_RE.exec(line.replace(/\r$/, ''));
  if (!m) return null;
  return {
    pid: Number(m[1]), signalName: m[2] ?? '', signal: Number(m[3]), addr: BigInt(`0x${m[4]}`), rip: BigInt(`0x${m[5]}`),
    corePath: m[6] ?? null, ...(m[7] !== undefined ? { noCoreReason: m[7] } : {}),
  };
}
