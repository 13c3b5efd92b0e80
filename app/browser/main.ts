/*
 * The Lanescope workbench (renderer). Same code in Electron and in a plain browser.
 *
 *   ┌ toolbar: Open · Run · Debug · Stop · Restart · target picker · theme ───────┐
 *   │ sidebar  │ tabs (files, views moved here) + Monaco editor                  │
 *   │ views    ├─────────────────────────────────────────────────────────────────┤
 *   │          │ panel views: Console · Build · Terminal · Problems · Debug · IPC │
 *   └ status bar: target state + elapsed · progress · view status items · cursor ─┘
 *
 * This file only boots: the parts live in workbench/ (editor, explorer, layout, status bar,
 * target picker, Run, commands and keys, project), the views in views/ (listed once, in
 * views/index.ts). Talks to the backend only through Client (app/common/contract.ts); layout and
 * open files are persisted by the backend (state.set), not in the project.
 */
import { serialStatusContribution } from './workbench/serial-status.js';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { registerAllViews } from './views/index.js';
import { runCommand, setupKeys } from './workbench/commands.js';
import { $, notify } from './workbench/dom.js';
import { applyMarkers, createEditor, editorContribution, editorEvents, editorHooks, openFile, saveAll } from './workbench/editor.js';
import { explorerView, highlightExplorer } from './workbench/explorer.js';
import { moveView, setupPanels, setupSidebar, setupSplitters, setupTheme, showView } from './workbench/layout.js';
import { openFolder, openInitialProject } from './workbench/project.js';
import { runContribution } from './workbench/run.js';
import { wbState } from './workbench/state.js';
import { renderProblemCounts, renderState, setStatusMessage, setupStatusBar } from './workbench/statusbar.js';
import { setupTargetPicker } from './workbench/target.js';
import { allContributions, registerContribution, registerView, type Workbench } from './workbench/views.js';
import { trustContribution } from './trust.js';
import { hotExitContribution } from './hot-exit.js';

const client = wbState.client;
const wb: Workbench = {
  client,
  openFile,
  showView,
  moveView,
  notify,
  theme: () => wbState.ui.theme,
  saveAll,
  runCommand: (id) => runCommand(wb, id),
  prompt: (_title, label, value) => Promise.resolve(window.prompt(label, value)),
};

async function main(): Promise<void> {
  registerView(explorerView);
  registerContribution(runContribution);
  registerContribution(editorContribution);
  registerContribution(trustContribution); // workspace trust (trust.ts)
  registerContribution(hotExitContribution); // no edit lost (hot-exit.ts)
  registerContribution(serialStatusContribution); // the serial target's line (workbench/serial-status.ts)
  registerAllViews();
  for (const c of allContributions()) if (c.testHooks) Object.assign(hooks, c.testHooks);
  client.onConnectionLost = (why) => notify('error', why);
  try {
    await client.connect();
  } catch (e) {
    document.body.textContent = (e as Error).message;
    return;
  }
  wbState.ui = await client.request('state.get', {});
  editorEvents.activeChanged = highlightExplorer;
  editorEvents.statusMessage = setStatusMessage;
  createEditor();
  setupSidebar(wb);
  setupPanels(wb);
  setupStatusBar(wb);
  setupTheme();
  setupSplitters();
  setupKeys(wb);
  setupTargetPicker();
  $('#btn-open').addEventListener('click', () => void openFolder());
  client.on('problems', ({ diagnostics }) => {
    wbState.problems = diagnostics;
    applyMarkers();
    renderProblemCounts();
  });
  client.on('notice', ({ level, message }) => notify(level, message));
  for (const c of allContributions()) await c.activate?.(wb);

  await openInitialProject();
  const st = await client.request('run.status', {});
  wbState.targetState = st.state;
  wbState.stateSince = st.since;
  wbState.problems = st.problems;
  renderState();
  showView(wbState.ui.activePanel);
  document.body.dataset['ready'] = 'true';
}

// Hooks for end-to-end tests and benchmarks: read-only views of what the user sees (each view adds
// its own under its id, e.g. lanescopeDebug.ipc).
const hooks: Record<string, unknown> = { ...editorHooks };
(window as unknown as { lanescopeDebug: unknown }).lanescopeDebug = hooks;
void main().then(() => {
  for (const c of allContributions()) if (c.testHooks) Object.assign(hooks, c.id in hooks ? {} : { [c.id]: c.testHooks });
});
