/*
 * Backend half of the IPC lanes view: the project's generated IPC ABI tables, and return address
 * → source line through the program's DWARF (debugger/common/elf). Its trace comes from the trace
 * store like every trace view's (app/node/trace.ts on this side).
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { parseElf, Symbolizer } from '../../debugger/common/elf.js';
import type { IpcMsgType, IpcRequests } from '../common/ipc-view.js';
import type { Project } from './project.js';

type H<K extends keyof IpcRequests> = (p: IpcRequests[K]['params']) => Promise<IpcRequests[K]['result']> | IpcRequests[K]['result'];
export type IpcHandlers = { [K in keyof IpcRequests]: H<K> };


/** Evaluates one exported literal of a generated ABI module (data only, in an empty context). */
export function generatedLiteral(src: string, name: string): unknown {
  const re = new RegExp(`export const ${name}(?::[^=]+)? = ([\\[{][\\s\\S]*?\\n[\\]}])(?: as const)?;`);
  const m = re.exec(src);
  if (!m) return undefined;
  return vm.runInNewContext(`(${m[1]})`, Object.create(null), { timeout: 500 });
}

export class IpcViewBackend {
  private symbolizers = new Map<string, { mtime: number; sym: Symbolizer }>();

  constructor(private readonly getProject: () => Project | null) {}

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
      'ipc.abi': () => this.abi(),
      'ipc.resolve': ({ addr, program }) => this.resolve(Number(addr), String(program ?? '')),
    };
  }
}
