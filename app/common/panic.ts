/*
 * The Panic view's part of the contract. The backend (app/node/panic.ts) reads the Run's console
 * for the kernel's panic text (os/kernel/generic/panic.c: "KERNEL PANIC: MESSAGE (cpuN)", the
 * registers when a trap panicked, "Backtrace:" and one "[<address>] symbol+0xoff" line per frame,
 * "System halted.") and symbolizes each frame to its source line through the kernel ELF:
 *   panic.get   → the Run's panic, or null
 *   event panic → the same when it is seen (null when a new Run starts), again when the flight
 *                 recorder was read from the guest's memory
 */

export interface PanicFrame {
  addr: string;
  /** the kernel's own name for it (from the panic text) */
  symbol: string;
  function?: string;
  file?: string;
  line?: number;
}

export interface PanicView {
  message: string;
  cpu: number;
  /** 'rip' registers came with it (a trap): frame 0 is the faulting instruction itself */
  registers: string[];
  /** innermost first; frame 0 is panic's caller (or the trapping instruction) */
  frames: PanicFrame[];
  /** the whole panic text as it came */
  text: string;
  /** "System halted." was seen */
  complete: boolean;
  /**
   * The flight recorder: the kernel's per-CPU trace rings (trace_rings) read from the stopped
   * guest's memory through a gdbstub once the panic is complete — the last events of every CPU even
   * when no trace transport ran. Each event formatted as the trace CLI prints it.
   */
  flight?: PanicFlight;
  /** Why the flight recorder could not be read (no gdbstub, not a tracing kernel, …). */
  flightError?: string;
}

export interface PanicFlight {
  /** records read from all rings */
  records: number;
  cpus: { cpu: number; events: string[] }[];
}

export interface PanicRequests {
  'panic.get': { params: Record<string, never>; result: { panic: PanicView | null } };
}

export interface PanicEvents {
  panic: { panic: PanicView | null };
}

declare module './contract.js' {
  interface Requests extends PanicRequests {}
  interface Events extends PanicEvents {}
}
