/*
 * The kernel ELF's architecture, as Debug and a plain Run with a gdbstub need it: which QEMU binary
 * gives a register file gdb accepts (a 32-bit x86 kernel under qemu-system-i386), and which gdb
 * understands the kernel (gdb for x86, gdb-multiarch for RISC-V and ARM), with a clear error naming
 * the Debian package when that gdb is missing. The table itself is app/common/arch.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { elfIdent } from '../../../debugger/common/elf.js';
import { archOfElf, gdbForElf } from '../../common/arch.js';
import { findExecutable } from '../qemu.js';

export type ElfIdent = { bits: 32 | 64; machine: number };

/** The ELF header's class and machine of `file`, or null when it is missing or not an ELF. */
export function readElfIdent(file: string): ElfIdent | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(64);
      fs.readSync(fd, b, 0, 64, 0);
      return elfIdent(new Uint8Array(b));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

/**
 * The QEMU binary for debugging a kernel ELF: a 32-bit x86 kernel (EM_386) runs under
 * qemu-system-i386 rather than the default qemu-system-x86_64, whose gdbstub always describes the
 * 64-bit register file — gdb, told i386 by the ELF, then refuses it ("Remote 'g' packet reply is
 * too long") and neither Lanescope's gdb nor the user's can debug. A binary the project chose
 * otherwise is kept.
 */
export function debugQemuBinary(binary: string, elf: ElfIdent | null): string {
  if (elf && elf.bits === 32 && elf.machine === 3 && path.basename(binary) === 'qemu-system-x86_64') return path.join(path.dirname(binary), 'qemu-system-i386');
  return binary;
}

/** The gdb to start for this kernel; throws naming the package to install when it is not on PATH. */
export function gdbForKernel(elf: ElfIdent | null): string {
  const gdb = gdbForElf(elf);
  if (!findExecutable(gdb)) {
    const arch = elf ? archOfElf(elf) : null;
    const what = arch ? `a ${arch.name} kernel` : `this kernel (ELF machine ${elf?.machine ?? '?'})`;
    throw new Error(`debugging ${what} needs ${gdb}, which is not on PATH: install it (Debian: apt install ${arch?.packages.gdb ?? gdb}, or app/scripts/setup.sh --arch ${arch?.name ?? 'riscv64'})`);
  }
  return gdb;
}
