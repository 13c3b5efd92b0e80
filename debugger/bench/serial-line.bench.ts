/*
 * serial-line.bench.ts — debugging a board over one serial line (issue 18's benchmark); not a test:
 * it prints figures and asserts nothing.
 *
 *   node --import tsx debugger/bench/serial-line.bench.ts [--build os/build] [--baud 115200]
 *        [--kib 64] [--steps 8] [--rounds 2] [--json]
 *
 * One QEMU (TCG, 2 vCPUs) plays the board: LaneOS with `lanes.debug=ttyS0`, COM1 — console, the
 * kernel's gdb stub and trace on one UART — on a Unix socket, and QEMU's own gdbstub on another
 * for the comparison. Between COM1 and Lanescope's side sits a pacer (paced-line.ts) that lets
 * bytes through at --baud / 10 bytes per second each way, as a real 8N1 cable at that rate
 * would (QEMU's UART on a socket has no baud rate). On that line: muxLine → RspClient → Bridge,
 * as the serial target runs it; a client of the bridge stands in for gdb.
 *
 *   1. Memory read throughput: the client reads --kib KiB of kernel text with `m` packets (what
 *      gdb 12/13 send); the bridge reads the kernel with binary `x` (binary-read.ts), or — the
 *      same bridge with the stub's binary-upload hidden — with hex `m`. Figure: bytes of memory per
 *      second ÷ the line rate (baud / 10), goal ≥ 0.8 (hex cannot pass 0.5). Also the same
 *      without pacing: how fast QEMU's emulated UART itself goes (what limits the paced figure if
 *      it is not far above the line rate).
 *   2. Step Over: a real gdb (MI `-exec-next`, as Lanescope's Step Over) through the bridge, in
 *      syscall_dispatch: over the paced serial line to the kernel stub, and on QEMU's gdbstub
 *      (the same bridge code, the same QEMU), rounds alternating; command → *stopped in ms.
 *      gdb attaches to the kernel stub with the kernel stopped, as the IDE's serial session does
 *      (so the bridge offers it range stepping: one `vCont;r` per line).
 *      The IDE's own part of Step Over → editor highlight is the same for both targets and is
 *      measured by app/bench/debug.bench.ts.
 * Prints a table and one BENCH_JSON line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { muxLine, type MuxLine } from '../common/serial-mux.js';
import { Bridge } from '../node/bridge.js';
import { RspClient } from '../node/client.js';
import { GdbMi } from '../node/mi-driver.js';
import { openLine } from '../node/serial-line.js';
import { pacedTransport, type PacedTransport } from './paced-line.js';

const repo = path.resolve(__dirname, '../..');
const argv = process.argv;
const num = (n: string, d: number) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
const str = (n: string, d: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1]! : d);
const BUILD = path.resolve(str('--build', path.join(repo, 'os/build')));
const BAUD = num('--baud', 115200);
const KIB = num('--kib', 64);
const STEPS = num('--steps', 8);
const ROUNDS = num('--rounds', 2);
const LINE_RATE = BAUD / 10;
const FILE = path.join(BUILD, '../kernel/generic/syscall.c');

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function textBase(): bigint {
  const nm = spawnSyncText('nm', [path.join(BUILD, 'kernel/lanes.elf')]);
  const m = /^([0-9a-f]+) T sys_clock$/m.exec(nm);
  if (!m) throw new Error('sys_clock not in the kernel\'s symbols');
  return BigInt('0x' + m[1]) & ~0xffffn;
}

function spawnSyncText(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
}

interface Board { q: ChildProcess; com1: string; qgdb: string; dir: string; log: () => string }

async function boot(): Promise<Board> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-serial-bench-'));
  const com1 = path.join(dir, 'com1.sock');
  const qgdb = path.join(dir, 'qemu-gdb.sock');
  const args = ['-accel', 'tcg', '-cpu', 'max,-arch-capabilities', '-smp', '2', '-m', '256M', '-display', 'none', '-monitor', 'none',
    '-no-reboot', '-kernel', path.join(BUILD, 'kernel/lanes32.elf'), '-initrd', path.join(BUILD, 'initrd.tar'),
    '-append', 'lanes.debug=ttyS0', '-serial', `unix:${com1},server=on,wait=on`,
    '-chardev', `socket,id=qg,path=${qgdb},server=on,wait=off`, '-gdb', 'chardev:qg'];
  const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  q.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  q.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const end = Date.now() + 30000;
  while (!fs.existsSync(com1) && Date.now() < end) await sleep(100);
  if (!fs.existsSync(com1)) throw new Error(`QEMU did not create ${com1}: ${log}`);
  return { q, com1, qgdb, dir, log: () => log };
}

interface Line { paced: PacedTransport; mux: MuxLine; console: () => string }

async function openBoard(b: Board): Promise<Line> {
  const paced = pacedTransport(await openLine(`unix:${b.com1}`), BAUD);
  paced.setRate(Infinity); // boot at QEMU's speed
  let text = '';
  const mux = muxLine(paced, { console: (d) => (text += Buffer.from(d).toString('latin1')) });
  const end = Date.now() + 600000;
  while (!/lanes\$ /.test(text) && Date.now() < end) await sleep(200);
  if (!/lanes\$ /.test(text)) throw new Error(`the board did not reach its prompt: ${text.slice(-500)}`);
  return { paced, mux, console: () => text };
}

/** Reads `kib` KiB as a gdb would (m packets of the bridge's size); bytes of memory per second. */
async function readThroughput(reader: RspClient, target: RspClient, base: bigint, kib: number, binary: boolean, mux: MuxLine): Promise<{ bps: number; wireBytes: number }> {
  if (binary) target.features.set('binary-upload', '+');
  else target.features.delete('binary-upload');
  await reader.request('g'); // the line is quiet (nothing queued from before)
  const rx0 = mux.stats.rxBytes;
  const t0 = performance.now();
  const got = await reader.readMemory(base, kib * 1024);
  const dt = (performance.now() - t0) / 1000;
  if (got.length !== kib * 1024) throw new Error(`read ${got.length} bytes of ${kib * 1024}`);
  const wire = mux.stats.rxBytes - rx0;
  await reader.request('g'); // let the bridge's read-ahead beyond the end drain before the next
  return { bps: got.length / dt, wireBytes: wire };
}

async function stepRound(gdbAddress: string, line: number, out: number[]): Promise<void> {
  const g = await GdbMi.start({ timeoutMs: 180000 });
  try {
    await g.loadFile(path.join(BUILD, 'kernel/lanes.elf'));
    await g.connect(gdbAddress);
    const bp = await g.breakInsert(`${FILE}:${line}`, { hardware: true });
    await g.run('continue', 300000);
    await g.breakDelete(bp.number as string);
    for (let i = 0; i < STEPS; i++) {
      const t0 = performance.now();
      const s = await g.run('next', 120000);
      out.push(performance.now() - t0);
      if (!((s.frame as { file?: string } | undefined)?.file)) break;
    }
    await g.disconnect().catch(() => undefined);
  } finally {
    await g.exit().catch(() => g.kill());
  }
}

/** Lets the target run on, through the bridge: a client resumes it and leaves (a run the bridge
 * started: the next gdb that attaches pauses it transparently, as when the IDE attaches to a
 * running board). */
async function letRun(b: Bridge): Promise<void> {
  const k = await RspClient.connect(`127.0.0.1:${b.port}`, { requestTimeoutMs: 120000 });
  if (k.state === 'stopped') void k.resume().catch(() => undefined);
  await sleep(500);
  k.close();
  await sleep(200);
}

/** Stops the board (a run the bridge started: its stop goes to no client) and waits for it. */
async function stopBoard(t: RspClient): Promise<void> {
  if (t.state !== 'running') return;
  t.interrupt();
  const end = Date.now() + 30000;
  while (t.state === 'running' && Date.now() < end) await sleep(20);
  if ((t.state as string) !== 'stopped') throw new Error('the board did not stop for gdb');
}

async function main(): Promise<void> {
  for (const f of ['kernel/lanes32.elf', 'kernel/lanes.elf', 'initrd.tar']) {
    if (!fs.existsSync(path.join(BUILD, f))) throw new Error(`${path.join(BUILD, f)} is missing: run make -C os first`);
  }
  const stepLine = fs.readFileSync(FILE, 'utf8').split('\n').findIndex((l) => /uint64_t nr = r->rax;/.test(l)) + 1;
  if (stepLine <= 0) throw new Error(`no 'uint64_t nr = r->rax;' line in ${FILE}`);
  const base = textBase();
  const board = await boot();
  let serialBridge: Bridge | undefined;
  let qemuBridge: Bridge | undefined;
  let l: Line | undefined;
  const figs: Record<string, { bps: number; fraction: number; wirePerByte: number }> = {};
  const steps = { serial: [] as number[], qemu: [] as number[] };
  try {
    l = await openBoard(board);
    await sleep(200);
    const target = await RspClient.connect(l.mux.rsp, { requestTimeoutMs: 60000 });
    serialBridge = new Bridge(process.env['SERIAL_BENCH_LOG'] ? { logFile: process.env['SERIAL_BENCH_LOG'] } : {});
    await serialBridge.attachTarget(target);
    await serialBridge.listen(0);
    const reader = await RspClient.connect(`127.0.0.1:${serialBridge.port}`, { requestTimeoutMs: 120000 });
    const stub = target.features.get('binary-upload') === '+';
    if (!stub) console.error('serial bench: the kernel stub does not offer binary-upload: only hex reads are measured');
    for (const paced of argv.includes('--no-read') ? [] : [true, false]) {
      l.paced.setRate(paced ? LINE_RATE : Infinity);
      for (const binary of stub ? [true, false] : [false]) {
        // the same text each time (it is not in any cache of the bridge: the g in between empties them)
        const r = await readThroughput(reader, target, base, KIB, binary, l.mux);
        const key = `${binary ? 'x (binary)' : 'm (hex)'}${paced ? '' : ', unpaced'}`;
        figs[key] = { bps: r.bps, fraction: r.bps / LINE_RATE, wirePerByte: r.wireBytes / (KIB * 1024) };
        console.error(`serial bench: read ${key}: ${(r.bps / 1024).toFixed(2)} KiB/s (${(r.bps / LINE_RATE).toFixed(3)} of the line rate)`);
      }
    }
    if (stub) target.features.set('binary-upload', '+');
    reader.close();
    await letRun(serialBridge);
    // 2. Step Over: the kernel stub over the paced line, then QEMU's stub; rounds alternate
    l.paced.setRate(LINE_RATE);
    for (let r = 0; r < ROUNDS; r++) {
      for (const which of r % 2 ? ['qemu', 'serial'] as const : ['serial', 'qemu'] as const) {
        if (which === 'serial') {
          // as the IDE attaches (its handshake stops the board first): gdb meets a stopped kernel
          await stopBoard(target);
          await stepRound(serialBridge.gdbAddress!, stepLine, steps.serial);
          // the kernel stays stopped when gdb leaves without D: let it run for QEMU's stub
          await letRun(serialBridge);
        } else {
          qemuBridge = await Bridge.start(`unix:${board.qgdb}`, 0);
          await stepRound(qemuBridge.gdbAddress!, stepLine, steps.qemu);
          // QEMU stays stopped after a disconnect without D: detach so the guest runs on
          await qemuBridge.target?.request('D').catch(() => undefined);
          await qemuBridge.close();
          qemuBridge = undefined;
        }
        await sleep(300);
      }
    }
  } catch (e) {
    throw new Error(`${(e as Error).message}\nQEMU (${board.q.exitCode ?? board.q.signalCode ?? 'running'}): ${board.log().slice(-1500)}` +
      `\nconsole: ${l?.console().slice(-1500) ?? ''}`);
  } finally {
    await qemuBridge?.close().catch(() => undefined);
    await serialBridge?.close().catch(() => undefined);
    l?.mux.close();
    board.q.kill('SIGKILL');
    fs.rmSync(board.dir, { recursive: true, force: true });
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const so = {
    serialMedianMs: +median(steps.serial).toFixed(1), qemuMedianMs: +median(steps.qemu).toFixed(1),
    ratio: +(median(steps.serial) / median(steps.qemu)).toFixed(2), serialN: steps.serial.length, qemuN: steps.qemu.length,
  };
  console.log(`serial line bench (QEMU TCG 2 vCPUs plays the board; load ${load}):`);
  console.log(`  memory read through the bridge, ${KIB} KiB of kernel text, the client sending m (as gdb 12/13):`);
  for (const [k, f] of Object.entries(figs)) {
    console.log(`    ${k.padEnd(22)} ${(f.bps / 1024).toFixed(2).padStart(8)} KiB/s  = ${f.fraction.toFixed(3)} of ${BAUD} baud's ${LINE_RATE} bytes/s` +
      `  (${f.wirePerByte.toFixed(3)} line bytes per byte read)`);
  }
  console.log(`  Step Over (-exec-next in syscall_dispatch through the bridge, command → *stopped): kernel stub over the ${BAUD}-baud line ` +
    `median ${so.serialMedianMs} ms (n=${so.serialN}), QEMU's gdbstub median ${so.qemuMedianMs} ms (n=${so.qemuN}), ratio ${so.ratio}`);
  console.log(`BENCH_JSON ${JSON.stringify({ benchmark: 'serial-line', baud: BAUD, kib: KIB, load, read: figs, stepOver: so })}`);
}

main().then(() => process.exit(0), (e: Error) => {
  console.error(`serial line bench: ${e.stack ?? e.message}`);
  process.exit(1);
});
