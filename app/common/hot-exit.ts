/*
 * No edit lost ("hot exit", after VS Code): the renderer backs up every dirty buffer to the state
 * directory every few seconds (app/node/hot-exit.ts stores them, never in the project); a backup is
 * dropped when its buffer is saved, closed with Don't Save, or the window closes with Don't Save. So
 * backups found when a project opens are edits a crash, a killed backend or a closed tab left behind,
 * and the renderer offers them back (app/browser/hot-exit.ts).
 *
 * Closing: Electron's main process asks the renderer before a window closes or the app quits
 * (event `app.closeRequested`); the renderer asks Save / Don't Save / Cancel for dirty buffers and
 * answers with `app.closeAnswer` (decision logic: app/common/quit-flow.ts). The browser mode's
 * server does the same on Ctrl+C (app/server/quit.ts); leaving a dirty page gets the browser's own
 * leave-page prompt (beforeunload) — and the backups.
 * Pure types; imports no runtime code.
 */

export interface BufferBackup {
  /** Project-relative path. */
  path: string;
  content: string;
  /** When the backup was written (ms since the epoch). */
  at: number;
  /** The file on disk changed since the backup was written (restoring would overwrite that change on save). */
  diskChanged: boolean;
}

export interface HotExitRequests {
  'backup.set': { params: { path: string; content: string }; result: { ok: true } };
  'backup.drop': { params: { paths: string[] }; result: { ok: true } };
  'backup.list': { params: Record<string, never>; result: BufferBackup[] };
  /** The renderer's answer to `app.closeRequested`: close/quit now (true) or not (false). */
  'app.closeAnswer': { params: { proceed: boolean }; result: { ok: true } };
}

export interface HotExitEvents {
  /** The window is about to close or the app to quit (Electron): ask about dirty buffers, then answer. */
  'app.closeRequested': { reason: 'close' | 'quit' };
}

declare module './contract.js' {
  interface Requests extends HotExitRequests {}
  interface Events extends HotExitEvents {}
}

/** What the renderer does with the user's choice in the unsaved-changes dialog on close/quit. */
export function closeChoiceOutcome(choice: string, dirty: string[]): { save: string[]; dropBackups: string[]; proceedUnlessSaveFails: boolean } {
  if (choice === 'save') return { save: dirty, dropBackups: [], proceedUnlessSaveFails: true };
  if (choice === 'discard') return { save: [], dropBackups: dirty, proceedUnlessSaveFails: true };
  return { save: [], dropBackups: [], proceedUnlessSaveFails: false }; // cancel, Escape, anything else
}
