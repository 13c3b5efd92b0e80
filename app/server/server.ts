/*
 * Browser mode: serves the renderer and the contract's WebSocket on 127.0.0.1.
 *
 *   GET /?token=T            → index.html (+ an HttpOnly SameSite=Strict cookie carrying T)
 *   GET /<asset>             → files of app/out/browser (token in the query or the cookie)
 *   WS  /ws?token=T          → the contract (Origin must be this server)
 *
 * Anything without the right token gets 403 (a WebSocket is refused before the upgrade). The Host
 * header must name this server (no DNS rebinding). Every response carries a strict CSP.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Backend } from '../node/backend.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
};

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export interface ServerOptions {
  backend: Backend;
  staticDir: string;
  port?: number;
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function tokenEquals(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookieToken(req: http.IncomingMessage): string | null {
  const c = req.headers.cookie ?? '';
  for (const part of c.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === 'lanescope_token' && v) return decodeURIComponent(v);
  }
  return null;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const staticDir = path.resolve(opts.staticDir);
  let port = 0;

  const hostOk = (req: http.IncomingMessage) => {
    const h = req.headers.host ?? '';
    return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  };
  const authorised = (req: http.IncomingMessage, url: URL) =>
    tokenEquals(url.searchParams.get('token'), token) || tokenEquals(cookieToken(req), token);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers: Record<string, string> = {
      'Content-Security-Policy': contentSecurityPolicy(port),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    if (!hostOk(req) || !authorised(req, url)) {
      res.writeHead(403, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('403 Forbidden: this Lanescope server needs the token from its URL\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers);
      res.end();
      return;
    }
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(staticDir, '.' + rel);
    if (!file.startsWith(staticDir + path.sep)) {
      res.writeHead(404, headers);
      res.end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      if (rel === '/index.html') headers['Set-Cookie'] = `lanescope_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const originOk = origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (url.pathname !== '/ws' || !hostOk(req) || !originOk || !tokenEquals(url.searchParams.get('token'), token)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    const send = (m: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const detach = opts.backend.attach(send);
    ws.on('message', (data) => void opts.backend.handle(data.toString(), send));
    ws.on('close', detach);
    ws.on('error', detach);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
