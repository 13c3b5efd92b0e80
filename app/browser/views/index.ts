/*
 * The one list of views. A view is a folder of its own (its model and renderer under
 * visualizers/<name>/, its workbench module here under views/<name>/, its backend half under
 * app/node/views/ when it has requests of its own); adding one means adding its line below.
 * Order of registration is the order of equal-`order` tabs.
 */
import { registerTrace } from '../trace/index.js';
import { registerDebugging } from './debug/index.js';
import { registerIpcPanel } from './ipc/panel.js';
import { registerSchedPanel } from './sched/panel.js';
import { registerSysfsPanel } from './sysfs/panel.js';
import { registerBuiltinPanels } from './terminals.js';

export function registerAllViews(): void {
  registerBuiltinPanels(); // Console, Build, Terminal, Problems
  registerTrace(); // the trace store's toolbar and status item, shared by every trace view
  registerIpcPanel(); // IPC lanes
  registerSchedPanel(); // Scheduler (load balancing)
  registerSysfsPanel(); // sysfs (the /sys tree in time)
  registerDebugging(); // Debug, Registers, Memory, Disassembly, RSP log
}
