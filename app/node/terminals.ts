/*
 * Integrated terminals: a shell on a pseudo-terminal (node-pty) per terminal panel.
 * Flow control: output not yet acknowledged by the renderer is counted; above HIGH_WATER the pty
 * is paused (the shell blocks on write), and it resumes when acknowledgements bring it below LOW_WATER.
 */
import * as pty from 'node-pty';
import { killTree } from './proc.js';

const HIGH_WATER = 256 * 1024;
const LOW_WATER = 32 * 1024;

interface Term {
  p: pty.IPty;
  unacked: number;
  paused: boolean;
}

export class Terminals {
  private terms = new Map<number, Term>();
  private next = 1;

  constructor(
    private readonly onData: (id: number, data: string) => void,
    private readonly onExit: (id: number, code: number) => void,
  ) {}

  create(cwd: string, cols: number, rows: number): number {
    const id = this.next++;
    const shell = process.env['SHELL'] && process.env['SHELL'] !== '/bin/false' ? process.env['SHELL'] : '/bin/bash';
    const p = pty.spawn(shell, [], {
      name: 'xterm-256color',
      cols: Math.max(2, Math.min(1000, cols | 0)),
      rows: Math.max(2, Math.min(1000, rows | 0)),
      cwd,
      env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
    });
    const t: Term = { p, unacked: 0, paused: false };
    this.terms.set(id, t);
    p.onData((d) => {
      t.unacked += d.length;
      if (!t.paused && t.unacked > HIGH_WATER) {
        t.paused = true;
        p.pause();
      }
      this.onData(id, d);
    });
    p.onExit(({ exitCode }) => {
      this.terms.delete(id);
      this.onExit(id, exitCode);
    });
    return id;
  }

  private get(id: number): Term {
    const t = this.terms.get(id);
    if (!t) throw new Error(`terminal ${id} does not exist`);
    return t;
  }

  input(id: number, data: string): void {
    this.get(id).p.write(data);
  }

  resize(id: number, cols: number, rows: number): void {
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 2 || rows < 2) throw new Error('terminal size must be integers ≥ 2');
    this.get(id).p.resize(Math.min(cols, 1000), Math.min(rows, 1000));
  }

  ack(id: number, bytes: number): void {
    const t = this.get(id);
    t.unacked = Math.max(0, t.unacked - bytes);
    if (t.paused && t.unacked < LOW_WATER) {
      t.paused = false;
      t.p.resume();
    }
  }

  isPaused(id: number): boolean {
    return this.get(id).paused;
  }

  async close(id: number): Promise<void> {
    const t = this.terms.get(id);
    if (!t) return;
    this.terms.delete(id);
    await killTree(t.p.pid, 500);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.terms.keys()].map((id) => this.close(id)));
  }
}
