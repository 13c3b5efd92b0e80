/*
 * The trace every trace view shares: its status-bar item (more to come: the store itself).
 */
import { registerContribution } from '../workbench/views.js';
import { traceStatusItem } from './status.js';

export function registerTrace(): void {
  registerContribution({ id: 'trace', statusItems: [traceStatusItem] });
}
