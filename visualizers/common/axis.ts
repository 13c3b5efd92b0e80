/*
 * axis.ts — the time axis of a canvas timeline: d3 scale ticks (about one per 110 px) as grid
 * lines from `top` down, labelled with fmtNs above them.
 */
import { scaleLinear } from 'd3';
import { fmtNs, type Viewport } from './time.js';

export interface AxisTheme {
  dim: string;
  grid: string;
}

/** Paints tick lines and labels; returns the tick times. */
export function paintTimeAxis(ctx: CanvasRenderingContext2D, vp: Viewport, th: AxisTheme, cssH: number, top = 18): number[] {
  const { x0, width, t0, t1 } = vp;
  const x = scaleLinear().domain([t0, t1]).range([x0, x0 + width]);
  ctx.fillStyle = th.dim;
  ctx.strokeStyle = th.grid;
  ctx.lineWidth = 1;
  ctx.textAlign = 'center';
  const ticks = x.ticks(Math.max(2, Math.floor(width / 110)));
  for (const t of ticks) {
    const px = Math.round(x(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, cssH);
    ctx.stroke();
    ctx.fillText(fmtNs(t), px, top / 2);
  }
  return ticks;
}

export interface CursorTheme {
  cursor: string;
}

/** The shared time cursor (the trace store's, set by any view): a vertical line at `ns` from `top`
 * to cssH with its time on a tag at the top. Nothing when ns is null or outside the window;
 * returns the x it was drawn at (or NaN). */
export function paintTimeCursor(ctx: CanvasRenderingContext2D, vp: Viewport, ns: number | null, th: CursorTheme, cssH: number, top = 18): number {
  if (ns === null || !(ns >= vp.t0 && ns <= vp.t1)) return NaN;
  const x = Math.round(vp.x0 + ((ns - vp.t0) / (vp.t1 - vp.t0)) * vp.width) + 0.5;
  ctx.save();
  ctx.strokeStyle = th.cursor;
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 2]);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, cssH);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = th.cursor;
  ctx.beginPath();
  ctx.moveTo(x - 4, top - 5);
  ctx.lineTo(x + 4, top - 5);
  ctx.lineTo(x, top);
  ctx.closePath();
  ctx.fill();
  ctx.restore();
  return x;
}
