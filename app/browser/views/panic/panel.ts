/*
 * Panic — a kernel panic in any Run (not only Debug) explains itself: the message and CPU, the
 * registers of a trap, the backtrace symbolized to source lines (app/node/panic.ts; a click opens
 * the line), and the last trace events of every CPU before it, from the trace store (the Run's
 * recording, which the kernel flushes at a panic: trace_panic_flush) and from the flight recorder
 * (the kernel's rings read from the stopped guest's memory through a gdbstub, app/node/panic.ts:
 * there even when no trace transport ran). The panic's moment becomes
 * the shared time cursor, so every trace view marks it on its time axis. The panel comes to the
 * front when a panic is seen.
 */
import type { PanicView } from '../../../common/panic.js';
import { formatEvent } from '../../../../debugger/common/trace/text.js';
import { traceStore } from '../../trace/index.js';
import { registerView, type ViewInstance } from '../../workbench/views.js';

const LAST_PER_CPU = 8;
const SCAN_ROWS = 1 << 16;

export function registerPanicPanel(): void {
  registerView({
    id: 'panic',
    title: 'Panic',
    location: 'panel',
    order: 42,
    create(host, ctx): ViewInstance {
      host.classList.add('problems', 'panic-view');
      host.style.overflow = 'auto';
      let panic: PanicView | null = null;
      let marked = false;
      let traceBox: HTMLElement | null = null;
      let flight: HTMLElement | null = null;
      /** What the backtrace was drawn from: a later update of the same panic (complete, the flight
       *  recorder read) redraws only the boxes below it, so a click on a frame is never lost to a
       *  button replaced under the pointer. */
      let drawnKey = '';
      const store = traceStore();

      const lastEvents = (): HTMLElement => {
        const box = document.createElement('div');
        box.className = 'panic-trace';
        const t = store.table;
        const h = document.createElement('h4');
        h.textContent = 'Last trace events of every CPU';
        box.append(h);
        if (!t.count) {
          const p = document.createElement('p');
          p.className = 'empty';
          p.textContent = 'No trace recorded in this Run (see the flight recorder below).';
          box.append(p);
          return box;
        }
        // the last SCAN_ROWS rows at most: a CPU that was quiet for longer shows fewer events
        // (a whole million-row trace was rescanned on every batch of rows the panic flush brought)
        const per = new Map<number, number[]>();
        const stop = Math.max(0, t.count - SCAN_ROWS);
        for (let i = t.count - 1; i >= stop; i--) {
          const c = t.cpu[i] ?? 0;
          const l = per.get(c) ?? [];
          if (l.length < LAST_PER_CPU) l.push(i);
          per.set(c, l);
          if (per.size > 0 && [...per.values()].every((x) => x.length >= LAST_PER_CPU) && i < t.count - 4096) break;
        }
        let panicNs: number | null = null;
        for (const cpu of [...per.keys()].sort((a, b) => a - b)) {
          const h5 = document.createElement('h5');
          h5.textContent = `cpu${cpu}`;
          const pre = document.createElement('pre');
          pre.className = 'panic-events';
          pre.dataset['cpu'] = String(cpu);
          const rows = (per.get(cpu) ?? []).reverse();
          pre.textContent = rows.map((i) => {
            const e = t.ev[i]!;
            if (panic && e.name === 'log' && String(e.fields['text'] ?? '').includes(panic.message)) panicNs = e.ns;
            return formatEvent(e, t.decoder.defs);
          }).join('\n');
          box.append(h5, pre);
        }
        const at = panicNs ?? t.ns[t.count - 1] ?? null;
        if (panic && at !== null && Number.isFinite(at) && !marked) {
          marked = true;
          store.setCursor(at, 'panic');
        }
        return box;
      };

      const render = () => {
        const key = panic ? JSON.stringify([panic.cpu, panic.message, panic.registers, panic.frames]) : '';
        if (panic && key === drawnKey && flight) {
          const box = flightBox();
          flight.replaceWith(box);
          flight = box;
          return;
        }
        drawnKey = key;
        flight = null;
        marked = false;
        host.replaceChildren();
        ctx.setBadge(panic ? '!' : '');
        if (!panic) {
          const p = document.createElement('p');
          p.className = 'empty';
          p.textContent = 'No kernel panic in this Run.';
          host.append(p);
          return;
        }
        const head = document.createElement('div');
        head.className = 'panic-message';
        head.textContent = `KERNEL PANIC on cpu${panic.cpu}: ${panic.message}`;
        host.append(head);
        if (panic.registers.length) {
          const regs = document.createElement('pre');
          regs.className = 'panic-registers';
          regs.textContent = panic.registers.join('\n');
          host.append(regs);
        }
        const list = document.createElement('ul');
        list.className = 'problem-list panic-frames';
        list.setAttribute('aria-label', 'Backtrace');
        panic.frames.forEach((f, i) => {
          const li = document.createElement('li');
          const b = document.createElement('button');
          b.className = 'problem error panic-frame';
          b.dataset['frame'] = String(i);
          if (f.function) b.dataset['function'] = f.function;
          const msg = document.createElement('span');
          msg.className = 'msg';
          msg.textContent = `#${i} ${f.function ?? f.symbol} (${f.addr})`;
          const loc = document.createElement('span');
          loc.className = 'loc';
          loc.textContent = f.file && f.line ? `${f.file}:${f.line}` : f.symbol;
          b.append(msg, loc);
          if (f.file && f.line) b.addEventListener('click', () => void ctx.openFile(f.file!, f.line));
          else b.disabled = true;
          li.append(b);
          list.append(li);
        });
        traceBox = lastEvents();
        flight = flightBox();
        host.append(list, traceBox, flight);
      };

      /** The flight recorder's last events of every CPU (read from the guest's memory after the panic). */
      const flightBox = (): HTMLElement => {
        const box = document.createElement('div');
        box.className = 'panic-flight';
        const h = document.createElement('h4');
        h.textContent = 'Flight recorder — the kernel\'s trace rings, read from the stopped guest\'s memory';
        box.append(h);
        const f = panic?.flight;
        if (!f) {
          const p = document.createElement('p');
          p.className = 'empty';
          p.textContent = panic?.flightError ? `Not read: ${panic.flightError}` : panic?.complete ? 'Reading the rings…' : 'Read once the kernel has halted.';
          box.append(p);
          return box;
        }
        box.dataset['records'] = String(f.records);
        for (const c of f.cpus) {
          const h5 = document.createElement('h5');
          h5.textContent = `cpu${c.cpu}`;
          const pre = document.createElement('pre');
          pre.className = 'panic-events flight';
          pre.dataset['cpu'] = String(c.cpu);
          pre.textContent = c.events.join('\n');
          box.append(h5, pre);
        }
        if (!f.cpus.length) {
          const p = document.createElement('p');
          p.className = 'empty';
          p.textContent = 'The rings held no records.';
          box.append(p);
        }
        return box;
      };

      const set = (p: PanicView | null) => {
        const first = p && !panic;
        panic = p;
        render();
        if (first) ctx.showView('panic');
      };
      render();
      ctx.client.on('panic', ({ panic: p }) => set(p));
      void ctx.client.request('panic.get', {}).then(({ panic: p }) => set(p)).catch(() => undefined);
      // the trace's last records arrive after the panic text (the kernel flushes its rings): redraw
      // those (only: the backtrace's buttons stay the same elements)
      // (at most every 200 ms: the flush arrives in many batches)
      let redraw: ReturnType<typeof setTimeout> | undefined;
      store.onChange((c) => {
        if (!panic || !traceBox || (c.kind !== 'rows' && c.kind !== 'end') || redraw !== undefined) return;
        redraw = setTimeout(() => {
          redraw = undefined;
          if (!panic || !traceBox) return;
          const box = lastEvents();
          traceBox.replaceWith(box);
          traceBox = box;
        }, 200);
      });
      return {};
    },
  });
}
