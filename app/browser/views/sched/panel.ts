/*
 * The Scheduler view in the workbench: visualizers' scheduler view (visualizers/sched/) fed by
 * the trace store (app/browser/trace/): on a new source it starts a new model, then feeds it the
 * store's rows as they come (ctx_switch, migrate, load_sample, balance_round, balance_cpu, names);
 * follow mode keeps the newest 5 s in view. It shares the store's selection: a message selected
 * in the IPC lanes view centres this view on that moment and says on which CPU each of its two
 * threads ran; a migration selected here becomes the shared cursor, which both views draw (the same
 * time axis and cursor: visualizers/common). It lives in the panel and can
 * move to the editor area.
 */
import { SchedModel, feedSchedTrace } from '../../../../visualizers/sched/model.js';
import { createSchedView, type SchedView } from '../../../../visualizers/sched/view.js';
import type { TraceEvent } from '../../../../debugger/common/trace/records.js';
import { registerView } from '../../workbench/views.js';
import { mountPanel, TracePanel } from '../trace-panel.js';

/** Test hooks: the view and its model. */
export const schedDebug: { view?: SchedView; model?: SchedModel } = {};

class SchedPanel extends TracePanel<SchedView> {
  model!: SchedModel;

  protected override subscribe(): void {
    // the shared time cursor (any view's selection sets it): drawn on the CPU tracks; moved by a view
    // that selects no thread (the sysfs view's slider), the tracks also centre on it
    this.store.onCursor((ns, from) => {
      this.view?.setCursor(ns);
      if (ns !== null && from === 'sysfs' && this.view) this.view.showAt(ns, []);
    });
    this.store.onSelection((s) => {
      if (s && s.view !== 'sched' && s.ns !== undefined && this.view) this.view.showAt(s.ns, s.tids ?? []);
    });
  }

  protected override make(): SchedView {
    this.model = new SchedModel();
    const view = createSchedView(this.host, this.model, {
      selected: (i) => {
        const m = this.model.migrations[i];
        this.store.select(m ? { view: 'sched', kind: 'migration', id: i, ns: m.ns, tids: [m.tid] } : null);
      },
    }, this.ctx.theme());
    schedDebug.view = view;
    view.setCursor(this.store.cursor);
    schedDebug.model = this.model;
    view.setFollow(this.store.source.live);
    return view;
  }

  protected override consume(rows: TraceEvent[]): void {
    feedSchedTrace(this.model, rows);
  }

  protected override ended(): void {
    this.view.fit();
  }

  protected override labelChanged(l: string): void {
    this.view.setStatus(l || 'no trace yet: press Run, then e.g. `spin 8`');
    if (!this.store.source.live) this.view.setFollow(false);
  }
}

export function registerSchedPanel(): void {
  registerView({
    id: 'sched',
    title: 'Scheduler',
    location: 'panel',
    order: 45,
    editorTab: true,
    commands: [{ id: 'sched.openInEditor', title: 'Scheduler: Open in Editor Area', run: (wb) => wb.moveView('sched', true) }],
    testHooks: { sched: schedDebug },
    create: (host, ctx) => mountPanel(host, 'Scheduler view', new SchedPanel(host, ctx, 'sched', '.schedv-bar')),
  });
}
