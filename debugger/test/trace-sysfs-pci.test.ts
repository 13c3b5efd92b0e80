/*
 * sysfs's owned subtrees in a real trace (what the sysfs view replays): LaneOS boots under QEMU
 * (TCG, 2 CPUs, QEMU's pc) with the trace going to ivshmem; the pci server publishes the bus and
 * `pcitests owner` makes, changes and drops a subtree of its own. The recording must show
 *   - sysfs_owner for /sys/devices/pci0000:00 and /sys/bus/pci with the pci server's pid;
 *   - every function: sysfs_add of its directory, sysfs_attr "…/vendor=0x8086", sysfs_bin of
 *     its 256-byte config and sysfs_bin_data records with its contents, sysfs_link "/sys/bus/pci/devices/NAME->../../../devices/…", and an
 *     `add` sysfs_uevent carrying the directory's node id;
 *   - /sys/pcitests: the directory, its attribute, a link, a `change` uevent, a binary
 *     attribute and its sysfs_attr_remove, then sysfs_remove of everything (same ids) when the
 *     capability is closed;
 *   - after `sysfs write /sys/kernel/trace/snapshot 1`: the owners, links and binary attributes again;
 * with no lost and no unknown events.
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

const str = (e: TraceEvent, k: string): string => String(e.fields[k]);

describe('sysfs links, binary attributes, owners and uevents in a real boot trace', { skip: missing }, () => {
  it('the pci server publishes the bus; an owned subtree comes, changes and goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-sysfs-pci-'));
    const shm = `/dev/shm/lanes-trace-sysfs-pci-${process.pid}`;
    const s = new TraceSession({ shm, out: join(dir, 'rec.ltrace'), keepEvents: true });
    try {
      const g = bootGuest({ kernel: KERNEL, initrd: INITRD, smp: 2, extra: qemuTraceArgs({ shm }) });
      const marks: TraceEvent[] = [];
      s.on('events', (evs: TraceEvent[]) => { for (const e of evs) if (e.name === 'marker') marks.push(e); });
      let con = '';
      try {
        await g.prompt(120000);
        s.start();
        for (const cmd of ['lspci -n', 'pcitests owner', 'sysfs write /sys/kernel/trace/snapshot 1']) await g.run(cmd, 120000);
        await traceSync(g, () => marks); // the drainer has sent every record made before
      } finally {
        await g.kill();
        con = g.output();
      }
      const st = await s.stop();
      writeFileSync(join(dir, 'console.txt'), con);
      assert.match(con, /test owner: ok/, 'the owner test passed in the guest');
      assert.equal(st.lost, 0, 'no lost events');
      const t = loadTrace(join(dir, 'rec.ltrace'));
      assert.equal(t.stats.unknown, 0, 'no unknown events');
      const ev = (name: string): TraceEvent[] => t.events.filter((e) => e.name === name);
      // the pci server owns its two subtrees
      const owners = ev('sysfs_owner');
      for (const p of ['/sys/devices/pci0000:00', '/sys/bus/pci']) {
        const o = owners.find((e) => str(e, 'path') === p);
        assert.ok(o && Number(o.fields['pid']) > 1, `sysfs_owner ${p} (saw ${owners.map((e) => str(e, 'path')).join(', ')})`);
      }
      // host bridge 00:00.0, as every function
      const fnPath = '/sys/devices/pci0000:00/0000:00:00.0';
      const add = ev('sysfs_add').find((e) => str(e, 'path') === fnPath);
      assert.ok(add, `sysfs_add ${fnPath}`);
      const node = add.fields['node'];
      assert.ok(ev('sysfs_attr').some((e) => e.fields['node'] === node && str(e, 'text') === `${fnPath}/vendor=0x8086`), 'vendor value');
      const bin = ev('sysfs_bin').find((e) => str(e, 'path') === `${fnPath}/config`);
      assert.ok(bin && Number(bin.fields['bytes']) === 256 && bin.fields['node'] === node, 'config: 256 bytes, binary');
      // its contents follow in sysfs_bin_data chunks ("config", NUL, bytes): the host bridge's id first
      const cfg = new Uint8Array(256);
      let filled = 0;
      for (const e of ev('sysfs_bin_data').filter((x) => x.fields['node'] === node && x.ns >= bin.ns)) {
        const d = e.fields['data'] as Uint8Array;
        const nul = d.indexOf(0);
        if (new TextDecoder().decode(d.subarray(0, nul)) !== 'config' || Number(e.fields['offset']) !== filled) continue;
        assert.equal(Number(e.fields['total']), 256);
        cfg.set(d.subarray(nul + 1), filled);
        filled += d.length - nul - 1;
        if (filled >= 256) break;
      }
      assert.equal(filled, 256, 'the whole config in sysfs_bin_data records');
      assert.deepEqual([...cfg.subarray(0, 4)], [0x86, 0x80, 0x37, 0x12], "i440FX's 8086:1237");
      const link = ev('sysfs_link').find((e) => str(e, 'text') === `/sys/bus/pci/devices/0000:00:00.0->../../../devices/pci0000:00/0000:00:00.0`);
      assert.ok(link, 'the /sys/bus/pci/devices link');
      const ue = ev('sysfs_uevent').find((e) => str(e, 'path') === fnPath);
      assert.ok(ue && Number(ue.fields['action']) === 0 && ue.fields['node'] === node && ue.ns > add.ns, 'an add uevent after the directory');
      const fns = new Set(ev('sysfs_uevent').filter((e) => Number(e.fields['action']) === 0).map((e) => str(e, 'path')));
      const listed = con.split('\n').filter((l) => /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l)).length;
      assert.equal(fns.size, listed, `an add uevent for each of the ${listed} functions lspci lists`);
      // pcitests' own subtree
      const dev0 = ev('sysfs_add').find((e) => str(e, 'path') === '/sys/pcitests/dev0');
      assert.ok(dev0, 'sysfs_add /sys/pcitests/dev0');
      assert.ok(ev('sysfs_attr').some((e) => str(e, 'text') === '/sys/pcitests/dev0/value=42'), 'its attribute');
      assert.ok(ev('sysfs_link').some((e) => str(e, 'text') === '/sys/pcitests/c->dev0'), 'its link');
      assert.ok(ev('sysfs_uevent').some((e) => str(e, 'path') === '/sys/pcitests/dev0' && Number(e.fields['action']) === 2), 'a change uevent');
      const blob = ev('sysfs_bin').find((e) => str(e, 'path') === '/sys/pcitests/dev0/blob');
      assert.ok(blob && Number(blob.fields['bytes']) === 4, 'a 4-byte binary attribute');
      const blobData = ev('sysfs_bin_data').find((e) => e.fields['node'] === blob.fields['node'] && e.ns >= blob.ns);
      assert.deepEqual([...(blobData?.fields['data'] as Uint8Array)], [...new TextEncoder().encode('blob\0'), 1, 2, 0, 3], 'and its contents');
      const rmAttr = ev('sysfs_attr_remove').find((e) => str(e, 'path') === '/sys/pcitests/dev0/blob');
      assert.ok(rmAttr && rmAttr.fields['node'] === dev0.fields['node'] && rmAttr.ns > blob.ns, 'and its removal');
      const gone = ev('sysfs_remove').find((e) => e.fields['node'] === dev0.fields['node']);
      assert.ok(gone && gone.ns > dev0.ns, 'dev0 removed with its id when the capability closed');
      // the snapshot (the last command) repeats owners, links and binary attributes
      const again = (name: string, ok: (e: TraceEvent) => boolean): boolean => ev(name).some((e) => e.ns > gone.ns && ok(e));
      assert.ok(again('sysfs_owner', (e) => str(e, 'path') === '/sys/bus/pci'), 'snapshot: owner');
      assert.ok(again('sysfs_link', (e) => e.fields['node'] === link.fields['node']), 'snapshot: link, same id');
      assert.ok(again('sysfs_bin', (e) => str(e, 'path') === `${fnPath}/config`), 'snapshot: config');
      assert.ok(!again('sysfs_add', (e) => str(e, 'path').startsWith('/sys/pcitests')), 'but not what is gone');
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n(trace and console kept in ${dir})`);
    } finally {
      rmSync(shm, { force: true });
    }
  });
});
