/*
 * The browser-mode server as a real process (app/server/main.ts) against bad requests: the
 * reproducers of issue 21 (`GET //` on the HTTP and the upgrade path, an authorised
 * `/%E0%A4%A`, a malformed cookie) each get a 4xx and the server keeps serving; the asset cookie
 * is not the WebSocket token and cannot open the WebSocket; then a seeded, bounded fuzz of raw
 * HTTP requests, upgrades and WebSocket messages (loopback only), after which the process is
 * still alive and serves the page. Longer runs by hand:
 *   LANESCOPE_FUZZ=<multiplier> LANESCOPE_FUZZ_SEED=<n> node --import tsx --test app/test/unit/server-robust.test.ts
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const SCALE = Math.max(1, Number(process.env['LANESCOPE_FUZZ'] ?? 1) || 1);
const SEED = Number(process.env['LANESCOPE_FUZZ_SEED'] ?? 0x5e7e0021) >>> 0;
const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Srv { proc: ChildProcess; port: number; token: string; url: string; stderr: () => string; exited: () => boolean }

/** Starts the real server process; resolves with its URL once it printed it. */
export async function startServerProcess(extraEnv: Record<string, string> = {}): Promise<Srv & { dirs: string[] }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-srv-robust-'));
  const staticDir = path.join(tmp, 'static');
  const project = path.join(tmp, 'project');
  const state = path.join(tmp, 'state');
  for (const d of [staticDir, project, state]) fs.mkdirSync(d);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(staticDir, 'main.js'), 'export {};');
  fs.writeFileSync(path.join(project, 'hello.c'), 'int x;\n');
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, '--static', staticDir, '--project', project, '--state-dir', state], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...extraEnv },
  });
  let out = '';
  let err = '';
  let dead = false;
  proc.on('exit', () => { dead = true; });
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start in 30 s: ${out} ${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]!); }
    });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`server exited (${code}) before printing its URL: ${err}`)); });
  });
  const u = new URL(url);
  return { proc, port: Number(u.port), token: u.searchParams.get('token')!, url, stderr: () => err, exited: () => dead, dirs: [tmp] };
}

/** One raw request over TCP; resolves with the status code (0 if the server closed without one). */
export function raw(port: number, request: string | Buffer, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      clearTimeout(t);
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
    };
    const t = setTimeout(done, timeoutMs);
    s.on('connect', () => s.write(request));
    s.on('data', (d) => {
      data += d.toString('latin1');
      if (/\r\n\r\n/.test(data)) done();
    });
    s.on('error', done);
    s.on('close', done);
  });
}

const get = (srv: Srv, target: string, extra = '') =>
  raw(srv.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n${extra}Connection: close\r\n\r\n`);
const upgrade = (srv: Srv, target: string) =>
  get(srv, target, 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n');

async function stillServes(srv: Srv): Promise<void> {
  assert.equal(srv.exited(), false, `the server process died: ${srv.stderr()}`);
  const r = await fetch(srv.url);
  assert.equal(r.status, 200);
}

describe('browser-mode server: bad requests cannot kill it (real process)', () => {
  let srv: Srv & { dirs: string[] };
  before(async () => { srv = await startServerProcess(); });
  after(() => {
    srv.proc.kill('SIGKILL');
    for (const d of srv.dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('GET // (HTTP and upgrade), an authorised /%E0%A4%A and a malformed cookie get 4xx; the server keeps serving', async () => {
    const cases: Array<[string, () => Promise<number>]> = [
      ['GET //', () => get(srv, '//')],
      ['GET //x/y', () => get(srv, '//x/y')],
      ['upgrade //', () => upgrade(srv, '//')],
      ['upgrade //evil.example/ws', () => upgrade(srv, `//evil.example/ws?token=${srv.token}`)],
      ['authorised /%E0%A4%A', () => get(srv, `/%E0%A4%A?token=${srv.token}`)],
      ['authorised /%', () => get(srv, `/%?token=${srv.token}`)],
      ['malformed cookie', () => get(srv, '/main.js', `Cookie: lanescope_asset_${srv.port}=%E0%A4%A\r\n`)],
      ['asterisk target', () => get(srv, '*')],
      ['absolute-form target', () => get(srv, `http://127.0.0.1:${srv.port}/?token=${srv.token}`)],
      ['garbage request line', () => raw(srv.port, 'G\x00T / HTTP/1.1\r\n\r\n')],
    ];
    for (const [what, send] of cases) {
      const status = await send();
      assert.ok(status >= 400 && status < 500, `${what}: status ${status}`);
      await stillServes(srv);
    }
  });

  it('the asset cookie is a secret of its own: it fetches assets, it is not the token and opens no WebSocket', async () => {
    const page = await fetch(srv.url);
    const set = page.headers.get('set-cookie') ?? '';
    const m = new RegExp(`^lanescope_asset_${srv.port}=([^;]+);`).exec(set);
    assert.ok(m, set);
    const cookie = m[0].slice(0, -1);
    assert.ok(!set.includes(srv.token), 'the cookie does not carry the WebSocket token');
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    assert.equal((await fetch(`http://127.0.0.1:${srv.port}/main.js`, { headers: { cookie } })).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${srv.port}/main.js`)).status, 403);
    const ws = await new Promise<number>((resolve) => {
      const w = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, { headers: { cookie } });
      w.on('open', () => { w.close(); resolve(101); });
      w.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      w.on('error', () => resolve(0));
    });
    assert.equal(ws, 403, 'the cookie alone cannot open the WebSocket');
  });

  it(`fuzz: ${1500 * SCALE} random requests, upgrades and WebSocket messages (seeded) leave it serving`, { timeout: 120_000 }, async () => {
    const r = mulberry32(SEED);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const bytes = (n: number) => Buffer.from(new Uint8Array(n).map(() => Math.floor(r() * 256))).toString('latin1');
    const pieces = ['/', '//', '%', '%E0%A4%A', '%00', '..', '/..%2f', '?', `?token=${srv.token}`, '?token=', '#', '@', ':', '\\', 'ws', 'index.html',
      'main.js', '%2e%2e', '\u00e9', '\ud800', 'a'.repeat(3000), '*', 'http://x', ';'];
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'CONNECT', 'TRACE', 'PATCH', 'GET\x00', 'get', ''];
    const safeMethods = ['fs.list', 'fs.read', 'run.status', 'state.get', 'debug.status', 'term.resize', 'term.ack', 'term.close', 'debug.rspLog', 'serial.list', 'ipc.resolve', 'nope', 42];
    const N = 1500 * SCALE;
    let statuses = 0;
    for (let i = 0; i < N; i++) {
      const x = r();
      if (x < 0.6) {
        let target = '';
        for (let k = 0; k < 1 + Math.floor(r() * 4); k++) target += pick(pieces);
        if (r() < 0.1) target = bytes(Math.floor(r() * 30));
        const hdrs = [
          r() < 0.85 ? `Host: 127.0.0.1:${srv.port}` : pick(['Host: evil', 'Host:', `Host: localhost:${srv.port}`, 'Host: ' + bytes(8)]),
          ...(r() < 0.3 ? [`Cookie: ${pick([`lanescope_asset_${srv.port}=`, 'lanescope_token=', 'a=b; c', '=', ';;'])}${pick(['%', '%E0%A4%A', bytes(6), srv.token, ''])}`] : []),
          ...(r() < 0.15 ? [pick(['Content-Length: -1', 'Content-Length: 99999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: x', 'Expect: 100-continue'])] : []),
          ...(r() < 0.2 ? ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: ' + pick(['dGhlIHNhbXBsZSBub25jZQ==', '', 'x']), 'Sec-WebSocket-Version: ' + pick(['13', '8', 'x'])] : []),
          ...(r() < 0.1 ? ['Origin: ' + pick([`http://127.0.0.1:${srv.port}`, 'http://evil', 'null'])] : []),
        ];
        const req = `${pick(methods)} ${target} HTTP/1.${r() < 0.9 ? 1 : 0}\r\n${hdrs.join('\r\n')}\r\n\r\n${r() < 0.1 ? bytes(40) : ''}`;
        const status = await raw(srv.port, Buffer.from(req, 'latin1'), 3000);
        if (status) statuses++;
        assert.ok(status === 0 || status < 500, `request ${i} (seed ${SEED}): ${status} for ${JSON.stringify(req.slice(0, 200))}`);
      } else if (x < 0.7) {
        await raw(srv.port, Buffer.from(bytes(Math.floor(r() * 200)), 'latin1'), 1000); // not HTTP at all
      } else {
        // a valid WebSocket, then random messages (read-only methods, wrong params, junk)
        const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws?token=${srv.token}`);
        await new Promise<void>((resolve) => { ws.on('open', () => resolve()); ws.on('error', () => resolve()); });
        if (ws.readyState === ws.OPEN) {
          for (let k = 0; k < 5; k++) {
            const m = r();
            const msg = m < 0.3 ? bytes(Math.floor(r() * 50))
              : m < 0.5 ? JSON.stringify(pick([null, [], 1, 'x', { type: 'request' }, { id: 'x', method: 'fs.read' }]))
              : JSON.stringify({ type: 'request', id: r() < 0.8 ? k : 'x', method: pick(safeMethods),
                params: pick([undefined, null, {}, { path: pick(['/', '..', '../../etc', '%E0', '\u0000', 'hello.c', 'a'.repeat(5000)]) }, { id: -1, cols: 1e9, rows: NaN, bytes: -5 }, []]) });
            ws.send(r() < 0.2 ? Buffer.from(msg, 'latin1') : msg);
          }
          await new Promise((res) => setTimeout(res, 5));
          ws.close();
        }
      }
      if (i % 50 === 49) await stillServes(srv);
    }
    assert.ok(statuses > N / 3, `only ${statuses} of ${N} requests were answered`);
    await stillServes(srv);
  });
});
