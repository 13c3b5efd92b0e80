/*
 * The Panic view's backend half: the kernel's panic text in the Run's console (any Run, not only
 * Debug) becomes a PanicView — message, CPU, registers, and the backtrace with each frame
 * symbolized to function and source line through the kernel ELF (lanescope.json debug.elf).
 * Return addresses are looked up one byte back (the call instruction's line); frame 0 of a trap's
 * panic is the trapping rip itself. Lines come in chunks cut anywhere; a new Run forgets the panic.
 *
 * Once the panic is complete ("System halted.") the flight recorder is read from the stopped
 * guest's memory (readPanicFlight: the kernel's trace_rings through the Run's gdbstub — the
 * Runner's private postmortem socket — with debugger/node/trace/flight.ts), so the Panic view has
 * every CPU's last events even when no trace transport ran.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseElf, Symbolizer } from '../../debugger/common/elf.js';
import type { PanicFlight, PanicFrame, PanicRequests, PanicView } from '../common/panic.js';
import { RspClient } from '../../debugger/node/client.js';
import { readFlightRecorder } from '../../debugger/node/trace/flight.js';
import { decodeBuffer, formatEvent } from '../../debugger/common/trace/text.js';
import type { Handler } from './views/types.js';

type PanicHandlers = { [K in keyof PanicRequests]: Handler<K> };

const PANIC_RE = /KERNEL PANIC: (.*) \(cpu(\d+)\)\s*$/;
const FRAME_RE = /^\s*\[<([0-9a-f]{16})>\] (\S+)/;
const MAX_LINES = 80;
/** Events per CPU the Panic view shows from the flight recorder. */
export const FLIGHT_PER_CPU = 8;

/**
 * Reads the kernel's trace rings from the guest stopped behind the gdbstub Unix socket `stub`
 * (QEMU pauses the VM while a gdb is connected) and keeps the last `perCpu` events of every CPU.
 */
export async function readPanicFlight(stub: string, kernelElf: string, perCpu = FLIGHT_PER_CPU, timeoutMs = 60000): Promise<PanicFlight> {
  const elf = new Uint8Array(fs.readFileSync(kernelElf));
  const c = await RspClient.connect(`unix:${stub}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      readFlightRecorder(c, elf),
      new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`the guest's memory did not answer within ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]);
    const t = decodeBuffer(r.file, 'records');
    const per = new Map<number, string[]>();
    for (let i = t.events.length - 1; i >= 0; i--) {
      const e = t.events[i]!;
      const l = per.get(e.cpu) ?? [];
      if (l.length < perCpu) l.unshift(formatEvent(e, t.decoder.defs));
      per.set(e.cpu, l);
    }
    return { records: t.events.length, cpus: [...per.keys()].sort((a, b) => a - b).map((cpu) => ({ cpu, events: per.get(cpu)! })) };
  } finally {
    clearTimeout(timer);
    c.close();
  }
}

export class PanicBackend {
  private panic: PanicView | null = null;
  private partial = '';
  private gen = -1;
  private inBacktrace = false;
  private sym: { elf: string; mtime: number; s: Symbolizer } | null = null;

  /** flight: reads the flight recorder of the Run (readPanicFlight on its gdbstub), or null (not read). */
  constructor(
    private readonly where: () => { kernelElf: string; root: string } | null,
    private readonly publish: (p: PanicView | null) => void,
    private readonly flight: ((kernelElf: string) => Promise<PanicFlight>) | null = null,
  ) {}

  /** Reads the flight recorder for panic `p` (of Run gen) and publishes it with the panic. */
  private readFlight(gen: number, p: PanicView): void {
    const w = this.where();
    if (!this.flight || !w) return;
    void this.flight(w.kernelElf).then((f) => {
      p.flight = f;
    }, (e: Error) => {
      p.flightError = e.message;
    }).then(() => {
      if (this.gen === gen && this.panic === p) this.publish(p);
    });
  }

  feed(gen: number, data: string): void {
    if (gen !== this.gen) {
      this.gen = gen;
      this.partial = '';
      this.inBacktrace = false;
      if (this.panic) {
        this.panic = null;
        this.publish(null);
      }
    }
    const lines = (this.partial + data).split('\n');
    this.partial = (lines.pop() ?? '').slice(-4096);
    let changed = false;
    for (const raw of lines) changed = this.line(raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '')) || changed;
    if (changed && this.panic) this.publish(this.panic);
  }

  private line(l: string): boolean {
    const m = PANIC_RE.exec(l);
    if (m && !this.panic) {
      this.panic = { message: m[1] ?? '', cpu: Number(m[2]), registers: [], frames: [], text: l.slice(l.indexOf('KERNEL PANIC')), complete: false };
      return true;
    }
    const p = this.panic;
    if (!p || p.complete || p.text.split('\n').length > MAX_LINES) return false;
    p.text += `\n${l}`;
    if (/^System halted\./.test(l)) {
      p.complete = true;
      this.readFlight(this.gen, p);
      return true;
    }
    if (/^Backtrace:/.test(l)) {
      this.inBacktrace = true;
      return false;
    }
    const f = FRAME_RE.exec(l);
    if (f && this.inBacktrace) {
      const addr = BigInt(`0x${f[1]}`);
      const exact = p.frames.length === 0 && p.registers.some((r) => r.startsWith('RIP '));
      const kernel = addr >= 0xffff800000000000n; // a user address is not the kernel ELF's
      p.frames.push({ addr: `0x${f[1]}`, symbol: f[2] ?? '?', ...(kernel ? this.resolve(exact ? addr : addr - 1n) : {}) });
      return true;
    }
    if (!this.inBacktrace && /^(vector|RIP|RSP|RAX|RDX|RBP|R10|R13) /.test(l)) p.registers.push(l.trim());
    return false;
  }

  private resolve(addr: bigint): Omit<PanicFrame, 'addr' | 'symbol'> {
    const w = this.where();
    if (!w) return {};
    let st: fs.Stats;
    try {
      st = fs.statSync(w.kernelElf);
    } catch {
      return {};
    }
    if (!this.sym || this.sym.elf !== w.kernelElf || this.sym.mtime !== st.mtimeMs) {
      try {
        const b = fs.readFileSync(w.kernelElf);
        this.sym = { elf: w.kernelElf, mtime: st.mtimeMs, s: new Symbolizer(parseElf(new Uint8Array(b.buffer, b.byteOffset, b.length))) };
      } catch {
        return {};
      }
    }
    const out: Omit<PanicFrame, 'addr' | 'symbol'> = {};
    const fn = this.sym.s.symbolize(addr);
    if (fn) out.function = fn.name;
    const hit = this.sym.s.lineFor(addr);
    if (hit) {
      const rel = path.relative(w.root, path.resolve(w.root, hit.file));
      out.file = rel.startsWith('..') || path.isAbsolute(rel) ? hit.file : rel.split(path.sep).join('/');
      out.line = hit.line;
    }
    return out;
  }

  get(): PanicView | null {
    return this.panic;
  }

  handlers(): PanicHandlers {
    return { 'panic.get': () => ({ panic: this.get() }) };
  }
}
