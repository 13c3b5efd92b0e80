/*
 * lod.ts — level of detail for timelines. When a window holds more items than pixels, a view
 * draws per-pixel-column aggregates instead of items. Levels are power-of-two bin widths (in
 * ns), chosen from ns per pixel, so a level built once serves every zoom between two powers of
 * two and panning costs nothing; a LevelCache keeps the last few levels for the current data and
 * drops them when the data (its key) changes. `binCounts` is the simplest aggregate (items per
 * bin over a time column); views with more to aggregate (IPC: min/max row per bin, waiting ops
 * per row) build their own level in the same bins. Pure: no DOM.
 */

/** The level for a zoom: bin width 2^level ns, the largest power of two ≤ ns per pixel (≥ 1). */
export function lodLevel(nsPerPx: number): { level: number; binNs: number } {
  const level = Math.max(0, Math.floor(Math.log2(Math.max(1, nsPerPx))));
  return { level, binNs: 2 ** level };
}

/** Bins of width binNs covering [first, last]: the first bin's start and the count. */
export function binsFor(first: number, last: number, binNs: number): { origin: number; nBins: number } {
  const origin = Math.floor(first / binNs) * binNs;
  return { origin, nBins: Math.ceil((last - origin) / binNs) + 1 };
}

/** Items per bin over a (time-ordered or not) ns column of n items. */
export function binCounts(ns: ArrayLike<number>, n: number, origin: number, binNs: number, nBins: number): Uint32Array {
  const out = new Uint32Array(nBins);
  const inv = 1 / binNs;
  for (let i = 0; i < n; i++) {
    const b = Math.floor((ns[i]! - origin) * inv);
    if (b >= 0 && b < nBins) out[b]!++;
  }
  return out;
}

/** Levels of one data version, by level number; at most `keep` kept (oldest dropped first). */
export class LevelCache<L> {
  private key = '';
  private levels = new Map<number, L>();
  /** levels built so far (for tests and benchmarks) */
  builds = 0;

  constructor(private readonly keep = 6) {}

  /** The level for `key` (the data it aggregates) and `level`, built by `build` when missing. */
  get(key: string, level: number, build: () => L): L {
    if (key !== this.key) {
      this.key = key;
      this.levels.clear();
    }
    let lv = this.levels.get(level);
    if (!lv) {
      lv = build();
      this.builds++;
      if (this.levels.size >= this.keep) this.levels.delete(this.levels.keys().next().value!);
      this.levels.set(level, lv);
    }
    return lv;
  }
}
