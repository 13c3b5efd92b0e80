/*
 * serial-reset.ts — resetting a board through its serial line's DTR or RTS (lanescope.json
 * `serial.reset`: "dtr" | "rts" | null, off by default), pulsed on Run before the debugger attaches.
 *
 *   pulseModemLine(spec, fd, which)
 *     asserts the line (ioctl TIOCMBIS) for RESET_PULSE_MS, then releases it (TIOCMBIC) and leaves
 *     it released — the usual wiring (a transistor or the adapter's line to the board's reset
 *     input: asserted = held in reset) lets the board run from the falling edge on. The other line
 *     is not touched.
 *
 * Node has no ioctl. The two ioctls run in python3 (app/scripts/setup.sh installs it), given
 * with -c (nothing to package) and handed the line's own open file descriptor as its fd 3: the same
 * open tty, not a second open of the device (serialport holds it exclusively, TIOCEXCL, and a
 * close would drop DTR/RTS anyway through HUPCL).
 * Errors name what was wrong: a socket port (unix:, tcp: — QEMU, a terminal server) has no modem
 * lines; an fd that is not a tty; an ioctl the driver refuses (Linux pseudo-terminals do not
 * implement TIOCMGET/TIOCMBIS: ENOTTY); python3 missing.
 */
import { spawn } from 'node:child_process';
import { isSocketSpec } from '../common/serial-line.js';

export type ResetLine = 'dtr' | 'rts';

/** How long the reset line stays asserted. */
export const RESET_PULSE_MS = Number(process.env['LANESCOPE_SERIAL_RESET_MS'] ?? 200);

const HELPER = `
import fcntl, os, struct, sys, termios, time
fd, which, ms = 3, sys.argv[1], int(sys.argv[2])
if not os.isatty(fd):
    sys.stderr.write("not a tty"); sys.exit(3)
bit = struct.pack("i", termios.TIOCM_DTR if which == "dtr" else termios.TIOCM_RTS)
step = "TIOCMBIS"
try:
    fcntl.ioctl(fd, termios.TIOCMBIS, bit)
    time.sleep(ms / 1000)
    step = "TIOCMBIC"
    fcntl.ioctl(fd, termios.TIOCMBIC, bit)
except OSError as e:
    sys.stderr.write("%s: %s (errno %d)" % (step, e.strerror, e.errno)); sys.exit(2)
print("pulsed")
`;

/** Pulses `which` on the open line `fd` (the device `spec`); rejects with a message for the user. */
export function pulseModemLine(spec: string, fd: number | undefined, which: ResetLine, ms = RESET_PULSE_MS): Promise<void> {
  const name = which.toUpperCase();
  const pre = `serial.reset: cannot pulse ${name} on ${spec}`;
  if (isSocketSpec(spec)) {
    return Promise.reject(new Error(`${pre}: it is a socket, not a serial device — it has no ${name} line ` +
      '(QEMU or a terminal server: reset the board another way, or set serial.reset to null)'));
  }
  if (fd === undefined) return Promise.reject(new Error(`${pre}: the line is not open`));
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', HELPER, which, String(ms)], { stdio: ['ignore', 'pipe', 'pipe', fd] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', (e) => reject(new Error(`${pre}: python3 is needed for the ioctls (app/scripts/setup.sh installs it): ${e.message}`)));
    p.once('close', (code) => {
      if (code === 0 && out.includes('pulsed')) return resolve();
      const why = err.trim().split('\n').pop() ?? '';
      if (code === 3) return reject(new Error(`${pre}: it is not a tty`));
      if (/ENOTTY|Inappropriate ioctl/.test(why) || /errno 25\b/.test(why)) {
        return reject(new Error(`${pre}: the device has no modem control lines (${why}; a pseudo-terminal?)`));
      }
      reject(new Error(`${pre}: ${why || `python3 exited with ${code}`}`));
    });
  });
}
