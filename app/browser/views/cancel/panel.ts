/*
 * The Cancellations view in the workbench: visualizers' syscall cancellation view
 * (visualizers/cancel/) fed by the trace store (app/browser/trace/) — the Run's live recording
 * or an opened trace, the same rows every trace view reads (decoded once). On a new source it
 * starts a new model and feeds it the store's rows as they come.
 *
 * It opens in the editor area as a tab by default (it needs room: a list, a timeline and a chain):
 * the first time it is shown from its panel tab, or with its command (Ctrl+Shift+Y), it moves
 * there; closing the tab puts it back in the panel. It shares the store's time cursor and
 * selection: a message selected in IPC lanes or a migration in the Scheduler moves this view's
 * cursor; a link selected here moves theirs (a reply link selects its IPC message, by submit id).
 * Enter on a link resolves the syscall's user-side line (the return address of its request,
 * through the IPC view's backend: ipc.resolve) or opens the server's cancel handler (break.ts).
 */
import { CancelModel } from '../../../../visualizers/cancel/model.js';
import { createCancelView, type CancelView } from '../../../../visualizers/cancel/view.js';
import type { TraceEvent } from '../../../../debugger/common/trace/records.js';
import { registerView, type ViewContext } from '../../workbench/views.js';
import { mountPanel, TracePanel } from '../trace-panel.js';
import { CancelBreak } from './break.js';

/** Test hooks: the view, its model and the break-on-next controller. */
export const cancelDebug: { view?: CancelView; model?: CancelModel; breaker?: CancelBreak } = {};

class CancelPanel extends TracePanel<CancelView> {
  model!: CancelModel;
  private movedOnce = false;
  private breaker: CancelBreak;

  constructor(host: HTMLElement, ctx: ViewContext) {
    super(host, ctx, 'cancel', '.cancelv-bar');
    this.breaker = new CancelBreak(ctx, () => ({ view: this.view, model: this.model }));
    cancelDebug.breaker = this.breaker;
  }

  protected override subscribe(): void {
    this.store.onSelection((s) => {
      if (s && s.view !== 'cancel' && s.ns !== undefined && this.view) this.view.showAt(s.ns);
    });
    this.store.onCursor((ns, from) => {
      if (from !== 'cancel' && this.view) this.view.showAt(ns);
    });
  }

  protected override ended(): void {
    this.view.fit();
  }

  protected override make(): CancelView {
    this.model = new CancelModel();
    const model = this.model;
    const view = createCancelView(this.host, model, {
      selected: (call, link) => {
        const c = model.calls[call];
        if (!c) return this.store.select(null);
        if (link?.kind === 'reply' && link.id) this.store.select({ view: 'cancel', kind: 'ipc-submit', id: link.id, ns: link.ns, tids: [c.tid] });
        else this.store.select({ view: 'cancel', kind: link ? `cancel-${link.kind}` : 'syscall', id: call, ns: link ? link.ns : c.begin, tids: link?.tid && link.tid !== c.tid ? [c.tid, link.tid] : [c.tid] });
      },
      openSource: (t) => {
        if (t.kind === 'server') {
          void this.breaker.openHandler().catch((e: Error) => this.view.setStatus(e.message));
          return;
        }
        void this.ctx.client.request('ipc.resolve', { addr: Number(t.retAddr), program: model.processName(t.pid) }).then((loc) => {
          if (loc) void this.ctx.openFile(loc.file, loc.line);
          else this.view.setStatus(`no source line for 0x${BigInt(t.retAddr).toString(16)} in ${model.processName(t.pid)}`);
        }, (e: Error) => this.view.setStatus(e.message));
      },
      breakOnNext: (t) => this.breaker.arm(t),
    }, this.ctx.theme());
    cancelDebug.view = view;
    cancelDebug.model = model;
    view.setFollow(this.store.source.live);
    return view;
  }

  protected override consume(rows: TraceEvent[]): void {
    this.model.addAll(rows);
    this.breaker.trySelect();
  }

  protected override labelChanged(l: string): void {
    this.view.setStatus(l || 'no trace yet: press Run, then e.g. `cat /dev/slow` and Ctrl-C');
    if (!this.store.source.live) this.view.setFollow(false);
  }

  protected override shown(): void {
    // its home is the editor area (room for list + timeline + chain): the first showing moves it
    if (!this.movedOnce) {
      this.movedOnce = true;
      if (!this.host.closest('#editor-wrap')) {
        requestAnimationFrame(() => this.ctx.moveView('cancel', true));
        return;
      }
    }
    super.shown();
  }
}

export function registerCancelPanel(): void {
  registerView({
    id: 'cancel',
    title: 'Cancellations',
    location: 'panel',
    order: 47,
    editorTab: true,
    commands: [
      { id: 'cancel.open', title: 'Cancellations: Open the Syscall Cancellation View', keys: ['Ctrl+Shift+Y'], run: (wb) => wb.moveView('cancel', true) },
      { id: 'cancel.openInPanel', title: 'Cancellations: Move to the Panel', run: (wb) => wb.moveView('cancel', false) },
    ],
    testHooks: { cancel: cancelDebug },
    create: (host, ctx) => mountPanel(host, 'Cancellations view', new CancelPanel(host, ctx)),
  });
}
