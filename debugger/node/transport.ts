/*
 * transport.ts (node) — Transports over Node streams: TCP, Unix sockets, or any
 * Duplex (e.g. a serialport stream for LaneOS's own stub on real hardware).
 *
 * Spec strings: "tcp:HOST:PORT", "HOST:PORT", ":PORT", "unix:/path/to/socket".
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Transport } from '../common/transport.js';

export function duplexTransport(stream: Duplex, description: string): Transport {
  let started = false;
  // Writes made in the same tick (an ack and the next request) leave as one segment.
  let corked = false;
  const cork = () => {
    if (corked) return;
    corked = true;
    stream.cork();
    process.nextTick(() => { corked = false; stream.uncork(); });
  };
  return {
    description,
    write(bytes) {
      if (stream.destroyed) return;
      cork();
      stream.write(bytes);
    },
    writeBinary(s) {
      if (stream.destroyed) return;
      cork();
      stream.write(s, 'latin1');
    },
    writeBinaryParts(parts) {
      if (stream.destroyed) return;
      let n = 0;
      for (const p of parts) n += p.length;
      const buf = Buffer.allocUnsafe(n);
      let off = 0;
      for (const p of parts) off += buf.write(p, off, 'latin1');
      cork();
      stream.write(buf);
    },
    start(onData, onClose) {
      if (started) throw new Error('transport already started');
      started = true;
      let done = false;
      let lastError: Error | undefined;
      const fin = () => {
        if (done) return;
        done = true;
        onClose(lastError);
      };
      stream.on('data', (c: Buffer) => onData(new Uint8Array(c.buffer, c.byteOffset, c.length)));
      stream.on('error', (e) => { lastError = e; });
      stream.on('end', () => { stream.destroy(); });
      stream.on('close', fin);
      if (stream.destroyed) fin();
    },
    close() {
      stream.destroy();
    },
  };
}

export type Endpoint = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export function parseEndpoint(spec: string): Endpoint {
  if (spec.startsWith('unix:')) {
    const path = spec.slice(5);
    if (!path) throw new Error(`endpoint "${spec}": missing socket path after "unix:"`);
    return { kind: 'unix', path };
  }
  const s = spec.startsWith('tcp:') ? spec.slice(4) : spec;
  const i = s.lastIndexOf(':');
  const host = i <= 0 ? '127.0.0.1' : s.slice(0, i);
  const portText = i < 0 ? s : s.slice(i + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`endpoint "${spec}": "${portText}" is not a valid TCP port (use tcp:HOST:PORT or unix:PATH)`);
  }
  return { kind: 'tcp', host, port };
}

export function endpointToString(e: Endpoint): string {
  return e.kind === 'tcp' ? `tcp:${e.host}:${e.port}` : `unix:${e.path}`;
}

/** Connect to a stub. Rejects with a clear message (e.g. connection refused). */
export function connectTransport(spec: string | Endpoint, timeoutMs = 10000): Promise<Transport> {
  const ep = typeof spec === 'string' ? parseEndpoint(spec) : spec;
  const desc = endpointToString(ep);
  return new Promise((resolve, reject) => {
    const sock = ep.kind === 'tcp' ? net.connect({ host: ep.host, port: ep.port }) : net.connect({ path: ep.path });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connecting to ${desc} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve(duplexTransport(sock, desc));
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${desc}: ${(e as Error).message}`));
    });
  });
}
