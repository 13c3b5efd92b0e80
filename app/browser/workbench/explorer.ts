/*
 * The explorer (sidebar): the project's file tree, lazily listed through fs.list, expanded folders
 * persisted, keyboard navigation (↑/↓, Enter/Space), the active file highlighted.
 */
import type { DirEntry } from '../../common/contract.js';
import { $, el } from './dom.js';
import { activePath, openFile } from './editor.js';
import { persist, wbState } from './state.js';
import type { ViewContribution, ViewInstance } from './views.js';

export const expanded = new Set<string>();

async function renderDir(path: string, container: HTMLElement, depth: number): Promise<void> {
  let entries: DirEntry[];
  try {
    entries = await wbState.client.request('fs.list', { path });
  } catch (e) {
    container.replaceChildren(el('div', { className: 'tree-error', textContent: (e as Error).message }));
    return;
  }
  if (path && !expanded.has(path)) return; // collapsed again while it was being listed
  const group = el('ul');
  group.setAttribute('role', depth === 0 ? 'none' : 'group');
  for (const ent of entries) {
    const li = el('li');
    li.setAttribute('role', 'none');
    const row = el('div', { className: `tree-row ${ent.kind}`, tabIndex: -1 });
    row.setAttribute('role', 'treeitem');
    row.dataset['path'] = ent.path;
    row.style.paddingLeft = `${8 + depth * 14}px`;
    row.append(el('span', { className: 'twisty', textContent: ent.kind === 'dir' ? (expanded.has(ent.path) ? '▾' : '▸') : '' }), el('span', { className: 'name', textContent: ent.name }));
    li.append(row);
    const kids = el('div');
    if (ent.kind === 'dir') {
      row.setAttribute('aria-expanded', String(expanded.has(ent.path)));
      if (expanded.has(ent.path)) void renderDir(ent.path, kids, depth + 1);
      li.append(kids);
    }
    row.addEventListener('click', () => {
      if (ent.kind === 'file') {
        void openFile(ent.path);
        return;
      }
      if (expanded.has(ent.path)) {
        expanded.delete(ent.path);
        kids.replaceChildren();
      } else {
        expanded.add(ent.path);
        void renderDir(ent.path, kids, depth + 1);
      }
      row.setAttribute('aria-expanded', String(expanded.has(ent.path)));
      (row.querySelector('.twisty') as HTMLElement).textContent = expanded.has(ent.path) ? '▾' : '▸';
      persist({ expandedDirs: [...expanded] });
    });
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        row.click();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const rows = [...document.querySelectorAll<HTMLElement>('#tree .tree-row')];
        const i = rows.indexOf(row);
        rows[e.key === 'ArrowDown' ? i + 1 : i - 1]?.focus();
      }
    });
    group.append(li);
  }
  container.replaceChildren(group);
  highlightExplorer(activePath());
}

export function highlightExplorer(path: string | null): void {
  for (const r of document.querySelectorAll<HTMLElement>('#tree .tree-row')) {
    const on = r.dataset['path'] === path;
    r.classList.toggle('selected', on);
    r.setAttribute('aria-selected', String(on));
  }
}

export async function refreshExplorer(): Promise<void> {
  $('#explorer-title').textContent = wbState.project ? wbState.project.name : 'No folder open';
  if (wbState.project) await renderDir('', $('#tree'), 0);
}

export function restoreExpanded(dirs: string[]): void {
  expanded.clear();
  for (const d of dirs) expanded.add(d);
}

/** The explorer as a sidebar view (the first one; the workbench makes its host). */
export const explorerView: ViewContribution = {
  id: 'explorer',
  title: 'Explorer',
  location: 'sidebar',
  order: 0,
  create(host): ViewInstance {
    const refresh = el('button', { id: 'btn-refresh', className: 'icon', ariaLabel: 'Refresh explorer', title: 'Refresh', textContent: '⟳' });
    refresh.addEventListener('click', () => void refreshExplorer());
    const tree = el('div', { id: 'tree', ariaLabel: 'Project files' });
    tree.setAttribute('role', 'tree');
    host.append(el('div', { className: 'side-head' }, el('span', { id: 'explorer-title', textContent: 'Explorer' }), refresh), tree);
    return {};
  },
};
