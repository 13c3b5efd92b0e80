/*
 * A trace table feeding one IPC model directly: the trace store's decode path (TraceTable)
 * without the store's polling, for tests and benchmarks that decode a whole recording into the
 * IPC view's model. The workbench itself goes through the trace store (app/browser/trace/).
 */
import { feedTrace } from '../../../../visualizers/ipc/adapt.js';
import type { IpcModel } from '../../../../visualizers/ipc/model.js';
import { TraceTable, base64ToBytes } from '../../trace/table.js';

export { base64ToBytes };

export class TraceFeed {
  readonly table = new TraceTable();
  used = 0;

  constructor(readonly model: IpcModel) {}

  get decoder() {
    return this.table.decoder;
  }
  get bytes(): number {
    return this.table.bytesDecoded;
  }
  get events(): number {
    return this.table.decoded;
  }

  /** Decode a chunk; events older than the merge window go to the model. */
  push(chunk: Uint8Array, final = false): void {
    const from = this.table.count;
    this.table.push(chunk, final);
    this.used += feedTrace(this.model, this.table.rows(from));
  }

  /** End of a saved trace: everything left goes in. */
  finish(): void {
    this.push(new Uint8Array(0), true);
  }
}
