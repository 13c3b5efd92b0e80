/*
 * run.ts — what the IDE's Run does for tracing, in one call.
 *
 *   const tr = prepareRunTrace({ dir: sessionDir });      // before starting QEMU
 *   qemuArgs.push(...tr.qemuArgs);                         // after COM1's -serial
 *   tr.session.on('stats', (s) => statusBar(`${s.eventsPerSec} ev/s · ${s.lost} lost`));
 *   tr.session.on('events', (evs) => views.append(evs));
 *   tr.session.start();                                    // right after QEMU is spawned
 *   ...; await tr.stop();                                  // on Stop: the recording is complete
 *   tr.saveAs('/path/name.ltrace');                        // "Save trace"; reopen with loadTrace()
 *
 * Transport: ivshmem (a fresh /dev/shm file, removed on stop) by default, or COM2 over a Unix
 * socket in `dir` (transport: 'serial'), or the frames of a shared debug line that the caller
 * reads and hands to feed() (transport: 'line': a board on one UART, common/serial-mux.ts; no
 * QEMU arguments). The recording goes to dir/trace.ltrace.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { qemuTraceArgs, TraceSession, type SessionStats } from './session.js';
import { PushSource } from './sources.js';

export interface RunTraceOptions {
  dir: string;
  transport?: 'shm' | 'serial' | 'line';
  keepEvents?: boolean;
  /** false: record only, do not decode (ivshmem; see SessionOptions.decode) */
  decode?: boolean;
}

export interface RunTrace {
  qemuArgs: string[];
  session: TraceSession;
  recording: string;
  stop(): Promise<SessionStats>;
  saveAs(file: string): void;
  /** transport 'line': one trace frame from the line's demultiplexer (COBS bytes and the 0x00) */
  feed(frame: Uint8Array): void;
}

let counter = 0;

export function prepareRunTrace(o: RunTraceOptions): RunTrace {
  fs.mkdirSync(o.dir, { recursive: true });
  const recording = path.join(o.dir, 'trace.ltrace');
  let shm: string | undefined;
  let sock: string | undefined;
  let push: PushSource | undefined;
  if (o.transport === 'line') push = new PushSource(path.join(o.dir, 'line'));
  else if ((o.transport ?? 'shm') === 'shm' && fs.existsSync('/dev/shm')) {
    // pid first (a new session removes files of dead pids), then a random part nobody can plant beforehand
    shm = `/dev/shm/lanes-trace-${process.pid}-${++counter}-${randomBytes(6).toString('hex')}`;
    fs.rmSync(shm, { force: true });
  } else {
    sock = path.join(o.dir, 'com2.sock');
    fs.rmSync(sock, { force: true });
  }
  const session = new TraceSession({ shm, serial: push ?? sock, out: recording, keepEvents: o.keepEvents, decode: o.decode });
  let stopped: Promise<SessionStats> | undefined;
  return {
    qemuArgs: push ? [] : qemuTraceArgs({ shm, serialSocket: sock }),
    session,
    recording,
    stop() {
      if (!stopped) {
        stopped = session.stop().finally(() => {
          if (shm) fs.rmSync(shm, { force: true });
        });
      }
      return stopped;
    },
    saveAs(file: string) {
      fs.copyFileSync(recording, file);
    },
    feed(frame: Uint8Array) {
      if (!push) throw new Error('feed(): this Run\'s trace is not on a shared line (transport \'line\')');
      push.push(frame);
    },
  };
}
