/*
 * serial-line.ts — opens the line to a board: a serial device (a USB adapter, at a baud rate)
 * or, for tests and terminal servers, a socket (QEMU's `-serial unix:…,server` or
 * `-chardev socket`, a ser2net TCP port). What runs over it is common/serial-mux.ts's.
 *
 *   "/dev/ttyUSB0", "COM3"            a serial device (the `serialport` package)
 *   "unix:/path", "tcp:HOST:PORT"     a socket
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
  return duplexTransport(port, `${spec}@${baud}`);
}
