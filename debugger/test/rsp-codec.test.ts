import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bigIntToLeHex, binaryToBytes, bytesToHex, escapeBinary, hexToBytes, leHexToBigInt, unescapeBinary,
} from '../common/hex.js';
import {
  parseFeatures, parseStopReply, parseThreadList, parseX86_64Registers, X86_64_G_BYTES, X86_64_REGS,
} from '../common/packets.js';
import { checksum, encodeNotification, encodePacket, printable, rleDecode, rleEncode, RspDecoder, type RspEvent } from '../common/rsp.js';

const kinds = (ev: RspEvent[]) => ev.map((e) => (e.kind === 'error' ? `error:${e.error.code}` : e.kind === 'packet' || e.kind === 'notification' ? `${e.kind}:${e.data}` : e.kind));

describe('framing', () => {
  it('frames packets with a mod-256 checksum', () => {
    assert.equal(encodePacket('g'), '$g#67');
    assert.equal(encodePacket('qSupported'), '$qSupported#37');
    assert.equal(encodePacket(''), '$#00');
    assert.equal(checksum('OK'), 0x9a);
    assert.equal(encodeNotification('Stop:T05'), '%Stop:T05#' + checksum('Stop:T05').toString(16).padStart(2, '0'));
  });

  it('decodes packets, acks, naks, interrupts and notifications', () => {
    const d = new RspDecoder();
    assert.deepEqual(kinds(d.feed('+$OK#9a-\x03%Stop:T05#' + checksum('Stop:T05').toString(16))), ['ack', 'packet:OK', 'nak', 'interrupt', 'notification:Stop:T05']);
  });

  it('accepts packets cut at every possible point', () => {
    const wire = '+$m1000,10#' + checksum('m1000,10').toString(16).padStart(2, '0') + '$T05thread:01;#07';
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new RspDecoder();
      const ev = [...d.feed(wire.slice(0, cut)), ...d.feed(wire.slice(cut))];
      assert.deepEqual(kinds(ev), ['ack', 'packet:m1000,10', 'packet:T05thread:01;'], `cut at ${cut}`);
    }
    // byte by byte
    const d = new RspDecoder();
    const ev = [...wire].flatMap((c) => d.feed(c));
    assert.equal(ev.length, 3);
  });

  it('reports a bad checksum with both values and asks for a retransmit', () => {
    const d = new RspDecoder();
    const ev = d.feed('$OK#00$OK#9a');
    assert.equal(ev.length, 2);
    const e = ev[0]!;
    assert.ok(e.kind === 'error');
    assert.equal(e.error.code, 'bad-checksum');
    assert.match(e.error.message, /packet says 0x00, data sums to 0x9a/);
    assert.equal(e.error.nak, true);
    assert.deepEqual(kinds([ev[1]!]), ['packet:OK']);
  });

  it('reports malformed checksum digits, truncated packets and garbage, then resyncs', () => {
    const d = new RspDecoder();
    const ev = d.feed('$OK#zz$abc$OK#9ahello+');
    assert.deepEqual(kinds(ev), ['error:malformed-checksum', 'error:truncated', 'packet:OK', 'error:garbage', 'ack']);
    const g = ev[3]!;
    assert.ok(g.kind === 'error' && /5 unexpected byte\(s\) outside a packet: "hello"/.test(g.error.message));
    assert.equal(d.stats.errors, 3);
    assert.equal(d.stats.packets, 1);
  });

  it('reports a stream that ends mid-packet', () => {
    const d = new RspDecoder();
    assert.deepEqual(d.feed('$m10,4'), []);
    assert.equal(d.inPacket, true);
    const ev = d.end();
    assert.ok(ev[0]?.kind === 'error' && ev[0].error.code === 'truncated' && /middle of a packet/.test(ev[0].error.message));
  });

  it('rejects oversized packets', () => {
    const d = new RspDecoder({ maxPacketSize: 16 });
    const ev = d.feed('$' + 'a'.repeat(40) + '#00$OK#9a');
    assert.deepEqual(kinds(ev).filter((k) => k !== 'error:garbage'), ['error:too-long', 'packet:OK']);
  });
});

describe('run-length encoding', () => {
  it('decodes gdb-style runs', () => {
    assert.deepEqual(rleDecode('0* '), { data: '0000' }); // ' ' = 32 → 3 more
    assert.deepEqual(rleDecode('a*"b'), { data: 'aaaaaab' }); // '"' = 34 → 5 more
    const d = new RspDecoder();
    const body = '0*}';
    const ev = d.feed('$' + body + '#' + checksum(body).toString(16).padStart(2, '0'));
    assert.deepEqual(kinds(ev), ['packet:' + '0'.repeat(97)]);
  });

  it('reports malformed runs', () => {
    assert.ok('error' in rleDecode('*a'));
    assert.ok('error' in rleDecode('a*'));
    assert.ok('error' in rleDecode('a*\x01'));
    const d = new RspDecoder();
    const ev = d.feed('$*a#' + checksum('*a').toString(16).padStart(2, '0'));
    assert.deepEqual(kinds(ev), ['error:bad-rle']);
  });

  it('round-trips and never emits # or $ as a count', () => {
    for (const s of ['', 'a', '00000000', 'x'.repeat(7 + 1), 'y'.repeat(8), 'z'.repeat(300), '0000000011111111abc', '}}}}}}', escapeBinary(new Uint8Array([42, 42, 42, 42, 42]))]) {
      const e = rleEncode(s);
      assert.ok(!/\*[#$]/.test(e), `count char in ${e}`);
      assert.deepEqual(rleDecode(e), { data: s });
    }
    assert.ok(rleEncode('0'.repeat(64)).length < 10);
  });
});

describe('hex and binary escaping', () => {
  it('converts hex both ways and names bad digits', () => {
    assert.equal(bytesToHex(new Uint8Array([0, 0xab, 0xff])), '00abff');
    assert.deepEqual([...hexToBytes('00ABff')], [0, 0xab, 0xff]);
    assert.throws(() => hexToBytes('0g'), /invalid hex digit at offset 0/);
    assert.throws(() => hexToBytes('abc'), /odd-length/);
  });

  it('escapes # $ } * and round-trips every byte', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const e = escapeBinary(all);
    assert.ok(!/[#$*]/.test(e));
    assert.deepEqual([...unescapeBinary(e)], [...all]);
    assert.equal(escapeBinary(new Uint8Array([0x23, 0x24, 0x7d, 0x2a])), '}\x03}\x04}\x5d}\x0a');
    assert.throws(() => unescapeBinary('ab}'), /dangling escape/);
  });

  it('handles little-endian register values', () => {
    assert.equal(leHexToBigInt('f0ff000000000000'), 0xfff0n);
    assert.equal(leHexToBigInt('xxxxxxxx'), undefined);
    assert.equal(bigIntToLeHex(0x1122n, 4), '22110000');
    assert.equal(printable('a\x03b\\'), 'a\\x03b\\\\');
    assert.deepEqual([...binaryToBytes('\xff\x00')], [255, 0]);
  });
});

describe('stop replies and queries', () => {
  it('parses T replies with thread, core, registers and reasons', () => {
    const s = parseStopReply('T05thread:p1.2;core:1;swbreak:;10:f0ff000000000000;watch:1000;');
    assert.ok(s.kind === 'signal');
    assert.equal(s.signal, 5);
    assert.equal(s.thread, 'p1.2');
    assert.equal(s.core, 1);
    assert.equal(s.registers.get(0x10), 'f0ff000000000000');
    assert.deepEqual(s.reasons, [{ kind: 'swbreak' }, { kind: 'watch', address: 0x1000n }]);
    const h = parseStopReply('T05hwbreak:;thread:01;');
    assert.ok(h.kind === 'signal' && h.reasons[0]!.kind === 'hwbreak' && h.thread === '01');
  });

  it('parses S, W, X, O, N and w', () => {
    assert.deepEqual(parseStopReply('S02'), { kind: 'signal', signal: 2, reasons: [], registers: new Map(), raw: 'S02' });
    assert.deepEqual(parseStopReply('W03'), { kind: 'exited', code: 3, raw: 'W03' });
    assert.deepEqual(parseStopReply('W00;process:1a'), { kind: 'exited', code: 0, pid: '1a', raw: 'W00;process:1a' });
    assert.deepEqual(parseStopReply('X09'), { kind: 'terminated', signal: 9, raw: 'X09' });
    assert.deepEqual(parseStopReply('O48690a'), { kind: 'output', text: 'Hi\n', raw: 'O48690a' });
    assert.equal(parseStopReply('N').kind, 'no-resumed');
    assert.equal(parseStopReply('w00;2').kind, 'thread-exited');
  });

  it('reports malformed stop replies without throwing', () => {
    for (const bad of ['', 'T', 'Tzz', 'S1', 'Wxx', 'OK', 'E01', 'T05watch:zz;', 'Oxyz']) {
      const s = parseStopReply(bad);
      assert.equal(s.kind, 'invalid', bad);
      assert.ok(s.kind === 'invalid' && s.message.length > 0);
    }
  });

  it('parses qSupported and thread lists', () => {
    const f = parseFeatures('PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+;QStartNoAckMode-');
    assert.equal(f.get('PacketSize'), '1000');
    assert.equal(f.get('qXfer:features:read'), '+');
    assert.equal(f.get('QStartNoAckMode'), '-');
    assert.deepEqual(parseThreadList('m01,02'), { ids: ['01', '02'], done: false });
    assert.deepEqual(parseThreadList('l'), { ids: [], done: true });
    assert.ok('error' in parseThreadList('E01'));
  });

  it('lays out the x86_64 g blob as QEMU does (608 bytes)', () => {
    assert.equal(X86_64_G_BYTES, 608);
    assert.equal(X86_64_REGS[16]!.name, 'rip');
    const blob = X86_64_REGS.map((r) => (r.name === 'rip' ? bigIntToLeHex(0xfff0n, 8) : r.name === 'cr0' ? bigIntToLeHex(0x60000010n, 8) : '00'.repeat(r.bytes))).join('');
    const p = parseX86_64Registers(blob);
    assert.ok('regs' in p);
    assert.equal(p.regs.get('rip'), 0xfff0n);
    assert.equal(p.regs.get('cr0'), 0x60000010n);
    assert.ok('error' in parseX86_64Registers('00'.repeat(20)));
    assert.ok('error' in parseX86_64Registers('zz'));
  });
});
