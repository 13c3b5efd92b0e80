/*
 * The IPC lanes view's part of the contract (added to Requests in contract.ts by the module
 * augmentation at the end). Its trace comes from the trace store (trace.* requests, shared by
 * every trace view); these are its own:
 *   ipc.abi         → the generated IPC ABI tables (error codes, message types) of the project
 *   ipc.resolve     → a submitting return address → project source file:line (program's DWARF)
 *   ipc.resolveFrames → a call_site record's frames (return addresses, innermost first) → one
 *                     file:line each (null where the ELF has none), for the Cancellations view
 */

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
  'ipc.abi': { params: Record<string, never>; result: { errors: Record<string, number>; messages: IpcMsgType[]; problems: string[] } };
  'ipc.resolve': { params: { addr: number; program: string }; result: { file: string; line: number } | null };
  'ipc.resolveFrames': { params: { addrs: number[]; program: string }; result: ({ file: string; line: number } | null)[] };
}

declare module './contract.js' {
  interface Requests extends IpcRequests {}
}
