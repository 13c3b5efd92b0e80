import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Backend } from '../../node/backend.js';
import { resolveInProject } from '../../node/paths.js';
import { Project } from '../../node/project.js';

function fixture() {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-paths-')));
  const root = path.join(base, 'proj');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(root, 'src'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(root, 'src/a.c'), 'int a;\n');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  fs.symlinkSync(outside, path.join(root, 'link-out'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'secret-link'));
  fs.symlinkSync(path.join(root, 'src'), path.join(root, 'link-in'));
  fs.symlinkSync(path.join(outside, 'nothing-yet'), path.join(root, 'dangling'));
  return { base, root, outside };
}

test('paths inside the project resolve; links inside stay allowed', () => {
  const { root } = fixture();
  assert.equal(resolveInProject(root, 'src/a.c'), path.join(root, 'src/a.c'));
  assert.equal(resolveInProject(root, 'src/../src/a.c'), path.join(root, 'src/a.c'));
  assert.equal(resolveInProject(root, 'link-in/a.c'), path.join(root, 'src/a.c'));
  assert.equal(resolveInProject(root, 'src/new/file.c'), path.join(root, 'src/new/file.c'));
  assert.equal(resolveInProject(root, path.join(root, 'src/a.c')), path.join(root, 'src/a.c'));
});

test('.., absolute paths and symbolic links leading outside are refused', () => {
  const { root, outside } = fixture();
  for (const bad of ['../outside/secret.txt', 'src/../../outside/secret.txt', path.join(outside, 'secret.txt'), '/etc/passwd', 'link-out/secret.txt', 'secret-link', 'link-out/new.txt', 'dangling', 'a\0b']) {
    assert.throws(() => resolveInProject(root, bad), /refused|NUL/, `should refuse ${bad}`);
  }
});

test('the project service never reads or writes outside the root', () => {
  const { root, outside } = fixture();
  const p = new Project(root);
  assert.throws(() => p.read('secret-link'), /refused/);
  assert.throws(() => p.write('link-out/evil.txt', 'x'), /refused/);
  assert.throws(() => p.write('../outside/evil.txt', 'x'), /refused/);
  assert.throws(() => p.write('dangling', 'x'), /refused/);
  assert.deepEqual(fs.readdirSync(outside).sort(), ['secret.txt']);
  assert.equal(p.write('src/b.c', 'int b;\n'), 7);
  assert.equal(fs.readFileSync(path.join(root, 'src/b.c'), 'utf8'), 'int b;\n');
  // Links pointing outside are not listed in the explorer.
  const names = p.list('').map((e) => e.name);
  assert.ok(names.includes('link-in') && names.includes('src'));
  assert.ok(!names.includes('link-out') && !names.includes('secret-link') && !names.includes('dangling'));
});

test('a renderer request for a path outside the project gets an error response, not a crash', async () => {
  const { root } = fixture();
  const b = new Backend({ project: root, stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ls-state-')) });
  const replies: unknown[] = [];
  await b.handle(JSON.stringify({ type: 'request', id: 1, method: 'fs.read', params: { path: '../outside/secret.txt' } }), (m) => replies.push(m));
  await b.handle(JSON.stringify({ type: 'request', id: 2, method: 'fs.write', params: { path: '/tmp/evil', content: 'x' } }), (m) => replies.push(m));
  await b.handle(JSON.stringify({ type: 'request', id: 3, method: 'no.such', params: {} }), (m) => replies.push(m));
  await b.handle('not json', (m) => replies.push(m));
  assert.equal(replies.length, 2);
  for (const r of replies as { ok: boolean; error: string }[]) {
    assert.equal(r.ok, false);
    assert.match(r.error, /refused: .* outside the project/);
  }
  assert.equal(fs.existsSync('/tmp/evil'), false);
  await b.shutdown();
});
