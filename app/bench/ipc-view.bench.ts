/*
 * Benchmark (not a test): opening a real trace in the IPC lanes view the way the panel does
 * (raw bytes → RecordDecoder → EventMerger → adapter → IpcModel), then frame computation while
 * panning at three zoom levels. Trace: test-results/ipctests.ltrace (recorded from LaneOS by
 * app/test/unit/ipc-recorded.test.ts) or the file given as argument; baseline in the same run:
 * the decoder alone on the same bytes (so the view's own cost shows as a ratio).
 *   node --import tsx app/bench/ipc-view.bench.ts [trace.ltrace]
 */
import fs from 'node:fs';
import path from 'node:path';
import { RecordDecoder } from '../../debugger/common/trace/records.js';
import { IpcModel } from '../../visualizers/ipc/model.js';
import { LodCache, computeFrame, defaultState, layout, newFrame } from '../../visualizers/ipc/frame.js';
import { TraceFeed } from '../browser/views/ipc/trace-feed.js';

const repo = path.resolve(import.meta.dirname, '../..');
const file = process.argv[2] ?? path.join(repo, 'test-results/ipctests.ltrace');
if (!fs.existsSync(file)) {
  console.error(`no trace at ${file}: record one (node --import tsx --test app/test/unit/ipc-recorded.test.ts) or pass a path`);
  process.exit(2);
}
const bytes = new Uint8Array(fs.readFileSync(file));
const CHUNK = 4 << 20; // what trace.read returns at most
const f = (x: number, d = 1) => x.toFixed(d);

// baseline: decoding alone
let t = performance.now();
const dec = new RecordDecoder();
let n = 0;
for (let o = 0; o < bytes.length; o += CHUNK) n += dec.push(bytes.subarray(o, o + CHUNK)).length;
n += dec.finish().length;
const decodeMs = performance.now() - t;

const heap0 = process.memoryUsage().heapUsed;
t = performance.now();
const model = new IpcModel();
const feed = new TraceFeed(model);
for (let o = 0; o < bytes.length; o += CHUNK) feed.push(bytes.subarray(o, o + CHUNK));
feed.finish();
const openMs = performance.now() - t;
const heap = process.memoryUsage().heapUsed - heap0;

console.log(`IPC lanes view — open ${path.basename(file)}: ${f(bytes.length / 1048576)} MiB, ${feed.events.toLocaleString()} events (${feed.used.toLocaleString()} for the view: ${model.opCount.toLocaleString()} ops, ${model.msgCount.toLocaleString()} messages, ${model.convs.length} streams)`);
console.log(`open (decode + merge + model): ${f(openMs, 0)} ms = ${f(feed.events / (openMs / 1000) / 1e6, 2)} M events/s; baseline decode alone ${f(decodeMs, 0)} ms (${n.toLocaleString()} events) → view/decoder ratio ${f(openMs / decodeMs, 2)}`);
console.log(`memory: model columns ${f(model.memoryBytes() / 1048576)} MiB; heap growth while opening ${f(heap / 1048576)} MiB`);
const st = defaultState();
const lay = layout(model, st);
const fr = newFrame();
const lod = new LodCache();
for (const [name, frac] of [['whole', 1], ['1%', 0.01], ['0.01%', 0.0001]] as const) {
  const total = model.lastNs - model.firstNs;
  const span = total * frac;
  const times: number[] = [];
  for (let i = 0; i < 120; i++) {
    const t0 = model.firstNs + ((total - span) * i) / 120;
    const s = performance.now();
    computeFrame(model, lay, st, { t0, t1: t0 + span, width: 1200, x0: 150 }, fr, { lod });
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  console.log(`pan ${name} window: frame compute median ${f(times[60]!, 2)} ms, worst ${f(times[119]!, 2)} ms (${fr.detailed ? 'arrows' : 'aggregated'}, ${fr.visible.toLocaleString()} messages in the last frame)`);
}
