/*
 * The trace toolbar every trace view shows: Open trace… / Save trace… / Export to Perfetto… act on
 * the trace itself (the store's source, the Run's recording), not on one view. The result or the
 * error is shown in the toolbar's status line and as a notice.
 */
import type { Workbench } from '../workbench/views.js';
import { traceStore } from './index.js';

/** A default file name for the Run's trace in the project: traces/run-YYYYMMDD-HHMMSS.EXT (local time). */
export function runFileName(ext: string): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `traces/run-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.${ext}`;
}

type Report = (s: string) => void;

export async function openTrace(wb: Workbench, report: Report = (s) => wb.notify('info', s)): Promise<void> {
  const p = await wb.prompt('Open trace', 'Trace file to open (absolute, or relative to the project):', traceStore().source.path || 'trace.ltrace');
  if (!p) return;
  try {
    await traceStore().open(p);
  } catch (e) {
    report(`cannot open: ${(e as Error).message}`);
  }
}

export async function saveTrace(wb: Workbench, report: Report = (s) => wb.notify('warning', s)): Promise<void> {
  const p = await wb.prompt('Save trace', 'Save the Run\'s trace as (relative to the project):', runFileName('ltrace'));
  if (!p) return;
  try {
    await wb.client.request('trace.save', { path: p });
  } catch (e) {
    report(`cannot save: ${(e as Error).message}`);
  }
}

export async function exportPerfetto(wb: Workbench, report: Report = (s) => wb.notify('info', s)): Promise<void> {
  const p = await wb.prompt('Export to Perfetto', 'Export the Run\'s trace for Perfetto as (relative to the project):', runFileName('pftrace'));
  if (!p) return;
  try {
    const r = await wb.client.request('trace.exportPerfetto', { path: p });
    report(`exported ${r.events.toLocaleString('en-US')} events to ${r.path} (${r.bytes.toLocaleString('en-US')} bytes) — open it in ui.perfetto.dev`);
  } catch (e) {
    report(`cannot export: ${(e as Error).message}`);
  }
}

function button(label: string, title: string, onclick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.title = title;
  b.onclick = onclick;
  return b;
}

/** The toolbar's buttons, for a trace view to put in its own bar; `report` shows results in the view. */
export function traceToolbar(wb: Workbench, report: Report): HTMLElement[] {
  return [
    button('Open trace…', 'Open a saved trace file (.ltrace) in every trace view — e.g. a Run\'s recording or one made with the trace CLI', () => void openTrace(wb, report)),
    button('Save trace…', 'Save the current (or last) Run\'s trace recording into the project; reopen it with Open trace…', () => void saveTrace(wb, report)),
    button('Export to Perfetto…', 'Write the current (or last) Run\'s trace in Perfetto\'s format (CPU scheduling, syscalls, IPC flows) to open in ui.perfetto.dev', () => void exportPerfetto(wb, report)),
  ];
}
