/*
 * The workbench's shared state: the backend client, the open project, the run state and the
 * persisted layout (UiState, kept by the backend through state.set, never in the project).
 */
import type { Diagnostic, ProjectInfo, TargetState, UiState } from '../../common/contract.js';
import { DEFAULT_UI_STATE } from '../../common/contract.js';
import { Client } from '../client.js';

export const wbState = {
  client: new Client(),
  project: null as ProjectInfo | null,
  ui: { ...DEFAULT_UI_STATE } as UiState,
  problems: [] as Diagnostic[],
  targetState: { kind: 'idle' } as TargetState,
  stateSince: Date.now(),
};

let saveTimer: number | undefined;
export function persist(partial: Partial<UiState>): void {
  wbState.ui = { ...wbState.ui, ...partial };
  window.clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => {
    wbState.client.request('state.set', { state: wbState.ui }).catch(() => undefined);
  }, 250);
}

export function persistNow(): Promise<unknown> {
  window.clearTimeout(saveTimer);
  return wbState.client.request('state.set', { state: wbState.ui }).catch(() => undefined);
}
