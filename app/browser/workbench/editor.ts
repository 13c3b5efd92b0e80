/*
 * The editor area: Monaco and its tabs. Tabs are open files (a Monaco model each, dirty dot,
 * Save / Close with the unsaved-changes prompt, markers from the build's diagnostics) or views
 * moved into the editor area (layout.ts hands their host element over; the tab shows it in place
 * of the editor).
 */
import { monaco } from '../monaco-setup.js';
import { $, el, modal, notify } from './dom.js';
import { persist, wbState } from './state.js';
import type { Contribution } from './views.js';

interface OpenFile {
  kind: 'file';
  path: string;
  model: monaco.editor.ITextModel;
  savedVersion: number;
  viewState: monaco.editor.ICodeEditorViewState | null;
  tab: HTMLElement;
}

interface ViewTab {
  kind: 'view';
  id: string;
  host: HTMLElement;
  tab: HTMLElement;
  shown(): void;
  hidden(): void;
}

const files = new Map<string, OpenFile>();
const viewTabs = new Map<string, ViewTab>();
let active: OpenFile | ViewTab | null = null;
export let editor: monaco.editor.IStandaloneCodeEditor;
/** Called when the active editor changes (explorer highlight). */
export const editorEvents = { activeChanged: (_path: string | null) => undefined as void, statusMessage: (_s: string) => undefined as void };

export function createEditor(): void {
  editor = monaco.editor.create($('#editor'), {
    model: null,
    automaticLayout: true,
    theme: wbState.ui.theme === 'dark' ? 'vs-dark' : 'vs',
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", monospace',
    fontSize: 13,
    minimap: { enabled: false },
    renderWhitespace: 'selection',
    ariaLabel: 'Editor',
  });
  editor.onDidChangeCursorPosition((e) => {
    $('#status-cursor').textContent = `Ln ${e.position.lineNumber}, Col ${e.position.column}`;
  });
}

export function activeFile(): OpenFile | null {
  return active?.kind === 'file' ? active : null;
}
export function activePath(): string | null {
  return activeFile()?.path ?? null;
}

function isDirty(f: OpenFile): boolean {
  return f.model.getAlternativeVersionId() !== f.savedVersion;
}
export function anyDirty(): boolean {
  return [...files.values()].some(isDirty);
}

function refreshTab(f: OpenFile | ViewTab): void {
  f.tab.classList.toggle('active', f === active);
  f.tab.setAttribute('aria-selected', String(f === active));
  if (f.kind === 'view') return;
  const dirty = isDirty(f);
  f.tab.classList.toggle('dirty', dirty);
  const label = f.tab.querySelector('.tab-label') as HTMLElement;
  label.textContent = f.path.split('/').pop() ?? f.path;
  f.tab.title = f.path + (dirty ? ' (unsaved changes)' : '');
  (f.tab.querySelector('.tab-close') as HTMLElement).setAttribute('aria-label', `Close ${f.path}`);
  const a = activeFile();
  document.title = `${a ? (isDirty(a) ? '● ' : '') + a.path + ' — ' : ''}${wbState.project?.name ?? 'Lanescope'} — Lanescope`;
}

export function applyMarkers(): void {
  for (const f of files.values()) {
    const ds = wbState.problems.filter((d) => d.file === f.path);
    monaco.editor.setModelMarkers(
      f.model,
      'build',
      ds.map((d) => ({
        severity: d.severity === 'error' ? monaco.MarkerSeverity.Error : d.severity === 'warning' ? monaco.MarkerSeverity.Warning : monaco.MarkerSeverity.Info,
        message: d.message,
        source: d.source,
        startLineNumber: d.line,
        startColumn: d.column,
        endLineNumber: d.line,
        endColumn: Math.max(d.column + 1, f.model.getLineMaxColumn(Math.min(Math.max(d.line, 1), f.model.getLineCount()))),
      })),
    );
  }
}

function activate(f: OpenFile | ViewTab | null): void {
  if (active?.kind === 'file' && active !== f) active.viewState = editor.saveViewState();
  const prev = active;
  active = f;
  if (prev?.kind === 'view' && prev !== f) {
    prev.host.hidden = true;
    prev.hidden();
  }
  $('#editor').hidden = f?.kind === 'view';
  if (f?.kind === 'file') {
    editor.setModel(f.model);
    if (f.viewState) editor.restoreViewState(f.viewState);
    $('#editor-empty').hidden = true;
  } else {
    editor.setModel(null);
    $('#editor-empty').hidden = f !== null;
  }
  if (f?.kind === 'view') {
    f.host.hidden = false;
    f.shown();
  }
  if (prev) refreshTab(prev);
  if (f) refreshTab(f);
  editorEvents.activeChanged(activePath());
  persist({ activeFile: activePath(), openFiles: [...files.keys()] });
}

export async function openFile(path: string, line?: number, column?: number): Promise<void> {
  let f = files.get(path);
  if (!f) {
    let content: string;
    try {
      content = (await wbState.client.request('fs.read', { path })).content;
    } catch (e) {
      notify('error', `Cannot open ${path}: ${(e as Error).message}`);
      return;
    }
    f = files.get(path);
    if (!f) {
      const uri = monaco.Uri.from({ scheme: 'file', path: '/' + path });
      const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(content, undefined, uri);
      const tab = el('div', { className: 'tab' });
      tab.setAttribute('role', 'tab');
      tab.dataset['path'] = path;
      const label = el('span', { className: 'tab-label' });
      const close = el('button', { className: 'tab-close icon', textContent: '×' });
      tab.append(label, el('span', { className: 'dirty-dot', textContent: '●', ariaLabel: 'unsaved changes' }), close);
      const of: OpenFile = { kind: 'file', path, model, savedVersion: model.getAlternativeVersionId(), viewState: null, tab };
      tab.addEventListener('click', (e) => {
        if ((e.target as HTMLElement).closest('.tab-close')) return;
        activate(of);
        editor.focus();
      });
      tab.addEventListener('auxclick', (e) => {
        if (e.button === 1) void closeFile(of);
      });
      close.addEventListener('click', () => void closeFile(of));
      model.onDidChangeContent(() => refreshTab(of));
      $('#tabs').append(tab);
      files.set(path, of);
      f = of;
      applyMarkers();
    }
  }
  activate(f);
  if (line) {
    editor.revealLineInCenter(line);
    editor.setPosition({ lineNumber: line, column: column ?? 1 });
  }
  editor.focus();
}

export async function saveFile(f: OpenFile): Promise<boolean> {
  const version = f.model.getAlternativeVersionId();
  try {
    await wbState.client.request('fs.write', { path: f.path, content: f.model.getValue() });
  } catch (e) {
    notify('error', `Cannot save ${f.path}: ${(e as Error).message}`);
    return false;
  }
  f.savedVersion = version;
  refreshTab(f);
  editorEvents.statusMessage(`Saved ${f.path}`);
  return true;
}

export async function saveAll(): Promise<void> {
  for (const f of files.values()) if (isDirty(f)) await saveFile(f);
}

export async function closeFile(f: OpenFile): Promise<boolean> {
  if (isDirty(f)) {
    const choice = await modal(
      'Unsaved changes',
      el('p', { textContent: `${f.path} has unsaved changes. Save them before closing?` }),
      [
        { label: 'Save', value: 'save', primary: true },
        { label: "Don't Save", value: 'discard' },
        { label: 'Cancel', value: 'cancel' },
      ],
    );
    if (choice === 'cancel') return false;
    if (choice === 'save' && !(await saveFile(f))) return false;
  }
  const tabs = [...document.querySelectorAll<HTMLElement>('#tabs .tab')];
  const idx = tabs.indexOf(f.tab);
  files.delete(f.path);
  f.tab.remove();
  f.model.dispose();
  if (active === f) {
    active = null;
    activateTab(tabs[idx + 1] ?? tabs[idx - 1]);
  } else persist({ openFiles: [...files.keys()] });
  return true;
}

function activateTab(tab: HTMLElement | undefined): void {
  const next = [...files.values(), ...viewTabs.values()].find((x) => x.tab === tab);
  activate(next ?? null);
}

/** Closes every file without asking (a new project); false when the user kept unsaved changes (ask). */
export async function closeAll(ask: boolean): Promise<boolean> {
  for (const f of [...files.values()]) {
    if (ask) {
      if (!(await closeFile(f))) return false;
      continue;
    }
    f.tab.remove();
    f.model.dispose();
    files.delete(f.path);
  }
  if (active?.kind === 'file') active = null;
  return true;
}

export async function restoreFiles(paths: string[], activeFilePath: string | null): Promise<void> {
  for (const p of paths) await openFile(p);
  const a = activeFilePath ? files.get(activeFilePath) : undefined;
  if (a) activate(a);
}

export function reactivate(): void {
  activate(active);
}

export function commandSaveActive(): void {
  const f = activeFile();
  if (f) void saveFile(f);
}
export function commandCloseActive(): void {
  const f = activeFile();
  if (f) void closeFile(f);
}

/**
 * A view's host element shown as a tab of the editor area. `onClose` gives it back to its home
 * (the close button moves the view back, it does not destroy it).
 */
export function addViewTab(id: string, title: string, host: HTMLElement, hooks: { shown(): void; hidden(): void; onClose(): void }): void {
  if (viewTabs.has(id)) return showViewTab(id);
  const tab = el('div', { className: 'tab view-tab', id: `editor-tab-${id}` });
  tab.setAttribute('role', 'tab');
  tab.dataset['view'] = id;
  const close = el('button', { className: 'tab-close icon', textContent: '×', ariaLabel: `Move ${title} back to the panel` });
  tab.append(el('span', { className: 'tab-label', textContent: title }), close);
  tab.title = title;
  host.classList.add('editor-view');
  host.hidden = true;
  $('#editor-wrap').append(host);
  const vt: ViewTab = { kind: 'view', id, host, tab, shown: hooks.shown, hidden: hooks.hidden };
  tab.addEventListener('click', (e) => {
    if ((e.target as HTMLElement).closest('.tab-close')) return;
    activate(vt);
  });
  close.addEventListener('click', () => hooks.onClose());
  $('#tabs').append(tab);
  viewTabs.set(id, vt);
  activate(vt);
}

export function showViewTab(id: string): void {
  const vt = viewTabs.get(id);
  if (vt) activate(vt);
}

export function hasViewTab(id: string): boolean {
  return viewTabs.has(id);
}

/** Takes a view's tab out of the editor area; the caller re-homes its host element. */
export function removeViewTab(id: string): void {
  const vt = viewTabs.get(id);
  if (!vt) return;
  const tabs = [...document.querySelectorAll<HTMLElement>('#tabs .tab')];
  const idx = tabs.indexOf(vt.tab);
  viewTabs.delete(id);
  vt.tab.remove();
  vt.host.classList.remove('editor-view');
  if (active === vt) {
    active = null;
    activateTab(tabs[idx + 1] ?? tabs[idx - 1]);
  }
}

export function resizeViewTabs(): void {
  if (active?.kind === 'view') active.shown();
}

export const editorHooks = {
  markers: () => monaco.editor.getModelMarkers({}).map((m) => ({ file: m.resource.path.slice(1), line: m.startLineNumber, message: m.message, severity: m.severity })),
  activeFile: () => activePath(),
  language: () => activeFile()?.model.getLanguageId() ?? null,
  editorValue: () => activeFile()?.model.getValue() ?? null,
};

export const editorContribution: Contribution = {
  id: 'editor',
  commands: [
    { id: 'editor.save', title: 'Save', keys: ['Ctrl+S'], run: () => commandSaveActive() },
    { id: 'editor.close', title: 'Close Editor', keys: ['Ctrl+W'], run: () => commandCloseActive() },
  ],
};
