/*
 * Private temp files (issue 21): a save never follows a planted symlink; the temp name is random
 * and opened O_EXCL; the run folder is a mkdtemp folder of mode 0700; files of dead sessions (and
 * only those, only ours) are removed at start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Project } from '../../node/project.js';
import { atomicWriteFile, cleanStaleTempFiles, sessionDir } from '../../node/tempfiles.js';

const tmpd = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync('/bin/sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

test('saving a file never writes through a symlink planted at the temp name (the old .NAME.lanescope-<pid>.tmp)', () => {
  const root = tmpd('ls-tmp-proj-');
  const outside = tmpd('ls-tmp-outside-');
  const victim = path.join(outside, 'victim.txt');
  fs.writeFileSync(victim, 'precious\n');
  fs.writeFileSync(path.join(root, 'hello.c'), 'int x;\n');
  // the name the save used to write to, predictable from the pid
  fs.symlinkSync(victim, path.join(root, `.hello.c.lanescope-${process.pid}.tmp`));
  const p = new Project(root);
  p.write('hello.c', 'int y;\n');
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n', 'the file outside the project is untouched');
  assert.equal(fs.readFileSync(path.join(root, 'hello.c'), 'utf8'), 'int y;\n');
  const left = fs.readdirSync(root).filter((n) => n.endsWith('.tmp'));
  assert.deepEqual(left, [`.hello.c.lanescope-${process.pid}.tmp`], 'no temp file of ours is left behind');
});

test('atomicWriteFile: random temp names opened O_EXCL (never an existing entry), the old mode kept', () => {
  const dir = tmpd('ls-tmp-atomic-');
  const f = path.join(dir, 'a.txt');
  fs.writeFileSync(f, 'old');
  fs.chmodSync(f, 0o640);
  const seen = new Set<string>();
  const realOpen = fs.openSync;
  const opened: Array<[string, unknown]> = [];
  (fs as { openSync: typeof fs.openSync }).openSync = ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null) => {
    opened.push([String(p), flags]);
    seen.add(path.basename(String(p)));
    return realOpen(p, flags ?? 'r', mode);
  }) as typeof fs.openSync;
  try {
    for (let i = 0; i < 5; i++) atomicWriteFile(f, `v${i}`, 0o640);
  } finally {
    (fs as { openSync: typeof fs.openSync }).openSync = realOpen;
  }
  assert.equal(seen.size, 5, 'a new random name each time');
  for (const [p, flags] of opened) {
    assert.equal(flags, 'wx', 'O_CREAT|O_EXCL');
    assert.match(path.basename(p), /^\.a\.txt\.lanescope-[0-9a-f]{16}\.tmp$/);
  }
  assert.equal(fs.readFileSync(f, 'utf8'), 'v4');
  assert.equal(fs.statSync(f).mode & 0o777, 0o640);
  assert.deepEqual(fs.readdirSync(dir), ['a.txt']);
});

test('the run folder is private: mkdtemp name, mode 0700, an owner file with our pid', () => {
  const base = tmpd('ls-tmp-base-');
  const d = sessionDir(base);
  assert.match(path.basename(d), /^lanescope-run-[A-Za-z0-9]{6}$/);
  assert.equal(fs.statSync(d).mode & 0o777, 0o700);
  assert.match(fs.readFileSync(path.join(d, 'owner'), 'utf8'), new RegExp(`^${process.pid} \\d+\\n$`));
  assert.doesNotMatch(d, new RegExp(`-${process.pid}$`), 'not predictable from the pid');
});

test('stale run folders and /dev/shm trace files of dead sessions are removed at start; live and foreign ones kept', () => {
  const tmp = tmpd('ls-tmp-stale-');
  const shm = tmpd('ls-tmp-shm-');
  const dead = deadPid();
  const mk = (p: string, owner?: string) => {
    fs.mkdirSync(p);
    fs.writeFileSync(path.join(p, 'trace.ltrace'), 'x');
    if (owner !== undefined) fs.writeFileSync(path.join(p, 'owner'), owner);
  };
  mk(path.join(tmp, `lanescope-trace-${dead}`)); // the old scheme, dead
  mk(path.join(tmp, `lanescope-trace-${process.pid}`)); // the old scheme, alive
  mk(path.join(tmp, 'lanescope-run-dead01'), `${dead} 123\n`);
  mk(path.join(tmp, 'lanescope-run-reused'), `${process.pid} 1\n`); // our pid, but another start time: a reused pid
  const live = sessionDir(tmp);
  const outside = tmpd('ls-tmp-target-');
  fs.symlinkSync(outside, path.join(tmp, `lanescope-trace-${dead + 1000000}`)); // a symlink is never followed or removed
  fs.writeFileSync(path.join(shm, `lanes-trace-${dead}-1`), 'ring');
  fs.writeFileSync(path.join(shm, `lanes-trace-${process.pid}-1-abc`), 'ring');
  fs.writeFileSync(path.join(shm, 'other-file'), 'x');
  const r = cleanStaleTempFiles(tmp, shm);
  const left = fs.readdirSync(tmp).sort();
  assert.deepEqual(left, [path.basename(live), `lanescope-trace-${dead + 1000000}`, `lanescope-trace-${process.pid}`].sort());
  assert.deepEqual(fs.readdirSync(shm).sort(), [`lanes-trace-${process.pid}-1-abc`, 'other-file']);
  assert.equal(r.removed.length, 4);
  assert.ok(fs.existsSync(outside));
});
