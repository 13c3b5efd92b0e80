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

type Emit = <K extends keyof Events>(event: K, payload: Events[K]) => void;
type Handlers = { [K in keyof DebugRequests]: (p: DebugRequests[K]['params']) => Promise<DebugRequests[K]['result']> | DebugRequests[K]['result'] };

/** What the Runner needs to start a debuggable QEMU (see Runner.start). */
export interface DebugRunHooks {
  /** The project config with the gdbstub added (and the accelerator for debugging). */
  qemuConfig(c: ProjectConfig): ProjectConfig;
  /** QEMU was spawned: attach the debugger. */
  attach(): void;
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
    if (s && s.phase !== 'ended') void s.end(why);
    this.closePlain();
  }

  private closePlain(): void {
    const p = this.plain;
    if (!p) return;
    this.plain = null;
    void p.bridge.close().catch(() => undefined);
    fs.rmSync(`${p.stub}.bridge`, { force: true });
    if (!this.session) this.publish({ phase: 'off', breakpoints: this.specs.map((b) => ({ ...b })), seq: 0 });
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
    this.publish({ phase: 'off', breakpoints: this.specs.map((x) => ({ ...x })), seq: 0, port, stub, ...this.elfInfo() });
    return port;
  }

  /** A plain Run's QEMU has its gdbstub socket: the Debug panel shows it and offers the bridge's port. */
  plainStub(stub: string): void {
    if (this.session && this.session.phase !== 'ended') return;
    this.closePlain();
    this.publish({ phase: 'off', breakpoints: this.specs.map((x) => ({ ...x })), seq: 0, stub, ...this.elfInfo() });
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
    if (project.config.target !== 'qemu') throw new Error('debugging needs the QEMU target (serial hardware: the LaneOS stub is not there yet)');
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
    const accel = project.config.qemu.accel === 'auto' ? 'tcg' : project.config.qemu.accel;
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
      attach: () => {
        const session = DebugSession.create({
          endpoint: `unix:${gdbSocket}`,
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
      'debug.rspLog': ({ filter, limit }) => (this.session ? this.session.ring.entries(filter ?? '', Math.min(limit ?? 2000, 5000)) : []),
    };
  }

  async shutdown(): Promise<void> {
    if (this.session) await this.session.end('Lanescope is closing');
    this.closePlain();
    this.removeRunDir();
  }
}
