// A Run's trace from frames the caller hands over (prepareRunTrace({ transport: 'line' }).feed):
// the serial target demultiplexes a board's one UART itself (common/serial-mux.ts) and gives each
// trace frame to the session. The frames decode, the recording starts with the header and reloads,
// a damaged frame is counted, nothing is fed after stop.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DefTable } from '../common/trace/defs.js';
import { concat, encodeRecord } from '../common/trace/encode.js';
import { makeHeader } from '../common/trace/flight.js';
import { frameEncode } from '../common/trace/serial.js';
import { prepareRunTrace } from '../node/trace/run.js';
import { loadTrace } from '../node/trace/session.js';

test('frames fed from a shared line are decoded and recorded; a damaged one is counted', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-line-'));
  try {
    const defs = new DefTable();
    const tr = prepareRunTrace({ dir, transport: 'line', keepEvents: true });
    assert.deepEqual(tr.qemuArgs, [], 'nothing for QEMU: the line is the caller\'s');
    tr.session.start();
    const rec = (seq: number) => encodeRecord(defs, 'irq', { cpu: 0, tsc: 1000 + seq, seq }, { irq: seq, vector: 32 + seq });
    // a board that ran before the host asked: records first, the preamble (header) after them
    tr.feed(frameEncode(0, concat([rec(0), rec(1)])));
    tr.feed(frameEncode(1, makeHeader(1_000_000_000n, 0n, 1)));
    tr.feed(frameEncode(2, concat([rec(2), rec(3)])));
    const bad = frameEncode(3, rec(4));
    bad[3] = bad[3]! ^ 0x40;
    tr.feed(bad);
    const st = await tr.stop();
    tr.feed(frameEncode(4, rec(5))); // after stop: ignored
    assert.equal(st.corruptFrames, 1, JSON.stringify(st));
    assert.deepEqual(tr.session.events.filter((e) => e.name === 'irq').map((e) => e.fields['irq']), [0, 1, 2, 3]);
    const back = loadTrace(tr.recording);
    assert.deepEqual(back.events.filter((e) => e.name === 'irq').map((e) => e.fields['irq']), [0, 1, 2, 3], 'the recording reloads with every record');
    assert.equal(fs.readFileSync(tr.recording).readUInt16LE(0), 1, 'the recording starts with trace_header');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('feed() on a Run traced another way says so', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-line-'));
  try {
    const tr = prepareRunTrace({ dir, transport: 'serial' });
    assert.throws(() => tr.feed(new Uint8Array([1, 0])), /not on a shared line/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
