/*
 * The project's crashes, kept in Lanescope's state folder (never in the project), so yesterday's
 * crash can be opened today:
 *
 *   <state>/crashes/<sha256(project root)[:16]>/<id>/crash.json   the Crashes entry (CrashView)
 *                                                   /core         the core copied out of the guest
 *                                                   /program.elf  the program's ELF as it was built
 *                                                                 for that Run (a rebuild changes
 *                                                                 build/programs/, not this copy)
 *
 * Folders are 0700, files 0600 (a core holds the process's memory). The newest MAX_KEPT crashes
 * of a project are kept; older ones are removed when a new one is saved.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CrashView } from '../common/crashes.js';
import { stateDir } from './state.js';
import { atomicWriteFile } from './tempfiles.js';

export const MAX_KEPT = 50;

export class CrashStore {
  private readonly base: string;

  constructor(dir = stateDir()) {
    this.base = path.join(dir, 'crashes');
  }

  /** The folder of a project's crashes. */
  dirOf(root: string): string {
    return path.join(this.base, crypto.createHash('sha256').update(root).digest('hex').slice(0, 16));
  }

  private entryDir(root: string, id: string): string {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) throw new Error(`not a crash id: ${JSON.stringify(id)}`);
    return path.join(this.dirOf(root), id);
  }

  /** The project's kept crashes, newest first. */
  list(root: string): CrashView[] {
    const dir = this.dirOf(root);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: CrashView[] = [];
    for (const n of names) {
      try {
        const v = JSON.parse(fs.readFileSync(path.join(dir, n, 'crash.json'), 'utf8')) as CrashView;
        if (v && typeof v === 'object' && v.id === n && typeof v.pid === 'number') out.push(v);
      } catch {
        /* a half-written or foreign entry: skipped */
      }
    }
    return out.sort((a, b) => b.at - a.at || b.seq - a.seq);
  }

  /** Saves (or updates) a crash's entry. */
  save(root: string, v: CrashView): void {
    const d = this.entryDir(root, v.id);
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    atomicWriteFile(path.join(d, 'crash.json'), JSON.stringify(v, null, 2), 0o600);
    this.prune(root);
  }

  /** Stores the core (and a copy of the program's ELF when it exists); returns their paths. */
  saveCore(root: string, id: string, core: Buffer, programElf: string | null): { core: string; elf: string | null } {
    const d = this.entryDir(root, id);
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const corePath = path.join(d, 'core');
    atomicWriteFile(corePath, core, 0o600);
    let elf: string | null = null;
    if (programElf && fs.existsSync(programElf)) {
      elf = path.join(d, 'program.elf');
      fs.copyFileSync(programElf, elf);
      fs.chmodSync(elf, 0o600);
    }
    return { core: corePath, elf };
  }

  /** The stored core and ELF of crash `id` (null when not stored). */
  files(root: string, id: string): { core: string; elf: string | null } | null {
    const d = this.entryDir(root, id);
    const core = path.join(d, 'core');
    if (!fs.existsSync(core)) return null;
    const elf = path.join(d, 'program.elf');
    return { core, elf: fs.existsSync(elf) ? elf : null };
  }

  private prune(root: string): void {
    const all = this.list(root);
    for (const v of all.slice(MAX_KEPT)) fs.rmSync(path.join(this.dirOf(root), v.id), { recursive: true, force: true });
  }
}
