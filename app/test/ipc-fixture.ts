/*
 * IPC view fixtures made with the trace encoders: visualizers' IPC simulator (what LaneOS's kernel
 * records for ipc-demo) written record by record with debugger/common/trace/encode.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefTable } from '../../debugger/common/trace/defs.js';
import { concat, encodeRecord } from '../../debugger/common/trace/encode.js';
import { makeHeader } from '../../debugger/common/trace/flight.js';
import type { IpcEvent } from '../../visualizers/ipc/events.js';
import { IpcSim, demoScenario } from '../../visualizers/ipc/sim.js';

const defs = new DefTable();
const P48 = 2 ** 48;

/** Encode IPC view events as trace records (1 tick = 1 ns), with scheduler noise in between. */
export function encodeEvents(events: IpcEvent[], ncpus = 2): Uint8Array {
  const parts: Uint8Array[] = [makeHeader(1_000_000_000n, 0n, ncpus)];
  const other = new Array(ncpus).fill(1e9);
  const big = (v: number | bigint) => BigInt(v);
  for (const e of events) {
    const idOf = 'id' in e ? Number(e.id) : 0;
    const cpu = 'cpu' in e ? e.cpu : 0;
    const h = { cpu, tsc: Math.round(e.ns), seq: idOf ? idOf - cpu * P48 : other[cpu]++ };
    switch (e.kind) {
      case 'process': parts.push(encodeRecord(defs, 'proc_create', h, { pid: e.pid, parent: e.parent, name: e.name })); break;
      case 'process_exit': parts.push(encodeRecord(defs, 'proc_exit', h, { pid: e.pid, state: 0, code: e.code })); break;
      case 'thread': parts.push(encodeRecord(defs, 'thread_create', h, { tid: e.tid, pid: e.pid, home_cpu: 0, kernel: 0, name: e.name })); break;
      case 'submit': {
        let packed = 0n;
        Array.from(e.actions).forEach((a, i) => (packed |= BigInt(a) << BigInt(4 * i)));
        parts.push(encodeRecord(defs, 'ipc_submit', h, { stream: big(e.stream), conversation: big(e.conversation), tag: big(e.tag), bytes: big(e.bytes), actions: packed, pid: e.pid, tid: e.tid, lane: e.lane, nactions: e.actions.length, ret_addr: big(e.retAddr), payload: e.payload ?? new Uint8Array(0) }));
        // noise the view must skip
        parts.push(encodeRecord(defs, 'ctx_switch', { cpu, tsc: h.tsc, seq: other[cpu]++ }, { prev_tid: e.tid, prev_pid: e.pid, next_tid: 0, next_pid: 0, reason: 1, prev_state: 2 }));
        break;
      }
      case 'match': parts.push(encodeRecord(defs, 'ipc_match', h, { stream: big(e.stream), conversation: big(e.conversation), cause: big(e.cause), other: big(e.other), child_stream: big(e.childStream), result: e.result })); break;
      case 'complete': parts.push(encodeRecord(defs, 'ipc_complete', h, { stream: big(e.stream), tag: big(e.tag), cause: big(e.cause), result: e.result, bytes: big(e.bytes), pid: e.pid, tid: e.tid })); break;
      case 'cancel': parts.push(encodeRecord(defs, 'ipc_cancel', h, { stream: big(e.stream), tag: big(e.tag), target: big(e.target), cause: big(e.cause), pid: e.pid, tid: e.tid })); break;
    }
  }
  return concat(parts);
}


/** The ipc-demo scenario for `rounds` rounds as a trace file in a temp dir. */
export function demoTraceFile(rounds: number): { events: IpcEvent[]; file: string; bytes: Uint8Array } {
  const events: IpcEvent[] = [];
  demoScenario(new IpcSim((e) => events.push(e)), rounds);
  const bytes = encodeEvents(events);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipcview-'));
  const file = path.join(dir, 'ipc-demo.ltrace');
  fs.writeFileSync(file, bytes);
  return { events, file, bytes };
}
