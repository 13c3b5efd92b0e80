/*
 * The Lanescope workbench (renderer). Same code in Electron and in a plain browser.
 *
 *   ┌ toolbar: Open · Run · Stop · Restart · target picker · theme ───────────────┐
 *   │ explorer │ tabs + Monaco editor                                            │
 *   │          ├─────────────────────────────────────────────────────────────────┤
 *   │          │ panels (view registry): Console · Build · Terminal · Problems …  │
 *   └ status bar: target state + elapsed · progress · project · cursor ─────────┘
 *
 * Talks to the backend only through Client (app/common/contract.ts). Layout and open files are
 * persisted by the backend (state.set), not in the project.
 */
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { debugStatusLabel } from '../common/debug.js';
import { describeState, traceStatusLabel, type Diagnostic, type DirEntry, type ProjectInfo, type TargetState, type UiState } from '../common/contract.js';
import { VALID_BAUDS } from '../common/project.js';
import { Client } from './client.js';
import { monaco } from './monaco-setup.js';
import { debugHooks, registerBuiltinPanels, terminalText } from './panels.js';
import { ipcDebug, registerIpcPanel } from './views/ipc/panel.js';
import { handleDebugKey, installDebugging, registerDebugViews, runShouldDebug } from './debug/index.js';
import { debugStore, onStatus } from './debug/store.js';
import { viewsAt, type ViewContext, type ViewInstance } from './views.js';
import { ensureTrusted, installTrust, refreshTrust } from './trust.js';
import { closeApproved, installHotExit, offerBackups, syncBackups, type EditorBuffer } from './hot-exit.js';

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`missing element ${sel}`);
  return e;
};
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { ariaLabel?: string } = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  const { ariaLabel, ...rest } = props;
  Object.assign(e, rest);
  if (ariaLabel) e.setAttribute('aria-label', ariaLabel);
  e.append(...kids);
  return e;
};

const client = new Client();
let project: ProjectInfo | null = null;
let ui: UiState;
let problems: Diagnostic[] = [];
let targetState: TargetState = { kind: 'idle' };
let stateSince = Date.now();

// ---------------------------------------------------------------- notices
function notify(level: 'info' | 'warning' | 'error', message: string): void {
  const box = $('#notices');
  const n = el('div', { className: `notice ${level}` });
  n.setAttribute('role', level === 'error' ? 'alert' : 'status');
  const close = el('button', { className: 'icon', textContent: '×', ariaLabel: 'Dismiss message' });
  close.addEventListener('click', () => n.remove());
  n.append(el('span', { textContent: message }), close);
  box.append(n);
  while (box.children.length > 4) box.firstElementChild?.remove();
  if (level !== 'error') setTimeout(() => n.remove(), 8000);
}

// ---------------------------------------------------------------- persistence
let saveTimer: number | undefined;
function persist(partial: Partial<UiState>): void {
  ui = { ...ui, ...partial };
  window.clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => {
    client.request('state.set', { state: ui }).catch(() => undefined);
  }, 250);
}
function persistNow(): Promise<unknown> {
  window.clearTimeout(saveTimer);
  return client.request('state.set', { state: ui }).catch(() => undefined);
}

// ---------------------------------------------------------------- dialogs
function modal(title: string, body: HTMLElement, buttons: { label: string; value: string; primary?: boolean }[]): Promise<string> {
  return new Promise((resolve) => {
    const back = el('div', { className: 'modal-back' });
    const box = el('div', { className: 'modal' });
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-label', title);
    const row = el('div', { className: 'modal-buttons' });
    const done = (v: string) => {
      back.remove();
      document.removeEventListener('keydown', onKey, true);
      resolve(v);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        done('cancel');
      }
    };
    document.addEventListener('keydown', onKey, true);
    for (const b of buttons) {
      const btn = el('button', { textContent: b.label, className: b.primary ? 'primary' : '' });
      btn.addEventListener('click', () => done(b.value));
      row.append(btn);
    }
    box.append(el('h2', { textContent: title }), body, row);
    back.append(box);
    document.body.append(back);
    (box.querySelector('input, select') as HTMLElement | null ?? row.querySelector('button.primary') as HTMLElement | null)?.focus();
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.target as HTMLElement).tagName === 'INPUT') {
        e.preventDefault();
        const primary = buttons.find((b) => b.primary);
        if (primary) done(primary.value);
      }
    });
  });
}

// ---------------------------------------------------------------- editor & tabs
interface OpenFile {
  path: string;
  model: monaco.editor.ITextModel;
  savedVersion: number;
  viewState: monaco.editor.ICodeEditorViewState | null;
  tab: HTMLElement;
}
const files = new Map<string, OpenFile>();
let active: OpenFile | null = null;
let editor: monaco.editor.IStandaloneCodeEditor;

function isDirty(f: OpenFile): boolean {
  return f.model.getAlternativeVersionId() !== f.savedVersion;
}

function refreshTab(f: OpenFile): void {
  const dirty = isDirty(f);
  f.tab.classList.toggle('dirty', dirty);
  f.tab.classList.toggle('active', f === active);
  f.tab.setAttribute('aria-selected', String(f === active));
  const label = f.tab.querySelector('.tab-label') as HTMLElement;
  label.textContent = f.path.split('/').pop() ?? f.path;
  f.tab.title = f.path + (dirty ? ' (unsaved changes)' : '');
  (f.tab.querySelector('.tab-close') as HTMLElement).setAttribute('aria-label', `Close ${f.path}`);
  document.title = `${active ? (isDirty(active) ? '● ' : '') + active.path + ' — ' : ''}${project?.name ?? 'Lanescope'} — Lanescope`;
}

function applyMarkers(f: OpenFile): void {
  const ds = problems.filter((d) => d.file === f.path);
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

function activate(f: OpenFile | null): void {
  if (active && active !== f) active.viewState = editor.saveViewState();
  const prev = active;
  active = f;
  if (f) {
    editor.setModel(f.model);
    if (f.viewState) editor.restoreViewState(f.viewState);
    $('#editor-empty').hidden = true;
  } else {
    editor.setModel(null);
    $('#editor-empty').hidden = false;
  }
  if (prev) refreshTab(prev);
  if (f) refreshTab(f);
  highlightExplorer();
  persist({ activeFile: f?.path ?? null, openFiles: [...files.keys()] });
}

async function openFile(path: string, line?: number, column?: number): Promise<void> {
  let f = files.get(path);
  if (!f) {
    let content: string;
    try {
      content = (await client.request('fs.read', { path })).content;
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
      const of: OpenFile = { path, model, savedVersion: model.getAlternativeVersionId(), viewState: null, tab };
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
      applyMarkers(f);
    }
  }
  activate(f);
  if (line) {
    editor.revealLineInCenter(line);
    editor.setPosition({ lineNumber: line, column: column ?? 1 });
  }
  editor.focus();
}

async function saveFile(f: OpenFile): Promise<boolean> {
  const version = f.model.getAlternativeVersionId();
  try {
    await client.request('fs.write', { path: f.path, content: f.model.getValue() });
  } catch (e) {
    notify('error', `Cannot save ${f.path}: ${(e as Error).message}`);
    return false;
  }
  f.savedVersion = version;
  refreshTab(f);
  setStatusMessage(`Saved ${f.path}`);
  return true;
}

async function closeFile(f: OpenFile): Promise<boolean> {
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
  const keys = [...files.keys()];
  const idx = keys.indexOf(f.path);
  files.delete(f.path);
  f.tab.remove();
  f.model.dispose();
  if (active === f) {
    active = null;
    const next = files.get(keys[idx + 1] ?? keys[idx - 1] ?? '');
    activate(next ?? null);
  } else persist({ openFiles: [...files.keys()] });
  return true;
}

// ---------------------------------------------------------------- explorer
const expanded = new Set<string>();
async function renderDir(path: string, container: HTMLElement, depth: number): Promise<void> {
  let entries: DirEntry[];
  try {
    entries = await client.request('fs.list', { path });
  } catch (e) {
    container.replaceChildren(el('div', { className: 'tree-error', textContent: (e as Error).message }));
    return;
  }
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
        const rows = [...document.querySelectorAll<HTMLElement>('#explorer .tree-row')];
        const i = rows.indexOf(row);
        rows[e.key === 'ArrowDown' ? i + 1 : i - 1]?.focus();
      }
    });
    group.append(li);
  }
  container.replaceChildren(group);
  highlightExplorer();
}
function highlightExplorer(): void {
  for (const r of document.querySelectorAll<HTMLElement>('#explorer .tree-row')) {
    const on = r.dataset['path'] === active?.path;
    r.classList.toggle('selected', on);
    r.setAttribute('aria-selected', String(on));
  }
}
async function refreshExplorer(): Promise<void> {
  $('#explorer-title').textContent = project ? project.name : 'No folder open';
  if (project) await renderDir('', $('#tree'), 0);
}

// ---------------------------------------------------------------- panels (view registry)
const panelInstances = new Map<string, ViewInstance>();
function setupPanels(): void {
  const tabs = $('#panel-tabs');
  const body = $('#panel-body');
  for (const v of viewsAt('panel')) {
    const tab = el('button', { className: 'panel-tab', id: `panel-tab-${v.id}` });
    tab.setAttribute('role', 'tab');
    tab.setAttribute('aria-controls', `panel-${v.id}`);
    tab.append(el('span', { textContent: v.title }), el('span', { className: 'badge' }));
    tab.dataset['view'] = v.id;
    const host = el('div', { className: 'panel-view', id: `panel-${v.id}`, hidden: true });
    host.setAttribute('role', 'tabpanel');
    host.setAttribute('aria-label', v.title);
    tabs.append(tab);
    body.append(host);
    const ctx: ViewContext = {
      client,
      openFile,
      theme: () => ui.theme,
      setBadge: (t) => {
        const b = tab.querySelector('.badge') as HTMLElement;
        b.textContent = t;
        b.hidden = !t;
      },
    };
    ctx.setBadge('');
    panelInstances.set(v.id, v.create(host, ctx));
    tab.addEventListener('click', () => showPanel(v.id));
  }
}
function showPanel(id: string): void {
  if (!panelInstances.has(id)) id = 'console';
  for (const t of document.querySelectorAll<HTMLElement>('.panel-tab')) {
    const on = t.dataset['view'] === id;
    t.classList.toggle('active', on);
    t.setAttribute('aria-selected', String(on));
  }
  for (const [vid, inst] of panelInstances) {
    const host = $(`#panel-${vid}`);
    const on = vid === id;
    if (host.hidden === !on) continue;
    host.hidden = !on;
    if (on) inst.shown?.();
    else inst.hidden?.();
  }
  persist({ activePanel: id });
}
function resizePanels(): void {
  for (const i of panelInstances.values()) i.resized?.();
  editor?.layout();
}

// ---------------------------------------------------------------- layout splitters
function applyLayout(): void {
  document.documentElement.style.setProperty('--sidebar-width', `${ui.sidebarWidth}px`);
  document.documentElement.style.setProperty('--panel-height', `${ui.panelHeight}px`);
  requestAnimationFrame(resizePanels);
}
function splitter(handle: HTMLElement, axis: 'x' | 'y'): void {
  handle.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    handle.setPointerCapture(e.pointerId);
    const start = axis === 'x' ? e.clientX : e.clientY;
    const orig = axis === 'x' ? ui.sidebarWidth : ui.panelHeight;
    const move = (m: PointerEvent) => {
      if (axis === 'x') ui.sidebarWidth = Math.min(800, Math.max(120, orig + m.clientX - start));
      else ui.panelHeight = Math.min(window.innerHeight - 160, Math.max(80, orig - (m.clientY - start)));
      applyLayout();
    };
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      persist({ sidebarWidth: ui.sidebarWidth, panelHeight: ui.panelHeight });
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  });
  handle.addEventListener('keydown', (e) => {
    const d = e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -16 : e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 16 : 0;
    if (!d) return;
    if (axis === 'x') ui.sidebarWidth = Math.min(800, Math.max(120, ui.sidebarWidth + d));
    else ui.panelHeight = Math.min(window.innerHeight - 160, Math.max(80, ui.panelHeight - d));
    applyLayout();
    persist({ sidebarWidth: ui.sidebarWidth, panelHeight: ui.panelHeight });
  });
}

// ---------------------------------------------------------------- theme
function applyTheme(t: 'dark' | 'light'): void {
  document.documentElement.dataset['theme'] = t;
  monaco.editor.setTheme(t === 'dark' ? 'vs-dark' : 'vs');
  for (const i of panelInstances.values()) i.themeChanged?.(t);
  $('#btn-theme').setAttribute('aria-label', t === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
  $('#btn-theme').textContent = t === 'dark' ? '☀' : '☾';
}

// ---------------------------------------------------------------- run state & status bar
function setStatusMessage(s: string): void {
  $('#status-message').textContent = s;
}
function fmtElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m % 60)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
function renderState(): void {
  const s = $('#status-state');
  s.dataset['state'] = targetState.kind;
  const label = describeState(targetState);
  const live = ['building', 'booting', 'running'].includes(targetState.kind);
  s.textContent = live ? `${label} · ${fmtElapsed(Date.now() - stateSince)}` : targetState.kind === 'idle' ? 'idle' : `${label}`;
  s.title = label;
  // The debugger holding a live target stopped wins over "running" (back to it on Continue).
  const paused = ['booting', 'running'].includes(targetState.kind) ? debugStatusLabel(debugStore.status) : undefined;
  if (paused) {
    s.dataset['state'] = 'paused';
    s.textContent = paused;
    s.title = paused;
  }
  const busy = live;
  ($('#btn-run') as HTMLButtonElement).disabled = busy;
  ($('#btn-stop') as HTMLButtonElement).disabled = !busy;
  ($('#btn-restart') as HTMLButtonElement).disabled = !project;
}
setInterval(renderState, 1000);
onStatus(() => renderState());

async function run(): Promise<void> {
  if (!project) return notify('warning', 'Open a project first.');
  // Save dirty files first, like every IDE does before building.
  for (const f of files.values()) if (isDirty(f)) await saveFile(f);
  if (!(await ensureTrusted())) return; // workspace trust: shows what would run, asks (trust.ts)
  try {
    // With breakpoints set, Run debugs (QEMU with its gdbstub, the session stops at them).
    const debug = runShouldDebug();
    await client.request(debug ? 'debug.run' : 'run.start', {});
    showPanel(debug ? 'debug' : 'console');
  } catch (e) {
    notify('error', (e as Error).message);
  }
}
async function stop(): Promise<void> {
  try {
    await client.request('run.stop', {});
  } catch (e) {
    notify('error', (e as Error).message);
  }
}
async function restart(): Promise<void> {
  for (const f of files.values()) if (isDirty(f)) await saveFile(f);
  if (!(await ensureTrusted())) return;
  try {
    await client.request('run.restart', {});
    showPanel('console');
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

// ---------------------------------------------------------------- target picker
function renderTarget(): void {
  const t = $('#btn-target');
  if (!project) {
    t.textContent = 'No target';
    return;
  }
  const c = project.config;
  t.textContent = c.target === 'qemu' ? `QEMU · ${c.qemu.cpus} CPU${c.qemu.cpus > 1 ? 's' : ''} · ${c.qemu.memory} · ${c.qemu.accel === 'auto' ? 'KVM/TCG' : c.qemu.accel.toUpperCase()}` : `Serial · ${c.serial.port} · ${c.serial.baud}`;
}
async function pickTarget(): Promise<void> {
  if (!project) return;
  const c = project.config;
  const form = el('div', { className: 'form' });
  const kind = el('select', { id: 'target-kind', ariaLabel: 'Target kind' });
  kind.append(el('option', { value: 'qemu', textContent: 'QEMU (virtual machine)' }), el('option', { value: 'serial', textContent: 'Serial hardware' }));
  kind.value = c.target;
  const cpus = el('input', { id: 'target-cpus', type: 'number', min: '1', max: '64', value: String(c.qemu.cpus), ariaLabel: 'CPUs' });
  const mem = el('input', { id: 'target-memory', type: 'text', value: c.qemu.memory, ariaLabel: 'Memory' });
  const accel = el('select', { id: 'target-accel', ariaLabel: 'Accelerator' });
  accel.append(el('option', { value: 'auto', textContent: 'KVM, else TCG' }), el('option', { value: 'kvm', textContent: 'KVM only' }), el('option', { value: 'tcg', textContent: 'TCG (emulation)' }));
  accel.value = c.qemu.accel;
  const port = el('input', { id: 'target-port', type: 'text', value: c.serial.port, ariaLabel: 'Serial port' });
  port.setAttribute('list', 'serial-ports');
  const dl = el('datalist', { id: 'serial-ports' });
  const baud = el('select', { id: 'target-baud', ariaLabel: 'Baud rate' });
  for (const b of VALID_BAUDS) baud.append(el('option', { value: String(b), textContent: String(b) }));
  baud.value = String(c.serial.baud);
  const lbl = (text: string, input: HTMLElement) => el('label', {}, el('span', { textContent: text }), input);
  const q = el('fieldset', {}, el('legend', { textContent: 'QEMU' }), lbl('CPUs', cpus), lbl('Memory', mem), lbl('Accelerator', accel));
  const s = el('fieldset', {}, el('legend', { textContent: 'Serial hardware' }), lbl('Port', port), dl, lbl('Baud', baud));
  const sync = () => {
    q.disabled = kind.value !== 'qemu';
    s.disabled = kind.value !== 'serial';
  };
  kind.addEventListener('change', sync);
  sync();
  form.append(lbl('Target', kind), q, s);
  client.request('serial.list', {}).then((ports) => {
    for (const p of ports) dl.append(el('option', { value: p.path, textContent: p.manufacturer ?? p.path }));
  }).catch(() => undefined);
  const choice = await modal('Target', form, [
    { label: 'Save', value: 'save', primary: true },
    { label: 'Cancel', value: 'cancel' },
  ]);
  if (choice !== 'save') return;
  try {
    project = await client.request('project.setTarget', {
      kind: kind.value as 'qemu' | 'serial',
      qemu: { cpus: Number(cpus.value), memory: mem.value, accel: accel.value as 'auto' | 'kvm' | 'tcg' },
      serial: { port: port.value, baud: Number(baud.value) },
    });
    renderTarget();
  } catch (e) {
    notify('error', `Target not changed: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- project
async function loadProject(info: ProjectInfo, restore: boolean): Promise<void> {
  for (const f of [...files.values()]) {
    f.tab.remove();
    f.model.dispose();
  }
  files.clear();
  active = null;
  project = info;
  ui = await client.request('state.get', {});
  expanded.clear();
  for (const d of ui.expandedDirs) expanded.add(d);
  renderTarget();
  renderState();
  void refreshTrust();
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
        project = await client.request('project.writeConfig', { config: info.config });
        notify('info', 'Wrote lanescope.json');
        await refreshExplorer();
      } catch (e) {
        notify('error', (e as Error).message);
      }
    }
  }
  for (const e of info.configErrors) notify('warning', e);
  if (restore) {
    for (const p of ui.openFiles) await openFile(p);
    const a = ui.activeFile ? files.get(ui.activeFile) : undefined;
    if (a) activate(a);
  }
  activate(active);
  void offerBackups(); // unsaved edits a crash or a killed backend left behind (hot-exit.ts)
}

/** The view hot-exit.ts gets of an open file. */
function editorBuffer(f: OpenFile): EditorBuffer {
  return {
    path: f.path,
    dirty: () => isDirty(f),
    version: () => f.model.getAlternativeVersionId(),
    text: () => f.model.getValue(),
    save: () => saveFile(f),
    replaceText: (text) => {
      f.model.pushEditOperations([], [{ range: f.model.getFullModelRange(), text }], () => null);
      refreshTab(f);
    },
  };
}

async function openFolder(): Promise<void> {
  const input = el('input', { type: 'text', id: 'open-folder-path', value: project?.root ?? '', ariaLabel: 'Folder path' });
  input.style.width = '36em';
  const body = el('div', {}, el('label', {}, el('span', { textContent: 'Folder to open as a project' }), input));
  const choice = await modal('Open Folder', body, [
    { label: 'Open', value: 'open', primary: true },
    { label: 'Cancel', value: 'cancel' },
  ]);
  if (choice !== 'open') return;
  for (const f of files.values()) {
    if (isDirty(f) && !(await closeFile(f))) return;
  }
  try {
    const info = await client.request('project.open', { path: input.value });
    await loadProject(info, true);
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

// ---------------------------------------------------------------- keyboard
function setupKeys(): void {
  window.addEventListener(
    'keydown',
    (e) => {
      if (document.querySelector('.modal-back')) return;
      if (handleDebugKey(e)) return; // F5 continue while stopped, F9/F10/F11/Shift+F11, F6 debug
      if (e.key === 'F5' && e.shiftKey && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void restart();
      } else if (e.key === 'F5' && e.shiftKey) {
        e.preventDefault();
        void stop();
      } else if (e.key === 'F5') {
        e.preventDefault();
        void run();
      } else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 's') {
        e.preventDefault();
        if (active) void saveFile(active);
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'w' && active) {
        e.preventDefault();
        void closeFile(active);
      } else if (e.ctrlKey && e.key === '`') {
        e.preventDefault();
        showPanel('terminal');
      }
    },
    true,
  );
  window.addEventListener('beforeunload', (e) => {
    void persistNow();
    void syncBackups(); // hot exit: the latest text reaches the backups even if the page goes
    // Electron asked Save / Don't Save already (hot-exit.ts); the browser shows its leave-page prompt.
    if ([...files.values()].some(isDirty) && !closeApproved()) {
      e.preventDefault();
      e.returnValue = 'You have unsaved changes.'; // (legacy browsers need a non-empty value)
    }
  });
}

// ---------------------------------------------------------------- boot
async function main(): Promise<void> {
  registerBuiltinPanels();
  registerIpcPanel();
  registerDebugViews();
  client.onConnectionLost = (why) => notify('error', why);
  try {
    await client.connect();
  } catch (e) {
    document.body.textContent = (e as Error).message;
    return;
  }
  ui = await client.request('state.get', {});
  editor = monaco.editor.create($('#editor'), {
    model: null,
    automaticLayout: true,
    theme: ui.theme === 'dark' ? 'vs-dark' : 'vs',
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", monospace',
    fontSize: 13,
    minimap: { enabled: false },
    renderWhitespace: 'selection',
    ariaLabel: 'Editor',
  });
  editor.onDidChangeCursorPosition((e) => {
    $('#status-cursor').textContent = `Ln ${e.position.lineNumber}, Col ${e.position.column}`;
  });
  setupPanels();
  installTrust(client, notify);
  installHotExit({
    client,
    notify,
    modal,
    buffers: () => [...files.values()].map(editorBuffer),
    open: async (p) => {
      await openFile(p);
      const f = files.get(p);
      return f ? editorBuffer(f) : null;
    },
  });
  void installDebugging({ client, editor, monaco, notify, openFile, beforeRun: async () => {
    for (const f of files.values()) if (isDirty(f)) await saveFile(f);
    if (!(await ensureTrusted())) throw new Error('Debug cancelled: the folder is not trusted');
  } });
  applyTheme(ui.theme);
  applyLayout();
  splitter($('#split-v'), 'x');
  splitter($('#split-h'), 'y');
  window.addEventListener('resize', resizePanels);
  new ResizeObserver(() => resizePanels()).observe($('#panel-body'));
  setupKeys();

  $('#btn-run').addEventListener('click', () => void run());
  $('#btn-stop').addEventListener('click', () => void stop());
  $('#btn-restart').addEventListener('click', () => void restart());
  $('#btn-open').addEventListener('click', () => void openFolder());
  $('#btn-target').addEventListener('click', () => void pickTarget());
  $('#btn-theme').addEventListener('click', () => {
    const t = ui.theme === 'dark' ? 'light' : 'dark';
    persist({ theme: t });
    applyTheme(t);
  });
  $('#btn-refresh').addEventListener('click', () => void refreshExplorer());

  client.on('run.state', ({ state, since }) => {
    targetState = state;
    stateSince = since;
    renderState();
    if (state.kind === 'failed') {
      if (problems.length) showPanel('problems');
    }
  });
  client.on('run.progress', (p) => {
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
  client.on('problems', ({ diagnostics }) => {
    problems = diagnostics;
    for (const f of files.values()) applyMarkers(f);
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
    $('#status-problems').textContent = `⨯ ${errors}  ⚠ ${warnings}`;
  });
  client.on('notice', ({ level, message }) => notify(level, message));
  client.on('trace.stats', (t) => {
    // the Run's trace recording: rate while live, the final count when it ended; lost > 0 is highlighted
    const el = $('#status-trace');
    el.hidden = false;
    el.textContent = traceStatusLabel(t);
    el.dataset['lost'] = String(t.lost);
    el.dataset['live'] = String(t.live);
    el.classList.toggle('lost', t.lost > 0);
    el.setAttribute('aria-label', `Trace recording: ${traceStatusLabel(t)}`);
  });
  client.on('project.changed', ({ project: p }) => {
    project = p;
    renderTarget();
    void refreshTrust();
  });

  try {
    const info = await client.request('project.open', {});
    await loadProject(info, true);
  } catch {
    $('#explorer-title').textContent = 'No folder open';
    activate(null);
    void openFolder();
  }
  const st = await client.request('run.status', {});
  targetState = st.state;
  stateSince = st.since;
  problems = st.problems;
  renderState();
  showPanel(ui.activePanel);
  document.body.dataset['ready'] = 'true';
}

// Hooks for end-to-end tests and benchmarks: read-only views of what the user sees.
(window as unknown as { lanescopeDebug: unknown }).lanescopeDebug = {
  consoleText: () => (debugHooks.console ? terminalText(debugHooks.console) : ''),
  buildText: () => (debugHooks.build ? terminalText(debugHooks.build) : ''),
  terminalText: () => (debugHooks.terminal ? terminalText(debugHooks.terminal) : ''),
  markers: () => monaco.editor.getModelMarkers({}).map((m) => ({ file: m.resource.path.slice(1), line: m.startLineNumber, message: m.message, severity: m.severity })),
  activeFile: () => active?.path ?? null,
  language: () => active?.model.getLanguageId() ?? null,
  editorValue: () => active?.model.getValue() ?? null,
  /** IPC lanes view: its model and view (selection, viewport, stats) */
  ipc: ipcDebug,
};

void main();
