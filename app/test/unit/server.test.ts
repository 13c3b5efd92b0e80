// The browser-mode server: the token is required for every request and for the WebSocket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { Backend } from '../../node/backend.js';
import { startServer } from '../../server/server.js';

async function setup() {
  const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(staticDir, 'main.js'), 'export {};');
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-srvproj-'));
  fs.writeFileSync(path.join(project, 'hello.c'), 'int x;\n');
  const backend = new Backend({ project, stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-')) });
  const srv = await startServer({ backend, staticDir });
  return { srv, backend, base: `http://127.0.0.1:${srv.port}` };
}

function wsOpen(url: string, headers: Record<string, string> = {}): Promise<{ ok: boolean; status?: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve({ ok: true, ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ ok: false, status: res.statusCode }));
    ws.on('error', () => resolve({ ok: false }));
  });
}

test('HTTP: without the token → 403; with it → page, strict CSP and an HttpOnly cookie', async () => {
  const { srv, backend, base } = await setup();
  try {
    for (const u of ['/', '/main.js', '/?token=wrong', `/?token=${srv.token}x`]) {
      const r = await fetch(base + u);
      assert.equal(r.status, 403, u);
    }
    const ok = await fetch(srv.url);
    assert.equal(ok.status, 200);
    const csp = ok.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    const cookie = ok.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    // Assets are served with the cookie (workers, fonts and CSS cannot carry the query token).
    const js = await fetch(`${base}/main.js`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(js.status, 200);
    // Path traversal out of the static dir is not possible.
    const trav = await fetch(`${base}/..%2f..%2fetc%2fpasswd?token=${srv.token}`);
    assert.notEqual(trav.status, 200);
    // A foreign Host header (DNS rebinding) is refused even with the token.
    const rebinding = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: srv.port, path: `/?token=${srv.token}`, headers: { host: `evil.example:${srv.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(rebinding, 403);
  } finally {
    await srv.close();
    await backend.shutdown();
  }
});

test('WebSocket: refused without the token or from another origin; works with it', async () => {
  const { srv, backend } = await setup();
  try {
    const wsBase = `ws://127.0.0.1:${srv.port}/ws`;
    const none = await wsOpen(wsBase);
    assert.equal(none.ok, false);
    assert.equal(none.status, 403);
    const wrong = await wsOpen(`${wsBase}?token=nope`);
    assert.equal(wrong.status, 403);
    const foreign = await wsOpen(`${wsBase}?token=${srv.token}`, { Origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    const good = await wsOpen(`${wsBase}?token=${srv.token}`);
    assert.equal(good.ok, true);
    const ws = good.ws!;
    const reply = await new Promise<{ ok: boolean; result: { content: string } }>((resolve) => {
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.type === 'response') resolve(m);
      });
      ws.send(JSON.stringify({ type: 'request', id: 7, method: 'fs.read', params: { path: 'hello.c' } }));
    });
    assert.equal(reply.ok, true);
    assert.equal(reply.result.content, 'int x;\n');
    ws.close();
  } finally {
    await srv.close();
    await backend.shutdown();
  }
});
