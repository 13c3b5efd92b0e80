/*
 * The shared serial line's demultiplexer (common/serial-mux.ts): console, gdb units and trace
 * frames on one byte stream, split at every possible point, with noise.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  consoleInput, MUX_RSP, MUX_TRACE, muxLine, RspMarker, SerialDemux, traceSwitch, TRACE_MAX,
} from '../common/serial-mux.js';
import { cobsEncode, FrameDecoder } from '../common/trace/serial.js';
import { checksum } from '../common/rsp.js';
import type { Transport } from '../common/transport.js';

const root = path.resolve(__dirname, '../..');
const b = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const str = (u: Uint8Array) => String.fromCharCode(...u);
const pkt = (d: string) => `$${d}#${checksum(d).toString(16).padStart(2, '0')}`;
const R = String.fromCharCode(MUX_RSP);
const T = String.fromCharCode(MUX_TRACE);

function collect() {
  const out = { console: '', rsp: [] as string[], trace: [] as Uint8Array[], order: [] as string[] };
  const d = new SerialDemux({
    console: (x) => { out.console += str(x); out.order.push('c'); },
    rsp: (u) => { out.rsp.push(str(u)); out.order.push('r'); },
    trace: (f) => { out.trace.push(f); out.order.push('t'); },
  });
  return { d, out };
}

function frame(payload: number[]): string {
  return T + str(cobsEncode(Uint8Array.from(payload))) + '\0';
}

describe('serial mux: the wire bytes', () => {
  it('are the ABI constants of os/abi/kernel.toml', () => {
    const toml = fs.readFileSync(path.join(root, 'os/abi/kernel.toml'), 'utf8');
    const val = (name: string) => Number(new RegExp(`name = "${name}"\\nvalue = "(0x[0-9a-f]+)"`).exec(toml)?.[1]);
    assert.equal(val('DEBUG_MUX_RSP'), MUX_RSP);
    assert.equal(val('DEBUG_MUX_TRACE'), MUX_TRACE);
  });
});

describe('SerialDemux', () => {
  const wire = 'LaneOS boot\r\n$ echo $HOME\r\n' + R + pkt('T05thread:1;') + 'more console ' + R + '+' +
    frame([1, 0, 0, 0, 0x30, 0, 0x1c, 0x24, 0x23, 0]) + 'tail ' + R + pkt('OK') + '$ ';

  it('splits console, units and frames, in order', () => {
    const { d, out } = collect();
    d.feed(b(wire));
    assert.equal(out.console, 'LaneOS boot\r\n$ echo $HOME\r\nmore console tail $ ');
    assert.deepEqual(out.rsp, [pkt('T05thread:1;'), '+', pkt('OK')]);
    assert.equal(out.trace.length, 1);
    assert.deepEqual([...out.trace[0]!], [...cobsEncode(Uint8Array.from([1, 0, 0, 0, 0x30, 0, 0x1c, 0x24, 0x23, 0])), 0]);
    assert.deepEqual(out.order, ['c', 'r', 'c', 'r', 't', 'c', 'r', 'c']);
    assert.equal(d.stats.rspUnits, 3);
    assert.equal(d.stats.traceFrames, 1);
    assert.equal(d.stats.rxBytes, wire.length);
  });

  it('gives the same result however the stream is cut', () => {
    const whole = collect();
    whole.d.feed(b(wire));
    for (let cut = 0; cut <= wire.length; cut++) {
      const { d, out } = collect();
      d.feed(b(wire.slice(0, cut)));
      d.feed(b(wire.slice(cut)));
      assert.equal(out.console, whole.out.console, `cut at ${cut}`);
      assert.deepEqual(out.rsp, whole.out.rsp, `cut at ${cut}`);
      assert.deepEqual(out.trace, whole.out.trace, `cut at ${cut}`);
    }
    const { d, out } = collect();
    for (const c of b(wire)) d.feed(Uint8Array.of(c));
    assert.equal(out.console, whole.out.console);
  });

  it('gives a marker that starts no unit back to the console', () => {
    const { d, out } = collect();
    d.feed(b(`a${R}b${R}${R}c`));
    assert.equal(out.console, `a${R}b${R}${R}c`);
    assert.deepEqual(out.rsp, []);
  });

  it('marked 0x03 and - are units; - from the target counts as a NAK', () => {
    const { d, out } = collect();
    d.feed(b(`${R}\x03x${R}-`));
    assert.deepEqual(out.rsp, ['\x03', '-']);
    assert.equal(d.stats.naksFromTarget, 1);
    assert.equal(out.console, 'x');
  });

  it('gives back a 0x1d that no frame follows, once TRACE_MAX bytes passed without a 0x00', () => {
    const { d, out } = collect();
    const text = 'x'.repeat(TRACE_MAX + 10);
    d.feed(b(`${T}${text}`));
    assert.equal(out.console, T + text);
    assert.equal(out.trace.length, 0);
    assert.equal(d.stats.dropped, 1);
  });

  it('drops a packet that never ends (a cable pulled mid-packet) and goes on', () => {
    const { d, out } = collect();
    d.feed(b(`${R}$m1000,10` + 'z'.repeat(17000)));
    d.feed(b(`ok ${R}${pkt('S05')}`));
    assert.deepEqual(out.rsp, [pkt('S05')]);
    assert.equal(d.stats.dropped, 1);
    assert.ok(out.console.endsWith('ok '));
  });

  it('starts over at a marker inside a unit cut short (a board reset mid-reply)', () => {
    const { d, out } = collect();
    d.feed(b(`${R}$T05thr${R}${pkt('OK')}x${R}$m1#${R}${pkt('S05')}`));
    assert.deepEqual(out.rsp, [pkt('OK'), pkt('S05')]);
    assert.equal(d.stats.dropped, 2);
    assert.equal(out.console, 'x');
  });

  it('hands frames the trace decoder accepts', () => {
    const { d, out } = collect();
    const noisy = 'boot\r\n' + frame([0, 0, 0, 0]) + 'x';
    d.feed(b(noisy));
    const fd = new FrameDecoder();
    for (const f of out.trace) fd.push(f);
    assert.equal(fd.stats.corruptFrames, 1, 'a frame without a CRC is corrupt: the decoder saw exactly one frame');
  });
});

describe('RspMarker and console input', () => {
  it('marks every unit gdb sends, however its writes are cut', () => {
    // an X packet's binary data may hold the marker byte itself: it passes unmarked
    const x = pkt(`X1000,3:a}\x03${R}`);
    const gdb = '+' + pkt('qSupported:multiprocess+') + '\x03' + x + '-';
    const expect = R + '+' + R + pkt('qSupported:multiprocess+') + R + '\x03' + R + x + R + '-';
    for (let cut = 0; cut <= gdb.length; cut++) {
      const m = new RspMarker();
      const got = str(m.encode(b(gdb.slice(0, cut)))) + str(m.encode(b(gdb.slice(cut))));
      assert.equal(got, expect, `cut at ${cut}`);
    }
  });

  it('never lets the console type a marker', () => {
    assert.equal(str(consoleInput(b(`ls${R}$x\r`))), 'ls$x\r');
  });

  it('switches the trace with a marked, checksummed packet', () => {
    assert.equal(str(traceSwitch(true)), R + pkt('QLanesTrace:1'));
    assert.equal(str(traceSwitch(false)), R + pkt('QLanesTrace:0'));
  });
});

describe('muxLine', () => {
  function fakeLine() {
    let onData: ((b: Uint8Array) => void) | undefined;
    let onClose: ((e?: Error) => void) | undefined;
    const sent: string[] = [];
    const t: Transport = {
      description: 'fake',
      write: (x) => { sent.push(str(x)); },
      start: (d, c) => { onData = d; onClose = c; },
      close: () => onClose?.(),
    };
    return { t, sent, recv: (s: string) => onData!(b(s)), end: () => onClose!() };
  }

  it('gives gdb only its units, the console only its bytes', () => {
    const line = fakeLine();
    const con: string[] = [];
    const m = muxLine(line.t, { console: (x) => con.push(str(x)) });
    const got: string[] = [];
    let closed = false;
    m.rsp.start((x) => got.push(str(x)), () => { closed = true; });
    m.rsp.writeBinary!(pkt('?'));
    m.writeConsole('ls\r');
    m.setTrace(true);
    assert.deepEqual(line.sent, [R + pkt('?'), 'ls\r', R + pkt('QLanesTrace:1')]);
    line.recv(`hello ${R}${pkt('S05')}world`);
    assert.deepEqual(got, [pkt('S05')]);
    assert.deepEqual(con, ['hello ', 'world']);
    assert.equal(m.stats.txBytes, line.sent.join('').length);
    line.end();
    assert.equal(closed, true, 'the line closing closes the gdb side');
  });

  it('closing the gdb side leaves the console running', () => {
    const line = fakeLine();
    const con: string[] = [];
    const m = muxLine(line.t, { console: (x) => con.push(str(x)) });
    m.rsp.start(() => {}, () => {});
    m.rsp.close();
    line.recv('still here');
    assert.deepEqual(con, ['still here']);
    m.writeConsole('x');
    assert.deepEqual(line.sent, ['x']);
  });
});

describe('the bridge and the kernel stub', () => {
  it('gives clients stop replies without the break reasons it did not offer them', async () => {
    const { forClient } = await import('../node/bridge.js');
    assert.equal(forClient('T05thread:1;hwbreak:;'), 'T05thread:1;');
    assert.equal(forClient('T05thread:2;swbreak:;'), 'T05thread:2;');
    assert.equal(forClient('T05thread:1;watch:ffff8000;'), 'T05thread:1;watch:ffff8000;');
    assert.equal(forClient('S05'), 'S05');
  });
});
