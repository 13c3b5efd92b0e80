/*
 * Run / Stop / Restart.
 *
 *   Run:   building ──(build ok)──▶ booting ──(first console byte)──▶ running ──▶ exited with code N
 *             │ build fails → failed (Problems panel filled)        Stop at any point → stopped
 *
 * The build runs the project's build command through `sh -c` in its own process group; its output
 * goes to the Build panel and through the diagnostics parser. The target is QEMU or a serial line
 * (a board: serial-target.ts; console, the kernel's gdb stub and the trace on one UART).
 * Each Run gets a generation number so late events of an old run never touch a newer one.
 */
import path from 'node:path';
import type { Diagnostic, Events, TargetState, TraceStatus } from '../common/contract.js';
import { DiagnosticsParser } from './diagnostics.js';
import { spawnManaged, type ManagedProcess } from './proc.js';
import type { Project } from './project.js';
import { autoAccelNote, findExecutable, gdbSocketArgs, qemuPreflight, startQemu, type QemuHandle } from './qemu.js';
import { SerialTarget } from './serial-target.js';
import { cleanStaleTempFiles, sessionDir } from './tempfiles.js';
import type { DebugRunHooks } from './debug/controller.js';
import { debugQemuBinary, readElfIdent } from './debug/target-arch.js';
import fs from 'node:fs';
import { prepareRunTrace, type RunTrace } from '../../debugger/node/trace/run.js';
import { loadTrace, type SessionStats } from '../../debugger/node/trace/session.js';
import { exportPerfetto, syscallNamesFromAbi } from '../../debugger/common/trace/perfetto.js';

/** The status bar's view of a trace session's stats. */
export function traceStatus(st: SessionStats, live: boolean): TraceStatus {
  return { live, eventsPerSec: st.eventsPerSec, events: st.events, lost: st.lost + st.transportLost + st.shmLost, corruptFrames: st.corruptFrames };
}

/**
 * What the backend reports of a Run's recording, which it does not decode (the renderer's trace
 * store does, once, and adds the stream's figures): events dropped before the stream (the shared
 * memory drain) and corrupt serial frames.
 */
export function transportStatus(st: SessionStats, live: boolean): TraceStatus {
  return { live, eventsPerSec: 0, events: 0, lost: st.shmLost, corruptFrames: st.corruptFrames };
}

type Emit = <K extends keyof Events>(event: K, payload: Events[K]) => void;

/** Lines that mark a build step (compiler/linker/archiver invocations, kbuild-style "CC x"). */
const STEP = /^\s*(?:(?:CC|AS|LD|AR|GEN|CPP|OBJCOPY|MKISO|TAR|HOSTCC)\s+\S|\S*(?:gcc|g\+\+|cc|clang|ld|as|ar|objcopy|grub-mkrescue|tar|python3?)\s)/;

export class Runner {
  state: TargetState = { kind: 'idle' };
  since = Date.now();
  problems: Diagnostic[] = [];
  private gen = 0;
  private build: ManagedProcess | null = null;
  /** The build's spawn until it resolves: Stop in that window (make may already have started its
   * compiler) waits for it and stops it too, instead of returning before it is running. */
  private buildStarting: Promise<ManagedProcess> | null = null;
  private qemu: QemuHandle | null = null;
  private serial: SerialTarget | null = null;
  private stepsLastBuild = new Map<string, number>();
  private consoleSeen = false;

  constructor(private readonly emit: Emit, private readonly getProject: () => Project | null) {
    cleanStaleTempFiles(); // run folders and /dev/shm trace files of sessions that died
  }

  private setState(s: TargetState): void {
    this.state = s;
    this.since = Date.now();
    this.emit('run.state', { state: s, since: this.since });
  }

  private notice(level: 'info' | 'warning' | 'error', message: string): void {
    this.emit('notice', { level, message });
  }

  private starting = false;

  get busy(): boolean {
    return this.starting || this.build !== null || this.qemu !== null || this.serial !== null;
  }

  /** Checks that Run can start now; throws a user-facing message otherwise. */
  checkCanStart(): void {
    if (!this.getProject()) throw new Error('no project is open');
    if (this.busy) throw new Error('the target is already running; press Stop or Restart');
  }

  /** Trace recording of the current QEMU Run (ivshmem; debugger/node/trace/run.ts), or null. */
  private trace: RunTrace | null = null;
  /** Told when a Run's trace recording starts (live) and ends; the IPC view follows it (app/node/ipc-view.ts). */
  onTrace: ((file: string, live: boolean) => void) | null = null;
  /**
   * Called by stop() before any process is ended, with the reason: a debug session ends with it
   * before QEMU's gdbstub socket closes (which would otherwise race in as "QEMU closed …").
   */
  onStopping: ((why: string) => void) | null = null;
  /** Every chunk of the Run's console, with the Run's generation (the Crashes view reads it). */
  onConsoleData: ((gen: number, data: string) => void) | null = null;
  /**
   * What of a console chunk the console panel shows (the core fetcher, app/node/core-fetch.ts, hides
   * the records of an upload it asked the guest for); the taps above get the whole chunk.
   */
  consoleFilter: ((gen: number, data: string) => string) | null = null;
  /** The current Run's generation (console chunks carry it). */
  get generation(): number {
    return this.gen;
  }

  /** The last Run's trace (kept after it ended so "Save trace…" can still save it). */
  private lastTrace: RunTrace | null = null;

  private async endTrace(): Promise<void> {
    const tr = this.trace;
    this.trace = null;
    if (!tr) return;
    const st = await tr.stop().catch(() => null);
    if (st) this.emit('trace.stats', transportStatus(st, false));
    this.onTrace?.(tr.recording, false);
  }

  /** Copies the current (live: what is recorded so far) or last Run's recording to `abs` (already confined by the caller). */
  saveTrace(abs: string): number {
    const tr = this.trace ?? this.lastTrace;
    if (!tr || !fs.existsSync(tr.recording)) throw new Error('no trace recorded yet: press Run (QEMU target) first');
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (fs.existsSync(abs) && !fs.statSync(abs).isFile()) throw new Error(`${abs} is not a file`);
    tr.saveAs(abs);
    return fs.statSync(abs).size;
  }

  /**
   * Exports the current (what is recorded so far) or last Run's recording to Perfetto's protobuf
   * format at `abs` (already confined by the caller); syscall slices are named from the project's
   * generated ABI modules in `abiDir` when they exist.
   */
  exportPerfetto(abs: string, abiJson: string): { bytes: number; events: number } {
    const tr = this.trace ?? this.lastTrace;
    if (!tr || !fs.existsSync(tr.recording)) throw new Error('no trace recorded yet: press Run (QEMU target) first');
    if (fs.existsSync(abs) && !fs.statSync(abs).isFile()) throw new Error(`${abs} is not a file`);
    let syscallNames: Record<number, string> | undefined;
    if (fs.existsSync(abiJson) && fs.statSync(abiJson).isFile()) syscallNames = syscallNamesFromAbi(JSON.parse(fs.readFileSync(abiJson, 'utf8')));
    const t = loadTrace(tr.recording);
    const pb = exportPerfetto(t.events, { defs: t.decoder.defs, syscallNames });
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, pb);
    return { bytes: pb.length, events: t.events.length };
  }

  /** The plain Run's gdbstub socket (qemu.gdb.enabled), or null; debug Runs have their own. */
  gdbSocket: string | null = null;
  /** Told when a plain Run's QEMU has its gdbstub socket (the Debug panel offers the bridge's port). */
  onGdbStub: ((socket: string) => void) | null = null;

  private removeGdbSocket(): void {
    if (this.gdbSocket) fs.rmSync(this.gdbSocket, { force: true });
    this.gdbSocket = null;
    if (this.postmortemSocket) fs.rmSync(this.postmortemSocket, { force: true });
    this.postmortemSocket = null;
  }

  /** The plain Run's private postmortem gdbstub (no qemu.gdb.enabled), or null. */
  private postmortemSocket: string | null = null;

  /** A gdbstub of the current QEMU Run that Lanescope may read the stopped guest through (a panic), or null. */
  get postmortemStub(): string | null {
    if (!this.qemu) return null;
    return this.postmortemSocket ?? this.gdbSocket;
  }

  /** Debugging hooks of the current Run (app/node/debug/controller.ts), or null. */
  private debugRun: DebugRunHooks | null = null;

  /** Runs build + boot (with a gdbstub and the debugger attached when `debug` is given). Resolves when the target is up (or the run failed). */
  async start(debug: DebugRunHooks | null = null): Promise<void> {
    this.checkCanStart();
    this.starting = true;
    this.debugRun = debug;
    try {
      await this.startInner(++this.gen);
    } finally {
      this.starting = false;
    }
  }

  /** Workspace trust (app/node/trust.ts): throws when this project may not run its commands. */
  checkTrust: ((p: Project) => void) | null = null;

  private async startInner(gen: number): Promise<void> {
    const project = this.getProject()!;
    project.reloadConfig();
    try {
      this.checkTrust?.(project);
    } catch (e) {
      this.fail(gen, (e as Error).message);
      return;
    }
    const c = project.config;
    if (project.configErrors.length) this.notice('warning', `lanescope.json has problems (defaults used): ${project.configErrors.join('; ')}`);
    this.problems = [];
    this.emit('problems', { diagnostics: [] });

    // 1. build
    if (!c.build.command) {
      this.notice('warning', 'lanescope.json has no build command (build.command); booting what is already built.');
    } else {
      this.setState({ kind: 'building' });
      const ok = await this.runBuild(project, gen);
      if (gen !== this.gen) return;
      if (!ok) return;
    }
    // 2. boot
    if (gen !== this.gen) return;
    this.setState({ kind: 'booting' });
    this.consoleSeen = false;
    if (c.target === 'serial') {
      await this.startSerial(gen, c.serial.port, c.serial.baud, c.serial.mux, c.serial.reset);
      return;
    }
    const problems = qemuPreflight(project.root, c);
    if (problems.length) {
      this.fail(gen, problems.join(' '));
      return;
    }
    if (c.qemu.gdb.enabled && !findExecutable('gdb'))
      this.notice('warning', 'gdb was not found on PATH (Debian: apt install gdb); QEMU\'s gdb stub is enabled but source-level debugging needs gdb.');
    this.emit('run.progress', { task: 'boot', stage: 'starting QEMU', step: 1, total: 3 });
    let stderr = '';
    await this.endTrace();
    let qc = this.debugRun ? this.debugRun.qemuConfig(c) : c;
    // a plain Run's gdbstub for a 32-bit x86 kernel: qemu-system-i386, whose registers gdb accepts
    if (!this.debugRun && c.qemu.gdb.enabled && c.debug.elf) {
      const binary = debugQemuBinary(c.qemu.binary, readElfIdent(project.resolve(c.debug.elf)));
      if (binary !== c.qemu.binary) qc = { ...qc, qemu: { ...qc.qemu, binary } };
    }
    try {
      // record the guest's trace (ivshmem: no VM exit per event) for the live views
      const tr = prepareRunTrace({ dir: path.join(sessionDir(), `run-${gen}`), decode: false }); // private: mkdtemp, 0700
      this.trace = this.lastTrace = tr;
      tr.session.on('stats', (st: SessionStats) => {
        if (this.trace === tr) this.emit('trace.stats', transportStatus(st, true));
      });
      qc = { ...qc, qemu: { ...qc.qemu, extraArgs: [...qc.qemu.extraArgs, ...this.trace.qemuArgs] } };
    } catch (e) {
      this.trace = null;
      this.notice('warning', `no trace recording for this Run: ${(e as Error).message}`);
    }
    // qemu.gdb.enabled on a plain Run: QEMU's gdbstub on a Unix socket in this session's private
    // folder (mkdtemp, 0700), never on TCP; the bridge's port opens only on request (debug.openPort).
    this.removeGdbSocket();
    const gdbSocket = qc.qemu.gdb.enabled ? path.join(sessionDir(), `gdb-${gen}.sock`) : null;
    // Lanescope's own postmortem stub on a plain Run without one: after a kernel panic the Panic
    // view reads the flight recorder (the kernel's trace rings) from the stopped guest's memory
    // through it (app/node/panic.ts). A private Unix socket, nothing on the network; a debug Run
    // has its session's stub instead.
    const ownStub = qc.qemu.extraArgs.some((a) => a === '-s' || a === '-gdb'); // QEMU takes one gdbstub: the user's
    let pmSocket = !gdbSocket && !this.debugRun && !ownStub ? path.join(sessionDir(), `pm-${gen}.sock`) : null;
    try {
      if (pmSocket) qc = { ...qc, qemu: { ...qc.qemu, extraArgs: [...qc.qemu.extraArgs, ...gdbSocketArgs(pmSocket, 'lanescope-pm')] } };
    } catch {
      pmSocket = null; // a session folder QEMU cannot be given (holds , or =): no postmortem reads
    }
    this.postmortemSocket = pmSocket;
    try {
      this.qemu = await startQemu(project.root, qc, (d) => this.onConsole(gen, d), (d) => {
        stderr += d;
        if (stderr.length > 16384) stderr = stderr.slice(-16384);
        this.emit('build.output', { data: d.replace(/\n/g, '\r\n') });
      }, gdbSocket ? { gdbSocket } : {});
      this.gdbSocket = gdbSocket;
    } catch (e) {
      this.fail(gen, (e as Error).message);
      return;
    }
    if (gen !== this.gen) {
      const q = this.qemu;
      this.qemu = null;
      await q.proc.stop();
      return;
    }
    this.emit('build.output', { data: `\r\n$ ${this.qemu.argv.join(' ')}\r\n` });
    const note = autoAccelNote(qc.qemu.accel);
    if (note) this.emit('build.output', { data: `${note}\r\n` });
    if (gdbSocket) this.onGdbStub?.(gdbSocket);
    if (gdbSocket)
      this.notice('info', `QEMU's gdbstub listens on the Unix socket ${gdbSocket} (nothing on the network): gdb -ex 'target remote ${gdbSocket}', or "Open a port for your gdb" in the Debug panel for a TCP port on 127.0.0.1`);
    if (this.trace) {
      this.trace.session.start();
      this.onTrace?.(this.trace.recording, true);
    }
    if (this.debugRun) {
      this.emit('run.progress', { task: 'boot', stage: 'attaching the debugger (QEMU waits at reset)', step: 2, total: 3 });
      this.debugRun.attach();
    }
    this.emit('run.progress', { task: 'boot', stage: 'waiting for the guest\'s first console output', step: 2, total: 3 });
    const q = this.qemu;
    void q.proc.exited.then(({ code, signal }) => {
      if (this.qemu === q) this.qemu = null;
      if (gen === this.gen) void this.endTrace();
      if (gen !== this.gen || this.state.kind === 'stopped') return;
      if (signal) {
        // Not our Stop (that bumps the generation first): QEMU crashed or was killed from outside.
        const why = stderr.trim().split('\n').slice(-3).join(' ');
        this.fail(gen, `QEMU ended with signal ${signal}${why ? `: ${why}` : ''}`);
        return;
      }
      if (!this.consoleSeen && code !== 0) {
        const why = stderr.trim().split('\n').slice(-3).join(' ');
        this.notice('error', `QEMU exited with code ${code} before the guest printed anything${why ? `: ${why}` : ''}`);
      }
      this.setState({ kind: 'exited', code: code ?? -1 });
    });
  }

  /**
   * The serial target: open the line (app/node/serial-target.ts). With `mux` (LaneOS booted with
   * lanes.debug=ttyS0) the trace frames on it feed this Run's recording like QEMU's ivshmem, and a
   * debug Run attaches its session to the kernel's stub through the same line.
   */
  private async startSerial(gen: number, spec: string, baud: number, mux: boolean, reset: 'dtr' | 'rts' | null = null): Promise<void> {
    await this.endTrace();
    const what = spec.startsWith('unix:') || spec.startsWith('tcp:') ? spec : `${spec} at ${baud} baud`;
    this.emit('run.progress', { task: 'boot', stage: `opening ${what}`, step: 1, total: 3 });
    let tr: RunTrace | null = null;
    if (mux) {
      try {
        tr = prepareRunTrace({ dir: path.join(sessionDir(), `run-${gen}`), transport: 'line', decode: false });
        this.trace = this.lastTrace = tr;
        const t = tr;
        t.session.on('stats', (st: SessionStats) => {
          if (this.trace === t) this.emit('trace.stats', transportStatus(st, true));
        });
      } catch (e) {
        this.trace = tr = null;
        this.notice('warning', `no trace recording for this Run: ${(e as Error).message}`);
      }
    }
    let line: SerialTarget;
    let switchOnFirstWords = false;
    try {
      line = await SerialTarget.open(spec, baud, {
        console: (d) => {
          this.onConsole(gen, d);
          if (!switchOnFirstWords) return;
          switchOnFirstWords = false;
          setTimeout(() => gen === this.gen && this.serial === line && line.mux.setTrace(true), 200);
        },
        trace: (f) => tr?.feed(f),
        status: (st) => this.emit('serial.status', st),
        warn: (m) => {
          if (gen === this.gen) this.notice('warning', m);
        },
        gone: (reason) => {
          if (this.serial === line) this.serial = null;
          if (gen !== this.gen) return;
          void this.endTrace();
          this.onStopping?.(reason);
          this.fail(gen, reason);
        },
      });
    } catch (e) {
      await this.endTrace();
      this.emit('serial.status', { line: spec, baud: null, state: 'error', message: (e as Error).message, rxBytes: 0, txBytes: 0, rxPerSec: 0, txPerSec: 0, consoleBytes: 0, traceFrames: 0, naksFromTarget: 0, naksToTarget: 0, dropped: 0 });
      this.fail(gen, (e as Error).message);
      return;
    }
    if (gen !== this.gen) {
      line.close();
      return;
    }
    this.serial = line;
    if (tr) {
      tr.session.start();
      this.onTrace?.(tr.recording, true);
    }
    if (reset) {
      // serial.reset: the board restarts now, before anything is sent to it (the debugger attaches
      // once it speaks); a reset that cannot be done ends the Run with the reason
      this.emit('run.progress', { task: 'boot', stage: `resetting the board through ${reset.toUpperCase()} on ${spec}`, step: 2, total: 3 });
      try {
        await line.reset(reset);
      } catch (e) {
        if (gen !== this.gen) return;
        this.serial = null;
        line.close();
        await this.endTrace();
        this.fail(gen, (e as Error).message);
        return;
      }
      if (gen !== this.gen) return;
      this.emit('run.progress', { task: 'boot', stage: `${what} is open and the board was reset through ${reset.toUpperCase()} (its console appears here)`, step: 2, total: 3 });
      this.notice('info', `${what} is open; the board was reset through ${reset.toUpperCase()}: its console appears in the Console panel.`);
    } else {
      this.emit('run.progress', { task: 'boot', stage: `${what} is open: boot the board (its console appears here)`, step: 2, total: 3 });
      this.notice('info', `${what} is open. Boot (or reset) the board${mux ? ' with lanes.debug=ttyS0 on its command line' : ''}: its console appears in the Console panel.`);
    }
    if (!mux) {
      if (this.debugRun) this.fail(gen, 'lanescope.json: serial.mux is false (a plain console): debugging needs LaneOS booted with lanes.debug=ttyS0 and serial.mux true');
      return;
    }
    // A unit sent before the board programmed its UART can be lost (a FIFO reset): wait until it
    // speaks — or, a board already idling at its prompt says nothing, 3 s. Its stub then answers
    // the attach (retried) and takes the trace switch; a board still off gets the switch again
    // when it first speaks.
    const alive = () => gen === this.gen && this.serial === line;
    void line.mux.heard(3000).then(async (heard) => {
      if (heard) await new Promise((r) => setTimeout(r, 200));
      if (!alive()) return;
      if (tr) line.mux.setTrace(true);
      if (!heard && tr) switchOnFirstWords = true;
      if (this.debugRun) {
        this.emit('run.progress', { task: 'boot', stage: 'the debugger attaches to the kernel\'s stub on the line (Debug panel)', done: true });
        this.debugRun.attach(line.mux);
      }
    });
  }

  private onConsole(gen: number, d: string): void {
    if (gen !== this.gen) return;
    if (!this.consoleSeen) {
      this.consoleSeen = true;
      this.emit('run.progress', { task: 'boot', stage: 'guest is running', step: 3, total: 3, done: true });
      if (this.state.kind === 'booting') this.setState({ kind: 'running' });
    }
    const shown = this.consoleFilter ? this.consoleFilter(gen, d) : d;
    if (shown) this.emit('console.data', { data: shown });
    this.onConsoleData?.(gen, d);
  }

  private fail(gen: number, message: string): void {
    if (gen !== this.gen) return;
    this.notice('error', message);
    this.setState({ kind: 'failed', message });
  }

  private async runBuild(project: Project, gen: number): Promise<boolean> {
    const c = project.config;
    const cwd = project.resolve(c.build.cwd);
    const parser = new DiagnosticsParser(project.root, cwd);
    const total = this.stepsLastBuild.get(project.root);
    let steps = 0;
    let pendingLine = '';
    this.emit('build.output', { data: `\x1b[1m$ ${c.build.command}\x1b[0m  (in ${path.relative(project.root, cwd) || '.'})\r\n` });
    this.emit('run.progress', { task: 'build', stage: `running ${c.build.command}`, step: 0, ...(total ? { total } : {}) });
    let proc: ManagedProcess;
    try {
      // stderr joins stdout in one pipe so the parser sees lines in the order they were printed.
      const starting = spawnManaged('/bin/sh', ['-c', `exec 2>&1\n${c.build.command!}`], {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LANG: 'C', LC_ALL: 'C', TERM: 'dumb' },
      });
      this.buildStarting = starting;
      try {
        proc = await starting;
      } finally {
        if (this.buildStarting === starting) this.buildStarting = null;
      }
    } catch (e) {
      this.fail(gen, `build command could not start: ${(e as Error).message}`);
      return false;
    }
    if (gen !== this.gen) {
      // Stop was pressed while the build was starting.
      await proc.stop();
      return false;
    }
    this.build = proc;
    const onOut = (d: string) => {
      if (gen !== this.gen) return;
      parser.push(d);
      this.emit('build.output', { data: d.replace(/\r?\n/g, '\r\n') });
      const text = pendingLine + d;
      const lines = text.split('\n');
      pendingLine = lines.pop() ?? '';
      for (const l of lines) {
        if (STEP.test(l)) {
          steps++;
          const what = l.trim().length > 100 ? l.trim().slice(0, 100) + '…' : l.trim();
          this.emit('run.progress', { task: 'build', stage: what, step: steps, ...(total ? { total: Math.max(total, steps) } : {}) });
        }
      }
    };
    proc.child.stdout!.setEncoding('utf8');
    proc.child.stderr!.setEncoding('utf8');
    proc.child.stdout!.on('data', onOut);
    proc.child.stderr!.on('data', onOut);
    const { code, signal } = await proc.exited;
    await proc.stop(); // reap anything the build left in its group
    if (this.build === proc) this.build = null;
    if (gen !== this.gen) return false;
    this.problems = parser.finish();
    this.emit('problems', { diagnostics: this.problems });
    if (signal || code !== 0) {
      const errs = this.problems.filter((p) => p.severity === 'error').length;
      this.emit('run.progress', { task: 'build', stage: 'build failed', done: true });
      this.emit('build.output', { data: `\r\n\x1b[31mbuild failed (${signal ? `signal ${signal}` : `exit code ${code}`})\x1b[0m\r\n` });
      this.fail(gen, `build failed (${signal ? `signal ${signal}` : `exit code ${code}`}${errs ? `, ${errs} error${errs > 1 ? 's' : ''} in Problems` : ''})`);
      return false;
    }
    if (steps > 0) this.stepsLastBuild.set(project.root, steps);
    this.emit('run.progress', { task: 'build', stage: `build finished (${steps} step${steps === 1 ? '' : 's'})`, step: steps, total: steps, done: true });
    this.emit('build.output', { data: `\x1b[32mbuild finished\x1b[0m\r\n` });
    return true;
  }

  consoleInput(data: string): void {
    if (this.qemu) this.qemu.write(data);
    else if (this.serial) this.serial.write(data);
    else throw new Error('no target is running; press Run first');
  }

  /** Stops the build or target and every child process. */
  async stop(): Promise<void> {
    if (this.busy) this.onStopping?.('the target stopped');
    this.gen++;
    const starting = this.buildStarting;
    this.buildStarting = null;
    const build = this.build ?? (starting ? await starting.catch(() => null) : null);
    const qemu = this.qemu;
    const serial = this.serial;
    this.build = null;
    this.qemu = null;
    this.serial = null;
    serial?.close();
    const results = await Promise.all([build?.stop(), qemu?.proc.stop()]);
    await this.endTrace();
    this.removeGdbSocket();
    const survivors = results.flatMap((r) => (r && 'survivors' in r ? r.survivors : []));
    if (survivors.length) this.notice('error', `could not end processes ${survivors.join(', ')}`);
    if (build || qemu || serial || this.state.kind === 'building' || this.state.kind === 'booting' || this.state.kind === 'running')
      this.setState({ kind: 'stopped' });
    this.emit('run.progress', { task: 'boot', stage: 'stopped', done: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
