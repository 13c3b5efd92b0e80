/*
 * Crashes — every process a fault ended during the Run (app/node/crashes.ts reads the POSIX
 * server's console line for each): signal, faulting address, program and pid, the function and
 * source line of the faulting instruction, and where the guest wrote the core. A click opens the
 * source at that line. Styled like Problems (the same list classes).
 */
import type { CrashView } from '../../../common/crashes.js';
import { registerView, type ViewInstance } from '../../workbench/views.js';

export function registerCrashesPanel(): void {
  registerView({
    id: 'crashes',
    title: 'Crashes',
    location: 'panel',
    order: 41,
    create(host, ctx): ViewInstance {
      host.classList.add('problems', 'crashes');
      const list = document.createElement('ul');
      list.setAttribute('aria-label', 'Crashes');
      list.className = 'problem-list';
      host.append(list);
      const render = (cs: CrashView[]) => {
        list.replaceChildren();
        ctx.setBadge(cs.length ? String(cs.length) : '');
        if (!cs.length) {
          const li = document.createElement('li');
          li.className = 'empty';
          li.textContent = 'No process has crashed in this Run.';
          list.append(li);
          return;
        }
        for (const c of cs) {
          const li = document.createElement('li');
          const b = document.createElement('button');
          b.className = 'problem error crash';
          b.dataset['pid'] = String(c.pid);
          if (c.file) b.dataset['file'] = c.file;
          if (c.line) b.dataset['line'] = String(c.line);
          const icon = document.createElement('span');
          icon.className = 'sev';
          icon.textContent = '⨯';
          icon.setAttribute('aria-label', 'crash');
          const msg = document.createElement('span');
          msg.className = 'msg';
          const where = c.function ? ` in ${c.function}` : '';
          msg.textContent = `${c.program} (pid ${c.pid}): ${c.signalName} at address ${c.addr}${where}`;
          const loc = document.createElement('span');
          loc.className = 'loc';
          const src = c.file && c.line ? `${c.file}:${c.line}` : `rip ${c.rip}`;
          loc.textContent = `${src} · ${c.corePath ? `core ${c.corePath}` : `no core: ${c.noCoreReason ?? '?'}`}`;
          b.title = `${c.signalName} (${c.signal}) at ${c.addr}, rip ${c.rip}${c.file ? `, ${c.file}:${c.line}` : ''}`;
          b.append(icon, msg, loc);
          if (c.file && c.line) b.addEventListener('click', () => void ctx.openFile(c.file!, c.line));
          else b.disabled = true;
          li.append(b);
          list.append(li);
        }
      };
      render([]);
      ctx.client.on('crashes', ({ crashes }) => render(crashes));
      void ctx.client.request('crashes.list', {}).then(({ crashes }) => render(crashes)).catch(() => undefined);
      return {};
    },
  });
}
