// The diagnostics parser on real output: each test compiles/links/makes something broken with the
// host toolchain in a temp dir and parses what gcc, as, ld and make actually printed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseDiagnostics } from '../../node/diagnostics.js';

function project(files: Record<string, string>): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ls-diag-')));
  for (const [f, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), c);
  }
  return root;
}
function run(root: string, cmd: string): string {
  const r = spawnSync('/bin/sh', ['-c', `exec 2>&1\n${cmd}`], { cwd: root, encoding: 'utf8', env: { ...process.env, LANG: 'C', LC_ALL: 'C' } });
  return r.stdout + r.stderr;
}

test('gcc errors and warnings (with -Werror) become diagnostics with file, line, column', () => {
  const root = project({
    'kernel/main.c': 'int f(void) {\n  int unused;\n  return 1\n}\n',
    'kernel/inc.h': 'struct s { int x; };\nint g(void) { return undeclared_thing; }\n',
    'kernel/user.c': '#include "inc.h"\nint h(void) { return g(); }\n',
  });
  const out = run(root, 'gcc -Wall -Wextra -Werror -c kernel/main.c -o /dev/null; gcc -Ikernel -c kernel/user.c -o /dev/null');
  const ds = parseDiagnostics(root, out);
  const missingSemi = ds.find((d) => d.file === 'kernel/main.c' && d.line === 3 && d.severity === 'error');
  assert.ok(missingSemi, `expected an error at kernel/main.c:3 in ${JSON.stringify(ds)}\n${out}`);
  assert.match(missingSemi.message, /expected ';'/);
  assert.ok(missingSemi.column > 1);
  assert.ok(ds.some((d) => d.file === 'kernel/main.c' && d.line === 2 && /unused variable/.test(d.message)), JSON.stringify(ds));
  // An error inside an included header is reported at the header, not at the including file.
  assert.ok(ds.some((d) => d.file === 'kernel/inc.h' && d.line === 2 && /undeclared/.test(d.message)), JSON.stringify(ds));
});

test('make -C output: paths are resolved through "Entering directory"', () => {
  const root = project({
    'kernel/Makefile': 'all:\n\tgcc -c main.c -o /dev/null\n',
    'kernel/main.c': 'int main(void) { return x; }\n',
    'Makefile': 'all:\n\t$(MAKE) -C kernel\n',
  });
  const out = run(root, 'make');
  const ds = parseDiagnostics(root, out);
  const e = ds.find((d) => d.file === 'kernel/main.c');
  assert.ok(e, `${JSON.stringify(ds)}\n${out}`);
  assert.equal(e.line, 1);
  assert.equal(e.severity, 'error');
  assert.match(e.message, /'x' undeclared/);
  // The "make: *** [...] Error 2" summaries are not extra problems when real errors exist.
  assert.ok(!ds.some((d) => d.source === 'make'), JSON.stringify(ds));
});

test('make -j: an error printed while another sub-make is "in" its directory still names the right file', () => {
  // Real make -j2 output, ordered as it comes when the top-level compile fails while the
  // kernel's sub-make is running: gcc's relative path belongs to the top level, not to kernel/.
  const root = project({
    // (the two recipes wait for each other: the kernel's sub-make is in kernel/ from before gcc
    // starts until after it has printed its error, however loaded the machine)
    // (each waits 10 s at most: a make that ran them one after the other fails the order check)
    'kernel/Makefile': 'all:\n\ttouch ../started; i=0; until [ -f ../done ] || [ $$i = 200 ]; do sleep 0.05; i=$$((i+1)); done\n',
    'kernel/boot.c': 'int boot;\n',
    'programs/sh/main.c': 'int sh = missing_symbol;\n',
    'Makefile': 'all: k sh\nk:\n\t$(MAKE) -C kernel\nsh:\n' +
      '\ti=0; until [ -f started ] || [ $$i = 200 ]; do sleep 0.05; i=$$((i+1)); done; gcc -c programs/sh/main.c -o /dev/null; s=$$?; touch done; exit $$s\n',
  });
  const out = run(root, 'make -j2 -k');
  assert.ok(out.indexOf('Entering directory') < out.indexOf('missing_symbol') &&
    out.indexOf('missing_symbol') < out.indexOf('Leaving directory'), `the error should come while make is in kernel/:\n${out}`);
  const ds = parseDiagnostics(root, out);
  const e = ds.find((d) => d.severity === 'error' && /missing_symbol/.test(d.message));
  assert.ok(e, `${JSON.stringify(ds)}\n${out}`);
  assert.equal(e.file, 'programs/sh/main.c');
  // A file that exists in the innermost directory is still found there.
  const k = parseDiagnostics(root, `make[1]: Entering directory '${root}/kernel'\nboot.c:1:5: error: x\nmake[1]: Leaving directory '${root}/kernel'\n`);
  assert.equal(k[0]?.file, 'kernel/boot.c');
});

test('ld undefined references point at the calling source line (debug info)', () => {
  const root = project({ 'src/a.c': 'void missing(void);\nint main(void) {\n  missing();\n  return 0;\n}\n' });
  const out = run(root, 'gcc -g -O0 src/a.c -o a.out');
  const ds = parseDiagnostics(root, out);
  const e = ds.find((d) => d.source === 'ld' && /undefined reference to [`']missing'/.test(d.message));
  assert.ok(e, `${JSON.stringify(ds)}\n${out}`);
  assert.equal(e.file, 'src/a.c');
  assert.equal(e.line, 3);
});

test('ld errors without a source line (missing library) are still reported', () => {
  const root = project({ 'a.c': 'int main(void) { return 0; }\n' });
  const out = run(root, 'gcc a.c -lnosuchlibrary_ls -o a.out');
  const ds = parseDiagnostics(root, out);
  assert.ok(ds.some((d) => d.source === 'ld' && d.severity === 'error' && /cannot find -lnosuchlibrary_ls/.test(d.message)), `${JSON.stringify(ds)}\n${out}`);
});

test('assembler errors in .S files', () => {
  const root = project({ 'arch/entry.S': '.text\n.globl start\nstart:\n  movq %rax, %rbx\n  bogusinsn %rax\n' });
  const out = run(root, 'gcc -c arch/entry.S -o /dev/null');
  const ds = parseDiagnostics(root, out);
  const e = ds.find((d) => d.file === 'arch/entry.S' && d.line === 5);
  assert.ok(e, `${JSON.stringify(ds)}\n${out}`);
  assert.equal(e.severity, 'error');
  assert.equal(e.source, 'as');
  assert.match(e.message, /bogusinsn/);
});

test('make errors: missing separator and no rule to make target', () => {
  const a = project({ 'Makefile': 'all:\n    echo spaces-not-tab\n' });
  const ds1 = parseDiagnostics(a, run(a, 'make'));
  const sep = ds1.find((d) => d.file === 'Makefile' && d.line === 2);
  assert.ok(sep, JSON.stringify(ds1));
  assert.match(sep.message, /missing separator/);
  const b = project({ 'Makefile': 'all: nothere.o\n' });
  const out = run(b, 'make');
  const ds2 = parseDiagnostics(b, out);
  assert.ok(ds2.some((d) => d.source === 'make' && /No rule to make target 'nothere\.o'/.test(d.message)), `${JSON.stringify(ds2)}\n${out}`);
});

test('a failing recipe without compiler output still gives one make problem', () => {
  const root = project({ 'Makefile': 'all:\n\tfalse\n' });
  const ds = parseDiagnostics(root, run(root, 'make'));
  assert.equal(ds.length, 1, JSON.stringify(ds));
  assert.equal(ds[0]!.source, 'make');
  assert.equal(ds[0]!.line, 2);
});

test('output split at arbitrary chunk boundaries parses the same', async () => {
  const { DiagnosticsParser } = await import('../../node/diagnostics.js');
  const root = project({ 'x.c': 'int f(void) { return y; }\n' });
  const out = run(root, 'gcc -c x.c -o /dev/null');
  const whole = parseDiagnostics(root, out);
  const p = new DiagnosticsParser(root);
  for (let i = 0; i < out.length; i += 7) p.push(out.slice(i, i + 7));
  assert.deepEqual(p.finish(), whole);
  assert.ok(whole.length > 0);
});
