/*
 * Raw trace bytes → the IPC view model: debugger/common/trace's RecordDecoder (definitions and
 * clock from the stream) and EventMerger (CPUs merged by time, live: a 200 ms window), then
 * visualizers' adapter. The same path for a live recording (bytes arrive as the file grows) and
 * a saved trace (read to the end, then finish()). Pure: no DOM, no Node.
 */
import { EventMerger, RecordDecoder } from '../../../../debugger/common/trace/records.js';
import { feedTrace } from '../../../../visualizers/ipc/adapt.js';
import type { IpcModel } from '../../../../visualizers/ipc/model.js';

export class TraceFeed {
  readonly decoder = new RecordDecoder();
  private merger = new EventMerger();
  bytes = 0;
  events = 0;
  used = 0;

  constructor(readonly model: IpcModel) {}

  /** Decode a chunk; events older than the merge window go to the model. */
  push(chunk: Uint8Array, final = false): void {
    this.bytes += chunk.length;
    const evs = this.decoder.push(chunk);
    if (final) this.decoder.finish(evs);
    this.events += evs.length;
    const clock = this.decoder.clock;
    if (clock) this.merger.setWindowTsc(clock.tscHz / 5);
    this.merger.push(evs);
    this.used += feedTrace(this.model, this.merger.take(final));
  }

  /** End of a saved trace: everything left goes in. */
  finish(): void {
    this.push(new Uint8Array(0), true);
  }
}

export function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
