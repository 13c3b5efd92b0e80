/*
 * server.ts — the gdbserver side: a Unix-socket listener (`target remote /path/sock`) and/or a TCP
 * listener on 127.0.0.1 that gdb can `target remote :PORT` to. Each accepted socket becomes a GdbSession: an
 * RspConnection (acks on, no RLE expansion of requests) plus a reply() method.
 * What the packets mean is decided by the owner (the Bridge) through callbacks.
 */
import * as net from 'node:net';
import { RspConnection, type Direction } from '../common/connection.js';
import type { RspError } from '../common/rsp.js';
import { duplexTransport } from './transport.js';

export interface SessionHandler {
  onPacket(s: GdbSession, data: string): void;
  onInterrupt(s: GdbSession): void;
  onProtocolError(s: GdbSession, e: RspError): void;
  onClose(s: GdbSession, info: { error?: Error; midPacket: boolean }): void;
  onLog?(s: GdbSession, dir: Direction, bytes: string): void;
  wantLog?(): boolean;
}

export class GdbSession {
  readonly conn: RspConnection;
  constructor(readonly id: number, readonly remote: string, socket: net.Socket, h: SessionHandler) {
    this.conn = new RspConnection(duplexTransport(socket, `client#${id} ${remote}`), {
      onPacket: (d) => h.onPacket(this, d),
      onInterrupt: () => h.onInterrupt(this),
      onProtocolError: (e) => h.onProtocolError(this, e),
      onClose: (i) => h.onClose(this, i),
    }, { rle: false, ...(h.onLog ? { onLog: (d: Direction, b: string) => h.onLog!(this, d, b) } : {}) });
    if (h.wantLog) this.conn.wantLog = () => h.wantLog!();
  }
  reply(data: string): void {
    this.conn.sendPacket(data);
  }
  close(): void {
    this.conn.close();
  }
  get closed(): boolean {
    return this.conn.isClosed;
  }
}

export class GdbServer {
  /** The TCP listener (127.0.0.1), if open. */
  private server: net.Server | undefined;
  /** The Unix-socket listener, if open. */
  private unixServer: net.Server | undefined;
  private unixPath: string | undefined;
  private nextId = 1;
  readonly sessions = new Set<GdbSession>();
  constructor(private readonly handler: SessionHandler) {}

  private create(): net.Server {
    return net.createServer((sock) => {
      if (sock.remoteAddress) sock.setNoDelay(true);
      const remote = sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : `unix:${this.unixPath ?? '?'}`;
      const s = new GdbSession(this.nextId++, remote, sock, {
        ...this.handler,
        onClose: (ss, i) => { this.sessions.delete(ss); this.handler.onClose(ss, i); },
      });
      this.sessions.add(s);
      this.onAccept?.(s);
    });
  }

  /** Listen on 127.0.0.1:port (0 = any free port); resolves with the port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (this.server) return Promise.reject(new Error(`already listening on port ${this.port}`));
    return new Promise((resolve, reject) => {
      const srv = this.create();
      srv.once('error', (e) => reject(new Error(`cannot listen on ${host}:${port}: ${e.message}`)));
      srv.listen(port, host, () => {
        this.server = srv;
        const a = srv.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  /**
   * Listen on a Unix socket at `path` (its folder should be private to the user: whoever can
   * connect can debug the target). Resolves once listening.
   */
  listenUnix(path: string): Promise<void> {
    if (this.unixServer) return Promise.reject(new Error(`already listening on ${this.unixPath}`));
    return new Promise((resolve, reject) => {
      const srv = this.create();
      srv.once('error', (e) => reject(new Error(`cannot listen on ${path}: ${e.message}`)));
      srv.listen(path, () => {
        this.unixServer = srv;
        this.unixPath = path;
        resolve();
      });
    });
  }

  onAccept: ((s: GdbSession) => void) | undefined;

  get port(): number | undefined {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : undefined;
  }

  get socketPath(): string | undefined {
    return this.unixServer ? this.unixPath : undefined;
  }

  close(): Promise<void> {
    for (const s of this.sessions) s.close();
    const closeOne = (srv: net.Server | undefined) => new Promise<void>((r) => (srv ? srv.close(() => r()) : r()));
    return Promise.all([closeOne(this.server), closeOne(this.unixServer)]).then(() => undefined);
  }
}
