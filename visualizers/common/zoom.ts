/*
 * zoom.ts — wheel zoom and drag pan of a timeline's time window, driven by d3-zoom on its canvas:
 * d3-zoom's transform is used only for its deltas (scale ratio → zoomAround the pointer, x delta →
 * panBy), so the window stays in ns and any view can also set it directly. Double-click zoom is
 * off (views use double-click themselves).
 */
import { select, zoom, zoomIdentity, type D3ZoomEvent } from 'd3';
import { panBy, zoomAround, type Viewport } from './time.js';

export interface TimeZoomTarget {
  viewport(): Viewport;
  /** the new window; `how` says what the user did (a view in follow mode stops following) */
  setViewport(vp: Viewport, how: 'zoom-in' | 'zoom-out' | 'pan'): void;
  /** smallest window (ns); default 50 */
  minSpanNs?: number;
}

export function attachTimeZoom(canvas: HTMLCanvasElement, target: TimeZoomTarget): () => void {
  let last = zoomIdentity;
  const z = zoom<HTMLCanvasElement, unknown>()
    .scaleExtent([1e-9, 1e12])
    .filter((e: Event) => !(e as MouseEvent).button && e.type !== 'dblclick')
    .on('zoom', (e: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
      const t = e.transform;
      const kr = t.k / last.k;
      const vp = target.viewport();
      if (kr !== 1) {
        const src = e.sourceEvent as MouseEvent | undefined;
        const px = src ? Math.max(0, (src.offsetX ?? vp.x0) - vp.x0) : vp.width / 2;
        const next = zoomAround(vp, px, kr, target.minSpanNs ?? 50);
        if (next !== vp) target.setViewport(next, kr > 1 ? 'zoom-in' : 'zoom-out');
      } else {
        const dx = t.x - last.x;
        if (dx) target.setViewport(panBy(vp, dx), 'pan');
      }
      last = t;
    });
  const sel = select(canvas);
  sel.call(z).on('dblclick.zoom', null);
  return () => {
    sel.on('.zoom', null);
  };
}
