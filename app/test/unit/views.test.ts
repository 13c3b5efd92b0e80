// A view is a local change: a toy view — its renderer contribution (panel, command, keybinding,
// status item) and its backend half (a request of its own) — is registered from here, touching
// neither app/browser/main.ts nor app/common/contract.ts, and the backend accepts its request
// because REQUEST_NAMES is derived from what the backend registered.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REQUEST_NAMES, parseClientMessage } from '../../common/contract.js';
import { Backend } from '../../node/backend.js';

// The renderer's registry is loaded by path: its types name DOM classes this (Node) program lacks.
interface Key { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }
interface Cmd { id: string; keys?: string[]; run(): void }
interface Contrib { id: string; editorTab?: boolean; commands?: Cmd[]; statusItems?: { id: string }[] }
interface Registry {
  registerView(v: unknown): void;
  viewsAt(location: 'panel' | 'sidebar'): Contrib[];
  view(id: string): Contrib | undefined;
  allCommands(): Cmd[];
  allContributions(): Contrib[];
  keyMatches(binding: string, e: Key): boolean;
}
const registryModule = '../../browser/workbench/views.js';
const { allCommands, allContributions, keyMatches, registerView, view, viewsAt } = (await import(registryModule)) as Registry;

test('REQUEST_NAMES is derived from the backend: core requests and every view\'s backend half', () => {
  const b = new Backend({ stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-')) });
  for (const n of ['project.open', 'run.start', 'state.set', 'ipc.abi', 'ipc.resolve', 'debug.run', 'debug.traceRecord']) assert.ok(REQUEST_NAMES.has(n), `${n} is a request`);
  assert.equal(REQUEST_NAMES.has('toy.count'), false);
  assert.match(String(parseClientMessage(JSON.stringify({ type: 'request', id: 1, method: 'toy.count', params: {} }))), /unknown method "toy.count"/);
  void b;
});

test('a toy view\'s backend request is answered once its backend half registers it', async () => {
  const b = new Backend({ stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-')) });
  let n = 0;
  b.registerRequests({ 'toy.count': (p) => ({ n: (n += Number(p['by'] ?? 1)) }) });
  assert.ok(REQUEST_NAMES.has('toy.count'));
  assert.throws(() => b.registerRequests({ 'run.start': () => 0 }), /already handled/);
  const replies: unknown[] = [];
  await b.handle(JSON.stringify({ type: 'request', id: 7, method: 'toy.count', params: { by: 3 } }), (m) => replies.push(m));
  await b.handle(JSON.stringify({ type: 'request', id: 8, method: 'toy.count', params: {} }), (m) => replies.push(m));
  assert.deepEqual(replies, [
    { type: 'response', id: 7, ok: true, result: { n: 3 } },
    { type: 'response', id: 8, ok: true, result: { n: 4 } },
  ]);
});

test('a toy view registers its panel, command, keybinding and status item in the registry', () => {
  const created: string[] = [];
  registerView({
    id: 'toy',
    title: 'Toy',
    location: 'panel',
    order: 99,
    editorTab: true,
    create: (_host: unknown, ctx: { theme(): string }) => {
      created.push(ctx.theme());
      return {};
    },
    commands: [{ id: 'toy.hello', title: 'Toy: Hello', keys: ['Ctrl+Alt+T'], run: () => undefined }],
    statusItems: [{ id: 'toy', align: 'right', order: 1, create: (el: { textContent: string }) => (el.textContent = 'toy') }],
    testHooks: { toy: () => 42 },
  });
  assert.throws(() => registerView({ id: 'toy', title: 'again', location: 'panel', order: 1, create: () => ({}) }), /already registered/);
  assert.equal(viewsAt('panel').at(-1)?.id, 'toy');
  assert.equal(view('toy')?.editorTab, true);
  const cmd = allCommands().find((c) => c.id === 'toy.hello');
  assert.ok(cmd);
  assert.ok(allContributions().some((c) => c.statusItems?.some((s) => s.id === 'toy')));
  const key = { key: 't', ctrlKey: true, metaKey: false, shiftKey: false, altKey: true };
  assert.ok(cmd.keys!.some((k) => keyMatches(k, key)));
  assert.equal(keyMatches('Ctrl+Alt+T', { ...key, shiftKey: true }), false);
  assert.equal(keyMatches('F5', { key: 'F5', ctrlKey: false, metaKey: false, shiftKey: true, altKey: false }), false);
  assert.ok(keyMatches('Shift+F5', { key: 'F5', ctrlKey: false, metaKey: false, shiftKey: true, altKey: false }));
  assert.ok(keyMatches('Ctrl+S', { key: 's', ctrlKey: false, metaKey: true, shiftKey: false, altKey: false }));
});
