/*
 * lanescope.json: how a project is built, run, tested and booted.
 *
 * The file lives at the project root. `validateProjectConfig` accepts any parsed JSON and returns a
 * complete config (defaults filled in) plus a list of errors naming each bad field; the backend shows
 * those errors and never crashes on a broken file. Pure code: no imports of runtime modules.
 */

import { qemuDefaultsFor } from './arch.js';
import { lineSpecProblem } from './serial-line.js';

export type TargetKind = 'qemu' | 'serial';
export type Accel = 'auto' | 'kvm' | 'tcg';

export interface QemuSerialPort {
  /** 'console' = shown in the console panel; 'socket' = Unix socket at `path`; 'file' = log file; 'null'. */
  kind: 'console' | 'socket' | 'file' | 'null';
  path?: string;
}

export interface QemuConfig {
  binary: string;
  machine: string;
  cpu: string;
  cpus: number;
  memory: string;
  accel: Accel;
  kernel: string | null;
  initrd: string | null;
  append: string | null;
  iso: string | null;
  /**
   * A raw disk image the guest boots from (boot sector + kernel, as many hobby OSes are made):
   * `-drive file=…,format=raw,index=0,media=disk` and `-boot c`.
   */
  drive: string | null;
  /**
   * Firmware: a file (in the project, or an absolute path), "ovmf" (UEFI on x86_64: Debian's
   * /usr/share/ovmf/OVMF.fd, app/node/qemu.ts) or "none" (no firmware: RISC-V's reset vector jumps
   * to RAM); null = QEMU's default (SeaBIOS on x86, OpenSBI on RISC-V virt).
   */
  bios: string | null;
  devices: string[];
  serial: QemuSerialPort[];
  extraArgs: string[];
  gdb: { enabled: boolean; port: number };
}

export interface SerialConfig {
  /** a device (/dev/ttyUSB0, COM3) or, for tests and terminal servers, unix:PATH / tcp:HOST:PORT */
  port: string;
  baud: number;
  /**
   * The board runs LaneOS with `lanes.debug=ttyS0`: the line carries the console, the kernel's gdb
   * stub and the trace frames (debugger/common/serial-mux.ts), so Debug and the trace views work.
   * false: a plain console (any other OS); nothing but typed input is sent.
   */
  mux: boolean;
  /**
   * Reset the board on Run, before the debugger attaches, by pulsing this line of the serial port
   * (asserted for a moment, then released: app/node/serial-reset.ts); null (default): the user
   * boots or resets the board by hand. A device only — a socket has no modem lines.
   */
  reset: 'dtr' | 'rts' | null;
}

export interface ProjectConfig {
  name: string;
  build: { command: string | null; cwd: string };
  test: { command: string | null };
  target: TargetKind;
  qemu: QemuConfig;
  serial: SerialConfig;
  /**
   * elf: the kernel ELF with symbols. laneos: the kernel provides LaneOS's debugging aids (CPU
   * descriptions, process-aware breakpoints, the user-fault stop, Break on next message); null =
   * detect them from the ELF's symbols.
   */
  debug: { elf: string | null; laneos: boolean | null };
}

export const PROJECT_FILE = 'lanescope.json';

export const VALID_BAUDS = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];

export function defaultProjectConfig(name = 'project'): ProjectConfig {
  return {
    name,
    build: { command: 'make', cwd: '.' },
    test: { command: null },
    target: 'qemu',
    qemu: {
      binary: 'qemu-system-x86_64',
      machine: 'pc',
      // `max` works under KVM and TCG; without arch-capabilities because some hosts' KVM aborts
      // on that MSR ("failed to set MSR 0x10a").
      cpu: 'max,-arch-capabilities',
      cpus: 1,
      memory: '256M',
      accel: 'auto',
      kernel: null,
      initrd: null,
      append: null,
      iso: null,
      drive: null,
      bios: null,
      devices: [],
      serial: [{ kind: 'console' }],
      extraArgs: [],
      gdb: { enabled: false, port: 1234 },
    },
    serial: { port: '/dev/ttyUSB0', baud: 115200, mux: true, reset: null },
    debug: { elf: null, laneos: null },
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses memory sizes like 256M, 1G, 512 (MiB). Returns MiB or null. */
export function parseMemory(s: string): number | null {
  const m = /^(\d+)\s*([MG]i?B?)?$/i.exec(s.trim());
  if (!m || !m[1]) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'M').toUpperCase();
  return unit.startsWith('G') ? n * 1024 : n;
}

/** Validates parsed JSON; returns a full config with defaults for missing or bad fields. */
export function validateProjectConfig(raw: unknown, fallbackName = 'project'): { config: ProjectConfig; errors: string[] } {
  const errors: string[] = [];
  const c = defaultProjectConfig(fallbackName);
  if (!isObj(raw)) {
    errors.push('lanescope.json: top level must be a JSON object');
    return { config: c, errors };
  }
  const known = ['name', 'build', 'test', 'target', 'qemu', 'serial', 'debug', '$schema', 'description'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) errors.push(`${k}: unknown field`);

  const str = (o: Obj, key: string, where: string, nullable: boolean): string | null | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (v === null && nullable) return null;
    if (typeof v === 'string' && (v.length > 0 || nullable)) return v.length ? v : null;
    errors.push(`${where}${key}: must be ${nullable ? 'a string or null' : 'a non-empty string'}`);
    return undefined;
  };
  const strList = (o: Obj, key: string, where: string): string[] | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    errors.push(`${where}${key}: must be a list of strings`);
    return undefined;
  };
  const section = (key: string): Obj | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (isObj(v)) return v;
    errors.push(`${key}: must be an object`);
    return undefined;
  };

  const name = str(raw, 'name', '', false);
  if (name) c.name = name;

  const build = section('build');
  if (build) {
    const cmd = str(build, 'command', 'build.', true);
    if (cmd !== undefined) c.build.command = cmd;
    const cwd = str(build, 'cwd', 'build.', false);
    if (cwd) {
      if (cwd.startsWith('/') || cwd.split('/').includes('..')) errors.push('build.cwd: must be a path inside the project');
      else c.build.cwd = cwd;
    }
  }
  const test = section('test');
  if (test) {
    const cmd = str(test, 'command', 'test.', true);
    if (cmd !== undefined) c.test.command = cmd;
  }
  if (raw['target'] !== undefined) {
    if (raw['target'] === 'qemu' || raw['target'] === 'serial') c.target = raw['target'];
    else errors.push('target: must be "qemu" or "serial"');
  }

  const q = section('qemu');
  if (q) {
    const where = 'qemu.';
    for (const k of ['binary', 'machine', 'cpu'] as const) {
      const v = str(q, k, where, false);
      if (v) c.qemu[k] = v;
      // machine and CPU not given: the defaults of the binary's architecture (virt for RISC-V …)
      if (k === 'binary' && v) Object.assign(c.qemu, qemuDefaultsFor(v));
    }
    for (const k of ['kernel', 'initrd', 'append', 'iso', 'drive', 'bios'] as const) {
      const v = str(q, k, where, true);
      if (v !== undefined) c.qemu[k] = v;
    }
    if (q['cpus'] !== undefined) {
      const n = q['cpus'];
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 64) c.qemu.cpus = n;
      else errors.push('qemu.cpus: must be an integer from 1 to 64');
    }
    if (q['memory'] !== undefined) {
      const m = q['memory'];
      const mib = typeof m === 'string' ? parseMemory(m) : typeof m === 'number' ? m : null;
      if (mib !== null && mib >= 16 && mib <= 65536) c.qemu.memory = typeof m === 'number' ? `${m}M` : String(m);
      else errors.push('qemu.memory: must be a size like "256M" or "1G" (16M..64G)');
    }
    if (q['accel'] !== undefined) {
      const a = q['accel'];
      if (a === 'auto' || a === 'kvm' || a === 'tcg') c.qemu.accel = a;
      else errors.push('qemu.accel: must be "auto", "kvm" or "tcg"');
    }
    const devices = strList(q, 'devices', where);
    if (devices) c.qemu.devices = devices;
    const extra = strList(q, 'extraArgs', where);
    if (extra) c.qemu.extraArgs = extra;
    if (q['serial'] !== undefined) {
      const s = q['serial'];
      if (!Array.isArray(s)) errors.push('qemu.serial: must be a list of serial ports');
      else {
        const ports: QemuSerialPort[] = [];
        s.forEach((p, i) => {
          if (!isObj(p) || !['console', 'socket', 'file', 'null'].includes(String(p['kind']))) {
            errors.push(`qemu.serial[${i}].kind: must be "console", "socket", "file" or "null"`);
            return;
          }
          const kind = p['kind'] as QemuSerialPort['kind'];
          if ((kind === 'socket' || kind === 'file') && typeof p['path'] !== 'string') {
            errors.push(`qemu.serial[${i}].path: required for kind "${kind}"`);
            return;
          }
          ports.push(typeof p['path'] === 'string' ? { kind, path: p['path'] } : { kind });
        });
        if (ports.filter((p) => p.kind === 'console').length > 1) errors.push('qemu.serial: at most one port can be the console');
        c.qemu.serial = ports;
      }
    }
    if (q['gdb'] !== undefined) {
      const g = q['gdb'];
      if (!isObj(g)) errors.push('qemu.gdb: must be an object');
      else {
        if (g['enabled'] !== undefined) {
          if (typeof g['enabled'] === 'boolean') c.qemu.gdb.enabled = g['enabled'];
          else errors.push('qemu.gdb.enabled: must be true or false');
        }
        if (g['port'] !== undefined) {
          const p = g['port'];
          if (typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536) c.qemu.gdb.port = p;
          else errors.push('qemu.gdb.port: must be a TCP port number');
        }
      }
    }
  }

  const s = section('serial');
  if (s) {
    const port = str(s, 'port', 'serial.', false);
    const portProblem = port ? lineSpecProblem(port) : null;
    if (portProblem) errors.push(portProblem);
    else if (port) c.serial.port = port;
    if (s['baud'] !== undefined) {
      const b = s['baud'];
      if (typeof b === 'number' && VALID_BAUDS.includes(b)) c.serial.baud = b;
      else errors.push(`serial.baud: must be one of ${VALID_BAUDS.join(', ')}`);
    }
    if (s['mux'] !== undefined) {
      if (typeof s['mux'] === 'boolean') c.serial.mux = s['mux'];
      else errors.push('serial.mux: must be true (LaneOS with lanes.debug=ttyS0: console, debugger and trace on the line) or false (a plain console)');
    }
    if (s['reset'] !== undefined) {
      const r = s['reset'];
      if (r === null || r === 'dtr' || r === 'rts') c.serial.reset = r;
      else errors.push(`serial.reset: must be "dtr" or "rts" (pulse that line of the port to reset the board on Run) or null (no reset), not ${JSON.stringify(r)}`);
    }
  }
  const d = section('debug');
  if (d) {
    const elf = str(d, 'elf', 'debug.', true);
    if (elf !== undefined) c.debug.elf = elf;
    const l = d['laneos'];
    if (l === null || typeof l === 'boolean') c.debug.laneos = l;
    else if (l !== undefined) errors.push('debug.laneos: must be true, false or null (detect from the kernel ELF)');
  }
  return { config: c, errors };
}

/** Checks that a config can boot a QEMU target; returns user-facing problems (empty = ok). */
export function qemuBootProblems(c: ProjectConfig): string[] {
  const p: string[] = [];
  if (!hasBootSource(c)) p.push('lanescope.json: set qemu.kernel, qemu.iso or qemu.drive (a raw disk image) to say what to boot');
  return p;
}

/** QEMU options in extraArgs that name what to boot by themselves. */
const BOOT_ARGS = ['-kernel', '-cdrom', '-drive', '-hda', '-fda', '-bios', '-pflash'];

/** The config says what to boot: a kernel, an ISO, a raw disk image, or its own boot options in extraArgs. */
export function hasBootSource(c: ProjectConfig): boolean {
  return !!(c.qemu.kernel || c.qemu.iso || c.qemu.drive || c.qemu.extraArgs.some((a) => BOOT_ARGS.includes(a)));
}
