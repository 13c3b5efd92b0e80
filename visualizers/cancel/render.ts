/*
 * render.ts — paints a cancellation Frame (frame.ts) on a 2D canvas: the time axis (common/axis),
 * one row per thread (syscall spans coloured by outcome, labelled `read(3, 4096) · partial 1024 of
 * 4096` when wide; the server requests inside as a thin strip (the requests servers made for
 * the call, posix's to fs, one strip higher per level); signal handlers below, one strip
 * per nesting depth), rows for processes seen only in chains, the selected call's causal chain as
 * arrows between rows with each link's latency, and the shared time cursor. Canvas calls only.
 */
import { paintTimeAxis, paintTimeCursor } from '../common/axis.js';
import { fmtNs, type Viewport } from '../common/time.js';
import { ROW_H, HANDLER_H, type Frame, type Row } from './frame.js';
import { callLabel, outcomeLabel, signalName, type CancelModel } from './model.js';

export interface CancelTheme {
  bg: string;
  rowAlt: string;
  fg: string;
  dim: string;
  grid: string;
  /** by outcome code (frame.ts OUTCOME_CODE): completed eintr partial restarted killed raced open lost */
  outcome: string[];
  request: string;
  handler: string;
  chain: string;
  select: string;
  cursor: string;
  light: boolean;
}

export const CANCEL_THEMES: Record<'dark' | 'light', CancelTheme> = {
  dark: {
    bg: '#1b1d23', rowAlt: '#20232a', fg: '#d7dae0', dim: '#7f8694', grid: '#2c313a',
    outcome: ['#3d5a80', '#e63946', '#f4a261', '#b388eb', '#c1121f', '#2a9d8f', '#8d99ae', '#555b66'],
    request: '#a8dadc', handler: '#ffd166', chain: '#ffe14d', select: '#ffffff', cursor: '#4d9de0', light: false,
  },
  light: {
    bg: '#fbfbfb', rowAlt: '#f0f2f5', fg: '#24292f', dim: '#6e7781', grid: '#d8dee4',
    outcome: ['#9db4d0', '#d62839', '#e07a1f', '#8250df', '#8b0000', '#1f7a6f', '#adb5bd', '#c0c4c8'],
    request: '#3a7ca5', handler: '#b8860b', chain: '#b5179e', select: '#000000', cursor: '#0969da', light: true,
  },
};

export const OUTCOME_NAMES = ['completed', 'EINTR', 'partial', 'restarted', 'killed', 'raced', 'open', 'lost'];

export interface CancelPaintOptions {
  selectedCall: number;
  selectedLink: number;
  cursorNs: number | null;
  /** the gutter for row labels is [0, vp.x0) */
  labels: boolean;
}

export function paintCancel(ctx: CanvasRenderingContext2D, model: CancelModel, rows: Row[], vp: Viewport, fr: Frame, th: CancelTheme, cssW: number, cssH: number, o: CancelPaintOptions): void {
  ctx.fillStyle = th.bg;
  ctx.fillRect(0, 0, cssW, cssH);
  ctx.font = '11px "DejaVu Sans", sans-serif';
  ctx.textBaseline = 'middle';
  rows.forEach((r, i) => {
    if (i % 2) {
      ctx.fillStyle = th.rowAlt;
      ctx.fillRect(0, r.y, cssW, r.h);
    }
  });
  paintTimeAxis(ctx, vp, th, cssH, 18);
  // row labels
  ctx.textAlign = 'left';
  rows.forEach((r) => {
    ctx.fillStyle = r.kind === 'thread' ? th.fg : th.dim;
    ctx.fillText(r.label.length > 22 ? r.label.slice(0, 21) + '…' : r.label, 4, r.y + Math.min(r.h, ROW_H) / 2);
  });
  ctx.save();
  ctx.beginPath();
  ctx.rect(vp.x0, 0, vp.width, cssH);
  ctx.clip();
  // syscall spans
  for (const b of fr.boxes) {
    const r = rows[b.row]!;
    const y = r.y + 5;
    const h = ROW_H - 10;
    ctx.fillStyle = th.outcome[b.outcome] ?? th.dim;
    ctx.fillRect(b.x0, y, Math.max(1, b.x1 - b.x0), h);
    if (b.call >= 0 && b.call === o.selectedCall) {
      ctx.strokeStyle = th.select;
      ctx.lineWidth = 2;
      ctx.strokeRect(b.x0 + 1, y + 1, Math.max(1, b.x1 - b.x0 - 2), h - 2);
    }
    if (o.labels && b.call >= 0 && b.x1 - b.x0 > 40) {
      const c = model.calls[b.call]!;
      const text = c.outcome === 'completed' ? callLabel(c) : `${callLabel(c)} · ${outcomeLabel(c)}`;
      ctx.fillStyle = th.light ? '#000' : '#fff';
      ctx.textAlign = 'left';
      const w = b.x1 - b.x0 - 6;
      ctx.fillText(fit(ctx, text, w), b.x0 + 3, y + h / 2 - 2);
    }
  }
  // server requests: a strip along the bottom of the call; the work servers did for it on top
  // (posix's request to fs one strip up, fs's to another server the next)
  ctx.fillStyle = th.request;
  for (const q of fr.reqs) {
    const r = rows[q.row]!;
    ctx.globalAlpha = q.depth ? 0.7 : 1;
    ctx.fillRect(q.x0, r.y + ROW_H - 9 - 4 * Math.min(q.depth, 2), q.x1 - q.x0, 3);
  }
  ctx.globalAlpha = 1;
  // handlers: one strip per depth under the row's calls
  for (const hb of fr.handlers) {
    const r = rows[hb.row]!;
    const y = r.y + ROW_H - 4 + hb.depth * HANDLER_H;
    ctx.fillStyle = th.handler;
    ctx.fillRect(hb.x0, y, hb.x1 - hb.x0, HANDLER_H - 2);
    if (hb.x1 - hb.x0 > 60) {
      ctx.fillStyle = '#000';
      ctx.textAlign = 'left';
      ctx.font = '9px "DejaVu Sans", sans-serif';
      ctx.fillText(`${signalName(hb.signo)} handler`, hb.x0 + 2, y + 2);
      ctx.font = '11px "DejaVu Sans", sans-serif';
    }
  }
  // the selected chain: arrows between consecutive links, latency on each
  const pts = fr.chain;
  ctx.lineWidth = 1.5;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    const sel = i === o.selectedLink;
    if (i > 0) {
      const q = pts[i - 1]!;
      ctx.strokeStyle = th.chain;
      arrow(ctx, q.x, q.y, p.x, p.y);
      const lat = p.link.latency;
      if (Math.abs(p.x - q.x) > 30 || Math.abs(p.y - q.y) > 14) {
        ctx.fillStyle = th.chain;
        ctx.textAlign = 'center';
        ctx.fillText(lat < 0 ? `−${fmtNs(-lat)} (skew)` : fmtNs(lat), (p.x + q.x) / 2, (p.y + q.y) / 2 - 7);
      }
    }
    ctx.fillStyle = sel ? th.select : th.chain;
    ctx.beginPath();
    ctx.arc(p.x, p.y, sel ? 5.5 : 3.5, 0, Math.PI * 2);
    ctx.fill();
    if (sel) {
      ctx.fillStyle = th.fg;
      ctx.textAlign = p.x > vp.x0 + vp.width - 200 ? 'right' : 'left';
      ctx.fillText(p.link.label, p.x + (ctx.textAlign === 'right' ? -8 : 8), p.y + 12);
    }
  }
  ctx.restore();
  // the shared time cursor (common/axis.ts: the same mark in every timeline view)
  paintTimeCursor(ctx, vp, o.cursorNs, th, cssH, 18);
}

function arrow(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  const a = Math.atan2(y1 - y0, x1 - x0);
  if (Math.hypot(x1 - x0, y1 - y0) < 8) return;
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 7 * Math.cos(a - 0.4), y1 - 7 * Math.sin(a - 0.4));
  ctx.lineTo(x1 - 7 * Math.cos(a + 0.4), y1 - 7 * Math.sin(a + 0.4));
  ctx.closePath();
  ctx.fillStyle = ctx.strokeStyle;
  ctx.fill();
}

function fit(ctx: CanvasRenderingContext2D, text: string, w: number): string {
  if (ctx.measureText(text).width <= w) return text;
  let n = Math.floor((text.length * w) / Math.max(1, ctx.measureText(text).width));
  while (n > 1 && ctx.measureText(text.slice(0, n) + '…').width > w) n--;
  return n > 1 ? text.slice(0, n) + '…' : '';
}
