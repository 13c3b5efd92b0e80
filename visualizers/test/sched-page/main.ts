/* The scheduler view on the synthetic fixture, for sched-view.browser.test.ts (window.__sched). */
import { SchedModel } from '../../sched/model.js';
import { createSchedView } from '../../sched/view.js';
import { scenario } from '../sched-fixture.js';

const model = new SchedModel();
const view = createSchedView(document.getElementById('host')!, model);
model.addAll(scenario());
view.fit();
view.renderNow();
(window as unknown as { __sched: unknown }).__sched = { model, view };
