/*
 * The trace store: the one place in the renderer that reads the trace. It follows the backend's
 * trace source (trace.source: the Run's live recording, or a saved trace opened with trace.open),
 * reads the bytes as they grow (trace.read, polled: 250 ms while a trace view is visible, 1 s
 * otherwise; a saved trace is read to the end), decodes and merges them ONCE into a TraceTable
 * (columnar), and tells every subscribed view what changed — each view reads the new rows and
 * updates its own model. It also owns what all views share: the time cursor and the selection.
 *
 *   backend ──trace.read (bytes)──▶ TraceStore ─ TraceTable (decode + merge once) ─▶ IPC model
 *                                        │                                        ─▶ (next view)
 *                                        └─ cursor / selection ◀──▶ every view
 *
 * Live and saved traces take the same path. No DOM: unit-tested with a fake client.
 */
import type { EventName, Events, RequestName, Requests, TraceSource, TraceStatus } from '../../common/contract.js';
import { TraceTable, base64ToBytes } from './table.js';

export interface StoreClient {
  request<K extends RequestName>(method: K, params: Requests[K]['params']): Promise<Requests[K]['result']>;
  on<K extends EventName>(event: K, cb: (payload: Events[K]) => void): () => void;
}

export type StoreChange =
  /** a new source: the table is new and empty; views start over */
  | { kind: 'reset'; source: TraceSource }
  /** rows [from, table.count) are new */
  | { kind: 'rows'; from: number }
  /** the source is complete (a saved trace read to the end, or a Run that ended) */
  | { kind: 'end' }
  /** source label, stats or status text changed */
  | { kind: 'status' };

/** What the views share: a point in time and a selected thing (each view says what it selected). */
export interface TraceSelection {
  /** the view that made the selection, e.g. 'ipc' */
  view: string;
  /** what was selected, in that view's terms (e.g. 'message', 'op') and its id */
  kind: string;
  id: number | bigint;
  /** its time (ns since boot), when it has one */
  ns?: number;
  /** the threads it involves (an IPC message: both sides), for views that place threads */
  tids?: number[];
}

export class TraceStore {
  table = new TraceTable();
  source: TraceSource = { path: '', live: false, generation: -1 };
  private offset = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reading = false;
  private visible = new Set<string>();
  private listeners = new Set<(c: StoreChange) => void>();
  private cursorListeners = new Set<(ns: number | null, from: string) => void>();
  private selListeners = new Set<(s: TraceSelection | null) => void>();
  cursor: number | null = null;
  selection: TraceSelection | null = null;
  /** the backend's transport figures of the Run's recording (drops outside the stream, serial frames) */
  private transport: TraceStatus | null = null;
  private rate = { at: 0, events: 0, perSec: 0 };
  /** a read was asked for while one was in flight */
  private readAgain = false;
  /** polling delays (ms): while a trace view is visible, otherwise */
  fastMs = 250;
  slowMs = 1000;

  private client!: StoreClient;

  /** Starts following the backend's trace source. */
  async start(client: StoreClient): Promise<void> {
    this.client = client;
    this.client.on('trace.source', (s) => this.setSource(s));
    this.client.on('trace.stats', (t) => {
      this.transport = t;
      this.emit({ kind: 'status' });
    });
    this.setSource(await this.client.request('trace.source', {}));
  }

  /** Opens a saved trace (absolute, or relative to the project) as the source of every view. */
  open(path: string): Promise<TraceSource> {
    return this.client.request('trace.open', { path });
  }

  onChange(cb: (c: StoreChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** A trace view tells the store when it is on screen (the store then polls faster). */
  setVisible(view: string, on: boolean): void {
    if (on) this.visible.add(view);
    else this.visible.delete(view);
    if (on && this.source.live) this.schedule(0);
  }

  setCursor(ns: number | null, from: string): void {
    if (ns === this.cursor) return;
    this.cursor = ns;
    for (const l of this.cursorListeners) l(ns, from);
  }
  onCursor(cb: (ns: number | null, from: string) => void): () => void {
    this.cursorListeners.add(cb);
    return () => this.cursorListeners.delete(cb);
  }

  select(s: TraceSelection | null): void {
    this.selection = s;
    if (s?.ns !== undefined && Number.isFinite(s.ns)) this.setCursor(s.ns, s.view);
    for (const l of this.selListeners) l(s);
  }
  onSelection(cb: (s: TraceSelection | null) => void): () => void {
    this.selListeners.add(cb);
    return () => this.selListeners.delete(cb);
  }

  /** The status-bar figures: the store's decode (events, rate, losses in the stream) plus the
   * transport's (drops before the stream, corrupt serial frames). Null before any Run. */
  status(): TraceStatus | null {
    const t = this.transport;
    if (!t) return null;
    const st = this.table.decoder.stats;
    return {
      live: t.live,
      events: st.events,
      eventsPerSec: t.live ? this.rate.perSec : 0,
      lost: t.lost + st.lost + st.transportLost,
      corruptFrames: t.corruptFrames + st.corruptFrames,
    };
  }

  /** A one-line description of the source for toolbars: "live: trace.ltrace", "trace: x.ltrace". */
  label(): string {
    const s = this.source;
    return s.path ? `${s.live ? 'live' : 'trace'}: ${s.path.split('/').pop()}` : 'no trace yet: press Run';
  }

  private emit(c: StoreChange): void {
    for (const l of this.listeners) l(c);
  }

  private setSource(s: TraceSource): void {
    const fresh = s.generation !== this.source.generation;
    const wasLive = this.source.live;
    this.source = s;
    if (fresh) {
      if (this.timer) clearTimeout(this.timer);
      this.table = new TraceTable();
      this.offset = 0;
      this.rate = { at: 0, events: 0, perSec: 0 };
      this.setCursor(null, 'store');
      this.select(null);
      this.emit({ kind: 'reset', source: s });
    } else {
      this.emit({ kind: 'status' });
      if (wasLive && !s.live) this.schedule(0); // the Run ended: read the rest, then finish
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.read(), ms);
  }

  /** Reads what the source has beyond `offset`, decodes it once, tells the views. */
  async read(): Promise<void> {
    if (!this.source.path || this.table.finished) return;
    if (this.reading) {
      // one read at a time: this one comes when the read in flight is done (it may be of a source
      // that was replaced meanwhile — a trace opened while the live recording was being read)
      this.readAgain = true;
      return;
    }
    this.reading = true;
    this.readAgain = false;
    const gen = this.source.generation;
    const table = this.table;
    let ended = false;
    let stale = false;
    try {
      for (;;) {
        const r = await this.client.request('trace.read', { generation: gen, offset: this.offset });
        if (gen !== this.source.generation || table !== this.table) {
          stale = true;
          break;
        }
        if (r.data) {
          const bytes = base64ToBytes(r.data);
          this.offset += bytes.length;
          const from = table.count;
          if (table.push(bytes)) this.emit({ kind: 'rows', from });
        }
        if (this.offset >= r.size) {
          if (!r.live) {
            const from = table.count;
            if (table.finish()) this.emit({ kind: 'rows', from });
            ended = true;
          }
          break;
        }
      }
    } catch {
      /* the source changed under us or the backend went away: the next source event restarts */
    } finally {
      this.reading = false;
    }
    const again = stale || this.readAgain;
    this.readAgain = false;
    if (!stale) {
      this.measureRate();
      if (ended) this.emit({ kind: 'end' });
      else this.emit({ kind: 'status' });
    }
    if (again) this.schedule(0);
    else if (this.source.live && gen === this.source.generation) this.schedule(this.visible.size ? this.fastMs : this.slowMs);
  }

  private measureRate(): void {
    const now = Date.now();
    const n = this.table.decoder.stats.events;
    if (!this.rate.at) this.rate = { at: now, events: n, perSec: 0 };
    else if (now - this.rate.at >= 500) this.rate = { at: now, events: n, perSec: ((n - this.rate.events) * 1000) / (now - this.rate.at) };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }
}
