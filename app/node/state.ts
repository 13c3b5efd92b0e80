/*
 * Window state (theme, layout, open files per project), stored in the user's config directory —
 * $LANESCOPE_STATE_DIR, else $XDG_CONFIG_HOME/lanescope, else ~/.config/lanescope — never in the project.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_UI_STATE, type UiState } from '../common/contract.js';
import { atomicWriteFile } from './tempfiles.js';

type Global = Pick<UiState, 'theme' | 'sidebarWidth' | 'panelHeight' | 'activePanel'>;
type PerProject = Pick<UiState, 'openFiles' | 'activeFile' | 'expandedDirs'>;
interface StateFile {
  global: Global;
  projects: Record<string, PerProject>;
  lastProject: string | null;
}

export function stateDir(): string {
  return process.env['LANESCOPE_STATE_DIR'] ?? path.join(process.env['XDG_CONFIG_HOME'] ?? path.join(os.homedir(), '.config'), 'lanescope');
}

export class StateStore {
  private file: string;
  private data: StateFile;

  constructor(dir = stateDir()) {
    this.file = path.join(dir, 'state.json');
    const { theme, sidebarWidth, panelHeight, activePanel } = DEFAULT_UI_STATE;
    this.data = { global: { theme, sidebarWidth, panelHeight, activePanel }, projects: {}, lastProject: null };
    try {
      const raw = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<StateFile>;
      if (raw && typeof raw === 'object') {
        this.data.global = { ...this.data.global, ...sanitize(raw.global ?? {}) };
        if (raw.projects && typeof raw.projects === 'object') this.data.projects = raw.projects;
        if (typeof raw.lastProject === 'string') this.data.lastProject = raw.lastProject;
      }
    } catch {
      /* first run or unreadable: defaults */
    }
  }

  get lastProject(): string | null {
    return this.data.lastProject;
  }

  get(root: string | null): UiState {
    const p = (root && this.data.projects[root]) || { openFiles: [], activeFile: null, expandedDirs: [] };
    return { ...DEFAULT_UI_STATE, ...this.data.global, ...p };
  }

  set(root: string | null, s: Partial<UiState>): void {
    const clean = sanitize(s);
    this.data.global = { ...this.data.global, ...pickGlobal(clean) };
    if (root) {
      const cur = this.data.projects[root] ?? { openFiles: [], activeFile: null, expandedDirs: [] };
      this.data.projects[root] = { ...cur, ...pickProject(clean) };
      this.data.lastProject = root;
    }
    this.save();
  }

  setLastProject(root: string): void {
    this.data.lastProject = root;
    this.save();
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    atomicWriteFile(this.file, JSON.stringify(this.data, null, 2), 0o600);
  }
}

function pickGlobal(s: Partial<UiState>): Partial<Global> {
  const o: Partial<Global> = {};
  if (s.theme) o.theme = s.theme;
  if (s.sidebarWidth !== undefined) o.sidebarWidth = s.sidebarWidth;
  if (s.panelHeight !== undefined) o.panelHeight = s.panelHeight;
  if (s.activePanel !== undefined) o.activePanel = s.activePanel;
  return o;
}
function pickProject(s: Partial<UiState>): Partial<PerProject> {
  const o: Partial<PerProject> = {};
  if (s.openFiles) o.openFiles = s.openFiles;
  if (s.activeFile !== undefined) o.activeFile = s.activeFile;
  if (s.expandedDirs) o.expandedDirs = s.expandedDirs;
  return o;
}
function sanitize(s: Partial<UiState>): Partial<UiState> {
  const o: Partial<UiState> = {};
  if (s.theme === 'dark' || s.theme === 'light') o.theme = s.theme;
  if (typeof s.sidebarWidth === 'number' && s.sidebarWidth >= 80 && s.sidebarWidth <= 2000) o.sidebarWidth = Math.round(s.sidebarWidth);
  if (typeof s.panelHeight === 'number' && s.panelHeight >= 60 && s.panelHeight <= 2000) o.panelHeight = Math.round(s.panelHeight);
  if (typeof s.activePanel === 'string' && s.activePanel.length < 100) o.activePanel = s.activePanel;
  if (Array.isArray(s.openFiles)) o.openFiles = s.openFiles.filter((f) => typeof f === 'string').slice(0, 100);
  if (s.activeFile === null || typeof s.activeFile === 'string') o.activeFile = s.activeFile;
  if (Array.isArray(s.expandedDirs)) o.expandedDirs = s.expandedDirs.filter((f) => typeof f === 'string').slice(0, 1000);
  return o;
}
