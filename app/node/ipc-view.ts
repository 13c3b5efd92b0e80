/*
 * Backend half of the IPC lanes view: the trace source (the Run's live recording or a saved
 * trace file), raw trace bytes for the renderer to decode, the project's generated IPC ABI
 * tables, and return address → source line through the program's DWARF (debugger/common/elf).
 *
 *   Run (trace wiring) ──setRecording(path, live)──▶ IpcViewBackend ──'ipc.source' event──▶ view
 *   view ──ipc.readTrace {generation, offset}──▶ bytes appended since offset (base64, ≤ 4 MiB)
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { parseElf, Symbolizer } from '../../debugger/common/elf.js';
import type { IpcMsgType, IpcRequests, IpcSource } from '../common/ipc-view.js';
import type { Project } from './project.js';

type H<K extends keyof IpcRequests> = (p: IpcRequests[K]['params']) => Promise<IpcRequests[K]['result']> | IpcRequests[K]['result'];
export type IpcHandlers = { [K in keyof IpcRequests]: H<K> };

const MAX_CHUNK = 4 << 20;

/** Evaluates one exported literal of a generated ABI module (data only, in an empty context). */
export function generatedLiteral(src: string, name: string): unknown {
  const re = new RegExp(`export const ${name}(?::[^=]+)? = ([\\[{][\\s\\S]*?\\n[\\]}])(?: as const)?;`);
  const m = re.exec(src);
  if (!m) return undefined;
  return vm.runInNewContext(`(${m[1]})`, Object.create(null), { timeout: 500 });
}

export class IpcViewBackend {
  private src: IpcSource = { path: '', live: false, generation: 0 };
  private symbolizers = new Map<string, { mtime: number; sym: Symbolizer }>();

  constructor(
    private readonly emit: (src: IpcSource) => void,
    private readonly getProject: () => Project | null,
  ) {}

  get source(): IpcSource {
    return this.src;
  }

  /** A Run started recording into `file` (live), or stopped (live false, the file stays readable). */
  setRecording(file: string, live: boolean): void {
    const same = this.src.path === file;
    this.src = { path: file, live, generation: same ? this.src.generation : this.src.generation + 1 };
    this.emit(this.src);
  }

  openTrace(file: string): IpcSource {
    const project = this.getProject();
    const abs = path.isAbsolute(file) ? file : project ? project.resolve(file) : path.resolve(file);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new Error(`no trace file at ${abs}`);
    }
    if (!st.isFile()) throw new Error(`${abs} is not a file`);
    const head = Buffer.alloc(4);
    const fd = fs.openSync(abs, 'r');
    try {
      fs.readSync(fd, head, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (head.readUInt16LE(0) !== 1) throw new Error(`${abs} is not a LaneOS trace (it must start with a trace_header record; record one with the trace CLI or Run)`);
    this.src = { path: abs, live: false, generation: this.src.generation + 1 };
    this.emit(this.src);
    return this.src;
  }

  readTrace(generation: number, offset: number, max = MAX_CHUNK): { data: string; offset: number; size: number; live: boolean } {
    if (generation !== this.src.generation) throw new Error('the trace source changed; start over from ipc.source');
    if (!this.src.path) return { data: '', offset: 0, size: 0, live: this.src.live };
    if (!Number.isInteger(offset) || offset < 0) throw new Error('offset must be a non-negative integer');
    let size = 0;
    try {
      size = fs.statSync(this.src.path).size;
    } catch {
      return { data: '', offset, size: 0, live: this.src.live };
    }
    const n = Math.max(0, Math.min(size - offset, Math.min(max, MAX_CHUNK)));
    if (!n) return { data: '', offset, size, live: this.src.live };
    const buf = Buffer.alloc(n);
    const fd = fs.openSync(this.src.path, 'r');
    try {
      fs.readSync(fd, buf, 0, n, offset);
    } finally {
      fs.closeSync(fd);
    }
    return { data: buf.toString('base64'), offset, size, live: this.src.live };
  }

  abi(): { errors: Record<string, number>; messages: IpcMsgType[]; problems: string[] } {
    const project = this.getProject();
    const problems: string[] = [];
    let errors: Record<string, number> = {};
    let messages: IpcMsgType[] = [];
    if (!project) return { errors, messages, problems: ['no project is open'] };
    const dir = project.resolve('build/ts');
    try {
      const v = generatedLiteral(fs.readFileSync(path.join(dir, 'ipc.ts'), 'utf8'), 'Errors');
      if (v && typeof v === 'object') errors = { ...(v as Record<string, number>) };
      else problems.push(`${dir}/ipc.ts has no Errors table`);
    } catch (e) {
      problems.push(`IPC error names unavailable (${(e as Error).message}); build the OS first`);
    }
    try {
      const v = generatedLiteral(fs.readFileSync(path.join(dir, 'messages.ts'), 'utf8'), 'MESSAGE_TYPES');
      if (Array.isArray(v)) messages = JSON.parse(JSON.stringify(v)) as IpcMsgType[];
      else problems.push(`${dir}/messages.ts has no MESSAGE_TYPES table`);
    } catch (e) {
      problems.push(`message types unavailable (${(e as Error).message}); build the OS first`);
    }
    return { errors, messages, problems };
  }

  /** The ELF that maps addr for a program (user space) or the kernel (higher half). */
  private elfFor(addr: number, program: string): string | undefined {
    const project = this.getProject();
    if (!project) return undefined;
    const kernelRel = project.config.debug.elf ?? 'build/kernel/lanes.elf';
    const kernel = project.resolve(kernelRel);
    if (addr >= 2 ** 47) return kernel;
    if (!/^[A-Za-z0-9_.-]+$/.test(program)) return undefined;
    return path.join(path.dirname(kernel), '..', 'programs', `${program}.elf`);
  }

  resolve(addr: number, program: string): { file: string; line: number } | null {
    if (!Number.isFinite(addr) || addr <= 0) return null;
    const elf = this.elfFor(addr, program);
    if (!elf) return null;
    let st: fs.Stats;
    try {
      st = fs.statSync(elf);
    } catch {
      return null;
    }
    let s = this.symbolizers.get(elf);
    if (!s || s.mtime !== st.mtimeMs) {
      const bytes = fs.readFileSync(elf);
      s = { mtime: st.mtimeMs, sym: new Symbolizer(parseElf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))) };
      this.symbolizers.set(elf, s);
    }
    // a return address: the submitting instruction is just before it
    const hit = s.sym.lineFor(BigInt(Math.floor(addr)) - 1n);
    if (!hit) return null;
    const root = this.getProject()!.root;
    const rel = path.relative(root, path.resolve(root, hit.file));
    return { file: rel.startsWith('..') ? hit.file : rel.split(path.sep).join('/'), line: hit.line };
  }

  handlers(): IpcHandlers {
    return {
      'ipc.source': () => this.src,
      'ipc.readTrace': ({ generation, offset, max }) => this.readTrace(Number(generation), Number(offset), max === undefined ? MAX_CHUNK : Number(max)),
      'ipc.openTrace': ({ path: p }) => {
        if (typeof p !== 'string' || !p.trim()) throw new Error('give the trace file to open');
        return this.openTrace(p.trim());
      },
      'ipc.abi': () => this.abi(),
      'ipc.resolve': ({ addr, program }) => this.resolve(Number(addr), String(program ?? '')),
    };
  }
}
