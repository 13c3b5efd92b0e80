// visualizers/common's pure parts: the time window (conversions, zoom around a pixel keeps the
// time under it, pan, fit, follow, a floor on zoom), level-of-detail levels and bins, and the
// per-data level cache (rebuilt when the data changes, bounded).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LevelCache, binCounts, binsFor, fitRange, fmtNs, followTo, lodLevel, nsPerPx, nsToX, panBy, xToNs, zoomAround, type Viewport } from '../common/index.js';

const vp: Viewport = { t0: 1000, t1: 2000, width: 100, x0: 50 };

test('time window: ns ↔ x, zoom around a pixel, pan, fit, follow', () => {
  assert.equal(nsPerPx(vp), 10);
  assert.equal(nsToX(vp, 1500), 100);
  assert.equal(xToNs(vp, 100), 1500);
  const z = zoomAround(vp, 25, 2);
  assert.equal(z.t1 - z.t0, 500);
  assert.equal(xToNs(z, vp.x0 + 25), xToNs(vp, vp.x0 + 25), 'the time under the pointer stays');
  assert.equal(zoomAround(vp, 25, 100), vp, 'not below 50 ns');
  const p = panBy(vp, 10);
  assert.deepEqual([p.t0, p.t1], [900, 1900]);
  const f = fitRange(vp, 0, 1e6);
  assert.deepEqual([f.t0, f.t1], [-20000, 1020000]);
  assert.equal(fitRange(vp, NaN, NaN), vp);
  const fo = followTo(vp, 5000);
  assert.equal(fo.t1 - fo.t0, 1000);
  assert.ok(fo.t1 > 5000 && fo.t0 < 5000);
  assert.equal(fmtNs(1500), '1.5 µs');
  assert.equal(fmtNs(2.5e9), '2.5 s');
  assert.equal(fmtNs(NaN), '–');
});

test('level of detail: power-of-two bins, counts per bin, a bounded cache per data version', () => {
  assert.deepEqual(lodLevel(0.3), { level: 0, binNs: 1 });
  assert.deepEqual(lodLevel(1000), { level: 9, binNs: 512 });
  assert.deepEqual(binsFor(1000, 5000, 512), { origin: 512, nBins: 10 });
  const ns = Float64Array.from([0, 1, 511, 512, 1023, 5000]);
  assert.deepEqual([...binCounts(ns, ns.length, 0, 512, 4)], [3, 2, 0, 0]);
  const c = new LevelCache<number[]>(2);
  let built = 0;
  const mk = () => [++built];
  assert.deepEqual(c.get('v1', 3, mk), [1]);
  assert.deepEqual(c.get('v1', 3, mk), [1], 'cached');
  c.get('v1', 4, mk);
  c.get('v1', 5, mk); // drops level 3 (the oldest of at most 2)
  assert.deepEqual(c.get('v1', 3, mk), [4]);
  assert.deepEqual(c.get('v2', 3, mk), [5], 'new data: rebuilt');
  assert.equal(c.builds, 5);
});
