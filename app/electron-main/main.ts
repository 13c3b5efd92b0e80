/*
 * Electron main process. Hosts the backend in-process and one window with the renderer.
 * Security (after Electron's security checklist):
 *   - contextIsolation, sandbox, nodeIntegration off, webSecurity on, no <webview>;
 *   - the renderer is loaded from the app's own `lanescope://app/` protocol (no remote content),
 *     every response carrying a strict Content-Security-Policy;
 *   - navigation, new windows and permission requests are denied;
 *   - IPC messages are accepted only from our window's main frame on our origin.
 */
import { app, BrowserWindow, ipcMain, net, protocol, session, shell, type IpcMainEvent } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC_CHANNEL } from '../common/contract.js';
import { Backend } from '../node/backend.js';
import { INITIAL_QUIT_STATE, quitStep, type QuitEvent } from '../common/quit-flow.js';

const ORIGIN = 'lanescope://app';
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

protocol.registerSchemesAsPrivileged([{ scheme: 'lanescope', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rendererDir = path.resolve(__dirname, '../browser');
/** The bundled LaneOS project: next to the app when packaged, else the checkout's os/. */
const bundledOs = app.isPackaged ? path.join(process.resourcesPath, 'os') : path.resolve(__dirname, '../../../os');
// The bundled project is trusted (workspace trust: app/node/trust.ts); other folders ask before running anything.
const backend = new Backend({ project: arg('--project') ?? process.env['LANESCOPE_PROJECT'] ?? bundledOs, trusted: [bundledOs] });
let win: BrowserWindow | null = null;

function isTrustedSender(e: IpcMainEvent): boolean {
  const frame = e.senderFrame;
  return !!win && e.sender === win.webContents && !!frame && frame === win.webContents.mainFrame && frame.url.startsWith(`${ORIGIN}/`);
}

async function createWindow(): Promise<void> {
  protocol.handle('lanescope', async (req) => {
    const url = new URL(req.url);
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.resolve(rendererDir, '.' + rel);
    if (url.host !== 'app' || !file.startsWith(rendererDir + path.sep)) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Lanescope',
    backgroundColor: '#1b1d23',
    webPreferences: {
      preload: path.resolve(__dirname, '../electron-preload/preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  const wc = win.webContents;
  wc.setWindowOpenHandler(({ url }) => {
    // Never open windows inside the app; http(s) links go to the user's browser.
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  wc.on('will-navigate', (e, url) => {
    if (!url.startsWith(`${ORIGIN}/`)) e.preventDefault();
  });
  wc.on('will-redirect', (e) => e.preventDefault());
  wc.on('will-attach-webview', (e) => e.preventDefault());

  const detach = backend.attach((m) => {
    if (win && !wc.isDestroyed()) wc.send(IPC_CHANNEL, JSON.stringify(m));
  });
  // No edit lost: the window closes only after the renderer asked about dirty buffers (quit-flow.ts).
  win.on('close', (e) => quitEvent({ type: 'window-close' }, () => e.preventDefault()));
  wc.on('render-process-gone', () => quitEvent({ type: 'renderer-gone' }, () => undefined));
  win.on('closed', () => {
    detach();
    win = null;
  });
  await win.loadURL(`${ORIGIN}/index.html`);
}

ipcMain.on(IPC_CHANNEL, (e, raw: unknown) => {
  if (!isTrustedSender(e) || typeof raw !== 'string') return;
  void backend.handle(raw, (m) => {
    if (!e.sender.isDestroyed()) e.sender.send(IPC_CHANNEL, JSON.stringify(m));
  });
});

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (ev, url) => {
    if (!url.startsWith(`${ORIGIN}/`)) ev.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.whenReady().then(createWindow).catch((e: Error) => {
  process.stderr.write(`lanescope: cannot open the window: ${e.message}\n`);
  app.exit(1);
});

let quit = INITIAL_QUIT_STATE;
/** Feeds one event to the quit state machine and carries out its effects. */
function quitEvent(ev: QuitEvent, prevent: () => void): void {
  const { state, effects } = quitStep(quit, ev);
  quit = state;
  for (const fx of effects) {
    if (fx === 'prevent') prevent();
    else if (fx === 'ask-renderer') {
      const msg = { type: 'event', event: 'app.closeRequested', payload: { reason: quit.quitting ? 'quit' : 'close' } };
      if (win && !win.webContents.isDestroyed()) win.webContents.send(IPC_CHANNEL, JSON.stringify(msg));
      else quitEvent({ type: 'renderer-gone' }, () => undefined);
    } else if (fx === 'close-window') win?.close();
    else if (fx === 'shutdown-and-exit') void backend.shutdown().finally(() => app.exit(0));
  }
}
backend.onCloseAnswer = (proceed) => quitEvent({ type: 'answer', proceed }, () => undefined);
app.on('before-quit', (e) => quitEvent({ type: 'before-quit', hasWindow: win !== null && !win.isDestroyed() }, () => e.preventDefault()));
app.on('window-all-closed', () => app.quit());
