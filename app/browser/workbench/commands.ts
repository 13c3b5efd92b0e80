/*
 * Commands and keybindings. Every contribution (views, Run, the editor) brings its commands; one
 * key handler asks each contribution's onKey first (keys whose meaning depends on state, like F5
 * continuing a stopped debug session), then matches the keybindings. No key is hard-coded here.
 */
import { persistNow } from './state.js';
import { anyDirty } from './editor.js';
import { allCommands, allContributions, keyMatches, type Workbench } from './views.js';

export async function runCommand(wb: Workbench, id: string): Promise<void> {
  const c = allCommands().find((x) => x.id === id);
  if (!c) throw new Error(`no command ${id}`);
  await c.run(wb);
}

export function setupKeys(wb: Workbench): void {
  window.addEventListener(
    'keydown',
    (e) => {
      if (document.querySelector('.modal-back')) return;
      for (const c of allContributions()) if (c.onKey?.(e, wb)) return;
      for (const cmd of allCommands()) {
        if (cmd.keys?.some((k) => keyMatches(k, e))) {
          e.preventDefault();
          void cmd.run(wb);
          return;
        }
      }
    },
    true,
  );
  window.addEventListener('beforeunload', (e) => {
    void persistNow();
    if (anyDirty()) e.preventDefault();
  });
}
