/*
 * `node app/out/server/main.js [--project DIR] [--port N] [--state-dir DIR]`
 * Starts Lanescope's browser mode and prints its URL (with the token) on stdout.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Backend } from '../node/backend.js';
import { BrowserQuit } from './quit.js';
import { startServer } from './server.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const staticDir = arg('--static') ?? path.resolve(here, '../browser');
  const project = arg('--project');
  const port = arg('--port') ? Number(arg('--port')) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: ${arg('--port')} is not a port number`);
  // The bundled LaneOS project (the checkout's os/) is trusted; any other folder starts in restricted mode.
  const bundledOs = path.resolve(here, '../../../os');
  const backend = new Backend({ project: project ? path.resolve(project) : undefined, stateDir: arg('--state-dir'), trusted: [bundledOs] });
  const pageClosed: { hook?: () => void } = {};
  const srv = await startServer({ backend, staticDir, port, token: process.env['LANESCOPE_TOKEN'], onPageClosed: () => pageClosed.hook?.() });
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await backend.shutdown();
    await srv.close();
    process.exit(0);
  };
  // Quit (Ctrl+C) asks the browser about unsaved changes first, as Electron's Quit does (server/quit.ts).
  const quit = new BrowserQuit({ backend, pages: () => srv.pages(), exit: () => void shutdown(), log: (l) => process.stderr.write(`${l}\n`) });
  pageClosed.hook = () => quit.pageClosed();
  process.on('SIGINT', () => quit.interrupt());
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGHUP', () => void shutdown());
  // (the URL last: whoever starts the server may signal it as soon as it reads the URL)
  process.stdout.write(`Lanescope (browser mode) is running at:\n  ${srv.url}\n`);
  if (backend.project) process.stdout.write(`Project: ${backend.project.root}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`lanescope: ${e.message}\n`);
  process.exit(1);
});
