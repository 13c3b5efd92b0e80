/*
 * The pieces behind "Break on next message" that run without a target:
 *  - the user-stack unwinder (debugger/common/unwind.ts): a hand-assembled .debug_frame (CIE +
 *    FDE with push rbp / mov rsp,rbp) over a fake stack, the frame-pointer fallback where no FDE
 *    covers a pc, a corrupt stack, and the real CFI of a LaneOS program (needs `make -C os`);
 *  - the model keeps one op per submit id (the copy read from the kernel's ring at the stop, then
 *    the drained one), and a view-less select of the op → message hand-over (BreakOnNext.trySelect).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseElf, Symbolizer } from '../../../debugger/common/elf.js';
import { cfaAt, elfFdes, findFde, parseDebugFrame, unwind } from '../../../debugger/common/unwind.js';
import { IpcModel } from '../../../visualizers/ipc/model.js';
import type { SubmitEvent } from '../../../visualizers/ipc/events.js';

const repo = path.resolve(import.meta.dirname, '../../..');

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** .debug_frame with one CIE (CFA = rsp+8, RA at CFA-8) and one FDE for [start, start+len): push rbp; mov rsp,rbp. */
function debugFrame(start: bigint, len: number): Uint8Array {
  const cieBody = [
    0xff, 0xff, 0xff, 0xff, // CIE id
    4, 0, // version 4, augmentation ""
    8, 0, // address size, segment size
    ...uleb(1), 0x78, // code align 1, data align -8 (sleb)
    ...uleb(16), // RA register
    0x0c, 7, 8, // def_cfa rsp+8
    0x90, 1, // offset r16 (RA) at cfa-8
  ];
  while ((cieBody.length + 4) % 8) cieBody.push(0);
  const fdeIns = [
    0x41, // advance 1 (after push rbp)
    0x0e, 16, // def_cfa_offset 16
    0x86, 2, // rbp at cfa-16
    0x43, // advance 3 (after mov rsp,rbp)
    0x0d, 6, // def_cfa_register rbp
  ];
  const fdeBody: number[] = [0, 0, 0, 0];
  const le64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  fdeBody.push(...le64(start), ...le64(BigInt(len)), ...fdeIns);
  while ((fdeBody.length + 4) % 8) fdeBody.push(0);
  const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
  return new Uint8Array([...le32(cieBody.length), ...cieBody, ...le32(fdeBody.length), ...fdeBody]);
}

test('unwind: CFI in a function (before and after its prologue), then frame pointers, stopping outside the program', async () => {
  const fdes = parseDebugFrame(debugFrame(0x401000n, 0x40));
  assert.equal(fdes.length, 1);
  assert.equal(findFde(fdes, 0x401000n)?.start, 0x401000n);
  assert.equal(findFde(fdes, 0x401040n), undefined);
  const at0 = cfaAt(fdes[0]!, 0x401000n);
  assert.deepEqual([at0.cfaReg, at0.cfaOff], [7, 8]);
  const at1 = cfaAt(fdes[0]!, 0x401001n);
  assert.deepEqual([at1.cfaReg, at1.cfaOff], [7, 16]);
  assert.deepEqual(at1.rules.get(6), { kind: 'offset', off: -16 });
  const at4 = cfaAt(fdes[0]!, 0x401010n);
  assert.deepEqual([at4.cfaReg, at4.cfaOff], [6, 16]);

  // stack: frame 0 in the CFI function after its prologue (rbp = 0x7000), called from 0x402010 (no
  // FDE: frame pointers), called from 0x402110, whose caller's return address is outside
  const mem = new Map<bigint, bigint>([
    [0x7000n, 0x7100n], [0x7008n, 0x402010n], // frame 0's saved rbp, return address
    [0x7100n, 0x7200n], [0x7108n, 0x402110n], // frame 1 (frame pointers)
    [0x7200n, 0n], [0x7208n, 0xdead0000n], // frame 2: caller outside the program
  ]);
  const o = {
    read64: async (a: bigint) => {
      const v = mem.get(a);
      if (v === undefined) throw new Error(`unmapped 0x${a.toString(16)}`);
      return v;
    },
    inProgram: (pc: bigint) => pc >= 0x400000n && pc < 0x500000n,
  };
  const r = await unwind(fdes, { rip: 0x401020n, rsp: 0x6ff0n, rbp: 0x7000n }, o);
  assert.deepEqual(r.frames.map((f) => [f.rip, f.how]), [[0x401020n, 'top'], [0x402010n, 'cfi'], [0x402110n, 'fp']]);
  assert.equal(r.frames[1]!.rsp, 0x7010n);
  assert.match(r.why, /0xdead0000 is outside the program/);
  // at the first instruction (nothing pushed yet) the return address is at rsp
  mem.set(0x6ff0n, 0x402010n);
  const r0 = await unwind(fdes, { rip: 0x401000n, rsp: 0x6ff0n, rbp: 0x7100n }, o);
  assert.deepEqual(r0.frames.slice(0, 3).map((f) => f.rip), [0x401000n, 0x402010n, 0x402110n]);
  // a stack that points down (corrupt): stops with the reason instead of looping
  const bad = new Map<bigint, bigint>([[0x7000n, 0x6000n], [0x7008n, 0x402010n], [0x6000n, 0x7000n], [0x6008n, 0x402010n]]);
  const rb = await unwind([], { rip: 0x402000n, rsp: 0x6ff0n, rbp: 0x7000n }, { ...o, read64: async (a) => bad.get(a) ?? 0n });
  assert.match(rb.why, /did not move up/);
  // unreadable memory: the reason, no throw
  const ru = await unwind([], { rip: 0x402000n, rsp: 0x6ff0n, rbp: 0x9000n }, o);
  assert.equal(ru.frames.length, 1);
  assert.match(ru.why, /cannot read the stack: unmapped 0x9008/);
  // garbage CFI: no FDEs, no throw
  assert.deepEqual(parseDebugFrame(new Uint8Array([8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])), []);
});

test('unwind: the real .debug_frame of ipc-demo covers libc\'s IPC wrapper at its system call', { skip: !fs.existsSync(path.join(repo, 'os/build/programs/ipc-demo.elf')) && 'needs make -C os' }, () => {
  const elf = parseElf(new Uint8Array(fs.readFileSync(path.join(repo, 'os/build/programs/ipc-demo.elf'))));
  const fdes = elfFdes(elf);
  assert.ok(fdes.length > 20, `${fdes.length} FDEs`);
  const sym = new Symbolizer(elf);
  const fn = sym.lookup('lanes_ipc_submit')!;
  const f = findFde(fdes, fn)!;
  assert.ok(f, 'an FDE for lanes_ipc_submit');
  assert.deepEqual([cfaAt(f, fn).cfaReg, cfaAt(f, fn).cfaOff], [7, 8], 'at entry: CFA = rsp + 8');
  // at its `syscall` instruction (0f 05): CFA from rbp, the return address at CFA - 8
  const text = elf.sections.find((x) => x.addr <= fn && fn < x.addr + BigInt(x.size))!;
  const code = elf.sectionData(text);
  let at = -1n;
  for (let a = fn; a + 1n < f.end; a++) {
    const o = Number(a - text.addr);
    if (code[o] === 0x0f && code[o + 1] === 0x05) at = a;
  }
  assert.ok(at > fn, 'lanes_ipc_submit makes the system call itself');
  const body = cfaAt(f, at);
  assert.ok(body.cfaReg === 6 || (body.cfaReg === 7 && body.cfaOff > 8), `in the body: CFA from rbp, or rsp past the pushes (${body.cfaReg}+${body.cfaOff})`);
  assert.deepEqual(body.rules.get(16), { kind: 'offset', off: -8 });
});

function submit(id: number, ns: number): SubmitEvent {
  return { kind: 'submit', id, ns, cpu: 0, stream: 5, conversation: 0, tag: 1, bytes: 4, actions: [3], pid: 10, tid: 100, lane: 0, retAddr: 0x401000, payload: new Uint8Array([1, 2, 3, 4]) };
}

test('the model keeps one op per submit id: the copy read at the stop, then the drained copy', () => {
  const m = new IpcModel();
  m.add({ kind: 'process', ns: 0, pid: 10, parent: 1, name: 'ipc-demo' });
  m.add(submit(281474976710657, 1000)); // read from the ring while halted
  assert.equal(m.opCount, 1);
  m.add(submit(3, 900)); // drained later: an older submit on another CPU
  m.add(submit(281474976710657, 1000)); // the drained copy
  assert.equal(m.opCount, 2);
  assert.equal(m.duplicates, 1);
  m.add({ kind: 'submit', id: 4, ns: 1100, cpu: 0, stream: 5, conversation: 0, tag: 2, bytes: 0, actions: [4], pid: 11, tid: 110, lane: 1, retAddr: 0, payload: undefined });
  m.add({ kind: 'match', id: 5, ns: 1200, cpu: 0, stream: 5, conversation: 0, cause: 4, other: 281474976710657, childStream: 0, result: 0 });
  const op = m.opOfId(281474976710657);
  assert.equal(m.opMsg[op], 0, 'the early op is the message\'s sender');
  assert.equal(m.msgSrc[0], op);
  assert.equal(m.opDetail(op).process, 'ipc-demo');
});

test('BreakOnNext hands the selection from the pending op to its message once it matches', async () => {
  const { BreakOnNext } = await import('../../browser/views/ipc/break.js');
  const model = new IpcModel();
  const calls: string[] = [];
  let selOp = -1;
  let selMsg = -1;
  const view = {
    select: (m: number) => {
      calls.push(`msg ${m}`);
      selOp = -1;
      selMsg = m;
    },
    selectedMessage: () => selMsg,
    selectOp: (op: number) => {
      calls.push(`op ${op}`);
      selOp = op;
      selMsg = -1;
    },
    selectedOp: () => selOp,
    setStatus: () => undefined,
  };
  const ctx = { client: { request: async () => { throw new Error('no backend'); }, on: () => () => undefined }, openFile: async () => undefined };
  const b = new BreakOnNext(ctx as never, () => ({ view, model }));
  (b as unknown as { wantId: number }).wantId = 7;
  b.trySelect();
  assert.deepEqual(calls, [], 'nothing to select before the op exists');
  model.add(submit(7, 10));
  b.trySelect();
  assert.deepEqual(calls, ['op 0']);
  model.add({ kind: 'submit', id: 8, ns: 20, cpu: 0, stream: 5, conversation: 0, tag: 2, bytes: 0, actions: [4], pid: 11, tid: 110, lane: 1, retAddr: 0, payload: undefined });
  model.add({ kind: 'match', id: 9, ns: 30, cpu: 0, stream: 5, conversation: 0, cause: 8, other: 7, childStream: 0, result: 0 });
  b.trySelect();
  assert.deepEqual(calls, ['op 0', 'msg 0']);
  b.trySelect();
  assert.deepEqual(calls, ['op 0', 'msg 0'], 'once');
  // an op that ends without a message (cancelled) stays selected; the user selecting something
  // else is never overridden
  (b as unknown as { wantId: number; shownOp: boolean }).wantId = 10;
  (b as unknown as { shownOp: boolean }).shownOp = false;
  selMsg = -1;
  model.add(submit(10, 40));
  b.trySelect();
  assert.deepEqual(calls.slice(2), ['op 2']);
  model.add({ kind: 'cancel', id: 11, ns: 50, cpu: 0, stream: 5, tag: 1, target: 10, cause: 0, pid: 10, tid: 100 });
  b.trySelect();
  assert.equal((b as unknown as { wantId?: number }).wantId, undefined, 'done: it ended without a message');
  (b as unknown as { wantId: number; shownOp: boolean }).wantId = 12;
  (b as unknown as { shownOp: boolean }).shownOp = false;
  selMsg = 0; // the user looks at message 0
  model.add(submit(12, 60));
  b.trySelect();
  assert.deepEqual(calls.slice(3), [], 'the user\'s selection stands');
});
