/*
 * The Cancellations view's app side without a browser:
 *  - a saved trace (`cat /dev/slow` + Ctrl-C, written with the trace encoders) through the
 *    renderer's trace table (decoded once, CPUs merged) gives the model the same calls, outcomes
 *    and chains as the events themselves — read whole, or growing in small chunks as a live Run's;
 *  - Break on next cancellation: the break line is found in the kernel's trace_user (or a clear
 *    error names what is missing), and the gdb conditions (any / process / signal).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { TraceTable } from '../../browser/trace/table.js';
import { FS_WAIT_CANCEL_LOCATION, TRACE_USER_LOCATION, breakLine } from '../../browser/views/cancel/break.js';
import { CancelModel } from '../../../visualizers/cancel/model.js';
import { catSlowTraceFile } from '../cancel-fixture.js';

const repo = path.resolve(import.meta.dirname, '../../..');

function summary(m: CancelModel) {
  return m.cancelled.map((i) => ({ outcome: m.calls[i]!.outcome, done: m.calls[i]!.done, links: m.chain(i).links.map((l) => [l.kind, l.ns]) }));
}

test('a saved trace through the trace table gives the same cancellations as its events; so does a growing one', () => {
  const { events, bytes } = catSlowTraceFile();
  const direct = new CancelModel();
  direct.addAll(events);
  const t = new TraceTable();
  t.push(bytes);
  t.finish();
  assert.equal(t.decoder.stats.malformed ?? 0, 0);
  const m = new CancelModel();
  m.addAll(t.rows());
  assert.equal(m.cancelled.length, 1);
  assert.deepEqual(summary(m), summary(direct));
  assert.deepEqual(m.chain(m.cancelled[0]!).links.map((l) => l.kind), ['generate', 'flag', 'raise', 'raise', 'ack', 'ack', 'reply', 'end', 'action', 'exit']);
  // live: bytes arrive in odd-sized pieces, rows are fed as they come out of the merge window
  const t2 = new TraceTable();
  const m2 = new CancelModel();
  let fed = 0;
  for (let o = 0; o < bytes.length; o += 97) {
    t2.push(bytes.subarray(o, o + 97));
    m2.addAll(t2.rows(fed));
    fed = t2.count;
  }
  t2.finish();
  m2.addAll(t2.rows(fed));
  assert.deepEqual(summary(m2), summary(direct));
});

const SYS_SIGNAL = path.join(repo, 'os/kernel/generic/sys_signal.c');
test('Break on next cancellation: the line of trace_user in the kernel, and the conditions', () => {
  const src = fs.existsSync(SYS_SIGNAL) ? fs.readFileSync(SYS_SIGNAL, 'utf8') : 'int x;\n/* ---- trace_user ---- */\n\nSYS(trace_user)\n{\n    UNUSED_ARGS;\n}\n';
  const line = breakLine(src, TRACE_USER_LOCATION);
  assert.match(src.split('\n')[line - 1]!, /^SYS\(trace_user\)$/);
  assert.throws(() => breakLine('int main(void) { return 0; }', TRACE_USER_LOCATION), /kernel\/generic\/sys_signal\.c has no .*trace_user.* to break in \(a server's cancel_ack/);
  assert.equal(TRACE_USER_LOCATION.condition({ kind: 'any' }, []), 'a0 == 165');
  assert.equal(TRACE_USER_LOCATION.condition({ kind: 'signal', signo: 2 }, []), 'a0 == 165', 'the signal is checked at the stop, from the trace');
  assert.equal(TRACE_USER_LOCATION.condition({ kind: 'process', pid: 5 }, [50, 51]), 'a0 == 165 && ((*(unsigned long long *)a1 >> 32) == 50 || (*(unsigned long long *)a1 >> 32) == 51)');
  assert.throws(() => TRACE_USER_LOCATION.condition({ kind: 'process', pid: 9 }, []), /pid 9 has no threads in the trace yet/);
});

const WAIT_C = path.join(repo, 'os/programs/fs/wait.c');
test('the alternative location: fs\'s own cancel handler wait_cancel()', { skip: !fs.existsSync(WAIT_C) && 'no os/programs/fs/wait.c in this tree' }, () => {
  const src = fs.readFileSync(WAIT_C, 'utf8');
  const line = breakLine(src, FS_WAIT_CANCEL_LOCATION);
  assert.match(src.split('\n')[line - 1]!, /^void wait_cancel\(int i, uint64_t id, uint64_t call\)$/);
  assert.equal(FS_WAIT_CANCEL_LOCATION.condition({ kind: 'any' }, []), '');
  assert.equal(FS_WAIT_CANCEL_LOCATION.condition({ kind: 'process', pid: 5 }, [50]), '(call >> 32) == 50');
});
