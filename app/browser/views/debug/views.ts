/*
 * Debug panels (registered in the view registry):
 *   Debug        toolbar (Continue/Pause/Step Over/Into/Out), the `target remote :PORT` line with a
 *                copy button, CPUs as threads, call stack (click → source), variables (expandable MI
 *                var objects), watch expressions, breakpoints list (enable/disable/condition/remove)
 *   Registers    general, segment and control registers (cr0/cr2/cr3/cr4/efer) of the selected CPU
 *   Memory       address or expression + length → hex + ASCII
 *   Disassembly  around the pc (shown by itself when the stop has no source)
 *   RSP log      every packet through the bridge (direction, client, bytes, time), filterable, capped
 */
import './debug.css';
import { cpuSummary, gdbAttachCommand, hexRows, typeSuffix, RspRing, type RspLogEntry, type VarView } from '../../../common/debug.js';
import { registerView, type ViewContext, type ViewInstance } from '../../workbench/views.js';
import { showFrameLocation } from './editor.js';
import { debugCommand, debugStore, onStatus, saveWatches, startDebugRun } from './store.js';

const h = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { ariaLabel?: string; dataset?: Record<string, string> } = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  const { ariaLabel, dataset, ...rest } = props;
  Object.assign(e, rest);
  if (ariaLabel) e.setAttribute('aria-label', ariaLabel);
  if (dataset) for (const [k, v] of Object.entries(dataset)) e.dataset[k] = v;
  e.append(...kids);
  return e;
};

function section(title: string, cls: string, ...extra: HTMLElement[]): { box: HTMLElement; body: HTMLElement } {
  const body = h('div', { className: 'dbg-body' });
  const head = h('div', { className: 'dbg-head' }, h('span', { textContent: title }), ...extra);
  const box = h('section', { className: `dbg-section ${cls}`, ariaLabel: title }, head, body);
  return { box, body };
}

/** A variable row with a twisty that lists the var object's children on demand. */
function varRow(v: VarView, depth: number): HTMLElement {
  const li = h('li', { className: 'dbg-var' });
  li.setAttribute('role', 'treeitem');
  li.dataset['name'] = v.name;
  const row = h('div', { className: 'dbg-var-row' });
  row.style.paddingLeft = `${4 + depth * 14}px`;
  const twisty = h('span', { className: 'twisty', textContent: v.numchild > 0 && v.varName ? '▸' : '' });
  row.append(twisty, h('span', { className: 'dbg-name', textContent: v.name }), h('span', { className: 'dbg-eq', textContent: ' = ' }), h('span', { className: 'dbg-value', textContent: v.value, title: v.type ? `${v.type}` : '' }));
  // the type apart from the value (a separator in the text, not only a margin: copied text and screen readers)
  if (v.type) row.append(h('span', { className: 'dbg-type dbg-var-type', textContent: typeSuffix(v.type) }));
  li.append(row);
  if (v.numchild > 0 && v.varName) {
    li.setAttribute('aria-expanded', 'false');
    const kids = h('ul', { className: 'dbg-vars' });
    kids.hidden = true;
    li.append(kids);
    let loaded = false;
    row.addEventListener('click', async () => {
      const open = kids.hidden;
      kids.hidden = !open;
      twisty.textContent = open ? '▾' : '▸';
      li.setAttribute('aria-expanded', String(open));
      if (open && !loaded) {
        loaded = true;
        try {
          const cs = await debugStore.client!.request('debug.expand', { varName: v.varName! });
          kids.replaceChildren(...cs.map((c) => varRow(c, depth + 1)));
        } catch (e) {
          kids.replaceChildren(h('li', { className: 'dbg-error', textContent: (e as Error).message }));
        }
      }
    });
  }
  return li;
}

function fmtTime(t: number, t0: number): string {
  return `+${((t - t0) / 1000).toFixed(3)}s`;
}

export function registerDebugViews(): void {
  registerView({
    id: 'debug',
    title: 'Debug',
    location: 'panel',
    order: 15,
    create(host, ctx: ViewContext): ViewInstance {
      host.classList.add('dbg');
      const btn = (id: string, label: string, title: string, fn: () => void) => {
        const b = h('button', { id, textContent: label, title, ariaLabel: title });
        b.addEventListener('click', fn);
        return b;
      };
      const bDebug = btn('dbg-start', '⚙ Debug', 'Run with debugging (F6)', () => void startDebugRun());
      const bCont = btn('dbg-continue', '▶ Continue', 'Continue (F5)', () => void debugCommand('continue'));
      const bPause = btn('dbg-pause', '❚❚ Pause', 'Pause (Shift+F6)', () => void debugCommand('pause'));
      const bNext = btn('dbg-next', '⤼ Step Over', 'Step Over (F10)', () => void debugCommand('next'));
      const bStep = btn('dbg-step', '↓ Step Into', 'Step Into (F11)', () => void debugCommand('step'));
      const bFinish = btn('dbg-finish', '↑ Step Out', 'Step Out (Shift+F11)', () => void debugCommand('finish'));
      const state = h('span', { className: 'dbg-state', id: 'dbg-state', textContent: 'Not debugging. Set breakpoints in the editor gutter (F9), then Run (F5) or Debug (F6).' });
      state.setAttribute('role', 'status');
      const attach = h('code', { className: 'dbg-attach', id: 'dbg-attach' });
      const copy = btn('dbg-copy', 'Copy', 'Copy the gdb command line', () => {
        void navigator.clipboard?.writeText(attach.textContent ?? '').then(() => debugStore.notify('info', 'Copied the gdb command line'), () => undefined);
      });
      // The bridge's TCP port for the user's own gdb opens only when asked (nothing listens before).
      const openPort = btn('dbg-open-port', 'Open a port for your gdb', 'Open a TCP port on 127.0.0.1 so your own gdb can attach (target remote :PORT)', () => {
        debugStore.client?.request('debug.openPort', {}).catch((e: Error) => debugStore.notify('warning', e.message));
      });
      const attachRow = h('div', { className: 'dbg-attach-row' }, h('span', { textContent: 'Your own gdb: ' }), openPort, attach, copy);
      const bar = h('div', { className: 'dbg-toolbar', ariaLabel: 'Debug toolbar' }, bDebug, bCont, bPause, bNext, bStep, bFinish, state);
      bar.setAttribute('role', 'toolbar');

      const cpus = section('CPUs', 'dbg-cpus');
      const stack = section('Call stack', 'dbg-stack');
      const vars = section('Variables', 'dbg-variables');
      const watchInput = h('input', { type: 'text', placeholder: 'add a watch expression', id: 'dbg-watch-input', ariaLabel: 'Watch expression' });
      const watch = section('Watch', 'dbg-watch');
      watch.box.insertBefore(watchInput, watch.body);
      const bps = section('Breakpoints', 'dbg-breakpoints');
      const col1 = h('div', { className: 'dbg-col' }, cpus.box, stack.box);
      const col2 = h('div', { className: 'dbg-col' }, vars.box, watch.box);
      const col3 = h('div', { className: 'dbg-col' }, bps.box);
      host.append(bar, attachRow, h('div', { className: 'dbg-cols' }, col1, col2, col3));

      let shownLocals = '';
      const renderVars = (list: VarView[]) => {
        const ul = h('ul', { className: 'dbg-vars', ariaLabel: 'Variables' });
        ul.setAttribute('role', 'tree');
        if (!list.length) ul.append(h('li', { className: 'dbg-empty', textContent: debugStore.status.phase === 'stopped' ? 'no locals in this frame' : 'not stopped' }));
        else ul.append(...list.map((v) => varRow(v, 0)));
        vars.body.replaceChildren(ul);
      };

      // Watches are evaluated once per stop (when its frames are there) and when the list changes;
      // a stop's later snapshots re-render the results kept here.
      type WatchRow = { expression: string; value?: string; error?: string; varName?: string; numchild: number; type?: string };
      let watchCache: { key: string; results: Promise<WatchRow[]> } | undefined;
      const renderWatches = async () => {
        const ul = h('ul', { className: 'dbg-vars', ariaLabel: 'Watch expressions' });
        let results: WatchRow[] = debugStore.watches.map((w) => ({ expression: w, numchild: 0 }));
        const st = debugStore.status;
        if (st.phase === 'stopped' && debugStore.watches.length && !st.stop?.pending?.includes('frames')) {
          const key = `${st.stop?.stopId}:${st.stop?.threadId}:${st.stop?.selectedLevel}:${debugStore.watches.join('\n')}`;
          // the promise is kept: a snapshot arriving while the request runs waits for the same answer
          if (watchCache?.key !== key) {
            const watches = [...debugStore.watches];
            watchCache = {
              key,
              results: debugStore.client!.request('debug.evaluate', { expressions: watches })
                .catch((e: Error) => watches.map((w) => ({ expression: w, numchild: 0, error: e.message }))),
            };
          }
          results = await watchCache.results;
        }
        for (const r of results) {
          const li = varRow({ name: r.expression, value: r.error ? `<${r.error}>` : r.value ?? '…', numchild: r.numchild, ...(r.varName ? { varName: r.varName } : {}), ...(r.type ? { type: r.type } : {}) }, 0);
          const del = h('button', { className: 'icon dbg-del', textContent: '×', ariaLabel: `Remove watch ${r.expression}` });
          del.addEventListener('click', (e) => {
            e.stopPropagation();
            debugStore.watches = debugStore.watches.filter((w) => w !== r.expression);
            saveWatches();
            void renderWatches();
          });
          li.querySelector('.dbg-var-row')!.append(del);
          ul.append(li);
        }
        watch.body.replaceChildren(ul);
      };
      watchInput.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter') return;
        const v = watchInput.value.trim();
        if (!v) return;
        if (!debugStore.watches.includes(v)) debugStore.watches.push(v);
        watchInput.value = '';
        saveWatches();
        void renderWatches();
      });

      const renderBreakpoints = () => {
        const views = new Map(debugStore.status.breakpoints.map((b) => [`${b.file}:${b.line}`, b]));
        const ul = h('ul', { className: 'dbg-bplist', ariaLabel: 'Breakpoints' });
        const list = debugStore.model.list();
        if (!list.length) ul.append(h('li', { className: 'dbg-empty', textContent: 'Click the editor gutter or press F9 to set a breakpoint.' }));
        for (const b of list) {
          const v = views.get(`${b.file}:${b.line}`);
          const li = h('li', { className: 'dbg-bp', dataset: { file: b.file, line: String(b.line) } });
          const en = h('input', { type: 'checkbox', checked: b.enabled, ariaLabel: `Enable breakpoint ${b.file}:${b.line}` });
          en.addEventListener('change', () => debugStore.model.setEnabled(b.file, b.line, en.checked));
          const loc = h('button', { className: 'dbg-link', textContent: `${b.file}:${b.line}`, title: v?.addr ? `at ${v.addr}` : '' });
          loc.addEventListener('click', () => void ctx.openFile(b.file, b.line));
          const cond = h('input', { type: 'text', className: 'dbg-cond', value: b.condition ?? '', placeholder: 'condition', ariaLabel: `Condition for ${b.file}:${b.line}` });
          cond.addEventListener('change', () => debugStore.model.setCondition(b.file, b.line, cond.value));
          const del = h('button', { className: 'icon dbg-del', textContent: '×', ariaLabel: `Remove breakpoint ${b.file}:${b.line}` });
          del.addEventListener('click', () => debugStore.model.remove(b.file, b.line));
          li.append(en, loc, cond, del);
          if (v?.program) li.append(h('span', { className: 'dbg-note', textContent: `only in ${v.program}` }));
          if (v?.error) li.append(h('span', { className: 'dbg-error', textContent: v.error }));
          ul.append(li);
        }
        bps.body.replaceChildren(ul);
      };
      debugStore.model.onChange(renderBreakpoints);

      const render = () => {
        const s = debugStore.status;
        const stopped = s.phase === 'stopped';
        // a core file is a snapshot of a dead process: nothing runs, steps or pauses
        const live = stopped && !s.core;
        for (const b of [bCont, bNext, bStep, bFinish]) {
          b.disabled = !live;
          b.dataset['title'] ??= b.title;
          b.title = s.core ? 'A core file cannot run or step: it is the moment the process died (Run the program again to debug it live)' : b.dataset['title'];
        }
        bPause.disabled = s.phase !== 'running';
        host.dataset['phase'] = s.phase;
        if (s.core) host.dataset['core'] = s.core.file;
        else delete host.dataset['core'];
        const text = s.phase === 'off' ? 'Not debugging. Set breakpoints in the editor gutter (F9), then Run (F5) or Debug (F6).'
          : s.phase === 'starting' ? (s.accel === 'serial' ? 'Opening the serial line, attaching to the kernel\'s gdb stub…' : 'Starting QEMU with its gdbstub…')
          : s.phase === 'running' ? `Running${s.accel ? ` (${s.accel === 'serial' ? 'serial line, the kernel\'s stub' : s.accel.toUpperCase()})` : ''}`
          : s.phase === 'stopped' && s.core ? `Core file (read-only): ${s.stop?.description ?? ''} — stepping and Continue are off`
          : s.phase === 'stopped' ? `Stopped: ${s.stop?.description ?? ''}`
          : `Session ended: ${s.endedWhy ?? ''}`;
        state.textContent = text;
        state.className = `dbg-state ${s.phase}`;
        ctx.setBadge(s.phase === 'stopped' ? '●' : '');
        // a debug session, or a plain Run whose QEMU has a gdbstub (qemu.gdb.enabled: s.stub)
        attachRow.hidden = s.phase !== 'running' && s.phase !== 'stopped' && !s.stub;
        openPort.hidden = !!s.port;
        attach.hidden = copy.hidden = !s.port;
        if (s.port) attach.textContent = gdbAttachCommand(s.port, s.elf, s.gdb) + (s.clients ? `   (${s.clients} attached)` : '');
        else if (s.stub) {
          attach.hidden = copy.hidden = false;
          attach.textContent = `${s.gdb ?? 'gdb'} ${s.elf ?? ''} -ex 'target remote ${s.stub}'`.replace('  ', ' ');
        }
        // CPUs
        const cl = h('ul', { className: 'dbg-list', ariaLabel: 'CPUs' });
        for (const c of s.stop?.cpus ?? []) {
          // LaneOS names the CPU's thread and process; any other kernel shows where the CPU is
          const what = cpuSummary(c, s.features);
          const li = h('li', { className: `dbg-cpu${c.selected ? ' selected' : ''}`, dataset: { thread: c.threadId } }, h('span', { className: 'dbg-name', textContent: s.core ? `Thread ${c.threadId}` : `CPU ${c.cpu}` }), h('span', { textContent: ` ${what}` }), h('span', { className: 'dbg-type', textContent: c.qemu }));
          li.addEventListener('click', async () => {
            try {
              await debugStore.client!.request('debug.selectThread', { threadId: c.threadId });
            } catch (e) {
              debugStore.notify('warning', (e as Error).message);
            }
          });
          cl.append(li);
        }
        if (!s.stop?.cpus.length) cl.append(h('li', { className: 'dbg-empty', textContent: stopped ? 'no CPU information' : '—' }));
        cpus.body.replaceChildren(cl);
        // Stack
        const sl = h('ol', { className: 'dbg-list', ariaLabel: 'Call stack' });
        for (const f of s.stop?.frames ?? []) {
          const li = h('li', { className: `dbg-frame${f.level === (s.stop?.selectedLevel ?? 0) ? ' selected' : ''}`, dataset: { level: String(f.level), func: f.func } });
          li.append(h('span', { className: 'dbg-name', textContent: f.func }), h('span', { className: 'dbg-type', textContent: f.file ? ` ${f.file}:${f.line ?? '?'}` : ` ${f.addr}` }));
          if (f.space && f.space !== 'kernel' && f.space !== 'user') li.append(h('span', { className: 'dbg-note', textContent: ` [${f.space}]` }));
          li.addEventListener('click', async () => {
            for (const x of sl.querySelectorAll('.selected')) x.classList.remove('selected');
            li.classList.add('selected');
            try {
              const r = await debugStore.client!.request('debug.selectFrame', { level: f.level });
              renderVars(r.locals);
              await showFrameLocation(r.location ?? (f.inProject && f.file && f.line ? { file: f.file, line: f.line } : null), f.level === 0);
            } catch (e) {
              debugStore.notify('warning', (e as Error).message);
            }
          });
          sl.append(li);
        }
        if (!s.stop) sl.append(h('li', { className: 'dbg-empty', textContent: '—' }));
        stack.body.replaceChildren(sl);
        // A stop's later snapshots (the CPUs) carry the same locals: keep the rows (and what the
        // user expanded meanwhile) instead of rebuilding them collapsed.
        const locals = s.stop?.locals ?? [];
        const localsKey = `${s.phase}:${s.stop?.stopId}:${JSON.stringify(locals)}`; // snapshots arrive as new objects
        if (localsKey !== shownLocals) {
          shownLocals = localsKey;
          renderVars(locals);
        }
        renderBreakpoints();
        void renderWatches();
      };
      onStatus(render);
      render();
      return {};
    },
  });

  registerView({
    id: 'registers',
    title: 'Registers',
    location: 'panel',
    order: 16,
    create(host): ViewInstance {
      host.classList.add('dbg', 'dbg-scroll');
      const table = h('div', { className: 'dbg-regs', ariaLabel: 'Registers' });
      host.append(table);
      let visible = false;
      let prev = new Map<string, string>();
      /** The stop (and CPU) last shown: a stop's later snapshots do not read the registers again. */
      let shownFor = '';
      const load = async () => {
        if (!visible) return;
        if (debugStore.status.phase !== 'stopped') {
          shownFor = '';
          table.replaceChildren(h('div', { className: 'dbg-empty', textContent: 'Registers are shown while the target is stopped.' }));
          return;
        }
        const key = `${debugStore.status.stop?.stopId}:${debugStore.status.stop?.threadId}`;
        if (key === shownFor) return;
        shownFor = key;
        try {
          const regs = await debugStore.client!.request('debug.registers', {});
          const groups = new Map<string, HTMLElement>();
          for (const r of regs) {
            let g = groups.get(r.group);
            if (!g) groups.set(r.group, (g = h('div', { className: 'dbg-reg-group' }, h('h3', { textContent: r.group }))));
            const changed = prev.has(r.name) && prev.get(r.name) !== r.value;
            g.append(h('div', { className: `dbg-reg${changed ? ' changed' : ''}`, dataset: { reg: r.name } }, h('span', { className: 'dbg-name', textContent: r.name }), h('code', { textContent: r.value })));
          }
          prev = new Map(regs.map((r) => [r.name, r.value]));
          table.replaceChildren(...groups.values());
        } catch (e) {
          table.replaceChildren(h('div', { className: 'dbg-error', textContent: (e as Error).message }));
        }
      };
      onStatus(() => void load());
      return { shown: () => { visible = true; shownFor = ''; void load(); }, hidden: () => { visible = false; } };
    },
  });

  registerView({
    id: 'memory',
    title: 'Memory',
    location: 'panel',
    order: 17,
    create(host): ViewInstance {
      host.classList.add('dbg', 'dbg-scroll');
      const addr = h('input', { type: 'text', id: 'mem-address', placeholder: 'address or expression (0xffffffff80100000, &cpus, $rsp)', ariaLabel: 'Memory address' });
      const len = h('input', { type: 'number', id: 'mem-length', value: '256', min: '1', max: '65536', ariaLabel: 'Length in bytes' });
      const go = h('button', { textContent: 'Read', id: 'mem-read' });
      const out = h('pre', { className: 'dbg-hex', ariaLabel: 'Memory contents' });
      host.append(h('div', { className: 'dbg-toolbar' }, addr, len, go), out);
      const read = async () => {
        if (!addr.value.trim()) return;
        try {
          const r = await debugStore.client!.request('debug.memory', { address: addr.value.trim(), length: Number(len.value) || 256 });
          if (r.error) {
            out.textContent = `${r.address}: ${r.error}`;
            return;
          }
          out.textContent = hexRows(r.address, r.hex).map((row) => `${row.address}  ${row.hex.padEnd(47)}  ${row.ascii}`).join('\n');
        } catch (e) {
          out.textContent = (e as Error).message;
        }
      };
      go.addEventListener('click', () => void read());
      addr.addEventListener('keydown', (e) => { if (e.key === 'Enter') void read(); });
      let readFor = -1;
      onStatus((s) => {
        // once per stop (not again for the stop's later snapshots)
        if (s.phase !== 'stopped' || !s.stop || s.stop.stopId === readFor) return;
        if (out.textContent && !host.hidden) {
          readFor = s.stop.stopId;
          void read();
        }
      });
      return {};
    },
  });

  registerView({
    id: 'disassembly',
    title: 'Disassembly',
    location: 'panel',
    order: 18,
    create(host): ViewInstance {
      host.classList.add('dbg', 'dbg-scroll');
      const out = h('div', { className: 'dbg-disasm', ariaLabel: 'Disassembly' });
      host.append(out);
      let visible = false;
      /** The stop whose instructions are shown (asked once per stop, or taken from the stop itself). */
      let shownFor = '';
      const load = async () => {
        const s = debugStore.status;
        if (s.phase !== 'stopped') {
          shownFor = '';
          out.replaceChildren(h('div', { className: 'dbg-empty', textContent: 'Disassembly is shown while the target is stopped.' }));
          return;
        }
        let lines = s.stop?.disassembly;
        if (!lines && s.stop?.pending?.includes('disassembly')) return; // the stop brings it
        const key = `${s.stop?.stopId}:${s.stop?.threadId}:${lines ? 'stop' : 'asked'}`;
        if (key === shownFor || (!lines && !visible)) return;
        shownFor = key;
        if (!lines) {
          try {
            lines = await debugStore.client!.request('debug.disassemble', {});
          } catch (e) {
            out.replaceChildren(h('div', { className: 'dbg-error', textContent: (e as Error).message }));
            return;
          }
        }
        out.replaceChildren(...(lines ?? []).map((l) => h('div', { className: `dbg-insn${l.current ? ' current' : ''}` }, h('code', { className: 'dbg-type', textContent: l.addr }), h('code', { className: 'dbg-name', textContent: l.func ? ` <${l.func}+${l.offset ?? 0}> ` : ' ' }), h('code', { textContent: l.inst }))));
      };
      onStatus((s) => {
        void load();
        // No source for this stop: show the instructions instead.
        if (s.phase === 'stopped' && s.stop && !s.stop.location) document.getElementById('panel-tab-disassembly')?.click();
      });
      return { shown: () => { visible = true; shownFor = ''; void load(); }, hidden: () => { visible = false; } };
    },
  });

  registerView({
    id: 'rsp',
    title: 'RSP log',
    location: 'panel',
    order: 19,
    create(host, ctx): ViewInstance {
      host.classList.add('dbg');
      const ring = new RspRing(5000);
      const filter = h('input', { type: 'text', id: 'rsp-filter', placeholder: 'filter: text, dir:target, dir:client, client:2', ariaLabel: 'Filter packets' });
      const pause = h('input', { type: 'checkbox', ariaLabel: 'Pause the log' });
      const clear = h('button', { textContent: 'Clear' });
      const count = h('span', { className: 'dbg-type' });
      const list = h('div', { className: 'dbg-rsp', ariaLabel: 'RSP packets' });
      host.append(h('div', { className: 'dbg-toolbar' }, filter, h('label', {}, pause, ' pause'), clear, count), list);
      let t0 = 0;
      let visible = false;
      let dirty = false;
      const row = (e: RspLogEntry) => h('div', { className: `dbg-rsp-row ${e.dir.replace(/[^a-z]/g, '-')}` }, h('span', { className: 'dbg-type', textContent: fmtTime(e.time, t0) }), h('span', { className: 'dbg-dir', textContent: e.dir }), h('span', { className: 'dbg-type', textContent: e.client ? `#${e.client}` : 'target' }), h('span', { className: 'dbg-type', textContent: `${e.size}B` }), h('code', { textContent: e.text }));
      const render = () => {
        dirty = false;
        const shown = ring.entries(filter.value, 800);
        list.replaceChildren(...shown.map(row));
        count.textContent = `${ring.size} packets kept${ring.dropped ? ` (${ring.dropped} older dropped)` : ''}, ${shown.length} shown`;
        list.scrollTop = list.scrollHeight;
      };
      ctx.client.on('debug.rsp', ({ entries }) => {
        if (!t0 && entries[0]) t0 = entries[0].time;
        for (const e of entries) ring.push(e);
        ctx.setBadge(String(ring.size));
        if (pause.checked) return;
        if (visible) {
          if (!dirty) {
            dirty = true;
            requestAnimationFrame(render);
          }
        }
      });
      onStatus((s) => {
        if (s.phase === 'starting') {
          ring.clear();
          t0 = 0;
        }
      });
      filter.addEventListener('input', render);
      clear.addEventListener('click', () => { ring.clear(); render(); });
      return { shown: () => { visible = true; render(); }, hidden: () => { visible = false; } };
    },
  });
}
