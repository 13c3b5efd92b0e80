/*
 * The serial target's line as the user sees it: its state in the status bar and the messages an
 * opening or a running line ends with. Pure: no Node, no DOM (app/node/serial-target.ts holds
 * the line; the renderer shows SerialLineStatus with serialStatusLabel).
 *
 *   opening ──(opened)──▶ connected ──(nothing heard for a while)──▶ silent ──(bytes)──▶ connected
 *      │                      │
 *      └─ error (no such device, permission denied, in use …)   └─▶ unplugged (the device or socket went away)
 *                                                                   closed (Stop)
 */

export type SerialLineState = 'opening' | 'connected' | 'silent' | 'unplugged' | 'closed' | 'error';

export interface SerialLineStatus {
  /** the device (/dev/ttyUSB0, COM3) or socket (unix:PATH, tcp:HOST:PORT) */
  line: string;
  /** null for a socket (a terminal server or QEMU: no baud rate on this side) */
  baud: number | null;
  state: SerialLineState;
  /** why (error, unplugged, silent) */
  message?: string;
  rxBytes: number;
  txBytes: number;
  rxPerSec: number;
  txPerSec: number;
  consoleBytes: number;
  traceFrames: number;
  /** the target NAKed our packets / we NAKed damaged packets from the target */
  naksFromTarget: number;
  naksToTarget: number;
  /** units or frames that never ended (line noise, a cable pulled mid-packet) */
  dropped: number;
}

export function isSocketSpec(spec: string): boolean {
  return spec.startsWith('unix:') || spec.startsWith('tcp:');
}

/** Checks a line spec from lanescope.json / the target picker; returns a problem or null. */
export function lineSpecProblem(spec: string): string | null {
  if (!spec.trim()) return 'serial.port: give the device (e.g. /dev/ttyUSB0, COM3) or a socket (unix:/path, tcp:HOST:PORT)';
  if (spec.startsWith('unix:') && spec.length <= 5) return 'serial.port: "unix:" needs the socket\'s path (unix:/path/to/socket)';
  if (spec.startsWith('tcp:') && !/^tcp:[^:\s]+:\d{1,5}$/.test(spec)) return `serial.port: "${spec}" is not tcp:HOST:PORT`;
  return null;
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Status-bar text, e.g. `/dev/ttyUSB0 · 115200 · connected · ↓1.2 KiB/s ↑12 B/s · 340 frames · 0 NAKs`. */
export function serialStatusLabel(s: SerialLineStatus): string {
  const parts = [s.line];
  if (s.baud !== null) parts.push(String(s.baud));
  parts.push(s.state);
  if (s.state === 'connected' || s.state === 'silent') {
    parts.push(`↓${fmtBytes(s.rxPerSec)}/s ↑${fmtBytes(s.txPerSec)}/s`);
    parts.push(`${s.traceFrames.toLocaleString('en-US')} frames`);
    const naks = s.naksFromTarget + s.naksToTarget;
    parts.push(`${naks} NAK${naks === 1 ? '' : 's'}`);
    if (s.dropped) parts.push(`${s.dropped} dropped`);
  }
  return parts.join(' · ');
}

/** The status bar's tooltip: everything, and the message. */
export function serialStatusTitle(s: SerialLineStatus): string {
  return [
    `Serial line ${s.line}${s.baud !== null ? ` at ${s.baud} baud` : ''}: ${s.state}`,
    ...(s.message ? [s.message] : []),
    `received ${fmtBytes(s.rxBytes)} (console ${fmtBytes(s.consoleBytes)}), sent ${fmtBytes(s.txBytes)}`,
    `trace frames ${s.traceFrames}, NAKs from the target ${s.naksFromTarget}, to the target ${s.naksToTarget}, dropped ${s.dropped}`,
  ].join('\n');
}

/**
 * The message for a line that could not be opened: what was wrong and what fixes it. `code` is
 * the system error code when there is one (ENOENT, EACCES, EBUSY, ECONNREFUSED …).
 */
export function lineOpenError(spec: string, baud: number, code: string | undefined, detail: string): string {
  const socket = isSocketSpec(spec);
  const what = socket ? spec : `${spec} at ${baud} baud`;
  switch (code) {
    case 'ENOENT':
      return socket
        ? `cannot open the serial line ${spec}: no such socket (is the board's terminal server or QEMU running? QEMU: -serial unix:PATH,server=on)`
        : `cannot open the serial line ${spec}: no such device — is the USB serial adapter plugged in? (ls /dev/ttyUSB* /dev/ttyACM* lists the adapters; pick one in the target picker)`;
    case 'EACCES':
    case 'EPERM':
      return socket
        ? `cannot open the serial line ${spec}: permission denied on the socket`
        : `cannot open the serial line ${spec}: permission denied — add your user to the group that owns it (Debian/Ubuntu: sudo usermod -aG dialout $USER; Arch: uucp), then log out and in again`;
    case 'EBUSY':
      return `cannot open the serial line ${spec}: the device is busy — another program (screen, minicom, a second Lanescope, ModemManager) has it open; close that first`;
    case 'ECONNREFUSED':
      return `cannot open the serial line ${spec}: connection refused (nothing listens there: is the terminal server or QEMU running?)`;
    case 'ENOTTY':
    case 'EINVAL':
      return `cannot open the serial line ${what}: ${spec} is not a serial device or does not take ${baud} baud (${detail})`;
    default:
      return `cannot open the serial line ${what}: ${detail}`;
  }
}

/** Finds the system error code in an error from serialport / net (serialport puts it in the text only). */
export function errorCode(e: { code?: unknown; message?: string }): string | undefined {
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  const m = /\b(ENOENT|EACCES|EPERM|EBUSY|ECONNREFUSED|ENOTTY|EINVAL|EIO|ENXIO|ENODEV)\b/.exec(e.message ?? '');
  if (m) return m[1];
  if (/No such file or directory/i.test(e.message ?? '')) return 'ENOENT';
  if (/Permission denied/i.test(e.message ?? '')) return 'EACCES';
  if (/Resource busy|Device or resource busy/i.test(e.message ?? '')) return 'EBUSY';
  return undefined;
}

/** What the user is told when the line is silent (opened, nothing received) for `seconds`. */
export function silentLineMessage(spec: string, baud: number | null, seconds: number): string {
  return `nothing received on ${spec} for ${seconds} s: is the board powered and booted (with lanes.debug=ttyS0 for debugging)?` +
    (baud !== null ? ` Does its UART run at ${baud} baud? Are TX and RX crossed (a null-modem cable)?` : '');
}

/** What the user is told when the line goes away mid-session. */
export function unpluggedMessage(spec: string, detail?: string): string {
  return isSocketSpec(spec)
    ? `the serial line ${spec} closed${detail ? ` (${detail})` : ''}: the board (or the terminal server / QEMU playing it) went away. Run again to reconnect.`
    : `the serial line ${spec} went away${detail ? ` (${detail})` : ''} — the USB serial adapter was unplugged? Plug it in and Run again.`;
}
