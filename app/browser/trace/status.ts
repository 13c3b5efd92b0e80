/*
 * The trace's status-bar item: the Run's recording rate while live, the final count when it
 * ended; lost > 0 is highlighted. Figures: the trace store's decode plus the backend's transport.
 */
import { traceStatusLabel } from '../../common/contract.js';
import type { StatusItem } from '../workbench/views.js';
import { traceStore } from './index.js';

export const traceStatusItem: StatusItem = {
  id: 'trace',
  align: 'right',
  order: 50,
  create(el) {
    el.hidden = true;
    el.setAttribute('aria-label', 'Trace recording');
    el.title = 'The Run\'s trace recording (events per second · events lost); save it with a trace view\'s Save trace…';
    const render = () => {
      const t = traceStore().status();
      if (!t) return;
      el.hidden = false;
      el.textContent = traceStatusLabel(t);
      el.dataset['lost'] = String(t.lost);
      el.dataset['live'] = String(t.live);
      el.classList.toggle('lost', t.lost > 0);
      el.setAttribute('aria-label', `Trace recording: ${traceStatusLabel(t)}`);
    };
    traceStore().onChange(render);
  },
};
