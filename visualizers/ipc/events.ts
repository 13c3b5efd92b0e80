/*
 * events.ts — what the IPC lanes view consumes: a plain description of LaneOS's IPC trace events.
 *
 * visualizers/ never imports debugger/ (layering); app/ adapts decoded trace records
 * (os/abi/trace.toml: proc_create, thread_create, ipc_submit, ipc_match, ipc_complete, ipc_cancel)
 * into these shapes and calls IpcModel.add(). The model copies every value it needs into its own
 * columns and never keeps the object, so an adapter may reuse one object for a whole trace.
 * Ids (event ids, stream ids, tags) may be numbers or bigints; numbers are used when they fit.
 */

import { Errors as IpcErrors, ERRORS as IPC_ERRORS } from './ipc-abi.gen.js';

export type Id = number | bigint;

export interface ProcessEvent {
  kind: 'process';
  ns: number;
  pid: number;
  parent: number;
  name: string;
}

export interface ProcessExitEvent {
  kind: 'process_exit';
  ns: number;
  pid: number;
  code: number;
}

export interface ThreadEvent {
  kind: 'thread';
  ns: number;
  tid: number;
  pid: number;
  name: string;
}

/** ipc_submit: a thread submitted an action list on a lane (0 or 1) of a stream. */
export interface SubmitEvent {
  kind: 'submit';
  id: Id;
  ns: number;
  cpu: number;
  stream: Id;
  conversation: Id;
  tag: Id;
  bytes: number;
  /** action codes (IpcAction), first action first */
  actions: ArrayLike<number>;
  pid: number;
  tid: number;
  lane: number;
  retAddr: Id;
  /** the first bytes of the payload (the trace keeps 32) */
  payload?: Uint8Array;
}

/** ipc_match: two submissions matched; cause completed the pair, other was pending. */
export interface MatchEvent {
  kind: 'match';
  id: Id;
  ns: number;
  cpu: number;
  stream: Id;
  conversation: Id;
  cause: Id;
  other: Id;
  /** the conversation (child stream) an offer/accept created; 0 if none */
  childStream: Id;
  result: number;
}

/** ipc_complete: an operation completed (result, bytes received); cause = its submit. */
export interface CompleteEvent {
  kind: 'complete';
  id: Id;
  ns: number;
  cpu: number;
  stream: Id;
  tag: Id;
  cause: Id;
  result: number;
  bytes: number;
  pid: number;
  tid: number;
}

/** ipc_cancel: target (a submit) was cancelled; cause = what cancelled it (a request, a signal). */
export interface CancelEvent {
  kind: 'cancel';
  id: Id;
  ns: number;
  cpu: number;
  stream: Id;
  tag: Id;
  target: Id;
  cause: Id;
  pid: number;
  tid: number;
}

export type IpcEvent = ProcessEvent | ProcessExitEvent | ThreadEvent | SubmitEvent | MatchEvent | CompleteEvent | CancelEvent;

/** Action codes, as in os/abi/trace.toml's ipc_action enum. */
export const IpcAction = {
  None: 0,
  Offer: 1,
  Accept: 2,
  Send: 3,
  RecvInline: 4,
  RecvBuffer: 5,
  PushDesc: 6,
  PullDesc: 7,
  ImbueCreds: 8,
  ExtractCreds: 9,
  Dismiss: 10,
} as const;

export const ACTION_NAMES: readonly string[] = ['none', 'offer', 'accept', 'send', 'recv_inline', 'recv_buffer', 'push_desc', 'pull_desc', 'imbue_creds', 'extract_creds', 'dismiss'];

/** Actions that give something to the peer (the arrow starts at their side). */
export function isGiving(a: number): boolean {
  return a === IpcAction.Offer || a === IpcAction.Send || a === IpcAction.PushDesc || a === IpcAction.ImbueCreds;
}

/** Unpack ipc_submit's `actions` field (4 bits per action, first in the low bits). */
export function unpackActions(packed: number | bigint, n: number): number[] {
  const out: number[] = [];
  let v = BigInt(packed);
  for (let i = 0; i < Math.min(n, 16); i++) {
    out.push(Number(v & 15n));
    v >>= 4n;
  }
  return out;
}

/**
 * Result codes the view styles specially, from the IPC ABI (os/abi/ipc.toml, generated into the
 * checked-in ipc-abi.gen.ts). The app may pass the project's own table (IpcModelOptions.results,
 * resultCodesFrom in adapt.ts) for an OS whose ABI differs from the one this view was built with.
 */
export interface ResultCodes {
  ok: number;
  cancelled: number;
  endOfLane: number;
  mismatch: number;
  /** name of any result code, e.g. -65 → 'END_OF_LANE' */
  names: Record<number, string>;
}

export const DEFAULT_RESULTS: ResultCodes = {
  ok: 0,
  cancelled: IpcErrors.CANCELLED,
  endOfLane: IpcErrors.END_OF_LANE,
  mismatch: IpcErrors.TRANSMISSION_MISMATCH,
  names: Object.fromEntries([[0, 'OK'], ...IPC_ERRORS.map((e) => [Number(e.value), e.name])]) as Record<number, string>,
};

/**
 * Decodes message payloads (generated from os/abi/messages.toml by the app). typeOf must be
 * cheap: it runs once per message at ingest, so search by type is a lookup.
 */
export interface MessageDecoder {
  typeOf(payload: Uint8Array): string | undefined;
  /** e.g. { type: 'posix.Read', text: 'posix.Read{fd: 3, size: 4096}' } */
  decode(payload: Uint8Array): { type: string; text: string } | undefined;
}

/** What "Break on next message" targets (the view asks its host to arm the debugger). */
export type BreakTarget = { kind: 'lane'; conv: number; stream: string } | { kind: 'conversation'; conv: number; stream: string } | { kind: 'process'; pid: number };
