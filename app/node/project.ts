/*
 * Project service: one open folder. Reads lanescope.json (validated; defaults when missing),
 * lists directories and reads/writes files strictly inside the root (see paths.ts). Writes are
 * atomic (temp file + rename) so a failed save never loses the previous content.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DirEntry, ProjectInfo } from '../common/contract.js';
import { PROJECT_FILE, defaultProjectConfig, validateProjectConfig, type ProjectConfig } from '../common/project.js';
import { PathError, resolveInProject } from './paths.js';
import { atomicWriteFile } from './tempfiles.js';
import { proposeConfig, type Proposal } from './propose.js';

const HIDDEN = new Set(['.git', 'node_modules', '.lanescope-state']);
const MAX_FILE = 8 * 1024 * 1024;

/**
 * The configuration proposed for a folder without lanescope.json (app/node/propose.ts: the
 * Makefile, ELF files, disk images, ISOs), with LaneOS's own file names as the last resort.
 */
export function proposeDefaults(root: string): Proposal {
  const p = proposeConfig(root);
  const c = p.config;
  const has = (f: string) => fs.existsSync(path.join(root, f));
  if (!c.qemu.kernel && !c.qemu.iso && !c.qemu.drive) {
    for (const k of ['build/kernel/lanes32.elf', 'build/kernel.elf', 'kernel.elf', 'build/kernel']) if (has(k)) { c.qemu.kernel = k; break; }
    if (!c.qemu.kernel) for (const k of ['build/lanes.iso', 'build/os.iso', 'os.iso']) if (has(k)) { c.qemu.iso = k; break; }
  }
  if (c.qemu.kernel && !c.qemu.initrd) for (const k of ['build/initrd.tar', 'initrd.tar', 'build/initrd']) if (has(k)) { c.qemu.initrd = k; break; }
  return p;
}

/** Sensible defaults for a folder without lanescope.json, proposed from what is in it. */
export function guessDefaults(root: string): ProjectConfig {
  return proposeDefaults(root).config;
}

export class Project {
  readonly root: string;
  config: ProjectConfig;
  configIsDefault = false;
  configErrors: string[] = [];
  /** Where each proposed field came from (a folder without lanescope.json), for the form. */
  proposalNotes: string[] = [];

  constructor(root: string) {
    const abs = path.resolve(root);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new Error(`cannot open project: ${abs} does not exist`);
    }
    if (!st.isDirectory()) throw new Error(`cannot open project: ${abs} is not a folder`);
    this.root = fs.realpathSync(abs);
    this.config = defaultProjectConfig(path.basename(this.root));
    this.reloadConfig();
  }

  reloadConfig(): void {
    const file = path.join(this.root, PROJECT_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      const p = proposeDefaults(this.root);
      this.config = p.config;
      this.proposalNotes = p.notes;
      this.configIsDefault = true;
      this.configErrors = [];
      return;
    }
    this.configIsDefault = false;
    this.proposalNotes = [];
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      this.config = guessDefaults(this.root);
      this.configErrors = [`lanescope.json is not valid JSON: ${(e as Error).message}`];
      return;
    }
    const { config, errors } = validateProjectConfig(raw, path.basename(this.root));
    this.config = config;
    this.configErrors = errors;
  }

  writeConfig(config: ProjectConfig): void {
    const { config: clean, errors } = validateProjectConfig(config, path.basename(this.root));
    if (errors.length) throw new Error(`lanescope.json not written: ${errors.join('; ')}`);
    this.atomicWrite(path.join(this.root, PROJECT_FILE), JSON.stringify(clean, null, 2) + '\n');
    this.reloadConfig();
  }

  info(): ProjectInfo {
    return { root: this.root, name: this.config.name, config: this.config, configIsDefault: this.configIsDefault, configErrors: this.configErrors, ...(this.configIsDefault ? { proposalNotes: this.proposalNotes } : {}) };
  }

  resolve(rel: string): string {
    return resolveInProject(this.root, rel);
  }

  list(rel: string): DirEntry[] {
    const abs = this.resolve(rel || '.');
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      throw new Error(`cannot list ${rel || '/'}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const base = path.relative(this.root, abs).split(path.sep).join('/');
    const out: DirEntry[] = [];
    for (const e of entries) {
      if (HIDDEN.has(e.name)) continue;
      let kind: DirEntry['kind'] | null = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : null;
      if (e.isSymbolicLink()) {
        // Show links only when they stay inside the project.
        try {
          const target = this.resolve(base ? `${base}/${e.name}` : e.name);
          const st = fs.statSync(target);
          kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
        } catch {
          kind = null;
        }
      }
      if (!kind) continue;
      out.push({ name: e.name, path: base ? `${base}/${e.name}` : e.name, kind });
    }
    out.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    return out;
  }

  read(rel: string): string {
    const abs = this.resolve(rel);
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    if (!st) throw new Error(`${rel} does not exist`);
    if (!st.isFile()) throw new Error(`${rel} is not a file`);
    if (st.size > MAX_FILE) throw new Error(`${rel} is too large to open (${st.size} bytes; limit ${MAX_FILE})`);
    const buf = fs.readFileSync(abs);
    if (buf.subarray(0, 8192).includes(0)) throw new Error(`${rel} is a binary file`);
    return buf.toString('utf8');
  }

  write(rel: string, content: string): number {
    if (typeof content !== 'string') throw new Error('content must be a string');
    const abs = this.resolve(rel);
    if (fs.existsSync(abs) && !fs.statSync(abs).isFile()) throw new Error(`${rel} is not a file`);
    this.atomicWrite(abs, content);
    return Buffer.byteLength(content);
  }

  private atomicWrite(abs: string, content: string): void {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    // Re-check after mkdir: the directory we write into must still be inside the project.
    resolveInProject(this.root, path.relative(this.root, path.dirname(abs)) || '.');
    let mode: number | undefined;
    try {
      mode = fs.statSync(abs).mode & 0o7777;
    } catch {
      mode = undefined;
    }
    atomicWriteFile(abs, content, mode); // a private temp file (random name, O_EXCL), renamed over abs
  }
}

export { PathError };
