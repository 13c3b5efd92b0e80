/*
 * frame.ts — from the model and the view state to what one frame draws. Pure (no DOM): the
 * renderer only paints these buffers, so level of detail, filters, folding and hit testing are
 * unit-tested and benchmarked in Node.
 *
 *   layout(model, state)          rows: one lifeline per process (threads as sub-rows when expanded)
 *   computeFrame(model, layout, state, viewport)
 *       messages in [t0, t1]      binary search on time (messages are time-ordered)
 *         ≤ detailLimit visible → one arrow each (x, y from, y to, hue, flags)
 *         more                  → level of detail: one bar per pixel column (min y, max y, count)
 *       ops overlapping [t0, t1]  blocks of 1024 ops skipped by their end-time bound; spans merged
 *                                 per row at pixel resolution; ends marked (cancelled, end of lane,
 *                                 error; still pending = open end)
 *       collapsed conversations  one band per collapsed conversation instead of its arrows
 */
import { LevelCache, binsFor, lodLevel } from '../common/lod.js';
import type { Viewport } from '../common/time.js';
import { MsgFlag, OpEnd, convHue, type IpcModel } from './model.js';

export type { Viewport };

export interface Row {
  kind: 'process' | 'thread';
  pid: number;
  tid: number;
  label: string;
  y: number; // centre
  h: number;
}

export interface Layout {
  rows: Row[];
  height: number;
  /** row index per pid / tid (a thread maps to its own row only when its process is expanded) */
  rowOfPid: Map<number, number>;
  rowOfTid: Map<number, number>;
  /** the row each op is drawn on (-1: hidden), by op index; filled lazily by rowOfOps */
  opRow?: Int32Array;
  opRowCount?: number;
}

/** Row per op for this layout, extended incrementally as ops are added (live). */
export function rowOfOps(model: IpcModel, lay: Layout): Int32Array {
  let a = lay.opRow;
  const n = model.opCount;
  if (!a || a.length < n) {
    const b = new Int32Array(Math.max(1024, model.opNs.length));
    if (a) b.set(a.subarray(0, lay.opRowCount ?? 0));
    lay.opRow = a = b;
  }
  for (let i = lay.opRowCount ?? 0; i < n; i++) a[i] = lay.rowOfTid.get(model.opTid[i]!) ?? lay.rowOfPid.get(model.opPid[i]!) ?? -1;
  lay.opRowCount = n;
  return a;
}

export interface Filter {
  /** only messages touching these processes */
  pids?: Set<number> | undefined;
  /** only this stream (conversation index, not nested ones) */
  lane?: number | undefined;
  /** only this conversation and those nested in it */
  conversation?: number | undefined;
}

export interface ViewState {
  expanded: Set<number>;
  collapsed: Set<number>;
  filter: Filter;
  /** messages to highlight (search results) */
  highlight?: Set<number> | undefined;
  selected: number;
  rowHeight: number;
  top: number; // y offset of the first row
}

export function defaultState(): ViewState {
  return { expanded: new Set(), collapsed: new Set(), filter: {}, selected: -1, rowHeight: 36, top: 28 };
}

export function layout(model: IpcModel, st: ViewState): Layout {
  const rows: Row[] = [];
  const rowOfPid = new Map<number, number>();
  const rowOfTid = new Map<number, number>();
  let y = st.top;
  const pf = st.filter.pids;
  for (const p of model.processOrder) {
    if (p.ops === 0) continue; // lifelines only for processes that take part in IPC
    if (pf && pf.size && !pf.has(p.pid)) continue;
    const h = st.rowHeight;
    rowOfPid.set(p.pid, rows.length);
    rows.push({ kind: 'process', pid: p.pid, tid: 0, label: `${p.name} [${p.pid}]`, y: y + h / 2, h });
    y += h;
    if (st.expanded.has(p.pid)) {
      const tids = new Set<number>(p.threads.keys());
      for (let i = 0; i < model.opCount; i++) if (model.opPid[i] === p.pid) tids.add(model.opTid[i]!);
      for (const tid of [...tids].sort((a, b) => a - b)) {
        const th = st.rowHeight * 0.75;
        rowOfTid.set(tid, rows.length);
        rows.push({ kind: 'thread', pid: p.pid, tid, label: `${p.threads.get(tid)?.name ?? 'thread'} [${tid}]`, y: y + th / 2, h: th });
        y += th;
      }
    }
  }
  return { rows, height: y, rowOfPid, rowOfTid };
}

/** Grow-only draw buffers, reused across frames (no allocation per frame once warm). */
class Buf {
  n = 0;
  cols: Float64Array[];
  constructor(readonly width: number) {
    this.cols = Array.from({ length: width }, () => new Float64Array(256));
  }
  reset(): void {
    this.n = 0;
  }
  push(a: number, b: number, c: number, d: number, e = 0, f = 0, g = 0): void {
    if (this.n === this.cols[0]!.length) this.cols = this.cols.map((col) => {
      const x = new Float64Array(col.length * 2);
      x.set(col);
      return x;
    });
    const n = this.n++;
    const C = this.cols;
    C[0]![n] = a;
    C[1]![n] = b;
    C[2]![n] = c;
    C[3]![n] = d;
    const w = this.width;
    if (w > 4) C[4]![n] = e;
    if (w > 5) C[5]![n] = f;
    if (w > 6) C[6]![n] = g;
  }
  get(k: number, i: number): number {
    return this.cols[k]![i]!;
  }
}

export const ARROW = { x: 0, y1: 1, y2: 2, hue: 3, msg: 4, flags: 5 } as const;
export const COLUMN = { x: 0, yMin: 1, yMax: 2, count: 3, hue: 4 } as const;
export const SPAN = { x0: 0, x1: 1, y: 2, hue: 3, open: 4 } as const;
export const MARK = { x: 0, y: 1, kind: 2, op: 3 } as const;
export const FOLD = { x0: 0, x1: 1, yMin: 2, yMax: 3, conv: 4, count: 5, hue: 6 } as const;
/** extra arrow flags set by the frame (model flags use the low bits) */
export const AF = { Selected: 16, Highlight: 32 } as const;

export interface Frame {
  detailed: boolean;
  /** messages in the time window that pass the filters */
  visible: number;
  arrows: Buf;
  columns: Buf;
  spans: Buf;
  marks: Buf;
  folds: Buf;
}

export function newFrame(): Frame {
  return { detailed: true, visible: 0, arrows: new Buf(6), columns: new Buf(5), spans: new Buf(5), marks: new Buf(4), folds: new Buf(7) };
}

export interface FrameOptions {
  /** at most this many arrows drawn one by one (default: width / 3) */
  detailLimit?: number;
  /** level-of-detail pyramid (built lazily per zoom level, reused while panning) */
  lod?: LodCache;
}

/**
 * One zoom level of the pyramid: the whole trace cut into bins of 2^L ns, with per bin the
 * messages (count, lowest and highest row, a hue), per row and bin whether an op was waiting
 * (span coverage, by difference arrays) and which ends happened there, and the time range of
 * every folded conversation. Built in O(messages + ops + rows × bins) once; then a frame at this
 * zoom costs O(width), wherever it is panned.
 */
interface Level {
  binNs: number;
  origin: number;
  nBins: number;
  msgN: Uint32Array;
  msgMin: Float32Array;
  msgMax: Float32Array;
  msgHue: Float32Array;
  cov: Int32Array; // rows × bins: ops waiting (after prefix sum)
  covHue: Float32Array;
  covOpen: Uint8Array;
  marks: Uint8Array; // rows × bins: bit per OpEnd kind
  folds: Map<number, { a: number; b: number; yMin: number; yMax: number; n: number }>;
}

/** The IPC view's levels (visualizers/common/lod.ts: power-of-two bins, a per-data cache). */
export class LodCache {
  private cache = new LevelCache<Level>(6);
  /** levels built so far (for tests and the benchmark) */
  get builds(): number {
    return this.cache.builds;
  }
  /** most bins per level (more: the frame falls back to the direct pass) */
  maxBins = 1 << 17;

  level(model: IpcModel, lay: Layout, st: ViewState, nsPerPx: number, cmask: Uint8Array, folds: Int32Array): Level | undefined {
    const { level: L, binNs } = lodLevel(nsPerPx);
    const { origin, nBins } = binsFor(model.firstNs, model.lastNs, binNs);
    if (!(nBins > 0) || nBins > this.maxBins || nBins * lay.rows.length > 1 << 24) return undefined;
    const f = st.filter;
    const key = `${model.version}|${model.msgCount}|${model.opCount}|${lay.rows.map((r) => r.pid + ':' + r.tid).join(',')}|${f.lane ?? ''}|${f.conversation ?? ''}|${[...st.collapsed].join(',')}`;
    return this.cache.get(key, L, () => buildLevel(model, lay, binNs, origin, nBins, cmask, folds));
  }
}

function buildLevel(model: IpcModel, lay: Layout, binNs: number, origin: number, nBins: number, cmask: Uint8Array, folds: Int32Array): Level {
  const rows = lay.rows.length;
  const opRow = rowOfOps(model, lay);
  const rowYs = Float64Array.from(lay.rows, (r) => r.y);
  const lv: Level = {
    binNs, origin, nBins,
    msgN: new Uint32Array(nBins), msgMin: new Float32Array(nBins).fill(Infinity), msgMax: new Float32Array(nBins).fill(-Infinity), msgHue: new Float32Array(nBins),
    cov: new Int32Array(rows * (nBins + 1)), covHue: new Float32Array(rows * nBins).fill(NaN), covOpen: new Uint8Array(rows * nBins), marks: new Uint8Array(rows * nBins),
    folds: new Map(),
  };
  const inv = 1 / binNs;
  const { msgNs, msgConv, msgChild, msgSrc, msgDst } = model;
  for (let m = 0; m < model.msgCount; m++) {
    const c = msgConv[m]!;
    if (!cmask[c]) {
      const ch = msgChild[m]!;
      if (!(ch >= 0 && cmask[ch])) continue;
    }
    const rs = opRow[msgSrc[m]!]!;
    const rd = opRow[msgDst[m]!]!;
    if (rs < 0 && rd < 0) continue;
    const ya = rs >= 0 ? rowYs[rs]! : rowYs[rd]!;
    const yb = rd >= 0 ? rowYs[rd]! : ya;
    const fc = folds[c]!;
    if (fc >= 0) {
      let a = lv.folds.get(fc);
      if (!a) lv.folds.set(fc, (a = { a: msgNs[m]!, b: msgNs[m]!, yMin: Infinity, yMax: -Infinity, n: 0 }));
      a.b = msgNs[m]!;
      a.n++;
      a.yMin = Math.min(a.yMin, ya, yb);
      a.yMax = Math.max(a.yMax, ya, yb);
      continue;
    }
    const b = Math.floor((msgNs[m]! - origin) * inv);
    lv.msgN[b]!++;
    const mn = ya < yb ? ya : yb;
    const mx = ya < yb ? yb : ya;
    if (mn < lv.msgMin[b]!) lv.msgMin[b] = mn;
    if (mx > lv.msgMax[b]!) lv.msgMax[b] = mx;
    lv.msgHue[b] = convHue(c);
  }
  const { opNs, opEndNs, opConv, opMsg, opEnd, opCancelNs } = model;
  const now = model.lastNs;
  const W1 = nBins + 1;
  for (let i = 0; i < model.opCount; i++) {
    const c = opConv[i]!;
    if (!cmask[c] || folds[c]! >= 0) continue;
    const r = opRow[i]!;
    if (r < 0) continue;
    const eNs = opEndNs[i]!;
    const pending = eNs !== eNs;
    const mi = opMsg[i]!;
    let stop = pending ? now : eNs;
    if (mi >= 0 && msgNs[mi]! < stop) stop = msgNs[mi]!;
    const ba = Math.floor((opNs[i]! - origin) * inv);
    const bb = Math.max(ba, Math.floor((stop - origin) * inv));
    lv.cov[r * W1 + ba]!++;
    lv.cov[r * W1 + bb + 1]!--;
    if (lv.covHue[r * nBins + ba] !== lv.covHue[r * nBins + ba]) lv.covHue[r * nBins + ba] = convHue(c);
    const open = pending && mi < 0;
    if (open) lv.covOpen[r * nBins + bb] = 1;
    const kind = opEnd[i]!;
    if (kind === OpEnd.Cancelled || kind === OpEnd.EndOfLane || kind === OpEnd.Error) {
      const cn = opCancelNs[i]!;
      const at = kind === OpEnd.Cancelled && cn === cn ? cn : eNs;
      const b = Math.floor((at - origin) * inv);
      lv.marks[r * nBins + b] = lv.marks[r * nBins + b]! | (1 << kind);
    } else if (open) {
      const b = Math.floor((now - origin) * inv);
      lv.marks[r * nBins + b] = lv.marks[r * nBins + b]! | (1 << OpEnd.Pending);
    }
  }
  // prefix sums: cov[r][b] = ops waiting in bin b; hue carried forward from the op that started the run
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    let hue = 0;
    for (let b = 0; b < nBins; b++) {
      acc += lv.cov[r * W1 + b]!;
      lv.cov[r * W1 + b] = acc;
      const h = lv.covHue[r * nBins + b]!;
      if (h === h) hue = h;
      else lv.covHue[r * nBins + b] = hue;
    }
  }
  return lv;
}

function frameFromLevel(lv: Level, lay: Layout, vp: Viewport, fr: Frame): void {
  const { t0, t1, width, x0 } = vp;
  const k = width / (t1 - t0);
  const W = Math.ceil(width);
  const { binNs, origin, nBins } = lv;
  const bA = Math.max(0, Math.floor((t0 - origin) / binNs));
  const bB = Math.min(nBins - 1, Math.floor((t1 - origin) / binNs));
  const colMin = new Float64Array(W).fill(Infinity);
  const colMax = new Float64Array(W).fill(-Infinity);
  const colN = new Uint32Array(W);
  const colHue = new Float64Array(W);
  for (let b = bA; b <= bB; b++) {
    const n = lv.msgN[b]!;
    if (!n) continue;
    const px = Math.min(W - 1, Math.max(0, Math.floor((origin + (b + 0.5) * binNs - t0) * k)));
    colN[px] = colN[px]! + n;
    if (lv.msgMin[b]! < colMin[px]!) colMin[px] = lv.msgMin[b]!;
    if (lv.msgMax[b]! > colMax[px]!) colMax[px] = lv.msgMax[b]!;
    colHue[px] = lv.msgHue[b]!;
  }
  for (let px = 0; px < W; px++) if (colN[px]) fr.columns.push(x0 + px + 0.5, colMin[px]!, colMax[px]!, colN[px]!, colHue[px]!);
  const rows = lay.rows.length;
  const W1 = nBins + 1;
  const xMax = x0 + width;
  for (let r = 0; r < rows; r++) {
    const y = lay.rows[r]!.y;
    let runA = NaN;
    let runB = 0;
    let hue = 0;
    let open = 0;
    let lastMarkPx = -1;
    let lastMarkBits = 0;
    for (let b = bA; b <= bB; b++) {
      const xa = Math.max(x0, x0 + (origin + b * binNs - t0) * k);
      const xb = Math.min(xMax, x0 + (origin + (b + 1) * binNs - t0) * k);
      if (lv.cov[r * W1 + b]! > 0) {
        if (runA === runA && xa <= runB + 1) {
          runB = xb;
          open |= lv.covOpen[r * nBins + b]!;
        } else {
          if (runA === runA) fr.spans.push(runA, runB, y, hue, open);
          runA = xa;
          runB = Math.max(xb, xa + 1);
          hue = lv.covHue[r * nBins + b]!;
          open = lv.covOpen[r * nBins + b]!;
        }
      }
      const bits = lv.marks[r * nBins + b]!;
      if (bits) {
        const px = Math.floor(xa);
        for (let kind = 0; kind < 5; kind++) {
          if (!(bits & (1 << kind))) continue;
          if (px === lastMarkPx && lastMarkBits & (1 << kind)) continue;
          fr.marks.push((xa + xb) / 2, y, kind, -1);
        }
        lastMarkBits = px === lastMarkPx ? lastMarkBits | bits : bits;
        lastMarkPx = px;
      }
    }
    if (runA === runA) fr.spans.push(runA, runB, y, hue, open);
  }
  for (const [conv, a] of lv.folds) {
    if (a.b < t0 || a.a > t1) continue;
    fr.folds.push(x0 + (a.a - t0) * k, x0 + (a.b - t0) * k, a.yMin, a.yMax, conv, a.n, convHue(conv));
  }
}

/** Conversation visibility under the filter: 1 shown, 0 hidden. */
export function convMask(model: IpcModel, f: Filter): Uint8Array {
  const n = model.convs.length;
  if (f.lane !== undefined && f.lane >= 0) {
    const m = new Uint8Array(n);
    if (f.lane < n) m[f.lane] = 1;
    return m;
  }
  if (f.conversation !== undefined && f.conversation >= 0 && f.conversation < n) return model.subtreeMask(f.conversation);
  return new Uint8Array(n).fill(1);
}

/** For each conversation, the collapsed ancestor (or itself) it folds into, or -1. */
export function foldMap(model: IpcModel, collapsed: Set<number>): Int32Array {
  const n = model.convs.length;
  const f = new Int32Array(n).fill(-1);
  if (!collapsed.size) return f;
  for (let c = 0; c < n; c++) {
    let top = -1;
    for (const k of model.ancestors(c)) if (collapsed.has(k)) top = k;
    f[c] = top; // a collapsed conversation's own messages stay visible; its nested ones fold
  }
  return f;
}

export function computeFrame(model: IpcModel, lay: Layout, st: ViewState, vp: Viewport, fr: Frame = newFrame(), opts: FrameOptions = {}): Frame {
  fr.arrows.reset();
  fr.columns.reset();
  fr.spans.reset();
  fr.marks.reset();
  fr.folds.reset();
  fr.visible = 0;
  const { t0, t1, width, x0 } = vp;
  const span = t1 - t0;
  if (!(span > 0) || width <= 0) return fr;
  const k = width / span;
  const opRow = rowOfOps(model, lay);
  const rowYs = Float64Array.from(lay.rows, (r) => r.y);
  const cmask = convMask(model, st.filter);
  const folds = foldMap(model, st.collapsed);
  const anyFold = st.collapsed.size > 0;
  const hl = st.highlight;

  // ---- messages
  const lo = model.msgLowerBound(t0);
  const hi = model.msgLowerBound(t1 + 1e-9);
  const limit = opts.detailLimit ?? Math.max(50, width / 3);
  const { msgNs, msgConv, msgSrc, msgDst, msgFlags, msgChild } = model;
  // pass 1: count visible (cheap) to choose the level of detail
  const visibleMsg = (m: number): boolean => {
    const c = msgConv[m]!;
    if (!cmask[c]) {
      const ch = msgChild[m]!;
      if (!(ch >= 0 && cmask[ch])) return false;
    }
    return true;
  };
  let count = 0;
  for (let m = lo; m < hi; m++) if (visibleMsg(m)) count++;
  fr.visible = count;
  fr.detailed = count <= limit;
  if (!fr.detailed && opts.lod) {
    const lv = opts.lod.level(model, lay, st, span / width, cmask, folds);
    if (lv) {
      frameFromLevel(lv, lay, vp, fr);
      // the selected message stays visible as an arrow at any zoom
      const m = st.selected;
      if (m >= 0 && m < model.msgCount && model.msgNs[m]! >= t0 && model.msgNs[m]! <= t1) {
        const op = rowOfOps(model, lay);
        const rs = op[model.msgSrc[m]!]!;
        const rd = op[model.msgDst[m]!]!;
        if (rs >= 0 || rd >= 0) {
          const ya = lay.rows[rs >= 0 ? rs : rd]!.y;
          const yb = lay.rows[rd >= 0 ? rd : rs]!.y;
          fr.arrows.push(x0 + (model.msgNs[m]! - t0) * k, ya, yb, convHue(model.msgConv[m]!), m, model.msgFlags[m]! | AF.Selected);
        }
      }
      return fr;
    }
  }
  // per-pixel columns for the aggregated mode
  const W = Math.ceil(width);
  const colMin = fr.detailed ? undefined : new Float64Array(W).fill(Infinity);
  const colMax = fr.detailed ? undefined : new Float64Array(W).fill(-Infinity);
  const colN = fr.detailed ? undefined : new Uint32Array(W);
  const colHue = fr.detailed ? undefined : new Float64Array(W);
  const foldAcc = new Map<number, { x0: number; x1: number; yMin: number; yMax: number; n: number }>();
  for (let m = lo; m < hi; m++) {
    if (!visibleMsg(m)) continue;
    const s = msgSrc[m]!;
    const d = msgDst[m]!;
    const rs = opRow[s]!;
    const rd = opRow[d]!;
    const y1 = rs >= 0 ? rowYs[rs]! : NaN;
    const y2 = rd >= 0 ? rowYs[rd]! : NaN;
    if (y1 !== y1 && y2 !== y2) continue; // neither side shown
    const x = x0 + (msgNs[m]! - t0) * k;
    const c = msgConv[m]!;
    if (anyFold && folds[c]! >= 0) {
      const f = folds[c]!;
      let a = foldAcc.get(f);
      if (!a) foldAcc.set(f, (a = { x0: x, x1: x, yMin: Infinity, yMax: -Infinity, n: 0 }));
      a.x1 = x;
      a.n++;
      for (const y of [y1, y2]) if (y === y) {
        if (y < a.yMin) a.yMin = y;
        if (y > a.yMax) a.yMax = y;
      }
      continue;
    }
    const hue = convHue(c);
    if (fr.detailed) {
      let fl = msgFlags[m]!;
      if (m === st.selected) fl |= AF.Selected;
      if (hl && hl.has(m)) fl |= AF.Highlight;
      fr.arrows.push(x, y1 === y1 ? y1 : y2, y2 === y2 ? y2 : y1, hue, m, fl);
    } else {
      const px = Math.min(W - 1, Math.max(0, Math.floor(x - x0)));
      const ya = y1 === y1 ? y1 : y2;
      const yb = y2 === y2 ? y2 : y1;
      const mn = ya < yb ? ya : yb;
      const mx = ya < yb ? yb : ya;
      if (mn < colMin![px]!) colMin![px] = mn;
      if (mx > colMax![px]!) colMax![px] = mx;
      colN![px]!++;
      colHue![px] = hue;
    }
  }
  if (!fr.detailed) {
    for (let px = 0; px < W; px++) if (colN![px]) fr.columns.push(x0 + px + 0.5, colMin![px]!, colMax![px]!, colN![px]!, colHue![px]!);
  }
  for (const [conv, a] of foldAcc) fr.folds.push(a.x0, a.x1, a.yMin, a.yMax, conv, a.n, model.convs[conv]!.hue);

  // ---- ops: pending spans and how they ended
  const lastOp = model.opLowerBound(t1 + 1e-9);
  const now = model.lastNs;
  const rows = lay.rows.length;
  const runA = new Float64Array(rows).fill(NaN);
  const runB = new Float64Array(rows).fill(NaN);
  const runHue = new Float64Array(rows);
  const runOpen = new Uint8Array(rows);
  const flush = (r: number): void => {
    if (runA[r] === runA[r]) fr.spans.push(runA[r]!, runB[r]!, rowYs[r]!, runHue[r]!, runOpen[r]!);
    runA[r] = NaN;
  };
  const nBlocks = (lastOp + 1023) >> 10;
  const xMax = x0 + width;
  const { opEndNs, opConv, opNs, opMsg, opEnd, opCancelNs } = model;
  const mNs = model.msgNs;
  // one mark per (row, pixel column, kind) at most
  const markSeen = new Uint8Array(rows * (W + 1));
  const mark = (px: number, r: number, kind: number, op: number): void => {
    const col = Math.min(W, Math.max(0, Math.floor(px - x0)));
    const key = r * (W + 1) + col;
    const bit = 1 << kind;
    if (markSeen[key]! & bit) return;
    markSeen[key] = markSeen[key]! | bit;
    fr.marks.push(px, rowYs[r]!, kind, op);
  };
  for (let b = 0; b < nBlocks; b++) {
    if (model.blockEnd(b) < t0) continue;
    const end = Math.min(lastOp, (b + 1) << 10);
    for (let i = b << 10; i < end; i++) {
      const eNs = opEndNs[i]!;
      const pending = eNs !== eNs;
      const stop = pending ? now : eNs;
      if (stop < t0) continue;
      const c = opConv[i]!;
      if (!cmask[c]) continue;
      if (anyFold && folds[c]! >= 0) continue;
      const r = opRow[i]!;
      if (r < 0) continue;
      const sx = x0 + (opNs[i]! - t0) * k;
      const xa = sx > x0 ? sx : x0;
      const ex = x0 + (stop - t0) * k;
      const xb = ex < xMax ? ex : xMax;
      // the span until matched (the waiting part) — after the match the op is in flight only briefly
      const mi = opMsg[i]!;
      let waitEnd = xb;
      if (mi >= 0) {
        const mx = x0 + (mNs[mi]! - t0) * k;
        if (mx < waitEnd) waitEnd = mx;
      }
      const open = pending && mi < 0;
      if (runA[r] === runA[r] && xa <= runB[r]! + 1) {
        if (waitEnd > runB[r]!) runB[r] = waitEnd;
        if (open) runOpen[r] = 1;
      } else {
        flush(r);
        runA[r] = xa;
        runB[r] = waitEnd > xa + 1 ? waitEnd : xa + 1;
        runHue[r] = convHue(c);
        runOpen[r] = open ? 1 : 0;
      }
      const kind = opEnd[i]!;
      if (kind === OpEnd.Cancelled || kind === OpEnd.EndOfLane || kind === OpEnd.Error) {
        const cn = opCancelNs[i]!;
        const at = kind === OpEnd.Cancelled && cn === cn ? cn : eNs;
        if (at >= t0 && at <= t1) mark(x0 + (at - t0) * k, r, kind, i);
      } else if (open && now <= t1) {
        mark(x0 + (now - t0) * k, r, OpEnd.Pending, i);
      }
    }
  }
  for (let r = 0; r < rows; r++) flush(r);
  return fr;
}

/**
 * The message under (x, y): the nearest arrow within `tol` pixels horizontally whose vertical
 * extent covers y (± tol). Works at any zoom (binary search, then a short scan).
 */
export function hitTest(model: IpcModel, lay: Layout, st: ViewState, vp: Viewport, x: number, y: number, tol = 5): number {
  const k = vp.width / (vp.t1 - vp.t0);
  const tA = vp.t0 + (x - tol - vp.x0) / k;
  const tB = vp.t0 + (x + tol - vp.x0) / k;
  const cmask = convMask(model, st.filter);
  const folds = foldMap(model, st.collapsed);
  let best = -1;
  let bestD = Infinity;
  const rowY = (pid: number, tid: number): number => {
    const r = lay.rowOfTid.get(tid) ?? lay.rowOfPid.get(pid);
    return r === undefined ? NaN : lay.rows[r]!.y;
  };
  for (let m = model.msgLowerBound(tA), n = 0; m < model.msgCount && model.msgNs[m]! <= tB && n < 100000; m++, n++) {
    const c = model.msgConv[m]!;
    const ch = model.msgChild[m]!;
    if (!cmask[c] && !(ch >= 0 && cmask[ch])) continue;
    if (folds[c]! >= 0) continue;
    const s = model.msgSrc[m]!;
    const d = model.msgDst[m]!;
    let y1 = rowY(model.opPid[s]!, model.opTid[s]!);
    let y2 = rowY(model.opPid[d]!, model.opTid[d]!);
    if (y1 !== y1) y1 = y2;
    if (y2 !== y2) y2 = y1;
    if (y1 !== y1) continue;
    if (y < Math.min(y1, y2) - tol || y > Math.max(y1, y2) + tol) continue;
    const dx = Math.abs(vp.x0 + (model.msgNs[m]! - vp.t0) * k - x);
    if (dx < bestD) {
      bestD = dx;
      best = m;
    }
  }
  return best;
}

/** Is message m shown under the filter (for stepping that skips hidden ones)? */
export function messageVisible(model: IpcModel, lay: Layout, st: ViewState, m: number): boolean {
  const cm = convMask(model, st.filter);
  const c = model.msgConv[m]!;
  const ch = model.msgChild[m]!;
  if (!cm[c] && !(ch >= 0 && cm[ch])) return false;
  return lay.rowOfPid.has(model.opPid[model.msgSrc[m]!]!) || lay.rowOfPid.has(model.opPid[model.msgDst[m]!]!);
}

export { MsgFlag };
