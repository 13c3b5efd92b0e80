/*
 * The serial target's line: a board on a USB serial adapter (or a socket: QEMU's
 * `-serial unix:…,server=on`, a ser2net port) that runs LaneOS with `lanes.debug=ttyS0`, whose one
 * UART carries the console, the kernel's gdb stub and the trace frames together.
 *
 *   SerialTarget.open(spec, baud, handlers)
 *     opens the line (debugger/node/serial-line.ts) and puts the demultiplexer around it
 *     (debugger/common/serial-mux.ts): console bytes → handlers.console, trace frames →
 *     handlers.trace, the RSP side (mux.rsp / mux.openRsp()) for the debug session's bridge.
 *   once a second: SerialLineStatus (bytes, rates, frames, NAKs) → handlers.status;
 *   nothing heard for SILENT_MS → state 'silent' and one warning naming what to check;
 *   the line closes, or the device node disappears (an adapter unplugged without a read failing)
 *     → state 'unplugged' and handlers.gone(message), once.
 *   reset(which): the board reset through the line's DTR or RTS (serial-reset.ts), if the
 *     project asks for it (serial.reset), before the debugger attaches.
 * Opening errors become the messages of app/common/serial-line.ts (no such device, permission
 * denied — the dialout group —, busy, refused). Nothing here throws after open() resolved.
 */
import fs from 'node:fs';
import { muxLine, type MuxLine } from '../../debugger/common/serial-mux.js';
import { lineFd, openLine } from '../../debugger/node/serial-line.js';
import type { Transport } from '../../debugger/common/transport.js';
import {
  errorCode,
  isSocketSpec,
  lineOpenError,
  lineSpecProblem,
  silentLineMessage,
  unpluggedMessage,
  type SerialLineState,
  type SerialLineStatus,
} from '../common/serial-line.js';
import { pulseModemLine, type ResetLine } from './serial-reset.js';

export interface SerialTargetHandlers {
  console(data: string): void;
  trace?(frame: Uint8Array): void;
  status?(s: SerialLineStatus): void;
  /** a warning for the user (the line is silent) */
  warn?(message: string): void;
  /** the line went away (unplugged, the socket closed): called once, not after close() */
  gone(message: string): void;
  /** silence reported after this long (default SILENT_MS) */
  silentMs?: number;
}

/** Silence this long after opening (or since the last byte) is reported. */
export const SILENT_MS = Number(process.env['LANESCOPE_SERIAL_SILENT_MS'] ?? 10000);

export class SerialTarget {
  private state: SerialLineState = 'connected';
  private message: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = { rx: 0, tx: 0, at: Date.now() };
  private rate = { rx: 0, tx: 0 };
  private lastRxAt = Date.now();
  private warnedSilent = false;
  private closed = false;
  private decoder = new TextDecoder('utf-8');

  private constructor(readonly spec: string, readonly baud: number, private readonly h: SerialTargetHandlers, readonly mux: MuxLine,
    private readonly line: Transport) {}

  /** Opens the line; rejects with a message that names the problem and its fix. */
  static async open(spec: string, baud: number, h: SerialTargetHandlers): Promise<SerialTarget> {
    const bad = lineSpecProblem(spec);
    if (bad) throw new Error(bad);
    let line;
    try {
      line = await openLine(spec, baud, 5000);
    } catch (e) {
      const err = e as Error & { code?: string };
      throw new Error(lineOpenError(spec, baud, errorCode(err), err.message));
    }
    const box: { t?: SerialTarget } = {};
    const pending: Array<() => void> = [];
    const mux = muxLine(line, {
      console: (b) => (box.t ? box.t.onConsole(b) : pending.push(() => box.t!.onConsole(b))),
      trace: (f) => box.t?.h.trace?.(f),
      closed: (e) => (box.t ? box.t.lineClosed(e) : pending.push(() => box.t!.lineClosed(e))),
    });
    const t = new SerialTarget(spec, baud, h, mux, line);
    box.t = t;
    for (const p of pending.splice(0)) p();
    t.timer = setInterval(() => t.tick(), Math.min(1000, h.silentMs ?? 1000));
    t.timer.unref();
    t.publish();
    return t;
  }

  private onConsole(b: Uint8Array): void {
    if (this.closed) return;
    const s = this.decoder.decode(b, { stream: true });
    if (s) this.h.console(s);
  }

  private lineClosed(e?: Error): void {
    if (this.closed) return;
    this.finish('unplugged', unpluggedMessage(this.spec, e?.message));
  }

  private finish(state: SerialLineState, message: string): void {
    this.closed = true;
    clearInterval(this.timer);
    this.state = state;
    this.message = message;
    this.mux.close();
    this.publish();
    this.h.gone(message);
  }

  private tick(): void {
    if (this.closed) return;
    const s = this.mux.stats;
    const now = Date.now();
    const dt = Math.max(1, now - this.last.at) / 1000;
    this.rate = { rx: (s.rxBytes - this.last.rx) / dt, tx: (s.txBytes - this.last.tx) / dt };
    if (s.rxBytes !== this.last.rx) this.lastRxAt = now;
    this.last = { rx: s.rxBytes, tx: s.txBytes, at: now };
    if (now - this.lastRxAt >= (this.h.silentMs ?? SILENT_MS)) {
      if (this.state !== 'silent') {
        this.state = 'silent';
        this.message = silentLineMessage(this.spec, isSocketSpec(this.spec) ? null : this.baud, Math.round((now - this.lastRxAt) / 1000));
        // said once per Run: a board idling at its prompt is silent too, and that is fine
        if (!this.warnedSilent && s.rxBytes === 0) this.h.warn?.(this.message);
        this.warnedSilent = true;
      }
    } else if (this.state === 'silent') {
      this.state = 'connected';
      this.message = undefined;
    }
    // an adapter unplugged while no read was pending: its device node goes away
    if (!isSocketSpec(this.spec)) {
      fs.stat(this.spec, (e) => {
        if (e?.code === 'ENOENT' && !this.closed) this.finish('unplugged', unpluggedMessage(this.spec, 'its device node disappeared'));
      });
    }
    this.publish();
  }

  status(): SerialLineStatus {
    const s = this.mux.stats;
    return {
      line: this.spec,
      baud: isSocketSpec(this.spec) ? null : this.baud,
      state: this.state,
      ...(this.message ? { message: this.message } : {}),
      rxBytes: s.rxBytes,
      txBytes: s.txBytes,
      rxPerSec: Math.round(this.rate.rx),
      txPerSec: Math.round(this.rate.tx),
      consoleBytes: s.consoleBytes,
      traceFrames: s.traceFrames,
      naksFromTarget: s.naksFromTarget,
      naksToTarget: s.naksToTarget,
      dropped: s.dropped,
    };
  }

  private publish(): void {
    this.h.status?.(this.status());
  }

  /** Resets the board: `which` asserted for a moment, then released; rejects with the reason. */
  reset(which: ResetLine): Promise<void> {
    return pulseModemLine(this.spec, this.closed ? undefined : lineFd(this.line), which);
  }

  /** Console input (the mux drops the marker byte, which cannot be typed). */
  write(data: string): void {
    if (!this.closed) this.mux.writeConsole(data);
  }

  /** Closes the line (Stop): no gone() callback. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.state = 'closed';
    this.message = undefined;
    this.mux.close();
    this.publish();
  }
}
