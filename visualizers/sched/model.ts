/*
 * model.ts — the scheduler view's model: decoded scheduling trace events → per-CPU run slices,
 * per-CPU load over time with the balancer's ideal, migrations with why each thread moved, and
 * per-thread figures. Pure (no DOM): view.ts draws what buildView() returns.
 *
 * Input is any object shaped like debugger/common/trace's TraceEvent (name, ns, cpu, fields
 * named as in os/abi/trace.toml) — visualizers/ never imports debugger/. Used events:
 *   trace_header (ncpus), proc_create, thread_create (names), ctx_switch (run slices: what ran
 *   on the recording CPU between two switches; tid 0 is idle), migrate (reason balance /
 *   affinity / placement / steal / wake with the balancer's numbers), load_sample (per-CPU load, 1024 =
 *   one always-runnable thread), balance_round + balance_cpu (the ideal load; each CPU's load
 *   before and after the round's plan).
 * Slices are kept in per-CPU columns (start, end, tid, pid), ordered by time, so a window of a
 * million-event trace is found by binary search and drawn at most a few boxes per pixel.
 */

export const REASONS = ['balance', 'affinity', 'placement', 'steal', 'wake'] as const;
export type MigrateReason = (typeof REASONS)[number];

export interface TraceRecordLike {
  readonly name: string;
  readonly ns: number;
  readonly cpu: number;
  readonly fields: Record<string, unknown>;
}

export interface Migration {
  ns: number;
  tid: number;
  from: number;
  to: number;
  reason: MigrateReason;
  /** balance: both CPUs' loads before the move; steal: run-queue lengths; affinity: loads */
  loadFrom: number;
  loadTo: number;
  threadLoad: number;
  ideal: number;
  round: number;
}

export interface Round {
  ns: number;
  round: number;
  ideal: number;
  total: number;
  moves: number;
  enabled: boolean;
  before: number[];
  after: number[];
}

export interface ThreadInfo {
  tid: number;
  pid: number;
  name: string;
  cpuNs: number;
  migrations: number;
  lastCpu: number;
  /** the last load the trace told (a migrate's thread_load), -1 if none */
  load: number;
}

class Track {
  start: number[] = [];
  end: number[] = [];
  tid: number[] = [];
  pid: number[] = [];
  curTid = -1; // -1: unknown (before the first switch), 0: idle
  curPid = 0;
  curStart = 0;
  loadNs: number[] = [];
  load: number[] = [];
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

/** First index i with a[i] >= x (a ascending). */
export function lowerBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export class SchedModel {
  ncpus = 0;
  tracks: Track[] = [];
  processes = new Map<number, string>();
  threads = new Map<number, ThreadInfo>();
  migrations: Migration[] = [];
  migrationNs: number[] = [];
  rounds: Round[] = [];
  roundNs: number[] = [];
  t0 = Infinity;
  t1 = -Infinity;
  private listeners: (() => void)[] = [];

  private track(cpu: number): Track {
    while (this.tracks.length <= cpu) this.tracks.push(new Track());
    if (cpu + 1 > this.ncpus) this.ncpus = cpu + 1;
    return this.tracks[cpu]!;
  }

  thread(tid: number): ThreadInfo {
    let t = this.threads.get(tid);
    if (!t) {
      t = { tid, pid: 0, name: '', cpuNs: 0, migrations: 0, lastCpu: -1, load: -1 };
      this.threads.set(tid, t);
    }
    return t;
  }

  /** One decoded trace event (time order per CPU; migrations and rounds in time order). */
  add(e: TraceRecordLike): boolean {
    const f = e.fields;
    const ns = e.ns;
    switch (e.name) {
      case 'trace_header':
        this.ncpus = Math.max(this.ncpus, num(f['ncpus']));
        while (this.tracks.length < this.ncpus) this.tracks.push(new Track());
        return true;
      case 'proc_create':
        this.processes.set(num(f['pid']), String(f['name'] ?? ''));
        return true;
      case 'thread_create': {
        const t = this.thread(num(f['tid']));
        t.pid = num(f['pid']);
        t.name = String(f['name'] ?? '');
        return true;
      }
      case 'ctx_switch': {
        this.span(ns);
        const tr = this.track(e.cpu);
        if (tr.curTid > 0 && ns >= tr.curStart) this.pushSlice(e.cpu, tr, tr.curStart, ns, tr.curTid, tr.curPid);
        const next = num(f['next_tid']);
        tr.curTid = next;
        tr.curPid = num(f['next_pid']);
        tr.curStart = ns;
        if (next > 0) this.thread(next).lastCpu = e.cpu;
        return true;
      }
      case 'migrate': {
        this.span(ns);
        const r = REASONS[num(f['reason'])] ?? 'balance';
        const m: Migration = {
          ns, tid: num(f['tid']), from: num(f['from_cpu']), to: num(f['to_cpu']), reason: r,
          loadFrom: num(f['load_from']), loadTo: num(f['load_to']), threadLoad: num(f['thread_load']),
          ideal: num(f['ideal']), round: num(f['round']),
        };
        this.track(Math.max(m.from, m.to));
        this.migrations.push(m);
        this.migrationNs.push(ns);
        const t = this.thread(m.tid);
        if (r !== 'placement') t.migrations++;
        t.lastCpu = m.to;
        if (r === 'balance' || m.threadLoad) t.load = m.threadLoad;
        return true;
      }
      case 'load_sample': {
        this.span(ns);
        const tr = this.track(num(f['of_cpu']));
        tr.loadNs.push(ns);
        tr.load.push(num(f['load']));
        return true;
      }
      case 'balance_round': {
        this.span(ns);
        const n = num(f['ncpus']);
        this.rounds.push({
          ns, round: num(f['round']), ideal: num(f['ideal']), total: num(f['total']), moves: num(f['moves']),
          enabled: num(f['enabled']) !== 0, before: new Array<number>(n).fill(0), after: new Array<number>(n).fill(0),
        });
        this.roundNs.push(ns);
        return true;
      }
      case 'balance_cpu': {
        const r = this.rounds[this.rounds.length - 1];
        const c = num(f['of_cpu']);
        if (r && r.round === num(f['round'])) {
          r.before[c] = num(f['load_before']);
          r.after[c] = num(f['load_after']);
        }
        return true;
      }
    }
    return false;
  }

  private span(ns: number): void {
    if (ns < this.t0) this.t0 = ns;
    if (ns > this.t1) this.t1 = ns;
  }

  private pushSlice(cpu: number, tr: Track, start: number, end: number, tid: number, pid: number): void {
    void cpu;
    tr.start.push(start);
    tr.end.push(end);
    tr.tid.push(tid);
    tr.pid.push(pid);
    const t = this.thread(tid);
    t.cpuNs += end - start;
    if (!t.pid) t.pid = pid;
  }

  addAll(events: Iterable<TraceRecordLike>): number {
    let n = 0;
    for (const e of events) if (this.add(e)) n++;
    if (n) this.changed();
    return n;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  changed(): void {
    for (const l of this.listeners) l();
  }

  /** The CPU tid was running on at ns (a closed slice, or the open one), or -1. */
  cpuAt(tid: number, ns: number): number {
    for (let c = 0; c < this.tracks.length; c++) {
      const tr = this.tracks[c]!;
      const i = lowerBound(tr.end, ns);
      if (i < tr.start.length && tr.start[i]! <= ns && tr.tid[i] === tid) return c;
      if (tr.curTid === tid && tr.curStart <= ns) return c;
    }
    return -1;
  }

  /** The last balance round at or before ns. */
  roundAt(ns: number): Round | undefined {
    const i = lowerBound(this.roundNs, ns + 1) - 1;
    return i >= 0 ? this.rounds[i] : undefined;
  }

  /** Per-thread table: CPU time, migrations (not counting placement), load, CPU; busiest first. */
  threadTable(): ThreadInfo[] {
    return [...this.threads.values()].filter((t) => t.cpuNs > 0 || t.migrations > 0).sort((a, b) => b.cpuNs - a.cpuNs || a.tid - b.tid);
  }

  label(tid: number): string {
    const t = this.threads.get(tid);
    const name = t?.name || this.processes.get(t?.pid ?? -1) || '';
    return name ? `${name} ${tid}` : `tid ${tid}`;
  }

  /** Why the thread moved, in words, with the balancer's numbers. */
  describe(m: Migration): string {
    const who = this.label(m.tid);
    const head = `${who}: cpu${m.from} → cpu${m.to}, ${m.reason}`;
    switch (m.reason) {
      case 'balance':
        return `${head} (round ${m.round}, ideal ${m.ideal}): cpu${m.from} ${m.loadFrom} → ${m.loadFrom - m.threadLoad}, cpu${m.to} ${m.loadTo} → ${m.loadTo + m.threadLoad}, thread load ${m.threadLoad} (1024 = always runnable)`;
      case 'steal':
        return `${head}: cpu${m.to} was idle and took it from cpu${m.from}'s queue (${m.loadFrom} queued)`;
      case 'affinity':
        return `${head}: its CPU mask excluded cpu${m.from}; cpu${m.to} was the least loaded allowed (load ${m.loadTo})`;
      case 'placement':
        return `${head}: new thread placed on the least loaded allowed CPU (load ${m.loadTo})`;
      case 'wake':
        return `${head}: woken by a thread on cpu${m.to} that waits next (a request to it), so it runs there instead of waking cpu${m.from}`;
    }
  }
}

/** Feed decoded trace events (time-ordered) to the model; returns how many were used. */
export function feedSchedTrace(model: SchedModel, events: Iterable<TraceRecordLike>, notify = true): number {
  let n = 0;
  for (const e of events) if (model.add(e)) n++;
  if (notify && n) model.changed();
  return n;
}

/* ---- the view model: what to draw for a time window ---- */

export interface Window {
  t0: number;
  t1: number;
  /** pixels across */
  width: number;
}

export interface SliceBox {
  x0: number;
  x1: number;
  /** the thread (in a pixel holding several slices: the one that ran longest there) */
  tid: number;
  pid: number;
  label: string;
  dim: boolean;
}

export interface LinePoint {
  x: number;
  v: number;
}

export interface Arrow {
  x: number;
  from: number;
  to: number;
  reason: MigrateReason;
  index: number;
  dim: boolean;
}

export interface CpuRow {
  cpu: number;
  slices: SliceBox[];
  load: LinePoint[];
}

export interface SchedView {
  rows: CpuRow[];
  ideal: LinePoint[];
  arrows: Arrow[];
  /** the largest load in the window (for the load scale), at least 1024 */
  maxLoad: number;
}

export interface ViewOptions {
  reasons?: ReadonlySet<MigrateReason>;
  /** thread mode: this thread's slices and arrows bright, the rest dimmed */
  follow?: number;
  /** minimum width in pixels for a label */
  labelPx?: number;
}

/** Slices sampled per pixel when a pixel holds many (buildView). */
const PIXEL_SAMPLES = 16;
const runTid = new Array<number>(PIXEL_SAMPLES + 1).fill(0);
const runNs = new Array<number>(PIXEL_SAMPLES + 1).fill(0);
const runIdx = new Array<number>(PIXEL_SAMPLES + 1).fill(0);

export function buildView(model: SchedModel, w: Window, opt: ViewOptions = {}): SchedView {
  const span = Math.max(1, w.t1 - w.t0);
  const px = (ns: number) => ((ns - w.t0) / span) * w.width;
  const nsAt = (x: number) => w.t0 + (x / w.width) * span;
  const labelPx = opt.labelPx ?? 48;
  const follow = opt.follow;
  const rows: CpuRow[] = [];
  let maxLoad = 1024;
  for (let c = 0; c < model.ncpus; c++) {
    const tr = model.tracks[c];
    const slices: SliceBox[] = [];
    const load: LinePoint[] = [];
    if (tr) {
      const n = tr.start.length;
      let i = lowerBound(tr.end, w.t0);
      while (i < n && tr.start[i]! <= w.t1) {
        const x0 = Math.max(0, px(tr.start[i]!));
        const x1 = Math.min(w.width, px(tr.end[i]!));
        if (x1 - x0 >= 1) {
          const tid = tr.tid[i]!;
          slices.push({ x0, x1, tid, pid: tr.pid[i]!, label: x1 - x0 >= labelPx ? model.label(tid) : '', dim: follow !== undefined && tid !== follow });
          i++;
          continue;
        }
        // narrower than a pixel: one box for the rest of this pixel, then jump past it
        const pxEnd = Math.floor(x0) + 1;
        const j = Math.max(i + 1, lowerBound(tr.start, nsAt(pxEnd), i + 1));
        // the pixel shows the thread that ran longest in it, estimated from at most PIXEL_SAMPLES
        // slices spread evenly over it (small arrays, no allocation: a zoomed-out frame of a 1M-event
        // trace visits ~16 slices per pixel, not all of them); in thread mode the followed thread
        // is looked for in every slice of the pixel (an integer compare each)
        const stride = Math.max(1, Math.ceil((j - i) / PIXEL_SAMPLES));
        let nr = 0;
        let best = -1;
        for (let k = i; k < j; k += stride) {
          const t = tr.tid[k]!;
          const d = tr.end[k]! - tr.start[k]!;
          let r = 0;
          while (r < nr && runTid[r] !== t) r++;
          if (r === nr) {
            runTid[nr] = t;
            runNs[nr] = 0;
            runIdx[nr++] = k;
          }
          runNs[r]! += d;
          if (best < 0 || runNs[r]! > runNs[best]!) best = r;
        }
        const tid = runTid[best]!;
        const pid = tr.pid[runIdx[best]!]!;
        let hasFollow = false;
        if (follow !== undefined) for (let k = i; k < j && !hasFollow; k++) hasFollow = tr.tid[k] === follow;
        const last = slices[slices.length - 1];
        const end = Math.min(w.width, Math.max(pxEnd, px(tr.end[j - 1]!)));
        if (last && last.tid === tid && last.x1 >= x0 - 0.5) last.x1 = end;
        else slices.push({ x0, x1: end, tid, pid, label: '', dim: follow !== undefined && !hasFollow });
        i = j;
      }
      if (tr.curTid > 0 && tr.curStart <= w.t1 && model.t1 > tr.curStart) {
        const x0 = Math.max(0, px(tr.curStart)), x1 = Math.min(w.width, px(Math.min(model.t1, w.t1)));
        if (x1 > x0) slices.push({ x0, x1, tid: tr.curTid, pid: tr.curPid, label: x1 - x0 >= labelPx ? model.label(tr.curTid) : '', dim: follow !== undefined && tr.curTid !== follow });
      }
      // load: the samples in the window plus one on either side, at most ~2 per pixel
      const a = Math.max(0, lowerBound(tr.loadNs, w.t0) - 1);
      const b = Math.min(tr.loadNs.length, lowerBound(tr.loadNs, w.t1) + 1);
      const step = Math.max(1, Math.floor((b - a) / Math.max(1, w.width * 2)));
      for (let k = a; k < b; k += step) {
        load.push({ x: px(tr.loadNs[k]!), v: tr.load[k]! });
        if (tr.load[k]! > maxLoad) maxLoad = tr.load[k]!;
      }
    }
    rows.push({ cpu: c, slices, load });
  }
  const ideal: LinePoint[] = [];
  {
    const a = Math.max(0, lowerBound(model.roundNs, w.t0) - 1);
    const b = Math.min(model.rounds.length, lowerBound(model.roundNs, w.t1) + 1);
    const step = Math.max(1, Math.floor((b - a) / Math.max(1, w.width * 2)));
    for (let k = a; k < b; k += step) ideal.push({ x: px(model.rounds[k]!.ns), v: model.rounds[k]!.ideal });
  }
  const arrows: Arrow[] = [];
  const a = lowerBound(model.migrationNs, w.t0);
  const b = lowerBound(model.migrationNs, w.t1 + 1);
  for (let k = a; k < b; k++) {
    const m = model.migrations[k]!;
    if (opt.reasons && !opt.reasons.has(m.reason)) continue;
    if (m.from === m.to) continue;
    arrows.push({ x: px(m.ns), from: m.from, to: m.to, reason: m.reason, index: k, dim: follow !== undefined && m.tid !== follow });
  }
  return { rows, ideal, arrows, maxLoad };
}

/** The arrow under (x, y) with rows of rowHeight pixels from y = top, within tol pixels; -1 if none. */
export function hitArrow(v: SchedView, x: number, y: number, rowHeight: number, top = 0, tol = 4): number {
  let best = -1;
  let bestD = tol + 1;
  for (const a of v.arrows) {
    const d = Math.abs(a.x - x);
    if (d > tol) continue;
    const y0 = top + (Math.min(a.from, a.to) + 0.5) * rowHeight;
    const y1 = top + (Math.max(a.from, a.to) + 0.5) * rowHeight;
    if (y < y0 - tol || y > y1 + tol) continue;
    if (d < bestD) {
      bestD = d;
      best = a.index;
    }
  }
  return best;
}

/** The slice under x on CPU row cpu, or undefined. */
export function hitSlice(v: SchedView, cpu: number, x: number): SliceBox | undefined {
  const row = v.rows[cpu];
  if (!row) return undefined;
  const i = lowerBound(row.slices.map((s) => s.x1), x);
  const s = row.slices[i];
  return s && s.x0 <= x ? s : undefined;
}

/** When every CPU's load first came within tol (a fraction) of the ideal after ns, or -1. */
export function balancedAt(model: SchedModel, after: number, tol = 0.1): number {
  for (let k = lowerBound(model.roundNs, after); k < model.rounds.length; k++) {
    const r = model.rounds[k]!;
    if (!r.ideal) continue;
    if (r.before.every((l) => Math.abs(l - r.ideal) <= tol * r.ideal)) return r.ns;
  }
  return -1;
}
