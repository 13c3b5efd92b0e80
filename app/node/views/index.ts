/*
 * The backend halves of the views, listed once (the renderer's list is app/browser/views/index.ts).
 * Each part gets the backend's services (events, the runner, the open project) and answers its
 * own requests — declared in the view's app/common/ file, which augments the contract's Requests;
 * the backend registers every handler here and the contract's REQUEST_NAMES follow from that.
 */
import type { Events } from '../../common/contract.js';
import type { Project } from '../project.js';
import type { Runner } from '../runner.js';
import { DebugController } from '../debug/controller.js';
import { IpcViewBackend } from '../ipc-view.js';
import type { Handlers } from './types.js';

export type { Handler, Handlers, LooseHandlers } from './types.js';

export interface ViewServices {
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
  runner: Runner;
  getProject(): Project | null;
}

/** Every view's backend half; `handlers` covers every request a view declared (type-checked). */
export function backendViews(s: ViewServices) {
  const ipcView = new IpcViewBackend(s.getProject);
  const debug = new DebugController((e, p) => s.emit(e, p), s.runner, s.getProject);
  s.runner.onStopping = (why) => debug.targetEnded(why);
  s.runner.onGdbStub = (sock) => debug.plainStub(sock);
  const handlers = { ...ipcView.handlers(), ...debug.handlers() } satisfies Partial<Handlers>;
  return {
    handlers,
    /** the target ended (exited, Stop, failed): so did its debug session */
    targetEnded: (why: string) => debug.targetEnded(why),
    shutdown: () => debug.shutdown(),
  };
}
