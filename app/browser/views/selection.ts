/*
 * The moment and threads the user selected in one view, for the others: select a message in the
 * IPC lanes view and the scheduler view centres on that moment and tells where both threads ran.
 * Times are the trace's ns (every view decodes the same recording with the same clock).
 */
export interface TimeSelection {
  ns: number;
  tids: number[];
  /** the view that published it (it does not react to its own) */
  from: string;
}

const listeners = new Set<(s: TimeSelection) => void>();

export function publishSelection(s: TimeSelection): void {
  for (const l of listeners) l(s);
}

export function onSelection(cb: (s: TimeSelection) => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}
