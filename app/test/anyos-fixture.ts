/*
 * The "any OS" fixtures (issue 23): small kernels written here that are not LaneOS, each a folder
 * with a Makefile as a user's project would have — debugger/test/fixtures/{bootdisk,mb32,rv64,a64,
 * rv64bare,pvh,mbiso}. Tests copy one to a temporary folder (never building in the repository; a
 * fixture's symbolic links to another's sources are copied as files) and run `make` there.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FIXTURES = path.resolve(import.meta.dirname, '../../debugger/test/fixtures');

export interface AnyOsFixture {
  name: 'bootdisk' | 'mb32' | 'rv64' | 'a64' | 'rv64bare' | 'pvh' | 'mbiso';
  /** how it boots, in words */
  boot: string;
  /** what boots it */
  qemu: string;
  /** the cross compiler (null: the host's gcc) */
  cc: string | null;
  gdb: 'gdb' | 'gdb-multiarch';
  /** its first console line */
  hello: RegExp;
  /** other commands its build needs */
  tools?: string[];
}

export const ANYOS_FIXTURES: AnyOsFixture[] = [
  { name: 'bootdisk', boot: 'raw disk image, SeaBIOS', qemu: 'qemu-system-i386', cc: null, gdb: 'gdb', hello: /bootdisk: hello from a kernel loaded by its own boot sector/ },
  { name: 'mb32', boot: 'multiboot -kernel', qemu: 'qemu-system-i386', cc: null, gdb: 'gdb', hello: /mb32: hello from a 32-bit multiboot kernel/ },
  { name: 'rv64', boot: '-kernel under OpenSBI', qemu: 'qemu-system-riscv64', cc: 'riscv64-linux-gnu-gcc', gdb: 'gdb-multiarch', hello: /rv64: hello from a RISC-V kernel on virt/ },
  { name: 'a64', boot: '-kernel, no firmware', qemu: 'qemu-system-aarch64', cc: 'aarch64-linux-gnu-gcc', gdb: 'gdb-multiarch', hello: /a64: hello from an aarch64 kernel on virt/ },
  { name: 'rv64bare', boot: '-bios none, M-mode at 0x80000000', qemu: 'qemu-system-riscv64', cc: 'riscv64-linux-gnu-gcc', gdb: 'gdb-multiarch', hello: /rv64: hello from a RISC-V kernel on virt/ },
  { name: 'pvh', boot: 'PVH -kernel (64-bit ELF, Xen entry note)', qemu: 'qemu-system-x86_64', cc: null, gdb: 'gdb', hello: /pvh: hello from a 64-bit kernel booted by PVH/ },
  { name: 'mbiso', boot: 'GRUB ISO (grub-mkrescue), SeaBIOS', qemu: 'qemu-system-i386', cc: null, gdb: 'gdb', hello: /mb32: hello from a 32-bit multiboot kernel/, tools: ['grub-mkrescue', 'xorriso', 'mformat'] },
];

const onPath = (cmd: string) => (process.env['PATH'] ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));

/** Why this fixture cannot run here (a tool missing: app/scripts/setup.sh --for test installs them), or false. */
export function fixtureSkip(f: AnyOsFixture): string | false {
  const missing = [f.qemu, f.gdb, f.cc ?? 'gcc', ...(f.tools ?? [])].filter((c) => !onPath(c));
  return missing.length ? `${missing.join(', ')} not installed (app/scripts/setup.sh --for test)` : false;
}

/** A copy of the fixture's folder (sources and Makefile only) in a new temporary folder. */
export function copyFixture(name: string): string {
  const dst = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `lanescope-${name}-`)));
  for (const f of fs.readdirSync(path.join(FIXTURES, name))) if (!/\.ts$/.test(f) && f !== 'build') fs.copyFileSync(path.join(FIXTURES, name, f), path.join(dst, f));
  return dst;
}

/** Builds a copy with its Makefile; returns the copy's folder. */
export function buildFixture(name: string): string {
  const dir = copyFixture(name);
  execFileSync('make', ['-s', '-C', dir], { stdio: 'pipe' });
  return dir;
}

/** The 1-based line of `file` in the fixture holding `re`. */
export function fixtureLine(name: string, file: string, re: RegExp): number {
  const i = fs.readFileSync(path.join(FIXTURES, name, file), 'utf8').split('\n').findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`${re} is not in ${name}/${file}`);
  return i + 1;
}

/** The user's own gdb (or gdb-multiarch) in batch mode: its whole output, killed after 90 s. */
export function runGdb(gdb: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const g = spawn(gdb, ['-nx', '-q', '-batch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    g.stdout.on('data', (d: Buffer) => (o += d.toString()));
    g.stderr.on('data', (d: Buffer) => (o += d.toString()));
    const t = setTimeout(() => g.kill('SIGKILL'), 90000);
    g.on('exit', () => {
      clearTimeout(t);
      resolve(o);
    });
  });
}
