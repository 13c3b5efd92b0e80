/*
 * Browser mode: serves the renderer and the contract's WebSocket on 127.0.0.1.
 *
 *   GET /?token=T            → index.html (+ an HttpOnly SameSite=Strict asset cookie, see below)
 *   GET /<asset>             → files of app/out/browser (token in the query, or the asset cookie)
 *   WS  /ws?token=T          → the contract (Origin must be this server; the token only, never the cookie)
 *
 * Anything without the right token gets 403 (a WebSocket is refused before the upgrade). The Host
 * header must name this server (no DNS rebinding). Every response carries a strict CSP.
 * The asset cookie (`lanescope_asset_<port>`) is a second random secret, not the token: cookies are
 * not port-scoped, so every other server on 127.0.0.1 receives it — it lets them read the renderer's
 * static files (public code), never open the WebSocket that drives builds, QEMU and terminals.
 * Bad requests never throw out of a handler: an unparsable target (`GET //`), a bad %-escape
 * (`/%E0%A4%A`) or cookie, a malformed request line get a 4xx; an unexpected error a 500; client
 * and server socket errors are handled. One bad request costs that request, not the process.
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
  /** a page's WebSocket closed (the quit flow: server/quit.ts) */
  onPageClosed?: () => void;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  /** pages (WebSockets) connected now */
  pages(): number;
  close(): Promise<void>;
}

function tokenEquals(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookieValue(req: http.IncomingMessage, name: string): string | null {
  const c = req.headers.cookie ?? '';
  for (const part of c.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return null; // a malformed %-escape is just a wrong cookie
    }
  }
  return null;
}

/** The request target as a URL, or undefined when it is not an origin-form path (`//`, `*`, junk). */
export function parseTarget(raw: string | undefined): URL | undefined {
  if (!raw || raw[0] !== '/') return undefined;
  try {
    // Parsed against a fixed origin, never as a URL of its own: '//host/x' stays a path.
    const u = new URL('http://127.0.0.1' + raw);
    return u.host === '127.0.0.1' ? u : undefined;
  } catch {
    return undefined;
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const assetKey = crypto.randomBytes(24).toString('base64url');
  const staticDir = path.resolve(opts.staticDir);
  let port = 0;
  const cookieName = () => `lanescope_asset_${port}`;

  const hostOk = (req: http.IncomingMessage) => {
    const h = req.headers.host ?? '';
    return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  };
  const authorised = (req: http.IncomingMessage, url: URL) =>
    tokenEquals(url.searchParams.get('token'), token) || tokenEquals(cookieValue(req, cookieName()), assetKey);

  const server = http.createServer((req, res) => {
    try {
      serve(req, res);
    } catch (e) {
      // Nothing above should throw; if it does, it costs this request only.
      process.stderr.write(`lanescope server: ${req.method} ${JSON.stringify(req.url)}: ${(e as Error).stack ?? String(e)}\n`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end();
    }
  });
  const plain = (res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(text + '\n');
  };
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const headers: Record<string, string> = {
      'Content-Security-Policy': contentSecurityPolicy(port),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    const url = parseTarget(req.url);
    if (!url) {
      plain(res, 400, `400 Bad Request: the request target ${JSON.stringify(String(req.url).slice(0, 100))} is not a path`, headers);
      return;
    }
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
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      plain(res, 400, '400 Bad Request: the path has a malformed %-escape', headers);
      return;
    }
    if (rel.includes('\0')) {
      plain(res, 400, '400 Bad Request: the path has a NUL byte', headers);
      return;
    }
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
      if (rel === '/index.html') headers['Set-Cookie'] = `${cookieName()}=${assetKey}; HttpOnly; SameSite=Strict; Path=/`;
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  };
  // A request Node cannot even parse (bad request line, oversized headers): answer 400, drop it.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      setTimeout(() => socket.destroy(), 2000).unref(); // a peer that never closes its side
    } else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: string) => {
      if (socket.writable) socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    try {
      const url = parseTarget(req.url);
      if (!url) {
        refuse('400 Bad Request');
        return;
      }
      const origin = req.headers.origin;
      const originOk = origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
      if (url.pathname !== '/ws' || !hostOk(req) || !originOk || !tokenEquals(url.searchParams.get('token'), token)) {
        refuse('403 Forbidden');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch (e) {
      process.stderr.write(`lanescope server: upgrade ${JSON.stringify(req.url)}: ${(e as Error).message}\n`);
      refuse('400 Bad Request');
    }
  });
  wss.on('error', (e) => process.stderr.write(`lanescope server: websocket: ${e.message}\n`));
  wss.on('connection', (ws: WebSocket) => {
    const send = (m: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const detach = opts.backend.attach(send);
    ws.on('message', (data) => {
      opts.backend.handle(data.toString(), send).catch((e: Error) =>
        process.stderr.write(`lanescope server: a message failed: ${e.stack ?? e.message}\n`));
    });
    ws.on('close', () => {
      detach();
      opts.onPageClosed?.();
    });
    ws.on('error', detach);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, an error of the server itself (e.g. EMFILE on accept) is reported, not fatal.
  server.on('error', (e) => process.stderr.write(`lanescope server: ${e.message}\n`));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    pages: () => [...wss.clients].filter((c) => c.readyState === c.OPEN).length,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
