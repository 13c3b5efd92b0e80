/*
 * bridge-throughput.ts — memory read throughput through the bridge vs directly
 * from QEMU's gdbstub, measured in the same run (goal, issue 19: ratio ≥ 0.95).
 *
 *   node --import tsx debugger/bench/bridge-throughput.ts [--mib N] [--rounds R] [--json]
 *
 * The reader is real gdb (a separate process, as in Lanescope): `dump binary memory`
 * of N MiB of guest RAM, timed around the MI command. Rounds alternate between gdb
 * connected straight to QEMU and gdb connected to a Bridge in this process, so load
 * from other processes on the machine hits both alike; medians are compared.
 * A second figure uses the in-process RspClient (bridge CPU and client CPU then share
 * one thread, a pessimistic setup).
 */
import { Bridge } from '../node/bridge.js';
import { RspClient } from '../node/client.js';
import { GdbMi } from '../node/mi-driver.js';
import { startQemu } from '../node/qemu.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function gdbDump(hostPort: string, mib: number): Promise<number> {
  const g = await GdbMi.start();
  try {
    await g.connect(hostPort);
    const end = 0x100000 + (mib << 20);
    const t0 = process.hrtime.bigint();
    await g.console(`dump binary memory /dev/null 0x100000 0x${end.toString(16)}`);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    await g.disconnect();
    return s;
  } finally {
    await g.exit();
  }
}

async function clientReads(c: RspClient, bytes: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let off = 0; off < bytes; off += 0x10000) await c.readMemory(0x100000n + BigInt(off), 0x10000);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const mib = arg('--mib', 4);
  const rounds = arg('--rounds', 5);
  const q = await startQemu({ memory: '128M' });
  const gd: number[] = [];
  const gb: number[] = [];
  const cd: number[] = [];
  const cb: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const direct = async () => {
        gd.push(await gdbDump(`127.0.0.1:${q.port}`, mib));
        await new Promise((res) => setTimeout(res, 100));
      };
      const bridged = async () => {
        const b = await Bridge.start(q.endpoint, 0);
        gb.push(await gdbDump(`127.0.0.1:${b.port}`, mib));
        // In-process figures on the same connections.
        const c = await RspClient.connect(`tcp:127.0.0.1:${b.port}`);
        cb.push(await clientReads(c, 1 << 20));
        cd.push(await clientReads(b.target!, 1 << 20));
        c.close();
        await b.close();
        await new Promise((res) => setTimeout(res, 100));
      };
      if (r % 2 === 0) { await direct(); await bridged(); } else { await bridged(); await direct(); }
    }
  } finally {
    await q.kill();
  }
  const d = mib / median(gd);
  const b = mib / median(gb);
  const result = {
    benchmark: 'bridge-memory-read-throughput',
    reader: 'gdb 13 dump binary memory', mibPerRound: mib, rounds,
    directMiBps: +d.toFixed(2), bridgeMiBps: +b.toFixed(2), ratio: +(b / d).toFixed(3), goal: 0.95,
    inProcessClient: {
      directMiBps: +(1 / median(cd)).toFixed(2), bridgeMiBps: +(1 / median(cb)).toFixed(2),
      ratio: +(median(cd) / median(cb)).toFixed(3),
    },
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`memory read by gdb (dump binary memory, ${mib} MiB), ${rounds} alternating rounds, medians:`);
    console.log(`  gdb → QEMU gdbstub          : ${result.directMiBps} MiB/s`);
    console.log(`  gdb → bridge → QEMU gdbstub : ${result.bridgeMiBps} MiB/s`);
    console.log(`  ratio bridge/direct         : ${result.ratio} (goal ≥ ${result.goal})`);
    console.log(`in-process RspClient (client and bridge share one thread), 1 MiB:`);
    console.log(`  direct ${result.inProcessClient.directMiBps} MiB/s, via bridge ${result.inProcessClient.bridgeMiBps} MiB/s, ratio ${result.inProcessClient.ratio}`);
  }
}

main().catch((e: Error) => {
  console.error(`bridge-throughput: ${e.message}`);
  process.exit(1);
});
