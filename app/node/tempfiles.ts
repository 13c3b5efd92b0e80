/*
 * Private temporary files. Everything Lanescope writes next to a user's file or into a shared
 * directory (/tmp, /dev/shm) is created so that nobody else can predict it or plant something
 * there first:
 *
 *   atomicWriteFile(f)    .NAME.lanescope-<random>.tmp beside f, opened O_CREAT|O_EXCL ('wx':
 *                         a planted file or symlink of that name is an error, never followed),
 *                         then renamed over f
 *   sessionDir()          this backend's private folder for run data (trace recordings, the COM2
 *                         socket): mkdtemp → /tmp/lanescope-run-XXXXXX, mode 0700, with an `owner`
 *                         file naming our pid and its start time
 *   cleanStaleTempFiles() at start: removes run folders and /dev/shm trace files left by sessions
 *                         whose process is gone (a crash, kill -9) — only ours (same uid), only
 *                         when the owning pid is dead (or is a different process by start time)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Start time of a process (field 22 of /proc/PID/stat, clock ticks since boot), or undefined if gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Is the process that wrote (pid, start) still running? (start undefined: the pid alone decides) */
function ownerAlive(pid: number, start?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = processStartTime(pid);
  return now !== undefined && (start === undefined || start === now);
}

/** Write `content` to `file` through a private temp file beside it (see the top of this file). */
export function atomicWriteFile(file: string, content: string | Uint8Array, mode?: number): void {
  const dir = path.dirname(file);
  for (let attempt = 0; ; attempt++) {
    const tmp = path.join(dir, `.${path.basename(file)}.lanescope-${crypto.randomBytes(8).toString('hex')}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'wx', mode ?? 0o666);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
      throw e;
    }
    try {
      try {
        fs.writeFileSync(fd, content);
        if (mode !== undefined) fs.fchmodSync(fd, mode); // exactly the old mode, whatever the umask
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    return;
  }
}

const RUN_PREFIX = 'lanescope-run-';
let session: string | undefined;

/** This backend's private run folder (created on first use, mode 0700). */
export function sessionDir(tmp = os.tmpdir()): string {
  if (session && path.dirname(session) === path.resolve(tmp) && fs.existsSync(session)) return session;
  const d = fs.mkdtempSync(path.join(tmp, RUN_PREFIX)); // mkdtemp: random name, mode 0700
  fs.chmodSync(d, 0o700);
  fs.writeFileSync(path.join(d, 'owner'), `${process.pid} ${processStartTime(process.pid) ?? ''}\n`, { flag: 'wx', mode: 0o600 });
  session = d;
  return d;
}

export interface CleanupResult {
  removed: string[];
  kept: string[];
}

/**
 * Removes what sessions that are gone left behind: run folders in `tmp` (this scheme's
 * lanescope-run-XXXXXX with an owner file, and the old lanescope-trace-<pid>), and ivshmem trace
 * files in `shm` (lanes-trace-<pid>-...). Only entries owned by this user, never a symlink, and
 * only when the owning process is dead. Never throws.
 */
export function cleanStaleTempFiles(tmp = os.tmpdir(), shm = '/dev/shm'): CleanupResult {
  const res: CleanupResult = { removed: [], kept: [] };
  const uid = process.getuid?.();
  const consider = (dir: string, name: string, owner: () => { pid: number; start?: string } | undefined, isDir: boolean) => {
    const p = path.join(dir, name);
    try {
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink() || st.isDirectory() !== isDir || (uid !== undefined && st.uid !== uid)) return;
      const o = owner();
      if (!o || ownerAlive(o.pid, o.start)) {
        res.kept.push(p);
        return;
      }
      fs.rmSync(p, { recursive: true, force: true });
      res.removed.push(p);
    } catch {
      /* raced with its owner or someone else: leave it */
    }
  };
  let names: string[] = [];
  try {
    names = fs.readdirSync(tmp);
  } catch {
    names = [];
  }
  for (const n of names) {
    if (n.startsWith(RUN_PREFIX)) {
      consider(tmp, n, () => {
        try {
          const [pid, start] = fs.readFileSync(path.join(tmp, n, 'owner'), 'utf8').trim().split(' ');
          return { pid: Number(pid), start: start || undefined };
        } catch {
          return { pid: 0 }; // no owner file: a folder whose creation was cut short
        }
      }, true);
    } else {
      const m = /^lanescope-trace-(\d+)$/.exec(n);
      if (m) consider(tmp, n, () => ({ pid: Number(m[1]) }), true);
    }
  }
  try {
    names = fs.readdirSync(shm);
  } catch {
    names = [];
  }
  for (const n of names) {
    const m = /^lanes-trace-(\d+)-/.exec(n);
    if (m) consider(shm, n, () => ({ pid: Number(m[1]) }), false);
  }
  return res;
}
