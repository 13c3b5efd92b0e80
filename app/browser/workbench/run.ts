/*
 * Run, Stop, Restart (toolbar buttons, F5 / Shift+F5 / Ctrl+Shift+F5) and the run state the
 * backend reports. Run debugs instead when the user has breakpoints (a `runDecider` the debug
 * view installs says so), and saves dirty editors first like every IDE.
 */
import { $, notify } from './dom.js';
import { saveAll } from './editor.js';
import { showView } from './layout.js';
import { wbState } from './state.js';
import { renderState } from './statusbar.js';
import type { Contribution } from './views.js';

/** Set by the debug view: Run starts a debug session (returns the panel to show) instead. */
export const runHooks: { debugInstead?: () => boolean } = {};

export async function run(): Promise<void> {
  if (!wbState.project) return notify('warning', 'Open a project first.');
  await saveAll();
  try {
    const debug = runHooks.debugInstead?.() ?? false;
    await wbState.client.request(debug ? 'debug.run' : 'run.start', {});
    showView(debug ? 'debug' : 'console');
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

export async function stop(): Promise<void> {
  try {
    await wbState.client.request('run.stop', {});
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

export async function restart(): Promise<void> {
  await saveAll();
  try {
    await wbState.client.request('run.restart', {});
    showView('console');
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

export const runContribution: Contribution = {
  id: 'run',
  commands: [
    { id: 'run.restart', title: 'Restart', keys: ['Ctrl+Shift+F5'], run: () => restart() },
    { id: 'run.stop', title: 'Stop', keys: ['Shift+F5'], run: () => stop() },
    { id: 'run.start', title: 'Run', keys: ['F5'], run: () => run() },
  ],
  activate(wb) {
    $('#btn-run').addEventListener('click', () => void run());
    $('#btn-stop').addEventListener('click', () => void stop());
    $('#btn-restart').addEventListener('click', () => void restart());
    wb.client.on('run.state', ({ state, since }) => {
      wbState.targetState = state;
      wbState.stateSince = since;
      renderState();
      if (state.kind === 'failed' && wbState.problems.length) showView('problems');
    });
  },
};
