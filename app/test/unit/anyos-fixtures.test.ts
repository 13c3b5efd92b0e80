/*
 * Any OS project (issue 23), through the backend as the IDE drives it, with real QEMU (TCG), real
 * gdb / gdb-multiarch and the bridge, for each fixture kernel written here (none of them LaneOS):
 *   bootdisk  a boot sector + 32-bit C kernel on a raw disk image (qemu-system-i386 -drive)
 *   mb32      a 32-bit multiboot kernel (qemu-system-i386 -kernel)
 *   rv64      a RISC-V kernel on virt under OpenSBI (qemu-system-riscv64 -kernel)
 *   a64       an aarch64 kernel on virt (qemu-system-aarch64 -kernel)
 *   rv64bare  rv64's kernel with no firmware (-bios none: M-mode from the reset vector)
 *   pvh       a 64-bit x86 kernel booted by PVH (qemu-system-x86_64 -kernel, Xen entry note)
 *   mbiso     mb32's kernel on a GRUB ISO made by grub-mkrescue (qemu-system-i386 -cdrom)
 * For each: the configuration proposed for its folder (no lanescope.json; nothing is built or run
 * by proposing) is saved unedited; Run builds it and reaches its console output; Debug stops at a
 * breakpoint in kernel.c with tick ← kmain as the call stack, the CPUs show their frame (no
 * LaneOS expression), and the user's own gdb through the bridge's port breaks, continues to a
 * breakpoint and detaches while the IDE stays attached and follows.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Events, ProjectInfo } from '../../common/contract.js';
import type { DebugStatus } from '../../common/debug.js';
import { trustProject } from '../../node/trust.js';
import { ANYOS_FIXTURES, copyFixture, fixtureLine, fixtureSkip, runGdb } from '../anyos-fixture.js';
import { driveBackend } from '../backend-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


for (const f of ANYOS_FIXTURES) {
  describe(`${f.name} (${f.boot}): proposed configuration, Run, Debug, the user's ${f.gdb} (${f.qemu})`, { skip: fixtureSkip(f), timeout: 300000 }, () => {
    it('works without editing the proposal', async () => {
      const root = copyFixture(f.name);
      const h = driveBackend(root);
      const { stateDir, call, payloads, consoleText } = h;
      const states = () => payloads('debug.state') as DebugStatus[];
      const until = (what: string, ok: () => boolean, ms: number) =>
        h.until(ok, what, ms, () => `last debug state ${JSON.stringify(states().at(-1))?.slice(0, 800)}`);
      try {
        // 1. the proposal: read from the folder only (nothing built), saved as it is
        const info = await call<ProjectInfo>('project.open');
        assert.equal(info.configIsDefault, true);
        assert.ok(!fs.existsSync(path.join(root, 'build')), 'proposing built nothing');
        assert.equal(info.config.qemu.binary, f.qemu);
        assert.equal(info.config.debug.elf, 'build/kernel.elf');
        assert.ok((info.proposalNotes ?? []).some((n) => /^build\.command: make/.test(n)), JSON.stringify(info.proposalNotes));
        await call('project.writeConfig', { config: info.config });
        trustProject(stateDir, root); // the user's answer to Run's trust question (app/node/trust.ts)

        // 2. Run: build, boot, console output
        await call('run.start');
        await until('the console output', () => f.hello.test(consoleText()), 120000);
        await call('run.stop');

        // 3. Debug: a breakpoint in kernel.c, the call stack, the CPUs
        const line = fixtureLine(f.name, 'kernel.c', /break here/);
        await call('debug.setBreakpoints', { breakpoints: [{ file: 'kernel.c', line, enabled: true }] });
        const from = states().length;
        await call('debug.run');
        const fullStops = () => states().slice(from).filter((s) => s.phase === 'stopped' && s.stop && !s.stop.partial);
        await until('the stop at the breakpoint', () => fullStops().length > 0 || states().slice(from).some((s) => s.phase === 'ended'), 180000);
        const st = fullStops()[0];
        assert.ok(st, JSON.stringify(states().at(-1)).slice(0, 800));
        assert.equal(st.gdb, f.gdb);
        assert.equal(st.features?.kernel, 'other');
        assert.equal(st.stop!.kind, 'breakpoint', st.stop!.description);
        assert.deepEqual(st.stop!.location, { file: 'kernel.c', line });
        assert.deepEqual(st.stop!.frames.slice(0, 2).map((x) => x.func), ['tick', 'kmain'], JSON.stringify(st.stop!.frames));
        assert.ok(st.stop!.cpus.length >= 1);
        for (const c of st.stop!.cpus) {
          assert.equal(c.error, undefined, JSON.stringify(c));
          assert.match(c.frame ?? '', /^tick at kernel\.c:\d+$/, JSON.stringify(c));
        }
        assert.doesNotMatch(JSON.stringify(states().slice(from)), /no member named|cpus\[|process_user_fault/);
        const regs = await call<{ name: string }[]>('debug.registers');
        assert.ok(regs.length > 8, JSON.stringify(regs));

        // 4. the user's own gdb through the bridge's port while the IDE is attached
        const { port } = await call<{ port: number }>('debug.openPort');
        let out = '';
        const rspTail = async () => {
          if (!process.env['ANYOS_RSP_LOG']) return '';
          const log = await call<{ dir: string; client: number; text: string }[]>('debug.rspLog', { limit: 300 }).catch(() => []);
          return '\n' + log.map((e) => `${e.client} ${e.dir} ${e.text}`).join('\n');
        };
        out = await runGdb(f.gdb, ['-ex', 'set pagination off', '-ex', `target remote :${port}`, '-ex', 'break tick', '-ex', 'continue', '-ex', 'print n', '-ex', 'bt', '-ex', 'continue', '-ex', 'print n', '-ex', 'detach', path.join(root, 'build/kernel.elf')]);
        assert.doesNotMatch(out, /Cannot execute this command while the target is running|too long|not being run/, out);
        assert.match(out, /Breakpoint \d+(\.\d+)?, tick \(n=(n@entry=)?\d+\)/, out);
        assert.match(out, /#1 +(0x[0-9a-f]+ in )?kmain \(\) at \S*kernel\.c:\d+/, out);
        const ns = [...out.matchAll(/^\$\d+ = (\d+)$/gm)].map((m) => Number(m[1]));
        assert.equal(ns.length, 2, out);
        assert.equal(ns[1], ns[0]! + 1, `the second continue hits the next tick: ${out}${await rspTail()}`);
        assert.match(out, /Inferior 1 \(Remote target\) detached/, out);
        // the IDE followed: stopped in tick again (and still attached), having said who ran the target.
        // (RISC-V: both gdbs step over a breakpoint by running to a temporary one; the IDE's gdb,
        // following, waits for the user's to start each run — Bridge.setFollowing — so the last
        // stop, too, is of a run the user's gdb started.)
        // (a stop the IDE re-publishes is no new stop, and the user's two runs may reach the IDE as
        // two stops: wait until a stop after the IDE's own first one, run by the user's gdb, reads
        // the n the user's gdb saw last)
        const ranByUser = (x: DebugStatus) => x.phase === 'stopped' && !!x.stop && !x.stop.partial && x.stop.stopId !== st.stop!.stopId && /run by the user's gdb \(client #\d+\)/.test(x.stop.description ?? '');
        let v: { value: string }[] = [];
        await until('the IDE to follow the user\'s gdb to its last stop', () => {
          const l = states().at(-1);
          return !!l && ranByUser(l) && l.stop!.frames[0]?.func === 'tick';
        }, 30000);
        const end = Date.now() + 30000;
        while (Date.now() < end) {
          v = await call<{ value: string }[]>('debug.evaluate', { expressions: ['n'] });
          if (Number(v[0]?.value) === ns[1] && ranByUser(states().at(-1)!)) break;
          await sleep(100);
        }
        const described = states().slice(from).map((x) => x.stop?.description ?? '');
        assert.equal(Number(v[0]?.value), ns[1], `the IDE reads the n of the user's last stop: ${JSON.stringify(v)} ${JSON.stringify(described)}${await rspTail()}`);
        const last = states().at(-1)!;
        assert.ok(ranByUser(last), JSON.stringify(described) + (await rspTail()));
        assert.equal(last.stop?.frames[0]?.func, 'tick');
      } finally {
        await h.close();
        fs.rmSync(root, { recursive: true, force: true });
      }
    });
  });
}

describe("a plain Run with qemu.gdb.enabled of a 32-bit kernel: the user's gdb reads its registers", { skip: fixtureSkip(ANYOS_FIXTURES.find((x) => x.name === 'mb32')!), timeout: 120000 }, () => {
  it('runs it under qemu-system-i386 (qemu-system-x86_64 named in lanescope.json)', async () => {
    const root = copyFixture('mb32');
    fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify({ build: { command: 'make' }, qemu: { binary: 'qemu-system-x86_64', kernel: 'build/kernel.elf', accel: 'tcg', gdb: { enabled: true } }, debug: { elf: 'build/kernel.elf' } }));
    const { request: call, events, close } = driveBackend(root, { trust: true });
    const text = (k: keyof Events) => events.filter((e) => e.event === k).map((e) => (k === 'console.data' || k === 'build.output' ? (e.payload as { data: string }).data : JSON.stringify(e.payload))).join(k === 'console.data' || k === 'build.output' ? '' : '\n');
    try {
      await call('run.start');
      const end = Date.now() + 90000;
      while (!/mb32: hello/.test(text('console.data')) && Date.now() < end) await sleep(50);
      assert.match(text('console.data'), /mb32: hello/);
      assert.match(text('build.output'), /\$ qemu-system-i386 /);
      const stub = (events.filter((e) => e.event === 'debug.state').map((e) => (e.payload as DebugStatus).stub).filter(Boolean).at(-1))!;
      assert.ok(stub, text('debug.state'));
      const out = await runGdb('gdb', ['-ex', `target remote ${stub}`, '-ex', 'info registers eip', '-ex', 'detach', path.join(root, 'build/kernel.elf')]);
      assert.doesNotMatch(out, /too long/, out);
      assert.match(out, /^eip +0x[0-9a-f]+/m, out);
    } finally {
      await close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
