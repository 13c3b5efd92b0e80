import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { miQuote, parseMiLine } from '../common/mi.js';

describe('GDB/MI parser', () => {
  it('parses result records with tokens, tuples and lists', () => {
    const r = parseMiLine('12^done,bkpt={number="1",type="breakpoint",addr="0x0000000000001139",func="helper",thread-groups=["i1"],line="4"}');
    assert.deepEqual(r, { type: 'result', token: 12, class: 'done', data: {
      bkpt: { number: '1', type: 'breakpoint', addr: '0x0000000000001139', func: 'helper', 'thread-groups': ['i1'], line: '4' } } });
  });

  it('turns result lists into value lists', () => {
    const r = parseMiLine('^done,stack=[frame={level="0",func="a"},frame={level="1",func="b"}]');
    assert.ok(r.type === 'result');
    assert.deepEqual(r.data.stack, [{ level: '0', func: 'a' }, { level: '1', func: 'b' }]);
    const e = parseMiLine('^done,x=[],y={}');
    assert.ok(e.type === 'result' && Array.isArray(e.data.x) && Object.keys(e.data.y as object).length === 0);
  });

  it('parses async and stream records and the prompt', () => {
    assert.deepEqual(parseMiLine('*stopped,reason="breakpoint-hit",frame={addr="0x1",args=[{name="p",value="0x7ffe"}]},thread-id="1"'), {
      type: 'exec', class: 'stopped', data: { reason: 'breakpoint-hit', frame: { addr: '0x1', args: [{ name: 'p', value: '0x7ffe' }] }, 'thread-id': '1' } });
    assert.deepEqual(parseMiLine('*running,thread-id="all"'), { type: 'exec', class: 'running', data: { 'thread-id': 'all' } });
    assert.deepEqual(parseMiLine('=thread-group-started,id="i1",pid="42000"'), { type: 'notify', class: 'thread-group-started', data: { id: 'i1', pid: '42000' } });
    assert.deepEqual(parseMiLine('+download,section=".text"'), { type: 'status', class: 'download', data: { section: '.text' } });
    assert.deepEqual(parseMiLine('~"Hello \\"world\\"\\n"'), { type: 'console', text: 'Hello "world"\n' });
    assert.deepEqual(parseMiLine('&"warning\\t\\\\x"'), { type: 'log', text: 'warning\t\\x' });
    assert.deepEqual(parseMiLine('@"out"'), { type: 'target', text: 'out' });
    assert.deepEqual(parseMiLine('(gdb) '), { type: 'prompt' });
  });

  it('decodes octal escapes as UTF-8 bytes', () => {
    assert.deepEqual(parseMiLine('~"caf\\303\\251 \\000x"'), { type: 'console', text: 'café \u0000x' });
  });

  it('keeps repeated keys of a tuple', () => {
    const r = parseMiLine('^done,bkpt={number="1"},bkpt={number="1.1"}');
    assert.ok(r.type === 'result' && Array.isArray(r.data.bkpt) && r.data.bkpt.length === 2);
  });

  it('reports malformed lines with a reason instead of throwing', () => {
    for (const bad of ['^done,a="unterminated', '^done,a=', '^done,={}', '^done,a={b="1"', '^', 'garbage line', '~"x" trailing', '^done,a=[x]', '5~"tok"']) {
      const r = parseMiLine(bad);
      assert.equal(r.type, 'unparsed', bad);
      assert.ok(r.type === 'unparsed' && r.error.length > 5, bad);
    }
  });

  it('quotes arguments', () => {
    assert.equal(miQuote('a "b" \\c'), '"a \\"b\\" \\\\c"');
  });
});
