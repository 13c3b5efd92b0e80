/*
 * Quitting the browser mode asks first, like Electron's Quit: the same state machine
 * (common/quit-flow.ts quitStep) and the same renderer dialog (browser/hot-exit.ts: Save / Don't Save /
 * Cancel for dirty buffers). The browser mode's Quit is the server being interrupted (Ctrl+C, SIGINT):
 *
 *   SIGINT ─▶ quitStep(before-quit, hasWindow = a page is connected)
 *              no page: shut the backend down (QEMU, gdb, terminals) and exit
 *              a page:  every page gets `app.closeRequested` {reason: 'quit'}; the first answer
 *                       (`app.closeAnswer`) decides: proceed → shut down and exit; cancel → keep
 *                       serving (a line on stderr says so)
 *   every page disconnects while asked ─▶ renderer-gone: exit (the hot-exit backups hold the edits)
 *   a second SIGINT while asking (1 s or more after the first: a terminal's Ctrl+C reaches both
 *   `npm start`'s launcher, which forwards it, and the server) ─▶ exit at once.
 * SIGTERM and SIGHUP (a service manager, a closed terminal) do not wait for a dialog: the backend
 * shuts down at once and the backups cover unsaved edits.
 */
import type { Backend } from '../node/backend.js';
import { INITIAL_QUIT_STATE, quitStep, type QuitEvent } from '../common/quit-flow.js';

export interface QuitHost {
  backend: Backend;
  /** pages connected now */
  pages(): number;
  /** shut everything down and exit (once) */
  exit(): void;
  log(line: string): void;
}

export class BrowserQuit {
  private state = INITIAL_QUIT_STATE;
  private askedAt = 0;

  constructor(private readonly h: QuitHost) {
    h.backend.onCloseAnswer = (proceed) => {
      if (!proceed && this.state.asking) h.log('lanescope: quit cancelled in the browser (Ctrl+C again quits without asking)');
      this.step({ type: 'answer', proceed });
    };
  }

  /** SIGINT: ask the pages (or quit when there is none); a second one while asking quits. */
  interrupt(): void {
    if (this.state.asking) {
      if (Date.now() - this.askedAt < 1000) return; // the same Ctrl+C, delivered twice
      this.h.log('lanescope: quitting without waiting for the browser');
      this.step({ type: 'renderer-gone' });
      return;
    }
    this.step({ type: 'before-quit', hasWindow: this.h.pages() > 0 });
  }

  /** A page disconnected: if none is left while asking, nobody can answer. */
  pageClosed(): void {
    if (this.state.asking && this.h.pages() === 0) this.step({ type: 'renderer-gone' });
  }

  get asking(): boolean {
    return this.state.asking;
  }

  private step(e: QuitEvent): void {
    const { state, effects } = quitStep(this.state, e);
    this.state = state;
    for (const fx of effects) {
      if (fx === 'ask-renderer') {
        this.askedAt = Date.now();
        this.h.log('lanescope: asking the browser about unsaved changes before quitting');
        this.h.backend.emit('app.closeRequested', { reason: 'quit' });
      } else if (fx === 'shutdown-and-exit') this.h.exit();
      // 'prevent' (SIGINT is already handled) and 'close-window' (no window close here) need nothing
    }
  }
}
