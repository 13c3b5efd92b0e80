/*
 * The sysfs view in the workbench: visualizers' sysfs view (visualizers/sysfs/) fed by the trace
 * store (app/browser/trace/): on a new source it starts a new model, then feeds it the store's
 * rows as they come (sysfs_* records, process and thread names) — live during a Run, or a saved
 * trace read to the end. Its time slider is the store's shared time cursor: scrubbing here moves
 * the cursor (other views follow), a cursor set elsewhere (a message selected in IPC lanes, a
 * migration in the scheduler view) shows the tree as it was then. A subtree's owner links to its
 * process: the selection carries the process's threads, and the Scheduler view is brought up to
 * say where they ran. It opens as a tab in the editor area (Ctrl+Alt+Y, "sysfs: Open") and can
 * move to the panel.
 */
import { SysfsModel, feedSysfsTrace } from '../../../../visualizers/sysfs/model.js';
import { createSysfsView, type SysfsView } from '../../../../visualizers/sysfs/view.js';
import { traceStore, traceToolbar, type StoreChange } from '../../trace/index.js';
import type { TraceTable } from '../../trace/table.js';
import { registerView, type ViewContext, type ViewInstance } from '../../workbench/views.js';

/** Test hooks: the view, its model, and the store's shared time cursor. */
export const sysfsDebug: { view?: SysfsView; model?: SysfsModel; cursor?: () => number | null } = { cursor: () => traceStore().cursor };

class SysfsPanel {
  model!: SysfsModel;
  view!: SysfsView;
  private table: TraceTable | undefined;
  /** rows of `table` already in the model */
  private fed = 0;
  private label = '';
  private store = traceStore();

  constructor(private readonly host: HTMLElement, private readonly ctx: ViewContext) {}

  init(): void {
    this.rebuild();
    this.store.onChange((c) => this.onStore(c));
    this.store.onCursor((ns, from) => {
      if (from !== 'sysfs' && this.view) this.view.setTime(ns);
    });
  }

  private onStore(c: StoreChange): void {
    if (c.kind === 'reset') this.rebuild();
    else if (c.kind === 'rows' || c.kind === 'end') this.feed();
    this.showLabel();
  }

  /** A new model and view for the store's current table, with every row it already has. */
  private rebuild(): void {
    this.view?.dispose();
    this.host.textContent = '';
    this.model = new SysfsModel();
    this.table = this.store.table;
    this.fed = 0;
    this.view = createSysfsView(this.host, this.model, {
      timeChanged: (t) => this.store.setCursor(t, 'sysfs'),
      showProcess: (pid, tids) => {
        const t = this.view.time();
        this.store.select({ view: 'sysfs', kind: 'process', id: pid, ns: Number.isFinite(t) ? t : this.model.t1, tids });
        this.ctx.showView('sched');
      },
    }, this.ctx.theme());
    sysfsDebug.view = this.view;
    sysfsDebug.model = this.model;
    this.host.querySelector('.sysv-bar')?.prepend(...traceToolbar(this.ctx, (s) => this.view.setStatus(s)));
    this.label = '';
    this.showLabel();
    this.feed();
  }

  private feed(): void {
    const t = this.table;
    if (!t || t !== this.store.table || this.fed >= t.count) return;
    const rows = t.rows(this.fed);
    this.fed = t.count;
    feedSysfsTrace(this.model, rows);
    this.status();
  }

  private status(): void {
    const c = this.model.counts();
    const bad = this.model.bad ? `, ${this.model.bad} malformed records skipped (${this.model.problems.at(-1)})` : '';
    this.view.setStatus(`${this.label} · ${c.dirs} dirs, ${c.attrs} attributes${c.links ? `, ${c.links} links` : ''}${bad}`);
  }

  private showLabel(): void {
    const l = this.store.label();
    if (l === this.label || !this.view) return;
    this.label = l;
    this.status();
  }

  instance(): ViewInstance {
    return {
      shown: () => {
        this.store.setVisible('sysfs', true);
        this.view?.resized();
      },
      hidden: () => this.store.setVisible('sysfs', false),
      resized: () => this.view?.resized(),
      themeChanged: (t) => this.view?.setTheme(t),
    };
  }
}

export function registerSysfsPanel(): void {
  registerView({
    id: 'sysfs',
    title: 'sysfs',
    location: 'panel',
    order: 47,
    editorTab: true,
    commands: [
      {
        id: 'sysfs.open',
        title: 'sysfs: Open (the /sys tree, scrubbable in time)',
        keys: ['Ctrl+Alt+Y'],
        run: (wb) => {
          wb.moveView('sysfs', true);
          wb.showView('sysfs');
        },
      },
    ],
    testHooks: { sysfs: sysfsDebug },
    create(host, ctx) {
      host.style.height = '100%';
      const p = new SysfsPanel(host, ctx);
      try {
        p.init();
      } catch (e) {
        host.textContent = `sysfs view: ${(e as Error).message}`;
      }
      return p.instance();
    },
  });
}
