/*
 * The sysfs view's data path from a saved trace: the synthetic sysfs trace (visualizers/sysfs/
 * synth.ts, the kernel's boot tree + PCI-shaped devices + links + value changes) encoded record by
 * record with debugger/common/trace/encode.ts (u64 node ids, str fields, the real schema),
 * decoded by the renderer's TraceTable in odd-sized chunks (records cut in half, CPUs merged),
 * fed to a SysfsModel — the same tree, values and history as feeding the records directly; and
 * the kernel's own text format (sysfs_link "path->target", uevent action numbers) decoded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DefTable } from '../../../debugger/common/trace/defs.js';
import { concat, encodeRecord } from '../../../debugger/common/trace/encode.js';
import { makeHeader } from '../../../debugger/common/trace/flight.js';
import type { FieldValue } from '../../../debugger/common/trace/records.js';
import { SysfsModel, type TraceRecordLike } from '../../../visualizers/sysfs/model.js';
import { synthSysfsTrace } from '../../../visualizers/sysfs/synth.js';
import { TraceTable } from '../../browser/trace/table.js';

const defs = new DefTable();

function encode(records: TraceRecordLike[]): Uint8Array {
  const parts: Uint8Array[] = [makeHeader(1_000_000_000n, 0n, 2)];
  let seq = 1;
  for (const r of records) {
    const fields: Record<string, FieldValue> = {};
    for (const [k, v] of Object.entries(r.fields)) fields[k] = typeof v === 'number' && (k === 'node' || k === 'bytes') ? BigInt(v) : (v as FieldValue);
    parts.push(encodeRecord(defs, r.name, { cpu: seq % 2, tsc: Math.round(r.ns), seq: seq++ }, fields));
  }
  return concat(parts);
}

test('saved trace: encoded sysfs records → trace table (chunked) → model = the records fed directly', () => {
  const recs = synthSysfsTrace({ nodes: 200, changes: 2000 });
  recs.push({ name: 'sysfs_uevent', ns: recs.at(-1)!.ns + 1, fields: { node: 8, action: 0, seqnum: 3, path: '/sys/devices/pci0000:00/0000:00:03.0' } });
  recs.push({ name: 'sysfs_owner', ns: recs.at(-1)!.ns + 1, fields: { node: 9, pid: 5, reserved: 0, path: '/sys/devices/pci0000:00' } });
  recs.push({ name: 'proc_create', ns: recs.at(-1)!.ns + 1, fields: { pid: 5, parent: 1, name: 'pci' } });
  const direct = new SysfsModel();
  direct.addAll(recs);
  assert.equal(direct.bad, 0, direct.problems.join('; '));

  const bytes = encode(recs);
  const table = new TraceTable();
  for (let off = 0; off < bytes.length; off += 3001) table.push(bytes.subarray(off, off + 3001));
  table.finish();
  assert.equal(table.decoder.stats.corruptBytes, 0);
  const model = new SysfsModel();
  model.addAll(table.rows());
  assert.equal(model.bad, 0, model.problems.join('; '));
  assert.equal(model.used, direct.used);
  assert.deepEqual(model.counts(), direct.counts());
  for (const at of [0.1, 0.5, 0.9].map((f) => direct.t0 + (direct.t1 - direct.t0) * f)) assert.deepEqual(model.counts(at), direct.counts(at));
  const load = '/sys/devices/system/cpu/cpu1/load';
  const h = (m: SysfsModel) => {
    const x = m.history(m.find(load));
    return { ...x, ns: x.ns.map((n) => Math.round(n)) }; // ticks → ns in floating point
  };
  assert.deepEqual(h(model), h(direct));
  const link = model.resolve('/sys/bus/pci/devices/0000:01:02.0');
  assert.equal(model.entries[link.entry]?.path, '/sys/devices/pci0000:00/0000:00:00.0/0000:01:02.0');
  assert.deepEqual(model.uevents.map((u) => [u.action, u.seqnum]), [['add', 3]]);
  assert.deepEqual(model.ownerAt(model.find('/sys/devices/pci0000:00/0000:00:03.0')), { pid: 5, dir: model.find('/sys/devices/pci0000:00') });
  assert.equal(model.procName(5), 'pci');
});
