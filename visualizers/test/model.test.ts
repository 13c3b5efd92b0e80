/*
 * The IPC view model on the ipc-demo scenario (fixtures from the IPC simulator; see ipc/sim.ts):
 * lifelines, arrows, conversations and their nesting, cancellations, end-of-lane, mismatches,
 * stepping, search, details.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpcModel, OpEnd, MsgFlag } from '../ipc/model.js';
import { IpcSim, demoScenario, demoDecoder, DEMO } from '../ipc/sim.js';
import type { IpcEvent } from '../ipc/events.js';

function build(iterations = 3): { model: IpcModel; first: Record<string, number>; events: IpcEvent[] } {
  const events: IpcEvent[] = [];
  const sim = new IpcSim((e) => events.push(e));
  const { first } = demoScenario(sim, iterations);
  const model = new IpcModel({ decoder: demoDecoder });
  model.addAll(events);
  return { model, first, events };
}

test('lifelines: the demo processes with their names, in order of appearance', () => {
  const { model } = build();
  const withIpc = model.processOrder.filter((p) => p.ops > 0).map((p) => `${p.name}:${p.pid}`);
  assert.deepEqual(withIpc, ['ipc-demo:10', 'demo-a:11', 'demo-b:12']);
  assert.equal(model.processes.get(1)?.name, 'init');
  assert.equal(model.processes.get(12)?.threads.get(121)?.name, 'worker');
});

test('arrows go from the giving side to the other, at match time, labelled with actions and the decoded message', () => {
  const { model, first } = build(1);
  const req = model.opOfId(first['request']!);
  const om = model.opMsg[req]!;
  assert.ok(om >= 0, 'the offer matched');
  assert.equal(model.msgSrc[om], req, 'arrow starts at the client (offer)');
  assert.equal(model.opPid[model.msgDst[om]!], DEMO.serverA);
  assert.ok(model.msgNs[om]! > model.opNs[req]!, 'drawn at match time, after the submit');
  assert.equal(model.msgLabel(om), 'offer/accept');
  const od = model.messageDetail(om);
  assert.ok(od.dst.latencyNs > od.src.latencyNs, 'the accept waited longer than the offer');
  // the ancillary send went on the new conversation
  const m = model.opMsg[model.opOfId(first['requestSend']!)]!;
  assert.equal(model.msgConv[m], model.msgChild[om], 'posix.Read is sent in the conversation the offer opened');
  assert.equal(model.msgLabel(m), 'send 16 B/recv_inline posix.Read');
  const d = model.messageDetail(m);
  assert.equal(d.src.decoded, 'posix.Read{fd: 3, size: 4096}');
  assert.equal(d.src.payloadHex, '01 01 4d 4c 03 00 00 00 00 10 00 00 00 00 00 00');
  assert.equal(d.src.process, 'ipc-demo');
  assert.equal(d.dst.process, 'demo-a');
  assert.equal(d.src.retAddr, 0x401234);
  assert.equal(d.src.end, 'completed');
  // a push_desc/pull_desc exchange shows the descriptor moved
  const nd = model.messageDetail(model.opMsg[model.opOfId(first['push']!)]!);
  assert.equal(nd.src.descriptors, 1);
  assert.equal(nd.dst.descriptors, 1);
  assert.equal(nd.src.thread, 'worker');
  assert.deepEqual(nd.src.actions, ['push_desc']);
  assert.equal(nd.src.retAddr, 0x403310);
  assert.equal(model.messageDetail(model.opMsg[model.opOfId(first['creds']!)]!).src.credentials, true);
});

test('conversations: child streams nest under the stream they were offered on, each with its own colour', () => {
  const { model, first } = build(2);
  const reqMsg = model.opMsg[model.opOfId(first['request']!)]!;
  const conv1 = model.msgChild[reqMsg]!;
  assert.ok(conv1 >= 0 && (model.msgFlags[reqMsg]! & MsgFlag.OpensConversation) !== 0);
  const c1 = model.convs[conv1]!;
  assert.equal(c1.parent, model.msgConv[reqMsg]);
  assert.equal(c1.depth, 1);
  const nested = model.msgChild[model.opMsg[model.opOfId(first['nestedOffer']!)]!]!;
  const c3 = model.convs[nested]!;
  assert.equal(c3.depth, 2, 'conversation 3 is nested in conversation 2, nested in B\'s lane');
  assert.equal(model.convs[c3.parent]!.depth, 1);
  assert.ok(model.inSubtree(nested, model.convs[c3.parent]!.parent));
  const roots = model.convs.filter((c) => c.parent < 0);
  assert.equal(roots.length, 2, 'two root streams (client↔A, A↔B)');
  // per round: conv1, conv2, conv3
  assert.equal(model.convs.length, 2 + 2 * 3);
  const hues = new Set(model.convs.map((c) => Math.round(c.hue)));
  assert.equal(hues.size, model.convs.length, 'every conversation has its own colour');
  assert.equal(roots[0]!.subMessages, 2 * 4, 'client↔A with nesting: offer, request, reply, mismatch per round');
  assert.equal(roots[0]!.messages, 2, 'on the stream itself: the requests');
});

test('cancellation: the pending op ends cancelled, once, with what cancelled it', () => {
  const { model, first } = build(1);
  const op = model.opOfId(first['cancelled']!);
  assert.equal(model.opEnd[op], OpEnd.Cancelled);
  assert.equal(model.opMsg[op], -1, 'never matched');
  assert.equal(model.resultName(model.opResult[op]!), 'CANCELLED');
  assert.match(model.cancelText(op), /^ipc-demo \(tid 100\), cause: event #/);
  assert.equal(model.cancels, 1);
});

test('end of lane and mismatches are marked', () => {
  const { model, first } = build(1);
  const op = model.opOfId(first['endOfLane']!);
  assert.equal(model.opEnd[op], OpEnd.EndOfLane);
  const conv2 = model.opConv[op]!;
  assert.ok(model.convs[conv2]!.endedNs > 0, 'the conversation records its end of lane');
  const mm = model.opMsg[model.opOfId(first['mismatchClient']!)]!;
  assert.ok(model.msgFlags[mm]! & MsgFlag.Error);
  assert.equal(model.resultName(model.msgResult[mm]!), 'TRANSMISSION_MISMATCH');
  assert.equal(model.opEnd[model.opOfId(first['mismatchA']!)], OpEnd.Error);
  assert.equal(model.errors, 3, 'one failed match + two failed ops');
});

test('stepping: next/previous in a conversation follows the nested exchange; on a lane, the next request', () => {
  const { model, first } = build(3);
  const req = model.opMsg[model.opOfId(first['request']!)]!;
  // the offer opens conversation 1: request → reply → mismatch (nothing nested in 1)
  const n1 = model.stepConversation(req, 1);
  assert.equal(model.msgTypeName(n1), 'posix.Read');
  const n2 = model.stepConversation(n1, 1);
  assert.equal(model.msgTypeName(n2), 'posix.Reply');
  const n3 = model.stepConversation(n2, 1);
  assert.ok(model.msgFlags[n3]! & MsgFlag.Error);
  assert.equal(model.stepConversation(n3, 1), -1, 'the cancelled wait never matched: end of conversation');
  assert.equal(model.stepConversation(n2, -1), n1);
  assert.equal(model.stepConversation(n1, -1), req, 'back to the offer that opened it');
  assert.equal(model.stepConversation(req, -1), -1);
  // conversation 2 includes the nested conversation 3's messages
  const fwd = model.opMsg[model.opOfId(first['forward']!)]!;
  const seq: string[] = [];
  for (let m = fwd; m >= 0; m = model.stepConversation(m, 1, model.msgConversation(fwd))) seq.push(model.msgLabel(m));
  assert.deepEqual(seq, ['offer/accept', 'send 24 B/recv_inline demo.Compute', 'offer/accept', 'push_desc/pull_desc', 'imbue_creds/extract_creds', 'send 16 B/recv_inline demo.Result']);
  // on the lane (client↔A stream): the next round's request
  const next = model.stepLane(req, 1);
  assert.equal(next, 10);
  assert.equal(model.msgLabel(next), 'offer/accept');
  assert.equal(model.opPid[model.msgSrc[next]!], DEMO.client);
  assert.equal(model.stepLane(next, -1), req);
});

test('search for message types', () => {
  const { model } = build(4);
  assert.equal(model.search('posix').length, 8, 'posix.Read and posix.Reply, 4 rounds');
  assert.equal(model.search('posix.read').length, 4);
  assert.equal(model.search('Reply').length, 4);
  assert.equal(model.search('nope').length, 0);
  assert.equal(model.search('').length, 0);
});

test('robust input: matches/completions for unknown submits are counted, not crashing; late events are clamped', () => {
  const model = new IpcModel();
  model.add({ kind: 'match', id: 5, ns: 10, cpu: 0, stream: 1, conversation: 1, cause: 77, other: 78, childStream: 0, result: 0 });
  model.add({ kind: 'complete', id: 6, ns: 11, cpu: 0, stream: 1, tag: 1, cause: 77, result: 0, bytes: 0, pid: 1, tid: 1 });
  model.add({ kind: 'cancel', id: 7, ns: 12, cpu: 0, stream: 1, tag: 1, target: 77, cause: 0, pid: 1, tid: 1 });
  assert.equal(model.orphans, 3);
  assert.equal(model.msgCount, 0);
  const big = 2n ** 63n + 5n;
  model.add({ kind: 'submit', id: 1n << 60n, ns: 20, cpu: 1, stream: big, conversation: big, tag: 1, bytes: 0, actions: [3], pid: 2, tid: 2, lane: 0, retAddr: 0 });
  model.add({ kind: 'submit', id: 2, ns: 30, cpu: 0, stream: big, conversation: big, tag: 2, bytes: 0, actions: [4], pid: 3, tid: 3, lane: 1, retAddr: 0 });
  model.add({ kind: 'match', id: 3, ns: 40, cpu: 0, stream: big, conversation: big, cause: 2, other: 1n << 60n, childStream: 0n, result: 0 });
  model.add({ kind: 'match', id: 4, ns: 35, cpu: 0, stream: big, conversation: big, cause: 2, other: 1n << 60n, childStream: 0n, result: 0 });
  assert.equal(model.msgCount, 2);
  assert.equal(model.clamped, 1);
  assert.equal(model.msgNs[1], 40, 'kept in time order');
  assert.equal(model.convs.length, 1, 'a 64-bit stream id is one conversation');
  assert.equal(model.processes.get(2)?.name, 'pid 2', 'a process first seen in IPC gets a lifeline');
});

test('grows past its initial capacity (columns double) and keeps every op and message', () => {
  const { model } = build(300);
  assert.equal(model.msgCount, 300 * 10);
  assert.equal(model.opCount, 300 * 22);
  for (let m = 1; m < model.msgCount; m++) assert.ok(model.msgNs[m]! >= model.msgNs[m - 1]!);
  assert.equal(model.msgLowerBound(model.msgNs[1234]!), 1234);
});
