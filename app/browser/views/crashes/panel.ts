/*
 * Crashes — every process a fault ended during the Run (app/node/crashes.ts reads the POSIX
 * server's console line for each): signal, faulting address, program and pid, the function and
 * source line of the faulting instruction, and its core — copied out of the guest during the Run
 * (app/node/core-fetch.ts) and kept in the state folder. A click opens the source at that line and,
 * once the core is copied, the core in the Debug panels (a read-only session: Call Stack,
 * Variables, Registers, the editor at the faulting line). Crashes of earlier Runs (kept across Stop
 * and restarts) follow under their own heading. "Open core…" (also File: Open Core…) opens any
 * core file with its program's ELF. Styled like Problems (the same list classes).
 */
import type { CrashView } from '../../../common/crashes.js';
import { registerView, type ViewInstance, type Workbench } from '../../workbench/views.js';

/** File: Open Core… — a core file (and, optionally, its program's ELF) in the Debug panels. */
export async function openCoreFile(wb: Workbench): Promise<void> {
  const core = await wb.prompt('Open core', 'Core file (absolute, or relative to the project):', '');
  if (!core) return;
  const elf = await wb.prompt('Open core', 'The program\'s ELF (empty: build/programs/<name>.elf, <name> from the core):', '');
  if (elf === null) return;
  try {
    await wb.client.request('debug.openCore', { core, ...(elf ? { elf } : {}) });
    wb.showView('debug');
  } catch (e) {
    wb.notify('error', `Open core: ${(e as Error).message}`);
  }
}

export function registerCrashesPanel(): void {
  registerView({
    id: 'crashes',
    title: 'Crashes',
    location: 'panel',
    order: 41,
    commands: [{ id: 'crashes.openCore', title: 'File: Open Core…', run: (wb) => openCoreFile(wb) }],
    create(host, ctx): ViewInstance {
      host.classList.add('problems', 'crashes');
      const bar = document.createElement('div');
      bar.className = 'crashes-bar';
      const openBtn = document.createElement('button');
      openBtn.textContent = 'Open core…';
      openBtn.title = 'Open a core file with its program\'s ELF in the Debug panels (read-only)';
      openBtn.addEventListener('click', () => void openCoreFile(ctx));
      bar.append(openBtn);
      const list = document.createElement('ul');
      list.setAttribute('aria-label', 'Crashes');
      list.className = 'problem-list';
      host.append(bar, list);
      const open = async (c: CrashView) => {
        if (c.file && c.line) await ctx.openFile(c.file, c.line);
        if (c.fetch !== 'stored') {
          if (c.corePath && c.fetch === 'fetching') ctx.notify('info', `The core of ${c.program} (pid ${c.pid}) is being copied out of the guest; click again when it is listed as copied.`);
          else if (c.fetch === 'failed') ctx.notify('warning', `No core to open for ${c.program} (pid ${c.pid}): ${c.fetchError ?? ''}`);
          return;
        }
        try {
          await ctx.client.request('crashes.open', { id: c.id });
          ctx.showView('debug');
        } catch (e) {
          ctx.notify('error', (e as Error).message);
        }
      };
      const row = (c: CrashView, earlier: boolean): HTMLLIElement => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.className = `problem error crash${earlier ? ' earlier' : ''}`;
        b.dataset['id'] = c.id;
        b.dataset['pid'] = String(c.pid);
        b.dataset['core'] = c.fetch ?? (c.corePath ? 'guest' : 'none');
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
        const core = !c.corePath ? `no core: ${c.noCoreReason ?? '?'}`
          : c.fetch === 'stored' ? `core ${c.corePath} · copied (${(c.coreBytes ?? 0).toLocaleString('en-US')} bytes): click to debug it`
          : c.fetch === 'fetching' ? `core ${c.corePath} · copying out of the guest…`
          : c.fetch === 'failed' ? `core ${c.corePath} · not copied: ${c.fetchError ?? '?'}`
          : `core ${c.corePath}`;
        loc.textContent = `${src} · ${core}${earlier ? ` · ${new Date(c.at).toLocaleString()}` : ''}`;
        b.title = `${c.signalName} (${c.signal}) at ${c.addr}, rip ${c.rip}${c.file ? `, ${c.file}:${c.line}` : ''}`;
        b.append(icon, msg, loc);
        if ((c.file && c.line) || c.fetch === 'stored') b.addEventListener('click', () => void open(c));
        else b.disabled = true;
        li.append(b);
        return li;
      };
      const render = (cs: CrashView[], earlier: CrashView[]) => {
        list.replaceChildren();
        ctx.setBadge(cs.length ? String(cs.length) : '');
        if (!cs.length) {
          const li = document.createElement('li');
          li.className = 'empty';
          li.textContent = 'No process has crashed in this Run.';
          list.append(li);
        }
        for (const c of cs) list.append(row(c, false));
        if (earlier.length) {
          const h = document.createElement('li');
          h.className = 'crashes-earlier';
          h.textContent = `Earlier Runs (${earlier.length}, kept in Lanescope's state folder)`;
          list.append(h);
          for (const c of earlier) list.append(row(c, true));
        }
      };
      render([], []);
      ctx.client.on('crashes', ({ crashes, earlier }) => render(crashes, earlier ?? []));
      void ctx.client.request('crashes.list', {}).then(({ crashes, earlier }) => render(crashes, earlier ?? [])).catch(() => undefined);
      return {};
    },
  });
}
