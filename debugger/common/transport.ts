/*
 * transport.ts — the byte-stream abstraction every RSP endpoint runs over.
 *
 * A Transport is any duplex byte stream: a TCP or Unix socket to QEMU's gdbstub
 * today, a serial line to LaneOS's own stub on hardware later, or a socket from a
 * gdb. Implementations live in node/transport.ts; this file is pure.
 */
export interface Transport {
  /** Human-readable endpoint, e.g. "tcp:127.0.0.1:1234". */
  readonly description: string;
  write(bytes: Uint8Array): void;
  /** Optional fast path: write a binary string (one char = one byte). */
  writeBinary?(s: string): void;
  /** Optional fast path: write the concatenation of binary strings as one chunk. */
  writeBinaryParts?(parts: string[]): void;
  /** Register the data/close handlers (once). close fires exactly once. */
  start(onData: (chunk: Uint8Array) => void, onClose: (error?: Error) => void): void;
  close(): void;
}
