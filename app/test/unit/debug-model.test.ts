/*
 * Pure pieces of debugging (app/common/debug.ts): the breakpoint model, GDB/MI → view-model mapping
 * (with real MI text parsed by debugger/common/mi.ts), the per-process condition of user-program
 * breakpoints, the memory view's rows, the RSP log ring and its filter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMiLine, type MiTuple } from '../../../debugger/common/mi.js';
import {
  BreakpointModel,
  checkBreakpointSpecs,
  describeStop,
  gdbAttachCommand,
  hexRows,
  interestingRegisters,
  isUserAddress,
  mapFrame,
  mapVariable,
  matchesRspFilter,
  parseAddress,
  processCondition,
  programOfFile,
  registerGroup,
  RspRing,
  toProjectPath,
} from '../../common/debug.js';

const stopped = (line: string): MiTuple => {
  const r = parseMiLine(line);
  assert.ok(r && r.type === 'exec' && r.class === 'stopped', line);
  return (r as { data: MiTuple }).data;
};

describe('BreakpointModel', () => {
  it('toggles, enables, conditions, removes and notifies', () => {
    const m = new BreakpointModel();
    let n = 0;
    m.onChange(() => n++);
    assert.equal(m.toggle('kernel/generic/syscall.c', 684), true);
    assert.equal(m.toggle('kernel/generic/main.c', 10), true);
    assert.deepEqual(m.list().map((b) => `${b.file}:${b.line}`), ['kernel/generic/main.c:10', 'kernel/generic/syscall.c:684']);
    m.setCondition('kernel/generic/syscall.c', 684, '  nr == 3 ');
    assert.equal(m.get('kernel/generic/syscall.c', 684)!.condition, 'nr == 3');
    m.setCondition('kernel/generic/syscall.c', 684, '');
    assert.equal(m.get('kernel/generic/syscall.c', 684)!.condition, undefined);
    m.setEnabled('kernel/generic/main.c', 10, false);
    assert.equal(m.forFile('kernel/generic/main.c')[0]!.enabled, false);
    assert.equal(m.toggle('kernel/generic/main.c', 10), false, 'second toggle removes');
    m.remove('kernel/generic/syscall.c', 684);
    assert.equal(m.list().length, 0);
    assert.equal(n, 7);
  });

  it('shifts lines after an edit and drops breakpoints on deleted lines', () => {
    const m = new BreakpointModel([
      { file: 'a.c', line: 5, enabled: true },
      { file: 'a.c', line: 10, enabled: true },
      { file: 'a.c', line: 20, enabled: true },
      { file: 'b.c', line: 10, enabled: true },
    ]);
    m.shiftLines('a.c', 8, 2);
    assert.deepEqual(m.forFile('a.c').map((b) => b.line), [5, 12, 22]);
    m.shiftLines('a.c', 12, -3); // lines 12..14 deleted
    assert.deepEqual(m.forFile('a.c').map((b) => b.line), [5, 19]);
    assert.deepEqual(m.forFile('b.c').map((b) => b.line), [10]);
  });

  it('rejects bad specs from the renderer with a message naming the problem', () => {
    assert.equal(checkBreakpointSpecs([{ file: 'a.c', line: 3, enabled: true }]), null);
    assert.match(checkBreakpointSpecs('x')!, /must be a list/);
    assert.match(checkBreakpointSpecs([{ file: 'a.c', line: 0, enabled: true }])!, /positive integer/);
    assert.match(checkBreakpointSpecs([{ file: '../etc/passwd', line: 1, enabled: true }])!, /outside the project/);
    assert.match(checkBreakpointSpecs([{ file: 'a.c', line: 1, enabled: true, condition: 'a\n-exec-run' }])!, /bad condition/);
  });
});

describe('user programs', () => {
  it('knows which program a source file belongs to', () => {
    assert.equal(programOfFile('programs/ls/main.c'), 'ls');
    assert.equal(programOfFile('os/programs/fault-null/main.c'), 'fault-null');
    assert.equal(programOfFile('kernel/generic/syscall.c'), null);
  });
  it('conditions a breakpoint on the current process of the CPU that hit it', () => {
    assert.equal(processCondition('ls'), '$_streq(cpus[($_isvoid($lanes_cpu) ? $_thread - 1 : $lanes_cpu)]->current->proc->name, "ls")');
    assert.equal(processCondition('ls', 'argc > 1'), '($_streq(cpus[($_isvoid($lanes_cpu) ? $_thread - 1 : $lanes_cpu)]->current->proc->name, "ls")) && (argc > 1)');
    assert.ok(!processCondition('a"b').includes('a"b'), 'quotes cannot escape the string');
  });
});

describe('MI → view model', () => {
  const root = '/home/u/os';
  it('maps a breakpoint stop with a frame inside the project', () => {
    const t = stopped('*stopped,reason="breakpoint-hit",disp="keep",bkptno="4",frame={addr="0xffffffff80105a2b",func="syscall_dispatch",args=[{name="r",value="0xffff800000fe7f58"}],file="generic/syscall.c",fullname="/home/u/os/kernel/generic/syscall.c",line="684",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="0"');
    assert.deepEqual(describeStop(t), { text: 'breakpoint 4 in syscall_dispatch', kind: 'breakpoint' });
    assert.deepEqual(describeStop(t, new Map([['4', 'panic']])).kind, 'panic');
    const f = mapFrame(t.frame as MiTuple, root);
    assert.deepEqual(f, { level: 0, func: 'syscall_dispatch', addr: '0xffffffff80105a2b', inProject: true, file: 'kernel/generic/syscall.c', line: 684, space: 'kernel' });
  });
  it('maps steps, finish, pause and signals', () => {
    assert.equal(describeStop(stopped('*stopped,reason="end-stepping-range",frame={addr="0x1",func="f"},thread-id="1"')).kind, 'step');
    assert.match(describeStop(stopped('*stopped,reason="function-finished",frame={func="g"},gdb-result-var="$1",return-value="3",thread-id="1"')).text, /returned in g \(value 3\)/);
    assert.deepEqual(describeStop(stopped('*stopped,reason="signal-received",signal-name="SIGINT",signal-meaning="Interrupt",frame={addr="0xffffffff80100000",func="idle"},thread-id="2"')), { text: 'paused in idle', kind: 'pause' });
    assert.equal(describeStop(stopped('*stopped,reason="signal-received",signal-name="SIGTRAP",frame={addr="0x400010"},thread-id="1"')).text, 'SIGTRAP at 0x400010');
  });
  it('frames outside the project keep gdb\'s path and are not openable; user addresses are user space', () => {
    const f = mapFrame({ level: '2', addr: '0x400123', func: 'main', fullname: '/usr/src/x.c', line: '3' }, root);
    assert.equal(f.inProject, false);
    assert.equal(f.file, '/usr/src/x.c');
    assert.equal(f.space, 'user');
    assert.equal(mapFrame({ level: '0', addr: '0xffffffff80100000' }, root).func, '??');
    assert.equal(isUserAddress('0x400000'), true);
    assert.equal(isUserAddress('0xffffffff80100000'), false);
    assert.equal(isUserAddress('junk'), false);
    assert.deepEqual(toProjectPath('/home/u/os/./kernel/a.c', root), { file: 'kernel/a.c', inProject: true });
  });
  it('maps variables (from -stack-list-variables) and var objects', () => {
    const r = parseMiLine('^done,variables=[{name="r",arg="1",type="struct regs *",value="0xffff800000fe7f58"},{name="nr",type="uint64_t",value="3"}]');
    assert.ok(r && r.type === 'result');
    const vars = ((r as { data: MiTuple }).data.variables as MiTuple[]).map((v) => mapVariable(v));
    assert.deepEqual(vars, [
      { name: 'r', value: '0xffff800000fe7f58', numchild: 0, type: 'struct regs *', arg: true },
      { name: 'nr', value: '3', numchild: 0, type: 'uint64_t' },
    ]);
    assert.deepEqual(mapVariable({ name: 'var1.rax', exp: 'rax', numchild: '0', value: '3', type: 'uint64_t' }), { name: 'rax', value: '3', numchild: 0, type: 'uint64_t' });
  });
  it('groups registers and keeps general, segment and control ones', () => {
    assert.equal(registerGroup('cr3'), 'control');
    assert.equal(registerGroup('efer'), 'control');
    assert.equal(registerGroup('rip'), 'general');
    assert.equal(registerGroup('gs_base'), 'segment');
    assert.deepEqual(interestingRegisters(['rax', 'st0', 'xmm0', '', 'cr0', 'cs', 'mxcsr']), ['rax', 'cr0', 'cs']);
  });
});

describe('memory view, RSP log, attach line', () => {
  it('formats hex + ASCII rows of 16 bytes', () => {
    const hex = Buffer.from('LaneOS 0.1.0\n\x00\x01\x02ABCDEFGH').toString('hex');
    const rows = hexRows('0xffffffff80100000', hex);
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.address, '0xffffffff80100000');
    assert.equal(rows[0]!.hex.split(' ').length, 16);
    assert.equal(rows[0]!.ascii, 'LaneOS 0.1.0....');
    assert.equal(rows[1]!.address, '0xffffffff80100010');
    assert.equal(rows[1]!.ascii, 'ABCDEFGH');
    assert.equal(parseAddress('0xFFFF_8000'), 0xffff8000n);
    assert.equal(parseAddress('&cpus'), null);
  });
  it('keeps the last N packets and filters by text, direction and client', () => {
    const ring = new RspRing(3);
    for (let i = 0; i < 5; i++) ring.push({ time: i, dir: i % 2 ? 'target->bridge' : 'client->bridge', client: i % 2 ? 0 : 2, text: `$m${i},8#00`, size: 9 });
    assert.equal(ring.size, 3);
    assert.equal(ring.dropped, 2);
    assert.deepEqual(ring.entries().map((e) => e.time), [2, 3, 4]);
    assert.deepEqual(ring.entries('dir:target').map((e) => e.time), [3]);
    assert.deepEqual(ring.entries('client:2 m4').map((e) => e.time), [4]);
    assert.equal(matchesRspFilter({ time: 0, dir: 'bridge->client', client: 1, text: '$T05thread:01;#aa', size: 3 }, 'T05 dir:client'), true);
  });
  it('prints the command a user types to attach their own gdb', () => {
    assert.equal(gdbAttachCommand(40123, '/p/build/kernel/lanes.elf'), "gdb /p/build/kernel/lanes.elf -ex 'target remote :40123'");
  });
});
