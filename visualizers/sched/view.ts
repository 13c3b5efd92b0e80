/*
 * view.ts — the scheduler view: toolbar, canvas (one track per CPU: run slices, load against the
 * ideal, migration arrows), detail and per-thread table. The host creates it with
 * createSchedView(host, model) and feeds the model (model.ts); the view redraws on the next
 * animation frame when the model or its own state changes.
 *
 *   ┌ toolbar: Follow · Fit · ☑balance ☑steal ☑affinity ☑placement · thread ▾ · status ─┐
 *   ├ canvas: cpu0 ▇▇▇▇ ▇▇ load ~~~ ideal - - -  ↓ arrows at the move          ┬ detail  ┤
 *   │         cpu1 ▇▇▇▇▇▇▇▇▇                                                  │ threads │
 *   └──────────────────────────────────────────────────────────────────────────┴─────────┘
 * The timeline machinery is visualizers/common's, the same as the IPC lanes view's: the canvas
 * (canvas-host.ts: pixel ratio, one repaint per frame), the time window (time.ts Viewport, fit,
 * follow), wheel zoom around the pointer and drag pan (zoom.ts, d3-zoom deltas), the time axis
 * and the shared time cursor (axis.ts). Hovering an arrow shows why the thread moved (with the
 * balancer's numbers), clicking selects it; double-clicking a slice follows its thread (thread
 * mode: its slices highlighted, the rest dimmed), as does picking it in the table.
 */
import { attachTimeZoom } from '../common/zoom.js';
import { createCanvasHost } from '../common/canvas-host.js';
import { createViewFrame } from '../common/toolbar.js';
import { fitRange as fitWindow, type Viewport } from '../common/time.js';
import { buildView, hitArrow, hitSlice, REASONS, type MigrateReason, type SchedModel, type SchedView as ViewModel } from './model.js';
import { REASON_COLORS, SCHED_THEMES, fmtTime, paintSched, schedLayout, type SchedLayout } from './render.js';

export interface SchedViewHooks {
  /** a migration (index into model.migrations, or -1) was selected */
  selected?(index: number): void;
}

export interface SchedView {
  readonly root: HTMLElement;
  setViewport(t0: number, t1: number): void;
  viewport(): { t0: number; t1: number };
  fit(): void;
  setFollow(on: boolean): void;
  /** thread mode: follow tid (undefined: all threads) */
  followThread(tid: number | undefined): void;
  /** filter arrows by reason */
  setReasons(r: ReadonlySet<MigrateReason>): void;
  selectMigration(index: number): void;
  /** shared time cursor: show ns (and where the given threads ran then) */
  showAt(ns: number, tids?: number[]): string;
  /** the shared time cursor (the trace store's), drawn as a line; null: none */
  setCursor(ns: number | null): void;
  /** the current layout (gutter = the time area's x0, top, row height) */
  layout(): SchedLayout;
  setTheme(t: 'dark' | 'light'): void;
  setStatus(text: string): void;
  resized(): void;
  renderNow(): number;
  last(): ViewModel | undefined;
  dispose(): void;
}

const CSS = `
.schedv-main{display:flex;flex:1;min-height:0}
.schedv-wrap{flex:1;min-width:0;position:relative}
.schedv-wrap canvas{position:absolute;inset:0;outline:none}
.schedv-side{width:320px;flex:none;overflow:auto;border-left:1px solid var(--schedv-grid);padding:4px 6px}
.schedv-side table{border-collapse:collapse;width:100%}
.schedv-side td,.schedv-side th{padding:1px 4px;text-align:right;white-space:nowrap}
.schedv-side td:first-child,.schedv-side th:first-child{text-align:left}
.schedv-side tr[data-tid]{cursor:pointer}
.schedv-side tr[aria-selected=true]{outline:1px solid #4d9de0}
.schedv-detail{min-height:3em;margin-bottom:6px;white-space:normal}
`;

/** follow mode shows the newest 5 s */
const FOLLOW_NS = 5e9;
const TABLE_MS = 500;       // the thread table is rebuilt at most this often

export function createSchedView(host: HTMLElement, model: SchedModel, hooks: SchedViewHooks = {}, theme: 'dark' | 'light' = 'dark'): SchedView {
  let th = SCHED_THEMES[theme];
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, parent: HTMLElement, cls?: string, text?: string) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  };
  // the root and the toolbar (common/toolbar.ts: Follow, Fit, …, status)
  const vf = createViewFrame(host, 'schedv', { testid: 'sched-view', statusTestid: 'sched-status', css: CSS, theme: th });
  const { root, bar, status } = vf;
  const setVars = () => vf.setTheme(th);
  const followBtn = vf.follow;
  const fitBtn = vf.fit;
  const reasons = new Set<MigrateReason>(REASONS);
  for (const r of REASONS) {
    const lab = vf.add('label');
    const cb = el('input', lab);
    cb.type = 'checkbox';
    cb.checked = true;
    cb.dataset['reason'] = r;
    const sw = el('span', lab, undefined, r);
    sw.style.color = REASON_COLORS[r];
    cb.onchange = () => {
      if (cb.checked) reasons.add(r);
      else reasons.delete(r);
      invalidate();
    };
  }
  const threadSel = vf.add('select');
  threadSel.setAttribute('aria-label', 'Follow a thread');
  const main = el('div', root, 'schedv-main');
  const wrap = el('div', main, 'schedv-wrap');
  const side = el('div', main, 'schedv-side');
  const detail = el('div', side, 'schedv-detail', 'Hover or click a migration arrow to see why the thread moved.');
  detail.dataset['testid'] = 'sched-detail';
  const table = el('table', side);
  table.dataset['testid'] = 'sched-threads';

  let vp: Viewport = { t0: 0, t1: 1, width: 10, x0: schedLayout(1, 100).gutter };
  let follow = true;
  let followTid: number | undefined;
  let selected = -1;
  let hover = -1;
  let cursor: number | null = null;
  let last: ViewModel | undefined;
  let tableAt = -Infinity;       // when the thread table was last rebuilt (-Infinity: at the next paint)
  let tableTimer: ReturnType<typeof setTimeout> | undefined;
  let L: SchedLayout = schedLayout(1, 100);

  // the canvas (visualizers/common/canvas-host.ts): device pixel ratio, one repaint per frame
  const host2 = createCanvasHost(wrap, {
    attrs: { tabindex: '0', 'aria-label': 'CPU tracks' },
    paint: (ctx, cssW, cssH) => {
      L = schedLayout(model.ncpus, cssH);
      vp = { ...vp, x0: L.gutter, width: Math.max(10, cssW - L.gutter) };
      if (follow && model.t1 > model.t0) vp = { ...vp, t1: model.t1, t0: Math.max(model.t0, model.t1 - FOLLOW_NS) };
      last = buildView(model, { t0: vp.t0, t1: vp.t1, width: vp.width }, { reasons, follow: followTid });
      const loads = model.tracks.map((tr, cpu) => ({ cpu, now: tr.load.length ? tr.load[tr.load.length - 1]! : 0 }));
      paintSched(ctx, { view: last, layout: L, vp, height: cssH, selected, hover, loads, cursor }, th);
      // the table is rebuilt at most every TABLE_MS; a paint that skips it leaves a timer for a
      // later paint, so the table never stays behind the drawing (nor empty after an early first
      // paint: performance.now() counts from the page's load)
      const since = performance.now() - tableAt;
      if (since > TABLE_MS) {
        tableAt = performance.now();
        renderTable();
      } else if (tableTimer === undefined) {
        tableTimer = setTimeout(() => {
          tableTimer = undefined;
          invalidate();
        }, TABLE_MS - since);
      }
      status.textContent = `${model.ncpus} CPUs · ${model.migrations.length.toLocaleString('en-US')} migrations · ${model.rounds.length} rounds · ${fmtTime(vp.t1 - vp.t0)} shown${status.dataset['extra'] ? ' · ' + status.dataset['extra'] : ''}`;
    },
  });
  const canvas = host2.canvas;
  const renderNow = (): number => host2.renderNow();
  const invalidate = (): void => host2.invalidate();

  function renderTable(): void {
    const rows = model.threadTable().slice(0, 200);
    const span = Math.max(1, model.t1 - model.t0);
    table.textContent = '';
    const head = el('tr', table as unknown as HTMLElement);
    for (const hd of ['thread', 'cpu', 'CPU %', 'moves', 'load']) el('th', head, undefined, hd);
    for (const r of rows) {
      const tr = el('tr', table as unknown as HTMLElement);
      tr.dataset['tid'] = String(r.tid);
      tr.setAttribute('aria-selected', String(r.tid === followTid));
      el('td', tr, undefined, model.label(r.tid));
      el('td', tr, undefined, r.lastCpu >= 0 ? String(r.lastCpu) : '');
      el('td', tr, undefined, ((r.cpuNs / span) * 100).toFixed(1));
      el('td', tr, undefined, String(r.migrations));
      el('td', tr, undefined, r.load >= 0 ? String(r.load) : '');
      tr.onclick = () => api.followThread(r.tid === followTid ? undefined : r.tid);
    }
    // the thread selector mirrors the table
    const cur = threadSel.value;
    threadSel.textContent = '';
    const all = el('option', threadSel as unknown as HTMLElement, undefined, 'All threads');
    all.value = '';
    for (const r of rows) {
      const o = el('option', threadSel as unknown as HTMLElement, undefined, model.label(r.tid));
      o.value = String(r.tid);
    }
    threadSel.value = followTid !== undefined ? String(followTid) : cur && !followTid ? '' : cur;
  }

  function showDetail(index: number): void {
    const m = model.migrations[index];
    detail.textContent = m ? `${fmtTime(m.ns - model.t0)}: ${model.describe(m)}` : 'Hover or click a migration arrow to see why the thread moved.';
  }

  // ---- interaction: wheel zoom and drag pan of the time window (visualizers/common/zoom.ts)
  const detachZoom = attachTimeZoom(canvas, {
    viewport: () => vp,
    setViewport: (next) => {
      vp = next;
      api.setFollow(false);
      invalidate();
    },
    minSpanNs: 1000,
  });
  canvas.addEventListener('mousemove', (e) => {
    if (!last || e.buttons) return;
    const h = hitArrow(last, e.offsetX - L.gutter, e.offsetY, L.rowHeight, L.top);
    if (h !== hover) {
      hover = h;
      showDetail(h >= 0 ? h : selected);
      invalidate();
    }
  });
  canvas.addEventListener('click', (e) => {
    if (!last) return;
    const h = hitArrow(last, e.offsetX - L.gutter, e.offsetY, L.rowHeight, L.top);
    api.selectMigration(h);
  });
  canvas.addEventListener('dblclick', (e) => {
    if (!last) return;
    const cpu = Math.floor((e.offsetY - L.top) / L.rowHeight);
    const s = hitSlice(last, cpu, e.offsetX - L.gutter);
    api.followThread(s && s.tid > 0 ? s.tid : undefined);
  });
  followBtn.onclick = () => api.setFollow(!follow);
  fitBtn.onclick = () => api.fit();
  threadSel.onchange = () => api.followThread(threadSel.value ? Number(threadSel.value) : undefined);
  model.onChange(invalidate);

  const api: SchedView = {
    root,
    setViewport(a, b) {
      vp = { ...vp, t0: a, t1: Math.max(a + 1, b) };
      api.setFollow(false);
      invalidate();
    },
    viewport: () => ({ t0: vp.t0, t1: vp.t1 }),
    fit() {
      api.setFollow(false);
      if (model.t1 > model.t0) vp = fitWindow(vp, model.t0, model.t1);
      invalidate();
    },
    setFollow(on) {
      follow = on;
      vf.setFollow(on);
      invalidate();
    },
    followThread(tid) {
      followTid = tid;
      tableAt = -Infinity;
      invalidate();
    },
    setReasons(r) {
      reasons.clear();
      for (const x of r) reasons.add(x);
      for (const cb of bar.querySelectorAll<HTMLInputElement>('input[data-reason]')) cb.checked = reasons.has(cb.dataset['reason'] as MigrateReason);
      invalidate();
    },
    selectMigration(i) {
      selected = i;
      showDetail(i);
      hooks.selected?.(i);
      invalidate();
    },
    showAt(ns, tids = []) {
      const span = vp.t1 - vp.t0;
      vp = { ...vp, t0: ns - span / 2, t1: ns + span / 2 };
      cursor = ns;
      api.setFollow(false);
      const where = tids.map((tid) => {
        const c = model.cpuAt(tid, ns);
        return `${model.label(tid)} ${c >= 0 ? `on cpu${c}` : 'not running'}`;
      });
      const text = `at ${fmtTime(ns - model.t0)}: ${where.join(', ')}`;
      detail.textContent = text;
      invalidate();
      return text;
    },
    setTheme(t) {
      th = SCHED_THEMES[t];
      setVars();
      invalidate();
    },
    setStatus(text) {
      status.dataset['extra'] = text;
      invalidate();
    },
    setCursor(ns) {
      if (ns === cursor) return;
      cursor = ns;
      invalidate();
    },
    layout: () => L,
    resized: () => host2.resize(),
    renderNow,
    last: () => last,
    dispose() {
      clearTimeout(tableTimer);
      detachZoom();
      host2.dispose();
      root.remove();
    },
  };
  api.setFollow(true);
  host2.resize();
  return api;
}
