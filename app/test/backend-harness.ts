/*
 * backend-harness.ts — one Backend (app/node/backend.ts) driven as the renderer drives it, for the
 * tests that Run a project without a browser: requests in, events collected.
 *
 *   const h = driveBackend(root, { trust: true });
 *   await h.call('run.start');                          // throws with the backend's error
 *   await h.until(() => h.consoleText().includes('hello'), 'the kernel\'s hello', 90000);
 *   ...
 *   await h.close();                                     // stops the Run, shuts the backend down
 *
 * A wait that times out fails with what the backend said meanwhile (run states, notices, the end
 * of the console), plus the caller's own detail.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventMessage, Events, ServerMessage } from '../common/contract.js';
import { Backend } from '../node/backend.js';
import { trustProject } from '../node/trust.js';

export interface Reply { ok: boolean; result?: unknown; error?: string }

export function driveBackend(root: string, o: { trust?: boolean; stateDir?: string } = {}) {
  const ownState = !o.stateDir;
  const stateDir = o.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-'));
  if (o.trust) trustProject(stateDir, root);
  const backend = new Backend({ project: root, stateDir });
  const events: EventMessage[] = [];
  backend.attach((m: ServerMessage) => {
    if (m.type === 'event') events.push(m);
  });
  /** The backend's reply as it is. */
  const request = (method: string, params: object = {}) =>
    new Promise<Reply>((resolve) => {
      void backend.handle(JSON.stringify({ type: 'request', id: 1, method, params }), (m) => resolve(m as Reply));
    });
  /** The result, or an Error with the backend's message. */
  const call = async <T = unknown>(method: string, params: object = {}): Promise<T> => {
    const r = await request(method, params);
    if (!r.ok) throw new Error(r.error ?? `${method} failed`);
    return r.result as T;
  };
  const payloads = <K extends keyof Events>(k: K) => events.filter((e) => e.event === k).map((e) => e.payload as Events[K]);
  const consoleText = () => payloads('console.data').map((p) => p.data).join('');
  const seen = () =>
    `run states ${JSON.stringify(payloads('run.state').map((s) => s.state.kind))}; notices ${JSON.stringify(payloads('notice'))}; ` +
    `console ${JSON.stringify(consoleText().slice(-600))}`;
  const until = async (cond: () => boolean, what: string, ms = 60000, detail?: () => string) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out (${ms / 1000} s) waiting for ${what}; ${seen()}${detail ? '; ' + detail() : ''}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const close = async () => {
    await request('run.stop');
    await backend.shutdown();
    if (ownState) fs.rmSync(stateDir, { recursive: true, force: true });
  };
  return { root, stateDir, backend, events, request, call, payloads, consoleText, seen, until, close };
}
