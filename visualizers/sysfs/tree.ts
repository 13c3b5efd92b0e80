/*
 * tree.ts — what the sysfs view's tree shows at a time t: the expanded directories' children
 * flattened into rows (lazily: a collapsed directory costs nothing, whatever is below it), plus
 * "ghost" rows for entries that just vanished (kept a moment so they can animate out), and the
 * sparkline's geometry for a value's history. Pure (no DOM): view.ts draws the rows.
 */
import type { SysfsModel } from './model.js';

export interface Row {
  entry: number;
  depth: number;
  /** vanished, shown only while it animates out */
  ghost: boolean;
}

/**
 * Rows under `top` (itself first) at t: a directory's children only when it is in `expanded`.
 * `ghosts` are entries that no longer exist at t but are drawn while they fade.
 */
export function flatten(model: SysfsModel, top: number, expanded: ReadonlySet<number>, t: number, ghosts: ReadonlySet<number> = new Set()): Row[] {
  const rows: Row[] = [];
  const walk = (d: number, depth: number) => {
    for (const c of model.allChildren(d)) {
      const here = model.exists(c, t);
      if (!here && !ghosts.has(c)) continue;
      rows.push({ entry: c, depth, ghost: !here });
      if (here && expanded.has(c) && model.entries[c]!.kind === 'dir') walk(c, depth + 1);
    }
  };
  if (model.exists(top, t) || top === model.root) {
    rows.push({ entry: top, depth: 0, ghost: false });
    if (expanded.has(top)) walk(top, 1);
  }
  return rows;
}

/** The ancestors of e (root first, e excluded). */
export function ancestors(model: SysfsModel, e: number): number[] {
  const out: number[] = [];
  for (let x = model.entries[e]?.parent ?? -1; x >= 0; x = model.entries[x]!.parent) out.unshift(x);
  return out;
}

export interface Spark {
  /** polyline points (x, y) in pixels, a step line */
  points: number[];
  min: number;
  max: number;
  /** the cursor's x (NaN: outside) */
  cursorX: number;
  /** numeric samples drawn */
  samples: number;
}

/** A step-line sparkline of e's numeric history over [t0, t1] into w×h pixels. */
export function sparkline(model: SysfsModel, e: number, t0: number, t1: number, w: number, h: number, cursor: number): Spark {
  const hist = model.history(e, t0, t1);
  const pts: number[] = [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of hist.value) {
    if (v !== v) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = t1 - t0 || 1;
  const x = (ns: number) => Math.max(0, Math.min(w, ((ns - t0) / span) * w));
  const range = max - min || 1;
  const y = (v: number) => h - 2 - ((v - min) / range) * (h - 4);
  let samples = 0;
  let lastY = NaN;
  for (let i = 0; i < hist.ns.length; i++) {
    const v = hist.value[i]!;
    const px = x(hist.ns[i]!);
    if (v !== v) {
      lastY = NaN;
      continue;
    }
    samples++;
    const py = y(v);
    if (lastY === lastY) pts.push(px, lastY);
    pts.push(px, py);
    lastY = py;
  }
  // the last value holds until the end of the window (while it still exists)
  if (lastY === lastY && model.exists(e, t1)) pts.push(w, lastY);
  const cx = cursor >= t0 && cursor <= t1 ? x(cursor) : NaN;
  return { points: pts, min: samples ? min : NaN, max: samples ? max : NaN, cursorX: cx, samples };
}
