/*
 * The configuration proposed for a folder without lanescope.json (app/node/propose.ts): from a
 * Makefile's run recipe, from ELF headers (architecture, entry, multiboot), boot-sector images and
 * ISOs — and never by building or running anything. Real files: the fixture folders, built with
 * their Makefiles where the cross compilers are installed, and hand-made images and ELF headers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { archOfElf, archOfQemuBinary, gdbForElf } from '../../common/arch.js';
import { validateProjectConfig } from '../../common/project.js';
import { multibootVersion, parseMakefile, parseQemuLine, proposeConfig } from '../../node/propose.js';
import { Project } from '../../node/project.js';
import { ANYOS_FIXTURES, buildFixture, copyFixture, fixtureSkip } from '../anyos-fixture.js';

const tmp = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-propose-')));

/** A minimal ELF header (no sections): class, machine, entry. */
function elfHeader(bits: 32 | 64, machine: number, entry: number, extra = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = bits === 32 ? 1 : 2;
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  if (bits === 64) b.writeBigUInt64LE(BigInt(entry), 24);
  else b.writeUInt32LE(entry, 24);
  return Buffer.concat([b, extra]);
}

test('architectures: from a QEMU binary, from an ELF header; the gdb for each; lanescope.json defaults per binary', () => {
  assert.equal(archOfQemuBinary('/usr/bin/qemu-system-riscv64')?.machine, 'virt');
  assert.equal(archOfQemuBinary('my-qemu'), null);
  assert.equal(archOfElf({ bits: 64, machine: 243 })?.name, 'riscv64');
  assert.equal(archOfElf({ bits: 64, machine: 183 })?.name, 'aarch64');
  assert.equal(archOfElf({ bits: 32, machine: 3 })?.name, 'i386');
  assert.deepEqual([gdbForElf({ bits: 64, machine: 62 }), gdbForElf({ bits: 32, machine: 3 }), gdbForElf({ bits: 64, machine: 243 }), gdbForElf({ bits: 32, machine: 40 })], ['gdb', 'gdb', 'gdb-multiarch', 'gdb-multiarch']);
  const rv = validateProjectConfig({ qemu: { binary: 'qemu-system-riscv64' } }).config.qemu;
  assert.deepEqual([rv.machine, rv.cpu], ['virt', 'rv64']);
  const own = validateProjectConfig({ qemu: { binary: 'qemu-system-aarch64', cpu: 'cortex-a72' } }).config.qemu;
  assert.deepEqual([own.machine, own.cpu], ['virt', 'cortex-a72']);
  assert.equal(validateProjectConfig({}).config.qemu.cpu, 'max,-arch-capabilities');
});

test('Makefile: variables, targets and a run recipe become the QEMU fields (Lanescope keeps console, monitor, gdbstub)', () => {
  const mk = parseMakefile('ARCH ?= riscv64\nK := build/$(ARCH).elf\nQEMU = qemu-system-$(ARCH)\n\nall: $(K)\n$(K): a.c\n\tcc a.c\nrun: $(K)\n\t$(QEMU) -M virt,aclint=on -m 128 -smp 2 -nographic -serial mon:stdio -s -S -bios none \\\n\t  -kernel $(K) -device virtio-rng-device -append "console=ttyS0 quiet"\n.PHONY: all run\n%.o: %.c\n\tcc $<\n');
  assert.deepEqual(mk.targets, ['all', 'build/riscv64.elf', 'run']);
  const q = parseQemuLine(mk.recipes.get('run')![0]!)!;
  assert.equal(q.binary, 'qemu-system-riscv64');
  assert.deepEqual({ m: q.machine, mem: q.memory, cpus: q.cpus, bios: q.bios, kernel: q.kernel, append: q.append, devices: q.devices, extra: q.extraArgs }, { m: 'virt', mem: '128', cpus: 2, bios: 'none', kernel: 'build/riscv64.elf', append: 'console=ttyS0 quiet', devices: ['virtio-rng-device'], extra: [] });
  const d = parseQemuLine('@qemu-system-i386 -drive file=os.img,format=raw -cdrom x.iso -netdev user,id=n0 -monitor stdio; echo done')!;
  assert.deepEqual([d.drive, d.iso, d.extraArgs], ['os.img', 'x.iso', ['-netdev', 'user,id=n0']]);
  assert.equal(parseQemuLine('gcc -o qemu.o qemu.c'), null);
  // hostile input: no crash, no hang
  parseMakefile('A = $(A)$(A)\nx: $(A)\n\t$(A)\n' + ':::\n\t\n'.repeat(1000));
});

test("Makefile: include reads the folder's files; $(shell …) is never run and the form says what it could not infer", () => {
  const root = tmp();
  try {
    fs.mkdirSync(path.join(root, 'mk'));
    fs.writeFileSync(path.join(root, 'mk/config.mk'), 'ARCH := riscv64\nQEMU = qemu-system-$(ARCH)\n');
    fs.writeFileSync(path.join(root, 'mk/run.mk'), 'run: build/kernel.elf\n\t$(QEMU) -machine virt -bios none -kernel build/kernel.elf\n');
    fs.writeFileSync(path.join(root, 'Makefile'), [
      'include mk/config.mk',
      '-include mk/missing.mk',
      'SRCS := $(shell find . -name "*.c" > ran-find.txt)',
      'all: build/kernel.elf',
      'build/kernel.elf: $(SRCS)',
      '\tcc -o $@ $(SRCS)',
      'include mk/run.mk',
      'debug: build/kernel.elf',
      '\t$(QEMU) -machine virt -kernel build/kernel.elf $(shell cat extra-args.txt)',
      '',
    ].join('\n'));
    const mk = parseMakefile(fs.readFileSync(path.join(root, 'Makefile'), 'utf8'), (n) => (fs.existsSync(path.join(root, n)) ? fs.readFileSync(path.join(root, n), 'utf8') : null));
    assert.deepEqual(mk.included, ['mk/config.mk', 'mk/run.mk']);
    assert.deepEqual(mk.targets, ['all', 'build/kernel.elf', 'run', 'debug']);
    assert.deepEqual(mk.recipes.get('run'), ['qemu-system-riscv64 -machine virt -bios none -kernel build/kernel.elf']);
    assert.deepEqual(mk.unexpanded, ['the recipe of build/kernel.elf', 'the recipe of debug']);
    const p = proposeConfig(root);
    assert.equal(p.config.qemu.binary, 'qemu-system-riscv64');
    assert.equal(p.config.qemu.bios, 'none');
    assert.equal(p.config.qemu.kernel, 'build/kernel.elf');
    assert.ok(p.notes.includes('Makefile includes mk/config.mk, mk/run.mk: read as part of it'), JSON.stringify(p.notes));
    assert.ok(p.notes.some((n) => /^not inferred: the recipe of build\/kernel\.elf; the recipe of debug — make functions such as \$\(shell …\) are never run/.test(n)), JSON.stringify(p.notes));
    assert.ok(!fs.existsSync(path.join(root, 'ran-find.txt')), '$(shell …) was not run');
    // an include loop and an include outside the folder are not followed
    fs.writeFileSync(path.join(root, 'Makefile'), 'include Makefile\ninclude ../../../etc/passwd\nall:\n\ttrue\n');
    assert.deepEqual(proposeConfig(root).found.makeTargets, ['all']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('multiboot headers: v1 with its checksum, v2, and neither', () => {
  const v1 = Buffer.alloc(64);
  v1.writeUInt32LE(0x1badb002, 16);
  v1.writeUInt32LE(3, 20);
  v1.writeUInt32LE((-(0x1badb002 + 3)) >>> 0, 24);
  assert.equal(multibootVersion(v1), 1);
  v1.writeUInt32LE(0, 24);
  assert.equal(multibootVersion(v1), null, 'a bad checksum is no header');
  const v2 = Buffer.alloc(64);
  v2.writeUInt32LE(0xe85250d6, 8);
  v2.writeUInt32LE(0, 12);
  v2.writeUInt32LE(24, 16);
  v2.writeUInt32LE((-(0xe85250d6 + 24)) >>> 0, 20);
  assert.equal(multibootVersion(v2), 2);
});

test('no Makefile: a RISC-V ELF is the kernel; a 32-bit multiboot ELF runs under qemu-system-i386; an ISO; a boot-sector image', () => {
  const root = tmp();
  try {
    fs.mkdirSync(path.join(root, 'out'));
    fs.writeFileSync(path.join(root, 'out/kernel'), elfHeader(64, 243, 0x80200000));
    let p = proposeConfig(root);
    assert.deepEqual([p.config.qemu.binary, p.config.qemu.machine, p.config.qemu.kernel, p.config.build.command], ['qemu-system-riscv64', 'virt', 'out/kernel', null]);
    assert.ok(p.notes.some((n) => /qemu\.kernel: out\/kernel — riscv64 ELF64, entry 0x80200000/.test(n)), p.notes.join('\n'));
    fs.rmSync(path.join(root, 'out/kernel'));

    const mb = Buffer.alloc(64);
    mb.writeUInt32LE(0x1badb002, 0);
    mb.writeUInt32LE(0, 4);
    mb.writeUInt32LE((-0x1badb002) >>> 0, 8);
    fs.writeFileSync(path.join(root, 'kernel.elf'), elfHeader(32, 3, 0x100000, mb));
    p = proposeConfig(root);
    assert.deepEqual([p.config.qemu.binary, p.config.qemu.kernel, p.config.debug.elf], ['qemu-system-i386', 'kernel.elf', 'kernel.elf']);
    assert.ok(p.notes.some((n) => /multiboot header/.test(n)));
    fs.rmSync(path.join(root, 'kernel.elf'));

    // an x86_64 ELF without multiboot: QEMU cannot -kernel it; the ISO boots, the ELF is for the debugger
    fs.mkdirSync(path.join(root, 'build'));
    fs.writeFileSync(path.join(root, 'build/kernel.elf'), elfHeader(64, 62, 0xffffffff80000000));
    const iso = Buffer.alloc(0x8010);
    iso.write('CD001', 0x8001, 'latin1');
    fs.writeFileSync(path.join(root, 'build/os.iso'), iso);
    p = proposeConfig(root);
    assert.deepEqual([p.config.qemu.kernel, p.config.qemu.iso, p.config.qemu.binary], [null, 'build/os.iso', 'qemu-system-x86_64']);
    fs.rmSync(path.join(root, 'build/os.iso'));
    const sector = Buffer.alloc(1024);
    sector[510] = 0x55;
    sector[511] = 0xaa;
    fs.writeFileSync(path.join(root, 'build/floppy.img'), sector);
    fs.writeFileSync(path.join(root, 'build/data.img'), Buffer.alloc(1024));
    p = proposeConfig(root);
    assert.equal(p.config.qemu.drive, 'build/floppy.img');
    // garbage that looks like an ELF does not stop the proposal
    fs.writeFileSync(path.join(root, 'build/broken.elf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
    assert.equal(proposeConfig(root).config.qemu.drive, 'build/floppy.img');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('proposing runs nothing: a Makefile whose every recipe would leave a mark is only read', () => {
  const root = tmp();
  try {
    fs.writeFileSync(path.join(root, 'Makefile'), `X := $(shell touch ${root}/shell-ran)\nall:\n\ttouch ${root}/make-ran\nrun:\n\tqemu-system-x86_64 -kernel k.elf; touch ${root}/run-ran\n`);
    const p = new Project(root);
    assert.equal(p.configIsDefault, true);
    assert.equal(p.config.qemu.kernel, 'k.elf');
    assert.deepEqual(fs.readdirSync(root), ['Makefile']);
    assert.ok(p.info().proposalNotes?.some((n) => /make run/.test(n)));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

for (const f of ANYOS_FIXTURES) {
  test(`fixture ${f.name}: the same proposal before and after its build`, { skip: fixtureSkip(f) }, () => {
    const clean = copyFixture(f.name);
    const built = buildFixture(f.name);
    try {
      const a = proposeConfig(clean).config;
      const b = proposeConfig(built).config;
      a.name = b.name = 'x';
      assert.deepEqual(a, b);
      assert.equal(b.qemu.binary, f.qemu);
      assert.equal(b.debug.elf, 'build/kernel.elf');
      if (f.name === 'bootdisk') assert.equal(b.qemu.drive, 'build/disk.img');
      else if (f.name === 'mbiso') assert.deepEqual([b.qemu.iso, b.qemu.kernel], ['build/os.iso', null]);
      else assert.equal(b.qemu.kernel, 'build/kernel.elf');
      // without its Makefile the built outputs alone give the same boot form (mbiso: the multiboot
      // ELF beside the ISO, which QEMU boots without GRUB)
      fs.rmSync(path.join(built, 'Makefile'));
      const c = proposeConfig(built).config;
      assert.equal(c.qemu.binary, f.qemu);
      assert.equal(f.name === 'bootdisk' ? c.qemu.drive : c.qemu.kernel, f.name === 'bootdisk' ? 'build/disk.img' : 'build/kernel.elf');
      assert.equal(c.debug.elf, 'build/kernel.elf');
    } finally {
      fs.rmSync(clean, { recursive: true, force: true });
      fs.rmSync(built, { recursive: true, force: true });
    }
  });
}
