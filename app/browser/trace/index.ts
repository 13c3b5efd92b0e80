/*
 * The trace every trace view shares, as a workbench contribution: the store (store.ts: polls,
 * decodes once, fans out; cursor and selection), its commands (Open / Save / Export to
 * Perfetto), the toolbar each trace view shows with them (toolbar.ts), and its status-bar item.
 * Trace views use `traceStore` and put `traceToolbar()` in their own bar.
 */
import { TraceStore } from './store.js';
import { traceStatusItem } from './status.js';
import { exportPerfetto, openTrace, saveTrace } from './toolbar.js';
import { registerContribution } from '../workbench/views.js';

export { traceToolbar } from './toolbar.js';
export type { StoreChange, TraceSelection } from './store.js';

const store = new TraceStore();

/** The one trace store (it starts following the backend when the workbench is up). */
export function traceStore(): TraceStore {
  return store;
}

export function registerTrace(): void {
  registerContribution({
    id: 'trace',
    statusItems: [traceStatusItem],
    commands: [
      { id: 'trace.open', title: 'Trace: Open Saved Trace…', run: (wb) => openTrace(wb) },
      { id: 'trace.save', title: 'Trace: Save the Run\'s Trace…', run: (wb) => saveTrace(wb) },
      { id: 'trace.exportPerfetto', title: 'Trace: Export to Perfetto…', run: (wb) => exportPerfetto(wb) },
    ],
    testHooks: {
      trace: {
        /** bytes decoded and events of the current source: each byte decoded once */
        stats: () => {
          const t = traceStore().table;
          return { bytesDecoded: t.bytesDecoded, rows: t.count, generation: traceStore().source.generation };
        },
      },
    },
    async activate(wb) {
      await store.start(wb.client);
    },
  });
}
