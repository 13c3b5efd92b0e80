/*
 * The IPC view on a trace recorded from LaneOS: boot the kernel (TCG, 2 CPUs) with the ivshmem
 * trace transport, run `ipctests` (the IPC lanes test program: matching rules, conversations,
 * descriptors, cancellation, end of lane) in the shell, record with debugger's TraceSession, then
 * load the recording through the panel's TraceFeed into the view model and check what it shows.
 * The recording is kept as test-results/ipctests.ltrace (open it in the IPC panel).
 */
import assert from 'node:assert/strict';
import { bootGuest, traceSync } from '../../../debugger/test/guest.js';
import type { TraceEvent } from '../../../debugger/common/trace/records.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { qemuTraceArgs, TraceSession } from '../../../debugger/node/trace/session.js';
import { IpcModel, OpEnd } from '../../../visualizers/ipc/model.js';
import { TraceFeed } from '../../browser/views/ipc/trace-feed.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const KERNEL = path.join(repo, 'os/build/kernel/lanes32.elf');
const INITRD = path.join(repo, 'os/build/initrd.tar');
const missing = !fs.existsSync(KERNEL) || !fs.existsSync(INITRD) ? 'os/ not built (make -C os)' : false;

test('recorded from LaneOS: ipctests\' exchanges, conversations, cancellations and ends of lane', { timeout: 900000, skip: missing }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipcview-rec-'));
  const kernel = path.join(dir, 'lanes32.elf');
  const initrd = path.join(dir, 'initrd.tar');
  fs.copyFileSync(KERNEL, kernel); // a private copy: others may rebuild os/build meanwhile
  fs.copyFileSync(INITRD, initrd);
  const shm = `/dev/shm/ipcview-${process.pid}`;
  const out = path.join(dir, 'ipctests.ltrace');
  const session = new TraceSession({ shm, out });
  const g = bootGuest({ kernel, initrd, smp: 2, extra: qemuTraceArgs({ shm }) });
  const marks: TraceEvent[] = [];
  session.on('events', (evs: TraceEvent[]) => { for (const e of evs) if (e.name === 'marker') marks.push(e); });
  try {
    await g.prompt();
    session.start();
    await g.run('ipctests');
    await traceSync(g, () => marks); // the drainer has sent every record made before
  } finally {
    await g.kill();
    await session.stop().catch(() => undefined);
    fs.rmSync(shm, { force: true });
  }
  const con = g.output();
  const results = path.join(repo, 'test-results');
  fs.mkdirSync(results, { recursive: true });
  fs.copyFileSync(out, path.join(results, 'ipctests.ltrace'));
  const model = new IpcModel();
  const feed = new TraceFeed(model);
  const bytes = fs.readFileSync(out);
  for (let o = 0; o < bytes.length; o += 1 << 20) feed.push(new Uint8Array(bytes.buffer, bytes.byteOffset + o, Math.min(1 << 20, bytes.length - o)));
  feed.finish();
  const names = model.processOrder.filter((p) => p.ops > 0).map((p) => p.name);
  const ends = [0, 0, 0, 0, 0];
  for (let i = 0; i < model.opCount; i++) ends[model.opEnd[i]!]!++;
  console.log(`# recorded: ${bytes.length} bytes, ${feed.events} events (${feed.decoder.stats.lost} lost), ${model.opCount} ops, ${model.msgCount} messages, ${model.convs.length} streams, nested ${model.convs.filter((c) => c.depth > 0).length}, max depth ${Math.max(0, ...model.convs.map((c) => c.depth))}; ends: completed ${ends[OpEnd.Completed]}, error ${ends[OpEnd.Error]}, cancelled ${ends[OpEnd.Cancelled]}, end of lane ${ends[OpEnd.EndOfLane]}, pending ${ends[OpEnd.Pending]}; IPC processes: ${names.join(', ')}; orphans ${model.orphans}`);
  assert.match(con, /ipctests/);
  assert.ok(names.some((n) => /ipctests/.test(n)), `ipctests takes part in IPC: ${names.join(', ')}`);
  assert.ok(model.msgCount > 50, 'messages (matched exchanges) were recorded');
  assert.ok(model.convs.some((c) => c.depth >= 1), 'offer/accept opened conversations');
  assert.ok(ends[OpEnd.Cancelled]! > 0, 'cancelled operations');
  assert.ok(ends[OpEnd.EndOfLane]! > 0, 'operations ended by end of lane');
  assert.ok(ends[OpEnd.Error]! > 0, 'failed operations (mismatch, rights)');
  // stepping works on real data: from the first message that opens a conversation, into it
  let opener = -1;
  for (let m = 0; m < model.msgCount && opener < 0; m++) if (model.msgChild[m]! >= 0 && model.convs[model.msgChild[m]!]!.messages > 0) opener = m;
  assert.ok(opener >= 0);
  const next = model.stepConversation(opener, 1);
  assert.ok(next > opener && model.inSubtree(model.msgConv[next]!, model.msgChild[opener]!), 'next in conversation goes into the conversation the offer opened');
});
