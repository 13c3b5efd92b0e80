/*
 * The renderer's side of the contract. One Client over either transport:
 *   - Electron: `window.lanescope` exposed by the preload through contextBridge;
 *   - browser mode: a WebSocket to app/server (the token comes from this page's URL).
 */
import type { ClientMessage, EventName, Events, RequestName, Requests, ServerMessage } from '../common/contract.js';

export interface Bridge {
  send(message: string): void;
  onMessage(cb: (message: string) => void): void;
}

declare global {
  interface Window {
    lanescope?: Bridge;
  }
}

type Listener<K extends EventName> = (payload: Events[K]) => void;

export class Client {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  private listeners = new Map<EventName, Set<Listener<EventName>>>();
  private sendRaw: (s: string) => void = () => undefined;
  private queue: string[] = [];
  private open = false;
  onConnectionLost: (why: string) => void = () => undefined;

  connect(): Promise<void> {
    if (window.lanescope) {
      const b = window.lanescope;
      b.onMessage((m) => this.receive(m));
      this.sendRaw = (s) => b.send(s);
      this.open = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const token = new URLSearchParams(location.search).get('token') ?? '';
      const ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
      ws.onopen = () => {
        this.open = true;
        this.sendRaw = (s) => ws.send(s);
        for (const q of this.queue) ws.send(q);
        this.queue = [];
        resolve();
      };
      ws.onmessage = (e) => this.receive(String(e.data));
      ws.onerror = () => reject(new Error('cannot connect to the Lanescope backend'));
      ws.onclose = () => {
        this.open = false;
        for (const p of this.pending.values()) p.reject(new Error('connection to the backend was lost'));
        this.pending.clear();
        this.onConnectionLost('the connection to the Lanescope backend was lost; reload the page after restarting it');
      };
    });
  }

  request<K extends RequestName>(method: K, params: Requests[K]['params']): Promise<Requests[K]['result']> {
    const id = this.nextId++;
    const msg: ClientMessage = { type: 'request', id, method, params } as ClientMessage;
    const s = JSON.stringify(msg);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      if (this.open) this.sendRaw(s);
      else this.queue.push(s);
    });
  }

  on<K extends EventName>(event: K, cb: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(cb as Listener<EventName>);
    return () => set.delete(cb as Listener<EventName>);
  }

  private receive(raw: string): void {
    let m: ServerMessage;
    try {
      m = JSON.parse(raw) as ServerMessage;
    } catch {
      return;
    }
    if (m.type === 'response') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    } else if (m.type === 'event') {
      for (const cb of this.listeners.get(m.event) ?? []) cb(m.payload);
    }
  }
}
