/*
 * The Crashes view's backend half: every process a fault ended during the Run, from the POSIX
 * server's console line (parseCrashLine, debugger/common/core.ts), with the faulting instruction
 * resolved through the program's ELF (build/programs/<program>.elf beside the kernel ELF, as the
 * debugger finds user programs) to function and source line. The console arrives in chunks cut
 * anywhere: lines are put back together here. A new Run (a new runner generation) starts a new list.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseCrashLine } from '../../debugger/common/core.js';
import { parseElf, Symbolizer } from '../../debugger/common/elf.js';
import type { CrashView, CrashesRequests } from '../common/crashes.js';
import type { Handler } from './views/types.js';

type CrashesHandlers = { [K in keyof CrashesRequests]: Handler<K> };

export class CrashesBackend {
  private crashes: CrashView[] = [];
  private partial = '';
  private gen = -1;
  private symbolizers = new Map<string, { mtime: number; sym: Symbolizer }>();

  /**
   * programsDir: where <program>.elf files are (absolute), or null (no project);
   * root: the project root, for project-relative paths.
   */
  constructor(
    private readonly where: () => { programsDir: string; root: string } | null,
    private readonly publish: (crashes: CrashView[]) => void,
  ) {}

  /** A chunk of the Run's console (generation gen of the runner). */
  feed(gen: number, data: string): void {
    if (gen !== this.gen) {
      this.gen = gen;
      this.partial = '';
      if (this.crashes.length) {
        this.crashes = [];
        this.publish(this.crashes);
      }
    }
    const text = this.partial + data;
    const lines = text.split('\n');
    this.partial = (lines.pop() ?? '').slice(-4096);
    let added = false;
    for (const raw of lines) {
      const line = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
      const c = parseCrashLine(line.slice(line.indexOf('posix: pid ')));
      if (!c) continue;
      const view: CrashView = {
        seq: this.crashes.length + 1, pid: c.pid, program: c.program, signal: c.signal, signalName: c.signalName,
        addr: `0x${c.addr.toString(16)}`, rip: `0x${c.rip.toString(16)}`, corePath: c.corePath,
        ...(c.noCoreReason !== undefined ? { noCoreReason: c.noCoreReason } : {}),
        ...this.resolve(c.program, c.rip),
      };
      this.crashes.push(view);
      added = true;
    }
    if (added) this.publish(this.crashes);
  }

  list(): CrashView[] {
    return this.crashes;
  }

  /** rip → function and file:line through <programsDir>/<program>.elf (the faulting instruction itself). */
  resolve(program: string, rip: bigint): { function?: string; file?: string; line?: number } {
    const w = this.where();
    if (!w || !/^[A-Za-z0-9_.+-]+$/.test(program)) return {};
    const elf = path.join(w.programsDir, `${program}.elf`);
    let st: fs.Stats;
    try {
      st = fs.statSync(elf);
    } catch {
      return {};
    }
    let s = this.symbolizers.get(elf);
    if (!s || s.mtime !== st.mtimeMs) {
      try {
        const bytes = fs.readFileSync(elf);
        s = { mtime: st.mtimeMs, sym: new Symbolizer(parseElf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))) };
      } catch {
        return {};
      }
      this.symbolizers.set(elf, s);
    }
    const out: { function?: string; file?: string; line?: number } = {};
    const fn = s.sym.symbolize(rip);
    if (fn) out.function = fn.name.replace(/(\.(constprop|isra|part|cold|lto_priv)(\.\d+)?)+$/, ''); // gcc's clones: the source's name
    const hit = s.sym.lineFor(rip);
    if (hit) {
      const abs = path.resolve(w.root, hit.file);
      const rel = path.relative(w.root, abs);
      out.file = rel.startsWith('..') || path.isAbsolute(rel) ? hit.file : rel.split(path.sep).join('/');
      out.line = hit.line;
    }
    return out;
  }

  handlers(): CrashesHandlers {
    return { 'crashes.list': () => ({ crashes: this.list() }) };
  }
}
