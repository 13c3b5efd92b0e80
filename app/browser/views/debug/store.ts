/*
 * The renderer's debug state: the user's breakpoints (BreakpointModel, kept in localStorage and
 * mirrored to the backend), the latest session snapshot (debug.state events), and the actions the
 * toolbar, keys and panels call. Views subscribe with onStatus().
 */
import { BreakpointModel, type DebugAction, type DebugStatus } from '../../../common/debug.js';
import type { Client } from '../../client.js';

const STORE_KEY = 'lanescope.breakpoints';

export const debugStore = {
  client: null as Client | null,
  model: new BreakpointModel(),
  status: { phase: 'off', breakpoints: [], seq: 0 } as DebugStatus,
  notify: ((_level: 'info' | 'warning' | 'error', _m: string) => undefined) as (level: 'info' | 'warning' | 'error', m: string) => void,
  openFile: (async () => undefined) as (path: string, line?: number, column?: number) => Promise<void>,
  /** Watch expressions (persisted). */
  watches: [] as string[],
  /** Time the last step command was sent (for the step → highlight benchmark). */
  lastCommandAt: 0,
  /** The last step's (or continue's) command → its line highlighted in the editor. */
  lastHighlightMs: 0,
  /** … → call stack and locals of that stop rendered (the panels' DOM updated). */
  lastFramesMs: 0,
  /** … → the whole stop rendered (CPUs too). */
  lastCompleteMs: 0,
  /** … → the stop's first snapshot arrived in the renderer (before any rendering). */
  lastArrivedMs: 0,
  /** ms the panels took to render the 'running' state after the last command (the renderer is busy with it meanwhile). */
  lastRunningRenderMs: 0,
  /** Saves dirty editors before a Run (set by main.ts through installDebugging). */
  beforeRun: (async () => undefined) as () => Promise<void>,
};

const statusListeners = new Set<(s: DebugStatus) => void>();
/** Run before the others (the editor's current line: what the user waits for after a step). */
const firstListeners = new Set<(s: DebugStatus) => void>();
export function onStatus(cb: (s: DebugStatus) => void, first = false): () => void {
  const set = first ? firstListeners : statusListeners;
  set.add(cb);
  return () => set.delete(cb);
}

/** Which stages of the current stop were timed already (for lastFramesMs / lastCompleteMs). */
const timed = { stopId: -1, frames: false, complete: false };

function setStatus(s: DebugStatus): void {
  if (s.seq && debugStore.status.seq && s.seq < debugStore.status.seq && s.phase === debugStore.status.phase) return;
  if (s.phase === 'stopped' && s.stop && s.stop.stopId !== timed.stopId && debugStore.lastCommandAt) debugStore.lastArrivedMs = performance.now() - debugStore.lastCommandAt;
  debugStore.status = s;
  const r0 = performance.now();
  for (const l of firstListeners) l(s);
  for (const l of statusListeners) l(s);
  if (s.phase === 'running' && debugStore.lastCommandAt) debugStore.lastRunningRenderMs = performance.now() - r0;
  // the listeners render synchronously: the panels show this snapshot now
  const st = s.phase === 'stopped' ? s.stop : undefined;
  if (!st || !debugStore.lastCommandAt) return;
  if (timed.stopId !== st.stopId) Object.assign(timed, { stopId: st.stopId, frames: false, complete: false });
  const ms = performance.now() - debugStore.lastCommandAt;
  const framesReady = st.pending ? !st.pending.includes('frames') && !st.pending.includes('locals') : !st.partial;
  if (!timed.frames && framesReady) {
    timed.frames = true;
    debugStore.lastFramesMs = ms;
  }
  if (!timed.complete && !st.partial) {
    timed.complete = true;
    debugStore.lastCompleteMs = ms;
  }
}

let syncTimer: number | undefined;
let syncing: Promise<void> = Promise.resolve();
/** Sends the breakpoint list now; placement results (errors, addresses) show without waiting for the next state event. */
function sendBreakpoints(): Promise<void> {
  syncTimer = undefined;
  const c = debugStore.client;
  if (!c) return syncing;
  syncing = c.request('debug.setBreakpoints', { breakpoints: debugStore.model.list() }).then((views) => {
    setStatus({ ...debugStore.status, breakpoints: views });
  }, (e: Error) => debugStore.notify('error', `Breakpoints: ${e.message}`));
  return syncing;
}
function syncBreakpoints(): void {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({ breakpoints: debugStore.model.list(), watches: debugStore.watches }));
  } catch {
    /* storage full or disabled */
  }
  window.clearTimeout(syncTimer);
  // a burst of changes (a drag, a restore) goes out once
  syncTimer = window.setTimeout(() => void sendBreakpoints(), 50);
}
/** A change still waiting in the burst goes out (and is placed) before what the user did next:
 *  removing a breakpoint and pressing Continue at once must not run into the removed one. */
function flushBreakpoints(): Promise<void> {
  if (syncTimer === undefined) return syncing;
  window.clearTimeout(syncTimer);
  return sendBreakpoints();
}

export function saveWatches(): void {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({ breakpoints: debugStore.model.list(), watches: debugStore.watches }));
  } catch {
    /* ignore */
  }
}

export async function initDebugStore(client: Client, notify: typeof debugStore.notify, openFile: typeof debugStore.openFile): Promise<void> {
  debugStore.client = client;
  debugStore.notify = notify;
  debugStore.openFile = openFile;
  try {
    const saved = JSON.parse(localStorage.getItem(STORE_KEY) ?? '{}') as { breakpoints?: unknown[]; watches?: unknown[] };
    for (const b of saved.breakpoints ?? []) {
      try {
        debugStore.model.add(b as never);
      } catch {
        /* skip a bad entry */
      }
    }
    debugStore.watches = (saved.watches ?? []).filter((w): w is string => typeof w === 'string');
  } catch {
    /* nothing saved */
  }
  client.on('debug.state', (s) => setStatus(s));
  debugStore.model.onChange(syncBreakpoints);
  try {
    const st = await client.request('debug.status', {});
    setStatus(st);
    if (!debugStore.model.list().length) for (const b of st.breakpoints) debugStore.model.add({ file: b.file, line: b.line, enabled: b.enabled, ...(b.condition ? { condition: b.condition } : {}) });
  } catch {
    /* backend without debugging */
  }
  if (debugStore.model.list().length) syncBreakpoints();
}

export async function debugCommand(action: DebugAction): Promise<void> {
  if (!debugStore.client) return;
  debugStore.lastCommandAt = performance.now();
  try {
    await flushBreakpoints();
    await debugStore.client.request('debug.command', { action });
  } catch (e) {
    debugStore.notify('warning', (e as Error).message);
  }
}

export async function startDebugRun(): Promise<void> {
  if (!debugStore.client) return;
  try {
    await debugStore.beforeRun();
    await flushBreakpoints();
    await debugStore.client.request('debug.run', {});
  } catch (e) {
    debugStore.notify('error', (e as Error).message);
  }
}

/** Run (F5) debugs when the user has set breakpoints (the session stops there). */
export function runShouldDebug(): boolean {
  return debugStore.model.list().some((b) => b.enabled);
}

export const isStopped = (): boolean => debugStore.status.phase === 'stopped';
export const isDebugging = (): boolean => debugStore.status.phase === 'running' || debugStore.status.phase === 'stopped' || debugStore.status.phase === 'starting';
