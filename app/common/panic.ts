/*
 * The Panic view's part of the contract. The backend (app/node/panic.ts) reads the Run's console
 * for the kernel's panic text (os/kernel/generic/panic.c: "KERNEL PANIC: MESSAGE (cpuN)", the
 * registers when a trap panicked, "Backtrace:" and one "[<address>] symbol+0xoff" line per frame,
 * "System halted.") and symbolizes each frame to its source line through the kernel ELF:
 *   panic.get   → the Run's panic, or null
 *   event panic → the same when it is seen (null when a new Run starts)
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
