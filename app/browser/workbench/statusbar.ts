/*
 * The status bar: the target's state and elapsed time (or the debugger's "paused"), build/boot
 * progress, a message line, the problem counts, the cursor — and the status items views bring
 * (app/browser/workbench/views.ts: StatusItem), placed left or right of the spacer by order.
 */
import { describeState } from '../../common/contract.js';
import { $, el } from './dom.js';
import { wbState } from './state.js';
import { allContributions, type Workbench } from './views.js';

export function setStatusMessage(s: string): void {
  $('#status-message').textContent = s;
}

function fmtElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m % 60)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** Labels that override the run state while they say something (the debugger's "paused at …"). */
export const stateOverrides: (() => string | undefined)[] = [];

export function renderState(): void {
  const { targetState, stateSince, project } = wbState;
  const s = $('#status-state');
  s.dataset['state'] = targetState.kind;
  const label = describeState(targetState);
  const live = ['building', 'booting', 'running'].includes(targetState.kind);
  s.textContent = live ? `${label} · ${fmtElapsed(Date.now() - stateSince)}` : targetState.kind === 'idle' ? 'idle' : `${label}`;
  s.title = label;
  // The debugger holding a live target stopped wins over "running" (back to it on Continue).
  const paused = ['booting', 'running'].includes(targetState.kind) ? stateOverrides.map((f) => f()).find((x) => x) : undefined;
  if (paused) {
    s.dataset['state'] = 'paused';
    s.textContent = paused;
    s.title = paused;
  }
  ($('#btn-run') as HTMLButtonElement).disabled = live;
  ($('#btn-stop') as HTMLButtonElement).disabled = !live;
  ($('#btn-restart') as HTMLButtonElement).disabled = !project;
}

/** The status items of every contribution, each in a span of its own (id status-<id>). */
function placeItems(wb: Workbench): void {
  const bar = $('#statusbar');
  const spacer = bar.querySelector('.spacer')!;
  const items = allContributions().flatMap((c) => c.statusItems ?? []).sort((a, b) => a.order - b.order);
  for (const it of items) {
    const span = el('span', { id: `status-${it.id}` });
    if (it.align === 'left') spacer.before(span);
    else $('#status-problems').before(span);
    it.create(span, wb);
  }
}

export function setupStatusBar(wb: Workbench): void {
  placeItems(wb);
  setInterval(renderState, 1000);
  wb.client.on('run.progress', (p) => {
    const bar = $<HTMLProgressElement>('#status-progress');
    if (p.done || !p.total) {
      bar.hidden = p.done === true || p.step === undefined;
      bar.removeAttribute('value');
    } else {
      bar.hidden = false;
      bar.max = p.total;
      bar.value = p.step ?? 0;
    }
    if (p.done) bar.hidden = true;
    $('#status-progress-text').textContent = `${p.task}: ${p.stage}${p.step && !p.done ? ` (${p.step}${p.total ? `/${p.total}` : ''})` : ''}`;
  });
}

export function renderProblemCounts(): void {
  const ds = wbState.problems;
  const errors = ds.filter((d) => d.severity === 'error').length;
  const warnings = ds.filter((d) => d.severity === 'warning').length;
  $('#status-problems').textContent = `⨯ ${errors}  ⚠ ${warnings}`;
}
