/*
 * Break on next message: a one-shot conditional breakpoint on the kernel's IPC submit path
 * (os/kernel/generic/ipc/ipc.c: ipc_submit_recorded(it), which enqueue() calls right after an
 * action's ipc_submit record is written, so the submit's trace id is known; a real function,
 * because a line inside enqueue() is not exact at -O2), through the debug session
 * (debug.setBreakpoints with a gdb condition and showUserSource):
 *   lane          it->s->id == STREAM
 *   conversation  it->s->id == STREAM || it->s->parent == STREAM   (the stream and its direct children)
 *   process       it->sub->pid == PID
 * When the target stops there:
 *   - the breakpoint is removed;
 *   - the debug session has already unwound the user stack below the system call (saved user
 *     registers + the program's CFI) and put the editor on the first frame in the program's own
 *     source — the submitting line — with the whole user stack in the Call Stack panel;
 *   - the submit's record is read at once from the kernel's per-CPU trace ring (debug.traceRecord,
 *     the flight recorder; the guest is halted, so the drained copy comes only after Continue),
 *     decoded with the live trace's definitions and clock, added to the model, and selected: the
 *     pending operation until it matches, then its message. The drained copy (same event id) is
 *     ignored by the model.
 */
import type { BreakpointSpec, DebugStatus, WatchResult } from '../../../common/debug.js';
import type { BreakTarget } from '../../../../visualizers/ipc/events.js';
import { OpEnd, type IpcModel } from '../../../../visualizers/ipc/model.js';
import { feedTrace } from '../../../../visualizers/ipc/adapt.js';
import { RecordDecoder } from '../../../../debugger/common/trace/records.js';
import { base64ToBytes } from '../../trace/table.js';

/** What this needs of the trace's decoder (the trace store's table): the live definitions and clock. */
interface DecoderOf {
  decoder: RecordDecoder;
}
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
  selectedMessage(): number;
  selectOp(op: number): void;
  selectedOp(): number;
  setStatus(s: string): void;
}

export const IPC_SUBMIT_FILE = 'kernel/generic/ipc/ipc.c';

/** The line to break on: the statement in the body of ipc_submit_recorded() (the hook enqueue()
 * calls right after trace_emit_ipc_submit()). */
export function submitBreakLine(source: string): number {
  const lines = source.split('\n');
  const at = lines.findIndex((l) => /\bvoid\s+ipc_submit_recorded\s*\(/.test(l) && !/;\s*$/.test(l));
  if (at < 0) throw new Error(`${IPC_SUBMIT_FILE} has no ipc_submit_recorded() to break in`);
  for (let i = at + 1; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '}') break;
    if (t && t !== '{') return i + 1;
  }
  throw new Error(`${IPC_SUBMIT_FILE}: ipc_submit_recorded() has no statement to break on`);
}

/**
 * Through enqueue()'s parameter `it` only: at -O2 gdb has no location for the locals `sub` / `s`
 * at that line, and a condition gdb cannot evaluate stops every time.
 */
export function breakCondition(t: BreakTarget): string {
  if (t.kind === 'process') return `it->sub->pid == ${t.pid}`;
  const s = BigInt(t.stream);
  return t.kind === 'lane' ? `it->s->id == ${s}` : `it->s->id == ${s} || it->s->parent == ${s}`;
}

export class BreakOnNext {
  private armed: BreakpointSpec | undefined;
  private line = 0;
  private lastStop = -1;
  private wantId: number | bigint | undefined;
  private shownOp = false;
  /** the view's selection when the target stopped (replaced by the op when it arrives later) */
  private selAtStop = '';

  constructor(private readonly ctx: BreakContext, private readonly getView: () => { view: ViewLike; model: IpcModel; feed?: DecoderOf }) {
    ctx.client.on('debug.state', (s) => void this.onState(s));
  }

  async arm(t: BreakTarget, model: IpcModel): Promise<string> {
    const c = this.ctx.client;
    const st = await c.request('debug.status', {});
    if (st.phase === 'off' || st.phase === 'ended') throw new Error('start a debug session first (⚙ Debug)');
    if (st.features && !st.features.breakOnMessage) throw new Error('this kernel has no LaneOS IPC submit hook (ipc_submit_recorded, trace_rings): Break on next message needs LaneOS');
    const src = await c.request('fs.read', { path: IPC_SUBMIT_FILE });
    this.line = submitBreakLine(src.content);
    const spec: BreakpointSpec = { file: IPC_SUBMIT_FILE, line: this.line, condition: breakCondition(t), enabled: true, showUserSource: true };
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
    const hit = s.stop.hit;
    if (!hit || hit.file !== spec.file || hit.line !== spec.line) return;
    this.armed = undefined;
    const c = this.ctx.client;
    const { view, model, feed } = this.getView();
    try {
      const others = s.breakpoints.filter((b) => !(b.file === spec.file && b.line === spec.line)).map(({ file, line, condition, enabled }) => ({ file, line, condition, enabled }));
      await c.request('debug.setBreakpoints', { breakpoints: others });
      // (at -O2 gdb may have only some of enqueue()'s locals at that line: the record has the rest)
      const r: WatchResult[] = await c.request('debug.evaluate', { expressions: ['it->trace_id', 'it->sub->pid', 'it->sub->tag'] });
      const big = (i: number) => {
        try {
          return BigInt.asUintN(64, BigInt((r[i]?.value ?? '0').split(' ')[0]!));
        } catch {
          return 0n;
        }
      };
      let id = big(0);
      const loc = s.stop.location;
      const where = loc && loc.file !== spec.file ? `, ${loc.file}:${loc.line}` : '';
      let early = '';
      // The newest record of the CPU that stopped is the submit: the breakpoint follows its emit
      // with interrupts off (and `it->trace_id` may not be stored yet at -O2); by id as a fallback.
      const cpu = s.stop.cpu ?? Number(s.stop.threadId) - 1;
      let rec: { record: string; id: string } | undefined;
      let why = '';
      try {
        rec = await c.request('debug.traceRecord', { cpu });
      } catch (e) {
        why = (e as Error).message;
      }
      if (rec) {
        const r2 = this.addRecord(rec.record, model, feed);
        if (r2) {
          why = r2;
          rec = undefined;
        } else id = BigInt(rec.id);
      }
      if (!rec && id && model.opOfId(id) < 0) {
        try {
          const r3 = await c.request('debug.traceRecord', { id: '0x' + id.toString(16) });
          why = this.addRecord(r3.record, model, feed);
        } catch (e) {
          why = (e as Error).message;
        }
      }
      if (why && (!id || model.opOfId(id) < 0)) early = ` (its trace record: ${why}; it appears after Continue)`;
      this.wantId = id ? id : undefined;
      this.shownOp = false;
      this.selAtStop = `${view.selectedOp()}:${view.selectedMessage()}`;
      const op = this.wantId !== undefined ? model.opOfId(this.wantId) : -1;
      if (op >= 0) {
        view.selectOp(op);
        this.shownOp = true;
      }
      this.trySelect();
      const pid = op >= 0 ? model.opPid[op]! : Number(big(1));
      const tag = op >= 0 ? BigInt.asUintN(64, BigInt(model.opTag[op]!)) : big(2);
      const prog = model.processes.get(pid)?.name ?? `pid ${pid}`;
      view.setStatus(`stopped at the submit of ${prog} (tag 0x${tag.toString(16)}${where})${early}`);
    } catch (e) {
      view.setStatus(`break on next message: ${(e as Error).message}`);
    }
  }

  /** Decode one raw record with the live trace's definitions and clock and add it to the model. */
  private addRecord(b64: string, model: IpcModel, feed: DecoderOf | undefined): string {
    const dec = new RecordDecoder(feed?.decoder.defs);
    dec.holdUntilClock = false;
    const clock = feed?.decoder.clock;
    if (clock) dec.setClock(clock);
    const evs = dec.pushBlock(base64ToBytes(b64));
    const sub = evs.filter((e) => e.name === 'ipc_submit');
    if (!sub.length) return `the ring held ${evs.map((e) => e.name).join(', ') || 'nothing decodable'} there, not an ipc_submit`;
    if (!clock) for (const e of sub) e.ns = model.lastNs === model.lastNs ? model.lastNs : 0;
    feedTrace(model, sub);
    return '';
  }

  /**
   * Called on every model change while a stop's submit is awaited: selects the op once it is in
   * the model (if nothing else is selected), then hands the selection over to its message when it
   * matches — only while the user still has that op selected. Done when it matched or ended
   * without a message (cancelled, end of lane: the detail panel stays on the op).
   */
  trySelect(): void {
    if (this.wantId === undefined) return;
    const { view, model } = this.getView();
    const op = model.opOfId(this.wantId);
    if (op < 0) return;
    if (!this.shownOp) {
      this.shownOp = true;
      const now = `${view.selectedOp()}:${view.selectedMessage()}`;
      if (now === '-1:-1' || now === this.selAtStop) view.selectOp(op);
    }
    if (view.selectedOp() !== op) {
      this.wantId = undefined; // the user moved on
      return;
    }
    const m = model.opMsg[op]!;
    if (m >= 0) {
      view.select(m);
      this.wantId = undefined;
    } else if (model.opEnd[op] !== OpEnd.Pending) this.wantId = undefined;
  }
}
