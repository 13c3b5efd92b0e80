/*
 * model.ts — the sysfs view's model: the trace's sysfs records → the /sys tree as it was at any
 * moment of the Run, with every attribute's value and history, symlinks, owners, search and the
 * difference between two moments. Pure (no DOM): view.ts draws it.
 *
 * Input is any object shaped like debugger/common/trace's TraceEvent (name, ns, fields named as
 * in os/abi/trace.toml) — visualizers/ never imports debugger/. Used records:
 *   sysfs_add {node, path}       a node (directory) appears; a repeated add of a node id the
 *                                model knows is a refresh (trace/snapshot re-emits the tree)
 *   sysfs_remove {node, path}    the node and its attributes vanish (directories between the root
 *                                and a node exist while anything below them does, as in the kernel)
 *   sysfs_attr {node, text}      text is "path/attr=value": a value (the first after an add, or a
 *                                change); an attr of a node never added creates it (late attach)
 *   sysfs_link {node, text}      text is "path->target" (as readlink gives it, relative): a
 *                                symlink, a node of its own (sysfs_remove with its id removes it)
 *   sysfs_bin {node, bytes, path}   a binary attribute (`config`): its size stands for its value
 *   sysfs_bin_data {node, offset, total, data}  its contents after it, in chunks (data: the
 *                                attribute's name, a NUL, the bytes at offset; the kernel records
 *                                the first 4096): once every chunk is there they are its contents
 *                                from that moment (binaryAt; the view's hexdump)
 *   sysfs_attr_remove {node, path}  one attribute removed while its directory stays
 *   sysfs_owner {node, pid, path}   the server owning a subtree; without it a node's own `pid`
 *                                attribute names its process (/sys/drivers/NAME.PID, threads/TID)
 *   sysfs_uevent {node, action, seqnum, path}  kept as a list (add/remove/change/bind/unbind)
 *   proc_create, thread_create   process names and threads (for owner links)
 *
 * Index (what makes scrubbing cheap): every path ever seen is an Entry in a trie (interned once);
 * each entry has its own time-ordered change list — for an attribute or link its value (an
 * index into an interned string table, -1: absent), for a directory the number of live nodes
 * and links in its subtree (it exists while that is > 0). The tree at time t is then read
 * lazily: a directory's children at t cost one binary search each, whatever t is — no replay.
 * A global change log (time, entry) answers diff(t0, t1) by scanning only the changes between
 * the two moments (live flashing, animations). Records out of time order are inserted in
 * place; records without a usable time take the previous record's. Malformed records are
 * counted (`bad`, with the last reasons in `problems`) and skipped — add() never throws.
 */

export interface TraceRecordLike {
  readonly name: string;
  readonly ns: number;
  readonly cpu?: number;
  readonly fields: Record<string, unknown>;
}

export type EntryKind = 'dir' | 'attr' | 'link';

export interface Entry {
  readonly id: number;
  readonly name: string;
  readonly parent: number;
  readonly kind: EntryKind;
  readonly path: string;
  readonly depth: number;
  /** change list: times (ascending) */
  readonly ns: number[];
  /** dir: live nodes+links in the subtree after the change; attr/link: value index, -1 absent */
  readonly v: number[];
  /** dir: child entries by name */
  kids?: Map<string, number>;
  /** dir: child ids in natural order (rebuilt when `sorted` is false) */
  order?: number[];
  sorted?: boolean;
  /** dir: is it a node itself (latest state), and its node id */
  live?: boolean;
  node?: number;
  /** attr: a binary attribute (its value is its size) */
  binary?: boolean;
  /** binary attr: contents changes (ns, index into SysfsModel.blobs) */
  bns?: number[];
  bv?: number[];
  /** dir: owner pid changes (ns, pid; -1 none) */
  ons?: number[];
  opid?: number[];
}

export interface Diff {
  appeared: number[];
  vanished: number[];
  changed: number[];
}

export interface Uevent {
  ns: number;
  action: string;
  path: string;
  seqnum: number;
}

/** os/abi/trace.toml's uevent_action (Linux's kobject_action names), for records that carry the number. */
export const UEVENT_ACTIONS = ['add', 'remove', 'change', 'bind', 'unbind'];

export interface Resolved {
  /** the entry the path leads to (-1: none) */
  entry: number;
  /** why not, when entry is -1 */
  error?: string;
  /** links followed */
  hops: number;
}

/** Symlinks followed before giving up (Linux's MAXSYMLINKS). */
export const MAX_HOPS = 40;
const MAX_PROBLEMS = 20;
/** Bytes of a binary attribute the kernel records (os/kernel/generic/sysfs.c SYSFS_BIN_TRACED). */
export const MAX_BIN_BYTES = 4096;

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Natural order: cpu2 before cpu10; zero-padded fields as text, so 0000:00:02.0 < 0000:00:1c.0 (hex). */
export function naturalCompare(a: string, b: string): number {
  const ra = /(\d+)|(\D+)/g;
  const rb = /(\d+)|(\D+)/g;
  for (;;) {
    const ma = ra.exec(a);
    const mb = rb.exec(b);
    if (!ma || !mb) return ma ? 1 : mb ? -1 : 0;
    if (ma[1] !== undefined && mb[1] !== undefined && ma[1][0] !== '0' && mb[1][0] !== '0') {
      const d = Number(ma[1]) - Number(mb[1]);
      if (d) return d;
    } else if (ma[0] !== mb[0]) return ma[0] < mb[0] ? -1 : 1; // zero-padded (PCI's hex) fields: as text
  }
}

/** A number read from an attribute value ("42", "-3", "0x1f", "1.5"), NaN if it is not one. */
export function numericValue(s: string): number {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  return NaN;
}

/** Lines of a hexdump as Linux's `lspci -xxx` and `hexdump -C` together show it: offset, 16
 * bytes in hex, the printable ones as text ("00: 86 80 d3 10 07 04 10 00  ........"). */
export function hexdumpLines(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const w = bytes.length > 256 ? 3 : 2;
  for (let o = 0; o < bytes.length; o += 16) {
    const row = bytes.subarray(o, o + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const txt = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out.push(`${o.toString(16).padStart(w, '0')}: ${hex.padEnd(47)}  ${txt}`);
  }
  return out;
}

/** Split "/a/b" into components; null if it is not an absolute path without . or .. */
function components(path: string): string[] | null {
  if (!path.startsWith('/')) return null;
  const parts = path.split('/').filter((p) => p.length);
  if (parts.some((p) => p === '.' || p === '..')) return null;
  return parts;
}

/** First index i with a[i] > x (a ascending). */
function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SysfsModel {
  readonly entries: Entry[] = [];
  /** interned values (attribute values, link targets) */
  readonly values: string[] = [];
  private valueIds = new Map<string, number>();
  /** binary attributes' contents, interned (identical configs share one) */
  readonly blobs: Uint8Array[] = [];
  private blobIds = new Map<string, number>();
  /** binary contents being assembled from sysfs_bin_data chunks, by attribute entry */
  private pendingBin = new Map<number, { buf: Uint8Array; filled: number; ns: number }>();
  /** node id → its directory entry */
  private nodes = new Map<number, number>();
  /** global change log, time-ordered: when, which entry */
  readonly logNs: number[] = [];
  readonly logEntry: number[] = [];
  readonly uevents: Uevent[] = [];
  readonly procNames = new Map<number, string>();
  readonly procThreads = new Map<number, number[]>();
  /** records used, skipped as malformed */
  used = 0;
  bad = 0;
  readonly problems: string[] = [];
  /** first and last record time */
  t0 = NaN;
  t1 = NaN;
  /** bumped on every change (views redraw when it moves) */
  version = 0;
  /** the earliest time a change was logged at since a view last reset it to Infinity */
  dirtyFrom = Infinity;
  private lastNs = 0;
  private listeners = new Set<() => void>();

  constructor() {
    this.newEntry('', -1, 'dir');
  }

  get root(): number {
    return 0;
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  changed(): void {
    for (const l of this.listeners) l();
  }

  /* ---- input ---- */

  /** One record; true if it was used. Never throws. */
  add(e: TraceRecordLike): boolean {
    try {
      const r = this.addRecord(e);
      if (r === true) {
        this.used++;
        return true;
      }
      if (typeof r === 'string') this.problem(`${e?.name ?? '?'}: ${r}`);
      return false;
    } catch (err) {
      this.problem(`${e?.name ?? '?'}: ${(err as Error)?.message ?? String(err)}`);
      return false;
    }
  }

  addAll(events: Iterable<TraceRecordLike>, notify = true): number {
    let n = 0;
    for (const e of events) if (this.add(e)) n++;
    if (notify && n) this.changed();
    return n;
  }

  private problem(why: string): void {
    this.bad++;
    this.problems.push(why);
    if (this.problems.length > MAX_PROBLEMS) this.problems.shift();
  }

  /** true: used; undefined: not a record this model reads; string: malformed (why). */
  private addRecord(e: TraceRecordLike): true | string | undefined {
    if (!e || typeof e.name !== 'string') return 'not a record';
    const name = e.name;
    const isSysfs = name.startsWith('sysfs_');
    if (!isSysfs && name !== 'proc_create' && name !== 'thread_create') return undefined;
    const f = e.fields && typeof e.fields === 'object' ? e.fields : undefined;
    if (!f) return 'no fields';
    let ns = num(e.ns);
    if (!Number.isFinite(ns)) ns = this.lastNs;
    else if (ns > this.lastNs) this.lastNs = ns;
    switch (name) {
      case 'proc_create': {
        const pid = num(f['pid']);
        if (!Number.isInteger(pid)) return 'no pid';
        this.procNames.set(pid, str(f['name']) ?? '');
        return true;
      }
      case 'thread_create': {
        const pid = num(f['pid']);
        const tid = num(f['tid']);
        if (!Number.isInteger(pid) || !Number.isInteger(tid)) return 'no pid/tid';
        const l = this.procThreads.get(pid) ?? [];
        if (!l.includes(tid)) l.push(tid);
        this.procThreads.set(pid, l);
        return true;
      }
    }
    this.seen(ns);
    switch (name) {
      case 'sysfs_add': {
        const path = str(f['path']);
        const comps = path === undefined ? null : components(path);
        if (!comps || !comps.length) return `bad path ${JSON.stringify(path)}`;
        const node = num(f['node']);
        const owner = num(f['pid'] ?? f['owner']);
        const d = this.addNode(Number.isFinite(node) ? node : -1, comps, ns);
        if (Number.isInteger(owner) && owner > 0) this.setOwner(d, owner, ns);
        return true;
      }
      case 'sysfs_remove': {
        const node = num(f['node']);
        let d = Number.isFinite(node) ? this.nodes.get(node) : undefined;
        if (d === undefined) {
          const comps = components(str(f['path']) ?? '');
          d = comps ? this.lookup(comps) : undefined;
        }
        if (d === undefined || !this.exists(d)) return 'remove of a node not present';
        this.removeNode(d, ns);
        return true;
      }
      case 'sysfs_attr': {
        const text = str(f['text']);
        if (text === undefined) return 'no text';
        const eq = text.indexOf('=');
        if (eq < 0) return `no '=' in ${JSON.stringify(text)}`;
        // fast path (nearly every record): a known live node, its path, '/', a plain name
        const known = this.nodes.get(num(f['node']));
        const ke = known === undefined ? undefined : this.entries[known]!;
        if (ke && ke.live && text.startsWith(ke.path) && text.charCodeAt(ke.path.length) === 47 /* / */) {
          const an = text.slice(ke.path.length + 1, eq);
          const a = ke.kids!.get(an);
          if (a !== undefined && this.entries[a]!.kind === 'attr' && an !== 'pid') {
            this.setValue(a, this.intern(text.slice(eq + 1)), ns);
            return true;
          }
        }
        const comps = components(text.slice(0, eq));
        if (!comps || comps.length < 2) return `bad attribute path in ${JSON.stringify(text)}`;
        const value = text.slice(eq + 1);
        const attrName = comps.pop()!;
        const d = this.nodeDir(num(f['node']), comps, ns);
        const a = this.child(d, attrName, 'attr');
        if (a < 0) return `${attrName} is not an attribute of /${comps.join("/")}`;
        this.setValue(a, this.intern(value), ns);
        if (attrName === 'pid') {
          const pid = numericValue(value);
          if (Number.isInteger(pid) && pid > 0) this.setOwner(d, pid, ns);
        }
        return true;
      }
      case 'sysfs_link': {
        // text "path->target" (target as readlink gives it); node: the link's own id
        const text = str(f['text']);
        const arrow = text === undefined ? -1 : text.indexOf('->');
        if (text === undefined || arrow < 0) return `no '->' in ${JSON.stringify(text)}`;
        const comps = components(text.slice(0, arrow));
        if (!comps || comps.length < 1) return `bad link path in ${JSON.stringify(text)}`;
        const target = text.slice(arrow + 2);
        if (!target) return `empty link target in ${JSON.stringify(text)}`;
        const node = num(f['node']);
        if (Number.isFinite(node)) {
          const old = this.nodes.get(node);
          if (old !== undefined && this.entries[old]!.path !== '/' + comps.join('/')) this.removeNode(old, ns);
        }
        const r = this.setLink([...comps], target, ns);
        if (r === true && Number.isFinite(node)) this.nodes.set(node, this.lookup(comps)!);
        return r;
      }
      case 'sysfs_bin': {
        // a binary attribute: its size stands for its value; its contents follow (sysfs_bin_data)
        const comps = components(str(f['path']) ?? '');
        if (!comps || comps.length < 2) return `bad binary attribute path ${JSON.stringify(f['path'])}`;
        const bytes = num(f['bytes']);
        const attrName = comps.pop()!;
        const d = this.nodeDir(num(f['node']), comps, ns);
        const a = this.child(d, attrName, 'attr');
        if (a < 0) return `${attrName} is not an attribute of /${comps.join('/')}`;
        this.entries[a]!.binary = true;
        this.setValue(a, this.intern(`${Number.isFinite(bytes) ? bytes : '?'} bytes (binary)`), ns);
        return true;
      }
      case 'sysfs_bin_data': {
        const data = f['data'];
        if (!(data instanceof Uint8Array)) return 'sysfs_bin_data without data bytes';
        const nul = data.indexOf(0);
        if (nul <= 0) return 'sysfs_bin_data without an attribute name';
        const name = String.fromCharCode(...data.subarray(0, nul));
        const chunk = data.subarray(nul + 1);
        const d = this.nodes.get(num(f['node']));
        const off = num(f['offset']);
        const total = num(f['total']);
        if (d === undefined) return `sysfs_bin_data for node ${String(f['node'])}, never added`;
        const a = this.entries[d]!.kids?.get(name);
        if (a === undefined || !this.entries[a]!.binary) return `sysfs_bin_data for ${name}, not a binary attribute`;
        if (!Number.isFinite(off) || !Number.isFinite(total) || off < 0 || total < 0) return 'sysfs_bin_data: bad offset or total';
        let p = this.pendingBin.get(a);
        if (off === 0) {
          p = { buf: new Uint8Array(Math.min(total, MAX_BIN_BYTES)), filled: 0, ns };
          this.pendingBin.set(a, p);
        }
        if (!p || off !== p.filled || off + chunk.length > p.buf.length) {
          this.pendingBin.delete(a);
          return `sysfs_bin_data for ${name}: chunk at ${off} out of sequence`;
        }
        p.buf.set(chunk, off);
        p.filled += chunk.length;
        if (p.filled >= p.buf.length) {
          this.pendingBin.delete(a);
          this.setBlob(a, p.buf, p.ns);
        }
        return true;
      }
      case 'sysfs_attr_remove': {
        const comps = components(str(f['path']) ?? '');
        const a = comps ? this.lookup(comps) : undefined;
        if (a === undefined || this.entries[a]!.kind !== 'attr' || !this.exists(a)) return 'remove of an attribute not present';
        this.setValue(a, -1, ns);
        return true;
      }
      case 'sysfs_owner': {
        const comps = components(str(f['path']) ?? '');
        const pid = num(f['pid']);
        if (!comps || !Number.isInteger(pid)) return 'bad owner record';
        const d = this.dirFor(comps);
        if (d < 0) return 'owner of a path that is not a directory';
        this.setOwner(d, pid, ns);
        return true;
      }
      case 'sysfs_uevent': {
        const path = str(f['path']) ?? '';
        const a = f['action'];
        const action = typeof a === 'string' ? a : UEVENT_ACTIONS[num(a)] ?? `action ${String(a)}`;
        const seq = num(f['seqnum']);
        this.uevents.push({ ns, action, path, seqnum: Number.isFinite(seq) ? seq : -1 });
        this.version++;
        return true;
      }
    }
    return undefined; // a sysfs record this model does not read (yet)
  }

  private seen(ns: number): void {
    if (!(this.t0 <= ns)) this.t0 = ns;
    if (!(this.t1 >= ns)) this.t1 = ns;
  }

  private newEntry(name: string, parent: number, kind: EntryKind): number {
    const id = this.entries.length;
    const p = parent >= 0 ? this.entries[parent]! : undefined;
    const path = p ? (p.path === '' ? '' : p.path) + '/' + name : '';
    const e: Entry = { id, name, parent, kind, path, depth: p ? p.depth + 1 : 0, ns: [], v: [] };
    if (kind === 'dir') {
      e.kids = new Map();
      e.order = [];
      e.sorted = true;
      e.live = false;
    }
    this.entries.push(e);
    if (p) {
      p.kids!.set(name, id);
      p.order!.push(id);
      p.sorted = false;
    }
    return id;
  }

  /** The child `name` of dir d, created as `kind` if new; -1 if it exists with another kind. */
  private child(d: number, name: string, kind: EntryKind): number {
    const p = this.entries[d]!;
    const c = p.kids!.get(name);
    if (c !== undefined) return this.entries[c]!.kind === kind ? c : -1;
    return this.newEntry(name, d, kind);
  }

  /** The directory at comps, created (as implicit directories) if new; -1 if a component is not a dir. */
  private dirFor(comps: string[]): number {
    let d = 0;
    for (const c of comps) {
      d = this.child(d, c, 'dir');
      if (d < 0) return -1;
    }
    return d;
  }

  /** The entry at comps without following links; undefined if never seen. */
  private lookup(comps: string[]): number | undefined {
    let d = 0;
    for (const c of comps) {
      const k = this.entries[d]!.kids?.get(c);
      if (k === undefined) return undefined;
      d = k;
    }
    return d;
  }

  /** The live directory of an attribute's node: by its id, or made (a reader that attached late). */
  private nodeDir(node: number, comps: string[], ns: number): number {
    const d = Number.isFinite(node) ? this.nodes.get(node) : undefined;
    const e = d === undefined ? undefined : this.entries[d]!;
    if (e && e.live && e.path === '/' + comps.join('/')) return d!;
    return this.addNode(Number.isFinite(node) ? node : -1, comps, ns);
  }

  private addNode(node: number, comps: string[], ns: number): number {
    if (node >= 0) {
      const old = this.nodes.get(node);
      if (old !== undefined) {
        const oe = this.entries[old]!;
        if (oe.live && oe.path === '/' + comps.join('/')) return old; // refresh (snapshot)
        if (oe.live) this.removeNode(old, ns); // the id moved: the old one is gone
      }
    }
    const d = this.dirFor(comps);
    if (d < 0) throw new Error(`/${comps.join('/')} is not a directory`);
    const e = this.entries[d]!;
    if (node >= 0) {
      if (e.node !== undefined && e.node !== node) this.nodes.delete(e.node);
      e.node = node;
      this.nodes.set(node, d);
    }
    if (!e.live) {
      e.live = true;
      this.propagate(d, 1, ns);
    }
    return d;
  }

  private removeNode(d: number, ns: number): void {
    const e = this.entries[d]!;
    if (e.kind === 'link') {
      // a link is a node of its own (sysfs_link's node id)
      for (const [k, v] of this.nodes) if (v === d) this.nodes.delete(k);
      this.setLink(e.path.split('/').filter((p) => p.length), '', ns);
      return;
    }
    e.live = false;
    if (e.node !== undefined) this.nodes.delete(e.node);
    e.node = undefined;
    for (const c of e.order!) {
      const ce = this.entries[c]!;
      if (ce.kind === 'attr' && this.latest(c) >= 0) this.setValue(c, -1, ns);
    }
    if (e.ons?.length && e.opid![e.opid!.length - 1]! >= 0) this.pushSeries(e.ons, e.opid!, -1, ns);
    this.propagate(d, -1, ns);
  }

  private setLink(comps: string[], target: string, ns: number): true | string {
    const name = comps.pop()!;
    const d = comps.length ? this.dirFor(comps) : 0;
    if (d < 0) return `/${comps.join('/')} is not a directory`;
    const l = this.child(d, name, 'link');
    if (l < 0) return `/${[...comps, name].join('/')} exists and is not a link`;
    const was = this.latest(l) >= 0;
    const v = target ? this.intern(target) : -1;
    if (!was && v < 0) return 'unlink of a link not present';
    this.setValue(l, v, ns);
    if (was !== v >= 0) this.propagate(d, v >= 0 ? 1 : -1, ns);
    return true;
  }

  private intern(s: string): number {
    let i = this.valueIds.get(s);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(s);
      this.valueIds.set(s, i);
    }
    return i;
  }

  /** The latest value of an entry's change list (-1 / 0 when it has none). */
  private latest(e: number): number {
    const en = this.entries[e]!;
    return en.v.length ? en.v[en.v.length - 1]! : en.kind === 'dir' ? 0 : -1;
  }

  /** Insert (ns, v) into a change list in time order; returns the index. */
  private pushSeries(times: number[], vals: number[], v: number, ns: number): number {
    const n = times.length;
    if (!n || times[n - 1]! <= ns) {
      times.push(ns);
      vals.push(v);
      return n;
    }
    const i = upperBound(times, ns);
    times.splice(i, 0, ns);
    vals.splice(i, 0, v);
    return i;
  }

  private log(e: number, ns: number): void {
    if (ns < this.dirtyFrom) this.dirtyFrom = ns;
    const n = this.logNs.length;
    if (!n || this.logNs[n - 1]! <= ns) {
      this.logNs.push(ns);
      this.logEntry.push(e);
    } else {
      const i = upperBound(this.logNs, ns);
      this.logNs.splice(i, 0, ns);
      this.logEntry.splice(i, 0, e);
    }
    this.version++;
  }

  /** An attribute's / link's value from ns on (deduplicated against the value just before). */
  private setValue(a: number, v: number, ns: number): void {
    const e = this.entries[a]!;
    const before = this.valueAtIndex(a, ns);
    if (before === v) return;
    // a record older than later changes only fills the past: their values stand
    this.pushSeries(e.ns, e.v, v, ns);
    this.log(a, ns);
  }

  /** Live-count delta for d and every ancestor from ns on. */
  private propagate(d: number, delta: number, ns: number): void {
    for (let x = d; x >= 0; x = this.entries[x]!.parent) {
      const e = this.entries[x]!;
      const n = e.ns.length;
      if (!n || e.ns[n - 1]! <= ns) {
        const prev = n ? e.v[n - 1]! : 0;
        e.ns.push(ns);
        e.v.push(prev + delta);
        if ((prev > 0) !== (prev + delta > 0)) this.log(x, ns);
      } else {
        // out of order: insert, then every later cumulative count moves by delta
        const i = upperBound(e.ns, ns);
        const prev = i ? e.v[i - 1]! : 0;
        e.ns.splice(i, 0, ns);
        e.v.splice(i, 0, prev + delta);
        for (let j = i + 1; j < e.ns.length; j++) e.v[j] = e.v[j]! + delta;
        this.log(x, ns);
      }
    }
  }

  /** A binary attribute's contents from ns on (deduplicated against those just before). */
  private setBlob(a: number, bytes: Uint8Array, ns: number): void {
    let key = '';
    for (let i = 0; i < bytes.length; i += 4096) key += String.fromCharCode(...bytes.subarray(i, i + 4096));
    let id = this.blobIds.get(key);
    if (id === undefined) {
      id = this.blobs.length;
      this.blobs.push(bytes);
      this.blobIds.set(key, id);
    }
    const e = this.entries[a]!;
    e.bns ??= [];
    e.bv ??= [];
    const i = upperBound(e.bns, ns);
    if (i && e.bv[i - 1] === id) return;
    this.pushSeries(e.bns, e.bv, id, ns);
    this.log(a, ns);
  }

  private setOwner(d: number, pid: number, ns: number): void {
    const e = this.entries[d]!;
    e.ons ??= [];
    e.opid ??= [];
    const i = upperBound(e.ons, ns);
    if (i && e.opid[i - 1] === pid) return;
    this.pushSeries(e.ons, e.opid, pid, ns);
    this.version++;
  }

  /* ---- queries at a time t (Infinity: now) ---- */

  private valueAtIndex(e: number, t: number): number {
    const en = this.entries[e]!;
    const i = upperBound(en.ns, t);
    return i ? en.v[i - 1]! : en.kind === 'dir' ? 0 : -1;
  }

  /** Does the entry exist at t? */
  exists(e: number, t = Infinity): boolean {
    const en = this.entries[e];
    if (!en) return false;
    if (e === 0) return true;
    return en.kind === 'dir' ? this.valueAtIndex(e, t) > 0 : this.valueAtIndex(e, t) >= 0;
  }

  /** An attribute's value (a link's target) at t; undefined if absent. */
  value(e: number, t = Infinity): string | undefined {
    const en = this.entries[e];
    if (!en || en.kind === 'dir') return undefined;
    const v = this.valueAtIndex(e, t);
    return v >= 0 ? this.values[v] : undefined;
  }

  /** A binary attribute's contents at t (as far as the trace recorded them: the first 4096
   * bytes); undefined if it is absent then or its contents were never recorded. */
  binaryAt(e: number, t = Infinity): Uint8Array | undefined {
    const en = this.entries[e];
    if (!en?.binary || !en.bns || !this.exists(e, t)) return undefined;
    const i = upperBound(en.bns, t);
    return i ? this.blobs[en.bv![i - 1]!] : undefined;
  }

  /** Every child ever seen, in natural order (sorted lazily). */
  allChildren(d: number): readonly number[] {
    const e = this.entries[d];
    if (!e || e.kind !== 'dir') return [];
    if (!e.sorted) {
      const ents = this.entries;
      // directories first, then attributes and links, each by name (as ls -F groups them here)
      e.order!.sort((a, b) => {
        const ka = ents[a]!.kind === 'dir' ? 0 : 1;
        const kb = ents[b]!.kind === 'dir' ? 0 : 1;
        return ka - kb || naturalCompare(ents[a]!.name, ents[b]!.name);
      });
      e.sorted = true;
    }
    return e.order!;
  }

  /** The children of d that exist at t. */
  childrenAt(d: number, t = Infinity): number[] {
    return this.allChildren(d).filter((c) => this.exists(c, t));
  }

  /** The entry at an absolute path, without following links (-1: never seen). */
  find(path: string): number {
    const comps = path.split('/').filter((p) => p.length);
    return this.lookup(comps) ?? -1;
  }

  /** Follows symlinks (absolute or relative targets, `.` and `..`) at t; cycle-safe. */
  resolve(path: string, t = Infinity, followLast = true): Resolved {
    const stack = path.split('/').filter((p) => p.length).reverse();
    let cur = 0;
    let hops = 0;
    while (stack.length) {
      const c = stack.pop()!;
      if (c === '.') continue;
      if (c === '..') {
        cur = Math.max(0, this.entries[cur]!.parent);
        continue;
      }
      const e = this.entries[cur]!;
      if (e.kind !== 'dir') return { entry: -1, error: `${e.path} is not a directory`, hops };
      const k = e.kids!.get(c);
      if (k === undefined || !this.exists(k, t)) return { entry: -1, error: `${e.path}/${c}: no such file or directory`, hops };
      const ke = this.entries[k]!;
      if (ke.kind === 'link' && (stack.length || followLast)) {
        if (++hops > MAX_HOPS) return { entry: -1, error: `${ke.path}: too many levels of symbolic links`, hops };
        const target = this.value(k, t) ?? '';
        const parts = target.split('/').filter((p) => p.length);
        for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
        if (target.startsWith('/')) cur = 0;
        continue; // relative: from the link's directory (cur)
      }
      cur = k;
    }
    return { entry: cur, hops };
  }

  /** The pid owning e at t: its own or the nearest ancestor's owner (-1: none). */
  ownerAt(e: number, t = Infinity): { pid: number; dir: number } {
    for (let x = e; x >= 0; x = this.entries[x]!.parent) {
      const en = this.entries[x]!;
      if (en.ons?.length) {
        const i = upperBound(en.ons, t);
        const pid = i ? en.opid![i - 1]! : -1;
        if (pid >= 0) return { pid, dir: x };
      }
    }
    return { pid: -1, dir: -1 };
  }

  procName(pid: number): string {
    return this.procNames.get(pid) ?? '';
  }

  /** An attribute's history within [t0, t1] (plus the value in force at t0), numeric where it parses. */
  history(e: number, t0 = -Infinity, t1 = Infinity): { ns: number[]; value: number[]; text: string[] } {
    const en = this.entries[e];
    const out = { ns: [] as number[], value: [] as number[], text: [] as string[] };
    if (!en || en.kind === 'dir') return out;
    let i = Math.max(0, upperBound(en.ns, t0) - 1);
    for (; i < en.ns.length && en.ns[i]! <= t1; i++) {
      const v = en.v[i]!;
      const s = v >= 0 ? this.values[v]! : '';
      out.ns.push(en.ns[i]!);
      out.text.push(s);
      out.value.push(v >= 0 ? numericValue(s) : NaN);
    }
    return out;
  }

  /** Changes of e so far (for a "changed N times" hint). */
  changes(e: number): number {
    return this.entries[e]?.ns.length ?? 0;
  }

  /** Entries existing at t whose path (or value) contains the query (case-insensitive). */
  search(query: string, t = Infinity, limit = 200): number[] {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const out: number[] = [];
    const pathQ = q.startsWith('/');
    for (let e = 1; e < this.entries.length && out.length < limit; e++) {
      const en = this.entries[e]!;
      let hit = pathQ ? en.path.toLowerCase().startsWith(q) : en.path.toLowerCase().includes(q);
      if (!hit && !pathQ && en.kind !== 'dir') hit = (this.value(e, t) ?? '').toLowerCase().includes(q);
      if (hit && this.exists(e, t)) out.push(e);
    }
    return out;
  }

  /** What appeared, vanished or changed value between t0 and t1 (either order; t0 → t1). */
  diff(t0: number, t1: number): Diff {
    const out: Diff = { appeared: [], vanished: [], changed: [] };
    if (t0 === t1 || (t0 !== t0) || (t1 !== t1)) return out;
    const lo = Math.min(t0, t1);
    const hi = Math.max(t0, t1);
    const seen = new Set<number>();
    for (let i = upperBound(this.logNs, lo); i < this.logNs.length && this.logNs[i]! <= hi; i++) seen.add(this.logEntry[i]!);
    for (const e of seen) {
      const a = this.exists(e, t0);
      const b = this.exists(e, t1);
      if (!a && b) out.appeared.push(e);
      else if (a && !b) out.vanished.push(e);
      else if (a && b && this.entries[e]!.kind !== 'dir' &&
               (this.valueAtIndex(e, t0) !== this.valueAtIndex(e, t1) || this.binaryAt(e, t0) !== this.binaryAt(e, t1)))
        out.changed.push(e);
    }
    return out;
  }

  /** Counts at t: directories, attributes, links that exist. */
  counts(t = Infinity): { dirs: number; attrs: number; links: number } {
    const c = { dirs: 0, attrs: 0, links: 0 };
    for (let e = 1; e < this.entries.length; e++) {
      if (!this.exists(e, t)) continue;
      const k = this.entries[e]!.kind;
      if (k === 'dir') c.dirs++;
      else if (k === 'attr') c.attrs++;
      else c.links++;
    }
    return c;
  }

  /** Time of the first change of e (when it first appeared), NaN if none. */
  firstSeen(e: number): number {
    return this.entries[e]?.ns[0] ?? NaN;
  }
}

/** Feeds records into the model and tells its listeners once. */
export function feedSysfsTrace(model: SysfsModel, events: Iterable<TraceRecordLike>): number {
  return model.addAll(events, true);
}
