/*
 * cli.ts — the trace command line.
 *
 *   node --import tsx debugger/node/trace/cli.ts record (--serial SOCK|FILE | --shm FILE) --out F [--seconds N]
 *   node --import tsx debugger/node/trace/cli.ts print F [--limit N] [--class sched,ipc] [--stats]
 *   node --import tsx debugger/node/trace/cli.ts export F --perfetto OUT.pftrace [--abi os/build/abi.json]
 *   node --import tsx debugger/node/trace/cli.ts flight --target HOST:PORT --elf lanes.elf --out F
 *   node --import tsx debugger/node/trace/cli.ts qemu-args [--shm FILE] [--serial-socket SOCK]
 *
 * F is a trace file (records; what `record` and `flight` write) or a raw COM2 capture
 * (-serial file:F); the format is detected. Exit status 0, or 1 with a message naming what
 * was wrong (missing file, bad arguments, unreachable target).
 */
import * as fs from 'node:fs';
import { exportPerfetto, syscallNamesFromAbi } from '../../common/trace/perfetto.js';
import { formatEvent } from '../../common/trace/text.js';
import { RspClient } from '../client.js';
import { readFlightRecorder } from './flight.js';
import { loadTrace, qemuTraceArgs, TraceSession } from './session.js';

function usage(msg?: string): never {
  if (msg) console.error(`trace: ${msg}`);
  console.error('usage: trace record (--serial PATH | --shm FILE) --out FILE [--seconds N]\n' +
    '       trace print FILE [--limit N] [--class CLASSES] [--stats]\n' +
    '       trace export FILE --perfetto OUT [--abi os/build/abi.json]\n' +
    '       trace flight --target HOST:PORT --elf KERNEL.elf --out FILE\n' +
    '       trace qemu-args [--shm FILE] [--serial-socket PATH]');
  process.exit(msg ? 1 : 0);
}

function opt(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) usage(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function flag(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

function statsLine(s: object): string {
  return Object.entries(s).map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') usage();
  if (cmd === 'record') {
    const serial = opt(args, '--serial');
    const shm = opt(args, '--shm');
    const out = opt(args, '--out') ?? usage('record needs --out FILE');
    const secs = Number(opt(args, '--seconds') ?? '0');
    if (!serial === !shm) usage('record needs exactly one of --serial PATH or --shm FILE');
    const s = new TraceSession({ serial, shm, out });
    s.on('status', (m) => console.error(`trace: ${m}`));
    s.on('stats', (st) => console.error(`trace: ${st.eventsPerSec} events/s, ${st.events} events, ${st.lost} lost, ${st.corruptFrames} corrupt frames`));
    s.start();
    const finish = async () => {
      const st = await s.stop();
      console.log(statsLine({ events: st.events, lost: st.lost, transportLost: st.transportLost, corruptFrames: st.corruptFrames, missingFrames: st.missingFrames, corruptBytes: st.corruptBytes, unknown: st.unknown, recordedBytes: st.recordedBytes, out }));
      process.exit(0);
    };
    if (secs > 0) setTimeout(finish, secs * 1000);
    s.on('end', finish);
    process.on('SIGINT', finish);
    process.on('SIGTERM', finish);
    return;
  }
  if (cmd === 'print') {
    const limit = Number(opt(args, '--limit') ?? 'Infinity');
    const classes = opt(args, '--class')?.split(',');
    const onlyStats = flag(args, '--stats');
    const file = args[0] ?? usage('print needs a FILE');
    const t = loadTrace(file);
    if (!onlyStats) {
      let n = 0;
      for (const e of t.events) {
        if (classes && !classes.includes(e.cls)) continue;
        if (n++ >= limit) break;
        console.log(formatEvent(e, t.decoder.defs));
      }
    }
    const counts: Record<string, number> = {};
    for (const e of t.events) counts[e.name] = (counts[e.name] ?? 0) + 1;
    console.error(`trace: ${t.format} ${statsLine(t.stats)}`);
    console.error(`trace: by event: ${statsLine(counts)}`);
    return;
  }
  if (cmd === 'export') {
    const outp = opt(args, '--perfetto') ?? usage('export needs --perfetto OUT');
    // syscall names for the slices, from the generated ABI (os/build/abi.json, there when LaneOS is built)
    const abiOpt = opt(args, '--abi');
    if (abiOpt && !(fs.existsSync(abiOpt) && fs.statSync(abiOpt).isFile())) usage(`--abi ${abiOpt}: no such file (the generated ABI: os/build/abi.json)`);
    const abi = abiOpt ?? 'os/build/abi.json';
    let syscallNames: Record<number, string> | undefined;
    if (fs.existsSync(abi) && fs.statSync(abi).isFile()) syscallNames = syscallNamesFromAbi(JSON.parse(fs.readFileSync(abi, 'utf8')));
    const file = args[0] ?? usage('export needs a FILE');
    const t = loadTrace(file);
    const pb = exportPerfetto(t.events, { defs: t.decoder.defs, syscallNames });
    fs.writeFileSync(outp, pb);
    console.log(`trace: wrote ${outp} (${pb.length} bytes, ${t.events.length} events); open it in https://ui.perfetto.dev`);
    return;
  }
  if (cmd === 'flight') {
    const target = opt(args, '--target') ?? usage('flight needs --target HOST:PORT');
    const elf = opt(args, '--elf') ?? usage('flight needs --elf KERNEL.elf');
    const out = opt(args, '--out') ?? usage('flight needs --out FILE');
    let elfBytes: Uint8Array;
    try {
      elfBytes = new Uint8Array(fs.readFileSync(elf));
    } catch (e) {
      usage(`cannot read ${elf}: ${(e as Error).message}`);
    }
    const c = await RspClient.connect(target);
    try {
      const r = await readFlightRecorder(c, elfBytes);
      fs.writeFileSync(out, r.file);
      for (const ring of r.rings) console.log(`cpu${ring.cpu}: ${ring.records} records (head ${ring.head}, keep ${ring.keep}, dropped ${ring.droppedTotal})`);
      console.log(`trace: wrote ${out} (${r.file.length} bytes)`);
    } finally {
      c.close();
    }
    return;
  }
  if (cmd === 'qemu-args') {
    const shm = opt(args, '--shm');
    const sock = opt(args, '--serial-socket');
    console.log(qemuTraceArgs({ shm, serialSocket: sock }).join(' '));
    return;
  }
  usage(`unknown command '${cmd}'`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`trace: ${(e as Error).message}`);
  process.exit(1);
});
