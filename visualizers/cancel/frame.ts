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
import { nsToX, xToNs, type Viewport } from '../common/time.js';
import type { CancelModel, ChainLink, Outcome } from './model.js';
import type { ChainCache } from './list.js';

export const OUTCOME_CODE: Record<Outcome, number> = { completed: 0, eintr: 1, partial: 2, restarted: 3, killed: 4, raced: 5, open: 6, lost: 7 };
/** Which outcome a merged pixel shows: the most notable one. */
const NOTABLE = [0, 5, 4, 5, 6, 3, 1, 2];

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
    // spans do not overlap on a thread: start at the last call beginning before the window
    let i = Math.max(0, lowerBoundBegin(model, calls, vp.t0) - 1);
    let merged: Box | undefined;
    let guard = 0;
    while (i < calls.length && guard++ < 4 * vp.width + 64) {
      const c = model.calls[calls[i]!]!;
      if (c.begin > vp.t1) break;
      const end = c.end === c.end ? c.end : now;
      if (end < vp.t0) {
        i++;
        continue;
      }
      const x0 = Math.max(xMin, nsToX(vp, c.begin));
      const x1 = Math.min(xMax, nsToX(vp, Math.max(end, c.begin)));
      const oc = OUTCOME_CODE[c.outcome];
      if (x1 - x0 < 1) {
        const px = Math.floor(x0);
        if (merged && merged.x0 === px) {
          merged.n++;
          if (NOTABLE[oc]! > NOTABLE[merged.outcome]!) merged.outcome = oc;
          if (merged.call >= 0 && merged.n > 1) merged.call = -1;
        } else {
          merged = { row: ri, x0: px, x1: px + 1, call: calls[i]!, outcome: oc, n: 1 };
          fr.boxes.push(merged);
        }
        fr.visible++;
        // jump past this pixel: the next call that begins in a later pixel
        const next = lowerBoundBegin(model, calls, xToNs(vp, px + 1));
        i = Math.max(i + 1, next - 1 > i ? next - 1 : i + 1);
        continue;
      }
      merged = undefined;
      fr.boxes.push({ row: ri, x0, x1, call: calls[i]!, outcome: oc, n: 1 });
      fr.visible++;
      if (x1 - x0 >= 6) {
        c.requests.forEach((q, k) => {
          const qe = q.endNs === q.endNs ? q.endNs : end;
          const a = Math.max(x0, nsToX(vp, q.ns));
          const b = Math.min(x1, nsToX(vp, qe));
          if (b >= a) fr.reqs.push({ row: ri, x0: a, x1: Math.max(a + 1, b), call: calls[i]!, req: k });
        });
      }
      i++;
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
  void nspx;
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
