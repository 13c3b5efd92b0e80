/*
 * time.ts — the time window every timeline view draws: a Viewport (ns range [t0, t1] mapped onto
 * `width` pixels starting at x0), the conversions, zoom around a pixel, pan by pixels, fit, and
 * the ns formatting of axis labels and status lines. Pure: no DOM.
 */

export interface Viewport {
  t0: number;
  t1: number;
  width: number;
  /** x of t0 (room for row labels) */
  x0: number;
}

/** ns per pixel of a viewport */
export function nsPerPx(vp: Viewport): number {
  return (vp.t1 - vp.t0) / vp.width;
}

export function nsToX(vp: Viewport, ns: number): number {
  return vp.x0 + ((ns - vp.t0) / (vp.t1 - vp.t0)) * vp.width;
}

export function xToNs(vp: Viewport, x: number): number {
  return vp.t0 + ((x - vp.x0) / vp.width) * (vp.t1 - vp.t0);
}

/**
 * Zoom by `factor` (> 1: in) keeping the time under pixel `px` (relative to x0) where it is.
 * Refuses (returns vp) to go below `minSpanNs`.
 */
export function zoomAround(vp: Viewport, px: number, factor: number, minSpanNs = 50): Viewport {
  const span = vp.t1 - vp.t0;
  const at = vp.t0 + px * (span / vp.width);
  const ns = span / factor;
  if (!(ns > minSpanNs)) return vp;
  return { ...vp, t0: at - (px / vp.width) * ns, t1: at + (1 - px / vp.width) * ns };
}

/** Pan by dx pixels (positive: the content moves right, earlier times come into view). */
export function panBy(vp: Viewport, dx: number): Viewport {
  const d = dx * nsPerPx(vp);
  return { ...vp, t0: vp.t0 - d, t1: vp.t1 - d };
}

/** The window showing [first, last] with 2% (at least `minPadNs`) room either side; vp if empty. */
export function fitRange(vp: Viewport, first: number, last: number, minPadNs = 1000): Viewport {
  if (!(first === first) || !(last === last)) return vp;
  const pad = Math.max(minPadNs, (last - first) * 0.02);
  return { ...vp, t0: first - pad, t1: last + pad };
}

/** A window of the same width ending at `now` (follow mode). */
export function followTo(vp: Viewport, now: number, marginFrac = 0.05): Viewport {
  const span = vp.t1 - vp.t0;
  return { ...vp, t1: now + span * marginFrac, t0: now + span * marginFrac - span };
}

export function fmtNs(ns: number): string {
  if (ns !== ns) return '–';
  const a = Math.abs(ns);
  if (a < 1e3) return `${ns.toFixed(0)} ns`;
  if (a < 1e6) return `${+(ns / 1e3).toFixed(2)} µs`;
  if (a < 1e9) return `${+(ns / 1e6).toFixed(3)} ms`;
  return `${+(ns / 1e9).toFixed(4)} s`;
}
