/*
 * The scheduler panel: visualizers' scheduler view (visualizers/sched) hosted in the workbench.
 * Its trace is the same one the IPC lanes panel reads from the backend (app/node/ipc-view.ts:
 * `ipc.source` / `ipc.readTrace` — the Run's live recording as it grows, or a saved trace opened
 * there), decoded with debugger/common/trace (RecordDecoder, EventMerger: CPUs merged by time,
 * 200 ms window live) and fed to the SchedModel. Follow mode keeps the newest 5 s in view. A
 * message selected in the IPC lanes view (views/selection.ts) centres the view on its moment and
 * says on which CPU each of its two threads ran.
 */
import type { IpcSource } from '../../../common/ipc-view.js';
import { SchedModel } from '../../../../visualizers/sched/model.js';
import { createSchedView, type SchedView } from '../../../../visualizers/sched/view.js';
import { registerView, type ViewContext, type ViewInstance } from '../../views.js';
import { base64ToBytes } from '../ipc/trace-feed.js';
import { SchedFeed } from './trace-feed.js';
import { onSelection } from '../selection.js';

export const schedDebug: { view?: SchedView; model?: SchedModel } = {};

class SchedPanel {
  model!: SchedModel;
  view!: SchedView;
  feed!: SchedFeed;
  private source: IpcSource = { path: '', live: false, generation: -1 };
  private offset = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reading = false;
  private shown = false;

  constructor(private readonly host: HTMLElement, private readonly ctx: ViewContext) {}

  async init(): Promise<void> {
    this.reset();
    // a message selected in the IPC lanes view: show that moment and where both threads ran
    onSelection((s) => {
      if (s.from !== 'sched' && this.view) this.view.showAt(s.ns, s.tids);
    });
    this.ctx.client.on('ipc.source', (s) => this.setSource(s));
    this.setSource(await this.ctx.client.request('ipc.source', {}));
  }

  private reset(): void {
    this.view?.dispose();
    this.host.textContent = '';
    this.model = new SchedModel();
    this.feed = new SchedFeed(this.model);
    this.view = createSchedView(this.host, this.model, {}, this.ctx.theme());
    schedDebug.view = this.view;
    schedDebug.model = this.model;
  }

  private setSource(s: IpcSource): void {
    const fresh = s.generation !== this.source.generation;
    this.source = s;
    if (fresh) {
      this.offset = 0;
      this.reset();
      this.view.setFollow(s.live);
    }
    this.view.setStatus(s.path ? `${s.live ? 'live' : 'trace'}: ${s.path.split('/').pop()}` : 'no trace yet: press Run, then e.g. `spin 8`');
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.read(), ms);
  }

  private async read(): Promise<void> {
    if (this.reading || !this.source.path) return;
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
          feed.push(bytes);
        }
        if (this.offset >= r.size) {
          if (!r.live) {
            feed.finish();
            this.view.fit();
          }
          break;
        }
      }
    } catch {
      /* the source changed or the backend went away: the next source event restarts */
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

export function registerSchedPanel(): void {
  registerView({
    id: 'sched',
    title: 'Scheduler',
    location: 'panel',
    order: 45,
    create(host, ctx) {
      host.style.height = '100%';
      const p = new SchedPanel(host, ctx);
      p.init().catch((e: Error) => {
        host.textContent = `Scheduler view: ${e.message}`;
      });
      return p.instance();
    },
  });
}
