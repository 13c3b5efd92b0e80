/*
 * adapt.ts — decoded trace records → IpcEvent, by structure only (no import of debugger/): any
 * object with `name`, `ns`, `cpu`, `id` and `fields` named as in os/abi/trace.toml works, which
 * is what debugger/common/trace's TraceEvent is. The app passes each decoded event (live batches
 * or a whole saved trace) to feedTrace(); everything that is not a process/thread/IPC event is
 * skipped without decoding its fields.
 */
import type { Id, IpcEvent, MessageDecoder, ResultCodes } from './events.js';
import { DEFAULT_RESULTS } from './events.js';
import type { IpcModel } from './model.js';

export interface TraceRecordLike {
  readonly name: string;
  readonly ns: number;
  readonly cpu: number;
  readonly id: number | bigint;
  readonly fields: Record<string, unknown>;
}

const NAMES = new Set(['proc_create', 'proc_exit', 'thread_create', 'ipc_submit', 'ipc_match', 'ipc_complete', 'ipc_cancel']);

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

function id(v: unknown): Id {
  return typeof v === 'number' || typeof v === 'bigint' ? v : 0;
}

/** Unpack 4-bit action codes (first in the low bits). */
function actions(v: unknown, n: number): number[] {
  const out: number[] = [];
  if (typeof v === 'number' && v < 2 ** 32) {
    for (let i = 0; i < Math.min(n, 8); i++) out.push((v >>> (i * 4)) & 15);
    return out;
  }
  let b = typeof v === 'bigint' ? v : BigInt(num(v));
  for (let i = 0; i < Math.min(n, 16); i++) {
    out.push(Number(b & 15n));
    b >>= 4n;
  }
  return out;
}

/** One decoded trace event as an IpcEvent, or undefined when the view does not use it. */
export function adaptTraceEvent(e: TraceRecordLike): IpcEvent | undefined {
  if (!NAMES.has(e.name)) return undefined;
  const f = e.fields;
  const ns = e.ns;
  switch (e.name) {
    case 'proc_create':
      return { kind: 'process', ns, pid: num(f['pid']), parent: num(f['parent']), name: String(f['name'] ?? '') };
    case 'proc_exit':
      return { kind: 'process_exit', ns, pid: num(f['pid']), code: num(f['code']) };
    case 'thread_create':
      return { kind: 'thread', ns, tid: num(f['tid']), pid: num(f['pid']), name: String(f['name'] ?? '') };
    case 'ipc_submit': {
      const p = f['payload'];
      return {
        kind: 'submit', id: e.id, ns, cpu: e.cpu, stream: id(f['stream']), conversation: id(f['conversation']), tag: id(f['tag']), bytes: num(f['bytes']),
        actions: actions(f['actions'], Math.max(1, num(f['nactions']))), pid: num(f['pid']), tid: num(f['tid']), lane: num(f['lane']), retAddr: id(f['ret_addr']),
        payload: p instanceof Uint8Array ? p : undefined,
      };
    }
    case 'ipc_match':
      return { kind: 'match', id: e.id, ns, cpu: e.cpu, stream: id(f['stream']), conversation: id(f['conversation']), cause: id(f['cause']), other: id(f['other']), childStream: id(f['child_stream']), result: num(f['result']) };
    case 'ipc_complete':
      return { kind: 'complete', id: e.id, ns, cpu: e.cpu, stream: id(f['stream']), tag: id(f['tag']), cause: id(f['cause']), result: num(f['result']), bytes: num(f['bytes']), pid: num(f['pid']), tid: num(f['tid']) };
    case 'ipc_cancel':
      return { kind: 'cancel', id: e.id, ns, cpu: e.cpu, stream: id(f['stream']), tag: id(f['tag']), target: id(f['target']), cause: id(f['cause']), pid: num(f['pid']), tid: num(f['tid']) };
  }
  return undefined;
}

/** Feed a batch of decoded trace events (time-ordered) to the model; returns how many were used. */
export function feedTrace(model: IpcModel, events: Iterable<TraceRecordLike>, notify = true): number {
  let n = 0;
  for (const e of events) {
    const a = adaptTraceEvent(e);
    if (a) {
      model.add(a);
      n++;
    }
  }
  if (notify && n) model.changed();
  return n;
}

/** Result codes from the generated IPC ABI's error table (build/ts/ipc.ts: { NAME: value }). */
export function resultCodesFrom(errors: Record<string, number>): ResultCodes {
  const names: Record<number, string> = { 0: 'OK' };
  for (const [k, v] of Object.entries(errors)) names[v] = k;
  return {
    ok: 0,
    cancelled: errors['CANCELLED'] ?? DEFAULT_RESULTS.cancelled,
    endOfLane: errors['END_OF_LANE'] ?? DEFAULT_RESULTS.endOfLane,
    mismatch: errors['TRANSMISSION_MISMATCH'] ?? DEFAULT_RESULTS.mismatch,
    names,
  };
}

/**
 * A MessageDecoder over the generated message decoders (build/ts/messages.ts: messageTypeOf,
 * decodeMessage) — passed in by the app, so the layouts are never written twice.
 */
export function messageDecoderFrom(gen: {
  messageTypeOf(b: Uint8Array): { type: string } | undefined;
  decodeMessage(b: Uint8Array): { type: string; text: string } | undefined;
}): MessageDecoder {
  return {
    typeOf: (b) => gen.messageTypeOf(b)?.type,
    decode: (b) => {
      const d = gen.decodeMessage(b);
      return d ? { type: d.type, text: d.text } : undefined;
    },
  };
}
