/*
 * View registry. Every panel of the workbench — Console, Build, Terminal, Problems today; RSP log,
 * IPC lanes and trace views later (from debugger/ and visualizers/) — registers here with where it
 * lives. The workbench creates a view the first time it is shown and tells it when it is shown,
 * hidden, resized and when the theme changes.
 */
import type { Client } from './client.js';

export type ViewLocation = 'panel' | 'sidebar';

export interface ViewContext {
  client: Client;
  /** Opens a project file in the editor, optionally at a line/column. */
  openFile(path: string, line?: number, column?: number): Promise<void>;
  theme(): 'dark' | 'light';
  /** Sets the small badge next to the view's tab (e.g. a problem count); '' hides it. */
  setBadge(text: string): void;
}

export interface ViewInstance {
  shown?(): void;
  hidden?(): void;
  resized?(): void;
  themeChanged?(theme: 'dark' | 'light'): void;
  dispose?(): void;
}

export interface ViewContribution {
  id: string;
  title: string;
  location: ViewLocation;
  order: number;
  /** Keyboard shortcut hint shown in the tab's title, if any. */
  create(host: HTMLElement, ctx: ViewContext): ViewInstance;
}

const registry = new Map<string, ViewContribution>();

export function registerView(v: ViewContribution): void {
  if (registry.has(v.id)) throw new Error(`view ${v.id} is already registered`);
  registry.set(v.id, v);
}

export function viewsAt(location: ViewLocation): ViewContribution[] {
  return [...registry.values()].filter((v) => v.location === location).sort((a, b) => a.order - b.order);
}
