/*
 * frame.ts — what the cancellation view draws for a time window, computed without a DOM:
 *   rows      one per thread that made syscalls (calls, their requests, its signal handlers
 *             nested by depth), then one per process that only appears in chains (the sender
 *             of a signal, a server that stopped work) — so every chain link has a row;
 *   boxes     the visible syscall spans of each row (binary search to the window; spans thinner
 *             than a pixel merge into one box per pixel, coloured by its most notable outcome,
 *             and the walk jumps past the pixel: a frame is O(rows · width · log n));
 *   requests  the server requests inside a call wide enough to show them;
 *   handlers  signal handler spans (depth = nesting);
 *   chain     the selected call's links as points (x at the link's time, y at its row).
 * hitCall / hitLink turn a click into a call or a link.
 */
import { LevelCache, binsFor, lodLevel } from '../common/lod.js';
import { nsToX, xToNs, type Viewport } from '../common/time.js';
import type { CancelModel, ChainLink, Outcome } from './model.js';
import type { ChainCache } from './list.js';

export const OUTCOME_CODE: Record<Outcome, number> = { completed: 0, eintr: 1, partial: 2, restarted: 3, killed: 4, raced: 5, open: 6, lost: 7 };
/** Which outcome a merged pixel shows: the most notable one. */
const NOTABLE = [0, 6, 4, 5, 7, 3, 1, 2];

export interface Row {
  kind: 'thread' | 'process';
  tid: number;
  pid: number;
  label: string;
  y: number;
  h: number;
  depth: number;
}

export interface Box {
  row: number;
  x0: number;
  x1: number;
  /** call index, or -1 for a merged pixel */
  call: number;
  outcome: number;
  /** calls merged into it */
  n: number;
}

export interface ReqBox {
  row: number;
  x0: number;
  x1: number;
  call: number;
  req: number;
  /** 0 the caller's own request, 1 a server's on its behalf (posix → fs), … */
  depth: number;
}

export interface HandlerBox {
  row: number;
  x0: number;
  x1: number;
  depth: number;
  signo: number;
  open: boolean;
}

export interface ChainPoint {
  x: number;
  y: number;
  link: ChainLink;
}

export interface Frame {
  boxes: Box[];
  reqs: ReqBox[];
  handlers: HandlerBox[];
  chain: ChainPoint[];
  /** calls drawn (merged ones counted) */
  visible: number;
}

export const AXIS_H = 22;
/** the most bins a lane's level of detail may have (bytes per lane and level) */
const MAX_LOD_BINS = 1 << 22;
export const ROW_H = 30;
export const HANDLER_H = 6;
export const PROC_ROW_H = 22;

/** Rows from the top: threads with syscalls (by process, thread), then processes seen only in chains. */
export function layoutRows(model: CancelModel): Row[] {
  const rows: Row[] = [];
  let y = AXIS_H;
  const withLane = new Set<number>();
  for (const l of model.lanes()) {
    const h = ROW_H + HANDLER_H * l.maxDepth;
    rows.push({ kind: 'thread', tid: l.tid, pid: l.pid, label: `${model.processName(l.pid)} [${l.tid}]`, y, h, depth: l.maxDepth });
    withLane.add(l.pid);
    y += h;
  }
  for (const pid of [...model.actors].sort((a, b) => a - b)) {
    if (withLane.has(pid)) continue;
    rows.push({ kind: 'process', tid: 0, pid, label: `${model.processName(pid)} (pid ${pid})`, y, h: PROC_ROW_H, depth: 0 });
    y += PROC_ROW_H;
  }
  return rows;
}

function lowerBoundBegin(model: CancelModel, calls: number[], t: number): number {
  let lo = 0;
  let hi = calls.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (model.calls[calls[m]!]!.begin < t) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** A lane's calls as columns (begin, end, outcome code), rebuilt when the model changes: the
 * frame's binary searches and walks read typed arrays instead of chasing call objects. */
interface LaneCols {
  version: number;
  begin: Float64Array;
  end: Float64Array;
  oc: Uint8Array;
}
const colsCache = new WeakMap<object, LaneCols>();
function laneCols(model: CancelModel, lane: object, calls: number[]): LaneCols {
  let c = colsCache.get(lane);
  if (c && c.version === model.version && c.begin.length === calls.length) return c;
  const n = calls.length;
  c = { version: model.version, begin: new Float64Array(n), end: new Float64Array(n), oc: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const x = model.calls[calls[i]!]!;
    c.begin[i] = x.begin;
    c.end[i] = x.end;
    c.oc[i] = OUTCOME_CODE[x.outcome];
  }
  colsCache.set(lane, c);
  return c;
}
/** One level of detail of a lane: per bin of 2^level ns, the most notable outcome of the calls
 * overlapping it (RANKED: NOTABLE rank + 1; 0 = no call), and how many begin in it. */
interface LaneLevel {
  origin: number;
  binNs: number;
  rank: Uint8Array;
}
const RANK_TO_OC: number[] = [];
NOTABLE.forEach((r, oc) => (RANK_TO_OC[r] = oc));
const lodCaches = new WeakMap<object, LevelCache<LaneLevel>>();
function laneLevel(model: CancelModel, lane: object, cols: LaneCols, level: number, binNs: number): LaneLevel {
  let lc = lodCaches.get(lane);
  if (!lc) lodCaches.set(lane, (lc = new LevelCache<LaneLevel>(6)));
  return lc.get(`${model.version}:${cols.begin.length}`, level, () => {
    const { origin, nBins } = binsFor(model.t0, model.t1, binNs);
    const rank = new Uint8Array(nBins);
    const inv = 1 / binNs;
    const now = model.t1;
    for (let i = 0; i < cols.begin.length; i++) {
      const e = cols.end[i]!;
      const b0 = Math.max(0, Math.floor((cols.begin[i]! - origin) * inv));
      const b1 = Math.min(nBins - 1, Math.floor(((e === e ? e : now) - origin) * inv));
      const r = NOTABLE[cols.oc[i]!]! + 1;
      for (let b = b0; b <= b1; b++) if (rank[b]! < r) rank[b] = r;
    }
    return { origin, binNs, rank };
  });
}

function lowerBound(a: Float64Array, t: number, lo = 0): number {
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < t) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export function computeFrame(model: CancelModel, rows: Row[], vp: Viewport, cache: ChainCache | undefined, selected: number): Frame {
  const fr: Frame = { boxes: [], reqs: [], handlers: [], chain: [], visible: 0 };
  const now = model.t1;
  const nspx = (vp.t1 - vp.t0) / Math.max(1, vp.width);
  const xMin = vp.x0;
  const xMax = vp.x0 + vp.width;
  rows.forEach((r, ri) => {
    if (r.kind !== 'thread') return;
    const lane = model.threads.get(r.tid);
    if (!lane) return;
    const calls = model.laneCalls(lane);
    const cols = laneCols(model, lane, calls);
    // more calls in the window than pixels: a level of detail (per pixel, the most notable
    // outcome of the calls there; runs of one outcome are one box), O(width) wherever it is panned
    const first = lowerBound(cols.begin, vp.t0);
    const inWindow = lowerBound(cols.begin, vp.t1, first) - first;
    const { level, binNs } = lodLevel(nspx);
    // (a level covers the whole lane: only when its bins stay few, i.e. zoomed out enough)
    if (inWindow > vp.width / 2 && (model.t1 - model.t0) / binNs <= MAX_LOD_BINS) {
      const lv = laneLevel(model, lane, cols, level, binNs);
      let run: Box | undefined;
      const x1 = Math.ceil(xMax);
      for (let px = Math.floor(xMin); px < x1; px++) {
        const a = Math.floor((xToNs(vp, px) - lv.origin) / binNs);
        const b = Math.floor((xToNs(vp, px + 1) - lv.origin) / binNs);
        let r = 0;
        for (let k = Math.max(0, a); k <= Math.min(lv.rank.length - 1, b); k++) if (lv.rank[k]! > r) r = lv.rank[k]!;
        if (!r) {
          run = undefined;
          continue;
        }
        const oc = RANK_TO_OC[r - 1]!;
        if (run && run.x1 === px && run.outcome === oc) {
          run.x1 = px + 1;
          run.n++;
        } else {
          run = { row: ri, x0: px, x1: px + 1, call: -1, outcome: oc, n: 1 };
          fr.boxes.push(run);
        }
      }
      fr.visible += inWindow;
    } else {
    // spans do not overlap on a thread: start at the last call beginning before the window
    let i = Math.max(0, first - 1);
    let merged: Box | undefined;
    let guard = 0;
    while (i < calls.length && guard++ < 4 * vp.width + 64) {
      const cb = cols.begin[i]!;
      if (cb > vp.t1) break;
      const ce = cols.end[i]!;
      const end = ce === ce ? ce : now;
      if (end < vp.t0) {
        i++;
        continue;
      }
      const x0 = Math.max(xMin, nsToX(vp, cb));
      const x1 = Math.min(xMax, nsToX(vp, Math.max(end, cb)));
      const oc = cols.oc[i]!;
      if (x1 - x0 < 1) {
        const px = Math.floor(x0);
        if (merged && merged.x1 - 1 === px) {
          // the same pixel: the most notable outcome shows
          merged.n++;
          if (NOTABLE[oc]! > NOTABLE[merged.outcome]!) {
            // a run of earlier pixels keeps its colour: split the run at this pixel
            if (merged.x1 - merged.x0 > 1) {
              merged.x1 = px;
              merged = { row: ri, x0: px, x1: px + 1, call: -1, outcome: oc, n: 1 };
              fr.boxes.push(merged);
            } else merged.outcome = oc;
          }
          if (merged.call >= 0 && merged.n > 1) merged.call = -1;
        } else if (merged && merged.x1 === px && merged.outcome === oc) {
          // the next pixel, same outcome: one run (one fillRect instead of one per pixel)
          merged.x1 = px + 1;
          merged.n++;
          merged.call = -1;
        } else {
          merged = { row: ri, x0: px, x1: px + 1, call: calls[i]!, outcome: oc, n: 1 };
          fr.boxes.push(merged);
        }
        fr.visible++;
        // jump past this pixel: the next call that begins in a later pixel
        const next = lowerBound(cols.begin, xToNs(vp, px + 1), i + 1);
        i = next - 1 > i ? next - 1 : i + 1;
        continue;
      }
      const c = model.calls[calls[i]!]!;
      merged = undefined;
      fr.boxes.push({ row: ri, x0, x1, call: calls[i]!, outcome: oc, n: 1 });
      fr.visible++;
      if (x1 - x0 >= 6) {
        c.requests.forEach((q, k) => {
          const qe = q.endNs === q.endNs ? q.endNs : end;
          const a = Math.max(x0, nsToX(vp, q.ns));
          const b = Math.min(x1, nsToX(vp, qe));
          if (b >= a) fr.reqs.push({ row: ri, x0: a, x1: Math.max(a + 1, b), call: calls[i]!, req: k, depth: q.depth });
        });
      }
      i++;
    }
    }
    // handlers: few per thread; bounded by what is in the window
    let hn = 0;
    for (const h of lane.handlers) {
      const e = h.ret === h.ret ? h.ret : now;
      if (e < vp.t0 || h.enter > vp.t1) continue;
      if (hn++ > 4 * vp.width) break;
      const a = Math.max(xMin, nsToX(vp, h.enter));
      fr.handlers.push({ row: ri, x0: a, x1: Math.max(a + 1, Math.min(xMax, nsToX(vp, e))), depth: h.depth, signo: h.signo, open: !(h.ret === h.ret) });
    }
  });
  if (cache && selected >= 0) fr.chain = chainPoints(model, cache, rows, vp, selected);
  return fr;
}

/** The row a link is drawn on: its thread, else its process's first row, else the call's thread. */
export function rowOfLink(model: CancelModel, rows: Row[], link: ChainLink, callTid: number): number {
  if (link.tid) {
    const r = rows.findIndex((x) => x.kind === 'thread' && x.tid === link.tid);
    if (r >= 0) return r;
  }
  if (link.pid) {
    const r = rows.findIndex((x) => x.pid === link.pid);
    if (r >= 0) return r;
  }
  return rows.findIndex((x) => x.kind === 'thread' && x.tid === callTid);
}

export function chainPoints(model: CancelModel, cache: ChainCache, rows: Row[], vp: Viewport, call: number): ChainPoint[] {
  const c = model.calls[call];
  if (!c) return [];
  return cache.chain(call).links.map((link) => {
    const r = rows[rowOfLink(model, rows, link, c.tid)];
    return { x: nsToX(vp, link.ns), y: r ? r.y + Math.min(r.h, ROW_H) / 2 : AXIS_H, link };
  });
}

/** The call under (x, y): the box hit (a merged pixel: the call nearest in time). */
export function hitCall(model: CancelModel, rows: Row[], fr: Frame, vp: Viewport, x: number, y: number): number {
  const ri = rows.findIndex((r) => y >= r.y && y < r.y + r.h);
  if (ri < 0) return -1;
  for (const b of fr.boxes) {
    if (b.row !== ri || x < b.x0 - 2 || x > b.x1 + 2) continue;
    if (b.call >= 0) return b.call;
    const lane = model.threads.get(rows[ri]!.tid);
    if (!lane) return -1;
    const calls = model.laneCalls(lane);
    const t = xToNs(vp, x);
    const k = Math.max(0, lowerBoundBegin(model, calls, t) - 1);
    return calls[k] ?? -1;
  }
  return -1;
}

/** The chain link under (x, y) within 6 px, -1 if none. */
export function hitLink(fr: Frame, x: number, y: number): number {
  let best = -1;
  let bd = 36;
  fr.chain.forEach((p, i) => {
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d <= bd) {
      bd = d;
      best = i;
    }
  });
  return best;
}
