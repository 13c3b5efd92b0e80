/*
 * RSP run-length decoding throughput (not a test): the input that made the old rleDecode
 * quadratic (a long run of maximal markers, `x*~*~*~…`: each marker appended 97 bytes and read the
 * output's last character back, flattening V8's rope every time — 16 KB took ~10 s), plain
 * repeated runs, and a real `g` reply shape. Prints the time per size; linear means the time
 * doubles with the size. Goal: any packet up to 1 MiB decodes in well under 100 ms.
 *
 *   node --import tsx debugger/bench/rsp-rle.bench.ts
 */
import { rleDecode, rleEncode } from '../common/rsp.js';

const shapes: Array<[string, (n: number) => string]> = [
  ['x*~ (max markers)', (n) => 'x' + '*~'.repeat(Math.floor(n / 2))],
  ['a*! (short runs)', (n) => ('a*!').repeat(Math.floor(n / 3))],
  ['registers (g reply)', (n) => rleEncode(('00000000' + 'ffffffff' + '0'.repeat(48) + '1234abcd').repeat(Math.ceil(n / 40))).slice(0, n).replace(/\*$/, '')],
];
for (const [name, mk] of shapes) {
  for (const n of [16 << 10, 64 << 10, 256 << 10, 1 << 20]) {
    const body = mk(n);
    const t0 = performance.now();
    const r = rleDecode(body, 64 << 20);
    const ms = performance.now() - t0;
    const out = 'data' in r ? `${(r.data.length / 1e6).toFixed(1)} MB out` : r.error;
    console.log(`${name.padEnd(22)} ${String(body.length >> 10).padStart(5)} KiB in  ${ms.toFixed(1).padStart(7)} ms  ${out}`);
  }
}
