/*
 * Golden fixtures: a host-compiled C program that uses the generated encoder
 * (lanes/abi/trace.h from os/abi/trace.toml) writes every event type, twice (large values that
 * exercise the bigint paths and high bits, and small ones), framed the way the kernel frames
 * COM2 too; the TypeScript decoder must read back exactly the values the program wrote.
 * Also: the checked-in schema.gen.ts matches os/abi/trace.toml (gentrace.py --check).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DefTable, type EventDef } from '../common/trace/defs.js';
import { RecordDecoder, type FieldValue } from '../common/trace/records.js';
import { FrameDecoder, frameEncode } from '../common/trace/serial.js';

// Tests run from the repository root (node --import tsx --test debugger/test/...).
const ROOT = resolve(process.env['LANESCOPE_ROOT'] ?? '.');

function valueFor(def: EventDef, i: number, round: number): bigint | string | number[] {
  const f = def.fields[i]!;
  const k = BigInt(def.id * 16 + i);
  if (f.kind === 'str') return `${def.name}:${round}:${'x'.repeat(round ? 300 : 3)}`;
  if (f.kind === 'bytes') return Array.from({ length: round ? 40 : 5 }, (_, j) => (def.id + i * 7 + j * 31) & 0xff);
  const big = round === 0;
  switch (f.kind) {
    case 'u8': return big ? 0xf0n + (k & 0xfn) : k & 0x7fn;
    case 'u16': return big ? 0xf000n + k : k;
    case 'u32': return big ? 0xf0000000n + k : k;
    case 'u64': return big ? 0xf000000000000000n + k : k;
    case 'i8': return big ? -100n : k & 0x3fn;
    case 'i16': return big ? -30000n : k;
    case 'i32': return big ? -2000000000n - k : k;
    case 'i64': return big ? -0x7000000000000000n - k : -k;
  }
}

function cLiteral(v: bigint | string | number[], kind: string): string[] {
  if (typeof v === 'string') return [JSON.stringify(v)];
  if (Array.isArray(v)) return [`(const uint8_t[]){${v.join(',')}}`, String(v.length)];
  if (kind === 'u64') return [`${v}ULL`];
  if (kind === 'i64') return [`(int64_t)(${v + 1n}LL - 1)`];
  if (kind === 'i32') return [`(int32_t)(${v})`];
  return [`${v}`];
}

function expected(v: bigint | string | number[], def: EventDef, i: number): FieldValue {
  const f = def.fields[i]!;
  if (typeof v === 'string') return v.slice(0, f.max);
  if (Array.isArray(v)) return Uint8Array.from(v.slice(0, f.max));
  return v;
}

function norm(x: FieldValue): unknown {
  if (typeof x === 'number') return BigInt(x);
  if (x instanceof Uint8Array) return Array.from(x);
  return x;
}

describe('trace golden fixtures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-golden-'));
  execFileSync('python3', [join(ROOT, 'os/abi/gentrace.py'), '--c-out', join(dir, 'inc')]);
  const defs = [...new DefTable().byId.values()].sort((a, b) => a.id - b.id);

  it('the checked-in TypeScript schema is generated from os/abi/trace.toml', () => {
    execFileSync('python3', [join(ROOT, 'os/abi/gentrace.py'), '--check', '--ts-file', join(ROOT, 'debugger/common/trace/schema.gen.ts')]);
  });

  it('a C program using the generated encoder round-trips every event type through the TS decoder', () => {
    const calls: string[] = [];
    for (let round = 0; round < 2; round++)
      for (const d of defs) {
        const args: string[] = [];
        d.fields.forEach((f, i) => args.push(...cLiteral(valueFor(d, i, round), f.kind)));
        calls.push(`    trace_emit_${d.name}(${args.join(', ')});`);
      }
    const src = `#include <stdio.h>
#include <string.h>
#include <lanes/abi/trace.h>
volatile uint32_t trace_classes = 0xffffffffu;
static uint8_t buf[1 << 20];
static size_t pos, pend;
static uint64_t seq;
void *trace_reserve(uint16_t type, uint32_t size, struct trace_slot *s)
{
    if (pos + size > sizeof buf) return NULL;
    struct trace_hdr *h = (void *)(buf + pos);
    memset(h, 0xee, size);
    h->type = type; h->size = (uint16_t)size; h->cpu = 3; h->flags = 0;
    h->tsc = 5000000000ULL + seq * 1000; h->id = (3ULL << 48) | seq; seq++;
    s->rec = h; s->id = h->id; s->flags = 0; s->ring = NULL;
    pend = pos + size;
    return h;
}
uint64_t trace_commit(struct trace_slot *s) { pos = pend; return s->id; }
int main(int argc, char **argv)
{
    (void)argc;
${calls.join('\n')}
    FILE *f = fopen(argv[1], "wb");
    fwrite(buf, 1, pos, f);
    fclose(f);
    return 0;
}
`;
    writeFileSync(join(dir, 'fixture.c'), src);
    execFileSync('gcc', ['-std=gnu17', '-Wall', '-Wextra', '-Werror', '-Wno-overflow', '-I', join(dir, 'inc'), '-o', join(dir, 'fixture'), join(dir, 'fixture.c')]);
    execFileSync(join(dir, 'fixture'), [join(dir, 'out.bin')]);
    const bytes = new Uint8Array(readFileSync(join(dir, 'out.bin')));

    const check = (events: ReturnType<RecordDecoder['push']>, how: string) => {
      // one event per emit, except ipc_exchange: the decoder expands it into ipc_match and two
      // ipc_complete (what the kernel would otherwise have recorded)
      assert.equal(events.length, defs.length * 2 + 2 * 2, `${how}: one event per emit (three per ipc_exchange)`);
      let n = 0;
      let k = 0;
      for (let round = 0; round < 2; round++)
        for (const d of defs) {
          const e = events[k]!;
          assert.equal(e.unknown, undefined);
          assert.equal(e.cpu, 3);
          assert.equal(e.seq, n);
          assert.equal(BigInt(e.id), (3n << 48n) | BigInt(n));
          assert.equal(e.tsc, 5000000000 + n * 1000);
          if (d.name === 'ipc_exchange') {
            const v = (name: string) => {
              const i = d.fields.findIndex((f) => f.name === name);
              return norm(expected(valueFor(d, i, round), d, i));
            };
            const [m, ca, cb] = [events[k]!, events[k + 1]!, events[k + 2]!];
            assert.deepEqual([m.name, ca.name, cb.name], ['ipc_match', 'ipc_complete', 'ipc_complete'], `${how}: ipc_exchange expands`);
            for (const x of ['stream', 'conversation', 'cause', 'other', 'child_stream', 'result'])
              assert.deepEqual(norm(m.fields[x]!), v(x), `${how}: ipc_exchange -> ipc_match.${x}`);
            for (const [c, side, cause] of [[ca, 'a', 'cause'], [cb, 'b', 'other']] as const) {
              assert.equal(c.tsc, e.tsc);
              assert.equal(c.seq, n);
              assert.equal(BigInt(c.id), (3n << 48n) | BigInt(n) | (side === 'a' ? 1n << 47n : 3n << 46n), 'a derived event has its own id');
              assert.deepEqual(norm(c.fields['stream']!), v('stream'));
              assert.deepEqual(norm(c.fields['cause']!), v(cause), `${how}: completion ${side} names its submit`);
              for (const x of ['tag', 'result', 'bytes', 'pid', 'tid'])
                assert.deepEqual(norm(c.fields[x]!), v(`${x}_${side}`), `${how}: ipc_exchange -> ipc_complete(${side}).${x}`);
            }
            k += 3;
            n++;
            continue;
          }
          assert.equal(e.name, d.name, `${how}: event ${n}`);
          d.fields.forEach((f, i) => {
            assert.deepEqual(norm(e.fields[f.name]!), norm(expected(valueFor(d, i, round), d, i)), `${how}: ${d.name}.${f.name} (round ${round})`);
          });
          n++;
          k++;
        }
    };
    // As a raw record stream (file / ivshmem), fed in awkward chunks.
    const dec = new RecordDecoder();
    dec.holdUntilClock = false;
    const ev1 = [];
    for (let i = 0; i < bytes.length; i += 13) ev1.push(...dec.push(bytes.subarray(i, i + 13)));
    ev1.push(...dec.finish());
    assert.equal(dec.stats.corruptBytes, 0);
    check(ev1, 'stream');
    // As COM2 frames.
    const fd = new FrameDecoder();
    fd.records.holdUntilClock = false;
    const ev2 = [];
    let off = 0;
    let seq = 0;
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    while (off < bytes.length) {
      let end = off;
      while (end < bytes.length && end - off < 900) end += dv.getUint16(end + 2, true);
      ev2.push(...fd.push(frameEncode(seq++, bytes.subarray(off, end))));
      off = end;
    }
    ev2.push(...fd.finish());
    assert.equal(fd.stats.corruptFrames, 0);
    assert.equal(fd.stats.missingFrames, 0);
    check(ev2, 'serial');
  });

  it("a whole submission's ipc_submit (the kernel's record_submission) decodes as one ipc_submit per action, with the ids the kernel gave them", () => {
    // {recv_inline, send 64 B, push_desc} (actions 0x634) and {send 5 B, recv_inline} (0x43),
    // then a single action (nactions 1) and a record claiming 17 actions: both kept as they are.
    const src = `#include <stdio.h>
#include <string.h>
#include <lanes/abi/trace.h>
volatile uint32_t trace_classes = 0xffffffffu;
static uint8_t buf[4096];
static size_t pos, pend;
static uint64_t seq;
void *trace_reserve(uint16_t type, uint32_t size, struct trace_slot *s)
{
    struct trace_hdr *h = (void *)(buf + pos);
    memset(h, 0xee, size);
    h->type = type; h->size = (uint16_t)size; h->cpu = 1; h->flags = 0;
    h->tsc = 1000 + seq; h->id = (1ULL << 48) | seq; seq++;
    s->rec = h; s->id = h->id; s->flags = 0; s->ring = NULL; s->end = 0;
    pend = pos + size;
    return h;
}
uint64_t trace_commit(struct trace_slot *s) { pos = pend; return s->id; }
int main(int argc, char **argv)
{
    (void)argc;
    static const uint8_t p[64] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33 };
    trace_emit_ipc_submit(9, 2, 77, 64, 0x634, 4, 5, 1, 3, 0x401000, p, 64);
    trace_emit_ipc_submit(10, 0, 78, 5, 0x43, 4, 6, 0, 2, 0x401010, p, 5);
    trace_emit_ipc_submit(11, 0, 79, 0, 0x4, 4, 6, 0, 1, 0x401020, NULL, 0);
    trace_emit_ipc_submit(12, 0, 80, 0, 0x4, 4, 6, 0, 17, 0x401030, NULL, 0);
    FILE *f = fopen(argv[1], "wb");
    fwrite(buf, 1, pos, f);
    fclose(f);
    return 0;
}
`;
    writeFileSync(join(dir, 'submit.c'), src);
    execFileSync('gcc', ['-std=gnu17', '-Wall', '-Wextra', '-Werror', '-I', join(dir, 'inc'), '-o', join(dir, 'submit'), join(dir, 'submit.c')]);
    execFileSync(join(dir, 'submit'), [join(dir, 'submit.bin')]);
    const dec = new RecordDecoder();
    dec.holdUntilClock = false;
    const evs = [...dec.push(new Uint8Array(readFileSync(join(dir, 'submit.bin')))), ...dec.finish()];
    assert.deepEqual(evs.map((e) => e.name), Array(7).fill('ipc_submit'), '3 + 2 + 1 + 1 events');
    const base = 1n << 48n;
    assert.deepEqual(evs.map((e) => BigInt(e.id)), [base, base + (1n << 42n), base + (2n << 42n), base + 1n, base + 1n + (1n << 42n), base + 2n, base + 3n]);
    assert.deepEqual(evs.map((e) => Number(e.fields['actions'])), [4, 3, 6, 3, 4, 4, 4], 'one action each, in order');
    assert.deepEqual(evs.map((e) => Number(e.fields['nactions'])), [1, 1, 1, 1, 1, 1, 17]);
    assert.deepEqual(evs.map((e) => Number(e.fields['bytes'])), [0, 64, 0, 5, 0, 0, 0], "the send's size on the send only");
    assert.deepEqual(evs.map((e) => (e.fields['payload'] as Uint8Array).length), [0, 32, 0, 5, 0, 0, 0], "the send's payload on the send only");
    assert.deepEqual(Array.from(evs[1]!.fields['payload'] as Uint8Array), Array.from({ length: 32 }, (_, i) => i + 1));
    for (const [i, want] of [[0, 0], [1, 0], [2, 0], [3, 1], [4, 1]] as const) {
      const e = evs[i]!;
      assert.equal(e.tsc, 1000 + want, 'at the record\'s time');
      assert.equal(Number(e.fields['stream']), 9 + want);
      assert.equal(Number(e.fields['tag']), 77 + want);
      assert.equal(Number(e.fields['tid']), 5 + want);
      assert.equal(Number(e.fields['lane']), want ? 0 : 1);
      assert.equal(Number(e.fields['ret_addr']), 0x401000 + 16 * want);
    }
    assert.equal(dec.stats.records, 4);
    assert.equal(dec.stats.events, 7);
  });
});
