/*
 * Serial hardware target: the board's console on a serial device (via the `serialport` package).
 * Opening errors and a port that disappears (USB adapter unplugged) become clear messages.
 */
import { stat } from 'node:fs';
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
    let watch: ReturnType<typeof setInterval> | undefined;
    const gone = (reason: string) => {
      if (closing) return;
      closing = true;
      clearInterval(watch);
      if (port.isOpen) port.close(() => {});
      onGone(reason);
    };
    port.open((err) => {
      if (err) {
        reject(new Error(`cannot open serial port ${path} at ${baud} baud: ${err.message}`));
        return;
      }
      port.on('data', (b: Buffer) => onData(b.toString('utf8')));
      port.on('error', (e: Error) => gone(`serial port ${path}: ${e.message}`));
      port.on('close', (e?: Error & { disconnected?: boolean }) => {
        gone(e?.disconnected ? `serial port ${path} disappeared (device unplugged?)` : `serial port ${path} was closed`);
      });
      // The device node goes away on unplug even when no read is pending to fail (a paused
      // stream, a driver that does not report the hang-up): look for it once a second.
      watch = setInterval(() => {
        stat(path, (e) => {
          if (e?.code === 'ENOENT') gone(`serial port ${path} disappeared (device unplugged?)`);
        });
      }, 1000);
      watch.unref();
      resolve({
        write(d: string) {
          port.write(d);
        },
        close() {
          closing = true;
          clearInterval(watch);
          return new Promise((r) => {
            if (!port.isOpen) return r();
            port.close(() => r());
          });
        },
      });
    });
  });
}
