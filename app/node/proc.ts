/*
 * Process lifecycle: every child Lanescope starts (build, QEMU) runs as the leader of its own
 * process group. Stopping it (1) snapshots the whole descendant tree from /proc — including
 * children that escaped into their own session — (2) sends SIGTERM to the group and to each
 * descendant, (3) after a grace period sends SIGKILL to whatever is left, and (4) waits until
 * every one of those pids is gone. `stop()` resolves only when no process of the tree remains.
 *
 * Even when the backend itself dies (kill -9, a crash: no `stop()` runs), its children go with it.
 * Linux's PR_SET_PDEATHSIG is not reachable from Node, so a reaper does that job: a tiny `sh` in a
 * session of its own (so signals aimed at the backend's group or terminal miss it) that reads, from
 * a pipe only the backend holds, which process groups are live (`+g PGID` / `-g PGID`). When the
 * pipe reaches EOF — the backend has exited, however it died — it sends SIGTERM to every group
 * still listed, then SIGKILL two seconds later, and exits. Node opens pipes close-on-exec, so no
 * child (QEMU, make, a shell) can hold the write end open and keep the reaper waiting. gdb, which
 * reads its commands from the backend's pipe, exits on that EOF by itself.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import type { Writable } from 'node:stream';

const REAPER = `
trap '' INT HUP
live=' '
while IFS= read -r l; do
  case $l in
    +g[0-9]*) live="$live\${l#+g} ";;
    -g[0-9]*) n=' '; for g in $live; do [ "$g" = "\${l#-g}" ] || n="$n$g "; done; live=$n;;
  esac
done
[ "$live" = ' ' ] && exit 0
for g in $live; do kill -TERM "-$g" 2>/dev/null; done
sleep 2
for g in $live; do kill -KILL "-$g" 2>/dev/null; done
exit 0
`;

let reaperIn: Writable | null | undefined;
let reaperPid: number | undefined;

/** The reaper's pid (started on first use; undefined if it could not start). */
export function reaper(): number | undefined {
  tellReaper(undefined);
  return reaperPid;
}

function tellReaper(line: string | undefined): void {
  if (reaperIn === undefined) {
    try {
      const c = spawn('/bin/sh', ['-c', REAPER], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      reaperPid = c.pid;
      c.on('error', () => { reaperIn = null; });
      c.on('exit', () => { reaperIn = null; });
      c.stdin!.on('error', () => { reaperIn = null; });
      c.unref(); // neither the reaper nor its pipe keeps the backend's event loop alive
      (c.stdin as unknown as { unref?: () => void }).unref?.();
      reaperIn = c.stdin!;
    } catch {
      reaperIn = null;
    }
  }
  if (line !== undefined) reaperIn?.write(line + '\n');
}

/** pid → ppid for every process visible in /proc. */
export function processTable(): Map<number, { ppid: number; comm: string; state: string; pgrp: number; session: number }> {
  const t = new Map<number, { ppid: number; comm: string; state: string; pgrp: number; session: number }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      t.set(Number(name), { ppid: Number(fields[1]), comm, state: fields[0] ?? '?', pgrp: Number(fields[2]), session: Number(fields[3]) });
    } catch {
      /* exited meanwhile */
    }
  }
  return t;
}

/** All descendants of `pid` (not including pid). */
export function descendants(pid: number): number[] {
  const t = processTable();
  const kids = new Map<number, number[]>();
  for (const [p, { ppid }] of t) {
    const l = kids.get(ppid) ?? [];
    l.push(p);
    kids.set(ppid, l);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      stack.push(k);
    }
  }
  return out;
}

/** True if the pid exists and is not a zombie. (/proc/PID/stat can fail ENOENT for a moment
 * while the process is still there — seen for a build's `sleep` being killed, which then showed
 * up running: so a failed read asks kill(pid, 0), which only ESRCH answers "gone".) */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The descendants of rootPid and every process of its group or session (a spawnManaged leader
 * is both): a child whose parent died is reparented away from the tree, but stays in its group. */
function members(rootPid: number): number[] {
  const out = descendants(rootPid);
  for (const [pid, p] of processTable()) if (pid !== rootPid && (p.pgrp === rootPid || p.session === rootPid)) out.push(pid);
  return out;
}

/** No process at all is left in the group (not even a zombie): kill(-pgid, 0) fails ESRCH. */
function groupGone(rootPid: number): boolean {
  try {
    process.kill(-rootPid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Kills a process tree: group + every descendant; resolves when all are gone (or after ~10 s).
 * Gone means the group is empty, or every member found is dead in two scans 50 ms apart: one
 * scan of /proc can miss a live process (its stat read failing for a moment on a loaded host —
 * a build's make and sleep were still there when one scan said the tree was dead). */
export async function killTree(rootPid: number, graceMs = 1500): Promise<{ killed: number[]; survivors: number[] }> {
  const tree = new Set<number>([rootPid, ...members(rootPid)]);
  const scan = (sig: NodeJS.Signals): boolean => {
    for (const p of members(rootPid)) {
      if (tree.has(p)) continue;
      tree.add(p);
      signal(p, sig);
    }
    return [...tree].every((p) => !isAlive(p));
  };
  signal(-rootPid, 'SIGTERM');
  for (const p of tree) signal(p, 'SIGTERM');
  let dead = 0;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    dead = scan('SIGTERM') ? dead + 1 : 0;
    if (groupGone(rootPid) || dead >= 2) return { killed: [...tree], survivors: [] };
    await sleep(50);
  }
  signal(-rootPid, 'SIGKILL');
  for (const p of tree) signal(p, 'SIGKILL');
  dead = 0;
  const hard = Date.now() + 8000;
  while (Date.now() < hard) {
    dead = scan('SIGKILL') ? dead + 1 : 0;
    if (groupGone(rootPid) || dead >= 2) return { killed: [...tree], survivors: [] };
    await sleep(50);
  }
  return { killed: [...tree], survivors: [...tree].filter(isAlive) };
}

export interface ManagedProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<{ survivors: number[] }>;
}

const live = new Set<ManagedProcess>();

/** Spawns `cmd args` as a process-group leader. Rejects with a clear message if it cannot start. */
export function spawnManaged(cmd: string, args: string[], opts: SpawnOptions): Promise<ManagedProcess> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { ...opts, detached: true });
    } catch (e) {
      reject(new Error(`cannot start ${cmd}: ${(e as Error).message}`));
      return;
    }
    let settled = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
      child.once('exit', (code, sig) => res({ code, signal: sig }));
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      reject(new Error(e.code === 'ENOENT' ? `${cmd} was not found (is it installed and on PATH?)` : `cannot start ${cmd}: ${e.message}`));
    });
    child.once('spawn', () => {
      if (settled) return;
      settled = true;
      const pid = child.pid!;
      let stopping: Promise<{ survivors: number[] }> | null = null;
      const mp: ManagedProcess = {
        child,
        pid,
        exited,
        stop() {
          stopping ??= killTree(pid).then((r) => {
            live.delete(mp);
            if (!r.survivors.length) tellReaper(`-g${pid}`);
            return { survivors: r.survivors };
          });
          return stopping;
        },
      };
      live.add(mp);
      tellReaper(`+g${pid}`);
      // When the leader exits on its own, still reap whatever it left behind in its group.
      void exited.then(() => {
        if (!stopping) void mp.stop();
      });
      resolve(mp);
    });
  });
}

/** Stops every process started through spawnManaged (used at backend shutdown). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}
