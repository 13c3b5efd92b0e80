/*
 * The kernel's sysfs in a real trace: LaneOS boots under QEMU (TCG, 2 CPUs) with the trace going
 * to ivshmem shared memory (read from power-on: the kernel keeps what the host has not read yet;
 * COM2 at 115200 baud can lag seconds behind a busy boot), the shell runs the driver-node test
 * of sysfstests and sysfs writes, and the recording must show
 *   - the boot-time tree: sysfs_add for /sys/kernel, /sys/kernel/trace and every CPU's node,
 *     each followed by its attribute values (sysfs_attr "path/attr=value");
 *   - the load average as sysfs_attr "/sys/devices/system/cpu/cpuN/load=V", rate-limited
 *     (at most one per CPU per 0.5 s after the first);
 *   - a driver node /sys/drivers/sysfstests.PID added when the process got its I/O-port and IRQ
 *     capabilities and removed (same node id) when it died;
 *   - the write "/sys/kernel/loglevel=debug";
 *   - after `sysfs write /sys/kernel/trace/snapshot 1`, the whole tree again (same node ids);
 * with no lost events and no unknown events.
 * Kernel/initrd: os/build (make -C os), or LANES_TRACE_KERNEL / LANES_TRACE_INITRD.
 */
import assert from 'node:assert/strict';
import { bootGuest, traceSync } from './guest.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadTrace, qemuTraceArgs, TraceSession } from '../node/trace/session.js';
import type { TraceEvent } from '../common/trace/records.js';

const ROOT = resolve(process.env['LANESCOPE_ROOT'] ?? '.');
const KERNEL = process.env['LANES_TRACE_KERNEL'] ?? join(ROOT, 'os/build/kernel/lanes32.elf');
const INITRD = process.env['LANES_TRACE_INITRD'] ?? join(ROOT, 'os/build/initrd.tar');
const missing = !existsSync(KERNEL) || !existsSync(INITRD) ? `no kernel/initrd at ${KERNEL} (run make -C os)` : false;

/** Boots, runs each command to its next prompt, waits for the trace (trace sync), stops QEMU; returns the console text. */
async function boot(shm: string, session: TraceSession, commands: string[]): Promise<string> {
  const g = bootGuest({ kernel: KERNEL, initrd: INITRD, smp: 2, extra: qemuTraceArgs({ shm }) });
  const marks: TraceEvent[] = [];
  session.on('events', (evs: TraceEvent[]) => { for (const e of evs) if (e.name === 'marker') marks.push(e); });
  try {
    await g.prompt(120000);
    session.start();
    for (const cmd of commands) await g.run(cmd, 120000);
    await traceSync(g, () => marks); // the drainer has sent every record made before
  } finally {
    await g.kill();
  }
  return g.output();
}

const str = (e: TraceEvent, k: string): string => String(e.fields[k]);

describe('sysfs events in a real boot trace', { skip: missing }, () => {
  it('boot-time tree, load changes (rate-limited), a driver node that comes and goes, a write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-sysfs-'));
    const shm = `/dev/shm/lanes-trace-sysfs-${process.pid}`;
    const s = new TraceSession({ shm, out: join(dir, 'rec.ltrace'), keepEvents: true });
    try {
      const con = await boot(shm, s, ['sysfstests sysfs-driver-node', 'sysfs write /sys/kernel/loglevel debug', 'sysfs write /sys/kernel/trace/snapshot 1']);
      const st = await s.stop();
      writeFileSync(join(dir, 'console.txt'), con);
      assert.match(con, /test sysfs-driver-node: ok/, 'the driver-node test passed in the guest');
      assert.equal(st.lost, 0, 'no lost events');
      assert.equal(st.shmLost, 0, 'nothing dropped in shared memory');
      const t = loadTrace(join(dir, 'rec.ltrace'));
      assert.equal(t.stats.unknown, 0, 'no unknown events');
      assert.equal(t.stats.lost, 0);
      const adds = t.events.filter((e) => e.name === 'sysfs_add');
      const removes = t.events.filter((e) => e.name === 'sysfs_remove');
      const attrs = t.events.filter((e) => e.name === 'sysfs_attr');
      const added = adds.map((e) => str(e, 'path'));
      for (const p of ['/sys/kernel', '/sys/kernel/trace', '/sys/kernel/mm', '/sys/devices/system/cpu', '/sys/devices/system/cpu/cpu0', '/sys/devices/system/cpu/cpu1'])
        assert.ok(added.includes(p), `sysfs_add ${p} (saw ${added.join(', ')})`);
      // every boot-time node's attributes follow it, with its node id
      const cpu1 = adds.find((e) => str(e, 'path') === '/sys/devices/system/cpu/cpu1')!;
      const cpu1Attrs = attrs.filter((e) => e.fields['node'] === cpu1.fields['node']).map((e) => str(e, 'text'));
      assert.ok(cpu1Attrs.includes('/sys/devices/system/cpu/cpu1/online=1'), `cpu1 attributes: ${cpu1Attrs.slice(0, 8).join(' ')}`);
      assert.ok(attrs.some((e) => /^\/sys\/kernel\/version=LaneOS /.test(str(e, 'text'))), 'kernel/version value');
      // load: the sampler's first value for each CPU, then only meaningful changes, rate-limited
      // (until the snapshot below, which repeats every value once)
      const write = attrs.find((e) => str(e, 'text') === '/sys/kernel/loglevel=debug');
      assert.ok(write, 'the loglevel write');
      const writeNs: number = write.ns;
      for (const cpu of [0, 1]) {
        const re = new RegExp(`^/sys/devices/system/cpu/cpu${cpu}/load=(\\d+)$`);
        const loads: TraceEvent[] = attrs.filter((e) => re.test(str(e, 'text')) && e.ns < writeNs);
        assert.ok(loads.length >= 2, `cpu${cpu}: the boot-time value and a sampled load (${loads.length} load events)`);
        // 1024 = one always-runnable thread; a CPU shared by runnable threads (the pci server's
        // bus walk beside another service at boot) reads more (kernel README: it can exceed 1024)
        for (const e of loads) assert.ok(Number(re.exec(str(e, 'text'))![1]) <= 8 * 1024, `cpu${cpu}: ${str(e, 'text')}`);
        const sampled = loads.slice(1); // after the boot-time value
        for (let i = 2; i < sampled.length; i++)
          assert.ok(sampled[i]!.ns - sampled[i - 1]!.ns >= 0.49e9, `cpu${cpu}: load events ${((sampled[i]!.ns - sampled[i - 1]!.ns) / 1e6).toFixed(0)} ms apart`);
      }
      // the driver node of the sysfstests child: added, attributes, removed with the same id
      const drv = adds.find((e) => /^\/sys\/drivers\/sysfstests\.\d+$/.test(str(e, 'path')));
      assert.ok(drv, `a /sys/drivers/sysfstests.PID node was added (saw ${added.join(', ')})`);
      const path = str(drv, 'path');
      assert.ok(attrs.some((e) => str(e, 'text') === `${path}/ioports=0x70-0x71`), 'its ioports');
      assert.ok(attrs.some((e) => str(e, 'text') === `${path}/irqs=10`), 'its irqs');
      const gone = removes.find((e) => e.fields['node'] === drv.fields['node']);
      assert.ok(gone && str(gone, 'path') === path && gone.ns > drv.ns, `${path} removed after it was added`);
      const pid = Number(path.split('.').at(-1));
      const exit = t.events.find((e) => e.name === 'proc_exit' && e.fields['pid'] === pid);
      assert.ok(exit && exit.ns <= gone.ns, 'removed when its process ended');
      // cmos-rtc (a real driver from its manifest) also came and went
      const rtc = adds.find((e) => /^\/sys\/drivers\/cmos-rtc\.\d+$/.test(str(e, 'path')));
      assert.ok(rtc && removes.some((e) => e.fields['node'] === rtc.fields['node']), 'cmos-rtc node added and removed');
      // the snapshot: every live node added again with its id, after the write
      const again = adds.filter((e) => e.ns > writeNs);
      for (const p of ['/sys/kernel', '/sys/devices/system/cpu/cpu0', '/sys/devices/system/cpu/cpu1']) {
        const a = again.find((e) => str(e, 'path') === p);
        assert.ok(a && a.fields['node'] === adds.find((e) => str(e, 'path') === p)!.fields['node'], `snapshot re-adds ${p} with its id`);
      }
      assert.ok(!again.some((e) => str(e, 'path') === path), 'but not the driver node that is gone');
      assert.ok(attrs.some((e) => e.ns > writeNs && /^\/sys\/kernel\/loglevel=debug$/.test(str(e, 'text'))), 'with current values');
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n(trace and console kept in ${dir})`);
    } finally {
      rmSync(shm, { force: true });
    }
  });
});
