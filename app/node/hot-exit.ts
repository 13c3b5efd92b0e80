/*
 * Backups of dirty editor buffers (hot exit; see app/common/hot-exit.ts), in the state directory:
 *   <state>/backups/<sha256(project root)[:16]>/<sha256(path)[:32]>.json  { path, content, at, diskHash }
 * Files are 0600 in 0700 folders, written to a fresh temp name with O_EXCL and renamed, so a reader
 * never sees half a backup and nothing is written through a planted link. Paths are checked against
 * the project like every other path the renderer names (they are only keys here: nothing is written
 * into the project).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BufferBackup } from '../common/hot-exit.js';
import type { Project } from './project.js';
import { stateDir } from './state.js';

const MAX_BACKUP = 8 * 1024 * 1024;
const MAX_FILES = 200;

const sha = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex');

interface Stored {
  path: string;
  content: string;
  at: number;
  /** sha256 of the file on disk when the backup was written ('' = the file did not exist). */
  diskHash: string;
}

export class HotExitStore {
  private readonly base: string;

  constructor(dir = stateDir()) {
    this.base = path.join(dir, 'backups');
  }

  private dirOf(p: Project): string {
    return path.join(this.base, sha(p.root).slice(0, 16));
  }

  private fileOf(p: Project, rel: string): string {
    return path.join(this.dirOf(p), `${sha(rel).slice(0, 32)}.json`);
  }

  private diskHash(p: Project, rel: string): string {
    try {
      return sha(fs.readFileSync(p.resolve(rel)));
    } catch {
      return '';
    }
  }

  set(p: Project, rel: string, content: string): void {
    if (typeof rel !== 'string' || typeof content !== 'string') throw new Error('backup needs a path and a string content');
    p.resolve(rel); // confined to the project (throws a clear PathError otherwise)
    if (content.length > MAX_BACKUP) throw new Error(`${rel}: too large to back up (${content.length} characters)`);
    const dir = this.dirOf(p);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(p, rel);
    if (!fs.existsSync(file) && fs.readdirSync(dir).length >= MAX_FILES) throw new Error(`too many unsaved buffers to back up (${MAX_FILES})`);
    const rec: Stored = { path: rel, content, at: Date.now(), diskHash: this.diskHash(p, rel) };
    const tmp = path.join(dir, `.${crypto.randomBytes(8).toString('hex')}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(rec), { flag: 'wx', mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  drop(p: Project, rels: string[]): void {
    if (!Array.isArray(rels)) throw new Error('paths must be a list');
    for (const rel of rels) {
      if (typeof rel !== 'string') continue;
      fs.rmSync(this.fileOf(p, rel), { force: true });
    }
  }

  list(p: Project): BufferBackup[] {
    const dir = this.dirOf(p);
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: BufferBackup[] = [];
    for (const n of names) {
      try {
        const r = JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as Stored;
        if (typeof r.path !== 'string' || typeof r.content !== 'string') continue;
        p.resolve(r.path);
        out.push({ path: r.path, content: r.content, at: Number(r.at) || 0, diskChanged: this.diskHash(p, r.path) !== r.diskHash });
      } catch {
        /* unreadable or outside the project now: skip */
      }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }
}
