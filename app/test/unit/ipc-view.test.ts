/*
 * The IPC lanes view's data path on fixtures made with the trace encoders: the ipc-demo scenario
 * (visualizers/ipc/sim.ts, emitting what LaneOS's kernel records) encoded record by record with
 * debugger/common/trace/encode.ts into a trace file, served by the backend (TraceBackend) in
 * chunks, decoded in the renderer's TraceTable via TraceFeed (RecordDecoder + EventMerger + adapter) → the same
 * view model as the events themselves — for a saved trace and for a recording that grows (live).
 * Also: the project's generated ABI tables, and return address → source line through DWARF.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseElf } from '../../../debugger/common/elf.js';
import type { IpcEvent } from '../../../visualizers/ipc/events.js';
import { demoTraceFile } from '../ipc-fixture.js';
import { IpcModel } from '../../../visualizers/ipc/model.js';
import { demoDecoder } from '../../../visualizers/ipc/sim.js';
import { TraceFeed, base64ToBytes } from '../../browser/views/ipc/trace-feed.js';
import { IpcViewBackend } from '../../node/ipc-view.js';
import { TraceBackend } from '../../node/trace.js';
import { Project } from '../../node/project.js';

const repo = path.resolve(import.meta.dirname, '../../..');
function fixture(rounds: number): { events: IpcEvent[]; file: string; bytes: Uint8Array } {
  return demoTraceFile(rounds);
}

function sameView(a: IpcModel, b: IpcModel): void {
  assert.equal(a.msgCount, b.msgCount);
  assert.equal(a.opCount, b.opCount);
  assert.equal(a.convs.length, b.convs.length);
  assert.equal(a.cancels, b.cancels);
  assert.equal(a.endOfLanes, b.endOfLanes);
  assert.equal(a.errors, b.errors);
  for (let m = 0; m < a.msgCount; m++) assert.equal(a.msgLabel(m), b.msgLabel(m), `message ${m}`);
  assert.deepEqual(a.messageDetail(a.msgCount - 1), b.messageDetail(b.msgCount - 1));
  assert.deepEqual(a.processOrder.map((p) => p.name), b.processOrder.map((p) => p.name));
}

test('saved trace: encoded records → backend chunks → renderer feed → the same view as the events', () => {
  const { events, file } = fixture(40);
  const direct = new IpcModel({ decoder: demoDecoder });
  direct.addAll(events);
  const sources: unknown[] = [];
  const be = new TraceBackend((_e, s) => sources.push(s), () => null);
  const src = be.openTrace(file);
  assert.equal(sources.length, 1);
  const model = new IpcModel({ decoder: demoDecoder });
  const feed = new TraceFeed(model);
  let off = 0;
  for (;;) {
    const r = be.readTrace(src.generation, off, 4000); // odd chunk size: records cut in half
    if (r.data) {
      const b = base64ToBytes(r.data);
      off += b.length;
      feed.push(b);
    }
    if (off >= r.size) break;
  }
  feed.finish();
  assert.equal(feed.decoder.stats.corruptBytes, 0);
  sameView(model, direct);
  assert.equal(model.msgLabel(1), 'send 16 B/recv_inline posix.Read');
  assert.equal(model.messageDetail(1).src.decoded, 'posix.Read{fd: 3, size: 4096}');
});

test('live recording: the file grows while the view follows; a new Run starts over', () => {
  const { events, bytes } = fixture(10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipcview-live-'));
  const file = path.join(dir, 'trace.ltrace');
  fs.writeFileSync(file, bytes.subarray(0, 3001));
  const be = new TraceBackend(() => undefined, () => null);
  be.setRecording(file, true);
  const gen = be.source.generation;
  const model = new IpcModel({ decoder: demoDecoder });
  const feed = new TraceFeed(model);
  let off = 0;
  const poll = () => {
    const r = be.readTrace(gen, off);
    const b = base64ToBytes(r.data);
    off += b.length;
    feed.push(b);
    return r;
  };
  assert.equal(poll().live, true);
  const early = model.msgCount;
  fs.appendFileSync(file, bytes.subarray(3001));
  poll();
  be.setRecording(file, false); // Run stopped: same file, same generation
  assert.equal(be.source.generation, gen);
  poll();
  feed.finish();
  assert.ok(early < model.msgCount, 'messages appeared as the recording grew');
  const direct = new IpcModel({ decoder: demoDecoder });
  direct.addAll(events);
  sameView(model, direct);
  be.setRecording(path.join(dir, 'next.ltrace'), true);
  assert.equal(be.source.generation, gen + 1);
  assert.throws(() => be.readTrace(gen, 0), /source changed/);
});

test('bad input: a file that is not a trace, a missing file, a bad offset', () => {
  const be = new TraceBackend(() => undefined, () => null);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipcview-bad-'));
  fs.writeFileSync(path.join(dir, 'x.txt'), 'hello world');
  assert.throws(() => be.openTrace(path.join(dir, 'x.txt')), /is not a LaneOS trace/);
  assert.throws(() => be.openTrace(path.join(dir, 'nope.ltrace')), /no trace file at/);
  const { file } = fixture(1);
  const s = be.openTrace(file);
  assert.throws(() => be.readTrace(s.generation, -5), /non-negative/);
  // garbage in the middle of a trace: the feed resynchronises and keeps the rest
  const { events, bytes } = fixture(5);
  const bad = new Uint8Array(bytes);
  bad.fill(0xee, 4000, 4100);
  const model = new IpcModel({ decoder: demoDecoder });
  const feed = new TraceFeed(model);
  feed.push(bad);
  feed.finish();
  assert.ok(feed.decoder.stats.corruptBytes > 0);
  assert.ok(model.msgCount > 40 && model.msgCount <= events.filter((e) => e.kind === 'match').length);
});

const osBuilt = fs.existsSync(path.join(repo, 'os/build/ts/messages.ts'));
test('the project\'s generated IPC ABI: error names and message types', { skip: osBuilt ? false : 'os/ not built (make -C os)' }, () => {
  const be = new IpcViewBackend(() => new Project(path.join(repo, 'os')));
  const abi = be.abi();
  assert.deepEqual(abi.problems, []);
  assert.equal(abi.errors['CANCELLED'], -64);
  assert.equal(abi.errors['END_OF_LANE'], -65);
  assert.ok(abi.messages.some((m) => m.type === 'posix.Read' && m.fields.some((f) => f.name === 'fd')));
});

const shElf = path.join(repo, 'os/build/programs/sh.elf');
test('return address → source line through the program\'s DWARF', { skip: fs.existsSync(shElf) ? false : 'os/build/programs/sh.elf not built' }, () => {
  const be = new IpcViewBackend(() => new Project(path.join(repo, 'os')));
  const elf = parseElf(new Uint8Array(fs.readFileSync(shElf)));
  const main = elf.symbols.find((s) => s.name === 'main');
  assert.ok(main, 'sh has main');
  const hit = be.resolve(Number(main.value) + 8, 'sh');
  assert.ok(hit, 'resolved');
  assert.match(hit.file, /programs\/sh\/.*\.c$/);
  assert.ok(hit.line > 0);
  assert.equal(be.resolve(Number(main.value), 'no such program'), null);
  assert.equal(be.resolve(Number(main.value), '../../etc/passwd'), null);
});

test('Break on next message: the breakpoint goes in the hook the kernel calls right after trace_emit_ipc_submit(), with the target as a gdb condition', async () => {
  const { submitBreakLine, breakCondition, IPC_SUBMIT_FILE } = await import('../../browser/views/ipc/break.js');
  const file = path.join(repo, 'os', IPC_SUBMIT_FILE);
  const src = fs.readFileSync(file, 'utf8');
  const line = submitBreakLine(src);
  const lines = src.split('\n');
  const hook = lines.findIndex((l) => /\bvoid ipc_submit_recorded\(struct ipc_item \*it\)\s*$/.test(l));
  assert.ok(hook >= 0 && line - 1 > hook && line - 1 <= hook + 3, `inside ipc_submit_recorded(): ${lines[line - 1]}`);
  // every ipc_submit record (enqueue's, one per action; record_submission's, one per
  // submission) is followed by a call of the hook before its function ends
  const emits = lines.flatMap((l, i) => (/=\s*trace_emit_ipc_submit\(/.test(l) ? [i] : []));
  assert.equal(emits.length, 2, 'enqueue() and record_submission() record ipc_submit');
  for (const emit of emits) {
    const end = lines.findIndex((l, i) => i > emit && l === '}');
    assert.ok(emit > hook && lines.slice(emit, end).some((l) => /ipc_submit_recorded\(it\)/.test(l)), `the hook is called after the emit at line ${emit + 1}`);
  }
  assert.equal(breakCondition({ kind: 'lane', conv: 3, stream: '4097' }), 'it->s->id == 4097');
  assert.equal(breakCondition({ kind: 'conversation', conv: 3, stream: '18446744073709551615' }), 'it->s->id == 18446744073709551615 || it->s->parent == 18446744073709551615');
  assert.equal(breakCondition({ kind: 'process', pid: 12 }), 'it->sub->pid == 12');
  assert.throws(() => submitBreakLine('int main(void) { return 0; }\n'), /no ipc_submit_recorded/);
});
