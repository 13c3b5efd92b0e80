/* The scheduler view on the synthetic fixture, for sched-view.browser.test.ts (window.__sched);
 * ?events=N instead builds a long trace of N events in the page (bigScenario: the load test and
 * visualizers/bench/sched-view.bench.ts) and times the open: model build + first frame. */
import { SchedModel } from '../../sched/model.js';
import { createSchedView } from '../../sched/view.js';
import { bigScenario, scenario } from '../sched-fixture.js';

const q = new URLSearchParams(location.search);
const big = Number(q.get('events') ?? '0');
const t0 = performance.now();
const model = new SchedModel();
const view = createSchedView(document.getElementById('host')!, model);
let events = 0;
if (big > 0) {
  events = bigScenario(big, (e) => model.add(e));
  model.changed();
} else events = model.addAll(scenario());
const buildMs = performance.now() - t0;
view.fit();
const firstFrameMs = view.renderNow();
const w = window as unknown as Record<string, unknown>;
w['__sched'] = { model, view, events, buildMs, firstFrameMs, openMs: performance.now() - t0 };

/**
 * Pan across the trace for n animation frames with a window of frac × the trace (or, zoom: zoom in
 * and out around the middle, a factor per frame); each frame's compute + paint time.
 */
w['__pan'] = (n: number, frac: number, zoom = false) =>
  new Promise((resolve) => {
    const total = model.t1 - model.t0;
    const span = total * frac;
    const times: number[] = [];
    const raf: number[] = [];
    let i = 0;
    let prev = performance.now();
    view.setFollow(false);
    const tick = () => {
      const now = performance.now();
      if (i > 0) raf.push(now - prev);
      prev = now;
      if (zoom) {
        // from the whole trace down to frac of it and back (log steps)
        const k = i < n / 2 ? i / (n / 2) : (n - i) / (n / 2);
        const s = total * Math.pow(frac, k);
        const mid = model.t0 + total / 2;
        view.setViewport(mid - s / 2, mid + s / 2);
      } else {
        const a = model.t0 + ((total - span) * i) / n;
        view.setViewport(a, a + span);
      }
      times.push(view.renderNow());
      if (++i < n) requestAnimationFrame(tick);
      else {
        const st = [...times].sort((x, y) => x - y);
        const sr = [...raf].sort((x, y) => x - y);
        resolve({ frames: n, median: st[st.length >> 1]!, p95: st[Math.floor(st.length * 0.95)]!, worst: st[st.length - 1]!, rafMedian: sr[sr.length >> 1] ?? 0, rafWorst: sr[sr.length - 1] ?? 0 });
      }
    };
    requestAnimationFrame(tick);
  });
