/*
 * Target architectures: what Lanescope needs to know to boot and debug a kernel of each — the QEMU
 * binary and its machine/CPU defaults, the ELF machine number that names it, the debugger that
 * understands it (the host's gdb for x86, Debian's gdb-multiarch for the others) and the Debian
 * packages that provide them (app/scripts/setup.sh --arch NAME installs them).
 *
 * One table, used by lanescope.json's defaults (a project that names qemu-system-riscv64 gets the
 * `virt` machine and a RISC-V CPU without saying so), by Debug (which gdb to start) and by the
 * configuration proposer (an ELF's e_machine → everything else). Pure code.
 */

export type ArchName = 'x86_64' | 'i386' | 'riscv64' | 'aarch64';

export interface ArchInfo {
  name: ArchName;
  /** ELF e_machine and class (bits). */
  elfMachine: number;
  bits: 32 | 64;
  qemuBinary: string;
  machine: string;
  /** A CPU model that boots any kernel of this architecture under TCG. */
  cpu: string;
  /** The gdb that debugs it on an x86_64 host. */
  gdb: 'gdb' | 'gdb-multiarch';
  /** Debian packages: the QEMU binary's and the debugger's. */
  packages: { qemu: string; gdb: string };
  /** QEMU's default firmware on that machine, in words (for the proposal's explanation). */
  firmware: string;
}

export const ARCHES: readonly ArchInfo[] = [
  {
    name: 'x86_64', elfMachine: 62, bits: 64, qemuBinary: 'qemu-system-x86_64', machine: 'pc',
    // `max` works under KVM and TCG; without arch-capabilities because some hosts' KVM aborts on
    // that MSR ("failed to set MSR 0x10a").
    cpu: 'max,-arch-capabilities', gdb: 'gdb', packages: { qemu: 'qemu-system-x86', gdb: 'gdb' }, firmware: 'SeaBIOS',
  },
  // a 32-bit x86 kernel runs under qemu-system-i386: qemu-system-x86_64's gdbstub always describes
  // the 64-bit register file, which gdb refuses for an i386 ELF ("Remote 'g' packet reply is too long")
  { name: 'i386', elfMachine: 3, bits: 32, qemuBinary: 'qemu-system-i386', machine: 'pc', cpu: 'max', gdb: 'gdb', packages: { qemu: 'qemu-system-x86', gdb: 'gdb' }, firmware: 'SeaBIOS' },
  { name: 'riscv64', elfMachine: 243, bits: 64, qemuBinary: 'qemu-system-riscv64', machine: 'virt', cpu: 'rv64', gdb: 'gdb-multiarch', packages: { qemu: 'qemu-system-misc', gdb: 'gdb-multiarch' }, firmware: 'OpenSBI (kernel at 0x80200000, S-mode)' },
  { name: 'aarch64', elfMachine: 183, bits: 64, qemuBinary: 'qemu-system-aarch64', machine: 'virt', cpu: 'cortex-a53', gdb: 'gdb-multiarch', packages: { qemu: 'qemu-system-arm', gdb: 'gdb-multiarch' }, firmware: 'none (the ELF entered at EL1)' },
];

const base = (p: string) => p.split('/').pop() ?? p;

/** The architecture a QEMU binary emulates (by its name: qemu-system-riscv64 → riscv64), or null. */
export function archOfQemuBinary(binary: string): ArchInfo | null {
  const b = base(binary);
  return ARCHES.find((a) => a.qemuBinary === b) ?? null;
}

/** The architecture of an ELF (from its header's class and e_machine), or null when unknown. */
export function archOfElf(ident: { bits: 32 | 64; machine: number }): ArchInfo | null {
  return ARCHES.find((a) => a.elfMachine === ident.machine && a.bits === ident.bits) ?? null;
}

/** The gdb for a kernel ELF: the host's gdb for x86, gdb-multiarch for the others (and for unknown machines). */
export function gdbForElf(ident: { bits: 32 | 64; machine: number } | null): string {
  if (!ident) return 'gdb';
  return archOfElf(ident)?.gdb ?? 'gdb-multiarch';
}

/** Machine and CPU defaults for the QEMU binary a project names (x86_64's when it is not one of ours). */
export function qemuDefaultsFor(binary: string): { machine: string; cpu: string } {
  const a = archOfQemuBinary(binary) ?? ARCHES[0]!;
  return { machine: a.machine, cpu: a.cpu };
}
