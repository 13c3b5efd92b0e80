/*
 * The built-in panel views: Console (the target's serial console, live, input to the guest),
 * Build (build command output), Terminal (a shell over node-pty, Ctrl+`), Problems (parsed
 * diagnostics; a click opens the file at the line).
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal, type ITheme } from '@xterm/xterm';
import type { Diagnostic } from '../../common/contract.js';
import { registerContribution, registerView, type ViewContext, type ViewInstance } from '../workbench/views.js';

export const XTERM_THEMES: Record<'dark' | 'light', ITheme> = {
  dark: { background: '#1b1d23', foreground: '#d7dae0', cursor: '#e5c07b', selectionBackground: '#3e4451' },
  light: { background: '#fbfbfb', foreground: '#24292f', cursor: '#0550ae', selectionBackground: '#c8d7f0', black: '#24292f', brightBlack: '#57606a', white: '#6e7781', brightWhite: '#8c959f', yellow: '#7d4e00', brightYellow: '#633c01', green: '#116329', cyan: '#0b6c74' },
};

function makeTerm(host: HTMLElement, ctx: ViewContext, label: string, opts: { input: boolean }): { term: Terminal; fit: FitAddon } {
  const term = new Terminal({
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", monospace',
    fontSize: 13,
    scrollback: 10000,
    convertEol: opts.input && label.startsWith('Target'),
    cursorBlink: opts.input,
    disableStdin: !opts.input,
    theme: XTERM_THEMES[ctx.theme()],
    allowProposedApi: false,
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  host.classList.add('term-host');
  term.open(host);
  const ta = host.querySelector('textarea');
  if (ta) ta.setAttribute('aria-label', label);
  return { term, fit };
}

function safeFit(fit: FitAddon, host: HTMLElement): void {
  if (host.offsetWidth > 0 && host.offsetHeight > 0) {
    try {
      fit.fit();
    } catch {
      /* not laid out */
    }
  }
}

/** Text of a terminal's buffer (scrollback + screen), for tests and copy. */
export function terminalText(term: Terminal): string {
  const b = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < b.length; i++) {
    const l = b.getLine(i);
    if (!l) continue;
    const s = l.translateToString(true);
    if (l.isWrapped && lines.length) lines[lines.length - 1] += s;
    else lines.push(s);
  }
  return lines.join('\n').replace(/\n+$/, '');
}

const terms: { console?: Terminal; build?: Terminal; terminal?: Terminal } = {};

export function registerBuiltinPanels(): void {
  registerContribution({
    id: 'terminals',
    testHooks: {
      consoleText: () => (terms.console ? terminalText(terms.console) : ''),
      buildText: () => (terms.build ? terminalText(terms.build) : ''),
      terminalText: () => (terms.terminal ? terminalText(terms.terminal) : ''),
    },
  });
  registerView({
    id: 'console',
    title: 'Console',
    location: 'panel',
    order: 10,
    create(host, ctx): ViewInstance {
      const { term, fit } = makeTerm(host, ctx, 'Target console input', { input: true });
      terms.console = term;
      term.writeln('\x1b[2mThe target\'s serial console appears here after Run (F5). Typing here goes to the guest.\x1b[0m');
      ctx.client.on('console.data', ({ data }) => term.write(data));
      ctx.client.on('run.state', ({ state }) => {
        if (state.kind === 'building') term.reset();
        if (state.kind === 'exited') term.writeln(`\r\n\x1b[2m[target exited with code ${state.code}]\x1b[0m`);
        if (state.kind === 'stopped') term.writeln('\r\n\x1b[2m[target stopped]\x1b[0m');
      });
      term.onData((d) => {
        ctx.client.request('console.input', { data: d }).catch(() => undefined);
      });
      return {
        shown: () => safeFit(fit, host),
        resized: () => safeFit(fit, host),
        themeChanged: (t) => (term.options.theme = XTERM_THEMES[t]),
      };
    },
  });

  registerView({
    id: 'build',
    title: 'Build',
    location: 'panel',
    order: 20,
    create(host, ctx): ViewInstance {
      const { term, fit } = makeTerm(host, ctx, 'Build output', { input: false });
      terms.build = term;
      ctx.client.on('build.output', ({ data }) => term.write(data));
      ctx.client.on('run.state', ({ state }) => {
        if (state.kind === 'building') term.reset();
      });
      return {
        shown: () => safeFit(fit, host),
        resized: () => safeFit(fit, host),
        themeChanged: (t) => (term.options.theme = XTERM_THEMES[t]),
      };
    },
  });

  registerView({
    id: 'terminal',
    title: 'Terminal',
    location: 'panel',
    order: 30,
    commands: [{ id: 'terminal.show', title: 'Show Terminal', keys: ['Ctrl+`'], run: (wb) => wb.showView('terminal') }],
    create(host, ctx): ViewInstance {
      const { term, fit } = makeTerm(host, ctx, 'Terminal input', { input: true });
      terms.terminal = term;
      let id: number | null = null;
      let unacked = 0;
      const flushAck = () => {
        if (id !== null && unacked > 0) {
          const n = unacked;
          unacked = 0;
          ctx.client.request('term.ack', { id, bytes: n }).catch(() => undefined);
        }
      };
      const start = () => {
        safeFit(fit, host);
        ctx.client
          .request('term.create', { cols: term.cols, rows: term.rows })
          .then((r) => {
            id = r.id;
          })
          .catch((e: Error) => term.writeln(`\x1b[31mcannot start a terminal: ${e.message}\x1b[0m`));
      };
      ctx.client.on('term.data', (m) => {
        if (m.id !== id) return;
        // Flow control: acknowledge only what xterm has actually parsed.
        term.write(m.data, () => {
          unacked += m.data.length;
          if (unacked > 16384) flushAck();
        });
      });
      setInterval(flushAck, 200);
      ctx.client.on('term.exit', (m) => {
        if (m.id !== id) return;
        term.writeln(`\r\n\x1b[2m[shell exited with code ${m.code}; press Enter for a new one]\x1b[0m`);
        id = null;
      });
      term.onData((d) => {
        if (id === null) {
          if (d === '\r') start();
          return;
        }
        ctx.client.request('term.input', { id, data: d }).catch(() => undefined);
      });
      term.onResize(({ cols, rows }) => {
        if (id !== null) ctx.client.request('term.resize', { id, cols, rows }).catch(() => undefined);
      });
      let started = false;
      return {
        shown: () => {
          safeFit(fit, host);
          if (!started) {
            started = true;
            start();
          }
          term.focus();
        },
        resized: () => safeFit(fit, host),
        themeChanged: (t) => (term.options.theme = XTERM_THEMES[t]),
      };
    },
  });

  registerView({
    id: 'problems',
    title: 'Problems',
    location: 'panel',
    order: 40,
    create(host, ctx): ViewInstance {
      host.classList.add('problems');
      const list = document.createElement('ul');
      list.setAttribute('aria-label', 'Problems');
      list.className = 'problem-list';
      host.append(list);
      const render = (ds: Diagnostic[]) => {
        list.replaceChildren();
        const errors = ds.filter((d) => d.severity === 'error').length;
        const warnings = ds.filter((d) => d.severity === 'warning').length;
        ctx.setBadge(ds.length ? String(errors + warnings || ds.length) : '');
        if (!ds.length) {
          const li = document.createElement('li');
          li.className = 'empty';
          li.textContent = 'No problems have been detected.';
          list.append(li);
          return;
        }
        for (const d of ds) {
          const li = document.createElement('li');
          const b = document.createElement('button');
          b.className = `problem ${d.severity}`;
          b.dataset['file'] = d.file;
          b.dataset['line'] = String(d.line);
          b.title = `${d.file}:${d.line}:${d.column}`;
          const icon = document.createElement('span');
          icon.className = 'sev';
          icon.textContent = d.severity === 'error' ? '⨯' : d.severity === 'warning' ? '⚠' : 'ℹ';
          icon.setAttribute('aria-label', d.severity);
          const msg = document.createElement('span');
          msg.className = 'msg';
          msg.textContent = d.message;
          const loc = document.createElement('span');
          loc.className = 'loc';
          loc.textContent = `${d.file}:${d.line}:${d.column} · ${d.source}`;
          b.append(icon, msg, loc);
          b.addEventListener('click', () => void ctx.openFile(d.file, d.line, d.column));
          li.append(b);
          list.append(li);
        }
      };
      render([]);
      ctx.client.on('problems', ({ diagnostics }) => render(diagnostics));
      return {};
    },
  });
}
