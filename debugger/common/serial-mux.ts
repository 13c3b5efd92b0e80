/*
 * serial-mux.ts — one serial line for the console, gdb and the trace (LaneOS's
 * `lanes.debug=ttyS0`: a board with one UART). Pure: no Node, no DOM.
 *
 * The line (os/README.md, "One serial line for everything"; the bytes are os/abi/kernel.toml's
 * DEBUG_MUX_RSP and DEBUG_MUX_TRACE):
 *   - console bytes go as they are, so a plain terminal on the line shows the console;
 *   - every GDB remote-protocol unit — a packet `$…#cc`, or one of `+` `-` 0x03 — is preceded by
 *     MUX_RSP (0x1c), in both directions. A raw `$` or Ctrl-C could be the user's typing, a
 *     marked one cannot;
 *   - target to host only: a trace frame is MUX_TRACE (0x1d), the COM2 frame (COBS, no 0x00
 *     inside) and its 0x00. When the kernel's stub stops a CPU in the middle of a frame it
 *     sends a 0x00 first (the frame then fails its CRC); a 0x00 outside a frame is not console. The kernel sends frames only after the host sent the marked packet
 *     `$QLanesTrace:1#cc` (trace on; `:0` off; the stub never answers it).
 *
 * SerialDemux splits what the target sends into console runs, RSP units and trace frames; a
 * marker that turns out not to start a unit (console output that happened to hold 0x1c or
 * 0x1d) is given back to the console, an RSP unit longer than RSP_MAX or a "frame" longer than
 * TRACE_MAX is dropped or given back and counted. RspMarker marks what a gdb (or RspClient)
 * sends. muxLine() puts both around a Transport: the RSP side is a Transport again (for
 * RspClient / the Bridge), the console and the trace frames go to callbacks.
 */
import type { Transport } from './transport.js';

/** os/abi/kernel.toml DEBUG_MUX_RSP / DEBUG_MUX_TRACE (serial-mux.test.ts checks the TOML). */
export const MUX_RSP = 0x1c;
export const MUX_TRACE = 0x1d;
/** The kernel's packets are at most 4096 bytes of data (its PacketSize); anything longer is noise. */
export const RSP_MAX = 16 * 1024;
/** The kernel's frames are at most 256 bytes before COBS; 2 KiB without a 0x00 is not a frame. */
export const TRACE_MAX = 2048;

export interface DemuxSink {
  console(bytes: Uint8Array): void;
  /** One whole unit: `$…#cc`, `+`, `-` or 0x03 (without the marker). */
  rsp(unit: Uint8Array): void;
  /** One frame for trace/serial.ts's FrameDecoder: the COBS bytes and the closing 0x00. */
  trace(frame: Uint8Array): void;
}

export interface MuxStats {
  rxBytes: number;
  txBytes: number;
  consoleBytes: number;
  rspUnits: number;
  traceFrames: number;
  /** `-` units: the target NAKed one of our packets (the client retransmits) */
  naksFromTarget: number;
  /** `-` units we sent: a packet from the target arrived damaged */
  naksToTarget: number;
  /** units or frames that never ended within their bound (line noise, a cable pulled) */
  dropped: number;
}

export function newStats(): MuxStats {
  return { rxBytes: 0, txBytes: 0, consoleBytes: 0, rspUnits: 0, traceFrames: 0, naksFromTarget: 0, naksToTarget: 0, dropped: 0 };
}

type DemuxState = 'console' | 'mark' | 'rsp' | 'sum1' | 'sum2' | 'trace';

export class SerialDemux {
  readonly stats: MuxStats;
  private state: DemuxState = 'console';
  private unit: number[] = [];
  private con: number[] = [];

  constructor(private readonly sink: DemuxSink, stats?: MuxStats) {
    this.stats = stats ?? newStats();
  }

  feed(chunk: Uint8Array): void {
    this.stats.rxBytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) this.byte(chunk[i]!);
    this.flushConsole();
  }

  private flushConsole(): void {
    if (!this.con.length) return;
    const b = Uint8Array.from(this.con);
    this.con = [];
    this.stats.consoleBytes += b.length;
    this.sink.console(b);
  }

  private emitUnit(u: number[]): void {
    this.flushConsole();        // keep the order: console bytes before the unit came first
    this.stats.rspUnits++;
    if (u.length === 1 && u[0] === 0x2d) this.stats.naksFromTarget++;
    this.sink.rsp(Uint8Array.from(u));
  }

  private byte(c: number): void {
    switch (this.state) {
      case 'console':
        if (c === MUX_RSP) this.state = 'mark';
        else if (c === MUX_TRACE) {
          this.state = 'trace';
          this.unit = [];
        } else if (c !== 0) this.con.push(c);   // a lone 0x00 ends a frame the stub cut short
        return;
      case 'mark':
        if (c === 0x2b || c === 0x2d || c === 0x03) {
          this.state = 'console';
          this.emitUnit([c]);
        } else if (c === 0x24) {
          this.state = 'rsp';
          this.unit = [c];
        } else {
          // not a unit: the marker was the console's byte
          this.con.push(MUX_RSP);
          this.state = 'console';
          this.byte(c);
        }
        return;
      case 'rsp':
      case 'sum1':
      case 'sum2':
        if (c === MUX_RSP) {
          // a unit cut short (the target reset mid-packet): the next one starts here; the
          // stub's replies are hex or text, and its binary `x` replies escape this byte
          this.stats.dropped++;
          this.unit = [];
          this.state = 'mark';
          return;
        }
        this.unit.push(c);
        if (this.state === 'rsp') {
          if (c === 0x23) this.state = 'sum1';
          else if (this.unit.length > RSP_MAX) {
            this.stats.dropped++;
            this.unit = [];
            this.state = 'console';
          }
          return;
        }
        if (this.state === 'sum1') {
          this.state = 'sum2';
          return;
        }
        this.state = 'console';
        this.emitUnit(this.unit);
        this.unit = [];
        return;
      case 'trace':
        if (c === 0) {
          this.unit.push(0);
          this.flushConsole();
          this.stats.traceFrames++;
          this.sink.trace(Uint8Array.from(this.unit));
          this.unit = [];
          this.state = 'console';
        } else if (this.unit.length >= TRACE_MAX) {
          // no frame ends this: it was console output holding a 0x1d; give it back
          this.stats.dropped++;
          this.con.push(MUX_TRACE, ...this.unit);
          this.unit = [];
          this.state = 'console';
          this.byte(c);
        } else this.unit.push(c);
        return;
    }
  }
}

type MarkState = 'out' | 'pkt' | 'sum1' | 'sum2';

/** Marks the RSP units in what a gdb sends (its byte stream may split or join units anywhere). */
export class RspMarker {
  private state: MarkState = 'out';
  constructor(private readonly stats?: MuxStats) {}

  encode(bytes: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      switch (this.state) {
        case 'out':
          if (c === 0x24) {
            out.push(MUX_RSP, c);
            this.state = 'pkt';
          } else if (c === 0x2b || c === 0x2d || c === 0x03) {
            out.push(MUX_RSP, c);
            if (c === 0x2d && this.stats) this.stats.naksToTarget++;
          }
          // anything else between units is not RSP; it is not the console's either: dropped
          break;
        case 'pkt':
          out.push(c);
          if (c === 0x23) this.state = 'sum1';
          break;
        case 'sum1':
          out.push(c);
          this.state = 'sum2';
          break;
        case 'sum2':
          out.push(c);
          this.state = 'out';
          break;
      }
    }
    return Uint8Array.from(out);
  }
}

/** Console input for the shared line: the marker byte cannot be typed (it would start a unit). */
export function consoleInput(bytes: Uint8Array): Uint8Array {
  return bytes.includes(MUX_RSP) ? bytes.filter((b) => b !== MUX_RSP) : bytes;
}

/** The marked packet that turns the kernel's trace frames on or off. */
export function traceSwitch(on: boolean): Uint8Array {
  const data = `QLanesTrace:${on ? 1 : 0}`;
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  const s = `$${data}#${sum.toString(16).padStart(2, '0')}`;
  const out = new Uint8Array(s.length + 1);
  out[0] = MUX_RSP;
  for (let i = 0; i < s.length; i++) out[i + 1] = s.charCodeAt(i);
  return out;
}

export interface MuxLine {
  /** The RSP side: give it to RspClient.connect / a Bridge. Closing it leaves the line open;
   * openRsp() gives a fresh one (after a failed handshake, a detach). */
  readonly rsp: Transport;
  openRsp(): Transport;
  /** Resolves once the target has sent anything (its UART is programmed: a unit sent before
   * could be lost in the reset of its FIFO), or after timeoutMs. */
  heard(timeoutMs: number): Promise<boolean>;
  writeConsole(bytes: Uint8Array | string): void;
  setTrace(on: boolean): void;
  readonly stats: MuxStats;
  close(): void;
}

export interface MuxHandlers {
  console(bytes: Uint8Array): void;
  trace?(frame: Uint8Array): void;
  /** the line itself closed (unplugged, the socket went away) */
  closed?(error?: Error): void;
}

function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** Starts reading `line` at once (the console flows before any debugger attaches). */
export function muxLine(line: Transport, h: MuxHandlers): MuxLine {
  const stats = newStats();
  let marker = new RspMarker(stats);
  let rspData: ((b: Uint8Array) => void) | undefined;
  let rspClose: ((e?: Error) => void) | undefined;
  let rspOpen = true;
  let lineOpen = true;
  let pendingRsp: Uint8Array[] = [];
  let hearers: Array<() => void> = [];
  const demux = new SerialDemux({
    console: (b) => h.console(b),
    rsp: (u) => {
      if (!rspOpen) return;
      if (rspData) rspData(u);
      else if (pendingRsp.length < 64) pendingRsp.push(u);
    },
    trace: (f) => h.trace?.(f),
  }, stats);
  const send = (b: Uint8Array) => {
    if (!lineOpen || !b.length) return;
    stats.txBytes += b.length;
    line.write(b);
  };
  const endRsp = (e?: Error) => {
    if (!rspOpen) return;
    rspOpen = false;
    rspClose?.(e);
  };
  line.start((chunk) => {
    demux.feed(chunk);
    if (hearers.length) for (const h of hearers.splice(0)) h();
  }, (e) => {
    lineOpen = false;
    endRsp(e ?? new Error(`${line.description} closed`));
    h.closed?.(e);
  });
  const openRsp = (): Transport => {
    endRsp();
    rspOpen = lineOpen;
    rspData = undefined;
    rspClose = undefined;
    pendingRsp = [];
    marker = new RspMarker(stats);
    return makeRsp();
  };
  const makeRsp = (): Transport => ({
    description: `${line.description} (gdb units)`,
    write: (b) => send(marker.encode(b)),
    writeBinary: (s) => send(marker.encode(latin1(s))),
    writeBinaryParts: (parts) => send(marker.encode(latin1(parts.join('')))),
    start(onData, onClose) {
      if (rspData) throw new Error('transport already started');
      rspData = onData;
      rspClose = onClose;
      for (const u of pendingRsp.splice(0)) onData(u);
      if (!rspOpen) onClose();
    },
    close: () => endRsp(),
  });
  let current = makeRsp();
  return {
    get rsp() { return current; },
    openRsp: () => (current = openRsp()),
    heard: (timeoutMs) => new Promise<boolean>((resolve) => {
      if (stats.rxBytes > 0) return resolve(true);
      const t = setTimeout(() => {
        hearers = hearers.filter((h) => h !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => { clearTimeout(t); resolve(true); };
      hearers.push(done);
    }),
    stats,
    writeConsole: (b) => send(consoleInput(typeof b === 'string' ? new TextEncoder().encode(b) : b)),
    setTrace: (on) => send(traceSwitch(on)),
    close: () => {
      endRsp();
      line.close();
    },
  };
}
