/*
 * The backend's trace: where the trace every trace view shows comes from, and its bytes — moved,
 * never decoded here (the renderer's trace store decodes them once).
 *
 *   Run (trace wiring) ──setRecording(path, live)──▶ TraceBackend ──'trace.source' event──▶ store
 *   store ──trace.read {generation, offset}──▶ bytes appended since offset (base64, ≤ 4 MiB)
 *   trace.open {path}     a saved trace becomes the source (checked: it starts with trace_header)
 *   trace.save {path}     the Run's recording copied into the project
 *   trace.exportPerfetto  the Run's recording in Perfetto's protobuf format
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Events, Requests, TraceSource } from '../common/contract.js';
import type { Project } from './project.js';
import type { Runner } from './runner.js';
import type { Handler } from './views/types.js';

const MAX_CHUNK = 4 << 20;

type TraceRequest = 'trace.source' | 'trace.read' | 'trace.open' | 'trace.save' | 'trace.exportPerfetto';
export type TraceHandlers = { [K in TraceRequest & keyof Requests]: Handler<K> };

export class TraceBackend {
  private src: TraceSource = { path: '', live: false, generation: 0 };

  constructor(
    private readonly emit: <K extends keyof Events>(event: K, payload: Events[K]) => void,
    private readonly getProject: () => Project | null,
  ) {}

  get source(): TraceSource {
    return this.src;
  }

  /** A Run started recording into `file` (live), or stopped (live false, the file stays readable). */
  setRecording(file: string, live: boolean): void {
    const same = this.src.path === file;
    this.src = { path: file, live, generation: same ? this.src.generation : this.src.generation + 1 };
    this.emit('trace.source', this.src);
  }

  openTrace(file: string): TraceSource {
    const project = this.getProject();
    const abs = path.isAbsolute(file) ? file : project ? project.resolve(file) : path.resolve(file);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new Error(`no trace file at ${abs}`);
    }
    if (!st.isFile()) throw new Error(`${abs} is not a file`);
    const head = Buffer.alloc(4);
    const fd = fs.openSync(abs, 'r');
    try {
      fs.readSync(fd, head, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (head.readUInt16LE(0) !== 1) throw new Error(`${abs} is not a LaneOS trace (it must start with a trace_header record; record one with the trace CLI or Run)`);
    this.src = { path: abs, live: false, generation: this.src.generation + 1 };
    this.emit('trace.source', this.src);
    return this.src;
  }

  readTrace(generation: number, offset: number, max = MAX_CHUNK): { data: string; offset: number; size: number; live: boolean } {
    if (generation !== this.src.generation) throw new Error('the trace source changed; start over from trace.source');
    if (!this.src.path) return { data: '', offset: 0, size: 0, live: this.src.live };
    if (!Number.isInteger(offset) || offset < 0) throw new Error('offset must be a non-negative integer');
    let size = 0;
    try {
      size = fs.statSync(this.src.path).size;
    } catch {
      return { data: '', offset, size: 0, live: this.src.live };
    }
    const n = Math.max(0, Math.min(size - offset, Math.min(max, MAX_CHUNK)));
    if (!n) return { data: '', offset, size, live: this.src.live };
    const buf = Buffer.alloc(n);
    const fd = fs.openSync(this.src.path, 'r');
    try {
      fs.readSync(fd, buf, 0, n, offset);
    } finally {
      fs.closeSync(fd);
    }
    return { data: buf.toString('base64'), offset, size, live: this.src.live };
  }

  handlers(runner: Runner, needProject: () => Project): TraceHandlers {
    return {
      'trace.source': () => this.src,
      'trace.read': ({ generation, offset, max }) => this.readTrace(Number(generation), Number(offset), max === undefined ? MAX_CHUNK : Number(max)),
      'trace.open': ({ path: p }) => {
        if (typeof p !== 'string' || !p.trim()) throw new Error('give the trace file to open');
        return this.openTrace(p.trim());
      },
      'trace.save': ({ path: rel }) => {
        if (typeof rel !== 'string' || !rel.trim()) throw new Error('give the file to save the trace to (e.g. traces/run.ltrace)');
        const abs = needProject().resolve(rel.trim());
        const bytes = runner.saveTrace(abs);
        this.emit('notice', { level: 'info', message: `trace saved to ${rel.trim()} (${bytes.toLocaleString('en-US')} bytes)` });
        return { path: rel.trim(), bytes };
      },
      'trace.exportPerfetto': ({ path: rel }) => {
        if (typeof rel !== 'string' || !rel.trim()) throw new Error('give the file to export to (e.g. traces/run.pftrace)');
        const p = needProject();
        const abs = p.resolve(rel.trim());
        const r = runner.exportPerfetto(abs, p.resolve('build/abi.json'));
        this.emit('notice', {
          level: 'info',
          message: `trace exported to ${rel.trim()} (${r.bytes.toLocaleString('en-US')} bytes, ${r.events.toLocaleString('en-US')} events): open it in ui.perfetto.dev`,
        });
        return { path: rel.trim(), ...r };
      },
    };
  }
}
