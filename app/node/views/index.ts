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
import { CrashesBackend } from '../crashes.js';
import { PanicBackend, readPanicFlight } from '../panic.js';
import { CrashStore } from '../crash-store.js';
import { CoreFetcher } from '../core-fetch.js';
import path from 'node:path';
import type { Handlers } from './types.js';

export type { Handler, Handlers, LooseHandlers } from './types.js';

export interface ViewServices {
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
  runner: Runner;
  getProject(): Project | null;
  /** Lanescope's state folder (default: stateDir()); crashes are kept there. */
  stateDir?: string | undefined;
}

/** Every view's backend half; `handlers` covers every request a view declared (type-checked). */
export function backendViews(s: ViewServices) {
  const ipcView = new IpcViewBackend(s.getProject);
  const debug = new DebugController((e, p) => s.emit(e, p), s.runner, s.getProject);
  s.runner.onStopping = (why) => debug.targetEnded(why);
  // cores leave the guest over its console (the guest's `upload`), hidden from the console panel
  const fetcher = new CoreFetcher((d) => s.runner.consoleInput(d));
  s.runner.consoleFilter = (gen, d) => fetcher.filter(gen, d);
  const crashes = new CrashesBackend(() => {
    const project = s.getProject();
    if (!project) return null;
    const kernel = project.resolve(project.config.debug.elf ?? 'build/kernel/lanes.elf');
    return { programsDir: path.resolve(path.dirname(kernel), '../programs'), root: project.root };
  }, (list, earlier) => s.emit('crashes', { crashes: list, earlier }), {
    store: new CrashStore(s.stateDir),
    fetcher,
    open: (core, elf, what) => debug.openCore(core, elf, what),
  });
  const panic = new PanicBackend(() => {
    const project = s.getProject();
    if (!project) return null;
    return { kernelElf: project.resolve(project.config.debug.elf ?? 'build/kernel/lanes.elf'), root: project.root };
  }, (p) => s.emit('panic', { panic: p }), (kernelElf) => {
    const stub = s.runner.postmortemStub;
    if (!stub) return Promise.reject(new Error('this Run has no gdbstub to read the guest\'s memory through (a debug Run, or the project\'s own -gdb in qemu.extraArgs)'));
    return readPanicFlight(stub, kernelElf);
  });
  s.runner.onConsoleData = (gen, d) => {
    crashes.feed(gen, d);
    panic.feed(gen, d);
  };
  s.runner.onGdbStub = (sock) => debug.plainStub(sock);
  const handlers = { ...ipcView.handlers(), ...debug.handlers(), ...crashes.handlers(), ...panic.handlers() } satisfies Partial<Handlers>;
  return {
    handlers,
    /** the target ended (exited, Stop, failed): so did its debug session */
    targetEnded: (why: string) => debug.targetEnded(why),
    shutdown: () => {
      fetcher.dispose();
      return debug.shutdown();
    },
  };
}
