/*
 * The sysfs view's model (visualizers/sysfs/model.ts) on records shaped like the kernel's
 * (os/abi/trace.toml sysfs_add / sysfs_attr / sysfs_remove, with pcisysfs's sysfs_link): the tree
 * at any time, values and their history, removal, refreshes (trace/snapshot), symlinks (relative,
 * absolute, cycles), owners, search, diff, hostile input (never throws), and a 10,000-node,
 * 100,000-change trace scrubbed at bounded cost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HOPS, SysfsModel, hexdumpLines, naturalCompare, numericValue, type TraceRecordLike } from '../sysfs/model.js';
import { synthSysfsTrace } from '../sysfs/synth.js';
import { flatten, sparkline } from '../sysfs/tree.js';

const MS = 1e6;
const ev = (name: string, ms: number, fields: Record<string, unknown>): TraceRecordLike => ({ name, ns: ms * MS, cpu: 0, fields });
const add = (ms: number, node: number, path: string) => ev('sysfs_add', ms, { node: BigInt(node), path });
const attr = (ms: number, node: number, text: string) => ev('sysfs_attr', ms, { node: BigInt(node), text });
const link = (ms: number, node: number, path: string, target: string) => ev('sysfs_link', ms, { node: BigInt(node), text: `${path}->${target}` });
const rm = (ms: number, node: number, path: string) => ev('sysfs_remove', ms, { node: BigInt(node), path });

/** The kernel's boot-time tree (a subset), a driver that comes and goes, a CPU load that changes. */
function boot(): TraceRecordLike[] {
  return [
    ev('proc_create', 0, { pid: 3, parent: 1, name: 'console' }),
    ev('thread_create', 0, { tid: 7, pid: 3, home_cpu: 0, kernel: 0, name: 'console' }),
    add(1, 1, '/sys/kernel'),
    attr(1, 1, '/sys/kernel/version=LaneOS 0.1.0'),
    attr(1, 1, '/sys/kernel/processes=0'),
    add(2, 4, '/sys/devices/system/cpu'),
    attr(2, 4, '/sys/devices/system/cpu/online=0-1'),
    add(2, 5, '/sys/devices/system/cpu/cpu0'),
    attr(2, 5, '/sys/devices/system/cpu/cpu0/load=0'),
    add(2, 6, '/sys/devices/system/cpu/cpu1'),
    attr(2, 6, '/sys/devices/system/cpu/cpu1/load=0'),
    add(10, 13, '/sys/drivers/console.3'),
    attr(10, 13, '/sys/drivers/console.3/pid=3'),
    attr(10, 13, '/sys/drivers/console.3/name=console'),
    attr(20, 5, '/sys/devices/system/cpu/cpu0/load=512'),
    attr(30, 5, '/sys/devices/system/cpu/cpu0/load=1024'),
    attr(30, 1, '/sys/kernel/processes=1'),
    rm(40, 13, '/sys/drivers/console.3'),
  ];
}

const names = (m: SysfsModel, ids: number[]) => ids.map((e) => m.entries[e]!.name);

test('the tree at a time: nodes, implicit directories, attributes with their values then', () => {
  const m = new SysfsModel();
  assert.equal(m.addAll(boot()), boot().length);
  assert.equal(m.bad, 0);
  const sys = m.find('/sys');
  assert.deepEqual(names(m, m.childrenAt(m.root)), ['sys']);
  assert.deepEqual(names(m, m.childrenAt(sys, 15 * MS)), ['devices', 'drivers', 'kernel']);
  assert.deepEqual(names(m, m.childrenAt(sys, 5 * MS)), ['devices', 'kernel'], 'the driver is not there yet at 5 ms');
  assert.deepEqual(names(m, m.childrenAt(sys)), ['devices', 'kernel'], 'nor after it was removed');
  assert.deepEqual(names(m, m.childrenAt(sys, 0.5 * MS)), [], 'before boot: nothing');
  const cpu = m.find('/sys/devices/system/cpu');
  assert.deepEqual(names(m, m.childrenAt(cpu)), ['cpu0', 'cpu1', 'online'], 'directories first, then attributes');
  const load = m.find('/sys/devices/system/cpu/cpu0/load');
  assert.equal(m.value(load, 15 * MS), '0');
  assert.equal(m.value(load, 25 * MS), '512');
  assert.equal(m.value(load), '1024');
  assert.equal(m.value(load, 1 * MS), undefined, 'not there before its node');
  assert.equal(m.exists(m.find('/sys/drivers/console.3/name'), 15 * MS), true);
  assert.equal(m.exists(m.find('/sys/drivers/console.3/name')), false, 'attributes go with their node');
  assert.equal(m.exists(m.find('/sys/drivers')), false, 'an implicit directory goes when nothing below it is left');
  assert.deepEqual(m.counts(15 * MS), { dirs: 9, attrs: 7, links: 0 });
});

test('history of a value (for the sparkline): numbers parsed, the value in force at the window start', () => {
  const m = new SysfsModel();
  m.addAll(boot());
  const load = m.find('/sys/devices/system/cpu/cpu0/load');
  assert.deepEqual(m.history(load), { ns: [2 * MS, 20 * MS, 30 * MS], value: [0, 512, 1024], text: ['0', '512', '1024'] });
  assert.deepEqual(m.history(load, 25 * MS).value, [512, 1024], 'starts with the value in force at 25 ms');
  assert.deepEqual([numericValue('0x1f'), numericValue(' 12\n'), numericValue('0-3')], [31, 12, NaN]);
});

test('a repeated add of a known node (trace/snapshot) is a refresh; an identical value is no change', () => {
  const m = new SysfsModel();
  m.addAll(boot());
  const before = m.logNs.length;
  m.addAll([add(50, 5, '/sys/devices/system/cpu/cpu0'), attr(50, 5, '/sys/devices/system/cpu/cpu0/load=1024')]);
  assert.equal(m.logNs.length, before, 'nothing changed');
  assert.equal(m.history(m.find('/sys/devices/system/cpu/cpu0/load')).ns.length, 3);
});

test('diff between two times: appeared, vanished, changed (either direction)', () => {
  const m = new SysfsModel();
  m.addAll(boot());
  const p = (ids: number[]) => ids.map((e) => m.entries[e]!.path).sort();
  const d = m.diff(5 * MS, 35 * MS);
  assert.deepEqual(p(d.appeared), ['/sys/drivers', '/sys/drivers/console.3', '/sys/drivers/console.3/name', '/sys/drivers/console.3/pid']);
  assert.deepEqual(p(d.changed), ['/sys/devices/system/cpu/cpu0/load', '/sys/kernel/processes']);
  assert.deepEqual(d.vanished, []);
  const back = m.diff(35 * MS, 5 * MS);
  assert.deepEqual(p(back.vanished), p(d.appeared), 'scrubbing back: what appeared vanishes');
  const gone = m.diff(35 * MS, 45 * MS);
  assert.equal(gone.vanished.length, 4);
  assert.deepEqual(m.diff(20 * MS, 20 * MS), { appeared: [], vanished: [], changed: [] });
});

test('owners: a node\'s pid attribute, an explicit owner record, nearest ancestor wins; process names', () => {
  const m = new SysfsModel();
  m.addAll(boot());
  const name = m.find('/sys/drivers/console.3/name');
  assert.deepEqual(m.ownerAt(name, 15 * MS), { pid: 3, dir: m.find('/sys/drivers/console.3') });
  assert.equal(m.ownerAt(name).pid, -1, 'no owner once removed');
  assert.equal(m.procName(3), 'console');
  assert.deepEqual(m.procThreads.get(3), [7]);
  m.addAll([add(50, 30, '/sys/devices/pci0000:00/0000:00:01.0'), ev('sysfs_owner', 50, { node: 29n, pid: 9, reserved: 0, path: '/sys/devices/pci0000:00' })]);
  assert.equal(m.ownerAt(m.find('/sys/devices/pci0000:00/0000:00:01.0')).pid, 9);
  assert.equal(m.ownerAt(m.find('/sys/devices/system/cpu')).pid, -1);
});

test('symlinks: relative and absolute targets resolve, dangling and cyclic ones say why', () => {
  const m = new SysfsModel();
  m.addAll([
    add(1, 1, '/sys/devices/pci0000:00/0000:00:1f.2'),
    attr(1, 1, '/sys/devices/pci0000:00/0000:00:1f.2/vendor=0x8086'),
    link(2, 100, '/sys/bus/pci/devices/0000:00:1f.2', '../../../devices/pci0000:00/0000:00:1f.2'),
    link(2, 101, '/sys/class/abs', '/sys/devices/pci0000:00'),
    link(3, 102, '/sys/loop/a', 'b'),
    link(3, 103, '/sys/loop/b', '../loop/a'),
    link(3, 104, '/sys/dangling', 'nowhere/x'),
    ev('sysfs_bin', 3, { node: 1n, bytes: 256n, path: '/sys/devices/pci0000:00/0000:00:1f.2/config' }),
    ev('sysfs_uevent', 3, { node: 1n, action: 0, seqnum: 7, path: '/sys/devices/pci0000:00/0000:00:1f.2' }),
  ]);
  assert.equal(m.bad, 0, m.problems.join('; '));
  const dev = m.find('/sys/devices/pci0000:00/0000:00:1f.2');
  assert.equal(m.resolve('/sys/bus/pci/devices/0000:00:1f.2').entry, dev);
  assert.equal(m.resolve('/sys/bus/pci/devices/0000:00:1f.2/vendor').entry, m.find('/sys/devices/pci0000:00/0000:00:1f.2/vendor'));
  assert.equal(m.resolve('/sys/class/abs/0000:00:1f.2').entry, dev);
  assert.equal(m.resolve('/sys/bus/pci/devices/0000:00:1f.2', Infinity, false).entry, m.find('/sys/bus/pci/devices/0000:00:1f.2'), 'the link itself');
  const loop = m.resolve('/sys/loop/a');
  assert.equal(loop.entry, -1);
  assert.match(loop.error!, /too many levels of symbolic links/);
  assert.equal(loop.hops, MAX_HOPS + 1);
  assert.match(m.resolve('/sys/dangling').error!, /no such file or directory/);
  assert.equal(m.resolve('/sys/bus/pci/devices/0000:00:1f.2', 1.5 * MS).entry, -1, 'the link is not there yet');
  assert.deepEqual(m.counts().links, 5);
  m.add(rm(4, 101, '/sys/class/abs'));
  assert.equal(m.exists(m.find('/sys/class')), false, 'the directory only held the link');
  assert.equal(m.exists(m.find('/sys/class'), 3.5 * MS), true);
  const cfg = m.find('/sys/devices/pci0000:00/0000:00:1f.2/config');
  assert.equal(m.value(cfg), '256 bytes (binary)');
  assert.equal(m.entries[cfg]!.binary, true);
  assert.deepEqual(m.uevents, [{ ns: 3 * MS, action: 'add', seqnum: 7, path: '/sys/devices/pci0000:00/0000:00:1f.2' }]);
  m.add(ev('sysfs_attr_remove', 5, { node: 1n, path: '/sys/devices/pci0000:00/0000:00:1f.2/config' }));
  assert.equal(m.exists(cfg), false);
  assert.equal(m.exists(cfg, 4 * MS), true);
  assert.equal(m.exists(m.find('/sys/devices/pci0000:00/0000:00:1f.2')), true, 'its directory stays');
});

/** sysfs_bin_data records as the kernel writes them: name, NUL, then chunks of at most 232 - name - 1 bytes. */
function binData(ms: number, node: number, name: string, bytes: Uint8Array, recorded = Math.min(bytes.length, 4096)): TraceRecordLike[] {
  const out: TraceRecordLike[] = [];
  const head = new TextEncoder().encode(name + '\0');
  const room = 232 - head.length;
  for (let off = 0; off < recorded; off += room) {
    const chunk = bytes.subarray(off, Math.min(recorded, off + room));
    const data = new Uint8Array(head.length + chunk.length);
    data.set(head);
    data.set(chunk, head.length);
    out.push(ev('sysfs_bin_data', ms, { node: BigInt(node), offset: off, total: bytes.length, data }));
  }
  return out;
}

test('binary contents (sysfs_bin_data): assembled from chunks, the contents at any moment, hexdump', () => {
  const m = new SysfsModel();
  const dir = '/sys/devices/pci0000:00/0000:01:00.0';
  const v1 = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
  const v2 = v1.slice();
  v2[6] = 0x10;                       // a status bit changes; same size
  const big = new Uint8Array(5000).fill(0xab);
  m.addAll([
    add(1, 1, dir),
    ev('sysfs_bin', 2, { node: 1n, bytes: 4096n, path: `${dir}/config` }),
    ...binData(2, 1, 'config', v1),
    ev('sysfs_bin', 5, { node: 1n, bytes: 4096n, path: `${dir}/config` }),
    ...binData(5, 1, 'config', v2),
    ev('sysfs_bin', 6, { node: 1n, bytes: 5000n, path: `${dir}/rom` }),
    ...binData(6, 1, 'rom', big),
  ]);
  assert.equal(m.bad, 0, m.problems.join('; '));
  const cfg = m.find(`${dir}/config`);
  assert.equal(m.binaryAt(cfg, 1.5 * MS), undefined, 'not there yet');
  assert.deepEqual(m.binaryAt(cfg, 3 * MS), v1, 'as it was at 3 ms');
  assert.deepEqual(m.binaryAt(cfg), v2, 'the change of one byte is a change');
  assert.equal(m.value(cfg), '4096 bytes (binary)');
  assert.deepEqual(m.diff(3 * MS, 6 * MS).changed.includes(cfg), true, 'same size, new contents: changed');
  assert.equal(m.binaryAt(m.find(`${dir}/rom`))!.length, 4096, 'the kernel records the first 4096 bytes');
  const lines = hexdumpLines(v1.subarray(0, 32));
  assert.deepEqual(lines, [
    '00: 00 07 0e 15 1c 23 2a 31 38 3f 46 4d 54 5b 62 69  .....#*18?FMT[bi',
    '10: 70 77 7e 85 8c 93 9a a1 a8 af b6 bd c4 cb d2 d9  pw~.............',
  ]);
  assert.equal(hexdumpLines(v1).length, 256);
  assert.match(hexdumpLines(v1)[255]!, /^ff0: /);
  // a chunk out of sequence, data without a name or for an unknown node: counted, never thrown
  const bad = new SysfsModel();
  bad.addAll([add(1, 1, dir), ev('sysfs_bin', 2, { node: 1n, bytes: 256n, path: `${dir}/config` })]);
  const chunks = binData(2, 1, 'config', new Uint8Array(256));
  bad.add(chunks[1]!);
  bad.add(ev('sysfs_bin_data', 2, { node: 1n, offset: 0, total: 256, data: new Uint8Array([1, 2]) }));
  bad.add(ev('sysfs_bin_data', 2, { node: 9n, offset: 0, total: 256, data: chunks[0]!.fields['data'] }));
  bad.add(ev('sysfs_bin_data', 2, { node: 1n, offset: 0, total: 256, data: 'text' }));
  assert.equal(bad.bad, 4);
  assert.equal(bad.binaryAt(bad.find(`${dir}/config`)), undefined, 'incomplete contents are not shown');
});

test('search by path prefix, by name and by value, at a time', () => {
  const m = new SysfsModel();
  m.addAll(boot());
  const p = (ids: number[]) => ids.map((e) => m.entries[e]!.path);
  assert.deepEqual(p(m.search('/sys/devices/system/cpu/cpu1')), ['/sys/devices/system/cpu/cpu1', '/sys/devices/system/cpu/cpu1/load']);
  assert.deepEqual(p(m.search('console', 15 * MS)), ['/sys/drivers/console.3', '/sys/drivers/console.3/pid', '/sys/drivers/console.3/name']);
  assert.deepEqual(p(m.search('console')), [], 'gone now');
  assert.deepEqual(p(m.search('1024')), ['/sys/devices/system/cpu/cpu0/load'], 'by value');
  assert.deepEqual(m.search('   '), []);
});

test('hostile input: malformed, missing, out of order and late-attach records never throw', () => {
  const m = new SysfsModel();
  const junk: unknown[] = [
    null,
    {},
    { name: 'sysfs_add', ns: 1, fields: {} },
    { name: 'sysfs_add', ns: 1, fields: { node: 1, path: 'relative/path' } },
    { name: 'sysfs_add', ns: 1, fields: { node: 1, path: '/sys/../etc' } },
    { name: 'sysfs_attr', ns: 1, fields: { node: 1, text: 'no equals sign' } },
    { name: 'sysfs_attr', ns: 1, fields: { node: 1, text: '/x=1' } },
    { name: 'sysfs_attr', ns: 1, fields: { node: 1, text: 42 } },
    { name: 'sysfs_remove', ns: 1, fields: { node: 99, path: '/sys/nothing' } },
    { name: 'sysfs_link', ns: 1, fields: { node: 5, text: 7 } },
    { name: 'sysfs_link', ns: 1, fields: { node: 5, text: '/sys/a-b' } },
    { name: 'sysfs_link', ns: 1, fields: { node: 5, text: '/sys/a->' } },
    { name: 'sysfs_attr_remove', ns: 1, fields: { node: 5, path: '/sys/not-an-attr' } },
    { name: 'sysfs_bin', ns: 1, fields: { node: 5, path: 'x' } },
    { name: 'sysfs_owner', ns: 1, fields: { node: 5, path: '/sys/x' } },
    { name: 'sysfs_add', ns: 1, fields: null },
    { name: 'proc_create', ns: 1, fields: { name: 'x' } },
  ];
  for (const j of junk) assert.equal(m.add(j as TraceRecordLike), false);
  assert.equal(m.bad, junk.length);
  assert.ok(m.problems.some((p) => /bad path "relative\/path"/.test(p)), m.problems.join('; '));
  // an attribute whose node was never added (the reader attached late): the node is made
  assert.equal(m.add(attr(5, 77, '/sys/kernel/mm/free=100')), true);
  assert.equal(m.exists(m.find('/sys/kernel/mm')), true);
  // a path that is an attribute cannot become a directory
  assert.equal(m.add(add(6, 78, '/sys/kernel/mm/free')), false);
  assert.match(m.problems.at(-1)!, /not a directory/);
  // out of order: a value older than the newest goes into the past, the newest stands
  m.add(attr(9, 77, '/sys/kernel/mm/free=90'));
  m.add(attr(7, 77, '/sys/kernel/mm/free=95'));
  const free = m.find('/sys/kernel/mm/free');
  assert.deepEqual(m.history(free).value, [100, 95, 90]);
  assert.equal(m.value(free), '90');
  // an add older than the tree's first record: the directory's count stays consistent
  m.add(add(2, 80, '/sys/kernel/early'));
  assert.equal(m.exists(m.find('/sys/kernel'), 3 * MS), true, 'kernel exists from 2 ms (the early node)');
  assert.equal(m.exists(m.find('/sys/kernel/mm'), 3 * MS), false);
  // a record without a clock takes the previous time
  assert.equal(m.add({ name: 'sysfs_attr', ns: NaN, fields: { node: 77n, text: '/sys/kernel/mm/free=80' } }), true);
  assert.equal(m.history(free).ns.at(-1), 9 * MS);
  // a node id reused at another path: the old node is gone
  m.add(add(10, 77, '/sys/kernel/other'));
  assert.equal(m.exists(m.find('/sys/kernel/mm')), false);
  assert.equal(m.exists(m.find('/sys/kernel/other')), true);
  // unrelated records are ignored, not counted as bad
  const bad = m.bad;
  assert.equal(m.add(ev('ctx_switch', 11, { prev: 1, next: 2 })), false);
  assert.equal(m.bad, bad);
  assert.deepEqual([naturalCompare('cpu2', 'cpu10'), naturalCompare('a', 'a')], [-8, 0]);
  assert.deepEqual(['0000:00:1c.0', '0000:00:02.0', '0000:00:01.0', '0000:00:1f.2'].sort(naturalCompare), ['0000:00:01.0', '0000:00:02.0', '0000:00:1c.0', '0000:00:1f.2']);
});

test('rows of the tree (lazily expanded, ghosts while they fade) and the sparkline geometry', () => {
  const m = new SysfsModel();
  m.addAll(boot());
  const p = (rows: { entry: number; depth: number; ghost: boolean }[]) => rows.map((r) => `${'  '.repeat(r.depth)}${m.entries[r.entry]!.name || '/'}${r.ghost ? ' (ghost)' : ''}`);
  const sys = m.find('/sys');
  assert.deepEqual(p(flatten(m, m.root, new Set([m.root]), 15 * MS)), ['/', '  sys']);
  const drivers = m.find('/sys/drivers');
  assert.deepEqual(p(flatten(m, m.root, new Set([m.root, sys, drivers]), 15 * MS)), ['/', '  sys', '    devices', '    drivers', '      console.3', '    kernel']);
  assert.deepEqual(p(flatten(m, m.root, new Set([m.root, sys]), 45 * MS, new Set([drivers]))), ['/', '  sys', '    devices', '    drivers (ghost)', '    kernel']);
  const load = m.find('/sys/devices/system/cpu/cpu0/load');
  const sp = sparkline(m, load, 0, 40 * MS, 400, 50, 25 * MS);
  assert.equal(sp.samples, 3);
  assert.deepEqual([sp.min, sp.max, sp.cursorX], [0, 1024, 250]);
  assert.deepEqual(sp.points.slice(0, 4), [20, 48, 200, 48], 'a step: 0 from 2 ms to 20 ms');
  assert.deepEqual(sp.points.slice(-2), [400, 2], 'the last value holds to the end');
});

test('10,000 nodes and 100,000 changes: built fast, any moment read in bounded work', () => {
  const trace = synthSysfsTrace({ nodes: 10000, changes: 100000 });
  const m = new SysfsModel();
  let t = performance.now();
  m.addAll(trace);
  const buildMs = performance.now() - t;
  assert.equal(m.bad, 0, m.problems.join('; '));
  assert.equal(m.counts().dirs >= 10000, true);
  // scrub across the whole trace: the first bus (32 devices) and each one's attributes at 200 moments
  const bus0 = m.find('/sys/devices/pci0000:00');
  t = performance.now();
  let rows = 0;
  for (let k = 0; k < 200; k++) {
    const at = m.t0 + ((m.t1 - m.t0) * k) / 199;
    for (const d of m.childrenAt(bus0, at)) {
      rows++;
      for (const a of m.childrenAt(d, at)) if (m.entries[a]!.kind === 'attr') m.value(a, at);
    }
  }
  const scrubMs = (performance.now() - t) / 200;
  t = performance.now();
  const d = m.diff(m.t0 + (m.t1 - m.t0) * 0.5, m.t0 + (m.t1 - m.t0) * 0.51);
  const diffMs = performance.now() - t;
  console.log(`# 10k nodes / 100k changes: build ${buildMs.toFixed(0)} ms, scrub ${scrubMs.toFixed(2)} ms per moment (${rows / 200} rows), diff of 1 % ${diffMs.toFixed(2)} ms (${d.changed.length} changed)`);
  assert.ok(rows > 0);
  assert.ok(d.changed.length > 500 && d.changed.length < 1500, `about 1 % of 100k changes: ${d.changed.length}`);
  // before the devices were added, the bus is not there
  assert.equal(m.exists(bus0, m.t0), false);
});
