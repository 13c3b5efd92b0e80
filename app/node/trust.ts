/*
 * Workspace trust: a folder Lanescope has not been told to trust opens in restricted mode — browse and
 * edit, but no build command, no QEMU, no terminal in it (a cloned repository is untrusted input; its
 * lanescope.json or Makefile would otherwise run on Run). The Backend refuses run.start, run.restart,
 * debug.run and term.create for such a folder; the Runner checks again with the config it is about to
 * use, so the renderer cannot talk its way around it.
 *
 * What is trusted is a folder *together with* its executable settings: the hash of every field of
 * lanescope.json that decides what runs (build.command/cwd, test.command, qemu.binary, machine,
 * cpu, devices, extraArgs, serial ports (sockets and files QEMU creates), gdb (a TCP gdbstub); a guessed config when there is no file). Change any
 * of them — in an editor, a `git pull` — and the folder is asked about again.
 *
 * Stored in the state directory (never in the project), `trust.json`:
 *   { "version": 1, "folders": { "<real path>": { "hash": "<sha256 hex>", "at": "<ISO date>" } } }
 * Tests (app/test/e2e/harness.ts) write this entry with trustProject() to mark a fixture trusted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ProjectConfig } from '../common/project.js';
import type { RunPlan, TrustStatus } from '../common/trust.js';
import { Project } from './project.js';
import { qemuArgs } from './qemu.js';
import { stateDir } from './state.js';

interface TrustFile {
  version: 1;
  folders: Record<string, { hash: string; at: string }>;
}

/** The fields of a config that decide what Lanescope executes, in a fixed order. */
export function executableFields(c: ProjectConfig): unknown {
  return {
    build: { command: c.build.command, cwd: c.build.cwd },
    test: { command: c.test.command },
    qemu: { binary: c.qemu.binary, machine: c.qemu.machine, cpu: c.qemu.cpu, devices: c.qemu.devices, extraArgs: c.qemu.extraArgs, serial: c.qemu.serial, gdb: c.qemu.gdb },
  };
}

export function configHash(c: ProjectConfig): string {
  return crypto.createHash('sha256').update(JSON.stringify(executableFields(c))).digest('hex');
}

/** Exactly what Run would execute for this project (Lanescope adds its trace device, and a gdbstub when debugging). */
export function runPlan(p: Project): RunPlan {
  const c = p.config;
  const plan: RunPlan = {
    build: c.build.command ? { command: c.build.command, cwd: c.build.cwd } : null,
    test: c.test.command,
    qemu: null,
    serial: null,
    guessed: p.configIsDefault,
  };
  if (c.target === 'qemu') {
    try {
      plan.qemu = [c.qemu.binary, ...qemuArgs(p.root, c)];
    } catch (e) {
      plan.qemu = [c.qemu.binary, `(cannot build the command line: ${(e as Error).message})`];
    }
  } else plan.serial = { port: c.serial.port, baud: c.serial.baud };
  return plan;
}

export class TrustStore {
  private readonly file: string;
  private data: TrustFile = { version: 1, folders: {} };
  private readonly builtin: Set<string>;

  /** `builtin`: folders trusted without asking (the bundled os/). */
  constructor(dir = stateDir(), builtin: string[] = []) {
    this.file = path.join(dir, 'trust.json');
    this.builtin = new Set(builtin.map(real));
  }

  /** Re-read on every question: another window (or a test, or the user) may have changed it. */
  private load(): void {
    this.data = { version: 1, folders: {} };
    try {
      const raw = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<TrustFile>;
      if (raw && typeof raw === 'object' && raw.folders && typeof raw.folders === 'object') {
        for (const [k, v] of Object.entries(raw.folders)) {
          if (v && typeof v === 'object' && typeof v.hash === 'string') this.data.folders[k] = { hash: v.hash, at: String(v.at ?? '') };
        }
      }
    } catch {
      /* first run or unreadable: nothing trusted */
    }
  }

  status(p: Project): TrustStatus {
    const hash = configHash(p.config);
    const plan = runPlan(p);
    if (this.builtin.has(p.root)) return { trusted: true, why: 'bundled', hash, plan };
    this.load();
    const e = this.data.folders[p.root];
    if (!e) return { trusted: false, why: 'new', hash, plan };
    if (e.hash !== hash) return { trusted: false, why: 'changed', hash, plan };
    return { trusted: true, why: 'trusted', hash, plan };
  }

  /**
   * Trusts `root` with the executable settings whose hash the user was shown. If lanescope.json
   * changed since (the hash differs), nothing is trusted: the user must look again.
   */
  grant(p: Project, hash: string): TrustStatus {
    const now = configHash(p.config);
    if (hash !== now) throw new Error('lanescope.json changed while you were asked; look at the commands again');
    this.load();
    this.data.folders[p.root] = { hash, at: new Date().toISOString() };
    this.save();
    return this.status(p);
  }

  revoke(root: string): void {
    this.load();
    delete this.data.folders[real(root)];
    this.save();
  }

  /** Throws the restricted-mode message unless the project may run commands now. */
  check(p: Project, what: string): void {
    const st = this.status(p);
    if (st.trusted) return;
    throw new Error(
      st.why === 'changed'
        ? `${what} refused: the commands in lanescope.json changed since you trusted ${p.root}; press Run to review and trust them again`
        : `${what} refused: ${p.root} is not trusted (restricted mode: browse and edit only); press Run to review its commands and trust it`,
    );
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.data, null, 2), { flag: 'wx', mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}

function real(p: string): string {
  try {
    return fs.realpathSync(path.resolve(p));
  } catch {
    return path.resolve(p);
  }
}

/** Marks `root` trusted with its current lanescope.json in the state directory `dir` (tests, scripts). */
export function trustProject(dir: string, root: string): void {
  const p = new Project(root);
  new TrustStore(dir).grant(p, configHash(p.config));
}
