/*
 * A test page for the cancellation view (its browser test, the benchmark, screenshots):
 *   ?scenario=cat                 `cat /dev/slow` + Ctrl-C (synth.ts catSlowCtrlC)
 *   ?scenario=bulk&calls=N&cancels=M[&ipc=1]
 *                                 N syscalls, M cancelled (synth.ts bulkTrace); with ipc=1 the IPC
 *                                 lanes view opens the same trace beside it (the benchmark's ratio)
 * window.__cancel = { model, view, openMs, ... }, window.__panCancel(n, frac) / __panIpc(n, frac).
 */
import { CancelModel } from '../../cancel/model.js';
import { bulkTrace, catSlowCtrlC } from '../../cancel/synth.js';
import { createCancelView } from '../../cancel/view.js';
import { feedTrace } from '../../ipc/adapt.js';
import { IpcModel } from '../../ipc/model.js';
import { createIpcView } from '../../ipc/view.js';

const q = new URLSearchParams(location.search);
const scenario = q.get('scenario') ?? 'cat';
const theme = (q.get('theme') ?? 'dark') as 'dark' | 'light';
const w = window as unknown as Record<string, unknown>;
const events = scenario === 'bulk' ? bulkTrace(Number(q.get('calls') ?? '1000'), Number(q.get('cancels') ?? '100')) : catSlowCtrlC();
const host = document.getElementById('host')!;
const withIpc = q.get('ipc') === '1';
if (withIpc) host.classList.add('half');

const t0 = performance.now();
const model = new CancelModel();
model.addAll(events);
const opened: string[] = [];
const view = createCancelView(host, model, {
  openSource: (t) => opened.push(JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))),
  breakOnNext: async (t) => `armed ${t.kind}`,
}, theme);
view.fit();
const first = view.renderNow();
const openMs = performance.now() - t0;
w['__cancel'] = { model, view, events: events.length, openMs, firstFrameMs: first, opened };

function panner(setViewport: (a: number, b: number) => void, render: () => number, lo: number, hi: number) {
  return (n: number, frac: number) =>
    new Promise((resolve) => {
      const total = hi - lo;
      const span = total * frac;
      const times: number[] = [];
      let i = 0;
      const tick = () => {
        const a = lo + ((total - span) * i) / n;
        setViewport(a, a + span);
        times.push(render());
        if (++i < n) requestAnimationFrame(tick);
        else {
          const st = [...times].sort((x, y) => x - y);
          resolve({ frames: n, median: st[st.length >> 1]!, p95: st[Math.floor(st.length * 0.95)]!, worst: st[st.length - 1]! });
        }
      };
      requestAnimationFrame(tick);
    });
}
w['__panCancel'] = panner((a, b) => view.setViewport(a, b), () => view.renderNow(), model.t0, model.t1);

if (withIpc) {
  const t1 = performance.now();
  const ipc = new IpcModel();
  feedTrace(ipc, events);
  const iv = createIpcView(document.getElementById('ipc')!, ipc, {}, theme);
  iv.fit();
  const f = iv.renderNow();
  w['__ipc'] = { model: ipc, view: iv, openMs: performance.now() - t1, firstFrameMs: f };
  w['__panIpc'] = panner((a, b) => iv.setViewport(a, b), () => iv.renderNow(), ipc.firstNs, ipc.lastNs);
}
