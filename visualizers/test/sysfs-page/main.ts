/*
 * The sysfs view on a synthetic trace (sysfs/synth.ts), for sysfs-view.browser.test.ts and the
 * benchmark (window.__sysfs). ?nodes=N&changes=M; ?hold=K keeps the last K records back so the
 * test can feed them "live" (feed(k)). Open time = model build + first render.
 */
import { SysfsModel } from '../../sysfs/model.js';
import { synthSysfsTrace } from '../../sysfs/synth.js';
import { createSysfsView } from '../../sysfs/view.js';

const q = new URLSearchParams(location.search);
const trace = synthSysfsTrace({ nodes: Number(q.get('nodes') ?? '40'), changes: Number(q.get('changes') ?? '400') });
const hold = Number(q.get('hold') ?? '0');
const held = trace.splice(trace.length - hold, hold);
const times: string[] = [];
const t0 = performance.now();
const model = new SysfsModel();
model.addAll(trace);
const buildMs = performance.now() - t0;
const view = createSysfsView(document.getElementById('host')!, model, { timeChanged: (t) => times.push(String(t)) }, (q.get('theme') ?? 'dark') as 'dark' | 'light');
const firstMs = view.renderNow();
const w = window as unknown as Record<string, unknown>;
w['__sysfs'] = {
  model,
  view,
  times,
  buildMs,
  firstMs,
  openMs: performance.now() - t0,
  records: trace.length,
  /** feed the next k held-back records, as a live batch */
  feed(k: number) {
    model.addAll(held.splice(0, k));
  },
  /** scrub across the trace for n animation frames (setTime + render each); frame times */
  scrub(n: number): Promise<unknown> {
    return frames(n, (i) => view.setTime(model.t0 + ((model.t1 - model.t0) * i) / (n - 1)));
  },
  /** scroll through the expanded tree for n frames */
  scroll(n: number): Promise<unknown> {
    const tree = document.querySelector('.sysv-tree') as HTMLElement;
    return frames(n, (i) => {
      tree.scrollTop = ((tree.scrollHeight - tree.clientHeight) * i) / (n - 1);
    });
  },
};

function frames(n: number, step: (i: number) => void): Promise<unknown> {
  return new Promise((resolve) => {
    const times: number[] = [];
    let i = 0;
    const tick = () => {
      step(i);
      times.push(view.renderNow());
      if (++i < n) requestAnimationFrame(tick);
      else {
        const st = [...times].sort((x, y) => x - y);
        resolve({ frames: n, median: st[st.length >> 1]!, p95: st[Math.floor(st.length * 0.95)]!, worst: st[st.length - 1]! });
      }
    };
    requestAnimationFrame(tick);
  });
}
