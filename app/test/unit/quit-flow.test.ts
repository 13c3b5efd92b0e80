// The Electron quit/close decision (app/common/quit-flow.ts; Electron itself cannot run here):
// closing or quitting asks the renderer first; Cancel keeps everything; Save/Don't Save goes on; a
// quit shuts the backend down before exiting; a crashed renderer does not block quitting forever.
// Plus the renderer's choice → outcome (app/common/hot-exit.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeChoiceOutcome } from '../../common/hot-exit.js';
import { INITIAL_QUIT_STATE, quitStep, type QuitEffect, type QuitEvent, type QuitState } from '../../common/quit-flow.js';

function run(events: QuitEvent[]): { state: QuitState; effects: QuitEffect[][] } {
  let state = INITIAL_QUIT_STATE;
  const effects: QuitEffect[][] = [];
  for (const e of events) {
    const r = quitStep(state, e);
    state = r.state;
    effects.push(r.effects);
  }
  return { state, effects };
}

test('closing the window asks the renderer and keeps the window open until it answers', () => {
  const r = run([{ type: 'window-close' }]);
  assert.deepEqual(r.effects, [['prevent', 'ask-renderer']]);
  // a second close while the dialog is up is prevented without asking twice
  assert.deepEqual(run([{ type: 'window-close' }, { type: 'window-close' }]).effects[1], ['prevent']);
});

test('Cancel keeps the window; the next close asks again', () => {
  const r = run([{ type: 'window-close' }, { type: 'answer', proceed: false }, { type: 'window-close' }]);
  assert.deepEqual(r.effects, [['prevent', 'ask-renderer'], [], ['prevent', 'ask-renderer']]);
  assert.equal(r.state.approved, false);
});

test('Save or Don\'t Save on a window close closes it; the quit that follows shuts the backend down without asking again', () => {
  const r = run([{ type: 'window-close' }, { type: 'answer', proceed: true }, { type: 'window-close' }, { type: 'before-quit', hasWindow: false }]);
  assert.deepEqual(r.effects, [['prevent', 'ask-renderer'], ['close-window'], [], ['prevent', 'shutdown-and-exit']]);
});

test('Quit (Ctrl+Q, the dock, the OS) asks first, then shuts down and exits; Cancel cancels the quit', () => {
  assert.deepEqual(run([{ type: 'before-quit', hasWindow: true }, { type: 'answer', proceed: true }]).effects, [['prevent', 'ask-renderer'], ['shutdown-and-exit']]);
  const c = run([{ type: 'before-quit', hasWindow: true }, { type: 'answer', proceed: false }, { type: 'before-quit', hasWindow: true }]);
  assert.deepEqual(c.effects, [['prevent', 'ask-renderer'], [], ['prevent', 'ask-renderer']]);
  assert.equal(c.state.exiting, false);
  // no window: nothing to ask
  assert.deepEqual(run([{ type: 'before-quit', hasWindow: false }]).effects, [['prevent', 'shutdown-and-exit']]);
  // once exiting, further before-quit events are swallowed (no second shutdown)
  assert.deepEqual(run([{ type: 'before-quit', hasWindow: false }, { type: 'before-quit', hasWindow: false }]).effects[1], ['prevent']);
});

test('a quit during a close dialog becomes a quit; a late or unsolicited answer does nothing', () => {
  const r = run([{ type: 'window-close' }, { type: 'before-quit', hasWindow: true }, { type: 'answer', proceed: true }]);
  assert.deepEqual(r.effects, [['prevent', 'ask-renderer'], ['prevent'], ['shutdown-and-exit']]);
  assert.deepEqual(run([{ type: 'answer', proceed: true }]).effects, [[]]);
});

test('a crashed renderer cannot answer: the close or quit goes on (its buffers are in the backups)', () => {
  assert.deepEqual(run([{ type: 'before-quit', hasWindow: true }, { type: 'renderer-gone' }]).effects[1], ['shutdown-and-exit']);
  assert.deepEqual(run([{ type: 'window-close' }, { type: 'renderer-gone' }]).effects[1], ['close-window']);
});

test('the renderer\'s Save / Don\'t Save / Cancel', () => {
  assert.deepEqual(closeChoiceOutcome('save', ['a.c']), { save: ['a.c'], dropBackups: [], proceedUnlessSaveFails: true });
  assert.deepEqual(closeChoiceOutcome('discard', ['a.c', 'b.c']), { save: [], dropBackups: ['a.c', 'b.c'], proceedUnlessSaveFails: true });
  assert.equal(closeChoiceOutcome('cancel', ['a.c']).proceedUnlessSaveFails, false);
  assert.equal(closeChoiceOutcome('', ['a.c']).proceedUnlessSaveFails, false);
});

// The browser mode's Quit (Ctrl+C on the server, app/server/quit.ts) runs the same machine.
test('browser mode: Ctrl+C asks the pages; the same Ctrl+C delivered twice is one; a later one, or every page gone, quits', async () => {
  const { BrowserQuit } = await import('../../server/quit.js');
  const emitted: string[] = [];
  const backend = { onCloseAnswer: null as ((p: boolean) => void) | null, emit: (e: string) => emitted.push(e) };
  let pages = 1;
  let exits = 0;
  const q = new BrowserQuit({ backend: backend as never, pages: () => pages, exit: () => exits++, log: () => undefined });
  q.interrupt();
  q.interrupt(); // npm start's launcher forwards the terminal's Ctrl+C: the server gets it twice
  assert.deepEqual(emitted, ['app.closeRequested']);
  assert.equal(q.asking, true);
  backend.onCloseAnswer!(false); // Cancel
  assert.equal(exits, 0);
  assert.equal(q.asking, false);
  q.interrupt();
  assert.equal(emitted.length, 2, 'asked again');
  pages = 0;
  q.pageClosed(); // the last page went away while asked: nobody can answer
  assert.equal(exits, 1);
  const q2 = new BrowserQuit({ backend: backend as never, pages: () => 0, exit: () => exits++, log: () => undefined });
  q2.interrupt(); // no page: quit at once
  assert.equal(exits, 2);
  backend.onCloseAnswer!(true); // a late answer does nothing more
  assert.equal(exits, 2);
});
