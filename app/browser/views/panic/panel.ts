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
      /** Which panic is drawn (its CPU and message): a later update of the same panic (more
       *  registers and frames as its lines arrive, complete, the flight recorder read) changes only
       *  what changed, so a click on a frame is never lost to a button replaced under the pointer. */
      let drawnKey = '';
      let list: HTMLUListElement | null = null;
      let regs: HTMLPreElement | null = null;
      let frameKeys: string[] = [];
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

      /** One backtrace frame's button (a click opens its source line). */
      const frameButton = (f: PanicView['frames'][number], i: number): HTMLButtonElement => {
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
        return b;
      };

      /** The registers and the backtrace as they stand: a frame already drawn the same stays the
       *  same element (the panic's lines arrive in pieces, so frames are added after frame 0 is
       *  on screen and maybe under the pointer). */
      const drawHead = (p: PanicView) => {
        const text = p.registers.join('\n');
        if (p.registers.length && !regs) {
          regs = document.createElement('pre');
          regs.className = 'panic-registers';
          list!.before(regs);
        }
        if (regs && regs.textContent !== text) regs.textContent = text;
        p.frames.forEach((f, i) => {
          const key = JSON.stringify(f);
          if (frameKeys[i] === key) return;
          frameKeys[i] = key;
          const li = list!.children[i];
          if (li) li.replaceChildren(frameButton(f, i));
          else {
            const nli = document.createElement('li');
            nli.append(frameButton(f, i));
            list!.append(nli);
          }
        });
        while (list!.children.length > p.frames.length) list!.lastElementChild!.remove();
        frameKeys.length = p.frames.length;
      };

      const render = () => {
        const key = panic ? JSON.stringify([panic.cpu, panic.message]) : '';
        if (panic && key === drawnKey && flight && list) {
          drawHead(panic);
          const box = flightBox();
          flight.replaceWith(box);
          flight = box;
          return;
        }
        drawnKey = key;
        flight = null;
        list = null;
        regs = null;
        frameKeys = [];
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
        list = document.createElement('ul');
        list.className = 'problem-list panic-frames';
        list.setAttribute('aria-label', 'Backtrace');
        host.append(head, list);
        drawHead(panic);
        traceBox = lastEvents();
        flight = flightBox();
        host.append(traceBox, flight);
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
