/*
 * The target picker (toolbar button): QEMU (CPUs, memory, accelerator) or serial hardware (port —
 * a device or unix:/tcp: for a terminal server —, baud, whether the line is LaneOS's shared debug
 * line), written to lanescope.json through project.setTarget.
 */
import { VALID_BAUDS } from '../../common/project.js';
import { $, el, modal, notify } from './dom.js';
import { wbState } from './state.js';

export function renderTarget(): void {
  const t = $('#btn-target');
  const project = wbState.project;
  if (!project) {
    t.textContent = 'No target';
    return;
  }
  const c = project.config;
  t.textContent = c.target === 'qemu' ? `QEMU · ${c.qemu.cpus} CPU${c.qemu.cpus > 1 ? 's' : ''} · ${c.qemu.memory} · ${c.qemu.accel === 'auto' ? 'KVM/TCG' : c.qemu.accel.toUpperCase()}` : `Serial · ${c.serial.port}${c.serial.port.startsWith('unix:') || c.serial.port.startsWith('tcp:') ? '' : ` · ${c.serial.baud}`}`;
}

export async function pickTarget(): Promise<void> {
  if (!wbState.project) return;
  const c = wbState.project.config;
  const form = el('div', { className: 'form' });
  const kind = el('select', { id: 'target-kind', ariaLabel: 'Target kind' });
  kind.append(el('option', { value: 'qemu', textContent: 'QEMU (virtual machine)' }), el('option', { value: 'serial', textContent: 'Serial hardware' }));
  kind.value = c.target;
  const cpus = el('input', { id: 'target-cpus', type: 'number', min: '1', max: '64', value: String(c.qemu.cpus), ariaLabel: 'CPUs' });
  const mem = el('input', { id: 'target-memory', type: 'text', value: c.qemu.memory, ariaLabel: 'Memory' });
  const accel = el('select', { id: 'target-accel', ariaLabel: 'Accelerator' });
  accel.append(el('option', { value: 'auto', textContent: 'KVM, else TCG' }), el('option', { value: 'kvm', textContent: 'KVM only' }), el('option', { value: 'tcg', textContent: 'TCG (emulation)' }));
  accel.value = c.qemu.accel;
  const port = el('input', { id: 'target-port', type: 'text', value: c.serial.port, ariaLabel: 'Serial port' });
  port.setAttribute('list', 'serial-ports');
  const dl = el('datalist', { id: 'serial-ports' });
  const baud = el('select', { id: 'target-baud', ariaLabel: 'Baud rate' });
  for (const b of VALID_BAUDS) baud.append(el('option', { value: String(b), textContent: String(b) }));
  baud.value = String(c.serial.baud);
  const mux = el('input', { id: 'target-mux', type: 'checkbox', ariaLabel: 'LaneOS debug line' });
  mux.checked = c.serial.mux;
  mux.title = 'The board runs LaneOS booted with lanes.debug=ttyS0: console, debugger and trace share the line. Off: a plain console.';
  const reset = el('select', { id: 'target-reset', ariaLabel: 'Reset the board on Run' });
  reset.append(el('option', { value: '', textContent: 'no (boot it by hand)' }), el('option', { value: 'dtr', textContent: 'pulse DTR' }),
    el('option', { value: 'rts', textContent: 'pulse RTS' }));
  reset.value = c.serial.reset ?? '';
  reset.title = 'On Run, before the debugger attaches: assert this line of the port for 200 ms, then release it (a board whose reset input is wired to it). A serial device only, not a unix:/tcp: socket.';
  const lbl = (text: string, input: HTMLElement) => el('label', {}, el('span', { textContent: text }), input);
  const q = el('fieldset', {}, el('legend', { textContent: 'QEMU' }), lbl('CPUs', cpus), lbl('Memory', mem), lbl('Accelerator', accel));
  const s = el('fieldset', {}, el('legend', { textContent: 'Serial hardware' }), lbl('Port', port), dl, lbl('Baud', baud), lbl('LaneOS debug line (lanes.debug=ttyS0)', mux), lbl('Reset on Run', reset));
  const sync = () => {
    q.disabled = kind.value !== 'qemu';
    s.disabled = kind.value !== 'serial';
  };
  kind.addEventListener('change', sync);
  sync();
  form.append(lbl('Target', kind), q, s);
  wbState.client.request('serial.list', {}).then((ports) => {
    for (const p of ports) dl.append(el('option', { value: p.path, textContent: p.manufacturer ?? p.path }));
  }).catch(() => undefined);
  const choice = await modal('Target', form, [
    { label: 'Save', value: 'save', primary: true },
    { label: 'Cancel', value: 'cancel' },
  ]);
  if (choice !== 'save') return;
  try {
    wbState.project = await wbState.client.request('project.setTarget', {
      kind: kind.value as 'qemu' | 'serial',
      qemu: { cpus: Number(cpus.value), memory: mem.value, accel: accel.value as 'auto' | 'kvm' | 'tcg' },
      serial: { port: port.value, baud: Number(baud.value), mux: mux.checked, reset: reset.value === 'dtr' || reset.value === 'rts' ? reset.value : null },
    });
    renderTarget();
  } catch (e) {
    notify('error', `Target not changed: ${(e as Error).message}`);
  }
}

export function setupTargetPicker(): void {
  $('#btn-target').addEventListener('click', () => void pickTarget());
  wbState.client.on('project.changed', ({ project }) => {
    wbState.project = project;
    renderTarget();
  });
}
