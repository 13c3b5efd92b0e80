/*
 * Raw trace bytes → the scheduler view model: debugger/common/trace's RecordDecoder (definitions
 * and clock from the stream) and EventMerger (CPUs merged by time, live: a 200 ms window), then
 * visualizers/sched's feedSchedTrace. The same path for a live recording and a saved trace
 * (read to the end, then finish()). Pure: no DOM, no Node.
 */
import { EventMerger, RecordDecoder } from '../../../../debugger/common/trace/records.js';
import { feedSchedTrace, type SchedModel } from '../../../../visualizers/sched/model.js';

export class SchedFeed {
  readonly decoder = new RecordDecoder();
  private merger = new EventMerger();
  events = 0;
  used = 0;

  constructor(readonly model: SchedModel) {}

  push(chunk: Uint8Array, final = false): void {
    const evs = this.decoder.push(chunk);
    if (final) this.decoder.finish(evs);
    this.events += evs.length;
    const clock = this.decoder.clock;
    if (clock) this.merger.setWindowTsc(clock.tscHz / 5);
    this.merger.push(evs);
    this.used += feedSchedTrace(this.model, this.merger.take(final));
  }

  finish(): void {
    this.push(new Uint8Array(0), true);
  }
}
