/*
 * The Crashes view's backend half: every process a fault ended during the Run, from the POSIX
 * server's console line (parseCrashLine, debugger/common/core.ts), with the faulting instruction
 * resolved through the program's ELF (build/programs/<program>.elf beside the kernel ELF, as the
 * debugger finds user programs) to function and source line. The console arrives in chunks cut
 * anywhere: lines are put back together here. A new Run (a new runner generation) starts a new list.
 *
 * With a store and a fetcher (the backend gives both): every crash is kept in the state folder
 * (crash-store.ts) at once, its core is copied out of the guest over the console (core-fetch.ts)
 * and stored beside it with the program's ELF, and crashes.open opens it in a read-only debug
 * session. Earlier Runs' crashes (Stop, a restart of Lanescope) come from the store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseCrashLine } from '../../debugger/common/core.js';
import { parseElf, Symbolizer } from '../../debugger/common/elf.js';
import type { CrashView, CrashesRequests } from '../common/crashes.js';
import type { Handler } from './views/types.js';
import type { CrashStore } from './crash-store.js';
import type { CoreFetcher } from './core-fetch.js';

type CrashesHandlers = { [K in keyof CrashesRequests]: Handler<K> };

/** What keeps crashes and fetches their cores (absent: the list is the Run's only). */
export interface CrashKeeping {
  store: CrashStore;
  fetcher: CoreFetcher | null;
  /** Opens a core in the debugger (DebugController.openCore). */
  open(core: string, elf: string, what: { program: string; pid: number; signal: string }): Promise<void>;
}

export class CrashesBackend {
  private crashes: CrashView[] = [];
  private partial = '';
  private gen = -1;
  private symbolizers = new Map<string, { mtime: number; sym: Symbolizer }>();
  /** the Run's start, in the ids of its crashes */
  private runStamp = '';

  /**
   * programsDir: where <program>.elf files are (absolute), or null (no project);
   * root: the project root, for project-relative paths.
   */
  constructor(
    private readonly where: () => { programsDir: string; root: string } | null,
    private readonly publish: (crashes: CrashView[], earlier: CrashView[]) => void,
    private readonly keep: CrashKeeping | null = null,
  ) {}

  private changed(): void {
    this.publish(this.crashes, this.earlier());
  }

  /** The project's crashes kept from earlier Runs, newest first. */
  earlier(): CrashView[] {
    const w = this.where();
    if (!this.keep || !w) return [];
    const mine = new Set(this.crashes.map((c) => c.id));
    return this.keep.store.list(w.root).filter((c) => !mine.has(c.id));
  }

  /** A chunk of the Run's console (generation gen of the runner). */
  feed(gen: number, data: string): void {
    if (gen !== this.gen) {
      this.gen = gen;
      this.partial = '';
      this.runStamp = Date.now().toString(36);
      if (this.crashes.length) {
        this.crashes = [];
        this.changed();
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
      const seq = this.crashes.length + 1;
      const view: CrashView = {
        id: `r${this.runStamp}-${seq}-p${c.pid}`, at: Date.now(),
        seq, pid: c.pid, program: c.program, signal: c.signal, signalName: c.signalName,
        addr: `0x${c.addr.toString(16)}`, rip: `0x${c.rip.toString(16)}`, corePath: c.corePath,
        ...(c.noCoreReason !== undefined ? { noCoreReason: c.noCoreReason } : {}),
        ...this.resolve(c.program, c.rip),
      };
      this.crashes.push(view);
      this.kept(gen, view);
      added = true;
    }
    if (added) this.changed();
  }

  /** Saves the crash in the store and starts copying its core out of the guest. */
  private kept(gen: number, view: CrashView): void {
    const w = this.where();
    const k = this.keep;
    if (!k || !w) return;
    const save = () => {
      try {
        k.store.save(w.root, view);
      } catch {
        /* the state folder is not writable: the crash still lists for this Run */
      }
    };
    if (view.corePath && k.fetcher) {
      view.fetch = 'fetching';
      k.fetcher.fetch(gen, view.corePath).then((core) => {
        const elf = path.join(w.programsDir, `${view.program}.elf`);
        k.store.saveCore(w.root, view.id, core, /^[A-Za-z0-9_.+-]+$/.test(view.program) ? elf : null);
        view.fetch = 'stored';
        view.coreBytes = core.length;
        delete view.fetchError;
      }, (e: Error) => {
        view.fetch = 'failed';
        view.fetchError = e.message;
      }).catch((e: Error) => {
        view.fetch = 'failed';
        view.fetchError = `could not store it: ${e.message}`;
      }).finally(() => {
        save();
        this.changed();
      });
    }
    save();
  }

  /** Opens crash `id`'s stored core in a read-only debug session. */
  async open(id: string): Promise<void> {
    const w = this.where();
    if (!this.keep || !w) throw new Error('no project is open');
    const v = this.crashes.find((c) => c.id === id) ?? this.earlier().find((c) => c.id === id);
    if (!v) throw new Error(`no crash ${JSON.stringify(id)} in this project`);
    const files = this.keep.store.files(w.root, id);
    if (!files) {
      if (!v.corePath) throw new Error(`${v.program} (pid ${v.pid}) left no core: ${v.noCoreReason ?? 'the guest wrote none'}`);
      if (v.fetch === 'fetching') throw new Error(`the core of ${v.program} (pid ${v.pid}) is still being copied out of the guest (it waits for the shell's prompt)`);
      throw new Error(`the core of ${v.program} (pid ${v.pid}) was not copied out of the guest${v.fetchError ? `: ${v.fetchError}` : ''}`);
    }
    const elf = files.elf ?? path.join(w.programsDir, `${v.program}.elf`);
    await this.keep.open(files.core, elf, { program: v.program, pid: v.pid, signal: `${v.signalName} at address ${v.addr}` });
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
    return {
      'crashes.list': () => ({ crashes: this.list(), earlier: this.earlier() }),
      'crashes.open': async ({ id }) => {
        if (typeof id !== 'string') throw new Error('id: the crash to open');
        await this.open(id);
        return { ok: true };
      },
    };
  }
}
