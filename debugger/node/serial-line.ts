/*
 * serial-line.ts — opens the line to a board: a serial device (a USB adapter, at a baud rate)
 * or, for tests and terminal servers, a socket (QEMU's `-serial unix:…,server` or
 * `-chardev socket`, a ser2net TCP port). What runs over it is common/serial-mux.ts's.
 *
 *   "/dev/ttyUSB0", "COM3"            a serial device (the `serialport` package)
 *   "unix:/path", "tcp:HOST:PORT"     a socket
 *
 * A device's transport also tells its file descriptor (lineFd): app/node/serial-reset.ts pulses
 * the line's DTR or RTS on it (a socket has none).
 */
import { SerialPort } from 'serialport';
import type { Transport } from '../common/transport.js';
import { connectTransport, duplexTransport } from './transport.js';

export function isSocketLine(spec: string): boolean {
  return spec.startsWith('unix:') || spec.startsWith('tcp:');
}

export async function openLine(spec: string, baud = 115200, timeoutMs = 10000): Promise<Transport> {
  if (isSocketLine(spec)) return connectTransport(spec, timeoutMs);
  if (!spec) throw new Error('serial line: no device given (e.g. /dev/ttyUSB0, unix:/path, tcp:HOST:PORT)');
  const port = new SerialPort({ path: spec, baudRate: baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(new Error(`cannot open serial port ${spec} at ${baud} baud: ${err.message}`)) : resolve()));
  });
  const t = duplexTransport(port, `${spec}@${baud}`);
  fds.set(t, () => (port.port as { fd?: number } | undefined)?.fd);
  return t;
}

const fds = new WeakMap<Transport, () => number | undefined>();

/** The open file descriptor of a serial device's line (undefined: a socket, or closed). */
export function lineFd(t: Transport): number | undefined {
  return fds.get(t)?.();
}
