/*
 * Debugging, the contract half: what the renderer and the backend exchange about a debug session
 * (breakpoints, stops, frames, variables, CPUs, registers, memory, the RSP log), and the pure pieces
 * both sides use — the breakpoint model, GDB/MI → view-model mapping, hex dumps, the condition that
 * keeps a user program's breakpoint in its own process. Pure code: no runtime imports (lint).
 *
 *   renderer ── debug.* requests ──▶ backend DebugSession ── MI ──▶ gdb ── RSP ──▶ Bridge ──▶ QEMU gdbstub
 *            ◀── debug.state / debug.rsp events ──┘                    user's gdb ──▶ Bridge (same port)
 */

/** A breakpoint as the user set it (file is project-relative). */
export interface BreakpointSpec {
  file: string;
  line: number;
  condition?: string;
  enabled: boolean;
  /**
   * A kernel breakpoint on a system call path (e.g. the IPC submit): when it is hit, show the
   * user program's line that made the call (the first user frame in the program's own source)
   * instead of the kernel line. Set by "Break on next message".
   */
  showUserSource?: boolean;
}

/** A breakpoint as the session placed it. */
export interface BreakpointView extends BreakpointSpec {
  /** gdb's number when placed. */
  number?: string;
  /** Address gdb resolved it to. */
  addr?: string;
  /** User program it belongs to (null = kernel). */
  program?: string | null;
  hits?: number;
  /** The line gdb placed it on when the set line has no code (the next line that has). */
  resolvedLine?: number;
  /** Why gdb refused it (e.g. "No line 9999 in file"). */
  error?: string;
}

export interface FrameView {
  level: number;
  func: string;
  addr: string;
  /** Project-relative source path (or the absolute path gdb gave, when outside the project). */
  file?: string;
  line?: number;
  /** True when `file` is inside the project (openable). */
  inProject: boolean;
  /** 'kernel' or a user program's name. */
  space?: string;
  /**
   * A user-space frame below the kernel's (the system call's caller), unwound by Lanescope from
   * the registers the kernel saved at entry (gdb has no frame for it: no locals).
   */
  user?: boolean;
}

export interface VarView {
  name: string;
  value: string;
  type?: string;
  /** MI variable object name: expand it with debug.expand. */
  varName?: string;
  numchild: number;
  arg?: boolean;
}

export interface CpuThreadView {
  threadId: string;
  cpu: number;
  qemu: string;
  process?: string;
  pid?: number;
  tid?: number;
  idle?: boolean;
  error?: string;
  /** Where the CPU is: "func at file:line" or its pc (what any kernel shows). */
  frame?: string;
  /** This CPU is the one that stopped / is selected. */
  selected: boolean;
}

export interface RegisterView {
  name: string;
  value: string;
  group: 'general' | 'control' | 'segment' | 'other';
}

export interface DisasmLine {
  addr: string;
  func?: string;
  offset?: number;
  inst: string;
  current: boolean;
}

export interface StopInfo {
  /** gdb's reason (breakpoint-hit, end-stepping-range, signal-received, …). */
  reason: string;
  /** What the UI says, e.g. "breakpoint 1 in sys_write", "kernel panic: …", "user fault in fault-null". */
  description: string;
  threadId: string;
  /** The vCPU it stopped on (gdb's thread is a CPU on QEMU's stub, a kernel thread on LaneOS's). */
  cpu?: number;
  frames: FrameView[];
  /** Frame whose locals are shown. */
  selectedLevel: number;
  locals: VarView[];
  cpus: CpuThreadView[];
  /** Where to highlight: the top frame with source, or null (then disassembly is shown). */
  location: { file: string; line: number } | null;
  /** Disassembly around the pc when there is no source. */
  disassembly?: DisasmLine[];
  kind: 'breakpoint' | 'step' | 'pause' | 'panic' | 'user-fault' | 'signal' | 'other';
  /** Increases with every stop of a session. */
  stopId: number;
  /** Not everything yet: what is still coming is in `pending`; a later snapshot of the same stopId completes it. */
  partial?: boolean;
  /**
   * What a partial snapshot still lacks. A stop is published in stages: the location straight from
   * gdb's *stopped record (pending frames, locals, cpus), then the call stack and locals (pending
   * cpus), then the CPUs (and disassembly when there is no source).
   */
  pending?: Array<'frames' | 'locals' | 'cpus' | 'disassembly'>;
  /** Where the time of this stop went in the backend (see StopProfile). */
  profile?: StopProfile;
  /** The user's breakpoint that was hit (as set: file and line), when the stop is a breakpoint hit. */
  hit?: { file: string; line: number };
  /** Why the user stack below a system call ends where it does (when user frames were added). */
  userStackEnd?: string;
  /** The bridge client (a user's gdb) whose continue/step led to this stop; absent when it was Lanescope's. */
  runBy?: number;
}

/**
 * The backend's cost of one stop: MI commands issued (and their total latency, by command) and the
 * time from the *stopped record to each published stage. The debugging benchmark prints it; a unit
 * test bounds `mi` so a change that adds round trips per step fails.
 */
export interface StopProfile {
  /** MI commands issued for this stop until the stage named (cumulative). */
  mi: { location: number; frames: number; cpus: number };
  /** ms from *stopped to each stage's publish. */
  ms: { location: number; frames: number; cpus: number };
  /** ms from the debug.command that resumed (step, continue) to its *stopped: gdb's own step through the bridge. */
  execution?: number;
  /** Where `execution` went (StepPath): the resume's way through the queue, gdb, the bridge and QEMU. */
  path?: StepPath;
  /** Wall-clock times (performance.timeOrigin + now, ms) the debug.command arrived and each stage was published, to line up with the renderer's clock. */
  epoch?: { command?: number; stopped: number; location?: number; frames?: number; cpus?: number };
  /** Commands by name (e.g. "-data-evaluate-expression") with their count and summed latency. */
  byCommand: Record<string, { n: number; ms: number }>;
}

/**
 * The way of one step or continue, from the bridge's packet log (ms after the debug.command arrived):
 * what a Step Over costs before gdb reports *stopped, and which hop it is spent on.
 */
export interface StepPath {
  /** -exec-* written to gdb (waiting for MI work queued before it: the previous stop's snapshot, the renderer's requests). */
  sent: number;
  /** gdb's first resume packet (vCont) reached the bridge. */
  firstResume?: number;
  /** The target's last stop reply reached the bridge. */
  lastTargetStop?: number;
  /** gdb's last packet before its *stopped (its own stop work: thread list, registers, memory). */
  lastGdbPacket?: number;
  /** Packets from Lanescope's gdb to the bridge, by kind: resumes, single steps among them, range steps, thread-list queries, memory/register reads, others. */
  gdbPackets: { resume: number; singleStep: number; rangeStep: number; threadList: number; read: number; other: number };
  /** Packets the bridge sent to QEMU (gdb's forwarded plus the bridge's own steps and reads). */
  targetPackets: number;
  /** ms the bridge held a gdb packet before its first packet to QEMU, summed (its own work and waiting for the event loop). */
  bridgeMs: number;
  /** ms QEMU took to answer the bridge, summed over its requests (stepping included). */
  targetMs: number;
  /** ms between a bridge answer to gdb and gdb's next packet, summed (gdb's own work, or waiting for a CPU). */
  gdbMs: number;
}

export type DebugPhase = 'off' | 'starting' | 'running' | 'stopped' | 'ended';

/**
 * What the status bar says about a debug session: "paused · breakpoint 1 in syscall_dispatch"
 * while the debugger holds the target stopped; undefined otherwise (the bar then shows the
 * target's own state, "running · 00:42", as it does after Continue).
 */
export function debugStatusLabel(s: { phase: DebugPhase; stop?: Pick<StopInfo, 'description'>; core?: unknown }): string | undefined {
  if (s.phase !== 'stopped' || s.core) return undefined; // a core holds no target: the Run's own state stays
  const why = s.stop?.description.trim();
  return why ? `paused · ${why}` : 'paused';
}

export interface DebugStatus {
  phase: DebugPhase;
  /** Port on 127.0.0.1 a user's gdb can attach to (`target remote :PORT`): only once opened with debug.openPort. */
  port?: number;
  /** The kernel ELF (absolute) for the user's gdb command line. */
  elf?: string;
  /** The debugger that understands that ELF: gdb (x86) or gdb-multiarch (RISC-V, ARM). */
  gdb?: string;
  stop?: StopInfo;
  breakpoints: BreakpointView[];
  /** Why the session ended (QEMU exited, gdb crashed, protocol error …). */
  endedWhy?: string;
  /** Number of gdbs attached to the bridge (ours included). */
  clients?: number;
  /**
   * A plain Run with qemu.gdb.enabled (no debug session): QEMU's gdbstub Unix socket in the Run's
   * private folder (`target remote SOCKET`); the bridge's TCP port opens on request (debug.openPort).
   */
  stub?: string;
  accel?: string;
  /** What this kernel provides beyond CPU, frames and registers (absent: none). */
  features?: KernelFeatures;
  /**
   * A postmortem session on a core file (no target: Continue, Step and Pause are refused): the
   * core, its program and process, and how it died. The threads panel lists the process's threads.
   */
  core?: { file: string; program: string; pid: number; signal: string };
  /** Monotonic counter so the renderer can ignore stale snapshots. */
  seq: number;
}

/**
 * LaneOS-only debugging aids, each on only when the kernel has what it needs. Any other kernel
 * gets what every kernel has: CPUs (as gdb threads, with their frame), frames, locals, registers.
 */
export interface KernelFeatures {
  /** 'laneos' when the kernel's symbols (or lanescope.json debug.laneos) say so. */
  kernel: 'laneos' | 'other';
  /** Where it was learned: 'symbols' of the kernel ELF or 'lanescope.json'. */
  source: 'symbols' | 'lanescope.json';
  /** The CPUs panel names each CPU's thread and process (LaneOS cpus[n]->current). */
  cpuDescriptions: boolean;
  /** A breakpoint under programs/<name>/ holds only in that program's process; user stacks below system calls. */
  processBreakpoints: boolean;
  /** The automatic breakpoint on process_user_fault (a user program's fault stops at its line). */
  userFault: boolean;
  /** Break on next message (ipc_submit_recorded) and trace records from the kernel's rings. */
  breakOnMessage: boolean;
}

/**
 * LaneOS's mark: its per-CPU array, the system call entry and the user-fault path, together (a
 * `cpus` array alone is common — xv6 has one, of another shape — so it proves nothing).
 */
export const LANEOS_SYMBOLS = ['cpus', 'syscall_dispatch', 'process_user_fault'] as const;
/** What Break on next message needs beyond the mark: the IPC submit hook and the trace rings. */
export const MESSAGE_BREAK_SYMBOLS = ['ipc_submit_recorded', 'trace_rings'] as const;

/**
 * The features of a kernel from the names in its ELF symbol table, or as lanescope.json's
 * debug.laneos declares (true: all of them; false: none; null: from the symbols).
 */
export function kernelFeatures(symbols: ReadonlySet<string>, declared: boolean | null = null): KernelFeatures {
  if (declared !== null) {
    return { kernel: declared ? 'laneos' : 'other', source: 'lanescope.json', cpuDescriptions: declared, processBreakpoints: declared, userFault: declared, breakOnMessage: declared };
  }
  const laneos = LANEOS_SYMBOLS.every((n) => symbols.has(n));
  const messages = laneos && MESSAGE_BREAK_SYMBOLS.every((n) => symbols.has(n));
  return { kernel: laneos ? 'laneos' : 'other', source: 'symbols', cpuDescriptions: laneos, processBreakpoints: laneos, userFault: laneos, breakOnMessage: messages };
}

/**
 * What the CPUs panel says of a CPU: with LaneOS's descriptions, its thread and process; on any
 * other kernel (or before LaneOS's scheduler runs) where the CPU is — never a LaneOS expression's error.
 */
export function cpuSummary(c: CpuThreadView, features: KernelFeatures | undefined): string {
  if (features?.cpuDescriptions && c.process !== undefined) return c.idle ? 'idle' : `${c.process} (pid ${c.pid}, tid ${c.tid})`;
  if (features?.cpuDescriptions && c.error) return c.error;
  return c.frame ?? '';
}

/** A variable's type as shown after its value: set apart (`642 : int`, never `642int`). */
export function typeSuffix(type: string | undefined): string {
  return type ? ` : ${type}` : '';
}

/** No LaneOS aids (a kernel whose symbols could not be read). */
export const NO_FEATURES: KernelFeatures = kernelFeatures(new Set());

export interface RspLogEntry {
  time: number;
  dir: 'client->bridge' | 'bridge->client' | 'bridge->target' | 'target->bridge';
  client: number;
  /** Printable form of the packet. */
  text: string;
  size: number;
}

export type DebugAction = 'continue' | 'pause' | 'next' | 'step' | 'finish' | 'stepi' | 'nexti';

export interface WatchResult {
  expression: string;
  value?: string;
  type?: string;
  varName?: string;
  numchild: number;
  error?: string;
}

/** Request name → params and result (merged into app/common/contract.ts). */
export interface DebugRequests {
  'debug.run': { params: Record<string, never>; result: { ok: true } };
  'debug.status': { params: Record<string, never>; result: DebugStatus };
  'debug.setBreakpoints': { params: { breakpoints: BreakpointSpec[] }; result: BreakpointView[] };
  'debug.command': { params: { action: DebugAction }; result: { ok: true } };
  'debug.selectFrame': { params: { threadId?: string; level: number }; result: { locals: VarView[]; location: { file: string; line: number } | null } };
  'debug.selectThread': { params: { threadId: string }; result: StopInfo };
  'debug.expand': { params: { varName: string }; result: VarView[] };
  'debug.evaluate': { params: { expressions: string[] }; result: WatchResult[] };
  'debug.registers': { params: Record<string, never>; result: RegisterView[] };
  'debug.memory': { params: { address: string; length: number }; result: { address: string; hex: string; error?: string } };
  'debug.disassemble': { params: { address?: string }; result: DisasmLine[] };
  'debug.rspLog': { params: { filter?: string; limit?: number }; result: RspLogEntry[] };
  /** Opens the bridge's TCP port on 127.0.0.1 for the user's own gdb (closed until asked; ends with the session). */
  'debug.openPort': { params: Record<string, never>; result: { port: number } };
  /**
   * One trace record straight from the kernel's per-CPU ring (the flight recorder) while stopped:
   * the record whose event id is `id` (decimal or 0x hex; the CPU is id >> 48), or the newest one
   * written on `cpu`, searched among the ring's most recent bytes (a record reserved but not yet
   * committed included). `record` is the raw record, base64; `id` its event id (0x hex).
   */
  'debug.traceRecord': { params: { id?: string; cpu?: number }; result: { record: string; cpu: number; id: string } };
  /**
   * Opens a core file in a read-only debug session (gdb with the program's ELF and the core): the
   * same panels as a live stop. `core` and `elf` are absolute or relative to the project; without
   * `elf` the program's ELF is build/programs/<name>.elf beside the kernel ELF, <name> from the core.
   */
  'debug.openCore': { params: { core: string; elf?: string }; result: { ok: true } };
}

export interface DebugEvents {
  'debug.state': DebugStatus;
  'debug.rsp': { entries: RspLogEntry[] };
}

declare module './contract.js' {
  interface Requests extends DebugRequests {}
  interface Events extends DebugEvents {}
}

// ------------------------------------------------------------------ breakpoint model (renderer)

export const bpKey = (file: string, line: number): string => `${file}:${line}`;

/** The user's breakpoints: toggled from the gutter/F9, edited in the Breakpoints panel. */
export class BreakpointModel {
  private map = new Map<string, BreakpointSpec>();
  private listeners = new Set<() => void>();

  constructor(initial: BreakpointSpec[] = []) {
    for (const b of initial) if (validSpec(b)) this.map.set(bpKey(b.file, b.line), { ...b });
  }

  list(): BreakpointSpec[] {
    return [...this.map.values()].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  }

  forFile(file: string): BreakpointSpec[] {
    return this.list().filter((b) => b.file === file);
  }

  get(file: string, line: number): BreakpointSpec | undefined {
    return this.map.get(bpKey(file, line));
  }

  /** Adds a breakpoint or removes the one on that line. Returns true when one now exists. */
  toggle(file: string, line: number): boolean {
    const k = bpKey(file, line);
    if (this.map.has(k)) {
      this.map.delete(k);
      this.changed();
      return false;
    }
    this.map.set(k, { file, line, enabled: true });
    this.changed();
    return true;
  }

  add(spec: BreakpointSpec): void {
    if (!validSpec(spec)) throw new Error(`bad breakpoint ${JSON.stringify(spec)}`);
    this.map.set(bpKey(spec.file, spec.line), { ...spec });
    this.changed();
  }

  remove(file: string, line: number): void {
    if (this.map.delete(bpKey(file, line))) this.changed();
  }

  setEnabled(file: string, line: number, enabled: boolean): void {
    const b = this.map.get(bpKey(file, line));
    if (!b || b.enabled === enabled) return;
    b.enabled = enabled;
    this.changed();
  }

  /** Sets (or with '' clears) a condition, a C expression gdb evaluates at each hit. */
  setCondition(file: string, line: number, condition: string): void {
    const b = this.map.get(bpKey(file, line));
    if (!b) return;
    const c = condition.trim();
    if (c) b.condition = c;
    else delete b.condition;
    this.changed();
  }

  clear(): void {
    if (!this.map.size) return;
    this.map.clear();
    this.changed();
  }

  /** Lines moved by an edit (line >= from shifts by delta; lines deleted by the edit drop). */
  shiftLines(file: string, from: number, delta: number): void {
    if (!delta) return;
    const moved: BreakpointSpec[] = [];
    for (const [k, b] of this.map) {
      if (b.file !== file || b.line < from) continue;
      this.map.delete(k);
      if (delta < 0 && b.line < from - delta) continue;
      moved.push({ ...b, line: b.line + delta });
    }
    for (const b of moved) this.map.set(bpKey(b.file, b.line), b);
    this.changed();
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function validSpec(b: BreakpointSpec): boolean {
  return typeof b.file === 'string' && b.file.length > 0 && Number.isInteger(b.line) && b.line > 0 && typeof b.enabled === 'boolean';
}

/** Checks breakpoint specs from the renderer; returns an error message or null. */
export function checkBreakpointSpecs(v: unknown): string | null {
  if (!Array.isArray(v)) return 'breakpoints must be a list';
  for (const b of v) {
    if (typeof b !== 'object' || b === null) return 'each breakpoint must be an object';
    const s = b as BreakpointSpec;
    if (!validSpec(s)) return `bad breakpoint ${JSON.stringify(b)}: needs file (string), line (positive integer), enabled (boolean)`;
    if (s.condition !== undefined && (typeof s.condition !== 'string' || /[\r\n]/.test(s.condition))) return `bad condition for ${s.file}:${s.line}`;
    if (s.file.split('/').includes('..') || s.file.startsWith('/')) return `breakpoint file ${s.file} is outside the project`;
  }
  return null;
}

// ------------------------------------------------------------------ user programs

/**
 * LaneOS user programs live in programs/<name>/ and are linked statically at 0x400000, so every
 * process's code overlaps. A breakpoint in programs/<name>/… belongs to that program only.
 */
export function programOfFile(file: string): string | null {
  const m = /(?:^|\/)programs\/([^/]+)\/[^]*$/.exec(file);
  return m ? m[1]! : null;
}

/**
 * The gdb condition that restricts a breakpoint to the process running `program`: the kernel's
 * per-CPU structure of the CPU that hit it names the current thread's process. That CPU is the
 * stub's `lanes_cpu` register on LaneOS's own stub (its threads are kernel threads), else gdb
 * thread N = vCPU N-1 (QEMU's stub). `user` is the user's own condition (ANDed).
 */
export const STOPPED_CPU_EXPRESSION = '($_isvoid($lanes_cpu) ? $_thread - 1 : $lanes_cpu)';

export function processCondition(program: string, user?: string): string {
  const name = program.replace(/[^A-Za-z0-9_.-]/g, '');
  const own = `$_streq(cpus[${STOPPED_CPU_EXPRESSION}]->current->proc->name, "${name}")`;
  return user && user.trim() ? `(${own}) && (${user.trim()})` : own;
}

// ------------------------------------------------------------------ MI → view model

/** Maps gdb's absolute source path to a project-relative one when it is inside the project. */
export function toProjectPath(fullname: string | undefined, root: string): { file?: string; inProject: boolean } {
  if (!fullname) return { inProject: false };
  const r = root.endsWith('/') ? root : root + '/';
  const norm = fullname.replace(/\/\.\//g, '/');
  if (norm.startsWith(r)) return { file: norm.slice(r.length), inProject: true };
  return { file: fullname, inProject: false };
}

type MiLike = { [k: string]: unknown };
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** MI frame tuples (from -stack-list-frames or *stopped) → FrameView. */
export function mapFrame(t: MiLike, root: string): FrameView {
  const p = toProjectPath(s(t['fullname']) ?? s(t['file']), root);
  const line = s(t['line']);
  const addr = s(t['addr']) ?? '';
  const f: FrameView = { level: Number(s(t['level']) ?? 0), func: s(t['func']) ?? '??', addr, inProject: p.inProject };
  if (p.file) f.file = p.file;
  if (line) f.line = Number(line);
  f.space = isUserAddress(addr) ? 'user' : 'kernel';
  return f;
}

/** Lower-half (canonical, below 0x0000_8000_0000_0000) addresses are user space on x86_64. */
export function isUserAddress(addr: string): boolean {
  try {
    const a = BigInt(addr);
    return a > 0n && a < 0x0000_8000_0000_0000n;
  } catch {
    return false;
  }
}

/** Describes a *stopped record for the status line. */
export function describeStop(t: MiLike, bpNames: Map<string, string> = new Map()): { text: string; kind: StopInfo['kind'] } {
  const reason = s(t['reason']) ?? '';
  const frame = (t['frame'] ?? {}) as MiLike;
  const where = s(frame['func']) ? ` in ${s(frame['func'])}` : s(frame['addr']) ? ` at ${s(frame['addr'])}` : '';
  switch (reason) {
    case 'breakpoint-hit': {
      const n = s(t['bkptno']) ?? '?';
      const special = bpNames.get(n);
      if (special === 'panic') return { text: `kernel panic${where}`, kind: 'panic' };
      if (special === 'user-fault') return { text: 'user-space fault', kind: 'user-fault' };
      return { text: `breakpoint ${n}${where}`, kind: 'breakpoint' };
    }
    case 'end-stepping-range': return { text: `stepped${where}`, kind: 'step' };
    case 'function-finished': return { text: `returned${where}${s(t['return-value']) ? ` (value ${s(t['return-value'])})` : ''}`, kind: 'step' };
    case 'signal-received': {
      const sig = s(t['signal-name']) ?? 'signal';
      return sig === 'SIGINT' ? { text: `paused${where}`, kind: 'pause' } : { text: `${sig}${where}`, kind: 'signal' };
    }
    case 'watchpoint-trigger': return { text: `watchpoint${where}`, kind: 'other' };
    case '': return { text: `stopped${where}`, kind: 'pause' };
    default: return { text: `${reason}${where}`, kind: 'other' };
  }
}

/** Variables from -stack-list-variables / -var-list-children → VarView. */
export function mapVariable(t: MiLike): VarView {
  const v: VarView = { name: s(t['exp']) ?? s(t['name']) ?? '', value: s(t['value']) ?? '', numchild: Number(s(t['numchild']) ?? 0) };
  if (s(t['type'])) v.type = s(t['type'])!;
  if (t['arg'] === '1' || t['arg'] === true) v.arg = true;
  return v;
}

// x86_64 and i386; RISC-V (the ABI names gdb uses, and the supervisor/machine trap CSRs); aarch64
// (x0..x30, and the EL1 system registers QEMU's gdbstub describes)
const CONTROL = new Set(['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer',
  'sstatus', 'sie', 'sip', 'stvec', 'sepc', 'scause', 'stval', 'satp', 'mstatus', 'mie', 'mip', 'mtvec', 'mepc', 'mcause', 'mtval', 'priv',
  'SCTLR_EL1', 'TTBR0_EL1', 'TTBR1_EL1', 'TCR_EL1', 'VBAR_EL1', 'ESR_EL1', 'FAR_EL1', 'ELR_EL1', 'SPSR_EL1', 'CurrentEL']);
const SEGMENT = new Set(['cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base', 'k_gs_base']);
const GENERAL = new Set(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags',
  'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'eip',
  'zero', 'ra', 'sp', 'gp', 'tp', 'fp', 'pc', ...Array.from({ length: 7 }, (_, i) => `t${i}`), ...Array.from({ length: 12 }, (_, i) => `s${i}`), ...Array.from({ length: 8 }, (_, i) => `a${i}`),
  ...Array.from({ length: 31 }, (_, i) => `x${i}`), 'cpsr']);

export function registerGroup(name: string): RegisterView['group'] {
  if (GENERAL.has(name)) return 'general';
  if (CONTROL.has(name)) return 'control';
  if (SEGMENT.has(name)) return 'segment';
  return 'other';
}

/** Registers worth showing (general, segment and control; no FPU/SSE). */
export function interestingRegisters(names: string[]): string[] {
  return names.filter((n) => n && registerGroup(n) !== 'other');
}

// ------------------------------------------------------------------ memory view

export interface HexRow {
  address: string;
  hex: string;
  ascii: string;
}

/** Formats bytes (given as a hex string) into 16-byte rows: address, hex bytes, ASCII. */
export function hexRows(startAddress: string, hex: string): HexRow[] {
  const rows: HexRow[] = [];
  let base: bigint;
  try {
    base = BigInt(startAddress);
  } catch {
    base = 0n;
  }
  const bytes: number[] = [];
  for (let i = 0; i + 1 < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  for (let off = 0; off < bytes.length; off += 16) {
    const chunk = bytes.slice(off, off + 16);
    rows.push({
      address: '0x' + (base + BigInt(off)).toString(16).padStart(16, '0'),
      hex: chunk.map((b) => b.toString(16).padStart(2, '0')).join(' '),
      ascii: chunk.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join(''),
    });
  }
  return rows;
}

/** Parses a user-typed address or expression-free number (0x…, decimal); null if not a number. */
export function parseAddress(text: string): bigint | null {
  const t = text.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) return null;
  return BigInt(t);
}

/** The line a user types into their own terminal to join the session. */
export function gdbAttachCommand(port: number, elf?: string, gdb = 'gdb'): string {
  return `${gdb}${elf ? ` ${elf}` : ''} -ex 'target remote :${port}'`;
}

/** Keeps the last `cap` RSP log entries. */
export class RspRing {
  private buf: RspLogEntry[] = [];
  dropped = 0;
  constructor(readonly cap = 5000) {}
  push(e: RspLogEntry): void {
    this.buf.push(e);
    if (this.buf.length > this.cap) {
      const n = this.buf.length - this.cap;
      this.buf.splice(0, n);
      this.dropped += n;
    }
  }
  entries(filter = '', limit = this.cap): RspLogEntry[] {
    const f = filter.trim().toLowerCase();
    const out = f ? this.buf.filter((e) => matchesRspFilter(e, f)) : this.buf;
    return out.slice(-limit);
  }
  clear(): void {
    this.buf = [];
  }
  get size(): number {
    return this.buf.length;
  }
}

/** Filter: text in the packet, or `dir:target`, `dir:client`, `client:N`. Words are ANDed. */
export function matchesRspFilter(e: RspLogEntry, filter: string): boolean {
  for (const w of filter.toLowerCase().split(/\s+/).filter(Boolean)) {
    if (w.startsWith('client:')) {
      if (String(e.client) !== w.slice(7)) return false;
    } else if (w.startsWith('dir:')) {
      if (!e.dir.includes(w.slice(4))) return false;
    } else if (!e.text.toLowerCase().includes(w)) return false;
  }
  return true;
}
