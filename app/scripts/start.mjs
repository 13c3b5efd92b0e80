// `npm start`: opens Lanescope on the bundled os/ project (or the folder given as the first argument).
// Tries Electron first; where Electron cannot start (no binary downloaded, no display) it starts the
// browser mode instead, prints the URL to open and says why.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(app, '..');
const args = process.argv.slice(2);
const project = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(repo, 'os'));
const forceBrowser = args.includes('--browser') || process.env.LANESCOPE_BROWSER === '1';

if (!fs.existsSync(path.join(app, 'out/server/main.js'))) {
  console.error('lanescope: app/out is missing; run `npm run build` (node app/scripts/build.mjs) first.');
  process.exit(1);
}

function electronProblem() {
  if (forceBrowser) return 'browser mode was requested';
  let bin;
  try {
    bin = createRequire(import.meta.url)('electron');
  } catch (e) {
    return /failed to install correctly/.test(String(e.message))
      ? 'the Electron binary is not installed (it cannot be downloaded here: ELECTRON_SKIP_BINARY_DOWNLOAD)'
      : `Electron cannot be loaded (${String(e.message).split('\n')[0]})`;
  }
  if (typeof bin !== 'string' || !fs.existsSync(bin)) return 'the Electron binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD)';
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  return { bin };
}

function browserMode(reason) {
  console.log(`lanescope: starting the browser mode because ${reason}.`);
  console.log('lanescope: open the URL below in Chromium, Chrome or Firefox (it contains the access token).');
  const child = spawn(process.execPath, [path.join(app, 'out/server/main.js'), '--project', project], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}

const e = electronProblem();
if (typeof e === 'string') browserMode(e);
else {
  const t0 = Date.now();
  const child = spawn(e.bin, [path.join(app, 'out/electron-main/main.js'), '--project', project], { stdio: ['ignore', 'inherit', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
    process.stderr.write(d);
  });
  child.on('error', (x) => browserMode(`Electron could not be started (${x.message})`));
  child.on('exit', (code) => {
    if (code !== 0 && Date.now() - t0 < 5000) browserMode(`Electron exited at once with code ${code}${err ? `: ${err.trim().split('\n').pop()}` : ''}`);
    else process.exit(code ?? 0);
  });
}
