/*
 * render.ts — paints a Frame on a 2D canvas. Nothing here decides what is visible (frame.ts
 * does); this only turns buffers into pixels: time axis (d3 scale ticks), lifelines, pending
 * spans, arrows or level-of-detail columns, folded conversations, end marks.
 */
import { paintTimeAxis, paintTimeCursor } from '../common/axis.js';
import { nsToX } from '../common/time.js';
import { ARROW, AF, COLUMN, FOLD, MARK, SPAN, type Frame, type Layout, type Viewport } from './frame.js';
import { MsgFlag, OpEnd, type IpcModel } from './model.js';

export interface Theme {
  bg: string;
  rowAlt: string;
  fg: string;
  dim: string;
  grid: string;
  error: string;
  cancel: string;
  eol: string;
  select: string;
  highlight: string;
  light: boolean;
}

export const THEMES: Record<'dark' | 'light', Theme> = {
  dark: { bg: '#1b1d23', rowAlt: '#20232a', fg: '#d7dae0', dim: '#7f8694', grid: '#2c313a', error: '#ff5c57', cancel: '#f0a030', eol: '#c678dd', select: '#ffffff', highlight: '#ffe14d', light: false },
  light: { bg: '#fbfbfb', rowAlt: '#f0f2f5', fg: '#24292f', dim: '#6e7781', grid: '#d8dee4', error: '#cf222e', cancel: '#bc4c00', eol: '#8250df', select: '#000000', highlight: '#d4a72c', light: true },
};

export function hueColor(hue: number, light: boolean, alpha = 1): string {
  return `hsla(${hue.toFixed(0)}, ${light ? 65 : 70}%, ${light ? 40 : 62}%, ${alpha})`;
}

export interface PaintOptions {
  labels: boolean;
  nowNs: number;
  /** the shared time cursor (ns; the trace store's, set by any view), or null */
  cursorNs?: number | null;
}

export function paint(ctx: CanvasRenderingContext2D, model: IpcModel, lay: Layout, vp: Viewport, fr: Frame, th: Theme, cssW: number, cssH: number, opts: PaintOptions): void {
  const { x0, width, t0, t1 } = vp;
  ctx.fillStyle = th.bg;
  ctx.fillRect(0, 0, cssW, cssH);
  // rows
  ctx.font = '12px "DejaVu Sans", sans-serif';
  ctx.textBaseline = 'middle';
  lay.rows.forEach((r, i) => {
    if (i % 2) {
      ctx.fillStyle = th.rowAlt;
      ctx.fillRect(0, r.y - r.h / 2, cssW, r.h);
    }
    ctx.strokeStyle = th.grid;
    ctx.lineWidth = r.kind === 'process' ? 1.5 : 1;
    ctx.beginPath();
    ctx.moveTo(x0, r.y + 0.5);
    ctx.lineTo(x0 + width, r.y + 0.5);
    ctx.stroke();
  });
  // time axis
  paintTimeAxis(ctx, vp, th, cssH, 18);
  const x = (ns: number) => nsToX(vp, ns);
  ctx.save();
  ctx.beginPath();
  ctx.rect(x0, 18, width, cssH - 18);
  ctx.clip();
  // folded conversations
  for (let i = 0; i < fr.folds.n; i++) {
    const a = fr.folds.get(FOLD.x0, i);
    const b = Math.max(a + 2, fr.folds.get(FOLD.x1, i));
    const yA = fr.folds.get(FOLD.yMin, i) - 8;
    const yB = fr.folds.get(FOLD.yMax, i) + 8;
    const hue = fr.folds.get(FOLD.hue, i);
    ctx.fillStyle = hueColor(hue, th.light, 0.18);
    ctx.fillRect(a, yA, b - a, yB - yA);
    ctx.strokeStyle = hueColor(hue, th.light, 0.8);
    ctx.setLineDash([3, 3]);
    ctx.strokeRect(a + 0.5, yA + 0.5, b - a, yB - yA);
    ctx.setLineDash([]);
    if (opts.labels && b - a > 40) {
      ctx.fillStyle = hueColor(hue, th.light);
      ctx.textAlign = 'left';
      ctx.fillText(`#${fr.folds.get(FOLD.conv, i)} ⋯ ${fr.folds.get(FOLD.count, i)}`, a + 3, yA + 7);
    }
  }
  // pending spans
  ctx.lineWidth = 4;
  for (let i = 0; i < fr.spans.n; i++) {
    const y = fr.spans.get(SPAN.y, i);
    const a = fr.spans.get(SPAN.x0, i);
    const b = fr.spans.get(SPAN.x1, i);
    ctx.strokeStyle = hueColor(fr.spans.get(SPAN.hue, i), th.light, 0.45);
    ctx.beginPath();
    ctx.moveTo(a, y);
    ctx.lineTo(b, y);
    ctx.stroke();
  }
  // level of detail columns
  ctx.lineWidth = 1;
  for (let i = 0; i < fr.columns.n; i++) {
    const n = fr.columns.get(COLUMN.count, i);
    ctx.strokeStyle = hueColor(fr.columns.get(COLUMN.hue, i), th.light, Math.min(1, 0.35 + Math.log2(1 + n) / 6));
    const px = fr.columns.get(COLUMN.x, i);
    ctx.beginPath();
    ctx.moveTo(px, fr.columns.get(COLUMN.yMin, i) - 3);
    ctx.lineTo(px, fr.columns.get(COLUMN.yMax, i) + 3);
    ctx.stroke();
  }
  // arrows
  let lastLabelX = -Infinity;
  ctx.textAlign = 'left';
  for (let i = 0; i < fr.arrows.n; i++) {
    const px = Math.round(fr.arrows.get(ARROW.x, i)) + 0.5;
    const y1 = fr.arrows.get(ARROW.y1, i);
    const y2 = fr.arrows.get(ARROW.y2, i);
    const fl = fr.arrows.get(ARROW.flags, i);
    const err = (fl & MsgFlag.Error) !== 0;
    const col = err ? th.error : hueColor(fr.arrows.get(ARROW.hue, i), th.light);
    if (fl & (AF.Selected | AF.Highlight)) {
      ctx.strokeStyle = fl & AF.Selected ? th.select : th.highlight;
      ctx.lineWidth = fl & AF.Selected ? 5 : 4;
      ctx.globalAlpha = fl & AF.Selected ? 0.9 : 0.6;
      ctx.beginPath();
      ctx.moveTo(px, y1);
      ctx.lineTo(px, y2);
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = col;
    ctx.fillStyle = col;
    ctx.lineWidth = 2;
    if (err) ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.arc(px, y1, 3, 0, Math.PI * 2);
    ctx.fill();
    ctx.beginPath();
    ctx.moveTo(px, y1);
    const dir = y2 >= y1 ? 1 : -1;
    ctx.lineTo(px, y2 - dir * 6);
    ctx.stroke();
    ctx.setLineDash([]);
    if (y2 !== y1) {
      ctx.beginPath();
      ctx.moveTo(px, y2);
      ctx.lineTo(px - 5, y2 - dir * 8);
      ctx.lineTo(px + 5, y2 - dir * 8);
      ctx.closePath();
      ctx.fill();
    }
    if (fl & MsgFlag.OpensConversation) {
      ctx.beginPath();
      ctx.arc(px, y2 - dir * 12, 2.5, 0, Math.PI * 2);
      ctx.stroke();
    }
    if (opts.labels && px > lastLabelX + 6) {
      const m = fr.arrows.get(ARROW.msg, i);
      const full = model.msgLabel(m);
      const label = full.length > 46 ? full.slice(0, 45) + '…' : full;
      const w = ctx.measureText(label).width;
      // only where it does not run into the next arrow's label
      const nextX = i + 1 < fr.arrows.n ? fr.arrows.get(ARROW.x, i + 1) : Infinity;
      if (nextX - px > Math.min(w + 10, 60)) {
        const text = nextX - px > w + 10 ? label : label.slice(0, Math.max(3, Math.floor(((nextX - px - 16) / w) * label.length))) + '…';
        ctx.fillStyle = th.fg;
        ctx.fillText(text, px + 5, (y1 + y2) / 2);
        lastLabelX = px + Math.min(w, nextX - px);
      }
    }
  }
  // end marks
  for (let i = 0; i < fr.marks.n; i++) {
    const px = fr.marks.get(MARK.x, i);
    const y = fr.marks.get(MARK.y, i);
    const kind = fr.marks.get(MARK.kind, i);
    ctx.lineWidth = 2;
    if (kind === OpEnd.Cancelled) {
      ctx.strokeStyle = th.cancel;
      ctx.beginPath();
      ctx.moveTo(px - 4, y - 4);
      ctx.lineTo(px + 4, y + 4);
      ctx.moveTo(px + 4, y - 4);
      ctx.lineTo(px - 4, y + 4);
      ctx.stroke();
    } else if (kind === OpEnd.EndOfLane) {
      ctx.fillStyle = th.eol;
      ctx.fillRect(px - 1.5, y - 8, 3, 16);
      ctx.fillRect(px - 5, y - 8, 10, 2);
    } else if (kind === OpEnd.Error) {
      ctx.fillStyle = th.error;
      ctx.beginPath();
      ctx.moveTo(px, y - 7);
      ctx.lineTo(px + 6, y + 5);
      ctx.lineTo(px - 6, y + 5);
      ctx.closePath();
      ctx.fill();
    } else {
      // still pending: an open end
      ctx.strokeStyle = th.dim;
      ctx.beginPath();
      ctx.moveTo(px - 5, y - 5);
      ctx.lineTo(px, y);
      ctx.lineTo(px - 5, y + 5);
      ctx.stroke();
    }
  }
  // "now" line (live)
  if (opts.nowNs >= t0 && opts.nowNs <= t1) {
    const px = Math.round(x(opts.nowNs)) + 0.5;
    ctx.strokeStyle = th.dim;
    ctx.setLineDash([2, 4]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(px, 18);
    ctx.lineTo(px, cssH);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.restore();
  // row labels on top (left gutter)
  ctx.fillStyle = th.bg;
  ctx.fillRect(0, 18, x0 - 2, cssH);
  ctx.textAlign = 'left';
  lay.rows.forEach((r) => {
    ctx.fillStyle = r.kind === 'process' ? th.fg : th.dim;
    const label = r.kind === 'process' ? r.label : `  ↳ ${r.label}`;
    ctx.fillText(label.length > 22 ? label.slice(0, 21) + '…' : label, 6, r.y);
    const p = model.processes.get(r.pid);
    if (r.kind === 'process' && p && p.exitNs === p.exitNs && p.exitNs >= t0 && p.exitNs <= t1) {
      ctx.fillStyle = th.dim;
      ctx.fillRect(x(p.exitNs), r.y - 6, 2, 12);
    }
  });
  paintTimeCursor(ctx, vp, opts.cursorNs ?? null, { cursor: th.select }, cssH, 18);
}
