// Lint configuration for the whole repository (flat config, typescript-eslint).
//
// Besides the recommended rules it enforces Lanescope's layering:
//   app → debugger, visualizers        allowed
//   debugger, visualizers → app        never
//   debugger ↮ visualizers             never
//   app/common                         imports no runtime code (types only, and only from common/)
//   app/browser (renderer)             no Node built-ins, no backend code (node/, server/, electron-*)
//   app/node, app/server               never the renderer (browser/)
//   visualizers (not its tests/benches), debugger/common   no Node built-ins, no backend packages
//   os/                                none of the TypeScript parts
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules.filter((m) => !m.startsWith('_')), ...builtinModules.map((m) => `node:${m}`)];
const backendOnlyPackages = ['electron', 'node-pty', 'serialport', '@serialport/*', 'ws'];

const rule = (patterns, paths = []) => ['error', { paths, patterns }];
const noGlob = (group, message, allowTypeImports = false) => ({ group, message, allowTypeImports });

export default defineConfig(
  {
    ignores: ['**/node_modules/**', 'app/out/**', 'os/build/**', 'dist/**', 'test-results/**', '**/generated/**', '**/*.min.js'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts', '**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-control-regex': 'off',
      // `interface Requests extends ViewRequests {}` is how a view adds its requests to the contract
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  // ---- layering ------------------------------------------------------------------------------
  {
    files: ['debugger/**/*.{ts,mts,mjs,js}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule([
        noGlob(['**/app/**', '**/visualizers/**'], 'debugger/ must not import app/ or visualizers/ (layering: app → debugger, never back).'),
        noGlob(['d3', 'd3-*'], 'debugger/ has no DOM and draws nothing; views belong in visualizers/.'),
      ]),
    },
  },
  {
    files: ['debugger/common/**/*.{ts,mts,mjs,js}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule([
        noGlob(['**/app/**', '**/visualizers/**'], 'debugger/ must not import app/ or visualizers/ (layering: app → debugger, never back).'),
        noGlob(['d3', 'd3-*'], 'debugger/ has no DOM and draws nothing; views belong in visualizers/.'),
        noGlob([...nodeBuiltins], 'debugger/common runs in the renderer too: no Node built-ins (those belong in debugger/node).'),
        noGlob([...backendOnlyPackages, '**/node/**'], 'debugger/common runs in the renderer too: no backend packages or debugger/node code.'),
      ]),
    },
  },
  {
    files: ['visualizers/**/*.{ts,mts,mjs,js}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule([
        noGlob(['**/app/**', '**/debugger/**'], 'visualizers/ must not import app/ or debugger/ (layering: app → visualizers, never back; debugger ↮ visualizers).'),
        noGlob([...nodeBuiltins, ...backendOnlyPackages], 'visualizers/ run in the renderer: no Node built-ins or backend packages (tests and benches may).'),
      ]),
    },
  },
  {
    // visualizers' tests and benchmarks run under Node
    files: ['visualizers/test/**/*.{ts,mts,mjs,js}', 'visualizers/bench/**/*.{ts,mts,mjs,js}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule([
        noGlob(['**/app/**', '**/debugger/**'], 'visualizers/ must not import app/ or debugger/ (layering: app → visualizers, never back; debugger ↮ visualizers).'),
      ]),
    },
  },
  {
    files: ['app/common/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule([
        { regex: '^(?!\\./)', message: 'app/common is the contract: it may import only other app/common modules (no packages, no Node, no runtime code).' },
        noGlob(['./**/*/**'], 'app/common may import only sibling modules.'),
      ]),
    },
  },
  {
    files: ['app/browser/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule(
        [
          noGlob([...nodeBuiltins], 'The renderer runs without Node: no Node built-ins.'),
          noGlob(backendOnlyPackages, 'The renderer must not use backend-only packages; go through the contract (app/common/contract.ts).'),
          noGlob(['**/node/**', '**/server/**', '**/electron-main/**', '**/electron-preload/**', '**/debugger/node/**'], 'The renderer must not import backend code; go through the contract.'),
        ],
      ),
    },
  },
  {
    files: ['app/node/**/*.ts', 'app/server/**/*.ts', 'app/electron-main/**/*.ts', 'app/electron-preload/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule([
        noGlob(['**/browser/**'], 'Backend code must not import the renderer (app/browser).'),
      ]),
    },
  },
  {
    files: ['os/**/*.{ts,mts,mjs,js}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': rule([
        noGlob(['**/app/**', '**/debugger/**', '**/visualizers/**'], 'os/ stands alone: it imports nothing from Lanescope.'),
      ]),
    },
  },
);
