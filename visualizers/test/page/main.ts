/*
 * A test page for the IPC view (the load test, the benchmark and screenshots): builds a model
 * from the IPC simulator in the browser and mounts the view. ?rounds=N (55 events per round).
 */
import { IpcModel } from '../../ipc/model.js';
import { IpcSim, demoScenario, demoDecoder } from '../../ipc/sim.js';
import { createIpcView } from '../../ipc/view.js';

const q = new URLSearchParams(location.search);
const rounds = Number(q.get('rounds') ?? '3');
const theme = (q.get('theme') ?? 'dark') as 'dark' | 'light';
const t0 = performance.now();
const model = new IpcModel({ decoder: demoDecoder });
let events = 0;
const sim = new IpcSim((e) => {
  events++;
  model.add(e);
});
demoScenario(sim, rounds);
model.changed();
const built = performance.now() - t0;
const host = document.getElementById('host')!;
const view = createIpcView(host, model, {
  resolveSource: async (addr) => ({ file: 'programs/ipc-demo/main.c', line: (addr % 97) + 10 }),
  openSource: (file, line) => {
    (window as unknown as { __opened: string }).__opened = `${file}:${line}`;
  },
}, theme);
const first = view.renderNow();
const w = window as unknown as Record<string, unknown>;
w['__ipc'] = { model, view, events, buildMs: built, firstFrameMs: first, openMs: performance.now() - t0 };

/** Pan across the trace for n animation frames with a window of frac × the trace (zoom: zoom in
 * around the middle from the whole trace down to frac of it and back out); frame times. */
w['__pan'] = (n: number, frac: number, zoom = false) =>
  new Promise((resolve) => {
    const total = model.lastNs - model.firstNs;
    const span = total * frac;
    const times: number[] = [];
    const raf: number[] = [];
    let i = 0;
    let prev = performance.now();
    const tick = () => {
      const now = performance.now();
      if (i > 0) raf.push(now - prev);
      prev = now;
      if (zoom) {
        const k = i < n / 2 ? i / (n / 2) : (n - i) / (n / 2);
        const sz = total * Math.pow(frac, k);
        const mid = model.firstNs + total / 2;
        view.setViewport(mid - sz / 2, mid + sz / 2);
      } else {
        const a = model.firstNs + ((total - span) * i) / n;
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
