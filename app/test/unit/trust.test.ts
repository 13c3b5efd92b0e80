// Workspace trust in the backend (app/node/trust.ts): an untrusted folder runs nothing — not Run,
// Restart, Debug, a terminal, nor a guessed `make` — whatever the renderer sends; trust is per folder,
// stored in the state directory, and asked again when an executable field of lanescope.json changes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { EventMessage, ServerMessage } from '../../common/contract.js';
import type { TrustStatus } from '../../common/trust.js';
import { Backend } from '../../node/backend.js';
import { trustProject } from '../../node/trust.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fixture(opts: { config?: object | null; trusted?: string[] } = {}) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-trust-')));
  const marker = path.join(root, 'MARKER');
  // The build would create the marker; a Makefile too, for the guessed `make` of a folder without lanescope.json.
  fs.writeFileSync(path.join(root, 'Makefile'), 'all:\n\ttouch MARKER\n');
  if (opts.config !== null) fs.writeFileSync(path.join(root, 'lanescope.json'), JSON.stringify(opts.config ?? { name: 't', build: { command: 'touch MARKER' }, qemu: { binary: 'qemu-system-nonexistent', kernel: 'k' } }));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-'));
  const backend = new Backend({ project: root, stateDir, trusted: opts.trusted?.map((t) => (t === '$root' ? root : t)) });
  const events: EventMessage[] = [];
  backend.attach((m: ServerMessage) => {
    if (m.type === 'event') events.push(m);
  });
  const call = <T = unknown>(method: string, params: object = {}) =>
    new Promise<{ ok: boolean; result?: T; error?: string }>((resolve) => {
      void backend.handle(JSON.stringify({ type: 'request', id: 1, method, params }), (m) => resolve(m as never));
    });
  return { root, marker, stateDir, backend, call, events };
}

test('an untrusted folder: Run, Restart, Debug and a terminal are refused by the backend, nothing runs', async () => {
  const f = fixture();
  try {
    for (const m of ['run.start', 'run.restart', 'debug.run', 'term.create']) {
      const r = await f.call(m, m === 'term.create' ? { cols: 80, rows: 24 } : {});
      assert.equal(r.ok, false, `${m} must be refused`);
      assert.match(r.error!, /not trusted \(restricted mode/, m);
    }
    await sleep(300);
    assert.equal(fs.existsSync(f.marker), false, 'the build command ran');
    // browsing and editing still work
    assert.equal((await f.call('fs.list', { path: '' })).ok, true);
    assert.equal((await f.call('fs.write', { path: 'notes.txt', content: 'hi' })).ok, true);
    const st = (await f.call<TrustStatus>('trust.status')).result!;
    assert.equal(st.trusted, false);
    assert.equal(st.why, 'new');
    assert.deepEqual(st.plan.build, { command: 'touch MARKER', cwd: '.' });
    assert.equal(st.plan.qemu![0], 'qemu-system-nonexistent');
    assert.ok(st.plan.qemu!.includes('-kernel'));
  } finally {
    await f.backend.shutdown();
  }
});

test('Trust with the hash shown runs the build; trust is remembered in the state dir; a changed command asks again', async () => {
  const f = fixture();
  try {
    const st = (await f.call<TrustStatus>('trust.status')).result!;
    assert.equal((await f.call('trust.grant', { hash: 'not-the-hash' })).ok, false, 'a hash the user was not shown is refused');
    const g = await f.call<TrustStatus>('trust.grant', { hash: st.hash });
    assert.equal(g.ok, true, g.error ?? '');
    assert.equal(g.result!.trusted, true);
    const saved = JSON.parse(fs.readFileSync(path.join(f.stateDir, 'trust.json'), 'utf8'));
    assert.equal(saved.folders[f.root].hash, st.hash);
    assert.equal((await f.call('run.start')).ok, true);
    const end = Date.now() + 20000;
    while (!fs.existsSync(f.marker) && Date.now() < end) await sleep(50);
    assert.ok(fs.existsSync(f.marker), 'the trusted build did not run');
    await f.call('run.stop');
    fs.rmSync(f.marker);

    // A new backend (restart of the app) still trusts it.
    const b2 = new Backend({ project: f.root, stateDir: f.stateDir });
    assert.equal(b2.trust.status(b2.project!).why, 'trusted');
    await b2.shutdown();

    // Non-executable fields (CPUs, memory) do not ask again …
    const cfg = JSON.parse(fs.readFileSync(path.join(f.root, 'lanescope.json'), 'utf8'));
    fs.writeFileSync(path.join(f.root, 'lanescope.json'), JSON.stringify({ ...cfg, qemu: { ...cfg.qemu, cpus: 2, memory: '128M' } }));
    assert.equal((await f.call<TrustStatus>('trust.status')).result!.trusted, true);
    // … but a changed build command, binary or extra argument does, and nothing runs meanwhile.
    for (const change of [
      { build: { command: 'touch MARKER; echo changed' } },
      { qemu: { ...cfg.qemu, binary: '/tmp/evil-qemu' } },
      { qemu: { ...cfg.qemu, extraArgs: ['-device', 'x'] } },
    ]) {
      fs.writeFileSync(path.join(f.root, 'lanescope.json'), JSON.stringify({ ...cfg, ...change }));
      const s2 = (await f.call<TrustStatus>('trust.status')).result!;
      assert.equal(s2.trusted, false, JSON.stringify(change));
      assert.equal(s2.why, 'changed');
      const r = await f.call('run.start');
      assert.equal(r.ok, false);
      assert.match(r.error!, /changed since you trusted/);
    }
    await sleep(300);
    assert.equal(fs.existsSync(f.marker), false);
  } finally {
    await f.backend.shutdown();
  }
});

test('no lanescope.json: the guessed `make` is not run untrusted, and is shown as guessed', async () => {
  const f = fixture({ config: null });
  try {
    const st = (await f.call<TrustStatus>('trust.status')).result!;
    assert.equal(st.plan.guessed, true);
    assert.equal(st.plan.build!.command, 'make');
    assert.equal((await f.call('run.start')).ok, false);
    await sleep(300);
    assert.equal(fs.existsSync(f.marker), false);
  } finally {
    await f.backend.shutdown();
  }
});

test('the Runner checks trust itself: a Run started behind the Backend\'s back fails and runs nothing', async () => {
  const f = fixture();
  try {
    await f.backend.runner.start();
    assert.equal(f.backend.runner.state.kind, 'failed');
    assert.match((f.backend.runner.state as { message: string }).message, /not trusted/);
    assert.equal(fs.existsSync(f.marker), false);
  } finally {
    await f.backend.shutdown();
  }
});

test('a built-in trusted folder (the bundled os/) and trustProject() need no question', async () => {
  const f = fixture({ trusted: ['$root'] });
  try {
    const st = (await f.call<TrustStatus>('trust.status')).result!;
    assert.equal(st.trusted, true);
    assert.equal(st.why, 'bundled');
  } finally {
    await f.backend.shutdown();
  }
  const g = fixture();
  try {
    trustProject(g.stateDir, g.root);
    assert.equal((await g.call<TrustStatus>('trust.status')).result!.why, 'trusted');
  } finally {
    await g.backend.shutdown();
  }
});
