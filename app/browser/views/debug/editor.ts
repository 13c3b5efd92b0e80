/*
 * Monaco integration: breakpoints in the glyph margin (click, F9), conditional/disabled looks, the
 * current line of a stop highlighted (the file opened if needed), and the debug keys:
 *   F5 continue (while stopped) · F10 step over · F11 step into · Shift+F11 step out · F9 toggle
 *   F6 run with debugging · Shift+F6 pause
 */
import type { monaco as Monaco } from '../../monaco-setup.js';
import { debugCommand, debugStore, isDebugging, isStopped, onStatus, startDebugRun } from './store.js';

type M = typeof Monaco;
type Editor = Monaco.editor.IStandaloneCodeEditor;

let ed: Editor | null = null;
let mon: M | null = null;
let bpDecorations: string[] = [];
let lineDecorations: string[] = [];
let lastStopKey = '';

const pathOf = (e: Editor): string | null => {
  const m = e.getModel();
  return m && m.uri.scheme === 'file' ? m.uri.path.slice(1) : null;
};

function renderBreakpoints(): void {
  if (!ed || !mon) return;
  const file = pathOf(ed);
  const views = new Map(debugStore.status.breakpoints.map((b) => [`${b.file}:${b.line}`, b]));
  const decs: Monaco.editor.IModelDeltaDecoration[] = file
    ? debugStore.model.forFile(file).map((b) => {
        const v = views.get(`${b.file}:${b.line}`);
        const cls = !b.enabled ? 'ls-bp ls-bp-disabled' : v?.error ? 'ls-bp ls-bp-error' : b.condition ? 'ls-bp ls-bp-cond' : 'ls-bp';
        const hover = `Breakpoint ${b.file}:${b.line}${b.condition ? ` if ${b.condition}` : ''}${!b.enabled ? ' (disabled)' : ''}${v?.error ? ` — ${v.error}` : ''}${v?.program ? ` — only in process ${v.program}` : ''}`;
        return { range: new mon!.Range(b.line, 1, b.line, 1), options: { glyphMarginClassName: cls, glyphMarginHoverMessage: { value: hover }, stickiness: 1 } };
      })
    : [];
  // Every snapshot of a stop (and 'running') calls this: setting the same glyphs again still makes
  // Monaco redraw, and that frame delays the next snapshot's handling (a Chromium trace of Step Over
  // showed 14-73 ms of Monaco frames between the key and the stop).
  const key = `${file}|${decs.map((d) => `${d.range.startLineNumber}:${d.options.glyphMarginClassName}:${(d.options.glyphMarginHoverMessage as { value: string }).value}`).join('|')}`;
  if (key === bpKey && bpDecorations.length === decs.length) return;
  bpKey = key;
  bpDecorations = ed.deltaDecorations(bpDecorations, decs);
}
let bpKey = '';

function renderCurrentLine(): void {
  if (!ed || !mon) return;
  const file = pathOf(ed);
  const s = debugStore.status;
  const loc = s.phase === 'stopped' ? currentLocation() : null;
  const decs: Monaco.editor.IModelDeltaDecoration[] = loc && loc.file === file
    ? [{ range: new mon.Range(loc.line, 1, loc.line, 1), options: { isWholeLine: true, className: loc.top ? 'ls-current-line' : 'ls-frame-line', linesDecorationsClassName: 'ls-current-arrow' } }]
    : [];
  const key = decs.map((d) => `${file}:${d.range.startLineNumber}:${d.options.className}`).join('|');
  if (key === lineKey) return;
  lineKey = key;
  lineDecorations = ed.deltaDecorations(lineDecorations, decs);
}
let lineKey = '';
/**
 * The current line's highlight is taken off RUNNING_CLEAR_MS after the target runs, not at once: a
 * step's stop usually arrives before that, and then the highlight just moves (one editor redraw, not
 * two — the redraw for 'running' held up the stop's snapshot in the renderer).
 */
const RUNNING_CLEAR_MS = 150;
let clearTimer: number | undefined;

/** The selected frame's line (the top frame unless the user clicked another one in the stack). */
let selected: { file: string; line: number; top: boolean } | null = null;
function currentLocation(): { file: string; line: number; top: boolean } | null {
  if (selected) return selected;
  const loc = debugStore.status.stop?.location;
  return loc ? { ...loc, top: true } : null;
}

/** Called by the call-stack view when a frame is clicked. */
export async function showFrameLocation(loc: { file: string; line: number } | null, top: boolean): Promise<void> {
  selected = loc ? { ...loc, top } : null;
  if (loc) await debugStore.openFile(loc.file, loc.line);
  renderCurrentLine();
}

export function toggleBreakpointAtCursor(): void {
  if (!ed) return;
  const file = pathOf(ed);
  const pos = ed.getPosition();
  if (!file || !pos) return;
  debugStore.model.toggle(file, pos.lineNumber);
}

/** Window-level keys; returns true when the key was a debug key (main.ts then ignores it). */
export function handleDebugKey(e: KeyboardEvent): boolean {
  const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
  if (e.key === 'F5' && plain && !e.shiftKey && isStopped() && !debugStore.status.core) { // a core's session: F5 Runs
    e.preventDefault();
    void debugCommand('continue');
    return true;
  }
  if (e.key === 'F5' && e.shiftKey && !e.ctrlKey && isDebugging()) {
    return false; // Stop (main.ts) ends QEMU and with it the session
  }
  if (!plain) return false;
  switch (e.key) {
    case 'F9':
      e.preventDefault();
      toggleBreakpointAtCursor();
      return true;
    case 'F10':
      e.preventDefault();
      void debugCommand('next');
      return true;
    case 'F11':
      e.preventDefault();
      void debugCommand(e.shiftKey ? 'finish' : 'step');
      return true;
    case 'F6':
      e.preventDefault();
      if (e.shiftKey) void debugCommand('pause');
      else void startDebugRun();
      return true;
  }
  return false;
}

export function installDebugEditor(editor: Editor, monaco: M): void {
  ed = editor;
  mon = monaco;
  editor.updateOptions({ glyphMargin: true });
  editor.onMouseDown((e) => {
    const t = e.target.type;
    if (t !== monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN) return;
    const line = e.target.position?.lineNumber;
    const file = pathOf(editor);
    if (!line || !file) return;
    debugStore.model.toggle(file, line);
  });
  // Edits move breakpoints with their lines (and drop those on deleted lines).
  editor.onDidChangeModelContent((e) => {
    const file = pathOf(editor);
    if (!file || !debugStore.model.forFile(file).length) return;
    for (const c of [...e.changes].sort((a, b) => b.range.startLineNumber - a.range.startLineNumber)) {
      const added = c.text.split('\n').length - 1;
      const removed = c.range.endLineNumber - c.range.startLineNumber;
      if (added !== removed) debugStore.model.shiftLines(file, c.range.startLineNumber + 1, added - removed);
    }
  });
  editor.onDidChangeModel(() => {
    // decorations belong to a model: another file (or the same one reopened) draws them anew
    bpKey = lineKey = '';
    renderBreakpoints();
    renderCurrentLine();
  });
  debugStore.model.onChange(renderBreakpoints);
  onStatus((s) => {
    renderBreakpoints();
    window.clearTimeout(clearTimer);
    clearTimer = undefined;
    if (s.phase !== 'stopped') {
      selected = null;
      lastStopKey = '';
      if (s.phase === 'running' && lineDecorations.length) clearTimer = window.setTimeout(renderCurrentLine, RUNNING_CLEAR_MS);
      else renderCurrentLine();
      return;
    }
    const loc = s.stop?.location;
    const key = `${s.stop?.stopId}:${s.stop?.threadId}:${loc?.file}:${loc?.line}`;
    if (key === lastStopKey) return;
    lastStopKey = key;
    selected = null;
    if (loc) {
      const timed = () => {
        if (debugStore.lastCommandAt) debugStore.lastHighlightMs = performance.now() - debugStore.lastCommandAt;
      };
      // The file is already in the editor (a step within it): highlight now, before the panels render.
      const now = ed ? pathOf(ed) === loc.file : false;
      if (now) {
        renderCurrentLine();
        timed();
      }
      void debugStore.openFile(loc.file, loc.line).then(() => {
        renderCurrentLine();
        if (!now) timed();
      });
    } else renderCurrentLine();
  }, true);
}

/** For tests: where the glyph margin of `line` is on screen (the line is revealed first). */
export function glyphPoint(line: number): { x: number; y: number } | null {
  if (!ed) return null;
  ed.revealLineInCenter(line);
  const dom = ed.getDomNode();
  if (!dom) return null;
  const r = dom.getBoundingClientRect();
  const layout = ed.getLayoutInfo();
  const top = ed.getTopForLineNumber(line) - ed.getScrollTop();
  return { x: r.left + layout.glyphMarginLeft + layout.glyphMarginWidth / 2, y: r.top + top + 9 };
}

export function decoratedLines(): { breakpoints: number[]; current: number | null } {
  if (!ed) return { breakpoints: [], current: null };
  const m = ed.getModel();
  if (!m) return { breakpoints: [], current: null };
  const bps = bpDecorations.map((d) => m.getDecorationRange(d)?.startLineNumber).filter((x): x is number => !!x);
  const cur = lineDecorations.map((d) => m.getDecorationRange(d)?.startLineNumber).filter((x): x is number => !!x)[0] ?? null;
  return { breakpoints: bps, current: cur };
}
