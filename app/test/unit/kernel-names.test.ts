/*
 * The kernel names the debug session asks gdb for exist in the built kernel: the user call stack's
 * expressions (USER_FRAME_EXPRESSIONS: cpus[N]->current, its saved struct regs, its process's
 * name) and debug.traceRecord's trace_rings[N].FIELD (the generated TraceRingField names). A
 * renamed kernel field would otherwise only show at run time, as "There is no member named …"
 * in a path few sessions take. gdb reads the ELF's DWARF; no target runs (`whatis` only needs
 * types). Skipped with the reason when LaneOS is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { TraceRingLayout, TraceRingOffsets } from '../../../debugger/common/trace/layouts.gen.js';
import { USER_FRAME_EXPRESSIONS as E } from '../../node/debug/session.js';

const ELF = path.resolve(import.meta.dirname, '../../../os/build/kernel/lanes.elf');
const skip = fs.existsSync(ELF) ? false : `LaneOS is not built (no ${ELF}; run make -C os)`;

/** `whatis EXPR` for each expression: gdb's answer, or '' where it printed an error. */
function whatis(exprs: string[]): string[] {
  const args = ['-nx', '-q', '-batch'];
  exprs.forEach((e, i) => args.push('-ex', `echo @@${i}\\n`, '-ex', `whatis ${e}`));
  args.push('-ex', `echo @@${exprs.length}\\n`, ELF);
  const r = spawnSync('gdb', args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, String(r.error));
  return exprs.map((_, i) => {
    const a = r.stdout.indexOf(`@@${i}\n`);
    const b = r.stdout.indexOf(`@@${i + 1}\n`);
    return a < 0 || b < 0 ? '' : r.stdout.slice(a + `@@${i}\n`.length, b).trim();
  });
}

test('every kernel name the debug session evaluates exists in the ELF', { skip }, () => {
  const at = (e: string) => e.replace(/\$cpu/g, '1');
  const exprs = [
    at(E.current),
    at(E.hasProcess),
    ...E.regFields.map((f) => `${at(E.regs)}->${f}`),
    at(E.processName),
    ...Object.keys(TraceRingOffsets).map((f) => `${TraceRingLayout.symbol!}[1].${f}`),
  ];
  const got = whatis(exprs);
  exprs.forEach((e, i) => assert.match(got[i]!, /^type = /, `gdb knows ${e}`));
  // the check can fail: the field debug.traceRecord used to read, and a register that is not saved
  const [seq, bogus] = whatis([`${TraceRingLayout.symbol!}[1].seq`, `${at(E.regs)}->eip`]);
  assert.equal(seq, '');
  assert.equal(bogus, '');
});
