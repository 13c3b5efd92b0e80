/*
 * qemu.ts — start QEMU with its gdbstub on a free local port (tests, bench, CLI).
 *
 * The guest is stopped at reset (-S) until a debugger continues it. Without a
 * kernel it sits in SeaBIOS, which is enough to exercise the stub. kill() ends the
 * process (SIGKILL after a grace period); exited resolves with the exit status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { kvmUnusableReason } from './kvm.js';

export interface QemuOptions {
  /** QEMU binary (default qemu-system-x86_64; qemu-system-i386 for a 32-bit kernel). */
  binary?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  /** Extra arguments appended as is. */
  args?: string[];
  smp?: number;
  memory?: string;
  /** Accelerators: default tries KVM where it is worth it (./kvm.ts), falls back to TCG (LANESCOPE_ACCEL=tcg forces TCG). */
  accel?: 'kvm-tcg' | 'tcg';
  debugExit?: boolean;
  /** Put the gdbstub on this Unix socket path instead of a TCP port. */
  gdbUnixSocket?: string;
  /** -cpu model; default max,-arch-capabilities (plain max aborts under nested KVM here). */
  cpu?: string;
}

export interface Qemu {
  proc: ChildProcess;
  /** TCP port of the gdbstub (unused when gdbUnixSocket is given). */
  port: number;
  /** "tcp:127.0.0.1:PORT" or "unix:PATH", for RspClient.connect / Bridge.start. */
  endpoint: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  kill(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startQemu(opts: QemuOptions = {}): Promise<Qemu> {
  const port = await freePort();
  const mode = opts.accel ?? (process.env.LANESCOPE_ACCEL === 'tcg' || kvmUnusableReason() !== null ? 'tcg' : 'kvm-tcg');
  const accel = mode === 'tcg' ? ['-accel', 'tcg'] : ['-accel', 'kvm', '-accel', 'tcg'];
  const args = [
    ...accel, '-cpu', opts.cpu ?? 'max,-arch-capabilities', '-m', opts.memory ?? '128M', '-smp', String(opts.smp ?? 1),
    '-S', ...(opts.gdbUnixSocket
      ? ['-chardev', `socket,id=gdb0,path=${opts.gdbUnixSocket},server=on,wait=off`, '-gdb', 'chardev:gdb0']
      : ['-gdb', `tcp:127.0.0.1:${port}`]), '-nographic', '-no-reboot', '-display', 'none',
    '-monitor', 'none', '-serial', 'stdio',
  ];
  if (opts.debugExit ?? true) args.push('-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04');
  if (opts.kernel) args.push('-kernel', opts.kernel);
  if (opts.initrd) args.push('-initrd', opts.initrd);
  if (opts.append) args.push('-append', opts.append);
  args.push(...(opts.args ?? []));
  const binary = opts.binary ?? 'qemu-system-x86_64';
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', (e) => { out += `\nspawn error: ${e.message}`; resolve({ code: -1, signal: null }); });
  });
  // Wait until the stub accepts connections (probe without speaking RSP).
  const deadline = Date.now() + 30000;
  let exitedEarly = false;
  void exited.then(() => { exitedEarly = true; });
  for (;;) {
    if (exitedEarly) throw new Error(`${binary} exited before its gdbstub came up:\n${out}`);
    if (await canConnect(opts.gdbUnixSocket ?? port)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`QEMU's gdbstub did not listen on port ${port} within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc, port, endpoint: opts.gdbUnixSocket ? `unix:${opts.gdbUnixSocket}` : `tcp:127.0.0.1:${port}`, exited,
    output: () => out,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/*
 * QEMU's gdbstub accepts one connection; a probe connection that closes at once is
 * harmless (QEMU just waits for the next one).
 */
function canConnect(where: number | string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = typeof where === 'string' ? net.connect({ path: where }) : net.connect({ host: '127.0.0.1', port: where });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
