/*
 * Layout: where views live and how big things are.
 *   sidebar  the sidebar views (the explorer), stacked
 *   panel    the bottom panel: one tab per panel view, one shown at a time
 *   editor   a view with `editorTab` can move into the editor area as a tab (its host element is
 *            re-parented — the same instance, its state kept) and back to the panel
 * plus the two splitters (sidebar width, panel height, persisted) and the theme.
 */
import { monaco } from '../monaco-setup.js';
import { $, el } from './dom.js';
import { addViewTab, editor, hasViewTab, removeViewTab, resizeViewTabs, showViewTab } from './editor.js';
import { persist, wbState } from './state.js';
import { viewsAt, view as viewById, type ViewContext, type ViewInstance, type Workbench } from './views.js';

interface Placed {
  inst: ViewInstance;
  host: HTMLElement;
  tab?: HTMLElement;
}
const placed = new Map<string, Placed>();

function contextFor(wb: Workbench, setBadge: (t: string) => void): ViewContext {
  return { ...wb, setBadge };
}

export function setupSidebar(wb: Workbench): void {
  const side = $('#sidebar');
  for (const v of viewsAt('sidebar')) {
    const host = el('div', { className: 'sidebar-view', id: v.id });
    host.setAttribute('aria-label', v.title);
    side.append(host);
    placed.set(v.id, { inst: v.create(host, contextFor(wb, () => undefined)), host });
  }
}

export function setupPanels(wb: Workbench): void {
  const tabs = $('#panel-tabs');
  const body = $('#panel-body');
  for (const v of viewsAt('panel')) {
    const tab = el('button', { className: 'panel-tab', id: `panel-tab-${v.id}` });
    tab.setAttribute('role', 'tab');
    tab.setAttribute('aria-controls', `panel-${v.id}`);
    tab.append(el('span', { textContent: v.title }), el('span', { className: 'badge' }));
    tab.dataset['view'] = v.id;
    if (v.editorTab) {
      const up = el('button', { className: 'panel-tab-move icon', textContent: '⤢', title: `Open ${v.title} in the editor area`, ariaLabel: `Open ${v.title} in the editor area` });
      up.addEventListener('click', (e) => {
        e.stopPropagation();
        moveView(v.id, true);
      });
      tab.append(up);
    }
    const host = el('div', { className: 'panel-view', id: `panel-${v.id}`, hidden: true });
    host.setAttribute('role', 'tabpanel');
    host.setAttribute('aria-label', v.title);
    tabs.append(tab);
    body.append(host);
    const ctx = contextFor(wb, (t) => {
      const b = tab.querySelector('.badge') as HTMLElement;
      b.textContent = t;
      b.hidden = !t;
    });
    ctx.setBadge('');
    placed.set(v.id, { inst: v.create(host, ctx), host, tab });
    tab.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('.panel-tab-move')) return;
      showView(v.id);
    });
  }
}

/** The panel view shown in the bottom panel (a view moved to the editor area keeps its tab there). */
export function showPanel(id: string): void {
  if (!placed.get(id)?.tab) id = 'console';
  for (const t of document.querySelectorAll<HTMLElement>('.panel-tab')) {
    const on = t.dataset['view'] === id;
    t.classList.toggle('active', on);
    t.setAttribute('aria-selected', String(on));
  }
  for (const [vid, p] of placed) {
    if (!p.tab || hasViewTab(vid)) continue;
    const on = vid === id;
    if (p.host.hidden === !on) continue;
    p.host.hidden = !on;
    if (on) p.inst.shown?.();
    else p.inst.hidden?.();
  }
  persist({ activePanel: id });
}

/** Brings a view to the front wherever it lives. */
export function showView(id: string): void {
  if (hasViewTab(id)) showViewTab(id);
  else showPanel(id);
}

export function moveView(id: string, toEditor: boolean): void {
  const p = placed.get(id);
  const v = viewById(id);
  if (!p || !v?.editorTab || hasViewTab(id) === toEditor) {
    if (toEditor) showViewTab(id);
    return;
  }
  if (toEditor) {
    const wasShown = !p.host.hidden;
    p.tab?.classList.add('in-editor');
    addViewTab(id, v.title, p.host, {
      shown: () => requestAnimationFrame(() => {
        p.inst.shown?.();
        p.inst.resized?.();
      }),
      hidden: () => p.inst.hidden?.(),
      onClose: () => moveView(id, false),
    });
    if (wasShown) showPanel('console');
  } else {
    removeViewTab(id);
    p.tab?.classList.remove('in-editor');
    p.host.hidden = true;
    $('#panel-body').append(p.host);
    showPanel(id);
    requestAnimationFrame(() => p.inst.resized?.());
  }
}

export function resizeViews(): void {
  for (const p of placed.values()) p.inst.resized?.();
  resizeViewTabs();
  editor?.layout();
}

export function applyLayout(): void {
  document.documentElement.style.setProperty('--sidebar-width', `${wbState.ui.sidebarWidth}px`);
  document.documentElement.style.setProperty('--panel-height', `${wbState.ui.panelHeight}px`);
  requestAnimationFrame(resizeViews);
}

function splitter(handle: HTMLElement, axis: 'x' | 'y'): void {
  const ui = () => wbState.ui;
  handle.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    handle.setPointerCapture(e.pointerId);
    const start = axis === 'x' ? e.clientX : e.clientY;
    const orig = axis === 'x' ? ui().sidebarWidth : ui().panelHeight;
    const move = (m: PointerEvent) => {
      if (axis === 'x') ui().sidebarWidth = Math.min(800, Math.max(120, orig + m.clientX - start));
      else ui().panelHeight = Math.min(window.innerHeight - 160, Math.max(80, orig - (m.clientY - start)));
      applyLayout();
    };
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      persist({ sidebarWidth: ui().sidebarWidth, panelHeight: ui().panelHeight });
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  });
  handle.addEventListener('keydown', (e) => {
    const d = e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -16 : e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 16 : 0;
    if (!d) return;
    if (axis === 'x') ui().sidebarWidth = Math.min(800, Math.max(120, ui().sidebarWidth + d));
    else ui().panelHeight = Math.min(window.innerHeight - 160, Math.max(80, ui().panelHeight - d));
    applyLayout();
    persist({ sidebarWidth: ui().sidebarWidth, panelHeight: ui().panelHeight });
  });
}

export function setupSplitters(): void {
  applyLayout();
  splitter($('#split-v'), 'x');
  splitter($('#split-h'), 'y');
  window.addEventListener('resize', resizeViews);
  const ro = new ResizeObserver(() => resizeViews());
  ro.observe($('#panel-body'));
  ro.observe($('#editor-wrap'));
}

export function applyTheme(t: 'dark' | 'light'): void {
  document.documentElement.dataset['theme'] = t;
  monaco.editor.setTheme(t === 'dark' ? 'vs-dark' : 'vs');
  for (const p of placed.values()) p.inst.themeChanged?.(t);
  $('#btn-theme').setAttribute('aria-label', t === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
  $('#btn-theme').textContent = t === 'dark' ? '☀' : '☾';
}

export function setupTheme(): void {
  applyTheme(wbState.ui.theme);
  $('#btn-theme').addEventListener('click', () => {
    const t = wbState.ui.theme === 'dark' ? 'light' : 'dark';
    persist({ theme: t });
    applyTheme(t);
  });
}
