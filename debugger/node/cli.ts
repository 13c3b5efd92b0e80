/*
 * cli.ts — command line for the debugger pieces.
 *
 *   node --import tsx debugger/node/cli.ts bridge --target tcp:127.0.0.1:1234 --listen 2345 [--log FILE] [--quiet]
 *   node --import tsx debugger/node/cli.ts read --target tcp:127.0.0.1:1234 ADDR LEN      (hex dump via the client)
 *   node --import tsx debugger/node/cli.ts symbolize ELF ADDR…
 *
 * The bridge prints one line per event (connections, runs, stops, errors) and
 * keeps running until SIGINT/SIGTERM; a target that goes away is reported and the
 * process exits with status 0 when the guest exited, 1 on errors.
 */
import * as fs from 'node:fs';
import { Bridge } from './bridge.js';
import { RspClient } from './client.js';
import { parseElf, Symbolizer } from '../common/elf.js';

function usage(msg?: string): never {
  if (msg) console.error(`error: ${msg}`);
  console.error(`usage:
  cli.ts bridge --target tcp:HOST:PORT|unix:PATH [--listen PORT] [--log FILE] [--quiet]
  cli.ts read --target SPEC ADDR LEN
  cli.ts symbolize ELF ADDR...`);
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
