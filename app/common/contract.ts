/*
 * The contract between Lanescope's renderer (app/browser) and its backend (app/node).
 *
 * Every message that crosses the boundary — over the browser mode's WebSocket or Electron's IPC —
 * is one of the types below, serialised as JSON. Requests carry an id and get exactly one Response;
 * events flow from the backend to the renderer at any time. This file imports no runtime code.
 *
 * A view with requests of its own declares them in its own app/common/<view>.ts by augmenting
 * `Requests` and `Events` (declare module './contract.js'), so adding one touches nothing here.
 */
import type { ProjectConfig, TargetKind } from './project.js';
import type { SerialLineStatus } from './serial-line.js';

/** Lifecycle of the thing Run produces. */
export type TargetState =
  | { kind: 'idle' }
  | { kind: 'building' }
  | { kind: 'booting' }
  | { kind: 'running' }
  | { kind: 'stopped' }
  | { kind: 'exited'; code: number }
  | { kind: 'failed'; message: string };

export type Severity = 'error' | 'warning' | 'note';

/** One parsed compiler/linker/make message. `file` is project-relative when inside the project. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  message: string;
  source: 'gcc' | 'ld' | 'make' | 'as';
}

export interface DirEntry {
  name: string;
  /** Project-relative path with '/' separators. */
  path: string;
  kind: 'file' | 'dir';
}

export interface ProjectInfo {
  root: string;
  name: string;
  config: ProjectConfig;
  /** True when lanescope.json did not exist and defaults are shown (not yet written). */
  configIsDefault: boolean;
  /** Problems found in lanescope.json (the config above then has defaults in their place). */
  configErrors: string[];
  /** configIsDefault: where each proposed field came from (the Makefile, an ELF's header, a disk image …). */
  proposalNotes?: string[];
}

/** Layout and open files of one window, persisted by the backend (never in the project). */
export interface UiState {
  theme: 'dark' | 'light';
  sidebarWidth: number;
  panelHeight: number;
  activePanel: string;
  openFiles: string[];
  activeFile: string | null;
  expandedDirs: string[];
}

export interface ProgressInfo {
  /** e.g. 'build', 'boot'. */
  task: string;
  /** Human readable stage, e.g. 'compiling kernel/generic/main.c' or 'loading kernel'. */
  stage: string;
  /** Step number and total when known. */
  step?: number;
  total?: number;
  done?: boolean;
}

export interface SerialPortInfo {
  path: string;
  manufacturer?: string;
}

/** Request name → params and result. */
export interface Requests {
  'project.open': { params: { path?: string }; result: ProjectInfo };
  'project.writeConfig': { params: { config: ProjectConfig }; result: ProjectInfo };
  'project.setTarget': { params: { kind: TargetKind; qemu?: { cpus: number; memory: string; accel: 'auto' | 'kvm' | 'tcg' }; serial?: { port: string; baud: number; mux?: boolean; reset?: 'dtr' | 'rts' | null } }; result: ProjectInfo };
  'fs.list': { params: { path: string }; result: DirEntry[] };
  'fs.read': { params: { path: string }; result: { path: string; content: string } };
  'fs.write': { params: { path: string; content: string }; result: { path: string; bytes: number } };
  'run.start': { params: Record<string, never>; result: { ok: true } };
  'run.stop': { params: Record<string, never>; result: { ok: true } };
  'run.restart': { params: Record<string, never>; result: { ok: true } };
  'run.status': { params: Record<string, never>; result: { state: TargetState; since: number; problems: Diagnostic[] } };
  'console.input': { params: { data: string }; result: { ok: true } };
  'term.create': { params: { cols: number; rows: number }; result: { id: number } };
  'term.input': { params: { id: number; data: string }; result: { ok: true } };
  'term.resize': { params: { id: number; cols: number; rows: number }; result: { ok: true } };
  /** Flow control: the renderer has processed `bytes` more characters of this terminal's output. */
  'term.ack': { params: { id: number; bytes: number }; result: { ok: true } };
  'term.close': { params: { id: number }; result: { ok: true } };
  'serial.list': { params: Record<string, never>; result: SerialPortInfo[] };
  'state.get': { params: Record<string, never>; result: UiState };
  'state.set': { params: { state: Partial<UiState> }; result: { ok: true } };
  /** Where the trace comes from: the Run's live recording or a saved trace (the trace store follows it). */
  'trace.source': { params: Record<string, never>; result: TraceSource };
  /** Raw trace bytes from `offset` (base64, at most 4 MiB); the renderer's trace store decodes them, once. */
  'trace.read': { params: { generation: number; offset: number; max?: number }; result: { data: string; offset: number; size: number; live: boolean } };
  /** Makes a saved trace file (absolute, or relative to the project) the source of every trace view. */
  'trace.open': { params: { path: string }; result: TraceSource };
  /** Saves the current (or last) Run's trace recording to a project path (confined to the project). */
  'trace.save': { params: { path: string }; result: { path: string; bytes: number } };
  'trace.exportPerfetto': { params: { path: string }; result: { path: string; bytes: number; events: number } };
}

/** The source of the trace every trace view shows (app/node/trace.ts). */
export interface TraceSource {
  /** absolute path of the trace file ('' when there is none yet) */
  path: string;
  /** true while a Run is recording into it */
  live: boolean;
  /** changes whenever the source is replaced (a new Run, another file): the views start over */
  generation: number;
}

/**
 * The Run's trace recording, once a second while live and once more when it ends (live false).
 * The backend does not decode the recording (the renderer's trace store does, once): from the
 * backend the figures are the transport's (events dropped before the stream, corrupt serial
 * frames); the store adds the stream's own (events, rate, lost records) for the status bar.
 */
export interface TraceStatus {
  live: boolean;
  eventsPerSec: number;
  events: number;
  /** Events the kernel dropped (ring full) plus records the transport dropped. */
  lost: number;
  corruptFrames: number;
}

/** Event name → payload. */
export interface Events {
  'run.state': { state: TargetState; since: number };
  'run.progress': ProgressInfo;
  'build.output': { data: string };
  'problems': { diagnostics: Diagnostic[] };
  'console.data': { data: string };
  'term.data': { id: number; data: string };
  'term.exit': { id: number; code: number };
  'notice': { level: 'info' | 'warning' | 'error'; message: string };
  'project.changed': { project: ProjectInfo };
  'trace.stats': TraceStatus;
  'trace.source': TraceSource;
  /** The serial target's line (app/node/serial-target.ts): once a second while open, and on each change. */
  'serial.status': SerialLineStatus;
}

export type RequestName = keyof Requests;
export type EventName = keyof Events;

export interface RequestMessage<K extends RequestName = RequestName> {
  type: 'request';
  id: number;
  method: K;
  params: Requests[K]['params'];
}

export type ResponseMessage<K extends RequestName = RequestName> =
  | { type: 'response'; id: number; ok: true; result: Requests[K]['result'] }
  | { type: 'response'; id: number; ok: false; error: string };

export interface EventMessage<K extends EventName = EventName> {
  type: 'event';
  event: K;
  payload: Events[K];
}

export type ServerMessage = ResponseMessage | EventMessage;
export type ClientMessage = RequestMessage;

/** Checks the shape of an incoming client message (the backend never trusts the renderer). */
export function parseClientMessage(raw: string): ClientMessage | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return 'message is not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'message is not an object';
  const m = v as Record<string, unknown>;
  if (m['type'] !== 'request') return 'message type must be "request"';
  if (typeof m['id'] !== 'number' || !Number.isInteger(m['id'])) return 'request id must be an integer';
  if (typeof m['method'] !== 'string' || !REQUEST_NAMES.has(m['method']))
    return `unknown method ${JSON.stringify(m['method'])}`;
  if (typeof m['params'] !== 'object' || m['params'] === null) return 'params must be an object';
  return m as unknown as ClientMessage;
}

/**
 * The request names the backend answers — derived, not kept by hand: the backend registers its
 * handler table (core requests and every view's backend half, app/node/views/) here, so a view's
 * requests are accepted as soon as its handlers exist.
 */
const requestNames = new Set<string>();
export const REQUEST_NAMES: ReadonlySet<string> = requestNames;
export function registerRequestNames(names: Iterable<string>): void {
  for (const n of names) requestNames.add(n);
}


export const DEFAULT_UI_STATE: UiState = {
  theme: 'dark',
  sidebarWidth: 240,
  panelHeight: 260,
  activePanel: 'console',
  openFiles: [],
  activeFile: null,
  expandedDirs: [],
};

/** Name of the Electron IPC channel carrying the messages above. */
export const IPC_CHANNEL = 'lanescope:message';

export function describeState(s: TargetState): string {
  switch (s.kind) {
    case 'exited': return `exited with code ${s.code}`;
    case 'failed': return `failed: ${s.message}`;
    default: return s.kind;
  }
}

/** Status-bar text of the Run's trace recording, e.g. `trace 60 ev/s · 0 lost` (ended: `trace 1,234 events · 0 lost`). */
export function traceStatusLabel(s: TraceStatus): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const head = s.live ? `trace ${n(s.eventsPerSec)} ev/s` : `trace ended · ${n(s.events)} events`;
  return `${head} · ${n(s.lost)} lost${s.corruptFrames ? ` · ${n(s.corruptFrames)} corrupt frames` : ''}`;
}
