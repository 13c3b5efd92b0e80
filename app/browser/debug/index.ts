/*
 * Debugging in the renderer: main.ts calls registerDebugViews() before the panels are created,
 * installDebugging() once the editor exists, and handleDebugKey() first in its key handler.
 */
import type { Client } from '../client.js';
import type { monaco as Monaco } from '../monaco-setup.js';
import { decoratedLines, glyphPoint, handleDebugKey, installDebugEditor } from './editor.js';
import { debugStore, initDebugStore, runShouldDebug, startDebugRun } from './store.js';
import { registerDebugViews } from './views.js';

export { handleDebugKey, registerDebugViews, runShouldDebug, startDebugRun };

export function installDebugging(opts: {
  client: Client;
  editor: Monaco.editor.IStandaloneCodeEditor;
  monaco: typeof Monaco;
  notify(level: 'info' | 'warning' | 'error', message: string): void;
  openFile(path: string, line?: number, column?: number): Promise<void>;
  /** Saves dirty editors before a debug Run (like Run does). */
  beforeRun?(): Promise<void>;
}): Promise<void> {
  installDebugEditor(opts.editor, opts.monaco);
  if (opts.beforeRun) debugStore.beforeRun = opts.beforeRun;
  document.getElementById('btn-debug')?.addEventListener('click', () => {
    void startDebugRun();
    document.getElementById('panel-tab-debug')?.click();
  });
  (window as unknown as { lanescopeDebugger: unknown }).lanescopeDebugger = {
    status: () => debugStore.status,
    breakpoints: () => debugStore.model.list(),
    decorations: () => decoratedLines(),
    glyphPoint: (line: number) => glyphPoint(line),
    lastStepToHighlightMs: () => debugStore.lastHighlightMs,
  };
  return initDebugStore(opts.client, opts.notify, opts.openFile);
}
