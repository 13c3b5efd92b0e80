// The layering rule (eslint.config.mjs) rejects forbidden imports. Lints small probe sources as if
// they lived in each layer, so the rule is tested without writing files into the tree.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const repo = path.resolve(import.meta.dirname, '../../..');
const eslint = new ESLint({ cwd: repo });

async function errors(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(repo, file) });
  return r!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

test('forbidden imports are errors', async () => {
  const cases: [string, string][] = [
    ['app/browser/probe.ts', "import fs from 'node:fs'; export const x = fs;"],
    ['app/browser/probe.ts', "import { Backend } from '../node/backend.js'; export const x = Backend;"],
    ['app/browser/probe.ts', "import * as pty from 'node-pty'; export const x = pty;"],
    ['app/common/probe.ts', "import path from 'node:path'; export const x = path;"],
    ['app/common/probe.ts', "import { Client } from '../browser/client.js'; export const x = Client;"],
    ['app/node/probe.ts', "import { Client } from '../browser/client.js'; export const x = Client;"],
    ['debugger/common/probe.ts', "import { x } from '../../app/common/contract.js'; export const y = x;"],
    ['debugger/common/probe.ts', "import { v } from '../../visualizers/model.js'; export const y = v;"],
    ['debugger/node/probe.ts', "import * as d3 from 'd3'; export const y = d3;"],
    ['visualizers/probe.ts', "import { x } from '../debugger/common/rsp.js'; export const y = x;"],
    ['visualizers/model/probe.ts', "import { x } from '../../app/browser/views.js'; export const y = x;"],
    ['visualizers/common/probe.ts', "import fs from 'node:fs'; export const x = fs;"],
    ['visualizers/ipc/probe.ts', "import path from 'path'; export const x = path;"],
    ['debugger/common/probe.ts', "import fs from 'node:fs'; export const x = fs;"],
    ['debugger/common/trace/probe.ts', "import { x } from '../../node/qemu.js'; export const y = x;"],
  ];
  for (const [file, code] of cases) assert.ok((await errors(file, code)).length > 0, `${file}: ${code} should be refused`);
});

test('allowed imports pass', async () => {
  const cases: [string, string][] = [
    ['app/browser/probe.ts', "import type { TargetState } from '../common/contract.js'; export type X = TargetState;"],
    ['app/browser/probe.ts', "import * as d3 from 'd3'; export const x = d3;"],
    ['app/node/probe.ts', "import fs from 'node:fs'; import { x } from '../../debugger/common/rsp.js'; export const y = [fs, x];"],
    ['app/common/probe.ts', "import type { ProjectConfig } from './project.js'; export type X = ProjectConfig;"],
    ['app/browser/probe.ts', "import { v } from '../../visualizers/model.js'; export const y = v;"],
    ['visualizers/test/probe.ts', "import fs from 'node:fs'; export const x = fs;"],
    ['debugger/node/probe.ts', "import fs from 'node:fs'; import { x } from '../common/rsp.js'; export const y = [fs, x];"],
  ];
  for (const [file, code] of cases) assert.deepEqual(await errors(file, code), [], `${file}: ${code} should be allowed`);
});
