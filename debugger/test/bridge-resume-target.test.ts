/*
 * Bridge.resumeTarget(): a stopped target let run with no client waiting (the serial CLI does it
 * when the last gdb leaves a board) is a run of the bridge's own — a client that attaches later is
 * served by a transparent pause (0x03, the request, the run resumed). Against a fake stub that
 * runs until it gets 0x03. Before, the CLI resumed the RspClient behind the bridge's back and the
 * next gdb's first forwarded request was parked behind a stop the bridge never saw: it hung.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { encodePacket, RspDecoder } from '../common/rsp.js';
import { Bridge } from '../node/bridge.js';
import { RspClient } from '../node/client.js';

test('a run started by resumeTarget is paused transparently for a client that attaches later', { timeout: 30000 }, async () => {
  const sock = path.join(os.tmpdir(), `lanescope-resume-${process.pid}.sock`);
  const seen: string[] = [];
  let running = false;
  const server = net.createServer((s) => {
    const dec = new RspDecoder({ rle: false });
    const send = (d: string) => s.write(Buffer.from(encodePacket(d), 'latin1'));
    s.on('data', (chunk) => {
      for (const e of dec.feed(chunk)) {
        if (e.kind === 'interrupt') {
          seen.push('^C');
          if (running) { running = false; send('T02thread:1;'); }
          continue;
        }
        if (e.kind !== 'packet') continue;
        seen.push(e.data);
        s.write('+');
        if (e.data === 'vCont;c' || e.data === 'c') { running = true; continue; }
        if (e.data.startsWith('qSupported')) send('PacketSize=1000');
        else if (e.data === '?') send('S05');
        else if (/^m[0-9a-f]+,4$/.test(e.data)) send('0badcafe'.slice(0, 8));
        else send('');
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const b = await Bridge.start(`unix:${sock}`, 0);
  try {
    b.resumeTarget();
    const until = Date.now() + 5000;
    while (!running && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.ok(running, `the target runs: ${seen.join(' ')}`);
    const c = await RspClient.connect(`127.0.0.1:${b.port}`, { requestTimeoutMs: 5000 });
    assert.equal(await c.request('m1000,4'), '0badcafe', 'served by a transparent pause');
    const after = seen.slice(seen.indexOf('vCont;c'));
    assert.deepEqual(after.slice(0, 4), ['vCont;c', '^C', 'm1000,4', 'vCont;c'], `paused, served, resumed: ${after.join(' ')}`);
    c.close();
  } finally {
    await b.close();
    server.close();
    fs.rmSync(sock, { force: true });
  }
});
