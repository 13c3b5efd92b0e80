/*
 * Electron preload (sandboxed; only `electron`'s contextBridge and ipcRenderer are available).
 * Exposes exactly the contract's transport to the renderer: send a message string, receive them.
 * No Node API, no ipcRenderer object, and no arbitrary channels leak into the page.
 */
import { contextBridge, ipcRenderer } from 'electron';

const CHANNEL = 'lanescope:message'; // = IPC_CHANNEL in app/common/contract.ts

contextBridge.exposeInMainWorld('lanescope', {
  send(message: string): void {
    if (typeof message !== 'string') throw new TypeError('message must be a string');
    ipcRenderer.send(CHANNEL, message);
  },
  onMessage(cb: (message: string) => void): void {
    ipcRenderer.on(CHANNEL, (_event, message: unknown) => {
      if (typeof message === 'string') cb(message);
    });
  },
});
