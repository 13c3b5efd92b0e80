/*
 * step.bench.ts — gdb's source step (`-exec-next`) through the bridge vs straight on QEMU's stub,
 * in the same QEMU and the same run (not a test: it prints figures, it asserts nothing).
 *
 *   node --import tsx debugger/bench/step.bench.ts [--build os/build] [--rounds 3] [--steps 10] [--json]
 *
 * Two identical QEMUs (TCG, 2 vCPUs) boot LaneOS (why two: see main()). Rounds alternate three ways of connecting a real gdb (a new
 * gdb process each time, as Lanescope starts one): DIRECT to QEMU's gdbstub, through a Bridge with
 * range stepping (the default: gdb sends one `vCont;r` per line and the bridge single-steps QEMU
 * itself), and through a Bridge without it (gdb single-steps each instruction across both hops, as
 * before). Each round: a hardware breakpoint on `uint64_t nr = r->rax;` in syscall_dispatch,
 * continue to it, delete it, then up to --steps `-exec-next` while the stop is in source, each timed
 * around the MI command (command → *stopped). Load on the machine hits all three alike; the ratios
 * of medians (bridge / direct) are the figures to quote. Also per step: packets the bridge sent to
 * QEMU and instructions it stepped itself (--log: counted from the packet log, which costs time too).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Bridge } from '../node/bridge.js';
import { GdbMi } from '../node/mi-driver.js';
import { startQemu } from '../node/qemu.js';

const repo = path.resolve(__dirname, '../..');
const argv = process.argv;
const num = (n: string, d: number) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
const str = (n: string, d: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1]! : d);
const ROUNDS = num('--rounds', 3);
const STEPS = num('--steps', 10);
const BUILD = path.resolve(str('--build', path.join(repo, 'os/build')));
const FILE = path.join(BUILD, '../kernel/generic/syscall.c'); // the source the kernel in BUILD was built from

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const pct = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))] ?? NaN;

type Variant = 'direct' | 'bridge-range' | 'bridge-no-range';
interface Figures { ms: number[]; targetPackets: number[]; clientPackets: number[]; stepped: number[] }

async function round(qEndpoint: string, qPort: number, v: Variant, line: number, f: Figures): Promise<void> {
  if (argv.includes('--verbose')) console.error(`round: ${v}`);
  const bridge = v === 'direct' ? undefined : await Bridge.start(qEndpoint, 0, { rangeStepping: v === 'bridge-range', ...(process.env['STEP_BENCH_LOG'] ? { logFile: process.env['STEP_BENCH_LOG'] } : {}) });
  // Packets to QEMU: what the bridge forwarded plus its own steps and reads (no 'packet' listener:
  // logging every packet is a cost of its own, measured with --log).
  let toTarget = 0;
  let fromClient = 0;
  if (argv.includes('--log')) {
    bridge?.on('packet', (e: { dir: string; bytes: string }) => {
      if (e.dir === 'bridge->target') toTarget += (e.bytes.match(/\$/g) ?? []).length;
      if (e.dir === 'client->bridge') fromClient += (e.bytes.match(/\$/g) ?? []).length;
    });
  }
  const g = await GdbMi.start({ timeoutMs: 120000 });
  try {
    await g.loadFile(path.join(BUILD, 'kernel/lanes.elf'));
    await g.connect(bridge ? `127.0.0.1:${bridge.port}` : `127.0.0.1:${qPort}`);
    const b = await g.breakInsert(`${FILE}:${line}`, { hardware: true });
    await g.run('continue', 300000);
    await g.breakDelete(b.number as string);
    for (let i = 0; i < STEPS; i++) {
      const p0 = toTarget;
      const c0 = fromClient;
      const s0 = bridge?.stats.rangeInstructions ?? 0;
      const t0 = performance.now();
      const s = await g.run('next', 60000);
      f.ms.push(performance.now() - t0);
      if (bridge) {
        f.targetPackets.push(toTarget - p0);
        f.clientPackets.push(fromClient - c0);
        f.stepped.push(bridge.stats.rangeInstructions - s0);
      }
      if (!((s.frame as { file?: string } | undefined)?.file)) break;
    }
    // Disconnect without D: QEMU stays stopped, so the next connection gets no stop notification
    // (QEMU sends one, unasked, to a client that connects while the guest runs).
    await g.disconnect().catch(() => undefined);
  } finally {
    await g.exit().catch(() => g.kill());
    await bridge?.close();
  }
}

async function main(): Promise<void> {
  const line = fs.readFileSync(FILE, 'utf8').split('\n').findIndex((l) => /uint64_t nr = r->rax;/.test(l)) + 1;
  if (line <= 0) throw new Error(`no 'uint64_t nr = r->rax;' line in ${FILE}`);
  for (const f of ['kernel/lanes32.elf', 'kernel/lanes.elf', 'initrd.tar']) {
    if (!fs.existsSync(path.join(BUILD, f))) throw new Error(`${path.join(BUILD, f)} is missing: run make -C os first`);
  }
  // Two identical guests: one for gdb straight on the stub, one behind the bridges. A gdb that
  // connects to QEMU directly negotiates multiprocess, and QEMU then writes thread ids as p1.1 for
  // every later connection too — which the bridge's gdb (no multiprocess) would take for a new
  // process at each stop (a thread-list refresh per step). Lanescope never connects gdb directly.
  const boot = () => startQemu({ kernel: path.join(BUILD, 'kernel/lanes32.elf'), initrd: path.join(BUILD, 'initrd.tar'), memory: '256M', smp: 2, accel: 'tcg' });
  const q = await boot();
  const qb = await boot();
  const variants: Variant[] = ['direct', 'bridge-range', 'bridge-no-range'];
  const figs = Object.fromEntries(variants.map((v) => [v, { ms: [], targetPackets: [], clientPackets: [], stepped: [] }])) as unknown as Record<Variant, Figures>;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of r % 2 ? [...variants].reverse() : variants) {
        const guest = v === 'direct' ? q : qb;
        await round(guest.endpoint, guest.port, v, line, figs[v]);
      }
    }
  } finally {
    await q.kill();
    await qb.kill();
  }
  const d = median(figs.direct.ms);
  const out = Object.fromEntries(variants.map((v) => {
    const f = figs[v];
    return [v, {
      steps: f.ms.length, medianMs: +median(f.ms).toFixed(2), p90Ms: +pct(f.ms, 0.9).toFixed(2), maxMs: +Math.max(...f.ms).toFixed(2),
      ratioToDirect: +(median(f.ms) / d).toFixed(2),
      ...(f.targetPackets.length && argv.includes('--log')
        ? { gdbPacketsPerStep: median(f.clientPackets), targetPacketsPerStep: median(f.targetPackets), instructionsSteppedByBridgePerStep: median(f.stepped) } : {}),
    }];
  }));
  if (argv.includes('--json')) {
    console.log(JSON.stringify({ benchmark: 'step', rounds: ROUNDS, ...out }));
    return;
  }
  console.log(`gdb -exec-next in syscall_dispatch, QEMU TCG 2 vCPUs, ${ROUNDS} alternating rounds (command → *stopped, ms):`);
  for (const v of variants) {
    const o = out[v] as Record<string, number>;
    console.log(`  ${v.padEnd(16)} n=${String(o['steps']).padStart(3)}  median ${String(o['medianMs']).padStart(7)}  p90 ${String(o['p90Ms']).padStart(7)}  max ${String(o['maxMs']).padStart(7)}  ` +
      `ratio to direct ${o['ratioToDirect']}` + (o['targetPacketsPerStep'] !== undefined
        ? `  per step (medians): gdb's packets ${o['gdbPacketsPerStep']}, packets to QEMU ${o['targetPacketsPerStep']}, instructions stepped by the bridge ${o['instructionsSteppedByBridgePerStep']}` : ''));
  }
  console.log(`BENCH_JSON ${JSON.stringify({ benchmark: 'step', rounds: ROUNDS, ...out })}`);
}

main().catch((e: Error) => {
  console.error(`step bench: ${e.stack ?? e.message}`);
  process.exit(1);
});
