/*
 * Decoded trace records (shaped like debugger/common/trace's TraceEvent: name, ns, cpu, id and
 * fields named as in os/abi/trace.toml) → the IPC model gives the same view as the events fed
 * directly; and the generated message decoders (os/build/ts/messages.ts, when LaneOS is built)
 * name payloads as `posix.Read{fd: 3, size: 4096}`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IpcModel } from '../ipc/model.js';
import { IpcSim, demoScenario, demoDecoder } from '../ipc/sim.js';
import { feedTrace, messageDecoderFrom, resultCodesFrom, type TraceRecordLike } from '../ipc/adapt.js';
import type { IpcEvent } from '../ipc/events.js';

/** What the trace decoder yields for each event (field names and types of os/abi/trace.toml). */
function asRecord(e: IpcEvent): TraceRecordLike {
  const base = { ns: e.ns, cpu: 'cpu' in e ? e.cpu : 0, id: 'id' in e ? e.id : 0 };
  switch (e.kind) {
    case 'process': return { ...base, name: 'proc_create', fields: { pid: e.pid, parent: e.parent, name: e.name } };
    case 'process_exit': return { ...base, name: 'proc_exit', fields: { pid: e.pid, state: 0, code: e.code } };
    case 'thread': return { ...base, name: 'thread_create', fields: { tid: e.tid, pid: e.pid, home_cpu: 0, kernel: 0, name: e.name } };
    case 'submit': {
      let packed = 0n;
      Array.from(e.actions).forEach((a, i) => (packed |= BigInt(a) << BigInt(4 * i)));
      return { ...base, name: 'ipc_submit', fields: { stream: e.stream, conversation: e.conversation, tag: e.tag, bytes: e.bytes, actions: Number(packed), pid: e.pid, tid: e.tid, lane: e.lane, nactions: e.actions.length, ret_addr: e.retAddr, payload: e.payload ?? new Uint8Array(0) } };
    }
    case 'match': return { ...base, name: 'ipc_match', fields: { stream: e.stream, conversation: e.conversation, cause: e.cause, other: e.other, child_stream: e.childStream, result: e.result, reserved: 0 } };
    case 'complete': return { ...base, name: 'ipc_complete', fields: { stream: e.stream, tag: e.tag, cause: e.cause, result: e.result, bytes: e.bytes, pid: e.pid, tid: e.tid } };
    case 'cancel': return { ...base, name: 'ipc_cancel', fields: { stream: e.stream, tag: e.tag, target: e.target, cause: e.cause, pid: e.pid, tid: e.tid } };
  }
}

test('trace records → model: identical to feeding the events directly; other events skipped', () => {
  const events: IpcEvent[] = [];
  demoScenario(new IpcSim((e) => events.push(e)), 5);
  const direct = new IpcModel({ decoder: demoDecoder });
  direct.addAll(events);
  const viaTrace = new IpcModel({ decoder: demoDecoder });
  const noise: TraceRecordLike = { name: 'ctx_switch', ns: 1, cpu: 0, id: 1, get fields(): Record<string, unknown> { throw new Error('fields of an unused event were decoded'); } };
  const used = feedTrace(viaTrace, [noise, ...events.map(asRecord), noise]);
  assert.equal(used, events.length);
  assert.equal(viaTrace.msgCount, direct.msgCount);
  assert.equal(viaTrace.opCount, direct.opCount);
  assert.equal(viaTrace.convs.length, direct.convs.length);
  for (let m = 0; m < direct.msgCount; m++) assert.equal(viaTrace.msgLabel(m), direct.msgLabel(m));
  assert.deepEqual(viaTrace.messageDetail(12), direct.messageDetail(12));
  assert.equal(viaTrace.cancels, 5);
  assert.equal(viaTrace.endOfLanes, 5);
});

test('result codes from the generated IPC ABI', () => {
  const r = resultCodesFrom({ CANCELLED: -64, END_OF_LANE: -65, TRANSMISSION_MISMATCH: -66, LANE_SHUTDOWN: -67 });
  assert.equal(r.cancelled, -64);
  assert.equal(r.names[-67], 'LANE_SHUTDOWN');
});

const gen = path.resolve(import.meta.dirname, '../../os/build/ts/messages.ts');
test('the generated message decoders name LaneOS payloads', { skip: fs.existsSync(gen) ? false : 'os/build/ts/messages.ts not generated (make -C os)' }, async () => {
  const mod = (await import(pathToFileURL(gen).href)) as Parameters<typeof messageDecoderFrom>[0] & { MESSAGE_TYPES: { type: string; word: number }[] };
  const dec = messageDecoderFrom(mod);
  const read = mod.MESSAGE_TYPES.find((t) => t.type === 'posix.Read')!;
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, read.word, true);
  dv.setInt32(4, 3, true);
  dv.setBigUint64(8, 4096n, true);
  assert.equal(dec.typeOf(b), 'posix.Read');
  assert.equal(dec.decode(b)?.text, 'posix.Read{fd: 3, size: 4096}');
  assert.equal(dec.typeOf(new Uint8Array([1, 2, 3, 4])), undefined);
});

test('table decoder (MESSAGE_TYPES as data) agrees with the generated decoder', { skip: fs.existsSync(gen) ? false : 'os/build/ts/messages.ts not generated (make -C os)' }, async () => {
  const { tableDecoder } = await import('../ipc/messages.js');
  const mod = (await import(pathToFileURL(gen).href)) as Parameters<typeof messageDecoderFrom>[0] & { MESSAGE_TYPES: Parameters<typeof tableDecoder>[0] };
  const table = tableDecoder(JSON.parse(JSON.stringify(mod.MESSAGE_TYPES)));
  const real = messageDecoderFrom(mod);
  for (const t of mod.MESSAGE_TYPES) {
    const b = new Uint8Array(32).map((_, i) => (i * 37 + 65) & 0x7f);
    new DataView(b.buffer).setUint32(0, t.word, true);
    assert.equal(table.typeOf(b), real.typeOf(b));
    assert.equal(table.decode(b)?.text, real.decode(b)?.text, t.type);
  }
});

test('the simulator\'s payloads use the LaneOS layouts: the generated decoder reads them the same', { skip: fs.existsSync(gen) ? false : 'os/build/ts/messages.ts not generated (make -C os)' }, async () => {
  const { DEMO_MESSAGES, encodeMsg, demoDecoder: sim } = await import('../ipc/sim.js');
  const real = messageDecoderFrom((await import(pathToFileURL(gen).href)) as Parameters<typeof messageDecoderFrom>[0]);
  for (const t of DEMO_MESSAGES) {
    const b = encodeMsg(t.type, { fd: 3, size: 4096, error: -2, value: 77, round: 5, who: 'ipc-demo', op: 1, a: 6, b: 7 });
    assert.equal(real.decode(b)?.text, sim.decode(b)?.text, t.type);
  }
  assert.equal(real.decode(encodeMsg('posix.Read', { fd: 3, size: 4096 }))?.text, 'posix.Read{fd: 3, size: 4096}');
});
