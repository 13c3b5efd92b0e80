/*
 * The view registry: what a view brings to the workbench. A view module (app/browser/views/<name>/)
 * calls registerView() once, from the one list of views (app/browser/views/index.ts), with
 *   - its panel: `create(host, ctx)` builds it into a host element the workbench owns; `location`
 *     says where it lives first (the bottom panel or the sidebar) and `editorTab` lets the user move
 *     it into the editor area as a tab (and back) — the same instance, re-parented;
 *   - its commands, each with optional keybindings ('F5', 'Shift+F5', 'Ctrl+`': Ctrl is Ctrl or ⌘);
 *   - a key handler consulted before the keybindings (for keys whose meaning depends on state);
 *   - its status-bar items;
 *   - its test hooks (merged into window.lanescopeDebug);
 *   - its backend requests: declared in the view's app/common/ file (it augments Requests/Events of
 *     app/common/contract.ts) and answered by its app/node/views/ half — the contract's list of
 *     request names is derived from what the backend registers.
 * The workbench creates a view once, and tells it when it is shown, hidden, resized and when the
 * theme changes. Nothing here knows any particular view.
 */
import type { Client } from '../client.js';

export type ViewLocation = 'panel' | 'sidebar';
export type NoticeLevel = 'info' | 'warning' | 'error';

/** What every view and command may use of the workbench. */
export interface Workbench {
  client: Client;
  /** Opens a project file in the editor, optionally at a line/column. */
  openFile(path: string, line?: number, column?: number): Promise<void>;
  /** Brings a view to the front (its panel tab or editor tab). */
  showView(id: string): void;
  /** Moves a view with `editorTab` into the editor area (true) or back to its home (false). */
  moveView(id: string, toEditor: boolean): void;
  notify(level: NoticeLevel, message: string): void;
  theme(): 'dark' | 'light';
  /** Saves every editor with unsaved changes (before a build). */
  saveAll(): Promise<void>;
  /** Runs a registered command by id. */
  runCommand(id: string): Promise<void>;
  /** Asks the user for a line of text (null: cancelled). */
  prompt(title: string, label: string, value: string): Promise<string | null>;
}

export interface ViewContext extends Workbench {
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

/** The parts of a KeyboardEvent the key handling uses (this module is also loaded by Node tests). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  preventDefault(): void;
}

export interface Command {
  id: string;
  title: string;
  /** Keybindings, e.g. 'F5', 'Shift+F5', 'Ctrl+Shift+F5', 'Ctrl+S', 'Ctrl+`'. */
  keys?: string[];
  run(wb: Workbench): void | Promise<void>;
}

export interface StatusItem {
  id: string;
  /** Left of the spacer or right of it; lower order first. */
  align: 'left' | 'right';
  order: number;
  create(el: HTMLElement, wb: Workbench): void;
}

export interface ViewContribution {
  id: string;
  title: string;
  location: ViewLocation;
  order: number;
  /** The view may open as a tab in the editor area (where it has room) as well as in its home. */
  editorTab?: boolean;
  create(host: HTMLElement, ctx: ViewContext): ViewInstance;
  commands?: Command[];
  /** Consulted first for every key press (before keybindings): true when it handled the key. */
  onKey?(e: KeyPress, wb: Workbench): boolean;
  statusItems?: StatusItem[];
  /** Read-only hooks for end-to-end tests and benchmarks, merged into window.lanescopeDebug. */
  testHooks?: Record<string, unknown>;
  /** Called once the workbench is up (editor created, backend connected). */
  activate?(wb: Workbench): void | Promise<void>;
}

/** Workbench parts that are not views (Run/Stop, the editor's commands) contribute commands here. */
export interface Contribution {
  id: string;
  commands?: Command[];
  statusItems?: StatusItem[];
  onKey?(e: KeyPress, wb: Workbench): boolean;
  testHooks?: Record<string, unknown>;
  activate?(wb: Workbench): void | Promise<void>;
}

const registry = new Map<string, ViewContribution>();
const contributions = new Map<string, Contribution>();

export function registerView(v: ViewContribution): void {
  if (registry.has(v.id) || contributions.has(v.id)) throw new Error(`view ${v.id} is already registered`);
  registry.set(v.id, v);
}

export function registerContribution(c: Contribution): void {
  if (registry.has(c.id) || contributions.has(c.id)) throw new Error(`contribution ${c.id} is already registered`);
  contributions.set(c.id, c);
}

export function viewsAt(location: ViewLocation): ViewContribution[] {
  return [...registry.values()].filter((v) => v.location === location).sort((a, b) => a.order - b.order);
}

export function view(id: string): ViewContribution | undefined {
  return registry.get(id);
}

/** Views and other contributions, in registration order. */
export function allContributions(): Contribution[] {
  return [...contributions.values(), ...registry.values()];
}

export function allCommands(): Command[] {
  return allContributions().flatMap((c) => c.commands ?? []);
}

/** 'Ctrl+Shift+F5' → does this key event match it? Ctrl matches Ctrl or ⌘; unlisted modifiers must be up. */
export function keyMatches(binding: string, e: Omit<KeyPress, 'preventDefault'>): boolean {
  const parts = binding.split('+');
  const key = parts.pop()!;
  const mods = new Set(parts.map((p) => p.toLowerCase()));
  if (mods.has('ctrl') !== (e.ctrlKey || e.metaKey)) return false;
  if (mods.has('shift') !== e.shiftKey) return false;
  if (mods.has('alt') !== e.altKey) return false;
  return e.key.toLowerCase() === key.toLowerCase();
}
