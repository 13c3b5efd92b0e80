/*
 * The IPC lanes view in the workbench: visualizers' IPC view (visualizers/ipc/) fed by the trace
 * store (app/browser/trace/): on a new source it rebuilds its model with the project's generated
 * ABI tables (ipc.abi: error names, message types), then adapts the store's rows into it as they
 * come (follow mode shows new messages as they happen) — the TracePanel base (../trace-panel.ts)
 * does that as for every trace view, with the ABI tables read first (prepare). The trace toolbar
 * (Open / Save / Export to Perfetto) sits in its bar; selecting a message moves the shared time cursor. Source lines of
 * submitting return addresses are resolved by its backend half (app/node/ipc-view.ts) and opened
 * in the editor; Break on next message arms a one-shot conditional breakpoint on the kernel's
 * IPC submit path through the debug session (break.ts). It lives in the panel and can move to
 * the editor area, where it has room. A link selected in the Cancellations view moves it: a reply
 * selects its IPC message, any other link centres its moment.
 */
import type { IpcRequests } from '../../../common/ipc-view.js';
import { feedTrace, resultCodesFrom } from '../../../../visualizers/ipc/adapt.js';
import { tableDecoder } from '../../../../visualizers/ipc/messages.js';
import { IpcModel } from '../../../../visualizers/ipc/model.js';
import { createIpcView, type BreakTarget, type IpcView } from '../../../../visualizers/ipc/view.js';
import type { TraceEvent } from '../../../../debugger/common/trace/records.js';
import type { TraceSelection } from '../../trace/index.js';
import type { TraceTable } from '../../trace/table.js';
import { registerView, type ViewContext } from '../../workbench/views.js';
import { mountPanel, TracePanel } from '../trace-panel.js';
import { BreakOnNext } from './break.js';

export interface IpcPanelHooks {
  /** arm "break on next message" (set by the debug integration when available) */
  breakOnNext?: (t: BreakTarget, model: IpcModel) => Promise<string>;
}

export const ipcPanelHooks: IpcPanelHooks = {};
/** Test hooks: the view, its model, and the store's table it reads (`feed`, for its decoder). */
export const ipcDebug: { view?: IpcView; model?: IpcModel; feed?: TraceTable } = {};

class IpcPanel extends TracePanel<IpcView> {
  model!: IpcModel;
  private abi: IpcRequests['ipc.abi']['result'] = { errors: {}, messages: [], problems: [] };
  private breaker: BreakOnNext;

  constructor(host: HTMLElement, ctx: ViewContext) {
    super(host, ctx, 'ipc', '.ipcv-bar');
    this.breaker = new BreakOnNext(ctx, () => ({ view: this.view, model: this.model, feed: this.store.table }));
    if (!ipcPanelHooks.breakOnNext) ipcPanelHooks.breakOnNext = (t, model) => this.breaker.arm(t, model);
  }

  /** A Run builds the OS first: the generated ABI tables (message types) may be new. */
  protected override async prepare(): Promise<void> {
    this.abi = await this.ctx.client.request('ipc.abi', {}).catch(() => ({ errors: {}, messages: [], problems: ['the backend has no IPC view support'] }));
  }

  protected override subscribe(): void {
    // the shared time cursor (any view's selection sets it): drawn on the lanes; when the sysfs
    // view's slider moved it, the lanes also centre on that moment
    this.store.onCursor((ns, from) => {
      this.view?.setCursor(ns);
      if (ns === null || from !== 'sysfs' || !this.view) return;
      const vp = this.view.viewport();
      const half = (vp.t1 - vp.t0) / 2;
      this.view.setFollow(false);
      this.view.setViewport(ns - half, ns + half);
    });
    this.store.onSelection((s) => this.followSelection(s));
  }

  /** The cancellation view's selection moves this one: a reply link selects its IPC message (by
   * the request's submit id), any other link centres its moment. */
  private followSelection(s: TraceSelection | null): void {
    if (!s || s.view !== 'cancel' || !this.view) return;
    if (s.kind === 'ipc-submit') {
      const op = this.model.opOfId(s.id);
      if (op >= 0) {
        const m = this.model.opMsg[op]!;
        if (m >= 0) this.view.select(m, true);
        else this.view.selectOp(op, true);
        return;
      }
    }
    if (s.ns === undefined) return;
    const vp = this.view.viewport();
    const span = vp.t1 - vp.t0;
    if (s.ns < vp.t0 || s.ns > vp.t1) this.view.setViewport(s.ns - span / 2, s.ns + span / 2);
  }

  protected override make(): IpcView {
    const abi = this.abi;
    const model = new IpcModel({ results: resultCodesFrom(abi.errors), decoder: abi.messages.length ? tableDecoder(abi.messages) : undefined });
    this.model = model;
    const procName = (pid: number) => model.processes.get(pid)?.name ?? '';
    const view = createIpcView(this.host, model, {
      resolveSource: async (addr, pid) => (await this.ctx.client.request('ipc.resolve', { addr, program: procName(pid) })) ?? undefined,
      openSource: (file, line) => void this.ctx.openFile(file, line),
      breakOnNext: ipcPanelHooks.breakOnNext ? (t) => ipcPanelHooks.breakOnNext!(t, model) : undefined,
      // the selected message's time becomes the shared cursor (other trace views follow it)
      selected: (m, d) => this.store.select(m >= 0 ? { view: 'ipc', kind: 'message', id: m, ns: model.msgNs[m]!, tids: d ? [d.src.tid, d.dst.tid] : undefined } : null),
    }, this.ctx.theme());
    model.onChange(() => this.breaker.trySelect());
    ipcDebug.view = view;
    ipcDebug.model = model;
    ipcDebug.feed = this.store.table;
    view.setCursor(this.store.cursor); // the shared time cursor, as every trace view draws it
    view.setFollow(this.store.source.live);
    if (abi.problems.length) view.setStatus(abi.problems[0]!);
    return view;
  }

  protected override consume(rows: TraceEvent[]): void {
    feedTrace(this.model, rows);
  }

  /** The source's label in the view's status line when it changes (live → ended, a new file). */
  protected override labelChanged(l: string): void {
    const problem = this.abi.problems[0];
    this.view.setStatus(problem ? (l ? `${l} — ${problem}` : problem) : l);
    if (!this.store.source.live) this.view.setFollow(false);
  }
}

export function registerIpcPanel(): void {
  registerView({
    id: 'ipc',
    title: 'IPC lanes',
    location: 'panel',
    order: 40,
    editorTab: true,
    commands: [{ id: 'ipc.openInEditor', title: 'IPC lanes: Open in Editor Area', run: (wb) => wb.moveView('ipc', true) }],
    testHooks: { ipc: ipcDebug },
    create: (host, ctx) => mountPanel(host, 'IPC view', new IpcPanel(host, ctx)),
  });
}
