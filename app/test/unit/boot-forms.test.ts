/*
 * Boot forms beyond the fixtures' own (issue 23), through the backend as the IDE drives it with real
 * QEMU under TCG:
 *   UEFI   the GRUB ISO of debugger/test/fixtures/mbiso (grub-mkrescue makes it hybrid: BIOS and
 *          UEFI) under qemu-system-x86_64 with `"bios": "ovmf"` (Debian's OVMF): Run reaches the
 *          kernel's console line through OVMF → GRUB (x86_64-efi) → multiboot
 *   Linux  Debian's bzImage (the kernel os/tools/linuxguest.py caches in os/build/linux) opened as
 *          a folder: the proposal finds it (Linux boot protocol, console=ttyS0) and Run shows the
 *          kernel's banner — no symbols, so no Debug here
 * and, without QEMU: what the proposer makes of a PVH ELF, a bzImage and a recipe naming OVMF by a
 * path, and Run's preflight for `"bios": "ovmf"`.
 * (-bios none, PVH and the ISO under SeaBIOS boot and debug in anyos-fixtures.test.ts: rv64bare,
 * pvh, mbiso.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, test } from 'node:test';
import type { ProjectInfo } from '../../common/contract.js';
import { validateProjectConfig } from '../../common/project.js';
import { hasPvhNote, isBzImage, proposeConfig } from '../../node/propose.js';
import { NAMED_FIRMWARE, qemuArgs, qemuPreflight } from '../../node/qemu.js';
import { trustProject } from '../../node/trust.js';
import { ANYOS_FIXTURES, buildFixture, copyFixture, fixtureSkip } from '../anyos-fixture.js';
import { driveBackend } from '../backend-harness.js';

const tmp = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-boot-')));
const ovmf = NAMED_FIRMWARE['ovmf']!.files.find((f) => fs.existsSync(f));
const REPO = path.resolve(import.meta.dirname, '../../..');
const linuxDir = path.join(REPO, 'os/build/linux/root/boot');
const vmlinuz = fs.existsSync(linuxDir) ? fs.readdirSync(linuxDir).find((f) => /^vmlinuz-/.test(f)) : undefined;
const onPath = (cmd: string) => (process.env['PATH'] ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));

/** A backend on `root`; `until` waits on the events, failing with what was seen. */
function session(root: string) {
  const h = driveBackend(root);
  const until = (what: string, ok: () => boolean, ms: number) => h.until(ok, what, ms);
  return { stateDir: h.stateDir, call: h.call, payloads: h.payloads, consoleText: h.consoleText, until, close: h.close };
}

test('the proposer: a PVH ELF boots directly on x86_64; a bzImage by the Linux boot protocol; OVMF named by its path becomes "ovmf"', { skip: fixtureSkip(ANYOS_FIXTURES.find((f) => f.name === 'pvh')!) }, () => {
  // a built PVH kernel, no Makefile: the ELF's Xen note says QEMU's -kernel boots it
  const dir = buildFixture('pvh');
  try {
    fs.rmSync(path.join(dir, 'Makefile'));
    const p = proposeConfig(dir);
    assert.equal(p.config.qemu.binary, 'qemu-system-x86_64');
    assert.equal(p.config.qemu.kernel, 'build/kernel.elf');
    assert.equal(p.config.debug.elf, 'build/kernel.elf');
    assert.ok(p.notes.some((n) => /PVH entry note/.test(n)), JSON.stringify(p.notes));
    assert.equal(p.found.elfs.find((e) => e.path === 'build/kernel.elf')?.pvh, true);
    // the multiboot kernel has none
    assert.equal(hasPvhNote(fs.readFileSync(path.join(dir, 'build/kernel.o'))), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // a bzImage: boot sector signature and "HdrS" at 0x202
  const linux = tmp();
  try {
    const bz = Buffer.alloc(4096);
    bz[510] = 0x55;
    bz[511] = 0xaa;
    bz.write('HdrS', 0x202, 'latin1');
    assert.equal(isBzImage(bz), true);
    assert.equal(isBzImage(Buffer.concat([bz.subarray(0, 0x202), Buffer.from('NotS')])), false);
    fs.mkdirSync(path.join(linux, 'boot'));
    fs.writeFileSync(path.join(linux, 'bzImage'), bz);
    const p = proposeConfig(linux);
    assert.equal(p.config.qemu.binary, 'qemu-system-x86_64');
    assert.equal(p.config.qemu.kernel, 'bzImage');
    assert.equal(p.config.qemu.append, 'console=ttyS0');
    assert.ok(p.notes.some((n) => /Linux boot protocol/.test(n)), JSON.stringify(p.notes));
    assert.deepEqual(p.found.bzImages, ['bzImage']);
    // a run recipe naming OVMF by another machine's path
    fs.writeFileSync(path.join(linux, 'Makefile'), 'run:\n\tqemu-system-x86_64 -bios /opt/fw/OVMF_CODE.fd -cdrom os.iso\n');
    const q = proposeConfig(linux);
    assert.equal(q.config.qemu.bios, 'ovmf');
    assert.equal(q.config.qemu.iso, 'os.iso');
    assert.ok(q.notes.some((n) => /^qemu\.bios: ovmf — \/opt\/fw\/OVMF_CODE\.fd in the recipe/.test(n)), JSON.stringify(q.notes));
  } finally {
    fs.rmSync(linux, { recursive: true, force: true });
  }
});

test('"bios": "ovmf": -bios is where Debian installs OVMF; preflight names what is wrong', () => {
  const root = tmp();
  try {
    fs.writeFileSync(path.join(root, 'os.iso'), Buffer.alloc(4096));
    const { config, errors } = validateProjectConfig({ qemu: { binary: 'qemu-system-x86_64', iso: 'os.iso', bios: 'ovmf' } });
    assert.deepEqual(errors, []);
    const argv = qemuArgs(root, config);
    const i = argv.indexOf('-bios');
    assert.ok(i > 0 && NAMED_FIRMWARE['ovmf']!.files.includes(argv[i + 1]!), argv.join(' '));
    const problems = qemuPreflight(root, config).filter((p) => p.startsWith('qemu.bios'));
    if (ovmf) assert.deepEqual(problems, []);
    else assert.deepEqual(problems, ['qemu.bios: ovmf — UEFI firmware for x86_64 (OVMF) is not installed (Debian: apt install ovmf, or app/scripts/setup.sh --firmware ovmf)']);
    const wrong = { ...config, qemu: { ...config.qemu, binary: 'qemu-system-riscv64' } };
    if (ovmf) assert.ok(qemuPreflight(root, wrong).includes('qemu.bios: ovmf is UEFI firmware for x86_64 (OVMF); it does not boot under qemu-system-riscv64 (set qemu.binary to qemu-system-x86_64)'), qemuPreflight(root, wrong).join('\n'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

const mbiso = ANYOS_FIXTURES.find((f) => f.name === 'mbiso')!;
const uefiSkip = fixtureSkip(mbiso) || (!ovmf && 'OVMF not installed (app/scripts/setup.sh --firmware ovmf)') || (!fs.existsSync('/usr/lib/grub/x86_64-efi') && "GRUB's UEFI files not installed (grub-efi-amd64-bin: app/scripts/setup.sh --firmware ovmf)") || (!onPath('qemu-system-x86_64') && 'qemu-system-x86_64 not installed');

describe('UEFI: a GRUB ISO under OVMF', { skip: uefiSkip, timeout: 300000 }, () => {
  it('Run boots the ISO through OVMF and GRUB, and the console shows the kernel', async () => {
    const root = copyFixture('mbiso');
    fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({ build: { command: 'make' }, qemu: { binary: 'qemu-system-x86_64', iso: 'build/os.iso', bios: 'ovmf', accel: 'tcg', memory: '256M' }, debug: { elf: 'build/kernel.elf' } }));
    const s = session(root);
    try {
      trustProject(s.stateDir, root);
      const info = await s.call<ProjectInfo>('project.open');
      assert.equal(info.config.qemu.bios, 'ovmf');
      await s.call('run.start');
      // OVMF's own boot under TCG is the slow part (tens of seconds on a loaded machine)
      await s.until('the kernel\'s line through OVMF and GRUB', () => mbiso.hello.test(s.consoleText()), 240000);
      const cmd = s.payloads('build.output').map((p) => p.data).join('');
      assert.match(cmd, new RegExp(`\\$ qemu-system-x86_64 .*-bios ${ovmf!.replace(/[/.]/g, '\\$&')}`), cmd.slice(-2000));
      await s.call('run.stop');
      await s.until('the stop', () => s.payloads('run.state').some((x) => x.state.kind === 'stopped'), 30000);
    } finally {
      await s.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("Linux: Debian's bzImage opened as a folder", { skip: (!vmlinuz && 'no Linux kernel in os/build/linux (os/tools/linuxguest.py caches it: python3 os/tools/os-test --build os/build --only linux)') || (!onPath('qemu-system-x86_64') && 'qemu-system-x86_64 not installed'), timeout: 300000 }, () => {
  it('the proposal boots it by the Linux boot protocol and the console shows its banner', async () => {
    const root = tmp();
    fs.copyFileSync(path.join(linuxDir, vmlinuz!), path.join(root, 'vmlinuz'));
    const s = session(root);
    try {
      const info = await s.call<ProjectInfo>('project.open');
      assert.equal(info.configIsDefault, true);
      assert.equal(info.config.qemu.kernel, 'vmlinuz');
      assert.equal(info.config.qemu.binary, 'qemu-system-x86_64');
      assert.equal(info.config.build.command, null);
      // no initrd: Linux boots until it looks for a root file system (and -no-reboot ends the run)
      await s.call('project.writeConfig', { config: { ...info.config, qemu: { ...info.config.qemu, accel: 'tcg', memory: '256M', append: `${info.config.qemu.append} panic=-1` } } });
      trustProject(s.stateDir, root);
      await s.call('run.start');
      await s.until("Linux's banner", () => /Linux version 6\.\d+\.\d+/.test(s.consoleText()), 240000);
      await s.until('the kernel to reach its root file system', () => /VFS: (Cannot open root device|Unable to mount root)|Kernel panic/.test(s.consoleText()) || s.payloads('run.state').some((x) => x.state.kind === 'stopped'), 240000);
      assert.match(s.consoleText(), /Command line: console=ttyS0 panic=-1/);
    } finally {
      await s.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
