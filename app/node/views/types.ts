/*
 * Types shared by the backend and the backend halves of views.
 */
import type { RequestName, Requests } from '../../common/contract.js';

export type Handler<K extends RequestName> = (params: Requests[K]['params']) => Promise<Requests[K]['result']> | Requests[K]['result'];
export type Handlers = { [K in RequestName]: Handler<K> };

/**
 * A handler table for requests outside the contract's static type (a view loaded at run time, a
 * test's toy view): names and functions only.
 */
export type LooseHandlers = Record<string, (params: Record<string, unknown>) => unknown>;
