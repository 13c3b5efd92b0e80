/*
 * An OS that boots from its own raw disk image (qemu.drive): a 512-byte boot sector, emitted here
 * byte by byte (16-bit real mode: print a line on COM1, halt), copied into build/disk.img by the
 * project's build. Run reaches its console output under real QEMU (TCG); the preflight names the
 * missing image, one with no boot signature, and a missing firmware file (qemu.bios).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { validateProjectConfig } from '../../common/project.js';
import { guessDefaults } from '../../node/project.js';
import { qemuArgs, qemuPreflight } from '../../node/qemu.js';
import { driveBackend } from '../backend-harness.js';

const MESSAGE = 'bootsector: hello from a raw disk image\r\n';

/** cli; cld; ds = 0; si = msg; dx = COM1; loop: lodsb; test al,al; jz done; out dx,al; jmp loop; done: hlt; jmp done; msg. */
function bootSector(): Buffer {
  const msgAt = 0x7c00 + 23;
  const code = [0xfa, 0xfc, 0x31, 0xc0, 0x8e, 0xd8, 0xbe, msgAt & 0xff, msgAt >> 8, 0xba, 0xf8, 0x03, 0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xf4, 0xeb, 0xfd];
  const b = Buffer.alloc(512);
  Buffer.from(code).copy(b, 0);
  Buffer.from(MESSAGE + '\0', 'latin1').copy(b, code.length);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

function project(qemu: Record<string, unknown>) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-disk-')));
  fs.writeFileSync(path.join(root, 'boot.bin'), bootSector());
  fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({ name: 'disk', build: { command: 'mkdir -p build && cp boot.bin build/disk.img' }, qemu: { accel: 'tcg', cpu: 'qemu64', ...qemu } }));
  return root;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('Run boots a raw disk image (qemu.drive) and reaches its console output', { timeout: 120000 }, async () => {
  const root = project({ drive: 'build/disk.img' });
  // this fixture's commands are ours (workspace trust: app/node/trust.ts)
  const { request: call, payloads, consoleText, close } = driveBackend(root, { trust: true });
  try {
    const r = await call('run.start');
    assert.ok(r.ok, r.error ?? '');
    const end = Date.now() + 90000;
    while (!consoleText().includes('bootsector: hello')) {
      const failed = payloads('run.state').find((p) => p.state.kind === 'failed' || p.state.kind === 'exited');
      if (failed || Date.now() > end) assert.fail(`no console output; states ${JSON.stringify(payloads('run.state'))}; notices ${JSON.stringify(payloads('notice'))}; console ${JSON.stringify(consoleText())}`);
      await sleep(50);
    }
    assert.ok(fs.existsSync(path.join(root, 'build/disk.img')));
  } finally {
    await close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('qemu.drive and qemu.bios: argv, and preflight errors that name the file', () => {
  const root = project({ drive: 'build/disk.img' });
  try {
    const { config, errors } = validateProjectConfig(JSON.parse(fs.readFileSync(path.join(root, 'lanescope.json'), 'utf8')));
    assert.deepEqual(errors, []);
    const argv = qemuArgs(root, config).join(' ');
    assert.match(argv, new RegExp(`-drive file=${root}/build/disk\\.img,format=raw,index=0,media=disk -boot c`));
    // not built yet: the preflight names the image
    assert.ok(qemuPreflight(root, config).some((m) => m === 'qemu.drive: build/disk.img does not exist (did the build produce it?)'), qemuPreflight(root, config).join('\n'));
    fs.mkdirSync(path.join(root, 'build'));
    fs.writeFileSync(path.join(root, 'build/disk.img'), Buffer.alloc(1024));
    assert.ok(qemuPreflight(root, config).some((m) => /qemu\.drive: build\/disk\.img has no boot signature/.test(m)));
    fs.writeFileSync(path.join(root, 'build/disk.img'), Buffer.alloc(100));
    assert.ok(qemuPreflight(root, config).some((m) => /qemu\.drive: build\/disk\.img is 100 bytes/.test(m)));
    fs.writeFileSync(path.join(root, 'build/disk.img'), bootSector());
    assert.deepEqual(qemuPreflight(root, config).filter((m) => /qemu\.drive/.test(m)), []);
    // the boot form may also be the user's own -drive in extraArgs
    const own = validateProjectConfig({ qemu: { extraArgs: ['-drive', 'file=x.img,format=raw'] } }).config;
    assert.ok(!qemuPreflight(root, own).some((m) => /to say what to boot/.test(m)));
    assert.ok(qemuPreflight(root, validateProjectConfig({}).config).some((m) => /qemu\.drive \(a raw disk image\)/.test(m)));
    // firmware: a missing file is named; "none" passes through; an absolute path is kept
    const bios = validateProjectConfig({ qemu: { drive: 'build/disk.img', bios: 'fw/OVMF.fd' } }).config;
    assert.ok(qemuPreflight(root, bios).includes('qemu.bios: fw/OVMF.fd does not exist (install the firmware or fix the path)'));
    assert.match(qemuArgs(root, { ...bios, qemu: { ...bios.qemu, bios: 'none' } }).join(' '), /-bios none/);
    assert.match(qemuArgs(root, { ...bios, qemu: { ...bios.qemu, bios: '/usr/share/qemu/bios.bin' } }).join(' '), /-bios \/usr\/share\/qemu\/bios\.bin/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a folder without lanescope.json: a bootable raw image in build/ is proposed as qemu.drive, a data image is not', () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-disk-guess-')));
  try {
    fs.mkdirSync(path.join(root, 'build'));
    fs.writeFileSync(path.join(root, 'build/a-data.img'), Buffer.alloc(4096));
    assert.equal(guessDefaults(root).qemu.drive, null);
    fs.writeFileSync(path.join(root, 'build/os.img'), bootSector());
    const c = guessDefaults(root);
    assert.equal(c.qemu.drive, 'build/os.img');
    assert.deepEqual(qemuPreflight(root, c).filter((m) => /qemu\.drive|to say what to boot/.test(m)), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
