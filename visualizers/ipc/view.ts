/*
 * view.ts — the IPC lanes view: toolbar, conversation tree, canvas, detail panel. The host (the
 * workbench, a test page) creates it with createIpcView(host, model, hooks) and feeds the model;
 * the view redraws on the next animation frame when the model or its own state changes.
 *
 *   ┌ toolbar: Follow · Fit · search [type] ‹ › · process filter · Break on next ▾ · status ┐
 *   ├ conversations ┬ canvas (time →, lifelines ↓, arrows at match time)  ┬ detail ──────────┤
 *   │ ▾ #0 10↔11    │                                                     │ actions, sizes,  │
 *   │   ▸ #2 …      │                                                     │ payload, latency │
 *   └───────────────┴─────────────────────────────────────────────────────┴──────────────────┘
 * Click a lifeline's label: its threads as sub-rows. Keys (canvas focused): ←/→ previous/next in conversation, ↑/↓ previous/next on lane,
 * f follow, Home fit, Enter open the submitting source line, / search.
 */
import { select } from 'd3';
import { attachTimeZoom, createCanvasHost, fitRange } from '../common/index.js';
import { LodCache, computeFrame, defaultState, hitTest, layout, newFrame, type Frame, type Layout, type ViewState, type Viewport } from './frame.js';
import { fmtBytes, fmtNs, type IpcModel, type MessageDetail, type SideDetail } from './model.js';
import { THEMES, hueColor, paint } from './render.js';

import type { BreakTarget } from './events.js';
export type { BreakTarget };

export interface IpcViewHooks {
  /** resolve a submitting return address to "file:line" (through the program's symbols) */
  resolveSource?(retAddr: number, pid: number): Promise<{ file: string; line: number } | undefined>;
  /** open the editor at the source line */
  openSource?(file: string, line: number): void;
  /** arm "break on next message" in the debugger; resolves to a description shown in the status */
  breakOnNext?(t: BreakTarget): Promise<string>;
  /** a message (or -1) was selected */
  selected?(m: number, detail: MessageDetail | undefined): void;
}

export interface FrameStats {
  frames: number;
  lastMs: number;
  times: number[];
}

export interface IpcView {
  readonly root: HTMLElement;
  readonly state: ViewState;
  select(m: number, reveal?: boolean): void;
  selectedMessage(): number;
  /**
   * Select an operation (a submit) that has no message yet — e.g. the one the debugger stopped
   * at: the detail panel shows its side ("pending match"); select(m) replaces it.
   */
  selectOp(op: number, reveal?: boolean): void;
  selectedOp(): number;
  step(kind: 'conversation' | 'lane', dir: 1 | -1): void;
  setViewport(t0: number, t1: number): void;
  viewport(): Viewport;
  /** the shared time cursor (the trace store's), drawn as a line; null: none */
  setCursor(ns: number | null): void;
  fit(): void;
  setFollow(on: boolean): void;
  setTheme(t: 'dark' | 'light'): void;
  setStatus(text: string): void;
  resized(): void;
  /** repaint now (synchronously); returns ms spent computing + painting */
  renderNow(): number;
  stats: FrameStats;
  dispose(): void;
}

const CSS = `
.ipcv{display:flex;flex-direction:column;height:100%;width:100%;font:12px "DejaVu Sans",sans-serif;color:var(--ipcv-fg);background:var(--ipcv-bg);overflow:hidden}
.ipcv-bar{display:flex;gap:6px;align-items:center;padding:3px 6px;border-bottom:1px solid var(--ipcv-grid);flex:none;flex-wrap:wrap}
.ipcv-bar button,.ipcv-bar select,.ipcv-bar input{font:inherit;background:var(--ipcv-alt);color:var(--ipcv-fg);border:1px solid var(--ipcv-grid);border-radius:3px;padding:1px 6px}
.ipcv-bar button[aria-pressed=true]{border-color:#4d9de0;background:#2b4a6b;color:#fff}
.ipcv-status{margin-left:auto;color:var(--ipcv-dim);white-space:nowrap}
.ipcv-main{display:flex;flex:1;min-height:0}
.ipcv-tree{width:220px;flex:none;overflow:auto;border-right:1px solid var(--ipcv-grid);padding:2px 0}
.ipcv-node{white-space:nowrap;cursor:pointer;padding:1px 4px;display:flex;align-items:center;gap:4px}
.ipcv-node[aria-selected=true]{background:var(--ipcv-alt);outline:1px solid #4d9de0}
.ipcv-caret{width:12px;display:inline-block;text-align:center;color:var(--ipcv-dim)}
.ipcv-sw{width:10px;height:10px;border-radius:2px;flex:none}
.ipcv-canvas-wrap{flex:1;min-width:0;position:relative}
.ipcv-canvas-wrap canvas{position:absolute;inset:0;outline:none}
.ipcv-detail{width:300px;flex:none;overflow:auto;border-left:1px solid var(--ipcv-grid);padding:4px 6px}
.ipcv-detail h4{margin:4px 0;font-size:12px}
.ipcv-detail table{border-collapse:collapse;width:100%}
.ipcv-detail td{padding:1px 3px;vertical-align:top;word-break:break-all}
.ipcv-detail td:first-child{color:var(--ipcv-dim);white-space:nowrap;word-break:normal}
.ipcv-detail code{font-family:"DejaVu Sans Mono",monospace;font-size:11px}
.ipcv-nav{display:flex;gap:4px;flex-wrap:wrap;margin:4px 0}
.ipcv-nav button{font:inherit;background:var(--ipcv-alt);color:var(--ipcv-fg);border:1px solid var(--ipcv-grid);border-radius:3px}
.ipcv-err{color:var(--ipcv-err)}
`;

let cssAdded = false;

export function createIpcView(host: HTMLElement, model: IpcModel, hooks: IpcViewHooks = {}, theme: 'dark' | 'light' = 'dark'): IpcView {
  if (!cssAdded && typeof document !== 'undefined') {
    const s = document.createElement('style');
    s.textContent = CSS;
    document.head.appendChild(s);
    cssAdded = true;
  }
  let th = THEMES[theme];
  const state = defaultState();
  const root = select(host).append('div').attr('class', 'ipcv').attr('data-testid', 'ipc-view');
  const setVars = () => {
    const n = root.node()!;
    n.style.setProperty('--ipcv-bg', th.bg);
    n.style.setProperty('--ipcv-fg', th.fg);
    n.style.setProperty('--ipcv-dim', th.dim);
    n.style.setProperty('--ipcv-alt', th.rowAlt);
    n.style.setProperty('--ipcv-grid', th.grid);
    n.style.setProperty('--ipcv-err', th.error);
  };
  setVars();
  // ---- toolbar
  const bar = root.append('div').attr('class', 'ipcv-bar');
  const followBtn = bar.append('button').attr('title', 'Follow new messages (f)').attr('aria-pressed', 'true').text('Follow');
  bar.append('button').attr('title', 'Show the whole trace (Home)').text('Fit').on('click', () => fit());
  const search = bar.append('input').attr('type', 'search').attr('placeholder', 'search message type').attr('aria-label', 'Search message types').style('width', '150px');
  const searchPrev = bar.append('button').attr('title', 'Previous match').text('‹');
  const searchNext = bar.append('button').attr('title', 'Next match').text('›');
  const searchInfo = bar.append('span').attr('class', 'ipcv-search-info').style('color', 'var(--ipcv-dim)');
  const procSel = bar.append('select').attr('aria-label', 'Filter by process');
  const clearFilter = bar.append('button').attr('title', 'Show every conversation').text('All conversations');
  const breakSel = bar.append('select').attr('aria-label', 'Break on next message');
  const status = bar.append('span').attr('class', 'ipcv-status').attr('data-testid', 'ipc-status');
  // ---- main area
  const main = root.append('div').attr('class', 'ipcv-main');
  const tree = main.append('div').attr('class', 'ipcv-tree').attr('role', 'tree').attr('aria-label', 'Conversations');
  const wrap = main.append('div').attr('class', 'ipcv-canvas-wrap');
  const detail = main.append('div').attr('class', 'ipcv-detail').attr('data-testid', 'ipc-detail');
  detail.append('div').style('color', 'var(--ipcv-dim)').text('Select a message (click an arrow) to see its details. ←/→ step in the conversation, ↑/↓ on the lane.');

  const X0 = 150;
  let vp: Viewport = { t0: 0, t1: 1, width: 1, x0: X0 };
  let follow = true;
  let cursorNs: number | null = null;
  let lay: Layout = layout(model, state);
  let layVersion = -1;
  let layKey = '';
  const fr: Frame = newFrame();
  const lod = new LodCache();
  let hits: number[] = [];
  let hitPos = -1;
  let statusText = '';
  const stats: FrameStats = { frames: 0, lastMs: 0, times: [] };
  let treeVersion = -1;
  let lastMsgCount = 0;

  const ensureLayout = () => {
    const key = `${[...state.expanded].join(',')}|${state.filter.pids ? [...state.filter.pids].join(',') : ''}|${model.processOrder.filter((p) => p.ops).length}|${[...model.processes.values()].reduce((a, p) => a + p.threads.size, 0)}`;
    if (key !== layKey || (state.expanded.size && layVersion !== model.version)) {
      lay = layout(model, state);
      layKey = key;
    }
    layVersion = model.version;
  };

  // the canvas (visualizers/common/canvas-host.ts): device pixel ratio, one repaint per frame
  const canvasHost = createCanvasHost(wrap.node()!, {
    attrs: { tabindex: '0', 'aria-label': 'IPC lanes' },
    resized: (cssW) => {
      vp = { ...vp, width: Math.max(1, cssW - X0 - 8) };
    },
    paint: (ctx, cssW, cssH) => {
      const t = performance.now();
      ensureLayout();
      if (follow && model.lastNs === model.lastNs) {
        const span = vp.t1 - vp.t0 > 1 ? vp.t1 - vp.t0 : Math.max(1e6, model.lastNs - model.firstNs);
        const end = model.lastNs + span * 0.03;
        vp = { ...vp, t0: end - span, t1: end };
      }
      state.highlight = hits.length ? new Set(hits) : undefined;
      computeFrame(model, lay, state, vp, fr, { lod });
      paint(ctx, model, lay, vp, fr, th, cssW, cssH, { labels: fr.detailed && fr.arrows.n < vp.width / 8, nowNs: model.lastNs, cursorNs });
      const ms = performance.now() - t;
      stats.frames++;
      stats.lastMs = ms;
      stats.times.push(ms);
      if (stats.times.length > 2000) stats.times.splice(0, 1000);
      updateStatus();
      if (treeVersion !== model.version && (model.msgCount !== lastMsgCount || treeVersion < 0)) renderTree();
    },
  });
  const canvas = canvasHost.canvas;
  const renderNow = (): number => canvasHost.renderNow();
  const invalidate = () => canvasHost.invalidate();
  const resize = () => canvasHost.resize();

  const updateStatus = () => {
    status.text(`${statusText ? statusText + ' · ' : ''}${model.msgCount.toLocaleString()} messages · ${model.opCount.toLocaleString()} ops · ${model.convs.length.toLocaleString()} conversations · ${fr.visible.toLocaleString()} in view${fr.detailed ? '' : ' (aggregated)'} · ${fmtNs(vp.t1 - vp.t0)} wide`);
  };

  // ---- conversation tree (lazy: children rendered when expanded, long lists capped)
  const treeOpen = new Set<number>();
  const renderTree = () => {
    treeVersion = model.version;
    lastMsgCount = model.msgCount;
    const el = tree.node()!;
    const scroll = el.scrollTop;
    el.textContent = '';
    const add = (c: number, depth: number) => {
      const cv = model.convs[c]!;
      const row = document.createElement('div');
      row.className = 'ipcv-node';
      row.setAttribute('role', 'treeitem');
      row.dataset['conv'] = String(c);
      row.style.paddingLeft = `${4 + depth * 12}px`;
      row.setAttribute('aria-selected', String(state.filter.conversation === c || state.filter.lane === c));
      const caret = document.createElement('span');
      caret.className = 'ipcv-caret';
      caret.textContent = cv.children.length ? (treeOpen.has(c) ? '▾' : '▸') : '';
      caret.title = 'Expand / collapse (collapsed: nested conversations are folded on the canvas)';
      caret.onclick = (e) => {
        e.stopPropagation();
        if (treeOpen.has(c)) {
          treeOpen.delete(c);
          state.collapsed.add(c);
        } else {
          treeOpen.add(c);
          state.collapsed.delete(c);
        }
        renderTree();
        invalidate();
      };
      const sw = document.createElement('span');
      sw.className = 'ipcv-sw';
      sw.style.background = hueColor(cv.hue, th.light);
      const pa = model.processes.get(cv.lanePid[0])?.name ?? '?';
      const pb = model.processes.get(cv.lanePid[1])?.name ?? '?';
      const label = document.createElement('span');
      const marks = `${cv.endedNs === cv.endedNs ? ' ⊣' : ''}${cv.cancels ? ` ✕${cv.cancels}` : ''}${cv.errors ? ` !${cv.errors}` : ''}`;
      label.textContent = `#${c} ${pa}↔${pb}${cv.firstType ? ' ' + cv.firstType : ''} (${cv.subMessages})${marks}`;
      label.title = `stream 0x${cv.stream.toString(16)} · ${cv.messages} messages on it, ${cv.subMessages} with nested · ${cv.ops} ops${cv.endedNs === cv.endedNs ? ' · end of lane at ' + fmtNs(cv.endedNs) : ''}\nclick: only this conversation (with nested); alt-click: only this lane`;
      row.append(caret, sw, label);
      row.onclick = (e) => {
        const key = e.altKey ? 'lane' : 'conversation';
        const on = state.filter[key] === c;
        state.filter = on ? {} : { [key]: c, pids: state.filter.pids };
        renderTree();
        invalidate();
        if (!on) {
          const a = model.convs[c]!;
          if (a.subFirstNs === a.subFirstNs) {
            setFollow(false);
            const pad = Math.max(1000, (a.subLastNs - a.subFirstNs) * 0.1);
            setViewport(a.subFirstNs - pad, a.subLastNs + pad);
          }
        }
      };
      el.appendChild(row);
      if (treeOpen.has(c)) {
        const ch = cv.children;
        for (let i = 0; i < Math.min(ch.length, 200); i++) add(ch[i]!, depth + 1);
        if (ch.length > 200) {
          const more = document.createElement('div');
          more.className = 'ipcv-node';
          more.style.paddingLeft = `${16 + depth * 12}px`;
          more.textContent = `… ${ch.length - 200} more (use the canvas or the lane filter)`;
          el.appendChild(more);
        }
      }
    };
    let roots = 0;
    for (let c = 0; c < model.convs.length && roots < 500; c++) {
      if (model.convs[c]!.parent < 0) {
        add(c, 0);
        roots++;
      }
    }
    el.scrollTop = scroll;
    // process filter choices
    const ps = model.processOrder.filter((p) => p.ops > 0);
    const cur = procSel.property('value');
    procSel.selectAll('option').data([{ pid: -1, name: 'All processes' }, ...ps.map((p) => ({ pid: p.pid, name: `${p.name} [${p.pid}]` }))]).join('option').attr('value', (d) => String(d.pid)).text((d) => d.name);
    procSel.property('value', cur || '-1');
    const sel = state.selected;
    const opts: { v: string; t: string }[] = [{ v: '', t: 'Break on next…' }];
    if (sel >= 0) {
      const c = model.msgConversation(sel);
      opts.push({ v: `lane:${model.msgConv[sel]}`, t: `…message on lane #${model.msgConv[sel]}` }, { v: `conversation:${c}`, t: `…message in conversation #${c}` });
    }
    for (const p of ps) opts.push({ v: `process:${p.pid}`, t: `…message from ${p.name} [${p.pid}]` });
    breakSel.selectAll('option').data(opts).join('option').attr('value', (d) => d.v).text((d) => d.t);
    breakSel.property('value', '');
  };

  // ---- detail panel
  let detailSeq = 0;
  let selOp = -1;
  // the detail panel follows the selection's ops as they end (completed, cancelled, …)
  const detailKey = () => {
    const ops = selOp >= 0 ? [selOp] : state.selected >= 0 ? [model.msgSrc[state.selected]!, model.msgDst[state.selected]!] : [];
    return ops.map((o) => `${model.opEnd[o]}:${model.opEndNs[o]}:${model.opMsg[o]}`).join(',');
  };
  let shownKey = '';
  const showDetail = (m: number, op = -1) => {
    const el = detail.node()!;
    el.textContent = '';
    shownKey = detailKey();
    if (m < 0 && op < 0) return;
    const d = m >= 0 ? model.messageDetail(m) : undefined;
    const seq = ++detailSeq;
    const h = document.createElement('h4');
    const conv = d ? d.conversation : model.opConv[op]!;
    h.textContent = d ? `${d.type || 'message'} #${m}` : `${model.opTypeName(op) || 'message'} (submitted, not matched yet)`;
    h.style.color = d?.error ? th.error : hueColor(model.convs[conv]!.hue, th.light);
    h.dataset['testid'] = 'ipc-detail-title';
    el.appendChild(h);
    const nav = document.createElement('div');
    nav.className = 'ipcv-nav';
    const btn = (label: string, title: string, f: () => void) => {
      const b = document.createElement('button');
      b.textContent = label;
      b.title = title;
      b.onclick = f;
      nav.appendChild(b);
    };
    btn('◀ conv', 'Previous message in this conversation (←)', () => step('conversation', -1));
    btn('conv ▶', 'Next message in this conversation (→)', () => step('conversation', 1));
    btn('◀ lane', 'Previous message on this lane (↑)', () => step('lane', -1));
    btn('lane ▶', 'Next message on this lane (↓)', () => step('lane', 1));
    el.appendChild(nav);
    const table = (rows: [string, string][], cls?: string) => {
      const t = document.createElement('table');
      if (cls) t.className = cls;
      for (const [k, v] of rows) {
        const tr = t.insertRow();
        tr.insertCell().textContent = k;
        const td = tr.insertCell();
        td.textContent = v;
      }
      el.appendChild(t);
      return t;
    };
    if (d)
      table([
        ['actions', d.label],
        ['matched at', fmtNs(d.ns)],
        ['result', d.result],
        ['conversation', `#${d.conversation}${d.opens >= 0 ? ` (opens #${d.opens})` : ''}`],
      ]);
    else
      table([
        ['submitted at', fmtNs(model.opNs[op]!)],
        ['conversation', `#${conv} · stream 0x${model.convs[conv]!.stream.toString(16)}`],
      ]);
    const side = (title: string, s: SideDetail) => {
      const hh = document.createElement('h4');
      hh.textContent = `${title}: ${s.process} [${s.pid}] · ${s.thread || 'thread'} [${s.tid}]`;
      el.appendChild(hh);
      const rows: [string, string][] = [
        ['actions', s.actions.join(', ')],
        ['lane', `${s.lane} · tag ${s.tag}`],
        ['CPU', `${s.cpu} submit${s.endCpu >= 0 ? ` · ${s.endCpu} complete` : ''}`],
        ['bytes', `${fmtBytes(s.bytes)} sent${s.recvBytes ? ` · ${fmtBytes(s.recvBytes)} received` : ''}`],
        ['descriptors', s.descriptors ? `${s.descriptors} moved` : '–'],
        ['credentials', s.credentials ? 'yes' : '–'],
        ['submit→complete', `${fmtNs(s.latencyNs)} (${s.end}, ${s.result})`],
      ];
      if (s.cancelledBy) rows.push(['cancelled by', s.cancelledBy]);
      if (s.decoded) rows.push(['decoded', s.decoded]);
      if (s.payloadHex) rows.push(['payload', s.payloadHex]);
      rows.push(['submitted at', `0x${s.retAddr.toString(16)}`]);
      const t = table(rows);
      t.dataset['side'] = title;
      const srcCell = t.rows[t.rows.length - 1]!.cells[1]!;
      if (hooks.resolveSource && s.retAddr) {
        hooks.resolveSource(s.retAddr, s.pid).then((loc) => {
          if (!loc || seq !== detailSeq) return;
          srcCell.textContent = '';
          const a = document.createElement('a');
          a.href = '#';
          a.textContent = `${loc.file}:${loc.line}`;
          a.style.color = '#4d9de0';
          a.dataset['testid'] = 'ipc-source-link';
          a.onclick = (e) => {
            e.preventDefault();
            hooks.openSource?.(loc.file, loc.line);
          };
          srcCell.appendChild(a);
          srcCell.appendChild(document.createTextNode(` (0x${s.retAddr.toString(16)})`));
        }).catch(() => undefined);
      }
    };
    if (d) {
      side('from', d.src);
      side('to', d.dst);
    } else side('submitted by', model.opDetail(op));
  };

  // ---- selection and stepping
  function selectMsg(m: number, reveal = true): void {
    state.selected = m;
    selOp = -1;
    showDetail(m);
    if (m >= 0 && reveal) {
      const ns = model.msgNs[m]!;
      if (ns < vp.t0 || ns > vp.t1) {
        setFollow(false);
        const span = vp.t1 - vp.t0;
        vp = { ...vp, t0: ns - span / 2, t1: ns + span / 2 };
      } else if (follow && model.msgCount - 1 !== m) setFollow(false);
    }
    hooks.selected?.(m, m >= 0 ? model.messageDetail(m) : undefined);
    renderTree();
    invalidate();
  }
  function selectOp(op: number, reveal = true): void {
    if (op < 0 || op >= model.opCount) return;
    state.selected = -1;
    selOp = op;
    showDetail(-1, op);
    const ns = model.opNs[op]!;
    if (reveal && (ns < vp.t0 || ns > vp.t1)) {
      setFollow(false);
      const span = vp.t1 - vp.t0;
      vp = { ...vp, t0: ns - span / 2, t1: ns + span / 2 };
    }
    hooks.selected?.(-1, undefined);
    renderTree();
    invalidate();
  }
  function step(kind: 'conversation' | 'lane', dir: 1 | -1): void {
    const m = state.selected;
    if (m < 0) {
      if (model.msgCount) selectMsg(model.msgLowerBound(vp.t0));
      return;
    }
    const n = kind === 'lane' ? model.stepLane(m, dir) : model.stepConversation(m, dir);
    if (n >= 0) selectMsg(n);
  }

  function setViewport(t0: number, t1: number): void {
    if (!(t1 > t0)) return;
    vp = { ...vp, t0, t1 };
    invalidate();
  }
  function fit(): void {
    if (model.firstNs === model.firstNs) {
      const f = fitRange(vp, model.firstNs, model.lastNs);
      setViewport(f.t0, f.t1);
    }
  }
  function setFollow(on: boolean): void {
    follow = on;
    followBtn.attr('aria-pressed', String(on));
    invalidate();
  }

  // ---- interaction: wheel zoom and drag pan of the time window (visualizers/common/zoom.ts)
  attachTimeZoom(canvas, {
    viewport: () => vp,
    setViewport: (next, how) => {
      vp = next;
      if (follow && how !== 'zoom-out') setFollow(false);
      invalidate();
    },
  });
  canvas.addEventListener('click', (e) => {
    if (e.offsetX < X0) {
      // a lifeline's label: show / hide its threads as sub-rows
      const row = lay.rows.find((r) => Math.abs(r.y - e.offsetY) <= r.h / 2);
      if (row) {
        if (state.expanded.has(row.pid)) state.expanded.delete(row.pid);
        else state.expanded.add(row.pid);
        invalidate();
      }
      return;
    }
    const m = hitTest(model, lay, state, vp, e.offsetX, e.offsetY);
    if (m >= 0) selectMsg(m, false);
    canvas.focus();
  });
  canvas.addEventListener('keydown', (e) => {
    const k = e.key;
    if (k === 'ArrowRight' || k === 'ArrowLeft') step('conversation', k === 'ArrowRight' ? 1 : -1);
    else if (k === 'ArrowDown' || k === 'ArrowUp') step('lane', k === 'ArrowDown' ? 1 : -1);
    else if (k === 'f') setFollow(!follow);
    else if (k === 'Home') fit();
    else if (k === '/') search.node()!.focus();
    else if (k === 'Enter' && state.selected >= 0) (detail.node()!.querySelector('[data-testid=ipc-source-link]') as HTMLElement | null)?.click();
    else if (k === 'Escape') selectMsg(-1, false);
    else return;
    e.preventDefault();
  });
  followBtn.on('click', () => setFollow(!follow));
  const runSearch = () => {
    hits = model.search(search.property('value'), 100000);
    hitPos = -1;
    searchInfo.text(search.property('value') ? `${hits.length} found` : '');
    invalidate();
  };
  search.on('input', runSearch);
  const gotoHit = (dir: 1 | -1) => {
    if (!hits.length) return;
    hitPos = (hitPos + dir + hits.length) % hits.length;
    searchInfo.text(`${hitPos + 1} of ${hits.length}`);
    selectMsg(hits[hitPos]!);
  };
  searchNext.on('click', () => gotoHit(1));
  searchPrev.on('click', () => gotoHit(-1));
  search.on('keydown', (e: KeyboardEvent) => {
    if (e.key === 'Enter') gotoHit(e.shiftKey ? -1 : 1);
  });
  procSel.on('change', () => {
    const v = Number(procSel.property('value'));
    state.filter = { ...state.filter, pids: v >= 0 ? new Set([v]) : undefined };
    invalidate();
  });
  clearFilter.on('click', () => {
    state.filter = { pids: state.filter.pids };
    renderTree();
    invalidate();
  });
  breakSel.on('change', () => {
    const v = String(breakSel.property('value'));
    if (!v) return;
    const [kind, arg] = v.split(':');
    const n = Number(arg);
    const t: BreakTarget = kind === 'process' ? { kind: 'process', pid: n } : { kind: kind as 'lane' | 'conversation', conv: n, stream: String(model.convs[n]!.stream) };
    if (!hooks.breakOnNext) setStatus('Break on next message needs a debug session');
    else hooks.breakOnNext(t).then((s) => setStatus(s), (e: Error) => setStatus(`break: ${e.message}`));
    breakSel.property('value', '');
  });
  function setStatus(s: string): void {
    statusText = s;
    updateStatus();
  }

  const unsub = model.onChange(() => {
    invalidate();
    if (selOp < 0 && state.selected < 0) return;
    const k = detailKey();
    if (k !== shownKey) {
      shownKey = k;
      showDetail(state.selected, selOp);
    }
  });
  resize();
  if (model.firstNs === model.firstNs) fit();

  return {
    root: root.node()!,
    state,
    select: selectMsg,
    selectedMessage: () => state.selected,
    selectOp,
    selectedOp: () => selOp,
    step,
    setViewport(t0, t1) {
      setFollow(false);
      setViewport(t0, t1);
    },
    viewport: () => vp,
    fit,
    setFollow,
    setTheme(t) {
      th = THEMES[t];
      setVars();
      renderTree();
      invalidate();
    },
    setStatus,
    resized: resize,
    setCursor(ns) {
      if (ns === cursorNs) return;
      cursorNs = ns;
      invalidate();
    },
    renderNow,
    stats,
    dispose() {
      unsub();
      canvasHost.dispose();
      root.remove();
    },
  };
}
