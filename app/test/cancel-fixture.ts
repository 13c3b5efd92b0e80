/*
 * Cancellation view fixtures made with the trace encoders: visualizers' synthetic cancellation
 * traces (visualizers/cancel/synth.ts: the CANCEL-TRACE records as libc, the kernel, posix and
 * the servers write them, with the IPC records of each request) written record by record with
 * debugger/common/trace/encode.ts, so they decode exactly like a Run's recording.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefTable } from '../../debugger/common/trace/defs.js';
import { concat, encodeRecord } from '../../debugger/common/trace/encode.js';
import { makeHeader } from '../../debugger/common/trace/flight.js';
import type { SynthEvent } from '../../visualizers/cancel/synth.js';
import { catSlowCtrlC } from '../../visualizers/cancel/synth.js';

const defs = new DefTable();
const P48 = 2 ** 48;

/** Encode synthetic events as trace records (1 tick = 1 ns); ids keep their (cpu, seq). */
export function encodeSynth(events: SynthEvent[], ncpus = 2): Uint8Array {
  const parts: Uint8Array[] = [makeHeader(1_000_000_000n, 0n, ncpus)];
  for (const e of events) {
    const seq = Number(e.id) - e.cpu * P48;
    parts.push(encodeRecord(defs, e.name, { cpu: e.cpu, tsc: Math.round(e.ns), seq }, e.fields));
  }
  return concat(parts);
}

/** `cat /dev/slow` + Ctrl-C as a saved trace file in a temp dir. */
export function catSlowTraceFile(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cancelview-'))): { events: SynthEvent[]; file: string; bytes: Uint8Array } {
  const events = catSlowCtrlC();
  const bytes = encodeSynth(events);
  const file = path.join(dir, 'cat-slow.ltrace');
  fs.writeFileSync(file, bytes);
  return { events, file, bytes };
}
