/*
 * visualizers/common — what every timeline view shares (the IPC lanes view uses all of it; the
 * scheduler, cancellation and sysfs views are meant to):
 *   time.ts         Viewport (ns window ↔ pixels), zoom around a pixel, pan, fit, follow, fmtNs
 *   lod.ts          level of detail: power-of-two bins from ns/px, bin counts, a per-data LevelCache
 *   axis.ts         the time axis (d3 ticks, grid lines, labels) and the shared time cursor on a canvas
 *   zoom.ts         wheel zoom + drag pan of the time window (d3-zoom deltas)
 *   canvas-host.ts  a device-pixel-ratio canvas filling its container, one repaint per frame
 *   toolbar.ts      the root and toolbar (Follow, Fit, the view's controls, status) with their CSS
 * time.ts and lod.ts are pure (unit-tested in Node); the rest need a DOM — pure modules (models,
 * frame computation) import time.ts / lod.ts directly, not this index.
 */
export * from './time.js';
export * from './lod.js';
export * from './axis.js';
export * from './zoom.js';
export * from './canvas-host.js';
export * from './toolbar.js';
