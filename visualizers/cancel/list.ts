/*
 * list.ts — the cancelled syscalls of a Run as a list (filter, sort), its latency histogram, and
 * the view's navigation as pure operations: ←/→ steps through the selected call's chain links,
 * ↑/↓ to the previous/next cancelled call of the (filtered, sorted) list. No DOM.
 *
 * Rows are computed once per model version (ChainCache) so sorting 10,000 cancellations by
 * latency does not rebuild 10,000 chains per keystroke.
 */
import { callLabel, outcomeLabel, signalName, type CancelModel, type Chain, type Outcome } from './model.js';

export interface CancelRow {
  call: number;
  ns: number;
  label: string;
  pid: number;
  tid: number;
  process: string;
  signo: number;
  signal: string;
  why: string;
  outcome: Outcome;
  outcomeText: string;
  servers: string[];
  /** the chain's total (first link → last link), ns */
  latency: number;
  links: number;
}

export type SortKey = 'time' | 'latency' | 'signal' | 'outcome' | 'process' | 'server';

export interface ListQuery {
  signo?: number;
  outcome?: Outcome;
  pid?: number;
  server?: string;
  minLatency?: number;
  maxLatency?: number;
  sort?: SortKey;
  desc?: boolean;
}

/** Chains and rows of a model, rebuilt when the model's version changes. */
export class ChainCache {
  private version = -1;
  private chains = new Map<number, Chain>();
  private rowsMemo: CancelRow[] = [];
  private rowsFor = 0;

  constructor(private readonly model: CancelModel) {}

  private check(): void {
    if (this.version !== this.model.version) {
      this.version = this.model.version;
      this.chains.clear();
      this.rowsFor = 0;
      this.rowsMemo = [];
    }
  }

  chain(call: number): Chain {
    this.check();
    let c = this.chains.get(call);
    if (!c) {
      c = this.model.chain(call);
      this.chains.set(call, c);
    }
    return c;
  }

  /** Every cancelled call as a row (in order of first sight). */
  rows(): CancelRow[] {
    this.check();
    const m = this.model;
    for (let i = this.rowsFor; i < m.cancelled.length; i++) {
      const idx = m.cancelled[i]!;
      const c = m.calls[idx]!;
      const ch = this.chain(idx);
      const signo = ch.signo || c.signo;
      this.rowsMemo.push({
        call: idx, ns: ch.links[0]?.ns ?? c.begin, label: callLabel(c), pid: c.pid, tid: c.tid, process: m.processName(c.pid), signo,
        signal: signo ? signalName(signo) : '', why: ch.why, outcome: c.outcome, outcomeText: outcomeLabel(c), servers: ch.servers,
        latency: ch.total, links: ch.links.length,
      });
    }
    this.rowsFor = m.cancelled.length;
    return this.rowsMemo;
  }
}

const OUTCOME_ORDER: Record<string, number> = { eintr: 0, partial: 1, restarted: 2, killed: 3, raced: 4, completed: 5, open: 6, lost: 7 };

/** The rows a query keeps, sorted (stable: equal keys stay in time order). */
export function queryRows(rows: readonly CancelRow[], q: ListQuery = {}): CancelRow[] {
  const out = rows.filter((r) =>
    (q.signo === undefined || r.signo === q.signo)
    && (q.outcome === undefined || r.outcome === q.outcome)
    && (q.pid === undefined || r.pid === q.pid)
    && (q.server === undefined || r.servers.includes(q.server))
    && (q.minLatency === undefined || r.latency >= q.minLatency)
    && (q.maxLatency === undefined || r.latency <= q.maxLatency));
  const key = q.sort ?? 'time';
  const cmp: Record<SortKey, (a: CancelRow, b: CancelRow) => number> = {
    time: (a, b) => a.ns - b.ns,
    latency: (a, b) => a.latency - b.latency,
    signal: (a, b) => a.signo - b.signo,
    outcome: (a, b) => (OUTCOME_ORDER[a.outcome] ?? 9) - (OUTCOME_ORDER[b.outcome] ?? 9),
    process: (a, b) => (a.process < b.process ? -1 : a.process > b.process ? 1 : a.pid - b.pid),
    server: (a, b) => {
      const x = a.servers.join(',');
      const y = b.servers.join(',');
      return x < y ? -1 : x > y ? 1 : 0;
    },
  };
  const c = cmp[key];
  const dir = q.desc ? -1 : 1;
  return out.map((r, i) => ({ r, i })).sort((a, b) => dir * c(a.r, b.r) || a.r.ns - b.r.ns || a.i - b.i).map((x) => x.r);
}

export interface Histogram {
  /** bin lower edges in ns (bin i covers [edges[i], edges[i+1])), powers of two */
  edges: number[];
  counts: number[];
  max: number;
}

/** Latency histogram over log2 bins (1 µs … the largest latency), at most `maxBins` bins. */
export function latencyHistogram(rows: readonly CancelRow[], maxBins = 24): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    const v = Math.max(1, r.latency);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!rows.length) return { edges: [], counts: [], max: 0 };
  let e0 = Math.floor(Math.log2(lo));
  const e1 = Math.floor(Math.log2(hi));
  if (e1 - e0 + 1 > maxBins) e0 = e1 - maxBins + 1;
  const n = e1 - e0 + 1;
  const counts = new Array<number>(n).fill(0);
  for (const r of rows) {
    const b = Math.min(n - 1, Math.max(0, Math.floor(Math.log2(Math.max(1, r.latency))) - e0));
    counts[b]!++;
  }
  const edges = Array.from({ length: n + 1 }, (_, i) => 2 ** (e0 + i));
  return { edges, counts, max: Math.max(...counts) };
}

/** Where the view is: a row of the list (its call) and a link of its chain (-1: none). */
export interface Selection {
  call: number;
  link: number;
}

/** ←/→: the previous/next link of the selected chain (clamped; the first → when none yet). */
export function stepLink(cache: ChainCache, sel: Selection, dir: 1 | -1): Selection {
  const n = cache.chain(sel.call).links.length;
  if (!n) return sel;
  if (sel.link < 0) return { call: sel.call, link: dir > 0 ? 0 : n - 1 };
  return { call: sel.call, link: Math.max(0, Math.min(n - 1, sel.link + dir)) };
}

/** ↑/↓: the previous/next cancelled call of the list (from the selected one; the first/last when
 * none or when the selected call is filtered out). The chain's first link is selected. */
export function stepCall(list: readonly CancelRow[], sel: Selection | null, dir: 1 | -1): Selection | null {
  if (!list.length) return null;
  const at = sel ? list.findIndex((r) => r.call === sel.call) : -1;
  const next = at < 0 ? (dir > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, at + dir));
  return { call: list[next]!.call, link: 0 };
}
