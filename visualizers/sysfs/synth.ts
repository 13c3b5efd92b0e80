/*
 * synth.ts — a synthetic sysfs trace shaped like LaneOS's records (os/abi/trace.toml: sysfs_add,
 * sysfs_attr "path/attr=value", sysfs_remove, sysfs_link): the kernel's boot-time tree (kernel,
 * mm, cpus), then a PCI-like tree of `nodes` device directories under /sys/devices/pci0000:00
 * (each with vendor/device/class/irq, a /sys/bus/pci/devices symlink to it), then `changes`
 * attribute changes (CPU loads, a counter per device) spread over `spanNs`, with a few devices
 * removed and added again. Deterministic (seeded) — for the model's tests, the renderer's
 * browser test and the benchmark.
 */
import type { TraceRecordLike } from './model.js';

export interface SynthOptions {
  nodes?: number;
  changes?: number;
  cpus?: number;
  spanNs?: number;
  seed?: number;
}

export function synthSysfsTrace(o: SynthOptions = {}): TraceRecordLike[] {
  const nodes = o.nodes ?? 1000;
  const changes = o.changes ?? 10000;
  const cpus = o.cpus ?? 4;
  const span = o.spanNs ?? 10e9;
  let seed = o.seed ?? 1;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const out: TraceRecordLike[] = [];
  let ns = 1e6;
  let id = 1;
  const rec = (name: string, fields: Record<string, unknown>) => out.push({ name, ns: (ns += 1000), cpu: 0, fields });
  const add = (path: string, attrs: Record<string, string>) => {
    const node = id++;
    rec('sysfs_add', { node, path });
    for (const [k, v] of Object.entries(attrs)) rec('sysfs_attr', { node, text: `${path}/${k}=${v}` });
    return node;
  };
  add('/sys/kernel', { version: 'LaneOS 0.1.0', processes: '0', threads: '1' });
  add('/sys/kernel/mm', { total: '267907072', free: '260632576' });
  add('/sys/devices/system/cpu', { online: `0-${cpus - 1}`, count: String(cpus) });
  const cpuNodes: number[] = [];
  for (let c = 0; c < cpus; c++) cpuNodes.push(add(`/sys/devices/system/cpu/cpu${c}`, { online: '1', apic_id: String(c), load: '0' }));
  // devices: 32 per bus, buses nested under bridges every 32 functions
  const devPath: string[] = [];
  const devNode: number[] = [];
  for (let i = 0; i < nodes; i++) {
    const bus = Math.floor(i / 32);
    const slot = i % 32;
    const name = `0000:${bus.toString(16).padStart(2, '0')}:${slot.toString(16).padStart(2, '0')}.0`;
    const parent = bus === 0 ? '/sys/devices/pci0000:00' : devPath[bus - 1]!; // behind the bridge at device bus-1 (depth stays small)
    const path = `${parent}/${name}`;
    devPath.push(path);
    devNode.push(add(path, { vendor: '0x8086', device: `0x${(0x1000 + (i % 4096)).toString(16)}`, class: '0x020000', irq: String(10 + (i % 6)), count: '0' }));
    rec('sysfs_link', { node: id++, text: `/sys/bus/pci/devices/${name}->../../..${path.slice(4)}` });
  }
  const rest = span - ns;
  const step = rest / Math.max(1, changes);
  const counters = new Array<number>(nodes).fill(0);
  for (let k = 0; k < changes; k++) {
    ns += step;
    if (k % 5 === 0) {
      const c = Math.floor(rnd() * cpus);
      out.push({ name: 'sysfs_attr', ns, cpu: 0, fields: { node: cpuNodes[c], text: `/sys/devices/system/cpu/cpu${c}/load=${Math.floor(rnd() * 4096)}` } });
    } else {
      const d = Math.floor(rnd() * nodes);
      counters[d]!++;
      out.push({ name: 'sysfs_attr', ns, cpu: 0, fields: { node: devNode[d], text: `${devPath[d]}/count=${counters[d]}` } });
    }
  }
  return out;
}
