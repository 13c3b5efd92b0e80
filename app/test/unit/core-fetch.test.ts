/*
 * Cores copied out of the guest over its console (app/node/core-fetch.ts) and kept in the state
 * folder (app/node/crash-store.ts, app/node/crashes.ts): the fetcher waits for the shell's prompt,
 * types `upload PATH`, hides the echo and the records from the console panel (a kernel log line in
 * between stays visible), and decodes the file; a damaged record, a file the guest could not read,
 * a prompt with no records and a new Run each fail with what went wrong. The Crashes backend saves
 * every crash at once, the core beside it with a copy of the program's ELF, and a new backend on
 * the same state folder (Lanescope restarted) lists them as earlier Runs' crashes and opens them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CoreFetcher, decodeUploadedFile, typeablePath } from '../../node/core-fetch.js';
import { CrashStore } from '../../node/crash-store.js';
import { CrashesBackend } from '../../node/crashes.js';
import type { CrashView } from '../../common/crashes.js';

const PROMPT = 'lanes$ ';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the guest's `upload FILE` writes for `bytes`. */
function records(guest: string, bytes: Buffer): string {
  return `@@lanes-upload 1 ${guest}\r\nF . ${bytes.length} ${bytes.toString('base64')}\r\n@@lanes-upload-end 1 ${bytes.length}\r\n`;
}

test('decodeUploadedFile: the file, or what is wrong with the records', () => {
  const b = Buffer.from('\x7fELF core bytes');
  assert.deepEqual(decodeUploadedFile(records('/var/core/c', b).split('\r\n'), '/var/core/c'), b);
  const lines = records('/var/core/c', b).split('\r\n');
  assert.throws(() => decodeUploadedFile(lines.map((l) => (l.startsWith('F ') ? l.slice(0, -4) : l)), '/var/core/c'), /bytes arrived, \d+ were sent/);
  assert.throws(() => decodeUploadedFile(lines.filter((l) => !l.startsWith('F ')), '/var/core/c'), /0 records and 0 bytes arrived, the guest sent 1/);
  assert.throws(() => decodeUploadedFile(['@@lanes-upload 1 /x', 'E . cannot open', '@@lanes-upload-end 1 0'], '/x'), /could not read \/x: cannot open/);
  assert.throws(() => decodeUploadedFile(['lanes$ upload /x', 'sh: no such command'], '/x'), /no @@lanes-upload/);
  assert.ok(typeablePath('/var/core/core.crashme.12'));
  assert.ok(!typeablePath('/var/core/a b') && !typeablePath('relative') && !typeablePath('/a/../b') && !typeablePath('/x;reboot'));
});

test('CoreFetcher: waits for the prompt, types upload, hides the records, keeps other lines', async () => {
  const typed: string[] = [];
  const f = new CoreFetcher((d) => typed.push(d), { idleMs: 20 });
  const core = Buffer.alloc(70000, 7); // over 64 KiB: one long line, as the guest sends cores
  let shown = f.filter(1, 'crashme null\r\nposix: pid 12 (crashme) killed by SIGSEGV');
  const got = f.fetch(1, '/var/core/core.crashme.12');
  await sleep(60);
  assert.deepEqual(typed, [], 'not typed while a program is running (no prompt)');
  shown += f.filter(1, ' ...\r\n' + PROMPT);
  await sleep(60);
  assert.deepEqual(typed, ['upload /var/core/core.crashme.12\r']);
  const out = `upload /var/core/core.crashme.12\r\n${records('/var/core/core.crashme.12', core)}`;
  const cut = out.indexOf('\nF ') + 1; // a kernel log line between two records
  shown += f.filter(1, out.slice(0, 30));
  shown += f.filter(1, out.slice(30, cut) + '[ 9.1] cpu0: a kernel log line\r\n' + out.slice(cut, 40000));
  shown += f.filter(1, out.slice(40000));
  shown += f.filter(1, `${PROMPT}`);
  assert.deepEqual(await got, core);
  assert.doesNotMatch(shown, /@@lanes-upload|upload \/var|^F \./m, 'the echo and the records are hidden');
  assert.match(shown, /a kernel log line/, 'a line in between is shown');
  assert.match(shown, /Lanescope copied \/var\/core\/core\.crashme\.12 \(70,000 bytes\)/);
  assert.ok(shown.endsWith(PROMPT), 'the prompt after it is shown');
  assert.ok(!f.busy);
});

test('CoreFetcher: failures name what went wrong; a new Run fails what is pending', async () => {
  const typed: string[] = [];
  const f = new CoreFetcher((d) => typed.push(d), { idleMs: 10, timeoutMs: 5000 });
  f.filter(1, PROMPT);
  const a = f.fetch(1, '/var/core/gone');
  await sleep(40);
  f.filter(1, 'upload /var/core/gone\r\n@@lanes-upload 1 /var/core/gone\r\nE . cannot stat\r\n@@lanes-upload-end 1 0\r\n' + PROMPT);
  await assert.rejects(a, /could not read \/var\/core\/gone: cannot stat/);
  const b = f.fetch(1, '/var/core/x');
  await sleep(40);
  f.filter(1, 'upload /var/core/x\r\nsh: upload: not found\r\n');
  const shown = f.filter(1, PROMPT);
  await assert.rejects(b, /upload \/var\/core\/x did not run in the guest: sh: upload: not found/);
  assert.equal(shown, PROMPT);
  // bytes lost on the way: asked for again (twice at most), then it fails naming the loss
  const good = Buffer.from('a core, this time whole');
  const lossy = (g: string, bytes: Buffer) => records(g, bytes).replace(/^(F \. \d+ )(\S{8})/m, '$1');
  const d = f.fetch(1, '/var/core/z');
  await sleep(40);
  let shownZ = f.filter(1, `upload /var/core/z\r\n${lossy('/var/core/z', good)}${PROMPT}`);
  await sleep(40);
  assert.match(shownZ, /bytes arrived, \d+ were sent \(a record was damaged on the way\); asking for \/var\/core\/z again/);
  assert.deepEqual(typed.slice(-2), ['upload /var/core/z\r', 'upload /var/core/z\r']);
  shownZ = f.filter(1, `upload /var/core/z\r\n${records('/var/core/z', good)}${PROMPT}`);
  assert.deepEqual(await d, good);
  const e = f.fetch(1, '/var/core/w');
  for (let i = 0; i < 3; i++) {
    await sleep(40);
    f.filter(1, `upload /var/core/w\r\n${lossy('/var/core/w', good)}${PROMPT}`);
  }
  await assert.rejects(e, /bytes arrived/);
  assert.equal(typed.filter((t) => t === 'upload /var/core/w\r').length, 3);
  // the end record lost: the prompt coming back says so at once (no 120 s wait), and it is asked again
  const g = f.fetch(1, '/var/core/v');
  await sleep(40);
  const noEnd = records('/var/core/v', good).replace(/@@lanes-upload-end.*\r\n/, '');
  const shownV = f.filter(1, `upload /var/core/v\r\n${noEnd}${PROMPT}`);
  assert.match(shownV, /\d records arrived, the end record did not \(bytes lost on the way\); asking for \/var\/core\/v again/);
  await sleep(40);
  f.filter(1, `upload /var/core/v\r\n${records('/var/core/v', good)}${PROMPT}`);
  assert.deepEqual(await g, good);
  const c = f.fetch(1, '/var/core/y'); // no prompt yet: waits
  f.filter(2, 'LaneOS booting\r\n');
  await assert.rejects(c, /the Run ended before the core was copied/);
  await assert.rejects(f.fetch(2, '/var/core/a b'), /cannot type/);
  f.dispose();
});

test('crashes are kept in the state folder with their cores and listed after a restart', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-store-'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-proj-'));
  const programsDir = path.join(root, 'build/programs');
  fs.mkdirSync(programsDir, { recursive: true });
  fs.writeFileSync(path.join(programsDir, 'crashme.elf'), 'ELF of this build');
  try {
    const typed: string[] = [];
    const fetcher = new CoreFetcher((d) => typed.push(d), { idleMs: 10 });
    const opened: { core: string; elf: string; what: unknown }[] = [];
    const published: [CrashView[], CrashView[]][] = [];
    const mk = () => new CrashesBackend(() => ({ programsDir, root }), (c, e) => published.push([structuredClone(c), structuredClone(e)]), {
      store: new CrashStore(state), fetcher, open: async (core, elf, what) => { opened.push({ core, elf, what }); },
    });
    const b = mk();
    const line = (pid: number) => `posix: pid ${pid} (crashme) killed by SIGSEGV (11) at address 0x0, rip 0x400266: core dumped to /var/core/core.crashme.${pid}\r\n`;
    fetcher.filter(1, 'x');
    b.feed(1, line(12) + PROMPT);
    fetcher.filter(1, line(12) + PROMPT);
    const id = b.list()[0]!.id;
    assert.equal(b.list()[0]!.fetch, 'fetching');
    await assert.rejects(b.open(id), /still being copied out of the guest/);
    await sleep(50);
    assert.deepEqual(typed, ['upload /var/core/core.crashme.12\r']);
    const core = Buffer.from('\x7fELF a core');
    fetcher.filter(1, `upload /var/core/core.crashme.12\r\n${records('/var/core/core.crashme.12', core)}${PROMPT}`);
    await sleep(20);
    const v = b.list()[0]!;
    assert.equal(v.fetch, 'stored');
    assert.equal(v.coreBytes, core.length);
    assert.equal(published.at(-1)![0][0]!.fetch, 'stored', 'the panel hears of it');
    // the program is rebuilt: the stored copy is the one of that Run
    fs.writeFileSync(path.join(programsDir, 'crashme.elf'), 'ELF of a later build');
    // Lanescope restarted: a new backend on the same state folder, a new Run
    const b2 = mk();
    b2.feed(7, 'LaneOS booting\r\n');
    assert.deepEqual(b2.list(), []);
    const earlier = b2.earlier();
    assert.equal(earlier.length, 1);
    assert.equal(earlier[0]!.id, id);
    assert.equal(earlier[0]!.fetch, 'stored');
    await b2.open(id);
    assert.deepEqual(fs.readFileSync(opened[0]!.core), core);
    assert.equal(fs.readFileSync(opened[0]!.elf, 'utf8'), 'ELF of this build');
    assert.deepEqual(opened[0]!.what, { program: 'crashme', pid: 12, signal: 'SIGSEGV at address 0x0' });
    assert.equal((fs.statSync(opened[0]!.core).mode & 0o777).toString(8), '600', 'a core holds process memory: owner only');
    // a crash whose core was not copied says why
    b2.feed(7, 'posix: pid 3 (crashme) killed by SIGSEGV (11) at address 0x0, rip 0x400266: no core file at /var/core/x: ENOSPC\n');
    await assert.rejects(b2.open(b2.list()[0]!.id), /left no core: ENOSPC/);
    await assert.rejects(b2.open('r1-1-p99'), /no crash/);
    fetcher.dispose();
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});
