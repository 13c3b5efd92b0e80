/*
 * Break on next message: a one-shot conditional breakpoint on the kernel's IPC submit path
 * (os/kernel/generic/ipc/ipc.c, enqueue(): the statement right after trace_emit_ipc_submit(), so
 * the submit's trace id is known), through the debug session (debug.setBreakpoints with a gdb
 * condition):
 *   lane          s->id == STREAM
 *   conversation  s->id == STREAM || s->parent == STREAM      (the stream and its direct children)
 *   process       sub->pid == PID
 * When the target stops there, the breakpoint is removed, the submitting line (the user's return
 * address, sub->ret_addr, through the program's DWARF) opens in the editor, and the view selects
 * the message as soon as its records arrive (the guest is halted, so after Continue).
 */
import type { BreakpointSpec, DebugStatus, WatchResult } from '../../../common/debug.js';
import type { BreakTarget } from '../../../../visualizers/ipc/events.js';
import type { IpcModel } from '../../../../visualizers/ipc/model.js';
import type { EventName, Events, RequestName, Requests } from '../../../common/contract.js';

/** What this needs of the workbench (a ViewContext satisfies it). */
export interface BreakContext {
  client: {
    request<K extends RequestName>(method: K, params: Requests[K]['params']): Promise<Requests[K]['result']>;
    on<K extends EventName>(event: K, cb: (payload: Events[K]) => void): () => void;
  };
  openFile(path: string, line?: number, column?: number): Promise<void>;
}

/** The parts of the IPC view this uses. */
export interface ViewLike {
  select(m: number): void;
  setStatus(s: string): void;
}

export const IPC_SUBMIT_FILE = 'kernel/generic/ipc/ipc.c';

/** The line to break on: the first statement after `... = trace_emit_ipc_submit(...);` in enqueue(). */
export function submitBreakLine(source: string): number {
  const lines = source.split('\n');
  const at = lines.findIndex((l) => /=\s*trace_emit_ipc_submit\(/.test(l));
  if (at < 0) throw new Error(`${IPC_SUBMIT_FILE} has no trace_emit_ipc_submit() call to break after`);
  let i = at;
  while (i < lines.length && !/;\s*$/.test(lines[i]!)) i++;
  for (i++; i < lines.length; i++) if (lines[i]!.trim()) return i + 1;
  throw new Error(`${IPC_SUBMIT_FILE}: nothing after trace_emit_ipc_submit()`);
}

export function breakCondition(t: BreakTarget): string {
  if (t.kind === 'process') return `sub->pid == ${t.pid}`;
  const s = BigInt(t.stream);
  return t.kind === 'lane' ? `s->id == ${s}` : `s->id == ${s} || s->parent == ${s}`;
}

export class BreakOnNext {
  private armed: BreakpointSpec | undefined;
  private line = 0;
  private lastStop = -1;
  private wantId: number | undefined;

  constructor(private readonly ctx: BreakContext, private readonly getView: () => { view: ViewLike; model: IpcModel }) {
    ctx.client.on('debug.state', (s) => void this.onState(s));
  }

  async arm(t: BreakTarget, model: IpcModel): Promise<string> {
    const c = this.ctx.client;
    const st = await c.request('debug.status', {});
    if (st.phase === 'off' || st.phase === 'ended') throw new Error('start a debug session first (⚙ Debug)');
    const src = await c.request('fs.read', { path: IPC_SUBMIT_FILE });
    this.line = submitBreakLine(src.content);
    const spec: BreakpointSpec = { file: IPC_SUBMIT_FILE, line: this.line, condition: breakCondition(t), enabled: true };
    const others = st.breakpoints.filter((b) => !(b.file === spec.file && b.line === spec.line)).map(({ file, line, condition, enabled }) => ({ file, line, condition, enabled }));
    const placed = await c.request('debug.setBreakpoints', { breakpoints: [...others, spec] });
    const mine = placed.find((b) => b.file === spec.file && b.line === spec.line);
    if (mine?.error) throw new Error(`gdb refused the breakpoint: ${mine.error}`);
    this.armed = spec;
    this.lastStop = st.stop?.stopId ?? -1;
    const what = t.kind === 'process' ? `from ${model.processes.get(t.pid)?.name ?? 'pid ' + t.pid}` : `${t.kind === 'lane' ? 'on lane' : 'in conversation'} #${t.conv}`;
    return `armed: break on the next message ${what}`;
  }

  private async onState(s: DebugStatus): Promise<void> {
    const spec = this.armed;
    if (!spec || s.phase !== 'stopped' || !s.stop || s.stop.partial || s.stop.stopId === this.lastStop) return;
    this.lastStop = s.stop.stopId;
    const loc = s.stop.location;
    if (!loc || !loc.file.endsWith(IPC_SUBMIT_FILE) || loc.line !== spec.line) return;
    this.armed = undefined;
    const c = this.ctx.client;
    const { view, model } = this.getView();
    try {
      const others = s.breakpoints.filter((b) => !(b.file === spec.file && b.line === spec.line)).map(({ file, line, condition, enabled }) => ({ file, line, condition, enabled }));
      await c.request('debug.setBreakpoints', { breakpoints: others });
      const r: WatchResult[] = await c.request('debug.evaluate', { expressions: ['it->trace_id', 'sub->ret_addr', 'sub->pid', 'sub->tag'] });
      const num = (i: number) => Number(BigInt.asUintN(64, BigInt((r[i]?.value ?? '0').split(' ')[0]!)));
      const id = num(0);
      const ret = num(1);
      const pid = num(2);
      this.wantId = id;
      const prog = model.processes.get(pid)?.name ?? '';
      const at = ret ? await c.request('ipc.resolve', { addr: ret, program: prog }) : null;
      if (at) await this.ctx.openFile(at.file, at.line);
      view.setStatus(`stopped at the submit of ${prog || 'pid ' + pid} (tag ${num(3)}${at ? `, ${at.file}:${at.line}` : ''}); Continue to see the message`);
      this.trySelect();
    } catch (e) {
      view.setStatus(`break on next message: ${(e as Error).message}`);
    }
  }

  /** Select the awaited submit's message once the model has it (called on every model change). */
  trySelect(): void {
    if (this.wantId === undefined) return;
    const { view, model } = this.getView();
    const op = model.opOfId(this.wantId);
    if (op < 0) return;
    const m = model.opMsg[op]!;
    if (m >= 0) {
      view.select(m);
      this.wantId = undefined;
    }
  }
}
