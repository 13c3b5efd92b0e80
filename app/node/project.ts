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

const HIDDEN = new Set(['.git', 'node_modules', '.lanescope-state']);
const MAX_FILE = 8 * 1024 * 1024;

/** A raw disk image (*.img, *.bin) at the root or in build/ whose first sector ends in 0x55 0xAA; null when none. */
function bootableImage(root: string): string | null {
  for (const dir of ['build', '.']) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(root, dir)).filter((n) => /\.(img|bin)$/i.test(n)).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      const abs = path.join(root, dir, n);
      try {
        const st = fs.statSync(abs);
        if (!st.isFile() || st.size < 512) continue;
        const b = Buffer.alloc(512);
        const fd = fs.openSync(abs, 'r');
        try {
          fs.readSync(fd, b, 0, 512, 0);
        } finally {
          fs.closeSync(fd);
        }
        if (b[510] === 0x55 && b[511] === 0xaa) return dir === '.' ? n : `${dir}/${n}`;
      } catch {
        /* unreadable: next */
      }
    }
  }
  return null;
}

/** Sensible defaults for a folder without lanescope.json, guessed from what is in it. */
export function guessDefaults(root: string): ProjectConfig {
  const c = defaultProjectConfig(path.basename(root));
  const has = (p: string) => fs.existsSync(path.join(root, p));
  c.build.command = has('Makefile') || has('makefile') || has('GNUmakefile') ? 'make' : has('build.sh') ? 'sh build.sh' : null;
  for (const k of ['build/kernel/lanes32.elf', 'build/kernel.elf', 'kernel.elf', 'build/kernel']) if (has(k)) { c.qemu.kernel = k; break; }
  for (const k of ['build/initrd.tar', 'initrd.tar', 'build/initrd']) if (has(k)) { c.qemu.initrd = k; break; }
  if (!c.qemu.kernel) for (const k of ['build/lanes.iso', 'build/os.iso', 'os.iso']) if (has(k)) { c.qemu.iso = k; break; }
  if (!c.qemu.kernel && !c.qemu.iso) c.qemu.drive = bootableImage(root);
  return c;
}

export class Project {
  readonly root: string;
  config: ProjectConfig;
  configIsDefault = false;
  configErrors: string[] = [];

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
      this.config = guessDefaults(this.root);
      this.configIsDefault = true;
      this.configErrors = [];
      return;
    }
    this.configIsDefault = false;
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
    return { root: this.root, name: this.config.name, config: this.config, configIsDefault: this.configIsDefault, configErrors: this.configErrors };
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
