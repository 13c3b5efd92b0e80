/*
 * The open project: loading one (restore its open files and expanded folders, offer to write a
 * default lanescope.json) and Open Folder….
 */
import type { ProjectInfo } from '../../common/contract.js';
import { $, el, modal, notify } from './dom.js';
import { closeAll, reactivate, restoreFiles } from './editor.js';
import { refreshExplorer, restoreExpanded } from './explorer.js';
import { wbState } from './state.js';
import { renderState } from './statusbar.js';
import { renderTarget } from './target.js';

export async function loadProject(info: ProjectInfo, restore: boolean): Promise<void> {
  await closeAll(false);
  wbState.project = info;
  wbState.ui = await wbState.client.request('state.get', {});
  restoreExpanded(wbState.ui.expandedDirs);
  renderTarget();
  renderState();
  await refreshExplorer();
  if (info.configIsDefault) {
    const b = el('div');
    b.append(el('p', { textContent: `${info.root} has no lanescope.json. Lanescope suggests these settings:` }), el('pre', { textContent: JSON.stringify(info.config, null, 2), className: 'config-preview' }));
    const c = await modal('Create lanescope.json?', b, [
      { label: 'Create lanescope.json', value: 'write', primary: true },
      { label: 'Not now', value: 'cancel' },
    ]);
    if (c === 'write') {
      try {
        wbState.project = await wbState.client.request('project.writeConfig', { config: info.config });
        notify('info', 'Wrote lanescope.json');
        await refreshExplorer();
      } catch (e) {
        notify('error', (e as Error).message);
      }
    }
  }
  for (const e of info.configErrors) notify('warning', e);
  if (restore) await restoreFiles(wbState.ui.openFiles, wbState.ui.activeFile);
  reactivate();
}

export async function openFolder(): Promise<void> {
  const input = el('input', { type: 'text', id: 'open-folder-path', value: wbState.project?.root ?? '', ariaLabel: 'Folder path' });
  input.style.width = '36em';
  const body = el('div', {}, el('label', {}, el('span', { textContent: 'Folder to open as a project' }), input));
  const choice = await modal('Open Folder', body, [
    { label: 'Open', value: 'open', primary: true },
    { label: 'Cancel', value: 'cancel' },
  ]);
  if (choice !== 'open') return;
  if (!(await closeAll(true))) return;
  try {
    const info = await wbState.client.request('project.open', { path: input.value });
    await loadProject(info, true);
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

export async function openInitialProject(): Promise<void> {
  try {
    const info = await wbState.client.request('project.open', {});
    await loadProject(info, true);
  } catch {
    $('#explorer-title').textContent = 'No folder open';
    reactivate();
    void openFolder();
  }
}
