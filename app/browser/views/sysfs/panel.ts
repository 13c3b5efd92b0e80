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
import type { TraceEvent } from '../../../../debugger/common/trace/records.js';
import { traceStore } from '../../trace/index.js';
import { registerView } from '../../workbench/views.js';
import { mountPanel, TracePanel } from '../trace-panel.js';

/** Test hooks: the view, its model, and the store's shared time cursor. */
export const sysfsDebug: { view?: SysfsView; model?: SysfsModel; cursor?: () => number | null } = { cursor: () => traceStore().cursor };

class SysfsPanel extends TracePanel<SysfsView> {
  model!: SysfsModel;

  protected override subscribe(): void {
    this.store.onCursor((ns, from) => {
      if (from !== 'sysfs' && this.view) this.view.setTime(ns);
    });
  }

  protected override make(): SysfsView {
    this.model = new SysfsModel();
    const view = createSysfsView(this.host, this.model, {
      timeChanged: (t) => this.store.setCursor(t, 'sysfs'),
      showProcess: (pid, tids) => {
        const t = this.view.time();
        this.store.select({ view: 'sysfs', kind: 'process', id: pid, ns: Number.isFinite(t) ? t : this.model.t1, tids });
        this.ctx.showView('sched');
      },
    }, this.ctx.theme());
    sysfsDebug.view = view;
    sysfsDebug.model = this.model;
    return view;
  }

  protected override consume(rows: TraceEvent[]): void {
    feedSysfsTrace(this.model, rows);
    this.status();
  }

  protected override labelChanged(): void {
    this.status();
  }

  private status(): void {
    const c = this.model.counts();
    const bad = this.model.bad ? `, ${this.model.bad} malformed records skipped (${this.model.problems.at(-1)})` : '';
    this.view.setStatus(`${this.label} · ${c.dirs} dirs, ${c.attrs} attributes${c.links ? `, ${c.links} links` : ''}${bad}`);
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
    create: (host, ctx) => mountPanel(host, 'sysfs view', new SysfsPanel(host, ctx, 'sysfs', '.sysv-bar')),
  });
}
