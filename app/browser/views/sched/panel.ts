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
import { traceStore, traceToolbar, type StoreChange } from '../../trace/index.js';
import type { TraceTable } from '../../trace/table.js';
import { registerView, type ViewContext, type ViewInstance } from '../../workbench/views.js';

/** Test hooks: the view and its model. */
export const schedDebug: { view?: SchedView; model?: SchedModel } = {};

class SchedPanel {
  model!: SchedModel;
  view!: SchedView;
  private table: TraceTable | undefined;
  /** rows of `table` already in the model */
  private fed = 0;
  private label = '';
  private store = traceStore();

  constructor(private readonly host: HTMLElement, private readonly ctx: ViewContext) {}

  init(): void {
    this.rebuild();
    this.store.onChange((c) => this.onStore(c));
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

  private onStore(c: StoreChange): void {
    if (c.kind === 'reset') this.rebuild();
    else if (c.kind === 'rows') this.feed();
    else if (c.kind === 'end') {
      this.feed();
      this.view.fit();
    }
    this.showLabel();
  }

  /** A new model and view for the store's current table, with every row it already has. */
  private rebuild(): void {
    this.view?.dispose();
    this.host.textContent = '';
    this.model = new SchedModel();
    this.table = this.store.table;
    this.fed = 0;
    this.view = createSchedView(this.host, this.model, {
      selected: (i) => {
        const m = this.model.migrations[i];
        this.store.select(m ? { view: 'sched', kind: 'migration', id: i, ns: m.ns, tids: [m.tid] } : null);
      },
    }, this.ctx.theme());
    schedDebug.view = this.view;
    this.view.setCursor(this.store.cursor);
    schedDebug.model = this.model;
    this.host.querySelector('.schedv-bar')?.prepend(...traceToolbar(this.ctx, (s) => this.view.setStatus(s)));
    this.view.setFollow(this.store.source.live);
    this.label = '';
    this.showLabel();
    this.feed();
  }

  private feed(): void {
    const t = this.table;
    if (!t || t !== this.store.table || this.fed >= t.count) return;
    const rows = t.rows(this.fed);
    this.fed = t.count;
    feedSchedTrace(this.model, rows);
  }

  private showLabel(): void {
    const l = this.store.label();
    if (l === this.label || !this.view) return;
    this.label = l;
    this.view.setStatus(l || 'no trace yet: press Run, then e.g. `spin 8`');
    if (!this.store.source.live) this.view.setFollow(false);
  }

  instance(): ViewInstance {
    return {
      shown: () => {
        this.store.setVisible('sched', true);
        this.view?.resized();
      },
      hidden: () => this.store.setVisible('sched', false),
      resized: () => this.view?.resized(),
      themeChanged: (t) => this.view?.setTheme(t),
    };
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
    create(host, ctx) {
      host.style.height = '100%';
      const p = new SchedPanel(host, ctx);
      try {
        p.init();
      } catch (e) {
        host.textContent = `Scheduler view: ${(e as Error).message}`;
      }
      return p.instance();
    },
  });
}
