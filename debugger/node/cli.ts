/*
 * cli.ts — command line for the debugger pieces.
 *
 *   node --import tsx debugger/node/cli.ts bridge --target tcp:127.0.0.1:1234 --listen 2345 [--log FILE] [--quiet]
 *   node --import tsx debugger/node/cli.ts read --target tcp:127.0.0.1:1234 ADDR LEN      (hex dump via the client)
 *   node --import tsx debugger/node/cli.ts symbolize ELF ADDR…
 *   node --import tsx debugger/node/cli.ts serial --line /dev/ttyUSB0|unix:PATH|tcp:H:P [--baud N]
 *        [--listen PORT | --unix PATH] [--trace FILE]
 *     one serial line to LaneOS with lanes.debug=ttyS0 (common/serial-mux.ts): the console on
 *     stdout and stdin, a bridge for gdb (`target remote` the printed address; attaching stops
 *     the kernel), and with --trace the raw trace frames appended to FILE (decode with the trace
 *     CLI's --serial-file). One line per event on stderr, "[serial] …".
 *
 * The bridge prints one line per event (connections, runs, stops, errors) and
 * keeps running until SIGINT/SIGTERM; a target that goes away is reported and the
 * process exits with status 0 when the guest exited, 1 on errors.
 */
import * as fs from 'node:fs';
import { Bridge } from './bridge.js';
import { RspClient } from './client.js';
import { parseElf, Symbolizer } from '../common/elf.js';
import { muxLine } from '../common/serial-mux.js';
import { openLine } from './serial-line.js';

function usage(msg?: string): never {
  if (msg) console.error(`error: ${msg}`);
  console.error(`usage:
  cli.ts bridge --target tcp:HOST:PORT|unix:PATH [--listen PORT] [--log FILE] [--quiet]
  cli.ts read --target SPEC ADDR LEN
  cli.ts symbolize ELF ADDR...
  cli.ts serial --line DEVICE|unix:PATH|tcp:HOST:PORT [--baud N] [--listen PORT | --unix PATH] [--trace FILE] [--log FILE]`);
  process.exit(2);
}

function opt(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) usage(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (cmd === 'bridge') {
    const target = opt(args, '--target') ?? usage('--target is required');
    const listenText = opt(args, '--listen') ?? '0';
    const logFile = opt(args, '--log');
    const quiet = args.includes('--quiet');
    const port = Number(listenText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--listen "${listenText}" is not a port`);
    const b = await Bridge.start(target, port, logFile ? { logFile } : {});
    const say = (s: string) => console.log(`[bridge] ${s}`);
    say(`target ${target} (${b.target!.lastStop?.raw ?? 'state unknown'}); gdb: target remote 127.0.0.1:${b.port}`);
    b.on('client-connected', (e) => say(`client #${e.id} connected from ${e.remote}`));
    b.on('client-disconnected', (e) => say(`client #${e.id} gone: ${e.reason}`));
    if (!quiet) {
      b.on('running', (e) => say(`target running (${e.packet}${e.client ? ` from #${e.client}` : ', resumed after pause'})`));
      b.on('joined', (e) => say(`client #${e.client} joined the run`));
      b.on('stop', (e) => say(`target stopped: ${e.stop.raw}; told ${e.notified.map((n: number) => '#' + n).join(',') || 'nobody'}` +
        (e.missed.length ? `; idle: ${e.missed.map((n: number) => '#' + n).join(',')}` : '')));
    }
    b.on('protocol-error', (e) => say(`protocol error (${e.side}): ${e.message}`));
    b.on('hook-error', (e) => say(e.message));
    b.on('target-closed', async (e) => {
      say(`target closed: ${e.message}`);
      await b.close();
      process.exit(e.whileRunning ? 0 : 1);
    });
    const stop = async () => { await b.close(); process.exit(0); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  if (cmd === 'serial') {
    const spec = opt(args, '--line') ?? usage('--line is required');
    const baud = Number(opt(args, '--baud') ?? '115200');
    if (!Number.isInteger(baud) || baud <= 0) usage('--baud must be a positive integer');
    const listenText = opt(args, '--listen');
    const unix = opt(args, '--unix');
    const traceFile = opt(args, '--trace');
    const logFile = opt(args, '--log');
    const say = (s: string) => process.stderr.write(`[serial] ${s}\n`);
    const line = await openLine(spec, baud);
    const trace = traceFile ? fs.createWriteStream(traceFile, { flags: 'a' }) : undefined;
    const live: { bridge?: Bridge } = {};
    const mux = muxLine(line, {
      console: (b) => process.stdout.write(b),
      trace: (f) => trace?.write(f),
      closed: (e) => {
        say(`line closed${e ? `: ${e.message}` : ''}`);
        if (live.bridge) void live.bridge.close().finally(() => process.exit(0));
        else process.exit(0);
      },
    });
    say(`line ${line.description}: console on stdout`);
    process.stdin.on('data', (d: Buffer) => mux.writeConsole(new Uint8Array(d)));
    process.stdin.on('end', () => say('stdin closed: no more console input'));
    // A unit sent before the board programmed its UART can be lost: wait until it speaks.
    if (!(await mux.heard(60000))) say('nothing from the line for 60 s; attaching anyway');
    await new Promise((r) => setTimeout(r, 200));
    if (trace) mux.setTrace(true);
    const b = new Bridge(logFile ? { logFile } : {});
    let client: RspClient | undefined;
    for (let attempt = 1; !client; attempt++) {
      try {
        client = await RspClient.connect(attempt === 1 ? mux.rsp : mux.openRsp(), { requestTimeoutMs: 10000 });
      } catch (e) {
        if (attempt >= 3) throw new Error(`no answer from the kernel's stub on ${spec}: ${(e as Error).message} ` +
          '(booted with lanes.debug=ttyS0?)');
        say(`attach attempt ${attempt}: ${(e as Error).message}; again`);
      }
    }
    await b.attachTarget(client);
    if (unix) await b.server.listenUnix(unix);
    else await b.listen(Number(listenText ?? '0'));
    live.bridge = b;
    say(`kernel stopped (${b.target!.lastStop?.raw ?? '?'}); gdb: target remote ${b.gdbAddress}`);
    b.on('client-connected', (e) => say(`client #${e.id} connected`));
    b.on('client-disconnected', (e) => {
      say(`client #${e.id} gone: ${e.reason}`);
      // the last gdb left: the board runs on (the next gdb that attaches stops it again)
      if (!b.clientIds.length && b.target?.state === 'stopped') {
        say('no gdb attached: the kernel runs on');
        setImmediate(() => b.resumeTarget()); // behind the removal of that gdb's breakpoints
      }
    });
    b.on('protocol-error', (e) => say(`protocol error (${e.side}): ${e.message}`));
    const stats = setInterval(() => {
      const s = mux.stats;
      say(`stats rx ${s.rxBytes} tx ${s.txBytes} console ${s.consoleBytes} units ${s.rspUnits} frames ${s.traceFrames} ` +
        `naks ${s.naksFromTarget}/${s.naksToTarget} dropped ${s.dropped}`);
    }, 5000);
    stats.unref();
    const stop = async () => { await b.close(); mux.close(); trace?.end(); process.exit(0); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  if (cmd === 'read') {
    const target = opt(args, '--target') ?? usage('--target is required');
    const [addr, len] = args;
    if (!addr || !len) usage('read needs ADDR and LEN');
    const c = await RspClient.connect(target);
    const bytes = await c.readMemory(BigInt(addr), Number(len));
    for (let i = 0; i < bytes.length; i += 16) {
      console.log((BigInt(addr) + BigInt(i)).toString(16).padStart(16, '0') + '  ' + Buffer.from(bytes.subarray(i, i + 16)).toString('hex').replace(/(..)/g, '$1 '));
    }
    c.close();
    return;
  }
  if (cmd === 'symbolize') {
    const [file, ...addrs] = args;
    if (!file) usage('symbolize needs an ELF file');
    const elf = parseElf(new Uint8Array(fs.readFileSync(file)));
    const sym = new Symbolizer(elf);
    for (const a of addrs) {
      const r = sym.symbolize(BigInt(a));
      const line = sym.lineFor(BigInt(a));
      console.log(`${a}: ${r ? `${r.name}+0x${r.offset.toString(16)}` : '??'}${line ? ` at ${line.file}:${line.line}` : ''}`);
    }
    return;
  }
  usage(cmd ? `unknown command "${cmd}"` : undefined);
}

main(process.argv.slice(2)).catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
