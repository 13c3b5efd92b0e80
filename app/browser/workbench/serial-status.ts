/*
 * The serial target's status-bar item: the line (device or socket), its baud rate, its state
 * (connected, silent, unplugged, an opening error), bytes per second each way, trace frames and
 * NAKs — from the backend's 'serial.status' events (app/node/serial-target.ts). Hidden until a
 * serial Run opened (or failed to open) a line; a bad state is highlighted, the tooltip says why.
 */
import { serialStatusLabel, serialStatusTitle, type SerialLineStatus } from '../../common/serial-line.js';
import { wbState } from './state.js';
import type { Contribution } from './views.js';

let last: SerialLineStatus | null = null;

export const serialStatusContribution: Contribution = {
  id: 'serial-line',
  statusItems: [{
    id: 'serial',
    align: 'right',
    order: 40,
    create(el, wb) {
      el.hidden = true;
      el.setAttribute('role', 'status');
      wb.client.on('serial.status', (s) => {
        last = s;
        el.hidden = false;
        el.textContent = `⇄ ${serialStatusLabel(s)}`;
        el.title = serialStatusTitle(s);
        el.dataset['state'] = s.state;
        el.setAttribute('aria-label', `Serial line: ${serialStatusLabel(s)}${s.message ? `. ${s.message}` : ''}`);
      });
      // a QEMU Run has no line to show
      wb.client.on('run.state', ({ state }) => {
        if ((state.kind === 'building' || state.kind === 'booting') && wbState.project?.config.target !== 'serial') el.hidden = true;
      });
    },
  }],
  testHooks: {
    /** the last serial.status event (null before any serial Run) */
    serialStatus: () => last,
  },
};
