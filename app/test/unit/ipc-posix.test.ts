/*
 * The POSIX layer in the IPC lanes view, on a real recording (issue 13's "done when"): LaneOS boots
 * under QEMU (TCG, 2 CPUs) with the ivshmem trace, the shell runs the issue's command
 *     ls /bin | cat > /tmp/l; wc /tmp/l
 * and the recording is fed to the IPC view's model with the message table the backend serves
 * (build/abi.json, as app/node/ipc-view.ts does). The view must show, decoded:
 *   - `posix.Open{…}` sent by `wc` and received by the posix server (the open of /tmp/l);
 *   - `fs.Read{…}` sent by `wc` and received by the fs server itself: the passthrough lane, with
 *     no posix server in the path;
 *   - wc's answer on the console: the line count of `ls /bin`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bootGuest, traceSync } from '../../../debugger/test/guest.js';
import type { TraceEvent } from '../../../debugger/common/trace/records.js';
import { qemuTraceArgs, TraceSession } from '../../../debugger/node/trace/session.js';
import { resultCodesFrom } from '../../../visualizers/ipc/adapt.js';
import { tableDecoder, type MsgTypeSpec } from '../../../visualizers/ipc/messages.js';
import { IpcModel, type MessageDetail } from '../../../visualizers/ipc/model.js';
import { TraceFeed } from '../../browser/views/ipc/trace-feed.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const KERNEL = path.join(repo, 'os/build/kernel/lanes32.elf');
const INITRD = path.join(repo, 'os/build/initrd.tar');
const ABI = path.join(repo, 'os/build/abi.json');
const missing = [KERNEL, INITRD, ABI].some((f) => !fs.existsSync(f)) ? 'os/ not built (make -C os)' : false;

test('ls /bin | cat > /tmp/l; wc /tmp/l: posix.Open to the posix server, fs.Read on a passthrough lane to fs', { timeout: 600000, skip: missing }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-posix-'));
  const kernel = path.join(dir, 'lanes32.elf');
  const initrd = path.join(dir, 'initrd.tar');
  fs.copyFileSync(KERNEL, kernel); // private copies: others may rebuild os/build meanwhile
  fs.copyFileSync(INITRD, initrd);
  const abi = JSON.parse(fs.readFileSync(ABI, 'utf8')) as { messages: MsgTypeSpec[]; abis: { ipc: { errors: Record<string, number> } } };
  const shm = `/dev/shm/ipc-posix-${process.pid}`;
  const out = path.join(dir, 'posix.ltrace');
  const session = new TraceSession({ shm, out });
  const g = bootGuest({ kernel, initrd, smp: 2, extra: qemuTraceArgs({ shm }) });
  const marks: TraceEvent[] = [];
  session.on('events', (evs: TraceEvent[]) => { for (const e of evs) if (e.name === 'marker') marks.push(e); });
  let from = 0;
  try {
    await g.prompt();
    session.start();
    from = g.output().length;
    await g.run('ls /bin | cat > /tmp/l; wc /tmp/l', 300000);
    await traceSync(g, () => marks); // the drainer has sent every record made before
  } finally {
    await g.kill();
    await session.stop().catch(() => undefined);
    fs.rmSync(shm, { force: true });
  }
  const con = g.output().slice(from);
  // wc prints "lines words bytes /tmp/l": one line per program in /bin
  const wc = /(\d+)\s+(\d+)\s+(\d+)\s+\/tmp\/l/.exec(con);
  assert.ok(wc, `wc answered on the console:\n${con.slice(-1500)}`);
  assert.ok(Number(wc[1]) > 10, `wc counted the programs in /bin (${wc[1]} lines)`);

  const model = new IpcModel({ results: resultCodesFrom(abi.abis.ipc.errors), decoder: tableDecoder(abi.messages) });
  const feed = new TraceFeed(model);
  const bytes = fs.readFileSync(out);
  feed.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  feed.finish();
  assert.equal(feed.decoder.stats.lost, 0, 'no events lost');
  const msgs: MessageDetail[] = [];
  for (let m = 0; m < model.msgCount; m++) msgs.push(model.messageDetail(m));
  // what the detail pane shows for the payload: the decoded message of the sending side
  const text = (d: MessageDetail) => d.src.decoded || d.dst.decoded;
  const seen = (pred: (d: MessageDetail) => boolean) => msgs.filter(pred).slice(0, 5).map((d) => `${d.src.process} → ${d.dst.process}: ${d.label} ${text(d)}`).join('\n  ');
  // either side may be the giving one (send vs receive): find the message whose sender is wc
  const fromWc = (d: MessageDetail, type: string) => d.type === type && [d.src, d.dst].some((s) => /^wc/.test(s.process));
  const peer = (d: MessageDetail) => (/^wc/.test(d.src.process) ? d.dst.process : d.src.process);

  const open = msgs.find((d) => fromWc(d, 'posix.Open'));
  assert.ok(open, `a posix.Open from wc; posix.* seen:\n  ${seen((d) => d.type.startsWith('posix.'))}`);
  assert.match(open.label, /posix\.Open/, 'the message is labelled with its type');
  assert.match(text(open), /^posix\.Open\{.+\}/, `decoded as posix.Open{…} (${text(open)})`);
  assert.match(peer(open), /^posix/, `posix.Open goes to the posix server (went to ${peer(open)})`);

  const read = msgs.find((d) => fromWc(d, 'fs.Read'));
  assert.ok(read, `an fs.Read from wc; fs.* seen:\n  ${seen((d) => d.type.startsWith('fs.'))}`);
  assert.match(read.label, /fs\.Read/, 'the message is labelled with its type');
  assert.match(text(read), /^fs\.Read\{.+\}/, `decoded as fs.Read{…} (${text(read)})`);
  assert.match(peer(read), /^fs\b/, `fs.Read goes straight to the fs server on the file's passthrough lane (went to ${peer(read)})`);
  assert.ok(read.ns > open.ns, 'the read comes after the open');
  console.log(`# ${model.msgCount} messages; ${open.src.process} → ${open.dst.process}: ${text(open)}; ${read.src.process} → ${read.dst.process}: ${text(read)}`);
  fs.rmSync(dir, { recursive: true, force: true });
});
