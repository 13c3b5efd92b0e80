/*
 * trace-panel.ts — what every trace-fed view panel does the same way (IPC lanes, Scheduler, Cancellations,
 * sysfs): one trace store (app/browser/trace/) feeds it, so on a new source (a Run starts, a trace
 * is opened) it makes a new model and view and feeds it every row the store already has; as rows
 * come it feeds only the new ones (`fed` counts them); at the source's end it may fit the view;
 * the store's label (what is being shown) goes to the view's status; the trace toolbar (Open,
 * Save, Export) sits at the start of the view's own bar; showing and hiding the panel tells the
 * store which views are visible. A panel says only what differs: how to make its model and view
 * (make), how rows go in (consume), and what it listens to besides (subscribe); one that reads
 * something of the project's before making a model (IPC lanes: the generated ABI tables, new
 * after a Run's build) says so in prepare(), and the new model waits for it.
 */
import { traceStore, traceToolbar, type StoreChange } from '../trace/index.js';
import type { TraceTable } from '../trace/table.js';
import type { TraceEvent } from '../../../debugger/common/trace/records.js';
import type { ViewContext, ViewInstance } from '../workbench/views.js';

/** What the base needs of a visualizers view. */
export interface TraceFedView {
  dispose(): void;
  resized(): void;
  setTheme(t: 'dark' | 'light'): void;
  setStatus(text: string): void;
}

export abstract class TracePanel<V extends TraceFedView> {
  view!: V;
  protected readonly store = traceStore();
  private table: TraceTable | undefined;
  /** rows of `table` already in the model */
  private fed = 0;
  protected label = '';

  /** id: the view's id in the registry (the store's visibility key); bar: the CSS selector of the
   *  view's toolbar, where the trace toolbar goes. */
  constructor(protected readonly host: HTMLElement, protected readonly ctx: ViewContext, readonly id: string, private readonly bar: string) {}

  /** A new model and the view over it (the host is empty). */
  protected abstract make(): V;
  /** Rows new since the last call, in order. */
  protected abstract consume(rows: TraceEvent[]): void;
  /** What the panel listens to besides the store's changes (cursor, selection). */
  protected subscribe(): void {}
  /** The source ended (a trace read to its end, a Run stopped). */
  protected ended(): void {}
  /** Before each new model (the first one and every new source): what make() needs to have read
   * first. Rows that come meanwhile wait in the store. */
  protected prepare(): Promise<void> | void {}
  /** The store's label changed. */
  protected labelChanged(label: string): void {
    this.view.setStatus(label);
  }

  init(): void {
    this.store.onChange((c) => this.onStore(c));
    this.subscribe();
    this.prepared();
  }

  /** prepare(), then a new model for the store's table unless another source came meanwhile. */
  private prepared(): void {
    const table = this.store.table;
    const p = this.prepare();
    if (!p) return this.rebuild();
    void p.then(() => {
      if (table === this.store.table) this.rebuild();
    }, (e: Error) => {
      if (this.view) this.view.setStatus(e.message);
      else this.host.textContent = e.message;
    });
  }

  private onStore(c: StoreChange): void {
    if (c.kind === 'reset') this.prepared();
    else if (c.kind === 'rows') this.feed();
    else if (c.kind === 'end') {
      this.feed();
      if (this.view) this.ended();
    }
    this.showLabel();
  }

  /** A new model and view for the store's current table, with every row it already has. */
  private rebuild(): void {
    this.view?.dispose();
    this.host.textContent = '';
    this.table = this.store.table;
    this.fed = 0;
    this.view = this.make();
    this.host.querySelector(this.bar)?.prepend(...traceToolbar(this.ctx, (s) => this.view.setStatus(s)));
    this.label = '';
    this.showLabel();
    this.feed();
  }

  private feed(): void {
    const t = this.table;
    if (!t || t !== this.store.table || this.fed >= t.count) return;
    const rows = t.rows(this.fed);
    this.fed = t.count;
    this.consume(rows);
  }

  private showLabel(): void {
    const l = this.store.label();
    if (l === this.label || !this.view) return;
    this.label = l;
    this.labelChanged(l);
  }

  /** Shown: the store counts it visible, and it takes its new size. A panel that does more on
   *  showing overrides it and calls super. */
  protected shown(): void {
    this.view?.resized();
  }

  instance(): ViewInstance {
    return {
      shown: () => {
        this.store.setVisible(this.id, true);
        this.shown();
      },
      hidden: () => this.store.setVisible(this.id, false),
      resized: () => this.view?.resized(),
      themeChanged: (t) => this.view?.setTheme(t),
    };
  }
}

/** The registry's create(): the panel fills its host; an error while starting is shown in place. */
export function mountPanel<V extends TraceFedView>(host: HTMLElement, title: string, p: TracePanel<V>): ViewInstance {
  host.style.height = '100%';
  try {
    p.init();
  } catch (e) {
    host.textContent = `${title}: ${(e as Error).message}`;
  }
  return p.instance();
}
