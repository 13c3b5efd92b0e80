/*
 * The Crashes view's part of the contract (added to Requests and Events by the module
 * augmentation at the end). The backend (app/node/crashes.ts) reads the Run's console for the
 * POSIX server's line about each process a fault ended ("posix: pid 12 (crashme) killed by
 * SIGSEGV (11) at address 0x0, rip 0x400266: core dumped to /var/core/core.crashme.12") and
 * resolves the faulting instruction to its source line through the program's ELF (DWARF):
 *   crashes.list  → the crashes of the current (or last) Run, oldest first, and the project's
 *                   earlier ones kept in the state folder (app/node/crash-store.ts), newest first
 *   crashes.open  → opens a crash's core (copied out of the guest during the Run: core-fetch.ts)
 *                   in a read-only debug session — Call Stack, Variables, Registers, the editor
 *   event crashes → both lists whenever they change (a crash seen, a core copied, a new Run)
 */

export interface CrashView {
  /** stable across restarts: the state folder's entry (app/node/crash-store.ts) */
  id: string;
  /** when it was seen (ms since the epoch) */
  at: number;
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
  /**
   * The core's copy on the host: 'fetching' while the guest's `upload` sends it over the console,
   * 'stored' in the state folder (crashes.open opens it), 'failed' (fetchError says why).
   */
  fetch?: 'fetching' | 'stored' | 'failed';
  fetchError?: string;
  /** the stored core's size in bytes */
  coreBytes?: number;
  /** the function and source line of rip (project-relative when inside the project), if the program's ELF has them */
  function?: string;
  file?: string;
  line?: number;
}

export interface CrashesRequests {
  'crashes.list': { params: Record<string, never>; result: { crashes: CrashView[]; earlier: CrashView[] } };
  'crashes.open': { params: { id: string }; result: { ok: true } };
}

export interface CrashesEvents {
  crashes: { crashes: CrashView[]; earlier: CrashView[] };
}

declare module './contract.js' {
  interface Requests extends CrashesRequests {}
  interface Events extends CrashesEvents {}
}
