/*
 * Backend half of the IPC lanes view: the project's IPC ABI tables (error names and message types,
 * read as data from the build/abi.json that os/abi/gen.py writes — never parsed out of generated
 * TypeScript), and return address
 * → source line through the program's DWARF (debugger/common/elf). Its trace comes from the trace
 * store like every trace view's (app/node/trace.ts on this side).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseElf, Symbolizer } from '../../debugger/common/elf.js';
import type { IpcMsgType, IpcRequests } from '../common/ipc-view.js';
import type { Project } from './project.js';

type H<K extends keyof IpcRequests> = (p: IpcRequests[K]['params']) => Promise<IpcRequests[K]['result']> | IpcRequests[K]['result'];
export type IpcHandlers = { [K in keyof IpcRequests]: H<K> };


const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class IpcViewBackend {
  private symbolizers = new Map<string, { mtime: number; sym: Symbolizer }>();

  constructor(private readonly getProject: () => Project | null) {}

  abi(): { errors: Record<string, number>; messages: IpcMsgType[]; problems: string[] } {
    const project = this.getProject();
    const problems: string[] = [];
    let errors: Record<string, number> = {};
    let messages: IpcMsgType[] = [];
    if (!project) return { errors, messages, problems: ['no project is open'] };
    const file = project.resolve('build/abi.json');
    let abi: unknown;
    try {
      abi = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      problems.push(`IPC error names and message types unavailable: ${file}: ${(e as Error).message}; build the OS first`);
      return { errors, messages, problems };
    }
    const ipc = isObject(abi) && isObject(abi['abis']) ? abi['abis']['ipc'] : undefined;
    const errs = isObject(ipc) ? ipc['errors'] : undefined;
    if (isObject(errs) && Object.values(errs).every((v) => typeof v === 'number')) errors = { ...(errs as Record<string, number>) };
    else problems.push(`${file} has no IPC error table (abis.ipc.errors)`);
    const msgs = isObject(abi) ? abi['messages'] : undefined;
    const wellFormed = (m: unknown) => isObject(m) && typeof m['type'] === 'string' && typeof m['word'] === 'number' && Array.isArray(m['fields']);
    if (Array.isArray(msgs) && msgs.every(wellFormed)) messages = msgs as IpcMsgType[];
    else problems.push(`${file} has no message types (messages)`);
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
      'ipc.resolveFrames': ({ addrs, program }) => {
        if (!Array.isArray(addrs)) throw new Error('ipc.resolveFrames: addrs must be an array of addresses');
        return addrs.slice(0, 16).map((a) => this.resolve(Number(a), String(program ?? '')));
      },
    };
  }
}
