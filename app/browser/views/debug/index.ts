/*
 * Debugging in the renderer, as one view module: the Debug, Registers, Memory, Disassembly and
 * RSP log panels (views.ts), the editor's breakpoint glyphs and current line (editor.ts), the
 * F5/F6/F9/F10/F11 keys while debugging, the ⚙ Debug button, the "paused" run state, and Run
 * debugging instead when breakpoints are set.
 */
import { debugStatusLabel } from '../../../common/debug.js';
import { ensureTrusted } from '../../trust.js';
import { monaco } from '../../monaco-setup.js';
import { editor } from '../../workbench/editor.js';
import { runHooks } from '../../workbench/run.js';
import { renderState, stateOverrides } from '../../workbench/statusbar.js';
import { registerContribution } from '../../workbench/views.js';
import { decoratedLines, glyphPoint, handleDebugKey, installDebugEditor } from './editor.js';
import { debugStore, initDebugStore, onStatus, runShouldDebug, startDebugRun } from './store.js';
import { registerDebugViews } from './views.js';

export function registerDebugging(): void {
  registerDebugViews();
  registerContribution({
    id: 'debugging',
    onKey: (e) => handleDebugKey(e as KeyboardEvent), // F5 continue while stopped, F9/F10/F11/Shift+F11, F6 debug
    async activate(wb) {
      installDebugEditor(editor, monaco);
      debugStore.beforeRun = async () => {
        await wb.saveAll();
        if (!(await ensureTrusted())) throw new Error('Debug cancelled: the folder is not trusted');
      };
      runHooks.debugInstead = runShouldDebug;
      stateOverrides.push(() => debugStatusLabel(debugStore.status));
      onStatus(() => renderState());
      document.getElementById('btn-debug')?.addEventListener('click', () => {
        void startDebugRun();
        wb.showView('debug');
      });
      (window as unknown as { lanescopeDebugger: unknown }).lanescopeDebugger = {
        status: () => debugStore.status,
        breakpoints: () => debugStore.model.list(),
        decorations: () => decoratedLines(),
        glyphPoint: (line: number) => glyphPoint(line),
        lastStepToHighlightMs: () => debugStore.lastHighlightMs,
        /** The last command → highlight, call stack + locals rendered, whole stop rendered (ms). */
        lastStepTimes: () => ({ arrived: debugStore.lastArrivedMs, highlight: debugStore.lastHighlightMs, frames: debugStore.lastFramesMs, complete: debugStore.lastCompleteMs, runningRender: debugStore.lastRunningRenderMs, commandEpoch: performance.timeOrigin + debugStore.lastCommandAt }),
      };
      // not awaited: the session status arrives when the backend answers
      void initDebugStore(wb.client, wb.notify, wb.openFile);
    },
  });
}
