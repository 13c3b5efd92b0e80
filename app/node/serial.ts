/*
 * The serial ports the target picker offers (via the `serialport` package). The line itself is
 * opened by serial-target.ts (debugger/node/serial-line.ts underneath).
 */
import { SerialPort } from 'serialport';
import type { SerialPortInfo } from '../common/contract.js';

export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  try {
    const ports = await SerialPort.list();
    return ports.map((p) => (p.manufacturer ? { path: p.path, manufacturer: p.manufacturer } : { path: p.path }));
  } catch {
    return [];
  }
}
