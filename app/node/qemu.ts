/*
 * QEMU target: turns the project's `qemu` section into a command line and runs it.
 * COM1 (the "console" serial port) is QEMU's stdio, piped to the console panel; console input from
 * the UI is written to QEMU's stdin, i.e. to the guest's COM1. Other serial ports map to Unix
 * sockets, files or null. accel "auto" uses `-accel kvm -accel tcg` (QEMU falls back to TCG) where
 * KVM is worth it, else `-accel tcg` (debugger/node/kvm.ts: a /dev/kvm in software is far slower);
 * autoAccelNote says which and why for the Run's output.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hasBootSource, type ProjectConfig } from '../common/project.js';
import { kvmUnusableReason, NO_KVM_DEVICE } from '../../debugger/node/kvm.js';
import { resolveInProject } from './paths.js';
import { spawnManaged, type ManagedProcess } from './proc.js';

export function accelArgs(accel: ProjectConfig['qemu']['accel'], kvmWhyNot: string | null = kvmUnusableReason()): string[] {
  if (accel === 'kvm') return ['-accel', 'kvm'];
  if (accel === 'tcg' || kvmWhyNot !== null) return ['-accel', 'tcg'];
  return ['-accel', 'kvm', '-accel', 'tcg'];
}

/** For the Run's output: why accel "auto" took TCG although /dev/kvm is there (null: nothing to say). */
export function autoAccelNote(accel: ProjectConfig['qemu']['accel'], kvmWhyNot: string | null = kvmUnusableReason()): string | null {
  return accel === 'auto' && kvmWhyNot !== null && kvmWhyNot !== NO_KVM_DEVICE ? `accel auto: TCG, not KVM: ${kvmWhyNot}` : null;
}

/** Where a Run's gdbstub goes when qemu.gdb.enabled: a Unix socket in the Run's private folder. */
export interface QemuRunPaths {
  /** QEMU's gdbstub socket (mode 0700 folder); previews show GDB_SOCKET_PLACEHOLDER */
  gdbSocket?: string;
}

/** What a preview of the command line (Run's trust dialog) shows for the gdbstub socket. */
export const GDB_SOCKET_PLACEHOLDER = '<run folder>/gdb.sock';

/** QEMU's gdbstub on the Unix socket `sock` (a chardev; nothing listens on the network). */
export function gdbSocketArgs(sock: string, id = 'lanescope-gdb'): string[] {
  if (/[,=]/.test(sock)) throw new Error(`the gdbstub socket path ${sock} cannot be given to QEMU (it holds , or =)`);
  return ['-chardev', `socket,id=${id},path=${sock},server=on,wait=off`, '-gdb', `chardev:${id}`];
}

/**
 * Builds QEMU's argv (without the binary). Paths are resolved inside the project root.
 * qemu.gdb.enabled puts QEMU's gdbstub on a Unix socket (run.gdbSocket, in the Run's private
 * folder), never on TCP: the user's gdb attaches with `target remote SOCKET`, or through the
 * bridge's TCP port on 127.0.0.1, which Lanescope opens only on request (Debug panel).
 */
export function qemuArgs(root: string, c: ProjectConfig, run: QemuRunPaths = {}): string[] {
  const q = c.qemu;
  const a: string[] = ['-machine', q.machine, ...accelArgs(q.accel), '-cpu', q.cpu, '-smp', String(q.cpus), '-m', q.memory];
  a.push('-display', 'none', '-monitor', 'none', '-no-reboot');
  let consoleSeen = false;
  q.serial.forEach((s, i) => {
    switch (s.kind) {
      case 'console':
        consoleSeen = true;
        a.push('-serial', 'stdio');
        break;
      case 'socket':
        a.push('-chardev', `socket,id=ser${i},path=${resolveInProject(root, s.path!)},server=on,wait=off`, '-serial', `chardev:ser${i}`);
        break;
      case 'file':
        a.push('-serial', `file:${resolveInProject(root, s.path!)}`);
        break;
      case 'null':
        a.push('-serial', 'null');
        break;
    }
  });
  if (!consoleSeen && q.serial.length === 0) a.push('-serial', 'stdio');
  for (const d of q.devices) a.push('-device', d);
  if (q.kernel) a.push('-kernel', resolveInProject(root, q.kernel));
  if (q.initrd) a.push('-initrd', resolveInProject(root, q.initrd));
  if (q.append) a.push('-append', q.append);
  if (q.iso) a.push('-cdrom', resolveInProject(root, q.iso), ...(q.kernel ? [] : ['-boot', 'd']));
  if (q.drive) a.push('-drive', `file=${driveFileArg(resolveInProject(root, q.drive))},format=raw,index=0,media=disk`, ...(q.kernel || q.iso ? [] : ['-boot', 'c']));
  if (q.bios) a.push('-bios', q.bios === 'none' ? 'none' : biosPath(root, q.bios));
  if (q.gdb.enabled) a.push(...gdbSocketArgs(run.gdbSocket ?? GDB_SOCKET_PLACEHOLDER));
  a.push(...q.extraArgs);
  return a;
}

/** A file name inside -drive's comma-separated option list: commas are doubled. */
function driveFileArg(p: string): string {
  return p.replace(/,/g, ',,');
}

/**
 * Firmware named by a word in qemu.bios rather than a path: where Debian installs it (the first file
 * that exists wins), the QEMU binary it is for, and what installs it.
 */
export const NAMED_FIRMWARE: Record<string, { files: string[]; binary: string; what: string; install: string }> = {
  ovmf: {
    files: ['/usr/share/ovmf/OVMF.fd', '/usr/share/qemu/OVMF.fd', '/usr/share/OVMF/OVMF.fd'],
    binary: 'qemu-system-x86_64',
    what: 'UEFI firmware for x86_64 (OVMF)',
    install: 'Debian: apt install ovmf, or app/scripts/setup.sh --firmware ovmf',
  },
};

/** qemu.bios: a named firmware (ovmf) where it is installed, an absolute path as is, anything else inside the project. */
function biosPath(root: string, bios: string): string {
  const named = NAMED_FIRMWARE[bios.toLowerCase()];
  if (named) return named.files.find((f) => fs.existsSync(f)) ?? named.files[0]!;
  return path.isAbsolute(bios) ? bios : resolveInProject(root, bios);
}

/** Finds an executable on PATH (or checks an explicit path); null when missing. */
export function findExecutable(name: string): string | null {
  const candidates = name.includes('/') ? [name] : (process.env['PATH'] ?? '').split(':').filter(Boolean).map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * A raw disk image holds whole 512-byte sectors; one the BIOS boots from ends its first sector with
 * the boot signature 0x55 0xAA (checked only when the image is what boots, under the default BIOS).
 */
function driveProblems(abs: string, rel: string, size: number, bootsFromIt: boolean): string[] {
  if (size < 512) return [`qemu.drive: ${rel} is ${size} bytes; a raw disk image holds at least one 512-byte sector`];
  if (!bootsFromIt) return [];
  const sector = Buffer.alloc(512);
  const fd = fs.openSync(abs, 'r');
  try {
    fs.readSync(fd, sector, 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (sector[510] !== 0x55 || sector[511] !== 0xaa) return [`qemu.drive: ${rel} has no boot signature (bytes 510–511 are not 0x55 0xAA): the BIOS will not boot it`];
  return [];
}

/** Checks files QEMU will need; returns user-facing problems. */
export function qemuPreflight(root: string, c: ProjectConfig): string[] {
  const problems: string[] = [];
  if (!findExecutable(c.qemu.binary))
    problems.push(`QEMU was not found: "${c.qemu.binary}" is not on PATH. Install it (Debian: apt install qemu-system-x86) or set qemu.binary in lanescope.json.`);
  if (!hasBootSource(c)) problems.push('lanescope.json: set qemu.kernel (and qemu.initrd), qemu.iso or qemu.drive (a raw disk image) to say what to boot.');
  let bios = c.qemu.bios && c.qemu.bios !== 'none' ? c.qemu.bios : null;
  const named = bios ? NAMED_FIRMWARE[bios.toLowerCase()] : undefined;
  if (named) {
    if (!named.files.some((f) => fs.existsSync(f))) problems.push(`qemu.bios: ${bios} — ${named.what} is not installed (${named.install})`);
    else if (path.basename(c.qemu.binary) !== named.binary) problems.push(`qemu.bios: ${bios} is ${named.what}; it does not boot under ${c.qemu.binary} (set qemu.binary to ${named.binary})`);
    bios = null;
  }
  for (const [field, p] of [['qemu.kernel', c.qemu.kernel], ['qemu.initrd', c.qemu.initrd], ['qemu.iso', c.qemu.iso], ['qemu.drive', c.qemu.drive], ['qemu.bios', bios]] as const) {
    if (!p) continue;
    try {
      const abs = field === 'qemu.bios' ? biosPath(root, p) : resolveInProject(root, p);
      const st = fs.statSync(abs, { throwIfNoEntry: false });
      if (!st) problems.push(`${field}: ${p} does not exist (${field === 'qemu.bios' ? 'install the firmware or fix the path' : 'did the build produce it?'})`);
      else if (!st.isFile()) problems.push(`${field}: ${p} is not a file`);
      else if (field === 'qemu.drive') problems.push(...driveProblems(abs, p, st.size, !c.qemu.kernel && !c.qemu.iso && !c.qemu.bios));
    } catch (e) {
      problems.push(`${field}: ${(e as Error).message}`);
    }
  }
  return problems;
}

export interface QemuHandle {
  proc: ManagedProcess;
  write(data: string): void;
  argv: string[];
}

/**
 * A real pipe (a FIFO, opened at both ends and unlinked at once) for QEMU's stdout, or null when
 * one cannot be made. Node gives a child's 'pipe' stdio as a Unix socketpair, and QEMU's serial
 * port drops bytes it cannot write to a socket at once (a burst such as a core sent by the guest's
 * `upload` lost kilobytes); writing to a pipe QEMU waits instead, as under ci-boot.
 */
function consolePipe(): { read: net.Socket; writeFd: number } | null {
  let dir: string | null = null;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-console-')); // 0700
    const fifo = path.join(dir, 'console');
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' });
    const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writeFd = fs.openSync(fifo, fs.constants.O_WRONLY);
    return { read: new net.Socket({ fd: readFd, readable: true, writable: false }), writeFd };
  } catch {
    return null;
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function startQemu(
  root: string,
  c: ProjectConfig,
  onConsole: (data: string) => void,
  onStderr: (data: string) => void,
  run: QemuRunPaths = {},
): Promise<QemuHandle> {
  if (c.qemu.gdb.enabled && !run.gdbSocket) throw new Error('qemu.gdb.enabled: no private run folder for the gdbstub socket');
  const argv = qemuArgs(root, c, run);
  const pipe = consolePipe();
  let proc: ManagedProcess;
  try {
    proc = await spawnManaged(c.qemu.binary, argv, { cwd: root, stdio: ['pipe', pipe ? pipe.writeFd : 'pipe', 'pipe'] });
  } catch (e) {
    pipe?.read.destroy();
    throw e;
  } finally {
    if (pipe) fs.closeSync(pipe.writeFd); // the child has its copy: EOF when QEMU ends
  }
  const out = pipe ? pipe.read : proc.child.stdout!;
  out.setEncoding('utf8');
  proc.child.stderr!.setEncoding('utf8');
  out.on('data', (d: string) => onConsole(d));
  out.on('error', () => { /* QEMU gone */ });
  proc.child.stderr!.on('data', (d: string) => onStderr(d));
  proc.child.stdin!.on('error', () => { /* guest gone */ });
  return {
    proc,
    argv: [c.qemu.binary, ...argv],
    write(data: string) {
      if (proc.child.stdin && !proc.child.stdin.destroyed) proc.child.stdin.write(data);
    },
  };
}
