/*
 * The IPC lanes view's part of the contract (merged into Requests/Events in contract.ts).
 *
 *   ipc.source      → where the view's trace comes from: the Run's live recording (a trace file
 *                     the backend's TraceSession appends to) or a saved trace the user opened
 *   ipc.readTrace   → raw trace bytes from `offset` (base64, at most 4 MiB); the renderer decodes
 *                     them with debugger/common/trace and feeds the view (live: polled; saved:
 *                     read to the end) — one path for both
 *   ipc.openTrace   → make a saved trace file the source
 *   ipc.abi         → the generated IPC ABI tables (error codes, message types) of the project
 *   ipc.resolve     → a submitting return address → project source file:line (program's DWARF)
 */

export interface IpcSource {
  /** absolute path of the trace file ('' when there is none yet) */
  path: string;
  /** true while a Run is recording into it */
  live: boolean;
  /** changes whenever the source is replaced (a new Run, another file): the view starts over */
  generation: number;
}

export interface IpcMsgField {
  name: string;
  type: string;
  offset: number;
  size: number;
}

export interface IpcMsgType {
  word: number;
  type: string;
  fields: IpcMsgField[];
}

export interface IpcRequests {
  'ipc.source': { params: Record<string, never>; result: IpcSource };
  'ipc.readTrace': { params: { generation: number; offset: number; max?: number }; result: { data: string; offset: number; size: number; live: boolean } };
  'ipc.openTrace': { params: { path: string }; result: IpcSource };
  'ipc.abi': { params: Record<string, never>; result: { errors: Record<string, number>; messages: IpcMsgType[]; problems: string[] } };
  'ipc.resolve': { params: { addr: number; program: string }; result: { file: string; line: number } | null };
}

export interface IpcEvents {
  'ipc.source': IpcSource;
}

declare module './contract.js' {
  interface Requests extends IpcRequests {}
  interface Events extends IpcEvents {}
}
