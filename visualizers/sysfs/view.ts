/*
 * view.ts — the sysfs view: /sys as a lazily expanded tree at a moment of the Run, attribute
 * values in place, symlinks as links that navigate, the owning process of a subtree, a time
 * slider, search, and a selected value's history as a sparkline. The host creates it with
 * createSysfsView(host, model) and feeds the model (model.ts); the view redraws on the next
 * animation frame when the model or its own state changes.
 *
 *   ┌ toolbar: Live · ──────────○── time slider · t · search · status ─────────────────────┐
 *   ├ tree (virtual rows)                                         ┬ detail: path, value     ┤
 *   │ ▾ sys                                                       │ owner → process         │
 *   │   ▾ devices                                                 │ link → target           │
 *   │     ▸ pci0000:00                                            │ ╱╲_╱‾ sparkline (click  │
 *   │       load = 1024   (flashes when it changes)               │  = scrub there)         │
 *   └─────────────────────────────────────────────────────────────┴─────────────────────────┘
 * Live (the default during a Run) shows the newest state: changed values flash, new nodes fade
 * in, removed ones fade out. Dragging the slider (or the shared time cursor moving, set by
 * another view) shows the tree as it was then; "Live" returns to now. Keys in the tree: ↑/↓
 * select, → expand / first child, ← collapse / parent, Enter follows a link or toggles.
 * Only the rows on screen exist in the DOM, so a directory of 10,000 devices scrolls freely.
 */
import { fmtNs } from '../common/time.js';
import { hexdumpLines, type SysfsModel } from './model.js';
import { ancestors, flatten, sparkline, type Row } from './tree.js';

export interface SysfsViewHooks {
  /** the user moved the time (slider, sparkline click); null: back to live */
  timeChanged?(t: number | null): void;
  /** the owner link of a subtree was clicked */
  showProcess?(pid: number, tids: number[]): void;
}

export interface SysfsView {
  readonly root: HTMLElement;
  /** show the tree at t (null: live, the newest state) — does not call timeChanged */
  setTime(t: number | null): void;
  /** the time shown (Infinity when live) */
  time(): number;
  live(): boolean;
  /** reveal a path (following symlinks), expanding its ancestors; false if it is not there at t */
  navigate(path: string): boolean;
  /** expand (or collapse) a directory and its ancestors; the rows are rebuilt at once */
  expand(path: string, on?: boolean): void;
  select(entry: number): void;
  selected(): number;
  search(q: string): number[];
  /** paths of the rows in the tree now (all of them, not only those on screen) */
  rowPaths(): string[];
  setTheme(t: 'dark' | 'light'): void;
  setStatus(text: string): void;
  resized(): void;
  /** rebuild and paint now; returns ms */
  renderNow(): number;
  dispose(): void;
}

export const SYSFS_THEMES = {
  dark: { bg: '#1e1e1e', fg: '#d4d4d4', dim: '#808080', grid: '#333', sel: '#264f78', link: '#4fc1ff', value: '#ce9178', flash: '#6b5a10', appear: '#1f4d2b', vanish: '#5a1d1d', spark: '#ffd166' },
  light: { bg: '#ffffff', fg: '#1e1e1e', dim: '#777', grid: '#ddd', sel: '#cce4ff', link: '#0066bf', value: '#a31515', flash: '#ffe9a6', appear: '#c9f2d4', vanish: '#f6c9c9', spark: '#b8860b' },
};
type Theme = (typeof SYSFS_THEMES)['dark'];

const ROW_H = 20;
const FLASH_MS = 900;
/** more changes than this at once (a long scrub) are not animated */
const MAX_ANIMATED = 400;

const CSS = `
.sysv{display:flex;flex-direction:column;height:100%;width:100%;font:12px "DejaVu Sans",sans-serif;color:var(--sysv-fg);background:var(--sysv-bg);overflow:hidden}
.sysv-bar{display:flex;gap:8px;align-items:center;padding:3px 6px;border-bottom:1px solid var(--sysv-grid);flex:none;flex-wrap:wrap}
.sysv-bar button,.sysv-bar input[type=search]{font:inherit;background:var(--sysv-bg);color:var(--sysv-fg);border:1px solid var(--sysv-grid);border-radius:3px;padding:1px 6px}
.sysv-bar button[aria-pressed=true]{border-color:#4d9de0;background:#2b4a6b;color:#fff}
.sysv-slider{flex:1;min-width:160px}
.sysv-time{font-variant-numeric:tabular-nums;min-width:7em;color:var(--sysv-dim)}
.sysv-status{color:var(--sysv-dim);white-space:nowrap}
.sysv-main{display:flex;flex:1;min-height:0}
.sysv-tree{flex:1;min-width:0;overflow:auto;position:relative;outline:none}
.sysv-spacer{position:relative}
.sysv-row{position:absolute;left:0;right:0;height:${ROW_H}px;line-height:${ROW_H}px;white-space:nowrap;cursor:default;padding-right:8px}
.sysv-row[aria-selected=true]{background:var(--sysv-sel)}
.sysv-tw{display:inline-block;width:14px;text-align:center;color:var(--sysv-dim);cursor:pointer}
.sysv-dir{font-weight:600}
.sysv-val{color:var(--sysv-value);margin-left:6px}
.sysv-link{color:var(--sysv-link);cursor:pointer;text-decoration:underline;margin-left:6px}
.sysv-owner{color:var(--sysv-dim);margin-left:8px;font-size:11px}
.sysv-ghost{opacity:.5;text-decoration:line-through}
@keyframes sysv-flash{from{background:var(--sysv-flash)}to{background:transparent}}
@keyframes sysv-appear{from{background:var(--sysv-appear);opacity:0}to{background:transparent;opacity:1}}
@keyframes sysv-vanish{from{background:var(--sysv-vanish);opacity:1}to{background:transparent;opacity:.2}}
.sysv-row.flash{animation:sysv-flash ${FLASH_MS}ms ease-out}
.sysv-row.appear{animation:sysv-appear ${FLASH_MS}ms ease-out}
.sysv-row.vanish{animation:sysv-vanish ${FLASH_MS}ms ease-in forwards}
.sysv-side{width:340px;flex:none;overflow:auto;border-left:1px solid var(--sysv-grid);padding:4px 8px}
.sysv-side h4{margin:6px 0 2px;font-size:12px;color:var(--sysv-dim);font-weight:normal}
.sysv-side .path{word-break:break-all;font-weight:600}
.sysv-side .val{white-space:pre-wrap;word-break:break-all;color:var(--sysv-value)}
.sysv-side .hexdump{font:11px/1.35 monospace;margin:4px 0;max-height:260px;overflow:auto;color:var(--sysv-value)}
.sysv-side a{color:var(--sysv-link);cursor:pointer;text-decoration:underline}
.sysv-side canvas{width:320px;height:64px;display:block;cursor:crosshair;border:1px solid var(--sysv-grid)}
.sysv-results div{cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sysv-results div:hover{background:var(--sysv-sel)}
`;
let cssAdded = false;

export function createSysfsView(host: HTMLElement, model: SysfsModel, hooks: SysfsViewHooks = {}, theme: 'dark' | 'light' = 'dark'): SysfsView {
  if (!cssAdded && typeof document !== 'undefined') {
    const s = document.createElement('style');
    s.textContent = CSS;
    document.head.appendChild(s);
    cssAdded = true;
  }
  let th: Theme = SYSFS_THEMES[theme];
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, parent: HTMLElement | null, cls?: string, text?: string) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    parent?.appendChild(e);
    return e;
  };
  const root = el('div', host, 'sysv');
  root.dataset['testid'] = 'sysfs-view';
  const setVars = () => {
    for (const [k, v] of Object.entries(th)) root.style.setProperty(`--sysv-${k}`, v);
  };
  setVars();

  /* ---- toolbar ---- */
  const bar = el('div', root, 'sysv-bar');
  const liveBtn = el('button', bar, undefined, 'Live');
  liveBtn.title = 'Show the newest state (follow the Run)';
  liveBtn.dataset['testid'] = 'sysfs-live';
  const slider = el('input', bar, 'sysv-slider');
  slider.type = 'range';
  slider.min = '0';
  slider.max = '10000';
  slider.step = '1';
  slider.value = '10000';
  slider.setAttribute('aria-label', 'Time');
  slider.dataset['testid'] = 'sysfs-slider';
  const timeLbl = el('span', bar, 'sysv-time');
  timeLbl.dataset['testid'] = 'sysfs-time';
  const searchIn = el('input', bar);
  searchIn.type = 'search';
  searchIn.placeholder = 'Search path or value';
  searchIn.setAttribute('aria-label', 'Search sysfs');
  const status = el('span', bar, 'sysv-status');
  status.dataset['testid'] = 'sysfs-status';

  /* ---- tree and side ---- */
  const main = el('div', root, 'sysv-main');
  const treeEl = el('div', main, 'sysv-tree');
  treeEl.tabIndex = 0;
  treeEl.setAttribute('role', 'tree');
  treeEl.setAttribute('aria-label', 'sysfs tree');
  const spacer = el('div', treeEl, 'sysv-spacer');
  const side = el('div', main, 'sysv-side');
  const detail = el('div', side);
  detail.dataset['testid'] = 'sysfs-detail';
  const sparkHead = el('h4', side, undefined, 'history');
  const spark = el('canvas', side);
  spark.setAttribute('aria-label', 'Value history (click: show the tree then)');
  const sparkInfo = el('div', side);
  sparkInfo.style.color = 'var(--sysv-dim)';
  el('h4', side, undefined, 'search');
  const results = el('div', side, 'sysv-results');
  results.dataset['testid'] = 'sysfs-results';

  /* ---- state ---- */
  let t = Infinity; // Infinity: live
  let shownT = NaN; // the t of the last render (for diffs)
  let shownVersion = -1;
  let shownT1 = NaN; // model.t1 at the last live render
  const expanded = new Set<number>([model.root]);
  let rows: Row[] = [];
  let sel = -1;
  const rowEls = new Map<number, HTMLElement>();
  /** entry → [animation class, until (performance.now ms)] */
  const anim = new Map<number, [string, number]>();
  const ghosts = new Set<number>();
  let raf = 0;
  let disposed = false;
  /** the rows must be flattened again (expanded/collapsed, a ghost expired, first render) */
  let shapeDirty = true;

  const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
  const at = () => (t === Infinity ? Infinity : t);
  const tOf = (v: number) => model.t0 + (v / 10000) * (model.t1 - model.t0);

  /** The first directory worth showing: /sys when it exists. */
  const top = () => {
    const sys = model.find('/sys');
    if (sys >= 0 && !expanded.has(sys) && !userCollapsed.has(sys)) expanded.add(sys);
    return model.root;
  };
  const userCollapsed = new Set<number>();

  const schedule = () => {
    if (raf || disposed) return;
    if (typeof requestAnimationFrame === 'undefined') {
      render();
      return;
    }
    raf = requestAnimationFrame(() => {
      raf = 0;
      render();
    });
  };

  /**
   * What changed since the last render becomes animations. Returns whether the tree's shape may
   * have changed (something appeared or vanished): if not, the rows stand and only the values
   * on screen are repainted — scrubbing through value changes costs no re-flattening.
   */
  const animate = (): boolean => {
    const t1 = at();
    // new records since the last render, possibly older than what was shown (out of order)
    const from = model.dirtyFrom;
    model.dirtyFrom = Infinity;
    const grew = model.version !== shownVersion;
    let d;
    if (t1 === Infinity && shownT === Infinity) {
      if (!(shownT1 === shownT1)) return true;
      if (!grew) return false;
      d = model.diff(Math.min(shownT1, from - 1), Infinity);
    } else if (shownT === shownT) {
      d = model.diff(shownT === Infinity ? model.t1 + 1 : shownT, t1 === Infinity ? model.t1 + 1 : t1);
      if (grew && from <= Math.max(shownT, t1)) return true; // the past shown changed under us
    } else return true;
    const shape = d.appeared.length + d.vanished.length > 0;
    if (d.appeared.length + d.vanished.length + d.changed.length > MAX_ANIMATED) return shape;
    const until = now() + FLASH_MS;
    for (const e of d.changed) restart(e, 'flash', until);
    for (const e of d.appeared) restart(e, 'appear', until);
    for (const e of d.vanished) {
      ghosts.add(e);
      restart(e, 'vanish', until);
    }
    return shape;
  };
  const restart = (e: number, cls: string, until: number) => {
    anim.set(e, [cls, until]);
    const r = rowEls.get(e);
    if (r) {
      r.classList.remove('flash', 'appear', 'vanish');
      void r.offsetWidth; // restart the animation
      r.classList.add(cls);
    }
  };
  const expire = () => {
    const n = now();
    let any = false;
    for (const [e, [, until]] of anim) {
      if (until > n) continue;
      anim.delete(e);
      if (ghosts.delete(e)) any = shapeDirty = true;
      rowEls.get(e)?.classList.remove('flash', 'appear', 'vanish');
    }
    if (any) schedule();
    if (anim.size) setTimeout(expire, 200);
  };

  const rowText = (r: Row, div: HTMLElement) => {
    const e = model.entries[r.entry]!;
    div.textContent = '';
    div.style.paddingLeft = `${4 + r.depth * 14}px`;
    const tw = el('span', div, 'sysv-tw', e.kind === 'dir' ? (expanded.has(r.entry) ? '▾' : '▸') : '');
    tw.dataset['toggle'] = '1';
    const name = el('span', div, e.kind === 'dir' ? 'sysv-dir' : undefined, r.entry === model.root ? '/' : e.name);
    void name;
    const T = r.ghost ? Math.max(model.t0, shownT === Infinity ? model.t1 : shownT) : at();
    if (e.kind === 'attr') {
      const v = model.value(r.entry, r.ghost ? (Number.isFinite(shownT) ? shownT : model.t1) : T) ?? '';
      el('span', div, 'sysv-val', `= ${v.length > 120 ? v.slice(0, 117) + '…' : v}`);
    } else if (e.kind === 'link') {
      const target = model.value(r.entry, T) ?? '';
      const a = el('span', div, 'sysv-link', `→ ${target}`);
      a.dataset['link'] = '1';
      a.title = 'Go to the target';
    } else {
      const o = model.ownerAt(r.entry, T);
      if (o.pid >= 0 && o.dir === r.entry) el('span', div, 'sysv-owner', `owner: ${model.procName(o.pid) || 'pid'} ${o.pid}`);
    }
    div.dataset['path'] = e.path || '/';
    div.classList.toggle('sysv-ghost', r.ghost);
    div.setAttribute('role', 'treeitem');
    div.setAttribute('aria-selected', String(r.entry === sel));
  };

  const paintRows = () => {
    const h = treeEl.clientHeight || 400;
    const first = Math.max(0, Math.floor(treeEl.scrollTop / ROW_H) - 4);
    const last = Math.min(rows.length, first + Math.ceil(h / ROW_H) + 8);
    const keep = new Set<number>();
    for (let i = first; i < last; i++) {
      const r = rows[i]!;
      keep.add(r.entry);
      let div = rowEls.get(r.entry);
      if (!div) {
        div = el('div', spacer, 'sysv-row');
        div.dataset['entry'] = String(r.entry);
        rowEls.set(r.entry, div);
        const a = anim.get(r.entry);
        if (a && a[1] > now()) div.classList.add(a[0]);
      }
      div.style.top = `${i * ROW_H}px`;
      rowText(r, div);
    }
    for (const [e, div] of rowEls)
      if (!keep.has(e)) {
        div.remove();
        rowEls.delete(e);
      }
  };

  const showDetail = () => {
    detail.textContent = '';
    const e = model.entries[sel];
    const T = at();
    if (!e) {
      el('div', detail, undefined, 'Select a node, attribute or link.');
      sparkHead.style.display = spark.style.display = 'none';
      sparkInfo.textContent = '';
      return;
    }
    el('div', detail, 'path', e.path || '/');
    el('h4', detail, undefined, e.kind === 'dir' ? 'directory' : e.kind === 'link' ? 'symlink' : e.binary ? 'binary attribute' : 'attribute');
    if (!model.exists(sel, T)) el('div', detail, undefined, T === Infinity ? 'gone now' : `not there at ${fmtNs(T)}`);
    if (e.kind === 'attr') el('div', detail, 'val', model.value(sel, T) ?? '');
    if (e.binary && model.exists(sel, T)) {
      // the contents as the trace recorded them at T (sysfs_bin_data), as lspci -xxx shows a config
      const bytes = model.binaryAt(sel, T);
      const pre = el('pre', detail, 'hexdump', bytes ? hexdumpLines(bytes).join('\n') : 'contents not in the trace');
      pre.dataset['testid'] = 'sysfs-hexdump';
    }
    if (e.kind === 'link') {
      const target = model.value(sel, T) ?? '';
      const r = model.resolve(e.path, T);
      const a = el('a', detail, undefined, `→ ${target}`);
      a.dataset['testid'] = 'sysfs-follow';
      a.onclick = () => api.navigate(e.path);
      el('div', detail, undefined, r.entry >= 0 ? `= ${model.entries[r.entry]!.path}` : r.error ?? '');
    }
    const o = model.ownerAt(sel, T);
    if (o.pid >= 0) {
      el('h4', detail, undefined, 'owner');
      const name = model.procName(o.pid);
      const a = el('a', detail, undefined, `${name || 'process'} (pid ${o.pid})`);
      a.dataset['testid'] = 'sysfs-owner';
      a.title = 'Show this process in the Scheduler and IPC views';
      a.onclick = () => hooks.showProcess?.(o.pid, model.procThreads.get(o.pid) ?? []);
      if (o.dir !== sel) el('span', detail, undefined, ` — owns ${model.entries[o.dir]!.path}`);
    }
    if (e.kind === 'dir') {
      const kids = model.childrenAt(sel, T);
      el('div', detail, undefined, `${kids.length} entries`);
    }
    const up = model.uevents.filter((u) => u.path === e.path && u.ns <= T).slice(-5);
    if (up.length) {
      el('h4', detail, undefined, 'uevents');
      for (const u of up) el('div', detail, undefined, `${fmtNs(u.ns)} ${u.action} (seq ${u.seqnum})`);
    }
    const hasHist = e.kind === 'attr';
    sparkHead.style.display = spark.style.display = hasHist ? '' : 'none';
    if (hasHist) paintSpark();
    else sparkInfo.textContent = '';
  };

  const paintSpark = () => {
    const w = 320;
    const h = 64;
    const dpr = (typeof window !== 'undefined' && window.devicePixelRatio) || 1;
    if (spark.width !== w * dpr) {
      spark.width = w * dpr;
      spark.height = h * dpr;
    }
    const ctx = spark.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = th.bg;
    ctx.fillRect(0, 0, w, h);
    const T = at() === Infinity ? model.t1 : at();
    const s = sparkline(model, sel, model.t0, model.t1, w, h, T);
    ctx.strokeStyle = th.spark;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i < s.points.length; i += 2) {
      if (i === 0) ctx.moveTo(s.points[i]!, s.points[i + 1]!);
      else ctx.lineTo(s.points[i]!, s.points[i + 1]!);
    }
    ctx.stroke();
    if (s.cursorX === s.cursorX) {
      ctx.strokeStyle = th.link;
      ctx.beginPath();
      ctx.moveTo(s.cursorX + 0.5, 0);
      ctx.lineTo(s.cursorX + 0.5, h);
      ctx.stroke();
    }
    const changes = model.changes(sel);
    sparkInfo.textContent = s.samples ? `${changes} values, min ${s.min}, max ${s.max}` : changes ? `${changes} values (not numbers)` : 'no history';
  };

  const render = () => {
    if (disposed) return;
    const shape = animate();
    if (shape || shapeDirty) {
      rows = flatten(model, top(), expanded, at(), ghosts);
      spacer.style.height = `${rows.length * ROW_H}px`;
      shapeDirty = false;
    }
    paintRows();
    showDetail();
    // toolbar
    liveBtn.setAttribute('aria-pressed', String(t === Infinity));
    if (model.t1 > model.t0) {
      const frac = t === Infinity ? 1 : (t - model.t0) / (model.t1 - model.t0);
      slider.value = String(Math.round(Math.max(0, Math.min(1, frac)) * 10000));
    }
    timeLbl.textContent = t === Infinity ? (model.t1 === model.t1 ? `now (${fmtNs(model.t1)})` : 'now') : fmtNs(t);
    shownT = t;
    shownT1 = model.t1;
    shownVersion = model.version;
    if (anim.size) setTimeout(expire, 200);
  };

  /* ---- input ---- */
  const userTime = (nt: number | null) => {
    t = nt === null ? Infinity : nt;
    schedule();
    hooks.timeChanged?.(nt);
  };
  liveBtn.onclick = () => userTime(null);
  slider.oninput = () => {
    const v = Number(slider.value);
    userTime(v >= 10000 ? null : tOf(v));
  };
  spark.onclick = (ev) => {
    const r = spark.getBoundingClientRect();
    userTime(model.t0 + ((ev.clientX - r.left) / r.width) * (model.t1 - model.t0));
  };
  treeEl.onscroll = () => paintRows();
  treeEl.onclick = (ev) => {
    const target = ev.target as HTMLElement;
    const rowEl = target.closest('.sysv-row') as HTMLElement | null;
    if (!rowEl) return;
    const e = Number(rowEl.dataset['entry']);
    if (target.dataset['link']) {
      api.navigate(model.entries[e]!.path);
      return;
    }
    sel = e;
    if (target.dataset['toggle'] || ev.detail === 2) toggle(e);
    schedule();
  };
  treeEl.ondblclick = (ev) => {
    const rowEl = (ev.target as HTMLElement).closest('.sysv-row') as HTMLElement | null;
    if (rowEl && model.entries[Number(rowEl.dataset['entry'])]?.kind === 'link') api.navigate(model.entries[Number(rowEl.dataset['entry'])]!.path);
  };
  const toggle = (e: number, on?: boolean) => {
    if (model.entries[e]?.kind !== 'dir') return;
    const open = on ?? !expanded.has(e);
    shapeDirty = true;
    if (open) {
      expanded.add(e);
      userCollapsed.delete(e);
    } else {
      expanded.delete(e);
      userCollapsed.add(e);
    }
    schedule();
  };
  treeEl.onkeydown = (ev) => {
    const i = rows.findIndex((r) => r.entry === sel);
    const e = model.entries[sel];
    let handled = true;
    if (ev.key === 'ArrowDown') sel = rows[Math.min(rows.length - 1, i + 1)]?.entry ?? sel;
    else if (ev.key === 'ArrowUp') sel = rows[Math.max(0, i - 1)]?.entry ?? sel;
    else if (ev.key === 'ArrowRight' && e?.kind === 'dir') {
      if (!expanded.has(sel)) toggle(sel, true);
      else sel = rows[i + 1]?.entry ?? sel;
    } else if (ev.key === 'ArrowLeft' && e) {
      if (e.kind === 'dir' && expanded.has(sel)) toggle(sel, false);
      else if (e.parent >= 0) sel = e.parent;
    } else if (ev.key === 'Enter' && e) {
      if (e.kind === 'link') api.navigate(e.path);
      else toggle(sel);
    } else handled = false;
    if (handled) {
      ev.preventDefault();
      schedule();
      reveal();
    }
  };
  const reveal = () => {
    const i = rows.findIndex((r) => r.entry === sel);
    if (i < 0) return;
    const y = i * ROW_H;
    if (y < treeEl.scrollTop) treeEl.scrollTop = y;
    else if (y + ROW_H > treeEl.scrollTop + treeEl.clientHeight) treeEl.scrollTop = y + ROW_H - treeEl.clientHeight;
  };
  const showResults = (found: number[]) => {
    results.textContent = '';
    if (!searchIn.value.trim()) return;
    el('div', results, undefined, `${found.length}${found.length >= 200 ? '+' : ''} found`).style.color = th.dim;
    for (const e of found.slice(0, 100)) {
      const en = model.entries[e]!;
      const d = el('div', results, undefined, en.kind === 'dir' ? en.path : `${en.path} = ${model.value(e, at()) ?? ''}`);
      d.title = d.textContent ?? '';
      d.onclick = () => api.navigate(en.path);
    }
  };
  searchIn.oninput = () => showResults(model.search(searchIn.value, at()));
  searchIn.onkeydown = (ev) => {
    if (ev.key !== 'Enter') return;
    const found = model.search(searchIn.value, at());
    showResults(found);
    if (found[0] !== undefined) api.navigate(model.entries[found[0]]!.path);
  };

  const off = model.onChange(() => schedule());

  const api: SysfsView = {
    root,
    setTime(nt) {
      const v = nt === null || !Number.isFinite(nt) ? Infinity : nt;
      if (v === t) return;
      t = v;
      schedule();
    },
    time: () => t,
    live: () => t === Infinity,
    navigate(path) {
      const r = model.resolve(path, at());
      if (r.entry < 0) {
        api.setStatus(r.error ?? `${path}: not there`);
        return false;
      }
      for (const a of ancestors(model, r.entry)) {
        expanded.add(a);
        userCollapsed.delete(a);
      }
      shapeDirty = true;
      sel = r.entry;
      render();
      reveal();
      paintRows();
      treeEl.focus();
      return true;
    },
    expand(path, on = true) {
      const e = model.find(path);
      if (e < 0) return;
      for (const a of ancestors(model, e)) expanded.add(a);
      shapeDirty = true;
      toggle(e, on);
      render(); // at once: a caller reads rowPaths() next
    },
    select(e) {
      sel = e;
      schedule();
    },
    selected: () => sel,
    search(q) {
      searchIn.value = q;
      const found = model.search(q, at());
      showResults(found);
      return found;
    },
    rowPaths: () => rows.filter((r) => !r.ghost).map((r) => model.entries[r.entry]!.path || '/'),
    setTheme(x) {
      th = SYSFS_THEMES[x];
      setVars();
      schedule();
    },
    setStatus(text) {
      status.textContent = text;
    },
    resized: () => paintRows(),
    renderNow() {
      const s = now();
      render();
      return now() - s;
    },
    dispose() {
      disposed = true;
      off();
      if (raf && typeof cancelAnimationFrame !== 'undefined') cancelAnimationFrame(raf);
      root.remove();
    },
  };
  render();
  return api;
}
