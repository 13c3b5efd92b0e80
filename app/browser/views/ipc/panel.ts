/*
 * The IPC lanes view in the workbench: visualizers' IPC view (visualizers/ipc/) fed by the trace
 * store (app/browser/trace/): on a new source it rebuilds its model with the project's generated
 * ABI tables (ipc.abi: error names, message types), then adapts the store's rows into it as they
 * come (follow mode shows new messages as they happen). The trace toolbar (Open / Save / Export to
 * Perfetto) sits in its bar; selecting a message moves the shared time cursor. Source lines of
 * submitting return addresses are resolved by its backend half (app/node/ipc-view.ts) and opened
 * in the editor; Break on next message arms a one-shot conditional breakpoint on the kernel's
 * IPC submit path through the debug session (break.ts). It lives in the panel and can move to
 * the editor area, where it has room.
 */
import type { IpcRequests } from '../../../common/ipc-view.js';
import { feedTrace, resultCodesFrom } from '../../../../visualizers/ipc/adapt.js';
import { tableDecoder } from '../../../../visualizers/ipc/messages.js';
import { IpcModel } from '../../../../visualizers/ipc/model.js';
import { createIpcView, type BreakTarget, type IpcView } from '../../../../visualizers/ipc/view.js';
import { traceStore, traceToolbar, type StoreChange } from '../../trace/index.js';
import type { TraceTable } from '../../trace/table.js';
import { registerView, type ViewContext, type ViewInstance } from '../../workbench/views.js';
import { BreakOnNext } from './break.js';

export interface IpcPanelHooks {
  /** arm "break on next message" (set by the debug integration when available) */
  breakOnNext?: (t: BreakTarget, model: IpcModel) => Promise<string>;
}

export const ipcPanelHooks: IpcPanelHooks = {};
/** Test hooks: the view, its model, and the store's table it reads (`feed`, for its decoder). */
export const ipcDebug: { view?: IpcView; model?: IpcModel; feed?: TraceTable } = {};

class IpcPanel {
  model!: IpcModel;
  view!: IpcView;
  private table: TraceTable | undefined;
  /** rows of `table` already in the model */
  private fed = 0;
  private shown = false;
  private label = '';
  private abi: IpcRequests['ipc.abi']['result'] = { errors: {}, messages: [], problems: [] };
  private breaker: BreakOnNext | undefined;
  private store = traceStore();

  constructor(private readonly host: HTMLElement, private readonly ctx: ViewContext) {}

  async init(): Promise<void> {
    this.breaker = new BreakOnNext(this.ctx, () => ({ view: this.view, model: this.model, feed: this.store.table }));
    if (!ipcPanelHooks.breakOnNext) ipcPanelHooks.breakOnNext = (t, model) => this.breaker!.arm(t, model);
    await this.loadAbi();
    this.rebuild();
    this.store.onChange((c) => this.onStore(c));
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
  }

  private onStore(c: StoreChange): void {
    if (c.kind === 'reset') {
      // a Run builds the OS first: the generated ABI tables (message types) may be new
      const table = this.store.table;
      void this.loadAbi().then(() => {
        if (table !== this.store.table) return;
        this.rebuild();
      });
      return;
    }
    if (c.kind === 'rows') this.feed();
    this.showLabel();
  }

  /** A new model and view for the store's current table, with every row it already has. */
  private rebuild(): void {
    const abi = this.abi;
    const old = this.view;
    this.model = new IpcModel({ results: resultCodesFrom(abi.errors), decoder: abi.messages.length ? tableDecoder(abi.messages) : undefined });
    this.table = this.store.table;
    this.fed = 0;
    const procName = (pid: number) => this.model.processes.get(pid)?.name ?? '';
    if (old) old.dispose();
    this.host.textContent = '';
    this.view = createIpcView(this.host, this.model, {
      resolveSource: async (addr, pid) => (await this.ctx.client.request('ipc.resolve', { addr, program: procName(pid) })) ?? undefined,
      openSource: (file, line) => void this.ctx.openFile(file, line),
      breakOnNext: ipcPanelHooks.breakOnNext ? (t) => ipcPanelHooks.breakOnNext!(t, this.model) : undefined,
      // the selected message's time becomes the shared cursor (other trace views follow it)
      selected: (m, d) => this.store.select(m >= 0 ? { view: 'ipc', kind: 'message', id: m, ns: this.model.msgNs[m]!, tids: d ? [d.src.tid, d.dst.tid] : undefined } : null),
    }, this.ctx.theme());
    this.model.onChange(() => this.breaker?.trySelect());
    ipcDebug.view = this.view;
    ipcDebug.model = this.model;
    ipcDebug.feed = this.table;
    this.view.setCursor(this.store.cursor); // the shared time cursor, as every trace view draws it
    this.host.querySelector('.ipcv-bar')?.prepend(...traceToolbar(this.ctx, (s) => this.view.setStatus(s)));
    this.view.setFollow(this.store.source.live);
    this.label = '';
    this.showLabel();
    if (abi.problems.length) this.view.setStatus(abi.problems[0]!);
    this.feed();
  }

  private feed(): void {
    const t = this.table;
    if (!t || t !== this.store.table || this.fed >= t.count) return;
    const rows = t.rows(this.fed);
    this.fed = t.count;
    feedTrace(this.model, rows);
  }

  /** The source's label in the view's status line when it changes (live → ended, a new file). */
  private showLabel(): void {
    const l = this.store.label();
    if (l === this.label || !this.view) return;
    this.label = l;
    this.view.setStatus(l);
    if (!this.store.source.live) this.view.setFollow(false);
  }

  private async loadAbi(): Promise<void> {
    this.abi = await this.ctx.client.request('ipc.abi', {}).catch(() => ({ errors: {}, messages: [], problems: ['the backend has no IPC view support'] }));
  }

  instance(): ViewInstance {
    return {
      shown: () => {
        this.shown = true;
        this.store.setVisible('ipc', true);
        this.view?.resized();
      },
      hidden: () => {
        this.shown = false;
        this.store.setVisible('ipc', false);
      },
      resized: () => this.view?.resized(),
      themeChanged: (t) => this.view?.setTheme(t),
    };
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
    create(host, ctx) {
      host.style.height = '100%';
      const p = new IpcPanel(host, ctx);
      p.init().catch((e: Error) => {
        host.textContent = `IPC view: ${e.message}`;
      });
      return p.instance();
    },
  });
}
