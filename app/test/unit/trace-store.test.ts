/*
 * The renderer's trace store over the real backend half (TraceBackend): it alone reads the trace,
 * decodes each byte ONCE (its bytesDecoded counter equals the bytes the backend served, however
 * many views listen), fans the merged rows out to every subscriber (two IPC models built from the
 * store's rows equal one built from the events themselves), follows a live recording as it grows
 * and a saved trace opened on top, and owns the shared time cursor and selection.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { EventName, Events, RequestName, Requests } from '../../common/contract.js';
import { feedTrace } from '../../../visualizers/ipc/adapt.js';
import { IpcModel } from '../../../visualizers/ipc/model.js';
import { demoDecoder } from '../../../visualizers/ipc/sim.js';
import { TraceStore, type StoreChange } from '../../browser/trace/store.js';
import { TraceBackend } from '../../node/trace.js';
import { demoTraceFile } from '../ipc-fixture.js';

/** The contract between store and backend, in-process: requests go to TraceBackend, events come back. */
function wire(be: () => TraceBackend, max = 5000) {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  let served = 0;
  const client = {
    async request<K extends RequestName>(method: K, params: Requests[K]['params']): Promise<Requests[K]['result']> {
      const p = params as Record<string, unknown>;
      if (method === 'trace.source') return be().source as never;
      if (method === 'trace.open') return be().openTrace(String(p['path'])) as never;
      if (method === 'trace.read') {
        const r = be().readTrace(Number(p['generation']), Number(p['offset']), max);
        served += Buffer.from(r.data, 'base64').length;
        return r as never;
      }
      throw new Error(`unexpected ${method}`);
    },
    on<K extends EventName>(event: K, cb: (payload: Events[K]) => void): () => void {
      let s = listeners.get(event);
      if (!s) listeners.set(event, (s = new Set()));
      s.add(cb as (p: unknown) => void);
      return () => s.delete(cb as (p: unknown) => void);
    },
  };
  const emit = <K extends keyof Events>(event: K, payload: Events[K]) => {
    for (const l of listeners.get(event) ?? []) l(payload);
  };
  return { client, emit, served: () => served };
}

/** A view of the store: its own IPC model, fed from the store's rows. */
function ipcSubscriber(store: TraceStore) {
  const v = { model: new IpcModel({ decoder: demoDecoder }), fed: 0, resets: 0 };
  store.onChange((c: StoreChange) => {
    if (c.kind === 'reset') {
      v.model = new IpcModel({ decoder: demoDecoder });
      v.fed = 0;
      v.resets++;
    }
    feedTrace(v.model, store.table.rows(v.fed));
    v.fed = store.table.count;
  });
  return v;
}

const settle = async (store: TraceStore) => {
  for (let i = 0; i < 50; i++) {
    await store.read();
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('a saved trace: each byte decoded once, however many views; every view gets every row', async () => {
  const { events, file, bytes } = demoTraceFile(40);
  const w = wire(() => be);
  const be: TraceBackend = new TraceBackend((e, p) => w.emit(e, p as never), () => null);
  const store = new TraceStore();
  const a = ipcSubscriber(store);
  const b = ipcSubscriber(store);
  await store.start(w.client);
  await store.open(file);
  await settle(store);
  assert.equal(store.table.finished, true);
  assert.equal(w.served(), bytes.length);
  assert.equal(store.table.bytesDecoded, bytes.length, 'each byte decoded exactly once');
  const direct = new IpcModel({ decoder: demoDecoder });
  direct.addAll(events);
  for (const v of [a, b]) {
    assert.equal(v.model.msgCount, direct.msgCount);
    assert.equal(v.model.opCount, direct.opCount);
    assert.equal(v.model.msgLabel(1), direct.msgLabel(1));
  }
  // a third view arriving late reads the rows already there: nothing is decoded again
  const c = { model: new IpcModel({ decoder: demoDecoder }) };
  feedTrace(c.model, store.table.rows(0));
  assert.equal(c.model.msgCount, direct.msgCount);
  assert.equal(store.table.bytesDecoded, bytes.length);
  // the columns agree with the rows and are in time order
  assert.ok(store.table.count > 0);
  for (let i = 1; i < store.table.count; i++) assert.ok(store.table.ns[i]! >= store.table.ns[i - 1]!, `row ${i} in time order`);
  assert.equal(store.table.ns[5], store.table.ev[5]!.ns);
  assert.equal(store.table.lowerBound(store.table.ns[5]!), store.table.ev.findIndex((e) => e.ns === store.table.ns[5]));
  store.dispose();
});

test('a live recording grows, the Run ends, then a new source: the views start over; cursor and selection are shared', async () => {
  const { events, bytes } = demoTraceFile(10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-store-'));
  const file = path.join(dir, 'trace.ltrace');
  fs.writeFileSync(file, bytes.subarray(0, 3001));
  const w = wire(() => be);
  const be: TraceBackend = new TraceBackend((e, p) => w.emit(e, p as never), () => null);
  const store = new TraceStore();
  store.fastMs = store.slowMs = 5;
  const a = ipcSubscriber(store);
  await store.start(w.client);
  be.setRecording(file, true);
  await settle(store);
  const early = a.model.msgCount;
  assert.equal(store.table.finished, false, 'live: not finished');
  fs.appendFileSync(file, bytes.subarray(3001));
  await settle(store);
  be.setRecording(file, false); // the Run stopped: same generation, the rest is read and finished
  await settle(store);
  assert.equal(store.table.finished, true);
  assert.ok(early < a.model.msgCount, 'messages appeared as the recording grew');
  const direct = new IpcModel({ decoder: demoDecoder });
  direct.addAll(events);
  assert.equal(a.model.msgCount, direct.msgCount);
  assert.equal(store.table.bytesDecoded, bytes.length, 'each byte decoded exactly once while following');
  // the shared cursor and selection
  const seen: (number | null)[] = [];
  store.onCursor((ns) => seen.push(ns));
  store.select({ view: 'ipc', kind: 'message', id: 3, ns: 1234 });
  assert.deepEqual(seen, [1234]);
  assert.equal(store.selection?.id, 3);
  // transport figures + the store's decode make the status bar's figures
  w.emit('trace.stats', { live: false, events: 0, eventsPerSec: 0, lost: 2, corruptFrames: 0 });
  assert.deepEqual(store.status(), { live: false, events: store.table.decoder.stats.events, eventsPerSec: 0, lost: 2, corruptFrames: 0 });
  // a new Run: a new generation, an empty table, views reset, cursor cleared
  const resets = a.resets;
  be.setRecording(path.join(dir, 'next.ltrace'), true);
  assert.equal(a.resets, resets + 1);
  assert.equal(store.table.count, 0);
  assert.equal(store.cursor, null);
  assert.equal(store.selection, null);
  store.dispose();
});

test('a trace opened while a read of the live recording is in flight is read (the stale read hands over)', async () => {
  const live = demoTraceFile(10);
  const saved = demoTraceFile(20);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-store-'));
  const file = path.join(dir, 'trace.ltrace');
  fs.writeFileSync(file, live.bytes);
  const w = wire(() => be);
  const be: TraceBackend = new TraceBackend((e, p) => w.emit(e, p as never), () => null);
  // the live recording's next read is held until the saved trace has been opened
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let held = 0;
  let liveGen = -1;
  const client = {
    ...w.client,
    async request<K extends RequestName>(method: K, params: Requests[K]['params']): Promise<Requests[K]['result']> {
      if (method === 'trace.read' && Number((params as Record<string, unknown>)['generation']) === liveGen) {
        held++;
        await gate;
      }
      return w.client.request(method, params);
    },
  };
  const store = new TraceStore();
  store.fastMs = store.slowMs = 5;
  const a = ipcSubscriber(store);
  await store.start(client);
  be.setRecording(file, true);
  liveGen = store.source.generation;
  // only timers drive the store from here (no direct read() calls, which would hide a lost hand-over)
  for (let i = 0; i < 100 && !held; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(held, 1, 'a read of the live recording is in flight');
  await store.open(saved.file);
  assert.notEqual(store.source.generation, liveGen);
  await new Promise((r) => setTimeout(r, 30)); // the new source's first read comes while the old one waits
  release();
  for (let i = 0; i < 200 && !store.table.finished; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(store.table.finished, true, 'the opened trace was read to its end');
  const direct = new IpcModel({ decoder: demoDecoder });
  direct.addAll(saved.events);
  assert.equal(a.model.msgCount, direct.msgCount);
  store.dispose();
});
