/*
 * The status bar's trace recording: a session's once-a-second stats → "trace 60 ev/s · 0 lost"
 * (every kind of loss counted; never silent), the final count when the Run ended, and "Save trace…"
 * before any Run is a clear message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceStatusLabel } from '../../common/contract.js';
import { Runner, traceStatus } from '../../node/runner.js';
import type { SessionStats } from '../../../debugger/node/trace/session.js';

const stats = (o: Partial<SessionStats>): SessionStats => ({
  records: 0, events: 0, lost: 0, transportLost: 0, corruptBytes: 0, resyncs: 0, unknown: 0, badDefs: 0, malformed: 0,
  corruptFrames: 0, missingFrames: 0, source: 'shm:/dev/shm/x', bytes: 0, eventsPerSec: 0, shmLost: 0, recordedBytes: 0, ...o,
});

test('live: rate and lost', () => {
  assert.equal(traceStatusLabel(traceStatus(stats({ eventsPerSec: 60, events: 900 }), true)), 'trace 60 ev/s · 0 lost');
  assert.equal(traceStatusLabel(traceStatus(stats({ eventsPerSec: 1234567, events: 5e6 }), true)), 'trace 1,234,567 ev/s · 0 lost');
});

test('every loss counts: kernel ring drops, transport drops and the shared-memory drain', () => {
  const t = traceStatus(stats({ eventsPerSec: 10, lost: 3, transportLost: 2, shmLost: 1 }), true);
  assert.equal(t.lost, 6);
  assert.equal(traceStatusLabel(t), 'trace 10 ev/s · 6 lost');
});

test('corrupt serial frames are shown only when there are some', () => {
  assert.equal(traceStatusLabel(traceStatus(stats({ eventsPerSec: 5, corruptFrames: 2 }), true)), 'trace 5 ev/s · 0 lost · 2 corrupt frames');
});

test('ended: the final count instead of a rate', () => {
  assert.equal(traceStatusLabel(traceStatus(stats({ eventsPerSec: 60, events: 12345 }), false)), 'trace ended · 12,345 events · 0 lost');
});

test('Save trace before any Run says what to do', () => {
  const r = new Runner(() => undefined, () => null);
  assert.throws(() => r.saveTrace('/tmp/never.ltrace'), /no trace recorded yet: press Run/);
});
