/*
 * The backend's debugging front: answers the contract's debug.* requests, keeps the user's
 * breakpoints between sessions, and turns "Run with debugging" into a Run whose QEMU has a gdbstub
 * (`-S`: the guest waits at reset until breakpoints are placed) and a DebugSession attached to it.
 *
 * Nothing listens on the network: each debug Run gets a private run folder (mkdtemp, mode 0700)
 * holding QEMU's gdbstub socket (`gdb.sock`, a chardev `-gdb chardev:…`) and the bridge's socket
 * (`bridge.sock`, Lanescope's own gdb connects there). The bridge's TCP port on 127.0.0.1 for the
 * user's own gdb opens only on request (debug.openPort, the Debug panel's button) and closes with
 * the session. The folder is removed when the session ends.
 *
 * Debug sessions run QEMU under TCG when the project says accel "auto": on KVM hosts (this one is
 * nested) software breakpoints written before the kernel is loaded are lost, an int3 hit can stop
 * QEMU with an internal error, and hardware breakpoints on user-mode addresses may never fire. An
 * explicit accel "kvm" is kept (breakpoints then go to debug registers through the bridge).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { debugQemuBinary, gdbForKernel, readElfIdent } from './target-arch.js';
import { gdbForElf } from '../../common/arch.js';
import type { Events } from '../../common/contract.js';
import {
  checkBreakpointSpecs,
  type BreakpointSpec,
  type DebugRequests,
  type DebugStatus,
} from '../../common/debug.js';
import type { ProjectConfig } from '../../common/project.js';
import type { Project } from '../project.js';
import { Bridge } from '../../../debugger/node/bridge.js';
import { gdbSocketArgs } from '../qemu.js';
import { DebugSession } from './session.js';
import type { MuxLine } from '../../../debugger/common/serial-mux.js';
import { parseCore, type CoreFile } from '../../../debugger/common/core.js';

/** Linux's signal numbers (LaneOS uses them): a core's siginfo named. */
const SIGNAL_NAMES: Record<number, string> = { 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 11: 'SIGSEGV' };

type Emit = <K extends keyof Events>(event: K, payload: Events[K]) => void;
type Handlers = { [K in keyof DebugRequests]: (p: DebugRequests[K]['params']) => Promise<DebugRequests[K]['result']> | DebugRequests[K]['result'] };

/** What the Runner needs to start a debuggable QEMU (see Runner.start). */
export interface DebugRunHooks {
  /** The project config with the gdbstub added (and the accelerator for debugging). */
  qemuConfig(c: ProjectConfig): ProjectConfig;
  /** QEMU was spawned (or, serial target, the board spoke on its line: `line`): attach the debugger. */
  attach(line?: MuxLine): void;
}

/** Minimal view of the Runner (app/node/runner.ts). */
export interface RunnerLike {
  readonly busy: boolean;
  checkCanStart(): void;
  start(debug?: DebugRunHooks | null): Promise<void>;
  stop(): Promise<void>;
  /** A plain Run's gdbstub socket (qemu.gdb.enabled), or null */
  readonly gdbSocket?: string | null;
}

export { debugQemuBinary } from './target-arch.js';

/** The project's QEMU config with a gdbstub on the Unix socket `gdbSocket`, the guest held at reset (-S). */
export function debugQemuConfig(c: ProjectConfig, gdbSocket: string, elf: { bits: 32 | 64; machine: number } | null = null): ProjectConfig {
  const extra = c.qemu.extraArgs.filter((a, i, all) => a !== '-S' && a !== '-s' && all[i - 1] !== '-gdb' && a !== '-gdb');
  const stub = gdbSocketArgs(gdbSocket);
  return {
    ...c,
    qemu: {
      ...c.qemu,
      binary: debugQemuBinary(c.qemu.binary, elf),
      accel: c.qemu.accel === 'auto' ? 'tcg' : c.qemu.accel,
      gdb: { enabled: false, port: c.qemu.gdb.port },
      extraArgs: [...extra, ...stub, '-S'],
    },
  };
}

export class DebugController {
  session: DebugSession | null = null;
  private specs: BreakpointSpec[] = [];
  private last: DebugStatus = { phase: 'off', breakpoints: [], seq: 0 };
  private seq = 0;
  /** The current debug Run's private folder (sockets), removed when its session ends. */
  private runDir: string | null = null;
  /** A plain Run's bridge to its gdbstub, opened by debug.openPort (TCP on 127.0.0.1), closed when the target ends. */
  private plain: { bridge: Bridge; stub: string } | null = null;

  constructor(
    private readonly emit: Emit,
    private readonly runner: RunnerLike,
    private readonly getProject: () => Project | null,
  ) {}

  private publish(s: DebugStatus): void {
    // Sessions number their own snapshots; keep the sequence increasing across sessions.
    this.last = { ...s, seq: ++this.seq };
    this.emit('debug.state', this.last);
  }

  /** The Runner's target ended (exited, stopped, failed): end the session with that reason. */
  targetEnded(why: string): void {
    const s = this.session;
    if (s && s.phase !== 'ended' && !s.isCore) void s.end(why); // a core has no target: it stays open
    else if (!s && this.last.phase === 'starting') {
      // the Run failed before a session attached (a line that would not open, a failed build)
      this.removeRunDir();
      this.publish({ phase: 'ended', breakpoints: this.specs.map((b) => ({ ...b })), seq: 0, endedWhy: why });
    }
    this.closePlain();
  }

  private closePlain(): void {
    const p = this.plain;
    if (!p) return;
    this.plain = null;
    void p.bridge.close().catch(() => undefined);
    fs.rmSync(`${p.stub}.bridge`, { force: true });
    if (!this.session) this.publishOff();
  }

  /**
   * debug.openPort on a plain Run with qemu.gdb.enabled: a bridge to QEMU's gdbstub socket with a
   * TCP port on 127.0.0.1 (qemu.gdb.port when free, else any). Connecting stops the guest (QEMU
   * pauses when a gdb attaches) until a gdb continues it.
   */
  private async openPlainPort(): Promise<number> {
    const stub = this.runner.gdbSocket;
    if (!stub) throw new Error('no debug session and no gdbstub: start one with Debug (Ctrl+F5), or set qemu.gdb.enabled and Run');
    if (this.plain?.stub !== stub) {
      this.closePlain();
      const bridge = await Bridge.start(`unix:${stub}`, { unix: `${stub}.bridge` });
      this.plain = { bridge, stub };
      bridge.on('target-closed', () => this.closePlain());
    }
    const b = this.plain.bridge;
    let port = b.port;
    if (port === undefined) {
      const want = this.getProject()?.config.qemu.gdb.port ?? 0;
      port = await b.listen(want).catch(() => b.listen(0));
    }
    this.publishOff({ port, stub, ...this.elfInfo() });
    return port;
  }

  /** A plain Run's QEMU has its gdbstub socket: the Debug panel shows it and offers the bridge's port. */
  plainStub(stub: string): void {
    if (this.session && this.session.phase !== 'ended') return;
    this.closePlain();
    this.publishOff({ stub, ...this.elfInfo() });
  }

  /** No debug session: the breakpoints as set, and what a plain Run's gdbstub offers (if any). */
  private publishOff(more: { port?: number; stub?: string; elf?: string; gdb?: string } = {}): void {
    this.publish({ phase: 'off', breakpoints: this.specs.map((x) => ({ ...x })), seq: 0, ...more });
  }

  /** The kernel ELF and the gdb that understands it, for the user's `target remote` line. */
  private elfInfo(): { elf?: string; gdb?: string } {
    const p = this.getProject();
    if (!p?.config.debug.elf) return {};
    const elf = p.resolve(p.config.debug.elf);
    return { elf, gdb: gdbForElf(readElfIdent(elf)) };
  }

  async run(): Promise<void> {
    const project = this.getProject();
    if (!project) throw new Error('no project is open');
    const serial = project.config.target === 'serial';
    if (serial && !project.config.serial.mux) throw new Error('debugging on the serial target needs LaneOS booted with lanes.debug=ttyS0 and lanescope.json serial.mux true (it is false: a plain console)');
    const elfRel = project.config.debug.elf;
    if (!elfRel) throw new Error('lanescope.json: set debug.elf to the kernel ELF with symbols (e.g. build/kernel/lanes.elf)');
    const kernelElf = project.resolve(elfRel);
    // the gdb that understands this kernel (gdb-multiarch for RISC-V/ARM): missing → say so now
    let gdbPath = gdbForKernel(readElfIdent(kernelElf));
    if (this.session) await this.session.end('a new Run started');
    if (this.runner.busy) await this.runner.stop();
    this.session = null;
    this.removeRunDir();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-debug-')); // mode 0700
    this.runDir = dir;
    const gdbSocket = path.join(dir, 'gdb.sock');
    const accel = serial ? 'serial' : project.config.qemu.accel === 'auto' ? 'tcg' : project.config.qemu.accel;
    this.runner.checkCanStart();
    const hooks: DebugRunHooks = {
      qemuConfig: (c) => {
        // (after the build: the ELF is the one about to boot)
        const ident = readElfIdent(kernelElf); // null when not an ELF: the session says so
        try {
          gdbPath = gdbForKernel(ident);
        } catch (e) {
          this.emit('notice', { level: 'error', message: (e as Error).message });
        }
        const dc = debugQemuConfig(c, gdbSocket, ident);
        if (dc.qemu.binary !== c.qemu.binary) this.emit('notice', { level: 'info', message: `${elfRel} is a 32-bit x86 kernel: debugging it under ${dc.qemu.binary} (qemu-system-x86_64's gdbstub shows 64-bit registers gdb cannot use for it)` });
        return dc;
      },
      attach: (line) => {
        if (serial) {
          try {
            gdbPath = gdbForKernel(readElfIdent(kernelElf)); // after the build
          } catch (e) {
            this.emit('notice', { level: 'error', message: (e as Error).message });
          }
        }
        const session = DebugSession.create({
          endpoint: line ? `serial:${project.config.serial.port}` : `unix:${gdbSocket}`,
          ...(line ? { line } : {}),
          listen: { unix: path.join(dir, 'bridge.sock') },
          root: project.root,
          kernelElf,
          programsDir: path.resolve(path.dirname(kernelElf), '../programs'),
          breakpoints: this.specs,
          accel,
          laneos: project.config.debug.laneos,
          gdbPath,
          onState: (s) => this.publish(s),
          onRsp: (entries) => this.emit('debug.rsp', { entries }),
          onEnded: (why) => {
            if (this.runDir === dir) this.removeRunDir();
            this.emit('notice', { level: /exited with status 0|new Run|stopped/.test(why) ? 'info' : 'warning', message: `Debug session ended: ${why}` });
          },
        });
        this.session = session;
        void session.run();
      },
    };
    this.publish({ phase: 'starting', breakpoints: this.specs.map((b) => ({ ...b })), seq: 0, accel });
    this.runner.start(hooks).catch((e: Error) => this.emit('notice', { level: 'error', message: e.message }));
  }

  /**
   * A read-only debug session on a core file (DebugSession with `core`): gdb opens the program's
   * ELF with the core; the panels show the stop where the process died. The core is checked first
   * (parseCore), so a truncated or corrupt file is refused naming what is wrong. A live debug
   * session is not ended for it (the user stops that first).
   */
  async openCore(coreArg: string, elfArg?: string, what?: { program?: string; pid?: number; signal?: string }): Promise<void> {
    const project = this.getProject();
    const resolve = (p: string) => (path.isAbsolute(p) ? p : project ? project.resolve(p) : path.resolve(p));
    const core = resolve(coreArg);
    let st: fs.Stats;
    try {
      st = fs.statSync(core);
    } catch {
      throw new Error(`no core file at ${core}`);
    }
    if (!st.isFile()) throw new Error(`${core} is not a file`);
    if (st.size > 512 << 20) throw new Error(`${core} is ${st.size} bytes: larger than any core LaneOS writes (512 MiB at most here)`);
    let parsed: CoreFile;
    try {
      parsed = parseCore(new Uint8Array(fs.readFileSync(core)));
    } catch (e) {
      throw new Error(`${path.basename(core)}: ${(e as Error).message}`);
    }
    const program = what?.program ?? parsed.process?.name ?? '';
    let elf: string;
    if (elfArg) elf = resolve(elfArg);
    else {
      const kernelRel = project?.config.debug.elf;
      if (!kernelRel || !project) throw new Error('give the program\'s ELF (lanescope.json has no debug.elf to find build/programs/ beside)');
      if (!/^[A-Za-z0-9_.+-]+$/.test(program)) throw new Error(`the core names no program (${JSON.stringify(program)}): give its ELF`);
      elf = path.resolve(path.dirname(project.resolve(kernelRel)), '../programs', `${program}.elf`);
    }
    if (!fs.existsSync(elf)) throw new Error(`no ELF for ${program || 'the program'} at ${elf} (build it, or give its path)`);
    const s = this.session;
    if (s && s.phase !== 'ended' && !s.isCore) throw new Error('a debug session is running: stop it before opening a core');
    if (s) await s.end('another core was opened');
    const si = parsed.siginfo;
    const signo = si?.signo ?? parsed.threads[0]?.signal ?? 0;
    const signal = what?.signal ?? `${SIGNAL_NAMES[signo] ?? `signal ${signo}`}${si ? ` at address 0x${si.addr.toString(16)}` : ''}`;
    const session = DebugSession.create({
      endpoint: '',
      root: project?.root ?? path.dirname(core),
      kernelElf: elf,
      programsDir: path.dirname(elf),
      breakpoints: [],
      accel: 'core',
      laneos: false,
      core: { file: core, program: program || path.basename(elf, '.elf'), pid: what?.pid ?? parsed.process?.pid ?? 0, signal },
      onState: (x) => this.publish(x),
      onRsp: () => undefined,
      onEnded: (why) => {
        if (!/another core|new Run|closing|closed/.test(why)) this.emit('notice', { level: 'warning', message: `Core session ended: ${why}` });
      },
    });
    this.session = session;
    await session.run();
    if (session.phase === 'ended') throw new Error(session.status().endedWhy ?? 'the core could not be opened');
  }

  private removeRunDir(): void {
    if (this.runDir) fs.rmSync(this.runDir, { recursive: true, force: true });
    this.runDir = null;
  }

  private need(): DebugSession {
    if (!this.session || this.session.phase === 'ended') throw new Error('no debug session; start one with Debug (Ctrl+F5)');
    return this.session;
  }

  handlers(): Handlers {
    return {
      'debug.run': async () => {
        await this.run();
        return { ok: true };
      },
      'debug.status': () => (this.session ? this.session.status() : { ...this.last, breakpoints: this.specs.map((b) => ({ ...b })) }),
      'debug.setBreakpoints': async ({ breakpoints }) => {
        const err = checkBreakpointSpecs(breakpoints);
        if (err) throw new Error(err);
        this.specs = breakpoints.map((b) => ({ ...b }));
        if (this.session && this.session.phase !== 'ended') return this.session.setBreakpoints(this.specs);
        return this.specs.map((b) => ({ ...b }));
      },
      'debug.command': async ({ action }) => {
        if (!['continue', 'pause', 'next', 'step', 'finish', 'stepi', 'nexti'].includes(action)) throw new Error(`unknown debug action ${JSON.stringify(action)}`);
        await this.need().command(action);
        return { ok: true };
      },
      'debug.selectFrame': ({ level, threadId }) => this.need().selectFrame(Number(level), threadId),
      'debug.selectThread': ({ threadId }) => this.need().selectThread(String(threadId)),
      'debug.expand': ({ varName }) => this.need().expand(String(varName)),
      'debug.evaluate': ({ expressions }) => {
        if (!Array.isArray(expressions) || !expressions.every((e) => typeof e === 'string')) throw new Error('expressions must be a list of strings');
        return this.need().evaluate(expressions);
      },
      'debug.registers': () => this.need().registers(),
      'debug.memory': ({ address, length }) => this.need().memory(String(address), Number(length)),
      'debug.disassemble': ({ address }) => this.need().disassembleAt(address),
      'debug.traceRecord': ({ id, cpu }) => this.need().traceRecord(id === undefined ? undefined : String(id), cpu === undefined ? undefined : Number(cpu)),
      'debug.openPort': async () => ({ port: this.session && this.session.phase !== 'ended' ? await this.session.openPort() : await this.openPlainPort() }),
      'debug.openCore': async ({ core, elf }) => {
        if (typeof core !== 'string' || !core) throw new Error('core: the core file\'s path');
        if (elf !== undefined && typeof elf !== 'string') throw new Error('elf must be a path');
        await this.openCore(core, elf || undefined);
        return { ok: true };
      },
      'debug.rspLog': ({ filter, limit }) => (this.session ? this.session.ring.entries(filter ?? '', Math.min(limit ?? 2000, 5000)) : []),
    };
  }

  async shutdown(): Promise<void> {
    if (this.session) await this.session.end('Lanescope is closing');
    this.closePlain();
    this.removeRunDir();
  }
}
