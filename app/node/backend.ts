/*
 * The backend: one object that owns the open project, the runner, terminals and window state, and
 * answers the contract's requests (app/common/contract.ts). Transports (WebSocket server, Electron
 * IPC) call `handle()` with raw strings and register sinks for events; several may be attached.
 */
import fs from 'node:fs';
import {
  parseClientMessage,
  registerRequestNames,
  type EventMessage,
  type Events,
  type RequestName,
  type ServerMessage,
} from '../common/contract.js';
import { validateProjectConfig } from '../common/project.js';
import { stopAll } from './proc.js';
import { Project } from './project.js';
import { describeState, type TargetState } from '../common/contract.js';
import { Runner } from './runner.js';
import { listSerialPorts } from './serial.js';
import { StateStore } from './state.js';
import { Terminals } from './terminals.js';
import { TrustStore } from './trust.js';
import { HotExitStore } from './hot-exit.js';
import { TraceBackend } from './trace.js';
import { backendViews } from './views/index.js';
import type { Handler, Handlers, LooseHandlers } from './views/types.js';

type Sink = (msg: ServerMessage) => void;

export interface BackendOptions {
  project?: string | undefined;
  stateDir?: string | undefined;
  /** Folders trusted without asking (the bundled os/); see app/node/trust.ts. */
  trusted?: string[] | undefined;
}

export class Backend {
  project: Project | null = null;
  readonly runner: Runner;
  readonly terminals: Terminals;
  readonly state: StateStore;
  /** Workspace trust: which folders may run their commands (app/node/trust.ts). */
  readonly trust: TrustStore;
  /** Backups of dirty buffers (hot exit: app/node/hot-exit.ts). */
  readonly backups: HotExitStore;
  /** Electron's main process waits here for the renderer's answer to `app.closeRequested` (quit-flow.ts). */
  onCloseAnswer: ((proceed: boolean) => void) | null = null;
  /** The trace every trace view shows: its source and bytes (app/node/trace.ts). */
  readonly trace: TraceBackend;
  /** The views' backend halves (app/node/views/): IPC lanes, debugging. */
  private readonly views: ReturnType<typeof backendViews>;
  private sinks = new Set<Sink>();
  private handlers: Map<string, Handler<RequestName>>;

  constructor(opts: BackendOptions = {}) {
    this.state = new StateStore(opts.stateDir);
    this.trust = new TrustStore(opts.stateDir, opts.trusted ?? []);
    this.backups = new HotExitStore(opts.stateDir);
    this.runner = new Runner((e, p) => this.emit(e, p), () => this.project);
    // Checked again by the Runner with the config it is about to run (after re-reading lanescope.json).
    this.runner.checkTrust = (p) => this.trust.check(p, 'Run');
    this.terminals = new Terminals(
      (id, data) => this.emit('term.data', { id, data }),
      (id, code) => this.emit('term.exit', { id, code }),
    );
    this.trace = new TraceBackend((e, p) => this.emit(e, p), () => this.project);
    this.runner.onTrace = (file, live) => this.trace.setRecording(file, live);
    this.views = backendViews({ emit: (e, p) => this.emit(e, p), runner: this.runner, getProject: () => this.project, stateDir: opts.stateDir });
    this.attach((m) => {
      // The target ended (exited, Stop, failed): so did its debug session.
      if (m.type === 'event' && m.event === 'run.state') {
        const st = (m.payload as { state: TargetState }).state;
        if (['exited', 'stopped', 'failed'].includes(st.kind)) this.views.targetEnded(`the target ${describeState(st)}`);
      }
    });
    const initial = opts.project ?? this.state.lastProject;
    if (initial) {
      try {
        this.project = new Project(initial);
      } catch {
        this.project = null;
      }
    }
    const handlers: Handlers = {
      'project.open': async ({ path }) => {
        if (path !== undefined) {
          if (typeof path !== 'string' || !path.trim()) throw new Error('give the folder to open');
          if (this.runner.busy) await this.runner.stop();
          this.project = new Project(path.trim());
          this.state.setLastProject(this.project.root);
        }
        if (!this.project) throw new Error('no project is open');
        return this.project.info();
      },
      'project.writeConfig': ({ config }) => {
        const p = this.needProject();
        p.writeConfig(config);
        const info = p.info();
        this.emit('project.changed', { project: info });
        return info;
      },
      'project.setTarget': ({ kind, qemu, serial }) => {
        const p = this.needProject();
        p.reloadConfig();
        const raw = JSON.parse(JSON.stringify(p.config)) as Record<string, Record<string, unknown>>;
        (raw as Record<string, unknown>)['target'] = kind;
        if (qemu) raw['qemu'] = { ...raw['qemu'], cpus: qemu.cpus, memory: qemu.memory, accel: qemu.accel };
        if (serial) raw['serial'] = { ...raw['serial'], port: serial.port, baud: serial.baud, ...(typeof serial.mux === 'boolean' ? { mux: serial.mux } : {}), ...(serial.reset !== undefined ? { reset: serial.reset } : {}) };
        const { config, errors } = validateProjectConfig(raw, p.config.name);
        if (errors.length) throw new Error(errors.join('; '));
        p.writeConfig(config);
        const info = p.info();
        this.emit('project.changed', { project: info });
        return info;
      },
      'fs.list': ({ path }) => this.needProject().list(path),
      'fs.read': ({ path }) => ({ path, content: this.needProject().read(path) }),
      'fs.write': ({ path, content }) => {
        const p = this.needProject();
        const bytes = p.write(path, content);
        if (path === 'lanescope.json') {
          p.reloadConfig();
          this.emit('project.changed', { project: p.info() });
        }
        return { path, bytes };
      },
      'trust.status': () => {
        const p = this.needProject();
        p.reloadConfig();
        return this.trust.status(p);
      },
      'trust.grant': ({ hash }) => {
        if (typeof hash !== 'string') throw new Error('hash must be a string');
        const p = this.needProject();
        p.reloadConfig();
        return this.trust.grant(p, hash);
      },
      'backup.set': ({ path: rel, content }) => {
        this.backups.set(this.needProject(), rel, content);
        return { ok: true };
      },
      'backup.drop': ({ paths }) => {
        this.backups.drop(this.needProject(), paths);
        return { ok: true };
      },
      'backup.list': () => (this.project ? this.backups.list(this.project) : []),
      'app.closeAnswer': ({ proceed }) => {
        this.onCloseAnswer?.(proceed === true);
        return { ok: true };
      },
      'run.start': () => {
        this.checkTrusted('Run');
        this.runner.checkCanStart();
        this.runner.start().catch((e: Error) => this.emit('notice', { level: 'error', message: e.message }));
        return { ok: true };
      },
      'run.stop': async () => {
        await this.runner.stop();
        return { ok: true };
      },
      'run.restart': async () => {
        this.checkTrusted('Restart');
        await this.runner.stop();
        this.runner.checkCanStart();
        this.runner.start().catch((e: Error) => this.emit('notice', { level: 'error', message: e.message }));
        return { ok: true };
      },
      'run.status': () => ({ state: this.runner.state, since: this.runner.since, problems: this.runner.problems }),
      'console.input': ({ data }) => {
        if (typeof data !== 'string') throw new Error('console input must be a string');
        this.runner.consoleInput(data);
        return { ok: true };
      },
      'term.create': ({ cols, rows }) => {
        // A shell in an untrusted folder would run its .envrc-style hooks and invite running its scripts.
        if (this.project) this.trust.check(this.project, 'A terminal');
        const cwd = this.project?.root ?? process.cwd();
        return { id: this.terminals.create(cwd, cols, rows) };
      },
      'term.input': ({ id, data }) => {
        this.terminals.input(id, data);
        return { ok: true };
      },
      'term.resize': ({ id, cols, rows }) => {
        this.terminals.resize(id, cols, rows);
        return { ok: true };
      },
      'term.ack': ({ id, bytes }) => {
        this.terminals.ack(id, bytes);
        return { ok: true };
      },
      'term.close': async ({ id }) => {
        await this.terminals.close(id);
        return { ok: true };
      },
      'serial.list': () => listSerialPorts(),
      'state.get': () => this.state.get(this.project?.root ?? null),
      'state.set': ({ state }) => {
        this.state.set(this.project?.root ?? null, state);
        return { ok: true };
      },
      ...this.trace.handlers(this.runner, () => this.needProject()),
      ...this.views.handlers,
    };
    const debugRun = handlers['debug.run'];
    handlers['debug.run'] = (params) => {
      this.checkTrusted('Debug');
      return debugRun(params);
    };
    this.handlers = new Map(Object.entries(handlers) as [string, Handler<RequestName>][]);
    registerRequestNames(this.handlers.keys());
  }

  /** Throws the restricted-mode message unless the open project is trusted with its current lanescope.json. */
  private checkTrusted(what: string): void {
    const p = this.needProject();
    p.reloadConfig();
    this.trust.check(p, what);
  }

  /**
   * Adds handlers for requests beyond the built-in table (a view loaded at run time, a test's toy
   * view); their names become valid requests.
   */
  registerRequests(more: LooseHandlers): void {
    for (const [name, h] of Object.entries(more)) {
      if (this.handlers.has(name)) throw new Error(`request ${name} is already handled`);
      this.handlers.set(name, h as unknown as Handler<RequestName>);
    }
    registerRequestNames(Object.keys(more));
  }

  private needProject(): Project {
    if (!this.project) throw new Error('no project is open; open a folder first');
    return this.project;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const msg: EventMessage<K> = { type: 'event', event, payload };
    for (const s of this.sinks) s(msg as ServerMessage);
  }

  attach(sink: Sink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** Handles one raw message from a renderer and replies through `reply`. Never throws. */
  async handle(raw: string, reply: Sink): Promise<void> {
    const msg = parseClientMessage(raw);
    if (typeof msg === 'string') {
      this.emit('notice', { level: 'error', message: `bad message from the renderer: ${msg}` });
      return;
    }
    try {
      const h = this.handlers.get(msg.method);
      if (!h) throw new Error(`unknown method ${JSON.stringify(msg.method)}`);
      const result = await h(msg.params);
      reply({ type: 'response', id: msg.id, ok: true, result } as ServerMessage);
    } catch (e) {
      reply({ type: 'response', id: msg.id, ok: false, error: (e as Error).message ?? String(e) });
    }
  }

  async shutdown(): Promise<void> {
    await this.views.shutdown().catch(() => undefined);
    await this.runner.stop().catch(() => undefined);
    await this.terminals.closeAll().catch(() => undefined);
    await stopAll();
  }
}

export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
