/*
 * render.ts — paints a SchedView (model.ts: buildView) on a 2D canvas context: one track per CPU
 * with the run slices (coloured by process, labelled when wide, dimmed outside thread mode's
 * thread), idle gaps left empty, the CPU's load as a line over the track against the ideal load
 * (dashed), migration arrows between tracks at the moment of the move, coloured by reason, the
 * time axis and the shared time cursor — both visualizers/common's (axis.ts), as in the IPC view,
 * on the same Viewport (common/time.ts: x0 = the gutter). Only canvas calls: tests can hand it a
 * recording context.
 */
import { paintTimeAxis, paintTimeCursor } from '../common/axis.js';
import type { Viewport } from '../common/time.js';
import type { MigrateReason, SchedView } from './model.js';

export interface SchedTheme {
  bg: string;
  fg: string;
  dim: string;
  grid: string;
  load: string;
  ideal: string;
  /** the shared time cursor */
  cursor: string;
  light: boolean;
}

export const SCHED_THEMES: Record<'dark' | 'light', SchedTheme> = {
  dark: { bg: '#1e1e1e', fg: '#d4d4d4', dim: '#808080', grid: '#333', load: '#ffd166', ideal: '#ef476f', cursor: '#f5f5f5', light: false },
  light: { bg: '#ffffff', fg: '#1e1e1e', dim: '#777', grid: '#ddd', load: '#b8860b', ideal: '#c2185b', cursor: '#111', light: true },
};

export const REASON_COLORS: Record<MigrateReason, string> = {
  balance: '#4d9de0',
  steal: '#3bb273',
  affinity: '#e15554',
  placement: '#a06cd5',
  wake: '#f4a259',
};

/** A process's colour: golden-angle hues, so neighbouring pids differ. */
export function pidColor(pid: number, light: boolean, alpha = 1): string {
  const hue = (pid * 137.508) % 360;
  return `hsla(${hue.toFixed(1)}, 55%, ${light ? 62 : 42}%, ${alpha})`;
}

export interface SchedLayout {
  /** left gutter for the CPU labels (the Viewport's x0) */
  gutter: number;
  /** y of the first track: above it the time axis' labels (common/axis.ts) */
  top: number;
  rowHeight: number;
}

/** Height of the time axis' label band at the top (as in the IPC view). */
export const AXIS_H = 18;

export function schedLayout(ncpus: number, height: number): SchedLayout {
  const top = AXIS_H + 4;
  const rowHeight = Math.max(18, Math.min(90, Math.floor((height - top - 4) / Math.max(1, ncpus))));
  return { gutter: 64, top, rowHeight };
}

export function fmtTime(ns: number): string {
  const a = Math.abs(ns);
  if (a >= 1e9) return `${(ns / 1e9).toFixed(a >= 1e10 ? 1 : 3)} s`;
  if (a >= 1e6) return `${(ns / 1e6).toFixed(a >= 1e7 ? 1 : 2)} ms`;
  if (a >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

export interface PaintInput {
  view: SchedView;
  layout: SchedLayout;
  /** the time window (x0 = layout.gutter, width = the time area) */
  vp: Viewport;
  height: number;
  selected: number;
  hover: number;
  loads: { cpu: number; now: number }[];
  /** the shared time cursor (ns), or null */
  cursor: number | null;
}

export function paintSched(ctx: CanvasRenderingContext2D, p: PaintInput, th: SchedTheme): void {
  const { view, layout: L } = p;
  const width = p.vp.width;
  ctx.fillStyle = th.bg;
  ctx.fillRect(0, 0, L.gutter + width, p.height);
  // time axis: the IPC view's (ticks and labels at the top, grid lines down through the tracks)
  ctx.font = '11px "DejaVu Sans", sans-serif';
  paintTimeAxis(ctx, p.vp, th, p.height, AXIS_H);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const rowY = (cpu: number) => L.top + cpu * L.rowHeight;
  for (const row of view.rows) {
    const y = rowY(row.cpu);
    const h = L.rowHeight - 3;
    // label + load now
    ctx.fillStyle = th.fg;
    ctx.fillText(`cpu${row.cpu}`, 4, y + h / 2 - 6);
    const ln = p.loads.find((l) => l.cpu === row.cpu);
    if (ln) {
      ctx.fillStyle = th.dim;
      ctx.fillText(`load ${ln.now}`, 4, y + h / 2 + 7);
    }
    ctx.strokeStyle = th.grid;
    ctx.strokeRect(L.gutter + 0.5, y + 0.5, width - 1, h);
    // slices
    for (const s of row.slices) {
      const x = L.gutter + s.x0;
      const w = Math.max(1, s.x1 - s.x0);
      ctx.fillStyle = s.tid < 0 ? th.dim : pidColor(s.pid, th.light, s.dim ? 0.25 : 0.9);
      ctx.fillRect(x, y + 2, w > 3 ? w - 1 : w, h - 4);     /* a 1 px gap between neighbouring slices */
      if (s.label && !s.dim) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(x, y, w, h);
        ctx.clip();
        ctx.fillStyle = th.light ? '#000' : '#fff';
        ctx.fillText(s.label, x + 3, y + h / 2);
        ctx.restore();
      }
    }
    // load line (0 at the bottom of the track, maxLoad at the top)
    const ly = (v: number) => y + h - 2 - (v / view.maxLoad) * (h - 4);
    if (row.load.length) {
      ctx.strokeStyle = th.load;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      row.load.forEach((pt, i) => (i ? ctx.lineTo(L.gutter + pt.x, ly(pt.v)) : ctx.moveTo(L.gutter + pt.x, ly(pt.v))));
      ctx.stroke();
    }
    if (view.ideal.length) {
      ctx.strokeStyle = th.ideal;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      view.ideal.forEach((pt, i) => (i ? ctx.lineTo(L.gutter + pt.x, ly(pt.v)) : ctx.moveTo(L.gutter + pt.x, ly(pt.v))));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.lineWidth = 1;
  }
  // migration arrows
  for (const a of view.arrows) {
    const x = L.gutter + a.x;
    const y0 = rowY(a.from) + L.rowHeight / 2;
    const y1 = rowY(a.to) + L.rowHeight / 2;
    const strong = a.index === p.selected || a.index === p.hover;
    ctx.strokeStyle = REASON_COLORS[a.reason];
    ctx.fillStyle = REASON_COLORS[a.reason];
    ctx.globalAlpha = a.dim ? 0.25 : 1;
    ctx.lineWidth = strong ? 3 : 1.5;
    ctx.beginPath();
    ctx.moveTo(x, y0);
    ctx.lineTo(x, y1);
    ctx.stroke();
    const dir = y1 > y0 ? 1 : -1;
    ctx.beginPath();
    ctx.moveTo(x, y1);
    ctx.lineTo(x - 4, y1 - dir * 7);
    ctx.lineTo(x + 4, y1 - dir * 7);
    ctx.closePath();
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  ctx.lineWidth = 1;
  paintTimeCursor(ctx, p.vp, p.cursor, th, p.height, AXIS_H);
}
