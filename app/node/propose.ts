/*
 * The configuration proposed for a folder without lanescope.json, from what is in it — read only,
 * nothing is built or run (the form shows it; the user edits and saves; Run still asks for trust):
 *
 *   Makefile    its targets; variables (NAME = / := / ?= value) expanded; a run/qemu target whose
 *               recipe calls qemu-system-* gives the binary, machine, CPU, memory, what it boots
 *               (-kernel / -cdrom / -drive / -hda), -bios, -append and extra devices; file targets
 *               (*.elf, *.img, *.iso, kernel) name outputs the build will make
 *   ELF files   class and e_machine (→ architecture: QEMU binary, machine, CPU, gdb), entry point,
 *               a multiboot (v1) header in the first 8 KiB (QEMU's -kernel boots it), multiboot2
 *               (needs GRUB: an ISO), a PVH entry note (Xen's PHYS32_ENTRY: QEMU's -kernel boots it on
 *               x86), symbols (→ debug.elf)
 *   Linux       a bzImage (boot sector + "HdrS" at 0x202: the Linux boot protocol; QEMU's -kernel
 *               boots it, its console on ttyS0)
 *   disk images *.img/*.bin/*.hdd/*.raw whose first sector ends 0x55 0xAA (→ qemu.drive)
 *   ISOs        *.iso with the ISO 9660 signature "CD001" (→ qemu.iso)
 *
 * Each proposed field carries a note saying where it came from. Searched: the root and build/,
 * bin/, out/, dist/, target/ and their subfolders, three levels deep at most, 4000 entries at most.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ARCHES, archOfElf, archOfQemuBinary, type ArchInfo } from '../common/arch.js';
import { defaultProjectConfig, type ProjectConfig } from '../common/project.js';

export interface FoundElf {
  path: string;
  arch: string | null;
  bits: 32 | 64;
  machine: number;
  entry: string;
  /** e_type 2 (an executable), not an object file or a shared library */
  executable: boolean;
  symbols: boolean;
  multiboot: 1 | 2 | null;
  /** a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) in the first 32 KiB */
  pvh: boolean;
}

export interface Proposal {
  config: ProjectConfig;
  /** "field: value — why", one per proposed field */
  notes: string[];
  found: { makeTargets: string[]; elfs: FoundElf[]; images: string[]; isos: string[]; bzImages: string[] };
}

const SEARCH_DIRS = ['.', 'build', 'bin', 'out', 'dist', 'target'];
const SKIP = new Set(['.git', 'node_modules', '.lanescope-state', 'src', 'include']);
const MAX_ENTRIES = 4000;
const HEAD = 32768;

/** The first `n` bytes of a file (fewer when it is shorter). */
function head(abs: string, n = HEAD): Buffer {
  const fd = fs.openSync(abs, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = fs.readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** Multiboot v1 (magic + flags + checksum summing to 0, 4-aligned in the first 8 KiB) or v2 (8-aligned, 32 KiB). */
export function multibootVersion(b: Buffer): 1 | 2 | null {
  for (let o = 0; o + 12 <= Math.min(b.length, 8192); o += 4) {
    if (b.readUInt32LE(o) === 0x1badb002 && ((b.readUInt32LE(o) + b.readUInt32LE(o + 4) + b.readUInt32LE(o + 8)) >>> 0) === 0) return 1;
  }
  for (let o = 0; o + 16 <= Math.min(b.length, 32768); o += 8) {
    if (b.readUInt32LE(o) === 0xe85250d6 && ((b.readUInt32LE(o) + b.readUInt32LE(o + 4) + b.readUInt32LE(o + 8) + b.readUInt32LE(o + 12)) >>> 0) === 0) return 2;
  }
  return null;
}

/** A PVH entry note: namesz 4, descsz 4 or 8, type 18 (XEN_ELFNOTE_PHYS32_ENTRY), name "Xen\0" (4-aligned). */
export function hasPvhNote(b: Buffer): boolean {
  for (let o = 0; o + 16 <= b.length; o += 4) {
    if (b.readUInt32LE(o) === 4 && b.readUInt32LE(o + 8) === 18 && b.readUInt32LE(o + 12) === 0x006e6558 && [4, 8].includes(b.readUInt32LE(o + 4))) return true;
  }
  return false;
}

/** A Linux bzImage: the boot sector's 0x55 0xAA and the setup header's "HdrS" at 0x202. */
export function isBzImage(b: Buffer): boolean {
  return b.length >= 0x206 && b[510] === 0x55 && b[511] === 0xaa && b.toString('latin1', 0x202, 0x206) === 'HdrS';
}

/** An ELF's header facts, or null when `b` is not a little-endian ELF. */
export function inspectElf(rel: string, abs: string, b: Buffer): FoundElf | null {
  if (b.length < 52 || b.readUInt32BE(0) !== 0x7f454c46 || (b[4] !== 1 && b[4] !== 2) || b[5] !== 1) return null;
  const bits = b[4] === 1 ? 32 : 64;
  const machine = b.readUInt16LE(18);
  const entry = bits === 64 ? b.readBigUInt64LE(24) : BigInt(b.readUInt32LE(24));
  let symbols = false;
  try {
    // section headers (read alone, however big the file): is there an SHT_SYMTAB?
    const shoff = Number(bits === 64 ? b.readBigUInt64LE(0x28) : BigInt(b.readUInt32LE(0x20)));
    const shentsize = b.readUInt16LE(bits === 64 ? 0x3a : 0x2e);
    const shnum = Math.min(b.readUInt16LE(bits === 64 ? 0x3c : 0x30), 4096);
    if (shoff > 0 && shentsize >= 40 && shnum > 0) {
      const table = Buffer.alloc(shnum * shentsize);
      const fd = fs.openSync(abs, 'r');
      let got = 0;
      try {
        got = fs.readSync(fd, table, 0, table.length, shoff);
      } finally {
        fs.closeSync(fd);
      }
      for (let i = 0; (i + 1) * shentsize <= got; i++) if (table.readUInt32LE(i * shentsize + 4) === 2) symbols = true;
    }
  } catch {
    /* truncated: no symbols known */
  }
  return {
    path: rel,
    arch: archOfElf({ bits, machine })?.name ?? null,
    bits,
    machine,
    entry: `0x${entry.toString(16)}`,
    executable: b.readUInt16LE(16) === 2,
    symbols,
    multiboot: multibootVersion(b),
    pvh: hasPvhNote(b),
  };
}

function isBootSector(b: Buffer): boolean {
  return b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa;
}

function isIso(abs: string): boolean {
  try {
    const fd = fs.openSync(abs, 'r');
    try {
      const b = Buffer.alloc(5);
      fs.readSync(fd, b, 0, 5, 0x8001);
      return b.toString('latin1') === 'CD001';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Files under the search folders (relative paths, sorted, no duplicates). */
function listFiles(root: string): string[] {
  const out = new Set<string>();
  let seen = 0;
  const walk = (rel: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (++seen > MAX_ENTRIES) return;
      const r = rel === '.' ? e.name : `${rel}/${e.name}`;
      if (e.isFile()) out.add(r);
      else if (e.isDirectory() && depth < 3 && !SKIP.has(e.name) && !e.name.startsWith('.') && !(rel === '.' && SEARCH_DIRS.includes(e.name))) walk(r, depth + 1);
    }
  };
  for (const d of SEARCH_DIRS) walk(d, d === '.' ? 3 : 0); // the root's own files; the output folders in depth
  return [...out].sort();
}

/**
 * A Makefile's targets, variables and recipes (the part of make's syntax hobby kernels use).
 * `include`/`-include`/`sinclude` read the named files through `read` (the folder's own files; a
 * missing one is skipped, as `-include` does). What is never done: running anything — `$(shell …)`
 * and make's other functions stay unexpanded, and the recipes and names holding them are listed in
 * `unexpanded` so the form can say what it could not infer.
 */
export function parseMakefile(text: string, read: (name: string) => string | null = () => null): { targets: string[]; recipes: Map<string, string[]>; unexpanded: string[]; included: string[] } {
  const vars = new Map<string, string>();
  const unexpanded = new Set<string>();
  const included: string[] = [];
  const expand = (s: string, depth = 0): string =>
    depth > 8 ? s : s.replace(/\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]/g, (_m, n: string) => expand(vars.get(n) ?? process.env[n] ?? '', depth + 1));
  const targets: string[] = [];
  const recipes = new Map<string, string[]>();
  let current: string[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (let li = 0; li < lines.length && li < 20000; li++) {
    const line = lines[li]!;
    const inc = /^\s*(?:-include|sinclude|include)\s+(.+)$/.exec(line.replace(/#.*/, ''));
    if (inc) {
      for (const name of expand(inc[1]!).split(/\s+/).filter(Boolean)) {
        if (name.includes('$(') || included.length >= 16 || included.includes(name)) {
          if (name.includes('$(')) unexpanded.add(`include ${name}`);
          continue;
        }
        const t = read(name);
        if (t === null) continue;
        included.push(name);
        lines.splice(li + 1, 0, ...t.replace(/\\\n/g, ' ').split('\n'));
      }
      current = [];
      continue;
    }
    if (line.startsWith('\t')) {
      for (const t of current) recipes.get(t)?.push(line.trim());
      continue;
    }
    const l = line.replace(/#.*/, '').trimEnd();
    const v = /^\s*(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|:=|::=|\+=|=)\s*(.*)$/.exec(l);
    if (v) {
      const [, name, op, value] = v as unknown as [string, string, string, string];
      if (op === '?=' && vars.has(name)) continue;
      vars.set(name, op === '+=' ? `${vars.get(name) ?? ''} ${value}`.trim() : op === ':=' || op === '::=' ? expand(value) : value);
      current = [];
      continue;
    }
    const r = /^([^\s:=#][^:=]*?)\s*::?(?!=)(.*)$/.exec(l);
    if (r) {
      current = expand(r[1]!).split(/\s+/).filter((t) => t && !t.startsWith('.') && !t.includes('%'));
      for (const t of current) {
        if (!recipes.has(t)) {
          recipes.set(t, []);
          targets.push(t);
        }
      }
      continue;
    }
    if (l.trim()) current = [];
  }
  for (const [t, rs] of recipes) {
    const ex = rs.map((x) => expand(x));
    recipes.set(t, ex);
    if (ex.some((x) => /\$[({][a-z]+[\s,]/.test(x) || /\$[({]shell/.test(x))) unexpanded.add(`the recipe of ${t}`);
  }
  return { targets, recipes, unexpanded: [...unexpanded], included };
}

/** The QEMU options of one command line (a Makefile's run recipe) that lanescope.json has fields for. */
export interface QemuLine {
  binary: string;
  machine?: string;
  cpu?: string;
  memory?: string;
  cpus?: number;
  kernel?: string;
  initrd?: string;
  append?: string;
  iso?: string;
  drive?: string;
  bios?: string;
  devices: string[];
  extraArgs: string[];
}

/** Splits a shell command line into words (quotes respected; no expansion). */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

export function parseQemuLine(cmd: string): QemuLine | null {
  // the command with qemu-system-* among a line's commands (a; b && c | d)
  const one = cmd.split(/\s*(?:;|&&|\|\|?)\s*/).find((x) => /qemu-system-/.test(x)) ?? '';
  const w = words(one.replace(/^[@+-]+/, ''));
  const i = w.findIndex((x) => /(^|\/)qemu-system-[a-z0-9_]+$/.test(x));
  if (i < 0) return null;
  const q: QemuLine = { binary: path.basename(w[i]!), devices: [], extraArgs: [] };
  // Lanescope sets the console, the monitor, the display, the accelerator and the gdbstub itself
  const ours1 = new Set(['-nographic', '-s', '-S', '-enable-kvm', '-no-reboot', '-no-shutdown', '-daemonize']);
  const ours2 = new Set(['-serial', '-monitor', '-display', '-gdb', '-accel', '-chardev', '-mon', '-vga', '-d', '-D', '-name', '-pidfile', '-qmp']);
  for (let k = i + 1; k < w.length; k++) {
    const a = w[k]!.replace(/^--/, '-');
    if (/^[;&|]|^>/.test(a)) break; // the next command
    const next = () => w[++k] ?? '';
    if (ours1.has(a)) continue;
    if (ours2.has(a)) {
      k++;
      continue;
    }
    switch (a) {
      case '-M': case '-machine': q.machine = next().split(',')[0]!; break;
      case '-cpu': q.cpu = next(); break;
      case '-m': q.memory = next().split(',')[0]!; break;
      case '-smp': { const n = Number(/^(?:cpus=)?(\d+)/.exec(next())?.[1]); if (n >= 1 && n <= 64) q.cpus = n; break; }
      case '-kernel': q.kernel = next(); break;
      case '-initrd': q.initrd = next(); break;
      case '-append': q.append = next(); break;
      case '-cdrom': q.iso = next(); break;
      case '-hda': q.drive = next(); break;
      case '-bios': q.bios = next(); break;
      case '-device': q.devices.push(next()); break;
      case '-drive': {
        const spec = next();
        const file = /(?:^|,)file=((?:[^,]|,,)+)/.exec(spec)?.[1]?.replace(/,,/g, ',');
        if (file && !q.drive && !/media=cdrom/.test(spec)) q.drive = file;
        else if (file && /media=cdrom/.test(spec) && !q.iso) q.iso = file;
        else q.extraArgs.push('-drive', spec);
        break;
      }
      default:
        q.extraArgs.push(w[k]!);
    }
  }
  return q;
}

/** A path from a Makefile (relative to the project, maybe ./x) in the form lanescope.json keeps. */
function tidy(p: string): string {
  return path.posix.normalize(p).replace(/^\.\//, '');
}

export function proposeConfig(root: string): Proposal {
  const c = defaultProjectConfig(path.basename(root));
  const notes: string[] = [];
  const note = (field: string, value: unknown, why: string) => notes.push(`${field}: ${typeof value === 'string' ? value : JSON.stringify(value)} — ${why}`);
  const has = (p: string) => fs.existsSync(path.join(root, p));

  // 1. the Makefile
  const mk = ['GNUmakefile', 'makefile', 'Makefile'].find(has);
  let makeTargets: string[] = [];
  let run: QemuLine | null = null;
  let runTarget = '';
  const fileTargets: string[] = [];
  if (mk) {
    let parsed: ReturnType<typeof parseMakefile> | null = null;
    try {
      const read = (name: string): string | null => {
        try {
          const abs = path.resolve(root, name);
          if (path.relative(root, abs).startsWith('..') || fs.statSync(abs).size > 1024 * 1024) return null;
          return fs.readFileSync(abs, 'utf8');
        } catch {
          return null;
        }
      };
      parsed = parseMakefile(fs.readFileSync(path.join(root, mk), 'utf8'), read);
    } catch {
      parsed = null;
    }
    makeTargets = parsed?.targets ?? [];
    const first = makeTargets[0];
    c.build.command = 'make';
    note('build.command', 'make', `${mk}${first ? ` (its first target: ${first})` : ''}`);
    const runNames = ['run', 'qemu', 'run-qemu', 'qemu-run', 'emu', 'boot', 'sim'];
    for (const t of [...runNames.filter((n) => makeTargets.includes(n)), ...makeTargets.filter((n) => !runNames.includes(n))]) {
      for (const line of parsed?.recipes.get(t) ?? []) {
        run = parseQemuLine(line);
        if (run) break;
      }
      if (run) {
        runTarget = t;
        break;
      }
    }
    for (const t of makeTargets) if (/\.(elf|img|iso|bin|hdd)$|(^|\/)kernel$/.test(t)) fileTargets.push(tidy(t));
    if (parsed?.included.length) notes.push(`${mk} includes ${parsed.included.join(', ')}: read as part of it`);
    if (parsed?.unexpanded.length)
      notes.push(`not inferred: ${parsed.unexpanded.join('; ')} — make functions such as $(shell …) are never run by proposing; check the fields they would set`);
  } else if (has('build.sh')) {
    c.build.command = 'sh build.sh';
    note('build.command', c.build.command, 'build.sh');
  } else {
    c.build.command = null;
    note('build.command', null, 'no Makefile or build.sh: nothing to build');
  }

  // 2. what is there
  const elfs: FoundElf[] = [];
  const images: string[] = [];
  const isos: string[] = [];
  const bzImages: string[] = [];
  for (const rel of listFiles(root)) {
    const abs = path.join(root, rel);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      continue;
    }
    if (st.size > 256 * 1024 * 1024) continue;
    let b: Buffer;
    try {
      b = head(abs, 1024);
      // an ELF's first 32 KiB (the multiboot headers); a disk image's first sector
      if (b.length >= 4 && b.readUInt32BE(0) === 0x7f454c46) b = head(abs);
      else if (/\.(img|bin|hdd|raw)$/i.test(rel)) b = head(abs, 512);
    } catch {
      continue;
    }
    const elf = inspectElf(rel, abs, b);
    if (elf) {
      if (elf.executable) elfs.push(elf);
    } else if (/\.iso$/i.test(rel) && isIso(abs)) isos.push(rel);
    else if (isBzImage(b)) bzImages.push(rel);
    else if (/\.(img|bin|hdd|raw)$/i.test(rel) && isBootSector(b)) images.push(rel);
  }
  // the kernel among the ELFs: named like one, with symbols, a target of the Makefile (not a copy
  // the build put in an ISO's staging tree), the shallowest path
  const kernelish = (e: FoundElf) => (/kernel|\.elf$/i.test(e.path) ? 0 : 1) + (e.symbols ? 0 : 2);
  const depth = (e: FoundElf) => (fileTargets.includes(e.path) ? 0 : 100) + e.path.split('/').length;
  elfs.sort((a, b) => kernelish(a) - kernelish(b) || depth(a) - depth(b) || a.path.localeCompare(b.path));
  const elfAt = (p: string | undefined) => (p ? elfs.find((e) => e.path === tidy(p)) : undefined);

  // 3. what boots, on which architecture
  let arch: ArchInfo | null = null;
  let elfForDebug: FoundElf | undefined;
  if (run) {
    const q = c.qemu;
    q.binary = run.binary;
    arch = archOfQemuBinary(run.binary);
    if (arch) Object.assign(q, { machine: arch.machine, cpu: arch.cpu });
    if (run.machine) q.machine = run.machine;
    if (run.cpu) q.cpu = run.cpu;
    if (run.memory) q.memory = /^\d+$/.test(run.memory) ? `${run.memory}M` : run.memory;
    if (run.cpus) q.cpus = run.cpus;
    for (const k of ['kernel', 'initrd', 'iso', 'drive'] as const) if (run[k]) q[k] = tidy(run[k]);
    if (run.append) q.append = run.append;
    if (run.bios) q.bios = run.bios === 'none' || path.isAbsolute(run.bios) || run.bios === 'default' ? (run.bios === 'default' ? null : run.bios) : tidy(run.bios);
    if (q.bios && /(^|\/)OVMF[^/]*\.fd$/i.test(q.bios) && !fs.existsSync(path.join(root, q.bios))) {
      // the system's OVMF under whatever path that Makefile's machine had: Lanescope finds it by name
      note('qemu.bios', 'ovmf', `${run.bios} in the recipe: UEFI firmware, found where Debian's ovmf installs it`);
      q.bios = 'ovmf';
    }
    q.devices = run.devices;
    q.extraArgs = run.extraArgs;
    note('qemu', `${run.binary}${q.kernel ? ` -kernel ${q.kernel}` : ''}${q.iso ? ` -cdrom ${q.iso}` : ''}${q.drive ? ` -drive ${q.drive}` : ''}`, `the recipe of \`make ${runTarget}\` (console, monitor, display and gdbstub are Lanescope's)`);
    elfForDebug = elfAt(q.kernel ?? undefined);
  } else {
    // a kernel QEMU can load by itself: RISC-V/ARM ELFs, a 32-bit x86 multiboot ELF, an x86 ELF with a PVH note
    const direct = elfs.find((e) => e.arch && (e.arch === 'riscv64' || e.arch === 'aarch64' || e.multiboot === 1 || e.pvh));
    const builtLater = fileTargets.find((t) => /\.elf$|(^|\/)kernel$/.test(t) && !elfAt(t));
    if (direct) {
      arch = ARCHES.find((a) => a.name === direct.arch)!;
      c.qemu.kernel = direct.path;
      note('qemu.kernel', direct.path, `${arch.name} ELF${direct.bits}, entry ${direct.entry}${direct.multiboot === 1 ? ', multiboot header (QEMU loads it directly)' : direct.pvh ? ', PVH entry note (QEMU loads it directly)' : ''}`);
      elfForDebug = direct;
    } else if (bzImages.length) {
      arch = ARCHES[0]!;
      c.qemu.kernel = bzImages[0]!;
      c.qemu.append = 'console=ttyS0';
      note('qemu.kernel', c.qemu.kernel, 'a Linux bzImage (the Linux boot protocol: QEMU loads it directly)');
      note('qemu.append', c.qemu.append, "Linux's console on the first serial port (the console panel)");
    } else if (isos.length || fileTargets.some((t) => t.endsWith('.iso'))) {
      c.qemu.iso = isos[0] ?? fileTargets.find((t) => t.endsWith('.iso'))!;
      note('qemu.iso', c.qemu.iso, isos[0] ? 'an ISO 9660 image (its boot loader starts the kernel)' : `a target of ${mk}`);
    } else if (images.length || fileTargets.some((t) => /\.(img|hdd)$/.test(t))) {
      c.qemu.drive = images[0] ?? fileTargets.find((t) => /\.(img|hdd)$/.test(t))!;
      note('qemu.drive', c.qemu.drive, images[0] ? 'a raw disk image whose first sector ends 0x55 0xAA (the BIOS boots it)' : `a target of ${mk}`);
    } else if (builtLater) {
      c.qemu.kernel = builtLater;
      note('qemu.kernel', builtLater, `a target of ${mk} (not built yet: check the architecture after the first build)`);
    }
    if (!arch) {
      // the ELF with symbols for an ISO or a disk image decides the architecture
      const withSyms = elfs.find((e) => e.symbols && e.arch) ?? elfs.find((e) => e.arch);
      if (withSyms) arch = ARCHES.find((a) => a.name === withSyms.arch)!;
      elfForDebug ??= withSyms;
    }
    if (arch) {
      Object.assign(c.qemu, { binary: arch.qemuBinary, machine: arch.machine, cpu: arch.cpu });
      note('qemu.binary', arch.qemuBinary, `${arch.name}: machine ${arch.machine}, CPU ${arch.cpu}, firmware ${arch.firmware}`);
    }
  }
  if (!c.qemu.kernel && !c.qemu.iso && !c.qemu.drive && !c.qemu.extraArgs.length)
    notes.push('nothing bootable found: build first (the proposal is read again when the folder is reopened), or set qemu.kernel, qemu.iso or qemu.drive');

  // 4. the ELF with symbols for the debugger
  elfForDebug ??= elfs.find((e) => e.symbols && (!arch || e.arch === arch.name));
  if (!elfForDebug) {
    const t = c.qemu.kernel && fileTargets.includes(c.qemu.kernel) ? c.qemu.kernel : fileTargets.find((x) => /\.elf$|(^|\/)kernel$/.test(x));
    if (t) c.debug.elf = t;
  }
  if (elfForDebug) {
    c.debug.elf = elfForDebug.path;
    const a = elfForDebug.arch ? ARCHES.find((x) => x.name === elfForDebug!.arch) : null;
    note('debug.elf', elfForDebug.path, `${elfForDebug.symbols ? 'symbols' : 'no symbol table'}; debugged with ${a?.gdb ?? 'gdb-multiarch'}`);
  } else if (c.debug.elf) note('debug.elf', c.debug.elf, `a target of ${mk} (not built yet)`);
  if (c.qemu.binary === 'qemu-system-x86_64' && elfForDebug?.arch === 'i386') {
    // a 32-bit kernel: qemu-system-i386's gdbstub shows the registers gdb expects for it
    Object.assign(c.qemu, { binary: 'qemu-system-i386', cpu: c.qemu.cpu === ARCHES[0]!.cpu ? 'max' : c.qemu.cpu });
  }
  c.debug.laneos = null;
  return { config: c, notes, found: { makeTargets, elfs, images, isos, bzImages } };
}
