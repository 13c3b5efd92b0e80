/*
 * defs.ts — event definitions: parsing the self-describing texts into record layouts.
 *
 * A definition text (from an event_def record, or the built-in copy generated from
 * os/abi/trace.toml into schema.gen.ts) reads
 *     name|class|type field,type field:enum,...
 * with types u8 u16 u32 u64 i8 i16 i32 i64 (naturally aligned after the 24-byte header) and an
 * optional last str[N] / bytes[N] (u16 length + bytes). Definitions that arrive in the trace
 * replace built-in ones with the same id, so a newer kernel's events decode by their own
 * description. Pure: no Node.
 */
import { TRACE_DEFS, TRACE_CLASSES, TRACE_ENUMS } from './schema.gen.js';

export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'str' | 'bytes';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  offset: number;
  max: number; // str/bytes: maximum length; scalars: size
  enumName?: string;
}

export interface EventDef {
  id: number;
  name: string;
  cls: string;
  fields: FieldSpec[];
  fixed: number; // header + fixed fields
  text: string;
}

const SIZES: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8, i8: 1, i16: 2, i32: 4, i64: 8 };
const TAIL = /^(str|bytes)\[(\d+)\]$/;

export class DefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefError';
  }
}

/** Parses one definition text; throws DefError naming what is wrong. */
export function parseDef(id: number, text: string): EventDef {
  const parts = text.split('|');
  if (parts.length !== 3) throw new DefError(`event ${id}: definition '${text}' is not 'name|class|fields'`);
  const [name, cls, body] = parts as [string, string, string];
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new DefError(`event ${id}: bad name '${name}'`);
  const fields: FieldSpec[] = [];
  let off = 24;
  const items = body.length ? body.split(',') : [];
  for (let i = 0; i < items.length; i++) {
    const m = /^(\S+) ([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?$/.exec(items[i]!);
    if (!m) throw new DefError(`event ${id} (${name}): bad field '${items[i]}'`);
    const type = m[1]!;
    const t = TAIL.exec(type);
    if (t) {
      if (i !== items.length - 1) throw new DefError(`event ${id} (${name}): ${type} must be the last field`);
      fields.push({ name: m[2]!, kind: t[1] as FieldKind, offset: off, max: Number(t[2]), enumName: m[3] });
    } else {
      const sz = SIZES[type];
      if (!sz) throw new DefError(`event ${id} (${name}): unknown field type '${type}'`);
      if (off % sz) throw new DefError(`event ${id} (${name}): field ${m[2]} misaligned at ${off}`);
      fields.push({ name: m[2]!, kind: type as FieldKind, offset: off, max: sz, enumName: m[3] });
      off += sz;
    }
  }
  return { id, name, cls, fields, fixed: off, text };
}

/**
 * Fields the decoders themselves read (to learn the clock and the definitions, to count losses,
 * to expand ipc_exchange and whole submissions), by event: each must keep its name and kind
 * (number, str or bytes) in any redefinition. A stream's event_def that breaks this (say an
 * ipc_submit whose `actions` became a string) is refused — the built-in definition stays — so
 * the decoders never compute with values of the wrong type.
 */
const NEEDED: Record<string, Record<string, 'num' | 'str' | 'bytes'>> = {
  trace_header: { magic: 'num', tsc_hz: 'num', tsc_base: 'num' },
  event_def: { def_id: 'num', text: 'str' },
  lost: { count: 'num' },
  transport_lost: { count: 'num' },
  ipc_submit: { stream: 'num', conversation: 'num', tag: 'num', bytes: 'num', actions: 'num', pid: 'num', tid: 'num', lane: 'num', nactions: 'num', payload: 'bytes' },
  ipc_match: { stream: 'num', conversation: 'num', cause: 'num', other: 'num', child_stream: 'num', result: 'num' },
  ipc_complete: { stream: 'num', tag: 'num', cause: 'num', result: 'num', bytes: 'num', pid: 'num', tid: 'num' },
  ipc_exchange: {
    stream: 'num', conversation: 'num', cause: 'num', other: 'num', child_stream: 'num', result: 'num', reserved: 'num',
    tag_a: 'num', tag_b: 'num', result_a: 'num', result_b: 'num', bytes_a: 'num', bytes_b: 'num',
    pid_a: 'num', tid_a: 'num', pid_b: 'num', tid_b: 'num',
  },
};
const BUILTIN_NAME = new Map<number, string>();
for (const d of TRACE_DEFS) BUILTIN_NAME.set(d.id, d.text.slice(0, d.text.indexOf('|')));

/**
 * Why a definition from a stream cannot replace the one for its id (undefined: it can). Ids of
 * events the decoders read keep their name and the kinds of the fields they read; an id must
 * fit the record header's u16 type, and 0 is padding.
 */
export function redefinitionProblem(def: EventDef): string | undefined {
  if (!Number.isInteger(def.id) || def.id <= 0 || def.id > 0xffff) return `event_def names event id ${def.id}, not 1..65535`;
  const builtin = BUILTIN_NAME.get(def.id);
  const needed = builtin !== undefined ? NEEDED[builtin] : undefined;
  if (!needed) return undefined;
  if (def.name !== builtin) return `event_def renames event ${def.id} (${builtin}) to '${def.name}'; the decoder relies on it`;
  for (const [name, kind] of Object.entries(needed)) {
    const f = def.fields.find((x) => x.name === name);
    const k = !f ? undefined : f.kind === 'str' || f.kind === 'bytes' ? f.kind : 'num';
    if (k !== kind) return `event_def for ${builtin} ${f ? `makes field '${name}' ${f.kind}` : `drops field '${name}'`}; the decoder needs it as ${kind === 'num' ? 'a number' : kind}`;
  }
  return undefined;
}

/** The id -> definition table a decoder uses; starts with the built-in schema. */
export class DefTable {
  readonly byId = new Map<number, EventDef>();
  readonly byName = new Map<string, EventDef>();

  constructor(builtin = true) {
    if (builtin) for (const d of TRACE_DEFS) this.add(parseDef(d.id, d.text));
  }

  add(def: EventDef): void {
    const old = this.byId.get(def.id);
    if (old && old.text === def.text) return;
    if (old) this.byName.delete(old.name);
    this.byId.set(def.id, def);
    this.byName.set(def.name, def);
  }

  get(id: number): EventDef | undefined {
    return this.byId.get(id);
  }
}

export function classMask(names: string[]): number {
  let m = 0;
  for (const n of names) {
    const b = TRACE_CLASSES[n];
    if (b === undefined) throw new DefError(`unknown trace class '${n}' (known: ${Object.keys(TRACE_CLASSES).join(', ')})`);
    m |= 1 << b;
  }
  return m >>> 0;
}

export function enumName(enumName: string | undefined, v: number): string | undefined {
  if (!enumName) return undefined;
  return TRACE_ENUMS[enumName]?.[v];
}
