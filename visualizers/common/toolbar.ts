/*
 * toolbar.ts — the frame the timeline views share around their canvas (scheduler, cancellations):
 * a root element carrying the view's theme colours as CSS variables, and its toolbar — Follow
 * (pressed while following the live trace), Fit, then the view's own controls, and the status
 * line at the far end. One stylesheet per view, named by its prefix (`schedv-bar`,
 * `cancelv-status`, …), so each view keeps its own selectors and adds only what is its own.
 * Needs a DOM.
 */

export interface BarTheme {
  bg: string;
  fg: string;
  dim: string;
  grid: string;
}

export interface ViewFrame {
  root: HTMLDivElement;
  bar: HTMLDivElement;
  follow: HTMLButtonElement;
  fit: HTMLButtonElement;
  status: HTMLSpanElement;
  /** a control of the view's own, in the bar before the status */
  add<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string): HTMLElementTagNameMap[K];
  setTheme(t: BarTheme): void;
  /** Follow's pressed state */
  setFollow(on: boolean): void;
}

export interface ViewFrameOptions {
  /** data-testid of the root and of the status line */
  testid: string;
  statusTestid: string;
  /** the view's own CSS (its main area), added once with the shared part */
  css: string;
  theme: BarTheme;
  /** key hints in the buttons' titles, e.g. ' (f)' */
  followKey?: string;
  fitKey?: string;
}

const added = new Set<string>();

function sharedCss(p: string): string {
  return `
.${p}{display:flex;flex-direction:column;height:100%;width:100%;font:12px "DejaVu Sans",sans-serif;color:var(--${p}-fg);background:var(--${p}-bg);overflow:hidden;outline:none}
.${p}-bar{display:flex;gap:6px;align-items:center;padding:3px 6px;border-bottom:1px solid var(--${p}-grid);flex:none;flex-wrap:wrap}
.${p}-bar button,.${p}-bar select,.${p}-bar input:not([type=checkbox]){font:inherit;background:var(--${p}-bg);color:var(--${p}-fg);border:1px solid var(--${p}-grid);border-radius:3px;padding:1px 6px}
.${p}-bar button[aria-pressed=true]{border-color:#4d9de0;background:#2b4a6b;color:#fff}
.${p}-bar label{display:flex;gap:2px;align-items:center}
.${p}-status{margin-left:auto;color:var(--${p}-dim);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:50%}`;
}

/** The root (in host) and its toolbar for the view with CSS prefix p. */
export function createViewFrame(host: HTMLElement, p: string, o: ViewFrameOptions): ViewFrame {
  if (!added.has(p) && typeof document !== 'undefined') {
    const s = document.createElement('style');
    s.textContent = sharedCss(p) + o.css;
    document.head.appendChild(s);
    added.add(p);
  }
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, parent: HTMLElement, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  };
  const root = el('div', host, p);
  root.dataset['testid'] = o.testid;
  const bar = el('div', root, `${p}-bar`);
  const follow = el('button', bar, undefined, 'Follow');
  follow.title = `Follow the live trace${o.followKey ?? ''}`;
  const fit = el('button', bar, undefined, 'Fit');
  fit.title = `Show the whole trace${o.fitKey ?? ''}`;
  const status = el('span', bar, `${p}-status`);
  status.dataset['testid'] = o.statusTestid;
  const f: ViewFrame = {
    root,
    bar,
    follow,
    fit,
    status,
    add(tag, text) {
      const e = document.createElement(tag);
      if (text !== undefined) e.textContent = text;
      bar.insertBefore(e, status);
      return e;
    },
    setTheme(t) {
      root.style.setProperty(`--${p}-bg`, t.bg);
      root.style.setProperty(`--${p}-fg`, t.fg);
      root.style.setProperty(`--${p}-dim`, t.dim);
      root.style.setProperty(`--${p}-grid`, t.grid);
    },
    setFollow(on) {
      follow.setAttribute('aria-pressed', String(on));
    },
  };
  f.setTheme(o.theme);
  return f;
}
