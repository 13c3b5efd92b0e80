/*
 * Break on next cancellation (of any syscall, of a process, by signal): a one-shot conditional
 * breakpoint at the point where a server handles a cancel, through the debug session
 * (debug.setBreakpoints with a gdb condition and showUserSource), as Break on next message does
 * for the IPC view (views/ipc/break.ts).
 *
 * Where: every server that stops work for a cancel says so with a cancel_ack record, written
 * through the kernel's trace_user system call (os/kernel/generic/sys_signal.c, SYS(trace_user),
 * a0 = the record type, a1 = the record's body in the server's memory). The default location is
 * that function's entry, with the condition "a0 is cancel_ack" (plus, for a process, "the
 * cancelled call's thread — the high half of the body's `call` — is one of its threads"): the
 * stop is in the server, inside its cancel handler, and showUserSource puts the editor on the
 * server's own line that acknowledges the cancel (the debug session unwinds the user stack below
 * the system call). A signal filter is checked here at the stop (the call's signal, from the
 * trace): another signal's cancellation is continued and the breakpoint stays armed.
 * The location is configurable (`cancelBreakConfig`): every server's cancel handler writes its
 * ack through trace_user, so that is the default; fs's own handler (programs/fs/wait.c:
 * wait_cancel, FS_WAIT_CANCEL_LOCATION) is the alternative for fs's cancellations.
 * At the stop the breakpoint is removed, the acknowledged call is read from the body (`call`,
 * server pid, progress) and selected in the view; Continue resumes.
 */
import type { BreakpointSpec, DebugStatus, WatchResult } from '../../../common/debug.js';
import type { EventName, Events, RequestName, Requests } from '../../../common/contract.js';
import { EV } from '../../../../debugger/common/trace/schema.gen.js';
import { signalName, type CancelBreakTarget, type CancelModel, type Chain } from '../../../../visualizers/cancel/model.js';

/** The parts of the view this uses (visualizers/cancel/view.ts CancelView). */
export interface CancelViewLike {
  cache: { chain(call: number): Chain };
  select(call: number, link?: number, reveal?: boolean): void;
  setStatus(text: string): void;
}

export interface BreakContext {
  client: {
    request<K extends RequestName>(method: K, params: Requests[K]['params']): Promise<Requests[K]['result']>;
    on<K extends EventName>(event: K, cb: (payload: Events[K]) => void): () => void;
  };
  openFile(path: string, line?: number, column?: number): Promise<void>;
}

export interface CancelBreakLocation {
  /** project-relative source file */
  file: string;
  /** the function's definition line (the breakpoint goes on it: the function's entry) */
  fn: RegExp;
  /** gdb condition for a target; `tids` are the threads of the target process (kind 'process') */
  condition(t: CancelBreakTarget, tids: number[]): string;
  /** gdb expressions at the stop: the cancelled call's id, the server's pid, the progress */
  read: [call: string, serverPid: string, progress: string];
  /** in messages: "the kernel's trace_user (a server's cancel_ack)" */
  what: string;
  /** a kernel location on a system call path: show the server's own line (showUserSource) */
  kernel: boolean;
}

const ACK = EV.cancel_ack;

export const TRACE_USER_LOCATION: CancelBreakLocation = {
  file: 'kernel/generic/sys_signal.c',
  fn: /^\s*SYS\(\s*trace_user\s*\)\s*$/,
  condition(t, tids) {
    const ack = `a0 == ${ACK}`;
    if (t.kind !== 'process') return ack;
    if (!tids.length) throw new Error(`pid ${t.pid} has no threads in the trace yet: nothing to break for`);
    return `${ack} && (${tids.map((tid) => `(*(unsigned long long *)a1 >> 32) == ${tid}`).join(' || ')})`;
  },
  read: ['*(unsigned long long *)a1', '((unsigned int *)a1)[2]', '((unsigned long long *)a1)[2]'],
  what: "a server's cancel_ack (kernel trace_user)",
  kernel: true,
};

/**
 * fs's own cancel handler (os/programs/fs/wait.c: wait_cancel(i, id, call), where fs.Cancel on a
 * passthrough lane stops a parked /dev/slow or FIFO request): a user-space breakpoint in the fs
 * server, for fs's cancellations only (posix's pipes have theirs). Point cancelBreakConfig at it
 * to stop on entry to the handler instead of at its ack.
 */
export const FS_WAIT_CANCEL_LOCATION: CancelBreakLocation = {
  file: 'programs/fs/wait.c',
  fn: /^\s*void\s+wait_cancel\s*\(.*\)\s*$/,
  condition(t, tids) {
    if (t.kind !== 'process') return '';
    if (!tids.length) throw new Error(`pid ${t.pid} has no threads in the trace yet: nothing to break for`);
    return tids.map((tid) => `(call >> 32) == ${tid}`).join(' || ');
  },
  read: ['call', '0', '0'],
  what: "fs's cancel handler (wait_cancel)",
  kernel: false,
};

/** Where Break on next cancellation stops; a project (or a test) may point it elsewhere. */
export const cancelBreakConfig: { location: CancelBreakLocation } = { location: TRACE_USER_LOCATION };

/** The 1-based line of the function's definition in `source`. */
export function breakLine(source: string, loc: CancelBreakLocation): number {
  const lines = source.split('\n');
  const at = lines.findIndex((l) => loc.fn.test(l) && !/;\s*$/.test(l));
  if (at < 0) throw new Error(`${loc.file} has no ${loc.fn.source} to break in (${loc.what})`);
  return at + 1;
}

function big(r: WatchResult | undefined): bigint {
  try {
    return BigInt.asUintN(64, BigInt((r?.value ?? '').split(' ')[0]!));
  } catch {
    return -1n;
  }
}

export class CancelBreak {
  private armed: { spec: BreakpointSpec; target: CancelBreakTarget } | undefined;
  private lastStop = -1;
  /** the call selected at the stop, to select again when its records arrive */
  private want: bigint | undefined;
  /** where the last stop showed the server's code (Enter on a server link opens it) */
  lastHandler: { file: string; line: number } | undefined;
  /** stops skipped because another signal's cancellation hit (signal filter) */
  skipped = 0;

  constructor(private readonly ctx: BreakContext, private readonly getView: () => { view: CancelViewLike; model: CancelModel }) {
    ctx.client.on('debug.state', (s) => void this.onState(s));
  }

  async arm(t: CancelBreakTarget): Promise<string> {
    const c = this.ctx.client;
    const st = await c.request('debug.status', {});
    if (st.phase === 'off' || st.phase === 'ended') throw new Error('start a debug session first (⚙ Debug)');
    const loc = cancelBreakConfig.location;
    const src = await c.request('fs.read', { path: loc.file });
    const line = breakLine(src.content, loc);
    const { model } = this.getView();
    const tids = t.kind === 'process' ? [...model.threads.values()].filter((l) => l.pid === t.pid).map((l) => l.tid) : [];
    const cond = loc.condition(t, tids);
    const spec: BreakpointSpec = { file: loc.file, line, ...(cond ? { condition: cond } : {}), enabled: true, ...(loc.kernel ? { showUserSource: true } : {}) };
    const others = st.breakpoints.filter((b) => !(b.file === spec.file && b.line === spec.line)).map(({ file, line: l, condition, enabled }) => ({ file, line: l, condition, enabled }));
    const placed = await c.request('debug.setBreakpoints', { breakpoints: [...others, spec] });
    const mine = placed.find((b) => b.file === spec.file && (b.line === spec.line || b.resolvedLine !== undefined));
    if (mine?.error) throw new Error(`gdb refused the breakpoint: ${mine.error}`);
    this.armed = { spec, target: t };
    this.lastStop = st.stop?.stopId ?? -1;
    const what = t.kind === 'any' ? 'of any syscall' : t.kind === 'process' ? `of ${model.processName(t.pid)} (pid ${t.pid})` : `by ${signalName(t.signo)}`;
    return `armed: break on the next cancellation ${what} (at ${loc.what}, ${loc.file}:${line})`;
  }

  disarm(): void {
    this.armed = undefined;
  }

  private async onState(s: DebugStatus): Promise<void> {
    const a = this.armed;
    if (!a || s.phase !== 'stopped' || !s.stop || s.stop.partial || s.stop.stopId === this.lastStop) return;
    this.lastStop = s.stop.stopId;
    const hit = s.stop.hit;
    if (!hit || hit.file !== a.spec.file || hit.line !== a.spec.line) return;
    const c = this.ctx.client;
    const { view, model } = this.getView();
    try {
      const loc = cancelBreakConfig.location;
      const r = await c.request('debug.evaluate', { expressions: [...loc.read] });
      const call = big(r[0]);
      const serverPid = Number(big(r[1]));
      const progress = big(r[2]);
      const idx = call >= 0n ? model.callIndex(call) : -1;
      if (a.target.kind === 'signal' && idx >= 0) {
        const sig = model.signalOf(idx);
        if (sig && sig !== a.target.signo) {
          this.skipped++;
          view.setStatus(`skipped a ${signalName(sig)} cancellation (waiting for ${signalName(a.target.signo)})`);
          await c.request('debug.command', { action: 'continue' });
          return;
        }
      }
      this.armed = undefined;
      const others = s.breakpoints.filter((b) => !(b.file === a.spec.file && b.line === a.spec.line)).map(({ file, line, condition, enabled }) => ({ file, line, condition, enabled }));
      await c.request('debug.setBreakpoints', { breakpoints: others });
      const where = s.stop.location && s.stop.location.file !== a.spec.file ? s.stop.location : undefined;
      if (where) this.lastHandler = where;
      const cc = idx >= 0 ? model.calls[idx] : undefined;
      const server = model.processName(serverPid);
      const callText = cc ? `${model.processName(cc.pid)}'s ${cc.name || 'syscall'} (call 0x${call.toString(16)})` : call >= 0n ? `call 0x${call.toString(16)} (its records come after Continue)` : 'a call';
      this.want = call >= 0n ? call : undefined;
      this.trySelect();
      view.setStatus(`stopped in ${server} (pid ${serverPid}) handling the cancel of ${callText}, progress ${progress >= 0n ? progress : '?'}${where ? ` — ${where.file}:${where.line}` : ''}`);
    } catch (e) {
      view.setStatus(`break on next cancellation: ${(e as Error).message}`);
    }
  }

  /** Select the stopped call once its records are in the model (called on every feed). */
  trySelect(): void {
    if (this.want === undefined) return;
    const { view, model } = this.getView();
    const idx = model.callIndex(this.want);
    if (idx < 0) return;
    this.want = undefined;
    const n = view.cache.chain(idx).links.length;
    view.select(idx, n ? n - 1 : 0, true);
  }

  /** Enter on a server's link when the trace has no call_site of its ack (an older LaneOS): the
   * server code the last Break on next cancellation stop showed. */
  async openHandler(): Promise<void> {
    if (this.lastHandler) return this.ctx.openFile(this.lastHandler.file, this.lastHandler.line);
    const loc = cancelBreakConfig.location;
    const src = await this.ctx.client.request('fs.read', { path: loc.file });
    throw new Error(`this trace has no call_site of the server's cancel_ack (recorded by an older LaneOS): Break on next cancellation stops at it; the acks go through ${loc.file}:${breakLine(src.content, loc)} (${loc.what})`);
  }
}
