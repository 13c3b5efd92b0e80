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
 * Enter on a link opens the program's line that made the syscall, or on a server's link the
 * server's line that handled the cancel: the call_site record (trace.toml) the kernel wrote with
 * the writer's frames, symbolised by the IPC view's backend (ipc.resolveFrames, the program's
 * ELF), the first frame outside libc and the generated headers. A trace without call_site falls
 * back to the request's return address (ipc.resolve), and for a server to the line of the last
 * Break on next cancellation stop (break.ts).
 */
import { CancelModel, programFrame, type SourceTarget } from '../../../../visualizers/cancel/model.js';
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
        if ((link?.kind === 'reply' || link?.kind === 'forward') && link.id) this.store.select({ view: 'cancel', kind: 'ipc-submit', id: link.id, ns: link.ns, tids: [c.tid] });
        else this.store.select({ view: 'cancel', kind: link ? `cancel-${link.kind}` : 'syscall', id: call, ns: link ? link.ns : c.begin, tids: link?.tid && link.tid !== c.tid ? [c.tid, link.tid] : [c.tid] });
      },
      openSource: (t) => void this.openSource(t).catch((e: Error) => this.view.setStatus(e.message)),
      breakOnNext: (t) => this.breaker.arm(t),
    }, this.ctx.theme());
    cancelDebug.view = view;
    cancelDebug.model = model;
    view.setFollow(this.store.source.live);
    return view;
  }

  /** Enter: symbolise the call_site's frames with the program's ELF (the server's, for a server
   * link) and open the first frame in the program's own code. */
  private async openSource(t: SourceTarget): Promise<void> {
    const model = this.model;
    const program = model.processName(t.pid);
    if (t.pcs.length) {
      const frames = await this.ctx.client.request('ipc.resolveFrames', { addrs: t.pcs.map(Number), program });
      const at = programFrame(frames);
      if (at >= 0) {
        const f = frames[at]!;
        this.view.setStatus(`${t.kind === 'server' ? `${t.server}: the cancel handled` : `${program}: the call`} at ${f.file}:${f.line}`);
        return this.ctx.openFile(f.file, f.line);
      }
      if (t.kind === 'user' || !this.breaker.lastHandler) {
        const where = frames.find((f) => f);
        throw new Error(`no frame of ${program}'s own code among ${t.pcs.length} (${where ? `innermost: ${where.file}:${where.line}` : `build/programs/${program}.elf has no line for them`})`);
      }
    }
    if (t.kind === 'server') return this.breaker.openHandler();
    // an older trace (no call_site): the request's own return address — the IPC stub's line
    const loc = await this.ctx.client.request('ipc.resolve', { addr: Number(t.retAddr), program });
    if (!loc) throw new Error(`no source line for 0x${BigInt(t.retAddr).toString(16)} in ${program}`);
    this.view.setStatus(`${program}: no call_site record in this trace; the request's return address is ${loc.file}:${loc.line}`);
    return this.ctx.openFile(loc.file, loc.line);
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
