/*
 * The open project: loading one (restore its open files and expanded folders, offer to write a
 * default lanescope.json) and Open Folder….
 */
import type { ProjectInfo } from '../../common/contract.js';
import { $, el, modal, notify } from './dom.js';
import { closeAll, reactivate, restoreFiles } from './editor.js';
import { refreshExplorer, restoreExpanded } from './explorer.js';
import { wbState } from './state.js';
import { renderState } from './statusbar.js';
import { renderTarget } from './target.js';
import { refreshTrust } from '../trust.js';
import { offerBackups } from '../hot-exit.js';

export async function loadProject(info: ProjectInfo, restore: boolean): Promise<void> {
  await closeAll(false);
  wbState.project = info;
  wbState.ui = await wbState.client.request('state.get', {});
  restoreExpanded(wbState.ui.expandedDirs);
  renderTarget();
  renderState();
  await refreshExplorer();
  if (info.configIsDefault) void offerProposal(info); // a form over the workbench, which goes on loading
  for (const e of info.configErrors) notify('warning', e);
  if (restore) await restoreFiles(wbState.ui.openFiles, wbState.ui.activeFile);
  reactivate();
  void refreshTrust(); // restricted mode shown in the status bar (trust.ts)
  void offerBackups(); // unsaved edits a crash or a killed backend left behind (hot-exit.ts)
}

/** The proposal's editable fields: [lanescope.json path, label]. Empty = null. */
const PROPOSAL_FIELDS: [string, string][] = [
  ['build.command', 'Build command'],
  ['qemu.binary', 'QEMU binary'],
  ['qemu.machine', 'Machine'],
  ['qemu.cpu', 'CPU'],
  ['qemu.memory', 'Memory'],
  ['qemu.kernel', 'Kernel (-kernel)'],
  ['qemu.iso', 'ISO (-cdrom)'],
  ['qemu.drive', 'Disk image (-drive)'],
  ['qemu.bios', 'Firmware (-bios: a file, ovmf for UEFI, none; empty = QEMU\'s default)'],
  ['qemu.append', 'Kernel command line'],
  ['debug.elf', 'ELF with symbols (Debug)'],
];

/**
 * A folder without lanescope.json: the configuration the backend proposed from what is in the folder
 * (app/node/propose.ts), as a form with where each value came from. Saving writes lanescope.json;
 * nothing is built or run here (Run asks for trust as always).
 */
async function offerProposal(info: ProjectInfo): Promise<void> {
  const config = structuredClone(info.config) as unknown as Record<string, Record<string, unknown>>;
  const form = el('div', { className: 'proposal-form' });
  const inputs = new Map<string, HTMLInputElement>();
  for (const [key, label] of PROPOSAL_FIELDS) {
    const [sec, field] = key.split('.') as [string, string];
    const v = config[sec]?.[field];
    const input = el('input', { type: 'text', id: `cfg-${key.replace('.', '-')}`, value: typeof v === 'string' ? v : '', ariaLabel: label });
    inputs.set(key, input);
    form.append(el('label', {}, el('span', { textContent: label }), input));
  }
  const notes = el('ul', { className: 'proposal-notes', ariaLabel: 'Where these come from' });
  for (const n of info.proposalNotes ?? []) notes.append(el('li', { textContent: n }));
  const b = el('div');
  b.append(el('p', { textContent: `${info.root} has no lanescope.json. Lanescope proposes this configuration from what is in the folder (nothing has been built or run):` }), form, notes);
  const c = await modal('Create lanescope.json?', b, [
    { label: 'Create lanescope.json', value: 'write', primary: true },
    { label: 'Not now', value: 'cancel' },
  ]);
  if (c !== 'write') return;
  for (const [key, input] of inputs) {
    const [sec, field] = key.split('.') as [string, string];
    const v = input.value.trim();
    const section = config[sec];
    if (!section) continue;
    if (v) section[field] = v;
    else if (field === 'binary' || field === 'machine' || field === 'cpu' || field === 'memory') continue; // required: keep the proposal's
    else section[field] = null;
  }
  try {
    wbState.project = await wbState.client.request('project.writeConfig', { config: config as unknown as ProjectInfo['config'] });
    notify('info', 'Wrote lanescope.json');
    await refreshExplorer();
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

export async function openFolder(): Promise<void> {
  const input = el('input', { type: 'text', id: 'open-folder-path', value: wbState.project?.root ?? '', ariaLabel: 'Folder path' });
  input.style.width = '36em';
  const body = el('div', {}, el('label', {}, el('span', { textContent: 'Folder to open as a project' }), input));
  const choice = await modal('Open Folder', body, [
    { label: 'Open', value: 'open', primary: true },
    { label: 'Cancel', value: 'cancel' },
  ]);
  if (choice !== 'open') return;
  if (!(await closeAll(true))) return;
  try {
    const info = await wbState.client.request('project.open', { path: input.value });
    await loadProject(info, true);
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

export async function openInitialProject(): Promise<void> {
  try {
    const info = await wbState.client.request('project.open', {});
    await loadProject(info, true);
  } catch {
    $('#explorer-title').textContent = 'No folder open';
    reactivate();
    void openFolder();
  }
}
