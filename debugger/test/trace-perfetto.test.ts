/*
 * The Perfetto export, validated the way ui.perfetto.dev / trace_processor would read it, without
 * either of them (neither can be installed here):
 *   - an independent, schema-driven protobuf reader (below; it does not use perfetto.ts) decodes
 *     the export by debugger/test/perfetto/lanescope_subset.proto, a hand-written subset of
 *     upstream Perfetto's trace protos: an unknown field number, a wrong wire type, a field set
 *     twice, two members of a oneof, an int32 out of range, an unknown enum value or invalid
 *     UTF-8 fails the test;
 *   - invariants trace_processor relies on: one data field per packet; track descriptors with
 *     unique non-zero uuids declared before use, thread tracks under the process track of the
 *     same pid; pids and tids in one namespace (a process's pid is its main thread's tid and no
 *     other thread has it); one packet sequence whose first packet clears incremental state and
 *     no interning; counter events only on counter tracks; BEGIN/END balanced per track; every
 *     flow id starting once (flow_ids) and terminating once later (terminating_flow_ids); per-CPU
 *     sched_switch continuity (prev = the previous next);
 *   - a cross-check against the decoded LaneOS events: every syscall is a slice from its
 *     syscall_enter to its syscall_exit, every cause → effect pair of exported events is one
 *     flow arrow (and nothing else is), ctx_switch/wakeup counts, loads, timestamps;
 *   - protoc --decode with the same .proto (skipped, saying so, when protoc is not installed;
 *     Debian package protobuf-compiler).
 * Inputs: a hand-made scenario with the cases that once went wrong, a trace with every event
 * type, a real recording checked in (perfetto/ipc-demo.ltrace.gz: LaneOS booting and running
 * ipc-demo plus `trace mark` spans), and a live LaneOS boot under QEMU (TCG) running ipc-demo
 * (skipped without os/build; LANES_PERFETTO_SAVE=FILE keeps its recording, gzipped).
 * LANES_PERFETTO_TRACE=FILE validates the export of any other recording too.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { bootGuest, traceSync } from './guest.js';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DefTable } from '../common/trace/defs.js';
import { concat, encodeRecord } from '../common/trace/encode.js';
import { makeHeader } from '../common/trace/flight.js';
import { CHAIN_EVENTS, chainCancels, exportPerfetto, syscallNamesFromAbi } from '../common/trace/perfetto.js';
import type { FieldValue, TraceEvent } from '../common/trace/records.js';
import { decodeBuffer } from '../common/trace/text.js';
import { loadTrace, TraceSession } from '../node/trace/session.js';

const ROOT = resolve(process.env['LANESCOPE_ROOT'] ?? '.');
const PROTO_DIR = join(ROOT, 'debugger/test/perfetto');
const PROTO = join(PROTO_DIR, 'lanescope_subset.proto');

// ---------------------------------------------------------------------------------------------
// A proto2 subset parser: messages (nested), enums, optional/repeated fields, oneofs.

interface FieldDef {
  name: string;
  num: number;
  type: string; // scalar name, or the full name of a message / enum
  repeated: boolean;
  oneof?: string;
}
interface MsgDef {
  name: string;
  fields: Map<number, FieldDef>;
}
interface Schema {
  msgs: Map<string, MsgDef>;
  enums: Map<string, Set<number>>;
}

const SCALARS = new Set(['int32', 'int64', 'uint32', 'uint64', 'bool', 'string', 'bytes', 'fixed64', 'double']);

function parseProto(text: string): Schema {
  const toks = text.replace(/\/\/[^\n]*/g, '').match(/[A-Za-z_][A-Za-z0-9_.]*|-?\d+|"[^"]*"|[{}=;]/g) ?? [];
  let i = 0;
  const next = () => toks[i++] ?? '';
  const expect = (t: string) => assert.equal(next(), t, `proto parse: expected ${t} near token ${i}`);
  const schema: Schema = { msgs: new Map(), enums: new Map() };
  const pending: { scope: string; f: FieldDef }[] = [];
  const parseEnum = (scope: string) => {
    const name = `${scope}${next()}`;
    expect('{');
    const vals = new Set<number>();
    while (toks[i] !== '}') {
      next();
      expect('=');
      vals.add(Number(next()));
      expect(';');
    }
    expect('}');
    schema.enums.set(name, vals);
  };
  const parseField = (scope: string, msg: MsgDef, label: string, oneof?: string) => {
    const type = label === '' ? next() : next();
    const name = next();
    expect('=');
    const num = Number(next());
    expect(';');
    const f: FieldDef = { name, num, type, repeated: label === 'repeated', oneof };
    assert.ok(!msg.fields.has(num), `proto: ${msg.name} field ${num} twice`);
    msg.fields.set(num, f);
    pending.push({ scope, f });
  };
  const parseMessage = (scope: string) => {
    const name = `${scope}${next()}`;
    const msg: MsgDef = { name, fields: new Map() };
    schema.msgs.set(name, msg);
    expect('{');
    while (toks[i] !== '}') {
      const t = next();
      if (t === 'message') parseMessage(`${name}.`);
      else if (t === 'enum') parseEnum(`${name}.`);
      else if (t === 'optional' || t === 'repeated') parseField(name, msg, t);
      else if (t === 'oneof') {
        const group = next();
        expect('{');
        while (toks[i] !== '}') parseField(name, msg, '', group);
        expect('}');
      } else assert.fail(`proto parse: unexpected '${t}' in ${name}`);
    }
    expect('}');
  };
  while (i < toks.length) {
    const t = next();
    if (t === 'syntax') {
      expect('=');
      assert.equal(next(), '"proto2"');
      expect(';');
    } else if (t === 'package') {
      next();
      expect(';');
    } else if (t === 'message') parseMessage('');
    else if (t === 'enum') parseEnum('');
    else assert.fail(`proto parse: unexpected '${t}'`);
  }
  // resolve type names: innermost scope first
  for (const { scope, f } of pending) {
    if (SCALARS.has(f.type)) continue;
    const parts = scope.split('.');
    let found: string | undefined;
    for (let n = parts.length; n >= 0 && !found; n--) {
      const cand = [...parts.slice(0, n), f.type].join('.');
      if (schema.msgs.has(cand) || schema.enums.has(cand)) found = cand;
    }
    assert.ok(found, `proto: unknown type ${f.type} in ${scope}`);
    f.type = found;
  }
  return schema;
}

// ---------------------------------------------------------------------------------------------
// A strict decoder by that schema.

type Msg = { [field: string]: unknown };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function wireOf(schema: Schema, type: string): number {
  if (schema.msgs.has(type) || type === 'string' || type === 'bytes') return 2;
  if (type === 'fixed64' || type === 'double') return 1;
  return 0; // ints, bool, enums
}

function decodeMsg(schema: Schema, type: string, b: Uint8Array, path: string): Msg {
  const def = schema.msgs.get(type)!;
  const out: Msg = {};
  const oneofs = new Map<string, string>();
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    for (let s = 0n; ; s += 7n) {
      assert.ok(i < b.length, `${path}: truncated varint`);
      assert.ok(s < 70n, `${path}: varint longer than 10 bytes`);
      const x = b[i++]!;
      r |= BigInt(x & 0x7f) << s;
      if (!(x & 0x80)) return r;
    }
  };
  while (i < b.length) {
    const key = varint();
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    const f = def.fields.get(num);
    assert.ok(f, `${path}: ${type} has no field ${num} (wire type ${wire})`);
    const where = `${path}.${f.name}`;
    assert.equal(wire, wireOf(schema, f.type), `${where}: wire type ${wire}, the schema's ${f.type} needs ${wireOf(schema, f.type)}`);
    let v: unknown;
    if (wire === 0) {
      const raw = varint();
      const s64 = BigInt.asIntN(64, raw);
      switch (f.type) {
        case 'int32':
          assert.ok(s64 >= -(2n ** 31n) && s64 < 2n ** 31n, `${where}: ${s64} is not an int32`);
          v = Number(s64);
          break;
        case 'uint32':
          assert.ok(raw < 2n ** 32n, `${where}: ${raw} is not a uint32`);
          v = Number(raw);
          break;
        case 'bool':
          assert.ok(raw <= 1n, `${where}: bool ${raw}`);
          v = raw === 1n;
          break;
        case 'int64':
          v = s64;
          break;
        case 'uint64':
          v = raw;
          break;
        default: {
          const vals = schema.enums.get(f.type);
          assert.ok(vals, `${where}: no scalar type ${f.type}`);
          assert.ok(vals.has(Number(s64)), `${where}: ${s64} is not a value of ${f.type}`);
          v = Number(s64);
        }
      }
    } else if (wire === 1) {
      assert.ok(i + 8 <= b.length, `${where}: truncated fixed64`);
      v = new DataView(b.buffer, b.byteOffset + i, 8).getBigUint64(0, true);
      i += 8;
    } else {
      const n = Number(varint());
      assert.ok(i + n <= b.length, `${where}: length ${n} past the end`);
      const sub = b.subarray(i, i + n);
      i += n;
      if (f.type === 'string') {
        try {
          v = utf8.decode(sub);
        } catch {
          assert.fail(`${where}: string is not valid UTF-8`);
        }
      } else if (f.type === 'bytes') v = sub;
      else v = decodeMsg(schema, f.type, sub, where);
    }
    if (f.oneof) {
      const other = oneofs.get(f.oneof);
      assert.ok(other === undefined || other === f.name, `${path}: oneof ${f.oneof} has both ${other} and ${f.name}`);
      oneofs.set(f.oneof, f.name);
    }
    if (f.repeated) ((out[f.name] ??= []) as unknown[]).push(v);
    else {
      assert.ok(!(f.name in out), `${where}: set twice`);
      out[f.name] = v;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The model trace_processor would build, and the invariants it relies on.

interface Track {
  uuid: bigint;
  name?: string;
  parent?: bigint;
  kind: 'process' | 'thread' | 'counter' | 'plain';
  pid?: number;
  tid?: number;
}
interface Slice {
  track: Track;
  name: string;
  ts: number;
  end?: number; // undefined: still open at the end of the trace; ts for instants
  instant: boolean;
  id?: string; // the LaneOS event id (#cpu:seq) from the `id` annotation
  args: Map<string, unknown>;
}
interface Model {
  packets: number;
  tracks: Map<bigint, Track>;
  slices: Slice[];
  flows: { from: Slice; to: Slice; id: bigint }[];
  counters: Map<string, { ts: number; value: number }[]>;
  switches: Map<number, { ts: number; prev: number; next: number; prevState: number }[]>;
  wakings: { ts: number; cpu: number; tid: number; waker: number }[];
  processes: Map<number, { ppid?: number; name: string }>;
  threads: Map<number, { tgid: number; name: string }>;
  maxBundle: number;
  openAtEnd: number;
}

const asNum = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

function validate(schema: Schema, pb: Uint8Array): Model {
  const trace = decodeMsg(schema, 'Trace', pb, 'Trace');
  const packets = (trace['packet'] ?? []) as Msg[];
  const m: Model = {
    packets: packets.length, tracks: new Map(), slices: [], flows: [], counters: new Map(), switches: new Map(), wakings: [],
    processes: new Map(), threads: new Map(), maxBundle: 0, openAtEnd: 0,
  };
  const DATA = ['ftrace_events', 'process_tree', 'track_event', 'track_descriptor'];
  const seqSeen = new Set<number>();
  const events: { ts: number; idx: number; te: Msg }[] = [];
  let lastTeTs = -1;
  packets.forEach((p, idx) => {
    const where = `packet ${idx}`;
    assert.equal(DATA.filter((k) => k in p).length, 1, `${where}: exactly one data field (${Object.keys(p).join(',')})`);
    for (const k of ['interned_data', 'timestamp_clock_id', 'previous_packet_dropped'])
      assert.ok(!(k in p), `${where}: ${k} must not be written (no interning, default clock, nothing dropped)`);
    const seq = p['trusted_packet_sequence_id'] as number | undefined;
    if ('track_event' in p || 'track_descriptor' in p) {
      assert.ok(seq, `${where}: track packets need a trusted_packet_sequence_id`);
      const flags = (p['sequence_flags'] as number | undefined) ?? 0;
      assert.equal(flags & 2, 0, `${where}: SEQ_NEEDS_INCREMENTAL_STATE without interned data`);
      if (!seqSeen.has(seq)) {
        assert.equal(flags & 1, 1, `${where}: first packet of sequence ${seq} must set SEQ_INCREMENTAL_STATE_CLEARED`);
        assert.equal(p['first_packet_on_sequence'], true, `${where}: and say it is the first (nothing was lost before it)`);
        seqSeen.add(seq);
      } else assert.ok(!('first_packet_on_sequence' in p) && !(flags & 1), `${where}: sequence ${seq} starts once`);
    }
    if ('process_tree' in p) {
      const t = p['process_tree'] as Msg;
      for (const pr of (t['processes'] ?? []) as Msg[]) {
        const pid = pr['pid'] as number;
        assert.ok(pid > 0, `${where}: process pid ${pid}`);
        assert.ok(!m.processes.has(pid), `${where}: process ${pid} listed twice`);
        m.processes.set(pid, { ppid: pr['ppid'] as number | undefined, name: ((pr['cmdline'] ?? []) as string[])[0] ?? '' });
      }
      for (const th of (t['threads'] ?? []) as Msg[]) {
        const tid = th['tid'] as number;
        assert.ok(tid > 0 && !m.threads.has(tid), `${where}: thread ${tid} (0 is the idle thread; each tid once)`);
        m.threads.set(tid, { tgid: th['tgid'] as number, name: (th['name'] as string) ?? '' });
      }
    }
    if ('track_descriptor' in p) {
      const d = p['track_descriptor'] as Msg;
      const uuid = d['uuid'] as bigint;
      assert.ok(uuid, `${where}: track uuid must be set and non-zero (0 is the implicit global track)`);
      assert.ok(!m.tracks.has(uuid), `${where}: track ${uuid} declared twice`);
      assert.ok(['process', 'thread', 'counter'].filter((k) => k in d).length <= 1, `${where}: a track is a process, a thread or a counter track`);
      const parent = d['parent_uuid'] as bigint | undefined;
      if (parent !== undefined) assert.ok(m.tracks.has(parent), `${where}: parent ${parent} declared before its child`);
      const t: Track = { uuid, name: d['name'] as string | undefined, parent, kind: 'plain' };
      if ('process' in d) {
        const pd = d['process'] as Msg;
        t.kind = 'process';
        t.pid = pd['pid'] as number;
        assert.ok(t.pid > 0, `${where}: process track pid ${t.pid} (0 is the swapper, hidden in the UI)`);
        assert.ok(![...m.tracks.values()].some((o) => o.kind === 'process' && o.pid === t.pid), `${where}: one process track per pid`);
      } else if ('thread' in d) {
        const td = d['thread'] as Msg;
        t.kind = 'thread';
        t.pid = td['pid'] as number;
        t.tid = td['tid'] as number;
        assert.ok(t.tid > 0 && t.pid > 0, `${where}: thread track pid ${t.pid} tid ${t.tid}`);
        assert.ok(![...m.tracks.values()].some((o) => o.kind === 'thread' && o.tid === t.tid), `${where}: one thread track per tid`);
        if (parent !== undefined) {
          const pt = m.tracks.get(parent)!;
          assert.equal(pt.kind, 'process', `${where}: a thread track's parent is a process track`);
          assert.equal(pt.pid, t.pid, `${where}: thread ${t.tid} is in process ${t.pid}, its parent track is process ${pt.pid}`);
        }
      } else if ('counter' in d) t.kind = 'counter';
      if (t.kind === 'plain' || t.kind === 'counter') assert.ok(t.name, `${where}: a ${t.kind} track needs a name`);
      m.tracks.set(uuid, t);
    }
    if ('track_event' in p) {
      const te = p['track_event'] as Msg;
      assert.ok('timestamp' in p, `${where}: track event without timestamp`);
      const ts = asNum(p['timestamp']);
      assert.ok(ts >= lastTeTs, `${where}: track events are written in time order`);
      lastTeTs = ts;
      for (const k of ['name_iid', 'category_iids', 'flow_ids_old', 'terminating_flow_ids_old']) assert.ok(!(k in te), `${where}: ${k} must not be used`);
      const uuid = te['track_uuid'] as bigint;
      assert.ok(uuid !== undefined && m.tracks.has(uuid), `${where}: track ${uuid} declared before its first event`);
      events.push({ ts, idx, te });
    }
    if ('ftrace_events' in p) {
      const bundle = p['ftrace_events'] as Msg;
      assert.ok('cpu' in bundle, `${where}: bundle without cpu`);
      const cpu = bundle['cpu'] as number;
      const evs = (bundle['event'] ?? []) as Msg[];
      assert.ok(evs.length > 0, `${where}: empty bundle`);
      m.maxBundle = Math.max(m.maxBundle, evs.length);
      for (const ev of evs) {
        assert.ok('timestamp' in ev && 'pid' in ev, `${where}: ftrace event needs timestamp and pid`);
        const ts = asNum(ev['timestamp']);
        assert.equal(['sched_switch', 'sched_waking'].filter((k) => k in ev).length, 1, `${where}: one sched event per ftrace event`);
        if ('sched_switch' in ev) {
          const sw = ev['sched_switch'] as Msg;
          assert.equal(ev['pid'], sw['prev_pid'], `${where}: sched_switch is recorded by the task switched out`);
          for (const k of ['prev_comm', 'prev_pid', 'prev_state', 'next_comm', 'next_pid']) assert.ok(k in sw, `${where}: sched_switch.${k}`);
          assert.ok([0, 1, 2, 4, 16].includes(Number(sw['prev_state'])), `${where}: prev_state ${sw['prev_state']} is one of R S D T X`);
          let l = m.switches.get(cpu);
          if (!l) m.switches.set(cpu, (l = []));
          l.push({ ts, prev: sw['prev_pid'] as number, next: sw['next_pid'] as number, prevState: Number(sw['prev_state']) });
        } else {
          const wk = ev['sched_waking'] as Msg;
          for (const k of ['comm', 'pid', 'target_cpu']) assert.ok(k in wk, `${where}: sched_waking.${k}`);
          m.wakings.push({ ts, cpu, tid: wk['pid'] as number, waker: ev['pid'] as number });
        }
      }
    }
  });

  // pids and tids: one namespace; trace_processor gives pid P a main thread with tid P, so a pid
  // that is also another process's tid splits that thread in two
  for (const [tid, th] of m.threads) {
    assert.ok(m.processes.has(th.tgid), `thread ${tid}: its process ${th.tgid} is listed`);
    if (m.processes.has(tid)) assert.equal(th.tgid, tid, `tid ${tid} is also a process's pid, so it must be that process's main thread (tgid ${th.tgid})`);
  }
  // ui.perfetto.dev: pid 2 is Linux's kthreadd (it and its children become "Kernel threads")
  assert.ok(!m.processes.has(2), `no process is pid 2 (${m.processes.get(2)?.name} would be taken for kthreadd)`);
  for (const [pid, pr] of m.processes) {
    if (pr.ppid !== undefined) assert.ok(m.processes.has(pr.ppid), `process ${pid}: parent ${pr.ppid} is listed`);
    const main = m.threads.get(pid);
    if (main) assert.equal(main.tgid, pid, `process ${pid}: thread ${pid} is its main thread`);
  }
  for (const t of m.tracks.values()) {
    if (t.kind === 'process') assert.ok(m.processes.has(t.pid!), `process track ${t.pid} is in the process tree`);
    if (t.kind === 'thread') assert.equal(m.threads.get(t.tid!)?.tgid, t.pid, `thread track ${t.tid}: process ${t.pid} matches the process tree`);
  }

  // slices, counters, flows (events sorted by time; the writer already did, stable)
  const stacks = new Map<bigint, Slice[]>();
  const flowStart = new Map<bigint, Slice>();
  const flowEnded = new Set<bigint>();
  for (const { ts, idx, te } of events) {
    const where = `packet ${idx}`;
    const track = m.tracks.get(te['track_uuid'] as bigint)!;
    const type = te['type'] as number;
    assert.ok(type >= 1 && type <= 4, `${where}: event type ${type}`);
    const flows = (te['flow_ids'] ?? []) as bigint[];
    const term = (te['terminating_flow_ids'] ?? []) as bigint[];
    if (type === 4) {
      assert.equal(track.kind, 'counter', `${where}: a counter event on a ${track.kind} track`);
      assert.ok('counter_value' in te, `${where}: counter event without a value`);
      assert.ok(!('name' in te) && !flows.length && !term.length, `${where}: a counter event carries only its value`);
      let l = m.counters.get(track.name!);
      if (!l) m.counters.set(track.name!, (l = []));
      l.push({ ts, value: Number(te['counter_value']) });
      continue;
    }
    assert.notEqual(track.kind, 'counter', `${where}: slice event on counter track ${track.name}`);
    assert.ok(!('counter_value' in te), `${where}: counter value on a slice event`);
    let st = stacks.get(track.uuid);
    if (!st) stacks.set(track.uuid, (st = []));
    if (type === 2) {
      assert.ok(st.length > 0, `${where}: SLICE_END on track ${track.name ?? track.tid} with no open slice`);
      assert.ok(!('name' in te) && !flows.length && !term.length, `${where}: an END carries nothing of its own`);
      st.pop()!.end = ts;
      continue;
    }
    assert.ok(typeof te['name'] === 'string' && (te['name'] as string).length > 0, `${where}: slice without a name`);
    const args = new Map<string, unknown>();
    for (const a of (te['debug_annotations'] ?? []) as Msg[]) {
      assert.ok(typeof a['name'] === 'string', `${where}: annotation without name`);
      const vals = ['uint_value', 'int_value', 'string_value', 'bool_value', 'double_value'].filter((k) => k in a);
      assert.equal(vals.length, 1, `${where}: annotation ${a['name']} has one value`);
      args.set(a['name'] as string, a[vals[0]!]);
    }
    const s: Slice = { track, name: te['name'] as string, ts, instant: type === 3, args, id: args.get('id') as string | undefined };
    if (type === 3) s.end = ts;
    else st.push(s);
    m.slices.push(s);
    for (const f of flows) {
      assert.ok(!term.includes(f), `${where}: flow ${f} both starts and ends here`);
      assert.ok(!flowStart.has(f), `${where}: flow ${f} starts twice (a flow id cannot fork)`);
      flowStart.set(f, s);
    }
    for (const f of term) {
      const from = flowStart.get(f);
      assert.ok(from, `${where}: flow ${f} terminates before it started`);
      assert.ok(!flowEnded.has(f), `${where}: flow ${f} terminates twice`);
      flowEnded.add(f);
      m.flows.push({ from, to: s, id: f });
    }
  }
  for (const f of flowStart.keys()) assert.ok(flowEnded.has(f), `flow ${f} never terminates (it would chain into the next use of its id)`);
  for (const st of stacks.values()) m.openAtEnd += st.length;

  // scheduling: per CPU in time order, each switch starts from the thread the previous one chose
  for (const [cpu, l] of m.switches) {
    l.sort((a, b) => a.ts - b.ts);
    for (let k = 1; k < l.length; k++)
      assert.equal(l[k]!.prev, l[k - 1]!.next, `cpu${cpu} at ${l[k]!.ts} ns: sched_switch from ${l[k]!.prev}, but ${l[k - 1]!.next} was running`);
    for (const s of l) for (const t of [s.prev, s.next]) if (t) assert.ok(m.threads.has(t), `cpu${cpu}: tid ${t} is in the process tree`);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// What the export must say about the LaneOS events it came from.

const fmt = (id: number | bigint) => `#${BigInt(id) >> 48n}:${BigInt(id) & 0xffffffffffffn}`;
const num = (v: FieldValue | undefined) => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0);
const nsOf = (e: TraceEvent) => (Number.isFinite(e.ns) && e.ns > 0 ? Math.round(e.ns) : 0);

function crossCheck(events: TraceEvent[], m: Model, how: string): { syscalls: number; edges: number } {
  // (the preamble's trace_header/event_def records all carry id 0; they are not exported)
  const byId = new Map(events.filter((e) => e.name !== 'trace_header' && e.name !== 'event_def').map((e) => [fmt(e.id), e]));
  const sliceById = new Map<string, Slice>();
  for (const s of m.slices) if (s.id) {
    assert.ok(!sliceById.has(s.id), `${how}: event ${s.id} exported once`);
    sliceById.set(s.id, s);
  }
  // counts
  const count = (n: string) => events.filter((e) => e.name === n).length;
  let switches = 0;
  for (const l of m.switches.values()) switches += l.length;
  assert.equal(switches, count('ctx_switch'), `${how}: one sched_switch per ctx_switch`);
  assert.equal(m.wakings.length, count('wakeup'), `${how}: one sched_waking per wakeup`);
  // every exported event sits at its own time, on its thread's track when it has one
  for (const [id, s] of sliceById) {
    const e = byId.get(id);
    assert.ok(e, `${how}: slice ${s.name} names event ${id}, which exists`);
    assert.equal(s.ts, nsOf(e), `${how}: ${e.name} ${id} at its timestamp`);
    const tid = num(e.fields['tid']);
    if (s.track.kind === 'thread') assert.equal(s.track.tid, tid, `${how}: ${e.name} ${id} on the track of tid ${tid}`);
  }
  // syscalls: a slice from enter to exit on the thread's track
  const enters = new Map(events.filter((e) => e.name === 'syscall_enter').map((e) => [fmt(e.id), e]));
  let syscalls = 0;
  for (const x of events.filter((e) => e.name === 'syscall_exit')) {
    const c = x.fields['cause'];
    const en = typeof c === 'number' || typeof c === 'bigint' ? enters.get(fmt(c)) : undefined;
    if (!en || num(en.fields['tid']) !== num(x.fields['tid'])) continue;
    const s = sliceById.get(fmt(en.id));
    assert.ok(s && !s.instant, `${how}: syscall ${fmt(en.id)} is a slice`);
    assert.ok(s.name.startsWith('sys '), `${how}: syscall slice named ${s.name}`);
    assert.equal(s.track.tid, num(en.fields['tid']));
    assert.equal(s.end, nsOf(x), `${how}: syscall ${fmt(en.id)} (${s.name}, tid ${s.track.tid}) ends at its syscall_exit ${fmt(x.id)}`);
    syscalls++;
  }
  // flows: exactly the cause → effect pairs between exported events
  const want = new Set<string>();
  for (const e of events) {
    const to = sliceById.get(fmt(e.id));
    if (!to) continue;
    for (const k of ['cause', 'other', 'target']) {
      const v = e.fields[k];
      if (typeof v !== 'number' && typeof v !== 'bigint') continue;
      if (!v || !sliceById.has(fmt(v)) || fmt(v) === fmt(e.id)) continue;
      want.add(`${fmt(v)}>${fmt(e.id)}`);
    }
  }
  // and the cancellation chains: consecutive exported records of each cancelled POSIX call
  const chains = new Map<string, TraceEvent[]>();
  const cancelled = new Set<string>();
  for (const e of events) {
    if (!CHAIN_EVENTS.has(e.name) || !sliceById.has(fmt(e.id))) continue;
    const c = e.fields['call'];
    if ((typeof c !== 'number' && typeof c !== 'bigint') || !c) continue;
    const l = chains.get(fmt(c)) ?? [];
    chains.set(fmt(c), l);
    l.push(e);
    if (chainCancels(e)) cancelled.add(fmt(c));
  }
  for (const [c, l] of chains) {
    if (!cancelled.has(c)) continue;
    const byTime = l.map((e, i) => ({ e, i })).sort((a, b) => nsOf(a.e) - nsOf(b.e) || a.i - b.i).map((x) => x.e);
    for (let k = 1; k < byTime.length; k++) want.add(`${fmt(byTime[k - 1]!.id)}>${fmt(byTime[k]!.id)}`);
  }
  const got = new Set<string>();
  for (const f of m.flows) {
    const from = f.from.id!;
    const to = f.to.id!;
    // the writer starts a flow at the earlier event; orient it cause → effect for the comparison
    const key = want.has(`${from}>${to}`) ? `${from}>${to}` : `${to}>${from}`;
    assert.ok(want.has(key), `${how}: flow ${f.id} ${from} → ${to} is a cause → effect pair`);
    assert.ok(!got.has(key), `${how}: one arrow per pair (${key})`);
    assert.ok(f.from.ts <= f.to.ts, `${how}: flow ${f.id} goes forward in time`);
    got.add(key);
  }
  assert.equal(got.size, want.size, `${how}: every cause → effect pair has its arrow`);
  // loads
  for (const e of events.filter((x) => x.name === 'load_sample')) {
    const l = m.counters.get(`cpu${num(e.fields['of_cpu'])} load`);
    assert.ok(l?.some((c) => c.ts === nsOf(e) && c.value === num(e.fields['load'])), `${how}: load sample ${fmt(e.id)} on cpu${num(e.fields['of_cpu'])} load`);
  }
  return { syscalls, edges: want.size };
}

function protocDecode(pb: Uint8Array): string | undefined {
  const probe = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  const r = spawnSync('protoc', [`--proto_path=${PROTO_DIR}`, '--decode=perfetto.protos.Trace', PROTO], { input: pb, maxBuffer: 1 << 30, encoding: 'utf8' });
  assert.equal(r.status, 0, `protoc --decode failed: ${r.stderr}`);
  return r.stdout;
}
const NO_PROTOC = spawnSync('protoc', ['--version']).status === 0 ? false : 'protoc is not installed (Debian package protobuf-compiler): the protoc cross-check is skipped';

function checkWithProtoc(pb: Uint8Array, m: Model): void {
  const text = protocDecode(pb)!;
  const unknown = text.split('\n').filter((l) => /^\s*\d+(:| \{)/.test(l));
  assert.deepEqual(unknown.slice(0, 5), [], 'protoc names every field (a bare number is a field the schema does not have)');
  assert.equal(text.match(/^packet \{$/gm)?.length ?? 0, m.packets, 'protoc sees every packet');
  assert.equal(text.match(/^ {2}track_event \{$/gm)?.length ?? 0, m.slices.length + [...m.counters.values()].reduce((n, l) => n + l.length, 0) + countEnds(m), 'and every track event');
}
function countEnds(m: Model): number {
  return m.slices.filter((s) => !s.instant && s.end !== undefined).length;
}

const schema = parseProto(readFileSync(PROTO, 'utf8'));

// ---------------------------------------------------------------------------------------------
// Inputs.

const defs = new DefTable();
const id = (cpu: number, s: number) => (BigInt(cpu) << 48n) | BigInt(s);

/** The cases that went wrong once: pid/tid overlap (LaneOS numbers them separately), kernel threads,
 * a marker span opened and closed inside trace_mark syscalls, a thread exiting inside a syscall,
 * an END with no BEGIN, causes with several effects, an event of unknown type. */
function scenario(): Uint8Array {
  const seq = [0, 0];
  let t = 1000;
  const r = (cpu: number, name: string, f: Record<string, FieldValue>) => encodeRecord(defs, name, { cpu, tsc: (t += 1000), seq: seq[cpu]!++ }, f);
  const unknown = (cpu: number) => {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 250, true);
    dv.setUint16(2, 32, true);
    dv.setUint16(4, cpu, true);
    dv.setBigUint64(8, BigInt((t += 1000)), true);
    dv.setBigUint64(16, id(cpu, seq[cpu]!++), true);
    dv.setUint32(24, 0xdeadbeef, true);
    return b;
  };
  return concat([
    makeHeader(1_000_000_000n, 0n, 2),
    r(0, 'thread_create', { tid: 1, pid: 0, home_cpu: 0, kernel: 1, name: 'kernel' }), //          0:0
    r(0, 'proc_create', { pid: 1, parent: 0, name: 'init' }), //                                    0:1
    r(0, 'thread_create', { tid: 2, pid: 1, home_cpu: 0, kernel: 0, name: 'init' }), //             0:2
    r(0, 'proc_create', { pid: 2, parent: 1, name: 'server' }), //                                  0:3
    r(0, 'thread_create', { tid: 3, pid: 2, home_cpu: 1, kernel: 0, name: 'server' }), //           0:4
    r(0, 'ctx_switch', { prev_tid: 0, prev_pid: 0, next_tid: 2, next_pid: 1, reason: 4, prev_state: 0 }), // 0:5
    r(1, 'ctx_switch', { prev_tid: 0, prev_pid: 0, next_tid: 3, next_pid: 2, reason: 4, prev_state: 0 }), // 1:0
    // init: trace_mark syscall opening span "phase", a submit inside another syscall
    r(0, 'syscall_enter', { num: 50, tid: 2, a0: 1 }), //                                         0:6
    r(0, 'marker', { pid: 1, tid: 2, kind: 1, value: 0n, name: 'phase' }), //                     0:7
    r(0, 'syscall_exit', { num: 50, tid: 2, result: 0, cause: id(0, 6) }), //                     0:8
    r(0, 'syscall_enter', { num: 40, tid: 2, a0: 1 }), //                                         0:9
    r(0, 'ipc_submit', { stream: 7n, conversation: 0n, tag: 99n, bytes: 64n, actions: 0x43n, pid: 1, tid: 2, lane: 0, nactions: 2, payload: Uint8Array.from([1, 2, 3]) }), // 0:10
    // server: its receive, the match, a wake-up caused by the submit
    r(1, 'syscall_enter', { num: 40, tid: 3, a0: 2 }), //                                         1:1
    r(1, 'ipc_submit', { stream: 7n, conversation: 0n, tag: 5n, bytes: 64n, actions: 4n, pid: 2, tid: 3, lane: 1, nactions: 1 }), // 1:2
    r(1, 'ipc_match', { stream: 7n, conversation: 0n, cause: id(1, 2), other: id(0, 10), child_stream: 0n, result: 0 }), // 1:3
    r(1, 'wakeup', { tid: 2, waker_tid: 3, target_cpu: 0, reason: 0, cause: id(1, 2) }), //      1:4
    r(1, 'ipc_complete', { stream: 7n, tag: 5n, cause: id(1, 2), result: 64n, bytes: 64n, pid: 2, tid: 3 }), // 1:5
    r(1, 'syscall_exit', { num: 40, tid: 3, result: 0, cause: id(1, 1) }), //                     1:6
    r(0, 'ipc_complete', { stream: 7n, tag: 99n, cause: id(0, 10), result: 0n, bytes: 64n, pid: 1, tid: 2 }), // 0:11
    r(0, 'syscall_exit', { num: 40, tid: 2, result: 0, cause: id(0, 9) }), //                     0:12
    // a cancelled receive: cancel names its target and the marker that caused it
    r(0, 'syscall_enter', { num: 40, tid: 2, a0: 3 }), //                                         0:13
    r(0, 'ipc_submit', { stream: 7n, conversation: 0n, tag: 100n, bytes: 0n, actions: 4n, pid: 1, tid: 2, lane: 0, nactions: 1 }), // 0:14
    r(0, 'marker', { pid: 1, tid: 2, kind: 0, value: 0n, name: 'signal' }), //                    0:15
    r(0, 'ipc_cancel', { stream: 7n, tag: 100n, target: id(0, 14), cause: id(0, 15), pid: 1, tid: 2 }), // 0:16
    r(0, 'syscall_exit', { num: 40, tid: 2, result: -5n, cause: id(0, 13) }), //                  0:17
    // init closes "phase" from inside another trace_mark syscall; an "orphan" end has no begin
    r(0, 'syscall_enter', { num: 50, tid: 2, a0: 2 }), //                                         0:18
    r(0, 'marker', { pid: 1, tid: 2, kind: 2, value: 0n, name: 'phase' }), //                     0:19
    r(0, 'marker', { pid: 1, tid: 2, kind: 2, value: 0n, name: 'orphan' }), //                    0:20
    r(0, 'marker', { pid: 1, tid: 2, kind: 3, value: 42n, name: 'depth' }), //                    0:21
    r(0, 'syscall_exit', { num: 50, tid: 2, result: 0, cause: id(0, 18) }), //                    0:22
    r(0, 'load_sample', { of_cpu: 0, rq_len: 1, load: 512, busy_ns: 5n, idle_ns: 5n }), //         0:23
    r(1, 'load_sample', { of_cpu: 1, rq_len: 0, load: 1024, busy_ns: 10n, idle_ns: 0n }), //       1:7
    r(1, 'ctx_switch', { prev_tid: 3, prev_pid: 2, next_tid: 1, next_pid: 0, reason: 1, prev_state: 2 }), // 1:8
    r(1, 'log', { level: 2, tid: 1, text: 'kernel says hi' }), //                                 1:9
    r(1, 'ctx_switch', { prev_tid: 1, prev_pid: 0, next_tid: 0, next_pid: 0, reason: 1, prev_state: 2 }), // 1:10
    unknown(1), //                                                                                 1:11
    // the server exits inside its exit syscall: the slice ends with the thread
    r(0, 'syscall_enter', { num: 1, tid: 2, a0: 0 }), //                                          0:24
    r(0, 'thread_exit', { tid: 2, pid: 1 }), //                                                   0:25
    r(0, 'proc_exit', { pid: 1, state: 1, code: 0n }), //                                          0:26
    r(0, 'ctx_switch', { prev_tid: 2, prev_pid: 1, next_tid: 0, next_pid: 0, reason: 3, prev_state: 5 }), // 0:27
  ]);
}

/** Every event type the schema knows, with plausible values; causes point at the first submit. */
function everyEvent(): Uint8Array {
  const parts = [makeHeader(1_000_000_000n, 0n, 1)];
  let s = 1; // id 0 would mean "no cause"
  const sub = encodeRecord(defs, 'ipc_submit', { cpu: 0, tsc: 100, seq: s++ }, { stream: 1n, tag: 1n, pid: 1, tid: 2, nactions: 1, actions: 3n });
  parts.push(sub);
  const ids = [...defs.byId.values()].sort((a, b) => a.id - b.id);
  for (const d of ids) {
    if (d.name === 'trace_header') continue;
    const f: Record<string, FieldValue> = {};
    for (const x of d.fields) {
      if (x.name === 'cause' || x.name === 'other' || x.name === 'target') f[x.name] = 0n; // filled below
      else if (x.kind === 'str') f[x.name] = x.name === 'text' && d.name === 'event_def' ? 'x|meta|' : `${d.name}-${x.name}`;
      else if (x.kind === 'bytes') f[x.name] = Uint8Array.from([1, 2, 3]);
      else if (x.name === 'tid' || x.name === 'next_tid' || x.name === 'prev_tid' || x.name === 'waker_tid') f[x.name] = 2;
      else if (x.name === 'pid' || x.name === 'prev_pid' || x.name === 'next_pid') f[x.name] = 1;
      else if (x.name === 'kind' && d.name === 'marker') f[x.name] = 0;
      else f[x.name] = x.kind.startsWith('i') ? -1 : 1;
    }
    if ('cause' in f) f['cause'] = id(0, 1);
    if ('target' in f) f['target'] = id(0, 1);
    if (d.name === 'event_def') continue; // definitions are the decoder's business
    parts.push(encodeRecord(defs, d.name, { cpu: 0, tsc: 200 + s * 10, seq: s++ }, f));
  }
  for (const kind of [1, 2, 3]) parts.push(encodeRecord(defs, 'marker', { cpu: 0, tsc: 5000 + kind, seq: s++ }, { pid: 1, tid: 2, kind, value: 7n, name: 'm' }));
  return concat(parts);
}

function exportAndValidate(events: TraceEvent[], how: string): { m: Model; pb: Uint8Array; syscalls: number; edges: number } {
  const pb = exportPerfetto(events);
  const m = validate(schema, pb);
  const r = crossCheck(events, m, how);
  if (!NO_PROTOC) checkWithProtoc(pb, m);
  return { m, pb, ...r };
}

// ---------------------------------------------------------------------------------------------

describe('perfetto export: the validator itself', () => {
  it('parses the hand-written .proto subset into the field numbers upstream Perfetto uses', () => {
    const f = (msg: string, n: number) => schema.msgs.get(msg)?.fields.get(n);
    assert.equal(f('TracePacket', 11)?.name, 'track_event');
    assert.equal(f('TracePacket', 60)?.name, 'track_descriptor');
    assert.equal(f('TracePacket', 10)?.name, 'trusted_packet_sequence_id');
    assert.equal(f('TrackEvent', 47)?.type, 'fixed64');
    assert.equal(f('TrackEvent', 48)?.name, 'terminating_flow_ids');
    assert.equal(f('TrackDescriptor', 5)?.name, 'parent_uuid');
    assert.equal(f('FtraceEvent', 20)?.name, 'sched_waking');
    assert.equal(f('ProcessTree.Thread', 3)?.name, 'tgid');
    assert.equal(f('TrackEvent', 9)?.type, 'TrackEvent.Type');
  });

  it('rejects what trace_processor would misread: unknown fields, wrong wire types, a flow id that forks', () => {
    const ok = Uint8Array.from([0x0a, 0x04, 0x5a, 0x02, 0x48, 0x03]); // packet { track_event { type: TYPE_INSTANT } }
    assert.deepEqual(decodeMsg(schema, 'Trace', ok, 'Trace'), { packet: [{ track_event: { type: 3 } }] });
    const unknown = Uint8Array.from([0x0a, 0x03, 0x98, 0x06, 0x01]); // packet { 99: 1 }
    assert.throws(() => decodeMsg(schema, 'Trace', unknown, 'Trace'), /has no field 99/);
    const asFixed = Uint8Array.from([0x0a, 0x09, 0x41, 1, 0, 0, 0, 0, 0, 0, 0]); // timestamp with wire type 1
    assert.throws(() => decodeMsg(schema, 'Trace', asFixed, 'Trace'), /timestamp: wire type 1/);
    // flow_ids written as varints (the deprecated uint64 encoding) under the fixed64 field number
    const varintFlow = Uint8Array.from([0x0a, 0x05, 0x5a, 0x03, 0xf8, 0x02, 0x05]);
    assert.throws(() => decodeMsg(schema, 'Trace', varintFlow, 'Trace'), /flow_ids: wire type 0/);
    const badType = Uint8Array.from([0x0a, 0x04, 0x5a, 0x02, 0x48, 0x07]); // type 7: not a TrackEvent.Type
    assert.throws(() => decodeMsg(schema, 'Trace', badType, 'Trace'), /not a value of TrackEvent.Type/);
    const twice = Uint8Array.from([0x0a, 0x04, 0x40, 0x01, 0x40, 0x02]); // timestamp twice
    assert.throws(() => decodeMsg(schema, 'Trace', twice, 'Trace'), /set twice/);
    const name = Uint8Array.from([0x0a, 0x06, 0x5a, 0x04, 0xba, 0x01, 0x01, 0xff]); // name: invalid UTF-8
    assert.throws(() => decodeMsg(schema, 'Trace', name, 'Trace'), /UTF-8/);
  });
});

describe('perfetto export: syscall names from the generated ABI', () => {
  it('reads the syscalls of the generated ABI JSON', () => {
    const json = { abis: { kernel: { syscalls: [{ num: 0, name: 'null', args: [] }] }, ipc: { syscalls: [{ num: 66, name: 'ipc_submit', args: ['lane'] }] } } };
    assert.deepEqual(syscallNamesFromAbi(json), { 0: 'null', 66: 'ipc_submit' });
    assert.throws(() => syscallNamesFromAbi({ kernel: [] }), /no "abis" table/);
    // the real one, as gen.py writes it
    const real = JSON.parse(execFileSync('python3', ['-c', 'import sys; sys.path.insert(0, "os/abi"); import gen; print(gen.gen_json([gen.load("os/abi/kernel.toml"), gen.load("os/abi/ipc.toml")], None))'], { cwd: ROOT, encoding: 'utf8' })) as unknown;
    const names = syscallNamesFromAbi(real);
    assert.equal(names[0], 'null');
    assert.equal(names[66], 'ipc_submit');
    const d = decodeBuffer(scenario());
    const m = validate(schema, exportPerfetto(d.events, { syscallNames: { 40: 'ipc_call' } }));
    assert.equal(m.slices.filter((s) => s.name === 'sys ipc_call').length, 3);
    assert.equal(m.slices.filter((s) => s.name === 'sys 50').length, 2, 'unnamed numbers stay numbers');
  });
});

describe('perfetto export: hand-made scenario', () => {
  const d = decodeBuffer(scenario());
  const { m, syscalls, edges } = exportAndValidate(d.events, 'scenario');

  it('numbers processes apart from threads, so LaneOS pid 2 and tid 2 do not collide', () => {
    const byName = (n: string) => [...m.processes].find(([, p]) => p.name === n)?.[0];
    assert.equal(byName('init (pid 1)'), 1001, 'init is Perfetto pid 1000 + 1');
    assert.equal(byName('server (pid 2)'), 1002);
    assert.equal(byName('kernel (pid 0)'), 1000, 'the kernel threads form a process of their own, not the hidden swapper');
    assert.equal(m.processes.get(1002)?.ppid, 1001, "server's parent is init");
    assert.equal(m.processes.get(1001)?.ppid, 1000, "init's parent is the kernel");
    assert.deepEqual([1, 2, 3].map((t) => m.threads.get(t)?.tgid), [1000, 1001, 1002], 'tids unchanged, each in its process');
  });

  it('keeps syscall slices and marker spans apart: both end where they should', () => {
    assert.equal(syscalls, 5, 'every completed syscall checked');
    const span = m.slices.find((s) => s.name === 'phase')!;
    assert.equal(span.track.name, 'span phase');
    const sys = m.slices.filter((s) => s.track.tid === 2 && s.name === 'sys 50');
    assert.equal(sys.length, 2, 'two trace_mark syscalls, each a slice of its own');
    assert.ok(sys[0]!.ts < span.ts && span.ts < sys[0]!.end! && sys[1]!.ts < span.end! && span.end! < sys[1]!.end!, 'the span starts in the first and ends in the second');
    // the span runs from the begin marker to the end marker
    const ev = (i: string) => d.events.find((e) => fmt(e.id) === i)!;
    assert.equal(span.ts, Math.round(ev('#0:7').ns));
    assert.equal(span.end, Math.round(ev('#0:19').ns));
    assert.ok(!m.slices.some((s) => s.name === 'orphan'), 'an end without a begin is dropped');
    // the exit syscall ends with its thread
    const exit = m.slices.find((s) => s.id === '#0:24')!;
    assert.equal(exit.end, Math.round(ev('#0:25').ns));
    assert.equal(m.openAtEnd, 0);
  });

  it('draws one arrow per cause → effect: the submit fans out to match, wake-up and completion', () => {
    assert.equal(edges, 7);
    const from = (id: string) => m.flows.filter((f) => f.from.id === id).map((f) => f.to.id).sort();
    assert.deepEqual(from('#1:2'), ['#1:3', '#1:4', '#1:5']);
    assert.deepEqual(from('#0:10'), ['#0:11', '#1:3']);
    assert.deepEqual(m.flows.filter((f) => f.to.id === '#0:16').map((f) => f.from.id).sort(), ['#0:14', '#0:15'], 'the cancel: from its target and from its cause');
  });

  it('writes scheduling per CPU, loads and counters, and shows unknown events', () => {
    assert.deepEqual([...m.switches.keys()].sort(), [0, 1]);
    assert.deepEqual(m.counters.get('cpu1 load')?.map((c) => c.value), [1024]);
    assert.deepEqual(m.counters.get('cpu0 run queue')?.map((c) => c.value), [1]);
    assert.deepEqual(m.counters.get('marker depth')?.map((c) => c.value), [42]);
    const last = m.switches.get(0)!.at(-1)!;
    assert.equal(last.prevState, 16, 'an exited thread leaves as X (dead)');
    assert.equal(m.switches.get(1)![1]!.prevState, 1, 'a blocked one as S');
    assert.ok(m.slices.some((s) => s.name === 'event_250' && s.args.get('raw') === 'efbeadde00000000'));
    // a whole submission's record (send + recv_inline) decodes as one submit per action
    const sub = m.slices.find((s) => s.id === '#0:10')!;
    assert.equal(sub.name, 'ipc_submit send');
    assert.equal(sub.args.get('payload'), '010203');
    const recv = m.slices.filter((s) => s.ts === sub.ts && s.name.startsWith('ipc_submit'));
    assert.deepEqual(recv.map((s) => s.name), ['ipc_submit send', 'ipc_submit recv_inline'], 'both actions, at the record\'s time');
    assert.equal(recv[1]!.args.get('payload'), '', 'the payload is the send\'s');
    const cancel = m.slices.find((s) => s.id === '#0:16')!;
    assert.equal(cancel.args.get('target'), '#0:14');
  });
});

describe('perfetto export: sysfs', () => {
  it('numeric attributes become counter tracks per attribute; adds, removes and every change are instants', () => {
    let s = 1;
    const r = (name: string, f: Record<string, FieldValue>) => encodeRecord(defs, name, { cpu: 0, tsc: 1000 * s, seq: s++ }, f);
    const d = decodeBuffer(concat([
      makeHeader(1_000_000_000n, 0n, 1),
      r('sysfs_add', { node: 7n, path: '/sys/drivers/console.3' }),
      r('sysfs_attr', { node: 5n, text: '/sys/devices/system/cpu/cpu0/load=512' }),
      r('sysfs_attr', { node: 7n, text: '/sys/drivers/console.3/ioports=0x3f8-0x3ff' }),
      r('sysfs_attr', { node: 5n, text: '/sys/devices/system/cpu/cpu0/load=700' }),
      r('sysfs_attr', { node: 6n, text: '/sys/kernel/trace/classes=ipc,sched' }),
      r('sysfs_remove', { node: 7n, path: '/sys/drivers/console.3' }),
    ]));
    const { m } = exportAndValidate(d.events, 'sysfs');
    assert.deepEqual(m.counters.get('sysfs /sys/devices/system/cpu/cpu0/load')?.map((c) => c.value), [512, 700]);
    assert.deepEqual([...m.counters.keys()].filter((k) => k.startsWith('sysfs ')), ['sysfs /sys/devices/system/cpu/cpu0/load'], 'only numbers make counters');
    const names = m.slices.map((x) => x.name);
    for (const n of ['+ /sys/drivers/console.3', '/sys/drivers/console.3/ioports=0x3f8-0x3ff', '/sys/kernel/trace/classes=ipc,sched', '- /sys/drivers/console.3'])
      assert.ok(names.includes(n), `instant "${n}" on the sysfs track`);
  });
});

describe('perfetto export: every event type', () => {
  it('exports each event the schema defines into a valid trace', () => {
    const d = decodeBuffer(everyEvent());
    const names = new Set(d.events.map((e) => e.name));
    // (ipc_exchange reaches consumers as the ipc_match + two ipc_complete it stands for)
    for (const def of defs.byId.values()) if (def.name !== 'event_def' && def.name !== 'ipc_exchange') assert.ok(names.has(def.name), def.name);
    assert.ok(!names.has('ipc_exchange'), 'the decoder expands ipc_exchange');
    const { m } = exportAndValidate(d.events, 'every event');
    assert.ok(m.slices.length > 15 && m.flows.length > 3);
  });
});

/** `cat` reads from /dev/slow, Ctrl-C: the read is cancelled across posix and fs (CANCEL-TRACE records,
 * written by libc/posix/fs through trace_user, inside the kernel's own syscall slices), then a read
 * that completes (no chain). */
function cancelScenario(): Uint8Array {
  const seq = [0, 0];
  let t = 1000;
  const r = (cpu: number, name: string, f: Record<string, FieldValue>) => encodeRecord(defs, name, { cpu, tsc: (t += 1000), seq: seq[cpu]!++ }, f);
  const call = (5n << 32n) | 1n;
  const call2 = (5n << 32n) | 2n;
  // a record written through the trace_user syscall: enter, the record, exit (ids in that order)
  const tu = (cpu: number, tid: number, name: string, f: Record<string, FieldValue>) => {
    const enter = r(cpu, 'syscall_enter', { num: 90, tid, a0: 160 });
    const at = seq[cpu]! - 1;
    return [enter, r(cpu, name, f), r(cpu, 'syscall_exit', { num: 90, tid, result: 0, cause: id(cpu, at) })];
  };
  return concat([
    makeHeader(1_000_000_000n, 0n, 2),
    r(0, 'proc_create', { pid: 1, parent: 0, name: 'posix' }), //                                   0:0
    r(0, 'thread_create', { tid: 3, pid: 1, home_cpu: 0, kernel: 0, name: 'posix' }), //            0:1
    r(0, 'proc_create', { pid: 2, parent: 1, name: 'fs' }), //                                      0:2
    r(0, 'thread_create', { tid: 4, pid: 2, home_cpu: 0, kernel: 0, name: 'fs' }), //               0:3
    r(0, 'proc_create', { pid: 3, parent: 1, name: 'cat' }), //                                     0:4
    r(0, 'thread_create', { tid: 5, pid: 3, home_cpu: 0, kernel: 0, name: 'cat' }), //              0:5
    ...tu(0, 5, 'sys_begin', { call, pid: 3, tid: 5, nr: 0x101, fd: 3, arg: 4096n, name: 'read' }), // 0:6-8 (begin 0:7)
    r(1, 'sig_generate', { sender_pid: 1, target_pid: 3, target_tid: 5, signo: 2, why: 2, call, value: 0n }), // 1:0
    ...tu(1, 3, 'sig_flag', { call, tid: 5, from: 1, to: 2, signo: 2 }), //                  1:1-3 (flag 1:2)
    ...tu(1, 3, 'cancel_raise', { call, tid: 5, server_pid: 2, kind: 1, request: 7n, target: 'fs' }), // 1:4-6 (raise 1:5)
    ...tu(1, 4, 'cancel_ack', { call, server_pid: 2, live: 0, progress: 1024n, request: 7n, server: 'fs' }), // 1:7-9 (ack 1:8)
    ...tu(0, 5, 'sys_end', { call, pid: 3, tid: 5, result: 1024n, outcome: 2, signo: 2, requested: 4096n, done: 1024n }), // 0:9-11 (end 0:10)
    ...tu(0, 5, 'sig_handler', { call, pid: 3, tid: 5, signo: 2, phase: 0, handler: 0x4000n }), // 0:12-14 (enter 0:13)
    ...tu(0, 5, 'sig_handler', { call, pid: 3, tid: 5, signo: 2, phase: 1, handler: 0x4000n }), // 0:15-17 (return 0:16)
    ...tu(0, 5, 'sys_begin', { call: call2, pid: 3, tid: 5, nr: 0x101, fd: 3, arg: 4096n, name: 'read' }), // 0:18-20 (0:19)
    ...tu(0, 5, 'sig_flag', { call: call2, tid: 5, from: 0, to: 1, signo: 0 }), //            0:21-23
    ...tu(0, 5, 'sys_end', { call: call2, pid: 3, tid: 5, result: 4096n, outcome: 0, signo: 0, requested: 4096n, done: 4096n }), // 0:24-26 (0:25)
  ]);
}

describe('perfetto export: syscall cancellation chains', () => {
  const d = decodeBuffer(cancelScenario());
  const { m } = exportAndValidate(d.events, 'cancel');
  it('draws POSIX calls as slices on their own track (they do not nest with the kernel syscalls that write them)', () => {
    const reads = m.slices.filter((s) => s.name === 'read(3, 4096)');
    assert.equal(reads.length, 2);
    assert.equal(reads[0]!.track.name, 'cat [5] POSIX calls');
    const ev = (i: string) => d.events.find((e) => fmt(e.id) === i)!;
    assert.equal(reads[0]!.ts, Math.round(ev('#0:7').ns));
    assert.equal(reads[0]!.end, Math.round(ev('#0:10').ns));
    assert.ok(m.slices.some((s) => s.name === '→ 1024 (partial 1024 of 4096)' && s.track.tid === 5), 'the outcome on the thread');
    assert.equal(m.slices.find((s) => s.id === '#1:0')!.track.pid, 1003, 'the signal on the target process (cat, pid 3)');
    assert.equal(m.slices.find((s) => s.id === '#1:8')!.track.pid, 1002, 'the ack on the server (fs, pid 2)');
    assert.equal(m.openAtEnd, 0);
  });
  it('links the cancelled call\'s records in order, one flow per link; the completed call has none', () => {
    const next = new Map(m.flows.filter((f) => f.from.id && f.to.id && ['#0:7', '#1:0', '#1:2', '#1:5', '#1:8', '#0:10', '#0:13'].includes(f.from.id)).map((f) => [f.from.id!, f.to.id!]));
    const chain = ['#0:7'];
    while (next.has(chain.at(-1)!) && chain.length < 20) chain.push(next.get(chain.at(-1)!)!);
    assert.deepEqual(chain, ['#0:7', '#1:0', '#1:2', '#1:5', '#1:8', '#0:10', '#0:13', '#0:16'], 'begin → signal → flag 1→2 → cancel → ack → outcome → handler enter → return');
    assert.ok(!m.flows.some((f) => ['#0:19', '#0:22', '#0:25'].includes(f.from.id!) || ['#0:19', '#0:22', '#0:25'].includes(f.to.id!)), 'a completed call draws no chain');
  });
});

/** Checks that hold for any real LaneOS recording. */
function checkReal(events: TraceEvent[], how: string): Model {
  const t0 = performance.now();
  const { m, pb, syscalls, edges } = exportAndValidate(events, how);
  const ms = performance.now() - t0;
  const names = new Set(events.map((e) => e.name));
  for (const n of ['ctx_switch', 'wakeup', 'syscall_enter', 'ipc_submit', 'ipc_match', 'ipc_complete', 'ipc_cancel', 'load_sample']) assert.ok(names.has(n), `${how}: has ${n}`);
  assert.ok(syscalls > 20, `${how}: syscall slices (${syscalls})`);
  const flowNames = new Set(m.flows.map((f) => `${f.from.name.split(' ')[0]}>${f.to.name.split(' ')[0]}`));
  for (const k of ['ipc_submit>ipc_match', 'ipc_submit>ipc_complete', 'ipc_submit>ipc_cancel']) assert.ok(flowNames.has(k), `${how}: a ${k} arrow (${[...flowNames].join(' ')})`);
  assert.ok([...flowNames].some((k) => k.endsWith('>wakeup')), `${how}: a wake-up arrow from its cause`);
  const demo = [...m.processes.values()].filter((p) => p.name.startsWith('ipc-demo'));
  assert.ok(demo.length >= 3, `${how}: client and two servers (${demo.length} ipc-demo processes)`);
  assert.ok(m.switches.size === 2, `${how}: both CPUs scheduled`);
  assert.ok(m.counters.has('cpu0 load') && m.counters.has('cpu1 load'));
  assert.ok(m.maxBundle <= 256);
  console.log(`# ${how}: ${events.length} events → ${pb.length} bytes, ${m.packets} packets, ${m.tracks.size} tracks, ${m.slices.length} slices, ${m.flows.length} flows (${edges} cause pairs), ${syscalls} syscalls, ${m.openAtEnd} slices open at the end; export+validate ${ms.toFixed(0)} ms${NO_PROTOC ? '' : ' (with protoc)'}`);
  return m;
}

describe('perfetto export: a real recording (checked in)', () => {
  const file = join(PROTO_DIR, 'ipc-demo.ltrace.gz');
  it('LaneOS booting, ipc-demo, `trace mark` spans and counters', { skip: !existsSync(file) && `no ${file}` }, () => {
    const d = decodeBuffer(new Uint8Array(gunzipSync(readFileSync(file))));
    assert.equal(d.stats.unknown, 0);
    const m = checkReal(d.events, 'ipc-demo.ltrace');
    const span = m.slices.find((s) => s.track.name === 'span demo');
    assert.ok(span && span.end !== undefined && span.end > span.ts, 'the shell’s `trace mark demo begin` … `end` is one span');
    assert.ok(m.counters.get('marker level')?.some((c) => c.value === 7));
  });
});

describe('perfetto export: corrupted recordings', () => {
  const file = join(PROTO_DIR, 'ipc-demo.ltrace.gz');
  it('whatever the decoder makes of damaged bytes exports without throwing, as well-formed protobuf', { skip: !existsSync(file) && `no ${file}` }, () => {
    const clean = new Uint8Array(gunzipSync(readFileSync(file)));
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 6; round++) {
      const b = clean.slice();
      for (let k = 0; k < 40; k++) b[4096 + Math.floor(rnd() * (b.length - 4096))] = Math.floor(rnd() * 256);
      const d = decodeBuffer(b);
      const pb = exportPerfetto(d.events);
      const t = decodeMsg(schema, 'Trace', pb, `round ${round}`);
      assert.ok(((t['packet'] ?? []) as unknown[]).length > 100);
    }
  });
});

const EXTRA = process.env['LANES_PERFETTO_TRACE'];
describe('perfetto export: a recording named by LANES_PERFETTO_TRACE', { skip: !EXTRA && 'set LANES_PERFETTO_TRACE=FILE to validate the export of any recording' }, () => {
  it('exports and validates it', () => {
    const t = loadTrace(EXTRA!);
    const { m, syscalls, edges } = exportAndValidate(t.events, EXTRA!);
    console.log(`# ${EXTRA}: ${t.events.length} events, ${m.packets} packets, ${m.slices.length} slices, ${m.flows.length} flows (${edges} pairs), ${syscalls} syscalls, ${m.openAtEnd} open at the end`);
  });
});

const KERNEL = process.env['LANES_TRACE_KERNEL'] ?? join(ROOT, 'os/build/kernel/lanes32.elf');
const INITRD = process.env['LANES_TRACE_INITRD'] ?? join(ROOT, 'os/build/initrd.tar');
const noKernel = !existsSync(KERNEL) || !existsSync(INITRD) ? `no kernel/initrd at ${KERNEL} (run make -C os)` : false;

/** Boots LaneOS (TCG, 2 CPUs) with COM2 recording into a file from the first instruction, runs the
 * shell commands, and returns the recording. The kernel and initrd are copied first (other builds
 * may replace os/build underneath). */
async function recordBoot(commands: { cmd: string; until: RegExp }[]): Promise<{ file: string; dir: string; console: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'perfetto-live-'));
  copyFileSync(KERNEL, join(dir, 'kernel.elf'));
  copyFileSync(INITRD, join(dir, 'initrd.tar'));
  const com2 = join(dir, 'com2.bin');
  const rec = join(dir, 'rec.ltrace');
  const g = bootGuest({ kernel: join(dir, 'kernel.elf'), initrd: join(dir, 'initrd.tar'), smp: 2, extra: ['-serial', `file:${com2}`] });
  // a live reader of the file while QEMU runs, only to see `trace sync`'s markers arrive
  const marks: TraceEvent[] = [];
  const watch = new TraceSession({ serial: com2 });
  watch.on('events', (evs: TraceEvent[]) => { for (const e of evs) if (e.name === 'marker') marks.push(e); });
  try {
    await g.prompt();
    watch.start();
    for (const c of commands) await g.run(c.cmd, 180000, c.until);
    await traceSync(g, () => marks); // the drainer has sent everything the commands made
  } finally {
    await watch.stop().catch(() => undefined);
    await g.kill();
  }
  const out = g.output();
  // the recording path of `trace record`: COM2 → TraceSession → a trace file
  const s = new TraceSession({ serial: com2, out: rec });
  s.start();
  await s.stop();
  writeFileSync(join(dir, 'console.txt'), out);
  return { file: existsSync(rec) && readFileSync(rec).length > 0 ? rec : com2, dir, console: out };
}

describe('perfetto export: a live LaneOS boot running ipc-demo (QEMU, TCG)', { skip: noKernel }, () => {
  it('records the boot and ipc-demo over COM2, exports it, and the export validates', async () => {
    const prompt = /lanes\$ /;
    const { file, dir, console: con } = await recordBoot([
      { cmd: 'trace mark demo begin', until: prompt },
      { cmd: 'ipc-demo 2 20', until: /ipc-demo: done[^\n]*\n[\s\S]*lanes\$ / },
      { cmd: 'trace mark demo end', until: prompt },
      { cmd: 'trace mark level counter 7', until: prompt },
    ]);
    try {
      assert.match(con, /ipc-demo: done, 2 rounds, 0 failed/);
      const t = loadTrace(file);
      assert.equal(t.stats.unknown, 0);
      assert.equal(t.stats.lost, 0, 'no events lost');
      if (process.env['LANES_PERFETTO_SAVE']) {
        execFileSync('sh', ['-c', `gzip -9 -n -c < '${file}' > '${process.env['LANES_PERFETTO_SAVE']}'`]);
        console.log(`# saved the recording to ${process.env['LANES_PERFETTO_SAVE']}`);
      }
      const m = checkReal(t.events, 'live boot');
      assert.ok(m.slices.some((s) => s.track.name === 'span demo'), 'the shell’s span');
      // the command line: `trace export` names syscalls from the generated ABI (os/build/abi.json)
      const abi = join(ROOT, 'os/build/abi.json');
      if (existsSync(abi)) {
        const pf = join(dir, 'out.pftrace');
        execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'debugger/node/trace/cli.ts'), 'export', file, '--perfetto', pf, '--abi', abi], { cwd: ROOT });
        const m2 = validate(schema, new Uint8Array(readFileSync(pf)));
        crossCheck(t.events, m2, 'cli export');
        const names = new Set(m2.slices.map((s) => s.name));
        for (const n of ['sys ipc_submit', 'sys console_write', 'sys process_spawn']) assert.ok(names.has(n), `cli export: a "${n}" slice`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('perfetto export: protoc', { skip: NO_PROTOC }, () => {
  it('protoc --decode reads the scenario with the .proto subset and finds no unknown field', () => {
    const pb = exportPerfetto(decodeBuffer(scenario()).events);
    const text = protocDecode(pb)!;
    assert.match(text, /sched_switch \{/);
    assert.match(text, /terminating_flow_ids: \d+/);
    assert.match(text, /type: TYPE_SLICE_BEGIN/);
    assert.ok(!/^\s*\d+(:| \{)/m.test(text));
  });
});
