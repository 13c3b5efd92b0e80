/*
 * Small DOM helpers every workbench part uses: element lookup and creation, notices (the toasts
 * at the bottom right) and modal dialogs (Unsaved changes, Target, Open Folder, prompts).
 */
import type { NoticeLevel } from './views.js';

export const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`missing element ${sel}`);
  return e;
};

export const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { ariaLabel?: string } = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  const { ariaLabel, ...rest } = props;
  Object.assign(e, rest);
  if (ariaLabel) e.setAttribute('aria-label', ariaLabel);
  e.append(...kids);
  return e;
};

export function notify(level: NoticeLevel, message: string): void {
  const box = $('#notices');
  const n = el('div', { className: `notice ${level}` });
  n.setAttribute('role', level === 'error' ? 'alert' : 'status');
  const close = el('button', { className: 'icon', textContent: '×', ariaLabel: 'Dismiss message' });
  close.addEventListener('click', () => n.remove());
  n.append(el('span', { textContent: message }), close);
  box.append(n);
  while (box.children.length > 4) box.firstElementChild?.remove();
  if (level !== 'error') setTimeout(() => n.remove(), 8000);
}

export function modal(title: string, body: HTMLElement, buttons: { label: string; value: string; primary?: boolean }[]): Promise<string> {
  return new Promise((resolve) => {
    const back = el('div', { className: 'modal-back' });
    const box = el('div', { className: 'modal' });
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-label', title);
    const row = el('div', { className: 'modal-buttons' });
    const done = (v: string) => {
      back.remove();
      document.removeEventListener('keydown', onKey, true);
      resolve(v);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        done('cancel');
      }
    };
    document.addEventListener('keydown', onKey, true);
    for (const b of buttons) {
      const btn = el('button', { textContent: b.label, className: b.primary ? 'primary' : '' });
      btn.addEventListener('click', () => done(b.value));
      row.append(btn);
    }
    box.append(el('h2', { textContent: title }), body, row);
    back.append(box);
    document.body.append(back);
    (box.querySelector('input, select') as HTMLElement | null ?? row.querySelector('button.primary') as HTMLElement | null)?.focus();
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.target as HTMLElement).tagName === 'INPUT') {
        e.preventDefault();
        const primary = buttons.find((b) => b.primary);
        if (primary) done(primary.value);
      }
    });
  });
}
