import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultProjectConfig, parseMemory, validateProjectConfig } from '../../common/project.js';
import { Project } from '../../node/project.js';
import { accelArgs, qemuArgs, qemuPreflight } from '../../node/qemu.js';
import { kvmUnusableReason } from '../../../debugger/node/kvm.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ls-proj-'));

test('a minimal lanescope.json gets every default filled in', () => {
  const { config, errors } = validateProjectConfig({ name: 'x' });
  assert.deepEqual(errors, []);
  assert.equal(config.name, 'x');
  assert.equal(config.build.command, 'make');
  assert.equal(config.qemu.accel, 'auto');
  assert.equal(config.qemu.cpus, 1);
  assert.deepEqual(config.qemu.serial, [{ kind: 'console' }]);
});

test('bad fields are named in errors and replaced by defaults', () => {
  const { config, errors } = validateProjectConfig({
    target: 'jtag',
    build: { command: 42, cwd: '../outside' },
    qemu: { cpus: 0, memory: 'lots', accel: 'kvm:tcg', devices: 'isa-debug-exit', serial: [{ kind: 'socket' }], gdb: { port: 70000 } },
    serial: { baud: 1234 },
    extra: true,
  });
  const expect = ['target:', 'build.command:', 'build.cwd:', 'qemu.cpus:', 'qemu.memory:', 'qemu.accel:', 'qemu.devices:', 'qemu.serial[0].path:', 'qemu.gdb.port:', 'serial.baud:', 'extra: unknown field'];
  for (const e of expect) assert.ok(errors.some((x) => x.startsWith(e)), `expected an error about ${e}; got ${errors.join(' | ')}`);
  const d = defaultProjectConfig('project');
  assert.equal(config.target, d.target);
  assert.equal(config.qemu.cpus, d.qemu.cpus);
  assert.equal(config.qemu.accel, 'auto');
  assert.equal(config.serial.baud, 115200);
  assert.equal(config.build.cwd, '.');
});

test('non-object and non-JSON project files are reported, not thrown', () => {
  assert.match(validateProjectConfig([]).errors[0]!, /must be a JSON object/);
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'lanescope.json'), '{ nope');
  const p = new Project(dir);
  assert.match(p.configErrors[0]!, /not valid JSON/);
  assert.equal(p.configIsDefault, false);
});

test('memory sizes parse', () => {
  assert.equal(parseMemory('256M'), 256);
  assert.equal(parseMemory('1G'), 1024);
  assert.equal(parseMemory('512'), 512);
  assert.equal(parseMemory('lots'), null);
});

test('the bundled os/lanescope.json is valid and boots the fast-boot kernel with 2 CPUs', () => {
  const raw = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../../os/lanescope.json'), 'utf8'));
  const { config, errors } = validateProjectConfig(raw);
  assert.deepEqual(errors, []);
  assert.equal(config.qemu.cpus, 2);
  assert.equal(config.qemu.memory, '256M');
  assert.equal(config.qemu.kernel, 'build/kernel/lanes32.elf');
  assert.equal(config.qemu.initrd, 'build/initrd.tar');
});

test('a folder without lanescope.json gets guessed defaults, and writing them creates the file', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'Makefile'), 'all:\n\ttrue\n');
  fs.mkdirSync(path.join(dir, 'build/kernel'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'build/kernel/lanes32.elf'), '');
  const p = new Project(dir);
  assert.equal(p.configIsDefault, true);
  assert.equal(p.config.build.command, 'make');
  assert.equal(p.config.qemu.kernel, 'build/kernel/lanes32.elf');
  p.writeConfig(p.config);
  assert.ok(fs.existsSync(path.join(dir, 'lanescope.json')));
  const again = new Project(dir);
  assert.equal(again.configIsDefault, false);
  assert.deepEqual(again.config, p.config);
});

test('writeConfig refuses an invalid config and leaves the file untouched', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'lanescope.json'), '{"name":"keep"}');
  const p = new Project(dir);
  const bad = { ...p.config, qemu: { ...p.config.qemu, cpus: -3 } };
  assert.throws(() => p.writeConfig(bad), /qemu.cpus/);
  assert.equal(fs.readFileSync(path.join(dir, 'lanescope.json'), 'utf8'), '{"name":"keep"}');
});

test('QEMU command line: accel fallback, CPUs, memory, devices, console on stdio, extra serial ports', () => {
  const dir = tmp();
  const { config } = validateProjectConfig({
    qemu: { cpus: 2, memory: '256M', kernel: 'k.elf', initrd: 'i.tar', devices: ['isa-debug-exit,iobase=0xf4,iosize=0x04'], serial: [{ kind: 'console' }, { kind: 'socket', path: 'com2.sock' }], gdb: { enabled: true, port: 1235 } },
  });
  const a = qemuArgs(dir, config).join(' ');
  // auto: KVM with TCG to fall back on where KVM is worth it here, else TCG alone (accel.test.ts)
  assert.ok(a.startsWith(`-machine pc ${accelArgs('auto').join(' ')} -cpu`), a);
  assert.match(a, kvmUnusableReason() === null ? /-accel kvm -accel tcg/ : /-accel tcg -cpu/);
  assert.match(a, /-cpu max,-arch-capabilities -smp 2 -m 256M/);
  assert.match(a, /-serial stdio/);
  assert.match(a, /-chardev socket,id=ser1,path=\S+com2\.sock,server=on,wait=off -serial chardev:ser1/);
  assert.match(a, /-device isa-debug-exit,iobase=0xf4,iosize=0x04/);
  assert.match(a, /-kernel \S+k\.elf -initrd \S+i\.tar/);
  // qemu.gdb.enabled: the gdbstub on a Unix socket in the Run's private folder, never TCP (issue 21)
  assert.match(a, /-chardev socket,id=lanescope-gdb,path=<run folder>\/gdb\.sock,server=on,wait=off -gdb chardev:lanescope-gdb/);
  assert.doesNotMatch(a, /tcp:/);
  assert.match(qemuArgs(dir, config, { gdbSocket: '/tmp/lanescope-run-x/gdb-1.sock' }).join(' '), /path=\/tmp\/lanescope-run-x\/gdb-1\.sock,server=on,wait=off -gdb chardev:lanescope-gdb/);
  const tcg = qemuArgs(dir, { ...config, qemu: { ...config.qemu, accel: 'tcg' } }).join(' ');
  assert.match(tcg, /-accel tcg/);
  assert.doesNotMatch(tcg, /kvm/);
});

test('missing QEMU and missing kernel are clear preflight messages', () => {
  const dir = tmp();
  const { config } = validateProjectConfig({ qemu: { binary: 'qemu-system-does-not-exist', kernel: 'build/none.elf' } });
  const p = qemuPreflight(dir, config);
  assert.ok(p.some((m) => /QEMU was not found: "qemu-system-does-not-exist"/.test(m)), p.join('\n'));
  assert.ok(p.some((m) => /qemu.kernel: build\/none.elf does not exist/.test(m)), p.join('\n'));
  const none = qemuPreflight(dir, validateProjectConfig({}).config);
  assert.ok(none.some((m) => /set qemu.kernel/.test(m)));
});
