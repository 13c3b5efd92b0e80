/*
 * The IPC lanes panel: visualizers' IPC view hosted in the workbench. Its trace comes from the
 * backend (app/node/ipc-view.ts): the Run's live recording, polled as it grows (follow mode shows
 * new messages as they happen), or a saved trace opened from the toolbar. Source lines of
 * submitting return addresses are resolved by the backend and opened in the editor; Break on
 * next message arms a one-shot conditional breakpoint on the kernel's IPC submit path through
 * the debug session (app/browser/debug) when one is running.
 */
import type { IpcRequests, IpcSource } from '../../../common/ipc-view.js';
import { resultCodesFrom } from '../../../../visualizers/ipc/adapt.js';
import { tableDecoder } from '../../../../visualizers/ipc/messages.js';
import { IpcModel } from '../../../../visualizers/ipc/model.js';
import { createIpcView, type BreakTarget, type IpcView } from '../../../../visualizers/ipc/view.js';
import { registerView, type ViewContext, type ViewInstance } from '../../views.js';
import { BreakOnNext } from './break.js';
import { TraceFeed, base64ToBytes } from './trace-feed.js';
import { publishSelection } from '../selection.js';

export interface IpcPanelHooks {
  /** arm "break on next message" (set by the debug integration when available) */
  breakOnNext?: (t: BreakTarget, model: IpcModel) => Promise<string>;
}

export const ipcPanelHooks: IpcPanelHooks = {};
export const ipcDebug: { view?: IpcView; model?: IpcModel; feed?: TraceFeed } = {};

function button(label: string, title: string, onclick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.title = title;
  b.onclick = onclick;
  return b;
}

/** A default file name for the Run's trace in the project: traces/run-YYYYMMDD-HHMMSS.EXT (local time). */
function runFileName(ext: string): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `traces/run-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.${ext}`;
}

class IpcPanel {
  model!: IpcModel;
  view!: IpcView;
  feed!: TraceFeed;
  private source: IpcSource = { path: '', live: false, generation: -1 };
  private offset = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reading = false;
  /** the source generation the current model/feed was made for (reads wait for it) */
  private readyGen = -2;
  private shown = false;
  private abi: IpcRequests['ipc.abi']['result'] = { errors: {}, messages: [], problems: [] };

  constructor(private readonly host: HTMLElement, private readonly ctx: ViewContext) {}

  private breaker: BreakOnNext | undefined;

  async init(): Promise<void> {
    const c = this.ctx.client;
    this.breaker = new BreakOnNext(this.ctx, () => ({ view: this.view, model: this.model, feed: this.feed }));
    if (!ipcPanelHooks.breakOnNext) ipcPanelHooks.breakOnNext = (t, model) => this.breaker!.arm(t, model);
    await this.loadAbi();
    this.reset();
    c.on('ipc.source', (s) => this.setSource(s));
    this.setSource(await c.request('ipc.source', {}));
  }

  private reset(): void {
    const abi = this.abi;
    const old = this.view;
    this.model = new IpcModel({ results: resultCodesFrom(abi.errors), decoder: abi.messages.length ? tableDecoder(abi.messages) : undefined });
    this.feed = new TraceFeed(this.model);
    const procName = (pid: number) => this.model.processes.get(pid)?.name ?? '';
    if (old) old.dispose();
    this.host.textContent = '';
    this.view = createIpcView(this.host, this.model, {
      resolveSource: async (addr, pid) => (await this.ctx.client.request('ipc.resolve', { addr, program: procName(pid) })) ?? undefined,
      openSource: (file, line) => void this.ctx.openFile(file, line),
      breakOnNext: ipcPanelHooks.breakOnNext ? (t) => ipcPanelHooks.breakOnNext!(t, this.model) : undefined,
      // the other views (scheduler) follow the selected message's moment and threads
      selected: (_m, d) => d && publishSelection({ ns: d.ns, tids: [d.src.tid, d.dst.tid], from: 'ipc' }),
    }, this.ctx.theme());
    this.model.onChange(() => this.breaker?.trySelect());
    ipcDebug.view = this.view;
    ipcDebug.model = this.model;
    ipcDebug.feed = this.feed;
    this.addOpenButton();
    if (abi.problems.length) this.view.setStatus(abi.problems[0]!);
  }

  private addOpenButton(): void {
    const bar = this.host.querySelector('.ipcv-bar');
    if (!bar) return;
    const status = (what: string) => (e: Error) => this.view.setStatus(`cannot ${what}: ${e.message}`);
    const buttons = [
      button('Open trace…', 'Open a saved trace file (.ltrace) — e.g. a Run\'s recording or one made with the trace CLI', () => {
        const p = window.prompt('Trace file to open (absolute, or relative to the project):', this.source.path || 'trace.ltrace');
        if (p) this.ctx.client.request('ipc.openTrace', { path: p }).catch(status('open'));
      }),
      button('Save trace…', 'Save the current (or last) Run\'s trace recording into the project; reopen it with Open trace…', () => {
        const p = window.prompt('Save the Run\'s trace as (relative to the project):', runFileName('ltrace'));
        if (p) this.ctx.client.request('trace.save', { path: p }).catch(status('save'));
      }),
      button('Export to Perfetto…', 'Write the current (or last) Run\'s trace in Perfetto\'s format (CPU scheduling, syscalls, IPC flows) to open in ui.perfetto.dev', () => {
        const p = window.prompt('Export the Run\'s trace for Perfetto as (relative to the project):', runFileName('pftrace'));
        if (!p) return;
        this.ctx.client
          .request('trace.exportPerfetto', { path: p })
          .then((r) => this.view.setStatus(`exported ${r.events.toLocaleString('en-US')} events to ${r.path} (${r.bytes.toLocaleString('en-US')} bytes) — open it in ui.perfetto.dev`))
          .catch(status('export'));
      }),
    ];
    bar.prepend(...buttons);
  }

  private async loadAbi(): Promise<void> {
    this.abi = await this.ctx.client.request('ipc.abi', {}).catch(() => ({ errors: {}, messages: [], problems: ['the backend has no IPC view support'] }));
  }

  private setSource(s: IpcSource): void {
    const fresh = s.generation !== this.source.generation;
    this.source = s;
    if (fresh) {
      this.offset = 0;
      if (this.timer) clearTimeout(this.timer);
      // a Run builds the OS first: the generated ABI tables (message types) may be new
      const gen = s.generation;
      void this.loadAbi().then(() => {
        if (gen !== this.source.generation) return;
        this.offset = 0;
        this.reset();
        this.readyGen = gen;
        this.view.setFollow(s.live);
        this.view.setStatus(s.path ? `${s.live ? 'live' : 'trace'}: ${s.path.split('/').pop()}` : 'no trace yet: press Run');
        this.schedule(0);
      });
      return;
    }
    this.view.setStatus(s.path ? `${s.live ? 'live' : 'trace'}: ${s.path.split('/').pop()}` : 'no trace yet: press Run');
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.read(), ms);
  }

  private async read(): Promise<void> {
    if (this.reading || !this.source.path || this.readyGen !== this.source.generation) return;
    this.reading = true;
    const gen = this.source.generation;
    const feed = this.feed;
    try {
      for (;;) {
        const r = await this.ctx.client.request('ipc.readTrace', { generation: gen, offset: this.offset });
        if (gen !== this.source.generation || feed !== this.feed) return;
        if (r.data) {
          const bytes = base64ToBytes(r.data);
          this.offset += bytes.length;
          this.feed.push(bytes);
        }
        if (this.offset >= r.size) {
          if (!r.live) this.feed.finish();
          break;
        }
      }
    } catch {
      /* source changed under us or the backend went away: the next source event restarts */
    } finally {
      this.reading = false;
    }
    if (this.source.live && gen === this.source.generation) this.schedule(this.shown ? 250 : 1000);
  }

  instance(): ViewInstance {
    return {
      shown: () => {
        this.shown = true;
        this.view?.resized();
      },
      hidden: () => {
        this.shown = false;
      },
      resized: () => this.view?.resized(),
      themeChanged: (t) => this.view?.setTheme(t),
    };
  }
}

export function registerIpcPanel(): void {
  registerView({
    id: 'ipc',
    title: 'IPC lanes',
    location: 'panel',
    order: 40,
    create(host, ctx) {
      host.style.height = '100%';
      const p = new IpcPanel(host, ctx);
      p.init().catch((e: Error) => {
        host.textContent = `IPC view: ${e.message}`;
      });
      return p.instance();
    },
  });
}
