/*
 * Serial hardware target: the board's console on a serial device (via the `serialport` package).
 * Opening errors and a port that disappears (USB adapter unplugged) become clear messages.
 */
import { SerialPort } from 'serialport';
import type { SerialPortInfo } from '../common/contract.js';

export interface SerialHandle {
  write(data: string): void;
  close(): Promise<void>;
}

export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  try {
    const ports = await SerialPort.list();
    return ports.map((p) => (p.manufacturer ? { path: p.path, manufacturer: p.manufacturer } : { path: p.path }));
  } catch {
    return [];
  }
}

export function openSerial(
  path: string,
  baud: number,
  onData: (d: string) => void,
  onGone: (reason: string) => void,
): Promise<SerialHandle> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
    let closing = false;
    port.open((err) => {
      if (err) {
        reject(new Error(`cannot open serial port ${path} at ${baud} baud: ${err.message}`));
        return;
      }
      port.on('data', (b: Buffer) => onData(b.toString('utf8')));
      port.on('error', (e: Error) => {
        if (!closing) onGone(`serial port ${path}: ${e.message}`);
      });
      port.on('close', (e?: Error & { disconnected?: boolean }) => {
        if (closing) return;
        onGone(e?.disconnected ? `serial port ${path} disappeared (device unplugged?)` : `serial port ${path} was closed`);
      });
      resolve({
        write(d: string) {
          port.write(d);
        },
        close() {
          closing = true;
          return new Promise((r) => {
            if (!port.isOpen) return r();
            port.close(() => r());
          });
        },
      });
    });
  });
}
