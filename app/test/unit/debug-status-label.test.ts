/*
 * The status bar's debug state: "paused · <why>" while the debugger holds the target
 * stopped, nothing (the target's own "running · 00:42") in every other phase.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { debugStatusLabel } from '../../common/debug.js';

test('a stop at a breakpoint reads "paused · breakpoint N in func"', () => {
  assert.equal(debugStatusLabel({ phase: 'stopped', stop: { description: 'breakpoint 1 in syscall_dispatch' } }),
    'paused · breakpoint 1 in syscall_dispatch');
  assert.equal(debugStatusLabel({ phase: 'stopped', stop: { description: 'kernel panic: out of frames (CPU 0)' } }),
    'paused · kernel panic: out of frames (CPU 0)');
});

test('a stop without details still says paused', () => {
  assert.equal(debugStatusLabel({ phase: 'stopped' }), 'paused');
  assert.equal(debugStatusLabel({ phase: 'stopped', stop: { description: '  ' } }), 'paused');
});

test('running, starting, ended and no session leave the target state to the status bar', () => {
  for (const phase of ['off', 'starting', 'running', 'ended'] as const) {
    assert.equal(debugStatusLabel({ phase, stop: { description: 'breakpoint 1 in syscall_dispatch' } }), undefined, phase);
  }
});

test('a core file open in the Debug panels does not make the Run read "paused" (it holds no target)', () => {
  assert.equal(debugStatusLabel({ phase: 'stopped', stop: { description: 'core of crashme (pid 10): SIGSEGV' }, core: { file: '/x/core' } }), undefined);
});
