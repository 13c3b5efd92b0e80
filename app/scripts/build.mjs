// Bundles Lanescope with esbuild into app/out/ (gitignored):
//   browser/        index.html, main.js (+ main.css, fonts), editor.worker.js   — the renderer
//   server/main.js  browser mode (HTTP + WebSocket on 127.0.0.1)                 — Node, ESM
//   electron-main/main.js, electron-preload/preload.cjs                         — Electron
// Usage: node app/scripts/build.mjs [--watch] [--no-minify]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(app, 'out');
const minify = !process.argv.includes('--no-minify');
const t0 = Date.now();

fs.mkdirSync(path.join(out, 'browser'), { recursive: true });
fs.copyFileSync(path.join(app, 'browser/index.html'), path.join(out, 'browser/index.html'));

const native = ['node-pty', 'serialport', '@serialport/*', 'electron', 'bufferutil', 'utf-8-validate'];
const banner = { js: "import { createRequire as __lsCreateRequire } from 'node:module'; const require = __lsCreateRequire(import.meta.url);" };

await Promise.all([
  esbuild.build({
    entryPoints: { main: path.join(app, 'browser/main.ts') },
    outdir: path.join(out, 'browser'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
    assetNames: 'assets/[name]-[hash]',
    logLevel: 'warning',
  }),
  esbuild.build({
    entryPoints: { 'editor.worker': 'monaco-editor/editor/editor.worker.js' },
    outdir: path.join(out, 'browser'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify,
    logLevel: 'warning',
  }),
  esbuild.build({
    entryPoints: { main: path.join(app, 'server/main.ts') },
    outdir: path.join(out, 'server'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: native,
    banner,
    sourcemap: true,
    logLevel: 'warning',
  }),
  esbuild.build({
    entryPoints: { main: path.join(app, 'electron-main/main.ts') },
    outdir: path.join(out, 'electron-main'), // main.js (package.json "main"); a package.json there marks it CommonJS
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: native,
    sourcemap: true,
    logLevel: 'warning',
  }),
  esbuild.build({
    entryPoints: { preload: path.join(app, 'electron-preload/preload.ts') },
    outdir: path.join(out, 'electron-preload'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['electron'],
    logLevel: 'warning',
  }),
]);
fs.writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n');
fs.writeFileSync(path.join(out, 'electron-main', 'package.json'), '{ "type": "commonjs" }\n');
console.log(`lanescope: built app/out in ${Date.now() - t0} ms`);
