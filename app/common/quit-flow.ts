/*
 * When may the window close and the app quit? A pure state machine, so it is unit-tested without
 * Electron (app/test/unit/quit-flow.test.ts); electron-main/main.ts feeds it Electron's events and
 * carries out the effects.
 *
 *   window 'close' or app 'before-quit' ──▶ prevent it, ask the renderer (`app.closeRequested`)
 *        renderer: no dirty buffer, or Save (all saved) / Don't Save ──▶ answer proceed
 *                  Cancel, or a save failed                          ──▶ answer cancel
 *   proceed: a window close closes the window (the app then quits through window-all-closed);
 *            a quit shuts the backend down (QEMU, gdb, terminals) and exits.
 *   The renderer is gone (crashed): nothing more can be asked — its buffers are in the hot-exit
 *   backups — so the close or quit goes on.
 */

export interface QuitState {
  /** The renderer was asked and has not answered. */
  asking: boolean;
  /** What was asked is a quit of the app (not only a window close). */
  quitting: boolean;
  /** The renderer agreed: the window may close without asking again. */
  approved: boolean;
  /** shutdown-and-exit was issued. */
  exiting: boolean;
}

export type QuitEvent =
  | { type: 'window-close' }
  | { type: 'before-quit'; hasWindow: boolean }
  | { type: 'answer'; proceed: boolean }
  | { type: 'renderer-gone' };

/**
 * prevent: cancel the Electron event at hand · ask-renderer: send `app.closeRequested` ·
 * close-window: close the window again (now approved) · shutdown-and-exit: backend.shutdown(), app.exit(0).
 */
export type QuitEffect = 'prevent' | 'ask-renderer' | 'close-window' | 'shutdown-and-exit';

export const INITIAL_QUIT_STATE: QuitState = { asking: false, quitting: false, approved: false, exiting: false };

export function quitStep(s: QuitState, e: QuitEvent): { state: QuitState; effects: QuitEffect[] } {
  switch (e.type) {
    case 'window-close':
      if (s.approved || s.exiting) return { state: s, effects: [] };
      if (s.asking) return { state: s, effects: ['prevent'] };
      return { state: { ...s, asking: true, quitting: false }, effects: ['prevent', 'ask-renderer'] };
    case 'before-quit':
      if (s.exiting) return { state: s, effects: ['prevent'] };
      if (s.approved || !e.hasWindow) return { state: { ...s, exiting: true }, effects: ['prevent', 'shutdown-and-exit'] };
      if (s.asking) return { state: { ...s, quitting: true }, effects: ['prevent'] };
      return { state: { ...s, asking: true, quitting: true }, effects: ['prevent', 'ask-renderer'] };
    case 'answer':
      if (!s.asking) return { state: s, effects: [] }; // late or unsolicited: ignore
      if (!e.proceed) return { state: { ...s, asking: false, quitting: false }, effects: [] };
      return proceed(s);
    case 'renderer-gone':
      if (s.exiting) return { state: s, effects: [] };
      return proceed(s);
  }
}

function proceed(s: QuitState): { state: QuitState; effects: QuitEffect[] } {
  if (s.quitting) return { state: { ...s, asking: false, approved: true, exiting: true }, effects: ['shutdown-and-exit'] };
  return { state: { ...s, asking: false, approved: true }, effects: ['close-window'] };
}
