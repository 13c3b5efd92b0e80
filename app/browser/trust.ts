/*
 * Workspace trust in the renderer. The backend decides and enforces (app/node/trust.ts); this module
 * only shows it: a "Restricted mode" item in the status bar for a folder not trusted, and before Run
 * (and Restart, Debug) a dialog listing exactly what would execute — the build command and where, the
 * QEMU command line or the serial port — with Trust / Cancel. Trust sends back the hash of the
 * settings shown, so a lanescope.json changed meanwhile is not trusted unseen.
 *
 * main.ts registers trustContribution; workbench/project.ts calls refreshTrust() when a project is
 * loaded, and Run, Restart and Debug `await ensureTrusted()` before anything runs.
 */
import type { Client } from './client.js';
import type { TrustStatus } from '../common/trust.js';
import type { Contribution } from './workbench/views.js';

let client: Client | null = null;
let notify: (level: 'info' | 'warning' | 'error', message: string) => void = () => undefined;

export function installTrust(c: Client, n: typeof notify): void {
  client = c;
  notify = n;
}

function badge(): HTMLElement {
  let b = document.getElementById('status-trust');
  if (!b) {
    b = document.createElement('button');
    b.id = 'status-trust';
    b.className = 'status-trust';
    b.textContent = 'Restricted mode';
    b.title = 'This folder is not trusted: browse and edit only; no build, QEMU or terminal. Click to review its commands.';
    b.addEventListener('click', () => void ensureTrusted());
    const bar = document.getElementById('statusbar');
    bar?.insertBefore(b, bar.firstChild);
  }
  return b;
}

/** Shows or hides the restricted-mode item for the open folder. */
export async function refreshTrust(): Promise<TrustStatus | null> {
  if (!client) return null;
  let st: TrustStatus;
  try {
    st = await client.request('trust.status', {});
  } catch {
    badge().hidden = true; // no project open
    return null;
  }
  const b = badge();
  b.hidden = st.trusted;
  b.dataset['why'] = st.why;
  document.body.dataset['trusted'] = String(st.trusted);
  return st;
}

function text(tag: string, t: string, cls = ''): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = t;
  if (cls) e.className = cls;
  return e;
}

/** Shell-style quoting for showing an argv (what is shown is what runs: no shell is involved for QEMU). */
function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

function ask(st: TrustStatus): Promise<boolean> {
  return new Promise((resolve) => {
    const back = text('div', '', 'modal-back');
    const box = text('div', '', 'modal trust-dialog');
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-label', 'Trust this folder?');
    const p = st.plan;
    const body = document.createElement('div');
    body.append(
      text('p', st.why === 'changed'
        ? 'The commands in this folder\'s lanescope.json changed since you trusted it. Run would now execute:'
        : 'This folder is not trusted yet. Run would execute these commands on your machine, as you:'),
    );
    if (p.guessed) body.append(text('p', 'There is no lanescope.json: these were guessed from the folder\'s files.', 'trust-note'));
    body.append(text('h3', 'Build'), text('pre', p.build ? `(in ${p.build.cwd})\n$ sh -c ${quote(p.build.command)}` : '(no build command)', 'trust-cmd trust-build'));
    if (p.qemu) body.append(text('h3', 'QEMU'), text('pre', `$ ${p.qemu.map(quote).join(' ')}`, 'trust-cmd trust-qemu'), text('p', 'Lanescope adds its trace device, and a gdbstub socket when debugging.', 'trust-note'));
    if (p.serial) body.append(text('h3', 'Serial target'), text('pre', `${p.serial.port} at ${p.serial.baud} baud`, 'trust-cmd'));
    if (p.test) body.append(text('h3', 'Tests'), text('pre', `$ sh -c ${quote(p.test)}`, 'trust-cmd'));
    body.append(text('p', 'Trust this folder only if you trust where it came from. You are asked again when these commands change.', 'trust-note'));
    const row = text('div', '', 'modal-buttons');
    const done = (v: boolean) => {
      back.remove();
      document.removeEventListener('keydown', onKey, true);
      resolve(v);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        done(false);
      }
    };
    document.addEventListener('keydown', onKey, true);
    const trust = text('button', 'Trust', 'primary') as HTMLButtonElement;
    const cancel = text('button', 'Cancel') as HTMLButtonElement;
    trust.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    row.append(trust, cancel);
    box.append(text('h2', 'Trust this folder?'), body, row);
    back.append(box);
    document.body.append(back);
    cancel.focus(); // the safe choice is the default
  });
}

/** Resolves true when the open folder may run its commands (asking the user if needed). */
export async function ensureTrusted(): Promise<boolean> {
  const st = await refreshTrust();
  if (!st) return true; // no project: the backend answers with its own message
  if (st.trusted) return true;
  if (!(await ask(st))) {
    notify('info', 'Run cancelled: the folder stays in restricted mode.');
    return false;
  }
  try {
    const now = await client!.request('trust.grant', { hash: st.hash });
    badge().hidden = now.trusted;
    document.body.dataset['trusted'] = String(now.trusted);
    return now.trusted;
  } catch (e) {
    notify('error', (e as Error).message);
    await refreshTrust();
    return false;
  }
}

export const trustContribution: Contribution = {
  id: 'trust',
  activate(wb) {
    installTrust(wb.client, wb.notify);
    wb.client.on('project.changed', () => void refreshTrust());
  },
};
