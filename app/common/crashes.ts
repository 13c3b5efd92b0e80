/*
 * The Crashes view's part of the contract (added to Requests and Events by the module
 * augmentation at the end). The backend (app/node/crashes.ts) reads the Run's console for the
 * POSIX server's line about each process a fault ended ("posix: pid 12 (crashme) killed by
 * SIGSEGV (11) at address 0x0, rip 0x400266: core dumped to /var/core/core.crashme.12") and
 * resolves the faulting instruction to its source line through the program's ELF (DWARF):
 *   crashes.list  → the crashes of the current (or last) Run, oldest first
 *   event crashes → the same list whenever it changes (a crash seen, a new Run started)
 */

export interface CrashView {
  /** 1, 2, … in the Run */
  seq: number;
  pid: number;
  program: string;
  signal: number;
  signalName: string;
  /** the faulting address (CR2 for a page fault), hex */
  addr: string;
  /** the faulting instruction, hex */
  rip: string;
  /** where the guest wrote the core, or null with why not */
  corePath: string | null;
  noCoreReason?: string;
  /** the function and source line of rip (project-relative when inside the project), if the program's ELF has them */
  function?: string;
  file?: string;
  line?: number;
}

export interface CrashesRequests {
  'crashes.list': { params: Record<string, never>; result: { crashes: CrashView[] } };
}

export interface CrashesEvents {
  crashes: { crashes: CrashView[] };
}

declare module './contract.js' {
  interface Requests extends CrashesRequests {}
  interface Events extends CrashesEvents {}
}
