/*
 * No edit lost, renderer side (design: app/common/hot-exit.ts).
 *   - every BACKUP_MS, each dirty buffer whose text changed since its last backup is sent to the
 *     backend (backup.set); a buffer that became clean (saved) or was closed has its backup dropped;
 *   - when a project opens, backups left behind (a crash, a killed backend, a closed tab) are offered
 *     back: Restore puts their text into the editor as unsaved changes (Undo returns to the file on
 *     disk), Discard drops them;
 *   - Electron asks before closing/quitting (`app.closeRequested`): Save / Don't Save / Cancel;
 *   - the browser mode: the page's beforeunload shows the browser's leave-page prompt while dirty.
 * main.ts registers hotExitContribution (its view of the open files: workbench/editor.ts openBuffers);
 * workbench/project.ts calls offerBackups() after a project is loaded.
 */
import type { Client } from './client.js';
import { closeChoiceOutcome } from '../common/hot-exit.js';
import { modal } from './workbench/dom.js';
import { openBuffer, openBuffers } from './workbench/editor.js';
import type { Contribution } from './workbench/views.js';

export const BACKUP_MS = 2000;

export interface EditorBuffer {
  path: string;
  dirty(): boolean;
  /** Changes with every edit (Monaco's alternative version id). */
  version(): number;
  text(): string;
  save(): Promise<boolean>;
  /** Replaces the text as an undoable edit (the buffer becomes dirty). */
  replaceText(text: string): void;
}

export interface HotExitHost {
  client: Client;
  notify(level: 'info' | 'warning' | 'error', message: string): void;
  modal(title: string, body: HTMLElement, buttons: { label: string; value: string; primary?: boolean }[]): Promise<string>;
  buffers(): EditorBuffer[];
  open(path: string): Promise<EditorBuffer | null>;
}

let host: HotExitHost | null = null;
/** path → buffer version last backed up (this session's backups only). */
const backed = new Map<string, number>();
let approved = false;
let syncing = false;

export function installHotExit(h: HotExitHost): void {
  host = h;
  setInterval(() => void syncBackups(), BACKUP_MS);
  h.client.on('app.closeRequested', () => void onCloseRequested());
}

/** Backs up what changed, drops backups of buffers that are clean or gone. */
export async function syncBackups(): Promise<void> {
  if (!host || syncing || approved) return;
  syncing = true;
  try {
    const live = new Map(host.buffers().map((b) => [b.path, b]));
    const drop: string[] = [];
    for (const [p, v] of backed) {
      const b = live.get(p);
      if (!b || !b.dirty()) {
        drop.push(p);
        backed.delete(p);
      } else if (b.version() === v) live.delete(p); // unchanged since its backup
    }
    if (drop.length) await host.client.request('backup.drop', { paths: drop }).catch(() => undefined);
    for (const b of live.values()) {
      if (!b.dirty() || backed.get(b.path) === b.version()) continue;
      const v = b.version();
      try {
        await host.client.request('backup.set', { path: b.path, content: b.text() });
        backed.set(b.path, v);
      } catch {
        /* backend gone or no project: next round */
      }
    }
  } finally {
    syncing = false;
  }
}

/** A project was (re)loaded: forget this session's bookkeeping and offer what an earlier one left. */
export async function offerBackups(): Promise<void> {
  if (!host) return;
  backed.clear();
  let list;
  try {
    list = await host.client.request('backup.list', {});
  } catch {
    return;
  }
  if (!list.length) return;
  const body = document.createElement('div');
  const p = document.createElement('p');
  p.textContent = `Lanescope did not close normally: ${list.length === 1 ? 'this file has' : 'these files have'} unsaved changes from the last session.`;
  const ul = document.createElement('ul');
  ul.className = 'hot-exit-list';
  for (const b of list) {
    const li = document.createElement('li');
    li.dataset['path'] = b.path;
    li.textContent = `${b.path} — ${new Date(b.at).toLocaleString()}${b.diskChanged ? ' (the file changed on disk since)' : ''}`;
    ul.append(li);
  }
  body.append(p, ul);
  const choice = await host.modal('Restore unsaved changes?', body, [
    { label: 'Restore', value: 'restore', primary: true },
    { label: 'Discard', value: 'discard' },
  ]);
  if (choice !== 'restore') {
    // Escape keeps them for next time; only an explicit Discard deletes them
    if (choice === 'discard') await host.client.request('backup.drop', { paths: list.map((b) => b.path) }).catch(() => undefined);
    return;
  }
  for (const b of list) {
    const buf = await host.open(b.path);
    if (!buf) {
      host.notify('warning', `${b.path}: could not be opened to restore its unsaved changes (the backup is kept)`);
      continue;
    }
    if (buf.text() !== b.content) buf.replaceText(b.content);
    backed.set(b.path, -1); // re-backed up on the next round, dropped once saved
  }
}

/** True once the user answered Save / Don't Save for a close: beforeunload must not block it. */
export function closeApproved(): boolean {
  return approved;
}

async function onCloseRequested(): Promise<void> {
  if (!host) return;
  const dirty = host.buffers().filter((b) => b.dirty());
  let proceed = true;
  if (dirty.length) {
    const body = document.createElement('div');
    const p = document.createElement('p');
    p.textContent = dirty.length === 1 ? `${dirty[0]!.path} has unsaved changes. Save them before closing?` : `${dirty.length} files have unsaved changes. Save them before closing?`;
    body.append(p);
    const choice = await host.modal('Unsaved changes', body, [
      { label: 'Save', value: 'save', primary: true },
      { label: "Don't Save", value: 'discard' },
      { label: 'Cancel', value: 'cancel' },
    ]);
    const out = closeChoiceOutcome(choice, dirty.map((b) => b.path));
    proceed = out.proceedUnlessSaveFails;
    for (const b of dirty) if (out.save.includes(b.path) && !(await b.save())) proceed = false;
    if (proceed && out.dropBackups.length) await host.client.request('backup.drop', { paths: out.dropBackups }).catch(() => undefined);
  }
  approved = proceed;
  await host.client.request('app.closeAnswer', { proceed }).catch(() => undefined);
}

export const hotExitContribution: Contribution = {
  id: 'hot-exit',
  activate(wb) {
    installHotExit({ client: wb.client, notify: wb.notify, modal, buffers: openBuffers, open: openBuffer });
  },
};
