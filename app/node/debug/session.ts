/*
 * One debug session: QEMU's gdbstub ─▶ Bridge (debugger/node) ─▶ Lanescope's gdb (MI), plus any gdb
 * the user attaches to the bridge's port with `target remote :PORT` (opened on request: openPort).
 *
 *   start():   bridge connects to the stub (QEMU was started with -S: the guest waits at reset)
 *              gdb loads the kernel ELF, joins the bridge as the *follower* (it follows runs that a
 *              user's gdb starts), places the automatic breakpoints (panic, the user-fault path)
 *              and the user's, then continues the guest.
 *   *stopped:  snapshot for the UI — reason, frames, locals (MI var objects, expandable), CPUs as
 *              threads (what each vCPU runs, from the kernel's cpus[]), source location or
 *              disassembly; a user fault is mapped to the faulting line of that program's source.
 *   end(why):  QEMU exited, gdb crashed, the target closed mid-packet … → phase 'ended' with why.
 *
 * Breakpoints set before the first stop are placed in debug registers by the bridge
 * ('hardware-first': KVM loses software breakpoints written before the kernel is loaded, and an int3
 * hit under this host's nested KVM is an internal error); user-program breakpoints are conditioned
 * on the current process (processCondition in app/common/debug.ts) because every program is linked
 * at 0x400000.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Bridge, type PacketLogEntry } from '../../../debugger/node/bridge.js';
import { RspClient } from '../../../debugger/node/client.js';
import type { MuxLine } from '../../../debugger/common/serial-mux.js';
import { cpuOfThread, describeCpus, LANEOS_CPU_EXPRESSIONS } from '../../../debugger/node/cpus.js';
import { connectFollower, type Follower } from '../../../debugger/node/follow.js';
import { GdbMi } from '../../../debugger/node/mi-driver.js';
import { miList, miStr, miTuple, type MiTuple } from '../../../debugger/common/mi.js';
import { printable } from '../../../debugger/common/rsp.js';
import { elfSymbolNames, parseElf, Symbolizer, PT_LOAD } from '../../../debugger/common/elf.js';
import { elfFdes, unwind, type Fde } from '../../../debugger/common/unwind.js';
import { TraceRingLayout, type TraceRingField } from '../../../debugger/common/trace/layouts.gen.js';
import { StepPathRecorder } from './step-path.js';
import {
  describeStop,
  interestingRegisters,
  isUserAddress,
  kernelFeatures,
  NO_FEATURES,
  type KernelFeatures,
  mapFrame,
  mapVariable,
  parseAddress,
  processCondition,
  programOfFile,
  registerGroup,
  RspRing,
  toProjectPath,
  bpKey,
  type BreakpointSpec,
  type BreakpointView,
  type CpuThreadView,
  type DebugAction,
  type DebugPhase,
  type DebugStatus,
  type DisasmLine,
  type FrameView,
  type RegisterView,
  type RspLogEntry,
  type StopInfo,
  type StopProfile,
  type VarView,
  type WatchResult,
} from '../../common/debug.js';

export interface DebugSessionOptions {
  /** The stub: "tcp:127.0.0.1:PORT" or "unix:PATH" (with `line`: the line's name, for messages). */
  endpoint: string;
  /**
   * The serial target: the kernel's own gdb stub on the board's shared line (LaneOS with
   * lanes.debug=ttyS0; debugger/common/serial-mux.ts). The bridge talks to its RSP side; the
   * running kernel stops when the bridge attaches and runs on when the session ends.
   */
  line?: MuxLine;
  /**
   * Where the bridge listens for gdbs: a Unix socket (Lanescope's own gdb uses it; the TCP port for a
   * user's gdb opens only on openPort()). Default: a TCP port on 127.0.0.1 at once.
   */
  listen?: { unix: string };
  /** Project root (absolute, real path). */
  root: string;
  /** Kernel ELF64 with symbols (absolute). */
  kernelElf: string;
  /** Directory with <program>.elf files (absolute), for user-program symbols. */
  programsDir: string;
  breakpoints: BreakpointSpec[];
  accel: string;
  onState(s: DebugStatus): void;
  onRsp(entries: RspLogEntry[]): void;
  /** Called once when the session ends (for the Runner / notices). */
  onEnded?(why: string): void;
  gdbPath?: string;
  /** Continue the guest right after setup (default true). */
  autoContinue?: boolean;
  connectTimeoutMs?: number;
  /** lanescope.json debug.laneos: the LaneOS aids on (true) / off (false) / from the ELF's symbols (null, default). */
  laneos?: boolean | null;
  /**
   * A postmortem session: no QEMU, no bridge — gdb opens the program's ELF (kernelElf) with this
   * core file (`-target-select core`), and the stop is the moment the process died. Read-only:
   * frames, threads, locals, registers and memory as in a live session; run/step refused.
   */
  core?: CoreTarget;
}

/** What a core session shows (DebugStatus.core). */
export interface CoreTarget {
  /** The core file (absolute). */
  file: string;
  program: string;
  pid: number;
  /** e.g. "SIGSEGV at address 0x0" */
  signal: string;
}

/** What a step, continue or pause on a core session is answered with. */
export const CORE_READ_ONLY = 'this is a core file — a snapshot of a process that has died: it cannot continue, step or pause. Run the program again (with a breakpoint) to debug it live.';

interface Placed {
  spec: BreakpointSpec;
  view: BreakpointView;
}

const MAX_LOCALS = 64;

/** A user program's symbols, line table, call frame information and code range. */
interface ProgramSyms {
  mtime: number;
  sym: Symbolizer;
  fdes: Fde[];
  code: [bigint, bigint][];
}

/**
 * The kernel structures read by name through gdb to show a thread's user call stack ($cpu: the
 * vCPU): its current thread, the registers the kernel saved at entry (struct regs at the top of
 * the thread's kernel stack) and its process's name. app/test/unit/kernel-names.test.ts checks
 * each against the built kernel's DWARF, as debugger/test/kernel-layout.test.ts does for the
 * trace rings and the CPUs view.
 */
export const USER_FRAME_EXPRESSIONS = {
  current: 'cpus[$cpu]->current',
  hasProcess: '(unsigned long)(cpus[$cpu]->current && cpus[$cpu]->current->proc)',
  regs: '((struct regs *)cpus[$cpu]->current->kstack_top - 1)',
  regFields: ['cs', 'rip', 'rsp', 'rbp'] as const,
  processName: 'cpus[$cpu]->current->proc->name',
};

/** How many of a ring's most recent bytes are searched for a record (debug.traceRecord). */
const TRACE_TAIL_BYTES = 4096;

export class DebugSession {
  phase: DebugPhase = 'starting';
  bridge: Bridge | undefined;
  gdb: GdbMi | undefined;
  private follower: Follower | undefined;
  private placed = new Map<string, Placed>();
  private programSyms = new Map<string, ProgramSyms>();
  private special = new Map<string, string>();
  private loadedPrograms = new Set<string>();
  private varObjs: string[] = [];
  private watchObjs: string[] = [];
  private stop: StopInfo | undefined;
  private endedWhy: string | undefined;
  private seq = 0;
  readonly ring = new RspRing(5000);
  private pendingRsp: RspLogEntry[] = [];
  private rspTimer: NodeJS.Timeout | undefined;
  private regNames: string[] | undefined;
  /** The locals last listed (their var objects are refreshed, not re-created, while the frame's variables stay the same). */
  private localsCache: { thread: string; level: number; names: string; vars: VarView[] } | undefined;
  /** The user call stack below a system call, by the saved user registers it was unwound from. */
  private userStackCache: { key: string; frames: FrameView[]; why: string } | undefined;
  /** The profile of the stop being read (MI commands by name, filled by gdb's 'command' events). */
  private profile: StopProfile | undefined;
  /** When the last step/continue command arrived (for StopProfile.execution). */
  private commandAt: number | undefined;
  /** The way of that step/continue through gdb, the bridge and QEMU (StopProfile.path). */
  private stepPath: StepPathRecorder | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopGen = 0;
  private specs: BreakpointSpec[];
  /** The LaneOS aids this kernel has (kernelFeatures: from its symbols or lanescope.json). */
  features: KernelFeatures = NO_FEATURES;
  /** gdb has resumed the target at least once (setup is over). */
  private started = false;
  /** Set while we interrupt the target ourselves (breakpoints changed while running). */
  private internalStop: ((t: MiTuple) => void) | undefined;
  /** Bridge client that started the current run (ours is follower.clientId). */
  private runBy = 0;

  private constructor(private readonly o: DebugSessionOptions) {
    this.specs = o.breakpoints;
    this.features = DebugSession.featuresOf(o.kernelElf, o.laneos ?? null);
  }

  /** The kernel's LaneOS aids: declared, or from the names in its ELF symbol table (none when unreadable). */
  static featuresOf(kernelElf: string, declared: boolean | null): KernelFeatures {
    if (declared !== null) return kernelFeatures(new Set(), declared);
    try {
      return kernelFeatures(elfSymbolNames(new Uint8Array(fs.readFileSync(kernelElf))));
    } catch {
      return NO_FEATURES;
    }
  }

  /** Creates and starts a session; resolves once it is set up (or ended with the reason). */
  static async start(o: DebugSessionOptions): Promise<DebugSession> {
    const s = DebugSession.create(o);
    await s.run();
    return s;
  }

  /** A session not yet connected (call run()); lets the owner hold it while it starts. */
  static create(o: DebugSessionOptions): DebugSession {
    return new DebugSession(o);
  }

  async run(): Promise<void> {
    this.publish();
    try {
      if (this.o.core) await this.setupCore(this.o.core);
      else await this.setup();
    } catch (e) {
      await this.end(`debugging could not start: ${(e as Error).message}`);
    }
  }

  /** A postmortem session on a core file (no target). */
  get isCore(): boolean {
    return !!this.o.core;
  }

  get port(): number | undefined {
    return this.bridge?.port;
  }

  /** Opens (once) the bridge's TCP port on 127.0.0.1 for the user's own gdb; resolves with it. */
  async openPort(): Promise<number> {
    if (this.o.core) throw new Error('a core file has no target for another gdb to attach to: open it with gdb PROGRAM.elf CORE');
    if (!this.bridge || this.phase === 'ended' || this.phase === 'starting') throw new Error('the debug session is not ready yet');
    const port = this.bridge.port ?? (await this.bridge.listen(0));
    this.publish();
    return port;
  }

  status(): DebugStatus {
    const st: DebugStatus = {
      phase: this.phase,
      breakpoints: this.breakpointViews(),
      seq: ++this.seq,
      elf: this.o.kernelElf,
      gdb: this.o.gdbPath ?? 'gdb',
      accel: this.o.accel,
      features: this.features,
    };
    if (this.port !== undefined && this.phase !== 'ended') st.port = this.port;
    if (this.stop && this.phase === 'stopped') st.stop = this.stop;
    if (this.endedWhy) st.endedWhy = this.endedWhy;
    if (this.bridge) st.clients = this.bridge.clientIds.length;
    if (this.o.core) st.core = { ...this.o.core };
    return st;
  }

  private publish(): void {
    this.o.onState(this.status());
  }

  /** Serialises gdb work (stop snapshots, requests) so the UI never interleaves MI commands. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async setup(): Promise<void> {
    const deadline = Date.now() + (this.o.connectTimeoutMs ?? 30000);
    // QEMU may still be opening its stub: retry the connection for a while.
    let bridge: Bridge | undefined;
    if (this.o.line) bridge = await this.lineBridge(this.o.line);
    else for (;;) {
      try {
        bridge = await Bridge.start(this.o.endpoint, this.o.listen ?? 0, {});
        break;
      } catch (e) {
        if (this.phase === 'ended') return;
        if (Date.now() > deadline) throw new Error(`cannot connect to QEMU's gdbstub at ${this.o.endpoint}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    this.bridge = bridge;
    if (this.phase === 'ended') {
      await bridge.close().catch(() => undefined);
      return;
    }
    bridge.on('packet', (e: PacketLogEntry) => this.onPacket(e));
    bridge.on('target-closed', (e: { message: string; whileRunning: boolean }) => {
      if (this.o.line) void this.end(`the serial line closed: ${e.message}`);
      else void this.end(e.whileRunning ? `the guest exited (QEMU closed the gdbstub connection: ${e.message})` : `QEMU closed the gdbstub connection: ${e.message}`);
    });
    bridge.on('protocol-error', (e: { message: string }) => {
      this.ring.push({ time: Date.now(), dir: 'target->bridge', client: 0, text: `⚠ protocol error: ${e.message}`, size: 0 });
    });
    bridge.on('client-connected', () => this.publish());
    // who started the run that ends in the next stop (0: the bridge resuming after a transparent pause)
    bridge.on('running', (e: { client: number; packet: string }) => {
      if (e.client !== 0) this.runBy = e.client;
      if (this.follower && e.client !== 0) this.note(`run #${e.client} ${e.packet}`);
    });
    // how the clients shared the target, in the RSP log: who missed a stop, who joined a run late
    bridge.on('stop', (e: { notified: number[]; missed: number[] }) => {
      if (this.follower && e.missed.length) this.note(`stop told #${e.notified.join(',#') || '-'}, missed by #${e.missed.join(',#')}`);
    });
    bridge.on('joined', (e: { client: number; late?: boolean }) => {
      if (this.follower) this.note(`#${e.client} ${e.late ? 'joined late: given the missed stop' : 'joined the run'}`);
    });
    bridge.on('hook-error', (e: { message: string }) => this.note(e.message));
    bridge.on('client-disconnected', () => this.publish());

    const gdb = await GdbMi.start({ cwd: this.o.root, timeoutMs: 60000, ...(this.o.gdbPath ? { gdbPath: this.o.gdbPath } : {}) });
    this.gdb = gdb;
    gdb.on('exit', (e: { message: string }) => void this.end(`Lanescope's gdb ended: ${e.message}`));
    gdb.on('command', (e: { command: string; ms: number }) => {
      const p = this.profile;
      if (!p) return;
      const k = e.command.split(' ')[0]!;
      const b = (p.byCommand[k] ??= { n: 0, ms: 0 });
      b.n++;
      b.ms = +(b.ms + e.ms).toFixed(2);
    });
    gdb.on('running', () => {
      this.started = true;
      if (this.phase === 'ended') return;
      this.stopGen++;
      this.phase = 'running';
      this.publish();
    });
    // The stop gdb reports when it connects (QEMU held at reset) is not the user's: setup continues.
    gdb.on('stopped', (t: MiTuple) => {
      const internal = this.internalStop;
      if (internal) {
        // our own interrupt to change breakpoints while running (whileInterrupted)
        this.internalStop = undefined;
        internal(t);
        return;
      }
      if (!this.started && (this.o.autoContinue ?? true)) return;
      const at = performance.now();
      void this.serial(() => this.onStopped(t, at)).catch((e: Error) => this.note(`could not read the stop: ${e.message}`));
    });
    await gdb.cmd('-gdb-set pagination off');
    await gdb.cmd('-gdb-set print pretty off');
    // Breakpoints stay in the target while it is stopped: without this gdb removes every one at each
    // stop and inserts them again at each resume — with the automatic panic/fault breakpoints that is
    // 6+ extra RSP round trips through the bridge per step.
    await gdb.cmd('-gdb-set breakpoint always-inserted on');
    await gdb.loadFile(this.o.kernelElf);
    this.follower = await connectFollower(bridge, gdb);
    // Automatic breakpoints: a kernel panic and a user-space fault stop in the debugger.
    // (the user-fault path only where the kernel is LaneOS: features)
    const auto = [['panic', 'panic'], ['panic_regs', 'panic'], ...(this.features.userFault ? [['process_user_fault', 'user-fault'] as const] : [])] as const;
    for (const [fn, what] of auto) {
      try {
        const b = await gdb.breakInsert(fn);
        if (miStr(b.number)) this.special.set(miStr(b.number)!, what);
      } catch {
        /* this kernel has no such function */
      }
    }
    await this.placeAll();
    this.phase = 'running';
    this.publish();
    if (this.o.autoContinue ?? true) await gdb.execContinue();
  }

  /**
   * A core session: gdb with the program's ELF and the core (`-target-select core`, gdb's own core
   * reader: every thread, the registers of each, the memory the core holds), then the stop is read
   * as any other — call stack, locals, threads, the faulting line in the editor.
   */
  private async setupCore(c: CoreTarget): Promise<void> {
    const gdb = await GdbMi.start({ cwd: this.o.root, timeoutMs: 60000, ...(this.o.gdbPath ? { gdbPath: this.o.gdbPath } : {}) });
    this.gdb = gdb;
    gdb.on('exit', (e: { message: string }) => void this.end(`Lanescope's gdb ended: ${e.message}`));
    await gdb.cmd('-gdb-set pagination off');
    await gdb.cmd('-gdb-set print pretty off');
    await gdb.loadFile(this.o.kernelElf);
    // (gdb's CLI file name: blanks and quotes escaped with a backslash)
    await gdb.console(`core-file ${c.file.replace(/([\s\\'"])/g, '\\$1')}`);
    this.started = true;
    const info = await gdb.threadInfo();
    const thread = info.current ?? miStr(info.threads[0]?.id) ?? '1';
    await gdb.selectThread(thread).catch(() => undefined);
    const f = await gdb.cmd('-stack-info-frame').catch(() => null);
    const sig = /^(SIG[A-Z0-9]+)/.exec(c.signal)?.[1] ?? 'SIGSEGV';
    const t: MiTuple = { reason: 'signal-received', 'signal-name': sig, 'thread-id': thread, ...(f?.data.frame ? { frame: f.data.frame } : {}) };
    await this.serial(() => this.onStopped(t));
  }

  /**
   * A bridge to the kernel's stub on the serial line (the running kernel stops when the client's
   * handshake reaches it). A first packet can be lost to a board still resetting its UART, or to
   * console output it was cut into: three attempts, each on a fresh RSP side of the line.
   */
  private async lineBridge(line: MuxLine): Promise<Bridge> {
    const b = new Bridge({});
    let client: RspClient | undefined;
    for (let attempt = 1; !client; attempt++) {
      if (this.phase === 'ended') throw new Error('the session ended while attaching');
      try {
        client = await RspClient.connect(attempt === 1 ? line.rsp : line.openRsp(), { requestTimeoutMs: 10000 });
      } catch (e) {
        if (attempt >= 3) throw new Error(`no answer from the kernel's gdb stub on ${this.o.endpoint.replace(/^serial:/, '')}: ${(e as Error).message} (is the board running LaneOS booted with lanes.debug=ttyS0, at the baud rate of the target?)`);
        this.note(`attaching to the stub, attempt ${attempt}: ${(e as Error).message}; again`);
      }
    }
    await b.attachTarget(client);
    if (this.o.listen) await b.server.listenUnix(this.o.listen.unix);
    else await b.listen(0);
    return b;
  }

  private note(text: string): void {
    this.ring.push({ time: Date.now(), dir: 'bridge->client', client: 0, text: `ℹ ${text}`, size: 0 });
  }

  private onPacket(e: PacketLogEntry): void {
    this.stepPath?.packet(e);
    const entry: RspLogEntry = { time: e.time, dir: e.dir, client: e.client, text: printable(e.bytes, 600), size: e.bytes.length };
    this.ring.push(entry);
    this.pendingRsp.push(entry);
    if (this.pendingRsp.length > 2000) this.pendingRsp.splice(0, this.pendingRsp.length - 2000);
    if (!this.rspTimer) {
      this.rspTimer = setTimeout(() => {
        this.rspTimer = undefined;
        const batch = this.pendingRsp;
        this.pendingRsp = [];
        if (batch.length) this.o.onRsp(batch);
      }, 150);
    }
  }

  // ---------------------------------------------------------------- breakpoints

  private breakpointViews(): BreakpointView[] {
    return this.specs.map((s) => this.placed.get(bpKey(s.file, s.line))?.view ?? { ...s, program: this.features.processBreakpoints ? programOfFile(s.file) : null });
  }

  async setBreakpoints(specs: BreakpointSpec[]): Promise<BreakpointView[]> {
    this.specs = specs.map((s) => ({ ...s }));
    if (this.gdb && this.phase !== 'ended' && this.phase !== 'starting') {
      // gdb (all-stop) changes breakpoints only while the target is stopped: running, it is
      // interrupted for the change and continued (the UI never sees that stop)
      await this.serial(() => (this.phase === 'running' ? this.whileInterrupted(() => this.placeAll()) : this.placeAll()));
    }
    this.publish();
    return this.breakpointViews();
  }

  private async whileInterrupted(fn: () => Promise<void>): Promise<void> {
    const gdb = this.gdb!;
    let timer: NodeJS.Timeout | undefined;
    const stopped = new Promise<MiTuple | null>((resolve) => {
      this.internalStop = resolve;
      timer = setTimeout(() => resolve(null), 15000);
    });
    let t: MiTuple | null;
    try {
      await gdb.execInterrupt();
      t = await stopped;
    } finally {
      clearTimeout(timer);
      this.internalStop = undefined;
    }
    if (!t) throw new Error('the target did not stop to change breakpoints (15 s)');
    await fn();
    const reason = miStr(t.reason) ?? '';
    const sig = miStr(t['signal-name']) ?? '';
    if (reason === '' || (reason === 'signal-received' && sig === 'SIGINT')) {
      await gdb.execContinue();
      return;
    }
    // it stopped for a reason of its own just as we interrupted (a breakpoint hit): show that stop
    if (/^exited/.test(reason)) return;
    void this.serial(() => this.onStopped(t)).catch((e: Error) => this.note(`could not read the stop: ${e.message}`));
  }

  private async placeAll(): Promise<void> {
    const gdb = this.gdb!;
    const want = new Map(this.specs.filter((s) => s.enabled).map((s) => [bpKey(s.file, s.line), s]));
    for (const [k, p] of this.placed) {
      const w = want.get(k);
      if (w && (w.condition ?? '') === (p.spec.condition ?? '') && !p.view.error) continue;
      if (p.view.number) await gdb.breakDelete(p.view.number).catch(() => undefined);
      this.placed.delete(k);
    }
    for (const [k, s] of want) {
      if (this.placed.has(k)) continue;
      const view: BreakpointView = { ...s, program: this.features.processBreakpoints ? programOfFile(s.file) : null };
      try {
        const abs = path.join(this.o.root, s.file);
        if (view.program) await this.loadProgram(view.program);
        const cond = view.program ? processCondition(view.program, s.condition) : s.condition;
        const b = await gdb.breakInsert(`${abs}:${s.line}`, cond ? { condition: cond } : {});
        view.number = miStr(b.number) ?? '';
        const addr = miStr(b.addr);
        if (addr) view.addr = addr;
        const line = miStr(b.line);
        if (line && Number(line) !== s.line) view.resolvedLine = Number(line); // gdb moved it to the next line with code
      } catch (e) {
        view.error = (e as Error).message;
      }
      this.placed.set(k, { spec: s, view });
    }
  }

  private async loadProgram(name: string): Promise<void> {
    if (this.loadedPrograms.has(name)) return;
    const elf = path.join(this.o.programsDir, `${name}.elf`);
    if (!fs.existsSync(elf)) throw new Error(`no symbols for program ${name}: ${elf} does not exist (build it first)`);
    await this.gdb!.addSymbolFile(elf);
    this.loadedPrograms.add(name);
  }

  // ---------------------------------------------------------------- stops

  /**
   * A stop, published in three stages so what the user waits for comes first:
   *   1. the line: straight from the *stopped record's frame (file, line: no MI command at all);
   *   2. call stack and locals: -stack-list-frames and -stack-list-variables sent together
   *      (pipelined), the locals' var objects refreshed by one -var-update when the frame's variables
   *      are the same as at the last stop (stepping within a function), user frames below a system
   *      call cached while the saved user registers are the same;
   *   3. the CPUs (and disassembly when there is no source) as a separate queued task, so a request
   *      the renderer made meanwhile (registers, watches) is answered first.
   * stop.profile says how many MI commands each stage took and when it was published.
   */
  private async onStopped(t: MiTuple, stoppedAt = performance.now()): Promise<void> {
    if (this.phase === 'ended') return;
    const reason = miStr(t.reason) ?? '';
    if (/^exited/.test(reason)) {
      const code = miStr(t['exit-code']);
      await this.end(`the guest exited${code ? ` with status ${code}` : ''} (${reason})`);
      return;
    }
    const gen = ++this.stopGen;
    const gdb = this.gdb!;
    const t0 = stoppedAt;
    const mi0 = gdb.commandCount;
    const profile: StopProfile = { mi: { location: 0, frames: 0, cpus: 0 }, ms: { location: 0, frames: 0, cpus: 0 }, byCommand: {} };
    this.profile = profile;
    const epoch = (t: number) => +(performance.timeOrigin + t).toFixed(1);
    profile.epoch = { stopped: epoch(t0) };
    if (this.commandAt !== undefined) {
      profile.execution = +(t0 - this.commandAt).toFixed(1);
      profile.epoch.command = epoch(this.commandAt);
      if (this.stepPath) profile.path = this.stepPath.finish(t0);
    }
    this.commandAt = undefined;
    this.stepPath = undefined;
    const mark = (k: keyof StopProfile['mi']) => {
      const now = performance.now();
      profile.mi[k] = gdb.commandCount - mi0;
      profile.ms[k] = +(now - t0).toFixed(1);
      profile.epoch![k] = epoch(now);
    };
    const stale = () => gen !== this.stopGen || (this.phase as DebugPhase) === 'ended';
    const d = describeStop(t, this.special);
    if (this.o.core) d.text = `core of ${this.o.core.program} (pid ${this.o.core.pid}): ${this.o.core.signal}${d.text.replace(/^SIG\w+/, '')} · read-only`;
    const threadId = miStr(t['thread-id']) ?? '1';
    // the vCPU it stopped on: the stop's core (LaneOS's stub names kernel threads, not CPUs), else
    // QEMU's numbering (thread n+1 is vCPU n)
    const cpu = cpuOfThread(t, threadId);
    const hit = d.kind === 'breakpoint' ? this.specOfNumber(miStr(t.bkptno)) : undefined;
    const prevCpus = (this.stop?.cpus ?? []).map((c) => ({ ...c, selected: c.threadId === threadId }));
    // the run was the user's gdb's (Lanescope's followed it): say so
    const runBy = this.runBy && this.follower && this.runBy !== this.follower.clientId ? this.runBy : 0;
    const by = runBy ? ` · run by the user's gdb (client #${runBy})` : '';
    const base = (): StopInfo => {
      const x: StopInfo = { reason, description: d.text + by, threadId, cpu, frames: [], selectedLevel: 0, locals: [], cpus: prevCpus, location: null, kind: d.kind, stopId: gen, partial: true, profile };
      if (hit) x.hit = { file: hit.file, line: hit.line };
      if (runBy) x.runBy = runBy;
      return x;
    };

    // 1. the line from the *stopped record (panics, user faults and user-source hits need more)
    const top = miTuple(t.frame);
    const f0 = top ? mapFrame({ ...top, level: '0' }, this.o.root) : undefined;
    if (d.kind !== 'panic' && d.kind !== 'user-fault' && !hit?.showUserSource && f0?.inProject && f0.file && f0.line) {
      mark('location');
      this.stop = { ...base(), frames: [f0], location: { file: f0.file, line: f0.line }, pending: ['frames', 'locals', 'cpus'] };
      this.phase = 'stopped';
      this.publish();
    }

    // 2. call stack and locals, the commands pipelined
    const localsP = this.locals(0, threadId).catch(() => [] as VarView[]);
    let description = d.text;
    let frames = await this.frames();
    let location: { file: string; line: number } | null = null;
    if (d.kind === 'panic') {
      const msg = await gdb.evaluate('fmt').catch(() => '');
      const text = /"(.*)"/.exec(msg)?.[1];
      description = `kernel panic${text ? `: ${text}` : ''} (CPU ${cpu})`;
    } else if (d.kind === 'user-fault') {
      const uf = await this.userFault(cpu);
      if (uf) {
        description = uf.description;
        frames = [uf.frame, ...frames.map((f) => ({ ...f, level: f.level + 1 }))];
        if (uf.frame.file && uf.frame.line && uf.frame.inProject) location = { file: uf.frame.file, line: uf.frame.line };
      }
    }
    // In a system call: the user program's frames below the kernel's (its call stack at the call).
    let userStackEnd: string | undefined;
    if (this.features.processBreakpoints && d.kind !== 'user-fault' && d.kind !== 'panic' && frames.some((f) => f.func === 'syscall_dispatch' || f.func === 'syscall_dispatch_untraced')) {
      const u = await this.userFrames(cpu, frames.length).catch((e: Error) => {
        this.note(`user stack: ${e.message}`);
        return null;
      });
      if (u) {
        frames = [...frames, ...u.frames];
        userStackEnd = u.why;
      }
    }
    let selectedLevel = 0;
    if (hit?.showUserSource) {
      // The program's own line that made the call: the first user frame in programs/<name>/.
      const own = frames.find((f) => f.user && f.inProject && f.file && f.line && programOfFile(f.file) === f.space);
      const any = own ?? frames.find((f) => f.user && f.inProject && f.file && f.line);
      if (any) {
        location = { file: any.file!, line: any.line! };
        selectedLevel = any.level;
        description += ` · called from ${any.space} at ${any.file}:${any.line}`;
      }
    }
    if (!location) {
      const topWithSource = frames.find((f) => f.file && f.line);
      const first = frames[0];
      if (first && first.inProject && first.file && first.line) location = { file: first.file, line: first.line };
      else if (topWithSource && topWithSource.level === 0 && topWithSource.inProject) location = { file: topWithSource.file!, line: topWithSource.line! };
    }
    // a user frame has no locals gdb knows (click a kernel frame for those)
    const locals = frames[selectedLevel]?.user ? [] : await localsP;
    if (stale()) return;
    if (!this.stop || this.stop.stopId !== gen) mark('location');
    mark('frames');
    const stop: StopInfo = { ...base(), description: description + by, frames, selectedLevel, locals, location, pending: location ? ['cpus'] : ['cpus', 'disassembly'] };
    if (userStackEnd) stop.userStackEnd = userStackEnd;
    this.stop = stop;
    this.phase = 'stopped';
    this.publish();

    // 3. CPUs (and disassembly), after whatever the renderer asked for meanwhile
    void this.serial(async () => {
      if (stale() || this.stop?.stopId !== gen) return;
      const cpus = await this.cpus(this.stop.threadId);
      const disassembly = location ? undefined : await this.disassemble().catch(() => [] as DisasmLine[]);
      const cur = this.stop;
      if (stale() || cur?.stopId !== gen) return;
      mark('cpus');
      const done: StopInfo = { ...cur, cpus: cpus.map((c) => ({ ...c, selected: c.threadId === cur.threadId })) };
      delete done.partial;
      delete done.pending;
      if (disassembly) done.disassembly = disassembly;
      this.stop = done;
      this.publish();
    }).catch((e: Error) => this.note(`could not read the CPUs: ${e.message}`));
  }

  private async frames(): Promise<FrameView[]> {
    const r = await this.gdb!.cmd('-stack-list-frames 0 63');
    return miList(r.data.stack).map((f) => mapFrame((miTuple(f) ?? {}) as Record<string, unknown>, this.o.root));
  }

  /** The user's breakpoint spec behind gdb breakpoint number n. */
  private specOfNumber(n: string | undefined): BreakpointSpec | undefined {
    if (!n) return undefined;
    for (const p of this.placed.values()) if (p.view.number === n) return p.spec;
    return undefined;
  }

  /** A program's ELF: symbols, lines, CFI (cached until the file changes); null when not built. */
  private programSymbols(name: string): ProgramSyms | null {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) return null;
    const elf = path.join(this.o.programsDir, `${name}.elf`);
    let st: fs.Stats;
    try {
      st = fs.statSync(elf);
    } catch {
      return null;
    }
    const hit = this.programSyms.get(name);
    if (hit && hit.mtime === st.mtimeMs) return hit;
    const e = parseElf(new Uint8Array(fs.readFileSync(elf)));
    const code = e.segments.filter((g) => g.type === PT_LOAD && g.flags & 1).map((g) => [g.vaddr, g.vaddr + BigInt(g.memsz)] as [bigint, bigint]);
    const ps: ProgramSyms = { mtime: st.mtimeMs, sym: new Symbolizer(e), fdes: elfFdes(e), code };
    this.programSyms.set(name, ps);
    return ps;
  }

  /** A program's source line as a project path (DWARF names it relative to the build directory or absolute). */
  private projectLine(file: string, program: string): { file: string; inProject: boolean } {
    const abs = path.isAbsolute(file) ? file : path.join(this.o.root, file);
    const p = toProjectPath(fs.existsSync(abs) ? fs.realpathSync(abs) : abs, this.o.root);
    if (p.inProject && p.file) return { file: p.file, inProject: true };
    const guess = path.join('programs', program, path.basename(file));
    if (fs.existsSync(path.join(this.o.root, guess))) return { file: guess, inProject: true };
    return { file, inProject: false };
  }

  /**
   * The user call stack of the thread on vCPU `cpu` while it is in the kernel on a
   * system call: the registers the kernel saved at entry (struct regs at the top of the thread's
   * kernel stack), then the program's CFI (.debug_frame) or frame pointers, symbolized with the
   * program's ELF. Null when the thread did not come from user space.
   */
  private async userFrames(cpu: number, firstLevel: number): Promise<{ frames: FrameView[]; why: string } | null> {
    const gdb = this.gdb!;
    const E = USER_FRAME_EXPRESSIONS;
    const at = (e: string) => e.replace(/\$cpu/g, String(cpu));
    // three expressions sent together: is there a process, its registers saved at entry (the whole
    // struct in one evaluate), its name
    const hasProc = gdb.evaluate(at(E.hasProcess));
    const saved = gdb.evaluate(`*${at(E.regs)}`);
    const nameP = gdb.evaluate(at(E.processName));
    saved.catch(() => undefined);
    nameP.catch(() => undefined);
    if (BigInt(await hasProc) === 0n) return null;
    const regsText = await saved;
    const val = (f: (typeof E.regFields)[number]) => {
      const m = new RegExp(`(?:^|[{,]\\s*)${f} = (\\d+)`).exec(regsText);
      if (!m) throw new Error(`no ${f} in the saved registers: ${regsText.slice(0, 200)}`);
      return BigInt.asUintN(64, BigInt(m[1]!));
    };
    const cs = val('cs');
    if ((cs & 3n) !== 3n) return null;
    const rip = val('rip');
    const rsp = val('rsp');
    const rbp = val('rbp');
    const nameRaw = await nameP;
    const name = /"(.*?)"/.exec(nameRaw)?.[1] ?? nameRaw;
    const ps = this.programSymbols(name);
    const top: FrameView = { level: firstLevel, func: '??', addr: '0x' + rip.toString(16), inProject: false, space: name, user: true };
    if (!ps) return { frames: [top], why: `no symbols for ${name} (${path.join(this.o.programsDir, name + '.elf')})` };
    // The thread waits in the kernel: its user stack does not change while these registers stay the
    // same (stepping through one system call), so the unwind of the last stop is reused.
    const key = `${name}:${ps.mtime}:${rip}:${rsp}:${rbp}`;
    const hit = this.userStackCache;
    if (hit && hit.key === key) return { frames: hit.frames.map((f, i) => ({ ...f, level: firstLevel + i })), why: hit.why };
    // One read of the stack from rsp to the end of its page (mapped: rsp points into it) serves most
    // of the unwind (each frame's reads depend on the previous one's, so they cannot be pipelined);
    // reads outside it go to gdb one by one.
    const STACK_BLOCK = Number(0x1000n - (rsp & 0xfffn));
    const block = await gdb.readMemory(rsp, STACK_BLOCK).catch(() => null);
    const u = await unwind(ps.fdes, { rip, rsp, rbp }, {
      read64: async (a) => {
        if (block && a >= rsp && a + 8n <= rsp + BigInt(STACK_BLOCK)) return new DataView(block.buffer, block.byteOffset + Number(a - rsp), 8).getBigUint64(0, true);
        const b = await gdb.readMemory(a, 8);
        return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
      },
      inProgram: (pc) => ps.code.some(([lo, hi]) => pc >= lo && pc < hi),
      maxFrames: 32,
    });
    const frames = u.frames.map((f, i): FrameView => {
      // every rip here is a return address (the kernel saved the one after `syscall`): the call is the byte before
      const at = f.rip - 1n;
      const fn = ps.sym.symbolize(at);
      const view: FrameView = { level: firstLevel + i, func: fn ? fn.name : '??', addr: '0x' + f.rip.toString(16), inProject: false, space: name, user: true };
      const line = ps.sym.lineFor(at);
      if (line) {
        const p = this.projectLine(line.file, name);
        view.file = p.file;
        view.inProject = p.inProject;
        view.line = line.line;
      }
      return view;
    });
    this.userStackCache = { key, frames, why: u.why };
    return { frames, why: u.why };
  }

  /**
   * A trace record from the kernel's per-CPU ring: the one with event id `id` (its CPU is id >> 48),
   * or the newest one written on `cpu` (trace_rings[cpu].next_id - 1). A record still being written
   * (reserved, not yet committed: the target stopped between the two) counts: the search goes up to
   * pend_head.
   */
  traceRecord(idText: string | undefined, cpuArg?: number): Promise<{ record: string; cpu: number; id: string }> {
    const gdb = this.needStopped();
    if (!this.features.breakOnMessage) return Promise.reject(new Error('this kernel has no LaneOS trace rings (trace_rings, ipc_submit_recorded): trace records are LaneOS-only'));
    let id: bigint | undefined;
    if (idText !== undefined && idText !== '') {
      try {
        id = BigInt(idText);
      } catch {
        throw new Error(`not an event id: ${JSON.stringify(idText)}`);
      }
      if (id <= 0n) throw new Error('event id 0: the event was not recorded (filtered or dropped)');
    } else if (!Number.isInteger(cpuArg) || cpuArg! < 0 || cpuArg! >= 64) throw new Error('give an event id or a CPU (0..63)');
    const cpu = id !== undefined ? Number(id >> 48n) : cpuArg!;
    return this.serial(async () => {
      // struct trace_ring by its generated field names (os/abi/layouts.toml): a field the kernel
      // renames fails the typecheck here, and kernel-layout.test.ts checks them against DWARF
      const ring = `${TraceRingLayout.symbol!}[${cpu}]`;
      const num = async (f: TraceRingField) => BigInt.asUintN(64, BigInt(await gdb.evaluate(`(unsigned long)${ring}.${f}`)));
      if (id === undefined) {
        const next = await num('next_id'); // cpu << 48 | the next event's sequence number
        if (!(next & 0xffffffffffffn)) throw new Error(`CPU ${cpu} has recorded nothing`);
        id = next - 1n;
      }
      let head = await num('head');
      const pend = await num('pend_head');
      if (pend > head && pend - head < 65536n) head = pend;
      const keep = await num('keep');
      const data = await num('data');
      const size = Number(await num('size'));
      if (!data || !size || size & (size - 1)) throw new Error(`trace ring of CPU ${cpu} is not set up (data 0x${data.toString(16)}, size ${size})`);
      // records never straddle the end of the ring: the newest ones lie just below head's offset
      let end = Number(head & BigInt(size - 1));
      if (end === 0 && head > 0n) end = size;
      const avail = Number(head - keep < BigInt(end) ? head - keep : BigInt(end));
      const n = Math.min(TRACE_TAIL_BYTES, avail) & ~7;
      if (n <= 0) throw new Error(`trace ring of CPU ${cpu} is empty`);
      const bytes = await gdb.readMemory(data + BigInt(end - n), n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let o = n - 24; o >= 0; o -= 8) {
        const type = dv.getUint16(o, true);
        const sz = dv.getUint16(o + 2, true);
        if (!type || sz < 24 || sz & 7 || o + sz > n) continue;
        if (dv.getBigUint64(o + 16, true) !== id) continue;
        return { record: Buffer.from(bytes.subarray(o, o + sz)).toString('base64'), cpu, id: '0x' + id.toString(16) };
      }
      throw new Error(`event 0x${id.toString(16)} is not among the last ${n} bytes of CPU ${cpu}'s trace ring`);
    });
  }

  /** At process_user_fault(r, kind): the faulting process, its saved rip and the source line of it. */
  private async userFault(cpu: number): Promise<{ description: string; frame: FrameView } | null> {
    const gdb = this.gdb!;
    try {
      const rip = BigInt(await gdb.evaluate('(unsigned long)r->rip'));
      const nameRaw = await gdb.evaluate('current()->proc->name').catch(() => gdb.evaluate(`cpus[${cpu}]->current->proc->name`));
      const name = /"(.*?)"/.exec(nameRaw)?.[1] ?? nameRaw;
      const kind = await gdb.evaluate('kind').catch(() => '?');
      const vector = await gdb.evaluate('r->vector').catch(() => '?');
      const frame: FrameView = { level: 0, func: '??', addr: '0x' + rip.toString(16), inProject: false, space: name };
      const elf = path.join(this.o.programsDir, `${name}.elf`);
      if (fs.existsSync(elf)) {
        const sym = new Symbolizer(parseElf(new Uint8Array(fs.readFileSync(elf))));
        const fn = sym.symbolize(rip);
        if (fn) frame.func = `${fn.name}+${fn.offset}`;
        const line = sym.lineFor(rip);
        if (line) {
          const abs = path.isAbsolute(line.file) ? line.file : path.join(this.o.root, line.file);
          const p = toProjectPath(fs.existsSync(abs) ? fs.realpathSync(abs) : abs, this.o.root);
          if (p.file) frame.file = p.file;
          frame.inProject = p.inProject;
          frame.line = line.line;
          if (!p.inProject) {
            // DWARF names the file relative to the compilation directory: find it under programs/<name>/.
            const guess = path.join('programs', name, path.basename(line.file));
            if (fs.existsSync(path.join(this.o.root, guess))) {
              frame.file = guess;
              frame.inProject = true;
            }
          }
        }
      }
      const where = frame.file ? `${frame.file}:${frame.line}` : frame.addr;
      return { description: `user-space fault in ${name} (vector ${vector}, ${kind}) at ${where}`, frame };
    } catch (e) {
      this.note(`could not map the user fault: ${(e as Error).message}`);
      return null;
    }
  }

  /**
   * The locals of frame `level` as var objects (expandable). When the frame lists the same variables
   * as at the last call (a step within one function), the var objects are kept and one
   * `-var-update --all-values *` refreshes them; otherwise they are deleted and created again, the
   * commands pipelined.
   */
  private async locals(level: number, thread?: string): Promise<VarView[]> {
    const gdb = this.gdb!;
    const th = thread ?? this.stop?.threadId ?? (await this.currentThread());
    const r = await gdb.cmd(`-stack-list-variables --frame ${level} --thread ${th} --simple-values`).catch(() => gdb.cmd('-stack-list-variables --simple-values'));
    const vars = miList(r.data.variables).map((v) => mapVariable((miTuple(v) ?? {}) as Record<string, unknown>)).slice(0, MAX_LOCALS);
    const names = vars.map((v) => `${v.name}:${v.type ?? ''}`).join('\n');
    const c = this.localsCache;
    if (c && c.thread === th && c.level === level && c.names === names) {
      const u = await gdb.cmd('-var-update --all-values *').catch(() => null);
      if (u) {
        const changes = new Map(miList(u.data.changelist).map((x) => miTuple(x) ?? {}).map((x) => [miStr(x.name) ?? '', x]));
        const fine = c.vars.every((v) => {
          const ch = v.varName ? changes.get(v.varName) : undefined;
          return !ch || (miStr(ch.in_scope) === 'true' && miStr(ch.type_changed) !== 'true');
        });
        if (fine) {
          const out = c.vars.map((v, i): VarView => {
            const now = vars[i]!;
            if (!v.varName) return { ...now, value: now.value || v.value };
            const ch = changes.get(v.varName);
            const value = (ch && miStr(ch.value)) ?? v.value;
            const numchild = ch && miStr(ch.new_num_children) !== undefined ? Number(miStr(ch.new_num_children)) : v.numchild;
            return { ...v, value, numchild };
          });
          this.localsCache = { ...c, vars: out };
          return out;
        }
      }
    }
    const old = this.varObjs.splice(0);
    this.localsCache = undefined;
    const pipelined: Promise<unknown>[] = old.map((v) => gdb.varDelete(v).catch(() => undefined));
    pipelined.push(gdb.cmd(`-stack-select-frame ${level}`).catch(() => undefined));
    const created = vars.map((v) => gdb.varCreate(v.name, '*').then((vo) => ({ vo }), (e: Error) => ({ e })));
    await Promise.all(pipelined);
    const out: VarView[] = [];
    for (const [i, p] of created.entries()) {
      const v = vars[i]!;
      const x = await p;
      if ('vo' in x) {
        this.varObjs.push(x.vo.name);
        out.push({ ...v, value: x.vo.value ?? v.value, ...(x.vo.type ? { type: x.vo.type } : {}), varName: x.vo.name, numchild: x.vo.numchild });
      } else out.push({ ...v, value: v.value || `<${x.e.message}>` });
    }
    this.localsCache = { thread: th, level, names, vars: out };
    return out;
  }

  private async currentThread(): Promise<string> {
    return (await this.gdb!.threadInfo()).current ?? '1';
  }

  private async cpus(selected: string): Promise<CpuThreadView[]> {
    try {
      const cs = await describeCpus(this.gdb!, this.features.cpuDescriptions ? LANEOS_CPU_EXPRESSIONS : null);
      await this.gdb!.selectThread(selected).catch(() => undefined);
      return cs.map((c) => ({ ...c, selected: c.threadId === selected }));
    } catch {
      return [];
    }
  }

  // ---------------------------------------------------------------- requests

  private needStopped(): GdbMi {
    if (this.phase !== 'stopped' || !this.gdb) throw new Error(this.phase === 'running' ? 'the target is running; pause it first' : `no debug session is stopped (${this.phase})`);
    return this.gdb;
  }

  async command(a: DebugAction): Promise<void> {
    if (this.o.core) throw new Error(CORE_READ_ONLY);
    const gdb = this.gdb;
    if (!gdb || this.phase === 'ended' || this.phase === 'starting') throw new Error('no debug session; use Run ▸ Debug first');
    if (a === 'pause') {
      if (this.phase !== 'running') return;
      await gdb.execInterrupt();
      return;
    }
    this.needStopped();
    const cmd = { continue: '-exec-continue', next: '-exec-next', step: '-exec-step', finish: '-exec-finish', stepi: '-exec-step-instruction', nexti: '-exec-next-instruction' }[a];
    this.commandAt = performance.now();
    const rec = (this.stepPath = this.follower ? new StepPathRecorder(this.commandAt, this.follower.clientId) : undefined);
    await this.serial(async () => {
      const sel = this.stop?.frames.find((f) => f.level === this.stop!.selectedLevel);
      if (a === 'finish' && this.stop && this.stop.selectedLevel > 0 && !sel?.user) await gdb.cmd(`-stack-select-frame ${this.stop.selectedLevel}`);
      rec?.sent();
      await gdb.cmd(cmd);
    });
  }

  selectFrame(level: number, threadId?: string): Promise<{ locals: VarView[]; location: { file: string; line: number } | null }> {
    const gdb = this.needStopped();
    return this.serial(async () => {
      if (threadId) await gdb.selectThread(threadId);
      const f = this.stop?.frames.find((x) => x.level === level);
      if (f?.user) {
        // unwound by Lanescope below a system call: gdb has no frame (and no locals) for it
        if (this.stop) {
          this.stop.selectedLevel = level;
          this.stop.locals = [];
        }
        return { locals: [], location: f.inProject && f.file && f.line ? { file: f.file, line: f.line } : null };
      }
      // A synthesized user frame (user fault) has no gdb frame: show the kernel frame's locals.
      const synthetic = this.stop?.kind === 'user-fault' && this.stop.frames[0]?.space !== 'kernel' && this.stop.frames[0]?.space !== 'user';
      const gdbLevel = synthetic ? Math.max(0, level - 1) : level;
      const locals = await this.locals(gdbLevel);
      if (this.stop) {
        this.stop.selectedLevel = level;
        this.stop.locals = locals;
      }
      return { locals, location: f && f.inProject && f.file && f.line ? { file: f.file, line: f.line } : null };
    });
  }

  selectThread(threadId: string): Promise<StopInfo> {
    const gdb = this.needStopped();
    return this.serial(async () => {
      await gdb.selectThread(threadId);
      const frames = await this.frames();
      const prev = this.stop!;
      const stop: StopInfo = { ...prev, threadId, cpu: prev.cpus.find((c) => c.threadId === threadId)?.cpu, frames, selectedLevel: 0, location: null, cpus: prev.cpus.map((c) => ({ ...c, selected: c.threadId === threadId })) };
      stop.locals = [];
      this.stop = stop;
      stop.locals = await this.locals(0).catch(() => []);
      const f0 = frames[0];
      stop.location = f0 && f0.inProject && f0.file && f0.line ? { file: f0.file, line: f0.line } : null;
      if (!stop.location) stop.disassembly = await this.disassemble().catch(() => []);
      else delete stop.disassembly;
      this.publish();
      return stop;
    });
  }

  expand(varName: string): Promise<VarView[]> {
    const gdb = this.needStopped();
    if (!/^var\d+(\.[\w$.-]+)*$/.test(varName)) throw new Error(`not a variable object: ${varName}`);
    return this.serial(async () => (await gdb.varListChildren(varName)).map((c) => ({
      name: c.exp ?? c.name, value: c.value ?? '', numchild: c.numchild, varName: c.name, ...(c.type ? { type: c.type } : {}),
    })));
  }

  evaluate(expressions: string[]): Promise<WatchResult[]> {
    const gdb = this.needStopped();
    return this.serial(async () => {
      for (const v of this.watchObjs.splice(0)) await gdb.varDelete(v).catch(() => undefined);
      const out: WatchResult[] = [];
      for (const expression of expressions.slice(0, 50)) {
        if (/[\r\n]/.test(expression)) {
          out.push({ expression, numchild: 0, error: 'expression contains a newline' });
          continue;
        }
        try {
          const vo = await gdb.varCreate(expression, '@');
          this.watchObjs.push(vo.name);
          out.push({ expression, value: vo.value ?? '', numchild: vo.numchild, varName: vo.name, ...(vo.type ? { type: vo.type } : {}) });
        } catch (e) {
          // -var-create only says "unable to create variable object": ask for gdb's own reason.
          const why = await gdb.evaluate(expression).then(() => (e as Error).message, (e2: Error) => e2.message);
          out.push({ expression, numchild: 0, error: why });
        }
      }
      return out;
    });
  }

  registers(): Promise<RegisterView[]> {
    const gdb = this.needStopped();
    return this.serial(async () => {
      this.regNames ??= interestingRegisters(await gdb.registerNames());
      let vals: Map<string, string>;
      try {
        vals = await gdb.registerValues('x', this.regNames);
      } catch {
        // a register the stub describes but cannot read (QEMU 7.2's RISC-V pmpcfg1 answers E14):
        // one at a time, and only those that read from now on
        vals = new Map();
        for (const n of this.regNames) {
          const one = await gdb.registerValues('x', [n]).catch(() => null);
          if (one) for (const [k, v] of one) vals.set(k, v);
        }
        this.regNames = [...vals.keys()];
      }
      return [...vals].map(([name, value]) => ({ name, value, group: registerGroup(name) }));
    });
  }

  memory(address: string, length: number): Promise<{ address: string; hex: string; error?: string }> {
    const gdb = this.needStopped();
    if (!Number.isInteger(length) || length <= 0 || length > 65536) throw new Error('length must be 1..65536 bytes');
    return this.serial(async () => {
      let addr = parseAddress(address);
      if (addr === null) {
        try {
          addr = BigInt(await gdb.evaluate(`(unsigned long)(${address})`));
        } catch (e) {
          throw new Error(`"${address}" is neither an address nor an expression gdb understands: ${(e as Error).message}`);
        }
      }
      const a = '0x' + addr.toString(16);
      try {
        const bytes = await gdb.readMemory(addr, length);
        return { address: a, hex: Buffer.from(bytes).toString('hex') };
      } catch (e) {
        return { address: a, hex: '', error: (e as Error).message };
      }
    });
  }

  disassembleAt(address?: string): Promise<DisasmLine[]> {
    this.needStopped();
    return this.serial(() => this.disassemble(address));
  }

  private async disassemble(address?: string): Promise<DisasmLine[]> {
    const gdb = this.gdb!;
    const pc = BigInt(await gdb.evaluate('(unsigned long)$pc'));
    let start = pc;
    if (address) {
      const a = parseAddress(address);
      start = a ?? BigInt(await gdb.evaluate(`(unsigned long)(${address})`));
    }
    const insns = await gdb.disassemble(start, start + 160n);
    return insns.map((i) => {
      const t = miTuple(i) ?? {};
      const addr = miStr(t.address) ?? '';
      const line: DisasmLine = { addr, inst: miStr(t.inst) ?? '', current: (() => { try { return BigInt(addr) === pc; } catch { return false; } })() };
      if (miStr(t['func-name'])) line.func = miStr(t['func-name'])!;
      if (miStr(t.offset)) line.offset = Number(miStr(t.offset));
      return line;
    }).slice(0, 48);
  }

  /** Ends the session (idempotent): stops gdb and the bridge; QEMU is the Runner's. */
  async end(why: string): Promise<void> {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.endedWhy = why;
    this.stopGen++;
    this.note(`session ended: ${why}`);
    this.publish();
    this.o.onEnded?.(why);
    this.follower?.stop();
    const gdb = this.gdb;
    const bridge = this.bridge;
    if (gdb) {
      gdb.removeAllListeners('stopped');
      await Promise.race([gdb.exit(2000).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      gdb.kill();
    }
    // a board's kernel stays stopped when its debugger leaves: let it run on (QEMU's belongs to the Runner)
    if (bridge && this.o.line && bridge.target?.state === 'stopped') {
      const run = bridge.target.resume().catch(() => undefined);
      await Promise.race([run, new Promise((r) => setTimeout(r, 300))]);
    }
    if (bridge) await bridge.close().catch(() => undefined);
    if (this.rspTimer) clearTimeout(this.rspTimer);
    const batch = this.pendingRsp;
    this.pendingRsp = [];
    if (batch.length) this.o.onRsp(batch);
  }

  isUserFrame(f: FrameView): boolean {
    return isUserAddress(f.addr);
  }
}

