/*
 * A kernel panic shows its last events from the flight recorder, read from the stopped guest's
 * memory (app/node/panic.ts readPanicFlight: trace_rings through a gdbstub, debugger/node/trace/
 * flight.ts), with real QEMU (TCG) and LaneOS booted with `trace.crash` (a deliberate panic once
 * the shell is up):
 *   1. no trace transport at all (no ivshmem, no COM2): the PanicBackend fed the console reads the
 *      rings through QEMU's gdbstub — the panic's own log record is the last event of its CPU;
 *   2. a plain Run through the Backend (no qemu.gdb.enabled): QEMU gets Lanescope's private
 *      postmortem stub (a Unix socket, nothing on TCP) and the `panic` event carries the flight
 *      recorder's events.
 * Skipped with the reason when LaneOS is not built.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { PanicView } from '../../common/panic.js';
import { PanicBackend, readPanicFlight } from '../../node/panic.js';
import { findExecutable } from '../../node/qemu.js';
import { startQemu } from '../../../debugger/node/qemu.js';
import { driveBackend } from '../backend-harness.js';

const OS = path.resolve(import.meta.dirname, '../../../os');
const BUILD = path.join(OS, 'build');
const KERNEL64 = path.join(BUILD, 'kernel/lanes.elf');
const skip = !fs.existsSync(path.join(BUILD, 'kernel/lanes32.elf')) || !fs.existsSync(KERNEL64) ? 'LaneOS is not built (make -C os)'
  : !findExecutable('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkFlight(p: PanicView): void {
  assert.ok(p.flight, `the flight recorder was read (${p.flightError ?? ''})`);
  assert.ok(p.flight.records > 100, `the rings hold the boot (${p.flight.records} records)`);
  const mine = p.flight.cpus.find((c) => c.cpu === p.cpu);
  assert.ok(mine && mine.events.length > 0, `events of the panicking cpu${p.cpu}`);
  assert.match(mine.events.at(-1)!, /log .*deliberate panic/, 'the panic message is its CPU\'s last event');
  assert.ok(p.flight.cpus.every((c) => c.events.length <= 8));
}

test('no trace transport: the panic\'s last events come from the rings in the guest\'s memory', { skip, timeout: 240000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panic-flight-'));
  const sock = path.join(dir, 'gdb.sock');
  const q = await startQemu({ kernel: path.join(BUILD, 'kernel/lanes32.elf'), initrd: path.join(BUILD, 'initrd.tar'), smp: 2, memory: '256M', accel: 'tcg', append: 'trace.crash', gdbUnixSocket: sock });
  try {
    // (the gdbstub helper starts QEMU held at reset: a gdb resumes it, then leaves)
    const { RspClient } = await import('../../../debugger/node/client.js');
    const c = await RspClient.connect(q.endpoint);
    void c.resume();
    await sleep(300);
    c.close();
    const seen: (PanicView | null)[] = [];
    const b = new PanicBackend(() => ({ kernelElf: KERNEL64, root: OS }), (p) => seen.push(p && structuredClone(p)), (elf) => readPanicFlight(sock, elf));
    let fed = 0;
    const end = Date.now() + 200000;
    while (!seen.some((p) => p?.flight || p?.flightError)) {
      if (Date.now() > end) throw new Error(`no panic with its flight recorder: ${q.output().slice(-1500)}`);
      const out = q.output();
      if (out.length > fed) {
        b.feed(1, out.slice(fed));
        fed = out.length;
      }
      await sleep(200);
    }
    const p = seen.at(-1)!;
    assert.match(p.message, /trace\.crash/);
    checkFlight(p);
  } finally {
    await q.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a plain Run: Lanescope\'s private postmortem stub reads the flight recorder after a panic', { skip, timeout: 240000 }, async () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-panic-')));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-'));
  fs.mkdirSync(path.join(root, 'build/kernel'), { recursive: true });
  for (const f of ['kernel/lanes32.elf', 'kernel/lanes.elf', 'initrd.tar']) fs.copyFileSync(path.join(BUILD, f), path.join(root, 'build', f));
  fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({
    name: 'panic', build: { command: null },
    qemu: { kernel: 'build/kernel/lanes32.elf', initrd: 'build/initrd.tar', accel: 'tcg', cpus: 2, memory: '256M', append: 'trace.crash' },
    debug: { elf: 'build/kernel/lanes.elf' },
  }));
  const { request: call, events, close } = driveBackend(root, { trust: true, stateDir });
  try {
    assert.equal((await call('run.start')).ok, true);
    const end = Date.now() + 200000;
    const panics = () => events.filter((e) => e.event === 'panic').map((e) => (e.payload as { panic: PanicView | null }).panic);
    while (!panics().some((p) => p?.flight || p?.flightError)) {
      if (Date.now() > end) throw new Error(`no panic with its flight recorder; notices ${JSON.stringify(events.filter((e) => e.event === 'notice').map((e) => e.payload))}`);
      await sleep(200);
    }
    const argv = events.filter((e) => e.event === 'build.output').map((e) => (e.payload as { data: string }).data).join('').split('\r\n').find((l) => l.startsWith('$ ') && l.includes('qemu'))!;
    assert.match(argv, /-chardev socket,id=lanescope-pm,path=\S+\/pm-\d+\.sock,server=on,wait=off -gdb chardev:lanescope-pm/, 'a private postmortem stub');
    assert.doesNotMatch(argv, /tcp:/);
    checkFlight(panics().at(-1)!);
  } finally {
    await close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});
