/*
 * Workspace trust as the renderer sees it (the backend decides: app/node/trust.ts).
 * Pure types and requests; imports no runtime code.
 */

/** What Run would execute in this folder. */
export interface RunPlan {
  /** `sh -c COMMAND` in `cwd` (project-relative), or null when there is no build step. */
  build: { command: string; cwd: string } | null;
  test: string | null;
  /** QEMU's argv, binary first (QEMU target), else null. */
  qemu: string[] | null;
  /** The serial port opened (serial target), else null. */
  serial: { port: string; baud: number } | null;
  /** True when there is no lanescope.json and these were guessed from the folder. */
  guessed: boolean;
}

export interface TrustStatus {
  trusted: boolean;
  /** bundled: the bundled OS project; trusted: the user trusted these commands; new: never asked; changed: lanescope.json's commands changed. */
  why: 'bundled' | 'trusted' | 'new' | 'changed';
  /** Hash of the executable settings shown in `plan` (give it back to trust.grant). */
  hash: string;
  plan: RunPlan;
}

export interface TrustRequests {
  'trust.status': { params: Record<string, never>; result: TrustStatus };
  /** Trusts the open folder with the settings whose hash the user was shown. */
  'trust.grant': { params: { hash: string }; result: TrustStatus };
}

declare module './contract.js' {
  interface Requests extends TrustRequests {}
}
