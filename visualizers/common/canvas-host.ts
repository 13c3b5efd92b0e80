/*
 * canvas-host.ts — a canvas that fills its container at the device's pixel ratio and repaints at
 * most once per animation frame: views call invalidate() when anything changed and give one
 * paint(ctx, cssW, cssH) that draws in CSS pixels. Resizes follow the container (ResizeObserver).
 */

export interface CanvasHost {
  canvas: HTMLCanvasElement;
  /** CSS size of the canvas */
  size(): { width: number; height: number };
  /** schedule a repaint (coalesced to one per animation frame) */
  invalidate(): void;
  /** repaint now (benchmarks, tests); returns the paint's ms */
  renderNow(): number;
  /** re-measure the container (also done on its resize) */
  resize(): void;
  dispose(): void;
}

export interface CanvasHostOptions {
  /** draws a frame in CSS pixels (the transform for the pixel ratio is set) */
  paint(ctx: CanvasRenderingContext2D, cssW: number, cssH: number): void;
  /** the container's size changed (before the repaint it causes) */
  resized?(cssW: number, cssH: number): void;
  /** attributes of the canvas (tabindex, aria-label) */
  attrs?: Record<string, string>;
}

export function createCanvasHost(container: HTMLElement, opts: CanvasHostOptions): CanvasHost {
  const canvas = document.createElement('canvas');
  for (const [k, v] of Object.entries(opts.attrs ?? {})) canvas.setAttribute(k, v);
  container.append(canvas);
  const ctx = canvas.getContext('2d')!;
  let cssW = 1;
  let cssH = 1;
  let raf = 0;
  let dirty = true;

  const renderNow = (): number => {
    const t = performance.now();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    opts.paint(ctx, cssW, cssH);
    dirty = false;
    return performance.now() - t;
  };
  const schedule = () => {
    if (raf || typeof requestAnimationFrame === 'undefined') return;
    raf = requestAnimationFrame(() => {
      raf = 0;
      if (dirty) renderNow();
    });
  };
  const invalidate = () => {
    dirty = true;
    schedule();
  };
  const resize = () => {
    const r = container.getBoundingClientRect();
    cssW = Math.max(1, Math.floor(r.width));
    cssH = Math.max(1, Math.floor(r.height));
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.floor(cssW * dpr);
    canvas.height = Math.floor(cssH * dpr);
    canvas.style.width = `${cssW}px`;
    canvas.style.height = `${cssH}px`;
    opts.resized?.(cssW, cssH);
    invalidate();
  };
  const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => resize()) : undefined;
  ro?.observe(container);
  return {
    canvas,
    size: () => ({ width: cssW, height: cssH }),
    invalidate,
    renderNow,
    resize,
    dispose() {
      ro?.disconnect();
      if (raf && typeof cancelAnimationFrame !== 'undefined') cancelAnimationFrame(raf);
      canvas.remove();
    },
  };
}
